#!/usr/bin/env bash
# t_txn: the layer under executor and backfill.
#  - A backfill's batch_delay is interruptible: SIGINT / SIGTERM during the
#    pause between batches exit 130 / 143 within a second, and the resumed
#    run fills every row exactly once.
#  - The history table's lock goes through the retrying short transaction
#    with the user's --lock-timeout and --lock-retries: held by a reader, it
#    gives up with exit 4 naming the blocker; once free, apply succeeds.
. "$(dirname "$0")/lib.sh"

new_db
sql "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, w int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 3000) g"
write_migration 0001_fill.yaml <<'YAML'
operations:
  - backfill:
      table: t
      set: { w: "v + 1000" }
      batch_size: 1000
      batch_delay: 20s
YAML

first_batch_done() { [ "$(sql "SELECT count(*) FROM t WHERE w IS NOT NULL")" -ge 1000 ]; }
reader_waiting()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%'
		AND pid <> pg_backend_pid()")" = 1 ]
}

# interrupt SIGNAL STATUS: the signal during the first pause.
interrupt()
{
	local pid rc=0 t0

	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online \
		>"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_until 20 first_batch_done ||
		fail "the first batch did not commit"
	sleep 0.3
	t0=$(date +%s%N)
	kill -"$1" "$pid"
	wait "$pid" || rc=$?
	assert_eq "$2" "$rc" "exit status after SIG$1 in a batch_delay"
	[ $((($(date +%s%N) - t0) / 1000000)) -lt 1500 ] ||
		fail "SIG$1 took $((($(date +%s%N) - t0) / 1000000)) ms to end the pause"
	assert_contains "$(cat "$TMP/err")" "interrupted by SIG$1" "the message after SIG$1"
	assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations
		WHERE version = 1 AND status = 'completed'")" "history after SIG$1"
}
interrupt INT 130
interrupt TERM 143
# The resume: the remaining batches, with no pause left to wait for.
sed -i 's/batch_delay: 20s/batch_delay: 0ms/' "$MIGDIR/0001_fill.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "3000|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE w IS DISTINCT FROM v + 1000) FROM t")" \
	"every row filled once, exactly"

# The history table's lock, under the user's settings.
new_db
sql "CREATE TABLE public.schema_migrations (version bigint PRIMARY KEY, name text NOT NULL,
	checksum text NOT NULL, started_at timestamptz NOT NULL, completed_at timestamptz,
	status text NOT NULL, error_message text, applied_by text, execution_ms bigint)"
write_migration 0002_t2.yaml <<'YAML'
operations:
  - create_table: { name: t2, columns: [{ name: id, type: int, primary_key: true }] }
YAML
rm "$MIGDIR/0001_fill.yaml"
psql -XAtq -d "$DB_URL" -c "BEGIN; SELECT count(*) FROM public.schema_migrations; SELECT pg_sleep(30)" \
	>/dev/null 2>&1 &
holder=$!
wait_until 10 reader_waiting || fail "the reader did not start"
t0=$SECONDS
expect_exit 4 mg --dir "$MIGDIR" --format json apply --lock-timeout 200ms --lock-retries 3
[ $((SECONDS - t0)) -lt 10 ] || fail "gave up after $((SECONDS - t0)) s, not within the retries"
assert_contains "$ERR" "gave up after 3 attempts (lock_timeout 200 ms)" "the retries, under --lock-timeout"
assert_contains "$ERR" "pg_sleep(30)" "the blocker named"
assert_eq f "$(sql "SELECT to_regclass('t2') IS NOT NULL")" "nothing applied"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%'
	AND pid <> pg_backend_pid()" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" apply --lock-timeout 200ms
assert_eq "strategy|t" "$(sql "SELECT attname, to_regclass('t2') IS NOT NULL FROM pg_attribute
	WHERE attrelid = 'public.schema_migrations'::regclass AND attname = 'strategy'")" \
	"the history table brought to shape, the migration applied"
echo "t_txn: ok"
