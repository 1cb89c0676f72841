#!/usr/bin/env bash
# demo.sh: the example shop end to end, on a private throwaway cluster.
#
# Creates the shop's tables, loads DEMO_ORDERS orders (default 100000),
# shows the online plan, applies it while pgbench plays the old application
# for DEMO_WORKLOAD_SECONDS (default 60), then shows status and rolls the
# last migration back.  `make demo` runs it after building ./migrate;
# MIGRATE names another binary.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

orders=${DEMO_ORDERS:-100000}
workload_seconds=${DEMO_WORKLOAD_SECONDS:-60}
case "$orders$workload_seconds" in
	*[!0-9]*)
		echo "demo.sh: DEMO_ORDERS and DEMO_WORKLOAD_SECONDS must be whole numbers" >&2
		exit 2 ;;
esac
migrate=${MIGRATE:-./migrate}
[ -x "$migrate" ] || { echo "demo.sh: build $migrate first (make)" >&2; exit 1; }
# shellcheck source=scripts/pglib.sh
. scripts/pglib.sh
pg_use_bindir

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/migrate-demo-pg.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-demo.XXXXXX")
workload_pid=

cleanup()
{
	if [ -n "$workload_pid" ]; then
		kill "$workload_pid" 2>/dev/null || true
		wait "$workload_pid" 2>/dev/null || true
	fi
	bash scripts/pgcluster.sh stop "$pgdir" || true
	rm -rf "$work"
}
trap cleanup EXIT

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$'\033[1m' plain=$'\033[0m'
else
	bold='' plain=''
fi

heading()
{
	printf '\n%s== %s%s\n' "$bold" "$*" "$plain"
}

# Prints a command as one would type it: words that need it in single quotes.
show_command()
{
	local word q="'"

	printf '$'
	for word in "$@"; do
		if [[ $word =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
			printf ' %s' "$word"
		else
			printf " '%s'" "${word//$q/$q\\$q$q}"
		fi
	done
}

# Shows a command, then runs it; stops the demo if it fails.
run()
{
	local rc=0

	show_command "$@"
	printf '\n'
	"$@" || rc=$?
	if [ $rc -ne 0 ]; then
		echo "demo.sh: the command above failed with exit status $rc" >&2
		exit $rc
	fi
}

heading "A private PostgreSQL cluster"
run bash scripts/pgcluster.sh start "$pgdir"
# shellcheck source=/dev/null
. "$pgdir/env"
run createdb shop
export PGDATABASE=shop
# migrate reads DATABASE_URL when -d is not given.
export DATABASE_URL="host=$PGHOST port=$PGPORT dbname=shop user=postgres"
echo "DATABASE_URL=$DATABASE_URL"
state=$work/state.db

heading "The shop's first migration: its tables"
run "$migrate" --state "$state" apply --to 1 --format text

heading "Data: $orders orders, about $((orders * 3)) order lines"
start=$(date +%s)
run psql -XAq -v ON_ERROR_STOP=1 -v orders="$orders" -f scripts/shop-data.sql
echo "loaded in $(($(date +%s) - start)) s"
run psql -XAt -F ': ' -c 'SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY relname'

heading "The plan for the pending migrations, online"
run "$migrate" --state "$state" plan --online

heading "Applying online while the old application keeps working"
# pgbench picks ids at random up to these.
bounds=$(psql -XAt -v ON_ERROR_STOP=1 -F ' ' -c "SELECT (SELECT max(id) FROM customers),
	(SELECT max(id) FROM products), (SELECT max(id) FROM orders)")
read -r customers products max_order <<<"$bounds"
workload=(pgbench -n -c 2 -T "$workload_seconds" -P 5 -f scripts/workload.sql
	-D customers="$customers" -D products="$products" -D orders="$max_order")
show_command "${workload[@]}"
printf ' > %s 2>&1 &\n' "$work/workload.log"
"${workload[@]}" >"$work/workload.log" 2>&1 &
workload_pid=$!
sleep 2
run "$migrate" --state "$state" apply --online --format text

heading "The workload's summary"
if kill -0 "$workload_pid" 2>/dev/null; then
	echo "(pgbench prints its summary at the end of its ${workload_seconds} s; waiting for it)"
else
	echo "(the workload ended before apply did: raise DEMO_WORKLOAD_SECONDS to cover all of it)"
fi
workload_rc=0
wait "$workload_pid" || workload_rc=$?
workload_pid=
cat "$work/workload.log"
if [ $workload_rc -ne 0 ] || grep -q 'aborted' "$work/workload.log"; then
	echo "demo.sh: the workload saw errors (pgbench exit status $workload_rc)" >&2
fi

heading "Status"
run "$migrate" --state "$state" status

heading "Rolling back the last migration"
run "$migrate" --state "$state" rollback --steps 1 --format text
run "$migrate" --state "$state" status

heading "Done"
echo "The cluster and its data are removed on exit."
