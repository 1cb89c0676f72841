/*
 * journal.c: the state file, a SQLite database of every run, step, attempt
 * and backfill cursor.  See state.h.
 *
 * Opening is strict (a file that is not ours is refused, naming it); after
 * that, writes are best effort: a journal that cannot be written must not
 * stop or crash a migration, whose truth is the history table.
 */
#include "state.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"

/* The layout below; a file of a later one is refused. */
#define JOURNAL_SCHEMA_VERSION 2

/*
 * One file may serve several databases (staging and production, say); what
 * is done is kept per database: each run records the database it ran on
 * (runs.database_key: host, port, name and system identifier), and what is
 * read back, completed steps and cursors, is the current database's alone.
 */

struct Journal
{
	sqlite3    *db;
	char	   *path;
	char	   *database_key;	/* journal_set_database; "" until then */
};

/* Now, as ISO 8601 UTC with milliseconds: sorts as it reads. */
#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta (\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value TEXT\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  command TEXT,\n"
	"  database TEXT,\n"		/* redacted */
	"  database_key TEXT,\n"	/* host:port/name#system identifier */
	"  started_at TEXT,\n"
	"  finished_at TEXT,\n"
	"  exit_code INTEGER\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS steps (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER,\n"
	"  version INTEGER,\n"
	"  migration TEXT,\n"
	"  step_id TEXT,\n"
	"  summary TEXT,\n"
	"  sql TEXT,\n"
	"  rollback INTEGER,\n"
	"  status TEXT,\n"
	"  started_at TEXT,\n"
	"  finished_at TEXT,\n"
	"  attempts INTEGER,\n"		/* failed attempts recorded (lock waits) */
	"  lock_wait_ms INTEGER,\n"
	"  rows INTEGER,\n"
	"  error TEXT\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS steps_version ON steps (version, step_id);\n"
	"CREATE TABLE IF NOT EXISTS attempts (\n"
	"  step_row INTEGER,\n"
	"  attempt INTEGER,\n"
	"  lock_wait_ms INTEGER,\n"
	"  error TEXT,\n"
	"  at TEXT\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS cursors (\n"
	"  version INTEGER,\n"
	"  step_id TEXT,\n"
	"  cursor TEXT,\n"
	"  rows_done INTEGER,\n"
	"  updated_at TEXT,\n"
	"  PRIMARY KEY (version, step_id)\n"
	");\n";

/* ---- statements ---- */

