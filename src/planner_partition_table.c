/*
 * planner_partition_table.c: partition_table, a live table made partitioned
 * online (migrate(1), OPERATIONS):
 *
 *   1. a partitioned twin with the table's columns in their order, defaults,
 *      identity, NOT NULL and CHECK constraints, keys (extended with the
 *      partition columns, as PostgreSQL requires), indexes built on the
 *      empty twin, foreign keys, grants (the columns' too), RLS and
 *      policies, comments;
 *   2. a trigger on the table that applies every insert, update and delete
 *      to the twin in the same transaction;
 *   3. the rows copied in batches by the backfill engine (resumable);
 *   4. a check, range of keys by range, that the twin holds exactly the
 *      table's rows (counts and checksums);
 *   5. a swap under a short lock: names exchanged, sequences owned by the
 *      new table, views and the foreign keys that point at the table
 *      re-pointed (NOT VALID, then validated), the table's own triggers
 *      moved, and a trigger that keeps the old table in step in reverse;
 *   6. finalize drops the old table.
 *
 * The work that reads the table's definition runs in the database, in
 * helpers of schema migrate, so that a plan made without a database is the
 * plan that runs.  Rollback before finalize swaps back; the old table has
 * every write made since, through the reverse trigger.
 */
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

#include "partition.h"

/* ---- the helpers, in schema migrate ---- */

/*
 * The name of the twin's copy of an index or key X, for the swap to give
 * each the other's name: X_partitioned, cut to 63 bytes.
 */
static const char *const shadow_name_fn =
"CREATE OR REPLACE FUNCTION migrate.pt_shadow_name(x text)\n"
"RETURNS text LANGUAGE sql IMMUTABLE AS $fn$ SELECT left(x, 51) || '_partitioned' $fn$";

