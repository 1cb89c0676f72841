/*
 * Unit tests: the journal (a SQLite file in a temporary directory; no
 * PostgreSQL needed), and the history status names.
 */
/* nftw, to remove the temporary directories. */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "state.h"

static Suite *make_suite(void);

/* A fresh temporary directory per test, removed afterwards. */
static char tmpdir[4096];

static void
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/migrate-test-state-XXXXXX",
			 base && base[0] ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static void
remove_tmpdir(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static Journal *
open_ok(const char *path)
{
	Error		err = {0};
	Journal    *j = journal_open(path, &err);

	ck_assert_msg(j != NULL, "journal_open: %s", err.message ? err.message : "?");
	return j;
}

/* Runs a query on the file directly and returns its first value as text. */
static char *
peek(const char *path, const char *sql)
{
	sqlite3    *db;
	sqlite3_stmt *stmt;
	char	   *value = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		value = xstrdup((const char *) sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

static void
expect_peek(const char *path, const char *sql, const char *want)
{
	char	   *got = peek(path, sql);

	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: got %s, want NULL", sql, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0, "%s: got %s, want %s",
					  sql, got ? got : "NULL", want);
	free(got);
}

static void
poke(const char *path, const char *sql)
{
	sqlite3    *db;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
									 NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A migration and steps made by hand, as the planner would. */
static Migration migration = {
	.version = 42, .version_text = "0042", .name = "add_tenant",
};

static Step
make_step(const char *id)
{
	Step		s = {0};

	s.id = (char *) id;
	s.summary = "add column";
	return s;
}

/* Begins and ends a step row in one go. */
static void
record(Journal *j, int64_t run, const char *id, bool rollback, const char *status)
{
	Step		s = make_step(id);
	int64_t		row = journal_step_begin(j, run, &migration, &s, rollback);

	ck_assert_int_gt(row, 0);
	journal_step_end(j, row, status, NULL, -1);
}

/* The completed steps of migration 42, joined with spaces. */
static char *
completed(Journal *j)
{
	StrList		ids = {0};
	Buf			b;

	ck_assert(journal_completed_steps(j, migration.version, &ids));
	buf_init(&b);
	for (size_t i = 0; i < ids.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", ids.items[i]);
	strlist_free(&ids);
	return buf_detach(&b);
}

static void
expect_completed(Journal *j, const char *want)
{
	char	   *got = completed(j);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_open_creates_nested_directory)
{
	char	   *path;
	Journal    *j;

	make_tmpdir();
	path = tmp_path("a/b/c/state.db");
	j = open_ok(path);
	journal_close(j);
	ck_assert_int_eq(access(path, F_OK), 0);
	expect_peek(path, "SELECT value FROM meta WHERE key = 'schema_version'", "2");
	expect_peek(path, "PRAGMA journal_mode", "wal");
	expect_peek(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
				"('runs', 'steps', 'attempts', 'cursors', 'meta')", "5");
	free(path);
	remove_tmpdir();
}
END_TEST

/*
 * One file, two databases: what ran on A is never read back as done on B,
 * nor B's cursor as A's (issue 12: a rollback on B ran the down of a step
 * only ever run on A).
 */
START_TEST(test_one_journal_per_database)
{
	char	   *path;
	Journal    *j;
	int64_t		run;
	int64_t		rows = 0;
	char	   *cursor;

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	journal_set_database(j, "h:5432/a#7001");
	run = journal_run_begin(j, "apply", "dbname=a");
	record(j, run, "42.1.1", false, "completed");
	record(j, run, "42.1.2", false, "completed");
	ck_assert(journal_save_cursor(j, 42, "42.1.3", "2:10", 10));
	journal_run_end(j, run, 0);
	expect_completed(j, "42.1.1 42.1.2");

	journal_set_database(j, "h:5432/b#7001");
	expect_completed(j, "");
	ck_assert_ptr_null(journal_load_cursor(j, 42, "42.1.3", &rows));
	run = journal_run_begin(j, "apply", "dbname=b");
	record(j, run, "42.1.1", false, "failed");
	journal_run_end(j, run, 1);
	expect_completed(j, "");

	journal_set_database(j, "h:5432/a#7001");
	expect_completed(j, "42.1.1 42.1.2");
	cursor = journal_load_cursor(j, 42, "42.1.3", &rows);
	ck_assert_str_eq(cursor, "2:10");
	ck_assert_int_eq(rows, 10);
	free(cursor);
	journal_close(j);
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_run_steps_attempts)
{
	char	   *path;
	Journal    *j;
	int64_t		run;
	int64_t		row;
	Step		s;

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	run = journal_run_begin(j, "apply", "postgresql://app:s3cret@db/shop");
	ck_assert_int_gt(run, 0);

	s = make_step("42.1.1");
	strlist_add(&s.sql, "ALTER TABLE \"orders\" ADD COLUMN \"tenant_id\" integer");
	strlist_add(&s.sql, "SELECT 1;");
	row = journal_step_begin(j, run, &migration, &s, false);
	ck_assert_int_gt(row, 0);
	journal_step_attempt(j, row, 1, 2000, "canceling statement due to lock timeout");
	journal_step_attempt(j, row, 2, 1500, "canceling statement due to lock timeout");
	journal_step_end(j, row, "completed", NULL, 1234);
	journal_run_end(j, run, 0);
	journal_close(j);
	strlist_free(&s.sql);

	expect_peek(path, "SELECT database FROM runs", "postgresql://app:********@db/shop");
	expect_peek(path, "SELECT command || ' ' || exit_code FROM runs WHERE finished_at IS NOT NULL",
				"apply 0");
	expect_peek(path, "SELECT migration || ' ' || step_id || ' ' || status || ' ' || attempts "
				"|| ' ' || lock_wait_ms || ' ' || rows || ' ' || rollback FROM steps",
				"0042_add_tenant 42.1.1 completed 2 3500 1234 0");
	expect_peek(path, "SELECT sql FROM steps",
				"ALTER TABLE \"orders\" ADD COLUMN \"tenant_id\" integer;\nSELECT 1;\n");
	expect_peek(path, "SELECT error FROM steps", NULL);
	expect_peek(path, "SELECT count(*) || ' ' || max(attempt) || ' ' || sum(lock_wait_ms) "
				"FROM attempts", "2 2 3500");
	expect_peek(path, "SELECT count(*) FROM steps WHERE started_at <= finished_at", "1");
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_step_failure_recorded)
{
	char	   *path;
	Journal    *j;
	int64_t		row;
	Step		s = make_step("42.2.1");

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	row = journal_step_begin(j, journal_run_begin(j, "apply", "shop"), &migration, &s, false);
	journal_step_end(j, row, "failed", "division by zero", -1);
	journal_close(j);
	expect_peek(path, "SELECT status || ': ' || error FROM steps", "failed: division by zero");
	expect_peek(path, "SELECT rows FROM steps", NULL);
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_cursor_save_load_overwrite)
{
	char	   *path;
	Journal    *j;
	char	   *cursor;
	int64_t		done = 99;

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	ck_assert_ptr_null(journal_load_cursor(j, 42, "42.1.2", &done));
	ck_assert_int_eq(done, 0);

	ck_assert(journal_save_cursor(j, 42, "42.1.2", "3:100", 100));
	cursor = journal_load_cursor(j, 42, "42.1.2", &done);
	ck_assert_str_eq(cursor, "3:100");
	ck_assert_int_eq(done, 100);
	free(cursor);

	ck_assert(journal_save_cursor(j, 42, "42.1.2", "3:200", 200));
	ck_assert(journal_save_cursor(j, 42, "42.3.1", "1:7", 7));
	ck_assert(journal_save_cursor(j, 43, "42.1.2", "1:9", 9));
	cursor = journal_load_cursor(j, 42, "42.1.2", &done);
	ck_assert_str_eq(cursor, "3:200");
	ck_assert_int_eq(done, 200);
	free(cursor);
	cursor = journal_load_cursor(j, 42, "42.3.1", NULL);
	ck_assert_str_eq(cursor, "1:7");
	free(cursor);
	journal_close(j);
	expect_peek(path, "SELECT count(*) FROM cursors", "3");
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_completed_steps)
{
	char	   *path;
	Journal    *j;
	int64_t		run;
	Migration	other = {.version = 7, .version_text = "0007", .name = "other"};
	Step		s = make_step("7.1.1");

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	run = journal_run_begin(j, "apply", "shop");
	expect_completed(j, "");

	record(j, run, "42.1.1", false, "completed");
	record(j, run, "42.1.2", false, "skipped");	/* already done earlier */
	record(j, run, "42.1.10", false, "completed");
	record(j, run, "42.2.1", false, "failed");
	journal_step_end(j, journal_step_begin(j, run, &other, &s, false), "completed", NULL, -1);
	expect_completed(j, "42.1.1 42.1.2 42.1.10");

	/* A later failure of a step makes it not done. */
	record(j, run, "42.1.10", false, "failed");
	expect_completed(j, "42.1.1 42.1.2");

	/* Rolled back: its own id or "<id>.<something>"; "42.1.10" is not 42.1.1's. */
	record(j, run, "42.1.10.r1", true, "completed");
	record(j, run, "42.1.2", true, "completed");
	expect_completed(j, "42.1.1");
	record(j, run, "42.1.1.r1", true, "failed");	/* a failed rollback undoes nothing */
	expect_completed(j, "42.1.1");

	/* Applied again after its rollback: done again, now last. */
	record(j, run, "42.1.2", false, "completed");
	expect_completed(j, "42.1.1 42.1.2");
	record(j, run, "42.1.1.r1", true, "completed");
	expect_completed(j, "42.1.2");
	journal_close(j);
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_completed_steps_in_completion_order)
{
	char	   *path;
	Journal    *j;
	int64_t		run;
	Step		first = make_step("42.1.1");
	Step		second = make_step("42.1.2");
	int64_t		row1,
				row2;

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	run = journal_run_begin(j, "apply", "shop");
	row1 = journal_step_begin(j, run, &migration, &first, false);
	row2 = journal_step_begin(j, run, &migration, &second, false);
	journal_step_end(j, row2, "completed", NULL, -1);
	sleep_ms(5);
	journal_step_end(j, row1, "completed", NULL, -1);
	expect_completed(j, "42.1.2 42.1.1");
	journal_close(j);
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	char	   *path;
	Journal    *j;
	char	   *cursor;
	int64_t		run;

	make_tmpdir();
	path = tmp_path("state.db");
	j = open_ok(path);
	run = journal_run_begin(j, "apply", "shop");
	record(j, run, "42.1.1", false, "completed");
	ck_assert(journal_save_cursor(j, 42, "42.1.2", "2:17", 17));
	journal_close(j);

	j = open_ok(path);
	expect_completed(j, "42.1.1");
	cursor = journal_load_cursor(j, 42, "42.1.2", NULL);
	ck_assert_str_eq(cursor, "2:17");
	free(cursor);
	ck_assert_int_gt(journal_run_begin(j, "rollback", "shop"), run);
	journal_close(j);
	expect_peek(path, "SELECT count(*) FROM runs", "2");
	free(path);
	remove_tmpdir();
}
END_TEST

/* journal_open refuses path, naming it, with a message containing what. */
static void
expect_refused(const char *path, const char *what)
{
	Error		err = {0};

	ck_assert_ptr_null(journal_open(path, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_msg(strstr(err.message, path) != NULL, "no file name in: %s", err.message);
	ck_assert_msg(strstr(err.message, what) != NULL, "no \"%s\" in: %s", what, err.message);
	error_clear(&err);
}

START_TEST(test_garbage_refused)
{
	char	   *path;
	FILE	   *f;

	make_tmpdir();
	path = tmp_path("state.db");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database, it is a text file\n", f);
	fclose(f);
	expect_refused(path, "not a database");
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_foreign_database_refused)
{
	char	   *path;

	make_tmpdir();
	path = tmp_path("app.db");
	poke(path, "CREATE TABLE customers (id integer)");
	expect_refused(path, "not a migrate journal");
	/* Untouched: no journal table was added. */
	expect_peek(path, "SELECT count(*) FROM sqlite_master", "1");
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	char	   *path;

	make_tmpdir();
	path = tmp_path("state.db");
	journal_close(open_ok(path));
	poke(path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
	expect_refused(path, "newer");
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_unusable_directory_refused)
{
	char	   *file;
	char	   *path;
	Error		err = {0};

	make_tmpdir();
	file = tmp_path("plain-file");
	poke(file, "CREATE TABLE t (x)");
	/* A directory cannot be made where a file is. */
	path = tmp_path("plain-file/sub/state.db");
	ck_assert_ptr_null(journal_open(path, &err));
	ck_assert_ptr_nonnull(strstr(err.message, path));
	error_clear(&err);
	free(file);
	free(path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_writes_without_journal_do_not_crash)
{
	Step		s = make_step("42.1.1");
	StrList		ids = {0};
	int64_t		done = 5;

	ck_assert_int_eq(journal_run_begin(NULL, "apply", "shop"), -1);
	ck_assert_int_eq(journal_step_begin(NULL, 1, &migration, &s, false), -1);
	journal_step_attempt(NULL, 1, 1, 10, "x");
	journal_step_end(NULL, 1, "completed", NULL, 1);
	journal_run_end(NULL, 1, 0);
	ck_assert(!journal_save_cursor(NULL, 42, "42.1.1", "1:1", 1));
	ck_assert_ptr_null(journal_load_cursor(NULL, 42, "42.1.1", &done));
	ck_assert_int_eq(done, 0);
	ck_assert(!journal_completed_steps(NULL, 42, &ids));
	ck_assert_uint_eq(ids.n, 0);
	journal_close(NULL);
}
END_TEST

START_TEST(test_history_status_names)
{
	ck_assert_str_eq(history_status_name(HISTORY_RUNNING), "running");
	ck_assert_str_eq(history_status_name(HISTORY_COMPLETED), "completed");
	ck_assert_str_eq(history_status_name(HISTORY_FAILED), "failed");
	ck_assert_str_eq(history_status_name(HISTORY_ROLLED_BACK), "rolled_back");
}
END_TEST

START_TEST(test_history_find)
{
	HistoryRow	rows[3] = {{.version = 1}, {.version = 5}, {.version = 20261126120000}};
	History		h = {rows, 3};

	ck_assert_ptr_eq(history_find(&h, 5), &rows[1]);
	ck_assert_ptr_eq(history_find(&h, 20261126120000), &rows[2]);
	ck_assert_ptr_eq(history_find(&h, 1), &rows[0]);
	ck_assert_ptr_null(history_find(&h, 2));
	ck_assert_ptr_null(history_find(&h, 0));
	h.n = 0;
	ck_assert_ptr_null(history_find(&h, 1));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("state");
	TCase	   *journal = tcase_create("journal");
	TCase	   *history = tcase_create("history");

	tcase_add_test(journal, test_open_creates_nested_directory);
	tcase_add_test(journal, test_run_steps_attempts);
	tcase_add_test(journal, test_one_journal_per_database);
	tcase_add_test(journal, test_step_failure_recorded);
	tcase_add_test(journal, test_cursor_save_load_overwrite);
	tcase_add_test(journal, test_completed_steps);
	tcase_add_test(journal, test_completed_steps_in_completion_order);
	tcase_add_test(journal, test_reopen_keeps_data);
	tcase_add_test(journal, test_garbage_refused);
	tcase_add_test(journal, test_foreign_database_refused);
	tcase_add_test(journal, test_newer_schema_refused);
	tcase_add_test(journal, test_unusable_directory_refused);
	tcase_add_test(journal, test_writes_without_journal_do_not_crash);
	tcase_add_test(history, test_history_status_names);
	tcase_add_test(history, test_history_find);
	suite_add_tcase(s, journal);
	suite_add_tcase(s, history);
	return s;
}

#include "check_main.h"
