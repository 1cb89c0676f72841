/*
 * planner_partition.c: the partition operations (migrate(1), OPERATIONS): create_table's partitions,
 * add_partitions, attach_partition, detach_partition.  partition_table is
 * in planner_partition_table.c.  Bounds and names come from partition.h.
 *
 * A partition joins its table through ATTACH PARTITION, never CREATE TABLE
 * ... PARTITION OF on a table in use: ATTACH takes SHARE UPDATE EXCLUSIVE
 * on the table (reads and writes go on), and with a validated CHECK that
 * matches the bound it scans nothing under its lock.
 */
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

#include "partition.h"

/* ---- SQL booleans ---- */

/* partition is a partition of table (its detach, if any, finished or not). */
static char *
sql_partition_of(const char *table, const char *partition)
{
	return sql_format("EXISTS (SELECT FROM pg_inherits WHERE inhrelid = to_regclass(%R) "
					  "AND inhparent = to_regclass(%R))", partition, table);
}

/* "cond AND (rest)", or rest; malloc'd. */
static char *
and_cond(const char *cond, const char *rest)
{
	return cond ? xasprintf("(%s) AND %s", cond, rest) : xstrdup(rest);
}

/* A statement built at run time: format(...) of saved text, when cond holds. */
static void
set_dynamic(Step *s, const char *cond, const char *format_call)
{
	s->dynamic_sql = cond ? sql_format("SELECT CASE WHEN %s THEN %s END", cond, format_call)
		: sql_format("SELECT %s", format_call);
}

/* ---- create_table with partition_by ---- */

void
plan_table_partitioning_clause(Buf *b, const Partitioning *p)
{
	if (p->method == PARTITION_NONE)
		return;
	buf_puts(b, " PARTITION BY ");
	partition_by_sql(b, p->method, &p->columns);
}

bool
plan_table_partitions(PlanCtx *pc, Step *s, const char *table, const Partitioning *p)
{
	GeneratedPartitions gp;

	if (p->method == PARTITION_NONE)
		return true;
	if (!partition_generate(table, p, &gp, pc->err))
	{
		error_prefix(pc->err, "%s:%d:%d: %s", pc->op->pos.file, pc->op->pos.line,
					 pc->op->pos.col, op_kind_name(pc->op->kind));
		return false;
	}
	for (size_t i = 0; i < gp.n; i++)
	{
		Buf			b;

		buf_init(&b);
		sql_append(&b, "CREATE TABLE %Q PARTITION OF %Q ", gp.items[i].name, table);
		partition_bound_sql(&b, &gp.items[i].bound);
		strlist_push(&s->sql, buf_detach(&b));
		step_owns(s, "table", NULL, gp.items[i].name);
	}
	generated_partitions_free(&gp);
	return true;
}

/* ---- attaching and detaching ---- */

/* The name of the CHECK that proves a partition's bound before it is attached. */
static char *
bound_check_name(const char *partition)
{
	return derived_name(partition, NULL, "migrate_bound");
}

/*
 * Detaches partition: DETACH PARTITION ... CONCURRENTLY outside a
 * transaction (PostgreSQL 14+; FINALIZE when an earlier one was
 * interrupted), or, where the server refuses that (before 14, or when the
 * table has a default partition), a plain DETACH in a short transaction.
 * Two steps, each doing nothing when the other applies.  owner: NULL, or
 * the step they undo; cond: NULL, or a SQL boolean: do it at all.
 */
