#!/usr/bin/env bash
# t_ledger: "done" is what the ledger in the database records, and an
# object is a migration's own only if it made it (issues 12, 13).
#  1. drop_table keeps the table until finalize: a later create_table of
#     that name fails naming the owner; the original rows stay intact, and
#     the failed migration's rollback leaves them.
#  2. A failed VALIDATE drops its NOT VALID constraint: the application's
#     inserts that violate it succeed; the message says what is left and
#     the two ways on.
#  3. A failed unique index build drops its INVALID index; rollback exits 0
#     and leaves nothing.
#  4. A backfill failing at row 500 (division by zero) removes its sync
#     trigger: the application's INSERT and UPDATE succeed afterwards;
#     rollback removes the column.
#  5. Raw SQL: the second of two operations fails; after the fix the rerun
#     does not run the first again; rollback runs each completed down; a
#     half-done migration's rollback runs the down of what completed.
#  6. One state file, two databases: a step that ran on A is never undone
#     on B.
. "$(dirname "$0")/lib.sh"

rows_of() { sql "SELECT coalesce(string_agg(id || ':' || v, ',' ORDER BY id), '') FROM $1"; }

# ---- 1. drop_table, then create_table of the same name ----
new_db
write_migration 0001_t.yaml <<'YAML'
operations:
  - create_table: { name: t, columns: [{ name: id, type: int, primary_key: true }, { name: v, type: int }] }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
sql "INSERT INTO t SELECT g, g * 10 FROM generate_series(1, 50) g"
before=$(rows_of t)
write_migration 0002_drop.yaml <<'YAML'
operations:
  - drop_table: { name: t }
YAML
write_migration 0003_again.yaml <<'YAML'
operations:
  - create_table: { name: t, columns: [{ name: id, type: bigint, primary_key: true }] }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "table t already exists, made by migration 1" "the owner named"
