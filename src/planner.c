/*
 * planner.c: operations → Steps (plan.h).  This file holds the machinery
 * (building steps and their SQL, names, done checks) and the sequences that
 * several operations share: NOT NULL without a long lock, sync triggers,
 * batched fills, index builds, constraints, saved state.  planner_ops.c has
 * one function per operation, planner_tenancy.c multi_tenancy.
 *
 * Every identifier reaches SQL through quote.h (the %I %Q %R conversions of
 * sql_append); user expressions are passed verbatim in parentheses (%E).
 * State that a rollback needs and that only the database knows (a dropped
 * index's definition, a column's old type) is saved into migrate.saved_objects
 * by an earlier statement or step; the inverse steps rebuild from there.
 */
#include "planner_int.h"
#include "ledger.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 63		/* NAMEDATALEN - 1 */

/* ---- names of the enums ---- */

const char *
lock_mode_name(LockMode mode)
{
	switch (mode)
	{
		case LOCK_NONE:
			return "none";
		case LOCK_ACCESS_SHARE:
			return "ACCESS SHARE";
		case LOCK_ROW_SHARE:
			return "ROW SHARE";
		case LOCK_ROW_EXCLUSIVE:
			return "ROW EXCLUSIVE";
		case LOCK_SHARE_UPDATE_EXCLUSIVE:
			return "SHARE UPDATE EXCLUSIVE";
		case LOCK_SHARE:
			return "SHARE";
		case LOCK_SHARE_ROW_EXCLUSIVE:
			return "SHARE ROW EXCLUSIVE";
		case LOCK_EXCLUSIVE:
			return "EXCLUSIVE";
		case LOCK_ACCESS_EXCLUSIVE:
			return "ACCESS EXCLUSIVE";
	}
	return "?";
}

const char *
step_phase_name(StepPhase phase)
{
	switch (phase)
	{
		case PHASE_EXPAND:
			return "expand";
		case PHASE_BACKFILL:
			return "backfill";
		case PHASE_VALIDATE:
			return "validate";
		case PHASE_CONTRACT:
			return "contract";
	}
	return "?";
}

const char *
step_kind_name(StepKind kind)
{
	switch (kind)
	{
		case STEP_DDL:
			return "ddl";
		case STEP_CONCURRENT:
			return "concurrent";
		case STEP_BACKFILL:
			return "backfill";
		case STEP_SQL:
			return "sql";
	}
	return "?";
}

const char *
strategy_name(Strategy s)
{
	return s == STRATEGY_ONLINE ? "online" : "plain";
}

/* ---- SQL text ---- */

void
append_dollar_quoted(Buf *b, const char *body)
{
	char		tag[32] = "$migrate$";

	for (int i = 1; strstr(body, tag) != NULL; i++)
		snprintf(tag, sizeof tag, "$migrate%d$", i);
	buf_puts(b, tag);
	buf_puts(b, body);
	buf_puts(b, tag);
}

char *
guarded(const char *cond, const char *statement)
{
	char	   *body;
	char	   *stmt;

	if (cond == NULL)
		return xstrdup(statement);
	body = xasprintf("BEGIN IF %s THEN %s; END IF; END", cond, statement);
	stmt = do_block(body);
	free(body);
	return stmt;
}

char *
do_block(const char *body)
{
	Buf			b;

	buf_init(&b);
	buf_puts(&b, "DO ");
	append_dollar_quoted(&b, body);
	return buf_detach(&b);
}

/* ---- names ---- */

char *
object_name(const PlanCtx *pc, const char *prefix, int k)
{
	int			op = (int) (pc->op - pc->m->ops) + 1;

	if (k > 0)
		return xasprintf("%s_%lld_%d_%d", prefix, (long long) pc->m->version, op, k);
	return xasprintf("%s_%lld_%d", prefix, (long long) pc->m->version, op);
}

/* Cuts s to at most max bytes without splitting a UTF-8 character. */
static void
truncate_utf8(char *s, size_t max)
{
	size_t		len = strlen(s);

	if (len <= max)
		return;
	while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
}

char *
derived_name(const char *table, const char *column, const char *suffix)
{
	char	   *schema;
	char	   *rel;
	char	   *name;

	split_qualified(table, &schema, &rel);
	name = column ? xasprintf("%s_%s_%s", rel, column, suffix)
		: xasprintf("%s_%s", rel, suffix);
	truncate_utf8(name, NAME_MAX_BYTES);
	free(schema);
	free(rel);
	return name;
}

char *
sibling_name(const char *table, const char *name)
{
	char	   *schema;
	char	   *rel;
	char	   *result;

	split_qualified(table, &schema, &rel);
	result = join_qualified(schema, name);
	free(schema);
	free(rel);
	return result;
}

/* ---- steps ---- */

Step *
add_step(PlanCtx *pc, Step *owner, StepPhase phase, StepKind kind,
		 LockMode lock, const char *relation, const char *summary_fmt,...)
{
	Step	   *s;
	Buf			summary;
	va_list		ap;

	if (owner == NULL)
	{
		if (pc->steps.n == pc->steps.cap)
		{
			pc->steps.cap = pc->steps.cap ? 2 * pc->steps.cap : 16;
			pc->steps.items = xrealloc(pc->steps.items, pc->steps.cap * sizeof(Step *));
		}
		s = xcalloc(1, sizeof(Step));
		pc->steps.items[pc->steps.n++] = s;
		s->id = xasprintf("%lld.%d.%d", (long long) pc->m->version,
						  (int) (pc->op - pc->m->ops) + 1, ++pc->n_in_op);
	}
	else
	{
		owner->rollback = xrealloc(owner->rollback, (owner->n_rollback + 1) * sizeof(Step));
		s = &owner->rollback[owner->n_rollback++];
		memset(s, 0, sizeof *s);
		s->id = xasprintf("%s.r%zu", owner->id, owner->n_rollback);
	}
	s->op_index = (int) (pc->op - pc->m->ops);
	s->phase = phase;
	s->kind = kind;
	s->lock = lock;
	s->lock_relation = xstrdup(relation);
	s->in_txn = kind != STEP_CONCURRENT;
	s->est_rows = pc->cat && relation ? catalog_row_estimate(pc->cat, relation) : -1;
	buf_init(&summary);
	va_start(ap, summary_fmt);
	sql_vappend(&summary, summary_fmt, ap);
	va_end(ap);
	s->summary = buf_detach(&summary);
	return s;
}

void
step_sql(Step *s, const char *fmt,...)
{
	Buf			b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	sql_vappend(&b, fmt, ap);
	va_end(ap);
	strlist_push(&s->sql, buf_detach(&b));
}

void
step_owns_if(Step *s, const char *kind, const char *table, const char *name,
			 const char *only_if)
{
	OwnedObject *o;

	s->owns = xrealloc(s->owns, (s->n_owns + 1) * sizeof(OwnedObject));
	o = &s->owns[s->n_owns++];
	o->kind = xstrdup(kind);
	o->table = xstrdup(table);
	o->name = xstrdup(name);
	o->only_if = xstrdup(only_if);
}

void
step_owns(Step *s, const char *kind, const char *table, const char *name)
{
	step_owns_if(s, kind, table, name, NULL);
}

