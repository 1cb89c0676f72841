#!/usr/bin/env bash
# t_ledger_owners: policies, views, roles, rename_table's view and the
# tenant table are judged by the ledger, never by name (issue 13).
#  a. An object of the name made by someone else before apply: create_policy
#     and create_view are refused naming the owner, nothing changed, the
#     application's statements still work; create_role and multi_tenancy
#     ("if missing") use the one there and their rollback keeps it.
#  b. A failure after the objects were made, the file fixed, rerun: the
#     policy and the view are replaced from the fixed file, the role kept,
#     status completed; rollback removes exactly this migration's objects
#     (catalog, every row of the table, the hand-made objects kept).
#  c. kill -9 during apply, then resume: equal to an uninterrupted run;
#     rollback gives back the schema as it was.
#  d. multi_tenancy: the tenant table the migration made is kept by the
#     rollback while it holds a tenant the migration did not add; one the
#     ledger does not record as this migration's (made by hand) is never
#     dropped, even empty.
. "$(dirname "$0")/lib.sh"

# roles are the cluster's, and tests run side by side: names of this run's own
ROLE=it_owner_role_$$_$RANDOM
HAND_ROLE=it_hand_role_$$_$RANDOM
cleanup_roles() { psql -XAtq -d "$DB_URL" -c "DROP ROLE IF EXISTS $ROLE" -c "DROP ROLE IF EXISTS $HAND_ROLE" >/dev/null 2>&1 || true; }

rows_of() { sql "SELECT coalesce(string_agg(id || ':' || v, ',' ORDER BY id), '') FROM t"; }
policy_of() { sql "SELECT coalesce(pg_get_expr(polqual, polrelid), '-') FROM pg_policy WHERE polrelid = 't'::regclass AND polname = '$1'"; }
view_of() { sql "SELECT coalesce(regexp_replace(pg_get_viewdef(to_regclass('$1')), '\s+', ' ', 'g'), '-')"; }
ledger_of() { sql "SELECT coalesce(string_agg(kind || ':' || name, ',' ORDER BY kind, name), '') FROM migrate.ledger_objects WHERE version = $1 AND kind IN ('policy', 'view', 'role', 'table')"; }
app_writes()
{
	sql "INSERT INTO t (id, v) VALUES (1000 + (SELECT count(*) FROM t), 7); UPDATE t SET v = v WHERE id = 1;
		DELETE FROM t WHERE id >= 1000" >/dev/null || fail "the application's writes fail after $1"
}
setup_table()
{
	sql "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
		INSERT INTO t SELECT g, g % 7 FROM generate_series(1, 300) g"
}
# fresh [SQL]: a new database with table t, SQL run, and what it holds now in $before and $rows
fresh()
{
	new_db
	setup_table
	[ -z "${1:-}" ] || sql "$1"
	before=$(schema_snapshot) || fail "schema_snapshot failed"
	rows=$(rows_of)
}