static void
detach_steps(PlanCtx *pc, Step *owner, const char *table, const char *partition,
			 const char *cond)
{
	char	   *attached = sql_partition_of(table, partition);
	char	   *gone = xasprintf("NOT %s", attached);
	char	   *has_default = sql_format("EXISTS (SELECT FROM pg_partitioned_table WHERE "
										 "partrelid = to_regclass(%R) AND partdefid <> 0)", table);
	bool		concurrently = pc->cat == NULL || pc->cat->server_version >= 140000;
	char	   *plain_cond = concurrently ? xasprintf("%s AND %s", attached, has_default)
		: xstrdup(attached);
	char	   *todo = and_cond(cond, plain_cond);
	char	   *stmt = sql_format("ALTER TABLE %Q DETACH PARTITION %Q", table, partition);
	Step	   *s;

	s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 concurrently ? "detach partition %Q from %Q, if the table has a default "
				 "partition (no CONCURRENTLY then)" : "detach partition %Q from %Q",
				 partition, table);
	step_sql_guarded(s, todo, stmt);
	if (concurrently)
	{
		char	   *not_pending = xasprintf("(%s OR NOT %s)", gone, has_default);

		done_unless(s, cond, not_pending);
		free(not_pending);
	}
	else
		done_unless(s, cond, gone);
	if (concurrently)
	{
		char	   *finalize = sql_format("ALTER TABLE %Q DETACH PARTITION %Q FINALIZE",
											  table, partition);
		char	   *detach = sql_format("ALTER TABLE %Q DETACH PARTITION %Q CONCURRENTLY",
											table, partition);

		s = add_step(pc, owner, PHASE_EXPAND, STEP_CONCURRENT, LOCK_SHARE_UPDATE_EXCLUSIVE,
					 table, "detach partition %Q from %Q concurrently", partition, table);
		s->dynamic_sql = sql_format("SELECT CASE WHEN inhdetachpending THEN %L ELSE %L END "
									"FROM pg_inherits WHERE inhrelid = to_regclass(%R) "
									"AND inhparent = to_regclass(%R) AND %s",
									finalize, detach, partition, table, cond ? cond : "true");
		done_unless(s, cond, gone);
		free(finalize);
		free(detach);
	}
	free(attached);
	free(gone);
	free(has_default);
	free(plain_cond);
	free(todo);
	free(stmt);
}

/*
 * The statements and done checks of an attach, written either from the
 * file (bound, check) or from saved state (SQL expressions of text).
 */
typedef struct AttachSpec
{
	const char *table;
	const char *partition;
	const char *bound_sql;		/* "FOR VALUES ..."; NULL: from bound_saved */
	const char *check_sql;		/* the CHECK's expression; NULL: none */
	const char *bound_saved;	/* SQL of the saved bound text */
	const char *check_saved;	/* SQL of the saved constraint text */
	const char *default_part;	/* NULL, or the default partition: it gets the
								 * opposite check, so that ATTACH need not scan it */
	const char *cond;			/* NULL, or a SQL boolean: do it at all */
} AttachSpec;


/*
 * A CHECK added NOT VALID then validated (reads and writes go on), with the
 * drop of it as undo when owner is NULL.  expr: the expression, or NULL and
 * expr_saved, SQL of its text.
 */
static void
prove_check(PlanCtx *pc, Step *owner, const AttachSpec *a, const char *rel,
			const char *check, const char *expr, const char *expr_saved, const char *what)
{
	char	   *exists = sql_constraint_exists(rel, check);
	char	   *validated = sql_constraint_validated(rel, check);
	char	   *attached = sql_partition_of(a->table, a->partition);
	char	   *not_yet = xasprintf("NOT %s AND NOT %s", attached, exists);
	char	   *cond = and_cond(a->cond, not_yet);
	char	   *either = xasprintf("(%s OR %s)", attached, exists);
	Step	   *s;

	s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, rel,
				 "check that %s, not valid yet", what);
	if (owner == NULL)
		step_owns(s, "constraint", rel, check);
	if (expr)
	{
		char	   *stmt = sql_format("ALTER TABLE %Q ADD CONSTRAINT %I CHECK (%s) NOT VALID",
									  rel, check, expr);

		step_sql_guarded(s, cond, stmt);
		free(stmt);
	}
	else
	{
		char	   *call = sql_format("format('ALTER TABLE %%s ADD CONSTRAINT %%I CHECK (%%s) "
									  "NOT VALID', %R, %L, %s)", rel, check, expr_saved);

		set_dynamic(s, cond, call);
		free(call);
	}
	done_unless(s, a->cond, either);
	if (owner == NULL)
	{
		Step	   *undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, rel,
									"drop check %I", check);

		step_sql(undo, "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", rel, check);
		step_done(undo, "SELECT NOT %s", exists);
	}
	free(either);
	free(cond);
	free(not_yet);

	s = add_step(pc, owner, PHASE_VALIDATE, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, rel,
				 "validate check %I (reads and writes go on)", check);
	{
		char	   *stmt = sql_format("ALTER TABLE %Q VALIDATE CONSTRAINT %I", rel, check);
		char	   *todo = xasprintf("%s AND NOT %s", exists, validated);

		step_sql_guarded(s, todo, stmt);
		free(todo);
		free(stmt);
	}
	either = xasprintf("(%s OR %s)", attached, validated);
	done_unless(s, a->cond, either);
	free(either);
	free(exists);
	free(validated);
	free(attached);
}

