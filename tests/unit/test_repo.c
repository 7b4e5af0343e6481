/*
 * Tests of repositories (lib/repo.c): init, open (walking up like git),
 * the configuration, the secret (file or environment) and unlock, paths.
 * Every test runs on a fresh temporary directory (see fixture.c).
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

static cc_repo *init_ok(const char *path)
{
	cc_repo *repo = NULL;
	int rc = cc_repo_init(&repo, path, NULL);

	ck_assert_msg(rc == 0, "cc_repo_init: %d %s", rc, cc_error_last());
	ck_assert_ptr_nonnull(repo);
	return repo;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int is_hex(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

START_TEST(test_init_creates_repository_with_first_commit)
{
	cc_repo *repo = init_ok(fx_repo_path);
	char path[PATH_MAX], head[41];
	char *message, *ignore, *config;

	ck_assert_str_eq(cc_repo_workdir(repo), fx_repo_path);
	fx_path(path, sizeof(path), "repo/.git");
	ck_assert(cc_fs_is_dir(path));
	fx_path(path, sizeof(path), "repo/.certctl/config.yaml");
	ck_assert(fx_exists(path));
	fx_path(path, sizeof(path), "repo/.gitignore");
	ignore = fx_read_file(path);
	ck_assert_ptr_nonnull(ignore);
	ck_assert_ptr_nonnull(strstr(ignore, "*.tmp-*"));

	ck_assert_int_eq(fx_git_head(fx_repo_path, head), 0);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 1);
	message = fx_git_head_message(fx_repo_path);
	ck_assert_ptr_nonnull(message);
	ck_assert_msg(strncmp(message, "init: certificate repository created\n", 37) == 0, "%s",
		      message);
	free(message);
	message = fx_git_head_trailer(fx_repo_path, "Certctl-Operation");
	ck_assert_ptr_nonnull(message);
	ck_assert_str_eq(message, "init");
	free(message);

	/* the committed files are those on disk */
	config = fx_git_head_file(fx_repo_path, ".certctl/config.yaml");
	ck_assert_ptr_nonnull(config);
	fx_path(path, sizeof(path), "repo/.certctl/config.yaml");
	message = fx_read_file(path);
	ck_assert_str_eq(config, message);
	free(message);
	free(config);
	config = fx_git_head_file(fx_repo_path, ".gitignore");
	ck_assert_ptr_nonnull(config);
	ck_assert_str_eq(config, ignore);
	free(config);
	free(ignore);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_leaves_a_clean_git_status)
{
	cc_repo *repo = init_ok(fx_repo_path);

	/* index and work tree match HEAD: `git status` shows nothing */
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_writes_random_secret_0600_named_by_id)
{
	cc_repo *repo = init_ok(fx_repo_path);
	char path[PATH_MAX];
	char *secret;

	ck_assert_msg(is_hex(cc_repo_id(repo)) && strlen(cc_repo_id(repo)) >= 8, "id '%s'",
		      cc_repo_id(repo));
	fx_pathf(path, sizeof(path), "%s/%s.key", fx_secret_dir, cc_repo_id(repo));
	ck_assert_msg(fx_exists(path), "no secret at %s", path);
	ck_assert_int_eq(fx_mode(path), 0600);
	secret = fx_read_file(path);
	ck_assert_uint_ge(strlen(secret), 32);
	/* the secret is never in the repository */
	{
		char cfg[PATH_MAX];
		char *config;

		fx_path(cfg, sizeof(cfg), "repo/.certctl/config.yaml");
		config = fx_read_file(cfg);
		secret[strcspn(secret, "\n")] = '\0';
		ck_assert_ptr_null(strstr(config, secret));
		free(config);
	}
	free(secret);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_config_records_format_and_id)
{
	cc_repo *repo = init_ok(fx_repo_path);

	ck_assert_ptr_nonnull(cc_repo_config(repo));
	ck_assert_int_eq(cc_node_kind(cc_repo_config(repo)), CC_NODE_MAPPING);
	ck_assert_str_eq(cc_repo_config_get(repo, "format"), "1");
	ck_assert_str_eq(cc_repo_config_get(repo, "id"), cc_repo_id(repo));
	ck_assert_ptr_null(cc_repo_config_get(repo, "no.such.key"));
	/* a mapping is not a scalar value */
	ck_assert_ptr_null(cc_repo_config_get(repo, "keystore"));
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_two_repositories_get_different_ids)
{
	char other[PATH_MAX];
	cc_repo *a = init_ok(fx_repo_path), *b;

	fx_path(other, sizeof(other), "other");
	b = init_ok(other);
	ck_assert_str_ne(cc_repo_id(a), cc_repo_id(b));
	ck_assert_int_eq(count_entries(fx_secret_dir), 2);
	cc_repo_free(a);
	cc_repo_free(b);
}
END_TEST

