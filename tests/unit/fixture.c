/*
 * This module implements the fixtures shared by the unit suites: a
 * temporary directory with an isolated environment, a fresh repository,
 * and inspection of git state with libgit2 directly.
 */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <git2.h>
#include "fixture.h"

char fx_root[PATH_MAX];
char fx_repo_path[PATH_MAX];
char fx_secret_dir[PATH_MAX];
cc_repo *fx_repo;

void fx_pathf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < size, "path too long: %s", out);
}

void fx_path(char *out, size_t size, const char *rel)
{
	fx_pathf(out, size, "%s/%s", fx_root, rel);
}

void fx_env_setup(void)
{
	const char *base = getenv("CERTCTL_TEST_TMPDIR");
	char buf[PATH_MAX];

	/* Under the runner's directory (main.c), which it removes at the end,
	 * since a failed test exits without its teardown. */
	fx_pathf(fx_root, sizeof(fx_root), "%s/test-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_msg(mkdtemp(fx_root) != NULL, "mkdtemp: %s", strerror(errno));
	fx_path(fx_repo_path, sizeof(fx_repo_path), "repo");
	fx_path(fx_secret_dir, sizeof(fx_secret_dir), "secrets");
	ck_assert_int_eq(mkdir(fx_secret_dir, 0700), 0);
	setenv("CERTCTL_SECRET_DIR", fx_secret_dir, 1);
	fx_path(buf, sizeof(buf), "home");
	ck_assert_int_eq(mkdir(buf, 0700), 0);
	/* No global git configuration of the person running the tests. */
	setenv("HOME", buf, 1);
	fx_path(buf, sizeof(buf), "home/.config");
	setenv("XDG_CONFIG_HOME", buf, 1);
	unsetenv("CERTCTL_PASSPHRASE");
	unsetenv("CERTCTL_PASSPHRASE_FILE");
	unsetenv("CERTCTL_EXPORT_PASSPHRASE");
	unsetenv("CERTCTL_DIR");
	unsetenv("CERTCTL_LOCK_TIMEOUT");
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	fx_repo = NULL;
	cc_error_clear();
}

void fx_env_teardown(void)
{
	if (fx_root[0])
		fx_remove_tree(fx_root);
	fx_root[0] = '\0';
}

void fx_repo_setup(void)
{
	int rc;

	fx_env_setup();
	rc = cc_repo_init(&fx_repo, fx_repo_path, NULL);
	ck_assert_msg(rc == 0, "cc_repo_init: %d %s", rc, cc_error_last());
	ck_assert_ptr_nonnull(fx_repo);
	cc_error_clear();
}

void fx_repo_teardown(void)
{
	cc_repo_free(fx_repo);
	fx_repo = NULL;
	fx_env_teardown();
}

void fx_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot write '%s': %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

char *fx_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t size = 0, alloc = 0, n;

	if (!f)
		return NULL;
	do {
		if (alloc - size < 4096) {
			char *p = realloc(data, alloc + 8192);

			ck_assert_ptr_nonnull(p);
			data = p;
			alloc += 8192;
		}
		n = fread(data + size, 1, alloc - size - 1, f);
		size += n;
	} while (n > 0);
	fclose(f);
	data[size] = '\0';
	return data;
}

int fx_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int fx_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

void fx_remove_tree(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	dir = opendir(path);
	if (dir) {
		while ((e = readdir(dir)) != NULL) {
			char child[PATH_MAX];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
			fx_remove_tree(child);
		}
		closedir(dir);
	}
	rmdir(path);
}

static git_repository *git_open(const char *path)
{
	git_repository *repo = NULL;

	git_libgit2_init();
	if (git_repository_open(&repo, path) < 0) {
		git_libgit2_shutdown();
		return NULL;
	}
	return repo;
}

static void git_close(git_repository *repo)
{
	git_repository_free(repo);
	git_libgit2_shutdown();
}

