/*
 * cmd_forget.c: "migrate forget VERSION": the history record of a migration
 * that failed (or was rolled back) and has nothing left applied is removed,
 * so that a deleted or renamed file stops showing in status.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"

/*
 * The steps of a failed migration still applied: the journal's completed
 * steps, else (no journal of it) what the database's done checks show.
 */
static bool
steps_left(Run *r, ExecContext *ctx, const HistoryRow *row, StrList *left, Error *err)
{
	Migration	kept;
	const Migration *m;
	MigrationPlan mp = {0};
	bool		ok;

	if (r->s.journal && journal_completed_steps(r->s.journal, row->version, left) &&
		left->n > 0)
		return true;
	if ((m = cli_applied_migration(r, row, &kept, err)) == NULL)
		return false;
	ok = plan_migration(m, cli_applied_strategy(row), &r->s.cat, &mp, err) &&
		executor_done_in_database(ctx, &mp, left, err);
	migration_plan_free(&mp);
	migration_free(&kept);
	return ok;
}

static bool
parse_version(const char *text, int64_t *version)
{
	char	   *end;

	errno = 0;
	*version = strtoll(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *version > 0;
}

int
cmd_forget(Run *r)
{
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	StrList		left = {0};
	const HistoryRow *row;
	int64_t		version;
	bool		forgotten = false;
	int			rc = EXIT_OK;

	if (r->a->positional.n != 1 || !parse_version(r->a->positional.items[0], &version))
		return cli_usage_error("forget: give one VERSION, a positive integer%s", "");
	cli_init_progress(&progress, r->g);
	cli_exec_context(&ctx, r, &progress, NULL);
	row = history_find(&r->s.history, version);
	if (row == NULL)
		error_set(&err, EXIT_USAGE, "forget: the history has no version %lld", (long long) version);
	else if (row->status == HISTORY_COMPLETED || row->status == HISTORY_RUNNING)
		error_set(&err, EXIT_USAGE, "forget: version %lld (%s) is %s: roll it back first, "
				  "then forget it", (long long) version, row->name,
				  history_status_name(row->status));
	else if (row->status == HISTORY_FAILED &&
			 steps_left(r, &ctx, row, &left, &err) && left.n > 0)
		error_set(&err, EXIT_USAGE, "forget: version %lld (%s) failed with %zu step%s still "
				  "applied (%s ...): run \"migrate rollback\" first, then forget it",
				  (long long) version, row->name, left.n, left.n == 1 ? "" : "s",
				  left.items[0]);
	if (err.message == NULL && !r->a->dry_run)
		history_forget(r->s.conn, r->g->table, version, &forgotten, &err);
	if (err.message)
		rc = cli_fail(&err);
	else if (progress.json)
	{
		JsonLine	l;

		json_line_begin(&l, "forgotten");
		json_member_int(&l.w, "version", version);
		json_member_bool(&l.w, "forgotten", forgotten);
		json_line_end(&l, stdout);
	}
	else if (!r->g->quiet)
		printf("Forgot version %lld (%s).\n", (long long) version, row->name);
	strlist_free(&left);
	return rc;
}
