#!/usr/bin/env bash
# t_partitions.sh: create_table with partition_by (generated range, list,
# hash), add_partitions moving rows out of the default partition, attach
# with a validated check (ATTACH scans nothing), detach; each rolled back
# exactly and applied again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

new_db
EMPTY=$(db_snapshot)

write_migration 0001_tables.yaml <<'EOF2'
operations:
  - create_table:
      name: daily_sales
      columns:
        - {name: order_date, type: date, nullable: false}
        - {name: store_id, type: integer, nullable: false}
        - {name: total, type: "numeric(12,2)", nullable: false, default: "0"}
      primary_key: [order_date, store_id]
      partition_by: {range: [order_date]}
      partitions: {every: 1 month, from: 2026-01-15, to: 2026-04-01, default: true}
  - create_table:
      name: weekly
      columns: [{name: at, type: timestamptz}]
      partition_by: {range: at}
      partitions: {every: 1 week, from: 2026-12-02, to: 2026-12-15}
  - create_table:
      name: events
      columns: [{name: id, type: bigint}, {name: kind, type: text}]
      partition_by: {list: kind}
      partitions:
        - {name: events_click, values: [click, tap]}
        - {name: events_rest, values: default}
  - create_table:
      name: hashed
      columns: [{name: id, type: bigint}]
      partition_by: {hash: id}
      partitions: {modulus: 3}
EOF2

partitions()
{
	sql "SELECT string_agg(c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid), E'\n' ORDER BY c.relname)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass('$1')"
}

mg --dir "$MIGDIR" apply >/dev/null || fail "apply of the partitioned tables"
assert_eq "daily_sales_2026_01 FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')
daily_sales_2026_02 FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')
daily_sales_2026_03 FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')
daily_sales_default DEFAULT" "$(partitions daily_sales)" "monthly partitions"
# weeks start on Monday: 2026-12-02 is a Wednesday
assert_eq "weekly_2026_11_30
weekly_2026_12_07
weekly_2026_12_14" "$(sql "SELECT string_agg(c.relname, E'\n' ORDER BY 1) FROM pg_inherits i
	JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'weekly'::regclass")" "weekly names"
assert_eq "events_click FOR VALUES IN ('click', 'tap')
events_rest DEFAULT" "$(partitions events)"
assert_eq 3 "$(sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'hashed'::regclass")"
mg --dir "$MIGDIR" rollback >/dev/null || fail "rollback of the partitioned tables"
assert_same_snapshot "$EMPTY" "rollback of create_table with partitions"
mg --dir "$MIGDIR" apply >/dev/null || fail "re-apply of the partitioned tables"

# rows for April and May arrive early, in the default partition
sql "INSERT INTO daily_sales SELECT d, s, 1 FROM generate_series('2026-01-01'::date, '2026-05-31', '1 day') d,
	generate_series(1, 20) s" >/dev/null
ROWS=$(sql "SELECT count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY r::text)) FROM daily_sales r")
BEFORE=$(db_snapshot)

write_migration 0002_more.yaml <<'EOF2'
operations:
  - add_partitions: {table: daily_sales, to: 2026-07-01}
EOF2
mg --dir "$MIGDIR" plan --online >/dev/null || fail "plan of add_partitions"
mg --dir "$MIGDIR" apply --online >/dev/null || fail "apply of add_partitions"
assert_eq "daily_sales_2026_01 FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')
daily_sales_2026_02 FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')
daily_sales_2026_03 FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')
daily_sales_2026_04 FOR VALUES FROM ('2026-04-01') TO ('2026-05-01')
daily_sales_2026_05 FOR VALUES FROM ('2026-05-01') TO ('2026-06-01')
daily_sales_2026_06 FOR VALUES FROM ('2026-06-01') TO ('2026-07-01')
daily_sales_default DEFAULT" "$(partitions daily_sales)" "added partitions"
assert_eq "daily_sales_2026_04 600
daily_sales_2026_05 620" "$(sql "SELECT string_agg(t || ' ' || n, E'\n' ORDER BY t) FROM (
	SELECT tableoid::regclass::text AS t, count(*) AS n FROM daily_sales
	WHERE order_date >= '2026-04-01' GROUP BY 1) x")" "rows moved out of the default partition"
assert_eq "$ROWS" "$(sql "SELECT count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY r::text)) FROM daily_sales r")" \
	"every row kept"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_constraint WHERE conname LIKE '%migrate%'")" "checks dropped"
