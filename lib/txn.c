/*
 * This module implements transactions: the repository lock (flock, so a
 * dead holder releases it), the journal of touched paths that lets an
 * interrupted operation be rolled back, and the single commit that ends a
 * successful operation.  The commit's tree is built from HEAD's tree plus
 * the recorded updates, never from the index, so a stale index cannot
 * resurrect old files; the index is refreshed afterwards for the git CLI.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* A path the transaction touched, with its latest content. */
typedef struct {
	char *path;
	git_oid blob;
	int removed;
	int pending; /* changed since the last checkpoint */
} txn_update;

struct cc_txn {
	cc_repo *repo;
	char *operation;
	int lock_fd;
	int journal_fd;
	txn_update *updates;   /* every path touched, in order */
	size_t count, alloc;
	size_t *slots;         /* hash of paths -> index + 1 */
	size_t nslots;
	size_t *pending;       /* indexes changed since the last checkpoint */
	size_t npending, pending_alloc;
	cc_buf trailers;
	/* The directory of the last file written: the next file usually goes
	 * beside it (cert.pem, chain.pem, ...), and needs no mkdir. */
	cc_buf last_dir;
	/* The commits made so far (checkpoints) on top of HEAD as it was. */
	git_oid head, head_tree, tip, tip_tree;
	int has_head, has_tip;
	size_t commits;
};

/* Private key files (keys/ID.pem) are 0600; everything else is 0644. */
static unsigned mode_for(const char *relpath)
{
	size_t len = strlen(relpath);

	return strncmp(relpath, "keys/", 5) == 0 && len > 4 && !strcmp(relpath + len - 4, ".pem")
		       ? 0600 : 0644;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The lock timeout setting (certctl-config(1)) in milliseconds. */
static int lock_timeout_ms(const cc_repo *repo, long *ms)
{
	cc_setting st;
	long long secs;
	char *end = NULL;
	double v;
	int rc;

	*ms = 10000;
	if ((rc = cc_setting_get(&st, repo, "lock.timeout")) < 0)
		return rc;
	/* A plain number is seconds, fractions allowed (tests wait 0.2 s). */
	v = strtod(st.value, &end);
	if (end != st.value && *end == '\0')
		*ms = (long)(v * 1000);
	else if (cc_duration_parse(&secs, st.value) == 0)
		*ms = (long)secs * 1000;
	return 0;
}

static int state_path(cc_buf *out, const cc_repo *repo, const char *name)
{
	return cc_fs_join(out, cc_repo_statedir(repo), name);
}

/* Who holds the lock, for the message; read from the lock file. */
static void lock_holder(int fd, char *out, size_t size)
{
	ssize_t n = pread(fd, out, size - 1, 0);

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!out[0])
		snprintf(out, size, "another process");
}

static int lock_take(cc_repo *repo, int *out_fd)
{
	cc_buf path = CC_BUF_INIT;
	char holder[256], host[128] = "";
	long timeout;
	double deadline;
	int fd = -1, rc = 0;

	*out_fd = -1;
	if ((rc = lock_timeout_ms(repo, &timeout)) < 0)
		return rc;
	deadline = now_seconds() + timeout / 1000.0;
	if ((rc = state_path(&path, repo, "lock")) < 0)
		goto done;
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = cc_error_errno(CC_EIO, "cannot open the repository lock '%s'", path.ptr);
		goto done;
	}
	for (unsigned attempt = 0;; attempt++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = cc_error_errno(CC_EIO, "cannot lock '%s'", path.ptr);
			goto done;
		}
		if (now_seconds() >= deadline) {
			lock_holder(fd, holder, sizeof(holder));
			rc = cc_error_set(CC_ELOCKED,
					  "repository '%s' is locked by %s (waited %.1f s; "
					  "see CERTCTL_LOCK_TIMEOUT)",
					  cc_repo_workdir(repo), holder, timeout / 1000.0);
			goto done;
		}
		/* 10 ms, growing to 100 ms: quick hand-over, little spinning. */
		usleep(attempt < 10 ? 10000 : 100000);
	}
	gethostname(host, sizeof(host) - 1);
	{
		char info[256];
		int len = snprintf(info, sizeof(info), "pid %ld on %s\n", (long)getpid(), host);

		if (ftruncate(fd, 0) == 0 && len > 0)
			(void)!pwrite(fd, info, (size_t)len, 0);
	}
	*out_fd = fd;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	cc_buf_dispose(&path);
	return rc;
}