void
plan_own_policy(PlanCtx *pc, Step *s, const char *table, const char *name, char *create)
{
	char	   *drop = sql_format("DROP POLICY %I ON %Q", name, table);
	char	   *own = sql_owned(pc, "policy", table, name);
	char	   *summary;

	step_replaces_own(pc, s, "policy", table, name, drop);
	strlist_push(&s->sql, create);
	summary = sql_format("drop policy %I on %Q", name, table);
	undo_drop_own(pc, s, LOCK_ACCESS_EXCLUSIVE, table, own, drop, summary);
	free(summary);
	free(own);
	free(drop);
}

Step *
undo_drop_own(PlanCtx *pc, Step *s, LockMode lock, const char *relation, const char *own,
			  const char *drop, const char *summary)
{
	Step	   *undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, lock, relation, "%s", summary);

	strlist_push(&undo->sql, guarded(own, drop));
	step_done(undo, "SELECT NOT %s", own);
	return undo;
}

/* kind's identity over literals of table and name (ledger_identity_sql). */
static char *
identity_of(const char *kind, const char *table, const char *name)
{
	char	   *t = table ? sql_format("%R", table) : xstrdup("NULL");
	char	   *n = sql_format("%L", name);
	char	   *q = sql_format("%R", name);
	char	   *identity = ledger_identity_sql(kind, t, n, q);

	free(t);
	free(n);
	free(q);
	return identity;
}

void
step_save_owner(PlanCtx *pc, Step *s, const char *kind, const char *table, const char *name)
{
	char	   *key = saved_key(pc, "owner");
	char	   *identity = identity_of(kind, table, name);

	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, l.oid::text FROM migrate.ledger_objects l "
			 "WHERE l.kind = %L AND l.oid = %s ON CONFLICT DO NOTHING",
			 pc->m->version, key, kind, identity);
	free(identity);
	free(key);
}

void
step_rehome_owner(PlanCtx *pc, Step *undo, const char *kind, const char *table,
				  const char *name)
{
	char	   *key = saved_key(pc, "owner");
	char	   *identity = identity_of(kind, table, name);

	step_sql(undo, "WITH saved AS (DELETE FROM migrate.saved_objects WHERE version = %D "
			 "AND key = %L RETURNING definition::oid AS old) "
			 "UPDATE migrate.ledger_objects l SET oid = %s FROM saved "
			 "WHERE l.kind = %L AND l.oid = saved.old AND %s IS NOT NULL",
			 pc->m->version, key, identity, kind, identity);
	free(identity);
	free(key);
}

char *
sql_owned_by(int64_t version, const char *kind, const char *table, const char *name)
{
	char	   *identity = identity_of(kind, table, name);
	char	   *sql;

	if (version > 0)
		sql = sql_format("EXISTS (SELECT FROM migrate.ledger_objects l WHERE l.kind = %L "
						 "AND l.version = %D AND l.oid = %s)", kind, version, identity);
	else
		sql = sql_format("EXISTS (SELECT FROM migrate.ledger_objects l WHERE l.kind = %L "
						 "AND l.oid = %s)", kind, identity);
	free(identity);
	return sql;
}

char *
sql_owned(const PlanCtx *pc, const char *kind, const char *table, const char *name)
{
	return sql_owned_by(pc->m->version, kind, table, name);
}

void
step_replaces_own(PlanCtx *pc, Step *s, const char *kind, const char *table,
				  const char *name, const char *drop)
{
	char	   *own = sql_owned(pc, kind, table, name);

	strlist_push(&s->sql, guarded(own, drop));
	step_owns(s, kind, table, name);
	s->replace_if_changed = true;
	free(own);
}

void
step_cleanup(Step *s, bool in_txn, const char *forget_step, const char *summary,
			 const char *fmt,...)
{
	Buf			b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	sql_vappend(&b, fmt, ap);
	va_end(ap);
	strlist_push(&s->on_failure.sql, buf_detach(&b));
	s->on_failure.in_txn = in_txn;
	if (forget_step != NULL && !strlist_contains(&s->on_failure.forget, forget_step))
		strlist_add(&s->on_failure.forget, forget_step);
	if (summary != NULL)
	{
		char	   *joined = s->on_failure.summary
			? xasprintf("%s; %s", s->on_failure.summary, summary) : xstrdup(summary);

		free(s->on_failure.summary);
		s->on_failure.summary = joined;
	}
}

void
step_done(Step *s, const char *fmt,...)
{
	Buf			b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	sql_vappend(&b, fmt, ap);
	va_end(ap);
	free(s->done_check);
	s->done_check = buf_detach(&b);
}

/* ---- questions about the catalog, as SQL booleans ---- */

char *
sql_column_exists(const char *table, const char *column)
{
	return sql_format("EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(%R) "
					  "AND attname = %L AND attnum > 0 AND NOT attisdropped)", table, column);
}

/*
 * A statement that gives the sequences column from of table owns (a
 * serial's) to column to, so that dropping from keeps them: the new
 * column's default still draws from them.
 */
char *
sql_move_owned_sequences(const char *table, const char *from, const char *to)
{
	char	   *owned = sql_format("ALTER SEQUENCE %%s OWNED BY %Q.%I", table, to);
	char	   *body = sql_format("DECLARE q regclass; BEGIN "
								  "FOR q IN SELECT dp.objid::regclass FROM pg_depend dp JOIN pg_attribute a "
								  "ON a.attrelid = dp.refobjid AND a.attnum = dp.refobjsubid "
								  "WHERE dp.classid = 'pg_class'::regclass AND dp.refclassid = 'pg_class'::regclass "
								  "AND dp.deptype = 'a' AND a.attrelid = to_regclass(%R) AND a.attname = %L "
								  "AND (SELECT relkind FROM pg_class WHERE oid = dp.objid) = 'S' LOOP "
								  "EXECUTE format(%L, q); END LOOP; END", table, from, owned);
	char	   *stmt = do_block(body);

	free(body);
	free(owned);
	return stmt;
}

/*
 * A statement that stops the step when indexes, constraints (other than
 * its NOT NULL), views or triggers use column of table: a finalize about
 * to drop it (DROP COLUMN would take them without a word), or a plan made
 * before the table existed, which could not carry them over.  message: a
 * RAISE format of the column, the table and what uses it; hint: what the
 * user can do about it.
 */
char *
sql_refuse_column_dependents(const char *table, const char *column, const char *message,
							 const char *hint)
{
	char	   *body = sql_format("DECLARE uses text; BEGIN "
								  "SELECT string_agg(o, ', ' ORDER BY o) INTO uses FROM (SELECT DISTINCT "
								  "pg_describe_object(d.classid, d.objid, d.objsubid) AS o FROM pg_depend d JOIN pg_attribute a "
								  "ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
								  "WHERE d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'n') "
								  "AND a.attrelid = to_regclass(%R) AND a.attname = %L "
								  "AND d.classid <> 'pg_attrdef'::regclass "
								  "AND NOT (d.classid = 'pg_class'::regclass "
								  "AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S') "
								  "AND NOT (d.classid = 'pg_constraint'::regclass "
								  "AND (SELECT contype FROM pg_constraint WHERE oid = d.objid) = 'n')) s; "
								  "IF uses IS NOT NULL THEN RAISE EXCEPTION %L, %L, %L, uses USING HINT = %L; "
								  "END IF; END", table, column, message, column, table, hint);
	char	   *stmt = do_block(body);

	free(body);
	return stmt;
}

