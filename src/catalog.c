/*
 * catalog.c: questions about the live database.  See catalog.h.
 *
 * Tables are named as the user wrote them ("schema.table" or "table"); each
 * question quotes the name and lets the server resolve it with to_regclass,
 * which answers NULL instead of failing when there is no such relation.
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "quote.h"

bool
catalog_open(Catalog *cat, PGconn *conn, Error *err)
{
	cat->conn = NULL;
	cat->server_version = 0;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return error_set(err, EXIT_STEP_FAILED, "no connection to the database");
	cat->conn = conn;
	cat->server_version = PQserverVersion(conn);
	return true;
}

/*
 * Runs a one-row, one-column question about table ($1: its quoted name).
 * Returns the result, or NULL when it failed or said nothing.
 */
static PGresult *
ask_about_table(const Catalog *cat, const char *sql, const char *table)
{
	char	   *quoted;
	const char *params[1];
	PGresult   *res;
	Error		err = {0};

	if (cat == NULL || cat->conn == NULL || table == NULL)
		return NULL;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	res = db_query(cat->conn, sql, 1, params, &err);
	free(quoted);
	error_clear(&err);
	if (res != NULL && (PQntuples(res) != 1 || PQnfields(res) != 1))
	{
		PQclear(res);
		return NULL;
	}
	return res;
}

int64_t
catalog_row_estimate(const Catalog *cat, const char *table)
{
	/* reltuples is -1 (PostgreSQL 14+) for a table never vacuumed or analyzed. */
	PGresult   *res = ask_about_table(cat,
									  "SELECT CASE WHEN reltuples < 0 THEN -1 "
									  "ELSE reltuples::bigint END "
									  "FROM pg_catalog.pg_class WHERE oid = to_regclass($1)",
									  table);
	int64_t		rows;

	if (res == NULL)
		return -1;
	rows = PQgetisnull(res, 0, 0) ? -1 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rows;
}

int
catalog_table_exists(const Catalog *cat, const char *table)
{
	PGresult   *res = ask_about_table(cat,
									  "SELECT EXISTS (SELECT FROM pg_catalog.pg_class "
									  "WHERE oid = to_regclass($1) AND relkind IN ('r', 'p'))",
									  table);
	int			exists;

	if (res == NULL)
		return -1;
	exists = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return exists;
}

bool
catalog_primary_key(const Catalog *cat, const char *table, StrList *names,
					StrList *types, Error *err)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	PGresult   *res;

	res = db_query(cat->conn,
				   "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
				   "FROM pg_catalog.pg_index i "
				   "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
				   "     AND a.attnum = ANY (i.indkey::int2[]) "
				   "WHERE i.indrelid = $1::regclass AND i.indisprimary "
				   "ORDER BY array_position(i.indkey::int2[], a.attnum)",
				   1, params, err);
	free(quoted);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		strlist_add(names, PQgetvalue(res, i, 0));
		strlist_add(types, PQgetvalue(res, i, 1));
	}
	PQclear(res);
	return true;
}

int64_t
catalog_table_pages(const Catalog *cat, const char *table)
{
	PGresult   *res = ask_about_table(cat,
									  "SELECT pg_relation_size(to_regclass($1)) / "
									  "current_setting('block_size')::bigint",
									  table);
	int64_t		pages;

	if (res == NULL)
		return -1;
	pages = PQgetisnull(res, 0, 0) ? -1 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return pages;
}

/*
 * PostgreSQL alone knows whether a type change is binary coercible (casts,
 * typmods, domains, the session's timezone for timestamp -> timestamptz), so
 * we ask it: a scratch temporary table with a column of the current type
 * keeps its relfilenode through the same ALTER exactly when the real table
 * would not be rewritten.  The scratch table lives in a transaction that is
 * always rolled back; it locks nothing but itself.
 */
int
catalog_column_exists(const Catalog *cat, const char *table, const char *column)
{
	char	   *quoted;
	const char *params[2];
	PGresult   *res;
	Error		err = {0};
	int			exists;

	if (cat == NULL || cat->conn == NULL)
		return -1;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	params[1] = column;
	res = db_query(cat->conn,
				   "SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute "
				   "WHERE attrelid = to_regclass($1) AND attname = $2 "
				   "AND attnum > 0 AND NOT attisdropped)",
				   2, params, &err);
	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return -1;
	exists = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return exists;
}

int
catalog_type_change_rewrites(const Catalog *cat, const char *table, const char *column,
							 const char *new_type, const char *using_expr, Error *err)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[2] = {quoted, column};
	PGresult   *res;
	Buf			sql;
	int			rewrites = -1;
	char	   *before = NULL;

	res = db_query(cat->conn,
				   "SELECT format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
				   "WHERE attrelid = to_regclass($1) AND attname = $2 "
				   "AND attnum > 0 AND NOT attisdropped",
				   2, params, err);
	free(quoted);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1)
	{
		PQclear(res);
		error_set(err, EXIT_STEP_FAILED, "no column \"%s\" in table \"%s\"", column, table);
		return -1;
	}
	buf_init(&sql);
	buf_printf(&sql, "CREATE TEMPORARY TABLE migrate_type_probe (");
	quote_ident(&sql, column);
	buf_printf(&sql, " %s) ON COMMIT DROP", PQgetvalue(res, 0, 0));
	PQclear(res);

	if (!db_exec(cat->conn, "BEGIN", err))
		goto out;
	if (!db_exec(cat->conn, sql.data, err))
		goto rollback;
	res = db_query(cat->conn, "SELECT pg_relation_filenode('migrate_type_probe')", 0, NULL, err);
	if (res == NULL)
		goto rollback;
	before = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	buf_reset(&sql);
	buf_printf(&sql, "ALTER TABLE migrate_type_probe ALTER COLUMN ");
	quote_ident(&sql, column);
	buf_printf(&sql, " TYPE %s", new_type);
	if (using_expr != NULL)
		buf_printf(&sql, " USING %s", using_expr);
	if (!db_exec(cat->conn, sql.data, err))
		goto rollback;
	res = db_query(cat->conn, "SELECT pg_relation_filenode('migrate_type_probe')", 0, NULL, err);
	if (res == NULL)
		goto rollback;
	rewrites = strcmp(before, PQgetvalue(res, 0, 0)) != 0;
	PQclear(res);

rollback:
	db_rollback_open(cat->conn);
out:
	free(before);
	buf_free(&sql);
	return rewrites;
}
