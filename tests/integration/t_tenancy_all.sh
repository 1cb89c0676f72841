#!/usr/bin/env bash
# t_tenancy_all.sh: multi_tenancy with all: true and exclude.  plan
# without a database refuses it (exit 2) and says why; apply gives the
# tenant to every ordinary table of the schema but the excluded ones, the
# tenant table and the history table; the rollback undoes exactly those,
# even when a table was created since.
. "$(dirname "$0")/lib.sh"

new_db
sql "CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL);
	CREATE TABLE invoices (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id));
	CREATE TABLE \"Lookup codes\" (code text PRIMARY KEY);
	CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);
	CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	CREATE SCHEMA other; CREATE TABLE other.elsewhere (id integer);
	INSERT INTO accounts (name) VALUES ('a'), ('b');
	INSERT INTO invoices (account_id) VALUES (1), (2), (2);
	INSERT INTO \"Lookup codes\" VALUES ('x')"

write_migration 0001_all_tenants.yaml <<'EOF2'
operations:
  - multi_tenancy:
      tenant_table: tenants
      column: tenant_id
      type: integer
      default_tenant: { id: 1, name: Default Tenant }
      all: true
      exclude: [Lookup codes]
      foreign_key: true
      index: true
EOF2

# without a database: refused, with the reason
expect_exit 2 env -u PGHOST -u PGPORT "$MIGRATE" --dir "$MIGDIR" plan
assert_contains "$ERR" "0001_all_tenants.yaml:2: multi_tenancy: \"all: true\" means every table"
assert_contains "$ERR" "give a database (-d)"

# with one, the plan names the tables it found
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "add \"tenant_id\" to \"accounts\""
assert_contains "$OUT" "add \"tenant_id\" to \"invoices\""
assert_not_contains "$OUT" "add \"tenant_id\" to \"events\""
assert_not_contains "$OUT" "add \"tenant_id\" to \"Lookup codes\""
assert_not_contains "$OUT" "add \"tenant_id\" to \"events_2026\""
assert_not_contains "$OUT" "elsewhere"

# apply it (this also creates the history table, which must stay untouched)
snapshot()
{
	schema_snapshot
}
BEFORE=$(snapshot)
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "accounts invoices" \
	"$(sql "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid WHERE a.attname = 'tenant_id' AND c.relkind IN ('r', 'p')")" \
	"the tables that got the tenant"
assert_eq 0 "$(sql "SELECT count(*) FROM invoices WHERE tenant_id <> 1")" "existing rows in the default tenant"

# a table created since, with a tenant_id of its own, is not the rollback's
sql "CREATE TABLE later (id integer, tenant_id integer NOT NULL DEFAULT 7)"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 1 "$(sql "SELECT count(*) FROM pg_attribute WHERE attname = 'tenant_id' AND attrelid = 'later'::regclass")" \
	"the later table keeps its column"
sql "DROP TABLE later"
assert_eq "$BEFORE" "$(snapshot)" "the schema after apply + rollback"
assert_eq 0 "$(sql "SELECT count(*) FROM migrate.saved_objects")" "saved state forgotten"
echo "t_tenancy_all: ok"
