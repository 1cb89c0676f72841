/*
 * planner_int.h: what the planner's files share (planner.c: the machinery
 * and the sequences several operations use; planner_ops.c: one function per
 * operation; planner_tenancy.c: multi_tenancy).
 */
#ifndef MIGRATE_PLANNER_INT_H
#define MIGRATE_PLANNER_INT_H

#include "catalog.h"
#include "plan.h"
#include "quote.h"

/* Top-level steps are allocated one by one so that pointers stay valid. */
typedef struct StepList
{
	Step	  **items;
	size_t		n;
	size_t		cap;
} StepList;

/* What the planner knows while it plans one migration. */
typedef struct PlanCtx
{
	const Migration *m;
	const Operation *op;		/* the operation being planned */
	Strategy	strategy;
	const Catalog *cat;			/* NULL: planning from the files alone */
	StepList	steps;
	int			n_in_op;		/* steps of op so far: the <n> of ids */
	int			n_checks;		/* temporary NOT NULL checks of op so far */
	bool		schema_ready;	/* the step that prepares schema migrate is
								 * in the plan */
	bool		row_helpers;	/* it must create the save/restore helpers */
	Error	   *err;
} PlanCtx;

#define ONLINE(pc) ((pc)->strategy == STRATEGY_ONLINE)

/*
 * A new step: owner NULL adds a top-level step to the plan (id
 * "<version>.<op>.<n>"), else an inverse step of owner (id "<owner>.r<k>").
 * The returned pointer is valid until the next inverse step of the same
 * owner is added.
 */
Step	   *add_step(PlanCtx *pc, Step *owner, StepPhase phase, StepKind kind,
					 LockMode lock, const char *relation, const char *summary_fmt,...);

/* Appends one statement to s->sql. */
void		step_sql(Step *s, const char *fmt,...);

/* Adds an object s creates to s->owns (table: NULL unless a constraint, trigger or policy). */
void		step_owns(Step *s, const char *kind, const char *table, const char *name);

/*
 * The same for an object s makes only when it is missing: only_if (a SQL
 * boolean, true after s when s made it) tells which (OwnedObject.only_if).
 */
void		step_owns_if(Step *s, const char *kind, const char *table, const char *name,
						 const char *only_if);

/*
 * A SQL boolean: the object exists and the ledger (schema migrate) holds
 * its oid as this migration's, for the guards of what drops it.
 */
char	   *sql_owned(const PlanCtx *pc, const char *kind, const char *table, const char *name);
/* The same for version's (0: any migration's). */
char	   *sql_owned_by(int64_t version, const char *kind, const char *table, const char *name);

/*
 * Another migration's object that s drops (or may replace) and its inverse
 * makes again: step_save_owner (a statement of s, before the drop) saves
 * the oid the ledger records for it, step_rehome_owner (one of the undo,
 * after the object is made again) gives that record the new object's oid,
 * so that the object stays its maker's own across the rollback.
 */
void		step_save_owner(PlanCtx *pc, Step *s, const char *kind, const char *table,
							const char *name);
void		step_rehome_owner(PlanCtx *pc, Step *undo, const char *kind, const char *table,
							  const char *name);

/*
 * s replaces its own object when the file changed since it ran (a fix):
 * first drop (a statement) runs when the object is this migration's own
 * (never one of another owner, which stays an error), then s's statements
 * make it again.  Sets s->replace_if_changed.
 */
void		step_replaces_own(PlanCtx *pc, Step *s, const char *kind, const char *table,
							  const char *name, const char *drop);

/*
 * Adds the inverse step of s that runs drop (a statement) only while own
 * (a sql_owned boolean) holds, done when it does not.
 */
Step	   *undo_drop_own(PlanCtx *pc, Step *s, LockMode lock, const char *relation,
						  const char *own, const char *drop, const char *summary);

/*
 * s makes policy name on table with create (a CREATE POLICY statement,
 * taken): the policy is this migration's own, replaced after a fix of the
 * file, and its inverse step drops it only while it is.
 */
