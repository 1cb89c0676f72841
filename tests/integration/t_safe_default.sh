#!/usr/bin/env bash
# The safe default: without --online, apply refuses (exit 3, before any
# change) a plan with a step lint calls unsafe on a table over
# plain_max_rows rows (default 10000); --plain runs it; a small table, or
# one the same migration creates, runs plain without a word; the setting
# moves the line.  The application's writes work after each refusal.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL, at timestamptz DEFAULT now());
	INSERT INTO events (kind) SELECT 'k' || (g % 50) FROM generate_series(1, 300000) g;
	CREATE TABLE small (id int PRIMARY KEY, v text); INSERT INTO small SELECT g, 'v' FROM generate_series(1, 100) g"
app_writes()
{
	sql "INSERT INTO events (kind) VALUES ('app'); UPDATE events SET kind = kind WHERE id = 1" >/dev/null ||
		fail "the application's writes fail after $1"
}

# A blocking index build on 300,000 rows.
write_migration 0001_kind_idx.yaml <<'YAML'
operations:
  - create_index: { table: small, name: small_v_idx, columns: [v] }
  - create_index: { table: events, name: events_kind_idx, columns: [kind] }
YAML
expect_exit 3 mg --dir "$MIGDIR" apply
assert_contains "$ERR" "create-index-not-concurrent" "the finding"
assert_contains "$ERR" "\"events\", which holds more than plain_max_rows (10000) rows" "the reason"
assert_contains "$ERR" "--online" "the way on"
assert_contains "$ERR" "--plain" "the other way on"
assert_eq "f f" "$(sql "SELECT concat_ws(' ', to_regclass('events_kind_idx') IS NOT NULL, to_regclass('small_v_idx') IS NOT NULL)")" \
	"nothing was built"
assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations")" "no history"
app_writes "the refusal"
# --dry-run judges as apply does
expect_exit 3 mg --dir "$MIGDIR" apply --dry-run

# The setting moves the line.
cat >"$MIGDIR/0001_kind_idx.yaml" <<'YAML'
settings: { plain_max_rows: 1000000 }
operations:
  - create_index: { table: small, name: small_v_idx, columns: [v] }
  - create_index: { table: events, name: events_kind_idx, columns: [kind] }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --dry-run
sed -i 's/1000000/50/' "$MIGDIR/0001_kind_idx.yaml"
# 100 rows in small > 50 too: refused on small first
expect_exit 3 mg --dir "$MIGDIR" apply
assert_contains "$ERR" "\"small\", which holds more than plain_max_rows (50) rows"
sed -i '/^settings/d' "$MIGDIR/0001_kind_idx.yaml"

# --plain runs it, blocking as asked.
expect_exit 0 mg --dir "$MIGDIR" apply --plain
assert_eq "t t" "$(sql "SELECT concat_ws(' ', to_regclass('events_kind_idx') IS NOT NULL, to_regclass('small_v_idx') IS NOT NULL)")" \
	"--plain built both"
app_writes "--plain"

# A small table runs plain without a word; so does a table the migration creates.
write_migration 0002_small.yaml <<'YAML'
operations:
  - create_table:
      name: fresh
      columns: [{ name: id, type: integer }, { name: v, type: text }]
  - create_index: { table: fresh, name: fresh_v_idx, columns: [v] }
  - add_constraint: { table: small, name: small_v_check, check: "v <> ''" }
YAML
expect_exit 0 mg --dir "$MIGDIR" apply
assert_not_contains "$ERR" "refuses" "no refusal on small tables"

# online, the same step is the concurrent build: no refusal.
write_migration 0003_at_idx.yaml <<'YAML'
operations:
  - create_index: { table: events, name: events_at_idx, columns: [at] }
YAML
expect_exit 3 mg --dir "$MIGDIR" apply
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq t "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_at_idx'::regclass")"
app_writes "apply --online"

# A refusal of a later pending migration changes nothing either: the
# earlier one does not run.
write_migration 0004_fresh2.yaml <<'YAML'
operations:
  - create_table: { name: fresh2, columns: [{ name: id, type: integer }] }
YAML
write_migration 0005_kind2_idx.yaml <<'YAML'
operations:
  - create_index: { table: events, name: events_kind2_idx, columns: [kind] }
YAML
expect_exit 3 mg --dir "$MIGDIR" apply
assert_contains "$ERR" "0005_kind2_idx" "the refused migration is named"
assert_eq f "$(sql "SELECT to_regclass('fresh2') IS NOT NULL")" "the earlier pending migration did not run"
assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations WHERE version IN (4, 5)")" "no history of either"
app_writes "a refusal of the second of two pending migrations"
rm "$MIGDIR/0004_fresh2.yaml" "$MIGDIR/0005_kind2_idx.yaml"

# lint with a database judges what is pending; --all judges every migration.
expect_exit 0 mg --dir "$MIGDIR" lint --plain
assert_contains "$OUT" "0 statements" "nothing pending to judge"
expect_exit 3 mg --dir "$MIGDIR" lint --plain --all
assert_contains "$OUT" "create-index-not-concurrent" "--all judges the applied ones too"
