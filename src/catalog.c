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
	cat->snap = NULL;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return error_set(err, EXIT_STEP_FAILED, "no connection to the database");
	cat->conn = conn;
	cat->server_version = PQserverVersion(conn);
	catalog_snapshot_init(cat);
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

/*
 * A one-row question (sql, params) asked in a transaction of its own under
 * a short lock_timeout: the ACCESS SHARE it takes never waits long behind
 * someone's exclusive lock.  The result's first value, 't' or 'f'; -1 when
 * it could not be told.
 */
static int
ask_briefly(const Catalog *cat, const char *sql, int nparams, const char *const *params)
{
	Error		err = {0};
	PGresult   *res = NULL;
	int			answer = -1;

	if (cat == NULL || cat->conn == NULL)
		return -1;
	if (db_exec(cat->conn, "BEGIN", &err) &&
		db_exec(cat->conn, "SET LOCAL lock_timeout = '2s'", &err) &&
		(res = db_query(cat->conn, sql, nparams, params, &err)) != NULL &&
		PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		answer = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	db_rollback_open(cat->conn);
	error_clear(&err);
	return answer;
}

int
catalog_rows_exceed(const Catalog *cat, const char *table, int64_t limit)
{
	char	   *sql = sql_format("SELECT count(*) > $1::bigint FROM "
								 "(SELECT FROM %Q LIMIT $1::bigint + 1) AS s", table);
	char		text[32];
	const char *params[1] = {text};
	int			more;

	snprintf(text, sizeof text, "%lld", (long long) limit);
	more = ask_briefly(cat, sql, 1, params);
	free(sql);
	return more;
}

int
catalog_table_within(const Catalog *cat, const char *table, int64_t bytes)
{
	char	   *quoted = quoted_qualified(table);
	char		text[32];
	const char *params[2] = {quoted, text};
	int			within;

	snprintf(text, sizeof text, "%lld", (long long) bytes);
	within = ask_briefly(cat, "SELECT c.relkind = 'r' AND NOT c.relispartition "
						 "AND NOT c.relhassubclass "
						 "AND pg_catalog.pg_total_relation_size(c.oid) <= $2::bigint "
						 "FROM pg_catalog.pg_class c WHERE c.oid = to_regclass($1)", 2, params);
	free(quoted);
	return within;
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

int
catalog_has_unique_index(const Catalog *cat, const char *relation)
{
	PGresult   *res = ask_about_table(cat,
									  "SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE "
									  "EXISTS (SELECT FROM pg_catalog.pg_index "
									  "WHERE indrelid = to_regclass($1) AND indisunique AND indisvalid "
									  "AND indpred IS NULL AND indexprs IS NULL) END",
									  relation);
	int			has;

	if (res == NULL)
		return -1;
	has = PQgetisnull(res, 0, 0) ? -1 : PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return has;
}

/* The key columns of the index index_sql chooses ($1: the table), in key order. */
static bool
index_key_columns(const Catalog *cat, const char *table, const char *index_sql,
				  StrList *names, StrList *types, Error *err)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	char	   *sql = xasprintf("SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
								"FROM pg_catalog.pg_index i "
								"JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
								"     AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]) "
								"WHERE i.indexrelid = %s "
								"ORDER BY array_position(i.indkey::int2[], a.attnum)", index_sql);
	PGresult   *res = db_query(cat->conn, sql, 1, params, err);

	free(sql);
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

bool
catalog_walk_key(const Catalog *cat, const char *table, StrList *names,
				 StrList *types, Error *err)
{
	return index_key_columns(cat, table, CATALOG_WALK_KEY_INDEX("$1::regclass"), names, types,
							 err);
}

bool
catalog_primary_key(const Catalog *cat, const char *table, StrList *names,
					StrList *types, Error *err)
{
	return index_key_columns(cat, table,
							 "(SELECT indexrelid FROM pg_catalog.pg_index "
							 "WHERE indrelid = $1::regclass AND indisprimary)",
							 names, types, err);
}

ColumnWriter
catalog_column_writer(const Catalog *cat, const char *table, const char *column)
{
	char	   *quoted;
	const char *params[2];
	PGresult   *res;
	Error		err = {0};
	ColumnWriter writer = COLUMN_WRITER_UNKNOWN;

	if (cat == NULL || cat->conn == NULL || table == NULL)
		return COLUMN_WRITER_UNKNOWN;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	params[1] = column;
	/* attgenerated is PostgreSQL 12+, attidentity 10+. */
	res = db_query(cat->conn, cat->server_version >= 120000
				   ? "SELECT CASE WHEN attgenerated <> '' THEN 2 WHEN attidentity <> '' THEN 1 "
				   "ELSE 0 END FROM pg_catalog.pg_attribute "
				   "WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped"
				   : "SELECT CASE WHEN attidentity <> '' THEN 1 ELSE 0 END "
				   "FROM pg_catalog.pg_attribute "
				   "WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped",
				   2, params, &err);
	free(quoted);
	error_clear(&err);
	if (res != NULL && PQntuples(res) == 1)
		writer = (ColumnWriter) atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return writer;
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
catalog_unique_on_column(const Catalog *cat, const char *table, const char *name,
						 const char *column)
{
	char	   *quoted;
	const char *params[3];
	PGresult   *res;
	Error		err = {0};
	int			exists;
	bool		ledger;
	char	   *sql;

	if (cat == NULL || cat->conn == NULL)
		return -1;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	params[1] = name;
	params[2] = column;
	res = db_query(cat->conn, "SELECT to_regclass('migrate.ledger_objects') IS NOT NULL",
				   0, NULL, &err);
	ledger = res != NULL && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	error_clear(&err);
	/* one that migrate made (this migration, being rolled back) does not count */
	sql = xasprintf("SELECT EXISTS (SELECT FROM pg_catalog.pg_constraint c "
					"JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid "
					"  AND a.attnum = c.conkey[1] "
					"WHERE c.conrelid = to_regclass($1) AND c.conname = $2 "
					"  AND c.contype IN ('u', 'p') AND cardinality(c.conkey) = 1 "
					"  AND a.attname = $3%s)",
					ledger ? " AND NOT EXISTS (SELECT FROM migrate.ledger_objects l "
					"WHERE l.kind = 'constraint' AND l.oid = c.oid)" : "");
	res = db_query(cat->conn, sql, 3, params, &err);
	free(sql);
	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return -1;
	exists = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return exists;
}

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
	sql_append(&sql, "CREATE TEMPORARY TABLE migrate_type_probe (%I %s) ON COMMIT DROP",
			   column, PQgetvalue(res, 0, 0));
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
	sql_append(&sql, "ALTER TABLE migrate_type_probe ALTER COLUMN %I TYPE %s", column, new_type);
	if (using_expr != NULL)
		sql_append(&sql, " USING %s", using_expr);
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

char
catalog_function_volatility(const Catalog *cat, const char *name)
{
	const char *params[1] = {name};
	Error		err = {0};
	PGresult   *res;
	char		v = 0;

	if (cat == NULL || cat->conn == NULL)
		return 0;
	/* 'i' < 's' < 'v': the greatest is the most volatile */
	res = db_query(cat->conn, "SELECT max(provolatile::text) FROM pg_catalog.pg_proc WHERE proname = $1",
				   1, params, &err);
	error_clear(&err);
	if (res == NULL)
		return 0;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = PQgetvalue(res, 0, 0)[0];
	PQclear(res);
	return v;
}

/*
 * Whether a validated CHECK (column IS NOT NULL) on table proves column
 * NOT NULL (PostgreSQL 12+), or, with or_attnotnull, the column is NOT
 * NULL already.
 */
static bool
not_null_proof(const Catalog *cat, const char *table, const char *column, bool or_attnotnull)
{
	char	   *quoted;
	const char *params[3];
	Error		err = {0};
	PGresult   *res;
	bool		proven;

	if (cat == NULL || cat->conn == NULL)
		return false;
	quoted = quoted_qualified(table);
	params[0] = quoted;
	params[1] = column;
	params[2] = or_attnotnull ? "t" : "f";
	res = db_query(cat->conn,
				   "SELECT (a.attnotnull AND $3::bool) OR "
				   "(current_setting('server_version_num')::int >= 120000 "
				   "AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c "
				   "WHERE c.conrelid = a.attrelid AND c.contype = 'c' AND c.convalidated "
				   "AND pg_catalog.pg_get_constraintdef(c.oid) = "
				   "'CHECK ((' || pg_catalog.quote_ident(a.attname) || ' IS NOT NULL))')) "
				   "FROM pg_catalog.pg_attribute a WHERE a.attrelid = to_regclass($1) "
				   "AND a.attname = $2 AND NOT a.attisdropped",
				   3, params, &err);
	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return false;
	proven = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return proven;
}

bool
catalog_not_null_proven(const Catalog *cat, const char *table, const char *column)
{
	return not_null_proof(cat, table, column, true);
}

bool
catalog_not_null_checked(const Catalog *cat, const char *table, const char *column)
{
	return not_null_proof(cat, table, column, false);
}

/* Appends name, quoted for to_regclass, to a JSON array in b. */
static void
add_quoted_json(Buf *b, const char *name)
{
	char	   *quoted = quoted_qualified(name);

	if (b->len > 1)
		buf_putc(b, ',');
	buf_json_string(b, quoted);
	free(quoted);
}

bool
catalog_list_tables(const Catalog *cat, const char *like_table, const StrList *exclude,
					StrList *out, Error *err)
{
	char	   *schema;
	char	   *relname;
	char	   *quoted_schema = NULL;
	Buf			names;
	const char *params[2];
	PGresult   *res;

	/* the excluded names as a JSON array of quoted names, for to_regclass */
	buf_init(&names);
	buf_putc(&names, '[');
	for (size_t i = 0; exclude && i < exclude->n; i++)
		add_quoted_json(&names, exclude->items[i]);
	buf_putc(&names, ']');
	split_qualified(like_table, &schema, &relname);
	if (schema)
		quoted_schema = quoted_ident(schema);
	params[0] = quoted_schema;
	params[1] = names.data;
	res = db_query(cat->conn,
				   "SELECT CASE WHEN n.oid = pg_my_temp_schema() OR n.nspname = current_schema() "
				   "THEN c.relname ELSE n.nspname || '.' || c.relname END "
				   "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
				   "WHERE c.relkind = 'r' AND NOT c.relispartition "
				   "AND n.oid = coalesce($1::regnamespace, current_schema()::regnamespace) "
				   "AND n.nspname <> 'migrate' "
				   "AND (SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
				   "AND a.attname IN ('version', 'name', 'checksum', 'started_at', 'completed_at', "
				   "'status', 'error_message', 'applied_by', 'execution_ms') "
				   "AND NOT a.attisdropped) < 9 "
				   "AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = "
				   "'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') "
				   "AND c.oid NOT IN (SELECT r FROM (SELECT to_regclass(x) AS r FROM "
				   "json_array_elements_text($2::json) AS x) AS e WHERE r IS NOT NULL) "
				   "ORDER BY c.relname",
				   2, params, err);
	free(quoted_schema);
	free(schema);
	free(relname);
	buf_free(&names);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(out, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

int
catalog_saved_list(const Catalog *cat, int64_t version, const char *key, StrList *out,
				   Error *err)
{
	char	   *version_text;
	const char *params[2];
	PGresult   *res;
	int			found;

	res = db_query(cat->conn, "SELECT to_regclass('migrate.saved_objects') IS NOT NULL",
				   0, NULL, err);
	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!found)
		return 0;
	version_text = xasprintf("%lld", (long long) version);
	params[0] = version_text;
	params[1] = key;
	res = db_query(cat->conn,
				   "SELECT x.e FROM migrate.saved_objects AS s CROSS JOIN LATERAL "
				   "json_array_elements_text(s.definition::json) WITH ORDINALITY AS x(e, n) "
				   "WHERE s.version = $1::bigint AND s.key = $2 ORDER BY x.n",
				   2, params, err);
	free(version_text);
	if (res == NULL)
		return -1;
	found = PQntuples(res) > 0;
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(out, PQgetvalue(res, i, 0));
	PQclear(res);
	return found;
}

bool
catalog_partitions(const Catalog *cat, const char *table, StrList *names,
				   StrList *bounds, Error *err)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	PGresult   *res = db_query(cat->conn,
							   "SELECT c.oid::regclass::text, pg_get_expr(c.relpartbound, c.oid) "
							   "FROM pg_catalog.pg_inherits i "
							   "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
							   "WHERE i.inhparent = to_regclass($1) AND c.relispartition "
							   "ORDER BY 1", 1, params, err);

	free(quoted);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		strlist_add(names, PQgetvalue(res, i, 0));
		strlist_add(bounds, PQgetvalue(res, i, 1));
	}
	PQclear(res);
	return true;
}

bool
catalog_partition_key(const Catalog *cat, const char *table, PartitionMethod *method,
					  StrList *columns)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	Error		err = {0};
	PGresult   *res = db_query(cat->conn,
							   "SELECT p.partstrat::text, a.attname::text "
							   "FROM pg_catalog.pg_partitioned_table p "
							   "CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord) "
							   "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid "
							   "AND a.attnum = k.attnum "
							   "WHERE p.partrelid = to_regclass($1) ORDER BY k.ord", 1, params, &err);
	bool		ok;

	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return false;
	ok = PQntuples(res) > 0;
	for (int i = 0; ok && i < PQntuples(res); i++)
	{
		if (PQgetisnull(res, i, 1))
			ok = false;			/* an expression in the key */
		else
			strlist_add(columns, PQgetvalue(res, i, 1));
	}
	if (ok)
	{
		const char *strat = PQgetvalue(res, 0, 0);

		*method = strat[0] == 'r' ? PARTITION_RANGE : strat[0] == 'l' ? PARTITION_LIST
			: PARTITION_HASH;
	}
	PQclear(res);
	return ok;
}

char *
catalog_insert_columns(const Catalog *cat, const char *table, Error *err)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	PGresult   *res = db_query(cat->conn,
							   "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) "
							   "FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass($1) "
							   "AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
							   1, params, err);
	char	   *columns = NULL;

	free(quoted);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		columns = xstrdup(PQgetvalue(res, 0, 0));
	else
		error_set(err, EXIT_STEP_FAILED, "no table %s to copy rows into", table);
	PQclear(res);
	return columns;
}

bool
catalog_relation_sizes(const Catalog *cat, const char *table, int64_t *table_bytes,
					   int64_t *index_bytes)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	Error		err = {0};
	PGresult   *res = cat == NULL || cat->conn == NULL ? NULL
		: db_query(cat->conn, "SELECT pg_table_size(to_regclass($1)), "
				   "pg_indexes_size(to_regclass($1))", 1, params, &err);
	bool		ok;

	free(quoted);
	error_clear(&err);
	if (res == NULL)
		return false;
	ok = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1);
	if (ok)
	{
		*table_bytes = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*index_bytes = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return ok;
}
