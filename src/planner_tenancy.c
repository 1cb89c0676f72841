/*
 * planner_tenancy.c: multi_tenancy (SPEC §1), built from the same sequences
 * as the single operations: the tenant table and its default tenant, the
 * tenant column on every table (a constant default where the tenant is the
 * default one, a trigger and a batched fill where it comes from a parent
 * row), foreign keys, indexes, primary keys that include the tenant, and
 * row level security.
 *
 * Without a catalog the planner does not know primary keys: a parent row is
 * found by its "id" column, and a primary key that gains the tenant column
 * is read from pg_index when the step runs.
 */
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

#define PARENT_KEY "id"			/* the parent's key, by convention */

typedef struct TenantTable
{
	const char *name;
	const TenantFrom *from;		/* NULL: existing rows get the default tenant */
} TenantTable;

static const TenantFrom *
find_tenant_from(const Operation *op, const char *table)
{
	for (size_t i = 0; i < op->u.multi_tenancy.n_tenant_from; i++)
		if (strcmp(op->u.multi_tenancy.tenant_from[i].table, table) == 0)
			return &op->u.multi_tenancy.tenant_from[i];
	return NULL;
}

/*
 * The tables in the order their columns can be filled: those of the default
 * tenant first, then each child after its parent.
 */
static bool
order_tables(PlanCtx *pc, TenantTable *out, size_t *n_out)
{
	const Operation *op = pc->op;
	const StrList *tables = &op->u.multi_tenancy.tables;
	size_t		n = 0;
	bool		progress = true;

	for (size_t i = 0; i < tables->n; i++)
		if (find_tenant_from(op, tables->items[i]) == NULL)
			out[n++] = (TenantTable) {tables->items[i], NULL};
	while (progress && n < tables->n)
	{
		progress = false;
		for (size_t i = 0; i < tables->n; i++)
		{
			const TenantFrom *tf = find_tenant_from(op, tables->items[i]);
			bool		placed = false;
			bool		parent_ready = find_tenant_from(op, tf ? tf->parent : "") == NULL;

			if (tf == NULL)
				continue;
			for (size_t k = 0; k < n; k++)
			{
				placed |= strcmp(out[k].name, tf->table) == 0;
				parent_ready |= strcmp(out[k].name, tf->parent) == 0;
			}
			if (!placed && parent_ready)
			{
				out[n++] = (TenantTable) {tf->table, tf};
				progress = true;
			}
		}
	}
	*n_out = n;
	if (n < tables->n)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d: multi_tenancy: tenant_from goes round in a circle",
						 op->pos.file, op->pos.line);
	return true;
}

/* The tenant table, created when missing (and dropped by rollback only then). */
static void
plan_tenant_table(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *tenants = op->u.multi_tenancy.tenant_table;
	char	   *key = saved_key(pc, "tenant_table");
	char	   *created = saved_flag(pc, "tenant_table", NULL);
	char	   *drop = sql_format("DROP TABLE IF EXISTS %Q", tenants);
	const char *const forget[] = {"tenant_table", NULL};
	Step	   *s;
	Step	   *undo;

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "create the tenant table %Q if it is missing", tenants);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, 'created' WHERE to_regclass(%R) IS NULL ON CONFLICT DO NOTHING",
			 pc->m->version, key, tenants);
	step_sql(s, "CREATE TABLE IF NOT EXISTS %Q (\n"
			 "    %I %s PRIMARY KEY,\n"
			 "    %I text NOT NULL UNIQUE,\n"
			 "    %I text UNIQUE,\n"
			 "    %I timestamptz NOT NULL DEFAULT now(),\n"
			 "    %I jsonb NOT NULL DEFAULT '{}'\n"
			 ")", tenants, "id", op->u.multi_tenancy.type, "name", "subdomain",
			 "created_at", "settings");
	step_done(s, "SELECT to_regclass(%R) IS NOT NULL", tenants);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, tenants,
					"drop the tenant table %Q if this migration created it", tenants);
	strlist_push(&undo->sql, guarded(created, drop));
	step_done(undo, "SELECT NOT %s OR to_regclass(%R) IS NULL", created, tenants);
	undo_forget_saved(pc, s, forget);
	free(drop);
	free(created);
	free(key);
}

