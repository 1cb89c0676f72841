/*
 * progress.c: events of a running apply or rollback.  See progress.h.
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* One JSON event line being written. */
typedef JsonLine Event;

/* Starts a JSON event object: {"event":"name","version":N,"name":"..." (m NULL: the event alone) */
static void
event_begin(Event *e, const char *event, const Migration *m)
{
	json_line_begin(e, event);
	if (m == NULL)
		return;
	json_member_int(&e->w, "version", m->version);
	json_member_string(&e->w, "name", m->name);
}

static void
event_step(Event *e, const Step *s)
{
	json_member_string(&e->w, "step", s->id);
	json_member_string(&e->w, "summary", s->summary);
}

/* A rate or a time in seconds, to the whole number, as the events always wrote them. */
static void
event_whole(Event *e, const char *key, double v)
{
	char		text[64];

	snprintf(text, sizeof text, "%.0f", v);
	json_key(&e->w, key);
	json_raw(&e->w, text);
}

static void
event_end(Progress *p, Event *e)
{
	json_line_end(e, p->out);
}

/*
 * Shows text as the live line, over the one on screen: a carriage return,
 * and spaces over what a shorter line would leave, not a terminal's escape
 * code (none with NO_COLOR, and none needed).
 */
static void
live_line_show(Progress *p, const char *text)
{
	size_t		len = strlen(text);

	fputc('\r', p->out);
	fputs(text, p->out);
	if (p->live_line_open && p->live_line_len > len)
		fprintf(p->out, "%*s\r%s", (int) (p->live_line_len - len), "", text);
	p->live_line_open = true;
	p->live_line_len = len;
	fflush(p->out);
}

/*
 * Ends the line on screen before printing a normal one: a live \r line, or
 * a step's "[id] ... " line still waiting for its " done" (several steps of
 * one transaction start before any of them finishes).
 */
static void
close_live_line(Progress *p)
{
	if (p->live_line_open || p->line_step)
		fputs("\n", p->out);
	p->live_line_open = false;
	p->line_step = NULL;
}

void
progress_migration_started(Progress *p, const Migration *m, Strategy s,
						   size_t n_steps, bool rollback)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, rollback ? "rollback_started" : "migration_started", m);
		json_member_string(&e.w, "strategy", strategy_name(s));
		json_member_int(&e.w, "steps", (int64_t) n_steps);
		event_end(p, &e);
		return;
	}
	if (p->quiet)
		return;
	close_live_line(p);
	fprintf(p->out, "%s %s_%s (%s, %zu step%s)\n",
			rollback ? "rolling back" : "applying",
			m->version_text, m->name, strategy_name(s), n_steps,
			n_steps == 1 ? "" : "s");
	fflush(p->out);
}

void
progress_migration_finished(Progress *p, const Migration *m, int64_t ms,
							bool rollback)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, rollback ? "rollback_finished" : "migration_finished", m);
		json_member_int(&e.w, "ms", ms);
		event_end(p, &e);
		return;
	}
	if (p->quiet)
		return;
	close_live_line(p);
	fprintf(p->out, "%s %s_%s in %lld ms\n", rollback ? "rolled back" : "applied",
			m->version_text, m->name, (long long) ms);
	fflush(p->out);
}

void
progress_migration_failed(Progress *p, const Migration *m, const char *message)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, "migration_failed", m);
		json_member_string(&e.w, "error", message);
		event_end(p, &e);
		return;
	}
	/* The message itself is printed once, on stderr, by the command. */
	close_live_line(p);
	if (!p->quiet)
		fprintf(p->out, "failed %s_%s\n", m->version_text, m->name);
	fflush(p->out);
}

void
progress_step_started(Progress *p, const Migration *m, const Step *s)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, "step_started", m);
		event_step(&e, s);
		json_member_string(&e.w, "lock", lock_mode_name(s->lock));
		event_end(p, &e);
		return;
	}
	if (p->quiet)
		return;
	close_live_line(p);
	fprintf(p->out, "  [%s] %s ...", s->id, s->summary);
	if (p->tty)
		p->line_step = s;
	else
		fputc('\n', p->out);
	fflush(p->out);
}

void
progress_step_finished(Progress *p, const Migration *m, const Step *s,
					   int64_t ms, int64_t rows)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, "step_finished", m);
		event_step(&e, s);
		json_member_int(&e.w, "ms", ms);
		if (rows >= 0)
			json_member_int(&e.w, "rows", rows);
		event_end(p, &e);
		return;
	}
	if (p->quiet)
		return;
	if (p->live_line_open)
	{
		char	   *line = xasprintf("  [%s] %s ...", s->id, s->summary);

		live_line_show(p, line);
		free(line);
	}
	else if (!p->tty)
		fprintf(p->out, "  [%s]", s->id);
	else if (p->line_step != s)
	{
		/* another step's line is on screen: this one gets its own */
		close_live_line(p);
		fprintf(p->out, "  [%s] %s ...", s->id, s->summary);
	}
	p->live_line_open = false;
	p->line_step = NULL;
	if (rows >= 0)
		fprintf(p->out, " done in %lld ms, %lld rows\n", (long long) ms, (long long) rows);
	else
		fprintf(p->out, " done in %lld ms\n", (long long) ms);
	fflush(p->out);
}

