-- catalog_snapshot.sql: the schema of a database as the catalog shows it,
-- one item a line, sorted; what lib.sh's schema_snapshot prints.  It
-- stands in for pg_dump -s, which refuses servers newer than itself: the
-- same query reads PostgreSQL 14 to 18.
--
-- Run with psql -v all=true|false.  With all=false, two things are left
-- out, and only these: the tables (and their indexes, constraints,
-- triggers, policies, sequences, comments) of schema "migrate", which keeps
-- what a rollback needs (and its helper functions), and
-- public.schema_migrations, the history.  The trigger functions of schema
-- "migrate" stay in: one left behind after a rollback is a leftover.
--
-- Covered: schemas, tables, views, sequences and composite types (kind,
-- persistence, owner, grants (sorted), options, RLS flags, partitioning,
-- inheritance), columns in order (type, collation, NOT NULL, default,
-- identity, generated, grants), constraints with their definitions and
-- validity (PG 18's NOT NULL constraints too), indexes with definitions
-- and validity, triggers, functions and procedures (definition, owner,
-- grants), policies, enums and domains, extensions, default privileges,
-- and the comments on all of these.  Objects of an extension are the
-- extension's.  A NULL ACL (an object never granted on) shows as the
-- privileges it stands for, acldefault's: the server treats the two alike,
-- and a rollback of a grant on such an object leaves the default written
-- out (docs/design.md, Grants).
\set ON_ERROR_STOP 1
WITH
nsp AS (
	SELECT n.oid, n.nspname, n.nspowner, n.nspacl
	  FROM pg_namespace n
	 WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
),
ext_member AS (
	SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
),
-- relations in scope (tables, views, sequences, composite types, indexes)
rel AS (
	SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relowner, c.relacl,
		   c.reloptions, c.relrowsecurity, c.relforcerowsecurity, c.relpartbound,
		   c.relreplident, n.nspname, format('%I.%I', n.nspname, c.relname) AS q
	  FROM pg_class c
	  JOIN nsp n ON n.oid = c.relnamespace
	 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c', 'i', 'I')
	   AND NOT EXISTS (SELECT 1 FROM ext_member e
						WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
),
-- what all=false leaves out: migrate's relations, the history table, and
-- the indexes and sequences that belong to them
left_out AS (
	SELECT r.oid FROM rel r
	 WHERE NOT :all
	   AND (r.nspname = 'migrate' OR (r.nspname, r.relname) = ('public', 'schema_migrations'))
	UNION
	SELECT i.indexrelid FROM pg_index i JOIN rel r ON r.oid = i.indrelid
	 WHERE NOT :all
	   AND (r.nspname = 'migrate' OR (r.nspname, r.relname) = ('public', 'schema_migrations'))
	UNION
	SELECT d.objid FROM pg_depend d JOIN rel r ON r.oid = d.refobjid
	 WHERE NOT :all AND d.classid = 'pg_class'::regclass
	   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
	   AND (r.nspname = 'migrate' OR (r.nspname, r.relname) = ('public', 'schema_migrations'))
),
kept AS (
	SELECT * FROM rel WHERE oid NOT IN (SELECT oid FROM left_out)
),
items AS (
	-- schemas
	SELECT format('schema %I owner=%s acl=%s', n.nspname, n.nspowner::regrole,
			(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS x)) AS item
	  FROM nsp n
	 WHERE (:all OR n.nspname <> 'migrate')
	   AND NOT EXISTS (SELECT 1 FROM ext_member e
						WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid)
	UNION ALL
	-- tables, views, sequences, composite types (indexes below)
	SELECT format('relation %s kind=%s persistence=%s owner=%s acl=%s options=%s rls=%s force_rls=%s replident=%s partkey=%s bound=%s inherits=%s',
			r.q, r.relkind, r.relpersistence, r.relowner::regrole,
			(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(coalesce(r.relacl, acldefault(CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END::"char", r.relowner))) AS x), r.reloptions,
			r.relrowsecurity, r.relforcerowsecurity, r.relreplident,
			CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
			pg_get_expr(r.relpartbound, r.oid),
			(SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno)
			   FROM pg_inherits i WHERE i.inhrelid = r.oid))
	  FROM kept r
	 WHERE r.relkind NOT IN ('i', 'I')
	UNION ALL
	-- columns, numbered in order without the dropped ones
	SELECT format('column %s #%s %I %s collate=%s notnull=%s default=%s identity=%s generated=%s acl=%s',
			r.q, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), a.attname,
			format_type(a.atttypid, a.atttypmod),
			CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END,
			a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
			(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(a.attacl) AS x))
	  FROM kept r
	  JOIN pg_attribute a ON a.attrelid = r.oid
	  JOIN pg_type t ON t.oid = a.atttypid
	  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE r.relkind NOT IN ('S', 'i', 'I') AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	-- constraints of tables (every kind, NOT NULL ones on PostgreSQL 18)
	SELECT format('constraint %s %I %s validated=%s', r.q, k.conname,
			pg_get_constraintdef(k.oid), k.convalidated)
	  FROM pg_constraint k
	  JOIN kept r ON r.oid = k.conrelid
	UNION ALL
	-- indexes
	SELECT format('index %s valid=%s ready=%s clustered=%s replident=%s',
			pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisready, i.indisclustered,
			i.indisreplident)
	  FROM pg_index i
	  JOIN kept r ON r.oid = i.indexrelid
	UNION ALL
	-- triggers (not the internal ones of foreign keys)
	SELECT format('trigger %s enabled=%s', pg_get_triggerdef(g.oid), g.tgenabled)
	  FROM pg_trigger g
	  JOIN kept r ON r.oid = g.tgrelid
	 WHERE NOT g.tgisinternal
	UNION ALL
	-- views' definitions
	SELECT format('view %s %s', r.q, regexp_replace(pg_get_viewdef(r.oid), '\s+', ' ', 'g'))
	  FROM kept r
	 WHERE r.relkind IN ('v', 'm')
	UNION ALL
	-- sequences: their parameters and the column that owns them
	SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',
			r.q, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
			s.seqcache, s.seqcycle,
			(SELECT format('%s.%I', d.refobjid::regclass, a.attname)
			   FROM pg_depend d
			   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			  WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
				AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			  LIMIT 1))
	  FROM kept r
	  JOIN pg_sequence s ON s.seqrelid = r.oid
	UNION ALL
	-- policies
	SELECT format('policy %s %I cmd=%s permissive=%s roles=%s using=%s check=%s', r.q, p.polname,
			p.polcmd, p.polpermissive,
			(SELECT string_agg(r.name, ',' ORDER BY r.name)
			   FROM (SELECT CASE WHEN o = 0 THEN 'public' ELSE o::regrole::text END AS name
					   FROM unnest(p.polroles) AS o) AS r),
			pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
	  FROM pg_policy p
	  JOIN kept r ON r.oid = p.polrelid
	UNION ALL
	-- functions and procedures; in schema migrate, without all, only
	-- trigger functions (each one a migration's), not migrate's helpers
	SELECT format('function %I.%I(%s) owner=%s acl=%s %s', n.nspname, f.proname,
			pg_get_function_identity_arguments(f.oid), f.proowner::regrole,
			(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(coalesce(f.proacl, acldefault('f', f.proowner))) AS x),
			regexp_replace(pg_get_functiondef(f.oid), '\s+', ' ', 'g'))
	  FROM pg_proc f
	  JOIN nsp n ON n.oid = f.pronamespace
	 WHERE f.prokind IN ('f', 'p')
	   AND (:all OR n.nspname <> 'migrate' OR f.prorettype = 'trigger'::regtype)
	   AND NOT EXISTS (SELECT 1 FROM ext_member e
						WHERE e.classid = 'pg_proc'::regclass AND e.objid = f.oid)
	UNION ALL
	-- enums and domains
	SELECT format('type %I.%I kind=%s owner=%s acl=%s base=%s notnull=%s default=%s labels=%s checks=%s',
			n.nspname, t.typname, t.typtype, t.typowner::regrole,
			(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(coalesce(t.typacl, acldefault('T', t.typowner))) AS x),
			CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
			t.typnotnull, t.typdefault,
			(SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
			   FROM pg_enum e WHERE e.enumtypid = t.oid),
			(SELECT string_agg(format('%I %s', k.conname, pg_get_constraintdef(k.oid)), ','
							   ORDER BY k.conname)
			   FROM pg_constraint k WHERE k.contypid = t.oid))
	  FROM pg_type t
	  JOIN nsp n ON n.oid = t.typnamespace
	 WHERE t.typtype IN ('e', 'd')
	   AND (:all OR n.nspname <> 'migrate')
	   AND NOT EXISTS (SELECT 1 FROM ext_member e
						WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
	UNION ALL
	SELECT format('extension %I schema=%s', x.extname, x.extnamespace::regnamespace)
	  FROM pg_extension x
	 WHERE x.extname <> 'plpgsql'
	UNION ALL
	SELECT format('default_acl role=%s schema=%s on=%s acl=%s', a.defaclrole::regrole,
			a.defaclnamespace::regnamespace, a.defaclobjtype,
			(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(a.defaclacl) AS x))
	  FROM pg_default_acl a
	UNION ALL
	-- comments: on relations and their columns, constraints, triggers,
	-- policies, functions, schemas and types in scope
	SELECT format('comment on %s %s: %s', CASE WHEN c.objsubid = 0 THEN 'relation' ELSE 'column' END,
			r.q || CASE WHEN c.objsubid = 0 THEN '' ELSE '.' || quote_ident(a.attname) END,
			c.description)
	  FROM pg_description c
	  JOIN kept r ON r.oid = c.objoid
	  LEFT JOIN pg_attribute a ON a.attrelid = c.objoid AND a.attnum = c.objsubid
	 WHERE c.classoid = 'pg_class'::regclass
	UNION ALL
	SELECT format('comment on constraint %s %I: %s', r.q, k.conname, c.description)
	  FROM pg_description c
	  JOIN pg_constraint k ON k.oid = c.objoid
	  JOIN kept r ON r.oid = k.conrelid
	 WHERE c.classoid = 'pg_constraint'::regclass
	UNION ALL
	SELECT format('comment on trigger %s %I: %s', r.q, g.tgname, c.description)
	  FROM pg_description c
	  JOIN pg_trigger g ON g.oid = c.objoid
	  JOIN kept r ON r.oid = g.tgrelid
	 WHERE c.classoid = 'pg_trigger'::regclass
	UNION ALL
	SELECT format('comment on policy %s %I: %s', r.q, p.polname, c.description)
	  FROM pg_description c
	  JOIN pg_policy p ON p.oid = c.objoid
	  JOIN kept r ON r.oid = p.polrelid
	 WHERE c.classoid = 'pg_policy'::regclass
	UNION ALL
	SELECT format('comment on function %s: %s', c.objoid::regprocedure, c.description)
	  FROM pg_description c
	  JOIN pg_proc f ON f.oid = c.objoid
	  JOIN nsp n ON n.oid = f.pronamespace
	 WHERE c.classoid = 'pg_proc'::regclass
	UNION ALL
	SELECT format('comment on schema %I: %s', n.nspname, c.description)
	  FROM pg_description c
	  JOIN nsp n ON n.oid = c.objoid
	 WHERE c.classoid = 'pg_namespace'::regclass AND (:all OR n.nspname <> 'migrate')
	UNION ALL
	SELECT format('comment on type %s: %s', c.objoid::regtype, c.description)
	  FROM pg_description c
	  JOIN pg_type t ON t.oid = c.objoid
	  JOIN nsp n ON n.oid = t.typnamespace
	 WHERE c.classoid = 'pg_type'::regclass AND (:all OR n.nspname <> 'migrate')
)
SELECT item FROM items ORDER BY item COLLATE "C";