char *
sql_column_not_null(const char *table, const char *column)
{
	return sql_format("EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(%R) "
					  "AND attname = %L AND attnum > 0 AND NOT attisdropped AND attnotnull)",
					  table, column);
}

char *
sql_constraint_exists(const char *table, const char *name)
{
	return sql_format("EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass(%R) "
					  "AND conname = %L)", table, name);
}

char *
sql_constraint_validated(const char *table, const char *name)
{
	return sql_format("EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass(%R) "
					  "AND conname = %L AND convalidated)", table, name);
}

char *
sql_index_valid(const char *index)
{
	return sql_format("EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass(%R) "
					  "AND indisvalid)", index);
}

char *
sql_trigger_exists(const char *table, const char *trigger)
{
	return sql_format("EXISTS (SELECT FROM pg_trigger WHERE tgrelid = to_regclass(%R) "
					  "AND tgname = %L)", table, trigger);
}

/* ---- saved state ---- */

char *
saved_key(const PlanCtx *pc, const char *what)
{
	return xasprintf("%d.%s", (int) (pc->op - pc->m->ops) + 1, what);
}

char *
saved_flag(const PlanCtx *pc, const char *what, const char *value)
{
	char	   *key = saved_key(pc, what);
	char	   *sql;

	if (value)
		sql = sql_format("EXISTS (SELECT FROM migrate.saved_objects WHERE version = %D "
						 "AND key = %L AND definition = %L)", pc->m->version, key, value);
	else
		sql = sql_format("EXISTS (SELECT FROM migrate.saved_objects WHERE version = %D "
						 "AND key = %L)", pc->m->version, key);
	free(key);
	return sql;
}

char *
saved_value(const PlanCtx *pc, const char *what)
{
	char	   *key = saved_key(pc, what);
	char	   *sql = sql_format("(SELECT definition FROM migrate.saved_objects "
								 "WHERE version = %D AND key = %L)", pc->m->version, key);

	free(key);
	return sql;
}

void
undo_forget_saved(PlanCtx *pc, Step *owner, const char *const *whats)
{
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
								"forget the saved state");
	Buf			b;

	buf_init(&b);
	sql_append(&b, "DELETE FROM migrate.saved_objects WHERE version = %D AND key IN (",
			   pc->m->version);
	for (size_t i = 0; whats[i]; i++)
	{
		char	   *key = saved_key(pc, whats[i]);

		sql_append(&b, "%s%L", i > 0 ? ", " : "", key);
		free(key);
	}
	buf_putc(&b, ')');
	strlist_push(&undo->sql, buf_detach(&b));
}

char *
saved_not_null(const PlanCtx *pc, const char *column)
{
	char	   *what = xasprintf("%s.not_null", column);
	char	   *sql = saved_flag(pc, what, "true");

	free(what);
	return sql;
}

/*
 * Helpers in schema migrate that save the values a change overwrites, keyed
 * by the table's primary key, and put them back.  The key is read at run
 * time: the planner may not know it.
 */
static const char *const primary_key_columns_fn =
"CREATE OR REPLACE FUNCTION migrate.primary_key_columns(target regclass)\n"
"RETURNS text[] LANGUAGE plpgsql STABLE AS $fn$\n"
"DECLARE\n"
"    result text[];\n"
"BEGIN\n"
"    SELECT array_agg(a.attname::text ORDER BY k.ord) INTO result\n"
"    FROM pg_index i\n"
"    CROSS JOIN LATERAL unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)\n"
"    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum\n"
"    WHERE i.indexrelid = " CATALOG_WALK_KEY_INDEX("target") ";\n"
"    IF result IS NULL THEN\n"
"        RAISE EXCEPTION 'table % has no primary key nor unique NOT NULL columns: migrate cannot save its old values for rollback', target\n"
"            USING HINT = 'give the table a primary key, or the backfill a \"down\"';\n"
"    END IF;\n"
"    RETURN result;\n"
"END\n"
"$fn$";

static const char *const save_rows_fn =
"CREATE OR REPLACE FUNCTION migrate.save_rows(target regclass, saved text, columns text[], filter text)\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    key_columns text[] := migrate.primary_key_columns(target);\n"
"BEGIN\n"
"    IF to_regclass(format('migrate.%I', saved)) IS NOT NULL THEN\n"
"        RETURN;\n"
"    END IF;\n"
"    EXECUTE format('CREATE TABLE migrate.%I AS SELECT %s FROM %s WHERE %s',\n"
"        saved,\n"
"        (SELECT string_agg(quote_ident(c), ', ') FROM unnest(key_columns || columns) AS c),\n"
"        target, coalesce('(' || filter || ')', 'true'));\n"
"    -- keyed, so that a batched restore finds its rows through an index\n"
"    EXECUTE format('ALTER TABLE migrate.%I ADD PRIMARY KEY (%s)', saved,\n"
"        (SELECT string_agg(quote_ident(c), ', ') FROM unnest(key_columns) AS c));\n"
"END\n"
"$fn$";

/*
 * A backfill's save table also keeps the value the backfill wrote into each
 * column (migrate_new_<i> for the i-th), so that restore_rows puts an old
 * value back only where the row still holds it: a later write wins.
 */
static const char *const track_new_values_fn =
"CREATE OR REPLACE FUNCTION migrate.track_new_values(target regclass, saved text, columns text[])\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    adds text;\n"
"BEGIN\n"
"    SELECT string_agg(format('ADD COLUMN IF NOT EXISTS %I %s', 'migrate_new_' || c.ord,\n"
"        format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY c.ord) INTO adds\n"
"    FROM unnest(columns) WITH ORDINALITY AS c(name, ord)\n"
"    JOIN pg_attribute a ON a.attrelid = target AND a.attname = c.name AND NOT a.attisdropped;\n"
"    EXECUTE format('ALTER TABLE migrate.%I %s', saved, adds);\n"
"END\n"
"$fn$";

/* After one UPDATE of every row (the plain strategy): what it wrote. */
static const char *const note_new_values_fn =
"CREATE OR REPLACE FUNCTION migrate.note_new_values(target regclass, saved text, columns text[])\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    key_columns text[] := migrate.primary_key_columns(target);\n"
"    assignments text;\n"
"    matches text;\n"
"BEGIN\n"
"    SELECT string_agg(format('%I = t.%I', 'migrate_new_' || c.ord, c.name), ', ') INTO assignments\n"
"    FROM unnest(columns) WITH ORDINALITY AS c(name, ord);\n"
"    SELECT string_agg(format('t.%I = s.%I', c, c), ' AND ') INTO matches\n"
"    FROM unnest(key_columns) AS c;\n"
"    EXECUTE format('UPDATE migrate.%I AS s SET %s FROM %s AS t WHERE %s',\n"
"        saved, assignments, target, matches);\n"
"END\n"
"$fn$";

/*
 * Puts the saved values back, then drops them.  With the values a backfill
 * wrote (track_new_values), only where the row still holds them, compared
 * as text (a type without equality compares too).
 */
static const char *const restore_rows_fn =
"CREATE OR REPLACE FUNCTION migrate.restore_rows(target regclass, saved text)\n"
"RETURNS void LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    key_columns text[] := migrate.primary_key_columns(target);\n"
"    saved_columns text[];\n"
"    assignments text;\n"
"    matches text;\n"
"    still text := 'true';\n"
"BEGIN\n"
"    IF to_regclass(format('migrate.%I', saved)) IS NULL THEN\n"
"        RETURN;\n"
"    END IF;\n"
"    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO saved_columns\n"
"    FROM pg_attribute a\n"
"    WHERE a.attrelid = format('migrate.%I', saved)::regclass AND a.attnum > 0\n"
"      AND NOT a.attisdropped AND a.attname <> ALL (key_columns)\n"
"      AND a.attname !~ '^migrate_new_[0-9]+$';\n"
"    IF to_regclass(format('migrate.%I', saved)) IN (SELECT attrelid FROM pg_attribute\n"
"                                                 WHERE attname = 'migrate_new_1' AND NOT attisdropped) THEN\n"
"        SELECT string_agg(format('%1$I = CASE WHEN t.%1$I::text IS NOT DISTINCT FROM s.%2$I::text '\n"
"                                 'THEN s.%1$I ELSE t.%1$I END', c.name, 'migrate_new_' || c.ord), ', '),\n"
"               string_agg(format('t.%I::text IS NOT DISTINCT FROM s.%I::text', c.name,\n"
"                                 'migrate_new_' || c.ord), ' OR ')\n"
"          INTO assignments, still\n"
"        FROM unnest(saved_columns) WITH ORDINALITY AS c(name, ord);\n"
"    ELSE\n"
"        SELECT string_agg(format('%I = s.%I', c, c), ', ') INTO assignments\n"
"        FROM unnest(saved_columns) AS c;\n"
"    END IF;\n"
"    SELECT string_agg(format('t.%I = s.%I', c, c), ' AND ') INTO matches\n"
"    FROM unnest(key_columns) AS c;\n"
"    EXECUTE format('UPDATE %s AS t SET %s FROM migrate.%I AS s WHERE %s AND (%s)',\n"
"        target, assignments, saved, matches, still);\n"
"    EXECUTE format('DROP TABLE migrate.%I', saved);\n"
"END\n"
"$fn$";

void
step_sql_primary_key_helper(Step *s)
{
	step_sql(s, "%s", primary_key_columns_fn);
}

void
ensure_migrate_schema(PlanCtx *pc)
{
	Step	   *s;

	if (pc->schema_ready)
		return;
	pc->schema_ready = true;
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 pc->row_helpers ? "create schema migrate: saved state, sync triggers, and the "
				 "helpers that save and restore old values"
				 : "create schema migrate: saved state and sync triggers");
	step_sql(s, "CREATE SCHEMA IF NOT EXISTS migrate");
	step_sql(s, "CREATE TABLE IF NOT EXISTS migrate.saved_objects (version bigint NOT NULL, "
			 "key text NOT NULL, definition text, PRIMARY KEY (version, key))");
	if (pc->row_helpers)
	{
		step_sql(s, "%s", primary_key_columns_fn);
		step_sql(s, "%s", save_rows_fn);
		step_sql(s, "%s", restore_rows_fn);
		step_sql(s, "%s", track_new_values_fn);
		step_sql(s, "%s", note_new_values_fn);
		step_done(s, "SELECT to_regclass('migrate.saved_objects') IS NOT NULL "
				  "AND to_regprocedure('migrate.save_rows(regclass,text,text[],text)') IS NOT NULL "
				  "AND to_regprocedure('migrate.restore_rows(regclass,text)') IS NOT NULL "
				  "AND to_regprocedure('migrate.track_new_values(regclass,text,text[])') IS NOT NULL "
				  "AND to_regprocedure('migrate.note_new_values(regclass,text,text[])') IS NOT NULL");
	}
	else
		step_done(s, "SELECT to_regclass('migrate.saved_objects') IS NOT NULL");
}

void
plan_save_column(PlanCtx *pc, const char *table, const char *column)
{
	char	   *type_key = xasprintf("%s.type", column);
	char	   *default_key = xasprintf("%s.default", column);
	char	   *not_null_key = xasprintf("%s.not_null", column);
	char	   *k_type = saved_key(pc, type_key);
	char	   *k_default = saved_key(pc, default_key);
	char	   *k_not_null = saved_key(pc, not_null_key);
	char	   *done = saved_flag(pc, type_key, NULL);
	Step	   *s;

	ensure_migrate_schema(pc);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "save the type, default and nullability of %I of %Q for rollback",
				 column, table);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, k.key, k.definition FROM pg_attribute a "
			 "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
			 "CROSS JOIN LATERAL (VALUES (%L, format_type(a.atttypid, a.atttypmod)), "
			 "(%L, pg_get_expr(d.adbin, d.adrelid)), (%L, a.attnotnull::text)) AS k(key, definition) "
			 "WHERE a.attrelid = to_regclass(%R) AND a.attname = %L AND NOT a.attisdropped "
			 "ON CONFLICT DO NOTHING",
			 pc->m->version, k_type, k_default, k_not_null, table, column);
	step_done(s, "SELECT %s", done);
	{
		const char *const whats[] = {type_key, default_key, not_null_key, NULL};

		undo_forget_saved(pc, s, whats);
	}
	free(done);
	free(k_type);
	free(k_default);
	free(k_not_null);
	free(type_key);
	free(default_key);
	free(not_null_key);
}

/* ---- shared sequences ---- */

void
done_unless(Step *s, const char *cond, const char *effect)
{
	if (cond)
		step_done(s, "SELECT NOT (%s) OR %s", cond, effect);
	else
		step_done(s, "SELECT %s", effect);
}

void
step_sql_guarded(Step *s, const char *cond, const char *statement)
{
	strlist_push(&s->sql, guarded(cond, statement));
}

/*
 * SET NOT NULL under cond, done when not_null holds; its undo (DROP NOT
 * NULL under undo_cond) unless it belongs to an owner step.
 */
static void
add_set_not_null_step(PlanCtx *pc, Step *owner, const char *table, const char *column,
					  const char *cond, const char *undo_cond, const char *not_null,
					  const char *why)
{
	Step	   *s;
	char	   *stmt;

	s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "set %I of %Q NOT NULL%s", column, table, why);
	stmt = sql_format("ALTER TABLE %Q ALTER COLUMN %I SET NOT NULL", table, column);
	step_sql_guarded(s, cond, stmt);
	free(stmt);
	done_unless(s, cond, not_null);
	if (owner != NULL)
		return;
	stmt = sql_format("ALTER TABLE %Q ALTER COLUMN %I DROP NOT NULL", table, column);
	s = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop NOT NULL of %I of %Q", column, table);
	step_sql_guarded(s, undo_cond, stmt);
	free(stmt);
}

