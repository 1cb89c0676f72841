/*
 * cli.c: arguments, settings and the command table.
 *
 * One cmd_* function per command, as in git's git.c.  Commands are thin:
 * they load the files, connect, and hand the work to the planner and the
 * executor.  Errors travel up in an Error and are printed once, here.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "convert.h"
#include "executor.h"
#include "lint.h"
#include "plan.h"
#include "preflight.h"
#include "progress.h"
#include "render.h"
#include "state.h"
#include "txn.h"

#ifndef TEMPLATE_DIR
#define TEMPLATE_DIR "/usr/local/share/migrate/templates"
#endif

/* ---- options ---- */

typedef enum OptId
{
	OPT_DATABASE, OPT_DIR, OPT_STATE, OPT_TABLE, OPT_FORMAT, OPT_QUIET,
	OPT_VERBOSE, OPT_NO_COLOR, OPT_HELP, OPT_VERSION,
	OPT_ONLINE, OPT_TO, OPT_DRY_RUN, OPT_OFFLINE, OPT_STEPS, OPT_YES,
	OPT_TEMPLATE, OPT_LOCK_TIMEOUT, OPT_LOCK_RETRIES, OPT_STATEMENT_TIMEOUT,
	OPT_BATCH_SIZE, OPT_BATCH_TIME, OPT_BATCH_DELAY, OPT_MAX_REPLICA_LAG,
	OPT_REPLICA, OPT_PLAIN, OPT_OUTPUT,
} OptId;

typedef struct OptDef
{
	const char *name;			/* long name, without "--" */
	char		short_name;		/* 0: none */
	bool		has_arg;
	OptId		id;
} OptDef;

static const OptDef global_opts[] = {
	{"database", 'd', true, OPT_DATABASE},
	{"dir", 0, true, OPT_DIR},
	{"state", 0, true, OPT_STATE},
	{"table", 0, true, OPT_TABLE},
	{"format", 0, true, OPT_FORMAT},
	{"quiet", 'q', false, OPT_QUIET},
	{"verbose", 'v', false, OPT_VERBOSE},
	{"no-color", 0, false, OPT_NO_COLOR},
	{"help", 'h', false, OPT_HELP},
	{"version", 'V', false, OPT_VERSION},
	{NULL, 0, false, 0}
};

static const OptDef apply_opts[] = {
	{"online", 0, false, OPT_ONLINE},
	{"to", 0, true, OPT_TO},
	{"dry-run", 'n', false, OPT_DRY_RUN},
	{"lock-timeout", 0, true, OPT_LOCK_TIMEOUT},
	{"lock-retries", 0, true, OPT_LOCK_RETRIES},
	{"statement-timeout", 0, true, OPT_STATEMENT_TIMEOUT},
	{"batch-size", 0, true, OPT_BATCH_SIZE},
	{"batch-time", 0, true, OPT_BATCH_TIME},
	{"batch-delay", 0, true, OPT_BATCH_DELAY},
	{"max-replica-lag", 0, true, OPT_MAX_REPLICA_LAG},
	{"replica", 0, true, OPT_REPLICA},
	{NULL, 0, false, 0}
};

static const OptDef plan_opts[] = {
	{"online", 0, false, OPT_ONLINE},
	{"to", 0, true, OPT_TO},
	{"offline", 0, false, OPT_OFFLINE},
	{NULL, 0, false, 0}
};

static const OptDef rollback_opts[] = {
	{"to", 0, true, OPT_TO},
	{"steps", 0, true, OPT_STEPS},
	{"dry-run", 'n', false, OPT_DRY_RUN},
	{"lock-timeout", 0, true, OPT_LOCK_TIMEOUT},
	{"lock-retries", 0, true, OPT_LOCK_RETRIES},
	{"statement-timeout", 0, true, OPT_STATEMENT_TIMEOUT},
	{NULL, 0, false, 0}
};

static const OptDef finalize_opts[] = {
	{"yes", 'y', false, OPT_YES},
	{"dry-run", 'n', false, OPT_DRY_RUN},
	{"lock-timeout", 0, true, OPT_LOCK_TIMEOUT},
	{"lock-retries", 0, true, OPT_LOCK_RETRIES},
	{NULL, 0, false, 0}
};

static const OptDef new_opts[] = {
	{"template", 't', true, OPT_TEMPLATE},
	{NULL, 0, false, 0}
};

static const OptDef lint_opts[] = {
	{"plain", 0, false, OPT_PLAIN},
	{"offline", 0, false, OPT_OFFLINE},
	{NULL, 0, false, 0}
};

static const OptDef convert_opts[] = {
	{"output", 'o', true, OPT_OUTPUT},
	{NULL, 0, false, 0}
};

static const OptDef no_opts[] = {
	{NULL, 0, false, 0}
};

/* What the command line said, beyond the global options. */
typedef struct Args
{
	bool		online;
	bool		dry_run;
	bool		offline;
	bool		yes;
	bool		plain;			/* lint: judge the plain strategy's steps */
	const char *output;			/* convert -o */
	bool		to_given;
	int64_t		to;
	int64_t		steps;			/* 0: not given */
	const char *template_name;
	Settings	settings;		/* only the given mask counts */
	StrList		replicas;
	StrList		positional;		/* owned copies */
} Args;

typedef struct Command
{
	const char *name;
	int			(*fn) (GlobalOptions *g, Args *a);
	const OptDef *opts;
	const char *usage;
	const char *summary;
} Command;

static int	cmd_validate(GlobalOptions *g, Args *a);
static int	cmd_plan(GlobalOptions *g, Args *a);
static int	cmd_apply(GlobalOptions *g, Args *a);
static int	cmd_rollback(GlobalOptions *g, Args *a);
static int	cmd_status(GlobalOptions *g, Args *a);
static int	cmd_finalize(GlobalOptions *g, Args *a);
static int	cmd_new(GlobalOptions *g, Args *a);
static int	cmd_lint(GlobalOptions *g, Args *a);
static int	cmd_convert(GlobalOptions *g, Args *a);

