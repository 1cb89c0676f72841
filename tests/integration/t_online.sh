#!/usr/bin/env bash
# apply --online while the old application works: not one of its
# transactions fails and the events are JSON lines; rollback, under the same
# load, restores the schema; applied again and finalized, the schema is the
# one plain apply gives.
. "$(dirname "$0")/lib.sh"

# The schema that plain apply gives, for comparison.
new_db
expect_exit 0 mg --dir migrations apply
plain=$(schema_fingerprint)

new_db
expect_exit 0 mg --dir migrations apply --to 1
load_shop_data 3000
base=$(schema_fingerprint)

workload_start
sleep 1
expect_exit 0 mg --dir migrations apply --online --format json --lock-timeout 500ms
workload_stop "apply --online"
echo "workload: $WORKLOAD_ROUNDS rounds"

count=$(find migrations -name '*.yaml' | wc -l)
assert_eq "$(seq -s ' ' 2 "$count")" \
	"$(json_lines '" ".join(str(e["version"]) for e in d if e["event"] == "migration_finished")')" \
	"migration_finished events"
assert_eq 0 "$(json_lines 'sum(e["event"] == "migration_failed" for e in d)')" "migration_failed events"
assert_eq true "$(json_lines 'all(isinstance(e.get("ms", 0), int) for e in d)')" "ms fields"
assert_eq true "$(json_lines 'all("step" in e for e in d if e["event"].startswith("step_"))')" \
	"step events name their step"

assert_shop_data_complete

# Back to version 1, with the workload still running.
workload_start
expect_exit 0 mg --dir migrations rollback --to 1 --format json
workload_stop "rollback --to 1"
assert_eq "$base" "$(schema_fingerprint)" "schema after rolling back"

# Until finalize, online leaves things for the old application (sync
# triggers, old columns); after it, nothing differs from plain apply.
expect_exit 0 mg --dir migrations apply --online
expect_exit 0 mg --dir migrations finalize --yes
assert_eq "$plain" "$(schema_fingerprint)" "online and plain give one schema, once finalized"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal")" \
	"triggers left after finalize"
