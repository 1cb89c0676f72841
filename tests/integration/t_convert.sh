#!/usr/bin/env bash
# it-timeout: 240
# convert over a SQL migration that holds every statement it maps to an
# operation (types, tables with named inline constraints and an exclusion
# constraint, indexes with their elements, views, materialized views and
# their indexes and refreshes, comments, roles, grants, replica identity,
# RLS and policies, partitioned tables with their partitions, attach and
# detach, and drops of objects that exist): the file validates, lints
# clean, and has no sql operation; apply --online and finalize give the
# schema and rows that psql gives running the SQL itself; rollback gives
# back the database as it was, and apply again works.  Then the same with
# names that hold dots, quotes, capitals and blanks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/exact_lib.sh"

# Roles belong to the cluster, which the tests share: names of this run only.
r=conv_r_$$
a=conv_a_$$
cleanup_roles()
{
	psql -XAtq -d "host=$PGHOST port=$PGPORT dbname=postgres user=postgres" \
		-c "DROP ROLE IF EXISTS $a; DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true
}
trap 'cleanup_roles; lib_cleanup' EXIT

# What exists before the migration: what it drops, detaches, refreshes, alters.
base()
{
	sql "CREATE EXTENSION IF NOT EXISTS btree_gist;
	CREATE TABLE legacy (id bigint PRIMARY KEY, note text);
	GRANT SELECT ON legacy TO PUBLIC;
	INSERT INTO legacy SELECT g, 'n' || g FROM generate_series(1, 50) g;
	CREATE VIEW legacy_view AS SELECT id FROM legacy;
	CREATE MATERIALIZED VIEW legacy_mv AS SELECT id, note FROM legacy;
	CREATE UNIQUE INDEX legacy_mv_id ON legacy_mv (id);
	CREATE TYPE legacy_kind AS ENUM ('x', 'y');
	ALTER TABLE legacy ENABLE ROW LEVEL SECURITY;
	CREATE POLICY legacy_all ON legacy USING (true);
	CREATE TABLE events (id int, kind text) PARTITION BY LIST (kind);
	CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
	CREATE TABLE events_b (id int, kind text);
	INSERT INTO events VALUES (1, 'a'), (2, 'a');
	INSERT INTO events_b VALUES (3, 'b');
	INSERT INTO legacy VALUES (51, 'late')" >/dev/null
}

cat >"$TMP/change.sql" <<EOF
BEGIN;
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TYPE mood ADD VALUE 'happy' AFTER 'ok';
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE rooms (id bigint PRIMARY KEY, name text NOT NULL CONSTRAINT rooms_name_key UNIQUE,
  code text CONSTRAINT rooms_code_len CHECK (length(code) < 10), m mood DEFAULT 'ok');
