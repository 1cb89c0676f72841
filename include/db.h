/*
 * db.h: connecting, and running statements with errors that carry the
 * server's SQLSTATE and message.  Bookkeeping queries use parameters.
 */
#ifndef MIGRATE_DB_H
#define MIGRATE_DB_H

#include <libpq-fe.h>

#include "util.h"

/*
 * Connects with conninfo (a conninfo string or URI); NULL falls back to
 * DATABASE_URL, then to libpq's own PG* variables, service file and .pgpass.
 * application_name defaults to "migrate".  Notices are kept off stderr.
 * A password never appears in err.
 */
PGconn	   *db_connect(const char *conninfo, Error *err);

/*
 * The conninfo for a second connection to the same database (the run lock's
 * dedicated one): the first connection's parameters, password included,
 * never printed.
 */
PGconn	   *db_connect_like(PGconn *conn, Error *err);

/* A conninfo or URI with any password replaced by "********". */
char	   *db_redact_conninfo(const char *conninfo);

/* Runs one statement that returns no rows.  err gets SQLSTATE and message. */
bool		db_exec(PGconn *conn, const char *sql, Error *err);

/*
 * Runs one statement with text parameters and returns its result (tuples or
 * command ok), or NULL with err set.  The caller PQclear()s it.
 */
PGresult   *db_query(PGconn *conn, const char *sql, int nparams,
					 const char *const *params, Error *err);

/*
 * Ends a transaction left open by a failure (ROLLBACK), so that the
 * connection can be used again; nothing when none is open.
 */
void		db_rollback_open(PGconn *conn);

/* Fills err from a failed result: message, detail, hint, SQLSTATE. */
bool		db_result_error(const PGresult *res, int exit_code, Error *err);

/*
 * Which database conn is on, as "host:port/name#system identifier" (the
 * identifier from pg_control_system(), empty when it cannot be read): two
 * databases never share one, a database keeps its own across connections.
 */
char	   *db_identity(PGconn *conn);

/* The role and host we run as, for history.applied_by: "user@host". */
char	   *db_applied_by(PGconn *conn);

#endif
