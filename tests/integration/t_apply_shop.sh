#!/usr/bin/env bash
# The example shop, applied in plain mode over a little data: every table
# and change is there, the history is complete, and a second apply is a
# no-op.
. "$(dirname "$0")/lib.sh"
new_db

# Version 1 first, then data, so that the later migrations have rows to
# backfill and validate.
expect_exit 0 mg --dir migrations apply --to 1
load_shop_data 500
expect_exit 0 mg --dir migrations apply

for t in $SHOP_TABLES tenants; do
	table_exists "$t" || fail "table $t is missing"
done

count=$(find migrations -name '*.yaml' | wc -l)
assert_eq "$count" "$(sql "SELECT count(*) FROM public.schema_migrations WHERE status = 'completed'")" \
	"completed migrations"
assert_eq "$(find migrations -name '*.yaml' -printf '%f\n' | sed 's/_.*//; s/^0*//' | sort -n | paste -sd ' ')" \
	"$(sql "SELECT string_agg(version::text, ' ' ORDER BY version) FROM public.schema_migrations")" \
	"versions in history"
assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations
	WHERE checksum !~ '^sha256:[0-9a-f]{64}$' OR coalesce(applied_by, '') = ''
	   OR execution_ms IS NULL OR execution_ms < 0 OR completed_at IS NULL
	   OR completed_at < started_at OR error_message IS NOT NULL")" \
	"history rows with a bad checksum, applied_by, execution_ms or times"
assert_eq "create_shop order_status" \
	"$(sql "SELECT string_agg(name, ' ' ORDER BY version) FROM public.schema_migrations WHERE version <= 2")" \
	"names in history"

# What the migrations did.
assert_shop_data_complete
assert_eq 0 "$(sql "SELECT count(*) FROM orders WHERE total_cents IS NULL")" "0005: every order has a total"
assert_eq NO "$(sql "SELECT is_nullable FROM information_schema.columns
	WHERE table_name = 'customers' AND column_name = 'email_normalized'")" "0002: NOT NULL"
assert_eq 4 "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname IN ('orders_customer_id_created_at_idx',
	'orders_pending_created_at_idx', 'products_lower_name_idx', 'order_items_product_id_idx')")" \
	"0003: indexes"
assert_eq "c f u" "$(sql "SELECT string_agg(contype::text, ' ' ORDER BY contype) FROM pg_constraint
	WHERE conname IN ('products_price_cents_positive', 'order_items_product_id_fkey',
	                  'customers_email_normalized_key') AND convalidated")" "0004: constraints"
assert_eq "1 Default Tenant" "$(sql "SELECT id || ' ' || name FROM tenants")" "0006: default tenant"
assert_eq "true true true" "$(sql "SELECT string_agg(relrowsecurity::text, ' ') FROM pg_class
	WHERE oid IN ('customers'::regclass, 'orders'::regclass, 'order_items'::regclass)")" "0006: RLS"
assert_eq "Leave at the door" "$(sql "SELECT note FROM orders WHERE id = 7")" "0007: notes kept"
assert_contains "$(sql "SELECT pg_get_indexdef('orders_customer_recent_idx'::regclass)")" \
	"(customer_id, created_at DESC) INCLUDE (status, total_cents)" "0009: the DESC + INCLUDE index"
assert_eq "$(sql "SELECT count(DISTINCT customer_id) || ' ' || sum(total_cents) FROM orders")" \
	"$(sql "SELECT count(*) || ' ' || sum(total_cents) FROM customer_order_totals")" \
	"0009: the materialized view, filled and refreshed"

# A second apply finds nothing to do and changes nothing.
history=$(sql "SELECT string_agg(version || ' ' || status || ' ' || completed_at, ', ' ORDER BY version)
	FROM public.schema_migrations")
schema=$(schema_fingerprint)
expect_exit 0 mg --dir migrations apply
assert_eq "$history" "$(sql "SELECT string_agg(version || ' ' || status || ' ' || completed_at, ', ' ORDER BY version)
	FROM public.schema_migrations")" "history after a second apply"
assert_eq "$schema" "$(schema_fingerprint)" "schema after a second apply"
