#!/usr/bin/env bash
# kill -9 of apply --online at several moments (during DDL, during a
# backfill, during a CONCURRENTLY index build, whose INVALID index the next
# run drops and builds again), with and without the state file; a plain
# apply --online then finishes the job, and the result equals an
# uninterrupted run: the whole schema (migrate's too), row counts, every row filled, history.
. "$(dirname "$0")/lib.sh"

orders=20000

# shop_at_version_1: a new database with the shop's tables and data.
shop_at_version_1()
{
	new_db
	expect_exit 0 mg --dir migrations apply --to 1
	load_shop_data "$orders"
}

# sessions WHERE: how many sessions of the test's database match WHERE.
sessions()
{
	sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND $1"
}
no_migrate_session()
{
	[ "$(sessions "application_name = 'migrate'")" = 0 ]
}
writer_active()
{
	[ "$(sessions "application_name = 'it_writer' AND state = 'active'")" = 1 ]
}

# outcome: what must not differ from an uninterrupted run.
outcome()
{
	schema_snapshot --all
	sql "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders),
		(SELECT count(*) FROM order_items), (SELECT count(*) FROM orders WHERE total_cents IS NULL)"
	sql "SELECT string_agg(version || ' ' || status, ', ' ORDER BY version) FROM public.schema_migrations"
}

# resume_and_compare WHAT: the next plain apply --online finishes, and the
# outcome is the uninterrupted one.
resume_and_compare()
{
	# The killed run's session ends once its server notices (the run lock
	# goes with it); until then a new run is told another one is running.
	wait_until 30 no_migrate_session || fail "the killed run's session lingers"
	expect_exit 0 mg --dir migrations apply --online
	assert_shop_data_complete
	assert_eq "$reference" "$(outcome)" "outcome after kill -9 $1"
	expect_exit 0 mg --dir migrations --format json status
	assert_eq true "$(json 'all(m["status"] == "completed" for m in d["migrations"])')" \
		"status after kill -9 $1"
}

# kill_at PATTERN: apply --online (JSON events) killed with SIGKILL as soon
# as an event matches PATTERN (an extended regular expression).
kill_at()
{
	local pid

	mg --dir migrations apply --online --format json >"$TMP/events" 2>&1 &
	pid=$!
	wait_until 120 grep -Eq "$1" "$TMP/events" || fail "no event matched /$1/"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
}

shop_at_version_1
expect_exit 0 mg --dir migrations apply --online
reference=$(outcome) || fail "outcome failed"

# During DDL: as the constraints of 0004 start to be added; state kept.
shop_at_version_1
kill_at '"event":"step_started","version":4,'
resume_and_compare "during DDL"

# During a backfill (0005's totals); the state file lost too.
shop_at_version_1
kill_at '"event":"progress","version":5,'
rm -f "$STATE"
resume_and_compare "during a backfill, state file lost"

# kill_during_index_build ROW: from version 2, a writer's open transaction
# (it updates order ROW) holds 0003's concurrent build in its wait; migrate
# is killed and its backend terminated, as a crash of the machine would,
# which leaves the index INVALID.
kill_during_index_build()
{
	local migrate_pid builder=

	expect_exit 0 mg --dir migrations apply --online --to 2
	PGAPPNAME=it_writer psql -XAtq -d "$DB_URL" \
		-c "BEGIN; UPDATE orders SET note = note WHERE id = $1; SELECT pg_sleep(60); COMMIT" \
		>/dev/null 2>&1 &
	wait_until 10 writer_active || fail "the writer did not start"
	mg --dir migrations apply --online --format json >"$TMP/events" 2>&1 &
	migrate_pid=$!
	building()
	{
		builder=$(sql "SELECT pid FROM pg_stat_progress_create_index WHERE datname = current_database() AND phase LIKE 'waiting%'")
		[ -n "$builder" ]
	}
	wait_until 60 building || fail "no index build waited for the writer"
	kill -KILL "$migrate_pid"
	wait "$migrate_pid" 2>/dev/null || true
	sql "SELECT pg_terminate_backend($builder)" >/dev/null
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'it_writer'" >/dev/null
	wait_until 10 no_migrate_session || fail "the index build's backend did not end"
	assert_eq 1 "$(sql "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" \
		"the killed build left an INVALID index"
}

# During a concurrent index build, state kept; then again, state lost.
shop_at_version_1
kill_during_index_build 1
resume_and_compare "during an index build"

shop_at_version_1
kill_during_index_build 2
rm -f "$STATE"
resume_and_compare "during an index build, state file lost"
