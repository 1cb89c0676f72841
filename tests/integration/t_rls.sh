#!/usr/bin/env bash
# t_rls.sh: enable_rls (forced), create_policy with every field, then
# drop_policy and disable_rls; what a role may see and write under them;
# each rollback gives back the schema as the catalog showed it.
. "$(dirname "$0")/lib.sh"

new_db
OWNER=${DB_NAME}_owner
CLERK=${DB_NAME}_clerk
sql "CREATE ROLE \"$OWNER\" LOGIN; CREATE ROLE \"$CLERK\" LOGIN;
	GRANT CREATE ON SCHEMA public TO \"$OWNER\""
OWNER_URL="$DB_URL user=$OWNER"
CLERK_URL="$DB_URL user=$CLERK"
sql "CREATE TABLE notes (id integer PRIMARY KEY, author text NOT NULL, body text NOT NULL,
		locked boolean NOT NULL DEFAULT false);
	INSERT INTO notes VALUES (1, '$CLERK', 'mine', false), (2, 'someone', 'theirs', false),
		(3, '$CLERK', 'frozen', true);
	GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO \"$CLERK\"" "$OWNER_URL"

snapshot()
{
	schema_snapshot
}
BEFORE=$(snapshot)

# Each command, a role list, both expressions, and a restrictive policy.
write_migration 0001_policies.yaml <<EOF
operations:
  - create_policy:
      table: notes
      name: read own
      command: select
      roles: [$CLERK]
      using: author = current_user
  - create_policy:
      table: notes
      name: write own
      command: insert
      roles: [$CLERK]
      with_check: author = current_user
  - create_policy:
      table: notes
      name: edit own
      command: update
      roles: [$CLERK, $OWNER]
      using: author = current_user
      with_check: author = current_user
  - create_policy:
      table: notes
      name: delete own
      command: delete
      using: author = current_user
  - create_policy:
      table: notes
      name: not when locked
      command: all
      permissive: false
      using: NOT locked
      with_check: NOT locked
  - enable_rls:
      table: notes
      force: true
EOF
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "delete own|DELETE|{public}|PERMISSIVE|(author = CURRENT_USER)|
edit own|UPDATE|{$CLERK,$OWNER}|PERMISSIVE|(author = CURRENT_USER)|(author = CURRENT_USER)
not when locked|ALL|{public}|RESTRICTIVE|(NOT locked)|(NOT locked)
read own|SELECT|{$CLERK}|PERMISSIVE|(author = CURRENT_USER)|
write own|INSERT|{$CLERK}|PERMISSIVE||(author = CURRENT_USER)" \
	"$(sql "SELECT policyname, cmd, roles, permissive, qual, with_check FROM pg_policies
		WHERE tablename = 'notes' ORDER BY 1")" "the policies"
assert_eq "t t" "$(sql "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class
	WHERE oid = 'notes'::regclass" | sed 's/true/t/g')" "RLS enabled and forced"
AFTER_1=$(snapshot)

# what the clerk may do: its unlocked notes only
assert_eq "1" "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM notes" "$CLERK_URL")" \
	"the clerk reads its unlocked notes"
expect_exit 1 sql "INSERT INTO notes VALUES (4, 'someone', 'forged', false)" "$CLERK_URL"
assert_contains "$ERR" "row-level security"
expect_exit 1 sql "INSERT INTO notes VALUES (5, '$CLERK', 'locked', true)" "$CLERK_URL"
assert_contains "$ERR" "row-level security"
sql "INSERT INTO notes VALUES (6, '$CLERK', 'new', false)" "$CLERK_URL"
expect_exit 1 sql "UPDATE notes SET author = 'someone' WHERE id = 6" "$CLERK_URL"
assert_contains "$ERR" "row-level security"
# forced: the owner is subject to the policies too (none name it but the
# public ones, and no permissive one lets it read)
assert_eq 0 "$(sql "SELECT count(*) FROM notes" "$OWNER_URL")" "forced RLS binds the owner"
sql "DELETE FROM notes WHERE id = 6"

# drop a policy and disable RLS; the rollback puts both back exactly
write_migration 0002_relax.yaml <<EOF
operations:
  - drop_policy:
      table: notes
      name: not when locked
  - drop_policy:
      table: notes
      name: edit own
  - disable_rls:
      table: notes
      force: true
EOF
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "delete own
read own
write own" "$(sql "SELECT policyname FROM pg_policies WHERE tablename = 'notes' ORDER BY 1")" \
	"two policies dropped"
assert_eq "f f" "$(sql "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class
	WHERE oid = 'notes'::regclass" | sed 's/false/f/g')" "RLS disabled and not forced"
assert_eq 3 "$(sql "SELECT count(*) FROM notes" "$CLERK_URL")" "without RLS the clerk reads all"

expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$AFTER_1" "$(snapshot)" "the schema after rolling back drop_policy and disable_rls"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$BEFORE" "$(snapshot)" "the schema after rolling back the policies"
# a table that had RLS already keeps it when enable_rls is rolled back
sql "CREATE TABLE drafts (id integer); ALTER TABLE drafts ENABLE ROW LEVEL SECURITY"
BEFORE_DRAFTS=$(snapshot)
# on its own: 0001 and 0002, rolled back, would be pending again
MIGDIR=$TMP/drafts
mkdir -p "$MIGDIR"
write_migration 0003_drafts.yaml <<EOF
operations:
  - enable_rls:
      table: drafts
      force: true
EOF
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "true true" "$(sql "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class
	WHERE oid = 'drafts'::regclass")" "drafts: RLS forced"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$BEFORE_DRAFTS" "$(snapshot)" "drafts: RLS enabled, not forced, as before"
echo "t_rls: ok"
