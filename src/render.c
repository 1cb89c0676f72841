/*
 * render.c: a Plan as text (for people), as SQL (for psql) and as JSON (for
 * pipelines).
 *
 * The JSON document (one per call, stable; keys always present, null when
 * there is nothing):
 *
 *   {"strategy": "online" | "plain",
 *    "connected": bool,                  planned against a database?
 *    "migrations": [
 *      {"version": 1, "name": "add_status", "file": "migrations/0001_add_status.yaml",
 *       "description": str | null, "checksum": "sha256:...",
 *       "irreversible": bool,             rollback cannot undo what apply does
 *       "steps": [
 *         {"id": "1.1.1", "operation": "add_column",
 *          "phase": "expand" | "backfill" | "validate" | "contract",
 *          "kind": "ddl" | "concurrent" | "backfill" | "sql",
 *          "summary": str, "sql": [str, ...],
 *          "dynamic_sql": str | null,      a SELECT returning a statement to run after sql
 *          "lock": {"mode": "ACCESS EXCLUSIVE" | ... | "none", "relation": str | null,
 *                   "rewrite": true, "scan": true (only when so: raw SQL)},
 *          "in_transaction": bool, "estimated_rows": int | null,
 *          "done_check": str | null,       a SELECT that is true once the step happened
 *          "warning": str | null, "irreversible": str | null,
 *          "why_plain": str | null,       an online plan's plain statements: why
 *          "rollback": [ steps of the same shape, without "rollback" ]}]}]}
 *
 * The SQL script runs under psql -v ON_ERROR_STOP=1: transactional steps in
 * BEGIN ... COMMIT with SET LOCAL lock_timeout (and statement_timeout), in
 * the plain strategy a whole migration's run of transactional steps in one
 * transaction; CONCURRENTLY steps bare; backfills as one plain UPDATE; the
 * online contract phase commented out, for finalize.  It does not write the
 * history table: that is apply's job.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "ledger.h"

#define ANSI_BOLD "\033[1m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_RED "\033[31m"
#define ANSI_RESET "\033[0m"

const char *
format_name(Format f)
{
	switch (f)
	{
		case FORMAT_TEXT:
			return "text";
		case FORMAT_JSON:
			return "json";
		case FORMAT_SQL:
			return "sql";
	}
	return "?";
}

int
format_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (int f = FORMAT_TEXT; f <= FORMAT_SQL; f++)
		if (strcasecmp(name, format_name((Format) f)) == 0)
			return f;
	return -1;
}

/* Why the migration cannot be rolled back: its first irreversible step's reason. */
static const char *
irreversible_reason(const MigrationPlan *mp)
{
	for (size_t i = 0; i < mp->n_steps; i++)
	{
		const Step *s = &mp->steps[i];

		if (s->irreversible && !s->deferred)
			return s->irreversible;
	}
	return NULL;
}

/* Each line of text, after indent. */
static void
put_indented(Buf *b, const char *indent, const char *text)
{
	const char *line = text;

	while (*line)
	{
		const char *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);

		buf_puts(b, indent);
		buf_putn(b, line, len);
		buf_putc(b, '\n');
		line += len + (nl ? 1 : 0);
	}
}

/* ---- text ---- */

typedef struct TextStyle
{
	const char *bold;
	const char *warn;
	const char *danger;
	const char *reset;
} TextStyle;

