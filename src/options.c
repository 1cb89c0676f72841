/*
 * options.c: the command line, its checks and its help.  See options.h.
 */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const OptDef opts_global[] = {
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

const OptDef opts_none[] = {
	{NULL, 0, false, 0}
};

const OptDef opts_apply[] = {
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
	{"backfill-workers", 0, true, OPT_BACKFILL_WORKERS},
	{"replica", 0, true, OPT_REPLICA},
	{"plain", 0, false, OPT_PLAIN},
	{"targets", 0, true, OPT_TARGETS},
	{NULL, 0, false, 0}
};

const OptDef opts_plan[] = {
	{"online", 0, false, OPT_ONLINE},
	{"to", 0, true, OPT_TO},
	{"offline", 0, false, OPT_OFFLINE},
	{"targets", 0, true, OPT_TARGETS},
	{NULL, 0, false, 0}
};

const OptDef opts_rollback[] = {
	{"to", 0, true, OPT_TO},
	{"steps", 0, true, OPT_STEPS},
	{"dry-run", 'n', false, OPT_DRY_RUN},
	{"lock-timeout", 0, true, OPT_LOCK_TIMEOUT},
	{"lock-retries", 0, true, OPT_LOCK_RETRIES},
	{"statement-timeout", 0, true, OPT_STATEMENT_TIMEOUT},
	{"targets", 0, true, OPT_TARGETS},
	{NULL, 0, false, 0}
};

const OptDef opts_status[] = {
	{"targets", 0, true, OPT_TARGETS},
	{NULL, 0, false, 0}
};

const OptDef opts_finalize[] = {
	{"yes", 'y', false, OPT_YES},
	{"dry-run", 'n', false, OPT_DRY_RUN},
	{"lock-timeout", 0, true, OPT_LOCK_TIMEOUT},
	{"lock-retries", 0, true, OPT_LOCK_RETRIES},
	{NULL, 0, false, 0}
};

const OptDef opts_new[] = {
	{"template", 't', true, OPT_TEMPLATE},
	{NULL, 0, false, 0}
};

const OptDef opts_lint[] = {
	{"plain", 0, false, OPT_PLAIN},
	{"all", 0, false, OPT_ALL},
	{"offline", 0, false, OPT_OFFLINE},
	{NULL, 0, false, 0}
};

const OptDef opts_convert[] = {
	{"output", 'o', true, OPT_OUTPUT},
	{NULL, 0, false, 0}
};

/* ---- help ---- */

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
	{"lint", "all", NULL, "with a database, judge applied migrations too (default: pending ones)"},
	{"apply", "plain", NULL, "without --online, run unsafe steps on tables over plain_max_rows anyway"},
	{"convert", "output", "FILE", "write the migration file to FILE (default: standard output)"},
	{NULL, "dry-run", NULL, "print what would run; change nothing"},
	{"rollback", "dry-run", NULL, "print the steps rollback would run, in its order; change nothing"},
	{NULL, "steps", "N", "undo the N newest migrations (default 1)"},
	{NULL, "yes", NULL, "do not ask for confirmation"},
	{NULL, "template", "T", "start from templates/T.yaml (see FILES in migrate(1))"},
	{NULL, "lock-timeout", "D", "wait at most D (more than 0) for a lock, per attempt (default 2s)"},
	{NULL, "lock-retries", "N", "attempts at a lock-taking step (default 10)"},
	{NULL, "statement-timeout", "D", "limit each DDL statement to D (default 0: none)"},
	{NULL, "batch-size", "N|auto", "rows per backfill batch (default auto)"},
	{NULL, "batch-time", "D", "target duration (more than 0) of one batch in auto mode (default 200ms)"},
	{NULL, "batch-delay", "D", "pause between backfill batches (default 0ms)"},
	{NULL, "max-replica-lag", "D", "pause backfills while a replica lags more (default 10s)"},
	{NULL, "targets", "FILE", "every database of a fleet's targets file (see FLEETS in migrate(1))"},
	{NULL, "backfill-workers", "N", "connections filling disjoint key ranges of a backfill at once (default 1)"},
	{NULL, "replica", "CONNINFO", "a replica whose lag throttles backfills (repeatable)"},
	{NULL, NULL, NULL, NULL}
};

static const char exit_status_help[] =
"Exit status: 0 success, 1 a step failed, 2 usage or invalid file, 3 unsafe,\n"
"4 lock not available, 5 drift, 6 database unreachable, 130/143 interrupted.\n";

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

void
options_print_help(const Command *commands, const Command *cmd, const char *version)
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
		print_opts(cmd->name, opts_global);
		printf("\n%s\nSee migrate(1) for the settings, the operations and the JSON output.\n",
			   exit_status_help);
		return;
	}
	printf("migrate %s: zero-downtime schema migrations for PostgreSQL\n\n", version);
	printf("Usage: migrate [global options] <command> [options]\n\nCommands:\n");
	for (const Command *c = commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	printf("\nGlobal options:\n");
	print_opts(NULL, opts_global);
	printf("\n%s", exit_status_help);
}

/* ---- values ---- */

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

