#!/usr/bin/env bash
# An applied migration whose operations change is drift (exit 5, named);
# comments, blank lines, quoting style and CRLF line ends are not.
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_create_people.yaml <<'YAML'
operations:
  - create_table:
      name: people
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: name, type: text }
YAML
write_migration 0002_add_email.yaml <<'YAML'
operations:
  - add_column:
      table: people
      column: { name: email, type: text }
YAML
original=$(cat "$MIGDIR/0001_create_people.yaml")
expect_exit 0 mg --dir "$MIGDIR" apply

# Layout is not meaning: a comment, blank lines, other quotes.
cat >"$MIGDIR/0001_create_people.yaml" <<'YAML'
# People who use the shop.

operations:

  - create_table:
      name: "people"      # quoted now
      columns:
        - { name: 'id', type: bigint, primary_key: true }
        - { name: name, type: "text" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply
expect_exit 0 mg --dir "$MIGDIR" status
assert_not_contains "$OUT" drifted "status after a comment"

printf '%s\n' "$original" | sed 's/$/\r/' >"$MIGDIR/0001_create_people.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply

# A real change: a column's type.
printf '%s\n' "$original" | sed 's/type: text/type: varchar(100)/' >"$MIGDIR/0001_create_people.yaml"
expect_exit 5 mg --dir "$MIGDIR" apply
assert_contains "$ERR" "0001_create_people" "the message names the migration"
assert_eq "" "$OUT" "nothing on stdout"
assert_eq text "$(sql "SELECT data_type FROM information_schema.columns
	WHERE table_name = 'people' AND column_name = 'name'")" "the database is untouched"

capture mg --dir "$MIGDIR" status
assert_match "${OUT,,}" '0*1[_ ]+create_people .*drifted' "status text marks the drift"
capture mg --dir "$MIGDIR" --format json status
assert_eq "[true, false]" "$(json '[m["drifted"] for m in d["migrations"]]')" "status json drifted"

# Drift in an applied file stops even a run that has nothing else to do;
# restoring the file ends it.
printf '%s\n' "$original" >"$MIGDIR/0001_create_people.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply
