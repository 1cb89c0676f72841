/*
 * targets.c: the targets file of a fleet (see fleet.h), read with the
 * migration files' YAML tree, so that every problem is file:line:col.
 */
#include "fleet.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "spec_yaml.h"

#define TARGETS_MAX_FILE_BYTES (16 * 1024 * 1024)
#define PARALLEL_MAX 1000

static const char *const top_keys[] = {"targets", "canary", "parallel", "on_failure", NULL};
static const char *const target_keys[] = {"name", "database", NULL};

static const YNode *
map_get(const YNode *map, const char *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(YMAP_KEY(map, i)->text, key) == 0)
			return YMAP_VALUE(map, i);
	return NULL;
}

/* Refuses a key not in allowed, naming the closest one. */
static bool
check_keys(const YNode *map, const char *const *allowed, const char *owner, Error *err)
{
	for (size_t i = 0; i < map->n; i++)
	{
		const YNode *key = YMAP_KEY(map, i);
		const char *best = NULL;
		int			best_d = 3;
		bool		known = false;

		for (const char *const *k = allowed; *k; k++)
		{
			int			d = edit_distance(key->text, *k);

			known = known || d == 0;
			if (d < best_d)
				best_d = d, best = *k;
		}
		if (known)
			continue;
		if (best)
			return spec_error_at(err, &key->pos, "%sunknown field \"%s\" (did you mean \"%s\"?)",
								 owner, key->text, best);
		return spec_error_at(err, &key->pos, "%sunknown field \"%s\"", owner, key->text);
	}
	return true;
}

static bool
get_count(const YNode *map, const char *key, int min, int max, int *out, Error *err)
{
	const YNode *v = map_get(map, key);
	char	   *end;
	long long	n;

	if (v == NULL)
		return true;
	errno = 0;
	n = v->kind == Y_SCALAR && v->type == YS_INT ? strtoll(v->text, &end, 10) : 0;
	if (v->kind != Y_SCALAR || v->type != YS_INT || errno || *end || n < min || n > max)
		return spec_error_at(err, &v->pos, "\"%s\": must be an integer from %d to %d, got %s",
							 key, min, max, v->kind == Y_SCALAR ? v->text : "a collection");
	*out = (int) n;
	return true;
}

static bool
get_string(const YNode *map, const char *key, const char *owner, const YNode **out,
		   Error *err)
{
	const YNode *v = map_get(map, key);

	if (v == NULL)
		return spec_error_at(err, &map->pos, "%smissing required field \"%s\"", owner, key);
	if (v->kind != Y_SCALAR || v->type != YS_STRING || v->text[0] == '\0')
		return spec_error_at(err, &v->pos, "%s\"%s\": expected a non-empty string", owner, key);
	*out = v;
	return true;
}

static bool
name_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

/*
 * A conninfo or URI that libpq parses, without a password: passwords come
 * from .pgpass or the environment, never from a file people commit.  A
 * bare word is a database name.
 */
