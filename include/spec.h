/*
 * spec.h: the typed model of migration files (docs/design.md, Migration files;
 * migrate(1), OPERATIONS) and their loader.
 *
 * libyaml reads each file into a Migration; every node keeps its file, line
 * and column so that messages can point at it.  Nothing here touches the
 * database.  All strings are owned by the Migration and freed with it.
 */
#ifndef MIGRATE_SPEC_H
#define MIGRATE_SPEC_H

#include "util.h"

/* Bounds that keep a hostile file from costing much. */
#define SPEC_MAX_FILE_BYTES	(4 * 1024 * 1024)
#define SPEC_MAX_DEPTH		32
#define SPEC_MAX_IDENT_BYTES 63		/* NAMEDATALEN - 1 */

typedef struct SrcPos
{
	const char *file;			/* points at Migration.path */
	int			line;			/* 1-based */
	int			col;			/* 1-based */
} SrcPos;

/* Settings (migrate(1), SETTINGS): command line over file over defaults. */
enum
{
	SETTING_LOCK_TIMEOUT = 1 << 0,
	SETTING_LOCK_RETRIES = 1 << 1,
	SETTING_STATEMENT_TIMEOUT = 1 << 2,
	SETTING_BATCH_SIZE = 1 << 3,
	SETTING_BATCH_TIME = 1 << 4,
	SETTING_BATCH_DELAY = 1 << 5,
	SETTING_MAX_REPLICA_LAG = 1 << 6,
	SETTING_PLAIN_MAX_ROWS = 1 << 7,
	SETTING_BACKFILL_WORKERS = 1 << 8,
};

typedef struct Settings
{
	int64_t		lock_timeout_ms;	/* default 2000 */
	int			lock_retries;	/* default 10 */
	int64_t		statement_timeout_ms;	/* default 0: none */
	int64_t		batch_size;		/* default 0: auto */
	int64_t		batch_time_ms;	/* default 200 */
	int64_t		batch_delay_ms; /* default 0 */
	int64_t		max_replica_lag_ms; /* default 10000 */
	int64_t		plain_max_rows; /* default 10000: without --online, apply
								 * refuses an unsafe step on a larger table */
	int			backfill_workers;	/* default 1: connections filling disjoint key ranges */
	unsigned	given;			/* SETTING_* bits that were set explicitly */
} Settings;

/* The most backfill_workers: each is a connection of its own. */
#define BACKFILL_WORKERS_MAX 32

void		settings_defaults(Settings *s);
/* The smallest value a duration setting (SETTING_* bit) may have, in ms. */
int64_t		settings_min_ms(unsigned bit);
/* Copies into dst every setting that src has in its given mask. */
void		settings_overlay(Settings *dst, const Settings *src);

/*
 * Durations: "250ms", "2s", "5m", "1h" or a bare integer of milliseconds.
 * Returns false for anything else (negative, overflow, unknown unit).
 */
bool		parse_duration(const char *text, int64_t *ms);

typedef enum OpKind
{
	OP_CREATE_TABLE,
	OP_DROP_TABLE,
	OP_RENAME_TABLE,
	OP_ADD_COLUMN,
	OP_DROP_COLUMN,
	OP_RENAME_COLUMN,
	OP_ALTER_COLUMN,
	OP_BACKFILL,
	OP_CREATE_INDEX,
	OP_DROP_INDEX,
	OP_ADD_CONSTRAINT,
	OP_DROP_CONSTRAINT,
	OP_ENABLE_RLS,
	OP_DISABLE_RLS,
	OP_CREATE_POLICY,
	OP_DROP_POLICY,
	OP_MULTI_TENANCY,
	OP_SQL,
	OP_ADD_PARTITIONS,
	OP_ATTACH_PARTITION,
	OP_DETACH_PARTITION,
	OP_PARTITION_TABLE,
	OP_CREATE_VIEW,
	OP_REPLACE_VIEW,
	OP_DROP_VIEW,
	OP_CREATE_MATERIALIZED_VIEW,
	OP_REFRESH_MATERIALIZED_VIEW,
	OP_REPLACE_MATERIALIZED_VIEW,
	OP_DROP_MATERIALIZED_VIEW,
	OP_CREATE_TYPE,
	OP_DROP_TYPE,
	OP_ADD_ENUM_VALUE,
	OP_COMMENT,
	OP_SET_REPLICA_IDENTITY,
	OP_GRANT,
	OP_REVOKE,
	OP_CREATE_ROLE,
	OP__COUNT
} OpKind;

