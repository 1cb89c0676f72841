/*
 * preflight.c: every SQL expression of a migration is parsed (validate) and
 * compiled against the live schema (apply) before the migration changes
 * anything; see preflight.h for how, and docs/design.md, "Preflight".
 */
#include "preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "planner_int.h"
#include "sqlparse.h"
#include "txn.h"

/* ---- the expressions of a migration ---- */

typedef struct Expr
{
	const Operation *op;
	const char *text;
	const char *what;			/* "backfill", "check", ... for messages */
	const char *column;			/* the column it belongs to; NULL */
	const char *source;			/* NULL, or the file's text that holds it ... */
	size_t		skip;			/* ... from this byte on, */
	const SrcPos *source_pos;	/* ... and where that text is (NULL: look it up) */
} Expr;

typedef struct ExprList
{
	Expr	   *items;
	size_t		n;
	size_t		cap;
} ExprList;

static void
expr_add(ExprList *l, const Operation *op, const char *text, const char *what,
		 const char *column)
{
	if (text == NULL)
		return;
	if (l->n == l->cap)
	{
		l->cap = l->cap ? 2 * l->cap : 16;
		l->items = xrealloc(l->items, l->cap * sizeof(Expr));
	}
	l->items[l->n++] = (Expr) {op, text, what, column, NULL, 0, NULL};
}

static void
column_exprs(ExprList *l, const Operation *op, const ColumnDef *c)
{
	expr_add(l, op, c->default_expr, "default", c->name);
	expr_add(l, op, c->check, "check", c->name);
}

static void
key_exprs(ExprList *l, const Operation *op, const KeyExprList *k, const char *what)
{
	for (size_t i = 0; i < k->n; i++)
		expr_add(l, op, k->items[i].expr, what, k->items[i].key);
}

/* The SQL expressions of one operation, in the order they are written. */
static void
op_exprs(ExprList *l, const Operation *op)
{
	switch (op->kind)
	{
		case OP_CREATE_TABLE:
			for (size_t i = 0; i < op->u.create_table.n_columns; i++)
				column_exprs(l, op, &op->u.create_table.columns[i]);
			for (size_t i = 0; i < op->u.create_table.n_constraints; i++)
				expr_add(l, op, op->u.create_table.constraints[i].check, "check", NULL);
			break;
		case OP_ADD_COLUMN:
			column_exprs(l, op, &op->u.add_column.column);
			expr_add(l, op, op->u.add_column.backfill, "backfill",
					 op->u.add_column.column.name);
			break;
		case OP_ALTER_COLUMN:
			expr_add(l, op, op->u.alter_column.using_expr, "using", op->u.alter_column.column);
			if (op->u.alter_column.default_change == DEFAULT_SET)
				expr_add(l, op, op->u.alter_column.default_expr, "default",
						 op->u.alter_column.column);
			expr_add(l, op, op->u.alter_column.check_expr, "check", op->u.alter_column.column);
			break;
		case OP_BACKFILL:
			key_exprs(l, op, &op->u.backfill.set, "set");
			expr_add(l, op, op->u.backfill.where, "where", NULL);
			key_exprs(l, op, &op->u.backfill.down, "down");
			break;
		case OP_CREATE_INDEX:
			expr_add(l, op, op->u.create_index.where, "where", NULL);
			break;
		case OP_ADD_CONSTRAINT:
			expr_add(l, op, op->u.add_constraint.constraint.check, "check", NULL);
			break;
		case OP_CREATE_POLICY:
			expr_add(l, op, op->u.policy.using_expr, "using", NULL);
			expr_add(l, op, op->u.policy.with_check, "with_check", NULL);
			break;
		default:
			break;
	}
}

/* ---- positions ---- */

/*
 * file:line:col of the byte at offset in expression text: the expression's
 * own position, moved by the lines and columns before offset (a quoted
 * scalar's text starts one column after its quote).
 */
static SrcPos
expr_pos_at(const Migration *m, const Expr *e, size_t offset)
{
	const char *text = e->source ? e->source : e->text;
	const SrcPos *at = e->source_pos ? e->source_pos : migration_text_pos(m, text);
	SrcPos		pos = at ? *at : e->op->pos;
	const char *line_start = m->source;
	bool		block = false;

	if (at == NULL || m->source == NULL)
		return pos;
	for (int l = 1; l < pos.line && line_start; l++)
	{
		line_start = strchr(line_start, '\n');
		line_start = line_start ? line_start + 1 : NULL;
	}
	if (line_start && (int) strcspn(line_start, "\n") >= pos.col)
	{
		char		c = line_start[pos.col - 1];

		if (c == '"' || c == '\'')
			pos.col++;
		block = c == '|' || c == '>';
	}
	if (block)
		return pos;				/* the text starts on the next lines */
	offset += e->source ? e->skip : 0;
	for (size_t i = 0; i < offset && text[i]; i++)
	{
		pos.col++;
		if (text[i] == '\n')
		{
			pos.line++;
			pos.col = 1;
		}
	}
	return pos;
}

static const char *
expr_label(const Expr *e, Buf *b)
{
	buf_printf(b, "%s: %s", op_kind_name(e->op->kind), e->what);
	if (e->column)
		buf_printf(b, " of column \"%s\"", e->column);
	return b->data;
}

/* ---- parse (no database) ---- */

/*
 * One expression, as PostgreSQL reads it inside SELECT (...): it must be a
 * single expression, not a piece of SQL that closes the parenthesis and
 * goes on.
 */
static bool
parse_one(const Migration *m, const Expr *e, Error *err)
{
	static const char prefix[] = "SELECT (";
	char	   *sql = xasprintf("%s%s\n)", prefix, e->text);
	SrcPos		pos = expr_pos_at(m, e, 0);
	Buf			label;
	struct PgQuery__ParseResult *tree;
	bool		single = false;

	buf_init(&label);
	expr_label(e, &label);
	tree = sql_parse(sql, sizeof prefix - 1, pos.file, pos.line, pos.col, label.data, err);
	if (tree)
	{
		single = sql_is_one_expression(tree);
		sql_parse_free(tree);
		if (!single)
			error_set(err, EXIT_USAGE, "%s:%d:%d: %s: not a single SQL expression",
					  pos.file, pos.line, pos.col, label.data);
	}
	buf_free(&label);
	free(sql);
	return single;
}

bool
preflight_parse(const Migration *m, Error *err)
{
	ExprList	l = {0};
	bool		ok = true;

	for (size_t i = 0; i < m->n_ops; i++)
		op_exprs(&l, &m->ops[i]);
	for (size_t i = 0; ok && i < l.n; i++)
		ok = parse_one(m, &l.items[i], err);
	free(l.items);
	return ok;
}

/* ---- compile (against the database) ---- */

/* A table of the migration and its empty temporary copy. */
typedef struct Copy
{
	char	   *name;			/* as the migration names it now */
	char	   *temp;			/* pg_temp.<temp>: its alias, unless taken */
	char	   *alias;			/* the name expressions call it by */
	StrList		pk;				/* its primary key's columns, for a reference */
} Copy;

typedef struct Preflight
{
	const Migration *m;
	Strategy	strategy;		/* how it will be applied */
	bool		quiet;			/* no notes */
	Copy	  **copies;			/* each its own allocation: pointers stay */
	size_t		n;
	size_t		cap;
	int			next;			/* number of the next temporary table */
	size_t		at;				/* index of the operation being judged */
	bool	   *unseen;			/* per operation: its effect is not modelled */
	bool		skipped;		/* the failure is explained by an unseen one */
	bool		modelled;		/* the operation judged was made in pg_temp */
} Preflight;

/* The server's message names a copy: it is the migration's table. */
static void
name_tables(const Preflight *pf, Error *err)
{
	for (size_t i = 0; i < pf->n; i++)
	{
		const char *temp = pf->copies[i]->temp;
		size_t		len = strlen(temp);
		char	   *hit;

		if (strcmp(temp, pf->copies[i]->alias) == 0)
			continue;
		while ((hit = strstr(err->message, temp)) != NULL &&
			   !(hit[len] >= '0' && hit[len] <= '9'))
		{
			char	   *msg = xasprintf("%.*s%s%s", (int) (hit - err->message), err->message,
										pf->copies[i]->alias, hit + len);

			free(err->message);
			err->message = msg;
		}
	}
}

/* ---- what preflight cannot see ---- */

/* The table an operation works on; NULL for the others. */
static const char *
op_table(const Operation *op)
{
	switch (op->kind)
	{
		case OP_CREATE_TABLE:
			return op->u.create_table.name;
		case OP_RENAME_TABLE:
			return op->u.rename_table.from;
		case OP_ADD_COLUMN:
			return op->u.add_column.table;
		case OP_DROP_COLUMN:
			return op->u.drop_column.table;
		case OP_RENAME_COLUMN:
			return op->u.rename_column.table;
		case OP_ALTER_COLUMN:
			return op->u.alter_column.table;
		case OP_BACKFILL:
			return op->u.backfill.table;
		case OP_CREATE_INDEX:
			return op->u.create_index.table;
		case OP_ADD_CONSTRAINT:
			return op->u.add_constraint.table;
		case OP_CREATE_POLICY:
			return op->u.policy.table;
		default:
			return NULL;
	}
}

static bool
ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$' || (unsigned char) c >= 0x80;
}

/*
 * Where text names name as a whole word (case aside), from *from on; NULL
 * when it does not.
 */
static const char *
word_at(const char *text, const char *name, const char *from)
{
	size_t		len = strlen(name);

	if (len == 0)
		return NULL;
	for (const char *p = from; *p; p++)
		if (strncasecmp(p, name, len) == 0 && (p == text || !ident_char(p[-1])) &&
			!ident_char(p[len]))
			return p;
	return NULL;
}

/*
 * The lines of the file that hold operation i (from its own line to the
 * next one's), as written; NULL without the file's text.
 */
static char *
op_text(const Migration *m, size_t i)
{
	const char *start = m->source;
	const char *end;
	int			first = m->ops[i].pos.line;
	int			last = i + 1 < m->n_ops ? m->ops[i + 1].pos.line : 0;

	if (start == NULL || first <= 0)
		return NULL;
	for (int l = 1; l < first && start; l++)
		if ((start = strchr(start, '\n')) != NULL)
			start++;
	if (start == NULL)
		return NULL;
	end = start;
	for (int l = first; (last <= 0 || l < last) && *end; l++)
		end += strcspn(end, "\n") + (end[strcspn(end, "\n")] ? 1 : 0);
	return xstrndup(start, (size_t) (end - start));
}

/*
 * The names a server's message is about: each "quoted" name (and its last
 * part when qualified), and the function of "function f(...) does not
 * exist".
 */
static void
message_names(const char *msg, StrList *names)
{
	const char *p = msg;
	const char *f = strstr(msg, "function ");

	while ((p = strchr(p, '"')) != NULL)
	{
		const char *q = strchr(p + 1, '"');
		char	   *name;
		const char *dot;

		if (q == NULL)
			break;
		name = xstrndup(p + 1, (size_t) (q - p - 1));
		if ((dot = strrchr(name, '.')) != NULL && dot[1])
			strlist_add(names, dot + 1);
		strlist_push(names, name);
		p = q + 1;
	}
	if (f && strchr(f, '('))
	{
		const char *name = f + strlen("function ");
		size_t		len = strcspn(name, "( ");
		const char *dot = memchr(name, '.', len);

		if (dot)
		{
			len -= (size_t) (dot + 1 - name);
			name = dot + 1;
		}
		if (len > 0)
			strlist_push(names, xstrndup(name, len));
	}
}

