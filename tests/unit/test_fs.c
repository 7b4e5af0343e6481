/*
 * Tests of the file system primitives in lib/fs.c (internal.h): bounded
 * reads, atomic writes with modes, directory creation, path checks.
 */
#include <check.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

START_TEST(test_fs_write_atomic_creates_file_with_mode)
{
	char path[PATH_MAX];
	char *text;

	fx_path(path, sizeof(path), "secret.key");
	umask(022);
	ck_assert_int_eq(cc_fs_write_atomic(path, "abc\n", 4, 0600), 0);
	ck_assert_int_eq(fx_mode(path), 0600);
	text = fx_read_file(path);
	ck_assert_str_eq(text, "abc\n");
	free(text);
}
END_TEST

START_TEST(test_fs_write_atomic_mode_ignores_umask)
{
	char path[PATH_MAX];

	fx_path(path, sizeof(path), "public.txt");
	umask(077);
	ck_assert_int_eq(cc_fs_write_atomic(path, "x", 1, 0644), 0);
	ck_assert_int_eq(fx_mode(path), 0644);
	umask(022);
}
END_TEST

START_TEST(test_fs_write_atomic_replaces_and_leaves_no_temp_file)
{
	char path[PATH_MAX];
	DIR *dir;
	struct dirent *e;
	int entries = 0;
	char *text;

	fx_path(path, sizeof(path), "data");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	fx_path(path, sizeof(path), "data/file.yaml");
	fx_write_file(path, "old contents that are longer\n");
	ck_assert_int_eq(cc_fs_write_atomic(path, "new\n", 4, 0644), 0);
	text = fx_read_file(path);
	ck_assert_str_eq(text, "new\n");
	free(text);
	fx_path(path, sizeof(path), "data");
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			entries++;
	closedir(dir);
	ck_assert_int_eq(entries, 1);
}
END_TEST

START_TEST(test_fs_write_atomic_fails_in_missing_directory)
{
	char path[PATH_MAX];

	fx_path(path, sizeof(path), "missing/file");
	ck_assert_int_lt(cc_fs_write_atomic(path, "x", 1, 0644), 0);
	ck_assert(!fx_exists(path));
}
END_TEST

START_TEST(test_fs_read_returns_contents)
{
	char path[PATH_MAX];
	cc_buf buf = CC_BUF_INIT;

	fx_path(path, sizeof(path), "in.txt");
	fx_write_file(path, "line 1\nline 2\n");
	ck_assert_int_eq(cc_fs_read(&buf, path, 0), 0);
	ck_assert_str_eq(cc_buf_cstr(&buf), "line 1\nline 2\n");
	ck_assert_uint_eq(buf.size, 14);
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_fs_read_of_empty_file_is_empty)
{
	char path[PATH_MAX];
	cc_buf buf = CC_BUF_INIT;

	fx_path(path, sizeof(path), "empty");
	fx_write_file(path, "");
	ck_assert_int_eq(cc_fs_read(&buf, path, 100), 0);
	ck_assert_uint_eq(buf.size, 0);
	/* compare one byte: an unterminated buffer would make a huge message */
	ck_assert_msg(cc_buf_cstr(&buf)[0] == '\0',
		      "cc_buf_cstr() of the empty file's buffer is not \"\" (first byte 0x%02x)",
		      (unsigned char)cc_buf_cstr(&buf)[0]);
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_fs_read_missing_file_is_not_found)
{
	char path[PATH_MAX];
	cc_buf buf = CC_BUF_INIT;

	fx_path(path, sizeof(path), "nope");
	ck_assert_int_eq(cc_fs_read(&buf, path, 0), CC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), path));
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_fs_read_refuses_files_over_the_limit)
{
	char path[PATH_MAX];
	cc_buf buf = CC_BUF_INIT;

	fx_path(path, sizeof(path), "big");
	fx_write_file(path, "0123456789");
	ck_assert_int_eq(cc_fs_read(&buf, path, 9), CC_EINVALID);
	cc_buf_dispose(&buf);
	ck_assert_int_eq(cc_fs_read(&buf, path, 10), 0);
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_fs_read_of_directory_fails)
{
	cc_buf buf = CC_BUF_INIT;

	ck_assert_int_lt(cc_fs_read(&buf, fx_root, 0), 0);
	cc_buf_dispose(&buf);
}
END_TEST

START_TEST(test_fs_mkdir_p_creates_nested_directories)
{
	char path[PATH_MAX];

	fx_path(path, sizeof(path), "a/b/c");
	ck_assert_int_eq(cc_fs_mkdir_p(path, 0755), 0);
	ck_assert(cc_fs_is_dir(path));
	/* again: already there is fine */
	ck_assert_int_eq(cc_fs_mkdir_p(path, 0755), 0);
}
END_TEST

START_TEST(test_fs_mkdir_p_fails_over_a_file)
{
	char path[PATH_MAX];

	fx_path(path, sizeof(path), "file");
	fx_write_file(path, "x");
	fx_path(path, sizeof(path), "file/sub");
	ck_assert_int_lt(cc_fs_mkdir_p(path, 0755), 0);
}
END_TEST

