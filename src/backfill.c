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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db.h"
#include "quote.h"
#include "txn.h"

#define BATCH_MIN 100
#define BATCH_MAX 100000
#define BATCH_START 1000
#define PAGES_MAX 10000			/* of a ctid batch: 80 MB of 8 kB pages */
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
 * A finished (or rolled back) backfill leaves no cursor behind: the next
 * application of the migration starts from the first row again.
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
	StrList		names;			/* primary key columns, in key order */
	StrList		types;			/* their format_type() */
	char	   *copy_columns;	/* a copy (BackfillSpec.copy_to): the quoted
								 * columns an INSERT writes, ", "-separated */
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

/*
 * "(k) <= ($1..$k)", and with a cursor " AND (k) > ($k+1..$2k)": the rows of
 * one batch, a range of the primary key's index.
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
		if (i > 0)
			buf_puts(b, ", ");
		quote_ident(b, key->names.items[i]);
		buf_printf(b, " %s", dir);
	}
}

/*
 * The key of the row n places past the cursor, not past the bound: the
 * batch's last key, found by walking the primary key's index.  $1..$k: the
 * bound, $k+1..$2k: the cursor (when with_cursor), last: n - 1.  The keys
 * are aliased so that ORDER BY sorts the key, not its text.
 */
static char *
keyset_upper_sql(const char *qtable, const KeyInfo *key, bool with_cursor)
{
	Buf			b;
	int			k = (int) key->names.n;

	buf_init(&b);
	buf_puts(&b, "SELECT ");
	for (int i = 0; i < k; i++)
	{
		buf_puts(&b, i > 0 ? ", " : "");
		quote_ident(&b, key->names.items[i]);
		buf_printf(&b, "::text AS migrate_k%d", i);
	}
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

/* "k1, k2, c1, c2": the key and the columns a backfill sets. */
static void
append_saved_columns(Buf *b, const KeyInfo *key, const BackfillSpec *bf)
{
	for (size_t i = 0; i < key->names.n; i++)
	{
		buf_puts(b, i > 0 ? ", " : "");
		quote_ident(b, key->names.items[i]);
	}
	for (size_t i = 0; i < bf->set.n; i++)
	{
		buf_puts(b, ", ");
		quote_ident(b, bf->set.items[i].key);
	}
}

/*
 * The save of one batch's old values, run in the batch's transaction just
 * before its UPDATE: the rows are locked as they are read, so the value
 * saved is the one the UPDATE overwrites, even when the application changed
 * the row since.  (A data-modifying WITH cannot do both in one statement:
 * its parts run in no fixed order.)  Parameters as the UPDATE's.
 */
static char *
keyset_save_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
				bool with_cursor)
{
	Buf			b;

	buf_init(&b);
	buf_puts(&b, "INSERT INTO migrate.");
	quote_ident(&b, bf->save_table);
	buf_puts(&b, " (");
	append_saved_columns(&b, key, bf);
	buf_puts(&b, ") SELECT ");
	append_saved_columns(&b, key, bf);
	buf_printf(&b, " FROM %s WHERE ", qtable);
	append_batch_rows(&b, key, bf, with_cursor);
	buf_puts(&b, " FOR NO KEY UPDATE");
	return buf_detach(&b);
}

/*
 * The UPDATE of one batch that puts saved values back: the saved table
 * joined on the key, both sides bounded to the batch's key range so that
 * each is an index range scan, never a scan of the whole saved table.
 */
static void
append_restore(Buf *b, const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
			   bool with_cursor)
{
	char	   *target = xasprintf("%s.", qtable);

	buf_printf(b, "UPDATE %s SET ", qtable);
	for (size_t i = 0; i < bf->set.n; i++)
	{
		buf_puts(b, i > 0 ? ", " : "");
		quote_ident(b, bf->set.items[i].key);
		buf_puts(b, " = migrate_saved.");
		quote_ident(b, bf->set.items[i].key);
	}
	buf_puts(b, " FROM migrate.");
	quote_ident(b, bf->restore_from);
	buf_puts(b, " AS migrate_saved WHERE ");
	append_key_tuple(b, key, target);
	buf_puts(b, " = ");
	append_key_tuple(b, key, "migrate_saved.");
	buf_puts(b, " AND ");
	append_key_range(b, key, target, with_cursor);
	buf_puts(b, " AND ");
	append_key_range(b, key, "migrate_saved.", with_cursor);
	free(target);
}

