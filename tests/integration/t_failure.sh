#!/usr/bin/env bash
# A step that fails: exit 1, the message names migration and step; in
# plain mode nothing of the migration remains; history and status say
# failed; a fixed file then applies.
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_keep.yaml <<'YAML'
operations:
  - create_table:
      name: keep_me
      columns: [{ name: id, type: integer, primary_key: true }]
YAML
write_migration 0002_breaks.yaml <<'YAML'
operations:
  - create_table:
      name: half_done
      columns: [{ name: id, type: integer, primary_key: true }]
  - sql:
      up: SELECT 1/0
      down: SELECT 1
YAML

expect_exit 1 mg --dir "$MIGDIR" apply
assert_contains "$ERR" "0002_breaks" "the message names the migration"
# Step ids are <version>.<operation>.<n>, counted from 1.
assert_match "$ERR" '(^|[^0-9.])2\.2\.[0-9]+([^0-9.]|$)' "the message names the step"
assert_contains "$ERR" "division by zero" "the message gives the server's reason"
assert_eq 1 "$(grep -c '^migrate: ' <<<"$ERR")" "one error line"

table_exists keep_me || fail "0001 was undone"
table_exists half_done && fail "the first operation of 0002 remains"
assert_eq "1 completed" "$(sql "SELECT version || ' ' || status FROM public.schema_migrations WHERE version = 1")"
assert_eq "failed|t" "$(sql "SELECT status, error_message LIKE '%division by zero%'
	FROM public.schema_migrations WHERE version = 2")" "history of 0002"

capture mg --dir "$MIGDIR" status
assert_match "$OUT" '0*2[_ ]+breaks +failed' "status text"
capture mg --dir "$MIGDIR" --format json status
assert_eq '["completed", "failed"]' "$(json '[m["status"] for m in d["migrations"]]')" "status json"
assert_eq true "$(json '"division by zero" in d["migrations"][1]["error"]')" "status json error"

# Fixed, it applies.
sed -i 's|SELECT 1/0|SELECT 1|' "$MIGDIR/0002_breaks.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply
table_exists half_done || fail "0002 did not apply once fixed"
assert_eq "completed" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 2")"
