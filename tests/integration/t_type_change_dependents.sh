#!/usr/bin/env bash
# An online type change swaps in a new column and keeps the old one until
# finalize.  Indexes and checks on the old column are not rebuilt over the
# new one, and DROP COLUMN would take them silently: finalize refuses,
# names them, changes nothing and keeps the old column in sync for a
# rollback.  A sequence the old column owns (a serial) moves to the new one.
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_items.yaml <<'YAML'
operations:
  - create_table:
      name: items
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: qty, type: integer, nullable: false }
        - { name: n, type: serial }
  - add_constraint: { table: items, name: qty_pos, check: "qty > 0" }
  - create_index: { table: items, name: items_qty, columns: [qty] }
YAML
write_migration 0002_bigger.yaml <<'YAML'
operations:
  - alter_column: { table: items, column: qty, type: bigint }
  - alter_column: { table: items, column: n, type: bigint }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
sql "INSERT INTO items (id, qty) SELECT i, i FROM generate_series(1, 2000) AS i" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq bigint "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'items'::regclass AND attname = 'qty'")" "qty after the swap"

before=$(schema_snapshot) || fail "schema snapshot"
expect_exit 1 mg --dir "$MIGDIR" finalize --yes
assert_contains "$ERR" "still used by" "finalize says why it stops"
assert_contains "$ERR" "items_qty" "finalize names the index"
assert_contains "$ERR" "constraint qty_pos on table items, index items_qty:" "finalize names the check and the index, once each"
after=$(schema_snapshot) || fail "schema snapshot"
assert_eq "$before" "$after" "the refused finalize changed the schema"

# The old column is still kept in sync: a write of the application goes to both.
sql "INSERT INTO items (id, qty) VALUES (5000, 7)" >/dev/null
assert_eq 7 "$(sql "SELECT migrate_old_2_1 FROM items WHERE id = 5000")" "the old column follows writes"
sql_try "INSERT INTO items (id, qty) VALUES (5001, -1)" &&
	fail "a negative qty was accepted: the check stopped applying"
# and a rollback gives every row back
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
assert_eq integer "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'items'::regclass AND attname = 'qty'")" "qty after the rollback"
assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE qty <> CASE WHEN id = 5000 THEN 7 ELSE id END")" \
	"qty of every row after the rollback"
assert_eq 2001 "$(sql "SELECT count(*) FROM items")" "rows after the rollback"

# Without the index and the check, finalize goes through; the serial's
# sequence now belongs to the new column and still feeds its default.
write_migration 0002_bigger.yaml <<'YAML'
operations:
  - alter_column: { table: items, column: n, type: bigint }
YAML
rm -f "$MIGDIR/0002_bigger.yaml.drift" 2>/dev/null
expect_exit 0 mg --dir "$MIGDIR" forget 2
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq bigint "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'items'::regclass AND attname = 'n'")" "n after finalize"
assert_eq "items.n" "$(sql "SELECT d.refobjid::regclass || '.' || a.attname FROM pg_depend d
	JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
	WHERE d.objid = 'items_n_seq'::regclass AND d.deptype = 'a'")" "the sequence's owner"
sql "INSERT INTO items (id, qty) VALUES (6000, 3)" >/dev/null
assert_eq 1 "$(sql "SELECT count(*) FROM items WHERE id = 6000 AND n IS NOT NULL")" "the default still draws"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass
	AND attname LIKE 'migrate_%' AND NOT attisdropped")" "no old column left"
echo ok