START_TEST(test_init_creates_missing_parent_directories)
{
	char path[PATH_MAX];
	cc_repo *repo;

	fx_path(path, sizeof(path), "a/b/c");
	repo = init_ok(path);
	ck_assert_str_eq(cc_repo_workdir(repo), path);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_twice_is_exists)
{
	cc_repo *repo = init_ok(fx_repo_path), *again = NULL;
	char head[41], head_after[41];

	ck_assert_int_eq(fx_git_head(fx_repo_path, head), 0);
	ck_assert_int_eq(cc_repo_init(&again, fx_repo_path, NULL), CC_EEXISTS);
	ck_assert_ptr_null(again);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), fx_repo_path));
	/* nothing changed: same HEAD, still one secret */
	ck_assert_int_eq(fx_git_head(fx_repo_path, head_after), 0);
	ck_assert_str_eq(head, head_after);
	ck_assert_int_eq(count_entries(fx_secret_dir), 1);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_in_existing_git_repository_keeps_it)
{
	char path[PATH_MAX];
	cc_repo *repo;

	ck_assert_int_eq(mkdir(fx_repo_path, 0755), 0);
	fx_path(path, sizeof(path), "repo/README");
	fx_write_file(path, "hello\n");
	repo = init_ok(fx_repo_path);
	/* an untracked file of the person is left alone */
	{
		char *text = fx_read_file(path);

		ck_assert_str_eq(text, "hello\n");
		free(text);
	}
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_options_secret_dir_overrides_environment)
{
	cc_repo_init_options opts = CC_REPO_INIT_OPTIONS_INIT;
	char dir[PATH_MAX], path[PATH_MAX];
	cc_repo *repo = NULL;

	fx_path(dir, sizeof(dir), "elsewhere");
	opts.secret_dir = dir;
	ck_assert_int_eq(cc_repo_init(&repo, fx_repo_path, &opts), 0);
	fx_pathf(path, sizeof(path), "%s/%s.key", dir, cc_repo_id(repo));
	ck_assert(fx_exists(path));
	ck_assert_int_eq(fx_mode(path), 0600);
	ck_assert_int_eq(count_entries(fx_secret_dir), 0);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_init_rejects_unknown_options_version)
{
	cc_repo_init_options opts = CC_REPO_INIT_OPTIONS_INIT;
	cc_repo *repo = NULL;

	opts.version = 99;
	ck_assert_int_eq(cc_repo_init(&repo, fx_repo_path, &opts), CC_EINVALID);
	ck_assert_ptr_null(repo);
}
END_TEST

START_TEST(test_init_with_passphrase_env_writes_no_secret_file)
{
	cc_repo *repo, *other = NULL;

	setenv("CERTCTL_PASSPHRASE", "s3cret passphrase", 1);
	repo = init_ok(fx_repo_path);
	ck_assert_int_eq(count_entries(fx_secret_dir), 0);
	cc_repo_free(repo);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_repo_unlock(other), 0);
	ck_assert_ptr_nonnull(cc_repo_key_passphrase(other));
	cc_repo_free(other);
}
END_TEST

START_TEST(test_init_with_passphrase_file_drops_its_newline)
{
	char path[PATH_MAX];
	cc_repo *repo, *other = NULL;

	fx_path(path, sizeof(path), "pass.txt");
	fx_write_file(path, "from a file\n");
	setenv("CERTCTL_PASSPHRASE_FILE", path, 1);
	repo = init_ok(fx_repo_path);
	ck_assert_int_eq(count_entries(fx_secret_dir), 0);
	cc_repo_free(repo);
	/* the same secret given as a value unlocks it */
	unsetenv("CERTCTL_PASSPHRASE_FILE");
	setenv("CERTCTL_PASSPHRASE", "from a file", 1);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_repo_unlock(other), 0);
	cc_repo_free(other);
}
END_TEST

