/*
 * sqlparse.h: the one place that runs PostgreSQL's parser (libpg_query) on
 * text from a migration file, with a syntax error reported where it is in
 * the file.  lint, convert and the loader (index elements) use it.
 */
#ifndef MIGRATE_SQLPARSE_H
#define MIGRATE_SQLPARSE_H

#include "spec.h"

struct PgQuery__Node;
struct PgQuery__ParseResult;
struct PgQuery__ScanResult;
struct ProtobufCMessageDescriptor;

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

/* One statement of a text, as sql_split finds it. */
typedef struct SqlStatement
{
	const struct PgQuery__Node *node;	/* its tree; NULL: an empty statement */
	char	   *text;			/* its own text: without the blanks and comments
								 * before it, nor the blanks and ";" after it */
	int			offset;			/* where that text begins in the whole text */
	int			line;			/* its line in the file */
} SqlStatement;

typedef struct SqlStatements
{
	SqlStatement *items;
	size_t		n;
	struct PgQuery__ParseResult *tree;	/* what the nodes are part of */
} SqlStatements;

/*
 * Splits text (its first line is line first_line of file) into its
 * statements with PostgreSQL's parser: what raw SQL, lint and convert
 * read.  False with err (EXIT_USAGE, "file:line:col: [what: ]message") on
 * a syntax error.  Free with sql_statements_free (also after a failure).
 */
bool		sql_split(const char *text, const char *file, int first_line, const char *what,
					  SqlStatements *out, Error *err);
void		sql_statements_free(SqlStatements *s);

/*
 * Calls visit(message, arg) on each message of the given type (a
 * protobuf-c descriptor: &pg_query__func_call__descriptor) in the tree
 * under root, root first, then depth first in the order of its fields.  A
 * visit that returns false stops the walk; sql_walk then returns false.
 */
typedef bool (*SqlVisit) (const void *message, void *arg);
bool		sql_walk(const void *root, const struct ProtobufCMessageDescriptor *type,
					 SqlVisit visit, void *arg);

/*
 * The columns of the row that expression expr reads, each once, in the
 * order they appear: false when that cannot be told (a subquery, a star,
 * no column at all, a syntax error).
 */
bool		sql_expression_columns(const char *expr, StrList *out);

/*
 * What a parsed text is, for a loader that asks for one kind: one SELECT
 * (or VALUES); one SELECT of one expression and nothing else ("SELECT
 * (expr)"); one GRANT of one object to one grantee.
 */
bool		sql_is_one_select(const struct PgQuery__ParseResult *tree);
bool		sql_is_one_expression(const struct PgQuery__ParseResult *tree);
bool		sql_is_one_grant(const struct PgQuery__ParseResult *tree);

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