/* The partitioned twin of source, without its partitions. */
static const char *const create_twin_fn =
"CREATE OR REPLACE FUNCTION migrate.pt_create_twin(source regclass, twin text, "
"partition_by text, part_columns text[])\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    r record;\n"
"    cols text[];\n"
"    target regclass;\n"
"BEGIN\n"
"    IF NOT EXISTS (SELECT FROM pg_index WHERE indrelid = source AND indisprimary) THEN\n"
"        RAISE EXCEPTION 'table % has no primary key: partition_table copies and checks its rows by it', source;\n"
"    END IF;\n"
"    FOR r IN SELECT c.conname, c.conrelid::regclass AS child, c.confkey FROM pg_constraint c\n"
"             WHERE c.confrelid = source AND c.contype = 'f' AND c.conparentid = 0 LOOP\n"
"        SELECT array_agg(a.attname::text) INTO cols FROM pg_attribute a\n"
"        WHERE a.attrelid = source AND a.attnum = ANY (r.confkey);\n"
"        IF NOT part_columns <@ cols THEN\n"
"            RAISE EXCEPTION 'foreign key % of % points at % by (%), which lacks the partition column(s) %',\n"
"                r.conname, r.child, source, array_to_string(cols, ', '), array_to_string(part_columns, ', ')\n"
"                USING HINT = 'PostgreSQL points a foreign key at a partitioned table only by a key that holds the partition columns';\n"
"        END IF;\n"
"    END LOOP;\n"
"    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS '\n"
"                   'INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS '\n"
"                   'INCLUDING STATISTICS INCLUDING COMPRESSION) PARTITION BY %s', twin, source, partition_by);\n"
"    target := twin::regclass;\n"
"    -- keys, extended with the partition columns they lack\n"
"    FOR r IN SELECT c.conname::text AS conname, c.contype, c.conkey FROM pg_constraint c\n"
"             WHERE c.conrelid = source AND c.contype IN ('p', 'u') ORDER BY c.contype, c.conname LOOP\n"
"        SELECT array_agg(a.attname::text ORDER BY k.ord) INTO cols\n"
"        FROM unnest(r.conkey) WITH ORDINALITY AS k(attnum, ord)\n"
"        JOIN pg_attribute a ON a.attrelid = source AND a.attnum = k.attnum;\n"
"        cols := cols || ARRAY(SELECT p FROM unnest(part_columns) AS p WHERE p <> ALL (cols));\n"
"        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s (%s)', target, migrate.pt_shadow_name(r.conname),\n"
"            CASE r.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,\n"
"            (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) AS c));\n"
"    END LOOP;\n"
"    -- the other indexes, built on the empty twin\n"
"    FOR r IN SELECT i.indisunique, x.relname::text AS name, pg_get_indexdef(i.indexrelid) AS def\n"
"             FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid\n"
"             WHERE i.indrelid = source AND NOT EXISTS (SELECT FROM pg_constraint c\n"
"                 WHERE c.conindid = i.indexrelid AND c.conrelid = source) ORDER BY i.indexrelid LOOP\n"
"        EXECUTE format('CREATE %sINDEX %I ON %s USING %s', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,\n"
"            migrate.pt_shadow_name(r.name), target, substr(r.def, strpos(r.def, ' USING ') + 7));\n"
"    END LOOP;\n"
"    FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint\n"
"             WHERE conrelid = source AND contype = 'f' ORDER BY conname LOOP\n"
"        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', target, r.conname, r.def);\n"
"    END LOOP;\n"
"    FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) AS a\n"
"             WHERE c.oid = source AND a.grantee <> c.relowner LOOP\n"
"        EXECUTE format('GRANT %s ON %s TO %s%s', r.privilege_type, target,\n"
"            CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,\n"
"            CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);\n"
"    END LOOP;\n"
"    -- the columns' own privileges\n"
"    FOR r IN SELECT c.attname, a.grantee, a.privilege_type, a.is_grantable FROM pg_attribute c, aclexplode(c.attacl) AS a\n"
"             WHERE c.attrelid = source AND c.attnum > 0 AND NOT c.attisdropped LOOP\n"
"        EXECUTE format('GRANT %s (%I) ON %s TO %s%s', r.privilege_type, r.attname, target,\n"
"            CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,\n"
"            CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);\n"
"    END LOOP;\n"
"    IF (SELECT relrowsecurity FROM pg_class WHERE oid = source) THEN\n"
"        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);\n"
"    END IF;\n"
"    IF (SELECT relforcerowsecurity FROM pg_class WHERE oid = source) THEN\n"
"        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);\n"
"    END IF;\n"
"    FOR r IN SELECT p.polname, p.polpermissive, p.polcmd, p.polroles,\n"
"                    pg_get_expr(p.polqual, p.polrelid) AS qual, pg_get_expr(p.polwithcheck, p.polrelid) AS chk\n"
"             FROM pg_policy p WHERE p.polrelid = source ORDER BY p.polname LOOP\n"
"        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', r.polname, target,\n"
"            CASE WHEN r.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,\n"
"            CASE r.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'\n"
"                WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,\n"
"            (SELECT string_agg(CASE WHEN x = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x)) END, ', ')\n"
"             FROM unnest(r.polroles) AS x),\n"
"            ' USING (' || r.qual || ')', ' WITH CHECK (' || r.chk || ')');\n"
"    END LOOP;\n"
"    EXECUTE format('COMMENT ON TABLE %s IS %L', target, obj_description(source, 'pg_class'));\n"
"    IF (SELECT relowner FROM pg_class WHERE oid = source) <> (SELECT relowner FROM pg_class WHERE oid = target) THEN\n"
"        EXECUTE format('ALTER TABLE %s OWNER TO %I', target,\n"
"            (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = source));\n"
"    END IF;\n"
"END\n"
"$fn$";

/*
 * A trigger function migrate.<fname>() that applies each row's change to
 * target: the old row deleted by key, the new one upserted.  An update
 * that moves a row to another partition is a delete and an insert there.
 */