void		plan_own_policy(PlanCtx *pc, Step *s, const char *table, const char *name,
							char *create);

/*
 * Adds one statement (formatted as step_sql) to what the executor runs when
 * s fails (s->on_failure); forget_step (may be NULL): an earlier step whose
 * effect it undoes; summary (may be NULL): what it removes, for people.
 */
void		step_cleanup(Step *s, bool in_txn, const char *forget_step, const char *summary,
						 const char *fmt,...);

/* Sets s->done_check (replacing it). */
void		step_done(Step *s, const char *fmt,...);

/*
 * Wraps statement in a DO block that runs it only when cond (a SQL boolean)
 * holds; cond NULL: the statement as is.  Returns a malloc'd statement.
 */
char	   *guarded(const char *cond, const char *statement);

/* s->done_check "SELECT NOT (cond) OR (effect)": done when not needed or already there; cond NULL: effect. */
void		done_unless(Step *s, const char *cond, const char *effect);

/* Adds one statement to s, guarded by cond (see guarded). */
void		step_sql_guarded(Step *s, const char *cond, const char *statement);

/* A dollar-quoted string whose tag does not occur in body. */
void		append_dollar_quoted(Buf *b, const char *body);

/* A deterministic name "<prefix>_<version>_<op>[_<k>]"; k 0: none. */
char	   *object_name(const PlanCtx *pc, const char *prefix, int k);

/* "<rel>_<col>_<suffix>" as PostgreSQL names constraints, within 63 bytes. */
char	   *derived_name(const char *table, const char *column, const char *suffix);

/* The key of saved state of this op in migrate.saved_objects: "<op>.<what>". */
char	   *saved_key(const PlanCtx *pc, const char *what);

/*
 * A SQL boolean: the saved row <op>.<what> exists (with value, unless NULL);
 * saved_value: a scalar subquery of its definition.
 */
char	   *saved_flag(const PlanCtx *pc, const char *what, const char *value);
char	   *saved_value(const PlanCtx *pc, const char *what);

/* An inverse step that forgets saved rows <op>.<what...> (NULL-terminated). */
void		undo_forget_saved(PlanCtx *pc, Step *owner, const char *const *whats);

/*
 * The step that creates schema migrate and migrate.saved_objects (and the
 * helpers that save and restore rows), once per migration.
 */
void		ensure_migrate_schema(PlanCtx *pc);

/* Adds the statement that creates migrate.primary_key_columns(regclass). */
void		step_sql_primary_key_helper(Step *s);

/* A name in the same schema as table: "schema.name", or name. */
char	   *sibling_name(const char *table, const char *name);

/* SQL booleans about the catalog. */
char	   *sql_column_exists(const char *table, const char *column);
char	   *sql_move_owned_sequences(const char *table, const char *from, const char *to);
char	   *sql_refuse_column_dependents(const char *table, const char *column, const char *message,
										 const char *hint);
char	   *sql_column_not_null(const char *table, const char *column);
char	   *sql_constraint_exists(const char *table, const char *name);
char	   *sql_constraint_validated(const char *table, const char *name);
char	   *sql_index_valid(const char *index);
char	   *sql_trigger_exists(const char *table, const char *trigger);

/*
 * NOT NULL without a long lock (online): CHECK (c IS NOT NULL) NOT VALID,
 * VALIDATE, SET NOT NULL (proved by the check: no scan on PostgreSQL 12+),
 * drop the check.  cond: NULL, or a SQL boolean deciding at run time whether
 * to do it at all.  undo_cond: when SET NOT NULL's inverse (DROP NOT NULL)
 * applies; NULL: always.  In the plain strategy a single SET NOT NULL.
 * owner: as add_step (inverse sequences carry no inverses).
 */
void		plan_set_not_null(PlanCtx *pc, Step *owner, const char *table,
							  const char *column, const char *cond,
							  const char *undo_cond);

