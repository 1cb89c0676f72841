#!/usr/bin/env bash
# lint judges a constraint by the table's state, as the server sees it when
# the statement runs: an exclusion constraint or a foreign key given with
# its new column costs nothing on a table the migration created or (with a
# database) one that holds no rows, and is unsafe on a table with rows or
# one an earlier statement of the migration filled.  A REFERENCES column
# without a value is never checked by the server, so it is not a finding.
# Each accepted migration is applied, rolled back exactly (schema and rows)
# and applied again; a table filled between lint and apply is refused by
# apply --online with nothing changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"
new_db

sql "CREATE TABLE parents (id integer PRIMARY KEY);
	INSERT INTO parents SELECT generate_series(1, 10);
	CREATE TABLE rooms (id integer PRIMARY KEY, during tstzrange);
	CREATE TABLE busy (id integer PRIMARY KEY, during tstzrange);
	INSERT INTO busy SELECT g, tstzrange(now() + g * interval '1 hour', now() + (g + 1) * interval '1 hour')
	  FROM generate_series(1, 2000) g;
	ANALYZE busy;"

# findings FILE [LINT-OPTIONS]: the rules lint reports for FILE (json), one a line, sorted.
findings()
{
	local file=$1

	shift
	capture mg --format json lint "$@" "$file"
	[ "$RC" = 0 ] || [ "$RC" = 3 ] || fail "lint $file: exit $RC: $ERR"
	json '"\n".join(sorted(f["rule"] + " " + (f["on"] or "-") + " " + f["status"] for f in d["findings"]))'
}

# round_trip CONSTRAINT [APPLY-OPTIONS]: the migrations in $MIGDIR applied
# (CONSTRAINT then valid), rolled back exactly, applied again and rolled
# back exactly again.
round_trip()
{
	local con=$1 before round

	shift
	before=$(db_snapshot)
	for round in first again; do
		expect_exit 0 mg --dir "$MIGDIR" apply "$@"
		assert_eq t "$(sql "SELECT convalidated FROM pg_constraint WHERE conname = '$con'")" \
			"$con after apply ($round) $*"
		expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
		assert_same_snapshot "$before" "$con rolled back ($round) $*"
	done
}

# ---- an exclusion constraint ----
excl()
{
	cat <<YAML
operations:
  - add_constraint:
      table: $1
      name: ${1}_no_overlap
      exclude: {using: gist, elements: [{column: during, operator: "&&"}]}
YAML
}
excl rooms | write_migration 0001_excl.yaml
assert_eq "" "$(findings "$MIGDIR/0001_excl.yaml")" "exclusion on an empty table"
assert_eq "exclusion-constraint rooms unsafe" "$(findings "$MIGDIR/0001_excl.yaml" --offline)" \
	"without a database the table may hold anything"
excl busy >"$TMP/0001_busy_excl.yaml"
assert_eq "exclusion-constraint busy unsafe" "$(findings "$TMP/0001_busy_excl.yaml")" "exclusion on a table with rows"
expect_exit 3 mg lint "$TMP/0001_busy_excl.yaml"
assert_contains "$OUT" "lock: ACCESS EXCLUSIVE on busy, scans the table under it (~2000 rows"
assert_contains "$OUT" "it cannot be added NOT VALID nor USING INDEX"

# Accepted on the empty table: apply --online, rollback exactly, re-apply.
round_trip rooms_no_overlap --online

# The table fills between lint and apply: apply judges again, refuses, changes nothing.
sql "INSERT INTO rooms VALUES (1, tstzrange(now(), now() + interval '1 day'))"
before=$(db_snapshot)
expect_exit 3 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "[exclusion-constraint]"
assert_same_snapshot "$before" "refused: nothing changed"
sql "DELETE FROM rooms"

# An earlier statement of the migration fills the table: then it has rows.
cat >"$MIGDIR/0001_excl.yaml" <<'YAML'
operations:
  - sql:
      up: INSERT INTO rooms VALUES (7, tstzrange(now(), now() + interval '1 day'))
      down: DELETE FROM rooms WHERE id = 7
  - add_constraint:
      table: rooms
      name: rooms_no_overlap
      exclude: {using: gist, elements: [{column: during, operator: "&&"}]}