static bool
check_database(const YNode *v, const char *owner, Error *err)
{
	PQconninfoOption *opts;
	char	   *why = NULL;
	bool		has_password = false;

	if (strchr(v->text, '=') == NULL && strncmp(v->text, "postgres://", 11) != 0 &&
		strncmp(v->text, "postgresql://", 13) != 0)
		return true;
	opts = PQconninfoParse(v->text, &why);
	if (opts == NULL)
	{
		/* libpq's message quotes the text, which may hold a password */
		PQfreemem(why);
		return spec_error_at(err, &v->pos, "%s\"database\": not a conninfo string or URI "
							 "that libpq can parse", owner);
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
			has_password = true;
	PQconninfoFree(opts);
	if (has_password)
		return spec_error_at(err, &v->pos, "%s\"database\": holds a password; a targets file "
							 "names databases only: put the password in .pgpass (or "
							 "PGPASSFILE) or the environment (PGPASSWORD)", owner);
	return true;
}

static bool
parse_target(const YNode *item, size_t i, Target *t, Error *err)
{
	char		owner[48];
	const YNode *name,
			   *db;

	snprintf(owner, sizeof owner, "targets[%zu]: ", i + 1);
	if (item->kind != Y_MAP)
		return spec_error_at(err, &item->pos, "%sexpected a mapping {name, database}", owner);
	if (!check_keys(item, target_keys, owner, err) ||
		!get_string(item, "name", owner, &name, err) ||
		!get_string(item, "database", owner, &db, err))
		return false;
	if (!name_ok(name->text))
		return spec_error_at(err, &name->pos, "%s\"name\": \"%s\": use letters, digits, "
							 "\"_\", \"-\" and \".\"", owner, name->text);
	if (!check_database(db, owner, err))
		return false;
	t->name = xstrdup(name->text);
	t->database = xstrdup(db->text);
	t->pos = item->pos;
	return true;
}

static bool
parse_root(const YNode *root, Targets *out, Error *err)
{
	const YNode *list,
			   *v;
	const char **names;
	size_t		repeat,
				first;

	if (root->kind != Y_MAP)
		return spec_error_at(err, &root->pos, "expected a mapping with \"targets\"");
	if (!check_keys(root, top_keys, "", err))
		return false;
	list = map_get(root, "targets");
	if (list == NULL)
		return spec_error_at(err, &root->pos, "missing required field \"targets\"");
	if (list->kind != Y_SEQ || list->n == 0)
		return spec_error_at(err, &list->pos, "\"targets\": expected a non-empty list of "
							 "{name, database}");
	out->items = xcalloc(list->n, sizeof(Target));
	for (size_t i = 0; i < list->n; i++, out->n++)
		if (!parse_target(&list->items[i], i, &out->items[i], err))
			return false;
	names = xcalloc(out->n, sizeof(char *));
	for (size_t i = 0; i < out->n; i++)
		names[i] = out->items[i].name;
	if (spec_find_repeat(names, out->n, &repeat, &first))
	{
		free(names);
		return spec_error_at(err, &out->items[repeat].pos, "targets[%zu]: name \"%s\" "
							 "appears twice (first at line %d)", repeat + 1,
							 out->items[repeat].name, out->items[first].pos.line);
	}
	free(names);
	out->canary = out->n < 1 ? 0 : 1;
	out->parallel = 4;
	out->on_failure = ON_FAILURE_HALT;
	if (!get_count(root, "canary", 0, (int) out->n, &out->canary, err) ||
		!get_count(root, "parallel", 1, PARALLEL_MAX, &out->parallel, err))
		return false;
	if ((v = map_get(root, "on_failure")) != NULL)
	{
		if (v->kind == Y_SCALAR && strcmp(v->text, "halt") == 0)
			out->on_failure = ON_FAILURE_HALT;
		else if (v->kind == Y_SCALAR && strcmp(v->text, "continue") == 0)
			out->on_failure = ON_FAILURE_CONTINUE;
		else
			return spec_error_at(err, &v->pos, "\"on_failure\": expected halt or continue, got %s",
								 v->kind == Y_SCALAR ? v->text : "a collection");
	}
	return true;
}

bool
targets_parse(const char *path, const char *text, size_t len, Targets *out, Error *err)
{
	YNode	   *root = NULL;
	bool		ok;

	memset(out, 0, sizeof *out);
	out->path = xstrdup(path);
	if (!ytree_parse(out->path, text, len, &root, err))
	{
		targets_free(out);
		return false;
	}
	ok = parse_root(root, out, err);
	ytree_free(root);
	if (!ok)
		targets_free(out);
	return ok;
}

bool
targets_load(const char *path, Targets *out, Error *err)
{
	size_t		len = 0;
	char	   *text = read_file(path, TARGETS_MAX_FILE_BYTES, &len, err);
	bool		ok;

	if (text == NULL)
	{
		memset(out, 0, sizeof *out);
		err->exit_code = EXIT_USAGE;
		error_prefix(err, "--targets");
		return false;
	}
	ok = targets_parse(path, text, len, out, err);
	free(text);
	return ok;
}

void
targets_free(Targets *t)
{
	for (size_t i = 0; i < t->n; i++)
	{
		free(t->items[i].name);
		free(t->items[i].database);
	}
	free(t->items);
	free(t->path);
	memset(t, 0, sizeof *t);
}
