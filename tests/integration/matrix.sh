#!/usr/bin/env bash
# matrix.sh [FILTER...]: the integration suite (run.sh FILTER...) on each
# PostgreSQL major of PG_VERSIONS (default: scripts/pgversions.sh list,
# 14 to 18), each on a cluster of its own made with that version's server
# programs; MATRIX_JOBS versions at a time (default 1; each suite then runs
# IT_JOBS tests at a time, default 1 when several versions run together).
# The servers must be installed (scripts/deps.sh --matrix).  Prints each
# version's run.sh output, then one line a version:
#   "matrix: PostgreSQL N: N passed, N failed (S s)[: failed tests]"
# and exits 1 if any version failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 1
filters=("$@")
versions=${PG_VERSIONS:-$(bash scripts/pgversions.sh list)}
jobs=${MATRIX_JOBS:-1}
logs=$(mktemp -d "${TMPDIR:-/tmp}/migrate-matrix.XXXXXX")
trap 'rm -rf "$logs"' EXIT

# suite MAJOR: run.sh on that version; its output in $logs/MAJOR.log.
suite()
{
	local major=$1 bindir start rc=0

	start=$SECONDS
	if ! bindir=$(bash scripts/pgversions.sh bindir "$major" 2>"$logs/$major.log"); then
		echo "integration: 0 passed, 1 failed" >>"$logs/$major.log"
		rc=1
	else
		PG_BINDIR=$bindir bash tests/integration/run.sh "${filters[@]}" >"$logs/$major.log" 2>&1 || rc=$?
	fi
	echo "$rc $((SECONDS - start))" >"$logs/$major.result"
}

if [ "$jobs" -gt 1 ]; then
	export IT_JOBS=${IT_JOBS:-1}
fi
running=0
for major in $versions; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	suite "$major" &
	running=$((running + 1))
done
wait

status=0
for major in $versions; do
	echo "=== PostgreSQL $major"
	cat "$logs/$major.log"
done
for major in $versions; do
	read -r rc secs <"$logs/$major.result"
	counts=$(sed -n 's/^integration: \(.*\)$/\1/p' "$logs/$major.log" | tail -n 1)
	failures=$(sed -n 's/^\(t_[A-Za-z0-9_]*\) *FAIL.*/\1/p' "$logs/$major.log" | tr '\n' ' ')
	printf 'matrix: PostgreSQL %s: %s (%d s)%s\n' "$major" "${counts:-did not run}" "$secs" \
		"${failures:+: ${failures% }}"
	[ "$rc" -eq 0 ] || status=1
done
exit $status
