#!/usr/bin/env bash
# it-alone: it measures latency or timing; run after the others, one at a time
# Readers of a materialized view never wait while migrate refreshes it
# concurrently or replaces it (a twin built beside it, a short-lock swap of
# names): a pgbench reader workload runs through each, with zero failures
# and a max latency far below the time the refresh takes.  The control:
# the same workload through a plain REFRESH waits for all of it.  The
# replace carries the view's comments (its own, its columns', its
# indexes') and grants to the new one, and the views that read it (one
# with options, one over that one) read the new one after the swap, and
# the old one again after a rollback, which puts the schema back exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"
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
sql "CREATE ROLE matview_reader_$$ NOLOGIN;
	GRANT SELECT ON region_totals TO matview_reader_$$;
	COMMENT ON MATERIALIZED VIEW region_totals IS 'per region';
	COMMENT ON COLUMN region_totals.total IS 'sum of amounts';
	COMMENT ON INDEX region_totals_region IS 'one row a region';
	CREATE VIEW big_regions WITH (security_barrier = true) AS
	  SELECT region, total FROM region_totals WHERE n > 10;
	GRANT SELECT ON big_regions TO matview_reader_$$;
	COMMENT ON VIEW big_regions IS 'the big ones';
	CREATE VIEW big_region_count AS SELECT count(*) AS regions FROM big_regions;" >/dev/null
trap 'sql "DROP OWNED BY matview_reader_$$; DROP ROLE matview_reader_$$" >/dev/null 2>&1 || true; lib_cleanup' EXIT

cat >"$TMP/reader.sql" <<'SQL'
\set r random(0, 49)
SELECT total, n FROM region_totals WHERE region = :r;
SELECT total FROM big_regions WHERE region = :r;
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

# what a view over region_totals reads: the oid of the matview it depends on
reads_from()
{
	sql "SELECT string_agg(DISTINCT d.refobjid::regclass::text, ',') FROM pg_depend d
		JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
		WHERE r.ev_class = '$1'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.refobjid <> r.ev_class"
}
before=$(db_snapshot)
readers_during "the replace" expect_exit 0 mg --dir "$MIGDIR" apply --online --to 3
assert_eq 50 "$(sql "SELECT count(top) FROM region_totals")" "readers now see the new definition"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max < 1000) }' ||
	fail "a reader waited $READ_MAX_MS ms during the replace"
assert_eq region_totals "$(reads_from big_regions)" "the dependent view reads the new matview"
assert_eq big_regions "$(reads_from big_region_count)" "the view over the view is untouched"
assert_eq "$(sql "SELECT count(*) FROM region_totals WHERE n > 10")" "$(sql "SELECT regions FROM big_region_count")"
assert_eq "{security_barrier=true}" "$(sql "SELECT reloptions FROM pg_class WHERE oid = 'big_regions'::regclass")" \
	"the view keeps its options"
assert_eq "the big ones|t" "$(sql "SELECT obj_description('big_regions'::regclass, 'pg_class'),
	has_table_privilege('matview_reader_$$', 'big_regions', 'SELECT')")" "the view keeps its comment and grant"
assert_eq "per region|sum of amounts|one row a region|t" \
	"$(sql "SELECT obj_description('region_totals'::regclass, 'pg_class'),
		col_description('region_totals'::regclass, 2),
		obj_description('region_totals_region'::regclass, 'pg_class'),
		has_table_privilege('matview_reader_$$', 'region_totals', 'SELECT')")" \
	"the new matview has the old one's comments and grant"

# Rollback of the replace swaps back, with readers on.
readers_during "the replace's rollback" expect_exit 0 mg --dir "$MIGDIR" rollback --to 2
assert_eq f "$(sql "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'region_totals' AND column_name = 'top')")" \
	"the old definition is back"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max < 1000) }' ||
	fail "a reader waited $READ_MAX_MS ms during the rollback"
assert_same_snapshot "$before" "the replace rolled back"
expect_exit 0 mg --dir "$MIGDIR" apply --online --to 3
assert_eq 50 "$(sql "SELECT count(top) FROM region_totals")" "applied again"
assert_eq region_totals "$(reads_from big_regions)" "the dependent view reads the new matview again"
# finalize drops the old view: nothing reads it any more
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq 0 "$(sql "SELECT count(*) FROM pg_class WHERE relkind = 'm' AND relname <> 'region_totals'")" \
	"the old matview is gone"
assert_eq "$(sql "SELECT count(*) FROM region_totals WHERE n > 10")" "$(sql "SELECT regions FROM big_region_count")"

# The control: a plain REFRESH makes the same readers wait for its query.
readers_during "a plain REFRESH (control)" sql "REFRESH MATERIALIZED VIEW region_totals"
awk -v max="$READ_MAX_MS" 'BEGIN { exit !(max > 1500) }' ||
	fail "the control did not block readers (max $READ_MAX_MS ms): the test cannot tell"
echo "matview readers: never waited during the concurrent refresh (took $took ms) or the replace"