YAML
assert_eq "exclusion-constraint rooms unsafe" "$(findings "$MIGDIR/0001_excl.yaml")" \
	"rows put in by an earlier statement"

# A table created in the same migration: nobody uses it yet.
cat >"$MIGDIR/0001_excl.yaml" <<'YAML'
operations:
  - create_table:
      name: bookings
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: during, type: tstzrange}
  - add_constraint:
      table: bookings
      name: bookings_no_overlap
      exclude: {using: gist, elements: [{column: during, operator: "&&"}]}
YAML
assert_eq "" "$(findings "$MIGDIR/0001_excl.yaml" --offline)" "exclusion on a new table"
round_trip bookings_no_overlap --online
rm -f "$MIGDIR"/*.yaml

# ---- a foreign key given with its new column ----
# Raw SQL without a value: the server marks the key valid unchecked.
for t in rooms busy; do
	cat >"$TMP/0001_raw_$t.yaml" <<YAML
operations:
  - sql:
      up: ALTER TABLE $t ADD COLUMN parent_id integer REFERENCES parents
      down: ALTER TABLE $t DROP COLUMN parent_id
YAML
	assert_eq "" "$(findings "$TMP/0001_raw_$t.yaml")" "REFERENCES without a value on $t"
	assert_eq "" "$(findings "$TMP/0001_raw_$t.yaml" --offline)" "REFERENCES without a value on $t, offline"
	# With a value, every row is checked under ADD COLUMN's lock.
	cat >"$TMP/0001_raw_$t.yaml" <<YAML
operations:
  - sql:
      up: ALTER TABLE $t ADD COLUMN parent_id integer DEFAULT 1 REFERENCES parents
      down: ALTER TABLE $t DROP COLUMN parent_id
YAML
	assert_eq "foreign-key-validated $t unsafe" "$(findings "$TMP/0001_raw_$t.yaml" --offline)" "offline, $t"
done
assert_eq "" "$(findings "$TMP/0001_raw_rooms.yaml")" "DEFAULT + REFERENCES on the empty table"
assert_eq "foreign-key-validated busy unsafe" "$(findings "$TMP/0001_raw_busy.yaml")" "on the table with rows"
expect_exit 3 mg lint "$TMP/0001_raw_busy.yaml"
assert_contains "$OUT" "lock: ACCESS EXCLUSIVE on busy, scans the table under it (~2000 rows"
assert_contains "$OUT" "checked against parents in every row, under ADD COLUMN's ACCESS EXCLUSIVE; also SHARE ROW EXCLUSIVE on parents"

# add_column with references and a default: plain compiles it to one
# ADD COLUMN, online to NOT VALID + VALIDATE; both judged, applied,
# rolled back exactly and applied again on the empty table.
addcol()
{
	cat <<YAML
operations:
  - add_column:
      table: $1
      column: {name: parent_id, type: integer, default: "1", references: {table: parents}}
YAML
}
addcol busy >"$TMP/0001_busy_col.yaml"
assert_eq "foreign-key-validated busy unsafe" "$(findings "$TMP/0001_busy_col.yaml" --plain)" "plain, busy"
assert_eq "" "$(findings "$TMP/0001_busy_col.yaml")" "online, busy: NOT VALID then VALIDATE"
addcol rooms | write_migration 0001_col.yaml
assert_eq "" "$(findings "$MIGDIR/0001_col.yaml" --plain)" "plain, empty table"
sql "INSERT INTO rooms VALUES (3, NULL)"
assert_eq "foreign-key-validated rooms unsafe" "$(findings "$MIGDIR/0001_col.yaml" --plain)" "plain, a row"
sql "DELETE FROM rooms"
round_trip rooms_parent_id_fkey
round_trip rooms_parent_id_fkey --online
echo "lint by table state: exclusion and column foreign keys judged, applied, rolled back exactly"