/* The default tenant, which existing rows belong to. */
static void
plan_default_tenant(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *tenants = op->u.multi_tenancy.tenant_table;
	const char *id = op->u.multi_tenancy.default_tenant_id;
	char	   *key = saved_key(pc, "default_tenant");
	char	   *inserted = saved_flag(pc, "default_tenant", NULL);
	char	   *delete = sql_format("DELETE FROM %Q WHERE %I = %L", tenants, "id", id);
	const char *const forget[] = {"default_tenant", NULL};
	Step	   *s;
	Step	   *undo;

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ROW_EXCLUSIVE, tenants,
				 "insert the default tenant %L into %Q", id, tenants);
	step_sql(s, "WITH inserted AS (INSERT INTO %Q (%I, %I) VALUES (%L, %L) "
			 "ON CONFLICT DO NOTHING RETURNING 1) "
			 "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, 'inserted' FROM inserted ON CONFLICT DO NOTHING",
			 tenants, "id", "name", id, op->u.multi_tenancy.default_tenant_name,
			 pc->m->version, key);
	step_done(s, "SELECT EXISTS (SELECT FROM %Q WHERE %I = %L)", tenants, "id", id);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ROW_EXCLUSIVE, tenants,
					"delete the default tenant if this migration inserted it");
	strlist_push(&undo->sql, guarded(inserted, delete));
	undo_forget_saved(pc, s, forget);
	free(delete);
	free(inserted);
	free(key);
}

/* The tenant column of one table; k tells its trigger apart. */
static void
plan_tenant_column(PlanCtx *pc, const TenantTable *t, int k)
{
	const Operation *op = pc->op;
	const char *column = op->u.multi_tenancy.column;
	const char *type = op->u.multi_tenancy.type;
	char	   *exists = sql_column_exists(t->name, column);
	char	   *schema;
	char	   *rel;
	char	   *lookup;
	Step	   *s;
	Step	   *undo;

	if (t->from == NULL)
	{
		/* a constant default: instant on PostgreSQL 11+, old code's inserts get it too */
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, t->name,
					 "add %I to %Q, the default tenant for existing rows", column, t->name);
		step_sql(s, "ALTER TABLE %Q ADD COLUMN %I %s NOT NULL DEFAULT %L", t->name, column,
				 type, op->u.multi_tenancy.default_tenant_id);
	}
	else
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, t->name,
					 "add %I to %Q, nullable until it is filled from %Q", column, t->name,
					 t->from->parent);
	if (t->from)
		step_sql(s, "ALTER TABLE %Q ADD COLUMN %I %s", t->name, column, type);
	step_done(s, "SELECT %s", exists);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, t->name,
					"drop column %I of %Q", column, t->name);
	step_sql(undo, "ALTER TABLE %Q DROP COLUMN IF EXISTS %I", t->name, column);
	step_done(undo, "SELECT NOT %s", exists);
	free(exists);
	if (t->from == NULL)
		return;

	/* the tenant of the parent row; the parent's key is taken to be "id" */
	split_qualified(t->name, &schema, &rel);
	if (ONLINE(pc))
	{
		char	   *body;
		char	   *summary = sql_format("trigger on %Q takes %I from %Q on writes that leave it out",
										 t->name, column, t->from->parent);

		lookup = sql_format("(SELECT p.%I FROM %Q AS p WHERE p.%I = NEW.%I)", column,
							t->from->parent, PARENT_KEY, t->from->via);
		body = sql_format("    IF NEW.%I IS NULL THEN\n        NEW.%I := %s;\n    END IF;",
						  column, column, lookup);
		plan_sync_trigger(pc, t->name, k, body, summary);
		free(body);
		free(summary);
		free(lookup);
	}
	lookup = sql_format("SELECT p.%I FROM %Q AS p WHERE p.%I = %I.%I", column,
						t->from->parent, PARENT_KEY, rel, t->from->via);
	{
		KeyExpr		item = {(char *) column, lookup, t->from->pos};
		KeyExprList set = {&item, 1};
		char	   *where = ONLINE(pc) ? sql_format("%I IS NULL", column) : NULL;
		char	   *summary = sql_format("fill %I of %Q from %Q", column, t->name, t->from->parent);

		plan_backfill_step(pc, NULL, t->name, &set, where, 0, -1, summary);
		free(summary);
		free(where);
	}
	plan_set_not_null(pc, NULL, t->name, column, NULL, NULL);
	free(lookup);
	free(schema);
	free(rel);
}

