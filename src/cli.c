/*
 * cli.c: the command table, and the dispatcher that prepares a command's
 * Run (files, session) from the table's flags, as git's git.c does.  The
 * commands themselves are in src/cmd_*.c, option parsing in options.c,
 * their output in render.c.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "fleet.h"
#include "json.h"
#include "lint.h"
#include "txn.h"

/*
 * A new command is one row here and one cmd_* function.  Usage lines list
 * the command's own options; the global ones are in every help.
 */
const Command cli_commands[] = {
	{"validate", cmd_validate, CMD_FILES | CMD_FORMATS, opts_none, "validate",
	"check every migration file, without a database"},
	{"plan", cmd_plan, CMD_FILES | CMD_MAY_DB | CMD_FORMATS | CMD_SQL | CMD_TARGETS, opts_plan,
		"plan [--online] [--to V] [--offline] [--targets FILE] [--format text|sql|json]",
	"show the steps of the pending migrations"},
	{"apply", cmd_apply, CMD_FILES | CMD_DB | CMD_WRITES | CMD_FORMATS | CMD_TARGETS, opts_apply,
		"apply [--online | --plain] [--to V] [--dry-run] [--lock-timeout D] [--lock-retries N]\n"
		"              [--statement-timeout D] [--batch-size N|auto] [--batch-time D]\n"
		"              [--batch-delay D] [--max-replica-lag D] [--backfill-workers N]\n"
		"              [--replica CONNINFO]... [--targets FILE]",
	"apply the pending migrations"},
	{"rollback", cmd_rollback, CMD_FILES | CMD_DB | CMD_WRITES | CMD_FORMATS | CMD_TARGETS,
		opts_rollback, "rollback [--to V | --steps N] [--dry-run] [--targets FILE]",
	"undo applied migrations, newest first"},
	{"status", cmd_status, CMD_FILES | CMD_DB | CMD_FORMATS | CMD_TARGETS, opts_status,
		"status [--targets FILE] [--format text|json]",
	"applied, pending, running, failed and drifted migrations"},
	{"finalize", cmd_finalize, CMD_FILES | CMD_DB | CMD_WRITES | CMD_FORMATS, opts_finalize,
		"finalize [--yes] [--dry-run]",
	"the contract phase: deferred drops, sync triggers removed"},
	{"new", cmd_new, CMD_ARGS, opts_new, "new NAME [--template T]",
	"write a new migration file"},
	{"lint", cmd_lint, CMD_ARGS | CMD_MAY_DB | CMD_FORMATS, opts_lint,
		"lint [FILE...] [--plain] [--all] [--offline] [--format text|json]",
	"judge each step's safety: locks, rewrites, scans, unsafe raw SQL"},
	{"convert", cmd_convert, CMD_ARGS, opts_convert, "convert FILE.sql [-o FILE]",
	"turn a SQL migration into a migration file"},
	{"forget", cmd_forget, CMD_ARGS | CMD_FILES | CMD_DB | CMD_WRITES | CMD_FORMATS, opts_none,
		"forget VERSION",
	"remove the history record of a failed migration that has nothing left applied"},
	{NULL, NULL, 0, NULL, NULL, NULL}
};

volatile sig_atomic_t cli_stop_requested;

/* ---- messages ---- */

int
cli_fail(Error *err)
{
	int			code = err->exit_code ? err->exit_code : EXIT_STEP_FAILED;

	fprintf(stderr, "migrate: %s\n", err->message ? err->message : "unknown error");
	error_clear(err);
	return code;
}

int
cli_usage_error(const char *fmt, const char *arg)
{
	fputs("migrate: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry \"migrate --help\" for more information.\n", stderr);
	return EXIT_USAGE;
}

/* ---- shared by the commands ---- */

Settings
cli_settings(const Migration *m, const Args *a)
{
	Settings	s;

	settings_defaults(&s);
	if (m)
		settings_overlay(&s, &m->settings);
	settings_overlay(&s, &a->settings);
	return s;
}

void
cli_init_progress(Progress *p, const GlobalOptions *g)
{
	memset(p, 0, sizeof *p);
	p->out = stdout;
	p->tty = isatty(STDOUT_FILENO);
	/* -q asks for silence: events only when --format json asks for them. */
	p->json = g->format_given ? g->format == FORMAT_JSON : !p->tty && !g->quiet;
	p->quiet = g->quiet;
}

