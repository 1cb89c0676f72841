#!/usr/bin/env bash
# The fast path of a backfill without `down` (the rows whose old values are
# NULL, a column just added: one UPDATE per batch, no join) saves exactly
# what the general path would: killed with SIGKILL between batches again
# and again while an application writes the same rows, resumed each time,
# every row is backfilled once and saved once with the value it held; a
# few rows that already hold a value go through the general path in the
# same batches.  The rollback, itself killed half way and resumed, puts
# every row back as it was, keeping what the application wrote, checked
# row by row.
. "$(dirname "$0")/lib.sh"
new_db

rows=40000
# x NULL (a new column) but for 300 rows that already hold a value
sql "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, note text, x int);
	INSERT INTO items SELECT g, g % 1000, 'n' || g,
		CASE WHEN g BETWEEN 15001 AND 15300 THEN -7 END FROM generate_series(1, $rows) g;
	CREATE TABLE app_log (id bigint NOT NULL, what text NOT NULL);
	CREATE TABLE original AS SELECT * FROM items;
	ANALYZE items" >/dev/null
# Not idempotent: a batch applied twice would show.  Auto batch size: the
# integer key is walked by spans; small batches with a pause, to kill between.
write_migration 0001_fill.yaml <<'YAML'
settings:
  batch_time: 20ms
operations:
  - backfill: {table: items, set: {x: "coalesce(x, 0) + a + 1"}, batch_delay: 40ms}
YAML

# The application: x of some rows, note of others, each write logged with it.
rm -f "$TMP/app.stop"
(
	i=0
	while [ ! -e "$TMP/app.stop" ]; do
		i=$((i + 1))
		id=$(((i * 7919) % rows + 1))
		if [ $((i % 2)) -eq 0 ]; then
			sql "BEGIN; UPDATE items SET x = -1 WHERE id = $id;
				INSERT INTO app_log VALUES ($id, 'x'); COMMIT" >/dev/null
		else
			sql "BEGIN; UPDATE items SET note = 'app' WHERE id = $id;
				INSERT INTO app_log VALUES ($id, 'note'); COMMIT" >/dev/null
		fi
	done
) &
app_pid=$!

rows_done()
{
	if [ "$(sql "SELECT to_regclass('migrate.backfill_cursors') IS NULL")" = t ]; then
		echo 0
	else
		sql "SELECT coalesce((SELECT rows_done FROM migrate.backfill_cursors), 0)"
	fi
}

# the saved batches the rollback has not put back yet
batches_left()
{
	if [ "$(sql "SELECT to_regclass('migrate.row_batches_1_1') IS NULL")" = t ]; then
		echo 0
	else
		sql "SELECT count(*) FROM migrate.row_batches_1_1"
	fi
}

# run_and_kill COMMAND PROGRESSED: starts migrate COMMAND, kills it once
# the function PROGRESSED succeeds (or lets it finish); 0 when it was killed.
run_and_kill()
{
	local pid

	# shellcheck disable=SC2086  # COMMAND is words
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" $1 --format json \
		>>"$TMP/runs.out" 2>&1 &
	pid=$!
	past() { $1 || ! kill -0 "$pid" 2>/dev/null; }
	wait_until 120 past "$2" || fail "$1 made no progress"
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	wait "$pid" || fail "$1 failed: $(tail -n 5 "$TMP/runs.out")"
	return 1
}

kills=0
for at in 4000 11000 18000 26000 33000; do
	done_past() { [ "$(rows_done)" -ge "$at" ]; }
	if run_and_kill "apply --online" done_past; then
		kills=$((kills + 1))
	fi
	# what is saved is what is done: a killed batch saved nothing
	assert_eq "$(rows_done)" "$(sql "SELECT coalesce(sum(cardinality(saved)), 0)
		FROM migrate.row_batches_1_1")" "after kill $kills: saved rows = rows done"
done
[ $kills -ge 3 ] || fail "only $kills kills landed between batches"
expect_exit 0 mg --dir "$MIGDIR" apply --online

