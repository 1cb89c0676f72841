/*
 * sqlparse.h: the one place that runs PostgreSQL's parser (libpg_query) on
 * text from a migration file, with a syntax error reported where it is in
 * the file.  lint, convert and the loader (index elements) use it.
 */
#ifndef MIGRATE_SQLPARSE_H
#define MIGRATE_SQLPARSE_H

#include "spec.h"

struct PgQuery__ParseResult;
struct PgQuery__ScanResult;

/*
 * Parses sql into its protobuf tree (free it with
 * pg_query__parse_result__free_unpacked); NULL with err (EXIT_USAGE) on a
 * syntax error, "file:line:col: [what: ]message".  The first skip bytes of
 * sql are a wrapper that is not in the file; sql[skip] is at line:col.
 */
struct PgQuery__ParseResult *sql_parse(const char *sql, size_t skip, const char *file,
									   int line, int col, const char *what, Error *err);

/* Frees what sql_parse returned (NULL: nothing). */
void		sql_parse_free(struct PgQuery__ParseResult *tree);

/*
 * The tokens of text, with their byte positions in it (free with
 * sql_tokens_free); NULL when it does not scan, for a caller that only
 * looks for something in text already parsed.
 */
struct PgQuery__ScanResult *sql_tokens(const char *text);
void		sql_tokens_free(struct PgQuery__ScanResult *tokens);

/*
 * Reads one index element written as PostgreSQL writes it inside CREATE
 * INDEX ... (...): "created_at DESC NULLS LAST", "title text_pattern_ops",
 * "name COLLATE \"C\"", "lower(email)", "(a + b) DESC".  A lone name (no
 * blank, parenthesis or double quote) is the column of that name, taken
 * literally.  Fills out's parts (out->text is
 * not touched); false with err at pos (what prefixes the message).
 */
bool		sql_parse_index_elem(const char *text, const SrcPos *pos, const char *what,
								 IndexElem *out, Error *err);

/*
 * Checks that expr is one SQL expression that can stand inside the
 * parentheses of an index element (no comment, nothing that closes them);
 * false with err at pos.
 */
bool		sql_check_index_expression(const char *expr, const SrcPos *pos, const char *what,
									   Error *err);

#endif
