#!/usr/bin/env bash
# t_tenancy_workload.sh: the shop's multi-tenancy with every option (the
# tenant in the primary keys, RLS with an admin role) applied --online and
# rolled back while the old application works: not one of its transactions
# fails, and the rollback gives back the schema it had.
. "$(dirname "$0")/lib.sh"

new_db
ADMIN=${DB_NAME}_admin
sql "CREATE ROLE \"$ADMIN\""
cp migrations/000[1-5]_*.yaml "$MIGDIR"/
sed -e 's/^      rls:$/      primary_key: include_tenant\n      rls:/' \
	-e "s/^        setting: app.current_tenant\$/        setting: app.current_tenant\n        admin_role: $ADMIN/" \
	migrations/0006_multi_tenancy.yaml >"$MIGDIR/0006_multi_tenancy.yaml"
assert_contains "$(cat "$MIGDIR/0006_multi_tenancy.yaml")" "primary_key: include_tenant"
assert_contains "$(cat "$MIGDIR/0006_multi_tenancy.yaml")" "admin_role: $ADMIN"

expect_exit 0 mg --dir "$MIGDIR" apply --to 1
load_shop_data 3000
# online, so that the old code finds the sync triggers of 0002 to 0005
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 5
base=$(schema_fingerprint)

workload_start
sleep 1
expect_exit 0 mg --dir "$MIGDIR" apply --online --lock-timeout 500ms
workload_stop "apply --online of multi-tenancy"
echo "apply: $WORKLOAD_ROUNDS workload rounds"

assert_eq "PRIMARY KEY (tenant_id, order_id, line_no)" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'order_items_pkey'")" \
	"order_items' primary key"
assert_eq "FOREIGN KEY (tenant_id, order_id) REFERENCES orders(tenant_id, id) ON DELETE CASCADE" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'order_items_order_id_fkey'")" \
	"order_items' key to orders"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_constraint WHERE NOT convalidated")" "constraints validated"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "indexes valid"
# rows the old code wrote while it ran are in the default tenant
assert_eq 0 "$(sql "SELECT (SELECT count(*) FROM customers WHERE tenant_id IS DISTINCT FROM 1)
	+ (SELECT count(*) FROM orders WHERE tenant_id IS DISTINCT FROM 1)
	+ (SELECT count(*) FROM order_items WHERE tenant_id IS DISTINCT FROM 1)")" "tenants"

workload_start
expect_exit 0 mg --dir "$MIGDIR" rollback --to 5 --lock-timeout 500ms
workload_stop "rollback of multi-tenancy"
assert_eq "$base" "$(schema_fingerprint)" "schema after rolling back"
echo "t_tenancy_workload: ok"
