/*
 * runlock.c: one runner at a time per database.  See state.h.
 *
 * A session advisory lock, on a connection of its own: it is held for the
 * whole run whatever the main connection does (transactions, reconnects),
 * and it dies with the session when a runner is killed, so nothing is ever
 * left behind to clean up.
 */
#include "state.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

/*
 * The lock's key: 64-bit FNV-1a of "migrate:<table>", the table's name as
 * given, so that two history tables in one database lock independently.
 */
static int64_t
runlock_key(const char *table)
{
	const char *parts[2] = {"migrate:", table};
	uint64_t	hash = UINT64_C(14695981039346656037);
	int64_t		key;

	for (int i = 0; i < 2; i++)
		for (const unsigned char *p = (const unsigned char *) parts[i]; *p; p++)
		{
			hash ^= *p;
			hash *= UINT64_C(1099511628211);
		}
	/* The same bits as a signed bigint, without implementation-defined casts. */
	memcpy(&key, &hash, sizeof key);
	return key;
}

/*
 * Who holds the lock.  pg_locks shows a bigint advisory key as classid (high
 * 32 bits) and objid (low 32 bits), with objsubid 1.
 */
static bool
describe_holder(PGconn *conn, const char *key, Error *err)
{
	const char *params[1] = {key};
	Error		qerr = {0};
	PGresult   *res;

	res = db_query(conn,
				   "SELECT a.pid, coalesce(a.application_name, ''), "
				   "       coalesce(a.usename::text, ''), "
				   "       coalesce(host(a.client_addr), 'a local socket'), "
				   "       coalesce(date_trunc('second', a.backend_start)::text, 'unknown') "
				   "FROM pg_catalog.pg_locks l "
				   "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
				   "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
				   "  AND l.database = (SELECT oid FROM pg_catalog.pg_database "
				   "                    WHERE datname = current_database()) "
				   "  AND l.classid::bigint = ($1::bigint >> 32) & 4294967295 "
				   "  AND l.objid::bigint = $1::bigint & 4294967295 "
				   "LIMIT 1",
				   1, params, &qerr);
	if (res == NULL || PQntuples(res) == 0)
	{
		PQclear(res);
		error_clear(&qerr);
		return false;
	}
	error_set(err, EXIT_LOCK,
			  "another migrate is running on this database (pid %s, application \"%s\", "
			  "user \"%s\", from %s, since %s); try again when it has finished",
			  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			  PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
	PQclear(res);
	return true;
}

/* true when pg_try_advisory_lock answered; *got says whether it was granted. */
static bool
try_lock(PGconn *conn, const char *key, bool *got, Error *err)
{
	const char *params[1] = {key};
	PGresult   *res = db_query(conn, "SELECT pg_try_advisory_lock($1::bigint)", 1,
							   params, err);

	if (res == NULL)
		return false;
	*got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

bool
runlock_acquire(RunLock *lock, PGconn *like, const char *table, Error *err)
{
	char		key[32];

	lock->key = runlock_key(table);
	lock->conn = db_connect_like(like, err);
	if (lock->conn == NULL)
	{
		error_prefix(err, "cannot take the run lock");
		return false;
	}
	snprintf(key, sizeof key, "%lld", (long long) lock->key);

	/*
	 * The holder may finish between our attempt and the look at pg_locks:
	 * then one more attempt.
	 */
	for (int attempt = 1; attempt <= 2; attempt++)
	{
		bool		got;

		if (!try_lock(lock->conn, key, &got, err))
		{
			error_prefix(err, "cannot take the run lock");
			break;
		}
		if (got)
			return true;
		if (describe_holder(lock->conn, key, err))
			break;
		if (attempt == 2)
			error_set(err, EXIT_LOCK,
					  "another migrate is running on this database; "
					  "try again when it has finished");
	}
	PQfinish(lock->conn);
	lock->conn = NULL;
	return false;
}

bool
runlock_held(PGconn *conn, const char *table)
{
	char		key[32];
	Error		ignored = {0};
	bool		held;

	snprintf(key, sizeof key, "%lld", (long long) runlock_key(table));
	held = describe_holder(conn, key, &ignored);
	error_clear(&ignored);
	return held;
}

void
runlock_release(RunLock *lock)
{
	char		key[32];
	const char *params[1] = {key};
	Error		ignored = {0};
	PGresult   *res;

	if (lock->conn == NULL)
		return;
	/* Closing the session would release it too; unlocking says so first. */
	snprintf(key, sizeof key, "%lld", (long long) lock->key);
	res = db_query(lock->conn, "SELECT pg_advisory_unlock($1::bigint)", 1, params, &ignored);
	PQclear(res);
	error_clear(&ignored);
	PQfinish(lock->conn);
	lock->conn = NULL;
}