static const Command commands[] = {
	{"validate", cmd_validate, no_opts, "validate",
	"check every migration file, without a database"},
	{"plan", cmd_plan, plan_opts, "plan [--online] [--to V] [--offline] [--format text|sql|json]",
	"show the steps of the pending migrations"},
	{"apply", cmd_apply, apply_opts,
		"apply [--online] [--to V] [--dry-run] [--lock-timeout D] [--lock-retries N]\n"
		"              [--statement-timeout D] [--batch-size N|auto] [--batch-time D]\n"
		"              [--batch-delay D] [--max-replica-lag D] [--replica CONNINFO]...",
	"apply the pending migrations"},
	{"rollback", cmd_rollback, rollback_opts, "rollback [--to V | --steps N] [--dry-run]",
	"undo applied migrations, newest first"},
	{"status", cmd_status, no_opts, "status [--format text|json]",
	"applied, pending, running, failed and drifted migrations"},
	{"finalize", cmd_finalize, finalize_opts, "finalize [--yes] [--dry-run]",
	"the contract phase: deferred drops, sync triggers removed"},
	{"new", cmd_new, new_opts, "new NAME [--template T]",
	"write a new migration file"},
	{"lint", cmd_lint, lint_opts, "lint [FILE...] [--plain] [--offline] [--format text|json]",
	"judge each step's safety: locks, rewrites, scans, unsafe raw SQL"},
	{"convert", cmd_convert, convert_opts, "convert FILE.sql [-o FILE]",
	"turn a SQL migration into a migration file"},
	{NULL, NULL, NULL, NULL, NULL}
};

/* ---- messages ---- */

static void
print_error(const Error *err)
{
	fprintf(stderr, "migrate: %s\n", err->message ? err->message : "unknown error");
}

static int
fail(Error *err)
{
	int			code = err->exit_code ? err->exit_code : EXIT_STEP_FAILED;

	print_error(err);
	error_clear(err);
	return code;
}

static int
usage_error(const char *fmt, const char *arg)
{
	fputs("migrate: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry \"migrate --help\" for more information.\n", stderr);
	return EXIT_USAGE;
}

/*
 * One line per option for "migrate COMMAND --help".  Keyed by command and
 * long name; a NULL command is the meaning the option has everywhere.
 * The option tables stay the only list of options: help walks them.
 */
typedef struct OptHelp
{
	const char *command;
	const char *name;
	const char *arg;			/* the value's name, for options with one */
	const char *text;
} OptHelp;

static const OptHelp opt_help[] = {
	{NULL, "database", "CONNINFO", "conninfo or URI (else DATABASE_URL, else PG* variables)"},
	{NULL, "dir", "DIR", "migrations folder (default migrations)"},
	{NULL, "state", "FILE", "journal file (default .migrate/state.db)"},
	{NULL, "table", "NAME", "history table (default public.schema_migrations)"},
	{NULL, "format", "FORMAT", "text, json (and sql for plan)"},
	{NULL, "quiet", NULL, "only errors"},
	{NULL, "verbose", NULL, "more detail"},
	{NULL, "no-color", NULL, "no colour (also NO_COLOR)"},
	{NULL, "help", NULL, "this help; \"migrate COMMAND --help\" for a command"},
	{NULL, "version", NULL, "the version"},
	{NULL, "online", NULL, "the zero-downtime plan (default: the plain, fast one)"},
	{NULL, "to", "V", "stop after version V"},
	{"rollback", "to", "V", "undo every migration newer than V (V stays applied)"},
	{NULL, "offline", NULL, "do not connect, even when a database is named"},
	{"lint", "offline", NULL, "judge from the text alone, even when a database is named"},
	{"lint", "plain", NULL, "judge the steps of apply without --online"},
	{"convert", "output", "FILE", "write the migration file to FILE (default: standard output)"},
	{NULL, "dry-run", NULL, "print what would run; change nothing"},
	{NULL, "steps", "N", "undo the N newest migrations (default 1)"},
	{NULL, "yes", NULL, "do not ask for confirmation"},
	{NULL, "template", "T", "start from templates/T.yaml (see FILES in migrate(1))"},
	{NULL, "lock-timeout", "D", "wait at most D for a lock, per attempt (default 2s)"},
	{NULL, "lock-retries", "N", "attempts at a lock-taking step (default 10)"},
	{NULL, "statement-timeout", "D", "limit each DDL statement to D (default 0: none)"},
	{NULL, "batch-size", "N|auto", "rows per backfill batch (default auto)"},
	{NULL, "batch-time", "D", "target duration of one batch in auto mode (default 200ms)"},
	{NULL, "batch-delay", "D", "pause between backfill batches (default 0ms)"},
	{NULL, "max-replica-lag", "D", "pause backfills while a replica lags more (default 10s)"},
	{NULL, "replica", "CONNINFO", "a replica whose lag throttles backfills (repeatable)"},
	{NULL, NULL, NULL, NULL}
};

static const char exit_status_help[] =
"Exit status: 0 success, 1 a step failed, 2 usage or invalid file, 3 unsafe,\n"
"4 lock not available, 5 drift, 130/143 interrupted.\n";

static const OptHelp *
find_opt_help(const char *command, const char *name)
{
	const OptHelp *general = NULL;

	for (const OptHelp *h = opt_help; h->name; h++)
	{
		if (strcmp(h->name, name) != 0)
			continue;
		if (h->command == NULL)
			general = h;
		else if (command && strcmp(h->command, command) == 0)
			return h;
	}
	return general;
}

/* "  -d, --database CONNINFO  text": one line per option of the table. */
static void
print_opts(const char *command, const OptDef *opts)
{
	for (const OptDef *o = opts; o->name; o++)
	{
		const OptHelp *h = find_opt_help(command, o->name);
		char	   *left = xasprintf("--%s%s%s", o->name,
									 o->has_arg && h && h->arg ? " " : "",
									 o->has_arg && h && h->arg ? h->arg : "");

		if (o->short_name)
			printf("  -%c, %-22s ", o->short_name, left);
		else
			printf("      %-22s ", left);
		printf("%s%s\n", strlen(left) > 22 ? "\n                             " : "",
			   h ? h->text : "");
		free(left);
	}
}

