/*
 * convert.c: a plain SQL migration becomes a migration file.
 *
 * Every statement is parsed with PostgreSQL's own parser and mapped to the
 * operation that does the same online (migrate(1), convert: its list of them).
 * A statement that no operation represents exactly (a USING clause, a
 * default that is not a constant, an option no field holds...) is kept as
 * an sql operation, as written, with the lock lint finds it takes:
 * converting must never change what a migration does.  Each operation is
 * loaded back before it is written; one the loader refuses stays SQL too.
 *
 * A few statements fold into the one before them, as the format says them
 * in one operation: the indexes of a materialized view just created (and
 * its first REFRESH after WITH NO DATA) into create_materialized_view, the
 * partitions of a partitioned table just created into its create_table
 * (generated ones when their names and bounds are the generated ones), the
 * values added to an enum just created into its create_type, a FORCE ROW
 * LEVEL SECURITY into the enable_rls just before it.
 */
#include "convert.h"

#include <stdlib.h>
#include <string.h>

#include <pg_query/pg_query.pb-c.h>

#include "lint.h"
#include "partition.h"
#include "quote.h"
#include "sqlparse.h"

/* What the statements before fold into. */
typedef enum HeldKind
{
	HELD_NONE,
	HELD_MATVIEW,				/* create_materialized_view: indexes[], populate */
	HELD_PARTITIONED,			/* create_table with partition_by: partitions */
	HELD_ENUM,					/* create_type of an enum: the values added next */
	HELD_RLS					/* enable_rls: a FORCE next */
} HeldKind;

typedef struct Held
{
	HeldKind	kind;
	char	   *name;			/* the view or table, as the file names it */
	Buf			comments;		/* the line comment of every statement in it */
	Buf			head;			/* the operation's fields so far */
	Buf			list;			/* items of indexes[] */
	size_t		n_list;
	bool		populate;		/* matview */
	bool		force;			/* enable_rls */
	bool		unique_index;	/* matview: one that REFRESH CONCURRENTLY can use */
	StrList		texts;			/* each statement as written, to fall back on */
	const PgQuery__Node **nodes;	/* ... and parsed */
	/* partitioned */
	PartitionMethod method;
	StrList		key;			/* the partition key; an enum's values */
	PartitionDef *parts;
	size_t		n_parts;
} Held;

typedef struct Conv
{
	const char *sql;			/* the whole file */
	const char *stmt;			/* this statement's text */
	int			stmt_from;		/* its offset in sql */
	int			stmt_line;		/* its line */
	PgQuery__ScanResult *tokens;	/* of stmt; NULL: it does not scan */
	Buf		   *out;
	Buf			ops;			/* this statement's operations */
	int			n_ops;
	Held		held;
	bool		hold;			/* the statement just converted starts held */
	StrList		matviews_made;	/* materialized views made here */
	StrList		matviews_unique;	/* ... with a unique index REFRESH CONCURRENTLY can use */
	StrList		matviews_empty; /* ... WITH NO DATA */
} Conv;

/* ---- YAML output ---- */

/* A double-quoted YAML scalar: any text, on one line. */
static void
yaml_str(Buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\'), buf_putc(b, *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (*s == '\t')
			buf_puts(b, "\\t");
		else if ((unsigned char) *s < 0x20)
			buf_printf(b, "\\x%02x", (unsigned char) *s);
		else
			buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void
yaml_key(Buf *b, int indent, const char *key, const char *value)
{
	buf_printf(b, "%*s%s: ", indent, "", key);
	yaml_str(b, value);
	buf_putc(b, '\n');
}

static void
yaml_flow_list(Buf *b, const StrList *l)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < l->n; i++)
	{
		if (i)
			buf_puts(b, ", ");
		yaml_str(b, l->items[i]);
	}
	buf_putc(b, ']');
}

static void
yaml_list(Buf *b, int indent, const char *key, const StrList *l)
{
	buf_printf(b, "%*s%s: ", indent, "", key);
	yaml_flow_list(b, l);
	buf_putc(b, '\n');
}

/* The first key of a list item ("- name: ...") or of a mapping ("name: ..."). */
static void
yaml_first_key(Buf *b, int indent, bool list_item, const char *key, const char *value)
{
	if (list_item)
		buf_printf(b, "%*s- %s: ", indent - 2, "", key);
	else
		buf_printf(b, "%*s%s: ", indent, "", key);
	yaml_str(b, value);
	buf_putc(b, '\n');
}

/* ---- parse tree helpers ---- */

/* protobuf gives "" for an absent string: NULL instead. */
static const char *
nz(const char *s)
{
	return s && *s ? s : NULL;
}

static const char *
sval(const PgQuery__Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

/* Names of a list of String nodes; false when one is something else. */
static bool
names_of(PgQuery__Node **nodes, size_t n, StrList *out)
{
	for (size_t i = 0; i < n; i++)
	{
		const char *s = sval(nodes[i]);

		if (s == NULL)
			return false;
		strlist_add(out, s);
	}
	return true;
}

/* A name of one or two parts (schema.name) as the file writes it; NULL otherwise. */
static char *
qualified_of(PgQuery__Node **parts, size_t n)
{
	if (n == 1 && sval(parts[0]))
		return join_qualified(NULL, sval(parts[0]));
	if (n == 2 && sval(parts[0]) && sval(parts[1]))
		return join_qualified(sval(parts[0]), sval(parts[1]));
	return NULL;
}

/* A List node of names as qualified_of reads it. */
static char *
qualified_list(const PgQuery__Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_LIST
		? qualified_of(n->list->items, n->list->n_items) : NULL;
}

static char *
relation_name(const PgQuery__RangeVar *rv)
{
	return join_qualified(nz(rv->schemaname), rv->relname);
}

/* A plain relation: no catalog name, ONLY, or temporary table. */
static bool
plain_relation(const PgQuery__RangeVar *rv)
{
	return rv && nz(rv->catalogname) == NULL && rv->inh && rv->relpersistence[0] == 'p';
}

/* A name as SQL writes it: as is when a plain lower-case word, else quoted. */
static void
append_name(Buf *b, const char *name)
{
	if (*name && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name) &&
		!(*name >= '0' && *name <= '9'))
		buf_puts(b, name);
	else
		sql_append(b, "%I", name);
}

/* pg_catalog's internal type names back to the SQL spelling. */
static const char *const type_spellings[][2] = {
	{"int2", "smallint"}, {"int4", "integer"}, {"int8", "bigint"}, {"bool", "boolean"},
	{"float4", "real"}, {"float8", "double precision"}, {"bpchar", "char"},
	{NULL, NULL}
};

