/*
 * cmd_finalize.c: "migrate finalize": the contract phase of every migration
 * applied online and not finalized yet (the drops apply deferred, the sync
 * triggers), listed first and, being irreversible, confirmed on a terminal
 * unless --yes; each migration finalized is recorded in the history table.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Asks on the terminal; EXIT_OK when the answer is yes. */
static int
confirm(bool json, Error *err)
{
	FILE	   *to = json ? stderr : stdout;	/* where people read, not into results */
	char		answer[16] = "";

	if (!isatty(STDIN_FILENO))
	{
		error_set(err, EXIT_USAGE, "finalize is irreversible: confirm on a terminal, or pass --yes");
		return cli_fail(err);
	}
	fprintf(to, "Proceed? [y/N] ");
	fflush(to);
	if (fgets(answer, sizeof answer, stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y'))
	{
		fprintf(to, "Nothing was changed.\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* A completed migration applied online whose contract phase has not run. */
static bool
to_finalize(const HistoryRow *row)
{
	return row->status == HISTORY_COMPLETED && row->finalized_at == NULL &&
		cli_applied_strategy(row) == STRATEGY_ONLINE;
}

int
cmd_finalize(Run *r)
{
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	const History *h = &r->s.history;
	MigrationPlan *plans = xcalloc(h->n + 1, sizeof(MigrationPlan));
	Migration  *kept = xcalloc(h->n + 1, sizeof(Migration));
	FinalizeItem *items = NULL;
	size_t		n = 0,
				cap = 0;
	int			rc = EXIT_OK;

	cli_init_progress(&progress, r->g);
	cli_exec_context(&ctx, r, &progress, NULL);

	/*
	 * What the contract phase drops, of every migration to finalize (as it
	 * was applied: from the kept text when its file is gone or changed).
	 */
	for (size_t i = 0; i < h->n && rc == EXIT_OK; i++)
	{
		const Migration *m;

		if (!to_finalize(&h->rows[i]))
			continue;
		if ((m = cli_applied_migration(r, &h->rows[i], &kept[i], &err)) == NULL ||
			!plan_migration(m, STRATEGY_ONLINE, &r->s.cat, &plans[i], &err))
		{
			rc = cli_fail(&err);
			break;
		}
		for (size_t k = 0; k < plans[i].n_steps; k++)
		{
			if (!plans[i].steps[k].deferred)
				continue;
			if (n == cap)
				items = xrealloc(items, (cap = cap ? 2 * cap : 8) * sizeof *items);
			items[n++] = (FinalizeItem) {m, &plans[i].steps[k]};
		}
	}
	/* JSON (a pipe, or --format json): one line listing the steps, then the events */
	if (rc == EXIT_OK)
		render_finalize_plan(stdout, items, n, r->a->dry_run,
							 progress.json ? FORMAT_JSON : FORMAT_TEXT);
	fflush(stdout);
	if (rc == EXIT_OK && n > 0 && !r->a->dry_run && !r->a->yes)
		rc = confirm(progress.json, &err);
	for (size_t i = 0; i < n && rc == EXIT_OK && !r->a->dry_run; i++)
	{
		ctx.settings = cli_settings(items[i].m, r->a);
		if (!execute_step(&ctx, items[i].m, items[i].step, false, &err))
			rc = cli_fail(&err);
	}
	/* recorded: a second finalize has nothing to list, nothing to ask */
	for (size_t i = 0; i < h->n && rc == EXIT_OK && !r->a->dry_run; i++)
		if (plans[i].migration &&
			!history_mark_finalized(r->s.conn, r->g->table, h->rows[i].version, &err))
			rc = cli_fail(&err);
	for (size_t i = 0; i < h->n; i++)
	{
		migration_plan_free(&plans[i]);
		migration_free(&kept[i]);
	}
	free(plans);
	free(kept);
	free(items);
	return rc;
}
