/*
 * executor.c: runs planned steps with the lock discipline of docs/design.md
 * (Locks and retries).
 *
 * Every lock-taking step runs in txn's retrying short transaction;
 * CONCURRENTLY statements run outside any transaction.  Each step is
 * journalled before and after.
 */
#include "executor.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"
#include "db.h"
#include "ledger.h"
#include "quote.h"
#include "txn.h"

/*
 * A concurrent step being watched: its statements are sent without waiting
 * so that, while one runs, an index build's progress is read (from a
 * second connection, opened the first time a statement outlasts a poll).
 */
typedef struct Watch
{
	ExecContext *ctx;
	const Migration *m;
	const Step *s;
	int64_t		t0;
	PGconn	   *reader;			/* NULL: not opened yet */
	bool		reader_failed;	/* progress is not to be had */
} Watch;

#define WATCH_POLL_MS 1000

/* One progress report: the phase and blocks of an index build, if any. */
static void
watch_report(Watch *w)
{
	char		pid[16];
	const char *params[1] = {pid};
	PGresult   *res;
	Error		err = {0};
	const char *phase = NULL;
	int64_t		done = -1;
	int64_t		total = -1;

	if (w->reader == NULL && !w->reader_failed)
	{
		w->reader = db_connect_like(w->ctx->conn, &err);
		w->reader_failed = w->reader == NULL;
		error_clear(&err);
	}
	snprintf(pid, sizeof pid, "%d", PQbackendPID(w->ctx->conn));
	res = w->reader == NULL ? NULL
		: db_query(w->reader, "SELECT phase, blocks_done, blocks_total "
				   "FROM pg_stat_progress_create_index WHERE pid = $1::int", 1, params, &err);
	error_clear(&err);
	if (res != NULL && PQntuples(res) == 1)
	{
		phase = PQgetvalue(res, 0, 0);
		done = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		total = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	progress_step_running(w->ctx->progress, w->m, w->s, now_ms() - w->t0, phase, done, total);
	PQclear(res);
}

/*
 * One statement, sent without waiting; while it runs, a progress report
 * every WATCH_POLL_MS.  SIGINT and SIGTERM cancel it through the session's
 * PQcancel handle, like any statement.
 */
static bool
watched_exec(Watch *w, const char *sql, Error *err)
{
	PGconn	   *conn = w->ctx->conn;
	PGresult   *res;
	int64_t		next_report = now_ms() + WATCH_POLL_MS;
	bool		ok = true;

	if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0))
	{
		const char *message = PQerrorMessage(conn);

		return error_set(err, EXIT_STEP_FAILED, "could not send a statement: %.*s",
						 (int) strcspn(message, "\n"), message);
	}
	while (PQisBusy(conn))
	{
		struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
		int64_t		wait = next_report - now_ms();

		/* EINTR (a signal) just goes round: the cancel ends the statement. */
		(void) poll(&pfd, 1, wait > 0 ? (int) wait : 0);
		if (!PQconsumeInput(conn))
			break;
		if (now_ms() >= next_report && PQisBusy(conn))
		{
			watch_report(w);
			next_report = now_ms() + WATCH_POLL_MS;
		}
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType status = PQresultStatus(res);

		if (ok && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
			status != PGRES_EMPTY_QUERY)
			ok = db_result_error(res, EXIT_STEP_FAILED, err);
		PQclear(res);
	}
	if (ok && PQstatus(conn) == CONNECTION_BAD)
		ok = error_set(err, EXIT_STEP_FAILED, "the connection to the server was lost");
	return ok;
}

/* A statement: watched when w is not NULL. */
static bool
exec_statement(PGconn *conn, Watch *w, const char *sql, Error *err)
{
	return w != NULL ? watched_exec(w, sql, err) : db_exec(conn, sql, err);
}

static bool
run_statements(PGconn *conn, Watch *w, const StrList *sql, Error *err)
{
	for (size_t i = 0; i < sql->n; i++)
		if (!exec_statement(conn, w, sql->items[i], err))
			return false;
	return true;
}

/*
 * A step's statements, then the statement its dynamic_sql returns (built
 * from saved state: a dropped index's definition, say), if any.  w: NULL,
 * or the watch that reports a concurrent step's progress.
 */
