#!/usr/bin/env bash
# The cheapest safe technique (docs/design.md): an existing table that is
# empty when apply --online plans gets the plain statements (no concurrent
# build, no NOT VALID/VALIDATE, no shadow column), in short transactions,
# and plan shows the steps apply runs.
#
# - plan --online says why ("empty table: plain statements"), and apply
#   journals exactly those steps; the schema is the one the online steps
#   give a table with rows (once finalized); rollback gives back the schema
#   exactly.
# - The application writes into the "empty" table while apply runs (rows
#   arriving between the plan and the steps): none of its transactions
#   fails and every row it wrote is there, correct, after.
# - A table an earlier pending migration creates: plan --online shows the
#   plain steps apply then runs for a later migration on it.
# - The choice is recorded: rows arriving after apply do not change what
#   rollback undoes.
. "$(dirname "$0")/lib.sh"

create_items()
{
	sql "CREATE SEQUENCE item_ids;
		CREATE TABLE items (id bigint PRIMARY KEY, name varchar(50), qty integer, code text)" \
		>/dev/null
}

# (A type change that rewrites, int to bigint, is left to the workload case
# below: online, its shadow column comes last in the column order, so the
# schemas could not compare equal.)
write_migration 0001_items.yaml <<'YAML'
operations:
  - create_index: {table: items, name: items_name_idx, columns: [name]}
  - add_constraint: {table: items, name: items_qty_positive, check: "qty > 0"}
  - alter_column: {table: items, column: name, type: varchar(100)}
  - alter_column: {table: items, column: qty, nullable: false}
  - add_column:
      table: items
      column: {name: note, type: text, default: "'none'", nullable: false}
YAML

# journal_steps VERSION: the forward steps apply ran of VERSION, "id summary" a line.
journal_steps()
{
	python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for sid, summary in db.execute("SELECT step_id, summary FROM steps WHERE version = ? "
		"AND NOT rollback AND status = ? ORDER BY id", (int(sys.argv[2]), "completed")):
	print(sid, summary)
' "$STATE" "$1" || fail "reading the journal"
}

# plan_steps VERSION: the steps plan --format json ($OUT) shows of VERSION, the same way.
plan_steps()
{
	json '"\n".join(s["id"] + " " + s["summary"] for m in d["migrations"]
		if m["version"] == '"$1"' for s in m["steps"])'
}

# ---- an empty table: plan, apply, journal, rollback ----
new_db
create_items
before=$(schema_snapshot)
expect_exit 0 mg --dir "$MIGDIR" plan --online --format json
planned=$(plan_steps 1)
assert_eq '[]' "$(json '[s["id"] for m in d["migrations"] for s in m["steps"]
	if s["kind"] == "concurrent" or "VALIDATE" in " ".join(s["sql"]) or "NOT VALID" in " ".join(s["sql"])
	or "migrate_new" in " ".join(s["sql"]) or s["kind"] == "backfill"]')" \
	"online steps in the plan of an empty table"
assert_eq '["empty table: plain statements"]' \
	"$(json 'sorted({s["why_plain"] for m in d["migrations"] for s in m["steps"] if s["why_plain"]})')" \
	"why the plan is plain"
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "(empty table: plain statements)" "the text plan says why"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "$planned" "$(journal_steps 1)" "apply ran the steps plan showed"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")" "sync triggers"
plain_schema=$(schema_snapshot)
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "$plain_schema" "$(schema_snapshot)" "finalize has nothing to do"
# rows arriving after apply do not change what rollback undoes: the choice is recorded
sql "INSERT INTO items SELECT g, 'n' || g, g, 'c' || g FROM generate_series(1, 3000) g" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
sql "DELETE FROM items" >/dev/null
assert_eq "$before" "$(schema_snapshot)" "rollback gives back the schema"
assert_eq 0 "$(sql "SELECT count(*) FROM migrate.saved_objects WHERE version = 1")" \
	"the recorded choice is forgotten by rollback"

# ---- the same migration on a table with rows: the online steps, the same schema ----
online_db=$DB_URL
new_db
create_items
sql "INSERT INTO items SELECT g, 'n' || g, g, 'c' || g FROM generate_series(1, 3000) g" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" plan --online --format json
assert_eq null "$(json '[s["why_plain"] for m in d["migrations"] for s in m["steps"] if s["why_plain"]] or None')" \
	"a table with rows is not planned plainly"
assert_contains "$(json '[s["kind"] for m in d["migrations"] for s in m["steps"]]')" concurrent \
	"a table with rows gets a concurrent build"
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
sql "DELETE FROM items" >/dev/null
assert_eq "$plain_schema" "$(schema_snapshot)" "plain on the empty table, online on the full one: one schema"
[ -n "$plain_schema" ] || fail "an empty schema snapshot"
: "$online_db"

