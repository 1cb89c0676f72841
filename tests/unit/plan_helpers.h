/*
 * plan_helpers.h: what test_planner.c and test_render.c share: loading a
 * fixture of fixtures/plan, planning it, rendering it to a string.
 * Included by one test program each, so its functions are static.
 */
#ifndef PLAN_HELPERS_H
#define PLAN_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan.h"
#include "render.h"
#include "spec.h"

#define PLAN_FIXTURES "fixtures/plan/"

/* Every fixture of fixtures/plan, without ".yaml". */
static const char *const plan_fixtures[] = {
	"0001_create_table",
	"0002_drop_table",
	"0003_rename_table",
	"0004_add_column_instant",
	"0005_add_column_backfill",
	"0006_add_column_volatile_default",
	"0007_drop_column",
	"0008_rename_column",
	"0009_alter_column_type",
	"0010_alter_column_nullability",
	"0011_backfill_down",
	"0012_backfill_saved",
	"0013_create_index",
	"0014_drop_index",
	"0015_add_constraint",
	"0016_drop_constraint",
	"0017_rls",
	"0018_policy",
	"0019_multi_tenancy",
	"0020_sql",
	"0021_hostile",
	"0030_index_elements",
	"0031_objects",
};

#define N_PLAN_FIXTURES (sizeof plan_fixtures / sizeof plan_fixtures[0])

static void
load_plan_fixture(const char *name, Migration *m)
{
	Error		err = {0};
	char	   *path = xasprintf(PLAN_FIXTURES "%s.yaml", name);
	bool		ok = spec_load_file(path, m, &err);

	ck_assert_msg(ok, "%s: %s", path, err.message ? err.message : "?");
	free(path);
}

/* Loads YAML text as migration file name (e.g. "0007_t.yaml"). */
static void
load_plan_text(const char *name, const char *yaml, Migration *m)
{
	Error		err = {0};
	bool		ok = spec_load_buffer(name, yaml, strlen(yaml), m, &err);

	ck_assert_msg(ok, "%s", err.message ? err.message : "?");
}

static void
plan_or_fail(const Migration *m, Strategy strategy, MigrationPlan *mp)
{
	Error		err = {0};
	bool		ok = plan_migration(m, strategy, NULL, mp, &err);

	ck_assert_msg(ok, "%s", err.message ? err.message : "?");
}

/* The plan of one migration rendered in fmt, without colour, offline. */
static char *
render_one(const MigrationPlan *mp, Format fmt, bool color)
{
	Settings	st;
	RenderOptions ro = {color, false, &st};
	Plan		plan = {mp->strategy, (MigrationPlan *) mp, 1};
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	settings_defaults(&st);
	ck_assert_ptr_nonnull(f);
	render_plan(f, &plan, fmt, &ro);
	fclose(f);
	return text;
}

#endif