/* SQL boolean: the primary key of table includes column. */
static char *
pk_includes(const char *table, const char *column)
{
	return sql_format("EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
					  "i.indrelid AND a.attnum = ANY (i.indkey::int2[]) WHERE i.indrelid = "
					  "to_regclass(%R) AND i.indisprimary AND a.attname = %L)", table, column);
}

/*
 * A DO statement that replaces the primary key of table, keeping its name:
 * by the one on index (online), or else by PRIMARY KEY (<columns>), where
 * columns is a SQL text expression evaluated when it runs.  Only when cond
 * (a SQL boolean) holds.
 */
static char *
swap_primary_key_sql(const char *table, const char *index, const char *columns,
					 const char *cond)
{
	char	   *alter = sql_format("ALTER TABLE %Q DROP CONSTRAINT ", table);
	char	   *new_key;
	char	   *body;
	char	   *stmt;

	if (index)
	{
		char	   *tail = sql_format(" PRIMARY KEY USING INDEX %I", index);

		new_key = sql_format("%L", tail);
		free(tail);
	}
	else
		new_key = sql_format("' PRIMARY KEY (' || %s || ')'", columns);
	body = sql_format("DECLARE pk text := (SELECT conname FROM pg_constraint WHERE "
					  "conrelid = to_regclass(%R) AND contype = 'p'); BEGIN IF %s THEN "
					  "EXECUTE %L || quote_ident(pk) || ', ADD CONSTRAINT ' || quote_ident(pk) "
					  "|| %s; END IF; END", table, cond, alter, new_key);
	stmt = do_block(body);
	free(body);
	free(new_key);
	free(alter);
	return stmt;
}

/*
 * The primary key becomes (tenant, <old key>): online a unique index built
 * concurrently, then a short-lock swap; the old key's columns are saved for
 * rollback.
 */
