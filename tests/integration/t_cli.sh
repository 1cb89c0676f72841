#!/usr/bin/env bash
# The command line: help, version, usage errors (exit 2, nothing done),
# options after the command.
. "$(dirname "$0")/lib.sh"
new_db

expect_exit 0 "$MIGRATE" --version
assert_match "$OUT" '^migrate [0-9]+\.[0-9]+' "--version"
expect_exit 0 "$MIGRATE" --help
for c in validate plan apply rollback status finalize new; do
	assert_contains "$OUT" "$c" "--help lists $c"
done
expect_exit 0 "$MIGRATE" apply --help
assert_contains "$OUT" "--online" "apply --help"

expect_exit 2 "$MIGRATE"
expect_exit 2 "$MIGRATE" aply
assert_match "$ERR" '^migrate: ' "unknown command"
assert_contains "$ERR" apply "a suggestion"

# A mistyped option must not run the real thing.
expect_exit 2 mg --dir migrations apply --dry-runn
assert_match "$ERR" '^migrate: .*dry-runn' "the message names the option"
expect_exit 2 mg --dir migrations apply --lock-timeout soon
expect_exit 2 mg --dir migrations apply --batch-size -5
expect_exit 2 mg --dir migrations --format yaml status
expect_exit 2 mg --dir migrations --format sql status
expect_exit 2 mg --dir migrations rollback --to 1 --steps 1
expect_exit 2 mg --dir migrations status extra
assert_eq t "$(sql "SELECT to_regclass('public.schema_migrations') IS NULL")" \
	"a usage error changed the database"

# Global options may follow the command.
expect_exit 0 "$MIGRATE" validate --dir migrations
expect_exit 0 "$MIGRATE" apply --to 1 -d "$DB_URL" --state "$STATE" --dir migrations
table_exists customers || fail "options after the command were ignored"

# A missing folder is a usage error, not an empty set of migrations.
expect_exit 2 "$MIGRATE" --dir "$TMP/nowhere" validate
assert_contains "$ERR" nowhere "the message names the folder"

# lint and convert: a file that cannot be read is a usage error naming it.
expect_exit 2 "$MIGRATE" lint "$TMP/nowhere/0001_x.yaml"
assert_contains "$ERR" "0001_x.yaml" "lint names the file"
expect_exit 2 "$MIGRATE" convert "$TMP/some.sql"
assert_contains "$ERR" "some.sql" "convert names the file"
expect_exit 2 "$MIGRATE" convert
assert_contains "$ERR" "FILE.sql" "convert without a file"

# new: a timestamped file from a template, in --dir.
expect_exit 0 "$MIGRATE" --dir "$MIGDIR" new add_thing
assert_match "$OUT" '/[0-9]{14}_add_thing\.yaml$' "new prints the file it wrote"
[ -f "$OUT" ] || fail "new did not write $OUT"
expect_exit 2 "$MIGRATE" --dir "$MIGDIR" new Add-Thing
expect_exit 2 "$MIGRATE" --dir "$MIGDIR" new thing --template no_such_template
assert_eq 1 "$(find "$MIGDIR" -name '*.yaml' | wc -l)" "bad names write nothing"

# ---- arguments no command takes, values that make no sense: exit 2, nothing done ----
new_db
expect_exit 0 mg --dir migrations apply --to 2
before=$(sql "SELECT string_agg(version || status, ',' ORDER BY version) FROM public.schema_migrations")
expect_exit 2 mg --dir migrations rollback 3
assert_contains "$ERR" 'unexpected argument "3"' "rollback 3 names the argument"
for cmd in "apply 3" "status x" "plan x" "finalize x" "validate x"; do
	# shellcheck disable=SC2086
	expect_exit 2 mg --dir migrations $cmd
done
for opt in "--lock-timeout 0" "--lock-timeout=0ms" "--batch-time 0" "--max-replica-lag 0s"; do
	# shellcheck disable=SC2086
	expect_exit 2 mg --dir migrations apply $opt
	assert_contains "$ERR" "must be more than 0" "apply $opt explains"
done
expect_exit 2 mg --dir migrations rollback --lock-timeout 0
expect_exit 2 mg --dir migrations --format json new thing
assert_eq "$before" "$(sql "SELECT string_agg(version || status, ',' ORDER BY version)
	FROM public.schema_migrations")" "a usage error changed the history"
# 0 stays meaningful where it is: no statement timeout, no pause between batches
expect_exit 0 mg --dir migrations apply --to 2 --statement-timeout 0 --batch-delay 0

# ---- rollback --dry-run: the steps rollback runs, in the order it runs them ----
expect_exit 0 mg --dir migrations --format json rollback --dry-run
dry=$(json '[s["id"] for s in d["migrations"][0]["steps"]]')
assert_eq 2 "$(json 'd["migrations"][0]["version"]')" "the dry run is of the newest migration"
expect_exit 0 mg --dir migrations rollback --dry-run
assert_contains "$OUT" "rollback of 0002_order_status" "the text dry run names the migration"
text_ids=$(printf '%s\n' "$OUT" | sed -n 's/^  [0-9]*\. \[\([^]]*\)\].*/"\1"/p' | paste -sd, -)
assert_eq "$dry" "[${text_ids//,/, }]" "text and JSON dry runs list the same steps in the same order"
expect_exit 0 mg --dir migrations --format json rollback
ran=$(json_lines '[e["step"] for e in d if e["event"] == "step_started"]')
assert_eq "$dry" "$ran" "rollback ran the steps its dry run showed, in that order"

# ---- finalize --yes into a pipe: JSON lines only ----
new_db
expect_exit 0 mg --dir migrations apply --online --to 2
expect_exit 0 mg --dir migrations finalize --yes
assert_eq true "$(json_lines 'len(d) > 1 and all("event" in e for e in d)')" \
	"finalize into a pipe printed something that is not a JSON event"
assert_eq finalize_plan "$(json_lines 'd[0]["event"]')" "the plan comes first"
# (orders is empty: its add_column 2.1 gets the plain statements, after
# schema migrate and the record of that choice, so 2.2 starts at its column)
assert_eq '["2.2.8"]' "$(json_lines 'd[0]["steps"] and [s["step"] for s in d[0]["steps"]]')" \
	"the plan lists the contract step"
expect_exit 0 mg --dir migrations finalize --yes

# ---- on a terminal: several steps of one transaction, each on its own line ----
new_db
script -qec "$MIGRATE -d '$DB_URL' --state '$STATE' --dir migrations --no-color apply --to 1" \
	/dev/null >"$TMP/tty.out" </dev/null || fail "apply on a terminal failed: $(cat "$TMP/tty.out")"
tr '\r' '\n' <"$TMP/tty.out" >"$TMP/tty.lines"
assert_contains "$(cat "$TMP/tty.lines")" "[1.4.1]" "the terminal shows the steps"
if grep -q '\[1\.[0-9]\.[0-9]\].*\[1\.[0-9]\.[0-9]\]' "$TMP/tty.lines"; then
	fail "two steps on one line: $(grep '\[1\..*\[1\.' "$TMP/tty.lines" | head -1)"
fi
assert_eq 4 "$(grep -c 'done in' "$TMP/tty.lines")" "each of the 4 steps says done"