static void lock_release(int fd)
{
	if (fd >= 0) {
		(void)!ftruncate(fd, 0);
		flock(fd, LOCK_UN);
		close(fd);
	}
}

/* Remove "<path>.tmp-*" files an interrupted atomic write left behind. */
static void remove_temporaries(const char *path)
{
	cc_buf pattern = CC_BUF_INIT;
	glob_t found;

	if (cc_buf_printf(&pattern, "%s.tmp-*", path) == 0 &&
	    glob(pattern.ptr, GLOB_NOSORT, NULL, &found) == 0) {
		for (size_t i = 0; i < found.gl_pathc; i++)
			unlink(found.gl_pathv[i]);
		globfree(&found);
	}
	cc_buf_dispose(&pattern);
}

/* Put `relpath` back as HEAD has it (or remove it if HEAD has none). */
static int restore_path(cc_repo *repo, git_tree *head_tree, const char *relpath)
{
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	cc_buf path = CC_BUF_INIT;
	int rc = 0;

	if (cc_fs_relpath_check(relpath) < 0)
		return 0; /* never act on a path we would not have written */
	if ((rc = cc_fs_join(&path, cc_repo_workdir(repo), relpath)) < 0)
		return rc;
	remove_temporaries(path.ptr);
	if (head_tree && git_tree_entry_bypath(&entry, head_tree, relpath) == 0 &&
	    git_tree_entry_type(entry) == GIT_OBJECT_BLOB) {
		cc_buf current = CC_BUF_INIT;
		int same;

		if (git_blob_lookup(&blob, cc_repo_git(repo), git_tree_entry_id(entry)) < 0) {
			rc = cc_error_git(CC_EIO, "cannot read '%s' from HEAD", relpath);
			goto done;
		}
		/* Untouched (the write failed before it happened): nothing to do,
		 * which also keeps a read-only work tree restorable. */
		same = cc_fs_read(&current, path.ptr, 0) == 0 &&
		       current.size == (size_t)git_blob_rawsize(blob) &&
		       memcmp(cc_buf_cstr(&current), git_blob_rawcontent(blob), current.size) == 0;
		cc_buf_dispose(&current);
		cc_error_clear();
		if (same)
			goto done;
		if ((rc = cc_fs_mkdir_parents(path.ptr, 0755)) == 0)
			rc = cc_fs_write_atomic(path.ptr, git_blob_rawcontent(blob),
						(size_t)git_blob_rawsize(blob), mode_for(relpath));
	} else if (unlink(path.ptr) < 0 && errno != ENOENT) {
		rc = cc_error_errno(CC_EIO, "cannot remove '%s'", relpath);
	} else {
		/* Directories the operation created for it go too (rmdir stops at
		 * the first one that holds anything else). */
		char *slash;

		while ((slash = strrchr(path.ptr, '/')) != NULL &&
		       (size_t)(slash - path.ptr) > strlen(cc_repo_workdir(repo))) {
			*slash = '\0';
			if (rmdir(path.ptr) < 0)
				break;
		}
	}
done:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	cc_buf_dispose(&path);
	return rc;
}

static int head_tree_lookup(git_tree **out, git_commit **commit_out, cc_repo *repo)
{
	git_reference *head = NULL;
	git_commit *commit = NULL;
	int rc = 0, err;

	*out = NULL;
	if (commit_out)
		*commit_out = NULL;
	err = git_repository_head(&head, cc_repo_git(repo));
	if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND)
		return 0;
	if (err < 0)
		return cc_error_git(CC_EIO, "cannot read HEAD");
	if (git_commit_lookup(&commit, cc_repo_git(repo), git_reference_target(head)) < 0 ||
	    git_commit_tree(out, commit) < 0) {
		rc = cc_error_git(CC_EIO, "cannot read the HEAD commit");
		goto done;
	}
	if (commit_out) {
		*commit_out = commit;
		commit = NULL;
	}
done:
	git_commit_free(commit);
	git_reference_free(head);
	return rc;
}

