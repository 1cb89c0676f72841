/*
 * session.h: one database connection as a command uses it: the
 * connection, the catalog, the history, and when the command writes, the
 * run lock, the history table and the journal.  session_open leaves
 * nothing behind when it fails; session_close ends everything it opened.
 */
#ifndef MIGRATE_SESSION_H
#define MIGRATE_SESSION_H

#include <libpq-fe.h>

#include "catalog.h"
#include "executor.h"
#include "state.h"

typedef struct Session
{
	PGconn	   *conn;
	RunLock		lock;
	bool		locked;
	Journal    *journal;
	int64_t		run_id;
	History		history;
	Catalog		cat;
} Session;

/*
 * Connects to database (NULL: DATABASE_URL, then libpq's own variables),
 * reads the catalog; when writing (the command line's settings, for the
 * history table's lock; NULL for a command that only reads) takes the run
 * lock, makes sure the history table exists and opens the journal at
 * state_path; loads the history of table.  On failure *s is closed again
 * and err says why.
 */
bool		session_open(Session *s, const char *database, const char *table,
						 const char *state_path, const char *command,
						 const Settings *writing, Error *err);

/* Ends the journal's run with exit_code, releases the lock, disconnects. */
void		session_close(Session *s, int exit_code);

#endif
