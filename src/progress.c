/*
 * progress.c: events of a running apply or rollback.  See progress.h.
 */
#include "progress.h"

#include <stdlib.h>
#include <string.h>

/* Starts a JSON event object: {"event":"name","version":N,"name":"..." */
static void
event_begin(Buf *b, const char *event, const Migration *m)
{
	buf_puts(b, "{\"event\":");
	buf_json_string(b, event);
	buf_printf(b, ",\"version\":%lld,\"name\":", (long long) m->version);
	buf_json_string(b, m->name);
}

static void
event_step(Buf *b, const Step *s)
{
	buf_puts(b, ",\"step\":");
	buf_json_string(b, s->id);
	buf_puts(b, ",\"summary\":");
	buf_json_string(b, s->summary);
}

static void
event_end(Progress *p, Buf *b)
{
	buf_puts(b, "}\n");
	fputs(b->data, p->out);
	fflush(p->out);
	buf_free(b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, rollback ? "rollback_started" : "migration_started", m);
		buf_printf(&b, ",\"strategy\":\"%s\",\"steps\":%zu", strategy_name(s), n_steps);
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, rollback ? "rollback_finished" : "migration_finished", m);
		buf_printf(&b, ",\"ms\":%lld", (long long) ms);
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "migration_failed", m);
		buf_puts(&b, ",\"error\":");
		buf_json_string(&b, message);
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "step_started", m);
		event_step(&b, s);
		buf_puts(&b, ",\"lock\":");
		buf_json_string(&b, lock_mode_name(s->lock));
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "step_finished", m);
		event_step(&b, s);
		buf_printf(&b, ",\"ms\":%lld", (long long) ms);
		if (rows >= 0)
			buf_printf(&b, ",\"rows\":%lld", (long long) rows);
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "step_skipped", m);
		event_step(&b, s);
		buf_puts(&b, ",\"reason\":");
		buf_json_string(&b, why);
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "step_retried", m);
		event_step(&b, s);
		buf_printf(&b, ",\"attempt\":%d,\"retry_in_ms\":%lld,\"error\":",
				   attempt, (long long) wait_ms);
		buf_json_string(&b, why);
		buf_printf(&b, ",\"blocking\":%s", blockers_json ? blockers_json : "[]");
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		if (m)
			event_begin(&b, "autovacuum", m);
		else
			buf_puts(&b, "{\"event\":\"autovacuum\"");
		if (s)
			event_step(&b, s);
		buf_puts(&b, ",\"action\":");
		buf_json_string(&b, what);
		buf_printf(&b, ",\"wraparound\":%s,\"pid\":%d,\"relation\":",
				   wraparound ? "true" : "false", pid);
		buf_json_string(&b, relation);
		buf_puts(&b, ",\"query\":");
		buf_json_string(&b, query);
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "progress", m);
		event_step(&b, s);
		buf_printf(&b, ",\"elapsed_ms\":%lld", (long long) elapsed_ms);
		if (phase != NULL)
		{
			buf_puts(&b, ",\"phase\":");
			buf_json_string(&b, phase);
			buf_printf(&b, ",\"blocks_done\":%lld,\"blocks_total\":%lld",
					   (long long) blocks_done, (long long) blocks_total);
		}
		event_end(p, &b);
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
		Buf			b;

		buf_init(&b);
		event_begin(&b, "progress", m);
		event_step(&b, s);
		buf_printf(&b, ",\"rows_done\":%lld,\"rows_total\":%lld,\"batch_size\":%lld,"
				   "\"rows_per_sec\":%.0f,\"eta_s\":%.0f,\"throttled\":%s",
				   (long long) rows_done, (long long) rows_total,
				   (long long) batch_size, rows_per_sec, eta,
				   throttled ? "true" : "false");
		event_end(p, &b);
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
