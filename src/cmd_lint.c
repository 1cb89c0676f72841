/*
 * cmd_lint.c: "migrate lint [FILE...]": judges the steps apply --online
 * would run (the operations compile to online steps; raw SQL is judged as
 * written); --plain judges what apply without --online would run.  With a
 * database, what the text cannot tell is asked of the catalog, and only the
 * pending migrations are judged (--all: every one).
 */
#include "cli.h"

#include <stdlib.h>

int
cmd_lint(Run *r)
{
	size_t		n_files = r->a->positional.n;
	Migration  *files = xcalloc(n_files + 1, sizeof(Migration));
	MigrationSet set = {0};
	const Migration **ms = NULL;
	size_t		n = 0;
	Error		err = {0};
	int			rc = EXIT_OK;

	for (; n < n_files; n++)
		if (!spec_load_file(r->a->positional.items[n], &files[n], &err))
		{
			rc = cli_fail(&err);
			break;
		}
	if (rc == EXIT_OK && n_files == 0 && !spec_load_dir(r->g->dir, &set, &err))
		rc = cli_fail(&err);
	if (rc == EXIT_OK)
	{
		size_t		count = n_files ? n_files : set.n;

		size_t		judged = 0;

		ms = xcalloc(count + 1, sizeof(Migration *));
		for (size_t i = 0; i < count; i++)
		{
			const Migration *m = n_files ? &files[i] : &set.items[i];

			/* what is applied was judged when it ran: pending ones, unless --all */
			if (r->connected && !r->a->all && cli_is_applied(&r->s.history, m->version))
				continue;
			ms[judged++] = m;
		}
		rc = cli_lint_migrations(r->g, ms, judged, r->a->plain ? STRATEGY_PLAIN : STRATEGY_ONLINE,
								 r->connected ? &r->s.cat : NULL);
	}
	free(ms);
	for (size_t i = 0; i <= n && i < n_files; i++)
		migration_free(&files[i]);
	free(files);
	migration_set_free(&set);
	return rc;
}
