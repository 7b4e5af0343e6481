/*
 * An object database backend that keeps new objects in memory and writes
 * them as one pack file, for commands that make many commits in one
 * process (issue --batch).
 *
 * libgit2's mempack does the same job, but its dump walks the whole tree
 * of every commit and searches for deltas among everything it finds: with
 * thousands of certificates that is most of a batch's time.  Here the pack
 * holds exactly the new objects, deflated with zlib's fastest level; a tree
 * that replaces a tree of the same batch (the next version of a directory)
 * is stored as a delta against it, the way git stores it, so a directory of
 * thousands of entries costs a few bytes per commit.  The index (.idx) is
 * written from what is known here rather than by re-reading the pack.
 * `git gc` repacks everything tighter later.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <git2/sys/odb_backend.h>
#include <openssl/evp.h>
#include "internal.h"

typedef struct {
	git_oid id;
	git_object_t type;
	size_t len;
	unsigned char *data;
	size_t base;    /* index + 1 of the delta base in this batch; 0: stored whole */
	unsigned depth; /* delta chain length */
	uint64_t offset; /* in the pack, while writing it */
	uint32_t crc;    /* of the packed entry, for the index */
} batch_object;

/* git's default for `git repack --depth`: reading walks at most this far. */
#define MAX_DELTA_DEPTH 50

typedef struct {
	git_odb_backend parent;
	batch_object *objects; /* in write order */
	size_t count, alloc;
	size_t *slots; /* open addressing: index + 1 into objects, 0 = empty */
	size_t nslots; /* a power of two, at least twice count */
	EVP_MD *sha1;  /* fetched once: a fetch per object costs more than the hash */
} batch_backend;

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h)); /* already uniformly distributed */
	return h;
}

static batch_object *find(batch_backend *b, const git_oid *id)
{
	if (!b->nslots)
		return NULL;
	for (size_t i = oid_hash(id) & (b->nslots - 1);; i = (i + 1) & (b->nslots - 1)) {
		if (!b->slots[i])
			return NULL;
		if (git_oid_equal(&b->objects[b->slots[i] - 1].id, id))
			return &b->objects[b->slots[i] - 1];
	}
}

static int rehash(batch_backend *b, size_t nslots)
{
	size_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t k = 0; k < b->count; k++) {
		size_t i = oid_hash(&b->objects[k].id) & (nslots - 1);

		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = k + 1;
	}
	free(b->slots);
	b->slots = slots;
	b->nslots = nslots;
	return 0;
}

static int batch_write(git_odb_backend *backend, const git_oid *id, const void *data, size_t len,
		       git_object_t type)
{
	batch_backend *b = (batch_backend *)backend;
	batch_object *o;

	if (find(b, id))
		return 0;
	if (b->count == b->alloc) {
		size_t alloc = b->alloc ? b->alloc * 2 : 256;
		batch_object *grown = realloc(b->objects, alloc * sizeof(*grown));

		if (!grown)
			goto oom;
		b->objects = grown;
		b->alloc = alloc;
	}
	if ((b->count + 1) * 2 > b->nslots && rehash(b, b->nslots ? b->nslots * 2 : 512) < 0)
		goto oom;
	o = &b->objects[b->count];
	o->data = malloc(len ? len : 1);
	if (!o->data)
		goto oom;
	memcpy(o->data, data, len);
	o->id = *id;
	o->type = type;
	o->len = len;
	o->base = 0;
	o->depth = 0;
	for (size_t i = oid_hash(id) & (b->nslots - 1);; i = (i + 1) & (b->nslots - 1)) {
		if (!b->slots[i]) {
			b->slots[i] = ++b->count;
			break;
		}
	}
	return 0;
oom:
	git_error_set_oom();
	return -1;
}

