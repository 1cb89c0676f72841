#!/usr/bin/env bash
# A migration with an sql step that has no down: plan says so, rollback
# refuses with exit 2 naming the file and the operation, and changes
# nothing, not even the migrations after it that could be undone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"
new_db

write_migration 0001_table.yaml <<'YAML'
operations:
  - create_table:
      name: kept
      columns: [{ name: id, type: integer, primary_key: true }]
YAML
write_migration 0002_one_way.yaml <<'YAML'
operations:
  - add_column:
      table: kept
      column: { name: label, type: text }
  - sql:
      up: INSERT INTO kept (id, label) VALUES (1, 'one')
YAML
write_migration 0003_index.yaml <<'YAML'
operations:
  - create_index: { table: kept, name: kept_label_idx, columns: [label] }
YAML

expect_exit 0 mg --dir "$MIGDIR" plan
assert_match "$OUT" 'irreversible' "plan marks the irreversible migration"
# Each step shows its undo; an online step's undo is online too.
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_match "$OUT" 'undo \[3\.1\.1\.r1\]' "plan shows the undo next to the step"
assert_contains "$OUT" 'DROP INDEX CONCURRENTLY IF EXISTS "kept_label_idx"' "the undo of an online index build"
expect_exit 0 mg --dir "$MIGDIR" apply
assert_match "$ERR" '^migrate: warning: .*0002_one_way.yaml:5: .*cannot be rolled back' \
	"apply warns before it starts"
assert_not_contains "$ERR" "0001_table" "apply warns of the irreversible one only"
before=$(db_snapshot) || fail "db_snapshot failed"
history=$(sql "SELECT string_agg(version || ' ' || status, ',' ORDER BY version) FROM public.schema_migrations")

for args in "--to 0" "--steps 2"; do
	# shellcheck disable=SC2086  # two words
	expect_exit 2 mg --dir "$MIGDIR" rollback $args
	# file:line of the operation (the sql: key is on line 5)
	assert_contains "$ERR" "0002_one_way.yaml:5:" "rollback $args names the file and line"
	assert_contains "$ERR" "sql" "rollback $args names the operation"
	assert_same_snapshot "$before" "rollback $args refused"
	assert_eq "$history" "$(sql "SELECT string_agg(version || ' ' || status, ',' ORDER BY version)
		FROM public.schema_migrations")" "rollback $args leaves the history"
done

# The one after it can go.
expect_exit 0 mg --dir "$MIGDIR" rollback --steps 1
assert_eq "" "$(sql "SELECT to_regclass('kept_label_idx')")" "0003 rolled back"
