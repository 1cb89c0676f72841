/*
 * planner_objects.c: the operations on objects other than a table's columns
 * (migrate(1), Views, materialized views, types, comments, grants, roles): views,
 * materialized views, types, enum values, comments, replica identity,
 * grants and roles.  Each has its rollback, from what the catalog said
 * before the change (saved in migrate.saved_objects, docs/design.md "The
 * migrate schema"), and its online technique: short locks, drops deferred
 * to finalize, a materialized view rebuilt beside the old one.
 */
#include "planner_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- saved definitions ---- */

/*
 * A step that saves definition (a SQL expression of the object's present
 * definition, NULL when there is none) as <op>.<what>, once; its undo
 * forgets it.
 */
static Step *
save_definition_step(PlanCtx *pc, const char *what, const char *definition, const char *summary)
{
	char	   *key = saved_key(pc, what);
	char	   *saved = saved_flag(pc, what, NULL);
	const char *const forget[] = {what, NULL};
	Step	   *s;

	ensure_migrate_schema(pc);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL, "%s", summary);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, d FROM (SELECT %s AS d) AS saved WHERE d IS NOT NULL "
			 "ON CONFLICT DO NOTHING", pc->m->version, key, definition);
	step_done(s, "SELECT %s", saved);
	undo_forget_saved(pc, s, forget);
	free(saved);
	free(key);
	return s;
}

/*
 * For a step whose effect the catalog cannot tell apart (a view replaced,
 * a grant, a refresh): it records itself done in its own transaction, as
 * <op>.<what>; step_unmark is its undo's half, which forgets it, so that
 * the migration applied again runs it again.  The caller has called
 * ensure_migrate_schema before adding s.
 */
static void
step_mark(PlanCtx *pc, Step *s, const char *what)
{
	char	   *key = saved_key(pc, what);
	char	   *marked = saved_flag(pc, what, NULL);

	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "VALUES (%D, %L, 'done') ON CONFLICT DO NOTHING", pc->m->version, key);
	step_done(s, "SELECT %s", marked);
	free(marked);
	free(key);
}

static void
step_unmark(PlanCtx *pc, Step *undo, const char *what)
{
	char	   *key = saved_key(pc, what);
	char	   *marked = saved_flag(pc, what, NULL);

	step_sql(undo, "DELETE FROM migrate.saved_objects WHERE version = %D AND key = %L",
			 pc->m->version, key);
	step_done(undo, "SELECT NOT %s", marked);
	free(marked);
	free(key);
}

/* An inverse of owner that runs the statement saved as <op>.<what>, if any. */
static Step *
undo_run_saved(PlanCtx *pc, Step *owner, const char *what, LockMode lock, const char *relation,
			   const char *summary)
{
	char	   *saved = saved_value(pc, what);
	char	   *body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NOT NULL THEN "
								  "EXECUTE saved; END IF; END", saved);
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, lock, relation, "%s", summary);

	strlist_push(&undo->sql, do_block(body));
	free(body);
	free(saved);
	return undo;
}

/* ---- views ---- */

/* CREATE [OR REPLACE] VIEW name [WITH (security_invoker)] AS query [WITH ... CHECK OPTION] */
static char *
view_sql(const Operation *op, bool replace)
{
	Buf			b;

	buf_init(&b);
	sql_append(&b, "CREATE %sVIEW %Q", replace ? "OR REPLACE " : "", op->u.view.name);
	if (op->u.view.security_invoker != TRI_UNSET)
		buf_printf(&b, " WITH (security_invoker = %s)",
				   op->u.view.security_invoker == TRI_TRUE ? "true" : "false");
	buf_printf(&b, " AS %s", op->u.view.query);
	if (op->u.view.check_option)
		buf_printf(&b, " WITH %s CHECK OPTION",
				   strcmp(op->u.view.check_option, "local") == 0 ? "LOCAL" : "CASCADED");
	return buf_detach(&b);
}

/* security_invoker is PostgreSQL 15's: refused, at the file, on an older server. */
static bool
view_options_supported(PlanCtx *pc)
{
	const Operation *op = pc->op;

	if (op->u.view.security_invoker == TRI_UNSET || pc->cat == NULL ||
		pc->cat->server_version >= 150000)
		return true;
	return error_set(pc->err, EXIT_USAGE,
					 "%s:%d:%d: %s: \"security_invoker\" needs PostgreSQL 15 or later; "
					 "the server is %d.%d", op->pos.file, op->pos.line, op->pos.col,
					 op_kind_name(op->kind), pc->cat->server_version / 10000,
					 pc->cat->server_version % 10000);
}

/* A SQL expression: the view as CREATE OR REPLACE VIEW, its options kept. */
static char *
view_definition_sql(const char *view)
{
	return sql_format("(SELECT format('CREATE OR REPLACE VIEW %%s%%s AS %%s', c.oid::regclass, "
					  "' WITH (' || array_to_string(c.reloptions, ', ') || ')', "
					  "pg_get_viewdef(c.oid)) FROM pg_class c "
					  "WHERE c.oid = to_regclass(%R) AND c.relkind = 'v')", view);
}

static bool
plan_create_view(PlanCtx *pc)
{
	const char *view = pc->op->u.view.name;
	char	   *sql;
	char	   *drop;
	char	   *own;
	char	   *summary;
	Step	   *s;

	if (!view_options_supported(pc))
		return false;
	sql = view_sql(pc->op, false);

	/* a new view locks nothing but what its query reads, for a moment */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL, "create view %Q", view);
	drop = sql_format("DROP VIEW %Q", view);
	own = sql_owned(pc, "view", NULL, view);
	/* after a fix of the file, the view of this migration is made again from it */
	step_replaces_own(pc, s, "view", NULL, view, drop);
	strlist_push(&s->sql, sql);
	step_done(s, "SELECT to_regclass(%R) IS NOT NULL", view);
	summary = sql_format("drop view %Q", view);
	undo_drop_own(pc, s, LOCK_ACCESS_EXCLUSIVE, view, own, drop, summary);
	free(summary);
	free(own);
	free(drop);
	return true;
}

