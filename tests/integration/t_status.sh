#!/usr/bin/env bash
# status: one line per migration with its state, and the same as JSON.
. "$(dirname "$0")/lib.sh"
new_db

count=$(find migrations -name '*.yaml' | wc -l)

# Before anything is applied, everything is pending.
expect_exit 0 mg --dir migrations status
assert_eq "$count" "$(grep -c pending <<<"$OUT")" "pending lines on a new database"

expect_exit 0 mg --dir migrations apply --to 2
expect_exit 0 mg --dir migrations status
assert_eq "$count" "$(grep -c . <<<"$OUT")" "one line per migration"
assert_eq 2 "$(grep -c completed <<<"$OUT")" "completed lines"
assert_eq $((count - 2)) "$(grep -c pending <<<"$OUT")" "pending lines"
assert_match "$OUT" '0*1[_ ]+create_shop +completed +[0-9]{4}-[0-9]{2}-[0-9]{2}' "applied_at shown"
assert_match "$OUT" '0*3[_ ]+order_indexes +pending' "a pending line"

expect_exit 0 mg --dir migrations --format json status
expected=$(python3 -c "import json; print(json.dumps(['completed'] * 2 + ['pending'] * ($count - 2)))")
assert_eq "$expected" "$(json '[m["status"] for m in d["migrations"]]')" "statuses"
assert_eq "[1, 2, 3]" "$(json '[m["version"] for m in d["migrations"]][:3]')" "versions"
assert_eq "create_shop" "$(json 'd["migrations"][0]["name"]')" "name"
assert_eq true "$(json 'd["migrations"][0]["file"].endswith("0001_create_shop.yaml")')" "file"
assert_eq true "$(json 'all(m["checksum"].startswith("sha256:") for m in d["migrations"])')" "checksums"
assert_eq true "$(json 'all(m["drifted"] is False and m["error"] is None for m in d["migrations"])')" \
	"drifted and error"
assert_eq true "$(json 'all((m["applied_at"] is None) == (m["status"] == "pending") for m in d["migrations"])')" \
	"applied_at set exactly for applied migrations"
assert_eq true "$(json 'isinstance(d["migrations"][0]["execution_ms"], int) and d["migrations"][2]["execution_ms"] is None')" \
	"execution_ms"

