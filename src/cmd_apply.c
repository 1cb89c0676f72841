/*
 * cmd_apply.c: "migrate apply": the pending migrations, in order.  Before
 * the first runs, every one is planned (each with what the ones before it
 * create, as plan shows them) and judged, so that a refusal changes nothing
 * at all; what runs is what was judged, each plan judged once: a later
 * migration is planned again just before it runs, and judged again only
 * when that plan differs.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "json.h"
#include "lint.h"
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

/*
 * What apply refuses of a plan, before it changes anything (exit 3):
 * online, a step lint calls unsafe (unless unsafe_ok accepts it); plain
 * (unless --plain), such a step on a table holding more than
 * plain_max_rows rows, counted.  The findings go to stderr.
 */
static int
judge_plan(Run *r, const MigrationPlan *mp, Error *err)
{
	LintOptions lo = {mp->strategy, &r->s.cat, 0};
	LintReport	report = {0};
	Settings	st = cli_settings(mp->migration, r->a);
	const char *big = NULL;
	int			rc = EXIT_OK;

	if (mp->strategy == STRATEGY_PLAIN && r->a->plain)
		return EXIT_OK;
	if (!lint_plan(mp, &lo, &report, err))
	{
		lint_report_free(&report);
		return cli_fail(err);
	}
	for (size_t i = 0; i < report.n && big == NULL; i++)
	{
		const LintFinding *f = &report.items[i];

		if (f->accepted || f->warning)
			continue;
		if (mp->strategy == STRATEGY_ONLINE)
			rc = EXIT_UNSAFE;
		/* a table it cannot count (new in this migration) holds nothing yet */
		else if (f->lock_on && catalog_rows_exceed(&r->s.cat, f->lock_on, st.plain_max_rows) == 1)
			big = f->lock_on;
	}
	if (big)
		rc = EXIT_UNSAFE;
	if (rc != EXIT_OK)
	{
		lint_render(stderr, &report, FORMAT_TEXT);
		if (big)
			fprintf(stderr, "migrate: apply refuses migration %s_%s: an unsafe step on \"%s\", "
					"which holds more than plain_max_rows (%lld) rows, would block the "
					"application; nothing was changed: run it with --online, or with --plain "
					"to run the plain plan anyway\n", mp->migration->version_text,
					mp->migration->name, big, (long long) st.plain_max_rows);
		else
			fputs("migrate: apply --online refuses unsafe steps; fix them, or accept each with "
				  "unsafe_ok: \"<reason>\" on its operation\n", stderr);
	}
	lint_report_free(&report);
	return rc;
}

/*
 * Every pending migration planned and judged before the first one runs, so
 * that a refusal changes nothing at all: in order, each planned with what
 * the ones before it will have done (the tables they create, empty), the
 * plans apply then runs.  *plans (n of them) for the caller to free.
 */
static int
plan_and_judge_all(Run *r, Strategy strategy, const Migration *const *todo, size_t n,
				   MigrationPlan **plans, Error *err)
{
	int			rc = EXIT_OK;

	*plans = xcalloc(n + 1, sizeof(MigrationPlan));
	catalog_forget(&r->s.cat);
	for (size_t i = 0; i < n && rc == EXIT_OK; i++)
	{
		if (!plan_migration(todo[i], strategy, &r->s.cat, &(*plans)[i], err))
			return cli_fail(err);
		plan_assume_applied(todo[i], &r->s.cat);
		rc = judge_plan(r, &(*plans)[i], err);
	}
	return rc;
}

/*
 * One migration: shown (--dry-run) or run.  judged is the plan judged
 * before the first migration ran.  The first runs it as it is: nothing has
 * changed since.  A later one is planned again, now that the catalog shows
 * what the migrations before it did; when that plan is the one judged, it
 * is not judged again, else the new plan is judged, once, and runs.
 */
static int
apply_one(Run *r, ExecContext *ctx, MigrationPlan *judged, bool first, Error *err)
{
	const Migration *m = judged->migration;
	MigrationPlan again = {0};
	MigrationPlan *mp = judged;
	int			rc = EXIT_OK;

	if (!first && !r->a->dry_run)
	{
		catalog_forget(&r->s.cat);
		if (!plan_migration(m, ctx->strategy, &r->s.cat, &again, err))
			return cli_fail(err);
		if (!plan_same(judged, &again))
		{
			mp = &again;
			rc = judge_plan(r, mp, err);
		}
	}
	if (rc != EXIT_OK)
		;
	else if (r->a->dry_run)
	{
		Plan		one = {ctx->strategy, mp, 1};
		Settings	st = cli_settings(m, r->a);
		RenderOptions ro = {r->g->color, true, &st};

		render_plan(stdout, &one, r->g->format == FORMAT_JSON ? FORMAT_JSON : FORMAT_TEXT, &ro);
	}
	else
	{
		char	   *why = cli_rollback_refusal(mp, false);

		/* said before it starts, so that it can still be stopped */
		if (why)
			fprintf(stderr, "migrate: warning: %s\n", why);
		free(why);
		ctx->settings = cli_settings(m, r->a);
		/* nothing changes before every expression compiles */
		if (!preflight_compile(ctx, m, err) || !execute_migration(ctx, mp, err))
			rc = cli_fail(err);
	}
	migration_plan_free(&again);
	return rc;
}

int
cmd_apply(Run *r)
{
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	char	   *applied_by = NULL;
	const Migration **todo;
	MigrationPlan *plans = NULL;
	size_t		n;
	int			rc = EXIT_OK;

	if (!cli_check_drift(&r->set, &r->s.history, &err))
		return cli_fail(&err);
	cli_init_progress(&progress, r->g);
	applied_by = db_applied_by(r->s.conn);
	cli_exec_context(&ctx, r, &progress, applied_by);
	todo = pending(r, &n);
	rc = plan_and_judge_all(r, ctx.strategy, todo, n, &plans, &err);
	for (size_t i = 0; i < n && rc == EXIT_OK && !cli_halted(&progress, i, n); i++)
		rc = apply_one(r, &ctx, &plans[i], i == 0, &err);
	if (rc == EXIT_OK && n == 0 && !r->g->quiet)
	{
		if (progress.json)
			json_event_line(stdout, "up_to_date");
		else
			printf("Nothing to apply: all %zu migration%s applied.\n", r->set.n,
				   r->set.n == 1 ? " is" : "s are");
	}
	for (size_t i = 0; i < n; i++)
		migration_plan_free(&plans[i]);
	free(plans);
	free(todo);
	free(applied_by);
	return rc;
}
