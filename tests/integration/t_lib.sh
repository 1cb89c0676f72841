#!/usr/bin/env bash
# The test helpers themselves: a helper that fails fails the test, also
# where its status is lost (inside "$(...)" given as an argument, in a
# condition, in a check_case subshell); a failure the test expects
# (capture, expect_exit, sql_try) does not.  schema_snapshot sees what a
# rollback must put back, and no test depends on pg_dump (which refuses
# servers newer than itself).
. "$(dirname "$0")/lib.sh"

new_db

# child NAME <<'EOF' ... EOF: a test script of its own, sourcing lib.sh
# (and exact_lib.sh); sets RC to its exit status, its output in $TMP/NAME.log.
child()
{
	{
		echo '. "$REPO_UNDER_TEST/tests/integration/lib.sh"'
		echo '. "$REPO_UNDER_TEST/tests/integration/exact_lib.sh"'
		cat
	} >"$TMP/$1.sh"
	RC=0
	REPO_UNDER_TEST=$REPO DB_URL="$DB_URL" bash "$TMP/$1.sh" >"$TMP/$1.log" 2>&1 || RC=$?
}

# must_fail NAME WHY: the child NAME exited 1, with a FAIL line.
must_fail()
{
	[ "$RC" = 1 ] && grep -q 'FAIL' "$TMP/$1.log" && return 0
	cat "$TMP/$1.log" >&2
	fail "$2: the child test exited $RC, not 1 with a reason"
}

# A failed query inside "$(...)", given as an argument: both sides empty.
child arg <<'EOF'
assert_eq "$(sql "SELECT no_such_column")" "$(sql "SELECT no_such_column")" "empty = empty"
echo "should not get here"
EOF
must_fail arg "a failed sql in an argument"
assert_not_contains "$(cat "$TMP/arg.log")" "should not get here" "the next assert stopped the test"

# In a condition, with nothing asserted after it: the test's end sees it.
child cond <<'EOF'
if [ "$(sql "SELECT 1/0")" = "" ]; then :; fi
echo "after the condition"
EOF
must_fail cond "a failed sql in a condition"

# A test's own EXIT trap that ends with lib_cleanup (t_connection,
# t_replica) keeps the test's failure.
child own_trap <<'EOF'
cleanup_more() { true; lib_cleanup; }
trap cleanup_more EXIT
fail "on purpose"
EOF
must_fail own_trap "a failure under a test's own EXIT trap"
child own_trap_ok <<'EOF'
cleanup_more() { false || true; lib_cleanup; }
trap cleanup_more EXIT
assert_eq 1 "$(sql "SELECT 1")"
EOF
[ "$RC" = 0 ] || { cat "$TMP/own_trap_ok.log" >&2; fail "a test's own EXIT trap failed a passing test"; }

# schema_snapshot of a database that is not there: two empty snapshots.
child snap <<'EOF'
gone="$DB_URL dbname=it_no_such_database"
assert_eq "$(schema_snapshot "$gone")" "$(schema_snapshot --all "$gone")" "empty = empty"
EOF
must_fail snap "a failed schema_snapshot"

# db_snapshot, and assert_same_snapshot, when the catalog query fails:
# psql fails only when it is given catalog_snapshot.sql.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/psql" <<EOF
#!/usr/bin/env bash
case "\$*" in *catalog_snapshot.sql*) echo "psql: broken on purpose" >&2; exit 2 ;; esac
exec $(command -v psql) "\$@"
EOF
chmod +x "$TMP/bin/psql"
BROKEN_BIN=$TMP/bin
export BROKEN_BIN
child same <<'EOF'
new_db
before=$(db_snapshot)
PATH=$BROKEN_BIN:$PATH
assert_same_snapshot "$before" "after nothing"
EOF
must_fail same "assert_same_snapshot with a failing catalog query"
assert_contains "$(cat "$TMP/same.log")" "db_snapshot failed" "the reason is given"

# check_case: the case fails (and is named) when db_snapshot fails in it.
child case <<'EOF'
PATH=$BROKEN_BIN:$PATH
check_case add_column plain <<'YAML'
operations:
  - add_column: {table: bare, column: {name: c, type: integer}}
