/*
 * Unit tests: the short transaction's pure parts (no PostgreSQL needed):
 * the lock_timeout cap below deadlock_timeout, the capped exponential
 * backoff with full jitter, and how a blocking session is classified.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "txn.h"

static Suite *make_suite(void);

START_TEST(test_lock_timeout_cap)
{
	/* capped at 4/5 of deadlock_timeout, so migrate gives way first */
	ck_assert_int_eq(txn_capped_lock_timeout(2000, 1000), 800);
	ck_assert_int_eq(txn_capped_lock_timeout(500, 1000), 500);
	ck_assert_int_eq(txn_capped_lock_timeout(800, 1000), 800);
	/* unknown deadlock_timeout: the setting as it is */
	ck_assert_int_eq(txn_capped_lock_timeout(2000, 0), 2000);
	ck_assert_int_eq(txn_capped_lock_timeout(2000, -1), 2000);
	/* a 1 ms deadlock_timeout still leaves a lock_timeout (0 would mean none) */
	ck_assert_int_eq(txn_capped_lock_timeout(2000, 1), 1);
}
END_TEST

START_TEST(test_backoff_ceiling)
{
	ck_assert_int_eq(txn_backoff_ceiling_ms(1), 250);
	ck_assert_int_eq(txn_backoff_ceiling_ms(2), 500);
	ck_assert_int_eq(txn_backoff_ceiling_ms(3), 1000);
	ck_assert_int_eq(txn_backoff_ceiling_ms(8), 30000);
	ck_assert_int_eq(txn_backoff_ceiling_ms(1000), 30000);
}
END_TEST

START_TEST(test_backoff_jitter)
{
	int64_t		lo = INT64_MAX,
				hi = 0;

	srandom(7);
	for (int i = 0; i < 2000; i++)
	{
		int64_t		w = txn_backoff_ms(3);

		ck_assert_int_ge(w, 50);
		ck_assert_int_lt(w, 50 + 1000);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	/* full jitter: the whole range is used, not a fixed delay */
	ck_assert_int_lt(lo, 150);
	ck_assert_int_gt(hi, 950);
	for (int i = 0; i < 200; i++)
		ck_assert_int_lt(txn_backoff_ms(50), 50 + 30000);
}
END_TEST

START_TEST(test_blocker_kind)
{
	ck_assert_int_eq(txn_blocker_kind("client backend", "SELECT 1"), BLOCKER_SESSION);
	ck_assert_int_eq(txn_blocker_kind("autovacuum worker",
									  "autovacuum: VACUUM ANALYZE public.orders"),
					 BLOCKER_AUTOVACUUM);
	ck_assert_int_eq(txn_blocker_kind("autovacuum worker",
									  "autovacuum: VACUUM public.orders (to prevent wraparound)"),
					 BLOCKER_AUTOVACUUM_WRAPAROUND);
	/* no backend_type (before PostgreSQL 10): the query says it */
	ck_assert_int_eq(txn_blocker_kind("", "autovacuum: ANALYZE public.t"), BLOCKER_AUTOVACUUM);
	/* a client whose query merely mentions it is a client */
	ck_assert_int_eq(txn_blocker_kind("client backend",
									  "SELECT 'autovacuum: (to prevent wraparound)'"),
					 BLOCKER_SESSION);
	ck_assert_int_eq(txn_blocker_kind(NULL, NULL), BLOCKER_SESSION);
}
END_TEST

START_TEST(test_blockers_json)
{
	Blocker		items[2] = {
		{42, BLOCKER_SESSION, xstrdup("idle in transaction"), 8, xstrdup("SELECT \"x\"")},
		{43, BLOCKER_AUTOVACUUM, xstrdup("active"), 1, xstrdup("autovacuum: VACUUM t")},
	};
	Blockers	none = {0};
	Blockers	two = {items, 2};
	char	   *json = txn_blockers_json(&two);

	ck_assert_str_eq(json,
					 "[{\"pid\":42,\"kind\":\"session\",\"state\":\"idle in transaction\","
					 "\"xact_age_s\":8,\"query\":\"SELECT \\\"x\\\"\"},"
					 "{\"pid\":43,\"kind\":\"autovacuum\",\"state\":\"active\","
					 "\"xact_age_s\":1,\"query\":\"autovacuum: VACUUM t\"}]");
	free(json);
	json = txn_blockers_json(&none);
	ck_assert_str_eq(json, "[]");
	free(json);
	for (int i = 0; i < 2; i++)
	{
		free(items[i].state);
		free(items[i].query);
	}
}
END_TEST

START_TEST(test_sleep_not_interrupted)
{
	int64_t		t0 = now_ms();

	ck_assert(txn_sleep(120));
	ck_assert_int_ge(now_ms() - t0, 110);
	ck_assert_int_eq(txn_interrupted(), 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("txn");
	TCase	   *tc = tcase_create("core");

	tcase_add_test(tc, test_lock_timeout_cap);
	tcase_add_test(tc, test_backoff_ceiling);
	tcase_add_test(tc, test_backoff_jitter);
	tcase_add_test(tc, test_blocker_kind);
	tcase_add_test(tc, test_blockers_json);
	tcase_add_test(tc, test_sleep_not_interrupted);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