/*
 * The saved definition back: CREATE OR REPLACE VIEW, or, when the new one
 * has columns the old one lacks (which OR REPLACE cannot take away), the
 * view dropped and made again.
 */
static void
undo_replace_view(PlanCtx *pc, Step *owner, const char *view)
{
	char	   *saved = saved_value(pc, "view");
	char	   *drop = sql_format("DROP VIEW IF EXISTS %Q", view);
	char	   *body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NULL THEN RETURN; "
								  "END IF; BEGIN EXECUTE saved; EXCEPTION WHEN invalid_table_definition "
								  "THEN EXECUTE %L; EXECUTE saved; END; END", saved, drop);
	Step	   *undo = add_step(pc, owner, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, view,
								"put the previous definition of view %Q back", view);

	strlist_push(&undo->sql, do_block(body));
	/* made again when OR REPLACE could not: the view stays its maker's */
	step_rehome_owner(pc, undo, "view", NULL, view);
	step_unmark(pc, undo, "replaced");
	free(body);
	free(drop);
	free(saved);
}

static bool
plan_replace_view(PlanCtx *pc)
{
	const char *view = pc->op->u.view.name;
	char	   *definition;
	char	   *summary;
	Step	   *s;

	if (!view_options_supported(pc))
		return false;
	definition = view_definition_sql(view);
	summary = sql_format("save the definition of view %Q for rollback", view);
	save_definition_step(pc, "view", definition, summary);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, view,
				 "replace view %Q", view);
	step_save_owner(pc, s, "view", NULL, view);
	strlist_push(&s->sql, view_sql(pc->op, true));
	step_mark(pc, s, "replaced");
	undo_replace_view(pc, s, view);
	free(summary);
	free(definition);
	return true;
}

/*
 * Online the old version still reads the view: it is dropped at finalize,
 * its definition saved at apply.  Plain: dropped now, made again from the
 * saved definition by rollback.
 */
static bool
plan_drop_view(PlanCtx *pc)
{
	const char *view = pc->op->u.view.name;
	char	   *definition = view_definition_sql(view);
	char	   *summary = sql_format("save the definition of view %Q for rollback", view);
	Step	   *s;

	save_definition_step(pc, "view", definition, summary);
	s = add_step(pc, NULL, ONLINE(pc) ? PHASE_CONTRACT : PHASE_EXPAND, STEP_DDL,
				 LOCK_ACCESS_EXCLUSIVE, view, "drop view %Q", view);
	if (!ONLINE(pc))
		step_save_owner(pc, s, "view", NULL, view);
	step_sql(s, "DROP VIEW IF EXISTS %Q", view);
	step_done(s, "SELECT to_regclass(%R) IS NULL", view);
	if (!ONLINE(pc))
	{
		Step	   *undo = undo_run_saved(pc, s, "view", LOCK_NONE, NULL,
										  "create the view again, from its saved definition");

		step_rehome_owner(pc, undo, "view", NULL, view);
		step_done(undo, "SELECT to_regclass(%R) IS NOT NULL", view);
	}
	free(summary);
	free(definition);
	return true;
}

/* ---- materialized views ---- */

/* SQL boolean: the materialized view holds data. */
static char *
sql_populated(const char *matview)
{
	return sql_format("coalesce((SELECT relispopulated FROM pg_class WHERE oid = to_regclass(%R)), "
					  "false)", matview);
}

/*
 * The indexes of a materialized view that nobody reads yet: built plainly
 * (its SHARE lock blocks no one).  names: the index names to give, NULL
 * for the file's own.  cond: a SQL boolean that says a step is done
 * besides the index existing (NULL: none).
 */
static bool
plan_matview_indexes(PlanCtx *pc, const char *matview, const StrList *names, const char *cond)
{
	for (size_t i = 0; i < pc->op->u.matview.n_indexes; i++)
	{
		const IndexDef *d = &pc->op->u.matview.indexes[i];
		const char *name = names ? names->items[i] : d->name;
		char	   *qualified = sibling_name(matview, name);
		char	   *valid = sql_index_valid(qualified);
		Buf			def;
		Step	   *s;

		buf_init(&def);
		if (!index_definition(pc, matview, d, &def))
		{
			buf_free(&def);
			free(valid);
			free(qualified);
			return false;
		}
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_SHARE, matview,
					 "create %s %I on the new materialized view %Q",
					 d->unique ? "unique index" : "index", name, matview);
		/* a plain build is transactional: no INVALID leftover to drop first */
		step_sql(s, "CREATE %sINDEX %I %s", d->unique ? "UNIQUE " : "", name, def.data);
		step_done(s, cond ? "SELECT %s OR %s" : "SELECT %s", valid, cond);
		step_owns(s, "index", NULL, qualified);
		buf_free(&def);
		free(valid);
		free(qualified);
	}
	return true;
}

/* CREATE MATERIALIZED VIEW name AS query WITH NO DATA, then the REFRESH that fills it. */
static Step *
plan_matview_build(PlanCtx *pc, const char *matview, const char *cond)
{
	Step	   *s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
							 "create materialized view %Q, without data", matview);

	step_sql(s, "CREATE MATERIALIZED VIEW %Q AS %s WITH NO DATA", matview,
			 pc->op->u.matview.query);
	step_done(s, cond ? "SELECT to_regclass(%R) IS NOT NULL OR %s"
			  : "SELECT to_regclass(%R) IS NOT NULL", matview, cond);
	step_owns(s, "materialized_view", NULL, matview);
	return s;
}

static void
plan_matview_populate(PlanCtx *pc, const char *matview, const char *cond)
{
	char	   *populated = sql_populated(matview);
	Step	   *s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, matview,
							 "fill materialized view %Q (nobody reads it yet)", matview);

	step_sql(s, "REFRESH MATERIALIZED VIEW %Q", matview);
	step_done(s, cond ? "SELECT %s OR %s" : "SELECT %s", populated, cond);
	free(populated);
}

