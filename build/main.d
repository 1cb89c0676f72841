build/main.o: src/main.c include/cli.h include/render.h include/plan.h \
 include/spec.h include/util.h
include/cli.h:
include/render.h:
include/plan.h:
include/spec.h:
include/util.h:
