/*
 * sqlparse.c: PostgreSQL's parser (libpg_query) over text from a migration
 * file, with errors placed in the file.  See sqlparse.h.
 */
#include "sqlparse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "spec_yaml.h"

/* What an index element is parsed inside; its text follows the prefix. */
#define INDEX_PREFIX "CREATE INDEX ON migrate_t ("

/* true when text holds a placeholder of `migrate new`'s templates: <word>. */
static bool
holds_placeholder(const char *text)
{
	for (const char *p = strchr(text, '<'); p != NULL; p = strchr(p + 1, '<'))
	{
		size_t		n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_ ");

		if (n > 0 && p[1 + n] == '>')
			return true;
	}
	return false;
}

PgQuery__ParseResult *
sql_parse(const char *sql, size_t skip, const char *file, int line, int col, const char *what,
		  Error *err)
{
	PgQueryProtobufParseResult pr = pg_query_parse_protobuf(sql);
	PgQuery__ParseResult *tree;

	if (pr.error)
	{
		size_t		pos = pr.error->cursorpos > 0 ? (size_t) pr.error->cursorpos - 1 : 0;

		if (pos < skip)
			pos = skip;
		for (size_t i = skip; i < pos && sql[i]; i++)
		{
			col++;
			if (sql[i] == '\n')
			{
				line++;
				col = 1;
			}
		}
		error_set(err, EXIT_USAGE, "%s:%d:%d: %s%s%s%s", file, line, col, what ? what : "",
				  what ? ": " : "", pr.error->message,
				  holds_placeholder(sql + skip) ? " (a placeholder of the template, still to be filled in)" : "");
		pg_query_free_protobuf_parse_result(pr);
		return NULL;
	}
	tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len,
										  (const uint8_t *) pr.parse_tree.data);
	pg_query_free_protobuf_parse_result(pr);
	if (tree == NULL)
		error_set(err, EXIT_STEP_FAILED, "%s: libpg_query returned a tree it cannot read", file);
	return tree;
}

/*
 * Where the statement the parser found at location begins: past the blanks
 * and comments it counts as part of it.
 */
static int
statement_start(const char *text, int at)
{
	for (;;)
	{
		while (text[at] && isspace((unsigned char) text[at]))
			at++;
		if (text[at] == '-' && text[at + 1] == '-')
			while (text[at] && text[at] != '\n')
				at++;
		else if (text[at] == '/' && text[at + 1] == '*')
		{
			const char *end = strstr(text + at + 2, "*/");

			if (end == NULL)
				return at;
			at = (int) (end - text) + 2;
		}
		else
			return at;
	}
}

bool
sql_split(const char *text, const char *file, int first_line, const char *what,
		  SqlStatements *out, Error *err)
{
	int			line = first_line,
				counted = 0;

	memset(out, 0, sizeof *out);
	out->tree = sql_parse(text, 0, file, first_line, 1, what, err);
	if (out->tree == NULL)
		return false;
	out->items = xcalloc(out->tree->n_stmts + 1, sizeof(SqlStatement));
	for (size_t i = 0; i < out->tree->n_stmts; i++)
	{
		const PgQuery__RawStmt *raw = out->tree->stmts[i];
		SqlStatement *st = &out->items[out->n++];
		int			from = statement_start(text, raw->stmt_location);
		size_t		n = strlen(text + from);

		/* stmt_len 0: to the end of the text */
		if (raw->stmt_len > 0)
			n = raw->stmt_location + raw->stmt_len > from
				? (size_t) (raw->stmt_location + raw->stmt_len - from) : 0;
		while (n > 0 && (isspace((unsigned char) text[from + n - 1]) || text[from + n - 1] == ';'))
			n--;
		for (; counted < from; counted++)
			line += text[counted] == '\n';
		st->node = raw->stmt;
		st->text = xstrndup(text + from, n);
		st->offset = from;
		st->line = line;
	}
	return true;
}

void
sql_statements_free(SqlStatements *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].text);
	free(s->items);
	sql_parse_free(s->tree);
	memset(s, 0, sizeof *s);
}

