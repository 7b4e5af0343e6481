/*
 * Tests of transactions (lib/txn.c): one commit per transaction with the
 * Certctl-Operation trailer, abort restoring the work tree, the lock (in
 * this process, in another process, and left by a dead one), and the
 * roll-back of a journal an interrupted operation left behind.  Git state
 * is read back with libgit2 directly.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

static cc_txn *begin_ok(const char *operation)
{
	cc_txn *txn = NULL;
	int rc = cc_txn_begin(&txn, fx_repo, operation);

	ck_assert_msg(rc == 0, "cc_txn_begin: %d %s", rc, cc_error_last());
	ck_assert_ptr_nonnull(txn);
	return txn;
}

static void write_ok(cc_txn *txn, const char *relpath, const char *text)
{
	int rc = cc_txn_write(txn, relpath, text, strlen(text), 0644);

	ck_assert_msg(rc == 0, "cc_txn_write '%s': %d %s", relpath, rc, cc_error_last());
}

static void commit_ok(cc_txn *txn, const char *summary, const char *body)
{
	int rc = cc_txn_commit(txn, summary, body);

	ck_assert_msg(rc == 0, "cc_txn_commit: %d %s", rc, cc_error_last());
}

/* Commit `text` at `relpath` in a transaction of its own. */
static void commit_file(const char *relpath, const char *text)
{
	cc_txn *txn = begin_ok("test");

	write_ok(txn, relpath, text);
	commit_ok(txn, "test: setup", NULL);
}

static void work_path(char *out, size_t size, const char *relpath)
{
	fx_pathf(out, size, "%s/%s", fx_repo_path, relpath);
}

static char *work_file(const char *relpath)
{
	char path[PATH_MAX];

	work_path(path, sizeof(path), relpath);
	return fx_read_file(path);
}

static void journal_path(char *out, size_t size)
{
	fx_pathf(out, size, "%s/journal", cc_repo_statedir(fx_repo));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_txn_commit_makes_exactly_one_commit_with_operation_trailer)
{
	char before[41], after[41], parent[41];
	cc_txn *txn;
	char *message, *value, *content;

	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 1);
	txn = begin_ok("define");
	write_ok(txn, "definitions/www.yaml", "subject:\n  cn: www.example.com\n");
	ck_assert_int_eq(cc_txn_trailer(txn, "Certctl-Definition", "www"), 0);
	commit_ok(txn, "define: www: created", "A definition for the web site.");

	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 2);
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_ne(before, after);
	ck_assert_int_eq(fx_git_head_parent(fx_repo_path, parent), 0);
	ck_assert_str_eq(parent, before);

	message = fx_git_head_message(fx_repo_path);
	ck_assert_msg(strncmp(message, "define: www: created\n\nA definition for the web site.\n",
			      53) == 0, "%s", message);
	free(message);
	value = fx_git_head_trailer(fx_repo_path, "Certctl-Operation");
	ck_assert_ptr_nonnull(value);
	ck_assert_str_eq(value, "define");
	free(value);
	value = fx_git_head_trailer(fx_repo_path, "Certctl-Definition");
	ck_assert_ptr_nonnull(value);
	ck_assert_str_eq(value, "www");
	free(value);

	content = fx_git_head_file(fx_repo_path, "definitions/www.yaml");
	ck_assert_ptr_nonnull(content);
	ck_assert_str_eq(content, "subject:\n  cn: www.example.com\n");
	free(content);
	/* earlier files are still in the tree */
	content = fx_git_head_file(fx_repo_path, ".certctl/config.yaml");
	ck_assert_ptr_nonnull(content);
	free(content);
}
END_TEST

START_TEST(test_txn_commit_without_body_has_summary_then_trailers)
{
	cc_txn *txn = begin_ok("rm");
	char *message, *value;

	write_ok(txn, "x.txt", "x\n");
	commit_ok(txn, "rm: x: removed", NULL);
	message = fx_git_head_message(fx_repo_path);
	ck_assert_msg(strncmp(message, "rm: x: removed\n\n", 16) == 0, "%s", message);
	free(message);
	value = fx_git_head_trailer(fx_repo_path, "Certctl-Operation");
	ck_assert_ptr_nonnull(value);
	ck_assert_str_eq(value, "rm");
	free(value);
}
END_TEST

