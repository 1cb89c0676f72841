/* Unit tests: the backfill cursor's text form survives any key value. */
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

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("backfill");
	TCase	   *tc = tcase_create("cursor");

	tcase_add_test(tc, test_cursor_roundtrip);
	tcase_add_test(tc, test_cursor_encoding);
	tcase_add_test(tc, test_cursor_rejects_garbage);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
