#!/usr/bin/env bash
# A backfill never writes identity or generated columns: it leaves them to
# the server, and one whose `set` or `down` names them is refused before
# anything runs.  Rolling back a backfill of an existing column puts every
# old value back (saved in migrate's schema); with a `down`, the down
# expression is used instead and nothing is saved.
. "$(dirname "$0")/lib.sh"
new_db

rows=3000
sql "CREATE TABLE readings (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		v int,
		doubled int GENERATED ALWAYS AS (v * 2) STORED);
	INSERT INTO readings (v)
		SELECT CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 37) % 1001 END
		FROM generate_series(1, $rows) g;
	ANALYZE readings" >/dev/null

fingerprint()
{
	sql "SELECT md5(string_agg(id || ':' || coalesce(v::text, 'null') || ':' ||
		coalesce(doubled::text, 'null'), ',' ORDER BY id)) FROM readings"
}
before=$(fingerprint)

# Refused: the generated column, then the identity column, in set or down.
write_migration 0001_bad.yaml <<'YAML'
operations:
  - backfill: {table: readings, set: {doubled: "0"}}
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" 'column "doubled" of readings is a generated column'
assert_contains "$ERR" "0001_bad.yaml:2"
write_migration 0001_bad.yaml <<'YAML'
operations:
  - backfill: {table: readings, set: {v: "1"}, down: {id: "id"}}
YAML
expect_exit 2 mg --dir "$MIGDIR" plan --online
assert_contains "$ERR" 'column "id" of readings is an identity column'
assert_eq "$before" "$(fingerprint)" "a refused backfill changed nothing"
rm "$MIGDIR/0001_bad.yaml"

# Without down: the old values are saved, and rollback restores them all.
write_migration 0001_fill.yaml <<'YAML'
operations:
  - backfill: {table: readings, set: {v: "id % 5"}, batch_size: 250}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online --format json
assert_eq "$rows" "$(sql "SELECT count(*) FROM readings WHERE v = id % 5 AND doubled = v * 2")" \
	"filled, and the generated column recomputed by the server"
assert_eq 12 "$(json_lines 'len([e for e in d if e["event"] == "progress"])')" "batches of 250 rows"
assert_eq '["batch_size", "eta_s", "rows_done", "rows_per_sec", "rows_total", "throttled"]' \
	"$(json_lines 'sorted(set(k for e in d if e["event"] == "progress" for k in e)
		- {"event", "version", "name", "step", "summary"})')" "progress event fields"
assert_eq "[250, $rows, 250, false]" \
	"$(json_lines '[[e["rows_done"], e["rows_total"], e["batch_size"], e["throttled"]]
		for e in d if e["event"] == "progress"][0]')" "the first progress event"
sql "INSERT INTO readings (v) VALUES (42)" >/dev/null
assert_eq $((rows + 1)) "$(sql "SELECT max(id) FROM readings")" "the identity's sequence untouched"
sql "DELETE FROM readings WHERE id = $((rows + 1))" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(fingerprint)" "rollback restored every old value, NULLs included"
assert_eq "" "$(sql "SELECT string_agg(tablename, ' ') FROM pg_tables WHERE schemaname = 'migrate'
	AND tablename NOT IN ('saved_objects', 'backfill_cursors', 'ledger_runs', 'ledger_steps', 'ledger_objects')")" "rollback dropped the saved values"

# With down: the down expression undoes it, and nothing is saved.
rm "$MIGDIR/0001_fill.yaml"
write_migration 0002_shift.yaml <<'YAML'
operations:
  - backfill: {table: readings, set: {v: v + 1000}, down: {v: v - 1000}, where: v IS NOT NULL}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 0 "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'migrate'
	AND tablename NOT IN ('saved_objects', 'backfill_cursors', 'ledger_runs', 'ledger_steps', 'ledger_objects')")" "a backfill with down saves nothing"
assert_eq 0 "$(sql "SELECT count(*) FROM readings WHERE v < 1000")" "shifted"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(fingerprint)" "down restored every value"