START_TEST(test_txn_commit_holds_every_write_of_the_transaction)
{
	cc_txn *txn = begin_ok("key import");
	char *a, *b;

	write_ok(txn, "a/one.txt", "1\n");
	write_ok(txn, "b/c/two.txt", "2\n");
	write_ok(txn, "a/one.txt", "1 again\n");
	ck_assert_uint_eq(cc_txn_changes(txn), 2);
	commit_ok(txn, "test: two files", NULL);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 2);
	a = fx_git_head_file(fx_repo_path, "a/one.txt");
	b = fx_git_head_file(fx_repo_path, "b/c/two.txt");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, "1 again\n");
	ck_assert_str_eq(b, "2\n");
	free(a);
	free(b);
}
END_TEST

START_TEST(test_txn_commit_leaves_clean_status_and_no_journal)
{
	cc_txn *txn = begin_ok("define");
	char path[PATH_MAX];

	write_ok(txn, "definitions/a.yaml", "a: 1\n");
	commit_ok(txn, "define: a: created", NULL);
	journal_path(path, sizeof(path));
	ck_assert(!fx_exists(path));
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
}
END_TEST

START_TEST(test_txn_write_creates_directories_and_sets_mode)
{
	cc_txn *txn = begin_ok("test");
	char path[PATH_MAX];
	char *content;

	umask(022);
	ck_assert_int_eq(cc_txn_write(txn, "keys/abc.pem", "k", 1, 0600), 0);
	ck_assert_int_eq(cc_txn_write(txn, "deep/er/file.yaml", "f", 1, 0644), 0);
	work_path(path, sizeof(path), "keys/abc.pem");
	ck_assert_int_eq(fx_mode(path), 0600);
	work_path(path, sizeof(path), "deep/er/file.yaml");
	ck_assert_int_eq(fx_mode(path), 0644);
	content = fx_read_file(path);
	ck_assert_str_eq(content, "f");
	free(content);
	ck_assert_uint_eq(cc_txn_changes(txn), 2);
	ck_assert_ptr_eq(cc_txn_repo(txn), fx_repo);
	commit_ok(txn, "test: modes", NULL);
	work_path(path, sizeof(path), "keys/abc.pem");
	ck_assert_int_eq(fx_mode(path), 0600);
}
END_TEST

START_TEST(test_txn_write_rejects_paths_outside_the_work_tree)
{
	static const char *bad[] = { "../escape", "/tmp/abs", "a/../../b", ".git/config", "a//b", "" };
	cc_txn *txn = begin_ok("test");
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cc_txn_write(txn, bad[i], "x", 1, 0644) == CC_EINVALID,
			      "'%s' accepted", bad[i]);
	ck_assert_uint_eq(cc_txn_changes(txn), 0);
	fx_path(path, sizeof(path), "escape");
	ck_assert(!fx_exists(path));
	cc_txn_abort(txn);
}
END_TEST

START_TEST(test_txn_abort_removes_new_file_and_keeps_head)
{
	char before[41], after[41], path[PATH_MAX];
	cc_txn *txn;

	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	txn = begin_ok("define");
	write_ok(txn, "definitions/new.yaml", "new: 1\n");
	work_path(path, sizeof(path), "definitions/new.yaml");
	ck_assert(fx_exists(path));
	cc_txn_abort(txn);
	ck_assert(!fx_exists(path));
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 1);
	journal_path(path, sizeof(path));
	ck_assert(!fx_exists(path));
}
END_TEST

START_TEST(test_txn_abort_restores_existing_file)
{
	char before[41], after[41];
	cc_txn *txn;
	char *content;

	commit_file("definitions/old.yaml", "version: 1\n");
	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	txn = begin_ok("define");
	write_ok(txn, "definitions/old.yaml", "version: 2\n");
	content = work_file("definitions/old.yaml");
	ck_assert_str_eq(content, "version: 2\n");
	free(content);
	cc_txn_abort(txn);
	content = work_file("definitions/old.yaml");
	ck_assert_ptr_nonnull(content);
	ck_assert_str_eq(content, "version: 1\n");
	free(content);
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
}
END_TEST