/* The YAML key of an operation ("add_column"); op_kind_from_name: -1 if none. */
const char *op_kind_name(OpKind kind);
int			op_kind_from_name(const char *name);

/* An ordered column → SQL expression map (backfill set / down). */
typedef struct KeyExpr
{
	char	   *key;
	char	   *expr;
	SrcPos		pos;
} KeyExpr;

typedef struct KeyExprList
{
	KeyExpr    *items;
	size_t		n;
} KeyExprList;

/*
 * One element of an index's column list.  Written as PostgreSQL writes it
 * ("created_at DESC NULLS LAST", "lower(email)", "title text_pattern_ops")
 * or as a mapping; either way it is read into these parts, which the
 * planner writes back with every name quoted.
 */
typedef struct IndexElem
{
	SrcPos		pos;
	char	   *text;			/* the string form as written; NULL: a mapping */
	char	   *column;			/* a column; NULL: expression */
	char	   *expression;		/* SQL expression; NULL: column */
	char	   *order;			/* "asc", "desc"; NULL: the default */
	char	   *nulls;			/* "first", "last"; NULL: the default */
	char	   *opclass;		/* operator class, may be schema.name; NULL */
	char	   *collate;		/* collation, may be schema.name; NULL */
} IndexElem;

typedef struct IndexElemList
{
	IndexElem  *items;
	size_t		n;
} IndexElemList;

/* create_index's fields; also each index of a materialized view. */
typedef struct IndexDef
{
	SrcPos		pos;
	char	   *table;			/* NULL for a materialized view's index */
	char	   *name;
	IndexElemList columns;
	bool		unique;
	char	   *method;			/* NULL: btree */
	char	   *where;			/* NULL: none */
	StrList		include;
	KeyExprList with;			/* storage parameters: name → value as written */
	bool		nulls_not_distinct; /* PostgreSQL 15+ */
} IndexDef;

typedef struct ColumnDef
{
	SrcPos		pos;
	char	   *name;
	char	   *type;
	bool		nullable;		/* default true */
	char	   *default_expr;	/* NULL: none */
	bool		primary_key;
	bool		unique;
	char	   *ref_table;		/* references.table; NULL: no reference */
	char	   *ref_column;		/* references.column; NULL: the referenced PK */
	char	   *ref_on_delete;	/* NULL: default */
	char	   *ref_name;		/* references.name: the constraint's; NULL: PostgreSQL's */
	char	   *check;			/* NULL: none */
	char	   *check_name;		/* check given as {name, expr}; NULL: PostgreSQL's */
	char	   *comment;		/* NULL: none */
} ColumnDef;

typedef enum ConstraintKind
{
	CONSTRAINT_CHECK,
	CONSTRAINT_FOREIGN_KEY,
	CONSTRAINT_UNIQUE,
	CONSTRAINT_PRIMARY_KEY,
	CONSTRAINT_EXCLUDE
} ConstraintKind;

/* add_constraint's body, and an entry of create_table's constraints[]. */
typedef struct ConstraintDef
{
	SrcPos		pos;
	char	   *name;
	ConstraintKind kind;
	char	   *check;			/* CONSTRAINT_CHECK */
	StrList		columns;		/* FOREIGN_KEY, UNIQUE, PRIMARY_KEY */
	char	   *ref_table;		/* FOREIGN_KEY */
	StrList		ref_columns;	/* FOREIGN_KEY */
	char	   *on_delete;		/* FOREIGN_KEY; NULL: default */
	char	   *on_update;		/* FOREIGN_KEY; NULL: default */
	StrList		include;		/* UNIQUE, PRIMARY_KEY: INCLUDE (...) columns */
	char	   *exclude_using;	/* EXCLUDE: the index method; NULL: gist */
	IndexElemList exclude_elems;	/* EXCLUDE: each column or expression ... */
	StrList		exclude_ops;	/* ... WITH this operator */
	char	   *exclude_where;	/* EXCLUDE: NULL, or a predicate */
} ConstraintDef;

