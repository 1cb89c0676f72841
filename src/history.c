/*
 * history.c: the history table, the truth about what is applied (docs/design.md,
 * The history table and the journal).
 * See state.h.
 *
 * Every value goes in as a parameter; the table's name, given by the user,
 * goes through quote_qualified.  Besides the columns any history table must have, the
 * table has "strategy" (plain or online), so that a rollback mirrors the
 * way its migration was applied, whichever machine applied it.
 */
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "quote.h"
#include "txn.h"

/* Columns any history table must have (docs/design.md, The history table and the journal). */
static const char *const required_columns[] = {
	"version", "name", "checksum", "started_at", "completed_at", "status",
	"error_message", "applied_by", "execution_ms",
};

static const char *const status_names[] = {
	[HISTORY_NONE] = "none",
	[HISTORY_RUNNING] = "running",
	[HISTORY_COMPLETED] = "completed",
	[HISTORY_FAILED] = "failed",
	[HISTORY_ROLLED_BACK] = "rolled_back",
};

#define N_STATUS (sizeof status_names / sizeof status_names[0])

const char *
history_status_name(HistoryStatus s)
{
	return (size_t) s < N_STATUS ? status_names[s] : "unknown";
}

static bool
parse_status(const char *text, HistoryStatus *out)
{
	for (size_t i = HISTORY_RUNNING; i < N_STATUS; i++)
		if (strcmp(text, status_names[i]) == 0)
		{
			*out = (HistoryStatus) i;
			return true;
		}
	return false;
}

/*
 * The columns of the history table into cols; *exists false (and cols
 * empty) when there is no such table.
 */
static bool
table_columns(PGconn *conn, const char *table, bool *exists, StrList *cols,
			  Error *err)
{
	char	   *quoted = quoted_qualified(table);
	const char *params[1] = {quoted};
	PGresult   *res;

	res = db_query(conn,
				   "SELECT a.attname FROM (SELECT to_regclass($1) AS oid) r "
				   "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid "
				   "  AND a.attnum > 0 AND NOT a.attisdropped "
				   "WHERE r.oid IS NOT NULL",
				   1, params, err);
	free(quoted);
	if (res == NULL)
		return false;
	*exists = PQntuples(res) > 0;
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 0))
			strlist_add(cols, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

/* A table of that name that is not a history table is not ours to touch. */
static bool
check_shape(const StrList *cols, Error *err)
{
	for (size_t i = 0; i < sizeof required_columns / sizeof required_columns[0]; i++)
		if (!strlist_contains(cols, required_columns[i]))
			return error_set(err, EXIT_USAGE,
							 "it is not a migrate history table (no column \"%s\"); "
							 "name another table with --table", required_columns[i]);
	return true;
}

/*
 * Columns beyond those any history table has, added by later versions:
 * how each migration was applied (its rollback mirrors it), its file's
 * text (rollback and status work without the file), when it was
 * finalized, the step it is running (status from another machine), and
 * whether a signal stopped it.
 */
static const char *const added_columns[] = {
	"strategy", "source", "finalized_at", "current_step", "interrupted", "step_started_at"
};

#define ADDED_COLUMNS \
	"ADD COLUMN IF NOT EXISTS strategy text CHECK (strategy IN ('plain', 'online')), " \
	"ADD COLUMN IF NOT EXISTS source text, " \
	"ADD COLUMN IF NOT EXISTS finalized_at timestamptz, " \
	"ADD COLUMN IF NOT EXISTS current_step text, " \
	"ADD COLUMN IF NOT EXISTS interrupted boolean NOT NULL DEFAULT false, " \
	"ADD COLUMN IF NOT EXISTS step_started_at timestamptz"

static bool
has_added_columns(const StrList *cols)
{
	for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++)
		if (!strlist_contains(cols, added_columns[i]))
			return false;
	return true;
}

/* The statements of one short transaction; a NULL one is left out. */
typedef struct Statements
{
	const char *const *items;
	size_t		n;
} Statements;

static bool
run_statements(PGconn *conn, void *arg, Error *err)
{
	const Statements *st = arg;

	for (size_t i = 0; i < st->n; i++)
		if (st->items[i] != NULL && !db_exec(conn, st->items[i], err))
			return false;
	return true;
}

/*
 * Runs statements in txn's retrying short transaction, under the user's
 * lock_timeout, lock_retries and statement_timeout.
 */
static bool
run_short_transaction(PGconn *conn, const Settings *settings, const char *table,
					  const char *const *statements, size_t n, Error *err)
{
	Statements	st = {statements, n};
	Txn			t = {0};

	t.conn = conn;
	t.settings = settings;
	t.relation = table;
	t.journal_row = -1;
	return txn_run(&t, run_statements, &st, err);
}