# every row saved once, each with the value it held and the value written
assert_eq "$rows|$rows" "$(sql "SELECT count(*), count(DISTINCT r.id)
	FROM migrate.row_batches_1_1 b, unnest(b.saved) r")" "every row saved once"
assert_eq 0 "$(sql "SELECT count(*) FROM migrate.row_batches_1_1 b, unnest(b.saved) r
	JOIN original o USING (id)
	WHERE NOT (r.migrate_new_1 = coalesce(r.x, 0) + o.a + 1
		AND (r.x IS NOT DISTINCT FROM o.x
			OR (r.x = -1 AND id IN (SELECT id FROM app_log WHERE what = 'x'))))")" \
	"each saved old value is the one overwritten, each new value the one written"
# the backfill ran once on every row (the application's x = -1 may come after it)
assert_eq 0 "$(sql "SELECT count(*) FROM items i JOIN original o USING (id)
	WHERE i.x IS DISTINCT FROM coalesce(o.x, 0) + o.a + 1
	AND NOT (i.x IN (-1, o.a) AND id IN (SELECT id FROM app_log WHERE what = 'x'))")" \
	"every row backfilled once"
assert_eq 300 "$(sql "SELECT count(*) FROM items WHERE id BETWEEN 15001 AND 15300
	AND (x = a - 6 OR id IN (SELECT id FROM app_log WHERE what = 'x'))")" \
	"the rows that held a value: saved and backfilled through the general path"

# the rollback, killed half way, resumed (the application still writing);
# then every row as it was
saved_batches=$(batches_left)
half_back() { [ "$(batches_left)" -le $((saved_batches / 2)) ]; }
run_and_kill rollback half_back || fail "the rollback finished before it could be killed"
[ "$(batches_left)" -gt 0 ] || fail "the rollback was killed after its last batch"
expect_exit 0 mg --dir "$MIGDIR" rollback
touch "$TMP/app.stop"
wait "$app_pid" || fail "the application's writes failed"
assert_eq 0 "$(sql "SELECT count(*) FROM items i FULL JOIN original o USING (id)
	WHERE i.id IS NULL OR o.id IS NULL
	OR i.a <> o.a
	OR i.note IS DISTINCT FROM CASE WHEN id IN (SELECT id FROM app_log WHERE what = 'note')
		THEN 'app' ELSE o.note END
	OR i.x IS DISTINCT FROM CASE WHEN id IN (SELECT id FROM app_log WHERE what = 'x')
		THEN -1 ELSE o.x END")" "rollback: every row as it was, with the application's writes"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
	WHERE nspname = 'migrate' AND relname LIKE '%rows%'")" "saved values dropped once restored"
# ---- a composite of NULL fields is not NULL ----
sql "DROP SCHEMA migrate CASCADE; DROP TABLE schema_migrations;
	CREATE TYPE pair AS (p int, q int);
	CREATE TABLE pairs (id bigint PRIMARY KEY, v pair);
	INSERT INTO pairs SELECT g, CASE WHEN g % 2 = 0 THEN ROW(NULL, NULL)::pair END
		FROM generate_series(1, 4000) g" >/dev/null
rm -f "$STATE" "$MIGDIR"/*
write_migration 0001_pairs.yaml <<'YAML'
operations:
  - backfill: {table: pairs, set: {v: "ROW(id, 1)::pair"}}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 4000 "$(sql "SELECT count(*) FROM pairs WHERE v = ROW(id, 1)::pair")" "pairs backfilled"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "2000|2000" "$(sql "SELECT count(*) FILTER (WHERE id % 2 = 0 AND num_nulls(v) = 0
	AND (v).p IS NULL AND (v).q IS NULL), count(*) FILTER (WHERE id % 2 = 1 AND num_nulls(v) = 1)
	FROM pairs")" "rollback: ROW(NULL, NULL) back as itself, NULL as NULL"
echo ok
