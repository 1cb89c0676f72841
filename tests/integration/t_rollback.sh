#!/usr/bin/env bash
# Rollback undoes each migration exactly: after rolling back to version K
# the schema is the one that applying up to K gave, the data survives, and
# applying again works.
. "$(dirname "$0")/lib.sh"
new_db

count=$(find migrations -name '*.yaml' | wc -l)
expect_exit 0 mg --dir migrations apply --to 1
load_shop_data 300
rows=$(sql "SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' '
	|| (SELECT count(*) FROM order_items)")
declare -a schema
schema[1]=$(schema_fingerprint)
for v in $(seq 2 "$count"); do
	expect_exit 0 mg --dir migrations apply --to "$v"
	schema[v]=$(schema_fingerprint)
done

# Default: the newest one.
expect_exit 0 mg --dir migrations rollback
assert_eq "${schema[count - 1]}" "$(schema_fingerprint)" "schema after rollback"
assert_eq rolled_back "$(sql "SELECT status FROM public.schema_migrations WHERE version = $count")"

expect_exit 0 mg --dir migrations rollback --steps 2
assert_eq "${schema[count - 3]}" "$(schema_fingerprint)" "schema after rollback --steps 2"

expect_exit 0 mg --dir migrations rollback --to 1
assert_eq "${schema[1]}" "$(schema_fingerprint)" "schema after rollback --to 1"
assert_eq "1 completed" "$(sql "SELECT string_agg(version || ' ' || status, ',') FROM public.schema_migrations
	WHERE status <> 'rolled_back'")" "history after rollback --to 1"
assert_eq "$rows" "$(sql "SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' '
	|| (SELECT count(*) FROM order_items)")" "rows after rollback"
assert_eq "Leave at the door" "$(sql "SELECT note FROM orders WHERE id = 7")" "data after rollback"

expect_exit 0 mg --dir migrations status
assert_eq $((count - 1)) "$(grep -Ec 'pending|rolled_back' <<<"$OUT")" "status after rollback"

# Nothing to roll back past the start is not an error, and leaves no trace.
expect_exit 0 mg --dir migrations apply
assert_eq "${schema[count]}" "$(schema_fingerprint)" "schema after applying again"
expect_exit 0 mg --dir migrations rollback --to 0
assert_eq "" "$(shop_table_list | sed 's/schema_migrations//; s/ //g')" "tables after rollback --to 0"
expect_exit 0 mg --dir migrations rollback
