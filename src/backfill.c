/*
 * backfill.c: batched UPDATEs that an application does not notice.
 *
 * Batches walk a key (the primary key, else unique NOT NULL columns: keyset
 * pagination, each batch finds its upper bound through the index, never a
 * scan per batch), from the first key to the last key that existed when
 * the backfill started; rows written later are the sync trigger's job, so
 * a heavy insert load cannot keep the backfill from finishing.  A table
 * without such a key is refused before the first batch.  Each batch is its
 * own transaction under lock_timeout, with its cursor (and, with the last
 * batch, the backfill's completion) in the same transaction; its size
 * adapts to take about batch_time.
 */
#include "backfill.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db.h"
#include "ledger.h"
#include "quote.h"
#include "txn.h"

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

static void forget_cursor_db(ExecContext *ctx, const Migration *m, const Step *s);

/*
 * A rolled back backfill leaves no cursor behind: the next application of
 * the migration starts from the first row again.
 */
void
backfill_forget_cursor(ExecContext *ctx, const Migration *m, const Step *s)
{
	char	   *key;

	forget_cursor_db(ctx, m, s);
	if (!ctx->journal)
		return;
	key = cursor_key(ctx, s);
	journal_save_cursor(ctx->journal, m->version, key, "", 0);
	free(key);
}

/* ---- what the table looks like ---- */

typedef struct KeyInfo
{
	StrList		names;			/* walk key columns (catalog_walk_key), in key order */
	StrList		types;			/* their format_type() */
	char	   *copy_columns;	/* a copy (BackfillSpec.copy_to): the quoted
								 * columns an INSERT writes, ", "-separated */
} KeyInfo;

/* The row estimate, for progress: 0 when the table was never analyzed. */
static int64_t
estimate_rows(ExecContext *ctx, const char *table)
{
	Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn), NULL};
	int64_t		n = catalog_row_estimate(&cat, table);

	return n > 0 ? n : 0;
}

/* ---- replica lag ---- */

/*
 * Replay lag is measured two ways, and the worse counts.  What the servers
 * report: pg_stat_replication's replay_lag on the primary, and on each
 * --replica the age of the last transaction it replayed.  Neither grows
 * while replay is stalled (replay_lag is only sampled when replay moves;
 * a replica that replayed nothing since it started has no timestamp), so
 * the backfill also remembers the WAL position and time of each batch it
 * committed: the oldest batch a replica has not replayed yet is how far it
 * lags, however it stalls.
 */
#define LAG_SAMPLES_MAX 4096

typedef struct Replicas
{
	PGconn	  **conns;			/* --replica connections */
	size_t		n;
	bool		seen;			/* some replica exists: track our batches */
	uint64_t   *lsn;			/* our batches' commit positions, ascending */
	int64_t    *at;				/* and when they committed (now_ms) */
	size_t		n_samples;
	int64_t		asked_at;		/* when throttle_for_replicas last asked (now_ms) */
} Replicas;

static uint64_t
parse_lsn(const char *text)
{
	unsigned int hi,
				lo;

	if (text == NULL || sscanf(text, "%X/%X", &hi, &lo) != 2)
		return UINT64_MAX;
	return ((uint64_t) hi << 32) | lo;
}

