/*
 * Fixtures and helpers shared by the unit suites: a temporary directory
 * with an isolated environment, a fresh repository in it, and read-only
 * inspection of that repository through libgit2 directly (so the tests do
 * not only read certctl's output back with certctl).
 */
#ifndef CERTCTL_TEST_FIXTURE_H
#define CERTCTL_TEST_FIXTURE_H

#include <limits.h>
#include <stddef.h>
#include "certctl.h"

/* Slow test cases (key generation, scrypt, git) get this many seconds. */
#define FX_SLOW_TIMEOUT 30

/* The temporary root, the repository path inside it and the secret dir. */
extern char fx_root[PATH_MAX];
extern char fx_repo_path[PATH_MAX];
extern char fx_secret_dir[PATH_MAX];
/* The repository opened by fx_repo_setup(), or NULL. */
extern cc_repo *fx_repo;

/*
 * Checked fixture (runs in the forked test process): a fresh directory
 * from mkdtemp under /tmp, CERTCTL_SECRET_DIR pointing into it, HOME and
 * XDG_CONFIG_HOME inside it, and every CERTCTL_PASSPHRASE*, CERTCTL_DIR,
 * CERTCTL_LOCK_TIMEOUT variable unset.
 */
void fx_env_setup(void);
void fx_env_teardown(void);

/* fx_env_setup() plus cc_repo_init() of fx_repo_path into fx_repo. */
void fx_repo_setup(void);
void fx_repo_teardown(void);

/* snprintf that fails the test instead of truncating a path. */
void fx_pathf(char *out, size_t size, const char *fmt, ...) CC_PRINTF(3, 4);
/* "<fx_root>/<rel>" into `out`. */
void fx_path(char *out, size_t size, const char *rel);
/* Write a file (creating nothing but the file); aborts the test on failure. */
void fx_write_file(const char *path, const char *text);
/* The whole file, malloc'ed; NULL when it cannot be read. */
char *fx_read_file(const char *path);
/* Whether `path` exists (lstat). */
int fx_exists(const char *path);
/* Permission bits of `path`, or -1. */
int fx_mode(const char *path);
/* rm -rf */
void fx_remove_tree(const char *path);

/* With libgit2 directly, on the repository at `path`: */
/* HEAD's commit id as hex into out[41]; 0, or -1 when there is no HEAD. */
int fx_git_head(const char *path, char out[41]);
/* HEAD's commit message, malloc'ed, or NULL. */
char *fx_git_head_message(const char *path);
/* Number of commits reachable from HEAD. */
int fx_git_commit_count(const char *path);
/* HEAD's first parent as hex into out[41]; 0, or -1 when none. */
int fx_git_head_parent(const char *path, char out[41]);
/* The content of `relpath` in HEAD's tree, malloc'ed, NULL when absent. */
char *fx_git_head_file(const char *path, const char *relpath);
/* The value of trailer `key` in HEAD's message, malloc'ed, NULL when absent. */
char *fx_git_head_trailer(const char *path, const char *key);
/* Number of entries `git status` would show (untracked included). */
int fx_git_status_count(const char *path);

/* Whether `haystack` contains `needle`, ignoring ASCII case. */
int fx_contains_ci(const char *haystack, const char *needle);

#endif