static const char *const sync_function_fn =
"CREATE OR REPLACE FUNCTION migrate.pt_sync_function(fname text, target regclass, key text[])\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    target_key text[] := migrate.primary_key_columns(target);\n"
"    cols text;\n"
"    news text;\n"
"    sets text;\n"
"    matches text;\n"
"BEGIN\n"
"    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),\n"
"           string_agg('NEW.' || quote_ident(attname), ', ' ORDER BY attnum),\n"
"           string_agg(CASE WHEN attname <> ALL (target_key) AND attidentity <> 'a'\n"
"                           THEN format('%I = EXCLUDED.%I', attname, attname) END,\n"
"                      ', ' ORDER BY attnum)\n"
"    INTO cols, news, sets FROM pg_attribute\n"
"    WHERE attrelid = target AND attnum > 0 AND NOT attisdropped AND attgenerated = '';\n"
"    SELECT string_agg(format('%I = OLD.%I', c, c), ' AND ') INTO matches FROM unnest(key) AS c;\n"
"    EXECUTE format($f$CREATE OR REPLACE FUNCTION migrate.%I() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
"BEGIN\n"
"    IF TG_OP IN ('UPDATE', 'DELETE') THEN\n"
"        DELETE FROM %s WHERE %s;\n"
"    END IF;\n"
"    IF TG_OP IN ('INSERT', 'UPDATE') THEN\n"
"        INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE VALUES (%s) ON CONFLICT (%s) DO %s;\n"
"    END IF;\n"
"    RETURN NULL;\n"
"END\n"
"$body$$f$, fname, target, matches, target, cols, news,\n"
"        (SELECT string_agg(quote_ident(c), ', ') FROM unnest(target_key) AS c),\n"
"        CASE WHEN sets IS NULL THEN 'NOTHING' ELSE 'UPDATE SET ' || sets END);\n"
"END\n"
"$fn$";

/* Every row of source into target, in one statement (the plain strategy). */
static const char *const copy_fn =
"CREATE OR REPLACE FUNCTION migrate.pt_copy(source regclass, target regclass)\n"
"RETURNS bigint LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    cols text;\n"
"    n bigint;\n"
"BEGIN\n"
"    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute\n"
"    WHERE attrelid = target AND attnum > 0 AND NOT attisdropped AND attgenerated = '';\n"
"    EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s ON CONFLICT DO NOTHING',\n"
"        target, cols, cols, source);\n"
"    GET DIAGNOSTICS n = ROW_COUNT;\n"
"    RETURN n;\n"
"END\n"
"$fn$";

/*
 * Compares source and target range of keys by range (batch rows each, its
 * own transaction): the count and a checksum of the rows, read in one
 * statement, so under one snapshot of both.
 */
static const char *const verify_proc =
"CREATE OR REPLACE PROCEDURE migrate.pt_verify(source regclass, target regclass, batch integer)\n"
"LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    key text[] := migrate.primary_key_columns(source);\n"
"    types text[];\n"
"    k text;\n"
"    cols text;\n"
"    lo text[];\n"
"    hi text[];\n"
"    lo_cond text;\n"
"    hi_cond text;\n"
"    sn bigint;\n"
"    tn bigint;\n"
"    sh numeric;\n"
"    th numeric;\n"
"BEGIN\n"
"    SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord) INTO types\n"
"    FROM unnest(key) WITH ORDINALITY AS k(name, ord) JOIN pg_attribute a ON a.attrelid = source AND a.attname = k.name;\n"
"    k := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(key) AS c);\n"
"    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute\n"
"    WHERE attrelid = source AND attnum > 0 AND NOT attisdropped;\n"
"    LOOP\n"
"        lo_cond := CASE WHEN lo IS NULL THEN 'true' ELSE format('(%s) > (%s)', k,\n"
"            (SELECT string_agg(format('%L::%s', lo[i], types[i]), ', ') FROM generate_subscripts(key, 1) AS i)) END;\n"
"        EXECUTE format('SELECT ARRAY[%s] FROM %s WHERE %s ORDER BY %s OFFSET %s LIMIT 1',\n"
"            (SELECT string_agg(quote_ident(c) || '::text', ', ') FROM unnest(key) AS c), source, lo_cond, k, batch - 1)\n"
"            INTO hi;\n"
"        hi_cond := CASE WHEN hi IS NULL THEN 'true' ELSE format('(%s) <= (%s)', k,\n"
"            (SELECT string_agg(format('%L::%s', hi[i], types[i]), ', ') FROM generate_subscripts(key, 1) AS i)) END;\n"
"        EXECUTE format('SELECT s.n, s.h, t.n, t.h FROM '\n"
"                       '(SELECT count(*) AS n, coalesce(sum(hashtextextended(x::text, 0)), 0) AS h '\n"
"                       'FROM (SELECT %s FROM %s WHERE %s AND %s) AS x) AS s, '\n"
"                       '(SELECT count(*) AS n, coalesce(sum(hashtextextended(x::text, 0)), 0) AS h '\n"
"                       'FROM (SELECT %s FROM %s WHERE %s AND %s) AS x) AS t',\n"
"            cols, source, lo_cond, hi_cond, cols, target, lo_cond, hi_cond) INTO sn, sh, tn, th;\n"
"        IF sn <> tn OR sh <> th THEN\n"
"            RAISE EXCEPTION 'the rows of % and % differ where % and %: % rows (checksum %) and % rows (checksum %)',\n"
"                source, target, lo_cond, hi_cond, sn, sh, tn, th\n"
"                USING HINT = 'nothing was swapped; rollback drops the copy';\n"
"        END IF;\n"
"        COMMIT;\n"
"        EXIT WHEN hi IS NULL;\n"
"        lo := hi;\n"
"    END LOOP;\n"
"END\n"
"$fn$";

