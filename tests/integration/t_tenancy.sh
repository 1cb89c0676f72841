#!/usr/bin/env bash
# t_tenancy.sh: multi_tenancy with primary_key: include_tenant and RLS, on
# tables owned by a role that is not a superuser.  After apply --online a
# non-owner application role with app.current_tenant set sees and writes
# only its tenant's rows, sees nothing (and no error) with it unset; the
# admin role sees everything; the old code, which connects as the tables'
# owner and never sets a tenant, keeps inserting into the default tenant.
# The foreign keys that referenced a primary key that gained the tenant
# follow it (composite when the referencing table has the tenant, else kept
# on the old key).  Rollback gives back the schema and the data exactly.
. "$(dirname "$0")/lib.sh"

new_db
OWNER=${DB_NAME}_owner
APP=${DB_NAME}_app
ADMIN=${DB_NAME}_admin
sql "CREATE ROLE \"$OWNER\" LOGIN; CREATE ROLE \"$APP\" LOGIN; CREATE ROLE \"$ADMIN\" LOGIN;
	GRANT CREATE ON SCHEMA public TO \"$OWNER\""
OWNER_URL="$DB_URL user=$OWNER"
APP_URL="$DB_URL user=$APP"
ADMIN_URL="$DB_URL user=$ADMIN"

# audit is not given a tenant: its key to orders stays on orders (id).
sql "
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY,
	customer_id bigint NOT NULL REFERENCES customers (id), note text);
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
	line_no integer NOT NULL, quantity integer NOT NULL, PRIMARY KEY (order_id, line_no));
CREATE TABLE audit (id bigserial PRIMARY KEY, order_id bigint REFERENCES orders (id), what text);
INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 20) AS g;
INSERT INTO orders (customer_id) SELECT 1 + g % 20 FROM generate_series(1, 200) AS g;
INSERT INTO order_items SELECT o, l, l FROM generate_series(1, 200) AS o, generate_series(1, 3) AS l;
INSERT INTO audit (order_id, what) SELECT g, 'seen' FROM generate_series(1, 50) AS g;
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, orders, order_items, audit TO \"$APP\", \"$ADMIN\";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \"$APP\", \"$ADMIN\";
" "$OWNER_URL"

write_migration 0001_tenancy.yaml <<EOF
operations:
  - multi_tenancy:
      tenant_table: tenants
      column: tenant_id
      type: integer
      default_tenant: { id: 1, name: Default Tenant }
      tables: [customers, orders, order_items]
      tenant_from:
        order_items: { table: orders, via: order_id }
      foreign_key: true
      index: true
      primary_key: include_tenant
      rls:
        setting: app.current_tenant
        admin_role: $ADMIN
EOF

snapshot()
{
	schema_snapshot
}
data_snapshot()
{
	sql "SELECT (SELECT string_agg(format('%s', c), ';' ORDER BY id) FROM customers AS c)
		|| (SELECT string_agg(format('%s', o), ';' ORDER BY id) FROM orders AS o)
		|| (SELECT string_agg(format('%s', i), ';' ORDER BY order_id, line_no) FROM order_items AS i)
		|| (SELECT string_agg(format('%s', a), ';' ORDER BY id) FROM audit AS a)"
}
SCHEMA_BEFORE=$(snapshot)
DATA_BEFORE=$(data_snapshot)

# --- apply then rollback at once: schema and data as they were ---
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$SCHEMA_BEFORE" "$(snapshot)" "the schema after apply + rollback"
assert_eq "$DATA_BEFORE" "$(data_snapshot)" "data after apply + rollback"
assert_eq 0 "$(sql "SELECT count(*) FROM migrate.saved_objects")" "saved state forgotten"

# --- apply again, and look at it ---
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "PRIMARY KEY (tenant_id, id)" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_pkey'")" \
	"orders' primary key"
assert_eq "PRIMARY KEY (tenant_id, order_id, line_no)" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'order_items_pkey'")" \
	"order_items' primary key"