/* A duration option: its text, and the setting's own lower bound. */
static bool
set_duration(Settings *st, int64_t *field, unsigned bit, const char *opt,
			 const char *val, Error *err)
{
	if (!parse_duration(val, field))
		return error_set(err, EXIT_USAGE,
						 "--%s: \"%s\" is not a duration (250ms, 2s, 5m, or milliseconds)",
						 opt, val);
	if (*field < settings_min_ms(bit))
		return error_set(err, EXIT_USAGE, "--%s: \"%s\": must be more than 0", opt, val);
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
		case OPT_TARGETS:
			g->targets = val;
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
			a->help = true;
			break;
		case OPT_VERSION:
			a->version = true;
			break;
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
		case OPT_ALL:
			a->all = true;
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
		case OPT_BACKFILL_WORKERS:
			if (!parse_int64(val, &n) || n < 1 || n > BACKFILL_WORKERS_MAX)
				return error_set(err, EXIT_USAGE, "--backfill-workers: \"%s\" is not a number from 1 to %d",
								 val, BACKFILL_WORKERS_MAX);
			st->backfill_workers = (int) n;
			st->given |= SETTING_BACKFILL_WORKERS;
			break;
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

/* ---- parsing ---- */

static const OptDef *
find_opt(const OptDef *table, const char *long_name, size_t len, char short_name)
{
	for (const OptDef *o = table; o && o->name; o++)
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

static int
unknown_command(const Command *commands, const char *arg)
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
		fprintf(stderr, "migrate: unknown command \"%s\" (did you mean \"%s\"?)\n", arg, best);
	else
		fprintf(stderr, "migrate: unknown command \"%s\"\n", arg);
	fputs("Try \"migrate --help\" for more information.\n", stderr);
	return EXIT_USAGE;
}

/* The option arg names, or NULL after printing why there is none. */
static const OptDef *
lookup_option(const char *arg, const Command *cmd, const char **val)
{
	const OptDef *cmd_opts = cmd ? cmd->opts : NULL;
	const OptDef *o;

	*val = NULL;
	if (arg[1] == '-')
	{
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t		len = eq ? (size_t) (eq - name) : strlen(name);

		o = find_opt(opts_global, name, len, 0);
		if (!o)
			o = find_opt(cmd_opts, name, len, 0);
		if (!o)
		{
			char	   *bare = xstrndup(name, len);
			const char *best = closest_opt(opts_global, cmd_opts, bare);

			if (best)
				fprintf(stderr, "migrate: unknown option \"--%s\"%s (did you mean \"--%s\"?)\n",
						bare, cmd ? "" : " before the command", best);
			else
				fprintf(stderr, "migrate: unknown option \"--%s\"%s%s\n", bare,
						cmd ? " for " : "", cmd ? cmd->name : "");
			fputs("Try \"migrate --help\" for more information.\n", stderr);
			free(bare);
			return NULL;
		}
		if (eq && !o->has_arg)
		{
			cli_usage_error("option \"--%s\" takes no value", o->name);
			return NULL;
		}
		if (eq)
			*val = eq + 1;
		return o;
	}
	o = NULL;
	if (arg[2] == '\0' || arg[1] == 'd')
	{
		o = find_opt(opts_global, NULL, 0, arg[1]);
		if (!o)
			o = find_opt(cmd_opts, NULL, 0, arg[1]);
	}
	if (!o)
	{
		cli_usage_error("unknown option \"%s\"", arg);
		return NULL;
	}
	if (arg[2] != '\0')
		*val = arg + 2;			/* -dCONNINFO */
	return o;
}

int
options_parse(int argc, char **argv, const Command *commands, GlobalOptions *g,
			  Args *a, const Command **cmd_out)
{
	const Command *cmd = NULL;
	Error		err = {0};
	bool		only_positional = false;

	*cmd_out = NULL;
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const OptDef *o;
		const char *val;

		if (only_positional || arg[0] != '-' || arg[1] == '\0')
		{
			if (cmd != NULL)
			{
				strlist_add(&a->positional, arg);
				continue;
			}
			for (const Command *c = commands; c->name && !cmd; c++)
				if (strcmp(c->name, arg) == 0)
					cmd = c;
			if (cmd == NULL)
				return unknown_command(commands, arg);
			continue;
		}
		if (strcmp(arg, "--") == 0)
		{
			only_positional = true;
			continue;
		}
		if ((o = lookup_option(arg, cmd, &val)) == NULL)
			return EXIT_USAGE;
		if (o->has_arg && val == NULL)
		{
			if (i + 1 >= argc)
				return cli_usage_error("option \"--%s\" needs a value", o->name);
			val = argv[++i];
		}
		if (!apply_option(g, a, o, val, &err))
		{
			fprintf(stderr, "migrate: %s\n", err.message);
			error_clear(&err);
			fputs("Try \"migrate --help\" for more information.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (a->to_given && a->steps > 0)
		return cli_usage_error("%s", "give --to or --steps, not both");
	*cmd_out = cmd;
	return EXIT_OK;
}

void
options_free(Args *a)
{
	strlist_free(&a->positional);
	strlist_free(&a->replicas);
}