# ---- the application writes into the empty table while apply runs ----
new_db
create_items
# the first operation waits, so that the rows arrive between the plan and the steps
rm -f "$MIGDIR"/*.yaml
write_migration 0001_items.yaml <<'YAML'
operations:
  - sql: {up: "SELECT pg_sleep(3)", down: "SELECT 1"}
  - create_index: {table: items, name: items_name_idx, columns: [name]}
  - add_constraint: {table: items, name: items_qty_positive, check: "qty > 0"}
  - alter_column: {table: items, column: qty, type: bigint, nullable: false}
  - add_column:
      table: items
      column: {name: note, type: text, default: "'none'", nullable: false}
YAML
cat >"$TMP/app.sql" <<'SQL'
INSERT INTO items (id, name, qty, code)
SELECT i, 'n' || i, i % 100 + 1, 'c' || i FROM (SELECT nextval('item_ids') AS i) AS s;
SELECT count(*) FROM items WHERE qty > 0;
SQL
sleeping()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()")" -gt 0 ]
}
mg --dir "$MIGDIR" apply --online >"$TMP/apply.out" 2>"$TMP/apply.err" &
apply_pid=$!
wait_until 30 sleeping || fail "the migration's first operation did not start"
WORKLOAD_SCRIPT=$TMP/app.sql
WORKLOAD_DEFINES=()
workload_start
rc=0
wait "$apply_pid" || rc=$?
sleep 1
workload_stop "apply --online on the empty table"
[ $rc -eq 0 ] || { cat "$TMP/apply.err" >&2; fail "apply exited $rc"; }
assert_eq '' "$(journal_steps 1 | grep -i 'concurrently\|not valid\|shadow\|validate' || true)" \
	"the journal shows online steps"
assert_contains "$(journal_steps 1)" "record the technique of \"items\"" "the journal's record step"
written=$(sql "SELECT last_value FROM item_ids")
[ "$written" -gt 0 ] || fail "the application wrote no row"
assert_eq "$written" "$(sql "SELECT count(*) FROM items")" "every row the application wrote is there"
assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE name IS DISTINCT FROM 'n' || id
	OR qty IS DISTINCT FROM id % 100 + 1 OR code IS DISTINCT FROM 'c' || id
	OR note IS DISTINCT FROM 'none'")" "rows the application wrote during apply"
assert_eq "bigint|t|t" "$(sql "SELECT format_type(atttypid, atttypmod), attnotnull,
	(SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_name_idx'::regclass)
	FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'qty'")" "the schema after"
echo "rows written by the application during apply: $written"

# ---- plan shows what apply runs: a table an earlier pending migration creates ----
new_db
rm -f "$MIGDIR"/*.yaml
write_migration 0001_events.yaml <<'YAML'
operations:
  - create_table:
      name: events
      columns:
        - {name: id, type: bigint, primary_key: true}
        - {name: kind, type: varchar(20)}
YAML
write_migration 0002_events_more.yaml <<'YAML'
operations:
  - create_index: {table: events, name: events_kind_idx, columns: [kind]}
  - alter_column: {table: events, column: kind, type: varchar(40), nullable: false}
  - add_constraint: {table: events, name: events_kind_known, check: "kind <> ''"}
YAML
expect_exit 0 mg --dir "$MIGDIR" plan --online --format json
planned=$(plan_steps 2)
assert_eq '[]' "$(json '[s["id"] for m in d["migrations"] for s in m["steps"]
	if s["kind"] == "concurrent" or "migrate_new" in " ".join(s["sql"])]')" \
	"online steps planned for a table an earlier migration creates"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "$planned" "$(journal_steps 2)" "plan and apply agree on the later migration"
[ -n "$planned" ] || fail "no steps planned"
# lint ran once for each plan that ran: nothing to say twice
assert_not_contains "$ERR" "unsafe" "apply's judgement"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
assert_eq 0 "$(sql "SELECT count(*) FROM pg_class WHERE relname = 'events'")" "rollback of the set"

# ---- NOT NULL proven by the table's valid CHECK: no check of migrate's own ----
new_db
rm -f "$MIGDIR"/*.yaml
sql "CREATE TABLE coded (id bigint PRIMARY KEY, code text,
		CONSTRAINT coded_code_present CHECK (code IS NOT NULL));
	INSERT INTO coded SELECT g, 'c' || g FROM generate_series(1, 2000) g" >/dev/null
write_migration 0001_code_not_null.yaml <<'YAML'
operations:
  - alter_column: {table: coded, column: code, nullable: false}
YAML
before=$(schema_snapshot)
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq '' "$(journal_steps 1 | grep migrate_nn || true)" "a check of migrate's own"
assert_contains "$(journal_steps 1)" "proved by the table's valid check" "the journal's SET NOT NULL"
assert_eq t "$(sql "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'coded'::regclass
	AND attname = 'code'")" "NOT NULL after apply"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
assert_eq "$before" "$(schema_snapshot)" "rollback of the proven NOT NULL"

check_helpers
echo "t_plan_empty: ok"