/* A type as SQL text, or NULL when it is not a plain name with integer typmods. */
static char *
type_text(const PgQuery__TypeName *tn)
{
	Buf			b;
	size_t		first = 0;
	const char *name;

	if (tn == NULL || tn->n_names == 0 || tn->setof || tn->pct_type)
		return NULL;
	if (tn->n_names == 2 && sval(tn->names[0]) && strcmp(sval(tn->names[0]), "pg_catalog") == 0)
		first = 1;
	buf_init(&b);
	for (size_t i = first; i < tn->n_names; i++)
	{
		name = sval(tn->names[i]);
		if (name == NULL)
		{
			buf_free(&b);
			return NULL;
		}
		for (int k = 0; first && type_spellings[k][0]; k++)
			if (strcmp(type_spellings[k][0], name) == 0)
				name = type_spellings[k][1];
		buf_printf(&b, "%s", i > first ? "." : "");
		if (first)
			buf_puts(&b, name);
		else
			append_name(&b, name);	/* a user's type */
	}
	if (!lint_append_type_modifiers(&b, tn))
	{
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* A string constant as an SQL literal. */
static char *
literal_text(const char *s)
{
	Buf			b;

	buf_init(&b);
	buf_putc(&b, '\'');
	for (; *s; s++)
	{
		if (*s == '\'')
			buf_putc(&b, '\'');
		buf_putc(&b, *s);
	}
	buf_putc(&b, '\'');
	return buf_detach(&b);
}

/*
 * A default as SQL text: a constant, or a call without arguments (now()).
 * NULL for anything else: such a statement stays SQL.
 */
static char *
default_text(const PgQuery__Node *n)
{
	if (n == NULL)
		return NULL;
	if (n->node_case == PG_QUERY__NODE__NODE_A_CONST)
	{
		const PgQuery__AConst *c = n->a_const;

		switch (c->val_case)
		{
			case PG_QUERY__A__CONST__VAL_IVAL:
				return xasprintf("%d", c->ival->ival);
			case PG_QUERY__A__CONST__VAL_FVAL:
				return xstrdup(c->fval->fval);
			case PG_QUERY__A__CONST__VAL_BOOLVAL:
				return xstrdup(c->boolval->boolval ? "true" : "false");
			case PG_QUERY__A__CONST__VAL_SVAL:
				return literal_text(c->sval->sval);
			default:
				return c->isnull ? xstrdup("NULL") : NULL;
		}
	}
	if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && n->func_call->n_args == 0 &&
		n->func_call->n_funcname == 1 && sval(n->func_call->funcname[0]))
		return xasprintf("%s()", sval(n->func_call->funcname[0]));
	if (n->node_case == PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION &&
		n->sqlvalue_function->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP)
		return xstrdup("CURRENT_TIMESTAMP");
	return NULL;
}

/*
 * The text inside the parentheses that follow position at (a CHECK's
 * expression), quotes respected; NULL when unbalanced.
 */
static char *
paren_text(const char *s, int at)
{
	const char *p = strchr(s + at, '(');
	int			depth = 0;

	for (const char *q = p; q && *q; q++)
	{
		if (*q == '\'' || *q == '"')
		{
			char		quote = *q;

			while (*++q && *q != quote)
				;
			if (*q == '\0')
				return NULL;
			continue;
		}
		if (*q == '(')
			depth++;
		else if (*q == ')' && --depth == 0)
			return xstrndup(p + 1, (size_t) (q - p - 1));
	}
	return NULL;
}

static const char *
fk_action(const char *code)
{
	switch (code && *code ? *code : 'a')
	{
		case 'r':
			return "restrict";
		case 'c':
			return "cascade";
		case 'n':
			return "set null";
		case 'd':
			return "set default";
		default:
			return NULL;		/* no action: the default */
	}
}

/*
 * An option's value written as a word or a string (WITH (fastupdate =
 * off), check_option = local); NULL: none, or something else.
 */
static const char *
option_word(const PgQuery__DefElem *d)
{
	const PgQuery__Node *a = d->arg;

	if (a && a->node_case == PG_QUERY__NODE__NODE_STRING)
		return a->string->sval;
	if (a && a->node_case == PG_QUERY__NODE__NODE_TYPE_NAME && a->type_name->n_names == 1 &&
		a->type_name->n_typmods == 0 && a->type_name->n_array_bounds == 0)
		return sval(a->type_name->names[0]);
	return NULL;
}

/* A role of GRANT or CREATE POLICY: a name, or public; NULL: CURRENT_USER and such. */
static const char *
role_name(const PgQuery__Node *n)
{
	const PgQuery__RoleSpec *r = n && n->node_case == PG_QUERY__NODE__NODE_ROLE_SPEC
		? n->role_spec : NULL;

	if (r && r->roletype == PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_PUBLIC)
		return "public";
	return r && r->roletype == PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CSTRING ? nz(r->rolename) : NULL;
}

static bool
roles_of(PgQuery__Node **nodes, size_t n, StrList *out)
{
	for (size_t i = 0; i < n; i++)
	{
		if (role_name(nodes[i]) == NULL)
			return false;
		strlist_add(out, role_name(nodes[i]));
	}
	return true;
}

/* ---- the statement's tokens ---- */

static size_t
n_tokens(const Conv *c)
{
	return c->tokens ? c->tokens->n_tokens : 0;
}

static int
tok(const Conv *c, size_t i)
{
	return i < n_tokens(c) ? (int) c->tokens->tokens[i]->token : -1;
}

/* The first token at or after byte at of the file. */
static size_t
tok_at(const Conv *c, int at)
{
	size_t		i = 0;

	while (i < n_tokens(c) && c->tokens->tokens[i]->start < at - c->stmt_from)
		i++;
	return i;
}

/*
 * The first token of kind token from token i on, at the depth of i (not
 * inside parentheses opened after it); -1: none before the depth drops.
 */
static long
tok_find(const Conv *c, size_t i, int token)
{
	int			depth = 0;

	for (; i < n_tokens(c); i++)
	{
		int			t = tok(c, i);

		if (depth == 0 && t == token)
			return (long) i;
		if (t == PG_QUERY__TOKEN__ASCII_40)
			depth++;
		else if (t == PG_QUERY__TOKEN__ASCII_41 && --depth < 0)
			return -1;
	}
	return -1;
}

/* The token closing the '(' at token open; -1: none. */
static long
tok_close(const Conv *c, size_t open)
{
	int			depth = 0;

	for (size_t i = open; i < n_tokens(c); i++)
	{
		if (tok(c, i) == PG_QUERY__TOKEN__ASCII_40)
			depth++;
		else if (tok(c, i) == PG_QUERY__TOKEN__ASCII_41 && --depth == 0)
			return (long) i;
	}
	return -1;
}

/* The statement's text from token first to token last, both included. */
static char *
tok_text(const Conv *c, size_t first, size_t last)
{
	int			from = c->tokens->tokens[first]->start;

	return xstrndup(c->stmt + from, (size_t) (c->tokens->tokens[last]->end - from));
}

/* The text inside the parentheses opened at token open; NULL: unbalanced or empty. */
static char *
group_text(const Conv *c, long open)
{
	long		close = open >= 0 && tok(c, (size_t) open) == PG_QUERY__TOKEN__ASCII_40
		? tok_close(c, (size_t) open) : -1;

	return close > open + 1 ? tok_text(c, (size_t) open + 1, (size_t) close - 1) : NULL;
}

/* A comment anywhere in the statement: it could end up inside a field. */
static bool
has_comment(const Conv *c)
{
	for (size_t i = 0; i < n_tokens(c); i++)
		if (tok(c, i) == PG_QUERY__TOKEN__SQL_COMMENT || tok(c, i) == PG_QUERY__TOKEN__C_COMMENT)
			return true;
	return false;
}

/*
 * The elements of the parenthesized list opened at token open, split at
 * its commas: firsts[k] and lasts[k] are element k's first and last
 * tokens.  Returns the count, or -1 when the list is not closed.
 */
static long
tok_elements(const Conv *c, long open, size_t *firsts, size_t *lasts, size_t max)
{
	long		close = open >= 0 ? tok_close(c, (size_t) open) : -1;
	size_t		n = 0;
	int			depth = 0;
	size_t		start = (size_t) open + 1;

	if (close < 0)
		return -1;
	for (size_t i = (size_t) open + 1; i <= (size_t) close; i++)
	{
		int			t = tok(c, i);

		if ((t == PG_QUERY__TOKEN__ASCII_44 && depth == 0) || i == (size_t) close)
		{
			if (i == start || n == max)
				return -1;
			firsts[n] = start;
			lasts[n++] = i - 1;
			start = i + 1;
		}
		else if (t == PG_QUERY__TOKEN__ASCII_40)
			depth++;
		else if (t == PG_QUERY__TOKEN__ASCII_41)
			depth--;
	}
	return (long) n;
}

/*
 * The text after the statement's last keyword token at depth 0 (a WHERE's
 * predicate), as written; NULL when there is none.
 */
static char *
text_after(const Conv *c, size_t from, int token)
{
	long		at = tok_find(c, from, token);
	const char *p;
	size_t		len;

	if (at < 0)
		return NULL;
	p = c->stmt + c->tokens->tokens[at]->end;
	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	len = strlen(p);
	return len > 0 ? xstrndup(p, len) : NULL;
}

/* ---- statements to operations ---- */

static void
op_begin(Conv *c, const char *kind)
{
	buf_printf(&c->ops, "  - %s:\n", kind);
	c->n_ops++;
}

/*
 * PostgreSQL's own name for an unnamed constraint: t_a_b_fkey; NULL when
 * PostgreSQL would shorten it (longer than a name may be).
 */
static char *
default_constraint_name(const char *table, const StrList *cols, const char *suffix)
{
	char	   *schema,
			   *rel;
	Buf			b;

	split_qualified(table, &schema, &rel);
	buf_init(&b);
	buf_puts(&b, rel);
	for (size_t i = 0; i < cols->n; i++)
		buf_printf(&b, "_%s", cols->items[i]);
	buf_printf(&b, "_%s", suffix);
	free(schema);
	free(rel);
	if (b.len > SPEC_MAX_IDENT_BYTES)
	{
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/*
 * One element of an index as create_index's columns[] item: a plain
 * column as its name, a column with more to it as the mapping form (which
 * names any column), an expression as written (text: the element's own).
 */
static bool
yaml_index_elem(Buf *b, const PgQuery__IndexElem *e, const char *text)
{
	bool		more = e->ordering != PG_QUERY__SORT_BY_DIR__SORTBY_DEFAULT ||
		e->nulls_ordering != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT ||
		e->n_opclass > 0 || e->n_collation > 0;
	char	   *opclass = NULL,
			   *collate = NULL;

	if (e->n_opclassopts > 0 || e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_USING ||
		(e->n_opclass > 0 && (opclass = qualified_of(e->opclass, e->n_opclass)) == NULL) ||
		(e->n_collation > 0 && (collate = qualified_of(e->collation, e->n_collation)) == NULL))
	{
		free(opclass);
		return false;
	}
	if (nz(e->name) == NULL)
	{
		/* an expression: the loader reads the element as PostgreSQL writes it */
		yaml_str(b, text);
		free(opclass);
		free(collate);
		return true;
	}
	if (!more && strspn(e->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(e->name))
	{
		yaml_str(b, e->name);
		return true;
	}
	buf_puts(b, "{column: ");
	yaml_str(b, e->name);
	if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DESC)
		buf_puts(b, ", order: desc");
	else if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_ASC)
		buf_puts(b, ", order: asc");
	if (e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST)
		buf_puts(b, ", nulls: first");
	else if (e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST)
		buf_puts(b, ", nulls: last");
	if (opclass)
		buf_puts(b, ", opclass: "), yaml_str(b, opclass);
	if (collate)
		buf_puts(b, ", collate: "), yaml_str(b, collate);
	buf_putc(b, '}');
	free(opclass);
	free(collate);
	return true;
}

#define MAX_ELEMS 64

/*
 * An exclusion constraint's elements and WHERE: each "column WITH op" or
 * "(expression) WITH op", from the list after token from.
 */
static bool
exclude_fields(Conv *c, const PgQuery__Constraint *k, size_t from, int indent)
{
	size_t		firsts[MAX_ELEMS],
				lasts[MAX_ELEMS];
	long		open = tok_find(c, from, PG_QUERY__TOKEN__ASCII_40);
	long		n = tok_elements(c, open, firsts, lasts, MAX_ELEMS);
	Buf		   *b = &c->ops;
	bool		ok = n == (long) k->n_exclusions && k->n_including == 0 && k->n_options == 0 &&
		nz(k->indexspace) == NULL;

	if (!ok)
		return false;
	buf_printf(b, "%*sexclude:\n", indent, "");
	if (nz(k->access_method) && strcmp(k->access_method, "gist") != 0)
		yaml_key(b, indent + 2, "using", k->access_method);
	buf_printf(b, "%*selements:\n", indent + 2, "");
	for (size_t i = 0; ok && i < k->n_exclusions; i++)
	{
		const PgQuery__Node *pair = k->exclusions[i];
		const PgQuery__IndexElem *e;
		const PgQuery__List *ops;
		long		with;

		ok = pair->node_case == PG_QUERY__NODE__NODE_LIST && pair->list->n_items == 2 &&
			pair->list->items[0]->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM &&
			pair->list->items[1]->node_case == PG_QUERY__NODE__NODE_LIST;
		if (!ok)
			break;
		e = pair->list->items[0]->index_elem;
		ops = pair->list->items[1]->list;
		ok = ops->n_items == 1 && sval(ops->items[0]) && e->n_opclass == 0 &&
			e->n_collation == 0 && e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DEFAULT &&
			e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT;
		if (!ok)
			break;
		if (nz(e->name))
			yaml_first_key(b, indent + 6, true, "column", e->name);
		else
		{
			/* "(expr)" or "f(x)" before WITH: the expression inside its parentheses */
			with = tok_find(c, firsts[i], PG_QUERY__TOKEN__WITH);
			ok = with > (long) firsts[i] && with <= (long) lasts[i];
			if (!ok)
				break;
			{
				char	   *text = tok_text(c, firsts[i], (size_t) with - 1);
				char	   *inner = tok(c, firsts[i]) == PG_QUERY__TOKEN__ASCII_40 &&
					tok_close(c, firsts[i]) == with - 1 ? group_text(c, (long) firsts[i]) : NULL;

				yaml_first_key(b, indent + 6, true, "expression", inner ? inner : text);
				free(inner);
				free(text);
			}
		}
		yaml_key(b, indent + 6, "operator", sval(ops->items[0]));
	}
	if (ok && k->where_clause)
	{
		long		where = tok_find(c, (size_t) tok_close(c, (size_t) open) + 1,
									 PG_QUERY__TOKEN__WHERE);
		char	   *pred = where >= 0 ? group_text(c, where + 1) : NULL;

		ok = pred != NULL;
		if (ok)
			yaml_key(b, indent + 2, "where", pred);
		free(pred);
	}
	return ok;
}

/* One table constraint as an add_constraint body (or create_table entry). */
static bool
constraint_fields(Conv *c, const char *table, const PgQuery__Constraint *k, int indent,
				  bool named_list)
{
	StrList		cols = {0},
				refcols = {0},
				include = {0};
	char	   *name = NULL;
	char	   *check = NULL;
	const char *suffix;
	bool		ok = true;
	Buf		   *b = &c->ops;

	switch (k->contype)
	{
		case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
			suffix = "check";
			check = paren_text(c->sql, k->location);
			ok = check != NULL;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
			suffix = "fkey";
			ok = names_of(k->fk_attrs, k->n_fk_attrs, &cols) &&
				names_of(k->pk_attrs, k->n_pk_attrs, &refcols) && k->pktable && refcols.n > 0 &&
				refcols.n == cols.n && k->n_fk_del_set_cols == 0 &&
				(nz(k->fk_matchtype) == NULL || k->fk_matchtype[0] == 's');
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
		case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
			suffix = k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ? "key" : "pkey";
			ok = names_of(k->keys, k->n_keys, &cols) && !(nz(k->indexname)) &&
				names_of(k->including, k->n_including, &include) && k->where_clause == NULL &&
				k->n_options == 0 && nz(k->indexspace) == NULL && !k->nulls_not_distinct;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
			suffix = "excl";
			for (size_t i = 0; ok && i < k->n_exclusions; i++)
			{
				const PgQuery__Node *pair = k->exclusions[i];
				const PgQuery__IndexElem *e = pair->node_case == PG_QUERY__NODE__NODE_LIST &&
					pair->list->n_items > 0 &&
					pair->list->items[0]->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM
					? pair->list->items[0]->index_elem : NULL;

				/* PostgreSQL's name for it follows the columns; an expression's is its own */
				ok = e && (nz(k->conname) || nz(e->name));
				if (ok && nz(e->name))
					strlist_add(&cols, e->name);
			}
			break;
		default:
			ok = false;
			suffix = "";
			break;
	}
	if (ok && (k->deferrable || k->initdeferred))
		ok = false;
	if (ok && k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_CHECK && nz(k->conname) == NULL)
		ok = false;				/* PostgreSQL names it from the expression */
	if (ok)
	{
		const char *dot = strrchr(table, '.');

		if (nz(k->conname))
			name = xstrdup(nz(k->conname));
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
		{
			StrList		none = {0};

			name = default_constraint_name(dot ? dot + 1 : table, &none, "pkey");
		}
		else
			name = default_constraint_name(table, &cols, suffix);
		ok = name != NULL;
	}
	if (ok)
	{
		yaml_first_key(b, indent, named_list, "name", name);
		switch (k->contype)
		{
			case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
				yaml_key(b, indent, "check", check);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
				{
					char	   *ref = relation_name(k->pktable);

					buf_printf(b, "%*sforeign_key:\n", indent, "");
					yaml_list(b, indent + 2, "columns", &cols);
					buf_printf(b, "%*sreferences:\n", indent + 2, "");
					yaml_key(b, indent + 4, "table", ref);
					yaml_list(b, indent + 4, "columns", &refcols);
					if (fk_action(nz(k->fk_del_action)))
						yaml_key(b, indent + 2, "on_delete", fk_action(nz(k->fk_del_action)));
					if (fk_action(nz(k->fk_upd_action)))
						yaml_key(b, indent + 2, "on_update", fk_action(nz(k->fk_upd_action)));
					free(ref);
					break;
				}
			case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
			case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
				yaml_list(b, indent, k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE
						  ? "unique" : "primary_key", &cols);
				if (include.n > 0)
					yaml_list(b, indent, "include", &include);
				break;
			default:
				ok = exclude_fields(c, k, tok_at(c, k->location), indent);
				break;
		}
	}
	free(name);
	free(check);
	strlist_free(&cols);
	strlist_free(&refcols);
	strlist_free(&include);
	return ok;
}

/*
 * A column definition as the fields of a column map, at indent.  False
 * when the column has something a column map cannot say.  A named PRIMARY
 * KEY or UNIQUE of the column goes to keys (create_table's constraints;
 * NULL: it cannot be said).
 */
static bool
column_fields(Conv *c, const char *table, const PgQuery__ColumnDef *cd, int indent,
			  bool list_item, Buf *keys)
{
	char	   *type = type_text(cd->type_name);
	char	   *def = NULL;
	char	   *check = NULL;
	const char *check_name = NULL;
	bool		not_null = cd->is_not_null,
				pk = false,
				unique = false;
	const PgQuery__Constraint *ref = NULL;
	Buf			b;
	bool		ok = type != NULL && cd->raw_default == NULL && cd->coll_clause == NULL &&
		nz(cd->compression) == NULL && nz(cd->storage) == NULL;

	buf_init(&b);
	for (size_t i = 0; ok && i < cd->n_constraints; i++)
	{
		const PgQuery__Constraint *k;

		if (cd->constraints[i]->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
		{
			ok = false;
			break;
		}
		k = cd->constraints[i]->constraint;
		if (k->deferrable || k->initdeferred)
			ok = false;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL)
			ok = !nz(k->conname), not_null = true;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NULL)
			;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT)
			ok = (def = default_text(k->raw_expr)) != NULL;
		else if ((k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY ||
				  k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE) && nz(k->conname))
		{
			/* a named key: create_table's constraints say it */
			ok = keys && k->n_including == 0 && k->n_options == 0 && nz(k->indexspace) == NULL &&
				!k->nulls_not_distinct;
			if (ok)
			{
				StrList		one = {0};

				strlist_add(&one, cd->colname);
				yaml_first_key(keys, 10, true, "name", k->conname);
				yaml_list(keys, 10, k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY
						  ? "primary_key" : "unique", &one);
				strlist_free(&one);
			}
			not_null = not_null || k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY;
		}
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
			pk = k->n_including == 0 && k->n_options == 0, ok = pk;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE)
			unique = true, ok = k->n_options == 0 && !k->nulls_not_distinct;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_CHECK && check == NULL &&
				 !k->is_no_inherit && !k->skip_validation)
		{
			check = paren_text(c->sql, k->location);
			check_name = nz(k->conname);
			ok = check != NULL;
		}
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN && k->pktable &&
				 k->n_pk_attrs <= 1 && ref == NULL && !k->skip_validation &&
				 (nz(k->fk_upd_action) == NULL || *k->fk_upd_action == 'a') &&
				 (nz(k->fk_matchtype) == NULL || k->fk_matchtype[0] == 's'))
			ref = k;
		else
			ok = false;
	}
	(void) table;
	if (ok)
	{
		yaml_first_key(&b, indent, list_item, "name", cd->colname);
		yaml_key(&b, indent, "type", type);
		if (not_null && !pk)
			buf_printf(&b, "%*snullable: false\n", indent, "");
		if (def)
			yaml_key(&b, indent, "default", def);
		if (pk)
			buf_printf(&b, "%*sprimary_key: true\n", indent, "");
		if (unique)
			buf_printf(&b, "%*sunique: true\n", indent, "");
		if (check && check_name)
		{
			buf_printf(&b, "%*scheck:\n", indent, "");
			yaml_key(&b, indent + 2, "name", check_name);
			yaml_key(&b, indent + 2, "expr", check);
		}
		else if (check)
			yaml_key(&b, indent, "check", check);
		if (ref)
		{
			char	   *rt = relation_name(ref->pktable);

			buf_printf(&b, "%*sreferences:\n", indent, "");
			yaml_key(&b, indent + 2, "table", rt);
			if (ref->n_pk_attrs == 1)
				yaml_key(&b, indent + 2, "column", sval(ref->pk_attrs[0]));
			if (fk_action(nz(ref->fk_del_action)))
				yaml_key(&b, indent + 2, "on_delete", fk_action(nz(ref->fk_del_action)));
			if (nz(ref->conname))
				yaml_key(&b, indent + 2, "name", ref->conname);
			free(rt);
		}
		buf_puts(&c->ops, b.data ? b.data : "");
	}
	buf_free(&b);
	free(type);
	free(def);
	free(check);
	return ok;
}

