/* STUB: replaced by the real state module. */
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

const char *history_status_name(HistoryStatus s) { (void) s; return "?"; }
bool history_ensure(PGconn *c, const char *t, Error *e) { (void) c; (void) t; return NI(e); }
bool history_load(PGconn *c, const char *t, History *o, Error *e) { (void) c; (void) t; (void) o; return NI(e); }
const HistoryRow *history_find(const History *h, int64_t v) { (void) h; (void) v; return NULL; }
void history_free(History *h) { (void) h; }
bool history_mark_running(PGconn *c, const char *t, const Migration *m, const char *a, Error *e) { (void) c; (void) t; (void) m; (void) a; return NI(e); }
bool history_mark_completed(PGconn *c, const char *t, const Migration *m, int64_t x, Error *e) { (void) c; (void) t; (void) m; (void) x; return NI(e); }
bool history_mark_failed(PGconn *c, const char *t, const Migration *m, const char *s, int64_t x, Error *e) { (void) c; (void) t; (void) m; (void) s; (void) x; return NI(e); }
bool history_mark_rolled_back(PGconn *c, const char *t, int64_t v, Error *e) { (void) c; (void) t; (void) v; return NI(e); }
bool runlock_acquire(RunLock *l, PGconn *c, const char *t, Error *e) { (void) l; (void) c; (void) t; return NI(e); }
void runlock_release(RunLock *l) { (void) l; }
Journal *journal_open(const char *p, Error *e) { (void) p; NI(e); return NULL; }
void journal_close(Journal *j) { (void) j; }
int64_t journal_run_begin(Journal *j, const char *c, const char *d) { (void) j; (void) c; (void) d; return -1; }
void journal_run_end(Journal *j, int64_t r, int x) { (void) j; (void) r; (void) x; }
int64_t journal_step_begin(Journal *j, int64_t r, const Migration *m, const Step *s, bool b) { (void) j; (void) r; (void) m; (void) s; (void) b; return -1; }
void journal_step_attempt(Journal *j, int64_t r, int a, int64_t w, const char *e) { (void) j; (void) r; (void) a; (void) w; (void) e; }
void journal_step_end(Journal *j, int64_t r, const char *s, const char *e, int64_t n) { (void) j; (void) r; (void) s; (void) e; (void) n; }
bool journal_save_cursor(Journal *j, int64_t v, const char *s, const char *c, int64_t r) { (void) j; (void) v; (void) s; (void) c; (void) r; return false; }
char *journal_load_cursor(Journal *j, int64_t v, const char *s, int64_t *r) { (void) j; (void) v; (void) s; (void) r; return NULL; }
bool journal_completed_steps(Journal *j, int64_t v, StrList *o) { (void) j; (void) v; (void) o; return false; }
