/*
 * options.h: the command line.  Global options anywhere, the first other
 * word is the command, the command's own options after it, the rest
 * positional.  Every value is checked here: a value that makes no sense
 * (a lock timeout of 0, a batch time of 0) is a usage error, exit 2.
 */
#ifndef MIGRATE_OPTIONS_H
#define MIGRATE_OPTIONS_H

#include "render.h"
#include "spec.h"

typedef struct GlobalOptions
{
	const char *database;		/* -d; NULL: DATABASE_URL or libpq env */
	const char *dir;			/* --dir, default "migrations" */
	const char *state_path;		/* --state, default ".migrate/state.db" */
	const char *table;			/* --table, default "public.schema_migrations" */
	const char *targets;		/* --targets FILE: a fleet; NULL: one database */
	Format		format;			/* --format */
	bool		format_given;
	bool		quiet;
	bool		verbose;
	bool		color;			/* a terminal, and neither --no-color nor NO_COLOR */
} GlobalOptions;

typedef enum OptId
{
	OPT_DATABASE, OPT_DIR, OPT_STATE, OPT_TABLE, OPT_FORMAT, OPT_QUIET,
	OPT_VERBOSE, OPT_NO_COLOR, OPT_HELP, OPT_VERSION, OPT_TARGETS,
	OPT_ONLINE, OPT_TO, OPT_DRY_RUN, OPT_OFFLINE, OPT_STEPS, OPT_YES,
	OPT_TEMPLATE, OPT_LOCK_TIMEOUT, OPT_LOCK_RETRIES, OPT_STATEMENT_TIMEOUT,
	OPT_BATCH_SIZE, OPT_BATCH_TIME, OPT_BATCH_DELAY, OPT_MAX_REPLICA_LAG, OPT_BACKFILL_WORKERS,
	OPT_REPLICA, OPT_PLAIN, OPT_OUTPUT, OPT_ALL,
} OptId;

typedef struct OptDef
{
	const char *name;			/* long name, without "--" */
	char		short_name;		/* 0: none */
	bool		has_arg;
	OptId		id;
} OptDef;

/* What the command line said, beyond the global options. */
typedef struct Args
{
	bool		online;
	bool		dry_run;
	bool		offline;
	bool		yes;
	bool		plain;			/* lint: judge the plain strategy's steps;
								 * apply: run a plain plan's unsafe steps on
								 * large tables anyway */
	bool		all;			/* lint: applied migrations too */
	const char *output;			/* convert -o */
	bool		to_given;
	int64_t		to;
	int64_t		steps;			/* 0: not given */
	const char *template_name;
	Settings	settings;		/* only the given mask counts */
	StrList		replicas;
	StrList		positional;		/* owned copies */
	bool		help;
	bool		version;
} Args;

/* The options of each command (one table each; help walks them). */
extern const OptDef opts_global[];
extern const OptDef opts_none[];
extern const OptDef opts_apply[];
extern const OptDef opts_plan[];
extern const OptDef opts_rollback[];
extern const OptDef opts_status[];
extern const OptDef opts_finalize[];
extern const OptDef opts_new[];
extern const OptDef opts_lint[];
extern const OptDef opts_convert[];

struct Command;

/*
 * Parses argv into g and a; *cmd is the command named (NULL: none).
 * Prints its own messages; returns EXIT_OK or EXIT_USAGE.
 */
int			options_parse(int argc, char **argv, const struct Command *commands,
						  GlobalOptions *g, Args *a, const struct Command **cmd);

/* "migrate --help" (cmd NULL) or "migrate COMMAND --help". */
void		options_print_help(const struct Command *commands, const struct Command *cmd,
							   const char *version);

void		options_free(Args *a);

#endif