static void
print_help(const Command *cmd)
{
	if (cmd != NULL)
	{
		printf("Usage: migrate [global options] %s\n\n%s.\n", cmd->usage, cmd->summary);
		if (cmd->opts[0].name)
		{
			printf("\nOptions:\n");
			print_opts(cmd->name, cmd->opts);
		}
		printf("\nGlobal options (before or after the command):\n");
		print_opts(cmd->name, global_opts);
		printf("\n%s\nSee migrate(1) for the settings, the operations and the JSON output.\n",
			   exit_status_help);
		return;
	}
	printf("migrate %s: zero-downtime schema migrations for PostgreSQL\n\n", MIGRATE_VERSION);
	printf("Usage: migrate [global options] <command> [options]\n\nCommands:\n");
	for (const Command *c = commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	printf("\nGlobal options:\n");
	print_opts(NULL, global_opts);
	printf("\n%s", exit_status_help);
}

/* ---- parsing ---- */

static const OptDef *
find_opt(const OptDef *table, const char *long_name, size_t len, char short_name)
{
	for (const OptDef *o = table; o->name; o++)
	{
		if (long_name && strlen(o->name) == len && strncmp(o->name, long_name, len) == 0)
			return o;
		if (!long_name && short_name && o->short_name == short_name)
			return o;
	}
	return NULL;
}

/* The closest long option name, for "did you mean". */
static const char *
closest_opt(const OptDef *a, const OptDef *b, const char *name)
{
	const char *best = NULL;
	int			best_d = 3;

	for (int t = 0; t < 2; t++)
		for (const OptDef *o = t == 0 ? a : b; o && o->name; o++)
		{
			int			d = edit_distance(name, o->name);

			if (d < best_d)
			{
				best_d = d;
				best = o->name;
			}
		}
	return best;
}

static bool
parse_int64(const char *s, int64_t *out)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static bool
set_duration(Settings *st, int64_t *field, unsigned bit, const char *opt,
			 const char *val, Error *err)
{
	if (!parse_duration(val, field))
		return error_set(err, EXIT_USAGE,
						 "--%s: \"%s\" is not a duration (250ms, 2s, 5m, or milliseconds)",
						 opt, val);
	st->given |= bit;
	return true;
}

static bool
apply_option(GlobalOptions *g, Args *a, const OptDef *o, const char *val, Error *err)
{
	Settings   *st = &a->settings;
	int64_t		n;

	switch (o->id)
	{
		case OPT_DATABASE:
			g->database = val;
			break;
		case OPT_DIR:
			g->dir = val;
			break;
		case OPT_STATE:
			g->state_path = val;
			break;
		case OPT_TABLE:
			g->table = val;
			break;
		case OPT_FORMAT:
			{
				int			f = format_from_name(val);

				if (f < 0)
					return error_set(err, EXIT_USAGE,
									 "--format: \"%s\" is not one of text, json, sql", val);
				g->format = (Format) f;
				g->format_given = true;
				break;
			}
		case OPT_QUIET:
			g->quiet = true;
			break;
		case OPT_VERBOSE:
			g->verbose = true;
			break;
		case OPT_NO_COLOR:
			g->color = false;
			break;
		case OPT_HELP:
		case OPT_VERSION:
			break;				/* handled by the caller */
		case OPT_ONLINE:
			a->online = true;
			break;
		case OPT_DRY_RUN:
			a->dry_run = true;
			break;
		case OPT_OFFLINE:
			a->offline = true;
			break;
		case OPT_YES:
			a->yes = true;
			break;
		case OPT_PLAIN:
			a->plain = true;
			break;
		case OPT_OUTPUT:
			a->output = val;
			break;
		case OPT_TO:
			if (!parse_int64(val, &a->to) || a->to < 0)
				return error_set(err, EXIT_USAGE, "--to: \"%s\" is not a version", val);
			a->to_given = true;
			break;
		case OPT_STEPS:
			if (!parse_int64(val, &a->steps) || a->steps <= 0)
				return error_set(err, EXIT_USAGE, "--steps: \"%s\" is not a positive number", val);
			break;
		case OPT_TEMPLATE:
			a->template_name = val;
			break;
		case OPT_LOCK_TIMEOUT:
			return set_duration(st, &st->lock_timeout_ms, SETTING_LOCK_TIMEOUT, o->name, val, err);
		case OPT_STATEMENT_TIMEOUT:
			return set_duration(st, &st->statement_timeout_ms, SETTING_STATEMENT_TIMEOUT, o->name, val, err);
		case OPT_BATCH_TIME:
			return set_duration(st, &st->batch_time_ms, SETTING_BATCH_TIME, o->name, val, err);
		case OPT_BATCH_DELAY:
			return set_duration(st, &st->batch_delay_ms, SETTING_BATCH_DELAY, o->name, val, err);
		case OPT_MAX_REPLICA_LAG:
			return set_duration(st, &st->max_replica_lag_ms, SETTING_MAX_REPLICA_LAG, o->name, val, err);
		case OPT_LOCK_RETRIES:
			if (!parse_int64(val, &n) || n < 1 || n > 1000)
				return error_set(err, EXIT_USAGE, "--lock-retries: \"%s\" is not a number from 1 to 1000", val);
			st->lock_retries = (int) n;
			st->given |= SETTING_LOCK_RETRIES;
			break;
		case OPT_BATCH_SIZE:
			if (strcmp(val, "auto") == 0)
				n = 0;
			else if (!parse_int64(val, &n) || n <= 0)
				return error_set(err, EXIT_USAGE, "--batch-size: \"%s\" is not a positive number or auto", val);
			st->batch_size = n;
			st->given |= SETTING_BATCH_SIZE;
			break;
		case OPT_REPLICA:
			strlist_add(&a->replicas, val);
			break;
	}
	return true;
}

/*
 * Parses argv: global options anywhere, the first other word is the
 * command, the command's own options after it, the rest positional.
 */
static int
parse_args(int argc, char **argv, GlobalOptions *g, Args *a, const Command **cmd_out,
		   bool *help, bool *version)
{
	const Command *cmd = NULL;
	Error		err = {0};
	bool		only_positional = false;

	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const OptDef *o = NULL;
		const char *val = NULL;
		const OptDef *cmd_opts = cmd ? cmd->opts : NULL;

		if (only_positional || arg[0] != '-' || arg[1] == '\0')
		{
			if (cmd == NULL)
			{
				for (const Command *c = commands; c->name; c++)
					if (strcmp(c->name, arg) == 0)
						cmd = c;
				if (cmd == NULL)
				{
					const char *best = NULL;
					int			best_d = 3;

					for (const Command *c = commands; c->name; c++)
						if (edit_distance(arg, c->name) < best_d)
						{
							best_d = edit_distance(arg, c->name);
							best = c->name;
						}
					if (best)
						fprintf(stderr, "migrate: unknown command \"%s\" (did you mean \"%s\"?)\n",
								arg, best);
					else
						fprintf(stderr, "migrate: unknown command \"%s\"\n", arg);
					fputs("Try \"migrate --help\" for more information.\n", stderr);
					return EXIT_USAGE;
				}
			}
			else
				strlist_add(&a->positional, arg);
			continue;
		}
		if (strcmp(arg, "--") == 0)
		{
			only_positional = true;
			continue;
		}
		if (arg[1] == '-')
		{
			const char *name = arg + 2;
			const char *eq = strchr(name, '=');
			size_t		len = eq ? (size_t) (eq - name) : strlen(name);

			o = find_opt(global_opts, name, len, 0);
			if (!o && cmd_opts)
				o = find_opt(cmd_opts, name, len, 0);
			if (!o)
			{
				char	   *bare = xstrndup(name, len);
				const char *best = closest_opt(global_opts, cmd_opts, bare);

				if (best)
					fprintf(stderr, "migrate: unknown option \"--%s\"%s (did you mean \"--%s\"?)\n",
							bare, cmd ? "" : " before the command", best);
				else
					fprintf(stderr, "migrate: unknown option \"--%s\"%s%s\n", bare,
							cmd ? " for " : "", cmd ? cmd->name : "");
				fputs("Try \"migrate --help\" for more information.\n", stderr);
				free(bare);
				return EXIT_USAGE;
			}
			if (eq)
			{
				if (!o->has_arg)
					return usage_error("option \"--%s\" takes no value", o->name);
				val = eq + 1;
			}
		}
		else
		{
			if (arg[2] != '\0' && !(arg[1] == 'd'))
				return usage_error("unknown option \"%s\"", arg);
			o = find_opt(global_opts, NULL, 0, arg[1]);
			if (!o && cmd_opts)
				o = find_opt(cmd_opts, NULL, 0, arg[1]);
			if (!o)
				return usage_error("unknown option \"%s\"", arg);
			if (arg[2] != '\0')
				val = arg + 2;	/* -dCONNINFO */
		}
		if (o->has_arg && val == NULL)
		{
			if (i + 1 >= argc)
				return usage_error("option \"--%s\" needs a value", o->name);
			val = argv[++i];
		}
		if (o->id == OPT_HELP)
			*help = true;
		if (o->id == OPT_VERSION)
			*version = true;
		if (!apply_option(g, a, o, val, &err))
		{
			print_error(&err);
			error_clear(&err);
			fputs("Try \"migrate --help\" for more information.\n", stderr);
			return EXIT_USAGE;
		}
	}
	*cmd_out = cmd;
	return EXIT_OK;
}