/* Make the index match HEAD for the given paths (all paths when none). */
static void index_sync(cc_repo *repo, git_tree *tree, txn_update *updates, size_t count)
{
	git_index *index = NULL;

	if (updates) {
		cc_git_change *changes = calloc(count ? count : 1, sizeof(*changes));
		int done = -1;

		if (changes) {
			for (size_t i = 0; i < count; i++) {
				changes[i].path = updates[i].path;
				changes[i].id = updates[i].blob;
				changes[i].remove = updates[i].removed;
			}
			done = cc_git_index_apply(cc_repo_git(repo), cc_repo_workdir(repo), changes,
						  count);
			free(changes);
		}
		cc_error_clear();
		if (done == 0)
			return;
	}
	if (git_repository_index(&index, cc_repo_git(repo)) < 0)
		return;
	if (!updates) {
		if (tree)
			git_index_read_tree(index, tree);
		else
			git_index_clear(index);
	} else {
		for (size_t i = 0; i < count; i++) {
			if (updates[i].removed)
				git_index_remove_bypath(index, updates[i].path);
			else
				git_index_add_bypath(index, updates[i].path);
		}
	}
	git_index_write(index);
	git_index_free(index);
}

/* git's lock files that block a commit: the index's and HEAD's branch's. */
int cc_repo_git_lock_paths(cc_repo *repo, cc_buf *index_lock, cc_buf *ref_lock)
{
	const char *gitdir = git_repository_path(cc_repo_git(repo));
	cc_buf head = CC_BUF_INIT, path = CC_BUF_INIT;
	int rc;

	if ((rc = cc_buf_printf(index_lock, "%sindex.lock", gitdir)) < 0 ||
	    (rc = cc_buf_printf(&path, "%sHEAD", gitdir)) < 0)
		goto done;
	if (cc_fs_read(&head, path.ptr, 4096) == 0 && strncmp(head.ptr, "ref: ", 5) == 0) {
		char *ref = head.ptr + 5;

		ref[strcspn(ref, "\r\n")] = '\0';
		if (cc_fs_relpath_check(ref) == 0)
			rc = cc_buf_printf(ref_lock, "%s%s.lock", gitdir, ref);
	} else {
		cc_error_clear();
		rc = cc_buf_printf(ref_lock, "%sHEAD.lock", gitdir);
	}
done:
	cc_buf_dispose(&head);
	cc_buf_dispose(&path);
	return rc;
}

/* Remove git lock files made at or after `since` by a certctl that died
 * while committing. */
static void remove_own_git_locks(cc_repo *repo, long long since)
{
	cc_buf index_lock = CC_BUF_INIT, ref_lock = CC_BUF_INIT;
	const char *paths[2];
	struct stat st;

	if (cc_repo_git_lock_paths(repo, &index_lock, &ref_lock) == 0) {
		paths[0] = index_lock.ptr;
		paths[1] = ref_lock.ptr;
		for (size_t i = 0; i < 2; i++)
			if (paths[i] && stat(paths[i], &st) == 0 && (long long)st.st_mtime >= since - 1)
				unlink(paths[i]);
	}
	cc_error_clear();
	cc_buf_dispose(&index_lock);
	cc_buf_dispose(&ref_lock);
}

/*
 * Wait, within the lock timeout, for git's own lock files to go away: a git
 * command may be running in this repository.  CC_ELOCKED when they stay.
 */
static int wait_git_locks(cc_repo *repo)
{
	cc_buf index_lock = CC_BUF_INIT, ref_lock = CC_BUF_INIT;
	double deadline;
	long timeout;
	int rc;

	if ((rc = lock_timeout_ms(repo, &timeout)) < 0)
		return rc;
	deadline = now_seconds() + timeout / 1000.0;
	if ((rc = cc_repo_git_lock_paths(repo, &index_lock, &ref_lock)) < 0)
		goto done;
	for (unsigned attempt = 0;; attempt++) {
		const char *held = cc_fs_exists(index_lock.ptr) ? index_lock.ptr
				   : ref_lock.size && cc_fs_exists(ref_lock.ptr) ? ref_lock.ptr
										 : NULL;

		if (!held)
			break;
		if (now_seconds() >= deadline) {
			rc = cc_error_set(CC_ELOCKED,
					  "git's lock file '%s' exists: a git command is running in "
					  "the repository, or one crashed (remove the file if none is "
					  "running)", held);
			break;
		}
		usleep(attempt < 10 ? 10000 : 100000);
	}
done:
	cc_buf_dispose(&index_lock);
	cc_buf_dispose(&ref_lock);
	return rc;
}

