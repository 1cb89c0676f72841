/*
 * session.c: open and close what a command needs of its database.  See
 * session.h.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ledger.h"
#include "txn.h"

void
session_close(Session *s, int exit_code)
{
	if (s->journal)
	{
		journal_run_end(s->journal, s->run_id, exit_code);
		journal_close(s->journal);
	}
	if (s->locked)
		runlock_release(&s->lock);
	txn_set_cancel_conn(NULL);
	catalog_close(&s->cat);
	if (s->conn)
		PQfinish(s->conn);
	ledger_set_history_table(NULL);
	history_free(&s->history);
	memset(s, 0, sizeof *s);
}

static bool
open_steps(Session *s, const char *database, const char *table, const char *state_path,
		   const char *command, const Settings *writing, Error *err)
{
	s->conn = db_connect(database, err);
	if (s->conn == NULL)
		return false;
	txn_set_cancel_conn(s->conn);
	if (!catalog_open(&s->cat, s->conn, err))
		return false;
	if (writing)
	{
		if (!runlock_acquire(&s->lock, s->conn, table, err))
			return false;
		s->locked = true;
		if (!history_ensure(s->conn, table, writing, err) ||
			!ledger_ensure(s->conn, writing, err))
			return false;
		ledger_set_history_table(table);
		s->journal = journal_open(state_path, err);
		if (s->journal == NULL)
			return false;
		{
			char	   *identity = db_identity(s->conn);

			journal_set_database(s->journal, identity);
			free(identity);
		}
		s->run_id = journal_run_begin(s->journal, command, PQdb(s->conn));
	}
	return history_load(s->conn, table, &s->history, err);
}

bool
session_open(Session *s, const char *database, const char *table, const char *state_path,
			 const char *command, const Settings *writing, Error *err)
{
	memset(s, 0, sizeof *s);
	if (open_steps(s, database, table, state_path, command, writing, err))
		return true;
	/* nothing ran: the journal's run (if one began) ends as a usage failure */
	session_close(s, err->exit_code ? err->exit_code : EXIT_STEP_FAILED);
	return false;
}