static sqlite3_stmt *
prepare(Journal *j, const char *sql)
{
	sqlite3_stmt *stmt = NULL;

	if (j == NULL || j->db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(j->db, sql, -1, &stmt, NULL) != SQLITE_OK)
	{
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

static void
bind_text(sqlite3_stmt *stmt, int index, const char *value)
{
	if (value == NULL)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
}

/* A count or duration; negative means unknown, stored as NULL. */
static void
bind_count(sqlite3_stmt *stmt, int index, int64_t value)
{
	if (value < 0)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_int64(stmt, index, value);
}

/* Runs a statement that returns no rows, and finalizes it. */
static bool
run(sqlite3_stmt *stmt)
{
	int			rc;

	if (stmt == NULL)
		return false;
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE;
}

/* The same, for an INSERT: the new row's id, or -1. */
static int64_t
run_insert(Journal *j, sqlite3_stmt *stmt)
{
	if (!run(stmt))
		return -1;
	return sqlite3_last_insert_rowid(j->db);
}

/* ---- opening ---- */

/* mkdir -p of the directory that will hold path. */
static bool
make_parent_dirs(const char *path, Error *err)
{
	char	   *dir = xstrdup(path);
	char	   *slash = strrchr(dir, '/');
	bool		ok = true;

	if (slash == NULL || slash == dir)
	{
		free(dir);
		return true;
	}
	*slash = '\0';
	for (char *p = dir + 1;; p++)
	{
		bool		last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		{
			ok = error_set(err, EXIT_USAGE, "state file %s: cannot create directory %s: %s",
						   path, dir, strerror(errno));
			break;
		}
		if (last)
			break;
		*p = '/';
	}
	free(dir);
	return ok;
}

/* The schema version recorded in meta: 0 when the file has no journal yet. */
static bool
recorded_version(Journal *j, int *version, Error *err)
{
	sqlite3_stmt *stmt;
	int			rc;
	bool		has_tables = false;

	*version = 0;
	stmt = prepare(j, "SELECT name FROM sqlite_master WHERE type = 'table'");
	if (stmt == NULL)
		return error_set(err, EXIT_USAGE, "state file %s: %s", j->path, sqlite3_errmsg(j->db));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		has_tables = true;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return error_set(err, EXIT_USAGE, "state file %s: %s", j->path, sqlite3_errmsg(j->db));
	if (!has_tables)
		return true;

	stmt = prepare(j, "SELECT value FROM meta WHERE key = 'schema_version'");
	if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
	{
		sqlite3_finalize(stmt);
		return error_set(err, EXIT_USAGE,
						 "state file %s is a SQLite database but not a migrate journal; "
						 "name another file with --state", j->path);
	}
	*version = atoi((const char *) sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	if (*version < 1)
		return error_set(err, EXIT_USAGE, "state file %s: unreadable journal version", j->path);
	return true;
}

/* Creates the tables (or checks them), all in one transaction. */
static bool
prepare_schema(Journal *j, Error *err)
{
	int			version;
	char		text[16];
	sqlite3_stmt *stmt;
	bool		ok;

	/* IMMEDIATE: two runs opening a new file at once create it once. */
	if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return error_set(err, EXIT_USAGE, "state file %s: %s", j->path, sqlite3_errmsg(j->db));
	ok = recorded_version(j, &version, err);
	if (ok && version > JOURNAL_SCHEMA_VERSION)
		ok = error_set(err, EXIT_USAGE,
					   "state file %s was written by a newer migrate (journal version %d, "
					   "this one reads up to %d)", j->path, version, JOURNAL_SCHEMA_VERSION);
	if (ok && version == 1)
	{
		/* runs of a version-1 file name no database: none is read back as done */
		ok = sqlite3_exec(j->db, "ALTER TABLE runs ADD COLUMN database_key TEXT;"
						  "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
						  NULL, NULL, NULL) == SQLITE_OK;
		if (!ok)
			error_set(err, EXIT_USAGE, "state file %s: cannot upgrade the journal: %s",
					  j->path, sqlite3_errmsg(j->db));
	}
	if (ok && version == 0)
	{
		ok = sqlite3_exec(j->db, schema_sql, NULL, NULL, NULL) == SQLITE_OK;
		snprintf(text, sizeof text, "%d", JOURNAL_SCHEMA_VERSION);
		stmt = prepare(j, "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)");
		if (stmt)
			bind_text(stmt, 1, text);
		ok = ok && run(stmt);
		if (!ok)
			error_set(err, EXIT_USAGE, "state file %s: cannot create the journal: %s",
					  j->path, sqlite3_errmsg(j->db));
	}
	if (ok && sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ok = error_set(err, EXIT_USAGE, "state file %s: %s", j->path, sqlite3_errmsg(j->db));
	if (!ok)
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return ok;
}

Journal *
journal_open(const char *path, Error *err)
{
	Journal    *j;

	if (!make_parent_dirs(path, err))
		return NULL;
	j = xcalloc(1, sizeof(Journal));
	j->path = xstrdup(path);
	if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
	{
		error_set(err, EXIT_USAGE, "state file %s: cannot open: %s", path,
				  j->db ? sqlite3_errmsg(j->db) : "out of memory");
		journal_close(j);
		return NULL;
	}
	/*
	 * The first statement to read the file is where a file that is not a
	 * SQLite database shows.  WAL with synchronous=NORMAL: a cursor saved
	 * after every batch stays cheap, and survives a killed process.
	 */
	if (sqlite3_exec(j->db,
					 "PRAGMA busy_timeout = 5000;"
					 "PRAGMA journal_mode = WAL;"
					 "PRAGMA synchronous = NORMAL;",
					 NULL, NULL, NULL) != SQLITE_OK)
	{
		error_set(err, EXIT_USAGE, "state file %s: %s", path, sqlite3_errmsg(j->db));
		journal_close(j);
		return NULL;
	}
	if (!prepare_schema(j, err))
	{
		journal_close(j);
		return NULL;
	}
	return j;
}

void
journal_close(Journal *j)
{
	if (j == NULL)
		return;
	sqlite3_close(j->db);
	free(j->path);
	free(j->database_key);
	free(j);
}

/* ---- runs and steps ---- */

void
journal_set_database(Journal *j, const char *database_key)
{
	if (j == NULL)
		return;
	free(j->database_key);
	j->database_key = xstrdup(database_key ? database_key : "");
}

static const char *
database_key(const Journal *j)
{
	return j->database_key ? j->database_key : "";
}

int64_t
journal_run_begin(Journal *j, const char *command, const char *database)
{
	sqlite3_stmt *stmt = prepare(j, "INSERT INTO runs (command, database, database_key, started_at) "
								 "VALUES (?1, ?2, ?3, " NOW_SQL ")");
	char	   *redacted;
	int64_t		id;

	if (stmt == NULL)
		return -1;
	redacted = db_redact_conninfo(database);
	bind_text(stmt, 1, command);
	bind_text(stmt, 2, redacted);
	bind_text(stmt, 3, database_key(j));
	id = run_insert(j, stmt);
	free(redacted);
	return id;
}

void
journal_run_end(Journal *j, int64_t run_id, int exit_code)
{
	sqlite3_stmt *stmt = prepare(j, "UPDATE runs SET finished_at = " NOW_SQL ", "
								 "exit_code = ?2 WHERE id = ?1");

	if (stmt == NULL)
		return;
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_int(stmt, 2, exit_code);
	run(stmt);
}

/* A step's statements as one text, each ending in a semicolon. */
static char *
joined_sql(const StrList *sql)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < sql->n; i++)
	{
		size_t		len = strlen(sql->items[i]);

		buf_puts(&b, sql->items[i]);
		if (len == 0 || sql->items[i][len - 1] != ';')
			buf_putc(&b, ';');
		buf_putc(&b, '\n');
	}
	return buf_detach(&b);
}

int64_t
journal_step_begin(Journal *j, int64_t run_id, const Migration *m,
				   const Step *s, bool rollback)
{
	sqlite3_stmt *stmt;
	char	   *migration;
	char	   *sql;
	int64_t		id;

	if (m == NULL || s == NULL)
		return -1;
	stmt = prepare(j, "INSERT INTO steps (run_id, version, migration, step_id, summary, "
				   "sql, rollback, status, started_at, attempts, lock_wait_ms) "
				   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', " NOW_SQL ", 0, 0)");
	if (stmt == NULL)
		return -1;
	migration = xasprintf("%s_%s", m->version_text ? m->version_text : "", m->name ? m->name : "");
	sql = joined_sql(&s->sql);
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_int64(stmt, 2, m->version);
	bind_text(stmt, 3, migration);
	bind_text(stmt, 4, s->id);
	bind_text(stmt, 5, s->summary);
	bind_text(stmt, 6, sql);
	sqlite3_bind_int(stmt, 7, rollback ? 1 : 0);
	id = run_insert(j, stmt);
	free(migration);
	free(sql);
	return id;
}

void
journal_step_attempt(Journal *j, int64_t step_row, int attempt,
					 int64_t lock_wait_ms, const char *error)
{
	sqlite3_stmt *stmt;

	if (j == NULL || sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return;
	stmt = prepare(j, "INSERT INTO attempts (step_row, attempt, lock_wait_ms, error, at) "
				   "VALUES (?1, ?2, ?3, ?4, " NOW_SQL ")");
	if (stmt)
	{
		sqlite3_bind_int64(stmt, 1, step_row);
		sqlite3_bind_int(stmt, 2, attempt);
		bind_count(stmt, 3, lock_wait_ms);
		bind_text(stmt, 4, error);
	}
	if (run(stmt) &&
		(stmt = prepare(j, "UPDATE steps SET attempts = max(coalesce(attempts, 0), ?2), "
						"lock_wait_ms = coalesce(lock_wait_ms, 0) + ?3 WHERE id = ?1")) != NULL)
	{
		sqlite3_bind_int64(stmt, 1, step_row);
		sqlite3_bind_int(stmt, 2, attempt);
		sqlite3_bind_int64(stmt, 3, lock_wait_ms > 0 ? lock_wait_ms : 0);
		if (run(stmt))
		{
			sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
			return;
		}
	}
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

void
journal_step_end(Journal *j, int64_t step_row, const char *status,
				 const char *error, int64_t rows)
{
	sqlite3_stmt *stmt = prepare(j, "UPDATE steps SET status = ?2, error = ?3, rows = ?4, "
								 "finished_at = " NOW_SQL " WHERE id = ?1");

	if (stmt == NULL)
		return;
	sqlite3_bind_int64(stmt, 1, step_row);
	bind_text(stmt, 2, status);
	bind_text(stmt, 3, error);
	bind_count(stmt, 4, rows);
	run(stmt);
}

/* ---- backfill cursors ---- */

bool
journal_save_cursor(Journal *j, int64_t version, const char *step_id,
					const char *cursor, int64_t rows_done)
{
	sqlite3_stmt *stmt = prepare(j, "INSERT OR REPLACE INTO cursors "
								 "(version, step_id, cursor, rows_done, updated_at) "
								 "VALUES (?1, ?2, ?3, ?4, " NOW_SQL ")");

	char	   *key;
	bool		ok;

	if (stmt == NULL)
		return false;
	key = xasprintf("%s|%s", database_key(j), step_id);
	sqlite3_bind_int64(stmt, 1, version);
	bind_text(stmt, 2, key);
	bind_text(stmt, 3, cursor);
	bind_count(stmt, 4, rows_done);
	ok = run(stmt);
	free(key);
	return ok;
}

char *
journal_load_cursor(Journal *j, int64_t version, const char *step_id,
					int64_t *rows_done)
{
	sqlite3_stmt *stmt = prepare(j, "SELECT cursor, rows_done FROM cursors "
								 "WHERE version = ?1 AND step_id = ?2");
	char	   *cursor = NULL;

	if (rows_done)
		*rows_done = 0;
	char	   *key;

	if (stmt == NULL)
		return NULL;
	key = xasprintf("%s|%s", database_key(j), step_id);
	sqlite3_bind_int64(stmt, 1, version);
	bind_text(stmt, 2, key);
	free(key);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
	{
		cursor = xstrdup((const char *) sqlite3_column_text(stmt, 0));
		if (rows_done)
			*rows_done = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	return cursor;
}

/* ---- what is done ---- */

/*
 * A forward step counts as done when its latest forward row says so
 * ("skipped" means its done_check found it already done), unless a
 * rollback row of it completed afterwards.  A rollback row belongs to a
 * forward step when its step id is that step's id, or starts with it
 * followed by a non-digit ("1.2.3" owns "1.2.3.r1", not "1.2.30").
 */
static const char completed_steps_sql[] =
	"WITH here AS (SELECT st.* FROM steps st JOIN runs ru ON ru.id = st.run_id "
	"              WHERE ru.database_key = ?2) "
	"SELECT s.step_id FROM here s "
	"WHERE s.version = ?1 AND s.rollback = 0 "
	"  AND s.status IN ('completed', 'skipped') "
	"  AND s.id = (SELECT max(l.id) FROM here l "
	"              WHERE l.version = s.version AND l.step_id = s.step_id "
	"                AND l.rollback = 0) "
	"  AND NOT EXISTS (SELECT 1 FROM here r "
	"                  WHERE r.version = s.version AND r.rollback = 1 "
	"                    AND r.status = 'completed' AND r.id > s.id "
	"                    AND (r.step_id = s.step_id "
	"                         OR (substr(r.step_id, 1, length(s.step_id)) = s.step_id "
	"                             AND substr(r.step_id, length(s.step_id) + 1, 1) "
	"                                 NOT BETWEEN '0' AND '9'))) "
	"ORDER BY s.finished_at, s.id";

bool
journal_completed_steps(Journal *j, int64_t version, StrList *out)
{
	sqlite3_stmt *stmt = prepare(j, completed_steps_sql);
	int			rc;

	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, version);
	bind_text(stmt, 2, database_key(j));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		strlist_add(out, (const char *) sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE;
}