START_TEST(test_fs_mkdir_parents_creates_only_parents)
{
	char path[PATH_MAX], parent[PATH_MAX];

	fx_path(path, sizeof(path), "x/y/file.txt");
	fx_path(parent, sizeof(parent), "x/y");
	ck_assert_int_eq(cc_fs_mkdir_parents(path, 0755), 0);
	ck_assert(cc_fs_is_dir(parent));
	ck_assert(!fx_exists(path));
}
END_TEST

START_TEST(test_fs_exists_and_is_dir)
{
	char path[PATH_MAX];

	fx_path(path, sizeof(path), "f");
	ck_assert(!cc_fs_exists(path));
	fx_write_file(path, "");
	ck_assert(cc_fs_exists(path));
	ck_assert(!cc_fs_is_dir(path));
	ck_assert(cc_fs_is_dir(fx_root));
}
END_TEST

START_TEST(test_fs_join_uses_exactly_one_slash)
{
	cc_buf out = CC_BUF_INIT;

	ck_assert_int_eq(cc_fs_join(&out, "/a", "b"), 0);
	ck_assert_str_eq(cc_buf_cstr(&out), "/a/b");
	cc_buf_clear(&out);
	ck_assert_int_eq(cc_fs_join(&out, "/a/", "b"), 0);
	ck_assert_str_eq(cc_buf_cstr(&out), "/a/b");
	cc_buf_dispose(&out);
}
END_TEST

START_TEST(test_fs_relpath_check_accepts_clean_paths)
{
	ck_assert_int_eq(cc_fs_relpath_check("definitions/www.yaml"), 0);
	ck_assert_int_eq(cc_fs_relpath_check(".certctl/config.yaml"), 0);
	ck_assert_int_eq(cc_fs_relpath_check(".gitignore"), 0);
	ck_assert_int_eq(cc_fs_relpath_check("a/b/c"), 0);
}
END_TEST

START_TEST(test_fs_relpath_check_rejects_sneaky_paths)
{
	static const char *bad[] = {
		"", "/etc/passwd", "../x", "a/../b", "a/..", "..", ".", "./a", "a/./b", "a//b",
		"a/", ".git/config", "sub/.git/hooks/x",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cc_fs_relpath_check(bad[i]) == CC_EINVALID, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_fs_list_returns_sorted_names_with_suffix)
{
	char path[PATH_MAX];
	cc_strlist names = CC_STRLIST_INIT;

	fx_path(path, sizeof(path), "defs");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	fx_path(path, sizeof(path), "defs/web.yaml");
	fx_write_file(path, "");
	fx_path(path, sizeof(path), "defs/api.yaml");
	fx_write_file(path, "");
	fx_path(path, sizeof(path), "defs/notes.txt");
	fx_write_file(path, "");
	fx_path(path, sizeof(path), "defs/.hidden.yaml");
	fx_write_file(path, "");
	fx_path(path, sizeof(path), "defs/mail.yaml.tmp-0a1b2c");
	fx_write_file(path, "");
	fx_path(path, sizeof(path), "defs");
	ck_assert_int_eq(cc_fs_list(&names, path, ".yaml"), 0);
	ck_assert_uint_eq(names.count, 2);
	ck_assert_str_eq(names.items[0], "api.yaml");
	ck_assert_str_eq(names.items[1], "web.yaml");
	cc_strlist_dispose(&names);
}
END_TEST

START_TEST(test_fs_list_of_missing_directory_is_empty)
{
	char path[PATH_MAX];
	cc_strlist names = CC_STRLIST_INIT;

	fx_path(path, sizeof(path), "none");
	ck_assert_int_eq(cc_fs_list(&names, path, NULL), 0);
	ck_assert_uint_eq(names.count, 0);
}
END_TEST

Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_fs_write_atomic_creates_file_with_mode);
	tcase_add_test(tc, test_fs_write_atomic_mode_ignores_umask);
	tcase_add_test(tc, test_fs_write_atomic_replaces_and_leaves_no_temp_file);
	tcase_add_test(tc, test_fs_write_atomic_fails_in_missing_directory);
	tcase_add_test(tc, test_fs_read_returns_contents);
	tcase_add_test(tc, test_fs_read_of_empty_file_is_empty);
	tcase_add_test(tc, test_fs_read_missing_file_is_not_found);
	tcase_add_test(tc, test_fs_read_refuses_files_over_the_limit);
	tcase_add_test(tc, test_fs_read_of_directory_fails);
	tcase_add_test(tc, test_fs_mkdir_p_creates_nested_directories);
	tcase_add_test(tc, test_fs_mkdir_p_fails_over_a_file);
	tcase_add_test(tc, test_fs_mkdir_parents_creates_only_parents);
	tcase_add_test(tc, test_fs_exists_and_is_dir);
	tcase_add_test(tc, test_fs_join_uses_exactly_one_slash);
	tcase_add_test(tc, test_fs_relpath_check_accepts_clean_paths);
	tcase_add_test(tc, test_fs_relpath_check_rejects_sneaky_paths);
	tcase_add_test(tc, test_fs_list_returns_sorted_names_with_suffix);
	tcase_add_test(tc, test_fs_list_of_missing_directory_is_empty);
	suite_add_tcase(s, tc);
	return s;
}