typedef enum DefaultChange
{
	DEFAULT_KEEP,				/* key absent */
	DEFAULT_SET,				/* default: "expr" */
	DEFAULT_DROP				/* default: null */
} DefaultChange;

typedef enum Tristate
{
	TRI_UNSET = -1,
	TRI_FALSE = 0,
	TRI_TRUE = 1
} Tristate;

/* ---- partitions (include/partition.h computes their bounds and names) ---- */

typedef enum PartitionMethod
{
	PARTITION_NONE,				/* not partitioned */
	PARTITION_RANGE,
	PARTITION_LIST,
	PARTITION_HASH
} PartitionMethod;

/* The period of generated range partitions. */
typedef enum PartitionInterval
{
	INTERVAL_NONE,
	INTERVAL_DAY,
	INTERVAL_WEEK,				/* from a Monday */
	INTERVAL_MONTH,
	INTERVAL_YEAR
} PartitionInterval;

/*
 * The values of one partition: a range's from and to (one value per key
 * column; "MINVALUE" / "MAXVALUE" as such, anything else a literal), a
 * list's values, a hash's modulus and remainder, or the default partition.
 */
typedef struct PartitionBound
{
	SrcPos		pos;
	bool		is_default;
	StrList		from;			/* range */
	StrList		to;
	StrList		in;				/* list */
	bool		in_null;		/* list: NULL is one of the values */
	int64_t		modulus;		/* hash; 0: not a hash bound */
	int64_t		remainder;
} PartitionBound;

/* A partition named in the file: partitions: [{name, values}]. */
typedef struct PartitionDef
{
	SrcPos		pos;
	char	   *name;			/* may be schema-qualified */
	PartitionBound bound;
} PartitionDef;

/* partition_by and partitions of create_table, and partition_table's by. */
typedef struct Partitioning
{
	SrcPos		pos;
	PartitionMethod method;		/* PARTITION_NONE: not partitioned */
	StrList		columns;		/* the partition key */
	/* generated range partitions: every, from, to ("YYYY-MM-DD"), default */
	PartitionInterval every;	/* INTERVAL_NONE: none generated */
	char	   *from;
	char	   *to;
	bool		with_default;
	int64_t		modulus;		/* generated hash partitions; 0: none */
	PartitionDef *parts;		/* the partitions named in the file */
	size_t		n_parts;
} Partitioning;

typedef struct TenantFrom
{
	SrcPos		pos;
	char	   *table;			/* the child table */
	char	   *parent;			/* table it takes its tenant from */
	char	   *via;			/* the child's column referencing the parent */
} TenantFrom;

