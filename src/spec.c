/*
 * spec.c: migration files → the typed model of spec.h.
 *
 * spec_yaml.c turns the bytes into a tree and refuses what is wrong as
 * YAML; this file judges the tree as a migration (migrate(1), OPERATIONS): known keys,
 * required fields, types, values.  Each operation has a table of the keys
 * it takes and a parser; the small get_* helpers below do the lookups, the
 * type checks and the messages, so that the parsers read like the spec.
 *
 * Every problem is reported as "file:line:col: owner: what is wrong", where
 * owner says which part of the file is being read ("add_column",
 * "create_table.columns[2]").  Nothing is returned half-built: on failure
 * the Migration is freed and zeroed.
 */
#include "spec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "partition.h"
#include "quote.h"
#include "sha256.h"
#include "spec_yaml.h"
#include "sqlparse.h"

/* A mapping being read, with what to call it in messages. */
typedef struct Fields
{
	const YNode *map;			/* a Y_MAP */
	char		owner[96];		/* "add_column", "create_table.columns[2]" */
	SrcPos		pos;			/* where a missing field is reported */
	Error	   *err;
	Migration  *m;				/* records where each text was written */
} Fields;

/* Flags of the get_* helpers. */
enum
{
	REQUIRED = 1 << 0,			/* absent: "missing required field" */
	QUALIFIED = 1 << 1,			/* an identifier that may be schema.name */
	NONEMPTY = 1 << 2,			/* a list that must have an item */
	ALLOW_EMPTY = 1 << 3		/* a text that may be "" */
};

static const char *const fk_actions[] = {
	"no action", "restrict", "cascade", "set null", "set default", NULL
};
static const char *const index_methods[] = {
	"btree", "hash", "gist", "gin", "spgist", "brin", NULL
};
static const char *const policy_commands[] = {
	"all", "select", "insert", "update", "delete", NULL
};

static void fields_init(Fields *f, const YNode *map, const SrcPos *pos, Error *err,
						const char *fmt, ...) PRINTF_LIKE(5, 6);

static void
fields_init(Fields *f, const YNode *map, const SrcPos *pos, Error *err,
			const char *fmt, ...)
{
	va_list		ap;

	f->map = map;
	f->pos = *pos;
	f->err = err;
	f->m = NULL;
	va_start(ap, fmt);
	vsnprintf(f->owner, sizeof f->owner, fmt, ap);
	va_end(ap);
}

/* ---- messages ---- */

static const char *
node_kind_text(const YNode *v)
{
	if (v->kind == Y_SEQ)
		return "a list";
	if (v->kind == Y_MAP)
		return "a mapping";
	switch (v->type)
	{
		case YS_NULL:
			return "an empty value";
		case YS_BOOL:
			return "a boolean";
		case YS_INT:
		case YS_FLOAT:
			return "a number";
		case YS_STRING:
			break;
	}
	return "a string";
}

static bool
wrong_type(const Fields *f, const char *label, const YNode *v, const char *expected)
{
	bool		quotable = v->kind == Y_SCALAR && v->type != YS_NULL &&
		strcmp(expected, "a string") == 0;

	return spec_error_at(f->err, &v->pos, "%s: %s: expected %s, got %s%s",
						 f->owner, label, expected, node_kind_text(v),
						 quotable ? " (put it in quotes to make it a string)" : "");
}

/*
 * The closest of candidates to word, for "did you mean": an edit distance
 * of at most 2 (less than the word's length, so that "x" suggests nothing),
 * else a candidate that the word begins or is the beginning of.
 */
static const char *
closest_word(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	int			best_distance = 3;
	size_t		word_len = strlen(word);

	for (const char *const *c = candidates; *c; c++)
	{
		int			d = edit_distance(word, *c);

		if (d < best_distance && (size_t) d < word_len)
		{
			best = *c;
			best_distance = d;
		}
	}
	if (best)
		return best;
	for (const char *const *c = candidates; *c; c++)
	{
		size_t		len = strlen(*c);

		if ((word_len >= 3 && strncmp(*c, word, word_len) == 0) ||
			(len >= 3 && strncmp(word, *c, len) == 0))
			return *c;
	}
	return NULL;
}

static bool
unknown_word(Error *err, const YNode *key, const char *what_fmt, const char *owner,
			 const char *const *candidates)
{
	const char *guess = closest_word(key->text, candidates);
	Buf			b;
	bool		result;

	buf_init(&b);
	if (owner)
		buf_printf(&b, "%s: ", owner);
	buf_printf(&b, what_fmt, key->text);
	if (guess)
		buf_printf(&b, " (did you mean \"%s\"?)", guess);
	result = spec_error_at(err, &key->pos, "%s", b.data);
	buf_free(&b);
	return result;
}

/* ---- looking keys up ---- */

static bool
in_list(const char *word, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(word, *list) == 0)
			return true;
	return false;
}

/* The key node of key in map, or NULL. */
static const YNode *
map_key(const YNode *map, const char *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(YMAP_KEY(map, i)->text, key) == 0)
			return YMAP_KEY(map, i);
	return NULL;
}

static const YNode *
map_value(const YNode *map, const char *key)
{
	const YNode *k = map_key(map, key);

	return k ? k + 1 : NULL;
}

static bool
is_null(const YNode *v)
{
	return v->kind == Y_SCALAR && v->type == YS_NULL;
}

/* Refuses any key of f that is not in allowed. */
static bool
check_keys(const Fields *f, const char *const *allowed)
{
	for (size_t i = 0; i < f->map->n; i++)
	{
		const YNode *key = YMAP_KEY(f->map, i);

		if (!in_list(key->text, allowed))
			return unknown_word(f->err, key, "unknown field \"%s\"", f->owner, allowed);
	}
	return true;
}

/*
 * *out: the value of key, or NULL when it is absent or, for an optional
 * field, empty (so "where:" means no where).
 */
static bool
lookup(const Fields *f, const char *key, unsigned flags, const YNode **out)
{
	const YNode *v = map_value(f->map, key);

	*out = NULL;
	if (v == NULL)
	{
		if (flags & REQUIRED)
			return spec_error_at(f->err, &f->pos, "%s: missing required field \"%s\"",
								 f->owner, key);
		return true;
	}
	if (!(flags & REQUIRED) && is_null(v))
		return true;
	*out = v;
	return true;
}

/*
 * Refuses a name given twice in a list: names[i] was read from items[i].
 * what: "column", "table".
 */
static bool
refuse_repeated(const Fields *f, const char *const *names, size_t n, const YNode *items,
				const char *what)
{
	size_t		repeat,
				first;

	if (!spec_find_repeat(names, n, &repeat, &first))
		return true;
	return spec_error_at(f->err, &items[repeat].pos, "%s: %s \"%s\" appears twice (first at line %d)",
						 f->owner, what, names[repeat], items[first].pos.line);
}

static int
compare_string_ptrs(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* A sorted copy of a list's pointers, for lookups in O(log n). */
static const char **
sorted_names(const StrList *l)
{
	const char **sorted = xmalloc((l->n ? l->n : 1) * sizeof(char *));

	memcpy(sorted, l->items, l->n * sizeof(char *));
	if (l->n > 1)
		qsort(sorted, l->n, sizeof(char *), compare_string_ptrs);
	return sorted;
}

static bool
sorted_contains(const char **sorted, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, sorted, n, sizeof(char *), compare_string_ptrs) != NULL;
}

/* ---- converting one node ---- */

static bool
not_empty(const Fields *f, const char *label, const YNode *v, unsigned flags)
{
	if (v->text[0] == '\0' && !(flags & ALLOW_EMPTY))
		return spec_error_at(f->err, &v->pos, "%s: %s must not be empty", f->owner, label);
	return true;
}

/* A scalar that must be a string: names, types, reasons. */
static bool
conv_string(const Fields *f, const char *label, const YNode *v, unsigned flags, char **out)
{
	if (v->kind != Y_SCALAR || v->type != YS_STRING)
		return wrong_type(f, label, v, "a string");
	if (!not_empty(f, label, v, flags))
		return false;
	*out = xstrdup(v->text);
	return true;
}

/* Any scalar, as written: SQL expressions, comments, a tenant's id. */
static bool
conv_text(const Fields *f, const char *label, const YNode *v, unsigned flags, char **out)
{
	if (v->kind != Y_SCALAR || v->type == YS_NULL)
		return wrong_type(f, label, v, (flags & ALLOW_EMPTY) ? "a text" : "an SQL expression");
	if (!not_empty(f, label, v, flags))
		return false;
	*out = xstrdup(v->text);
	if (f->m)
		migration_note_text(f->m, *out, &v->pos);
	return true;
}

static bool
check_ident_length(const Fields *f, const char *label, const YNode *v, const char *part)
{
	if (strlen(part) > SPEC_MAX_IDENT_BYTES)
		return spec_error_at(f->err, &v->pos,
							 "%s: %s: identifier \"%s\" is longer than %d bytes",
							 f->owner, label, part, SPEC_MAX_IDENT_BYTES);
	return true;
}

/*
 * An identifier: a non-empty string of at most 63 bytes; a qualified one
 * is checked part by part, split as quote_qualified splits it.
 */
static bool conv_qualified_map(const Fields *f, const char *label, const YNode *v, char **out);

static bool
conv_ident(const Fields *f, const char *label, const YNode *v, unsigned flags, char **out)
{
	char	   *ident;
	bool		ok;

	if ((flags & QUALIFIED) && v->kind == Y_MAP)
		return conv_qualified_map(f, label, v, out);
	if (!conv_string(f, label, v, flags & ~ALLOW_EMPTY, &ident))
		return false;
	if (flags & QUALIFIED)
	{
		char	   *schema,
				   *relname;

		split_qualified(ident, &schema, &relname);
		ok = (schema == NULL || check_ident_length(f, label, v, schema)) &&
			check_ident_length(f, label, v, relname);
		free(schema);
		free(relname);
	}
	else
		ok = check_ident_length(f, label, v, ident);
	if (!ok)
	{
		free(ident);
		return false;
	}
	*out = ident;
	return true;
}

static bool get_string(const Fields *f, const char *key, unsigned flags, char **out);

static const char *const qualified_keys[] = {"schema", "name", NULL};

/*
 * {schema, name}: a name whose parts are taken literally, dots and all;
 * kept in the quoted form split_qualified reads ("my.schema"."my.table").
 */
static bool
conv_qualified_map(const Fields *f, const char *label, const YNode *v, char **out)
{
	Fields		sub;
	char	   *schema = NULL,
			   *name = NULL;
	bool		ok;

	fields_init(&sub, v, &v->pos, f->err, "%s: %s", f->owner, label);
	ok = check_keys(&sub, qualified_keys) &&
		get_string(&sub, "schema", 0, &schema) &&
		get_string(&sub, "name", REQUIRED, &name) &&
		(schema == NULL || check_ident_length(f, label, v, schema)) &&
		check_ident_length(f, label, v, name);
	if (ok)
		*out = join_qualified(schema, name);
	free(schema);
	free(name);
	return ok;
}

/* Only the YAML 1.2 spellings: "yes", "on", "True" are refused. */
static bool
conv_bool(const Fields *f, const char *label, const YNode *v, bool *out)
{
	if (v->kind == Y_SCALAR && strcmp(v->text, "true") == 0 && v->type == YS_BOOL)
		*out = true;
	else if (v->kind == Y_SCALAR && strcmp(v->text, "false") == 0 && v->type == YS_BOOL)
		*out = false;
	else if (v->kind == Y_SCALAR)
		return spec_error_at(f->err, &v->pos, "%s: %s: expected true or false, got \"%s\"%s",
							 f->owner, label, v->text,
							 v->type == YS_STRING && (strcmp(v->text, "true") == 0 ||
													  strcmp(v->text, "false") == 0)
							 ? " (without quotes)" : "");
	else
		return wrong_type(f, label, v, "true or false");
	return true;
}

