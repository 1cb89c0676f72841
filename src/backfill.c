/*
 * backfill.c: batched UPDATEs that an application does not notice.
 *
 * Batches walk the primary key (keyset pagination: each batch finds its
 * upper bound through the index, never a scan per batch), from the first
 * key to the last key that existed when the backfill started; rows written
 * later are the sync trigger's job, so a heavy insert load cannot keep the
 * backfill from finishing.  A table without a primary key is walked in
 * ctid page ranges.  Each batch is its own transaction under lock_timeout;
 * its size adapts to take about batch_time; the cursor is saved after every
 * batch so that a killed run resumes where it stopped.
 */
#include "backfill.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db.h"
#include "quote.h"

#define BATCH_MIN 100
#define BATCH_MAX 100000
#define BATCH_START 1000
#define LAG_POLL_MS 1000

/* ---- cursor text ---- */

char *
backfill_cursor_encode(const StrList *values)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < values->n; i++)
		buf_printf(&b, "%zu:%s", strlen(values->items[i]), values->items[i]);
	return buf_detach(&b);
}

bool
backfill_cursor_decode(const char *text, StrList *values)
{
	const char *p = text;

	while (*p)
	{
		char	   *end;
		unsigned long long len = strtoull(p, &end, 10);

		if (end == p || *end != ':' || strlen(end + 1) < len)
		{
			strlist_free(values);
			return false;
		}
		strlist_push(values, xstrndup(end + 1, (size_t) len));
		p = end + 1 + len;
	}
	return true;
}

/*
 * A cursor belongs to one step on one database: one state file may serve
 * several databases (staging and production, say), so the key names the
 * server and database as well as the step.
 */
static char *
cursor_key(ExecContext *ctx, const Step *s)
{
	const char *host = PQhost(ctx->conn);

	return xasprintf("%s:%s/%s#%s", host ? host : "", PQport(ctx->conn),
					 PQdb(ctx->conn), s->id);
}

/*
 * A finished (or rolled back) backfill leaves no cursor behind: the next
 * application of the migration starts from the first row again.
 */
void
backfill_forget_cursor(ExecContext *ctx, const Migration *m, const Step *s)
{
	char	   *key;

	if (!ctx->journal)
		return;
	key = cursor_key(ctx, s);
	journal_save_cursor(ctx->journal, m->version, key, "", 0);
	free(key);
}

/* ---- what the table looks like ---- */

typedef struct KeyInfo
{
	StrList		names;			/* primary key columns, in key order */
	StrList		types;			/* their format_type() */
} KeyInfo;

/* The row estimate, for progress: 0 when the table was never analyzed. */
static int64_t
estimate_rows(ExecContext *ctx, const char *table)
{
	Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn)};
	int64_t		n = catalog_row_estimate(&cat, table);

	return n > 0 ? n : 0;
}

/* ---- replica lag ---- */

/*
 * The worst replay lag in ms: of the primary's pg_stat_replication, and of
 * every --replica connection.  -1 when it cannot be told.
 */
static int64_t
replica_lag_ms(ExecContext *ctx, PGconn **replicas, size_t n_replicas)
{
	int64_t		worst = 0;
	Error		err = {0};
	PGresult   *res;

	res = db_query(ctx->conn,
				   "SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)::bigint "
				   "FROM pg_stat_replication", 0, NULL, &err);
	if (res == NULL)
		error_clear(&err);
	else
	{
		worst = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	for (size_t i = 0; i < n_replicas; i++)
	{
		int64_t		lag;

		if (replicas[i] == NULL)
			continue;
		res = db_query(replicas[i],
					   "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
					   "THEN 0 ELSE coalesce(extract(epoch FROM now() - "
					   "pg_last_xact_replay_timestamp()) * 1000, 0) END::bigint",
					   0, NULL, &err);
		if (res == NULL)
		{
			error_clear(&err);
			continue;
		}
		lag = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (lag > worst)
			worst = lag;
		PQclear(res);
	}
	return worst;
}

/* ---- SQL of one batch ---- */

/* "SET a = (e1), b = (e2)" */
static void
append_set_list(Buf *b, const BackfillSpec *bf)
{
	buf_puts(b, " SET ");
	for (size_t i = 0; i < bf->set.n; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		quote_ident(b, bf->set.items[i].key);
		buf_printf(b, " = (%s)", bf->set.items[i].expr);
	}
}

/* "(k1, k2)" with an optional prefix ("t."). */
static void
append_key_tuple(Buf *b, const KeyInfo *key, const char *prefix)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < key->names.n; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		if (prefix)
			buf_puts(b, prefix);
		quote_ident(b, key->names.items[i]);
	}
	buf_putc(b, ')');
}