YAML
[ -z "$failed" ] || fail "not rolled back exactly:$failed"
EOF
must_fail case "check_case with a failing db_snapshot"
assert_contains "$(cat "$TMP/case.log")" "not rolled back exactly: add_column" "the case is named"

# The same case with the catalog query working passes: the helpers do not
# fail for nothing.
child case_ok <<'EOF'
check_case add_column plain <<'YAML'
operations:
  - add_column: {table: bare, column: {name: c, type: integer}}
YAML
[ -z "$failed" ] || fail "not rolled back exactly:$failed"
EOF
[ "$RC" = 0 ] || { cat "$TMP/case_ok.log" >&2; fail "check_case of add_column failed (exit $RC)"; }

# Failures a test expects are not counted.
child expected <<'EOF'
expect_exit 1 sql "SELECT 1/0"
capture sql "SELECT no_such_column"
sql_try "SELECT 1/0" 2>/dev/null || true
assert_eq 1 "$(sql "SELECT 1")"
EOF
[ "$RC" = 0 ] || { cat "$TMP/expected.log" >&2; fail "an expected failure failed the test (exit $RC)"; }

# schema_snapshot sees what pg_dump -s showed: a column's place, its
# default, a comment, a grant, a NOT VALID constraint, an INVALID index,
# a trigger's function in schema migrate, a policy, the RLS flags.
PGOPTIONS='-c client_min_messages=warning'
export PGOPTIONS
sql "CREATE TABLE t (a integer, b text DEFAULT 'x', c integer)" >/dev/null
base=$(schema_snapshot)
changes=(
	"ALTER TABLE t DROP COLUMN b; ALTER TABLE t ADD COLUMN b text DEFAULT 'x'"
	"ALTER TABLE t ALTER COLUMN b SET DEFAULT 'y'"
	"ALTER TABLE t ALTER COLUMN a SET NOT NULL"
	"COMMENT ON COLUMN t.c IS 'see'"
	"GRANT SELECT ON t TO PUBLIC"
	"ALTER TABLE t ADD CONSTRAINT t_c CHECK (c > 0) NOT VALID"
	"CREATE INDEX t_a ON t (a); UPDATE pg_index SET indisvalid = false WHERE indexrelid = 't_a'::regclass"
	"CREATE SCHEMA IF NOT EXISTS migrate; CREATE FUNCTION migrate.f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"
	"CREATE POLICY p ON t USING (a > 0)"
	"ALTER TABLE t ENABLE ROW LEVEL SECURITY"
	"CREATE VIEW v AS SELECT a FROM t"
	"CREATE SEQUENCE s"
	"ALTER TABLE t ALTER COLUMN c TYPE bigint"
)
for change in "${changes[@]}"; do
	sql "$change" >/dev/null
	changed=$(schema_snapshot)
	[ "$changed" != "$base" ] || fail "schema_snapshot does not see: $change"
	sql "DROP TABLE t CASCADE; DROP SCHEMA IF EXISTS migrate CASCADE; DROP SEQUENCE IF EXISTS s;
		CREATE TABLE t (a integer, b text DEFAULT 'x', c integer)" >/dev/null
	assert_eq "$base" "$(schema_snapshot)" "schema_snapshot after undoing: $change"
done
# Left out without --all: migrate's tables and the history table.
sql "CREATE SCHEMA migrate; CREATE TABLE migrate.saved (x integer);
	CREATE TABLE public.schema_migrations (version bigint PRIMARY KEY)" >/dev/null
assert_eq "$base" "$(schema_snapshot)" "migrate's tables and the history left out"
assert_contains "$(schema_snapshot --all)" "relation public.schema_migrations " "--all keeps the history"

# No test runs pg_dump: it refuses servers newer than itself, and the
# PostgreSQL 14-18 servers of the matrix come without one.
users=$(grep -l --exclude=t_lib.sh '^[^#]*pg_dump' tests/integration/*.sh || true)
assert_eq "" "$users" "tests that run pg_dump"
echo "t_lib: ok"
