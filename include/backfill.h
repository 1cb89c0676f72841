/*
 * backfill.h: the batched UPDATE engine of STEP_BACKFILL in the online
 * strategy.  Keyset batches on the table's walk key (the primary key, else
 * unique NOT NULL columns; a table with neither is refused), each its own
 * short transaction under lock_timeout with its cursor, bounded by the rows
 * that existed when it started, sized to take about batch_time, paused
 * while a replica lags.  The cursors live in migrate.backfill_cursors
 * (docs/design.md, "Backfills").
 */
#ifndef MIGRATE_BACKFILL_H
#define MIGRATE_BACKFILL_H

#include "executor.h"

bool		backfill_run(ExecContext *ctx, const Migration *m, const Step *s,
						 int64_t *rows_out, Error *err);

/* How far a backfill step got, as the database records it. */
typedef enum BackfillState
{
	BACKFILL_NOT_STARTED,		/* no batch committed */
	BACKFILL_STARTED,			/* some batches committed, not the last */
	BACKFILL_FINISHED			/* the last batch committed: never runs again */
} BackfillState;

bool		backfill_step_state(ExecContext *ctx, const Migration *m, const Step *s,
								BackfillState *state, Error *err);

/* Drops the saved cursor of a backfill step (rolled back). */
void		backfill_forget_cursor(ExecContext *ctx, const Migration *m, const Step *s);

/*
 * A backfill's progress as the database shows it, for `status` from any
 * machine while a migration runs (read-only: it creates nothing).
 */
typedef struct BackfillProgress
{
	bool		found;			/* some batch committed, or it finished */
	bool		finished;
	int64_t		rows_done;
	int64_t		rows_total;		/* the estimate at the start; -1: unknown */
	double		rows_per_sec;	/* rows_done over the time since it started */
	int64_t		elapsed_ms;		/* from its start to its latest batch */
	int64_t		idle_ms;		/* since its latest batch */
	bool		moved;			/* some batch committed */
} BackfillProgress;

bool		backfill_progress_read(PGconn *conn, int64_t version, const char *step_id,
								   BackfillProgress *out, Error *err);

/* Cursor text: the key's values, each as "<length>:<bytes>". */
char	   *backfill_cursor_encode(const StrList *values);
bool		backfill_cursor_decode(const char *text, StrList *values);

/*
 * The next batch size: scale toward batch_time, at most fourfold up (a
 * short batch's time is mostly fixed cost, a poor guide) and halving down,
 * within [lo, hi].
 */
int64_t		backfill_next_batch_size(int64_t size, int64_t took_ms, int64_t target_ms,
									 int64_t lo, int64_t hi);

/*
 * A span walk's upper key: min(cursor + span, bound) as text into out;
 * false when a value does not parse as an integer.
 */
bool		backfill_span_upper(const char *cursor, int64_t span, const char *bound,
								char *out, size_t outlen);

#endif
