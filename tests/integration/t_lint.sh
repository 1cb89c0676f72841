#!/usr/bin/env bash
# lint against a database: type changes judged from the column's current
# type (varchar growth is safe, int -> bigint rewrites), a default's
# volatility and SET NOT NULL's proof from the catalog, table size
# reported; apply --online refuses an unsafe step unless unsafe_ok accepts
# it; convert gives a file that validates and applies online.
. "$(dirname "$0")/lib.sh"
new_db

sql "CREATE TABLE t (id bigserial PRIMARY KEY, name varchar(50), n integer);
	INSERT INTO t (name, n) SELECT 'x' || g, g FROM generate_series(1, 5000) g;
	ANALYZE t;"

# varchar(50) -> varchar(100) is binary coercible: nothing is rewritten.
write_migration 0001_grow.yaml <<'EOF'
operations:
  - sql:
      up: ALTER TABLE t ALTER COLUMN name TYPE varchar(100)
EOF
expect_exit 0 mg --dir "$MIGDIR" lint
assert_contains "$OUT" "0 unsafe" "varchar growth judged unsafe"
# Without the database it cannot be told, so lint says so.
expect_exit 3 "$MIGRATE" --dir "$MIGDIR" lint --offline
assert_contains "$OUT" "without a database it cannot be told"

# integer -> bigint rewrites the table: unsafe, with the table's size.
write_migration 0001_grow.yaml <<'EOF'
operations:
  - sql:
      up: |
        ALTER TABLE t ALTER COLUMN n TYPE bigint;
EOF
expect_exit 3 mg --dir "$MIGDIR" --format json lint
assert_eq '"type-change-rewrite"' "$(json 'json.dumps(d["findings"][0]["rule"])')"
assert_eq "ACCESS EXCLUSIVE t true" "$(json '" ".join([d["findings"][0]["lock"], d["findings"][0]["on"], str(d["findings"][0]["rewrite"]).lower()])')"
assert_eq 5000 "$(json 'd["findings"][0]["rows"]')" "the table's size is reported"
assert_contains "$(json 'd["findings"][0]["detail"]')" "not binary coercible to"
assert_eq '"unsafe"' "$(json 'json.dumps(d["findings"][0]["status"])')"
assert_contains "$(json 'd["findings"][0]["file"]')" "0001_grow.yaml"
# Text output names the file and line, the lock, the rewrite, why and instead.
expect_exit 3 mg --dir "$MIGDIR" lint
assert_match "$OUT" '0001_grow\.yaml:[0-9]+: unsafe \[type-change-rewrite\]'
assert_contains "$OUT" "lock: ACCESS EXCLUSIVE on t, rewrites the table under it (~5000 rows"
assert_contains "$OUT" "instead: alter_column with type"
rm "$MIGDIR/0001_grow.yaml"

# A default's volatility comes from the catalog: a STABLE function of the
# application is evaluated once; clock_timestamp() rewrites every row.
sql "CREATE FUNCTION app_default() RETURNS int STABLE LANGUAGE sql AS 'SELECT 1'"
write_migration 0001_default.yaml <<'EOF'
operations:
  - sql:
      up: ALTER TABLE t ADD COLUMN k int DEFAULT app_default()
EOF
expect_exit 0 mg lint "$MIGDIR/0001_default.yaml"
expect_exit 3 "$MIGRATE" lint --offline "$MIGDIR/0001_default.yaml"
assert_contains "$OUT" "[volatile-default]"
write_migration 0001_default.yaml <<'EOF'
operations:
  - sql:
      up: ALTER TABLE t ADD COLUMN k timestamptz DEFAULT clock_timestamp()
EOF
expect_exit 3 mg lint "$MIGDIR/0001_default.yaml"
assert_contains "$OUT" "clock_timestamp() is volatile"
rm "$MIGDIR/0001_default.yaml"

# SET NOT NULL skips its scan when a validated CHECK (col IS NOT NULL) that
# the table already has proves it; only the catalog can say so.
write_migration 0001_not_null.yaml <<'EOF'
operations:
  - sql:
      up: ALTER TABLE t ALTER COLUMN n SET NOT NULL