/* ---- partitions ---- */

/* One value of a partition bound as the file writes it; NULL: not a constant. */
static char *
bound_value(const PgQuery__Node *n)
{
	const PgQuery__AConst *k;

	if (n && n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1)
	{
		const char *w = sval(n->column_ref->fields[0]);

		if (w && strcmp(w, "minvalue") == 0)
			return xstrdup("MINVALUE");
		if (w && strcmp(w, "maxvalue") == 0)
			return xstrdup("MAXVALUE");
		return NULL;
	}
	if (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST)
		n = n->type_cast->arg;	/* '2026-01-01'::date: the literal */
	if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull)
		return NULL;
	k = n->a_const;
	switch (k->val_case)
	{
		case PG_QUERY__A__CONST__VAL_IVAL:
			return xasprintf("%d", k->ival->ival);
		case PG_QUERY__A__CONST__VAL_FVAL:
			return xstrdup(k->fval->fval);
		case PG_QUERY__A__CONST__VAL_BOOLVAL:
			return xstrdup(k->boolval->boolval ? "true" : "false");
		case PG_QUERY__A__CONST__VAL_SVAL:
			/* a string that reads as a keyword would be taken for it */
			if (strcasecmp(k->sval->sval, "minvalue") == 0 ||
				strcasecmp(k->sval->sval, "maxvalue") == 0)
				return NULL;
			return xstrdup(k->sval->sval);
		default:
			return NULL;
	}
}

static bool
bound_values(PgQuery__Node **nodes, size_t n, StrList *out, bool *has_null)
{
	for (size_t i = 0; i < n; i++)
	{
		char	   *v;

		if (has_null && nodes[i]->node_case == PG_QUERY__NODE__NODE_A_CONST &&
			nodes[i]->a_const->isnull)
		{
			*has_null = true;
			continue;
		}
		if ((v = bound_value(nodes[i])) == NULL)
			return false;
		strlist_push(out, v);
	}
	return true;
}

/* FOR VALUES ... as a PartitionBound; false: something the format cannot say. */
static bool
bound_of(const PgQuery__PartitionBoundSpec *s, PartitionBound *out)
{
	memset(out, 0, sizeof *out);
	if (s == NULL)
		return false;
	if (s->is_default)
		return out->is_default = true;
	switch (s->strategy[0])
	{
		case 'r':
			return bound_values(s->lowerdatums, s->n_lowerdatums, &out->from, NULL) &&
				bound_values(s->upperdatums, s->n_upperdatums, &out->to, NULL) &&
				out->from.n > 0 && out->from.n == out->to.n;
		case 'l':
			return bound_values(s->listdatums, s->n_listdatums, &out->in, &out->in_null) &&
				(out->in.n > 0 || out->in_null);
		case 'h':
			out->modulus = s->modulus;
			out->remainder = s->remainder;
			return s->modulus > 0;
		default:
			return false;
	}
}

static void
yaml_bound_values(Buf *b, const StrList *l)
{
	if (l->n == 1)
		yaml_str(b, l->items[0]);
	else
		yaml_flow_list(b, l);
}

/* values: as attach_partition and partitions[] take it. */
static void
yaml_bound(Buf *b, int indent, const PartitionBound *p)
{
	buf_printf(b, "%*svalues: ", indent, "");
	if (p->is_default)
		buf_puts(b, "default");
	else if (p->modulus > 0)
		buf_printf(b, "{modulus: %lld, remainder: %lld}", (long long) p->modulus,
				   (long long) p->remainder);
	else if (p->from.n > 0)
	{
		buf_puts(b, "{from: ");
		yaml_bound_values(b, &p->from);
		buf_puts(b, ", to: ");
		yaml_bound_values(b, &p->to);
		buf_putc(b, '}');
	}
	else
	{
		buf_putc(b, '[');
		for (size_t i = 0; i < p->in.n; i++)
		{
			buf_puts(b, i ? ", " : "");
			yaml_str(b, p->in.items[i]);
		}
		if (p->in_null)
			buf_puts(b, p->in.n ? ", null" : "null");
		buf_putc(b, ']');
	}
	buf_putc(b, '\n');
}

