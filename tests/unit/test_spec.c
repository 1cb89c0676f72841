/*
 * Unit tests: the YAML loader (spec module).  The good fixtures hold one
 * operation kind each with every field; the bad inputs are a table of YAML
 * texts with the exact file:line:col each must be refused at.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "spec.h"

#define FIXTURES "fixtures/spec/"

static Suite *make_suite(void);

/* ---- helpers ---- */

static void
load_fixture(const char *name, Migration *m)
{
	Error		err = {0};
	char	   *path = xasprintf(FIXTURES "%s", name);
	bool		ok = spec_load_file(path, m, &err);

	ck_assert_msg(ok, "%s: %s", name, err.message ? err.message : "?");
	ck_assert_str_eq(m->path, path);
	free(path);
}

static void
load_text(const char *text, Migration *m)
{
	Error		err = {0};
	bool		ok = spec_load_buffer("t/0001_t.yaml", text, strlen(text), m, &err);

	ck_assert_msg(ok, "%s", err.message ? err.message : "?");
}

/* Loads text, which must fail; returns the message (caller frees). */
static char *
load_error(const char *path, const char *text, size_t len)
{
	Error		err = {0};
	Migration	m;
	Migration	zero;
	char	   *message;

	memset(&m, 0x5a, sizeof m);
	ck_assert(!spec_load_buffer(path, text, len, &m, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_ptr_nonnull(err.message);
	/* nothing is returned half-built */
	memset(&zero, 0, sizeof zero);
	ck_assert(memcmp(&m, &zero, sizeof m) == 0);
	message = err.message;
	err.message = NULL;
	return message;
}

static char *
checksum_of(const char *text)
{
	Migration	m;
	char	   *sum;

	load_text(text, &m);
	sum = xstrdup(m.checksum);
	migration_free(&m);
	return sum;
}

static void
assert_strlist(const StrList *l, const char *const *want, size_t n)
{
	ck_assert_uint_eq(l->n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(l->items[i], want[i]);
}

/* ---- good files: one fixture per operation, every field ---- */

START_TEST(test_create_table)
{
	Migration	m;
	const Operation *op;
	const ColumnDef *c;
	const ConstraintDef *k;

	load_fixture("0001_create_table.yaml", &m);
	ck_assert_int_eq(m.version, 1);
	ck_assert_str_eq(m.version_text, "0001");
	ck_assert_str_eq(m.name, "create_table");
	ck_assert_str_eq(m.description, "Create the orders table");
	ck_assert_uint_eq(m.settings.given, 0);
	ck_assert_uint_eq(m.n_ops, 1);
	op = &m.ops[0];
	ck_assert_int_eq(op->kind, OP_CREATE_TABLE);
	ck_assert_int_eq(op->index, 0);
	ck_assert_int_eq(op->pos.line, 4);
	ck_assert_int_eq(op->pos.col, 5);
	ck_assert_ptr_null(op->unsafe_ok);
	ck_assert_str_eq(op->u.create_table.name, "shop.orders");
	ck_assert_uint_eq(op->u.create_table.n_columns, 4);

	c = &op->u.create_table.columns[0];
	ck_assert_str_eq(c->name, "id");
	ck_assert_str_eq(c->type, "bigint");
	ck_assert(!c->nullable);
	ck_assert(c->primary_key);
	ck_assert(!c->unique);
	ck_assert_ptr_null(c->default_expr);
	ck_assert_ptr_null(c->ref_table);
	ck_assert_int_eq(c->pos.line, 7);
	ck_assert_int_eq(c->pos.col, 11);

	c = &op->u.create_table.columns[1];
	ck_assert_str_eq(c->name, "customer_id");
	ck_assert(c->nullable);
	ck_assert_str_eq(c->ref_table, "shop.customers");
	ck_assert_str_eq(c->ref_column, "id");
	ck_assert_str_eq(c->ref_on_delete, "set null");

	c = &op->u.create_table.columns[2];
	ck_assert_str_eq(c->name, "code");
	ck_assert(c->unique);
	ck_assert_str_eq(c->check, "length(code) > 2");
	ck_assert_str_eq(c->default_expr, "'X'");
	ck_assert_str_eq(c->comment, "Public order code");

	c = &op->u.create_table.columns[3];
	ck_assert_str_eq(c->name, "my \"odd\" column");
	ck_assert_str_eq(c->type, "numeric(10,2)");
	ck_assert_str_eq(c->default_expr, "0");

	assert_strlist(&op->u.create_table.primary_key, (const char *[]) {"id"}, 1);
	ck_assert_uint_eq(op->u.create_table.n_constraints, 4);
	k = &op->u.create_table.constraints[0];
	ck_assert_str_eq(k->name, "orders_code_check");
	ck_assert_int_eq(k->kind, CONSTRAINT_CHECK);
	ck_assert_str_eq(k->check, "code <> ''");
	k = &op->u.create_table.constraints[1];
	ck_assert_int_eq(k->kind, CONSTRAINT_FOREIGN_KEY);
	assert_strlist(&k->columns, (const char *[]) {"customer_id"}, 1);
	ck_assert_str_eq(k->ref_table, "shop.customers");
	assert_strlist(&k->ref_columns, (const char *[]) {"id"}, 1);
	ck_assert_str_eq(k->on_delete, "cascade");
	ck_assert_str_eq(k->on_update, "no action");
	k = &op->u.create_table.constraints[2];
	ck_assert_int_eq(k->kind, CONSTRAINT_UNIQUE);
	assert_strlist(&k->columns, (const char *[]) {"code", "customer_id"}, 2);
	k = &op->u.create_table.constraints[3];
	ck_assert_int_eq(k->kind, CONSTRAINT_PRIMARY_KEY);
	assert_strlist(&k->columns, (const char *[]) {"id"}, 1);
	ck_assert_int_eq(strncmp(m.checksum, "sha256:", 7), 0);
	ck_assert_uint_eq(strlen(m.checksum), 7 + 64);
	migration_free(&m);
}
END_TEST

START_TEST(test_drop_and_rename_table)
{
	Migration	m;

	load_fixture("0002_drop_table.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_DROP_TABLE);
	ck_assert_str_eq(m.ops[0].u.drop_table.name, "legacy.old_orders");
	/* unsafe_ok inside the fields */
	ck_assert_str_eq(m.ops[0].unsafe_ok, "nobody reads it since 2024");
	ck_assert_ptr_null(m.description);
	migration_free(&m);

	load_fixture("0003_rename_table.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_RENAME_TABLE);
	ck_assert_str_eq(m.ops[0].u.rename_table.from, "orders");
	ck_assert_str_eq(m.ops[0].u.rename_table.to, "purchases");
	/* unsafe_ok next to the operation key */
	ck_assert_str_eq(m.ops[0].unsafe_ok, "old code is gone");
	migration_free(&m);
}
END_TEST

START_TEST(test_add_column)
{
	Migration	m;
	const ColumnDef *c;

	load_fixture("0004_add_column.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_ADD_COLUMN);
	ck_assert_str_eq(m.ops[0].u.add_column.table, "public.orders");
	ck_assert_str_eq(m.ops[0].u.add_column.backfill,
					 "CASE WHEN paid THEN 'paid' ELSE 'new' END");
	c = &m.ops[0].u.add_column.column;
	ck_assert_str_eq(c->name, "status");
	ck_assert_str_eq(c->type, "varchar(20)");
	ck_assert(!c->nullable);
	ck_assert_str_eq(c->default_expr, "'new'");
	ck_assert(!c->unique);
	ck_assert(!c->primary_key);
	ck_assert_str_eq(c->ref_table, "statuses");
	ck_assert_str_eq(c->ref_column, "code");
	ck_assert_str_eq(c->ref_on_delete, "restrict");
	ck_assert_str_eq(c->check, "status <> ''");
	ck_assert_str_eq(c->comment, "Order status");
	migration_free(&m);
}
END_TEST

START_TEST(test_drop_and_rename_column)
{
	Migration	m;

	load_fixture("0005_drop_column.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_DROP_COLUMN);
	ck_assert_str_eq(m.ops[0].u.drop_column.table, "orders");
	ck_assert_str_eq(m.ops[0].u.drop_column.column, "legacy_flag");
	migration_free(&m);

	load_fixture("0006_rename_column.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_RENAME_COLUMN);
	ck_assert_str_eq(m.ops[0].u.rename_column.table, "orders");
	ck_assert_str_eq(m.ops[0].u.rename_column.from, "amount");
	ck_assert_str_eq(m.ops[0].u.rename_column.to, "total");
	migration_free(&m);
}
END_TEST

START_TEST(test_alter_column)
{
	Migration	m;
	const Operation *op;

	load_fixture("0007_alter_column.yaml", &m);
	ck_assert_uint_eq(m.n_ops, 3);
	op = &m.ops[0];
	ck_assert_int_eq(op->kind, OP_ALTER_COLUMN);
	ck_assert_str_eq(op->u.alter_column.table, "orders");
	ck_assert_str_eq(op->u.alter_column.column, "total");
	ck_assert_str_eq(op->u.alter_column.type, "numeric(12,2)");
	ck_assert_str_eq(op->u.alter_column.using_expr, "total::numeric(12,2)");
	ck_assert_int_eq(op->u.alter_column.nullable, TRI_FALSE);
	ck_assert_int_eq(op->u.alter_column.default_change, DEFAULT_SET);
	ck_assert_str_eq(op->u.alter_column.default_expr, "0");
	op = &m.ops[1];
	ck_assert_int_eq(op->index, 1);
	ck_assert_ptr_null(op->u.alter_column.type);
	ck_assert_int_eq(op->u.alter_column.nullable, TRI_UNSET);
	ck_assert_int_eq(op->u.alter_column.default_change, DEFAULT_DROP);
	ck_assert_ptr_null(op->u.alter_column.default_expr);
	op = &m.ops[2];
	ck_assert_int_eq(op->u.alter_column.nullable, TRI_TRUE);
	ck_assert_int_eq(op->u.alter_column.default_change, DEFAULT_KEEP);
	migration_free(&m);
}
END_TEST

START_TEST(test_backfill)
{
	Migration	m;
	const Operation *op;

	load_fixture("0008_backfill.yaml", &m);
	op = &m.ops[0];
	ck_assert_int_eq(op->kind, OP_BACKFILL);
	ck_assert_str_eq(op->u.backfill.table, "orders");
	ck_assert_uint_eq(op->u.backfill.set.n, 2);
	/* file order is kept */
	ck_assert_str_eq(op->u.backfill.set.items[0].key, "total_cents");
	ck_assert_str_eq(op->u.backfill.set.items[0].expr, "(total * 100)::bigint");
	ck_assert_int_eq(op->u.backfill.set.items[0].pos.line, 5);
	ck_assert_str_eq(op->u.backfill.set.items[1].key, "currency");
	ck_assert_str_eq(op->u.backfill.set.items[1].expr, "'EUR'");
	ck_assert_str_eq(op->u.backfill.where, "total_cents IS NULL");
	ck_assert_int_eq(op->u.backfill.batch_size, 5000);
	ck_assert_int_eq(op->u.backfill.batch_delay_ms, 50);
	ck_assert_uint_eq(op->u.backfill.down.n, 1);
	ck_assert_str_eq(op->u.backfill.down.items[0].key, "total_cents");
	ck_assert_str_eq(op->u.backfill.down.items[0].expr, "NULL");
	migration_free(&m);

	/* the defaults: the settings decide */
	load_text("operations:\n  - backfill: {table: t, set: {a: 1}}\n", &m);
	ck_assert_int_eq(m.ops[0].u.backfill.batch_size, 0);
	ck_assert_int_eq(m.ops[0].u.backfill.batch_delay_ms, -1);
	ck_assert_ptr_null(m.ops[0].u.backfill.where);
	ck_assert_uint_eq(m.ops[0].u.backfill.down.n, 0);
	ck_assert_str_eq(m.ops[0].u.backfill.set.items[0].expr, "1");
	migration_free(&m);
}
END_TEST

/* Elements as PostgreSQL writes them, and the mapping form. */
START_TEST(test_index_elements)
{
	Migration	m;
	const IndexElem *e;

	load_text("operations:\n  - create_index:\n      table: t\n      name: i\n"
			  "      columns:\n"
			  "        - created_at DESC\n"
			  "        - created_at DESC NULLS LAST\n"
			  "        - title text_pattern_ops\n"
			  "        - name COLLATE \"C\"\n"
			  "        - lower(email)\n"
			  "        - (a + b) DESC\n"
			  "        - CreatedAt asc nulls first\n"
			  "        - '\"My Col\" DESC'\n"
			  "        - {column: 'odd name, really', order: desc, nulls: last, "
			  "opclass: public.my_ops, collate: en_US}\n"
			  "        - {expression: \"coalesce(a, 'x')\", order: ASC}\n"
			  "        - order\n"
			  "      with: {fillfactor: 70, deduplicate_items: off}\n"
			  "      unique: true\n      nulls_not_distinct: true\n", &m);
	ck_assert_uint_eq(m.ops[0].u.create_index.columns.n, 11);
	e = m.ops[0].u.create_index.columns.items;
	ck_assert_str_eq(e[0].column, "created_at");
	ck_assert_str_eq(e[0].order, "desc");
	ck_assert_ptr_null(e[0].nulls);
	ck_assert_str_eq(e[0].text, "created_at DESC");
	ck_assert_str_eq(e[1].nulls, "last");
	ck_assert_str_eq(e[2].column, "title");
	ck_assert_str_eq(e[2].opclass, "text_pattern_ops");
	ck_assert_ptr_null(e[2].order);
	ck_assert_str_eq(e[3].collate, "C");
	ck_assert_str_eq(e[4].expression, "lower(email)");
	ck_assert_str_eq(e[5].expression, "(a + b)");
	ck_assert_str_eq(e[5].order, "desc");
	/* an unquoted column name is taken literally, as a lone name is */
	ck_assert_str_eq(e[6].column, "CreatedAt");
	ck_assert_str_eq(e[6].order, "asc");
	ck_assert_str_eq(e[6].nulls, "first");
	ck_assert_str_eq(e[7].column, "My Col");
	ck_assert_str_eq(e[8].column, "odd name, really");
	ck_assert_ptr_null(e[8].text);
	ck_assert_str_eq(e[8].opclass, "public.my_ops");
	ck_assert_str_eq(e[8].collate, "en_US");
	ck_assert_str_eq(e[9].expression, "coalesce(a, 'x')");
	ck_assert_str_eq(e[9].order, "asc");
	ck_assert_str_eq(e[10].column, "order");
	ck_assert_uint_eq(m.ops[0].u.create_index.with.n, 2);
	ck_assert_str_eq(m.ops[0].u.create_index.with.items[0].key, "fillfactor");
	ck_assert_str_eq(m.ops[0].u.create_index.with.items[0].expr, "70");
	ck_assert(m.ops[0].u.create_index.nulls_not_distinct);
	migration_free(&m);

	/* include on unique constraints, named inline constraints */
	load_text("operations:\n  - add_constraint: {table: t, name: c, unique: [a], include: [b, c]}\n"
			  "  - create_table:\n      name: x\n      columns:\n"
			  "        - {name: p, type: int, references: {table: t, name: x_p_fk}, "
			  "check: {name: x_p_positive, expr: p > 0}}\n"
			  "      constraints:\n        - {name: x_u, unique: [p], include: [p]}\n", &m);
	assert_strlist(&m.ops[0].u.add_constraint.constraint.include,
				   (const char *[]) {"b", "c"}, 2);
	ck_assert_str_eq(m.ops[1].u.create_table.columns[0].ref_name, "x_p_fk");
	ck_assert_str_eq(m.ops[1].u.create_table.columns[0].check_name, "x_p_positive");
	ck_assert_str_eq(m.ops[1].u.create_table.columns[0].check, "p > 0");
	ck_assert_uint_eq(m.ops[1].u.create_table.constraints[0].include.n, 1);
	migration_free(&m);
}
END_TEST

START_TEST(test_indexes)
{
	Migration	m;
	const Operation *op;

	load_fixture("0009_create_index.yaml", &m);
	op = &m.ops[0];
	ck_assert_int_eq(op->kind, OP_CREATE_INDEX);
	ck_assert_str_eq(op->u.create_index.table, "orders");
	ck_assert_str_eq(op->u.create_index.name, "orders_customer_created_idx");
	ck_assert_uint_eq(op->u.create_index.columns.n, 3);
	ck_assert_str_eq(op->u.create_index.columns.items[0].column, "customer_id");
	ck_assert_str_eq(op->u.create_index.columns.items[1].expression, "lower(email)");
	ck_assert_ptr_null(op->u.create_index.columns.items[1].column);
	ck_assert_str_eq(op->u.create_index.columns.items[2].column, "created_at");
	ck_assert(op->u.create_index.unique);
	ck_assert_str_eq(op->u.create_index.method, "btree");
	ck_assert_str_eq(op->u.create_index.where, "deleted_at IS NULL");
	assert_strlist(&op->u.create_index.include, (const char *[]) {"total"}, 1);
	migration_free(&m);

	load_text("operations:\n  - create_index: {table: t, name: i, columns: [a]}\n", &m);
	ck_assert(!m.ops[0].u.create_index.unique);
	ck_assert_ptr_null(m.ops[0].u.create_index.method);
	ck_assert_uint_eq(m.ops[0].u.create_index.include.n, 0);
	migration_free(&m);

	load_fixture("0010_drop_index.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_DROP_INDEX);
	ck_assert_str_eq(m.ops[0].u.drop_index.name, "public.orders_old_idx");
	migration_free(&m);
}
END_TEST

START_TEST(test_constraints)
{
	Migration	m;
	const ConstraintDef *k;

	load_fixture("0011_add_constraint.yaml", &m);
	ck_assert_uint_eq(m.n_ops, 4);
	ck_assert_int_eq(m.ops[0].kind, OP_ADD_CONSTRAINT);
	ck_assert_str_eq(m.ops[0].u.add_constraint.table, "order_items");
	k = &m.ops[0].u.add_constraint.constraint;
	ck_assert_str_eq(k->name, "order_items_order_fk");
	ck_assert_int_eq(k->kind, CONSTRAINT_FOREIGN_KEY);
	assert_strlist(&k->columns, (const char *[]) {"order_id", "tenant_id"}, 2);
	ck_assert_str_eq(k->ref_table, "orders");
	assert_strlist(&k->ref_columns, (const char *[]) {"id", "tenant_id"}, 2);
	ck_assert_str_eq(k->on_delete, "cascade");
	ck_assert_str_eq(k->on_update, "set default");
	k = &m.ops[1].u.add_constraint.constraint;
	ck_assert_int_eq(k->kind, CONSTRAINT_CHECK);
	ck_assert_str_eq(k->check, "total >= 0");
	ck_assert_uint_eq(k->columns.n, 0);
	k = &m.ops[2].u.add_constraint.constraint;
	ck_assert_int_eq(k->kind, CONSTRAINT_UNIQUE);
	assert_strlist(&k->columns, (const char *[]) {"code"}, 1);
	k = &m.ops[3].u.add_constraint.constraint;
	ck_assert_int_eq(k->kind, CONSTRAINT_PRIMARY_KEY);
	ck_assert_str_eq(k->name, "orders_pkey");
	migration_free(&m);

	load_fixture("0012_drop_constraint.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_DROP_CONSTRAINT);
	ck_assert_str_eq(m.ops[0].u.drop_constraint.table, "orders");
	ck_assert_str_eq(m.ops[0].u.drop_constraint.name, "orders_total_check");
	migration_free(&m);
}
END_TEST

START_TEST(test_rls_and_policies)
{
	Migration	m;
	const Operation *op;

	load_fixture("0013_enable_rls.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_ENABLE_RLS);
	ck_assert_str_eq(m.ops[0].u.rls.table, "orders");
	ck_assert(m.ops[0].u.rls.force);
	ck_assert_int_eq(m.ops[1].kind, OP_DISABLE_RLS);
	ck_assert_str_eq(m.ops[1].u.rls.table, "customers");
	ck_assert(!m.ops[1].u.rls.force);
	migration_free(&m);

	load_fixture("0014_create_policy.yaml", &m);
	op = &m.ops[0];
	ck_assert_int_eq(op->kind, OP_CREATE_POLICY);
	ck_assert_str_eq(op->u.policy.table, "orders");
	ck_assert_str_eq(op->u.policy.name, "tenant_isolation");
	ck_assert_str_eq(op->u.policy.command, "select");
	assert_strlist(&op->u.policy.roles, (const char *[]) {"app_user", "reporting role"}, 2);
	ck_assert_str_eq(op->u.policy.using_expr,
					 "tenant_id = current_setting('app.current_tenant')::int");
	ck_assert_str_eq(op->u.policy.with_check,
					 "tenant_id = current_setting('app.current_tenant')::int");
	ck_assert(!op->u.policy.permissive);
	op = &m.ops[1];
	ck_assert_int_eq(op->kind, OP_DROP_POLICY);
	ck_assert_str_eq(op->u.policy.name, "old_policy");
	ck_assert_ptr_null(op->u.policy.command);
	ck_assert_uint_eq(op->u.policy.roles.n, 0);
	ck_assert(op->u.policy.permissive);
	migration_free(&m);
}
END_TEST

START_TEST(test_multi_tenancy)
{
	Migration	m;
	const Operation *op;

	load_fixture("0015_multi_tenancy.yaml", &m);
	op = &m.ops[0];
	ck_assert_int_eq(op->kind, OP_MULTI_TENANCY);
	ck_assert_str_eq(op->u.multi_tenancy.tenant_table, "accounts");
	ck_assert_str_eq(op->u.multi_tenancy.column, "account_id");
	ck_assert_str_eq(op->u.multi_tenancy.type, "bigint");
	ck_assert_str_eq(op->u.multi_tenancy.default_tenant_id, "1");
	ck_assert_str_eq(op->u.multi_tenancy.default_tenant_name, "Default Tenant");
	assert_strlist(&op->u.multi_tenancy.tables,
				   (const char *[]) {"customers", "orders", "order_items"}, 3);
	ck_assert(!op->u.multi_tenancy.all);
	ck_assert_uint_eq(op->u.multi_tenancy.n_tenant_from, 1);
	ck_assert_str_eq(op->u.multi_tenancy.tenant_from[0].table, "order_items");
	ck_assert_str_eq(op->u.multi_tenancy.tenant_from[0].parent, "orders");
	ck_assert_str_eq(op->u.multi_tenancy.tenant_from[0].via, "order_id");
	ck_assert_int_eq(op->u.multi_tenancy.tenant_from[0].pos.line, 9);
	ck_assert(!op->u.multi_tenancy.foreign_key);
	ck_assert(!op->u.multi_tenancy.index);
	ck_assert_str_eq(op->u.multi_tenancy.primary_key, "include_tenant");
	ck_assert_str_eq(op->u.multi_tenancy.rls_setting, "app.current_tenant");
	ck_assert_str_eq(op->u.multi_tenancy.rls_admin_role, "admin_role");
	migration_free(&m);

	/* the defaults, and all: true with exclude */
	load_text("operations:\n"
			  "  - multi_tenancy:\n"
			  "      default_tenant: {id: acme, name: Acme}\n"
			  "      all: true\n"
			  "      exclude: [audit_log]\n", &m);
	op = &m.ops[0];
	ck_assert_str_eq(op->u.multi_tenancy.tenant_table, "tenants");
	ck_assert_str_eq(op->u.multi_tenancy.column, "tenant_id");
	ck_assert_str_eq(op->u.multi_tenancy.type, "integer");
	ck_assert_str_eq(op->u.multi_tenancy.default_tenant_id, "acme");
	ck_assert(op->u.multi_tenancy.all);
	assert_strlist(&op->u.multi_tenancy.exclude, (const char *[]) {"audit_log"}, 1);
	ck_assert_uint_eq(op->u.multi_tenancy.tables.n, 0);
	ck_assert(op->u.multi_tenancy.foreign_key);
	ck_assert(op->u.multi_tenancy.index);
	ck_assert_ptr_null(op->u.multi_tenancy.primary_key);
	ck_assert_ptr_null(op->u.multi_tenancy.rls_setting);
	ck_assert_ptr_null(op->u.multi_tenancy.rls_admin_role);
	migration_free(&m);
}
END_TEST

START_TEST(test_sql)
{
	Migration	m;

	load_fixture("0016_sql.yaml", &m);
	ck_assert_int_eq(m.ops[0].kind, OP_SQL);
	ck_assert_str_eq(m.ops[0].u.sql.up,
					 "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
					 "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n");
	ck_assert_str_eq(m.ops[0].u.sql.down, "DROP FUNCTION f();");
	ck_assert(!m.ops[0].u.sql.transactional);
	ck_assert_str_eq(m.ops[1].u.sql.up, "SELECT 1");
	ck_assert_ptr_null(m.ops[1].u.sql.down);
	ck_assert(m.ops[1].u.sql.transactional);
	migration_free(&m);
}
END_TEST

START_TEST(test_settings)
{
	Migration	m;
	const Settings *s;
	Settings	eff;

	load_fixture("0017_settings.yaml", &m);
	s = &m.settings;
	ck_assert_str_eq(m.description, "Every setting");
	ck_assert_int_eq(s->lock_timeout_ms, 3000);
	ck_assert_int_eq(s->lock_retries, 7);
	ck_assert_int_eq(s->statement_timeout_ms, 5 * 60 * 1000);
	ck_assert_int_eq(s->batch_size, 2500);
	ck_assert_int_eq(s->batch_time_ms, 150);
	ck_assert_int_eq(s->batch_delay_ms, 3600 * 1000);
	ck_assert_int_eq(s->max_replica_lag_ms, 30000);
	ck_assert_uint_eq(s->given, SETTING_LOCK_TIMEOUT | SETTING_LOCK_RETRIES |
					  SETTING_STATEMENT_TIMEOUT | SETTING_BATCH_SIZE | SETTING_BATCH_TIME |
					  SETTING_BATCH_DELAY | SETTING_MAX_REPLICA_LAG);
	migration_free(&m);

	/* batch_size: auto is given, and means 0 */
	load_text("settings: {batch_size: auto, statement_timeout: 0}\n"
			  "operations: [drop_index: {name: i}]\n", &m);
	ck_assert_uint_eq(m.settings.given, SETTING_BATCH_SIZE | SETTING_STATEMENT_TIMEOUT);
	ck_assert_int_eq(m.settings.batch_size, 0);
	ck_assert_int_eq(m.settings.statement_timeout_ms, 0);
	/* overlay copies only what was given */
	settings_defaults(&eff);
	eff.batch_size = 99;
	eff.statement_timeout_ms = 99;
	settings_overlay(&eff, &m.settings);
	ck_assert_int_eq(eff.batch_size, 0);
	ck_assert_int_eq(eff.statement_timeout_ms, 0);
	ck_assert_int_eq(eff.lock_retries, 10);
	ck_assert_uint_eq(eff.given, SETTING_BATCH_SIZE | SETTING_STATEMENT_TIMEOUT);
	migration_free(&m);
}
END_TEST

START_TEST(test_settings_defaults)
{
	Settings	s,
				src;

	memset(&s, 0x7f, sizeof s);
	settings_defaults(&s);
	ck_assert_int_eq(s.lock_timeout_ms, 2000);
	ck_assert_int_eq(s.lock_retries, 10);
	ck_assert_int_eq(s.statement_timeout_ms, 0);
	ck_assert_int_eq(s.batch_size, 0);
	ck_assert_int_eq(s.batch_time_ms, 200);
	ck_assert_int_eq(s.batch_delay_ms, 0);
	ck_assert_int_eq(s.max_replica_lag_ms, 10000);
	ck_assert_uint_eq(s.given, 0);

	memset(&src, 0, sizeof src);
	src.lock_retries = 3;
	src.max_replica_lag_ms = 1;
	src.batch_time_ms = 999;	/* not given: must not be copied */
	src.given = SETTING_LOCK_RETRIES | SETTING_MAX_REPLICA_LAG;
	settings_overlay(&s, &src);
	ck_assert_int_eq(s.lock_retries, 3);
	ck_assert_int_eq(s.max_replica_lag_ms, 1);
	ck_assert_int_eq(s.batch_time_ms, 200);
	ck_assert_uint_eq(s.given, SETTING_LOCK_RETRIES | SETTING_MAX_REPLICA_LAG);
}
END_TEST

START_TEST(test_scalars_and_identifiers)
{
	Migration	m;
	char		name[200];

	/* expressions may be plain numbers or booleans, taken as written */
	load_text("operations:\n"
			  "  - alter_column: {table: t, column: c, default: 1.50}\n"
			  "  - alter_column: {table: t, column: d, default: false}\n"
			  "  - add_column: {table: 'my \"odd\" table', column: {name: \"x y\", type: int}}\n", &m);
	ck_assert_str_eq(m.ops[0].u.alter_column.default_expr, "1.50");
	ck_assert_str_eq(m.ops[1].u.alter_column.default_expr, "false");
	ck_assert_str_eq(m.ops[2].u.add_column.table, "my \"odd\" table");
	ck_assert_str_eq(m.ops[2].u.add_column.column.name, "x y");
	migration_free(&m);

	/* 63 bytes per part of a qualified name is the limit, not 63 in all */
	snprintf(name, sizeof name, "operations:\n  - drop_table: {name: %.63s.%.63s}\n",
			 "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss",
			 "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt");
	load_text(name, &m);
	ck_assert_uint_eq(strlen(m.ops[0].u.drop_table.name), 127);
	migration_free(&m);

	/* !!str makes a number a string; explicit standard tags are fine */
	load_text("operations: !!seq\n  - drop_table: !!map {name: !!str 42}\n", &m);
	ck_assert_str_eq(m.ops[0].u.drop_table.name, "42");
	migration_free(&m);

	/* an explicit document, and tabs inside a block scalar are content */
	load_text("---\noperations:\n  - sql:\n      up: |\n        SELECT\t1;\n...\n", &m);
	ck_assert_str_eq(m.ops[0].u.sql.up, "SELECT\t1;\n");
	migration_free(&m);

	/* CRLF line endings and a UTF-8 byte order mark */
	load_text("\xef\xbb\xbf" "operations:\r\n  - drop_table: {name: b\xc3\xa4" "ckerei}\r\n", &m);
	ck_assert_str_eq(m.ops[0].u.drop_table.name, "b\xc3\xa4" "ckerei");
	migration_free(&m);
}
END_TEST

START_TEST(test_op_kind_names)
{
	static const char *const names[OP__COUNT] = {
		"create_table", "drop_table", "rename_table", "add_column", "drop_column",
		"rename_column", "alter_column", "backfill", "create_index", "drop_index",
		"add_constraint", "drop_constraint", "enable_rls", "disable_rls",
		"create_policy", "drop_policy", "multi_tenancy", "sql",
		"add_partitions", "attach_partition", "detach_partition", "partition_table",
		"create_view", "replace_view", "drop_view", "create_materialized_view",
		"refresh_materialized_view", "replace_materialized_view", "drop_materialized_view",
		"create_type", "drop_type", "add_enum_value", "comment", "set_replica_identity",
		"grant", "revoke", "create_role"
	};

	for (int i = 0; i < OP__COUNT; i++)
	{
		ck_assert_str_eq(op_kind_name((OpKind) i), names[i]);
		ck_assert_int_eq(op_kind_from_name(names[i]), i);
	}
	ck_assert_int_eq(op_kind_from_name("add_colum"), -1);
	ck_assert_int_eq(op_kind_from_name(""), -1);
	ck_assert_int_eq(op_kind_from_name("ADD_COLUMN"), -1);
}
END_TEST

/* ---- bad inputs ---- */

#define BAD_PATH "bad/0001_bad.yaml"
#define OPS "operations:\n"

typedef struct BadCase
{
	const char *name;
	const char *text;
	size_t		len;			/* 0: strlen(text) */
	const char *at;				/* "line:col" */
	const char *phrase;
} BadCase;

static const BadCase bad_cases[] = {
	/* YAML syntax */
	{"unclosed flow mapping", OPS "  - drop_table: {name: x\n", 0, "3:1", "invalid YAML"},
	{"bad indentation", OPS "  - drop_table:\n      name: x\n     to: y\n", 0, "4:6", "invalid YAML"},
	{"unclosed quote", OPS "  - drop_table: {name: \"x}\n", 0, "3:1", "invalid YAML"},
	{"tab indentation", OPS "\t- drop_table: {name: x}\n", 0, "2:1",
	"tab character used for indentation"},
	{"tab inside indentation", OPS "  - drop_table:\n  \t  name: x\n", 0, "3:3",
	"tab character used for indentation"},
	{"control character", "description: a\x01" "b\n" OPS "  - drop_table: {name: x}\n", 0,
	"1:15", "control characters are not allowed"},

	/* the bytes */
	{"empty file", "", 0, "1:1", "the file is empty"},
	{"only comments", "# nothing here\n\n   # at all\n", 0, "1:1", "the file is empty"},
	{"invalid UTF-8", OPS "  - drop_table: {name: \"caf\xe9\"}\n", 0, "2:28",
	"invalid UTF-8 (byte 0xe9)"},
	{"invalid UTF-8 after multibyte", "description: \"\xc3\xa9\xff\"\n", 0, "1:16",
	"invalid UTF-8 (byte 0xff)"},
	{"overlong UTF-8", "description: \xc0\xaf\n", 0, "1:14", "invalid UTF-8 (byte 0xc0)"},
	{"UTF-8 surrogate", "description: \xed\xa0\x80\n", 0, "1:14", "invalid UTF-8"},
	{"truncated UTF-8", "description: \xe2\x82", 0, "1:14", "invalid UTF-8"},
	{"NUL byte", OPS "  - drop_table: {name: x}\0\n", sizeof(OPS "  - drop_table: {name: x}\0\n") - 1,
	"2:26", "NUL byte"},
	{"NUL escape", OPS "  - drop_table: {name: \"a\\0b\"}\n", 0, "2:24",
	"NUL character in a string"},

	/* YAML features that are refused */
	{"anchor", "x: &a 1\n" OPS "  - drop_table: {name: *a}\n", 0, "1:4",
	"aliases are not allowed"},
	{"alias", OPS "  - drop_table: {name: *a}\n", 0, "2:24", "aliases are not allowed"},
	{"anchor on a list", "operations: &ops\n  - drop_table: {name: x}\n", 0, "1:13",
	"aliases are not allowed"},
	{"billion laughs", "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", 0, "1:4",
	"aliases are not allowed"},
	{"custom tag", OPS "  - drop_table: {name: !secret x}\n", 0, "2:24",
	"unsupported tag \"!secret\""},
	{"binary tag", "operations: !!binary x\n", 0, "1:13", "unsupported tag \"!!binary\""},
	{"map tag on a list", "operations: !!map []\n", 0, "1:13", "unsupported tag \"!!map\""},
	{"tag mismatch", OPS "  - drop_table: {name: !!int x}\n", 0, "2:24",
	"does not match its tag \"!!int\""},
	{"two documents", OPS "  - drop_table: {name: x}\n---\n" OPS "  - drop_table: {name: y}\n",
	0, "3:1", "more than one YAML document"},
	{"complex key", "? [a]\n: b\n" OPS "  - drop_table: {name: x}\n", 0, "1:3",
	"a mapping key must be a plain value"},
	{"duplicate top-level key", OPS "  - drop_table: {name: a}\n" OPS "  - drop_table: {name: b}\n",
	0, "3:1", "duplicate key \"operations\" (first at line 1)"},
	{"duplicate nested key", OPS "  - add_column:\n      table: t\n"
		"      column: {name: c, type: int, name: d}\n", 0, "4:36",
	"duplicate key \"name\" (first at line 4)"},
	{"duplicate key, quoted", OPS "  - drop_table:\n      name: a\n      \"name\": b\n", 0, "4:7",
	"duplicate key \"name\" (first at line 3)"},

	/* the shape of the file */
	{"top level is a list", "- drop_table: {name: x}\n", 0, "1:1",
	"expected a mapping with \"operations\" at the top level, got a list"},
	{"missing operations", "description: nothing\n", 0, "1:1",
	"migration: missing required field \"operations\""},
	{"empty operations", "operations: []\n", 0, "1:13",
	"\"operations\" must not be an empty list"},
	{"operations not a list", "operations: {drop_table: {name: x}}\n", 0, "1:13",
	"\"operations\": expected a list, got a mapping"},
	{"unknown top-level key", "operation:\n  - drop_table: {name: x}\n", 0, "1:1",
	"migration: unknown field \"operation\" (did you mean \"operations\"?)"},
	{"description is a list", "description: [a]\n" OPS "  - drop_table: {name: x}\n", 0, "1:14",
	"\"description\": expected a text, got a list"},

	/* operations */
	{"unknown operation", OPS "  - add_colum: {table: t}\n", 0, "2:5",
	"unknown operation \"add_colum\" (did you mean \"add_column\"?)"},
	{"unknown operation, prefix", OPS "  - multi: {}\n", 0, "2:5",
	"unknown operation \"multi\" (did you mean \"multi_tenancy\"?)"},
	{"unknown operation, no guess", OPS "  - frobnicate: {}\n", 0, "2:5",
	"unknown operation \"frobnicate\""},
	{"operation not a mapping", OPS "  - drop_table\n", 0, "2:5",
	"operations item 1: expected a mapping like"},
	{"operation fields empty", OPS "  - drop_table:\n", 0, "2:16",
	"drop_table: expected a mapping of fields, got an empty value"},
	{"two operations in one item", OPS "  - drop_table: {name: a}\n    drop_index: {name: b}\n", 0,
	"3:5", "one operation per list item"},
	{"only unsafe_ok", OPS "  - unsafe_ok: why\n", 0, "2:5", "no operation in this item"},
	{"unsafe_ok twice", OPS "  - drop_table: {name: a, unsafe_ok: x}\n    unsafe_ok: y\n", 0,
	"2:38", "\"unsafe_ok\" is given twice"},
	{"unsafe_ok without a reason", OPS "  - drop_table: {name: a, unsafe_ok: true}\n", 0, "2:38",
	"drop_table: \"unsafe_ok\" takes the reason why the operation is safe here, not true"},
	{"unsafe_ok not a string", OPS "  - drop_table: {name: a}\n    unsafe_ok: [x]\n", 0, "3:16",
	"drop_table: \"unsafe_ok\": expected a string, got a list"},
	{"unknown field", OPS "  - add_column:\n      tabel: t\n      column: {name: c, type: int}\n",
	0, "3:7", "add_column: unknown field \"tabel\" (did you mean \"table\"?)"},
	{"unknown column field", OPS "  - add_column: {table: t, column: {name: c, typ: int}}\n", 0,
	"2:46", "add_column.column: unknown field \"typ\" (did you mean \"type\"?)"},
	{"missing field", OPS "  - add_column:\n      column: {name: c, type: int}\n", 0, "2:5",
	"add_column: missing required field \"table\""},
	{"missing column type", OPS "  - add_column: {table: t, column: {name: c}}\n", 0, "2:36",
	"add_column.column: missing required field \"type\""},
	{"missing rename target", OPS "  - rename_column: {table: t, from: a}\n", 0, "2:5",
	"rename_column: missing required field \"to\""},
	{"string expected, list", OPS "  - drop_table: {name: [a]}\n", 0, "2:24",
	"drop_table: \"name\": expected a string, got a list"},
	{"string expected, number", OPS "  - drop_table: {name: 5}\n", 0, "2:24",
	"expected a string, got a number (put it in quotes"},
	{"string expected, empty value", OPS "  - drop_table: {name: }\n", 0, "2:24",
	"expected a string, got an empty value"},
	{"type is a number", OPS "  - add_column: {table: t, column: {name: c, type: 5}}\n", 0, "2:52",
	"\"type\": expected a string, got a number"},
	{"empty identifier", OPS "  - drop_table: {name: \"\"}\n", 0, "2:24",
	"\"name\" must not be empty"},
	{"identifier too long", OPS "  - drop_column: {table: t, column: "
		"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc}\n", 0, "2:37",
	"is longer than 63 bytes"},
	{"schema part too long", OPS "  - drop_table: {name: "
		"ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss.t}\n", 0, "2:24",
	"is longer than 63 bytes"},
	{"list expected", OPS "  - create_index: {table: t, name: i, columns: c}\n", 0, "2:48",
	"create_index: \"columns\": expected a list, got a string"},
	{"list item not a string", OPS "  - create_index: {table: t, name: i, columns: [a, {b: c}]}\n",
	0, "2:53", "create_index.columns[2]: unknown field \"b\""},
	{"empty index columns", OPS "  - create_index: {table: t, name: i, columns: []}\n", 0, "2:48",
	"\"columns\" must not be an empty list"},
	{"mapping expected", OPS "  - add_column: {table: t, column: c}\n", 0, "2:36",
	"\"column\": expected a mapping, got a string"},
	{"boolean yes", OPS "  - enable_rls: {table: t, force: yes}\n", 0, "2:35",
	"expected true or false, got \"yes\""},
	{"boolean on", OPS "  - sql: {up: x, transactional: on}\n", 0, "2:33",
	"expected true or false, got \"on\""},
	{"boolean True", OPS "  - enable_rls: {table: t, force: True}\n", 0, "2:35",
	"expected true or false, got \"True\""},
	{"boolean quoted", OPS "  - enable_rls: {table: t, force: \"true\"}\n", 0, "2:35",
	"expected true or false, got \"true\" (without quotes)"},
	{"boolean list", OPS "  - enable_rls: {table: t, force: [true]}\n", 0, "2:35",
	"expected true or false, got a list"},
	{"integer expected", OPS "  - backfill: {table: t, set: {a: 1}, batch_size: many}\n", 0, "2:51",
	"\"batch_size\": expected an integer, got a string"},
	{"zero batch size", OPS "  - backfill: {table: t, set: {a: 1}, batch_size: 0}\n", 0, "2:51",
	"must be a positive integer, got 0"},
	{"negative batch size setting", "settings:\n  batch_size: -5\n" OPS "  - drop_table: {name: x}\n",
	0, "2:15", "must be a positive integer, got -5"},
	{"batch size word", "settings:\n  batch_size: automatic\n" OPS "  - drop_table: {name: x}\n",
	0, "2:15", "expected a positive integer or auto"},
	{"zero lock retries", "settings:\n  lock_retries: 0\n" OPS "  - drop_table: {name: x}\n",
	0, "2:17", "must be an integer from 1 to 1000"},
	{"bad duration unit", "settings:\n  lock_timeout: 5x\n" OPS "  - drop_table: {name: x}\n",
	0, "2:17", "\"5x\" is not a duration"},
	{"negative duration", "settings:\n  batch_delay: -1s\n" OPS "  - drop_table: {name: x}\n",
	0, "2:16", "\"-1s\" is not a duration"},
	{"overflowing duration", "settings:\n  max_replica_lag: 99999999999999999999h\n" OPS
		"  - drop_table: {name: x}\n", 0, "2:20", "is not a duration"},
	{"fractional duration", "settings:\n  statement_timeout: 1.5s\n" OPS
		"  - drop_table: {name: x}\n", 0, "2:22", "is not a duration"},
	{"zero batch time", "settings:\n  batch_time: 0ms\n" OPS "  - drop_table: {name: x}\n",
	0, "2:15", "must be more than 0"},
	{"zero lock timeout", "settings:\n  lock_timeout: 0\n" OPS "  - drop_table: {name: x}\n",
	0, "2:17", "must be more than 0"},
	{"backfill bad delay", OPS "  - backfill: {table: t, set: {a: 1}, batch_delay: soon}\n", 0,
	"2:52", "\"soon\" is not a duration"},
	{"unknown setting", "settings:\n  lock_timout: 2s\n" OPS "  - drop_table: {name: x}\n", 0,
	"2:3", "migration.settings: unknown field \"lock_timout\" (did you mean \"lock_timeout\"?)"},
	{"settings not a mapping", "settings: fast\n" OPS "  - drop_table: {name: x}\n", 0, "1:11",
	"\"settings\": expected a mapping, got a string"},

	/* rules of particular operations */
	{"alter nothing", OPS "  - alter_column: {table: t, column: c}\n", 0, "2:5",
	"give at least one of \"type\", \"nullable\", \"default\""},
	{"alter using without type", OPS "  - alter_column: {table: t, column: c, using: x, nullable: false}\n",
	0, "2:41", "\"using\" is only allowed with \"type\""},
	{"backfill empty set", OPS "  - backfill: {table: t, set: {}}\n", 0, "2:31",
	"\"set\" must not be empty"},
	{"backfill set value empty", OPS "  - backfill: {table: t, set: {a: }}\n", 0, "2:35",
	"expected an SQL expression, got an empty value"},
	{"create_table empty columns", OPS "  - create_table: {name: t, columns: []}\n", 0, "2:38",
	"\"columns\" must not be an empty list"},
	{"create_table duplicate column", OPS "  - create_table:\n      name: t\n      columns:\n"
		"        - {name: a, type: int}\n        - {name: a, type: text}\n", 0, "6:11",
	"create_table: column \"a\" appears twice (first at line 5)"},
	{"create_table constraint unknown key", OPS "  - create_table:\n      name: t\n"
		"      columns: [{name: a, type: int}]\n      constraints: [{name: k, chek: a > 0}]\n", 0,
	"5:31", "create_table.constraints[1]: unknown field \"chek\" (did you mean \"check\"?)"},
	{"constraint two kinds", OPS "  - add_constraint: {table: t, name: n, check: x, unique: [a]}\n",
	0, "2:51", "\"check\" and \"unique\" cannot be combined"},
	{"constraint no kind", OPS "  - add_constraint: {table: t, name: n}\n", 0, "2:5",
	"add_constraint: missing one of \"check\", \"foreign_key\", \"unique\", \"primary_key\""},
	{"foreign key bad action", OPS "  - add_constraint:\n      table: t\n      name: n\n"
		"      foreign_key: {columns: [a], references: {table: p, columns: [id]}, on_delete: explode}\n",
	0, "5:85", "\"on_delete\": \"explode\" is not one of \"no action\""},
	{"foreign key column count", OPS "  - add_constraint:\n      table: t\n      name: n\n"
		"      foreign_key: {columns: [a, b], references: {table: p, columns: [id]}}\n", 0, "5:50",
	"2 column(s) cannot reference 1 column(s)"},
	{"foreign key without references", OPS "  - add_constraint:\n      table: t\n      name: n\n"
		"      foreign_key: {columns: [a]}\n", 0, "5:20",
	"add_constraint.foreign_key: missing required field \"references\""},
	{"column reference action", OPS "  - add_column: {table: t, column: {name: c, type: int, "
		"references: {table: p, on_delete: nothing}}}\n", 0, "2:91", "is not one of"},
	{"index method", OPS "  - create_index: {table: t, name: i, columns: [a], method: rtree}\n", 0,
	"2:61", "\"method\": \"rtree\" is not one of \"btree\", \"hash\""},
	{"policy command", OPS "  - create_policy: {table: t, name: p, command: upsert}\n", 0, "2:49",
	"\"command\": \"upsert\" is not one of \"all\", \"select\""},
	{"sql without up", OPS "  - sql: {down: x}\n", 0, "2:5", "sql: missing required field \"up\""},
	{"multi_tenancy tables and all", OPS "  - multi_tenancy:\n      default_tenant: {id: 1, name: a}\n"
		"      all: true\n      tables: [a]\n", 0, "5:7",
	"give either \"tables\" or \"all: true\", not both"},
	{"multi_tenancy no tables", OPS "  - multi_tenancy:\n      default_tenant: {id: 1, name: a}\n",
	0, "2:5", "missing required field \"tables\" (or \"all: true\")"},
	{"multi_tenancy no default tenant", OPS "  - multi_tenancy: {tables: [a]}\n", 0, "2:5",
	"multi_tenancy: missing required field \"default_tenant\""},
	{"multi_tenancy default tenant without name", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1}\n      tables: [a]\n", 0, "3:23",
	"multi_tenancy.default_tenant: missing required field \"name\""},
	{"multi_tenancy exclude without all", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      tables: [a]\n      exclude: [b]\n", 0, "5:7",
	"\"exclude\" is only allowed with \"all: true\""},
	{"multi_tenancy primary key", OPS "  - multi_tenancy:\n      default_tenant: {id: 1, name: a}\n"
		"      tables: [a]\n      primary_key: replace\n", 0, "5:20",
	"\"primary_key\": \"replace\" is not one of \"include_tenant\""},
	{"multi_tenancy rls without setting", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      tables: [a]\n      rls: {admin_role: admin}\n",
	0, "5:12", "multi_tenancy.rls: missing required field \"setting\""},
	{"multi_tenancy tenant_from unknown table", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      tables: [a]\n"
		"      tenant_from:\n        b: {table: a, via: a_id}\n", 0, "6:9",
	"table \"b\" is not listed in \"tables\""},
	{"multi_tenancy tenant_from excluded table", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      all: true\n      exclude: [b]\n"
		"      tenant_from:\n        b: {table: a, via: a_id}\n", 0, "7:9",
	"multi_tenancy.tenant_from: table \"b\" is excluded"},
	{"multi_tenancy tenant_from not a mapping", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      tables: [a, b]\n"
		"      tenant_from:\n        b: a\n", 0, "6:12",
	"multi_tenancy.tenant_from: table 1: expected a mapping {table, via}, got a string"},
	{"multi_tenancy tenant_from missing via", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      tables: [a, b]\n"
		"      tenant_from:\n        b: {table: a}\n", 0, "6:9",
	"multi_tenancy.tenant_from[1]: missing required field \"via\""},
	/* index elements */
	{"index element that does not parse", OPS "  - create_index: {table: t, name: i, "
		"columns: [a, 'my col umn']}\n", 0, "2:60", "syntax error at or near \"umn\"; a column whose name is not a plain word is written {column:"},
	{"index element closing the list", OPS "  - create_index: {table: t, name: i, "
		"columns: ['a) WHERE (true']}\n", 0, "2:51", "closes a \"(\" it does not open"},
	{"index element with a comma", OPS "  - create_index: {table: t, name: i, "
		"columns: ['a, b']}\n", 0, "2:51", "one index element per list item"},
	{"index element with a comment", OPS "  - create_index: {table: t, name: i, "
		"columns: ['a -- x']}\n", 0, "2:52", "no comments"},
	/* inside a quoted scalar, columns count from the quote's next character */
	{"double-quoted index element", OPS "  - create_index: {table: t, name: i, "
		"columns: [a, \"(b + ) DESC\"]}\n", 0, "2:58", "syntax error at or near \")\""},
	{"single-quoted index element", OPS "  - create_index: {table: t, name: i, "
		"columns: [a, '(b + ) DESC']}\n", 0, "2:58", "syntax error at or near \")\""},
	{"plain index element", OPS "  - create_index: {table: t, name: i, "
		"columns: [a, (b + ) DESC]}\n", 0, "2:57", "syntax error at or near \")\""},
	{"double-quoted index element on a later line", OPS "  - create_index:\n"
		"      table: t\n      name: i\n      columns:\n        - \"a, b\"\n", 0, "6:13",
	"one index element per list item"},
	{"double-quoted exclusion expression", OPS "  - add_constraint: {table: t, name: x, "
		"exclude: {elements: [{expression: \"a ) b\", operator: \"&&\"}]}}\n", 0, "2:78",
	"closes a \"(\" it does not open"},
	{"double-quoted view query", OPS "  - create_materialized_view: {name: m, "
		"query: \"SELECT FROM WHERE\"}\n", 0, "2:61", "syntax error at or near \"WHERE\""},
	{"single-quoted view query", OPS "  - create_view: {name: v, "
		"query: 'SELECT 1 FROM FROM'}\n", 0, "2:50", "syntax error at or near \"FROM\""},
	{"plain view query", OPS "  - create_view: {name: v, "
		"query: SELECT 1 FROM FROM}\n", 0, "2:49", "syntax error at or near \"FROM\""},
	{"index element not a string", OPS "  - create_index: {table: t, name: i, columns: [1]}\n",
		0, "2:49", "expected an index element"},
	{"index element mapping with both", OPS "  - create_index: {table: t, name: i, "
		"columns: [{column: a, expression: b}]}\n", 0, "2:61",
	"give exactly one of \"column\" and \"expression\""},
	{"index element bad order", OPS "  - create_index: {table: t, name: i, "
		"columns: [{column: a, order: down}]}\n", 0, "2:68", "\"down\" is not one of"},
	{"index expression that does not parse", OPS "  - create_index: {table: t, name: i, "
		"columns: [{expression: 'lower(x'}]}\n", 0, "2:72", "syntax error at end of input"},
	{"index storage parameter name", OPS "  - create_index: {table: t, name: i, "
		"columns: [a], with: {'fill factor': 1}}\n", 0, "2:60", "not a storage parameter name"},
	{"nulls_not_distinct without unique", OPS "  - create_index: {table: t, name: i, "
		"columns: [a], nulls_not_distinct: true}\n", 0, "2:53", "needs \"unique: true\""},
	{"include on a check", OPS "  - add_constraint: {table: t, name: c, check: a > 0, "
		"include: [b]}\n", 0, "2:55", "\"include\" is only allowed with"},
	{"column check mapping without expr", OPS "  - add_column: {table: t, column: "
		"{name: a, type: int, check: {name: c}}}\n", 0, "2:64", "add_column.column.check: missing required field \"expr\""},
	{"multi_tenancy table listed twice", OPS "  - multi_tenancy:\n"
		"      default_tenant: {id: 1, name: a}\n      tables: [a, b, a]\n", 0, "4:22",
	"multi_tenancy: table \"a\" appears twice (first at line 4)"},
};

START_TEST(test_bad_inputs)
{
	const BadCase *c = &bad_cases[_i];
	size_t		len = c->len ? c->len : strlen(c->text);
	char	   *message = load_error(BAD_PATH, c->text, len);
	char	   *prefix = xasprintf(BAD_PATH ":%s: ", c->at);

	ck_assert_msg(strncmp(message, prefix, strlen(prefix)) == 0,
				  "case \"%s\": expected prefix \"%s\", got \"%s\"", c->name, prefix, message);
	ck_assert_msg(strstr(message, c->phrase) != NULL,
				  "case \"%s\": expected \"%s\" in \"%s\"", c->name, c->phrase, message);
	free(prefix);
	free(message);
}
END_TEST

START_TEST(test_depth_limit)
{
	Buf			b;
	char	   *message;
	int			col;

	/* the root mapping is level 1, so 31 lists fit and 32 do not */
	for (int lists = 31; lists <= 32; lists++)
	{
		buf_init(&b);
		buf_puts(&b, "x: ");
		for (int i = 0; i < lists; i++)
			buf_putc(&b, '[');
		for (int i = 0; i < lists; i++)
			buf_putc(&b, ']');
		buf_putc(&b, '\n');
		message = load_error(BAD_PATH, b.data, b.len);
		if (lists == 31)
		{
			/* parsed fine; refused only for its meaning */
			ck_assert_msg(strstr(message, "unknown field \"x\"") != NULL, "%s", message);
		}
		else
		{
			char	   *want;

			col = 4 + lists - 1;
			want = xasprintf(BAD_PATH ":1:%d: nesting deeper than %d levels", col, SPEC_MAX_DEPTH);
			ck_assert_str_eq(message, want);
			free(want);
		}
		free(message);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_size_limit)
{
	size_t		len = SPEC_MAX_FILE_BYTES + 1;
	char	   *text = xmalloc(len);
	char	   *message;

	memset(text, '#', len);
	message = load_error(BAD_PATH, text, len);
	ck_assert_str_eq(message, BAD_PATH ": file is larger than 4194304 bytes");
	free(message);
	/* exactly the limit is read (and is a file of only a comment) */
	message = load_error(BAD_PATH, text, len - 1);
	ck_assert_str_eq(message, BAD_PATH ":1:1: the file is empty; expected a mapping with \"operations\"");
	free(message);
	free(text);
}
END_TEST

START_TEST(test_wide_inputs)
{
	Buf			b;
	char	   *message;

	/* a wide mapping is checked for duplicates quickly, and precisely */
	buf_init(&b);
	buf_puts(&b, "operations:\n  - backfill:\n      table: t\n      set:\n");
	for (int i = 0; i < 50000; i++)
		buf_printf(&b, "        c%d: %d\n", i, i);
	buf_puts(&b, "        c123: 0\n");
	message = load_error(BAD_PATH, b.data, b.len);
	ck_assert_str_eq(message, BAD_PATH ":50005:9: duplicate key \"c123\" (first at line 128)");
	free(message);

	/* so are long lists of tables and columns */
	buf_reset(&b);
	buf_puts(&b, "operations:\n  - multi_tenancy:\n      default_tenant: {id: 1, name: a}\n"
			 "      tables:\n");
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "        - t%d\n", i);
	buf_puts(&b, "        - t77\n");
	message = load_error(BAD_PATH, b.data, b.len);
	ck_assert_str_eq(message, BAD_PATH ":100005:11: multi_tenancy: table \"t77\" appears twice "
					 "(first at line 82)");
	free(message);
	buf_reset(&b);
	buf_puts(&b, "operations:\n  - create_table:\n      name: t\n      columns:\n");
	for (int i = 0; i < 50000; i++)
		buf_printf(&b, "        - {name: c%d, type: int}\n", i);
	buf_puts(&b, "        - {name: c0, type: int}\n");
	message = load_error(BAD_PATH, b.data, b.len);
	ck_assert_str_eq(message, BAD_PATH ":50005:11: create_table: column \"c0\" appears twice "
					 "(first at line 5)");
	free(message);
	buf_free(&b);
}
END_TEST

/* ---- file names and folders ---- */

START_TEST(test_parse_filename)
{
	static const struct
	{
		const char *base;
		bool		ok;
		int64_t		version;
		const char *version_text;
		const char *name;
	}			cases[] = {
		{"0001_init.yaml", true, 1, "0001", "init"},
		{"20261126120000_add_tenants_2.yaml", true, 20261126120000, "20261126120000", "add_tenants_2"},
		{"1_a.yaml", true, 1, "1", "a"},
		{"0009223372036854775807_max.yaml", true, INT64_MAX, "0009223372036854775807", "max"},
		{"9223372036854775808_over.yaml", false, 0, NULL, NULL},
		{"0000_zero.yaml", false, 0, NULL, NULL},
		{"0001_Init.yaml", false, 0, NULL, NULL},
		{"0001-init.yaml", false, 0, NULL, NULL},
		{"0001_.yaml", false, 0, NULL, NULL},
		{"_init.yaml", false, 0, NULL, NULL},
		{"0001_init.yml", false, 0, NULL, NULL},
		{"0001_init.YAML", false, 0, NULL, NULL},
		{"0001_init", false, 0, NULL, NULL},
		{"0001_in it.yaml", false, 0, NULL, NULL},
		{"-1_init.yaml", false, 0, NULL, NULL},
		{".yaml", false, 0, NULL, NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		int64_t		v = -1;
		char	   *vt = NULL,
				   *name = NULL;
		bool		ok = spec_parse_filename(cases[i].base, &v, &vt, &name);

		ck_assert_msg(ok == cases[i].ok, "%s", cases[i].base);
		if (!ok)
			continue;
		ck_assert_int_eq(v, cases[i].version);
		ck_assert_str_eq(vt, cases[i].version_text);
		ck_assert_str_eq(name, cases[i].name);
		free(vt);
		free(name);
	}
}
END_TEST

START_TEST(test_bad_buffer_names)
{
	static const char *const paths[] = {
		"x/0000_zero.yaml", "x/0001_Bad.yaml", "0001-bad.yaml", "x/notes.yaml"
	};
	char	   *message;

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
	{
		char	   *want = xasprintf("%s: invalid migration file name", paths[i]);

		message = load_error(paths[i], OPS "  - drop_table: {name: x}\n",
							 strlen(OPS "  - drop_table: {name: x}\n"));
		ck_assert_msg(strncmp(message, want, strlen(want)) == 0, "%s", message);
		free(want);
		free(message);
	}
	message = load_error("x/0001_a.yml", "", 0);
	ck_assert_ptr_nonnull(strstr(message, "(use the .yaml extension)"));
	free(message);
}
END_TEST

/* A private temporary folder, and writing files into it. */
static char *
make_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char	   *dir = xasprintf("%s/test_spec_XXXXXX", tmp && *tmp ? tmp : P_tmpdir);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	   *path = xasprintf("%s/%s", dir, name);
	FILE	   *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* The folders hold only files and links. */
static void
remove_temp_dir(char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
	{
		char	   *path;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		ck_assert_int_eq(unlink(path), 0);
		free(path);
	}
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}

static const char one_op[] = "operations:\n  - drop_table: {name: x}\n";

START_TEST(test_load_dir_order)
{
	char	   *dir = make_temp_dir();
	MigrationSet set;
	Error		err = {0};

	write_file(dir, "10_ten.yaml", one_op);
	write_file(dir, "0002_two.yaml", one_op);
	write_file(dir, "9_nine.yaml", one_op);
	write_file(dir, "README.md", "# not a migration\n");
	write_file(dir, ".gitkeep", "");
	write_file(dir, ".#0003_lock.yaml", "not yaml at all: [");
	write_file(dir, "notes.txt", "- a: [\n");
	ck_assert_msg(spec_load_dir(dir, &set, &err), "%s", err.message);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_int_eq(set.items[0].version, 2);
	ck_assert_str_eq(set.items[0].name, "two");
	ck_assert_int_eq(set.items[1].version, 9);
	ck_assert_int_eq(set.items[2].version, 10);
	ck_assert_str_eq(set.items[2].version_text, "10");
	ck_assert_ptr_eq(migration_set_find(&set, 9), &set.items[1]);
	ck_assert_ptr_eq(migration_set_find(&set, 10), &set.items[2]);
	ck_assert_ptr_eq(migration_set_find(&set, 2), &set.items[0]);
	ck_assert_ptr_null(migration_set_find(&set, 3));
	ck_assert_ptr_null(migration_set_find(&set, 11));
	migration_set_free(&set);
	ck_assert_uint_eq(set.n, 0);
	remove_temp_dir(dir);
}
END_TEST

START_TEST(test_load_fixture_dir)
{
	MigrationSet set;
	Error		err = {0};

	/* every good fixture, in version order, with a trailing slash */
	ck_assert_msg(spec_load_dir(FIXTURES, &set, &err), "%s", err.message);
	ck_assert_uint_eq(set.n, 17);
	for (size_t i = 0; i < set.n; i++)
		ck_assert_int_eq(set.items[i].version, (int64_t) i + 1);
	ck_assert_str_eq(set.items[15].path, FIXTURES "0016_sql.yaml");
	migration_set_free(&set);
}
END_TEST

/* Loading dir must fail with a message that begins with want_prefix. */
static void
expect_dir_error(const char *dir, const char *want_prefix, const char *want_phrase)
{
	MigrationSet set;
	Error		err = {0};

	memset(&set, 0x5a, sizeof set);
	ck_assert(!spec_load_dir(dir, &set, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_msg(strncmp(err.message, want_prefix, strlen(want_prefix)) == 0,
				  "expected \"%s\", got \"%s\"", want_prefix, err.message);
	ck_assert_msg(strstr(err.message, want_phrase) != NULL,
				  "expected \"%s\" in \"%s\"", want_phrase, err.message);
	ck_assert_ptr_null(set.items);
	ck_assert_uint_eq(set.n, 0);
	error_clear(&err);
}

START_TEST(test_load_dir_errors)
{
	char	   *dir = make_temp_dir();
	char	   *want;

	/* a YAML file with a bad name */
	write_file(dir, "0001_ok.yaml", one_op);
	write_file(dir, "0002-bad.yaml", one_op);
	want = xasprintf("%s/0002-bad.yaml: ", dir);
	expect_dir_error(dir, want, "invalid migration file name");
	free(want);
	remove_temp_dir(dir);

	/* .yml is refused with a hint rather than ignored */
	dir = make_temp_dir();
	write_file(dir, "0001_ok.yml", one_op);
	want = xasprintf("%s/0001_ok.yml: ", dir);
	expect_dir_error(dir, want, "use the .yaml extension");
	free(want);
	remove_temp_dir(dir);

	/* two files with one version: both named */
	dir = make_temp_dir();
	write_file(dir, "0001_a.yaml", one_op);
	write_file(dir, "1_b.yaml", one_op);
	write_file(dir, "0002_c.yaml", one_op);
	want = xasprintf("%s/0001_a.yaml and %s/1_b.yaml: ", dir, dir);
	expect_dir_error(dir, want, "two migrations with version 1");
	free(want);
	remove_temp_dir(dir);

	/* a bad file after good ones: its own file:line:col */
	dir = make_temp_dir();
	write_file(dir, "0001_a.yaml", one_op);
	write_file(dir, "0002_b.yaml", "operations:\n  - drop_tabel: {name: x}\n");
	want = xasprintf("%s/0002_b.yaml:2:5: ", dir);
	expect_dir_error(dir, want, "did you mean \"drop_table\"");
	free(want);
	remove_temp_dir(dir);

	/* an unreadable file (a dangling link: root can read anything else) */
	dir = make_temp_dir();
	write_file(dir, "0001_a.yaml", one_op);
	want = xasprintf("%s/0002_gone.yaml", dir);
	ck_assert_int_eq(symlink("/nonexistent/target.yaml", want), 0);
	expect_dir_error(dir, want, "cannot read");
	free(want);
	remove_temp_dir(dir);

	/* no such folder */
	expect_dir_error("fixtures/spec/no-such-dir", "fixtures/spec/no-such-dir: ",
					 "cannot open");
}
END_TEST

START_TEST(test_load_file_unreadable)
{
	Migration	m;
	Error		err = {0};

	memset(&m, 0x5a, sizeof m);
	ck_assert(!spec_load_file(FIXTURES "0404_missing.yaml", &m, &err));
	ck_assert_int_eq(err.exit_code, EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err.message, FIXTURES "0404_missing.yaml"));
	ck_assert_ptr_null(m.ops);
	ck_assert_ptr_null(m.path);
	error_clear(&err);
}
END_TEST

/* ---- the checksum ---- */

static const char base_text[] =
	"description: first\n"
	"settings: {lock_timeout: 2s}\n"
	"operations:\n"
	"  - add_column:\n"
	"      table: orders\n"
	"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
	"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n";

START_TEST(test_checksum_stable)
{
	static const char *const same[] = {
		/* comments and blank lines */
		"# a comment\n"
		"description: first\n"
		"settings: {lock_timeout: 2s}   # trailing\n"
		"\n"
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
		"  # between\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n",
		/* CRLF line endings */
		"description: first\r\n"
		"settings: {lock_timeout: 2s}\r\n"
		"operations:\r\n"
		"  - add_column:\r\n"
		"      table: orders\r\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\r\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\r\n",
		/* key order, quoting style, block vs flow layout */
		"operations:\n"
		"  - add_column:\n"
		"      column:\n"
		"        default: '''new'''\n"
		"        nullable: false\n"
		"        type: \"text\"\n"
		"        name: 'status'\n"
		"      \"table\": orders\n"
		"  - create_index:\n"
		"      columns:\n"
		"        - status\n"
		"      name: orders_status_idx\n"
		"      table: orders\n"
		"description: first\n",
		/* description and settings are not part of it */
		"description: something else entirely\n"
		"settings: {lock_timeout: 9s, batch_size: 10}\n"
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n",
		/* a default written out equals the default left out */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\", unique: false}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status], unique: false}\n",
	};
	char	   *base = checksum_of(base_text);

	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
	{
		char	   *other = checksum_of(same[i]);

		ck_assert_msg(strcmp(base, other) == 0, "variant %zu changed the checksum", i);
		free(other);
	}
	free(base);
}
END_TEST

START_TEST(test_checksum_sensitive)
{
	static const char *const different[] = {
		/* a changed value */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: varchar, nullable: false, default: \"'new'\"}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n",
		/* a changed boolean */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: true, default: \"'new'\"}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n",
		/* an added field */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status], unique: true}\n",
		/* a removed operation */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n",
		/* an added operation */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n"
		"  - drop_index: {name: old}\n",
		/* reordered operations */
		"operations:\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n",
		/* an added unsafe_ok */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
		"    unsafe_ok: reviewed\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status]}\n",
		/* an added where */
		"operations:\n"
		"  - add_column:\n"
		"      table: orders\n"
		"      column: {name: status, type: text, nullable: false, default: \"'new'\"}\n"
		"  - create_index: {table: orders, name: orders_status_idx, columns: [status], where: x}\n",
	};
	char	   *base = checksum_of(base_text);

	for (size_t i = 0; i < sizeof different / sizeof different[0]; i++)
	{
		char	   *other = checksum_of(different[i]);

		ck_assert_msg(strcmp(base, other) != 0, "variant %zu kept the checksum", i);
		free(other);
	}
	free(base);
}
END_TEST

START_TEST(test_checksum_no_collisions)
{
	/* pairs that a naive join of the values would confuse */
	static const char *const pairs[][2] = {
		{"operations: [create_index: {table: t, name: i, columns: [{column: \"a,b\"}]}]\n",
		"operations: [create_index: {table: t, name: i, columns: [a, b]}]\n"},
		{"operations: [create_index: {table: t, name: i, columns: [{column: a}]}]\n",
		"operations: [create_index: {table: t, name: i, columns: [a]}]\n"},
		{"operations: [rename_column: {table: t, from: ab, to: c}]\n",
		"operations: [rename_column: {table: t, from: a, to: bc}]\n"},
		{"operations: [sql: {up: \"x\\\"\", down: y}]\n",
		"operations: [sql: {up: x, down: \"\\\"y\"}]\n"},
		{"operations: [alter_column: {table: t, column: c, default: null}]\n",
		"operations: [alter_column: {table: t, column: c, default: \"null\"}]\n"},
		{"operations: [backfill: {table: t, set: {a: 1, b: 2}}]\n",
		"operations: [backfill: {table: t, set: {b: 2, a: 1}}]\n"},
	};

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
	{
		char	   *a = checksum_of(pairs[i][0]);
		char	   *b = checksum_of(pairs[i][1]);

		ck_assert_msg(strcmp(a, b) != 0, "pair %zu collides", i);
		free(a);
		free(b);
	}
}
END_TEST

START_TEST(test_canonical_form)
{
	Migration	m;
	Buf			b;

	load_text("description: ignored\n"
			  "operations:\n  - drop_table: {name: \"a\\\"b\", unsafe_ok: ok}\n", &m);
	buf_init(&b);
	spec_canonical(&b, &m);
	ck_assert_str_eq(b.data, "{\"format\":1,\"operations\":[{\"op\":\"drop_table\","
					 "\"unsafe_ok\":\"ok\",\"name\":\"a\\\"b\"}]}");
	buf_free(&b);
	migration_free(&m);
}
END_TEST

/* ---- durations ---- */

START_TEST(test_parse_duration)
{
	static const struct
	{
		const char *text;
		bool		ok;
		int64_t		ms;
	}			cases[] = {
		{"250ms", true, 250},
		{"2s", true, 2000},
		{"5m", true, 300000},
		{"1h", true, 3600000},
		{"0", true, 0},
		{"0ms", true, 0},
		{"1500", true, 1500},
		{"007s", true, 7000},
		{"9223372036854775807", true, INT64_MAX},
		{"9223372036854775807ms", true, INT64_MAX},
		{"9223372036854775s", true, 9223372036854775000},
		{"9223372036854776s", false, 0},
		{"9223372036854775808", false, 0},
		{"2562047788015216h", false, 0},
		{"", false, 0},
		{"ms", false, 0},
		{"-1", false, 0},
		{"-5s", false, 0},
		{"+5s", false, 0},
		{"1.5s", false, 0},
		{"5 s", false, 0},
		{" 5s", false, 0},
		{"5s ", false, 0},
		{"5S", false, 0},
		{"5sec", false, 0},
		{"5d", false, 0},
		{"5us", false, 0},
		{"1h30m", false, 0},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
	{
		int64_t		ms = -42;
		bool		ok = parse_duration(cases[i].text, &ms);

		ck_assert_msg(ok == cases[i].ok, "\"%s\"", cases[i].text);
		if (ok)
			ck_assert_msg(ms == cases[i].ms, "\"%s\": %lld", cases[i].text, (long long) ms);
	}
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	   *s = suite_create("spec");
	TCase	   *good = tcase_create("good");
	TCase	   *bad = tcase_create("bad");
	TCase	   *files = tcase_create("files");
	TCase	   *checksum = tcase_create("checksum");

	tcase_add_test(good, test_create_table);
	tcase_add_test(good, test_drop_and_rename_table);
	tcase_add_test(good, test_add_column);
	tcase_add_test(good, test_drop_and_rename_column);
	tcase_add_test(good, test_alter_column);
	tcase_add_test(good, test_backfill);
	tcase_add_test(good, test_indexes);
	tcase_add_test(good, test_index_elements);
	tcase_add_test(good, test_constraints);
	tcase_add_test(good, test_rls_and_policies);
	tcase_add_test(good, test_multi_tenancy);
	tcase_add_test(good, test_sql);
	tcase_add_test(good, test_settings);
	tcase_add_test(good, test_settings_defaults);
	tcase_add_test(good, test_scalars_and_identifiers);
	tcase_add_test(good, test_op_kind_names);
	tcase_add_test(good, test_parse_duration);
	suite_add_tcase(s, good);

	tcase_add_loop_test(bad, test_bad_inputs, 0, (int) (sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(bad, test_depth_limit);
	tcase_add_test(bad, test_size_limit);
	tcase_add_test(bad, test_wide_inputs);
	tcase_set_timeout(bad, 60);
	suite_add_tcase(s, bad);

	tcase_add_test(files, test_parse_filename);
	tcase_add_test(files, test_bad_buffer_names);
	tcase_add_test(files, test_load_dir_order);
	tcase_add_test(files, test_load_fixture_dir);
	tcase_add_test(files, test_load_dir_errors);
	tcase_add_test(files, test_load_file_unreadable);
	suite_add_tcase(s, files);

	tcase_add_test(checksum, test_checksum_stable);
	tcase_add_test(checksum, test_checksum_sensitive);
	tcase_add_test(checksum, test_checksum_no_collisions);
	tcase_add_test(checksum, test_canonical_form);
	suite_add_tcase(s, checksum);
	return s;
}

#include "check_main.h"
