#!/usr/bin/env bash
# Raw SQL: plan shows each statement's real lock (and whether it rewrites or
# scans) from the parse tree; outside a transaction each statement is its
# own step; lint flags REFRESH MATERIALIZED VIEW without CONCURRENTLY on an
# existing view; "down: null" means nothing to undo; the live line of a long
# statement shows its first words and the time it has run.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE orders (id bigint PRIMARY KEY, total int);
	INSERT INTO orders SELECT g, g % 100 FROM generate_series(1, 2000) g;
	CREATE MATERIALIZED VIEW order_totals AS SELECT total, count(*) AS n FROM orders GROUP BY total;
	CREATE UNIQUE INDEX order_totals_total ON order_totals (total)" >/dev/null

write_migration 0001_raw.yaml <<'YAML'
operations:
  - sql:
      up: |
        CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);
        REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;
      down: DROP INDEX CONCURRENTLY IF EXISTS orders_total_idx
      transactional: false
  - sql:
      up: ANALYZE orders
      down: null
YAML

expect_exit 0 mg --dir "$MIGDIR" plan --format json
plan=$OUT
assert_eq '["SHARE UPDATE EXCLUSIVE", "orders", true]' \
	"$(json '[d["migrations"][0]["steps"][0]["lock"][k] for k in ("mode", "relation", "scan")]' "$plan")" \
	"the lock of CREATE INDEX CONCURRENTLY"
assert_eq '["EXCLUSIVE", "order_totals"]' \
	"$(json '[d["migrations"][0]["steps"][1]["lock"][k] for k in ("mode", "relation")]' "$plan")" \
	"the lock of REFRESH CONCURRENTLY, a step of its own"
assert_eq false "$(json 'd["migrations"][0]["irreversible"]' "$plan")" "down: null is not irreversible"
expect_exit 0 mg --dir "$MIGDIR" plan
assert_contains "$OUT" "SQL (line 4): CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total)" "the step's summary"
assert_contains "$OUT" "lock: SHARE UPDATE EXCLUSIVE on orders (scans it)" "the text plan"

expect_exit 0 mg --dir "$MIGDIR" lint
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq t "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total_idx'::regclass")" "the index"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
assert_eq "" "$(sql "SELECT to_regclass('orders_total_idx')")" "the down ran"
assert_eq rolled_back "$(sql "SELECT status FROM schema_migrations WHERE version = 1")" "history"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq t "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total_idx'::regclass")" \
	"applied again"

# A blocking refresh of a view that readers use is unsafe.
write_migration 0002_refresh.yaml <<'YAML'
operations:
  - sql:
      up: REFRESH MATERIALIZED VIEW order_totals
      down: null
YAML
expect_exit 3 mg --dir "$MIGDIR" lint
assert_contains "$OUT$ERR" "refresh-materialized-view-not-concurrent" "the rule"
expect_exit 0 mg --dir "$MIGDIR" plan
assert_contains "$OUT" "lock: ACCESS EXCLUSIVE on order_totals (rewrites it)" "the lock of a blocking refresh"
rm "$MIGDIR/0002_refresh.yaml"

# lint follows the migration: after its own DROP NOT NULL, the column the
# catalog still shows NOT NULL is scanned again by SET NOT NULL.
sql "ALTER TABLE orders ALTER COLUMN total SET NOT NULL" >/dev/null
write_migration 0002_nulls.yaml <<'YAML'
operations:
  - sql:
      up: |
        ALTER TABLE orders ALTER COLUMN total DROP NOT NULL;
        ALTER TABLE orders ALTER COLUMN total SET NOT NULL;
      down: null
YAML
expect_exit 3 mg --dir "$MIGDIR" lint
assert_contains "$OUT$ERR" "set-not-null" "SET NOT NULL after the migration's own DROP NOT NULL"
write_migration 0002_nulls.yaml <<'YAML'
operations:
  - sql: {up: "ALTER TABLE orders ALTER COLUMN total SET NOT NULL", down: null}
YAML
expect_exit 0 mg --dir "$MIGDIR" lint
rm "$MIGDIR/0002_nulls.yaml"

# The live line of a long statement: its first words and its time.
write_migration 0003_slow.yaml <<'YAML'
operations:
  - sql:
      up: SELECT pg_sleep(3.5)
      down: null
YAML
expect_exit 0 env NO_COLOR=1 script -qec "$MIGRATE -d '$DB_URL' --state '$STATE' --dir '$MIGDIR' apply --online" /dev/null
assert_match "$OUT" $'\r.*SQL \\(line 3\\): SELECT pg_sleep\\(3.5\\): [1-9]s' "the live line of the statement"
echo "raw SQL: locks from the parse tree, a step per statement, live line, down: null"