START_TEST(test_init_fails_when_passphrase_file_is_missing)
{
	char path[PATH_MAX];
	cc_repo *repo = NULL;
	int rc;

	/* a typo in CERTCTL_PASSPHRASE_FILE must not silently create a
	 * repository under some other, random secret */
	fx_path(path, sizeof(path), "typo.txt");
	setenv("CERTCTL_PASSPHRASE_FILE", path, 1);
	rc = cc_repo_init(&repo, fx_repo_path, NULL);
	ck_assert_msg(rc < 0, "init succeeded with a missing CERTCTL_PASSPHRASE_FILE "
			      "(secret files written: %d)", count_entries(fx_secret_dir));
	ck_assert_ptr_null(repo);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), path));
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_open_finds_repository_from_subdirectory)
{
	cc_repo *repo = init_ok(fx_repo_path), *found = NULL;
	char sub[PATH_MAX];

	fx_path(sub, sizeof(sub), "repo/definitions/deeper");
	ck_assert_int_eq(cc_fs_mkdir_p(sub, 0755), 0);
	ck_assert_int_eq(cc_repo_open(&found, sub, 0), 0);
	ck_assert_str_eq(cc_repo_workdir(found), fx_repo_path);
	ck_assert_str_eq(cc_repo_id(found), cc_repo_id(repo));
	cc_repo_free(found);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_open_no_search_refuses_subdirectory)
{
	cc_repo *repo = init_ok(fx_repo_path), *found = NULL;
	char sub[PATH_MAX];

	fx_path(sub, sizeof(sub), "repo/sub");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(cc_repo_open(&found, sub, CC_REPO_OPEN_NO_SEARCH), CC_ENOREPO);
	ck_assert_ptr_null(found);
	ck_assert_int_eq(cc_repo_open(&found, fx_repo_path, CC_REPO_OPEN_NO_SEARCH), 0);
	cc_repo_free(found);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_open_outside_any_repository_is_enorepo)
{
	char outside[PATH_MAX];
	cc_repo *found = NULL;

	fx_path(outside, sizeof(outside), "outside");
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	ck_assert_int_eq(cc_repo_open(&found, outside, 0), CC_ENOREPO);
	ck_assert_ptr_null(found);
	ck_assert_uint_gt(strlen(cc_error_last()), 0);
}
END_TEST

START_TEST(test_open_plain_git_repository_is_enorepo)
{
	char path[PATH_MAX];
	cc_repo *found = NULL;

	/* a git repository without .certctl is not a certctl repository */
	fx_path(path, sizeof(path), "plain/.git");
	ck_assert_int_eq(cc_fs_mkdir_p(path, 0755), 0);
	fx_path(path, sizeof(path), "plain");
	ck_assert_int_eq(cc_repo_open(&found, path, 0), CC_ENOREPO);
}
END_TEST

START_TEST(test_open_missing_path_is_enorepo)
{
	char path[PATH_MAX];
	cc_repo *found = NULL;

	fx_path(path, sizeof(path), "does/not/exist");
	ck_assert_int_eq(cc_repo_open(&found, path, 0), CC_ENOREPO);
	ck_assert_ptr_null(found);
}
END_TEST

START_TEST(test_open_null_uses_certctl_dir)
{
	cc_repo *repo = init_ok(fx_repo_path), *found = NULL;
	char outside[PATH_MAX];

	fx_path(outside, sizeof(outside), "outside");
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	ck_assert_int_eq(chdir(outside), 0);
	setenv("CERTCTL_DIR", fx_repo_path, 1);
	ck_assert_int_eq(cc_repo_open(&found, NULL, 0), 0);
	ck_assert_str_eq(cc_repo_workdir(found), fx_repo_path);
	cc_repo_free(found);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_open_null_uses_current_directory)
{
	cc_repo *repo = init_ok(fx_repo_path), *found = NULL;
	char sub[PATH_MAX];

	fx_path(sub, sizeof(sub), "repo/sub");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(cc_repo_open(&found, NULL, 0), 0);
	ck_assert_str_eq(cc_repo_workdir(found), fx_repo_path);
	cc_repo_free(found);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_open_rejects_unknown_format)
{
	cc_repo *repo = init_ok(fx_repo_path), *found = NULL;
	char path[PATH_MAX];
	char *config, *p;
	int rc;

	cc_repo_free(repo);
	fx_path(path, sizeof(path), "repo/.certctl/config.yaml");
	config = fx_read_file(path);
	p = strstr(config, "format: 1");
	ck_assert_ptr_nonnull(p);
	p[8] = '7';
	fx_write_file(path, config);
	free(config);
	rc = cc_repo_open(&found, fx_repo_path, 0);
	ck_assert_int_eq(rc, CC_EINVALID);
	ck_assert_ptr_null(found);
	ck_assert_msg(strstr(cc_error_last(), ".certctl/config.yaml:") != NULL, "'%s'",
		      cc_error_last());
	ck_assert_msg(strstr(cc_error_last(), "7") != NULL, "'%s'", cc_error_last());
}
END_TEST

