#!/usr/bin/env bash
# An application writes the rows a backfill fills while `apply --online`
# and its `rollback` run (pgbench, 2 clients: it overwrites the backfilled
# column, updates another column, inserts and deletes), with and without
# `down`.  Afterwards every row is checked: each row the backfill walked
# holds the backfill's value or a later application write, and after the
# rollback the old value or an application write, never the backfill's;
# no application write to the other column is lost (each is logged in the
# same transaction); and no application transaction failed.
. "$(dirname "$0")/lib.sh"
new_db
export PGOPTIONS='-c client_min_messages=warning'

rows=30000
cat >"$TMP/app.sql" <<'SQL'
\set id random(1, 30000)
\set other random(1, 30000)
\set n random(1, 1000000)
BEGIN;
UPDATE items SET v = -:n WHERE id = :id;
UPDATE items SET w = w + 1 WHERE id = :other;
INSERT INTO w_log SELECT :other WHERE EXISTS (SELECT 1 FROM items WHERE id = :other);
END;
INSERT INTO items (a, v) VALUES (:n, NULL);
DELETE FROM items WHERE id = :n % 30100 + 1 AND :n % 20 = 0;
SQL

app_start()
{
	pgbench -n -c 2 -T "$1" -f "$TMP/app.sql" "$DB_NAME" >"$TMP/app.log" 2>&1 &
	APP_PID=$!
}
app_stop()
{
	wait "$APP_PID" || { cat "$TMP/app.log" >&2; fail "$1: pgbench failed"; }
	grep -q 'number of failed transactions: 0 ' "$TMP/app.log" ||
		{ cat "$TMP/app.log" >&2; fail "$1: application transactions failed"; }
	grep -Eq 'number of transactions actually processed: [1-9]' "$TMP/app.log" ||
		fail "$1: the application did nothing"
}
# every application write to w is there: one log row for each
assert_w_kept()
{
	assert_eq 0 "$(sql "SELECT count(*) FROM items i LEFT JOIN
		(SELECT id, count(*) AS n FROM w_log GROUP BY id) l USING (id)
		WHERE i.w <> coalesce(l.n, 0)")" "$1: every application write to w kept"
}

for variant in nodown down; do
	sql "DROP TABLE IF EXISTS items, w_log; DROP SCHEMA IF EXISTS migrate CASCADE;
		DROP TABLE IF EXISTS schema_migrations;
		CREATE TABLE items (id bigserial PRIMARY KEY, a int NOT NULL, v int, w int NOT NULL DEFAULT 0);
		CREATE TABLE w_log (id bigint NOT NULL); DROP TABLE IF EXISTS app_wrote;
		INSERT INTO items (a, v) SELECT g, g FROM generate_series(1, $rows) g;
		ANALYZE items" >/dev/null
	rm -f "$STATE" "$MIGDIR"/*
	down=
	[ $variant = down ] && down=', down: {v: a}'
	write_migration 0001_fill.yaml <<YAML
operations:
  - backfill: {table: items, set: {v: a * 2}$down, batch_size: 1000, batch_delay: 100ms}
YAML
	app_start 6
	sleep 0.5
	expect_exit 0 mg --dir "$MIGDIR" apply --online
	app_stop "$variant apply"
	assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE id <= $rows AND NOT (v = a * 2 OR v < 0)")" \
		"$variant: every row the backfill walked holds its value or a later application write"
	[ "$(sql "SELECT count(*) FROM items WHERE v < 0")" -gt 0 ] || fail "$variant: no application write seen"
	assert_w_kept "$variant apply"
	# written by the application after the backfill passed them
	sql "DROP TABLE IF EXISTS app_wrote; CREATE TABLE app_wrote AS SELECT id FROM items WHERE v < 0" >/dev/null

	app_start 6
	sleep 0.5
	expect_exit 0 mg --dir "$MIGDIR" rollback
	app_stop "$variant rollback"
	assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE id <= $rows AND NOT (v = a OR v < 0)")" \
		"$variant: after rollback each row holds its old value or an application write"
	assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE id <= $rows AND v = a * 2")" \
		"$variant: no row keeps the backfill's value"
	assert_w_kept "$variant rollback"
	if [ $variant = nodown ]; then
		assert_eq 0 "$(sql "SELECT count(*) FROM items JOIN app_wrote USING (id) WHERE v >= 0")" \
			"rollback kept every value the application wrote after the backfill"
	fi
done
echo ok
