/*
 * Unit tests: passwords never shown.  db_redact_conninfo on URIs and
 * key=value strings, and db_connect's error messages on connections that
 * fail before reaching any server (no PostgreSQL needed).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "db.h"

static Suite *make_suite(void);

static void
expect_redacted(const char *in, const char *want)
{
	char	   *got = db_redact_conninfo(in);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_redact_uri)
{
	expect_redacted("postgresql://user:secret@host/db",
					"postgresql://user:********@host/db");
	expect_redacted("postgres://user:secret@host:5432/db?sslmode=require",
					"postgres://user:********@host:5432/db?sslmode=require");
	expect_redacted("postgresql://user:secret@host/db?password=x",
					"postgresql://user:********@host/db?password=********");
	expect_redacted("postgresql://host/db?sslmode=disable&password=x&user=u",
					"postgresql://host/db?sslmode=disable&password=********&user=u");
	/* A raw '@' or '/' in the password: all of it is still hidden. */
	expect_redacted("postgresql://user:se@c/ret@host/db",
					"postgresql://user:********@host/db");
	expect_redacted("postgresql://user:s3cret%zz@host/db",
					"postgresql://user:********@host/db");
}
END_TEST

START_TEST(test_redact_uri_without_password)
{
	expect_redacted("postgresql://user@host/db", "postgresql://user@host/db");
	expect_redacted("postgresql://host:5432/db", "postgresql://host:5432/db");
	expect_redacted("postgresql:///db?host=/tmp", "postgresql:///db?host=/tmp");
	expect_redacted("postgresql://user:@host/db", "postgresql://user:@host/db");
}
END_TEST

START_TEST(test_redact_keywords)
{
	expect_redacted("host=h password=secret dbname=d",
					"host=h password=******** dbname=d");
	expect_redacted("password='a b' host=h", "password=******** host=h");
	expect_redacted("password = 'it\\'s' user=u", "password = ******** user=u");
	expect_redacted("password=sec\\ ret user=u", "password=******** user=u");
	expect_redacted("dbname=passwords user=password", "dbname=passwords user=password");
	expect_redacted("host=h garbage password=x", "host=h garbage password=********");
	expect_redacted("host=h", "host=h");
	expect_redacted("", "");
	ck_assert_ptr_null(db_redact_conninfo(NULL));
}
END_TEST

/* A refused or malformed connection's message, checked for the secret. */
static void
expect_connect_fails_quietly(const char *conninfo, const char *secret, int exit_code)
{
	Error		err = {0};
	PGconn	   *conn = db_connect(conninfo, &err);

	ck_assert_ptr_null(conn);
	ck_assert_int_eq(err.exit_code, exit_code);
	ck_assert_ptr_nonnull(err.message);
	ck_assert_msg(strncmp(err.message, "cannot connect to the database", 30) == 0,
				  "message: %s", err.message);
	ck_assert_msg(strchr(err.message, '\n') == NULL, "not one line: %s", err.message);
	if (exit_code == EXIT_UNREACHABLE)
		ck_assert_msg(strstr(err.message, "host=127.0.0.1 port=1 ") != NULL,
					  "where it tried is not said: %s", err.message);
	ck_assert_msg(strstr(err.message, secret) == NULL, "password shown: %s", err.message);
	error_clear(&err);
}

START_TEST(test_connect_error_hides_password)
{
	/* Port 1 on the loopback: refused at once. */
	expect_connect_fails_quietly("postgresql://u:s3cretpw@127.0.0.1:1/nodb", "s3cretpw",
								 EXIT_UNREACHABLE);
	expect_connect_fails_quietly("host=127.0.0.1 port=1 password='s3cret pw' dbname=x",
								 "s3cret pw", EXIT_UNREACHABLE);
	/* libpq quotes a bad percent-escape, the password with it: malformed, exit 2 */
	expect_connect_fails_quietly("postgresql://u:s3cret%zz@127.0.0.1:1/nodb", "s3cret",
								 EXIT_USAGE);
	expect_connect_fails_quietly("host=127.0.0.1 port=1 password=s3cretpw 'unterminated",
								 "s3cretpw", EXIT_USAGE);
	expect_connect_fails_quietly("postgresql://u:s3cretpw@127.0.0.1:1/nodb?sslmode=bogus",
								 "s3cretpw", EXIT_UNREACHABLE);
}
END_TEST

START_TEST(test_connect_error_names_cause)
{
	Error		err = {0};

	ck_assert_ptr_null(db_connect("postgresql://u:pw@127.0.0.1:1/nodb?sslmode=bogus", &err));
	ck_assert_ptr_nonnull(strstr(err.message, "sslmode"));
	error_clear(&err);
}
END_TEST

START_TEST(test_database_url_fallback)
{
	Error		err = {0};

	setenv("DATABASE_URL", "postgresql://u:envsecret@127.0.0.1:1/nodb?sslmode=bogus", 1);
	ck_assert_ptr_null(db_connect(NULL, &err));
	/* The URL was the one used: its bad option is what failed. */
	ck_assert_ptr_nonnull(strstr(err.message, "bogus"));
	ck_assert_ptr_null(strstr(err.message, "envsecret"));
	unsetenv("DATABASE_URL");
	error_clear(&err);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("db");
	TCase	   *tc = tcase_create("core");

	tcase_add_test(tc, test_redact_uri);
	tcase_add_test(tc, test_redact_uri_without_password);
	tcase_add_test(tc, test_redact_keywords);
	tcase_add_test(tc, test_connect_error_hides_password);
	tcase_add_test(tc, test_connect_error_names_cause);
	tcase_add_test(tc, test_database_url_fallback);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