/* ---- shared by the commands ---- */

static bool
load_all(const GlobalOptions *g, MigrationSet *set, Error *err)
{
	return spec_load_dir(g->dir, set, err);
}

/* Defaults, then the file's settings, then the command line's. */
static Settings
effective_settings(const Migration *m, const Args *a)
{
	Settings	s;

	settings_defaults(&s);
	if (m)
		settings_overlay(&s, &m->settings);
	settings_overlay(&s, &a->settings);
	return s;
}

/* JSON events unless a person reads a terminal, or --format says otherwise. */
static void
init_progress(Progress *p, const GlobalOptions *g)
{
	p->out = stdout;
	p->tty = isatty(STDOUT_FILENO);
	/* -q asks for silence: events only when --format json asks for them. */
	p->json = g->format_given ? g->format == FORMAT_JSON : !p->tty && !g->quiet;
	p->quiet = g->quiet;
	p->live_line_open = false;
}

/* Whether the command line or the environment names a database. */
static bool
database_named(const GlobalOptions *g)
{
	return g->database || getenv("DATABASE_URL") || getenv("PGHOST") ||
		getenv("PGDATABASE") || getenv("PGSERVICE");
}

/*
 * Refuses to go on when an applied migration's file changed (EXIT_DRIFT).
 */
static bool
check_drift(const MigrationSet *set, const History *h, Error *err)
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

static bool
is_applied(const History *h, int64_t version)
{
	const HistoryRow *row = history_find(h, version);

	return row && row->status == HISTORY_COMPLETED;
}

/* Plans the given migrations into *plan. */
static bool
build_plan(const Migration *const *ms, size_t n, Strategy strategy,
		   const Catalog *cat, Plan *plan, Error *err)
{
	plan->strategy = strategy;
	plan->items = xcalloc(n + 1, sizeof(MigrationPlan));
	plan->n = 0;
	for (size_t i = 0; i < n; i++)
	{
		if (!plan_migration(ms[i], strategy, cat, &plan->items[plan->n], err))
			return false;
		plan->n++;
	}
	return true;
}

typedef struct Session
{
	PGconn	   *conn;
	RunLock		lock;
	bool		locked;
	Journal    *journal;
	int64_t		run_id;
	History		history;
	Catalog		cat;
} Session;

static void
session_close(Session *s, int exit_code)
{
	if (s->journal)
	{
		journal_run_end(s->journal, s->run_id, exit_code);
		journal_close(s->journal);
	}
	if (s->locked)
		runlock_release(&s->lock);
	txn_set_cancel_conn(NULL);
	if (s->conn)
		PQfinish(s->conn);
	history_free(&s->history);
	memset(s, 0, sizeof *s);
}

/*
 * Connects, takes the run lock (when writing), makes sure the history table
 * exists (when writing), loads history, opens the journal (when writing).
 * writing: the command line's settings, for the history table's lock; NULL
 * for a command that only reads.
 */
static bool
session_open(Session *s, const GlobalOptions *g, const char *command,
			 const Settings *writing, Error *err)
{
	memset(s, 0, sizeof *s);
	s->conn = db_connect(g->database, err);
	if (s->conn == NULL)
		return false;
	txn_set_cancel_conn(s->conn);
	if (!catalog_open(&s->cat, s->conn, err))
		return false;
	if (writing)
	{
		if (!runlock_acquire(&s->lock, s->conn, g->table, err))
			return false;
		s->locked = true;
		if (!history_ensure(s->conn, g->table, writing, err))
			return false;
		s->journal = journal_open(g->state_path, err);
		if (s->journal == NULL)
			return false;
		s->run_id = journal_run_begin(s->journal, command, PQdb(s->conn));
	}
	return history_load(s->conn, g->table, &s->history, err);
}

static void
exec_context_init(ExecContext *ctx, Session *s, const GlobalOptions *g, Args *a,
				  Progress *progress, char *applied_by)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->conn = s->conn;
	ctx->history_table = g->table;
	ctx->journal = s->journal;
	ctx->run_id = s->run_id;
	ctx->applied_by = applied_by;
	ctx->strategy = a->online ? STRATEGY_ONLINE : STRATEGY_PLAIN;
	ctx->replicas = a->replicas;
	ctx->progress = progress;
}

/*
 * Lints every migration that ms lists (for apply --online: the pending
 * ones, through the catalog); prints the findings, to stderr when refuse.
 * Returns EXIT_UNSAFE when a finding is not accepted.
 */
static int
lint_migrations(const GlobalOptions *g, const Migration *const *ms, size_t n,
				Strategy strategy, const Catalog *cat, bool refuse)
{
	LintOptions lo = {strategy, cat, 0};
	LintReport	report = {0};
	Error		err = {0};
	int			rc;

	for (size_t i = 0; i < n; i++)
		if (!lint_migration(ms[i], &lo, &report, &err))
		{
			lint_report_free(&report);
			return fail(&err);
		}
	rc = lint_unsafe_count(&report) ? EXIT_UNSAFE : EXIT_OK;
	if (!refuse)
		lint_render(stdout, &report, g->format);
	else if (rc != EXIT_OK)
	{
		lint_render(stderr, &report, FORMAT_TEXT);
		fputs("migrate: apply --online refuses unsafe steps; fix them, or accept each with "
			  "unsafe_ok: \"<reason>\" on its operation\n", stderr);
	}
	lint_report_free(&report);
	return rc;
}

