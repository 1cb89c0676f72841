#!/usr/bin/env bash
# t_ledger_kill: kill -9 at many moments of a multi-step online migration
# (add_column with a backfill, an index built concurrently, a check
# constraint, a type change, backfills with and without a down) and of its
# rollback, every other kill with the
# state file deleted; each run resumed.  Afterwards the schema (catalog
# query), the history and every row equal those of an uninterrupted run on
# a twin database.  Then a non-idempotent backfill (a = a + 1000) killed
# after it finished, during the next step, with and without a down and
# with and without the state file: every row exactly +1000, once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

setup()
{
	sql "CREATE TABLE k (id int PRIMARY KEY, v int NOT NULL, w int NOT NULL);
		INSERT INTO k SELECT g, g % 97, g FROM generate_series(1, 12000) g; ANALYZE k"
}
write_migration 0001_many.yaml <<'YAML'
settings: { batch_size: 400, batch_delay: 60ms }
operations:
  - add_column: { table: k, column: { name: label, type: text }, backfill: "'n' || v::text || '-' || id::text" }
  - create_index: { table: k, name: k_label, columns: [label] }
  - add_constraint: { table: k, name: k_v_small, check: "v < 1000" }
  - alter_column: { table: k, column: w, type: bigint, using: "w::bigint * 3" }
  - backfill: { table: k, set: { v: "v + 1" }, down: { v: "v - 1" } }
  - backfill: { table: k, set: { label: "upper(label)" } }
YAML
history() { sql "SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM public.schema_migrations"; }
state_of() { db_snapshot || fail "db_snapshot failed"; history; }

# The uninterrupted run, on a twin.
new_db
setup
expect_exit 0 mg --dir "$MIGDIR" apply --online
ref_applied=$(state_of)
expect_exit 0 mg --dir "$MIGDIR" rollback
ref_rolled_back=$(state_of)
assert_contains "$ref_applied" "1:completed" "the reference apply"

KILLS=0
# killed_runs CMD DELAYS...: runs `migrate CMD` again and again, each killed
# after the next delay (seconds) while it runs, every other one with the
# state file deleted first; then once more to the end.
killed_runs()
{
	local cmd=$1 d pid rc n=0

	shift
	for d in "$@"; do
		n=$((n + 1))
		[ $((n % 2)) -eq 0 ] && rm -f "$STATE" "$STATE-wal" "$STATE-shm"
		"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" --format json $cmd \
			>"$TMP/k.out" 2>"$TMP/k.err" &
		pid=$!
		sleep "$d"
		if kill -9 "$pid" 2>/dev/null; then
			KILLS=$((KILLS + 1))
		fi
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		[ $rc -eq 0 ] || [ $rc -eq 137 ] || { cat "$TMP/k.err" >&2; fail "$cmd exited $rc"; }
	done
	rm -f "$STATE" "$STATE-wal" "$STATE-shm"
	expect_exit 0 mg --dir "$MIGDIR" $cmd
}

new_db
setup
killed_runs "apply --online" 0.3 0.5 0.8 0.4 1.0 0.6 1.2 0.7
apply_kills=$KILLS
assert_eq "$ref_applied" "$(state_of)" "apply killed $apply_kills times, resumed: schema, history and rows"
KILLS=0
killed_runs "rollback" 0.2 0.4 0.3 0.6 0.25 0.5 0.35
rollback_kills=$KILLS
assert_eq "$ref_rolled_back" "$(state_of)" "rollback killed $rollback_kills times, resumed: schema, history and rows"
[ $((apply_kills + rollback_kills)) -ge 10 ] ||
	fail "only $apply_kills + $rollback_kills kills landed while migrate ran"
echo "kills: $apply_kills during apply, $rollback_kills during rollback"

# ---- a non-idempotent backfill, killed after it finished ----
rm "$MIGDIR"/*.yaml
once()
{
	local down=$1 keep_state=$2 pid

	new_db
	sql "CREATE TABLE p (id int PRIMARY KEY, a int NOT NULL);
		INSERT INTO p SELECT g, g FROM generate_series(1, 3000) g"
	rm -f "$MIGDIR"/*.yaml
	{
		echo "operations:"
		echo "  - backfill:"
		echo "      table: p"
		echo "      set: { a: \"a + 1000\" }"
		[ "$down" = yes ] && echo "      down: { a: \"a - 1000\" }"
		echo "  - sql: { up: \"SELECT pg_sleep(20)\", down: null }"
	} >"$MIGDIR/0001_plus.yaml"
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" --format json apply --online \
		>"$TMP/p.out" 2>"$TMP/p.err" &
	pid=$!
	wait_until 30 sleeping || { cat "$TMP/p.err" >&2; fail "the step after the backfill did not start"; }
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(20)'" >/dev/null
	[ "$keep_state" = yes ] || rm -f "$STATE" "$STATE-wal" "$STATE-shm"
	sed -i 's/pg_sleep(20)/pg_sleep(0)/' "$MIGDIR/0001_plus.yaml"
	expect_exit 0 mg --dir "$MIGDIR" apply --online
	assert_eq "3000|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE a <> id + 1000) FROM p")" \
		"every row exactly +1000 (down: $down, state file kept: $keep_state)"
	expect_exit 0 mg --dir "$MIGDIR" rollback
	assert_eq "3000|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE a <> id) FROM p")" \
		"rolled back exactly (down: $down, state file kept: $keep_state)"
}
sleeping() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(20)'")" = 1 ]; }
once yes yes
once yes no
once no yes
once no no
echo "t_ledger_kill: ok"