START_TEST(test_txn_abort_restores_private_key_file_as_0600)
{
	cc_txn *txn = begin_ok("key import");
	char path[PATH_MAX];
	char *content;

	ck_assert_int_eq(cc_txn_write(txn, "keys/0123456789abcdef.pem", "v1", 2, 0600), 0);
	commit_ok(txn, "key: imported", NULL);
	txn = begin_ok("key import");
	ck_assert_int_eq(cc_txn_write(txn, "keys/0123456789abcdef.pem", "v2", 2, 0600), 0);
	cc_txn_abort(txn);
	work_path(path, sizeof(path), "keys/0123456789abcdef.pem");
	content = fx_read_file(path);
	ck_assert_str_eq(content, "v1");
	free(content);
	ck_assert_int_eq(fx_mode(path), 0600);
}
END_TEST

START_TEST(test_txn_abort_restores_removed_file)
{
	cc_txn *txn;
	char *content;
	char path[PATH_MAX];

	commit_file("definitions/keep.yaml", "keep: yes\n");
	txn = begin_ok("rm");
	ck_assert_int_eq(cc_txn_remove(txn, "definitions/keep.yaml"), 0);
	work_path(path, sizeof(path), "definitions/keep.yaml");
	ck_assert(!fx_exists(path));
	cc_txn_abort(txn);
	content = work_file("definitions/keep.yaml");
	ck_assert_ptr_nonnull(content);
	ck_assert_str_eq(content, "keep: yes\n");
	free(content);
}
END_TEST

START_TEST(test_txn_abort_of_null_and_of_empty_transaction)
{
	char before[41], after[41];
	cc_txn *txn;

	cc_txn_abort(NULL);
	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	txn = begin_ok("nothing");
	ck_assert_uint_eq(cc_txn_changes(txn), 0);
	cc_txn_abort(txn);
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
	/* the lock is free again */
	setenv("CERTCTL_LOCK_TIMEOUT", "0", 1);
	txn = begin_ok("again");
	cc_txn_abort(txn);
}
END_TEST

START_TEST(test_txn_remove_commits_deletion)
{
	cc_txn *txn;
	char *content;

	commit_file("definitions/gone.yaml", "bye\n");
	txn = begin_ok("rm");
	ck_assert_int_eq(cc_txn_remove(txn, "definitions/gone.yaml"), 0);
	ck_assert_uint_eq(cc_txn_changes(txn), 1);
	commit_ok(txn, "rm: gone: removed", NULL);
	content = fx_git_head_file(fx_repo_path, "definitions/gone.yaml");
	ck_assert_ptr_null(content);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 3);
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
}
END_TEST

START_TEST(test_txn_remove_missing_file_is_enotfound)
{
	cc_txn *txn = begin_ok("rm");

	ck_assert_int_eq(cc_txn_remove(txn, "definitions/none.yaml"), CC_ENOTFOUND);
	ck_assert_uint_eq(cc_txn_changes(txn), 0);
	cc_txn_abort(txn);
}
END_TEST

START_TEST(test_txn_write_then_remove_new_file_commits_without_it)
{
	char before[41];
	cc_txn *txn;
	int rc;

	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	txn = begin_ok("test");
	write_ok(txn, "scratch.txt", "temporary\n");
	write_ok(txn, "kept.txt", "kept\n");
	ck_assert_int_eq(cc_txn_remove(txn, "scratch.txt"), 0);
	rc = cc_txn_commit(txn, "test: scratch file written and removed", NULL);
	ck_assert_msg(rc == 0, "cc_txn_commit: %d %s", rc, cc_error_last());
	ck_assert_ptr_null(fx_git_head_file(fx_repo_path, "scratch.txt"));
	{
		char *kept = fx_git_head_file(fx_repo_path, "kept.txt");

		ck_assert_ptr_nonnull(kept);
		free(kept);
	}
}
END_TEST