# a rollback is refused while the partitions it added hold rows, and leaves them attached
expect_exit 1 mg --dir "$MIGDIR" rollback
assert_contains "$ERR" "holds rows: rollback keeps it"
assert_eq 7 "$(sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'daily_sales'::regclass")"
sql "DELETE FROM daily_sales WHERE order_date >= '2026-04-01'" >/dev/null
mg --dir "$MIGDIR" rollback >/dev/null || fail "rollback of add_partitions once the rows are gone"
assert_eq 4 "$(sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'daily_sales'::regclass")"
assert_eq f "$(sql "SELECT to_regclass('daily_sales_2026_05') IS NOT NULL")"
sql "INSERT INTO daily_sales SELECT d, s, 1 FROM generate_series('2026-04-01'::date, '2026-05-31', '1 day') d,
	generate_series(1, 20) s" >/dev/null
assert_same_snapshot "$BEFORE" "rollback of add_partitions"
mg --dir "$MIGDIR" apply --online >/dev/null || fail "re-apply of add_partitions"
assert_eq "$ROWS" "$(sql "SELECT count(*) || ' ' || md5(string_agg(r::text, ',' ORDER BY r::text)) FROM daily_sales r")"

# attach: a standalone table with rows joins under its validated check
sql "CREATE TABLE sales_2025 (LIKE daily_sales INCLUDING ALL);
	INSERT INTO sales_2025 SELECT d, 1, 2 FROM generate_series('2025-01-01'::date, '2025-12-31', '1 day') d" >/dev/null
BEFORE=$(db_snapshot)
write_migration 0003_attach.yaml <<'EOF2'
operations:
  - attach_partition:
      table: daily_sales
      partition: sales_2025
      values: {from: 2025-01-01, to: 2026-01-01}
EOF2
mg --dir "$MIGDIR" apply --online >/dev/null || fail "apply of attach_partition"
assert_eq "sales_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')" \
	"$(partitions daily_sales | grep sales_2025)"
assert_eq 365 "$(sql "SELECT count(*) FROM daily_sales WHERE order_date < '2026-01-01'")"
mg --dir "$MIGDIR" rollback >/dev/null || fail "rollback of attach_partition"
assert_same_snapshot "$BEFORE" "rollback of attach_partition"
mg --dir "$MIGDIR" apply --online >/dev/null || fail "re-apply of attach_partition"

# detach: concurrently where the table has no default partition
sql "DROP TABLE daily_sales_default" >/dev/null
BEFORE=$(db_snapshot)
write_migration 0004_detach.yaml <<'EOF2'
operations:
  - detach_partition: {table: daily_sales, partition: sales_2025}
EOF2
capture mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "DETACH PARTITION \"sales_2025\" CONCURRENTLY"
mg --dir "$MIGDIR" apply --online >/dev/null || fail "apply of detach_partition"
assert_eq "" "$(partitions daily_sales | grep sales_2025 || true)"
assert_eq 365 "$(sql "SELECT count(*) FROM sales_2025")" "the detached table is kept"
mg --dir "$MIGDIR" rollback >/dev/null || fail "rollback of detach_partition"
assert_same_snapshot "$BEFORE" "rollback of detach_partition"

# a detach interrupted while it waits for a reader is finished by the next run
psql -XAtq -d "$DB_URL" -c "BEGIN; SELECT count(*) FROM daily_sales; SELECT pg_sleep(6); COMMIT" >/dev/null &
reader=$!
sleep 0.5
mg --dir "$MIGDIR" apply --online >/dev/null 2>&1 &
pid=$!
detach_waits()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%DETACH PARTITION%CONCURRENTLY%'
		AND wait_event_type = 'Lock'")" = 1 ]
}
wait_until 20 detach_waits || fail "the detach did not wait for the reader"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%DETACH PARTITION%CONCURRENTLY%'
	AND pid <> pg_backend_pid()" >/dev/null
wait "$reader" || fail "the reader failed"
assert_eq t "$(sql "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'sales_2025'::regclass")" \
	"the killed detach is left pending"
mg --dir "$MIGDIR" apply --online >/dev/null || fail "resume of the interrupted detach (FINALIZE)"
assert_eq "" "$(partitions daily_sales | grep sales_2025 || true)"
assert_eq 365 "$(sql "SELECT count(*) FROM sales_2025")"
mg --dir "$MIGDIR" rollback >/dev/null || fail "rollback of the finished detach"
assert_same_snapshot "$BEFORE" "rollback of the detach finished by FINALIZE"
mg --dir "$MIGDIR" apply --online >/dev/null || fail "re-apply of detach_partition"
echo "ok"