/*
 * a gives its name to b: the views over a and the foreign keys that point
 * at it are pointed at b (NOT VALID), a's sequences and identity go on in
 * b, a's own triggers are disabled and b has them enabled.  Both ways: the
 * swap and the swap back.
 */
static const char *const swap_fn =
"CREATE OR REPLACE FUNCTION migrate.pt_swap(a regclass, a_to text, b regclass, b_to text)\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    r record;\n"
"    views text[] := '{}';\n"
"    view_defs text[] := '{}';\n"
"    view_opts text[] := '{}';\n"
"    fk_tables text[] := '{}';\n"
"    fk_names text[] := '{}';\n"
"    fk_defs text[] := '{}';\n"
"    trig_names text[] := '{}';\n"
"    trig_defs text[] := '{}';\n"
"    i integer;\n"
"BEGIN\n"
"    -- what names a, as it reads now: afterwards the name is b's\n"
"    FOR r IN SELECT DISTINCT v.oid::regclass::text AS view, pg_get_viewdef(v.oid) AS def,\n"
"                    array_to_string(v.reloptions, ', ') AS options\n"
"             FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class\n"
"             WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass\n"
"               AND d.refobjid = a AND v.oid <> a AND v.relkind = 'v' LOOP\n"
"        views := views || r.view;\n"
"        view_defs := view_defs || r.def;\n"
"        view_opts := view_opts || coalesce(r.options, '');\n"
"    END LOOP;\n"
"    FOR r IN SELECT c.conrelid::regclass::text AS child, c.conname, pg_get_constraintdef(c.oid) AS def\n"
"             FROM pg_constraint c WHERE c.confrelid = a AND c.contype = 'f' AND c.conparentid = 0\n"
"               AND c.conrelid <> b LOOP\n"
"        fk_tables := fk_tables || r.child;\n"
"        fk_names := fk_names || r.conname::text;\n"
"        fk_defs := fk_defs || regexp_replace(r.def, ' NOT VALID$', '');\n"
"    END LOOP;\n"
"    FOR r IN SELECT t.tgname, pg_get_triggerdef(t.oid) AS def FROM pg_trigger t\n"
"             WHERE t.tgrelid = a AND NOT t.tgisinternal AND t.tgname NOT LIKE 'migrate\\_%' LOOP\n"
"        trig_names := trig_names || r.tgname::text;\n"
"        trig_defs := trig_defs || r.def;\n"
"    END LOOP;\n"
"    FOR i IN 1 .. coalesce(array_length(fk_names, 1), 0) LOOP\n"
"        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk_tables[i], fk_names[i]);\n"
"    END LOOP;\n"
"    EXECUTE format('ALTER TABLE %s RENAME TO %I', a, a_to);\n"
"    EXECUTE format('ALTER TABLE %s RENAME TO %I', b, b_to);\n"
"    -- each index of a and its copy on b exchange names\n"
"    FOR r IN SELECT c.relname::text AS x, c.relnamespace::regnamespace::text AS nsp FROM pg_index i\n"
"             JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = a LOOP\n"
"        IF EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid\n"
"                   WHERE i.indrelid = b AND c.relname = migrate.pt_shadow_name(r.x)) THEN\n"
"            EXECUTE format('ALTER INDEX %s.%I RENAME TO migrate_pt_swapping', r.nsp, r.x);\n"
"            EXECUTE format('ALTER INDEX %s.%I RENAME TO %I', r.nsp, migrate.pt_shadow_name(r.x), r.x);\n"
"            EXECUTE format('ALTER INDEX %s.migrate_pt_swapping RENAME TO %I', r.nsp, migrate.pt_shadow_name(r.x));\n"
"        END IF;\n"
"    END LOOP;\n"
"    FOR r IN SELECT d.objid::regclass AS seq, att.attname FROM pg_depend d\n"
"             JOIN pg_attribute att ON att.attrelid = d.refobjid AND att.attnum = d.refobjsubid\n"
"             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'\n"
"             WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass\n"
"               AND d.refobjid = a AND d.deptype = 'a' LOOP\n"
"        EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, b, r.attname);\n"
"    END LOOP;\n"
"    FOR r IN SELECT attname FROM pg_attribute WHERE attrelid = b AND attidentity <> '' AND NOT attisdropped LOOP\n"
"        EXECUTE format('SELECT setval(%L, greatest((SELECT last_value FROM %s), (SELECT last_value FROM %s)))',\n"
"            pg_get_serial_sequence(b::text, r.attname), pg_get_serial_sequence(a::text, r.attname),\n"
"            pg_get_serial_sequence(b::text, r.attname));\n"
"    END LOOP;\n"
"    FOR i IN 1 .. coalesce(array_length(views, 1), 0) LOOP\n"
"        EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', views[i],\n"
"            CASE WHEN view_opts[i] <> '' THEN ' WITH (' || view_opts[i] || ')' ELSE '' END,\n"
"            rtrim(view_defs[i], ';'));\n"
"    END LOOP;\n"
"    FOR i IN 1 .. coalesce(array_length(fk_names, 1), 0) LOOP\n"
"        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', fk_tables[i], fk_names[i], fk_defs[i]);\n"
"    END LOOP;\n"
"    FOR i IN 1 .. coalesce(array_length(trig_names, 1), 0) LOOP\n"
"        EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', a, trig_names[i]);\n"
"        IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = b AND tgname = trig_names[i]) THEN\n"
"            EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', b, trig_names[i]);\n"
"        ELSE\n"
"            EXECUTE trig_defs[i];\n"
"        END IF;\n"
"    END LOOP;\n"
"END\n"
"$fn$";

