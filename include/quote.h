/*
 * quote.h: the one place where identifiers and literals become SQL text.
 * Every identifier that migrate writes into SQL goes through quote_ident or
 * quote_qualified; values go through PQexecParams parameters, except in DDL
 * that cannot take parameters (COMMENT ON ... IS, a tenant's name in a
 * default), which uses quote_literal.
 */
#ifndef MIGRATE_QUOTE_H
#define MIGRATE_QUOTE_H

#include "util.h"

/* Always double-quotes: "a""b". */
void		quote_ident(Buf *out, const char *ident);

/*
 * A possibly schema-qualified name, "schema.table", split at the first dot:
 * "schema"."table".  A name without a dot is quoted as one identifier.  A
 * part may be written double-quoted, as SQL writes it, to hold a dot:
 * "my.table", public."my.table", "my.schema"."t" ("" is a quote inside).
 */
void		quote_qualified(Buf *out, const char *name);

/* A string literal: 'it''s', or E'...' when it holds a backslash. */
void		quote_literal(Buf *out, const char *value);

/* Convenience forms returning malloc'd strings. */
char	   *quoted_ident(const char *ident);
char	   *quoted_qualified(const char *name);
char	   *quoted_literal(const char *value);

/*
 * Splits "schema.table" into its parts (schema NULL when unqualified);
 * both malloc'd.  join_qualified is its inverse: the name, a part quoted
 * only when it holds a dot or starts with a double quote.
 */
void		split_qualified(const char *name, char **schema, char **relname);
char	   *join_qualified(const char *schema, const char *name);

/*
 * SQL text with identifiers and literals quoted as above; the one way
 * modules write names and literals into SQL (values stay $n parameters):
 *   %s raw text            %I identifier          %Q qualified name
 *   %L literal             %R literal of the quoted qualified name (for
 *                             to_regclass)
 *   %E (expression)        %C identifiers of a StrList, ", "-separated
 *   %D int64_t             %d int                 %% a percent sign
 */
void		sql_append(Buf *b, const char *fmt, ...);
void		sql_vappend(Buf *b, const char *fmt, va_list ap);
char	   *sql_format(const char *fmt, ...);

#endif
