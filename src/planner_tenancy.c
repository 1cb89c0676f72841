/*
 * planner_tenancy.c: multi_tenancy (migrate(1), OPERATIONS), built from the same sequences
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
order_tables(PlanCtx *pc, const StrList *tables, TenantTable *out, size_t *n_out)
{
	const Operation *op = pc->op;
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

/*
 * all: true: every ordinary table of the tenant table's schema but the
 * tenant table and exclude, as the database has them now.  Without a
 * database that list cannot be known, and a plan that guessed it would
 * not be the plan that runs: the planner refuses (exit 2) and says so.
 */
static bool
list_all_tables(PlanCtx *pc, StrList *out)
{
	const Operation *op = pc->op;
	const char *tenants = op->u.multi_tenancy.tenant_table;
	StrList		exclude = {0};
	bool		ok;

	char	   *key;
	int			saved;

	if (pc->cat == NULL)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d: multi_tenancy: \"all: true\" means every table of the schema "
						 "of %s in the database; give a database (-d) to plan it, or list the "
						 "tables in \"tables\"", op->pos.file, op->pos.line, tenants);
	/* once applied, the list it was applied with, so that its rollback matches */
	key = saved_key(pc, "all_tables");
	saved = catalog_saved_list(pc->cat, pc->m->version, key, out, pc->err);
	free(key);
	if (saved != 0)
		return saved == 1;
	for (size_t i = 0; i < op->u.multi_tenancy.exclude.n; i++)
		strlist_add(&exclude, op->u.multi_tenancy.exclude.items[i]);
	strlist_add(&exclude, tenants);
	ok = catalog_list_tables(pc->cat, tenants, &exclude, out, pc->err);
	strlist_free(&exclude);
	if (!ok)
	{
		error_prefix(pc->err, "%s:%d: multi_tenancy: listing the tables",
					 op->pos.file, op->pos.line);
		return false;
	}
	if (out->n == 0)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d: multi_tenancy: \"all: true\" found no table to give a tenant",
						 op->pos.file, op->pos.line);
	return true;
}

/* all: true: the list of tables, saved for the plans made after apply. */
static void
plan_save_all_tables(PlanCtx *pc, const StrList *names)
{
	char	   *key = saved_key(pc, "all_tables");
	const char *const forget[] = {"all_tables", NULL};
	Buf			list;
	Step	   *s;

	buf_init(&list);
	buf_putc(&list, '[');
	for (size_t i = 0; i < names->n; i++)
	{
		if (i > 0)
			buf_putc(&list, ',');
		buf_json_string(&list, names->items[i]);
	}
	buf_putc(&list, ']');
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "save the list of tables that all: true gives (%d)", (int) names->n);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "VALUES (%D, %L, %L) ON CONFLICT DO NOTHING", pc->m->version, key, list.data);
	step_done(s, "SELECT EXISTS (SELECT FROM migrate.saved_objects WHERE version = %D "
			  "AND key = %L)", pc->m->version, key);
	undo_forget_saved(pc, s, forget);
	buf_free(&list);
	free(key);
}

/* Each table of tenant_from must be one of the tables that get the tenant. */
static bool
tenant_from_listed(PlanCtx *pc, const StrList *names)
{
	const Operation *op = pc->op;

	for (size_t i = 0; i < op->u.multi_tenancy.n_tenant_from; i++)
	{
		const TenantFrom *tf = &op->u.multi_tenancy.tenant_from[i];
		bool		found = false;

		for (size_t k = 0; k < names->n && !found; k++)
			found = strcmp(names->items[k], tf->table) == 0;
		if (!found)
			return error_set(pc->err, EXIT_USAGE,
							 "%s:%d: multi_tenancy: tenant_from names %s, which is not one of "
							 "the tables that get the tenant", op->pos.file, op->pos.line,
							 tf->table);
	}
	return true;
}

/*
 * The tenant table, created when missing.  Rollback drops it only when the
 * ledger records it as this migration's own (an existing one was used, not
 * made), and only when it is empty by then (the default tenant, the one row
 * this migration made, is deleted before): tenants added since are not the
 * migration's to drop, so a table holding them is kept.
 */