/* VALIDATE the foreign keys that point at target and are not valid yet. */
static const char *const validate_fks_fn =
"CREATE OR REPLACE FUNCTION migrate.pt_validate_fks(target regclass)\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    r record;\n"
"BEGIN\n"
"    FOR r IN SELECT conrelid::regclass AS child, conname FROM pg_constraint\n"
"             WHERE confrelid = target AND contype = 'f' AND NOT convalidated AND conparentid = 0 LOOP\n"
"        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.child, r.conname);\n"
"    END LOOP;\n"
"END\n"
"$fn$";

/* ---- names and conditions ---- */

typedef struct PtNames
{
	const char *table;			/* as written */
	char	   *rel;			/* its relation name */
	char	   *twin;			/* the partitioned twin, before the swap */
	char	   *old;			/* the old table, after the swap */
	char	   *twin_rel;
	char	   *old_rel;
	char	   *fwd;			/* trigger and function: table -> twin */
	char	   *rev;			/* new table -> old table */
	char	   *swapped;		/* SQL: the swap happened */
	char	   *part_columns;	/* SQL: ARRAY['a', ...] */
	char	   *partition_by;	/* "RANGE (a)" */
} PtNames;

static void
pt_names(PlanCtx *pc, const char *table, const Partitioning *by, PtNames *n)
{
	char	   *schema;
	Buf			b;

	n->table = table;
	split_qualified(table, &schema, &n->rel);
	free(schema);
	n->twin_rel = derived_name(table, NULL, "partitioned");
	n->old_rel = derived_name(table, NULL, "unpartitioned");
	n->twin = sibling_name(table, n->twin_rel);
	n->old = sibling_name(table, n->old_rel);
	n->fwd = object_name(pc, "migrate_pt_fwd", 0);
	n->rev = object_name(pc, "migrate_pt_rev", 0);
	n->swapped = sql_format("(EXISTS (SELECT FROM pg_class WHERE oid = to_regclass(%R) AND relkind = 'p') "
							"AND to_regclass(%R) IS NOT NULL)", table, n->old);
	buf_init(&b);
	buf_puts(&b, "ARRAY[");
	for (size_t i = 0; i < by->columns.n; i++)
		sql_append(&b, "%s%L", i > 0 ? ", " : "", by->columns.items[i]);
	buf_puts(&b, "]::text[]");
	n->part_columns = buf_detach(&b);
	buf_init(&b);
	partition_by_sql(&b, by->method, &by->columns);
	n->partition_by = buf_detach(&b);
}

