/*
 * cmd_validate.c: "migrate validate": every file of --dir loads (the
 * dispatcher loaded them), each SQL expression parses and each migration
 * compiles into a plan (what the files alone can tell: a concurrent refresh
 * of a view made without a unique index, say); a problem is exit 2 with
 * file:line:col.
 */
#include "cli.h"

#include <stdio.h>

#include "plan.h"
#include "preflight.h"

int
cmd_validate(Run *r)
{
	Error		err = {0};
	size_t		ops = 0;

	for (size_t i = 0; i < r->set.n; i++)
	{
		MigrationPlan mp = {0};

		if (!preflight_parse(&r->set.items[i], &err) ||
			!plan_migration(&r->set.items[i], STRATEGY_ONLINE, NULL, &mp, &err))
			return cli_fail(&err);
		migration_plan_free(&mp);
		ops += r->set.items[i].n_ops;
	}
	if (r->g->format == FORMAT_JSON)
		printf("{\"valid\":true,\"migrations\":%zu,\"operations\":%zu}\n", r->set.n, ops);
	else if (!r->g->quiet)
		printf("%zu migration%s, %zu operation%s: valid\n", r->set.n, r->set.n == 1 ? "" : "s",
			   ops, ops == 1 ? "" : "s");
	return EXIT_OK;
}
