/*
 * This module implements the file system primitives every write goes
 * through: bounded reads, atomic replacement (temp file, fsync, rename,
 * directory fsync) and directory creation.
 */
#define _GNU_SOURCE /* syncfs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

int cc_fs_read(cc_buf *out, const char *path, size_t max_size)
{
	struct stat st;
	int fd = -1, rc = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cc_error_errno(0, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		rc = cc_error_errno(CC_EIO, "cannot stat '%s'", path);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = cc_error_set(CC_EINVALID, "'%s' is a directory", path);
		goto done;
	}
	if (max_size && st.st_size > 0 && (unsigned long long)st.st_size > max_size) {
		rc = cc_error_set(CC_EINVALID, "'%s' is too large (%lld bytes, %zu at most)", path,
				  (long long)st.st_size, max_size);
		goto done;
	}
	for (;;) {
		if ((rc = cc_buf_grow(out, 8192)) < 0)
			goto done;
		n = read(fd, out->ptr + out->size, out->asize - out->size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = cc_error_errno(CC_EIO, "cannot read '%s'", path);
			goto done;
		}
		if (n == 0)
			break;
		out->size += (size_t)n;
		out->ptr[out->size] = '\0';
		if (max_size && out->size > max_size) {
			rc = cc_error_set(CC_EINVALID, "'%s' is too large (%zu bytes at most)", path,
					  max_size);
			goto done;
		}
	}
	if (!out->ptr && (rc = cc_buf_grow(out, 0)) == 0)
		out->ptr[0] = '\0';
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

int cc_fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return cc_error_errno(0, "cannot open directory '%s'", dir);
	/* Some file systems refuse fsync on directories; that is not fatal. */
	(void)fsync(fd);
	close(fd);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_atomic(const char *path, const void *data, size_t len, unsigned mode, int sync);

int cc_fs_write_atomic_nosync(const char *path, const void *data, size_t len, unsigned mode)
{
	return write_atomic(path, data, len, mode, 0);
}

int cc_fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	return write_atomic(path, data, len, mode, 1);
}

/* Give `fd` exactly `mode`, whatever the umask took from it at open(2):
 * checking first spares the inode an update in the usual case. */
static int set_mode(int fd, unsigned mode)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && (st.st_mode & 07777) == mode)
		return 0;
	return fchmod(fd, mode);
}

/*
 * The temporary name beside `path`: the process id and a counter keep
 * writers apart (O_EXCL settles a name left by a dead process of the same
 * id); the name need not be secret, the directory is the repository's.
 */
static int tmp_name(cc_buf *out, const char *path)
{
	static _Atomic unsigned long counter;

	cc_buf_clear(out);
	return cc_buf_printf(out, "%s.tmp-%ld-%lu", path, (long)getpid(), (unsigned long)counter++);
}

static int write_atomic(const char *path, const void *data, size_t len, unsigned mode, int sync)
{
	cc_buf tmp = CC_BUF_INIT, dir = CC_BUF_INIT;
	const char *slash;
	int fd = -1, rc = 0, created = 0;

	slash = strrchr(path, '/');
	for (unsigned attempt = 0; attempt < 16; attempt++) {
		if ((rc = tmp_name(&tmp, path)) < 0)
			goto done;
		fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = cc_error_errno(0, "cannot create '%s'", tmp.ptr);
		goto done;
	}
	created = 1;
	/* The umask must not widen or narrow what the caller asked for. */
	if (set_mode(fd, mode) < 0 || write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		rc = cc_error_errno(CC_EIO, "cannot write '%s'", path);
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = cc_error_errno(CC_EIO, "cannot write '%s'", path);
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, path) < 0) {
		rc = cc_error_errno(CC_EIO, "cannot replace '%s'", path);
		goto done;
	}
	created = 0;
	if (!sync)
		goto done;
	if (slash) {
		if ((rc = cc_buf_put(&dir, path, (size_t)(slash - path) ? (size_t)(slash - path) : 1)) < 0)
			goto done;
		cc_fs_fsync_dir(dir.ptr);
	} else {
		cc_fs_fsync_dir(".");
	}
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && created)
		unlink(tmp.ptr);
	cc_buf_dispose(&tmp);
	cc_buf_dispose(&dir);
	return rc;
}

int cc_fs_mkdir_p(const char *path, unsigned mode)
{
	const char *slash;
	int rc;

	/* From the deepest directory up: a new certificate's directory is
	 * usually one mkdir below an existing one. */
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST) {
		if (cc_fs_is_dir(path))
			return 0;
		return cc_error_set(CC_EIO, "'%s' exists and is not a directory", path);
	}
	if (errno != ENOENT || !(slash = strrchr(path, '/')) || slash == path)
		return cc_error_errno(0, "cannot create directory '%s'", path);
	{
		cc_buf parent = CC_BUF_INIT;

		rc = cc_buf_put(&parent, path, (size_t)(slash - path));
		if (rc == 0)
			rc = cc_fs_mkdir_p(parent.ptr, mode);
		cc_buf_dispose(&parent);
	}
	if (rc < 0)
		return rc;
	if (mkdir(path, mode) < 0 && (errno != EEXIST || !cc_fs_is_dir(path)))
		return cc_error_errno(0, "cannot create directory '%s'", path);
	return 0;
}

