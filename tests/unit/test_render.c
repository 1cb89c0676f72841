/*
 * Unit tests: the renderer.  The JSON of every fixture's plan is checked
 * by a small recursive-descent validator; the SQL script's transactions
 * are followed line by line; text output keeps colour to terminals that
 * ask for it.  (The golden files of test_planner pin the exact output.)
 */
#include <ctype.h>

#include "plan_helpers.h"

static Suite *make_suite(void);

/* ---- a JSON validator (RFC 8259, no extensions) ---- */

static bool json_value(const char **p, int depth);

static void
json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool
json_string(const char **p)
{
	if (**p != '"')
		return false;
	for ((*p)++; **p != '"'; (*p)++)
	{
		unsigned char c = (unsigned char) **p;

		if (c == '\0' || c < 0x20)
			return false;
		if (c == '\\')
		{
			(*p)++;
			if (**p == 'u')
			{
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char) (*p)[i]))
						return false;
				*p += 4;
			}
			else if (strchr("\"\\/bfnrt", **p) == NULL || **p == '\0')
				return false;
		}
	}
	(*p)++;
	return true;
}

static bool
json_number(const char **p)
{
	const char *start = *p;

	if (**p == '-')
		(*p)++;
	if (**p == '0')
		(*p)++;
	else if (isdigit((unsigned char) **p))
		while (isdigit((unsigned char) **p))
			(*p)++;
	else
		return false;
	if (**p == '.')
	{
		(*p)++;
		if (!isdigit((unsigned char) **p))
			return false;
		while (isdigit((unsigned char) **p))
			(*p)++;
	}
	if (**p == 'e' || **p == 'E')
	{
		(*p)++;
		if (**p == '+' || **p == '-')
			(*p)++;
		if (!isdigit((unsigned char) **p))
			return false;
		while (isdigit((unsigned char) **p))
			(*p)++;
	}
	return *p > start;
}

/* A comma-separated sequence up to close; member: "key": value in objects. */
static bool
json_members(const char **p, char close, bool object, int depth)
{
	(*p)++;
	json_ws(p);
	if (**p == close)
	{
		(*p)++;
		return true;
	}
	for (;;)
	{
		json_ws(p);
		if (object)
		{
			if (!json_string(p))
				return false;
			json_ws(p);
			if (**p != ':')
				return false;
			(*p)++;
		}
		if (!json_value(p, depth + 1))
			return false;
		json_ws(p);
		if (**p == close)
		{
			(*p)++;
			return true;
		}
		if (**p != ',')
			return false;
		(*p)++;
	}
}

static bool
json_value(const char **p, int depth)
{
	if (depth > 64)
		return false;
	json_ws(p);
	switch (**p)
	{
		case '{':
			return json_members(p, '}', true, depth);
		case '[':
			return json_members(p, ']', false, depth);
		case '"':
			return json_string(p);
		case 't':
			return strncmp(*p, "true", 4) == 0 && (*p += 4);
		case 'f':
			return strncmp(*p, "false", 5) == 0 && (*p += 5);
		case 'n':
			return strncmp(*p, "null", 4) == 0 && (*p += 4);
		default:
			return json_number(p);
	}
}

/* One JSON document and nothing else. */
static bool
json_valid(const char *text)
{
	const char *p = text;

	if (!json_value(&p, 0))
		return false;
	json_ws(&p);
	return *p == '\0';
}

START_TEST(test_json_validator)
{
	/* the validator itself must tell good from bad, or it proves nothing */
	ck_assert(json_valid("{\"a\": [1, -2.5e3, true, false, null, \"x\\n\\u00e9\"], \"b\": {}}"));
	ck_assert(json_valid("[]"));
	ck_assert(!json_valid("{\"a\": 1,}"));
	ck_assert(!json_valid("{\"a\" 1}"));
	ck_assert(!json_valid("[1 2]"));
	ck_assert(!json_valid("\"unterminated"));
	ck_assert(!json_valid("\"raw\nnewline\""));
	ck_assert(!json_valid("{} {}"));
	ck_assert(!json_valid("[01]"));
	ck_assert(!json_valid("\"bad \\x escape\""));
}
END_TEST

/* ---- JSON ---- */