/* A decimal integer in [min, max]. */
static bool
conv_int(const Fields *f, const char *label, const YNode *v, int64_t min, int64_t max,
		 int64_t *out)
{
	const char *p;
	bool		negative;
	int64_t		value = 0;

	if (v->kind != Y_SCALAR || v->type != YS_INT)
		return wrong_type(f, label, v, "an integer");
	p = v->text;
	negative = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return wrong_type(f, label, v, "a decimal integer");
		if (value > (INT64_MAX - (*p - '0')) / 10)
		{
			value = INT64_MAX;
			break;
		}
		value = value * 10 + (*p - '0');
	}
	if (negative)
		value = -value;
	if (value < min || value > max)
	{
		if (min == 1 && max == INT64_MAX)
			return spec_error_at(f->err, &v->pos, "%s: %s: must be a positive integer, got %s",
								 f->owner, label, v->text);
		return spec_error_at(f->err, &v->pos,
							 "%s: %s: must be an integer from %" PRId64 " to %" PRId64 ", got %s",
							 f->owner, label, min, max, v->text);
	}
	*out = value;
	return true;
}

static bool
conv_duration(const Fields *f, const char *label, const YNode *v, int64_t *out)
{
	if (v->kind != Y_SCALAR || (v->type != YS_INT && v->type != YS_STRING))
		return wrong_type(f, label, v, "a duration");
	if (!parse_duration(v->text, out))
		return spec_error_at(f->err, &v->pos,
							 "%s: %s: \"%s\" is not a duration (250ms, 2s, 5m, 1h, "
							 "or a number of milliseconds)", f->owner, label, v->text);
	return true;
}

/* One of choices, any case; stored lower-case. */
static bool
conv_choice(const Fields *f, const char *label, const YNode *v, const char *const *choices,
			char **out)
{
	Buf			list;
	bool		result;

	if (v->kind != Y_SCALAR || v->type != YS_STRING)
		return wrong_type(f, label, v, "a string");
	for (const char *const *c = choices; *c; c++)
	{
		if (strcasecmp(v->text, *c) == 0)
		{
			*out = xstrdup(*c);
			return true;
		}
	}
	buf_init(&list);
	for (const char *const *c = choices; *c; c++)
		buf_printf(&list, "%s\"%s\"", c == choices ? "" : ", ", *c);
	result = spec_error_at(f->err, &v->pos, "%s: %s: \"%s\" is not one of %s",
						   f->owner, label, v->text, list.data);
	buf_free(&list);
	return result;
}

/* ---- reading a field ---- */

typedef bool (*ConvStr) (const Fields *f, const char *label, const YNode *v,
						 unsigned flags, char **out);