/* apply --online: nothing runs while a pending step is unsafe. */
static int
refuse_unsafe(const GlobalOptions *g, const Args *a, const MigrationSet *set, Session *s)
{
	const Migration **todo = xcalloc(set->n + 1, sizeof(Migration *));
	size_t		n = 0;
	int			rc;

	for (size_t i = 0; i < set->n; i++)
	{
		if (a->to_given && set->items[i].version > a->to)
			break;
		if (!is_applied(&s->history, set->items[i].version))
			todo[n++] = &set->items[i];
	}
	rc = lint_migrations(g, todo, n, STRATEGY_ONLINE, &s->cat, true);
	free(todo);
	return rc;
}

/* ---- commands ---- */

static int
cmd_validate(GlobalOptions *g, Args *a)
{
	MigrationSet set = {0};
	Error		err = {0};
	size_t		ops = 0;

	(void) a;
	if (!load_all(g, &set, &err))
		return fail(&err);
	for (size_t i = 0; i < set.n; i++)
	{
		if (!preflight_parse(&set.items[i], &err))
		{
			migration_set_free(&set);
			return fail(&err);
		}
		ops += set.items[i].n_ops;
	}
	if (g->format == FORMAT_JSON)
		printf("{\"valid\":true,\"migrations\":%zu,\"operations\":%zu}\n", set.n, ops);
	else if (!g->quiet)
		printf("%zu migration%s, %zu operation%s: valid\n", set.n, set.n == 1 ? "" : "s",
			   ops, ops == 1 ? "" : "s");
	migration_set_free(&set);
	return EXIT_OK;
}

static int
cmd_plan(GlobalOptions *g, Args *a)
{
	MigrationSet set = {0};
	Session		s = {0};
	Error		err = {0};
	Plan		plan = {0};
	const Migration **todo;
	size_t		n = 0;
	bool		connected = !a->offline && database_named(g);
	Settings	st = effective_settings(NULL, a);
	RenderOptions ro = {g->color, connected, &st};
	int			rc = EXIT_OK;

	if (!load_all(g, &set, &err))
		return fail(&err);
	if (connected && !session_open(&s, g, "plan", NULL, &err))
	{
		session_close(&s, EXIT_STEP_FAILED);
		migration_set_free(&set);
		return fail(&err);
	}
	todo = xcalloc(set.n + 1, sizeof(Migration *));
	for (size_t i = 0; i < set.n; i++)
	{
		const Migration *m = &set.items[i];

		if (a->to_given && m->version > a->to)
			continue;
		if (connected && is_applied(&s.history, m->version))
			continue;
		todo[n++] = m;
	}
	if (connected && !check_drift(&set, &s.history, &err))
		fprintf(stderr, "migrate: warning: %s\n", err.message), error_clear(&err);
	if (!build_plan(todo, n, a->online ? STRATEGY_ONLINE : STRATEGY_PLAIN,
					connected ? &s.cat : NULL, &plan, &err))
		rc = fail(&err);
	else
		render_plan(stdout, &plan, g->format, &ro);
	plan_free(&plan);
	free(todo);
	session_close(&s, rc);
	migration_set_free(&set);
	return rc;
}

/*
 * "<file>:<line>: migration V_name cannot be rolled back: <why> (step, op)"
 * for the first step of mp that cannot be undone; mp->irreversible must hold.
 */
static char *
irreversible_message(const MigrationPlan *mp)
{
	const Migration *m = mp->migration;

	for (size_t k = 0; k < mp->n_steps; k++)
	{
		const Step *st = &mp->steps[k];
		const Operation *op = &m->ops[st->op_index];

		/* online, a contract step waits for finalize: undoable until then */
		if (st->irreversible == NULL ||
			(mp->strategy == STRATEGY_ONLINE && st->phase == PHASE_CONTRACT))
			continue;
		return xasprintf("%s:%d: migration %s_%s cannot be rolled back: %s (step %s, %s)",
						 m->path, op->pos.line, m->version_text, m->name, st->irreversible,
						 st->id, op_kind_name(op->kind));
	}
	return xasprintf("%s: migration %s_%s cannot be rolled back", m->path, m->version_text,
					 m->name);
}

static int
cmd_apply(GlobalOptions *g, Args *a)
{
	Settings	cl_settings = effective_settings(NULL, a);	/* the command line's */
	MigrationSet set = {0};
	Session		s = {0};
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	char	   *applied_by = NULL;
	size_t		applied = 0;
	int			rc = EXIT_OK;

	if (g->format == FORMAT_SQL)
		return usage_error("apply: --format %s is for plan", "sql");
	if (!load_all(g, &set, &err))
		return fail(&err);
	init_progress(&progress, g);
	txn_install_signal_handlers();

	if (!session_open(&s, g, "apply", a->dry_run ? NULL : &cl_settings, &err) ||
		!check_drift(&set, &s.history, &err))
	{
		rc = fail(&err);
		goto done;
	}
	applied_by = db_applied_by(s.conn);
	exec_context_init(&ctx, &s, g, a, &progress, applied_by);
	if (a->online && (rc = refuse_unsafe(g, a, &set, &s)) != EXIT_OK)
		goto done;

	for (size_t i = 0; i < set.n; i++)
	{
		const Migration *m = &set.items[i];
		MigrationPlan mp = {0};
		bool		ok;

		if (a->to_given && m->version > a->to)
			break;
		if (is_applied(&s.history, m->version))
			continue;
		if (!plan_migration(m, ctx.strategy, &s.cat, &mp, &err))
		{
			rc = fail(&err);
			goto done;
		}
		if (a->dry_run)
		{
			Plan		one = {ctx.strategy, &mp, 1};
			Settings	st = effective_settings(m, a);
			RenderOptions ro = {g->color, true, &st};

			render_plan(stdout, &one, g->format == FORMAT_JSON ? FORMAT_JSON : FORMAT_TEXT, &ro);
			migration_plan_free(&mp);
			applied++;
			continue;
		}
		if (mp.irreversible)
		{
			char	   *why = irreversible_message(&mp);

			/* said before it starts, so that it can still be stopped */
			fprintf(stderr, "migrate: warning: %s\n", why);
			free(why);
		}
		ctx.settings = effective_settings(m, a);
		/* nothing changes before every expression compiles */
		ok = preflight_compile(&ctx, m, &err) && execute_migration(&ctx, &mp, &err);
		migration_plan_free(&mp);
		if (!ok)
		{
			rc = fail(&err);
			goto done;
		}
		applied++;
	}
	if (applied == 0 && !g->quiet)
	{
		if (progress.json)
			printf("{\"event\":\"up_to_date\"}\n");
		else
			printf("Nothing to apply: all %zu migration%s applied.\n", set.n,
				   set.n == 1 ? " is" : "s are");
	}
done:
	free(applied_by);
	session_close(&s, rc);
	migration_set_free(&set);
	return rc;
}

