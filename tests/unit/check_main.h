/*
 * check_main.h: each tests/unit/test_*.c is its own Check program.  It
 * defines "static Suite *make_suite(void)" and includes this file last.
 * Fixtures are read relative to tests/unit (make unit runs from there).
 */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

int
main(void)
{
	SRunner    *sr = srunner_create(make_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