/* Looks key up and, when it is there, converts it with conv. */
static bool
get_with(const Fields *f, const char *key, unsigned flags, ConvStr conv, char **out)
{
	const YNode *v;
	char		label[64];

	if (!lookup(f, key, flags, &v))
		return false;
	if (v == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	return conv(f, label, v, flags, out);
}

static bool
get_ident(const Fields *f, const char *key, unsigned flags, char **out)
{
	return get_with(f, key, flags, conv_ident, out);
}

static bool
get_string(const Fields *f, const char *key, unsigned flags, char **out)
{
	return get_with(f, key, flags, conv_string, out);
}

/* SQL expressions; also any scalar taken as its text. */
static bool
get_text(const Fields *f, const char *key, unsigned flags, char **out)
{
	return get_with(f, key, flags, conv_text, out);
}

static bool
get_bool(const Fields *f, const char *key, bool default_value, bool *out)
{
	const YNode *v;
	char		label[64];

	*out = default_value;
	if (!lookup(f, key, 0, &v))
		return false;
	if (v == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	return conv_bool(f, label, v, out);
}

static bool
get_choice(const Fields *f, const char *key, const char *const *choices, char **out)
{
	const YNode *v;
	char		label[64];

	if (!lookup(f, key, 0, &v))
		return false;
	if (v == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	return conv_choice(f, label, v, choices, out);
}

/* A list of strings, each converted with conv. */
static bool
get_list_with(const Fields *f, const char *key, unsigned flags, ConvStr conv, StrList *out)
{
	const YNode *v;
	char		label[64];

	if (!lookup(f, key, flags, &v))
		return false;
	if (v == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	if (v->kind != Y_SEQ)
		return wrong_type(f, label, v, "a list");
	if (v->n == 0 && (flags & NONEMPTY))
		return spec_error_at(f->err, &v->pos, "%s: %s must not be an empty list",
							 f->owner, label);
	for (size_t i = 0; i < v->n; i++)
	{
		char	   *item = NULL;

		snprintf(label, sizeof label, "\"%s\" item %zu", key, i + 1);
		if (!conv(f, label, &v->items[i], flags, &item))
			return false;
		strlist_push(out, item);
	}
	return true;
}

static bool
get_idents(const Fields *f, const char *key, unsigned flags, StrList *out)
{
	return get_list_with(f, key, flags, conv_ident, out);
}

/* A mapping-valued field, ready to be read as Fields named "<owner>.<key>". */
static bool
get_map(const Fields *f, const char *key, unsigned flags, Fields *sub, bool *present)
{
	const YNode *v;
	char		label[64];

	*present = false;
	if (!lookup(f, key, flags, &v))
		return false;
	if (v == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	if (v->kind != Y_MAP)
		return wrong_type(f, label, v, "a mapping");
	fields_init(sub, v, &v->pos, f->err, "%s.%s", f->owner, key);
	sub->m = f->m;
	*present = true;
	return true;
}

/* A list-valued field whose items are read by the caller. */
static bool
get_seq(const Fields *f, const char *key, unsigned flags, const YNode **seq)
{
	char		label[64];

	if (!lookup(f, key, flags, seq))
		return false;
	if (*seq == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	if ((*seq)->kind != Y_SEQ)
		return wrong_type(f, label, *seq, "a list");
	if ((*seq)->n == 0 && (flags & NONEMPTY))
		return spec_error_at(f->err, &(*seq)->pos, "%s: %s must not be an empty list",
							 f->owner, label);
	return true;
}

/* The i-th item of list key, as a mapping to read. */
static bool
item_map(const Fields *f, const char *key, const YNode *seq, size_t i, Fields *sub)
{
	const YNode *v = &seq->items[i];
	char		label[64];

	snprintf(label, sizeof label, "\"%s\" item %zu", key, i + 1);
	if (v->kind != Y_MAP)
		return wrong_type(f, label, v, "a mapping");
	fields_init(sub, v, &v->pos, f->err, "%s.%s[%zu]", f->owner, key, i + 1);
	sub->m = f->m;
	return true;
}

/* An ordered column → expression map (backfill set / down). */
static bool
get_key_exprs(const Fields *f, const char *key, unsigned flags, KeyExprList *out)
{
	Fields		sub;
	bool		present;

	if (!get_map(f, key, flags, &sub, &present))
		return false;
	if (!present)
		return true;
	if (sub.map->n == 0 && (flags & NONEMPTY))
		return spec_error_at(f->err, &sub.pos, "%s: \"%s\" must not be empty", f->owner, key);
	out->items = xcalloc(sub.map->n, sizeof(KeyExpr));
	for (size_t i = 0; i < sub.map->n; i++)
	{
		const YNode *k = YMAP_KEY(sub.map, i);
		KeyExpr    *item = &out->items[out->n];
		char		label[64];

		snprintf(label, sizeof label, "entry %zu", i + 1);
		if (!conv_ident(&sub, label, k, 0, &item->key))
			return false;
		out->n++;
		if (!conv_text(&sub, label, k + 1, 0, &item->expr))
			return false;
		item->pos = k->pos;
	}
	return true;
}

/* ---- columns and constraints ---- */

static const char *const column_keys[] = {
	"name", "type", "nullable", "default", "primary_key", "unique", "references",
	"check", "comment", NULL
};
static const char *const references_keys[] = {"table", "column", "on_delete", "name", NULL};
static const char *const named_check_keys[] = {"name", "expr", NULL};

/* check: "expr", or {name, expr} to name the constraint. */
static bool
get_named_check(const Fields *f, char **expr, char **name)
{
	const YNode *v;
	Fields		sub;
	bool		present;

	if (!lookup(f, "check", 0, &v))
		return false;
	if (v == NULL)
		return true;
	if (v->kind != Y_MAP)
		return conv_text(f, "\"check\"", v, 0, expr);
	return get_map(f, "check", 0, &sub, &present) &&
		check_keys(&sub, named_check_keys) &&
		get_ident(&sub, "name", REQUIRED, name) &&
		get_text(&sub, "expr", REQUIRED, expr);
}

static bool
parse_column(const Fields *f, ColumnDef *col)
{
	Fields		ref;
	bool		has_ref;

	col->pos = f->map->pos;
	if (!check_keys(f, column_keys) ||
		!get_ident(f, "name", REQUIRED, &col->name) ||
		!get_string(f, "type", REQUIRED, &col->type) ||
		!get_bool(f, "nullable", true, &col->nullable) ||
		!get_text(f, "default", 0, &col->default_expr) ||
		!get_bool(f, "primary_key", false, &col->primary_key) ||
		!get_bool(f, "unique", false, &col->unique) ||
		!get_named_check(f, &col->check, &col->check_name) ||
		!get_text(f, "comment", ALLOW_EMPTY, &col->comment) ||
		!get_map(f, "references", 0, &ref, &has_ref))
		return false;
	if (!has_ref)
		return true;
	return check_keys(&ref, references_keys) &&
		get_ident(&ref, "table", REQUIRED | QUALIFIED, &col->ref_table) &&
		get_ident(&ref, "column", 0, &col->ref_column) &&
		get_choice(&ref, "on_delete", fk_actions, &col->ref_on_delete) &&
		get_ident(&ref, "name", 0, &col->ref_name);
}

static const char *const constraint_kinds[] = {
	[CONSTRAINT_CHECK] = "check",
	[CONSTRAINT_FOREIGN_KEY] = "foreign_key",
	[CONSTRAINT_UNIQUE] = "unique",
	[CONSTRAINT_PRIMARY_KEY] = "primary_key",
	[CONSTRAINT_EXCLUDE] = "exclude",
	NULL
};
static const char *const foreign_key_keys[] = {
	"columns", "references", "on_delete", "on_update", NULL
};
static const char *const fk_references_keys[] = {"table", "columns", NULL};

static bool
parse_foreign_key(const Fields *f, ConstraintDef *con)
{
	Fields		fk,
				ref;
	bool		present;

	if (!get_map(f, "foreign_key", REQUIRED, &fk, &present) ||
		!check_keys(&fk, foreign_key_keys) ||
		!get_idents(&fk, "columns", REQUIRED | NONEMPTY, &con->columns) ||
		!get_map(&fk, "references", REQUIRED, &ref, &present) ||
		!check_keys(&ref, fk_references_keys) ||
		!get_ident(&ref, "table", REQUIRED | QUALIFIED, &con->ref_table) ||
		!get_idents(&ref, "columns", REQUIRED | NONEMPTY, &con->ref_columns) ||
		!get_choice(&fk, "on_delete", fk_actions, &con->on_delete) ||
		!get_choice(&fk, "on_update", fk_actions, &con->on_update))
		return false;
	if (con->columns.n != con->ref_columns.n)
		return spec_error_at(f->err, &ref.pos,
							 "%s: %zu column(s) cannot reference %zu column(s)",
							 fk.owner, con->columns.n, con->ref_columns.n);
	return true;
}

static const char *const exclude_keys[] = {"using", "elements", "where", NULL};
static const char *const exclude_elem_keys[] = {"column", "expression", "operator", NULL};

/* An operator as SQL writes it: "=", "&&", "<->"; never anything else. */
static bool
is_operator(const char *op)
{
	if (*op == '\0' || strlen(op) > 63)
		return false;
	for (; *op; op++)
		if (!strchr("+-*/<>=~!@#%^&|`?", *op))
			return false;
	return true;
}

/* exclude: {using, elements: [{column|expression, operator}], where} */
static bool
parse_exclude(const Fields *f, ConstraintDef *con)
{
	Fields		ex,
				item;
	bool		present;
	const YNode *seq;

	if (!get_map(f, "exclude", REQUIRED, &ex, &present) ||
		!check_keys(&ex, exclude_keys) ||
		!get_choice(&ex, "using", index_methods, &con->exclude_using) ||
		!get_text(&ex, "where", 0, &con->exclude_where) ||
		!get_seq(&ex, "elements", REQUIRED | NONEMPTY, &seq))
		return false;
	con->exclude_elems.items = xcalloc(seq->n, sizeof(IndexElem));
	for (size_t i = 0; i < seq->n; i++)
	{
		IndexElem  *e = &con->exclude_elems.items[i];
		const YNode *column,
				   *expression;
		char	   *op = NULL;

		con->exclude_elems.n = i + 1;
		if (!item_map(&ex, "elements", seq, i, &item) ||
			!check_keys(&item, exclude_elem_keys))
			return false;
		e->pos = item.pos;
		column = map_key(item.map, "column");
		expression = map_key(item.map, "expression");
		if ((column == NULL) == (expression == NULL))
			return spec_error_at(f->err, &item.pos,
								 "%s: give exactly one of \"column\" and \"expression\"", item.owner);
		if (!get_ident(&item, "column", 0, &e->column) ||
			!get_text(&item, "expression", 0, &e->expression) ||
			(e->expression &&
			 !sql_check_index_expression(e->expression, &(expression + 1)->text_pos, item.owner, f->err)) ||
			!get_string(&item, "operator", REQUIRED, &op))
			return false;
		strlist_push(&con->exclude_ops, op);
		if (!is_operator(op))
			return spec_error_at(f->err, &map_value(item.map, "operator")->pos,
								 "%s: \"operator\": \"%s\" is not an operator (=, &&, ...)",
								 item.owner, op);
	}
	return true;
}

/*
 * A named constraint: f holds "name" and exactly one of check, foreign_key,
 * unique, primary_key (the caller has checked the other keys).
 */
static bool
parse_constraint(const Fields *f, ConstraintDef *con)
{
	const YNode *kind_key = NULL;

	con->pos = f->pos;
	if (!get_ident(f, "name", REQUIRED, &con->name))
		return false;
	for (size_t i = 0; i < f->map->n; i++)
	{
		const YNode *key = YMAP_KEY(f->map, i);

		if (!in_list(key->text, constraint_kinds))
			continue;
		if (kind_key != NULL)
			return spec_error_at(f->err, &key->pos,
								 "%s: \"%s\" and \"%s\" cannot be combined; give exactly one "
								 "of \"check\", \"foreign_key\", \"unique\", \"primary_key\", "
								 "\"exclude\"", f->owner, kind_key->text, key->text);
		kind_key = key;
	}
	if (kind_key == NULL)
		return spec_error_at(f->err, &f->pos,
							 "%s: missing one of \"check\", \"foreign_key\", \"unique\", "
							 "\"primary_key\", \"exclude\"", f->owner);
	if (map_key(f->map, "include") && strcmp(kind_key->text, "unique") != 0 &&
		strcmp(kind_key->text, "primary_key") != 0)
		return spec_error_at(f->err, &map_key(f->map, "include")->pos,
							 "%s: \"include\" is only allowed with \"unique\" or \"primary_key\"",
							 f->owner);
	for (int k = 0; constraint_kinds[k]; k++)
		if (strcmp(kind_key->text, constraint_kinds[k]) == 0)
			con->kind = (ConstraintKind) k;
	switch (con->kind)
	{
		case CONSTRAINT_CHECK:
			return get_text(f, "check", REQUIRED, &con->check);
		case CONSTRAINT_FOREIGN_KEY:
			return parse_foreign_key(f, con);
		case CONSTRAINT_UNIQUE:
		case CONSTRAINT_PRIMARY_KEY:
			return get_idents(f, kind_key->text, REQUIRED | NONEMPTY, &con->columns) &&
				get_idents(f, "include", 0, &con->include);
		case CONSTRAINT_EXCLUDE:
			return parse_exclude(f, con);
	}
	return true;
}

/* ---- partitions ---- */

static const char *const partition_methods[] = {
	[PARTITION_NONE] = "none",
	[PARTITION_RANGE] = "range",
	[PARTITION_LIST] = "list",
	[PARTITION_HASH] = "hash",
	NULL
};

/* A value of a bound: a scalar, or a list of them (one per key column). */
static bool
conv_bound_values(const Fields *f, const char *label, const YNode *v, StrList *out)
{
	if (v->kind == Y_SEQ)
	{
		if (v->n == 0)
			return spec_error_at(f->err, &v->pos, "%s: %s must not be an empty list",
								 f->owner, label);
		for (size_t i = 0; i < v->n; i++)
		{
			char	   *item = NULL;

			if (!conv_text(f, label, &v->items[i], ALLOW_EMPTY, &item))
				return false;
			strlist_push(out, item);
		}
		return true;
	}
	{
		char	   *item = NULL;

		if (!conv_text(f, label, v, ALLOW_EMPTY, &item))
			return false;
		strlist_push(out, item);
	}
	return true;
}

static const char *const range_values_keys[] = {"from", "to", NULL};
static const char *const hash_values_keys[] = {"modulus", "remainder", NULL};

/*
 * "values" of a partition of method: {from, to} (range), a list (list),
 * {modulus, remainder} (hash), or the word default.
 */
static bool
parse_partition_values(const Fields *f, const char *key, PartitionMethod method,
					   PartitionBound *bound)
{
	const YNode *v;
	Fields		sub;
	bool		present;

	if (!lookup(f, key, REQUIRED, &v))
		return false;
	bound->pos = v->pos;
	if (v->kind == Y_SCALAR && v->type == YS_STRING && strcmp(v->text, "default") == 0)
	{
		if (method == PARTITION_HASH)
			return spec_error_at(f->err, &v->pos,
								 "%s: a hash-partitioned table has no default partition",
								 f->owner);
		bound->is_default = true;
		return true;
	}
	switch (method)
	{
		case PARTITION_RANGE:
			if (!get_map(f, key, REQUIRED, &sub, &present) ||
				!check_keys(&sub, range_values_keys) ||
				!lookup(&sub, "from", REQUIRED, &v) ||
				!conv_bound_values(&sub, "\"from\"", v, &bound->from) ||
				!lookup(&sub, "to", REQUIRED, &v) ||
				!conv_bound_values(&sub, "\"to\"", v, &bound->to))
				return false;
			if (bound->from.n != bound->to.n)
				return spec_error_at(f->err, &sub.pos,
									 "%s: \"from\" has %zu value(s) and \"to\" %zu",
									 sub.owner, bound->from.n, bound->to.n);
			return true;
		case PARTITION_LIST:
			if (v->kind != Y_SEQ || v->n == 0)
				return spec_error_at(f->err, &v->pos,
									 "%s: \"%s\" of a list partition: expected a non-empty "
									 "list of values, or default", f->owner, key);
			for (size_t i = 0; i < v->n; i++)
			{
				char	   *item = NULL;

				if (v->items[i].kind == Y_SCALAR && v->items[i].type == YS_NULL)
				{
					bound->in_null = true;
					continue;
				}
				if (!conv_text(f, "\"values\" item", &v->items[i], ALLOW_EMPTY, &item))
					return false;
				strlist_push(&bound->in, item);
			}
			return true;
		case PARTITION_HASH:
			if (!get_map(f, key, REQUIRED, &sub, &present) ||
				!check_keys(&sub, hash_values_keys) ||
				!lookup(&sub, "modulus", REQUIRED, &v) ||
				!conv_int(&sub, "\"modulus\"", v, 1, PARTITION_MAX_GENERATED, &bound->modulus) ||
				!lookup(&sub, "remainder", REQUIRED, &v) ||
				!conv_int(&sub, "\"remainder\"", v, 0, bound->modulus - 1, &bound->remainder))
				return false;
			return true;
		case PARTITION_NONE:
			break;
	}
	return true;
}

/* partition_by: {range|list|hash: column or [columns]} (by: for partition_table). */
static bool
parse_partition_by(const Fields *f, const char *key, unsigned flags, Partitioning *p)
{
	Fields		sub;
	bool		present;
	const YNode *method_key;
	const YNode *v;
	char		label[64];

	if (!get_map(f, key, flags, &sub, &present))
		return false;
	if (!present)
		return true;
	p->pos = sub.pos;
	if (sub.map->n != 1)
		return spec_error_at(f->err, &sub.pos,
							 "%s: give exactly one of \"range\", \"list\", \"hash\"", sub.owner);
	method_key = YMAP_KEY(sub.map, 0);
	v = method_key + 1;
	for (int m = PARTITION_RANGE; m <= PARTITION_HASH; m++)
		if (strcmp(method_key->text, partition_methods[m]) == 0)
			p->method = (PartitionMethod) m;
	if (p->method == PARTITION_NONE)
		return unknown_word(f->err, method_key, "unknown partitioning method \"%s\"",
							sub.owner, partition_methods + 1);
	snprintf(label, sizeof label, "\"%s\"", method_key->text);
	if (v->kind == Y_SEQ)
	{
		if (!get_idents(&sub, method_key->text, REQUIRED | NONEMPTY, &p->columns))
			return false;
	}
	else
	{
		char	   *column;

		if (!conv_ident(&sub, label, v, 0, &column))
			return false;
		strlist_push(&p->columns, column);
	}
	return true;
}

static const char *const generated_partitions_keys[] = {
	"every", "from", "to", "default", "modulus", NULL
};
static const char *const partition_item_keys[] = {"name", "values", NULL};

static bool
parse_every(const Fields *f, PartitionInterval *every)
{
	const YNode *v;

	if (!lookup(f, "every", 0, &v))
		return false;
	if (v == NULL)
		return true;
	if (v->kind != Y_SCALAR || !partition_parse_interval(v->text, every))
		return spec_error_at(f->err, &v->pos,
							 "%s: \"every\": expected 1 day, 1 week, 1 month or 1 year", f->owner);
	return true;
}

static bool
get_date(const Fields *f, const char *key, unsigned flags, char **out)
{
	const YNode *v;
	CivilDate	d;

	if (!lookup(f, key, flags, &v))
		return false;
	if (v == NULL)
		return true;
	if (v->kind != Y_SCALAR || !partition_parse_date(v->text, &d))
		return spec_error_at(f->err, &v->pos, "%s: \"%s\": expected a date YYYY-MM-DD",
							 f->owner, key);
	*out = xstrdup(v->text);
	return true;
}

/* every, from, to, default (range) or modulus (hash), read from f. */
static bool
parse_generated_partitions(const Fields *f, Partitioning *p)
{
	const YNode *v;

	if (!parse_every(f, &p->every) ||
		!get_date(f, "from", 0, &p->from) ||
		!get_date(f, "to", 0, &p->to) ||
		!get_bool(f, "default", false, &p->with_default) ||
		!lookup(f, "modulus", 0, &v) ||
		(v && !conv_int(f, "\"modulus\"", v, 1, PARTITION_MAX_GENERATED, &p->modulus)))
		return false;
	if (p->method != PARTITION_RANGE && (p->every || p->from || p->to))
		return spec_error_at(f->err, &f->pos, "%s: \"every\", \"from\" and \"to\" are for "
							 "range partitioning", f->owner);
	if (p->method != PARTITION_HASH && p->modulus)
		return spec_error_at(f->err, &f->pos, "%s: \"modulus\" is for hash partitioning",
							 f->owner);
	if (p->method == PARTITION_HASH && p->with_default)
		return spec_error_at(f->err, &f->pos,
							 "%s: a hash-partitioned table has no default partition", f->owner);
	if ((p->every || p->from || p->to) && !(p->every && p->from && p->to))
		return spec_error_at(f->err, &f->pos, "%s: generated range partitions need \"every\", "
							 "\"from\" and \"to\"", f->owner);
	if (p->every && p->columns.n != 1)
		return spec_error_at(f->err, &f->pos, "%s: generated range partitions need a "
							 "partition key of one date or timestamp column", f->owner);
	if (p->every)
	{
		GeneratedPartitions gp = {0};
		Error		e = {0};

		if (!partition_generate_periods("t", p->every, p->from, p->to, &gp, &e))
		{
			bool		r = spec_error_at(f->err, &f->pos, "%s: %s", f->owner, e.message);

			error_clear(&e);
			return r;
		}
		generated_partitions_free(&gp);
	}
	return true;
}

/* partitions: a mapping of generated ones, or a list of {name, values}. */
static bool
parse_partitions(const Fields *f, const char *key, Partitioning *p)
{
	const YNode *v;
	Fields		sub;
	bool		present;

	if (!lookup(f, key, 0, &v))
		return false;
	if (v == NULL)
		return true;
	if (p->method == PARTITION_NONE)
		return spec_error_at(f->err, &v->pos, "%s: \"%s\" needs \"partition_by\"", f->owner, key);
	if (v->kind == Y_MAP)
		return get_map(f, key, 0, &sub, &present) &&
			check_keys(&sub, generated_partitions_keys) &&
			parse_generated_partitions(&sub, p);
	if (v->kind != Y_SEQ)
		return wrong_type(f, "\"partitions\"", v, "a mapping (every, from, to, default; "
						  "modulus) or a list of {name, values}");
	p->parts = xcalloc(v->n ? v->n : 1, sizeof(PartitionDef));
	for (size_t i = 0; i < v->n; i++)
	{
		Fields		item;
		PartitionDef *d = &p->parts[i];

		if (!item_map(f, key, v, i, &item) ||
			!check_keys(&item, partition_item_keys))
			return false;
		p->n_parts++;
		d->pos = item.pos;
		if (!get_ident(&item, "name", REQUIRED | QUALIFIED, &d->name) ||
			!parse_partition_values(&item, "values", p->method, &d->bound))
			return false;
	}
	{
		const char **names = xmalloc((v->n ? v->n : 1) * sizeof(char *));
		bool		ok;

		for (size_t i = 0; i < v->n; i++)
			names[i] = p->parts[i].name;
		ok = refuse_repeated(f, names, v->n, v->items, "partition");
		free(names);
		return ok;
	}
}

/* A unique key of a partitioned table must hold every partition column. */
static bool
refuse_key_without_partition_columns(const Fields *f, const SrcPos *pos, const char *what,
									 const StrList *key, const Partitioning *p)
{
	for (size_t i = 0; i < p->columns.n; i++)
	{
		bool		found = false;

		for (size_t k = 0; k < key->n; k++)
			found = found || strcmp(key->items[k], p->columns.items[i]) == 0;
		if (!found)
			return spec_error_at(f->err, pos, "%s: the %s of a partitioned table must include "
								 "the partition column \"%s\" (PostgreSQL requires it)",
								 f->owner, what, p->columns.items[i]);
	}
	return true;
}

static bool
parse_create_table_partitioning(const Fields *f, Operation *op)
{
	Partitioning *p = &op->u.create_table.partitioning;

	if (!parse_partition_by(f, "partition_by", 0, p) ||
		!parse_partitions(f, "partitions", p))
		return false;
	if (p->method == PARTITION_NONE)
		return true;
	for (size_t i = 0; i < p->columns.n; i++)
	{
		bool		found = false;

		for (size_t c = 0; c < op->u.create_table.n_columns; c++)
			found = found || strcmp(op->u.create_table.columns[c].name, p->columns.items[i]) == 0;
		if (!found)
			return spec_error_at(f->err, &p->pos, "%s: \"partition_by\": no column \"%s\" "
								 "in \"columns\"", f->owner, p->columns.items[i]);
	}
	if (op->u.create_table.primary_key.n > 0 &&
		!refuse_key_without_partition_columns(f, &f->pos, "primary key",
											  &op->u.create_table.primary_key, p))
		return false;
	for (size_t c = 0; c < op->u.create_table.n_columns; c++)
	{
		const ColumnDef *col = &op->u.create_table.columns[c];
		StrList		one = {0};
		bool		ok;

		if (!col->primary_key && !col->unique)
			continue;
		strlist_add(&one, col->name);
		ok = refuse_key_without_partition_columns(f, &col->pos, col->primary_key
												  ? "primary key" : "unique constraint",
												  &one, p);
		strlist_free(&one);
		if (!ok)
			return false;
	}
	for (size_t i = 0; i < op->u.create_table.n_constraints; i++)
	{
		const ConstraintDef *con = &op->u.create_table.constraints[i];

		if ((con->kind == CONSTRAINT_UNIQUE || con->kind == CONSTRAINT_PRIMARY_KEY) &&
			!refuse_key_without_partition_columns(f, &con->pos, con->kind == CONSTRAINT_UNIQUE
												  ? "unique constraint" : "primary key",
												  &con->columns, p))
			return false;
	}
	return true;
}

static const char *const add_partitions_keys[] = {
	"table", "to", "every", "from", "force", "unsafe_ok", NULL
};

static bool
parse_add_partitions(const Fields *f, Operation *op)
{
	if (!get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.add_partitions.table) ||
		!get_date(f, "to", REQUIRED, &op->u.add_partitions.to) ||
		!parse_every(f, &op->u.add_partitions.every) ||
		!get_date(f, "from", 0, &op->u.add_partitions.from) ||
		!get_bool(f, "force", false, &op->u.add_partitions.force))
		return false;
	if (op->u.add_partitions.from && !op->u.add_partitions.every)
		return spec_error_at(f->err, &f->pos, "%s: \"from\" needs \"every\"", f->owner);
	return true;
}

static const char *const attach_partition_keys[] = {
	"table", "partition", "values", "unsafe_ok", NULL
};

/* The method of a bound as written: {from, to}, a list, {modulus, ...}, default. */
static PartitionMethod
method_of_values(const YNode *v)
{
	if (v == NULL)
		return PARTITION_NONE;
	if (v->kind == Y_SEQ)
		return PARTITION_LIST;
	if (v->kind == Y_MAP && map_key(v, "modulus"))
		return PARTITION_HASH;
	return PARTITION_RANGE;
}

static bool
parse_attach_partition(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.attach_partition.table) &&
		get_ident(f, "partition", REQUIRED | QUALIFIED, &op->u.attach_partition.partition) &&
		parse_partition_values(f, "values", method_of_values(map_value(f->map, "values")),
							   &op->u.attach_partition.values);
}

static const char *const detach_partition_keys[] = {"table", "partition", "unsafe_ok", NULL};

static bool
parse_detach_partition(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.detach_partition.table) &&
		get_ident(f, "partition", REQUIRED | QUALIFIED, &op->u.detach_partition.partition);
}

static const char *const partition_table_keys[] = {
	"table", "by", "every", "from", "to", "default", "modulus", "partitions", "unsafe_ok", NULL
};

/*
 * partition_table: by {range: column} with every, from, to, default at the
 * operation's level (or in partitions, as create_table has them).
 */
static bool
parse_partition_table(const Fields *f, Operation *op)
{
	Partitioning *p = &op->u.partition_table.by;

	if (!get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.partition_table.table) ||
		!parse_partition_by(f, "by", REQUIRED, p) ||
		!parse_generated_partitions(f, p))
		return false;
	if ((p->every || p->modulus || p->with_default) && map_key(f->map, "partitions"))
		return spec_error_at(f->err, &map_key(f->map, "partitions")->pos,
							 "%s: \"partitions\" and \"every\" / \"modulus\" / \"default\" "
							 "cannot be combined", f->owner);
	if (!parse_partitions(f, "partitions", p))
		return false;
	if (p->every == INTERVAL_NONE && p->modulus == 0 && p->n_parts == 0)
		return spec_error_at(f->err, &f->pos, "%s: no partitions: give \"every\", \"from\" "
							 "and \"to\" (range), \"modulus\" (hash) or \"partitions\"", f->owner);
	return true;
}

/* ---- operations ---- */

static const char *const create_table_keys[] = {
	"name", "columns", "primary_key", "constraints", "partition_by", "partitions",
	"unsafe_ok", NULL
};
static const char *const table_constraint_keys[] = {
	"name", "check", "foreign_key", "unique", "primary_key", "include", "exclude", NULL
};

static bool
parse_create_table(const Fields *f, Operation *op)
{
	const YNode *seq;
	Fields		item;
	const char **names;
	bool		ok;

	if (!get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.create_table.name) ||
		!get_seq(f, "columns", REQUIRED | NONEMPTY, &seq))
		return false;
	op->u.create_table.columns = xcalloc(seq->n, sizeof(ColumnDef));
	op->u.create_table.n_columns = seq->n;
	for (size_t i = 0; i < seq->n; i++)
		if (!item_map(f, "columns", seq, i, &item) ||
			!parse_column(&item, &op->u.create_table.columns[i]))
			return false;
	names = xmalloc(seq->n * sizeof(char *));
	for (size_t i = 0; i < seq->n; i++)
		names[i] = op->u.create_table.columns[i].name;
	ok = refuse_repeated(f, names, seq->n, seq->items, "column");
	free(names);
	if (!ok ||
		!get_idents(f, "primary_key", NONEMPTY, &op->u.create_table.primary_key) ||
		!get_seq(f, "constraints", 0, &seq))
		return false;
	if (seq != NULL)
	{
		op->u.create_table.constraints = xcalloc(seq->n, sizeof(ConstraintDef));
		op->u.create_table.n_constraints = seq->n;
		for (size_t i = 0; i < seq->n; i++)
			if (!item_map(f, "constraints", seq, i, &item) ||
				!check_keys(&item, table_constraint_keys) ||
				!parse_constraint(&item, &op->u.create_table.constraints[i]))
				return false;
	}
	return parse_create_table_partitioning(f, op);
}

static const char *const drop_table_keys[] = {"name", "unsafe_ok", NULL};

static bool
parse_drop_table(const Fields *f, Operation *op)
{
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.drop_table.name);
}