static void
drop_check_step(PlanCtx *pc, Step *owner, const char *rel, const char *check,
				const char *why)
{
	char	   *exists = sql_constraint_exists(rel, check);
	Step	   *s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, rel,
							 "drop check %I: %s", check, why);

	step_sql(s, "ALTER TABLE %Q DROP CONSTRAINT IF EXISTS %I", rel, check);
	step_done(s, "SELECT NOT %s", exists);
	free(exists);
}

/*
 * DETACH ... CONCURRENTLY leaves a copy of the partition constraint on the
 * detached table as a CHECK: the undo step (of owner) that drops it.
 * check_saved: SQL of the constraint's text, saved while it was attached.
 */
static void
drop_detach_check_step(PlanCtx *pc, Step *owner, const char *partition, const char *check_saved)
{
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, partition,
								"drop the check that the detach added to %Q", partition);
	Buf			body;

	buf_init(&body);
	sql_append(&body, "DECLARE c text; BEGIN FOR c IN SELECT conname FROM pg_constraint "
			   "WHERE conrelid = to_regclass(%R) AND contype = 'c' "
			   "AND pg_get_constraintdef(oid) = format('CHECK (%%s)', %s) LOOP "
			   "EXECUTE format('ALTER TABLE %%s DROP CONSTRAINT %%I', %R, c); END LOOP; END",
			   partition, check_saved, partition);
	strlist_push(&undo->sql, do_block(body.data));
	buf_free(&body);
}

/*
 * The undo of an attach: the partition constraint saved (the detach
 * copies it as a CHECK), the detach, that CHECK dropped.
 */
static void
undo_attach(PlanCtx *pc, Step *s, const AttachSpec *a)
{
	/* one key a partition: add_partitions attaches several */
	char	   *what = xasprintf("%s.constraint", a->partition);
	char	   *key = saved_key(pc, what);
	char	   *check_saved = saved_value(pc, what);
	const char *const whats[] = {what, NULL};
	Step	   *save = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
								"save the partition constraint of %Q, which a concurrent detach "
								"copies", a->partition);

	step_sql(save, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, d FROM pg_get_partition_constraintdef(to_regclass(%R)) AS d "
			 "WHERE d IS NOT NULL ON CONFLICT DO NOTHING", pc->m->version, key, a->partition);
	detach_steps(pc, s, a->table, a->partition, a->cond);
	drop_detach_check_step(pc, s, a->partition, check_saved);
	undo_forget_saved(pc, s, whats);
	free(check_saved);
	free(key);
	free(what);
}

/*
 * CHECK NOT VALID, VALIDATE, ATTACH (no scan of the partition under its
 * lock), drop the CHECK.  owner: NULL (the steps of an operation, each with
 * its undo) or the step these undo (no undos of their own).
 */
static void
plan_attach(PlanCtx *pc, Step *owner, const AttachSpec *a)
{
	char	   *check = bound_check_name(a->partition);
	char	   *outside = derived_name(a->partition, NULL, "migrate_outside");
	char	   *attached = sql_partition_of(a->table, a->partition);
	char	   *not_attached = xasprintf("NOT %s", attached);
	char	   *cond = and_cond(a->cond, not_attached);
	bool		with_check = a->check_sql != NULL || a->check_saved != NULL;
	bool		with_default = a->default_part != NULL && a->check_sql != NULL;
	char	   *what = sql_format("the rows of %Q fit its bound", a->partition);
	Step	   *s;

	if (with_check)
		prove_check(pc, owner, a, a->partition, check, a->check_sql, a->check_saved, what);
	if (with_default)
	{
		char	   *negated = xasprintf("NOT (%s)", a->check_sql);
		char	   *what_default = sql_format("no row of the default partition %Q belongs in %Q",
											  a->default_part, a->partition);

		prove_check(pc, owner, a, a->default_part, outside, negated, NULL, what_default);
		free(what_default);
		free(negated);
	}

	s = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_SHARE_UPDATE_EXCLUSIVE, a->table,
				 with_check ? "attach %Q to %Q (the validated check spares its scan)"
				 : "attach %Q to %Q (scanned under its lock: no check proves this bound)",
				 a->partition, a->table);
	if (a->bound_sql)
	{
		char	   *stmt = sql_format("ALTER TABLE %Q ATTACH PARTITION %Q %s", a->table,
									  a->partition, a->bound_sql);

		step_sql_guarded(s, cond, stmt);
		free(stmt);
	}
	else
	{
		char	   *call = sql_format("format('ALTER TABLE %%s ATTACH PARTITION %%s %%s', %R, %R, %s)",
									  a->table, a->partition, a->bound_saved);

		set_dynamic(s, cond, call);
		free(call);
	}
	done_unless(s, a->cond, attached);
	if (owner == NULL)
		undo_attach(pc, s, a);

	if (with_check)
		drop_check_step(pc, owner, a->partition, check, "the partition's bound holds now");
	if (with_default)
		drop_check_step(pc, owner, a->default_part, outside, "the partition is attached");
	free(check);
	free(outside);
	free(attached);
	free(not_attached);
	free(cond);
	free(what);
}

