/*
 * This module implements the two git writes of every commit directly on
 * git's own formats: new trees spliced from the raw baseline trees, and the
 * index updated entry by entry.  libgit2 would parse every entry of every
 * touched tree and of the index into objects; a repository with thousands
 * of definitions pays for that on each commit.  Anything unusual (index
 * version 4, split index, conflicts) falls back to libgit2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "internal.h"

#define OID_LEN 20

/* One entry of a raw tree, pointing into the object's data. */
typedef struct {
	const char *mode;  /* octal text, not terminated */
	size_t mode_len;
	const char *name;  /* NUL-terminated in the raw data */
	size_t name_len;
	const unsigned char *oid;
	int is_dir;
} raw_entry;

/* A change at one tree level: upsert (oid set) or removal. */
typedef struct {
	const char *name;
	size_t name_len;
	int is_dir;
	git_oid oid;
	int remove;
} level_change;

/* git's tree order: byte order, a directory compared as if named "name/". */
static int tree_cmp(const char *a, size_t alen, int adir, const char *b, size_t blen, int bdir)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);
	unsigned char ca, cb;

	if (c)
		return c;
	ca = n < alen ? (unsigned char)a[n] : adir ? '/' : 0;
	cb = n < blen ? (unsigned char)b[n] : bdir ? '/' : 0;
	return (int)ca - (int)cb;
}

/* Parse the raw tree `data`; entries point into it.  -1 when malformed. */
static int parse_tree(const unsigned char *data, size_t size, raw_entry **out, size_t *count)
{
	raw_entry *entries = NULL;
	size_t n = 0, alloc = 0, pos = 0;

	while (pos < size) {
		const unsigned char *sp = memchr(data + pos, ' ', size - pos), *nul;
		raw_entry e;

		if (!sp)
			goto bad;
		nul = memchr(sp + 1, '\0', size - (size_t)(sp + 1 - data));
		if (!nul || (size_t)(nul + 1 - data) + OID_LEN > size)
			goto bad;
		e.mode = (const char *)data + pos;
		e.mode_len = (size_t)(sp - (data + pos));
		e.name = (const char *)sp + 1;
		e.name_len = (size_t)(nul - sp - 1);
		e.oid = nul + 1;
		e.is_dir = e.mode_len == 5 && memcmp(e.mode, "40000", 5) == 0;
		if (n == alloc) {
			raw_entry *grown;

			alloc = alloc ? alloc * 2 : 64;
			grown = realloc(entries, alloc * sizeof(*entries));
			if (!grown)
				goto bad;
			entries = grown;
		}
		entries[n++] = e;
		pos = (size_t)(nul + 1 - data) + OID_LEN;
	}
	*out = entries;
	*count = n;
	return 0;
bad:
	free(entries);
	return -1;
}

static int put_entry(cc_buf *out, const char *mode, size_t mode_len, const char *name,
		     size_t name_len, const unsigned char *oid)
{
	if (cc_buf_put(out, mode, mode_len) < 0 || cc_buf_putc(out, ' ') < 0 ||
	    cc_buf_put(out, name, name_len) < 0 || cc_buf_putc(out, '\0') < 0 ||
	    cc_buf_put(out, oid, OID_LEN) < 0)
		return CC_ERROR;
	return 0;
}

static int change_order(const void *a, const void *b)
{
	const level_change *x = a, *y = b;

	return tree_cmp(x->name, x->name_len, x->is_dir, y->name, y->name_len, y->is_dir);
}