typedef struct Operation
{
	OpKind		kind;
	SrcPos		pos;			/* of the operation's key */
	int			index;			/* 0-based position in the file */
	char	   *unsafe_ok;		/* reason, or NULL */
	union
	{
		struct
		{
			char	   *name;
			ColumnDef  *columns;
			size_t		n_columns;
			StrList		primary_key;
			ConstraintDef *constraints;
			size_t		n_constraints;
			Partitioning partitioning;	/* method NONE: a plain table */
		}			create_table;
		struct
		{
			char	   *name;
		}			drop_table;
		struct
		{
			char	   *from;
			char	   *to;
		}			rename_table;
		struct
		{
			char	   *table;
			ColumnDef	column;
			char	   *backfill;	/* SQL expression, or NULL */
		}			add_column;
		struct
		{
			char	   *table;
			char	   *column;
		}			drop_column;
		struct
		{
			char	   *table;
			char	   *from;
			char	   *to;
		}			rename_column;
		struct
		{
			char	   *table;
			char	   *column;
			char	   *type;		/* NULL: unchanged */
			char	   *using_expr; /* NULL: none */
			Tristate	nullable;
			DefaultChange default_change;
			char	   *default_expr;	/* DEFAULT_SET */
			bool		unique;		/* add a unique constraint on the column */
			char	   *check_name; /* check: {name, expr}; NULL: none */
			char	   *check_expr;
			bool		comment_given;	/* comment: text, or null to remove it */
			char	   *comment;	/* NULL with comment_given: remove */
		}			alter_column;
		struct
		{
			char	   *table;
			KeyExprList set;
			char	   *where;		/* NULL: every row */
			int64_t		batch_size; /* 0: the setting */
			int64_t		batch_delay_ms; /* -1: the setting */
			KeyExprList down;	/* empty: restore saved values */
		}			backfill;
		IndexDef	create_index;
		struct
		{
			char	   *name;
		}			drop_index;
		struct
		{
			char	   *table;
			ConstraintDef constraint;
		}			add_constraint;
		struct
		{
			char	   *table;
			char	   *name;
		}			drop_constraint;
		struct
		{
			char	   *table;
			bool		force;
		}			rls;		/* OP_ENABLE_RLS, OP_DISABLE_RLS */
		struct
		{
			char	   *table;
			char	   *name;
			char	   *command;	/* all select insert update delete; NULL: all */
			StrList		roles;		/* empty: public */
			char	   *using_expr;
			char	   *with_check;
			bool		permissive; /* default true */
		}			policy;		/* OP_CREATE_POLICY, OP_DROP_POLICY */
		struct
		{
			char	   *tenant_table;	/* default "tenants" */
			char	   *column;		/* default "tenant_id" */
			char	   *type;		/* default "integer" */
			char	   *default_tenant_id;	/* scalar as written */
			char	   *default_tenant_name;
			StrList		tables;
			bool		all;
			StrList		exclude;
			TenantFrom *tenant_from;
			size_t		n_tenant_from;
			bool		foreign_key;	/* default true */
			bool		index;		/* default true */
			char	   *primary_key;	/* NULL or "include_tenant" */
			char	   *rls_setting;	/* NULL: no RLS */
			char	   *rls_admin_role;
		}			multi_tenancy;
		struct
		{
			char	   *name;
			char	   *query;		/* NULL for drop_view */
			Tristate	security_invoker;
			char	   *check_option;	/* "local", "cascaded"; NULL: none */
		}			view;		/* OP_CREATE_VIEW, OP_REPLACE_VIEW, OP_DROP_VIEW */
		struct
		{
			char	   *name;
			char	   *query;		/* create, replace */
			bool		populate;	/* create: default true */
			bool		concurrently;	/* refresh: default true */
			IndexDef   *indexes;	/* create, replace */
			size_t		n_indexes;
		}			matview;	/* OP_*_MATERIALIZED_VIEW */
		struct
		{
			char	   *name;
			StrList		enum_values;	/* an enum; or */
			StrList		attr_names; /* a composite's attributes */
			StrList		attr_types;
		}			type;		/* OP_CREATE_TYPE, OP_DROP_TYPE */
		struct
		{
			char	   *type;
			char	   *value;
			char	   *before;		/* NULL: none */
			char	   *after;		/* NULL: none */
		}			add_enum_value;
		struct
		{
			char	   *kind;		/* table column index constraint view
									 * materialized_view type */
			char	   *table;		/* column, constraint: its table */
			char	   *name;		/* the object (the column, the constraint) */
			char	   *text;		/* NULL: remove the comment */
		}			comment;
		struct
		{
			char	   *table;
			char	   *identity;	/* default full nothing index */
			char	   *index;		/* identity "index" */
		}			replica_identity;
		struct
		{
			StrList		privileges; /* lower-case: select, insert, ..., all */
			char	   *kind;		/* table schema sequence function */
			char	   *object;		/* a function: name(argtypes), as written */
			StrList		roles;
		}			grant;		/* OP_GRANT, OP_REVOKE */
		struct
		{
			char	   *name;
			bool		login;		/* default false */
			bool		inherit;	/* default true */
			StrList		in_roles;
		}			create_role;
		struct
		{
			char	   *up;
			int			up_line;	/* line of up's first line in the file */
			char	   *down;		/* NULL: irreversible, unless down_none */
			bool		down_none;	/* "down: null": nothing to undo */
			int			down_line;	/* line of down's first line; 0: no down */
			bool		transactional;	/* default true */
		}			sql;
		struct
		{
			char	   *table;
			char	   *to;			/* "YYYY-MM-DD": partitions up to it */
			PartitionInterval every;	/* NONE: as the existing ones */
			char	   *from;		/* NULL: after the existing ones */
			bool		force;		/* rollback drops them though they hold rows */
		}			add_partitions;
		struct
		{
			char	   *table;
			char	   *partition;
			PartitionBound values;
		}			attach_partition;
		struct
		{
			char	   *table;
			char	   *partition;
		}			detach_partition;
		struct
		{
			char	   *table;
			Partitioning by;
		}			partition_table;
	}			u;
} Operation;

