/* STUB: replaced by the real executor module. */
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

volatile int executor_interrupted;
bool execute_migration(ExecContext *c, const MigrationPlan *mp, Error *e) { (void) c; (void) mp; return NI(e); }
bool execute_rollback(ExecContext *c, const MigrationPlan *mp, const StrList *d, Error *e) { (void) c; (void) mp; (void) d; return NI(e); }
bool execute_step(ExecContext *c, const Migration *m, const Step *s, bool r, Error *e) { (void) c; (void) m; (void) s; (void) r; return NI(e); }
void executor_install_signal_handlers(void) {}
void executor_set_cancel_conn(PGconn *c) { (void) c; }