/* After a batch committed: where its WAL ends, and when. */
static void
note_batch_committed(ExecContext *ctx, Replicas *rp)
{
	Error		err = {0};
	PGresult   *res;
	uint64_t	lsn;

	if (!rp->seen)
		return;
	res = db_query(ctx->conn, "SELECT pg_current_wal_lsn()::text", 0, NULL, &err);
	if (res == NULL)
	{
		error_clear(&err);
		return;
	}
	lsn = parse_lsn(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (lsn == UINT64_MAX)
		return;
	/* Full: the oldest samples measure the lag, so the newest is replaced. */
	if (rp->n_samples == LAG_SAMPLES_MAX)
		rp->n_samples--;
	rp->lsn[rp->n_samples] = lsn;
	rp->at[rp->n_samples] = now_ms();
	rp->n_samples++;
}

/* Reads one bigint and one LSN column, or leaves them when it cannot. */
static void
read_lag_row(PGconn *conn, const char *sql, int64_t *worst, uint64_t *min_replay,
			 bool *seen)
{
	Error		err = {0};
	PGresult   *res = db_query(conn, sql, 0, NULL, &err);
	int64_t		lag;
	uint64_t	replay;

	if (res == NULL)
	{
		error_clear(&err);
		return;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
	{
		*seen = true;
		lag = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		replay = parse_lsn(PQgetvalue(res, 0, 1));
		if (lag > *worst)
			*worst = lag;
		if (replay < *min_replay)
			*min_replay = replay;
	}
	PQclear(res);
}

/* The worst replay lag in ms of all replicas; 0 when there are none. */
static int64_t
replica_lag_ms(ExecContext *ctx, Replicas *rp)
{
	int64_t		worst = 0;
	uint64_t	min_replay = UINT64_MAX;
	size_t		keep = 0;

	read_lag_row(ctx->conn,
				 "SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)::bigint, "
				 "min(replay_lsn)::text FROM pg_stat_replication HAVING count(*) > 0",
				 &worst, &min_replay, &rp->seen);
	for (size_t i = 0; i < rp->n; i++)
		read_lag_row(rp->conns[i],
					 "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
					 "THEN 0 ELSE extract(epoch FROM now() - coalesce("
					 "pg_last_xact_replay_timestamp(), pg_postmaster_start_time())) * 1000 "
					 "END::bigint, pg_last_wal_replay_lsn()::text",
					 &worst, &min_replay, &rp->seen);
	if (min_replay == UINT64_MAX)
		return worst;
	while (keep < rp->n_samples && rp->lsn[keep] <= min_replay)
		keep++;
	memmove(rp->lsn, rp->lsn + keep, (rp->n_samples - keep) * sizeof(uint64_t));
	memmove(rp->at, rp->at + keep, (rp->n_samples - keep) * sizeof(int64_t));
	rp->n_samples -= keep;
	if (rp->n_samples > 0 && now_ms() - rp->at[0] > worst)
		worst = now_ms() - rp->at[0];
	return worst;
}

/* ---- SQL of one batch ---- */

/*
 * The upsert of a cursor row, its values $first..$first+6: version, step,
 * upper bound, cursor, rows done, finished, rows total; plus_rows: NULL, or
 * an expression added to the rows done (a batch's own count).
 */
static void
append_cursor_upsert(Buf *b, int first, const char *plus_rows)
{
	buf_printf(b, "INSERT INTO migrate.backfill_cursors "
			   "(version, step, upper_bound, cursor, rows_done, finished, rows_total) "
			   "VALUES ($%d::bigint, $%d, $%d, $%d, $%d::bigint%s%s, $%d::boolean, $%d::bigint) "
			   "ON CONFLICT (version, step) DO UPDATE SET upper_bound = excluded.upper_bound, "
			   "cursor = excluded.cursor, rows_done = excluded.rows_done, "
			   "finished = excluded.finished, rows_total = excluded.rows_total, "
			   "updated_at = now()", first, first + 1, first + 2, first + 3, first + 4,
			   plus_rows ? " + " : "", plus_rows ? plus_rows : "", first + 5, first + 6);
}

#define CURSOR_PARAMS 7

/* The values of append_cursor_upsert, as text. */
typedef struct CursorValues
{
	char		version[32],
				rows[32],
				total[32];
	const char *params[CURSOR_PARAMS];
} CursorValues;

static void
cursor_values(CursorValues *cv, const Migration *m, const char *row_id,
			  const char *upper_bound, const char *cursor, int64_t rows_done,
			  int64_t rows_total, bool finished)
{
	snprintf(cv->version, sizeof cv->version, "%lld", (long long) m->version);
	snprintf(cv->rows, sizeof cv->rows, "%lld", (long long) rows_done);
	snprintf(cv->total, sizeof cv->total, "%lld", (long long) rows_total);
	cv->params[0] = cv->version;
	cv->params[1] = row_id;
	cv->params[2] = upper_bound;
	cv->params[3] = cursor;
	cv->params[4] = cv->rows;
	cv->params[5] = finished ? "true" : "false";
	cv->params[6] = cv->total;
}

/* "SET a = (e1), b = (e2)" */
static void
append_set_list(Buf *b, const BackfillSpec *bf)
{
	buf_puts(b, " SET ");
	for (size_t i = 0; i < bf->set.n; i++)
	{
		sql_append(b, "%s%I = (%s)", i > 0 ? ", " : "", bf->set.items[i].key,
				   bf->set.items[i].expr);
	}
}

/* "(k1, k2)" with an optional prefix ("t."). */
static void
append_key_tuple(Buf *b, const KeyInfo *key, const char *prefix)
{
	buf_putc(b, '(');
	for (size_t i = 0; i < key->names.n; i++)
	{
		sql_append(b, "%s%s%I", i > 0 ? ", " : "", prefix ? prefix : "", key->names.items[i]);
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

/*
 * "(k) <= ($1..$k)", and with a cursor " AND (k) > ($k+1..$2k)": the rows of
 * one batch, a range of the key's index.
 */
static void
append_key_range(Buf *b, const KeyInfo *key, const char *prefix, bool with_cursor)
{
	append_key_tuple(b, key, prefix);
	buf_puts(b, " <= ");
	append_param_tuple(b, key, 1);
	if (with_cursor)
	{
		buf_puts(b, " AND ");
		append_key_tuple(b, key, prefix);
		buf_puts(b, " > ");
		append_param_tuple(b, key, (int) key->names.n + 1);
	}
}

/* "k1 DESC, k2 DESC" or ASC */
static void
append_order(Buf *b, const KeyInfo *key, const char *dir)
{
	for (size_t i = 0; i < key->names.n; i++)
	{
		sql_append(b, "%s%I %s", i > 0 ? ", " : "", key->names.items[i], dir);
	}
}

/*
 * The key of the row n places past the cursor, not past the bound: the
 * batch's last key, found by walking the key's index.  $1..$k: the bound,
 * $k+1..$2k: the cursor (when with_cursor), last: n - 1.  The keys are
 * aliased so that ORDER BY sorts the key, not its text.
 */
static char *
keyset_upper_sql(const char *qtable, const KeyInfo *key, bool with_cursor)
{
	Buf			b;
	int			k = (int) key->names.n;

	buf_init(&b);
	buf_puts(&b, "SELECT ");
	for (int i = 0; i < k; i++)
		sql_append(&b, "%s%I::text AS migrate_k%d", i > 0 ? ", " : "", key->names.items[i], i);
	buf_printf(&b, " FROM %s WHERE ", qtable);
	append_key_range(&b, key, NULL, with_cursor);
	buf_puts(&b, " ORDER BY ");
	append_order(&b, key, "ASC");
	buf_printf(&b, " OFFSET $%d LIMIT 1", with_cursor ? 2 * k + 1 : k + 1);
	return buf_detach(&b);
}

/* The rows of one batch: its key range, and the backfill's where. */
static void
append_batch_rows(Buf *b, const KeyInfo *key, const BackfillSpec *bf, bool with_cursor)
{
	append_key_range(b, key, NULL, with_cursor);
	if (bf->where)
		buf_printf(b, " AND (%s)", bf->where);
}

/*
 * The save table's name for the value a backfill wrote into its i-th set
 * column (0-based); migrate.track_new_values adds these columns.
 */
static void
append_new_value_column(Buf *b, size_t i)
{
	buf_printf(b, "migrate_new_%zu", i + 1);
}

/*
 * One batch that saves what it overwrites, in one statement: the batch's
 * rows (their place, key and old values, under names of migrate's own),
 * the UPDATE joined to them by place, and the key, old and new values it
 * returns saved as one row of the batches table (an array of the save
 * table's rows: one insert, one compressed value, whatever the batch's
 * size).  A row the application changed after the statement's snapshot
 * has moved from that place: the UPDATE skips it (its recheck no longer
 * joins), so no stale old value is ever saved; the statement returns how
 * many rows it read and how many it changed, and when they differ the
 * locked form below does the rest in the same transaction.  The new value
 * is kept so that rollback can tell a value the application wrote since.
 * $1..$k: the batch's upper key, $k+1..$2k: the cursor (when with_cursor).
 *
 * locked: the rows not yet changed by this transaction, locked as they are
 * read, joined by key: the old value saved is the one overwritten.
 */
static char *
keyset_save_update_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
					   bool with_cursor, bool locked)
{
	char	   *target = xasprintf("%s.", qtable);
	size_t		k = key->names.n;
	Buf			b;

	buf_init(&b);
	buf_puts(&b, "WITH migrate_old AS (SELECT ");
	if (!locked)
		buf_puts(&b, "ctid AS migrate_place, ");
	for (size_t i = 0; i < k; i++)
		sql_append(&b, "%s%I AS migrate_k%d", i > 0 ? ", " : "", key->names.items[i], (int) i);
	for (size_t i = 0; i < bf->set.n; i++)
		sql_append(&b, ", %I AS migrate_o%d", bf->set.items[i].key, (int) i);
	buf_printf(&b, " FROM %s WHERE ", qtable);
	append_batch_rows(&b, key, bf, with_cursor);
	/* not a row this transaction changed already (null_old_sql's, or the first form's) */
	buf_printf(&b, " AND %s.xmin <> pg_current_xact_id()::xid", qtable);
	if (locked)
		buf_puts(&b, " FOR NO KEY UPDATE");
	buf_printf(&b, "), migrate_set AS (UPDATE %s", qtable);
	append_set_list(&b, bf);
	buf_puts(&b, " FROM migrate_old WHERE ");
	if (locked)
	{
		append_key_tuple(&b, key, target);
		buf_puts(&b, " = (");
		for (size_t i = 0; i < k; i++)
			buf_printf(&b, "%smigrate_old.migrate_k%zu", i > 0 ? ", " : "", i);
		buf_putc(&b, ')');
	}
	else
		buf_printf(&b, "%sctid = migrate_old.migrate_place", target);
	/* the range again: an index range scan of the table, whatever the join */
	buf_puts(&b, " AND ");
	append_key_range(&b, key, target, with_cursor);
	buf_puts(&b, " RETURNING ");
	for (size_t i = 0; i < k; i++)
		buf_printf(&b, "%smigrate_old.migrate_k%zu", i > 0 ? ", " : "", i);
	for (size_t i = 0; i < bf->set.n; i++)
		buf_printf(&b, ", migrate_old.migrate_o%zu", i);
	for (size_t i = 0; i < bf->set.n; i++)
		sql_append(&b, ", %s%I", target, bf->set.items[i].key);
	sql_append(&b, "), migrate_saved AS (INSERT INTO migrate.%I (saved) "
			   "SELECT array_agg(ROW(migrate_set.*)::migrate.%I) FROM migrate_set "
			   "HAVING count(*) > 0 RETURNING 1) "
			   "SELECT (SELECT count(*) FROM migrate_old), (SELECT count(*) FROM migrate_set)",
			   bf->save_batches, bf->save_table);
	free(target);
	return buf_detach(&b);
}

/*
 * The fast form of a saving batch, for the rows whose old values are all
 * NULL (a column just added: most backfills): one UPDATE of the batch's
 * rows where every set column is NULL, one index range scan and no join,
 * saving (key, NULL..., new values) as one row of the batches table: the
 * rows keyset_save_update_sql would save for them, so that rollback cannot
 * tell the two apart.  A row the application changed meanwhile is
 * rechecked on its newest version (READ COMMITTED): updated when its
 * values are still NULL (NULL is then what is overwritten), else skipped.
 * It saves the batch's cursor too (append_cursor_upsert, the rows done
 * counting its own), a round trip less per batch.  Returns how many rows
 * it changed.  The rows it skipped are left to the other forms, in the same
 * transaction (null_old_left_sql), and the cursor saved again after them.
 * $1..$k: the batch's upper key, $k+1..$2k: the cursor (when with_cursor),
 * then the cursor row's values (append_cursor_upsert).
 */
static char *
null_old_save_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
				  bool with_cursor)
{
	char	   *target = xasprintf("%s.", qtable);
	size_t		k = key->names.n;
	Buf			b;

	buf_init(&b);
	buf_printf(&b, "WITH migrate_set AS (UPDATE %s", qtable);
	append_set_list(&b, bf);
	buf_puts(&b, " WHERE ");
	append_batch_rows(&b, key, bf, with_cursor);
	/* NULL itself: a composite of NULL fields IS NULL too, but is a value to save */
	buf_puts(&b, " AND num_nulls(");
	for (size_t i = 0; i < bf->set.n; i++)
		sql_append(&b, "%s%s%I", i > 0 ? ", " : "", target, bf->set.items[i].key);
	buf_printf(&b, ") = %zu", bf->set.n);
	buf_puts(&b, " RETURNING ");
	for (size_t i = 0; i < k; i++)
		sql_append(&b, "%s%s%I AS migrate_k%d", i > 0 ? ", " : "", target, key->names.items[i],
				   (int) i);
	for (size_t i = 0; i < bf->set.n; i++)
		sql_append(&b, ", %s%I AS migrate_n%d", target, bf->set.items[i].key, (int) i);
	sql_append(&b, "), migrate_saved AS (INSERT INTO migrate.%I (saved) SELECT array_agg(ROW(",
			   bf->save_batches);
	for (size_t i = 0; i < k; i++)
		buf_printf(&b, "%smigrate_k%zu", i > 0 ? ", " : "", i);
	for (size_t i = 0; i < bf->set.n; i++)
		buf_puts(&b, ", NULL");
	for (size_t i = 0; i < bf->set.n; i++)
		buf_printf(&b, ", migrate_n%zu", i);
	sql_append(&b, ")::migrate.%I) FROM migrate_set HAVING count(*) > 0 "
			   "RETURNING cardinality(saved) AS migrate_n), migrate_cursor AS (", bf->save_table);
	append_cursor_upsert(&b, with_cursor ? 2 * (int) k + 1 : (int) k + 1,
						 "coalesce((SELECT migrate_n FROM migrate_saved), 0)");
	buf_puts(&b, " RETURNING 1) SELECT coalesce((SELECT migrate_n FROM migrate_saved), 0)");
	free(target);
	return buf_detach(&b);
}

/*
 * After null_old_save_sql: how many rows of the batch this transaction has
 * not changed (their old values are not NULL, or they were written since).
 */
static char *
null_old_left_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
				  bool with_cursor)
{
	Buf			b;

	buf_init(&b);
	buf_printf(&b, "SELECT count(*) FROM %s WHERE ", qtable);
	append_batch_rows(&b, key, bf, with_cursor);
	buf_printf(&b, " AND %s.xmin <> pg_current_xact_id()::xid", qtable);
	return buf_detach(&b);
}

/* "t.c::text IS NOT DISTINCT FROM migrate_saved.migrate_new_i::text": it still holds what the backfill wrote */
static void
append_still_backfilled(Buf *b, const char *target, const BackfillSpec *bf, size_t i)
{
	sql_append(b, "%s%I::text IS NOT DISTINCT FROM migrate_saved.", target, bf->set.items[i].key);
	append_new_value_column(b, i);
	buf_puts(b, "::text");
}

/*
 * One batch of a rollback that puts saved values back: the oldest saved
 * batch, deleted as its rows are put back in the same statement (so a
 * killed rollback resumes with the batches left, and no saved value is
 * gone before it is back).  A value goes back only where the row still
 * holds what the backfill wrote: a value the application wrote since wins
 * (compared as text, so that a type without equality compares too, and
 * 1.0 is not 1.00).  Returns the saved rows, the rows put back, and the
 * saved batches left.
 */
static char *
restore_batch_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf)
{
	char	   *target = xasprintf("%s.", qtable);
	Buf			b;

	buf_init(&b);
	sql_append(&b, "WITH migrate_batch AS (DELETE FROM migrate.%I "
			   "WHERE batch = (SELECT min(batch) FROM migrate.%I) RETURNING saved), "
			   "migrate_saved AS (SELECT r.* FROM migrate_batch, "
			   "unnest(migrate_batch.saved) AS r), migrate_put AS (UPDATE %s SET ",
			   bf->save_batches, bf->save_batches, qtable);
	for (size_t i = 0; i < bf->set.n; i++)
	{
		const char *column = bf->set.items[i].key;

		sql_append(&b, "%s%I = CASE WHEN ", i > 0 ? ", " : "", column);
		append_still_backfilled(&b, target, bf, i);
		sql_append(&b, " THEN migrate_saved.%I ELSE %s%I END", column, target, column);
	}
	buf_puts(&b, " FROM migrate_saved WHERE ");
	append_key_tuple(&b, key, target);
	buf_puts(&b, " = ");
	append_key_tuple(&b, key, "migrate_saved.");
	buf_puts(&b, " AND (");
	for (size_t i = 0; i < bf->set.n; i++)
	{
		buf_puts(&b, i > 0 ? " OR " : "");
		append_still_backfilled(&b, target, bf, i);
	}
	sql_append(&b, ") RETURNING 1) SELECT (SELECT count(*) FROM migrate_saved), "
			   "(SELECT count(*) FROM migrate_put), (SELECT count(*) FROM migrate.%I) "
			   "- (SELECT count(*) FROM migrate_batch)", bf->save_batches);
	free(target);
	return buf_detach(&b);
}

