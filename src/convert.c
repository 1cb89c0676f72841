/*
 * convert.c: a plain SQL migration becomes a migration file.
 *
 * Every statement is parsed with PostgreSQL's own parser and mapped to the
 * operation that does the same online: CREATE INDEX -> create_index,
 * ALTER TABLE ADD COLUMN -> add_column, ADD CONSTRAINT -> add_constraint,
 * ALTER COLUMN TYPE / SET|DROP NOT NULL / SET|DROP DEFAULT -> alter_column,
 * RENAME -> rename_column / rename_table, DROP INDEX|TABLE|COLUMN ->
 * drop_*, CREATE TABLE -> create_table.  A statement that no operation
 * represents exactly (an expression index, a USING clause, a default that
 * is not a constant...) is kept as an sql operation, as written: converting
 * must never change what a migration does.
 */
#include "convert.h"

#include <stdlib.h>
#include <string.h>

#include <pg_query/pg_query.pb-c.h>

#include "lint.h"
#include "sqlparse.h"

typedef struct Conv
{
	const char *sql;			/* the whole file */
	const PgQuery__RawStmt *raw;
	Buf		   *out;
	Buf			ops;			/* this statement's operations */
	int			n_ops;
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
yaml_list(Buf *b, int indent, const char *key, const StrList *l)
{
	buf_printf(b, "%*s%s: [", indent, "", key);
	for (size_t i = 0; i < l->n; i++)
	{
		if (i)
			buf_puts(b, ", ");
		yaml_str(b, l->items[i]);
	}
	buf_puts(b, "]\n");
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

static char *
relation_name(const PgQuery__RangeVar *rv)
{
	return rv->schemaname && rv->schemaname[0]
		? xasprintf("%s.%s", rv->schemaname, rv->relname) : xstrdup(rv->relname);
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
		buf_printf(&b, "%s%s", i > first ? "." : "", name);
	}
	if (!lint_append_type_modifiers(&b, tn))
	{
		buf_free(&b);
		return NULL;
	}
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
		Buf			b;

		switch (c->val_case)
		{
			case PG_QUERY__A__CONST__VAL_IVAL:
				return xasprintf("%d", c->ival->ival);
			case PG_QUERY__A__CONST__VAL_FVAL:
				return xstrdup(c->fval->fval);
			case PG_QUERY__A__CONST__VAL_BOOLVAL:
				return xstrdup(c->boolval->boolval ? "true" : "false");
			case PG_QUERY__A__CONST__VAL_SVAL:
				buf_init(&b);
				buf_putc(&b, '\'');
				for (const char *s = c->sval->sval; *s; s++)
				{
					if (*s == '\'')
						buf_putc(&b, '\'');
					buf_putc(&b, *s);
				}
				buf_putc(&b, '\'');
				return buf_detach(&b);
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

/* ---- statements to operations ---- */

static void
op_begin(Conv *c, const char *kind)
{
	buf_printf(&c->ops, "  - %s:\n", kind);
	c->n_ops++;
}

/* PostgreSQL's own name for an unnamed constraint: t_a_b_fkey. */
static char *
default_constraint_name(const char *table, const StrList *cols, const char *suffix)
{
	Buf			b;

	buf_init(&b);
	buf_puts(&b, table);
	for (size_t i = 0; i < cols->n; i++)
		buf_printf(&b, "_%s", cols->items[i]);
	buf_printf(&b, "_%s", suffix);
	return buf_detach(&b);
}

/* One table constraint as an add_constraint body (or create_table entry). */
static bool
constraint_fields(Conv *c, const char *table, const PgQuery__Constraint *k, int indent,
				  bool named_list)
{
	StrList		cols = {0},
				refcols = {0};
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
				names_of(k->pk_attrs, k->n_pk_attrs, &refcols) && k->pktable && refcols.n > 0;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
			suffix = "key";
			ok = names_of(k->keys, k->n_keys, &cols) && !(nz(k->indexname)) &&
				k->n_including == 0 && k->where_clause == NULL;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
			suffix = "pkey";
			ok = names_of(k->keys, k->n_keys, &cols) && !(nz(k->indexname)) &&
				k->n_including == 0;
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
		if (nz(k->conname))
			name = xstrdup(nz(k->conname));
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
		{
			const char *dot = strrchr(table, '.');

			name = xasprintf("%s_pkey", dot ? dot + 1 : table);
		}
		else
		{
			const char *dot = strrchr(table, '.');

			name = default_constraint_name(dot ? dot + 1 : table, &cols, suffix);
		}
		if (named_list)
			buf_printf(b, "%*s- name: ", indent - 2, ""), yaml_str(b, name), buf_putc(b, '\n');
		else
			yaml_key(b, indent, "name", name);
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
				yaml_list(b, indent, "unique", &cols);
				break;
			default:
				yaml_list(b, indent, "primary_key", &cols);
				break;
		}
	}
	free(name);
	free(check);
	strlist_free(&cols);
	strlist_free(&refcols);
	return ok;
}

/*
 * A column definition as the fields of a column map, at indent.  False
 * when the column has something a column map cannot say.
 */
static bool
column_fields(Conv *c, const char *table, const PgQuery__ColumnDef *cd, int indent, bool list_item)
{
	char	   *type = type_text(cd->type_name);
	char	   *def = NULL;
	bool		not_null = cd->is_not_null,
				pk = false,
				unique = false;
	const PgQuery__Constraint *ref = NULL;
	Buf			b;
	bool		ok = type != NULL && cd->raw_default == NULL && cd->coll_clause == NULL;

	(void) table;
	for (size_t i = 0; ok && i < cd->n_constraints; i++)
	{
		const PgQuery__Constraint *k;

		if (cd->constraints[i]->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
		{
			ok = false;
			break;
		}
		k = cd->constraints[i]->constraint;
		if (nz(k->conname) || k->deferrable)
			ok = false;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL)
			not_null = true;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NULL)
			;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT)
			ok = (def = default_text(k->raw_expr)) != NULL;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
			pk = true;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE)
			unique = true;
		else if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN && k->pktable &&
				 k->n_pk_attrs <= 1 && (nz(k->fk_upd_action) == NULL || *k->fk_upd_action == 'a'))
			ref = k;
		else
			ok = false;
	}
	if (ok)
	{
		buf_init(&b);
		if (list_item)
			buf_printf(&b, "%*s- name: ", indent - 2, "");
		else
			buf_printf(&b, "%*sname: ", indent, "");
		yaml_str(&b, cd->colname);
		buf_putc(&b, '\n');
		yaml_key(&b, indent, "type", type);
		if (not_null && !pk)
			buf_printf(&b, "%*snullable: false\n", indent, "");
		if (def)
			yaml_key(&b, indent, "default", def);
		if (pk)
			buf_printf(&b, "%*sprimary_key: true\n", indent, "");
		if (unique)
			buf_printf(&b, "%*sunique: true\n", indent, "");
		if (ref)
		{
			char	   *rt = relation_name(ref->pktable);

			buf_printf(&b, "%*sreferences:\n", indent, "");
			yaml_key(&b, indent + 2, "table", rt);
			if (ref->n_pk_attrs == 1)
				yaml_key(&b, indent + 2, "column", sval(ref->pk_attrs[0]));
			if (fk_action(nz(ref->fk_del_action)))
				yaml_key(&b, indent + 2, "on_delete", fk_action(nz(ref->fk_del_action)));
			free(rt);
		}
		buf_puts(&c->ops, b.data);
		buf_free(&b);
	}
	free(type);
	free(def);
	return ok;
}