bool
cli_database_named(const GlobalOptions *g)
{
	return g->database || getenv("DATABASE_URL") || getenv("PGHOST") ||
		getenv("PGDATABASE") || getenv("PGSERVICE");
}

bool
cli_check_drift(const MigrationSet *set, const History *h, Error *err)
{
	for (size_t i = 0; i < h->n; i++)
	{
		const HistoryRow *row = &h->rows[i];
		const Migration *m;

		if (row->status != HISTORY_COMPLETED)
			continue;
		m = migration_set_find(set, row->version);
		if (m && strcmp(m->checksum, row->checksum) != 0)
			return error_set(err, EXIT_DRIFT,
							 "%s: migration %s_%s has changed since it was applied "
							 "(applied %s, file now %s); restore the file, or write a new migration",
							 m->path, m->version_text, m->name, row->checksum, m->checksum);
	}
	return true;
}

bool
cli_is_applied(const History *h, int64_t version)
{
	const HistoryRow *row = history_find(h, version);

	return row && row->status == HISTORY_COMPLETED;
}

Strategy
cli_applied_strategy(const HistoryRow *row)
{
	return row->strategy && strcmp(row->strategy, "online") == 0
		? STRATEGY_ONLINE : STRATEGY_PLAIN;
}

char *
cli_rollback_refusal(const MigrationPlan *mp, bool finalized)
{
	const Migration *m = mp->migration;

	for (size_t k = 0; k < mp->n_steps; k++)
	{
		const Step *st = &mp->steps[k];
		const Operation *op = &m->ops[st->op_index];

		if (st->irreversible == NULL || (st->deferred && !finalized))
			continue;
		return xasprintf("%s:%d: migration %s_%s cannot be rolled back: %s (step %s, %s)%s",
						 m->path, op->pos.line, m->version_text, m->name, st->irreversible,
						 st->id, op_kind_name(op->kind),
						 st->deferred && finalized ? "; it was finalized" : "");
	}
	return NULL;
}

const Migration *
cli_applied_migration(const Run *r, const HistoryRow *row, Migration *kept, Error *err)
{
	const Migration *m = migration_set_find(&r->set, row->version);
	char	   *path;
	bool		ok;

	memset(kept, 0, sizeof *kept);
	if ((m && strcmp(m->checksum, row->checksum) == 0) || row->source == NULL)
	{
		if (m == NULL)
			error_set(err, EXIT_USAGE, "version %lld (%s): its file is not in %s, and the "
					  "history table keeps no copy of it (applied by an older migrate)",
					  (long long) row->version, row->name, r->g->dir);
		return m;
	}
	path = history_source_path(r->g->table, row);
	ok = spec_load_buffer(path, row->source, strlen(row->source), kept, err);
	free(path);
	if (!ok)
	{
		error_prefix(err, "the copy of version %lld kept in the history table",
					 (long long) row->version);
		return NULL;
	}
	return kept;
}

int
cli_lint_migrations(const GlobalOptions *g, const Migration *const *ms, size_t n,
					Strategy strategy, const Catalog *cat)
{
	LintOptions lo = {strategy, cat, 0};
	LintReport	report = {0};
	Error		err = {0};
	int			rc;

	for (size_t i = 0; i < n; i++)
		if (!lint_migration(ms[i], &lo, &report, &err))
		{
			lint_report_free(&report);
			return cli_fail(&err);
		}
	rc = lint_unsafe_count(&report) ? EXIT_UNSAFE : EXIT_OK;
	lint_render(stdout, &report, g->format);
	lint_report_free(&report);
	return rc;
}

void
cli_exec_context(ExecContext *ctx, Run *r, Progress *progress, const char *applied_by)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->conn = r->s.conn;
	ctx->history_table = r->g->table;
	ctx->journal = r->s.journal;
	ctx->run_id = r->s.run_id;
	ctx->applied_by = applied_by;
	ctx->strategy = r->a->online ? STRATEGY_ONLINE : STRATEGY_PLAIN;
	ctx->replicas = r->a->replicas;
	ctx->progress = progress;
	ctx->status_conn = r->s.locked ? r->s.lock.conn : NULL;
}

