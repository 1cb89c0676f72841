#!/usr/bin/env bash
# t_partition_table_fk.sh: partition_table of a table that a foreign key
# points at (hash partitions on its key): the key follows the swap (NOT
# VALID, then validated) and back at rollback; a foreign key by a key that
# lacks the partition column is refused before anything changes; a list
# partitioning with its grants (the columns' too), policies and a trigger
# of the table's own.
. "$(dirname "$0")/lib.sh"

new_db
READER=${DB_NAME}_reader
sql "CREATE ROLE \"$READER\";
	CREATE TABLE customers (id integer PRIMARY KEY, region text NOT NULL, name text NOT NULL,
		touched int NOT NULL DEFAULT 0);
	CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id));
	INSERT INTO customers SELECT i, (ARRAY['eu', 'us', 'asia'])[1 + i % 3], 'c' || i FROM generate_series(1, 5000) i;
	INSERT INTO orders (customer_id) SELECT 1 + i % 5000 FROM generate_series(1, 20000) i;
	GRANT SELECT ON customers TO \"$READER\";
	GRANT UPDATE (name) ON customers TO \"$READER\" WITH GRANT OPTION;
	GRANT SELECT (region) ON customers TO PUBLIC;
	ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
	CREATE POLICY eu_only ON customers FOR SELECT TO \"$READER\" USING (region = 'eu');
	CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS \$\$
		BEGIN NEW.touched := NEW.touched + 1; RETURN NEW; END \$\$;
	CREATE TRIGGER touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION touch()" >/dev/null
BEFORE=$(sql "SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c")

write_migration 0001_hash.yaml <<'EOF2'
operations:
  - partition_table:
      table: customers
      by: {hash: id}
      modulus: 4
EOF2
mg --dir "$MIGDIR" apply --online >"$TMP/apply.log" 2>&1 || { cat "$TMP/apply.log"; fail "apply"; }
assert_eq p "$(sql "SELECT relkind FROM pg_class WHERE oid = 'customers'::regclass")"
assert_eq "customers true" "$(sql "SELECT confrelid::regclass || ' ' || convalidated::text FROM pg_constraint
	WHERE conrelid = 'orders'::regclass AND contype = 'f' AND conparentid = 0")" "the foreign key points at the new table, validated"
expect_exit 1 sql "INSERT INTO orders (customer_id) VALUES (999999)"
assert_eq "$BEFORE" "$(sql "SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c")"
# the table's own trigger, grants and policy work on the new table
sql "UPDATE customers SET name = 'renamed' WHERE id = 1" >/dev/null
assert_eq "1 1" "$(sql "SELECT touched || ' ' || (SELECT touched FROM customers_unpartitioned WHERE id = 1)
	FROM customers WHERE id = 1")" "the trigger fired once, and the old table got the row as written"
assert_eq "eu" "$(psql -XAtq -d "$DB_URL" -c "SET ROLE \"$READER\"; SELECT DISTINCT region FROM customers")"
# the columns' own grants too, grant option included
column_acl()
{
	sql "SELECT string_agg(attname || '=' || attacl::text, ' ' ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = '$1'::regclass AND attacl IS NOT NULL AND NOT attisdropped"
}
assert_eq "$(column_acl customers_unpartitioned)" "$(column_acl customers)" "the column grants"
assert_contains "$(column_acl customers)" "name={$READER=w*/postgres}" "a role's column grant, with its option"
assert_contains "$(column_acl customers)" "region={=r/postgres}" "PUBLIC's column grant"
mg --dir "$MIGDIR" rollback >"$TMP/rollback.log" 2>&1 || { cat "$TMP/rollback.log"; fail "rollback"; }
assert_eq "customers true" "$(sql "SELECT confrelid::regclass || ' ' || convalidated::text FROM pg_constraint
	WHERE conrelid = 'orders'::regclass AND contype = 'f' AND conparentid = 0")" "the foreign key points back at the old table"
assert_eq r "$(sql "SELECT relkind FROM pg_class WHERE oid = 'customers'::regclass")"
assert_eq "1 renamed" "$(sql "SELECT touched || ' ' || name FROM customers WHERE id = 1")" "the write made since is kept"
sql "UPDATE customers SET name = 'again' WHERE id = 1" >/dev/null
assert_eq 2 "$(sql "SELECT touched FROM customers WHERE id = 1")" "the table's trigger is enabled again"

# by region: the key (id) that orders points at lacks it: refused, nothing changed
write_migration 0001_hash.yaml <<'EOF2'
operations:
  - partition_table:
      table: customers
      by: {list: region}
      partitions:
        - {name: customers_eu, values: [eu]}
        - {name: customers_other, values: default}
EOF2
rm -f "$STATE"
mg --dir "$MIGDIR" forget 1 >/dev/null 2>&1 || true
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "foreign key orders_customer_id_fkey of orders points at customers by (id), which lacks the partition column(s) region"
assert_eq "r" "$(sql "SELECT relkind FROM pg_class WHERE oid = 'customers'::regclass")"
assert_eq "" "$(sql "SELECT coalesce(to_regclass('customers_partitioned')::text, '')")"
echo ok