static bool
create_table(PGconn *conn, const char *table, const Settings *settings, Error *err)
{
	char	   *schema;
	char	   *relname;
	char	   *statements[2] = {NULL, NULL};
	bool		ok;

	split_qualified(table, &schema, &relname);
	if (schema != NULL)
		statements[0] = sql_format("CREATE SCHEMA IF NOT EXISTS %I", schema);
	statements[1] = sql_format("CREATE TABLE IF NOT EXISTS %Q%s", table,
							  " (\n"
							  "  version bigint PRIMARY KEY,\n"
							  "  name text NOT NULL,\n"
							  "  checksum text NOT NULL,\n"
							  "  started_at timestamptz NOT NULL,\n"
							  "  completed_at timestamptz,\n"
							  "  status text NOT NULL CHECK (status IN "
							  "('running', 'completed', 'failed', 'rolled_back')),\n"
							  "  error_message text,\n"
							  "  applied_by text,\n"
							  "  execution_ms bigint,\n"
							  "  strategy text CHECK (strategy IN ('plain', 'online')),\n"
							  "  source text,\n"
							  "  finalized_at timestamptz,\n"
							  "  current_step text,\n"
							  "  interrupted boolean NOT NULL DEFAULT false,\n"
							  "  step_started_at timestamptz\n"
							  ")");
	ok = run_short_transaction(conn, settings, NULL, (const char *const *) statements, 2, err);
	free(statements[0]);
	free(statements[1]);
	free(schema);
	free(relname);
	return ok;
}

/*
 * Two runners creating the same table (or schema) at once: the loser fails
 * on a catalog unique index, or sees the winner's table.
 */
static bool
is_creation_race(const Error *err)
{
	return strcmp(err->sqlstate, "23505") == 0 ||	/* unique_violation */
		strcmp(err->sqlstate, "42P07") == 0 ||	/* duplicate_table */
		strcmp(err->sqlstate, "42P06") == 0 ||	/* duplicate_schema */
		strcmp(err->sqlstate, "42710") == 0;	/* duplicate_object: its row type */
}

/* Brings the table to the current shape; creates it when missing. */
static bool
ensure_once(PGconn *conn, const char *table, const Settings *settings, Error *err)
{
	StrList		cols = {0};
	bool		exists;
	bool		ok;

	ok = table_columns(conn, table, &exists, &cols, err);
	if (ok && exists)
	{
		ok = check_shape(&cols, err);
		if (ok && !has_added_columns(&cols))
		{
			/* A table made before these were kept: each is added, once. */
			char	   *alter = sql_format("ALTER TABLE %Q " ADDED_COLUMNS, table);
			const char *statements[1] = {alter};

			ok = run_short_transaction(conn, settings, table, statements, 1, err);
			free(alter);
		}
	}
	else if (ok)
		ok = create_table(conn, table, settings, err);
	strlist_free(&cols);
	return ok;
}

bool
history_ensure(PGconn *conn, const char *table, const Settings *settings, Error *err)
{
	if (ensure_once(conn, table, settings, err))
		return true;
	if (is_creation_race(err))
	{
		error_clear(err);
		if (ensure_once(conn, table, settings, err))
			return true;
	}
	error_prefix(err, "cannot prepare history table %s", table);
	return false;
}

static char *
value_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

static bool
read_row(const PGresult *res, int i, HistoryRow *row, Error *err)
{
	const char *status = PQgetvalue(res, i, 3);

	row->version = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	row->name = value_or_null(res, i, 1);
	row->checksum = value_or_null(res, i, 2);
	row->started_at = value_or_null(res, i, 4);
	row->completed_at = value_or_null(res, i, 5);
	row->error_message = value_or_null(res, i, 6);
	row->applied_by = value_or_null(res, i, 7);
	row->execution_ms = PQgetisnull(res, i, 8) ? -1 : strtoll(PQgetvalue(res, i, 8), NULL, 10);
	row->strategy = value_or_null(res, i, 9);
	row->source = value_or_null(res, i, 10);
	row->finalized_at = value_or_null(res, i, 11);
	row->current_step = value_or_null(res, i, 12);
	row->interrupted = strcmp(PQgetvalue(res, i, 13), "t") == 0;
	row->step_elapsed_ms = strtoll(PQgetvalue(res, i, 14), NULL, 10);
	if (!parse_status(status, &row->status))
		return error_set(err, EXIT_STEP_FAILED, "version %lld has an unknown status \"%s\"",
						 (long long) row->version, status);
	return true;
}