void
progress_step_skipped(Progress *p, const Migration *m, const Step *s,
					  const char *why)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, "step_skipped", m);
		event_step(&e, s);
		json_member_string(&e.w, "reason", why);
		event_end(p, &e);
		return;
	}
	if (p->quiet)
		return;
	close_live_line(p);
	fprintf(p->out, "  [%s] %s: skipped (%s)\n", s->id, s->summary, why);
	fflush(p->out);
}

void
progress_step_retried(Progress *p, const Migration *m, const Step *s,
					  int attempt, int64_t wait_ms, const char *why,
					  const char *blockers_json, const char *blockers_text)
{
	if (p->json)
	{
		Event		e;

		event_begin(&e, "step_retried", m);
		event_step(&e, s);
		json_member_int(&e.w, "attempt", attempt);
		json_member_int(&e.w, "retry_in_ms", wait_ms);
		json_member_string(&e.w, "error", why);
		json_key(&e.w, "blocking");
		json_raw(&e.w, blockers_json ? blockers_json : "[]");
		event_end(p, &e);
		return;
	}
	close_live_line(p);
	fprintf(p->out, "  [%s] attempt %d: %s; retrying in %lld ms%s%s\n",
			s->id, attempt, why, (long long) wait_ms,
			blockers_text && blockers_text[0] ? "; blocked by:" : "",
			blockers_text ? blockers_text : "");
	fflush(p->out);
}

void
progress_autovacuum(Progress *p, const Migration *m, const Step *s, const char *relation,
					int pid, const char *query, bool wraparound, bool cancelled)
{
	const char *what = wraparound ? "waiting" : cancelled ? "cancelled" : "cancel_failed";

	if (p == NULL || p->quiet)
		return;
	if (p->json)
	{
		Event		e;

		event_begin(&e, "autovacuum", m);
		if (s)
			event_step(&e, s);
		json_member_string(&e.w, "action", what);
		json_member_bool(&e.w, "wraparound", wraparound);
		json_member_int(&e.w, "pid", pid);
		json_member_string(&e.w, "relation", relation);
		json_member_string(&e.w, "query", query);
		event_end(p, &e);
		return;
	}
	close_live_line(p);
	if (wraparound)
		fprintf(p->out, "  [%s] waiting for an autovacuum of %s that prevents wraparound "
				"(pid %d: %s); it must not be cancelled\n", s ? s->id : "-", relation, pid, query);
	else if (cancelled)
		fprintf(p->out, "  [%s] cancelled an autovacuum that blocked %s (pid %d: %s); "
				"it runs again later\n", s ? s->id : "-", relation, pid, query);
	else
		fprintf(p->out, "  [%s] could not cancel the autovacuum that blocks %s (pid %d: %s): "
				"cancelling it needs superuser or pg_signal_autovacuum_worker\n",
				s ? s->id : "-", relation, pid, query);
	fflush(p->out);
}

void
progress_step_running(Progress *p, const Migration *m, const Step *s,
					  int64_t elapsed_ms, const char *phase,
					  int64_t blocks_done, int64_t blocks_total)
{
	Buf			line;

	if (p->json)
	{
		Event		e;

		event_begin(&e, "progress", m);
		event_step(&e, s);
		json_member_int(&e.w, "elapsed_ms", elapsed_ms);
		if (phase != NULL)
		{
			json_member_string(&e.w, "phase", phase);
			json_member_int(&e.w, "blocks_done", blocks_done);
			json_member_int(&e.w, "blocks_total", blocks_total);
		}
		event_end(p, &e);
		return;
	}
	if (p->quiet || !p->tty)
		return;
	buf_init(&line);
	buf_printf(&line, "  [%s] %s: %.0fs", s->id, s->summary, elapsed_ms / 1000.0);
	if (phase != NULL)
		buf_printf(&line, ", %s", phase);
	if (phase != NULL && blocks_total > 0)
		buf_printf(&line, ", %lld/%lld blocks (%.0f%%)", (long long) blocks_done,
				   (long long) blocks_total, 100.0 * blocks_done / blocks_total);
	live_line_show(p, line.data);
	buf_free(&line);
}

void
progress_backfill(Progress *p, const Migration *m, const Step *s,
				  int64_t rows_done, int64_t rows_total, int64_t batch_size,
				  double rows_per_sec, bool throttled)
{
	double		eta = rows_per_sec > 0 && rows_total > rows_done
		? (double) (rows_total - rows_done) / rows_per_sec : 0;
	char	   *line;

	if (p->json)
	{
		Event		e;

		event_begin(&e, "progress", m);
		event_step(&e, s);
		json_member_int(&e.w, "rows_done", rows_done);
		json_member_int(&e.w, "rows_total", rows_total);
		json_member_int(&e.w, "batch_size", batch_size);
		event_whole(&e, "rows_per_sec", rows_per_sec);
		event_whole(&e, "eta_s", eta);
		json_member_bool(&e.w, "throttled", throttled);
		event_end(p, &e);
		return;
	}
	if (p->quiet || !p->tty)
		return;
	line = xasprintf("  [%s] %s: %lld/%lld rows, %.0f rows/s, batch %lld, ETA %.0fs%s",
					 s->id, s->summary, (long long) rows_done, (long long) rows_total,
					 rows_per_sec, (long long) batch_size, eta, throttled ? " (throttled)" : "");
	live_line_show(p, line);
	free(line);
}