/* Whether an operation before the one judged makes names it need not write. */
static bool
implicit_before(const Preflight *pf)
{
	for (size_t j = 0; j < pf->at; j++)
		switch (pf->m->ops[j].kind)
		{
			case OP_MULTI_TENANCY:
			case OP_PARTITION_TABLE:
			case OP_ADD_PARTITIONS:
			case OP_ATTACH_PARTITION:
			case OP_DETACH_PARTITION:
				return true;
			default:
				break;
		}
	return false;
}

/*
 * Whether a failure of op's e (NULL: of op itself) may come from what
 * preflight cannot see, and if so, why (in *why): an earlier operation
 * whose effect it does not model (raw SQL, a type, a view, partitions, ...)
 * names what the message is about (or, when the message names nothing,
 * op's table; multi_tenancy and the partition operations make columns and
 * tables of names they need not write, so for them op's table always
 * counts); or a view's query names by its schema a table that an earlier
 * operation changed, which the copy cannot stand in for.
 */
static bool
explained(const Preflight *pf, const Operation *op, const Expr *e, const Error *err,
		  char **why)
{
	StrList		names = {0};
	bool		found = false;

	if (e && strcmp(e->what, "query") == 0)
		for (size_t i = 0; !found && i < pf->n; i++)
		{
			const char *at = e->text;

			while (!found && (at = word_at(e->text, pf->copies[i]->alias, at)) != NULL)
			{
				found = at > e->text + 1 && (at[-1] == '.' || (at[-1] == '"' && at[-2] == '.'));
				at++;
			}
			if (found)
				*why = xasprintf("it names \"%s\" by its schema, and preflight's copy of that "
								 "table (as the earlier operations leave it) cannot stand in",
								 pf->copies[i]->alias);
		}
	message_names(err->message, &names);
	if (op_table(op) && (names.n == 0 || implicit_before(pf)))
	{
		char	   *schema,
				   *rel;

		split_qualified(op_table(op), &schema, &rel);
		free(schema);
		strlist_push(&names, rel);
	}
	for (size_t j = 0; !found && j < pf->at; j++)
	{
		char	   *text;

		if (!pf->unseen[j] || (text = op_text(pf->m, j)) == NULL)
			continue;
		for (size_t k = 0; !found && k < names.n; k++)
			if ((found = word_at(text, names.items[k], text) != NULL))
				*why = xasprintf("%s (line %d) names \"%s\", and preflight does not model "
								 "what that operation does", op_kind_name(pf->m->ops[j].kind),
								 pf->m->ops[j].pos.line, names.items[k]);
		free(text);
	}
	strlist_free(&names);
	return found;
}

/* Says that what failed to compile is parsed only, and why. */
static void
note_parsed_only(const Preflight *pf, const SrcPos *pos, const char *label, const char *why,
				 const Error *err)
{
	if (pf->quiet)
		return;
	fprintf(stderr, "migrate: note: %s:%d:%d: %s: not compiled ahead, parsed only: %s "
			"(the server said: %s)\n", pos->file, pos->line, pos->col, label, why, err->message);
}

/*
 * Runs one statement of the preflight under a savepoint of its own (a
 * failure leaves the others' work); when it fails, err names e (NULL: the
 * operation op) at the position the server points at, expr_start being
 * where e's text begins in sql.  A failure that what preflight cannot see
 * explains sets pf->skipped, with a note.
 */
static bool
run(PGconn *conn, Preflight *pf, const Operation *op, const Expr *e,
	const char *sql, size_t expr_start, const char *context, Error *err)
{
	PGresult   *res;
	ExecStatusType st;
	const char *position;
	size_t		offset = 0;
	SrcPos		pos;
	Buf			label;
	char	   *why = NULL;

	if (!db_exec(conn, "SAVEPOINT migrate_preflight_statement", err))
		return false;
	res = PQexec(conn, sql);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
	{
		PQclear(res);
		return db_exec(conn, "RELEASE SAVEPOINT migrate_preflight_statement", err);
	}
	position = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	if (e && position)
	{
		/* the server counts characters from 1 */
		int			chars = atoi(position) - 1;
		size_t		byte = 0;

		for (int c = 0; c < chars && sql[byte]; c++)
			for (byte++; ((unsigned char) sql[byte] & 0xC0) == 0x80; byte++)
				;
		if (byte >= expr_start && byte - expr_start <= strlen(e->text))
			offset = byte - expr_start;
	}
	db_result_error(res, EXIT_USAGE, err);
	PQclear(res);
	name_tables(pf, err);
	/* a lost connection or a lock wait is not the file's fault */
	if (err->sqlstate[0] == '\0' || strncmp(err->sqlstate, "08", 2) == 0 ||
		strcmp(err->sqlstate, "55P03") == 0 || strcmp(err->sqlstate, "40P01") == 0 ||
		strcmp(err->sqlstate, "57014") == 0)
	{
		err->exit_code = EXIT_STEP_FAILED;
		return false;
	}
	{
		Error		rb = {0};

		if (!db_exec(conn, "ROLLBACK TO SAVEPOINT migrate_preflight_statement", &rb))
		{
			error_clear(err);
			*err = rb;
			err->exit_code = EXIT_STEP_FAILED;
			return false;
		}
	}
	pos = e ? expr_pos_at(pf->m, e, offset) : op->pos;
	buf_init(&label);
	if (e)
		expr_label(e, &label);
	else
		buf_puts(&label, op_kind_name(op->kind));
	if (explained(pf, op, e, err, &why))
	{
		note_parsed_only(pf, &pos, label.data, why, err);
		pf->skipped = true;
		free(why);
		buf_free(&label);
		return false;
	}
	error_prefix(err, "%s:%d:%d: %s: %s does not compile against the database",
				 pos.file, pos.line, pos.col, label.data, context);
	buf_free(&label);
	return false;
}

