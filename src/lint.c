/*
 * lint.c: the rules of `migrate lint`, applied to each statement of each
 * step, with what the migration did before it (tables it created, NOT VALID
 * constraints it added, transactions) as context.
 *
 * Each rule says what the statement locks and on what, whether it rewrites
 * or scans under that lock (docs/design.md, What each statement locks), why that hurts a live application,
 * and which migrate operation does the same online.
 */
#include "lint.h"

#include <stdlib.h>
#include <string.h>

#include <pg_query/pg_query.pb-c.h>

#include "catalog.h"
#include "json.h"
#include "quote.h"
#include "sqlparse.h"

/* ---- the rules ---- */

typedef enum RuleId
{
	R_INDEX_NOT_CONCURRENT,
	R_DROP_INDEX_NOT_CONCURRENT,
	R_CONCURRENTLY_IN_TXN,
	R_FOREIGN_KEY_VALIDATED,
	R_CHECK_VALIDATED,
	R_UNIQUE_CONSTRAINT,
	R_PRIMARY_KEY,
	R_SET_NOT_NULL,
	R_NOT_NULL_NO_DEFAULT,
	R_VOLATILE_DEFAULT,
	R_STORED_GENERATED,
	R_SERIAL_IDENTITY,
	R_TYPE_CHANGE,
	R_VALIDATE_SAME_TXN,
	R_REINDEX_NOT_CONCURRENT,
	R_VACUUM_FULL,
	R_CLUSTER,
	R_LOCK_TABLE,
	R_TRUNCATE_CASCADE,
	R_RENAME,
	R_RENAMED_TABLE_VIEW,
	R_DROP,
	R_UNBOUNDED_DML,
	R_DETACH_NOT_CONCURRENT,
	R_TABLE_REWRITE,
	R_DOMAIN_CONSTRAINT,
	R_REFRESH_NOT_CONCURRENT,
	R_EXCLUSION_CONSTRAINT,
	R__COUNT
} RuleId;

typedef struct Rule
{
	const char *id;
	const char *squawk;			/* the squawk rule modules it answers to, space-separated */
	const char *why;
	const char *instead;
} Rule;

static const Rule rules[R__COUNT] = {
	[R_INDEX_NOT_CONCURRENT] = {"create-index-not-concurrent", "require_concurrent_index_creation",
		"CREATE INDEX holds SHARE on the table while it scans and sorts every row: every INSERT, UPDATE and DELETE waits until the build ends",
	"create_index (CREATE INDEX CONCURRENTLY, outside a transaction; an INVALID leftover is rebuilt)"},
	[R_DROP_INDEX_NOT_CONCURRENT] = {"drop-index-not-concurrent", "require_concurrent_index_deletion",
		"DROP INDEX takes ACCESS EXCLUSIVE on the table: while it waits behind a long query, every read and write of the table queues behind it",
	"drop_index (DROP INDEX CONCURRENTLY)"},
	[R_CONCURRENTLY_IN_TXN] = {"concurrently-in-transaction", "ban_concurrent_index_creation_in_transaction",
		"a CONCURRENTLY statement cannot run inside a transaction block: the migration fails there",
	"create_index / drop_index, or an sql operation with transactional: false"},
	[R_FOREIGN_KEY_VALIDATED] = {"foreign-key-validated", "adding_foreign_key_constraint constraint_missing_not_valid",
		"adding a validated foreign key holds SHARE ROW EXCLUSIVE on both tables while it scans them: writes to both wait",
	"add_constraint with foreign_key (NOT VALID, then VALIDATE in its own transaction)"},
	[R_CHECK_VALIDATED] = {"check-validated", "constraint_missing_not_valid",
		"adding a validated CHECK scans the whole table under ACCESS EXCLUSIVE: reads and writes wait",
	"add_constraint with check (NOT VALID, then VALIDATE under SHARE UPDATE EXCLUSIVE)"},
	[R_UNIQUE_CONSTRAINT] = {"unique-constraint", "disallow_unique_constraint",
		"adding a UNIQUE constraint builds its index under ACCESS EXCLUSIVE: reads and writes wait for the whole build",
	"add_constraint with unique (index built concurrently, then ADD CONSTRAINT ... USING INDEX)"},
	[R_PRIMARY_KEY] = {"primary-key", "adding_primary_key_constraint",
		"adding a PRIMARY KEY builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE: reads and writes wait",
	"add_constraint with primary_key (index built concurrently, then ADD CONSTRAINT ... USING INDEX)"},
	[R_SET_NOT_NULL] = {"set-not-null", "adding_not_null_field",
		"SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) proves it",
	"alter_column with nullable: false (CHECK NOT VALID, VALIDATE, then SET NOT NULL without a scan)"},
	[R_NOT_NULL_NO_DEFAULT] = {"add-column-not-null-no-default", "adding_required_field",
		"ADD COLUMN ... NOT NULL without a default fails on a table that has rows, and code that inserts without the column breaks",
	"add_column with a default, or with backfill (nullable, trigger, batched backfill, then NOT NULL)"},
	[R_VOLATILE_DEFAULT] = {"volatile-default", "adding_field_with_default",
		"a volatile default (or one that cannot be told non-volatile) is evaluated per row: the table and its indexes are rewritten under ACCESS EXCLUSIVE",
	"add_column with backfill: the expression (nullable column, batched backfill, then the default)"},
	[R_STORED_GENERATED] = {"stored-generated-column", "adding_field_with_default",
		"a STORED generated column is computed for every row: the table and its indexes are rewritten under ACCESS EXCLUSIVE",
	"add_column with backfill: the expression and a trigger, or compute it in a view"},
	[R_SERIAL_IDENTITY] = {"serial-or-identity-column", "adding_field_with_default",
		"a serial or identity column fills every existing row: the table and its indexes are rewritten under ACCESS EXCLUSIVE",
	"add_column (nullable), a sequence default, and backfill in batches"},
	[R_TYPE_CHANGE] = {"type-change-rewrite", "changing_column_type",
		"ALTER COLUMN TYPE rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE unless the new type is binary coercible",
	"alter_column with type (shadow column, sync trigger, batched backfill, short-lock swap)"},
	[R_VALIDATE_SAME_TXN] = {"validate-in-same-transaction", "constraint_missing_not_valid",
		"VALIDATE in the transaction that added the constraint NOT VALID keeps the ADD's strong lock during the whole scan",
	"add_constraint (NOT VALID and VALIDATE in separate transactions)"},
	[R_REINDEX_NOT_CONCURRENT] = {"reindex-not-concurrent", "require_concurrent_reindex",
		"REINDEX holds SHARE on the table (writes wait) and ACCESS EXCLUSIVE on each index (queries that would use it wait)",
	"an sql operation with REINDEX ... CONCURRENTLY and transactional: false"},
	[R_VACUUM_FULL] = {"vacuum-full", "prefer_repack",
		"VACUUM FULL rewrites the table and its indexes under ACCESS EXCLUSIVE: reads and writes wait for the whole copy",
	"plain VACUUM (SHARE UPDATE EXCLUSIVE), or an online repack tool (pg_repack)"},
	[R_CLUSTER] = {"cluster", "prefer_repack",
		"CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE: reads and writes wait for the whole copy",
	"an online repack tool (pg_repack), or create_index for the access path"},
	[R_LOCK_TABLE] = {"lock-table", NULL,
		"LOCK TABLE takes (by default) ACCESS EXCLUSIVE and keeps it until the transaction ends: every query of the table waits",
	"the operations, whose steps take short locks with lock_timeout and retries"},
	[R_TRUNCATE_CASCADE] = {"truncate-cascade", "ban_truncate_cascade",
		"TRUNCATE ... CASCADE also empties every table that references this one, under ACCESS EXCLUSIVE on all of them",
	"TRUNCATE the tables you mean by name, or a batched delete (backfill-style)"},
	[R_RENAME] = {"rename", "renaming_column",
		"a rename breaks the running application: its queries still use the old name",
	"expand/contract: add_column under the new name with backfill (its trigger keeps both in step), then drop_column the old one at finalize"},
	[R_RENAMED_TABLE_VIEW] = {"renamed-table-view", NULL,
		"until finalize the old name is a view over the renamed table: reads and writes through it work, but LOCK TABLE, COPY ... FROM, TRUNCATE and a new foreign key that name the old table fail on it",
	"use the new name in such statements, or run them after finalize"},
	[R_DROP] = {"drop", "ban_drop_column",
		"a drop breaks the running application, whose queries still use what is dropped; it cannot be undone",
	"drop_column / drop_table / drop_index (deferred to finalize, when the old version is gone)"},
	[R_UNBOUNDED_DML] = {"unbounded-update-delete", NULL,
		"UPDATE / DELETE without WHERE touches every row in one transaction: every row stays locked until it commits, with a burst of WAL, replica lag and bloat",
	"backfill (keyset batches, each its own short transaction, throttled)"},
	[R_DETACH_NOT_CONCURRENT] = {"detach-partition-not-concurrent", "require_concurrent_partition_detach",
		"DETACH PARTITION takes ACCESS EXCLUSIVE on the parent and the partition: reads and writes of the whole partitioned table wait",
	"an sql operation with DETACH PARTITION ... CONCURRENTLY and transactional: false"},
	[R_TABLE_REWRITE] = {"table-rewrite", NULL,
		"SET TABLESPACE / SET LOGGED / SET UNLOGGED copies the whole table under ACCESS EXCLUSIVE",
	"do it in a maintenance window, or copy the data online with logical replication"},
	[R_DOMAIN_CONSTRAINT] = {"domain-constraint-validated", "ban_alter_domain_with_add_constraint",
		"ALTER DOMAIN ... ADD CONSTRAINT checks every column of that domain in every table, holding SHARE on each: their writes wait",
	"ADD CONSTRAINT ... NOT VALID on the domain, then VALIDATE CONSTRAINT in its own transaction"},
	[R_REFRESH_NOT_CONCURRENT] = {"refresh-materialized-view-not-concurrent", NULL,
		"REFRESH MATERIALIZED VIEW without CONCURRENTLY rebuilds it under ACCESS EXCLUSIVE: every read of the view waits for the whole query",
	"refresh_materialized_view (CONCURRENTLY: readers never wait; needs a unique index)"},
	[R_EXCLUSION_CONSTRAINT] = {"exclusion-constraint", NULL,
		"adding an exclusion constraint builds its index and checks every row under ACCESS EXCLUSIVE: reads and writes wait for the whole build (it cannot be added NOT VALID nor USING INDEX)",
	"add it with the table (create_table, or while the table is still empty), or accept the build with unsafe_ok when the table is quiet"},
};