static void
text_step_body(Buf *b, const Step *s, const char *indent, const TextStyle *st)
{
	char	   *sql_indent = xasprintf("%s  ", indent);

	buf_printf(b, "%slock: %s", indent, lock_mode_name(s->lock));
	if (s->lock_relation && s->lock != LOCK_NONE)
		buf_printf(b, " on %s", s->lock_relation);
	if (s->rewrites)
		buf_puts(b, " (rewrites it)");
	else if (s->scans)
		buf_puts(b, " (scans it)");
	buf_puts(b, s->in_txn ? ", in transaction" : ", outside a transaction");
	if (s->kind == STEP_BACKFILL)
		buf_puts(b, ", in batches");
	if (s->est_rows >= 0)
		buf_printf(b, ", ~%lld rows", (long long) s->est_rows);
	buf_putc(b, '\n');
	for (size_t i = 0; i < s->sql.n; i++)
	{
		char	   *stmt = xasprintf("%s;", s->sql.items[i]);

		put_indented(b, sql_indent, stmt);
		free(stmt);
	}
	if (s->dynamic_sql)
	{
		buf_printf(b, "%sthen the statement that this returns:\n", indent);
		put_indented(b, sql_indent, s->dynamic_sql);
	}
	if (s->why_plain)
		buf_printf(b, "%s(%s)\n", indent, s->why_plain);
	if (s->warning)
		buf_printf(b, "%s%swarning: %s%s\n", indent, st->warn, s->warning, st->reset);
	if (s->irreversible)
		buf_printf(b, "%s%sirreversible: %s%s\n", indent, st->danger, s->irreversible, st->reset);
	free(sql_indent);
}

static void
render_text(Buf *b, const Plan *plan, const RenderOptions *opts)
{
	TextStyle	st = {"", "", "", ""};

	if (opts->color)
		st = (TextStyle) {ANSI_BOLD, ANSI_YELLOW, ANSI_RED, ANSI_RESET};
	if (plan->n == 0)
	{
		buf_puts(b, "Nothing to apply: all migrations are applied.\n");
		return;
	}
	buf_printf(b, "Plan: %zu migration%s, %s strategy%s\n", plan->n, plan->n == 1 ? "" : "s",
			   strategy_name(plan->strategy),
			   opts->connected ? "" : " (no database: every migration, no row estimates)");
	for (size_t i = 0; i < plan->n; i++)
	{
		const MigrationPlan *mp = &plan->items[i];
		const Migration *m = mp->migration;
		const char *why = irreversible_reason(mp);

		buf_printf(b, "\n%sMigration %s_%s%s (%s, %zu step%s)\n", st.bold, m->version_text,
				   m->name, st.reset, strategy_name(mp->strategy), mp->n_steps,
				   mp->n_steps == 1 ? "" : "s");
		if (m->description)
			buf_printf(b, "  %s\n", m->description);
		if (why)
			buf_printf(b, "  %sirreversible: %s%s\n", st.danger, why, st.reset);
		for (size_t k = 0; k < mp->n_steps; k++)
		{
			const Step *s = &mp->steps[k];

			buf_printf(b, "\n  %zu. [%s] %s: %s%s\n", k + 1, s->id, step_phase_name(s->phase),
					   s->summary,
					   s->deferred ? " (run by finalize)" : "");
			text_step_body(b, s, "     ", &st);
			for (size_t r = 0; r < s->n_rollback; r++)
			{
				buf_printf(b, "     undo [%s]: %s\n", s->rollback[r].id, s->rollback[r].summary);
				text_step_body(b, &s->rollback[r], "       ", &st);
			}
		}
	}
}

/* ---- SQL ---- */

/*
 * One statement, terminated so that psql runs it.  A user's statement may
 * end in a "--" comment, which would swallow the semicolon.
 */
static void
sql_statement(Buf *b, const char *stmt, bool from_user)
{
	const char *last_line = strrchr(stmt, '\n');
	bool		comment = from_user && strstr(last_line ? last_line : stmt, "--");

	buf_puts(b, stmt);
	buf_puts(b, comment ? "\n;\n" : ";\n");
}

static void
sql_begin(Buf *b, const Settings *st)
{
	buf_puts(b, "BEGIN;\n");
	buf_printf(b, "SET LOCAL lock_timeout = '%lldms';\n", (long long) st->lock_timeout_ms);
	if (st->statement_timeout_ms > 0)
		buf_printf(b, "SET LOCAL statement_timeout = '%lldms';\n",
				   (long long) st->statement_timeout_ms);
}

