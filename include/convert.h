/*
 * convert.h: `migrate convert`: a plain SQL migration becomes a migration
 * file.  Each statement, parsed with PostgreSQL's own parser, maps to the
 * operation that does the same online; what has no operation (or cannot be
 * represented by one) becomes an sql operation holding the statement.
 */
#ifndef MIGRATE_CONVERT_H
#define MIGRATE_CONVERT_H

#include "util.h"

/*
 * Appends the migration file's YAML to out.  path names the SQL for
 * messages; a parse error is EXIT_USAGE with path:line:col.
 */
bool		convert_sql(const char *path, const char *sql, Buf *out, Error *err);

#endif
