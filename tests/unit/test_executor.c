/*
 * Unit tests: how the executor groups a plan's steps into transactions
 * (executor_group_end), on plans the planner makes: consecutive steps that
 * may run in a transaction share one, a CONCURRENTLY build or a
 * non-transactional sql step runs alone, and every step is in exactly one
 * group, in order.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "executor.h"
#include "plan_helpers.h"

static Suite *make_suite(void);

/*
 * The groups of mp's steps as text: each group's step count, "T" when it
 * is a transaction of in_txn steps, "-" for a step run alone; e.g. "3T 1- 2T".
 */
static char *
groups_of(const MigrationPlan *mp)
{
	const Step **steps = xcalloc(mp->n_steps ? mp->n_steps : 1, sizeof *steps);
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);
	size_t		i = 0;

	ck_assert_ptr_nonnull(f);
	for (size_t k = 0; k < mp->n_steps; k++)
		steps[k] = &mp->steps[k];
	while (i < mp->n_steps)
	{
		size_t		j = executor_group_end(steps, mp->n_steps, i);

		ck_assert_uint_gt(j, i);
		ck_assert_uint_le(j, mp->n_steps);
		for (size_t k = i; k < j; k++)
			ck_assert(steps[k]->in_txn == steps[i]->in_txn);
		/* a group ends where the next step could not have joined it */
		if (j < mp->n_steps && steps[i]->in_txn)
			ck_assert(!steps[j]->in_txn);
		if (!steps[i]->in_txn)
			ck_assert_uint_eq(j, i + 1);
		fprintf(f, "%s%zu%s", i ? " " : "", j - i, steps[i]->in_txn ? "T" : "-");
		i = j;
	}
	fclose(f);
	free(steps);
	return text;
}

static void
expect_groups(const char *yaml, Strategy strategy, const char *want)
{
	Migration	m = {0};
	MigrationPlan mp = {0};
	char	   *got;

	load_plan_text("0001_groups.yaml", yaml, &m);
	plan_or_fail(&m, strategy, &mp);
	got = groups_of(&mp);
	ck_assert_msg(strcmp(got, want) == 0, "groups: got [%s], want [%s]", got, want);
	free(got);
	migration_plan_free(&mp);
	migration_free(&m);
}

START_TEST(test_plain_is_one_transaction)
{
	expect_groups("operations:\n"
				  "  - create_table: {name: a, columns: [{name: id, type: bigint, primary_key: true}]}\n"
				  "  - add_column: {table: a, column: {name: n, type: text}}\n"
				  "  - create_index: {name: a_n, table: a, columns: [n]}\n",
				  STRATEGY_PLAIN, "3T");
}
END_TEST

START_TEST(test_concurrent_build_alone)
{
	Migration	m = {0};
	MigrationPlan mp = {0};
	char	   *got;
	size_t		concurrent = 0;

	load_plan_text("0001_groups.yaml",
				   "operations:\n"
				   "  - add_column: {table: a, column: {name: n, type: text}}\n"
				   "  - create_index: {name: a_n, table: a, columns: [n]}\n"
				   "  - add_column: {table: a, column: {name: o, type: text}}\n", &m);
	plan_or_fail(&m, STRATEGY_ONLINE, &mp);
	for (size_t k = 0; k < mp.n_steps; k++)
		concurrent += !mp.steps[k].in_txn;
	ck_assert_uint_ge(concurrent, 1);
	got = groups_of(&mp);
	/* the steps around the build are in transactions, the build alone */
	ck_assert_msg(strstr(got, "1-") != NULL, "no step alone in [%s]", got);
	ck_assert_msg(got[strlen(got) - 1] == 'T', "the last add_column is not in a transaction: [%s]", got);
	free(got);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_sql_not_transactional)
{
	expect_groups("operations:\n"
				  "  - sql: {up: \"CREATE TABLE a (id int)\", down: \"DROP TABLE a\"}\n"
				  "  - sql: {up: \"VACUUM a\", down: \"SELECT 1\", transactional: false}\n"
				  "  - sql: {up: \"CREATE TABLE b (id int)\", down: \"DROP TABLE b\"}\n"
				  "  - sql: {up: \"CREATE TABLE c (id int)\", down: \"DROP TABLE c\"}\n",
				  STRATEGY_PLAIN, "1T 1- 2T");
	expect_groups("operations:\n"
				  "  - sql: {up: \"VACUUM a\", down: \"SELECT 1\", transactional: false}\n"
				  "  - sql: {up: \"VACUUM b\", down: \"SELECT 1\", transactional: false}\n",
				  STRATEGY_PLAIN, "1- 1-");
}
END_TEST

START_TEST(test_group_end_edges)
{
	Step		t = {0},
				c = {0};
	const Step *steps[] = {&t, &t, &c, &t};

	t.in_txn = true;
	c.in_txn = false;
	ck_assert_uint_eq(executor_group_end(steps, 4, 0), 2);
	ck_assert_uint_eq(executor_group_end(steps, 4, 1), 2);
	ck_assert_uint_eq(executor_group_end(steps, 4, 2), 3);
	ck_assert_uint_eq(executor_group_end(steps, 4, 3), 4);
	/* past the end: the end */
	ck_assert_uint_eq(executor_group_end(steps, 4, 4), 4);
	ck_assert_uint_eq(executor_group_end(steps, 0, 0), 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("executor");
	TCase	   *tc = tcase_create("groups");

	(void) load_plan_fixture;	/* plan_helpers.h: what this file does not use */
	(void) render_one;

	tcase_add_test(tc, test_plain_is_one_transaction);
	tcase_add_test(tc, test_concurrent_build_alone);
	tcase_add_test(tc, test_sql_not_transactional);
	tcase_add_test(tc, test_group_end_edges);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
