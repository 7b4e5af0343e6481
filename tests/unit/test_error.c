/*
 * Tests of the error convention (lib/error.c): the per-thread last error,
 * its code and message, and the errno bridge.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "suites.h"

START_TEST(test_error_set_returns_code_and_keeps_message)
{
	int rc = cc_error_set(CC_EINVALID, "bad name '%s'", "x/y");

	ck_assert_int_eq(rc, CC_EINVALID);
	ck_assert_int_eq(cc_error_code(), CC_EINVALID);
	ck_assert_str_eq(cc_error_last(), "bad name 'x/y'");
}
END_TEST

START_TEST(test_error_clear_forgets_message_and_code)
{
	cc_error_set(CC_EIO, "disk on fire");
	cc_error_clear();
	ck_assert_str_eq(cc_error_last(), "");
	ck_assert_int_eq(cc_error_code(), CC_OK);
}
END_TEST

struct thread_view {
	char message[64];
	int code;
};

static void *other_thread(void *arg)
{
	struct thread_view *view = arg;

	view->code = cc_error_code();
	snprintf(view->message, sizeof(view->message), "%s", cc_error_last());
	cc_error_set(CC_ENET, "set in the other thread");
	return NULL;
}

START_TEST(test_error_is_kept_per_thread)
{
	struct thread_view view = { "unset", 12345 };
	pthread_t thread;

	cc_error_set(CC_EAUTH, "set in the main thread");
	ck_assert_int_eq(pthread_create(&thread, NULL, other_thread, &view), 0);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	/* a new thread starts without an error ... */
	ck_assert_str_eq(view.message, "");
	ck_assert_int_eq(view.code, CC_OK);
	/* ... and its errors do not leak into ours */
	ck_assert_str_eq(cc_error_last(), "set in the main thread");
	ck_assert_int_eq(cc_error_code(), CC_EAUTH);
}
END_TEST

START_TEST(test_error_set_replaces_previous_message)
{
	cc_error_set(CC_ENOTFOUND, "first");
	cc_error_set(CC_EEXISTS, "second");
	ck_assert_str_eq(cc_error_last(), "second");
	ck_assert_int_eq(cc_error_code(), CC_EEXISTS);
}
END_TEST

START_TEST(test_error_set_truncates_long_messages_safely)
{
	char big[4096];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(cc_error_set(CC_ERROR, "%s", big), CC_ERROR);
	ck_assert_uint_gt(strlen(cc_error_last()), 100);
	ck_assert_uint_lt(strlen(cc_error_last()), sizeof(big));
	ck_assert_int_eq(cc_error_last()[0], 'x');
}
END_TEST

START_TEST(test_error_names_are_distinct_for_every_code)
{
	static const int codes[] = { CC_ERROR, CC_ENOTFOUND, CC_EEXISTS, CC_EINVALID,
				     CC_ELOCKED, CC_ENET, CC_ETLS, CC_EAUTH, CC_EPENDING,
				     CC_EIO, CC_ENOREPO, CC_EMISMATCH };
	size_t n = sizeof(codes) / sizeof(codes[0]);

	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(cc_error_name(codes[i]));
		ck_assert_uint_gt(strlen(cc_error_name(codes[i])), 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(cc_error_name(codes[i]), cc_error_name(codes[j]));
	}
}
END_TEST

START_TEST(test_error_errno_appends_strerror_and_maps_code)
{
	int rc;

	errno = ENOENT;
	rc = cc_error_errno(0, "cannot open '%s'", "/nope");
	ck_assert_int_eq(rc, CC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "cannot open '/nope'"));
	ck_assert_ptr_nonnull(strstr(cc_error_last(), strerror(ENOENT)));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_error_from_errno_maps_known_values)
{
	ck_assert_int_eq(cc_error_from_errno(ENOENT), CC_ENOTFOUND);
	ck_assert_int_eq(cc_error_from_errno(EEXIST), CC_EEXISTS);
	ck_assert_int_eq(cc_error_from_errno(EACCES), CC_EIO);
}
END_TEST

START_TEST(test_version_is_the_build_version)
{
	ck_assert_str_eq(cc_version(), CERTCTL_VERSION);
}
END_TEST

Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_error_set_returns_code_and_keeps_message);
	tcase_add_test(tc, test_error_clear_forgets_message_and_code);
	tcase_add_test(tc, test_error_is_kept_per_thread);
	tcase_add_test(tc, test_error_set_replaces_previous_message);
	tcase_add_test(tc, test_error_set_truncates_long_messages_safely);
	tcase_add_test(tc, test_error_names_are_distinct_for_every_code);
	tcase_add_test(tc, test_error_errno_appends_strerror_and_maps_code);
	tcase_add_test(tc, test_error_from_errno_maps_known_values);
	tcase_add_test(tc, test_version_is_the_build_version);
	suite_add_tcase(s, tc);
	return s;
}
