#!/usr/bin/env bash
# Preflight: every SQL expression of a migration compiles against the live
# schema before anything changes.  A typo is exit 2 at file:line:col, no
# trigger or column is left, and the application's writes still work;
# validate finds syntax errors without a database; a default that cannot
# be cast to a column's new type is caught before the swap.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, code text DEFAULT '0');
	INSERT INTO users (email, code) SELECT 'U' || g || '@x', g::text FROM generate_series(1, 500) g"

# the application's write, checked after each failure
app_writes()
{
	sql "INSERT INTO users (email) VALUES ('app-$1@x'); UPDATE users SET email = email WHERE id = 1" \
		>/dev/null || fail "the application's writes fail after $1"
}
no_leftovers()
{
	assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal")" \
		"no trigger on users after $1"
	assert_eq "code email id" "$(sql "SELECT string_agg(attname, ' ' ORDER BY attname) FROM pg_attribute
		WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped")" "users' columns after $1"
	assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations WHERE status <> 'rolled_back'")" \
		"no history row after $1"
	assert_eq "" "$(sql "SELECT string_agg(relname, ' ') FROM pg_class WHERE relname LIKE 'migrate_preflight%'")" \
		"no preflight table left after $1"
}

# The typo of issue 13: passes validate (it parses), refused by apply.
write_migration 0001_normalize.yaml <<'YAML'
operations:
  - add_column:
      table: users
      column: { name: email_normalized, type: text }
      backfill: lower(trim(emial))
YAML
expect_exit 0 mg --dir "$MIGDIR" validate
for mode in "--online" ""; do
	expect_exit 2 mg --dir "$MIGDIR" apply $mode
	assert_contains "$ERR" "0001_normalize.yaml:5:28: add_column: backfill of column \"email_normalized\"" \
		"apply $mode: file:line:col of the expression"
	assert_contains "$ERR" 'column "emial" does not exist' "apply $mode: the server's reason"
	assert_contains "$ERR" "nothing was changed" "apply $mode says nothing changed"
	no_leftovers "apply $mode of the typo"
	app_writes "apply $mode of the typo"
done

# Fixed, it applies; an expression over the column an earlier operation of
# the same migration adds is judged right.
cat >"$MIGDIR/0001_normalize.yaml" <<'YAML'
operations:
  - add_column:
      table: users
      column: { name: email_normalized, type: text }
      backfill: lower(trim(email))
  - backfill:
      table: users
      set: { email_normalized: "upper(email_normalized)" }
      where: "email_normalized IS NOT NULL"
  - create_index:
      table: users
      name: users_norm
      columns: [email_normalized]
      where: "email_normalized <> ''"
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 0 "$(sql "SELECT count(*) FROM users WHERE email_normalized IS DISTINCT FROM upper(lower(trim(email)))")"
app_writes "the fixed apply"

# A syntax error: validate, without a database, gives file:line:col.
write_migration 0002_check.yaml <<'YAML'
operations:
  - add_constraint:
      table: users
      name: email_has_at
      check: "email LIKE '%@%' AND AND id > 0"
YAML
expect_exit 2 "$MIGRATE" --dir "$MIGDIR" validate
assert_contains "$ERR" "0002_check.yaml:5:36: add_constraint: check: syntax error at or near \"AND\"" \
	"validate: syntax error at file:line:col"
# an expression that closes its parenthesis and goes on is not one expression
cat >"$MIGDIR/0002_check.yaml" <<'YAML'
operations:
  - add_constraint:
      table: users
      name: email_has_at
      check: "true); DROP TABLE users; SELECT (true"
YAML
expect_exit 2 "$MIGRATE" --dir "$MIGDIR" validate
assert_contains "$ERR" "0002_check.yaml:5:15: add_constraint: check: not a single SQL expression" \
	"validate: one expression only"

