/*
 * ledger.h: what migrate did to a database, recorded in it (schema
 * migrate; docs/design.md, The migrate schema).
 *
 *  - Runs: each application of a migration is a run (1, 2, ...): a fresh
 *    apply (never applied, or rolled back since) opens the next run; a
 *    resumed apply or rollback continues the current one.
 *  - Steps: a step's completion is a row keyed by version, run, direction
 *    (apply / rollback) and step id, with a hash of the step's definition.
 *    A transactional step writes it in its own transaction (so it commits
 *    with the step's effect, or not at all); a non-transactional one right
 *    after it.
 *  - Objects: what a migration creates (tables, indexes, constraints,
 *    triggers, functions, views ...), with its identity: kind, name, oid
 *    and the version and step that made it.  "Already done" means made by
 *    this migration, never "a thing of that name exists".
 *
 * Every function runs its statements on conn as they are: inside the
 * caller's open transaction when there is one (how a step's completion
 * commits with its effect), on their own otherwise.
 */
#ifndef MIGRATE_LEDGER_H
#define MIGRATE_LEDGER_H

#include <libpq-fe.h>

#include "plan.h"
#include "util.h"

typedef enum LedgerDirection
{
	LEDGER_APPLY,
	LEDGER_ROLLBACK
} LedgerDirection;

const char *ledger_direction_name(LedgerDirection d);	/* "apply" "rollback" */

/*
 * Creates schema migrate and the ledger's tables when missing, in txn's
 * short transaction under settings (NULL: the defaults).
 */
bool		ledger_ensure(PGconn *conn, const Settings *settings, Error *err);

/* The statements that make the ledger's schema and tables (if missing), *n of them. */
const char *const *ledger_schema_sql(size_t *n);

/*
 * The history table of the migration set the session applies: a version
 * already recorded for another set's history table is refused (exit 2) by
 * ledger_begin_apply, since the ledger keys migrations by version.
 */
void		ledger_set_history_table(const char *table);

/*
 * Starts or resumes the application of version: a new run when the last one
 * was rolled back (or there is none), else the current one, marked
 * applying.  *run (may be NULL) gets its number.
 */
bool		ledger_begin_apply(PGconn *conn, int64_t version, int64_t *run, Error *err);
/* The migration's run is being rolled back (resumed or not). */
bool		ledger_begin_rollback(PGconn *conn, int64_t version, Error *err);
/*
 * The run's rollback finished: the next apply opens a new run.  Also
 * forgets the objects the run made (they are gone with the rollback).
 */
bool		ledger_end_rollback(PGconn *conn, int64_t version, Error *err);
/* The run finished applying (every step not deferred to finalize). */
bool		ledger_end_apply(PGconn *conn, int64_t version, Error *err);

/*
 * Whether the ledger knows the migration: it has a run of it.  A migration
 * applied before the ledger existed is judged by the journal and the
 * steps' done checks instead.
 */
bool		ledger_knows(PGconn *conn, int64_t version, bool *known, Error *err);

/* The hash the ledger keeps of a step's definition (its SQL). */
void		ledger_step_definition(const Step *s, char hex[65]);

/*
 * Records step s of version as completed in the current run, on the
 * caller's open transaction (or on its own).  Recording it again is a
 * no-op, but for the definition, which is updated.  This is what a
 * backfill's last batch calls, in its own transaction.
 */
bool		ledger_record_step(PGconn *conn, int64_t version, const Step *s,
							   LedgerDirection dir, Error *err);
/* The same, as one statement and its parameters, for callers that batch. */
bool		ledger_step_done(PGconn *conn, int64_t version, const char *step_id,
							 LedgerDirection dir, const char *definition, Error *err);

/* Removes the record of step_id (a cleanup undid its effect). */
bool		ledger_forget_step(PGconn *conn, int64_t version, const char *step_id,
							   LedgerDirection dir, Error *err);

/*
 * Whether step_id of version completed in the current run (direction dir).
 * definition (may be NULL) gets the recorded hash, "" when not done.
 */
bool		ledger_step_is_done(PGconn *conn, int64_t version, const char *step_id,
								LedgerDirection dir, bool *done, char definition[65],
								Error *err);

/* The ids of the steps done in the current run, in the order they completed. */
bool		ledger_done_steps(PGconn *conn, int64_t version, LedgerDirection dir,
							  StrList *out, Error *err);

/* ---- objects ---- */

/* Who made an object: what ledger_object_owner tells. */
typedef struct LedgerOwner
{
	bool		exists;			/* the object exists now */
	bool		recorded;		/* migrate recorded it (else: not made by migrate) */
	int64_t		version;		/* the migration that made it, when recorded */
	char		step[64];		/* and its step */
} LedgerOwner;

/*
 * The owner of an object (o->kind, o->name, o->table; see OwnedObject): a
 * recorded object is one whose oid the ledger holds, or, while the step
 * that makes it has not finished (a CONCURRENTLY build), whose name it
 * holds with no oid yet.
 */
bool		ledger_object_owner(PGconn *conn, const OwnedObject *o, LedgerOwner *out,
								Error *err);

/*
 * Records that version's step made o: its oid as it is now (NULL while it
 * does not exist yet: the intent of a non-transactional step, completed by
 * calling this again once it exists).
 */
bool		ledger_own_object(PGconn *conn, int64_t version, const char *step_id,
							  const OwnedObject *o, Error *err);

/*
 * The identity of an object of kind ("table" "index" "constraint"
 * "trigger" "function" "view" "type" "policy" "role" ...) as a SQL
 * expression of its oid, NULL when there is none: over SQL texts of its
 * table quoted ("NULL": none), its name as written and its name quoted.
 */
char	   *ledger_identity_sql(const char *kind, const char *table, const char *name,
								const char *quoted);

/* "migration 3" or "not made by migrate": for messages. */
char	   *ledger_owner_text(const LedgerOwner *owner);

#endif