START_TEST(test_open_rejects_broken_config_yaml_with_position)
{
	cc_repo *repo = init_ok(fx_repo_path), *found = NULL;
	char path[PATH_MAX];

	cc_repo_free(repo);
	fx_path(path, sizeof(path), "repo/.certctl/config.yaml");
	fx_write_file(path, "format: 1\nid: [unclosed\n");
	ck_assert_int_eq(cc_repo_open(&found, fx_repo_path, 0), CC_EINVALID);
	ck_assert_ptr_null(found);
	ck_assert_msg(strstr(cc_error_last(), ".certctl/config.yaml:") != NULL, "'%s'",
		      cc_error_last());
}
END_TEST

START_TEST(test_unlock_with_generated_secret_file)
{
	cc_repo *repo = init_ok(fx_repo_path), *other = NULL;

	cc_repo_free(repo);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_ptr_null(cc_repo_key_passphrase(other));
	ck_assert_int_eq(cc_repo_unlock(other), 0);
	ck_assert_ptr_nonnull(cc_repo_key_passphrase(other));
	/* cheap and harmless a second time */
	ck_assert_int_eq(cc_repo_unlock(other), 0);
	cc_repo_free(other);
}
END_TEST

START_TEST(test_unlock_with_wrong_passphrase_is_eauth)
{
	cc_repo *repo = init_ok(fx_repo_path), *other = NULL;

	cc_repo_free(repo);
	setenv("CERTCTL_PASSPHRASE", "wrong", 1);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_repo_unlock(other), CC_EAUTH);
	ck_assert_ptr_null(cc_repo_key_passphrase(other));
	/* the message says where the secret came from, never the secret */
	ck_assert_msg(strstr(cc_error_last(), "CERTCTL_PASSPHRASE") != NULL, "'%s'",
		      cc_error_last());
	ck_assert_ptr_null(strstr(cc_error_last(), ": wrong"));
	cc_repo_free(other);
}
END_TEST

START_TEST(test_unlock_with_wrong_passphrase_file_is_eauth)
{
	cc_repo *repo, *other = NULL;
	char path[PATH_MAX];

	setenv("CERTCTL_PASSPHRASE", "the right one", 1);
	repo = init_ok(fx_repo_path);
	cc_repo_free(repo);
	unsetenv("CERTCTL_PASSPHRASE");
	fx_path(path, sizeof(path), "wrong.txt");
	fx_write_file(path, "the wrong one\n");
	setenv("CERTCTL_PASSPHRASE_FILE", path, 1);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_repo_unlock(other), CC_EAUTH);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), path));
	cc_repo_free(other);
}
END_TEST

START_TEST(test_unlock_without_any_secret_is_enotfound)
{
	cc_repo *repo = init_ok(fx_repo_path), *other = NULL;
	char path[PATH_MAX];

	fx_pathf(path, sizeof(path), "%s/%s.key", fx_secret_dir, cc_repo_id(repo));
	cc_repo_free(repo);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_repo_unlock(other), CC_ENOTFOUND);
	cc_repo_free(other);
}
END_TEST

START_TEST(test_unlock_fails_when_passphrase_file_is_missing)
{
	cc_repo *repo = init_ok(fx_repo_path), *other = NULL;
	char path[PATH_MAX];
	int rc;

	cc_repo_free(repo);
	/* CERTCTL_PASSPHRASE_FILE names the secret; when it cannot be read,
	 * quietly using another secret hides the mistake */
	fx_path(path, sizeof(path), "typo.txt");
	setenv("CERTCTL_PASSPHRASE_FILE", path, 1);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	rc = cc_repo_unlock(other);
	ck_assert_msg(rc < 0, "unlock ignored the missing CERTCTL_PASSPHRASE_FILE '%s'", path);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), path));
	cc_repo_free(other);
}
END_TEST

