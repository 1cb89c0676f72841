/*
 * state.h: what migrate remembers.
 *
 *  - The history table in the database (docs/design.md, The history table
 *    and the journal): the truth about what is
 *    applied, seen by every runner.
 *  - The run lock: a session advisory lock on a dedicated connection, so
 *    that one runner at a time works on a database.
 *  - The journal, a SQLite file: every run, every step, every attempt, and
 *    backfill cursors, so that a killed run can be understood and resumed.
 */
#ifndef MIGRATE_STATE_H
#define MIGRATE_STATE_H

#include <libpq-fe.h>

#include "plan.h"

/* ---- history table ---- */

typedef enum HistoryStatus
{
	HISTORY_NONE,				/* no row */
	HISTORY_RUNNING,
	HISTORY_COMPLETED,
	HISTORY_FAILED,
	HISTORY_ROLLED_BACK
} HistoryStatus;

const char *history_status_name(HistoryStatus s);	/* "running" ... */

typedef struct HistoryRow
{
	int64_t		version;
	char	   *name;
	char	   *checksum;
	HistoryStatus status;
	char	   *started_at;		/* as the server formats timestamptz */
	char	   *completed_at;	/* NULL */
	char	   *error_message;	/* NULL */
	char	   *applied_by;		/* NULL */
	int64_t		execution_ms;	/* -1: NULL */
	char	   *strategy;		/* "plain" or "online"; NULL: unknown */
	char	   *source;			/* the file's text when it was applied; NULL */
	char	   *finalized_at;	/* NULL: not finalized */
	char	   *current_step;	/* the step a running migration is at; NULL */
	bool		interrupted;	/* failed: a signal stopped it */
	int64_t		step_elapsed_ms;	/* since current_step started; -1: none */
} HistoryRow;

typedef struct History
{
	HistoryRow *rows;			/* ascending version */
	size_t		n;
} History;

/*
 * table is the history table's name as the user gave it ("public.x" or
 * "x"); it is quoted here.  history_ensure creates the table (and its
 * schema) if missing, or brings it to the current shape, in txn's short
 * transaction under settings (lock_timeout, lock_retries, ...).
 */
bool		history_ensure(PGconn *conn, const char *table, const Settings *settings,
						   Error *err);
/* A missing table is an empty history. */
bool		history_load(PGconn *conn, const char *table, History *out, Error *err);
const HistoryRow *history_find(const History *h, int64_t version);
void		history_free(History *h);

/*
 * Status changes.  Each runs as one statement on conn: inside the caller's
 * transaction when one is open (so that a plain migration and its
 * "completed" commit together), on its own otherwise.
 */
bool		history_mark_running(PGconn *conn, const char *table,
								 const Migration *m, const char *applied_by,
								 Error *err);
/*
 * The same, also recording how it is applied (HistoryRow.strategy), which
 * its rollback mirrors; history_mark_running records it as unknown.
 */
bool		history_mark_running_as(PGconn *conn, const char *table,
									const Migration *m, Strategy strategy,
									const char *applied_by, Error *err);
bool		history_mark_completed(PGconn *conn, const char *table,
								   const Migration *m, int64_t execution_ms,
								   Error *err);
/* interrupted: a signal stopped it (status tells it from a failure). */
bool		history_mark_failed(PGconn *conn, const char *table,
								const Migration *m, const char *message,
								int64_t execution_ms, bool interrupted, Error *err);
/*
 * An online rollback has started: the row is no longer completed (status
 * running, "being rolled back") until it ends, so that a rollback that
 * stops half way is never taken for an applied migration.
 */
bool		history_mark_rolling_back(PGconn *conn, const char *table, int64_t version,
									  Error *err);
bool		history_mark_rolled_back(PGconn *conn, const char *table,
									 int64_t version, Error *err);
/* finalize ran the migration's contract steps. */
bool		history_mark_finalized(PGconn *conn, const char *table, int64_t version,
								   Error *err);
/* A running migration starts step_id (seen by status from anywhere). */
bool		history_mark_step(PGconn *conn, const char *table, int64_t version,
							  const char *step_id, Error *err);
/*
 * Deletes version's row if it failed or was rolled back (forget);
 * *forgotten says whether there was one.
 */
bool		history_forget(PGconn *conn, const char *table, int64_t version,
						   bool *forgotten, Error *err);
/*
 * The name under which a migration's kept text is loaded when its file is
 * gone or changed: "<table>/<version>_<name>.yaml".
 */
char	   *history_source_path(const char *table, const HistoryRow *row);

/* ---- run lock ---- */

typedef struct RunLock
{
	PGconn	   *conn;			/* dedicated; owns the advisory lock */
	int64_t		key;
} RunLock;

/*
 * Takes pg_try_advisory_lock(key) on a new connection made like conn, key
 * derived from the history table's name.  When another session holds it,
 * returns false with EXIT_LOCK and a message naming the holder (pid,
 * application_name, user, client address, since when).
 */
bool		runlock_acquire(RunLock *lock, PGconn *like, const char *table,
							Error *err);
void		runlock_release(RunLock *lock);
/* Whether some session holds the run lock of table now (false on error). */
bool		runlock_held(PGconn *conn, const char *table);

/* ---- journal (SQLite) ---- */

typedef struct Journal Journal;

/* Opens or creates the file (and its directory).  NULL with err. */
Journal    *journal_open(const char *path, Error *err);
void		journal_close(Journal *j);

/*
 * The database the journal is about from now on (db_identity): runs record
 * it, and completed steps and cursors are read back for it alone.
 */
void		journal_set_database(Journal *j, const char *database_key);

/* A run of a command; returns its id (>0), or -1 when it could not write. */
int64_t		journal_run_begin(Journal *j, const char *command, const char *database);
void		journal_run_end(Journal *j, int64_t run_id, int exit_code);

/* A step of a migration within a run; returns the journal row's id. */
int64_t		journal_step_begin(Journal *j, int64_t run_id, const Migration *m,
							   const Step *s, bool rollback);
void		journal_step_attempt(Journal *j, int64_t step_row, int attempt,
								 int64_t lock_wait_ms, const char *error);
/* status: "completed" "failed" "skipped" "interrupted" */
void		journal_step_end(Journal *j, int64_t step_row, const char *status,
							 const char *error, int64_t rows);

/* Backfill cursor of a step (text, as the executor encodes it); NULL if none. */
bool		journal_save_cursor(Journal *j, int64_t version, const char *step_id,
								const char *cursor, int64_t rows_done);
char	   *journal_load_cursor(Journal *j, int64_t version, const char *step_id,
								int64_t *rows_done);

/*
 * The ids of the steps of a migration whose last journal entry is
 * "completed" (and not rolled back since), in the order they completed.
 */
bool		journal_completed_steps(Journal *j, int64_t version, StrList *out);

#endif
