#!/usr/bin/env bash
# run.sh [FILTER]: runs every tests/integration/t_*.sh (those whose name
# contains FILTER) against ./migrate and one private cluster.  Each test is
# its own process with its own database; the last line is
# "integration: N passed, N failed", and the exit status 1 if any failed.
# Builds nothing: `make integration` builds ./migrate first.  MIGRATE
# names another binary (e.g. MIGRATE=build-x/migrate).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 1
filter=${1:-}
# A test that hangs (a lock never released, say) fails instead of
# stalling the suite.
test_timeout=${IT_TIMEOUT:-300}

MIGRATE=$(realpath -m "${MIGRATE:-migrate}")
export MIGRATE
[ -x "$MIGRATE" ] || { echo "run.sh: no $MIGRATE; run make first" >&2; exit 1; }
# shellcheck source=scripts/pglib.sh
. scripts/pglib.sh
pg_use_bindir

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/migrate-it-pg.XXXXXX")
logs=$(mktemp -d "${TMPDIR:-/tmp}/migrate-it-logs.XXXXXX")
cleanup()
{
	bash scripts/pgcluster.sh stop "$pgdir"
	rm -rf "$logs"
}
trap cleanup EXIT

if ! bash scripts/pgcluster.sh start "$pgdir" >/dev/null; then
	echo "run.sh: could not start a cluster" >&2
	exit 1
fi
# shellcheck source=/dev/null
. "$pgdir/env"

passed=0
failed=0
for t in tests/integration/t_*.sh; do
	name=$(basename "$t" .sh)
	case "$name" in
		*"$filter"*) ;;
		*) continue ;;
	esac
	start=$SECONDS
	# A long test says so in a line "# it-timeout: SECONDS".
	limit=$(sed -n 's/^# it-timeout: \([0-9][0-9]*\)$/\1/p' "$t")
	limit=${limit:-$test_timeout}
	if timeout --kill-after=10 "$limit" bash "$t" >"$logs/$name.log" 2>&1; then
		printf '%-28s ok (%d s)\n' "$name" $((SECONDS - start))
		passed=$((passed + 1))
	else
		rc=$?
		printf '%-28s FAIL (exit %d, %d s)\n' "$name" "$rc" $((SECONDS - start))
		[ "$rc" -eq 124 ] && echo "    (timed out after $limit s)"
		# the failed assertions first: a long output may bury them
		{ grep -m 5 'FAIL' "$logs/$name.log"; tail -n 25 "$logs/$name.log"; } | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done

echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
