#!/usr/bin/env bash
# An online backfill fills every row whatever the table's key: a composite
# primary key (keyset batches on both columns), none at all (ctid page
# ranges), in batches far smaller than the table; rollback applies `down`.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE no_key (a int, b int);
	INSERT INTO no_key SELECT g, NULL FROM generate_series(1, 5000) g;
	CREATE TABLE two_keys (x int, y text, v int, PRIMARY KEY (x, y));
	INSERT INTO two_keys SELECT g % 50, 'k' || g, NULL FROM generate_series(1, 3000) g;
	ANALYZE no_key, two_keys" >/dev/null

write_migration 0001_fill.yaml <<'YAML'
operations:
  - backfill: {table: no_key, set: {b: a * 2}, down: {b: "NULL"}}
  - backfill: {table: two_keys, set: {v: length(y)}, down: {v: "NULL"}}
YAML

expect_exit 0 mg --dir "$MIGDIR" apply --online --format json --batch-size 400
assert_eq 5000 "$(sql "SELECT count(*) FROM no_key WHERE b = a * 2")" "rows of a table without a key filled"
assert_eq 3000 "$(sql "SELECT count(*) FROM two_keys WHERE v = length(y)")" "rows of a composite-key table filled"
assert_eq "[3000, 5000]" \
	"$(json_lines 'sorted(e["rows"] for e in d if e["event"] == "step_finished" and "rows" in e)')" \
	"each backfill reports the rows it filled"

expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq 0 "$(sql "SELECT count(b) + (SELECT count(v) FROM two_keys) FROM no_key")" "down restored NULLs"

# A single integer key, batch size auto: batches are spans of key values.
# Dense keys, negative keys, and keys so sparse (one per 100000) that no
# span fills a batch and the walk goes back to the index: every row filled,
# none twice (the backfill adds one), and rollback puts the old values back.
sql "CREATE TABLE spans (id bigint PRIMARY KEY, n int NOT NULL);
	INSERT INTO spans SELECT g, 0 FROM generate_series(-3000, 3000) g;
	INSERT INTO spans SELECT g * 100000, 0 FROM generate_series(1, 2000) g;
	ANALYZE spans" >/dev/null
before=$(sql "SELECT md5(string_agg(s::text, ',' ORDER BY id)) FROM spans s")
write_migration 0002_spans.yaml <<'YAML'
operations:
  - backfill: {table: spans, set: {n: n + 1}}
YAML
expect_exit 0 mg --dir "$MIGDIR" apply --online --format json --batch-time 20ms
assert_eq "8001|1|1" "$(sql "SELECT count(*), min(n), max(n) FROM spans")" \
	"every row of an integer-key table filled exactly once"
assert_eq true "$(json_lines '(len([e for e in d if e["event"] == "progress"]) > 2)')" \
	"in several batches"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(sql "SELECT md5(string_agg(s::text, ',' ORDER BY id)) FROM spans s")" \
	"rollback restored every old value"
