/*
 * Unit tests: every lint rule on an unsafe and a safe statement, the
 * context a migration gives (tables it created, NOT VALID then VALIDATE,
 * transactions), unsafe_ok, the online and plain strategies, convert, and
 * agreement with squawk's own test cases (fixtures/squawk/cases.jsonl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "convert.h"
#include "lint.h"
#include "sqlparse.h"

#include <pg_query/pg_query.pb-c.h>

static Suite *make_suite(void);

static const LintOptions plain_offline = {STRATEGY_PLAIN, NULL, 0};

/* Lints sql (one transaction when in_txn); the caller frees *r. */
static void
lint_text(const char *sql, bool in_txn, LintReport *r)
{
	Error		err = {0};

	memset(r, 0, sizeof *r);
	if (!lint_sql(sql, in_txn, &plain_offline, r, &err))
		ck_abort_msg("lint_sql(%s): %s", sql, err.message);
}

static void
expect_rule(const char *sql, const char *rule)
{
	LintReport	r;

	lint_text(sql, false, &r);
	ck_assert_msg(lint_has_rule(&r, rule), "%s: no %s finding", sql, rule);
	ck_assert_uint_gt(lint_unsafe_count(&r), 0);
	lint_report_free(&r);
}

static void
expect_clean(const char *sql)
{
	LintReport	r;

	lint_text(sql, false, &r);
	ck_assert_msg(r.n == 0, "%s: unexpected finding %s", sql, r.n ? r.items[0].rule : "");
	lint_report_free(&r);
}

/* ---- one test per rule: the unsafe statement and its safe form ---- */

START_TEST(test_create_index)
{
	expect_rule("CREATE INDEX i ON t (a)", "create-index-not-concurrent");
	expect_clean("CREATE INDEX CONCURRENTLY i ON t (a)");
	expect_clean("CREATE TABLE t (a int); CREATE INDEX i ON t (a)");
}
END_TEST

START_TEST(test_drop_index)
{
	expect_rule("DROP INDEX i", "drop-index-not-concurrent");
	expect_clean("DROP INDEX CONCURRENTLY i");
	expect_clean("CREATE TABLE t (a int); CREATE INDEX i ON t (a); DROP INDEX i");
}
END_TEST

START_TEST(test_concurrently_in_transaction)
{
	LintReport	r;

	lint_text("CREATE INDEX CONCURRENTLY i ON t (a)", true, &r);
	ck_assert(lint_has_rule(&r, "concurrently-in-transaction"));
	lint_report_free(&r);
	expect_rule("BEGIN; DROP INDEX CONCURRENTLY i; COMMIT", "concurrently-in-transaction");
	expect_rule("BEGIN; REINDEX INDEX CONCURRENTLY i; COMMIT", "concurrently-in-transaction");
	expect_clean("BEGIN; SELECT 1; COMMIT; CREATE INDEX CONCURRENTLY i ON t (a)");
}
END_TEST

START_TEST(test_foreign_key)
{
	LintReport	r;

	expect_rule("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id)",
				"foreign-key-validated");
	lint_text("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id)", false, &r);
	ck_assert_int_eq(r.items[0].lock, LOCK_SHARE_ROW_EXCLUSIVE);
	ck_assert_str_eq(r.items[0].lock_on, "t");
	ck_assert(r.items[0].scan && !r.items[0].rewrite);
	ck_assert_str_eq(r.items[0].detail, "also SHARE ROW EXCLUSIVE on p");
	lint_report_free(&r);
	expect_clean("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id) NOT VALID;"
				 "ALTER TABLE t VALIDATE CONSTRAINT f");
	/* a new column is all NULL: the server marks the key valid unchecked */
	expect_clean("ALTER TABLE t ADD COLUMN p bigint REFERENCES p (id)");
	/* with a value in every row (even DEFAULT NULL), every row is checked under ADD COLUMN's lock */
	lint_text("ALTER TABLE t ADD COLUMN p bigint DEFAULT 1 REFERENCES p (id)", false, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.items[0].rule, "foreign-key-validated");
	ck_assert_int_eq(r.items[0].lock, LOCK_ACCESS_EXCLUSIVE);
	ck_assert_str_eq(r.items[0].lock_on, "t");
	ck_assert(r.items[0].scan && !r.items[0].rewrite);
	ck_assert_str_eq(r.items[0].detail, "the new column's value is checked against p in every row, "
					 "under ADD COLUMN's ACCESS EXCLUSIVE; also SHARE ROW EXCLUSIVE on p");
	lint_report_free(&r);
	expect_rule("ALTER TABLE t ADD COLUMN p bigint DEFAULT NULL REFERENCES p", "foreign-key-validated");
	expect_rule("ALTER TABLE t ADD COLUMN p bigint CONSTRAINT f REFERENCES p DEFAULT 7",
				"foreign-key-validated");
	expect_rule("ALTER TABLE t ADD COLUMN p bigserial REFERENCES p", "foreign-key-validated");
	expect_rule("ALTER TABLE t ADD COLUMN p bigint GENERATED ALWAYS AS IDENTITY REFERENCES p",
				"foreign-key-validated");
	/* on a table the migration created, nobody waits */
	expect_clean("CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN p bigint DEFAULT 1 REFERENCES p");
	expect_clean("CREATE TABLE t (a int); ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p");
	/* an INSERT into a new table changes nothing: still nobody else's */
	expect_clean("CREATE TABLE t (a int); INSERT INTO t VALUES (1); "
				 "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p");
}
END_TEST

