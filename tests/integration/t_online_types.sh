#!/usr/bin/env bash
# apply --online changes a type in place when the server can do it without
# a rewrite (varchar(50) -> varchar(100): no shadow column, the table's
# file unchanged), and through a shadow column when it cannot (integer ->
# bigint).  Planned without a database, both go through the shadow.
. "$(dirname "$0")/lib.sh"
new_db

write_migration 0001_items.yaml <<'YAML'
operations:
  - create_table:
      name: items
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: code, type: varchar(50), nullable: false, default: "'x'" }
        - { name: qty, type: integer, nullable: false }
YAML
write_migration 0002_wider_code.yaml <<'YAML'
operations:
  - alter_column: { table: items, column: code, type: varchar(100) }
YAML
write_migration 0003_bigger_qty.yaml <<'YAML'
operations:
  - alter_column: { table: items, column: qty, type: bigint }
YAML

expect_exit 0 mg --dir "$MIGDIR" apply --to 1
sql "INSERT INTO items SELECT i, 'c' || i, i FROM generate_series(1, 2000) AS i"

# shadow_columns: the columns a shadow-column type change adds, if any.
shadow_columns()
{
	sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass
		AND attname LIKE 'migrate_%' AND NOT attisdropped"
}
filenode()
{
	sql "SELECT pg_relation_filenode('items')"
}
column_type()
{
	sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'items'::regclass AND attname = '$1'"
}

# From the files alone the server cannot be asked: the shadow column.
expect_exit 0 mg --dir "$MIGDIR" plan --online --offline --to 2
assert_contains "$OUT" "shadow column" "offline plan of varchar(50) -> varchar(100)"
# With the database: one in-place step.
expect_exit 0 mg --dir "$MIGDIR" plan --online --to 2
assert_contains "$OUT" "(no rewrite)" "plan of varchar(50) -> varchar(100)"
assert_not_contains "$OUT" "shadow column" "plan of varchar(50) -> varchar(100)"
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "shadow column" "plan of integer -> bigint"

before=$(filenode)
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 2
assert_eq "character varying(100)" "$(column_type code)" "code after 0002"
assert_eq "$before" "$(filenode)" "varchar(50) -> varchar(100) rewrote the table"
assert_eq 0 "$(shadow_columns)" "shadow columns after 0002"
assert_eq "'x'::character varying" "$(sql "SELECT column_default FROM information_schema.columns
	WHERE table_name = 'items' AND column_name = 'code'")" "default of code"
assert_eq NO "$(sql "SELECT is_nullable FROM information_schema.columns
	WHERE table_name = 'items' AND column_name = 'code'")" "code still NOT NULL"

# Back and forth: the inverse gives the saved type back.
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
assert_eq "character varying(50)" "$(column_type code)" "code after rolling 0002 back"
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 2
assert_eq "character varying(100)" "$(column_type code)" "code after applying 0002 again"

expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq bigint "$(column_type qty)" "qty after 0003"
assert_eq 1 "$(shadow_columns)" "the old qty column, kept until finalize"
assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE qty <> id")" "qty values"

# finalize drops data: without --yes and without a terminal to ask on, it
# refuses at once (no hang) and drops nothing.
expect_exit 2 mg --dir "$MIGDIR" finalize </dev/null
assert_contains "$ERR" "--yes" "the refusal says how to confirm"
assert_eq 1 "$(shadow_columns)" "the old qty column after a refused finalize"

# --format json: the steps finalize would run, as one JSON document.
expect_exit 0 mg --dir "$MIGDIR" finalize --dry-run --format json </dev/null
assert_eq true "$(json '(d["event"] == "finalize_plan" and d["dry_run"] and len(d["steps"]) > 0
	and all(s["version"] == 3 and s["step"].startswith("3.") for s in d["steps"]))')" \
	"finalize --dry-run --format json lists the contract steps"
assert_eq 1 "$(shadow_columns)" "the old qty column after a dry run"

# The plan that finalize makes again still has the shadow's contract steps.
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq 0 "$(shadow_columns)" "shadow columns after finalize"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass
	AND NOT tgisinternal")" "sync triggers after finalize"
assert_eq "character varying(100)|bigint" "$(column_type code)|$(column_type qty)" "types at the end"
