/* STUB: replaced by the real render module. */
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

const char *format_name(Format f) { (void) f; return "?"; }
int format_from_name(const char *n) { (void) n; return -1; }
void render_plan(FILE *o, const Plan *p, Format f, const RenderOptions *r) { (void) o; (void) p; (void) f; (void) r; }