bool
history_load(PGconn *conn, const char *table, History *out, Error *err)
{
	StrList		cols = {0};
	bool		exists;
	char	   *sql = NULL;
	PGresult   *res = NULL;
	bool		ok;

	out->rows = NULL;
	out->n = 0;
	ok = table_columns(conn, table, &exists, &cols, err);
	if (!ok || !exists)
		goto done;
	if (!(ok = check_shape(&cols, err)))
		goto done;
	/* a table of an older shape (read by status, which changes nothing) */
	sql = sql_format("%s%Q ORDER BY version", has_added_columns(&cols)
					? "SELECT version, name, checksum, status, started_at, completed_at, "
					"error_message, applied_by, execution_ms, strategy, source, finalized_at, "
					"current_step, interrupted, coalesce((extract(epoch FROM "
					"clock_timestamp() - step_started_at) * 1000)::bigint, -1) FROM "
					: "SELECT version, name, checksum, status, started_at, completed_at, "
					"error_message, applied_by, execution_ms, NULL::text, NULL::text, "
					"NULL::timestamptz, NULL::text, false, -1 FROM ",
					table);
	res = db_query(conn, sql, 0, NULL, err);
	if (!(ok = res != NULL))
		goto done;
	out->rows = xcalloc((size_t) PQntuples(res) + 1, sizeof(HistoryRow));
	for (int i = 0; ok && i < PQntuples(res); i++)
	{
		ok = read_row(res, i, &out->rows[i], err);
		out->n++;
	}
done:
	PQclear(res);
	free(sql);
	strlist_free(&cols);
	if (!ok)
	{
		history_free(out);
		error_prefix(err, "cannot read history table %s", table);
	}
	return ok;
}

