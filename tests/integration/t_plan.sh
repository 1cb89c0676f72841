#!/usr/bin/env bash
# plan: works without a database (every migration), shows only pending ones
# with one, gives valid JSON, and a SQL script that does what apply does.
. "$(dirname "$0")/lib.sh"

names=$(find migrations -name '*.yaml' -printf '%f\n' | sed 's/\.yaml$//' | sort)

# No database anywhere in sight.
expect_exit 0 env -u DATABASE_URL -u PGHOST -u PGPORT -u PGDATABASE -u PGSERVICE \
	"$MIGRATE" --dir migrations plan
for n in $names; do
	assert_contains "$OUT" "$n" "offline plan"
done
expect_exit 0 env -u DATABASE_URL -u PGHOST -u PGPORT "$MIGRATE" --dir migrations plan --online
for n in $names; do
	assert_contains "$OUT" "$n" "offline online plan"
done
assert_contains "$OUT" "CONCURRENTLY" "the online plan builds indexes concurrently"
assert_contains "$OUT" "NOT VALID" "the online plan adds constraints NOT VALID"

# plan writes nothing, even when it connects.
new_db
expect_exit 0 mg --dir migrations plan
assert_eq t "$(sql "SELECT to_regclass('public.schema_migrations') IS NULL AND
	to_regnamespace('migrate') IS NULL")" "plan created something"
for n in $names; do
	assert_contains "$OUT" "$n" "plan on an empty database"
done

# With the first two applied, only the rest is pending.
expect_exit 0 mg --dir migrations apply --to 2
expect_exit 0 mg --dir migrations plan
assert_not_contains "$OUT" 0001_create_shop "plan after apply --to 2"
assert_not_contains "$OUT" 0002_order_status "plan after apply --to 2"
for n in $(tail -n +3 <<<"$names"); do
	assert_contains "$OUT" "$n" "plan after apply --to 2"
done
expect_exit 0 mg --dir migrations plan --to 3
assert_contains "$OUT" 0003_order_indexes "plan --to 3"
assert_not_contains "$OUT" 0004_constraints "plan --to 3"

# JSON: one valid document naming every version.
all_versions()
{
	json '
sorted({v for v in (lambda f: f(f, d))(lambda f, x:
	[y for k, v in x.items() for y in ([v] if k == "version" else f(f, v))] if isinstance(x, dict)
	else [y for v in x for y in f(f, v)] if isinstance(x, list) else [])})'
}
expect_exit 0 "$MIGRATE" --dir migrations plan --offline --format json
assert_eq "$(python3 -c "print(list(range(1, $(wc -l <<<"$names") + 1)))")" "$(all_versions)" \
	"versions in the JSON plan"
expect_exit 0 mg --dir migrations --format json plan
assert_eq "$(python3 -c "print(list(range(3, $(wc -l <<<"$names") + 1)))")" "$(all_versions)" \
	"versions in the connected JSON plan"

# SQL: psql runs the whole script, and the result is what apply gives.
applied_db=$DB_URL
expect_exit 0 mg --dir migrations apply
expect_exit 0 "$MIGRATE" --dir migrations plan --offline --format sql
script=$OUT
new_db
psql -XAq -v ON_ERROR_STOP=1 -d "$DB_URL" -f - <<<"$script" >"$TMP/psql.out" 2>&1 ||
	{ cat "$TMP/psql.out" >&2; fail "the SQL plan does not run under psql"; }
assert_eq "$(schema_fingerprint "$applied_db")" "$(schema_fingerprint)" "schema from the SQL plan"
