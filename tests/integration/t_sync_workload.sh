#!/usr/bin/env bash
# t_sync_workload.sh: the sync triggers under an old application that
# inserts, updates the source columns of existing rows and deletes while
# `apply --online` and `rollback` run: add_column with a backfill, a type
# change through a shadow column, multi_tenancy with tenant_from.  After
# each apply every row holds the expression over its current values; after
# each rollback every value the application wrote is there (logged by the
# application itself, in the statement that wrote it), and rows it never
# touched hold what they held before.
. "$(dirname "$0")/lib.sh"

new_db
ROWS=30000
sql "CREATE TABLE items (id serial PRIMARY KEY, a integer NOT NULL, b text NOT NULL, s text)
	WITH (autovacuum_enabled = off);
	INSERT INTO items (a, b, s) SELECT g, 'b' || g, 'original-' || g FROM generate_series(1, $ROWS) g;
	CREATE TABLE items_orig AS SELECT * FROM items;
	CREATE TABLE applog (n bigserial PRIMARY KEY, item integer NOT NULL, kind text NOT NULL,
		a integer, b text, s text);
	CREATE TABLE parents (id integer PRIMARY KEY, name text NOT NULL);
	INSERT INTO parents SELECT g, 'p' || g FROM generate_series(1, 200) g;
	CREATE TABLE children (id serial PRIMARY KEY, parent_id integer NOT NULL REFERENCES parents,
		v integer);
	INSERT INTO children (parent_id, v) SELECT 1 + g % 200, g FROM generate_series(1, $ROWS) g;
	CREATE TABLE children_orig AS SELECT * FROM children;
	CREATE TABLE childlog (n bigserial PRIMARY KEY, child integer NOT NULL, kind text NOT NULL,
		parent_id integer, v integer)" >/dev/null

SETTINGS='settings: { batch_size: 500, batch_delay: 5ms }'
write_migration 0001_derived.yaml <<EOF2
$SETTINGS
operations:
  - add_column:
      table: items
      column: { name: d, type: text, nullable: false, default: "'none'" }
      backfill: "b || '-' || a::text"
EOF2
write_migration 0002_type.yaml <<EOF2
$SETTINGS
operations:
  - alter_column: { table: items, column: s, type: varchar(5), using: "left(s, 5)" }
EOF2
write_migration 0003_tenants.yaml <<EOF2
$SETTINGS
operations:
  - multi_tenancy:
      tenant_table: tenants
      column: tenant_id
      type: integer
      default_tenant: { id: 1, name: Default }
      tables: [parents, children]
      tenant_from:
        children: { table: parents, via: parent_id }
      foreign_key: true
      index: true
EOF2

WORKLOAD_CLIENTS=2
WORKLOAD_SCRIPT=$REPO/tests/integration/apps/items.sql
WORKLOAD_DEFINES=(-D rows="$ROWS")