int cc_repo_recover(cc_repo *repo, size_t *repaired)
{
	cc_buf path = CC_BUF_INIT, journal = CC_BUF_INIT;
	git_tree *tree = NULL;
	size_t count = 0;
	long long commit_started = 0;
	int rc;

	if (repaired)
		*repaired = 0;
	if ((rc = state_path(&path, repo, "journal")) < 0)
		goto done;
	rc = cc_fs_read(&journal, path.ptr, 16 * 1024 * 1024);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	if ((rc = head_tree_lookup(&tree, NULL, repo)) < 0)
		goto done;
	for (char *line = journal.ptr, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		if (line[0] == '#') {
			/* "#commit TIME": it died taking git's locks; they are its. */
			if (strncmp(line, "#commit ", 8) == 0)
				commit_started = strtoll(line + 8, NULL, 10);
			continue;
		}
		if ((rc = restore_path(repo, tree, line)) < 0)
			goto done;
		count++;
	}
	if (commit_started)
		remove_own_git_locks(repo, commit_started);
	/* The interrupted commit may have left the index behind HEAD. */
	index_sync(repo, tree, NULL, 0);
	if (unlink(path.ptr) < 0 && errno != ENOENT) {
		rc = cc_error_errno(CC_EIO, "cannot remove the journal '%s'", path.ptr);
		goto done;
	}
	if (repaired)
		*repaired = count;
done:
	git_tree_free(tree);
	cc_buf_dispose(&path);
	cc_buf_dispose(&journal);
	return rc;
}