bool
sql_walk(const void *root, const ProtobufCMessageDescriptor *type, SqlVisit visit, void *arg)
{
	const ProtobufCMessage *m = root;
	const ProtobufCMessageDescriptor *d;

	if (m == NULL)
		return true;
	d = m->descriptor;
	if (d == type && !visit(m, arg))
		return false;
	for (unsigned i = 0; i < d->n_fields; i++)
	{
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *) m;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		/* a member of a oneof (a Node's kinds share one pointer): only the one it holds */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			*(const uint32_t *) (base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
		{
			size_t		n = *(const size_t *) (base + f->quantifier_offset);
			ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *) (base + f->offset);

			for (size_t j = 0; j < n; j++)
				if (!sql_walk(items[j], type, visit, arg))
					return false;
		}
		else if (!sql_walk(*(ProtobufCMessage *const *) (base + f->offset), type, visit, arg))
			return false;
	}
	return true;
}

/* A subquery: the walk stops. */
static bool
no_sublink(const void *message, void *arg)
{
	(void) message;
	(void) arg;
	return false;
}

/* A column reference: its last name, once; a star stops the walk. */
static bool
add_column(const void *message, void *arg)
{
	const PgQuery__ColumnRef *cr = message;
	StrList    *out = arg;
	const PgQuery__Node *last = cr->n_fields > 0 ? cr->fields[cr->n_fields - 1] : NULL;

	for (size_t i = 0; i < cr->n_fields; i++)
		if (cr->fields[i]->node_case != PG_QUERY__NODE__NODE_STRING)
			return false;
	if (last == NULL)
		return false;
	if (!strlist_contains(out, last->string->sval))
		strlist_add(out, last->string->sval);
	return true;
}

bool
sql_expression_columns(const char *expr, StrList *out)
{
	char	   *sql = xasprintf("SELECT (%s)", expr);
	PgQueryProtobufParseResult pr = pg_query_parse_protobuf(sql);
	PgQuery__ParseResult *tree = pr.error ? NULL
		: pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *) pr.parse_tree.data);
	bool		ok = tree != NULL && sql_walk(tree, &pg_query__sub_link__descriptor, no_sublink, NULL) &&
		sql_walk(tree, &pg_query__column_ref__descriptor, add_column, out) && out->n > 0;

	sql_parse_free(tree);
	pg_query_free_protobuf_parse_result(pr);
	free(sql);
	return ok;
}

/* The only statement of tree, when it is of kind; else NULL. */
static const PgQuery__Node *
only_statement(const PgQuery__ParseResult *tree, PgQuery__Node__NodeCase kind)
{
	if (tree->n_stmts != 1 || tree->stmts[0]->stmt == NULL ||
		tree->stmts[0]->stmt->node_case != kind)
		return NULL;
	return tree->stmts[0]->stmt;
}

bool
sql_is_one_select(const PgQuery__ParseResult *tree)
{
	return only_statement(tree, PG_QUERY__NODE__NODE_SELECT_STMT) != NULL;
}

bool
sql_is_one_expression(const PgQuery__ParseResult *tree)
{
	const PgQuery__Node *n = only_statement(tree, PG_QUERY__NODE__NODE_SELECT_STMT);
	const PgQuery__SelectStmt *sel = n ? n->select_stmt : NULL;

	return sel && sel->n_target_list == 1 && sel->n_from_clause == 0 &&
		sel->where_clause == NULL && sel->n_group_clause == 0 &&
		sel->having_clause == NULL && sel->n_sort_clause == 0 &&
		sel->limit_count == NULL && sel->n_values_lists == 0 && sel->larg == NULL;
}

bool
sql_is_one_grant(const PgQuery__ParseResult *tree)
{
	const PgQuery__Node *n = only_statement(tree, PG_QUERY__NODE__NODE_GRANT_STMT);

	return n && n->grant_stmt->n_objects == 1 && n->grant_stmt->n_grantees == 1;
}

/* pos moved to byte at of text (on its line; the file's columns are bytes). */
static SrcPos
pos_at(const SrcPos *pos, const char *text, int at)
{
	SrcPos		p = *pos;

	for (int i = 0; i < at && text[i]; i++)
	{
		p.col++;
		if (text[i] == '\n')
		{
			p.line++;
			p.col = 1;
		}
	}
	return p;
}

void
sql_parse_free(PgQuery__ParseResult *tree)
{
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
}

PgQuery__ScanResult *
sql_tokens(const char *text)
{
	PgQueryScanResult sr = pg_query_scan(text);
	PgQuery__ScanResult *tokens = sr.error ? NULL
		: pg_query__scan_result__unpack(NULL, sr.pbuf.len, (const uint8_t *) sr.pbuf.data);

	pg_query_free_scan_result(sr);
	return tokens;
}

