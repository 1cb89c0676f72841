/*
 * planner_ops.c: one planning function per operation (migrate(1), OPERATIONS), in the
 * plain and the online strategy.  The sequences they share live in
 * planner.c; multi_tenancy is in planner_tenancy.c.
 */
#include "planner_int.h"

#include "lint.h"
#include "sqlparse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- pieces of DDL ---- */

/* A referential action ("set null") as SQL ("SET NULL"); from a fixed list. */
static void
append_action(Buf *b, const char *clause, const char *action)
{
	if (action == NULL)
		return;
	buf_printf(b, " %s ", clause);
	for (const char *p = action; *p; p++)
		buf_putc(b, (char) toupper((unsigned char) *p));
}

/* "CHECK (...)", "FOREIGN KEY (...) REFERENCES ...", "UNIQUE (...)", ... */
static void
append_constraint_body(Buf *b, const ConstraintDef *con)
{
	switch (con->kind)
	{
		case CONSTRAINT_CHECK:
			sql_append(b, "CHECK %E", con->check);
			break;
		case CONSTRAINT_FOREIGN_KEY:
			sql_append(b, "FOREIGN KEY (%C) REFERENCES %Q (%C)", &con->columns,
					   con->ref_table, &con->ref_columns);
			append_action(b, "ON DELETE", con->on_delete);
			append_action(b, "ON UPDATE", con->on_update);
			break;
		case CONSTRAINT_UNIQUE:
			sql_append(b, "UNIQUE (%C)", &con->columns);
			break;
		case CONSTRAINT_PRIMARY_KEY:
			sql_append(b, "PRIMARY KEY (%C)", &con->columns);
			break;
		case CONSTRAINT_EXCLUDE:
			/* the method and operators come from fixed lists the loader checked */
			buf_printf(b, "EXCLUDE USING %s (", con->exclude_using ? con->exclude_using : "gist");
			for (size_t i = 0; i < con->exclude_elems.n; i++)
			{
				buf_puts(b, i > 0 ? ", " : "");
				append_index_element(b, &con->exclude_elems.items[i]);
				buf_printf(b, " WITH %s", con->exclude_ops.items[i]);
			}
			buf_putc(b, ')');
			if (con->exclude_where)
				sql_append(b, " WHERE %E", con->exclude_where);
			break;
	}
	if (con->include.n > 0)
		sql_append(b, " INCLUDE (%C)", &con->include);
}

/* "REFERENCES t [(c)] [ON DELETE ...]" of a column. */
static void
append_column_reference(Buf *b, const ColumnDef *c)
{
	sql_append(b, "REFERENCES %Q", c->ref_table);
	if (c->ref_column)
		sql_append(b, " (%I)", c->ref_column);
	append_action(b, "ON DELETE", c->ref_on_delete);
}

/* A column's own constraints: PRIMARY KEY, UNIQUE, REFERENCES, CHECK. */
static void
append_column_constraints(Buf *b, const ColumnDef *c)
{
	if (c->primary_key)
		buf_puts(b, " PRIMARY KEY");
	if (c->unique)
		buf_puts(b, " UNIQUE");
	if (c->ref_table)
	{
		if (c->ref_name)
			sql_append(b, " CONSTRAINT %I", c->ref_name);
		buf_putc(b, ' ');
		append_column_reference(b, c);
	}
	if (c->check_name)
		sql_append(b, " CONSTRAINT %I", c->check_name);
	if (c->check)
		sql_append(b, " CHECK %E", c->check);
}

/* A whole column definition: name, type, NOT NULL, default, constraints. */
static void
append_column_def(Buf *b, const ColumnDef *c)
{
	sql_append(b, "%I %s", c->name, c->type);
	if (!c->nullable)
		buf_puts(b, " NOT NULL");
	if (c->default_expr)
		sql_append(b, " DEFAULT %E", c->default_expr);
	append_column_constraints(b, c);
}

static void
add_column_comment(Step *s, const char *table, const ColumnDef *c)
{
	if (c->comment)
		step_sql(s, "COMMENT ON COLUMN %Q.%I IS %L", table, c->name, c->comment);
}

void
undo_add_column(PlanCtx *pc, Step *owner, const char *table, const char *column)
{
	char	   *exists = sql_column_exists(table, column);
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
								"drop column %I of %Q", column, table);

	step_sql(undo, "ALTER TABLE %Q DROP COLUMN IF EXISTS %I", table, column);
	step_done(undo, "SELECT NOT %s", exists);
	free(exists);
}

/* A one-item list, for the constraint helpers. */
static StrList
one_name(const char *name)
{
	StrList		l = {0};

	strlist_add(&l, name);
	return l;
}

/* ---- tables ---- */

static bool
plan_create_table(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.create_table.name;
	const char *referenced = NULL;
	Buf			b;
	Step	   *s;
	Step	   *undo;
	const char *sep = "\n    ";

	/* A new table blocks nobody; a reference takes SHARE ROW EXCLUSIVE on its table. */
	for (size_t i = 0; referenced == NULL && i < op->u.create_table.n_columns; i++)
		referenced = op->u.create_table.columns[i].ref_table;
	for (size_t i = 0; referenced == NULL && i < op->u.create_table.n_constraints; i++)
		if (op->u.create_table.constraints[i].kind == CONSTRAINT_FOREIGN_KEY)
			referenced = op->u.create_table.constraints[i].ref_table;

	buf_init(&b);
	sql_append(&b, "CREATE TABLE %Q (", table);
	for (size_t i = 0; i < op->u.create_table.n_columns; i++)
	{
		buf_puts(&b, i > 0 ? "," : "");
		buf_puts(&b, sep);
		append_column_def(&b, &op->u.create_table.columns[i]);
	}
	if (op->u.create_table.primary_key.n > 0)
		sql_append(&b, ",%sPRIMARY KEY (%C)", sep, &op->u.create_table.primary_key);
	for (size_t i = 0; i < op->u.create_table.n_constraints; i++)
	{
		const ConstraintDef *con = &op->u.create_table.constraints[i];

		sql_append(&b, ",%sCONSTRAINT %I ", sep, con->name);
		append_constraint_body(&b, con);
	}
	buf_puts(&b, "\n)");
	plan_table_partitioning_clause(&b, &op->u.create_table.partitioning);

	if (referenced)
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_SHARE_ROW_EXCLUSIVE, referenced,
					 "create table %Q", table);
	else
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL, "create table %Q", table);
	strlist_push(&s->sql, buf_detach(&b));
	for (size_t i = 0; i < op->u.create_table.n_columns; i++)
		add_column_comment(s, table, &op->u.create_table.columns[i]);
	if (!plan_table_partitions(pc, s, table, &op->u.create_table.partitioning))
		return false;
	step_done(s, "SELECT to_regclass(%R) IS NOT NULL", table);
	step_owns(s, "table", NULL, table);

	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					"drop table %Q", table);
	step_sql(undo, "DROP TABLE IF EXISTS %Q", table);
	step_done(undo, "SELECT to_regclass(%R) IS NULL", table);
	return true;
}

static bool
plan_drop_table(PlanCtx *pc)
{
	const char *table = pc->op->u.drop_table.name;
	Step	   *s;

	if (ONLINE(pc))
	{
		/* Old code still reads it: the drop waits for finalize. */
		s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "drop table %Q", table);
		s->irreversible = xstrdup("finalize drops the table and its data");
	}
	else
	{
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "drop table %Q", table);
		s->irreversible = xstrdup("dropping the table loses its data");
	}
	step_sql(s, "DROP TABLE IF EXISTS %Q", table);
	step_done(s, "SELECT to_regclass(%R) IS NULL", table);
	return true;
}

/* ---- columns ---- */

/*
 * A constant default, which PostgreSQL 11+ adds without a rewrite: a
 * literal, a number, true/false/null, each with an optional cast.  Anything
 * with a function call may be volatile, so it is not constant here.
 */
static bool
is_constant_expr(const char *e)
{
	const char *p = e;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\'')
	{
		for (p++; *p; p++)
			if (*p == '\'')
			{
				if (p[1] != '\'')
					break;
				p++;
			}
		if (*p != '\'')
			return false;
		p++;
	}
	else if (isdigit((unsigned char) *p) || *p == '-' || *p == '+' || *p == '.')
	{
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char) *p) && *p != '.')
			return false;
		while (isdigit((unsigned char) *p) || *p == '.' ||
			   ((*p == 'e' || *p == 'E') && (isdigit((unsigned char) p[1]) || p[1] == '-' || p[1] == '+')) ||
			   ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
			p++;
	}
	else if (strncasecmp(p, "true", 4) == 0 || strncasecmp(p, "null", 4) == 0)
		p += 4;
	else if (strncasecmp(p, "false", 5) == 0)
		p += 5;
	else
		return false;
	if (isalnum((unsigned char) *p) || *p == '_')
		return false;
	while (isspace((unsigned char) *p))
		p++;
	if (p[0] == ':' && p[1] == ':')
	{
		/* a type name: words, typmods, array brackets, quoted names */
		for (p += 2; *p; p++)
			if (!isalnum((unsigned char) *p) && strchr(" _(),[]\".", *p) == NULL)
				return false;
		return true;
	}
	return *p == '\0';
}

