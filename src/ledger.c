/*
 * ledger.c: runs, completed steps and owned objects, in schema migrate.
 * See ledger.h, and docs/design.md (The migrate schema).
 *
 * Every value is a parameter; the only names in the SQL are the ledger's
 * own tables.  Reads treat a database without the ledger (never written
 * by this version of migrate) as one where nothing is recorded.
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "quote.h"
#include "sha256.h"
#include "txn.h"

static const char *const create_sql[] = {
	"CREATE SCHEMA IF NOT EXISTS migrate",
	"CREATE TABLE IF NOT EXISTS migrate.ledger_runs ("
	" version bigint PRIMARY KEY,"
	" run integer NOT NULL,"
	" state text NOT NULL CHECK (state IN ('applying', 'applied', 'rolling_back', 'rolled_back')),"
	" updated_at timestamptz NOT NULL DEFAULT now(),"
	" history_table text)",
	"CREATE TABLE IF NOT EXISTS migrate.ledger_steps ("
	" version bigint NOT NULL,"
	" run integer NOT NULL,"
	" direction text NOT NULL CHECK (direction IN ('apply', 'rollback')),"
	" step text NOT NULL,"
	" definition text NOT NULL,"
	" completed_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
	" PRIMARY KEY (version, run, direction, step))",
	"CREATE TABLE IF NOT EXISTS migrate.ledger_objects ("
	" kind text NOT NULL,"
	" on_table text NOT NULL DEFAULT '',"
	" name text NOT NULL,"
	" oid oid,"
	" version bigint NOT NULL,"
	" step text NOT NULL,"
	" recorded_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (kind, on_table, name))",
	"CREATE INDEX IF NOT EXISTS ledger_objects_oid ON migrate.ledger_objects (oid)",
};

#define N_CREATE (sizeof create_sql / sizeof create_sql[0])

const char *const *
ledger_schema_sql(size_t *n)
{
	*n = N_CREATE;
	return create_sql;
}

const char *
ledger_direction_name(LedgerDirection d)
{
	return d == LEDGER_ROLLBACK ? "rollback" : "apply";
}

/* undefined_table: the ledger was never made in this database. */
static bool
no_ledger(const Error *err)
{
	return strcmp(err->sqlstate, "42P01") == 0 || strcmp(err->sqlstate, "3F000") == 0;
}

static bool
create_tables(PGconn *conn, void *arg, Error *err)
{
	(void) arg;
	for (size_t i = 0; i < N_CREATE; i++)
		if (!db_exec(conn, create_sql[i], err))
			return false;
	return true;
}

/* Two runners creating the ledger at once: the loser sees a catalog clash. */
static bool
is_creation_race(const Error *err)
{
	return strcmp(err->sqlstate, "23505") == 0 || strcmp(err->sqlstate, "42P07") == 0 ||
		strcmp(err->sqlstate, "42P06") == 0 || strcmp(err->sqlstate, "42710") == 0;
}

bool
ledger_ensure(PGconn *conn, const Settings *settings, Error *err)
{
	Settings	defaults;
	Txn			t = {0};
	PGresult   *res;
	bool		exists;

	res = db_query(conn, "SELECT to_regclass('migrate.ledger_objects') IS NOT NULL "
				   "AND to_regclass('migrate.ledger_steps') IS NOT NULL "
				   "AND to_regclass('migrate.ledger_runs') IS NOT NULL", 0, NULL, err);
	if (res == NULL)
		return false;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists)
		return true;
	if (settings == NULL)
	{
		settings_defaults(&defaults);
		settings = &defaults;
	}
	t.conn = conn;
	t.settings = settings;
	t.journal_row = -1;
	if (txn_run(&t, create_tables, NULL, err))
		return true;
	if (is_creation_race(err))
	{
		error_clear(err);
		if (txn_run(&t, create_tables, NULL, err))
			return true;
	}
	error_prefix(err, "cannot prepare the ledger (schema migrate)");
	return false;
}

/* Runs sql with the version as $1 (and more parameters); result or NULL. */
static PGresult *
query_version(PGconn *conn, const char *sql, int64_t version, int nextra,
			  const char *const *extra, Error *err)
{
	char		v[32];
	const char *params[8];

	snprintf(v, sizeof v, "%lld", (long long) version);
	params[0] = v;
	for (int i = 0; i < nextra && i < 7; i++)
		params[i + 1] = extra[i];
	return db_query(conn, sql, 1 + nextra, params, err);
}