static bool
plan_attach_partition(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const PartitionBound *bound = &op->u.attach_partition.values;
	Buf			b;
	char	   *check = NULL;
	AttachSpec	a = {0};

	buf_init(&b);
	partition_bound_sql(&b, bound);
	/* the CHECK needs the key's column: the catalog tells, or a range's one column */
	if (pc->cat != NULL)
	{
		StrList		columns = {0};
		PartitionMethod method = PARTITION_NONE;

		if (catalog_partition_key(pc->cat, op->u.attach_partition.table, &method, &columns))
			check = partition_check_sql(method, &columns, bound);
		strlist_free(&columns);
	}
	a.table = op->u.attach_partition.table;
	a.partition = op->u.attach_partition.partition;
	a.bound_sql = b.data;
	a.check_sql = check;
	ensure_migrate_schema(pc);
	plan_attach(pc, NULL, &a);
	free(check);
	buf_free(&b);
	return true;
}

/* ---- detach_partition ---- */

static bool
plan_detach_partition(PlanCtx *pc)
{
	const char *table = pc->op->u.detach_partition.table;
	const char *partition = pc->op->u.detach_partition.partition;
	char	   *k_bound = saved_key(pc, "bound");
	char	   *k_check = saved_key(pc, "constraint");
	char	   *saved = saved_flag(pc, "bound", NULL);
	char	   *bound_saved = saved_value(pc, "bound");
	char	   *check_saved = saved_value(pc, "constraint");
	Step	   *s;
	AttachSpec	a = {0};

	ensure_migrate_schema(pc);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "save the bound of %Q for rollback", partition);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, k.key, k.definition FROM pg_class c "
			 "CROSS JOIN LATERAL (VALUES (%L, pg_get_expr(c.relpartbound, c.oid)), "
			 "(%L, pg_get_partition_constraintdef(c.oid))) AS k(key, definition) "
			 "WHERE c.oid = to_regclass(%R) AND c.relispartition "
			 "ON CONFLICT DO NOTHING", pc->m->version, k_bound, k_check, partition);
	step_done(s, "SELECT %s", saved);
	{
		const char *const whats[] = {"bound", "constraint", NULL};

		undo_forget_saved(pc, s, whats);
	}

	detach_steps(pc, NULL, table, partition, NULL);
	s = pc->steps.items[pc->steps.n - 1];
	/* rollback: attach again, its saved constraint proving its bound */
	a.table = table;
	a.partition = partition;
	a.bound_saved = bound_saved;
	a.check_saved = check_saved;
	plan_attach(pc, s, &a);
	drop_detach_check_step(pc, s, partition, check_saved);

	free(k_bound);
	free(k_check);
	free(saved);
	free(bound_saved);
	free(check_saved);
	return true;
}


/* ---- add_partitions ---- */

/*
 * Rows that a new partition takes are moved out of the default partition
 * in batches, each batch its own transaction: a procedure commits between
 * batches when it is CALLed outside a transaction.
 */
