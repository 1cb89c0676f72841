/*
 * txn.h: the layer under executor and backfill (docs/design.md, Locks and
 * retries).
 *
 *  - The retrying short transaction: BEGIN, SET LOCAL lock_timeout (capped
 *    below the server's deadlock_timeout) and statement_timeout, the body,
 *    COMMIT; on lock_not_available (55P03) or deadlock (40P01) it is rolled
 *    back, the sessions holding the relation's locks are described, and the
 *    whole body runs again after a capped exponential backoff with full
 *    jitter.
 *  - The blocking sessions: who holds the relation, classified (an ordinary
 *    session, an autovacuum worker, an anti-wraparound autovacuum).
 *  - The interrupt: SIGINT / SIGTERM set a flag and cancel the running
 *    statement through PQcancel; every wait of migrate (a backoff, a
 *    batch_delay, a replica-lag pause) is a txn_sleep that wakes on it.
 */
#ifndef MIGRATE_TXN_H
#define MIGRATE_TXN_H

#include <libpq-fe.h>

#include "plan.h"
#include "progress.h"
#include "state.h"

/* ---- interrupts ---- */

/* Installs SIGINT/SIGTERM handlers that cancel the running statement. */
void		txn_install_signal_handlers(void);
/* The connection whose statement a signal cancels; NULL: none. */
void		txn_set_cancel_conn(PGconn *conn);
/* The signal that interrupted the run (SIGINT, SIGTERM), 0 when none. */
int			txn_interrupted(void);
/* Fills err for an interrupted run: EXIT_SIGINT or EXIT_SIGTERM; false. */
bool		txn_interrupted_error(Error *err, const char *what);
/* Sleeps ms, waking early when interrupted; false when interrupted. */
bool		txn_sleep(int64_t ms);

/* ---- blocking sessions ---- */

typedef enum BlockerKind
{
	BLOCKER_SESSION,			/* a client's session */
	BLOCKER_AUTOVACUUM,			/* an ordinary autovacuum worker */
	BLOCKER_AUTOVACUUM_WRAPAROUND	/* one that prevents wraparound */
} BlockerKind;

typedef struct Blocker
{
	int			pid;
	BlockerKind kind;
	char	   *state;			/* pg_stat_activity.state, "" when none */
	int64_t		xact_age_s;		/* age of its transaction */
	char	   *query;			/* its query, cut to 200 characters */
} Blocker;

typedef struct Blockers
{
	Blocker    *items;
	size_t		n;
} Blockers;

/*
 * What a session is, from pg_stat_activity's backend_type and query: an
 * autovacuum worker says "autovacuum: VACUUM ... (to prevent wraparound)"
 * when it must not be cancelled.
 */
BlockerKind txn_blocker_kind(const char *backend_type, const char *query);
const char *txn_blocker_kind_name(BlockerKind kind);	/* "session" ... */

/*
 * The sessions (other than ours) holding a granted lock on relation, each
 * classified.  Best effort: an error leaves out empty.
 */
void		txn_blockers(PGconn *conn, const char *relation, Blockers *out);
/* [{"pid":..,"kind":..,"state":..,"xact_age_s":..,"query":..}, ...] */
char	   *txn_blockers_json(const Blockers *b);
/*
 * For people: one line per blocker, each "\n      pid N, what, state, for
 * S s: query"; "" when there is none.
 */
char	   *txn_blockers_text(const Blockers *b);
void		txn_blockers_free(Blockers *b);

/* ---- the retrying short transaction ---- */

/*
 * The lock_timeout of one attempt: setting_ms, capped at 4/5 of the
 * server's deadlock_timeout (when known, > 0).  When migrate and the
 * application wait for each other, the deadlock detector aborts whichever
 * waited deadlock_timeout first; with this cap migrate gives up (and
 * retries) first, so the application's transaction is never the one that
 * fails.
 */
int64_t		txn_capped_lock_timeout(int64_t setting_ms, int64_t deadlock_timeout_ms);

/* The ceiling of attempt's backoff (1-based): doubling from 250 ms, capped at 30 s. */
int64_t		txn_backoff_ceiling_ms(int attempt);
/* One backoff: 50 ms plus a uniformly random part of the ceiling (full jitter). */
int64_t		txn_backoff_ms(int attempt);

/* Work run inside one attempt; it runs again on each retry. */
typedef bool (*TxnBody) (PGconn *conn, void *arg, Error *err);

typedef struct Txn
{
	PGconn	   *conn;
	const Settings *settings;	/* lock_timeout, lock_retries, statement_timeout */
	const char *relation;		/* whose lock holders are the blockers; NULL */
	int64_t    *deadlock_timeout_ms;	/* the server's, read once and kept here
										 * (0: not read yet, -1: unknown); NULL:
										 * read on each attempt */
	/* Where retries are told; each may be NULL. */
	Progress   *progress;		/* a "retried" event naming m and s */
	const Migration *m;
	const Step *s;
	Journal    *journal;		/* each failed attempt, on journal_row */
	int64_t		journal_row;	/* -1: none */
} Txn;

/*
 * Runs body in BEGIN ... COMMIT under the discipline above.  Gives up with
 * EXIT_LOCK after lock_retries attempts, naming the blockers; an interrupt
 * ends it with txn_interrupted_error; any other error is body's, returned
 * at once.
 */
bool		txn_run(const Txn *t, TxnBody body, void *arg, Error *err);

#endif
