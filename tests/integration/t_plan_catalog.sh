#!/usr/bin/env bash
# Catalog-dependent planning, against golden plans: what `plan --format
# json` shows with a database differs from the plan without one where the
# catalog says so (a type change the server does without a rewrite, a NOT
# NULL a valid CHECK proves, a table's row estimate, what is applied
# already).  Each case's plan is cut to one line a step (id, kind, phase,
# lock, in a transaction or not, estimated rows, summary) and compared with
# tests/integration/golden/plan_catalog/CASE.txt.  After a deliberate
# change to the planner, IT_UPDATE_GOLDEN=1 writes the files anew: review
# their diff like code.
. "$(dirname "$0")/lib.sh"

golden_dir=$REPO/tests/integration/golden/plan_catalog
mismatched=

# steps_of [--offline] ARGS...: plan --format json ARGS, one line a step.
steps_of()
{
	if [ "${1:-}" = --offline ]; then
		shift
		expect_exit 0 "$MIGRATE" --state "$STATE" --dir "$MIGDIR" plan --format json "$@"
	else
		expect_exit 0 mg --dir "$MIGDIR" plan --format json "$@"
	fi
	json '"\n".join(
		"%s %s %s %s:%s %s rows=%s %s" % (m["version"], s["id"], s["kind"], s["lock"]["mode"],
			s["lock"]["relation"], "txn" if s["in_transaction"] else "alone",
			s["estimated_rows"], s["summary"])
		for m in d["migrations"] for s in m["steps"]) or "(no steps)"'
}

# check_golden CASE TEXT: TEXT is the golden file of CASE.
check_golden()
{
	local file=$golden_dir/$1.txt

	if [ -n "${IT_UPDATE_GOLDEN:-}" ]; then
		printf '%s\n' "$2" >"$file"
		echo "wrote $file"
		return
	fi
	[ -f "$file" ] || fail "no golden plan $file (IT_UPDATE_GOLDEN=1 writes it)"
	if [ "$(cat "$file")" != "$2" ]; then
		diff -u --label "golden $1" --label "plan now" "$file" <(printf '%s\n' "$2") >&2 || true
		mismatched="$mismatched $1"
	else
		echo "ok: $1"
	fi
}

new_db
sql "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(50), qty integer, code text,
		CONSTRAINT items_code_present CHECK (code IS NOT NULL));
	INSERT INTO items SELECT g, 'n' || g, g, 'c' || g FROM generate_series(1, 1000) g;
	CREATE TABLE empty_one (id integer, note text);
	ANALYZE items; ANALYZE empty_one" >/dev/null

# Type changes: without a rewrite one short ALTER, with one the shadow
# column; the server says which (without a database, both look alike).
write_migration 0001_types.yaml <<'YAML'
operations:
  - alter_column: {table: items, column: name, type: varchar(100)}
  - alter_column: {table: items, column: qty, type: bigint}
YAML
online=$(steps_of --online)
offline=$(steps_of --offline --online)
[ "$online" != "$offline" ] || fail "the type changes plan alike with and without the catalog"
check_golden types_online "$online"
check_golden types_plain "$(steps_of)"

# NOT NULL: proven by the valid CHECK on code (one SET NOT NULL, no check of
# migrate's own), not on qty (the check, validated, then SET NOT NULL).
rm -f "$MIGDIR"/*.yaml
write_migration 0001_not_null.yaml <<'YAML'
operations:
  - alter_column: {table: items, column: code, nullable: false}
  - alter_column: {table: items, column: qty, nullable: false}
YAML
check_golden not_null_online "$(steps_of --online)"

# An index and a backfill: the row estimates come from the catalog; the
# empty table's index is built plainly (the cheapest safe technique), the
# choice recorded first.
rm -f "$MIGDIR"/*.yaml
write_migration 0001_sizes.yaml <<'YAML'
operations:
  - create_index: {name: items_name_idx, table: items, columns: [name]}
  - create_index: {name: empty_note_idx, table: empty_one, columns: [note]}
  - add_column:
      table: items
      column: {name: label, type: text}
      backfill: "upper(name)"
YAML
check_golden sizes_online "$(steps_of --online)"

# What is applied already is not planned again.
rm -f "$MIGDIR"/*.yaml
write_migration 0001_first.yaml <<'YAML'
operations:
  - add_column: {table: items, column: {name: a, type: integer}}
YAML
write_migration 0002_second.yaml <<'YAML'
operations:
  - add_column: {table: items, column: {name: b, type: integer}}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --to 1
check_golden pending_only "$(steps_of)"

[ -z "$mismatched" ] || fail "plans differ from their golden files:$mismatched"
echo "t_plan_catalog: ok"