static bool
plan_create_matview(PlanCtx *pc)
{
	const char *matview = pc->op->u.matview.name;
	Step	   *s = plan_matview_build(pc, matview, NULL);
	Step	   *undo;

	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, matview,
					"drop materialized view %Q", matview);
	step_sql(undo, "DROP MATERIALIZED VIEW IF EXISTS %Q", matview);
	step_done(undo, "SELECT to_regclass(%R) IS NULL", matview);
	if (!plan_matview_indexes(pc, matview, NULL, NULL))
		return false;
	if (pc->op->u.matview.populate)
		plan_matview_populate(pc, matview, NULL);
	return true;
}

/* Whether an index that this migration makes before op lets matview refresh concurrently. */
static int
unique_index_made_here(const PlanCtx *pc, const char *matview)
{
	int			made = -1;

	for (const Operation *o = pc->m->ops; o < pc->op; o++)
	{
		if ((o->kind == OP_CREATE_MATERIALIZED_VIEW || o->kind == OP_REPLACE_MATERIALIZED_VIEW) &&
			strcmp(o->u.matview.name, matview) == 0)
		{
			made = 0;
			for (size_t i = 0; i < o->u.matview.n_indexes; i++)
				if (o->u.matview.indexes[i].unique && o->u.matview.indexes[i].where == NULL)
					made = 1;
		}
		else if (o->kind == OP_CREATE_INDEX && strcmp(o->u.create_index.table, matview) == 0 &&
				 o->u.create_index.unique && o->u.create_index.where == NULL)
			made = 1;
	}
	return made;
}

static bool
plan_refresh_matview(PlanCtx *pc)
{
	const char *matview = pc->op->u.matview.name;
	bool		concurrently = pc->op->u.matview.concurrently;
	int			unique = concurrently ? unique_index_made_here(pc, matview) : 1;
	Step	   *s;

	if (unique < 0 && pc->cat)
		unique = catalog_has_unique_index(pc->cat, matview);
	if (unique != 0)
		ensure_migrate_schema(pc);
	if (unique == 0)
		return error_set(pc->err, EXIT_USAGE,
						 "%s:%d:%d: refresh_materialized_view: %s has no unique index on plain "
						 "columns without a WHERE, which REFRESH ... CONCURRENTLY needs; add one "
						 "(indexes of create_materialized_view, or create_index), or say "
						 "concurrently: false (readers then wait for the refresh)",
						 pc->op->pos.file, pc->op->pos.line, pc->op->pos.col, matview);
	/*
	 * CONCURRENTLY takes EXCLUSIVE, which no read conflicts with, not even
	 * one queued behind it: it runs outside a transaction, like a
	 * concurrent build, with no lock_timeout to cut a long refresh short.
	 * Without, ACCESS EXCLUSIVE in a short transaction (lint says unsafe).
	 */
	s = add_step(pc, NULL, PHASE_EXPAND, concurrently ? STEP_CONCURRENT : STEP_DDL,
				 concurrently ? LOCK_EXCLUSIVE : LOCK_ACCESS_EXCLUSIVE, matview,
				 "refresh materialized view %Q%s", matview, concurrently ? " concurrently" : "");
	step_sql(s, "REFRESH MATERIALIZED VIEW %s%Q", concurrently ? "CONCURRENTLY " : "", matview);
	s->scans = true;
	s->rewrites = !concurrently;
	step_mark(pc, s, "refreshed");
	/* nothing to undo: only the record that it ran */
	step_unmark(pc, add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
							 "forget that %Q was refreshed", matview), "refreshed");
	return true;
}

/*
 * The views that read matview, each as the CREATE OR REPLACE VIEW that
 * redefines it from its own definition (pg_get_viewdef, names as they
 * resolve now) and options, kept for the transaction in a setting: run
 * again once the names are swapped (replay_dependent_views_sql), they read
 * whatever then has matview's name.  The view keeps its oid, so its
 * grants, comments, owner and the views over it stay.
 */
/*
 * The views that read matview locked first, in one order: a reader locks
 * the view before the matview under it, so the swap must too (the other
 * way round, it and a reader would each wait for the other).
 */
static char *
lock_dependent_views_sql(const char *matview)
{
	char	   *body = sql_format("DECLARE v regclass; BEGIN FOR v IN SELECT DISTINCT r.ev_class::regclass "
								  "FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass "
								  "AND d.objid = r.oid JOIN pg_class c ON c.oid = r.ev_class "
								  "WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(%R) "
								  "AND c.relkind = 'v' ORDER BY 1 LOOP "
								  "EXECUTE format('LOCK TABLE %%s IN ACCESS EXCLUSIVE MODE', v); END LOOP; END",
								  matview);
	char	   *sql = do_block(body);

	free(body);
	return sql;
}

static char *
save_dependent_views_sql(const char *matview)
{
	return sql_format("SELECT set_config('migrate.dependent_views', coalesce(json_agg(format("
					  "'CREATE OR REPLACE VIEW %%s%%s AS %%s', v.oid::regclass, ' WITH (' || "
					  "array_to_string(v.reloptions, ', ') || ')', pg_get_viewdef(v.oid)) "
					  "ORDER BY v.oid)::text, '[]'), true) FROM pg_class v "
					  "WHERE v.relkind = 'v' AND v.oid IN (SELECT r.ev_class FROM pg_rewrite r "
					  "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "
					  "WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(%R))",
					  matview);
}

static char *
replay_dependent_views_sql(void)
{
	return do_block("DECLARE stmt text; BEGIN FOR stmt IN SELECT json_array_elements_text("
					"current_setting('migrate.dependent_views')::json) LOOP EXECUTE stmt; "
					"END LOOP; END");
}

/*
 * Renames that swap the materialized view with its rebuilt twin, and the
 * indexes of the file with theirs: from_* become to_*.  An index of the
 * view being renamed away is renamed only if it is that view's (another
 * table's index of the same name is left alone).  The views that read the
 * one renamed away are redefined to read the one that takes its name.
 */
