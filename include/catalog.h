/*
 * catalog.h: questions about the live database.  The planner and lint ask
 * these; nothing else reads pg_catalog.
 */
#ifndef MIGRATE_CATALOG_H
#define MIGRATE_CATALOG_H

#include <libpq-fe.h>

#include "spec.h"
#include "util.h"

typedef struct CatalogSnapshot CatalogSnapshot;

typedef struct Catalog
{
	PGconn	   *conn;			/* borrowed; NULL: no database, only what the
								 * snapshot was told (the planner's unit tests) */
	int			server_version; /* PQserverVersion: 150004 */
	CatalogSnapshot *snap;		/* owned: what planning learnt, and assumes, of
								 * the database (catalog_snapshot.c) */
} Catalog;

bool		catalog_open(Catalog *cat, PGconn *conn, Error *err);

/* ---- the snapshot (catalog_snapshot.c) ---- */

/*
 * An empty table gets the plain statements even online (docs/design.md,
 * "The cheapest safe technique"): at most this many rows, counted (0: an
 * empty one; a higher bound lets small tables in), and this many bytes on
 * disk, its indexes and TOAST included.
 */
#define CATALOG_SMALL_ROWS 0
#define CATALOG_SMALL_BYTES ((int64_t) 1024 * 1024)

void		catalog_snapshot_init(Catalog *cat);	/* an empty snapshot (catalog_open) */
void		catalog_close(Catalog *cat);	/* frees the snapshot; the connection stays */

/* Forgets what the snapshot holds: the database changed (a migration ran). */
void		catalog_forget(const Catalog *cat);

/*
 * What planning assumes of a table that an earlier migration of the set
 * being planned creates: it is there, and empty, when its turn comes.
 */
void		catalog_assume_empty(const Catalog *cat, const char *table);

/*
 * What planning assumes after an earlier migration of the set that may
 * write rows anywhere (its own SQL): no table is known empty from here on
 * but those the migrations after it create.
 */
void		catalog_assume_written(const Catalog *cat);

/*
 * Whether table is small enough for the plain statements: an ordinary
 * table (not partitioned, no partition, no inheritance children) within
 * CATALOG_SMALL_BYTES and CATALOG_SMALL_ROWS; 1 it is (*rows: 0 empty,
 * else at most CATALOG_SMALL_ROWS), 0 it is not, -1 cannot tell (no such
 * table, a lock held against it for long).  Asked once per table and
 * snapshot.
 */
int			catalog_small_table(const Catalog *cat, const char *table, int64_t *rows);

/*
 * An operation's technique, as an earlier run of its migration chose it:
 * PLAIN (recorded under key in migrate.saved_objects, *reason the record's
 * text, malloc'd), ONLINE (the migration has a run that is not rolled back
 * and recorded none: it ran online, and so it goes on, is rolled back and
 * finalized), FREE (no such run: the planner chooses now), ERROR (err).
 */
typedef enum PlainChoice
{
	PLAIN_CHOICE_FREE,
	PLAIN_CHOICE_PLAIN,
	PLAIN_CHOICE_ONLINE,
	PLAIN_CHOICE_ERROR
} PlainChoice;

PlainChoice catalog_plain_choice(const Catalog *cat, int64_t version, const char *key,
								 char **reason, Error *err);

/* ---- questions (catalog.c) ---- */

/* Planner's row estimate (reltuples), -1 when unknown or no such table. */
int64_t		catalog_row_estimate(const Catalog *cat, const char *table);

/*
 * The index a walk over every row of a table goes by (a backfill, the save
 * of its old values): the primary key, else the unique index of fewest
 * columns, all NOT NULL, without expressions or predicate, so that each row
 * has one key and no two rows the same.  REL is the regclass expression.
 * One text for the C catalog question and migrate's SQL helpers, so both
 * choose the same key.
 */
#define CATALOG_WALK_KEY_INDEX(REL) \
	"(SELECT i.indexrelid FROM pg_catalog.pg_index i " \
	"WHERE i.indrelid = " REL " AND i.indisvalid AND (i.indisprimary OR " \
	"(i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL " \
	"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a " \
	"WHERE a.attrelid = i.indrelid AND NOT a.attnotnull " \
	"AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])))) " \
	"ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid LIMIT 1)"

