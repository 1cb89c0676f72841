/*
 * render.h: a Plan for people (text), for pipelines (JSON, one document,
 * documented in migrate(1)), and for psql (SQL that runs as-is under
 * psql -v ON_ERROR_STOP=1).
 */
#ifndef MIGRATE_RENDER_H
#define MIGRATE_RENDER_H

#include <stdio.h>

#include "plan.h"

typedef enum Format
{
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_SQL
} Format;

/* "text" "json" "sql"; format_from_name: -1 for anything else. */
const char *format_name(Format f);
int			format_from_name(const char *name);

typedef struct RenderOptions
{
	bool		color;			/* ANSI colour in text output */
	bool		connected;		/* the plan was made against a database */
	const Settings *settings;	/* effective settings, for SET lines in SQL */
} RenderOptions;

void		render_plan(FILE *out, const Plan *plan, Format fmt,
						const RenderOptions *opts);

#endif