const char *const lint_rule_ids[] = {
	"create-index-not-concurrent", "drop-index-not-concurrent", "concurrently-in-transaction",
	"foreign-key-validated", "check-validated", "unique-constraint", "primary-key",
	"set-not-null", "add-column-not-null-no-default", "volatile-default",
	"stored-generated-column", "serial-or-identity-column", "type-change-rewrite",
	"validate-in-same-transaction", "reindex-not-concurrent", "vacuum-full", "cluster",
	"lock-table", "truncate-cascade", "rename", "renamed-table-view", "drop", "unbounded-update-delete",
	"detach-partition-not-concurrent", "table-rewrite", "domain-constraint-validated",
	"refresh-materialized-view-not-concurrent", "exclusion-constraint", NULL
};

/* ---- what the migration did before the statement ---- */

typedef struct NotValid
{
	char	   *table;
	char	   *name;
	char	   *not_null_column;	/* the check is "col IS NOT NULL"; NULL */
	int			txn;
} NotValid;

typedef struct LintState
{
	const LintOptions *opt;
	LintReport *out;
	StrList		created;		/* tables created by this migration */
	StrList		created_indexes;
	StrList		created_columns;	/* "table.column" added by this migration */
	StrList		proven_not_null;	/* "table.column" */
	StrList		dropped_not_null;	/* "table.column" whose NOT NULL an earlier
									 * statement dropped */
	StrList		written;		/* tables an earlier statement put rows in */
	NotValid   *not_valid;
	size_t		n_not_valid;
	int			txn;			/* current transaction, 0: none */
	int			next_txn;
	bool		explicit_txn;	/* inside the SQL's own BEGIN */
	/* where the statements come from */
	const char *file;
	int			line;
	int			text_line;		/* line of the text's start in file; 0: use line */
	int64_t		version;
	const char *step_id;
	const char *accepted;
	bool		rename_operation;	/* the step is a rename_* operation's */
	bool		contract_online;	/* a finalize step: the old version is gone */
	const char *plain_table;	/* the step's plain statements are the planner's
								 * choice for this table, empty or small
								 * (Step.why_plain); NULL */
	/* the statement being judged */
	const SqlStatements *stmts;
	const char *stmt_text;
} LintState;

static void
state_free(LintState *st)
{
	strlist_free(&st->created);
	strlist_free(&st->created_indexes);
	strlist_free(&st->created_columns);
	strlist_free(&st->proven_not_null);
	strlist_free(&st->dropped_not_null);
	strlist_free(&st->written);
	for (size_t i = 0; i < st->n_not_valid; i++)
	{
		free(st->not_valid[i].table);
		free(st->not_valid[i].name);
		free(st->not_valid[i].not_null_column);
	}
	free(st->not_valid);
}

/* "schema.table", or "table" (protobuf gives "" for no schema). */
static char *
relation_name(const PgQuery__RangeVar *rv)
{
	return rv->schemaname && rv->schemaname[0]
		? xasprintf("%s.%s", rv->schemaname, rv->relname) : xstrdup(rv->relname);
}

static int
server_version(const LintState *st)
{
	if (st->opt->server_version)
		return st->opt->server_version;
	return st->opt->cat ? st->opt->cat->server_version : 150000;
}

/* The last part of a name as written ("s.t" -> "t"). */
static const char *
unqualified(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : name;
}

/*
 * Whether nobody's statements wait long on rv: a table this migration
 * created, or one the planner found empty or small for this step, unless
 * an earlier statement of the migration put rows in it since.
 */
static bool
is_new_table(const LintState *st, const PgQuery__RangeVar *rv)
{
	if (rv == NULL || rv->relname == NULL)
		return false;
	if (st->plain_table && strcmp(unqualified(st->plain_table), rv->relname) == 0 &&
		!strlist_contains(&st->written, rv->relname))
		return true;
	return strlist_contains(&st->created, rv->relname);
}

/*
 * Whether scanning the table (to check a new constraint, to build its
 * index) under the statement's lock costs nothing: the table is this
 * migration's own (nobody uses it yet), or, with a database, it holds no
 * rows and no earlier statement of the migration put any in.  Without a
 * database a table may hold anything.
 */
static bool
scan_is_free(const LintState *st, const PgQuery__RangeVar *rv)
{
	char	   *table;
	bool		empty;

	if (rv == NULL || rv->relname == NULL)
		return false;
	if (is_new_table(st, rv))
		return true;
	if (st->opt->cat == NULL || strlist_contains(&st->written, rv->relname))
		return false;
	table = relation_name(rv);
	empty = catalog_table_exists(st->opt->cat, table) == 1 &&
		catalog_rows_exceed(st->opt->cat, table, 0) == 0;
	free(table);
	return empty;
}