# A check over a column that does not exist; a policy's using of a wrong type.
cat >"$MIGDIR/0002_check.yaml" <<'YAML'
operations:
  - add_constraint:
      table: users
      name: email_has_at
      check: "emali LIKE '%@%'"
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0002_check.yaml:5:15: add_constraint: check" "check: file:line:col"
assert_contains "$ERR" 'column "emali" does not exist' "check: the reason"
assert_not_contains "$ERR" "migrate_preflight" "the message names the table, not its copy"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_constraint WHERE conname = 'email_has_at'")" "no constraint left"
app_writes "the bad check"
cat >"$MIGDIR/0002_check.yaml" <<'YAML'
operations:
  - create_policy:
      table: users
      name: own_rows
      using: "id + 1"
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0002_check.yaml:5:15: create_policy: using" "policy using: file:line:col"
assert_contains "$ERR" "must be type boolean" "policy using: the reason"
rm "$MIGDIR/0002_check.yaml"

# A type change of a column with a default: a constant one is converted
# by the using expression (text DEFAULT '0' to integer gives 0, see
# t_type_default); one that is not a constant and does not assign to the new
# type cannot be, else the swap would fail.
sql "ALTER TABLE users ALTER code SET DEFAULT lower('NONE')"
triggers=$(sql "SELECT string_agg(tgname, ' ' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal")
write_migration 0003_code_int.yaml <<'YAML'
operations:
  - alter_column:
      table: users
      column: code
      type: integer
      using: "NULLIF(code, 'none')::integer"
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0003_code_int.yaml:2:5: alter_column: the column's default lower('NONE'::text), converted to integer," \
	"the default that cannot be converted"
assert_contains "$ERR" "give alter_column a default that fits the new type" "the way out"
assert_eq "text" "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'users'::regclass AND attname = 'code'")" "code is still text"
assert_eq "$triggers" "$(sql "SELECT string_agg(tgname, ' ' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal")" \
	"no sync trigger added"
app_writes "the default that cannot be cast"
# a using over a misspelt column points into the expression
sed -i "s/NULLIF(code,/NULLIF(cod,/" "$MIGDIR/0003_code_int.yaml"
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0003_code_int.yaml:6:22: alter_column: using of column \"code\"" "using: file:line:col"
# with a default given that fits, it compiles (and the plain apply runs it)
cat >"$MIGDIR/0003_code_int.yaml" <<'YAML'
operations:
  - alter_column:
      table: users
      column: code
      type: integer
      using: "NULLIF(code, 'none')::integer"
      default: "0"
YAML
expect_exit 0 mg --dir "$MIGDIR" apply
assert_eq "integer|0" "$(sql "SELECT format_type(atttypid, atttypmod), pg_get_expr(adbin, adrelid)
	FROM pg_attribute JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
	WHERE attrelid = 'users'::regclass AND attname = 'code'")"
app_writes "the type change"

# A view's query over a misspelt column: exit 2 at its position, no view.
write_migration 0004_view.yaml <<'YAML'
operations:
  - create_view: { name: user_codes, query: "SELECT id, cdoe FROM users" }
YAML
expect_exit 2 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "0004_view.yaml:2:57: create_view: query" "a view query: file:line:col"
assert_contains "$ERR" 'column "cdoe" does not exist' "a view query: the reason"
assert_eq "" "$(sql "SELECT to_regclass('user_codes')")" "no view was made"
# A type the same migration creates is used after it: not a false alarm.
cat >"$MIGDIR/0004_view.yaml" <<'YAML'
operations:
  - create_type: { name: tier, enum: [free, paid] }
  - add_column:
      table: users
      column: { name: tier, type: tier }
      backfill: "'free'::tier"
  - create_view: { name: user_codes, query: "SELECT id, code FROM users" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq 0 "$(sql "SELECT count(*) FROM users WHERE tier IS DISTINCT FROM 'free'")" "the new type's column filled"
app_writes "the view and type migration"
