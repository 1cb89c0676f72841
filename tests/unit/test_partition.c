/*
 * Unit tests: partition bounds and names (partition module), the partition
 * fields of migration files, and golden plans of the partition operations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "partition.h"
#include "plan.h"
#include "render.h"
#include "spec.h"

#include "golden.h"

static Suite *make_suite(void);

#define GOLDEN "fixtures/plan_partition/"

static CivilDate
date(const char *text)
{
	CivilDate	d = {0, 0, 0};

	ck_assert_msg(partition_parse_date(text, &d), "%s", text);
	return d;
}

static char *
fmt(CivilDate d)
{
	static char out[16];

	partition_format_date(d, out);
	return out;
}

START_TEST(test_dates)
{
	CivilDate	d;

	ck_assert(!partition_parse_date("2026-02-29", &d));
	ck_assert(partition_parse_date("2028-02-29", &d));
	ck_assert(!partition_parse_date("2026-13-01", &d));
	ck_assert(!partition_parse_date("2026-1-01", &d));
	ck_assert(!partition_parse_date("2026-01-01x", &d));
	ck_assert(!partition_parse_date("", &d));
	ck_assert(!partition_parse_date(NULL, &d));
	ck_assert(!partition_parse_date("0000-01-01", &d));
	/* weeks start on Monday: 2026-12-02 is a Wednesday, 2027-01-03 a Sunday */
	ck_assert_str_eq(fmt(partition_period_start(INTERVAL_WEEK, date("2026-12-02"))), "2026-11-30");
	ck_assert_str_eq(fmt(partition_period_start(INTERVAL_WEEK, date("2027-01-03"))), "2026-12-28");
	ck_assert_str_eq(fmt(partition_period_start(INTERVAL_WEEK, date("2026-11-30"))), "2026-11-30");
	ck_assert_str_eq(fmt(partition_period_start(INTERVAL_WEEK, date("2000-03-01"))), "2000-02-28");
	ck_assert_str_eq(fmt(partition_period_next(INTERVAL_WEEK, date("2026-12-30"))), "2027-01-04");
	ck_assert_str_eq(fmt(partition_period_next(INTERVAL_DAY, date("2028-02-28"))), "2028-02-29");
	ck_assert_str_eq(fmt(partition_period_next(INTERVAL_DAY, date("2026-12-31"))), "2027-01-01");
	ck_assert_str_eq(fmt(partition_period_next(INTERVAL_MONTH, date("2026-12-15"))), "2027-01-01");
	ck_assert_str_eq(fmt(partition_period_next(INTERVAL_YEAR, date("2026-06-15"))), "2027-01-01");
	ck_assert_str_eq(fmt(partition_period_start(INTERVAL_MONTH, date("2026-06-15"))), "2026-06-01");
}
END_TEST

START_TEST(test_intervals)
{
	PartitionInterval iv;

	ck_assert(partition_parse_interval("1 month", &iv) && iv == INTERVAL_MONTH);
	ck_assert(partition_parse_interval("weekly", &iv) && iv == INTERVAL_WEEK);
	ck_assert(partition_parse_interval("1 Day", &iv) && iv == INTERVAL_DAY);
	ck_assert(partition_parse_interval("year", &iv) && iv == INTERVAL_YEAR);
	ck_assert(!partition_parse_interval("2 months", &iv));
	ck_assert(!partition_parse_interval("", &iv));
	ck_assert_str_eq(partition_interval_name(INTERVAL_WEEK), "1 week");
}
END_TEST