static const char *const move_rows_proc =
"CREATE OR REPLACE PROCEDURE migrate.move_partition_rows(source regclass, target regclass, "
"condition text, batch integer)\n"
"LANGUAGE plpgsql AS $fn$\n"
"DECLARE\n"
"    columns text;\n"
"    moved bigint;\n"
"BEGIN\n"
"    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns\n"
"    FROM pg_attribute WHERE attrelid = target AND attnum > 0 AND NOT attisdropped\n"
"      AND attgenerated = '';\n"
"    LOOP\n"
"        EXECUTE format('WITH moved AS (DELETE FROM %s WHERE ctid = ANY (ARRAY('\n"
"                       'SELECT ctid FROM %s WHERE %s LIMIT %s FOR UPDATE)) RETURNING %s) '\n"
"                       'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM moved',\n"
"                       source, source, condition, batch, columns, target, columns, columns);\n"
"        GET DIAGNOSTICS moved = ROW_COUNT;\n"
"        COMMIT;\n"
"        EXIT WHEN moved = 0;\n"
"    END LOOP;\n"
"END\n"
"$fn$";

/* The first 10 characters after marker in text, as a date. */
static bool
date_after(const char *text, const char *marker, CivilDate *out)
{
	const char *p = strstr(text, marker);
	char		date[11] = {0};

	if (p == NULL)
		return false;
	p += strlen(marker);
	if (strnlen(p, 10) < 10)
		return false;
	memcpy(date, p, 10);
	return partition_parse_date(date, out);
}

/* The relation name of a possibly qualified name. */
static const char *
bare_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && !strchr(name, '"') ? dot + 1 : name;
}

/*
 * Of the partitions of table, the generated ones (name and bound those of
 * one period): the interval of the latest and its end; from stays NULL
 * when there is none.  default_out: the default partition, or NULL.
 */
static bool
read_partitions(PlanCtx *pc, const char *table, PartitionInterval *every, char **from,
				char **default_out)
{
	StrList		names = {0};
	StrList		bounds = {0};
	CivilDate	latest = {0, 0, 0};
	bool		found = false;

	if (!catalog_partitions(pc->cat, table, &names, &bounds, pc->err))
		return false;
	for (size_t i = 0; i < names.n; i++)
	{
		CivilDate	a,
					z;

		if (strcmp(bounds.items[i], "DEFAULT") == 0)
		{
			free(*default_out);
			*default_out = xstrdup(names.items[i]);
			continue;
		}
		if (!date_after(bounds.items[i], "FROM ('", &a) || !date_after(bounds.items[i], "TO ('", &z))
			continue;
		for (PartitionInterval iv = INTERVAL_DAY; iv <= INTERVAL_YEAR; iv++)
		{
			char	   *expected;
			bool		same;

			if (partition_date_compare(partition_period_start(iv, a), a) != 0 ||
				partition_date_compare(partition_period_next(iv, a), z) != 0)
				continue;
			expected = partition_period_name(table, iv, a);
			same = strcmp(bare_name(expected), bare_name(names.items[i])) == 0;
			free(expected);
			if (same && (!found || partition_date_compare(z, latest) > 0))
			{
				latest = z;
				*every = iv;
				found = true;
			}
		}
	}
	strlist_free(&names);
	strlist_free(&bounds);
	if (found)
	{
		char		text[16];

		partition_format_date(latest, text);
		*from = xstrdup(text);
	}
	return true;
}

/*
 * The interval and first period of add_partitions: as saved when it first
 * ran (so that a resumed run and the rollback plan the same partitions), as
 * written, or after the table's latest generated partition.
 */