bool
cli_halted(const Progress *p, size_t done, size_t total)
{
	if (!cli_stop_requested || done >= total)
		return false;
	if (p->json)
	{
		JsonLine	l;

		json_line_begin(&l, "halted");
		json_member_int(&l.w, "done", (int64_t) done);
		json_member_int(&l.w, "left", (int64_t) (total - done));
		json_line_end(&l, stdout);
	}
	else
		printf("halted after %zu of %zu migrations\n", done, total);
	return true;
}

/* ---- dispatch ---- */

int
cli_run_command(const Command *cmd, GlobalOptions *g, Args *a, const char *target)
{
	Run			r = {0};
	Error		err = {0};
	Settings	cl_settings = cli_settings(NULL, a);	/* the command line's */
	int			rc;

	r.cmd = cmd;
	r.g = g;
	r.a = a;
	r.target = target;
	if ((cmd->flags & CMD_FILES) && !spec_load_dir(g->dir, &r.set, &err))
		return cli_fail(&err);
	if (cmd->flags & CMD_WRITES)
		txn_install_signal_handlers();
	r.connected = (cmd->flags & CMD_DB) ||
		((cmd->flags & CMD_MAY_DB) && !a->offline && cli_database_named(g));
	if (r.connected &&
		!session_open(&r.s, g->database, g->table, g->state_path, cmd->name,
					  (cmd->flags & CMD_WRITES) && !a->dry_run ? &cl_settings : NULL, &err))
	{
		/* one line: where it tried (db.c), and how to point migrate elsewhere */
		if (err.exit_code == EXIT_UNREACHABLE)
			error_append(&err, "%s", target
						 ? "; nothing was changed; check its \"database\" in the targets file"
						 : "; nothing was changed; name the database with -d CONNINFO, "
						 "DATABASE_URL, or the PG* variables (PGHOST, PGPORT, PGDATABASE, PGUSER)");
		migration_set_free(&r.set);
		return cli_fail(&err);
	}
	rc = cmd->fn(&r);
	if (r.connected)
		session_close(&r.s, rc);
	migration_set_free(&r.set);
	return rc;
}

/* The checks every command gets from its flags, before anything runs. */
static int
check_flags(const Command *cmd, const GlobalOptions *g, const Args *a)
{
	if (!(cmd->flags & CMD_ARGS) && a->positional.n > 0)
		return cli_usage_error("unexpected argument \"%s\"", a->positional.items[0]);
	if (g->format_given && g->format == FORMAT_SQL && !(cmd->flags & CMD_SQL))
		return cli_usage_error("--format sql is only for plan%s", "");
	if (g->format_given && g->format != FORMAT_TEXT && !(cmd->flags & CMD_FORMATS))
		return cli_usage_error("--format: %s has only one output", cmd->name);
	if (g->targets && !(cmd->flags & CMD_TARGETS))
		return cli_usage_error("--targets is for plan, apply, rollback and status, not %s",
							   cmd->name);
	if (g->targets && a->dry_run)
		return cli_usage_error("--targets: %s", "instead of --dry-run, \"migrate plan --targets\" "
							   "shows what would run on each target");
	return EXIT_OK;
}

int
cli_main(int argc, char **argv)
{
	GlobalOptions g = {0};
	Args		a = {0};
	const Command *cmd = NULL;
	int			rc;

	g.dir = "migrations";
	g.state_path = ".migrate/state.db";
	g.table = "public.schema_migrations";
	g.format = FORMAT_TEXT;
	/* NO_COLOR counts when set and not empty (no-color.org). */
	g.color = isatty(STDOUT_FILENO) &&
		(getenv("NO_COLOR") == NULL || getenv("NO_COLOR")[0] == '\0');

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = options_parse(argc, argv, cli_commands, &g, &a, &cmd);
	if (rc != EXIT_OK)
		goto out;
	if (a.version)
	{
		printf("migrate %s\n", MIGRATE_VERSION);
		goto out;
	}
	if (a.help || cmd == NULL)
	{
		options_print_help(cli_commands, cmd, MIGRATE_VERSION);
		rc = a.help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if ((rc = check_flags(cmd, &g, &a)) != EXIT_OK)
		goto out;
	if (g.targets)
		rc = fleet_run(cmd, &g, &a);
	else
		rc = cli_run_command(cmd, &g, &a, NULL);
out:
	options_free(&a);
	return rc;
}
