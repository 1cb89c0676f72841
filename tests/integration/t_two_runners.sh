#!/usr/bin/env bash
# Only one runner at a time: while one applies, another exits 4 and names
# the session that holds the run lock; the first one finishes.
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_slow.yaml <<'YAML'
operations:
  - sql:
      up: SELECT pg_sleep(4)
      down: SELECT 1
YAML

mg --dir "$MIGDIR" apply >"$TMP/first.out" 2>"$TMP/first.err" &
first=$!

running()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(4)%'")" = 1 ]
}
wait_until 15 running || fail "the first runner never started its step"

holders=$(sql "SELECT string_agg(DISTINCT pid::text, ' ') FROM pg_locks
	WHERE locktype = 'advisory' AND granted
	  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
[ -n "$holders" ] || fail "the first runner holds no advisory lock"

# A runner on another machine: its own state file.
expect_exit 4 "$MIGRATE" -d "$DB_URL" --state "$TMP/other.db" --dir "$MIGDIR" apply
found=false
for pid in $holders; do
	case "$ERR" in *"$pid"*) found=true ;; esac
done
$found || fail "the message names none of the holders ($holders): $ERR"

# A second runner on the same machine, sharing the state file.
expect_exit 4 mg --dir "$MIGDIR" apply

rc=0
wait "$first" || rc=$?
assert_eq 0 "$rc" "the first runner's exit status ($(cat "$TMP/first.err"))"
assert_eq completed "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")"