/* A statement with one expression: prefix, the expression, suffix. */
static bool
run_expr(PGconn *conn, Preflight *pf, const Expr *e, const char *prefix,
		 const char *suffix, Error *err)
{
	char	   *sql = xasprintf("%s%s%s", prefix, e->text, suffix);
	bool		ok = run(conn, pf, e->op, e, sql, strlen(prefix), "the expression", err);

	free(sql);
	return ok;
}

static Copy *
find_copy(Preflight *pf, const char *name)
{
	for (size_t i = 0; i < pf->n; i++)
		if (strcmp(pf->copies[i]->name, name) == 0)
			return pf->copies[i];
	return NULL;
}

/* Whether a copy other than c is pg_temp.name. */
static bool
temp_taken(const Preflight *pf, const Copy *c, const char *name)
{
	for (size_t i = 0; i < pf->n; i++)
		if (pf->copies[i] != c && strcmp(pf->copies[i]->temp, name) == 0)
			return true;
	return false;
}

/*
 * The name of c's temporary table: its alias, so that pg_temp (searched
 * first for unqualified names) shadows the table for a view's query or a
 * subquery that names it too; a number when another copy has it.
 */
static char *
temp_name(Preflight *pf, const Copy *c)
{
	return temp_taken(pf, c, c->alias) ? xasprintf("migrate_preflight_%d", ++pf->next)
		: xstrdup(c->alias);
}

static Copy *
new_copy(Preflight *pf, const char *name)
{
	Copy	   *c;
	char	   *schema;

	if (pf->n == pf->cap)
	{
		pf->cap = pf->cap ? 2 * pf->cap : 8;
		pf->copies = xrealloc(pf->copies, pf->cap * sizeof(Copy *));
	}
	c = pf->copies[pf->n++] = xcalloc(1, sizeof(Copy));
	c->name = xstrdup(name);
	split_qualified(name, &schema, &c->alias);
	free(schema);
	c->temp = temp_name(pf, c);
	return c;
}