static void
plan_tenant_primary_key(PlanCtx *pc, const char *table, int k)
{
	const char *column = pc->op->u.multi_tenancy.column;
	char	   *index = derived_name(table, column, "pkey");
	char	   *old_index = object_name(pc, "migrate_old_pkey", k);
	char	   *qindex = sibling_name(table, index);
	char	   *qold = sibling_name(table, old_index);
	char	   *cols_what = xasprintf("%s.primary_key", table);
	char	   *cols_key = saved_key(pc, cols_what);
	char	   *saved_cols = saved_value(pc, cols_what);
	char	   *includes = pk_includes(table, column);
	char	   *not_includes = xasprintf("NOT %s", includes);
	const char *const forget[] = {cols_what, NULL};
	char	   *key_cols = sql_format("(SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord) "
									  "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) "
									  "WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON "
									  "a.attrelid = i.indrelid AND a.attnum = k.attnum "
									  "WHERE i.indrelid = to_regclass(%R) AND i.indisprimary)", table);
	char	   *stmt;
	Step	   *s;
	Step	   *undo;

	if (ONLINE(pc))
	{
		char	   *valid = sql_index_valid(qindex);
		char	   *create = sql_format("CREATE UNIQUE INDEX CONCURRENTLY %I ON %Q (%I, ", index,
										table, column);

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
					 "build unique index %I on %Q (%I + the primary key) concurrently",
					 index, table, column);
		step_sql(s, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qindex);
		s->dynamic_sql = sql_format("SELECT %L || %s || ')' WHERE NOT %s", create, key_cols,
									includes);
		step_done(s, "SELECT %s OR %s", valid, includes);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
						"drop index %I concurrently", index);
		step_sql(undo, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qindex);
		step_done(undo, "SELECT to_regclass(%R) IS NULL", qindex);
		free(create);
		free(valid);
	}

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "make %I part of the primary key of %Q", column, table);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, %s ON CONFLICT DO NOTHING", pc->m->version, cols_key, key_cols);
	if (ONLINE(pc))
		strlist_push(&s->sql, swap_primary_key_sql(table, index, NULL, not_includes));
	else
	{
		char	   *quoted = quoted_ident(column);
		char	   *columns = sql_format("%L || ', ' || %s", quoted, key_cols);

		strlist_push(&s->sql, swap_primary_key_sql(table, NULL, columns, not_includes));
		free(columns);
		free(quoted);
	}
	step_done(s, "SELECT %s", includes);
	s->warning = xstrdup("foreign keys that reference the old primary key must be changed "
						 "first: the swap cannot drop a key they depend on");

	if (ONLINE(pc))
	{
		char	   *valid = sql_index_valid(qold);
		char	   *create = sql_format("CREATE UNIQUE INDEX CONCURRENTLY %I ON %Q (", old_index,
										table);

		undo = add_step(pc, s, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
						"build the old primary key's index again concurrently");
		step_sql(undo, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qold);
		undo->dynamic_sql = sql_format("SELECT %L || %s || ')' WHERE %s", create, saved_cols,
									   includes);
		step_done(undo, "SELECT %s OR NOT %s", valid, includes);
		free(create);
		free(valid);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"give %Q its old primary key back", table);
		stmt = swap_primary_key_sql(table, old_index, NULL, includes);
	}
	else
	{
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"give %Q its old primary key back", table);
		stmt = swap_primary_key_sql(table, NULL, saved_cols, includes);
	}
	strlist_push(&undo->sql, stmt);
	step_done(undo, "SELECT NOT %s", includes);
	undo_forget_saved(pc, s, forget);

	free(key_cols);
	free(not_includes);
	free(includes);
	free(saved_cols);
	free(cols_key);
	free(cols_what);
	free(qold);
	free(qindex);
	free(old_index);
	free(index);
}