START_TEST(test_json_every_fixture)
{
	for (int s = 0; s < 2; s++)
	{
		Migration	m;
		MigrationPlan mp;
		char	   *json;

		load_plan_fixture(plan_fixtures[_i], &m);
		plan_or_fail(&m, s ? STRATEGY_ONLINE : STRATEGY_PLAIN, &mp);
		json = render_one(&mp, FORMAT_JSON, true);
		ck_assert_msg(json_valid(json), "%s: invalid JSON:\n%s", plan_fixtures[_i], json);
		ck_assert(strstr(json, s ? "\"strategy\": \"online\"" : "\"strategy\": \"plain\"") != NULL);
		ck_assert(strstr(json, "\"connected\": false") != NULL);
		ck_assert(strstr(json, "\"checksum\": \"sha256:") != NULL);
		ck_assert(strstr(json, "\033") == NULL);	/* never colour */
		free(json);
		migration_plan_free(&mp);
		migration_free(&m);
	}
}
END_TEST

START_TEST(test_json_shape)
{
	Migration	m;
	MigrationPlan mp;
	char	   *json;

	load_plan_text("0042_shape.yaml", "description: \"quote \\\" and\\nnewline\"\noperations:\n"
				   "  - create_index: {table: orders, name: i, columns: [a]}\n", &m);
	plan_or_fail(&m, STRATEGY_ONLINE, &mp);
	json = render_one(&mp, FORMAT_JSON, false);
	ck_assert(json_valid(json));
	ck_assert(strstr(json, "\"version\": 42,") != NULL);
	ck_assert(strstr(json, "\"name\": \"shape\",") != NULL);
	ck_assert(strstr(json, "\"description\": \"quote \\\" and\\nnewline\",") != NULL);
	ck_assert(strstr(json, "\"irreversible\": false,") != NULL);
	ck_assert(strstr(json, "\"id\": \"42.1.1\",") != NULL);
	ck_assert(strstr(json, "\"operation\": \"create_index\",") != NULL);
	ck_assert(strstr(json, "\"kind\": \"concurrent\",") != NULL);
	ck_assert(strstr(json, "\"mode\": \"SHARE UPDATE EXCLUSIVE\",") != NULL);
	ck_assert(strstr(json, "\"relation\": \"orders\"") != NULL);
	ck_assert(strstr(json, "\"in_transaction\": false,") != NULL);
	ck_assert(strstr(json, "\"estimated_rows\": null,") != NULL);
	ck_assert(strstr(json, "\"CREATE INDEX CONCURRENTLY \\\"i\\\" ON \\\"orders\\\" (\\\"a\\\")\"") != NULL);
	ck_assert(strstr(json, "\"id\": \"42.1.1.r1\",") != NULL);
	free(json);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

/* ---- SQL ---- */

/*
 * Follows the script's transactions: every statement outside comments is
 * checked against where it runs.
 */
typedef struct ScriptFacts
{
	int			begins;
	int			commits;
	int			concurrent_in_txn;	/* CONCURRENTLY inside BEGIN: broken */
	int			concurrent_bare;
	int			statements_outside; /* other than CONCURRENTLY, backfills */
	int			commented_contract;
	bool		finalize_heading;
} ScriptFacts;

static ScriptFacts
script_facts(const char *sql)
{
	ScriptFacts f = {0};
	bool		in_txn = false;
	bool		in_finalize = false;
	const char *line = sql;

	while (*line)
	{
		const char *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);
		char	   *l = xstrndup(line, len);

		if (strncmp(l, "-- run at finalize", 18) == 0)
			f.finalize_heading = in_finalize = true;
		else if (strncmp(l, "-- migration ", 13) == 0)
			in_finalize = false;
		else if (in_finalize && strstr(l, "DROP"))
			f.commented_contract++;
		if (strcmp(l, "BEGIN;") == 0)
		{
			ck_assert(!in_txn);
			in_txn = true;
			f.begins++;
		}
		else if (strcmp(l, "COMMIT;") == 0)
		{
			ck_assert(in_txn);
			in_txn = false;
			f.commits++;
		}
		else if (strncmp(l, "--", 2) != 0 && strstr(l, "CONCURRENTLY"))
		{
			if (in_txn)
				f.concurrent_in_txn++;
			else
				f.concurrent_bare++;
		}
		else if (!in_txn && strncmp(l, "--", 2) != 0 && (strncmp(l, "ALTER", 5) == 0 ||
														  strncmp(l, "CREATE", 6) == 0))
			f.statements_outside++;
		free(l);
		line += len + (nl ? 1 : 0);
	}
	ck_assert_msg(!in_txn, "the script ends inside a transaction");
	return f;
}

static char *
sql_of(const char *fixture, Strategy strategy, Migration *m, MigrationPlan *mp)
{
	load_plan_fixture(fixture, m);
	plan_or_fail(m, strategy, mp);
	return render_one(mp, FORMAT_SQL, false);
}