START_TEST(test_names)
{
	char	   *n;
	char		long_name[80];

	n = partition_period_name("orders", INTERVAL_YEAR, date("2026-01-01"));
	ck_assert_str_eq(n, "orders_2026");
	free(n);
	n = partition_period_name("s.orders", INTERVAL_MONTH, date("2026-03-01"));
	ck_assert_str_eq(n, "s.orders_2026_03");
	free(n);
	n = partition_period_name("orders", INTERVAL_WEEK, date("2026-11-30"));
	ck_assert_str_eq(n, "orders_2026_11_30");
	free(n);
	n = partition_name("orders", "default");
	ck_assert_str_eq(n, "orders_default");
	free(n);
	/* 63 bytes with the suffix whole, no UTF-8 character split */
	memset(long_name, 'a', 54);
	long_name[54] = '\0';
	strcat(long_name, "\xc3\xa9");	/* é: bytes 55-56, the cut falls inside it */
	n = partition_period_name(long_name, INTERVAL_MONTH, date("2026-03-01"));
	ck_assert_uint_eq(strlen(n), 54 + 8);
	ck_assert_str_eq(n + strlen(n) - 8, "_2026_03");
	ck_assert_uint_le(strlen(n), 63);
	free(n);
}
END_TEST

START_TEST(test_generate)
{
	Partitioning p = {0};
	GeneratedPartitions gp = {0};
	Error		err = {0};
	Buf			b;

	p.method = PARTITION_RANGE;
	strlist_add(&p.columns, "at");
	p.every = INTERVAL_MONTH;
	p.from = xstrdup("2026-11-20");
	p.to = xstrdup("2027-02-01");
	p.with_default = true;
	ck_assert(partition_generate("t", &p, &gp, &err));
	ck_assert_uint_eq(gp.n, 4);
	ck_assert_str_eq(gp.items[0].name, "t_2026_11");
	ck_assert_str_eq(gp.items[2].name, "t_2027_01");
	ck_assert_str_eq(gp.items[3].name, "t_default");
	buf_init(&b);
	partition_bound_sql(&b, &gp.items[0].bound);
	ck_assert_str_eq(b.data, "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')");
	buf_reset(&b);
	partition_bound_sql(&b, &gp.items[3].bound);
	ck_assert_str_eq(b.data, "DEFAULT");
	{
		char	   *check = partition_check_sql(PARTITION_RANGE, &p.columns, &gp.items[0].bound);

		ck_assert_str_eq(check, "\"at\" IS NOT NULL AND \"at\" >= '2026-11-01' AND \"at\" < '2026-12-01'");
		free(check);
		ck_assert_ptr_null(partition_check_sql(PARTITION_RANGE, &p.columns, &gp.items[3].bound));
	}
	generated_partitions_free(&gp);

	/* to not after from; too many */
	free(p.to);
	p.to = xstrdup("2026-11-20");
	ck_assert(!partition_generate("t", &p, &gp, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	error_clear(&err);
	free(p.to);
	p.to = xstrdup("2099-01-01");
	p.every = INTERVAL_DAY;
	ck_assert(!partition_generate("t", &p, &gp, &err));
	ck_assert_ptr_nonnull(strstr(err.message, "more than 10000"));
	error_clear(&err);
	generated_partitions_free(&gp);

	/* hash */
	memset(&gp, 0, sizeof gp);
	p.every = INTERVAL_NONE;
	p.with_default = false;
	p.method = PARTITION_HASH;
	p.modulus = 3;
	ck_assert(partition_generate("t", &p, &gp, &err));
	ck_assert_uint_eq(gp.n, 3);
	ck_assert_str_eq(gp.items[2].name, "t_p2");
	buf_reset(&b);
	partition_bound_sql(&b, &gp.items[2].bound);
	ck_assert_str_eq(b.data, "FOR VALUES WITH (MODULUS 3, REMAINDER 2)");
	generated_partitions_free(&gp);

	/* list, with NULL and a hostile value */
	{
		PartitionBound lb = {0};
		char	   *check;

		strlist_add(&lb.in, "it's");
		lb.in_null = true;
		buf_reset(&b);
		partition_bound_sql(&b, &lb);
		ck_assert_str_eq(b.data, "FOR VALUES IN ('it''s', NULL)");
		check = partition_check_sql(PARTITION_LIST, &p.columns, &lb);
		ck_assert_str_eq(check, "(\"at\" IS NULL OR \"at\" IN ('it''s'))");
		free(check);
		partition_bound_free(&lb);
	}
	buf_free(&b);
	strlist_free(&p.columns);
	free(p.from);
	free(p.to);
}
END_TEST

/* ---- migration files ---- */

static char *
load_error(const char *yaml)
{
	Error		err = {0};
	Migration	m;

	ck_assert(!spec_load_buffer("t/0001_t.yaml", yaml, strlen(yaml), &m, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	return err.message;
}

START_TEST(test_spec_errors)
{
	static const struct
	{
		const char *yaml;
		const char *want;
	}			cases[] = {
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}]\n"
		 "      partition_by: {range: b}\n",
		 "t/0001_t.yaml:5:21: create_table: \"partition_by\": no column \"b\" in \"columns\""},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}, {name: id, type: int}]\n"
		 "      primary_key: [id]\n      partition_by: {range: a}\n",
		 "t/0001_t.yaml:2:5: create_table: the primary key of a partitioned table must include the partition column \"a\""},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}]\n"
		 "      partition_by: {range: a}\n      partitions: {every: 2 months, from: 2026-01-01, to: 2027-01-01}\n",
		 "t/0001_t.yaml:6:27: create_table.partitions: \"every\": expected 1 day, 1 week, 1 month or 1 year"},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}]\n"
		 "      partition_by: {range: a}\n      partitions: {every: 1 month, from: 2026-02-30, to: 2027-01-01}\n",
		 "t/0001_t.yaml:6:42: create_table.partitions: \"from\": expected a date YYYY-MM-DD"},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}]\n"
		 "      partition_by: {range: a}\n      partitions: {every: 1 month, from: 2026-01-01}\n",
		 "create_table.partitions: generated range partitions need \"every\", \"from\" and \"to\""},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: int}]\n"
		 "      partition_by: {hash: a}\n      partitions: {modulus: 4, default: true}\n",
		 "a hash-partitioned table has no default partition"},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: int}]\n"
		 "      partition_by: {rang: a}\n",
		 "unknown partitioning method \"rang\" (did you mean \"range\"?)"},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: int}]\n"
		 "      partitions: {modulus: 4}\n",
		 "t/0001_t.yaml:5:19: create_table: \"partitions\" needs \"partition_by\""},
		{"operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: int}]\n"
		 "      partition_by: {list: a}\n      partitions:\n        - {name: p1, values: [1]}\n"
		 "        - {name: p1, values: [2]}\n",
		 "partition \"p1\" appears twice"},
		{"operations:\n  - add_partitions: {table: t, from: 2026-01-01, to: 2027-01-01}\n",
		 "add_partitions: \"from\" needs \"every\""},
		{"operations:\n  - add_partitions: {table: t, every: 1 month}\n",
		 "add_partitions: missing required field \"to\""},
		{"operations:\n  - attach_partition: {table: t, partition: p, values: {from: 1}}\n",
		 "missing required field \"to\""},
		{"operations:\n  - partition_table: {table: t, by: {range: at}}\n",
		 "partition_table: no partitions"},
		{"operations:\n  - partition_table: {table: t, by: {list: k}, every: 1 month, from: 2026-01-01, to: 2026-02-01}\n",
		 "\"every\", \"from\" and \"to\" are for range partitioning"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		char	   *message = load_error(cases[i].yaml);

		ck_assert_msg(strstr(message, cases[i].want) != NULL, "case %zu: [%s] not in [%s]",
					  i, cases[i].want, message);
		free(message);
	}
}
END_TEST

