/* STUB: replaced by the real planner module. */
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

const char *lock_mode_name(LockMode m) { (void) m; return "?"; }
const char *step_phase_name(StepPhase p) { (void) p; return "?"; }
const char *step_kind_name(StepKind k) { (void) k; return "?"; }
const char *strategy_name(Strategy s) { (void) s; return "?"; }
bool plan_migration(const Migration *m, Strategy s, const struct Catalog *c, MigrationPlan *o, Error *e) { (void) m; (void) s; (void) c; (void) o; return NI(e); }
void step_free(Step *s) { (void) s; }
void migration_plan_free(MigrationPlan *mp) { (void) mp; }
void plan_free(Plan *p) { (void) p; }
