/*
 * fleet.c: a command over every target of a targets file (see fleet.h).
 *
 * apply and rollback run each target in a child process of its own (see
 * docs/design.md, Fleets): the child is exactly "migrate -d TARGET apply"
 * with JSON events on a pipe; the parent starts the canaries, then the
 * rest, at most `parallel` at once, reads every child's events, and shows
 * them (a line per running target on a terminal, JSON lines with
 * "target" elsewhere).  status and plan only read: the parent reads the
 * targets one after the other.
 */
#define _GNU_SOURCE
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"

/* ---- exit codes and events ---- */

static int
exit_rank(int code)
{
	switch (code)
	{
		case EXIT_OK:
			return 0;
		case EXIT_USAGE:
			return 1;
		case EXIT_UNREACHABLE:
			return 2;
		case EXIT_UNSAFE:
			return 3;
		case EXIT_LOCK:
			return 4;
		case EXIT_DRIFT:
			return 5;
		case EXIT_STEP_FAILED:
			return 6;
		case EXIT_SIGINT:
		case EXIT_SIGTERM:
			return 8;
		default:
			return 7;			/* a code of nobody's: killed, crashed */
	}
}

int
fleet_worse_exit(int a, int b)
{
	return exit_rank(b) > exit_rank(a) ? b : a;
}

/* Past one JSON value starting at p; NULL when it is not one. */
static const char *
skip_value(const char *p)
{
	int			depth = 0;

	do
	{
		while (*p == ' ')
			p++;
		if (*p == '"')
		{
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != '"')
				return NULL;
			p++;
		}
		else if (*p == '{' || *p == '[')
			depth++, p++;
		else if (*p == '}' || *p == ']')
			depth--, p++;
		else if (*p == '\0')
			return NULL;
		else
		{
			while (*p && !strchr(",:}] ", *p))
				p++;
		}
		while (depth > 0 && (*p == ',' || *p == ':' || *p == ' '))
			p++;
	} while (depth > 0);
	return p;
}

/* The JSON string at p ('"'), unescaped (\uXXXX kept as written). */
static char *
unquote(const char *p, const char *end)
{
	Buf			b;

	buf_init(&b);
	for (p++; p < end - 1; p++)
	{
		if (*p != '\\')
		{
			buf_putc(&b, *p);
			continue;
		}
		p++;
		switch (*p)
		{
			case 'n':
				buf_putc(&b, '\n');
				break;
			case 't':
				buf_putc(&b, '\t');
				break;
			case 'r':
				buf_putc(&b, '\r');
				break;
			case 'u':
				buf_puts(&b, "\\u");
				break;
			default:
				buf_putc(&b, *p);
		}
	}
	return buf_detach(&b);
}

char *
fleet_event_field(const char *line, const char *key)
{
	const char *p = line;
	size_t		klen = strlen(key);

	while (*p == ' ')
		p++;
	if (*p++ != '{')
		return NULL;
	for (;;)
	{
		const char *k,
				   *v,
				   *end;
		bool		match;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p != '"')
			return NULL;
		k = p;
		if ((p = skip_value(p)) == NULL)
			return NULL;
		match = (size_t) (p - k) == klen + 2 && strncmp(k + 1, key, klen) == 0;
		while (*p == ' ')
			p++;
		if (*p++ != ':')
			return NULL;
		while (*p == ' ')
			p++;
		v = p;
		if ((end = skip_value(p)) == NULL)
			return NULL;
		if (match)
			return *v == '"' ? unquote(v, end) : xstrndup(v, (size_t) (end - v));
		p = end;
	}
}

/* ---- reading the targets (status, plan) ---- */

/* One target's database opened to read, or err says why not. */
static bool
open_target(const Target *t, GlobalOptions *g, Session *s, Error *err)
{
	if (session_open(s, t->database, g->table, g->state_path, "status", NULL, err))
		return true;
	error_prefix(err, "target %s", t->name);
	return false;
}