/* Where an entry named like `c` (of either type) sits in `entries`, or -1. */
static long find_named(const raw_entry *entries, size_t n, const level_change *c)
{
	for (int dir = 0; dir <= 1; dir++) {
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int cmp = tree_cmp(entries[mid].name, entries[mid].name_len, entries[mid].is_dir,
					   c->name, c->name_len, dir);

			if (cmp == 0 && entries[mid].is_dir == dir)
				return (long)mid;
			if (cmp < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return -1;
}

/*
 * The new tree: the existing entries, minus those a change names (whatever
 * their type), merged in tree order with the upserts.  Runs of unchanged
 * entries are contiguous in the raw tree and copied as one block, so a
 * directory of thousands of entries costs a memcpy, not an entry each.
 */
static int merge_level(cc_buf *out, const unsigned char *end, const raw_entry *entries,
		       size_t nentries, const level_change *level, size_t nlevel)
{
	unsigned char *drop = calloc(nentries ? nentries : 1, 1);
	size_t a = 0;
	int rc = 0;

	if (!drop)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t b = 0; b < nlevel; b++) {
		long at = find_named(entries, nentries, &level[b]);

		if (at >= 0)
			drop[at] = 1;
	}
	if (nentries && (rc = cc_buf_grow(out, (size_t)(end - (const unsigned char *)entries[0].mode) +
						     nlevel * 80)) < 0)
		goto done;
	for (size_t b = 0; b <= nlevel && rc == 0; b++) {
		/* Copy the entries before change b (all that are left after the last). */
		while (a < nentries && rc == 0) {
			size_t run = a;

			while (run < nentries && !drop[run] &&
			       (b == nlevel ||
				tree_cmp(entries[run].name, entries[run].name_len, entries[run].is_dir,
					 level[b].name, level[b].name_len, level[b].is_dir) < 0))
				run++;
			if (run > a) {
				const char *from = entries[a].mode;
				const char *to = run < nentries ? entries[run].mode : (const char *)end;

				rc = cc_buf_put(out, from, (size_t)(to - from));
				a = run;
			} else if (drop[a]) {
				a++;
			} else {
				break;
			}
		}
		if (b < nlevel && rc == 0 && !level[b].remove)
			rc = put_entry(out, level[b].is_dir ? "40000" : "100644", level[b].is_dir ? 5 : 6,
				       level[b].name, level[b].name_len, level[b].oid.id);
	}
done:
	free(drop);
	return rc;
}

/*
 * Build the tree for `prefix_len` bytes of path prefix already consumed:
 * `changes[0..n)` are the full-path changes below this tree, sorted by path.
 * `*out` gets the new tree, `*empty` is set when it has no entry left.
 */
static int build_tree(git_odb *odb, const git_oid *base, const cc_git_change *changes, size_t n,
		      size_t prefix_len, git_oid *out, int *empty)
{
	git_odb_object *obj = NULL;
	raw_entry *entries = NULL;
	level_change *level = NULL;
	size_t nentries = 0, nlevel = 0;
	cc_buf raw = CC_BUF_INIT;
	const unsigned char *tree_end = NULL;
	int rc = 0;

	*empty = 0;
	if (base) {
		git_object_t type = GIT_OBJECT_INVALID;
		size_t size = 0;
		/* A tree of this batch: no copy, no re-hashing as git_odb_read does. */
		const void *data = cc_packbatch_peek(odb, base, &type, &size);

		if (!data) {
			if (git_odb_read(&obj, odb, base) < 0) {
				rc = cc_error_git(CC_EIO, "cannot read tree %s", git_oid_tostr_s(base));
				goto done;
			}
			data = git_odb_object_data(obj);
			size = git_odb_object_size(obj);
			type = git_odb_object_type(obj);
		}
		if (type != GIT_OBJECT_TREE) {
			rc = cc_error_set(CC_EIO, "object %s is not a tree", git_oid_tostr_s(base));
			goto done;
		}
		if (parse_tree(data, size, &entries, &nentries) < 0) {
			rc = cc_error_set(CC_EIO, "malformed tree %s", git_oid_tostr_s(base));
			goto done;
		}
		tree_end = (const unsigned char *)data + size;
	}
	level = calloc(n ? n : 1, sizeof(*level));
	if (!level) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	/* Direct children, and each subdirectory's group built recursively. */
	for (size_t i = 0; i < n;) {
		const char *rest = changes[i].path + prefix_len;
		const char *slash = strchr(rest, '/');
		level_change *lc = &level[nlevel++];

		if (!slash) {
			lc->name = rest;
			lc->name_len = strlen(rest);
			lc->is_dir = 0;
			lc->remove = changes[i].remove;
			if (!lc->remove)
				lc->oid = changes[i].id;
			i++;
			continue;
		}
		{
			size_t dlen = (size_t)(slash - rest), j = i;
			const git_oid *sub = NULL;
			git_oid sub_oid, new_oid;
			int sub_empty;

			while (j < n && strncmp(changes[j].path + prefix_len, rest, dlen) == 0 &&
			       changes[j].path[prefix_len + dlen] == '/')
				j++;
			for (size_t k = 0; k < nentries; k++) {
				if (entries[k].is_dir && entries[k].name_len == dlen &&
				    memcmp(entries[k].name, rest, dlen) == 0) {
					git_oid_fromraw(&sub_oid, entries[k].oid);
					sub = &sub_oid;
					break;
				}
			}
			if ((rc = build_tree(odb, sub, changes + i, j - i, prefix_len + dlen + 1,
					     &new_oid, &sub_empty)) < 0)
				goto done;
			lc->name = rest;
			lc->name_len = dlen;
			lc->is_dir = 1;
			lc->remove = sub_empty;
			lc->oid = new_oid;
			i = j;
		}
	}
	qsort(level, nlevel, sizeof(*level), change_order);
	if ((rc = merge_level(&raw, tree_end, entries, nentries, level,
			      nlevel)) < 0)
		goto done;
	if (raw.size == 0 && prefix_len > 0) {
		*empty = 1; /* the parent drops it; an empty subtree is never written */
		goto done;
	}
	if ((rc = cc_odb_write(out, odb, raw.ptr ? raw.ptr : "", raw.size, GIT_OBJECT_TREE)) == 0 &&
	    base)
		cc_packbatch_hint(odb, out, base);
done:
	git_odb_object_free(obj);
	free(entries);
	free(level);
	cc_buf_dispose(&raw);
	return rc;
}

static int path_order(const void *a, const void *b)
{
	return strcmp(((const cc_git_change *)a)->path, ((const cc_git_change *)b)->path);
}

int cc_git_tree_apply(git_oid *out, git_repository *repo, const git_oid *base,
		      cc_git_change *changes, size_t n)
{
	git_odb *odb = NULL;
	int rc, empty;

	if (git_repository_odb(&odb, repo) < 0)
		return cc_error_git(CC_EIO, "cannot open the object database");
	qsort(changes, n, sizeof(*changes), path_order);
	rc = build_tree(odb, base, changes, n, 0, out, &empty);
	git_odb_free(odb);
	return rc;
}

/* The index. */

#define INDEX_HEADER 12
#define ENTRY_FIXED 62 /* stat data (40), oid (20), flags (2) */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A new index entry for `path` (work-tree file) with blob `oid`. */
static int make_entry(cc_buf *out, const char *workdir, const char *path, const git_oid *oid)
{
	unsigned char fixed[ENTRY_FIXED];
	cc_buf abs = CC_BUF_INIT;
	struct stat st;
	size_t len = strlen(path), total, pad;
	int rc;

	if ((rc = cc_fs_join(&abs, workdir, path)) < 0)
		return rc;
	rc = lstat(abs.ptr, &st);
	cc_buf_dispose(&abs);
	if (rc < 0)
		return cc_error_errno(CC_EIO, "cannot stat '%s'", path);
	put_be32(fixed + 0, (uint32_t)st.st_ctim.tv_sec);
	put_be32(fixed + 4, (uint32_t)st.st_ctim.tv_nsec);
	put_be32(fixed + 8, (uint32_t)st.st_mtim.tv_sec);
	put_be32(fixed + 12, (uint32_t)st.st_mtim.tv_nsec);
	put_be32(fixed + 16, (uint32_t)st.st_dev);
	put_be32(fixed + 20, (uint32_t)st.st_ino);
	put_be32(fixed + 24, 0100644);
	put_be32(fixed + 28, (uint32_t)st.st_uid);
	put_be32(fixed + 32, (uint32_t)st.st_gid);
	put_be32(fixed + 36, (uint32_t)st.st_size);
	memcpy(fixed + 40, oid->id, OID_LEN);
	fixed[60] = (unsigned char)((len < 0xfff ? len : 0xfff) >> 8);
	fixed[61] = (unsigned char)(len < 0xfff ? len : 0xfff);
	total = ENTRY_FIXED + len;
	pad = 8 - total % 8; /* 1 to 8 NULs */
	if (cc_buf_put(out, fixed, sizeof(fixed)) < 0 || cc_buf_put(out, path, len) < 0 ||
	    cc_buf_put(out, "\0\0\0\0\0\0\0\0", pad) < 0)
		return CC_ERROR;
	return 0;
}

int cc_git_index_apply(git_repository *repo, const char *workdir, cc_git_change *changes,
		       size_t n)
{
	cc_buf path = CC_BUF_INIT, lock = CC_BUF_INIT, data = CC_BUF_INIT, out = CC_BUF_INIT;
	const unsigned char *p;
	unsigned char digest[32], header[INDEX_HEADER];
	unsigned int dlen = 0;
	uint32_t version, count, written = 0;
	size_t pos, ci = 0;
	int rc = 1, fd = -1;

	qsort(changes, n, sizeof(*changes), path_order);
	if (cc_buf_printf(&path, "%sindex", git_repository_path(repo)) < 0 ||
	    cc_buf_printf(&lock, "%sindex.lock", git_repository_path(repo)) < 0)
		goto done;
	if (cc_fs_read(&data, path.ptr, 512 * 1024 * 1024) < 0) {
		cc_error_clear();
		goto done; /* no index yet: libgit2 makes one */
	}
	p = (const unsigned char *)data.ptr;
	if (data.size < INDEX_HEADER + OID_LEN || memcmp(p, "DIRC", 4) != 0)
		goto done;
	version = be32(p + 4);
	count = be32(p + 8);
	if (version != 2 && version != 3)
		goto done;
	if (cc_buf_put(&out, header, INDEX_HEADER) < 0) /* filled in at the end */
		goto done;
	pos = INDEX_HEADER;
	for (uint32_t i = 0; i <= count; i++) {
		const char *name = NULL;
		size_t entry_len = 0, name_len = 0, fixed = ENTRY_FIXED;

		if (i < count) {
			uint16_t flags;

			if (pos + ENTRY_FIXED > data.size - OID_LEN)
				goto done;
			flags = (uint16_t)(p[pos + 60] << 8 | p[pos + 61]);
			if (flags & 0x3000)
				goto done; /* a conflict: leave it to libgit2 */
			if (flags & 0x4000) {
				if (version < 3)
					goto done;
				fixed += 2;
			}
			name = (const char *)p + pos + fixed;
			{
				const char *nul = memchr(name, '\0', data.size - OID_LEN - pos - fixed);

				if (!nul)
					goto done;
				name_len = (size_t)(nul - name);
			}
			entry_len = (fixed + name_len + 8) & ~(size_t)7;
			if (pos + entry_len > data.size - OID_LEN)
				goto done;
		}
		/* Changes that sort before this entry (or all remaining at the end). */
		while (ci < n) {
			int c = i < count ? strcmp(changes[ci].path, name) : -1;

			if (c > 0)
				break;
			if (!changes[ci].remove) {
				if (make_entry(&out, workdir, changes[ci].path, &changes[ci].id) < 0) {
					rc = CC_ERROR;
					goto done;
				}
				written++;
			}
			ci++;
			if (c == 0) {
				/* replaced or removed: skip the old entry */
				name = NULL;
				break;
			}
		}
		if (i == count)
			break;
		if (name) {
			if (cc_buf_put(&out, p + pos, entry_len) < 0)
				goto done;
			written++;
		}
		pos += entry_len;
	}
	/* Extensions: drop the optional ones (cache tree, untracked cache...);
	 * a required one (lower-case signature) means an index we do not know. */
	while (pos + 8 <= data.size - OID_LEN) {
		uint32_t ext_len = be32(p + pos + 4);

		if (p[pos] < 'A' || p[pos] > 'Z')
			goto done;
		if (ext_len > data.size - OID_LEN - pos - 8)
			goto done;
		pos += 8 + ext_len;
	}
	memcpy(header, "DIRC", 4);
	put_be32(header + 4, version);
	put_be32(header + 8, written);
	memcpy(out.ptr, header, INDEX_HEADER);
	if (EVP_Digest(out.ptr, out.size, digest, &dlen, EVP_sha1(), NULL) != 1 ||
	    cc_buf_put(&out, digest, OID_LEN) < 0)
		goto done;
	/* git's lock protocol: whoever holds index.lock owns the index. */
	fd = open(lock.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = 0; /* the git CLI is updating it; its index wins */
		goto done;
	}
	if (write(fd, out.ptr, out.size) != (ssize_t)out.size || close(fd) < 0) {
		fd = -1;
		unlink(lock.ptr);
		goto done;
	}
	fd = -1;
	if (rename(lock.ptr, path.ptr) < 0) {
		unlink(lock.ptr);
		goto done;
	}
	rc = 0;
done:
	if (fd >= 0) {
		close(fd);
		unlink(lock.ptr);
	}
	cc_buf_dispose(&path);
	cc_buf_dispose(&lock);
	cc_buf_dispose(&data);
	cc_buf_dispose(&out);
	return rc;
}
