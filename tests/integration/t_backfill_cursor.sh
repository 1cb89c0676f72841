#!/usr/bin/env bash
# A backfill killed with SIGKILL resumes from the cursor it saved in the
# database with its last batch (cursor and rows commit together), even
# without the state file: the resumed run does only the remaining batches.
. "$(dirname "$0")/lib.sh"
new_db

rows=20000
batch=500
sql "CREATE TABLE items (id bigint PRIMARY KEY, v int);
	INSERT INTO items SELECT g, NULL FROM generate_series(1, $rows) g;
	ANALYZE items" >/dev/null
# Small batches with a pause: about two seconds to kill in the middle.
write_migration 0001_fill.yaml <<YAML
operations:
  - backfill: {table: items, set: {v: id * 2}, down: {v: "NULL"}, batch_size: $batch, batch_delay: 50ms}
YAML

saved_rows()
{
	if [ "$(sql "SELECT to_regclass('migrate.backfill_cursors') IS NULL")" = t ]; then
		echo 0
	else
		sql "SELECT coalesce((SELECT rows_done FROM migrate.backfill_cursors), 0)"
	fi
}
some_done()
{
	[ "$(saved_rows)" -ge 3000 ]
}

# Not through mg: $! must be migrate itself.
"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir "$MIGDIR" apply --online --format json \
	>"$TMP/first.out" 2>&1 &
pid=$!
wait_until 60 some_done || fail "the backfill saved no cursor"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true

done_rows=$(saved_rows)
[ "$done_rows" -lt "$rows" ] || fail "the backfill ended before it was killed"
assert_eq "$done_rows" "$(sql "SELECT count(*) FROM items WHERE v IS NOT NULL")" \
	"the saved cursor counts exactly the rows committed"
assert_eq "$(sql "SELECT length(max(id)::text) || ':' || max(id) FROM items WHERE v IS NOT NULL")" \
	"$(sql "SELECT cursor FROM migrate.backfill_cursors")" "the cursor is the last key written"

# Rows inserted after the start are the application's (or a trigger's):
# the resumed run stops at the bound the first run saw.
sql "INSERT INTO items SELECT g, NULL FROM generate_series($rows + 1, $rows + 100) g"
rm -f "$STATE"
expect_exit 0 mg --dir "$MIGDIR" apply --online --format json
remaining=$((rows - done_rows))
assert_eq $(((remaining + batch - 1) / batch)) \
	"$(json_lines 'len([e for e in d if e["event"] == "progress"])')" \
	"batches of the resumed run"
assert_eq $((done_rows + batch)) \
	"$(json_lines '[e["rows_done"] for e in d if e["event"] == "progress"][0]')" \
	"the resumed run's first batch follows the saved cursor"
assert_eq "$rows" "$(sql "SELECT count(*) FROM items WHERE v = id * 2")" "every row filled once"
assert_eq 100 "$(sql "SELECT count(*) FROM items WHERE v IS NULL AND id > $rows")" \
	"rows inserted after the start are left to the application"
assert_eq "t|$rows" "$(sql "SELECT finished, rows_done FROM migrate.backfill_cursors")" \
	"a finished backfill records that it finished, with its rows"
