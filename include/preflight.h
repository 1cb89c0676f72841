/*
 * preflight.h: every SQL expression of a migration (backfill, set, down,
 * check, where, using, default, policy using / with_check) is judged before
 * the migration changes anything, so that a misspelt column never becomes a
 * trigger that breaks the application's writes half way through a run.
 *
 *  - preflight_parse (validate, no database): each expression parses with
 *    PostgreSQL's own parser.
 *  - preflight_compile (apply): each expression compiles against the live
 *    schema, as the migration will have changed it by then: in a transaction
 *    that keeps nothing, the tables the migration touches are copied as
 *    empty temporary tables (LIKE, which takes only ACCESS SHARE), the
 *    migration's changes are made to the copies (named as the tables, so
 *    that pg_temp shadows them), and each expression, index element and
 *    foreign key is compiled over them (EXPLAIN, never run).  A type change
 *    is made to the copy too, with its USING, and the column's default is
 *    cast to the new type.
 *
 * A failure is EXIT_USAGE naming the expression's file:line:col, and
 * nothing in the database has changed.
 */
#ifndef MIGRATE_PREFLIGHT_H
#define MIGRATE_PREFLIGHT_H

#include "executor.h"

bool		preflight_parse(const Migration *m, Error *err);

/*
 * Runs in ctx's connection in one short transaction of txn (lock waits
 * retried); ctx->settings must be the migration's.  An unqualified
 * create_type is made in pg_temp.  What an sql, other type operation,
 * view, partition, role or multi_tenancy operation makes cannot be told
 * from the file: an expression whose failure is about a name such an
 * earlier operation writes is parsed only, with a note on stderr.
 */
bool		preflight_compile(ExecContext *ctx, const Migration *m, Error *err);

#endif