# moved: the referencing table has the tenant
assert_eq "FOREIGN KEY (tenant_id, order_id) REFERENCES orders(tenant_id, id) ON DELETE CASCADE" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'order_items_order_id_fkey'")" \
	"order_items' key to orders"
assert_eq "FOREIGN KEY (tenant_id, customer_id) REFERENCES customers(tenant_id, id)" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'")" \
	"orders' key to customers"
# kept: audit has no tenant; orders (id) stays unique for it
assert_eq "FOREIGN KEY (order_id) REFERENCES orders(id)" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'audit_order_id_fkey'")" \
	"audit's key to orders"
assert_eq "UNIQUE (id)" \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_without_tenant_key'")" \
	"orders' old key stays unique"
assert_eq "" "$(sql "SELECT string_agg(conname, ' ') FROM pg_constraint WHERE NOT convalidated")" \
	"every constraint validated"
assert_eq "" "$(sql "SELECT string_agg(indexrelid::regclass::text, ' ') FROM pg_index WHERE NOT indisvalid")" \
	"every index valid"
assert_eq 0 "$(sql "SELECT (SELECT count(*) FROM customers WHERE tenant_id <> 1)
	+ (SELECT count(*) FROM orders WHERE tenant_id <> 1)
	+ (SELECT count(*) FROM order_items WHERE tenant_id <> 1)")" "existing rows in the default tenant"
# the constant default was stored in the catalog, not written into rows
assert_eq "customers orders" "$(sql "SELECT string_agg(attrelid::regclass::text, ' ' ORDER BY 1)
	FROM pg_attribute WHERE attname = 'tenant_id' AND atthasmissing")" "tenant_id added without a rewrite"

# a second tenant, with rows of its own (the owner is not subject to RLS)
sql "INSERT INTO tenants (id, name) VALUES (2, 'Second')"
sql "INSERT INTO customers (id, name, tenant_id) VALUES (1001, 'second', 2);
	INSERT INTO orders (id, customer_id, tenant_id) VALUES (1001, 1001, 2);
	INSERT INTO order_items (order_id, line_no, quantity) VALUES (1001, 1, 5);" "$OWNER_URL"
assert_eq 2 "$(sql "SELECT tenant_id FROM order_items WHERE order_id = 1001")" \
	"a line written without a tenant takes its order's"

# --- the application role with a tenant: its rows only ---
as_tenant()
{
	psql -XAtq -v ON_ERROR_STOP=1 -d "$APP_URL" -c "SET app.current_tenant = '$1'" -c "$2"
}
for t in customers:20 orders:200 order_items:600; do
	assert_eq 1 "$(as_tenant 2 "SELECT count(*) FROM ${t%:*}")" "tenant 2 sees its ${t%:*}"
	assert_eq 0 "$(as_tenant 2 "SELECT count(*) FROM ${t%:*} WHERE tenant_id <> 2")" \
		"tenant 2 sees no other ${t%:*}"
	assert_eq "${t#*:}" "$(as_tenant 1 "SELECT count(*) FROM ${t%:*}")" "tenant 1 sees its ${t%:*}"
done
# the helper sets the tenant for the session
assert_eq 1 "$(psql -XAtq -d "$APP_URL" -c "SELECT set_current_tenant(2)" \
	-c "SELECT count(*) FROM orders" | tail -n 1)" "set_current_tenant"
# it cannot write into another tenant, nor move a row there
expect_exit 1 as_tenant 2 "INSERT INTO customers (name, tenant_id) VALUES ('intruder', 1)"
assert_contains "$ERR" "row-level security"
expect_exit 1 as_tenant 2 "UPDATE orders SET tenant_id = 1 WHERE id = 1001"
assert_contains "$ERR" "row-level security"
assert_eq "0" "$(as_tenant 2 "UPDATE orders SET note = 'x' WHERE tenant_id = 1 RETURNING 1" | wc -l)" \
	"another tenant's rows cannot be updated"