static const char *const rename_table_keys[] = {"from", "to", "unsafe_ok", NULL};

static bool
parse_rename_table(const Fields *f, Operation *op)
{
	return get_ident(f, "from", REQUIRED | QUALIFIED, &op->u.rename_table.from) &&
		get_ident(f, "to", REQUIRED | QUALIFIED, &op->u.rename_table.to);
}

static const char *const add_column_keys[] = {"table", "column", "backfill", "unsafe_ok", NULL};

static bool
parse_add_column(const Fields *f, Operation *op)
{
	Fields		column;
	bool		present;

	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.add_column.table) &&
		get_map(f, "column", REQUIRED, &column, &present) &&
		parse_column(&column, &op->u.add_column.column) &&
		get_text(f, "backfill", 0, &op->u.add_column.backfill);
}

static const char *const drop_column_keys[] = {"table", "column", "unsafe_ok", NULL};

static bool
parse_drop_column(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.drop_column.table) &&
		get_ident(f, "column", REQUIRED, &op->u.drop_column.column);
}

static const char *const rename_column_keys[] = {"table", "from", "to", "unsafe_ok", NULL};

static bool
parse_rename_column(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.rename_column.table) &&
		get_ident(f, "from", REQUIRED, &op->u.rename_column.from) &&
		get_ident(f, "to", REQUIRED, &op->u.rename_column.to);
}

static const char *const alter_column_keys[] = {
	"table", "column", "type", "using", "nullable", "default", "unique", "check", "comment",
	"unsafe_ok", NULL
};

/* unique: true, check: {name, expr}, comment: text or null. */
static bool
parse_alter_column_extras(const Fields *f, Operation *op)
{
	const YNode *unique = map_value(f->map, "unique");
	const YNode *check = map_value(f->map, "check");
	const YNode *comment = map_value(f->map, "comment");

	if (!get_bool(f, "unique", false, &op->u.alter_column.unique))
		return false;
	if (unique && !op->u.alter_column.unique)
		return spec_error_at(f->err, &unique->pos,
							 "%s: \"unique: false\" changes nothing; drop_constraint drops a "
							 "unique constraint", f->owner);
	if (check && check->kind != Y_MAP)
		return wrong_type(f, "\"check\"", check, "a mapping {name, expr}");
	if (check && !get_named_check(f, &op->u.alter_column.check_expr,
								  &op->u.alter_column.check_name))
		return false;
	op->u.alter_column.comment_given = comment != NULL;
	return comment == NULL || is_null(comment) ||
		conv_text(f, "\"comment\"", comment, ALLOW_EMPTY, &op->u.alter_column.comment);
}

