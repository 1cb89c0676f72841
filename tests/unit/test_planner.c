/*
 * Unit tests: the planner.  Golden files hold every fixture of
 * fixtures/plan planned in both strategies and rendered as text, SQL and
 * JSON (UPDATE_GOLDEN=1 rewrites them; read the diff before committing);
 * targeted tests pin what matters most: lock modes, transactions, the
 * online sequences, quoting, ids, irreversibility, errors.
 */
#include <pg_query.h>

#include "catalog.h"
#include "ledger.h"
#include "plan_helpers.h"
#include "golden.h"

static Suite *make_suite(void);

/* ---- helpers ---- */

/* The index of the first top-level step whose SQL contains needle, or -1. */
static int
find_step(const MigrationPlan *mp, const char *needle)
{
	for (size_t i = 0; i < mp->n_steps; i++)
		for (size_t k = 0; k < mp->steps[i].sql.n; k++)
			if (strstr(mp->steps[i].sql.items[k], needle))
				return (int) i;
	return -1;
}

static const Step *
step_with(const MigrationPlan *mp, const char *needle)
{
	int			i = find_step(mp, needle);

	ck_assert_msg(i >= 0, "no step runs \"%s\"", needle);
	return &mp->steps[i];
}

static void
plan_fixture(const char *name, Strategy strategy, Migration *m, MigrationPlan *mp)
{
	load_plan_fixture(name, m);
	plan_or_fail(m, strategy, mp);
}

static void
plan_yaml(const char *yaml, Strategy strategy, Migration *m, MigrationPlan *mp)
{
	load_plan_text("7_t.yaml", yaml, m);
	plan_or_fail(m, strategy, mp);
}

/* Calls fn on every step and inverse step of the plan. */
static void
each_step(const MigrationPlan *mp, void (*fn) (const Step *s, void *arg), void *arg)
{
	for (size_t i = 0; i < mp->n_steps; i++)
	{
		fn(&mp->steps[i], arg);
		for (size_t r = 0; r < mp->steps[i].n_rollback; r++)
			fn(&mp->steps[i].rollback[r], arg);
	}
}

/* ---- golden files ---- */

START_TEST(test_golden)
{
	const char *name = plan_fixtures[_i];
	static const Format formats[] = {FORMAT_TEXT, FORMAT_SQL, FORMAT_JSON};
	static const char *const exts[] = {"txt", "sql", "json"};

	for (int s = 0; s < 2; s++)
	{
		Strategy	strategy = s == 0 ? STRATEGY_PLAIN : STRATEGY_ONLINE;
		Migration	m;
		MigrationPlan mp;

		plan_fixture(name, strategy, &m, &mp);
		for (int f = 0; f < 3; f++)
		{
			char	   *got = render_one(&mp, formats[f], false);
			char	   *path = xasprintf(PLAN_FIXTURES "%s.%s.%s", name,
										 strategy_name(strategy), exts[f]);

			check_golden(path, got);
			free(path);
			free(got);
		}
		migration_plan_free(&mp);
		migration_free(&m);
	}
}
END_TEST

/* ---- golden plans with a catalog (its snapshot, no database) ---- */

/* Plans fixtures/plan_catalog/NAME.yaml online with cat; renders it as text and JSON goldens. */
static void
check_catalog_golden(const char *name, const Catalog *cat)
{
	static const Format formats[] = {FORMAT_TEXT, FORMAT_JSON};
	static const char *const exts[] = {"txt", "json"};
	Error		err = {0};
	char	   *path = xasprintf("fixtures/plan_catalog/%s.yaml", name);
	Migration	m;
	MigrationPlan mp;
	bool		ok = spec_load_file(path, &m, &err);

	ck_assert_msg(ok, "%s: %s", path, err.message ? err.message : "?");
	ok = plan_migration(&m, STRATEGY_ONLINE, cat, &mp, &err);
	ck_assert_msg(ok, "%s: %s", path, err.message ? err.message : "?");
	for (int f = 0; f < 2; f++)
	{
		char	   *got = render_one(&mp, formats[f], false);
		char	   *golden = xasprintf("fixtures/plan_catalog/%s.online.%s", name, exts[f]);

		check_golden(golden, got);
		free(golden);
		free(got);
	}
	plan_assume_applied(&m, cat);
	migration_plan_free(&mp);
	migration_free(&m);
	free(path);
}

/* The step of mp with id, or NULL. */
static const Step *
step_by_id(const MigrationPlan *mp, const char *id)
{
	for (size_t i = 0; i < mp->n_steps; i++)
		if (strcmp(mp->steps[i].id, id) == 0)
			return &mp->steps[i];
	return NULL;
}

START_TEST(test_catalog_golden)
{
	Catalog		cat = {NULL, 150000, NULL};

	catalog_snapshot_init(&cat);
	/* an existing empty table, as the probe would have found it */
	catalog_assume_empty(&cat, "orders");
	check_catalog_golden("0001_empty_table", &cat);
	catalog_forget(&cat);
	/* a set: the second migration plans with the table the first creates */
	check_catalog_golden("0001_create_events", &cat);
	check_catalog_golden("0002_created_before", &cat);
	catalog_close(&cat);
	ck_assert_ptr_null(cat.snap);
}
END_TEST

/* What the snapshot changes, step by step, against the same file without it. */
START_TEST(test_empty_table_plain)
{
	Catalog		cat = {NULL, 150000, NULL};
	Migration	m;
	MigrationPlan with, without;
	Error		err = {0};
	const Step *s;

	load_plan_text("7_t.yaml", "operations:\n"
				   "  - create_index: {table: t, name: t_a_idx, columns: [a]}\n"
				   "  - add_column: {table: t, column: {name: b, type: text}, backfill: \"a::text\"}\n",
				   &m);
	catalog_snapshot_init(&cat);
	catalog_assume_empty(&cat, "t");
	ck_assert(plan_migration(&m, STRATEGY_ONLINE, &cat, &with, &err));
	ck_assert(plan_migration(&m, STRATEGY_ONLINE, NULL, &without, &err));
	/* the index: schema, record, plain build; offline a concurrent build */
	s = step_by_id(&with, "7.1.2");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->why_plain, "empty table: plain statements");
	ck_assert_ptr_nonnull(strstr(s->sql.items[0], "INSERT INTO migrate.saved_objects"));
	ck_assert_uint_eq(s->n_rollback, 1);
	s = step_by_id(&with, "7.1.3");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->kind, STEP_DDL);
	ck_assert(s->in_txn);
	ck_assert_ptr_null(strstr(s->sql.items[0], "CONCURRENTLY"));
	s = step_by_id(&without, "7.1.1");
	ck_assert_int_eq(s->kind, STEP_CONCURRENT);
	ck_assert_ptr_null(s->why_plain);
	/* the derived column keeps its trigger and batched fill, even on an empty table */
	for (size_t i = 0; i < with.n_steps; i++)
		if (with.steps[i].op_index == 1)
			ck_assert_ptr_null(with.steps[i].why_plain);
	ck_assert(!plan_same(&with, &without));
	ck_assert(plan_same(&with, &with));
	migration_plan_free(&with);
	migration_plan_free(&without);
	migration_free(&m);
	catalog_close(&cat);
}
END_TEST

/* ---- every statement is SQL that PostgreSQL's parser accepts ---- */

static void
assert_parses(const char *sql, const char *what, const char *id)
{
	PgQueryParseResult r = pg_query_parse(sql);

	ck_assert_msg(r.error == NULL, "step %s: %s does not parse: %s\n%s", id, what,
				  r.error ? r.error->message : "", sql);
	pg_query_free_parse_result(r);
}

static void
assert_step_parses(const Step *s, void *arg)
{
	(void) arg;
	for (size_t i = 0; i < s->sql.n; i++)
		assert_parses(s->sql.items[i], "statement", s->id);
	if (s->done_check)
		assert_parses(s->done_check, "done_check", s->id);
	if (s->dynamic_sql)
		assert_parses(s->dynamic_sql, "dynamic_sql", s->id);
}

