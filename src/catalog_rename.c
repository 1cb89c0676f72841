/*
 * catalog_rename.c: what the catalog tells about a table or column that a
 * rename_table or rename_column is about to rename (catalog.h).
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "quote.h"

char *
catalog_table_old_name_uses(const Catalog *cat, const char *table)
{
	char	   *quoted;
	const char *params[1];
	Error		err = {0};
	PGresult   *res;
	char	   *uses = NULL;

	if (cat == NULL || cat->conn == NULL)
		return NULL;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	res = db_query(cat->conn,
				   "SELECT concat_ws('; ', "
				   "(SELECT 'referenced by the foreign keys ' || string_agg(format('%I of %s', "
				   "conname, conrelid::regclass), ', ' ORDER BY conname) FROM pg_catalog.pg_constraint "
				   "WHERE confrelid = to_regclass($1) AND contype = 'f'), "
				   "(SELECT 'TRUNCATE granted to ' || string_agg(DISTINCT CASE WHEN a.grantee = 0 "
				   "THEN 'PUBLIC' ELSE a.grantee::regrole::text END, ', ') "
				   "FROM pg_catalog.pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass($1) "
				   "AND a.privilege_type = 'TRUNCATE' AND a.grantee <> c.relowner), "
				   "(SELECT 'read by the views ' || string_agg(DISTINCT r.ev_class::regclass::text, ', ') "
				   "FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
				   "WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = to_regclass($1) "
				   "AND r.ev_class <> to_regclass($1)))",
				   1, params, &err);
	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != '\0')
		uses = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return uses;
}

const char *
catalog_column_pinned(const Catalog *cat, const char *table, const char *column)
{
	static const char *const reasons[] = {
		"part of the primary key", "referenced by a foreign key",
		"an identity column", "a generated column"
	};
	char	   *quoted;
	const char *params[2];
	Error		err = {0};
	PGresult   *res;
	const char *reason = NULL;

	if (cat == NULL || cat->conn == NULL)
		return NULL;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	params[1] = column;
	res = db_query(cat->conn,
				   "SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid "
				   "AND i.indisprimary AND a.attnum = ANY (i.indkey)) THEN 0 "
				   "WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.confrelid = a.attrelid "
				   "AND c.contype = 'f' AND a.attnum = ANY (c.confkey)) THEN 1 "
				   "WHEN a.attidentity <> '' THEN 2 WHEN a.attgenerated <> '' THEN 3 END "
				   "FROM pg_catalog.pg_attribute a WHERE a.attrelid = to_regclass($1) "
				   "AND a.attname = $2 AND NOT a.attisdropped",
				   2, params, &err);
	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		reason = reasons[atoi(PQgetvalue(res, 0, 0))];
	PQclear(res);
	return reason;
}

bool
catalog_renamed_dependents(const Catalog *cat, const char *table, const char *from,
						   const char *to, RenamedDependent **out, size_t *n, Error *err)
{
	bool		in_txn;
	char	   *quoted;
	char	   *scratch_sql;
	const char *params[3];
	PGresult   *res = NULL;
	bool		ok = false;

	*out = NULL;
	*n = 0;
	if (cat == NULL || cat->conn == NULL)
		return true;
	in_txn = PQtransactionStatus(cat->conn) != PQTRANS_IDLE;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	params[1] = from;
	params[2] = to;
	/*
	 * An empty temporary copy with the column renamed: the server writes
	 * the definitions over the new name itself.  Nothing of it is kept.
	 */
	scratch_sql = sql_format("CREATE TEMPORARY TABLE migrate_rename_scratch (LIKE %Q "
							 "INCLUDING CONSTRAINTS INCLUDING INDEXES)", table);
	if (!db_exec(cat->conn, in_txn ? "SAVEPOINT migrate_rename" : "BEGIN", err))
		goto out;
	if (!db_exec(cat->conn, scratch_sql, err))
		goto undo;
	{
		char	   *rename = sql_format("ALTER TABLE pg_temp.migrate_rename_scratch RENAME COLUMN %I TO %I",
										from, to);
		/* a resumed run: the twin is there already; out of the way, its indexes kept */
		char	   *aside = NULL;
		bool		renamed;

		{
			const char *p1[1] = {to};
			PGresult   *r = db_query(cat->conn, "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = "
									 "'pg_temp.migrate_rename_scratch'::regclass AND attname = $1 "
									 "AND NOT attisdropped)", 1, p1, err);

			if (r && strcmp(PQgetvalue(r, 0, 0), "t") == 0)
				aside = sql_format("ALTER TABLE pg_temp.migrate_rename_scratch RENAME COLUMN %I "
								   "TO migrate_rename_aside", to);
			if (r)
				PQclear(r);
			else
			{
				free(rename);
				goto undo;
			}
		}
		renamed = (aside == NULL || db_exec(cat->conn, aside, err)) &&
			db_exec(cat->conn, rename, err);
		free(aside);

		free(rename);
		if (!renamed)
			goto undo;
	}
	res = db_query(cat->conn,
						"WITH t AS (SELECT to_regclass($1) AS rel, "
						"(SELECT attnum FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass($1) "
						"AND attname = $2 AND NOT attisdropped) AS attnum), "
						"s AS (SELECT c.oid AS rel, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS q "
						"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						"WHERE c.oid = 'pg_temp.migrate_rename_scratch'::regclass), "
						"orig AS (SELECT i.indexrelid, i.indisunique, row_number() OVER (ORDER BY i.indexrelid) AS k, "
						"(SELECT contype FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid "
						"AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')) AS contype "
						"FROM pg_catalog.pg_index i, t WHERE i.indrelid = t.rel), "
						"copy AS (SELECT i.indexrelid, row_number() OVER (ORDER BY i.indexrelid) AS k, "
						"pg_catalog.pg_get_indexdef(i.indexrelid) AS def "
						"FROM pg_catalog.pg_index i, s WHERE i.indrelid = s.rel) "
						"SELECT CASE WHEN o.contype = 'u' THEN 'u' WHEN o.contype = 'x' THEN 'x' "
						"WHEN o.indisunique THEN 'U' ELSE 'i' END, ic.relname::text, "
						"CASE WHEN strpos(c.def, ' ON ' || s.q || ' USING ') > 0 "
						"THEN substr(c.def, strpos(c.def, ' ON ' || s.q || ' USING ') + length(' ON ' || s.q) + 1) "
						"ELSE substr(c.def, strpos(c.def, ' ON pg_temp.migrate_rename_scratch USING ') "
						"+ length(' ON pg_temp.migrate_rename_scratch') + 1) END, "
						"NULL::text, o.indexrelid::bigint "
						"FROM orig o JOIN copy c USING (k) JOIN pg_catalog.pg_class ic ON ic.oid = o.indexrelid, t, s "
						"WHERE EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass "
						"AND d.objid = o.indexrelid AND d.refobjid = t.rel AND d.refobjsubid = t.attnum) "
						"OR EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = o.indexrelid "
						"AND k.conrelid = t.rel AND t.attnum = ANY (k.conkey)) "
						"UNION ALL "
						"SELECT 'c', k.conname::text, pg_catalog.pg_get_constraintdef(sk.oid), NULL, k.oid::bigint "
						"FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_constraint sk ON sk.conname = k.conname "
						"AND sk.contype = 'c', t, s WHERE k.conrelid = t.rel AND sk.conrelid = s.rel "
						"AND k.contype = 'c' AND t.attnum = ANY (k.conkey) "
						"UNION ALL "
						"SELECT 'f', k.conname::text, 'FOREIGN KEY (' || (SELECT string_agg(quote_ident(CASE "
						"WHEN a.attname = $2 THEN $3 ELSE a.attname::text END), ', ' ORDER BY u.ord) "
						"FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord) JOIN pg_catalog.pg_attribute a "
						"ON a.attrelid = k.conrelid AND a.attnum = u.attnum) || ')' || "
						"substr(pg_catalog.pg_get_constraintdef(k.oid), length('FOREIGN KEY (' || (SELECT "
						"string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord) FROM unnest(k.conkey) "
						"WITH ORDINALITY AS u(attnum, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid "
						"AND a.attnum = u.attnum) || ')') + 1), k.confrelid::regclass::text, k.oid::bigint "
						"FROM pg_catalog.pg_constraint k, t WHERE k.conrelid = t.rel AND k.contype = 'f' "
						"AND t.attnum = ANY (k.conkey) "
						"ORDER BY 5", 3, params, err);
	if (res == NULL)
		goto undo;
	*n = (size_t) PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof(RenamedDependent));
	for (size_t i = 0; i < *n; i++)
	{
		RenamedDependent *d = &(*out)[i];

		d->kind = PQgetvalue(res, (int) i, 0)[0];
		d->name = xstrdup(PQgetvalue(res, (int) i, 1));
		d->definition = xstrdup(PQgetvalue(res, (int) i, 2));
		d->referenced = PQgetisnull(res, (int) i, 3) ? NULL : xstrdup(PQgetvalue(res, (int) i, 3));
	}
	ok = true;
undo:
	{
		Error		ignored = {0};

		db_exec(cat->conn, in_txn ? "ROLLBACK TO SAVEPOINT migrate_rename" : "ROLLBACK", &ignored);
		error_clear(&ignored);
	}
out:
	if (res)
		PQclear(res);
	if (!ok)
		error_prefix(err, "reading the indexes and constraints of column \"%s\" of %s", from, table);
	free(scratch_sql);
	free(quoted);
	return ok;
}

void
renamed_dependents_free(RenamedDependent *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		free(d[i].name);
		free(d[i].definition);
		free(d[i].referenced);
	}
	free(d);
}

int
catalog_is_table(const Catalog *cat, const char *name)
{
	char	   *quoted;
	const char *params[1];
	Error		err = {0};
	PGresult   *res;
	int			is_table;

	if (cat == NULL || cat->conn == NULL)
		return -1;
	quoted = quoted_qualified(name);
	params[0] = quoted;
	res = db_query(cat->conn, "SELECT EXISTS (SELECT FROM pg_catalog.pg_class WHERE oid = to_regclass($1) "
				   "AND relkind IN ('r', 'p'))", 1, params, &err);
	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return -1;
	is_table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return is_table;
}