START_TEST(test_txn_trailer_rejects_injection)
{
	cc_txn *txn = begin_ok("define");
	char *value;

	ck_assert_int_eq(cc_txn_trailer(txn, "Certctl-Definition", "a\nCertctl-Operation: evil"),
			 CC_EINVALID);
	ck_assert_int_eq(cc_txn_trailer(txn, "Bad: Key", "x"), CC_EINVALID);
	ck_assert_int_eq(cc_txn_trailer(txn, "Bad\nKey", "x"), CC_EINVALID);
	ck_assert_int_eq(cc_txn_trailer(txn, "Certctl-Key", "0123456789abcdef"), 0);
	write_ok(txn, "f", "f");
	commit_ok(txn, "key: 0123456789abcdef: generated", NULL);
	value = fx_git_head_trailer(fx_repo_path, "Certctl-Operation");
	ck_assert_str_eq(value, "define");
	free(value);
	value = fx_git_head_trailer(fx_repo_path, "Certctl-Key");
	ck_assert_ptr_nonnull(value);
	ck_assert_str_eq(value, "0123456789abcdef");
	free(value);
}
END_TEST

START_TEST(test_txn_lock_file_names_the_holder)
{
	cc_txn *txn = begin_ok("define");
	char path[PATH_MAX], expected[64];
	char *holder;

	fx_pathf(path, sizeof(path), "%s/lock", cc_repo_statedir(fx_repo));
	holder = fx_read_file(path);
	ck_assert_ptr_nonnull(holder);
	snprintf(expected, sizeof(expected), "pid %ld on ", (long)getpid());
	ck_assert_msg(strncmp(holder, expected, strlen(expected)) == 0, "'%s'", holder);
	free(holder);
	cc_txn_abort(txn);
}
END_TEST

START_TEST(test_txn_second_begin_in_same_process_is_elocked)
{
	cc_txn *first = begin_ok("define"), *second = NULL;
	double start, waited;
	int rc;

	setenv("CERTCTL_LOCK_TIMEOUT", "0.2", 1);
	start = now();
	rc = cc_txn_begin(&second, fx_repo, "define");
	waited = now() - start;
	ck_assert_int_eq(rc, CC_ELOCKED);
	ck_assert_ptr_null(second);
	ck_assert_msg(waited >= 0.15 && waited < 5.0, "waited %.3f s for a 0.2 s timeout", waited);
	ck_assert_msg(fx_contains_ci(cc_error_last(), "lock"), "'%s'", cc_error_last());
	/* the first transaction is unharmed */
	write_ok(first, "still.txt", "ok\n");
	commit_ok(first, "test: after a refused begin", NULL);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 2);
	/* and the lock is free after the commit */
	second = begin_ok("again");
	cc_txn_abort(second);
}
END_TEST

/*
 * Fork a process that holds the repository lock: it signals `ready` once it
 * holds it, then lets go when a byte arrives on `release_fd` (or, with
 * release_fd < 0, after `hold_us` microseconds).
 */
static pid_t spawn_lock_holder(int ready_fd, int release_fd, useconds_t hold_us)
{
	pid_t pid = fork();
	char byte;

	if (pid != 0)
		return pid;
	{
		cc_repo *repo = NULL;
		cc_txn *held = NULL;

		if (cc_repo_open(&repo, fx_repo_path, 0) < 0 ||
		    cc_txn_begin(&held, repo, "holder") < 0)
			_exit(1);
		(void)!write(ready_fd, "r", 1);
		if (release_fd >= 0)
			(void)!read(release_fd, &byte, 1);
		else
			usleep(hold_us);
		cc_txn_abort(held);
		cc_repo_free(repo);
		_exit(0);
	}
}

