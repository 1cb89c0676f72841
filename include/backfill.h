/*
 * backfill.h: the batched UPDATE engine of STEP_BACKFILL in the online
 * strategy.  Keyset batches on the primary key (ctid page ranges when there
 * is none), each its own short transaction under lock_timeout, bounded by
 * the rows that existed when it started, sized to take about batch_time,
 * paused while a replica lags, with its cursor saved after every batch.
 */
#ifndef MIGRATE_BACKFILL_H
#define MIGRATE_BACKFILL_H

#include "executor.h"

bool		backfill_run(ExecContext *ctx, const Migration *m, const Step *s,
						 int64_t *rows_out, Error *err);

/*
 * How far a backfill step (by its id) of version is, as its cursor in the
 * database says: *rows_done (0 when it has none yet); false with err only
 * when the question failed.  status reads it, from any machine.
 */
bool		backfill_rows_done(PGconn *conn, int64_t version, const char *step_id,
							   int64_t *rows_done, Error *err);

/* Drops the saved cursor of a backfill step (finished, or rolled back). */
void		backfill_forget_cursor(ExecContext *ctx, const Migration *m, const Step *s);

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