void
plan_set_not_null(PlanCtx *pc, Step *owner, const char *table, const char *column,
				  const char *cond, const char *undo_cond)
{
	char	   *not_null = sql_column_not_null(table, column);
	char	   *check;
	char	   *exists;
	char	   *validated;
	char	   *either;
	char	   *stmt;
	char	   *check_step;
	Step	   *s;

	if (!ONLINE(pc))
	{
		add_set_not_null_step(pc, owner, table, column, cond, undo_cond, not_null, "");
		free(not_null);
		return;
	}
	/*
	 * A valid CHECK (column IS NOT NULL) of the table's own already proves
	 * it: SET NOT NULL skips its scan (PostgreSQL 12+), so the check of our
	 * own would only repeat it.  Only the user's check counts, not a NOT
	 * NULL the column has already, so that planning the migration again
	 * after it ran (rollback, finalize) gives the same steps.
	 */
	if (catalog_not_null_checked(pc->cat, table, column))
	{
		add_set_not_null_step(pc, owner, table, column, cond, undo_cond, not_null,
							  " (proved by the table's valid check, no scan)");
		free(not_null);
		return;
	}

	check = object_name(pc, "migrate_nn", pc->n_checks++);
	exists = sql_constraint_exists(table, check);
	validated = sql_constraint_validated(table, check);

	/* 1: the check, not yet validated: no scan under the short lock */
	s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "check %I of %Q IS NOT NULL, not valid yet", column, table);
	stmt = sql_format("ALTER TABLE %Q ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID",
					  table, check, column);
	step_sql_guarded(s, cond, stmt);
	free(stmt);
	either = xasprintf("(%s OR %s)", exists, not_null);
	done_unless(s, cond, either);
	free(either);
	step_owns(s, "constraint", table, check);
	check_step = xstrdup(s->id);
	if (owner == NULL)
	{
		s = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "drop check %I", check);
		step_sql(s, "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", table, check);
		step_done(s, "SELECT NOT %s", exists);
	}

	/* 2: validate: a scan that reads and writes do not wait for */
	s = add_step(pc, owner, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
				 "validate check %I", check);
	stmt = sql_format("ALTER TABLE %Q VALIDATE CONSTRAINT %I", table, check);
	step_sql_guarded(s, cond, stmt);
	free(stmt);
	either = xasprintf("(%s OR %s)", validated, not_null);
	done_unless(s, cond, either);
	free(either);
	/* a NULL left: the check must not go on rejecting the application's writes */
	if (owner == NULL)
		step_cleanup(s, true, check_step, "dropped the check that did not validate",
					 "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", table, check);
	free(check_step);

	/* 3: SET NOT NULL, proved by the valid check without a scan */
	add_set_not_null_step(pc, owner, table, column, cond, undo_cond, not_null,
						  " (proved by the check, no scan)");

	/* 4: the check has done its work */
	s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop check %I", check);
	step_sql(s, "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", table, check);
	step_done(s, "SELECT NOT %s", exists);

	free(check);
	free(exists);
	free(validated);
	free(not_null);
}

char *
sync_function_name(const PlanCtx *pc, int k)
{
	return object_name(pc, "sync", k);
}

char *
sync_trigger_name(const PlanCtx *pc, int k)
{
	return object_name(pc, "migrate_sync", k);
}

void
drop_sync_trigger_sql(Step *s, const char *table, const char *trigger, const char *function)
{
	step_sql(s, "DROP TRIGGER IF EXISTS %I ON %Q", trigger, table);
	step_sql(s, "DROP FUNCTION IF EXISTS migrate.%I()", function);
}

char *
sync_function_code(const char *body_start, const char *body_end)
{
	Buf			code;

	buf_init(&code);
	if (body_start)
		buf_printf(&code, "\nBEGIN\n%s", body_start);
	if (body_end)
		buf_printf(&code, "%s\n    RETURN NEW;\nEND\n", body_end);
	return buf_detach(&code);
}

char *
sync_function_sql(const PlanCtx *pc, int k, const char *body)
{
	char	   *function = sync_function_name(pc, k);
	Buf			def;
	char	   *code;

	buf_init(&def);
	sql_append(&def, "CREATE OR REPLACE FUNCTION migrate.%I() RETURNS trigger "
			   "LANGUAGE plpgsql AS ", function);
	code = sync_function_code(body, "");
	append_dollar_quoted(&def, code);
	free(code);
	free(function);
	return buf_detach(&def);
}

Step *
plan_sync_trigger(PlanCtx *pc, const char *table, int k, const char *body,
				  const char *summary)
{
	char	   *function = sync_function_name(pc, k);
	char	   *trigger = sync_trigger_name(pc, k);
	char	   *exists = sql_trigger_exists(table, trigger);
	Step	   *s;
	Step	   *first;

	ensure_migrate_schema(pc);
	first = s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_SHARE_ROW_EXCLUSIVE, table, "%s",
						 summary);
	strlist_push(&s->sql, sync_function_sql(pc, k, body));
	step_sql(s, "CREATE OR REPLACE TRIGGER %I BEFORE INSERT OR UPDATE ON %Q FOR EACH ROW "
			 "EXECUTE FUNCTION migrate.%I()", trigger, table, function);
	step_done(s, "SELECT %s", exists);
	step_owns(s, "trigger", table, trigger);
	{
		char	   *signature = sql_format("migrate.%I()", function);

		step_owns(s, "function", NULL, signature);
		free(signature);
	}
	/* after a fix of the file, its function is replaced, never kept */
	s->replace_if_changed = true;

	s = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop trigger %I on %Q", trigger, table);
	drop_sync_trigger_sql(s, table, trigger, function);
	step_done(s, "SELECT NOT %s", exists);
	free(exists);
	free(trigger);
	free(function);
	return first;
}

void
plan_drop_sync_trigger(PlanCtx *pc, const char *table, int k)
{
	char	   *function = sync_function_name(pc, k);
	char	   *trigger = sync_trigger_name(pc, k);
	char	   *exists = sql_trigger_exists(table, trigger);
	char	   *signature = sql_format("migrate.%I()", function);
	Step	   *s;

	s = add_step(pc, NULL, PHASE_CONTRACT, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "drop trigger %I on %Q: old code is gone", trigger, table);
	drop_sync_trigger_sql(s, table, trigger, function);
	step_done(s, "SELECT NOT %s AND to_regprocedure(%L) IS NULL", exists, signature);
	free(signature);
	free(exists);
	free(trigger);
	free(function);
}

/*
 * A backfill that fails on its expression (a division by zero in some row)
 * leaves no sync trigger of its operation behind: the trigger computes the
 * same expression on the application's writes, which would fail as well.
 * The trigger steps are forgotten, so that a resume after a fix installs
 * them again.
 */
static void
cleanup_sync_triggers(PlanCtx *pc, Step *backfill)
{
	for (size_t i = 0; i < pc->steps.n; i++)
	{
		const Step *t = pc->steps.items[i];

		if (t->op_index != backfill->op_index || t == backfill)
			continue;
		for (size_t k = 0; k < t->n_owns; k++)
			if (strcmp(t->owns[k].kind, "trigger") == 0)
				step_cleanup(backfill, true, t->id, "removed the sync trigger, which computes the same expression",
							 "DROP TRIGGER IF EXISTS %I ON %Q", t->owns[k].name, t->owns[k].table);
	}
}

