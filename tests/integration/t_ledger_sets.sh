#!/usr/bin/env bash
# Two migration sets in one database, each with its own history table
# (--table): the ledger in schema migrate keys a migration by its version,
# so a second set that reuses a version is refused before it changes
# anything, never taken as already done.  Sets with versions of their own
# share the ledger without trouble.
. "$(dirname "$0")/lib.sh"
new_db

mkdir -p "$TMP/a" "$TMP/b" "$TMP/c"
cat >"$TMP/a/0001_items.yaml" <<'YAML'
operations:
  - create_table: { name: items_a, columns: [{ name: id, type: integer, primary_key: true }] }
YAML
cat >"$TMP/b/0001_items.yaml" <<'YAML'
operations:
  - create_table: { name: items_b, columns: [{ name: id, type: integer, primary_key: true }] }
YAML
cat >"$TMP/c/0002_items.yaml" <<'YAML'
operations:
  - create_table: { name: items_c, columns: [{ name: id, type: integer, primary_key: true }] }
YAML

expect_exit 0 mg --dir "$TMP/a" --table public.history_a apply --online
expect_exit 2 mg --dir "$TMP/b" --table public.history_b apply --online
assert_contains "$ERR" "history table public.history_a" "the message names the other set's history table"
assert_contains "$ERR" "nothing was changed" "the message says nothing changed"
assert_eq f "$(sql "SELECT to_regclass('items_b') IS NOT NULL")" "set b's table was not skipped as done, nor made"
assert_eq "failed" "$(sql "SELECT coalesce(string_agg(status, ','), 'none') FROM public.history_b")" \
	"set b's history records the refusal"
sql "INSERT INTO items_a VALUES (1)" >/dev/null || fail "set a's table does not work"

# a set whose versions are its own shares the ledger
expect_exit 0 mg --dir "$TMP/c" --table public.history_c apply --online
assert_eq t "$(sql "SELECT to_regclass('items_c') IS NOT NULL")" "set c applied"
# and the first set still rolls back exactly
expect_exit 0 mg --dir "$TMP/a" --table public.history_a rollback
assert_eq f "$(sql "SELECT to_regclass('items_a') IS NOT NULL")" "set a rolled back"
