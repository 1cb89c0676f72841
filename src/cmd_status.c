/*
 * cmd_status.c: "migrate status": the files and the history merged, in
 * version order, each with what it is now.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"

/*
 * Where a running migration is (migrate(1), status): the step
 * its runner recorded, that step's summary from the plan of what was
 * applied, and for a backfill its rows done (the cursor, in the database)
 * out of the table's estimate.  Best effort: what cannot be told is left
 * out.
 */
static void
where_running(Run *r, const HistoryRow *row, StatusEntry *e)
{
	Migration	kept;
	const Migration *m;
	MigrationPlan mp = {0};
	Error		err = {0};

	e->step_elapsed_ms = row->step_elapsed_ms;
	e->step_id = xstrdup(row->current_step);
	if ((m = cli_applied_migration(r, row, &kept, &err)) != NULL &&
		plan_migration(m, cli_applied_strategy(row), &r->s.cat, &mp, &err))
		for (size_t i = 0; i < mp.n_steps; i++)
		{
			const Step *s = &mp.steps[i];

			if (strcmp(s->id, row->current_step) != 0)
				continue;
			BackfillProgress bp = {0};

			e->step_summary = xstrdup(s->summary);
			e->backfill = s->kind == STEP_BACKFILL && s->backfill &&
				backfill_progress_read(r->s.conn, row->version, s->id, &bp, &err);
			e->rows_done = bp.rows_done;
			e->rows_per_sec = bp.rows_per_sec;
			/* the backfill's own estimate at its start, else the table's now */
			e->rows_total = !e->backfill ? -1 : bp.rows_total >= 0 ? bp.rows_total
				: catalog_row_estimate(&r->s.cat, s->backfill->table);
			break;
		}
	error_clear(&err);
	migration_plan_free(&mp);
	migration_free(&kept);
}

static const char *
status_of(const Migration *m, const HistoryRow *row)
{
	if (row == NULL || row->status == HISTORY_NONE)
		return m ? "pending" : history_status_name(HISTORY_NONE);
	return history_status_name(row->status);
}

int
cmd_status(Run *r)
{
	const MigrationSet *set = &r->set;
	const History *h = &r->s.history;
	StatusEntry *e = xcalloc(set->n + h->n + 1, sizeof(StatusEntry));
	size_t		n = 0,
				fi = 0,
				hi = 0;
	int			runner = -1;	/* whether a migrate holds the run lock; -1: not asked */

	/* Merge the files and the history, both in version order. */
	while (fi < set->n || hi < h->n)
	{
		const Migration *m = fi < set->n ? &set->items[fi] : NULL;
		const HistoryRow *row = hi < h->n ? &h->rows[hi] : NULL;

		if (m && row && m->version == row->version)
			fi++, hi++;
		else if (m && (!row || m->version < row->version))
			fi++, row = NULL;
		else
			hi++, m = NULL;
		e[n].m = m;
		e[n].row = row;
		e[n].status = status_of(m, row);
		e[n].drifted = m && row && row->status == HISTORY_COMPLETED &&
			strcmp(m->checksum, row->checksum) != 0;
		/* "running" with no runner: it was killed or lost its connection */
		if (row && row->status == HISTORY_RUNNING && runner < 0)
			runner = runlock_held(r->s.conn, r->g->table);
		/* or a signal stopped it: not a failure of its own */
		e[n].interrupted = row && ((row->status == HISTORY_RUNNING && runner == 0) ||
								   (row->status == HISTORY_FAILED && row->interrupted));
		e[n].online = row && row->status == HISTORY_COMPLETED &&
			cli_applied_strategy(row) == STRATEGY_ONLINE;
		e[n].step_elapsed_ms = -1;
		e[n].rows_total = -1;
		if (row && row->status == HISTORY_RUNNING && runner == 1 && row->current_step)
			where_running(r, row, &e[n]);
		n++;
	}
	render_status(stdout, e, n, r->g->format);
	for (size_t i = 0; i < n; i++)
	{
		free(e[i].step_id);
		free(e[i].step_summary);
	}
	free(e);
	return EXIT_OK;
}
