#!/usr/bin/env bash
# Identifiers are data, never SQL: a table named like an injection and a
# column with quotes in it are created as named, and nothing else happens.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE customers (id integer PRIMARY KEY); INSERT INTO customers VALUES (1)"

write_migration 0001_hostile.yaml <<'YAML'
operations:
  - create_table:
      name: 'orders; DROP TABLE customers; --'
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: 'my "odd" column', type: text, comment: "it's odd" }
  - create_index:
      table: 'orders; DROP TABLE customers; --'
      name: 'odd"; DROP TABLE customers; --'
      columns: [{column: 'my "odd" column'}]
  - add_column:
      table: customers
      column: { name: "Robert'); DROP TABLE customers;--", type: text, default: "'x'" }
YAML

hostile='orders; DROP TABLE customers; --'
expect_exit 0 mg --dir "$MIGDIR" apply
table_exists customers || fail "customers was dropped"
table_exists "$hostile" || fail "the hostile table is missing"
assert_eq 1 "$(sql "SELECT count(*) FROM customers")" "customers' rows"
assert_eq 1 "$(sql "SELECT count(*) FROM information_schema.columns
	WHERE table_name = '$(sql_escape "$hostile")' AND column_name = 'my \"odd\" column'")" "the odd column"
assert_eq "it's odd" "$(sql "SELECT col_description('$(sql_escape "\"$hostile\"")'::regclass, 2)")" \
	"the comment, a literal"
assert_eq 1 "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'odd\"; DROP TABLE customers; --'")" \
	"the index"
assert_eq x "$(sql "SELECT \"Robert'); DROP TABLE customers;--\" FROM customers")" "the added column"

# In the SQL plan every such name is double-quoted: with the quoted
# identifiers taken out, none of the hostile text is left.
expect_exit 0 "$MIGRATE" --dir "$MIGDIR" plan --offline --format sql
assert_contains "$OUT" '"orders; DROP TABLE customers; --"'
assert_contains "$OUT" '"my ""odd"" column"'
unquoted=$(sed -E "s/\"([^\"]|\"\")*\"//g; s/'([^']|'')*'//g" <<<"$OUT")
assert_not_contains "$unquoted" "DROP TABLE customers" "an identifier outside quotes"
assert_not_contains "$unquoted" "odd" "an identifier outside quotes"

# The script does the same as apply.
applied=$(schema_fingerprint)
new_db
sql "CREATE TABLE customers (id integer PRIMARY KEY); INSERT INTO customers VALUES (1)"
psql -XAq -v ON_ERROR_STOP=1 -d "$DB_URL" -f - <<<"$OUT" >/dev/null ||
	fail "the SQL plan does not run under psql"
assert_eq "$applied" "$(schema_fingerprint)" "schema from the SQL plan"