/*
 * The walk key's columns (CATALOG_WALK_KEY_INDEX) in key order, with their
 * format_type(); none when the table has no such key.  False with err when
 * the question failed (no such table, say).
 */
bool		catalog_walk_key(const Catalog *cat, const char *table,
							 StrList *names, StrList *types, Error *err);

/* The primary key's columns in key order, with their format_type(); none without one. */
bool		catalog_primary_key(const Catalog *cat, const char *table,
								StrList *names, StrList *types, Error *err);

/* The table's size in pages, -1 when it cannot be told. */
int64_t		catalog_table_pages(const Catalog *cat, const char *table);

/* Who writes a column: for identity and generated columns, the server. */
typedef enum ColumnWriter
{
	COLUMN_WRITER_UNKNOWN = -1, /* no such column (yet), or cannot tell */
	COLUMN_WRITER_ANY,			/* an ordinary column */
	COLUMN_WRITER_IDENTITY,		/* GENERATED ... AS IDENTITY */
	COLUMN_WRITER_GENERATED		/* GENERATED ALWAYS AS (...) STORED */
} ColumnWriter;

ColumnWriter catalog_column_writer(const Catalog *cat, const char *table,
								   const char *column);

/*
 * Whether table holds more than limit rows, counted (at most limit + 1 rows
 * read): 1 it does, 0 it does not, -1 could not tell (no such table, a lock
 * held against it for long).
 */
int			catalog_rows_exceed(const Catalog *cat, const char *table, int64_t limit);

/*
 * Whether table is an ordinary table (not partitioned, no partition, no
 * inheritance children) of at most bytes on disk, indexes and TOAST
 * included: 1, 0, -1 could not tell.
 */
int			catalog_table_within(const Catalog *cat, const char *table, int64_t bytes);

/*
 * Whether relation (a materialized view) has a unique index on plain
 * columns without a WHERE, as REFRESH ... CONCURRENTLY needs: 1, 0, or -1
 * (no such relation, or it cannot be told).
 */
int			catalog_has_unique_index(const Catalog *cat, const char *relation);

/* 1: exists, 0: does not, -1: could not tell. */
int			catalog_table_exists(const Catalog *cat, const char *table);

/*
 * Whether table has a unique (or primary key) constraint called name on
 * column alone that migrate did not make: 1 it has, 0 not, -1 could not
 * tell.
 */
int			catalog_unique_on_column(const Catalog *cat, const char *table, const char *name,
									 const char *column);

/* Whether table has column: 1 it has, 0 it has not (or no such table), -1 could not tell. */
int			catalog_column_exists(const Catalog *cat, const char *table, const char *column);

/*
 * Whether ALTER COLUMN ... TYPE new_type [USING using_expr] on table.column
 * rewrites the table: 1 it does, 0 it does not (varchar(50) -> varchar(100),
 * varchar -> text, numeric precision growth), -1 it cannot be told (no such
 * column, a type or expression the server refuses; err says why).
 */
int			catalog_type_change_rewrites(const Catalog *cat, const char *table,
										 const char *column, const char *new_type,
										 const char *using_expr, Error *err);

/*
 * The volatility of the functions named name (any schema, any arguments):
 * 'i', 's' or 'v' for the most volatile of them; 0 when there is none or it
 * cannot be told.  lint asks it about a column default.
 */
char		catalog_function_volatility(const Catalog *cat, const char *name);

/*
 * Whether SET NOT NULL on table.column would skip its scan: the column is
 * NOT NULL already, or a validated CHECK (column IS NOT NULL) proves it
 * (PostgreSQL 12+).  False when it cannot be told.
 */
bool		catalog_not_null_proven(const Catalog *cat, const char *table, const char *column);

/*
 * Whether a validated CHECK (column IS NOT NULL) of table's own proves
 * column NOT NULL (PostgreSQL 12+), whatever the column's NOT NULL: the
 * planner's SET NOT NULL then needs no check of its own.  False when it
 * cannot be told.
 */
