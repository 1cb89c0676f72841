#!/usr/bin/env bash
# t_type_default.sh: a type change of a column with a default carries the
# default over, converted (text DEFAULT '0' to integer gives DEFAULT 0), in
# the online and the plain strategy; rollback gives the old default back; a
# default that is not a constant and does not assign stops the change with a
# message that says what to write, and nothing is left changed.
. "$(dirname "$0")/lib.sh"

new_db
write_migration 0001_t.yaml <<'EOF2'
operations:
  - create_table:
      name: t
      columns:
        - { name: id, type: serial, primary_key: true }
        - { name: s, type: text, default: "'0'" }
        - { name: w, type: varchar(20), default: "'abc'" }
        - { name: r, type: text, default: "md5(random()::text)" }
EOF2
write_migration 0002_types.yaml <<'EOF2'
operations:
  - alter_column: { table: t, column: s, type: integer, using: "nullif(s, '')::integer" }
  - alter_column: { table: t, column: w, type: text }
EOF2
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
sql "INSERT INTO t (s) SELECT g::text FROM generate_series(1, 100) g" >/dev/null
defaults()
{
	sql "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' '
		|| coalesce(pg_get_expr(adbin, adrelid), '-'), ', ' ORDER BY attname)
		FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
		WHERE attrelid = 't'::regclass AND attname IN ('s', 'w')"
}
before=$(defaults)
for mode in --online ""; do
	# shellcheck disable=SC2086  # the empty mode is no argument
	expect_exit 0 mg --dir "$MIGDIR" apply $mode
	assert_eq "s integer 0, w text 'abc'::character varying" "$(defaults)" "defaults after apply $mode"
	assert_eq "0|abc" "$(sql "INSERT INTO t DEFAULT VALUES RETURNING s, w")" "an insert of defaults"
	assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE s IS DISTINCT FROM id AND id <= 100")" "values"
	expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
	assert_eq "$before" "$(defaults)" "defaults after rollback of apply $mode"
	sql "DELETE FROM t WHERE id > 100" >/dev/null
done

# a default that is not a constant cannot be converted: the change stops
write_migration 0003_volatile.yaml <<'EOF2'
operations:
  - alter_column: { table: t, column: r, type: bytea, using: "decode(r, 'hex')" }
EOF2
rm "$MIGDIR/0002_types.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
capture mg --dir "$MIGDIR" apply
[ "$RC" -ne 0 ] || fail "a default that cannot be converted was accepted"
assert_contains "$ERR" "cannot be converted to bytea"
assert_eq "text" "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 't'::regclass AND attname = 'r'")" "r's type after the refusal"
echo "t_type_default: ok"
