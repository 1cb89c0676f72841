#!/usr/bin/env bash
# A table whose name holds a dot is named {schema, name} or quoted as SQL
# quotes it ("my.table", public."my.table"): created, indexed, changed,
# filled, rolled back exactly and applied again, plain and online; a plain
# a.b still means schema a, table b.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

check_case dotted_names <<'YAML'
operations:
  - create_table:
      name: {schema: public, name: "sales.2026"}
      columns:
        - {name: id, type: bigint, primary_key: true}
        - {name: amount, type: int}
  - sql: {up: "INSERT INTO \"sales.2026\" SELECT g, g FROM generate_series(1, 500) g", down: null}
  - create_index: {table: '"sales.2026"', name: "sales.2026_amount", columns: [amount DESC]}
  - add_column:
      table: 'public."sales.2026"'
      column: {name: doubled, type: int}
      backfill: amount * 2
  - alter_column: {table: {name: "sales.2026"}, column: amount, nullable: false, comment: in cents}
YAML
[ -z "$failed" ] || fail "not rolled back exactly:$failed"

new_db
rm -f "$MIGDIR"/*.yaml
write_migration 0001_dots.yaml <<'YAML'
operations:
  - create_table:
      name: {name: "a.b"}
      columns: [{name: id, type: int, primary_key: true}]
  - sql: {up: "CREATE SCHEMA a", down: "DROP SCHEMA a"}
  - create_table:
      name: a.b
      columns: [{name: id, type: int, primary_key: true}]
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "a.b|public
b|a" "$(sql "SELECT relname, relnamespace::regnamespace FROM pg_class WHERE relname IN ('a.b', 'b') AND relkind = 'r' ORDER BY 1")" \
	"{name: a.b} is one table in public, a.b is table b of schema a"
write_migration 0002_bad.yaml <<'YAML'
operations:
  - drop_table: {name: {schema: public, table: x}}
YAML
expect_exit 2 mg --dir "$MIGDIR" validate
assert_contains "$ERR" "0002_bad.yaml:2:" "the place"
assert_contains "$ERR" 'unknown field "table"' "what is wrong"
echo "dotted names: exact, plain and online"
