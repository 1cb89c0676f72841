#!/usr/bin/env bash
# A backfill's completion and cursor are facts in the database, committed
# with its batches: killed after the backfill finished (during a later
# step), a resumed apply does not run it again, with or without `down`,
# with or without the state file.  A backfill that fails half way is rolled
# back exactly: the rows of the batches that ran, and only those, get their
# old values back (`down`, or the saved values), and the saved values are
# kept until they are back.  Rollback keeps what the application wrote
# after the backfill.
. "$(dirname "$0")/lib.sh"
new_db

rows=20000
# checksum of a table, in key order
sum_of() { sql "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM $1 t"; }

# ---- (a) killed during the step after a finished backfill ----
for variant in down nodown; do
	for with_state in yes no; do
		sql "DROP TABLE IF EXISTS a_items, a_slow; DROP SCHEMA IF EXISTS migrate CASCADE;
			DROP TABLE IF EXISTS schema_migrations;
			CREATE TABLE a_items (id bigint PRIMARY KEY, a int NOT NULL);
			INSERT INTO a_items SELECT g, g FROM generate_series(1, $rows) g;
			CREATE TABLE a_slow (id bigint PRIMARY KEY, w int);
			INSERT INTO a_slow SELECT g, NULL FROM generate_series(1, 4000) g;
			ANALYZE a_items, a_slow" >/dev/null
		rm -f "$STATE" "$MIGDIR"/*
		down=
		[ $variant = down ] && down=', down: {a: a - 1000}'
		write_migration 0001_twice.yaml <<YAML
operations:
  - backfill: {table: a_items, set: {a: a + 1000}$down, batch_size: 5000}
  - backfill: {table: a_slow, set: {w: 1}, down: {w: "NULL"}, batch_size: 200, batch_delay: 100ms}
YAML
		before=$(sum_of a_items)
		"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online --format json \
			>"$TMP/first.out" 2>&1 &
		pid=$!
		slow_started()
		{
			[ "$(sql "SELECT count(*) FROM a_slow WHERE w IS NOT NULL")" -ge 400 ]
		}
		wait_until 60 slow_started || fail "$variant: the second backfill never started"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		assert_eq t "$(sql "SELECT bool_and(finished) FROM migrate.backfill_cursors WHERE step LIKE '1.1.%'")" \
			"$variant: the first backfill's completion is in the database"
		[ $with_state = yes ] || rm -f "$STATE"
		expect_exit 0 mg --dir "$MIGDIR" apply --online --format json
		assert_eq "$rows|$rows" "$(sql "SELECT count(*), count(*) FILTER (WHERE a = id + 1000) FROM a_items")" \
			"$variant, state file $with_state: a = a + 1000 ran once on every row"
		assert_eq 4000 "$(sql "SELECT count(*) FROM a_slow WHERE w = 1")" \
			"$variant, state file $with_state: the second backfill finished"
		expect_exit 0 mg --dir "$MIGDIR" rollback
		assert_eq "$before" "$(sum_of a_items)" "$variant, state file $with_state: rollback exact"
		assert_eq 0 "$(sql "SELECT count(*) FROM migrate.backfill_cursors")" \
			"$variant: rollback forgets every cursor"
		# and a second round of apply and rollback does it all again
		expect_exit 0 mg --dir "$MIGDIR" apply --online
		assert_eq "$rows" "$(sql "SELECT count(*) FILTER (WHERE a = id + 1000) FROM a_items")" \
			"$variant: applied again after the rollback"
		expect_exit 0 mg --dir "$MIGDIR" rollback
		assert_eq "$before" "$(sum_of a_items)" "$variant: second rollback exact"
	done
done

# ---- (b) a backfill that fails at row 89,001, rolled back ----
n=100000
for variant in down nodown; do
	sql "DROP TABLE IF EXISTS b_items; DROP SCHEMA IF EXISTS migrate CASCADE;
		DROP TABLE IF EXISTS schema_migrations;
		CREATE TABLE b_items (id bigint PRIMARY KEY, a int NOT NULL, note text);
		INSERT INTO b_items SELECT g, g % 1000, 'n' || g FROM generate_series(1, $n) g;
		ANALYZE b_items" >/dev/null
	rm -f "$STATE" "$MIGDIR"/*
	down=
	[ $variant = down ] && down=', down: {a: a - 1000}'
	write_migration 0001_fails.yaml <<YAML
operations:
  - backfill: {table: b_items, set: {a: "a + 1000 / (CASE WHEN id = 89001 THEN 0 ELSE 1 END)"}$down, batch_size: 1000}
YAML
	before=$(sum_of b_items)
	expect_exit 1 mg --dir "$MIGDIR" apply --online
	assert_contains "$ERR" "division by zero" "$variant: the failure is reported"
	assert_eq 89000 "$(sql "SELECT count(*) FROM b_items WHERE a >= 1000")" \
		"$variant: the batches before the failing one committed"
	if [ $variant = nodown ]; then
		assert_eq 89000 "$(sql "SELECT sum(cardinality(saved)) FROM migrate.row_batches_1_1")" \
			"$variant: their old values are saved"
	fi
	expect_exit 0 mg --dir "$MIGDIR" rollback
	assert_eq "$before" "$(sum_of b_items)" "$variant: rollback restores exactly the batches that ran"
	assert_eq rolled_back "$(sql "SELECT status FROM schema_migrations WHERE version = 1")" \
		"$variant: status"
	assert_eq 0 "$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE nspname = 'migrate' AND relname LIKE '%rows%'")" "$variant: saved values dropped once restored"
done

# ---- (c) rollback keeps the application's later writes ----
sql "DROP TABLE IF EXISTS c_items; DROP SCHEMA IF EXISTS migrate CASCADE;
	DROP TABLE IF EXISTS schema_migrations;
	CREATE TABLE c_items (id bigint PRIMARY KEY, v int, w text);
	INSERT INTO c_items SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g END, 'w' FROM generate_series(1, $rows) g;
	ANALYZE c_items" >/dev/null
rm -f "$STATE" "$MIGDIR"/*
write_migration 0001_fill.yaml <<'YAML'
operations:
  - backfill: {table: c_items, set: {v: "coalesce(v, 0) * 2"}, batch_size: 3000}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
# after the backfill: some rows get a new v, some only a new w, some are deleted, some added
sql "UPDATE c_items SET v = -1 WHERE id % 10 = 0;
	UPDATE c_items SET w = 'later' WHERE id % 10 = 1;
	DELETE FROM c_items WHERE id % 10 = 2;
	INSERT INTO c_items SELECT g, -2, 'new' FROM generate_series($rows + 1, $rows + 50) g" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(*) FROM c_items WHERE NOT (
	CASE WHEN id > $rows THEN v = -2 AND w = 'new'
	     WHEN id % 10 = 0 THEN v = -1 AND w = 'w'
	     WHEN id % 10 = 1 THEN v IS NOT DISTINCT FROM CASE WHEN id % 7 = 0 THEN NULL ELSE id END AND w = 'later'
	     ELSE v IS NOT DISTINCT FROM CASE WHEN id % 7 = 0 THEN NULL ELSE id END AND w = 'w' END)")" \
	"rollback restored the backfill's rows and kept every later write"
assert_eq $((rows - rows / 10 + 50)) "$(sql "SELECT count(*) FROM c_items")" "row count"

# the same without --online: one UPDATE, and its rollback keeps later writes too
sql "DROP TABLE c_items; DROP SCHEMA migrate CASCADE; DROP TABLE schema_migrations;
	CREATE TABLE c_items (id bigint PRIMARY KEY, v int, w text);
	INSERT INTO c_items SELECT g, g, 'w' FROM generate_series(1, 1000) g" >/dev/null
rm -f "$STATE"
expect_exit 0 mg --dir "$MIGDIR" apply
sql "UPDATE c_items SET v = -1 WHERE id % 10 = 0" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "100|900" "$(sql "SELECT count(*) FILTER (WHERE v = -1), count(*) FILTER (WHERE v = id) FROM c_items")" \
	"plain rollback keeps later writes"
echo ok
