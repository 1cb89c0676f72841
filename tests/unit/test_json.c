/* Unit tests: the JSON writer (commas, nesting, escaping, each kind of value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "json.h"

static Suite *make_suite(void);

START_TEST(test_empty_containers)
{
	Buf			b;
	JsonWriter	w;

	buf_init(&b);
	json_init(&w, &b);
	json_begin_array(&w);
	json_begin_object(&w);
	json_end_object(&w);
	json_begin_array(&w);
	json_end_array(&w);
	json_end_array(&w);
	ck_assert_str_eq(b.data, "[{},[]]");
	buf_free(&b);
}
END_TEST

START_TEST(test_each_value)
{
	Buf			b;
	JsonWriter	w;

	buf_init(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "s");
	json_string(&w, "a\"b\\c\nd\te\x01");
	json_key(&w, "none");
	json_string(&w, NULL);
	json_key(&w, "i");
	json_int(&w, -9007199254740993LL);
	json_key(&w, "t");
	json_bool(&w, true);
	json_key(&w, "f");
	json_bool(&w, false);
	json_key(&w, "n");
	json_null(&w);
	json_key(&w, "raw");
	json_raw(&w, "[1,2]");
	json_key(&w, "list");
	json_begin_array(&w);
	json_int(&w, 1);
	json_string(&w, "x");
	json_begin_object(&w);
	json_key(&w, "k\"");
	json_int(&w, 0);
	json_end_object(&w);
	json_end_array(&w);
	json_end_object(&w);
	ck_assert_str_eq(b.data,
					 "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\",\"none\":null,"
					 "\"i\":-9007199254740993,\"t\":true,\"f\":false,\"n\":null,"
					 "\"raw\":[1,2],\"list\":[1,\"x\",{\"k\\\"\":0}]}");
	buf_free(&b);
}
END_TEST

START_TEST(test_appends_and_sequences)
{
	Buf			b;
	JsonWriter	w;

	/* appends to what the buffer holds; two top-level documents, one writer each */
	buf_init(&b);
	buf_puts(&b, "x=");
	json_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "a");
	json_int(&w, 1);
	json_key(&w, "b");
	json_begin_object(&w);
	json_end_object(&w);
	json_key(&w, "c");
	json_int(&w, 2);
	json_end_object(&w);
	ck_assert_str_eq(b.data, "x={\"a\":1,\"b\":{},\"c\":2}");
	buf_free(&b);
}
END_TEST

START_TEST(test_pretty)
{
	Buf			b;
	JsonWriter	w;

	buf_init(&b);
	json_init_pretty(&w, &b);
	json_begin_object(&w);
	json_key(&w, "a");
	json_int(&w, 1);
	json_key(&w, "empty");
	json_begin_array(&w);
	json_end_array(&w);
	json_key(&w, "list");
	json_begin_array(&w);
	json_begin_object(&w);
	json_key(&w, "k");
	json_null(&w);
	json_end_object(&w);
	json_string(&w, "x");
	json_end_array(&w);
	json_end_object(&w);
	ck_assert_str_eq(b.data,
					 "{\n  \"a\": 1,\n  \"empty\": [],\n  \"list\": [\n    {\n      \"k\": null\n    },"
					 "\n    \"x\"\n  ]\n}");
	buf_free(&b);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("json");
	TCase	   *tc = tcase_create("core");

	tcase_add_test(tc, test_empty_containers);
	tcase_add_test(tc, test_each_value);
	tcase_add_test(tc, test_appends_and_sequences);
	tcase_add_test(tc, test_pretty);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
