#!/usr/bin/env bash
# Every operation of the specification on its own (indexes, constraints,
# RLS, policies, sql, multi-tenancy), plain and online:
# after apply and `rollback --to 0` the database is exactly what it was,
# as pg_dump -s and a checksum of every table's rows show it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

check_case create_index <<'YAML'
operations:
  - create_index:
      table: items
      name: items_code_name_idx
      columns: [code, "lower(name)"]
      unique: true
      where: price IS NOT NULL
      include: [tail]
YAML

check_case drop_index <<'YAML'
operations:
  - drop_index: { name: items_lower_name_idx }
YAML

check_case add_constraint_check <<'YAML'
operations:
  - add_constraint: { table: items, name: items_extra_small, check: extra < 100 }
YAML

check_case add_constraint_fk <<'YAML'
operations:
  - add_constraint:
      table: bare
      name: bare_a_fk
      foreign_key:
        columns: [a]
        references: { table: items, columns: [id] }
        on_delete: set null
YAML

check_case add_constraint_unique <<'YAML'
operations:
  - add_constraint: { table: items, name: items_name_key, unique: [name] }
YAML

check_case add_constraint_pk <<'YAML'
operations:
  - add_constraint: { table: bare, name: bare_pkey, primary_key: [a] }
YAML

check_case drop_constraint_check <<'YAML'
operations:
  - drop_constraint: { table: items, name: items_price_nonneg }
YAML

check_case drop_constraint_fk <<'YAML'
operations:
  - drop_constraint: { table: items, name: items_parent_fk }
YAML

check_case drop_constraint_unique <<'YAML'
operations:
  - drop_constraint: { table: items, name: items_code_key }
YAML

check_case enable_rls <<'YAML'
operations:
  - enable_rls: { table: items, force: true }
YAML

check_case create_policy <<'YAML'
operations:
  - create_policy:
      table: items
      name: items_own
      command: update
      roles: [public]
      using: extra > 0
      with_check: extra > 1
      permissive: false
YAML

check_case drop_policy <<'YAML'
operations:
  - drop_policy: { table: items, name: items_visible }
YAML

check_case sql_with_down <<'YAML'
operations:
  - sql:
      up: CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 100
      down: DROP VIEW cheap_items
YAML

check_case multi_tenancy <<'YAML'
operations:
  - multi_tenancy:
      tenant_table: tenants
      column: tenant_id
      type: integer
      default_tenant: { id: 1, name: Default Tenant }
      tables: [items, bare]
      foreign_key: true
      index: true
      rls: { setting: app.current_tenant }
YAML

[ -z "$failed" ] || fail "not rolled back exactly:$failed"
echo "rollback exact: $cases operations, each plain and online"