static bool
run_step_sql(PGconn *conn, const Step *s, Watch *w, Error *err)
{
	PGresult   *res;
	char	   *stmt = NULL;
	bool		ok;

	if (!run_statements(conn, w, &s->sql, err))
		return false;
	if (s->dynamic_sql == NULL)
		return true;
	res = db_query(conn, s->dynamic_sql, 0, NULL, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
		stmt = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	ok = stmt == NULL || exec_statement(conn, w, stmt, err);
	free(stmt);
	return ok;
}

/*
 * The short transaction of a step (m, s may be NULL) under ctx's settings;
 * journal_row (-1: none) gets the attempts.
 */
static bool
step_txn(ExecContext *ctx, const Migration *m, const Step *s, int64_t journal_row,
		 TxnBody body, void *arg, Error *err)
{
	Txn			t = {0};

	t.conn = ctx->conn;
	t.settings = &ctx->settings;
	t.relation = s ? s->lock_relation : NULL;
	t.deadlock_timeout_ms = &ctx->deadlock_timeout_ms;
	t.progress = ctx->progress;
	t.m = m;
	t.s = s;
	t.journal = ctx->journal;
	t.journal_row = journal_row;
	return txn_run(&t, body, arg, err);
}

/* ---- the ledger: what is done, and whose objects are whose ---- */

static LedgerDirection
direction(bool rollback)
{
	return rollback ? LEDGER_ROLLBACK : LEDGER_APPLY;
}

/*
 * An object that s creates and that exists already must be this
 * migration's own (ledger.h); anything else of that name is an error that
 * names its owner, before anything of the step changes.  *own_exists: some
 * object of s exists and is this migration's.
 */
static bool
check_ownership(PGconn *conn, const Migration *m, const Step *s, bool *own_exists,
				Error *err)
{
	*own_exists = false;
	for (size_t i = 0; i < s->n_owns; i++)
	{
		const OwnedObject *o = &s->owns[i];
		LedgerOwner owner;
		char	   *who;

		if (!ledger_object_owner(conn, o, &owner, err))
			return false;
		if (!owner.exists)
			continue;
		if (owner.recorded && owner.version == m->version)
		{
			*own_exists = true;
			continue;
		}
		/* made only when missing: one of another owner is used, never owned */
		if (o->only_if != NULL)
			continue;
		who = ledger_owner_text(&owner);
		error_set(err, EXIT_STEP_FAILED,
				  "%s %s%s%s already exists, %s, not by this migration; nothing was changed "
				  "for this step (rename one of them, or remove the other first)",
				  o->kind, o->name, o->table ? " on " : "", o->table ? o->table : "", who);
		free(who);
		return false;
	}
	return true;
}

/* The objects of s, as they are now (an oid once they exist). */
static bool
own_objects(PGconn *conn, const Migration *m, const Step *s, Error *err)
{
	for (size_t i = 0; i < s->n_owns; i++)
		if (!ledger_own_object(conn, m->version, s->id, &s->owns[i], err))
			return false;
	return true;
}

/* s completed: its objects and its completion, on the open transaction if any. */
static bool
record_done(PGconn *conn, const Migration *m, const Step *s, bool rollback, Error *err)
{
	return own_objects(conn, m, s, err) &&
		ledger_record_step(conn, m->version, s, direction(rollback), err);
}

/* How far a step got, for its decision to run or be skipped. */
typedef enum StepState
{
	STEP_TO_RUN,
	STEP_RECORDED,				/* the ledger has it done, same definition */
	STEP_FOUND_DONE,			/* not recorded, but its done check holds */
	STEP_TO_REPLACE,			/* recorded with another definition, replaceable */
	STEP_KEPT					/* recorded with another definition, its objects
								 * kept as they were made (docs/design.md) */
} StepState;

/* Why a recorded step is skipped, for people. */
static const char *
skip_reason(StepState state)
{
	return state == STEP_KEPT
		? "already done, from the file as it was then: the file has changed since, and what this "
		"step made is kept as it was made (roll back and apply again to change it)"
		: "already done";
}

static bool already_done(ExecContext *ctx, const Migration *m, const Step *s, bool *done,
						 Error *err);

/*
 * The ledger first: a recorded step is done (unless its definition changed
 * and it replaces its own object).  Then ownership: an object of the step
 * that exists is this migration's, or an error.  Then the step's done
 * check, for what the ledger cannot know: a non-transactional step killed
 * before it was recorded, a migration begun before the ledger existed.
 */
/* What the ledger says of s: STEP_RECORDED, STEP_TO_REPLACE, STEP_KEPT, or STEP_TO_RUN. */
static bool
recorded_state(ExecContext *ctx, const Migration *m, const Step *s, bool rollback,
			   StepState *state, Error *err)
{
	bool		recorded;
	char		had[65];
	char		want[65];

	*state = STEP_TO_RUN;
	if (!ledger_step_is_done(ctx->conn, m->version, s->id, direction(rollback), &recorded,
							 had, err))
		return false;
	if (recorded)
	{
		ledger_step_definition(s, want);
		*state = STEP_RECORDED;
		if (strcmp(had, want) != 0 && s->replace_if_changed)
			*state = STEP_TO_REPLACE;
		else if (strcmp(had, want) != 0 && s->n_owns > 0)
			*state = STEP_KEPT;
	}
	return true;
}

static bool
step_state(ExecContext *ctx, const Migration *m, const Step *s, bool rollback,
		   StepState *state, Error *err)
{
	bool		own_exists;
	bool		done;

	if (!recorded_state(ctx, m, s, rollback, state, err))
		return false;
	if (*state != STEP_TO_RUN)
		return true;
	if (!check_ownership(ctx->conn, m, s, &own_exists, err))
		return false;
	/* a step that replaces its own object is never skipped by name */
	if (s->replace_if_changed)
		return true;
	/* an object of this step exists: its check decides only when it is ours */
	if (!already_done(ctx, m, s, &done, err))
		return false;
	if (done)
		*state = STEP_FOUND_DONE;
	return true;
}

/* ---- one step at a time (the online strategy, rollbacks, finalize) ---- */

typedef struct StepRun
{
	Watch	   *watch;			/* the user's own SQL is watched, so that its live line moves */
	bool		rollback;
} StepRun;

/* A transactional step: its statements and its record commit together. */
static bool
step_body(PGconn *conn, void *arg, Error *err)
{
	const StepRun *r = arg;
	const Step *s = r->watch->s;

	return run_step_sql(conn, s, s->kind == STEP_SQL ? r->watch : NULL, err) &&
		record_done(conn, r->watch->m, s, r->rollback, err);
}

/*
 * true when the step already happened: its done_check says so, or, for a
 * backfill, the database recorded its last batch.
 */
static bool
already_done(ExecContext *ctx, const Migration *m, const Step *s, bool *done, Error *err)
{
	PGresult   *res;

	*done = false;
	if (s->kind == STEP_BACKFILL && s->backfill)
	{
		BackfillState state;

		if (!backfill_step_state(ctx, m, s, &state, err))
			return false;
		if (state == BACKFILL_FINISHED)
		{
			*done = true;
			return true;
		}
	}
	if (s->done_check == NULL)
		return true;
	res = db_query(ctx->conn, s->done_check, 0, NULL, err);
	if (res == NULL)
	{
		error_prefix(err, "checking whether step %s already happened", s->id);
		return false;
	}
	*done = PQntuples(res) == 1 && PQnfields(res) >= 1 &&
		strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

/*
 * Records the step m is at for status (best effort: it is only shown), on
 * the run lock's connection in autocommit, so that it is seen at once by
 * any other session, also while a plain migration's steps run in their one
 * still open transaction: that transaction writes the history row only as
 * its last statement, after the last note, so the note never waits on it
 * (and lock_timeout bounds it if it ever did).
 */
static void
note_step(ExecContext *ctx, const Migration *m, const Step *s)
{
	Error		ignored = {0};

	if (ctx->status_conn == NULL)
		return;
	if (!db_exec(ctx->status_conn, "SET lock_timeout = '100ms'", &ignored) ||
		!history_mark_step(ctx->status_conn, ctx->history_table, m->version, s->id, &ignored))
		error_clear(&ignored);
}

typedef struct Cleanup
{
	const Migration *m;
	const Step *s;
	bool		rollback;
} Cleanup;

static bool
cleanup_forget(PGconn *conn, const Cleanup *c, Error *err)
{
	for (size_t i = 0; i < c->s->on_failure.forget.n; i++)
		if (!ledger_forget_step(conn, c->m->version, c->s->on_failure.forget.items[i],
								direction(c->rollback), err))
			return false;
	return true;
}

static bool
cleanup_body(PGconn *conn, void *arg, Error *err)
{
	const Cleanup *c = arg;

	return run_statements(conn, NULL, &c->s->on_failure.sql, err) && cleanup_forget(conn, c, err);
}

/*
 * After s failed (not interrupted: a resume finishes what a signal stopped):
 * what the planner listed to undo, so that the failure leaves nothing that
 * changes how the application's statements behave.  err gets what it did.
 */
static void
clean_up_failure(ExecContext *ctx, const Migration *m, const Step *s, bool rollback,
				 Error *err)
{
	Cleanup		c = {m, s, rollback};
	Error		cerr = {0};
	bool		ok;

	if (s->on_failure.sql.n == 0 || txn_interrupted())
		return;
	db_rollback_open(ctx->conn);
	if (s->on_failure.in_txn)
		ok = step_txn(ctx, m, s, -1, cleanup_body, &c, &cerr);
	else
		ok = run_statements(ctx->conn, NULL, &s->on_failure.sql, &cerr) &&
			cleanup_forget(ctx->conn, &c, &cerr);
	if (ok)
		error_append(err, "\n  cleaned up: %s", s->on_failure.summary ? s->on_failure.summary
					 : "what the step left");
	else
	{
		error_append(err, "\n  the cleanup failed too (%s): %s", cerr.message,
					 s->on_failure.summary ? s->on_failure.summary : "");
		error_clear(&cerr);
	}
}

/* Runs s (not skipped) by its kind; rows: a backfill's. */
static bool
run_step(ExecContext *ctx, const Migration *m, const Step *s, bool rollback, int64_t row,
		 int64_t t0, int64_t *rows, Error *err)
{
	Watch		watch = {ctx, m, s, t0, NULL, false};
	StepRun		r = {&watch, rollback};
	bool		ok;

	if (s->batched)
		return backfill_run(ctx, m, s, rows, err) &&
			record_done(ctx->conn, m, s, rollback, err);
	if (s->in_txn)
	{
		ok = step_txn(ctx, m, s, row, step_body, &r, err);
		if (watch.reader != NULL)
			PQfinish(watch.reader);
		return ok;
	}

	/*
	 * CONCURRENTLY and non-transactional SQL: no transaction may be open on
	 * this connection, or a concurrent build would wait on itself.  No
	 * lock_timeout either: the SHARE UPDATE EXCLUSIVE they take does not
	 * block the application, and their waits for old snapshots are lock
	 * waits that a short timeout would cancel.  Its objects are recorded as
	 * this migration's before it starts (so that a resume knows an INVALID
	 * leftover as its own), its completion right after.
	 */
	db_rollback_open(ctx->conn);
	ok = own_objects(ctx->conn, m, s, err) &&
		run_step_sql(ctx->conn, s, s->kind == STEP_CONCURRENT || s->kind == STEP_SQL
					 ? &watch : NULL, err);
	if (watch.reader != NULL)
		PQfinish(watch.reader);
	if (!ok && txn_interrupted())
		return txn_interrupted_error(err, NULL);
	return ok && record_done(ctx->conn, m, s, rollback, err);
}

bool
execute_step(ExecContext *ctx, const Migration *m, const Step *s,
			 bool rollback, Error *err)
{
	int64_t		row = -1;
	int64_t		t0 = now_ms();
	int64_t		rows = -1;
	StepState	state;
	bool		ok;

	if (txn_interrupted())
		return txn_interrupted_error(err, NULL);
	if (!step_state(ctx, m, s, rollback, &state, err))
	{
		error_prefix(err, "step %s (%s)", s->id, s->summary);
		return false;
	}
	if (ctx->journal)
		row = journal_step_begin(ctx->journal, ctx->run_id, m, s, rollback);
	if (state == STEP_RECORDED || state == STEP_KEPT || state == STEP_FOUND_DONE)
	{
		/* found done by its check: recorded now, so that rollback knows it */
		ok = state != STEP_FOUND_DONE || record_done(ctx->conn, m, s, rollback, err);
		if (!ok)
			return false;
		progress_step_skipped(ctx->progress, m, s, skip_reason(state));
		if (ctx->journal)
			journal_step_end(ctx->journal, row, "skipped", NULL, -1);
		return true;
	}
	progress_step_started(ctx->progress, m, s);
	note_step(ctx, m, s);
	ok = run_step(ctx, m, s, rollback, row, t0, &rows, err);
	if (!ok)
	{
		error_prefix(err, "step %s (%s)", s->id, s->summary);
		clean_up_failure(ctx, m, s, rollback, err);
		if (ctx->journal)
			journal_step_end(ctx->journal, row,
							 txn_interrupted() ? "interrupted" : "failed",
							 err->message, rows);
		return false;
	}
	if (ctx->journal)
		journal_step_end(ctx->journal, row, "completed", NULL, rows);
	progress_step_finished(ctx->progress, m, s, now_ms() - t0, rows);
	return true;
}

/* ---- the plain strategy: the whole migration in one transaction ---- */

typedef struct PlainGroup
{
	ExecContext *ctx;
	const Migration *m;
	const Step *const *steps;	/* the group's steps, in order to run */
	size_t		n;
	int64_t    *rows;			/* journal rows */
	size_t		failed;			/* index of the failing step */
	bool		rollback;
	bool		mark_completed; /* history row commits with the group */
	bool		mark_rolled_back;
	int64_t		t0;
} PlainGroup;

static bool
plain_group_body(PGconn *conn, void *arg, Error *err)
{
	PlainGroup *g = arg;
	ExecContext *ctx = g->ctx;

	for (size_t i = 0; i < g->n; i++)
	{
		const Step *s = g->steps[i];
		bool		own_exists;

		g->failed = i;
		note_step(ctx, g->m, s);
		if (!check_ownership(conn, g->m, s, &own_exists, err) ||
			!run_step_sql(conn, s, NULL, err) ||
			!record_done(conn, g->m, s, g->rollback, err))
		{
			error_prefix(err, "step %s (%s)", s->id, s->summary);
			return false;
		}
	}
	g->failed = g->n;
	if (g->mark_completed)
		return ledger_end_apply(conn, g->m->version, err) &&
			history_mark_completed(conn, ctx->history_table, g->m,
								   now_ms() - g->t0, err);
	if (g->mark_rolled_back)
		return ledger_end_rollback(conn, g->m->version, err) &&
			history_mark_rolled_back(conn, ctx->history_table, g->m->version, err);
	return true;
}

size_t
executor_group_end(const Step *const *steps, size_t n, size_t i)
{
	size_t		j = i + 1;

	if (i >= n)
		return n;
	if (!steps[i]->in_txn)
		return j;
	while (j < n && steps[j]->in_txn)
		j++;
	return j;
}

/*
 * Runs steps in order: consecutive transactional ones together in one
 * transaction (executor_group_end), the others alone.  When every step is
 * transactional, the history change commits with them.  Steps the ledger has
 * done are left out (a plain migration resumed after a non-transactional step).
 */
static bool
run_grouped(ExecContext *ctx, const Migration *m, const Step *const *steps,
			size_t n, bool rollback, bool *history_done, int64_t t0, Error *err)
{
	bool		all_txn = true;
	size_t		i = 0;
	const Step **todo = xcalloc(n + 1, sizeof(Step *));
	size_t		n_todo = 0;

	for (size_t k = 0; k < n; k++)
	{
		StepState	state;

		/* one that replaces its own object after a fix of the file runs again */
		if (!recorded_state(ctx, m, steps[k], rollback, &state, err))
		{
			free(todo);
			return false;
		}
		if (state == STEP_RECORDED || state == STEP_KEPT)
		{
			progress_step_skipped(ctx->progress, m, steps[k], skip_reason(state));
			continue;
		}
		todo[n_todo++] = steps[k];
		if (!steps[k]->in_txn)
			all_txn = false;
	}
	steps = todo;
	n = n_todo;
	*history_done = false;

	while (i < n)
	{
		PlainGroup	g = {0};
		size_t		j;
		bool		ok;

		if (!steps[i]->in_txn)
		{
			if (!execute_step(ctx, m, steps[i], rollback, err))
			{
				free(todo);
				return false;
			}
			i++;
			continue;
		}
		j = executor_group_end(steps, n, i);
		g.ctx = ctx;
		g.m = m;
		g.steps = steps + i;
		g.n = j - i;
		g.t0 = t0;
		g.rollback = rollback;
		g.mark_completed = all_txn && !rollback;
		g.mark_rolled_back = all_txn && rollback;
		g.rows = xcalloc(g.n, sizeof(int64_t));
		for (size_t k = 0; k < g.n; k++)
		{
			g.rows[k] = ctx->journal
				? journal_step_begin(ctx->journal, ctx->run_id, m, g.steps[k], rollback) : -1;
			progress_step_started(ctx->progress, m, g.steps[k]);
		}
		ok = step_txn(ctx, m, g.steps[0], g.rows[0], plain_group_body, &g, err);
		for (size_t k = 0; k < g.n; k++)
		{
			if (ok)
			{
				if (ctx->journal)
					journal_step_end(ctx->journal, g.rows[k], "completed", NULL, -1);
				progress_step_finished(ctx->progress, m, g.steps[k], now_ms() - t0, -1);
			}
			else if (ctx->journal)
				journal_step_end(ctx->journal, g.rows[k],
								 k == g.failed ? "failed" : "aborted",
								 k == g.failed ? err->message : "rolled back with its transaction",
								 -1);
		}
		free(g.rows);
		if (!ok)
		{
			free(todo);
			return false;
		}
		*history_done = all_txn;
		i = j;
	}
	free(todo);
	return true;
}

/* ---- migrations ---- */

/*
 * The end of a failure's message: what it left in place (the steps that
 * completed, as the ledger has them) and the two ways on.
 */
static void
explain_failure(ExecContext *ctx, const MigrationPlan *mp, bool rollback, Error *err)
{
	StrList		done = {0};
	Error		ignored = {0};

	if (err->exit_code == EXIT_SIGINT || err->exit_code == EXIT_SIGTERM)
		return;
	db_rollback_open(ctx->conn);
	if (!ledger_done_steps(ctx->conn, mp->migration->version, direction(rollback), &done,
						   &ignored))
		error_clear(&ignored);
	if (done.n == 0)
		error_append(err, "\n  left in place: nothing of this %s",
					 rollback ? "rollback" : "migration");
	else
		error_append(err, "\n  left in place: what %zu of its %zu steps did (%s to %s)",
					 done.n, mp->n_steps, done.items[0], done.items[done.n - 1]);
	if (rollback)
		error_append(err, "\n  run \"migrate rollback\" again after a fix to go on undoing it");
	else
		error_append(err, "\n  run \"migrate apply\" after a fix to resume, or \"migrate rollback\" "
					 "to undo what completed");
	strlist_free(&done);
}

static void
record_failure(ExecContext *ctx, const Migration *m, int64_t t0, Error *err)
{
	Error		ignored = {0};

	db_rollback_open(ctx->conn);
	if (!history_mark_failed(ctx->conn, ctx->history_table, m, err->message, now_ms() - t0,
							 err->exit_code == EXIT_SIGINT || err->exit_code == EXIT_SIGTERM,
							 &ignored))
		error_clear(&ignored);
	progress_migration_failed(ctx->progress, m, err->message);
}

bool
execute_migration(ExecContext *ctx, const MigrationPlan *mp, Error *err)
{
	const Migration *m = mp->migration;
	int64_t		t0 = now_ms();
	const Step **run = xcalloc(mp->n_steps + 1, sizeof(Step *));
	size_t		n_run = 0;
	bool		history_done = false;
	bool		ok;

	for (size_t i = 0; i < mp->n_steps; i++)
	{
		/* The contract phase waits for finalize in the online strategy. */
		if (mp->steps[i].deferred)
			continue;
		run[n_run++] = &mp->steps[i];
	}

	ok = ledger_begin_apply(ctx->conn, m->version, NULL, err) &&
		history_mark_running_as(ctx->conn, ctx->history_table, m, mp->strategy,
								ctx->applied_by, err);
	if (ok)
	{
		progress_migration_started(ctx->progress, m, mp->strategy, n_run, false);
		if (mp->strategy == STRATEGY_PLAIN)
			ok = run_grouped(ctx, m, run, n_run, false, &history_done, t0, err);
		else
			for (size_t i = 0; ok && i < n_run; i++)
				ok = execute_step(ctx, m, run[i], false, err);
	}
	if (ok && !history_done)
		ok = ledger_end_apply(ctx->conn, m->version, err) &&
			history_mark_completed(ctx->conn, ctx->history_table, m, now_ms() - t0, err);
	free(run);

	if (!ok)
	{
		error_prefix(err, "migration %s_%s", m->version_text, m->name);
		explain_failure(ctx, mp, false, err);
		record_failure(ctx, m, t0, err);
		return false;
	}
	progress_migration_finished(ctx->progress, m, now_ms() - t0, false);
	return true;
}

bool
executor_done_in_database(ExecContext *ctx, const MigrationPlan *mp, StrList *out,
						  Error *err)
{
	size_t		pending = 0;	/* steps without a done check, not yet settled */

	for (size_t i = 0; i < mp->n_steps; i++)
	{
		const Step *s = &mp->steps[i];
		bool		done;

		if (s->done_check == NULL)
		{
			pending++;
			continue;
		}
		if (!already_done(ctx, mp->migration, s, &done, err))
			return false;
		if (!done)
			break;
		for (size_t k = i - pending; k <= i; k++)
			strlist_push(out, xstrdup(mp->steps[k].id));
		pending = 0;
	}
	return true;
}

bool
executor_add_started_backfills(ExecContext *ctx, const MigrationPlan *mp, StrList *done,
							   Error *err)
{
	for (size_t i = 0; i < mp->n_steps; i++)
	{
		const Step *s = &mp->steps[i];
		BackfillState state;

		if (s->kind != STEP_BACKFILL || s->backfill == NULL || strlist_contains(done, s->id))
			continue;
		if (!backfill_step_state(ctx, mp->migration, s, &state, err))
			return false;
		if (state != BACKFILL_NOT_STARTED)
			strlist_add(done, s->id);
	}
	return true;
}

bool
executor_completed_steps(ExecContext *ctx, const MigrationPlan *mp, StrList *out,
						 bool *known, Error *err)
{
	StrList		done = {0};

	*known = false;
	if (!ledger_knows(ctx->conn, mp->migration->version, known, err))
		return false;
	if (!*known)
		return true;
	if (!ledger_done_steps(ctx->conn, mp->migration->version, LEDGER_APPLY, &done, err))
		return false;
	/* in the plan's order: rollback undoes the newest first */
	for (size_t i = 0; i < mp->n_steps; i++)
		if (strlist_contains(&done, mp->steps[i].id))
			strlist_add(out, mp->steps[i].id);
	strlist_free(&done);
	return true;
}

bool
execute_rollback(ExecContext *ctx, const MigrationPlan *mp, const StrList *done,
				 Error *err)
{
	const Migration *m = mp->migration;
	int64_t		t0 = now_ms();
	const Step **run;
	size_t		n_run = 0;
	bool		history_done = false;
	bool		ok = true;

	if (!plan_rollback_steps(mp, done, &run, &n_run, err))
		return false;

	ok = ledger_begin_rollback(ctx->conn, m->version, err);
	/* a plain rollback is one transaction with its history row: all or nothing */
	if (ok && mp->strategy != STRATEGY_PLAIN)
		ok = history_mark_rolling_back(ctx->conn, ctx->history_table, m->version, err);
	if (ok)
		progress_migration_started(ctx->progress, m, mp->strategy, n_run, true);
	if (ok && mp->strategy == STRATEGY_PLAIN)
		ok = run_grouped(ctx, m, run, n_run, true, &history_done, t0, err);
	else if (ok)
	{
		/* the inverse of an online migration is online: batched, short locks */
		for (size_t i = 0; ok && i < n_run; i++)
			ok = execute_step(ctx, m, run[i], true, err);
	}
	/*
	 * Every backfill's cursor, also one cut short, and those of the undoing
	 * walks: a later apply (and its rollback) starts afresh.  Only now: a
	 * killed rollback resumes knowing how far each backfill went.
	 */
	for (size_t i = 0; ok && i < mp->n_steps; i++)
		if (mp->steps[i].kind == STEP_BACKFILL)
		{
			backfill_forget_cursor(ctx, m, &mp->steps[i]);
			for (size_t k = 0; k < mp->steps[i].n_rollback; k++)
				if (mp->steps[i].rollback[k].kind == STEP_BACKFILL)
					backfill_forget_cursor(ctx, m, &mp->steps[i].rollback[k]);
		}
	if (ok && !history_done)
		ok = ledger_end_rollback(ctx->conn, m->version, err) &&
			history_mark_rolled_back(ctx->conn, ctx->history_table, m->version, err);
	free(run);
	if (!ok)
	{
		db_rollback_open(ctx->conn);
		error_prefix(err, "rollback of migration %s_%s", m->version_text, m->name);
		explain_failure(ctx, mp, true, err);
		progress_migration_failed(ctx->progress, m, err->message);
		return false;
	}
	progress_migration_finished(ctx->progress, m, now_ms() - t0, true);
	return true;
}
