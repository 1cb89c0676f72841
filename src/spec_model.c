/*
 * spec_model.c: the parts of the migration model that do not read YAML:
 * operation names, settings, durations, the canonical form behind the
 * checksum, and freeing.  See spec.h.
 */
#include "spec.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[OP__COUNT] = {
	[OP_CREATE_TABLE] = "create_table",
	[OP_DROP_TABLE] = "drop_table",
	[OP_RENAME_TABLE] = "rename_table",
	[OP_ADD_COLUMN] = "add_column",
	[OP_DROP_COLUMN] = "drop_column",
	[OP_RENAME_COLUMN] = "rename_column",
	[OP_ALTER_COLUMN] = "alter_column",
	[OP_BACKFILL] = "backfill",
	[OP_CREATE_INDEX] = "create_index",
	[OP_DROP_INDEX] = "drop_index",
	[OP_ADD_CONSTRAINT] = "add_constraint",
	[OP_DROP_CONSTRAINT] = "drop_constraint",
	[OP_ENABLE_RLS] = "enable_rls",
	[OP_DISABLE_RLS] = "disable_rls",
	[OP_CREATE_POLICY] = "create_policy",
	[OP_DROP_POLICY] = "drop_policy",
	[OP_MULTI_TENANCY] = "multi_tenancy",
	[OP_SQL] = "sql",
	[OP_ADD_PARTITIONS] = "add_partitions",
	[OP_ATTACH_PARTITION] = "attach_partition",
	[OP_DETACH_PARTITION] = "detach_partition",
	[OP_PARTITION_TABLE] = "partition_table",
	[OP_CREATE_VIEW] = "create_view",
	[OP_REPLACE_VIEW] = "replace_view",
	[OP_DROP_VIEW] = "drop_view",
	[OP_CREATE_MATERIALIZED_VIEW] = "create_materialized_view",
	[OP_REFRESH_MATERIALIZED_VIEW] = "refresh_materialized_view",
	[OP_REPLACE_MATERIALIZED_VIEW] = "replace_materialized_view",
	[OP_DROP_MATERIALIZED_VIEW] = "drop_materialized_view",
	[OP_CREATE_TYPE] = "create_type",
	[OP_DROP_TYPE] = "drop_type",
	[OP_ADD_ENUM_VALUE] = "add_enum_value",
	[OP_COMMENT] = "comment",
	[OP_SET_REPLICA_IDENTITY] = "set_replica_identity",
	[OP_GRANT] = "grant",
	[OP_REVOKE] = "revoke",
	[OP_CREATE_ROLE] = "create_role",
};

const char *
op_kind_name(OpKind kind)
{
	if ((int) kind < 0 || kind >= OP__COUNT)
		return "unknown";
	return op_names[kind];
}

