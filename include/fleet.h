/*
 * fleet.h: one migration set over many databases (--targets FILE).
 *
 * The targets file (YAML, checked with file:line:col like a migration file):
 *
 *   canary: 1              the first N targets run alone first (default 1)
 *   parallel: 4            at most N targets at once (default 4)
 *   on_failure: halt       halt: no new target starts after a failure, and
 *                          running ones stop after their current migration;
 *                          continue: the others go on (default halt)
 *   targets:
 *     - name: shard01
 *       database: "host=db1 dbname=shop"     a conninfo or URI, no password
 *
 * Each target is a database as when migrate runs on it alone: its own run
 * lock, history table and journal in the state file.  apply and rollback
 * run each target in a process of its own (see docs/design.md, Fleets);
 * status and plan read the targets one after the other.
 */
#ifndef MIGRATE_FLEET_H
#define MIGRATE_FLEET_H

#include "cli.h"

typedef enum OnFailure
{
	ON_FAILURE_HALT,
	ON_FAILURE_CONTINUE
} OnFailure;

typedef struct Target
{
	char	   *name;
	char	   *database;		/* conninfo or URI, without a password */
	SrcPos		pos;			/* of its entry in the file */
} Target;

typedef struct Targets
{
	char	   *path;			/* owned; positions point at it */
	Target	   *items;			/* in the file's order */
	size_t		n;
	int			canary;
	int			parallel;
	OnFailure	on_failure;
} Targets;

/* Loads and checks a targets file; on a problem, err is file:line:col (exit 2). */
bool		targets_load(const char *path, Targets *out, Error *err);

/* The same from text (path names it in messages). */
bool		targets_parse(const char *path, const char *text, size_t len, Targets *out,
						  Error *err);
void		targets_free(Targets *t);

/*
 * The worse of two exit codes, for a fleet's exit status: interrupted
 * (130, 143), then a failed step (1), drift (5), a lock (4), unsafe (3),
 * unreachable (6), usage (2), success (0).
 */
int			fleet_worse_exit(int a, int b);

/*
 * The value of a top-level key of a one-line JSON object (an event), as
 * text: a string unescaped, anything else as written; NULL when absent.
 */
char	   *fleet_event_field(const char *line, const char *key);

/* Runs cmd (plan, apply, rollback, status) on every target of g->targets. */
int			fleet_run(const Command *cmd, GlobalOptions *g, Args *a);

#endif
