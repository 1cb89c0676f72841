/*
 * catalog.c: questions about the live database.  See catalog.h.
 *
 * Tables are named as the user wrote them ("schema.table" or "table"); each
 * question quotes the name and lets the server resolve it with to_regclass,
 * which answers NULL instead of failing when there is no such relation.
 */
#include "catalog.h"

#include <stdlib.h>

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
