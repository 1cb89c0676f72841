/* STUB: replaced by the real db module. */
#include <stdlib.h>
#include "catalog.h"
#include "cli.h"
#include "db.h"
#include "executor.h"
#include "plan.h"
#include "render.h"
#include "spec.h"
#include "state.h"


#define NI(err) error_set((err), EXIT_STEP_FAILED, "not implemented")

PGconn *db_connect(const char *c, Error *e) { (void) c; NI(e); return NULL; }
PGconn *db_connect_like(PGconn *c, Error *e) { (void) c; NI(e); return NULL; }
char *db_redact_conninfo(const char *c) { return xstrdup(c); }
bool db_exec(PGconn *c, const char *s, Error *e) { (void) c; (void) s; return NI(e); }
PGresult *db_query(PGconn *c, const char *s, int n, const char *const *p, Error *e) { (void) c; (void) s; (void) n; (void) p; NI(e); return NULL; }
bool db_result_error(const PGresult *r, int x, Error *e) { (void) r; (void) x; return NI(e); }
char *db_applied_by(PGconn *c) { (void) c; return NULL; }
