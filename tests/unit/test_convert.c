/*
 * test_convert.c: migrate convert, statement by statement: each file of
 * fixtures/convert/NAME.sql converts to fixtures/convert/NAME.yaml (golden;
 * UPDATE_GOLDEN=1 rewrites them, then read the diff), which loads; the
 * operations it holds are the ones expected, in order, and kept.sql keeps
 * every statement as SQL, with the lock lint finds.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "convert.h"
#include "golden.h"
#include "spec.h"

/* Converts fixtures/convert/name.sql, checks it against its golden file, loads it. */
static void
converts(const char *name, const char *const *kinds)
{
	char	   *in = xasprintf("fixtures/convert/%s.sql", name);
	char	   *golden = xasprintf("fixtures/convert/%s.yaml", name);
	char	   *sql = read_text(in);
	Buf			yaml;
	Error		err = {0};
	Migration	m;
	size_t		n = 0;

	ck_assert_msg(sql != NULL, "cannot read %s", in);
	buf_init(&yaml);
	if (!convert_sql(in, sql, &yaml, &err))
		ck_abort_msg("convert %s: %s", in, err.message);
	check_golden(golden, yaml.data);
	if (!spec_load_buffer("0001_c.yaml", yaml.data, yaml.len, &m, &err))
		ck_abort_msg("converted %s does not load: %s\n%s", in, err.message, yaml.data);
	while (kinds[n])
		n++;
	ck_assert_msg(m.n_ops == n, "%s: %zu operations, want %zu:\n%s", in, m.n_ops, n, yaml.data);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(op_kind_name(m.ops[i].kind), kinds[i]) == 0,
					  "%s: operation %zu is %s, want %s", in, i + 1,
					  op_kind_name(m.ops[i].kind), kinds[i]);
	migration_free(&m);
	buf_free(&yaml);
	free(sql);
	free(golden);
	free(in);
}

START_TEST(test_types)
{
	static const char *const k[] = {"create_type", "create_type", "add_enum_value",
	"add_enum_value", "drop_type", "drop_type", "drop_type", NULL};

	converts("types", k);
}
END_TEST

START_TEST(test_tables)
{
	static const char *const k[] = {"create_table", "create_table", "add_constraint",
	"add_constraint", "add_column", "add_constraint", NULL};

	converts("tables", k);
}
END_TEST

START_TEST(test_indexes)
{
	static const char *const k[] = {"create_index", "create_index", "create_index",
	"create_index", "create_index", "create_index", "create_index", "create_index", NULL};

	converts("indexes", k);
}
END_TEST

START_TEST(test_views)
{
	static const char *const k[] = {"create_view", "replace_view", "create_view", "create_view",
		"drop_view", "drop_view", "create_materialized_view", "refresh_materialized_view",
		"create_materialized_view", "refresh_materialized_view", "refresh_materialized_view",
	"refresh_materialized_view", "drop_materialized_view", NULL};

	converts("views", k);
}
END_TEST

START_TEST(test_objects)
{
	static const char *const k[] = {"comment", "comment", "comment", "comment", "comment",
		"comment", "comment", "comment", "create_role", "create_role", "create_role",
		"grant", "grant", "grant", "grant", "grant", "revoke", "set_replica_identity",
	"set_replica_identity", "set_replica_identity", "set_replica_identity", NULL};

	converts("objects", k);
}
END_TEST

START_TEST(test_rls)
{
	static const char *const k[] = {"enable_rls", "enable_rls", "disable_rls", "create_policy",
	"create_policy", "create_policy", "create_policy", "drop_policy", "enable_rls", "enable_rls",
	"sql", NULL};

	converts("rls", k);
}
END_TEST

START_TEST(test_partitions)
{
	static const char *const k[] = {"create_table", "create_table", "create_table",
		"create_table", "create_table", "create_table", "create_table", "attach_partition",
		"attach_partition", "attach_partition", "attach_partition", "detach_partition",
	"detach_partition", NULL};

	converts("partitions", k);
}
END_TEST

START_TEST(test_kept)
{
	static const char *const k[] = {
		"sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql",
		"sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql", "sql",
	"sql", "sql", "sql", "sql", NULL};

	converts("kept", k);
}
END_TEST

START_TEST(test_hostile)
{
	static const char *const k[] = {"sql", "create_type", "create_table", "create_index",
		"comment", "comment", "create_view", "grant", "grant", "set_replica_identity",
	"enable_rls", "create_policy", NULL};

	converts("hostile", k);
}
END_TEST

/* A statement in a fold that does not load falls back to SQL, each one. */
START_TEST(test_fallback)
{
	Buf			yaml;
	Error		err = {0};

	buf_init(&yaml);
	/* an index on the view that create_index cannot say: the view is made, the index kept */
	ck_assert(convert_sql("in.sql", "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;\n"
						  "CREATE INDEX IF NOT EXISTS mv_a ON mv (a);\n", &yaml, &err));
	ck_assert_ptr_nonnull(strstr(yaml.data, "  - create_materialized_view:\n"));
	ck_assert_ptr_nonnull(strstr(yaml.data, "  - sql:\n      up: |\n        CREATE INDEX IF NOT EXISTS"));
	buf_free(&yaml);
	/* a partition key the partition does not match: its own statement */
	buf_init(&yaml);
	ck_assert(convert_sql("in.sql", "CREATE TABLE p (a int) PARTITION BY LIST (a);\n"
						  "CREATE TABLE q_1 PARTITION OF q FOR VALUES IN (1);\n", &yaml, &err));
	ck_assert_ptr_nonnull(strstr(yaml.data, "partition_by: {list: [\"a\"]}\n  # line 2:"));
	ck_assert_ptr_nonnull(strstr(yaml.data, "CREATE TABLE q_1 PARTITION OF q"));
	buf_free(&yaml);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("convert");
	TCase	   *tc = tcase_create("convert");

	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_indexes);
	tcase_add_test(tc, test_views);
	tcase_add_test(tc, test_objects);
	tcase_add_test(tc, test_rls);
	tcase_add_test(tc, test_partitions);
	tcase_add_test(tc, test_kept);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_fallback);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
