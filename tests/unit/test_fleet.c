/*
 * Unit tests: the targets file of a fleet (defaults, every check with its
 * file:line:col, passwords refused without being shown), a fleet's exit
 * status (the worst target's), and reading a field of a worker's event.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

static Suite *make_suite(void);

#define PATH "fleet/targets.yaml"

static char *
parse_error(const char *text)
{
	Targets		t;
	Error		err = {0};
	char	   *message;

	ck_assert_msg(!targets_parse(PATH, text, strlen(text), &t, &err), "accepted: %s", text);
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_ptr_null(t.items);
	message = err.message;
	err.message = NULL;
	return message;
}

static void
expect_error(const char *text, const char *where, const char *phrase)
{
	char	   *message = parse_error(text);
	char	   *prefix = xasprintf("%s:%s: ", PATH, where);

	ck_assert_msg(strncmp(message, prefix, strlen(prefix)) == 0, "%s: want %s", message, prefix);
	ck_assert_msg(strstr(message, phrase) != NULL, "%s: want \"%s\"", message, phrase);
	free(prefix);
	free(message);
}

START_TEST(defaults_and_values)
{
	const char *text = "targets:\n"
		"  - name: shard-01\n"
		"    database: \"host=db1 port=5433 dbname=shop\"\n"
		"  - {name: shard.02, database: \"postgresql://app@db2/shop\"}\n"
		"  - {name: s3, database: shop3}\n";
	Targets		t;
	Error		err = {0};

	ck_assert(targets_parse(PATH, text, strlen(text), &t, &err));
	ck_assert_uint_eq(t.n, 3);
	ck_assert_int_eq(t.canary, 1);
	ck_assert_int_eq(t.parallel, 4);
	ck_assert_int_eq(t.on_failure, ON_FAILURE_HALT);
	ck_assert_str_eq(t.items[0].name, "shard-01");
	ck_assert_str_eq(t.items[0].database, "host=db1 port=5433 dbname=shop");
	ck_assert_int_eq(t.items[1].pos.line, 4);
	ck_assert_str_eq(t.items[2].database, "shop3");
	targets_free(&t);

	text = "canary: 0\nparallel: 16\non_failure: continue\ntargets: [{name: a, database: d}]\n";
	ck_assert(targets_parse(PATH, text, strlen(text), &t, &err));
	ck_assert_int_eq(t.canary, 0);
	ck_assert_int_eq(t.parallel, 16);
	ck_assert_int_eq(t.on_failure, ON_FAILURE_CONTINUE);
	targets_free(&t);
}
END_TEST

START_TEST(every_check_has_a_position)
{
	expect_error("", "1:1", "expected a mapping");
	expect_error("parallel: 2\n", "1:1", "missing required field \"targets\"");
	expect_error("targets: {a: b}\n", "1:10", "non-empty list");
	expect_error("targets:\n  - just-a-string\n", "2:5", "expected a mapping {name, database}");
	expect_error("targets:\n  - {name: a}\n", "2:5", "missing required field \"database\"");
	expect_error("targets:\n  - {name: a, database: \"\"}\n", "2:25", "non-empty string");
	expect_error("targets:\n  - {name: \"a b\", database: d}\n", "2:12", "use letters");
	expect_error("targets:\n  - {name: a, database: d, dbname: x}\n", "2:28",
				 "unknown field \"dbname\"");
	expect_error("targets:\n  - {name: a, databse: d}\n", "2:15",
				 "(did you mean \"database\"?)");
	expect_error("targets:\n  - {name: a, database: d}\n  - {name: a, database: e}\n", "3:5",
				 "name \"a\" appears twice (first at line 2)");
	expect_error("canary: 2\ntargets: [{name: a, database: d}]\n", "1:9",
				 "\"canary\": must be an integer from 0 to 1, got 2");
	expect_error("parallel: many\ntargets: [{name: a, database: d}]\n", "1:11",
				 "\"parallel\": must be an integer from 1 to 1000");
	expect_error("parallel: 0\ntargets: [{name: a, database: d}]\n", "1:11", "from 1 to 1000");
	expect_error("on_failure: retry\ntargets: [{name: a, database: d}]\n", "1:13",
				 "expected halt or continue, got retry");
	expect_error("targets: [{name: a, database: \"host='unterminated\"}]\n", "1:31",
				 "not a conninfo string or URI");
	/* the YAML loader's own checks, with their positions */
	expect_error("targets:\n\t- {name: a, database: d}\n", "2:1", "tab");
}
END_TEST