static void
swap_matview_sql(PlanCtx *pc, Step *s, const char *matview, const char *away, const char *back,
				 const StrList *away_idx, const StrList *back_idx)
{
	const char *base = strrchr(matview, '.') ? strrchr(matview, '.') + 1 : matview;
	char	   *back_q = sibling_name(matview, back);

	strlist_push(&s->sql, lock_dependent_views_sql(matview));
	strlist_push(&s->sql, save_dependent_views_sql(matview));

	for (size_t i = 0; i < pc->op->u.matview.n_indexes; i++)
	{
		char	   *idx = sibling_name(matview, pc->op->u.matview.indexes[i].name);
		char	   *cond = sql_format("EXISTS (SELECT FROM pg_index WHERE indexrelid = "
									  "to_regclass(%R) AND indrelid = to_regclass(%R))", idx, matview);
		char	   *stmt = sql_format("ALTER INDEX %Q RENAME TO %I", idx, away_idx->items[i]);

		strlist_push(&s->sql, guarded(cond, stmt));
		free(stmt);
		free(cond);
		free(idx);
	}
	step_sql(s, "ALTER MATERIALIZED VIEW %Q RENAME TO %I", matview, away);
	step_sql(s, "ALTER MATERIALIZED VIEW %Q RENAME TO %I", back_q, base);
	for (size_t i = 0; i < pc->op->u.matview.n_indexes; i++)
	{
		char	   *idx = sibling_name(matview, back_idx->items[i]);
		char	   *cond = sql_format("to_regclass(%R) IS NOT NULL", idx);
		char	   *stmt = sql_format("ALTER INDEX %Q RENAME TO %I", idx,
									  pc->op->u.matview.indexes[i].name);

		strlist_push(&s->sql, guarded(cond, stmt));
		free(stmt);
		free(cond);
		free(idx);
	}
	strlist_push(&s->sql, replay_dependent_views_sql());
	free(back_q);
}

/*
 * The comments of matview (its own, its columns' that the twin has, its
 * file indexes') given to the twin and its indexes, before the swap.
 */
static char *
copy_comments_sql(PlanCtx *pc, const char *matview, const char *twin, const StrList *twin_idx)
{
	Buf			body;
	char	   *sql;

	buf_init(&body);
	sql_append(&body, "DECLARE r record; BEGIN "
			   "IF obj_description(to_regclass(%R), 'pg_class') IS NOT NULL THEN "
			   "EXECUTE format('COMMENT ON MATERIALIZED VIEW %%s IS %%L', %R, "
			   "obj_description(to_regclass(%R), 'pg_class')); END IF; "
			   "FOR r IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS text "
			   "FROM pg_attribute a WHERE a.attrelid = to_regclass(%R) AND a.attnum > 0 "
			   "AND NOT a.attisdropped AND col_description(a.attrelid, a.attnum) IS NOT NULL "
			   "AND EXISTS (SELECT FROM pg_attribute t WHERE t.attrelid = to_regclass(%R) "
			   "AND t.attname = a.attname AND NOT t.attisdropped) LOOP "
			   "EXECUTE format('COMMENT ON COLUMN %%s.%%I IS %%L', %R, r.attname, r.text); "
			   "END LOOP; ", matview, twin, matview, matview, twin, twin);
	for (size_t i = 0; i < pc->op->u.matview.n_indexes; i++)
	{
		char	   *idx = sibling_name(matview, pc->op->u.matview.indexes[i].name);
		char	   *to = sibling_name(matview, twin_idx->items[i]);

		/* the old view's own index of that name, if it has one */
		sql_append(&body, "IF EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass(%R) "
				   "AND indrelid = to_regclass(%R)) AND obj_description(to_regclass(%R), "
				   "'pg_class') IS NOT NULL THEN EXECUTE format('COMMENT ON INDEX %%s IS %%L', "
				   "%R, obj_description(to_regclass(%R), 'pg_class')); END IF; ",
				   idx, matview, idx, to, idx);
		free(to);
		free(idx);
	}
	buf_puts(&body, "END");
	sql = do_block(body.data);
	buf_free(&body);
	return sql;
}

/* The grants of from, given on to as well (readers of the old one read the new one). */
static char *
copy_grants_sql(const char *from, const char *to)
{
	char	   *body = sql_format("DECLARE r record; BEGIN FOR r IN SELECT a.privilege_type, a.grantee "
								  "FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass(%R) "
								  "AND a.grantee <> c.relowner LOOP EXECUTE format('GRANT %%s ON %%s TO %%s', "
								  "r.privilege_type, %R, CASE WHEN r.grantee = 0 THEN 'PUBLIC' "
								  "ELSE quote_ident(pg_get_userbyid(r.grantee)) END); END LOOP; END",
								  from, to);
	char	   *sql = do_block(body);

	free(body);
	return sql;
}

/*
 * A twin built and filled beside the old view (readers keep the old one),
 * a short-lock swap of names, the old one dropped at finalize.  Rollback
 * swaps back and drops the twin.
 */
