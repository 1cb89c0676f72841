#!/usr/bin/env bash
# Preflight compiles every expression against the schema as it will be
# when its step runs: after raw SQL, over a column an earlier operation
# adds, a view's query, an index's expression, a foreign key's table,
# columns and types.  Each failure: exit 2 at file:line:col, the catalog
# exactly as before, the application's statements still working.  What raw
# SQL makes and preflight cannot see is parsed only, and a note says so.
# Preflight under the application's writes makes none of them fail.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);
	INSERT INTO teams SELECT g, 'T' || g FROM generate_series(1, 20) g;
	CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, team text);
	INSERT INTO users (email, team) SELECT 'U' || g || '@x', (g % 20 + 1)::text FROM generate_series(1, 400) g"

app_works()
{
	sql "INSERT INTO users (email) VALUES ('app-$1@x'); UPDATE users SET email = email WHERE id = 1;
		SELECT count(*) FROM users JOIN teams ON teams.id::text = users.team" >/dev/null ||
		fail "the application's statements fail after $1"
}
before=$(schema_snapshot)
unchanged()
{
	local now

	now=$(schema_snapshot)
	[ "$now" = "$before" ] || { diff <(echo "$before") <(echo "$now") >&2; fail "the catalog changed: $1"; }
	assert_eq "${applied:-0}" "$(sql "SELECT count(*) FROM public.schema_migrations WHERE status <> 'rolled_back'")" \
		"no new history row after $1"
}
# refused FILE LINE:COL LABEL REASON: exit 2 there, nothing changed, the app works
refused()
{
	expect_exit 2 mg --dir "$MIGDIR" apply --online
	assert_contains "$ERR" "$1:$2: $3" "$1: file:line:col and what"
	assert_contains "$ERR" "$4" "$1: the server's reason"
	assert_contains "$ERR" "nothing was changed" "$1: says nothing changed"
	assert_not_contains "$ERR" "migrate_preflight" "$1: names the tables, not their copies"
	unchanged "$1"
	app_works "$1"
	rm "$MIGDIR/$1"
}

# 1. A typo after an sql operation (which touches another table): compiled.
write_migration 0001_after_sql.yaml <<'YAML'
operations:
  - sql:
      up: CREATE TABLE audit (id bigint)
      down: DROP TABLE audit
  - add_column:
      table: users
      column: { name: email_lc, type: text }
      backfill: lower(emial)
YAML
refused 0001_after_sql.yaml 8:23 'add_column: backfill of column "email_lc"' 'column "emial" does not exist'

# 2. A view over a column an earlier operation adds: compiled over the copy
#    (it shadows the table); a misspelt one is refused at its position.
write_migration 0001_view.yaml <<'YAML'
operations:
  - add_column:
      table: users
      column: { name: nick, type: text }
  - create_view: { name: user_nicks, query: "SELECT id, nikc FROM users" }
YAML
refused 0001_view.yaml 5:57 'create_view: query' 'column "nikc" does not exist'

# 3. A foreign key to a missing column, and one of an incompatible type.
# reference_to COLUMN: users.team references teams(COLUMN)
reference_to()
{
	write_migration 0001_fk.yaml <<YAML
operations:
  - add_constraint:
      table: users
      name: users_team_fk
      foreign_key:
        columns: [team]
        references: { table: teams, columns: [$1] }
YAML
}
reference_to ident
refused 0001_fk.yaml 2:5 'add_constraint' 'column "ident"'
reference_to id
refused 0001_fk.yaml 2:5 'add_constraint' 'incompatible types: text and bigint'
# a reference to a table that does not exist; a column's reference to a
# primary key of another type
# column_reference NAME TYPE TABLE: a new column that references TABLE's key
column_reference()
{
	write_migration 0001_fk.yaml <<YAML
operations:
  - add_column:
      table: users
      column: { name: $1, type: $2, references: { table: $3 } }
YAML
}
column_reference squad_id bigint squads
refused 0001_fk.yaml 2:5 'add_column' 'relation "squads" does not exist'
column_reference team_uuid uuid teams
refused 0001_fk.yaml 2:5 'add_column' 'incompatible types: uuid and bigint'

# 4. An index expression over a column an earlier operation adds.
write_migration 0001_index.yaml <<'YAML'
operations:
  - add_column:
      table: users
      column: { name: handle, type: text }
  - create_index:
      table: users
      name: users_handle_lower
      columns: ["lower(hnadle)"]