START_TEST(test_txn_lock_held_by_other_process_is_elocked)
{
	int ready[2], release[2];
	pid_t pid;
	char byte = 0;
	cc_txn *txn = NULL;
	int status = 0;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(release), 0);
	pid = spawn_lock_holder(ready[1], release[0], 0);
	ck_assert_int_ge(pid, 0);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	setenv("CERTCTL_LOCK_TIMEOUT", "0.2", 1);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "define"), CC_ELOCKED);
	{
		char expected[32];

		snprintf(expected, sizeof(expected), "pid %ld", (long)pid);
		ck_assert_msg(strstr(cc_error_last(), expected) != NULL, "'%s'", cc_error_last());
	}
	ck_assert_int_eq(write(release[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* once the holder is done, the lock is ours */
	setenv("CERTCTL_LOCK_TIMEOUT", "2", 1);
	txn = begin_ok("define");
	cc_txn_abort(txn);
}
END_TEST

START_TEST(test_txn_begin_waits_for_holder_within_timeout)
{
	int ready[2];
	pid_t pid;
	char byte;
	cc_txn *txn = NULL;
	int status = 0, rc;

	ck_assert_int_eq(pipe(ready), 0);
	pid = spawn_lock_holder(ready[1], -1, 300000);
	ck_assert_int_ge(pid, 0);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	setenv("CERTCTL_LOCK_TIMEOUT", "10", 1);
	rc = cc_txn_begin(&txn, fx_repo, "define");
	ck_assert_msg(rc == 0, "begin did not wait for the holder: %d %s", rc, cc_error_last());
	cc_txn_abort(txn);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

START_TEST(test_txn_dead_holder_is_taken_over_and_rolled_back)
{
	char before[41], after[41], path[PATH_MAX];
	pid_t pid;
	int status = 0;
	cc_txn *txn;
	char *content;

	commit_file("definitions/web.yaml", "state: committed\n");
	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		cc_repo *repo = NULL;
		cc_txn *held = NULL;

		if (cc_repo_open(&repo, fx_repo_path, 0) < 0 ||
		    cc_txn_begin(&held, repo, "define") < 0 ||
		    cc_txn_write(held, "definitions/web.yaml", "state: half\n", 12, 0644) < 0 ||
		    cc_txn_write(held, "definitions/new.yaml", "state: new\n", 11, 0644) < 0)
			_exit(1);
		_exit(0); /* dies without commit or abort */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	content = work_file("definitions/web.yaml");
	ck_assert_str_eq(content, "state: half\n");
	free(content);

	setenv("CERTCTL_LOCK_TIMEOUT", "0.5", 1);
	txn = begin_ok("define");
	content = work_file("definitions/web.yaml");
	ck_assert_ptr_nonnull(content);
	ck_assert_str_eq(content, "state: committed\n");
	free(content);
	work_path(path, sizeof(path), "definitions/new.yaml");
	ck_assert(!fx_exists(path));
	cc_txn_abort(txn);
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
}
END_TEST

START_TEST(test_txn_begin_rolls_back_journal_left_behind)
{
	char path[PATH_MAX], journal[PATH_MAX], before[41], after[41];
	cc_txn *txn;
	char *content;

	commit_file("definitions/web.yaml", "version: 1\n");
	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	/* what an interrupted operation leaves: files changed on disk and the
	 * journal naming them */
	work_path(path, sizeof(path), "definitions/web.yaml");
	fx_write_file(path, "version: 2 (interrupted)\n");
	work_path(path, sizeof(path), "definitions/half.yaml");
	fx_write_file(path, "half written\n");
	journal_path(journal, sizeof(journal));
	fx_write_file(journal, "definitions/web.yaml\ndefinitions/half.yaml\n");

	txn = begin_ok("define");
	content = work_file("definitions/web.yaml");
	ck_assert_ptr_nonnull(content);
	ck_assert_str_eq(content, "version: 1\n");
	free(content);
	work_path(path, sizeof(path), "definitions/half.yaml");
	ck_assert(!fx_exists(path));
	cc_txn_abort(txn);
	ck_assert(!fx_exists(journal));
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
}
END_TEST

START_TEST(test_txn_journal_rollback_ignores_sneaky_paths)
{
	char journal[PATH_MAX], outside[PATH_MAX], absolute[PATH_MAX], lines[3 * PATH_MAX];
	cc_txn *txn;

	fx_path(outside, sizeof(outside), "victim.txt");
	fx_write_file(outside, "must survive\n");
	fx_path(absolute, sizeof(absolute), "victim2.txt");
	fx_write_file(absolute, "must survive too\n");
	journal_path(journal, sizeof(journal));
	snprintf(lines, sizeof(lines), "../victim.txt\n%s\n.git/config\n", absolute);
	fx_write_file(journal, lines);
	txn = begin_ok("define");
	cc_txn_abort(txn);
	ck_assert(fx_exists(outside));
	ck_assert(fx_exists(absolute));
	{
		char path[PATH_MAX];

		fx_pathf(path, sizeof(path), "%s/.git/config", fx_repo_path);
		ck_assert(fx_exists(path));
	}
}
END_TEST

START_TEST(test_repo_recover_counts_restored_paths)
{
	char path[PATH_MAX], journal[PATH_MAX];
	size_t repaired = 99;
	char *content;

	commit_file("a.txt", "a\n");
	work_path(path, sizeof(path), "a.txt");
	fx_write_file(path, "changed\n");
	work_path(path, sizeof(path), "b.txt");
	fx_write_file(path, "new\n");
	journal_path(journal, sizeof(journal));
	fx_write_file(journal, "a.txt\nb.txt\n");
	ck_assert_int_eq(cc_repo_recover(fx_repo, &repaired), 0);
	ck_assert_uint_eq(repaired, 2);
	content = work_file("a.txt");
	ck_assert_str_eq(content, "a\n");
	free(content);
	ck_assert(!fx_exists(path));
	ck_assert(!fx_exists(journal));
	/* nothing to do the second time */
	ck_assert_int_eq(cc_repo_recover(fx_repo, &repaired), 0);
	ck_assert_uint_eq(repaired, 0);
}
END_TEST


/* Batch mode (issue --batch): objects go to packs written by certctl. */

/* Output of a shell command run in the repository, malloc'ed (the real git CLI). */
static char *git_output(const char *args)
{
	char cmd[PATH_MAX * 2], *out = NULL;
	size_t len = 0, cap = 0;
	FILE *p;
	int c;

	fx_pathf(cmd, sizeof(cmd), "cd '%s' && git %s 2>&1", fx_repo_path, args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((c = fgetc(p)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		out[len++] = (char)c;
	}
	if (out)
		out[len] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	return out ? out : strdup("");
}

/* Number of loose objects (files under objects/XX/). */
static int loose_objects(void)
{
	char *out = git_output("count-objects");
	int n = atoi(out);

	free(out);
	return n;
}

/* git verify-pack: the batch packs are valid and hold delta chains. */
static void assert_packs_have_delta_chains(void)
{
	char *out = git_output("verify-pack -v .git/objects/pack/*.idx");

	ck_assert_msg(strstr(out, "chain length = 1") && strstr(out, ": ok"),
		      "no delta chain in:\n%s", out);
	free(out);
}

START_TEST(test_batch_commits_go_to_one_valid_pack_with_deltas)
{
	cc_txn *txn;
	char path[64], text[64], *got, *out;
	int loose_before = loose_objects(); /* those of the repository's first commit */

	ck_assert_int_eq(cc_repo_batch_objects(fx_repo), 0);
	txn = begin_ok("issue");
	/* 120 commits, each adding one file to a directory that keeps growing:
	 * every new version of many/ is stored as a delta of the last. */
	for (int i = 0; i < 120; i++) {
		snprintf(path, sizeof(path), "many/file%03d.txt", i);
		snprintf(text, sizeof(text), "content %d\n", i);
		write_ok(txn, path, text);
		snprintf(text, sizeof(text), "test: file %d", i);
		ck_assert_int_eq(cc_txn_checkpoint(txn, text, NULL), 0);
	}
	ck_assert_int_eq(cc_txn_commit(txn, NULL, NULL), 0);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 121);
	got = fx_git_head_file(fx_repo_path, "many/file077.txt");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "content 77\n");
	free(got);
	ck_assert_int_eq(loose_objects(), loose_before);
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
	/* git itself: the pack and its index are valid, everything reachable is there. */
	out = git_output("fsck --full --strict");
	free(out);
	assert_packs_have_delta_chains();
	out = git_output("log --format=%s -1 HEAD~119");
	ck_assert_str_eq(out, "test: file 0\n");
	free(out);
}
END_TEST

START_TEST(test_batch_pack_is_readable_by_the_next_group)
{
	cc_txn *txn;
	char *got;

	ck_assert_int_eq(cc_repo_batch_objects(fx_repo), 0);
	/* Two publications in one process: the second builds on trees that
	 * are now in the first group's pack. */
	for (int group = 0; group < 2; group++) {
		char path[64];

		txn = begin_ok("issue");
		for (int i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "d/g%d-%d.txt", group, i);
			write_ok(txn, path, path);
			ck_assert_int_eq(cc_txn_checkpoint(txn, "test: one", NULL), 0);
		}
		ck_assert_int_eq(cc_txn_commit(txn, NULL, NULL), 0);
	}
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 7);
	got = fx_git_head_file(fx_repo_path, "d/g0-2.txt");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "d/g0-2.txt");
	free(got);
	free(git_output("fsck --full --strict"));
}
END_TEST