# items_wrong S: rows of items that differ from what the application wrote
# over the original rows; S maps the expected s (e.g. "left(%s, 5)").
items_wrong()
{
	local s_expected=${1//%s/e.s}

	sql "WITH ids AS (SELECT id FROM items_orig UNION SELECT item FROM applog),
	last_any AS (SELECT DISTINCT ON (item) item, kind FROM applog ORDER BY item, n DESC),
	last_ab AS (SELECT DISTINCT ON (item) item, a, b FROM applog
		WHERE kind IN ('ins', 'ab') ORDER BY item, n DESC),
	last_s AS (SELECT DISTINCT ON (item) item, s FROM applog
		WHERE kind IN ('ins', 's') ORDER BY item, n DESC),
	e AS (SELECT ids.id, coalesce(la.a, o.a) AS a, coalesce(la.b, o.b) AS b,
			CASE WHEN ls.item IS NULL THEN o.s ELSE ls.s END AS s,
			coalesce(lany.kind = 'del', false) AS deleted
		FROM ids LEFT JOIN items_orig o ON o.id = ids.id
		LEFT JOIN last_ab la ON la.item = ids.id LEFT JOIN last_s ls ON ls.item = ids.id
		LEFT JOIN last_any lany ON lany.item = ids.id)
	SELECT count(*) FROM e FULL JOIN items i ON i.id = e.id
	WHERE e.id IS NULL OR (e.deleted AND i.id IS NOT NULL)
	   OR (NOT e.deleted AND (i.id IS NULL
	       OR (i.a, i.b, i.s::text) IS DISTINCT FROM (e.a, e.b, ($s_expected)::text)))"
}

# children_wrong: rows of children that differ from what the application wrote.
children_wrong()
{
	sql "WITH ids AS (SELECT id FROM children_orig UNION SELECT child FROM childlog),
	last_any AS (SELECT DISTINCT ON (child) child, kind FROM childlog ORDER BY child, n DESC),
	last_p AS (SELECT DISTINCT ON (child) child, parent_id FROM childlog
		WHERE kind IN ('ins', 'move') ORDER BY child, n DESC),
	last_v AS (SELECT DISTINCT ON (child) child, v FROM childlog
		WHERE kind IN ('ins', 'v') ORDER BY child, n DESC),
	e AS (SELECT ids.id, coalesce(lp.parent_id, o.parent_id) AS parent_id,
			CASE WHEN lv.child IS NULL THEN o.v ELSE lv.v END AS v,
			coalesce(lany.kind = 'del', false) AS deleted
		FROM ids LEFT JOIN children_orig o ON o.id = ids.id
		LEFT JOIN last_p lp ON lp.child = ids.id LEFT JOIN last_v lv ON lv.child = ids.id
		LEFT JOIN last_any lany ON lany.child = ids.id)
	SELECT count(*) FROM e FULL JOIN children c ON c.id = e.id
	WHERE e.id IS NULL OR (e.deleted AND c.id IS NOT NULL)
	   OR (NOT e.deleted AND (c.id IS NULL OR (c.parent_id, c.v) IS DISTINCT FROM (e.parent_id, e.v)))"
}

# during WHAT cmd...: cmd while the application works; it must exit 0, and
# the application must see no failed transaction.
during()
{
	local what=$1

	shift
	workload_start
	sleep 1
	expect_exit 0 "$@"
	sleep 1
	workload_stop "$what"
	echo "$what: $WORKLOAD_ROUNDS rounds, $(sql "SELECT count(*) FROM applog") + \
$(sql "SELECT count(*) FROM childlog") logged writes so far"
}

# 1. add_column with a backfill: the derived column follows a and b
during "apply --online of add_column" mg --dir "$MIGDIR" apply --online --to 1
assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE d IS DISTINCT FROM b || '-' || a::text")" \
	"rows whose d is not b || '-' || a after apply"
assert_eq 0 "$(items_wrong %s)" "rows not as the application wrote them"
updated=$(sql "SELECT count(DISTINCT item) FROM applog WHERE kind = 'ab' AND item <= $ROWS")
[ "$updated" -gt 100 ] || fail "the application updated only $updated existing rows"
# new code that sets d keeps it; old code that then changes a gets d derived again
# (on a row the application never wrote: it may have deleted any other)
K=$(sql "SELECT min(id) FROM items AS i WHERE NOT EXISTS (SELECT FROM applog WHERE item = i.id)")
[ -n "$K" ] || fail "every row was written by the application"
K2=$((K + 1000))
assert_eq "mine" "$(sql "UPDATE items SET d = 'mine' WHERE id = $K RETURNING d")" "new code's d"
assert_eq "mine" "$(sql "UPDATE items SET s = 'x' WHERE id = $K RETURNING d")" "d after an unrelated write"
assert_eq "b$K-$K2" "$(sql "UPDATE items SET a = $K2, b = 'b$K' WHERE id = $K RETURNING d")" \
	"d after old code changed its sources"
assert_eq "given" "$(sql "INSERT INTO items (a, b, d) VALUES (1, 'n', 'given') RETURNING d")" \
	"an insert that gives d"
assert_eq "n-2" "$(sql "INSERT INTO items (a, b) VALUES (2, 'n') RETURNING d")" \
	"an insert that leaves d out"
sql "DELETE FROM items WHERE id > (SELECT max(id) FROM items_orig) AND b = 'n';
	UPDATE items SET a = $K, b = 'b$K' WHERE id = $K AND NOT EXISTS (SELECT FROM applog WHERE item = $K)" >/dev/null
sql "INSERT INTO applog (item, kind, a, b) SELECT $K, 'ab', a, b FROM items WHERE id = $K;
	INSERT INTO applog (item, kind, s) VALUES ($K, 's', 'x')" >/dev/null

during "rollback of add_column" mg --dir "$MIGDIR" rollback --to 0
assert_eq "" "$(sql "SELECT attname FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'd'")" \
	"d after rollback"
assert_eq 0 "$(items_wrong %s)" "rows not as the application wrote them, after rollback"

# 2. text to varchar(5) through a shadow column: rollback gives back the
# original text of every row the application did not write s of
during "apply --online of the type change" mg --dir "$MIGDIR" apply --online --to 2
assert_eq "character varying(5)" "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'items'::regclass AND attname = 's'")" "type of s"
assert_eq 0 "$(items_wrong 'left(%s, 5)')" "rows whose s is not left(written, 5)"
untouched=$(sql "SELECT count(*) FROM items i WHERE id <= $ROWS
	AND NOT EXISTS (SELECT FROM applog WHERE item = i.id AND kind = 's')
	AND EXISTS (SELECT FROM applog WHERE item = i.id AND kind = 'ab' AND n > (SELECT min(n) FROM applog))")
echo "rows whose a and b the application wrote but not s: $untouched"
during "rollback of the type change" mg --dir "$MIGDIR" rollback --to 1
assert_eq "text" "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'items'::regclass AND attname = 's'")" "type of s after rollback"
assert_eq 0 "$(items_wrong %s)" "rows not as the application wrote them, after rollback"
assert_eq 0 "$(sql "SELECT count(*) FROM items i JOIN items_orig o USING (id)
	WHERE i.s IS DISTINCT FROM o.s AND NOT EXISTS (SELECT FROM applog WHERE item = i.id AND kind = 's')")" \
	"original text lost"

