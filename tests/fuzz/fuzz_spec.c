/*
 * fuzz_spec.c: libFuzzer target for the YAML loader.  Any input must give
 * either a Migration or an error, never a crash, a leak or undefined
 * behaviour.  Built and run by tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Migration	m;
	Error		err = {0};

	/* on failure m is zeroed, so freeing it is right on both paths */
	spec_load_buffer("fuzz/0001_fuzz.yaml", (const char *) data, size, &m, &err);
	migration_free(&m);
	error_clear(&err);
	return 0;
}
