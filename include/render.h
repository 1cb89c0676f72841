/*
 * render.h: a Plan for people (text), for pipelines (JSON, one document,
 * documented in migrate(1)), and for psql (SQL that runs as-is under
 * psql -v ON_ERROR_STOP=1); and every other shape a command prints:
 * status, finalize's list of steps, rollback's steps in the order it runs
 * them.  The commands decide what to show; render decides how.
 */
#ifndef MIGRATE_RENDER_H
#define MIGRATE_RENDER_H

#include <stdio.h>

#include "plan.h"
#include "state.h"

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

/* One migration as status shows it: its file, its history row, or both. */
typedef struct StatusEntry
{
	const Migration *m;			/* NULL: no file */
	const HistoryRow *row;		/* NULL: never run */
	const char *status;			/* "pending", "completed", ... */
	bool		drifted;		/* applied, and the file changed since */
	bool		interrupted;	/* running, and no migrate runs it; or failed,
								 * stopped by a signal */
	bool		online;			/* completed online: finalized or not */
	/* running, with a runner: where it is, read from the database */
	char	   *step_id;		/* NULL: not known */
	char	   *step_summary;
	int64_t		step_elapsed_ms;	/* -1: not known */
	bool		backfill;		/* the step is a backfill: rows below */
	int64_t		rows_done;
	int64_t		rows_total;		/* the estimate; -1: not known */
	double		rows_per_sec;	/* the backfill's own rate; 0: not known */
} StatusEntry;

/* status: a line per migration (text), or {"migrations": [...]} (JSON). */
void		render_status(FILE *out, const StatusEntry *entries, size_t n, Format fmt);

/* A step finalize runs, of a migration. */
typedef struct FinalizeItem
{
	const Migration *m;
	const Step *step;
} FinalizeItem;

/*
 * What finalize will run: a text list with its warning, or one JSON line
 * {"event":"finalize_plan","dry_run":bool,"steps":[...]} before the events.
 */
void		render_finalize_plan(FILE *out, const FinalizeItem *items, size_t n,
								 bool dry_run, Format fmt);

/* One migration's rollback: the steps rollback runs, in its order. */
typedef struct RollbackPlan
{
	const MigrationPlan *mp;
	const Step **steps;
	size_t		n;
	bool		partial;		/* only the steps that completed are undone */
} RollbackPlan;

/* rollback --dry-run: text, or one JSON document for every migration. */
void		render_rollback_plan(FILE *out, const RollbackPlan *items, size_t n,
								 Format fmt, const RenderOptions *opts);

/* One target of a fleet, as status --targets shows it. */
typedef struct FleetStatusRow
{
	const char *target;
	char	   *error;			/* it could not be read: why; NULL */
	char	   *applied;		/* the newest applied migration, V_name; NULL: none */
	int64_t		applied_version;
	size_t		pending;
	char	   *problem;		/* a failed or running migration, V_name; NULL */
	const char *problem_state;	/* "failed", "running", "interrupted" */
	char	   *problem_error;
	bool		drifted;
	char	   *drift;			/* the first drifted migration, V_name */
} FleetStatusRow;

/* status --targets: a row per target (text), or {"targets": [...]} (JSON). */
void		render_fleet_status(FILE *out, const FleetStatusRow *rows, size_t n, Format fmt);

/* Targets in the same state, and the plan they share (rendered as asked). */
typedef struct FleetPlanGroup
{
	const StrList *targets;
	int64_t		applied;		/* newest applied version; 0: none */
	const char *applied_label;	/* its version as written; NULL: none */
	const char *pending;		/* the pending versions, "2,3" */
	const char *plan;			/* render_plan's output for them */
} FleetPlanGroup;

/* plan --targets: each group's targets, then its plan; then the unreachable. */
void		render_fleet_plan(FILE *out, const FleetPlanGroup *groups, size_t n,
							  const FleetStatusRow *unreachable, size_t n_unreachable,
							  Format fmt);

#endif
