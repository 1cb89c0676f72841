/*
 * cmd_validate.c: "migrate validate": every file of --dir loads (the
 * dispatcher loaded them), each SQL expression parses and each migration
 * compiles into a plan (what the files alone can tell: a concurrent refresh
 * of a view made without a unique index, say); a problem is exit 2 with
 * file:line:col.
 */
#include "cli.h"

#include <stdio.h>

#include "json.h"
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
	{
		JsonLine	l;

		json_line_begin(&l, NULL);
		json_member_bool(&l.w, "valid", true);
		json_member_int(&l.w, "migrations", (int64_t) r->set.n);
		json_member_int(&l.w, "operations", (int64_t) ops);
		json_line_end(&l, stdout);
	}
	else if (!r->g->quiet)
		printf("%zu migration%s, %zu operation%s: valid\n", r->set.n, r->set.n == 1 ? "" : "s",
			   ops, ops == 1 ? "" : "s");
	return EXIT_OK;
}