Step *
plan_backfill_step(PlanCtx *pc, Step *owner, const char *table, const KeyExprList *set,
				   const char *where, int64_t batch_size, int64_t batch_delay_ms,
				   const char *summary)
{
	Step	   *s = add_step(pc, owner, PHASE_BACKFILL, STEP_BACKFILL, LOCK_ROW_EXCLUSIVE,
							 table, "%s", summary);
	BackfillSpec *bf = xcalloc(1, sizeof(BackfillSpec));
	Buf			b;

	buf_init(&b);
	sql_append(&b, "UPDATE %Q SET ", table);
	bf->set.items = xcalloc(set->n, sizeof(KeyExpr));
	bf->set.n = set->n;
	for (size_t i = 0; i < set->n; i++)
	{
		sql_append(&b, "%s%I = %E", i > 0 ? ", " : "", set->items[i].key, set->items[i].expr);
		bf->set.items[i].key = xstrdup(set->items[i].key);
		bf->set.items[i].expr = xstrdup(set->items[i].expr);
		bf->set.items[i].pos = set->items[i].pos;
	}
	if (where)
		sql_append(&b, " WHERE %E", where);
	strlist_push(&s->sql, buf_detach(&b));
	bf->table = xstrdup(table);
	bf->where = xstrdup(where);
	bf->batch_size = batch_size;
	bf->batch_delay_ms = batch_delay_ms;
	if (owner != NULL && owner->kind == STEP_BACKFILL)
		bf->undo_of = xstrdup(owner->id);
	s->backfill = bf;
	if (owner == NULL)
		cleanup_sync_triggers(pc, s);
	return s;
}

Step *
plan_index_build(PlanCtx *pc, const char *table, const char *index, bool unique,
				 const char *definition)
{
	char	   *qualified = sibling_name(table, index);
	char	   *valid = sql_index_valid(qualified);
	const char *kind = unique ? "UNIQUE INDEX" : "INDEX";
	Step	   *s;
	Step	   *undo;

	if (ONLINE(pc))
	{
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE,
					 table, "build %s %I on %Q concurrently", unique ? "unique index" : "index",
					 index, table);
		step_sql(s, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qualified);
		step_sql(s, "CREATE %s CONCURRENTLY %I %s", kind, index, definition);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE,
						table, "drop index %I concurrently", index);
		step_sql(undo, "DROP INDEX CONCURRENTLY IF EXISTS %Q", qualified);
	}
	else
	{
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_SHARE, table,
					 "create %s %I on %Q", unique ? "unique index" : "index", index, table);
		step_sql(s, "CREATE %s %I %s", kind, index, definition);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
						"drop index %I", index);
		step_sql(undo, "DROP INDEX IF EXISTS %Q", qualified);
	}
	step_done(undo, "SELECT to_regclass(%R) IS NULL", qualified);
	step_done(s, "SELECT %s", valid);
	step_owns(s, "index", NULL, qualified);
	if (ONLINE(pc))
		step_cleanup(s, false, NULL, "dropped the INVALID index the failed build left",
					 "DROP INDEX CONCURRENTLY IF EXISTS %Q", qualified);
	free(valid);
	free(qualified);
	return s;
}

/*
 * The inverse of adding a constraint: drop it.  Dropping a foreign key also
 * takes ACCESS EXCLUSIVE on the referenced table.  Taking that one first
 * narrows the window for a lock cycle with the application: an application
 * transaction that checked a parent row holds its lock until it ends, while
 * a write to the child needs the parent only during its FK check.  Cycles
 * that remain are broken by the executor's lock_timeout cap, so that
 * migrate, not the application, gives way.
 */
static void
undo_add_constraint(PlanCtx *pc, Step *owner, const char *table, const char *name,
					const char *referenced)
{
	char	   *exists = sql_constraint_exists(table, name);
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
								"drop constraint %I of %Q", name, table);

	if (referenced)
		step_sql(undo, "LOCK TABLE %Q IN ACCESS EXCLUSIVE MODE", referenced);
	step_sql(undo, "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", table, name);
	step_done(undo, "SELECT NOT %s", exists);
	free(exists);
}

Step *
plan_add_constraint_now(PlanCtx *pc, const char *table, const char *name, const char *body,
						const char *referenced, LockMode add_lock)
{
	char	   *exists = sql_constraint_exists(table, name);
	Step	   *s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, add_lock, table,
							 "add constraint %I to %Q", name, table);

	step_sql(s, "ALTER TABLE %Q ADD CONSTRAINT %I %s", table, name, body);
	step_done(s, "SELECT %s", exists);
	step_owns(s, "constraint", table, name);
	undo_add_constraint(pc, s, table, name, referenced);
	free(exists);
	return s;
}

void
plan_add_checked_constraint(PlanCtx *pc, const char *table, const char *name,
							const char *body, const char *referenced, LockMode add_lock)
{
	char	   *exists = sql_constraint_exists(table, name);
	char	   *not_valid_step;
	Step	   *s;

	if (!ONLINE(pc))
	{
		plan_add_constraint_now(pc, table, name, body, referenced, add_lock);
		free(exists);
		return;
	}
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, add_lock, table,
				 "add constraint %I to %Q, not valid yet", name, table);
	step_sql(s, "ALTER TABLE %Q ADD CONSTRAINT %I %s NOT VALID", table, name, body);
	step_done(s, "SELECT %s", exists);
	step_owns(s, "constraint", table, name);
	not_valid_step = xstrdup(s->id);
	undo_add_constraint(pc, s, table, name, referenced);
	free(exists);

	exists = sql_constraint_validated(table, name);
	s = add_step(pc, NULL, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, table,
				 "validate constraint %I of %Q", name, table);
	step_sql(s, "ALTER TABLE %Q VALIDATE CONSTRAINT %I", table, name);
	step_done(s, "SELECT %s", exists);
	/* not valid, it would still reject the application's new rows */
	step_cleanup(s, true, not_valid_step, "dropped the constraint, which did not validate",
				 "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", table, name);
	free(not_valid_step);
	free(exists);
}