/* The strategy a migration was applied with: its rollback mirrors it. */
static Strategy
applied_strategy(const HistoryRow *row)
{
	return row->strategy && strcmp(row->strategy, "online") == 0
		? STRATEGY_ONLINE : STRATEGY_PLAIN;
}

/* The migrations rollback undoes, newest first. */
static size_t
rollback_targets(const History *h, const Args *a, const HistoryRow **out)
{
	size_t		n = 0;
	int64_t		steps = a->steps > 0 ? a->steps : 1;

	for (size_t i = h->n; i-- > 0;)
	{
		const HistoryRow *row = &h->rows[i];

		if (row->status == HISTORY_ROLLED_BACK)
			continue;
		if (a->to_given ? row->version <= a->to : (int64_t) n >= steps)
			break;
		out[n++] = row;
	}
	return n;
}

static int
cmd_rollback(GlobalOptions *g, Args *a)
{
	Settings	cl_settings = effective_settings(NULL, a);	/* the command line's */
	MigrationSet set = {0};
	Session		s = {0};
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	const HistoryRow **targets = NULL;
	MigrationPlan *plans = NULL;
	size_t		n = 0;
	int			rc = EXIT_OK;

	if (a->to_given && a->steps > 0)
		return usage_error("rollback: %s", "give --to or --steps, not both");
	if (!load_all(g, &set, &err))
		return fail(&err);
	init_progress(&progress, g);
	txn_install_signal_handlers();
	if (!session_open(&s, g, "rollback", a->dry_run ? NULL : &cl_settings, &err))
	{
		rc = fail(&err);
		goto done;
	}
	exec_context_init(&ctx, &s, g, a, &progress, NULL);
	targets = xcalloc(s.history.n + 1, sizeof(HistoryRow *));
	n = rollback_targets(&s.history, a, targets);
	plans = xcalloc(n + 1, sizeof(MigrationPlan));

	/* Plan every rollback first: refuse before anything runs. */
	for (size_t i = 0; i < n; i++)
	{
		const Migration *m = migration_set_find(&set, targets[i]->version);

		if (m == NULL)
		{
			error_set(&err, EXIT_USAGE,
					  "cannot roll back version %lld (%s): its file is not in %s",
					  (long long) targets[i]->version, targets[i]->name, g->dir);
			rc = fail(&err);
			goto done;
		}
		if (!plan_migration(m, applied_strategy(targets[i]), &s.cat, &plans[i], &err))
		{
			rc = fail(&err);
			goto done;
		}
		if (plans[i].irreversible && targets[i]->status == HISTORY_COMPLETED)
		{
			char	   *why = irreversible_message(&plans[i]);

			error_set(&err, EXIT_USAGE, "%s; nothing was changed", why);
			free(why);
			rc = fail(&err);
			goto done;
		}
	}
	if (n == 0 && !g->quiet)
		printf(progress.json ? "{\"event\":\"nothing_to_roll_back\"}\n"
			   : "Nothing to roll back.\n");
	for (size_t i = 0; i < n; i++)
	{
		StrList		done_steps = {0};
		bool		partial = targets[i]->status != HISTORY_COMPLETED;
		bool		ok;

		if (a->dry_run)
		{
			Plan		one = {plans[i].strategy, &plans[i], 1};
			Settings	st = effective_settings(plans[i].migration, a);
			RenderOptions ro = {g->color, true, &st};

			/* JSON output stays one document per migration. */
			if (g->format != FORMAT_JSON)
				printf("rollback of %s_%s:\n", plans[i].migration->version_text,
					   plans[i].migration->name);
			render_plan(stdout, &one, g->format == FORMAT_JSON ? FORMAT_JSON : FORMAT_TEXT, &ro);
			continue;
		}
		/* A migration that failed half way: only what completed is undone. */
		if (partial && s.journal)
			journal_completed_steps(s.journal, targets[i]->version, &done_steps);
		/* No journal of it (the state file is gone): ask the database. */
		if (partial && done_steps.n == 0 &&
			!executor_done_in_database(&ctx, &plans[i], &done_steps, &err))
		{
			rc = fail(&err);
			goto done;
		}
		ctx.settings = effective_settings(plans[i].migration, a);
		ok = execute_rollback(&ctx, &plans[i], partial ? &done_steps : NULL, &err);
		strlist_free(&done_steps);
		if (!ok)
		{
			rc = fail(&err);
			goto done;
		}
	}
done:
	for (size_t i = 0; plans && i < n; i++)
		migration_plan_free(&plans[i]);
	free(plans);
	free(targets);
	session_close(&s, rc);
	migration_set_free(&set);
	return rc;
}

