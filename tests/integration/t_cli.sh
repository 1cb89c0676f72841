#!/usr/bin/env bash
# The command line: help, version, usage errors (exit 2, nothing done),
# options after the command.
. "$(dirname "$0")/lib.sh"
new_db

expect_exit 0 "$MIGRATE" --version
assert_match "$OUT" '^migrate [0-9]+\.[0-9]+' "--version"
expect_exit 0 "$MIGRATE" --help
for c in validate plan apply rollback status finalize new; do
	assert_contains "$OUT" "$c" "--help lists $c"
done
expect_exit 0 "$MIGRATE" apply --help
assert_contains "$OUT" "--online" "apply --help"

expect_exit 2 "$MIGRATE"
expect_exit 2 "$MIGRATE" aply
assert_match "$ERR" '^migrate: ' "unknown command"
assert_contains "$ERR" apply "a suggestion"

# A mistyped option must not run the real thing.
expect_exit 2 mg --dir migrations apply --dry-runn
assert_match "$ERR" '^migrate: .*dry-runn' "the message names the option"
expect_exit 2 mg --dir migrations apply --lock-timeout soon
expect_exit 2 mg --dir migrations apply --batch-size -5
expect_exit 2 mg --dir migrations --format yaml status
expect_exit 2 mg --dir migrations --format sql status
expect_exit 2 mg --dir migrations rollback --to 1 --steps 1
expect_exit 2 mg --dir migrations status extra
assert_eq t "$(sql "SELECT to_regclass('public.schema_migrations') IS NULL")" \
	"a usage error changed the database"

# Global options may follow the command.
expect_exit 0 "$MIGRATE" validate --dir migrations
expect_exit 0 "$MIGRATE" apply --to 1 -d "$DB_URL" --state "$STATE" --dir migrations
table_exists customers || fail "options after the command were ignored"

# A missing folder is a usage error, not an empty set of migrations.
expect_exit 2 "$MIGRATE" --dir "$TMP/nowhere" validate
assert_contains "$ERR" nowhere "the message names the folder"

# lint and convert: a file that cannot be read is a usage error naming it.
expect_exit 2 "$MIGRATE" lint "$TMP/nowhere/0001_x.yaml"
assert_contains "$ERR" "0001_x.yaml" "lint names the file"
expect_exit 2 "$MIGRATE" convert "$TMP/some.sql"
assert_contains "$ERR" "some.sql" "convert names the file"
expect_exit 2 "$MIGRATE" convert
assert_contains "$ERR" "FILE.sql" "convert without a file"

# new: a timestamped file from a template, in --dir.
expect_exit 0 "$MIGRATE" --dir "$MIGDIR" new add_thing
assert_match "$OUT" '/[0-9]{14}_add_thing\.yaml$' "new prints the file it wrote"
[ -f "$OUT" ] || fail "new did not write $OUT"
expect_exit 2 "$MIGRATE" --dir "$MIGDIR" new Add-Thing
expect_exit 2 "$MIGRATE" --dir "$MIGDIR" new thing --template no_such_template
assert_eq 1 "$(find "$MIGDIR" -name '*.yaml' | wc -l)" "bad names write nothing"