/* PARTITION BY RANGE|LIST|HASH (columns) as partition_by; false: an expression key or such. */
static bool
partition_by_fields(Conv *c, const PgQuery__PartitionSpec *ps, PartitionMethod *method,
					StrList *key)
{
	const char *strategy = nz(ps->strategy);

	if (strategy == NULL)
		return false;
	*method = strcmp(strategy, "range") == 0 ? PARTITION_RANGE
		: strcmp(strategy, "list") == 0 ? PARTITION_LIST
		: strcmp(strategy, "hash") == 0 ? PARTITION_HASH : PARTITION_NONE;
	if (*method == PARTITION_NONE || ps->n_part_params == 0)
		return false;
	for (size_t i = 0; i < ps->n_part_params; i++)
	{
		const PgQuery__Node *n = ps->part_params[i];
		const PgQuery__PartitionElem *e = n->node_case == PG_QUERY__NODE__NODE_PARTITION_ELEM
			? n->partition_elem : NULL;

		if (e == NULL || nz(e->name) == NULL || e->expr || e->n_collation || e->n_opclass)
			return false;
		strlist_add(key, e->name);
	}
	buf_printf(&c->ops, "      partition_by: {%s: ", partition_method_name(*method));
	yaml_flow_list(&c->ops, key);
	buf_puts(&c->ops, "}\n");
	return true;
}

static bool
same_bound(const PartitionBound *a, const PartitionBound *b)
{
	return a->is_default == b->is_default && a->modulus == b->modulus &&
		a->remainder == b->remainder && a->in_null == b->in_null &&
		strlist_equal(&a->from, &b->from) && strlist_equal(&a->to, &b->to) &&
		strlist_equal(&a->in, &b->in);
}

/* Whether p generates exactly the held partitions, names and bounds. */
static bool
generates_held(const Held *h, const Partitioning *p)
{
	GeneratedPartitions gp = {0};
	Error		err = {0};
	bool		same;

	if (!partition_generate(h->name, p, &gp, &err))
	{
		error_clear(&err);
		return false;
	}
	same = gp.n == h->n_parts;
	for (size_t i = 0; same && i < gp.n; i++)
	{
		bool		found = false;

		for (size_t k = 0; !found && k < h->n_parts; k++)
			found = strcmp(gp.items[i].name, h->parts[k].name) == 0 &&
				same_bound(&gp.items[i].bound, &h->parts[k].bound);
		same = found;
	}
	generated_partitions_free(&gp);
	return same;
}

/*
 * The held partitions as the generated form (every, from, to, default;
 * modulus) when that makes exactly them; false otherwise.
 */
static bool
yaml_generated_partitions(Buf *b, const Held *h)
{
	Partitioning p = {0};
	const char *from = NULL,
			   *to = NULL;
	bool		with_default = false;

	p.method = h->method;
	p.columns = h->key;
	for (size_t i = 0; i < h->n_parts; i++)
	{
		const PartitionBound *pb = &h->parts[i].bound;

		with_default = with_default || pb->is_default;
		if (h->method == PARTITION_RANGE && !pb->is_default)
		{
			CivilDate	d;

			if (pb->from.n != 1 || !partition_parse_date(pb->from.items[0], &d) ||
				!partition_parse_date(pb->to.items[0], &d))
				return false;
			if (from == NULL || strcmp(pb->from.items[0], from) < 0)
				from = pb->from.items[0];
			if (to == NULL || strcmp(pb->to.items[0], to) > 0)
				to = pb->to.items[0];
		}
	}
	if (h->method == PARTITION_HASH && h->n_parts > 0)
	{
		p.modulus = h->parts[0].bound.modulus;
		if (generates_held(h, &p))
		{
			buf_printf(b, "      partitions: {modulus: %lld}\n", (long long) p.modulus);
			return true;
		}
		return false;
	}
	if (h->method != PARTITION_RANGE || h->key.n != 1 || from == NULL)
		return false;
	p.from = (char *) from;
	p.to = (char *) to;
	p.with_default = with_default;
	for (PartitionInterval iv = INTERVAL_DAY; iv <= INTERVAL_YEAR; iv++)
	{
		p.every = iv;
		if (generates_held(h, &p))
		{
			buf_printf(b, "      partitions: {every: \"%s\", from: \"%s\", to: \"%s\"%s}\n",
					   partition_interval_name(iv), from, to, with_default ? ", default: true" : "");
			return true;
		}
	}
	return false;
}

/* ---- CREATE TABLE ---- */

