#!/usr/bin/env bash
# rename_column online carries the column's comment and its column-level
# grants (a role's, PUBLIC's, one WITH GRANT OPTION) to the twin under the
# new name: the application's role can read and write through the new name
# before finalize and after it, when the old column is gone.  Rollback puts
# the schema and the rows back exactly; applied again, the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"
new_db

role=rename_extras_$$
sql "CREATE ROLE $role NOLOGIN" >/dev/null
trap 'sql "DROP OWNED BY $role; DROP ROLE $role" >/dev/null 2>&1 || true; lib_cleanup' EXIT
sql "CREATE TABLE pets (id integer PRIMARY KEY, nick text, age integer);
	INSERT INTO pets SELECT g, 'p' || g, g % 20 FROM generate_series(1, 500) g;
	COMMENT ON COLUMN pets.nick IS 'what it answers to';
	GRANT SELECT (id), SELECT (nick), UPDATE (nick) ON pets TO $role;
	GRANT REFERENCES (nick) ON pets TO $role WITH GRANT OPTION;
	GRANT SELECT (nick) ON pets TO PUBLIC;" >/dev/null
write_migration 0001_rename.yaml <<'YAML'
operations:
  - rename_column: {table: pets, from: nick, to: name}
YAML

# what the column is given: its comment, then each grantee's privileges
extras()
{
	sql "SELECT coalesce(col_description('pets'::regclass, attnum), '-') || ' ' ||
		coalesce((SELECT string_agg(g, ',' ORDER BY g) FROM (SELECT format('%s:%s%s',
			CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
			x.privilege_type, CASE WHEN x.is_grantable THEN '+' ELSE '' END) AS g
		FROM aclexplode(attacl) x) AS gs), '-')
		FROM pg_attribute WHERE attrelid = 'pets'::regclass AND attname = '$1' AND NOT attisdropped"
}
want="what it answers to PUBLIC:SELECT,$role:REFERENCES+,$role:SELECT,$role:UPDATE"
assert_eq "$want" "$(extras nick)" "the fixture"
before=$(db_snapshot)
for round in first again; do
	expect_exit 0 mg --dir "$MIGDIR" apply --online
	assert_eq "$want" "$(extras name)" "the new name's comment and grants ($round)"
	assert_eq "$want" "$(extras nick)" "the old name keeps its own ($round)"
	assert_eq "p7|t|t" "$(sql "SELECT name, has_column_privilege('$role', 'pets', 'name', 'UPDATE'),
		has_column_privilege('public', 'pets', 'name', 'SELECT') FROM pets WHERE id = 7")" \
		"the role may use the new name ($round)"
	expect_exit 0 mg --dir "$MIGDIR" rollback --to 0
	assert_same_snapshot "$before" "rolled back ($round)"
done
expect_exit 0 mg --dir "$MIGDIR" apply --online
expect_exit 0 mg --dir "$MIGDIR" finalize --yes
assert_eq "" "$(extras nick)" "the old column is gone"
assert_eq "$want" "$(extras name)" "after finalize the new name has them"
assert_eq 500 "$(sql "SELECT count(*) FROM pets WHERE name = 'p' || id")" "every row"
echo "rename_column: comment and column grants carried, rolled back exactly twice, finalized"
