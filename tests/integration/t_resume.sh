#!/usr/bin/env bash
# An interrupted apply stops cleanly (SIGTERM: 143, SIGINT: 130), a killed
# one leaves nothing that blocks the next run, and the next apply finishes
# the work: every row filled, the migration completed.  The cursor it left
# in the state file belongs to its database alone.
. "$(dirname "$0")/lib.sh"
new_db

rows=20000
write_migration 0001_people.yaml <<'YAML'
operations:
  - create_table:
      name: people
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: email, type: text, nullable: false }
YAML
# Small batches with a pause: about four seconds of backfill to interrupt.
write_migration 0002_email_lower.yaml <<'YAML'
settings:
  batch_size: 100
  batch_delay: 20ms
operations:
  - add_column:
      table: people
      column: { name: email_lower, type: text, nullable: false }
      backfill: lower(email)
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
sql "INSERT INTO people SELECT i, 'Person' || i || '@Example.com' FROM generate_series(1, $rows) AS i"

# Rows with email_lower set; 0 while the column does not exist.
filled()
{
	sql "SELECT count(*) FROM people AS p WHERE to_jsonb(p) ->> 'email_lower' IS NOT NULL"
}

# interrupt SIGNAL STATUS: apply --online, stopped by SIGNAL after 1.5 s,
# exits STATUS, having done some but not all of the backfill.
interrupt()
{
	local before after

	before=$(filled)
	expect_exit "$2" timeout --preserve-status -s "$1" 1.5 \
		"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online
	after=$(filled)
	[ "$after" -lt "$rows" ] || fail "the backfill ended before SIG$1; make it slower"
	[ "$after" -gt "$before" ] || fail "no progress before SIG$1 ($before, then $after rows)"
	assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations WHERE version = 2 AND status = 'completed'")" \
		"history after SIG$1"
	# The run lock went with the session.
	assert_eq 0 "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" \
		"advisory locks after SIG$1"
}

interrupt TERM 143

# Another database, with the state file that holds the first one's cursor
# (staging, then production, from one checkout): it starts from its own
# first row.
first_url=$DB_URL
first_state=$STATE
new_db
expect_exit 0 "$MIGRATE" -d "$DB_URL" --state "$first_state" --dir "$MIGDIR" apply --to 1
sql "INSERT INTO people SELECT i, 'Person' || i || '@Example.com' FROM generate_series(1, $rows) AS i"
expect_exit 0 "$MIGRATE" -d "$DB_URL" --state "$first_state" --dir "$MIGDIR" apply --online
assert_eq "$rows" "$(filled)" "rows filled in the other database"
DB_URL=$first_url
STATE=$first_state

interrupt INT 130
# Not clean at all: the next run must cope.
interrupt KILL 137

expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "$rows" "$(filled)" "rows filled after resuming"
assert_eq 0 "$(sql "SELECT count(*) FROM people WHERE email_lower <> lower(email)")" "values"
assert_eq NO "$(sql "SELECT is_nullable FROM information_schema.columns
	WHERE table_name = 'people' AND column_name = 'email_lower'")" "NOT NULL at the end"
assert_eq completed "$(sql "SELECT status FROM public.schema_migrations WHERE version = 2")"