void
plan_add_unique_constraint(PlanCtx *pc, const char *table, const char *name,
						   const char *kind, const StrList *columns, const StrList *include)
{
	char	   *exists = sql_constraint_exists(table, name);
	Step	   *s;

	if (!ONLINE(pc))
	{
		bool		primary_key = strcmp(kind, "PRIMARY KEY") == 0;
		Step	   *undo;

		/* ADD PRIMARY KEY sets NOT NULL: the undo drops it where it was not */
		if (primary_key)
			for (size_t i = 0; i < columns->n; i++)
				plan_save_column(pc, table, columns->items[i]);
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					 "add %s constraint %I to %Q", kind, name, table);
		{
			Buf			add;

			buf_init(&add);
			sql_append(&add, "ALTER TABLE %Q ADD CONSTRAINT %I %s (%C)", table, name, kind,
					   columns);
			if (include && include->n > 0)
				sql_append(&add, " INCLUDE (%C)", include);
			strlist_push(&s->sql, buf_detach(&add));
		}
		step_done(s, "SELECT %s", exists);
		step_owns(s, "constraint", table, name);
		undo_add_constraint(pc, s, table, name, NULL);
		undo = &s->rollback[s->n_rollback - 1];
		if (primary_key)
			for (size_t i = 0; i < columns->n; i++)
			{
				char	   *was = saved_not_null(pc, columns->items[i]);
				char	   *undo_cond = xasprintf("NOT %s", was);
				char	   *stmt = sql_format("ALTER TABLE %Q ALTER COLUMN %I DROP NOT NULL",
											  table, columns->items[i]);

				step_sql_guarded(undo, undo_cond, stmt);
				free(stmt);
				free(undo_cond);
				free(was);
			}
		free(exists);
		return;
	}

	{
		char	   *definition = include && include->n > 0
			? sql_format("ON %Q (%C) INCLUDE (%C)", table, columns, include)
			: sql_format("ON %Q (%C)", table, columns);

		plan_index_build(pc, table, name, true, definition);
		free(definition);
	}
	/* A primary key's columns must be NOT NULL: prove it without a scan. */
	if (strcmp(kind, "PRIMARY KEY") == 0)
		for (size_t i = 0; i < columns->n; i++)
		{
			char	   *was = saved_not_null(pc, columns->items[i]);
			char	   *undo_cond = xasprintf("NOT %s", was);

			plan_save_column(pc, table, columns->items[i]);
			plan_set_not_null(pc, NULL, table, columns->items[i], NULL, undo_cond);
			free(undo_cond);
			free(was);
		}
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "add %s constraint %I to %Q using the index", kind, name, table);
	step_sql(s, "ALTER TABLE %Q ADD CONSTRAINT %I %s USING INDEX %I", table, name, kind, name);
	step_done(s, "SELECT %s", exists);
	step_owns(s, "constraint", table, name);
	undo_add_constraint(pc, s, table, name, NULL);
	free(exists);
}

/* ---- the plan ---- */

/* Does op, planned in strategy, need the helpers that save and restore row values? */
static bool
needs_row_helpers(const Operation *op, Strategy strategy)
{
	if (op->kind == OP_BACKFILL && op->u.backfill.down.n == 0)
		return true;
	if (op->kind == OP_DROP_COLUMN && strategy == STRATEGY_PLAIN)
		return true;
	return op->kind == OP_ALTER_COLUMN && op->u.alter_column.using_expr &&
		strategy == STRATEGY_PLAIN;
}

static void
step_clear(Step *s)
{
	free(s->id);
	free(s->summary);
	strlist_free(&s->sql);
	free(s->dynamic_sql);
	free(s->lock_relation);
	free(s->done_check);
	if (s->backfill)
	{
		for (size_t i = 0; i < s->backfill->set.n; i++)
		{
			free(s->backfill->set.items[i].key);
			free(s->backfill->set.items[i].expr);
		}
		free(s->backfill->set.items);
		free(s->backfill->table);
		free(s->backfill->where);
		free(s->backfill->save_table);
		free(s->backfill->restore_from);
		free(s->backfill->copy_to);
		free(s->backfill->undo_of);
		free(s->backfill->save_batches);
		free(s->backfill);
	}
	for (size_t i = 0; i < s->n_rollback; i++)
		step_clear(&s->rollback[i]);
	free(s->rollback);
	free(s->irreversible);
	free(s->warning);
	free(s->why_plain);
	for (size_t i = 0; i < s->n_owns; i++)
	{
		free(s->owns[i].kind);
		free(s->owns[i].name);
		free(s->owns[i].table);
		free(s->owns[i].only_if);
	}
	free(s->owns);
	strlist_free(&s->on_failure.sql);
	strlist_free(&s->on_failure.forget);
	free(s->on_failure.summary);
	memset(s, 0, sizeof *s);
}

void
step_free(Step *s)
{
	if (s != NULL)
		step_clear(s);
}

void
migration_plan_free(MigrationPlan *mp)
{
	if (mp == NULL)
		return;
	for (size_t i = 0; i < mp->n_steps; i++)
		step_clear(&mp->steps[i]);
	free(mp->steps);
	memset(mp, 0, sizeof *mp);
}

bool
plan_rollback_steps(const MigrationPlan *mp, const StrList *done, const Step ***out,
					size_t *n_out, Error *err)
{
	const Migration *m = mp->migration;
	size_t		cap = 0;
	size_t		n = 0;
	const Step **run;

	for (size_t i = 0; i < mp->n_steps; i++)
		cap += mp->steps[i].n_rollback;
	run = xcalloc(cap + 1, sizeof(Step *));

	/* Newest step first; each step's inverse steps in their own order. */
	for (size_t i = mp->n_steps; i-- > 0;)
	{
		const Step *s = &mp->steps[i];

		if (done != NULL && !strlist_contains(done, s->id))
			continue;
		/* finalize's steps: undoable by none (a list may hold them after finalize) */
		if (s->deferred)
			continue;
		if (s->irreversible)
		{
			free(run);
			return error_set(err, EXIT_USAGE,
							 "migration %s_%s cannot be rolled back: step %s (%s): %s",
							 m->version_text, m->name, s->id, s->summary, s->irreversible);
		}
		for (size_t k = 0; k < s->n_rollback; k++)
			run[n++] = &s->rollback[k];
	}
	*out = run;
	*n_out = n;
	return true;
}

static bool
same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool step_same(const Step *a, const Step *b);

/* Whether the n steps of a and of b are the same, one by one. */
static bool
steps_same(const Step *a, const Step *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!step_same(&a[i], &b[i]))
			return false;
	return true;
}

/* Whether two steps (and their inverse steps) are the same, as everyone who reads them sees them. */
static bool
step_same(const Step *a, const Step *b)
{
	if (!same_text(a->id, b->id) || !same_text(a->summary, b->summary) ||
		a->phase != b->phase || a->kind != b->kind || a->lock != b->lock ||
		!same_text(a->lock_relation, b->lock_relation) || a->in_txn != b->in_txn ||
		a->deferred != b->deferred || a->batched != b->batched ||
		!same_text(a->dynamic_sql, b->dynamic_sql) || !same_text(a->done_check, b->done_check) ||
		!same_text(a->why_plain, b->why_plain) || !same_text(a->irreversible, b->irreversible) ||
		!same_text(a->warning, b->warning) || a->sql.n != b->sql.n ||
		a->n_rollback != b->n_rollback)
		return false;
	for (size_t i = 0; i < a->sql.n; i++)
		if (strcmp(a->sql.items[i], b->sql.items[i]) != 0)
			return false;
	return steps_same(a->rollback, b->rollback, a->n_rollback);
}

bool
plan_same(const MigrationPlan *a, const MigrationPlan *b)
{
	return a->migration == b->migration && a->strategy == b->strategy &&
		a->n_steps == b->n_steps && steps_same(a->steps, b->steps, a->n_steps);
}

void
plan_assume_applied(const Migration *m, const Catalog *cat)
{
	for (size_t i = 0; cat && i < m->n_ops; i++)
	{
		if (m->ops[i].kind == OP_CREATE_TABLE)
			catalog_assume_empty(cat, m->ops[i].u.create_table.name);
		else if (m->ops[i].kind == OP_SQL)
			catalog_assume_written(cat);
	}
}

void
plan_free(Plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		migration_plan_free(&p->items[i]);
	free(p->items);
	memset(p, 0, sizeof *p);
}

/*
 * The table of an operation whose plain statements are as safe online as
 * its online steps when nobody uses the table yet or it holds (almost)
 * nothing: a column, an index, a constraint, a type or NOT NULL change, a
 * backfill.  NULL for any other operation.
 */