static bool
plan_replace_matview(PlanCtx *pc)
{
	const char *matview = pc->op->u.matview.name;
	char	   *twin = object_name(pc, "mv_new", 0);
	char	   *old = object_name(pc, "mv_old", 0);
	char	   *twin_q = sibling_name(matview, twin);
	char	   *old_q = sibling_name(matview, old);
	char	   *swapped = sql_format("to_regclass(%R) IS NOT NULL", old_q);
	StrList		twin_idx = {0},
				old_idx = {0};
	Step	   *s;
	Step	   *undo;
	bool		ok;

	for (size_t i = 0; i < pc->op->u.matview.n_indexes; i++)
	{
		strlist_push(&twin_idx, object_name(pc, "mv_new", (int) i + 1));
		strlist_push(&old_idx, object_name(pc, "mv_old", (int) i + 1));
	}
	s = plan_matview_build(pc, twin_q, swapped);
	strlist_push(&s->sql, copy_grants_sql(matview, twin_q));
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, twin_q,
					"drop the rebuilt twin %Q", twin_q);
	step_sql(undo, "DROP MATERIALIZED VIEW IF EXISTS %Q", twin_q);
	step_done(undo, "SELECT to_regclass(%R) IS NULL", twin_q);
	ok = plan_matview_indexes(pc, twin_q, &twin_idx, swapped);
	if (ok)
	{
		plan_matview_populate(pc, twin_q, swapped);
		s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, matview,
					 "swap materialized view %Q with its rebuilt twin", matview);
		strlist_push(&s->sql, copy_comments_sql(pc, matview, twin_q, &twin_idx));
		swap_matview_sql(pc, s, matview, old, twin, &old_idx, &twin_idx);
		step_done(s, "SELECT %s", swapped);
		undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, matview,
						"swap materialized view %Q back", matview);
		swap_matview_sql(pc, undo, matview, twin, old, &twin_idx, &old_idx);
		step_done(undo, "SELECT NOT %s", swapped);

		s = add_step(pc, NULL, ONLINE(pc) ? PHASE_CONTRACT : PHASE_EXPAND, STEP_DDL,
					 LOCK_ACCESS_EXCLUSIVE, old_q, "drop the old materialized view %Q", old_q);
		step_sql(s, "DROP MATERIALIZED VIEW IF EXISTS %Q", old_q);
		s->irreversible = xstrdup(ONLINE(pc) ? "finalize drops the old materialized view"
								  : "the old materialized view is dropped");
	}
	strlist_free(&twin_idx);
	strlist_free(&old_idx);
	free(swapped);
	free(old_q);
	free(twin_q);
	free(old);
	free(twin);
	return ok;
}

static bool
plan_drop_matview(PlanCtx *pc)
{
	const char *matview = pc->op->u.matview.name;
	Step	   *s;

	/* old code still reads it: online the drop waits for finalize */
	s = add_step(pc, NULL, ONLINE(pc) ? PHASE_CONTRACT : PHASE_EXPAND, STEP_DDL,
				 LOCK_ACCESS_EXCLUSIVE, matview, "drop materialized view %Q", matview);
	step_sql(s, "DROP MATERIALIZED VIEW IF EXISTS %Q", matview);
	step_done(s, "SELECT to_regclass(%R) IS NULL", matview);
	s->irreversible = xstrdup(ONLINE(pc) ? "finalize drops the materialized view"
							  : "dropping the materialized view loses its data");
	return true;
}

/* ---- types ---- */

char *
create_type_sql(const Operation *op)
{
	Buf			b;

	buf_init(&b);
	sql_append(&b, "CREATE TYPE %Q AS ", op->u.type.name);
	if (op->u.type.enum_values.n > 0)
	{
		buf_puts(&b, "ENUM (");
		for (size_t i = 0; i < op->u.type.enum_values.n; i++)
			sql_append(&b, "%s%L", i > 0 ? ", " : "", op->u.type.enum_values.items[i]);
	}
	else
	{
		buf_putc(&b, '(');
		/* attribute types as written, like a column's type */
		for (size_t i = 0; i < op->u.type.attr_names.n; i++)
			sql_append(&b, "%s%I %s", i > 0 ? ", " : "", op->u.type.attr_names.items[i],
					   op->u.type.attr_types.items[i]);
	}
	buf_putc(&b, ')');
	return buf_detach(&b);
}

/* SQL boolean: the type exists. */
static char *
sql_type_exists(const char *type)
{
	return sql_format("to_regtype(%R) IS NOT NULL", type);
}

static bool
plan_create_type(PlanCtx *pc)
{
	const char *type = pc->op->u.type.name;
	char	   *exists = sql_type_exists(type);
	Step	   *s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
							 "create type %Q", type);
	Step	   *undo;

	strlist_push(&s->sql, create_type_sql(pc->op));
	step_done(s, "SELECT %s", exists);
	step_owns(s, "type", NULL, type);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL, "drop type %Q", type);
	step_sql(undo, "DROP TYPE IF EXISTS %Q", type);
	step_done(undo, "SELECT NOT %s", exists);
	free(exists);
	return true;
}

static bool
plan_drop_type(PlanCtx *pc)
{
	const char *type = pc->op->u.type.name;
	char	   *exists = sql_type_exists(type);
	char	   *definition = sql_format(
		"(SELECT CASE t.typtype WHEN 'e' THEN format('CREATE TYPE %%s AS ENUM (%%s)', %R, "
		"(SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
		"FROM pg_enum e WHERE e.enumtypid = t.oid)) "
		"WHEN 'c' THEN format('CREATE TYPE %%s AS (%%s)', %R, "
		"(SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), "
		"', ' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid "
		"AND a.attnum > 0 AND NOT a.attisdropped)) END "
		"FROM pg_type t WHERE t.oid = to_regtype(%R))", type, type, type);
	char	   *summary = sql_format("save the definition of type %Q for rollback", type);
	Step	   *s;

	save_definition_step(pc, "type", definition, summary);
	s = add_step(pc, NULL, ONLINE(pc) ? PHASE_CONTRACT : PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL,
				 "drop type %Q", type);
	step_sql(s, "DROP TYPE IF EXISTS %Q", type);
	step_done(s, "SELECT NOT %s", exists);
	if (!ONLINE(pc))
		step_done(undo_run_saved(pc, s, "type", LOCK_NONE, NULL,
								 "create the type again, from its saved definition"),
				  "SELECT %s", exists);
	free(summary);
	free(definition);
	free(exists);
	return true;
}

