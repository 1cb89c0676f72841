#!/usr/bin/env bash
# t_partition_table.sh: partition_table on a table of 300k rows while an
# application inserts, updates (moving rows between partitions) and deletes,
# each write applied also to a control table in the same transaction: no
# application transaction fails, the partitioned table equals the control
# table row for row after apply, and again after a rollback under the same
# traffic; then kill -9 during the copy and during the check, resumed with
# and without the state file; finalize drops the old table.
. "$(dirname "$0")/lib.sh"

new_db
ROWS=${PT_ROWS:-300000}
sql "CREATE TABLE events (id bigserial PRIMARY KEY, created_at date NOT NULL DEFAULT current_date,
		kind text NOT NULL CHECK (kind <> ''), n integer GENERATED ALWAYS AS IDENTITY, payload text);
	CREATE INDEX events_kind ON events (kind);
	COMMENT ON TABLE events IS 'what happened';
	CREATE VIEW recent_events AS SELECT id, kind FROM events WHERE created_at >= '2026-03-01';
	INSERT INTO events (created_at, kind, payload)
		SELECT '2026-01-01'::date + (i % 90), 'k' || (i % 7), md5(i::text) FROM generate_series(1, $ROWS) i;
	CREATE TABLE control AS SELECT * FROM events;
	ALTER TABLE control ADD PRIMARY KEY (id);
	ANALYZE events" >/dev/null

# the application: each write to events also to control, in one transaction.
# Each client touches rows of its own (ids of its parity): on a partitioned
# table PostgreSQL fails a delete of a row that another transaction's update
# is moving to another partition (a serialization failure an application
# would retry), so the clients must not race each other for one row; they
# race migrate's trigger, copy, check and swap, which is what is tested.
cat >"$TMP/app.sql" <<'EOS'
\set day random(0, 89)
\set id 2 * random(0, 149999) + 1 + :client_id
\set gone 2 * random(0, 149999) + 1 + :client_id
BEGIN;
INSERT INTO events (created_at, kind, payload) VALUES ('2026-01-01'::date + :day, 'app', 'new') RETURNING id AS new_id \gset
INSERT INTO control SELECT * FROM events WHERE id = :new_id;
UPDATE events SET created_at = '2026-01-01'::date + :day, payload = coalesce(payload, '') || 'u' WHERE id = :id;
UPDATE control SET created_at = '2026-01-01'::date + :day, payload = coalesce(payload, '') || 'u' WHERE id = :id;
DELETE FROM events WHERE id = :gone;
DELETE FROM control WHERE id = :gone;
COMMIT;
EOS

app_start()
{
	rm -f "$TMP/app.stop" "$TMP"/app.*.log
	(
		round=0
		while [ ! -e "$TMP/app.stop" ]; do
			round=$((round + 1))
			pgbench -n -c 2 -T 2 --verbose-errors -f "$TMP/app.sql" "$DB_NAME" \
				>"$TMP/app.$round.log" 2>&1 || echo "pgbench exit status $?" >>"$TMP/app.$round.log"
		done
	) &
	APP_PID=$!
}

app_stop()
{
	local log rounds=0 txs=0 n

	touch "$TMP/app.stop"
	wait "$APP_PID"
	for log in "$TMP"/app.*.log; do
		rounds=$((rounds + 1))
		if grep -Eq 'aborted|pgbench exit status|ERROR' "$log" ||
			! grep -q 'number of failed transactions: 0 ' "$log"; then
			cat "$log" >&2
			fail "an application transaction failed during $1 ($(basename "$log"))"
		fi
		n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
		txs=$((txs + ${n:-0}))
	done
	[ "$txs" -gt 0 ] || fail "the application did not run during $1"
	echo "application during $1: $txs transactions in $rounds rounds, 0 failed"
}