static const char *
cheap_table(const Operation *op)
{
	switch (op->kind)
	{
		case OP_ADD_COLUMN:
			return op->u.add_column.table;
		case OP_ALTER_COLUMN:
			return op->u.alter_column.table;
		case OP_BACKFILL:
			return op->u.backfill.table;
		case OP_CREATE_INDEX:
			return op->u.create_index.table;
		case OP_ADD_CONSTRAINT:
			return op->u.add_constraint.table;
		default:
			return NULL;
	}
}

/* Whether an earlier operation of migration m creates table. */
static bool
created_before(const Migration *m, const Operation *op, const char *table)
{
	for (int i = 0; i < op->index && (size_t) i < m->n_ops; i++)
		if (m->ops[i].kind == OP_CREATE_TABLE && strcmp(m->ops[i].u.create_table.name, table) == 0)
			return true;
	return false;
}

/*
 * Why the online plan of the operation being planned is its plain
 * statements (docs/design.md, "The cheapest safe technique"), into *why
 * (malloc'd; NULL: it is not), and whether that choice is recorded (a
 * table that exists: resume, rollback and finalize must plan it the same,
 * whatever the table holds by then).
 *
 * - A table an earlier operation of the same migration creates: no
 *   application uses it yet.
 * - A table that the catalog says is empty or small (catalog_small_table,
 *   counted now, or assumed empty when an earlier migration of the set
 *   creates it): its plain statements read so little under their short
 *   lock that the application does not notice.  Not an add_column with a
 *   backfill: old code that writes the table needs the trigger that derives
 *   the column.  Once the migration has run, the choice it recorded holds.
 */
static bool
plain_reason(PlanCtx *pc, char **why, bool *record, Error *err)
{
	const Operation *op = pc->op;
	const char *table = cheap_table(op);
	char	   *key;
	PlainChoice choice;
	int64_t		rows;

	*why = NULL;
	*record = false;
	if (pc->strategy != STRATEGY_ONLINE || table == NULL)
		return true;
	if (created_before(pc->m, op, table))
	{
		*why = xstrdup("new table: plain statements");
		return true;
	}
	if (pc->cat == NULL || (op->kind == OP_ADD_COLUMN && op->u.add_column.backfill))
		return true;
	key = saved_key(pc, "technique");
	choice = catalog_plain_choice(pc->cat, pc->m->version, key, why, err);
	free(key);
	if (choice == PLAIN_CHOICE_ERROR)
	{
		error_prefix(err, "%s:%d:%d: reading the technique recorded for this operation",
					 op->pos.file, op->pos.line, op->pos.col);
		return false;
	}
	if (choice == PLAIN_CHOICE_FREE && catalog_small_table(pc->cat, table, &rows) == 1)
		*why = xstrdup(rows == 0 ? "empty table: plain statements"
					   : "small table: plain statements");
	*record = *why != NULL;
	return true;
}

/*
 * The step that records an existing table's plain choice (plain_reason) in
 * migrate.saved_objects (made by an earlier step), before the operation's
 * first statement; its undo forgets it, after the operation's last undo.
 */
static void
record_plain_choice(PlanCtx *pc, const char *why)
{
	const char *const whats[] = {"technique", NULL};
	char	   *key = saved_key(pc, "technique");
	char	   *done = saved_flag(pc, "technique", NULL);
	Buf			list;
	Step	   *s;

	buf_init(&list);
	buf_putc(&list, '[');
	buf_json_string(&list, why);
	buf_putc(&list, ']');
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "record the technique of %Q: %s", cheap_table(pc->op), why);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "VALUES (%D, %L, %L) ON CONFLICT DO NOTHING", pc->m->version, key, list.data);
	step_done(s, "SELECT %s", done);
	undo_forget_saved(pc, s, whats);
	buf_free(&list);
	free(done);
	free(key);
}

/*
 * What the others read of a step instead of deciding it again: whether
 * apply leaves it to finalize, and whether the batch engine runs it (and
 * its inverse steps).
 */
static void
mark_how_it_runs(Step *s, Strategy strategy)
{
	bool		online = strategy == STRATEGY_ONLINE;

	s->deferred = online && s->phase == PHASE_CONTRACT;
	s->batched = online && s->kind == STEP_BACKFILL && s->backfill != NULL;
	for (size_t r = 0; r < s->n_rollback; r++)
		s->rollback[r].batched = online && s->rollback[r].kind == STEP_BACKFILL &&
			s->rollback[r].backfill != NULL;
}

bool
plan_migration(const Migration *m, Strategy strategy, const Catalog *cat,
			   MigrationPlan *out, Error *err)
{
	PlanCtx		pc;
	bool		ok = true;
	char	  **whys;			/* of each operation: why plain, or NULL */
	bool	   *records;		/* of each operation: the choice is recorded */

	memset(out, 0, sizeof *out);
	memset(&pc, 0, sizeof pc);
	pc.m = m;
	pc.strategy = strategy;
	pc.cat = cat;
	pc.err = err;
	/* the cheapest safe technique of each operation, known before the first step */
	whys = xcalloc(m->n_ops + 1, sizeof *whys);
	records = xcalloc(m->n_ops + 1, sizeof *records);
	for (size_t i = 0; ok && i < m->n_ops; i++)
	{
		pc.op = &m->ops[i];
		ok = plain_reason(&pc, &whys[i], &records[i], err);
		pc.row_helpers = pc.row_helpers ||
			needs_row_helpers(pc.op, whys[i] ? STRATEGY_PLAIN : strategy);
	}
	for (size_t i = 0; ok && i < m->n_ops; i++)
	{
		size_t		first = pc.steps.n;
		const char *why = whys[i];
		bool		record = records[i];

		pc.op = &m->ops[i];
		pc.n_in_op = 0;
		pc.n_checks = 0;
		if (record)
		{
			/* schema migrate first: shared by the migration, online */
			ensure_migrate_schema(&pc);
			for (; first < pc.steps.n; first++)
				mark_how_it_runs(pc.steps.items[first], pc.strategy);
		}
		if (why)
			pc.strategy = STRATEGY_PLAIN;
		if (record)
			record_plain_choice(&pc, why);
		ok = plan_op(&pc);
		for (size_t k = first; k < pc.steps.n; k++)
		{
			mark_how_it_runs(pc.steps.items[k], pc.strategy);
			if (why)
				pc.steps.items[k]->why_plain = xstrdup(why);
		}
		pc.strategy = strategy;
	}
	for (size_t i = 0; i < m->n_ops; i++)
		free(whys[i]);
	free(whys);
	free(records);

	out->migration = m;
	out->strategy = strategy;
	out->steps = xcalloc(pc.steps.n + 1, sizeof(Step));
	for (size_t i = 0; i < pc.steps.n; i++)
	{
		Step	   *s = pc.steps.items[i];

		if (ok)
		{
			out->steps[out->n_steps++] = *s;

			/*
			 * The online contract phase is finalize's, which cannot be
			 * undone anyway: what rollback can undo is what apply did.
			 */
			if (s->irreversible && !s->deferred)
				out->irreversible = true;
		}
		else
			step_clear(s);
		free(s);
	}
	free(pc.steps.items);
	if (!ok)
		migration_plan_free(out);
	return ok;
}
