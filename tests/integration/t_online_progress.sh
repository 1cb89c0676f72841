#!/usr/bin/env bash
# A concurrent index build reports its progress (elapsed, and the phase and
# blocks of pg_stat_progress_create_index): one live line on a terminal,
# JSON events with --format json.  SIGINT / SIGTERM during the build cancel
# it: exit 130 / 143, the journal says interrupted, the migration is not
# completed, and the next apply --online drops the INVALID index the
# cancelled build left and builds it again.
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_events.yaml <<'YAML'
operations:
  - create_table:
      name: events
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: kind, type: integer, nullable: false }
YAML
write_migration 0002_kind_index.yaml <<'YAML'
operations:
  - create_index: { table: events, name: events_kind_idx, columns: [kind] }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
sql "INSERT INTO events SELECT i, i % 10 FROM generate_series(1, 20000) AS i"

# hold_writes SECONDS: an open transaction that wrote to events; a
# concurrent build waits for it ("waiting for writers before build").
hold_writes()
{
	PGAPPNAME=it_writer psql -XAtq -d "$DB_URL" \
		-c "BEGIN; UPDATE events SET kind = kind WHERE id = 1; SELECT pg_sleep($1); COMMIT" \
		>/dev/null 2>&1 &
	wait_until 10 writer_active || fail "the writer did not start"
}
writer_active()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'it_writer' AND state = 'active'")" = 1 ]
}
end_writes()
{
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'it_writer'" >/dev/null
}
building()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_progress_create_index
		WHERE datname = current_database()")" = 1 ]
}
invalid_indexes()
{
	sql "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
}

# JSON: the build, held up for 5 s, says so about once a second.
hold_writes 5
expect_exit 0 mg --dir "$MIGDIR" apply --online --format json
progress=$(json_lines '[e for e in d if e["event"] == "progress"]')
[ "$(json 'len(d)' "$progress")" -ge 2 ] || fail "fewer than two progress events: $OUT"
assert_eq true "$(json 'all(e["version"] == 2 and isinstance(e["elapsed_ms"], int)
	and isinstance(e["blocks_done"], int) and isinstance(e["blocks_total"], int) for e in d)' "$progress")" \
	"progress events"
assert_eq true "$(json 'any(e["phase"].startswith("waiting for writers") for e in d)' "$progress")" \
	"the phase of the held-up build"
assert_eq 0 "$(invalid_indexes)" "invalid indexes"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1

# A terminal: one live line, rewritten in place, with no escape code (NO_COLOR).
hold_writes 4
expect_exit 0 env NO_COLOR=1 script -qec "$MIGRATE -d '$DB_URL' --state '$STATE' --dir '$MIGDIR' apply --online" /dev/null
assert_match "$OUT" $'\r.*concurrently: [0-9]+s, [a-z]' "the live line of the build"
assert_not_contains "$OUT" $'\033' "no escape code with NO_COLOR"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1

# interrupt SIGNAL STATUS: the signal while the build waits.
interrupt()
{
	local pid rc=0

	hold_writes 60
	# Not through a function: the signal must reach migrate itself.
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online \
		>"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_until 30 building || fail "the build did not start"
	kill -"$1" "$pid"
	wait "$pid" || rc=$?
	assert_eq "$2" "$rc" "exit status after SIG$1"
	assert_contains "$(cat "$TMP/err")" "interrupted by SIG$1" "the message after SIG$1"
	building && fail "the build goes on after SIG$1"
	assert_eq interrupted "$(python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT status FROM steps WHERE version = 2 ORDER BY id DESC LIMIT 1").fetchone()[0])
' "$STATE")" "the journal after SIG$1"
	assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations
		WHERE version = 2 AND status = 'completed'")" "history after SIG$1"
	assert_eq 1 "$(invalid_indexes)" "the cancelled build's INVALID index"
	end_writes
	expect_exit 0 mg --dir "$MIGDIR" apply --online
	assert_eq 0 "$(invalid_indexes)" "invalid indexes after resuming"
	assert_eq t "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_kind_idx'::regclass")" \
		"the index after resuming"
	expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
}
interrupt INT 130
interrupt TERM 143