YAML
refused 0001_index.yaml 8:24 'create_index: expression' 'column "hnadle" does not exist'

# 5. A type the same migration creates is made in pg_temp too: what uses
#    it compiles, so a wrong value of it is refused, not parsed only.
write_migration 0001_type.yaml <<'YAML'
operations:
  - create_type: { name: plan_tier, enum: [free, paid] }
  - add_column:
      table: users
      column: { name: tier, type: plan_tier }
      backfill: "'fre'::plan_tier"
YAML
refused 0001_type.yaml 6:18 'add_column: backfill of column "tier"' 'invalid input value for enum plan_tier: "fre"'

# All of them right, in one migration: it applies (preflight is no false
# alarm), the view, the index and the reference are there.
write_migration 0001_all.yaml <<'YAML'
operations:
  - add_column:
      table: users
      column: { name: handle, type: text }
      backfill: lower(email)
  - add_column:
      table: users
      column: { name: team_id, type: bigint, references: { table: teams } }
      backfill: team::bigint
  - create_index:
      table: users
      name: users_handle_lower
      columns: ["lower(handle)"]
  - create_type: { name: plan_tier, enum: [free, paid] }
  - add_column:
      table: users
      column: { name: tier, type: plan_tier }
      backfill: "'free'::plan_tier"
  - create_view: { name: user_handles, query: "SELECT id, handle, team_id, tier FROM users" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_not_contains "$ERR" "note:" "everything compiled ahead: no note"
assert_eq 0 "$(sql "SELECT count(*) FROM users WHERE handle IS DISTINCT FROM lower(email)
	OR team_id IS DISTINCT FROM team::bigint OR tier IS DISTINCT FROM 'free'")" "every row filled"
assert_eq 1 "$(sql "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('users_handle_lower') AND indisvalid")" \
	"the expression index"
assert_eq "$(sql "SELECT count(*) FROM users")" "$(sql "SELECT count(*) FROM user_handles")" "the view"
assert_eq 1 "$(sql "SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'f'")" \
	"the reference"
app_works "the migration that applies"

# 6. What raw SQL makes is not seen: parsed only, with a note, and it applies.
write_migration 0002_raw.yaml <<'YAML'
operations:
  - sql:
      up: ALTER TABLE users ADD COLUMN nick text
      down: ALTER TABLE users DROP COLUMN nick
  - backfill:
      table: users
      set: { nick: "upper(handle)" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "migrate: note: $MIGDIR/0002_raw.yaml:7:21: backfill: set of column \"nick\": not compiled ahead, parsed only: sql (line 2) names \"nick\"" \
	"the note says what is parsed only and why"
assert_eq 0 "$(sql "SELECT count(*) FROM users WHERE nick IS DISTINCT FROM upper(handle)")" "the raw SQL's column filled"
# but a typo in the same place, which the raw SQL does not name, is refused
before=$(schema_snapshot)
applied=2
write_migration 0003_raw.yaml <<'YAML'
operations:
  - sql:
      up: ALTER TABLE users ADD COLUMN nick2 text
      down: ALTER TABLE users DROP COLUMN nick2
  - backfill:
      table: users
      set: { nick2: "upper(hadnle)" }
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0003_raw.yaml:7:28: backfill: set of column \"nick2\"" "after raw SQL: the typo's position"
assert_contains "$ERR" 'column "hadnle" does not exist' "after raw SQL: the reason"
unchanged "a typo after raw SQL that adds the column"
app_works "a typo after raw SQL"

# 7. Preflight under the application's writes: none of them fails or waits
#    on it (it locks nothing real beyond ACCESS SHARE, briefly).
cat >"$TMP/app.sql" <<'SQL'
\set id random(1, 400)
BEGIN;
INSERT INTO users (email, team) VALUES ('w' || :id || '@x', '3');
UPDATE users SET email = email, team = '4' WHERE id = :id;
SELECT count(*) FROM users WHERE id = :id;
COMMIT;
SQL
WORKLOAD_SCRIPT="$TMP/app.sql"
WORKLOAD_DEFINES=()
workload_start
for i in 1 2 3 4 5 6; do
	expect_exit 2 mg --dir "$MIGDIR" apply --online
	assert_contains "$ERR" 'column "hadnle" does not exist' "preflight under the workload, run $i"
done
workload_stop "preflight"
unchanged "preflight under the workload"