int cc_txn_begin(cc_txn **out, cc_repo *repo, const char *operation)
{
	cc_txn *txn = NULL;
	cc_buf path = CC_BUF_INIT;
	int rc;

	*out = NULL;
	txn = calloc(1, sizeof(*txn));
	if (!txn)
		return cc_error_set(CC_ERROR, "out of memory");
	txn->repo = repo;
	txn->lock_fd = txn->journal_fd = -1;
	if (!(txn->operation = strdup(operation))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if ((rc = lock_take(repo, &txn->lock_fd)) < 0)
		goto done;
	/* A journal under a lock we could take belongs to a dead process. */
	if ((rc = cc_repo_recover(repo, NULL)) < 0)
		goto done;
	if ((rc = wait_git_locks(repo)) < 0)
		goto done;
	{
		git_tree *tree = NULL;
		git_commit *head = NULL;

		if ((rc = head_tree_lookup(&tree, &head, repo)) == 0 && head) {
			txn->head = *git_commit_id(head);
			txn->head_tree = *git_tree_id(tree);
			txn->has_head = 1;
		}
		git_tree_free(tree);
		git_commit_free(head);
	}
done:
	cc_buf_dispose(&path);
	if (rc < 0) {
		lock_release(txn->lock_fd);
		free(txn->operation);
		free(txn);
		return rc;
	}
	*out = txn;
	return 0;
}

cc_repo *cc_txn_repo(cc_txn *txn)
{
	return txn->repo;
}

size_t cc_txn_changes(const cc_txn *txn)
{
	return txn->npending;
}

/* Record `relpath` in the journal (durably) before touching it. */
static int journal_add(cc_txn *txn, const char *relpath)
{
	cc_buf path = CC_BUF_INIT, line = CC_BUF_INIT;
	int rc = 0;

	if (txn->journal_fd < 0) {
		if ((rc = state_path(&path, txn->repo, "journal")) < 0)
			goto done;
		txn->journal_fd = open(path.ptr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (txn->journal_fd < 0) {
			rc = cc_error_errno(CC_EIO, "cannot write the journal '%s'", path.ptr);
			goto done;
		}
	}
	if ((rc = cc_buf_printf(&line, "%s\n", relpath)) < 0)
		goto done;
	/* Not flushed line by line: the commit's flush covers the journal with
	 * everything else, and a killed process leaves it in the page cache. */
	if (write(txn->journal_fd, line.ptr, line.size) != (ssize_t)line.size)
		rc = cc_error_errno(CC_EIO, "cannot write the journal");
done:
	cc_buf_dispose(&path);
	cc_buf_dispose(&line);
	return rc;
}

static size_t path_hash(const char *path)
{
	size_t h = 1469598103934665603ULL;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211ULL;
	return h;
}

/* The index of `relpath` in txn->updates, or (size_t)-1. */
static size_t update_find(const cc_txn *txn, const char *relpath)
{
	if (!txn->nslots)
		return (size_t)-1;
	for (size_t i = path_hash(relpath) & (txn->nslots - 1);; i = (i + 1) & (txn->nslots - 1)) {
		if (!txn->slots[i])
			return (size_t)-1;
		if (!strcmp(txn->updates[txn->slots[i] - 1].path, relpath))
			return txn->slots[i] - 1;
	}
}

static int slots_grow(cc_txn *txn)
{
	size_t nslots = txn->nslots ? txn->nslots * 2 : 64;
	size_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t k = 0; k < txn->count; k++) {
		size_t i = path_hash(txn->updates[k].path) & (nslots - 1);

		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = k + 1;
	}
	free(txn->slots);
	txn->slots = slots;
	txn->nslots = nslots;
	return 0;
}

/*
 * The update of `relpath`, journaled before its first change and marked
 * pending for the next checkpoint.  NULL when out of memory or the journal
 * cannot be written (the error is set).
 */
static txn_update *update_slot(cc_txn *txn, const char *relpath)
{
	size_t k = update_find(txn, relpath);
	txn_update *u;

	if (k == (size_t)-1) {
		if (journal_add(txn, relpath) < 0)
			return NULL;
		if ((txn->count + 1) * 2 > txn->nslots && slots_grow(txn) < 0)
			goto oom;
		if (txn->count == txn->alloc) {
			size_t alloc = txn->alloc ? txn->alloc * 2 : 8;
			txn_update *grown = realloc(txn->updates, alloc * sizeof(*grown));

			if (!grown)
				goto oom;
			txn->updates = grown;
			txn->alloc = alloc;
		}
		k = txn->count;
		memset(&txn->updates[k], 0, sizeof(txn_update));
		if (!(txn->updates[k].path = strdup(relpath)))
			goto oom;
		txn->count++;
		{
			size_t i = path_hash(relpath) & (txn->nslots - 1);

			while (txn->slots[i])
				i = (i + 1) & (txn->nslots - 1);
			txn->slots[i] = k + 1;
		}
	}
	u = &txn->updates[k];
	if (!u->pending) {
		if (txn->npending == txn->pending_alloc) {
			size_t alloc = txn->pending_alloc ? txn->pending_alloc * 2 : 16;
			size_t *grown = realloc(txn->pending, alloc * sizeof(*grown));

			if (!grown)
				goto oom;
			txn->pending = grown;
			txn->pending_alloc = alloc;
		}
		txn->pending[txn->npending++] = k;
		u->pending = 1;
	}
	return u;
oom:
	cc_error_set(CC_ERROR, "out of memory");
	return NULL;
}

static int write_object(git_oid *out, cc_repo *repo, const void *data, size_t len,
			git_object_t type)
{
	git_odb *odb = NULL;
	int rc;

	if (git_repository_odb(&odb, cc_repo_git(repo)) < 0)
		return cc_error_git(CC_EIO, "cannot open the object database");
	rc = cc_odb_write(out, odb, data, len, type);
	git_odb_free(odb);
	return rc;
}

int cc_txn_write(cc_txn *txn, const char *relpath, const void *data, size_t len, unsigned mode)
{
	cc_buf path = CC_BUF_INIT;
	txn_update *u;
	git_oid oid;
	size_t dirlen;
	int rc;

	if ((rc = cc_repo_path(txn->repo, relpath, &path)) < 0)
		goto done;
	if ((rc = write_object(&oid, txn->repo, data, len, GIT_OBJECT_BLOB)) < 0) {
		cc_error_set(rc, "cannot store '%s': %s", relpath, cc_error_last());
		goto done;
	}
	if (!(u = update_slot(txn, relpath))) {
		rc = CC_ERROR;
		goto done;
	}
	u->blob = oid;
	u->removed = 0;
	dirlen = (size_t)(strrchr(path.ptr, '/') - path.ptr);
	if (txn->last_dir.size != dirlen || memcmp(txn->last_dir.ptr, path.ptr, dirlen)) {
		if ((rc = cc_fs_mkdir_parents(path.ptr,
					      strncmp(relpath, "keys/", 5) == 0 ? 0700 : 0755)) < 0)
			goto done;
		cc_buf_clear(&txn->last_dir);
		if ((rc = cc_buf_put(&txn->last_dir, path.ptr, dirlen)) < 0)
			goto done;
	}
	rc = cc_fs_write_atomic_nosync(path.ptr, data, len, mode);
done:
	cc_buf_dispose(&path);
	return rc;
}

int cc_txn_remove(cc_txn *txn, const char *relpath)
{
	cc_buf path = CC_BUF_INIT;
	txn_update *u;
	int rc;

	if ((rc = cc_repo_path(txn->repo, relpath, &path)) < 0)
		goto done;
	if (!cc_fs_exists(path.ptr)) {
		rc = cc_error_set(CC_ENOTFOUND, "'%s' does not exist", relpath);
		goto done;
	}
	if (!(u = update_slot(txn, relpath))) {
		rc = CC_ERROR;
		goto done;
	}
	u->removed = 1;
	if (unlink(path.ptr) < 0)
		rc = cc_error_errno(CC_EIO, "cannot remove '%s'", relpath);
done:
	cc_buf_dispose(&path);
	return rc;
}

int cc_txn_trailer(cc_txn *txn, const char *key, const char *value)
{
	if (strchr(key, '\n') || strchr(key, ':') || strchr(value, '\n'))
		return cc_error_set(CC_EINVALID, "invalid commit trailer '%s'", key);
	return cc_buf_printf(&txn->trailers, "%s: %s\n", key, value);
}

/* Who commits: git's environment variables, then git's configuration
 * (user.name, user.email), then the login name at this host. */
static int signature(git_signature **out, cc_repo *repo)
{
	const char *user, *env_name = getenv("GIT_AUTHOR_NAME"), *env_mail = getenv("GIT_AUTHOR_EMAIL");
	char host[128] = "localhost", email[300];

	if (!env_name || !*env_name)
		env_name = getenv("GIT_COMMITTER_NAME");
	if (!env_mail || !*env_mail)
		env_mail = getenv("GIT_COMMITTER_EMAIL");
	if (env_name && *env_name && env_mail && *env_mail &&
	    git_signature_now(out, env_name, env_mail) == 0)
		return 0;
	{
		const char *name, *mail;

		if (cc_repo_committer(repo, &name, &mail) == 0 && git_signature_now(out, name, mail) == 0)
			return 0;
		cc_error_clear();
	}
	user = getenv("USER");
	if (!user || !*user)
		user = "certctl";
	gethostname(host, sizeof(host) - 1);
	snprintf(email, sizeof(email), "%s@%s", user, host);
	if (git_signature_now(out, user, email) < 0)
		return cc_error_git(CC_ERROR, "cannot make a commit signature");
	return 0;
}

static void txn_free(cc_txn *txn)
{
	if (!txn)
		return;
	if (txn->journal_fd >= 0)
		close(txn->journal_fd);
	lock_release(txn->lock_fd);
	for (size_t i = 0; i < txn->count; i++)
		free(txn->updates[i].path);
	free(txn->updates);
	free(txn->slots);
	free(txn->pending);
	free(txn->operation);
	cc_buf_dispose(&txn->trailers);
	cc_buf_dispose(&txn->last_dir);
	free(txn);
}

static int remove_journal(cc_txn *txn)
{
	cc_buf path = CC_BUF_INIT;
	int rc;

	if (txn->journal_fd >= 0) {
		close(txn->journal_fd);
		txn->journal_fd = -1;
	}
	if ((rc = state_path(&path, txn->repo, "journal")) == 0 && unlink(path.ptr) < 0 &&
	    errno != ENOENT)
		rc = cc_error_errno(CC_EIO, "cannot remove the journal");
	cc_buf_dispose(&path);
	return rc;
}

/* Flush the file systems of the work tree and of the git directory. */
static int flush(cc_repo *repo)
{
	const char *gitdir = git_repository_path(cc_repo_git(repo));
	struct stat a, b;
	int rc = cc_fs_syncfs(cc_repo_workdir(repo));

	if (rc == 0 && stat(cc_repo_workdir(repo), &a) == 0 && stat(gitdir, &b) == 0 &&
	    a.st_dev != b.st_dev)
		rc = cc_fs_syncfs(gitdir);
	return rc;
}

/*
 * Point HEAD's branch (or a detached HEAD) at `commit`, provided it still
 * points at `expected` (NULL: an unborn branch): another git writer in
 * between makes this fail rather than lose its commit.
 */
static int move_head(cc_repo *repo, const git_oid *commit, const git_oid *expected,
		     const char *summary)
{
	git_repository *git = cc_repo_git(repo);
	git_reference *head = NULL, *moved = NULL;
	cc_buf log = CC_BUF_INIT;
	int rc = 0, err;

	cc_buf_printf(&log, "commit: %s", summary);
	if (git_reference_lookup(&head, git, "HEAD") < 0) {
		rc = cc_error_git(CC_EIO, "cannot read HEAD");
		goto done;
	}
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *branch = git_reference_symbolic_target(head);

		err = expected ? git_reference_create_matching(&moved, git, branch, commit, 1, expected,
							       cc_buf_cstr(&log))
			       : git_reference_create(&moved, git, branch, commit, 0, cc_buf_cstr(&log));
	} else {
		err = git_repository_set_head_detached(git, commit);
	}
	if (err < 0)
		rc = cc_error_git(err == GIT_EMODIFIED ? CC_ELOCKED : CC_EIO,
				  "cannot move HEAD to the new commit (did a git command change "
				  "the branch meanwhile?)");
done:
	git_reference_free(head);
	git_reference_free(moved);
	cc_buf_dispose(&log);
	return rc;
}

