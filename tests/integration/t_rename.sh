#!/usr/bin/env bash
# t_rename.sh: rename_table and rename_column that old code never notices.
# An old application (old table and column names: select, update, insert
# ... returning) runs during apply --online of both renames and after it,
# with new code (new names) beside it: no transaction of either fails, each
# sees the other's writes, the column's index, check and default carry
# over.  Rollback, with the old application running, gives back the schema
# and keeps every value written under either name; finalize leaves only the
# new names.
. "$(dirname "$0")/lib.sh"

new_db
ROWS=20000
APP=${DB_NAME}_app
sql "CREATE ROLE \"$APP\"" >/dev/null
sql "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'anon'
		CONSTRAINT users_name_check CHECK (name <> ''),
		created timestamptz NOT NULL DEFAULT now());
	CREATE INDEX users_lower_name ON users (lower(name));
	CREATE UNIQUE INDEX users_name_id ON users (name, id);
	INSERT INTO users (name) SELECT 'n' || g FROM generate_series(1, $ROWS) g;
	CREATE TABLE orders (id serial PRIMARY KEY, user_id integer REFERENCES users, note text);
	INSERT INTO orders (user_id) SELECT g FROM generate_series(1, 100) g;
	CREATE TABLE users_orig AS SELECT id, name FROM users;
	CREATE TABLE namelog (n bigserial PRIMARY KEY, item integer NOT NULL, name text);
	GRANT SELECT, INSERT, UPDATE ON users TO \"$APP\";
	GRANT USAGE ON SEQUENCE users_id_seq TO \"$APP\"" >/dev/null
before=$(schema_fingerprint)
write_migration 0001_renames.yaml <<'EOF2'
settings: { batch_size: 500, batch_delay: 5ms }
operations:
  - rename_table: { from: users, to: accounts }
  - rename_column: { table: accounts, from: name, to: full_name }
EOF2

# lint: no finding for the renames; with a database, what a view cannot do
expect_exit 0 mg --dir "$MIGDIR" lint --offline
assert_contains "$OUT" "0 unsafe, 0 accepted, 0 warnings" "lint offline"
expect_exit 0 mg --dir "$MIGDIR" lint
assert_contains "$OUT" "renamed-table-view" "lint with a database"
assert_contains "$OUT" "orders_user_id_fkey" "the foreign key named"
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "a view keeps the old name working until finalize" "plan: the view"
assert_match "$OUT" 'drop the old column "name" of "accounts".*run by finalize' "plan: what finalize removes"

# wrong: rows whose value is not the last one the applications wrote
# (under either name), or, never written, the original one; COLUMN is
# read from TABLE.
wrong()
{
	sql "WITH last AS (SELECT DISTINCT ON (item) item, name FROM namelog ORDER BY item, n DESC)
	SELECT count(*) FROM $1 t LEFT JOIN last l ON l.item = t.id LEFT JOIN users_orig o ON o.id = t.id
	WHERE t.$2 IS DISTINCT FROM coalesce(l.name, o.name)"
}

WORKLOAD_SCRIPT=$REPO/tests/integration/apps/old_names.sql
WORKLOAD_DEFINES=(-D rows="$ROWS")
workload_start
sleep 1
expect_exit 0 mg --dir "$MIGDIR" apply --online
sleep 1
workload_stop "apply --online of the renames"
echo "apply: $WORKLOAD_ROUNDS rounds, $(sql "SELECT count(*) FROM namelog") logged writes"

# old and new code side by side
workload_start
pgbench -n -c 2 -T 3 -f "$REPO/tests/integration/apps/new_names.sql" -D rows="$ROWS" "$DB_NAME" \
	>"$TMP/new.log" 2>&1 || { cat "$TMP/new.log" >&2; fail "new code's pgbench failed"; }
grep -q 'number of failed transactions: 0 ' "$TMP/new.log" || { cat "$TMP/new.log" >&2; fail "new code failed"; }
workload_stop "old code beside new code"
assert_eq 0 "$(sql "SELECT count(*) FROM accounts WHERE name IS DISTINCT FROM full_name")" \
	"rows whose two names differ"
assert_eq 0 "$(wrong accounts full_name)" "rows not as written"
assert_eq 0 "$(wrong users name)" "rows not as written, read by old code"
written=$(sql "SELECT count(DISTINCT item) FROM namelog WHERE name LIKE 'U%' OR name LIKE 'N%'")
[ "$written" -gt 100 ] || fail "new code wrote only $written rows"
assert_eq "x1" "$(sql "UPDATE users SET name = 'x1' WHERE id = 1 RETURNING id" >/dev/null;
	sql "SELECT full_name FROM accounts WHERE id = 1")" "new code sees old code's write"
assert_eq "y1" "$(sql "UPDATE accounts SET full_name = 'y1' WHERE id = 1" >/dev/null;
	sql "SELECT name FROM users WHERE id = 1")" "old code sees new code's write"
sql "INSERT INTO namelog (item, name) VALUES (1, 'y1')" >/dev/null
assert_eq "anon|anon" "$(sql "INSERT INTO users DEFAULT VALUES RETURNING name" >/dev/null;
	sql "SELECT name, full_name FROM accounts ORDER BY id DESC LIMIT 1")" "the default, through the view"
sql "DELETE FROM accounts WHERE id = (SELECT max(id) FROM accounts)" >/dev/null
capture sql "INSERT INTO accounts (full_name) VALUES ('')"
[ "$RC" -ne 0 ] || fail "the check did not carry over to full_name"
assert_eq "t" "$(sql "SELECT EXISTS (SELECT FROM pg_index WHERE indrelid = 'accounts'::regclass
	AND pg_get_indexdef(indexrelid) LIKE '%lower(full_name)%' AND indisvalid)")" "the index over full_name"
assert_eq "1" "$(sql "SET ROLE \"$APP\"; INSERT INTO users (name) VALUES ('by app') RETURNING 1")" \
	"the application's role writes through the view"
sql "DELETE FROM accounts WHERE full_name = 'by app'" >/dev/null

workload_start
sleep 1
expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
sleep 1
workload_stop "rollback of the renames"
assert_eq "$before" "$(schema_fingerprint)" "schema after rollback"
assert_eq 0 "$(wrong users name)" "rows not as written, after rollback"

expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "" "$(sql "SELECT to_regclass('users')")" "the old table name after finalize"
# the twin is the last column, as after a type change's swap
assert_eq "id created full_name" "$(sql "SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute
	WHERE attrelid = 'accounts'::regclass AND attnum > 0 AND NOT attisdropped")" "columns after finalize"
assert_eq "users_lower_name users_name_id users_pkey" "$(sql "SELECT string_agg(c.relname, ' ' ORDER BY c.relname)
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'accounts'::regclass")" \
	"index names after finalize"
assert_eq "users_name_check" "$(sql "SELECT conname FROM pg_constraint WHERE conrelid = 'accounts'::regclass
	AND contype = 'c'")" "the check's name after finalize"
assert_eq "'anon'::text" "$(sql "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
	WHERE adrelid = 'accounts'::regclass AND adnum = (SELECT attnum FROM pg_attribute
	WHERE attrelid = 'accounts'::regclass AND attname = 'full_name')")" "the default after finalize"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'accounts'::regclass AND NOT tgisinternal")" \
	"triggers after finalize"
assert_eq 0 "$(wrong accounts full_name)" "rows not as written, after finalize"
echo "t_rename: ok"