static void
pt_names_free(PtNames *n)
{
	free(n->rel);
	free(n->twin);
	free(n->old);
	free(n->twin_rel);
	free(n->old_rel);
	free(n->fwd);
	free(n->rev);
	free(n->swapped);
	free(n->part_columns);
	free(n->partition_by);
}

/* The statements that make trigger fname on table apply its writes to target. */
static void
append_sync_trigger(Buf *b, const char *fname, const char *table, const char *target,
					const char *key_of)
{
	sql_append(b, "PERFORM migrate.pt_sync_function(%L, %R::regclass, "
			   "migrate.primary_key_columns(%R::regclass)); ", fname, target, key_of);
	sql_append(b, "CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %Q "
			   "FOR EACH ROW EXECUTE FUNCTION migrate.%I(); ", fname, table, fname);
}

/* "12 MB" */
static char *
human_bytes(int64_t bytes)
{
	static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB"};
	double		v = (double) bytes;
	int			u = 0;

	while (v >= 1024.0 && u < 4)
	{
		v /= 1024.0;
		u++;
	}
	return u == 0 ? xasprintf("%lld bytes", (long long) bytes) : xasprintf("%.1f %s", v, units[u]);
}

/* What the copy needs on disk: the table and its indexes again; 2.5× kept free. */
static char *
space_needed(PlanCtx *pc, const char *table)
{
	int64_t		t,
				ix;
	char	   *a,
			   *b,
			   *c,
			   *d,
			   *text;

	if (pc->cat == NULL || !catalog_relation_sizes(pc->cat, table, &t, &ix))
		return xstrdup("space: as much again as the table and its indexes; keep 2.5 times "
					   "their size free");
	a = human_bytes(t);
	b = human_bytes(ix);
	c = human_bytes(t + ix);
	d = human_bytes((t + ix) * 5 / 2);
	text = xasprintf("space: table %s + indexes %s = %s more; keep %s (2.5 times) free",
					 a, b, c, d);
	free(a);
	free(b);
	free(c);
	free(d);
	return text;
}