static git_commit *head_commit(git_repository *repo)
{
	git_object *obj = NULL;
	git_commit *commit = NULL;

	if (git_revparse_single(&obj, repo, "HEAD") < 0)
		return NULL;
	if (git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT) < 0)
		commit = NULL;
	git_object_free(obj);
	return commit;
}

int fx_git_head(const char *path, char out[41])
{
	git_repository *repo = git_open(path);
	git_commit *commit = NULL;
	int rc = -1;

	out[0] = '\0';
	if (!repo)
		return -1;
	commit = head_commit(repo);
	if (commit) {
		git_oid_tostr(out, 41, git_commit_id(commit));
		rc = 0;
	}
	git_commit_free(commit);
	git_close(repo);
	return rc;
}

int fx_git_head_parent(const char *path, char out[41])
{
	git_repository *repo = git_open(path);
	git_commit *commit = NULL;
	int rc = -1;

	out[0] = '\0';
	if (!repo)
		return -1;
	commit = head_commit(repo);
	if (commit && git_commit_parentcount(commit) > 0) {
		git_oid_tostr(out, 41, git_commit_parent_id(commit, 0));
		rc = 0;
	}
	git_commit_free(commit);
	git_close(repo);
	return rc;
}

char *fx_git_head_message(const char *path)
{
	git_repository *repo = git_open(path);
	git_commit *commit = NULL;
	char *message = NULL;

	if (!repo)
		return NULL;
	commit = head_commit(repo);
	if (commit)
		message = strdup(git_commit_message(commit));
	git_commit_free(commit);
	git_close(repo);
	return message;
}

int fx_git_commit_count(const char *path)
{
	git_repository *repo = git_open(path);
	git_revwalk *walk = NULL;
	git_oid oid;
	int count = 0;

	if (!repo)
		return -1;
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push_head(walk) < 0) {
		count = -1;
	} else {
		while (git_revwalk_next(&oid, walk) == 0)
			count++;
	}
	git_revwalk_free(walk);
	git_close(repo);
	return count;
}

char *fx_git_head_file(const char *path, const char *relpath)
{
	git_repository *repo = git_open(path);
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	char *content = NULL;

	if (!repo)
		return NULL;
	commit = head_commit(repo);
	if (commit && git_commit_tree(&tree, commit) == 0 &&
	    git_tree_entry_bypath(&entry, tree, relpath) == 0 &&
	    git_tree_entry_type(entry) == GIT_OBJECT_BLOB &&
	    git_blob_lookup(&blob, repo, git_tree_entry_id(entry)) == 0) {
		size_t size = (size_t)git_blob_rawsize(blob);

		content = malloc(size + 1);
		ck_assert_ptr_nonnull(content);
		memcpy(content, git_blob_rawcontent(blob), size);
		content[size] = '\0';
	}
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	git_close(repo);
	return content;
}

char *fx_git_head_trailer(const char *path, const char *key)
{
	char *message = fx_git_head_message(path);
	git_message_trailer_array trailers = { 0 };
	char *value = NULL;

	if (!message)
		return NULL;
	if (git_message_trailers(&trailers, message) == 0) {
		for (size_t i = 0; i < trailers.count; i++) {
			if (strcmp(trailers.trailers[i].key, key) == 0) {
				value = strdup(trailers.trailers[i].value);
				break;
			}
		}
		git_message_trailer_array_free(&trailers);
	}
	free(message);
	return value;
}

int fx_git_status_count(const char *path)
{
	git_repository *repo = git_open(path);
	git_status_list *list = NULL;
	git_status_options opts;
	int count = -1;

	if (!repo)
		return -1;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	if (git_status_list_new(&list, repo, &opts) == 0)
		count = (int)git_status_list_entrycount(list);
	git_status_list_free(list);
	git_close(repo);
	return count;
}

int fx_contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	if (!haystack)
		return 0;
	for (const char *p = haystack; *p; p++) {
		size_t i = 0;

		while (i < n && p[i] &&
		       tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return n == 0;
}
