#!/usr/bin/env bash
# A rollback killed half way, then apply: the ledger still lists the
# migration's steps as applied while the rollback has put some rows back, so
# apply refuses (exit 2, nothing changed) and says to finish the rollback;
# rollback then finishes exactly, and apply afterwards fills every row once.
# With and without the state file.
. "$(dirname "$0")/lib.sh"
new_db

rows=3000
sum_of() { sql "SELECT md5(string_agg(id || ':' || coalesce(a::text, '-'), ',' ORDER BY id)) FROM items"; }
for with_state in yes no; do
	sql "DROP TABLE IF EXISTS items; DROP SCHEMA IF EXISTS migrate CASCADE; DROP TABLE IF EXISTS schema_migrations;
		CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL);
		INSERT INTO items SELECT g, g FROM generate_series(1, $rows) g" >/dev/null
	rm -f "$STATE" "$MIGDIR"/*
	write_migration 0001_bump.yaml <<'YAML'
operations:
  - backfill: {table: items, set: {a: a + 1000}, batch_size: 100, batch_delay: 100ms}
YAML
	before=$(sum_of)
	expect_exit 0 mg --dir "$MIGDIR" apply --online
	assert_eq "$rows" "$(sql "SELECT count(*) FILTER (WHERE a = id + 1000) FROM items")" "applied"
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" rollback --format json >"$TMP/rb.out" 2>&1 &
	pid=$!
	some_restored() { [ "$(sql "SELECT count(*) FROM items WHERE a = id")" -ge 300 ]; }
	wait_until 60 some_restored || fail "the rollback never put rows back"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	restored=$(sql "SELECT count(*) FROM items WHERE a = id")
	[ "$restored" -lt "$rows" ] || fail "the rollback finished before the kill: nothing to test"
	assert_eq rolling_back "$(sql "SELECT state FROM migrate.ledger_runs WHERE version = 1")" "the ledger's state"
	assert_eq running "$(sql "SELECT status FROM public.schema_migrations WHERE version = 1")" \
		"the history no longer says completed"
	[ $with_state = yes ] || rm -f "$STATE"

	expect_exit 2 mg --dir "$MIGDIR" apply --online
	assert_contains "$ERR" "run rollback again to finish it" "the way on"
	assert_eq "$restored" "$(sql "SELECT count(*) FROM items WHERE a = id")" "apply changed nothing"

	expect_exit 0 mg --dir "$MIGDIR" rollback
	assert_eq "$before" "$(sum_of)" "state file $with_state: the resumed rollback is exact"
	expect_exit 0 mg --dir "$MIGDIR" apply --online
	assert_eq "$rows" "$(sql "SELECT count(*) FILTER (WHERE a = id + 1000) FROM items")" \
		"state file $with_state: applied again, every row once"
done