/* Objects of the batch's commits, stored as deltas where they can be,
 * and an object written after the last commit: all in the pack. */
START_TEST(test_batch_pack_holds_objects_written_after_the_last_commit)
{
	git_odb *odb = NULL;
	git_oid late;
	cc_txn *txn;
	char path[64], args[80], *out;
	static const char blob[] = "written after the last commit\n";

	ck_assert_int_eq(cc_repo_batch_objects(fx_repo), 0);
	txn = begin_ok("issue");
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "grow/f%02d.txt", i);
		write_ok(txn, path, path);
		ck_assert_int_eq(cc_txn_checkpoint(txn, "test: one", NULL), 0);
	}
	ck_assert_int_eq(git_repository_odb(&odb, cc_repo_git(fx_repo)), 0);
	ck_assert_int_eq(cc_odb_write(&late, odb, blob, sizeof(blob) - 1, GIT_OBJECT_BLOB), 0);
	git_odb_free(odb);
	ck_assert_int_eq(cc_txn_commit(txn, NULL, NULL), 0);
	ck_assert_int_eq(fx_git_commit_count(fx_repo_path), 41);
	free(git_output("fsck --full --strict"));
	snprintf(args, sizeof(args), "cat-file -p %s", git_oid_tostr_s(&late));
	out = git_output(args);
	ck_assert_str_eq(out, blob);
	free(out);
	assert_packs_have_delta_chains();
	/* A second group in the same process, after the first was written. */
	txn = begin_ok("issue");
	write_ok(txn, "grow/last.txt", "last\n");
	ck_assert_int_eq(cc_txn_checkpoint(txn, "test: last", NULL), 0);
	ck_assert_int_eq(cc_txn_commit(txn, NULL, NULL), 0);
	out = fx_git_head_file(fx_repo_path, "grow/f17.txt");
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "grow/f17.txt");
	free(out);
	free(git_output("fsck --full --strict"));
}
END_TEST