# what it inserts without naming the tenant lands in its own
as_tenant 2 "INSERT INTO customers (name) VALUES ('second too')" >/dev/null
assert_eq 2 "$(sql "SELECT tenant_id FROM customers WHERE name = 'second too'")" "insert into the session's tenant"

# --- the setting unset: nothing, and no error ---
for t in customers orders order_items; do
	assert_eq 0 "$(sql "SELECT count(*) FROM $t" "$APP_URL")" "no tenant set: no $t"
done

# --- the admin role sees everything ---
assert_eq 22 "$(sql "SELECT count(*) FROM customers" "$ADMIN_URL")" "admin sees every customer"
assert_eq 201 "$(sql "SELECT count(*) FROM orders" "$ADMIN_URL")" "admin sees every order"

# --- the old code: the owner, no tenant; its rows go to the default tenant ---
sql "INSERT INTO customers (name) VALUES ('old code');
	INSERT INTO orders (customer_id) SELECT id FROM customers WHERE name = 'old code';
	INSERT INTO order_items (order_id, line_no, quantity)
		SELECT id, 1, 1 FROM orders WHERE customer_id = (SELECT id FROM customers WHERE name = 'old code');
	INSERT INTO audit (order_id, what) VALUES (1, 'old code')" "$OWNER_URL"
assert_eq "1 1 1" "$(sql "SELECT c.tenant_id || ' ' || o.tenant_id || ' ' || i.tenant_id
	FROM customers c JOIN orders o ON o.customer_id = c.id JOIN order_items i ON i.order_id = o.id
	WHERE c.name = 'old code'")" "old code's rows in the default tenant"

# --- the keys hold ---
expect_exit 1 sql "INSERT INTO order_items (order_id, line_no, quantity, tenant_id) VALUES (1001, 2, 1, 1)"
assert_contains "$ERR" "order_items_order_id_fkey"
expect_exit 1 sql "INSERT INTO audit (order_id, what) VALUES (999999, 'dangling')"
assert_contains "$ERR" "audit_order_id_fkey"

# --- rollback: the schema exactly as before ---
# (the second tenant goes too: a tenant table holding tenants the migration
# did not create is kept by rollback, as t_tenancy_keep shows)
sql "DELETE FROM order_items WHERE tenant_id = 2; DELETE FROM orders WHERE tenant_id = 2;
	DELETE FROM customers WHERE tenant_id = 2; DELETE FROM tenants WHERE id = 2"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$SCHEMA_BEFORE" "$(snapshot)" "the schema after the second rollback"
assert_eq f "$(sql "SELECT to_regclass('tenants') IS NOT NULL")" "the tenant table it created is gone"
assert_eq "" "$(sql "SELECT string_agg(conname, ' ') FROM pg_constraint WHERE NOT convalidated")" \
	"every constraint validated after rollback"
echo "t_tenancy: migration ok"

# --- the template, filled in with every option, validates and plans ---
tpl_dir=$TMP/from_template
expect_exit 0 "$MIGRATE" --dir "$tpl_dir" new orders_tenancy --template multi-tenancy
tpl_file=$(ls "$tpl_dir"/*_orders_tenancy.yaml)
sed -i -e 's/<child_table>/order_items/g' -e 's/<table>/orders/g' -e "s/<admin_role>/$ADMIN/" \
	-e 's/^      # primary_key:/      primary_key:/' -e 's/^      # rls:/      rls:/' \
	-e 's/^      #   setting:/        setting:/' -e 's/^      #   admin_role:/        admin_role:/' \
	"$tpl_file"
expect_exit 0 "$MIGRATE" --dir "$tpl_dir" validate
expect_exit 0 mg --dir "$tpl_dir" plan --online
assert_contains "$OUT" "make \"tenant_id\" part of the primary key of \"orders\""
assert_contains "$OUT" "CREATE POLICY \"tenant_isolation\" ON \"order_items\""
echo "t_tenancy: template ok"