# The migration of b and c; $1: the policy's condition, $2: the view's, $3: the last operation.
write_owned()
{
	rm -f "$MIGDIR"/*.yaml
	cat >"$MIGDIR/0001_owned.yaml" <<YAML
operations:
  - create_policy: { table: t, name: p_owned, command: select, using: "$1" }
  - create_view: { name: w_owned, query: "SELECT id, v FROM t WHERE $2" }
  - create_role: { name: $ROLE, login: false }
  - sql: { up: "$3", down: null }
YAML
}

# ---- a. refused when someone else holds the name ----
fresh "CREATE POLICY p_owned ON t FOR SELECT USING (v = 3)"
write_owned "v > 0" "v > 0" "SELECT 1"
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "policy p_owned on t already exists, not made by migrate, not by this migration" "the policy's owner named"
assert_contains "$ERR" "nothing was changed for this step" "nothing changed, says the message"
assert_eq "$before" "$(schema_snapshot)" "the schema, after the refused policy"
assert_eq "(v = 3)" "$(policy_of p_owned)" "the hand-made policy, untouched"
assert_eq "$rows" "$(rows_of)" "every row, after the refused policy"
assert_eq "failed" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" "history: failed"
app_writes "the refused policy"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "(v = 3)" "$(policy_of p_owned)" "the hand-made policy, after the rollback of the refused migration"
assert_eq "$before" "$(schema_snapshot)" "the schema, after that rollback"

# a view of the name made by hand: refused, and the view is untouched
fresh "CREATE VIEW w_owned AS SELECT id FROM t WHERE v = 5"
write_owned "v > 0" "v > 0" "SELECT 1"
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "view w_owned already exists, not made by migrate, not by this migration" "the view's owner named"
assert_eq "(v > 0)" "$(policy_of p_owned)" "the policy, made by the step before the refused one"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(schema_snapshot)" "the schema, the hand-made view kept, after the rollback"
assert_eq "SELECT id FROM t WHERE (v = 5);" "$(view_of w_owned | sed 's/^ //; s/t\.//g')" "the hand-made view's definition"
app_writes "the refused view"

# a view made by another migration: named as that migration's
new_db
setup_table
rm -f "$MIGDIR"/*.yaml
write_migration 0001_first.yaml <<'YAML'
operations:
  - create_view: { name: w_owned, query: "SELECT id FROM t" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
write_migration 0002_second.yaml <<'YAML'
operations:
  - create_view: { name: w_owned, query: "SELECT id, v FROM t" }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "view w_owned already exists, made by migration 1 (step 1.1.1), not by this migration" "owned by migration 1"
assert_eq "SELECT id FROM t;" "$(view_of w_owned | sed 's/^ //; s/t\.//g')" "migration 1's view kept"

# a role of the name made by hand: create_role uses it ("if missing"), never drops it
new_db
setup_table
sql "CREATE ROLE $HAND_ROLE NOLOGIN"
hand_oid=$(sql "SELECT oid FROM pg_roles WHERE rolname = '$HAND_ROLE'")
rm -f "$MIGDIR"/*.yaml
write_migration 0001_role.yaml <<YAML
operations:
  - create_role: { name: $HAND_ROLE, login: false }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "" "$(ledger_of 1)" "a role it did not make is not recorded as its own"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$hand_oid" "$(sql "SELECT oid FROM pg_roles WHERE rolname = '$HAND_ROLE'")" "the hand-made role kept by the rollback"
cleanup_roles

# ---- b. a failure after the objects were made; fixed; rerun ----
fresh "CREATE POLICY p_hand ON t FOR SELECT USING (v = 1); CREATE VIEW w_hand AS SELECT id FROM t"
write_owned "v > 0" "v > 0" "SELECT 1 / 0"
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "division by zero" "the failure"
assert_eq "(v > 0)" "$(policy_of p_owned)" "the policy, made before the failure"
role_oid=$(sql "SELECT oid FROM pg_roles WHERE rolname = '$ROLE'")
[ -n "$role_oid" ] || fail "the role was not made"
assert_eq "policy:p_owned,role:$ROLE,view:w_owned" "$(ledger_of 1)" "the ledger records the three as migration 1's"
app_writes "the failure"
# the file fixed: another policy condition, another view, a sql that works
write_owned "v > 2" "v > 4" "SELECT 1"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "completed" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" "history: completed"
assert_eq "(v > 2)" "$(policy_of p_owned)" "the policy replaced from the fixed file"
assert_contains "$(view_of w_owned)" "v > 4" "the view replaced from the fixed file"
assert_eq "$role_oid" "$(sql "SELECT oid FROM pg_roles WHERE rolname = '$ROLE'")" "the role kept (same oid)"
assert_eq "(v = 1)" "$(policy_of p_hand)" "the hand-made policy untouched"
assert_eq 1 "$(sql "SELECT count(*) FROM migrate.ledger_objects l JOIN pg_policy p ON p.oid = l.oid
	WHERE l.version = 1 AND l.kind = 'policy' AND p.polname = 'p_owned'")" "the ledger holds the new policy's oid"
assert_eq 1 "$(sql "SELECT count(*) FROM migrate.ledger_objects WHERE version = 1 AND kind = 'view'
	AND oid = 'w_owned'::regclass")" "the ledger holds the new view's oid"
assert_eq "$rows" "$(rows_of)" "every row, after the rerun"
app_writes "the rerun"
# run again, unchanged: all done, nothing replaced
policy_oid=$(sql "SELECT oid FROM pg_policy WHERE polname = 'p_owned'")
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "$policy_oid" "$(sql "SELECT oid FROM pg_policy WHERE polname = 'p_owned'")" "an unchanged file replaces nothing"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(schema_snapshot)" "rollback removes exactly the migration's policy and view"
assert_eq "" "$(sql "SELECT rolname FROM pg_roles WHERE rolname = '$ROLE'")" "rollback drops the role it made"
assert_eq "(v = 1)" "$(policy_of p_hand)" "the hand-made policy, after the rollback"
assert_eq "$rows" "$(rows_of)" "every row, after the rollback"
app_writes "the rollback"
cleanup_roles

# an index of this migration, its file changed after a failure: kept as built, and said so
fresh
rm -f "$MIGDIR"/*.yaml
write_migration 0001_index.yaml <<'YAML'
operations:
  - create_index: { table: t, name: t_v_idx, columns: [v] }
  - sql: { up: "SELECT 1 / 0", down: null }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
index_oid=$(sql "SELECT 't_v_idx'::regclass::oid")
sed -i 's/columns: \[v\]/columns: [v, id]/; s|SELECT 1 / 0|SELECT 1|' "$MIGDIR/0001_index.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_contains "$OUT$ERR" "the file has changed since, and what this step made is kept as it was made" "a changed index is said to be kept"
assert_eq "$index_oid|CREATE INDEX t_v_idx ON public.t USING btree (v)" \
	"$(sql "SELECT 't_v_idx'::regclass::oid, pg_get_indexdef('t_v_idx'::regclass)")" "the index kept as built"
assert_eq "completed" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" "history: completed"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(schema_snapshot)" "the index's rollback: the schema as it was"
assert_eq "$rows" "$(rows_of)" "every row, after the index's rollback"

# ---- c. kill -9 during apply, then resume ----
fresh
write_owned "v > 0" "v > 0" "SELECT pg_sleep(20)"
sleeping() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(20)'")" = 1 ]; }
"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" --format json apply --online \
	>"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
wait_until 30 sleeping || { cat "$TMP/k.err" >&2; fail "the last step did not start"; }
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(20)'" >/dev/null
app_writes "the kill"
rm -f "$STATE" "$STATE-wal" "$STATE-shm"
policy_oid=$(sql "SELECT oid FROM pg_policy WHERE polname = 'p_owned'")
view_oid=$(sql "SELECT 'w_owned'::regclass::oid")
sed -i 's/pg_sleep(20)/pg_sleep(0)/' "$MIGDIR/0001_owned.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "completed" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" "history: completed after the kill"
assert_eq "$policy_oid|$view_oid" "$(sql "SELECT (SELECT oid FROM pg_policy WHERE polname = 'p_owned'), 'w_owned'::regclass::oid")" \
	"the resume keeps the policy and the view it made before the kill (done, not made again)"
assert_eq "policy:p_owned,role:$ROLE,view:w_owned" "$(ledger_of 1)" "the ledger, after the resume"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(schema_snapshot)" "rollback after the resumed apply: the schema as it was"
assert_eq "" "$(sql "SELECT rolname FROM pg_roles WHERE rolname = '$ROLE'")" "the role gone"
assert_eq "$rows" "$(rows_of)" "every row, after the resumed apply and its rollback"
cleanup_roles

# ---- rename_table: the view that keeps the old name is this migration's own ----
fresh
rm -f "$MIGDIR"/*.yaml
write_migration 0001_rename.yaml <<'YAML'
operations:
  - rename_table: { from: t, to: t2 }
  - sql: { up: "SELECT 1 / 0", down: null }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_eq "view:t" "$(ledger_of 1)" "the old name's view recorded as migration 1's"
sql "INSERT INTO t (id, v) VALUES (5000, 1); DELETE FROM t WHERE id = 5000" >/dev/null || fail "old code's writes through the view"
sed -i 's|SELECT 1 / 0|SELECT 1|' "$MIGDIR/0001_rename.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(schema_snapshot)" "rename_table rolled back: the view gone, the table back"
assert_eq "$rows" "$(rows_of)" "every row, after the rename's rollback"
# a view over the renamed table that is another migration's is not dropped by finalize
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "" "$(sql "SELECT to_regclass('t')")" "finalize dropped its own view"
assert_eq "$rows" "$(sql "SELECT coalesce(string_agg(id || ':' || v, ',' ORDER BY id), '') FROM t2")" "every row, in the renamed table"

# ---- d. multi_tenancy's tenant table ----
tenancy()
{
	rm -f "$MIGDIR"/*.yaml
	write_migration 0001_tenancy.yaml <<'YAML'
operations:
  - multi_tenancy:
      tenant_table: tenants
      column: tenant_id
      type: integer
      default_tenant: { id: 1, name: Default Tenant }
      tables: [t]
YAML
}
# made by hand, empty: used, never dropped
new_db
setup_table
sql "CREATE TABLE tenants (id integer PRIMARY KEY, name text NOT NULL UNIQUE, subdomain text UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(), settings jsonb NOT NULL DEFAULT '{}')"
tenants_oid=$(sql "SELECT 'tenants'::regclass::oid")
tenancy
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "" "$(ledger_of 1)" "a tenant table that was there is not recorded as the migration's"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$tenants_oid|0" "$(sql "SELECT 'tenants'::regclass::oid, count(*) FROM tenants")" \
	"the hand-made tenant table kept, empty, by the rollback"
app_writes "the tenancy rollback"
# made by the migration, a tenant added since: kept with it; then dropped once it is gone
new_db
setup_table
tenancy
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "table:tenants" "$(ledger_of 1)" "the tenant table it made recorded as its own"
sql "INSERT INTO tenants (id, name) VALUES (2, 'Acme')"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "2|Acme" "$(sql "SELECT id, name FROM tenants ORDER BY id")" "kept with the tenant added since, without the default one"
sql "DELETE FROM tenants"
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "" "$(sql "SELECT to_regclass('tenants')")" "its own tenant table, empty, dropped"
# its own table dropped by hand and made again by someone else: not the migration's, kept
expect_exit 0 mg --dir "$MIGDIR" apply --online
sql "BEGIN; ALTER TABLE t DROP CONSTRAINT IF EXISTS t_tenant_id_fkey; DROP TABLE tenants CASCADE;
	CREATE TABLE tenants (id integer PRIMARY KEY, name text NOT NULL UNIQUE, subdomain text UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(), settings jsonb NOT NULL DEFAULT '{}'); COMMIT"
other_oid=$(sql "SELECT 'tenants'::regclass::oid")
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$other_oid" "$(sql "SELECT 'tenants'::regclass::oid")" "a tenant table of the name that is not the one it made is kept, even empty"
app_writes "the last tenancy rollback"
echo "ok"
