#!/usr/bin/env bash
# it-alone: it measures latency or timing; run after the others, one at a time
# Readers of a materialized view never wait while migrate refreshes it
# concurrently or replaces it (a twin built beside it, a short-lock swap of
# names): a pgbench reader workload runs through each, with zero failures
# and a max latency far below the time the refresh takes.  The control:
# the same workload through a plain REFRESH waits for all of it.
. "$(dirname "$0")/lib.sh"
new_db

# The view's query takes about 2.5 s (pg_sleep per group), so a reader that
# had to wait for a refresh would wait that long.
sql "CREATE TABLE sales (id bigint PRIMARY KEY, region int NOT NULL, amount int NOT NULL);
	INSERT INTO sales SELECT g, g % 50, g % 997 FROM generate_series(1, 20000) g;
	CREATE FUNCTION slow(int) RETURNS int LANGUAGE sql AS 'SELECT \$1 FROM pg_sleep(0.05)';" >/dev/null
write_migration 0001_totals.yaml <<'YAML'
operations:
  - create_materialized_view:
      name: region_totals
      query: SELECT slow(region) AS region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region
      indexes: [{name: region_totals_region, columns: [region], unique: true}]
YAML
write_migration 0002_refresh.yaml <<'YAML'
operations:
  - sql: {up: "UPDATE sales SET amount = amount + 1 WHERE id <= 5000", down: "UPDATE sales SET amount = amount - 1 WHERE id <= 5000"}
  - refresh_materialized_view: {name: region_totals}
YAML
write_migration 0003_replace.yaml <<'YAML'
operations:
  - replace_materialized_view:
      name: region_totals
      query: SELECT slow(region) AS region, sum(amount) AS total, count(*) AS n, max(amount) AS top FROM sales GROUP BY region
      indexes: [{name: region_totals_region, columns: [region], unique: true}]
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 1
assert_eq 50 "$(sql "SELECT count(*) FROM region_totals")" "the view is filled"

cat >"$TMP/reader.sql" <<'SQL'
\set r random(0, 49)
SELECT total, n FROM region_totals WHERE region = :r;
SQL
WORKLOAD_SCRIPT=$TMP/reader.sql
WORKLOAD_DEFINES=()
WORKLOAD_CLIENTS=3

# readers_during WHAT CMD...: the reader workload runs around CMD; prints
# latency.sh's figures and fails on any failed read.
readers_during()
{
	local what=$1 figures
	shift
	workload_start
	sleep 1
	"$@"
	sleep 1
	workload_stop "$what"
	figures=$(bash scripts/latency.sh "$TMP"/workload.*.tx.*)
	echo "readers during $what: $figures" >&2
	read -r _ transactions _ failed _ _ _ max_ms <<<"$figures"
	[ "$transactions" -gt 100 ] || fail "the readers hardly ran during $what: $figures"
	assert_eq 0 "$failed" "failed reads during $what"
	READ_MAX_MS=$max_ms
}

start=$(date +%s%N)
readers_during "the concurrent refresh" expect_exit 0 mg --dir "$MIGDIR" apply --online --to 2
took=$((($(date +%s%N) - start) / 1000000))
assert_eq "$(sql "SELECT sum(amount) FROM sales")" "$(sql "SELECT sum(total) FROM region_totals")" \
	"the refresh brought the view up to date"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max < 1000) }' ||
	fail "a reader waited $READ_MAX_MS ms during the concurrent refresh"

readers_during "the replace" expect_exit 0 mg --dir "$MIGDIR" apply --online --to 3
assert_eq 50 "$(sql "SELECT count(top) FROM region_totals")" "readers now see the new definition"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max < 1000) }' ||
	fail "a reader waited $READ_MAX_MS ms during the replace"

# Rollback of the replace swaps back, with readers on.
readers_during "the replace's rollback" expect_exit 0 mg --dir "$MIGDIR" rollback --to 2
assert_eq f "$(sql "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'region_totals' AND column_name = 'top')")" \
	"the old definition is back"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max < 1000) }' ||
	fail "a reader waited $READ_MAX_MS ms during the rollback"
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 3
assert_eq 50 "$(sql "SELECT count(top) FROM region_totals")" "applied again"

# The control: a plain REFRESH makes the same readers wait for its query.
readers_during "a plain REFRESH (control)" sql "REFRESH MATERIALIZED VIEW region_totals"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max > 1500) }' ||
	fail "the control did not block readers (max $READ_MAX_MS ms): the test cannot tell"
echo "matview readers: never waited during the concurrent refresh (took $took ms) or the replace"