int
op_kind_from_name(const char *name)
{
	for (int i = 0; i < OP__COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

/* ---- settings ---- */

void
settings_defaults(Settings *s)
{
	s->lock_timeout_ms = 2000;
	s->lock_retries = 10;
	s->statement_timeout_ms = 0;
	s->batch_size = 0;
	s->batch_time_ms = 200;
	s->batch_delay_ms = 0;
	s->max_replica_lag_ms = 10000;
	s->plain_max_rows = 10000;
	s->backfill_workers = 1;
	s->given = 0;
}

int64_t
settings_min_ms(unsigned bit)
{
	/*
	 * 0 is "no limit" for statement_timeout and "no pause" for batch_delay;
	 * a lock_timeout of 0 would wait forever behind the application, a
	 * batch_time of 0 gives batches of no rows, and a replica lag of 0
	 * pauses every backfill for good.
	 */
	switch (bit)
	{
		case SETTING_LOCK_TIMEOUT:
		case SETTING_BATCH_TIME:
		case SETTING_MAX_REPLICA_LAG:
			return 1;
		default:
			return 0;
	}
}

void
settings_overlay(Settings *dst, const Settings *src)
{
	unsigned	g = src->given;

	if (g & SETTING_LOCK_TIMEOUT)
		dst->lock_timeout_ms = src->lock_timeout_ms;
	if (g & SETTING_LOCK_RETRIES)
		dst->lock_retries = src->lock_retries;
	if (g & SETTING_STATEMENT_TIMEOUT)
		dst->statement_timeout_ms = src->statement_timeout_ms;
	if (g & SETTING_BATCH_SIZE)
		dst->batch_size = src->batch_size;
	if (g & SETTING_BATCH_TIME)
		dst->batch_time_ms = src->batch_time_ms;
	if (g & SETTING_BATCH_DELAY)
		dst->batch_delay_ms = src->batch_delay_ms;
	if (g & SETTING_MAX_REPLICA_LAG)
		dst->max_replica_lag_ms = src->max_replica_lag_ms;
	if (g & SETTING_PLAIN_MAX_ROWS)
		dst->plain_max_rows = src->plain_max_rows;
	if (g & SETTING_BACKFILL_WORKERS)
		dst->backfill_workers = src->backfill_workers;
	dst->given |= g;
}

bool
parse_duration(const char *text, int64_t *ms)
{
	static const struct
	{
		const char *suffix;
		int64_t		factor;
	}			units[] = {
		{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}
	};
	int64_t		value = 0;
	const char *p = text;

	if (text == NULL || !(*p >= '0' && *p <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		int			digit = *p - '0';

		if (value > (INT64_MAX - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
	{
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (value > INT64_MAX / units[i].factor)
			return false;
		*ms = value * units[i].factor;
		return true;
	}
	return false;
}

/* ---- the canonical form ---- */

/*
 * JSON with every field of every operation, always present and always in
 * the order below (absent values as null).  JSON string escaping is
 * injective, so two different models never give the same text; the
 * leading format number lets a later version change the form on purpose.
 */
typedef struct Canon
{
	Buf		   *out;
	bool		first;			/* nothing written yet in the current object or array */
} Canon;

static void
canon_key(Canon *c, const char *key)
{
	if (!c->first)
		buf_putc(c->out, ',');
	c->first = false;
	if (key)
	{
		buf_json_string(c->out, key);
		buf_putc(c->out, ':');
	}
}

/* Opens an object or array as the value of key (NULL inside an array). */
static void
canon_open(Canon *c, const char *key, char bracket)
{
	canon_key(c, key);
	buf_putc(c->out, bracket);
	c->first = true;
}

/* After a closed value, the enclosing object or array is never empty. */
static void
canon_close(Canon *c, char bracket)
{
	buf_putc(c->out, bracket);
	c->first = false;
}

static void
canon_str(Canon *c, const char *key, const char *value)
{
	canon_key(c, key);
	buf_json_string(c->out, value);
}

static void
canon_bool(Canon *c, const char *key, bool value)
{
	canon_key(c, key);
	buf_puts(c->out, value ? "true" : "false");
}

static void
canon_int(Canon *c, const char *key, int64_t value)
{
	canon_key(c, key);
	buf_printf(c->out, "%" PRId64, value);
}

static void
canon_list(Canon *c, const char *key, const StrList *list)
{
	canon_open(c, key, '[');
	for (size_t i = 0; i < list->n; i++)
		canon_str(c, NULL, list->items[i]);
	canon_close(c, ']');
}

/*
 * Fields added after the first release are written only when given, so
 * that the checksum of a file that does not use them stays what it was.
 */
static void
canon_opt_str(Canon *c, const char *key, const char *value)
{
	if (value)
		canon_str(c, key, value);
}

static void
canon_opt_list(Canon *c, const char *key, const StrList *list)
{
	if (list->n > 0)
		canon_list(c, key, list);
}

static void
canon_key_exprs(Canon *c, const char *key, const KeyExprList *list)
{
	canon_open(c, key, '[');
	for (size_t i = 0; i < list->n; i++)
	{
		canon_open(c, NULL, '[');
		canon_str(c, NULL, list->items[i].key);
		canon_str(c, NULL, list->items[i].expr);
		canon_close(c, ']');
	}
	canon_close(c, ']');
}

static void
canon_column(Canon *c, const char *key, const ColumnDef *col)
{
	canon_open(c, key, '{');
	canon_str(c, "name", col->name);
	canon_str(c, "type", col->type);
	canon_bool(c, "nullable", col->nullable);
	canon_str(c, "default", col->default_expr);
	canon_bool(c, "primary_key", col->primary_key);
	canon_bool(c, "unique", col->unique);
	canon_str(c, "ref_table", col->ref_table);
	canon_str(c, "ref_column", col->ref_column);
	canon_str(c, "ref_on_delete", col->ref_on_delete);
	canon_str(c, "check", col->check);
	canon_str(c, "comment", col->comment);
	canon_opt_str(c, "ref_name", col->ref_name);
	canon_opt_str(c, "check_name", col->check_name);
	canon_close(c, '}');
}

static void canon_index_elems(Canon *c, const char *key, const IndexElemList *list);

static void
canon_constraint(Canon *c, const char *key, const ConstraintDef *con)
{
	static const char *const kinds[] = {
		[CONSTRAINT_CHECK] = "check",
		[CONSTRAINT_FOREIGN_KEY] = "foreign_key",
		[CONSTRAINT_UNIQUE] = "unique",
		[CONSTRAINT_PRIMARY_KEY] = "primary_key",
		[CONSTRAINT_EXCLUDE] = "exclude",
	};

	canon_open(c, key, '{');
	canon_str(c, "name", con->name);
	canon_str(c, "kind", kinds[con->kind]);
	canon_str(c, "check", con->check);
	canon_list(c, "columns", &con->columns);
	canon_str(c, "ref_table", con->ref_table);
	canon_list(c, "ref_columns", &con->ref_columns);
	canon_str(c, "on_delete", con->on_delete);
	canon_str(c, "on_update", con->on_update);
	canon_opt_list(c, "include", &con->include);
	if (con->kind == CONSTRAINT_EXCLUDE)
	{
		canon_str(c, "exclude_using", con->exclude_using);
		canon_index_elems(c, "exclude_elems", &con->exclude_elems);
		canon_list(c, "exclude_ops", &con->exclude_ops);
		canon_str(c, "exclude_where", con->exclude_where);
	}
	canon_close(c, '}');
}

/* An element written as a string is its text, as before mappings existed. */
static void
canon_index_elems(Canon *c, const char *key, const IndexElemList *list)
{
	canon_open(c, key, '[');
	for (size_t i = 0; i < list->n; i++)
	{
		const IndexElem *e = &list->items[i];

		if (e->text)
		{
			canon_str(c, NULL, e->text);
			continue;
		}
		canon_open(c, NULL, '{');
		canon_str(c, "column", e->column);
		canon_str(c, "expression", e->expression);
		canon_str(c, "order", e->order);
		canon_str(c, "nulls", e->nulls);
		canon_str(c, "opclass", e->opclass);
		canon_str(c, "collate", e->collate);
		canon_close(c, '}');
	}
	canon_close(c, ']');
}

static void
canon_index_def(Canon *c, const IndexDef *d)
{
	if (d->table)
		canon_str(c, "table", d->table);
	canon_str(c, "name", d->name);
	canon_index_elems(c, "columns", &d->columns);
	canon_bool(c, "unique", d->unique);
	canon_str(c, "method", d->method);
	canon_str(c, "where", d->where);
	canon_list(c, "include", &d->include);
	if (d->with.n > 0)
		canon_key_exprs(c, "with", &d->with);
	if (d->nulls_not_distinct)
		canon_bool(c, "nulls_not_distinct", true);
}

static void
canon_bound(Canon *c, const char *key, const PartitionBound *b)
{
	canon_open(c, key, '{');
	canon_bool(c, "default", b->is_default);
	canon_list(c, "from", &b->from);
	canon_list(c, "to", &b->to);
	canon_list(c, "in", &b->in);
	canon_bool(c, "in_null", b->in_null);
	canon_int(c, "modulus", b->modulus);
	canon_int(c, "remainder", b->remainder);
	canon_close(c, '}');
}

/* Absent for a plain table, so that the checksums of existing files stay. */
static void
canon_partitioning(Canon *c, const char *key, const Partitioning *p)
{
	if (p->method == PARTITION_NONE)
		return;
	canon_open(c, key, '{');
	canon_int(c, "method", p->method);
	canon_list(c, "columns", &p->columns);
	canon_int(c, "every", p->every);
	canon_str(c, "from", p->from);
	canon_str(c, "to", p->to);
	canon_bool(c, "default", p->with_default);
	canon_int(c, "modulus", p->modulus);
	canon_open(c, "partitions", '[');
	for (size_t i = 0; i < p->n_parts; i++)
	{
		canon_open(c, NULL, '{');
		canon_str(c, "name", p->parts[i].name);
		canon_bound(c, "values", &p->parts[i].bound);
		canon_close(c, '}');
	}
	canon_close(c, ']');
	canon_close(c, '}');
}

static void
canon_create_table(Canon *c, const Operation *op)
{
	canon_str(c, "name", op->u.create_table.name);
	canon_open(c, "columns", '[');
	for (size_t i = 0; i < op->u.create_table.n_columns; i++)
		canon_column(c, NULL, &op->u.create_table.columns[i]);
	canon_close(c, ']');
	canon_list(c, "primary_key", &op->u.create_table.primary_key);
	canon_open(c, "constraints", '[');
	for (size_t i = 0; i < op->u.create_table.n_constraints; i++)
		canon_constraint(c, NULL, &op->u.create_table.constraints[i]);
	canon_close(c, ']');
	canon_partitioning(c, "partitioning", &op->u.create_table.partitioning);
}

static void
canon_multi_tenancy(Canon *c, const Operation *op)
{
	canon_str(c, "tenant_table", op->u.multi_tenancy.tenant_table);
	canon_str(c, "column", op->u.multi_tenancy.column);
	canon_str(c, "type", op->u.multi_tenancy.type);
	canon_str(c, "default_tenant_id", op->u.multi_tenancy.default_tenant_id);
	canon_str(c, "default_tenant_name", op->u.multi_tenancy.default_tenant_name);
	canon_list(c, "tables", &op->u.multi_tenancy.tables);
	canon_bool(c, "all", op->u.multi_tenancy.all);
	canon_list(c, "exclude", &op->u.multi_tenancy.exclude);
	canon_open(c, "tenant_from", '[');
	for (size_t i = 0; i < op->u.multi_tenancy.n_tenant_from; i++)
	{
		const TenantFrom *tf = &op->u.multi_tenancy.tenant_from[i];

		canon_open(c, NULL, '{');
		canon_str(c, "table", tf->table);
		canon_str(c, "parent", tf->parent);
		canon_str(c, "via", tf->via);
		canon_close(c, '}');
	}
	canon_close(c, ']');
	canon_bool(c, "foreign_key", op->u.multi_tenancy.foreign_key);
	canon_bool(c, "index", op->u.multi_tenancy.index);
	canon_str(c, "primary_key", op->u.multi_tenancy.primary_key);
	canon_str(c, "rls_setting", op->u.multi_tenancy.rls_setting);
	canon_str(c, "rls_admin_role", op->u.multi_tenancy.rls_admin_role);
}

static void
canon_operation(Canon *c, const Operation *op)
{
	static const char *const default_changes[] = {
		[DEFAULT_KEEP] = "keep", [DEFAULT_SET] = "set", [DEFAULT_DROP] = "drop",
	};

	canon_open(c, NULL, '{');
	canon_str(c, "op", op_kind_name(op->kind));
	canon_str(c, "unsafe_ok", op->unsafe_ok);
	switch (op->kind)
	{
		case OP_CREATE_TABLE:
			canon_create_table(c, op);
			break;
		case OP_DROP_TABLE:
			canon_str(c, "name", op->u.drop_table.name);
			break;
		case OP_RENAME_TABLE:
			canon_str(c, "from", op->u.rename_table.from);
			canon_str(c, "to", op->u.rename_table.to);
			break;
		case OP_ADD_COLUMN:
			canon_str(c, "table", op->u.add_column.table);
			canon_column(c, "column", &op->u.add_column.column);
			canon_str(c, "backfill", op->u.add_column.backfill);
			break;
		case OP_DROP_COLUMN:
			canon_str(c, "table", op->u.drop_column.table);
			canon_str(c, "column", op->u.drop_column.column);
			break;
		case OP_RENAME_COLUMN:
			canon_str(c, "table", op->u.rename_column.table);
			canon_str(c, "from", op->u.rename_column.from);
			canon_str(c, "to", op->u.rename_column.to);
			break;
		case OP_ALTER_COLUMN:
			canon_str(c, "table", op->u.alter_column.table);
			canon_str(c, "column", op->u.alter_column.column);
			canon_str(c, "type", op->u.alter_column.type);
			canon_str(c, "using", op->u.alter_column.using_expr);
			canon_int(c, "nullable", op->u.alter_column.nullable);
			canon_str(c, "default_change",
					  default_changes[op->u.alter_column.default_change]);
			canon_str(c, "default", op->u.alter_column.default_expr);
			if (op->u.alter_column.unique)
				canon_bool(c, "unique", true);
			canon_opt_str(c, "check_name", op->u.alter_column.check_name);
			canon_opt_str(c, "check", op->u.alter_column.check_expr);
			if (op->u.alter_column.comment_given)
				canon_str(c, "comment", op->u.alter_column.comment);
			break;
		case OP_BACKFILL:
			canon_str(c, "table", op->u.backfill.table);
			canon_key_exprs(c, "set", &op->u.backfill.set);
			canon_str(c, "where", op->u.backfill.where);
			canon_int(c, "batch_size", op->u.backfill.batch_size);
			canon_int(c, "batch_delay_ms", op->u.backfill.batch_delay_ms);
			canon_key_exprs(c, "down", &op->u.backfill.down);
			break;
		case OP_CREATE_INDEX:
			canon_index_def(c, &op->u.create_index);
			break;
		case OP_DROP_INDEX:
			canon_str(c, "name", op->u.drop_index.name);
			break;
		case OP_ADD_CONSTRAINT:
			canon_str(c, "table", op->u.add_constraint.table);
			canon_constraint(c, "constraint", &op->u.add_constraint.constraint);
			break;
		case OP_DROP_CONSTRAINT:
			canon_str(c, "table", op->u.drop_constraint.table);
			canon_str(c, "name", op->u.drop_constraint.name);
			break;
		case OP_ENABLE_RLS:
		case OP_DISABLE_RLS:
			canon_str(c, "table", op->u.rls.table);
			canon_bool(c, "force", op->u.rls.force);
			break;
		case OP_CREATE_POLICY:
		case OP_DROP_POLICY:
			canon_str(c, "table", op->u.policy.table);
			canon_str(c, "name", op->u.policy.name);
			canon_str(c, "command", op->u.policy.command);
			canon_list(c, "roles", &op->u.policy.roles);
			canon_str(c, "using", op->u.policy.using_expr);
			canon_str(c, "with_check", op->u.policy.with_check);
			canon_bool(c, "permissive", op->u.policy.permissive);
			break;
		case OP_MULTI_TENANCY:
			canon_multi_tenancy(c, op);
			break;
		case OP_SQL:
			canon_str(c, "up", op->u.sql.up);
			canon_str(c, "down", op->u.sql.down);
			canon_bool(c, "transactional", op->u.sql.transactional);
			if (op->u.sql.down_none)
				canon_bool(c, "down_none", true);
			break;
		case OP_ADD_PARTITIONS:
			canon_str(c, "table", op->u.add_partitions.table);
			canon_str(c, "to", op->u.add_partitions.to);
			canon_int(c, "every", op->u.add_partitions.every);
			canon_str(c, "from", op->u.add_partitions.from);
			canon_bool(c, "force", op->u.add_partitions.force);
			break;
		case OP_ATTACH_PARTITION:
			canon_str(c, "table", op->u.attach_partition.table);
			canon_str(c, "partition", op->u.attach_partition.partition);
			canon_bound(c, "values", &op->u.attach_partition.values);
			break;
		case OP_DETACH_PARTITION:
			canon_str(c, "table", op->u.detach_partition.table);
			canon_str(c, "partition", op->u.detach_partition.partition);
			break;
		case OP_PARTITION_TABLE:
			canon_str(c, "table", op->u.partition_table.table);
			canon_partitioning(c, "by", &op->u.partition_table.by);
			break;
		case OP_CREATE_VIEW:
		case OP_REPLACE_VIEW:
		case OP_DROP_VIEW:
			canon_str(c, "name", op->u.view.name);
			canon_str(c, "query", op->u.view.query);
			canon_int(c, "security_invoker", op->u.view.security_invoker);
			canon_str(c, "check_option", op->u.view.check_option);
			break;
		case OP_CREATE_MATERIALIZED_VIEW:
		case OP_REFRESH_MATERIALIZED_VIEW:
		case OP_REPLACE_MATERIALIZED_VIEW:
		case OP_DROP_MATERIALIZED_VIEW:
			canon_str(c, "name", op->u.matview.name);
			canon_str(c, "query", op->u.matview.query);
			canon_bool(c, "populate", op->u.matview.populate);
			canon_bool(c, "concurrently", op->u.matview.concurrently);
			canon_open(c, "indexes", '[');
			for (size_t i = 0; i < op->u.matview.n_indexes; i++)
			{
				canon_open(c, NULL, '{');
				canon_index_def(c, &op->u.matview.indexes[i]);
				canon_close(c, '}');
			}
			canon_close(c, ']');
			break;
		case OP_CREATE_TYPE:
		case OP_DROP_TYPE:
			canon_str(c, "name", op->u.type.name);
			canon_list(c, "enum", &op->u.type.enum_values);
			canon_list(c, "attr_names", &op->u.type.attr_names);
			canon_list(c, "attr_types", &op->u.type.attr_types);
			break;
		case OP_ADD_ENUM_VALUE:
			canon_str(c, "type", op->u.add_enum_value.type);
			canon_str(c, "value", op->u.add_enum_value.value);
			canon_str(c, "before", op->u.add_enum_value.before);
			canon_str(c, "after", op->u.add_enum_value.after);
			break;
		case OP_COMMENT:
			canon_str(c, "kind", op->u.comment.kind);
			canon_str(c, "table", op->u.comment.table);
			canon_str(c, "name", op->u.comment.name);
			canon_str(c, "text", op->u.comment.text);
			break;
		case OP_SET_REPLICA_IDENTITY:
			canon_str(c, "table", op->u.replica_identity.table);
			canon_str(c, "identity", op->u.replica_identity.identity);
			canon_str(c, "index", op->u.replica_identity.index);
			break;
		case OP_GRANT:
		case OP_REVOKE:
			canon_list(c, "privileges", &op->u.grant.privileges);
			canon_str(c, "kind", op->u.grant.kind);
			canon_str(c, "object", op->u.grant.object);
			canon_list(c, "roles", &op->u.grant.roles);
			break;
		case OP_CREATE_ROLE:
			canon_str(c, "name", op->u.create_role.name);
			canon_bool(c, "login", op->u.create_role.login);
			canon_bool(c, "inherit", op->u.create_role.inherit);
			canon_list(c, "in_roles", &op->u.create_role.in_roles);
			break;
		case OP__COUNT:
			break;
	}
	canon_close(c, '}');
}

void
spec_canonical(Buf *out, const Migration *m)
{
	Canon		c = {out, true};

	canon_open(&c, NULL, '{');
	canon_int(&c, "format", 1);
	canon_open(&c, "operations", '[');
	for (size_t i = 0; i < m->n_ops; i++)
		canon_operation(&c, &m->ops[i]);
	canon_close(&c, ']');
	canon_close(&c, '}');
}

/* ---- freeing ---- */

static void
key_exprs_free(KeyExprList *list)
{
	for (size_t i = 0; i < list->n; i++)
	{
		free(list->items[i].key);
		free(list->items[i].expr);
	}
	free(list->items);
}

static void
column_free(ColumnDef *col)
{
	free(col->name);
	free(col->type);
	free(col->default_expr);
	free(col->ref_table);
	free(col->ref_column);
	free(col->ref_on_delete);
	free(col->check);
	free(col->comment);
	free(col->ref_name);
	free(col->check_name);
}

static void
index_elems_free(IndexElemList *list)
{
	for (size_t i = 0; i < list->n; i++)
	{
		IndexElem  *e = &list->items[i];

		free(e->text);
		free(e->column);
		free(e->expression);
		free(e->order);
		free(e->nulls);
		free(e->opclass);
		free(e->collate);
	}
	free(list->items);
}

static void
constraint_free(ConstraintDef *con)
{
	free(con->name);
	free(con->check);
	strlist_free(&con->columns);
	free(con->ref_table);
	strlist_free(&con->ref_columns);
	free(con->on_delete);
	free(con->on_update);
	strlist_free(&con->include);
	free(con->exclude_using);
	index_elems_free(&con->exclude_elems);
	strlist_free(&con->exclude_ops);
	free(con->exclude_where);
}

static void
index_def_free(IndexDef *d)
{
	free(d->table);
	free(d->name);
	index_elems_free(&d->columns);
	free(d->method);
	free(d->where);
	strlist_free(&d->include);
	key_exprs_free(&d->with);
}

static void
partitioning_free(Partitioning *p)
{
	strlist_free(&p->columns);
	free(p->from);
	free(p->to);
	for (size_t i = 0; i < p->n_parts; i++)
	{
		free(p->parts[i].name);
		strlist_free(&p->parts[i].bound.from);
		strlist_free(&p->parts[i].bound.to);
		strlist_free(&p->parts[i].bound.in);
	}
	free(p->parts);
}

static void
operation_free(Operation *op)
{
	free(op->unsafe_ok);
	switch (op->kind)
	{
		case OP_CREATE_TABLE:
			free(op->u.create_table.name);
			for (size_t i = 0; i < op->u.create_table.n_columns; i++)
				column_free(&op->u.create_table.columns[i]);
			free(op->u.create_table.columns);
			strlist_free(&op->u.create_table.primary_key);
			for (size_t i = 0; i < op->u.create_table.n_constraints; i++)
				constraint_free(&op->u.create_table.constraints[i]);
			free(op->u.create_table.constraints);
			partitioning_free(&op->u.create_table.partitioning);
			break;
		case OP_DROP_TABLE:
			free(op->u.drop_table.name);
			break;
		case OP_RENAME_TABLE:
			free(op->u.rename_table.from);
			free(op->u.rename_table.to);
			break;
		case OP_ADD_COLUMN:
			free(op->u.add_column.table);
			column_free(&op->u.add_column.column);
			free(op->u.add_column.backfill);
			break;
		case OP_DROP_COLUMN:
			free(op->u.drop_column.table);
			free(op->u.drop_column.column);
			break;
		case OP_RENAME_COLUMN:
			free(op->u.rename_column.table);
			free(op->u.rename_column.from);
			free(op->u.rename_column.to);
			break;
		case OP_ALTER_COLUMN:
			free(op->u.alter_column.table);
			free(op->u.alter_column.column);
			free(op->u.alter_column.type);
			free(op->u.alter_column.using_expr);
			free(op->u.alter_column.default_expr);
			free(op->u.alter_column.check_name);
			free(op->u.alter_column.check_expr);
			free(op->u.alter_column.comment);
			break;
		case OP_BACKFILL:
			free(op->u.backfill.table);
			key_exprs_free(&op->u.backfill.set);
			free(op->u.backfill.where);
			key_exprs_free(&op->u.backfill.down);
			break;
		case OP_CREATE_INDEX:
			index_def_free(&op->u.create_index);
			break;
		case OP_DROP_INDEX:
			free(op->u.drop_index.name);
			break;
		case OP_ADD_CONSTRAINT:
			free(op->u.add_constraint.table);
			constraint_free(&op->u.add_constraint.constraint);
			break;
		case OP_DROP_CONSTRAINT:
			free(op->u.drop_constraint.table);
			free(op->u.drop_constraint.name);
			break;
		case OP_ENABLE_RLS:
		case OP_DISABLE_RLS:
			free(op->u.rls.table);
			break;
		case OP_CREATE_POLICY:
		case OP_DROP_POLICY:
			free(op->u.policy.table);
			free(op->u.policy.name);
			free(op->u.policy.command);
			strlist_free(&op->u.policy.roles);
			free(op->u.policy.using_expr);
			free(op->u.policy.with_check);
			break;
		case OP_MULTI_TENANCY:
			free(op->u.multi_tenancy.tenant_table);
			free(op->u.multi_tenancy.column);
			free(op->u.multi_tenancy.type);
			free(op->u.multi_tenancy.default_tenant_id);
			free(op->u.multi_tenancy.default_tenant_name);
			strlist_free(&op->u.multi_tenancy.tables);
			strlist_free(&op->u.multi_tenancy.exclude);
			for (size_t i = 0; i < op->u.multi_tenancy.n_tenant_from; i++)
			{
				free(op->u.multi_tenancy.tenant_from[i].table);
				free(op->u.multi_tenancy.tenant_from[i].parent);
				free(op->u.multi_tenancy.tenant_from[i].via);
			}
			free(op->u.multi_tenancy.tenant_from);
			free(op->u.multi_tenancy.primary_key);
			free(op->u.multi_tenancy.rls_setting);
			free(op->u.multi_tenancy.rls_admin_role);
			break;
		case OP_SQL:
			free(op->u.sql.up);
			free(op->u.sql.down);
			break;
		case OP_ADD_PARTITIONS:
			free(op->u.add_partitions.table);
			free(op->u.add_partitions.to);
			free(op->u.add_partitions.from);
			break;
		case OP_ATTACH_PARTITION:
			free(op->u.attach_partition.table);
			free(op->u.attach_partition.partition);
			strlist_free(&op->u.attach_partition.values.from);
			strlist_free(&op->u.attach_partition.values.to);
			strlist_free(&op->u.attach_partition.values.in);
			break;
		case OP_DETACH_PARTITION:
			free(op->u.detach_partition.table);
			free(op->u.detach_partition.partition);
			break;
		case OP_PARTITION_TABLE:
			free(op->u.partition_table.table);
			partitioning_free(&op->u.partition_table.by);
			break;
		case OP_CREATE_VIEW:
		case OP_REPLACE_VIEW:
		case OP_DROP_VIEW:
			free(op->u.view.name);
			free(op->u.view.query);
			free(op->u.view.check_option);
			break;
		case OP_CREATE_MATERIALIZED_VIEW:
		case OP_REFRESH_MATERIALIZED_VIEW:
		case OP_REPLACE_MATERIALIZED_VIEW:
		case OP_DROP_MATERIALIZED_VIEW:
			free(op->u.matview.name);
			free(op->u.matview.query);
			for (size_t i = 0; i < op->u.matview.n_indexes; i++)
				index_def_free(&op->u.matview.indexes[i]);
			free(op->u.matview.indexes);
			break;
		case OP_CREATE_TYPE:
		case OP_DROP_TYPE:
			free(op->u.type.name);
			strlist_free(&op->u.type.enum_values);
			strlist_free(&op->u.type.attr_names);
			strlist_free(&op->u.type.attr_types);
			break;
		case OP_ADD_ENUM_VALUE:
			free(op->u.add_enum_value.type);
			free(op->u.add_enum_value.value);
			free(op->u.add_enum_value.before);
			free(op->u.add_enum_value.after);
			break;
		case OP_COMMENT:
			free(op->u.comment.kind);
			free(op->u.comment.table);
			free(op->u.comment.name);
			free(op->u.comment.text);
			break;
		case OP_SET_REPLICA_IDENTITY:
			free(op->u.replica_identity.table);
			free(op->u.replica_identity.identity);
			free(op->u.replica_identity.index);
			break;
		case OP_GRANT:
		case OP_REVOKE:
			strlist_free(&op->u.grant.privileges);
			free(op->u.grant.kind);
			free(op->u.grant.object);
			strlist_free(&op->u.grant.roles);
			break;
		case OP_CREATE_ROLE:
			free(op->u.create_role.name);
			strlist_free(&op->u.create_role.in_roles);
			break;
		case OP__COUNT:
			break;
	}
}

void
migration_free(Migration *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_ops; i++)
		operation_free(&m->ops[i]);
	free(m->ops);
	free(m->path);
	free(m->version_text);
	free(m->name);
	free(m->description);
	free(m->checksum);
	free(m->source);
	free(m->text_pos);
	memset(m, 0, sizeof *m);
}

void
migration_note_text(Migration *m, const char *text, const SrcPos *pos)
{
	if (m->n_text_pos == m->cap_text_pos)
	{
		m->cap_text_pos = m->cap_text_pos ? 2 * m->cap_text_pos : 16;
		m->text_pos = xrealloc(m->text_pos, m->cap_text_pos * sizeof(TextPos));
	}
	m->text_pos[m->n_text_pos].text = text;
	m->text_pos[m->n_text_pos].pos = *pos;
	m->n_text_pos++;
}

static int
compare_text_pos(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t) ((const TextPos *) a)->text;
	uintptr_t	y = (uintptr_t) ((const TextPos *) b)->text;

	return x < y ? -1 : x > y;
}

void
migration_index_texts(Migration *m)
{
	if (m->n_text_pos > 1)
		qsort(m->text_pos, m->n_text_pos, sizeof(TextPos), compare_text_pos);
}

const SrcPos *
migration_text_pos(const Migration *m, const char *text)
{
	TextPos		key = {text, {0}};
	const TextPos *hit;

	if (text == NULL || m->n_text_pos == 0)
		return NULL;
	hit = bsearch(&key, m->text_pos, m->n_text_pos, sizeof(TextPos), compare_text_pos);
	return hit ? &hit->pos : NULL;
}

void
migration_set_free(MigrationSet *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		migration_free(&set->items[i]);
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

const Migration *
migration_set_find(const MigrationSet *set, int64_t version)
{
	size_t		lo = 0,
				hi = set->n;

	/* items are in ascending version order */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (set->items[mid].version == version)
			return &set->items[mid];
		if (set->items[mid].version < version)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