START_TEST(test_unlock_finds_secret_under_xdg_config_home)
{
	cc_repo *repo, *other = NULL;
	char xdg[PATH_MAX], path[PATH_MAX];

	/* created with $CERTCTL_SECRET_DIR unset: the XDG location */
	unsetenv("CERTCTL_SECRET_DIR");
	fx_path(xdg, sizeof(xdg), "xdg");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	repo = init_ok(fx_repo_path);
	fx_pathf(path, sizeof(path), "%s/certctl/secrets/%s.key", xdg, cc_repo_id(repo));
	ck_assert_msg(fx_exists(path), "no secret at %s", path);
	ck_assert_int_eq(fx_mode(path), 0600);
	cc_repo_free(repo);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_repo_unlock(other), 0);
	cc_repo_free(other);
}
END_TEST

START_TEST(test_secret_dir_precedence)
{
	cc_buf out = CC_BUF_INIT;
	char home[PATH_MAX], expected[PATH_MAX + 64];

	setenv("CERTCTL_SECRET_DIR", "/from/env", 1);
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	ck_assert_int_eq(cc_repo_secret_dir(&out, "/override"), 0);
	ck_assert_str_eq(cc_buf_cstr(&out), "/override");
	cc_buf_clear(&out);
	ck_assert_int_eq(cc_repo_secret_dir(&out, NULL), 0);
	ck_assert_str_eq(cc_buf_cstr(&out), "/from/env");
	cc_buf_clear(&out);
	unsetenv("CERTCTL_SECRET_DIR");
	ck_assert_int_eq(cc_repo_secret_dir(&out, NULL), 0);
	ck_assert_str_eq(cc_buf_cstr(&out), "/xdg/certctl/secrets");
	cc_buf_clear(&out);
	unsetenv("XDG_CONFIG_HOME");
	fx_path(home, sizeof(home), "home");
	setenv("HOME", home, 1);
	ck_assert_int_eq(cc_repo_secret_dir(&out, NULL), 0);
	fx_pathf(expected, sizeof(expected), "%s/.config/certctl/secrets", home);
	ck_assert_str_eq(cc_buf_cstr(&out), expected);
	cc_buf_dispose(&out);
}
END_TEST

START_TEST(test_repo_path_accepts_clean_relative_paths)
{
	cc_repo *repo = init_ok(fx_repo_path);
	cc_buf out = CC_BUF_INIT;
	char expected[PATH_MAX + 32];

	ck_assert_int_eq(cc_repo_path(repo, "definitions/www.yaml", &out), 0);
	fx_pathf(expected, sizeof(expected), "%s/definitions/www.yaml", fx_repo_path);
	ck_assert_str_eq(cc_buf_cstr(&out), expected);
	cc_buf_dispose(&out);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_repo_path_rejects_sneaky_paths)
{
	static const char *bad[] = { "../x", "/etc/passwd", "a/../../b", "a//b", "", ".git/config" };
	cc_repo *repo = init_ok(fx_repo_path);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cc_buf out = CC_BUF_INIT;

		ck_assert_msg(cc_repo_path(repo, bad[i], &out) == CC_EINVALID, "'%s' accepted",
			      bad[i]);
		cc_buf_dispose(&out);
	}
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_repo_read_returns_contents_or_enotfound)
{
	cc_repo *repo = init_ok(fx_repo_path);
	cc_buf out = CC_BUF_INIT;

	ck_assert_int_eq(cc_repo_read(repo, ".gitignore", &out), 0);
	ck_assert_ptr_nonnull(strstr(cc_buf_cstr(&out), "*.tmp-*"));
	cc_buf_dispose(&out);
	ck_assert_int_eq(cc_repo_read(repo, "definitions/none.yaml", &out), CC_ENOTFOUND);
	cc_buf_dispose(&out);
	ck_assert_int_eq(cc_repo_read(repo, "../outside", &out), CC_EINVALID);
	cc_buf_dispose(&out);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_repo_statedir_is_inside_git_directory)
{
	cc_repo *repo = init_ok(fx_repo_path);
	char expected[PATH_MAX];

	fx_path(expected, sizeof(expected), "repo/.git/certctl");
	ck_assert_ptr_nonnull(cc_repo_statedir(repo));
	ck_assert_msg(strncmp(cc_repo_statedir(repo), expected, strlen(expected)) == 0, "'%s'",
		      cc_repo_statedir(repo));
	ck_assert(cc_fs_is_dir(expected));
	ck_assert_ptr_nonnull(cc_repo_git(repo));
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_repo_kdf_parameters_are_sane)
{
	cc_repo *repo = init_ok(fx_repo_path);
	const unsigned char *salt = NULL;
	size_t saltlen = 0;
	uint64_t n = 0, r = 0, p = 0;

	ck_assert_int_eq(cc_repo_kdf(repo, &salt, &saltlen, &n, &r, &p), 0);
	ck_assert_ptr_nonnull(salt);
	ck_assert_uint_ge(saltlen, 16);
	ck_assert_uint_ge(n, 16384);
	ck_assert_uint_eq(n & (n - 1), 0);
	ck_assert_uint_ge(r, 8);
	ck_assert_uint_ge(p, 1);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_repo_free_accepts_null)
{
	cc_repo *repo = init_ok(fx_repo_path);

	cc_repo_free(NULL);
	ck_assert_str_eq(cc_repo_workdir(repo), fx_repo_path);
	cc_repo_free(repo);
}
END_TEST