/* ALTER TYPE ... ADD VALUE: outside a transaction, and PostgreSQL cannot take it back. */
static bool
plan_add_enum_value(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *type = op->u.add_enum_value.type;
	/* run as a concurrent step is: outside any transaction */
	Step	   *s = add_step(pc, NULL, PHASE_EXPAND, STEP_CONCURRENT, LOCK_NONE, NULL,
							 "add value %L to type %Q", op->u.add_enum_value.value, type);
	Buf			b;

	buf_init(&b);
	sql_append(&b, "ALTER TYPE %Q ADD VALUE IF NOT EXISTS %L", type, op->u.add_enum_value.value);
	if (op->u.add_enum_value.before)
		sql_append(&b, " BEFORE %L", op->u.add_enum_value.before);
	if (op->u.add_enum_value.after)
		sql_append(&b, " AFTER %L", op->u.add_enum_value.after);
	strlist_push(&s->sql, buf_detach(&b));
	s->in_txn = false;
	step_done(s, "SELECT EXISTS (SELECT FROM pg_enum WHERE enumtypid = to_regtype(%R) "
			  "AND enumlabel = %L)", type, op->u.add_enum_value.value);
	if (op->unsafe_ok == NULL)
		s->irreversible = xstrdup("PostgreSQL cannot remove a value from an enum "
								  "(unsafe_ok accepts that rollback leaves it)");
	return true;
}

/* ---- comments ---- */

void
plan_comment(PlanCtx *pc, const char *what, const char *current, const char *relation,
			 const char *text, int k)
{
	char	   *key_what = k ? xasprintf("comment.%d", k) : xstrdup("comment");
	char	   *key = saved_key(pc, key_what);
	char	   *saved = saved_value(pc, key_what);
	char	   *was_saved = saved_flag(pc, key_what, NULL);
	const char *const forget[] = {key_what, NULL};
	char	   *set = text ? sql_format("COMMENT ON %s IS %L", what, text)
		: sql_format("COMMENT ON %s IS NULL", what);
	char	   *restore = sql_format("COMMENT ON %s IS ", what);
	char	   *body;
	Step	   *s;
	Step	   *undo;

	ensure_migrate_schema(pc);
	/* the row is there even for no comment: its NULL says so */
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL,
				 relation ? LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_NONE, relation,
				 text ? "comment on %s" : "remove the comment on %s", what);
	step_sql(s, "INSERT INTO migrate.saved_objects (version, key, definition) "
			 "SELECT %D, %L, %s ON CONFLICT DO NOTHING", pc->m->version, key, current);
	strlist_push(&s->sql, set);
	step_done(s, text ? "SELECT %s AND %s IS NOT DISTINCT FROM %L" : "SELECT %s AND %s IS NULL",
			  was_saved, current, text);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL,
					relation ? LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_NONE, relation,
					"put the previous comment on %s back", what);
	body = sql_format("BEGIN IF %s THEN EXECUTE %L || coalesce(quote_literal(%s), 'NULL'); "
					  "END IF; END", was_saved, restore, saved);
	strlist_push(&undo->sql, do_block(body));
	step_done(undo, "SELECT NOT %s", was_saved);
	undo_forget_saved(pc, s, forget);
	free(body);
	free(restore);
	free(was_saved);
	free(saved);
	free(key);
	free(key_what);
}

static bool
plan_comment_op(PlanCtx *pc)
{
	const char *kind = pc->op->u.comment.kind;
	const char *name = pc->op->u.comment.name;
	const char *table = pc->op->u.comment.table;
	char	   *what;
	char	   *current;
	const char *relation = NULL;

	if (strcmp(kind, "column") == 0)
	{
		what = sql_format("COLUMN %Q.%I", table, name);
		current = sql_format("col_description(to_regclass(%R), (SELECT attnum FROM pg_attribute "
							 "WHERE attrelid = to_regclass(%R) AND attname = %L))", table, table, name);
		relation = table;
	}
	else if (strcmp(kind, "constraint") == 0)
	{
		what = sql_format("CONSTRAINT %I ON %Q", name, table);
		current = sql_format("(SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint "
							 "WHERE conrelid = to_regclass(%R) AND conname = %L)", table, name);
		relation = table;
	}
	else if (strcmp(kind, "type") == 0)
	{
		what = sql_format("TYPE %Q", name);
		current = sql_format("obj_description(to_regtype(%R), 'pg_type')", name);
	}
	else
	{
		const char *sql_kind = strcmp(kind, "materialized_view") == 0 ? "MATERIALIZED VIEW"
			: strcmp(kind, "view") == 0 ? "VIEW" : strcmp(kind, "index") == 0 ? "INDEX" : "TABLE";

		what = sql_format("%s %Q", sql_kind, name);
		current = sql_format("obj_description(to_regclass(%R), 'pg_class')", name);
		if (strcmp(kind, "index") != 0)
			relation = name;
	}
	plan_comment(pc, what, current, relation, pc->op->u.comment.text, 0);
	free(current);
	free(what);
	return true;
}

/* ---- replica identity ---- */

static bool
plan_set_replica_identity(PlanCtx *pc)
{
	const char *table = pc->op->u.replica_identity.table;
	const char *identity = pc->op->u.replica_identity.identity;
	const char *index = pc->op->u.replica_identity.index;
	char	   *definition = sql_format(
		"(SELECT CASE c.relreplident WHEN 'd' THEN 'DEFAULT' WHEN 'f' THEN 'FULL' "
		"WHEN 'n' THEN 'NOTHING' ELSE 'USING INDEX ' || quote_ident((SELECT ic.relname "
		"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid "
		"AND i.indisreplident)) END FROM pg_class c WHERE c.oid = to_regclass(%R))", table);
	char	   *summary = sql_format("save the replica identity of %Q for rollback", table);
	char	   *saved = saved_value(pc, "replica_identity");
	char	   *alter = sql_format("ALTER TABLE %Q REPLICA IDENTITY ", table);
	char	   *body;
	Step	   *s;
	Step	   *undo;

	save_definition_step(pc, "replica_identity", definition, summary);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
				 "set the replica identity of %Q", table);
	if (strcmp(identity, "index") == 0)
	{
		char	   *qualified = sibling_name(table, index);

		step_sql(s, "ALTER TABLE %Q REPLICA IDENTITY USING INDEX %I", table, index);
		step_done(s, "SELECT EXISTS (SELECT FROM pg_index WHERE indrelid = to_regclass(%R) "
				  "AND indexrelid = to_regclass(%R) AND indisreplident)", table, qualified);
		free(qualified);
	}
	else
	{
		char		code = identity[0];	/* default full nothing: 'd' 'f' 'n' */

		step_sql(s, "ALTER TABLE %Q REPLICA IDENTITY %s", table,
				 code == 'd' ? "DEFAULT" : code == 'f' ? "FULL" : "NOTHING");
		step_done(s, "SELECT relreplident = %L FROM pg_class WHERE oid = to_regclass(%R)",
				  code == 'd' ? "d" : code == 'f' ? "f" : "n", table);
	}
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_ACCESS_EXCLUSIVE, table,
					"put the replica identity of %Q back", table);
	body = sql_format("DECLARE saved text := %s; BEGIN IF saved IS NOT NULL THEN "
					  "EXECUTE %L || saved; END IF; END", saved, alter);
	strlist_push(&undo->sql, do_block(body));
	{
		char	   *was_saved = saved_flag(pc, "replica_identity", NULL);

		step_done(undo, "SELECT NOT %s", was_saved);
		free(was_saved);
	}
	free(body);
	free(alter);
	free(saved);
	free(summary);
	free(definition);
	return true;
}