/*
 * The UPDATE of one batch: the key range (cursor, upper], an index range
 * scan however far into the table the batch is (a join of the batch's keys
 * back to the table may be planned as a scan from the table's first key).
 * $1..$k: the batch's upper key, $k+1..$2k: the cursor (when with_cursor).
 */
static char *
keyset_update_sql(const char *qtable, const KeyInfo *key, const BackfillSpec *bf,
				  bool with_cursor)
{
	Buf			b;

	buf_init(&b);
	if (bf->restore_from)
		append_restore(&b, qtable, key, bf, with_cursor);
	else if (bf->copy_to)
	{
		/*
		 * The rows are read FOR SHARE: an update or delete of one waits for
		 * the batch, so that the sync trigger that mirrors it finds the copy;
		 * a row the trigger wrote first is kept.
		 */
		buf_puts(&b, "INSERT INTO ");
		quote_qualified(&b, bf->copy_to);
		buf_printf(&b, " (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s WHERE ",
				   key->copy_columns, key->copy_columns, qtable);
		append_batch_rows(&b, key, bf, with_cursor);
		buf_puts(&b, " FOR SHARE ON CONFLICT DO NOTHING");
	}
	else
	{
		buf_printf(&b, "UPDATE %s", qtable);
		append_set_list(&b, bf);
		buf_puts(&b, " WHERE ");
		append_batch_rows(&b, key, bf, with_cursor);
	}
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

/* ---- the cursor in the database ---- */

/*
 * The database keeps the cursor too, in migrate.backfill_cursors, written
 * in each batch's own transaction: cursor and rows commit together, so a
 * run killed at any moment resumes exactly after its last committed batch,
 * even without the state file (whose cursor is written after the commit).
 * The row also keeps the upper bound of the first run, so that a resumed
 * backfill covers the rows that existed when it started, and no more.
 */
static bool
create_cursor_table(PGconn *conn, void *arg, Error *err)
{
	(void) arg;
	return db_exec(conn, "CREATE SCHEMA IF NOT EXISTS migrate", err) &&
		db_exec(conn,
				"CREATE TABLE IF NOT EXISTS migrate.backfill_cursors ("
				"version bigint NOT NULL, step text NOT NULL, "
				"upper_bound text NOT NULL, cursor text NOT NULL, "
				"rows_done bigint NOT NULL, "
				"updated_at timestamptz NOT NULL DEFAULT now(), "
				"PRIMARY KEY (version, step))", err);
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

static bool
ensure_cursor_table(ExecContext *ctx, const Migration *m, const Step *s, Error *err)
{
	PGresult   *res = db_query(ctx->conn,
								"SELECT to_regclass('migrate.backfill_cursors') IS NOT NULL",
								0, NULL, err);
	bool		exists;

	if (res == NULL)
		return false;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return exists || batch_txn(ctx, m, s, create_cursor_table, NULL, err);
}

bool
backfill_rows_done(PGconn *conn, int64_t version, const char *step_id, int64_t *rows_done,
				   Error *err)
{
	char		text[32];
	const char *params[2] = {text, step_id};
	PGresult   *res;

	*rows_done = 0;
	snprintf(text, sizeof text, "%lld", (long long) version);
	res = db_query(conn, "SELECT to_regclass('migrate.backfill_cursors') IS NOT NULL", 0, NULL, err);
	if (res == NULL)
		return false;
	if (PQgetvalue(res, 0, 0)[0] != 't')
	{
		PQclear(res);
		return true;
	}
	PQclear(res);
	res = db_query(conn, "SELECT rows_done FROM migrate.backfill_cursors "
				   "WHERE version = $1 AND step = $2", 2, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
		*rows_done = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return true;
}

/* A saved cursor: the bound and the cursor, encoded; the rows done. */
typedef struct SavedCursor
{
	char	   *upper_bound;
	char	   *cursor;
	int64_t		rows_done;
} SavedCursor;

static void
saved_cursor_free(SavedCursor *sc)
{
	free(sc->upper_bound);
	free(sc->cursor);
	sc->upper_bound = sc->cursor = NULL;
}

/*
 * The cursor to resume from: the database's, else the state file's (which
 * has no bound: the bound is then the table's last key now).
 */
static bool
load_cursor(ExecContext *ctx, const Migration *m, const Step *s,
			SavedCursor *sc, Error *err)
{
	char		version[32];
	const char *params[2];
	PGresult   *res;

	memset(sc, 0, sizeof *sc);
	snprintf(version, sizeof version, "%lld", (long long) m->version);
	params[0] = version;
	params[1] = s->id;
	res = db_query(ctx->conn, "SELECT upper_bound, cursor, rows_done "
				   "FROM migrate.backfill_cursors WHERE version = $1 AND step = $2",
				   2, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		sc->upper_bound = xstrdup(PQgetvalue(res, 0, 0));
		sc->cursor = xstrdup(PQgetvalue(res, 0, 1));
		sc->rows_done = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	if (sc->cursor == NULL && ctx->journal)
	{
		char	   *ckey = cursor_key(ctx, s);

		sc->cursor = journal_load_cursor(ctx->journal, m->version, ckey, &sc->rows_done);
		free(ckey);
	}
	return true;
}

/* Saves the cursor in the batch's transaction (the caller's). */
static bool
save_cursor_db(ExecContext *ctx, const Migration *m, const Step *s,
			   const char *upper_bound, const char *cursor, int64_t rows_done,
			   Error *err)
{
	char		version[32],
				rows[32];
	const char *params[5];
	PGresult   *res;

	snprintf(version, sizeof version, "%lld", (long long) m->version);
	snprintf(rows, sizeof rows, "%lld", (long long) rows_done);
	params[0] = version;
	params[1] = s->id;
	params[2] = upper_bound;
	params[3] = cursor;
	params[4] = rows;
	res = db_query(ctx->conn,
				   "INSERT INTO migrate.backfill_cursors "
				   "(version, step, upper_bound, cursor, rows_done) VALUES ($1, $2, $3, $4, $5) "
				   "ON CONFLICT (version, step) DO UPDATE SET upper_bound = excluded.upper_bound, "
				   "cursor = excluded.cursor, rows_done = excluded.rows_done, updated_at = now()",
				   5, params, err);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* The state file's copy, after the batch committed. */
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

	snprintf(version, sizeof version, "%lld", (long long) m->version);
	params[0] = version;
	params[1] = s->id;
	res = db_query(ctx->conn,
				   "SELECT to_regclass('migrate.backfill_cursors') IS NOT NULL", 0, NULL, &err);
	if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
	{
		PQclear(res);
		res = db_query(ctx->conn, "DELETE FROM migrate.backfill_cursors "
					   "WHERE version = $1 AND step = $2", 2, params, &err);
	}
	PQclear(res);
	error_clear(&err);
}

/* ---- the loop ---- */

/*
 * One batch of either walk, run in its own short transaction: the walk's
 * UPDATE, then the cursor it leads to, saved in the same transaction.
 */
typedef struct Batch
{
	ExecContext *ctx;
	const Migration *m;
	const Step *s;
	/* keyset walk: finds the batch's upper key first (NULL: ctid walk) */
	const char *upper_value;	/* a span walk: the upper key, computed */
	const char *upper_sql;
	const char **upper_params;
	int			n_upper_params;
	const StrList *bound;		/* the last key: the batch's upper key at the end */
	/* the UPDATE; for the keyset walk, its first k params are the upper key */
	const char *save_sql;		/* NULL, or the save of the old values */
	const char *update_sql;
	const char **update_params;
	int			n_update_params;
	const char *bound_text;		/* encoded, for the saved cursor */
	int64_t		rows_before;
	/* results */
	StrList		upper;			/* keyset: the batch's upper key */
	char	   *cursor_text;	/* the cursor after this batch (ctid: given) */
	int64_t		updated;
} Batch;

static bool
batch_body(PGconn *conn, void *arg, Error *err)
{
	Batch	   *bt = arg;
	ExecContext *ctx = bt->ctx;
	PGresult   *res;

	/*
	 * The planner misjudges a row-comparison key range (a composite key) as
	 * a large part of the table; past jit_above_cost each small batch would
	 * then spend more time compiling than updating.  LOCAL: safe behind a
	 * transaction-pooling PgBouncer.
	 */
	if (!db_exec(conn, "SELECT set_config('jit', 'off', true)", err))
		return false;

	if (bt->upper_value)
	{
		strlist_free(&bt->upper);
		strlist_add(&bt->upper, bt->upper_value);
		bt->update_params[0] = bt->upper.items[0];
		free(bt->cursor_text);
		bt->cursor_text = backfill_cursor_encode(&bt->upper);
	}
	else if (bt->upper_sql)
	{
		int			k = (int) bt->bound->n;

		res = db_query(conn, bt->upper_sql, bt->n_upper_params, bt->upper_params, err);
		if (res == NULL)
			return false;
		strlist_free(&bt->upper);
		for (int i = 0; i < k; i++)
			strlist_add(&bt->upper, PQntuples(res) == 1 ? PQgetvalue(res, 0, i)
						: bt->bound->items[i]);
		PQclear(res);
		for (int i = 0; i < k; i++)
			bt->update_params[i] = bt->upper.items[i];
		free(bt->cursor_text);
		bt->cursor_text = backfill_cursor_encode(&bt->upper);
	}
	if (bt->save_sql)
	{
		res = db_query(conn, bt->save_sql, bt->n_update_params, bt->update_params, err);
		if (res == NULL)
			return false;
		PQclear(res);
	}
	res = db_query(conn, bt->update_sql, bt->n_update_params, bt->update_params, err);
	if (res == NULL)
		return false;
	bt->updated = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return save_cursor_db(ctx, bt->m, bt->s, bt->bound_text, bt->cursor_text,
						  bt->rows_before + bt->updated, err);
}

/* Runs one batch in its own short transaction. */
static bool
run_batch(ExecContext *ctx, Batch *bt, Error *err)
{
	bt->ctx = ctx;
	return batch_txn(ctx, bt->m, bt->s, batch_body, bt, err);
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

/* Waits while replicas lag more than max_replica_lag. */
static void
throttle_for_replicas(ExecContext *ctx, const Migration *m, const Step *s,
					  Replicas *rp, int64_t done, int64_t total,
					  int64_t batch)
{
	if (ctx->settings.max_replica_lag_ms <= 0)
		return;
	while (!txn_interrupted() &&
		   replica_lag_ms(ctx, rp) > ctx->settings.max_replica_lag_ms)
	{
		progress_backfill(ctx->progress, m, s, done, total, batch, 0, true);
		txn_sleep(LAG_POLL_MS);
	}
}

static double
rows_per_sec(int64_t rows, int64_t since_ms)
{
	return (double) rows * 1000.0 / (double) (now_ms() - since_ms + 1);
}

/* How a walk ends: interrupted, failed, or finished (cursor forgotten). */
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
	else if (ok)
		backfill_forget_cursor(ctx, m, s);
	return ok;
}

static bool
strlist_equal(const StrList *a, const StrList *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
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

static bool
backfill_keyset(ExecContext *ctx, const Migration *m, const Step *s,
				const char *qtable, const KeyInfo *key, Replicas *rp,
				int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	int			k = (int) key->names.n;
	StrList		bound = {0};
	StrList		cursor = {0};
	SavedCursor saved;
	bool		empty = false;
	bool		fixed = bf->batch_size > 0 || ctx->settings.batch_size > 0;
	int64_t		batch = bf->batch_size > 0 ? bf->batch_size
		: ctx->settings.batch_size > 0 ? ctx->settings.batch_size : BATCH_START;
	int64_t		delay = bf->batch_delay_ms >= 0 ? bf->batch_delay_ms : ctx->settings.batch_delay_ms;
	int64_t		total = estimate_rows(ctx, bf->table);
	int64_t		done = 0;
	int64_t		done_at_start;
	int64_t		t_start = now_ms();
	char	   *upper_first,
			   *upper_next,
			   *update_first,
			   *update_next,
			   *save_first = NULL,
			   *save_next = NULL,
			   *bound_text = NULL;
	const char **upper_params = xcalloc((size_t) (2 * k + 1), sizeof(char *));
	const char **update_params = xcalloc((size_t) (2 * k), sizeof(char *));
	char		offset[32];
	char		span_bound[32];
	bool		by_span = !fixed && integer_key(key);
	bool		ok;

	if (!load_cursor(ctx, m, s, &saved, err))
	{
		free(upper_params);
		free(update_params);
		return false;
	}
	if (saved.cursor && (!backfill_cursor_decode(saved.cursor, &cursor) ||
						 cursor.n != (size_t) k))
		strlist_free(&cursor);
	if (cursor.n == (size_t) k)
		done = saved.rows_done;
	if (saved.upper_bound && cursor.n == (size_t) k &&
		(!backfill_cursor_decode(saved.upper_bound, &bound) || bound.n != (size_t) k))
		strlist_free(&bound);
	saved_cursor_free(&saved);
	ok = bound.n == (size_t) k ||
		load_upper_bound(ctx->conn, qtable, key, &bound, &empty, err);
	if (ok && !empty)
		bound_text = backfill_cursor_encode(&bound);
	done_at_start = done;

	upper_first = keyset_upper_sql(qtable, key, false);
	upper_next = keyset_upper_sql(qtable, key, true);
	update_first = keyset_update_sql(qtable, key, bf, false);
	update_next = keyset_update_sql(qtable, key, bf, true);
	if (bf->save_table)
	{
		save_first = keyset_save_sql(qtable, key, bf, false);
		save_next = keyset_save_sql(qtable, key, bf, true);
	}

	/* A cursor at the bound: the last run committed its last batch. */
	while (ok && !empty && !strlist_equal(&cursor, &bound))
	{
		Batch		bt = {0};
		int64_t		t0 = now_ms();
		int			np = 0;
		bool		with_cursor = cursor.n == (size_t) k;

		throttle_for_replicas(ctx, m, s, rp, done, total, batch);
		if (txn_interrupted())
			break;
		for (int i = 0; i < k; i++)
			upper_params[np++] = bound.items[i];
		for (int i = 0; with_cursor && i < k; i++)
		{
			upper_params[np++] = cursor.items[i];
			update_params[k + i] = cursor.items[i];
		}
		snprintf(offset, sizeof offset, "%lld", (long long) batch - 1);
		upper_params[np++] = offset;
		bt.m = m;
		bt.s = s;
		bt.upper_sql = with_cursor ? upper_next : upper_first;
		if (by_span && with_cursor &&
			backfill_span_upper(cursor.items[0], batch, bound.items[0], span_bound, sizeof span_bound))
			bt.upper_value = span_bound;
		bt.upper_params = upper_params;
		bt.n_upper_params = np;
		bt.bound = &bound;
		bt.save_sql = with_cursor ? save_next : save_first;
		bt.update_sql = with_cursor ? update_next : update_first;
		bt.update_params = update_params;
		bt.n_update_params = with_cursor ? 2 * k : k;
		bt.bound_text = bound_text;
		bt.rows_before = done;
		ok = run_batch(ctx, &bt, err);
		if (ok)
		{
			strlist_free(&cursor);
			cursor = bt.upper;
			memset(&bt.upper, 0, sizeof bt.upper);
			done += bt.updated;
			note_batch_committed(ctx, rp);
			save_cursor_journal(ctx, m, s, bt.cursor_text, done);
			if (total < done)
				total = done;
			progress_backfill(ctx->progress, m, s, done, total, batch,
							  rows_per_sec(done - done_at_start, t_start), false);
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
		if (ok && delay > 0 && !strlist_equal(&cursor, &bound))
			txn_sleep(delay);
	}
	ok = finish_walk(ctx, m, s, ok, done, err);
	free(upper_first);
	free(upper_next);
	free(update_first);
	free(update_next);
	free(save_first);
	free(save_next);
	free(bound_text);
	free(upper_params);
	free(update_params);
	strlist_free(&bound);
	strlist_free(&cursor);
	*rows_out = done;
	return ok;
}

/*
 * Tables without a primary key: ctid page ranges up to the size at start.
 * The cursor is the next page to walk; the bound, the page count.
 */
static bool
backfill_ctid(ExecContext *ctx, const Migration *m, const Step *s,
			  const char *qtable, Replicas *rp, int64_t *rows_out, Error *err)
{
	const BackfillSpec *bf = s->backfill;
	const char *params[2];
	char		lo[48],
				hi[48];
	Buf			b;
	Catalog		cat = {ctx->conn, PQserverVersion(ctx->conn)};
	SavedCursor saved;
	StrList		pos = {0};
	char	   *bound_text;
	int64_t		pages = -1,
				page = 0,
				step_pages = 64,
				done = 0,
				done_at_start,
				total = estimate_rows(ctx, bf->table),
				t_start = now_ms();
	bool		ok = true;

	if (!load_cursor(ctx, m, s, &saved, err))
		return false;
	if (saved.cursor && saved.upper_bound &&
		backfill_cursor_decode(saved.cursor, &pos) && pos.n == 1)
	{
		page = strtoll(pos.items[0], NULL, 10);
		pages = strtoll(saved.upper_bound, NULL, 10);
		done = saved.rows_done;
	}
	strlist_free(&pos);
	saved_cursor_free(&saved);
	if (pages < 0)
		pages = catalog_table_pages(&cat, bf->table);
	if (pages < 0)
		return error_set(err, EXIT_STEP_FAILED, "backfill: cannot tell the size of %s", qtable);
	bound_text = xasprintf("%lld", (long long) pages);
	done_at_start = done;

	buf_init(&b);
	buf_printf(&b, "UPDATE %s", qtable);
	append_set_list(&b, bf);
	buf_puts(&b, " WHERE ctid >= $1::tid AND ctid < $2::tid");
	if (bf->where)
		buf_printf(&b, " AND (%s)", bf->where);

	while (page < pages && !txn_interrupted())
	{
		Batch		bt = {0};
		int64_t		t0 = now_ms();
		char		next[32];

		throttle_for_replicas(ctx, m, s, rp, done, total, step_pages);
		if (txn_interrupted())
			break;
		snprintf(lo, sizeof lo, "(%lld,0)", (long long) page);
		snprintf(hi, sizeof hi, "(%lld,0)", (long long) (page + step_pages));
		snprintf(next, sizeof next, "%lld", (long long) (page + step_pages));
		strlist_add(&pos, next);
		params[0] = lo;
		params[1] = hi;
		bt.m = m;
		bt.s = s;
		bt.update_sql = b.data;
		bt.update_params = params;
		bt.n_update_params = 2;
		bt.bound_text = bound_text;
		bt.rows_before = done;
		bt.cursor_text = backfill_cursor_encode(&pos);
		strlist_free(&pos);
		ok = run_batch(ctx, &bt, err);
		if (ok)
		{
			done += bt.updated;
			page += step_pages;
			note_batch_committed(ctx, rp);
			save_cursor_journal(ctx, m, s, bt.cursor_text, done);
			progress_backfill(ctx->progress, m, s, done, total > done ? total : done,
							  step_pages, rows_per_sec(done - done_at_start, t_start), false);
			step_pages = backfill_next_batch_size(step_pages, now_ms() - t0,
												  ctx->settings.batch_time_ms, 1, PAGES_MAX);
		}
		free(bt.cursor_text);
		if (!ok)
			break;
	}
	buf_free(&b);
	free(bound_text);
	ok = finish_walk(ctx, m, s, ok, done, err);
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
	Replicas	rp = {0};
	bool		ok = true;

	*rows_out = 0;
	rp.conns = xcalloc(ctx->replicas.n + 1, sizeof(PGconn *));
	rp.lsn = xcalloc(LAG_SAMPLES_MAX, sizeof(uint64_t));
	rp.at = xcalloc(LAG_SAMPLES_MAX, sizeof(int64_t));
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
	ok = ok && ensure_cursor_table(ctx, m, s, err) &&
		catalog_primary_key(&cat, s->backfill->table, &key.names, &key.types, err);
	if (ok && s->backfill->copy_to)
	{
		key.copy_columns = catalog_insert_columns(&cat, s->backfill->copy_to, err);
		ok = key.copy_columns != NULL;
		if (ok && key.names.n == 0)
			ok = error_set(err, EXIT_STEP_FAILED, "backfill: %s has no primary key to copy its "
						   "rows by", qtable);
	}
	if (ok && key.names.n > 0)
		ok = backfill_keyset(ctx, m, s, qtable, &key, &rp, rows_out, err);
	else if (ok)
		ok = backfill_ctid(ctx, m, s, qtable, &rp, rows_out, err);
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
