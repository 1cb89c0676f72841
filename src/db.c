/*
 * db.c: connecting, running statements, and turning server errors into
 * Error values.  See db.h.
 *
 * A password must never reach a message: libpq's own messages normally do
 * not contain it, but some of them quote parts of the conninfo (a bad
 * percent-escape in a URI, for one), so every connection error is scrubbed
 * of every password we can find before it leaves this file.
 */
#include "db.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The oldest server we accept: fast defaults and the rest need 11. */
#define MIN_SERVER_VERSION 110000

#define REDACTED "********"

/* Where a password sits inside a conninfo string, as written. */
typedef struct Span
{
	size_t		start;
	size_t		len;
} Span;

#define MAX_PASSWORD_SPANS 8

static bool
has_uri_prefix(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
		strncmp(s, "postgres://", 11) == 0;
}

static void
add_span(Span *spans, int *n, size_t start, size_t len)
{
	if (*n < MAX_PASSWORD_SPANS && len > 0)
	{
		spans[*n].start = start;
		spans[*n].len = len;
		(*n)++;
	}
}

/*
 * Passwords of a URI: the userinfo's part after its first colon, and every
 * "password" query parameter.  The userinfo ends at the last '@' before the
 * query, not the first, so that a password with a raw '@' or '/' (which
 * libpq would reject) is still hidden whole.
 */
static int
uri_password_spans(const char *uri, Span *spans)
{
	const char *authority = strstr(uri, "://") + 3;
	const char *query = strchr(authority, '?');
	const char *end = query ? query : authority + strlen(authority);
	const char *at = NULL;
	int			n = 0;

	for (const char *p = authority; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
	{
		const char *colon = memchr(authority, ':', (size_t) (at - authority));

		if (colon != NULL)
			add_span(spans, &n, (size_t) (colon + 1 - uri), (size_t) (at - colon - 1));
	}
	if (query == NULL)
		return n;
	for (const char *p = query + 1; *p;)
	{
		size_t		len = strcspn(p, "&");

		if (strncmp(p, "password=", 9) == 0 && len > 9)
			add_span(spans, &n, (size_t) (p + 9 - uri), len - 9);
		p += len;
		if (*p == '&')
			p++;
	}
	return n;
}

/*
 * Passwords of a key=value conninfo, parsed as libpq does: values are bare
 * words or single-quoted, with backslash escapes in both.
 */
static int
keyword_password_spans(const char *conninfo, Span *spans)
{
	const char *p = conninfo;
	int			n = 0;

	while (*p)
	{
		const char *key;
		size_t		key_len;
		const char *value;

		while (isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p && *p != '=' && !isspace((unsigned char) *p))
			p++;
		key_len = (size_t) (p - key);
		while (isspace((unsigned char) *p))
			p++;
		if (*p != '=')
			continue;			/* malformed, and refused by libpq; still
								 * look for a password after it */
		p++;
		while (isspace((unsigned char) *p))
			p++;
		value = p;
		if (*p == '\'')
		{
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p == '\'')
				p++;
		}
		else
		{
			for (; *p && !isspace((unsigned char) *p); p++)
				if (*p == '\\' && p[1])
					p++;
		}
		if (key_len == 8 && strncmp(key, "password", 8) == 0)
			add_span(spans, &n, (size_t) (value - conninfo), (size_t) (p - value));
	}
	return n;
}

static int
password_spans(const char *conninfo, Span *spans)
{
	return has_uri_prefix(conninfo)
		? uri_password_spans(conninfo, spans)
		: keyword_password_spans(conninfo, spans);
}

char *
db_redact_conninfo(const char *conninfo)
{
	Span		spans[MAX_PASSWORD_SPANS];
	int			n;
	size_t		at = 0;
	Buf			out;

	if (conninfo == NULL)
		return NULL;
	n = password_spans(conninfo, spans);
	buf_init(&out);
	for (int i = 0; i < n; i++)
	{
		buf_putn(&out, conninfo + at, spans[i].start - at);
		buf_puts(&out, REDACTED);
		at = spans[i].start + spans[i].len;
	}
	buf_puts(&out, conninfo + at);
	return buf_detach(&out);
}

/* Replaces every occurrence of secret (its first secret_len bytes) in *message. */
static void
scrub(char **message, const char *secret, size_t secret_len)
{
	char	   *needle;
	Buf			out;
	const char *p;
	const char *hit;

	if (secret == NULL || secret_len == 0 || *message == NULL)
		return;
	needle = xstrndup(secret, secret_len);
	buf_init(&out);
	for (p = *message; (hit = strstr(p, needle)) != NULL; p = hit + secret_len)
	{
		buf_putn(&out, p, (size_t) (hit - p));
		buf_puts(&out, REDACTED);
	}
	buf_puts(&out, p);
	free(needle);
	free(*message);
	*message = buf_detach(&out);
}

/*
 * Removes from *message every password we know of: as written in the
 * conninfo (with and without its quotes), as libpq parsed it, the one the
 * connection used, and PGPASSWORD's.
 */