START_TEST(test_batch_object_ids_are_git_ids)
{
	git_odb *odb = NULL;
	git_oid batch_id, git_id;
	static const char blob[] = "-----BEGIN CERTIFICATE-----\n";

	ck_assert_int_eq(cc_repo_batch_objects(fx_repo), 0);
	ck_assert_int_eq(git_repository_odb(&odb, cc_repo_git(fx_repo)), 0);
	ck_assert_int_eq(cc_odb_write(&batch_id, odb, blob, sizeof(blob) - 1, GIT_OBJECT_BLOB), 0);
	ck_assert_int_eq(git_odb_hash(&git_id, blob, sizeof(blob) - 1, GIT_OBJECT_BLOB), 0);
	ck_assert(git_oid_equal(&batch_id, &git_id));
	/* Readable through libgit2 before the pack exists, and twice is once. */
	ck_assert_int_eq(git_odb_exists(odb, &batch_id), 1);
	ck_assert_int_eq(cc_odb_write(&batch_id, odb, blob, sizeof(blob) - 1, GIT_OBJECT_BLOB), 0);
	ck_assert_int_eq(cc_repo_write_objects(fx_repo), 0);
	ck_assert_int_eq(git_odb_exists(odb, &git_id), 1);
	git_odb_free(odb);
	{
		char args[80], *out;

		snprintf(args, sizeof(args), "cat-file -p %s", git_oid_tostr_s(&git_id));
		out = git_output(args);
		ck_assert_str_eq(out, blob);
		free(out);
		out = git_output("count-objects -v");
		ck_assert_msg(strstr(out, "in-pack: 1\n") != NULL, "%s", out);
		free(out);
	}
}
END_TEST