START_TEST(test_all_sql_parses)
{
	for (int s = 0; s < 2; s++)
	{
		Migration	m;
		MigrationPlan mp;

		plan_fixture(plan_fixtures[_i], s ? STRATEGY_ONLINE : STRATEGY_PLAIN, &m, &mp);
		each_step(&mp, assert_step_parses, NULL);
		migration_plan_free(&mp);
		migration_free(&m);
	}
}
END_TEST

/* ---- structure every plan keeps ---- */

static void
assert_step_shape(const Step *s, void *arg)
{
	const MigrationPlan *mp = arg;

	ck_assert_ptr_nonnull(s->id);
	ck_assert_ptr_nonnull(s->summary);
	ck_assert_msg(s->sql.n > 0 || s->dynamic_sql, "step %s runs nothing", s->id);
	ck_assert_int_eq(s->est_rows, -1);	/* no catalog */
	/* CONCURRENTLY never runs in a transaction; other DDL always does */
	if (s->kind == STEP_CONCURRENT)
		ck_assert_msg(!s->in_txn, "%s", s->id);
	if (s->kind == STEP_DDL)
		ck_assert_msg(s->in_txn, "%s", s->id);
	for (size_t i = 0; i < s->sql.n; i++)
		if (strstr(s->sql.items[i], "CONCURRENTLY") && s->kind != STEP_SQL)
			ck_assert_msg(s->kind == STEP_CONCURRENT, "%s: %s", s->id, s->sql.items[i]);
	if (s->kind == STEP_BACKFILL)
	{
		ck_assert_ptr_nonnull(s->backfill);
		ck_assert_int_eq(s->lock, LOCK_ROW_EXCLUSIVE);
	}
	if (s->kind == STEP_DDL || s->kind == STEP_CONCURRENT)
		ck_assert_msg(s->done_check != NULL || strncmp(s->summary, "forget", 6) == 0 ||
					  strncmp(s->summary, "delete the default", 18) == 0 ||
					  strncmp(s->summary, "drop", 4) == 0 || strncmp(s->summary, "give", 4) == 0,
					  "step %s (%s) has no done_check", s->id, s->summary);
	if (s->kind == STEP_SQL)
		ck_assert_ptr_null(s->done_check);
	if (s->lock != LOCK_NONE)
		ck_assert_ptr_nonnull(s->lock_relation);
	/* the contract phase is the online strategy's */
	if (s->phase == PHASE_CONTRACT)
		ck_assert_int_eq(mp->strategy, STRATEGY_ONLINE);
}

START_TEST(test_plan_shape)
{
	for (int s = 0; s < 2; s++)
	{
		Migration	m;
		MigrationPlan mp;
		bool		irreversible = false;

		plan_fixture(plan_fixtures[_i], s ? STRATEGY_ONLINE : STRATEGY_PLAIN, &m, &mp);
		ck_assert_ptr_eq(mp.migration, &m);
		each_step(&mp, assert_step_shape, &mp);
		for (size_t i = 0; i < mp.n_steps; i++)
		{
			const Step *st = &mp.steps[i];
			char	   *prefix = xasprintf("%lld.%d.", (long long) m.version, st->op_index + 1);

			/* ids: <version>.<op>.<n>, n from 1 within the op, in order */
			ck_assert_msg(strncmp(st->id, prefix, strlen(prefix)) == 0, "%s", st->id);
			if (i == 0 || mp.steps[i - 1].op_index != st->op_index)
				ck_assert_str_eq(st->id + strlen(prefix), "1");
			else
				ck_assert_int_eq(atoi(st->id + strlen(prefix)),
								 atoi(strrchr(mp.steps[i - 1].id, '.') + 1) + 1);
			for (size_t r = 0; r < st->n_rollback; r++)
			{
				char	   *want = xasprintf("%s.r%zu", st->id, r + 1);

				ck_assert_str_eq(st->rollback[r].id, want);
				ck_assert_ptr_null(st->rollback[r].rollback);
				free(want);
			}
			/* every step apply runs can be undone, or says why not */
			if (!(mp.strategy == STRATEGY_ONLINE && st->phase == PHASE_CONTRACT))
				irreversible |= st->irreversible != NULL;
			free(prefix);
		}
		ck_assert_int_eq(mp.irreversible, irreversible);
		migration_plan_free(&mp);
		migration_free(&m);
	}
}
END_TEST

/* ---- lock modes and transactions ---- */

START_TEST(test_create_index_locks)
{
	Migration	m;
	MigrationPlan online;
	MigrationPlan plain;
	const Step *s;

	load_plan_fixture("0013_create_index", &m);
	plan_or_fail(&m, STRATEGY_ONLINE, &online);
	plan_or_fail(&m, STRATEGY_PLAIN, &plain);

	s = step_with(&online, "CREATE UNIQUE INDEX CONCURRENTLY \"orders_customer_created_idx\"");
	ck_assert_int_eq(s->kind, STEP_CONCURRENT);
	ck_assert_int_eq(s->lock, LOCK_SHARE_UPDATE_EXCLUSIVE);
	ck_assert(!s->in_txn);
	ck_assert_str_eq(s->lock_relation, "orders");
	/* an INVALID leftover of a failed build goes first */
	ck_assert_str_eq(s->sql.items[0],
					 "DROP INDEX CONCURRENTLY IF EXISTS \"orders_customer_created_idx\"");
	ck_assert_str_eq(s->sql.items[1],
					 "CREATE UNIQUE INDEX CONCURRENTLY \"orders_customer_created_idx\" ON \"orders\" "
					 "USING btree (\"customer_id\", (lower(email)), \"created_at\") "
					 "INCLUDE (\"total\") WHERE (deleted_at IS NULL)");
	ck_assert_str_eq(s->done_check,
					 "SELECT EXISTS (SELECT FROM pg_index WHERE indexrelid = "
					 "to_regclass('\"orders_customer_created_idx\"') AND indisvalid)");
	ck_assert_uint_eq(s->n_rollback, 1);
	ck_assert_int_eq(s->rollback[0].kind, STEP_CONCURRENT);
	ck_assert(!s->rollback[0].in_txn);
	ck_assert_str_eq(s->rollback[0].sql.items[0],
					 "DROP INDEX CONCURRENTLY IF EXISTS \"orders_customer_created_idx\"");

	/* the index of a schema-qualified table lives in its schema */
	s = step_with(&online, "\"orders_status_idx\" ON \"shop\".\"orders\"");
	ck_assert_str_eq(s->rollback[0].sql.items[0],
					 "DROP INDEX CONCURRENTLY IF EXISTS \"shop\".\"orders_status_idx\"");

	s = step_with(&plain, "CREATE UNIQUE INDEX \"orders_customer_created_idx\"");
	ck_assert_int_eq(s->kind, STEP_DDL);
	ck_assert_int_eq(s->lock, LOCK_SHARE);
	ck_assert(s->in_txn);
	ck_assert_int_eq(find_step(&plain, "CONCURRENTLY"), -1);

	migration_plan_free(&online);
	migration_plan_free(&plain);
	migration_free(&m);
}
END_TEST

