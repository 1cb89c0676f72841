/*
 * planner_rename.c: rename_table and rename_column, so that code that
 * predates the migration never notices (docs/design.md, "Renames").
 *
 * rename_table renames under a short lock and leaves a view under the old
 * name (a simple view: PostgreSQL writes through it) until finalize.
 * rename_column adds the new column, keeps both equal by a trigger, fills it
 * in batches and gives it the old column's NOT NULL, indexes, checks and
 * foreign keys online; finalize drops the old column.  A column the server
 * cannot give a twin (part of the primary key, referenced by a foreign key,
 * identity or generated) gets the plain rename, with its warning.
 */
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

#define RENAME_WARNING "code that uses the old name breaks: deploy code that " \
	"works with both names first"

/* The comment that marks a view of rename_table's as migrate's own. */
#define OLD_NAME_VIEW_COMMENT "the old name of a renamed table, kept by migrate until finalize"

/* SQL boolean: view is a view of this migration's over table. */
static char *
sql_view_over(const char *view, const char *table)
{
	return sql_format("EXISTS (SELECT FROM pg_class v JOIN pg_rewrite r ON r.ev_class = v.oid "
					  "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "
					  "WHERE v.oid = to_regclass(%R) AND v.relkind = 'v' "
					  "AND d.refobjid = to_regclass(%R))", view, table);
}

/*
 * SQL boolean: view is the old name view of this migration's: the ledger
 * records it as its own, or (a migration applied before the view was
 * recorded) no migration's and a view over table.
 */
static char *
own_old_name_view(const PlanCtx *pc, const char *view, const char *table)
{
	char	   *own = sql_owned(pc, "view", NULL, view);
	char	   *anyone = sql_owned_by(0, "view", NULL, view);
	char	   *over = sql_view_over(view, table);
	char	   *sql = xasprintf("(%s OR (%s AND NOT %s))", own, over, anyone);

	free(own);
	free(anyone);
	free(over);
	return sql;
}

/*
 * The view that keeps the old name: every column of the table, the
 * invoker's privileges and row security (PostgreSQL 15+: without it the
 * view would read as its owner, past the table's policies), the table's
 * grants.
 */
static void
old_name_view_sql(Step *s, const char *view, const char *table)
{
	char	   *body;

	step_sql(s, "CREATE VIEW %Q AS SELECT * FROM %Q", view, table);
	{
		char	   *invoker = sql_format("ALTER VIEW %Q SET (security_invoker = true)", view);

		body = sql_format("DECLARE g record; BEGIN "
						  "IF current_setting('server_version_num')::int >= 150000 THEN "
						  "EXECUTE %L; END IF; "
						  "FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable "
						  "FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass(%R) "
						  "AND a.grantee <> c.relowner AND a.privilege_type IN "
						  "('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRIGGER') LOOP "
						  "EXECUTE format('GRANT %%s ON %%s TO %%s%%s', g.privilege_type, %R, "
						  "CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END, "
						  "CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); "
						  "END LOOP; END", invoker, table, view);
		free(invoker);
	}
	strlist_push(&s->sql, do_block(body));
	step_sql(s, "COMMENT ON VIEW %Q IS %L", view, OLD_NAME_VIEW_COMMENT);
	free(body);
}

bool
plan_rename_table(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *from = op->u.rename_table.from;
	char	   *from_schema;
	char	   *from_rel;
	char	   *to_schema;
	char	   *to_rel;
	char	   *to;
	char	   *view;
	char	   *renamed;
	Step	   *s;
	bool		ok = true;

	split_qualified(from, &from_schema, &from_rel);
	split_qualified(op->u.rename_table.to, &to_schema, &to_rel);
	if (to_schema && (from_schema == NULL || strcmp(from_schema, to_schema) != 0))
	{
		ok = error_set(pc->err, EXIT_USAGE,
					   "%s:%d: rename_table: \"%s\" and \"%s\" are in different schemas; "
					   "a rename cannot move a table", op->pos.file, op->pos.line, from,
					   op->u.rename_table.to);
		goto done;
	}
	to = sibling_name(from, to_rel);
	view = own_old_name_view(pc, from, to);
	renamed = sql_format("to_regclass(%R) IS NOT NULL AND NOT EXISTS (SELECT FROM pg_class "
						 "WHERE oid = to_regclass(%R) AND relkind IN ('r', 'p'))", to, from);
	if (ONLINE(pc))
	{
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, from,
					 "rename table %Q to %I; a view keeps the old name working until finalize",
					 from, to_rel);
		step_sql(s, "ALTER TABLE %Q RENAME TO %I", from, to_rel);
		old_name_view_sql(s, from, to);
		step_done(s, "SELECT %s AND %s", renamed, view);
		step_owns(s, "view", NULL, from);
	}
	else
	{
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, from,
					 "rename table %Q to %I", from, to_rel);
		step_sql(s, "ALTER TABLE %Q RENAME TO %I", from, to_rel);
		step_done(s, "SELECT %s", renamed);
		s->warning = xstrdup(RENAME_WARNING);
	}

	s = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, to,
				 "rename table %Q back to %I", to, from_rel);
	if (ONLINE(pc))
	{
		char	   *drop = sql_format("DROP VIEW %Q", from);

		strlist_push(&s->sql, guarded(view, drop));
		free(drop);
	}
	step_sql(s, "ALTER TABLE %Q RENAME TO %I", to, from_rel);
	step_done(s, "SELECT to_regclass(%R) IS NOT NULL AND to_regclass(%R) IS NULL", from, to);

	if (ONLINE(pc))
	{
		char	   *drop = sql_format("DROP VIEW %Q", from);

		s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, from,
					 "drop the view %Q that kept the old name of %Q working", from, to);
		strlist_push(&s->sql, guarded(view, drop));
		step_done(s, "SELECT NOT %s", view);
		free(drop);
	}
	free(renamed);
	free(view);
	free(to);
