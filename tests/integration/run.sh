#!/usr/bin/env bash
# run.sh [FILTER...]: runs every tests/integration/t_*.sh (those whose name
# contains one of the FILTERs) against ./migrate and one private cluster.  Each test is
# its own process with its own database; the last line is
# "integration: N passed, N failed", and the exit status 1 if any failed.
# Builds nothing: `make integration` builds ./migrate first.  MIGRATE
# names another binary (e.g. MIGRATE=build-x/migrate).
#
# Tests run IT_JOBS at a time (default: the number of cores, at most 4).
# A test that measures latency or timing says so in a line "# it-alone":
# those run one at a time after the others, on a quiet cluster.  A test
# gets IT_TIMEOUT seconds (600), or what its line "# it-timeout: SECONDS"
# says; the whole suite IT_SUITE_TIMEOUT seconds (1800): a test that would
# start later is not run and counts as failed, and one running then is cut
# short to the bound.  PG_BINDIR names the server's programs (see
# scripts/pglib.sh), e.g. a version of the matrix (scripts/pgversions.sh).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 1
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=("")
# A test that hangs (a lock never released, say) fails instead of
# stalling the suite.
test_timeout=${IT_TIMEOUT:-600}
suite_timeout=${IT_SUITE_TIMEOUT:-1800}
cores=$(nproc 2>/dev/null || echo 2)
jobs_max=${IT_JOBS:-$((cores < 4 ? cores : 4))}
[ "$jobs_max" -ge 1 ] 2>/dev/null || jobs_max=1

MIGRATE=$(realpath -m "${MIGRATE:-migrate}")
export MIGRATE
[ -x "$MIGRATE" ] || { echo "run.sh: no $MIGRATE; run make first" >&2; exit 1; }
# shellcheck source=scripts/pglib.sh
. scripts/pglib.sh
pg_use_bindir

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/migrate-it-pg.XXXXXX")
logs=$(mktemp -d "${TMPDIR:-/tmp}/migrate-it-logs.XXXXXX")
declare -A running=()
cleanup()
{
	local pid

	# Interrupted: the tests still running go first.  timeout runs each in
	# a process group of its own and passes a TERM on to all of it.
	for pid in "${!running[@]}"; do
		kill -TERM $(ps -o pid= --ppid "$pid") 2>/dev/null || true
	done
	wait 2>/dev/null
	bash scripts/pgcluster.sh stop "$pgdir"
	rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! bash scripts/pgcluster.sh start "$pgdir" >/dev/null; then
	echo "run.sh: could not start a cluster" >&2
	exit 1
fi
# shellcheck source=/dev/null
. "$pgdir/env"
echo "run.sh: PostgreSQL $(psql -XAtq -d postgres -c 'SHOW server_version'), $jobs_max at a time"

together=()
alone=()
for t in tests/integration/t_*.sh; do
	name=$(basename "$t" .sh)
	wanted=false
	for filter in "${filters[@]}"; do
		case "$name" in
			*"$filter"*) wanted=true ;;
		esac
	done
	$wanted || continue
	if grep -q '^# it-alone' "$t"; then
		alone+=("$t")
	else
		together+=("$t")
	fi
done

suite_start=$SECONDS
passed=0
failed=0
failed_names=()

# run_one TEST LIMIT: the test, its output in $logs; its exit status and
# seconds in $logs/NAME.result.
run_one()
{
	local t=$1 limit=$2 name start rc=0

	name=$(basename "$t" .sh)
	start=$SECONDS
	timeout --kill-after=10 "$limit" bash "$t" >"$logs/$name.log" 2>&1 || rc=$?
	echo "$rc $((SECONDS - start)) $limit" >"$logs/$name.result"
}
export -f run_one
export logs

report()
{
	local name=$1 rc secs limit

	read -r rc secs limit <"$logs/$name.result"
	if [ "$rc" -eq 0 ]; then
		printf '%-28s ok (%d s)\n' "$name" "$secs"
		passed=$((passed + 1))
	else
		printf '%-28s FAIL (exit %d, %d s)\n' "$name" "$rc" "$secs"
		[ "$rc" -eq 124 ] && echo "    (timed out after $limit s)"
		# the failed assertions first: a long output may bury them
		{ grep -m 5 'FAIL' "$logs/$name.log"; tail -n 25 "$logs/$name.log"; } | sed 's/^/    /'
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
}

# start TEST: runs it in the background, or counts it as failed when the
# suite's time is up.
start()
{
	local t=$1 name limit left

	name=$(basename "$t" .sh)
	# A long test says so in a line "# it-timeout: SECONDS".
	limit=$(sed -n 's/^# it-timeout: \([0-9][0-9]*\)$/\1/p' "$t")
	limit=${limit:-$test_timeout}
	left=$((suite_timeout - (SECONDS - suite_start)))
	if [ "$left" -le 0 ]; then
		printf '%-28s FAIL (not run: the suite took its %d s)\n' "$name" "$suite_timeout"
		failed=$((failed + 1))
		failed_names+=("$name")
		return
	fi
	[ "$limit" -le "$left" ] || limit=$left
	bash -c 'run_one "$@"' run_one "$t" "$limit" &
	running[$!]=$name
}

# finish_one: waits for a test to end and reports it.
finish_one()
{
	local pid

	wait -n -p pid "${!running[@]}"
	report "${running[$pid]}"
	unset "running[$pid]"
}

for t in "${together[@]}"; do
	[ "${#running[@]}" -lt "$jobs_max" ] || finish_one
	start "$t"
done
while [ "${#running[@]}" -gt 0 ]; do
	finish_one
done
for t in "${alone[@]}"; do
	start "$t"
	while [ "${#running[@]}" -gt 0 ]; do
		finish_one
	done
done

echo "run.sh: $((SECONDS - suite_start)) s"
# Again at the end, where a reader of only the last lines (a CI log) looks.
for name in "${failed_names[@]}"; do
	echo "failed: $name"
	[ -f "$logs/$name.log" ] && grep -m 3 'FAIL' "$logs/$name.log" | sed 's/^/    /'
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
