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

/* 1: exists, 0: does not, -1: could not tell. */
int			catalog_table_exists(const Catalog *cat, const char *table);

#endif