int cc_fs_mkdir_parents(const char *path, unsigned mode)
{
	const char *slash = strrchr(path, '/');
	cc_buf dir = CC_BUF_INIT;
	int rc;

	if (!slash || slash == path)
		return 0;
	if ((rc = cc_buf_put(&dir, path, (size_t)(slash - path))) == 0)
		rc = cc_fs_mkdir_p(dir.ptr, mode);
	cc_buf_dispose(&dir);
	return rc;
}

int cc_fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int cc_fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cc_fs_join(cc_buf *out, const char *a, const char *b)
{
	size_t alen = strlen(a);

	if (alen && a[alen - 1] == '/')
		return cc_buf_printf(out, "%s%s", a, b);
	return cc_buf_printf(out, "%s/%s", a, b);
}

int cc_fs_relpath_check(const char *relpath)
{
	const char *p = relpath;

	if (!p || !*p || *p == '/')
		return cc_error_set(CC_EINVALID, "invalid repository path '%s'", p ? p : "");
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') ||
		    (len == 4 && strncmp(p, ".git", 4) == 0))
			return cc_error_set(CC_EINVALID, "invalid repository path '%s'", relpath);
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			return cc_error_set(CC_EINVALID, "invalid repository path '%s'", relpath);
	}
	return 0;
}

int cc_fs_list(cc_strlist *out, const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t slen = suffix ? strlen(suffix) : 0;
	int rc = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		return cc_error_errno(0, "cannot read directory '%s'", dir);
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		if (slen) {
			if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
				continue;
			if (strstr(e->d_name, ".tmp-"))
				continue;
		}
		if ((rc = cc_strlist_add(out, e->d_name)) < 0)
			break;
	}
	closedir(d);
	cc_strlist_sort(out);
	return rc;
}

int cc_fanout_path(cc_buf *out, const char *dir, const char *name)
{
	if (strlen(name) < 3 || strchr(name, '/'))
		return cc_error_set(CC_EINVALID, "invalid file name '%s' in %s/", name, dir);
	return cc_buf_printf(out, "%s/%.2s/%s", dir, name, name);
}

int cc_fanout_find(cc_buf *out, const cc_repo *repo, const char *dir, const char *name)
{
	cc_buf abs = CC_BUF_INIT;
	int rc;

	cc_buf_clear(out);
	if ((rc = cc_fanout_path(out, dir, name)) < 0 || (rc = cc_repo_path(repo, out->ptr, &abs)) < 0)
		goto done;
	if (cc_fs_exists(abs.ptr))
		goto done;
	cc_buf_clear(&abs);
	if ((rc = cc_buf_printf(&abs, "%s/%s", dir, name)) < 0)
		goto done;
	{
		cc_buf flat = CC_BUF_INIT;

		if ((rc = cc_repo_path(repo, abs.ptr, &flat)) == 0 && cc_fs_exists(flat.ptr)) {
			cc_buf_clear(out);
			rc = cc_buf_puts(out, abs.ptr);
		}
		cc_buf_dispose(&flat);
	}
done:
	cc_buf_dispose(&abs);
	return rc;
}

int cc_fs_list_fanout(cc_strlist *out, const char *dir, const char *suffix)
{
	cc_strlist top = CC_STRLIST_INIT;
	cc_buf sub = CC_BUF_INIT;
	int rc;

	if ((rc = cc_fs_list(&top, dir, NULL)) < 0)
		return rc;
	for (size_t i = 0; i < top.count && rc == 0; i++) {
		const char *name = top.items[i];
		size_t len = strlen(name), slen = suffix ? strlen(suffix) : 0;

		cc_buf_clear(&sub);
		if (len == 2 && (rc = cc_fs_join(&sub, dir, name)) == 0 && cc_fs_is_dir(sub.ptr)) {
			cc_strlist files = CC_STRLIST_INIT;

			rc = cc_fs_list(&files, sub.ptr, suffix);
			for (size_t k = 0; k < files.count && rc == 0; k++) {
				cc_buf_clear(&sub);
				if ((rc = cc_buf_printf(&sub, "%s/%s", name, files.items[k])) == 0)
					rc = cc_strlist_add(out, sub.ptr);
			}
			cc_strlist_dispose(&files);
			continue;
		}
		if (slen && (len <= slen || strcmp(name + len - slen, suffix) != 0 ||
			     strstr(name, ".tmp-")))
			continue;
		rc = cc_strlist_add(out, name);
	}
	cc_strlist_dispose(&top);
	cc_buf_dispose(&sub);
	cc_strlist_sort(out);
	return rc;
}

int cc_fs_syncfs(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return cc_error_errno(CC_EIO, "cannot open '%s'", path);
	if (syncfs(fd) < 0)
		rc = cc_error_errno(CC_EIO, "cannot flush the file system of '%s'", path);
	close(fd);
	return rc;
}