static int
cmd_status(GlobalOptions *g, Args *a)
{
	MigrationSet set = {0};
	Session		s = {0};
	Error		err = {0};
	Buf			out;
	size_t		fi = 0,
				hi = 0;
	bool		first = true;

	(void) a;
	if (!load_all(g, &set, &err))
		return fail(&err);
	if (!session_open(&s, g, "status", NULL, &err))
	{
		session_close(&s, EXIT_STEP_FAILED);
		migration_set_free(&set);
		return fail(&err);
	}
	buf_init(&out);
	if (g->format == FORMAT_JSON)
		buf_puts(&out, "{\"migrations\":[");

	/* Merge the files and the history, both in version order. */
	while (fi < set.n || hi < s.history.n)
	{
		const Migration *m = fi < set.n ? &set.items[fi] : NULL;
		const HistoryRow *row = hi < s.history.n ? &s.history.rows[hi] : NULL;
		const char *status;
		bool		drifted;
		bool		interrupted;
		char	   *label;

		if (m && row && m->version == row->version)
			fi++, hi++;
		else if (m && (!row || m->version < row->version))
			fi++, row = NULL;
		else
			hi++, m = NULL;
		status = row && row->status != HISTORY_ROLLED_BACK && row->status != HISTORY_NONE
			? history_status_name(row->status) : m ? "pending" : history_status_name(row->status);
		if (row && row->status == HISTORY_ROLLED_BACK)
			status = "rolled_back";
		drifted = m && row && row->status == HISTORY_COMPLETED && strcmp(m->checksum, row->checksum) != 0;
		/* "running" with no runner: it was killed or lost its connection */
		interrupted = row && row->status == HISTORY_RUNNING && !runlock_held(s.conn, g->table);

		if (g->format == FORMAT_JSON)
		{
			buf_puts(&out, first ? "\n  {" : ",\n  {");
			first = false;
			buf_printf(&out, "\"version\":%lld,\"name\":",
					   (long long) (m ? m->version : row->version));
			buf_json_string(&out, m ? m->name : row->name);
			buf_puts(&out, ",\"file\":");
			buf_json_string(&out, m ? m->path : NULL);
			buf_puts(&out, ",\"status\":");
			buf_json_string(&out, status);
			buf_printf(&out, ",\"drifted\":%s,\"interrupted\":%s,\"checksum\":",
					   drifted ? "true" : "false", interrupted ? "true" : "false");
			buf_json_string(&out, m ? m->checksum : row->checksum);
			buf_puts(&out, ",\"applied_at\":");
			buf_json_string(&out, row && row->status == HISTORY_COMPLETED ? row->completed_at : NULL);
			if (row && row->execution_ms >= 0)
				buf_printf(&out, ",\"execution_ms\":%lld", (long long) row->execution_ms);
			else
				buf_puts(&out, ",\"execution_ms\":null");
			buf_puts(&out, ",\"error\":");
			buf_json_string(&out, row ? row->error_message : NULL);
			buf_puts(&out, "}");
			continue;
		}
		first = false;
		label = m ? xasprintf("%s_%s", m->version_text, m->name)
			: xasprintf("%lld_%s", (long long) row->version, row->name);
		buf_printf(&out, "%-40s %-12s", label, status);
		if (row && row->status == HISTORY_COMPLETED && row->completed_at)
			buf_printf(&out, " %s", row->completed_at);
		if (drifted)
			buf_puts(&out, "  DRIFTED: the file changed since it was applied");
		if (!m)
			buf_puts(&out, "  (no file)");
		if (row && row->status == HISTORY_FAILED && row->error_message)
			buf_printf(&out, "\n    error: %s\n    run \"migrate apply\" to resume, or \"migrate rollback\" to undo what completed",
					   row->error_message);
		if (interrupted)
			buf_puts(&out, "\n    interrupted: no migrate is running it (killed, or its connection was lost)"
					 "\n    run \"migrate apply\" to resume, or \"migrate rollback\" to undo what completed");
		buf_putc(&out, '\n');
		free(label);
	}
	if (g->format == FORMAT_JSON)
		buf_puts(&out, first ? "]}\n" : "\n]}\n");
	else if (first)
		buf_puts(&out, "No migrations.\n");
	fputs(out.data, stdout);
	buf_free(&out);
	session_close(&s, EXIT_OK);
	migration_set_free(&set);
	return EXIT_OK;
}

/* Adds one step that finalize runs to its list: a text line, or JSON. */
static void
list_finalize_step(Buf *listed, bool json, size_t n, const Migration *m, const Step *step)
{
	if (!json)
	{
		buf_printf(listed, "  %s_%s [%s] %s\n", m->version_text, m->name, step->id,
				   step->summary);
		return;
	}
	buf_printf(listed, "%s{\"version\":%lld,\"name\":", n > 0 ? "," : "",
			   (long long) m->version);
	buf_json_string(listed, m->name);
	buf_puts(listed, ",\"step\":");
	buf_json_string(listed, step->id);
	buf_puts(listed, ",\"summary\":");
	buf_json_string(listed, step->summary);
	buf_putc(listed, '}');
}