# 3. multi_tenancy with tenant_from: a child's tenant follows its parent
WORKLOAD_SCRIPT=$REPO/tests/integration/apps/children.sql
WORKLOAD_DEFINES=(-D rows="$ROWS" -D parents=200)
during "apply --online of multi_tenancy" mg --dir "$MIGDIR" apply --online --to 3
assert_eq 0 "$(sql "SELECT count(*) FROM children c JOIN parents p ON p.id = c.parent_id
	WHERE c.tenant_id IS DISTINCT FROM p.tenant_id")" "children in another tenant than their parent"
assert_eq 0 "$(children_wrong)" "children not as the application wrote them"
during "rollback of multi_tenancy" mg --dir "$MIGDIR" rollback --to 2
assert_eq 0 "$(children_wrong)" "children not as the application wrote them, after rollback"
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 3
# new code gives half the parents another tenant and moves their children along
sql "INSERT INTO tenants (id, name) VALUES (2, 'Second');
	UPDATE parents SET tenant_id = 2 WHERE id % 2 = 0;
	UPDATE children c SET tenant_id = p.tenant_id FROM parents p
	WHERE p.id = c.parent_id AND c.tenant_id <> p.tenant_id" >/dev/null
assert_eq 2 "$(sql "UPDATE children SET parent_id = 2 WHERE id = (SELECT min(id) FROM children
	WHERE parent_id % 2 = 1) RETURNING tenant_id")" "a child moved by old code to a parent of tenant 2"
workload_start
sleep 4
workload_stop "old code moving children between tenants"
moved=$(sql "SELECT count(*) FROM childlog WHERE kind = 'move' AND n > (SELECT max(n) - 1000 FROM childlog)")
[ "$moved" -gt 50 ] || fail "the application moved only $moved children"
assert_eq 0 "$(sql "SELECT count(*) FROM children c JOIN parents p ON p.id = c.parent_id
	WHERE c.tenant_id IS DISTINCT FROM p.tenant_id")" "children in another tenant than their parent"
echo "t_sync_workload: ok"
