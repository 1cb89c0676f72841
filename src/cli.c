/* STUB: replaced by the real cli module. */
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

int cli_main(int argc, char **argv) { (void) argc; (void) argv; return 2; }
