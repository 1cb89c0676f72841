#!/usr/bin/env bash
# The example shop on IT_SHOP_ORDERS orders (default 200000), migrated with
# apply --online while the old application (scripts/workload.sql, four
# clients) reads, updates and inserts on the touched tables: not one of its
# transactions fails, and none waits longer than lock_timeout + 0.5 s.
# The same against plain apply, and the figures, are in bench/online.
# it-timeout: 900
# it-alone: it measures latency or timing; run after the others, one at a time
. "$(dirname "$0")/lib.sh"
new_db

lock_timeout_ms=2000
expect_exit 0 mg --dir migrations apply --to 1
load_shop_data "${IT_SHOP_ORDERS:-200000}"
sql "VACUUM ANALYZE"

WORKLOAD_CLIENTS=4 workload_start
sleep 1
expect_exit 0 mg --dir migrations apply --online --lock-timeout "${lock_timeout_ms}ms"
workload_stop "apply --online"

figures=$(bash scripts/latency.sh "$TMP"/workload.*.tx.*)
echo "workload during apply --online: $WORKLOAD_ROUNDS rounds, $figures"
read -r _ transactions _ failed _ _ _ max_ms <<<"$figures"
[ "$transactions" -gt 0 ] || fail "no transaction was logged"
assert_eq 0 "$failed" "failed transactions"
awk -v max="$max_ms" -v limit=$((lock_timeout_ms + 500)) 'BEGIN { exit !(max < limit) }' ||
	fail "a transaction waited $max_ms ms, more than lock_timeout + 0.5 s"

assert_shop_data_complete
assert_eq completed "$(sql "SELECT string_agg(DISTINCT status, ',') FROM public.schema_migrations")" \
	"history"
