#!/usr/bin/env bash
# The operations on views, materialized views, types, comments, replica
# identity, grants, roles, exclusion constraints and alter_column's unique,
# check and comment: each applied, rolled back (schema and rows exactly as
# before, plain and online) and applied again; then what each built.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

# The shared fixture, and objects for the operations that change existing ones.
eval "$(declare -f fixture | sed '1s/^fixture/base_fixture/')"
fixture()
{
	base_fixture
	sql "CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 100;
	CREATE VIEW pricey_items WITH (security_barrier = true) AS SELECT id FROM items WHERE price > 1000;
	CREATE MATERIALIZED VIEW parent_counts AS SELECT parent_id, count(*) AS n FROM items GROUP BY parent_id;
	CREATE UNIQUE INDEX parent_counts_parent ON parent_counts (parent_id);
	CREATE INDEX parent_counts_n ON parent_counts (n);
	GRANT SELECT ON parent_counts TO PUBLIC;
	CREATE TYPE mood AS ENUM ('sad', 'ok');
	CREATE TYPE old_pair AS (a integer, b text);
	CREATE SCHEMA reports;
	CREATE FUNCTION price_of(integer) RETURNS integer LANGUAGE sql AS 'SELECT \$1 * 100';
	CREATE EXTENSION IF NOT EXISTS btree_gist;" >/dev/null
}

if [ "$(server_version_num)" -ge 150000 ]; then
	check_case create_view <<'YAML'
operations:
  - create_view: {name: light_items, query: "SELECT id, name FROM items WHERE price < 10", security_invoker: true, check_option: local}
YAML
else
	check_case create_view <<'YAML'
operations:
  - create_view: {name: light_items, query: "SELECT id, name FROM items WHERE price < 10", check_option: local}
YAML
	# security_invoker is PostgreSQL 15's: refused at the file, nothing changed
	new_db
	mkdir -p "$TMP/si"
	cat >"$TMP/si/0001_si.yaml" <<'YAML'
operations:
  - create_view: {name: si_view, query: "SELECT 1 AS one", security_invoker: true}
YAML
	expect_exit 2 mg --dir "$TMP/si" apply --online
	assert_contains "$ERR" "0001_si.yaml:2:5" "the refusal points at the operation"
	assert_contains "$ERR" "needs PostgreSQL 15" "the refusal says why"
	assert_eq f "$(sql "SELECT to_regclass('si_view') IS NOT NULL")" "no view was made"
fi

check_case replace_view <<'YAML'
operations:
  - replace_view: {name: cheap_items, query: "SELECT id, name, price FROM items WHERE price < 200"}
YAML

check_case drop_view plain <<'YAML'
operations:
  - drop_view: {name: pricey_items}
YAML

check_case create_materialized_view <<'YAML'
operations:
  - create_materialized_view:
      name: code_counts
      query: SELECT code, count(*) AS n FROM items GROUP BY code
      indexes:
        - {name: code_counts_code, columns: [code], unique: true}
        - {name: code_counts_n, columns: [n DESC], include: [code]}
  - refresh_materialized_view: {name: code_counts}
YAML

check_case replace_materialized_view online <<'YAML'
operations:
  - replace_materialized_view:
      name: parent_counts
      query: SELECT parent_id, count(*) AS n, sum(price) AS total FROM items GROUP BY parent_id
      indexes:
        - {name: parent_counts_parent, columns: [parent_id], unique: true}
YAML

check_case refresh_materialized_view <<'YAML'
operations:
  - sql: {up: "INSERT INTO parents VALUES (99, 'new')", down: "DELETE FROM parents WHERE id = 99"}
  - sql: {up: "INSERT INTO items (name, price, code, extra, parent_id) VALUES ('x', 1, 'cx', 1, 99)", down: "DELETE FROM items WHERE parent_id = 99"}
  - refresh_materialized_view: {name: parent_counts}
YAML

check_case types <<'YAML'
operations:
  - create_type: {name: size, enum: [small, "it's big"]}
  - create_type: {name: price_tag, composite: [{name: amount, type: "numeric(12,2)"}, {name: currency, type: char(3)}]}
YAML

check_case drop_type plain <<'YAML'
operations:
  - drop_type: {name: old_pair}
YAML

check_case comments <<'YAML'
operations:
  - comment: {on: {table: items}, text: "the things we sell"}
  - comment: {on: {column: items.note}, text: null}
  - comment: {on: {column: {table: items, name: price}}, text: "in cents, it's said"}
  - comment: {on: {constraint: items.items_price_nonneg}, text: never negative}
  - comment: {on: {index: items_lower_name_idx}, text: by name}
  - comment: {on: {view: cheap_items}, text: cheap}
  - comment: {on: {materialized_view: parent_counts}, text: per parent}
  - comment: {on: {type: mood}, text: how it feels}
YAML

check_case replica_identity <<'YAML'
operations:
  - set_replica_identity: {table: items, identity: full}
  - set_replica_identity: {table: parents, identity: {index: parents_pkey}}
YAML

check_case grants <<'YAML'
operations:
  - grant: {privileges: [select, update], on: {table: parent_counts}, to: [public]}
  - grant: {privileges: [usage], on: {schema: public}, to: [public]}
  - revoke: {privileges: [select], on: {table: parent_counts}, from: [public]}
YAML

# Objects that were never granted on (ACL NULL: the defaults): a rollback
# gives back the default privileges, written out (the snapshot reads NULL
# as acldefault, as the server does).
check_case grants_on_defaults <<'YAML'
operations:
  - grant: {privileges: [select, insert], on: {table: bare}, to: [public]}
  - grant: {privileges: [all], on: {sequence: items_id_seq}, to: [public]}
  - grant: {privileges: [usage, create], on: {schema: reports}, to: [public]}
  - revoke: {privileges: [execute], on: {function: "price_of(integer)"}, from: [public]}
