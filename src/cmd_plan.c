/*
 * cmd_plan.c: "migrate plan": the steps of the pending migrations (with a
 * database) or of every migration (without one).  With a database it shows
 * the steps apply will run: each migration planned with what the ones
 * before it create (empty tables, which get the plain statements), and the
 * steps whose done check already holds (a migration that stopped half way)
 * left out, as apply skips them.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

/* Whether step s already happened, as its done check says (an error: no). */
static bool
already_done(PGconn *conn, const Step *s)
{
	Error		err = {0};
	PGresult   *res;
	bool		done;

	if (s->done_check == NULL)
		return false;
	res = db_query(conn, s->done_check, 0, NULL, &err);
	error_clear(&err);
	done = res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return done;
}

/*
 * Leaves out of a plan of a migration that stopped half way the steps apply
 * will skip; returns how many.
 */
static size_t
drop_done_steps(PGconn *conn, MigrationPlan *mp)
{
	size_t		kept = 0;
	size_t		dropped;

	for (size_t i = 0; i < mp->n_steps; i++)
	{
		if (!mp->steps[i].deferred && already_done(conn, &mp->steps[i]))
		{
			step_free(&mp->steps[i]);
			continue;
		}
		if (kept != i)
			mp->steps[kept] = mp->steps[i];
		kept++;
	}
	dropped = mp->n_steps - kept;
	mp->n_steps = kept;
	return dropped;
}

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
	if (r->connected)
		catalog_forget(&r->s.cat);
	for (size_t i = 0; i < r->set.n && rc == EXIT_OK; i++)
	{
		const Migration *m = &r->set.items[i];

		if (r->a->to_given && m->version > r->a->to)
			continue;
		if (r->connected && cli_is_applied(&r->s.history, m->version))
			continue;
		if (!plan_migration(m, strategy, r->connected ? &r->s.cat : NULL,
							&plan.items[plan.n], &err))
		{
			rc = cli_fail(&err);
			break;
		}
		/* the later ones are planned as apply runs them, after this one */
		if (r->connected)
			plan_assume_applied(m, &r->s.cat);
		/* only a migration that ran before can have steps done */
		if (r->connected && history_find(&r->s.history, m->version))
		{
			size_t		done = drop_done_steps(r->s.conn, &plan.items[plan.n]);

			if (done > 0 && r->g->format == FORMAT_TEXT && !r->g->quiet)
				fprintf(stderr, "migrate: %s_%s: %zu step%s already done, which apply "
						"skips, left out\n", m->version_text, m->name, done,
						done == 1 ? "" : "s");
		}
		plan.n++;
	}
	if (rc == EXIT_OK)
		render_plan(stdout, &plan, r->g->format, &ro);
	plan_free(&plan);
	return rc;
}