START_TEST(test_sql_transactions)
{
	Migration	m;
	MigrationPlan mp;
	char	   *sql;
	ScriptFacts f;

	/* plain: the whole migration in one transaction, backfill included */
	sql = sql_of("0005_add_column_backfill", STRATEGY_PLAIN, &m, &mp);
	f = script_facts(sql);
	ck_assert_int_eq(f.begins, 1);
	ck_assert_int_eq(f.commits, 1);
	ck_assert(strstr(sql, "SET LOCAL lock_timeout = '2000ms';\n") != NULL);
	ck_assert(strstr(sql, "statement_timeout") == NULL);
	ck_assert(strstr(sql, "-- migration 0005_add_column_backfill (plain strategy, 3 steps)\n") != NULL);
	free(sql);
	migration_plan_free(&mp);
	migration_free(&m);

	/* online: one short transaction per step, CONCURRENTLY bare, contract commented */
	sql = sql_of("0005_add_column_backfill", STRATEGY_ONLINE, &m, &mp);
	f = script_facts(sql);
	ck_assert_int_gt(f.begins, 5);
	ck_assert_int_eq(f.concurrent_in_txn, 0);
	ck_assert_int_eq(f.concurrent_bare, 2);
	ck_assert_int_eq(f.statements_outside, 0);
	ck_assert(f.finalize_heading);
	ck_assert_int_eq(f.commented_contract, 2);
	ck_assert(strstr(sql, "\nDROP TRIGGER") == NULL);
	ck_assert(strstr(sql, "-- apply runs this in batches") != NULL);
	free(sql);
	migration_plan_free(&mp);
	migration_free(&m);

	/* plain, with two non-transactional sql operations in the middle */
	sql = sql_of("0020_sql", STRATEGY_PLAIN, &m, &mp);
	f = script_facts(sql);
	ck_assert_int_eq(f.begins, 3);
	/* CREATE INDEX CONCURRENTLY and REFRESH ... CONCURRENTLY */
	ck_assert_int_eq(f.concurrent_bare, 2);
	ck_assert(strstr(sql, "-- irreversible: the sql operation has no down\n") != NULL);
	free(sql);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_sql_every_fixture)
{
	for (int s = 0; s < 2; s++)
	{
		Migration	m;
		MigrationPlan mp;
		char	   *sql = sql_of(plan_fixtures[_i], s ? STRATEGY_ONLINE : STRATEGY_PLAIN, &m, &mp);
		ScriptFacts f = script_facts(sql);

		ck_assert_int_eq(f.concurrent_in_txn, 0);
		ck_assert_int_eq(f.begins, f.commits);
		free(sql);
		migration_plan_free(&mp);
		migration_free(&m);
	}
}
END_TEST

