/*
 * The unit test runner: every suite of suites.h in one SRunner.  Each test
 * runs in its own process (CK_FORK, unless CK_FORK=no says otherwise) with
 * its files under one temporary directory removed at the end; the exit
 * status is non-zero when any test failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include "fixture.h"
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
	fsck_suite,
	ca_suite,
	acquire_suite,
	keystore_suite,
	verify_suite,
};

int main(void)
{
	char tmpdir[] = "/tmp/certctl-unit-XXXXXX";
	SRunner *runner = NULL;
	int failed;

	/* Every fixture makes its directory in here; a failed test exits
	 * without its teardown, so the whole tree goes at the end. */
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	setenv("CERTCTL_TEST_TMPDIR", tmpdir, 1);
	runner = srunner_create(NULL);
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(runner, suites[i]());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	fx_remove_tree(tmpdir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