static bool
add_partitions_range(PlanCtx *pc, PartitionInterval *every, char **from, char **default_part)
{
	const Operation *op = pc->op;
	const char *table = op->u.add_partitions.table;
	char	   *k_range = saved_key(pc, "range");
	StrList		saved = {0};
	PartitionInterval found = INTERVAL_NONE;
	char	   *latest = NULL;
	int			got = 0;
	bool		ok = true;

	*every = op->u.add_partitions.every;
	*from = xstrdup(op->u.add_partitions.from);
	if (pc->cat != NULL)
	{
		got = catalog_saved_list(pc->cat, pc->m->version, k_range, &saved, pc->err);
		ok = got >= 0 && read_partitions(pc, table, &found, &latest, default_part);
	}
	free(k_range);
	if (ok && got == 1 && saved.n == 2 && partition_parse_interval(saved.items[0], every))
	{
		free(*from);
		*from = xstrdup(saved.items[1]);
	}
	else if (ok && *from == NULL && pc->cat == NULL)
		ok = error_set(pc->err, EXIT_USAGE,
					   "%s:%d:%d: add_partitions: without \"every\" and \"from\" the existing "
					   "partitions of %s tell where to go on; give a database (-d) to plan it",
					   op->pos.file, op->pos.line, op->pos.col, table);
	else if (ok && *from == NULL)
	{
		if (latest == NULL)
			ok = error_set(pc->err, EXIT_USAGE,
						   "%s:%d:%d: add_partitions: %s has no generated partitions yet: "
						   "give \"every\" and \"from\"", op->pos.file, op->pos.line,
						   op->pos.col, table);
		else
		{
			*from = latest;
			latest = NULL;
			if (*every == INTERVAL_NONE)
				*every = found;
		}
	}
	if (ok && *every == INTERVAL_NONE)
		ok = error_set(pc->err, EXIT_USAGE, "%s:%d:%d: add_partitions: give \"every\"",
					   op->pos.file, op->pos.line, op->pos.col);
	strlist_free(&saved);
	free(latest);
	return ok;
}

/* The undo of a partition add_partitions created: drop it, if it holds no rows unless force. */
static void
undo_added_partition(PlanCtx *pc, Step *owner, const char *part, const char *ours)
{
	bool		force = pc->op->u.add_partitions.force;
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, part,
								"drop partition %Q%s", part,
								force ? " (force: with its rows)" : ", refused while it holds rows");
	Buf			body;

	buf_init(&body);
	sql_append(&body, "BEGIN IF %s AND to_regclass(%R) IS NOT NULL THEN ", ours, part);
	if (!force)
		sql_append(&body, "IF EXISTS (SELECT FROM %Q) THEN RAISE EXCEPTION %L USING HINT = %L; "
				   "END IF; ", part,
				   "a partition this migration added holds rows: rollback keeps them",
				   "move the rows out, or give add_partitions \"force: true\" to drop them");
	sql_append(&body, "DROP TABLE %Q; END IF; END", part);
	strlist_push(&undo->sql, do_block(body.data));
	buf_free(&body);
	step_done(undo, "SELECT to_regclass(%R) IS NULL OR NOT %s", part, ours);
}