static void
plan_tenant_table(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *tenants = op->u.multi_tenancy.tenant_table;
	char	   *key = saved_key(pc, "tenant_table");
	char	   *created = saved_flag(pc, "tenant_table", NULL);
	char	   *own = sql_owned(pc, "table", NULL, tenants);
	char	   *drop = sql_format("IF NOT EXISTS (SELECT FROM %Q) THEN DROP TABLE %Q; END IF",
								  tenants, tenants);
	const char *const forget[] = {"tenant_table", NULL};
	char	   *summary;
	Step	   *s;

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
	/* a tenant table that was there is used, never owned */
	step_owns_if(s, "table", NULL, tenants, created);
	summary = sql_format("drop the tenant table %Q if this migration created it and no tenant "
						 "was added since (else it is kept, with them)", tenants);
	undo_drop_own(pc, s, LOCK_ACCESS_EXCLUSIVE, tenants, own, drop, summary);
	free(summary);
	undo_forget_saved(pc, s, forget);
	free(own);
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
		/*
		 * With RLS, a session that set its tenant inserts into it without
		 * naming it; others still get the default tenant.  Existing rows
		 * keep the value stored when the column was added: no rewrite.
		 */
		if (op->u.multi_tenancy.rls_setting)
			step_sql(s, "ALTER TABLE %Q ALTER COLUMN %I SET DEFAULT coalesce(NULLIF("
					 "current_setting(%L, true), '')::%s, %L)", t->name, column,
					 op->u.multi_tenancy.rls_setting, type,
					 op->u.multi_tenancy.default_tenant_id);
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
		char	   *summary = sql_format("trigger on %Q takes %I from %Q on writes that do not set it",
										 t->name, column, t->from->parent);

		lookup = sql_format("(SELECT p.%I FROM %Q AS p WHERE p.%I = NEW.%I)", column,
							t->from->parent, PARENT_KEY, t->from->via);
		body = sync_follow_body(column, t->from->via, lookup);
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
 * The foreign keys that reference the primary key of a table that gains the
 * tenant in its key.  The swap cannot drop a key they depend on, and CASCADE
 * would drop them silently, so the swap detaches them and attaches them
 * again in its short transaction: moved to the composite key when the
 * referencing table is one of this operation's (it has the tenant column
 * then, and the key pins each row to its parent's tenant), else kept on the
 * old key, which stays unique through a unique constraint built from an
 * index made concurrently beforehand.  A key with ON DELETE/UPDATE SET NULL
 * or SET DEFAULT stays on the old key: it would set the tenant too.
 *
 * Each detached key is saved as a row "<op>.<table>.fkey.<referencing
 * table>.<name>" (JSON: table, name, def, moves), which the rollback
 * uses to give it back exactly.
 */
typedef struct TenantKeySql
{
	char	   *prefix;			/* key prefix of the saved rows */
	char	   *saved_rows;		/* FROM clause: the saved rows, as d jsonb */
	char	   *stays;			/* SQL boolean: some key will stay on the old key */
	char	   *detach;			/* statement: save and drop the keys */
	char	   *unique_old;		/* statement: unique constraint on the old key */
	char	   *attach_moved;	/* statement: add them again, moved or kept */
	char	   *detach_saved;	/* statement: drop the saved keys by name */
	char	   *attach_saved;	/* statement: add them again as they were */
	char	   *validate;		/* statement: validate the saved keys */
	char	   *validated;		/* SQL boolean: every saved key is validated */
} TenantKeySql;

static void
tenant_key_sql(PlanCtx *pc, const char *table, const TenantTable *tables, size_t n,
			   const char *unique_index, const char *saved_cols, TenantKeySql *k)
{
	const char *column = pc->op->u.multi_tenancy.column;
	const char *not_valid = ONLINE(pc) ? " NOT VALID" : "";
	char	   *what = xasprintf("%s.fkey.", table);
	char	   *qcolumn = quoted_ident(column);
	char	   *constraint_of_row;
	char	   *moves;
	char	   *keys;
	char	   *body;
	Buf			b;

	k->prefix = saved_key(pc, what);
	free(what);
	k->saved_rows = sql_format("(SELECT definition::jsonb AS d FROM migrate.saved_objects "
							   "WHERE version = %D AND starts_with(key, %L)) AS saved",
							   pc->m->version, k->prefix);
	buf_init(&b);
	buf_puts(&b, "c.conrelid = ANY (ARRAY[");
	for (size_t i = 0; i < n; i++)
		sql_append(&b, "%sto_regclass(%R)", i > 0 ? ", " : "", tables[i].name);
	buf_puts(&b, "]::regclass[]) AND c.confdeltype NOT IN ('n', 'd') "
			 "AND c.confupdtype NOT IN ('n', 'd')");
	moves = buf_detach(&b);
	keys = sql_format("pg_constraint c WHERE c.contype = 'f' AND c.confrelid = to_regclass(%R) "
					  "AND c.conindid = (SELECT indexrelid FROM pg_index WHERE indrelid = "
					  "to_regclass(%R) AND indisprimary)", table, table);
	k->stays = sql_format("EXISTS (SELECT FROM %s AND NOT (%s))", keys, moves);

	body = sql_format("DECLARE f record; BEGIN FOR f IN SELECT c.conrelid::regclass::text AS tab, "
					  "c.conname, pg_get_constraintdef(c.oid) AS def, %s AS moves FROM %s "
					  "ORDER BY 1, 2 LOOP INSERT INTO migrate.saved_objects (version, key, "
					  "definition) VALUES (%D, %L || f.tab || '.' || f.conname, "
					  "json_build_object('table', f.tab, 'name', f.conname, 'def', f.def, "
					  "'moves', f.moves)::text) ON CONFLICT DO NOTHING; EXECUTE format("
					  "'ALTER TABLE %%s DROP CONSTRAINT %%I', f.tab, f.conname); END LOOP; END",
					  moves, keys, pc->m->version, k->prefix);
	k->detach = do_block(body);
	free(body);

	{
		char	   *plain = sql_format("ALTER TABLE %Q ADD CONSTRAINT %I UNIQUE (", table,
									   unique_index);
		char	   *qunique = sibling_name(table, unique_index);

		body = sql_format("BEGIN IF EXISTS (SELECT FROM %s WHERE NOT (d->>'moves')::boolean) "
						  "THEN IF to_regclass(%R) IS NOT NULL THEN ALTER TABLE %Q ADD "
						  "CONSTRAINT %I UNIQUE USING INDEX %I; ELSE EXECUTE %L || %s || ')'; "
						  "END IF; END IF; END", k->saved_rows, qunique, table, unique_index,
						  unique_index, plain, saved_cols);
		free(qunique);
		free(plain);
	}
	k->unique_old = do_block(body);
	free(body);

	/* the composite key: the tenant column first on both sides */
	constraint_of_row = xstrdup("EXISTS (SELECT FROM pg_constraint WHERE conrelid = "
								"(r.d->>'table')::regclass AND conname = r.d->>'name')");
	body = sql_format("DECLARE r record; def text; ref text := to_regclass(%R)::text; "
					  "BEGIN FOR r IN SELECT d FROM %s ORDER BY d->>'table', d->>'name' LOOP "
					  "def := r.d->>'def'; IF (r.d->>'moves')::boolean THEN def := replace("
					  "'FOREIGN KEY (' || %L || ', ' || substr(def, 14), ' REFERENCES ' || ref || "
					  "'(', ' REFERENCES ' || ref || '(' || %L || ', '); END IF; "
					  "IF NOT %s THEN EXECUTE format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s%s', "
					  "r.d->>'table', r.d->>'name', def); END IF; END LOOP; END",
					  table, k->saved_rows, qcolumn, qcolumn, constraint_of_row, not_valid);
	k->attach_moved = do_block(body);
	free(body);

	{
		char	   *drop_unique = sql_format("ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I",
											 table, unique_index);

		body = sql_format("DECLARE r record; BEGIN FOR r IN SELECT d FROM %s LOOP EXECUTE "
						  "format('ALTER TABLE %%s DROP CONSTRAINT IF EXISTS %%I', "
						  "r.d->>'table', r.d->>'name'); END LOOP; %s; END",
						  k->saved_rows, drop_unique);
		free(drop_unique);
	}
	k->detach_saved = do_block(body);
	free(body);

	body = sql_format("DECLARE r record; BEGIN FOR r IN SELECT d FROM %s ORDER BY "
					  "d->>'table', d->>'name' LOOP IF NOT %s THEN EXECUTE format("
					  "'ALTER TABLE %%s ADD CONSTRAINT %%I %%s%s', r.d->>'table', "
					  "r.d->>'name', r.d->>'def'); END IF; END LOOP; END",
					  k->saved_rows, constraint_of_row, not_valid);
	k->attach_saved = do_block(body);
	free(body);

	body = sql_format("DECLARE r record; BEGIN FOR r IN SELECT d FROM %s ORDER BY "
					  "d->>'table', d->>'name' LOOP IF EXISTS (SELECT FROM pg_constraint "
					  "WHERE conrelid = (r.d->>'table')::regclass AND conname = r.d->>'name' "
					  "AND NOT convalidated) THEN EXECUTE format('ALTER TABLE %%s VALIDATE "
					  "CONSTRAINT %%I', r.d->>'table', r.d->>'name'); END IF; END LOOP; END",
					  k->saved_rows);
	k->validate = do_block(body);
	free(body);
	k->validated = sql_format("NOT EXISTS (SELECT FROM %s JOIN pg_constraint c ON c.conrelid = "
							  "(saved.d->>'table')::regclass AND c.conname = saved.d->>'name' "
							  "WHERE NOT c.convalidated)", k->saved_rows);
	free(constraint_of_row);
	free(keys);
	free(moves);
	free(qcolumn);
}

static void
tenant_key_sql_free(TenantKeySql *k)
{
	free(k->prefix);
	free(k->saved_rows);
	free(k->stays);
	free(k->detach);
	free(k->unique_old);
	free(k->attach_moved);
	free(k->detach_saved);
	free(k->attach_saved);
	free(k->validate);
	free(k->validated);
}
/*
 * The primary key becomes (tenant, <old key>): online a unique index built
 * concurrently, then a short-lock swap; the old key's columns are saved for
 * rollback.  The foreign keys that reference the old key are detached and
 * attached again in the swap's transaction (see tenant_key_sql).
 */
static void
plan_tenant_primary_key(PlanCtx *pc, const TenantTable *tables, size_t n, size_t t)
{
	const char *table = tables[t].name;
	const char *column = pc->op->u.multi_tenancy.column;
	int			k = (int) t + 1;
	char	   *index = derived_name(table, column, "pkey");
	char	   *old_index = object_name(pc, "migrate_old_pkey", k);
	char	   *unique_index = derived_name(table, "without_tenant", "key");
	char	   *qindex = sibling_name(table, index);
	char	   *qold = sibling_name(table, old_index);
	char	   *qunique = sibling_name(table, unique_index);
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
	TenantKeySql fk;
	char	   *stmt;
	Step	   *s;
	Step	   *undo;

	tenant_key_sql(pc, table, tables, n, unique_index, saved_cols, &fk);
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

		/* the old key stays unique for the foreign keys that stay on it */
		valid = sql_index_valid(qunique);
		create = sql_format("CREATE UNIQUE INDEX CONCURRENTLY %I ON %Q (", unique_index, table);
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
					 "build unique index %I on the primary key of %Q concurrently, if foreign "
					 "keys of tables without %I reference it", unique_index, table, column);
		step_sql(s, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qunique);
		s->dynamic_sql = sql_format("SELECT %L || %s || ')' WHERE NOT %s AND %s", create,
									key_cols, includes, fk.stays);
		step_done(s, "SELECT %s OR %s OR NOT %s", valid, includes, fk.stays);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
						"drop index %I concurrently", unique_index);
		step_sql(undo, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qunique);
		step_done(undo, "SELECT to_regclass(%R) IS NULL", qunique);
		free(create);
		free(valid);
	}

	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "make %I part of the primary key of %Q; the foreign keys that reference it "
				 "follow", column, table);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, %s ON CONFLICT DO NOTHING", pc->m->version, cols_key, key_cols);
	strlist_push(&s->sql, xstrdup(fk.detach));
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
	strlist_push(&s->sql, xstrdup(fk.unique_old));
	strlist_push(&s->sql, xstrdup(fk.attach_moved));
	step_done(s, "SELECT %s", includes);

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
						"give %Q its old primary key and the foreign keys that referenced it back",
						table);
		stmt = swap_primary_key_sql(table, old_index, NULL, includes);
	}
	else
	{
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"give %Q its old primary key and the foreign keys that referenced it back",
						table);
		stmt = swap_primary_key_sql(table, NULL, saved_cols, includes);
	}
	strlist_push(&undo->sql, xstrdup(fk.detach_saved));
	strlist_push(&undo->sql, stmt);
	strlist_push(&undo->sql, xstrdup(fk.attach_saved));
	step_done(undo, "SELECT NOT %s", includes);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
					"validate the foreign keys given back to %Q and forget them", table);
	strlist_push(&undo->sql, xstrdup(fk.validate));
	step_sql(undo, "DELETE FROM migrate.saved_objects WHERE version = %D AND starts_with(key, %L)",
			 pc->m->version, fk.prefix);
	step_done(undo, "SELECT NOT EXISTS (SELECT FROM %s)", fk.saved_rows);
	undo_forget_saved(pc, s, forget);

	if (ONLINE(pc))
	{
		s = add_step(pc, NULL, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
					 "validate the foreign keys that reference %Q", table);
		strlist_push(&s->sql, xstrdup(fk.validate));
		step_done(s, "SELECT %s", fk.validated);
	}

	tenant_key_sql_free(&fk);
	free(key_cols);
	free(not_includes);
	free(includes);
	free(saved_cols);
	free(cols_key);
	free(cols_what);
	free(qunique);
	free(qold);
	free(qindex);
	free(unique_index);
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
	/* next to the tenant table: the application calls it, schema migrate is ours */
	char	   *function = sibling_name(op->u.multi_tenancy.tenant_table, "set_current_tenant");
	char	   *signature = sql_format("%Q(%s)", function, type);
	char	   *match = sql_format("%I = NULLIF(current_setting(%L, true), '')::%s",
								   column, setting, type);
	char	   *body;
	Step	   *s;
	Step	   *undo;

	/* session-wide, as an application sets it once per connection */
	body = sql_format("SELECT set_config(%L, tenant::text, false)", setting);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "function %Q sets %L", function, setting);
	{
		Buf			b;

		buf_init(&b);
		sql_append(&b, "CREATE OR REPLACE FUNCTION %Q(tenant %s) RETURNS void LANGUAGE sql AS ",
				   function, type);
		append_dollar_quoted(&b, body);
		strlist_push(&s->sql, buf_detach(&b));
	}
	step_done(s, "SELECT to_regprocedure(%L) IS NOT NULL", signature);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
					"drop function %Q", function);
	step_sql(undo, "DROP FUNCTION IF EXISTS %s", signature);
	step_done(undo, "SELECT to_regprocedure(%L) IS NULL", signature);
	free(body);

	for (size_t i = 0; i < n; i++)
	{
		const char *table = tables[i].name;
		const char *policies[2] = {"tenant_isolation", "tenant_admin"};

		plan_rls_change(pc, table, true, false);
		for (int p = 0; p < (admin ? 2 : 1); p++)
		{
			char	   *create;
			char	   *exists = sql_format("EXISTS (SELECT FROM pg_policy WHERE polrelid = "
											"to_regclass(%R) AND polname = %L)", table, policies[p]);

			s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						 "create policy %I on %Q", policies[p], table);
			if (p == 0)
				create = sql_format("CREATE POLICY %I ON %Q AS PERMISSIVE FOR ALL TO PUBLIC "
									"USING (%s) WITH CHECK (%s)", policies[p], table, match, match);
			else
				create = sql_format("CREATE POLICY %I ON %Q AS PERMISSIVE FOR ALL TO %I "
									"USING (true) WITH CHECK (true)", policies[p], table, admin);
			step_done(s, "SELECT %s", exists);
			plan_own_policy(pc, s, table, policies[p], create);
			free(exists);
		}
	}
	free(match);
	free(signature);
	free(function);
}