static bool
conv_create_table(Conv *c, const PgQuery__CreateStmt *cs)
{
	char	   *table;
	size_t		mark = c->ops.len;
	bool		ok = true;
	bool		any_constraint = false;
	Buf			keys;
	PartitionMethod method = PARTITION_NONE;
	StrList		key = {0};

	if (cs->n_inh_relations || cs->partbound || cs->of_typename ||
		cs->n_options || nz(cs->tablespacename) || nz(cs->access_method) || cs->if_not_exists ||
		!plain_relation(cs->relation) || cs->n_constraints ||
		(cs->oncommit != PG_QUERY__ON_COMMIT_ACTION__ONCOMMIT_NOOP &&
		 cs->oncommit != PG_QUERY__ON_COMMIT_ACTION__ON_COMMIT_ACTION_UNDEFINED))
		return false;
	table = relation_name(cs->relation);
	buf_init(&keys);
	op_begin(c, "create_table");
	yaml_key(&c->ops, 6, "name", table);
	buf_puts(&c->ops, "      columns:\n");
	for (size_t i = 0; ok && i < cs->n_table_elts; i++)
		if (cs->table_elts[i]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
			ok = column_fields(c, table, cs->table_elts[i]->column_def, 10, true, &keys);
	if (keys.len > 0)
	{
		buf_puts(&c->ops, "      constraints:\n");
		buf_puts(&c->ops, keys.data);
		any_constraint = true;
	}
	for (size_t i = 0; ok && i < cs->n_table_elts; i++)
	{
		const PgQuery__Node *e = cs->table_elts[i];

		if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
			continue;
		if (e->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
			ok = false;
		else if (e->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY &&
				 nz(e->constraint->conname) == NULL && e->constraint->n_including == 0 &&
				 e->constraint->n_options == 0 && nz(e->constraint->indexspace) == NULL &&
				 !e->constraint->deferrable)
		{
			StrList		pk = {0};

			ok = names_of(e->constraint->keys, e->constraint->n_keys, &pk);
			if (ok)
				yaml_list(&c->ops, 6, "primary_key", &pk);
			strlist_free(&pk);
		}
		else
		{
			if (!any_constraint)
				buf_puts(&c->ops, "      constraints:\n");
			any_constraint = true;
			ok = constraint_fields(c, table, e->constraint, 10, true);
		}
	}
	if (ok && cs->partspec)
	{
		ok = partition_by_fields(c, cs->partspec, &method, &key);
		if (ok)
		{
			/* its partitions, if they follow, fold into it */
			c->hold = true;
			c->held.kind = HELD_PARTITIONED;
			c->held.name = xstrdup(table);
			c->held.method = method;
			c->held.key = key;
			key = (StrList) {0};
		}
	}
	strlist_free(&key);
	buf_free(&keys);
	free(table);
	if (!ok)
	{
		c->ops.len = mark;
		c->ops.data[mark] = '\0';
		c->n_ops--;
		c->hold = false;
	}
	return ok;
}

/*
 * CREATE TABLE child PARTITION OF parent FOR VALUES ... right after the
 * parent's create_table: one of its partitions.
 */
static bool
fold_partition(Conv *c, const PgQuery__CreateStmt *cs)
{
	char	   *parent;
	PartitionBound bound = {0};
	bool		ok;

	if (c->held.kind != HELD_PARTITIONED || cs->n_inh_relations != 1 || !cs->partbound ||
		cs->n_table_elts || cs->n_constraints || cs->n_options || cs->partspec ||
		cs->if_not_exists || nz(cs->tablespacename) || nz(cs->access_method) ||
		!plain_relation(cs->relation) ||
		cs->inh_relations[0]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
		return false;
	parent = relation_name(cs->inh_relations[0]->range_var);
	ok = strcmp(parent, c->held.name) == 0 && bound_of(cs->partbound, &bound);
	free(parent);
	if (!ok)
	{
		partition_bound_free(&bound);
		return false;
	}
	c->held.parts = xrealloc(c->held.parts, (c->held.n_parts + 1) * sizeof(PartitionDef));
	c->held.parts[c->held.n_parts] = (PartitionDef) {.name = relation_name(cs->relation),
	.bound = bound};
	c->held.n_parts++;
	return true;
}

/* ---- ALTER TABLE ---- */

/* One command of ALTER TABLE; next is the one after it (ENABLE, FORCE). */
static bool
conv_alter_cmd(Conv *c, const char *table, const PgQuery__AlterTableCmd *cmd,
			   const PgQuery__AlterTableCmd *next)
{
	const PgQuery__Node *def = cmd->def;

	switch (cmd->subtype)
	{
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
			if (def == NULL || def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF ||
				cmd->missing_ok)
				return false;
			op_begin(c, "add_column");
			yaml_key(&c->ops, 6, "table", table);
			buf_puts(&c->ops, "      column:\n");
			return column_fields(c, table, def->column_def, 8, false, NULL);
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
			if (def == NULL || def->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
				return false;
			op_begin(c, "add_constraint");
			yaml_key(&c->ops, 6, "table", table);
			return constraint_fields(c, table, def->constraint, 6, false);
		case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
			/* add_constraint validates, in its own transaction */
			buf_printf(&c->ops, "  # VALIDATE CONSTRAINT %s: add_constraint does it\n", nz(cmd->name));
			return true;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull:
			op_begin(c, "alter_column");
			yaml_key(&c->ops, 6, "table", table);
			yaml_key(&c->ops, 6, "column", nz(cmd->name));
			buf_printf(&c->ops, "      nullable: %s\n",
					   cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull ? "false" : "true");
			return true;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_ColumnDefault:
			{
				char	   *d = def ? default_text(def) : NULL;

				if (def && d == NULL)
					return false;
				op_begin(c, "alter_column");
				yaml_key(&c->ops, 6, "table", table);
				yaml_key(&c->ops, 6, "column", nz(cmd->name));
				if (d)
					yaml_key(&c->ops, 6, "default", d);
				else
					buf_puts(&c->ops, "      default: null\n");
				free(d);
				return true;
			}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType:
			{
				const PgQuery__ColumnDef *cd = def && def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF
					? def->column_def : NULL;
				char	   *type = cd && cd->raw_default == NULL && cd->coll_clause == NULL
					? type_text(cd->type_name) : NULL;

				if (type == NULL)
					return false;
				op_begin(c, "alter_column");
				yaml_key(&c->ops, 6, "table", table);
				yaml_key(&c->ops, 6, "column", nz(cmd->name));
				yaml_key(&c->ops, 6, "type", type);
				free(type);
				return true;
			}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
			if (cmd->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE || cmd->missing_ok)
				return false;
			op_begin(c, "drop_column");
			yaml_key(&c->ops, 6, "table", table);
			yaml_key(&c->ops, 6, "column", nz(cmd->name));
			return true;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableRowSecurity:
			/* ENABLE then FORCE: enable_rls with force */
			op_begin(c, "enable_rls");
			yaml_key(&c->ops, 6, "table", table);
			if (next && next->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ForceRowSecurity)
				buf_puts(&c->ops, "      force: true\n");
			return true;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableRowSecurity:
			op_begin(c, "disable_rls");
			yaml_key(&c->ops, 6, "table", table);
			if (next && next->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_NoForceRowSecurity)
				buf_puts(&c->ops, "      force: true\n");
			return true;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_ReplicaIdentity:
			{
				const PgQuery__ReplicaIdentityStmt *ri =
					def && def->node_case == PG_QUERY__NODE__NODE_REPLICA_IDENTITY_STMT
					? def->replica_identity_stmt : NULL;
				const char *kind = ri == NULL ? NULL : ri->identity_type[0] == 'd' ? "default"
					: ri->identity_type[0] == 'f' ? "full"
					: ri->identity_type[0] == 'n' ? "nothing"
					: ri->identity_type[0] == 'i' ? "index" : NULL;

				if (kind == NULL || (ri->identity_type[0] == 'i' && nz(ri->name) == NULL))
					return false;
				op_begin(c, "set_replica_identity");
				yaml_key(&c->ops, 6, "table", table);
				if (ri->identity_type[0] == 'i')
				{
					buf_puts(&c->ops, "      identity: {index: ");
					yaml_str(&c->ops, ri->name);
					buf_puts(&c->ops, "}\n");
				}
				else
					buf_printf(&c->ops, "      identity: %s\n", kind);
				return true;
			}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
			{
				const PgQuery__PartitionCmd *pc =
					def && def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD
					? def->partition_cmd : NULL;
				PartitionBound bound = {0};
				char	   *part;

				if (pc == NULL || !plain_relation(pc->name) || !bound_of(pc->bound, &bound))
				{
					partition_bound_free(&bound);
					return false;
				}
				part = relation_name(pc->name);
				op_begin(c, "attach_partition");
				yaml_key(&c->ops, 6, "table", table);
				yaml_key(&c->ops, 6, "partition", part);
				yaml_bound(&c->ops, 6, &bound);
				partition_bound_free(&bound);
				free(part);
				return true;
			}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
			{
				const PgQuery__PartitionCmd *pc =
					def && def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD
					? def->partition_cmd : NULL;
				char	   *part;

				if (pc == NULL || !plain_relation(pc->name))
					return false;
				part = relation_name(pc->name);
				op_begin(c, "detach_partition");
				yaml_key(&c->ops, 6, "table", table);
				yaml_key(&c->ops, 6, "partition", part);
				free(part);
				return true;
			}
		default:
			return false;
	}
}

static bool
conv_alter_table(Conv *c, const PgQuery__AlterTableStmt *at)
{
	char	   *table;
	bool		ok = at->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
		plain_relation(at->relation) && !at->missing_ok;
	size_t		mark = c->ops.len;
	int			n_ops = c->n_ops;

	if (!ok)
		return false;
	table = relation_name(at->relation);
	for (size_t i = 0; ok && i < at->n_cmds; i++)
	{
		const PgQuery__AlterTableCmd *cmd = at->cmds[i]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD
			? at->cmds[i]->alter_table_cmd : NULL;
		const PgQuery__AlterTableCmd *next = i + 1 < at->n_cmds &&
			at->cmds[i + 1]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD
			? at->cmds[i + 1]->alter_table_cmd : NULL;

		ok = cmd && conv_alter_cmd(c, table, cmd, next);
		/* ENABLE, FORCE: one enable_rls with force (and DISABLE, NO FORCE) */
		if (ok && next &&
			((cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_EnableRowSecurity &&
			  next->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ForceRowSecurity) ||
			 (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DisableRowSecurity &&
			  next->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_NoForceRowSecurity)))
			i++;
	}
	if (ok && at->n_cmds == 1 && at->cmds[0]->alter_table_cmd->subtype ==
		PG_QUERY__ALTER_TABLE_TYPE__AT_EnableRowSecurity)
	{
		/* a FORCE ROW LEVEL SECURITY may follow */
		c->hold = true;
		c->held.kind = HELD_RLS;
		c->held.name = xstrdup(table);
	}
	free(table);
	if (!ok)
	{
		c->ops.len = mark;
		c->ops.data[mark] = '\0';
		c->n_ops = n_ops;
	}
	return ok;
}

/* ALTER TABLE t FORCE ROW LEVEL SECURITY right after its ENABLE: enable_rls with force. */
static bool
fold_force_rls(Conv *c, const PgQuery__AlterTableStmt *at)
{
	char	   *table;
	bool		ok;

	if (c->held.kind != HELD_RLS || at->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
		!plain_relation(at->relation) || at->missing_ok || at->n_cmds != 1 ||
		at->cmds[0]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD ||
		at->cmds[0]->alter_table_cmd->subtype != PG_QUERY__ALTER_TABLE_TYPE__AT_ForceRowSecurity)
		return false;
	table = relation_name(at->relation);
	ok = strcmp(table, c->held.name) == 0;
	free(table);
	if (ok)
		c->held.force = true;
	return ok;
}

/* ---- indexes ---- */

/* with: {parameter: value} from a list of DefElem; false: one the loader would refuse. */
static bool
yaml_storage_params(Buf *b, int indent, PgQuery__Node **opts, size_t n)
{
	if (n == 0)
		return true;
	buf_printf(b, "%*swith: {", indent, "");
	for (size_t i = 0; i < n; i++)
	{
		const PgQuery__DefElem *d = opts[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM
			? opts[i]->def_elem : NULL;
		const PgQuery__Node *a = d ? d->arg : NULL;
		char	   *value = NULL;

		if (d == NULL || nz(d->defnamespace) || nz(d->defname) == NULL || a == NULL ||
			strspn(d->defname, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(d->defname))
			return false;
		if (a->node_case == PG_QUERY__NODE__NODE_INTEGER)
			value = xasprintf("%d", a->integer->ival);
		else if (a->node_case == PG_QUERY__NODE__NODE_FLOAT)
			value = xstrdup(a->float_->fval);
		else if (option_word(d))
			value = xstrdup(option_word(d));
		else if (a->node_case == PG_QUERY__NODE__NODE_BOOLEAN)
			value = xstrdup(a->boolean->boolval ? "true" : "false");
		else
			return false;
		buf_printf(b, "%s%s: ", i ? ", " : "", d->defname);
		yaml_str(b, value);
		free(value);
	}
	buf_puts(b, "}\n");
	return true;
}

/*
 * PostgreSQL's name for an index given none: the table's, its columns'
 * (INCLUDE too), "idx"; NULL when it would shorten or number it, or an
 * element is an expression.
 */
static char *
default_index_name(const PgQuery__IndexStmt *is, const char *table)
{
	StrList		cols = {0};
	char	   *name;
	bool		ok = true;

	for (size_t i = 0; ok && i < is->n_index_params + is->n_index_including_params; i++)
	{
		const PgQuery__Node *p = i < is->n_index_params ? is->index_params[i]
			: is->index_including_params[i - is->n_index_params];
		const char *col = p->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM
			? nz(p->index_elem->name) : NULL;

		ok = col && !strlist_contains(&cols, col);
		if (ok)
			strlist_add(&cols, col);
	}
	name = ok ? default_constraint_name(table, &cols, "idx") : NULL;
	strlist_free(&cols);
	return name;
}

/*
 * CREATE [UNIQUE] INDEX [name] ON t (elements) INCLUDE WITH WHERE as the
 * fields of create_index (table: with_table) at indent; false for what it
 * cannot say (a tablespace, IF NOT EXISTS, no name PostgreSQL's own can be
 * told for).
 */
static bool
index_fields(Conv *c, const PgQuery__IndexStmt *is, bool with_table, bool list_item, int indent)
{
	size_t		firsts[MAX_ELEMS],
				lasts[MAX_ELEMS];
	StrList		include = {0};
	char	   *table = relation_name(is->relation);
	char	   *name = nz(is->idxname) ? xstrdup(is->idxname) : default_index_name(is, table);
	bool		ok = name && nz(is->table_space) == NULL && !is->if_not_exists &&
		plain_relation(is->relation) && is->n_index_params > 0 && !has_comment(c);
	long		on = ok ? tok_find(c, 0, PG_QUERY__TOKEN__ON) : -1;
	long		open = on >= 0 ? tok_find(c, (size_t) on, PG_QUERY__TOKEN__ASCII_40) : -1;
	long		n = tok_elements(c, open, firsts, lasts, MAX_ELEMS);
	char	   *where = NULL;
	Buf			b;

	ok = ok && n == (long) is->n_index_params;
	for (size_t i = 0; ok && i < is->n_index_including_params; i++)
	{
		const PgQuery__Node *e = is->index_including_params[i];

		ok = e->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM && nz(e->index_elem->name);
		if (ok)
			strlist_add(&include, e->index_elem->name);
	}
	if (ok && is->where_clause)
		ok = (where = text_after(c, (size_t) tok_close(c, (size_t) open) + 1,
								 PG_QUERY__TOKEN__WHERE)) != NULL;
	buf_init(&b);
	if (ok)
	{
		if (with_table)
		{
			yaml_first_key(&b, indent, list_item, "table", table);
			yaml_key(&b, indent, "name", name);
		}
		else
			yaml_first_key(&b, indent, list_item, "name", name);
		buf_printf(&b, "%*scolumns: [", indent, "");
		for (size_t i = 0; ok && i < is->n_index_params; i++)
		{
			const PgQuery__Node *p = is->index_params[i];
			char	   *text = tok_text(c, firsts[i], lasts[i]);

			buf_puts(&b, i > 0 ? ", " : "");
			ok = p->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM &&
				yaml_index_elem(&b, p->index_elem, text);
			free(text);
		}
		buf_puts(&b, "]\n");
	}
	if (ok)
	{
		if (is->unique)
			buf_printf(&b, "%*sunique: true\n", indent, "");
		if (is->nulls_not_distinct)
			buf_printf(&b, "%*snulls_not_distinct: true\n", indent, "");
		if (nz(is->access_method) && strcmp(nz(is->access_method), "btree") != 0)
			yaml_key(&b, indent, "method", nz(is->access_method));
		if (include.n > 0)
			yaml_list(&b, indent, "include", &include);
		if (where)
			yaml_key(&b, indent, "where", where);
		ok = yaml_storage_params(&b, indent, is->options, is->n_options);
	}
	if (ok)
		buf_puts(&c->ops, b.data);
	buf_free(&b);
	free(name);
	free(table);
	free(where);
	strlist_free(&include);
	return ok;
}

static bool
conv_index(Conv *c, const PgQuery__IndexStmt *is)
{
	size_t		mark = c->ops.len;

	op_begin(c, "create_index");
	if (index_fields(c, is, true, false, 6))
		return true;
	c->ops.len = mark;
	c->ops.data[mark] = '\0';
	c->n_ops--;
	return false;
}

/* CREATE INDEX on the materialized view just made: one of its indexes[]. */
static bool
fold_matview_index(Conv *c, const PgQuery__IndexStmt *is)
{
	char	   *on;
	bool		ok;
	Buf			saved;

	if (c->held.kind != HELD_MATVIEW || !plain_relation(is->relation))
		return false;
	on = relation_name(is->relation);
	ok = strcmp(on, c->held.name) == 0;
	free(on);
	if (!ok)
		return false;
	saved = c->ops;
	buf_init(&c->ops);
	ok = index_fields(c, is, false, true, 10);
	if (ok)
	{
		buf_puts(&c->held.list, c->ops.data);
		c->held.n_list++;
		c->held.unique_index = c->held.unique_index || (is->unique && !is->where_clause);
	}
	buf_free(&c->ops);
	c->ops = saved;
	return ok;
}

/* ---- views and materialized views ---- */

/*
 * The query of CREATE VIEW ... AS query [WITH ... CHECK OPTION] or CREATE
 * MATERIALIZED VIEW ... AS query [WITH [NO] DATA]: the text from after the
 * first AS at depth 0 to before the trailing clause, which starts at the
 * WITH found trailing tokens before the end (none: 0).
 */
static char *
query_text(const Conv *c, size_t trailing)
{
	long		as = tok_find(c, 0, PG_QUERY__TOKEN__AS);
	size_t		n = n_tokens(c);

	if (n > 0 && tok(c, n - 1) == PG_QUERY__TOKEN__ASCII_59)
		n--;
	if (trailing > 0 && (n < trailing || tok(c, n - trailing) != PG_QUERY__TOKEN__WITH))
		return NULL;
	n -= trailing;
	if (as < 0 || (size_t) as + 1 >= n)
		return NULL;
	return tok_text(c, (size_t) as + 1, n - 1);
}

/* How many tokens WITH [NO] DATA (at the end) has; 0: none. */
static size_t
trailing_data(const Conv *c)
{
	size_t		n = n_tokens(c);

	if (n > 0 && tok(c, n - 1) == PG_QUERY__TOKEN__ASCII_59)
		n--;
	if (n < 3 || tok(c, n - 1) != PG_QUERY__TOKEN__DATA_P)
		return 0;
	if (tok(c, n - 2) == PG_QUERY__TOKEN__WITH)
		return 2;
	return tok(c, n - 2) == PG_QUERY__TOKEN__NO && tok(c, n - 3) == PG_QUERY__TOKEN__WITH ? 3 : 0;
}

/* A view's option as true / false; -1: not one. */
static int
option_bool(const PgQuery__DefElem *d)
{
	const PgQuery__Node *a = d->arg;
	const char *s = option_word(d);

	if (a == NULL)
		return 1;
	if (a->node_case == PG_QUERY__NODE__NODE_BOOLEAN)
		return a->boolean->boolval;
	if (a->node_case == PG_QUERY__NODE__NODE_INTEGER && (a->integer->ival == 0 || a->integer->ival == 1))
		return a->integer->ival;
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "on") == 0))
		return 1;
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "off") == 0))
		return 0;
	return -1;
}

static bool
conv_view(Conv *c, const PgQuery__ViewStmt *vs)
{
	char	   *name;
	char	   *query;
	int			invoker = -1;
	const char *check = vs->with_check_option == PG_QUERY__VIEW_CHECK_OPTION__LOCAL_CHECK_OPTION
		? "local" : vs->with_check_option == PG_QUERY__VIEW_CHECK_OPTION__CASCADED_CHECK_OPTION
		? "cascaded" : NULL;

	if (!plain_relation(vs->view) || vs->n_aliases || has_comment(c))
		return false;
	for (size_t i = 0; i < vs->n_options; i++)
	{
		const PgQuery__DefElem *d = vs->options[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM
			? vs->options[i]->def_elem : NULL;
		const char *s = d ? option_word(d) : NULL;

		if (d && strcmp(d->defname, "security_invoker") == 0 && option_bool(d) >= 0)
			invoker = option_bool(d);
		else if (d && strcmp(d->defname, "check_option") == 0 && s && check == NULL &&
				 (strcmp(s, "local") == 0 || strcmp(s, "cascaded") == 0))
			check = s;
		else
			return false;
	}
	/* WITH [LOCAL | CASCADED] CHECK OPTION: 3 or 4 tokens */
	if ((query = query_text(c, vs->with_check_option == PG_QUERY__VIEW_CHECK_OPTION__LOCAL_CHECK_OPTION ||
							vs->with_check_option == PG_QUERY__VIEW_CHECK_OPTION__CASCADED_CHECK_OPTION
							? (n_tokens(c) >= 4 && tok(c, n_tokens(c) - 4) == PG_QUERY__TOKEN__WITH ? 4 : 3)
							: 0)) == NULL)
		return false;
	name = relation_name(vs->view);
	op_begin(c, vs->replace ? "replace_view" : "create_view");
	yaml_key(&c->ops, 6, "name", name);
	yaml_key(&c->ops, 6, "query", query);
	if (invoker >= 0)
		buf_printf(&c->ops, "      security_invoker: %s\n", invoker ? "true" : "false");
	if (check)
		yaml_key(&c->ops, 6, "check_option", check);
	free(query);
	free(name);
	return true;
}

/* CREATE MATERIALIZED VIEW name AS query [WITH [NO] DATA]: held for its indexes. */
static bool
conv_create_as(Conv *c, const PgQuery__CreateTableAsStmt *cs)
{
	const PgQuery__IntoClause *into = cs->into;
	char	   *query;
	char	   *name;

	if (cs->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW || cs->if_not_exists ||
		into == NULL || !plain_relation(into->rel) || into->n_col_names || into->n_options ||
		nz(into->access_method) || nz(into->table_space_name) || has_comment(c))
		return false;
	if ((query = query_text(c, trailing_data(c))) == NULL)
		return false;
	name = relation_name(into->rel);
	op_begin(c, "create_materialized_view");
	yaml_key(&c->ops, 6, "name", name);
	yaml_key(&c->ops, 6, "query", query);
	c->hold = true;
	c->held.kind = HELD_MATVIEW;
	c->held.name = name;
	c->held.populate = !into->skip_data;
	free(query);
	return true;
}

/* The first REFRESH of a view made WITH NO DATA just before: it is populated. */
static bool
fold_refresh(Conv *c, const PgQuery__RefreshMatViewStmt *rs)
{
	char	   *name;
	bool		ok;

	if (c->held.kind != HELD_MATVIEW || c->held.populate || rs->concurrent || rs->skip_data ||
		!plain_relation(rs->relation))
		return false;
	name = relation_name(rs->relation);
	ok = strcmp(name, c->held.name) == 0;
	free(name);
	if (ok)
		c->held.populate = true;
	return ok;
}

/*
 * REFRESH MATERIALIZED VIEW: concurrently, which readers never wait for;
 * without, only for a view made here that cannot be refreshed so (no
 * unique index, or never populated).
 */
static bool
conv_refresh(Conv *c, const PgQuery__RefreshMatViewStmt *rs)
{
	char	   *name;
	bool		blocking;

	if (rs->skip_data || !plain_relation(rs->relation))
		return false;
	name = relation_name(rs->relation);
	blocking = !rs->concurrent &&
		(strlist_contains(&c->matviews_empty, name) ||
		 (strlist_contains(&c->matviews_made, name) &&
		  !strlist_contains(&c->matviews_unique, name)));
	if (!blocking && !rs->concurrent && !strlist_contains(&c->matviews_unique, name))
		buf_puts(&c->ops, "  # made CONCURRENTLY, which readers never wait for: it needs a unique "
				 "index on the view (else say concurrently: false)\n");
	op_begin(c, "refresh_materialized_view");
	yaml_key(&c->ops, 6, "name", name);
	if (blocking)
		buf_puts(&c->ops, "      concurrently: false\n");
	free(name);
	return true;
}

/* ---- DROP ---- */

static bool
conv_drop(Conv *c, const PgQuery__DropStmt *ds)
{
	StrList		names = {0};
	const char *kind = NULL;
	bool		policy = ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_POLICY;
	bool		ok;

	switch (ds->remove_type)
	{
		case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX:
			kind = "drop_index";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
			kind = "drop_table";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
			kind = "drop_view";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW:
			kind = "drop_materialized_view";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_TYPE:
			kind = "drop_type";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_POLICY:
			kind = "drop_policy";
			break;
		default:
			break;
	}
	ok = kind && ds->behavior != PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE && !ds->missing_ok;
	for (size_t i = 0; ok && i < ds->n_objects; i++)
	{
		const PgQuery__Node *o = ds->objects[i];
		char	   *name = NULL;

		if (o->node_case == PG_QUERY__NODE__NODE_TYPE_NAME)
			name = o->type_name->n_names <= 2 && !o->type_name->n_typmods &&
				!o->type_name->n_array_bounds
				? qualified_of(o->type_name->names, o->type_name->n_names) : NULL;
		else if (policy && o->node_case == PG_QUERY__NODE__NODE_LIST && o->list->n_items >= 2)
		{
			/* table..., policy */
			char	   *table = qualified_of(o->list->items, o->list->n_items - 1);
			const char *pol = sval(o->list->items[o->list->n_items - 1]);

			if (table && pol)
			{
				strlist_push(&names, table);
				name = xstrdup(pol);
			}
			else
				free(table);
		}
		else if (!policy)
			name = qualified_list(o);
		ok = name != NULL;
		if (ok)
			strlist_push(&names, name);
	}
	for (size_t i = 0; ok && i < names.n; i += policy ? 2 : 1)
	{
		op_begin(c, kind);
		if (policy)
		{
			yaml_key(&c->ops, 6, "table", names.items[i]);
			yaml_key(&c->ops, 6, "name", names.items[i + 1]);
		}
		else
			yaml_key(&c->ops, 6, "name", names.items[i]);
	}
	strlist_free(&names);
	return ok;
}

static bool
conv_rename(Conv *c, const PgQuery__RenameStmt *rs)
{
	char	   *table;

	if (rs->relation == NULL || rs->missing_ok || !plain_relation(rs->relation) ||
		(rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		 rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) ||
		(rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		 rs->relation_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE))
		return false;
	table = relation_name(rs->relation);
	if (rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN)
	{
		op_begin(c, "rename_column");
		yaml_key(&c->ops, 6, "table", table);
		yaml_key(&c->ops, 6, "from", nz(rs->subname));
	}
	else
	{
		op_begin(c, "rename_table");
		yaml_key(&c->ops, 6, "from", table);
	}
	yaml_key(&c->ops, 6, "to", rs->newname);
	free(table);
	return true;
}

/* ---- policies ---- */

static bool
conv_policy(Conv *c, const PgQuery__CreatePolicyStmt *ps)
{
	StrList		roles = {0};
	char	   *table;
	char	   *using_expr = NULL,
			   *check = NULL;
	long		at;
	bool		ok = plain_relation(ps->table) && !has_comment(c) &&
		roles_of(ps->roles, ps->n_roles, &roles);

	if (ok && ps->qual)
	{
		at = tok_find(c, 0, PG_QUERY__TOKEN__USING);
		ok = at >= 0 && (using_expr = group_text(c, at + 1)) != NULL;
	}
	if (ok && ps->with_check)
	{
		at = tok_find(c, 0, PG_QUERY__TOKEN__CHECK);
		ok = at >= 0 && (check = group_text(c, at + 1)) != NULL;
	}
	if (ok)
	{
		/* TO PUBLIC alone is the default */
		if (roles.n == 1 && strcmp(roles.items[0], "public") == 0)
			strlist_free(&roles);
		table = relation_name(ps->table);
		op_begin(c, "create_policy");
		yaml_key(&c->ops, 6, "table", table);
		yaml_key(&c->ops, 6, "name", ps->policy_name);
		if (nz(ps->cmd_name) && strcmp(ps->cmd_name, "all") != 0)
			yaml_key(&c->ops, 6, "command", ps->cmd_name);
		if (roles.n > 0)
			yaml_list(&c->ops, 6, "roles", &roles);
		if (using_expr)
			yaml_key(&c->ops, 6, "using", using_expr);
		if (check)
			yaml_key(&c->ops, 6, "with_check", check);
		if (!ps->permissive)
			buf_puts(&c->ops, "      permissive: false\n");
		free(table);
	}
	free(using_expr);
	free(check);
	strlist_free(&roles);
	return ok;
}

/* ---- types ---- */

static bool
conv_enum(Conv *c, const PgQuery__CreateEnumStmt *es)
{
	char	   *name = qualified_of(es->type_name, es->n_type_name);
	StrList		values = {0};
	bool		ok = name && es->n_vals > 0 && names_of(es->vals, es->n_vals, &values);

	if (ok)
	{
		/* its values at flush_held: ADD VALUE may follow */
		op_begin(c, "create_type");
		yaml_key(&c->ops, 6, "name", name);
		c->hold = true;
		c->held.kind = HELD_ENUM;
		c->held.name = name;
		c->held.key = values;
		return true;
	}
	free(name);
	strlist_free(&values);
	return ok;
}

/*
 * ALTER TYPE ... ADD VALUE right after the enum's CREATE TYPE: the value
 * is one of create_type's, where ADD VALUE puts it (the same order).
 */
static bool
fold_enum_value(Conv *c, const PgQuery__AlterEnumStmt *es)
{
	char	   *name = qualified_of(es->type_name, es->n_type_name);
	StrList	   *l = &c->held.key;
	size_t		at = l->n;
	bool		ok = c->held.kind == HELD_ENUM && name && strcmp(name, c->held.name) == 0 &&
		nz(es->old_val) == NULL && nz(es->new_val);

	free(name);
	if (!ok)
		return false;
	if (strlist_contains(l, es->new_val))
		return es->skip_if_new_val_exists;	/* IF NOT EXISTS: nothing to do */
	if (nz(es->new_val_neighbor))
	{
		for (at = 0; at < l->n && strcmp(l->items[at], es->new_val_neighbor) != 0; at++)
			;
		if (at == l->n)
			return false;		/* PostgreSQL refuses it: as written */
		at += es->new_val_is_after;
	}
	{
		char	   *v = xstrdup(es->new_val);

		strlist_push(l, v);
		memmove(&l->items[at + 1], &l->items[at], (l->n - 1 - at) * sizeof(char *));
		l->items[at] = v;
	}
	return true;
}

static bool
conv_composite(Conv *c, const PgQuery__CompositeTypeStmt *cs)
{
	Buf			b;
	bool		ok = nz(cs->typevar->catalogname) == NULL && cs->n_coldeflist > 0;
	char	   *name;

	buf_init(&b);
	for (size_t i = 0; ok && i < cs->n_coldeflist; i++)
	{
		const PgQuery__ColumnDef *cd = cs->coldeflist[i]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF
			? cs->coldeflist[i]->column_def : NULL;
		char	   *type = cd && cd->coll_clause == NULL && cd->n_constraints == 0
			? type_text(cd->type_name) : NULL;

		ok = type != NULL;
		if (ok)
		{
			yaml_first_key(&b, 10, true, "name", cd->colname);
			yaml_key(&b, 10, "type", type);
		}
		free(type);
	}
	if (ok)
	{
		name = relation_name(cs->typevar);
		op_begin(c, "create_type");
		yaml_key(&c->ops, 6, "name", name);
		buf_puts(&c->ops, "      composite:\n");
		buf_puts(&c->ops, b.data);
		free(name);
	}
	buf_free(&b);
	return ok;
}

static bool
conv_alter_enum(Conv *c, const PgQuery__AlterEnumStmt *es)
{
	char	   *name = qualified_of(es->type_name, es->n_type_name);

	/* RENAME VALUE has old_val; IF NOT EXISTS is what add_enum_value does anyway */
	if (name == NULL || nz(es->old_val) || nz(es->new_val) == NULL)
	{
		free(name);
		return false;
	}
	op_begin(c, "add_enum_value");
	yaml_key(&c->ops, 6, "type", name);
	yaml_key(&c->ops, 6, "value", es->new_val);
	if (nz(es->new_val_neighbor))
		yaml_key(&c->ops, 6, es->new_val_is_after ? "after" : "before", es->new_val_neighbor);
	free(name);
	return true;
}

/* ---- comments ---- */

static bool
conv_comment(Conv *c, const PgQuery__CommentStmt *cs)
{
	const char *kind;
	char	   *table = NULL,
			   *name = NULL;
	const PgQuery__Node *o = cs->object;
	bool		in_table = false;

	switch (cs->objtype)
	{
		case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
			kind = "table";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX:
			kind = "index";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
			kind = "view";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW:
			kind = "materialized_view";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_TYPE:
			kind = "type";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN:
			kind = "column", in_table = true;
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_TABCONSTRAINT:
			kind = "constraint", in_table = true;
			break;
		default:
			return false;
	}
	if (o && o->node_case == PG_QUERY__NODE__NODE_TYPE_NAME)
		name = o->type_name->n_typmods == 0 && o->type_name->n_array_bounds == 0
			? qualified_of(o->type_name->names, o->type_name->n_names) : NULL;
	else if (in_table && o && o->node_case == PG_QUERY__NODE__NODE_LIST && o->list->n_items >= 2)
	{
		/* [schema,] table, name */
		table = qualified_of(o->list->items, o->list->n_items - 1);
		name = sval(o->list->items[o->list->n_items - 1])
			? xstrdup(sval(o->list->items[o->list->n_items - 1])) : NULL;
	}
	else if (!in_table)
		name = qualified_list(o);
	if (name == NULL || (in_table && table == NULL))
	{
		free(table);
		free(name);
		return false;
	}
	op_begin(c, "comment");
	buf_printf(&c->ops, "      on:\n");
	if (in_table)
	{
		buf_printf(&c->ops, "        %s:\n", kind);
		yaml_key(&c->ops, 10, "table", table);
		yaml_key(&c->ops, 10, "name", name);
	}
	else
		yaml_key(&c->ops, 8, kind, name);
	if (nz(cs->comment))
		yaml_key(&c->ops, 6, "text", cs->comment);
	else
		buf_puts(&c->ops, "      text: null\n");
	free(table);
	free(name);
	return true;
}

/* ---- grants and roles ---- */

/* A function of GRANT ... ON FUNCTION as name(argument types); NULL: not one. */
static char *
function_signature(const PgQuery__Node *n)
{
	const PgQuery__ObjectWithArgs *f = n->node_case == PG_QUERY__NODE__NODE_OBJECT_WITH_ARGS
		? n->object_with_args : NULL;
	Buf			b;
	bool		ok = f && !f->args_unspecified && f->n_objname >= 1 && f->n_objname <= 2;

	for (size_t i = 0; ok && i < f->n_objname; i++)
		ok = sval(f->objname[i]) != NULL;
	if (!ok)
		return NULL;
	buf_init(&b);
	for (size_t i = 0; i < f->n_objname; i++)
	{
		buf_puts(&b, i ? "." : "");
		append_name(&b, sval(f->objname[i]));
	}
	buf_putc(&b, '(');
	for (size_t i = 0; ok && i < f->n_objargs; i++)
	{
		char	   *t = f->objargs[i]->node_case == PG_QUERY__NODE__NODE_TYPE_NAME
			? type_text(f->objargs[i]->type_name) : NULL;

		ok = t != NULL;
		if (ok)
			buf_printf(&b, "%s%s", i ? ", " : "", t);
		free(t);
	}
	buf_putc(&b, ')');
	if (!ok)
	{
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static bool
conv_grant(Conv *c, const PgQuery__GrantStmt *gs)
{
	StrList		privs = {0},
				roles = {0},
				objects = {0};
	const char *kind;
	bool		ok = gs->targtype == PG_QUERY__GRANT_TARGET_TYPE__ACL_TARGET_OBJECT &&
		!gs->grant_option && gs->grantor == NULL &&
		gs->behavior != PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE &&
		roles_of(gs->grantees, gs->n_grantees, &roles) && gs->n_objects > 0;

	switch (gs->objtype)
	{
		case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
			kind = "table";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE:
			kind = "sequence";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA:
			kind = "schema";
			break;
		case PG_QUERY__OBJECT_TYPE__OBJECT_FUNCTION:
			kind = "function";
			break;
		default:
			kind = NULL;
			break;
	}
	ok = ok && kind;
	if (gs->n_privileges == 0)
		strlist_add(&privs, "all");
	for (size_t i = 0; ok && i < gs->n_privileges; i++)
	{
		const PgQuery__AccessPriv *p = gs->privileges[i]->node_case == PG_QUERY__NODE__NODE_ACCESS_PRIV
			? gs->privileges[i]->access_priv : NULL;

		/* column privileges have no field */
		ok = p && nz(p->priv_name) && p->n_cols == 0;
		if (ok)
			strlist_add(&privs, p->priv_name);
	}
	for (size_t i = 0; ok && i < gs->n_objects; i++)
	{
		const PgQuery__Node *o = gs->objects[i];
		char	   *name = NULL;

		if (o->node_case == PG_QUERY__NODE__NODE_RANGE_VAR)
			name = plain_relation(o->range_var) ? relation_name(o->range_var) : NULL;
		else if (o->node_case == PG_QUERY__NODE__NODE_STRING)
			name = join_qualified(NULL, o->string->sval);
		else if (strcmp(kind, "function") == 0)
			name = function_signature(o);
		ok = name != NULL;
		if (ok)
			strlist_push(&objects, name);
	}
	for (size_t i = 0; ok && i < objects.n; i++)
	{
		op_begin(c, gs->is_grant ? "grant" : "revoke");
		yaml_list(&c->ops, 6, "privileges", &privs);
		buf_printf(&c->ops, "      on: {%s: ", kind);
		yaml_str(&c->ops, objects.items[i]);
		buf_puts(&c->ops, "}\n");
		yaml_list(&c->ops, 6, gs->is_grant ? "to" : "from", &roles);
	}
	strlist_free(&privs);
	strlist_free(&roles);
	strlist_free(&objects);
	return ok;
}

/* CREATE ROLE with LOGIN, INHERIT and IN ROLE only (no password in files). */
static bool
conv_create_role(Conv *c, const PgQuery__CreateRoleStmt *rs)
{
	bool		login = rs->stmt_type == PG_QUERY__ROLE_STMT_TYPE__ROLESTMT_USER,
				inherit = true;
	StrList		in_roles = {0};
	bool		ok = nz(rs->role) != NULL;

	for (size_t i = 0; ok && i < rs->n_options; i++)
	{
		const PgQuery__DefElem *d = rs->options[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM
			? rs->options[i]->def_elem : NULL;
		const PgQuery__Node *a = d ? d->arg : NULL;

		if (d && a && a->node_case == PG_QUERY__NODE__NODE_BOOLEAN &&
			strcmp(d->defname, "canlogin") == 0)
			login = a->boolean->boolval;
		else if (d && a && a->node_case == PG_QUERY__NODE__NODE_BOOLEAN &&
				 strcmp(d->defname, "inherit") == 0)
			inherit = a->boolean->boolval;
		else if (d && a && a->node_case == PG_QUERY__NODE__NODE_LIST &&
				 strcmp(d->defname, "addroleto") == 0)
			ok = roles_of(a->list->items, a->list->n_items, &in_roles) &&
				!strlist_contains(&in_roles, "public");
		else
			ok = false;
	}
	if (ok)
	{
		op_begin(c, "create_role");
		yaml_key(&c->ops, 6, "name", rs->role);
		if (login)
			buf_puts(&c->ops, "      login: true\n");
		if (!inherit)
			buf_puts(&c->ops, "      inherit: false\n");
		if (in_roles.n > 0)
			yaml_list(&c->ops, 6, "in_roles", &in_roles);
	}
	strlist_free(&in_roles);
	return ok;
}

/* ---- the file ---- */

/* Statements that cannot run inside a transaction block. */
static bool
needs_no_transaction(const PgQuery__Node *n)
{
	switch (n->node_case)
	{
		case PG_QUERY__NODE__NODE_INDEX_STMT:
			return n->index_stmt->concurrent;
		case PG_QUERY__NODE__NODE_DROP_STMT:
			return n->drop_stmt->concurrent;
		case PG_QUERY__NODE__NODE_VACUUM_STMT:
			return n->vacuum_stmt->is_vacuumcmd;
		case PG_QUERY__NODE__NODE_REINDEX_STMT:
			return true;		/* CONCURRENTLY needs it; a plain REINDEX runs either way */
		case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
			for (size_t i = 0; i < n->alter_table_stmt->n_cmds; i++)
			{
				const PgQuery__Node *cmd = n->alter_table_stmt->cmds[i];

				if (cmd->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD &&
					cmd->alter_table_cmd->def &&
					cmd->alter_table_cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD &&
					cmd->alter_table_cmd->def->partition_cmd->concurrent)
					return true;
			}
			return false;
		default:
			return false;
	}
}

/* Folds the statement into the operation held from before; false: it does not fold. */
static bool
fold_statement(Conv *c, const PgQuery__Node *n)
{
	switch (n->node_case)
	{
		case PG_QUERY__NODE__NODE_INDEX_STMT:
			return fold_matview_index(c, n->index_stmt);
		case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
			return fold_refresh(c, n->refresh_mat_view_stmt);
		case PG_QUERY__NODE__NODE_CREATE_STMT:
			return fold_partition(c, n->create_stmt);
		case PG_QUERY__NODE__NODE_ALTER_ENUM_STMT:
			return fold_enum_value(c, n->alter_enum_stmt);
		case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
			return fold_force_rls(c, n->alter_table_stmt);
		default:
			return false;
	}
}

static bool
convert_statement(Conv *c, const PgQuery__Node *n)
{
	switch (n->node_case)
	{
		case PG_QUERY__NODE__NODE_CREATE_STMT:
			return conv_create_table(c, n->create_stmt);
		case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
			return conv_alter_table(c, n->alter_table_stmt);
		case PG_QUERY__NODE__NODE_INDEX_STMT:
			return conv_index(c, n->index_stmt);
		case PG_QUERY__NODE__NODE_DROP_STMT:
			return conv_drop(c, n->drop_stmt);
		case PG_QUERY__NODE__NODE_RENAME_STMT:
			return conv_rename(c, n->rename_stmt);
		case PG_QUERY__NODE__NODE_CREATE_POLICY_STMT:
			return conv_policy(c, n->create_policy_stmt);
		case PG_QUERY__NODE__NODE_VIEW_STMT:
			return conv_view(c, n->view_stmt);
		case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
			return conv_create_as(c, n->create_table_as_stmt);
		case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
			return conv_refresh(c, n->refresh_mat_view_stmt);
		case PG_QUERY__NODE__NODE_CREATE_ENUM_STMT:
			return conv_enum(c, n->create_enum_stmt);
		case PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT:
			return conv_composite(c, n->composite_type_stmt);
		case PG_QUERY__NODE__NODE_ALTER_ENUM_STMT:
			return conv_alter_enum(c, n->alter_enum_stmt);
		case PG_QUERY__NODE__NODE_COMMENT_STMT:
			return conv_comment(c, n->comment_stmt);
		case PG_QUERY__NODE__NODE_GRANT_STMT:
			return conv_grant(c, n->grant_stmt);
		case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT:
			return conv_create_role(c, n->create_role_stmt);
		default:
			return false;
	}
}

/* An sql operation holding the statement as written, with what lint finds it locks. */
static void
sql_op(Buf *ops, const char *text, const PgQuery__Node *n)
{
	const char *line = text;
	StatementEffect e = {0};

	if (n)
	{
		lint_statement_effect(n, &e);
		if (e.lock != LOCK_NONE)
			buf_printf(ops, "  # no operation for it: it takes %s%s%s%s%s\n",
					   lock_mode_name(e.lock), e.relation ? " on " : "",
					   e.relation ? e.relation : "", e.rewrite ? ", rewriting it" : "",
					   !e.rewrite && e.scan ? ", scanning it" : "");
		free(e.relation);
	}
	buf_puts(ops, "  - sql:\n");
	buf_puts(ops, "      up: |\n");
	for (;;)
	{
		const char *end = strchr(line, '\n');

		buf_puts(ops, "        ");
		buf_putn(ops, line, end ? (size_t) (end - line) : strlen(line));
		if (end == NULL)
			break;
		buf_putc(ops, '\n');
		line = end + 1;
	}
	buf_puts(ops, ";\n");
	if (n && needs_no_transaction(n))
		buf_puts(ops, "      transactional: false\n");
}

/* Whether ops (operations in YAML) load as the format says them. */
static bool
ops_load(const char *ops)
{
	Buf			yaml;
	Migration	m;
	Error		err = {0};
	bool		ok;

	buf_init(&yaml);
	buf_printf(&yaml, "operations:\n%s", ops);
	ok = spec_load_buffer("0001_convert.yaml", yaml.data, yaml.len, &m, &err);
	if (ok)
		migration_free(&m);
	error_clear(&err);
	buf_free(&yaml);
	return ok;
}

static void
held_reset(Held *h)
{
	buf_free(&h->comments);
	buf_free(&h->head);
	buf_free(&h->list);
	free(h->name);
	strlist_free(&h->texts);
	free(h->nodes);
	strlist_free(&h->key);
	for (size_t i = 0; i < h->n_parts; i++)
	{
		free(h->parts[i].name);
		partition_bound_free(&h->parts[i].bound);
	}
	free(h->parts);
	memset(h, 0, sizeof *h);
}

/* Writes the held operation out; each of its statements as SQL if it does not load. */
static void
flush_held(Conv *c)
{
	Held	   *h = &c->held;
	Buf			op;

	if (h->kind == HELD_NONE)
		return;
	buf_init(&op);
	buf_puts(&op, h->head.data);
	if (h->kind == HELD_MATVIEW)
	{
		if (!h->populate)
			buf_puts(&op, "      populate: false\n");
		if (h->n_list > 0)
		{
			buf_puts(&op, "      indexes:\n");
			buf_puts(&op, h->list.data);
		}
		strlist_add(&c->matviews_made, h->name);
		if (h->unique_index)
			strlist_add(&c->matviews_unique, h->name);
		if (!h->populate)
			strlist_add(&c->matviews_empty, h->name);
	}
	else if (h->kind == HELD_ENUM)
		yaml_list(&op, 6, "enum", &h->key);
	else if (h->kind == HELD_RLS && h->force)
		buf_puts(&op, "      force: true\n");
	else if (h->n_parts > 0 && !yaml_generated_partitions(&op, h))
	{
		buf_puts(&op, "      partitions:\n");
		for (size_t i = 0; i < h->n_parts; i++)
		{
			yaml_first_key(&op, 10, true, "name", h->parts[i].name);
			yaml_bound(&op, 10, &h->parts[i].bound);
		}
	}
	buf_puts(c->out, h->comments.data ? h->comments.data : "");
	if (ops_load(op.data))
		buf_puts(c->out, op.data);
	else
	{
		for (size_t i = 0; i < h->texts.n; i++)
		{
			buf_reset(&op);
			sql_op(&op, h->texts.items[i], h->nodes[i]);
			buf_puts(c->out, op.data);
		}
		c->n_ops += (int) h->texts.n - 1;
	}
	buf_free(&op);
	held_reset(h);
}

/* The comment that says where the statement was: its line and first line. */
static void
line_comment(Buf *b, const Conv *c, const char *text)
{
	const char *nl = strchr(text, '\n');

	buf_printf(b, "  # line %d: ", c->stmt_line);
	buf_putn(b, text, nl ? (size_t) (nl - text) : strlen(text));
	buf_puts(b, nl ? " ...\n" : "\n");
}

/* Puts the statement (just converted or folded) into the held operation. */
static void
hold_statement(Conv *c, const PgQuery__Node *n)
{
	line_comment(&c->held.comments, c, c->stmt);
	c->held.nodes = xrealloc(c->held.nodes, (c->held.texts.n + 1) * sizeof(PgQuery__Node *));
	c->held.nodes[c->held.texts.n] = n;
	strlist_add(&c->held.texts, c->stmt);
}

bool
convert_sql(const char *path, const char *sql, Buf *out, Error *err)
{
	SqlStatements stmts;
	Conv		c = {0};

	if (!sql_split(sql, path, 1, NULL, &stmts, err))
	{
		sql_statements_free(&stmts);
		return false;
	}
	c.sql = sql;
	c.out = out;
	buf_init(&c.ops);
	buf_printf(out, "# Converted by migrate convert from %s.\n", path);
	buf_puts(out, "description: Converted from SQL\noperations:\n");
	for (size_t i = 0; i < stmts.n; i++)
	{
		const PgQuery__Node *n = stmts.items[i].node;
		int			before = c.n_ops;
		bool		converted;

		c.stmt_from = stmts.items[i].offset;
		c.stmt_line = stmts.items[i].line;
		c.stmt = stmts.items[i].text;
		c.tokens = sql_tokens(c.stmt);
		c.hold = false;
		buf_reset(&c.ops);
		if (n && n->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT)
			;					/* each operation gets the transactions it needs */
		else if (n && fold_statement(&c, n))
			hold_statement(&c, n);
		else
		{
			flush_held(&c);
			converted = n && convert_statement(&c, n);
			if (converted && c.hold)
			{
				hold_statement(&c, n);
				buf_puts(&c.held.head, c.ops.data);
			}
			else
			{
				line_comment(out, &c, c.stmt);
				/* a comment alone (VALIDATE, done by add_constraint) needs no loading */
				if (!converted || (c.n_ops > before && !ops_load(c.ops.data)))
				{
					buf_reset(&c.ops);
					sql_op(&c.ops, c.stmt, n);
					c.n_ops = before + 1;
				}
				buf_puts(out, c.ops.data ? c.ops.data : "");
			}
		}
		sql_tokens_free(c.tokens);
	}
	flush_held(&c);
	if (c.n_ops == 0)
		buf_puts(out, "  []\n");
	buf_free(&c.ops);
	strlist_free(&c.matviews_made);
	strlist_free(&c.matviews_unique);
	strlist_free(&c.matviews_empty);
	sql_statements_free(&stmts);
	return true;
}