static void
report_push(LintReport *r, const LintFinding *f)
{
	if (r->n == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 8;
		r->items = xrealloc(r->items, r->cap * sizeof *r->items);
	}
	r->items[r->n++] = *f;
}

/* Records a finding of rule on the current statement. */
static LintFinding *
add_finding(LintState *st, RuleId id, LockMode lock, const PgQuery__RangeVar *on,
			bool rewrite, bool scan)
{
	LintFinding f = {0};

	f.rule = rules[id].id;
	f.squawk = rules[id].squawk;
	f.why = rules[id].why;
	f.instead = rules[id].instead;
	f.file = xstrdup(st->file);
	f.line = st->line;
	f.version = st->version;
	f.step_id = xstrdup(st->step_id);
	f.statement = xstrdup(st->stmt_text);
	f.lock = lock;
	f.rewrite = rewrite;
	f.scan = scan;
	f.accepted = xstrdup(st->accepted);
	f.warning = (id == R_RENAME && st->rename_operation) || id == R_RENAMED_TABLE_VIEW;
	f.est_rows = -1;
	f.pages = -1;
	if (on && on->relname)
	{
		f.lock_on = relation_name(on);
		if (st->opt->cat && catalog_table_exists(st->opt->cat, f.lock_on) == 1)
		{
			f.est_rows = catalog_row_estimate(st->opt->cat, f.lock_on);
			f.pages = catalog_table_pages(st->opt->cat, f.lock_on);
		}
	}
	report_push(st->out, &f);
	return &st->out->items[st->out->n - 1];
}

/* ---- parse tree helpers ---- */