YAML

check_case exclusion_constraint <<'YAML'
operations:
  - add_constraint:
      table: items
      name: items_code_excl
      exclude: {using: gist, elements: [{column: code, operator: "="}, {expression: "int4range(extra, extra + 1)", operator: "&&"}], where: "price > 0"}
      unsafe_ok: a test table
YAML

check_case alter_column_unique_check_comment <<'YAML'
operations:
  - alter_column:
      table: items
      column: name
      unique: true
      check: {name: items_name_nonempty, expr: "length(name) > 0"}
      comment: what it is called
YAML
[ -z "$failed" ] || fail "not rolled back exactly:$failed"

# ---- what they built ----
new_db
fixture
rm -f "$MIGDIR"/*.yaml
write_migration 0001_objects.yaml <<'YAML'
operations:
  - create_view: {name: light_items, query: "SELECT id, name FROM items WHERE price < 10", check_option: local}
  - replace_view: {name: cheap_items, query: "SELECT id, name, price FROM items WHERE price < 200"}
  - drop_view: {name: pricey_items}
  - create_materialized_view:
      name: code_counts
      query: SELECT code, count(*) AS n FROM items GROUP BY code
      indexes: [{name: code_counts_code, columns: [code], unique: true}]
  - replace_materialized_view:
      name: parent_counts
      query: SELECT parent_id, count(*) AS n, sum(price) AS total FROM items GROUP BY parent_id
      indexes: [{name: parent_counts_parent, columns: [parent_id], unique: true}]
  - add_enum_value: {type: mood, value: happy, after: sad, unsafe_ok: the value may stay}
  - drop_type: {name: old_pair}
  - comment: {on: {table: items}, text: sold}
  - alter_column: {table: items, column: note, unique: true, comment: the note}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "300" "$(sql "SELECT sum(n) FROM code_counts")" "the materialized view is filled"
assert_eq "5 true" "$(sql "SELECT count(*) || ' ' || (sum(total) > 0) FROM parent_counts")" \
	"the new definition reads under the old name"
assert_eq "parent_counts_parent" "$(sql "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'parent_counts'::regclass")" \
	"the rebuilt view's index has the file's name"
assert_eq "=r/postgres" "$(sql "SELECT regexp_replace(array_to_string(relacl, ','), '^.*,', '') FROM pg_class WHERE oid = 'parent_counts'::regclass")" \
	"the old view's grants are on the new one"
assert_eq t "$(sql "SELECT to_regclass('pricey_items') IS NOT NULL")" "drop_view waits for finalize"
assert_eq "sad happy ok" "$(sql "SELECT string_agg(enumlabel, ' ' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'mood'::regtype")" \
	"the enum value, after sad"
assert_eq "the note" "$(sql "SELECT col_description('items'::regclass, 4)")" "the column's comment"
assert_eq "UNIQUE (note)" "$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'items_note_key'")" \
	"alter_column unique: the constraint, using its index"
expect_exit 0 mg --dir "$MIGDIR" plan --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "" "$(sql "SELECT to_regclass('pricey_items')")" "finalize drops the view"
assert_eq "" "$(sql "SELECT to_regtype('old_pair')")" "finalize drops the type"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_class WHERE relname LIKE 'mv_old_%'")" "finalize drops the old materialized view"

# A concurrent refresh with no unique index is refused before anything runs.
write_migration 0002_refresh.yaml <<'YAML'
operations:
  - create_materialized_view: {name: no_key, query: "SELECT name FROM items", indexes: [{name: no_key_name, columns: [name]}]}
  - refresh_materialized_view: {name: no_key}
YAML
expect_exit 2 mg --dir "$MIGDIR" validate
assert_contains "$ERR" "0002_refresh.yaml:3:5:" "the place"
assert_contains "$ERR" "no_key has no unique index" "why"
rm "$MIGDIR/0002_refresh.yaml"
sql "CREATE MATERIALIZED VIEW no_key AS SELECT name FROM items" >/dev/null
write_migration 0002_refresh.yaml <<'YAML'
operations:
  - refresh_materialized_view: {name: no_key}
YAML
expect_exit 2 mg --dir "$MIGDIR" lint
assert_contains "$ERR" "no_key has no unique index" "lint asks the database"
rm "$MIGDIR/0002_refresh.yaml"

# create_role: made if missing, dropped by rollback only if this migration made it.
role=it_role_$$_$RANDOM
sql "CREATE ROLE ${role}_there" >/dev/null
write_migration 0003_roles.yaml <<YAML
operations:
  - create_role: {name: $role, login: false}
  - create_role: {name: ${role}_there}
  - grant: {privileges: [select], on: {table: items}, to: [$role]}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq t "$(sql "SELECT has_table_privilege('$role', 'items', 'SELECT')")" "the new role's grant"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
assert_eq 0 "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = '$role'")" "the role migrate made is dropped"
assert_eq 1 "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = '${role}_there'")" "the role that was there stays"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 1 "$(sql "SELECT count(*) FROM pg_roles WHERE rolname = '$role'")" "applied again"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 1
sql "DROP ROLE ${role}_there" >/dev/null
write_migration 0004_pw.yaml <<'YAML'
operations:
  - create_role: {name: x, password: hunter2pw}
YAML
expect_exit 2 mg --dir "$MIGDIR" validate
assert_contains "$ERR" "no password in migration files" "a password is refused"
assert_not_contains "$ERR" "hunter2pw" "and not printed"
echo "objects: $cases cases exact; built as written"
