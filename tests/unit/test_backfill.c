/*
 * Unit tests: the backfill cursor's text form survives any key value; the
 * batch size adapts toward batch_time within its bounds; a span walk's
 * upper key never passes the last key and never overflows.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "backfill.h"

static Suite *make_suite(void);

static void
roundtrip(const char *const *values, size_t n)
{
	StrList		in = {0},
				out = {0};
	char	   *text;

	for (size_t i = 0; i < n; i++)
		strlist_add(&in, values[i]);
	text = backfill_cursor_encode(&in);
	ck_assert(backfill_cursor_decode(text, &out));
	ck_assert_uint_eq(out.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(out.items[i], values[i]);
	free(text);
	strlist_free(&in);
	strlist_free(&out);
}

START_TEST(test_cursor_roundtrip)
{
	const char *single[] = {"42"};
	const char *composite[] = {"7", "2026-11-26 10:00:00+00", "a:b"};
	const char *awkward[] = {"", "12:34", "3:abc", "x\ny", "\"quoted\"", "日本"};

	roundtrip(single, 1);
	roundtrip(composite, 3);
	roundtrip(awkward, 6);
}
END_TEST

START_TEST(test_cursor_encoding)
{
	StrList		in = {0};
	char	   *text;

	strlist_add(&in, "10");
	strlist_add(&in, "a:b");
	text = backfill_cursor_encode(&in);
	ck_assert_str_eq(text, "2:103:a:b");
	free(text);
	strlist_free(&in);
}
END_TEST

START_TEST(test_cursor_rejects_garbage)
{
	StrList		out = {0};

	ck_assert(!backfill_cursor_decode("x", &out));
	ck_assert_uint_eq(out.n, 0);
	ck_assert(!backfill_cursor_decode("5:abc", &out));
	ck_assert_uint_eq(out.n, 0);
	ck_assert(!backfill_cursor_decode("2:10junk", &out));
	ck_assert_uint_eq(out.n, 0);
	ck_assert(backfill_cursor_decode("", &out));
	ck_assert_uint_eq(out.n, 0);
}
END_TEST

START_TEST(test_batch_size_toward_target)
{
	/* on target: unchanged */
	ck_assert_int_eq(backfill_next_batch_size(1000, 500, 500, 100, 100000), 1000);
	/* twice too slow: halved; ten times too slow: still only halved */
	ck_assert_int_eq(backfill_next_batch_size(1000, 1000, 500, 100, 100000), 500);
	ck_assert_int_eq(backfill_next_batch_size(1000, 5000, 500, 100, 100000), 500);
	/* a bit fast: scaled up in proportion */
	ck_assert_int_eq(backfill_next_batch_size(1000, 250, 500, 100, 100000), 2000);
	/* very fast (mostly fixed cost): at most fourfold */
	ck_assert_int_eq(backfill_next_batch_size(1000, 10, 500, 100, 100000), 4000);
	/* 0 ms (a clock's granularity) counts as 1 ms, not a division by zero */
	ck_assert_int_eq(backfill_next_batch_size(1000, 0, 500, 100, 100000), 4000);
	ck_assert_int_eq(backfill_next_batch_size(1000, -5, 500, 100, 100000), 4000);
}
END_TEST

START_TEST(test_batch_size_bounds)
{
	/* never below lo, never above hi */
	ck_assert_int_eq(backfill_next_batch_size(150, 10000, 500, 100, 100000), 100);
	ck_assert_int_eq(backfill_next_batch_size(100, 10000, 500, 100, 100000), 100);
	ck_assert_int_eq(backfill_next_batch_size(60000, 1, 500, 100, 100000), 100000);
	ck_assert_int_eq(backfill_next_batch_size(100000, 1, 500, 100, 100000), 100000);
	/* the ctid walk's pages: from 1 page up */
	ck_assert_int_eq(backfill_next_batch_size(1, 10000, 500, 1, 10000), 1);
	ck_assert_int_eq(backfill_next_batch_size(1, 1, 500, 1, 10000), 4);
}
END_TEST

START_TEST(test_batch_size_converges)
{
	/* rows cost 0.1 ms each and a batch 5 ms fixed: from 100 rows the size
	 * settles where a batch takes about the target, and stays there */
	int64_t		size = 100;

	for (int i = 0; i < 30; i++)
		size = backfill_next_batch_size(size, 5 + size / 10, 500, 100, 100000);
	ck_assert_int_ge(size, 4500);
	ck_assert_int_le(size, 5100);
}
END_TEST

static void
expect_span(const char *cursor, int64_t span, const char *bound, const char *want)
{
	char		out[32];

	ck_assert(backfill_span_upper(cursor, span, bound, out, sizeof out));
	ck_assert_str_eq(out, want);
}

START_TEST(test_span_upper)
{
	expect_span("0", 1000, "50000", "1000");
	expect_span("49500", 1000, "50000", "50000");	/* the last span stops at the last key */
	expect_span("49000", 1000, "50000", "50000");
	expect_span("-500", 200, "100", "-300");	/* negative keys */
	expect_span("-500", 1000, "100", "100");
	expect_span("50000", 1000, "50000", "50000");	/* at the end */
	expect_span("60000", 1000, "50000", "50000");	/* past it: the bound */
	/* no overflow near the ends of bigint */
	expect_span("9223372036854775000", 100000, "9223372036854775807", "9223372036854775807");
	expect_span("-9223372036854775808", 100000, "9223372036854775807", "-9223372036854675808");
	expect_span("-9223372036854775808", 100, "-9223372036854775800", "-9223372036854775800");
}
END_TEST

START_TEST(test_span_upper_not_integers)
{
	char		out[32];

	ck_assert(!backfill_span_upper("12a", 10, "100", out, sizeof out));
	ck_assert(!backfill_span_upper("1", 10, "1e3", out, sizeof out));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("backfill");
	TCase	   *tc = tcase_create("cursor");

	tcase_add_test(tc, test_cursor_roundtrip);
	tcase_add_test(tc, test_cursor_encoding);
	tcase_add_test(tc, test_cursor_rejects_garbage);
	suite_add_tcase(s, tc);
	tc = tcase_create("batches");
	tcase_add_test(tc, test_batch_size_toward_target);
	tcase_add_test(tc, test_batch_size_bounds);
	tcase_add_test(tc, test_batch_size_converges);
	tcase_add_test(tc, test_span_upper);
	tcase_add_test(tc, test_span_upper_not_integers);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
