/*
 * cmd_status.c: "migrate status": the files and the history merged, in
 * version order, each with what it is now.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		n++;
	}
	render_status(stdout, e, n, r->g->format);
	free(e);
	return EXIT_OK;
}
