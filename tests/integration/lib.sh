# shellcheck shell=bash
# lib.sh: helpers for the integration tests.  Each t_*.sh sources it, runs
# with the repository root as its working directory, and talks to the
# cluster that run.sh started (PGHOST, PGPORT in the environment).  A test
# passes when it exits 0; `fail` (and every assert_*) exits 1 with a reason.
#
# A helper's failure fails the test, also where its status is lost: inside
# `$(...)` given as an argument (`assert_eq "$a" "$(sql ...)"`), in a
# condition, or in a subshell.  `fail` and a failed `sql`, `json` or
# `schema_snapshot` write their reason to $HELPER_FAILED; the next assert_*
# and the test's end see it.  A command expected to fail runs under
# `capture` / `expect_exit` (or `sql_try`), which do not count it.

set -euo pipefail
# `x=$(a; b)` stops at a failing a, as the test's own commands do.
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MIGRATE=${MIGRATE:-$REPO/migrate}
cd "$REPO"

: "${PGHOST:?run the integration tests through tests/integration/run.sh}"
: "${PGPORT:?run the integration tests through tests/integration/run.sh}"
export PGUSER=postgres
# A test must say which database it means; libpq must not guess.
unset PGDATABASE DATABASE_URL PGSERVICE

# The test's own scratch folder, removed when it ends.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/migrate-it.XXXXXX")
MIGDIR=$TMP/migrations
mkdir -p "$MIGDIR"
HELPER_FAILED=$TMP/helper-failed
OUT=
ERR=
RC=

lib_cleanup()
{
	local pid lost=false

	# Background commands a test started and did not wait for.
	for pid in $(jobs -p); do
		kill "$pid" 2>/dev/null || true
	done
	if [ -s "$HELPER_FAILED" ]; then
		echo "FAIL: a helper failed (its status may have been lost on the way):" >&2
		sed 's/^/    /' "$HELPER_FAILED" >&2
		lost=true
	fi
	rm -rf "$TMP"
	# Only ever from passed to failed: a test's own exit status stands
	# (this may run last in a test's own EXIT trap, where $? is not it).
	if $lost; then
		exit 1
	fi
}
trap lib_cleanup EXIT

fail()
{
	echo "FAIL: $*" >&2
	# In a subshell (a "$(...)", a check_case) this exit alone may be lost.
	if [ "$BASH_SUBSHELL" -gt 0 ] && [ -z "${LIB_EXPECT_FAILURE:-}" ]; then
		printf '%s\n' "$*" >>"$HELPER_FAILED"
	fi
	exit 1
}

# helper_failed REASON: a helper's failure, remembered for the test's end
# (unless under capture, where a failure is expected); returns 1.
helper_failed()
{
	echo "FAIL: $*" >&2
	[ -n "${LIB_EXPECT_FAILURE:-}" ] || printf '%s\n' "$*" >>"$HELPER_FAILED"
	return 1
}

# check_helpers: fails now if a helper failed since the test began (or
# since the last check_case).
check_helpers()
{
	[ ! -s "$HELPER_FAILED" ] || fail "a helper failed earlier: $(head -n 1 "$HELPER_FAILED")"
}

# new_db: creates a database of its own and sets DB_NAME, DB_URL, and
# STATE, a state file for it alone.
new_db()
{
	local seq

	# Unique also across check_case's subshells, whose $RANDOM may repeat:
	# a count kept in the test's folder.
	seq=$(($(cat "$TMP/db_seq" 2>/dev/null || echo 0) + 1))
	echo "$seq" >"$TMP/db_seq"
	DB_NAME=it_$(basename "$0" .sh | tr -c 'a-z0-9_\n' _ | cut -c 1-32)_$$_${seq}_$RANDOM
	createdb "$DB_NAME" || fail "createdb $DB_NAME failed"
	DB_URL="host=$PGHOST port=$PGPORT dbname=$DB_NAME user=postgres"
	STATE=$TMP/$DB_NAME.state.db
	export DB_NAME DB_URL STATE
}

