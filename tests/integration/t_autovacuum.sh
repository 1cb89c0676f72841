#!/usr/bin/env bash
# A lock wait blocked by autovacuum, with REAL autovacuum workers (a private
# cluster with autovacuum_naptime = 1s, the tables' vacuums throttled by
# their storage parameters so that each holds its lock for seconds):
#  - an ordinary autovacuum is cancelled (pg_cancel_backend), and said so
#    (event "autovacuum", action "cancelled"); the step then runs;
#  - an anti-wraparound one (provoked by consuming 101,000 transaction ids
#    against a table with autovacuum_freeze_max_age = 100000) is waited
#    for, with a message, never cancelled, and its attempts do not count;
#  - a client's session blocking is one readable line on a terminal (text).
# it-alone: it measures timing
. "$(dirname "$0")/lib.sh"

pg=$TMP/pg
chmod 755 "$TMP"	# the server may run as another user
bash scripts/pgcluster.sh start "$pg" >/dev/null || fail "no private cluster"
stop_cluster() { bash scripts/pgcluster.sh stop "$pg" >/dev/null 2>&1 || true; lib_cleanup; }
trap stop_cluster EXIT
# shellcheck source=/dev/null
. "$pg/env"
unset PGDATABASE
new_db
sql "ALTER SYSTEM SET autovacuum_naptime = '1s'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null

worker_on()
{
	[ -n "$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'
		AND query LIKE '%public.$1%$2'")" ]
}
app_writes()
{
	sql "INSERT INTO $1 (v) VALUES ('app'); UPDATE $1 SET v = v WHERE id = 1" >/dev/null ||
		fail "the application's writes on $1 fail after $2"
}

# 1. An ordinary autovacuum, throttled to hold its lock for a long time.
sql "CREATE TABLE av1 (id bigserial PRIMARY KEY, v text) WITH (autovacuum_vacuum_threshold = 0,
		autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100,
		autovacuum_vacuum_cost_limit = 1, autovacuum_analyze_threshold = 1000000000);
	INSERT INTO av1 (v) SELECT 'x' FROM generate_series(1, 100000);
	UPDATE av1 SET v = 'y' WHERE id <= 2000"
wait_until 60 worker_on av1 "" || fail "no autovacuum worker came for av1"
write_migration 0001_av1_check.yaml <<'YAML'
settings: { lock_timeout: 300ms, lock_retries: 3 }
operations:
  - add_constraint: { table: av1, name: av1_v_check, check: "v <> ''" }
YAML
t0=$SECONDS
expect_exit 0 mg --dir "$MIGDIR" --format json apply --online
assert_eq '["cancelled"]' "$(json_lines 'sorted({e["action"] for e in d if e["event"] == "autovacuum"})')" \
	"the ordinary autovacuum was cancelled, and the events say so"
assert_eq true "$(json_lines '[e for e in d if e["event"] == "autovacuum"][0]["query"].startswith("autovacuum: VACUUM")')" \
	"the event names the worker's query"
[ $((SECONDS - t0)) -lt 30 ] || fail "cancelling the autovacuum did not let the step through soon"
grep -q "canceling autovacuum task" "$pg/log" || fail "the server did not log the cancel"
app_writes av1 "cancelling autovacuum"

# 2. An anti-wraparound autovacuum: waited for, never cancelled.
sql "CREATE TABLE av2 (id bigserial PRIMARY KEY, v text) WITH (autovacuum_enabled = false,
		autovacuum_freeze_max_age = 100000, autovacuum_vacuum_cost_delay = 100,
		autovacuum_vacuum_cost_limit = 1);
	INSERT INTO av2 (v) SELECT 'x' FROM generate_series(1, 3000);
	CREATE TABLE burn (i int)"
sql "DO \$\$ BEGIN FOR i IN 1..101000 LOOP BEGIN INSERT INTO burn VALUES (i);
	EXCEPTION WHEN others THEN NULL; END; END LOOP; END \$\$"
wait_until 60 worker_on av2 "(to prevent wraparound)" || fail "no anti-wraparound autovacuum came for av2"
cancels_before=$(grep -c "canceling autovacuum task" "$pg/log" || true)
write_migration 0002_av2_check.yaml <<'YAML'
settings: { lock_timeout: 300ms, lock_retries: 2 }
operations:
  - add_constraint: { table: av2, name: av2_v_check, check: "v <> ''" }
YAML
t0=$SECONDS
expect_exit 0 mg --dir "$MIGDIR" --format text apply --online
waited=$((SECONDS - t0))
assert_contains "$OUT" "waiting for an autovacuum of av2 that prevents wraparound" "the message"
assert_contains "$OUT" "it must not be cancelled" "the message says why"
assert_not_contains "$OUT" "cancelled an autovacuum" "it was not cancelled"
assert_eq "$cancels_before" "$(grep -c "canceling autovacuum task" "$pg/log" || true)" \
	"no autovacuum was cancelled during the wait"
[ "$waited" -ge 1 ] || fail "it did not wait for the anti-wraparound autovacuum"
echo "waited $waited s behind the anti-wraparound autovacuum (2 lock attempts allowed)"
app_writes av2 "waiting for autovacuum"

# 3. A client's session: one readable line each, on a terminal (text).
sql "CREATE TABLE av3 (id bigserial PRIMARY KEY, v text)"
psql -XAtq -d "$DB_URL" -c "BEGIN; LOCK av3 IN SHARE MODE; SELECT pg_sleep(3); COMMIT" >/dev/null &
holder=$!
# (asked again each time round: a $(...) in wait_until's arguments would be
# read once, before the holder had a chance to lock)
holder_locked()
{
	[ -n "$(sql "SELECT pid FROM pg_locks WHERE relation = 'av3'::regclass AND mode = 'ShareLock' AND granted")" ]
}
wait_until 10 holder_locked ||
	fail "the holder did not take its lock"
write_migration 0003_av3_check.yaml <<'YAML'
settings: { lock_timeout: 300ms, lock_retries: 20 }
operations:
  - add_constraint: { table: av3, name: av3_v_check, check: "v <> ''" }
YAML
expect_exit 0 mg --dir "$MIGDIR" --format text apply --online
wait "$holder"
assert_match "$OUT" '^      pid [0-9]+, a session, active, for [0-9]+ s: BEGIN; LOCK av3 IN SHARE MODE' \
	"a blocker as one readable line"
assert_not_contains "$OUT" '"pid":' "no JSON on a terminal"