static char *
migration_label(int64_t version, const MigrationSet *set, const char *name)
{
	const Migration *m = migration_set_find(set, version);

	return m ? xasprintf("%s_%s", m->version_text, m->name)
		: xasprintf("%lld_%s", (long long) version, name ? name : "");
}

/* What status --targets shows of one target, read from its session. */
static void
status_row(const Target *t, const MigrationSet *set, Session *s, const char *table,
		   FleetStatusRow *row)
{
	const History *h = &s->history;

	row->target = t->name;
	for (size_t i = 0; i < h->n; i++)
	{
		const HistoryRow *hr = &h->rows[i];
		const Migration *m = migration_set_find(set, hr->version);

		if (hr->status == HISTORY_COMPLETED)
		{
			row->applied_version = hr->version;
			free(row->applied);
			row->applied = migration_label(hr->version, set, hr->name);
			if (m && strcmp(m->checksum, hr->checksum) != 0)
			{
				row->drifted = true;
				if (row->drift == NULL)
					row->drift = migration_label(hr->version, set, hr->name);
			}
		}
		else if ((hr->status == HISTORY_FAILED || hr->status == HISTORY_RUNNING) &&
				 row->problem == NULL)
		{
			row->problem = migration_label(hr->version, set, hr->name);
			row->problem_state = hr->status == HISTORY_FAILED ? "failed"
				: runlock_held(s->conn, table) ? "running" : "interrupted";
			row->problem_error = hr->error_message ? xstrdup(hr->error_message) : NULL;
		}
	}
	for (size_t i = 0; i < set->n; i++)
		if (!cli_is_applied(h, set->items[i].version))
			row->pending++;
}

static void
status_row_free(FleetStatusRow *row)
{
	free(row->applied);
	free(row->drift);
	free(row->problem);
	free(row->problem_error);
	free(row->error);
}

static int
fleet_status(const Targets *ts, GlobalOptions *g, const MigrationSet *set)
{
	FleetStatusRow *rows = xcalloc(ts->n + 1, sizeof(FleetStatusRow));
	int			rc = EXIT_OK;

	for (size_t i = 0; i < ts->n; i++)
	{
		Session		s;
		Error		err = {0};

		rows[i].target = ts->items[i].name;
		if (!open_target(&ts->items[i], g, &s, &err))
		{
			rc = fleet_worse_exit(rc, err.exit_code ? err.exit_code : EXIT_STEP_FAILED);
			rows[i].error = xstrdup(err.message);
			error_clear(&err);
			continue;
		}
		status_row(&ts->items[i], set, &s, g->table, &rows[i]);
		session_close(&s, EXIT_OK);
	}
	render_fleet_status(stdout, rows, ts->n, g->format);
	for (size_t i = 0; i < ts->n; i++)
		status_row_free(&rows[i]);
	free(rows);
	return rc;
}

/* Targets that would run the same migrations, and the plan they share. */
typedef struct PlanGroup
{
	char	   *key;			/* the pending versions, "2,3,4" */
	StrList		targets;
	int64_t		applied;		/* newest applied version, 0: none */
	char	   *rendered;		/* the plan, as --format asks */
} PlanGroup;

/* The pending migrations of a target, up to --to, as a key and a list. */
static char *
pending_key(const MigrationSet *set, const History *h, const Args *a,
			const Migration **todo, size_t *n)
{
	Buf			key;

	buf_init(&key);
	*n = 0;
	for (size_t i = 0; i < set->n; i++)
	{
		const Migration *m = &set->items[i];

		if ((a->to_given && m->version > a->to) || cli_is_applied(h, m->version))
			continue;
		buf_printf(&key, "%s%lld", *n ? "," : "", (long long) m->version);
		todo[(*n)++] = m;
	}
	return buf_detach(&key);
}