EOF
expect_exit 3 mg --dir "$MIGDIR" lint
assert_contains "$OUT" "[set-not-null]"
sql "ALTER TABLE t ADD CONSTRAINT t_n_not_null CHECK (n IS NOT NULL)"
expect_exit 0 mg --dir "$MIGDIR" lint
expect_exit 3 "$MIGRATE" --dir "$MIGDIR" lint --offline
rm "$MIGDIR/0001_not_null.yaml"

# apply --online refuses an unsafe step before anything runs.
write_migration 0001_index.yaml <<'EOF'
operations:
  - create_index: { table: t, name: t_name_idx, columns: [name] }
  - sql:
      up: CREATE INDEX t_n_idx ON t (n)
EOF
expect_exit 3 mg --dir "$MIGDIR" apply --online
assert_contains "$ERR" "create-index-not-concurrent"
assert_contains "$ERR" "refuses unsafe steps"
assert_eq "f f" "$(sql "SELECT concat_ws(' ', to_regclass('t_name_idx') IS NOT NULL, to_regclass('t_n_idx') IS NOT NULL)")" \
	"a refused apply ran steps"
assert_eq 0 "$(sql "SELECT count(*) FROM public.schema_migrations")" "a refused apply left history"
# Without --online, apply is the fast path and is not linted.
expect_exit 0 mg --dir "$MIGDIR" apply --dry-run

# Accepted on purpose: reported as accepted, and applied.
write_migration 0001_index.yaml <<'EOF'
operations:
  - create_index: { table: t, name: t_name_idx, columns: [name] }
  - sql:
      up: CREATE INDEX t_n_idx ON t (n)
    unsafe_ok: "t is small and written only by the nightly job"
EOF
expect_exit 0 mg --dir "$MIGDIR" lint
assert_contains "$OUT" "accepted [create-index-not-concurrent]"
assert_contains "$OUT" "accepted: t is small and written only by the nightly job"
expect_exit 0 mg --dir "$MIGDIR" apply --online
assert_eq "t t" "$(sql "SELECT concat_ws(' ', to_regclass('t_name_idx') IS NOT NULL, to_regclass('t_n_idx') IS NOT NULL)")"

# convert: plain SQL becomes online operations; the file validates and applies.
conv=$TMP/conv
mkdir -p "$conv"
cat >"$TMP/change.sql" <<'EOF'
BEGIN;
ALTER TABLE t ADD COLUMN status text NOT NULL DEFAULT 'new';
CREATE INDEX t_status_idx ON t (status);
ALTER TABLE t ADD CONSTRAINT t_n_positive CHECK (n > 0);
ALTER TABLE t ALTER COLUMN name TYPE varchar(200);
COMMENT ON TABLE t IS 'converted';
COMMIT;
EOF
expect_exit 0 "$MIGRATE" convert "$TMP/change.sql" -o "$conv/0002_change.yaml"
expect_exit 0 "$MIGRATE" --dir "$conv" validate
conv_yaml=$(cat "$conv/0002_change.yaml")
for op in add_column create_index add_constraint alter_column comment; do
	assert_contains "$conv_yaml" "- $op:" "convert did not map to $op"
done
expect_exit 0 mg --dir "$conv" lint
expect_exit 0 mg --dir "$conv" apply --online
assert_eq "t t t converted" "$(sql "SELECT concat_ws(' ', to_regclass('t_status_idx') IS NOT NULL,
	(SELECT convalidated FROM pg_constraint WHERE conname = 't_n_positive'),
	(SELECT format_type(atttypid, atttypmod) = 'character varying(200)' FROM pg_attribute
	 WHERE attrelid = 't'::regclass AND attname = 'name'),
	obj_description('t'::regclass))")"
# A statement PostgreSQL cannot parse is a usage error with its position.
printf 'SELECT 1;\nALTER TABLE t ADD COLUMNN x int;\n' >"$TMP/bad.sql"
expect_exit 2 "$MIGRATE" convert "$TMP/bad.sql"
assert_contains "$ERR" "bad.sql:2:"