/* Can the default be added without filling every row (online)? */
static bool
default_is_instant(const PlanCtx *pc, const char *expr)
{
	if (pc->cat && pc->cat->server_version > 0 && pc->cat->server_version < 110000)
		return false;
	return is_constant_expr(expr);
}

/*
 * The column's own constraints, each added online: FK and CHECK not valid
 * then validated, UNIQUE and PRIMARY KEY through a concurrent index.
 */
static void
plan_column_constraints(PlanCtx *pc, const char *table, const ColumnDef *c)
{
	StrList		column = one_name(c->name);

	if (c->ref_table)
	{
		char	   *name = c->ref_name ? xstrdup(c->ref_name) : derived_name(table, c->name, "fkey");
		Buf			body;

		buf_init(&body);
		sql_append(&body, "FOREIGN KEY (%I) ", c->name);
		append_column_reference(&body, c);
		plan_add_checked_constraint(pc, table, name, body.data, c->ref_table,
										LOCK_SHARE_ROW_EXCLUSIVE);
		buf_free(&body);
		free(name);
	}
	if (c->check)
	{
		char	   *name = c->check_name ? xstrdup(c->check_name)
			: derived_name(table, c->name, "check");
		char	   *body = sql_format("CHECK %E", c->check);

		plan_add_checked_constraint(pc, table, name, body, NULL, LOCK_ACCESS_EXCLUSIVE);
		free(body);
		free(name);
	}
	if (c->unique)
	{
		char	   *name = derived_name(table, c->name, "key");

		plan_add_unique_constraint(pc, table, name, "UNIQUE", &column, NULL);
		free(name);
	}
	if (c->primary_key)
	{
		char	   *name = derived_name(table, NULL, "pkey");

		plan_add_unique_constraint(pc, table, name, "PRIMARY KEY", &column, NULL);
		free(name);
	}
	strlist_free(&column);
}

static bool
plan_add_column(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.add_column.table;
	const ColumnDef *c = &op->u.add_column.column;
	const char *fill = op->u.add_column.backfill;
	char	   *exists = sql_column_exists(table, c->name);
	bool		derived = ONLINE(pc) && op->u.add_column.backfill != NULL;
	KeyExprList set;
	KeyExpr		item;
	Buf			b;
	Step	   *s;

	/* What fills existing rows: the backfill, else a default that is not constant. */
	if (fill == NULL && c->default_expr && ONLINE(pc) && !default_is_instant(pc, c->default_expr))
		fill = c->default_expr;

	buf_init(&b);
	sql_append(&b, "ALTER TABLE %Q ADD COLUMN ", table);
	if (fill == NULL)
	{
		/* all at once: plain, or online with no default or a constant one */
		if (ONLINE(pc))
		{
			sql_append(&b, "%I %s", c->name, c->type);
			if (c->default_expr)
				sql_append(&b, " DEFAULT %E", c->default_expr);
			if (!c->nullable)
				buf_puts(&b, " NOT NULL");
		}
		else
			append_column_def(&b, c);
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "add column %I to %Q", c->name, table);
		strlist_push(&s->sql, buf_detach(&b));
		if (!c->nullable && c->default_expr == NULL)
			s->warning = xstrdup("NOT NULL without a default or a backfill fails when "
								 "the table has rows");
	}
	else
	{
		/* nullable, without a default, until existing rows are filled */
		sql_append(&b, "%I %s", c->name, c->type);
		if (!ONLINE(pc))
			append_column_constraints(&b, c);
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "add column %I to %Q, nullable until it is filled", c->name, table);
		strlist_push(&s->sql, buf_detach(&b));
		/*
		 * Online with a backfill, an INSERT that leaves the column out must
		 * reach the trigger as NULL, to get the expression: the default is
		 * set at finalize, with the trigger gone.
		 */
		if (c->default_expr && !derived)
			step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT %E", table, c->name,
					 c->default_expr);
	}
	add_column_comment(s, table, c);
	step_done(s, "SELECT %s", exists);
	undo_add_column(pc, s, table, c->name);

	if (fill != NULL)
	{
		/* Old code that leaves the column out gets it filled by a trigger. */
		if (derived)
		{
			char	   *body = sync_derived_body(table, c->name, c->type, fill);
			char	   *summary = sql_format("trigger on %Q derives %I on writes that do not set it",
											table, c->name);

			plan_sync_trigger(pc, table, 0, body, summary);
			free(summary);
			free(body);
		}
		item.key = c->name;
		item.expr = (char *) fill;
		item.pos = op->pos;
		set.items = &item;
		set.n = 1;
		{
			char	   *where = ONLINE(pc) ? sql_format("%I IS NULL", c->name) : NULL;
			char	   *summary = sql_format("fill %I of existing rows of %Q", c->name, table);

			plan_backfill_step(pc, NULL, table, &set, where, 0, -1, summary);
			free(summary);
			free(where);
		}
		if (!c->nullable)
			plan_set_not_null(pc, NULL, table, c->name, NULL, NULL);
	}
	if (ONLINE(pc))
		plan_column_constraints(pc, table, c);
	if (derived && c->default_expr)
	{
		char	   *has_default = sql_format("EXISTS (SELECT FROM pg_attrdef d JOIN pg_attribute a "
											 "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
											 "WHERE a.attrelid = to_regclass(%R) AND a.attname = %L)",
											 table, c->name);

		s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "set the default of %I of %Q (the trigger derived it until now)",
					 c->name, table);
		step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT %E", table, c->name,
				 c->default_expr);
		step_done(s, "SELECT %s", has_default);
		free(has_default);
	}
	if (derived)
		plan_drop_sync_trigger(pc, table, 0);
	free(exists);
	return true;
}

/*
 * A step that copies the values of table.column into migrate.<rows>, keyed
 * by the primary key, for an inverse that puts them back; its own undo
 * forgets them.
 */
static void
plan_save_values(PlanCtx *pc, const char *table, const char *column, const char *rows)
{
	char	   *saved_table = sql_format("migrate.%I", rows);
	Step	   *s;
	Step	   *undo;

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_SHARE, table,
				 "save the values of %I of %Q for rollback", column, table);
	step_sql(s, "SELECT migrate.save_rows(%R::regclass, %L, ARRAY[%L], NULL)",
			 table, rows, column);
	step_done(s, "SELECT to_regclass(%L) IS NOT NULL", saved_table);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
					"forget the saved values");
	step_sql(undo, "DROP TABLE IF EXISTS %s", saved_table);
	free(saved_table);
}

static bool
plan_drop_column(PlanCtx *pc)
{
	const char *table = pc->op->u.drop_column.table;
	const char *column = pc->op->u.drop_column.column;
	char	   *exists = sql_column_exists(table, column);
	Step	   *s;

	ensure_migrate_schema(pc);
	if (ONLINE(pc))
	{
		char	   *relaxed_what = xasprintf("%s.relaxed", column);
		char	   *relaxed_key = saved_key(pc, relaxed_what);
		char	   *relaxed = saved_flag(pc, relaxed_what, NULL);
		char	   *stmt;
		const char *const forget[] = {relaxed_what, NULL};

		/* New code no longer writes it: a NOT NULL without default would fail its inserts. */
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "relax NOT NULL of %I of %Q (when it has no default): code without "
					 "the column can insert", column, table);
		step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
				 "SELECT %D, %L, 'true' FROM pg_attribute WHERE attrelid = to_regclass(%R) "
				 "AND attname = %L AND NOT attisdropped AND attnotnull AND NOT atthasdef "
				 "ON CONFLICT DO NOTHING", pc->m->version, relaxed_key, table, column);
		stmt = sql_format("ALTER TABLE %Q ALTER COLUMN %I DROP NOT NULL", table, column);
		strlist_push(&s->sql, guarded(relaxed, stmt));
		step_done(s, "SELECT NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = "
				  "to_regclass(%R) AND attname = %L AND NOT attisdropped AND attnotnull "
				  "AND NOT atthasdef)", table, column);
		plan_set_not_null(pc, s, table, column, relaxed, NULL);
		undo_forget_saved(pc, s, forget);
		free(stmt);
		free(relaxed);
		free(relaxed_key);
		free(relaxed_what);

		s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "drop column %I of %Q", column, table);
		step_sql(s, "ALTER TABLE %Q DROP COLUMN IF EXISTS %I", table, column);
		step_done(s, "SELECT NOT %s", exists);
		s->irreversible = xstrdup("finalize drops the column and its data");
		free(exists);
		return true;
	}

	/* plain: save what the column held, drop it; the inverse rebuilds it */
	{
		char	   *rows = object_name(pc, "rows", 0);
		char	   *saved_table = sql_format("migrate.%I", rows);
		char	   *type_what = xasprintf("%s.type", column);
		char	   *default_what = xasprintf("%s.default", column);
		char	   *saved_type = saved_value(pc, type_what);
		char	   *saved_default = saved_value(pc, default_what);
		char	   *was_not_null = saved_not_null(pc, column);
		Buf			body;
		Step	   *undo;

		plan_save_column(pc, table, column);
		plan_save_values(pc, table, column, rows);

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "drop column %I of %Q", column, table);
		step_sql(s, "ALTER TABLE %Q DROP COLUMN %I", table, column);
		step_done(s, "SELECT NOT %s", exists);
		s->warning = xstrdup("rollback restores the column's type, default, NOT NULL and "
							 "values, not the indexes and constraints that used it");

		{
			/* type and default come from the saved text, spliced at run time */
			char	   *add = sql_format("ALTER TABLE %Q ADD COLUMN %I ", table, column);

			buf_init(&body);
			/* nothing saved, or the column is there: nothing to rebuild */
			sql_append(&body, "DECLARE saved_type text := %s; saved_default text := %s; "
					   "BEGIN IF saved_type IS NULL OR %s THEN RETURN; END IF; "
					   "EXECUTE %L || saved_type || coalesce(' DEFAULT ' || saved_default, ''); "
					   "PERFORM migrate.restore_rows(%R::regclass, %L); "
					   "IF %s THEN ALTER TABLE %Q ALTER COLUMN %I SET NOT NULL; END IF; END",
					   saved_type, saved_default, exists, add, table, rows, was_not_null,
					   table, column);
			free(add);
		}
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"add column %I back to %Q with its saved values", column, table);
		strlist_push(&undo->sql, do_block(body.data));
		step_done(undo, "SELECT %s", exists);
		buf_free(&body);
		free(was_not_null);
		free(saved_default);
		free(saved_type);
		free(default_what);
		free(type_what);
		free(saved_table);
		free(rows);
	}
	free(exists);
	return true;
}

