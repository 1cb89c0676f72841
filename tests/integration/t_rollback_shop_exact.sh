#!/usr/bin/env bash
# The example shop with its data: apply every migration (plain, then
# online), roll back to version 1, and the database is exactly as it was
# (pg_dump -s and a checksum of every table's rows); `rollback --steps 1`
# undoes the newest only; each cycle repeats.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"
new_db

count=$(find migrations -name '*.yaml' | wc -l)
expect_exit 0 mg --dir migrations apply --to 1
load_shop_data 200
before=$(db_snapshot) || fail "db_snapshot failed"

for mode in plain online; do
	if [ "$mode" = online ]; then
		expect_exit 0 mg --dir migrations apply --online
	else
		expect_exit 0 mg --dir migrations apply
	fi
	expect_exit 0 mg --dir migrations rollback --steps 1
	assert_eq "$count rolled_back" "$(sql "SELECT version || ' ' || status FROM public.schema_migrations
		WHERE version = $count")" "$mode: rollback --steps 1 undoes the newest"
	assert_eq $((count - 1)) "$(sql "SELECT count(*) FROM public.schema_migrations
		WHERE status = 'completed'")" "$mode: rollback --steps 1 leaves the others applied"
	expect_exit 0 mg --dir migrations rollback --to 1
	assert_same_snapshot "$before" "shop ($mode)"
done
