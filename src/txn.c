/*
 * txn.c: the retrying short transaction, blockers, interrupts and sleeps.
 * See txn.h, and docs/design.md (Locks and retries).
 *
 * The timeouts are set with set_config(..., true), SET LOCAL's function
 * form: the value goes in as a parameter, and it ends with the transaction
 * (safe behind a transaction-pooling PgBouncer).
 */
#include "txn.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "json.h"
#include "quote.h"

#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 30000
#define SLEEP_SLICE_MS 100
/* Autovacuum workers cancelled for one statement, at most (they come back). */
#define MAX_AUTOVACUUM_CANCELS 10
/* How often a wait behind an anti-wraparound autovacuum looks again. */
#define WRAPAROUND_POLL_MS 1000

/* ---- interrupts ---- */

static volatile sig_atomic_t interrupted_by = 0;
static PGcancel *volatile cancel_handle = NULL;

static void
on_signal(int sig)
{
	char		errbuf[256];
	PGcancel   *c = cancel_handle;

	interrupted_by = sig;
	/* PQcancel is async-signal-safe, as fe_utils/cancel.c relies on. */
	if (c != NULL)
		(void) PQcancel(c, errbuf, sizeof errbuf);
}

void
txn_install_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	srandom((unsigned) (now_ms() ^ (getpid() << 16)));
}

void
txn_set_cancel_conn(PGconn *conn)
{
	PGcancel   *old = cancel_handle;

	cancel_handle = NULL;
	if (old != NULL)
		PQfreeCancel(old);
	if (conn != NULL)
		cancel_handle = PQgetCancel(conn);
}

int
txn_interrupted(void)
{
	return (int) interrupted_by;
}

bool
txn_interrupted_error(Error *err, const char *what)
{
	int			sig = txn_interrupted();

	return error_set(err, sig == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT,
					 "interrupted by %s%s%s; run apply again to resume, or rollback",
					 sig == SIGTERM ? "SIGTERM" : "SIGINT", what ? " " : "", what ? what : "");
}

bool
txn_sleep(int64_t ms)
{
	int64_t		end = now_ms() + ms;

	/* in slices: sleep_ms goes on sleeping through a signal */
	while (!txn_interrupted() && now_ms() < end)
		sleep_ms(end - now_ms() < SLEEP_SLICE_MS ? end - now_ms() : SLEEP_SLICE_MS);
	return !txn_interrupted();
}

/* ---- blocking sessions ---- */

static const char *const blocker_kind_names[] = {
	[BLOCKER_SESSION] = "session",
	[BLOCKER_AUTOVACUUM] = "autovacuum",
	[BLOCKER_AUTOVACUUM_WRAPAROUND] = "autovacuum_wraparound",
};

const char *
txn_blocker_kind_name(BlockerKind kind)
{
	return (size_t) kind < sizeof blocker_kind_names / sizeof blocker_kind_names[0]
		? blocker_kind_names[kind] : "session";
}

BlockerKind
txn_blocker_kind(const char *backend_type, const char *query)
{
	bool		worker = backend_type != NULL && strcmp(backend_type, "autovacuum worker") == 0;

	/* before PostgreSQL 10 there is no backend_type: the query tells */
	if (!worker && query != NULL && strncmp(query, "autovacuum: ", 12) == 0)
		worker = true;
	if (!worker)
		return BLOCKER_SESSION;
	if (query != NULL && strstr(query, "(to prevent wraparound)") != NULL)
		return BLOCKER_AUTOVACUUM_WRAPAROUND;
	return BLOCKER_AUTOVACUUM;
}

void
txn_blockers(PGconn *conn, const char *relation, Blockers *out)
{
	Error		err = {0};
	char	   *quoted;
	const char *params[1];
	PGresult   *res;

	memset(out, 0, sizeof *out);
	if (relation == NULL)
		return;
	quoted = quoted_qualified(relation);
	params[0] = quoted;
	res = db_query(conn,
				   "SELECT DISTINCT a.pid, coalesce(a.state, ''), "
				   "       coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0), "
				   "       left(coalesce(a.query, ''), 200), coalesce(a.backend_type, '') "
				   "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
				   "WHERE l.relation = to_regclass($1) AND l.granted "
				   "  AND a.pid <> pg_backend_pid() ORDER BY 1",
				   1, params, &err);
	free(quoted);
	if (res == NULL)
	{
		error_clear(&err);
		return;
	}
	out->items = xcalloc((size_t) PQntuples(res) + 1, sizeof(Blocker));
	for (int i = 0; i < PQntuples(res); i++)
	{
		Blocker    *b = &out->items[out->n++];

		b->pid = atoi(PQgetvalue(res, i, 0));
		b->state = xstrdup(PQgetvalue(res, i, 1));
		b->xact_age_s = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		b->query = xstrdup(PQgetvalue(res, i, 3));
		b->kind = txn_blocker_kind(PQgetvalue(res, i, 4), b->query);
	}
	PQclear(res);
}

