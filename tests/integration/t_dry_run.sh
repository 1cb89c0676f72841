#!/usr/bin/env bash
# --dry-run shows what would run and changes nothing, for apply and
# rollback alike.
. "$(dirname "$0")/lib.sh"
new_db

expect_exit 0 mg --dir migrations apply --dry-run
assert_contains "$OUT" 0001_create_shop "the dry run shows the migrations"
assert_eq t "$(sql "SELECT to_regclass('public.schema_migrations') IS NULL AND
	to_regclass('public.customers') IS NULL AND to_regnamespace('migrate') IS NULL")" \
	"apply --dry-run changed the database"

expect_exit 0 mg --dir migrations apply --to 2
schema=$(schema_fingerprint)
history=$(sql "SELECT string_agg(version || status || completed_at, ',' ORDER BY version) FROM public.schema_migrations")

expect_exit 0 mg --dir migrations apply --online --dry-run
assert_contains "$OUT" 0003_order_indexes "the dry run shows the pending migrations"
assert_not_contains "$OUT" 0001_create_shop "the dry run shows only pending migrations"
expect_exit 0 mg --dir migrations rollback --dry-run
assert_contains "$OUT" 0002_order_status "rollback --dry-run shows what it would undo"

assert_eq "$schema" "$(schema_fingerprint)" "a dry run changed the schema"
assert_eq "$history" "$(sql "SELECT string_agg(version || status || completed_at, ',' ORDER BY version)
	FROM public.schema_migrations")" "a dry run changed the history"
