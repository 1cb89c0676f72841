#!/usr/bin/env bash
# backfill_workers: N connections fill disjoint ranges of an integer key at
# once, each with its own cursor row in the database.  Every row is filled
# exactly once (n = n + 1), also when the run is killed and resumed without
# the state file; a rollback after a kill undoes exactly the rows the ranges
# got to (down), or puts the saved values back (no down); other keys are
# walked by one connection; bad values are refused (exit 2).
. "$(dirname "$0")/lib.sh"
new_db
export PGOPTIONS='-c client_min_messages=warning'

rows=60000
reset_table()
{
	sql "DROP TABLE IF EXISTS w_items; DROP SCHEMA IF EXISTS migrate CASCADE;
		DROP TABLE IF EXISTS schema_migrations;
		CREATE TABLE w_items (id bigint PRIMARY KEY, a int NOT NULL, n int NOT NULL);
		INSERT INTO w_items SELECT g * 3, g % 100, 0 FROM generate_series(1, $rows) g;
		ANALYZE w_items" >/dev/null
	rm -f "$STATE" "$MIGDIR"/*
}
count_n() { sql "SELECT count(*) FILTER (WHERE n = 0) || '|' || count(*) FILTER (WHERE n = 1) || '|' || count(*) FILTER (WHERE n > 1) FROM w_items"; }

# bad values
reset_table
write_migration 0001_w.yaml <<'YAML'
settings:
  backfill_workers: 0
operations:
  - backfill: {table: w_items, set: {n: n + 1}, down: {n: n - 1}}
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0001_w.yaml:2:" "a bad setting names its line"
for bad in 0 33 two; do
	expect_exit 2 mg --dir "$MIGDIR" apply --online --backfill-workers "$bad"
	assert_contains "$ERR" "--backfill-workers" "--backfill-workers $bad refused"
done

for variant in down nodown; do
	reset_table
	down=
	[ $variant = down ] && down=', down: {n: n - 1}'
	write_migration 0001_w.yaml <<YAML
operations:
  - backfill: {table: w_items, set: {n: n + 1}$down, batch_size: 1000, batch_delay: 40ms}
YAML
	# killed while both ranges run, then resumed without the state file
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online \
		--backfill-workers 2 >"$TMP/first.out" 2>&1 &
	pid=$!
	both_moving()
	{
		[ "$(sql_try "SELECT count(*) FROM migrate.backfill_cursors WHERE step LIKE '%#%' AND rows_done >= 2000" 2>/dev/null || echo 0)" = 2 ]
	}
	wait_until 60 both_moving || fail "$variant: two ranges never ran at once"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	done_rows=$(sql "SELECT sum(rows_done) FROM migrate.backfill_cursors WHERE step LIKE '%#%'")
	assert_eq "$((rows - done_rows))|$done_rows|0" "$(count_n)" "$variant: the ranges' cursors count exactly the rows committed"
	rm -f "$STATE"
	expect_exit 0 mg --dir "$MIGDIR" apply --online --backfill-workers 2 --format json
	assert_eq "0|$rows|0" "$(count_n)" "$variant: resumed, every row filled exactly once"
	assert_eq "t|$rows" "$(sql "SELECT finished, rows_done FROM migrate.backfill_cursors WHERE step NOT LIKE '%#%'")" \
		"$variant: the step finished with the rows of all its ranges"
	expect_exit 0 mg --dir "$MIGDIR" rollback
	assert_eq "$rows|0|0" "$(count_n)" "$variant: rollback exact"

	# killed again half way, then rolled back: only the rows the ranges got to
	rm -f "$STATE"
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online \
		--backfill-workers 2 >"$TMP/second.out" 2>&1 &
	pid=$!
	wait_until 60 both_moving || fail "$variant: two ranges never ran at once (again)"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	expect_exit 0 mg --dir "$MIGDIR" rollback
	assert_eq "$rows|0|0" "$(count_n)" "$variant: a half-done parallel backfill rolled back exactly"
done

# a composite key: one connection walks it, every row once
sql "CREATE TABLE w_two (x int, y int, n int NOT NULL, PRIMARY KEY (x, y));
	INSERT INTO w_two SELECT g % 10, g, 0 FROM generate_series(1, 5000) g" >/dev/null
write_migration 0002_two.yaml <<'YAML'
settings:
  backfill_workers: 4
operations:
  - backfill: {table: w_two, set: {n: n + 1}, down: {n: n - 1}, batch_size: 500}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "5000|1|1" "$(sql "SELECT count(*), min(n), max(n) FROM w_two")" "composite key: every row once"
echo ok
