/*
 * executor.h: runs Steps on one connection.
 *
 * Lock-taking steps run in a short transaction with SET LOCAL lock_timeout
 * (and statement_timeout), retried on lock_not_available and deadlock with
 * capped exponential backoff and full jitter; concurrent steps run outside
 * any transaction; backfill steps go to the backfill engine.  Before each
 * step its done_check tells whether a rerun can skip it.  Every step is
 * journalled before and after it runs.
 */
#ifndef MIGRATE_EXECUTOR_H
#define MIGRATE_EXECUTOR_H

#include <libpq-fe.h>

#include "plan.h"
#include "progress.h"
#include "state.h"

typedef struct ExecContext
{
	PGconn	   *conn;
	const char *history_table;
	Settings	settings;		/* effective: defaults < file < command line */
	Journal    *journal;		/* may be NULL */
	int64_t		run_id;
	const char *applied_by;
	Strategy	strategy;		/* how the migrations are applied */
	StrList		replicas;		/* --replica conninfos, for the lag throttle */
	Progress   *progress;
	int64_t		deadlock_timeout_ms;	/* the server's; 0: not read yet */
} ExecContext;

/*
 * Applies one planned migration: marks it running, runs its steps (in one
 * transaction with its history row in the plain strategy, where PostgreSQL
 * allows), marks it completed.  On failure marks it failed, and returns
 * false with err naming the migration and the step.
 */
bool		execute_migration(ExecContext *ctx, const MigrationPlan *mp, Error *err);

/*
 * The steps of a migration that ran before it stopped, as the database
 * shows them (for when no journal recorded them): the steps from the first
 * on whose done checks hold, up to the first that does not.  A step without
 * a done check counts as done when it is followed by a done one.
 */
bool		executor_done_in_database(ExecContext *ctx, const MigrationPlan *mp,
									  StrList *out, Error *err);

/*
 * Rolls a migration back: the inverse steps of its steps, last step first,
 * limited to the steps in done (NULL: all of them); then marks it
 * rolled_back.
 */
bool		execute_rollback(ExecContext *ctx, const MigrationPlan *mp,
							 const StrList *done, Error *err);

/*
 * The lock_timeout of one attempt: the setting, capped below the server's
 * deadlock_timeout.  When migrate and the application wait for each other,
 * the deadlock detector aborts whichever waited deadlock_timeout first; with
 * this cap migrate gives up (and retries) before that, so the application's
 * transaction is never the one that fails.
 */
int64_t		executor_lock_timeout(ExecContext *ctx);

/* Work run inside one short transaction by executor_short_txn. */
typedef bool (*TxnBody) (ExecContext *ctx, void *arg, Error *err);

/*
 * Runs body in BEGIN ... COMMIT with SET LOCAL lock_timeout (see
 * executor_lock_timeout) and statement_timeout, retried on lock timeouts and
 * deadlocks with capped exponential backoff and full jitter; body runs again
 * on each attempt.  m and s (may be NULL) name the step in retry events and
 * in the blocking sessions reported; journal_row (-1: none) gets the attempts.
 */
bool		executor_short_txn(ExecContext *ctx, const Migration *m, const Step *s,
							   int64_t journal_row, TxnBody body, void *arg,
							   Error *err);

/* Fills err for an interrupted run: EXIT_SIGINT or EXIT_SIGTERM; false. */
bool		executor_interrupted_error(Error *err, const char *what);

/* Runs one step with the lock discipline above. */
bool		execute_step(ExecContext *ctx, const Migration *m, const Step *s,
						 bool rollback, Error *err);

/* Set by the SIGINT/SIGTERM handler: the signal number, 0 otherwise. */
extern volatile int executor_interrupted;

/* Installs SIGINT/SIGTERM handlers that cancel the running statement. */
void		executor_install_signal_handlers(void);
void		executor_set_cancel_conn(PGconn *conn);

#endif