static bool
parse_alter_column(const Fields *f, Operation *op)
{
	const YNode *nullable;
	const YNode *default_value = map_value(f->map, "default");
	const YNode *using_key = map_key(f->map, "using");

	op->u.alter_column.nullable = TRI_UNSET;
	if (!get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.alter_column.table) ||
		!get_ident(f, "column", REQUIRED, &op->u.alter_column.column) ||
		!get_string(f, "type", 0, &op->u.alter_column.type) ||
		!get_text(f, "using", 0, &op->u.alter_column.using_expr) ||
		!lookup(f, "nullable", 0, &nullable))
		return false;
	if (nullable)
	{
		bool		value;

		if (!conv_bool(f, "\"nullable\"", nullable, &value))
			return false;
		op->u.alter_column.nullable = value ? TRI_TRUE : TRI_FALSE;
	}
	/* "default: null" (or an empty value) drops the default */
	if (default_value == NULL)
		op->u.alter_column.default_change = DEFAULT_KEEP;
	else if (is_null(default_value))
		op->u.alter_column.default_change = DEFAULT_DROP;
	else
	{
		op->u.alter_column.default_change = DEFAULT_SET;
		if (!conv_text(f, "\"default\"", default_value, 0, &op->u.alter_column.default_expr))
			return false;
	}
	if (!parse_alter_column_extras(f, op))
		return false;
	if (op->u.alter_column.type == NULL && op->u.alter_column.nullable == TRI_UNSET &&
		op->u.alter_column.default_change == DEFAULT_KEEP && !op->u.alter_column.unique &&
		op->u.alter_column.check_expr == NULL && !op->u.alter_column.comment_given)
		return spec_error_at(f->err, &f->pos,
							 "%s: nothing to change; give at least one of \"type\", "
							 "\"nullable\", \"default\", \"unique\", \"check\", \"comment\"",
							 f->owner);
	if (using_key && op->u.alter_column.type == NULL)
		return spec_error_at(f->err, &using_key->pos,
							 "%s: \"using\" is only allowed with \"type\"", f->owner);
	return true;
}

static const char *const backfill_keys[] = {
	"table", "set", "where", "batch_size", "batch_delay", "down", "unsafe_ok", NULL
};

static bool
parse_backfill(const Fields *f, Operation *op)
{
	const YNode *v;

	op->u.backfill.batch_delay_ms = -1;
	if (!get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.backfill.table) ||
		!get_key_exprs(f, "set", REQUIRED | NONEMPTY, &op->u.backfill.set) ||
		!get_text(f, "where", 0, &op->u.backfill.where) ||
		!lookup(f, "batch_size", 0, &v) ||
		(v && !conv_int(f, "\"batch_size\"", v, 1, INT64_MAX, &op->u.backfill.batch_size)) ||
		!lookup(f, "batch_delay", 0, &v) ||
		(v && !conv_duration(f, "\"batch_delay\"", v, &op->u.backfill.batch_delay_ms)))
		return false;
	return get_key_exprs(f, "down", 0, &op->u.backfill.down);
}

static const char *const index_elem_keys[] = {
	"column", "expression", "order", "nulls", "opclass", "collate", NULL
};
static const char *const index_orders[] = {"asc", "desc", NULL};
static const char *const index_nulls[] = {"first", "last", NULL};

/* {column|expression, order, nulls, opclass, collate} */
static bool
parse_index_elem_map(const Fields *f, IndexElem *e)
{
	const YNode *column = map_key(f->map, "column");
	const YNode *expression = map_key(f->map, "expression");

	if (!check_keys(f, index_elem_keys))
		return false;
	if ((column == NULL) == (expression == NULL))
		return spec_error_at(f->err, column && expression ? &expression->pos : &f->pos,
							 "%s: give exactly one of \"column\" and \"expression\"", f->owner);
	return get_ident(f, "column", 0, &e->column) &&
		get_text(f, "expression", 0, &e->expression) &&
		(e->expression == NULL ||
		 sql_check_index_expression(e->expression, &(expression + 1)->text_pos, f->owner, f->err)) &&
		get_choice(f, "order", index_orders, &e->order) &&
		get_choice(f, "nulls", index_nulls, &e->nulls) &&
		get_ident(f, "opclass", QUALIFIED, &e->opclass) &&
		get_ident(f, "collate", QUALIFIED, &e->collate);
}

/* columns[]: index elements, as PostgreSQL writes them or as mappings. */
static bool
parse_index_elems(const Fields *f, IndexElemList *out)
{
	const YNode *seq;

	if (!get_seq(f, "columns", REQUIRED | NONEMPTY, &seq))
		return false;
	out->items = xcalloc(seq->n, sizeof(IndexElem));
	for (size_t i = 0; i < seq->n; i++)
	{
		const YNode *v = &seq->items[i];
		IndexElem  *e = &out->items[i];
		char		label[64];
		char		what[sizeof f->owner + sizeof label + 2];

		out->n = i + 1;
		e->pos = v->pos;
		snprintf(label, sizeof label, "\"columns\" item %zu", i + 1);
		snprintf(what, sizeof what, "%s: %s", f->owner, label);
		if (v->kind == Y_MAP)
		{
			Fields		sub;

			fields_init(&sub, v, &v->pos, f->err, "%s.columns[%zu]", f->owner, i + 1);
			if (!parse_index_elem_map(&sub, e))
				return false;
		}
		else if (v->kind != Y_SCALAR || v->type != YS_STRING)
			return wrong_type(f, label, v, "an index element (a string, or {column: ...})");
		else
		{
			e->text = xstrdup(v->text);
			if (!sql_parse_index_elem(v->text, &v->text_pos, what, e, f->err))
				return false;
		}
		if (e->column && !check_ident_length(f, label, v, e->column))
			return false;
	}
	return true;
}

/* with: {parameter: value}: a parameter is a plain word, a value a scalar. */
static bool
parse_storage_params(const Fields *f, KeyExprList *out)
{
	if (!get_key_exprs(f, "with", 0, out))
		return false;
	for (size_t i = 0; i < out->n; i++)
	{
		const char *k = out->items[i].key;
		bool		word = (*k >= 'a' && *k <= 'z') || *k == '_';

		for (const char *p = k; word && *p; p++)
			word = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
		if (!word)
			return spec_error_at(f->err, &out->items[i].pos,
								 "%s: \"with\": \"%s\" is not a storage parameter name "
								 "(lower-case letters, digits and _)", f->owner, k);
	}
	return true;
}

/* create_index's fields (without table for a materialized view's index). */
static bool
parse_index_def(const Fields *f, bool with_table, IndexDef *d)
{
	const YNode *nnd = map_key(f->map, "nulls_not_distinct");

	d->pos = f->pos;
	if ((with_table && !get_ident(f, "table", REQUIRED | QUALIFIED, &d->table)) ||
		!get_ident(f, "name", REQUIRED, &d->name) ||
		!parse_index_elems(f, &d->columns) ||
		!get_bool(f, "unique", false, &d->unique) ||
		!get_choice(f, "method", index_methods, &d->method) ||
		!get_text(f, "where", 0, &d->where) ||
		!get_idents(f, "include", 0, &d->include) ||
		!parse_storage_params(f, &d->with) ||
		!get_bool(f, "nulls_not_distinct", false, &d->nulls_not_distinct))
		return false;
	if (d->nulls_not_distinct && !d->unique)
		return spec_error_at(f->err, &nnd->pos,
							 "%s: \"nulls_not_distinct\" needs \"unique: true\"", f->owner);
	return true;
}

static const char *const create_index_keys[] = {
	"table", "name", "columns", "unique", "method", "where", "include", "with",
	"nulls_not_distinct", "unsafe_ok", NULL
};

static bool
parse_create_index(const Fields *f, Operation *op)
{
	return parse_index_def(f, true, &op->u.create_index);
}

static const char *const drop_index_keys[] = {"name", "unsafe_ok", NULL};

static bool
parse_drop_index(const Fields *f, Operation *op)
{
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.drop_index.name);
}

static const char *const add_constraint_keys[] = {
	"table", "name", "check", "foreign_key", "unique", "primary_key", "include", "exclude",
	"unsafe_ok", NULL
};

static bool
parse_add_constraint(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.add_constraint.table) &&
		parse_constraint(f, &op->u.add_constraint.constraint);
}

static const char *const drop_constraint_keys[] = {"table", "name", "unsafe_ok", NULL};

static bool
parse_drop_constraint(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.drop_constraint.table) &&
		get_ident(f, "name", REQUIRED, &op->u.drop_constraint.name);
}

static const char *const rls_keys[] = {"table", "force", "unsafe_ok", NULL};

static bool
parse_rls(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.rls.table) &&
		get_bool(f, "force", false, &op->u.rls.force);
}

/*
 * drop_policy takes the same fields as create_policy: they describe the
 * policy that its rollback recreates.
 */
static const char *const policy_keys[] = {
	"table", "name", "command", "roles", "using", "with_check", "permissive",
	"unsafe_ok", NULL
};

static bool
parse_policy(const Fields *f, Operation *op)
{
	return get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.policy.table) &&
		get_ident(f, "name", REQUIRED, &op->u.policy.name) &&
		get_choice(f, "command", policy_commands, &op->u.policy.command) &&
		get_idents(f, "roles", 0, &op->u.policy.roles) &&
		get_text(f, "using", 0, &op->u.policy.using_expr) &&
		get_text(f, "with_check", 0, &op->u.policy.with_check) &&
		get_bool(f, "permissive", true, &op->u.policy.permissive);
}

static const char *const multi_tenancy_keys[] = {
	"tenant_table", "column", "type", "default_tenant", "tables", "all", "exclude",
	"tenant_from", "foreign_key", "index", "primary_key", "rls", "unsafe_ok", NULL
};
static const char *const default_tenant_keys[] = {"id", "name", NULL};
static const char *const tenant_from_keys[] = {"table", "via", NULL};
static const char *const tenant_rls_keys[] = {"setting", "admin_role", NULL};
static const char *const tenant_pk_choices[] = {"include_tenant", NULL};

/* Fills s with default when the field was absent. */
static void
default_string(char **s, const char *default_value)
{
	if (*s == NULL)
		*s = xstrdup(default_value);
}

/* The tables list, or all: true with an optional exclude list. */
static bool
parse_tenant_tables(const Fields *f, Operation *op)
{
	const YNode *tables_key = map_key(f->map, "tables");
	const YNode *exclude_key = map_key(f->map, "exclude");

	if (!get_idents(f, "tables", QUALIFIED | NONEMPTY, &op->u.multi_tenancy.tables) ||
		!get_bool(f, "all", false, &op->u.multi_tenancy.all) ||
		!get_idents(f, "exclude", QUALIFIED, &op->u.multi_tenancy.exclude))
		return false;
	if (op->u.multi_tenancy.all && tables_key)
		return spec_error_at(f->err, &tables_key->pos,
							 "%s: give either \"tables\" or \"all: true\", not both", f->owner);
	if (!op->u.multi_tenancy.all && op->u.multi_tenancy.tables.n == 0)
		return spec_error_at(f->err, &f->pos,
							 "%s: missing required field \"tables\" (or \"all: true\")", f->owner);
	if (exclude_key && !op->u.multi_tenancy.all)
		return spec_error_at(f->err, &exclude_key->pos,
							 "%s: \"exclude\" is only allowed with \"all: true\"", f->owner);
	if (op->u.multi_tenancy.tables.n == 0)
		return true;
	return refuse_repeated(f, (const char *const *) op->u.multi_tenancy.tables.items,
						   op->u.multi_tenancy.tables.n, (tables_key + 1)->items, "table");
}