START_TEST(passwords_are_refused_unseen)
{
	const char *texts[] = {
		"targets: [{name: a, database: \"host=h password=s3cret dbname=d\"}]\n",
		"targets: [{name: a, database: \"postgresql://u:s3cret@h/d\"}]\n",
		"targets: [{name: a, database: \"postgresql://h/d?password=s3cret\"}]\n",
		"targets: [{name: a, database: \"host=h password='s3cret' 'broken\"}]\n",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
	{
		char	   *message = parse_error(texts[i]);

		ck_assert_msg(strstr(message, "s3cret") == NULL, "password shown: %s", message);
		ck_assert_msg(strncmp(message, PATH ":1:31: ", strlen(PATH ":1:31: ")) == 0, "%s", message);
		free(message);
	}
}
END_TEST

START_TEST(worst_exit)
{
	ck_assert_int_eq(fleet_worse_exit(EXIT_OK, EXIT_OK), EXIT_OK);
	ck_assert_int_eq(fleet_worse_exit(EXIT_OK, EXIT_UNREACHABLE), EXIT_UNREACHABLE);
	ck_assert_int_eq(fleet_worse_exit(EXIT_UNREACHABLE, EXIT_STEP_FAILED), EXIT_STEP_FAILED);
	ck_assert_int_eq(fleet_worse_exit(EXIT_STEP_FAILED, EXIT_LOCK), EXIT_STEP_FAILED);
	ck_assert_int_eq(fleet_worse_exit(EXIT_LOCK, EXIT_DRIFT), EXIT_DRIFT);
	ck_assert_int_eq(fleet_worse_exit(EXIT_UNSAFE, EXIT_USAGE), EXIT_UNSAFE);
	ck_assert_int_eq(fleet_worse_exit(EXIT_STEP_FAILED, EXIT_SIGINT), EXIT_SIGINT);
	ck_assert_int_eq(fleet_worse_exit(EXIT_SIGTERM, EXIT_STEP_FAILED), EXIT_SIGTERM);
}
END_TEST

static void
expect_field(const char *line, const char *key, const char *want)
{
	char	   *got = fleet_event_field(line, key);

	if (want == NULL)
		ck_assert_msg(got == NULL, "%s in %s: got %s", key, line, got);
	else
	{
		ck_assert_msg(got != NULL, "%s in %s: absent", key, line);
		ck_assert_str_eq(got, want);
	}
	free(got);
}

START_TEST(event_fields)
{
	const char *line = "{\"event\":\"step_retried\",\"version\":3,\"name\":\"order_indexes\","
		"\"step\":\"3.1.1\",\"summary\":\"build \\\"i\\\" on {orders}, [x]\","
		"\"attempt\":2,\"blocking\":[{\"pid\":7,\"query\":\"SELECT \\\"}\\\"\"}],"
		"\"rows_done\":1500,\"ok\":true,\"error\":null}";

	expect_field(line, "event", "step_retried");
	expect_field(line, "version", "3");
	expect_field(line, "summary", "build \"i\" on {orders}, [x]");
	expect_field(line, "blocking", "[{\"pid\":7,\"query\":\"SELECT \\\"}\\\"\"}]");
	expect_field(line, "rows_done", "1500");
	expect_field(line, "ok", "true");
	expect_field(line, "error", "null");
	expect_field(line, "pid", NULL);	/* nested: not a top-level key */
	expect_field(line, "missing", NULL);
	expect_field("not json", "event", NULL);
	expect_field("{\"event\":\"unterminated", "event", NULL);
	expect_field("{}", "event", NULL);
	expect_field("{\"a\":{\"b\":[1,2,{\"c\":3}]},\"event\":\"x\"}", "event", "x");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("fleet");
	TCase	   *tc = tcase_create("targets");

	tcase_add_test(tc, defaults_and_values);
	tcase_add_test(tc, every_check_has_a_position);
	tcase_add_test(tc, passwords_are_refused_unseen);
	tcase_add_test(tc, worst_exit);
	tcase_add_test(tc, event_fields);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
