/*
 * plan.h: the planner turns each operation into Steps, in the plain or the
 * online strategy.  A Step is everything the executor, the renderer and the
 * linter need: its SQL, the lock it takes, whether it runs in a transaction,
 * how to tell it already happened, and its inverse steps.
 */
#ifndef MIGRATE_PLAN_H
#define MIGRATE_PLAN_H

#include "spec.h"

struct Catalog;

typedef enum Strategy
{
	STRATEGY_PLAIN,				/* fastest: one transaction where allowed */
	STRATEGY_ONLINE				/* zero downtime: short locks, concurrent
								 * builds, batched backfills */
} Strategy;

typedef enum StepPhase
{
	PHASE_EXPAND,
	PHASE_BACKFILL,
	PHASE_VALIDATE,
	PHASE_CONTRACT				/* deferred to finalize in the online strategy */
} StepPhase;

typedef enum StepKind
{
	STEP_DDL,					/* lock-taking DDL, in a short transaction */
	STEP_CONCURRENT,			/* CONCURRENTLY: outside any transaction */
	STEP_BACKFILL,				/* batched UPDATE, by the backfill engine */
	STEP_SQL					/* the user's own statements */
} StepKind;

/* Table lock modes, weakest first (PostgreSQL's "Explicit Locking"). */
typedef enum LockMode
{
	LOCK_NONE,
	LOCK_ACCESS_SHARE,
	LOCK_ROW_SHARE,
	LOCK_ROW_EXCLUSIVE,
	LOCK_SHARE_UPDATE_EXCLUSIVE,
	LOCK_SHARE,
	LOCK_SHARE_ROW_EXCLUSIVE,
	LOCK_EXCLUSIVE,
	LOCK_ACCESS_EXCLUSIVE
} LockMode;

const char *lock_mode_name(LockMode mode);	/* "ACCESS EXCLUSIVE", "none" */
const char *step_phase_name(StepPhase phase);	/* "expand" ... */
const char *step_kind_name(StepKind kind);	/* "ddl" "concurrent" "backfill" "sql" */
const char *strategy_name(Strategy s);	/* "plain" "online" */

/* What a STEP_BACKFILL updates; the executor's backfill engine batches it. */
typedef struct BackfillSpec
{
	char	   *table;
	KeyExprList set;			/* owned by the step (copied) */
	char	   *where;			/* owned; NULL: every row */
	int64_t		batch_size;		/* 0: from settings (auto) */
	int64_t		batch_delay_ms; /* -1: from settings */
	char	   *save_table;		/* owned; NULL, or a table of schema migrate to
								 * which each batch adds, keyed by the primary
								 * key, the values it overwrites (rollback) */
	char	   *restore_from;	/* owned; NULL, or such a table: each batch
								 * puts its values back instead of set's
								 * expressions (set names the columns) */
	char	   *copy_to;		/* owned; NULL, or a table with table's columns:
								 * each batch copies its rows there instead
								 * (INSERT ... SELECT ... ON CONFLICT DO
								 * NOTHING; set is empty) */
	char	   *save_batches;	/* owned; NULL, or with save_table (online): the
								 * table of migrate in which each batch saves
								 * one row, an array of save_table's rows;
								 * with restore_from, the one to put back */
	char	   *undo_of;		/* owned; NULL, or the id of the backfill step
								 * this one undoes: it walks only as far as
								 * that one went */
} BackfillSpec;

/*
 * An object a step creates, which the ledger records as the migration's own
 * (ledger.h): a step whose object exists but is not this migration's is an
 * error naming the owner, never "already done".
 */
typedef struct OwnedObject
{
	char	   *kind;			/* "table" "index" "constraint" "trigger"
								 * "function" "view" ... */
	char	   *name;			/* as the file names it (schema.name or
								 * name); a function: its signature */
	char	   *table;			/* constraint, trigger, policy: its table; else
								 * NULL */
	char	   *only_if;		/* NULL, or a SQL boolean, true after the step
								 * when the step made the object: a step that
								 * makes it only when missing (a role, the
								 * tenant table) uses one of another owner,
								 * and owns only the one it made */
} OwnedObject;

/*
 * What the executor does when a step fails, so that the failure leaves
 * nothing that changes how the application's statements behave: a
 * constraint that did not validate dropped, an INVALID index dropped, a
 * sync trigger whose expression fails removed.  Set by the planner.
 */
typedef struct StepCleanup
{
	StrList		sql;			/* statements, in order; empty: none */
	bool		in_txn;			/* in one short transaction, else each on
								 * its own (DROP INDEX CONCURRENTLY) */
	StrList		forget;			/* ids of earlier steps whose effect the
								 * cleanup undoes: their completion is
								 * forgotten, so a resume runs them again */
	char	   *summary;		/* what it removed, for the message */
} StepCleanup;

typedef struct Step
{
	char	   *id;				/* "<version>.<op>.<n>": stable across runs */
	int			op_index;		/* into Migration.ops */
	StepPhase	phase;
	StepKind	kind;
	char	   *summary;		/* one line for people */
	StrList		sql;			/* statements, run in order */
	char	   *dynamic_sql;	/* NULL, or a SELECT that returns zero or one
								 * text: a statement to run after sql (one
								 * built from saved state, e.g. CREATE INDEX
								 * CONCURRENTLY from a saved definition) */
	LockMode	lock;			/* strongest lock taken */
	char	   *lock_relation;	/* the table it is taken on, unquoted; NULL */
	bool		rewrites;		/* the table is rewritten under the lock */
	bool		scans;			/* the table is scanned under the lock */
	int			sql_line;		/* STEP_SQL of its own statement: its line in
								 * the file; 0: the whole up text */
	bool		in_txn;			/* may run inside a transaction */
	char	   *done_check;		/* SELECT of one boolean: true when the step
								 * has already happened; NULL: none */
	BackfillSpec *backfill;		/* STEP_BACKFILL only */
	struct Step *rollback;		/* inverse steps, in the order to run them */
	size_t		n_rollback;
	char	   *irreversible;	/* why it cannot be undone; NULL: it can */
	char	   *warning;		/* e.g. a rename breaks running code; NULL */
	int64_t		est_rows;		/* rows of lock_relation, -1: unknown */

	/*
	 * Decided by the planner, once, for everyone who reads the plan
	 * (executor, render, lint, the commands):
	 */
	bool		deferred;		/* apply leaves it to finalize (an online
								 * contract step): rollback before finalize
								 * has nothing of it to undo */
	bool		batched;		/* a STEP_BACKFILL run by the batch engine
								 * (online), not as its one UPDATE (plain);
								 * inverse steps too */
	OwnedObject *owns;			/* the objects it creates */
	size_t		n_owns;
	StepCleanup on_failure;		/* run when it fails */
	bool		replace_if_changed; /* done before with another definition
									 * (the file was fixed): run again, it
									 * replaces its own object */
	char	   *why_plain;		/* an online plan's plain statements: why
								 * ("empty table: plain statements"); NULL */
} Step;

typedef struct MigrationPlan
{
	const Migration *migration; /* borrowed */
	Strategy	strategy;
	Step	   *steps;
	size_t		n_steps;
	bool		irreversible;	/* some step cannot be undone */
} MigrationPlan;

typedef struct Plan
{
	Strategy	strategy;
	MigrationPlan *items;
	size_t		n;
} Plan;

/*
 * Compiles one migration.  cat may be NULL (no database): the plan is then
 * built from the files alone and row estimates are -1.
 */
bool		plan_migration(const Migration *m, Strategy strategy,
						   const struct Catalog *cat, MigrationPlan *out,
						   Error *err);

/*
 * The steps that roll mp back, in the order they run: the inverse steps of
 * each step, newest step first, limited to the steps in done (NULL: every
 * step apply runs; online, the contract steps wait for finalize and are
 * not among them).  *out (caller frees) borrows from mp.  False, with err
 * (EXIT_USAGE), when one of them cannot be undone.
 */
bool		plan_rollback_steps(const MigrationPlan *mp, const StrList *done,
								const Step ***out, size_t *n_out, Error *err);

/*
 * Whether a and b are the same plan: the same steps, with the same SQL,
 * locks, checks and inverse steps (a plan made again just before it runs,
 * against the plan that was judged).
 */
bool		plan_same(const MigrationPlan *a, const MigrationPlan *b);

/*
 * Tells cat's snapshot what the later migrations of a set being planned
 * may assume m did (the tables it creates are there, empty; after its own
 * SQL, no table is known empty), so that their plans are the ones apply
 * runs after m (plan, apply's first judgement).
 */
void		plan_assume_applied(const Migration *m, const struct Catalog *cat);

void		step_free(Step *s);
void		migration_plan_free(MigrationPlan *mp);
void		plan_free(Plan *p);

#endif