char *
txn_blockers_json(const Blockers *bl)
{
	Buf			b;
	JsonWriter	w;

	buf_init(&b);
	json_init(&w, &b);
	json_begin_array(&w);
	for (size_t i = 0; i < bl->n; i++)
	{
		const Blocker *x = &bl->items[i];

		json_begin_object(&w);
		json_key(&w, "pid");
		json_int(&w, x->pid);
		json_key(&w, "kind");
		json_string(&w, txn_blocker_kind_name(x->kind));
		json_key(&w, "state");
		json_string(&w, x->state);
		json_key(&w, "xact_age_s");
		json_int(&w, x->xact_age_s);
		json_key(&w, "query");
		json_string(&w, x->query);
		json_end_object(&w);
	}
	json_end_array(&w);
	return buf_detach(&b);
}

char *
txn_blockers_text(const Blockers *bl)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < bl->n; i++)
	{
		const Blocker *x = &bl->items[i];

		buf_printf(&b, "\n      pid %d, %s%s%s, for %lld s: %s", x->pid,
				   x->kind == BLOCKER_SESSION ? "a session" :
				   x->kind == BLOCKER_AUTOVACUUM ? "an autovacuum" :
				   "an autovacuum that prevents wraparound",
				   x->state[0] ? ", " : "", x->state, (long long) x->xact_age_s,
				   x->query[0] ? x->query : "(no query)");
	}
	return buf_detach(&b);
}

void
txn_blockers_free(Blockers *bl)
{
	for (size_t i = 0; i < bl->n; i++)
	{
		free(bl->items[i].state);
		free(bl->items[i].query);
	}
	free(bl->items);
	memset(bl, 0, sizeof *bl);
}

/* ---- the retrying short transaction ---- */

int64_t
txn_capped_lock_timeout(int64_t setting_ms, int64_t deadlock_timeout_ms)
{
	int64_t		cap = deadlock_timeout_ms * 4 / 5;

	if (deadlock_timeout_ms > 0 && cap < setting_ms)
		return cap > 0 ? cap : 1;
	return setting_ms;
}