static const char *
string_value(const PgQuery__Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

/* The last name of a dotted name list ("pg_catalog.int4" -> "int4"). */
static const char *
last_name(PgQuery__Node **names, size_t n)
{
	return n > 0 ? string_value(names[n - 1]) : NULL;
}

/* Whether option name is given and not switched off: FULL, (FULL), (FULL true), not (FULL false). */
static bool
has_option(PgQuery__Node **opts, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
	{
		const PgQuery__DefElem *d;
		const PgQuery__Node *arg;

		if (opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
			continue;
		d = opts[i]->def_elem;
		if (d->defname == NULL || strcmp(d->defname, name) != 0)
			continue;
		arg = d->arg;
		if (arg == NULL)
			return true;
		if (arg->node_case == PG_QUERY__NODE__NODE_STRING)
			return strcmp(arg->string->sval, "false") != 0 && strcmp(arg->string->sval, "off") != 0;
		if (arg->node_case == PG_QUERY__NODE__NODE_INTEGER)
			return arg->integer->ival != 0;
		if (arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN)
			return arg->boolean->boolval;
		return true;
	}
	return false;
}

/*
 * Functions a default may call without making it volatile: evaluated once
 * at ALTER time, stored as the "fast default".  Anything else might be
 * volatile; without a catalog we cannot tell, so we say so.
 */
static const char *const clock_functions[] = {
	"now", "statement_timestamp", "transaction_timestamp", NULL
};
static const char *const non_volatile_functions[] = {
	"lower", "upper", "trim", "btrim",
	"concat", "coalesce", "length", "abs", "to_jsonb", "jsonb_build_object",
	"json_build_object", "array", "make_date", "make_interval", "date_trunc", NULL
};

static bool
known_non_volatile(const char *fn, size_t n_args)
{
	for (int i = 0; clock_functions[i]; i++)
		if (strcmp(clock_functions[i], fn) == 0)
			return n_args == 0; /* with arguments it is someone else's function */
	for (int i = 0; non_volatile_functions[i]; i++)
		if (strcmp(non_volatile_functions[i], fn) == 0)
			return true;
	return false;
}

/* What find_volatile_call looks for, and what it found. */
typedef struct VolatileSearch
{
	const Catalog *cat;
	const char *found;
} VolatileSearch;

/* A function call: the walk stops at one not known non-volatile. */
static bool
volatile_call(const void *message, void *arg)
{
	const PgQuery__FuncCall *fc = message;
	VolatileSearch *vs = arg;
	const char *fn = last_name(fc->funcname, fc->n_funcname);

	if (fn && vs->cat != NULL)
	{
		char		v = catalog_function_volatility(vs->cat, fn);

		if (v == 'v' || v == 0)
			vs->found = fn;
	}
	else if (fn && !known_non_volatile(fn, fc->n_args))
		vs->found = fn;
	return vs->found == NULL;
}

/*
 * The first function call of the tree under node that is not known
 * non-volatile: with a catalog, one the database says is volatile (or does
 * not know).
 */
static const char *
find_volatile_call(const PgQuery__Node *node, const Catalog *cat)
{
	VolatileSearch vs = {cat, NULL};

	sql_walk(node, &pg_query__func_call__descriptor, volatile_call, &vs);
	return vs.found;
}

/* The column of "col IS NOT NULL", or NULL. */
static const char *
not_null_check_column(const PgQuery__Node *expr)
{
	const PgQuery__NullTest *nt;
	const PgQuery__ColumnRef *cr;

	if (expr == NULL || expr->node_case != PG_QUERY__NODE__NODE_NULL_TEST)
		return NULL;
	nt = expr->null_test;
	if (nt->nulltesttype != PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL || nt->arg == NULL ||
		nt->arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
		return NULL;
	cr = nt->arg->column_ref;
	return last_name(cr->fields, cr->n_fields);
}

/* ---- the judgements ---- */

static const char *const serial_types[] = {
	"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8", NULL
};

static bool
is_serial_type(const PgQuery__ColumnDef *cd)
{
	const char *type = cd->type_name ? last_name(cd->type_name->names, cd->type_name->n_names) : NULL;

	for (int i = 0; type && serial_types[i]; i++)
		if (strcmp(type, serial_types[i]) == 0)
			return true;
	return false;
}

/*
 * Whether ADD COLUMN gives the rows the table has a value: a default (even
 * DEFAULT NULL), a serial, an identity or a generated column.  Then the
 * server checks a foreign key given with the column against every row
 * under ADD COLUMN's ACCESS EXCLUSIVE; without one it marks the key valid
 * unchecked, the column being all NULL (docs/design.md, What each
 * statement locks).
 */
static bool
column_fills_rows(const PgQuery__ColumnDef *cd)
{
	if (cd->raw_default || (cd->identity && cd->identity[0]) || is_serial_type(cd))
		return true;
	for (size_t i = 0; i < cd->n_constraints; i++)
	{
		const PgQuery__Node *n = cd->constraints[i];

		if (n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
			(n->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT ||
			 n->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY ||
			 n->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED))
			return true;
	}
	return false;
}

/* "also SHARE ROW EXCLUSIVE on p": the referenced table's lock. */
static char *
referenced_lock_detail(const PgQuery__Constraint *c)
{
	return c->pktable && c->pktable->relname
		? xasprintf("also SHARE ROW EXCLUSIVE on %s", c->pktable->relname) : NULL;
}

static void
judge_column_def(LintState *st, const PgQuery__RangeVar *rv, const PgQuery__ColumnDef *cd)
{
	bool		not_null = cd->is_not_null;
	bool		has_default = cd->raw_default != NULL;
	const PgQuery__Constraint *fk = NULL;

	if (is_serial_type(cd))
		add_finding(st, R_SERIAL_IDENTITY, LOCK_ACCESS_EXCLUSIVE, rv, true, true);
	if (cd->identity && cd->identity[0])
		add_finding(st, R_SERIAL_IDENTITY, LOCK_ACCESS_EXCLUSIVE, rv, true, true);
	for (size_t i = 0; i < cd->n_constraints; i++)
	{
		const PgQuery__Constraint *c;

		if (cd->constraints[i]->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
			continue;
		c = cd->constraints[i]->constraint;
		switch (c->contype)
		{
			case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
				not_null = true;
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
				{
					const char *fn = find_volatile_call(c->raw_expr,
														st->opt->cat);

					has_default = true;
					if (fn)
						add_finding(st, R_VOLATILE_DEFAULT, LOCK_ACCESS_EXCLUSIVE, rv, true, true)
							->detail = xasprintf("%s() is volatile, or not known to be stable", fn);
					break;
				}
			case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
				has_default = true;
				add_finding(st, R_SERIAL_IDENTITY, LOCK_ACCESS_EXCLUSIVE, rv, true, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
				has_default = true; /* every row gets a value */
				add_finding(st, R_STORED_GENERATED, LOCK_ACCESS_EXCLUSIVE, rv, true, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
				if (!scan_is_free(st, rv))
					add_finding(st, R_PRIMARY_KEY, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
				if (!scan_is_free(st, rv))
					add_finding(st, R_UNIQUE_CONSTRAINT, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
				if (!c->skip_validation && !scan_is_free(st, rv))
					add_finding(st, R_CHECK_VALIDATED, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
				fk = c;
				break;
			default:
				break;
		}
	}
	/* REFERENCES on a column that stays all NULL is not checked: nothing to scan */
	if (fk && column_fills_rows(cd) && !scan_is_free(st, rv))
	{
		LintFinding *f = add_finding(st, R_FOREIGN_KEY_VALIDATED, LOCK_ACCESS_EXCLUSIVE, rv,
									 false, true);
		char	   *also = referenced_lock_detail(fk);

		f->detail = xasprintf("the new column's value is checked against %s in every row, "
							  "under ADD COLUMN's ACCESS EXCLUSIVE%s%s",
							  fk->pktable && fk->pktable->relname ? fk->pktable->relname : "the referenced table",
							  also ? "; " : "", also ? also : "");
		free(also);
	}
	if (not_null && !has_default)
		add_finding(st, R_NOT_NULL_NO_DEFAULT, LOCK_ACCESS_EXCLUSIVE, rv, false, false);
}

static void
remember_not_valid(LintState *st, const PgQuery__RangeVar *rv, const PgQuery__Constraint *c)
{
	NotValid   *nv;
	const char *col;

	if (c->conname == NULL)
		return;
	st->not_valid = xrealloc(st->not_valid, (st->n_not_valid + 1) * sizeof *st->not_valid);
	nv = &st->not_valid[st->n_not_valid++];
	nv->table = xstrdup(rv->relname);
	nv->name = xstrdup(c->conname);
	col = c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_CHECK ? not_null_check_column(c->raw_expr) : NULL;
	nv->not_null_column = xstrdup(col);
	nv->txn = st->txn;
}

/*
 * A constraint is judged by the table's state: what it checks or builds
 * under its lock costs nothing on a table this migration created or (with
 * a database) one that holds no rows; NOT VALID is remembered for a later
 * VALIDATE.
 */
static void
judge_add_constraint(LintState *st, const PgQuery__RangeVar *rv, const PgQuery__Constraint *c)
{
	bool		using_index = c->indexname && c->indexname[0];

	if (c->skip_validation && (c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN ||
							   c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_CHECK))
	{
		remember_not_valid(st, rv, c);
		return;
	}
	if (scan_is_free(st, rv))
		return;
	switch (c->contype)
	{
		case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
			add_finding(st, R_FOREIGN_KEY_VALIDATED, LOCK_SHARE_ROW_EXCLUSIVE, rv, false, true)
				->detail = referenced_lock_detail(c);
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
			add_finding(st, R_CHECK_VALIDATED, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
			if (!using_index)
				add_finding(st, R_UNIQUE_CONSTRAINT, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
			if (!using_index)
				add_finding(st, R_PRIMARY_KEY, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
			add_finding(st, R_EXCLUSION_CONSTRAINT, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
			break;
		default:
			break;
	}
}

static void
judge_validate(LintState *st, const PgQuery__RangeVar *rv, const char *name)
{
	for (size_t i = 0; i < st->n_not_valid; i++)
	{
		NotValid   *nv = &st->not_valid[i];

		if (strcmp(nv->table, rv->relname) != 0 || strcmp(nv->name, name) != 0)
			continue;
		if (nv->txn != 0 && nv->txn == st->txn)
			add_finding(st, R_VALIDATE_SAME_TXN, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
		else if (nv->not_null_column)
			strlist_push(&st->proven_not_null, xasprintf("%s.%s", nv->table, nv->not_null_column));
	}
}

bool
lint_append_type_modifiers(Buf *b, const PgQuery__TypeName *tn)
{
	for (size_t i = 0; i < tn->n_typmods; i++)
	{
		const PgQuery__Node *m = tn->typmods[i];

		if (m->node_case != PG_QUERY__NODE__NODE_A_CONST ||
			m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
			return false;
		buf_printf(b, "%s%d", i == 0 ? "(" : ",", m->a_const->ival->ival);
		if (i + 1 == tn->n_typmods)
			buf_putc(b, ')');
	}
	for (size_t i = 0; i < tn->n_array_bounds; i++)
		buf_puts(b, "[]");
	return true;
}

/* A TypeName as SQL: "pg_catalog.varchar(100)", "text[]". */
static char *
type_name_sql(const PgQuery__TypeName *tn)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < tn->n_names; i++)
	{
		sql_append(&b, "%s%I", i > 0 ? "." : "",
				   string_value(tn->names[i]) ? string_value(tn->names[i]) : "");
	}
	if (!lint_append_type_modifiers(&b, tn))
	{
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/*
 * Without a database a type change may rewrite; with one, the server says
 * whether it does for this column's current type (binary coercible or
 * not).  A USING expression is taken to rewrite.
 */
static void
judge_type_change(LintState *st, const PgQuery__RangeVar *rv, const PgQuery__AlterTableCmd *cmd)
{
	const PgQuery__ColumnDef *cd = cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF
		? cmd->def->column_def : NULL;
	char	   *type = cd && cd->type_name ? type_name_sql(cd->type_name) : NULL;
	char	   *detail = NULL;
	int			rewrites = -1;

	if (is_new_table(st, rv))
	{
		free(type);
		return;
	}
	if (cd && cd->raw_default)
		detail = xstrdup("a USING expression is taken to rewrite every row");
	else if (st->opt->cat == NULL || type == NULL)
		detail = xstrdup("without a database it cannot be told whether the new type is binary coercible");
	else
	{
		Error		err = {0};
		char	   *table = relation_name(rv);

		rewrites = catalog_type_change_rewrites(st->opt->cat, table, cmd->name, type, NULL, &err);
		if (rewrites < 0)
			detail = xasprintf("the database could not tell: %s", err.message ? err.message : "unknown");
		else if (rewrites)
			detail = xasprintf("column \"%s\" is not binary coercible to %s", cmd->name, type);
		error_clear(&err);
		free(table);
	}
	if (rewrites != 0)
		add_finding(st, R_TYPE_CHANGE, LOCK_ACCESS_EXCLUSIVE, rv, true, true)->detail = detail;
	else
		free(detail);
	free(type);
}

/*
 * A rename breaks running code unless the name it takes away is given back
 * in the same transaction (the swap of an online type change, a view under
 * the old name of a table), or the table is new.
 */
/* Whether the statements judged together create a view named name. */
static bool
creates_view(const LintState *st, const char *name)
{
	for (size_t i = 0; i < st->stmts->n; i++)
	{
		const PgQuery__Node *n = st->stmts->items[i].node;

		if (n->node_case == PG_QUERY__NODE__NODE_VIEW_STMT && n->view_stmt->view &&
			n->view_stmt->view->relname && strcmp(n->view_stmt->view->relname, name) == 0)
			return true;
	}
	return false;
}

static bool
name_given_back(const LintState *st, const PgQuery__RenameStmt *rs)
{
	const char *old = rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN ? rs->subname
		: rs->relation ? rs->relation->relname : NULL;

	if (old == NULL)
		return false;
	if (rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE && creates_view(st, old))
		return true;
	for (size_t i = 0; i < st->stmts->n; i++)
	{
		const PgQuery__Node *n = st->stmts->items[i].node;
		const PgQuery__RenameStmt *other;

		if (n->node_case != PG_QUERY__NODE__NODE_RENAME_STMT)
			continue;
		other = n->rename_stmt;
		if (other != rs && other->rename_type == rs->rename_type && other->newname &&
			strcmp(other->newname, old) == 0 &&
			(rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN ||
			 (other->relation && rs->relation &&
			  strcmp(other->relation->relname, rs->relation->relname) == 0)))
			return true;
	}
	return false;
}

/*
 * Whether SET NOT NULL scans the table: PostgreSQL 12+ skips the scan when
 * a validated CHECK (col IS NOT NULL) proves it, one this migration
 * validated in an earlier transaction or, with a database, one the table
 * has already (or the column is NOT NULL already).
 */
static bool
set_not_null_scans(const LintState *st, const PgQuery__RangeVar *rv, const char *column)
{
	char	   *key = xasprintf("%s.%s", rv->relname, column ? column : "");
	bool		proven = strlist_contains(&st->proven_not_null, key);
	/* an earlier DROP NOT NULL of this migration: what the catalog says now is gone */
	bool		dropped = strlist_contains(&st->dropped_not_null, key);

	free(key);
	if (server_version(st) < 120000)
		return true;
	if (!proven && !dropped && st->opt->cat && column)
	{
		char	   *table = relation_name(rv);

		proven = catalog_not_null_proven(st->opt->cat, table, column);
		free(table);
	}
	return !proven;
}

static void
judge_alter_table(LintState *st, const PgQuery__AlterTableStmt *at)
{
	const PgQuery__RangeVar *rv = at->relation;
	bool		is_new = is_new_table(st, rv);

	if (rv == NULL || at->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
		return;
	for (size_t i = 0; i < at->n_cmds; i++)
	{
		const PgQuery__AlterTableCmd *cmd;
		const PgQuery__Node *def;

		if (at->cmds[i]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
			continue;
		cmd = at->cmds[i]->alter_table_cmd;
		def = cmd->def;
		switch (cmd->subtype)
		{
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
				if (def && def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
				{
					if (!is_new)
						judge_column_def(st, rv, def->column_def);
					strlist_push(&st->created_columns,
								 xasprintf("%s.%s", rv->relname, def->column_def->colname));
				}
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
				if (def && def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
					judge_add_constraint(st, rv, def->constraint);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
				if (cmd->name)
					judge_validate(st, rv, cmd->name);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
				if (!is_new && set_not_null_scans(st, rv, cmd->name))
					add_finding(st, R_SET_NOT_NULL, LOCK_ACCESS_EXCLUSIVE, rv, false, true);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull:
				if (cmd->name)
					strlist_push(&st->dropped_not_null, xasprintf("%s.%s", rv->relname, cmd->name));
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType:
				judge_type_change(st, rv, cmd);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
				if (!is_new && !st->contract_online)
					add_finding(st, R_DROP, LOCK_ACCESS_EXCLUSIVE, rv, false, false);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
				if (def && def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD &&
					def->partition_cmd->concurrent)
				{
					if (st->txn)
						add_finding(st, R_CONCURRENTLY_IN_TXN, LOCK_SHARE_UPDATE_EXCLUSIVE, rv, false, false);
				}
				else if (!is_new)
					add_finding(st, R_DETACH_NOT_CONCURRENT, LOCK_ACCESS_EXCLUSIVE, rv, false, false);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged:
				if (!is_new)
					add_finding(st, R_TABLE_REWRITE, LOCK_ACCESS_EXCLUSIVE, rv, true, false);
				break;
			default:
				break;
		}
	}
}

static void
judge_create_table(LintState *st, const PgQuery__CreateStmt *cs)
{
	if (cs->relation && cs->relation->relname && !strlist_contains(&st->created, cs->relation->relname))
		strlist_add(&st->created, cs->relation->relname);
}

static void
judge_index(LintState *st, const PgQuery__IndexStmt *is)
{
	if (is->concurrent)
	{
		if (st->txn)
			add_finding(st, R_CONCURRENTLY_IN_TXN, LOCK_SHARE_UPDATE_EXCLUSIVE, is->relation, false, true);
	}
	else if (!is_new_table(st, is->relation))
		add_finding(st, R_INDEX_NOT_CONCURRENT, LOCK_SHARE, is->relation, false, true);
	if (is->idxname)
		strlist_add(&st->created_indexes, is->idxname);
}

/* The object's last name (DROP's objects are lists of names). */
static const char *
object_name(const PgQuery__Node *obj)
{
	if (obj->node_case == PG_QUERY__NODE__NODE_LIST)
		return last_name(obj->list->items, obj->list->n_items);
	return string_value(obj);
}

static void
judge_drop(LintState *st, const PgQuery__DropStmt *ds)
{
	for (size_t i = 0; i < ds->n_objects; i++)
	{
		const char *name = object_name(ds->objects[i]);
		PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;

		rv.relname = (char *) name;
		if (ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX)
		{
			if (name && strlist_contains(&st->created_indexes, name))
				continue;
			if (ds->concurrent)
			{
				if (st->txn)
					add_finding(st, R_CONCURRENTLY_IN_TXN, LOCK_SHARE_UPDATE_EXCLUSIVE, &rv, false, false);
			}
			else
				add_finding(st, R_DROP_INDEX_NOT_CONCURRENT, LOCK_ACCESS_EXCLUSIVE, &rv, false, false);
		}
		else if ((ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
				  ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_DATABASE) &&
				 !is_new_table(st, &rv) && !st->contract_online)
			add_finding(st, R_DROP, LOCK_ACCESS_EXCLUSIVE, &rv, false, false)->squawk =
				ds->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ? "ban_drop_table" : "ban_drop_database";
	}
}

static void
judge_rename(LintState *st, const PgQuery__RenameStmt *rs)
{
	bool		column = rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN;

	if (!column && rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
		return;
	if (is_new_table(st, rs->relation))
	{
		if (!column && rs->newname)
			strlist_add(&st->created, rs->newname);
		return;
	}
	if (column && rs->subname)
	{
		char	   *key = xasprintf("%s.%s", rs->relation->relname, rs->subname);
		bool		is_new_column = strlist_contains(&st->created_columns, key);

		free(key);
		if (is_new_column)
			return;
	}
	if (!name_given_back(st, rs))
		add_finding(st, R_RENAME, LOCK_ACCESS_EXCLUSIVE, rs->relation, false, false)->squawk =
			column ? "renaming_column" : "renaming_table";
	else if (!column && creates_view(st, rs->relation->relname))
	{
		/* with a database: what of the old name's users a view cannot serve */
		char	   *table = relation_name(rs->relation);
		char	   *uses = catalog_table_old_name_uses(st->opt->cat, table);

		if (uses)
			add_finding(st, R_RENAMED_TABLE_VIEW, LOCK_ACCESS_EXCLUSIVE, rs->relation, false,
						false)->detail = uses;
		free(table);
	}
}

static void
judge_dml(LintState *st, const PgQuery__RangeVar *rv, const PgQuery__Node *where)
{
	if (where == NULL && !is_new_table(st, rv))
		add_finding(st, R_UNBOUNDED_DML, LOCK_ROW_EXCLUSIVE, rv, false, true);
}

static const PgQuery__RangeVar *
first_relation(PgQuery__Node **rels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rels[i]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR)
			return rels[i]->range_var;
		else if (rels[i]->node_case == PG_QUERY__NODE__NODE_VACUUM_RELATION &&
				 rels[i]->vacuum_relation->relation)
			return rels[i]->vacuum_relation->relation;
	return NULL;
}

static void
judge_transaction(LintState *st, const PgQuery__TransactionStmt *ts)
{
	switch (ts->kind)
	{
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
			if (!st->txn)
				st->txn = ++st->next_txn;
			st->explicit_txn = true;
			break;
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
		case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
			st->txn = 0;
			st->explicit_txn = false;
			break;
		default:
			break;
	}
}

static void
judge_statement(LintState *st, const PgQuery__Node *n)
{
	switch (n->node_case)
	{
		case PG_QUERY__NODE__NODE_CREATE_STMT:
			judge_create_table(st, n->create_stmt);
			break;
		case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
			judge_alter_table(st, n->alter_table_stmt);
			break;
		case PG_QUERY__NODE__NODE_INDEX_STMT:
			judge_index(st, n->index_stmt);
			break;
		case PG_QUERY__NODE__NODE_DROP_STMT:
			judge_drop(st, n->drop_stmt);
			break;
		case PG_QUERY__NODE__NODE_RENAME_STMT:
			judge_rename(st, n->rename_stmt);
			break;
		case PG_QUERY__NODE__NODE_REINDEX_STMT:
			{
				const PgQuery__ReindexStmt *rs = n->reindex_stmt;
				PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;

				if (rs->relation == NULL)
					rv.relname = rs->name;
				if (has_option(rs->params, rs->n_params, "concurrently"))
				{
					if (st->txn)
						add_finding(st, R_CONCURRENTLY_IN_TXN, LOCK_SHARE_UPDATE_EXCLUSIVE,
									rs->relation ? rs->relation : &rv, false, true);
				}
				else
					add_finding(st, R_REINDEX_NOT_CONCURRENT, LOCK_SHARE,
								rs->relation ? rs->relation : &rv, false, true);
				break;
			}
		case PG_QUERY__NODE__NODE_VACUUM_STMT:
			{
				const PgQuery__VacuumStmt *vs = n->vacuum_stmt;

				if (vs->is_vacuumcmd && has_option(vs->options, vs->n_options, "full"))
					add_finding(st, R_VACUUM_FULL, LOCK_ACCESS_EXCLUSIVE,
								first_relation(vs->rels, vs->n_rels), true, true);
				break;
			}
		case PG_QUERY__NODE__NODE_CLUSTER_STMT:
			if (!is_new_table(st, n->cluster_stmt->relation))
				add_finding(st, R_CLUSTER, LOCK_ACCESS_EXCLUSIVE, n->cluster_stmt->relation, true, true);
			break;
		case PG_QUERY__NODE__NODE_LOCK_STMT:
			{
				const PgQuery__RangeVar *rv = first_relation(n->lock_stmt->relations,
															 n->lock_stmt->n_relations);

				if (!is_new_table(st, rv))
					add_finding(st, R_LOCK_TABLE, (LockMode) n->lock_stmt->mode, rv, false, false);
				break;
			}
		case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
			if (n->truncate_stmt->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
				add_finding(st, R_TRUNCATE_CASCADE, LOCK_ACCESS_EXCLUSIVE,
							first_relation(n->truncate_stmt->relations, n->truncate_stmt->n_relations),
							false, false);
			break;
		case PG_QUERY__NODE__NODE_UPDATE_STMT:
			judge_dml(st, n->update_stmt->relation, n->update_stmt->where_clause);
			break;
		case PG_QUERY__NODE__NODE_INSERT_STMT:
			/* the table is no longer empty for what comes after */
			if (n->insert_stmt->relation && n->insert_stmt->relation->relname)
				strlist_add(&st->written, n->insert_stmt->relation->relname);
			break;
		case PG_QUERY__NODE__NODE_COPY_STMT:
			if (n->copy_stmt->is_from && n->copy_stmt->relation && n->copy_stmt->relation->relname)
				strlist_add(&st->written, n->copy_stmt->relation->relname);
			break;
		case PG_QUERY__NODE__NODE_DELETE_STMT:
			judge_dml(st, n->delete_stmt->relation, n->delete_stmt->where_clause);
			break;
		case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
			judge_transaction(st, n->transaction_stmt);
			break;
		case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
			/* a materialized view made here: nobody reads it yet */
			if (n->create_table_as_stmt->into && n->create_table_as_stmt->into->rel &&
				n->create_table_as_stmt->into->rel->relname)
				strlist_add(&st->created, n->create_table_as_stmt->into->rel->relname);
			break;
		case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
			if (!n->refresh_mat_view_stmt->concurrent &&
				!is_new_table(st, n->refresh_mat_view_stmt->relation))
				add_finding(st, R_REFRESH_NOT_CONCURRENT, LOCK_ACCESS_EXCLUSIVE,
							n->refresh_mat_view_stmt->relation, true, true);
			break;
		case PG_QUERY__NODE__NODE_DROPDB_STMT:
			add_finding(st, R_DROP, LOCK_ACCESS_EXCLUSIVE, NULL, false, false)->squawk = "ban_drop_database";
			break;
		case PG_QUERY__NODE__NODE_ALTER_DOMAIN_STMT:
			{
				const PgQuery__AlterDomainStmt *ad = n->alter_domain_stmt;

				if (ad->subtype && ad->subtype[0] == 'C' && ad->def &&
					ad->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
					!ad->def->constraint->skip_validation)
					add_finding(st, R_DOMAIN_CONSTRAINT, LOCK_SHARE, NULL, false, true);
				break;
			}
		default:
			break;
	}
}

/* ---- what a statement locks, whatever the verdict ---- */

static void
effect_max(StatementEffect *e, LockMode lock, bool rewrite, bool scan)
{
	if (lock > e->lock)
		e->lock = lock;
	e->rewrite |= rewrite;
	e->scan |= scan;
}

static void
effect_of_constraint(StatementEffect *e, const PgQuery__Constraint *c)
{
	bool		validated = !c->skip_validation;

	switch (c->contype)
	{
		case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
			effect_max(e, LOCK_SHARE_ROW_EXCLUSIVE, false, validated);
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, validated);
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
		case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
		case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
			/* USING INDEX adopts a built index: no scan (a PK's SET NOT NULL aside) */
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, c->indexname == NULL || !c->indexname[0]);
			break;
		default:
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
			break;
	}
}

static void
effect_of_column_def(StatementEffect *e, const PgQuery__ColumnDef *cd)
{
	effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
	for (size_t i = 0; i < cd->n_constraints; i++)
	{
		const PgQuery__Node *n = cd->constraints[i];

		if (n->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
			continue;
		switch (n->constraint->contype)
		{
			case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
			case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
			case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, true);
				break;
			case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
				/* checked against every row only when the column gets a value */
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, column_fills_rows(cd));
				break;
			default:
				break;
		}
	}
	if (is_serial_type(cd))
		effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
}

static void
effect_of_alter_table(StatementEffect *e, const PgQuery__AlterTableStmt *at)
{
	for (size_t i = 0; i < at->n_cmds; i++)
	{
		const PgQuery__AlterTableCmd *cmd;

		if (at->cmds[i]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
			continue;
		cmd = at->cmds[i]->alter_table_cmd;
		switch (cmd->subtype)
		{
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
				if (cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
					effect_of_column_def(e, cmd->def->column_def);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
				if (cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
					effect_of_constraint(e, cmd->def->constraint);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
				effect_max(e, LOCK_SHARE_UPDATE_EXCLUSIVE, false, true);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, true);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType:
				/* whether it rewrites depends on the types: lint's rule asks the catalog */
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetStatistics:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetRelOptions:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_ResetRelOptions:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_ClusterOn:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_DropCluster:
				effect_max(e, LOCK_SHARE_UPDATE_EXCLUSIVE, false, false);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrig:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrig:
				effect_max(e, LOCK_SHARE_ROW_EXCLUSIVE, false, false);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
				effect_max(e, LOCK_SHARE_UPDATE_EXCLUSIVE, false, true);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
				effect_max(e, cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD &&
						   cmd->def->partition_cmd->concurrent
						   ? LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_ACCESS_EXCLUSIVE, false, false);
				break;
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged:
			case PG_QUERY__ALTER_TABLE_TYPE__AT_SetAccessMethod:
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
				break;
			default:
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
				break;
		}
	}
}

static void
effect_on(StatementEffect *e, const PgQuery__RangeVar *rv)
{
	if (e->relation == NULL && rv && rv->relname && rv->relname[0])
		e->relation = relation_name(rv);
}

void
lint_statement_effect(const PgQuery__Node *n, StatementEffect *e)
{
	memset(e, 0, sizeof *e);
	switch (n ? n->node_case : PG_QUERY__NODE__NODE__NOT_SET)
	{
		case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
			effect_of_alter_table(e, n->alter_table_stmt);
			effect_on(e, n->alter_table_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_INDEX_STMT:
			effect_max(e, n->index_stmt->concurrent ? LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_SHARE,
					   false, true);
			effect_on(e, n->index_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_DROP_STMT:
			{
				const PgQuery__DropStmt *ds = n->drop_stmt;
				PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;

				if (ds->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_INDEX &&
					ds->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
					ds->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_VIEW &&
					ds->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW)
					break;
				effect_max(e, ds->concurrent ? LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_ACCESS_EXCLUSIVE,
						   false, false);
				rv.relname = ds->n_objects > 0 ? (char *) object_name(ds->objects[0]) : NULL;
				effect_on(e, &rv);
				break;
			}
		case PG_QUERY__NODE__NODE_RENAME_STMT:
			if (n->rename_stmt->relation)
			{
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
				effect_on(e, n->rename_stmt->relation);
			}
			break;
		case PG_QUERY__NODE__NODE_REINDEX_STMT:
			{
				const PgQuery__ReindexStmt *rs = n->reindex_stmt;
				PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;

				rv.relname = rs->name;
				effect_max(e, has_option(rs->params, rs->n_params, "concurrently")
						   ? LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_SHARE, false, true);
				effect_on(e, rs->relation ? rs->relation : &rv);
				break;
			}
		case PG_QUERY__NODE__NODE_VACUUM_STMT:
			{
				const PgQuery__VacuumStmt *vs = n->vacuum_stmt;
				bool		full = vs->is_vacuumcmd && has_option(vs->options, vs->n_options, "full");

				effect_max(e, full ? LOCK_ACCESS_EXCLUSIVE : LOCK_SHARE_UPDATE_EXCLUSIVE, full, true);
				effect_on(e, first_relation(vs->rels, vs->n_rels));
				break;
			}
		case PG_QUERY__NODE__NODE_CLUSTER_STMT:
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
			effect_on(e, n->cluster_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_LOCK_STMT:
			effect_max(e, (LockMode) n->lock_stmt->mode, false, false);
			effect_on(e, first_relation(n->lock_stmt->relations, n->lock_stmt->n_relations));
			break;
		case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
			effect_on(e, first_relation(n->truncate_stmt->relations, n->truncate_stmt->n_relations));
			break;
		case PG_QUERY__NODE__NODE_UPDATE_STMT:
			effect_max(e, LOCK_ROW_EXCLUSIVE, false, n->update_stmt->where_clause == NULL);
			effect_on(e, n->update_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_DELETE_STMT:
			effect_max(e, LOCK_ROW_EXCLUSIVE, false, n->delete_stmt->where_clause == NULL);
			effect_on(e, n->delete_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_INSERT_STMT:
			effect_max(e, LOCK_ROW_EXCLUSIVE, false, false);
			effect_on(e, n->insert_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
			/* CONCURRENTLY: EXCLUSIVE, reads go on; else ACCESS EXCLUSIVE and a new heap */
			if (n->refresh_mat_view_stmt->concurrent)
				effect_max(e, LOCK_EXCLUSIVE, false, true);
			else
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, true, true);
			effect_on(e, n->refresh_mat_view_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_CREATE_TRIG_STMT:
			effect_max(e, LOCK_SHARE_ROW_EXCLUSIVE, false, false);
			effect_on(e, n->create_trig_stmt->relation);
			break;
		case PG_QUERY__NODE__NODE_CREATE_POLICY_STMT:
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
			effect_on(e, n->create_policy_stmt->table);
			break;
		case PG_QUERY__NODE__NODE_ALTER_POLICY_STMT:
			effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
			effect_on(e, n->alter_policy_stmt->table);
			break;
		case PG_QUERY__NODE__NODE_VIEW_STMT:
			/* a new view locks nothing; OR REPLACE takes the old one's ACCESS EXCLUSIVE */
			if (n->view_stmt->replace)
			{
				effect_max(e, LOCK_ACCESS_EXCLUSIVE, false, false);
				effect_on(e, n->view_stmt->view);
			}
			break;
		case PG_QUERY__NODE__NODE_COMMENT_STMT:
			if (n->comment_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
				n->comment_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN)
			{
				const PgQuery__Node *obj = n->comment_stmt->object;
				PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;

				effect_max(e, LOCK_SHARE_UPDATE_EXCLUSIVE, false, false);
				if (obj && obj->node_case == PG_QUERY__NODE__NODE_LIST && obj->list->n_items > 0)
				{
					size_t		k = obj->list->n_items -
						(n->comment_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN ? 2 : 1);

					rv.relname = (char *) string_value(obj->list->items[k]);
				}
				effect_on(e, &rv);
			}
			break;
		default:
			break;
	}
	if (e->lock == LOCK_NONE)
	{
		free(e->relation);
		e->relation = NULL;
	}
}

/*
 * Judges every statement of text.  in_txn: they run in one transaction
 * (else each on its own, unless the SQL says BEGIN).
 */
static bool
judge_text(LintState *st, const char *text, bool in_txn, Error *err)
{
	SqlStatements stmts;

	if (!sql_split(text, st->file ? st->file : "<sql>", st->text_line ? st->text_line : st->line,
				   NULL, &stmts, err))
	{
		sql_statements_free(&stmts);
		return false;
	}
	st->stmts = &stmts;
	if (in_txn && !st->txn)
		st->txn = ++st->next_txn;
	for (size_t i = 0; i < stmts.n; i++)
	{
		if (!in_txn && !st->explicit_txn)
			st->txn = 0;
		st->stmt_text = stmts.items[i].text;
		if (st->text_line > 0)
			st->line = stmts.items[i].line;
		if (stmts.items[i].node)
			judge_statement(st, stmts.items[i].node);
		st->out->statements++;
		st->stmt_text = NULL;
	}
	sql_statements_free(&stmts);
	st->stmts = NULL;
	return true;
}

/* ---- entry points ---- */

bool
lint_sql(const char *sql, bool in_txn, const LintOptions *o, LintReport *out, Error *err)
{
	LintState	st = {0};
	bool		ok;

	st.opt = o;
	st.out = out;
	ok = judge_text(&st, sql, in_txn, err);
	state_free(&st);
	return ok;
}

/* A step's statements as one text, for the parser. */
static char *
step_text(const Step *s)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < s->sql.n; i++)
	{
		buf_puts(&b, s->sql.items[i]);
		buf_puts(&b, ";\n");
	}
	return buf_detach(&b);
}

bool
lint_migration(const Migration *m, const LintOptions *o, LintReport *out, Error *err)
{
	MigrationPlan mp = {0};
	bool		ok;

	if (!plan_migration(m, o->strategy, o->cat, &mp, err))
		return false;
	ok = lint_plan(&mp, o, out, err);
	migration_plan_free(&mp);
	return ok;
}

bool
lint_plan(const MigrationPlan *plan, const LintOptions *o, LintReport *out, Error *err)
{
	const MigrationPlan mp = *plan;
	const Migration *m = plan->migration;
	LintState	st = {0};
	bool		ok = true;

	st.opt = o;
	st.out = out;
	st.file = m->path;
	st.version = m->version;
	for (size_t i = 0; ok && i < mp.n_steps; i++)
	{
		const Step *s = &mp.steps[i];
		const Operation *op = &m->ops[s->op_index];
		char	   *text;

		/* The batched engine runs backfills; finalize's drops come when the old version is gone. */
		if (s->kind == STEP_BACKFILL || s->sql.n == 0)
			continue;
		st.contract_online = s->deferred;
		st.plain_table = s->why_plain ? s->lock_relation : NULL;
		st.line = op->pos.line;
		st.step_id = s->id;
		st.accepted = op->unsafe_ok;
		st.rename_operation = op->kind == OP_RENAME_TABLE || op->kind == OP_RENAME_COLUMN;
		/* Online, each step is its own transaction; plain, one for the migration. */
		if (o->strategy == STRATEGY_ONLINE || !s->in_txn)
			st.txn = 0;
		/* An sql operation's statements are judged as written, with their lines. */
		st.text_line = s->kind == STEP_SQL && op->kind == OP_SQL
			? (s->sql_line ? s->sql_line : op->u.sql.up_line) : 0;
		text = st.text_line && !s->sql_line ? NULL : step_text(s);
		ok = judge_text(&st, text ? text : op->u.sql.up, s->in_txn, err);
		free(text);
		if (!ok)
			error_prefix(err, "migration %s_%s, step %s", m->version_text, m->name, s->id);
	}
	state_free(&st);
	return ok;
}

size_t
lint_unsafe_count(const LintReport *r)
{
	size_t		n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].accepted == NULL && !r->items[i].warning)
			n++;
	return n;
}

/* The findings that are reported but neither unsafe nor accepted. */
static size_t
lint_warning_count(const LintReport *r)
{
	size_t		n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].accepted == NULL && r->items[i].warning)
			n++;
	return n;
}

/* "unsafe", "accepted" or "warning" */
static const char *
finding_status(const LintFinding *f)
{
	return f->accepted ? "accepted" : f->warning ? "warning" : "unsafe";
}

bool
lint_has_rule(const LintReport *r, const char *rule)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].rule, rule) == 0)
			return true;
	return false;
}

void
lint_report_free(LintReport *r)
{
	for (size_t i = 0; i < r->n; i++)
	{
		LintFinding *f = &r->items[i];

		free(f->file);
		free(f->step_id);
		free(f->statement);
		free(f->lock_on);
		free(f->detail);
		free(f->accepted);
	}
	free(r->items);
	memset(r, 0, sizeof *r);
}

/* ---- output ---- */

/*
 * --format json: one document,
 *
 *   {"findings": [{"rule": "create-index-not-concurrent",
 *                  "file": "migrations/0003_x.yaml", "line": 4,
 *                  "version": 3, "step": "3.1.1",
 *                  "statement": "CREATE INDEX ...",
 *                  "lock": "SHARE", "on": "orders",
 *                  "rewrite": false, "scan": true,
 *                  "rows": 12000, "pages": 340,
 *                  "why": "...", "instead": "...", "detail": "...",
 *                  "status": "unsafe" | "accepted" | "warning", "reason": "..."}],
 *    "statements": 42, "unsafe": 1, "accepted": 0, "warnings": 0}
 *
 * file, step, on, detail and reason are null when they do not apply; rows
 * and pages are null without a database; version is null for bare SQL.
 */
static void
render_json(FILE *out, const LintReport *r)
{
	JsonLine	l;
	JsonWriter *j = &l.w;

	json_line_begin(&l, NULL);
	json_key(j, "findings");
	json_begin_array(j);
	for (size_t i = 0; i < r->n; i++)
	{
		const LintFinding *f = &r->items[i];

		json_begin_object(j);
		json_member_string(j, "rule", f->rule);
		json_member_string(j, "file", f->file);
		json_member_int(j, "line", f->line);
		json_member_int_or_null(j, "version", f->version, f->version != 0);
		json_member_string(j, "step", f->step_id);
		json_member_string(j, "statement", f->statement);
		json_member_string(j, "lock", lock_mode_name(f->lock));
		json_member_string(j, "on", f->lock_on);
		json_member_bool(j, "rewrite", f->rewrite);
		json_member_bool(j, "scan", f->scan);
		json_member_int_or_null(j, "rows", f->est_rows, f->est_rows >= 0);
		json_member_int_or_null(j, "pages", f->pages, f->pages >= 0);
		json_member_string(j, "why", f->why);
		json_member_string(j, "instead", f->instead);
		json_member_string(j, "detail", f->detail);
		json_member_string(j, "status", finding_status(f));
		json_member_string(j, "reason", f->accepted);
		json_end_object(j);
	}
	json_end_array(j);
	json_member_int(j, "statements", (int64_t) r->statements);
	json_member_int(j, "unsafe", (int64_t) lint_unsafe_count(r));
	json_member_int(j, "accepted", (int64_t) (r->n - lint_unsafe_count(r) - lint_warning_count(r)));
	json_member_int(j, "warnings", (int64_t) lint_warning_count(r));
	json_line_end(&l, out);
}

static void
render_text(FILE *out, const LintReport *r)
{
	size_t		unsafe = lint_unsafe_count(r);

	for (size_t i = 0; i < r->n; i++)
	{
		const LintFinding *f = &r->items[i];

		if (f->file)
			fprintf(out, "%s:%d: ", f->file, f->line);
		fprintf(out, "%s [%s]%s%s\n", finding_status(f), f->rule,
				f->step_id ? " in step " : "", f->step_id ? f->step_id : "");
		fprintf(out, "    %s\n", f->statement);
		fprintf(out, "    lock: %s%s%s", lock_mode_name(f->lock), f->lock_on ? " on " : "",
				f->lock_on ? f->lock_on : "");
		if (f->rewrite || f->scan)
			fprintf(out, ", %s the table under it", f->rewrite ? "rewrites" : "scans");
		if (f->est_rows >= 0)
			fprintf(out, " (~%lld rows, %lld pages)", (long long) f->est_rows,
					(long long) (f->pages >= 0 ? f->pages : 0));
		fputc('\n', out);
		fprintf(out, "    why: %s\n", f->why);
		if (f->detail)
			fprintf(out, "    note: %s\n", f->detail);
		fprintf(out, "    instead: %s\n", f->instead);
		if (f->accepted)
			fprintf(out, "    accepted: %s\n", f->accepted);
	}
	fprintf(out, "%zu statement%s judged: %zu unsafe, %zu accepted, %zu warning%s\n",
			r->statements, r->statements == 1 ? "" : "s", unsafe,
			r->n - unsafe - lint_warning_count(r), lint_warning_count(r),
			lint_warning_count(r) == 1 ? "" : "s");
}

void
lint_render(FILE *out, const LintReport *r, Format fmt)
{
	if (fmt == FORMAT_JSON)
		render_json(out, r);
	else
		render_text(out, r);
}