static int copy_out(void **out, size_t *len, git_object_t *type, git_odb_backend *backend,
		    const batch_object *o)
{
	*out = git_odb_backend_data_alloc(backend, o->len ? o->len : 1);
	if (!*out)
		return -1;
	memcpy(*out, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int batch_read(void **out, size_t *len, git_object_t *type, git_odb_backend *backend,
		      const git_oid *id)
{
	batch_object *o = find((batch_backend *)backend, id);

	return o ? copy_out(out, len, type, backend, o) : GIT_ENOTFOUND;
}

static int batch_read_header(size_t *len, git_object_t *type, git_odb_backend *backend,
			     const git_oid *id)
{
	batch_object *o = find((batch_backend *)backend, id);

	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int batch_exists(git_odb_backend *backend, const git_oid *id)
{
	return find((batch_backend *)backend, id) != NULL;
}

/* Abbreviated ids are rare here (a user typing one): a linear scan. */
static const batch_object *find_prefix(batch_backend *b, const git_oid *prefix, size_t hexlen,
				       int *ambiguous)
{
	const batch_object *found = NULL;

	*ambiguous = 0;
	for (size_t k = 0; k < b->count; k++) {
		if (git_oid_ncmp(&b->objects[k].id, prefix, hexlen) == 0) {
			if (found) {
				*ambiguous = 1;
				return NULL;
			}
			found = &b->objects[k];
		}
	}
	return found;
}

static int batch_exists_prefix(git_oid *out, git_odb_backend *backend, const git_oid *prefix,
			       size_t hexlen)
{
	int ambiguous;
	const batch_object *o = find_prefix((batch_backend *)backend, prefix, hexlen, &ambiguous);

	if (ambiguous)
		return GIT_EAMBIGUOUS;
	if (!o)
		return GIT_ENOTFOUND;
	*out = o->id;
	return 0;
}

static int batch_read_prefix(git_oid *out_id, void **out, size_t *len, git_object_t *type,
			     git_odb_backend *backend, const git_oid *prefix, size_t hexlen)
{
	int ambiguous;
	const batch_object *o = find_prefix((batch_backend *)backend, prefix, hexlen, &ambiguous);

	if (ambiguous)
		return GIT_EAMBIGUOUS;
	if (!o)
		return GIT_ENOTFOUND;
	*out_id = o->id;
	return copy_out(out, len, type, backend, o);
}

void cc_packbatch_reset(git_odb_backend *backend)
{
	batch_backend *b = (batch_backend *)backend;

	for (size_t k = 0; k < b->count; k++)
		free(b->objects[k].data);
	b->count = 0;
	if (b->slots)
		memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}

static void batch_free(git_odb_backend *backend)
{
	batch_backend *b = (batch_backend *)backend;

	cc_packbatch_reset(backend);
	free(b->objects);
	free(b->slots);
	EVP_MD_free(b->sha1);
	free(b);
}

int cc_packbatch_new(git_odb_backend **out)
{
	batch_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return cc_error_set(CC_ERROR, "out of memory");
	if (git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(b);
		return cc_error_git(CC_ERROR, "cannot set up the batch object store");
	}
	if (!(b->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL))) {
		free(b);
		return cc_error_openssl(CC_ERROR, "cannot set up the batch object store");
	}
	b->parent.read = batch_read;
	b->parent.read_prefix = batch_read_prefix;
	b->parent.read_header = batch_read_header;
	b->parent.write = batch_write;
	b->parent.exists = batch_exists;
	b->parent.exists_prefix = batch_exists_prefix;
	b->parent.free = batch_free;
	*out = &b->parent;
	return 0;
}

static batch_backend *batch_of(git_odb *odb)
{
	size_t n = git_odb_num_backends(odb);

	for (size_t i = 0; i < n; i++) {
		git_odb_backend *backend = NULL;

		if (git_odb_get_backend(&backend, odb, i) == 0 && backend->write == batch_write)
			return (batch_backend *)backend;
	}
	return NULL;
}

/*
 * Store an object in the batch when `odb` has one, else write it through
 * libgit2.  The batch path skips what git_odb_write does first: a lookup
 * in every backend, which rescans the pack directory for each new object,
 * and hashing with the collision-detecting SHA-1, several times slower than
 * OpenSSL's.  The ids are the same; what a batch writes is certctl's own
 * output (keys, certificates it signs, YAML, trees, commits), not content
 * an attacker could have prepared for a collision.  An object that exists
 * elsewhere is packed again, which git allows.
 */
int cc_odb_write(git_oid *out, git_odb *odb, const void *data, size_t len, git_object_t type)
{
	batch_backend *b = batch_of(odb);
	EVP_MD_CTX *ctx;
	char header[64];
	int hlen, ok;

	if (!b) {
		if (git_odb_write(out, odb, data, len, type) < 0)
			return cc_error_git(CC_EIO, "cannot write a git object");
		return 0;
	}
	hlen = snprintf(header, sizeof(header), "%s %zu", git_object_type2string(type), len);
	if (!(ctx = EVP_MD_CTX_new()))
		return cc_error_set(CC_ERROR, "out of memory");
	ok = EVP_DigestInit_ex(ctx, b->sha1, NULL) &&
	     EVP_DigestUpdate(ctx, header, (size_t)hlen + 1) && EVP_DigestUpdate(ctx, data, len) &&
	     EVP_DigestFinal_ex(ctx, out->id, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cc_error_openssl(CC_ERROR, "cannot hash a git object");
	if (batch_write(&b->parent, out, data, len, type) < 0)
		return cc_error_set(CC_ERROR, "out of memory");
	return 0;
}

const void *cc_packbatch_peek(git_odb *odb, const git_oid *id, git_object_t *type, size_t *len)
{
	batch_backend *b = batch_of(odb);
	const batch_object *o = b ? find(b, id) : NULL;

	if (!o)
		return NULL;
	*type = o->type;
	*len = o->len;
	return o->data;
}

void cc_packbatch_hint(git_odb *odb, const git_oid *id, const git_oid *base)
{
	batch_backend *b = batch_of(odb);
	batch_object *o, *from;

	if (!b || !(o = find(b, id)) || !(from = find(b, base)) || o == from || o->base ||
	    from->type != o->type || from->depth >= MAX_DELTA_DEPTH || from > o)
		return;
	o->base = (size_t)(from - b->objects) + 1;
	o->depth = from->depth + 1;
}

static int put_varint(cc_buf *out, size_t v)
{
	unsigned char bytes[16];
	size_t n = 0;

	do {
		bytes[n] = v & 0x7f;
		v >>= 7;
		if (v)
			bytes[n] |= 0x80;
		n++;
	} while (v);
	return cc_buf_put(out, bytes, n);
}

/* A copy instruction: bytes [offset, offset + len) of the base. */
static int put_copy(cc_buf *out, size_t offset, size_t len)
{
	while (len) {
		size_t chunk = len > 0xffffff ? 0xffffff : len;
		unsigned char op[8];
		size_t n = 1;

		op[0] = 0x80;
		for (int i = 0; i < 4; i++)
			if ((offset >> (8 * i)) & 0xff) {
				op[0] |= (unsigned char)(1 << i);
				op[n++] = (unsigned char)(offset >> (8 * i));
			}
		for (int i = 0; i < 3; i++)
			if ((chunk >> (8 * i)) & 0xff) {
				op[0] |= (unsigned char)(0x10 << i);
				op[n++] = (unsigned char)(chunk >> (8 * i));
			}
		if (cc_buf_put(out, op, n) < 0)
			return -1;
		offset += chunk;
		len -= chunk;
	}
	return 0;
}

/* Insert instructions: literal bytes, at most 127 per instruction. */
static int put_insert(cc_buf *out, const unsigned char *data, size_t len)
{
	while (len) {
		unsigned char n = (unsigned char)(len > 127 ? 127 : len);

		if (cc_buf_put(out, &n, 1) < 0 || cc_buf_put(out, data, n) < 0)
			return -1;
		data += n;
		len -= n;
	}
	return 0;
}

/*
 * A git delta from `base` to `target`: what they share at the start and at
 * the end is copied, the middle inserted.  A new version of a tree differs
 * from the last in one place (the entries a commit added or replaced), so
 * this is as small as a full diff for the objects it is used on.
 */
static int make_delta(cc_buf *out, const batch_object *base, const batch_object *target)
{
	size_t prefix = 0, suffix = 0, max = base->len < target->len ? base->len : target->len;

	/* Whole blocks first: memcmp is many times faster than a byte loop. */
	while (prefix + 64 <= max && !memcmp(base->data + prefix, target->data + prefix, 64))
		prefix += 64;
	while (prefix < max && base->data[prefix] == target->data[prefix])
		prefix++;
	while (suffix + 64 <= max - prefix &&
	       !memcmp(base->data + base->len - suffix - 64, target->data + target->len - suffix - 64,
		       64))
		suffix += 64;
	while (suffix < max - prefix &&
	       base->data[base->len - 1 - suffix] == target->data[target->len - 1 - suffix])
		suffix++;
	/* Copies of a few bytes cost more than inserting them. */
	if (prefix < 8)
		prefix = 0;
	if (suffix < 8)
		suffix = 0;
	if (put_varint(out, base->len) < 0 || put_varint(out, target->len) < 0 ||
	    put_copy(out, 0, prefix) < 0 ||
	    put_insert(out, target->data + prefix, target->len - prefix - suffix) < 0 ||
	    put_copy(out, base->len - suffix, suffix) < 0)
		return -1;
	return 0;
}

/* A pack entry header: type and size, 7 bits per byte after the first 4. */
static int put_entry_header(cc_buf *pack, int type, size_t len)
{
	unsigned char head[16];
	size_t n = 0;

	head[n] = (unsigned char)(((unsigned)type << 4) | (len & 0x0f));
	len >>= 4;
	while (len) {
		head[n++] |= 0x80;
		head[n] = len & 0x7f;
		len >>= 7;
	}
	return cc_buf_put(pack, head, n + 1);
}

/* The distance back to an OFS_DELTA's base, in git's offset encoding. */
static int put_base_distance(cc_buf *pack, uint64_t distance)
{
	unsigned char bytes[16];
	size_t pos = sizeof(bytes) - 1;

	bytes[pos] = distance & 0x7f;
	while (distance >>= 7)
		bytes[--pos] = (unsigned char)(0x80 | (--distance & 0x7f));
	return cc_buf_put(pack, bytes + pos, sizeof(bytes) - pos);
}

static int put_be32(cc_buf *out, uint32_t v)
{
	unsigned char be[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
				(unsigned char)(v >> 8), (unsigned char)v };

	return cc_buf_put(out, be, sizeof(be));
}

/*
 * Deflate streams for the whole pack, reset per object: compress2() would
 * allocate and clear zlib's tables for every object, which costs more than
 * compressing the small ones.  Even a reset clears the hash table (64 kB at
 * the default memory level), so objects up to SMALL_OBJECT bytes, most of a
 * batch, go through a stream with a 4 kB window and a small table; below
 * TINY_OBJECT bytes (small trees, commits, `current`) zlib's fixed cost per
 * call (about 10 us: it builds Huffman tables) buys a few dozen bytes at
 * best, so those are stored (level 0).  Any window up to 32 kB and any level
 * inflate with git's default settings; `git gc` compresses them later.
 */
#define SMALL_OBJECT 4096
#define TINY_OBJECT 512
static int put_deflated(cc_buf *pack, z_stream *zs, const unsigned char *data, size_t len)
{
	uLong bound = deflateBound(zs, (uLong)len);

	if (cc_buf_grow(pack, bound) < 0)
		return -1;
	if (deflateReset(zs) != Z_OK)
		return cc_error_set(CC_ERROR, "cannot compress an object for the pack");
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	zs->next_out = (Bytef *)pack->ptr + pack->size;
	zs->avail_out = (uInt)bound;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END)
		return cc_error_set(CC_ERROR, "cannot compress an object for the pack");
	pack->size += bound - zs->avail_out;
	return 0;
}

#define OBJ_OFS_DELTA 6

static int sha1(unsigned char *out, const void *data, size_t len)
{
	unsigned int sumlen = 0;

	if (!EVP_Digest(data, len, out, &sumlen, EVP_sha1(), NULL) || sumlen != GIT_OID_RAWSZ)
		return cc_error_openssl(CC_ERROR, "cannot compute a SHA-1");
	return 0;
}

/* Pack format version 2: "PACK", version, count, entries, SHA-1 of it all. */
static int build_pack(cc_buf *pack, batch_backend *b)
{
	cc_buf delta = CC_BUF_INIT;
	unsigned char sum[GIT_OID_RAWSZ];
	z_stream large, small, tiny;
	int rc = 0;

	if (b->count > UINT32_MAX)
		return cc_error_set(CC_EINVALID, "too many objects for one pack");
	memset(&large, 0, sizeof(large));
	memset(&small, 0, sizeof(small));
	memset(&tiny, 0, sizeof(tiny));
	if (deflateInit2(&large, 1, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return cc_error_set(CC_ERROR, "cannot set up compression");
	if (deflateInit2(&small, 1, Z_DEFLATED, 12, 4, Z_DEFAULT_STRATEGY) != Z_OK) {
		deflateEnd(&large);
		return cc_error_set(CC_ERROR, "cannot set up compression");
	}
	if (deflateInit2(&tiny, 0, Z_DEFLATED, 9, 1, Z_DEFAULT_STRATEGY) != Z_OK) {
		deflateEnd(&large);
		deflateEnd(&small);
		return cc_error_set(CC_ERROR, "cannot set up compression");
	}
	if (cc_buf_put(pack, "PACK", 4) < 0 || put_be32(pack, 2) < 0 ||
	    put_be32(pack, (uint32_t)b->count) < 0)
		rc = -1;
	for (size_t k = 0; k < b->count && rc == 0; k++) {
		batch_object *o = &b->objects[k];
		z_stream *zs;

		o->offset = pack->size;
		cc_buf_clear(&delta);
		if (o->base && (rc = make_delta(&delta, &b->objects[o->base - 1], o)) < 0)
			break;
		if (o->base && delta.size < o->len / 2) {
			zs = delta.size < TINY_OBJECT    ? &tiny
			     : delta.size <= SMALL_OBJECT ? &small
							  : &large;
			rc = put_entry_header(pack, OBJ_OFS_DELTA, delta.size) < 0 ||
					     put_base_distance(pack, o->offset -
								     b->objects[o->base - 1].offset) < 0 ||
					     put_deflated(pack, zs, (unsigned char *)delta.ptr, delta.size) < 0
				     ? -1
				     : 0;
		} else {
			zs = o->len < TINY_OBJECT ? &tiny : o->len <= SMALL_OBJECT ? &small : &large;
			rc = put_entry_header(pack, o->type, o->len) < 0 ||
					     put_deflated(pack, zs, o->data, o->len) < 0
				     ? -1
				     : 0;
		}
		if (rc == 0)
			o->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0),
						 (const Bytef *)pack->ptr + o->offset,
						 (uInt)(pack->size - o->offset));
	}
	cc_buf_dispose(&delta);
	deflateEnd(&large);
	deflateEnd(&small);
	deflateEnd(&tiny);
	if (rc == 0 && (rc = sha1(sum, pack->ptr, pack->size)) == 0)
		rc = cc_buf_put(pack, sum, sizeof(sum));
	return rc;
}

static int by_id(const void *a, const void *b)
{
	return git_oid_cmp(&(*(batch_object *const *)a)->id, &(*(batch_object *const *)b)->id);
}

/* Pack index version 2: fan-out, sorted ids, CRCs, offsets, checksums. */
static int build_index(cc_buf *idx, batch_backend *b, const unsigned char *pack_sum)
{
	static const unsigned char magic[8] = { 0xff, 't', 'O', 'c', 0, 0, 0, 2 };
	batch_object **sorted = malloc((b->count ? b->count : 1) * sizeof(*sorted));
	unsigned char sum[GIT_OID_RAWSZ];
	uint32_t large = 0;
	int rc = -1;

	if (!sorted)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t k = 0; k < b->count; k++)
		sorted[k] = &b->objects[k];
	qsort(sorted, b->count, sizeof(*sorted), by_id);
	if (cc_buf_put(idx, magic, sizeof(magic)) < 0)
		goto done;
	for (unsigned first = 0, k = 0; first < 256; first++) {
		while (k < b->count && sorted[k]->id.id[0] <= first)
			k++;
		if (put_be32(idx, k) < 0)
			goto done;
	}
	for (size_t k = 0; k < b->count; k++)
		if (cc_buf_put(idx, sorted[k]->id.id, GIT_OID_RAWSZ) < 0)
			goto done;
	for (size_t k = 0; k < b->count; k++)
		if (put_be32(idx, sorted[k]->crc) < 0)
			goto done;
	for (size_t k = 0; k < b->count; k++) {
		uint64_t off = sorted[k]->offset;

		if (put_be32(idx, off < 0x80000000u ? (uint32_t)off : 0x80000000u | large++) < 0)
			goto done;
	}
	for (size_t k = 0; k < b->count; k++) {
		uint64_t off = sorted[k]->offset;

		if (off >= 0x80000000u &&
		    (put_be32(idx, (uint32_t)(off >> 32)) < 0 || put_be32(idx, (uint32_t)off) < 0))
			goto done;
	}
	if (cc_buf_put(idx, pack_sum, GIT_OID_RAWSZ) < 0 || sha1(sum, idx->ptr, idx->size) < 0 ||
	    cc_buf_put(idx, sum, sizeof(sum)) < 0)
		goto done;
	rc = 0;
done:
	free(sorted);
	return rc;
}

/*
 * Write the batch as objects/pack/pack-SUM.{pack,idx} and make the object
 * database see it.  The pack goes first: git finds packs by their index.
 * No fsync: the transaction flushes the file system before the branch moves.
 */
int cc_packbatch_flush(git_odb_backend *backend, git_odb *odb, const char *objects_dir)
{
	batch_backend *b = (batch_backend *)backend;
	cc_buf pack = CC_BUF_INIT, idx = CC_BUF_INIT, path = CC_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid sum;
	int rc;

	if (b->count == 0)
		return 0;
	if ((rc = build_pack(&pack, b)) < 0)
		goto done;
	git_oid_fromraw(&sum, (unsigned char *)pack.ptr + pack.size - GIT_OID_RAWSZ);
	git_oid_tostr(hex, sizeof(hex), &sum);
	if ((rc = build_index(&idx, b, sum.id)) < 0 ||
	    (rc = cc_buf_printf(&path, "%s/pack/pack-%s.pack", objects_dir, hex)) < 0 ||
	    (rc = cc_fs_mkdir_parents(path.ptr, 0755)) < 0 ||
	    (rc = cc_fs_write_atomic_nosync(path.ptr, pack.ptr, pack.size, 0444)) < 0)
		goto done;
	cc_buf_clear(&path);
	if ((rc = cc_buf_printf(&path, "%s/pack/pack-%s.idx", objects_dir, hex)) < 0 ||
	    (rc = cc_fs_write_atomic_nosync(path.ptr, idx.ptr, idx.size, 0444)) < 0)
		goto done;
	if (git_odb_refresh(odb) < 0) {
		rc = cc_error_git(CC_EIO, "cannot read the new pack");
		goto done;
	}
	cc_packbatch_reset(backend);
done:
	cc_buf_dispose(&pack);
	cc_buf_dispose(&idx);
	cc_buf_dispose(&path);
	return rc;
}
