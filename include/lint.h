/*
 * lint.h: judges the steps of a migration, and the statements of its sql
 * operations, as a PostgreSQL expert would: what each statement locks, and
 * whether it rewrites or scans the table under that lock (docs/design.md, What each
 * statement locks).
 *
 * Statements are parsed with PostgreSQL's own parser (libpg_query).  With a
 * catalog, what text cannot tell (whether a type change rewrites, how big
 * the table is) is asked of the database.
 */
#ifndef MIGRATE_LINT_H
#define MIGRATE_LINT_H

#include <stdio.h>

#include "plan.h"
#include "render.h"

struct Catalog;
struct PgQuery__TypeName;
struct PgQuery__ParseResult;

typedef struct LintFinding
{
	const char *rule;			/* "create-index-not-concurrent"; static */
	const char *squawk;			/* squawk's rule modules for it (space-separated), or NULL */
	char	   *file;			/* NULL: not from a file */
	int			line;			/* of the operation; 0: unknown */
	int64_t		version;		/* of the migration; 0: none */
	char	   *step_id;		/* NULL: raw SQL outside any step */
	char	   *statement;		/* as written (trimmed) */
	LockMode	lock;
	char	   *lock_on;		/* the table, unquoted; NULL: none */
	bool		rewrite;		/* the table is rewritten under the lock */
	bool		scan;			/* the table is scanned under the lock */
	const char *why;			/* static */
	const char *instead;		/* static */
	char	   *detail;			/* what only this case says; NULL */
	char	   *accepted;		/* the operation's unsafe_ok reason; NULL */
	bool		warning;		/* reported, not unsafe: a rename_* operation,
								 * whose contract (migrate(1), lint) is to warn */
	int64_t		est_rows;		/* -1: unknown (no database) */
	int64_t		pages;			/* -1: unknown */
} LintFinding;

typedef struct LintReport
{
	LintFinding *items;
	size_t		n;
	size_t		cap;
	size_t		statements;		/* statements judged */
} LintReport;

typedef struct LintOptions
{
	Strategy	strategy;		/* the steps of which strategy are judged */
	const struct Catalog *cat;	/* NULL: judge from the text alone */
	int			server_version; /* 0: the catalog's, else 150000 */
} LintOptions;

/*
 * What one statement does to the table it names (docs/design.md, What each
 * statement locks):
 * its strongest lock, and whether the table is rewritten or scanned under
 * it.  The planner shows it for raw SQL steps; relation is malloc'd (NULL:
 * none).
 */
typedef struct StatementEffect
{
	LockMode	lock;
	char	   *relation;
	bool		rewrite;
	bool		scan;
} StatementEffect;

struct PgQuery__Node;

void		lint_statement_effect(const struct PgQuery__Node *stmt, StatementEffect *out);

/*
 * Appends a parsed type's modifiers and array bounds ("(10,2)", "[]"), as
 * lint and convert both write types back as SQL.  False when a modifier is
 * not an integer constant.
 */
bool		lint_append_type_modifiers(Buf *b, const struct PgQuery__TypeName *tn);

/* Judges every step of one migration (compiled for o->strategy). */
bool		lint_migration(const Migration *m, const LintOptions *o,
						   LintReport *out, Error *err);

/*
 * Judges the steps of a plan as they are (apply judges the very plan it
 * runs); o->strategy should be the plan's.
 */
bool		lint_plan(const MigrationPlan *mp, const LintOptions *o, LintReport *out,
					  Error *err);

/*
 * Judges a piece of SQL on its own, as one sql operation would be: in one
 * transaction when in_txn.  Tables it creates count as new.  A parse error
 * is EXIT_USAGE with the position.
 */
bool		lint_sql(const char *sql, bool in_txn, const LintOptions *o,
					 LintReport *out, Error *err);

/* Findings not accepted with unsafe_ok. */
size_t		lint_unsafe_count(const LintReport *r);

/* Whether r has a finding of rule (accepted or not). */
bool		lint_has_rule(const LintReport *r, const char *rule);

/* The rule ids, NULL-terminated (for the man page and tests). */
extern const char *const lint_rule_ids[];

void		lint_render(FILE *out, const LintReport *r, Format fmt);
void		lint_report_free(LintReport *r);

#endif