/* ---- alter_column ---- */

/* The column's saved state, as SQL, for one alter_column. */
typedef struct SavedColumn
{
	char	   *type;			/* scalar subqueries of the saved text */
	char	   *default_expr;
	char	   *was_not_null;	/* boolean */
	char	   *current_type;	/* the column's type now */
	char	   *current_default;
} SavedColumn;

static void
saved_column_init(SavedColumn *sc, const PlanCtx *pc, const char *table, const char *column)
{
	char	   *what = xasprintf("%s.type", column);

	sc->type = saved_value(pc, what);
	free(what);
	what = xasprintf("%s.default", column);
	sc->default_expr = saved_value(pc, what);
	free(what);
	sc->was_not_null = saved_not_null(pc, column);
	sc->current_type = sql_format("(SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
								  "WHERE attrelid = to_regclass(%R) AND attname = %L "
								  "AND NOT attisdropped)", table, column);
	sc->current_default = sql_format("(SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d "
									 "JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
									 "WHERE a.attrelid = to_regclass(%R) AND a.attname = %L "
									 "AND NOT a.attisdropped)", table, column);
}

static void
saved_column_free(SavedColumn *sc)
{
	free(sc->type);
	free(sc->default_expr);
	free(sc->was_not_null);
	free(sc->current_type);
	free(sc->current_default);
}

/* Statement that gives column its saved default back (or none). */
static char *
restore_default_sql(const char *table, const char *column, const SavedColumn *sc)
{
	char	   *set = sql_format("ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT ", table, column);
	char	   *body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NULL THEN "
								  "ALTER TABLE %Q ALTER COLUMN %I DROP DEFAULT; ELSE "
								  "EXECUTE %L || saved; END IF; END",
								  sc->default_expr, table, column, set);
	char	   *stmt = do_block(body);

	free(body);
	free(set);
	return stmt;
}

/*
 * Statement that gives column its saved type back, the data cast; the
 * default goes first (it may not cast), restore_default_sql puts it back.
 */
static char *
restore_type_sql(const char *table, const char *column, const SavedColumn *sc)
{
	char	   *type = sql_format("ALTER TABLE %Q ALTER COLUMN %I TYPE ", table, column);
	char	   *using = sql_format(" USING %I::", column);
	char	   *body = sql_format("DECLARE saved text := %s; BEGIN "
								  "ALTER TABLE %Q ALTER COLUMN %I DROP DEFAULT; "
								  "EXECUTE %L || saved || %L || saved; END",
								  sc->type, table, column, type, using);
	char	   *stmt = do_block(body);

	free(body);
	free(using);
	free(type);
	return stmt;
}

/* The plain strategy: one ALTER TABLE; its inverse rebuilds from saved state. */
static void
plan_alter_column_plain(PlanCtx *pc, const SavedColumn *sc)
{
	const Operation *op = pc->op;
	const char *table = op->u.alter_column.table;
	const char *column = op->u.alter_column.column;
	Buf			b;
	Buf			done;
	Step	   *s;
	const char *sep = " ";
	char	   *rows = object_name(pc, "rows", 0);

	/*
	 * A cast back does not undo a USING expression: the inverse puts the
	 * saved values back after it.
	 */
	if (op->u.alter_column.using_expr)
		plan_save_values(pc, table, column, rows);
	buf_init(&b);
	buf_init(&done);
	sql_append(&b, "ALTER TABLE %Q", table);
	buf_puts(&done, "SELECT true");
	if (op->u.alter_column.type)
	{
		/*
		 * The old default would be cast to the new type first, and may not
		 * cast: it goes first, and comes back converted (or as given).
		 */
		if (op->u.alter_column.default_change != DEFAULT_DROP)
		{
			sql_append(&b, "%sALTER COLUMN %I DROP DEFAULT", sep, column);
			sep = ", ";
		}
		sql_append(&b, "%sALTER COLUMN %I TYPE %s", sep, column, op->u.alter_column.type);
		if (op->u.alter_column.using_expr)
			sql_append(&b, " USING %E", op->u.alter_column.using_expr);
		sep = ", ";
		buf_printf(&done, " AND %s IS DISTINCT FROM %s", sc->current_type, sc->type);
	}
	if (op->u.alter_column.nullable != TRI_UNSET)
	{
		char	   *not_null = sql_column_not_null(table, column);

		sql_append(&b, "%sALTER COLUMN %I %s NOT NULL", sep, column,
				   op->u.alter_column.nullable == TRI_TRUE ? "DROP" : "SET");
		sep = ", ";
		buf_printf(&done, " AND %s%s", op->u.alter_column.nullable == TRI_TRUE ? "NOT " : "",
				   not_null);
		free(not_null);
	}
	if (op->u.alter_column.default_change == DEFAULT_SET)
	{
		sql_append(&b, "%sALTER COLUMN %I SET DEFAULT %E", sep, column,
				   op->u.alter_column.default_expr);
		buf_printf(&done, " AND %s IS DISTINCT FROM %s", sc->current_default, sc->default_expr);
	}
	else if (op->u.alter_column.default_change == DEFAULT_DROP)
	{
		sql_append(&b, "%sALTER COLUMN %I DROP DEFAULT", sep, column);
		buf_printf(&done, " AND %s IS NULL", sc->current_default);
	}
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "alter column %I of %Q", column, table);
	strlist_push(&s->sql, buf_detach(&b));
	if (op->u.alter_column.type && op->u.alter_column.default_change == DEFAULT_KEEP)
	{
		char	   *convert = op->u.alter_column.using_expr
			? xstrdup(op->u.alter_column.using_expr)
			: sql_format("%I::%s", column, op->u.alter_column.type);

		strlist_push(&s->sql, sql_convert_default(table, column, sc->default_expr, convert,
												  op->u.alter_column.type, NULL));
		free(convert);
	}
	s->done_check = buf_detach(&done);
	if (op->u.alter_column.type)
		s->warning = xstrdup("a type change that is not binary coercible rewrites the "
							 "table under ACCESS EXCLUSIVE");

	/* the inverse: the saved type (data kept through a cast), default, nullability */
	s = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "give column %I of %Q back its saved definition", column, table);
	if (op->u.alter_column.type)
	{
		strlist_push(&s->sql, restore_type_sql(table, column, sc));
		if (op->u.alter_column.using_expr)
			step_sql(s, "SELECT migrate.restore_rows(%R::regclass, %L)", table, rows);
	}
	free(rows);
	if (op->u.alter_column.type || op->u.alter_column.default_change != DEFAULT_KEEP)
		strlist_push(&s->sql, restore_default_sql(table, column, sc));
	if (op->u.alter_column.nullable != TRI_UNSET)
	{
		char	   *set = sql_format("ALTER TABLE %Q ALTER COLUMN %I SET NOT NULL", table, column);
		char	   *drop = sql_format("ALTER TABLE %Q ALTER COLUMN %I DROP NOT NULL", table, column);
		char	   *not_was = xasprintf("NOT %s", sc->was_not_null);

		strlist_push(&s->sql, guarded(sc->was_not_null, set));
		strlist_push(&s->sql, guarded(not_was, drop));
		free(not_was);
		free(drop);
		free(set);
	}
}