/* tenant_from: child table → {table: parent, via: column}. */
static bool
parse_tenant_from(const Fields *f, Operation *op)
{
	Fields		map;
	bool		present;
	const char **listed;
	size_t		n_listed;
	bool		ok = true;

	if (!get_map(f, "tenant_from", 0, &map, &present))
		return false;
	if (!present)
		return true;
	/* each child must be one of the tables made multi-tenant */
	listed = sorted_names(op->u.multi_tenancy.all ? &op->u.multi_tenancy.exclude
						  : &op->u.multi_tenancy.tables);
	n_listed = op->u.multi_tenancy.all ? op->u.multi_tenancy.exclude.n
		: op->u.multi_tenancy.tables.n;
	op->u.multi_tenancy.tenant_from = xcalloc(map.map->n, sizeof(TenantFrom));
	for (size_t i = 0; ok && i < map.map->n; i++)
	{
		const YNode *child = YMAP_KEY(map.map, i);
		TenantFrom *tf = &op->u.multi_tenancy.tenant_from[i];
		Fields		entry;
		char		label[64];

		op->u.multi_tenancy.n_tenant_from = i + 1;
		tf->pos = child->pos;
		snprintf(label, sizeof label, "table %zu", i + 1);
		fields_init(&entry, child + 1, &child->pos, f->err, "%s.tenant_from[%zu]", f->owner, i + 1);
		entry.m = f->m;
		if (!conv_ident(&map, label, child, QUALIFIED, &tf->table))
			ok = false;
		else if ((child + 1)->kind != Y_MAP)
			ok = wrong_type(&map, label, child + 1, "a mapping {table, via}");
		else if (!check_keys(&entry, tenant_from_keys) ||
				 !get_ident(&entry, "table", REQUIRED | QUALIFIED, &tf->parent) ||
				 !get_ident(&entry, "via", REQUIRED, &tf->via))
			ok = false;
		else if (op->u.multi_tenancy.all && sorted_contains(listed, n_listed, tf->table))
			ok = spec_error_at(f->err, &child->pos, "%s: table \"%s\" is excluded",
							   map.owner, tf->table);
		else if (!op->u.multi_tenancy.all && !sorted_contains(listed, n_listed, tf->table))
			ok = spec_error_at(f->err, &child->pos,
							   "%s: table \"%s\" is not listed in \"tables\"",
							   map.owner, tf->table);
	}
	free(listed);
	return ok;
}

static bool
parse_multi_tenancy(const Fields *f, Operation *op)
{
	Fields		sub;
	bool		present;
	const YNode *pk;

	if (!get_ident(f, "tenant_table", QUALIFIED, &op->u.multi_tenancy.tenant_table) ||
		!get_ident(f, "column", 0, &op->u.multi_tenancy.column) ||
		!get_string(f, "type", 0, &op->u.multi_tenancy.type) ||
		!get_map(f, "default_tenant", REQUIRED, &sub, &present) ||
		!check_keys(&sub, default_tenant_keys) ||
		!get_text(&sub, "id", REQUIRED, &op->u.multi_tenancy.default_tenant_id) ||
		!get_text(&sub, "name", REQUIRED, &op->u.multi_tenancy.default_tenant_name) ||
		!parse_tenant_tables(f, op) ||
		!parse_tenant_from(f, op) ||
		!get_bool(f, "foreign_key", true, &op->u.multi_tenancy.foreign_key) ||
		!get_bool(f, "index", true, &op->u.multi_tenancy.index) ||
		!lookup(f, "primary_key", 0, &pk) ||
		(pk && !conv_choice(f, "\"primary_key\"", pk, tenant_pk_choices,
							&op->u.multi_tenancy.primary_key)) ||
		!get_map(f, "rls", 0, &sub, &present))
		return false;
	default_string(&op->u.multi_tenancy.tenant_table, "tenants");
	default_string(&op->u.multi_tenancy.column, "tenant_id");
	default_string(&op->u.multi_tenancy.type, "integer");
	if (!present)
		return true;
	return check_keys(&sub, tenant_rls_keys) &&
		get_string(&sub, "setting", REQUIRED, &op->u.multi_tenancy.rls_setting) &&
		get_ident(&sub, "admin_role", 0, &op->u.multi_tenancy.rls_admin_role);
}

static const char *const sql_keys[] = {"up", "down", "transactional", "unsafe_ok", NULL};

/*
 * The line of a text scalar's first line, for SQL's line numbers.  A block
 * scalar (up: |) starts at its indicator and its text on the next line; its
 * text ends with a newline, which a plain or quoted scalar's does not.
 */
static int
text_first_line(const YNode *v)
{
	size_t		len = v->text ? strlen(v->text) : 0;

	return v->pos.line + (len > 0 && v->text[len - 1] == '\n');
}

static bool
parse_sql(const Fields *f, Operation *op)
{
	const YNode *up = map_value(f->map, "up");
	const YNode *down = map_value(f->map, "down");

	if (!get_text(f, "up", REQUIRED, &op->u.sql.up))
		return false;
	op->u.sql.up_line = text_first_line(up);
	/* "down: null" says there is nothing to undo; an absent down, that it cannot be */
	op->u.sql.down_none = down && is_null(down);
	if (down && !op->u.sql.down_none)
		op->u.sql.down_line = text_first_line(down);
	return get_text(f, "down", 0, &op->u.sql.down) &&
		get_bool(f, "transactional", true, &op->u.sql.transactional);
}

/* ---- views, materialized views, types, comments, grants, roles ---- */

/* query: one SELECT, parsed now so that validate refuses what does not parse. */
static bool
get_query(const Fields *f, char **out)
{
	const YNode *v = map_value(f->map, "query");
	struct PgQuery__ParseResult *tree;
	char		what[sizeof f->owner + 16];
	bool		ok;

	if (!get_text(f, "query", REQUIRED, out))
		return false;
	/* it is followed by WITH NO DATA or a CHECK OPTION: no ";" at its end */
	for (size_t len = strlen(*out); len > 0 && (isspace((unsigned char) (*out)[len - 1]) ||
											   (*out)[len - 1] == ';'); len--)
		(*out)[len - 1] = '\0';
	snprintf(what, sizeof what, "%s: \"query\"", f->owner);
	/* a block scalar's lines are counted from the one after its indicator */
	tree = v->style == '|' || v->style == '>'
		? sql_parse(*out, 0, v->pos.file, text_first_line(v), 1, what, f->err)
		: sql_parse(*out, 0, v->pos.file, v->text_pos.line, v->text_pos.col, what, f->err);
	if (tree == NULL)
		return false;
	ok = sql_is_one_select(tree);
	sql_parse_free(tree);
	if (!ok)
		return spec_error_at(f->err, &v->pos, "%s: one SELECT statement (or VALUES)", what);
	return true;
}

static const char *const check_options[] = {"local", "cascaded", NULL};
static const char *const view_keys[] = {
	"name", "query", "security_invoker", "check_option", "unsafe_ok", NULL
};

static bool
parse_view(const Fields *f, Operation *op)
{
	const YNode *si;

	op->u.view.security_invoker = TRI_UNSET;
	if (!get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.view.name) ||
		!get_query(f, &op->u.view.query) ||
		!get_choice(f, "check_option", check_options, &op->u.view.check_option) ||
		!lookup(f, "security_invoker", 0, &si))
		return false;
	if (si)
	{
		bool		value;

		if (!conv_bool(f, "\"security_invoker\"", si, &value))
			return false;
		op->u.view.security_invoker = value ? TRI_TRUE : TRI_FALSE;
	}
	return true;
}

static const char *const name_only_keys[] = {"name", "unsafe_ok", NULL};

static bool
parse_drop_view(const Fields *f, Operation *op)
{
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.view.name);
}

static const char *const matview_index_keys[] = {
	"name", "columns", "unique", "method", "where", "include", "with", "nulls_not_distinct", NULL
};

/* indexes[]: as create_index, without table. */
static bool
parse_matview_indexes(const Fields *f, Operation *op)
{
	const YNode *seq;
	Fields		item;

	if (!get_seq(f, "indexes", 0, &seq))
		return false;
	if (seq == NULL)
		return true;
	op->u.matview.indexes = xcalloc(seq->n ? seq->n : 1, sizeof(IndexDef));
	for (size_t i = 0; i < seq->n; i++)
	{
		op->u.matview.n_indexes = i + 1;
		if (!item_map(f, "indexes", seq, i, &item) ||
			!check_keys(&item, matview_index_keys) ||
			!parse_index_def(&item, false, &op->u.matview.indexes[i]))
			return false;
	}
	return true;
}

static const char *const create_matview_keys[] = {
	"name", "query", "populate", "indexes", "unsafe_ok", NULL
};

static bool
parse_create_matview(const Fields *f, Operation *op)
{
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.matview.name) &&
		get_query(f, &op->u.matview.query) &&
		get_bool(f, "populate", true, &op->u.matview.populate) &&
		parse_matview_indexes(f, op);
}

static const char *const refresh_matview_keys[] = {"name", "concurrently", "unsafe_ok", NULL};

static bool
parse_refresh_matview(const Fields *f, Operation *op)
{
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.matview.name) &&
		get_bool(f, "concurrently", true, &op->u.matview.concurrently);
}

static const char *const replace_matview_keys[] = {"name", "query", "indexes", "unsafe_ok", NULL};

static bool
parse_replace_matview(const Fields *f, Operation *op)
{
	op->u.matview.populate = true;
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.matview.name) &&
		get_query(f, &op->u.matview.query) &&
		parse_matview_indexes(f, op);
}

static bool
parse_drop_matview(const Fields *f, Operation *op)
{
	return get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.matview.name);
}

static const char *const type_keys[] = {"name", "enum", "composite", "unsafe_ok", NULL};
static const char *const attribute_keys[] = {"name", "type", NULL};

/* enum: [values] or composite: [{name, type}]; required for create_type. */
static bool
parse_type(const Fields *f, Operation *op, bool required)
{
	const YNode *en = map_key(f->map, "enum");
	const YNode *comp = map_key(f->map, "composite");
	const YNode *seq;
	Fields		item;

	if (!get_ident(f, "name", REQUIRED | QUALIFIED, &op->u.type.name))
		return false;
	if (en && comp)
		return spec_error_at(f->err, &comp->pos, "%s: give \"enum\" or \"composite\", not both",
							 f->owner);
	if (required && !en && !comp)
		return spec_error_at(f->err, &f->pos, "%s: missing \"enum\" or \"composite\"", f->owner);
	if (!get_list_with(f, "enum", NONEMPTY, conv_ident, &op->u.type.enum_values) ||
		!get_seq(f, "composite", NONEMPTY, &seq))
		return false;
	if (en && !refuse_repeated(f, (const char *const *) op->u.type.enum_values.items,
							   op->u.type.enum_values.n, (en + 1)->items, "value"))
		return false;
	for (size_t i = 0; seq && i < seq->n; i++)
	{
		char	   *name = NULL,
				   *type = NULL;
		bool		ok;

		ok = item_map(f, "composite", seq, i, &item) && check_keys(&item, attribute_keys) &&
			get_ident(&item, "name", REQUIRED, &name) && get_string(&item, "type", REQUIRED, &type);
		strlist_push(&op->u.type.attr_names, name ? name : xstrdup(""));
		strlist_push(&op->u.type.attr_types, type ? type : xstrdup(""));
		if (!ok)
			return false;
	}
	return true;
}

static bool
parse_create_type(const Fields *f, Operation *op)
{
	return parse_type(f, op, true);
}

static bool
parse_drop_type(const Fields *f, Operation *op)
{
	return parse_type(f, op, false);
}

static const char *const add_enum_value_keys[] = {
	"type", "value", "before", "after", "unsafe_ok", NULL
};

