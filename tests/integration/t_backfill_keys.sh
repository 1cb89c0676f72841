#!/usr/bin/env bash
# An online backfill walks every row exactly once whatever the table's key:
# integer, uuid, text, composite primary keys, unique NOT NULL columns
# without a primary key, a partitioned table with a key; in batches far
# smaller than the table, with a non-idempotent set (n = n + 1), with and
# without `down`, rolled back exactly.  A table it cannot walk each row of
# once (no key, a partitioned one too) is refused before anything changed.
. "$(dirname "$0")/lib.sh"
new_db
export PGOPTIONS='-c client_min_messages=warning'

sql "CREATE TABLE k_int (id int PRIMARY KEY, n int NOT NULL);
	CREATE TABLE k_uuid (id uuid PRIMARY KEY, n int NOT NULL);
	CREATE TABLE k_text (id text PRIMARY KEY, n int NOT NULL);
	CREATE TABLE k_two (x int, y text, n int NOT NULL, PRIMARY KEY (x, y));
	CREATE TABLE k_unique (a int NOT NULL, b text NOT NULL, c int UNIQUE, n int NOT NULL, UNIQUE (a, b));
	CREATE TABLE k_part (id bigint, region int, n int NOT NULL, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
	CREATE TABLE k_part_1 PARTITION OF k_part FOR VALUES IN (1);
	CREATE TABLE k_part_2 PARTITION OF k_part FOR VALUES IN (2);
	INSERT INTO k_int SELECT g, 0 FROM generate_series(1, 3000) g;
	INSERT INTO k_uuid SELECT md5(g::text)::uuid, 0 FROM generate_series(1, 3000) g;
	INSERT INTO k_text SELECT 'k' || g, 0 FROM generate_series(1, 3000) g;
	INSERT INTO k_two SELECT g % 50, 'k' || g, 0 FROM generate_series(1, 3000) g;
	INSERT INTO k_unique SELECT g % 7, 'b' || g, NULL, 0 FROM generate_series(1, 3000) g;
	INSERT INTO k_part SELECT g, 1 + g % 2, 0 FROM generate_series(1, 3000) g;
	ANALYZE" >/dev/null
tables="k_int k_uuid k_text k_two k_unique k_part"
fingerprint()
{
	local t out=

	for t in $tables; do
		out+="$t:$(sql "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM $t r");"
	done
	echo "$out"
}
before=$(fingerprint)
{
	echo "operations:"
	for t in $tables; do
		echo "  - backfill: {table: $t, set: {n: n + 1}, down: {n: n - 1}}"
	done
	for t in $tables; do
		echo "  - backfill: {table: $t, set: {n: n + 10}}"
	done
} | write_migration 0001_fill.yaml
expect_exit 0 mg --dir "$MIGDIR" apply --online --format json --batch-size 400
for t in $tables; do
	assert_eq "3000|11|11" "$(sql "SELECT count(*), min(n), max(n) FROM $t")" \
		"$t: every row filled exactly once by each backfill"
done
assert_eq true "$(json_lines 'len([e for e in d if e["event"] == "progress"]) >= 12 * 8')" \
	"in batches of 400 rows"
expect_exit 0 mg --dir "$MIGDIR" rollback
assert_eq "$before" "$(fingerprint)" "rollback restored every old value (down, and saved values)"

# No key to walk by: refused before any change, naming the file and the table.
sql "CREATE TABLE no_key (a int, b int);
	INSERT INTO no_key SELECT g, 0 FROM generate_series(1, 500) g;
	CREATE TABLE part_no_key (a int, b int) PARTITION BY RANGE (a);
	CREATE TABLE part_no_key_1 PARTITION OF part_no_key FOR VALUES FROM (0) TO (1000);
	INSERT INTO part_no_key SELECT g, 0 FROM generate_series(1, 500) g;
	CREATE TABLE nullable_unique (a int UNIQUE, b int);
	INSERT INTO nullable_unique SELECT g, 0 FROM generate_series(1, 500) g" >/dev/null
for t in no_key part_no_key nullable_unique; do
	rm -f "$MIGDIR"/0002_*
	write_migration 0002_nokey.yaml <<YAML
operations:
  - add_column: {table: no_key, column: {name: marker, type: int}}
  - backfill: {table: $t, set: {b: b + 1}, down: {b: b - 1}}
YAML
	expect_exit 2 mg --dir "$MIGDIR" apply --online
	assert_contains "$ERR" "0002_nokey.yaml:3:" "$t: the refusal names the file and line"
	assert_contains "$ERR" "$t has no primary key nor unique NOT NULL columns" "$t: and why"
	assert_eq "0|500" "$(sql "SELECT count(*) FILTER (WHERE b <> 0), count(*) FROM $t")" "$t: nothing changed"
	assert_eq 0 "$(sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'no_key'::regclass AND attname = 'marker'")" \
		"$t: not even the step before"
done
# Without --online the same backfill is one UPDATE, each row once.
expect_exit 0 mg --dir "$MIGDIR" apply
assert_eq "500|1|1" "$(sql "SELECT count(*), min(b), max(b) FROM nullable_unique")" "plain: one UPDATE"
rm -f "$MIGDIR"/0002_*

# A single integer key, batch size auto: batches are spans of key values.
# Dense keys, negative keys, and keys so sparse (one per 100000) that no
# span fills a batch and the walk goes back to the index: every row filled,
# none twice (the backfill adds one), and rollback puts the old values back.
sql "CREATE TABLE spans (id bigint PRIMARY KEY, n int NOT NULL);
	INSERT INTO spans SELECT g, 0 FROM generate_series(-3000, 3000) g;
	INSERT INTO spans SELECT g * 100000, 0 FROM generate_series(1, 2000) g;
	ANALYZE spans" >/dev/null
before=$(sql "SELECT md5(string_agg(s::text, ',' ORDER BY id)) FROM spans s")
write_migration 0003_spans.yaml <<'YAML'
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