static bool
exec_version(PGconn *conn, const char *sql, int64_t version, int nextra,
			 const char *const *extra, Error *err)
{
	PGresult   *res = query_version(conn, sql, version, nextra, extra, err);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* The history table of the migration set this session applies. */
static char *history_table = NULL;

void
ledger_set_history_table(const char *table)
{
	free(history_table);
	history_table = table ? xstrdup(table) : NULL;
}

/*
 * What the ledger's row of version says against applying it now, both read
 * from the one row, refused before anything runs (EXIT_USAGE):
 *
 * - The ledger keys a migration by its version: a second migration set in
 *   the same database (its own history table) that reuses a version would
 *   find the first set's steps done.
 * - A rollback that stopped half way has put back some of what the run's
 *   steps did, while the ledger still lists those steps as applied: an
 *   apply now would skip them and leave their rows as the rollback left
 *   them.  The rollback is finished first.
 */
static bool
check_apply_allowed(PGconn *conn, int64_t version, Error *err)
{
	PGresult   *res = query_version(conn, "SELECT state, history_table FROM migrate.ledger_runs "
									"WHERE version = $1", version, 0, NULL, err);
	bool		ok = true;

	if (res == NULL)
		return false;
	if (PQntuples(res) == 1 && history_table != NULL && !PQgetisnull(res, 0, 1) &&
		strcmp(PQgetvalue(res, 0, 1), history_table) != 0)
		ok = error_set(err, EXIT_USAGE,
					   "version %lld is already recorded in this database's ledger (schema migrate) "
					   "for the migration set of history table %s, not %s; nothing was changed: "
					   "two migration sets in one database need versions of their own",
					   (long long) version, PQgetvalue(res, 0, 1), history_table);
	else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "rolling_back") == 0)
		ok = error_set(err, EXIT_USAGE,
					   "version %lld was being rolled back when its rollback stopped; nothing was "
					   "changed: run rollback again to finish it, then apply",
					   (long long) version);
	PQclear(res);
	return ok;
}

bool
ledger_begin_apply(PGconn *conn, int64_t version, int64_t *run, Error *err)
{
	const char *extra[1] = {history_table};
	PGresult   *res;

	if (!check_apply_allowed(conn, version, err))
		return false;
	res = query_version(conn,
						"INSERT INTO migrate.ledger_runs AS r (version, run, state, history_table) "
						"VALUES ($1, 1, 'applying', $2) ON CONFLICT (version) DO UPDATE SET "
						"run = CASE WHEN r.state = 'rolled_back' THEN r.run + 1 ELSE r.run END, "
						"state = 'applying', updated_at = now(), "
						"history_table = coalesce(r.history_table, EXCLUDED.history_table) RETURNING run",
						version, 1, extra, err);
	if (res == NULL)
		return false;
	if (run != NULL)
		*run = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return true;
}

bool
ledger_begin_rollback(PGconn *conn, int64_t version, Error *err)
{
	return exec_version(conn, "UPDATE migrate.ledger_runs SET state = 'rolling_back', "
						"updated_at = now() WHERE version = $1", version, 0, NULL, err);
}

bool
ledger_end_rollback(PGconn *conn, int64_t version, Error *err)
{
	/*
	 * The objects stay recorded: one that survives its rollback (a tenants
	 * table holding rows it did not make, say) is still the migration's
	 * own; one that is gone no longer matches by oid.
	 */
	return exec_version(conn, "UPDATE migrate.ledger_runs SET state = 'rolled_back', "
						"updated_at = now() WHERE version = $1", version, 0, NULL, err);
}

bool
ledger_end_apply(PGconn *conn, int64_t version, Error *err)
{
	return exec_version(conn, "UPDATE migrate.ledger_runs SET state = 'applied', "
						"updated_at = now() WHERE version = $1", version, 0, NULL, err);
}

bool
ledger_knows(PGconn *conn, int64_t version, bool *known, Error *err)
{
	PGresult   *res = query_version(conn, "SELECT 1 FROM migrate.ledger_runs WHERE version = $1",
									version, 0, NULL, err);

	*known = false;
	if (res == NULL)
	{
		if (!no_ledger(err))
			return false;
		error_clear(err);
		return true;
	}
	*known = PQntuples(res) == 1;
	PQclear(res);
	return true;
}

