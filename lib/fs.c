/*
 * This module implements the file system primitives every write goes
 * through: bounded reads, atomic replacement (temp file, fsync, rename,
 * directory fsync) and directory creation.
 */
#define _GNU_SOURCE /* syncfs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/rand.h>
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

static int write_atomic(const char *path, const void *data, size_t len, unsigned mode, int sync)
{
	cc_buf tmp = CC_BUF_INIT, dir = CC_BUF_INIT;
	unsigned char rnd[6];
	char hex[13];
	const char *slash;
	int fd = -1, rc = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cc_error_openssl(CC_ERROR, "no randomness");
	cc_hex(hex, rnd, sizeof(rnd));
	slash = strrchr(path, '/');
	if ((rc = cc_buf_printf(&tmp, "%s.tmp-%s", path, hex)) < 0)
		goto done;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		rc = cc_error_errno(0, "cannot create '%s'", tmp.ptr);
		goto done;
	}
	/* The umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
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
	if (rc < 0 && tmp.ptr)
		unlink(tmp.ptr);
	cc_buf_dispose(&tmp);
	cc_buf_dispose(&dir);
	return rc;
}

int cc_fs_mkdir_p(const char *path, unsigned mode)
{
	cc_buf buf = CC_BUF_INIT;
	int rc;

	if (cc_fs_is_dir(path))
		return 0; /* the usual case: one stat, not one mkdir per component */
	if ((rc = cc_buf_puts(&buf, path)) < 0)
		return rc;
	for (char *p = buf.ptr + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(buf.ptr, mode) < 0 && errno != EEXIST) {
				rc = cc_error_errno(0, "cannot create directory '%s'", buf.ptr);
				break;
			}
			if (!cc_fs_is_dir(buf.ptr)) {
				rc = cc_error_set(CC_EIO, "'%s' exists and is not a directory", buf.ptr);
				break;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	cc_buf_dispose(&buf);
	return rc;
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