# the table equals control, row for row
assert_same_rows()
{
	local got

	# one statement, so one snapshot of both while the application writes
	got=$(sql "SELECT (SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL SELECT * FROM control) x)
		|| ' ' || (SELECT count(*) FROM (SELECT * FROM control EXCEPT ALL SELECT * FROM events) y)
		|| ' ' || ((SELECT count(*) FROM events) = (SELECT count(*) FROM control))")
	assert_eq "0 0 true" "$got" "events and control differ $1"
}

write_migration 0001_partition_events.yaml <<'EOF2'
operations:
  - partition_table:
      table: events
      by: {range: created_at}
      every: 1 month
      from: 2026-01-01
      to: 2026-04-01
      default: true
EOF2

capture mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "the primary key (\"id\") of \"events\" becomes (\"id\", \"created_at\")"
assert_match "$OUT" "space: table [0-9.]+ MB \\+ indexes [0-9.]+ MB = [0-9.]+ MB more; keep [0-9.]+ MB \\(2.5 times\\) free"
assert_contains "$OUT" "lock: ACCESS EXCLUSIVE on events, in transaction"

app_start
sleep 1
t0=$SECONDS
mg --dir "$MIGDIR" apply --online --batch-size 5000 >"$TMP/apply.log" 2>&1 || { cat "$TMP/apply.log"; fail "apply"; }
echo "apply --online of partition_table: $((SECONDS - t0)) s"
sleep 1
app_stop "apply --online"
assert_eq p "$(sql "SELECT relkind FROM pg_class WHERE oid = 'events'::regclass")" "events is partitioned"
assert_eq "events_2026_01 events_2026_02 events_2026_03 events_default" \
	"$(sql "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass")"
assert_same_rows "after apply"
assert_eq "events_kind events_pkey" "$(sql "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_index i
	JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'events'::regclass")" "the new table has the old index names"
assert_eq 0 "$(sql "SELECT count(*) FROM (SELECT * FROM events_unpartitioned EXCEPT ALL SELECT * FROM events) x")" \
	"the old table is kept in step"
# the view follows, the sequence belongs to the new table, identity goes on
assert_contains "$(sql "SELECT pg_get_viewdef('recent_events')")" "FROM events"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_depend d WHERE d.objid = 'events_id_seq'::regclass
	AND d.refobjid <> 'events'::regclass AND d.deptype = 'a'")" "the sequence is owned by the new table"
assert_eq "what happened" "$(sql "SELECT obj_description('events'::regclass, 'pg_class')")"
sql "INSERT INTO events (created_at, kind) VALUES ('2026-02-02', 'after')" >/dev/null
assert_eq 1 "$(sql "SELECT count(*) FROM events_unpartitioned WHERE kind = 'after'")"
sql "DELETE FROM events WHERE kind = 'after'" >/dev/null

# rollback under the same traffic: every write made since is kept
app_start
sleep 1
mg --dir "$MIGDIR" rollback >"$TMP/rollback.log" 2>&1 || { cat "$TMP/rollback.log"; fail "rollback"; }
sleep 1
app_stop "rollback"
assert_eq r "$(sql "SELECT relkind FROM pg_class WHERE oid = 'events'::regclass")" "events is a plain table again"
assert_eq "" "$(sql "SELECT coalesce(to_regclass('events_partitioned')::text, '') || coalesce(to_regclass('events_unpartitioned')::text, '')")"
assert_same_rows "after rollback"
assert_eq "events_kind events_pkey" "$(sql "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_index i
	JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'events'::regclass")" "the old table has its index names back"

no_migrate_session()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'migrate'")" = 0 ]
}

# kill_when PID PATTERN: kill -9 of the run PID (its events in
# $TMP/killed.log) once an event matches PATTERN; as a crash of the machine,
# its backend goes too (a CALL would run on).
kill_when()
{
	wait_until 60 grep -Eq "$2" "$TMP/killed.log" || fail "no event matched /$2/"
	kill -9 "$1"
	wait "$1" 2>/dev/null || true
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'migrate'" >/dev/null
	wait_until 30 no_migrate_session ||
		fail "the killed run's session stayed: $(sql "SELECT pid, state, left(query, 80)
			FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'migrate'")"
}

# kill -9 during the copy, then during the check: resumed with and without the state file
kill_during()
{
	local pattern=$1 state_file=$2 pid step=$1

	mg --dir "$MIGDIR" apply --online --batch-size 1000 --batch-delay 20ms >"$TMP/killed.log" 2>&1 &
	pid=$!
	kill_when "$pid" "$pattern"
	[ "$state_file" = keep ] || rm -f "$STATE"
	mg --dir "$MIGDIR" apply --online --batch-size 5000 >"$TMP/resumed.log" 2>&1 ||
		{ cat "$TMP/resumed.log"; fail "resume after kill -9 at $step"; }
	assert_same_rows "after kill -9 at step $step and resume"
}
app_start
kill_during '"event":"progress".*"step":"1.1.5"' keep
mg --dir "$MIGDIR" rollback >/dev/null 2>&1 || fail "rollback after the resumed apply"
kill_during '"event":"progress".*"step":"1.1.5"' drop
mg --dir "$MIGDIR" rollback >/dev/null 2>&1 || fail "rollback after the resumed apply"
kill_during '"step_started".*"step":"1.1.6"' drop
# kill -9 during the rollback, resumed without the state file
mg --dir "$MIGDIR" rollback --format json >"$TMP/killed.log" 2>&1 &
kill_when $! '"step_started"'
rm -f "$STATE"
mg --dir "$MIGDIR" rollback >"$TMP/resumed.log" 2>&1 || { cat "$TMP/resumed.log"; fail "resumed rollback"; }
assert_eq r "$(sql "SELECT relkind FROM pg_class WHERE oid = 'events'::regclass")" "rolled back after the kill"
assert_same_rows "after a killed and resumed rollback"
mg --dir "$MIGDIR" apply --online >"$TMP/resumed.log" 2>&1 || { cat "$TMP/resumed.log"; fail "apply again"; }
app_stop "the killed and resumed runs"
assert_same_rows "after the kills"
grep -q '"step":"1.1.5"' "$TMP/resumed.log" || true

# finalize: the old table goes
mg --dir "$MIGDIR" finalize --yes >/dev/null || fail "finalize"
assert_eq "" "$(sql "SELECT coalesce(to_regclass('events_unpartitioned')::text, '')")"
assert_same_rows "after finalize"
echo ok