/*
 * Saves a column's type, default and nullability as <op>.<column>.type,
 * .default, .not_null ("true"/"false") before an operation changes them.
 */
void		plan_save_column(PlanCtx *pc, const char *table, const char *column);

/* SQL boolean: the saved nullability of column was NOT NULL. */
char	   *saved_not_null(const PlanCtx *pc, const char *column);

/*
 * A trigger that keeps a column filled on writes that old code makes:
 * BEFORE INSERT OR UPDATE, body a PL/pgSQL fragment over NEW.  k tells
 * apart several triggers of one operation (0: one).  Its inverse drops it;
 * a PHASE_CONTRACT step drops it at finalize.  The step is returned,
 * valid until the next step is added.
 */
Step	   *plan_sync_trigger(PlanCtx *pc, const char *table, int k, const char *body,
							  const char *summary);
void		plan_drop_sync_trigger(PlanCtx *pc, const char *table, int k);
char	   *sync_function_name(const PlanCtx *pc, int k);	/* unquoted, in migrate */
/*
 * The code of a sync function: "BEGIN <body> RETURN NEW; END", body_start
 * then body_end; either NULL leaves out its half (its BEGIN, or its
 * RETURN NEW; END), for code that a DO block completes at run time.
 */
char	   *sync_function_code(const char *body_start, const char *body_end);
/* CREATE OR REPLACE FUNCTION of a sync trigger with that body. */
char	   *sync_function_sql(const PlanCtx *pc, int k, const char *body);
char	   *sync_trigger_name(const PlanCtx *pc, int k);
/* Appends to s the statements that drop a sync trigger and its function. */
void		drop_sync_trigger_sql(Step *s, const char *table, const char *trigger,
								  const char *function);

/*
 * A batched fill: a STEP_BACKFILL whose sql is the plain UPDATE and whose
 * backfill spec the engine batches.  set is copied.
 */
Step	   *plan_backfill_step(PlanCtx *pc, Step *owner, const char *table,
							   const KeyExprList *set, const char *where,
							   int64_t batch_size, int64_t batch_delay_ms,
							   const char *summary);

/*
 * CREATE [UNIQUE] INDEX index <definition> ("ON t USING ... (...) ...").
 * Online: CONCURRENTLY, after dropping an INVALID index that a failed build
 * left (the step is skipped when a valid one exists).
 */
Step	   *plan_index_build(PlanCtx *pc, const char *table, const char *index,
							 bool unique, const char *definition);

/* ADD CONSTRAINT in one step, validated under its lock; its undo drops it. */
Step	   *plan_add_constraint_now(PlanCtx *pc, const char *table, const char *name,
									const char *body, const char *referenced, LockMode add_lock);

/*
 * ADD CONSTRAINT ... NOT VALID then VALIDATE (online), or validating (plain).
 * referenced: a foreign key's referenced table (NULL for a check), which
 * its undo locks first.
 */
void		plan_add_checked_constraint(PlanCtx *pc, const char *table,
										const char *name, const char *body,
										const char *referenced, LockMode add_lock);

/*
 * UNIQUE / PRIMARY KEY: online a unique index built concurrently, then ADD
 * CONSTRAINT ... USING INDEX; plain ADD CONSTRAINT.  kind: "UNIQUE" or
 * "PRIMARY KEY".
 */
void		plan_add_unique_constraint(PlanCtx *pc, const char *table,
									   const char *name, const char *kind,
									   const StrList *columns, const StrList *include);

/* One index element as SQL: name quoted, expression in parentheses. */
void		append_index_element(Buf *b, const IndexElem *e);

/*
 * "ON table [USING m] (elements) [INCLUDE] [NULLS NOT DISTINCT] [WITH]
 * [WHERE]" of d, on table; false with err when the server cannot build it.
 */
bool		index_definition(const PlanCtx *pc, const char *table, const IndexDef *d,
							 Buf *def);

