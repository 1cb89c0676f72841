#!/usr/bin/env bash
# The state file is a journal, not the truth: one file used for two
# databases (staging, then production, from one checkout) must not make
# the second skip work, and a lost file must not stop a resume.
. "$(dirname "$0")/lib.sh"

shared=$TMP/shared.state.db

# apply_shop_online STATE_FILE: version 1, data, then the rest online.
apply_shop_online()
{
	expect_exit 0 "$MIGRATE" -d "$DB_URL" --state "$1" --dir migrations apply --to 1
	load_shop_data 2000
	expect_exit 0 "$MIGRATE" -d "$DB_URL" --state "$1" --dir migrations apply --online
	assert_shop_data_complete
	assert_eq 0 "$(sql "SELECT count(*) FROM orders WHERE total_cents IS NULL")" "0005: every order has a total"
}

new_db
apply_shop_online "$shared"
first=$(schema_fingerprint)

new_db
apply_shop_online "$shared"
assert_eq "$first" "$(schema_fingerprint)" "the second database's schema"

# Lost half way: the database says what is done.
new_db
expect_exit 0 mg --dir migrations apply --to 1
load_shop_data 2000
expect_exit 0 mg --dir migrations apply --online --to 3
rm -f "$STATE"
expect_exit 0 mg --dir migrations apply --online
assert_shop_data_complete
expect_exit 0 mg --dir migrations --format json status
assert_eq true "$(json 'all(m["status"] == "completed" for m in d["migrations"])')" "status after a lost state file"
