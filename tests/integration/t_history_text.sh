#!/usr/bin/env bash
# The history table keeps each migration's file text: rollback and status
# work when the file is gone or has changed; forget removes the record of a
# failed migration with nothing left applied (and refuses one that has);
# finalize is recorded, status shows it, and a second finalize asks nothing.
. "$(dirname "$0")/lib.sh"
new_db

app_writes()
{
	sql "INSERT INTO items (name) VALUES ('app-$1'); UPDATE items SET name = name WHERE id = 1" \
		>/dev/null || fail "the application's writes fail after $1"
}

write_migration 0001_items.yaml <<'YAML'
operations:
  - create_table:
      name: items
      columns:
        - { name: id, type: bigserial, primary_key: true }
        - { name: name, type: text, nullable: false }
        - { name: legacy, type: text }
YAML
write_migration 0002_label.yaml <<'YAML'
operations:
  - add_column:
      table: items
      column: { name: label, type: text }
      backfill: upper(name)
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 1
sql "INSERT INTO items (name) SELECT 'n' || g FROM generate_series(1, 300) g"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq t "$(sql "SELECT source LIKE '%backfill: upper(name)%' FROM public.schema_migrations WHERE version = 2")" \
	"the file's text is kept"

# status: applied online, not finalized
expect_exit 0 mg --dir "$MIGDIR" --format json status
assert_eq '[false, false]' "$(json '[m["finalized"] for m in d["migrations"]]')" "not finalized yet"
assert_eq '[true, true]' "$(json '[m["text_kept"] for m in d["migrations"]]')" "text kept"
expect_exit 0 mg --dir "$MIGDIR" status
assert_match "$OUT" '0002_label +completed .* not finalized' "status text: not finalized"

# The file changes: apply says drift; rollback undoes what was applied.
sed -i 's/upper(name)/lower(name)/' "$MIGDIR/0002_label.yaml"
expect_exit 5 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'label' AND NOT attisdropped")" \
	"the rollback of the changed file dropped the column it added"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal")" \
	"and its trigger"
app_writes "the rollback of a changed file"

# Applied again, then the file is deleted: rollback and status still work.
expect_exit 0 mg --dir "$MIGDIR" apply --online
rm "$MIGDIR/0002_label.yaml"
expect_exit 0 mg --dir "$MIGDIR" status
assert_contains "$OUT" "its text is kept in the history" "status without the file"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'label' AND NOT attisdropped")" \
	"the rollback without the file"
app_writes "the rollback without the file"

# forget: a rolled back migration whose file is gone stops haunting status.
expect_exit 2 mg --dir "$MIGDIR" forget 1
assert_contains "$ERR" "is completed: roll it back first" "forget refuses an applied migration"
expect_exit 2 mg --dir "$MIGDIR" forget 99
assert_contains "$ERR" "no version 99" "forget of an unknown version"
expect_exit 2 mg --dir "$MIGDIR" forget x
expect_exit 0 mg --dir "$MIGDIR" forget 2
assert_eq "1" "$(sql "SELECT string_agg(version::text, ' ') FROM public.schema_migrations")" "only 0001 is left"
expect_exit 0 mg --dir "$MIGDIR" status
assert_not_contains "$OUT" "label" "status forgot 0002"

# A failed migration with steps still applied: forget refuses, names rollback.
write_migration 0003_half.yaml <<'YAML'
operations:
  - add_column:
      table: items
      column: { name: note, type: text }
      backfill: "'n'"
  - sql:
      up: SELECT 1/0
      down: SELECT 1
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
app_writes "the failed migration"
rm "$MIGDIR/0003_half.yaml"
expect_exit 2 mg --dir "$MIGDIR" forget 3
assert_contains "$ERR" "still applied" "forget refuses a migration with steps left"
assert_contains "$ERR" "migrate rollback" "and names the way on"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'note' AND NOT attisdropped")" \
	"the rollback of the failed migration without its file"
expect_exit 0 mg --dir "$MIGDIR" forget 3
app_writes "forget"

# A failed plain migration left nothing: forget it as it is.
write_migration 0004_broken.yaml <<'YAML'
operations:
  - create_table:
      name: never
      columns: [{ name: id, type: integer }]
  - sql:
      up: SELECT 1/0
      down: SELECT 1
YAML
expect_exit 1 mg --dir "$MIGDIR" apply
rm "$MIGDIR/0004_broken.yaml"
expect_exit 0 mg --dir "$MIGDIR" forget 4
assert_eq "1" "$(sql "SELECT string_agg(version::text, ' ') FROM public.schema_migrations")" "0004 forgotten"

# finalize is recorded; run twice, the second has nothing to ask.
write_migration 0005_drop_legacy.yaml <<'YAML'
operations:
  - drop_column: { table: items, column: legacy }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'legacy' AND NOT attisdropped")" \
	"finalize dropped the column"
assert_eq t "$(sql "SELECT finalized_at IS NOT NULL FROM public.schema_migrations WHERE version = 5")" "recorded"
expect_exit 0 mg --dir "$MIGDIR" --format json status
assert_eq '[true, true]' "$(json '[m["finalized"] for m in d["migrations"]]')" \
	"status: both online migrations finalized"
# no terminal, no --yes: it would refuse if it asked
expect_exit 0 mg --dir "$MIGDIR" finalize </dev/null
assert_eq '[]' "$(json_lines '[e["steps"] for e in d if e.get("event") == "finalize_plan"][0]')" \
	"the second finalize lists nothing and asks nothing"
expect_exit 2 mg --dir "$MIGDIR" rollback
assert_contains "$ERR" "it was finalized" "a finalized drop cannot be rolled back"
app_writes "finalize"

# plan with a database shows what apply will run: of a migration that
# stopped half way, the steps already done are left out.
write_migration 0006_half.yaml <<'YAML'
operations:
  - add_column:
      table: items
      column: { name: memo, type: text }
  - sql:
      up: SELECT 1/0
      down: SELECT 1
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_contains "$ERR" "0006_half: 1 step already done, which apply skips, left out" "plan says what it left out"
assert_not_contains "$OUT" 'add column "memo"' "the done step is not shown"
assert_contains "$OUT" "SELECT 1/0" "the step apply will run is"
expect_exit 0 mg --dir "$MIGDIR" rollback
