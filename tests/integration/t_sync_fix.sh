#!/usr/bin/env bash
# t_sync_fix.sh: a sync trigger whose expression was fixed in the file after
# a failed run is replaced by the rerun, not taken as already done: the
# trigger then calls the fixed function, and old code's writes get the fixed
# expression.
. "$(dirname "$0")/lib.sh"

new_db
sql "CREATE TABLE t (id serial PRIMARY KEY, a integer);
	INSERT INTO t (a) SELECT g FROM generate_series(0, 100) g" >/dev/null
write_migration 0001_ratio.yaml <<'EOF2'
operations:
  - add_column: { table: t, column: { name: r, type: integer }, backfill: "100 / a" }
EOF2
capture mg --dir "$MIGDIR" apply --online
[ "$RC" -ne 0 ] || fail "a backfill that divides by zero succeeded"
assert_contains "$ERR" "division by zero"
sed -i 's|100 / a|100 / nullif(a, 0)|' "$MIGDIR/0001_ratio.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 1 "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_trigger g ON g.tgfoid = p.oid
	WHERE g.tgrelid = 't'::regclass AND p.prosrc LIKE '%nullif(a, 0)%'")" "the trigger calls the fixed function"
assert_eq "|20" "$(sql "INSERT INTO t (a) VALUES (0) RETURNING r")|$(sql "INSERT INTO t (a) VALUES (5) RETURNING r")" \
	"old code's inserts"
assert_eq 0 "$(sql "SELECT count(*) FROM t WHERE r IS DISTINCT FROM 100 / nullif(a, 0)")" "every row"
echo "t_sync_fix: ok"
