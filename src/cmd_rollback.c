/*
 * cmd_rollback.c: "migrate rollback": the newest applied migrations undone,
 * newest first; each planned with the strategy it was applied with, and
 * every plan checked before anything runs.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "json.h"

/* The migrations rollback undoes, newest first. */
static size_t
rollback_targets(const History *h, const Args *a, const HistoryRow **out)
{
	size_t		n = 0;
	int64_t		steps = a->steps > 0 ? a->steps : 1;

	for (size_t i = h->n; i-- > 0;)
	{
		const HistoryRow *row = &h->rows[i];

		if (row->status == HISTORY_ROLLED_BACK)
			continue;
		if (a->to_given ? row->version <= a->to : (int64_t) n >= steps)
			break;
		out[n++] = row;
	}
	return n;
}

/*
 * The steps of a migration that completed, as the ledger records them in
 * the database.  For a migration the ledger has no run of (applied before
 * it existed) that failed half way: the journal's, else (no state file) the
 * database's done checks.  Either way a backfill that committed some
 * batches is added: its undo goes as far as it went.  *listed false: no
 * list, every step of a completed migration is undone.
 */
static bool
completed_steps(Run *r, ExecContext *ctx, const MigrationPlan *mp, bool partial,
				StrList *out, bool *listed, Error *err)
{
	bool		known;

	if (!executor_completed_steps(ctx, mp, out, &known, err))
		return false;
	*listed = known || partial;
	if (!*listed)
		return true;
	if (!known && r->s.journal)
		journal_completed_steps(r->s.journal, mp->migration->version, out);
	if (!known && out->n == 0 && !executor_done_in_database(ctx, mp, out, err))
		return false;
	/* a backfill cut short is undone as far as it went */
	return executor_add_started_backfills(ctx, mp, out, err);
}

/*
 * Plans one target as it was applied (from the text the history kept when
 * the file is gone or changed, into *kept), refusing what cannot be undone.
 */
static bool
plan_one(Run *r, const HistoryRow *row, Migration *kept, MigrationPlan *mp, Error *err)
{
	const Migration *m = cli_applied_migration(r, row, kept, err);
	char	   *why;

	if (m == NULL)
	{
		error_prefix(err, "cannot roll back");
		return false;
	}
	if (!plan_migration(m, cli_applied_strategy(row), &r->s.cat, mp, err))
		return false;
	why = row->status == HISTORY_COMPLETED
		? cli_rollback_refusal(mp, row->finalized_at != NULL) : NULL;
	if (why)
	{
		error_set(err, EXIT_USAGE, "%s; nothing was changed", why);
		free(why);
		return false;
	}
	return true;
}

int
cmd_rollback(Run *r)
{
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	const HistoryRow **targets;
	MigrationPlan *plans;
	Migration  *kept;
	RollbackPlan *shown;
	StrList    *done;
	bool	   *listed;
	size_t		n;
	int			rc = EXIT_OK;

	cli_init_progress(&progress, r->g);
	cli_exec_context(&ctx, r, &progress, NULL);
	targets = xcalloc(r->s.history.n + 1, sizeof(HistoryRow *));
	n = rollback_targets(&r->s.history, r->a, targets);
	plans = xcalloc(n + 1, sizeof(MigrationPlan));
	kept = xcalloc(n + 1, sizeof(Migration));
	shown = xcalloc(n + 1, sizeof(RollbackPlan));
	done = xcalloc(n + 1, sizeof(StrList));
	listed = xcalloc(n + 1, sizeof(bool));

	/* Plan every rollback first: refuse before anything runs. */
	for (size_t i = 0; i < n && rc == EXIT_OK; i++)
	{
		shown[i].mp = &plans[i];
		shown[i].partial = targets[i]->status != HISTORY_COMPLETED;
		if (!plan_one(r, targets[i], &kept[i], &plans[i], &err) ||
			!completed_steps(r, &ctx, &plans[i], shown[i].partial, &done[i], &listed[i], &err) ||
			!plan_rollback_steps(&plans[i], listed[i] ? &done[i] : NULL,
								 &shown[i].steps, &shown[i].n, &err))
			rc = cli_fail(&err);
	}
	if (rc == EXIT_OK && r->a->dry_run)
	{
		RenderOptions ro = {r->g->color, true, NULL};

		render_rollback_plan(stdout, shown, n, r->g->format == FORMAT_JSON
							 ? FORMAT_JSON : FORMAT_TEXT, &ro);
	}
	else if (rc == EXIT_OK && n == 0 && !r->g->quiet && progress.json)
		json_event_line(stdout, "nothing_to_roll_back");
	else if (rc == EXIT_OK && n == 0 && !r->g->quiet)
		printf("Nothing to roll back.\n");
	for (size_t i = 0; i < n && rc == EXIT_OK && !r->a->dry_run &&
		 !cli_halted(&progress, i, n); i++)
	{
		ctx.settings = cli_settings(plans[i].migration, r->a);
		if (!execute_rollback(&ctx, &plans[i], listed[i] ? &done[i] : NULL, &err))
			rc = cli_fail(&err);
	}
	for (size_t i = 0; i < n; i++)
	{
		migration_plan_free(&plans[i]);
		migration_free(&kept[i]);
		free(shown[i].steps);
		strlist_free(&done[i]);
	}
	free(done);
	free(listed);
	free(shown);
	free(plans);
	free(kept);
	free(targets);
	return rc;
}