/*
 * Online type change: a shadow column of the new type, kept in sync by a
 * trigger, filled in batches, made NOT NULL if need be, then swapped in
 * under a short lock.  After the swap the trigger keeps the old column in
 * sync the other way, so that a rollback keeps the data; finalize drops it.
 */
static void
plan_alter_type_online(PlanCtx *pc, const SavedColumn *sc)
{
	const Operation *op = pc->op;
	const char *table = op->u.alter_column.table;
	const char *column = op->u.alter_column.column;
	const char *type = op->u.alter_column.type;
	char	   *shadow = object_name(pc, "migrate_new", 0);
	char	   *old = object_name(pc, "migrate_old", 0);
	char	   *shadow_exists = sql_column_exists(table, shadow);
	char	   *old_exists = sql_column_exists(table, old);
	char	   *convert = op->u.alter_column.using_expr
		? xstrdup(op->u.alter_column.using_expr) : sql_format("%I::%s", column, type);
	char	   *swapped = xasprintf("(NOT %s AND %s)", shadow_exists, old_exists);
	char	   *forward_body;
	char	   *body;
	Step	   *s;

	/* 1: the shadow column */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "add shadow column %I %s to %Q", shadow, type, table);
	step_sql(s, "ALTER TABLE %Q ADD COLUMN %I %s", table, shadow, type);
	step_done(s, "SELECT %s OR %s", shadow_exists, old_exists);
	undo_add_column(pc, s, table, shadow);

	/* 2: writes keep it in sync */
	{
		char	   *value = expr_over_row(table, "NEW", convert);
		char	   *summary = sql_format("trigger on %Q keeps %I in sync with %I", table, shadow,
										 column);

		forward_body = sql_format("    NEW.%I := %s;", shadow, value);
		plan_sync_trigger(pc, table, 0, forward_body, summary);
		free(summary);
		free(value);
	}

	/* 3: existing rows, in batches; done once swapped (the name is gone then) */
	{
		KeyExpr		item = {shadow, convert, op->pos};
		KeyExprList set = {&item, 1};
		char	   *summary = sql_format("fill %I from %I", shadow, column);

		s = plan_backfill_step(pc, NULL, table, &set, NULL, 0, -1, summary);
		step_done(s, "SELECT %s", swapped);
		free(summary);
	}

	/* 4: NOT NULL when asked, or when the old column was */
	if (op->u.alter_column.nullable != TRI_TRUE)
	{
		char	   *cond = op->u.alter_column.nullable == TRI_FALSE ? xstrdup(shadow_exists)
			: xasprintf("%s AND %s", shadow_exists, sc->was_not_null);

		plan_set_not_null(pc, NULL, table, shadow, cond, NULL);
		free(cond);
	}

	/* 5: the swap, under one short lock */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "swap %I in for %I of %Q (the old one becomes %I)", shadow, column, table, old);
	step_sql(s, "ALTER TABLE %Q RENAME COLUMN %I TO %I", table, column, old);
	step_sql(s, "ALTER TABLE %Q RENAME COLUMN %I TO %I", table, shadow, column);
	if (op->u.alter_column.nullable == TRI_TRUE)
		step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I DROP NOT NULL", table, old);
	if (op->u.alter_column.default_change == DEFAULT_SET)
		step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT %E", table, column,
				 op->u.alter_column.default_expr);
	else if (op->u.alter_column.default_change == DEFAULT_KEEP)
		strlist_push(&s->sql, sql_convert_default(table, column, sc->default_expr, convert, type, NULL));
	{
		/*
		 * The trigger now copies to the old column, cast back to its saved
		 * type, what a write puts in the new one; a row no write touched
		 * keeps its original value there, for a rollback to give back.
		 */
		char	   *function = sync_function_name(pc, 0);
		char	   *create = sql_format("CREATE OR REPLACE FUNCTION migrate.%I() RETURNS trigger "
										"LANGUAGE plpgsql AS ", function);
		char	   *before_type;
		char	   *after_type;
		char	   *code_before;
		char	   *code_after;

		sync_copy_written_parts(column, old, &before_type, &after_type);
		code_before = sync_function_code(before_type, NULL);
		code_after = sync_function_code(NULL, after_type);
		body = sql_format("DECLARE saved text := %s; BEGIN EXECUTE %L || quote_literal(%L || saved "
						  "|| %L); END", sc->type, create, code_before, code_after);
		strlist_push(&s->sql, do_block(body));
		free(body);
		free(code_before);
		free(code_after);
		free(before_type);
		free(after_type);
		free(create);
		free(function);
	}
	step_done(s, "SELECT %s", swapped);
	s->warning = sql_format("indexes, constraints and views on %I keep using the old column "
							"(now %I): finalize refuses to drop it until they are rebuilt over %I",
							column, old, column);
	{
		Step	   *undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
									"swap the old column back in for %I of %Q", column, table);

		step_sql(undo, "ALTER TABLE %Q RENAME COLUMN %I TO %I", table, column, shadow);
		step_sql(undo, "ALTER TABLE %Q RENAME COLUMN %I TO %I", table, old, column);
		strlist_push(&undo->sql, sync_function_sql(pc, 0, forward_body));
		step_done(undo, "SELECT %s", shadow_exists);
		if (op->u.alter_column.nullable == TRI_TRUE)
			plan_set_not_null(pc, s, table, column, sc->was_not_null, NULL);
	}

	/*
	 * 6: finalize drops the trigger and the old column, once nothing but
	 * its NOT NULL, default and sequences uses it: indexes and constraints
	 * on it are not rebuilt over the new column, and DROP COLUMN would take
	 * them silently.  The check comes first, while the trigger still keeps
	 * the old column for a rollback.
	 */
	s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_NONE, NULL,
				 "check that nothing but its default uses the old column %I of %Q", old, table);
	strlist_push(&s->sql, sql_refuse_column_dependents(table, old,
		"column % of % is still used by %: dropping it would drop them too",
		"build them over the new column in a migration of their own (create_index, add_constraint), "
		"or drop them, then finalize again; until then the old column is kept in sync"));
	step_done(s, "SELECT NOT %s", old_exists);
	plan_drop_sync_trigger(pc, table, 0);
	s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop the old column %I of %Q", old, table);
	strlist_push(&s->sql, sql_move_owned_sequences(table, old, column));
	step_sql(s, "ALTER TABLE %Q DROP COLUMN IF EXISTS %I", table, old);
	step_done(s, "SELECT NOT %s", old_exists);
	s->irreversible = xstrdup("finalize drops the old column and its data");

	free(forward_body);
	free(swapped);
	free(convert);
	free(old_exists);
	free(shadow_exists);
	free(old);
	free(shadow);
}

/* Online nullability and default changes: each a short step. */
static void
plan_alter_column_online(PlanCtx *pc, const SavedColumn *sc)
{
	const Operation *op = pc->op;
	const char *table = op->u.alter_column.table;
	const char *column = op->u.alter_column.column;
	Step	   *s;

	if (op->u.alter_column.nullable == TRI_FALSE)
	{
		char	   *undo_cond = xasprintf("NOT %s", sc->was_not_null);

		plan_set_not_null(pc, NULL, table, column, NULL, undo_cond);
		free(undo_cond);
	}
	else if (op->u.alter_column.nullable == TRI_TRUE)
	{
		char	   *not_null = sql_column_not_null(table, column);

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "drop NOT NULL of %I of %Q", column, table);
		step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I DROP NOT NULL", table, column);
		step_done(s, "SELECT NOT %s", not_null);
		plan_set_not_null(pc, s, table, column, sc->was_not_null, NULL);
		free(not_null);
	}
	if (op->u.alter_column.default_change != DEFAULT_KEEP)
	{
		bool		set = op->u.alter_column.default_change == DEFAULT_SET;
		Step	   *undo;

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "%s default of %I of %Q", set ? "set" : "drop", column, table);
		if (set)
		{
			step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT %E", table, column,
					 op->u.alter_column.default_expr);
			step_done(s, "SELECT %s IS DISTINCT FROM %s", sc->current_default, sc->default_expr);
		}
		else
		{
			step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I DROP DEFAULT", table, column);
			step_done(s, "SELECT %s IS NULL", sc->current_default);
		}
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"give %I of %Q back its saved default", column, table);
		strlist_push(&undo->sql, restore_default_sql(table, column, sc));
		step_done(undo, "SELECT %s IS NOT DISTINCT FROM %s", sc->current_default,
				  sc->default_expr);
	}
}

/*
 * Online type change that the server makes without rewriting the table
 * (varchar(50) to varchar(100), varchar to text): one short-lock ALTER
 * COLUMN ... TYPE, then the nullability and default changes as online.
 */