static void
scrub_passwords(char **message, const char *conninfo, PGconn *conn)
{
	if (conninfo != NULL)
	{
		Span		spans[MAX_PASSWORD_SPANS];
		int			n = password_spans(conninfo, spans);
		PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);

		for (int i = 0; i < n; i++)
		{
			const char *raw = conninfo + spans[i].start;
			size_t		len = spans[i].len;

			scrub(message, raw, len);
			if (len >= 2 && raw[0] == '\'' && raw[len - 1] == '\'')
				scrub(message, raw + 1, len - 2);
		}
		for (PQconninfoOption *o = opts; o && o->keyword; o++)
			if (strcmp(o->keyword, "password") == 0 && o->val)
				scrub(message, o->val, strlen(o->val));
		PQconninfoFree(opts);
	}
	if (conn != NULL && PQpass(conn) != NULL)
		scrub(message, PQpass(conn), strlen(PQpass(conn)));
	if (getenv("PGPASSWORD") != NULL)
		scrub(message, getenv("PGPASSWORD"), strlen(getenv("PGPASSWORD")));
}

/* libpq's messages end with a newline; ours do not. */
static char *
trimmed_copy(const char *message)
{
	size_t		len = message ? strlen(message) : 0;

	while (len > 0 && isspace((unsigned char) message[len - 1]))
		len--;
	return xstrndup(message ? message : "", len);
}

/*
 * libpq's message on one line: each of its lines (one per address tried,
 * and its hints) joined with "; ".
 */
static char *
one_line(const char *message)
{
	char	   *text = trimmed_copy(message);
	Buf			out;
	const char *p = text;

	buf_init(&out);
	while (*p)
	{
		if (*p == '\n')
		{
			while (*p && isspace((unsigned char) *p))
				p++;
			if (*p)
				buf_puts(&out, "; ");
			continue;
		}
		buf_putc(&out, *p == '\t' ? ' ' : *p);
		p++;
	}
	free(text);
	return buf_detach(&out);
}

/*
 * Where a connection tried to go: "host=H port=P dbname=D user=U", from
 * what libpq resolved (conninfo, environment and defaults); never the
 * password.  A host that is a directory is a Unix socket.
 */
static char *
connection_target(PGconn *conn)
{
	const char *host = PQhost(conn);
	const char *port = PQport(conn);
	const char *db = PQdb(conn);
	const char *user = PQuser(conn);

	return xasprintf("host=%s port=%s dbname=%s user=%s",
					 host && *host ? host : "(default)", port && *port ? port : "5432",
					 db && *db ? db : "(default)", user && *user ? user : "(default)");
}

/* Notices (RAISE NOTICE, "relation already exists, skipping") stay quiet. */
static void
drop_notice(void *arg, const PGresult *res)
{
	(void) arg;
	(void) res;
}

/*
 * Checks a fresh connection, fills err on failure (scrubbed of passwords)
 * and PQfinish()es it then.
 */