assert_contains "$ERR" "nothing was changed for this step" "nothing changed"
assert_eq "$before" "$(rows_of t)" "the original rows, after the refused create_table"
assert_eq "failed" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 3")" "history of 3"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(rows_of t)" "the original rows, after the rollback of the failed migration"
assert_eq "integer" "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 't'::regclass AND attname = 'id'")" "the original table, not a new one"
# a table nobody made through migrate: "not made by migrate"
new_db
sql "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1)"
rm "$MIGDIR"/*.yaml
write_migration 0001_t.yaml <<'YAML'
operations:
  - create_table: { name: t, columns: [{ name: id, type: int, primary_key: true }, { name: v, type: int }] }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "table t already exists, not made by migrate" "a hand-made table"
assert_eq "1:1" "$(rows_of t)" "the hand-made table's rows"

# ---- 2. a failed VALIDATE ----
new_db
rm "$MIGDIR"/*.yaml
sql "CREATE TABLE c (id int PRIMARY KEY, v int); INSERT INTO c SELECT g, g - 3 FROM generate_series(1, 100) g"
write_migration 0001_check.yaml <<'YAML'
operations:
  - add_constraint: { table: c, name: c_v_positive, check: "v > 0" }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "violated by some row" "the validation failure"
assert_contains "$ERR" "dropped the constraint, which did not validate" "what the cleanup did"
assert_contains "$ERR" "migrate apply\" after a fix to resume, or \"migrate rollback\"" "the two ways on"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_constraint WHERE conname = 'c_v_positive'")" "no constraint left"
sql "INSERT INTO c VALUES (101, -5)"
sql "UPDATE c SET v = -1 WHERE id = 50"
assert_eq "101|-5" "$(sql "SELECT id, v FROM c WHERE id = 101")" "the violating insert succeeded"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "rolled_back" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" "rolled back"
assert_eq 101 "$(sql "SELECT count(*) FROM c")" "every row kept"

# ---- 3. a failed unique index build ----
new_db
sql "CREATE TABLE u (id int PRIMARY KEY, email text); INSERT INTO u SELECT g, 'e' || (g % 90) FROM generate_series(1, 200) g"
rm "$MIGDIR"/*.yaml
write_migration 0001_unique.yaml <<'YAML'
operations:
  - create_index: { table: u, name: u_email, columns: [email], unique: true }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "dropped the INVALID index the failed build left" "what the cleanup did"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_class WHERE relname = 'u_email'")" "no index left"
sql "INSERT INTO u VALUES (201, 'e1')"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(*) FROM pg_class WHERE relname = 'u_email'")" "nothing after rollback"
assert_eq "rolled_back" "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" "rolled back"
assert_eq "201|201" "$(sql "SELECT count(*), count(DISTINCT id) FROM u")" "every row kept"

# ---- 4. a backfill that fails at row 500 ----
new_db
sql "CREATE TABLE b (id int PRIMARY KEY, v int NOT NULL); INSERT INTO b SELECT g, g FROM generate_series(1, 1000) g"
rm "$MIGDIR"/*.yaml
write_migration 0001_ratio.yaml <<'YAML'
operations:
  - add_column: { table: b, column: { name: r, type: int }, backfill: "100000 / (v - 500)" }
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online --batch-size 100
assert_contains "$ERR" "division by zero" "the backfill's failure"
assert_contains "$ERR" "removed the sync trigger" "what the cleanup did"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'b'::regclass AND NOT tgisinternal")" \
	"no trigger left on the table"
sql "INSERT INTO b (id, v) VALUES (1001, 500)"
sql "UPDATE b SET v = 500 WHERE id = 10"
sql "UPDATE b SET v = v WHERE id = 500"
assert_eq "1001|500" "$(sql "SELECT id, v FROM b WHERE id = 1001")" "the application's insert"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'b'::regclass AND attname = 'r'")" \
	"rollback removed the column"
assert_eq "1001|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE v <> id AND id NOT IN (10, 1001)) FROM b")" \
	"every row as the application left it"

# ---- 5. raw SQL ----
new_db
rm "$MIGDIR"/*.yaml
write_migration 0001_raw.yaml <<'YAML'
operations:
  - sql:
      up: "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1)"
      down: "DROP TABLE a"
  - sql:
      up: "INSERT INTO a VALUES (1 / 0)"
      down: "DELETE FROM a WHERE id = 2"
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "division by zero" "the second operation failed"
# half done: rollback runs the down of the operation that completed
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq f "$(sql "SELECT to_regclass('a') IS NOT NULL")" "the first operation's down ran"
expect_exit 1 mg --dir "$MIGDIR" apply --online
sed -i 's|VALUES (1 / 0)|VALUES (2)|' "$MIGDIR/0001_raw.yaml"
rm -f "$STATE"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "1,2" "$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM a")" "the first not run again"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq f "$(sql "SELECT to_regclass('a') IS NOT NULL")" "rollback ran each down"
# two statements of one non-transactional operation
rm "$MIGDIR"/*.yaml
write_migration 0002_nt.yaml <<'YAML'
operations:
  - sql:
      up: "CREATE TABLE n (id int); INSERT INTO n SELECT 1 / 0"
      down: "DROP TABLE IF EXISTS n"
      transactional: false
YAML
expect_exit 1 mg --dir "$MIGDIR" apply --online
assert_eq t "$(sql "SELECT to_regclass('n') IS NOT NULL")" "the first statement completed"
sed -i 's|SELECT 1 / 0|SELECT 7|' "$MIGDIR/0002_nt.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "7" "$(sql "SELECT string_agg(id::text, ',') FROM n")" "the first statement not run again"

# ---- 6. one state file, two databases ----
new_db
DB_A=$DB_URL
new_db
DB_B=$DB_URL
SHARED=$TMP/shared.state.db
rm "$MIGDIR"/*.yaml
for url in "$DB_A" "$DB_B"; do
	sql "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); CREATE TABLE marker (x int);
		INSERT INTO t SELECT g, g FROM generate_series(1, 300) g" "$url"
done
sql "INSERT INTO marker VALUES (1)" "$DB_A"
write_migration 0001_two.yaml <<'YAML'
operations:
  - sql:
      up: "UPDATE t SET v = v + (SELECT 1000 / count(*)::int FROM marker)"
      down: "UPDATE t SET v = v - 1000"
      unsafe_ok: "300 rows"
YAML
expect_exit 0 "$MIGRATE" -d "$DB_A" --state "$SHARED" --dir "$MIGDIR" apply --online
expect_exit 1 "$MIGRATE" -d "$DB_B" --state "$SHARED" --dir "$MIGDIR" apply --online
expect_exit 0 "$MIGRATE" -d "$DB_B" --state "$SHARED" --dir "$MIGDIR" rollback
assert_eq "300|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE v <> id) FROM t" "$DB_B")" \
	"B: every row untouched (the down of A's step did not run on B)"
assert_eq "300|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE v <> id + 1000) FROM t" "$DB_A")" \
	"A: every row as its apply left it"
expect_exit 0 "$MIGRATE" -d "$DB_A" --state "$SHARED" --dir "$MIGDIR" rollback
assert_eq "300|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE v <> id) FROM t" "$DB_A")" \
	"A: rolled back exactly"
echo "t_ledger: ok"