int cc_txn_checkpoint(cc_txn *txn, const char *summary, const char *body)
{
	git_repository *git = cc_repo_git(txn->repo);
	cc_git_change *changes = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	cc_buf message = CC_BUF_INIT;
	git_buf raw = GIT_BUF_INIT;
	const git_oid *base = txn->has_tip ? &txn->tip_tree : txn->has_head ? &txn->head_tree : NULL;
	const git_oid *parent_id = txn->has_tip ? &txn->tip : txn->has_head ? &txn->head : NULL;
	git_oid tree_id, commit_id;
	int rc = 0;

	if (!summary || !*summary || strchr(summary, '\n'))
		return cc_error_set(CC_EINVALID, "a commit needs a one-line summary");
	changes = calloc(txn->npending ? txn->npending : 1, sizeof(*changes));
	if (!changes)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < txn->npending; i++) {
		txn_update *u = &txn->updates[txn->pending[i]];

		changes[i].path = u->path;
		changes[i].id = u->blob;
		changes[i].remove = u->removed;
	}
	if ((rc = cc_git_tree_apply(&tree_id, git, base, changes, txn->npending)) < 0)
		goto done;
	if (git_tree_lookup(&tree, git, &tree_id) < 0 ||
	    (parent_id && git_commit_lookup(&parent, git, parent_id) < 0)) {
		rc = cc_error_git(CC_EIO, "cannot read the commit tree");
		goto done;
	}
	if ((rc = signature(&sig, txn->repo)) < 0)
		goto done;
	rc = cc_buf_printf(&message, "%s\n\n", summary);
	if (rc == 0 && body && *body)
		rc = cc_buf_printf(&message, "%s\n\n", body);
	if (rc == 0)
		rc = cc_buf_printf(&message, "Certctl-Operation: %s\n%s", txn->operation,
				   cc_buf_cstr(&txn->trailers));
	if (rc < 0)
		goto done;
	if (git_commit_create_buffer(&raw, git, sig, sig, NULL, message.ptr, tree, parent ? 1 : 0,
				     (const git_commit **)&parent) < 0) {
		rc = cc_error_git(CC_EIO, "cannot commit");
		goto done;
	}
	if ((rc = write_object(&commit_id, txn->repo, raw.ptr, raw.size, GIT_OBJECT_COMMIT)) < 0)
		goto done;
	txn->tip = commit_id;
	txn->tip_tree = tree_id;
	txn->has_tip = 1;
	txn->commits++;
	for (size_t i = 0; i < txn->npending; i++)
		txn->updates[txn->pending[i]].pending = 0;
	txn->npending = 0;
	cc_buf_clear(&txn->trailers);