START_TEST(test_add_constraint_online)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;
	int			i;

	plan_fixture("0015_add_constraint", STRATEGY_ONLINE, &m, &mp);

	/* check: NOT VALID under a short lock, then VALIDATE in another step */
	i = find_step(&mp, "CHECK (total >= 0) NOT VALID");
	ck_assert_int_ge(i, 0);
	s = &mp.steps[i];
	ck_assert_str_eq(s->sql.items[0], "ALTER TABLE \"orders\" ADD CONSTRAINT "
					 "\"orders_total_check\" CHECK (total >= 0) NOT VALID");
	ck_assert_int_eq(s->lock, LOCK_ACCESS_EXCLUSIVE);
	ck_assert_int_eq(s->phase, PHASE_EXPAND);
	ck_assert_str_eq(s->rollback[0].sql.items[0],
					 "ALTER TABLE \"orders\" DROP CONSTRAINT IF EXISTS \"orders_total_check\"");
	s = &mp.steps[i + 1];
	ck_assert_str_eq(s->sql.items[0],
					 "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_total_check\"");
	ck_assert_int_eq(s->lock, LOCK_SHARE_UPDATE_EXCLUSIVE);
	ck_assert_int_eq(s->phase, PHASE_VALIDATE);
	ck_assert(strstr(s->done_check, "convalidated") != NULL);

	/* foreign key: SHARE ROW EXCLUSIVE, NOT VALID, then VALIDATE */
	s = step_with(&mp, "FOREIGN KEY (\"order_id\") REFERENCES \"orders\" (\"id\") "
				  "ON DELETE CASCADE NOT VALID");
	ck_assert_int_eq(s->lock, LOCK_SHARE_ROW_EXCLUSIVE);
	s = step_with(&mp, "VALIDATE CONSTRAINT \"order_items_order_fk\"");
	ck_assert_int_eq(s->lock, LOCK_SHARE_UPDATE_EXCLUSIVE);

	/* unique: an index built concurrently, then USING INDEX */
	i = find_step(&mp, "CREATE UNIQUE INDEX CONCURRENTLY \"orders_code_key\" ON \"orders\" (\"code\")");
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(mp.steps[i].kind, STEP_CONCURRENT);
	ck_assert_str_eq(mp.steps[i + 1].sql.items[0], "ALTER TABLE \"orders\" ADD CONSTRAINT "
					 "\"orders_code_key\" UNIQUE USING INDEX \"orders_code_key\"");

	/* primary key: its columns proved NOT NULL by a validated check first */
	i = find_step(&mp, "PRIMARY KEY USING INDEX \"items_pkey\"");
	ck_assert_int_ge(i, 0);
	ck_assert_int_ge(find_step(&mp, "CHECK (\"id\" IS NOT NULL) NOT VALID"), 0);
	ck_assert_int_lt(find_step(&mp, "ALTER COLUMN \"id\" SET NOT NULL"), i);
	migration_plan_free(&mp);
	migration_free(&m);

	/* plain: one validating statement each */
	plan_fixture("0015_add_constraint", STRATEGY_PLAIN, &m, &mp);
	ck_assert_int_eq(find_step(&mp, "NOT VALID"), -1);
	s = step_with(&mp, "ADD CONSTRAINT \"orders_code_key\" UNIQUE (\"code\")");
	ck_assert_int_eq(s->lock, LOCK_ACCESS_EXCLUSIVE);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_add_column_backfill_online)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;
	int			add,
				trigger,
				fill,
				check,
				validate,
				not_null,
				drop_check,
				drop_trigger;

	plan_fixture("0005_add_column_backfill", STRATEGY_ONLINE, &m, &mp);
	add = find_step(&mp, "ADD COLUMN \"status\" varchar(20)");
	trigger = find_step(&mp, "CREATE OR REPLACE TRIGGER");
	fill = find_step(&mp, "UPDATE \"public\".\"orders\"");
	check = find_step(&mp, "CHECK (\"status\" IS NOT NULL) NOT VALID");
	validate = find_step(&mp, "VALIDATE CONSTRAINT \"migrate_nn_5_1\"");
	not_null = find_step(&mp, "ALTER COLUMN \"status\" SET NOT NULL");
	drop_check = find_step(&mp, "DROP CONSTRAINT IF EXISTS \"migrate_nn_5_1\"");
	drop_trigger = find_step(&mp, "DROP TRIGGER IF EXISTS");

	/* schema migrate, for the trigger's function, comes before the trigger */
	ck_assert_int_lt(find_step(&mp, "CREATE SCHEMA IF NOT EXISTS migrate"), trigger);
	ck_assert(add < trigger && trigger < fill && fill < check && check < validate &&
			  validate < not_null && not_null < drop_check && drop_check < drop_trigger);

	/*
	 * nullable, and no default until finalize: existing rows stay NULL
	 * until filled, and an INSERT that leaves the column out reaches the
	 * trigger as NULL, to get the expression
	 */
	s = &mp.steps[add];
	ck_assert_str_eq(s->sql.items[0],
					 "ALTER TABLE \"public\".\"orders\" ADD COLUMN \"status\" varchar(20)");
	ck_assert_uint_eq(s->sql.n, 1);
	{
		int			set_default = find_step(&mp, "ALTER COLUMN \"status\" SET DEFAULT ('new')");

		ck_assert_int_eq(mp.steps[set_default].phase, PHASE_CONTRACT);
		ck_assert_int_lt(set_default, drop_trigger);
	}

	s = &mp.steps[trigger];
	ck_assert_int_eq(s->lock, LOCK_SHARE_ROW_EXCLUSIVE);
	ck_assert(strstr(s->sql.items[0], "CREATE OR REPLACE FUNCTION migrate.\"sync_5_1\"()") != NULL);
	ck_assert(strstr(s->sql.items[0], "NEW.\"status\" := (SELECT (CASE WHEN paid THEN 'paid' "
					 "ELSE 'new' END) FROM (SELECT NEW.*) AS \"orders\")") != NULL);
	/* an UPDATE that leaves the column alone recomputes it when its sources changed */
	ck_assert(strstr(s->sql.items[0], "ELSIF NEW.\"status\" IS NOT DISTINCT FROM OLD.\"status\" "
					 "AND (NEW.\"paid\" IS DISTINCT FROM OLD.\"paid\") THEN") != NULL);
	ck_assert_str_eq(s->sql.items[1], "CREATE OR REPLACE TRIGGER \"migrate_sync_5_1\" BEFORE INSERT OR "
					 "UPDATE ON \"public\".\"orders\" FOR EACH ROW EXECUTE FUNCTION "
					 "migrate.\"sync_5_1\"()");

	s = &mp.steps[fill];
	ck_assert_int_eq(s->kind, STEP_BACKFILL);
	ck_assert_int_eq(s->phase, PHASE_BACKFILL);
	ck_assert_ptr_null(s->done_check);
	ck_assert_str_eq(s->backfill->table, "public.orders");
	ck_assert_uint_eq(s->backfill->set.n, 1);
	ck_assert_str_eq(s->backfill->set.items[0].key, "status");
	ck_assert_str_eq(s->backfill->set.items[0].expr, "CASE WHEN paid THEN 'paid' ELSE 'new' END");
	ck_assert_str_eq(s->backfill->where, "\"status\" IS NULL");

	ck_assert_int_eq(mp.steps[validate].lock, LOCK_SHARE_UPDATE_EXCLUSIVE);
	ck_assert_int_eq(mp.steps[validate].phase, PHASE_VALIDATE);

	/* the trigger stays until finalize */
	ck_assert_int_eq(mp.steps[drop_trigger].phase, PHASE_CONTRACT);
	ck_assert_ptr_null(mp.steps[drop_trigger].irreversible);

	/* the column's own constraints, online too */
	ck_assert_int_ge(find_step(&mp, "ADD CONSTRAINT \"orders_status_fkey\" FOREIGN KEY (\"status\") "
							   "REFERENCES \"statuses\" (\"code\") ON DELETE RESTRICT NOT VALID"), 0);
	ck_assert_int_ge(find_step(&mp, "ADD CONSTRAINT \"orders_status_check\" CHECK (status <> '') "
							   "NOT VALID"), 0);
	ck_assert_int_ge(find_step(&mp, "CREATE UNIQUE INDEX CONCURRENTLY \"orders_status_key\""), 0);
	ck_assert(!mp.irreversible);
	migration_plan_free(&mp);
	migration_free(&m);

	/* plain: add, one UPDATE, then NOT NULL; no trigger */
	plan_fixture("0005_add_column_backfill", STRATEGY_PLAIN, &m, &mp);
	ck_assert_int_eq(find_step(&mp, "CREATE OR REPLACE TRIGGER"), -1);
	s = step_with(&mp, "UPDATE");
	ck_assert_str_eq(s->sql.items[0], "UPDATE \"public\".\"orders\" SET \"status\" = "
					 "(CASE WHEN paid THEN 'paid' ELSE 'new' END)");
	ck_assert_int_eq(s->kind, STEP_BACKFILL);
	ck_assert_ptr_null(s->backfill->where);
	ck_assert_int_gt(find_step(&mp, "SET NOT NULL"), find_step(&mp, "UPDATE"));
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_add_column_defaults)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;

	/* a constant default is one instant step, NOT NULL included */
	plan_fixture("0004_add_column_instant", STRATEGY_ONLINE, &m, &mp);
	ck_assert_uint_eq(mp.n_steps, 3);
	ck_assert_str_eq(mp.steps[0].sql.items[0],
					 "ALTER TABLE \"orders\" ADD COLUMN \"priority\" integer DEFAULT (0) NOT NULL");
	ck_assert_str_eq(mp.steps[1].sql.items[0],
					 "ALTER TABLE \"orders\" ADD COLUMN \"currency\" text DEFAULT ('EUR'::text)");
	ck_assert_str_eq(mp.steps[1].sql.items[1],
					 "COMMENT ON COLUMN \"orders\".\"currency\" IS 'ISO 4217'");
	for (size_t i = 0; i < mp.n_steps; i++)
		ck_assert_int_eq(mp.steps[i].lock, LOCK_ACCESS_EXCLUSIVE);
	migration_plan_free(&mp);
	migration_free(&m);

	/* a function call may be volatile: add nullable, fill in batches */
	plan_fixture("0006_add_column_volatile_default", STRATEGY_ONLINE, &m, &mp);
	s = step_with(&mp, "ADD COLUMN \"token\" uuid");
	ck_assert_str_eq(s->sql.items[0], "ALTER TABLE \"orders\" ADD COLUMN \"token\" uuid");
	ck_assert_str_eq(s->sql.items[1], "ALTER TABLE \"orders\" ALTER COLUMN \"token\" SET DEFAULT "
					 "(gen_random_uuid())");
	s = step_with(&mp, "UPDATE");
	ck_assert_int_eq(s->kind, STEP_BACKFILL);
	ck_assert_str_eq(s->backfill->set.items[0].expr, "gen_random_uuid()");
	/* the default serves old code's inserts: no trigger */
	ck_assert_int_eq(find_step(&mp, "CREATE OR REPLACE TRIGGER"), -1);
	ck_assert_int_ge(find_step(&mp, "SET NOT NULL"), 0);
	migration_plan_free(&mp);
	migration_free(&m);

	/* NOT NULL without default or backfill is planned, with a warning */
	plan_yaml("operations:\n  - add_column: {table: t, column: {name: c, type: int, nullable: false}}\n",
			  STRATEGY_ONLINE, &m, &mp);
	ck_assert_uint_eq(mp.n_steps, 1);
	ck_assert_ptr_nonnull(mp.steps[0].warning);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_constant_defaults)
{
	static const struct
	{
		const char *expr;
		bool		instant;
	}			cases[] = {
		{"0", true}, {"-1.5e3", true}, {"'x'", true}, {"'it''s'", true},
		{"'{}'::jsonb", true}, {"0::numeric(10, 2)", true}, {"true", true}, {"NULL", true},
		{"now()", false}, {"'a' || 'b'", false}, {"1 + 1", false}, {"nextval('s')", false},
		{"'x'::text || f()", false}, {"truex", false}, {"'unterminated", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		Migration	m;
		MigrationPlan mp;
		char	   *yaml = xasprintf("operations:\n  - add_column: {table: t, column: "
									 "{name: c, type: text, default: \"%s\"}}\n", cases[i].expr);

		plan_yaml(yaml, STRATEGY_ONLINE, &m, &mp);
		ck_assert_msg((find_step(&mp, "UPDATE") < 0) == cases[i].instant, "%s", cases[i].expr);
		migration_plan_free(&mp);
		migration_free(&m);
		free(yaml);
	}
}
END_TEST

START_TEST(test_alter_type_online)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;
	int			shadow,
				fill,
				swap;

	plan_fixture("0009_alter_column_type", STRATEGY_ONLINE, &m, &mp);
	ck_assert_int_ge(find_step(&mp, "INSERT INTO migrate.saved_objects"), 0);
	shadow = find_step(&mp, "ADD COLUMN \"migrate_new_9_1\" numeric(12,2)");
	fill = find_step(&mp, "UPDATE \"orders\" SET \"migrate_new_9_1\" = (round(total, 2))");
	swap = find_step(&mp, "RENAME COLUMN \"total\" TO \"migrate_old_9_1\"");
	ck_assert(shadow >= 0 && shadow < fill && fill < swap);
	ck_assert_int_eq(mp.steps[fill].kind, STEP_BACKFILL);
	s = &mp.steps[swap];
	ck_assert_int_eq(s->lock, LOCK_ACCESS_EXCLUSIVE);
	ck_assert_str_eq(s->sql.items[1],
					 "ALTER TABLE \"orders\" RENAME COLUMN \"migrate_new_9_1\" TO \"total\"");
	ck_assert_str_eq(s->sql.items[2], "ALTER TABLE \"orders\" ALTER COLUMN \"total\" SET DEFAULT (0)");
	ck_assert_ptr_nonnull(s->warning);
	/* rollback swaps back, data kept */
	ck_assert_str_eq(s->rollback[0].sql.items[1],
					 "ALTER TABLE \"orders\" RENAME COLUMN \"migrate_old_9_1\" TO \"total\"");
	/* NOT NULL is proved on the shadow before the swap */
	ck_assert_int_lt(find_step(&mp, "VALIDATE CONSTRAINT \"migrate_nn_9_1\""), swap);
	/* finalize drops the old column */
	s = step_with(&mp, "DROP COLUMN IF EXISTS \"migrate_old_9_1\"");
	ck_assert_int_eq(s->phase, PHASE_CONTRACT);
	ck_assert_ptr_nonnull(s->irreversible);
	ck_assert(!mp.irreversible);
	/* without using: a cast */
	ck_assert_int_ge(find_step(&mp, "UPDATE \"orders\" SET \"migrate_new_9_2\" = (\"code\"::text)"), 0);
	migration_plan_free(&mp);
	migration_free(&m);

	/*
	 * plain: one ALTER TABLE, undone from the saved definition; the old
	 * default goes first, so that it need not cast to the new type
	 */
	plan_fixture("0009_alter_column_type", STRATEGY_PLAIN, &m, &mp);
	s = step_with(&mp, "ALTER COLUMN \"total\" TYPE");
	ck_assert_str_eq(s->sql.items[0], "ALTER TABLE \"orders\" ALTER COLUMN \"total\" DROP DEFAULT, "
					 "ALTER COLUMN \"total\" TYPE "
					 "numeric(12,2) USING (round(total, 2)), ALTER COLUMN \"total\" SET NOT NULL, "
					 "ALTER COLUMN \"total\" SET DEFAULT (0)");
	ck_assert_uint_eq(s->n_rollback, 1);
	ck_assert(strstr(s->rollback[0].sql.items[0], "migrate.saved_objects") != NULL);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_drops)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;

	/* drop_table: nothing at apply online, the drop at finalize */
	plan_fixture("0002_drop_table", STRATEGY_ONLINE, &m, &mp);
	ck_assert_uint_eq(mp.n_steps, 1);
	ck_assert_int_eq(mp.steps[0].phase, PHASE_CONTRACT);
	ck_assert_ptr_nonnull(mp.steps[0].irreversible);
	ck_assert(!mp.irreversible);
	migration_plan_free(&mp);
	plan_or_fail(&m, STRATEGY_PLAIN, &mp);
	ck_assert_int_eq(mp.steps[0].phase, PHASE_EXPAND);
	ck_assert(mp.irreversible);
	migration_plan_free(&mp);
	migration_free(&m);

	/* drop_column online: relax NOT NULL at apply, drop at finalize */
	plan_fixture("0007_drop_column", STRATEGY_ONLINE, &m, &mp);
	s = step_with(&mp, "DROP NOT NULL");
	ck_assert_int_eq(s->phase, PHASE_EXPAND);
	ck_assert_int_gt(s->n_rollback, 0);
	s = step_with(&mp, "DROP COLUMN IF EXISTS \"legacy_flag\"");
	ck_assert_int_eq(s->phase, PHASE_CONTRACT);
	ck_assert(!mp.irreversible);
	migration_plan_free(&mp);
	/* plain: values saved first, then dropped; the inverse puts them back */
	plan_or_fail(&m, STRATEGY_PLAIN, &mp);
	ck_assert_int_lt(find_step(&mp, "migrate.save_rows"), find_step(&mp, "DROP COLUMN"));
	s = step_with(&mp, "DROP COLUMN \"legacy_flag\"");
	ck_assert(strstr(s->rollback[0].sql.items[0], "migrate.restore_rows") != NULL);
	ck_assert(!mp.irreversible);
	migration_plan_free(&mp);
	migration_free(&m);

	/* drop_index online: definition saved, dropped concurrently, rebuilt from it */
	plan_fixture("0014_drop_index", STRATEGY_ONLINE, &m, &mp);
	ck_assert_int_lt(find_step(&mp, "pg_get_indexdef"),
					 find_step(&mp, "DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"orders_old_idx\""));
	s = step_with(&mp, "DROP INDEX CONCURRENTLY");
	ck_assert_int_eq(s->kind, STEP_CONCURRENT);
	ck_assert_int_eq(s->rollback[0].kind, STEP_CONCURRENT);
	ck_assert(strstr(s->rollback[0].dynamic_sql, "CONCURRENTLY") != NULL);
	migration_plan_free(&mp);
	migration_free(&m);

	/* drop_constraint: short lock, definition saved; online re-add is NOT VALID + VALIDATE */
	plan_fixture("0016_drop_constraint", STRATEGY_ONLINE, &m, &mp);
	s = step_with(&mp, "DROP CONSTRAINT IF EXISTS \"orders_total_check\"");
	ck_assert_int_eq(s->lock, LOCK_ACCESS_EXCLUSIVE);
	ck_assert(strstr(s->sql.items[0], "pg_get_constraintdef") != NULL);
	ck_assert(strstr(s->rollback[1].sql.items[0], "NOT VALID") != NULL);
	ck_assert_int_eq(s->rollback[2].lock, LOCK_SHARE_UPDATE_EXCLUSIVE);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_renames)
{
	Migration	m;
	MigrationPlan mp;

	/* online: the rename and a view under the old name, in one step; finalize drops the view */
	plan_fixture("0003_rename_table", STRATEGY_ONLINE, &m, &mp);
	ck_assert_uint_eq(mp.n_steps, 2);
	ck_assert_str_eq(mp.steps[0].sql.items[0],
					 "ALTER TABLE \"public\".\"orders\" RENAME TO \"purchases\"");
	ck_assert_str_eq(mp.steps[0].sql.items[1],
					 "CREATE VIEW \"public\".\"orders\" AS SELECT * FROM \"public\".\"purchases\"");
	ck_assert(strstr(mp.steps[0].sql.items[2], "security_invoker") != NULL);
	ck_assert(strstr(mp.steps[0].sql.items[2], "aclexplode") != NULL);
	ck_assert_ptr_null(mp.steps[0].warning);
	ck_assert(strstr(mp.steps[0].rollback[0].sql.items[0], "DROP VIEW \"public\".\"orders\"") != NULL);
	ck_assert_str_eq(mp.steps[0].rollback[0].sql.items[1],
					 "ALTER TABLE \"public\".\"purchases\" RENAME TO \"orders\"");
	ck_assert_int_eq(mp.steps[1].phase, PHASE_CONTRACT);
	ck_assert(strstr(mp.steps[1].sql.items[0], "DROP VIEW \"public\".\"orders\"") != NULL);
	migration_plan_free(&mp);
	migration_free(&m);

	/* plain: the rename alone, with its warning */
	plan_fixture("0003_rename_table", STRATEGY_PLAIN, &m, &mp);
	ck_assert_uint_eq(mp.n_steps, 1);
	ck_assert_ptr_nonnull(mp.steps[0].warning);
	ck_assert(strstr(mp.steps[0].warning, "old name") != NULL);
	migration_plan_free(&mp);
	migration_free(&m);

	plan_fixture("0008_rename_column", STRATEGY_PLAIN, &m, &mp);
	ck_assert_ptr_nonnull(mp.steps[0].warning);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_backfill_op)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;

	plan_fixture("0011_backfill_down", STRATEGY_ONLINE, &m, &mp);
	ck_assert_uint_eq(mp.n_steps, 1);
	s = &mp.steps[0];
	ck_assert_int_eq(s->kind, STEP_BACKFILL);
	ck_assert_str_eq(s->sql.items[0], "UPDATE \"orders\" SET \"total_cents\" = ((total * 100)::bigint), "
					 "\"currency\" = ('EUR') WHERE (total_cents IS NULL)");
	ck_assert_int_eq(s->backfill->batch_size, 5000);
	ck_assert_int_eq(s->backfill->batch_delay_ms, 50);
	ck_assert_str_eq(s->backfill->where, "total_cents IS NULL");
	/* down: a batched backfill too, over every row */
	ck_assert_int_eq(s->rollback[0].kind, STEP_BACKFILL);
	ck_assert_str_eq(s->rollback[0].backfill->set.items[0].expr, "NULL");
	ck_assert_ptr_null(s->rollback[0].backfill->where);
	migration_plan_free(&mp);
	migration_free(&m);

	/*
	 * without down, online: an empty save table first, filled by each batch
	 * with the rows it overwrites; put back by the inverse
	 */
	plan_fixture("0012_backfill_saved", STRATEGY_ONLINE, &m, &mp);
	ck_assert(strstr(mp.steps[0].sql.items[3], "FUNCTION migrate.save_rows(") != NULL);
	s = step_with(&mp, "SELECT migrate.save_rows");
	ck_assert_str_eq(s->sql.items[0], "SELECT migrate.save_rows('\"orders\"'::regclass, 'rows_12_1', "
					 "ARRAY['status']::text[], 'false')");
	s = step_with(&mp, "UPDATE \"orders\"");
	ck_assert_str_eq(s->backfill->save_table, "rows_12_1");
	ck_assert_str_eq(s->rollback[0].sql.items[0],
					 "SELECT migrate.restore_rows('\"orders\"'::regclass, 'rows_12_1')");
	/* online, the values go back in batches, from the save table */
	ck_assert_int_eq(s->rollback[0].kind, STEP_BACKFILL);
	ck_assert_str_eq(s->rollback[0].backfill->restore_from, "rows_12_1");
	migration_plan_free(&mp);
	migration_free(&m);

	/* plain: one statement saves every row the one UPDATE overwrites */
	plan_fixture("0012_backfill_saved", STRATEGY_PLAIN, &m, &mp);
	s = step_with(&mp, "SELECT migrate.save_rows");
	ck_assert_str_eq(s->sql.items[0], "SELECT migrate.save_rows('\"orders\"'::regclass, 'rows_12_1', "
					 "ARRAY['status']::text[], 'status <> lower(status)')");
	s = step_with(&mp, "UPDATE \"orders\"");
	ck_assert_ptr_null(s->backfill->save_table);
	ck_assert_ptr_null(s->rollback[0].backfill->restore_from);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_policies_and_rls)
{
	Migration	m;
	MigrationPlan mp;

	plan_fixture("0018_policy", STRATEGY_ONLINE, &m, &mp);
	/* the policy is this migration's own: an own one of the name is replaced (a fix), never another's */
	ck_assert_str_eq(mp.steps[0].sql.items[0],
					 "DO $migrate$BEGIN IF EXISTS (SELECT FROM migrate.ledger_objects l "
					 "WHERE l.kind = 'policy' AND l.version = 18 AND l.oid = (SELECT p.oid "
					 "FROM pg_catalog.pg_policy p WHERE p.polrelid = to_regclass('\"orders\"') "
					 "AND p.polname = 'tenant_isolation')) THEN DROP POLICY \"tenant_isolation\" "
					 "ON \"orders\"; END IF; END$migrate$");
	ck_assert(mp.steps[0].replace_if_changed);
	ck_assert_uint_eq(mp.steps[0].n_owns, 1);
	ck_assert_str_eq(mp.steps[0].owns[0].kind, "policy");
	ck_assert_str_eq(mp.steps[0].owns[0].table, "orders");
	ck_assert_str_eq(mp.steps[0].owns[0].name, "tenant_isolation");
	ck_assert_ptr_null(mp.steps[0].owns[0].only_if);
	ck_assert_str_eq(mp.steps[0].sql.items[1],
					 "CREATE POLICY \"tenant_isolation\" ON \"orders\" AS RESTRICTIVE FOR UPDATE "
					 "TO \"app_user\", \"reporting role\" USING (tenant_id = "
					 "current_setting('app.current_tenant')::int) WITH CHECK (tenant_id = "
					 "current_setting('app.current_tenant')::int)");
	ck_assert_str_eq(mp.steps[1].sql.items[1],
					 "CREATE POLICY \"everyone_reads\" ON \"orders\" AS PERMISSIVE FOR ALL TO PUBLIC "
					 "USING (true)");
	ck_assert_int_eq(mp.steps[0].lock, LOCK_ACCESS_EXCLUSIVE);
	/* and rollback drops it only while it is */
	ck_assert_ptr_nonnull(strstr(mp.steps[0].rollback[0].sql.items[0],
								 "l.version = 18 AND l.oid = (SELECT p.oid FROM pg_catalog.pg_policy p"));
	ck_assert_ptr_nonnull(strstr(mp.steps[0].rollback[0].sql.items[0],
								 "THEN DROP POLICY \"tenant_isolation\" ON \"orders\"; END IF;"));
	migration_plan_free(&mp);
	migration_free(&m);

	/* step 0 prepares schema migrate: the state before is saved, and given back */
	plan_fixture("0017_rls", STRATEGY_PLAIN, &m, &mp);
	ck_assert_ptr_nonnull(strstr(mp.steps[1].sql.items[0], "relforcerowsecurity::text"));
	ck_assert_str_eq(mp.steps[1].sql.items[1], "ALTER TABLE \"orders\" ENABLE ROW LEVEL SECURITY");
	ck_assert_str_eq(mp.steps[1].sql.items[2], "ALTER TABLE \"orders\" FORCE ROW LEVEL SECURITY");
	ck_assert_ptr_nonnull(strstr(mp.steps[1].rollback[0].sql.items[0],
								 "ELSE ALTER TABLE \"orders\" NO FORCE ROW LEVEL SECURITY;"));
	ck_assert_str_eq(mp.steps[2].sql.items[1], "ALTER TABLE \"customers\" DISABLE ROW LEVEL SECURITY");
	ck_assert_ptr_nonnull(strstr(mp.steps[2].rollback[0].sql.items[0],
								 "THEN ALTER TABLE \"customers\" ENABLE ROW LEVEL SECURITY;"));
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

/* Each kind's identity matches only an object of that kind; made-if-missing objects say when they are owned. */
START_TEST(test_owned_identities)
{
	Migration	m;
	MigrationPlan mp;
	char	   *sql;
	int			k;

	sql = ledger_identity_sql("view", "NULL", "'v'", "'\"v\"'");
	ck_assert_str_eq(sql, "(SELECT v.oid FROM pg_catalog.pg_class v "
					 "WHERE v.oid = to_regclass('\"v\"') AND v.relkind = 'v')");
	free(sql);
	sql = ledger_identity_sql("role", "NULL", "'r'", "'\"r\"'");
	ck_assert_str_eq(sql, "(SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = 'r')");
	free(sql);
	sql = ledger_identity_sql("policy", "'\"t\"'", "'p'", "'\"p\"'");
	ck_assert_str_eq(sql, "(SELECT p.oid FROM pg_catalog.pg_policy p "
					 "WHERE p.polrelid = to_regclass('\"t\"') AND p.polname = 'p')");
	free(sql);
	sql = ledger_identity_sql("table", "NULL", "'t'", "'\"t\"'");
	ck_assert_str_eq(sql, "to_regclass('\"t\"')::oid");
	free(sql);

	/* the tenant table is owned only when the step made it; its drop asks the ledger */
	plan_fixture("0019_multi_tenancy", STRATEGY_ONLINE, &m, &mp);
	k = find_step(&mp, "CREATE TABLE IF NOT EXISTS \"tenants\"");
	ck_assert_int_ge(k, 0);
	ck_assert_uint_eq(mp.steps[k].n_owns, 1);
	ck_assert_str_eq(mp.steps[k].owns[0].kind, "table");
	ck_assert_str_eq(mp.steps[k].owns[0].name, "tenants");
	ck_assert_ptr_nonnull(strstr(mp.steps[k].owns[0].only_if, "key = '1.tenant_table'"));
	ck_assert_ptr_nonnull(strstr(mp.steps[k].rollback[0].sql.items[0],
								 "l.kind = 'table' AND l.version = 19 AND l.oid = "
								 "to_regclass('\"tenants\"')::oid"));
	ck_assert_ptr_null(strstr(mp.steps[k].rollback[0].sql.items[0], "saved_objects"));
	migration_plan_free(&mp);
	migration_free(&m);

	/* a role too; a view is replaced after a fix, and its drop asks the ledger */
	plan_fixture("0031_objects", STRATEGY_PLAIN, &m, &mp);
	k = find_step(&mp, "CREATE ROLE \"reporting\"");
	ck_assert_int_ge(k, 0);
	ck_assert_str_eq(mp.steps[k].owns[0].kind, "role");
	ck_assert_ptr_nonnull(mp.steps[k].owns[0].only_if);
	ck_assert(!mp.steps[k].replace_if_changed);
	k = find_step(&mp, "CREATE VIEW \"cheap_orders\"");
	ck_assert_int_ge(k, 0);
	ck_assert(mp.steps[k].replace_if_changed);
	ck_assert_str_eq(mp.steps[k].owns[0].kind, "view");
	ck_assert_ptr_null(mp.steps[k].owns[0].only_if);
	ck_assert_ptr_nonnull(strstr(mp.steps[k].sql.items[0], "l.version = 31 AND l.oid = "));
	ck_assert_ptr_nonnull(strstr(mp.steps[k].sql.items[0], "THEN DROP VIEW \"cheap_orders\"; END IF"));
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_multi_tenancy)
{
	Migration	m;
	MigrationPlan mp;
	const Step *s;

	plan_fixture("0019_multi_tenancy", STRATEGY_ONLINE, &m, &mp);
	/* default-tenant tables: instant constant default */
	s = step_with(&mp, "ALTER TABLE \"customers\" ADD COLUMN");
	ck_assert_str_eq(s->sql.items[0], "ALTER TABLE \"customers\" ADD COLUMN \"tenant_id\" integer "
					 "NOT NULL DEFAULT '1'");
	/* a child is filled after its parent, from the parent row */
	ck_assert_int_gt(find_step(&mp, "ALTER TABLE \"order_items\" ADD COLUMN"),
					 find_step(&mp, "ALTER TABLE \"orders\" ADD COLUMN"));
	s = step_with(&mp, "UPDATE \"order_items\"");
	ck_assert_str_eq(s->backfill->set.items[0].expr, "SELECT p.\"tenant_id\" FROM \"orders\" AS p "
					 "WHERE p.\"id\" = \"order_items\".\"order_id\"");
	ck_assert_int_ge(find_step(&mp, "CREATE OR REPLACE TRIGGER \"migrate_sync_19_1_3\""), 0);
	/* default tenant, literals quoted */
	ck_assert_int_ge(find_step(&mp, "VALUES ('1', 'Default Tenant') ON CONFLICT DO NOTHING"), 0);
	/* FK not valid then validated, index concurrently, RLS on the setting */
	ck_assert_int_ge(find_step(&mp, "ADD CONSTRAINT \"orders_tenant_id_fkey\" FOREIGN KEY "
							   "(\"tenant_id\") REFERENCES \"tenants\" (\"id\") NOT VALID"), 0);
	/* with the tenant in the primary key, that index leads with it: no other */
	ck_assert_int_eq(find_step(&mp, "CREATE INDEX CONCURRENTLY \"orders_tenant_id_idx\""), -1);
	ck_assert_int_ge(find_step(&mp, "USING (\"tenant_id\" = NULLIF(current_setting("
							   "'app.current_tenant', true), '')::integer)"), 0);
	ck_assert_int_ge(find_step(&mp, "TO \"admin_role\" USING (true)"), 0);
	ck_assert_int_ge(find_step(&mp, "FUNCTION \"set_current_tenant\"(tenant integer)"), 0);
	/* primary key: unique index concurrently (built at run time), then a swap */
	s = step_with(&mp, "DROP INDEX CONCURRENTLY IF EXISTS \"orders_tenant_id_pkey\"");
	ck_assert_ptr_nonnull(s->dynamic_sql);
	ck_assert_int_eq(s->kind, STEP_CONCURRENT);
	/*
	 * the swap detaches the foreign keys that reference the old key and
	 * attaches them again (not valid, validated later); nothing cascades
	 */
	s = step_with(&mp, "ALTER TABLE %s DROP CONSTRAINT %I', f.tab, f.conname");
	ck_assert_str_eq(s->summary, "make \"tenant_id\" part of the primary key of \"customers\"; "
					 "the foreign keys that reference it follow");
	ck_assert_int_eq(s->lock, LOCK_ACCESS_EXCLUSIVE);
	ck_assert_ptr_nonnull(strstr(s->sql.items[s->sql.n - 1], "ADD CONSTRAINT %I %s NOT VALID"));
	ck_assert_ptr_nonnull(strstr(s->sql.items[s->sql.n - 2],
								 "ADD CONSTRAINT \"customers_without_tenant_key\" UNIQUE USING INDEX"));
	ck_assert_int_ge(find_step(&mp, "VALIDATE CONSTRAINT %I', r.d->>'table'"), 0);
	ck_assert_int_eq(find_step(&mp, "CASCADE"), -1);
	migration_plan_free(&mp);
	migration_free(&m);

	/* all: true needs the database */
	{
		Error		err = {0};

		load_plan_text("0003_t.yaml", "operations:\n  - multi_tenancy:\n      default_tenant: "
					   "{id: 1, name: d}\n      all: true\n", &m);
		ck_assert(!plan_migration(&m, STRATEGY_ONLINE, NULL, &mp, &err));
		ck_assert_int_eq(err.exit_code, EXIT_USAGE);
		ck_assert(strstr(err.message, "0003_t.yaml:2:") != NULL);
		ck_assert(strstr(err.message, "give a database (-d)") != NULL);
		ck_assert_uint_eq(mp.n_steps, 0);
		error_clear(&err);
		migration_free(&m);
	}
}
END_TEST

START_TEST(test_sql_op)
{
	Migration	m;
	MigrationPlan mp;
	Error		err = {0};

	plan_fixture("0020_sql", STRATEGY_PLAIN, &m, &mp);
	ck_assert_int_eq(mp.steps[0].kind, STEP_SQL);
	ck_assert_uint_eq(mp.steps[0].sql.n, 2);
	ck_assert_str_eq(mp.steps[0].sql.items[0], "CREATE EXTENSION IF NOT EXISTS pg_trgm");
	ck_assert_str_eq(mp.steps[0].sql.items[1],
					 "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$");
	ck_assert(mp.steps[0].in_txn);
	ck_assert_str_eq(mp.steps[0].rollback[0].sql.items[0], "DROP FUNCTION f()");
	ck_assert(!mp.steps[1].in_txn);
	ck_assert(!mp.steps[1].rollback[0].in_txn);
	/* without down: irreversible, and the plan says so */
	ck_assert_ptr_nonnull(mp.steps[2].irreversible);
	ck_assert_uint_eq(mp.steps[2].n_rollback, 0);
	ck_assert(mp.irreversible);
	migration_plan_free(&mp);
	migration_free(&m);

	/* a parse error names the file, the statement's line and the parser's message */
	load_plan_text("dir/0009_bad.yaml",
				   "operations:\n  - sql: {up: \"SELECT 1\"}\n  - sql:\n      up: \"SELEC 1;\"\n", &m);
	ck_assert(!plan_migration(&m, STRATEGY_PLAIN, NULL, &mp, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_msg(strncmp(err.message, "dir/0009_bad.yaml:4:1: sql.up: syntax error", 43) == 0,
				  "%s", err.message);
	ck_assert_uint_eq(mp.n_steps, 0);
	ck_assert_ptr_null(mp.steps);
	error_clear(&err);
	migration_free(&m);

	load_plan_text("0009_bad.yaml", "operations:\n  - sql: {up: \"SELECT 1\", down: \"DROP\"}\n", &m);
	ck_assert(!plan_migration(&m, STRATEGY_ONLINE, NULL, &mp, &err));
	ck_assert_msg(strncmp(err.message, "0009_bad.yaml:2:", 16) == 0 &&
				  strstr(err.message, ": sql.down: syntax error") != NULL, "%s", err.message);
	error_clear(&err);
	migration_free(&m);
}
END_TEST

/* ---- quoting ---- */

static const char *const hostile[] = {
	"orders; DROP TABLE customers; --",
	"idx\"; DROP TABLE t; --",
};

/*
 * Every occurrence of each hostile name sits inside a quoted identifier, or
 * inside a literal (a name as a value, compared with the catalog's).
 */
static void
assert_only_quoted(const char *text, const char *id)
{
	/* the raw forms with a bare double quote never appear */
	ck_assert_msg(strstr(text, "my \"odd\" table") == NULL, "%s: %s", id, text);
	ck_assert_msg(strstr(text, "idx\"; DROP") == NULL, "%s: %s", id, text);
	for (const char *p = strstr(text, hostile[0]); p; p = strstr(p + 1, hostile[0]))
	{
		char		quote = p > text ? p[-1] : '\0';

		ck_assert_msg(quote == '"' || quote == '\'', "%s: unquoted at %s", id, p);
		ck_assert_msg(p[strlen(hostile[0])] == quote, "%s: unquoted at %s", id, p);
	}
}

static void
assert_step_quoted(const Step *s, void *arg)
{
	(void) arg;
	for (size_t i = 0; i < s->sql.n; i++)
		assert_only_quoted(s->sql.items[i], s->id);
	if (s->done_check)
		assert_only_quoted(s->done_check, s->id);
	assert_only_quoted(s->summary, s->id);
}

START_TEST(test_hostile_identifiers)
{
	for (int st = 0; st < 2; st++)
	{
		Migration	m;
		MigrationPlan mp;
		const Step *s;

		plan_fixture("0021_hostile", st ? STRATEGY_ONLINE : STRATEGY_PLAIN, &m, &mp);
		each_step(&mp, assert_step_quoted, NULL);
		ck_assert_int_ge(find_step(&mp, "CREATE TABLE \"orders; DROP TABLE customers; --\""), 0);
		ck_assert_int_ge(find_step(&mp, "\"my \"\"odd\"\" column\" text"), 0);
		ck_assert_int_ge(find_step(&mp, "IS 'it''s odd'"), 0);
		ck_assert_int_ge(find_step(&mp, "\"idx\"\"; DROP TABLE t; --\" ON \"my \"\"odd\"\" table\""), 0);
		if (st)
		{
			/* a name holding the dollar-quote tag gets another tag */
			s = step_with(&mp, "CREATE OR REPLACE FUNCTION");
			ck_assert(strstr(s->sql.items[0], "AS $migrate1$") != NULL);
			ck_assert(strstr(s->sql.items[0], "NEW.\"x$migrate$y\"") != NULL);
		}
		migration_plan_free(&mp);
		migration_free(&m);
	}
}
END_TEST

/* Plans yaml, which must fail with EXIT_USAGE and a message holding want. */
static void
expect_plan_error(const char *yaml, const char *want)
{
	Migration	m;
	MigrationPlan mp;
	Error		err = {0};

	load_plan_text("0008_bad.yaml", yaml, &m);
	for (int s = 0; s < 2; s++)
	{
		ck_assert(!plan_migration(&m, s ? STRATEGY_ONLINE : STRATEGY_PLAIN, NULL, &mp, &err));
		ck_assert_int_eq(err.exit_code, EXIT_USAGE);
		ck_assert_msg(strstr(err.message, want) != NULL, "%s", err.message);
		ck_assert_uint_eq(mp.n_steps, 0);
		error_clear(&err);
	}
	migration_free(&m);
}

START_TEST(test_plan_errors)
{
	expect_plan_error("operations:\n  - rename_table: {from: a.t, to: b.t}\n",
					  "0008_bad.yaml:2: rename_table: \"a.t\" and \"b.t\" are in different schemas");
	expect_plan_error("operations:\n  - create_index: {table: t, name: i, columns: [a]}\n"
					  "  - multi_tenancy:\n      default_tenant: {id: 1, name: d}\n"
					  "      tables: [a, b]\n      tenant_from:\n"
					  "        a: {table: b, via: b_id}\n        b: {table: a, via: a_id}\n",
					  "0008_bad.yaml:3: multi_tenancy: tenant_from goes round in a circle");
}
END_TEST

START_TEST(test_names_fit)
{
	Migration	m;
	MigrationPlan mp;
	char		yaml[1024];
	const char *long_table = "t23456789012345678901234567890123456789012345678901234567890";
	const Step *s;

	snprintf(yaml, sizeof yaml,
			 "operations:\n  - add_column:\n      table: %s\n      column: {name: "
			 "ü23456789012345678901234567890123456789012345678901234567890, type: int, "
			 "unique: true}\n", long_table);
	load_plan_text("99999999999999_t.yaml", yaml, &m);
	plan_or_fail(&m, STRATEGY_ONLINE, &mp);
	s = step_with(&mp, "CREATE UNIQUE INDEX CONCURRENTLY");
	{
		/* "<table>_<column>_key" cut to 63 bytes, on a character boundary */
		const char *name = strstr(s->sql.items[1], "CONCURRENTLY \"") + 14;
		size_t		len = (size_t) (strchr(name, '"') - name);

		ck_assert_uint_le(len, 63);
		ck_assert_uint_ge(len, 62);
	}
	ck_assert_str_eq(mp.steps[0].id, "99999999999999.1.1");
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_names_of_enums)
{
	ck_assert_str_eq(lock_mode_name(LOCK_NONE), "none");
	ck_assert_str_eq(lock_mode_name(LOCK_SHARE_UPDATE_EXCLUSIVE), "SHARE UPDATE EXCLUSIVE");
	ck_assert_str_eq(lock_mode_name(LOCK_ACCESS_EXCLUSIVE), "ACCESS EXCLUSIVE");
	ck_assert_str_eq(step_phase_name(PHASE_VALIDATE), "validate");
	ck_assert_str_eq(step_phase_name(PHASE_CONTRACT), "contract");
	ck_assert_str_eq(step_kind_name(STEP_CONCURRENT), "concurrent");
	ck_assert_str_eq(step_kind_name(STEP_SQL), "sql");
	ck_assert_str_eq(strategy_name(STRATEGY_PLAIN), "plain");
	ck_assert_str_eq(strategy_name(STRATEGY_ONLINE), "online");
}
END_TEST

/*
 * The planner decides, once, what apply leaves to finalize and what the
 * batch engine runs; everyone else reads the marks.
 */
START_TEST(test_marks_how_steps_run)
{
	Migration	m;
	MigrationPlan mp;
	size_t		deferred = 0,
				batched = 0,
				inverse_batched = 0;

	plan_fixture("0009_alter_column_type", STRATEGY_ONLINE, &m, &mp);
	for (size_t i = 0; i < mp.n_steps; i++)
	{
		const Step *s = &mp.steps[i];

		ck_assert(s->deferred == (s->phase == PHASE_CONTRACT));
		ck_assert(s->batched == (s->kind == STEP_BACKFILL && s->backfill != NULL));
		deferred += s->deferred;
		batched += s->batched;
		for (size_t r = 0; r < s->n_rollback; r++)
			inverse_batched += s->rollback[r].batched;
	}
	ck_assert_uint_gt(deferred, 0);
	ck_assert_uint_gt(batched, 0);
	(void) inverse_batched;
	migration_plan_free(&mp);
	migration_free(&m);

	/* plain: nothing waits for finalize, nothing is batched */
	plan_fixture("0009_alter_column_type", STRATEGY_PLAIN, &m, &mp);
	for (size_t i = 0; i < mp.n_steps; i++)
	{
		ck_assert(!mp.steps[i].deferred);
		ck_assert(!mp.steps[i].batched);
		for (size_t r = 0; r < mp.steps[i].n_rollback; r++)
			ck_assert(!mp.steps[i].rollback[r].batched);
	}
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

/* A table the same migration creates gets the plain statements, online too. */
START_TEST(test_new_table_plain_technique)
{
	Migration	m;
	MigrationPlan mp;
	size_t		pk_steps = 0,
				index_steps = 0;

	plan_yaml("operations:\n"
			  "  - create_table:\n"
			  "      name: fresh\n"
			  "      columns: [{name: id, type: integer}, {name: v, type: text}]\n"
			  "  - add_constraint: {table: fresh, name: fresh_pkey, primary_key: [id]}\n"
			  "  - create_index: {table: fresh, name: fresh_v_idx, columns: [v]}\n"
			  "  - create_index: {table: other, name: other_v_idx, columns: [v]}\n",
			  STRATEGY_ONLINE, &m, &mp);
	for (size_t i = 0; i < mp.n_steps; i++)
	{
		const Step *s = &mp.steps[i];

		pk_steps += s->op_index == 1;
		index_steps += s->op_index == 2;
		if (s->op_index == 1 || s->op_index == 2)
			ck_assert_int_ne(s->kind, STEP_CONCURRENT);
	}
	/* ADD CONSTRAINT, after saving the column's nullability: not nine online steps */
	ck_assert_uint_le(pk_steps, 3);
	ck_assert_uint_eq(index_steps, 1);
	ck_assert(strstr(step_with(&mp, "ADD CONSTRAINT \"fresh_pkey\" PRIMARY KEY")->sql.items[0],
					 "USING INDEX") == NULL);
	/* a table that exists already keeps the online technique */
	ck_assert_int_eq(step_with(&mp, "CREATE INDEX CONCURRENTLY \"other_v_idx\"")->kind,
					 STEP_CONCURRENT);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_free_is_safe)
{
	MigrationPlan mp = {0};
	Plan		p = {0};

	migration_plan_free(&mp);
	migration_plan_free(NULL);
	plan_free(&p);
	plan_free(NULL);
	step_free(NULL);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("planner");
	TCase	   *golden = tcase_create("golden");
	TCase	   *each = tcase_create("every fixture");
	TCase	   *tc = tcase_create("techniques");

	tcase_add_loop_test(golden, test_golden, 0, (int) N_PLAN_FIXTURES);
	tcase_add_test(golden, test_catalog_golden);
	tcase_add_test(tc, test_empty_table_plain);
	tcase_add_loop_test(each, test_all_sql_parses, 0, (int) N_PLAN_FIXTURES);
	tcase_add_loop_test(each, test_plan_shape, 0, (int) N_PLAN_FIXTURES);
	tcase_add_test(tc, test_create_index_locks);
	tcase_add_test(tc, test_add_constraint_online);
	tcase_add_test(tc, test_add_column_backfill_online);
	tcase_add_test(tc, test_add_column_defaults);
	tcase_add_test(tc, test_constant_defaults);
	tcase_add_test(tc, test_alter_type_online);
	tcase_add_test(tc, test_drops);
	tcase_add_test(tc, test_renames);
	tcase_add_test(tc, test_backfill_op);
	tcase_add_test(tc, test_policies_and_rls);
	tcase_add_test(tc, test_multi_tenancy);
	tcase_add_test(tc, test_owned_identities);
	tcase_add_test(tc, test_sql_op);
	tcase_add_test(tc, test_hostile_identifiers);
	tcase_add_test(tc, test_plan_errors);
	tcase_add_test(tc, test_names_fit);
	tcase_add_test(tc, test_names_of_enums);
	tcase_add_test(tc, test_marks_how_steps_run);
	tcase_add_test(tc, test_new_table_plain_technique);
	tcase_add_test(tc, test_free_is_safe);
	suite_add_tcase(s, golden);
	suite_add_tcase(s, each);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
