/*
 * golden.h: golden files of the unit tests: read_text, and check_golden,
 * which compares a text with its golden file or, under UPDATE_GOLDEN=1,
 * rewrites the file.  Included by one test program each, so its functions
 * are static.
 */
#ifndef GOLDEN_H
#define GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util.h"

static char *
read_text(const char *path)
{
	Error		err = {0};
	char	   *text = read_file(path, 16 * 1024 * 1024, NULL, &err);

	error_clear(&err);
	return text;
}

/* Compares got with the golden file, or rewrites it under UPDATE_GOLDEN=1. */
static void
check_golden(const char *path, const char *got)
{
	char	   *want;
	const char *g;
	const char *w;
	int			line = 1;

	if (getenv("UPDATE_GOLDEN") && strcmp(getenv("UPDATE_GOLDEN"), "1") == 0)
	{
		FILE	   *f = fopen(path, "w");

		ck_assert_msg(f != NULL, "cannot write %s", path);
		fputs(got, f);
		fclose(f);
		return;
	}
	want = read_text(path);
	ck_assert_msg(want != NULL, "%s is missing: run the tests with UPDATE_GOLDEN=1", path);
	for (g = got, w = want; *g && *g == *w; g++, w++)
		if (*g == '\n')
			line++;
	ck_assert_msg(*g == '\0' && *w == '\0',
				  "%s differs at line %d (UPDATE_GOLDEN=1 rewrites it; check the diff)",
				  path, line);
	free(want);
}

#endif