done:
	free(from_schema);
	free(from_rel);
	free(to_schema);
	free(to_rel);
	return ok;
}
/* The plain rename: one short lock; code that uses the old name breaks. */
static bool
plain_rename_column(PlanCtx *pc, const char *why)
{
	const char *table = pc->op->u.rename_column.table;
	const char *from = pc->op->u.rename_column.from;
	const char *to = pc->op->u.rename_column.to;
	char	   *from_exists = sql_column_exists(table, from);
	char	   *to_exists = sql_column_exists(table, to);
	Step	   *s;

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "rename column %I of %Q to %I", from, table, to);
	step_sql(s, "ALTER TABLE %Q RENAME COLUMN %I TO %I", table, from, to);
	step_done(s, "SELECT %s AND NOT %s", to_exists, from_exists);
	s->warning = why ? xasprintf("%s (the column is %s: both names cannot live)", RENAME_WARNING, why)
		: xstrdup(RENAME_WARNING);

	s = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "rename column %I of %Q back to %I", to, table, from);
	step_sql(s, "ALTER TABLE %Q RENAME COLUMN %I TO %I", table, to, from);
	step_done(s, "SELECT %s AND NOT %s", from_exists, to_exists);
	free(from_exists);
	free(to_exists);
	return true;
}

/* "ALTER TABLE t ADD COLUMN to <the type of from, with its collation>". */
static char *
add_twin_column_sql(const char *table, const char *from, const char *to)
{
	char	   *add = sql_format("ALTER TABLE %Q ADD COLUMN %I ", table, to);
	char	   *body = sql_format("DECLARE def text; BEGIN "
								  "SELECT format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attcollation "
								  "<> t.typcollation THEN ' COLLATE ' || quote_ident(n.nspname) || '.' || "
								  "quote_ident(c.collname) ELSE '' END INTO STRICT def "
								  "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
								  "LEFT JOIN pg_collation c ON c.oid = a.attcollation "
								  "LEFT JOIN pg_namespace n ON n.oid = c.collnamespace "
								  "WHERE a.attrelid = to_regclass(%R) AND a.attname = %L AND NOT a.attisdropped; "
								  "EXECUTE %L || def; END", table, from, add);
	char	   *stmt = do_block(body);

	free(body);
	free(add);
	return stmt;
}

/*
 * The comment and the column privileges of from given to to, in the
 * twin's own transaction (the twin's rollback drops them with it).
 */
static char *
copy_column_extras_sql(const char *table, const char *from, const char *to)
{
	char	   *body = sql_format("DECLARE r record; note text; BEGIN "
								  "SELECT col_description(attrelid, attnum) INTO note FROM pg_attribute "
								  "WHERE attrelid = to_regclass(%R) AND attname = %L AND NOT attisdropped; "
								  "IF note IS NOT NULL THEN EXECUTE format('COMMENT ON COLUMN %%s.%%I IS %%L', "
								  "%R, %L, note); END IF; "
								  "FOR r IN SELECT x.privilege_type, x.grantee, x.is_grantable "
								  "FROM pg_attribute c, aclexplode(c.attacl) x WHERE c.attrelid = to_regclass(%R) "
								  "AND c.attname = %L AND NOT c.attisdropped LOOP "
								  "EXECUTE format('GRANT %%s (%%I) ON %%s TO %%s%%s', r.privilege_type, %L, %R, "
								  "CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END, "
								  "CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); END LOOP; END",
								  table, from, table, to, table, from, to, table);
	char	   *stmt = do_block(body);

	free(body);
	return stmt;
}