done:
	free(changes);
	git_tree_free(tree);
	git_commit_free(parent);
	git_signature_free(sig);
	cc_buf_dispose(&message);
	git_buf_dispose(&raw);
	return rc;
}

int cc_txn_rollback_pending(cc_txn *txn)
{
	git_repository *git = cc_repo_git(txn->repo);
	const git_oid *base = txn->has_tip ? &txn->tip_tree : txn->has_head ? &txn->head_tree : NULL;
	git_tree *tree = NULL;
	int rc = 0;

	if (base && git_tree_lookup(&tree, git, base) < 0)
		return cc_error_git(CC_EIO, "cannot read the last commit's tree");
	/* Restoring may remove directories the pending writes made. */
	cc_buf_clear(&txn->last_dir);
	for (size_t i = 0; i < txn->npending && rc == 0; i++) {
		txn_update *u = &txn->updates[txn->pending[i]];

		rc = restore_path(txn->repo, tree, u->path);
		u->pending = 0;
		/* What the work tree holds again is the last commit's. */
		if (tree) {
			git_tree_entry *entry = NULL;

			if (git_tree_entry_bypath(&entry, tree, u->path) == 0) {
				u->blob = *git_tree_entry_id(entry);
				u->removed = 0;
			} else {
				u->removed = 1;
			}
			git_tree_entry_free(entry);
		} else {
			u->removed = 1;
		}
	}
	txn->npending = 0;
	cc_buf_clear(&txn->trailers);
	git_tree_free(tree);
	return rc;
}