START_TEST(test_check)
{
	expect_rule("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", "check-validated");
	expect_clean("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID");
	expect_clean("CREATE TABLE t (a int); ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)");
}
END_TEST

START_TEST(test_unique_and_primary_key)
{
	expect_rule("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", "unique-constraint");
	expect_clean("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx");
	expect_rule("ALTER TABLE t ADD PRIMARY KEY (id)", "primary-key");
	expect_clean("ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey_idx");
}
END_TEST

/* An exclusion constraint: its own rule, judged by the table's state like the others. */
START_TEST(test_exclusion_constraint)
{
	LintReport	r;

	lint_text("ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&)", false, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.items[0].rule, "exclusion-constraint");
	ck_assert_int_eq(r.items[0].lock, LOCK_ACCESS_EXCLUSIVE);
	ck_assert(r.items[0].scan && !r.items[0].rewrite);
	ck_assert_ptr_null(r.items[0].squawk);
	lint_report_free(&r);
	expect_clean("CREATE TABLE t (r int4range); ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&)");
	expect_clean("CREATE TABLE t (r int4range, EXCLUDE USING gist (r WITH &&))");
}
END_TEST

START_TEST(test_set_not_null)
{
	LintReport	r;

	expect_rule("ALTER TABLE t ALTER COLUMN a SET NOT NULL", "set-not-null");
	/* a validated check in an earlier transaction proves it: no scan */
	expect_clean("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;"
				 "ALTER TABLE t VALIDATE CONSTRAINT c;"
				 "ALTER TABLE t ALTER COLUMN a SET NOT NULL");
	/* in one transaction, the VALIDATE holds the ADD's lock */
	lint_text("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;"
			  "ALTER TABLE t VALIDATE CONSTRAINT c;"
			  "ALTER TABLE t ALTER COLUMN a SET NOT NULL", true, &r);
	ck_assert(lint_has_rule(&r, "validate-in-same-transaction"));
	ck_assert(lint_has_rule(&r, "set-not-null"));
	lint_report_free(&r);
}
END_TEST

START_TEST(test_add_column)
{
	expect_rule("ALTER TABLE t ADD COLUMN a int NOT NULL", "add-column-not-null-no-default");
	expect_clean("ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0");
	expect_clean("ALTER TABLE t ADD COLUMN a int");
	expect_clean("ALTER TABLE t ADD COLUMN a timestamptz DEFAULT now()");
	expect_rule("ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid()", "volatile-default");
	expect_rule("ALTER TABLE t ADD COLUMN a float8 DEFAULT 1 + random()", "volatile-default");
	expect_rule("ALTER TABLE t ADD COLUMN a int GENERATED ALWAYS AS (b * 2) STORED",
				"stored-generated-column");
	expect_rule("ALTER TABLE t ADD COLUMN id bigserial", "serial-or-identity-column");
	expect_rule("ALTER TABLE t ADD COLUMN id int GENERATED ALWAYS AS IDENTITY",
				"serial-or-identity-column");
	expect_clean("CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN id bigserial NOT NULL");
}
END_TEST

START_TEST(test_type_change)
{
	LintReport	r;

	lint_text("ALTER TABLE t ALTER COLUMN a TYPE bigint", false, &r);
	ck_assert(lint_has_rule(&r, "type-change-rewrite"));
	ck_assert(r.items[0].rewrite);
	/* without a database it cannot be told */
	ck_assert_ptr_nonnull(strstr(r.items[0].detail, "without a database"));
	lint_report_free(&r);
	expect_clean("CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a TYPE bigint");
}
END_TEST

START_TEST(test_maintenance)
{
	expect_rule("REINDEX TABLE t", "reindex-not-concurrent");
	expect_clean("REINDEX TABLE CONCURRENTLY t");
	expect_rule("VACUUM FULL t", "vacuum-full");
	expect_clean("VACUUM t");
	expect_rule("CLUSTER t USING t_pkey", "cluster");
	expect_rule("LOCK TABLE t", "lock-table");
	expect_clean("CREATE TABLE t (a int); LOCK TABLE t");
	expect_rule("TRUNCATE t CASCADE", "truncate-cascade");
	expect_clean("TRUNCATE t");
	expect_rule("ALTER TABLE t SET TABLESPACE fast", "table-rewrite");
	expect_rule("ALTER TABLE p DETACH PARTITION c", "detach-partition-not-concurrent");
	expect_clean("ALTER TABLE p DETACH PARTITION c CONCURRENTLY");
	expect_rule("REFRESH MATERIALIZED VIEW totals", "refresh-materialized-view-not-concurrent");
	expect_clean("REFRESH MATERIALIZED VIEW CONCURRENTLY totals");
	/* a view made in this migration: nobody reads it yet */
	expect_clean("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS a WITH NO DATA;"
				 "REFRESH MATERIALIZED VIEW totals");
}
END_TEST

/* What each statement locks, rewrites and scans, as the plan shows it. */
START_TEST(test_statement_effect)
{
	static const struct
	{
		const char *sql;
		LockMode	lock;
		const char *relation;
		bool		rewrite;
		bool		scan;
	}			cases[] = {
		{"CREATE INDEX CONCURRENTLY i ON s.t (a)", LOCK_SHARE_UPDATE_EXCLUSIVE, "s.t", false, true},
		{"CREATE INDEX i ON t (a)", LOCK_SHARE, "t", false, true},
		{"REFRESH MATERIALIZED VIEW CONCURRENTLY mv", LOCK_EXCLUSIVE, "mv", false, true},
		{"REFRESH MATERIALIZED VIEW mv", LOCK_ACCESS_EXCLUSIVE, "mv", true, true},
		{"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", LOCK_ACCESS_EXCLUSIVE, "t", false, false},
		{"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", LOCK_ACCESS_EXCLUSIVE, "t", false, true},
		{"ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p NOT VALID",
		LOCK_SHARE_ROW_EXCLUSIVE, "t", false, false},
		{"ALTER TABLE t VALIDATE CONSTRAINT c", LOCK_SHARE_UPDATE_EXCLUSIVE, "t", false, true},
		{"ALTER TABLE t SET (fillfactor = 70)", LOCK_SHARE_UPDATE_EXCLUSIVE, "t", false, false},
		{"ALTER TABLE t ADD COLUMN p int REFERENCES p", LOCK_ACCESS_EXCLUSIVE, "t", false, false},
		{"ALTER TABLE t ADD COLUMN p int DEFAULT 1 REFERENCES p", LOCK_ACCESS_EXCLUSIVE, "t", false, true},
		{"ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&)", LOCK_ACCESS_EXCLUSIVE, "t", false, true},
		{"ALTER TABLE t ADD COLUMN id bigserial", LOCK_ACCESS_EXCLUSIVE, "t", true, true},
		{"ALTER TABLE t ADD COLUMN b int, ALTER COLUMN a SET NOT NULL", LOCK_ACCESS_EXCLUSIVE, "t", false, true},
		{"VACUUM FULL t", LOCK_ACCESS_EXCLUSIVE, "t", true, true},
		{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
		LOCK_SHARE_ROW_EXCLUSIVE, "t", false, false},
		{"UPDATE t SET a = 1", LOCK_ROW_EXCLUSIVE, "t", false, true},
		{"COMMENT ON COLUMN s.t.a IS 'x'", LOCK_SHARE_UPDATE_EXCLUSIVE, "t", false, false},
		{"CREATE VIEW v AS SELECT 1", LOCK_NONE, NULL, false, false},
		{"SELECT 1", LOCK_NONE, NULL, false, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		Error		err = {0};
		SqlStatements stmts;
		StatementEffect e;

		ck_assert(sql_split(cases[i].sql, "t.sql", 1, NULL, &stmts, &err));
		ck_assert_uint_eq(stmts.n, 1);
		lint_statement_effect(stmts.items[0].node, &e);
		ck_assert_msg(e.lock == cases[i].lock, "%s: lock %s", cases[i].sql, lock_mode_name(e.lock));
		if (cases[i].relation)
			ck_assert_str_eq(e.relation, cases[i].relation);
		else
			ck_assert_ptr_null(e.relation);
		ck_assert_msg(e.rewrite == cases[i].rewrite && e.scan == cases[i].scan, "%s", cases[i].sql);
		free(e.relation);
		sql_statements_free(&stmts);
	}
}
END_TEST

START_TEST(test_renames_and_drops)
{
	expect_rule("ALTER TABLE t RENAME COLUMN a TO b", "rename");
	expect_rule("ALTER TABLE t RENAME TO u", "rename");
	/* the name that goes away comes back in the same statement list: a swap */
	expect_clean("ALTER TABLE t ADD COLUMN a_new bigint;"
				 "ALTER TABLE t RENAME COLUMN a TO a_old;"
				 "ALTER TABLE t RENAME COLUMN a_new TO a");
	expect_clean("CREATE TABLE t (a int); ALTER TABLE t RENAME COLUMN a TO b");
	expect_rule("ALTER TABLE t DROP COLUMN a", "drop");
	expect_rule("DROP TABLE t", "drop");
	expect_clean("CREATE TABLE t (a int); DROP TABLE t");
}
END_TEST

START_TEST(test_unbounded_dml)
{
	LintReport	r;

	expect_rule("UPDATE t SET a = 1", "unbounded-update-delete");
	expect_rule("DELETE FROM t", "unbounded-update-delete");
	expect_clean("UPDATE t SET a = 1 WHERE id BETWEEN 1 AND 1000");
	expect_clean("DELETE FROM t WHERE id = 3");
	lint_text("UPDATE t SET a = 1", false, &r);
	ck_assert_int_eq(r.items[0].lock, LOCK_ROW_EXCLUSIVE);
	ck_assert_ptr_nonnull(strstr(r.items[0].instead, "backfill"));
	lint_report_free(&r);
}
END_TEST

START_TEST(test_parse_error)
{
	LintReport	r = {0};
	Error		err = {0};

	ck_assert(!lint_sql("ALTER TABLE t ADD COLUMNN a int", false, &plain_offline, &r, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "syntax error"));
	error_clear(&err);
	lint_report_free(&r);
}
END_TEST

/* ---- whole migrations: strategies and unsafe_ok ---- */

static void
load(const char *yaml, Migration *m)
{
	Error		err = {0};

	if (!spec_load_buffer("0001_t.yaml", yaml, strlen(yaml), m, &err))
		ck_abort_msg("load: %s", err.message);
}

static void
lint_yaml(const char *yaml, Strategy strategy, LintReport *r)
{
	Migration	m;
	Error		err = {0};
	LintOptions o = {strategy, NULL, 0};

	load(yaml, &m);
	memset(r, 0, sizeof *r);
	if (!lint_migration(&m, &o, r, &err))
		ck_abort_msg("lint_migration: %s", err.message);
	migration_free(&m);
}

/*
 * A rename_* operation that --online keeps both names working for is no
 * finding; planned plain it is a warning, not unsafe (it is what the user
 * asked for).  The same rename in raw SQL stays unsafe.
 */
START_TEST(test_rename_operation_warns)
{
	LintReport	r;

	lint_yaml("operations:\n  - rename_column: { table: t, from: a, to: b }\n",
			  STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 0);
	lint_report_free(&r);

	lint_yaml("operations:\n  - rename_table: { from: t, to: u }\n", STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 0);
	lint_report_free(&r);

	lint_yaml("operations:\n  - rename_column: { table: t, from: a, to: b }\n",
			  STRATEGY_PLAIN, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.items[0].rule, "rename");
	ck_assert(r.items[0].warning);
	ck_assert_uint_eq(lint_unsafe_count(&r), 0);
	lint_report_free(&r);

	lint_yaml("operations:\n  - sql: { up: \"ALTER TABLE t RENAME COLUMN a TO b\", down: \"ALTER TABLE t RENAME COLUMN b TO a\" }\n",
			  STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(!r.items[0].warning);
	ck_assert_uint_eq(lint_unsafe_count(&r), 1);
	lint_report_free(&r);
}
END_TEST

static const char type_change_yaml[] =
"operations:\n"
"  - alter_column: { table: orders, column: note, type: varchar(500), using: \"left(note, 500)\" }\n";

START_TEST(test_online_steps_are_safe)
{
	LintReport	r;

	lint_yaml(type_change_yaml, STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_gt(r.statements, 5);
	lint_report_free(&r);
	lint_yaml(type_change_yaml, STRATEGY_PLAIN, &r);
	ck_assert(lint_has_rule(&r, "type-change-rewrite"));
	ck_assert_int_eq(r.items[0].line, 2);
	ck_assert_str_eq(r.items[0].file, "0001_t.yaml");
	lint_report_free(&r);
}
END_TEST

START_TEST(test_sql_operation_and_unsafe_ok)
{
	LintReport	r;

	lint_yaml("operations:\n"
			  "  - sql: { up: \"CREATE INDEX i ON t (a); UPDATE t SET a = 0\" }\n",
			  STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(lint_unsafe_count(&r), 2);
	lint_report_free(&r);
	lint_yaml("operations:\n"
			  "  - sql: { up: \"CREATE INDEX i ON t (a)\" }\n"
			  "    unsafe_ok: t has ten rows\n",
			  STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(lint_unsafe_count(&r), 0);
	ck_assert_str_eq(r.items[0].accepted, "t has ten rows");
	lint_report_free(&r);
	/* a table created earlier in the migration is new: nothing to judge */
	lint_yaml("operations:\n"
			  "  - create_table: { name: t, columns: [{ name: a, type: int }] }\n"
			  "  - sql: { up: \"CREATE INDEX i ON t (a); UPDATE t SET a = 0\" }\n",
			  STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 0);
	lint_report_free(&r);
}
END_TEST

START_TEST(test_statement_lines)
{
	LintReport	r;

	lint_yaml("description: lines\n"
			  "operations:\n"
			  "  - sql:\n"
			  "      up: |\n"
			  "        SELECT 1;\n"
			  "\n"
			  "        -- why\n"
			  "        /* more */ CREATE INDEX i ON t (a);\n"
			  "  - sql: { up: \"UPDATE t SET a = 1\" }\n",
			  STRATEGY_ONLINE, &r);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.items[0].line, 8);
	ck_assert_str_eq(r.items[0].statement, "CREATE INDEX i ON t (a)");
	ck_assert_int_eq(r.items[1].line, 9);
	lint_report_free(&r);
}
END_TEST

START_TEST(test_render_json)
{
	LintReport	r;
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	lint_text("CREATE INDEX i ON t (a)", false, &r);
	lint_render(f, &r, FORMAT_JSON);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "\"rule\":\"create-index-not-concurrent\""));
	ck_assert_ptr_nonnull(strstr(text, "\"lock\":\"SHARE\",\"on\":\"t\",\"rewrite\":false,\"scan\":true"));
	ck_assert_ptr_nonnull(strstr(text, "\"status\":\"unsafe\""));
	ck_assert_ptr_nonnull(strstr(text, "\"statements\":1,\"unsafe\":1,\"accepted\":0,\"warnings\":0}"));
	free(text);
	lint_report_free(&r);
}
END_TEST

/* ---- convert ---- */

static void
expect_converts(const char *sql, const char *const *kinds)
{
	Buf			yaml;
	Error		err = {0};
	Migration	m;
	size_t		n = 0;

	buf_init(&yaml);
	if (!convert_sql("in.sql", sql, &yaml, &err))
		ck_abort_msg("convert: %s", err.message);
	if (!spec_load_buffer("0001_c.yaml", yaml.data, yaml.len, &m, &err))
		ck_abort_msg("converted YAML does not load: %s\n%s", err.message, yaml.data);
	while (kinds[n])
		n++;
	ck_assert_msg(m.n_ops == n, "%zu operations, want %zu:\n%s", m.n_ops, n, yaml.data);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(op_kind_name(m.ops[i].kind), kinds[i]);
	migration_free(&m);
	buf_free(&yaml);
}

START_TEST(test_convert)
{
	static const char *const k1[] = {"create_table", "create_index", "add_column",
		"add_constraint", "add_constraint", "alter_column", "alter_column", "rename_column",
	"drop_index", "create_index", "sql", NULL};
	static const char *const k2[] = {"add_constraint", "drop_column", "drop_table",
	"rename_table", "alter_column", "sql", NULL};
	Buf			yaml;
	Error		err = {0};

	expect_converts(
					"CREATE TABLE \"odd \"\"t\" (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE,"
					" p bigint REFERENCES p (id) ON DELETE CASCADE, at timestamptz DEFAULT now());\n"
					"CREATE INDEX t_email ON t (email);\n"
					"ALTER TABLE t ADD COLUMN n integer NOT NULL DEFAULT 0;\n"
					"ALTER TABLE t ADD CONSTRAINT t_n_pos CHECK (n > 0 AND (n < 10 OR n = ')'));\n"
					"ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p) REFERENCES p (id) NOT VALID;\n"
					"ALTER TABLE t VALIDATE CONSTRAINT t_p;\n"
					"ALTER TABLE t ALTER COLUMN n SET NOT NULL, ALTER COLUMN email TYPE varchar(200);\n"
					"ALTER TABLE t RENAME COLUMN n TO m;\n"
					"DROP INDEX t_email;\n"
					"CREATE INDEX CONCURRENTLY t_lower ON t (lower(email));\n"
					"UPDATE t SET m = 1;\n", k1);
	expect_converts("BEGIN;\n"
					"ALTER TABLE s.t ADD UNIQUE (a, b);\n"
					"ALTER TABLE t DROP COLUMN a;\n"
					"DROP TABLE old;\n"
					"ALTER TABLE t RENAME TO u;\n"
					"ALTER TABLE t ALTER COLUMN a DROP DEFAULT;\n"
					"ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint;\n"
					"COMMIT;\n", k2);
	{
		/* ordered, covering and partial indexes, and RLS, become operations */
		static const char *const k3[] = {"create_index", "create_index", "enable_rls",
		"disable_rls", NULL};

		expect_converts("CREATE INDEX o_recent ON o (customer_id, created_at DESC NULLS LAST) "
						"INCLUDE (status) WHERE status <> 'done' AND (a OR b);\n"
						"CREATE UNIQUE INDEX \"Odd\" ON o (\"My Col\" ASC);\n"
						"ALTER TABLE o ENABLE ROW LEVEL SECURITY;\n"
						"ALTER TABLE o DISABLE ROW LEVEL SECURITY;\n", k3);
	}
	/* a statement no operation holds exactly stays as written */
	buf_init(&yaml);
	ck_assert(convert_sql("in.sql", "VACUUM FULL t;", &yaml, &err));
	ck_assert_ptr_nonnull(strstr(yaml.data, "VACUUM FULL t;\n      transactional: false\n"));
	buf_free(&yaml);
	buf_init(&yaml);
	ck_assert(!convert_sql("in.sql", "SELECT 1;\nALTER TABLE t ADD COLUMNN a int;", &yaml, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, "in.sql:2:"));
	error_clear(&err);
	buf_free(&yaml);
}
END_TEST

/* ---- agreement with squawk's verdicts ---- */

/*
 * squawk's safety rules (its style rules, e.g. prefer-text-field, and the
 * ones about how a file is written, e.g. prefer-robust-stmts or
 * require-timeout-settings, which migrate's executor does for every step,
 * are not safety rules).  floor: the agreement measured when this test was
 * written, in percent; it must not drop.
 */
static const struct
{
	const char *module;
	int			floor;
}			safety_rules[] = {
	{"adding_field_with_default", 94},
	{"adding_foreign_key_constraint", 85},
	{"adding_not_null_field", 85},
	{"adding_primary_key_constraint", 100},
	{"adding_required_field", 100},
	{"ban_concurrent_index_creation_in_transaction", 66},
	{"ban_drop_column", 100},
	{"ban_drop_database", 100},
	{"ban_drop_table", 100},
	{"ban_truncate_cascade", 100},
	{"changing_column_type", 100},
	{"constraint_missing_not_valid", 100},
	{"disallow_unique_constraint", 100},
	{"renaming_column", 100},
	{"renaming_table", 100},
	{"require_concurrent_index_creation", 100},
	{"require_concurrent_index_deletion", 100},
	{"require_concurrent_partition_detach", 100},
	{"require_concurrent_reindex", 87},
	{"prefer_repack", 80},
	{"ban_drop_not_null", 0},
	{"ban_alter_domain_with_add_constraint", 100},
};

/*
 * Where migrate judges differently from squawk, on purpose.  Every
 * disagreement must be listed here, and everything listed must disagree.
 */
static const struct
{
	const char *module;
	const char *test;
	const char *reason;
}			differences[] = {
	{"adding_field_with_default", "docs_example_error_on_pg_11",
		"PostgreSQL 11 added fast defaults: a constant default is stored in the catalog, "
	"nothing is rewritten (docs/design.md, What each statement locks); squawk counts only versions above 11"},
	{"adding_foreign_key_constraint", "add_column_references_lock",
		"a new column is all NULL: the foreign key has nothing to check, so nothing is "
		"scanned; the SHARE ROW EXCLUSIVE on the referenced table is as brief as the "
	"ADD COLUMN's own lock, and the executor bounds both with lock_timeout"},
	{"adding_not_null_field", "pg16_cross_migration_validate_then_set_not_null_ok",
		"the validated constraint was added elsewhere: from the text alone nothing says "
	"it is CHECK (bar IS NOT NULL), so the SET NOT NULL scan is not known to be skipped"},
	{"adding_not_null_field", "pg12_cross_migration_validate_then_set_not_null_ok",
	"as above: the constraint's expression is not in the SQL"},
	{"ban_concurrent_index_creation_in_transaction", "assuming_in_transaction_ok",
		"run in a transaction, CREATE INDEX CONCURRENTLY fails, whatever else the file "
	"holds; in migrate, transactional: false says it runs outside one"},
	{"ban_concurrent_index_creation_in_transaction",
		"squawk_disable_assume_in_transaction_overrides",
	"squawk's comment directives mean nothing to migrate; transactional: false does"},
	{"ban_drop_not_null", "err",
		"DROP NOT NULL takes a brief ACCESS EXCLUSIVE, scans nothing, and breaks no running "
	"code: the old version still writes values"},
	{"prefer_repack", "cluster_below_pg19_ok",
		"CLUSTER rewrites the table under ACCESS EXCLUSIVE on every version; that there is "
	"no REPACK before 19 does not make it safe"},
	{"prefer_repack", "vacuum_full_below_pg19_ok", "as above, for VACUUM FULL"},
	{"require_concurrent_reindex", "reindex_system_ok",
		"REINDEX SYSTEM locks the system catalogs every query reads; having no "
	"CONCURRENTLY form does not make it safe on a live database"},
	{NULL, NULL, NULL}
};

/* The JSON string value of key in line (one level, no nesting); malloc'd. */
static char *
json_field(const char *line, const char *key)
{
	char	   *pat = xasprintf("\"%s\": ", key);
	const char *p = strstr(line, pat);
	Buf			b;

	free(pat);
	if (p == NULL)
		return NULL;
	p += strlen(key) + 4;
	if (*p != '"')
		return xstrndup(p, strcspn(p, ",}"));
	buf_init(&b);
	for (p++; *p && *p != '"'; p++)
	{
		if (*p != '\\')
		{
			buf_putc(&b, *p);
			continue;
		}
		switch (*++p)
		{
			case 'n':
				buf_putc(&b, '\n');
				break;
			case 't':
				buf_putc(&b, '\t');
				break;
			case 'u':
				{
					unsigned	cp = (unsigned) strtoul((char[5]) {p[1], p[2], p[3], p[4], 0}, NULL, 16);

					if (cp < 0x80)
						buf_putc(&b, (char) cp);
					else if (cp < 0x800)
						buf_putc(&b, (char) (0xC0 | (cp >> 6))), buf_putc(&b, (char) (0x80 | (cp & 0x3F)));
					else
						buf_putc(&b, (char) (0xE0 | (cp >> 12))),
							buf_putc(&b, (char) (0x80 | ((cp >> 6) & 0x3F))),
							buf_putc(&b, (char) (0x80 | (cp & 0x3F)));
					p += 4;
					break;
				}
			default:
				buf_putc(&b, *p);
		}
	}
	return buf_detach(&b);
}

static int
safety_index(const char *module)
{
	for (size_t i = 0; i < sizeof safety_rules / sizeof safety_rules[0]; i++)
		if (strcmp(safety_rules[i].module, module) == 0)
			return (int) i;
	return -1;
}

static bool
listed_difference(const char *module, const char *test)
{
	for (size_t i = 0; differences[i].module; i++)
		if (strcmp(differences[i].module, module) == 0 && strcmp(differences[i].test, test) == 0)
			return true;
	return false;
}

/* Whether r says what squawk's module says: a finding that answers to it. */
static bool
flags_module(const LintReport *r, const char *module)
{
	size_t		len = strlen(module);

	for (size_t i = 0; i < r->n; i++)
	{
		const char *p = r->items[i].squawk;

		while (p && (p = strstr(p, module)) != NULL)
		{
			if ((p == r->items[i].squawk || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
				return true;
			p += len;
		}
	}
	return false;
}

START_TEST(test_squawk_agreement)
{
	FILE	   *f = fopen("fixtures/squawk/cases.jsonl", "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			agree[64] = {0},
				total[64] = {0};
	size_t		n_safety = sizeof safety_rules / sizeof safety_rules[0];
	int			all_agree = 0,
				all_total = 0,
				unlisted = 0,
				listed_seen = 0,
				listed = 0;

	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) > 0)
	{
		char	   *module = json_field(line, "rule_module");
		char	   *test = json_field(line, "test");
		char	   *expect = json_field(line, "expect");
		char	   *sql = json_field(line, "sql");
		char	   *in_txn = json_field(line, "assume_in_transaction");
		char	   *pg_version = json_field(line, "pg_version");
		int			k = module ? safety_index(module) : -1;

		if (k >= 0)
		{
			LintReport	r = {0};
			Error		err = {0};
			bool		ours,
						theirs = strcmp(expect, "error") == 0;

			LintOptions o = {STRATEGY_PLAIN, NULL, 0};

			/* "11", "12.3": the major version squawk assumes */
			if (pg_version && strcmp(pg_version, "null") != 0)
				o.server_version = atoi(pg_version) * 10000;
			if (!lint_sql(sql, strcmp(in_txn, "true") == 0, &o, &r, &err))
			{
				/* squawk's own parser accepts some SQL PostgreSQL does not */
				ours = false;
				error_clear(&err);
			}
			else
				ours = flags_module(&r, module);
			total[k]++;
			if (ours == theirs)
				agree[k]++;
			if (listed_difference(module, test))
			{
				listed_seen++;
				ck_assert_msg(ours != theirs, "%s/%s is listed as a difference but agrees",
							  module, test);
			}
			else if (ours != theirs)
			{
				fprintf(stderr, "squawk: %s/%s: squawk %s, migrate %s\n", module, test,
						expect, ours ? "error" : "ok");
				unlisted++;
			}
			lint_report_free(&r);
		}
		free(module);
		free(test);
		free(expect);
		free(sql);
		free(in_txn);
		free(pg_version);
	}
	free(line);
	fclose(f);
	for (size_t k = 0; k < n_safety; k++)
	{
		int			pct = total[k] ? agree[k] * 100 / total[k] : 100;

		fprintf(stderr, "squawk agreement: %-45s %d/%d (%d%%)\n", safety_rules[k].module,
				agree[k], total[k], pct);
		ck_assert_msg(pct >= safety_rules[k].floor, "%s: agreement %d%% < %d%%",
					  safety_rules[k].module, pct, safety_rules[k].floor);
		all_agree += agree[k];
		all_total += total[k];
	}
	fprintf(stderr, "squawk agreement: all safety rules %d/%d\n", all_agree, all_total);
	for (size_t i = 0; differences[i].module; i++)
		listed++;
	ck_assert_int_eq(unlisted, 0);
	ck_assert_int_eq(listed_seen, listed);
}
END_TEST

START_TEST(test_sql_split)
{
	/* each statement's own text, where it begins and its line; comments before it are not its */
	static const char text[] =
		"-- leading comment\n"
		"CREATE TABLE a (x int);\n"
		"\n"
		"/* block\n comment */ ALTER TABLE a\n"
		"  ADD COLUMN y int ;  \n"
		"SELECT 1";
	Error		err = {0};
	SqlStatements stmts;

	ck_assert(sql_split(text, "f.sql", 10, NULL, &stmts, &err));
	ck_assert_uint_eq(stmts.n, 3);
	ck_assert_str_eq(stmts.items[0].text, "CREATE TABLE a (x int)");
	ck_assert_int_eq(stmts.items[0].line, 11);
	ck_assert_int_eq(stmts.items[0].offset, (int) strlen("-- leading comment\n"));
	ck_assert_str_eq(stmts.items[1].text, "ALTER TABLE a\n  ADD COLUMN y int");
	ck_assert_int_eq(stmts.items[1].line, 14);
	ck_assert_str_eq(stmts.items[2].text, "SELECT 1");
	ck_assert_int_eq(stmts.items[2].line, 16);
	ck_assert_ptr_nonnull(stmts.items[2].node);
	sql_statements_free(&stmts);

	/* a syntax error: where it is in the file, and nothing to keep */
	ck_assert(!sql_split("SELECT 1;\nSELEC 2", "f.sql", 5, "sql.up", &stmts, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "f.sql:6:1: sql.up: "));
	ck_assert_uint_eq(stmts.n, 0);
	sql_statements_free(&stmts);
	error_clear(&err);

	/* an empty text: no statement */
	ck_assert(sql_split("  -- nothing\n", "f.sql", 1, NULL, &stmts, &err));
	ck_assert_uint_eq(stmts.n, 0);
	sql_statements_free(&stmts);
}
END_TEST

static void
expect_columns(const char *expr, bool ok, const char *want)
{
	StrList		cols = {0};
	Buf			got;

	buf_init(&got);
	ck_assert_msg(sql_expression_columns(expr, &cols) == ok, "%s", expr);
	for (size_t i = 0; ok && i < cols.n; i++)
		buf_printf(&got, "%s%s", i ? "," : "", cols.items[i]);
	if (ok)
		ck_assert_str_eq(got.data ? got.data : "", want);
	buf_free(&got);
	strlist_free(&cols);
}

START_TEST(test_sql_expression_columns)
{
	expect_columns("lower(email)", true, "email");
	expect_columns("a + b * a", true, "a,b");
	expect_columns("t.first || ' ' || \"Last Name\"", true, "first,Last Name");
	expect_columns("coalesce(x, y, 0) > 0 AND x IS NOT NULL", true, "x,y");
	/* cannot be told: a subquery, a star, no column, a syntax error */
	expect_columns("(SELECT max(a) FROM u)", false, NULL);
	expect_columns("a + (SELECT 1)", false, NULL);
	expect_columns("row_to_json(t.*)", false, NULL);
	expect_columns("now()", false, NULL);
	expect_columns("a +", false, NULL);
}
END_TEST

static bool
parses_as(bool (*is) (const struct PgQuery__ParseResult *), const char *sql)
{
	Error		err = {0};
	struct PgQuery__ParseResult *tree = sql_parse(sql, 0, "f", 1, 1, NULL, &err);
	bool		r;

	ck_assert_ptr_nonnull(tree);
	r = is(tree);
	sql_parse_free(tree);
	return r;
}

START_TEST(test_sql_kinds)
{
	ck_assert(parses_as(sql_is_one_select, "SELECT a FROM t"));
	ck_assert(parses_as(sql_is_one_select, "VALUES (1)"));
	ck_assert(!parses_as(sql_is_one_select, "SELECT 1; SELECT 2"));
	ck_assert(!parses_as(sql_is_one_select, "DELETE FROM t"));
	ck_assert(parses_as(sql_is_one_expression, "SELECT (a + 1\n)"));
	ck_assert(!parses_as(sql_is_one_expression, "SELECT (a), b"));
	ck_assert(!parses_as(sql_is_one_expression, "SELECT (a) FROM t"));
	ck_assert(!parses_as(sql_is_one_expression, "SELECT (1) UNION SELECT 2"));
	ck_assert(parses_as(sql_is_one_grant, "GRANT EXECUTE ON FUNCTION f(int) TO r"));
	ck_assert(!parses_as(sql_is_one_grant, "GRANT EXECUTE ON FUNCTION f(int), g() TO r"));
	ck_assert(!parses_as(sql_is_one_grant, "GRANT EXECUTE ON FUNCTION f(int) TO r, s"));
	ck_assert(!parses_as(sql_is_one_grant, "SELECT 1"));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("lint");
	TCase	   *tc = tcase_create("rules");

	tcase_add_test(tc, test_create_index);
	tcase_add_test(tc, test_drop_index);
	tcase_add_test(tc, test_concurrently_in_transaction);
	tcase_add_test(tc, test_foreign_key);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_unique_and_primary_key);
	tcase_add_test(tc, test_exclusion_constraint);
	tcase_add_test(tc, test_set_not_null);
	tcase_add_test(tc, test_add_column);
	tcase_add_test(tc, test_type_change);
	tcase_add_test(tc, test_maintenance);
	tcase_add_test(tc, test_statement_effect);
	tcase_add_test(tc, test_renames_and_drops);
	tcase_add_test(tc, test_rename_operation_warns);
	tcase_add_test(tc, test_unbounded_dml);
	tcase_add_test(tc, test_parse_error);
	tcase_add_test(tc, test_online_steps_are_safe);
	tcase_add_test(tc, test_sql_operation_and_unsafe_ok);
	tcase_add_test(tc, test_statement_lines);
	tcase_add_test(tc, test_render_json);
	tcase_add_test(tc, test_convert);
	tcase_add_test(tc, test_squawk_agreement);
	tcase_add_test(tc, test_sql_split);
	tcase_add_test(tc, test_sql_expression_columns);
	tcase_add_test(tc, test_sql_kinds);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