/* The plan of todo, against s's catalog, rendered as fmt into a string. */
static char *
render_group_plan(const Migration **todo, size_t n, Strategy strategy, Session *s,
				  const GlobalOptions *g, const Args *a, Error *err)
{
	Plan		plan = {strategy, xcalloc(n + 1, sizeof(MigrationPlan)), 0};
	Settings	st = cli_settings(NULL, a);
	RenderOptions ro = {g->color, true, &st};
	char	   *text = NULL;
	size_t		size = 0;
	FILE	   *out;
	bool		ok = true;

	catalog_forget(&s->cat);
	for (size_t i = 0; ok && i < n; i++)
		if ((ok = plan_migration(todo[i], strategy, &s->cat, &plan.items[plan.n], err)))
		{
			plan_assume_applied(todo[i], &s->cat);
			plan.n++;
		}
	if (ok && (out = open_memstream(&text, &size)) != NULL)
	{
		render_plan(out, &plan, g->format, &ro);
		fclose(out);
	}
	plan_free(&plan);
	return text;
}

static int
fleet_plan(const Targets *ts, GlobalOptions *g, const Args *a, const MigrationSet *set)
{
	PlanGroup  *groups = xcalloc(ts->n + 1, sizeof(PlanGroup));
	FleetPlanGroup *shown = xcalloc(ts->n + 1, sizeof(FleetPlanGroup));
	FleetStatusRow *unreachable = xcalloc(ts->n + 1, sizeof(FleetStatusRow));
	const Migration **todo = xcalloc(set->n + 1, sizeof(Migration *));
	Strategy	strategy = a->online ? STRATEGY_ONLINE : STRATEGY_PLAIN;
	size_t		n_groups = 0,
				n_unreachable = 0;
	int			rc = EXIT_OK;

	for (size_t i = 0; i < ts->n; i++)
	{
		Session		s;
		Error		err = {0};
		size_t		n_todo,
					k;
		char	   *key;

		if (!open_target(&ts->items[i], g, &s, &err))
		{
			rc = fleet_worse_exit(rc, err.exit_code ? err.exit_code : EXIT_STEP_FAILED);
			unreachable[n_unreachable].target = ts->items[i].name;
			unreachable[n_unreachable++].error = xstrdup(err.message);
			error_clear(&err);
			continue;
		}
		key = pending_key(set, &s.history, a, todo, &n_todo);
		for (k = 0; k < n_groups && strcmp(groups[k].key, key) != 0; k++)
			;
		if (k == n_groups)
		{
			/* the first target of a state plans for all of them */
			groups[k].key = key;
			groups[k].rendered = render_group_plan(todo, n_todo, strategy, &s, g, a, &err);
			for (size_t h = 0; h < s.history.n; h++)
				if (s.history.rows[h].status == HISTORY_COMPLETED)
					groups[k].applied = s.history.rows[h].version;
			n_groups++;
			if (groups[k].rendered == NULL)
				rc = fleet_worse_exit(rc, cli_fail(&err));
		}
		else
			free(key);
		strlist_add(&groups[k].targets, ts->items[i].name);
		session_close(&s, EXIT_OK);
	}
	for (size_t k = 0; k < n_groups; k++)
	{
		const Migration *m = migration_set_find(set, groups[k].applied);

		shown[k].targets = &groups[k].targets;
		shown[k].applied = groups[k].applied;
		shown[k].applied_label = m ? m->version_text : NULL;
		shown[k].pending = groups[k].key;
		shown[k].plan = groups[k].rendered ? groups[k].rendered : "";
	}
	render_fleet_plan(stdout, shown, n_groups, unreachable, n_unreachable, g->format);
	for (size_t k = 0; k < n_groups; k++)
	{
		free(groups[k].key);
		free(groups[k].rendered);
		strlist_free(&groups[k].targets);
	}
	for (size_t i = 0; i < n_unreachable; i++)
		free(unreachable[i].error);
	free(unreachable);
	free(shown);
	free(groups);
	free(todo);
	return rc;
}