bool		catalog_not_null_checked(const Catalog *cat, const char *table, const char *column);

/*
 * The ordinary tables of the schema of like_table (schema-qualified or not,
 * as written; it need not exist), as names that resolve from this session:
 * "table" in the current schema, else "schema.table"; sorted.  Left out:
 * partitioned tables and their partitions (no NOT VALID foreign key, no
 * concurrent index on them), tables of extensions, schema migrate, history tables (any
 * table with the columns any history table has, whatever --table named
 * it), and the tables named in exclude (as written).  False with err when the
 * question failed.
 */
bool		catalog_list_tables(const Catalog *cat, const char *like_table,
								const StrList *exclude, StrList *out, Error *err);

/*
 * A list that a migration saved in migrate.saved_objects under (version,
 * key) as a JSON array of strings: 1 and out filled when it is there, 0 when
 * it is not (nor the table; an empty list reads as none), -1 with err when
 * the question failed.
 */
int			catalog_saved_list(const Catalog *cat, int64_t version, const char *key,
							   StrList *out, Error *err);

/*
 * The columns of table that an INSERT writes (not generated, not dropped),
 * quoted and ", "-separated, in their order; NULL with err when the
 * question failed or there is no such table.
 */
char	   *catalog_insert_columns(const Catalog *cat, const char *table, Error *err);

/*
 * The on-disk size of table (with TOAST) and of its indexes, in bytes;
 * false when it cannot be told.
 */
bool		catalog_relation_sizes(const Catalog *cat, const char *table,
								   int64_t *table_bytes, int64_t *index_bytes);

/*
 * The partitions of a partitioned table: their names (as names that
 * resolve from this session) and bounds (pg_get_expr of relpartbound:
 * "FOR VALUES FROM (...) TO (...)", "DEFAULT"), by name.  None for a table
 * that is not partitioned.  False with err when the question failed.
 */
bool		catalog_partitions(const Catalog *cat, const char *table, StrList *names,
							   StrList *bounds, Error *err);

/*
 * The partitioning of table: its method and key columns (an expression in
 * the key: false).  False when it is not partitioned or cannot be told.
 */
bool		catalog_partition_key(const Catalog *cat, const char *table,
								  PartitionMethod *method, StrList *columns);

/*
 * What a view under the old name of table cannot stand in for, as one
 * line ("referenced by the foreign keys ...; TRUNCATE granted to ...; read
 * by the views ..."); NULL when none is visible or it cannot be told.
 * Malloc'd.  (catalog_rename.c)
 */
char	   *catalog_table_old_name_uses(const Catalog *cat, const char *table);

/*
 * Why table.column cannot get a twin kept in step by a trigger ("part of
 * the primary key", "referenced by a foreign key", "an identity column", "a
 * generated column"); NULL: it can, or it cannot be told.  Static text.
 */
const char *catalog_column_pinned(const Catalog *cat, const char *table, const char *column);

/*
 * What carries over to the new column of a rename_column, each written
 * over the new name by the server (on an empty temporary copy whose column
 * it renames, in a transaction rolled back): kind 'i' an index, 'U' a
 * unique index, 'u' a unique constraint's index, 'x' an exclusion
 * constraint's (definition: "USING btree (...) ..." for CREATE INDEX ... ON
 * t); 'c' a check, 'f' a foreign key (definition: the constraint's body;
 * referenced: the table it references).  name: the original's.
 */
typedef struct RenamedDependent
{
	char		kind;
	char	   *name;
	char	   *definition;
	char	   *referenced;
} RenamedDependent;

bool		catalog_renamed_dependents(const Catalog *cat, const char *table, const char *from,
									   const char *to, RenamedDependent **out, size_t *n,
									   Error *err);
void		renamed_dependents_free(RenamedDependent *d, size_t n);

/* 1: name is a table (ordinary or partitioned), 0: it is not (a view, nothing), -1: cannot tell. */
int			catalog_is_table(const Catalog *cat, const char *name);

#endif