static bool
plan_add_partitions(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *table = op->u.add_partitions.table;
	PartitionInterval every;
	char	   *from = NULL;
	char	   *default_part = NULL;
	GeneratedPartitions gp = {0};
	StrList		key = {0};
	PartitionMethod method = PARTITION_NONE;
	char	   *k_range = saved_key(pc, "range");
	char	   *k_added = saved_key(pc, "added");
	char	   *range_saved = saved_flag(pc, "range", NULL);
	Buf			names;
	Step	   *s;

	if (!add_partitions_range(pc, &every, &from, &default_part) ||
		!partition_generate_periods(table, every, from, op->u.add_partitions.to, &gp, pc->err))
	{
		if (gp.n == 0 && pc->err->message && strncmp(pc->err->message, "\"", 1) == 0)
			error_prefix(pc->err, "%s:%d:%d: add_partitions", op->pos.file, op->pos.line,
						 op->pos.col);
		free(from);
		free(default_part);
		free(k_range);
		free(k_added);
		free(range_saved);
		return false;
	}
	if (pc->cat != NULL)
		(void) catalog_partition_key(pc->cat, table, &method, &key);

	/* 1: which of them this migration adds: the others exist already */
	ensure_migrate_schema(pc);
	buf_init(&names);
	for (size_t i = 0; i < gp.n; i++)
	{
		sql_append(&names, "%s(%L, %R)", i > 0 ? ", " : "", gp.items[i].name, gp.items[i].name);
	}
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "record which partitions of %Q this migration adds (every %s from %s)",
				 table, partition_interval_name(every), from);
	step_sql(s, "%s", move_rows_proc);
	{
		char	   *range_json = xasprintf("[\"%s\", \"%s\"]", partition_interval_name(every), from);

		step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) VALUES "
				 "(%D, %L, %L), (%D, %L, (SELECT coalesce(json_agg(n.quoted), '[]')::text "
				 "FROM (VALUES %s) AS n(name, quoted) WHERE to_regclass(n.quoted) IS NULL)) "
				 "ON CONFLICT DO NOTHING",
				 pc->m->version, k_range, range_json, pc->m->version, k_added, names.data);
		free(range_json);
	}
	step_done(s, "SELECT %s", range_saved);
	{
		const char *const whats[] = {"range", "added", NULL};

		undo_forget_saved(pc, s, whats);
	}
	buf_free(&names);

	/* 2: each: a table of the same shape, the default's rows moved in, attached */
	for (size_t i = 0; i < gp.n; i++)
	{
		const char *part = gp.items[i].name;
		char	   *ours = sql_format("EXISTS (SELECT FROM migrate.saved_objects WHERE "
									  "version = %D AND key = %L AND definition::jsonb ? %R)",
									  pc->m->version, k_added, part);
		char	   *attached = sql_partition_of(table, part);
		char	   *check = method == PARTITION_RANGE
			? partition_check_sql(method, &key, &gp.items[i].bound) : NULL;
		Buf			bound;
		AttachSpec	a = {0};

		buf_init(&bound);
		partition_bound_sql(&bound, &gp.items[i].bound);

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
					 "create %Q like %Q, to become its partition %s", part, table, bound.data);
		{
			char	   *stmt = sql_format("CREATE TABLE %Q (LIKE %Q INCLUDING ALL)", part, table);
			char	   *cond = sql_format("%s AND to_regclass(%R) IS NULL", ours, part);

			step_sql_guarded(s, cond, stmt);
			free(cond);
			free(stmt);
		}
		step_done(s, "SELECT NOT %s OR to_regclass(%R) IS NOT NULL", ours, part);
		undo_added_partition(pc, s, part, ours);

		if (default_part != NULL && check != NULL)
		{
			s = add_step(pc, NULL, PHASE_BACKFILL, STEP_SQL, LOCK_ROW_EXCLUSIVE, default_part,
						 "move the rows of the default partition %Q that belong in %Q, in batches",
						 default_part, part);
			s->in_txn = false;
			step_sql(s, "CALL migrate.move_partition_rows(%R, %R, %L, 1000)",
					 default_part, part, check);
			step_done(s, "SELECT NOT %s OR %s", ours, attached);
		}

		a.table = table;
		a.partition = part;
		a.bound_sql = bound.data;
		a.check_sql = check;
		a.default_part = default_part;
		a.cond = ours;
		plan_attach(pc, NULL, &a);
		free(check);
		free(ours);
		free(attached);
		buf_free(&bound);
	}
	/*
	 * 3: nothing to do at apply; at rollback, which undoes it first, the
	 * refusal while a partition this migration added holds rows, before
	 * any is detached.
	 */
	if (!op->u.add_partitions.force)
	{
		Buf			body;
		Step	   *undo;

		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
					 "the partitions of %Q up to %s are in place", table, op->u.add_partitions.to);
		step_done(s, "SELECT true");
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
						"refuse the rollback while a partition this migration added holds rows");
		buf_init(&body);
		sql_append(&body, "DECLARE part text; found boolean; BEGIN FOR part IN SELECT "
				   "jsonb_array_elements_text(definition::jsonb) FROM migrate.saved_objects "
				   "WHERE version = %D AND key = %L LOOP "
				   "IF to_regclass(part) IS NOT NULL THEN "
				   "EXECUTE format('SELECT EXISTS (SELECT FROM %%s)', part) INTO found; "
				   "IF found THEN RAISE EXCEPTION 'partition %% holds rows: rollback keeps it', part "
				   "USING HINT = %L; END IF; END IF; END LOOP; END",
				   pc->m->version, k_added,
				   "move the rows out, or give add_partitions \"force: true\" to drop them");
		strlist_push(&undo->sql, do_block(body.data));
		buf_free(&body);
	}
	generated_partitions_free(&gp);
	strlist_free(&key);
	free(from);
	free(default_part);
	free(k_range);
	free(k_added);
	free(range_saved);
	return true;
}

bool
plan_partition_op(PlanCtx *pc)
{
	switch (pc->op->kind)
	{
		case OP_ADD_PARTITIONS:
			return plan_add_partitions(pc);
		case OP_ATTACH_PARTITION:
			return plan_attach_partition(pc);
		case OP_DETACH_PARTITION:
			return plan_detach_partition(pc);
		case OP_PARTITION_TABLE:
			return plan_partition_table(pc);
		default:
			break;
	}
	return error_set(pc->err, EXIT_USAGE, "not a partition operation");
}
