/* Unit tests: identifier and literal quoting, and the checksum digest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "quote.h"
#include "sha256.h"

static Suite *make_suite(void);

static void
expect_ident(const char *in, const char *want)
{
	char	   *got = quoted_ident(in);

	ck_assert_str_eq(got, want);
	free(got);
}

static void
expect_qualified(const char *in, const char *want)
{
	char	   *got = quoted_qualified(in);

	ck_assert_str_eq(got, want);
	free(got);
}

static void
expect_literal(const char *in, const char *want)
{
	char	   *got = quoted_literal(in);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_ident_plain)
{
	expect_ident("orders", "\"orders\"");
	expect_ident("Orders", "\"Orders\"");
	expect_ident("", "\"\"");
}
END_TEST

START_TEST(test_ident_hostile)
{
	expect_ident("my \"odd\" table", "\"my \"\"odd\"\" table\"");
	expect_ident("orders; DROP TABLE customers; --",
				 "\"orders; DROP TABLE customers; --\"");
	expect_ident("\"", "\"\"\"\"");
	expect_ident("a\"; DROP TABLE x; --\"", "\"a\"\"; DROP TABLE x; --\"\"\"");
	expect_ident("with space", "\"with space\"");
	expect_ident("bäckerei_größe", "\"bäckerei_größe\"");
	expect_ident("日本", "\"日本\"");
	expect_ident("back\\slash", "\"back\\slash\"");
}
END_TEST

START_TEST(test_qualified)
{
	expect_qualified("public.orders", "\"public\".\"orders\"");
	expect_qualified("orders", "\"orders\"");
	expect_qualified("s.t.u", "\"s\".\"t.u\"");
	expect_qualified("my schema.my \"odd\" table", "\"my schema\".\"my \"\"odd\"\" table\"");
	expect_qualified(".x", "\".x\"");
	expect_qualified("x.", "\"x.\"");
	/* a part written quoted may hold a dot */
	expect_qualified("\"my.table\"", "\"my.table\"");
	expect_qualified("public.\"my.table\"", "\"public\".\"my.table\"");
	expect_qualified("\"my.schema\".\"t\"", "\"my.schema\".\"t\"");
	expect_qualified("\"a\"\"b.c\"", "\"a\"\"b.c\"");
	/* a quote that does not close a part is an ordinary character */
	expect_qualified("\"x", "\"\"\"x\"");
	expect_qualified("\"a\"b.c", "\"\"\"a\"\"b\".\"c\"");
}
END_TEST

/* join_qualified writes what split_qualified reads back. */
START_TEST(test_join_qualified)
{
	static const char *const parts[][2] = {
		{NULL, "orders"}, {"public", "orders"}, {NULL, "my.table"}, {"my.schema", "t.u"},
		{"s", "\"quoted\""}, {NULL, "a\"b"},
	};

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
	{
		char	   *joined = join_qualified(parts[i][0], parts[i][1]);
		char	   *schema,
				   *rel;

		split_qualified(joined, &schema, &rel);
		if (parts[i][0])
			ck_assert_str_eq(schema, parts[i][0]);
		else
			ck_assert_ptr_null(schema);
		ck_assert_str_eq(rel, parts[i][1]);
		free(schema);
		free(rel);
		free(joined);
	}
}
END_TEST

START_TEST(test_literal)
{
	expect_literal("Default Tenant", "'Default Tenant'");
	expect_literal("it's", "'it''s'");
	expect_literal("'; DROP TABLE t; --", "'''; DROP TABLE t; --'");
	expect_literal("a\\b", "E'a\\\\b'");
	expect_literal("", "''");
}
END_TEST

START_TEST(test_sql_format_conversions)
{
	StrList		cols = {0};
	char	   *got;

	got = sql_format("%s|%I|%Q|%L", "raw \"x\"", "a\"b", "s.t", "it's");
	ck_assert_str_eq(got, "raw \"x\"|\"a\"\"b\"|\"s\".\"t\"|'it''s'");
	free(got);
	got = sql_format("to_regclass(%R)", "public.o'rders");
	ck_assert_str_eq(got, "to_regclass('\"public\".\"o''rders\"')");
	free(got);
	got = sql_format("CHECK %E", "a > 0");
	ck_assert_str_eq(got, "CHECK (a > 0)");
	free(got);
	got = sql_format("(%C)", &cols);
	ck_assert_str_eq(got, "()");
	free(got);
	strlist_add(&cols, "id");
	strlist_add(&cols, "we\"ird");
	got = sql_format("(%C)", &cols);
	ck_assert_str_eq(got, "(\"id\", \"we\"\"ird\")");
	free(got);
	strlist_free(&cols);
	got = sql_format("LIMIT %D OFFSET %d 100%%", (int64_t) 9007199254740993LL, -3);
	ck_assert_str_eq(got, "LIMIT 9007199254740993 OFFSET -3 100%");
	free(got);
	got = sql_format("%L", "back\\slash");
	ck_assert_str_eq(got, "E'back\\\\slash'");
	free(got);
}
END_TEST

START_TEST(test_sql_append)
{
	Buf			b;
	char	   *got;

	buf_init(&b);
	buf_puts(&b, "SELECT ");
	sql_append(&b, "%I FROM %Q", "c", "t");
	sql_append(&b, " WHERE %I = $1", "id");
	got = buf_detach(&b);
	ck_assert_str_eq(got, "SELECT \"c\" FROM \"t\" WHERE \"id\" = $1");
	free(got);
}
END_TEST

START_TEST(test_sha256_vectors)
{
	char		hex[65];

	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha256_incremental)
{
	Sha256		c;
	uint8_t		d[32];
	char		hex[65],
				whole[65];
	char		data[1000];

	for (int i = 0; i < 1000; i++)
		data[i] = (char) (i * 7);
	sha256_hex(data, sizeof data, whole);
	sha256_init(&c);
	for (int i = 0; i < 1000; i += 37)
		sha256_update(&c, data + i, (size_t) (i + 37 > 1000 ? 1000 - i : 37));
	sha256_final(&c, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	ck_assert_str_eq(hex, whole);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("quote");
	TCase	   *tc = tcase_create("core");

	tcase_add_test(tc, test_ident_plain);
	tcase_add_test(tc, test_ident_hostile);
	tcase_add_test(tc, test_qualified);
	tcase_add_test(tc, test_join_qualified);
	tcase_add_test(tc, test_literal);
	tcase_add_test(tc, test_sql_format_conversions);
	tcase_add_test(tc, test_sql_append);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_incremental);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
