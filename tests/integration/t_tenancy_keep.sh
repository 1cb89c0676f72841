#!/usr/bin/env bash
# Rolling back multi_tenancy drops the tenant table it created only while
# no tenant was added since: one holding tenants the migration did not
# create is kept, with them (the default tenant, the migration's own row,
# is removed).  The application's writes work after each rollback.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
	INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 500) g"
write_migration 0001_tenancy.yaml <<'YAML'
operations:
  - multi_tenancy:
      tenant_table: tenants
      column: tenant_id
      type: integer
      default_tenant: { id: 1, name: Default Tenant }
      tables: [customers]
YAML
app_writes()
{
	sql "INSERT INTO customers (name) VALUES ('app'); UPDATE customers SET name = name WHERE id = 1" \
		>/dev/null || fail "the application's writes fail after $1"
}

# Nothing added: the rollback drops the table it made.
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "" "$(sql "SELECT to_regclass('tenants')")" "the tenant table it made, empty, is dropped"
app_writes "the first rollback"

# A tenant added after the migration: the table is kept, with it.
expect_exit 0 mg --dir "$MIGDIR" apply --online
sql "INSERT INTO tenants (id, name) VALUES (2, 'Acme')"
sql "INSERT INTO customers (name, tenant_id) VALUES ('acme customer', 2)"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "2|Acme" "$(sql "SELECT id, name FROM tenants ORDER BY id")" \
	"the tenant table is kept with the tenant added since, without the default one"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'customers'::regclass
	AND attname = 'tenant_id' AND NOT attisdropped")" "the tenant column is gone"
app_writes "the rollback that kept the tenants"

# Applied again over the kept table (not created this time): rollback keeps it.
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "2|Acme" "$(sql "SELECT id, name FROM tenants ORDER BY id")" "a table it did not make is kept"
app_writes "the last rollback"