/* ---- grants and roles ---- */

/* "ON TABLE t", "ON SCHEMA s", "ON FUNCTION f(int)". */
static char *
grant_object_sql(const Operation *op)
{
	const char *kind = op->u.grant.kind;

	if (strcmp(kind, "function") == 0)
		/* the signature as written: the loader's parse proved it one function */
		return xasprintf("ON FUNCTION %s", op->u.grant.object);
	if (strcmp(kind, "schema") == 0)
		return sql_format("ON SCHEMA %I", op->u.grant.object);
	return sql_format("ON %s %Q", strcmp(kind, "sequence") == 0 ? "SEQUENCE" : "TABLE",
					  op->u.grant.object);
}

/* "SELECT, INSERT ON TABLE t TO a, PUBLIC" (to_word: "TO" or "FROM"). */
static char *
grant_body(const Operation *op, const char *to_word)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < op->u.grant.privileges.n; i++)
	{
		const char *p = op->u.grant.privileges.items[i];

		buf_puts(&b, i > 0 ? ", " : "");
		if (strcmp(p, "all") == 0)
			buf_puts(&b, "ALL PRIVILEGES");
		else
			for (; *p; p++)
				buf_putc(&b, (char) toupper((unsigned char) *p));
	}
	{
		char	   *on = grant_object_sql(op);

		buf_printf(&b, " %s", on);
		free(on);
	}
	buf_printf(&b, " %s ", to_word);
	for (size_t i = 0; i < op->u.grant.roles.n; i++)
	{
		const char *role = op->u.grant.roles.items[i];

		buf_puts(&b, i > 0 ? ", " : "");
		if (strcasecmp(role, "public") == 0)
			buf_puts(&b, "PUBLIC");
		else
			sql_append(&b, "%I", role);
	}
	return buf_detach(&b);
}

/* What ALL means for each kind of object, as aclexplode names privileges. */
static const char *
all_privileges(const char *kind)
{
	if (strcmp(kind, "schema") == 0)
		return "USAGE,CREATE";
	if (strcmp(kind, "sequence") == 0)
		return "USAGE,SELECT,UPDATE";
	if (strcmp(kind, "function") == 0)
		return "EXECUTE";
	return "SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER";
}

/* A SQL expression: the object's ACL, its default when it has none. */
static char *
acl_sql(const Operation *op)
{
	const char *kind = op->u.grant.kind;
	const char *object = op->u.grant.object;

	if (strcmp(kind, "schema") == 0)
		return sql_format("(SELECT coalesce(nspacl, acldefault('n', nspowner)) FROM pg_namespace "
						  "WHERE nspname = %L)", object);
	if (strcmp(kind, "function") == 0)
		return sql_format("(SELECT coalesce(proacl, acldefault('f', proowner)) FROM pg_proc "
						  "WHERE oid = to_regprocedure(%L))", object);
	return sql_format("(SELECT coalesce(relacl, acldefault(%L, relowner)) FROM pg_class "
					  "WHERE oid = to_regclass(%R))", strcmp(kind, "sequence") == 0 ? "s" : "r",
					  object);
}

/*
 * The (privilege, role) pairs that the grant adds or the revoke takes
 * away, saved as "SELECT \"role\",UPDATE PUBLIC" before it runs: only
 * those are given back by its undo, so a privilege held before stays.
 */
static char *
changed_pairs_sql(const PlanCtx *pc, const char *key, bool grant)
{
	const Operation *op = pc->op;
	char	   *acl = acl_sql(op);
	Buf			privs,
				roles;
	char	   *sql;

	buf_init(&privs);
	buf_init(&roles);
	for (size_t i = 0; i < op->u.grant.privileges.n; i++)
	{
		const char *p = op->u.grant.privileges.items[i];

		buf_puts(&privs, i > 0 ? "," : "");
		if (strcmp(p, "all") == 0)
			buf_puts(&privs, all_privileges(op->u.grant.kind));
		else
			for (; *p; p++)
				buf_putc(&privs, (char) toupper((unsigned char) *p));
	}
	for (size_t i = 0; i < op->u.grant.roles.n; i++)
	{
		const char *role = op->u.grant.roles.items[i];

		buf_puts(&roles, i > 0 ? ", " : "");
		if (strcasecmp(role, "public") == 0)
			buf_puts(&roles, "0::oid");
		else
			sql_append(&roles, "(SELECT oid FROM pg_roles WHERE rolname = %L)", role);
	}
	sql = sql_format("INSERT INTO migrate.saved_objects (version, key, definition) "
					 "SELECT %D, %L, string_agg(p || ' ' || CASE WHEN g = 0 THEN 'PUBLIC' "
					 "ELSE quote_ident(pg_get_userbyid(g)) END, ',') "
					 "FROM unnest(string_to_array(%L, ',')) AS p, unnest(ARRAY[%s]) AS g "
					 "WHERE %s EXISTS (SELECT FROM aclexplode(%s) a WHERE a.grantee = g "
					 "AND a.privilege_type = p) ON CONFLICT DO NOTHING",
					 pc->m->version, key, privs.data, roles.data, grant ? "NOT" : "", acl);
	buf_free(&roles);
	buf_free(&privs);
	free(acl);
	return sql;
}

