#!/usr/bin/env bash
# t_rename_columns.sh: rename_column killed at several moments (during the
# backfill, with and without the state file, and during its rollback) and
# resumed: every row ends with both names equal, the rollback gives back the
# schema it had.  A column with a foreign key gets it over the new name (NOT
# VALID, then VALIDATE); a primary key column gets the plain rename with the
# warning, in plan and lint.
. "$(dirname "$0")/lib.sh"

new_db
sql "CREATE TABLE owners (id integer PRIMARY KEY);
	INSERT INTO owners SELECT generate_series(1, 10);
	CREATE TABLE pets (id serial PRIMARY KEY, owner integer NOT NULL REFERENCES owners,
		nick text);
	INSERT INTO pets (owner, nick) SELECT 1 + g % 10, 'p' || g FROM generate_series(1, 40000) g" >/dev/null
before=$(schema_fingerprint)
write_migration 0001_owner.yaml <<'EOF2'
settings: { batch_size: 200, batch_delay: 20ms }
operations:
  - rename_column: { table: pets, from: owner, to: owner_id }
EOF2

# filled: rows of the twin the backfill has written so far (0 before it exists)
filled()
{
	sql "SELECT CASE WHEN EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'pets'::regclass
		AND attname = 'owner_id' AND NOT attisdropped)
		THEN (SELECT count(*) FROM pets WHERE owner_id IS NOT NULL) ELSE 0 END" 2>/dev/null || echo 0
}
# no_migrate_session: the killed run's session has ended (its run lock with it)
no_migrate_session()
{
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'migrate'")" = 0 ]
}
# kill_during_backfill: apply --online, killed -9 once the backfill is under way
kill_during_backfill()
{
	mg --dir "$MIGDIR" apply --online >"$TMP/apply.out" 2>&1 &
	local pid=$!
	wait_until 30 bash -c "[ \"\$(psql -XAtq -d '$DB_URL' -c \"SELECT count(*) FROM pg_attribute
		WHERE attrelid = 'pets'::regclass AND attname = 'owner_id'\")\" = 1 ] &&
		[ \"\$(psql -XAtq -d '$DB_URL' -c 'SELECT count(*) FROM pets WHERE owner_id IS NOT NULL')\" -gt 2000 ]" ||
		{ cat "$TMP/apply.out" >&2; fail "the backfill did not start"; }
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	wait_until 30 no_migrate_session || fail "the killed run's session lingers"
	echo "killed with $(filled) of 40000 rows filled"
}

kill_during_backfill
# an old-code write between the kill and the resume
sql "UPDATE pets SET owner = 7 WHERE id = 39999" >/dev/null
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 0 "$(sql "SELECT count(*) FROM pets WHERE owner_id IS DISTINCT FROM owner")" "rows whose names differ"
assert_eq 7 "$(sql "SELECT owner_id FROM pets WHERE id = 39999")" "the write made while killed"
assert_eq "FOREIGN KEY (owner_id) REFERENCES owners(id)" "$(sql "SELECT pg_get_constraintdef(oid)
	FROM pg_constraint WHERE conrelid = 'pets'::regclass AND contype = 'f' AND convalidated
	AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'pets'::regclass
	AND attname = 'owner_id')]::int2[]")" "the foreign key over the new name, validated"
assert_eq t "$(sql "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'pets'::regclass AND attname = 'owner_id'")" \
	"NOT NULL over the new name"

# rollback killed half way, then resumed
mg --dir "$MIGDIR" rollback --to 0 >"$TMP/rollback.out" 2>&1 &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
wait_until 30 no_migrate_session || fail "the killed rollback's session lingers"
expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
assert_eq "$before" "$(schema_fingerprint)" "schema after the resumed rollback"
assert_eq 7 "$(sql "SELECT owner FROM pets WHERE id = 39999")" "a value kept by the rollback"

# killed again, resumed without the state file
kill_during_backfill
rm -f "$STATE"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 0 "$(sql "SELECT count(*) FROM pets WHERE owner_id IS DISTINCT FROM owner")" \
	"rows whose names differ, resumed without the state file"
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "pets_owner_fkey" "$(sql "SELECT conname FROM pg_constraint WHERE conrelid = 'pets'::regclass
	AND contype = 'f'")" "the foreign key's name after finalize"

# a primary key column: the plain rename, with the warning
write_migration 0002_id.yaml <<'EOF2'
operations:
  - rename_column: { table: owners, from: id, to: owner_key }
EOF2
expect_exit 0 mg --dir "$MIGDIR" plan --online
assert_contains "$OUT" "the column is part of the primary key" "plan's warning"
assert_contains "$OUT" 'ALTER TABLE "owners" RENAME COLUMN "id" TO "owner_key"' "the plain rename"
expect_exit 0 mg --dir "$MIGDIR" lint
assert_contains "$OUT" "rename" "lint's warning"
# a column renamed, then its table, in one migration: finalize finds both
# under the final name, the old name's view (which reads the old column)
# goes first, and the index keeps its name
sql "CREATE TABLE birds (id serial PRIMARY KEY, tag text NOT NULL DEFAULT 'none');
	CREATE INDEX birds_tag ON birds (tag);
	INSERT INTO birds (tag) SELECT 't' || g FROM generate_series(1, 100) g" >/dev/null
write_migration 0003_birds.yaml <<'EOF2'
operations:
  - rename_column: { table: birds, from: tag, to: label }
  - rename_table: { from: birds, to: avians }
EOF2
rm "$MIGDIR/0002_id.yaml"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "t7|t7" "$(sql "UPDATE birds SET tag = 't7' WHERE id = 8 RETURNING id" >/dev/null;
	sql "SELECT tag, label FROM avians WHERE id = 8")" "old code through the view, both names"
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "id label|birds_tag" "$(sql "SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute
	WHERE attrelid = 'avians'::regclass AND attnum > 0 AND NOT attisdropped")|$(sql "SELECT string_agg(c.relname, ' ')
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'avians'::regclass
	AND NOT i.indisprimary")" "columns and index after finalize"
assert_eq "" "$(sql "SELECT to_regclass('birds')")" "the old table name after finalize"
echo "t_rename_columns: ok"