# mg ARGS: ./migrate against the test's database and its state file.
mg()
{
	"$MIGRATE" -d "$DB_URL" --state "$STATE" "$@"
}

# server_version_num: the server's version as a number (150004, 180001),
# for what a test does only on some versions of the matrix.
server_version_num()
{
	sql "SHOW server_version_num" "host=$PGHOST port=$PGPORT dbname=postgres user=postgres"
}

# sql "QUERY" [DB_URL]: the result, unaligned, tuples only.  A failed
# query fails the test (see helper_failed); sql_try is for one that may.
sql()
{
	local rc=0

	psql -XAtq -v ON_ERROR_STOP=1 -d "${2:-$DB_URL}" -c "$1" || rc=$?
	[ $rc -eq 0 ] || helper_failed "sql (psql exit $rc): ${1:0:300}"
}

sql_try()
{
	LIB_EXPECT_FAILURE=1 sql "$@"
}

# schema_snapshot [--all] [DB_URL]: the schema as the catalog shows it,
# one item a line, sorted (tests/integration/catalog_snapshot.sql says
# what is in it); without --all, schema migrate's tables and the history
# table are left out.  For PostgreSQL 14 to 18, where pg_dump 15 is no use.
schema_snapshot()
{
	local all=false rc=0

	if [ "${1:-}" = --all ]; then
		all=true
		shift
	fi
	psql -XAtq -v ON_ERROR_STOP=1 -v all="$all" -d "${1:-$DB_URL}" \
		-f "$REPO/tests/integration/catalog_snapshot.sql" || rc=$?
	[ $rc -eq 0 ] || helper_failed "schema_snapshot (psql exit $rc)"
}

# expect_exit CODE cmd...: runs cmd; its stdout and stderr go to $OUT and
# $ERR.  Fails unless it exits with CODE.
expect_exit()
{
	local want=$1

	shift
	capture "$@"
	if [ "$RC" != "$want" ]; then
		printf -- '--- stdout:\n%s\n--- stderr:\n%s\n' "$OUT" "$ERR" >&2
		fail "expected exit $want, got $RC from: $*"
	fi
}

# capture cmd...: like expect_exit, for a command whose exit status is
# asserted separately (or not at all); sets $RC.
capture()
{
	RC=0
	LIB_EXPECT_FAILURE=1 "$@" >"$TMP/stdout" 2>"$TMP/stderr" || RC=$?
	OUT=$(cat "$TMP/stdout")
	ERR=$(cat "$TMP/stderr")
}

assert_eq()
{
	local want=$1 got=$2
	check_helpers

	[ "$want" = "$got" ] && return 0
	case "$want$got" in
		*$'\n'*)
			# Many lines: what differs, not all of it.
			diff -u --label expected --label got <(printf '%s\n' "$want") \
				<(printf '%s\n' "$got") >&2 || true
			fail "${3:-values differ} (diff above)" ;;
		*) fail "${3:-values differ}: expected [$want], got [$got]" ;;
	esac
}

assert_contains()
{
	local text=$1 part=$2
	check_helpers

	case "$text" in
		*"$part"*) ;;
		*) fail "${3:-text lacks a part}: [$part] not in:"$'\n'"$text" ;;
	esac
}

assert_not_contains()
{
	local text=$1 part=$2
	check_helpers

	case "$text" in
		*"$part"*) fail "${3:-text has an unwanted part}: [$part] in:"$'\n'"$text" ;;
		*) ;;
	esac
}

# assert_match TEXT REGEX [MSG]: an extended regular expression, any line.
assert_match()
{
	check_helpers
	grep -Eq -- "$2" <<<"$1" || fail "${3:-no line matches}: /$2/ in:"$'\n'"$1"
}

