#!/usr/bin/env bash
# Connections: one that cannot be made exits 6 (nothing was changed) with
# one line saying where it tried and how to name the database, without ever
# showing the password; DATABASE_URL is used when -d is absent, and -d wins
# over it.
. "$(dirname "$0")/lib.sh"

secret=s3cretpw
for conninfo in "postgresql://postgres:$secret@127.0.0.1:1/nodb" \
	"host=127.0.0.1 port=1 dbname=nodb user=postgres password=$secret"; do
	for cmd in apply status "rollback --steps 1"; do
		# shellcheck disable=SC2086
		expect_exit 6 "$MIGRATE" -d "$conninfo" --state "$TMP/state.db" --dir migrations $cmd
		assert_not_contains "$OUT$ERR" "$secret" "$cmd printed the password"
		assert_contains "$ERR" "migrate: " "$cmd explains"
		assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "$cmd: one line"
		assert_contains "$ERR" "host=127.0.0.1 port=1 dbname=nodb" "$cmd says where it tried"
		for way in "-d CONNINFO" DATABASE_URL PGHOST; do
			assert_contains "$ERR" "$way" "$cmd says how to name the database ($way)"
		done
		assert_eq "" "$OUT" "$cmd printed results"
	done
	expect_exit 6 env DATABASE_URL="$conninfo" "$MIGRATE" --state "$TMP/state.db" --dir migrations apply
	assert_not_contains "$OUT$ERR" "$secret" "DATABASE_URL printed the password"
done
[ ! -e "$TMP/state.db" ] || fail "an unreachable database left a state file"

# PG* variables name where it tried, too; a malformed conninfo is a usage error.
expect_exit 6 env PGHOST=127.0.0.1 PGPORT=1 PGDATABASE=elsewhere "$MIGRATE" --state "$TMP/state.db" \
	--dir migrations status
assert_contains "$ERR" "host=127.0.0.1 port=1 dbname=elsewhere" "PG* variables: where it tried"
expect_exit 2 "$MIGRATE" -d "postgresql://postgres:$secret%zz@127.0.0.1:1/nodb" \
	--state "$TMP/state.db" --dir migrations status
assert_contains "$ERR" "malformed" "a malformed URI is said to be one"
assert_not_contains "$OUT$ERR" "$secret" "a malformed URI printed the password"

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

# A service file (PGSERVICEFILE) names the database; -d service=NAME too.
cat >"$TMP/services" <<SVC
[shop_it]
host=$PGHOST
port=$PGPORT
dbname=$DB_NAME
user=postgres
SVC
expect_exit 0 env PGSERVICEFILE="$TMP/services" PGSERVICE=shop_it "$MIGRATE" --state "$STATE" \
	--dir migrations status
assert_match "$OUT" '0*2[_ ]+order_status +completed' "PGSERVICE"
expect_exit 0 env PGSERVICEFILE="$TMP/services" "$MIGRATE" -d service=shop_it --state "$STATE" \
	--dir migrations --format json status
assert_eq completed "$(json 'd["migrations"][1]["status"]')" "-d service=NAME"

# sslmode and the other parameters go to libpq as given (this server
# listens on a socket only, where libpq ignores sslmode: a bad value shows
# that libpq read it).
expect_exit 6 "$MIGRATE" -d "$DB_URL sslmode=sometimes" --state "$STATE" --dir migrations status
assert_contains "$ERR" "sslmode" "sslmode reached libpq"
expect_exit 0 "$MIGRATE" -d "$DB_URL sslmode=prefer" --state "$STATE" --dir migrations status

# A role that must give a password (scram), for .pgpass and for a refused
# password.  The hba line names only this role and goes away at the end.
role=pw_$$_$RANDOM
hba=$(sql "SHOW hba_file")
cp "$hba" "$TMP/hba.orig"
restore_hba()
{
	cp "$TMP/hba.orig" "$hba"
	sql_try "SELECT pg_reload_conf()" >/dev/null || true
	sql_try "DROP ROLE IF EXISTS $role" >/dev/null 2>&1 || true
	lib_cleanup
}
trap restore_hba EXIT
sql "SET password_encryption = 'scram-sha-256'; CREATE ROLE $role LOGIN SUPERUSER PASSWORD '$secret'" >/dev/null
{ echo "local all $role scram-sha-256"; cat "$TMP/hba.orig"; } >"$hba"
assert_eq t "$(sql "SELECT pg_reload_conf()")" "reload"

expect_exit 6 env PGPASSFILE=/dev/null "$MIGRATE" -d "dbname=$DB_NAME user=$role" \
	--state "$STATE" --dir migrations status
assert_match "$ERR" 'password' "without a password the server refuses"
wrong=wr0ng$RANDOM
expect_exit 6 "$MIGRATE" -d "postgresql://$role:$wrong@/$DB_NAME?host=$PGHOST&port=$PGPORT" \
	--state "$STATE" --dir migrations status
assert_not_contains "$OUT$ERR" "$wrong" "a refused password was printed"
assert_contains "$ERR" "authentication failed" "the refusal is explained"

printf '*:*:*:%s:%s\n' "$role" "$secret" >"$TMP/pgpass"
chmod 600 "$TMP/pgpass"
expect_exit 0 env PGPASSFILE="$TMP/pgpass" "$MIGRATE" -d "dbname=$DB_NAME user=$role" \
	--state "$STATE" --dir migrations status
assert_match "$OUT" '0*2[_ ]+order_status +completed' ".pgpass"
assert_not_contains "$OUT$ERR" "$secret" "the password from .pgpass was printed"

# A replica's password is never printed either, when it cannot be reached.
new_db
expect_exit 1 mg --dir migrations apply --online --to 2 \
	--replica "postgresql://postgres:$secret@127.0.0.1:1/replica"
assert_contains "$ERR" "replica" "the error names the replica"
assert_not_contains "$OUT$ERR" "$secret" "a replica's password was printed"
