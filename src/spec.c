/* STUB: replaced by the real spec module. */
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

void settings_defaults(Settings *s) { (void) s; }
void settings_overlay(Settings *d, const Settings *s) { (void) d; (void) s; }
bool parse_duration(const char *t, int64_t *ms) { (void) t; (void) ms; return false; }
const char *op_kind_name(OpKind k) { (void) k; return "?"; }
int op_kind_from_name(const char *n) { (void) n; return -1; }
bool spec_load_dir(const char *d, MigrationSet *o, Error *e) { (void) d; (void) o; return NI(e); }
bool spec_load_file(const char *p, Migration *o, Error *e) { (void) p; (void) o; return NI(e); }
bool spec_load_buffer(const char *p, const char *d, size_t l, Migration *o, Error *e) { (void) p; (void) d; (void) l; (void) o; return NI(e); }
bool spec_parse_filename(const char *b, int64_t *v, char **vt, char **n) { (void) b; (void) v; (void) vt; (void) n; return false; }
void spec_canonical(Buf *o, const Migration *m) { (void) o; (void) m; }
void migration_free(Migration *m) { (void) m; }
void migration_set_free(MigrationSet *s) { (void) s; }
const Migration *migration_set_find(const MigrationSet *s, int64_t v) { (void) s; (void) v; return NULL; }
