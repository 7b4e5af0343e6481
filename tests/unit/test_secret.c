/*
 * Tests of cc_secret (lib/secret.c): copies, secret files (newline
 * handling) and the environment (file variable before value variable).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "certctl.h"
#include "fixture.h"
#include "suites.h"

static void assert_secret(const cc_secret *secret, const char *expected, size_t len)
{
	ck_assert_ptr_nonnull(secret);
	ck_assert_uint_eq(cc_secret_len(secret), len);
	if (len)
		ck_assert_mem_eq(cc_secret_data(secret), expected, len);
}

static cc_secret *secret_from_text(const char *name, const char *text)
{
	char path[PATH_MAX];
	cc_secret *secret = NULL;
	int rc;

	fx_path(path, sizeof(path), name);
	fx_write_file(path, text);
	rc = cc_secret_from_file(&secret, path);
	ck_assert_msg(rc == 0, "cc_secret_from_file: %d %s", rc, cc_error_last());
	return secret;
}

START_TEST(test_secret_new_copies_bytes)
{
	char data[] = "pa\0ss";
	cc_secret *secret = NULL;

	ck_assert_int_eq(cc_secret_new(&secret, data, 5), 0);
	data[0] = 'X';
	assert_secret(secret, "pa\0ss", 5);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_new_of_zero_bytes_is_empty_secret)
{
	cc_secret *secret = NULL;

	ck_assert_int_eq(cc_secret_new(&secret, "", 0), 0);
	assert_secret(secret, "", 0);
	cc_secret_free(secret);
	cc_secret_free(NULL);
}
END_TEST

START_TEST(test_secret_file_drops_one_trailing_newline)
{
	cc_secret *secret = secret_from_text("s", "correct horse\n");

	assert_secret(secret, "correct horse", 13);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_file_drops_trailing_crlf)
{
	cc_secret *secret = secret_from_text("s", "correct horse\r\n");

	assert_secret(secret, "correct horse", 13);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_file_without_newline_is_taken_whole)
{
	cc_secret *secret = secret_from_text("s", "no newline");

	assert_secret(secret, "no newline", 10);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_file_drops_only_one_newline)
{
	cc_secret *secret = secret_from_text("s", "two\n\n");

	assert_secret(secret, "two\n", 4);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_file_keeps_inner_and_leading_whitespace)
{
	cc_secret *secret = secret_from_text("s", " a b\tc \n");

	assert_secret(secret, " a b\tc ", 7);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_empty_file_is_empty_secret)
{
	cc_secret *secret = secret_from_text("s", "");

	assert_secret(secret, "", 0);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_file_of_only_newline_is_empty_secret)
{
	cc_secret *secret = secret_from_text("s", "\n");

	assert_secret(secret, "", 0);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_missing_file_is_not_found)
{
	char path[PATH_MAX];
	cc_secret *secret = NULL;

	fx_path(path, sizeof(path), "missing");
	ck_assert_int_eq(cc_secret_from_file(&secret, path), CC_ENOTFOUND);
	ck_assert_ptr_null(secret);
}
END_TEST

START_TEST(test_secret_env_file_var_wins_over_value_var)
{
	char path[PATH_MAX];
	cc_secret *secret = NULL;
	const char *source = NULL;

	fx_path(path, sizeof(path), "pass");
	fx_write_file(path, "from-file\n");
	setenv("TEST_SECRET_FILE", path, 1);
	setenv("TEST_SECRET", "from-value", 1);
	ck_assert_int_eq(cc_secret_from_env(&secret, "TEST_SECRET_FILE", "TEST_SECRET", &source),
			 0);
	assert_secret(secret, "from-file", 9);
	ck_assert_ptr_nonnull(source);
	ck_assert_ptr_nonnull(strstr(source, path));
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_env_value_var_used_without_file_var)
{
	cc_secret *secret = NULL;
	const char *source = NULL;

	unsetenv("TEST_SECRET_FILE");
	setenv("TEST_SECRET", "from-value", 1);
	ck_assert_int_eq(cc_secret_from_env(&secret, "TEST_SECRET_FILE", "TEST_SECRET", &source),
			 0);
	assert_secret(secret, "from-value", 10);
	ck_assert_ptr_nonnull(source);
	ck_assert_ptr_nonnull(strstr(source, "TEST_SECRET"));
	/* the secret itself never appears in the description */
	ck_assert_ptr_null(strstr(source, "from-value"));
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_env_source_is_optional)
{
	cc_secret *secret = NULL;

	setenv("TEST_SECRET", "v", 1);
	ck_assert_int_eq(cc_secret_from_env(&secret, "TEST_SECRET_FILE", "TEST_SECRET", NULL), 0);
	assert_secret(secret, "v", 1);
	cc_secret_free(secret);
}
END_TEST

START_TEST(test_secret_env_missing_is_not_found)
{
	cc_secret *secret = NULL;

	unsetenv("TEST_SECRET_FILE");
	unsetenv("TEST_SECRET");
	ck_assert_int_eq(cc_secret_from_env(&secret, "TEST_SECRET_FILE", "TEST_SECRET", NULL),
			 CC_ENOTFOUND);
	ck_assert_ptr_null(secret);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "TEST_SECRET"));
}
END_TEST

START_TEST(test_secret_env_unreadable_file_fails_naming_it)
{
	char path[PATH_MAX];
	cc_secret *secret = NULL;

	fx_path(path, sizeof(path), "no-such-file");
	setenv("TEST_SECRET_FILE", path, 1);
	setenv("TEST_SECRET", "must not be used", 1);
	ck_assert_int_lt(cc_secret_from_env(&secret, "TEST_SECRET_FILE", "TEST_SECRET", NULL), 0);
	ck_assert_ptr_null(secret);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), path));
}
END_TEST

START_TEST(test_secret_env_empty_value_is_empty_secret)
{
	cc_secret *secret = NULL;

	unsetenv("TEST_SECRET_FILE");
	setenv("TEST_SECRET", "", 1);
	ck_assert_int_eq(cc_secret_from_env(&secret, "TEST_SECRET_FILE", "TEST_SECRET", NULL), 0);
	assert_secret(secret, "", 0);
	cc_secret_free(secret);
}
END_TEST

Suite *secret_suite(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_secret_new_copies_bytes);
	tcase_add_test(tc, test_secret_new_of_zero_bytes_is_empty_secret);
	tcase_add_test(tc, test_secret_file_drops_one_trailing_newline);
	tcase_add_test(tc, test_secret_file_drops_trailing_crlf);
	tcase_add_test(tc, test_secret_file_without_newline_is_taken_whole);
	tcase_add_test(tc, test_secret_file_drops_only_one_newline);
	tcase_add_test(tc, test_secret_file_keeps_inner_and_leading_whitespace);
	tcase_add_test(tc, test_secret_empty_file_is_empty_secret);
	tcase_add_test(tc, test_secret_file_of_only_newline_is_empty_secret);
	tcase_add_test(tc, test_secret_missing_file_is_not_found);
	tcase_add_test(tc, test_secret_env_file_var_wins_over_value_var);
	tcase_add_test(tc, test_secret_env_value_var_used_without_file_var);
	tcase_add_test(tc, test_secret_env_source_is_optional);
	tcase_add_test(tc, test_secret_env_missing_is_not_found);
	tcase_add_test(tc, test_secret_env_unreadable_file_fails_naming_it);
	tcase_add_test(tc, test_secret_env_empty_value_is_empty_secret);
	suite_add_tcase(s, tc);
	return s;
}
