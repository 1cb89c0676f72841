/*
 * cmd_plan.c: "migrate plan": the steps of the pending migrations (with a
 * database) or of every migration (without one).
 */
#include "cli.h"

#include <stdio.h>

int
cmd_plan(Run *r)
{
	Error		err = {0};
	Plan		plan = {0};
	Settings	st = cli_settings(NULL, r->a);
	RenderOptions ro = {r->g->color, r->connected, &st};
	Strategy	strategy = r->a->online ? STRATEGY_ONLINE : STRATEGY_PLAIN;
	int			rc = EXIT_OK;

	if (r->connected && !cli_check_drift(&r->set, &r->s.history, &err))
	{
		fprintf(stderr, "migrate: warning: %s\n", err.message);
		error_clear(&err);
	}
	plan.strategy = strategy;
	plan.items = xcalloc(r->set.n + 1, sizeof(MigrationPlan));
	for (size_t i = 0; i < r->set.n && rc == EXIT_OK; i++)
	{
		const Migration *m = &r->set.items[i];

		if (r->a->to_given && m->version > r->a->to)
			continue;
		if (r->connected && cli_is_applied(&r->s.history, m->version))
			continue;
		if (!plan_migration(m, strategy, r->connected ? &r->s.cat : NULL,
							&plan.items[plan.n], &err))
			rc = cli_fail(&err);
		else
			plan.n++;
	}
	if (rc == EXIT_OK)
		render_plan(stdout, &plan, r->g->format, &ro);
	plan_free(&plan);
	return rc;
}
