/*
 * cli.h: global options and the command table.  Each command is one
 * cmd_* function; commands are thin and print errors once, at the top.
 */
#ifndef MIGRATE_CLI_H
#define MIGRATE_CLI_H

#include "render.h"
#include "spec.h"

#define MIGRATE_VERSION "0.1.0"

typedef struct GlobalOptions
{
	const char *database;		/* -d; NULL: DATABASE_URL or libpq env */
	const char *dir;			/* --dir, default "migrations" */
	const char *state_path;		/* --state, default ".migrate/state.db" */
	const char *table;			/* --table, default "public.schema_migrations" */
	Format		format;			/* --format */
	bool		format_given;
	bool		quiet;
	bool		verbose;
	bool		color;			/* a terminal, and neither --no-color nor NO_COLOR */
} GlobalOptions;

int			cli_main(int argc, char **argv);

#endif