static int
cmd_finalize(GlobalOptions *g, Args *a)
{
	Settings	cl_settings = effective_settings(NULL, a);	/* the command line's */
	MigrationSet set = {0};
	Session		s = {0};
	Error		err = {0};
	Progress	progress;
	ExecContext ctx;
	int			rc = EXIT_OK;
	size_t		n_contract = 0;
	MigrationPlan *plans;
	bool		json = g->format == FORMAT_JSON;
	Buf			listed;

	if (!load_all(g, &set, &err))
		return fail(&err);
	init_progress(&progress, g);
	txn_install_signal_handlers();
	if (!session_open(&s, g, "finalize", a->dry_run ? NULL : &cl_settings, &err))
	{
		rc = fail(&err);
		session_close(&s, rc);
		migration_set_free(&set);
		return rc;
	}
	exec_context_init(&ctx, &s, g, a, &progress, NULL);
	ctx.strategy = STRATEGY_ONLINE;
	plans = xcalloc(set.n + 1, sizeof(MigrationPlan));
	buf_init(&listed);

	/* What the contract phase of every applied migration drops. */
	for (size_t i = 0; i < set.n && rc == EXIT_OK; i++)
	{
		if (!is_applied(&s.history, set.items[i].version))
			continue;
		if (!plan_migration(&set.items[i], STRATEGY_ONLINE, &s.cat, &plans[i], &err))
		{
			rc = fail(&err);
			break;
		}
		for (size_t k = 0; k < plans[i].n_steps; k++)
			if (plans[i].steps[k].phase == PHASE_CONTRACT)
				list_finalize_step(&listed, json, n_contract++, &set.items[i],
								   &plans[i].steps[k]);
	}
	/* JSON: one document listing the steps, before the events of the run */
	if (rc == EXIT_OK && json)
		printf("{\"event\":\"finalize_plan\",\"dry_run\":%s,\"steps\":[%s]}\n",
			   a->dry_run ? "true" : "false", listed.data);
	else if (rc == EXIT_OK && n_contract == 0)
		printf("Nothing to finalize.\n");
	else if (rc == EXIT_OK)
		printf("finalize will run, and cannot undo:\n%s", listed.data);
	buf_free(&listed);
	fflush(stdout);
	if (rc == EXIT_OK && n_contract > 0 && !a->dry_run && !a->yes)
	{
		char		answer[16] = "";

		if (!isatty(STDIN_FILENO))
		{
			error_set(&err, EXIT_USAGE, "finalize is irreversible: confirm on a terminal, or pass --yes");
			rc = fail(&err);
		}
		else
		{
			/* the question goes where people read, not into the results */
			fprintf(json ? stderr : stdout, "Proceed? [y/N] ");
			fflush(json ? stderr : stdout);
			if (fgets(answer, sizeof answer, stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y'))
			{
				fprintf(json ? stderr : stdout, "Nothing was changed.\n");
				rc = EXIT_USAGE;
			}
		}
	}
	for (size_t i = 0; i < set.n && rc == EXIT_OK && !a->dry_run && n_contract > 0; i++)
	{
		ctx.settings = effective_settings(&set.items[i], a);
		for (size_t k = 0; k < plans[i].n_steps && rc == EXIT_OK; k++)
			if (plans[i].steps[k].phase == PHASE_CONTRACT &&
				!execute_step(&ctx, &set.items[i], &plans[i].steps[k], false, &err))
				rc = fail(&err);
	}
	for (size_t i = 0; i < set.n; i++)
		migration_plan_free(&plans[i]);
	free(plans);
	session_close(&s, rc);
	migration_set_free(&set);
	return rc;
}

static const char default_template[] =
"# Describe the change; see migrate(1), OPERATIONS.\n"
"description: <what this migration does>\n"
"operations:\n"
"  - add_column:\n"
"      table: <table>\n"
"      column: { name: <column>, type: <type> }\n";

static int
cmd_new(GlobalOptions *g, Args *a)
{
	Error		err = {0};
	const char *name;
	char	   *content = NULL;
	char	   *path;
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;
	int			fd;
	int64_t		v;
	char	   *vt = NULL,
			   *nm = NULL;
	char	   *base;

	if (a->positional.n != 1)
		return usage_error("new: %s", "give exactly one NAME ([a-z0-9_]+)");
	name = a->positional.items[0];
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	base = xasprintf("%s_%s.yaml", stamp, name);
	if (!spec_parse_filename(base, &v, &vt, &nm))
	{
		free(base);
		return usage_error("new: \"%s\" is not a valid name: use lower-case letters, digits and _", name);
	}
	free(vt);
	free(nm);
	if (a->template_name)
	{
		char	   *tpath = xasprintf("templates/%s.yaml", a->template_name);

		if (access(tpath, R_OK) != 0)
		{
			free(tpath);
			tpath = xasprintf("%s/%s.yaml", TEMPLATE_DIR, a->template_name);
		}
		content = read_file(tpath, SPEC_MAX_FILE_BYTES, NULL, &err);
		free(tpath);
		if (content == NULL)
		{
			free(base);
			error_prefix(&err, "template \"%s\"", a->template_name);
			err.exit_code = EXIT_USAGE;
			return fail(&err);
		}
	}
	mkdir(g->dir, 0777);
	path = xasprintf("%s/%s", g->dir, base);
	free(base);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0)
	{
		error_set(&err, EXIT_USAGE, "%s: cannot create: %s", path, strerror(errno));
		free(path);
		free(content);
		return fail(&err);
	}
	{
		const char *text = content ? content : default_template;
		size_t		len = strlen(text);

		if (write(fd, text, len) != (ssize_t) len)
		{
			close(fd);
			error_set(&err, EXIT_STEP_FAILED, "%s: write failed", path);
			free(path);
			free(content);
			return fail(&err);
		}
	}
	close(fd);
	printf("%s\n", path);
	free(path);
	free(content);
	return EXIT_OK;
}

/*
 * lint judges the steps apply --online would run (the operations compile
 * to online steps; raw SQL is judged as written); --plain judges what
 * apply without --online would run.  With a database, what the text cannot
 * tell is asked of the catalog.
 */
static int
cmd_lint(GlobalOptions *g, Args *a)
{
	MigrationSet set = {0};
	Migration  *files;
	const Migration **ms;
	size_t		n = a->positional.n;
	Error		err = {0};
	PGconn	   *conn = NULL;
	Catalog		cat = {0};
	int			rc = EXIT_OK;

	if (n == 0 && !load_all(g, &set, &err))
		return fail(&err);
	files = xcalloc(n + 1, sizeof(Migration));
	for (size_t i = 0; i < n; i++)
		if (!spec_load_file(a->positional.items[i], &files[i], &err))
		{
			rc = fail(&err);
			n = i + 1;
			goto done;
		}
	if (n == 0)
		n = set.n;
	ms = xcalloc(n + 1, sizeof(Migration *));
	for (size_t i = 0; i < n; i++)
		ms[i] = a->positional.n ? &files[i] : &set.items[i];
	if (!a->offline && database_named(g))
	{
		conn = db_connect(g->database, &err);
		if (conn == NULL || !catalog_open(&cat, conn, &err))
			rc = fail(&err);
	}
	if (rc == EXIT_OK)
		rc = lint_migrations(g, ms, n, a->plain ? STRATEGY_PLAIN : STRATEGY_ONLINE,
							 conn ? &cat : NULL, false);
	free(ms);
	if (conn)
		PQfinish(conn);
done:
	for (size_t i = 0; i < a->positional.n && i < n; i++)
		migration_free(&files[i]);
	free(files);
	migration_set_free(&set);
	return rc;
}

static int
cmd_convert(GlobalOptions *g, Args *a)
{
	Error		err = {0};
	char	   *sql;
	Buf			yaml;
	FILE	   *out = stdout;

	(void) g;
	if (a->positional.n != 1)
		return usage_error("convert: %s", "give exactly one FILE.sql");
	sql = read_file(a->positional.items[0], SPEC_MAX_FILE_BYTES, NULL, &err);
	if (sql == NULL)
	{
		err.exit_code = EXIT_USAGE;
		return fail(&err);
	}
	buf_init(&yaml);
	if (!convert_sql(a->positional.items[0], sql, &yaml, &err))
	{
		free(sql);
		buf_free(&yaml);
		return fail(&err);
	}
	free(sql);
	if (a->output && (out = fopen(a->output, "w")) == NULL)
	{
		error_set(&err, EXIT_USAGE, "%s: cannot create: %s", a->output, strerror(errno));
		buf_free(&yaml);
		return fail(&err);
	}
	fputs(yaml.data, out);
	if (out != stdout && fclose(out) != 0)
		error_set(&err, EXIT_STEP_FAILED, "%s: write failed", a->output);
	buf_free(&yaml);
	return err.message ? fail(&err) : EXIT_OK;
}

int
cli_main(int argc, char **argv)
{
	GlobalOptions g = {0};
	Args		a = {0};
	const Command *cmd = NULL;
	bool		help = false,
				version = false;
	int			rc;

	g.dir = "migrations";
	g.state_path = ".migrate/state.db";
	g.table = "public.schema_migrations";
	g.format = FORMAT_TEXT;
	/* NO_COLOR counts when set and not empty (no-color.org). */
	g.color = isatty(STDOUT_FILENO) &&
		(getenv("NO_COLOR") == NULL || getenv("NO_COLOR")[0] == '\0');

	/* libpq prints nothing by itself, but the locale affects messages. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = parse_args(argc, argv, &g, &a, &cmd, &help, &version);
	if (rc != EXIT_OK)
		goto out;
	if (version)
	{
		printf("migrate %s\n", MIGRATE_VERSION);
		goto out;
	}
	if (help || cmd == NULL)
	{
		print_help(cmd);
		rc = help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if (cmd->fn != cmd_new && cmd->fn != cmd_rollback && cmd->fn != cmd_lint &&
		cmd->fn != cmd_convert && a.positional.n > 0)
	{
		rc = usage_error("unexpected argument \"%s\"", a.positional.items[0]);
		goto out;
	}
	if (g.format == FORMAT_SQL && cmd->fn != cmd_plan)
	{
		rc = usage_error("--format sql is only for plan%s", "");
		goto out;
	}
	rc = cmd->fn(&g, &a);
out:
	strlist_free(&a.positional);
	strlist_free(&a.replicas);
	return rc;
}