/* "($first::type1, ...)" */
static void
append_param_tuple(Buf *b, const KeyInfo *key, int first)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < key->names.n; i++)
		buf_printf(b, "%s$%d::%s", i > 0 ? ", " : "", first + (int) i, key->types.items[i]);
	buf_putc(b, ')');
}

/* "k1 DESC, k2 DESC" or ASC */
static void
append_order(Buf *b, const KeyInfo *key, const char *dir)
{
	for (size_t i = 0; i < key->names.n; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		quote_ident(b, key->names.items[i]);
		buf_printf(b, " %s", dir);
	}
}

/*
 * One keyset batch.  $1..$k: the upper bound, $k+1..$2k: the cursor (when
 * with_cursor), last: the limit.  Returns the number of rows updated and
 * the batch's last key.  The batch's keys are aliased so that the user's
 * expressions, which name the table's columns, are never ambiguous.
 */
static char *
keyset_batch_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
				 bool with_cursor)
{
	Buf			b;
	int			k = (int) key->names.n;

	buf_init(&b);
	buf_puts(&b, "WITH batch AS (SELECT ");
	for (int i = 0; i < k; i++)
	{
		buf_printf(&b, "%s", i > 0 ? ", " : "");
		quote_ident(&b, key->names.items[i]);
		buf_printf(&b, " AS migrate_k%d", i);
	}
	buf_printf(&b, " FROM %s WHERE ", qtable);
	append_key_tuple(&b, key, NULL);
	buf_puts(&b, " <= ");
	append_param_tuple(&b, key, 1);
	if (with_cursor)
	{
		buf_puts(&b, " AND ");
		append_key_tuple(&b, key, NULL);
		buf_puts(&b, " > ");
		append_param_tuple(&b, key, k + 1);
	}
	buf_puts(&b, " ORDER BY ");
	append_order(&b, key, "ASC");
	buf_printf(&b, " LIMIT $%d), upd AS (UPDATE %s", with_cursor ? 2 * k + 1 : k + 1, qtable);
	append_set_list(&b, bf);
	buf_puts(&b, " FROM batch WHERE ");
	for (int i = 0; i < k; i++)
	{
		buf_printf(&b, "%s%s.", i > 0 ? " AND " : "", qtable);
		quote_ident(&b, key->names.items[i]);
		buf_printf(&b, " = batch.migrate_k%d", i);
	}
	if (bf->where)
		buf_printf(&b, " AND (%s)", bf->where);
	buf_puts(&b, " RETURNING 1) SELECT (SELECT count(*) FROM upd)");
	for (int i = 0; i < k; i++)
		buf_printf(&b, ", last.migrate_k%d::text", i);
	buf_puts(&b, " FROM (SELECT * FROM batch ORDER BY ");
	for (int i = 0; i < k; i++)
		buf_printf(&b, "%smigrate_k%d DESC", i > 0 ? ", " : "", i);
	buf_puts(&b, " LIMIT 1) AS last");
	return buf_detach(&b);
}

/* The key of the last row that exists now: the backfill's upper bound. */
static bool
load_upper_bound(PGconn *conn, const char *qtable, const KeyInfo *key,
				 StrList *bound, bool *empty, Error *err)
{
	Buf			b;
	PGresult   *res;

	buf_init(&b);
	buf_puts(&b, "SELECT ");
	for (size_t i = 0; i < key->names.n; i++)
	{
		if (i > 0)
			buf_puts(&b, ", ");
		quote_ident(&b, key->names.items[i]);
		/* Aliased: ORDER BY "id" would otherwise sort the text output. */
		buf_printf(&b, "::text AS migrate_b%zu", i);
	}
	buf_printf(&b, " FROM %s ORDER BY ", qtable);
	append_order(&b, key, "DESC");
	buf_puts(&b, " LIMIT 1");
	res = db_query(conn, b.data, 0, NULL, err);
	buf_free(&b);
	if (res == NULL)
		return false;
	*empty = PQntuples(res) == 0;
	for (int i = 0; !*empty && i < PQnfields(res); i++)
		strlist_add(bound, PQgetvalue(res, 0, i));
	PQclear(res);
	return true;
}

/* ---- the loop ---- */

typedef struct BatchState
{
	const char *sql;
	const char **params;
	int			nparams;
	PGresult   *result;			/* of the last attempt */
} BatchState;

static bool
batch_body(ExecContext *ctx, void *arg, Error *err)
{
	BatchState *bs = arg;

	PQclear(bs->result);
	bs->result = db_query(ctx->conn, bs->sql, bs->nparams, bs->params, err);
	return bs->result != NULL;
}