int64_t
txn_backoff_ceiling_ms(int attempt)
{
	int64_t		ceiling = BACKOFF_BASE_MS;

	for (int i = 1; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	return ceiling > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ceiling;
}

int64_t
txn_backoff_ms(int attempt)
{
	return 50 + random() % txn_backoff_ceiling_ms(attempt);
}

static bool
is_retryable(const Error *err)
{
	return strcmp(err->sqlstate, "55P03") == 0 ||	/* lock_not_available */
		strcmp(err->sqlstate, "40P01") == 0;	/* deadlock_detected */
}

/* What handle_autovacuum did about the blockers. */
typedef enum AutovacuumAction
{
	AUTOVACUUM_NONE,			/* a client's session blocks too: a real retry */
	AUTOVACUUM_CANCELLED,		/* each blocker was an ordinary autovacuum, cancelled */
	AUTOVACUUM_WAITING			/* one prevents wraparound: wait for it */
} AutovacuumAction;

/*
 * What to do about the autovacuum workers among the blockers: an ordinary
 * one is cancelled (the server would cancel it too, had the lock request
 * waited deadlock_timeout, which the capped lock_timeout never lets happen),
 * and said so; one that prevents wraparound must not be, and is waited for,
 * with a message.  Only when autovacuum alone blocks does the attempt not
 * count (cancel: may_cancel, as a worker can come back again and again).
 */
static AutovacuumAction
handle_autovacuum(const Txn *t, const Blockers *bl, bool may_cancel, int64_t *last_note)
{
	size_t		handled = 0;
	bool		wraparound = false;

	for (size_t i = 0; i < bl->n; i++)
	{
		const Blocker *x = &bl->items[i];
		bool		cancelled = false;

		if (x->kind == BLOCKER_SESSION || (x->kind == BLOCKER_AUTOVACUUM && !may_cancel))
			continue;
		wraparound |= x->kind == BLOCKER_AUTOVACUUM_WRAPAROUND;
		if (x->kind == BLOCKER_AUTOVACUUM)
		{
			char		pid[16];
			const char *params[1] = {pid};
			Error		err = {0};
			PGresult   *res;

			snprintf(pid, sizeof pid, "%d", x->pid);
			res = db_query(t->conn, "SELECT pg_cancel_backend($1::int)", 1, params, &err);
			cancelled = res != NULL && PQgetvalue(res, 0, 0)[0] == 't';
			PQclear(res);
			error_clear(&err);
		}
		/* a long wait is said every 10 s, not on each look */
		if (x->kind == BLOCKER_AUTOVACUUM || now_ms() - *last_note >= 10000)
		{
			progress_autovacuum(t->progress, t->m, t->s, t->relation, x->pid, x->query,
								x->kind == BLOCKER_AUTOVACUUM_WRAPAROUND, cancelled);
			if (x->kind == BLOCKER_AUTOVACUUM_WRAPAROUND)
				*last_note = now_ms();
		}
		handled++;
	}
	if (handled == 0 || handled < bl->n)
		return AUTOVACUUM_NONE;
	return wraparound ? AUTOVACUUM_WAITING : AUTOVACUUM_CANCELLED;
}

/* The server's deadlock_timeout in ms; 0 when it cannot be read. */
static int64_t
deadlock_timeout(const Txn *t)
{
	Error		err = {0};
	PGresult   *res;
	int64_t		ms = 0;

	if (t->deadlock_timeout_ms != NULL && *t->deadlock_timeout_ms != 0)
		return *t->deadlock_timeout_ms > 0 ? *t->deadlock_timeout_ms : 0;
	res = db_query(t->conn, "SELECT setting::bigint FROM pg_settings "
				   "WHERE name = 'deadlock_timeout'", 0, NULL, &err);
	if (res == NULL)
		error_clear(&err);
	else
	{
		if (PQntuples(res) == 1)
			ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	if (t->deadlock_timeout_ms != NULL)
		*t->deadlock_timeout_ms = ms > 0 ? ms : -1;
	return ms;
}

/*
 * The attempt's timeouts, in the transaction just begun, in one statement:
 * lock_timeout (capped, see txn_capped_lock_timeout) and statement_timeout
 * when set.  *lock_ms gets the lock_timeout used, for messages.
 */
static bool
set_timeouts(const Txn *t, int64_t *lock_ms, Error *err)
{
	char		lock[32],
				statement[32];
	const char *params[2] = {lock, statement};
	int64_t		statement_ms = t->settings->statement_timeout_ms;
	PGresult   *res;

	*lock_ms = txn_capped_lock_timeout(t->settings->lock_timeout_ms, deadlock_timeout(t));
	snprintf(lock, sizeof lock, "%lldms", (long long) *lock_ms);
	snprintf(statement, sizeof statement, "%lldms", (long long) (statement_ms > 0 ? statement_ms : 0));
	res = statement_ms > 0
		? db_query(t->conn, "SELECT set_config('lock_timeout', $1, true), "
				   "set_config('statement_timeout', $2, true)", 2, params, err)
		: db_query(t->conn, "SELECT set_config('lock_timeout', $1, true)", 1, params, err);
	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

bool
txn_run(const Txn *t, TxnBody body, void *arg, Error *err)
{
	int			attempts = t->settings->lock_retries > 0 ? t->settings->lock_retries : 1;
	int			cancels = 0;	/* attempts lost to an ordinary autovacuum */
	int64_t		last_note = -100000;	/* when a wait for one was last said */

	for (int attempt = 1;; attempt++)
	{
		int64_t		lock_ms = t->settings->lock_timeout_ms;
		int64_t		t0 = now_ms();
		int64_t		wait;
		Blockers	blockers;
		char	   *blockers_json;
		AutovacuumAction action;
		bool		ok;

		ok = db_exec(t->conn, "BEGIN", err) &&
			set_timeouts(t, &lock_ms, err) &&
			body(t->conn, arg, err) &&
			db_exec(t->conn, "COMMIT", err);
		if (ok)
			return true;
		db_rollback_open(t->conn);
		if (txn_interrupted())
			return txn_interrupted_error(err, NULL);
		if (!is_retryable(err))
			return false;

		/*
		 * Who held the lock.  The kinds tell a client's session from an
		 * autovacuum worker, for what to do about each before the next
		 * attempt (an ordinary autovacuum can be cancelled; one that
		 * prevents wraparound must be waited for).
		 */
		txn_blockers(t->conn, t->relation, &blockers);
		blockers_json = txn_blockers_json(&blockers);
		if (t->journal && t->journal_row > 0)
			journal_step_attempt(t->journal, t->journal_row, attempt, now_ms() - t0,
								 err->message);
		/*
		 * Lost to autovacuum alone: not counted (a cancelled one is retried
		 * at once; an anti-wraparound one is waited for, for as long as it
		 * runs), though a worker that comes back again and again does not
		 * hold the step forever.
		 */
		action = handle_autovacuum(t, &blockers, cancels < MAX_AUTOVACUUM_CANCELS, &last_note);
		if (action != AUTOVACUUM_NONE)
		{
			free(blockers_json);
			txn_blockers_free(&blockers);
			cancels += action == AUTOVACUUM_CANCELLED;
			attempt--;
			if (!txn_sleep(action == AUTOVACUUM_WAITING ? WRAPAROUND_POLL_MS : 50))
				return txn_interrupted_error(err, NULL);
			error_clear(err);
			continue;
		}
		if (attempt >= attempts)
		{
			error_prefix(err, "gave up after %d attempt%s (lock_timeout %lld ms); blocking sessions: %s",
						 attempt, attempt == 1 ? "" : "s", (long long) lock_ms, blockers_json);
			err->exit_code = EXIT_LOCK;
			free(blockers_json);
			txn_blockers_free(&blockers);
			return false;
		}
		wait = txn_backoff_ms(attempt);
		if (t->progress != NULL && t->m != NULL && t->s != NULL)
		{
			char	   *text = txn_blockers_text(&blockers);

			progress_step_retried(t->progress, t->m, t->s, attempt, wait,
								  err->message, blockers_json, text);
			free(text);
		}
		free(blockers_json);
		txn_blockers_free(&blockers);
		if (!txn_sleep(wait))
			return txn_interrupted_error(err, NULL);
		error_clear(err);
	}
}
