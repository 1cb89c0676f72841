#!/usr/bin/env bash
# validate: the shop is valid; each kind of bad file exits 2 naming the
# file (and line:col when it is the content); apply with a bad file changes
# nothing.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$MIGRATE" --dir migrations validate
expect_exit 0 "$MIGRATE" --dir migrations --format json validate
assert_eq true "$(json 'd["valid"]')" "validate json"

# bad_case FILE REGEX: the shop plus FILE (from stdin) fails validation
# with a message that REGEX matches.
bad_case()
{
	local file=$1 regex=$2

	rm -rf "$MIGDIR" && mkdir -p "$MIGDIR" && cp migrations/*.yaml "$MIGDIR"/
	cat >"$MIGDIR/$file"
	expect_exit 2 "$MIGRATE" --dir "$MIGDIR" validate
	assert_match "$ERR" "$regex" "the message points at the problem"
	assert_eq 1 "$(grep -c '^migrate: ' <<<"$ERR")" "one error line"
}

bad_case 0099_unknown_op.yaml '0099_unknown_op\.yaml:3:[0-9]+' <<'YAML'
description: an operation that does not exist
operations:
  - add_colum:
      table: orders
      column: { name: x, type: text }
YAML
bad_case 0099_missing_field.yaml '0099_missing_field\.yaml:[23]:[0-9]+' <<'YAML'
operations:
  - create_index:
      table: orders
      columns: [created_at]
YAML
bad_case 0099_bad_yaml.yaml '0099_bad_yaml\.yaml:4:[0-9]+' <<'YAML'
operations:
  - add_column:
      table: orders
      column: { name: x, type: text ]
YAML
bad_case 0099_bad_duration.yaml '0099_bad_duration\.yaml:2:[0-9]+' <<'YAML'
settings:
  lock_timeout: two seconds
operations:
  - drop_index: { name: orders_pending_created_at_idx }
YAML
bad_case 0099_unknown_key.yaml '0099_unknown_key\.yaml:4:[0-9]+' <<'YAML'
operations:
  - add_column:
      table: orders
      colour: { name: x, type: text }
YAML
bad_case 0099_bad_column.yaml '0099_bad_column\.yaml:5:[0-9]+' <<'YAML'
operations:
  - add_column:
      table: orders
      column:
        nullable: maybe
        name: x
        type: text
YAML
bad_case 0001_same_version.yaml '0001_(same_version|create_shop)\.yaml' <<'YAML'
operations:
  - drop_index: { name: orders_pending_created_at_idx }
YAML
bad_case Add-Thing.yaml 'Add-Thing\.yaml' <<'YAML'
operations:
  - drop_index: { name: orders_pending_created_at_idx }
YAML

# apply checks every file before it changes anything.
new_db
expect_exit 2 mg --dir "$MIGDIR" apply
assert_eq t "$(sql "SELECT to_regclass('public.schema_migrations') IS NULL AND
	to_regclass('public.customers') IS NULL")" "apply with a bad file changed the database"
