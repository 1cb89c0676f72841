/*
 * progress.h: what apply, rollback and finalize report while they run.
 * For people (a terminal, or --format text): short lines, and a live line
 * for a running backfill on a terminal.  For programs (not a terminal, or
 * --format json): one JSON object per event per line on stdout.
 */
#ifndef MIGRATE_PROGRESS_H
#define MIGRATE_PROGRESS_H

#include <stdio.h>

#include "plan.h"

typedef struct Progress
{
	FILE	   *out;
	bool		json;			/* JSON events instead of text */
	bool		tty;			/* out is a terminal: live lines */
	bool		quiet;			/* text: only failures */
	bool		live_line_open; /* a \r line is on screen */
	size_t		live_line_len;	/* its length, to blank what a shorter one leaves */
	const Step *line_step;		/* terminal: the step whose "[id] ... " line waits
								 * for its " done"; NULL: none */
} Progress;

void		progress_migration_started(Progress *p, const Migration *m,
									   Strategy s, size_t n_steps, bool rollback);
void		progress_migration_finished(Progress *p, const Migration *m,
										int64_t ms, bool rollback);
void		progress_migration_failed(Progress *p, const Migration *m,
									  const char *message);
void		progress_step_started(Progress *p, const Migration *m, const Step *s);
void		progress_step_finished(Progress *p, const Migration *m, const Step *s,
								   int64_t ms, int64_t rows);
void		progress_step_skipped(Progress *p, const Migration *m, const Step *s,
								  const char *why);
/*
 * An autovacuum worker (pid, its query) held relation against the step:
 * cancelled (or not: cancelled false and wraparound false means the cancel
 * failed), or, when it prevents wraparound, waited for.  m, s may be NULL.
 */
void		progress_autovacuum(Progress *p, const Migration *m, const Step *s,
								const char *relation, int pid, const char *query,
								bool wraparound, bool cancelled);
/*
 * A lock attempt failed; retried after wait_ms.  The blockers as JSON (for
 * events) and as text (on a terminal: one readable line each).
 */
void		progress_step_retried(Progress *p, const Migration *m, const Step *s,
								  int attempt, int64_t wait_ms, const char *why,
								  const char *blockers_json, const char *blockers_text);
/*
 * A step still running after elapsed_ms: for an index build its phase and
 * blocks from pg_stat_progress_create_index (phase NULL, blocks -1: none).
 */
void		progress_step_running(Progress *p, const Migration *m, const Step *s,
								  int64_t elapsed_ms, const char *phase,
								  int64_t blocks_done, int64_t blocks_total);
void		progress_backfill(Progress *p, const Migration *m, const Step *s,
							  int64_t rows_done, int64_t rows_total,
							  int64_t batch_size, double rows_per_sec,
							  bool throttled);

#endif