/* ALTER TABLE ... ENABLE/DISABLE (and FORCE/NO FORCE) ROW LEVEL SECURITY. */
Step	   *rls_step(PlanCtx *pc, Step *owner, const char *table, bool on, bool force);

/*
 * rls_step as an operation's step: the table's RLS state saved first, and
 * given back exactly by its undo (a table that had RLS keeps it).
 */
Step	   *plan_rls_change(PlanCtx *pc, const char *table, bool on, bool force);

/*
 * Sync trigger bodies (planner_sync.c), one rule: on INSERT a column left
 * NULL is derived, one given is the writer's; on UPDATE a column that
 * changed is the writer's, one that did not follows its sources.
 *   expr_over_row: "(SELECT (expr) FROM (SELECT <row>.*) AS <table>)", expr
 *     over the row NEW or OLD, aliased as the table so expr may name it.
 *   sync_derived_body: column (of type) kept equal to expr over the row.
 *   sync_follow_body: column kept equal to lookup (over NEW) when the row
 *     moves to another parent (via changes).
 *   sync_copy_written_parts: the column to gets from::<type> on INSERT and
 *     on an UPDATE that wrote from; the type goes between the two parts.
 *   sync_both_names_body: two columns kept equal both ways (a rename).
 */
char	   *expr_over_row(const char *table, const char *row, const char *expr);
char	   *sync_derived_body(const char *table, const char *column, const char *type,
							  const char *expr);
char	   *sync_follow_body(const char *column, const char *via, const char *lookup);
void		sync_copy_written_parts(const char *from, const char *to, char **before_type,
									char **after_type);
char	   *sync_both_names_body(const char *old_name, const char *new_name);

/*
 * A DO block that gives column, now of new_type, its old default
 * (saved_default: an SQL text expression, e.g. a saved_value subquery)
 * converted: as is when the server assigns it to the new type (varchar to
 * text); else, when it is a constant, its value converted as the rows were
 * (convert: the USING expression over the column, the row aliased as alias,
 * NULL: the table's own name); else the statement fails with a message that
 * says what to write.  The planner runs it at the swap, preflight on its
 * copy of the table.
 */
char	   *sql_convert_default(const char *table, const char *column, const char *saved_default,
								const char *convert, const char *new_type, const char *alias);

/* A DO statement running the PL/pgSQL block body. */
char	   *do_block(const char *body);

/* CREATE TYPE of a create_type operation (enum or composite), as written. */
char	   *create_type_sql(const Operation *op);

/* An inverse step of owner that drops column. */
void		undo_add_column(PlanCtx *pc, Step *owner, const char *table, const char *column);

/*
 * COMMENT ON what IS text (NULL: removes it), the previous comment saved
 * first and given back by the undo.  what: "TABLE t", "COLUMN t.c" ...;
 * current: a SQL expression of the comment now; relation: the table it
 * locks (SHARE UPDATE EXCLUSIVE), or NULL.  k tells apart several of one
 * operation.
 */
void		plan_comment(PlanCtx *pc, const char *what, const char *current,
						 const char *relation, const char *text, int k);

/* The operation planners. */
bool		plan_op(PlanCtx *pc);
bool		plan_rename_table(PlanCtx *pc);	/* planner_rename.c */
bool		plan_rename_column(PlanCtx *pc);
bool		plan_multi_tenancy(PlanCtx *pc);
bool		plan_object_op(PlanCtx *pc);	/* planner_objects.c: views, types, grants ... */

/*
 * Partitions (planner_partition.c): create_table's " PARTITION BY ..." and
 * its partitions, added to s; add_partitions, attach_partition,
 * detach_partition and partition_table.
 */
void		plan_table_partitioning_clause(Buf *b, const Partitioning *p);
bool		plan_table_partitions(PlanCtx *pc, Step *s, const char *table,
								  const Partitioning *p);
bool		plan_partition_op(PlanCtx *pc);
bool		plan_partition_table(PlanCtx *pc);

#endif