/*
 * GRANT / REVOKE as written; rollback gives back exactly the pairs it
 * changed (saved in the same transaction), so what was there before stays.
 */
static bool
plan_grant(PlanCtx *pc)
{
	bool		grant = pc->op->kind == OP_GRANT;
	char	   *forward = grant_body(pc->op, grant ? "TO" : "FROM");
	char	   *on = grant_object_sql(pc->op);
	const char *relation = strcmp(pc->op->u.grant.kind, "table") == 0 ? pc->op->u.grant.object : NULL;
	char	   *key = saved_key(pc, "privileges");
	char	   *saved = saved_value(pc, "privileges");
	char	   *was_saved = saved_flag(pc, "privileges", NULL);
	char	   *body;
	Step	   *s;
	Step	   *undo;

	ensure_migrate_schema(pc);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, relation, "%s %s",
				 grant ? "grant" : "revoke", forward);
	strlist_push(&s->sql, changed_pairs_sql(pc, key, grant));
	step_sql(s, "%s %s", grant ? "GRANT" : "REVOKE", forward);
	step_done(s, "SELECT %s", was_saved);
	undo = add_step(pc, s, PHASE_EXPAND, STEP_DDL, LOCK_NONE, relation,
					"give back the privileges that %s changed", grant ? "the grant" : "the revoke");
	{
		/* each saved pair is "PRIVILEGE role", the role already quoted */
		char	   *middle = xasprintf(" %s %s ", on, grant ? "FROM" : "TO");

		body = sql_format("DECLARE pair text; BEGIN FOR pair IN SELECT unnest(string_to_array(%s, ',')) "
						  "LOOP EXECUTE %L || split_part(pair, ' ', 1) || %L || "
						  "substr(pair, position(' ' in pair) + 1); END LOOP; END",
						  saved, grant ? "REVOKE " : "GRANT ", middle);
		free(middle);
	}
	strlist_push(&undo->sql, do_block(body));
	step_sql(undo, "DELETE FROM migrate.saved_objects WHERE version = %D AND key = %L",
			 pc->m->version, key);
	step_done(undo, "SELECT NOT %s", was_saved);
	free(body);
	free(was_saved);
	free(saved);
	free(key);
	free(on);
	free(forward);
	return true;
}

/* CREATE ROLE if missing; rollback drops it only if this migration made it. */
static bool
plan_create_role(PlanCtx *pc)
{
	const Operation *op = pc->op;
	const char *role = op->u.create_role.name;
	char	   *key = saved_key(pc, "role");
	char	   *made = saved_flag(pc, "role", NULL);
	const char *const forget[] = {"role", NULL};
	Buf			create;
	char	   *body;
	char	   *drop;
	char	   *own;
	Step	   *s;

	ensure_migrate_schema(pc);
	buf_init(&create);
	sql_append(&create, "CREATE ROLE %I %s %s", role, op->u.create_role.login ? "LOGIN" : "NOLOGIN",
			   op->u.create_role.inherit ? "INHERIT" : "NOINHERIT");
	if (op->u.create_role.in_roles.n > 0)
		sql_append(&create, " IN ROLE %C", &op->u.create_role.in_roles);
	body = sql_format("BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %L) THEN "
					  "EXECUTE %L; INSERT INTO migrate.saved_objects (version, key, definition) "
					  "VALUES (%D, %L, 'created') ON CONFLICT DO NOTHING; END IF; END",
					  role, create.data, pc->m->version, key);
	s = add_step(pc, NULL, PHASE_EXPAND, STEP_DDL, LOCK_NONE, NULL, "create role %I if missing", role);
	strlist_push(&s->sql, do_block(body));
	step_done(s, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = %L)", role);
	/* a role of that name made by someone else is used, never owned */
	step_owns_if(s, "role", NULL, role, made);
	free(body);
	own = sql_owned(pc, "role", NULL, role);
	drop = sql_format("DROP ROLE %I", role);
	body = sql_format("drop role %I if this migration made it", role);
	undo_drop_own(pc, s, LOCK_NONE, NULL, own, drop, body);
	free(body);
	free(own);
	free(drop);
	undo_forget_saved(pc, s, forget);
	buf_free(&create);
	free(made);
	free(key);
	return true;
}

/* ---- dispatch ---- */

bool
plan_object_op(PlanCtx *pc)
{
	switch (pc->op->kind)
	{
		case OP_CREATE_VIEW:
			return plan_create_view(pc);
		case OP_REPLACE_VIEW:
			return plan_replace_view(pc);
		case OP_DROP_VIEW:
			return plan_drop_view(pc);
		case OP_CREATE_MATERIALIZED_VIEW:
			return plan_create_matview(pc);
		case OP_REFRESH_MATERIALIZED_VIEW:
			return plan_refresh_matview(pc);
		case OP_REPLACE_MATERIALIZED_VIEW:
			return plan_replace_matview(pc);
		case OP_DROP_MATERIALIZED_VIEW:
			return plan_drop_matview(pc);
		case OP_CREATE_TYPE:
			return plan_create_type(pc);
		case OP_DROP_TYPE:
			return plan_drop_type(pc);
		case OP_ADD_ENUM_VALUE:
			return plan_add_enum_value(pc);
		case OP_COMMENT:
			return plan_comment_op(pc);
		case OP_SET_REPLICA_IDENTITY:
			return plan_set_replica_identity(pc);
		case OP_GRANT:
		case OP_REVOKE:
			return plan_grant(pc);
		case OP_CREATE_ROLE:
			return plan_create_role(pc);
		default:
			break;
	}
	return error_set(pc->err, EXIT_USAGE, "%s:%d: unknown operation", pc->op->pos.file,
					 pc->op->pos.line);
}