CREATE TABLE bookings (
  id bigint PRIMARY KEY,
  room_id bigint CONSTRAINT bookings_room_fk REFERENCES rooms (id) ON DELETE CASCADE,
  during tstzrange NOT NULL,
  CONSTRAINT no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&) WHERE (id > 0)
);
ALTER TABLE rooms ADD CONSTRAINT rooms_code_excl EXCLUDE USING gist (code WITH =);
ALTER TABLE bookings ADD CONSTRAINT bookings_id_key UNIQUE (id) INCLUDE (room_id);
CREATE INDEX rooms_recent ON rooms (name DESC NULLS LAST, lower(code) text_pattern_ops) INCLUDE (id) WITH (fillfactor = 70) WHERE id > 10;
CREATE INDEX rooms_name_c ON rooms (name COLLATE "C", code text_pattern_ops);
CREATE UNIQUE INDEX rooms_code_nnd ON rooms (code) NULLS NOT DISTINCT;
CREATE INDEX ON rooms (m) INCLUDE (code);
CREATE UNIQUE INDEX ON bookings (room_id, id);
CREATE VIEW room_names AS SELECT id, name FROM rooms WHERE id > 0 WITH LOCAL CHECK OPTION;
CREATE OR REPLACE VIEW room_names AS SELECT id, name FROM rooms WHERE id > 1 WITH LOCAL CHECK OPTION;
CREATE VIEW invoker WITH (security_invoker = true) AS SELECT id FROM legacy;
DROP VIEW legacy_view;
CREATE MATERIALIZED VIEW room_counts AS SELECT room_id, count(*) AS n FROM bookings GROUP BY room_id WITH NO DATA;
CREATE UNIQUE INDEX room_counts_room ON room_counts (room_id);
CREATE INDEX room_counts_n ON room_counts (n DESC);
REFRESH MATERIALIZED VIEW room_counts;
REFRESH MATERIALIZED VIEW CONCURRENTLY room_counts;
REFRESH MATERIALIZED VIEW legacy_mv;
CREATE MATERIALIZED VIEW notes AS SELECT note FROM legacy;
DROP TYPE legacy_kind;
COMMENT ON TABLE rooms IS 'the rooms';
COMMENT ON COLUMN rooms.name IS 'its name';
COMMENT ON CONSTRAINT no_overlap ON bookings IS 'no double booking';
COMMENT ON INDEX rooms_recent IS 'recent';
COMMENT ON INDEX rooms_recent IS NULL;
COMMENT ON VIEW room_names IS 'names';
COMMENT ON MATERIALIZED VIEW room_counts IS 'counts';
COMMENT ON TYPE mood IS 'moods';
CREATE ROLE $r NOLOGIN;
CREATE ROLE $a LOGIN NOINHERIT IN ROLE $r;
GRANT SELECT, INSERT ON rooms, bookings TO $r;
GRANT USAGE ON SCHEMA public TO $a;
REVOKE INSERT ON bookings FROM $r;
GRANT ALL ON TABLE room_names TO PUBLIC;
GRANT SELECT ON legacy TO $r;
ALTER TABLE rooms REPLICA IDENTITY FULL;
ALTER TABLE bookings REPLICA IDENTITY USING INDEX bookings_pkey;
ALTER TABLE legacy REPLICA IDENTITY FULL;
ALTER TABLE rooms ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY rooms_read ON rooms FOR SELECT TO $r USING (id > 0);
CREATE POLICY rooms_write ON rooms AS RESTRICTIVE FOR INSERT WITH CHECK (name <> '');
CREATE POLICY legacy_read ON legacy FOR SELECT TO $r, $a USING (note IS NOT NULL);
DROP POLICY legacy_all ON legacy;
CREATE TABLE sales (id bigint, day date NOT NULL, amount numeric(10,2), PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE TABLE sales_2026_01 PARTITION OF sales FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE sales_2026_02 PARTITION OF sales FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE sales_default PARTITION OF sales DEFAULT;
CREATE TABLE tags (id int, kind text) PARTITION BY LIST (kind);
CREATE TABLE tags_ab PARTITION OF tags FOR VALUES IN ('a', 'b');
CREATE TABLE tags_none PARTITION OF tags FOR VALUES IN (NULL);
CREATE TABLE h (id int) PARTITION BY HASH (id);
CREATE TABLE h_p0 PARTITION OF h FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE h_p1 PARTITION OF h FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE ranges (id int, at date) PARTITION BY RANGE (id, at);
CREATE TABLE ranges_low PARTITION OF ranges FOR VALUES FROM (MINVALUE, MINVALUE) TO (10, '2026-01-01');
ALTER TABLE events ATTACH PARTITION events_b FOR VALUES IN ('b');
ALTER TABLE legacy ENABLE ROW LEVEL SECURITY;
ALTER TABLE legacy FORCE ROW LEVEL SECURITY;
COMMIT;
ALTER TABLE events DETACH PARTITION events_a CONCURRENTLY;
EOF
# NULLS NOT DISTINCT and security_invoker came with PostgreSQL 15
version=$(server_version_num) || fail "server_version_num"
if [ "$version" -lt 150000 ]; then
	sed -i '/NULLS NOT DISTINCT/d; /security_invoker/d' "$TMP/change.sql" || fail "sed of change.sql"
fi

# What psql makes of it, on a database of its own; then its roles go.
new_db
base
expect_exit 0 psql -XAtq -v ON_ERROR_STOP=1 -d "$DB_URL" -f "$TMP/change.sql"
by_psql=$(db_snapshot) || fail "db_snapshot after psql"
[ -n "$by_psql" ] || fail "empty snapshot"
dropdb "$DB_NAME" || fail "dropdb $DB_NAME"
cleanup_roles
assert_eq 0 "$(sql "SELECT count(*) FROM pg_roles WHERE rolname IN ('$r', '$a')" \
	"host=$PGHOST port=$PGPORT dbname=postgres user=postgres")" "the roles are gone"

# The conversion: every statement an operation, none left as SQL.
conv=$TMP/conv
mkdir -p "$conv"
expect_exit 0 "$MIGRATE" convert "$TMP/change.sql" -o "$conv/0001_change.yaml"
yaml=$(cat "$conv/0001_change.yaml")
assert_not_contains "$yaml" "- sql:" "a statement stayed SQL"
for op in create_type create_table add_constraint create_index create_view replace_view \
	drop_view create_materialized_view refresh_materialized_view drop_type comment \
	create_role grant revoke set_replica_identity enable_rls create_policy drop_policy \
	attach_partition detach_partition; do
	assert_contains "$yaml" "- $op:" "convert did not map to $op"
done
assert_contains "$yaml" 'enum: ["sad", "meh", "ok", "happy"]' "ADD VALUE folded into create_type"
assert_contains "$yaml" 'partitions: {every: "1 month", from: "2026-01-01", to: "2026-03-01", default: true}' \
	"monthly partitions in the generated form"
assert_contains "$yaml" 'partitions: {modulus: 2}' "hash partitions in the generated form"
# each statement's line, in a comment
for n in $(seq 1 "$(wc -l <"$TMP/change.sql")"); do
	line=$(sed -n "${n}p" "$TMP/change.sql")
	case "$line" in
		CREATE* | ALTER* | DROP* | COMMENT* | GRANT* | REVOKE* | REFRESH*)
			assert_contains "$yaml" "# line $n: " "line $n has its comment" ;;
	esac