static void
plan_alter_type_in_place(PlanCtx *pc, const SavedColumn *sc)
{
	const Operation *op = pc->op;
	const char *table = op->u.alter_column.table;
	const char *column = op->u.alter_column.column;
	Step	   *s;
	Step	   *undo;

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "change the type of %I of %Q to %s (no rewrite)", column, table,
				 op->u.alter_column.type);
	if (op->u.alter_column.using_expr)
		step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I TYPE %s USING %E", table, column,
				 op->u.alter_column.type, op->u.alter_column.using_expr);
	else
		step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I TYPE %s", table, column,
				 op->u.alter_column.type);
	step_done(s, "SELECT %s IS DISTINCT FROM %s", sc->current_type, sc->type);

	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					"give column %I of %Q back its saved type", column, table);
	strlist_push(&undo->sql, restore_type_sql(table, column, sc));
	strlist_push(&undo->sql, restore_default_sql(table, column, sc));
	step_done(undo, "SELECT %s IS NOT DISTINCT FROM %s", sc->current_type, sc->type);

	plan_alter_column_online(pc, sc);
}

/*
 * Whether an online type change can be made in place: the server says it
 * rewrites nothing, and no shadow column of an earlier run (or of an
 * applied migration that finalize has yet to finish) is about.  Without a
 * database it cannot be told: the shadow column it is.
 */
static bool
type_change_in_place(const PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.alter_column.table;
	char	   *names[2] = {object_name(pc, "migrate_new", 0), object_name(pc, "migrate_old", 0)};
	Error		err = {0};
	bool		in_place = false;

	if (pc->cat != NULL &&
		catalog_column_exists(pc->cat, table, names[0]) == 0 &&
		catalog_column_exists(pc->cat, table, names[1]) == 0)
		in_place = catalog_type_change_rewrites(pc->cat, table, op->u.alter_column.column,
												op->u.alter_column.type,
												op->u.alter_column.using_expr, &err) == 0;
	error_clear(&err);
	free(names[0]);
	free(names[1]);
	return in_place;
}

/*
 * unique: a unique index built concurrently, then the constraint USING
 * INDEX; check: NOT VALID, then VALIDATE; comment: the previous one saved.
 */
static void
plan_alter_column_extras(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.alter_column.table;
	const char *column = op->u.alter_column.column;

	if (op->u.alter_column.unique)
	{
		StrList		cols = one_name(column);
		char	   *name = derived_name(table, column, "key");

		/*
		 * The column already unique through a constraint of that name (the
		 * one PostgreSQL gives a column's UNIQUE): nothing to build, and
		 * nothing of it for rollback to drop, as it is not this migration's.
		 */
		if (catalog_unique_on_column(pc->cat, table, name, column) != 1)
			plan_add_unique_constraint(pc, table, name, "UNIQUE", &cols, NULL);
		free(name);
		strlist_free(&cols);
	}
	if (op->u.alter_column.check_expr)
	{
		char	   *body = sql_format("CHECK %E", op->u.alter_column.check_expr);

		plan_add_checked_constraint(pc, table, op->u.alter_column.check_name, body, NULL,
									LOCK_ACCESS_EXCLUSIVE);
		free(body);
	}
	if (op->u.alter_column.comment_given)
	{
		char	   *what = sql_format("COLUMN %Q.%I", table, column);
		char	   *current = sql_format("col_description(to_regclass(%R), (SELECT attnum "
										 "FROM pg_attribute WHERE attrelid = to_regclass(%R) "
										 "AND attname = %L))", table, table, column);

		plan_comment(pc, what, current, table, op->u.alter_column.comment, 0);
		free(current);
		free(what);
	}
}

static bool
plan_alter_column(PlanCtx *pc)
{
	const char *table = pc->op->u.alter_column.table;
	const char *column = pc->op->u.alter_column.column;
	SavedColumn sc;

	if (pc->op->u.alter_column.type || pc->op->u.alter_column.nullable != TRI_UNSET ||
		pc->op->u.alter_column.default_change != DEFAULT_KEEP)
	{
		saved_column_init(&sc, pc, table, column);
		plan_save_column(pc, table, column);
		if (!ONLINE(pc))
			plan_alter_column_plain(pc, &sc);
		else if (pc->op->u.alter_column.type && type_change_in_place(pc))
			plan_alter_type_in_place(pc, &sc);
		else if (pc->op->u.alter_column.type)
			plan_alter_type_online(pc, &sc);
		else
			plan_alter_column_online(pc, &sc);
		saved_column_free(&sc);
	}
	plan_alter_column_extras(pc);
	return true;
}

/* ---- backfill ---- */

/*
 * A backfill never writes identity or generated columns: the server
 * computes them, and UPDATE of one fails or overrides the sequence.
 */
static bool
check_backfill_columns(PlanCtx *pc, const KeyExprList *columns)
{
	const char *table = pc->op->u.backfill.table;

	for (size_t i = 0; i < columns->n; i++)
	{
		const KeyExpr *c = &columns->items[i];
		ColumnWriter w = catalog_column_writer(pc->cat, table, c->key);

		if (w == COLUMN_WRITER_IDENTITY || w == COLUMN_WRITER_GENERATED)
			return error_set(pc->err, EXIT_USAGE,
							 "%s:%d: backfill: column \"%s\" of %s is %s column, which "
							 "the server fills; a backfill cannot set it",
							 c->pos.file, c->pos.line, c->key, table,
							 w == COLUMN_WRITER_IDENTITY ? "an identity" : "a generated");
	}
	return true;
}

/*
 * Online, a backfill walks the table by a key, each row once; a table
 * without one (a primary key, or unique NOT NULL columns) is refused here,
 * before anything changed, when the table already exists.
 */
static bool
check_walk_key(PlanCtx *pc, const char *table)
{
	StrList		names = {0};
	StrList		types = {0};
	Error		ignored = {0};
	bool		keyless;

	if (!ONLINE(pc) || pc->cat == NULL || catalog_table_exists(pc->cat, table) != 1)
		return true;
	if (!catalog_walk_key(pc->cat, table, &names, &types, &ignored))
	{
		error_clear(&ignored);
		return true;
	}
	keyless = names.n == 0;
	strlist_free(&names);
	strlist_free(&types);
	if (keyless)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d:%d: backfill: %s has no primary key nor unique NOT NULL "
						 "columns, so an online backfill cannot walk its rows each once; "
						 "add one, or apply this migration without --online",
						 pc->op->pos.file, pc->op->pos.line, pc->op->pos.col, table);
	return true;
}

/* "ARRAY['a', 'b']::text[]": the columns a backfill sets. */
static char *
set_columns_array(const KeyExprList *set)
{
	Buf			b;

	buf_init(&b);
	buf_puts(&b, "ARRAY[");
	for (size_t i = 0; i < set->n; i++)
		sql_append(&b, "%s%L", i > 0 ? ", " : "", set->items[i].key);
	buf_puts(&b, "]::text[]");
	return buf_detach(&b);
}

static bool
plan_backfill(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.backfill.table;
	char	   *summary = sql_format("backfill %Q", table);
	Step	   *s;
	Step	   *undo;

	if (!check_backfill_columns(pc, &op->u.backfill.set) ||
		!check_backfill_columns(pc, &op->u.backfill.down) ||
		!check_walk_key(pc, table))
	{
		free(summary);
		return false;
	}
	if (op->u.backfill.down.n > 0)
	{
		s = plan_backfill_step(pc, NULL, table, &op->u.backfill.set, op->u.backfill.where,
							   op->u.backfill.batch_size, op->u.backfill.batch_delay_ms, summary);
		free(summary);
		summary = sql_format("undo the backfill of %Q with its down expressions", table);
		plan_backfill_step(pc, s, table, &op->u.backfill.down, NULL,
						   op->u.backfill.batch_size, op->u.backfill.batch_delay_ms, summary);
		free(summary);
		return true;
	}

	/*
	 * No down: save the values it overwrites, keyed by the walk key, and
	 * the values it writes (its rollback keeps later writes).  Online, each
	 * batch saves its own rows in its own transaction, in the same statement
	 * as its UPDATE, as one row of an array (docs/design.md, "Backfills");
	 * plain, one statement saves them all before the one UPDATE.
	 */
	{
		char	   *rows = object_name(pc, "rows", 0);
		char	   *saved_table = sql_format("migrate.%I", rows);
		char	   *batches = object_name(pc, "row_batches", 0);
		char	   *columns = set_columns_array(&op->u.backfill.set);
		Buf			b;

		ensure_migrate_schema(pc);
		buf_init(&b);
		if (ONLINE(pc))
			buf_puts(&b, "'false'");
		else if (op->u.backfill.where)
			sql_append(&b, "%L", op->u.backfill.where);
		else
			buf_puts(&b, "NULL");
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_SHARE, table,
					 ONLINE(pc) ? "create the table in which the backfill of %Q saves the "
					 "values it overwrites" : "save the values that the backfill of %Q overwrites",
					 table);
		step_sql(s, "SELECT migrate.save_rows(%R::regclass, %L, %s, %s)", table, rows, columns,
				 b.data);
		/* and columns for what the backfill writes: its rollback keeps later writes */
		step_sql(s, "SELECT migrate.track_new_values(%R::regclass, %L, %s)", table, rows, columns);
		/* online, each batch saves one row: an array of those rows (compact, one insert) */
		if (ONLINE(pc))
			step_sql(s, "CREATE TABLE IF NOT EXISTS migrate.%I (batch bigserial PRIMARY KEY, "
					 "saved migrate.%I[] NOT NULL)", batches, rows);
		buf_free(&b);
		step_done(s, "SELECT to_regclass(%L) IS NOT NULL", saved_table);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL, "forget the saved values");
		if (ONLINE(pc))
			step_sql(undo, "DROP TABLE IF EXISTS migrate.%I", batches);
		step_sql(undo, "DROP TABLE IF EXISTS %s", saved_table);

		s = plan_backfill_step(pc, NULL, table, &op->u.backfill.set, op->u.backfill.where,
							   op->u.backfill.batch_size, op->u.backfill.batch_delay_ms, summary);
		if (ONLINE(pc))
		{
			s->backfill->save_table = xstrdup(rows);
			s->backfill->save_batches = xstrdup(batches);
		}
		else
			step_sql(s, "SELECT migrate.note_new_values(%R::regclass, %L, %s)", table, rows,
					 columns);
		/* online, put back in batches like the backfill; plain, one UPDATE */
		free(summary);
		summary = sql_format("put the saved values of %Q back", table);
		undo = plan_backfill_step(pc, s, table, &op->u.backfill.set, NULL,
								  op->u.backfill.batch_size, op->u.backfill.batch_delay_ms,
								  summary);
		strlist_free(&undo->sql);
		step_sql(undo, "SELECT migrate.restore_rows(%R::regclass, %L)", table, rows);
		step_done(undo, "SELECT to_regclass(%L) IS NULL", saved_table);
		if (ONLINE(pc))
		{
			undo->backfill->restore_from = xstrdup(rows);
			undo->backfill->save_batches = xstrdup(batches);
		}
		free(columns);
		free(batches);
		free(saved_table);
		free(rows);
	}
	free(summary);
	return true;
}