static PGconn *
finish_connect(PGconn *conn, const char *conninfo, Error *err)
{
	char	   *message;

	if (conn == NULL)
	{
		error_set(err, EXIT_STEP_FAILED, "cannot connect to the database: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		char	   *where = connection_target(conn);

		message = one_line(PQerrorMessage(conn));
		scrub_passwords(&message, conninfo, conn);
		error_set(err, EXIT_UNREACHABLE, "cannot connect to the database at %s: %s", where, message);
		free(where);
		free(message);
		PQfinish(conn);
		return NULL;
	}
	if (PQserverVersion(conn) < MIN_SERVER_VERSION)
	{
		int			v = PQserverVersion(conn);

		error_set(err, EXIT_STEP_FAILED,
				  "the server runs PostgreSQL %d.%d, and migrate needs PostgreSQL 11 or newer",
				  v / 10000, v / 100 % 100);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeReceiver(conn, drop_notice, NULL);
	return conn;
}

/*
 * A conninfo or URI that libpq cannot parse is a usage error (exit 2), not
 * an unreachable database.  A bare word is a database name: libpq takes it
 * as one.
 */
static bool
conninfo_malformed(const char *conninfo, Error *err)
{
	char	   *why = NULL;
	PQconninfoOption *opts;
	char	   *message;

	if (conninfo == NULL || (strchr(conninfo, '=') == NULL &&
							 strncmp(conninfo, "postgres://", 11) != 0 &&
							 strncmp(conninfo, "postgresql://", 13) != 0))
		return false;
	opts = PQconninfoParse(conninfo, &why);
	PQconninfoFree(opts);
	if (opts != NULL)
		return false;
	message = why ? one_line(why) : xstrdup("out of memory");
	PQfreemem(why);
	scrub_passwords(&message, conninfo, NULL);
	error_set(err, EXIT_USAGE, "cannot connect to the database: the connection string is "
			  "malformed: %s", message);
	free(message);
	return true;
}

PGconn *
db_connect(const char *conninfo, Error *err)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {NULL, "migrate", NULL};

	if (conninfo == NULL)
		conninfo = getenv("DATABASE_URL");
	if (conninfo_malformed(conninfo, err))
		return NULL;
	/* NULL or "" leaves dbname to PGDATABASE and libpq's defaults. */
	values[0] = conninfo;
	return finish_connect(PQconnectdbParams(keywords, values, 1), conninfo, err);
}

/* The value the second connection should use for keyword, or NULL. */
static const char *
like_value(PGconn *conn, const PQconninfoOption *o)
{
	/*
	 * With several hosts (or load_balance_hosts) a new connection could
	 * reach another server: pin the one the first connection reached, as
	 * the run lock means nothing on any other.
	 */
	if (strcmp(o->keyword, "host") == 0)
		return PQhost(conn);
	if (strcmp(o->keyword, "port") == 0)
		return PQport(conn);
	if (strcmp(o->keyword, "hostaddr") == 0)
		return o->val && o->val[0] ? PQhostaddr(conn) : NULL;
	if (strcmp(o->keyword, "load_balance_hosts") == 0)
		return NULL;
	return o->val;
}

PGconn *
db_connect_like(PGconn *conn, Error *err)
{
	PQconninfoOption *opts = PQconninfo(conn);
	size_t		n = 0;
	const char **keywords;
	const char **values;
	PGconn	   *second;

	if (opts == NULL)
	{
		error_set(err, EXIT_STEP_FAILED, "cannot connect to the database: out of memory");
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	keywords = xcalloc(n + 1, sizeof(char *));
	values = xcalloc(n + 1, sizeof(char *));
	n = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
	{
		const char *value = like_value(conn, o);

		if (value == NULL || value[0] == '\0')
			continue;
		keywords[n] = o->keyword;
		values[n] = value;
		n++;
	}
	second = PQconnectdbParams(keywords, values, 0);
	free(keywords);
	free(values);
	PQconninfoFree(opts);
	return finish_connect(second, NULL, err);
}

bool
db_result_error(const PGresult *res, int exit_code, Error *err)
{
	const char *primary;
	const char *detail;
	const char *hint;
	const char *sqlstate;
	Buf			b;

	if (res == NULL)
		return error_set(err, exit_code, "no result from the server");
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	buf_init(&b);
	if (primary != NULL)
		buf_puts(&b, primary);
	else
	{
		/* Errors made by libpq itself (a lost connection) have no fields. */
		char	   *whole = trimmed_copy(PQresultErrorMessage(res));

		buf_puts(&b, whole[0] ? whole : PQresStatus(PQresultStatus(res)));
		free(whole);
	}
	if (detail != NULL)
		buf_printf(&b, "\nDETAIL: %s", detail);
	if (hint != NULL)
		buf_printf(&b, "\nHINT: %s", hint);

	if (sqlstate != NULL && strcmp(sqlstate, "55P03") == 0)
		exit_code = EXIT_LOCK;
	error_set(err, exit_code, "%s", b.data);
	buf_free(&b);
	if (err != NULL && sqlstate != NULL)
	{
		strncpy(err->sqlstate, sqlstate, sizeof err->sqlstate - 1);
		err->sqlstate[sizeof err->sqlstate - 1] = '\0';
	}
	return false;
}

PGresult *
db_query(PGconn *conn, const char *sql, int nparams,
		 const char *const *params, Error *err)
{
	PGresult   *res;

	/*
	 * Always the extended protocol: it refuses several statements in one
	 * string, which would otherwise run as one implicit transaction.
	 */
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (res == NULL)
	{
		char	   *message = trimmed_copy(PQerrorMessage(conn));

		error_set(err, EXIT_STEP_FAILED, "%s", message[0] ? message : "no result from the server");
		free(message);
		return NULL;
	}
	switch (PQresultStatus(res))
	{
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			return res;
		default:
			db_result_error(res, EXIT_STEP_FAILED, err);
			PQclear(res);
			return NULL;
	}
}

bool
db_exec(PGconn *conn, const char *sql, Error *err)
{
	PGresult   *res = db_query(conn, sql, 0, NULL, err);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

char *
db_applied_by(PGconn *conn)
{
	char		host[256];
	char	   *user = NULL;
	char	   *result;
	Error		err = {0};
	PGresult   *res = db_query(conn, "SELECT current_user", 0, NULL, &err);

	if (res != NULL && PQntuples(res) == 1)
		user = xstrdup(PQgetvalue(res, 0, 0));
	else
		user = xstrdup(PQuser(conn) ? PQuser(conn) : "");
	PQclear(res);
	error_clear(&err);

	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "unknown");
	host[sizeof host - 1] = '\0';
	result = xasprintf("%s@%s", user, host);
	free(user);
	return result;
}

void
db_rollback_open(PGconn *conn)
{
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
}

char *
db_identity(PGconn *conn)
{
	Error		err = {0};
	PGresult   *res = db_query(conn, "SELECT system_identifier::text FROM pg_control_system()",
							   0, NULL, &err);
	const char *host = PQhost(conn);
	char	   *key;

	if (res == NULL)
		error_clear(&err);
	key = xasprintf("%s:%s/%s#%s", host ? host : "", PQport(conn), PQdb(conn),
					res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return key;
}