/* ---- running the targets (apply, rollback) ---- */

typedef enum WorkerState
{
	W_WAITING,
	W_RUNNING,
	W_DONE,
	W_FAILED,
	W_HALTED					/* stopped after a migration, by halt */
} WorkerState;

typedef struct Worker
{
	const Target *t;
	WorkerState state;
	pid_t		pid;
	int			fd[2];			/* its stdout and stderr; -1: closed */
	Buf			partial[2];		/* an unfinished line of each */
	bool		halted;			/* it said so before it exited */
	int			exit_code;
	char	   *error;			/* its last "migrate: ..." line */
	char	   *migration;		/* what it runs now, for the terminal */
	char	   *step;
	char	   *progress;
	int			migrations;		/* finished */
	int64_t		t0;
} Worker;

typedef struct Fleet
{
	const Targets *ts;
	const MigrationSet *set;	/* for the migrations' names on the terminal */
	const Command *cmd;
	GlobalOptions *g;
	Args	   *a;
	Worker	   *w;
	bool		json;			/* JSON lines, else text */
	bool		tty;			/* a line per running target, redrawn */
	int			board_lines;	/* lines of the board on screen */
	int64_t		board_at;		/* when it was drawn */
	int			width;
	bool		stop;			/* no new target starts */
	int			rc;
} Fleet;

static volatile sig_atomic_t fleet_signal;

static void
on_fleet_signal(int sig)
{
	fleet_signal = sig;
}

/* In a worker: SIGUSR1 asks it to stop after the current migration. */
static void
on_stop_request(int sig)
{
	(void) sig;
	cli_stop_requested = 1;
}