static bool
parse_add_enum_value(const Fields *f, Operation *op)
{
	if (!get_ident(f, "type", REQUIRED | QUALIFIED, &op->u.add_enum_value.type) ||
		!get_ident(f, "value", REQUIRED, &op->u.add_enum_value.value) ||
		!get_ident(f, "before", 0, &op->u.add_enum_value.before) ||
		!get_ident(f, "after", 0, &op->u.add_enum_value.after))
		return false;
	if (op->u.add_enum_value.before && op->u.add_enum_value.after)
		return spec_error_at(f->err, &map_key(f->map, "after")->pos,
							 "%s: give \"before\" or \"after\", not both", f->owner);
	return true;
}

static const char *const comment_keys[] = {"on", "text", "unsafe_ok", NULL};
static const char *const comment_kinds[] = {
	"table", "column", "index", "constraint", "view", "materialized_view", "type", NULL
};
static const char *const table_and_name_keys[] = {"table", "name", NULL};

/*
 * on: {kind: name}; a column or a constraint is {table, name}, or
 * "table.name" split at the last dot.
 */
static bool
parse_comment(const Fields *f, Operation *op)
{
	Fields		on;
	bool		present;
	const YNode *key,
			   *text = map_value(f->map, "text");
	bool		in_table;

	if (!get_map(f, "on", REQUIRED, &on, &present) || !check_keys(&on, comment_kinds))
		return false;
	if (on.map->n != 1)
		return spec_error_at(f->err, &on.pos, "%s: give exactly one of %s", on.owner,
							 "table, column, index, constraint, view, materialized_view, type");
	key = YMAP_KEY(on.map, 0);
	op->u.comment.kind = xstrdup(key->text);
	in_table = strcmp(key->text, "column") == 0 || strcmp(key->text, "constraint") == 0;
	if (in_table && (key + 1)->kind == Y_MAP)
	{
		Fields		sub;

		if (!get_map(&on, key->text, 0, &sub, &present) ||
			!check_keys(&sub, table_and_name_keys) ||
			!get_ident(&sub, "table", REQUIRED | QUALIFIED, &op->u.comment.table) ||
			!get_ident(&sub, "name", REQUIRED, &op->u.comment.name))
			return false;
	}
	else if (in_table)
	{
		char	   *whole;
		char	   *dot;

		if (!get_ident(&on, key->text, REQUIRED | QUALIFIED, &whole))
			return false;
		dot = strrchr(whole, '.');
		if (dot == NULL)
		{
			free(whole);
			return spec_error_at(f->err, &(key + 1)->pos,
								 "%s: a %s is \"table.name\" or {table, name}", on.owner, key->text);
		}
		op->u.comment.table = xstrndup(whole, (size_t) (dot - whole));
		op->u.comment.name = xstrdup(dot + 1);
		free(whole);
	}
	else if (!get_ident(&on, key->text, REQUIRED | QUALIFIED, &op->u.comment.name))
		return false;
	if (text == NULL)
		return spec_error_at(f->err, &f->pos, "%s: missing required field \"text\" "
							 "(text: null removes the comment)", f->owner);
	return is_null(text) || conv_text(f, "\"text\"", text, ALLOW_EMPTY, &op->u.comment.text);
}

static const char *const replica_identity_keys[] = {"table", "identity", "unsafe_ok", NULL};
static const char *const replica_identities[] = {"default", "full", "nothing", NULL};
static const char *const replica_index_keys[] = {"index", NULL};

static bool
parse_replica_identity(const Fields *f, Operation *op)
{
	const YNode *v;

	if (!get_ident(f, "table", REQUIRED | QUALIFIED, &op->u.replica_identity.table) ||
		!lookup(f, "identity", REQUIRED, &v))
		return false;
	if (v->kind == Y_MAP)
	{
		Fields		sub;
		bool		present;

		op->u.replica_identity.identity = xstrdup("index");
		return get_map(f, "identity", 0, &sub, &present) &&
			check_keys(&sub, replica_index_keys) &&
			get_ident(&sub, "index", REQUIRED, &op->u.replica_identity.index);
	}
	return conv_choice(f, "\"identity\"", v, replica_identities, &op->u.replica_identity.identity);
}

static const char *const grant_keys[] = {"privileges", "on", "to", "unsafe_ok", NULL};
static const char *const revoke_keys[] = {"privileges", "on", "from", "unsafe_ok", NULL};
static const char *const grant_kinds[] = {"table", "schema", "sequence", "function", NULL};
static const char *const privilege_names[] = {
	"select", "insert", "update", "delete", "truncate", "references", "trigger", "usage",
	"create", "execute", "all", NULL
};

static bool
conv_privilege(const Fields *f, const char *label, const YNode *v, unsigned flags, char **out)
{
	(void) flags;
	return conv_choice(f, label, v, privilege_names, out);
}

/* A function "name(argtypes)", checked by the parser in a GRANT. */
static bool
check_function_signature(const Fields *f, const YNode *v, const char *signature)
{
	static const char prefix[] = "GRANT EXECUTE ON FUNCTION ";
	char	   *sql = xasprintf("%s%s TO migrate_r", prefix, signature);
	struct PgQuery__ParseResult *tree = sql_parse(sql, sizeof prefix - 1, v->pos.file,
												  v->text_pos.line, v->text_pos.col, f->owner,
												  f->err);
	bool		ok = tree != NULL;

	free(sql);
	if (tree && (!sql_is_one_grant(tree) || !strchr(signature, '(')))
		ok = spec_error_at(f->err, &v->pos, "%s: \"function\": one function, written "
						   "name(argument types)", f->owner);
	sql_parse_free(tree);
	return ok;
}

static bool
parse_grant_common(const Fields *f, Operation *op, const char *roles_key)
{
	Fields		on;
	bool		present;
	const YNode *key;

	if (!get_list_with(f, "privileges", REQUIRED | NONEMPTY, conv_privilege,
					   &op->u.grant.privileges) ||
		!get_map(f, "on", REQUIRED, &on, &present) || !check_keys(&on, grant_kinds))
		return false;
	if (on.map->n != 1)
		return spec_error_at(f->err, &on.pos, "%s: give exactly one of table, schema, sequence, "
							 "function", on.owner);
	key = YMAP_KEY(on.map, 0);
	op->u.grant.kind = xstrdup(key->text);
	if (strcmp(key->text, "function") == 0)
	{
		if (!get_string(&on, "function", REQUIRED, &op->u.grant.object) ||
			!check_function_signature(f, key + 1, op->u.grant.object))
			return false;
	}
	else if (!get_ident(&on, key->text, REQUIRED | QUALIFIED, &op->u.grant.object))
		return false;
	return get_idents(f, roles_key, REQUIRED | NONEMPTY, &op->u.grant.roles);
}

static bool
parse_grant(const Fields *f, Operation *op)
{
	return parse_grant_common(f, op, "to");
}

static bool
parse_revoke(const Fields *f, Operation *op)
{
	return parse_grant_common(f, op, "from");
}

static const char *const create_role_keys[] = {
	"name", "login", "inherit", "in_roles", "password", "unsafe_ok", NULL
};

static bool
parse_create_role(const Fields *f, Operation *op)
{
	const YNode *password = map_key(f->map, "password");

	if (password)
		return spec_error_at(f->err, &password->pos,
							 "%s: no password in migration files (they are kept in the history "
							 "table and in version control); set it outside migrate, with "
							 "ALTER ROLE ... PASSWORD from a secret store", f->owner);
	return get_ident(f, "name", REQUIRED, &op->u.create_role.name) &&
		get_bool(f, "login", false, &op->u.create_role.login) &&
		get_bool(f, "inherit", true, &op->u.create_role.inherit) &&
		get_idents(f, "in_roles", 0, &op->u.create_role.in_roles);
}

typedef struct OpDef
{
	const char *const *keys;
	bool		(*parse) (const Fields *f, Operation *op);
} OpDef;

static const OpDef op_defs[OP__COUNT] = {
	[OP_CREATE_TABLE] = {create_table_keys, parse_create_table},
	[OP_DROP_TABLE] = {drop_table_keys, parse_drop_table},
	[OP_RENAME_TABLE] = {rename_table_keys, parse_rename_table},
	[OP_ADD_COLUMN] = {add_column_keys, parse_add_column},
	[OP_DROP_COLUMN] = {drop_column_keys, parse_drop_column},
	[OP_RENAME_COLUMN] = {rename_column_keys, parse_rename_column},
	[OP_ALTER_COLUMN] = {alter_column_keys, parse_alter_column},
	[OP_BACKFILL] = {backfill_keys, parse_backfill},
	[OP_CREATE_INDEX] = {create_index_keys, parse_create_index},
	[OP_DROP_INDEX] = {drop_index_keys, parse_drop_index},
	[OP_ADD_CONSTRAINT] = {add_constraint_keys, parse_add_constraint},
	[OP_DROP_CONSTRAINT] = {drop_constraint_keys, parse_drop_constraint},
	[OP_ENABLE_RLS] = {rls_keys, parse_rls},
	[OP_DISABLE_RLS] = {rls_keys, parse_rls},
	[OP_CREATE_POLICY] = {policy_keys, parse_policy},
	[OP_DROP_POLICY] = {policy_keys, parse_policy},
	[OP_MULTI_TENANCY] = {multi_tenancy_keys, parse_multi_tenancy},
	[OP_SQL] = {sql_keys, parse_sql},
	[OP_ADD_PARTITIONS] = {add_partitions_keys, parse_add_partitions},
	[OP_ATTACH_PARTITION] = {attach_partition_keys, parse_attach_partition},
	[OP_DETACH_PARTITION] = {detach_partition_keys, parse_detach_partition},
	[OP_PARTITION_TABLE] = {partition_table_keys, parse_partition_table},
	[OP_CREATE_VIEW] = {view_keys, parse_view},
	[OP_REPLACE_VIEW] = {view_keys, parse_view},
	[OP_DROP_VIEW] = {name_only_keys, parse_drop_view},
	[OP_CREATE_MATERIALIZED_VIEW] = {create_matview_keys, parse_create_matview},
	[OP_REFRESH_MATERIALIZED_VIEW] = {refresh_matview_keys, parse_refresh_matview},
	[OP_REPLACE_MATERIALIZED_VIEW] = {replace_matview_keys, parse_replace_matview},
	[OP_DROP_MATERIALIZED_VIEW] = {name_only_keys, parse_drop_matview},
	[OP_CREATE_TYPE] = {type_keys, parse_create_type},
	[OP_DROP_TYPE] = {type_keys, parse_drop_type},
	[OP_ADD_ENUM_VALUE] = {add_enum_value_keys, parse_add_enum_value},
	[OP_COMMENT] = {comment_keys, parse_comment},
	[OP_SET_REPLICA_IDENTITY] = {replica_identity_keys, parse_replica_identity},
	[OP_GRANT] = {grant_keys, parse_grant},
	[OP_REVOKE] = {revoke_keys, parse_revoke},
	[OP_CREATE_ROLE] = {create_role_keys, parse_create_role},
};

/* Operation names (and the sibling key unsafe_ok), for "did you mean". */
static void
item_key_words(const char **words)
{
	int			i;

	for (i = 0; i < OP__COUNT; i++)
		words[i] = op_kind_name((OpKind) i);
	words[i++] = "unsafe_ok";
	words[i] = NULL;
}

/*
 * One item of "operations": a mapping with one operation key, whose value
 * is the operation's fields; unsafe_ok may sit among the fields or next to
 * the operation key.
 */