static bool
conv_create_table(Conv *c, const PgQuery__CreateStmt *cs)
{
	char	   *table;
	size_t		mark = c->ops.len;
	bool		ok = true;
	bool		any_constraint = false;

	if (cs->n_inh_relations || cs->partbound || cs->partspec || cs->of_typename ||
		cs->n_options || nz(cs->tablespacename) || nz(cs->access_method) || cs->if_not_exists ||
		cs->relation->relpersistence[0] != 'p' || cs->n_constraints)
		return false;
	table = relation_name(cs->relation);
	op_begin(c, "create_table");
	yaml_key(&c->ops, 6, "name", table);
	buf_puts(&c->ops, "      columns:\n");
	for (size_t i = 0; ok && i < cs->n_table_elts; i++)
		if (cs->table_elts[i]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
			ok = column_fields(c, table, cs->table_elts[i]->column_def, 10, true);
	for (size_t i = 0; ok && i < cs->n_table_elts; i++)
	{
		const PgQuery__Node *e = cs->table_elts[i];

		if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
			continue;
		if (e->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
			ok = false;
		else if (e->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY &&
				 e->constraint->conname == NULL && e->constraint->n_including == 0)
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
	free(table);
	if (!ok)
	{
		c->ops.len = mark;
		c->ops.data[mark] = '\0';
		c->n_ops--;
	}
	return ok;
}

static bool
conv_alter_cmd(Conv *c, const char *table, const PgQuery__AlterTableCmd *cmd)
{
	const PgQuery__Node *def = cmd->def;

	switch (cmd->subtype)
	{
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
			if (def == NULL || def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
				return false;
			op_begin(c, "add_column");
			yaml_key(&c->ops, 6, "table", table);
			buf_puts(&c->ops, "      column:\n");
			return column_fields(c, table, def->column_def, 8, false);
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
			if (cmd->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
				return false;
			op_begin(c, "drop_column");
			yaml_key(&c->ops, 6, "table", table);
			yaml_key(&c->ops, 6, "column", nz(cmd->name));
			return true;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableRowSecurity:
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableRowSecurity:
			op_begin(c, cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_EnableRowSecurity
					 ? "enable_rls" : "disable_rls");
			yaml_key(&c->ops, 6, "table", table);
			return true;
		default:
			return false;
	}
}

static bool
conv_alter_table(Conv *c, const PgQuery__AlterTableStmt *at)
{
	char	   *table;
	bool		ok = at->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE && at->relation &&
		!at->missing_ok && at->relation->inh;
	size_t		mark = c->ops.len;
	int			n_ops = c->n_ops;

	if (!ok)
		return false;
	table = relation_name(at->relation);
	for (size_t i = 0; ok && i < at->n_cmds; i++)
		ok = at->cmds[i]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD &&
			conv_alter_cmd(c, table, at->cmds[i]->alter_table_cmd);
	free(table);
	if (!ok)
	{
		c->ops.len = mark;
		c->ops.data[mark] = '\0';
		c->n_ops = n_ops;
	}
	return ok;
}

/*
 * The text after the statement's own WHERE (at parenthesis depth 0), as
 * written, for a partial index's predicate; NULL when it cannot be found.
 */
static char *
where_text(const Conv *c)
{
	char	   *stmt = sql_statement_text(c->sql, c->raw->stmt_location, c->raw->stmt_len);
	PgQuery__ScanResult *tokens = sql_tokens(stmt);
	char	   *where = NULL;
	int			depth = 0;

	for (size_t i = 0; tokens && where == NULL && i < tokens->n_tokens; i++)
	{
		const PgQuery__ScanToken *t = tokens->tokens[i];

		if (t->token == PG_QUERY__TOKEN__ASCII_40)
			depth++;
		else if (t->token == PG_QUERY__TOKEN__ASCII_41)
			depth--;
		else if (t->token == PG_QUERY__TOKEN__WHERE && depth == 0)
		{
			size_t		len;
			const char *from = stmt + t->end;

			while (*from == ' ' || *from == '\n' || *from == '\t')
				from++;
			len = strlen(from);
			while (len > 0 && (from[len - 1] == ';' || from[len - 1] == ' ' || from[len - 1] == '\n'))
				len--;
			where = len > 0 ? xstrndup(from, len) : NULL;
		}
	}
	sql_tokens_free(tokens);
	free(stmt);
	return where;
}

/* One index element as create_index's mapping form, which names any column. */
static void
yaml_index_elem(Buf *b, const PgQuery__IndexElem *e)
{
	bool		plain = strspn(e->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(e->name);

	if (plain && e->ordering != PG_QUERY__SORT_BY_DIR__SORTBY_DESC &&
		e->ordering != PG_QUERY__SORT_BY_DIR__SORTBY_ASC &&
		e->nulls_ordering != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST &&
		e->nulls_ordering != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST)
	{
		yaml_str(b, e->name);
		return;
	}
	buf_puts(b, "{column: ");
	yaml_str(b, nz(e->name));
	if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DESC)
		buf_puts(b, ", order: desc");
	else if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_ASC)
		buf_puts(b, ", order: asc");
	if (e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST)
		buf_puts(b, ", nulls: first");
	else if (e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST)
		buf_puts(b, ", nulls: last");
	buf_putc(b, '}');
}

/*
 * CREATE [UNIQUE] INDEX of columns (with their order and NULLS), INCLUDE
 * and WHERE -> create_index; expressions, operator classes, collations and
 * storage parameters stay raw SQL.
 */
static bool
conv_index(Conv *c, const PgQuery__IndexStmt *is)
{
	StrList		include = {0};
	bool		ok = nz(is->idxname) && is->n_options == 0 && nz(is->table_space) == NULL &&
		!is->if_not_exists && !is->nulls_not_distinct;
	char	   *where = NULL;
	char	   *table;

	for (size_t i = 0; ok && i < is->n_index_params; i++)
	{
		const PgQuery__IndexElem *e = is->index_params[i]->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM
			? is->index_params[i]->index_elem : NULL;

		ok = e && nz(e->name) && e->expr == NULL && e->n_collation == 0 && e->n_opclass == 0 &&
			e->ordering != PG_QUERY__SORT_BY_DIR__SORTBY_USING;
	}
	for (size_t i = 0; ok && i < is->n_index_including_params; i++)
	{
		const PgQuery__Node *n = is->index_including_params[i];

		ok = n->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM && nz(n->index_elem->name);
		if (ok)
			strlist_add(&include, n->index_elem->name);
	}
	if (ok && is->where_clause)
		ok = (where = where_text(c)) != NULL;
	if (ok)
	{
		table = relation_name(is->relation);
		op_begin(c, "create_index");
		yaml_key(&c->ops, 6, "table", table);
		yaml_key(&c->ops, 6, "name", nz(is->idxname));
		buf_puts(&c->ops, "      columns: [");
		for (size_t i = 0; i < is->n_index_params; i++)
		{
			buf_puts(&c->ops, i > 0 ? ", " : "");
			yaml_index_elem(&c->ops, is->index_params[i]->index_elem);
		}
		buf_puts(&c->ops, "]\n");
		if (is->unique)
			buf_puts(&c->ops, "      unique: true\n");
		if (nz(is->access_method) && strcmp(nz(is->access_method), "btree") != 0)
			yaml_key(&c->ops, 6, "method", nz(is->access_method));
		if (include.n > 0)
			yaml_list(&c->ops, 6, "include", &include);
		if (where)
			yaml_key(&c->ops, 6, "where", where);
		free(table);
	}
	free(where);
	strlist_free(&include);
	return ok;
}

static bool
conv_drop(Conv *c, const PgQuery__DropStmt *ds)
{
	StrList		names = {0};
	bool		ok = ds->behavior != PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE &&
		(ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX ||
		 ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE);

	for (size_t i = 0; ok && i < ds->n_objects; i++)
	{
		const PgQuery__Node *o = ds->objects[i];
		StrList		parts = {0};

		ok = o->node_case == PG_QUERY__NODE__NODE_LIST &&
			names_of(o->list->items, o->list->n_items, &parts) && parts.n <= 2;
		if (ok)
			strlist_push(&names, parts.n == 2 ? xasprintf("%s.%s", parts.items[0], parts.items[1])
						 : xstrdup(parts.items[0]));
		strlist_free(&parts);
	}
	for (size_t i = 0; ok && i < names.n; i++)
	{
		bool		index = ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX;

		op_begin(c, index ? "drop_index" : "drop_table");
		yaml_key(&c->ops, 6, "name", names.items[i]);
	}
	strlist_free(&names);
	return ok;
}

static bool
conv_rename(Conv *c, const PgQuery__RenameStmt *rs)
{
	char	   *table;

	if (rs->relation == NULL || rs->missing_ok ||
		(rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		 rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE))
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
		default:
			return false;
	}
}

static int
line_of(const char *s, int offset)
{
	int			line = 1;

	for (int i = 0; i < offset && s[i]; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

/* An sql operation holding the statement as written. */
static void
sql_op(Conv *c, const char *text, bool transactional)
{
	const char *line = text;

	op_begin(c, "sql");
	buf_puts(&c->ops, "      up: |\n");
	for (;;)
	{
		const char *end = strchr(line, '\n');

		buf_puts(&c->ops, "        ");
		buf_putn(&c->ops, line, end ? (size_t) (end - line) : strlen(line));
		if (end == NULL)
			break;
		buf_putc(&c->ops, '\n');
		line = end + 1;
	}
	buf_puts(&c->ops, ";\n");
	if (!transactional)
		buf_puts(&c->ops, "      transactional: false\n");
}

bool
convert_sql(const char *path, const char *sql, Buf *out, Error *err)
{
	PgQuery__ParseResult *tree;
	Conv		c = {0};

	tree = lint_parse(sql, path, 1, err);
	if (tree == NULL)
		return false;
	c.sql = sql;
	c.out = out;
	buf_init(&c.ops);
	buf_printf(out, "# Converted by migrate convert from %s.\n", path);
	buf_puts(out, "description: Converted from SQL\noperations:\n");
	for (size_t i = 0; i < tree->n_stmts; i++)
	{
		const PgQuery__RawStmt *raw = tree->stmts[i];
		const PgQuery__Node *n = raw->stmt;
		char	   *text = sql_statement_text(sql, raw->stmt_location, raw->stmt_len);

		c.raw = raw;
		buf_reset(&c.ops);
		if (n && n->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT)
		{
			/* each operation gets the transactions it needs */
			free(text);
			continue;
		}
		buf_printf(out, "  # line %d: ", line_of(sql, sql_statement_start(sql, raw->stmt_location)));
		{
			/* first line of the statement, as a comment */
			const char *nl = strchr(text, '\n');

			buf_putn(out, text, nl ? (size_t) (nl - text) : strlen(text));
			buf_puts(out, nl ? " ...\n" : "\n");
		}
		if (n == NULL || !convert_statement(&c, n))
		{
			buf_reset(&c.ops);
			sql_op(&c, text, !(n && needs_no_transaction(n)));
		}
		buf_puts(out, c.ops.data ? c.ops.data : "");
		free(text);
	}
	if (c.n_ops == 0)
		buf_puts(out, "  []\n");
	buf_free(&c.ops);
	sql_parse_free(tree);
	return true;
}