/*
 * Online: a twin column under the new name, kept equal to the old one both
 * ways by a trigger, filled in batches, given the old one's NOT NULL and,
 * planned against the database, its indexes (built concurrently), checks
 * and foreign keys (NOT VALID, then VALIDATE); finalize drops the trigger
 * and the old column in one short step, moves the default (and a sequence
 * the old column owns) to the new one and gives the new indexes and
 * constraints the old names.
 */
static char *name_after_migration(const PlanCtx *pc, const char *table);

/*
 * The name under which the catalog holds table now: the name a
 * rename_table later in this migration gives it, once that ran (finalize),
 * or its own when it is a table, else the name it had before a
 * rename_table earlier in this migration.
 */
static char *
name_in_catalog(const PlanCtx *pc, const char *table)
{
	char	   *name = name_after_migration(pc, table);

	if (catalog_is_table(pc->cat, name) == 1)
		return name;
	free(name);
	name = xstrdup(table);
	if (catalog_is_table(pc->cat, table) == 1)
		return name;

	for (size_t k = (size_t) (pc->op - pc->m->ops); k > 0; k--)
	{
		const Operation *op = &pc->m->ops[k - 1];
		char	   *schema;
		char	   *rel;
		char	   *to;

		if (op->kind != OP_RENAME_TABLE)
			continue;
		split_qualified(op->u.rename_table.to, &schema, &rel);
		to = sibling_name(op->u.rename_table.from, rel);
		if (strcmp(to, name) == 0)
		{
			free(name);
			name = xstrdup(op->u.rename_table.from);
		}
		free(to);
		free(schema);
		free(rel);
	}
	return name;
}

/*
 * The name table has at the end of this migration: after a rename_table
 * later in it, the new one (finalize runs after the whole migration).
 */
static char *
name_after_migration(const PlanCtx *pc, const char *table)
{
	char	   *name = xstrdup(table);

	for (size_t k = (size_t) (pc->op - pc->m->ops) + 1; k < pc->m->n_ops; k++)
	{
		const Operation *op = &pc->m->ops[k];
		char	   *schema;
		char	   *rel;

		if (op->kind != OP_RENAME_TABLE || strcmp(op->u.rename_table.from, name) != 0)
			continue;
		split_qualified(op->u.rename_table.to, &schema, &rel);
		free(name);
		name = sibling_name(op->u.rename_table.from, rel);
		free(schema);
		free(rel);
	}
	return name;
}

/*
 * A step that stops the migration before it changes anything when the
 * column has indexes or constraints that planning could not see (the
 * table did not exist yet): planned again, they are carried over.
 */
static void
plan_unseen_dependents_guard(PlanCtx *pc, const char *table, const char *column)
{
	Step	   *s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
							 "check that %I of %Q has no index or constraint the plan could not see",
							 column, table);

	strlist_push(&s->sql, sql_refuse_column_dependents(table, column,
		"column % of % is used by % that were planned before the table existed",
		"run apply again: it plans this migration anew, with them"));
}