void
ledger_step_definition(const Step *s, char hex[65])
{
	Sha256		c;
	uint8_t		digest[32];

	sha256_init(&c);
	for (size_t i = 0; i < s->sql.n; i++)
	{
		sha256_update(&c, s->sql.items[i], strlen(s->sql.items[i]));
		sha256_update(&c, "\n", 1);
	}
	if (s->dynamic_sql)
		sha256_update(&c, s->dynamic_sql, strlen(s->dynamic_sql));
	sha256_final(&c, digest);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

bool
ledger_step_done(PGconn *conn, int64_t version, const char *step_id, LedgerDirection dir,
				 const char *definition, Error *err)
{
	const char *extra[3] = {ledger_direction_name(dir), step_id, definition};

	/* a step with no run yet (finalize of a migration applied before the ledger): run 1 */
	return exec_version(conn,
						"WITH r AS (INSERT INTO migrate.ledger_runs AS x (version, run, state) "
						"  VALUES ($1, 1, 'applied') ON CONFLICT (version) DO UPDATE "
						"  SET version = x.version RETURNING run) "
						"INSERT INTO migrate.ledger_steps (version, run, direction, step, definition) "
						"SELECT $1, r.run, $2::text, $3::text, $4::text FROM r "
						"ON CONFLICT (version, run, direction, step) DO UPDATE "
						"SET definition = excluded.definition, completed_at = clock_timestamp()",
						version, 3, extra, err);
}

bool
ledger_record_step(PGconn *conn, int64_t version, const Step *s, LedgerDirection dir,
				   Error *err)
{
	char		def[65];

	ledger_step_definition(s, def);
	return ledger_step_done(conn, version, s->id, dir, def, err);
}

bool
ledger_forget_step(PGconn *conn, int64_t version, const char *step_id, LedgerDirection dir,
				   Error *err)
{
	const char *extra[2] = {ledger_direction_name(dir), step_id};

	return exec_version(conn,
						"DELETE FROM migrate.ledger_steps s USING migrate.ledger_runs r "
						"WHERE s.version = $1 AND r.version = $1 AND s.run = r.run "
						"AND s.direction = $2 AND s.step = $3", version, 2, extra, err);
}

bool
ledger_step_is_done(PGconn *conn, int64_t version, const char *step_id, LedgerDirection dir,
					bool *done, char definition[65], Error *err)
{
	const char *extra[2] = {ledger_direction_name(dir), step_id};
	PGresult   *res = query_version(conn,
									"SELECT s.definition FROM migrate.ledger_steps s "
									"JOIN migrate.ledger_runs r ON r.version = s.version AND r.run = s.run "
									"WHERE s.version = $1 AND s.direction = $2 AND s.step = $3",
									version, 2, extra, err);

	*done = false;
	if (definition != NULL)
		definition[0] = '\0';
	if (res == NULL)
	{
		if (!no_ledger(err))
			return false;
		error_clear(err);
		return true;
	}
	*done = PQntuples(res) == 1;
	if (*done && definition != NULL)
		snprintf(definition, 65, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

bool
ledger_done_steps(PGconn *conn, int64_t version, LedgerDirection dir, StrList *out,
				  Error *err)
{
	const char *extra[1] = {ledger_direction_name(dir)};
	PGresult   *res = query_version(conn,
									"SELECT s.step FROM migrate.ledger_steps s "
									"JOIN migrate.ledger_runs r ON r.version = s.version AND r.run = s.run "
									"WHERE s.version = $1 AND s.direction = $2 "
									"ORDER BY s.completed_at, s.step",
									version, 1, extra, err);

	if (res == NULL)
	{
		if (!no_ledger(err))
			return false;
		error_clear(err);
		return true;
	}
	for (int i = 0; i < PQntuples(res); i++)
		strlist_add(out, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

/* ---- objects ---- */

/*
 * The oid an object of kind has in the catalog now, as a SQL expression
 * over three SQL texts: its table quoted (for to_regclass; "NULL" when
 * none), its name as written, its name quoted (for to_regclass and
 * to_regtype).  A kind's identity only matches an object of that kind: a
 * table of the name is no view.
 */
char *
ledger_identity_sql(const char *kind, const char *table, const char *name, const char *quoted)
{
	if (strcmp(kind, "constraint") == 0)
		return xasprintf("(SELECT c.oid FROM pg_catalog.pg_constraint c "
						 "WHERE c.conrelid = to_regclass(%s) AND c.conname = %s)", table, name);
	if (strcmp(kind, "trigger") == 0)
		return xasprintf("(SELECT t.oid FROM pg_catalog.pg_trigger t "
						 "WHERE t.tgrelid = to_regclass(%s) AND t.tgname = %s)", table, name);
	if (strcmp(kind, "policy") == 0)
		return xasprintf("(SELECT p.oid FROM pg_catalog.pg_policy p "
						 "WHERE p.polrelid = to_regclass(%s) AND p.polname = %s)", table, name);
	if (strcmp(kind, "role") == 0)
		return xasprintf("(SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = %s)", name);
	if (strcmp(kind, "function") == 0)
		return xasprintf("to_regprocedure(%s)::oid", name);
	if (strcmp(kind, "type") == 0)
		return xasprintf("to_regtype(%s)::oid", quoted);
	if (strcmp(kind, "view") == 0)
		return xasprintf("(SELECT v.oid FROM pg_catalog.pg_class v "
						 "WHERE v.oid = to_regclass(%s) AND v.relkind = 'v')", quoted);
	return xasprintf("to_regclass(%s)::oid", quoted);
}

/*
 * The parameters of a query about o (identity_params), as the columns of
 * CTE arg, and o's identity over them.
 */
#define PARAMS_CTE "arg AS (SELECT $1::text AS kind, $2::text AS tbl, $3::text AS name, " \
	"$4::text AS quoted, $5::text AS on_table)"

static char *
identity_param_sql(const OwnedObject *o)
{
	return ledger_identity_sql(o->kind, "arg.tbl", "arg.name", "arg.quoted");
}

/* The parameters of identity_param_sql ($1 the kind), then $5: the table as written ("" when none). */
typedef struct IdentityParams
{
	char	   *quoted_table;
	char	   *quoted_name;
	const char *values[5];
} IdentityParams;

static void
identity_params(IdentityParams *ip, const OwnedObject *o)
{
	ip->quoted_table = o->table ? quoted_qualified(o->table) : NULL;
	ip->quoted_name = quoted_qualified(o->name);
	ip->values[0] = o->kind;
	ip->values[1] = ip->quoted_table;
	ip->values[2] = o->name;
	ip->values[3] = ip->quoted_name;
	ip->values[4] = o->table ? o->table : "";
}

static void
identity_params_free(IdentityParams *ip)
{
	free(ip->quoted_table);
	free(ip->quoted_name);
}

bool
ledger_object_owner(PGconn *conn, const OwnedObject *o, LedgerOwner *out, Error *err)
{
	IdentityParams ip;
	PGresult   *res;

	char	   *identity = identity_param_sql(o);
	char	   *sql;

	memset(out, 0, sizeof *out);
	identity_params(&ip, o);
	sql = xasprintf("WITH " PARAMS_CTE ", o AS (SELECT %s AS oid, arg.* FROM arg) "
					"SELECT o.oid IS NOT NULL, l.version, l.step FROM o "
					"LEFT JOIN LATERAL (SELECT version, step FROM migrate.ledger_objects l "
					"  WHERE l.kind = o.kind AND ((o.oid IS NOT NULL AND l.oid = o.oid) "
					"    OR (l.oid IS NULL AND l.on_table = o.on_table AND l.name = o.name)) "
					"  ORDER BY l.oid IS NULL LIMIT 1) l ON true", identity);
	res = db_query(conn, sql, 5, ip.values, err);
	free(sql);
	if (res == NULL && no_ledger(err))
	{
		/* no ledger: nothing is recorded, whether the object exists or not */
		error_clear(err);
		sql = xasprintf("WITH " PARAMS_CTE " SELECT %s IS NOT NULL, NULL, NULL FROM arg",
						identity);
		res = db_query(conn, sql, 5, ip.values, err);
		free(sql);
	}
	free(identity);
	identity_params_free(&ip);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		out->exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		out->recorded = !PQgetisnull(res, 0, 1);
		if (out->recorded)
		{
			out->version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			snprintf(out->step, sizeof out->step, "%s", PQgetvalue(res, 0, 2));
		}
	}
	PQclear(res);
	return true;
}

bool
ledger_own_object(PGconn *conn, int64_t version, const char *step_id, const OwnedObject *o,
				  Error *err)
{
	IdentityParams ip;
	char		v[32];
	const char *params[7];
	PGresult   *res;

	char	   *identity = identity_param_sql(o);
	char	   *sql;

	identity_params(&ip, o);
	snprintf(v, sizeof v, "%lld", (long long) version);
	memcpy(params, ip.values, sizeof ip.values);
	params[5] = v;
	params[6] = step_id;
	/* made only when missing (only_if): recorded only when this step made it */
	sql = xasprintf("INSERT INTO migrate.ledger_objects (kind, on_table, name, oid, version, step) "
					"WITH " PARAMS_CTE " "
					"SELECT arg.kind, arg.on_table, arg.name, %s, $6::bigint, $7::text FROM arg "
					"WHERE %s "
					"ON CONFLICT (kind, on_table, name) DO UPDATE SET oid = excluded.oid, "
					"version = excluded.version, step = excluded.step, recorded_at = now()",
					identity, o->only_if ? o->only_if : "true");
	res = db_query(conn, sql, 7, params, err);
	free(sql);
	free(identity);
	identity_params_free(&ip);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

char *
ledger_owner_text(const LedgerOwner *owner)
{
	if (!owner->recorded)
		return xstrdup("not made by migrate");
	return xasprintf("made by migration %lld (step %s)", (long long) owner->version,
					 owner->step);
}
