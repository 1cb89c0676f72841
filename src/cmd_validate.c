/*
 * cmd_validate.c: "migrate validate": every file of --dir loads (the
 * dispatcher loaded them) and each SQL expression parses; a problem is
 * exit 2 with file:line:col.
 */
#include "cli.h"

#include <stdio.h>

#include "preflight.h"

int
cmd_validate(Run *r)
{
	Error		err = {0};
	size_t		ops = 0;

	for (size_t i = 0; i < r->set.n; i++)
	{
		if (!preflight_parse(&r->set.items[i], &err))
			return cli_fail(&err);
		ops += r->set.items[i].n_ops;
	}
	if (r->g->format == FORMAT_JSON)
		printf("{\"valid\":true,\"migrations\":%zu,\"operations\":%zu}\n", r->set.n, ops);
	else if (!r->g->quiet)
		printf("%zu migration%s, %zu operation%s: valid\n", r->set.n, r->set.n == 1 ? "" : "s",
			   ops, ops == 1 ? "" : "s");
	return EXIT_OK;
}