/* A step's statements; dynamic ones through psql's \gexec. */
static void
sql_step(Buf *b, const Step *s)
{
	char	   *summary = xasprintf("-- %s %s\n", s->id, s->summary);

	/* a summary holds names: keep a newline in one from ending the comment */
	for (char *p = summary + 3; p[1]; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	buf_puts(b, summary);
	free(summary);
	if (s->warning)
		buf_printf(b, "-- warning: %s\n", s->warning);
	if (s->kind == STEP_BACKFILL && s->backfill)
		buf_puts(b, "-- apply runs this in batches, each its own short transaction; "
				 "here it is one UPDATE\n");
	for (size_t i = 0; i < s->sql.n; i++)
		sql_statement(b, s->sql.items[i], s->kind == STEP_SQL);
	if (s->dynamic_sql)
		buf_printf(b, "%s\n\\gexec\n", s->dynamic_sql);
}

/* Whether a statement of the plan reads the ledger's objects. */
static bool
plan_reads_ledger(const Plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		for (size_t k = 0; k < plan->items[i].n_steps; k++)
		{
			const Step *s = &plan->items[i].steps[k];

			for (size_t q = 0; q < s->sql.n; q++)
				if (strstr(s->sql.items[q], "migrate.ledger_objects"))
					return true;
		}
	return false;
}

static void
render_sql_migration(Buf *b, const MigrationPlan *mp, const Settings *st)
{
	const Migration *m = mp->migration;
	bool		in_txn = false;
	bool		any_contract = false;
	const char *why = irreversible_reason(mp);

	buf_printf(b, "\n-- migration %s_%s (%s strategy, %zu steps)\n", m->version_text, m->name,
			   strategy_name(mp->strategy), mp->n_steps);
	if (m->checksum)
		buf_printf(b, "-- checksum %s\n", m->checksum);
	if (why)
		buf_printf(b, "-- irreversible: %s\n", why);
	for (size_t i = 0; i < mp->n_steps; i++)
	{
		const Step *s = &mp->steps[i];
		bool		transactional = s->in_txn && s->kind != STEP_BACKFILL;

		if (s->deferred)
		{
			any_contract = true;
			continue;
		}
		/* plain: one transaction per run of transactional steps (backfills too) */
		if (mp->strategy == STRATEGY_PLAIN)
			transactional = s->in_txn;
		if (in_txn && (!transactional || mp->strategy == STRATEGY_ONLINE))
		{
			buf_puts(b, "COMMIT;\n");
			in_txn = false;
		}
		if (transactional && !in_txn)
		{
			sql_begin(b, st);
			in_txn = true;
		}
		sql_step(b, s);
	}
	if (in_txn)
		buf_puts(b, "COMMIT;\n");
	if (!any_contract)
		return;
	buf_puts(b, "\n-- run at finalize (migrate finalize), once the old code is gone:\n");
	for (size_t i = 0; i < mp->n_steps; i++)
	{
		const Step *s = &mp->steps[i];
		Buf			step;

		if (!s->deferred)
			continue;
		buf_init(&step);
		sql_step(&step, s);
		put_indented(b, "-- ", step.data);
		buf_free(&step);
	}
}

static void
render_sql(Buf *b, const Plan *plan, const RenderOptions *opts)
{
	Settings	defaults;
	const Settings *st = opts->settings;

	if (st == NULL)
	{
		settings_defaults(&defaults);
		st = &defaults;
	}
	buf_printf(b, "-- migrate plan, %s strategy: run with psql -v ON_ERROR_STOP=1 -f <file>\n",
			   strategy_name(plan->strategy));
	buf_puts(b, "-- (it does not record the migrations in the history table)\n");
	if (plan_reads_ledger(plan))
	{
		size_t		n;
		const char *const *ledger = ledger_schema_sql(&n);

		/* the guards of steps that drop or replace only their own objects read it */
		buf_puts(b, "\n-- the ledger (schema migrate), which steps that replace or drop only "
				 "objects of their own read\n");
		for (size_t i = 0; i < n; i++)
			buf_printf(b, "%s;\n", ledger[i]);
	}
	if (plan->n == 0)
		buf_puts(b, "-- Nothing to apply: all migrations are applied.\n");
	for (size_t i = 0; i < plan->n; i++)
		render_sql_migration(b, &plan->items[i], st);
}

/* ---- JSON ---- */

/* A member of the document (key NULL: an element of an array). */
static void
member(JsonWriter *j, const char *key)
{
	if (key)
		json_key(j, key);
}

static void
json_open(JsonWriter *j, const char *key, char bracket)
{
	member(j, key);
	if (bracket == '{')
		json_begin_object(j);
	else
		json_begin_array(j);
}

static void
json_close(JsonWriter *j, char bracket)
{
	if (bracket == '}')
		json_end_object(j);
	else
		json_end_array(j);
}

static void
json_step(JsonWriter *j, const Migration *m, const Step *s, bool with_rollback)
{
	json_open(j, NULL, '{');
	json_member_string(j, "id", s->id);
	json_member_string(j, "operation", s->op_index >= 0 && (size_t) s->op_index < m->n_ops
					   ? op_kind_name(m->ops[s->op_index].kind) : NULL);
	json_member_string(j, "phase", step_phase_name(s->phase));
	json_member_string(j, "kind", step_kind_name(s->kind));
	json_member_string(j, "summary", s->summary);
	json_open(j, "sql", '[');
	for (size_t i = 0; i < s->sql.n; i++)
		json_member_string(j, NULL, s->sql.items[i]);
	json_close(j, ']');
	json_member_string(j, "dynamic_sql", s->dynamic_sql);
	json_open(j, "lock", '{');
	json_member_string(j, "mode", lock_mode_name(s->lock));
	json_member_string(j, "relation", s->lock == LOCK_NONE ? NULL : s->lock_relation);
	if (s->rewrites)
		json_member_bool(j, "rewrite", true);
	if (s->scans)
		json_member_bool(j, "scan", true);
	json_close(j, '}');
	json_member_bool(j, "in_transaction", s->in_txn);
	json_member_int_or_null(j, "estimated_rows", s->est_rows, s->est_rows >= 0);
	json_member_string(j, "done_check", s->done_check);
	json_member_string(j, "warning", s->warning);
	json_member_string(j, "irreversible", s->irreversible);
	json_member_string(j, "why_plain", s->why_plain);
	if (with_rollback)
	{
		json_open(j, "rollback", '[');
		for (size_t i = 0; i < s->n_rollback; i++)
			json_step(j, m, &s->rollback[i], false);
		json_close(j, ']');
	}
	json_close(j, '}');
}

static void
render_json(Buf *b, const Plan *plan, const RenderOptions *opts)
{
	JsonWriter	j;

	json_init_pretty(&j, b);
	json_open(&j, NULL, '{');
	json_member_string(&j, "strategy", strategy_name(plan->strategy));
	json_member_bool(&j, "connected", opts->connected);
	json_open(&j, "migrations", '[');
	for (size_t i = 0; i < plan->n; i++)
	{
		const MigrationPlan *mp = &plan->items[i];
		const Migration *m = mp->migration;

		json_open(&j, NULL, '{');
		json_member_int_or_null(&j, "version", m->version, true);
		json_member_string(&j, "name", m->name);
		json_member_string(&j, "file", m->path);
		json_member_string(&j, "description", m->description);
		json_member_string(&j, "checksum", m->checksum);
		json_member_bool(&j, "irreversible", irreversible_reason(mp) != NULL);
		json_open(&j, "steps", '[');
		for (size_t k = 0; k < mp->n_steps; k++)
			json_step(&j, m, &mp->steps[k], true);
		json_close(&j, ']');
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	buf_putc(b, '\n');
}

void
render_plan(FILE *out, const Plan *plan, Format fmt, const RenderOptions *opts)
{
	Buf			b;
	RenderOptions none = {false, false, NULL};

	if (opts == NULL)
		opts = &none;
	buf_init(&b);
	switch (fmt)
	{
		case FORMAT_TEXT:
			render_text(&b, plan, opts);
			break;
		case FORMAT_SQL:
			render_sql(&b, plan, opts);
			break;
		case FORMAT_JSON:
			render_json(&b, plan, opts);
			break;
	}
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

/* ---- status ---- */

/* A running backfill's rows per second since its step started; 0: unknown. */
static double
status_rate(const StatusEntry *e)
{
	if (e->backfill && e->rows_per_sec > 0)
		return e->rows_per_sec;
	if (!e->backfill || e->step_elapsed_ms <= 0 || e->rows_done <= 0)
		return 0;
	return e->rows_done * 1000.0 / (double) e->step_elapsed_ms;
}

/* Seconds left at rate; -1: unknown. */
static int64_t
status_eta_s(const StatusEntry *e, double rate)
{
	if (rate <= 0 || e->rows_total < 0)
		return -1;
	return e->rows_done >= e->rows_total ? 0 : (int64_t) ((e->rows_total - e->rows_done) / rate);
}

static void
status_json(Buf *b, const StatusEntry *e, size_t n)
{
	JsonWriter	j;

	json_init_pretty(&j, b);
	json_open(&j, NULL, '{');
	json_open(&j, "migrations", '[');
	for (size_t i = 0; i < n; i++)
	{
		const Migration *m = e[i].m;
		const HistoryRow *row = e[i].row;

		json_open(&j, NULL, '{');
		json_member_int_or_null(&j, "version", m ? m->version : row->version, true);
		json_member_string(&j, "name", m ? m->name : row->name);
		json_member_string(&j, "file", m ? m->path : NULL);
		json_member_string(&j, "status", e[i].status);
		json_member_bool(&j, "drifted", e[i].drifted);
		json_member_bool(&j, "interrupted", e[i].interrupted);
		json_member_string(&j, "checksum", m ? m->checksum : row->checksum);
		json_member_string(&j, "applied_at", row && row->status == HISTORY_COMPLETED
				 ? row->completed_at : NULL);
		json_member_int_or_null(&j, "execution_ms", row ? row->execution_ms : -1,
				 row && row->execution_ms >= 0);
		json_member_string(&j, "error", row ? row->error_message : NULL);
		/* null: not applied online, nothing to finalize */
		if (e[i].online)
			json_member_bool(&j, "finalized", row->finalized_at != NULL);
		else
			json_member_string(&j, "finalized", NULL);
		json_member_string(&j, "finalized_at", e[i].online ? row->finalized_at : NULL);
		json_member_bool(&j, "text_kept", row && row->source);
		if (e[i].step_id)
		{
			double		rate = status_rate(&e[i]);

			json_open(&j, "current", '{');
			json_member_string(&j, "step", e[i].step_id);
			json_member_string(&j, "summary", e[i].step_summary);
			json_member_int_or_null(&j, "elapsed_ms", e[i].step_elapsed_ms, e[i].step_elapsed_ms >= 0);
			json_member_int_or_null(&j, "rows_done", e[i].rows_done, e[i].backfill);
			json_member_int_or_null(&j, "rows_total", e[i].rows_total,
									e[i].backfill && e[i].rows_total >= 0);
			json_member_int_or_null(&j, "rows_per_sec", (int64_t) rate, rate > 0);
			json_member_int_or_null(&j, "eta_s", status_eta_s(&e[i], rate), status_eta_s(&e[i], rate) >= 0);
			json_close(&j, '}');
		}
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	buf_putc(b, '\n');
}

static void
status_text(Buf *b, const StatusEntry *e, size_t n)
{
	static const char ways_out[] =
		"\n    run \"migrate apply\" to resume, or \"migrate rollback\" to undo what completed";

	if (n == 0)
		buf_puts(b, "No migrations.\n");
	for (size_t i = 0; i < n; i++)
	{
		const Migration *m = e[i].m;
		const HistoryRow *row = e[i].row;
		char	   *label = m ? xasprintf("%s_%s", m->version_text, m->name)
			: xasprintf("%lld_%s", (long long) row->version, row->name);

		buf_printf(b, "%-40s %-12s", label,
				   row && row->status == HISTORY_FAILED && e[i].interrupted
				   ? "interrupted" : e[i].status);
		if (row && row->status == HISTORY_COMPLETED && row->completed_at)
			buf_printf(b, " %s", row->completed_at);
		if (e[i].online)
			buf_puts(b, row->finalized_at ? "  finalized" : "  not finalized");
		if (e[i].drifted)
			buf_puts(b, "  DRIFTED: the file changed since it was applied");
		if (!m)
			buf_puts(b, row && row->source ? "  (no file; its text is kept in the history)"
					 : "  (no file)");
		if (row && row->status == HISTORY_FAILED && row->error_message)
			buf_printf(b, "\n    error: %s%s", row->error_message, ways_out);
		if (e[i].step_id)
		{
			double		rate = status_rate(&e[i]);
			int64_t		eta = status_eta_s(&e[i], rate);

			buf_printf(b, "\n    at step %s: %s", e[i].step_id,
					   e[i].step_summary ? e[i].step_summary : "");
			if (e[i].step_elapsed_ms >= 0)
				buf_printf(b, " (for %lld s)", (long long) (e[i].step_elapsed_ms / 1000));
			if (e[i].backfill && e[i].rows_total > 0)
				buf_printf(b, "\n    %lld / %lld rows (%d%%)", (long long) e[i].rows_done,
						   (long long) e[i].rows_total,
						   (int) (100 * (e[i].rows_done < e[i].rows_total
										 ? e[i].rows_done : e[i].rows_total) / e[i].rows_total));
			else if (e[i].backfill)
				buf_printf(b, "\n    %lld rows", (long long) e[i].rows_done);
			if (rate > 0)
				buf_printf(b, ", %.0f rows/s", rate);
			if (eta >= 0)
				buf_printf(b, ", ETA %lld s", (long long) eta);
		}
		if (!(row && row->status == HISTORY_FAILED && row->error_message) && e[i].interrupted)
			buf_printf(b, "\n    interrupted: no migrate is running it (killed, or its "
					   "connection was lost)%s", ways_out);
		buf_putc(b, '\n');
		free(label);
	}
}

void
render_status(FILE *out, const StatusEntry *entries, size_t n, Format fmt)
{
	Buf			b;

	buf_init(&b);
	if (fmt == FORMAT_JSON)
		status_json(&b, entries, n);
	else
		status_text(&b, entries, n);
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

/* ---- finalize ---- */

void
render_finalize_plan(FILE *out, const FinalizeItem *items, size_t n, bool dry_run,
					 Format fmt)
{
	Buf			b;

	buf_init(&b);
	if (fmt == FORMAT_JSON)
	{
		/* one line: it is the first event of the run's stream */
		JsonWriter	j;

		json_init(&j, &b);
		json_open(&j, NULL, '{');
		json_member_string(&j, "event", "finalize_plan");
		json_member_bool(&j, "dry_run", dry_run);
		json_open(&j, "steps", '[');
		for (size_t i = 0; i < n; i++)
		{
			json_open(&j, NULL, '{');
			json_member_int_or_null(&j, "version", items[i].m->version, true);
			json_member_string(&j, "name", items[i].m->name);
			json_member_string(&j, "step", items[i].step->id);
			json_member_string(&j, "summary", items[i].step->summary);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_close(&j, '}');
		buf_putc(&b, '\n');
	}
	else if (n == 0)
		buf_puts(&b, "Nothing to finalize.\n");
	else
	{
		buf_puts(&b, "finalize will run, and cannot undo:\n");
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "  %s_%s [%s] %s\n", items[i].m->version_text, items[i].m->name,
					   items[i].step->id, items[i].step->summary);
	}
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

/* ---- rollback ---- */

static void
rollback_text(Buf *b, const RollbackPlan *items, size_t n, const RenderOptions *opts)
{
	TextStyle	st = {"", "", "", ""};

	if (opts->color)
		st = (TextStyle) {ANSI_BOLD, ANSI_YELLOW, ANSI_RED, ANSI_RESET};
	if (n == 0)
		buf_puts(b, "Nothing to roll back.\n");
	for (size_t i = 0; i < n; i++)
	{
		const MigrationPlan *mp = items[i].mp;
		const Migration *m = mp->migration;

		buf_printf(b, "%s%srollback of %s_%s%s (%s, %zu step%s, in the order they run%s)\n",
				   i > 0 ? "\n" : "", st.bold, m->version_text, m->name, st.reset,
				   strategy_name(mp->strategy), items[i].n, items[i].n == 1 ? "" : "s",
				   items[i].partial ? "; only what completed" : "");
		for (size_t k = 0; k < items[i].n; k++)
		{
			const Step *s = items[i].steps[k];

			buf_printf(b, "\n  %zu. [%s] %s\n", k + 1, s->id, s->summary);
			text_step_body(b, s, "     ", &st);
		}
	}
}

static void
rollback_json(Buf *b, const RollbackPlan *items, size_t n)
{
	JsonWriter	j;

	json_init_pretty(&j, b);
	json_open(&j, NULL, '{');
	json_member_bool(&j, "rollback", true);
	json_open(&j, "migrations", '[');
	for (size_t i = 0; i < n; i++)
	{
		const MigrationPlan *mp = items[i].mp;
		const Migration *m = mp->migration;

		json_open(&j, NULL, '{');
		json_member_int_or_null(&j, "version", m->version, true);
		json_member_string(&j, "name", m->name);
		json_member_string(&j, "file", m->path);
		json_member_string(&j, "strategy", strategy_name(mp->strategy));
		json_member_bool(&j, "partial", items[i].partial);
		json_open(&j, "steps", '[');
		for (size_t k = 0; k < items[i].n; k++)
			json_step(&j, m, items[i].steps[k], false);
		json_close(&j, ']');
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	buf_putc(b, '\n');
}

void
render_rollback_plan(FILE *out, const RollbackPlan *items, size_t n, Format fmt,
					 const RenderOptions *opts)
{
	Buf			b;
	RenderOptions none = {false, true, NULL};

	buf_init(&b);
	if (fmt == FORMAT_JSON)
		rollback_json(&b, items, n);
	else
		rollback_text(&b, items, n, opts ? opts : &none);
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

/* ---- fleets ---- */

static void
fleet_status_json(Buf *b, const FleetStatusRow *rows, size_t n)
{
	JsonWriter	j;

	json_init_pretty(&j, b);
	json_open(&j, NULL, '{');
	json_open(&j, "targets", '[');
	for (size_t i = 0; i < n; i++)
	{
		const FleetStatusRow *r = &rows[i];

		json_open(&j, NULL, '{');
		json_member_string(&j, "target", r->target);
		json_member_int_or_null(&j, "version", r->applied_version, r->applied != NULL);
		json_member_string(&j, "applied", r->applied);
		json_member_int_or_null(&j, "pending", (int64_t) r->pending, r->error == NULL);
		json_member_string(&j, "state", r->error ? "unreachable" : r->problem ? r->problem_state
				 : r->pending ? "pending" : "up_to_date");
		json_member_string(&j, "migration", r->problem);
		json_member_string(&j, "migration_error", r->problem_error);
		json_member_bool(&j, "drifted", r->drifted);
		json_member_string(&j, "drift", r->drift);
		json_member_string(&j, "error", r->error);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	buf_putc(b, '\n');
}

static void
fleet_status_text(Buf *b, const FleetStatusRow *rows, size_t n)
{
	buf_printf(b, "%-16s %-32s %-8s %s\n", "TARGET", "APPLIED", "PENDING", "STATE");
	for (size_t i = 0; i < n; i++)
	{
		const FleetStatusRow *r = &rows[i];

		if (r->error)
		{
			buf_printf(b, "%-16s %-32s %-8s unreachable: %s\n", r->target, "?", "?", r->error);
			continue;
		}
		buf_printf(b, "%-16s %-32s %-8zu ", r->target, r->applied ? r->applied : "(none)",
				   r->pending);
		if (r->problem)
			buf_printf(b, "%s %s%s%s", r->problem_state, r->problem,
					   r->problem_error ? ": " : "", r->problem_error ? r->problem_error : "");
		else
			buf_puts(b, r->pending ? "pending" : "up to date");
		if (r->drifted)
			buf_printf(b, "; DRIFTED: %s changed since it was applied", r->drift);
		buf_putc(b, '\n');
	}
}

void
render_fleet_status(FILE *out, const FleetStatusRow *rows, size_t n, Format fmt)
{
	Buf			b;

	buf_init(&b);
	if (fmt == FORMAT_JSON)
		fleet_status_json(&b, rows, n);
	else
		fleet_status_text(&b, rows, n);
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

void
render_fleet_plan(FILE *out, const FleetPlanGroup *groups, size_t n,
				  const FleetStatusRow *unreachable, size_t n_unreachable, Format fmt)
{
	Buf			b;

	buf_init(&b);
	if (fmt == FORMAT_JSON)
	{
		JsonWriter	j;

		/* the plan documents are already JSON: placed as they are */
		json_init_pretty(&j, &b);
		json_begin_object(&j);
		json_key(&j, "groups");
		json_begin_array(&j);
		for (size_t i = 0; i < n; i++)
		{
			json_begin_object(&j);
			json_key(&j, "targets");
			json_begin_array(&j);
			for (size_t k = 0; k < groups[i].targets->n; k++)
				json_string(&j, groups[i].targets->items[k]);
			json_end_array(&j);
			json_member_int_or_null(&j, "applied", groups[i].applied,
									groups[i].applied_label || groups[i].applied);
			json_key(&j, "pending");
			json_begin_array(&j);
			for (const char *p = groups[i].pending; *p;)
			{
				char	   *end;
				long long	v = strtoll(p, &end, 10);

				if (end == p)
					break;		/* not "2,3": nothing more to read */
				json_int(&j, v);
				p = *end == ',' ? end + 1 : end;
			}
			json_end_array(&j);
			json_key(&j, "plan");
			if (groups[i].plan[0])
				json_raw(&j, groups[i].plan);
			else
				json_null(&j);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_key(&j, "unreachable");
		json_begin_array(&j);
		for (size_t i = 0; i < n_unreachable; i++)
		{
			json_begin_object(&j);
			json_member_string(&j, "target", unreachable[i].target);
			json_member_string(&j, "error", unreachable[i].error);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		buf_putc(&b, '\n');
	}
	else
	{
		const char *lead = fmt == FORMAT_SQL ? "-- " : "";

		for (size_t i = 0; i < n; i++)
		{
			buf_printf(&b, "%s%s== %zu target%s at %s: ", i ? "\n" : "", lead,
					   groups[i].targets->n, groups[i].targets->n == 1 ? "" : "s",
					   groups[i].applied_label ? groups[i].applied_label : "no migration");
			for (size_t k = 0; k < groups[i].targets->n; k++)
				buf_printf(&b, "%s%s", k ? ", " : "", groups[i].targets->items[k]);
			buf_printf(&b, "\n%s", groups[i].plan);
		}
		for (size_t i = 0; i < n_unreachable; i++)
			buf_printf(&b, "%s%s== unreachable: %s: %s\n", i || n ? "\n" : "", lead,
					   unreachable[i].target, unreachable[i].error);
	}
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}