/* The primary key columns of an existing table, read before it is shadowed. */
static bool
read_pk(PGconn *conn, Copy *c, const char *table, Error *err)
{
	const char *params[1] = {table};
	PGresult   *res = db_query(conn,
							   "SELECT a.attname FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(n, o) "
							   "JOIN pg_attribute a ON a.attnum = k.n "
							   "WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
							   "AND a.attrelid = i.indrelid ORDER BY k.o",
							   1, params, err);

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(&c->pk, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

/* The copy of an existing table, made on first use; NULL with err. */
static Copy *
copy_of(PGconn *conn, Preflight *pf, const Operation *op, const char *table, Error *err)
{
	Copy	   *c = find_copy(pf, table);
	char	   *sql;
	char	   *source;
	bool		ok;

	if (c)
		return c;
	/* the table's own name, to_regclass'd before any copy shadows it */
	source = sql_format("%Q", table);
	c = new_copy(pf, table);
	sql = sql_format("CREATE TEMPORARY TABLE %I (LIKE %s INCLUDING DEFAULTS)", c->temp, source);
	ok = read_pk(conn, c, source, err) && run(conn, pf, op, NULL, sql, 0, "its table", err);
	free(sql);
	free(source);
	return ok ? c : NULL;
}

/*
 * "SELECT (" ... ") FROM pg_temp.t AS alias", then "UPDATE pg_temp.t AS
 * alias SET col = (" ... ")" over the copy: the expression on its own
 * first, so that its own mistake is found even when the column it is
 * assigned to is one preflight cannot see.
 */
static bool
compile_assignment(PGconn *conn, Preflight *pf, const Copy *c, const Expr *e, Error *err)
{
	char	   *prefix = sql_format("EXPLAIN (COSTS OFF) SELECT (");
	char	   *suffix = sql_format("\n) FROM pg_temp.%I AS %I", c->temp, c->alias);
	bool		ok = run_expr(conn, pf, e, prefix, suffix, err);

	free(prefix);
	free(suffix);
	if (!ok)
		return false;
	prefix = sql_format("EXPLAIN (COSTS OFF) UPDATE pg_temp.%I AS %I SET %I = (",
						c->temp, c->alias, e->column);
	ok = run_expr(conn, pf, e, prefix, "\n)", err);
	free(prefix);
	return ok;
}

/* "SELECT FROM pg_temp.t AS alias WHERE (" ... ")": a condition over the copy. */
static bool
compile_condition(PGconn *conn, Preflight *pf, const Copy *c, const Expr *e, Error *err)
{
	char	   *prefix = sql_format("EXPLAIN (COSTS OFF) SELECT FROM pg_temp.%I AS %I WHERE (",
									c->temp, c->alias);
	bool		ok = run_expr(conn, pf, e, prefix, "\n)", err);

	free(prefix);
	return ok;
}

/* SET DEFAULT on the copy's column: the default fits the column's type. */
static bool
compile_default(PGconn *conn, Preflight *pf, const Copy *c, const Expr *e, Error *err)
{
	char	   *prefix = sql_format("ALTER TABLE pg_temp.%I ALTER COLUMN %I SET DEFAULT (",
									c->temp, e->column);
	bool		ok = run_expr(conn, pf, e, prefix, "\n)", err);

	free(prefix);
	if (!ok)
		return false;
	/* a constant that cannot be read as the type fails when folded */
	prefix = sql_format("EXPLAIN (COSTS OFF) SELECT (");
	ok = run_expr(conn, pf, e, prefix, "\n)", err);
	free(prefix);
	return ok;
}

static bool
compile_check(PGconn *conn, Preflight *pf, const Copy *c, const Expr *e, Error *err)
{
	char	   *prefix = sql_format("ALTER TABLE pg_temp.%I ADD CHECK (", c->temp);
	bool		ok = run_expr(conn, pf, e, prefix, "\n)", err);

	free(prefix);
	return ok;
}

static Copy *copy_of(PGconn *conn, Preflight *pf, const Operation *op, const char *table,
					 Error *err);

static void
append_columns(Buf *b, const StrList *cols)
{
	for (size_t i = 0; i < cols->n; i++)
	{
		char	   *q = sql_format("%I", cols->items[i]);

		buf_printf(b, "%s%s", i ? ", " : "", q);
		free(q);
	}
}

/*
 * A foreign key from c's columns to ref_table's ref_cols (none: its
 * primary key), made between the copies: the table and the columns exist
 * as the earlier operations leave them, and their types can be compared.
 * The copy of the referenced table is given a unique index on those
 * columns first (what a reference needs is the real table's business).
 */
static bool
compile_reference(PGconn *conn, Preflight *pf, Copy *c, const Operation *op,
				  const StrList *cols, const char *ref_table, const StrList *ref_cols,
				  Error *err)
{
	Copy	   *t;
	Buf			from,
				to,
				sql;
	bool		ok;

	if ((t = copy_of(conn, pf, op, ref_table, err)) == NULL)
		return false;
	if (ref_cols->n == 0 && t->pk.n == 0)
	{
		SrcPos		pos = op->pos;

		return error_set(err, EXIT_USAGE, "%s:%d:%d: %s: the referenced table %s has no "
						 "primary key (name the columns it references)", pos.file, pos.line,
						 pos.col, op_kind_name(op->kind), ref_table);
	}
	buf_init(&from);
	buf_init(&to);
	buf_init(&sql);
	append_columns(&from, cols);
	append_columns(&to, ref_cols->n ? ref_cols : &t->pk);
	{
		char	   *ti = sql_format("%I", t->temp);
		char	   *ci = sql_format("%I", c->temp);

		buf_printf(&sql, "CREATE UNIQUE INDEX ON pg_temp.%s (%s)", ti, to.data);
		ok = run(conn, pf, op, NULL, sql.data, 0, "the referenced columns", err);
		buf_reset(&sql);
		buf_printf(&sql, "ALTER TABLE pg_temp.%s ADD FOREIGN KEY (%s) REFERENCES pg_temp.%s (%s)",
				   ci, from.data, ti, to.data);
		ok = ok && run(conn, pf, op, NULL, sql.data, 0, "the reference", err);
		free(ti);
		free(ci);
	}
	buf_free(&from);
	buf_free(&to);
	buf_free(&sql);
	return ok;
}

static bool
compile_column_reference(PGconn *conn, Preflight *pf, Copy *c, const Operation *op,
						 const ColumnDef *col, Error *err)
{
	StrList		from = {0},
				to = {0};
	bool		ok;

	strlist_add(&from, col->name);
	if (col->ref_column)
		strlist_add(&to, col->ref_column);
	ok = compile_reference(conn, pf, c, op, &from, col->ref_table, &to, err);
	strlist_free(&from);
	strlist_free(&to);
	return ok;
}

/* Adds a column to the copy: its type, then its default and check. */
static bool
add_column(PGconn *conn, Preflight *pf, Copy *c, const Operation *op,
		   const ColumnDef *col, Error *err)
{
	char	   *sql = sql_format("ALTER TABLE pg_temp.%I DROP COLUMN IF EXISTS %I, "
								 "ADD COLUMN %I %s", c->temp, col->name, col->name, col->type);
	bool		ok = run(conn, pf, op, NULL, sql, 0, "the column's type", err);
	Expr		d = {op, col->default_expr, "default", col->name, NULL, 0, NULL};
	Expr		k = {op, col->check, "check", col->name, NULL, 0, NULL};

	free(sql);
	return ok &&
		(col->default_expr == NULL || compile_default(conn, pf, c, &d, err)) &&
		(col->check == NULL || compile_check(conn, pf, c, &k, err)) &&
		(col->ref_table == NULL || compile_column_reference(conn, pf, c, op, col, err));
}

static bool
create_table(PGconn *conn, Preflight *pf, const Operation *op, Error *err)
{
	Copy	   *c = find_copy(pf, op->u.create_table.name);
	char	   *sql;
	bool		ok = true;

	if (c == NULL)
		c = new_copy(pf, op->u.create_table.name);
	else
	{
		/* made again after a drop: the copy starts afresh */
		sql = sql_format("DROP TABLE IF EXISTS pg_temp.%I CASCADE", c->temp);
		ok = run(conn, pf, op, NULL, sql, 0, "the table", err);
		free(sql);
		strlist_free(&c->pk);
	}
	sql = sql_format("CREATE TEMPORARY TABLE %I ()", c->temp);
	ok = ok && run(conn, pf, op, NULL, sql, 0, "the table", err);
	free(sql);
	for (size_t i = 0; i < op->u.create_table.primary_key.n; i++)
		strlist_add(&c->pk, op->u.create_table.primary_key.items[i]);
	for (size_t i = 0; i < op->u.create_table.n_columns; i++)
		if (op->u.create_table.columns[i].primary_key)
			strlist_add(&c->pk, op->u.create_table.columns[i].name);
	for (size_t i = 0; i < op->u.create_table.n_constraints; i++)
		if (op->u.create_table.constraints[i].kind == CONSTRAINT_PRIMARY_KEY)
			for (size_t k = 0; k < op->u.create_table.constraints[i].columns.n; k++)
				strlist_add(&c->pk, op->u.create_table.constraints[i].columns.items[k]);
	for (size_t i = 0; ok && i < op->u.create_table.n_columns; i++)
		ok = add_column(conn, pf, c, op, &op->u.create_table.columns[i], err);
	for (size_t i = 0; ok && i < op->u.create_table.n_constraints; i++)
	{
		const ConstraintDef *k = &op->u.create_table.constraints[i];
		Expr		e = {op, k->check, "check", NULL, NULL, 0, NULL};

		if (e.text)
			ok = compile_check(conn, pf, c, &e, err);
		else if (k->kind == CONSTRAINT_FOREIGN_KEY)
			ok = compile_reference(conn, pf, c, op, &k->columns, k->ref_table, &k->ref_columns,
								   err);
	}
	return ok;
}

/* The copy's column default, as SQL; NULL when it has none. */
static char *
column_default(PGconn *conn, const Copy *c, const char *column, Error *err)
{
	char	   *rel = sql_format("pg_temp.%I", c->temp);
	const char *params[2] = {rel, column};
	PGresult   *res = db_query(conn,
							   "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d "
							   "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
							   "WHERE d.adrelid = $1::regclass AND a.attname = $2",
							   2, params, err);
	char	   *def = NULL;

	free(rel);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1)
		def = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return def;
}

/*
 * A type change on the copy: its default is set aside, the type changed
 * with USING, then the default given (the operation's, or the old one cast
 * to the new type, which must work: the swap keeps it).
 */
static bool
alter_column(PGconn *conn, Preflight *pf, const Copy *c, const Operation *op, Error *err)
{
	const char *column = op->u.alter_column.column;
	const char *type = op->u.alter_column.type;
	Expr		u = {op, op->u.alter_column.using_expr, "using", column, NULL, 0, NULL};
	Expr		d = {op, op->u.alter_column.default_expr, "default", column, NULL, 0, NULL};
	char	   *old_default = NULL;
	bool		ok = true;

	if (type)
	{
		char	   *sql;
		char	   *prefix;

		/*
		 * Both strategies set the default aside and give it back converted
		 * as sql_convert_default does (at the swap, or after the plain
		 * ALTER TABLE).
		 */
		{
			old_default = column_default(conn, c, column, err);
			if (old_default == NULL && err->message)
				return false;
			sql = sql_format("ALTER TABLE pg_temp.%I ALTER COLUMN %I DROP DEFAULT", c->temp, column);
			ok = run(conn, pf, op, NULL, sql, 0, "the column", err);
			free(sql);
		}
		if (ok && u.text)
		{
			prefix = sql_format("ALTER TABLE pg_temp.%I ALTER COLUMN %I TYPE %s USING (",
								c->temp, column, type);
			ok = run_expr(conn, pf, &u, prefix, "\n)", err);
			free(prefix);
		}
		else if (ok)
		{
			sql = sql_format("ALTER TABLE pg_temp.%I ALTER COLUMN %I TYPE %s", c->temp,
							 column, type);
			ok = run(conn, pf, op, NULL, sql, 0, "the type change", err);
			free(sql);
		}
		if (ok && old_default && op->u.alter_column.default_change == DEFAULT_KEEP)
		{
			char	   *what = xasprintf("the column's default %s, converted to %s,", old_default, type);
			char	   *copy = xasprintf("pg_temp.%s", c->temp);
			char	   *saved = quoted_literal(old_default);
			char	   *convert = u.text ? xstrdup(u.text) : sql_format("%I::%s", column, type);
			char	   *schema;
			char	   *rel;

			split_qualified(op->u.alter_column.table, &schema, &rel);
			sql = sql_convert_default(copy, column, saved, convert, type, rel);
			ok = run(conn, pf, op, NULL, sql, 0, what, err);
			free(schema);
			free(rel);
			free(convert);
			free(saved);
			free(copy);
			free(sql);
			free(what);
			if (!ok && err->exit_code == EXIT_USAGE)
				error_append(err, "\ngive alter_column a default that fits the new type "
							 "(or default: null to drop it)");
		}
	}
	if (ok && op->u.alter_column.default_change == DEFAULT_SET)
		ok = compile_default(conn, pf, c, &d, err);
	if (ok && op->u.alter_column.check_expr)
	{
		Expr		k = {op, op->u.alter_column.check_expr, "check", column, NULL, 0, NULL};

		ok = compile_check(conn, pf, c, &k, err);
	}
	free(old_default);
	return ok;
}

static bool
rename_column(PGconn *conn, Preflight *pf, const Copy *c, const Operation *op, Error *err)
{
	/* a resumed online rename has both columns: the copy keeps the new one */
	char	   *rel = sql_format("pg_temp.%I", c->temp);
	char	   *body = sql_format("BEGIN IF EXISTS (SELECT FROM pg_attribute WHERE "
								  "attrelid = %L::regclass AND attname = %L AND NOT attisdropped) "
								  "THEN ALTER TABLE %s DROP COLUMN IF EXISTS %I; "
								  "ALTER TABLE %s RENAME COLUMN %I TO %I; END IF; END",
								  rel, op->u.rename_column.from, rel, op->u.rename_column.to,
								  rel, op->u.rename_column.from, op->u.rename_column.to);
	char	   *sql = do_block(body);
	bool		ok = run(conn, pf, op, NULL, sql, 0, "the rename", err);

	free(sql);
	free(body);
	free(rel);
	return ok;
}

/*
 * Each element of an index: an index of that one element is made on the
 * copy (empty: nothing is scanned), so a column must exist and an
 * expression must compile, be immutable and have a type the method can
 * index.
 */
static bool
compile_index_elements(PGconn *conn, Preflight *pf, const Copy *c, const Operation *op,
					   const IndexElemList *l, Error *err)
{
	const char *method = op->u.create_index.method ? op->u.create_index.method : "btree";
	bool		ok = true;

	for (size_t i = 0; ok && i < l->n; i++)
	{
		const IndexElem *el = &l->items[i];
		char	   *prefix = sql_format("CREATE INDEX ON pg_temp.%I USING %I (", c->temp, method);

		if (el->expression)
		{
			const char *in = el->text ? strstr(el->text, el->expression) : NULL;
			Expr		e = {op, el->expression, "expression", NULL, in ? el->text : NULL,
			in ? (size_t) (in - el->text) : 0, in ? &el->pos : NULL};
			char	   *p2 = xasprintf("%s(", prefix);

			ok = run_expr(conn, pf, &e, p2, "\n))", err);
			free(p2);
		}
		else if (el->column)
		{
			char	   *sql = sql_format("%s%I)", prefix, el->column);

			ok = run(conn, pf, op, NULL, sql, 0, "its column", err);
			free(sql);
		}
		free(prefix);
	}
	return ok;
}

/* One operation: its expressions compiled, its changes made to the copies. */
static bool
compile_op(PGconn *conn, Preflight *pf, const Operation *op, Error *err)
{
	Copy	   *c;
	bool		ok = true;

	switch (op->kind)
	{
		case OP_CREATE_TABLE:
			return create_table(conn, pf, op, err);
		case OP_RENAME_TABLE:
			/* a copy of the table, renamed, for the operations that name it anew */
			if ((c = copy_of(conn, pf, op, op->u.rename_table.from, err)) == NULL)
				return false;
			{
				char	   *schema;
				char	   *old_temp = c->temp;

				free(c->name);
				free(c->alias);
				c->name = xstrdup(op->u.rename_table.to);
				split_qualified(c->name, &schema, &c->alias);
				free(schema);
				/* the copy takes the new name, to shadow it */
				c->temp = temp_name(pf, c);
				if (strcmp(old_temp, c->temp) != 0)
				{
					char	   *sql = sql_format("ALTER TABLE pg_temp.%I RENAME TO %I", old_temp,
												 c->temp);

					ok = run(conn, pf, op, NULL, sql, 0, "the rename", err);
					free(sql);
				}
				free(old_temp);
			}
			return ok;
		case OP_ADD_COLUMN:
			{
				Expr		b = {op, op->u.add_column.backfill, "backfill",
				op->u.add_column.column.name, NULL, 0, NULL};

				if ((c = copy_of(conn, pf, op, op->u.add_column.table, err)) == NULL)
					return false;
				return add_column(conn, pf, c, op, &op->u.add_column.column, err) &&
					(b.text == NULL || compile_assignment(conn, pf, c, &b, err));
			}
		case OP_DROP_COLUMN:
			{
				char	   *sql;

				if ((c = copy_of(conn, pf, op, op->u.drop_column.table, err)) == NULL)
					return false;
				sql = sql_format("ALTER TABLE pg_temp.%I DROP COLUMN IF EXISTS %I",
								 c->temp, op->u.drop_column.column);
				ok = run(conn, pf, op, NULL, sql, 0, "the column", err);
				free(sql);
				return ok;
			}
		case OP_RENAME_COLUMN:
			return (c = copy_of(conn, pf, op, op->u.rename_column.table, err)) != NULL &&
				rename_column(conn, pf, c, op, err);
		case OP_ALTER_COLUMN:
			return (c = copy_of(conn, pf, op, op->u.alter_column.table, err)) != NULL &&
				alter_column(conn, pf, c, op, err);
		case OP_BACKFILL:
			if ((c = copy_of(conn, pf, op, op->u.backfill.table, err)) == NULL)
				return false;
			for (size_t i = 0; ok && i < op->u.backfill.set.n; i++)
			{
				Expr		e = {op, op->u.backfill.set.items[i].expr, "set",
				op->u.backfill.set.items[i].key, NULL, 0, NULL};

				ok = compile_assignment(conn, pf, c, &e, err);
			}
			for (size_t i = 0; ok && i < op->u.backfill.down.n; i++)
			{
				Expr		e = {op, op->u.backfill.down.items[i].expr, "down",
				op->u.backfill.down.items[i].key, NULL, 0, NULL};

				ok = compile_assignment(conn, pf, c, &e, err);
			}
			if (ok && op->u.backfill.where)
			{
				Expr		e = {op, op->u.backfill.where, "where", NULL, NULL, 0, NULL};

				ok = compile_condition(conn, pf, c, &e, err);
			}
			return ok;
		case OP_CREATE_INDEX:
			if ((c = copy_of(conn, pf, op, op->u.create_index.table, err)) == NULL)
				return false;
			ok = compile_index_elements(conn, pf, c, op, &op->u.create_index.columns, err);
			if (ok && op->u.create_index.where)
			{
				Expr		e = {op, op->u.create_index.where, "where", NULL, NULL, 0, NULL};

				ok = compile_condition(conn, pf, c, &e, err);
			}
			return ok;
		case OP_ADD_CONSTRAINT:
			{
				const ConstraintDef *k = &op->u.add_constraint.constraint;
				Expr		e = {op, k->check, "check", NULL, NULL, 0, NULL};

				if (k->check == NULL && k->kind != CONSTRAINT_FOREIGN_KEY)
					return true;
				if ((c = copy_of(conn, pf, op, op->u.add_constraint.table, err)) == NULL)
					return false;
				if (k->check)
					return compile_check(conn, pf, c, &e, err);
				return compile_reference(conn, pf, c, op, &k->columns, k->ref_table,
										 &k->ref_columns, err);
			}
		case OP_CREATE_TYPE:
			{
				/*
				 * An unqualified type is made in pg_temp, searched first
				 * for type names as for tables: what uses it compiles.
				 */
				char	   *schema,
						   *name;
				Operation	temp = *op;

				split_qualified(op->u.type.name, &schema, &name);
				if (schema == NULL && strchr(op->u.type.name, '.') == NULL)
				{
					char	   *sql;

					temp.u.type.name = xasprintf("pg_temp.%s", name);
					sql = create_type_sql(&temp);
					ok = pf->modelled = run(conn, pf, op, NULL, sql, 0, "the type", err);
					free(sql);
					free(temp.u.type.name);
				}
				free(schema);
				free(name);
				return ok;
			}
		case OP_CREATE_POLICY:
			if (op->u.policy.using_expr == NULL && op->u.policy.with_check == NULL)
				return true;
			if ((c = copy_of(conn, pf, op, op->u.policy.table, err)) == NULL)
				return false;
			{
				Expr		u = {op, op->u.policy.using_expr, "using", NULL, NULL, 0, NULL};
				Expr		w = {op, op->u.policy.with_check, "with_check", NULL, NULL, 0, NULL};

				return (u.text == NULL || compile_condition(conn, pf, c, &u, err)) &&
					(w.text == NULL || compile_condition(conn, pf, c, &w, err));
			}
		default:
			return true;
	}
}

/* Operations whose effect on the schema preflight does not model. */
static bool
opaque_op(OpKind k)
{
	switch (k)
	{
		case OP_SQL:
		case OP_MULTI_TENANCY:
		case OP_ADD_PARTITIONS:
		case OP_ATTACH_PARTITION:
		case OP_DETACH_PARTITION:
		case OP_PARTITION_TABLE:
		case OP_CREATE_VIEW:
		case OP_REPLACE_VIEW:
		case OP_CREATE_MATERIALIZED_VIEW:
		case OP_REPLACE_MATERIALIZED_VIEW:
		case OP_CREATE_TYPE:
		case OP_DROP_TYPE:
		case OP_ADD_ENUM_VALUE:
		case OP_CREATE_ROLE:
			return true;
		default:
			return false;
	}
}

/* The query of a view operation; NULL for the others. */
static const char *
view_query(const Operation *op)
{
	if (op->kind == OP_CREATE_VIEW || op->kind == OP_REPLACE_VIEW)
		return op->u.view.query;
	if (op->kind == OP_CREATE_MATERIALIZED_VIEW || op->kind == OP_REPLACE_MATERIALIZED_VIEW)
		return op->u.matview.query;
	return NULL;
}

static bool
compile_view_query(PGconn *conn, Preflight *pf, const Operation *op, Error *err)
{
	Expr		e = {op, view_query(op), "query", NULL, NULL, 0, NULL};

	return run_expr(conn, pf, &e, "EXPLAIN (COSTS OFF) SELECT * FROM (", "\n) AS migrate_query",
					err);
}

static void
preflight_reset(Preflight *pf)
{
	for (size_t i = 0; i < pf->n; i++)
	{
		free(pf->copies[i]->name);
		free(pf->copies[i]->temp);
		free(pf->copies[i]->alias);
		strlist_free(&pf->copies[i]->pk);
		free(pf->copies[i]);
	}
	free(pf->copies);
	pf->copies = NULL;
	pf->n = pf->cap = 0;
	pf->next = 0;
	pf->skipped = false;
	if (pf->unseen)
		memset(pf->unseen, 0, pf->m->n_ops * sizeof(bool));
}

/*
 * The short transaction's body: everything under a savepoint that is
 * rolled back, so that the transaction commits nothing.
 */
static bool
preflight_body(PGconn *conn, void *arg, Error *err)
{
	Preflight  *pf = arg;
	bool		ok = db_exec(conn, "SAVEPOINT migrate_preflight", err);

	preflight_reset(pf);		/* each attempt starts afresh */
	for (size_t i = 0; ok && i < pf->m->n_ops; i++)
	{
		const Operation *op = &pf->m->ops[i];

		/*
		 * Every operation is judged over the copies as the ones before
		 * leave them (a view's query too: the copies shadow the tables).
		 * One whose failure what preflight does not model explains (see
		 * explained) is parsed only, said in a note, and not modelled
		 * either, like raw SQL, types, views, partitions, multi_tenancy.
		 */
		pf->at = i;
		pf->modelled = false;
		ok = (view_query(op) == NULL || compile_view_query(conn, pf, op, err)) &&
			compile_op(conn, pf, op, err);
		if (!ok && pf->skipped)
		{
			error_clear(err);
			pf->skipped = false;
			pf->unseen[i] = true;
			ok = true;
		}
		pf->unseen[i] |= opaque_op(op->kind) && !pf->modelled;
	}
	if (!ok)
		return false;
	return db_exec(conn, "ROLLBACK TO SAVEPOINT migrate_preflight", err);
}

bool
preflight_compile(ExecContext *ctx, const Migration *m, Error *err)
{
	Preflight	pf = {0};
	Txn			t = {0};
	bool		ok;

	if (!preflight_parse(m, err))
		return false;
	pf.m = m;
	pf.strategy = ctx->strategy;
	pf.quiet = ctx->progress && ctx->progress->quiet;
	pf.unseen = xcalloc(m->n_ops + 1, sizeof(bool));
	t.conn = ctx->conn;
	t.settings = &ctx->settings;
	t.deadlock_timeout_ms = &ctx->deadlock_timeout_ms;
	t.journal_row = -1;
	ok = txn_run(&t, preflight_body, &pf, err);
	preflight_reset(&pf);
	free(pf.unseen);
	if (!ok && err->exit_code == EXIT_USAGE)
		error_append(err, "\nnothing was changed: fix the file, then run apply again");
	else if (!ok)
		error_prefix(err, "migration %s_%s: checking its SQL expressions", m->version_text,
					 m->name);
	return ok;
}