/* Where a text of a migration (an SQL expression, say) was written. */
typedef struct TextPos
{
	const char *text;			/* the model's string (pointer identity) */
	SrcPos		pos;
} TextPos;

typedef struct Migration
{
	char	   *path;			/* as found, for messages */
	int64_t		version;
	char	   *version_text;	/* as written in the file name: "0001" */
	char	   *name;
	char	   *description;	/* NULL: none */
	Settings	settings;		/* only the given mask is meaningful */
	Operation  *ops;
	size_t		n_ops;
	char	   *checksum;		/* "sha256:<hex>" of the canonical form */
	char	   *source;			/* the file's text as read; NULL: not kept */
	TextPos    *text_pos;		/* where each scalar text of ops was written */
	size_t		n_text_pos;
	size_t		cap_text_pos;
} Migration;

typedef struct MigrationSet
{
	Migration  *items;			/* ascending version */
	size_t		n;
} MigrationSet;

/*
 * Loads every <version>_<name>.yaml of dir, sorted by version.  On the first
 * problem returns false with err (EXIT_USAGE) naming file:line:col.
 */
bool		spec_load_dir(const char *dir, MigrationSet *out, Error *err);

/* Loads one file; its base name gives version and name. */
bool		spec_load_file(const char *path, Migration *out, Error *err);

/*
 * Loads a migration from memory.  path is used for messages and, through its
 * base name, for version and name.  The fuzz target calls this.
 */
bool		spec_load_buffer(const char *path, const char *data, size_t len,
							 Migration *out, Error *err);

/*
 * Parses a file name "<version>_<name>.yaml" (no directory).  Returns false
 * for anything else.  version_text and name are malloc'd.
 */
bool		spec_parse_filename(const char *base, int64_t *version,
								char **version_text, char **name);

/*
 * The canonical form that the checksum covers: the operations as parsed,
 * every field in a fixed order.  Comments, layout, quoting style, line
 * endings, key order and description are not part of it; any change to an
 * operation is.
 */
void		spec_canonical(Buf *out, const Migration *m);

/*
 * Where the model's string text (a field of one of m's operations, by
 * pointer) was written in the file; NULL when it is not known.
 */
const SrcPos *migration_text_pos(const Migration *m, const char *text);
/*
 * Records where text was written; then migration_index_texts, once all are
 * noted, makes migration_text_pos a binary search (the loader calls both).
 */
void		migration_note_text(Migration *m, const char *text, const SrcPos *pos);
void		migration_index_texts(Migration *m);

void		migration_free(Migration *m);
void		migration_set_free(MigrationSet *set);
const Migration *migration_set_find(const MigrationSet *set, int64_t version);

#endif