done

new_db
base
before=$(db_snapshot) || fail "db_snapshot before"
expect_exit 0 mg --dir "$conv" validate
expect_exit 0 mg --dir "$conv" lint
assert_contains "$OUT" "0 unsafe, 0 accepted, 0 warnings"
expect_exit 0 "$MIGRATE" --dir "$conv" lint
expect_exit 0 mg --dir "$conv" apply --online
assert_eq 2 "$(sql "SELECT count(*) FROM pg_roles WHERE rolname IN ('$r', '$a')")" "the roles were made"
# back to before, exactly; the roles this migration made are gone again
expect_exit 0 mg --dir "$conv" rollback --to 0
assert_same_snapshot "$before" "rollback"
assert_eq 0 "$(sql "SELECT count(*) FROM pg_roles WHERE rolname IN ('$r', '$a')")" \
	"rollback dropped the roles it made"
# again, to the end: what psql made
expect_exit 0 mg --dir "$conv" apply --online
expect_exit 0 mg --dir "$conv" finalize --yes
assert_same_snapshot "$by_psql" "apply --online and finalize against psql"
assert_eq "$(sql "SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = '$a'")" "t|f" "the login role"
assert_eq 1 "$(sql "SELECT count(*) FROM pg_auth_members WHERE roleid = '$r'::regrole
	AND member = '$a'::regrole")" "IN ROLE"

# Hostile names (dots, quotes, capitals, blanks): the same schema as psql's,
# and rollback gives back the one before.
hostile_base()
{
	sql 'CREATE SCHEMA "s.x"' >/dev/null
}
sed 1,2d tests/unit/fixtures/convert/hostile.sql >"$TMP/hostile.sql"
new_db
hostile_base
expect_exit 0 psql -XAtq -v ON_ERROR_STOP=1 -d "$DB_URL" -f "$TMP/hostile.sql"
by_psql=$(db_snapshot) || fail "db_snapshot after psql"
hostile=$TMP/hostile
mkdir -p "$hostile"
expect_exit 0 "$MIGRATE" convert "$TMP/hostile.sql" -o "$hostile/0001_hostile.yaml"
assert_not_contains "$(cat "$hostile/0001_hostile.yaml")" "- sql:" "a statement stayed SQL"
new_db
hostile_base
before=$(db_snapshot) || fail "db_snapshot before"
expect_exit 0 mg --dir "$hostile" lint
assert_contains "$OUT" "0 unsafe, 0 accepted, 0 warnings"
expect_exit 0 mg --dir "$hostile" apply --online
expect_exit 0 mg --dir "$hostile" rollback --to 0
assert_same_snapshot "$before" "hostile names: rollback"
expect_exit 0 mg --dir "$hostile" apply --online
expect_exit 0 mg --dir "$hostile" finalize --yes
assert_same_snapshot "$by_psql" "hostile names: apply --online and finalize against psql"
echo "t_convert: ok"
