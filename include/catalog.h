/*
 * catalog.h: questions about the live database.  The planner and lint ask
 * these; nothing else reads pg_catalog.
 */
#ifndef MIGRATE_CATALOG_H
#define MIGRATE_CATALOG_H

#include <libpq-fe.h>

#include "util.h"

typedef struct Catalog
{
	PGconn	   *conn;			/* borrowed */
	int			server_version; /* PQserverVersion: 150004 */
} Catalog;

bool		catalog_open(Catalog *cat, PGconn *conn, Error *err);

/* Planner's row estimate (reltuples), -1 when unknown or no such table. */
int64_t		catalog_row_estimate(const Catalog *cat, const char *table);

/*
 * The primary key's columns in key order, with their format_type(); none
 * when the table has no primary key.  False with err when the question
 * failed (no such table, say).
 */
bool		catalog_primary_key(const Catalog *cat, const char *table,
								StrList *names, StrList *types, Error *err);

/* The table's size in pages, -1 when it cannot be told. */
int64_t		catalog_table_pages(const Catalog *cat, const char *table);

/* 1: exists, 0: does not, -1: could not tell. */
int			catalog_table_exists(const Catalog *cat, const char *table);

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

#endif