/* Runs one batch in its own short transaction, under the executor's rules. */
static bool
run_batch(ExecContext *ctx, const Migration *m, const Step *s, BatchState *bs,
		  Error *err)
{
	if (executor_short_txn(ctx, m, s, -1, batch_body, bs, err))
		return true;
	PQclear(bs->result);
	bs->result = NULL;
	return false;
}

/* The next batch size: scale toward batch_time, at most doubling or halving. */
static int64_t
adapt_batch_size(int64_t size, int64_t took_ms, int64_t target_ms)
{
	double		factor;

	if (took_ms < 1)
		took_ms = 1;
	factor = (double) target_ms / (double) took_ms;
	if (factor > 2.0)
		factor = 2.0;
	if (factor < 0.5)
		factor = 0.5;
	size = (int64_t) ((double) size * factor);
	if (size < BATCH_MIN)
		size = BATCH_MIN;
	if (size > BATCH_MAX)
		size = BATCH_MAX;
	return size;
}

/* Waits while replicas lag more than max_replica_lag. */
static void
throttle_for_replicas(ExecContext *ctx, const Migration *m, const Step *s,
					  PGconn **replicas, int64_t done, int64_t total,
					  int64_t batch)
{
	if (ctx->settings.max_replica_lag_ms <= 0)
		return;
	while (!executor_interrupted &&
		   replica_lag_ms(ctx, replicas, ctx->replicas.n) > ctx->settings.max_replica_lag_ms)
	{
		progress_backfill(ctx->progress, m, s, done, total, batch, 0, true);
		sleep_ms(LAG_POLL_MS);
	}
}

static bool
backfill_keyset(ExecContext *ctx, const Migration *m, const Step *s,
				const char *qtable, const KeyInfo *key, PGconn **replicas,
				int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	int			k = (int) key->names.n;
	StrList		bound = {0};
	StrList		cursor = {0};
	bool		empty;
	bool		fixed = bf->batch_size > 0 || ctx->settings.batch_size > 0;
	int64_t		batch = bf->batch_size > 0 ? bf->batch_size
		: ctx->settings.batch_size > 0 ? ctx->settings.batch_size : BATCH_START;
	int64_t		delay = bf->batch_delay_ms >= 0 ? bf->batch_delay_ms : ctx->settings.batch_delay_ms;
	int64_t		total = estimate_rows(ctx, bf->table);
	int64_t		done = 0;
	int64_t		t_start = now_ms();
	char	   *sql_first = NULL,
			   *sql_next = NULL;
	const char **params = xcalloc((size_t) (2 * k + 1), sizeof(char *));
	char		limit[32];
	bool		ok = true;

	if (!load_upper_bound(ctx->conn, qtable, key, &bound, &empty, err))
	{
		free(params);
		return false;
	}
	if (ctx->journal)
	{
		char	   *ckey = cursor_key(ctx, s);
		char	   *saved = journal_load_cursor(ctx->journal, m->version, ckey, &done);

		free(ckey);

		if (saved && (!backfill_cursor_decode(saved, &cursor) || cursor.n != (size_t) k))
		{
			strlist_free(&cursor);
			done = 0;
		}
		free(saved);
	}
	sql_first = keyset_batch_sql(qtable, key, bf, false);
	sql_next = keyset_batch_sql(qtable, key, bf, true);

	while (ok && !empty)
	{
		BatchState	bs = {0};
		int64_t		t0 = now_ms();
		int			np = 0;
		int64_t		updated;

		throttle_for_replicas(ctx, m, s, replicas, done, total, batch);
		if (executor_interrupted)
			break;
		for (int i = 0; i < k; i++)
			params[np++] = bound.items[i];
		if (cursor.n == (size_t) k)
			for (int i = 0; i < k; i++)
				params[np++] = cursor.items[i];
		snprintf(limit, sizeof limit, "%lld", (long long) batch);
		params[np++] = limit;
		bs.sql = cursor.n == (size_t) k ? sql_next : sql_first;
		bs.params = params;
		bs.nparams = np;
		if (!run_batch(ctx, m, s, &bs, err))
		{
			ok = false;
			break;
		}
		if (PQntuples(bs.result) == 0)
		{
			PQclear(bs.result);
			break;				/* past the upper bound: finished */
		}
		updated = strtoll(PQgetvalue(bs.result, 0, 0), NULL, 10);
		strlist_free(&cursor);
		for (int i = 0; i < k; i++)
			strlist_add(&cursor, PQgetvalue(bs.result, 0, 1 + i));
		PQclear(bs.result);
		done += updated;
		if (ctx->journal)
		{
			char	   *text = backfill_cursor_encode(&cursor);
			char	   *ckey = cursor_key(ctx, s);

			journal_save_cursor(ctx->journal, m->version, ckey, text, done);
			free(ckey);
			free(text);
		}
		if (total < done)
			total = done;
		progress_backfill(ctx->progress, m, s, done, total, batch,
						  (double) done * 1000.0 / (double) (now_ms() - t_start + 1), false);
		if (!fixed)
			batch = adapt_batch_size(batch, now_ms() - t0, ctx->settings.batch_time_ms);
		if (delay > 0)
			sleep_ms(delay);
	}
	if (ok && executor_interrupted)
	{
		char	   *what = xasprintf("after %lld rows of the backfill", (long long) done);

		ok = executor_interrupted_error(err, what);
		free(what);
	}
	else if (ok)
		backfill_forget_cursor(ctx, m, s);
	free(sql_first);
	free(sql_next);
	free(params);
	strlist_free(&bound);
	strlist_free(&cursor);
	*rows_out = done;
	return ok;
}

