#!/usr/bin/env bash
# Connections: a failed one exits 1 without ever showing the password;
# DATABASE_URL is used when -d is absent, and -d wins over it.
. "$(dirname "$0")/lib.sh"

secret=s3cretpw
for conninfo in "postgresql://postgres:$secret@127.0.0.1:1/nodb" \
	"host=127.0.0.1 port=1 dbname=nodb user=postgres password=$secret"; do
	for cmd in apply status "rollback --steps 1"; do
		# shellcheck disable=SC2086
		expect_exit 1 "$MIGRATE" -d "$conninfo" --state "$TMP/state.db" --dir migrations $cmd
		assert_not_contains "$OUT$ERR" "$secret" "$cmd printed the password"
		assert_contains "$ERR" "migrate: " "$cmd explains"
	done
	expect_exit 1 env DATABASE_URL="$conninfo" "$MIGRATE" --state "$TMP/state.db" --dir migrations apply
	assert_not_contains "$OUT$ERR" "$secret" "DATABASE_URL printed the password"
done

new_db
expect_exit 0 env DATABASE_URL="$DB_URL" "$MIGRATE" --state "$STATE" --dir migrations apply --to 1
table_exists customers || fail "DATABASE_URL was not used"
assert_eq t "$(sql "SELECT to_regclass('public.customers') IS NULL" "host=$PGHOST port=$PGPORT dbname=postgres")" \
	"something was applied to the default database"

expect_exit 0 env DATABASE_URL="postgresql://postgres:$secret@127.0.0.1:1/nodb" \
	"$MIGRATE" -d "$DB_URL" --state "$STATE" --dir migrations apply --to 2
assert_eq 2 "$(sql "SELECT max(version) FROM public.schema_migrations")" "-d over DATABASE_URL"

# libpq's own variables, as the last resort.
expect_exit 0 env PGDATABASE="$DB_NAME" "$MIGRATE" --state "$STATE" --dir migrations status
assert_match "$OUT" '0*2[_ ]+order_status +completed' "PGDATABASE"