/*
 * The statement of one batch: the key range (cursor, upper], an index range
 * scan however far into the table the batch is (a join of the batch's keys
 * back to the table may be planned as a scan from the table's first key).
 * $1..$k: the batch's upper key, $k+1..$2k: the cursor (when with_cursor).
 */
static char *
keyset_batch_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
				 bool with_cursor)
{
	Buf			b;

	if (bf->save_table)
		return keyset_save_update_sql(qtable, key, bf, with_cursor, false);
	buf_init(&b);
	if (bf->copy_to)
	{
		/*
		 * The rows are read FOR SHARE: an update or delete of one waits for
		 * the batch, so that the sync trigger that mirrors it finds the copy;
		 * a row the trigger wrote first is kept.
		 */
		sql_append(&b, "INSERT INTO %Q (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s WHERE ",
				   bf->copy_to, key->copy_columns, key->copy_columns, qtable);
		append_batch_rows(&b, key, bf, with_cursor);
		buf_puts(&b, " FOR SHARE ON CONFLICT DO NOTHING");
		return buf_detach(&b);
	}
	buf_printf(&b, "UPDATE %s", qtable);
	append_set_list(&b, bf);
	buf_puts(&b, " WHERE ");
	append_batch_rows(&b, key, bf, with_cursor);
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
	/* Aliased: ORDER BY "id" would otherwise sort the text output. */
	for (size_t i = 0; i < key->names.n; i++)
		sql_append(&b, "%s%I::text AS migrate_b%d", i > 0 ? ", " : "", key->names.items[i], (int) i);
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

/* ---- the cursor in the database ---- */

/*
 * The database keeps the cursor, in migrate.backfill_cursors, written in
 * each batch's own transaction: cursor and rows commit together, so a run
 * killed at any moment resumes exactly after its last committed batch, even
 * without the state file.  The row also keeps the upper bound of the first
 * run, so that a resumed backfill covers the rows that existed when it
 * started, and no more; and, with the last batch, that the walk finished:
 * a finished backfill never runs again (until a rollback forgets it).
 */
static const char cursor_table_sql[] =
	"CREATE TABLE IF NOT EXISTS migrate.backfill_cursors ("
	"version bigint NOT NULL, step text NOT NULL, "
	"upper_bound text NOT NULL, cursor text NOT NULL, "
	"rows_done bigint NOT NULL, "
	"updated_at timestamptz NOT NULL DEFAULT now(), "
	"finished boolean NOT NULL DEFAULT false, "
	"rows_total bigint, "
	"started_at timestamptz NOT NULL DEFAULT now(), "
	"lower_bound text NOT NULL DEFAULT '', "
	"PRIMARY KEY (version, step))";

/* A table made by an earlier migrate lacks the newer columns. */
static const char cursor_table_upgrade_sql[] =
	"ALTER TABLE migrate.backfill_cursors "
	"ADD COLUMN IF NOT EXISTS finished boolean NOT NULL DEFAULT false, "
	"ADD COLUMN IF NOT EXISTS rows_total bigint, "
	"ADD COLUMN IF NOT EXISTS started_at timestamptz NOT NULL DEFAULT now(), "
	"ADD COLUMN IF NOT EXISTS lower_bound text NOT NULL DEFAULT ''";

/* True when the table exists with its newest column. */
static const char cursor_table_ready_sql[] =
	"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute "
	"WHERE attrelid = to_regclass('migrate.backfill_cursors') "
	"AND attname = 'lower_bound' AND NOT attisdropped)";

static bool
create_cursor_table(PGconn *conn, void *arg, Error *err)
{
	(void) arg;
	return db_exec(conn, "CREATE SCHEMA IF NOT EXISTS migrate", err) &&
		db_exec(conn, cursor_table_sql, err) &&
		db_exec(conn, cursor_table_upgrade_sql, err);
}

/* Whether the server can compress with lz4 (14 and later, when built with it). */
static bool
server_has_lz4(PGconn *conn)
{
	Error		err = {0};
	PGresult   *res = db_query(conn, "SELECT coalesce(bool_or('lz4' = ANY (enumvals)), false) "
							   "FROM pg_catalog.pg_settings "
							   "WHERE name = 'default_toast_compression'", 0, NULL, &err);
	bool		yes;

	if (res == NULL)
	{
		error_clear(&err);
		return false;
	}
	yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return yes;
}

/* A short transaction of the backfill's (txn.h), its retries told as the step's. */
static bool
batch_txn(ExecContext *ctx, const Migration *m, const Step *s, TxnBody body, void *arg,
		  Error *err)
{
	Txn			t = {0};

	t.conn = ctx->conn;
	t.settings = &ctx->settings;
	t.relation = s->lock_relation;
	t.deadlock_timeout_ms = &ctx->deadlock_timeout_ms;
	t.progress = ctx->progress;
	t.m = m;
	t.s = s;
	t.journal_row = -1;
	return txn_run(&t, body, arg, err);
}

/* Whether migrate.backfill_cursors exists (as this version makes it). */
static bool
cursor_table_ready(PGconn *conn, bool *ready, Error *err)
{
	PGresult   *res = db_query(conn, cursor_table_ready_sql, 0, NULL, err);

	if (res == NULL)
		return false;
	*ready = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

static bool
ensure_cursor_table(ExecContext *ctx, const Migration *m, const Step *s, Error *err)
{
	bool		ready;

	if (!cursor_table_ready(ctx->conn, &ready, err))
		return false;
	return ready || batch_txn(ctx, m, s, create_cursor_table, NULL, err);
}


/* A saved cursor: the bound and the cursor, encoded; the rows done. */
typedef struct SavedCursor
{
	bool		found;
	bool		finished;
	char	   *upper_bound;
	char	   *cursor;			/* "": no batch committed yet */
	int64_t		rows_done;
} SavedCursor;

static void
saved_cursor_free(SavedCursor *sc)
{
	free(sc->upper_bound);
	free(sc->cursor);
	memset(sc, 0, sizeof *sc);
}

/* The database's cursor of one step, if it has one. */
static bool
load_cursor_of(PGconn *conn, int64_t version, const char *step_id, SavedCursor *sc,
			   Error *err)
{
	char		v[32];
	const char *params[2];
	PGresult   *res;
	bool		ready;

	memset(sc, 0, sizeof *sc);
	if (!cursor_table_ready(conn, &ready, err))
		return false;
	if (!ready)
		return true;
	snprintf(v, sizeof v, "%lld", (long long) version);
	params[0] = v;
	params[1] = step_id;
	res = db_query(conn, "SELECT upper_bound, cursor, rows_done, finished "
				   "FROM migrate.backfill_cursors WHERE version = $1 AND step = $2",
				   2, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		sc->found = true;
		sc->upper_bound = xstrdup(PQgetvalue(res, 0, 0));
		sc->cursor = xstrdup(PQgetvalue(res, 0, 1));
		sc->rows_done = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		sc->finished = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	}
	PQclear(res);
	return true;
}

/* Saves the cursor in the batch's transaction (the caller's). */
static bool
save_cursor_db(PGconn *conn, const Migration *m, const char *row_id,
			   const char *upper_bound, const char *cursor, int64_t rows_done,
			   int64_t rows_total, bool finished, Error *err)
{
	CursorValues cv;
	PGresult   *res;
	Buf			b;

	cursor_values(&cv, m, row_id, upper_bound, cursor, rows_done, rows_total, finished);
	buf_init(&b);
	append_cursor_upsert(&b, 1, NULL);
	res = db_query(conn, b.data, CURSOR_PARAMS, cv.params, err);
	buf_free(&b);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* The state file's copy, after the batch committed (for people: the database's counts). */
static void
save_cursor_journal(ExecContext *ctx, const Migration *m, const Step *s,
					const char *cursor, int64_t rows_done)
{
	char	   *ckey;

	if (!ctx->journal)
		return;
	ckey = cursor_key(ctx, s);
	journal_save_cursor(ctx->journal, m->version, ckey, cursor, rows_done);
	free(ckey);
}

/* Forgets the database's cursor; nothing to do when it was never made. */
static void
forget_cursor_db(ExecContext *ctx, const Migration *m, const Step *s)
{
	Error		err = {0};
	char		version[32];
	const char *params[2];
	PGresult   *res;
	bool		ready = false;

	if (!cursor_table_ready(ctx->conn, &ready, &err) || !ready)
	{
		error_clear(&err);
		return;
	}
	snprintf(version, sizeof version, "%lld", (long long) m->version);
	params[0] = version;
	params[1] = s->id;
	res = db_query(ctx->conn, "DELETE FROM migrate.backfill_cursors WHERE version = $1 "
				   "AND (step = $2 OR left(step, length($2) + 1) = $2 || '#')", 2, params, &err);
	PQclear(res);
	error_clear(&err);
}

bool
backfill_step_state(ExecContext *ctx, const Migration *m, const Step *s,
					BackfillState *state, Error *err)
{
	BackfillProgress bp;

	*state = BACKFILL_NOT_STARTED;
	if (!backfill_progress_read(ctx->conn, m->version, s->id, &bp, err))
		return false;
	if (bp.finished)
		*state = BACKFILL_FINISHED;
	else if (bp.moved)
		*state = BACKFILL_STARTED;
	return true;
}

bool
backfill_progress_read(PGconn *conn, int64_t version, const char *step_id,
					   BackfillProgress *out, Error *err)
{
	char		v[32];
	const char *params[2];
	PGresult   *res;
	bool		ready;

	memset(out, 0, sizeof *out);
	out->rows_total = -1;
	if (!cursor_table_ready(conn, &ready, err))
		return false;
	if (!ready)
		return true;
	snprintf(v, sizeof v, "%lld", (long long) version);
	params[0] = v;
	params[1] = step_id;
	/*
	 * The step's row, and those of its ranges ("<step>#<n>", workers): the
	 * step's row has the rows of all once it finished.
	 */
	res = db_query(conn,
				   "SELECT count(*), CASE WHEN bool_or(finished AND step = $2) "
				   "THEN max(rows_done) FILTER (WHERE step = $2) "
				   "ELSE coalesce(sum(rows_done), 0) END, max(rows_total), "
				   "coalesce(bool_or(finished AND step = $2), false), "
				   "coalesce(extract(epoch FROM max(updated_at) - min(started_at)) * 1000, 0)::bigint, "
				   "coalesce(extract(epoch FROM now() - max(updated_at)) * 1000, 0)::bigint, "
				   "coalesce(bool_or(rows_done > 0 OR cursor <> lower_bound), false) "
				   "FROM migrate.backfill_cursors WHERE version = $1 "
				   "AND (step = $2 OR left(step, length($2) + 1) = $2 || '#')",
				   2, params, err);
	if (res == NULL)
		return false;
	out->found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	out->rows_done = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (!PQgetisnull(res, 0, 2))
		out->rows_total = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	out->finished = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	out->elapsed_ms = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	out->idle_ms = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	out->moved = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	out->rows_per_sec = out->elapsed_ms > 0
		? (double) out->rows_done * 1000.0 / (double) out->elapsed_ms : 0.0;
	if (out->rows_total >= 0 && out->rows_total < out->rows_done)
		out->rows_total = out->rows_done;
	PQclear(res);
	return true;
}

/*
 * The step's completion in the ledger, written in the transaction of its
 * last batch (the caller's): the rows and the fact that the step is done
 * commit together.  An inverse step's id is its owner's with ".r<n>".
 */
static bool
record_finished(PGconn *conn, const Migration *m, const Step *s, Error *err)
{
	return ledger_record_step(conn, m->version, s,
							  strstr(s->id, ".r") ? LEDGER_ROLLBACK : LEDGER_APPLY, err);
}

/* ---- the loop ---- */

/*
 * One batch, run in its own short transaction: its statement, then the
 * cursor it leads to, saved in the same transaction.
 */
typedef struct Batch
{
	const Migration *m;
	const Step *s;
	const char *row_id;			/* its cursor row */
	/* finds the batch's upper key first (none: upper_value) */
	const char *upper_value;	/* a span walk: the upper key, computed */
	const char *upper_sql;
	const char **upper_params;
	int			n_upper_params;
	const StrList *bound;		/* the last key: the batch's upper key at the end */
	/* the batch's statement; its first k params are the upper key */
	const char *batch_sql;
	const char *locked_sql;		/* saving: for the rows batch_sql skipped */
	const char *null_old_sql;	/* saving: first, for the rows whose old values are NULL */
	const char *null_left_sql;	/* and the rows it left */
	bool	   *null_old_fast;	/* the walk's: whether null_old_sql still pays */
	int64_t		span_rows;		/* a span walk: the most rows the batch can hold; else -1 */
	bool		lz4;			/* saving: compress the saved batch with lz4 */
	const char **batch_params;
	int			n_batch_params;
	const char *bound_text;		/* encoded, for the saved cursor */
	int64_t		rows_before;
	int64_t		rows_total;
	/* results */
	StrList		upper;			/* the batch's upper key */
	char	   *cursor_text;	/* the cursor after this batch */
	int64_t		updated;
	bool		finished;		/* the batch reached the bound */
} Batch;

/*
 * The fast form of a saving batch (null_old_save_sql); *rest: whether the
 * other forms must run for rows it did not change.  A span of an integer
 * key holds at most span rows: all changed, none is left; else the rows
 * left are counted.  False on an error.
 */
static bool
null_old_batch(PGconn *conn, Batch *bt, bool *rest, Error *err)
{
	CursorValues cv;
	PGresult   *res;
	int64_t		changed,
				left;

	/* the cursor row's values after the batch's own (room for them: see backfill_keyset) */
	cursor_values(&cv, bt->m, bt->row_id, bt->bound_text, bt->cursor_text, bt->rows_before,
				  bt->rows_total, bt->finished);
	for (int i = 0; i < CURSOR_PARAMS; i++)
		bt->batch_params[bt->n_batch_params + i] = cv.params[i];
	res = db_query(conn, bt->null_old_sql, bt->n_batch_params + CURSOR_PARAMS, bt->batch_params,
				   err);
	if (res == NULL)
		return false;
	changed = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	bt->updated += changed;
	*rest = bt->span_rows < 0 || changed < bt->span_rows;
	if (!*rest)
		return true;
	res = db_query(conn, bt->null_left_sql, bt->n_batch_params, bt->batch_params, err);
	if (res == NULL)
		return false;
	left = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	*rest = left > 0;
	/* mostly old values to save: the fast form is a wasted scan from now on */
	if (left > changed)
		*bt->null_old_fast = false;
	return true;
}

/* The batch's statement, and when saving, the locked form for the rows it skipped. */
static bool
general_batch(PGconn *conn, Batch *bt, Error *err)
{
	PGresult   *res = db_query(conn, bt->batch_sql, bt->n_batch_params, bt->batch_params, err);

	if (res == NULL)
		return false;
	if (bt->locked_sql)
	{
		/* read, changed: rows changed since the snapshot were skipped */
		bool		skipped = strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) != 0;

		bt->updated += strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		PQclear(res);
		if (skipped)
		{
			res = db_query(conn, bt->locked_sql, bt->n_batch_params, bt->batch_params, err);
			if (res == NULL)
				return false;
			bt->updated += strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			PQclear(res);
		}
	}
	else
	{
		bt->updated += strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	return true;
}

static bool
batch_body(PGconn *conn, void *arg, Error *err)
{
	Batch	   *bt = arg;
	PGresult   *res;
	int			k = (int) bt->bound->n;
	bool		rest = true;	/* rows left for the general forms */

	/*
	 * The planner misjudges a row-comparison key range (a composite key) as
	 * a large part of the table; past jit_above_cost each small batch would
	 * then spend more time compiling than updating.  LOCAL: safe behind a
	 * transaction-pooling PgBouncer.  And a saved batch is compressed with
	 * lz4, at a fraction of pglz's time.
	 */
	if (!db_exec(conn, bt->lz4 ? "SELECT set_config('jit', 'off', true), "
				 "set_config('default_toast_compression', 'lz4', true)"
				 : "SELECT set_config('jit', 'off', true)", err))
		return false;

	strlist_free(&bt->upper);
	if (bt->upper_value)
		strlist_add(&bt->upper, bt->upper_value);
	else
	{
		res = db_query(conn, bt->upper_sql, bt->n_upper_params, bt->upper_params, err);
		if (res == NULL)
			return false;
		for (int i = 0; i < k; i++)
			strlist_add(&bt->upper, PQntuples(res) == 1 ? PQgetvalue(res, 0, i)
						: bt->bound->items[i]);
		PQclear(res);
	}
	for (int i = 0; i < k; i++)
		bt->batch_params[i] = bt->upper.items[i];
	free(bt->cursor_text);
	bt->cursor_text = backfill_cursor_encode(&bt->upper);
	bt->finished = strcmp(bt->cursor_text, bt->bound_text) == 0;

	bt->updated = 0;
	if (bt->null_old_sql && *bt->null_old_fast && !null_old_batch(conn, bt, &rest, err))
		return false;
	/* the fast form saved the cursor, counting its rows: again when others ran */
	if (rest && !(general_batch(conn, bt, err) &&
				  save_cursor_db(conn, bt->m, bt->row_id, bt->bound_text, bt->cursor_text,
								 bt->rows_before + bt->updated, bt->rows_total, bt->finished,
								 err)))
		return false;
	return !bt->finished || strcmp(bt->row_id, bt->s->id) != 0 ||
		record_finished(conn, bt->m, bt->s, err);
}

/* Runs one batch in its own short transaction, under the executor's rules. */
static bool
run_batch(ExecContext *ctx, Batch *bt, Error *err)
{
	return batch_txn(ctx, bt->m, bt->s, batch_body, bt, err);
}

/* A walk with nothing to do (an empty table) is finished at once, and says so. */
typedef struct EmptyWalk
{
	const Migration *m;
	const Step *s;
	const char *row_id;
	const char *bound_text;		/* a range's end, kept; "" for a whole walk */
} EmptyWalk;

static bool
empty_walk_body(PGconn *conn, void *arg, Error *err)
{
	EmptyWalk  *ew = arg;

	return save_cursor_db(conn, ew->m, ew->row_id, ew->bound_text, ew->bound_text, 0, 0, true,
						  err) &&
		(strcmp(ew->row_id, ew->s->id) != 0 || record_finished(conn, ew->m, ew->s, err));
}

int64_t
backfill_next_batch_size(int64_t size, int64_t took_ms, int64_t target_ms,
						 int64_t lo, int64_t hi)
{
	double		factor;

	if (took_ms < 1)
		took_ms = 1;
	factor = (double) target_ms / (double) took_ms;
	if (factor > 4.0)
		factor = 4.0;
	if (factor < 0.5)
		factor = 0.5;
	size = (int64_t) ((double) size * factor);
	if (size < lo)
		size = lo;
	if (size > hi)
		size = hi;
	return size;
}

/*
 * Waits while replicas lag more than max_replica_lag.  Asked at most once
 * per LAG_POLL_MS while they do not (a batch takes about batch_time: one
 * question per batch was a round trip of each, for nothing).
 */
static void
throttle_for_replicas(ExecContext *ctx, const Migration *m, const Step *s,
					  Replicas *rp, int64_t done, int64_t total,
					  int64_t batch)
{
	if (ctx->settings.max_replica_lag_ms <= 0 || now_ms() - rp->asked_at < LAG_POLL_MS)
		return;
	while (!txn_interrupted() &&
		   replica_lag_ms(ctx, rp) > ctx->settings.max_replica_lag_ms)
	{
		progress_backfill(ctx->progress, m, s, done, total, batch, 0, true);
		txn_sleep(LAG_POLL_MS);
	}
	rp->asked_at = now_ms();
}

static double
rows_per_sec(int64_t rows, int64_t since_ms)
{
	return (double) rows * 1000.0 / (double) (now_ms() - since_ms + 1);
}

/* How a walk ends: interrupted, failed, or finished. */
static bool
finish_walk(ExecContext *ctx, const Migration *m, const Step *s, bool ok,
			int64_t done, Error *err)
{
	if (ok && txn_interrupted())
	{
		char	   *what = xasprintf("after %lld rows of the backfill", (long long) done);

		ok = txn_interrupted_error(err, what);
		free(what);
	}
	else if (ok && ctx->journal)
	{
		char	   *key = cursor_key(ctx, s);

		journal_save_cursor(ctx->journal, m->version, key, "", 0);
		free(key);
	}
	return ok;
}

/*
 * A single integer key can be walked by spans of key values instead:
 * (cursor, cursor + size] holds at most size rows, as keys are unique, so a
 * batch is never larger than asked, and its upper key costs no walk of the
 * index (which, at 10M rows, was a tenth of the whole backfill).  Sparse
 * keys make spans hold fewer rows; batches then run fast and the span grows.
 */
static bool
integer_key(const KeyInfo *key)
{
	const char *type = key->types.items[0];

	return key->names.n == 1 &&
		(strcmp(type, "integer") == 0 || strcmp(type, "bigint") == 0 ||
		 strcmp(type, "smallint") == 0);
}

bool
backfill_span_upper(const char *cursor, int64_t span, const char *bound, char *out, size_t outlen)
{
	char	   *end;
	long long	c = strtoll(cursor, &end, 10);
	long long	b;

	if (*end != '\0')
		return false;
	b = strtoll(bound, &end, 10);
	if (*end != '\0')
		return false;
	/* c < b: their difference fits an unsigned long long */
	if (c >= b || (unsigned long long) b - (unsigned long long) c <= (unsigned long long) span)
		snprintf(out, outlen, "%lld", b);
	else
		snprintf(out, outlen, "%lld", c + span);
	return true;
}

/*
 * Where a walk starts and ends.  Resumed: its own saved cursor and bound.
 * Fresh: from the first key to the last key there is now; but the undo of
 * a backfill (down, or the saved values put back) goes exactly as far as
 * that backfill went, its cursor when it was cut short, its bound when it
 * finished, so that only the rows it changed are changed back.
 */
typedef struct WalkRange
{
	StrList		cursor;			/* empty: from the first key */
	StrList		bound;
	bool		empty;			/* nothing to walk */
	bool		finished;		/* finished before: nothing to do */
	int64_t		done;
	int64_t		total;
} WalkRange;

static void
strlist_copy(StrList *dst, const StrList *src)
{
	for (size_t i = 0; i < src->n; i++)
		strlist_add(dst, src->items[i]);
}

static bool
decode_key(const char *text, size_t k, StrList *out)
{
	if (text == NULL || !backfill_cursor_decode(text, out) || out->n != k)
	{
		strlist_free(out);
		return false;
	}
	return true;
}

/*
 * One walk: the whole key, or one range of it (a worker's, or the undo of
 * one), with its own cursor row.
 */
typedef struct Walk
{
	const char *row_id;			/* its row of migrate.backfill_cursors */
	const StrList *lower;		/* a range's start (exclusive); NULL: the first key */
	const StrList *upper;		/* a range's end; NULL: as load_walk_range says */
	struct Workers *shared;		/* NULL: alone (progress, throttle, journal its own) */
} Walk;

static bool
load_walk_range(ExecContext *ctx, const Migration *m, const Step *s, const char *qtable,
				const KeyInfo *key, const Walk *walk, WalkRange *wr, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	size_t		k = key->names.n;
	SavedCursor sc;

	memset(wr, 0, sizeof *wr);
	wr->total = estimate_rows(ctx, bf->table);
	if (!load_cursor_of(ctx->conn, m->version, walk->row_id, &sc, err))
		return false;
	if (sc.finished)
	{
		wr->finished = true;
		wr->done = sc.rows_done;
		saved_cursor_free(&sc);
		return true;
	}
	if (sc.found && decode_key(sc.upper_bound, k, &wr->bound))
	{
		if (sc.cursor[0] != '\0' && decode_key(sc.cursor, k, &wr->cursor))
			wr->done = sc.rows_done;
		saved_cursor_free(&sc);
		return true;
	}
	saved_cursor_free(&sc);

	if (walk->upper)
	{
		strlist_copy(&wr->bound, walk->upper);
		if (walk->lower)
			strlist_copy(&wr->cursor, walk->lower);
		return true;
	}
	if (bf->undo_of)
	{
		if (!load_cursor_of(ctx->conn, m->version, bf->undo_of, &sc, err))
			return false;
		if (sc.found)
		{
			const char *reach = sc.finished ? sc.upper_bound : sc.cursor;

			wr->empty = reach[0] == '\0' || !decode_key(reach, k, &wr->bound);
			wr->total = sc.rows_done;
			saved_cursor_free(&sc);
			return true;
		}
		/* no cursor of it (applied by a plain run): the whole table */
	}
	return load_upper_bound(ctx->conn, qtable, key, &wr->bound, &wr->empty, err);
}

static void workers_throttle(struct Workers *w);
static void workers_add_rows(struct Workers *w, int64_t rows);
static bool workers_stopped(struct Workers *w);

static bool
backfill_keyset(ExecContext *ctx, const Migration *m, const Step *s,
				const char *qtable, const KeyInfo *key, Replicas *rp,
				const Walk *walk, int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	int			k = (int) key->names.n;
	WalkRange	wr;
	bool		fixed = bf->batch_size > 0 || ctx->settings.batch_size > 0;
	int64_t		batch = bf->batch_size > 0 ? bf->batch_size
		: ctx->settings.batch_size > 0 ? ctx->settings.batch_size : BATCH_START;
	int64_t		delay = bf->batch_delay_ms >= 0 ? bf->batch_delay_ms : ctx->settings.batch_delay_ms;
	int64_t		done_at_start;
	int64_t		t_start = now_ms();
	char	   *upper_first,
			   *upper_next,
			   *batch_first,
			   *batch_next,
			   *locked_first = NULL,
			   *locked_next = NULL,
			   *null_first = NULL,
			   *null_next = NULL,
			   *left_first = NULL,
			   *left_next = NULL,
			   *bound_text;
	const char **upper_params;
	const char **batch_params;
	char		offset[32];
	char		span_bound[32];
	bool		by_span = !fixed && integer_key(key);
	bool		null_old_fast = true;
	bool		lz4 = false;
	bool		ok;

	if (!load_walk_range(ctx, m, s, qtable, key, walk, &wr, err))
		return false;
	*rows_out = wr.done;
	if (wr.finished)
		return true;
	if (wr.empty || (wr.cursor.n == (size_t) k && strlist_equal(&wr.cursor, &wr.bound)))
	{
		char	   *end = walk->upper ? backfill_cursor_encode(walk->upper) : xstrdup("");
		EmptyWalk	ew = {m, s, walk->row_id, end};
		bool		done;

		strlist_free(&wr.cursor);
		strlist_free(&wr.bound);
		done = batch_txn(ctx, m, s, empty_walk_body, &ew, err);
		free(end);
		return done;
	}
	bound_text = backfill_cursor_encode(&wr.bound);
	done_at_start = wr.done;
	upper_params = xcalloc((size_t) (2 * k + 1), sizeof(char *));
	/* and after them, the cursor row's values of null_old_batch */
	batch_params = xcalloc((size_t) (2 * k + CURSOR_PARAMS), sizeof(char *));
	upper_first = keyset_upper_sql(qtable, key, false);
	upper_next = keyset_upper_sql(qtable, key, true);
	batch_first = keyset_batch_sql(qtable, key, bf, false);
	batch_next = keyset_batch_sql(qtable, key, bf, true);
	if (bf->save_table)
	{
		locked_first = keyset_save_update_sql(qtable, key, bf, false, true);
		locked_next = keyset_save_update_sql(qtable, key, bf, true, true);
		null_first = null_old_save_sql(qtable, key, bf, false);
		null_next = null_old_save_sql(qtable, key, bf, true);
		left_first = null_old_left_sql(qtable, key, bf, false);
		left_next = null_old_left_sql(qtable, key, bf, true);
		lz4 = server_has_lz4(ctx->conn);
	}

	ok = true;
	for (;;)
	{
		Batch		bt = {0};
		int64_t		t0 = now_ms();
		int			np = 0;
		bool		with_cursor = wr.cursor.n == (size_t) k;

		if (walk->shared)
			workers_throttle(walk->shared);
		else
			throttle_for_replicas(ctx, m, s, rp, wr.done, wr.total, batch);
		if (txn_interrupted() || (walk->shared && workers_stopped(walk->shared)))
			break;
		for (int i = 0; i < k; i++)
			upper_params[np++] = wr.bound.items[i];
		for (int i = 0; with_cursor && i < k; i++)
		{
			upper_params[np++] = wr.cursor.items[i];
			batch_params[k + i] = wr.cursor.items[i];
		}
		snprintf(offset, sizeof offset, "%lld", (long long) batch - 1);
		upper_params[np++] = offset;
		bt.m = m;
		bt.s = s;
		bt.row_id = walk->row_id;
		bt.upper_sql = with_cursor ? upper_next : upper_first;
		if (by_span && with_cursor &&
			backfill_span_upper(wr.cursor.items[0], batch, wr.bound.items[0], span_bound,
								sizeof span_bound))
			bt.upper_value = span_bound;
		bt.upper_params = upper_params;
		bt.n_upper_params = np;
		bt.bound = &wr.bound;
		bt.batch_sql = with_cursor ? batch_next : batch_first;
		bt.locked_sql = with_cursor ? locked_next : locked_first;
		bt.null_old_sql = with_cursor ? null_next : null_first;
		bt.null_left_sql = with_cursor ? left_next : left_first;
		bt.null_old_fast = &null_old_fast;
		bt.lz4 = lz4;
		bt.span_rows = bt.upper_value
			? strtoll(span_bound, NULL, 10) - strtoll(wr.cursor.items[0], NULL, 10) : -1;
		bt.batch_params = batch_params;
		bt.n_batch_params = with_cursor ? 2 * k : k;
		bt.bound_text = bound_text;
		bt.rows_before = wr.done;
		bt.rows_total = wr.total > wr.done ? wr.total : wr.done;
		ok = run_batch(ctx, &bt, err);
		if (ok)
		{
			strlist_free(&wr.cursor);
			wr.cursor = bt.upper;
			memset(&bt.upper, 0, sizeof bt.upper);
			wr.done += bt.updated;
			if (walk->shared)
				workers_add_rows(walk->shared, bt.updated);
			else
			{
				note_batch_committed(ctx, rp);
				save_cursor_journal(ctx, m, s, bt.cursor_text, wr.done);
				if (wr.total < wr.done)
					wr.total = wr.done;
				progress_backfill(ctx->progress, m, s, wr.done, wr.total, batch,
								  rows_per_sec(wr.done - done_at_start, t_start), false);
			}
			/* keys too sparse for the largest span to fill a batch: walk the index */
			if (by_span && batch == BATCH_MAX &&
				now_ms() - t0 < ctx->settings.batch_time_ms / 4)
				by_span = false;
			if (!fixed)
				batch = backfill_next_batch_size(batch, now_ms() - t0,
												 ctx->settings.batch_time_ms,
												 BATCH_MIN, BATCH_MAX);
		}
		strlist_free(&bt.upper);
		free(bt.cursor_text);
		if (!ok || bt.finished)
			break;
		if (delay > 0)
			txn_sleep(delay);
	}
	if (walk->shared == NULL)
		ok = finish_walk(ctx, m, s, ok, wr.done, err);
	free(upper_first);
	free(upper_next);
	free(batch_first);
	free(batch_next);
	free(locked_first);
	free(locked_next);
	free(null_first);
	free(null_next);
	free(left_first);
	free(left_next);
	free(bound_text);
	free(upper_params);
	free(batch_params);
	strlist_free(&wr.bound);
	strlist_free(&wr.cursor);
	*rows_out = wr.done;
	return ok;
}

/* ---- workers: disjoint key ranges on connections of their own ---- */

/*
 * backfill_workers: N connections fill disjoint ranges of a single integer
 * key at once, each range a walk of its own (cursor row "<step>#<n>" with
 * its lower bound, resumable alone), each batch its own short transaction.
 * They are throttled together: one at a time asks whether the replicas
 * lag (on the run's own connection, idle meanwhile), and all wait while
 * they do.  The run's thread reports the progress of all, and marks the
 * step finished once every range is.
 */
typedef struct Range
{
	char	   *row_id;
	StrList		lower;			/* exclusive; empty: from the first key */
	StrList		upper;
} Range;

typedef struct Workers
{
	pthread_mutex_t lock;
	ExecContext *ctx;			/* the run's: its connection for the lag question */
	const Migration *m;
	const Step *s;
	const char *qtable;
	const KeyInfo *key;
	Replicas   *rp;
	Range	   *ranges;
	size_t		n_ranges;
	size_t		next;			/* the next range to take */
	int64_t		rows;			/* done by all, this run */
	int64_t		lag_checked_at;
	bool		lagging;
	bool		failed;
	Error		err;			/* the first failure */
	int			running;
} Workers;

static void
workers_throttle(Workers *w)
{
	for (;;)
	{
		bool		lagging;

		pthread_mutex_lock(&w->lock);
		if (w->ctx->settings.max_replica_lag_ms > 0 && now_ms() - w->lag_checked_at >= LAG_POLL_MS)
		{
			w->lagging = replica_lag_ms(w->ctx, w->rp) > w->ctx->settings.max_replica_lag_ms;
			w->lag_checked_at = now_ms();
		}
		lagging = w->lagging && !w->failed;
		pthread_mutex_unlock(&w->lock);
		if (!lagging || txn_interrupted())
			return;
		txn_sleep(LAG_POLL_MS);
	}
}

static void
workers_add_rows(Workers *w, int64_t rows)
{
	pthread_mutex_lock(&w->lock);
	w->rows += rows;
	pthread_mutex_unlock(&w->lock);
}

static bool
workers_stopped(Workers *w)
{
	bool		stopped;

	pthread_mutex_lock(&w->lock);
	stopped = w->failed;
	pthread_mutex_unlock(&w->lock);
	return stopped;
}

/* A connection like the run's (same server, database, user, password). */
static PGconn *
connect_like(PGconn *conn, Error *err)
{
	PQconninfoOption *opts = PQconninfo(conn);
	const char **keys;
	const char **values;
	size_t		n = 0;
	PGconn	   *c;

	if (opts == NULL)
	{
		error_set(err, EXIT_STEP_FAILED, "backfill: out of memory");
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	keys = xcalloc(n + 1, sizeof(char *));
	values = xcalloc(n + 1, sizeof(char *));
	n = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && o->val[0])
		{
			keys[n] = o->keyword;
			values[n++] = o->val;
		}
	c = PQconnectdbParams(keys, values, 0);
	free(keys);
	free(values);
	PQconninfoFree(opts);
	if (PQstatus(c) != CONNECTION_OK)
	{
		error_set(err, EXIT_STEP_FAILED, "backfill worker: cannot connect: %s",
				  PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

typedef struct Worker
{
	Workers    *w;
	PGconn	   *conn;
	pthread_t	thread;
} Worker;

static void *
worker_main(void *arg)
{
	Worker	   *wk = arg;
	Workers    *w = wk->w;
	ExecContext ctx = *w->ctx;

	/* its own connection; the run's journal and progress stay the run's thread's */
	ctx.conn = wk->conn;
	ctx.journal = NULL;
	ctx.progress = NULL;
	for (;;)
	{
		Range	   *r = NULL;
		Walk		walk = {0};
		Error		err = {0};
		int64_t		rows = 0;

		pthread_mutex_lock(&w->lock);
		if (!w->failed && w->next < w->n_ranges)
			r = &w->ranges[w->next++];
		pthread_mutex_unlock(&w->lock);
		if (r == NULL || txn_interrupted())
			break;
		walk.row_id = r->row_id;
		walk.lower = r->lower.n > 0 ? &r->lower : NULL;
		walk.upper = &r->upper;
		walk.shared = w;
		if (!backfill_keyset(&ctx, w->m, w->s, w->qtable, w->key, NULL, &walk, &rows, &err))
		{
			pthread_mutex_lock(&w->lock);
			if (!w->failed)
			{
				w->failed = true;
				w->err = err;
			}
			else
				error_clear(&err);
			pthread_mutex_unlock(&w->lock);
			break;
		}
	}
	pthread_mutex_lock(&w->lock);
	w->running--;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The step's own row, finished with the rows of all its ranges. */
typedef struct RangesDone
{
	const Migration *m;
	const Step *s;
	const char *bound_text;
	int64_t		rows;
} RangesDone;

static bool
ranges_done_body(PGconn *conn, void *arg, Error *err)
{
	RangesDone *rd = arg;

	return save_cursor_db(conn, rd->m, rd->s->id, rd->bound_text, rd->bound_text, rd->rows,
						  rd->rows, true, err) &&
		record_finished(conn, rd->m, rd->s, err);
}

/* Rows done in the step's ranges, as the database has them. */
static bool
ranges_rows(PGconn *conn, const Migration *m, const Step *s, int64_t *rows, Error *err)
{
	BackfillProgress bp;

	if (!backfill_progress_read(conn, m->version, s->id, &bp, err))
		return false;
	*rows = bp.rows_done;
	return true;
}

/*
 * Walks the ranges on up to n_workers connections; then marks the step
 * finished.  Each range resumes from its own cursor row.
 */
static bool
walk_ranges(ExecContext *ctx, const Migration *m, const Step *s, const char *qtable,
			const KeyInfo *key, Replicas *rp, Range *ranges, size_t n_ranges,
			int n_workers, int64_t *rows_out, Error *err)
{
	/* the step's bound: the end of its last range */
	char	   *bound_text = backfill_cursor_encode(&ranges[n_ranges - 1].upper);
	Workers		w;
	Worker	   *wk;
	int			started = 0;
	int64_t		t_start = now_ms();
	int64_t		total = estimate_rows(ctx, s->backfill->table);
	int64_t		before = 0;
	bool		ok = true;

	if (n_workers > (int) n_ranges)
		n_workers = (int) n_ranges;
	memset(&w, 0, sizeof w);
	pthread_mutex_init(&w.lock, NULL);
	w.ctx = ctx;
	w.m = m;
	w.s = s;
	w.qtable = qtable;
	w.key = key;
	w.rp = rp;
	w.ranges = ranges;
	w.n_ranges = n_ranges;
	wk = xcalloc((size_t) n_workers + 1, sizeof(Worker));
	ok = ranges_rows(ctx->conn, m, s, &before, err);
	for (int i = 0; ok && i < n_workers; i++)
	{
		wk[i].w = &w;
		wk[i].conn = connect_like(ctx->conn, err);
		ok = wk[i].conn != NULL;
	}
	for (int i = 0; ok && i < n_workers; i++)
	{
		pthread_mutex_lock(&w.lock);
		w.running++;
		pthread_mutex_unlock(&w.lock);
		if (pthread_create(&wk[i].thread, NULL, worker_main, &wk[i]) != 0)
		{
			pthread_mutex_lock(&w.lock);
			w.running--;
			pthread_mutex_unlock(&w.lock);
			ok = error_set(err, EXIT_STEP_FAILED, "backfill: cannot start worker %d", i + 1);
			break;
		}
		started++;
	}
	/* the run's thread: progress of all, until every worker is done */
	for (;;)
	{
		int			running;
		int64_t		rows;
		bool		lagging;

		pthread_mutex_lock(&w.lock);
		running = w.running;
		rows = w.rows;
		lagging = w.lagging;
		if (!ok)
			w.failed = true;
		pthread_mutex_unlock(&w.lock);
		if (running == 0)
			break;
		if (ctx->progress)
			progress_backfill(ctx->progress, m, s, before + rows,
							  total > before + rows ? total : before + rows, 0,
							  rows_per_sec(rows, t_start), lagging);
		/* not txn_sleep: the workers see the interrupt, and end their batch first */
		sleep_ms(200);
	}
	for (int i = 0; i < started; i++)
		pthread_join(wk[i].thread, NULL);
	for (int i = 0; i < n_workers; i++)
		if (wk[i].conn)
			PQfinish(wk[i].conn);
	free(wk);
	pthread_mutex_destroy(&w.lock);
	if (ok && w.failed)
	{
		*err = w.err;
		ok = false;
	}
	else
		error_clear(&w.err);
	*rows_out = before + w.rows;
	if (ok && !txn_interrupted())
	{
		RangesDone	rd = {m, s, bound_text, before + w.rows};

		ok = batch_txn(ctx, m, s, ranges_done_body, &rd, err);
	}
	free(bound_text);
	return finish_walk(ctx, m, s, ok, *rows_out, err);
}

static void
ranges_free(Range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		free(r[i].row_id);
		strlist_free(&r[i].lower);
		strlist_free(&r[i].upper);
	}
	free(r);
}

/* The ranges rows of a step, "<id>#<n>", in order; none when it has none. */
static bool
load_ranges(PGconn *conn, const Migration *m, const char *step_id, size_t k, Range **out,
			size_t *n, SavedCursor *reach, Error *err)
{
	char		v[32];
	const char *params[2];
	PGresult   *res;

	*out = NULL;
	*n = 0;
	snprintf(v, sizeof v, "%lld", (long long) m->version);
	params[0] = v;
	params[1] = step_id;
	res = db_query(conn, "SELECT step, lower_bound, upper_bound, cursor, finished "
				   "FROM migrate.backfill_cursors WHERE version = $1 "
				   "AND left(step, length($2) + 1) = $2 || '#' "
				   "ORDER BY substr(step, length($2) + 2)::int", 2, params, err);
	if (res == NULL)
		return false;
	*out = xcalloc((size_t) PQntuples(res) + 1, sizeof(Range));
	for (int i = 0; i < PQntuples(res); i++)
	{
		Range	   *r = &(*out)[*n];
		/* an undo goes only as far as the range went: its cursor, or its end */
		const char *upper = reach && strcmp(PQgetvalue(res, i, 4), "t") != 0
			? PQgetvalue(res, i, 3) : PQgetvalue(res, i, 2);

		r->row_id = xstrdup(PQgetvalue(res, i, 0));
		if (PQgetvalue(res, i, 1)[0] != '\0')
			decode_key(PQgetvalue(res, i, 1), k, &r->lower);
		if (!decode_key(upper, k, &r->upper) ||
			(reach && r->lower.n == k && strlist_equal(&r->lower, &r->upper)))
		{
			/* nothing done in it (an undo), or not a key: no walk */
			free(r->row_id);
			strlist_free(&r->lower);
			strlist_free(&r->upper);
			continue;
		}
		(*n)++;
	}
	PQclear(res);
	return true;
}

/* Creates the ranges rows of a fresh step: N spans of the key values. */
typedef struct NewRanges
{
	const Migration *m;
	Range	   *ranges;
	size_t		n;
} NewRanges;

static bool
new_ranges_body(PGconn *conn, void *arg, Error *err)
{
	NewRanges  *nr = arg;
	char		v[32];

	snprintf(v, sizeof v, "%lld", (long long) nr->m->version);
	for (size_t i = 0; i < nr->n; i++)
	{
		char	   *lower = backfill_cursor_encode(&nr->ranges[i].lower);
		char	   *upper = backfill_cursor_encode(&nr->ranges[i].upper);
		const char *params[4] = {v, nr->ranges[i].row_id, lower, upper};
		PGresult   *res = db_query(conn,
									"INSERT INTO migrate.backfill_cursors "
									"(version, step, lower_bound, upper_bound, cursor, rows_done) "
									"VALUES ($1, $2, $3, $4, $3, 0) ON CONFLICT DO NOTHING",
									4, params, err);

		free(lower);
		free(upper);
		if (res == NULL)
			return false;
		PQclear(res);
	}
	return true;
}

/* The range rows' names: "<step>#<n>". */
static char *
range_row_id(const char *step_id, size_t n)
{
	return xasprintf("%s#%zu", step_id, n + 1);
}

/*
 * A backfill with backfill_workers > 1 on a single integer key: the key's
 * values from the first to the last cut into that many spans, walked at
 * once; resumed, the ranges saved by the first run.
 */
static bool
backfill_parallel(ExecContext *ctx, const Migration *m, const Step *s, const char *qtable,
				  const KeyInfo *key, Replicas *rp, int64_t *rows_out, Error *err)
{
	int			n_workers = ctx->settings.backfill_workers;
	Range	   *ranges = NULL;
	size_t		n = 0;
	bool		empty = false;
	bool		ok;
	SavedCursor sc;

	if (!load_cursor_of(ctx->conn, m->version, s->id, &sc, err))
		return false;
	if (sc.finished)
	{
		*rows_out = sc.rows_done;
		saved_cursor_free(&sc);
		return true;
	}
	saved_cursor_free(&sc);
	ok = load_ranges(ctx->conn, m, s->id, 1, &ranges, &n, NULL, err);
	if (ok && n == 0)
	{
		PGresult   *res;
		char	   *sql = sql_format("SELECT min(%I)::text, max(%I)::text FROM %s",
									 key->names.items[0], key->names.items[0], qtable);

		free(ranges);
		ranges = NULL;
		res = db_query(ctx->conn, sql, 0, NULL, err);
		free(sql);
		ok = res != NULL;
		empty = ok && PQgetisnull(res, 0, 0);
		if (ok && !empty)
		{
			long long	lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			long long	hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			/* lo - 1 .. hi in n_workers spans; in long double, no overflow */
			long double span = ((long double) hi - (long double) lo + 1) / n_workers;
			NewRanges	nr;

			ranges = xcalloc((size_t) n_workers, sizeof(Range));
			for (int i = 0; i < n_workers; i++)
			{
				long long	a = i == 0 ? lo - 1 : (long long) ((long double) lo - 1 + span * i);
				long long	z = i == n_workers - 1 ? hi
					: (long long) ((long double) lo - 1 + span * (i + 1));
				char		buf[32];

				if (z <= a && i < n_workers - 1)
					continue;
				ranges[n].row_id = range_row_id(s->id, (size_t) i);
				snprintf(buf, sizeof buf, "%lld", a);
				/* lo - 1 may not exist as a key; the first range starts from the first key */
				if (i > 0)
					strlist_add(&ranges[n].lower, buf);
				snprintf(buf, sizeof buf, "%lld", z);
				strlist_add(&ranges[n].upper, buf);
				n++;
			}
			nr.m = m;
			nr.ranges = ranges;
			nr.n = n;
			ok = batch_txn(ctx, m, s, new_ranges_body, &nr, err);
		}
		PQclear(res);
	}
	if (ok && empty)
	{
		EmptyWalk	ew = {m, s, s->id, ""};

		ranges_free(ranges, n);
		return batch_txn(ctx, m, s, empty_walk_body, &ew, err);
	}
	if (ok && n > 0)
		ok = walk_ranges(ctx, m, s, qtable, key, rp, ranges, n, n_workers, rows_out, err);
	ranges_free(ranges, n);
	return ok;
}

/*
 * Which walk a (not restoring) backfill step takes: resumed, the ranges it
 * saved; fresh with backfill_workers on a single integer key, ranges at
 * once; the undo of a backfill whose ranges were cut short, only as far
 * as each went; else one walk of the whole key.
 */
static bool
backfill_walk(ExecContext *ctx, const Migration *m, const Step *s, const char *qtable,
			  const KeyInfo *key, Replicas *rp, int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	Walk		alone = {s->id, NULL, NULL, NULL};
	Range	   *ranges = NULL;
	size_t		n = 0;
	SavedCursor sc = {0};
	bool		ok;

	ok = load_cursor_of(ctx->conn, m->version, s->id, &sc, err) &&
		load_ranges(ctx->conn, m, s->id, key->names.n, &ranges, &n, NULL, err);
	if (ok && !sc.finished && n > 0)
	{
		ok = walk_ranges(ctx, m, s, qtable, key, rp, ranges, n, ctx->settings.backfill_workers,
						 rows_out, err);
	}
	else if (ok && !sc.finished && !sc.found && bf->undo_of == NULL &&
			 ctx->settings.backfill_workers > 1 && integer_key(key))
		ok = backfill_parallel(ctx, m, s, qtable, key, rp, rows_out, err);
	else if (ok && !sc.finished && !sc.found && bf->undo_of)
	{
		SavedCursor fwd;

		ranges_free(ranges, n);
		ranges = NULL;
		n = 0;
		ok = load_cursor_of(ctx->conn, m->version, bf->undo_of, &fwd, err) &&
			(fwd.finished ||
			 load_ranges(ctx->conn, m, bf->undo_of, key->names.n, &ranges, &n, &fwd, err));
		if (ok && !fwd.finished && n > 0)
		{
			NewRanges	nr = {m, ranges, n};

			/* the undo's own ranges rows, so that a killed undo resumes in each */
			for (size_t i = 0; i < n; i++)
			{
				free(ranges[i].row_id);
				ranges[i].row_id = range_row_id(s->id, i);
			}
			ok = batch_txn(ctx, m, s, new_ranges_body, &nr, err) &&
				walk_ranges(ctx, m, s, qtable, key, rp, ranges, n,
							ctx->settings.backfill_workers, rows_out, err);
		}
		else if (ok)
			ok = backfill_keyset(ctx, m, s, qtable, key, rp, &alone, rows_out, err);
		saved_cursor_free(&fwd);
	}
	else if (ok)
		ok = backfill_keyset(ctx, m, s, qtable, key, rp, &alone, rows_out, err);
	saved_cursor_free(&sc);
	ranges_free(ranges, n);
	return ok;
}

/* ---- putting saved values back ---- */

typedef struct RestoreBatch
{
	const Migration *m;
	const Step *s;
	const char *sql;
	int64_t		rows_before;
	int64_t		rows_total;
	/* results */
	int64_t		saved;			/* rows of the saved batch */
	int64_t		put_back;		/* of those, rows that still held the backfill's value */
	bool		finished;		/* no saved batch left */
} RestoreBatch;

static bool
restore_body(PGconn *conn, void *arg, Error *err)
{
	RestoreBatch *rb = arg;
	PGresult   *res;
	char		left[32];

	if (!db_exec(conn, "SELECT set_config('jit', 'off', true)", err))
		return false;
	res = db_query(conn, rb->sql, 0, NULL, err);
	if (res == NULL)
		return false;
	rb->saved = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	rb->put_back = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(left, sizeof left, "%s", PQgetvalue(res, 0, 2));
	rb->finished = strcmp(left, "0") == 0;
	PQclear(res);
	/* the cursor: the saved batches left (the walk resumes with those) */
	return save_cursor_db(conn, rb->m, rb->s->id, "", left, rb->rows_before + rb->saved,
						  rb->rows_total, rb->finished, err) &&
		(!rb->finished || record_finished(conn, rb->m, rb->s, err));
}

/*
 * The rollback of an online backfill without down: its saved batches put
 * back one per short transaction, until none is left.
 */
static bool
restore_saved(ExecContext *ctx, const Migration *m, const Step *s, const char *qtable,
			  const KeyInfo *key, Replicas *rp, int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	int64_t		delay = bf->batch_delay_ms >= 0 ? bf->batch_delay_ms : ctx->settings.batch_delay_ms;
	int64_t		t_start = now_ms();
	int64_t		done = 0,
				done_at_start,
				total = -1,
				put_back = 0;
	SavedCursor sc;
	char	   *sql;
	bool		ok = true;

	if (!load_cursor_of(ctx->conn, m->version, s->id, &sc, err))
		return false;
	done = sc.rows_done;
	*rows_out = done;
	if (sc.finished)
	{
		saved_cursor_free(&sc);
		return true;
	}
	saved_cursor_free(&sc);
	if (bf->undo_of && load_cursor_of(ctx->conn, m->version, bf->undo_of, &sc, err))
	{
		if (sc.found)
			total = sc.rows_done;
		saved_cursor_free(&sc);
	}
	if (total < 0)
		total = estimate_rows(ctx, bf->table);
	done_at_start = done;
	sql = restore_batch_sql(qtable, key, bf);
	while (!txn_interrupted())
	{
		RestoreBatch rb = {0};

		throttle_for_replicas(ctx, m, s, rp, done, total, 0);
		if (txn_interrupted())
			break;
		rb.m = m;
		rb.s = s;
		rb.sql = sql;
		rb.rows_before = done;
		rb.rows_total = total > done ? total : done;
		ok = batch_txn(ctx, m, s, restore_body, &rb, err);
		if (!ok)
			break;
		done += rb.saved;
		put_back += rb.put_back;
		note_batch_committed(ctx, rp);
		if (total < done)
			total = done;
		progress_backfill(ctx->progress, m, s, done, total, rb.saved,
						  rows_per_sec(done - done_at_start, t_start), false);
		if (rb.finished)
			break;
		if (delay > 0)
			txn_sleep(delay);
	}
	free(sql);
	ok = finish_walk(ctx, m, s, ok, done, err);
	*rows_out = done;
	return ok;
}

/*
 * The key to walk by, or a clear refusal before the first batch: a table
 * without one cannot be walked so that each row is visited once (its rows
 * move as they are updated: a ctid walk meets some of them again).
 */
static bool
load_walk_key(ExecContext *ctx, const char *table, KeyInfo *key, Error *err)
{
	Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn), NULL};

	if (!catalog_walk_key(&cat, table, &key->names, &key->types, err))
		return false;
	if (key->names.n == 0)
		return error_set(err, EXIT_STEP_FAILED,
						 "backfill: %s has no primary key nor unique NOT NULL columns to "
						 "walk its rows by, each once; add one (or run the migration "
						 "without --online: one UPDATE)", table);
	return true;
}

bool
backfill_run(ExecContext *ctx, const Migration *m, const Step *s,
			 int64_t *rows_out, Error *err)
{
	char	   *qtable = quoted_qualified(s->backfill->table);
	KeyInfo		key = {0};
	Replicas	rp = {0};
	bool		ok = true;

	*rows_out = 0;
	rp.conns = xcalloc(ctx->replicas.n + 1, sizeof(PGconn *));
	rp.lsn = xcalloc(LAG_SAMPLES_MAX, sizeof(uint64_t));
	rp.at = xcalloc(LAG_SAMPLES_MAX, sizeof(int64_t));
	ok = load_walk_key(ctx, s->backfill->table, &key, err);
	if (ok && s->backfill->copy_to)
	{
		Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn), NULL};

		key.copy_columns = catalog_insert_columns(&cat, s->backfill->copy_to, err);
		ok = key.copy_columns != NULL;
	}
	for (size_t i = 0; ok && i < ctx->replicas.n; i++)
	{
		rp.conns[i] = db_connect(ctx->replicas.items[i], err);
		if (rp.conns[i] == NULL)
		{
			/* the migration has started: a failed step, not "nothing changed" */
			err->exit_code = EXIT_STEP_FAILED;
			error_prefix(err, "replica %zu", i + 1);
			ok = false;
		}
		else
			rp.n++;
	}
	ok = ok && ensure_cursor_table(ctx, m, s, err);
	if (ok && s->backfill->restore_from && s->backfill->save_batches)
		ok = restore_saved(ctx, m, s, qtable, &key, &rp, rows_out, err);
	else if (ok)
		ok = backfill_walk(ctx, m, s, qtable, &key, &rp, rows_out, err);
	for (size_t i = 0; i < rp.n; i++)
		PQfinish(rp.conns[i]);
	free(rp.conns);
	free(rp.lsn);
	free(rp.at);
	strlist_free(&key.names);
	strlist_free(&key.types);
	free(key.copy_columns);
	free(qtable);
	return ok;
}