START_TEST(test_txn_lock_timeout_zero_fails_at_once)
{
	cc_txn *first = begin_ok("define"), *second = NULL;
	double start, waited;

	setenv("CERTCTL_LOCK_TIMEOUT", "0", 1);
	start = now();
	ck_assert_int_eq(cc_txn_begin(&second, fx_repo, "define"), CC_ELOCKED);
	waited = now() - start;
	ck_assert_msg(waited < 1.0, "CERTCTL_LOCK_TIMEOUT=0 waited %.3f s", waited);
	cc_txn_abort(first);
}
END_TEST

Suite *txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc;

	tc = tcase_create("commit");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_txn_commit_makes_exactly_one_commit_with_operation_trailer);
	tcase_add_test(tc, test_txn_commit_without_body_has_summary_then_trailers);
	tcase_add_test(tc, test_txn_commit_holds_every_write_of_the_transaction);
	tcase_add_test(tc, test_txn_commit_leaves_clean_status_and_no_journal);
	tcase_add_test(tc, test_txn_write_creates_directories_and_sets_mode);
	tcase_add_test(tc, test_txn_write_rejects_paths_outside_the_work_tree);
	tcase_add_test(tc, test_txn_remove_commits_deletion);
	tcase_add_test(tc, test_txn_remove_missing_file_is_enotfound);
	tcase_add_test(tc, test_txn_write_then_remove_new_file_commits_without_it);
	tcase_add_test(tc, test_txn_trailer_rejects_injection);
	tcase_add_test(tc, test_batch_commits_go_to_one_valid_pack_with_deltas);
	tcase_add_test(tc, test_batch_pack_is_readable_by_the_next_group);
	tcase_add_test(tc, test_batch_object_ids_are_git_ids);
	tcase_add_test(tc, test_batch_pack_holds_objects_written_after_the_last_commit);
	suite_add_tcase(s, tc);

	tc = tcase_create("abort");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_txn_abort_removes_new_file_and_keeps_head);
	tcase_add_test(tc, test_txn_abort_restores_existing_file);
	tcase_add_test(tc, test_txn_abort_restores_private_key_file_as_0600);
	tcase_add_test(tc, test_txn_abort_restores_removed_file);
	tcase_add_test(tc, test_txn_abort_of_null_and_of_empty_transaction);
	suite_add_tcase(s, tc);

	tc = tcase_create("lock");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_txn_lock_file_names_the_holder);
	tcase_add_test(tc, test_txn_second_begin_in_same_process_is_elocked);
	tcase_add_test(tc, test_txn_lock_held_by_other_process_is_elocked);
	tcase_add_test(tc, test_txn_begin_waits_for_holder_within_timeout);
	tcase_add_test(tc, test_txn_lock_timeout_zero_fails_at_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_txn_dead_holder_is_taken_over_and_rolled_back);
	tcase_add_test(tc, test_txn_begin_rolls_back_journal_left_behind);
	tcase_add_test(tc, test_txn_journal_rollback_ignores_sneaky_paths);
	tcase_add_test(tc, test_repo_recover_counts_restored_paths);
	suite_add_tcase(s, tc);
	return s;
}