static bool
parse_operation(const YNode *item, size_t index, Migration *m, Operation *op, Error *err)
{
	const YNode *op_key = NULL;
	const YNode *unsafe = NULL;
	const YNode *inner_unsafe;
	const char *words[OP__COUNT + 2];
	Fields		f;

	if (item->kind != Y_MAP)
		return spec_error_at(err, &item->pos,
							 "operations item %zu: expected a mapping like "
							 "\"- add_column: {...}\", got %s", index + 1, node_kind_text(item));
	item_key_words(words);
	for (size_t i = 0; i < item->n; i++)
	{
		const YNode *key = YMAP_KEY(item, i);

		if (strcmp(key->text, "unsafe_ok") == 0)
			unsafe = key + 1;
		else if (op_kind_from_name(key->text) < 0)
			return unknown_word(err, key, "unknown operation \"%s\"", NULL, words);
		else if (op_key != NULL)
			return spec_error_at(err, &key->pos,
								 "operations item %zu: one operation per list item, found "
								 "\"%s\" and \"%s\"", index + 1, op_key->text, key->text);
		else
			op_key = key;
	}
	if (op_key == NULL)
		return spec_error_at(err, &item->pos,
							 "operations item %zu: no operation in this item", index + 1);
	op->kind = (OpKind) op_kind_from_name(op_key->text);
	op->pos = op_key->pos;
	op->index = (int) index;
	if (op_key[1].kind != Y_MAP)
		return spec_error_at(err, &op_key[1].pos, "%s: expected a mapping of fields, got %s",
							 op_key->text, node_kind_text(&op_key[1]));
	fields_init(&f, &op_key[1], &op_key->pos, err, "%s", op_key->text);
	f.m = m;
	if (!check_keys(&f, op_defs[op->kind].keys))
		return false;
	inner_unsafe = map_value(f.map, "unsafe_ok");
	if (inner_unsafe && unsafe)
		return spec_error_at(err, &inner_unsafe->pos,
							 "%s: \"unsafe_ok\" is given twice, inside and next to the operation",
							 f.owner);
	if (inner_unsafe)
		unsafe = inner_unsafe;
	if (unsafe && unsafe->kind == Y_SCALAR && unsafe->type == YS_BOOL)
		return spec_error_at(err, &unsafe->pos,
							 "%s: \"unsafe_ok\" takes the reason why the operation is safe "
							 "here, not %s", f.owner, unsafe->text);
	if (unsafe && !conv_string(&f, "\"unsafe_ok\"", unsafe, 0, &op->unsafe_ok))
		return false;
	return op_defs[op->kind].parse(&f, op);
}

/* ---- the file ---- */

static const char *const settings_keys[] = {
	"lock_timeout", "lock_retries", "statement_timeout", "batch_size", "batch_time",
	"batch_delay", "max_replica_lag", "plain_max_rows", "backfill_workers", NULL
};

static bool
get_duration_setting(const Fields *f, const char *key, unsigned bit,
					 Settings *s, int64_t *field)
{
	const YNode *v;
	char		label[64];

	if (!lookup(f, key, 0, &v))
		return false;
	if (v == NULL)
		return true;
	snprintf(label, sizeof label, "\"%s\"", key);
	if (!conv_duration(f, label, v, field))
		return false;
	if (*field < settings_min_ms(bit))
		return spec_error_at(f->err, &v->pos, "%s: %s: must be more than 0", f->owner, label);
	s->given |= bit;
	return true;
}

static bool
parse_settings(const Fields *f, Settings *s)
{
	const YNode *v;
	int64_t		retries;

	if (!check_keys(f, settings_keys) ||
		!get_duration_setting(f, "lock_timeout", SETTING_LOCK_TIMEOUT, s, &s->lock_timeout_ms) ||
		!get_duration_setting(f, "statement_timeout", SETTING_STATEMENT_TIMEOUT, s,
							  &s->statement_timeout_ms) ||
		!get_duration_setting(f, "batch_time", SETTING_BATCH_TIME, s, &s->batch_time_ms) ||
		!get_duration_setting(f, "batch_delay", SETTING_BATCH_DELAY, s, &s->batch_delay_ms) ||
		!get_duration_setting(f, "max_replica_lag", SETTING_MAX_REPLICA_LAG, s,
							  &s->max_replica_lag_ms) ||
		!lookup(f, "lock_retries", 0, &v))
		return false;
	if (v)
	{
		/* the same bounds as --lock-retries */
		if (!conv_int(f, "\"lock_retries\"", v, 1, 1000, &retries))
			return false;
		s->lock_retries = (int) retries;
		s->given |= SETTING_LOCK_RETRIES;
	}
	if (!lookup(f, "plain_max_rows", 0, &v))
		return false;
	if (v)
	{
		if (!conv_int(f, "\"plain_max_rows\"", v, 0, INT64_MAX, &s->plain_max_rows))
			return false;
		s->given |= SETTING_PLAIN_MAX_ROWS;
	}
	if (!lookup(f, "backfill_workers", 0, &v))
		return false;
	if (v)
	{
		/* the same bounds as --backfill-workers */
		if (!conv_int(f, "\"backfill_workers\"", v, 1, BACKFILL_WORKERS_MAX, &retries))
			return false;
		s->backfill_workers = (int) retries;
		s->given |= SETTING_BACKFILL_WORKERS;
	}
	if (!lookup(f, "batch_size", 0, &v))
		return false;
	if (v)
	{
		if (v->kind == Y_SCALAR && v->type == YS_STRING && strcmp(v->text, "auto") == 0)
			s->batch_size = 0;
		else if (v->kind == Y_SCALAR && v->type == YS_STRING)
			return spec_error_at(f->err, &v->pos,
								 "%s: \"batch_size\": expected a positive integer or auto, got \"%s\"",
								 f->owner, v->text);
		else if (!conv_int(f, "\"batch_size\"", v, 1, INT64_MAX, &s->batch_size))
			return false;
		s->given |= SETTING_BATCH_SIZE;
	}
	return true;
}

static const char *const top_keys[] = {"description", "settings", "operations", NULL};

static bool
parse_migration(const YNode *root, Migration *m, Error *err)
{
	Fields		f;
	Fields		settings;
	bool		present;
	const YNode *ops;

	if (is_null(root))
		return spec_error_at(err, &root->pos,
							 "the file is empty; expected a mapping with \"operations\"");
	if (root->kind != Y_MAP)
		return spec_error_at(err, &root->pos,
							 "expected a mapping with \"operations\" at the top level, got %s",
							 node_kind_text(root));
	fields_init(&f, root, &root->pos, err, "migration");
	settings_defaults(&m->settings);
	if (!check_keys(&f, top_keys) ||
		!get_text(&f, "description", ALLOW_EMPTY, &m->description) ||
		!get_map(&f, "settings", 0, &settings, &present) ||
		(present && !parse_settings(&settings, &m->settings)) ||
		!get_seq(&f, "operations", REQUIRED | NONEMPTY, &ops))
		return false;
	m->ops = xcalloc(ops->n, sizeof(Operation));
	m->n_ops = ops->n;
	for (size_t i = 0; i < ops->n; i++)
		if (!parse_operation(&ops->items[i], i, m, &m->ops[i], err))
			return false;
	return true;
}

/* ---- files and folders ---- */

bool
spec_parse_filename(const char *base, int64_t *version, char **version_text, char **name)
{
	static const char ext[] = ".yaml";
	size_t		len = strlen(base);
	const char *p = base;
	const char *name_start,
			   *name_end;
	int64_t		v = 0;

	if (len < sizeof ext || strcmp(base + len - (sizeof ext - 1), ext) != 0)
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (p == base || *p != '_' || v <= 0)
		return false;
	name_start = p + 1;
	name_end = base + len - (sizeof ext - 1);
	if (name_end <= name_start)
		return false;
	for (p = name_start; p < name_end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	*version = v;
	*version_text = xstrndup(base, (size_t) (name_start - 1 - base));
	*name = xstrndup(name_start, (size_t) (name_end - name_start));
	return true;
}

static bool
has_suffix_ci(const char *s, const char *suffix)
{
	size_t		len = strlen(s),
				slen = strlen(suffix);

	return len >= slen && strcasecmp(s + len - slen, suffix) == 0;
}

static bool
bad_file_name(Error *err, const char *path, const char *base)
{
	return error_set(err, EXIT_USAGE,
					 "%s: invalid migration file name \"%s\": expected <version>_<name>.yaml, "
					 "the version a positive integer and the name made of a-z, 0-9 and _%s",
					 path, base, has_suffix_ci(base, ".yml") ? " (use the .yaml extension)" : "");
}

bool
spec_load_buffer(const char *path, const char *data, size_t len, Migration *out, Error *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	YNode	   *root;
	bool		ok;
	Buf			canonical;
	char		hex[65];

	memset(out, 0, sizeof *out);
	out->path = xstrdup(path);
	if (!spec_parse_filename(base, &out->version, &out->version_text, &out->name))
	{
		bad_file_name(err, path, base);
		migration_free(out);
		return false;
	}
	if (!ytree_parse(out->path, data, len, &root, err))
	{
		migration_free(out);
		return false;
	}
	ok = parse_migration(root, out, err);
	ytree_free(root);
	out->source = xstrndup(data, len);
	migration_index_texts(out);
	if (!ok)
	{
		migration_free(out);
		return false;
	}
	buf_init(&canonical);
	spec_canonical(&canonical, out);
	sha256_hex(canonical.data, canonical.len, hex);
	buf_free(&canonical);
	out->checksum = xasprintf("sha256:%s", hex);
	return true;
}

bool
spec_load_file(const char *path, Migration *out, Error *err)
{
	size_t		len;
	char	   *data;
	bool		ok;

	memset(out, 0, sizeof *out);
	data = read_file(path, SPEC_MAX_FILE_BYTES, &len, err);
	if (data == NULL)
		return false;
	ok = spec_load_buffer(path, data, len, out, err);
	free(data);
	return ok;
}

typedef struct DirEntry
{
	char	   *path;
	int64_t		version;
} DirEntry;

static int
compare_entries(const void *a, const void *b)
{
	const DirEntry *ea = a,
			   *eb = b;

	if (ea->version != eb->version)
		return ea->version < eb->version ? -1 : 1;
	return strcmp(ea->path, eb->path);
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The migration files of dir, by version.  Hidden files and files that
 * are not YAML (README, .gitkeep) are ignored; a YAML file with a bad
 * name, or two files with one version, is an error.
 */
static bool
list_migration_files(const char *dir, DirEntry **entries, size_t *n, Error *err)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	StrList		names = {0};
	const char *sep = (*dir && dir[strlen(dir) - 1] == '/') ? "" : "/";
	bool		ok = true;

	*entries = NULL;
	*n = 0;
	if (d == NULL)
		return error_set(err, EXIT_USAGE, "%s: cannot open the migrations folder: %s",
						 dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
			(has_suffix_ci(de->d_name, ".yaml") || has_suffix_ci(de->d_name, ".yml")))
			strlist_add(&names, de->d_name);
	closedir(d);
	/* readdir's order is arbitrary: sort, so that errors are reproducible */
	if (names.n > 0)
		qsort(names.items, names.n, sizeof(char *), compare_strings);
	*entries = xcalloc(names.n, sizeof(DirEntry));
	for (size_t i = 0; ok && i < names.n; i++)
	{
		DirEntry   *e = &(*entries)[i];
		char	   *version_text,
				   *name;

		e->path = xasprintf("%s%s%s", dir, sep, names.items[i]);
		*n = i + 1;
		if (!spec_parse_filename(names.items[i], &e->version, &version_text, &name))
			ok = bad_file_name(err, e->path, names.items[i]);
		else
		{
			free(version_text);
			free(name);
		}
	}
	strlist_free(&names);
	if (ok && *n > 1)
		qsort(*entries, *n, sizeof(DirEntry), compare_entries);
	for (size_t i = 1; ok && i < *n; i++)
		if ((*entries)[i].version == (*entries)[i - 1].version)
			ok = error_set(err, EXIT_USAGE, "%s and %s: two migrations with version %" PRId64,
						   (*entries)[i - 1].path, (*entries)[i].path, (*entries)[i].version);
	return ok;
}

bool
spec_load_dir(const char *dir, MigrationSet *out, Error *err)
{
	DirEntry   *entries;
	size_t		n;
	bool		ok;

	memset(out, 0, sizeof *out);
	ok = list_migration_files(dir, &entries, &n, err);
	if (ok)
		out->items = xcalloc(n, sizeof(Migration));
	for (size_t i = 0; ok && i < n; i++)
	{
		ok = spec_load_file(entries[i].path, &out->items[i], err);
		if (ok)
			out->n = i + 1;
	}
	for (size_t i = 0; i < n; i++)
		free(entries[i].path);
	free(entries);
	if (!ok)
		migration_set_free(out);
	return ok;
}
