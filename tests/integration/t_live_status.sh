#!/usr/bin/env bash
# status from another machine (its own state file, no journal of the run)
# while apply --online runs a backfill: the current step and rows done /
# total, rate and ETA, read from the database; after Ctrl-C it says
# interrupted, not failed; the resumed run fills every row.  The same for a
# plain apply, whose one transaction hides its writes from everyone else:
# status still shows the step it is at and for how long.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE big (id bigserial PRIMARY KEY, email text NOT NULL);
	INSERT INTO big (email) SELECT 'U' || g || '@x' FROM generate_series(1, 300000) g; ANALYZE big"
write_migration 0001_norm.yaml <<'YAML'
settings: { batch_size: 2000, batch_delay: 40ms }
operations:
  - add_column:
      table: big
      column: { name: email_lower, type: text }
      backfill: lower(email)
YAML
elsewhere()
{
	"$MIGRATE" -d "$DB_URL" --state "$TMP/elsewhere.db" --dir "$MIGDIR" "$@"
}
rows_seen()
{
	capture elsewhere --format json status
	[ "$RC" = 0 ] && [ "$(json '(d["migrations"][0].get("current") or {}).get("rows_done") or 0')" -gt 0 ]
}

"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_until 60 rows_seen || fail "status never showed the backfill's rows"
assert_eq running "$(json 'd["migrations"][0]["status"]')" "status: running"
assert_match "$(json 'd["migrations"][0]["current"]["step"]')" '^1\.1\.[0-9]+$' "status: the step"
assert_contains "$(json 'd["migrations"][0]["current"]["summary"]')" "email_lower" "status: what the step does"
total=$(json 'd["migrations"][0]["current"]["rows_total"]')
[ "$total" -ge 290000 ] && [ "$total" -le 310000 ] || fail "status: rows_total $total, not about 300000"
[ "$(json 'd["migrations"][0]["current"]["rows_per_sec"]')" -gt 0 ] || fail "status: no rate"
[ "$(json 'd["migrations"][0]["current"]["eta_s"]')" -ge 0 ] || fail "status: no ETA"
capture elsewhere status
assert_match "$OUT" '^    at step 1\.1\.[0-9]+: .*email_lower' "status text: the step"
assert_match "$OUT" '^    [0-9]+ / [0-9]+ rows \([0-9]+%\), [0-9]+ rows/s, ETA [0-9]+ s' "status text: progress"

# Ctrl-C: interrupted, told apart from a failure.
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq 130 "$rc" "apply after SIGINT"
capture elsewhere --format json status
assert_eq '["failed", true]' "$(json '[d["migrations"][0]["status"], d["migrations"][0]["interrupted"]]')" \
	"status json after Ctrl-C"
capture elsewhere status
assert_match "$OUT" '0001_norm +interrupted' "status text after Ctrl-C"
sql "INSERT INTO big (email) VALUES ('App@x'); UPDATE big SET email = email WHERE id = 2" >/dev/null ||
	fail "the application's writes fail after the interrupt"

# Resumed: every row filled, the current step cleared with the run.
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 0 "$(sql "SELECT count(*) FROM big WHERE email_lower IS DISTINCT FROM lower(email)")" "every row filled"
capture elsewhere --format json status
assert_eq '["completed", null]' "$(json '[d["migrations"][0]["status"], d["migrations"][0].get("current")]')" \
	"status after the resumed run"

# A plain apply: one transaction; status from elsewhere sees the current
# step (noted on the run lock's connection, in autocommit) and its time.
write_migration 0002_plain.yaml <<'YAML'
operations:
  - add_column:
      table: big
      column: { name: note, type: text }
  - sql:
      up: SELECT pg_sleep(60)
      down: SELECT 1
YAML
plain_step_seen()
{
	capture elsewhere --format json status
	[ "$RC" = 0 ] && [ "$(json '((d["migrations"][1].get("current") or {}).get("elapsed_ms") or 0) >= 1000 and (d["migrations"][1].get("current") or {}).get("step", "").startswith("2.2.")')" = true ]
}
"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --plain >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_until 60 plain_step_seen || fail "status never showed the plain apply's second step for a second"
assert_eq running "$(json 'd["migrations"][1]["status"]')" "plain: status running"
assert_eq false "$(json 'd["migrations"][1]["interrupted"]')" "plain: running is not interrupted"
assert_contains "$(json 'd["migrations"][1]["current"]["summary"]')" "pg_sleep" "plain: what the step does"
capture elsewhere status
assert_match "$OUT" '^    at step 2\.2\.[0-9]+: .*\(for [0-9]+ s\)' "plain status text: the step and its time"
# its first step is not visible: still in the open transaction
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'note'")" \
	"plain: the first step's column is not visible to others yet"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq 130 "$rc" "plain apply after SIGINT"
capture elsewhere --format json status
assert_eq '["failed", true, null]' "$(json '[d["migrations"][1]["status"], d["migrations"][1]["interrupted"], d["migrations"][1].get("current")]')" \
	"plain: status json after Ctrl-C"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'note'")" \
	"plain: the interrupted transaction left nothing"
sql "INSERT INTO big (email) VALUES ('App2@x'); UPDATE big SET email = email WHERE id = 3" >/dev/null ||
	fail "the application's writes fail after the plain interrupt"
# a failure of its own is failed, not interrupted
sed -i 's/SELECT pg_sleep(60)/SELECT 1\/0/' "$MIGDIR/0002_plain.yaml"
expect_exit 1 mg --dir "$MIGDIR" apply --plain
capture elsewhere --format json status
assert_eq '["failed", false]' "$(json '[d["migrations"][1]["status"], d["migrations"][1]["interrupted"]]')" \
	"plain: a failure is not an interrupt"
sed -i 's/SELECT 1\/0/SELECT 1/' "$MIGDIR/0002_plain.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --plain
capture elsewhere --format json status
assert_eq '["completed", null]' "$(json '[d["migrations"][1]["status"], d["migrations"][1].get("current")]')" \
	"plain: status after the rerun"
assert_eq 1 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'note'")" \
	"plain: the rerun added the column"