/* Tables without a primary key: ctid page ranges up to the size at start. */
static bool
backfill_ctid(ExecContext *ctx, const Migration *m, const Step *s,
			  const char *qtable, PGconn **replicas, int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	const char *params[2];
	char		lo[48],
				hi[48];
	Buf			b;
	Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn)};
	int64_t		pages = catalog_table_pages(&cat, bf->table),
				page = 0,
				step_pages = 64,
				done = 0,
				total = estimate_rows(ctx, bf->table),
				t_start = now_ms();
	bool		ok = true;

	if (pages < 0)
		return error_set(err, EXIT_STEP_FAILED, "backfill: cannot tell the size of %s", qtable);

	buf_init(&b);
	buf_printf(&b, "UPDATE %s", qtable);
	append_set_list(&b, bf);
	buf_puts(&b, " WHERE ctid >= $1::tid AND ctid < $2::tid");
	if (bf->where)
		buf_printf(&b, " AND (%s)", bf->where);

	while (page < pages && !executor_interrupted)
	{
		BatchState	bs = {0};
		int64_t		t0 = now_ms();

		throttle_for_replicas(ctx, m, s, replicas, done, total, step_pages);
		snprintf(lo, sizeof lo, "(%lld,0)", (long long) page);
		snprintf(hi, sizeof hi, "(%lld,0)", (long long) (page + step_pages));
		params[0] = lo;
		params[1] = hi;
		bs.sql = b.data;
		bs.params = params;
		bs.nparams = 2;
		if (!run_batch(ctx, m, s, &bs, err))
		{
			ok = false;
			break;
		}
		done += strtoll(PQcmdTuples(bs.result), NULL, 10);
		PQclear(bs.result);
		page += step_pages;
		progress_backfill(ctx->progress, m, s, done, total > done ? total : done, step_pages,
						  (double) done * 1000.0 / (double) (now_ms() - t_start + 1), false);
		step_pages = adapt_batch_size(step_pages, now_ms() - t0, ctx->settings.batch_time_ms) / 16;
		if (step_pages < 1)
			step_pages = 1;
	}
	buf_free(&b);
	if (ok && executor_interrupted)
	{
		char	   *what = xasprintf("after %lld rows of the backfill", (long long) done);

		ok = executor_interrupted_error(err, what);
		free(what);
	}
	*rows_out = done;
	return ok;
}

bool
backfill_run(ExecContext *ctx, const Migration *m, const Step *s,
			 int64_t *rows_out, Error *err)
{
	char	   *qtable = quoted_qualified(s->backfill->table);
	Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn)};
	KeyInfo		key = {0};
	PGconn	  **replicas = xcalloc(ctx->replicas.n + 1, sizeof(PGconn *));
	bool		ok;

	*rows_out = 0;
	for (size_t i = 0; i < ctx->replicas.n; i++)
	{
		Error		rerr = {0};

		replicas[i] = db_connect(ctx->replicas.items[i], &rerr);
		if (replicas[i] == NULL)
		{
			error_prefix(&rerr, "replica %zu", i + 1);
			*err = rerr;
			for (size_t j = 0; j < i; j++)
				PQfinish(replicas[j]);
			free(replicas);
			free(qtable);
			return false;
		}
	}
	ok = catalog_primary_key(&cat, s->backfill->table, &key.names, &key.types, err);
	if (ok && key.names.n > 0)
		ok = backfill_keyset(ctx, m, s, qtable, &key, replicas, rows_out, err);
	else if (ok)
		ok = backfill_ctid(ctx, m, s, qtable, replicas, rows_out, err);
	for (size_t i = 0; i < ctx->replicas.n; i++)
		PQfinish(replicas[i]);
	free(replicas);
	strlist_free(&key.names);
	strlist_free(&key.types);
	free(qtable);
	return ok;
}