bool
plan_rename_column(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.rename_column.table;
	const char *from = op->u.rename_column.from;
	const char *to = op->u.rename_column.to;
	char	   *known_as = name_in_catalog(pc, table);
	bool		seen = pc->cat && catalog_table_exists(pc->cat, known_as) == 1;
	const char *pinned = seen ? catalog_column_pinned(pc->cat, known_as, from) : NULL;
	RenamedDependent *deps = NULL;
	size_t		n_deps = 0;
	char	   *to_exists;
	char	   *from_exists;
	char	   *from_not_null;
	StrList		finalize = {0};
	char	   *final;
	Step	   *s;

	if (!ONLINE(pc) || pinned)
	{
		free(known_as);
		return plain_rename_column(pc, pinned);
	}
	if (seen && !catalog_renamed_dependents(pc->cat, known_as, from, to, &deps, &n_deps, pc->err))
	{
		free(known_as);
		return false;
	}
	free(known_as);
	for (size_t i = 0; i < n_deps; i++)
		if (deps[i].kind == 'x')
		{
			renamed_dependents_free(deps, n_deps);
			return plain_rename_column(pc, "part of an exclusion constraint");
		}
	to_exists = sql_column_exists(table, to);
	from_exists = sql_column_exists(table, from);
	from_not_null = sql_column_not_null(table, from);

	if (pc->cat && !seen)
		plan_unseen_dependents_guard(pc, table, from);

	/* 1: the twin, of the same type; no default: the trigger fills it */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "add column %I to %Q, a twin of %I until finalize%s", to, table, from,
				 pc->cat ? "" : " (its indexes and constraints are listed when planned "
				 "against the database)");
	strlist_push(&s->sql, add_twin_column_sql(table, from, to));
	strlist_push(&s->sql, copy_column_extras_sql(table, from, to));
	step_done(s, "SELECT %s OR NOT %s", to_exists, from_exists);
	undo_add_column(pc, s, table, to);

	/* 2: both names written as one */
	{
		char	   *body = sync_both_names_body(from, to);
		char	   *summary = sql_format("trigger on %Q keeps %I and %I equal, both ways", table,
										 from, to);

		plan_sync_trigger(pc, table, 0, body, summary);
		free(summary);
		free(body);
	}

	/* 3: existing rows, in batches */
	{
		char	   *value = sql_format("%I", from);
		char	   *where = sql_format("%I IS DISTINCT FROM %I", to, from);
		KeyExpr		item = {(char *) to, value, op->pos};
		KeyExprList set = {&item, 1};
		char	   *summary = sql_format("fill %I of %Q from %I", to, table, from);

		plan_backfill_step(pc, NULL, table, &set, where, 0, -1, summary);
		free(summary);
		free(where);
		free(value);
	}

	/* 4: NOT NULL when the old column is */
	plan_set_not_null(pc, NULL, table, to, from_not_null, NULL);

	/* 5: indexes and constraints over the new name (finalize renames them, under the table's final name) */
	final = name_after_migration(pc, table);
	for (size_t i = 0; i < n_deps; i++)
	{
		const RenamedDependent *d = &deps[i];
		bool		index = strchr("iUu", d->kind) != NULL;
		char	   *name = object_name(pc, index ? "migrate_ix" : "migrate_ck", (int) i + 1);

		if (index)
		{
			char	   *definition = sql_format("ON %Q %s", table, d->definition);

			plan_index_build(pc, table, name, d->kind != 'i', definition);
			free(definition);
			if (d->kind == 'u')
				strlist_push(&finalize, sql_format("ALTER TABLE %Q ADD CONSTRAINT %I UNIQUE "
												   "USING INDEX %I", final, d->name, name));
			else
			{
				char	   *qualified = sibling_name(final, name);

				strlist_push(&finalize, sql_format("ALTER INDEX %Q RENAME TO %I", qualified,
												   d->name));
				free(qualified);
			}
		}
		else
		{
			plan_add_checked_constraint(pc, table, name, d->definition, d->referenced,
										d->kind == 'f' ? LOCK_SHARE_ROW_EXCLUSIVE
										: LOCK_ACCESS_EXCLUSIVE);
			strlist_push(&finalize, sql_format("ALTER TABLE %Q RENAME CONSTRAINT %I TO %I", final,
											   name, d->name));
		}
		free(name);
	}

	/* 6: finalize, in one short step, so that no write meets one name alone half way */
	table = final;
	free(from_exists);
	from_exists = sql_column_exists(table, from);
	s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop the old column %I of %Q and its trigger; %I keeps the default, "
				 "indexes and constraints under their old names", from, table, to);
	{
		char	   *trigger = sync_trigger_name(pc, 0);
		char	   *function = sync_function_name(pc, 0);
		char	   *set = sql_format("ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT ", table, to);
		char	   *owned = sql_move_owned_sequences(table, from, to);
		char	   *body = sql_format("DECLARE d text; BEGIN "
									  "SELECT pg_get_expr(ad.adbin, ad.adrelid) INTO d FROM pg_attrdef ad "
									  "JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum "
									  "WHERE a.attrelid = to_regclass(%R) AND a.attname = %L; "
									  "IF d IS NOT NULL THEN EXECUTE %L || d; END IF; END",
									  table, from, set);

		drop_sync_trigger_sql(s, table, trigger, function);
		strlist_push(&s->sql, do_block(body));
		strlist_push(&s->sql, owned);
		owned = NULL;
		free(body);
		/*
		 * A view that a rename_table of the same finalize keeps under the
		 * table's old name reads the old column: it goes first (its own
		 * step then finds it gone).
		 */
		body = sql_format("DECLARE v regclass; BEGIN FOR v IN SELECT DISTINCT r.ev_class::regclass "
						  "FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
						  "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(%R) "
						  "AND obj_description(r.ev_class, 'pg_class') = %L LOOP "
						  "EXECUTE format('DROP VIEW %%s', v); END LOOP; END", table,
						  OLD_NAME_VIEW_COMMENT);
		strlist_push(&s->sql, do_block(body));
		step_sql(s, "ALTER TABLE %Q DROP COLUMN IF EXISTS %I", table, from);
		for (size_t i = 0; i < finalize.n; i++)
			strlist_push(&s->sql, xstrdup(finalize.items[i]));
		strlist_free(&finalize);
		step_done(s, "SELECT NOT %s", from_exists);
		s->irreversible = sql_format("finalize drops the old column %I", from);
		free(body);
		free(owned);
		free(set);
		free(function);
		free(trigger);
	}

	renamed_dependents_free(deps, n_deps);
	free(final);
	free(from_not_null);
	free(from_exists);
	free(to_exists);
	return true;
}
