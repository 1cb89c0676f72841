#!/usr/bin/env bash
# Index elements as PostgreSQL writes them (DESC, NULLS LAST, an operator
# class, a collation, expressions), the mapping form, storage parameters,
# NULLS NOT DISTINCT, a unique constraint with INCLUDE and named inline
# constraints: apply builds exactly that (pg_get_indexdef), rollback gives
# the database back exactly, and apply runs again, plain and online.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

indexes=$(cat <<'YAML'
operations:
  - create_index:
      table: items
      name: items_recent_idx
      columns: [parent_id, id DESC NULLS LAST, "(price + extra) DESC", name text_pattern_ops]
      include: [tail]
      with: {fillfactor: 70}
  - create_index:
      table: items
      name: items_code_c_key
      columns: [{column: code, collate: C, order: desc}, "lower(name)"]
      unique: true
      nulls_not_distinct: true
YAML
)
# NULLS NOT DISTINCT is PostgreSQL 15's: before, apply refuses it (exit 2,
# at its line) and the rest is tested without it.
if [ "$(server_version_num)" -lt 150000 ]; then
	new_db
	fixture
	write_migration 0001_nnd.yaml <<<"$indexes"
	expect_exit 2 mg --dir "$MIGDIR" apply
	assert_match "$ERR" '0001_nnd.yaml:[0-9]+:[0-9]+: create_index: "nulls_not_distinct" needs PostgreSQL 15' \
		"nulls_not_distinct on PostgreSQL 14"
	rm -f "$MIGDIR"/*.yaml
	indexes=$(grep -v 'nulls_not_distinct' <<<"$indexes")
	nulls_not_distinct=
else
	nulls_not_distinct=" NULLS NOT DISTINCT"
fi
check_case index_elements <<YAML
$indexes
  - create_index:
      table: items
      name: items_code_hash_idx
      method: hash
      columns: [code]
      with: {fillfactor: 80}
YAML

check_case unique_include <<'YAML'
operations:
  - add_constraint: {table: items, name: items_name_extra_key, unique: [name, extra], include: [note]}
YAML

check_case named_inline_constraints <<'YAML'
operations:
  - create_table:
      name: notes
      columns:
        - {name: id, type: bigint, primary_key: true}
        - {name: item_id, type: bigint, references: {table: items, name: notes_item_fk}}
        - {name: n, type: int, check: {name: notes_n_positive, expr: n > 0}}
      constraints:
        - {name: notes_item_n_key, unique: [item_id, n], include: [id]}
YAML
[ -z "$failed" ] || fail "not rolled back exactly:$failed"

# What apply built is what the file says.
new_db
fixture
rm -f "$MIGDIR"/*.yaml
write_migration 0001_idx.yaml <<YAML
$indexes
  - add_constraint: {table: items, name: items_name_extra_key, unique: [name, extra], include: [note]}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 'CREATE INDEX items_recent_idx ON public.items USING btree (parent_id, id DESC NULLS LAST, ((price + extra)) DESC, name text_pattern_ops) INCLUDE (tail) WITH (fillfactor='"'70'"')' \
	"$(sql "SELECT pg_get_indexdef('items_recent_idx'::regclass)")" "the DESC + INCLUDE index"
assert_eq 'CREATE UNIQUE INDEX items_code_c_key ON public.items USING btree (code COLLATE "C" DESC, lower(name))'"$nulls_not_distinct" \
	"$(sql "SELECT pg_get_indexdef('items_code_c_key'::regclass)")" "the unique index"
assert_eq 'UNIQUE (name, extra) INCLUDE (note)' \
	"$(sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'items_name_extra_key'")" \
	"the unique constraint with include"
assert_eq t "$(sql "SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = 'items'::regclass")" \
	"every index valid"
# the planner uses the DESC index for the newest rows of a parent
assert_contains "$(sql "SET enable_seqscan = off; EXPLAIN SELECT id FROM items WHERE parent_id = 2 ORDER BY id DESC NULLS LAST LIMIT 3")" \
	"items_recent_idx" "the plan of the application's query"

# An element that does not parse is refused by validate with its place.
write_migration 0002_bad.yaml <<'YAML'
operations:
  - create_index:
      table: items
      name: items_bad_idx
      columns: [parent_id, created_at DESK NULLS]
YAML
expect_exit 2 mg --dir "$MIGDIR" validate
assert_contains "$ERR" "0002_bad.yaml:5:" "the file and line"
assert_contains "$ERR" 'create_index: "columns" item 2: syntax error' "what is wrong"
echo "index elements: 3 cases exact, plain and online; definitions as written"