START_TEST(test_spec_checksum)
{
	const char *a = "operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}]\n"
		"      partition_by: {range: a}\n      partitions: {every: 1 month, from: 2026-01-01, to: 2026-03-01}\n";
	const char *b = "operations:\n  - create_table:\n      name: t\n      columns: [{name: a, type: date}]\n"
		"      partition_by: {range: a}\n      partitions: {every: 1 month, from: 2026-01-01, to: 2026-04-01}\n";
	Migration	ma,
				mb;
	Error		err = {0};

	ck_assert(spec_load_buffer("t/0001_t.yaml", a, strlen(a), &ma, &err));
	ck_assert(spec_load_buffer("t/0001_t.yaml", b, strlen(b), &mb, &err));
	ck_assert_str_ne(ma.checksum, mb.checksum);
	migration_free(&ma);
	migration_free(&mb);
}
END_TEST

/* ---- golden plans ---- */

START_TEST(test_golden)
{
	Migration	m;
	Error		err = {0};

	ck_assert_msg(spec_load_file(GOLDEN "0001_partitions.yaml", &m, &err), "%s", err.message);
	for (int s = 0; s < 2; s++)
	{
		Strategy	strategy = s == 0 ? STRATEGY_PLAIN : STRATEGY_ONLINE;
		MigrationPlan mp;
		char	   *path = xasprintf(GOLDEN "0001_partitions.%s.txt", strategy_name(strategy));
		Settings	st;
		RenderOptions ro = {false, false, &st};
		char	   *text = NULL;
		size_t		len = 0;
		FILE	   *f;

		settings_defaults(&st);
		ck_assert_msg(plan_migration(&m, strategy, NULL, &mp, &err), "%s", err.message);
		{
			Plan		plan = {strategy, &mp, 1};

			f = open_memstream(&text, &len);
			render_plan(f, &plan, FORMAT_TEXT, &ro);
			fclose(f);
		}
		check_golden(path, text);
		free(text);
		free(path);
		migration_plan_free(&mp);
	}
	migration_free(&m);
}
END_TEST

