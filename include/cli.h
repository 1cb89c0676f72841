/*
 * cli.h: the command table and what every command shares.
 *
 * A command is one row of the table in cli.c ({name, function, flags,
 * options, usage, summary}) and one cmd_* function in its own
 * src/cmd_*.c.  The flags say what the dispatcher does before the
 * function runs: refuse positional arguments, load the migration files,
 * open the session (connect, run lock, journal), accept --format.  The
 * function gets a Run with all of that in place, prints its results
 * through render, and returns the exit code; its Error is printed once,
 * by cli_fail().
 */
#ifndef MIGRATE_CLI_H
#define MIGRATE_CLI_H

#include <signal.h>

#include "options.h"
#include "session.h"

#define MIGRATE_VERSION "0.1.0"

/* What the dispatcher does for a command (Command.flags). */
enum
{
	CMD_ARGS = 1 << 0,			/* takes positional arguments (else: exit 2) */
	CMD_FILES = 1 << 1,			/* loads the migration files of --dir */
	CMD_DB = 1 << 2,			/* needs a database: always connects */
	CMD_MAY_DB = 1 << 3,		/* connects when one is named, unless --offline */
	CMD_WRITES = 1 << 4,		/* run lock, history table, journal; not with --dry-run */
	CMD_FORMATS = 1 << 5,		/* --format text|json */
	CMD_SQL = 1 << 6,			/* --format sql as well */
	CMD_TARGETS = 1 << 7,		/* --targets FILE: runs on each target of a fleet */
};

typedef struct Run Run;

typedef struct Command
{
	const char *name;
	int			(*fn) (Run *r);
	unsigned	flags;			/* CMD_* */
	const OptDef *opts;			/* the command's own options (options.c) */
	const char *usage;
	const char *summary;
} Command;

/* Everything a command works with; the dispatcher fills and frees it. */
struct Run
{
	const Command *cmd;
	GlobalOptions *g;
	Args	   *a;
	MigrationSet set;			/* CMD_FILES */
	Session		s;				/* s.conn NULL: not connected */
	bool		connected;
	const char *target;			/* the fleet target's name; NULL: alone */
};

extern const Command cli_commands[];

/*
 * Set (by SIGUSR1, in a fleet's worker) to stop after the migration that
 * runs: apply and rollback then say {"event":"halted"} and exit 0.
 */
extern volatile sig_atomic_t cli_stop_requested;

/*
 * Whether to stop before the next of total migrations (done of them
 * finished) because a stop was requested; says so (a "halted" event).
 */
bool		cli_halted(const Progress *p, size_t done, size_t total);

int			cli_main(int argc, char **argv);

/* Runs cmd on one database, as cli_main does after parsing (fleets, too). */
int			cli_run_command(const Command *cmd, GlobalOptions *g, Args *a,
							const char *target);

/* Prints err once ("migrate: ..."), clears it, returns its exit code. */
int			cli_fail(Error *err);

/* "migrate: <message>" and the --help hint; EXIT_USAGE. */
int			cli_usage_error(const char *fmt, const char *arg);

/* Defaults, then the file's settings (m may be NULL), then the command line's. */
Settings	cli_settings(const Migration *m, const Args *a);

/* JSON events unless a person reads a terminal, or --format says otherwise. */
void		cli_init_progress(Progress *p, const GlobalOptions *g);

/* Whether the command line or the environment names a database. */
bool		cli_database_named(const GlobalOptions *g);

/* Refuses to go on when an applied migration's file changed (EXIT_DRIFT). */
bool		cli_check_drift(const MigrationSet *set, const History *h, Error *err);

bool		cli_is_applied(const History *h, int64_t version);

/* The strategy a migration was applied with: finalize and rollback mirror it. */
Strategy	cli_applied_strategy(const HistoryRow *row);

/*
 * "<file>:<line>: migration V_name cannot be rolled back: <why> (step, op)"
 * for the first step of mp that cannot be undone; NULL when every step can.
 * Online, a contract step waits for finalize: it counts once finalized.
 */
char	   *cli_rollback_refusal(const MigrationPlan *mp, bool finalized);

/*
 * The migration as it was applied: its file when unchanged, else the text
 * the history table kept (the file is gone, or changed since), loaded into
 * *kept (free it with migration_free); NULL with err when neither is there.
 */
const Migration *cli_applied_migration(const Run *r, const HistoryRow *row, Migration *kept,
									   Error *err);

/*
 * Lints ms with strategy (cat may be NULL) and prints the findings.
 * EXIT_UNSAFE when one is unsafe.
 */
int			cli_lint_migrations(const GlobalOptions *g, const Migration *const *ms,
								size_t n, Strategy strategy, const Catalog *cat);

/* An executor context over the run's session. */
void		cli_exec_context(ExecContext *ctx, Run *r, Progress *progress,
							 const char *applied_by);

int			cmd_validate(Run *r);
int			cmd_plan(Run *r);
int			cmd_apply(Run *r);
int			cmd_rollback(Run *r);
int			cmd_status(Run *r);
int			cmd_finalize(Run *r);
int			cmd_new(Run *r);
int			cmd_lint(Run *r);
int			cmd_convert(Run *r);
int			cmd_forget(Run *r);

#endif
