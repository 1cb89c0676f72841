/*
 * catalog_snapshot.c: what planning has learnt of the database, kept for
 * the planning of one set of migrations (catalog.h): which tables are
 * empty or small enough for the plain statements, asked once each, and the
 * tables that an earlier migration of the set creates (not in the database
 * yet, empty when their turn comes).  docs/design.md, "The cheapest safe
 * technique".
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"


typedef struct SnapshotTable
{
	char	   *table;			/* as written */
	int			small;			/* 1, 0, -1 (cannot tell) */
	int64_t		rows;			/* counted, when small */
} SnapshotTable;

struct CatalogSnapshot
{
	SnapshotTable *tables;
	size_t		n;
	size_t		cap;
	bool		unsure;			/* rows may have been written that the database
								 * does not show yet: no probe tells */
};

static SnapshotTable *
snapshot_find(const Catalog *cat, const char *table)
{
	for (size_t i = 0; cat->snap && i < cat->snap->n; i++)
		if (strcmp(cat->snap->tables[i].table, table) == 0)
			return &cat->snap->tables[i];
	return NULL;
}

static void
snapshot_note(const Catalog *cat, const char *table, int small, int64_t rows)
{
	CatalogSnapshot *snap = cat->snap;
	SnapshotTable *t = snapshot_find(cat, table);

	if (snap == NULL)
		return;
	if (t == NULL)
	{
		if (snap->n == snap->cap)
		{
			snap->cap = snap->cap ? snap->cap * 2 : 8;
			snap->tables = xrealloc(snap->tables, snap->cap * sizeof *snap->tables);
		}
		t = &snap->tables[snap->n++];
		t->table = xstrdup(table);
	}
	t->small = small;
	t->rows = rows;
}

void
catalog_snapshot_init(Catalog *cat)
{
	cat->snap = xcalloc(1, sizeof *cat->snap);
}

void
catalog_forget(const Catalog *cat)
{
	if (cat == NULL || cat->snap == NULL)
		return;
	for (size_t i = 0; i < cat->snap->n; i++)
		free(cat->snap->tables[i].table);
	cat->snap->n = 0;
	cat->snap->unsure = false;
}

void
catalog_close(Catalog *cat)
{
	if (cat == NULL || cat->snap == NULL)
		return;
	catalog_forget(cat);
	free(cat->snap->tables);
	free(cat->snap);
	cat->snap = NULL;
}

void
catalog_assume_written(const Catalog *cat)
{
	if (cat == NULL || cat->snap == NULL)
		return;
	cat->snap->unsure = true;
	for (size_t i = 0; i < cat->snap->n; i++)
		snapshot_note(cat, cat->snap->tables[i].table, -1, -1);
}

void
catalog_assume_empty(const Catalog *cat, const char *table)
{
	if (cat != NULL)
		snapshot_note(cat, table, 1, 0);
}

/*
 * The probe: an ordinary table of at most CATALOG_SMALL_BYTES on disk
 * (catalog_table_within: a table whose rows were deleted can be large and
 * empty, and every plain statement reads all of it), then its rows
 * counted, at most CATALOG_SMALL_ROWS + 1 read (never reltuples, which is
 * an estimate).  *rows: 0 when it holds none, else CATALOG_SMALL_ROWS (at
 * most that many).
 */
static int
probe(const Catalog *cat, const char *table, int64_t *rows)
{
	int			within = catalog_table_within(cat, table, CATALOG_SMALL_BYTES);
	int			more;

	if (within != 1)
		return within;
	if ((more = catalog_rows_exceed(cat, table, CATALOG_SMALL_ROWS)) != 0)
		return more < 0 ? -1 : 0;
	more = catalog_rows_exceed(cat, table, 0);
	if (more < 0)
		return -1;
	*rows = more ? CATALOG_SMALL_ROWS : 0;
	return 1;
}

int
catalog_small_table(const Catalog *cat, const char *table, int64_t *rows)
{
	SnapshotTable *t;
	int64_t		counted = 0;
	int			small;

	*rows = -1;
	if (cat == NULL || table == NULL)
		return -1;
	if ((t = snapshot_find(cat, table)) != NULL)
	{
		*rows = t->rows;
		return t->small;
	}
	if (cat->conn == NULL || (cat->snap && cat->snap->unsure))
		return -1;
	small = probe(cat, table, &counted);
	snapshot_note(cat, table, small, small == 1 ? counted : -1);
	*rows = small == 1 ? counted : -1;
	return small;
}

PlainChoice
catalog_plain_choice(const Catalog *cat, int64_t version, const char *key, char **reason,
					 Error *err)
{
	StrList		saved = {0};
	char		v[32];
	const char *params[1] = {v};
	PGresult   *res;
	int			found;
	bool		ran;

	*reason = NULL;
	if (cat == NULL || cat->conn == NULL)
		return PLAIN_CHOICE_FREE;
	found = catalog_saved_list(cat, version, key, &saved, err);
	if (found < 0)
		return PLAIN_CHOICE_ERROR;
	if (found == 1 && saved.n == 1)
	{
		*reason = saved.items[0];
		saved.items[0] = NULL;
		strlist_free(&saved);
		return PLAIN_CHOICE_PLAIN;
	}
	strlist_free(&saved);
	/* A run that is not rolled back made its choice: online, since none is recorded. */
	snprintf(v, sizeof v, "%lld", (long long) version);
	res = db_query(cat->conn, "SELECT to_regclass('migrate.ledger_runs') IS NOT NULL", 0, NULL,
				   err);
	if (res == NULL)
		return PLAIN_CHOICE_ERROR;
	ran = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!ran)
		return PLAIN_CHOICE_FREE;
	res = db_query(cat->conn, "SELECT FROM migrate.ledger_runs WHERE version = $1::bigint "
				   "AND state <> 'rolled_back'", 1, params, err);
	if (res == NULL)
		return PLAIN_CHOICE_ERROR;
	ran = PQntuples(res) > 0;
	PQclear(res);
	return ran ? PLAIN_CHOICE_ONLINE : PLAIN_CHOICE_FREE;
}