bool
plan_multi_tenancy(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *column = op->u.multi_tenancy.column;
	TenantTable *tables;
	size_t		n;

	StrList		listed = {0};
	const StrList *names = &op->u.multi_tenancy.tables;

	if (op->u.multi_tenancy.all)
	{
		if (!list_all_tables(pc, &listed))
			return false;
		names = &listed;
	}
	tables = xcalloc(names->n + 1, sizeof(TenantTable));
	if (!tenant_from_listed(pc, names) || !order_tables(pc, names, tables, &n))
	{
		free(tables);
		strlist_free(&listed);
		return false;
	}

	ensure_migrate_schema(pc);
	if (op->u.multi_tenancy.all)
		plan_save_all_tables(pc, names);
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
	/* with the tenant in the primary key, its index is the tenant index */
	for (size_t i = 0; op->u.multi_tenancy.index && !op->u.multi_tenancy.primary_key && i < n; i++)
	{
		char	   *name = derived_name(tables[i].name, column, "idx");
		char	   *def = sql_format("ON %Q (%I)", tables[i].name, column);

		plan_index_build(pc, tables[i].name, name, false, def);
		free(def);
		free(name);
	}
	for (size_t i = 0; op->u.multi_tenancy.primary_key && i < n; i++)
		plan_tenant_primary_key(pc, tables, n, i);
	if (op->u.multi_tenancy.rls_setting)
		plan_tenant_rls(pc, tables, n);
	for (size_t i = 0; ONLINE(pc) && i < n; i++)
		if (tables[i].from)
			plan_drop_sync_trigger(pc, tables[i].name, (int) i + 1);
	free(tables);
	strlist_free(&listed);
	return true;
}