static void
install_handler(int sig, void (*fn) (int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* The worker's event line, as the fleet's: "target" first. */
static void
forward_event(Fleet *f, Worker *w, const char *line)
{
	JsonLine	l;

	if (!f->json)
		return;
	json_line_begin(&l, NULL);
	json_member_string(&l.w, "target", w->t->name);
	json_raw_members(&l.w, line);
	json_line_end(&l, stdout);
}

/* A fleet event, {"event":E,"target":T ...}: its first members, open for more. */
static void
fleet_event_begin(JsonLine *l, const char *event, const Worker *w)
{
	json_line_begin(l, event);
	if (w)
	{
		json_member_string(&l->w, "target", w->t->name);
	}
}

static void
set_text(char **field, char *value)
{
	free(*field);
	*field = value;
}

/* What an event of the worker changes of its line on the terminal. */
static void
note_event(Fleet *f, Worker *w, const char *line)
{
	char	   *event = fleet_event_field(line, "event");

	if (event == NULL)
		return;
	if (strcmp(event, "halted") == 0)
		w->halted = true;
	else if (strcmp(event, "migration_started") == 0 || strcmp(event, "rollback_started") == 0)
	{
		char	   *version = fleet_event_field(line, "version");
		char	   *name = fleet_event_field(line, "name");
		const Migration *m = version ? migration_set_find(f->set, atoll(version)) : NULL;

		set_text(&w->migration, xasprintf("%s%s_%s", event[0] == 'r' ? "rollback " : "",
										  m ? m->version_text : version ? version : "?",
										  name ? name : "?"));
		set_text(&w->step, NULL);
		set_text(&w->progress, NULL);
		free(version);
		free(name);
	}
	else if (strcmp(event, "step_started") == 0)
	{
		char	   *id = fleet_event_field(line, "step");
		char	   *summary = fleet_event_field(line, "summary");

		set_text(&w->step, xasprintf("[%s] %s", id ? id : "?", summary ? summary : ""));
		set_text(&w->progress, NULL);
		free(id);
		free(summary);
	}
	else if (strcmp(event, "progress") == 0)
	{
		char	   *done = fleet_event_field(line, "rows_done");
		char	   *total = fleet_event_field(line, "rows_total");
		char	   *elapsed = fleet_event_field(line, "elapsed_ms");

		if (done && total)
			set_text(&w->progress, xasprintf("%s/%s rows", done, total));
		else if (elapsed)
			set_text(&w->progress, xasprintf("%.0fs", atof(elapsed) / 1000));
		free(done);
		free(total);
		free(elapsed);
	}
	else if (strcmp(event, "migration_finished") == 0 || strcmp(event, "rollback_finished") == 0)
		w->migrations++;
	free(event);
}

static void
board_clear(Fleet *f)
{
	if (!f->tty || f->board_lines == 0)
		return;
	printf("\033[%dA", f->board_lines);
	for (int i = 0; i < f->board_lines; i++)
		printf("\r\033[K\n");
	printf("\033[%dA", f->board_lines);
	f->board_lines = 0;
}

/* A line per running target: its migration, step and progress. */
static void
board_draw(Fleet *f)
{
	int			lines = 0;

	if (!f->tty)
		return;
	if (f->board_lines)
		printf("\033[%dA", f->board_lines);
	for (size_t i = 0; i < f->ts->n; i++)
	{
		Worker	   *w = &f->w[i];
		char	   *line;

		if (w->state != W_RUNNING)
			continue;
		line = xasprintf("  %-12s %s  %s  %s", w->t->name,
						 w->migration ? w->migration : "connecting",
						 w->step ? w->step : "", w->progress ? w->progress : "");
		if ((int) strlen(line) > f->width - 1)
			line[f->width - 1] = '\0';
		printf("\r\033[K%s\n", line);
		free(line);
		lines++;
	}
	for (int i = lines; i < f->board_lines; i++)
		printf("\r\033[K\n");
	if (f->board_lines > lines)
		printf("\033[%dA", f->board_lines - lines);
	f->board_lines = lines;
	f->board_at = now_ms();
	fflush(stdout);
}

/* A line that stays (a target finished): above the board. */
static void
say(Fleet *f, const char *text)
{
	board_clear(f);
	printf("%s\n", text);
	board_draw(f);
}

static void
handle_line(Fleet *f, Worker *w, int which, const char *line)
{
	if (which == 0)
	{
		note_event(f, w, line);
		if (line[0] == '{')
			forward_event(f, w, line);
		return;
	}
	/* stderr: the error of the target, and warnings, said with its name */
	if (strncmp(line, "migrate: ", 9) == 0 && strncmp(line, "migrate: warning: ", 18) != 0)
		set_text(&w->error, xstrdup(line + 9));
	board_clear(f);
	fprintf(stderr, "[%s] %s\n", w->t->name, line);
	board_draw(f);
}

/* Reads what is there on the worker's fd; false at end of file. */
static bool
drain(Fleet *f, Worker *w, int which)
{
	char		chunk[8192];
	ssize_t		got = read(w->fd[which], chunk, sizeof chunk);
	Buf		   *p = &w->partial[which];
	char	   *nl;

	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (got <= 0)
	{
		if (p->len > 0)
			handle_line(f, w, which, p->data);
		buf_free(p);
		buf_init(p);
		close(w->fd[which]);
		w->fd[which] = -1;
		return false;
	}
	buf_putn(p, chunk, (size_t) got);
	while ((nl = memchr(p->data, '\n', p->len)) != NULL)
	{
		size_t		len = (size_t) (nl - p->data);
		char	   *line = xstrndup(p->data, len);
		Buf			rest;

		handle_line(f, w, which, line);
		free(line);
		buf_init(&rest);
		buf_putn(&rest, nl + 1, p->len - len - 1);
		buf_free(p);
		*p = rest;
	}
	return true;
}

/* In the child: this target's database, JSON events on the pipes. */
static void
run_child(Fleet *f, Worker *w, int out_fd, int err_fd)
{
	int			devnull = open("/dev/null", O_RDONLY);
	int			rc;

	/* its own process group: the parent decides what a signal means */
	setpgid(0, 0);
#ifdef __linux__
	/* and when the parent is gone (kill -9), it stops as after SIGTERM */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(EXIT_SIGTERM);
#endif
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(err_fd, STDERR_FILENO);
	for (size_t i = 0; i < f->ts->n; i++)
		for (int k = 0; k < 2; k++)
			if (f->w[i].fd[k] >= 0)
				close(f->w[i].fd[k]);
	f->g->database = w->t->database;
	f->g->targets = NULL;
	f->g->format = FORMAT_JSON;
	f->g->format_given = true;
	f->g->color = false;
	rc = cli_run_command(f->cmd, f->g, f->a, w->t->name);
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

static bool
start_worker(Fleet *f, Worker *w)
{
	int			out[2],
				err[2];

	if (pipe(out) != 0)
		return false;
	if (pipe(err) != 0)
	{
		close(out[0]);
		close(out[1]);
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	w->pid = fork();
	if (w->pid == 0)
	{
		close(out[0]);
		close(err[0]);
		run_child(f, w, out[1], err[1]);
	}
	close(out[1]);
	close(err[1]);
	if (w->pid < 0)
	{
		close(out[0]);
		close(err[0]);
		return false;
	}
	w->fd[0] = out[0];
	w->fd[1] = err[0];
	w->state = W_RUNNING;
	w->t0 = now_ms();
	if (f->json)
	{
		JsonLine	l;

		fleet_event_begin(&l, "target_started", w);
		json_line_end(&l, stdout);
	}
	else if (!f->tty)
		printf("%s: started\n", w->t->name);
	board_draw(f);
	return true;
}

static const char *
result_name(WorkerState s)
{
	return s == W_DONE ? "done" : s == W_FAILED ? "failed" : s == W_HALTED ? "halted"
		: s == W_RUNNING ? "running" : "not_started";
}

/* A worker whose pipes closed: its exit status, and what it means. */
static void
finish_worker(Fleet *f, Worker *w)
{
	int			status = 0;
	char	   *line;

	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		w->exit_code = WEXITSTATUS(status);
	else
	{
		w->exit_code = EXIT_STEP_FAILED;
		if (w->error == NULL)
			w->error = xasprintf("the process was killed by signal %d", WTERMSIG(status));
	}
	w->state = w->exit_code != EXIT_OK ? W_FAILED : w->halted ? W_HALTED : W_DONE;
	f->rc = fleet_worse_exit(f->rc, w->exit_code);
	if (f->json)
	{
		JsonLine	l;
		JsonWriter *jw = &l.w;

		fleet_event_begin(&l, "target_finished", w);
		json_member_string(jw, "result", result_name(w->state));
		json_member_int(jw, "exit", w->exit_code);
		json_member_int(jw, "migrations", w->migrations);
		json_member_int(jw, "ms", now_ms() - w->t0);
		json_member_string(jw, "error", w->state == W_FAILED ? w->error : NULL);
		json_line_end(&l, stdout);
	}
	else
	{
		/* its error went to stderr, with its name */
		line = w->state == W_FAILED
			? xasprintf("%-12s failed (exit %d) after %d migration%s", w->t->name,
						w->exit_code, w->migrations, w->migrations == 1 ? "" : "s")
			: xasprintf("%-12s %s: %d migration%s in %.1f s", w->t->name,
						w->state == W_HALTED ? "halted" : "done", w->migrations,
						w->migrations == 1 ? "" : "s", (now_ms() - w->t0) / 1000.0);
		say(f, line);
		free(line);
	}
	if (w->state == W_FAILED && f->ts->on_failure == ON_FAILURE_HALT && !f->stop)
	{
		f->stop = true;
		/* the running ones finish their current migration, then stop */
		for (size_t i = 0; i < f->ts->n; i++)
			if (f->w[i].state == W_RUNNING)
				kill(f->w[i].pid, SIGUSR1);
	}
}

static size_t
count_state(const Fleet *f, WorkerState s)
{
	size_t		n = 0;

	for (size_t i = 0; i < f->ts->n; i++)
		n += f->w[i].state == s;
	return n;
}

/* Waits for output or an exit of the running workers, at most ms. */
static void
poll_workers(Fleet *f, int ms)
{
	struct pollfd *pfd = xcalloc(2 * f->ts->n + 1, sizeof(struct pollfd));
	Worker	  **owner = xcalloc(2 * f->ts->n + 1, sizeof(Worker *));
	int		   *which = xcalloc(2 * f->ts->n + 1, sizeof(int));
	nfds_t		n = 0;

	for (size_t i = 0; i < f->ts->n; i++)
		for (int k = 0; k < 2; k++)
			if (f->w[i].state == W_RUNNING && f->w[i].fd[k] >= 0)
			{
				pfd[n].fd = f->w[i].fd[k];
				pfd[n].events = POLLIN;
				owner[n] = &f->w[i];
				which[n++] = k;
			}
	if (poll(pfd, n, ms) > 0)
		for (nfds_t i = 0; i < n; i++)
			if (pfd[i].revents)
				drain(f, owner[i], which[i]);
	for (size_t i = 0; i < f->ts->n; i++)
		if (f->w[i].state == W_RUNNING && f->w[i].fd[0] < 0 && f->w[i].fd[1] < 0)
			finish_worker(f, &f->w[i]);
	free(pfd);
	free(owner);
	free(which);
}

/* Passes a signal the parent got to every running worker, once. */
static void
forward_signal(Fleet *f, int *forwarded)
{
	if (fleet_signal == 0 || *forwarded)
		return;
	*forwarded = fleet_signal;
	f->stop = true;
	for (size_t i = 0; i < f->ts->n; i++)
		if (f->w[i].state == W_RUNNING)
			kill(f->w[i].pid, fleet_signal);
}

static void
summary(Fleet *f)
{
	static const WorkerState order[] = {W_DONE, W_FAILED, W_HALTED, W_WAITING};
	Buf			b;

	if (f->json)
	{
		JsonLine	l;
		JsonWriter *jw = &l.w;

		fleet_event_begin(&l, "fleet_finished", NULL);
		for (size_t k = 0; k < 4; k++)
		{
			json_key(jw, result_name(order[k]));
			json_begin_array(jw);
			for (size_t i = 0; i < f->ts->n; i++)
				if (f->w[i].state == order[k])
					json_string(jw, f->w[i].t->name);
			json_end_array(jw);
		}
		json_member_int(jw, "exit", f->rc);
		json_line_end(&l, stdout);
		return;
	}
	buf_init(&b);
	board_clear(f);
	for (size_t k = 0; k < 4; k++)
	{
		size_t		n = count_state(f, order[k]);
		size_t		listed = 0;

		buf_printf(&b, "%s%zu %s", k ? ", " : "", n,
				   order[k] == W_WAITING ? "not started" : result_name(order[k]));
		if (order[k] == W_DONE || n == 0)
			continue;
		buf_puts(&b, " (");
		for (size_t i = 0; i < f->ts->n && listed < 10; i++)
			if (f->w[i].state == order[k])
				buf_printf(&b, "%s%s", listed++ ? ", " : "", f->w[i].t->name);
		buf_puts(&b, n > listed ? ", ...)" : ")");
	}
	printf("%s: %s\n", f->cmd->name, b.data);
	buf_free(&b);
}

static int
fleet_execute(const Targets *ts, const MigrationSet *set, const Command *cmd,
			  GlobalOptions *g, Args *a)
{
	Fleet		f = {0};
	Progress	how;
	size_t		next = 0;
	size_t		canary = (size_t) ts->canary;
	int			forwarded = 0;
	struct winsize ws;
	Journal    *journal;
	Error		err = {0};

	/*
	 * The state file is made here, once: the workers then only open it
	 * (WAL, a busy timeout), and never race to create its tables.
	 */
	if ((journal = journal_open(g->state_path, &err)) == NULL)
		return cli_fail(&err);
	journal_close(journal);
	cli_init_progress(&how, g);
	f.ts = ts;
	f.set = set;
	f.cmd = cmd;
	f.g = g;
	f.a = a;
	f.json = how.json;
	f.tty = how.tty && !how.json && !g->quiet;
	f.width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 100;
	f.w = xcalloc(ts->n + 1, sizeof(Worker));
	for (size_t i = 0; i < ts->n; i++)
	{
		f.w[i].t = &ts->items[i];
		f.w[i].fd[0] = f.w[i].fd[1] = -1;
		buf_init(&f.w[i].partial[0]);
		buf_init(&f.w[i].partial[1]);
	}
	install_handler(SIGINT, on_fleet_signal);
	install_handler(SIGTERM, on_fleet_signal);
	/* before any fork: a halt that reaches a child as it starts must not kill it */
	install_handler(SIGUSR1, on_stop_request);
	signal(SIGPIPE, SIG_IGN);

	for (;;)
	{
		size_t		running = count_state(&f, W_RUNNING);
		/* the canaries first, alone; the rest once every canary is done */
		bool		canaries_done = next >= canary && count_state(&f, W_DONE) >= canary;
		size_t		limit = next < canary ? canary : ts->n;

		forward_signal(&f, &forwarded);
		while (!f.stop && next < limit && running < (size_t) ts->parallel &&
			   (next < canary || canaries_done))
		{
			if (!start_worker(&f, &f.w[next]))
			{
				f.w[next].state = W_FAILED;
				f.w[next].exit_code = EXIT_STEP_FAILED;
				f.w[next].error = xasprintf("cannot start a process: %s", strerror(errno));
				f.rc = fleet_worse_exit(f.rc, EXIT_STEP_FAILED);
				f.stop = ts->on_failure == ON_FAILURE_HALT;
			}
			next++;
			running = count_state(&f, W_RUNNING);
		}
		/* a canary that failed stops the fleet, whatever on_failure says */
		if (next >= canary && running == 0 && count_state(&f, W_DONE) < canary)
			f.stop = true;
		if (running == 0 && (f.stop || next >= ts->n))
			break;
		poll_workers(&f, 200);
		if (f.tty && now_ms() - f.board_at >= 200)
			board_draw(&f);
	}
	if (forwarded)
		f.rc = fleet_worse_exit(f.rc, forwarded == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM);
	summary(&f);
	for (size_t i = 0; i < ts->n; i++)
	{
		buf_free(&f.w[i].partial[0]);
		buf_free(&f.w[i].partial[1]);
		free(f.w[i].error);
		free(f.w[i].migration);
		free(f.w[i].step);
		free(f.w[i].progress);
	}
	free(f.w);
	return f.rc;
}

int
fleet_run(const Command *cmd, GlobalOptions *g, Args *a)
{
	Targets		ts;
	MigrationSet set = {0};
	Error		err = {0};
	int			rc;

	if (g->database)
		return cli_usage_error("%s", "give -d or --targets, not both");
	if (!targets_load(g->targets, &ts, &err))
		return cli_fail(&err);
	/* every file is valid before any target is touched */
	if (!spec_load_dir(g->dir, &set, &err))
	{
		targets_free(&ts);
		return cli_fail(&err);
	}
	if (strcmp(cmd->name, "status") == 0)
		rc = fleet_status(&ts, g, &set);
	else if (strcmp(cmd->name, "plan") == 0)
		rc = fleet_plan(&ts, g, a, &set);
	else
		rc = fleet_execute(&ts, &set, cmd, g, a);
	migration_set_free(&set);
	targets_free(&ts);
	return rc;
}