const HistoryRow *
history_find(const History *h, int64_t version)
{
	size_t		lo = 0;
	size_t		hi = h ? h->n : 0;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (h->rows[mid].version == version)
			return &h->rows[mid];
		if (h->rows[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
history_free(History *h)
{
	for (size_t i = 0; i < h->n; i++)
	{
		HistoryRow *row = &h->rows[i];

		free(row->name);
		free(row->checksum);
		free(row->started_at);
		free(row->completed_at);
		free(row->error_message);
		free(row->applied_by);
		free(row->strategy);
		free(row->source);
		free(row->finalized_at);
		free(row->current_step);
	}
	free(h->rows);
	h->rows = NULL;
	h->n = 0;
}

/*
 * One parameterized statement on table; its SQL is before + table + after.
 * *changed (may be NULL): whether it changed a row.
 */
static bool
history_write_counted(PGconn *conn, const char *table, const char *before,
					  const char *after, int nparams, const char *const *params,
					  bool *changed, Error *err)
{
	char	   *sql = sql_format("%s%Q%s", before, table, after);
	PGresult   *res = db_query(conn, sql, nparams, params, err);

	free(sql);
	if (res == NULL)
	{
		error_prefix(err, "cannot update history table %s", table);
		return false;
	}
	if (changed)
		*changed = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return true;
}

static bool
history_write(PGconn *conn, const char *table, const char *before,
			  const char *after, int nparams, const char *const *params,
			  Error *err)
{
	return history_write_counted(conn, table, before, after, nparams, params, NULL, err);
}

/*
 * The row's insert; completed_at uses clock_timestamp(), as the caller's
 * transaction (plain strategy) may have started long before.
 */
#define HISTORY_UPSERT_RUNNING \
	" (version, name, checksum, started_at, status, applied_by, strategy, source) " \
	"VALUES ($1, $2, $3, now(), 'running', $4, $5, $6) " \
	"ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, " \
	"checksum = EXCLUDED.checksum, started_at = EXCLUDED.started_at, " \
	"completed_at = NULL, status = 'running', error_message = NULL, " \
	"applied_by = EXCLUDED.applied_by, execution_ms = NULL, " \
	"strategy = EXCLUDED.strategy, source = EXCLUDED.source, finalized_at = NULL, " \
	"current_step = NULL, step_started_at = NULL, interrupted = false"

#define HISTORY_UPSERT_COMPLETED \
	" (version, name, checksum, started_at, completed_at, status, execution_ms) " \
	"VALUES ($1, $2, $3, now(), clock_timestamp(), 'completed', $4) " \
	"ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, " \
	"checksum = EXCLUDED.checksum, completed_at = EXCLUDED.completed_at, " \
	"status = 'completed', error_message = NULL, " \
	"execution_ms = EXCLUDED.execution_ms"

#define HISTORY_UPSERT_FAILED \
	" (version, name, checksum, started_at, status, error_message, execution_ms, interrupted) " \
	"VALUES ($1, $2, $3, now(), 'failed', $4, $5, $6) " \
	"ON CONFLICT (version) DO UPDATE SET status = 'failed', " \
	"error_message = EXCLUDED.error_message, execution_ms = EXCLUDED.execution_ms, " \
	"interrupted = EXCLUDED.interrupted"

static bool
mark_running(PGconn *conn, const char *table, const Migration *m,
			 const char *strategy, const char *applied_by, Error *err)
{
	char		version[32];
	const char *params[6];

	snprintf(version, sizeof version, "%lld", (long long) m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	params[3] = applied_by;
	params[4] = strategy;
	params[5] = m->source;
	return history_write(conn, table, "INSERT INTO ", HISTORY_UPSERT_RUNNING,
						 6, params, err);
}

bool
history_mark_running(PGconn *conn, const char *table, const Migration *m,
					 const char *applied_by, Error *err)
{
	return mark_running(conn, table, m, NULL, applied_by, err);
}

bool
history_mark_running_as(PGconn *conn, const char *table, const Migration *m,
						Strategy strategy, const char *applied_by, Error *err)
{
	return mark_running(conn, table, m, strategy_name(strategy), applied_by, err);
}

bool
history_mark_completed(PGconn *conn, const char *table, const Migration *m,
					   int64_t execution_ms, Error *err)
{
	char		version[32];
	char		ms[32];
	const char *params[4];

	snprintf(version, sizeof version, "%lld", (long long) m->version);
	snprintf(ms, sizeof ms, "%lld", (long long) execution_ms);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	params[3] = execution_ms >= 0 ? ms : NULL;
	return history_write(conn, table, "INSERT INTO ", HISTORY_UPSERT_COMPLETED,
						 4, params, err);
}

bool
history_mark_failed(PGconn *conn, const char *table, const Migration *m,
					const char *message, int64_t execution_ms, bool interrupted, Error *err)
{
	char		version[32];
	char		ms[32];
	const char *params[6];

	snprintf(version, sizeof version, "%lld", (long long) m->version);
	snprintf(ms, sizeof ms, "%lld", (long long) execution_ms);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	params[3] = message;
	params[4] = execution_ms >= 0 ? ms : NULL;
	params[5] = interrupted ? "true" : "false";
	return history_write(conn, table, "INSERT INTO ", HISTORY_UPSERT_FAILED,
						 6, params, err);
}

bool
history_mark_rolled_back(PGconn *conn, const char *table, int64_t version,
						 Error *err)
{
	char		text[32];
	const char *params[1] = {text};

	/* Nothing to insert without a row: its name and checksum are unknown. */
	snprintf(text, sizeof text, "%lld", (long long) version);
	return history_write(conn, table, "UPDATE ",
						 " SET status = 'rolled_back', completed_at = clock_timestamp() "
						 "WHERE version = $1",
						 1, params, err);
}

bool
history_mark_rolling_back(PGconn *conn, const char *table, int64_t version, Error *err)
{
	char		text[32];
	const char *params[1] = {text};

	snprintf(text, sizeof text, "%lld", (long long) version);
	return history_write(conn, table, "UPDATE ",
						 " SET status = 'running', completed_at = NULL, "
						 "error_message = 'being rolled back' "
						 "WHERE version = $1 AND status <> 'rolled_back'",
						 1, params, err);
}

/* An UPDATE of version's row: SET <set> WHERE version = $1 [AND <cond>]. */
static bool
update_row(PGconn *conn, const char *table, int64_t version, const char *set_where,
		   const char *value, Error *err)
{
	char		text[32];
	const char *params[2] = {text, value};

	snprintf(text, sizeof text, "%lld", (long long) version);
	return history_write(conn, table, "UPDATE ", set_where, value ? 2 : 1, params, err);
}

bool
history_mark_finalized(PGconn *conn, const char *table, int64_t version, Error *err)
{
	return update_row(conn, table, version,
					  " SET finalized_at = clock_timestamp() WHERE version = $1", NULL, err);
}

bool
history_mark_step(PGconn *conn, const char *table, int64_t version, const char *step_id,
				  Error *err)
{
	return update_row(conn, table, version,
					  " SET current_step = $2, step_started_at = clock_timestamp() "
					  "WHERE version = $1 AND status = 'running'",
					  step_id, err);
}

bool
history_forget(PGconn *conn, const char *table, int64_t version, bool *forgotten, Error *err)
{
	char		text[32];
	const char *params[1] = {text};

	snprintf(text, sizeof text, "%lld", (long long) version);
	return history_write_counted(conn, table, "DELETE FROM ",
								 " WHERE version = $1 AND status IN ('failed', 'rolled_back')",
								 1, params, forgotten, err);
}

char *
history_source_path(const char *table, const HistoryRow *row)
{
	return xasprintf("%s/%lld_%s.yaml", table, (long long) row->version, row->name);
}