/* Row level security: each table sees the rows of the current tenant. */
static void
plan_tenant_rls(PlanCtx *pc, const TenantTable *tables, size_t n)
{
	const Operation *op = pc->op;
	const char *column = op->u.multi_tenancy.column;
	const char *type = op->u.multi_tenancy.type;
	const char *setting = op->u.multi_tenancy.rls_setting;
	const char *admin = op->u.multi_tenancy.rls_admin_role;
	char	   *signature = xasprintf("migrate.set_current_tenant(%s)", type);
	char	   *match = sql_format("%I = NULLIF(current_setting(%L, true), '')::%s",
								   column, setting, type);
	char	   *body;
	Step	   *s;
	Step	   *undo;

	/* session-wide, as an application sets it once per connection */
	body = sql_format("SELECT set_config(%L, tenant::text, false)", setting);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "function migrate.set_current_tenant sets %L", setting);
	{
		Buf			b;

		buf_init(&b);
		buf_printf(&b, "CREATE OR REPLACE FUNCTION migrate.set_current_tenant(tenant %s) "
				   "RETURNS void LANGUAGE sql AS ", type);
		append_dollar_quoted(&b, body);
		strlist_push(&s->sql, buf_detach(&b));
	}
	step_done(s, "SELECT to_regprocedure(%L) IS NOT NULL", signature);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
					"drop function migrate.set_current_tenant");
	step_sql(undo, "DROP FUNCTION IF EXISTS %s", signature);
	step_done(undo, "SELECT to_regprocedure(%L) IS NULL", signature);
	free(body);

	for (size_t i = 0; i < n; i++)
	{
		const char *table = tables[i].name;
		const char *policies[2] = {"tenant_isolation", "tenant_admin"};

		s = rls_step(pc, NULL, table, true, false);
		rls_step(pc, s, table, false, false);
		for (int p = 0; p < (admin ? 2 : 1); p++)
		{
			char	   *exists = sql_format("EXISTS (SELECT FROM pg_policy WHERE polrelid = "
											"to_regclass(%R) AND polname = %L)", table, policies[p]);

			s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						 "create policy %I on %Q", policies[p], table);
			if (p == 0)
				step_sql(s, "CREATE POLICY %I ON %Q AS PERMISSIVE FOR ALL TO PUBLIC "
						 "USING (%s) WITH CHECK (%s)", policies[p], table, match, match);
			else
				step_sql(s, "CREATE POLICY %I ON %Q AS PERMISSIVE FOR ALL TO %I "
						 "USING (true) WITH CHECK (true)", policies[p], table, admin);
			step_done(s, "SELECT %s", exists);
			undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
							"drop policy %I on %Q", policies[p], table);
			step_sql(undo, "DROP POLICY IF EXISTS %I ON %Q", policies[p], table);
			step_done(undo, "SELECT NOT %s", exists);
			free(exists);
		}
	}
	free(match);
	free(signature);
}

bool
plan_multi_tenancy(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *column = op->u.multi_tenancy.column;
	TenantTable *tables;
	size_t		n;

	if (op->u.multi_tenancy.all)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d: multi_tenancy: \"all: true\" needs the list of tables from "
						 "the database, which the planner does not read yet; list them in "
						 "\"tables\"", op->pos.file, op->pos.line);
	tables = xcalloc(op->u.multi_tenancy.tables.n + 1, sizeof(TenantTable));
	if (!order_tables(pc, tables, &n))
	{
		free(tables);
		return false;
	}

	ensure_migrate_schema(pc);
	plan_tenant_table(pc);
	plan_default_tenant(pc);
	for (size_t i = 0; i < n; i++)
		plan_tenant_column(pc, &tables[i], (int) i + 1);
	for (size_t i = 0; op->u.multi_tenancy.foreign_key && i < n; i++)
	{
		char	   *name = derived_name(tables[i].name, column, "fkey");
		char	   *body = sql_format("FOREIGN KEY (%I) REFERENCES %Q (%I)", column,
									  op->u.multi_tenancy.tenant_table, "id");

		plan_add_checked_constraint(pc, tables[i].name, name, body,
									op->u.multi_tenancy.tenant_table, LOCK_SHARE_ROW_EXCLUSIVE);
		free(body);
		free(name);
	}
	for (size_t i = 0; op->u.multi_tenancy.index && i < n; i++)
	{
		char	   *name = derived_name(tables[i].name, column, "idx");
		char	   *def = sql_format("ON %Q (%I)", tables[i].name, column);

		plan_index_build(pc, tables[i].name, name, false, def);
		free(def);
		free(name);
	}
	for (size_t i = 0; op->u.multi_tenancy.primary_key && i < n; i++)
		plan_tenant_primary_key(pc, tables[i].name, (int) i + 1);
	if (op->u.multi_tenancy.rls_setting)
		plan_tenant_rls(pc, tables, n);
	for (size_t i = 0; ONLINE(pc) && i < n; i++)
		if (tables[i].from)
			plan_drop_sync_trigger(pc, tables[i].name, (int) i + 1);
	free(tables);
	return true;
}