# write_migration FILE <<'EOF' ... EOF: a migration file in $MIGDIR.
write_migration()
{
	cat >"$MIGDIR/$1"
}

# json EXPR [TEXT]: evaluates a Python expression over the JSON document in
# TEXT (default $OUT), bound to d; prints the result, as JSON when it is a
# list, mapping, boolean or None (so: true, ["a", "b"]).  Fails on bad JSON.
json()
{
	python3 -c '
import json, sys
d = json.loads(sys.argv[2])
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1" "${2-$OUT}" || fail "not valid JSON, or [$1] failed on it"
}

# json_lines EXPR [TEXT]: the same over JSON Lines, bound to a list d.
json_lines()
{
	python3 -c '
import json, sys
d = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1" "${2-$OUT}" || fail "not valid JSON lines, or [$1] failed on them"
}

# wait_until SECONDS cmd...: polls cmd every 0.1 s until it succeeds.
wait_until()
{
	local deadline=$((SECONDS + $1))

	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# table_exists NAME: whether public.NAME exists (NAME as stored, unquoted).
table_exists()
{
	[ "$(sql "SELECT to_regclass(quote_ident('$(sql_escape "$1")')) IS NOT NULL")" = t ]
}

# sql_escape TEXT: TEXT with single quotes doubled, for a literal.
sql_escape()
{
	printf '%s' "${1//\'/\'\'}"
}

# The shop's tables, created by migrations/0001_create_shop.yaml.
# shellcheck disable=SC2034  # used by the tests
SHOP_TABLES="customers products orders order_items"

# shop_table_list [DB_URL]: the user tables of schema public, sorted, one
# line; history and tenant tables included.
shop_table_list()
{
	sql "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables
		WHERE schemaname = 'public'" "${1:-$DB_URL}"
}

# schema_fingerprint [DB_URL]: the user-visible schema of public (columns
# with type and nullability, defaults, indexes, constraints, RLS), one
# item a line, sorted; the history table left out.  Two databases with one
# fingerprint have the same tables as far as an application can tell.
schema_fingerprint()
{
	sql "
	SELECT string_agg(item, E'\n' ORDER BY item) FROM (
		SELECT format('column %s.%s %s%s%s', c.relname, a.attname,
				format_type(a.atttypid, a.atttypmod),
				CASE WHEN a.attnotnull THEN ' not null' END,
				' default ' || pg_get_expr(d.adbin, d.adrelid)) AS item
		  FROM pg_attribute a
		  JOIN pg_class c ON c.oid = a.attrelid
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		   AND c.relname <> 'schema_migrations'
		   AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT format('index %s', indexdef) FROM pg_indexes
		 WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
		UNION ALL
		SELECT format('constraint %s.%s %s%s', c.relname, k.conname,
				pg_get_constraintdef(k.oid),
				CASE WHEN NOT k.convalidated THEN ' NOT VALIDATED' END)
		  FROM pg_constraint k
		  JOIN pg_class c ON c.oid = k.conrelid
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relname <> 'schema_migrations'
		UNION ALL
		SELECT format('rls %s %s %s', c.relname, c.relrowsecurity, c.relforcerowsecurity)
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity
		UNION ALL
		SELECT format('policy %s.%s %s %s %s', tablename, policyname, cmd,
				qual, with_check)
		  FROM pg_policies WHERE schemaname = 'public'
	) AS items" "${1:-$DB_URL}"
}

# load_shop_data ORDERS: the demo's data, on a database at version 1.
load_shop_data()
{
	psql -XAq -v ON_ERROR_STOP=1 -v orders="$1" -d "$DB_URL" \
		-f "$REPO/scripts/shop-data.sql" >/dev/null || fail "loading the shop's data failed"
}

# workload_start: the old application (scripts/workload.sql) on two
# connections (WORKLOAD_CLIENTS) until workload_stop.  pgbench prints its
# summary only when it ends by itself, so it runs in 3-second rounds, each
# summarised; every transaction is logged in $TMP/workload.*.tx.* (for
# scripts/latency.sh).  Another application: WORKLOAD_SCRIPT names its
# pgbench script and WORKLOAD_DEFINES (an array) its -D options.
workload_start()
{
	local bounds customers products orders
	local -a defines

	if [ -n "${WORKLOAD_SCRIPT:-}" ]; then
		defines=("${WORKLOAD_DEFINES[@]}")
	else
		bounds=$(sql "SELECT (SELECT max(id) FROM customers), (SELECT max(id) FROM products),
			(SELECT max(id) FROM orders)")
		IFS='|' read -r customers products orders <<<"$bounds"
		defines=(-D customers="$customers" -D products="$products" -D orders="$orders")
	fi
	rm -f "$TMP/workload.stop" "$TMP"/workload.*.log "$TMP"/workload.*.tx.*
	(
		round=0
		while [ ! -e "$TMP/workload.stop" ]; do
			round=$((round + 1))
			pgbench -n -c "${WORKLOAD_CLIENTS:-2}" -T 3 --verbose-errors \
				-l --log-prefix="$TMP/workload.$round.tx" \
				-f "${WORKLOAD_SCRIPT:-$REPO/scripts/workload.sql}" "${defines[@]}" \
				"$DB_NAME" >"$TMP/workload.$round.log" 2>&1 ||
				echo "pgbench exit status $?" >>"$TMP/workload.$round.log"
		done
	) &
	WORKLOAD_PID=$!
}

# workload_stop [WHAT]: ends the workload after its current round and fails
# the test unless every transaction of every round succeeded while WHAT ran.
workload_stop()
{
	local log rounds=0 what=${1:-the test}

	touch "$TMP/workload.stop"
	wait "$WORKLOAD_PID"
	for log in "$TMP"/workload.*.log; do
		[ -e "$log" ] || continue
		rounds=$((rounds + 1))
		if grep -Eq 'aborted|pgbench exit status|ERROR' "$log" ||
			! grep -q 'number of failed transactions: 0 ' "$log"; then
			cat "$log" >&2
			fail "the workload failed during $what, in $(basename "$log")"
		fi
	done
	[ $rounds -gt 0 ] || fail "the workload did not run"
	# shellcheck disable=SC2034  # for the test to report
	WORKLOAD_ROUNDS=$rounds
}

# assert_shop_data_complete: every row of the shop has what migrations
# 0002 to 0007 give it, including rows written while they ran.
assert_shop_data_complete()
{
	assert_eq 0 "$(sql "SELECT count(*) FROM customers
		WHERE email_normalized IS DISTINCT FROM lower(trim(email))")" "0002: email_normalized"
	assert_eq 0 "$(sql "SELECT count(*) FROM orders WHERE status IS NULL")" "0002: status"
	assert_eq 0 "$(sql "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "0003: invalid indexes"
	assert_eq 0 "$(sql "SELECT count(*) FROM pg_constraint WHERE NOT convalidated")" \
		"0004: constraints not validated"
	# Orders placed during the migration by the old code have no total.
	assert_eq 0 "$(sql "SELECT count(*) FROM orders o WHERE total_cents IS NOT NULL AND total_cents <>
		(SELECT coalesce(sum(quantity * unit_price_cents), 0) FROM order_items i WHERE i.order_id = o.id)")" \
		"0005: totals"
	assert_eq 0 "$(sql "SELECT (SELECT count(*) FROM customers WHERE tenant_id IS DISTINCT FROM 1)
		+ (SELECT count(*) FROM orders WHERE tenant_id IS DISTINCT FROM 1)
		+ (SELECT count(*) FROM order_items WHERE tenant_id IS DISTINCT FROM 1)")" "0006: tenants"
	assert_eq "character varying(500)" "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'orders'::regclass AND attname = 'note'")" "0007: note type"
}