Suite *repo_suite(void)
{
	Suite *s = suite_create("repo");
	TCase *tc;

	tc = tcase_create("init");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_init_creates_repository_with_first_commit);
	tcase_add_test(tc, test_init_leaves_a_clean_git_status);
	tcase_add_test(tc, test_init_writes_random_secret_0600_named_by_id);
	tcase_add_test(tc, test_init_config_records_format_and_id);
	tcase_add_test(tc, test_init_two_repositories_get_different_ids);
	tcase_add_test(tc, test_init_creates_missing_parent_directories);
	tcase_add_test(tc, test_init_twice_is_exists);
	tcase_add_test(tc, test_init_in_existing_git_repository_keeps_it);
	tcase_add_test(tc, test_init_options_secret_dir_overrides_environment);
	tcase_add_test(tc, test_init_rejects_unknown_options_version);
	tcase_add_test(tc, test_init_with_passphrase_env_writes_no_secret_file);
	tcase_add_test(tc, test_init_with_passphrase_file_drops_its_newline);
	tcase_add_test(tc, test_init_fails_when_passphrase_file_is_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_open_finds_repository_from_subdirectory);
	tcase_add_test(tc, test_open_no_search_refuses_subdirectory);
	tcase_add_test(tc, test_open_outside_any_repository_is_enorepo);
	tcase_add_test(tc, test_open_plain_git_repository_is_enorepo);
	tcase_add_test(tc, test_open_missing_path_is_enorepo);
	tcase_add_test(tc, test_open_null_uses_certctl_dir);
	tcase_add_test(tc, test_open_null_uses_current_directory);
	tcase_add_test(tc, test_open_rejects_unknown_format);
	tcase_add_test(tc, test_open_rejects_broken_config_yaml_with_position);
	suite_add_tcase(s, tc);

	tc = tcase_create("secret");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_unlock_with_generated_secret_file);
	tcase_add_test(tc, test_unlock_with_wrong_passphrase_is_eauth);
	tcase_add_test(tc, test_unlock_with_wrong_passphrase_file_is_eauth);
	tcase_add_test(tc, test_unlock_without_any_secret_is_enotfound);
	tcase_add_test(tc, test_unlock_fails_when_passphrase_file_is_missing);
	tcase_add_test(tc, test_unlock_finds_secret_under_xdg_config_home);
	tcase_add_test(tc, test_secret_dir_precedence);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_repo_path_accepts_clean_relative_paths);
	tcase_add_test(tc, test_repo_path_rejects_sneaky_paths);
	tcase_add_test(tc, test_repo_read_returns_contents_or_enotfound);
	tcase_add_test(tc, test_repo_statedir_is_inside_git_directory);
	tcase_add_test(tc, test_repo_kdf_parameters_are_sane);
	tcase_add_test(tc, test_repo_free_accepts_null);
	suite_add_tcase(s, tc);
	return s;
}
