#!/usr/bin/env bash
# bench/backfill.sh [--workload]: how close an online backfill comes to the
# physical limit, one plain UPDATE of the same rows.
#
# Starts a private cluster, loads N rows (default 2000000) into two
# identical tables, times `UPDATE t SET x = expr` on one and
# `migrate apply --online` of the same backfill on the other, in the same
# run, and prints rows per second of each, their ratio and the peak RSS of
# migrate.  With --workload, a pgbench application workload (reads and
# writes by key on the backfilled table) runs during the online backfill,
# and its p99 and max latency are printed, with the same workload's figures
# during the plain UPDATE for comparison.
#
# Environment: N (rows), MIGRATE (the binary, default ./migrate), CLIENTS
# (pgbench clients, default 2), BATCH_SIZE (default auto), SAVE=1 to
# backfill without a `down`, so that migrate also saves the old values.
# Prints figures; asserts nothing: timings on a shared machine are noise.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
N=${N:-2000000}
MIGRATE=$(realpath -m "${MIGRATE:-migrate}")
CLIENTS=${CLIENTS:-2}
BATCH_SIZE=${BATCH_SIZE:-auto}
workload=false
case "${1:-}" in
	--workload) workload=true ;;
	"") ;;
	*) echo "usage: bench/backfill.sh [--workload]" >&2; exit 2 ;;
esac
[ -x "$MIGRATE" ] || { echo "bench: no $MIGRATE; run make first" >&2; exit 1; }
# shellcheck source=scripts/pglib.sh
. scripts/pglib.sh
pg_use_bindir

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-bench.XXXXXX")
pgdir=$work/pg
# As root the server runs as postgres, which must reach its folder.
chmod 755 "$work"
cleanup()
{
	local pid

	for pid in $(jobs -p); do
		kill "$pid" 2>/dev/null || true
	done
	bash scripts/pgcluster.sh stop "$pgdir"
	rm -rf "$work"
}
trap cleanup EXIT
bash scripts/pgcluster.sh start "$pgdir" >/dev/null
# shellcheck source=/dev/null
. "$pgdir/env"
createdb bench
export PGDATABASE=bench
url="host=$PGHOST port=$PGPORT dbname=bench user=postgres"

q()
{
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# Seconds since the epoch, with nanoseconds.
now()
{
	date +%s.%N
}

echo "bench: loading $N rows into two tables ($(nproc) cores, shared machine: timings are noisy)"
for t in t_plain t_online; do
	q "CREATE TABLE $t (id bigint PRIMARY KEY, a int NOT NULL, note text, x int);
	   INSERT INTO $t SELECT g, g % 1000, 'row ' || g, NULL FROM generate_series(1, $N) g"
	q "VACUUM ANALYZE $t"
done
q "CHECKPOINT"

# pgbench's per-transaction log (microseconds in column 3) over a file
# prefix: p99 and max in ms.
latency()
{
	cat "$1".* | awk '{print $3}' | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "no transactions"; exit }
			i = int(NR * 0.99); if (i < 1) i = 1
			printf "%d transactions, p99 %.1f ms, max %.1f ms\n", NR, v[i] / 1000, v[NR] / 1000
		}'
}

# start_workload TABLE SECONDS: pgbench reading and writing TABLE by key.
start_workload()
{
	cat >"$work/$1.sql" <<EOF
\set id random(1, $N)
SELECT id, a, note FROM $1 WHERE id = :id;
UPDATE $1 SET note = 'edited' WHERE id = :id;
EOF
	(cd "$work" && pgbench -n -c "$CLIENTS" -T "$2" -l --log-prefix="$work/lat_$1" \
		-f "$work/$1.sql" >"$work/pgbench_$1.out" 2>&1) &
	workload_pid=$!
	sleep 1
}

expr="a * 2 + 1"
plain_window=0
if $workload; then
	# Long enough to cover the UPDATE; measured below, so guess generously.
	plain_window=$((N / 100000 + 10))
	start_workload t_plain "$plain_window"
fi
t0=$(now)
q "UPDATE t_plain SET x = $expr"
t1=$(now)
plain_s=$(echo "$t1 - $t0" | bc -l)
if $workload; then
	wait "$workload_pid" || true
	plain_latency=$(latency "$work/lat_t_plain")
fi
q "CHECKPOINT"

mkdir -p "$work/migrations"
if [ "${SAVE:-0}" = 1 ]; then
	down=""
else
	down=", down: {x: \"NULL\"}"
fi
cat >"$work/migrations/0001_backfill.yaml" <<EOF
operations:
  - backfill: {table: t_online, set: {x: $expr}$down}
EOF
if $workload; then
	start_workload t_online "$(printf '%.0f' "$(echo "$plain_s * 2 + 5" | bc -l)")"
fi
t0=$(now)
/usr/bin/time -f "%M" -o "$work/rss" "$MIGRATE" -d "$url" --state "$work/state.db" \
	--dir "$work/migrations" apply --online --format json --batch-size "$BATCH_SIZE" \
	>"$work/events" 2>"$work/apply.err" ||
	{ cat "$work/apply.err" >&2; echo "bench: apply failed" >&2; exit 1; }
t1=$(now)
online_s=$(echo "$t1 - $t0" | bc -l)
if $workload; then
	wait "$workload_pid" || true
	online_latency=$(latency "$work/lat_t_online")
fi

filled=$(q "SELECT count(*) FROM t_online WHERE x = $expr")
[ "$filled" = "$N" ] || { echo "bench: only $filled of $N rows filled" >&2; exit 1; }
batches=$(grep -c '"event":"progress"' "$work/events" || true)
last_batch=$(grep '"event":"progress"' "$work/events" | tail -n 1 |
	sed -n 's/.*"batch_size":\([0-9]*\).*/\1/p')

plain_rps=$(echo "$N / $plain_s" | bc -l)
online_rps=$(echo "$N / $online_s" | bc -l)
printf 'rows:              %d\n' "$N"
printf 'plain UPDATE:      %.2f s, %.0f rows/s\n' "$plain_s" "$plain_rps"
printf 'apply --online:    %.2f s, %.0f rows/s (%d batches, last batch %s rows)\n' \
	"$online_s" "$online_rps" "$batches" "${last_batch:-?}"
printf 'ratio:             %.2f (goal >= 0.9)\n' "$(echo "$online_rps / $plain_rps" | bc -l)"
printf 'migrate peak RSS:  %d kB\n' "$(cat "$work/rss")"
if $workload; then
	printf 'workload during plain UPDATE:   %s\n' "$plain_latency"
	printf 'workload during apply --online: %s\n' "$online_latency"
fi