START_TEST(test_sql_trailing_comment)
{
	Migration	m;
	MigrationPlan mp;
	char	   *sql;

	/* the user's last statement ends in a comment: the semicolon goes below it */
	load_plan_text("0001_c.yaml", "operations:\n  - sql: {up: \"SELECT 1; SELECT 2 -- two\"}\n", &m);
	plan_or_fail(&m, STRATEGY_PLAIN, &mp);
	sql = render_one(&mp, FORMAT_SQL, false);
	ck_assert(strstr(sql, "\nSELECT 1;\nSELECT 2 -- two\n;\nCOMMIT;\n") != NULL);
	free(sql);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_sql_settings)
{
	Migration	m;
	MigrationPlan mp;
	Settings	st;
	RenderOptions ro = {false, true, &st};
	Plan		plan;
	char	   *out = NULL;
	size_t		len = 0;
	FILE	   *f;

	load_plan_fixture("0017_rls", &m);
	plan_or_fail(&m, STRATEGY_ONLINE, &mp);
	plan = (Plan) {STRATEGY_ONLINE, &mp, 1};
	settings_defaults(&st);
	st.lock_timeout_ms = 750;
	st.statement_timeout_ms = 1500;
	f = open_memstream(&out, &len);
	render_plan(f, &plan, FORMAT_SQL, &ro);
	fclose(f);
	ck_assert(strstr(out, "BEGIN;\nSET LOCAL lock_timeout = '750ms';\n"
					 "SET LOCAL statement_timeout = '1500ms';\n-- 17.1.1 ") != NULL);
	free(out);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

/* ---- text ---- */

START_TEST(test_text)
{
	Migration	m;
	MigrationPlan mp;
	char	   *plain;
	char	   *color;

	load_plan_fixture("0003_rename_table", &m);
	plan_or_fail(&m, STRATEGY_PLAIN, &mp);
	plain = render_one(&mp, FORMAT_TEXT, false);
	color = render_one(&mp, FORMAT_TEXT, true);
	ck_assert(strstr(plain, "\033") == NULL);
	ck_assert(strstr(plain, "Migration 0003_rename_table (plain, 1 step)\n") != NULL);
	ck_assert(strstr(plain, "  1. [3.1.1] expand: rename table \"public\".\"orders\" to \"purchases\"\n"
					 "     lock: ACCESS EXCLUSIVE on public.orders, in transaction\n"
					 "       ALTER TABLE \"public\".\"orders\" RENAME TO \"purchases\";\n"
					 "     warning: code that uses the old name breaks") != NULL);
	ck_assert(strstr(plain, "     undo [3.1.1.r1]: rename table \"public\".\"purchases\" back to \"orders\"\n") != NULL);
	/* colour: bold header, yellow warning */
	ck_assert(strstr(color, "\033[1mMigration 0003_rename_table\033[0m") != NULL);
	ck_assert(strstr(color, "\033[33mwarning: ") != NULL);
	free(plain);
	free(color);
	migration_plan_free(&mp);
	migration_free(&m);

	/* irreversible in red, in the header too */
	load_plan_fixture("0002_drop_table", &m);
	plan_or_fail(&m, STRATEGY_PLAIN, &mp);
	color = render_one(&mp, FORMAT_TEXT, true);
	ck_assert(strstr(color, "  \033[31mirreversible: dropping the table loses its data\033[0m\n") != NULL);
	free(color);
	migration_plan_free(&mp);
	/* online: the drop belongs to finalize, apply itself can be undone */
	plan_or_fail(&m, STRATEGY_ONLINE, &mp);
	plain = render_one(&mp, FORMAT_TEXT, false);
	ck_assert(strstr(plain, "contract: drop table \"legacy\".\"old_orders\" (run by finalize)") != NULL);
	ck_assert(strstr(plain, "\n  irreversible") == NULL);
	free(plain);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

START_TEST(test_empty_plan)
{
	Plan		empty = {STRATEGY_ONLINE, NULL, 0};
	static const Format formats[] = {FORMAT_TEXT, FORMAT_SQL, FORMAT_JSON};
	static const char *const want[] = {
		"Nothing to apply: all migrations are applied.\n",
		"Nothing to apply",
		"\"migrations\": []",
	};

	for (int i = 0; i < 3; i++)
	{
		char	   *out = NULL;
		size_t		len = 0;
		FILE	   *f = open_memstream(&out, &len);

		render_plan(f, &empty, formats[i], NULL);
		fclose(f);
		ck_assert_msg(strstr(out, want[i]) != NULL, "%s", out);
		if (formats[i] == FORMAT_JSON)
			ck_assert(json_valid(out));
		free(out);
	}
}
END_TEST

START_TEST(test_format_names)
{
	ck_assert_str_eq(format_name(FORMAT_TEXT), "text");
	ck_assert_str_eq(format_name(FORMAT_JSON), "json");
	ck_assert_str_eq(format_name(FORMAT_SQL), "sql");
	ck_assert_int_eq(format_from_name("json"), FORMAT_JSON);
	ck_assert_int_eq(format_from_name("SQL"), FORMAT_SQL);
	ck_assert_int_eq(format_from_name("text"), FORMAT_TEXT);
	ck_assert_int_eq(format_from_name("yaml"), -1);
	ck_assert_int_eq(format_from_name(""), -1);
	ck_assert_int_eq(format_from_name(NULL), -1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("render");
	TCase	   *json = tcase_create("json");
	TCase	   *sql = tcase_create("sql");
	TCase	   *text = tcase_create("text");

	tcase_add_test(json, test_json_validator);
	tcase_add_loop_test(json, test_json_every_fixture, 0, (int) N_PLAN_FIXTURES);
	tcase_add_test(json, test_json_shape);
	tcase_add_test(sql, test_sql_transactions);
	tcase_add_loop_test(sql, test_sql_every_fixture, 0, (int) N_PLAN_FIXTURES);
	tcase_add_test(sql, test_sql_trailing_comment);
	tcase_add_test(sql, test_sql_settings);
	tcase_add_test(text, test_text);
	tcase_add_test(text, test_empty_plan);
	tcase_add_test(text, test_format_names);
	suite_add_tcase(s, json);
	suite_add_tcase(s, sql);
	suite_add_tcase(s, text);
	return s;
}

#include "check_main.h"