/* The plan's word on the keys, which PostgreSQL makes hold the partition columns. */
static char *
key_warning(PlanCtx *pc, const char *table, const Partitioning *by)
{
	StrList		names = {0};
	StrList		types = {0};
	Error		err = {0};
	Buf			b;
	bool		lacking = false;

	if (pc->cat == NULL || !catalog_primary_key(pc->cat, table, &names, &types, &err))
	{
		error_clear(&err);
		strlist_free(&names);
		strlist_free(&types);
		return sql_format("a primary key or unique constraint of %Q that lacks the partition "
						  "column(s) %C is extended with them on the partitioned table "
						  "(PostgreSQL requires it)", table, &by->columns);
	}
	buf_init(&b);
	sql_append(&b, "the primary key (%C) of %Q becomes (%C", &names, table, &names);
	for (size_t i = 0; i < by->columns.n; i++)
	{
		bool		found = false;

		for (size_t k = 0; k < names.n; k++)
			found = found || strcmp(names.items[k], by->columns.items[i]) == 0;
		if (!found)
		{
			sql_append(&b, ", %I", by->columns.items[i]);
			lacking = true;
		}
	}
	buf_puts(&b, ") on the partitioned table (PostgreSQL requires the partition column in it); "
			 "so do its unique constraints");
	strlist_free(&names);
	strlist_free(&types);
	if (!lacking)
	{
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

bool
plan_partition_table(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.partition_table.table;
	const Partitioning *by = &op->u.partition_table.by;
	GeneratedPartitions gp;
	PtNames		n = {0};
	char	   *k_twin = saved_key(pc, "twin");
	char	   *ours = saved_flag(pc, "twin", NULL);
	char	   *space;
	Buf			body;
	Step	   *s;
	Step	   *undo;

	if (!partition_generate(table, by, &gp, pc->err))
	{
		error_prefix(pc->err, "%s:%d:%d: partition_table", op->pos.file, op->pos.line,
					 op->pos.col);
		free(k_twin);
		free(ours);
		return false;
	}
	pt_names(pc, table, by, &n);
	ensure_migrate_schema(pc);

	/* the helpers */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "create the helpers of partition_table in schema migrate");
	step_sql_primary_key_helper(s);
	step_sql(s, "%s", shadow_name_fn);
	step_sql(s, "%s", create_twin_fn);
	step_sql(s, "%s", sync_function_fn);
	step_sql(s, "%s", copy_fn);
	step_sql(s, "%s", verify_proc);
	step_sql(s, "%s", swap_fn);
	step_sql(s, "%s", validate_fks_fn);

	/* 1: the twin and its partitions */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_SHARE, table,
				 "create %Q, partitioned by %s, with the columns, constraints, indexes, grants "
				 "and policies of %Q, and its %d partitions", n.twin, n.partition_by, table, (int) gp.n);
	s->warning = key_warning(pc, table, by);
	buf_init(&body);
	sql_append(&body, "BEGIN IF NOT %s AND NOT %s THEN PERFORM migrate.pt_create_twin(%R::regclass, %L, %L, %s); ",
			   ours, n.swapped, table, n.twin, n.partition_by, n.part_columns);
	{
		sql_append(&body, "INSERT INTO migrate.saved_objects (version, key, definition) "
				   "VALUES (%D, %L, %R); END IF; END", pc->m->version, k_twin, n.twin);
	}
	strlist_push(&s->sql, do_block(body.data));
	buf_free(&body);
	for (size_t i = 0; i < gp.n; i++)
	{
		Buf			stmt;

		buf_init(&stmt);
		sql_append(&stmt, "CREATE TABLE %Q PARTITION OF %Q ", gp.items[i].name, n.twin);
		partition_bound_sql(&stmt, &gp.items[i].bound);
		{
			char	   *cond = sql_format("to_regclass(%R) IS NULL AND NOT %s", gp.items[i].name,
											  n.swapped);

			step_sql_guarded(s, cond, stmt.data);
			free(cond);
		}
		buf_free(&stmt);
	}
	step_done(s, "SELECT %s OR %s", ours, n.swapped);
	step_owns(s, "table", NULL, n.twin);
	for (size_t i = 0; i < gp.n; i++)
		step_owns(s, "table", NULL, gp.items[i].name);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, n.twin,
					"drop the partitioned copy %Q", n.twin);
	{
		char	   *stmt = sql_format("DROP TABLE IF EXISTS %Q", n.twin);
		char	   *cond = xasprintf("%s AND NOT %s", ours, n.swapped);

		step_sql_guarded(undo, cond, stmt);
		free(cond);
		free(stmt);
	}
	step_done(undo, "SELECT to_regclass(%R) IS NULL", n.twin);
	{
		const char *const whats[] = {"twin", NULL};

		undo_forget_saved(pc, s, whats);
	}

	/* 2: every write to the table goes to the twin too */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_SHARE_ROW_EXCLUSIVE, table,
				 "trigger %I: every insert, update and delete on %Q applied to %Q in the "
				 "same transaction", n.fwd, table, n.twin);
	{
		char	   *exists = sql_trigger_exists(table, n.fwd);

		buf_init(&body);
		sql_append(&body, "BEGIN IF NOT %s AND NOT %s THEN ", exists, n.swapped);
		append_sync_trigger(&body, n.fwd, table, n.twin, table);
		buf_puts(&body, "END IF; END");
		strlist_push(&s->sql, do_block(body.data));
		buf_free(&body);
		step_done(s, "SELECT %s OR %s", exists, n.swapped);
		step_owns(s, "trigger", table, n.fwd);
		{
			char	   *signature = sql_format("migrate.%I()", n.fwd);

			step_owns(s, "function", NULL, signature);
			free(signature);
		}
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_SHARE_ROW_EXCLUSIVE, table,
						"drop trigger %I", n.fwd);
		step_sql(undo, "DROP TRIGGER IF EXISTS %I ON %Q", n.fwd, table);
		step_sql(undo, "DROP FUNCTION IF EXISTS migrate.%I()", n.fwd);
		step_done(undo, "SELECT NOT %s", exists);
		free(exists);
	}

	/* 3: the rows that exist, copied in batches */
	space = space_needed(pc, table);
	s = add_step(pc, NULL, PHASE_BACKFILL, STEP_BACKFILL, LOCK_ROW_EXCLUSIVE, table,
				 "copy the rows of %Q into %Q in batches (%s)", table, n.twin, space);
	free(space);
	s->backfill = xcalloc(1, sizeof(BackfillSpec));
	s->backfill->table = xstrdup(table);
	s->backfill->copy_to = xstrdup(n.twin);
	s->backfill->batch_delay_ms = -1;
	step_sql(s, "SELECT migrate.pt_copy(%R::regclass, %R::regclass)", table, n.twin);
	step_done(s, "SELECT %s", n.swapped);

	/* 4: the twin holds exactly the table's rows */
	s = add_step(pc, NULL, PHASE_VALIDATE, STEP_SQL, LOCK_ACCESS_SHARE, table,
				 "check that %Q holds exactly the rows of %Q (counts and checksums, range of keys "
				 "by range, each its own transaction)", n.twin, table);
	s->in_txn = false;
	step_sql(s, "CALL migrate.pt_verify(%R::regclass, %R::regclass, 10000)", table, n.twin);
	step_done(s, "SELECT %s", n.swapped);

	/* 5: the swap, under a short lock */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "swap: %Q becomes %Q and the partitioned table takes its name; sequences, views "
				 "and the foreign keys that point at it follow; trigger %I keeps %Q in step",
				 table, n.old, n.rev, n.old);
	{
		buf_init(&body);
		sql_append(&body, "BEGIN IF NOT %s THEN LOCK TABLE %Q, %Q IN ACCESS EXCLUSIVE MODE; ",
				   n.swapped, table, n.twin);
		sql_append(&body, "DROP TRIGGER IF EXISTS %I ON %Q; ", n.fwd, table);
		sql_append(&body, "PERFORM migrate.pt_swap(%R::regclass, %L, %R::regclass, %L); ",
				   table, n.old_rel, n.twin, n.rel);
		append_sync_trigger(&body, n.rev, table, n.old, n.old);
		buf_puts(&body, "END IF; END");
		strlist_push(&s->sql, do_block(body.data));
		buf_free(&body);
		step_done(s, "SELECT %s", n.swapped);

		/* swap back: the old table has every write made since */
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"swap back: %Q takes its name again, with every write made since",
						n.old);
		buf_init(&body);
		sql_append(&body, "BEGIN IF %s THEN LOCK TABLE %Q, %Q IN ACCESS EXCLUSIVE MODE; ",
				   n.swapped, table, n.old);
		sql_append(&body, "DROP TRIGGER IF EXISTS %I ON %Q; ", n.rev, table);
		sql_append(&body, "DROP FUNCTION IF EXISTS migrate.%I(); ", n.rev);
		sql_append(&body, "PERFORM migrate.pt_swap(%R::regclass, %L, %R::regclass, %L); ",
				   table, n.twin_rel, n.old, n.rel);
		append_sync_trigger(&body, n.fwd, table, n.twin, table);
		buf_puts(&body, "END IF; END");
		strlist_push(&undo->sql, do_block(body.data));
		buf_free(&body);
		step_done(undo, "SELECT NOT %s", n.swapped);
		undo = add_step(pc, s, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
						"validate the foreign keys that point at %Q again", table);
		step_sql(undo, "SELECT migrate.pt_validate_fks(%R::regclass)", table);
	}

	/* the foreign keys that point at the table, validated without blocking writes */
	s = add_step(pc, NULL, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
				 "validate the foreign keys that point at %Q now", table);
	step_sql(s, "SELECT migrate.pt_validate_fks(%R::regclass)", table);
	step_done(s, "SELECT NOT EXISTS (SELECT FROM pg_constraint WHERE confrelid = to_regclass(%R) "
			  "AND contype = 'f' AND NOT convalidated AND conparentid = 0)", table);

	/* 6: at finalize, the old table goes */
	s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop %Q, the old table, and trigger %I: old code is gone", n.old, n.rev);
	step_sql(s, "DROP TRIGGER IF EXISTS %I ON %Q", n.rev, table);
	step_sql(s, "DROP FUNCTION IF EXISTS migrate.%I()", n.rev);
	step_sql(s, "DROP FUNCTION IF EXISTS migrate.%I()", n.fwd);
	{
		char	   *stmt = sql_format("DROP TABLE IF EXISTS %Q", n.old);

		step_sql_guarded(s, n.swapped, stmt);
		free(stmt);
	}
	step_done(s, "SELECT to_regclass(%R) IS NULL", n.old);
	s->irreversible = xstrdup("finalize drops the old, unpartitioned table");

	generated_partitions_free(&gp);
	pt_names_free(&n);
	free(k_twin);
	free(ours);
	return true;
}