START_TEST(test_add_partitions_offline)
{
	const char *yaml = "operations:\n  - add_partitions: {table: t, to: 2027-01-01}\n";
	Migration	m;
	MigrationPlan mp;
	Error		err = {0};

	ck_assert(spec_load_buffer("t/0002_t.yaml", yaml, strlen(yaml), &m, &err));
	ck_assert(!plan_migration(&m, STRATEGY_ONLINE, NULL, &mp, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_msg(strstr(err.message, "t/0002_t.yaml:2:5: add_partitions: without \"every\" and \"from\"") != NULL,
				  "%s", err.message);
	error_clear(&err);
	migration_free(&m);
}
END_TEST

START_TEST(test_partition_table_steps)
{
	const char *yaml = "operations:\n  - partition_table:\n      table: orders\n"
		"      by: {range: created_at}\n      every: 1 month\n      from: 2026-01-01\n"
		"      to: 2026-03-01\n";
	Migration	m;
	MigrationPlan mp;
	Error		err = {0};
	int			copies = 0,
				swaps = 0,
				contracts = 0;

	ck_assert(spec_load_buffer("t/0003_t.yaml", yaml, strlen(yaml), &m, &err));
	ck_assert_msg(plan_migration(&m, STRATEGY_ONLINE, NULL, &mp, &err), "%s", err.message);
	for (size_t i = 0; i < mp.n_steps; i++)
	{
		const Step *st = &mp.steps[i];

		if (st->kind == STEP_BACKFILL)
		{
			copies++;
			ck_assert_str_eq(st->backfill->copy_to, "orders_partitioned");
			ck_assert_str_eq(st->backfill->table, "orders");
		}
		if (st->lock == LOCK_ACCESS_EXCLUSIVE && st->phase == PHASE_EXPAND)
		{
			swaps++;
			ck_assert_uint_ge(st->n_rollback, 2);	/* swap back, validate the keys */
		}
		if (st->phase == PHASE_CONTRACT)
		{
			contracts++;
			ck_assert_ptr_nonnull(st->irreversible);
			ck_assert_ptr_nonnull(strstr(st->sql.items[st->sql.n - 1], "orders_unpartitioned"));
		}
	}
	ck_assert_int_eq(copies, 1);
	ck_assert_int_eq(swaps, 1);
	ck_assert_int_eq(contracts, 1);
	migration_plan_free(&mp);
	migration_free(&m);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("partition");
	TCase	   *tc = tcase_create("core");

	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_intervals);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_generate);
	tcase_add_test(tc, test_spec_errors);
	tcase_add_test(tc, test_spec_checksum);
	tcase_add_test(tc, test_golden);
	tcase_add_test(tc, test_add_partitions_offline);
	tcase_add_test(tc, test_partition_table_steps);
	suite_add_tcase(s, tc);
	return s;
}

#include "check_main.h"