void
sql_tokens_free(PgQuery__ScanResult *tokens)
{
	if (tokens)
		pg_query__scan_result__free_unpacked(tokens, NULL);
}

/* The tokens of text; NULL with err when it does not scan. */
static PgQuery__ScanResult *
scan(const char *text, const SrcPos *pos, const char *what, Error *err)
{
	PgQueryScanResult sr = pg_query_scan(text);
	PgQuery__ScanResult *tokens = NULL;

	if (sr.error)
	{
		SrcPos		p = pos_at(pos, text, sr.error->cursorpos > 0 ? sr.error->cursorpos - 1 : 0);

		spec_error_at(err, &p, "%s: %s", what, sr.error->message);
	}
	else
	{
		tokens = pg_query__scan_result__unpack(NULL, sr.pbuf.len, (const uint8_t *) sr.pbuf.data);
		if (tokens == NULL)
			spec_error_at(err, pos, "%s: libpg_query returned tokens it cannot read", what);
	}
	pg_query_free_scan_result(sr);
	return tokens;
}

/*
 * Refuses what would let the text leave the parentheses it is written
 * into: a ')' closing more than it opened, a top-level ',' or ';' (more
 * than one element, another statement), a comment (it would swallow the
 * closing parenthesis).
 */
static bool
stays_inside(const PgQuery__ScanResult *tokens, const char *text, const SrcPos *pos,
			 const char *what, bool one_element, Error *err)
{
	int			depth = 0;

	for (size_t i = 0; i < tokens->n_tokens; i++)
	{
		const PgQuery__ScanToken *t = tokens->tokens[i];
		SrcPos		p = pos_at(pos, text, t->start);

		switch (t->token)
		{
			case PG_QUERY__TOKEN__ASCII_40:
				depth++;
				break;
			case PG_QUERY__TOKEN__ASCII_41:
				if (--depth < 0)
					return spec_error_at(err, &p, "%s: this \")\" closes a \"(\" it does not open",
										 what);
				break;
			case PG_QUERY__TOKEN__ASCII_44:
				if (depth == 0 && one_element)
					return spec_error_at(err, &p, "%s: one index element per list item "
										 "(a name with a comma: {column: \"...\"})", what);
				break;
			case PG_QUERY__TOKEN__ASCII_59:
				if (depth == 0)
					return spec_error_at(err, &p, "%s: \";\" ends the statement here", what);
				break;
			case PG_QUERY__TOKEN__SQL_COMMENT:
			case PG_QUERY__TOKEN__C_COMMENT:
				return spec_error_at(err, &p, "%s: no comments inside an index element", what);
			default:
				break;
		}
	}
	return true;
}

/* The only index element of CREATE INDEX tree, or NULL. */
static const PgQuery__IndexElem *
only_index_elem(const PgQuery__ParseResult *tree)
{
	const PgQuery__IndexStmt *stmt;

	if (tree->n_stmts != 1 || tree->stmts[0]->stmt == NULL ||
		tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_INDEX_STMT)
		return NULL;
	stmt = tree->stmts[0]->stmt->index_stmt;
	if (stmt->n_index_params != 1 || stmt->where_clause || stmt->n_index_including_params ||
		stmt->n_options ||
		stmt->index_params[0]->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM)
		return NULL;
	return stmt->index_params[0]->index_elem;
}

/* A parsed name list ("pg_catalog", "C") as "pg_catalog.C"; NULL when empty. */
static char *
joined_name(PgQuery__Node **parts, size_t n)
{
	Buf			b;

	if (n == 0)
		return NULL;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		if (parts[i]->node_case == PG_QUERY__NODE__NODE_STRING)
			buf_printf(&b, "%s%s", i > 0 ? "." : "", parts[i]->string->sval);
	return buf_detach(&b);
}

static bool
is_plain_name(const PgQuery__ScanToken *t, const char *text)
{
	return (t->token == PG_QUERY__TOKEN__IDENT && text[t->start] != '"') ||
		t->keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD;
}

/*
 * A lone name, taken literally as before elements had more to them: no
 * blank, no parenthesis, no double quote ("x$y", "<column>", "order").
 */
static bool
is_lone_name(const char *text)
{
	if (*text == '\0')
		return false;
	for (const char *p = text; *p; p++)
		if (isspace((unsigned char) *p) || *p == '(' || *p == ')' || *p == '"')
			return false;
	return true;
}

