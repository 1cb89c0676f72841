build/executor.o: src/executor.c include/catalog.h \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h include/util.h include/cli.h \
 include/render.h include/plan.h include/spec.h include/db.h \
 include/executor.h include/state.h include/plan.h include/render.h \
 include/spec.h include/state.h
include/catalog.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
include/util.h:
include/cli.h:
include/render.h:
include/plan.h:
include/spec.h:
include/db.h:
include/executor.h:
include/state.h:
include/plan.h:
include/render.h:
include/spec.h:
include/state.h:
