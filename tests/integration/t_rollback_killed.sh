#!/usr/bin/env bash
# A migration killed (SIGKILL) half way, plain and online, at several
# points: `status` says it was interrupted and names the two ways out, and
# `rollback` leaves the database exactly as before the migration, with the
# state file (its journal of completed steps) and without it (the
# database's own done checks).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

rows=20000
# Several steps before and after a slow backfill (at least four seconds:
# 203 batches and a pause of 20 ms after each).
write_migration 0001_many.yaml <<'YAML'
settings:
  batch_size: 100
  batch_delay: 20ms
operations:
  - create_index: { table: items, name: items_tail_idx, columns: [tail] }
  - alter_column: { table: items, column: name, default: "'renamed'" }
  - add_column:
      table: items
      column: { name: name_lower, type: text, nullable: false }
      backfill: lower(name)
  - add_constraint: { table: items, name: items_extra_small, check: extra < 100 }
  # The plain strategy is quick: this holds its one transaction open long
  # enough to be killed in.
  - sql:
      up: SELECT pg_sleep(3)
      down: SELECT 1
YAML

cases=0
# killed MODE SECONDS KEEP_STATE: apply in MODE killed after SECONDS, then
# rollback (with the state file, or after removing it when KEEP_STATE is no).
killed()
{
	local mode=$1 after=$2 keep_state=$3 before flag=--plain

	new_db
	fixture
	sql "INSERT INTO items (name, price, code, extra)
		SELECT 'Big ' || g, g, 'k' || g, g % 50 FROM generate_series(1, $rows) g" >/dev/null
	before=$(db_snapshot) || fail "db_snapshot failed"
	# plain blocks on purpose here: --plain, past the safe default
	[ "$mode" = online ] && flag=--online
	capture timeout -s KILL "$after" "$MIGRATE" -d "$DB_URL" --state "$STATE" \
		--dir "$MIGDIR" apply $flag
	assert_eq 137 "$RC" "$mode, killed after $after s: still running when killed"
	if [ "$mode" = plain ]; then
		# One transaction: the kill undid it all already.
		assert_same_snapshot "$before" "plain, killed after $after s"
	else
		[ "$(db_snapshot)" != "$before" ] || fail "$mode, killed after $after s: nothing done yet"
	fi

	expect_exit 0 mg --dir "$MIGDIR" status
	assert_contains "$OUT" "interrupted" "status says it was interrupted"
	assert_match "$OUT" "apply.*resume" "status names apply as a way out"
	assert_contains "$OUT" "rollback" "status names rollback as a way out"
	expect_exit 0 mg --dir "$MIGDIR" --format json status
	assert_eq '[true]' "$(json '[m["interrupted"] for m in d["migrations"]]')" "status json"

	[ "$keep_state" = yes ] || rm -f "$STATE"
	expect_exit 0 mg --dir "$MIGDIR" rollback
	assert_same_snapshot "$before" "$mode, killed after $after s, state file $keep_state"
	# And it applies again, whole.
	expect_exit 0 mg --dir "$MIGDIR" apply $flag
	assert_eq 0 "$(sql "SELECT count(*) FROM items WHERE name_lower IS DISTINCT FROM lower(name)")"
	cases=$((cases + 1))
}

killed online 1.5 yes
killed online 3 no
killed plain 1 yes
killed plain 1.5 no
echo "killed and rolled back: $cases cases"