/* The index of the ')' that closes the first '(' of tokens; -1: none. */
static long
first_group_end(const PgQuery__ScanResult *tokens)
{
	int			depth = 0;

	for (size_t i = 0; i < tokens->n_tokens; i++)
	{
		if (tokens->tokens[i]->token == PG_QUERY__TOKEN__ASCII_40)
			depth++;
		else if (tokens->tokens[i]->token == PG_QUERY__TOKEN__ASCII_41 && --depth == 0)
			return (long) i;
	}
	return -1;
}

static bool
read_elem(const char *text, const SrcPos *pos, const char *what,
		  const PgQuery__ScanResult *tokens, const PgQuery__IndexElem *e, IndexElem *out,
		  Error *err)
{
	if (e->n_opclassopts > 0)
		return spec_error_at(err, pos, "%s: operator class parameters are not supported", what);
	if (e->name && e->name[0])
	{
		const PgQuery__ScanToken *t = tokens->tokens[0];

		/* an unquoted name is taken literally, as everywhere in the file */
		out->column = is_plain_name(t, text) ? xstrndup(text + t->start, (size_t) (t->end - t->start))
			: xstrdup(e->name);
	}
	else
	{
		long		end = first_group_end(tokens);
		int			start = tokens->tokens[0]->start;

		if (end < 0)
			return spec_error_at(err, pos, "%s: cannot tell where the expression ends", what);
		out->expression = xstrndup(text + start, (size_t) (tokens->tokens[end]->end - start));
	}
	if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_ASC)
		out->order = xstrdup("asc");
	else if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DESC)
		out->order = xstrdup("desc");
	if (e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST)
		out->nulls = xstrdup("first");
	else if (e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST)
		out->nulls = xstrdup("last");
	out->opclass = joined_name(e->opclass, e->n_opclass);
	out->collate = joined_name(e->collation, e->n_collation);
	return true;
}

static void
append_hint(Error *err, const char *hint)
{
	char	   *message;

	if (err->message == NULL)
		return;
	message = xasprintf("%s%s", err->message, hint);
	free(err->message);
	err->message = message;
}

bool
sql_parse_index_elem(const char *text, const SrcPos *pos, const char *what, IndexElem *out,
					 Error *err)
{
	PgQuery__ScanResult *tokens = scan(text, pos, what, err);
	PgQuery__ParseResult *tree = NULL;
	const PgQuery__IndexElem *e;
	bool		ok = false;

	if (tokens == NULL)
		return false;
	if (tokens->n_tokens == 0)
		spec_error_at(err, pos, "%s: an empty index element", what);
	else if (is_lone_name(text))
	{
		out->column = xstrdup(text);
		ok = true;
	}
	else if (stays_inside(tokens, text, pos, what, true, err))
	{
		char	   *sql = xasprintf(INDEX_PREFIX "%s)", text);

		tree = sql_parse(sql, strlen(INDEX_PREFIX), pos->file, pos->line, pos->col, what, err);
		free(sql);
		if (tree && (e = only_index_elem(tree)) == NULL)
			spec_error_at(err, pos, "%s: not one index element", what);
		else if (tree)
			ok = read_elem(text, pos, what, tokens, e, out, err);
	}
	if (!ok && !strchr(text, '('))
		append_hint(err, "; a column whose name is not a plain word is written {column: \"...\"}");
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query__scan_result__free_unpacked(tokens, NULL);
	return ok;
}

bool
sql_check_index_expression(const char *expr, const SrcPos *pos, const char *what, Error *err)
{
	PgQuery__ScanResult *tokens = scan(expr, pos, what, err);
	PgQuery__ParseResult *tree = NULL;
	bool		ok = false;

	if (tokens == NULL)
		return false;
	if (stays_inside(tokens, expr, pos, what, false, err))
	{
		char	   *sql = xasprintf(INDEX_PREFIX "(%s))", expr);
		const PgQuery__IndexElem *e;

		tree = sql_parse(sql, strlen(INDEX_PREFIX) + 1, pos->file, pos->line, pos->col, what, err);
		free(sql);
		if (tree && ((e = only_index_elem(tree)) == NULL || e->expr == NULL))
			spec_error_at(err, pos, "%s: not one expression", what);
		else if (tree)
			ok = true;
	}
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query__scan_result__free_unpacked(tokens, NULL);
	return ok;
}