size_t cc_txn_commits(const cc_txn *txn)
{
	return txn->commits;
}

int cc_txn_commit(cc_txn *txn, const char *summary, const char *body)
{
	git_tree *tree = NULL;
	int rc = 0;

	if (summary)
		rc = cc_txn_checkpoint(txn, summary, body);
	else if (!txn->has_tip)
		rc = cc_error_set(CC_EINVALID, "nothing to commit");
	else if (txn->npending)
		rc = cc_error_set(CC_EINVALID, "changes after the last commit of the transaction");
	if (rc < 0)
		goto done;
	/* From here on git's own lock files may be ours if we die. */
	if (txn->journal_fd >= 0) {
		char mark[64];
		int len = snprintf(mark, sizeof(mark), "#commit %lld\n", (long long)time(NULL));

		if (write(txn->journal_fd, mark, (size_t)len) != len) {
			rc = cc_error_errno(CC_EIO, "cannot write the journal");
			goto done;
		}
	}
	/* Durability, in order: objects, work tree and journal on disk before
	 * the branch moves; the branch on disk before the journal goes. */
	if ((rc = cc_repo_write_objects(txn->repo)) < 0 || (rc = flush(txn->repo)) < 0 ||
	    (rc = move_head(txn->repo, &txn->tip, txn->has_head ? &txn->head : NULL,
			    summary ? summary : "certctl")) < 0 ||
	    (rc = flush(txn->repo)) < 0)
		goto done;
	/* Committed: from here on the work tree is HEAD's, whatever happens. */
	if (git_tree_lookup(&tree, cc_repo_git(txn->repo), &txn->tip_tree) == 0)
		index_sync(txn->repo, tree, txn->updates, txn->count);
	if (remove_journal(txn) < 0)
		cc_error_clear(); /* the next writer rolls forward to HEAD: harmless */
	rc = 0;
done:
	git_tree_free(tree);
	if (rc < 0) {
		cc_txn_abort(txn); /* keeps the error */
		return rc;
	}
	txn_free(txn);
	return 0;
}

void cc_txn_abort(cc_txn *txn)
{
	char saved[1024];
	int code = cc_error_code();

	if (!txn)
		return;
	/* Callers abort because of an error: that error stays the last one. */
	snprintf(saved, sizeof(saved), "%s", cc_error_last());
	if (txn->count) {
		/* The journal holds exactly our paths: recovery restores them. */
		if (txn->journal_fd >= 0) {
			close(txn->journal_fd);
			txn->journal_fd = -1;
		}
		cc_repo_recover(txn->repo, NULL);
		cc_repo_discard_objects(txn->repo);
	} else {
		remove_journal(txn);
	}
	txn_free(txn);
	if (code == CC_OK)
		cc_error_clear();
	else
		cc_error_set(code, "%s", saved);
}
