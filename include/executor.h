/*
 * executor.h: runs Steps on one connection.
 *
 * Lock-taking steps run in a short transaction with SET LOCAL lock_timeout
 * (and statement_timeout), retried on lock_not_available and deadlock with
 * capped exponential backoff and full jitter; concurrent steps run outside
 * any transaction; backfill steps go to the backfill engine.  Before each
 * step the ledger (in the database) tells whether it completed already;
 * its done_check only judges what the ledger cannot know, and never an
 * object that is not this migration's own.  A failed step runs its cleanup.
 * Every step is journalled before and after it runs.
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
	int64_t		deadlock_timeout_ms;	/* the server's, kept by txn; 0: not read yet */
	PGconn	   *status_conn;	/* NULL, or a connection outside the steps'
								 * transactions (the run lock's) on which the
								 * step each migration is at is recorded, seen
								 * at once by status from any machine */
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
 * Adds to done the backfill steps that committed some batches though no
 * journal calls them done (failed or killed half way): their undo runs too,
 * and goes only as far as they went.
 */
bool		executor_add_started_backfills(ExecContext *ctx, const MigrationPlan *mp,
										   StrList *done, Error *err);

/*
 * The steps of a migration that completed in its current run, as the
 * ledger records them, in plan order; *known false (and out empty) when the
 * ledger has no run of it (applied before the ledger existed).
 */
bool		executor_completed_steps(ExecContext *ctx, const MigrationPlan *mp,
									 StrList *out, bool *known, Error *err);

/*
 * Rolls a migration back: the inverse steps of its steps, last step first,
 * limited to the steps in done (NULL: all of them); then marks it
 * rolled_back.
 */
bool		execute_rollback(ExecContext *ctx, const MigrationPlan *mp,
							 const StrList *done, Error *err);

/*
 * Where the group that starts at steps[i] ends (exclusive): consecutive
 * steps that may run in a transaction (in_txn) share one; any other step
 * runs alone.  When every step is in_txn, the history row commits with
 * the last group.
 */
size_t		executor_group_end(const Step *const *steps, size_t n, size_t i);

/* Runs one step with the lock discipline above. */
bool		execute_step(ExecContext *ctx, const Migration *m, const Step *s,
						 bool rollback, Error *err);

#endif
