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

START_TEST(test_utf8)
{
	Buf			b;

	/* well-formed UTF-8 kept as it is; each byte of malformed UTF-8 becomes U+FFFD */
	buf_init(&b);
	buf_json_string(&b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ck_assert_str_eq(b.data, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	buf_reset(&b);
	/* a lone continuation byte, a truncated sequence, an overlong '/', a surrogate, above U+10FFFF */
	buf_json_string(&b, "a\x80" "b\xc3" "c\xc0\xaf" "d\xed\xa0\x80" "e\xf4\x90\x80\x80" "f\xff");
	ck_assert_str_eq(b.data, "\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffd"
					 "e\\ufffd\\ufffd\\ufffd\\ufffdf\\ufffd\"");
	buf_reset(&b);
	/* a sequence cut by the end of the string */
	buf_json_string(&b, "x\xe2\x82");
	ck_assert_str_eq(b.data, "\"x\\ufffd\\ufffd\"");
	buf_reset(&b);
	buf_json_string(&b, "\x1f\x7f");
	ck_assert_str_eq(b.data, "\"\\u001f\\u007f\"");
	buf_free(&b);
}
END_TEST

START_TEST(test_raw_pretty_indents)
{
	Buf			b;
	JsonWriter	w;

	/* a pretty document placed inside another reads as if written in place */
	buf_init(&b);
	json_init_pretty(&w, &b);
	json_begin_object(&w);
	json_key(&w, "list");
	json_begin_array(&w);
	json_raw(&w, "{\n  \"k\": \"a\\nb\"\n}\n");
	json_raw(&w, "null");
	json_end_array(&w);
	json_end_object(&w);
	ck_assert_str_eq(b.data, "{\n  \"list\": [\n    {\n      \"k\": \"a\\nb\"\n    },\n    null\n  ]\n}");
	buf_free(&b);
}
END_TEST

START_TEST(test_raw_members)
{
	Buf			b;
	JsonWriter	w;

	buf_init(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "target");
	json_string(&w, "t");
	json_raw_members(&w, "{\"event\":\"x\",\"n\":[1,{}]}");
	json_raw_members(&w, "{}");
	json_key(&w, "last");
	json_bool(&w, true);
	json_end_object(&w);
	ck_assert_str_eq(b.data, "{\"target\":\"t\",\"event\":\"x\",\"n\":[1,{}],\"last\":true}");
	buf_reset(&b);
	/* into an empty object: no comma before the first member */
	json_init(&w, &b);
	json_begin_object(&w);
	json_raw_members(&w, "{\"a\":1}");
	json_end_object(&w);
	ck_assert_str_eq(b.data, "{\"a\":1}");
	buf_free(&b);
}
END_TEST

START_TEST(test_lines)
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *out = open_memstream(&text, &len);
	JsonLine	l;

	ck_assert_ptr_nonnull(out);
	json_line_begin(&l, "forgotten");
	json_key(&l.w, "version");
	json_int(&l.w, 3);
	json_key(&l.w, "why");
	json_string(&l.w, "a\"\n\x80");
	json_line_end(&l, out);
	json_line_begin(&l, NULL);
	json_key(&l.w, "valid");
	json_bool(&l.w, true);
	json_line_end(&l, out);
	json_event_line(out, "up_to_date");
	fclose(out);
	ck_assert_str_eq(text, "{\"event\":\"forgotten\",\"version\":3,\"why\":\"a\\\"\\n\\ufffd\"}\n"
					 "{\"valid\":true}\n{\"event\":\"up_to_date\"}\n");
	free(text);
}
END_TEST

START_TEST(test_members)
{
	Buf			b;
	JsonWriter	w;

	buf_init(&b);
	json_init(&w, &b);
	json_begin_object(&w);
	json_member_string(&w, "s", "a\"b");
	json_member_string(&w, "none", NULL);
	json_member_int(&w, "i", -3);
	json_member_bool(&w, "t", true);
	json_member_int_or_null(&w, "known", 0, true);
	json_member_int_or_null(&w, "unknown", 7, false);
	/* key NULL: elements of an array */
	json_key(&w, "list");
	json_begin_array(&w);
	json_member_string(&w, NULL, "x");
	json_member_int(&w, NULL, 1);
	json_member_bool(&w, NULL, false);
	json_member_int_or_null(&w, NULL, 2, false);
	json_end_array(&w);
	json_end_object(&w);
	ck_assert_str_eq(b.data, "{\"s\":\"a\\\"b\",\"none\":null,\"i\":-3,\"t\":true,\"known\":0,"
					 "\"unknown\":null,\"list\":[\"x\",1,false,null]}");
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
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_raw_pretty_indents);
	tcase_add_test(tc, test_raw_members);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_members);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
