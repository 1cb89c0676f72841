#!/usr/bin/env bash
# A backfill pauses while a streaming replica lags more than
# max_replica_lag, says so in its progress events, and resumes by itself
# when the replica catches up: with the replica named by --replica, and
# through the primary's pg_stat_replication without it.  The replica is a
# real one, of a primary of the test's own (the shared cluster must not
# stop): a copy of the primary's data folder taken while it was stopped,
# started as a standby on a port of its own (no pg_basebackup: the
# servers of the matrix come without it), with replay paused by
# pg_wal_replay_pause().
# it-alone: it measures latency or timing; run after the others, one at a time
. "$(dirname "$0")/lib.sh"
. "$REPO/scripts/pglib.sh"

bindir=$(pg_bindir) || fail "no PostgreSQL server programs"
# As root the servers run as postgres, which must reach the test's folders.
chmod 755 "$TMP"
primary_dir=$TMP/primary
replica_dir=$TMP/replica
as_owner()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
stop_servers()
{
	as_owner "$bindir/pg_ctl" -D "$replica_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	bash "$REPO/scripts/pgcluster.sh" stop "$primary_dir" || true
}
trap 'stop_servers; lib_cleanup' EXIT

bash "$REPO/scripts/pgcluster.sh" start "$primary_dir" >/dev/null || fail "the primary did not start"
# shellcheck source=/dev/null
. "$primary_dir/env"
new_db

# The copy: a cleanly stopped primary's folder, which a standby replays
# from its last checkpoint on, streaming from the primary.
as_owner "$bindir/pg_ctl" -D "$primary_dir/data" -m fast -w stop >/dev/null ||
	fail "the primary did not stop"
mkdir -p "$replica_dir"
[ "$(id -u)" -ne 0 ] || chown postgres: "$replica_dir"
as_owner cp -a "$primary_dir/data" "$replica_dir/data" || fail "copying the primary failed"
as_owner touch "$replica_dir/data/standby.signal"
printf "primary_conninfo = 'host=%s port=%s user=postgres application_name=it_replica'\n" \
	"$PGHOST" "$PGPORT" | as_owner tee -a "$replica_dir/data/postgresql.auto.conf" >/dev/null
as_owner "$bindir/pg_ctl" -D "$primary_dir/data" -l "$primary_dir/log" -w -t 60 \
	-o "-p $PGPORT" start >/dev/null || { cat "$primary_dir/log" >&2; fail "the primary did not start again"; }
replica_port=$((PGPORT + 1))
as_owner "$bindir/pg_ctl" -D "$replica_dir/data" -l "$replica_dir/log" -w -t 60 \
	-o "-p $replica_port -c unix_socket_directories='$replica_dir' -c hot_standby=on" \
	start >/dev/null || { cat "$replica_dir/log" >&2; fail "the replica did not start"; }
REPLICA="host=$replica_dir port=$replica_port dbname=$DB_NAME user=postgres"

rsql()
{
	sql "$1" "$REPLICA"
}

rows=50000
sql "CREATE TABLE items (id bigint PRIMARY KEY, v int);
	INSERT INTO items SELECT g, NULL FROM generate_series(1, $rows) g;
	ANALYZE items" >/dev/null
replica_has_items()
{
	[ "$(sql_try "SELECT count(*) FROM items" "$REPLICA" 2>/dev/null)" = "$rows" ]
}
wait_until 60 replica_has_items || fail "the replica never saw the table"
write_migration 0001_fill.yaml <<'YAML'
operations:
  - backfill: {table: items, set: {v: id * 2}, down: {v: "NULL"}, batch_size: 200, batch_delay: 50ms}
YAML

filled()
{
	sql "SELECT count(v) FROM items"
}
started()
{
	[ "$(filled)" -gt 0 ]
}
throttled_line()
{
	grep -q '"throttled":true' "$TMP/apply.out"
}

# run_paused [OPTIONS]: apply --online, and replay paused on the replica
# once the backfill started; the backfill must stop within a batch or two,
# report that it is throttled, and finish once replay resumes.
run_paused()
{
	local before after

	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online --format json \
		--max-replica-lag 1s "$@" >"$TMP/apply.out" 2>&1 &
	apply_pid=$!
	wait_until 30 started || fail "the backfill did not start"
	rsql "SELECT pg_wal_replay_pause()" >/dev/null
	wait_until 30 throttled_line || fail "no throttled progress event while replay is paused"
	before=$(filled)
	sleep 3
	after=$(filled)
	[ "$after" -lt "$rows" ] || fail "the backfill ran to the end with replay paused"
	[ $((after - before)) -le 400 ] ||
		fail "the backfill kept writing with replay paused ($before, then $after rows)"
	rsql "SELECT pg_wal_replay_resume()" >/dev/null
	wait "$apply_pid" || { cat "$TMP/apply.out" >&2; fail "apply failed after replay resumed"; }
	OUT=$(cat "$TMP/apply.out")
	assert_eq "$rows" "$(sql "SELECT count(*) FROM items WHERE v = id * 2")" "every row filled"
	assert_eq false "$(json_lines '[e["throttled"] for e in d if e["event"] == "progress"][-1]')" \
		"the last progress event is not throttled"
	assert_eq completed "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" \
		"migration completed"
}

# With --replica: the replica's own replay position.
run_paused --replica "$REPLICA"

# Without it: the primary's pg_stat_replication (the replica streams).
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(filled)" "rollback emptied the column"
caught_up()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn = pg_current_wal_lsn()")" = 1 ]
}
wait_until 30 caught_up || fail "the replica did not catch up"
run_paused
