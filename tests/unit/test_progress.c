/*
 * Unit tests: progress events of a step still running (an index build):
 * one JSON object a line with --format json, one live line rewritten in
 * place on a terminal, nothing on plain text output that is no terminal.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

static Suite *make_suite(void);

static Migration migration = {.version = 3, .version_text = "0003", .name = "order_indexes"};
static Step step = {.id = "3.1.1", .summary = "build index \"i\" on \"orders\" concurrently"};

/* A Progress writing to memory; *text holds it once the stream is closed. */
static Progress
memory_progress(char **text, size_t *size, bool json, bool tty)
{
	Progress	p = {0};

	p.out = open_memstream(text, size);
	ck_assert_ptr_nonnull(p.out);
	p.json = json;
	p.tty = tty;
	return p;
}

START_TEST(json_event_with_phase)
{
	char	   *text = NULL;
	size_t		size = 0;
	Progress	p = memory_progress(&text, &size, true, false);

	progress_step_running(&p, &migration, &step, 1500, "building index: scanning \"table\"", 5, 10);
	fclose(p.out);
	ck_assert_str_eq(text,
					 "{\"event\":\"progress\",\"version\":3,\"name\":\"order_indexes\","
					 "\"step\":\"3.1.1\",\"summary\":\"build index \\\"i\\\" on \\\"orders\\\" "
					 "concurrently\",\"elapsed_ms\":1500,\"phase\":\"building index: scanning "
					 "\\\"table\\\"\",\"blocks_done\":5,\"blocks_total\":10}\n");
	free(text);
}
END_TEST

START_TEST(json_event_without_phase)
{
	char	   *text = NULL;
	size_t		size = 0;
	Progress	p = memory_progress(&text, &size, true, true);

	progress_step_running(&p, &migration, &step, 2000, NULL, -1, -1);
	fclose(p.out);
	ck_assert_ptr_null(strstr(text, "phase"));
	ck_assert_ptr_null(strstr(text, "blocks"));
	ck_assert_ptr_nonnull(strstr(text, "\"elapsed_ms\":2000}\n"));
	free(text);
}
END_TEST

START_TEST(terminal_live_line)
{
	char	   *text = NULL;
	size_t		size = 0;
	Progress	p = memory_progress(&text, &size, false, true);

	progress_step_started(&p, &migration, &step);
	progress_step_running(&p, &migration, &step, 1000, "waiting for old snapshots", 0, 0);
	progress_step_running(&p, &migration, &step, 2000, "building index: scanning table", 25, 100);
	ck_assert(p.live_line_open);
	progress_step_finished(&p, &migration, &step, 2500, -1);
	ck_assert(!p.live_line_open);
	fclose(p.out);
	/* no blocks while there are none; no newline until the step ends */
	ck_assert_ptr_nonnull(strstr(text, "concurrently: 1s, waiting for old snapshots\r"));
	ck_assert_ptr_nonnull(strstr(text, "concurrently: 2s, building index: scanning table, "
								 "25/100 blocks (25%)\r"));
	ck_assert_ptr_nonnull(strstr(text, "done in 2500 ms\n"));
	ck_assert_ptr_eq(strchr(text, '\n'), strrchr(text, '\n'));
	free(text);
}
END_TEST

START_TEST(plain_text_says_nothing)
{
	char	   *text = NULL;
	size_t		size = 0;
	Progress	p = memory_progress(&text, &size, false, false);

	progress_step_running(&p, &migration, &step, 1000, "building index", 1, 2);
	fclose(p.out);
	ck_assert_uint_eq(size, 0);
	free(text);
}
END_TEST

/*
 * The steps of one transaction all start before any finishes: on a
 * terminal each gets its own line, never "[1.1.1] ... [1.2.1] ..." on one.
 */
START_TEST(terminal_group_of_steps)
{
	char	   *text = NULL;
	size_t		size = 0;
	Progress	p = memory_progress(&text, &size, false, true);
	Step		second = {.id = "3.2.1", .summary = "add column \"x\""};

	progress_step_started(&p, &migration, &step);
	progress_step_started(&p, &migration, &second);
	progress_step_finished(&p, &migration, &step, 5, -1);
	progress_step_finished(&p, &migration, &second, 6, -1);
	progress_migration_finished(&p, &migration, 7, false);
	fclose(p.out);
	ck_assert_str_eq(text,
					 "  [3.1.1] build index \"i\" on \"orders\" concurrently ...\n"
					 "  [3.2.1] add column \"x\" ...\n"
					 "  [3.1.1] build index \"i\" on \"orders\" concurrently ... done in 5 ms\n"
					 "  [3.2.1] add column \"x\" ... done in 6 ms\n"
					 "applied 0003_order_indexes in 7 ms\n");
	free(text);
}
END_TEST

/* One step alone: its " done" ends the line it started. */
START_TEST(terminal_one_step)
{
	char	   *text = NULL;
	size_t		size = 0;
	Progress	p = memory_progress(&text, &size, false, true);

	progress_step_started(&p, &migration, &step);
	progress_step_finished(&p, &migration, &step, 5, 10);
	fclose(p.out);
	ck_assert_str_eq(text, "  [3.1.1] build index \"i\" on \"orders\" concurrently ... "
					 "done in 5 ms, 10 rows\n");
	free(text);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("progress");
	TCase	   *tc = tcase_create("step_running");

	tcase_add_test(tc, json_event_with_phase);
	tcase_add_test(tc, json_event_without_phase);
	tcase_add_test(tc, terminal_live_line);
	tcase_add_test(tc, plain_text_says_nothing);
	tcase_add_test(tc, terminal_group_of_steps);
	tcase_add_test(tc, terminal_one_step);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
