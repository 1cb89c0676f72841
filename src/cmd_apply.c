/*
 * cmd_apply.c: "migrate apply": the pending migrations, in order, each
 * planned once; with --online nothing runs while a pending step is unsafe.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "preflight.h"

/* The pending migrations up to --to, in order; *n of them. */
static const Migration **
pending(Run *r, size_t *n)
{
	const Migration **todo = xcalloc(r->set.n + 1, sizeof(Migration *));

	*n = 0;
	for (size_t i = 0; i < r->set.n; i++)
	{
		if (r->a->to_given && r->set.items[i].version > r->a->to)
			break;
		if (!cli_is_applied(&r->s.history, r->set.items[i].version))
			todo[(*n)++] = &r->set.items[i];
	}
	return todo;
}

/* One migration: shown (--dry-run), or run. */
static bool
apply_one(Run *r, ExecContext *ctx, const Migration *m, Error *err)
{
	MigrationPlan mp = {0};
	bool		ok = true;

	if (!plan_migration(m, ctx->strategy, &r->s.cat, &mp, err))
		return false;
	if (r->a->dry_run)
	{
		Plan		one = {ctx->strategy, &mp, 1};
		Settings	st = cli_settings(m, r->a);
		RenderOptions ro = {r->g->color, true, &st};

		render_plan(stdout, &one, r->g->format == FORMAT_JSON ? FORMAT_JSON : FORMAT_TEXT, &ro);
	}
	else
	{
		{
			char	   *why = cli_rollback_refusal(&mp, false);

			/* said before it starts, so that it can still be stopped */
			if (why)
				fprintf(stderr, "migrate: warning: %s\n", why);
			free(why);
		}
		ctx->settings = cli_settings(m, r->a);
		/* nothing changes before every expression compiles */
		ok = preflight_compile(ctx, m, err) && execute_migration(ctx, &mp, err);
	}
	migration_plan_free(&mp);
	return ok;
}

int
cmd_apply(Run *r)
{
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	char	   *applied_by = NULL;
	const Migration **todo;
	size_t		n;
	int			rc = EXIT_OK;

	if (!cli_check_drift(&r->set, &r->s.history, &err))
		return cli_fail(&err);
	cli_init_progress(&progress, r->g);
	applied_by = db_applied_by(r->s.conn);
	cli_exec_context(&ctx, r, &progress, applied_by);
	todo = pending(r, &n);
	if (r->a->online)
		rc = cli_lint_migrations(r->g, todo, n, STRATEGY_ONLINE, &r->s.cat, true);
	for (size_t i = 0; i < n && rc == EXIT_OK; i++)
		if (!apply_one(r, &ctx, todo[i], &err))
			rc = cli_fail(&err);
	if (rc == EXIT_OK && n == 0 && !r->g->quiet)
	{
		if (progress.json)
			printf("{\"event\":\"up_to_date\"}\n");
		else
			printf("Nothing to apply: all %zu migration%s applied.\n", r->set.n,
				   r->set.n == 1 ? " is" : "s are");
	}
	free(todo);
	free(applied_by);
	return rc;
}