/* ---- indexes ---- */

void
append_index_element(Buf *b, const IndexElem *e)
{
	if (e->column)
		sql_append(b, "%I", e->column);
	else
		sql_append(b, "%E", e->expression);
	if (e->collate)
		sql_append(b, " COLLATE %Q", e->collate);
	if (e->opclass)
		sql_append(b, " %Q", e->opclass);
	if (e->order)
		buf_puts(b, strcmp(e->order, "desc") == 0 ? " DESC" : " ASC");
	if (e->nulls)
		buf_puts(b, strcmp(e->nulls, "first") == 0 ? " NULLS FIRST" : " NULLS LAST");
}

bool
index_definition(const PlanCtx *pc, const char *table, const IndexDef *d, Buf *def)
{
	if (d->nulls_not_distinct && pc->cat && pc->cat->server_version < 150000)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d:%d: %s: \"nulls_not_distinct\" needs PostgreSQL 15 or later; "
						 "the server is %d.%d", d->pos.file, d->pos.line, d->pos.col,
						 op_kind_name(pc->op->kind), pc->cat->server_version / 10000,
						 pc->cat->server_version % 10000);
	sql_append(def, "ON %Q", table);
	if (d->method)
		buf_printf(def, " USING %s", d->method);
	buf_puts(def, " (");
	for (size_t i = 0; i < d->columns.n; i++)
	{
		buf_puts(def, i > 0 ? ", " : "");
		append_index_element(def, &d->columns.items[i]);
	}
	buf_putc(def, ')');
	if (d->include.n > 0)
		sql_append(def, " INCLUDE (%C)", &d->include);
	if (d->nulls_not_distinct)
		buf_puts(def, " NULLS NOT DISTINCT");
	for (size_t i = 0; i < d->with.n; i++)
		sql_append(def, "%s%s = %L", i == 0 ? " WITH (" : ", ", d->with.items[i].key,
				   d->with.items[i].expr);
	if (d->with.n > 0)
		buf_putc(def, ')');
	if (d->where)
		sql_append(def, " WHERE %E", d->where);
	return true;
}

static bool
plan_create_index(PlanCtx *pc)
{
	const IndexDef *d = &pc->op->u.create_index;
	Buf			def;
	bool		ok;

	buf_init(&def);
	ok = index_definition(pc, d->table, d, &def);
	if (ok)
		plan_index_build(pc, d->table, d->name, d->unique, def.data);
	buf_free(&def);
	return ok;
}

static bool
plan_drop_index(PlanCtx *pc)
{
	const char *index = pc->op->u.drop_index.name;
	char	   *key = saved_key(pc, "index");
	char	   *saved = saved_value(pc, "index");
	char	   *was_saved = saved_flag(pc, "index", NULL);
	const char *const forget[] = {"index", NULL};
	char	   *save;
	Step	   *s;
	Step	   *undo;

	ensure_migrate_schema(pc);
	save = sql_format("INSERT INTO migrate.saved_objects (version, key, definition) "
					  "SELECT %D, %L, pg_get_indexdef(to_regclass(%R)) "
					  "WHERE to_regclass(%R) IS NOT NULL ON CONFLICT DO NOTHING",
					  pc->m->version, key, index, index);
	if (ONLINE(pc))
	{
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
					 "save the definition of index %Q for rollback", index);
		strlist_push(&s->sql, save);
		step_done(s, "SELECT %s OR to_regclass(%R) IS NULL", was_saved, index);
		undo_forget_saved(pc, s, forget);

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, index,
					 "drop index %Q concurrently", index);
		step_sql(s, "DROP INDEX CONCURRENTLY IF EXISTS %Q", index);
		step_done(s, "SELECT to_regclass(%R) IS NULL", index);

		/* rebuilt concurrently from its definition: a statement made at run time */
		undo = add_step(pc, s, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, index,
						"build index %Q again concurrently, from its saved definition", index);
		step_sql(undo, "DROP INDEX CONCURRENTLY IF EXISTS %Q", index);
		undo->dynamic_sql = sql_format("SELECT regexp_replace(definition, %L, %L) "
									   "FROM migrate.saved_objects WHERE version = %D AND key = %L",
									   "^CREATE (UNIQUE )?INDEX ", "CREATE \\1INDEX CONCURRENTLY ",
									   pc->m->version, key);
	}
	else
	{
		char	   *body;

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, index,
					 "drop index %Q", index);
		strlist_push(&s->sql, save);
		step_sql(s, "DROP INDEX IF EXISTS %Q", index);
		step_done(s, "SELECT to_regclass(%R) IS NULL", index);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_SHARE, index,
						"create index %Q again, from its saved definition", index);
		body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NOT NULL THEN "
						  "EXECUTE saved; END IF; END", saved);
		strlist_push(&undo->sql, do_block(body));
		free(body);
		undo_forget_saved(pc, s, forget);
	}
	{
		char	   *valid = sql_index_valid(index);

		/* the rebuild is the first inverse in both strategies */
		step_done(&s->rollback[0], "SELECT %s", valid);
		free(valid);
	}
	free(was_saved);
	free(saved);
	free(key);
	return true;
}

/* ---- constraints ---- */

static bool
plan_add_constraint(PlanCtx *pc)
{
	const char *table = pc->op->u.add_constraint.table;
	const ConstraintDef *con = &pc->op->u.add_constraint.constraint;
	Buf			body;

	switch (con->kind)
	{
		case CONSTRAINT_CHECK:
		case CONSTRAINT_FOREIGN_KEY:
			buf_init(&body);
			append_constraint_body(&body, con);
			plan_add_checked_constraint(pc, table, con->name, body.data,
										con->kind == CONSTRAINT_CHECK ? NULL : con->ref_table,
										con->kind == CONSTRAINT_CHECK ? LOCK_ACCESS_EXCLUSIVE
										: LOCK_SHARE_ROW_EXCLUSIVE);
			buf_free(&body);
			break;
		case CONSTRAINT_UNIQUE:
			plan_add_unique_constraint(pc, table, con->name, "UNIQUE", &con->columns,
									   &con->include);
			break;
		case CONSTRAINT_PRIMARY_KEY:
			plan_add_unique_constraint(pc, table, con->name, "PRIMARY KEY", &con->columns,
									   &con->include);
			break;
		case CONSTRAINT_EXCLUDE:
			/* no NOT VALID for an exclusion constraint: built under its lock (lint says so) */
			buf_init(&body);
			append_constraint_body(&body, con);
			plan_add_constraint_now(pc, table, con->name, body.data, NULL, LOCK_ACCESS_EXCLUSIVE);
			buf_free(&body);
			break;
	}
	return true;
}

