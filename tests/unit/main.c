/*
 * The unit test runner: every suite of suites.h in one SRunner.  Each test
 * runs in its own process (CK_FORK, unless CK_FORK=no says otherwise); the
 * exit status is non-zero when any test failed.
 */
#include <stdlib.h>
#include "suites.h"

static Suite *(*const suites[])(void) = {
	error_suite,
	buf_suite,
	util_suite,
	fs_suite,
	secret_suite,
	node_suite,
	key_suite,
	repo_suite,
	txn_suite,
	definition_suite,
	history_suite,
};

int main(void)
{
	SRunner *runner = srunner_create(NULL);
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(runner, suites[i]());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
