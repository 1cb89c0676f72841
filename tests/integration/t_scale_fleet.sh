#!/usr/bin/env bash
# it-alone
# Fleets at scale: 100 small databases; the wall time of apply --targets
# grows with N / parallel.  Each run applies a migration set of its own
# (its own tables, its own history table) to the same databases, so that
# no run waits for a rollback.  Prints the figures.
. "$(dirname "$0")/lib.sh"

N=100
prefix=it_scale_$$_$RANDOM
start=$SECONDS
for i in $(seq -f %03g 1 $N); do
	echo "CREATE DATABASE ${prefix}_$i;"
done | psql -XAtq -v ON_ERROR_STOP=1 -d postgres >/dev/null || fail "cannot create the databases"
echo "created $N databases in $((SECONDS - start)) s"

# targets FILE COUNT PARALLEL [CANARY]: the first COUNT databases.
targets()
{
	{
		echo "canary: ${4:-1}"
		echo "parallel: $3"
		echo "targets:"
		for i in $(seq -f %03g 1 "$2"); do
			echo "  - {name: db$i, database: \"host=$PGHOST port=$PGPORT dbname=${prefix}_$i user=postgres\"}"
		done
	} >"$1"
}

# run K COUNT PARALLEL [CANARY]: applies migration set K with a state file
# of its own, new (with no canary, every worker opens it at once); prints
# its wall time in ms.
run()
{
	local k=$1 dir=$TMP/set$1 t0 t1

	mkdir -p "$dir"
	# versions of its own too (k001, k002): the ledger in the database keys a
	# step by version and step id, not by history table
	cat >"$dir/${k}001_items.yaml" <<EOF
operations:
  - create_table:
      name: items_$k
      columns:
        - { name: id, type: bigint, primary_key: true }
        - { name: label, type: text }
EOF
	cat >"$dir/${k}002_label_index.yaml" <<EOF
operations:
  - add_column:
      table: items_$k
      column: { name: note, type: text }
  - create_index:
      table: items_$k
      name: items_${k}_label_idx
      columns: [label]
EOF
	targets "$TMP/targets$k.yaml" "$2" "$3" "${4:-1}"
	t0=$(date +%s%N)
	capture "$MIGRATE" --state "$TMP/state$k.db" --dir "$dir" --table "public.history_$k" \
		apply --targets "$TMP/targets$k.yaml"
	t1=$(date +%s%N)
	[ "$RC" = 0 ] || fail "run $k (N=$2, parallel $3) exited $RC: $(tail -3 "$TMP/stderr")"
	assert_eq "$2" "$(python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(1 for e in d if e["event"] == "target_finished" and e["result"] == "done"))' "$TMP/stdout")" \
		"run $k: targets done"
	echo $(((t1 - t0) / 1000000))
}

t_25_1=$(run 1 25 1)
t_100_1=$(run 2 100 1)
t_100_8=$(run 3 100 8 0)
printf 'wall time: N=25 parallel 1: %d ms; N=100 parallel 1: %d ms; N=100 parallel 8: %d ms\n' \
	"$t_25_1" "$t_100_1" "$t_100_8"
printf 'per target, one at a time: %d ms (N=25), %d ms (N=100); N/parallel x that, parallel 8: %d ms\n' \
	$((t_25_1 / 25)) $((t_100_1 / 100)) $((t_100_1 / 8))

# Every database has run 3's two migrations: status --targets, at scale.
capture "$MIGRATE" --state "$TMP/state3.db" --dir "$TMP/set3" --table public.history_3 \
	--format json status --targets "$TMP/targets3.yaml"
[ "$RC" = 0 ] || fail "status --targets exited $RC"
assert_eq "$N up_to_date 2" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["targets"]
print(len(d), *sorted(set(t["state"] for t in d)), *sorted(set(t["version"] % 1000 for t in d)))' "$TMP/stdout")" \
	"status --targets of run 3"
# ... and the shared state file has each one's journal: 100 runs of apply
assert_eq 100 "$(python3 -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM runs WHERE command = \"apply\" AND exit_code = 0").fetchone()[0])' "$TMP/state3.db")" \
	"the journal's runs of run 3"

# The time grows with N (4 times the targets: at least twice the time; the
# first run also pays for what every later one finds made)
# and shrinks with parallel (8 at once: at most 3/4 of one at a time; the
# machine has 2 cores, so not 1/8).
[ "$t_100_1" -ge $((t_25_1 * 2)) ] || fail "N=100 took $t_100_1 ms, N=25 $t_25_1 ms"
[ "$t_100_8" -le $((t_100_1 * 3 / 4)) ] || fail "parallel 8 took $t_100_8 ms, parallel 1 $t_100_1 ms"

# The databases stay: the suite's cluster goes away with it, and 100 drops
# would take as long as the rest of the test.