static bool
plan_drop_constraint(PlanCtx *pc)
{
	const char *table = pc->op->u.drop_constraint.table;
	const char *name = pc->op->u.drop_constraint.name;
	char	   *exists = sql_constraint_exists(table, name);
	char	   *con_key = saved_key(pc, "constraint");
	char	   *index_key = saved_key(pc, "index");
	char	   *saved_con = saved_value(pc, "constraint");
	char	   *add = sql_format("ALTER TABLE %Q ADD CONSTRAINT %I ", table, name);
	const char *const forget[] = {"constraint", "index", NULL};
	char	   *body;
	Step	   *s;
	Step	   *undo;

	ensure_migrate_schema(pc);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop constraint %I of %Q (its definition saved for rollback)", name, table);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, pg_get_constraintdef(oid) FROM pg_constraint "
			 "WHERE conrelid = to_regclass(%R) AND conname = %L ON CONFLICT DO NOTHING",
			 pc->m->version, con_key, table, name);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, pg_get_indexdef(conindid) FROM pg_constraint "
			 "WHERE conrelid = to_regclass(%R) AND conname = %L AND contype IN ('u', 'p') "
			 "ON CONFLICT DO NOTHING", pc->m->version, index_key, table, name);
	step_sql(s, "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", table, name);
	step_done(s, "SELECT NOT %s", exists);

	if (!ONLINE(pc))
	{
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"add constraint %I back to %Q, from its saved definition", name, table);
		body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NOT NULL THEN "
						  "EXECUTE %L || saved; END IF; END", saved_con, add);
		strlist_push(&undo->sql, do_block(body));
		step_done(undo, "SELECT %s", exists);
		free(body);
	}
	else
	{
		/*
		 * Online: a unique or primary key constraint gets its index back
		 * concurrently first; a check or foreign key comes back NOT VALID,
		 * then is validated (unless it was not valid before).
		 */
		char	   *index = sibling_name(table, name);
		char	   *valid = sql_index_valid(index);
		char	   *had_index = saved_flag(pc, "index", NULL);
		char	   *validated = sql_constraint_validated(table, name);
		char	   *using_index = sql_format(" USING INDEX %I", name);
		char	   *stmt;
		char	   *cond;

		undo = add_step(pc, s, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
						"build the index of %I concurrently, from its saved definition", name);
		undo->dynamic_sql = sql_format("SELECT regexp_replace(definition, %L, %L) "
									   "FROM migrate.saved_objects WHERE version = %D AND key = %L",
									   "^CREATE (UNIQUE )?INDEX ", "CREATE \\1INDEX CONCURRENTLY ",
									   pc->m->version, index_key);
		step_done(undo, "SELECT NOT %s OR %s OR %s", had_index, exists, valid);

		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"add constraint %I back to %Q, from its saved definition", name, table);
		body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NULL THEN RETURN; END IF; "
						  "IF %s THEN EXECUTE %L || CASE WHEN saved LIKE 'PRIMARY KEY%%' "
						  "THEN 'PRIMARY KEY' ELSE 'UNIQUE' END || %L; "
						  "ELSE EXECUTE %L || regexp_replace(saved, ' NOT VALID$', '') || ' NOT VALID'; "
						  "END IF; END", saved_con, had_index, add,
						  using_index, add);
		strlist_push(&undo->sql, do_block(body));
		step_done(undo, "SELECT %s", exists);
		free(body);

		undo = add_step(pc, s, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
						"validate constraint %I of %Q", name, table);
		cond = sql_format("%s AND NOT %s AND %s NOT LIKE '%% NOT VALID'", exists, validated,
						  saved_con);
		stmt = sql_format("ALTER TABLE %Q VALIDATE CONSTRAINT %I", table, name);
		strlist_push(&undo->sql, guarded(cond, stmt));
		step_done(undo, "SELECT NOT (%s)", cond);
		free(stmt);
		free(cond);
		free(using_index);
		free(validated);
		free(had_index);
		free(valid);
		free(index);
	}
	undo_forget_saved(pc, s, forget);
	free(add);
	free(saved_con);
	free(index_key);
	free(con_key);
	free(exists);
	return true;
}

/* ---- row level security and policies ---- */

Step *
rls_step(PlanCtx *pc, Step *owner, const char *table, bool on, bool force)
{
	Step	   *s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
							 "%s row level security on %Q%s", on ? "enable" : "disable", table,
							 force ? (on ? ", forced" : " and its forcing") : "");

	step_sql(s, "ALTER TABLE %Q %s ROW LEVEL SECURITY", table, on ? "ENABLE" : "DISABLE");
	if (force)
		step_sql(s, "ALTER TABLE %Q %s ROW LEVEL SECURITY", table, on ? "FORCE" : "NO FORCE");
	step_done(s, "SELECT EXISTS (SELECT FROM pg_class WHERE oid = to_regclass(%R) AND "
			  "%srelrowsecurity%s)", table, on ? "" : "NOT ",
			  force ? (on ? " AND relforcerowsecurity" : " AND NOT relforcerowsecurity") : "");
	return s;
}

Step *
plan_rls_change(PlanCtx *pc, const char *table, bool on, bool force)
{
	char	   *what = xasprintf("%s.rls", table);
	char	   *key = saved_key(pc, what);
	char	   *saved = saved_value(pc, what);
	char	   *state = sql_format("(SELECT relrowsecurity::text || ',' || relforcerowsecurity::text "
								   "FROM pg_class WHERE oid = to_regclass(%R))", table);
	char	   *body;
	char	   *save;
	const char *const forget[] = {what, NULL};
	Step	   *s;
	Step	   *undo;

	ensure_migrate_schema(pc);
	s = rls_step(pc, NULL, table, on, force);
	save = sql_format("INSERT INTO migrate.saved_objects (version, key, definition) "
					  "SELECT %D, %L, %s ON CONFLICT DO NOTHING", pc->m->version, key, state);
	/* first: it reads the state that the ALTERs change */
	strlist_push(&s->sql, save);
	memmove(&s->sql.items[1], &s->sql.items[0], (s->sql.n - 1) * sizeof(char *));
	s->sql.items[0] = save;
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					"give %Q its row level security as it was", table);
	body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NULL THEN RETURN; END IF; "
					  "IF split_part(saved, ',', 1) = 'true' THEN ALTER TABLE %Q ENABLE ROW LEVEL "
					  "SECURITY; ELSE ALTER TABLE %Q DISABLE ROW LEVEL SECURITY; END IF; "
					  "IF split_part(saved, ',', 2) = 'true' THEN ALTER TABLE %Q FORCE ROW LEVEL "
					  "SECURITY; ELSE ALTER TABLE %Q NO FORCE ROW LEVEL SECURITY; END IF; END",
					  saved, table, table, table, table);
	strlist_push(&undo->sql, do_block(body));
	step_done(undo, "SELECT %s IS NULL OR %s = %s", saved, state, saved);
	undo_forget_saved(pc, s, forget);
	free(body);
	free(state);
	free(saved);
	free(key);
	free(what);
	return s;
}

static bool
plan_rls(PlanCtx *pc)
{
	plan_rls_change(pc, pc->op->u.rls.table, pc->op->kind == OP_ENABLE_RLS,
					pc->op->u.rls.force);
	return true;
}

/* CREATE POLICY from the operation's fields. */
static char *
create_policy_sql(const Operation *op)
{
	Buf			b;

	buf_init(&b);
	sql_append(&b, "CREATE POLICY %I ON %Q AS %s FOR ", op->u.policy.name, op->u.policy.table,
			   op->u.policy.permissive ? "PERMISSIVE" : "RESTRICTIVE");
	for (const char *p = op->u.policy.command ? op->u.policy.command : "all"; *p; p++)
		buf_putc(&b, (char) toupper((unsigned char) *p));
	buf_puts(&b, " TO ");
	if (op->u.policy.roles.n == 0)
		buf_puts(&b, "PUBLIC");
	for (size_t i = 0; i < op->u.policy.roles.n; i++)
	{
		const char *role = op->u.policy.roles.items[i];

		buf_puts(&b, i > 0 ? ", " : "");
		/* the pseudo-role PUBLIC is a keyword; quoted it would name a role */
		if (strcmp(role, "public") == 0)
			buf_puts(&b, "PUBLIC");
		else
			sql_append(&b, "%I", role);
	}
	if (op->u.policy.using_expr)
		sql_append(&b, " USING %E", op->u.policy.using_expr);
	if (op->u.policy.with_check)
		sql_append(&b, " WITH CHECK %E", op->u.policy.with_check);
	return buf_detach(&b);
}

static bool
plan_create_policy(PlanCtx *pc)
{
	const char *table = pc->op->u.policy.table;
	const char *name = pc->op->u.policy.name;
	char	   *exists = sql_format("EXISTS (SELECT FROM pg_policy WHERE polrelid = "
									"to_regclass(%R) AND polname = %L)", table, name);
	Step	   *s;

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "create policy %I on %Q", name, table);
	step_done(s, "SELECT %s", exists);
	plan_own_policy(pc, s, table, name, create_policy_sql(pc->op));
	free(exists);
	return true;
}

static bool
plan_drop_policy(PlanCtx *pc)
{
	const char *table = pc->op->u.policy.table;
	const char *name = pc->op->u.policy.name;
	char	   *exists = sql_format("EXISTS (SELECT FROM pg_policy WHERE polrelid = "
									"to_regclass(%R) AND polname = %L)", table, name);
	char	   *key = saved_key(pc, "policy");
	char	   *saved = saved_value(pc, "policy");
	const char *const forget[] = {"policy", NULL};
	char	   *body;
	Step	   *s;
	Step	   *undo;

	ensure_migrate_schema(pc);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop policy %I on %Q (its definition saved for rollback)", name, table);
	/* the policy as CREATE POLICY, rebuilt from the catalog */
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, format('CREATE POLICY %%I ON %%s AS %%s FOR %%s TO %%s%%s%%s', "
			 "p.polname, p.polrelid::regclass, "
			 "CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, "
			 "CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' "
			 "WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, "
			 "CASE WHEN p.polroles = '{0}' THEN 'PUBLIC' ELSE (SELECT string_agg(quote_ident(r.rolname), ', ') "
			 "FROM pg_roles r WHERE r.oid = ANY (p.polroles)) END, "
			 "' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', "
			 "' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')') "
			 "FROM pg_policy p WHERE p.polrelid = to_regclass(%R) AND p.polname = %L "
			 "ON CONFLICT DO NOTHING", pc->m->version, key, table, name);
	step_save_owner(pc, s, "policy", table, name);
	step_sql(s, "DROP POLICY IF EXISTS %I ON %Q", name, table);
	step_done(s, "SELECT NOT %s", exists);

	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					"create policy %I on %Q again, from its saved definition", name, table);
	body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NOT NULL THEN "
					  "EXECUTE saved; END IF; END", saved);
	strlist_push(&undo->sql, do_block(body));
	step_rehome_owner(pc, undo, "policy", table, name);
	step_done(undo, "SELECT %s", exists);
	undo_forget_saved(pc, s, forget);
	free(body);
	free(saved);
	free(key);
	free(exists);
	return true;
}

/* ---- sql ---- */

/* A raw statement: its text, its line in the file and what it does. */
typedef struct RawStatement
{
	char	   *text;
	int			line;
	StatementEffect effect;
} RawStatement;

/*
 * Splits text (whose first line is line first_line of the file) into its
 * statements with PostgreSQL's own parser, and says what each locks.  what
 * names the field for messages ("sql.up").
 */
static bool
parse_statements(PlanCtx *pc, const char *text, int first_line, const char *what,
				 RawStatement **out, size_t *n)
{
	SqlStatements stmts;

	*out = NULL;
	*n = 0;
	if (!sql_split(text, pc->op->pos.file, first_line, what, &stmts, pc->err))
	{
		sql_statements_free(&stmts);
		return false;
	}
	*out = xcalloc(stmts.n + 1, sizeof(RawStatement));
	for (size_t i = 0; i < stmts.n; i++)
	{
		RawStatement *r = &(*out)[*n];

		if (stmts.items[i].text[0] == '\0')
			continue;
		r->text = xstrdup(stmts.items[i].text);
		r->line = stmts.items[i].line;
		lint_statement_effect(stmts.items[i].node, &r->effect);
		(*n)++;
	}
	sql_statements_free(&stmts);
	return true;
}

static void
raw_statements_free(RawStatement *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		free(r[i].text);
		free(r[i].effect.relation);
	}
	free(r);
}

/* The first words of a statement, on one line, for a step's summary. */
static char *
first_words(const char *sql)
{
	enum
	{
		MAX_CHARS = 60
	};
	Buf			b;
	bool		space = false;

	buf_init(&b);
	for (const char *p = sql; *p && b.len < MAX_CHARS; p++)
	{
		if (isspace((unsigned char) *p))
			space = b.len > 0;
		else
		{
			if (space)
				buf_putc(&b, ' ');
			space = false;
			buf_putc(&b, *p);
		}
	}
	if (strlen(sql) > b.len && b.len >= MAX_CHARS)
	{
		char	   *cut = strrchr(b.data, ' ');

		/* end at a whole word */
		if (cut && cut > b.data)
		{
			b.len = (size_t) (cut - b.data);
			b.data[b.len] = '\0';
		}
		buf_puts(&b, " ...");
	}
	return buf_detach(&b);
}

/*
 * A step running statements [from, to) of r: its lock the strongest of
 * theirs, its summary the first words of the first.
 */
static Step *
raw_sql_step(PlanCtx *pc, Step *owner, const RawStatement *r, size_t from, size_t to,
			 const char *label)
{
	const RawStatement *strongest = &r[from];
	char	   *words = first_words(r[from].text);
	Step	   *s;

	for (size_t i = from; i < to; i++)
		if (r[i].effect.lock > strongest->effect.lock)
			strongest = &r[i];
	s = add_step(pc, owner, PHASE_EXPAND, STEP_SQL, strongest->effect.lock,
				 strongest->effect.relation, "%s (line %d): %s%s", label, r[from].line, words,
				 to - from > 1 ? " (and the statements after it)" : "");
	for (size_t i = from; i < to; i++)
	{
		strlist_add(&s->sql, r[i].text);
		s->rewrites |= r[i].effect.rewrite;
		s->scans |= r[i].effect.scan;
	}
	s->in_txn = pc->op->u.sql.transactional;
	free(words);
	return s;
}

/*
 * In a transaction, the statements are one step; outside, each statement
 * is its own step, recorded as it completes.  The down belongs to the
 * first: once any statement ran, rollback runs the down.
 */
static bool
plan_sql(PlanCtx *pc)
{
	const Operation *op = pc->op;
	bool		txn = op->u.sql.transactional;
	RawStatement *up,
			   *down = NULL;
	size_t		n_up,
				n_down = 0;
	Step	   *first = NULL;
	bool		ok;

	ok = parse_statements(pc, op->u.sql.up, op->u.sql.up_line ? op->u.sql.up_line : op->pos.line,
						  "sql.up", &up, &n_up) &&
		(op->u.sql.down == NULL ||
		 parse_statements(pc, op->u.sql.down, op->u.sql.down_line ? op->u.sql.down_line
						  : op->pos.line, "sql.down", &down, &n_down));
	if (ok && n_up == 0)
		ok = error_set(pc->err, EXIT_USAGE, "%s:%d: sql.up: no statement", op->pos.file,
					   op->pos.line);
	for (size_t i = 0; ok && i < n_up; i = txn ? n_up : i + 1)
	{
		Step	   *s = raw_sql_step(pc, NULL, up, i, txn ? n_up : i + 1, "SQL");

		if (!txn)
			s->sql_line = up[i].line;
		if (first == NULL)
			first = s;
		else
			continue;
		if (op->u.sql.down_none)
			continue;
		if (op->u.sql.down == NULL)
			s->irreversible = xstrdup("the sql operation has no down");
		else if (n_down > 0)
			raw_sql_step(pc, s, down, 0, n_down, "down SQL");
	}
	raw_statements_free(up, n_up);
	raw_statements_free(down, n_down);
	return ok;
}

/* ---- dispatch ---- */

bool
plan_op(PlanCtx *pc)
{
	switch (pc->op->kind)
	{
		case OP_CREATE_TABLE:
			return plan_create_table(pc);
		case OP_DROP_TABLE:
			return plan_drop_table(pc);
		case OP_RENAME_TABLE:
			return plan_rename_table(pc);
		case OP_ADD_COLUMN:
			return plan_add_column(pc);
		case OP_DROP_COLUMN:
			return plan_drop_column(pc);
		case OP_RENAME_COLUMN:
			return plan_rename_column(pc);
		case OP_ALTER_COLUMN:
			return plan_alter_column(pc);
		case OP_BACKFILL:
			return plan_backfill(pc);
		case OP_CREATE_INDEX:
			return plan_create_index(pc);
		case OP_DROP_INDEX:
			return plan_drop_index(pc);
		case OP_ADD_CONSTRAINT:
			return plan_add_constraint(pc);
		case OP_DROP_CONSTRAINT:
			return plan_drop_constraint(pc);
		case OP_ENABLE_RLS:
		case OP_DISABLE_RLS:
			return plan_rls(pc);
		case OP_CREATE_POLICY:
			return plan_create_policy(pc);
		case OP_DROP_POLICY:
			return plan_drop_policy(pc);
		case OP_MULTI_TENANCY:
			return plan_multi_tenancy(pc);
		case OP_SQL:
			return plan_sql(pc);
		case OP_ADD_PARTITIONS:
		case OP_ATTACH_PARTITION:
		case OP_DETACH_PARTITION:
		case OP_PARTITION_TABLE:
			return plan_partition_op(pc);
		case OP_CREATE_VIEW:
		case OP_REPLACE_VIEW:
		case OP_DROP_VIEW:
		case OP_CREATE_MATERIALIZED_VIEW:
		case OP_REFRESH_MATERIALIZED_VIEW:
		case OP_REPLACE_MATERIALIZED_VIEW:
		case OP_DROP_MATERIALIZED_VIEW:
		case OP_CREATE_TYPE:
		case OP_DROP_TYPE:
		case OP_ADD_ENUM_VALUE:
		case OP_COMMENT:
		case OP_SET_REPLICA_IDENTITY:
		case OP_GRANT:
		case OP_REVOKE:
		case OP_CREATE_ROLE:
			return plan_object_op(pc);
		case OP__COUNT:
			break;
	}
	return error_set(pc->err, EXIT_USAGE, "%s:%d: unknown operation", pc->op->pos.file,
					 pc->op->pos.line);
}
