/*
 * This module implements opening and creating repositories: finding the
 * work tree like git does, reading .certctl/config.yaml, and the repository
 * secret (where it comes from, the scrypt derivation and its check value).
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <git2/sys/odb_backend.h>
#include "internal.h"

#define CONFIG_PATH ".certctl/config.yaml"
#define SECRET_CHECK_LABEL "certctl repository secret check"
/* scrypt cost for key files: N=2^14, r=8, p=1 (16 MiB, ~40 ms once per process). */
#define KDF_N 16384
#define KDF_R 8
#define KDF_P 1
#define KDF_SALT_LEN 16
#define KDF_KEY_LEN 32

struct cc_repo {
	git_repository *git;
	char *workdir;
	char *statedir;
	char *id;
	cc_node *config;
	unsigned char salt[64];
	size_t saltlen;
	uint64_t n, r, p;
	char check[65];
	cc_secret *passphrase; /* the repository secret, after unlock */
	unsigned char kek[KDF_KEY_LEN]; /* scrypt(secret, salt), after unlock */
	git_odb_backend *batch; /* batch mode: new objects wait here for one pack */
	char *committer_name, *committer_email; /* git's user.name/email, once read */
};

static int libgit2_ready;

static void git_init_once(void)
{
	if (!libgit2_ready) {
		git_libgit2_init();
		/* Durability comes from the transaction's flushes (txn.c), not
		 * from an fsync per object. */
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
		libgit2_ready = 1;
	}
}

void cc_repo_free(cc_repo *repo)
{
	if (!repo)
		return;
	free(repo->committer_name);
	free(repo->committer_email);
	git_repository_free(repo->git);
	cc_node_free(repo->config);
	cc_secret_free(repo->passphrase);
	free(repo->workdir);
	free(repo->statedir);
	free(repo->id);
	OPENSSL_cleanse(repo, sizeof(*repo));
	free(repo);
}

git_repository *cc_repo_git(cc_repo *repo)
{
	return repo->git;
}

const char *cc_repo_workdir(const cc_repo *repo)
{
	return repo->workdir;
}

const char *cc_repo_statedir(const cc_repo *repo)
{
	return repo->statedir;
}

const char *cc_repo_id(const cc_repo *repo)
{
	return repo->id;
}

const cc_node *cc_repo_config(const cc_repo *repo)
{
	return repo->config;
}

const char *cc_repo_config_get(const cc_repo *repo, const char *dotted_path)
{
	const cc_node *node = repo ? repo->config : NULL;
	char part[128];
	const char *p = dotted_path;

	while (node && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (len >= sizeof(part))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		node = cc_node_get(node, part);
		p += len + (dot ? 1 : 0);
	}
	return node ? cc_node_scalar(node) : NULL;
}

int cc_repo_path(const cc_repo *repo, const char *relpath, cc_buf *out)
{
	int rc;

	if ((rc = cc_fs_relpath_check(relpath)) < 0)
		return rc;
	return cc_fs_join(out, repo->workdir, relpath);
}

int cc_repo_read(const cc_repo *repo, const char *relpath, cc_buf *out)
{
	cc_buf path = CC_BUF_INIT;
	int rc;

	if ((rc = cc_repo_path(repo, relpath, &path)) == 0)
		rc = cc_fs_read(out, path.ptr, 64 * 1024 * 1024);
	cc_buf_dispose(&path);
	return rc;
}

int cc_repo_kdf(const cc_repo *repo, const unsigned char **salt, size_t *saltlen,
		uint64_t *n, uint64_t *r, uint64_t *p)
{
	*salt = repo->salt;
	*saltlen = repo->saltlen;
	*n = repo->n;
	*r = repo->r;
	*p = repo->p;
	return 0;
}

int cc_repo_secret_dir(cc_buf *out, const char *override)
{
	const char *dir = override, *xdg, *home;

	if (!dir || !*dir)
		dir = getenv("CERTCTL_SECRET_DIR");
	if (dir && *dir)
		return cc_buf_puts(out, dir);
	xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg == '/')
		return cc_buf_printf(out, "%s/certctl/secrets", xdg);
	home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return cc_error_set(CC_ENOTFOUND, "no home directory for the repository secret "
				    "(set CERTCTL_SECRET_DIR or XDG_CONFIG_HOME)");
	return cc_buf_printf(out, "%s/.config/certctl/secrets", home);
}

int cc_repo_batch_objects(cc_repo *repo)
{
	git_odb *odb = NULL;
	git_odb_backend *batch = NULL;
	int rc;

	if (repo->batch)
		return 0;
	if ((rc = cc_packbatch_new(&batch)) < 0)
		return rc;
	if (git_repository_odb(&odb, repo->git) < 0 || git_odb_add_backend(odb, batch, 1000) < 0) {
		rc = cc_error_git(CC_EIO, "cannot prepare the object database for a batch");
		batch->free(batch);
	} else {
		repo->batch = batch; /* owned by the odb */
	}
	git_odb_free(odb);
	return rc;
}

int cc_repo_write_objects(cc_repo *repo)
{
	git_odb *odb = NULL;
	cc_buf dir = CC_BUF_INIT;
	int rc;

	if (!repo->batch)
		return 0;
	if (git_repository_odb(&odb, repo->git) < 0)
		return cc_error_git(CC_EIO, "cannot open the object database");
	rc = cc_buf_printf(&dir, "%sobjects", git_repository_path(repo->git));
	if (rc == 0)
		rc = cc_packbatch_flush(repo->batch, odb, dir.ptr);
	git_odb_free(odb);
	cc_buf_dispose(&dir);
	return rc;
}

void cc_repo_discard_objects(cc_repo *repo)
{
	if (repo->batch)
		cc_packbatch_reset(repo->batch);
}

int cc_repo_secret_path(const cc_repo *repo, cc_buf *out)
{
	int rc = cc_repo_secret_dir(out, NULL);

	return rc ? rc : cc_buf_printf(out, "/%s.key", repo->id);
}

/* scrypt(secret, salt) into `key`, and the check value derived from it. */
static int derive_check(const cc_secret *secret, const unsigned char *salt, size_t saltlen,
			uint64_t n, uint64_t r, uint64_t p, char check[65],
			unsigned char key[KDF_KEY_LEN])
{
	unsigned char mac[32];
	unsigned int maclen = sizeof(mac);
	int rc = 0;

	if (EVP_PBE_scrypt((const char *)cc_secret_data(secret), cc_secret_len(secret), salt,
			   saltlen, n, r, p, 0, key, KDF_KEY_LEN) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot derive the key-encryption key");
		goto done;
	}
	if (!HMAC(EVP_sha256(), key, KDF_KEY_LEN, (const unsigned char *)SECRET_CHECK_LABEL,
		  strlen(SECRET_CHECK_LABEL), mac, &maclen)) {
		rc = cc_error_openssl(CC_ERROR, "cannot compute the secret check");
		goto done;
	}
	cc_hex(check, mac, 32);
done:
	return rc;
}

/*
 * `key rotate-secret` writes the new random secret as ID.key.new, commits
 * the keys encrypted under it, then renames it over ID.key.  Killed between
 * the commit and the rename, the repository's check value is the new
 * secret's: finish the rename here (and drop a .new that lost the race).
 */
static void finish_rotation(const cc_repo *repo, const char *path)
{
	cc_buf next = CC_BUF_INIT;
	cc_secret *secret = NULL;
	unsigned char kek[KDF_KEY_LEN];
	char check[65];

	if (cc_buf_printf(&next, "%s.new", path) < 0 || !cc_fs_exists(next.ptr))
		goto done;
	if (cc_secret_from_file(&secret, next.ptr) == 0 &&
	    derive_check(secret, repo->salt, repo->saltlen, repo->n, repo->r, repo->p, check,
			 kek) == 0 &&
	    CRYPTO_memcmp(check, repo->check, 64) == 0)
		rename(next.ptr, path);
	else
		unlink(next.ptr); /* the rotation did not commit: the old secret holds */
	OPENSSL_cleanse(kek, sizeof(kek));
done:
	cc_error_clear();
	cc_secret_free(secret);
	cc_buf_dispose(&next);
}

/* Where the secret comes from: the environment, else the secret file. */
static int read_secret(cc_secret **out, const cc_repo *repo, const char **source)
{
	static _Thread_local char where[PATH_MAX + 64];
	cc_buf path = CC_BUF_INIT;
	int rc;

	rc = cc_secret_from_env(out, "CERTCTL_PASSPHRASE_FILE", "CERTCTL_PASSPHRASE", source);
	if (rc != CC_ENOTFOUND)
		return rc;
	cc_error_clear();
	if ((rc = cc_repo_secret_path(repo, &path)) < 0)
		goto done;
	snprintf(where, sizeof(where), "file '%s'", path.ptr);
	*source = where;
	finish_rotation(repo, path.ptr);
	rc = cc_secret_from_file(out, path.ptr);
	if (rc == CC_ENOTFOUND)
		rc = cc_error_set(CC_ENOTFOUND,
				  "no repository secret: set CERTCTL_PASSPHRASE_FILE or "
				  "CERTCTL_PASSPHRASE, or put the secret in '%s'", path.ptr);
done:
	cc_buf_dispose(&path);
	return rc;
}

int cc_repo_unlock(cc_repo *repo)
{
	cc_secret *secret = NULL;
	const char *source = "";
	unsigned char kek[KDF_KEY_LEN];
	char check[65];
	int rc;

	if (repo->passphrase)
		return 0;
	if ((rc = read_secret(&secret, repo, &source)) < 0)
		return rc;
	if ((rc = derive_check(secret, repo->salt, repo->saltlen, repo->n, repo->r, repo->p,
			       check, kek)) < 0)
		goto done;
	if (CRYPTO_memcmp(check, repo->check, 64) != 0) {
		rc = cc_error_set(CC_EAUTH, "wrong repository secret (from %s)", source);
		goto done;
	}
	memcpy(repo->kek, kek, sizeof(kek));
	repo->passphrase = secret;
	secret = NULL;
done:
	OPENSSL_cleanse(kek, sizeof(kek));
	cc_secret_free(secret);
	return rc;
}

const unsigned char *cc_repo_kek(cc_repo *repo)
{
	return repo->passphrase ? repo->kek : NULL;
}

const cc_secret *cc_repo_key_passphrase(cc_repo *repo)
{
	return repo->passphrase;
}

/* Read and check .certctl/config.yaml. */
static int load_config(cc_repo *repo)
{
	cc_buf path = CC_BUF_INIT, salt = CC_BUF_INIT;
	const cc_node *ks, *node;
	unsigned long format = 0, n = 0, r = 0, p = 0;
	const char *s;
	int rc;

	if ((rc = cc_fs_join(&path, repo->workdir, CONFIG_PATH)) < 0)
		goto done;
	if ((rc = cc_node_load(&repo->config, path.ptr, CONFIG_PATH)) < 0)
		goto done;
	if ((rc = cc_node_expect(repo->config, CC_NODE_MAPPING, "the configuration")) < 0)
		goto done;
	node = cc_node_get(repo->config, "format");
	if (!node) {
		rc = cc_node_error(repo->config, CC_EINVALID, "'format' is missing");
		goto done;
	}
	if ((rc = cc_node_uint(node, 1000, &format)) < 0)
		goto done;
	if (format != CC_REPO_FORMAT) {
		rc = cc_node_error(node, CC_EINVALID,
				   "repository format %lu is not supported by certctl %s "
				   "(format %d)", format, CERTCTL_VERSION, CC_REPO_FORMAT);
		goto done;
	}
	s = cc_repo_config_get(repo, "id");
	if (!s || strlen(s) < 8 || strspn(s, "0123456789abcdef") != strlen(s)) {
		rc = cc_node_error(cc_node_get(repo->config, "id") ? cc_node_get(repo->config, "id")
								    : repo->config,
				   CC_EINVALID, "'id' must be a hexadecimal identifier");
		goto done;
	}
	repo->id = strdup(s);
	ks = cc_node_get(repo->config, "keystore");
	if (!ks || cc_node_kind(ks) != CC_NODE_MAPPING) {
		rc = cc_node_error(ks ? ks : repo->config, CC_EINVALID,
				   "'keystore' must be a mapping");
		goto done;
	}
	s = cc_repo_config_get(repo, "keystore.kdf");
	if (!s || strcmp(s, "scrypt") != 0) {
		rc = cc_node_error(ks, CC_EINVALID, "keystore.kdf must be scrypt");
		goto done;
	}
	if (!(node = cc_node_get(ks, "n")) || (rc = cc_node_uint(node, 1UL << 24, &n)) < 0 ||
	    !(node = cc_node_get(ks, "r")) || (rc = cc_node_uint(node, 64, &r)) < 0 ||
	    !(node = cc_node_get(ks, "p")) || (rc = cc_node_uint(node, 16, &p)) < 0 ||
	    n < 1024 || (n & (n - 1)) || r == 0 || p == 0) {
		if (rc == 0)
			rc = cc_node_error(ks, CC_EINVALID,
					   "keystore.n, .r and .p must be scrypt parameters");
		goto done;
	}
	s = cc_repo_config_get(repo, "keystore.salt");
	if (!s || cc_base64_decode(&salt, s) < 0 || salt.size < 8 || salt.size > sizeof(repo->salt)) {
		rc = cc_node_error(ks, CC_EINVALID, "keystore.salt must be base64 (8-64 bytes)");
		goto done;
	}
	memcpy(repo->salt, salt.ptr, salt.size);
	repo->saltlen = salt.size;
	repo->n = n;
	repo->r = r;
	repo->p = p;
	s = cc_repo_config_get(repo, "keystore.check");
	if (!s || strlen(s) != 64) {
		rc = cc_node_error(ks, CC_EINVALID, "keystore.check must be 64 hex digits");
		goto done;
	}
	memcpy(repo->check, s, 65);
done:
	cc_buf_dispose(&path);
	cc_buf_dispose(&salt);
	return rc;
}

/*
 * Write loose objects with zlib's fastest level (and fsync): every commit
 * rewrites the trees it touches, and definitions/ can hold thousands of
 * entries, so compression dominates a commit in a large repository.  git
 * reads these objects like any other; `git gc` packs them tighter.
 */
static int use_fast_objects(cc_repo *repo)
{
	git_odb *odb = NULL;
	git_odb_backend *loose = NULL;
	cc_buf dir = CC_BUF_INIT;
	int rc = 0;

	if (git_repository_odb(&odb, repo->git) < 0 ||
	    cc_buf_printf(&dir, "%sobjects", git_repository_path(repo->git)) < 0 ||
	    git_odb_backend_loose(&loose, dir.ptr, 1, 0, 0, 0) < 0 ||
	    git_odb_add_backend(odb, loose, 100) < 0) {
		rc = cc_error_git(CC_EIO, "cannot open the object database");
		if (loose)
			loose->free(loose);
	}
	git_odb_free(odb);
	cc_buf_dispose(&dir);
	return rc;
}

/* Fill in the paths of a repository whose work tree is `workdir`. */
static int repo_attach(cc_repo **out, const char *workdir)
{
	cc_repo *repo = NULL;
	cc_buf state = CC_BUF_INIT;
	int rc;

	*out = NULL;
	git_init_once();
	repo = calloc(1, sizeof(*repo));
	if (!repo)
		return cc_error_set(CC_ERROR, "out of memory");
	if (!(repo->workdir = strdup(workdir))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if (git_repository_open_ext(&repo->git, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = cc_error_git(CC_ENOREPO, "'%s' has .certctl but no git repository", workdir);
		goto done;
	}
	if (git_repository_is_bare(repo->git)) {
		rc = cc_error_set(CC_ENOREPO, "'%s' is a bare git repository", workdir);
		goto done;
	}
	if ((rc = use_fast_objects(repo)) < 0)
		goto done;
	if ((rc = cc_buf_printf(&state, "%scertctl", git_repository_path(repo->git))) < 0)
		goto done;
	repo->statedir = cc_buf_detach(&state);
	if ((rc = cc_fs_mkdir_p(repo->statedir, 0700)) < 0)
		goto done;
	rc = load_config(repo);
done:
	cc_buf_dispose(&state);
	if (rc < 0)
		cc_repo_free(repo);
	else
		*out = repo;
	return rc;
}

static int has_config(const char *dir)
{
	cc_buf path = CC_BUF_INIT;
	int found;

	if (cc_fs_join(&path, dir, CONFIG_PATH) < 0)
		return 0;
	found = cc_fs_exists(path.ptr);
	cc_buf_dispose(&path);
	return found;
}

int cc_repo_open(cc_repo **out, const char *path, unsigned flags)
{
	char real[PATH_MAX];
	const char *start = path;
	char *slash;

	*out = NULL;
	if (!start || !*start)
		start = getenv("CERTCTL_DIR");
	if (!start || !*start)
		start = ".";
	if (!realpath(start, real))
		return cc_error_errno(CC_ENOREPO, "cannot open repository '%s'", start);
	for (;;) {
		if (has_config(real))
			return repo_attach(out, real);
		if (flags & CC_REPO_OPEN_NO_SEARCH)
			break;
		slash = strrchr(real, '/');
		if (!slash || slash == real)
			break;
		*slash = '\0';
	}
	if (flags & CC_REPO_OPEN_NO_SEARCH)
		return cc_error_set(CC_ENOREPO, "'%s' is not a certctl repository", start);
	return cc_error_set(CC_ENOREPO,
			    "not in a certctl repository ('%s' or any parent); "
			    "run 'certctl init' or use -C DIR", start);
}

/* The configuration of a new repository. */
static int format_config(cc_buf *out, const char *id, const char *salt_b64, const char *check,
			 const char *secret_kind)
{
	cc_yaml_writer *w = NULL;
	char n[32], r[16], p[16], format[16];
	int rc;

	snprintf(n, sizeof(n), "%d", KDF_N);
	snprintf(r, sizeof(r), "%d", KDF_R);
	snprintf(p, sizeof(p), "%d", KDF_P);
	snprintf(format, sizeof(format), "%d", CC_REPO_FORMAT);
	cc_buf_puts(out, "# certctl repository configuration; see certctl-repository(5).\n");
	if ((rc = cc_yaml_writer_new(&w, out)) < 0)
		return rc;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "format");
	rc = rc ? rc : cc_yaml_scalar(w, format);
	rc = rc ? rc : cc_yaml_key(w, "id");
	rc = rc ? rc : cc_yaml_scalar(w, id);
	rc = rc ? rc : cc_yaml_key(w, "keystore");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "secret");
	rc = rc ? rc : cc_yaml_scalar(w, secret_kind);
	rc = rc ? rc : cc_yaml_key(w, "kdf");
	rc = rc ? rc : cc_yaml_scalar(w, "scrypt");
	rc = rc ? rc : cc_yaml_key(w, "n");
	rc = rc ? rc : cc_yaml_scalar(w, n);
	rc = rc ? rc : cc_yaml_key(w, "r");
	rc = rc ? rc : cc_yaml_scalar(w, r);
	rc = rc ? rc : cc_yaml_key(w, "p");
	rc = rc ? rc : cc_yaml_scalar(w, p);
	rc = rc ? rc : cc_yaml_key(w, "salt");
	rc = rc ? rc : cc_yaml_scalar(w, salt_b64);
	rc = rc ? rc : cc_yaml_key(w, "check");
	rc = rc ? rc : cc_yaml_scalar(w, check);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_key(w, "defaults");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "key");
	rc = rc ? rc : cc_yaml_scalar(w, "ecdsa:P-256");
	rc = rc ? rc : cc_yaml_key(w, "provider");
	rc = rc ? rc : cc_yaml_scalar(w, "builtin");
	rc = rc ? rc : cc_yaml_key(w, "validity");
	rc = rc ? rc : cc_yaml_scalar(w, "90d");
	rc = rc ? rc : cc_yaml_key(w, "renew_before");
	rc = rc ? rc : cc_yaml_scalar(w, "30d");
	rc = rc ? rc : cc_yaml_key(w, "warning");
	rc = rc ? rc : cc_yaml_scalar(w, "30d");
	rc = rc ? rc : cc_yaml_key(w, "critical");
	rc = rc ? rc : cc_yaml_scalar(w, "7d");
	rc = rc ? rc : cc_yaml_key(w, "trust_set");
	rc = rc ? rc : cc_yaml_scalar(w, "default");
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_key(w, "providers");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "builtin");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "type");
	rc = rc ? rc : cc_yaml_scalar(w, "builtin");
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_key(w, "manual");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "type");
	rc = rc ? rc : cc_yaml_scalar(w, "manual");
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_key(w, "lock");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "timeout");
	rc = rc ? rc : cc_yaml_scalar(w, "10s");
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	return rc;
}

/* A new random secret in the secret directory, 0600. */
static int write_random_secret(cc_secret **out, const char *id, const char *dir_override,
			       cc_buf *where)
{
	unsigned char raw[32];
	cc_buf text = CC_BUF_INIT;
	int rc;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return cc_error_openssl(CC_ERROR, "no randomness");
	if ((rc = cc_base64_encode(&text, raw, sizeof(raw))) < 0)
		goto done;
	if ((rc = cc_repo_secret_dir(where, dir_override)) < 0)
		goto done;
	if ((rc = cc_fs_mkdir_p(where->ptr, 0700)) < 0)
		goto done;
	if ((rc = cc_buf_printf(where, "/%s.key", id)) < 0)
		goto done;
	if ((rc = cc_secret_new(out, text.ptr, text.size)) < 0)
		goto done;
	if ((rc = cc_buf_putc(&text, '\n')) < 0 ||
	    (rc = cc_fs_write_atomic(where->ptr, text.ptr, text.size, 0600)) < 0) {
		cc_secret_free(*out);
		*out = NULL;
	}
done:
	OPENSSL_cleanse(raw, sizeof(raw));
	cc_buf_dispose_secure(&text);
	return rc;
}

int cc_repo_init(cc_repo **out, const char *path, const cc_repo_init_options *opts)
{
	git_repository *git = NULL;
	cc_secret *secret = NULL;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf config = CC_BUF_INIT, salt_b64 = CC_BUF_INIT, secret_path = CC_BUF_INIT;
	cc_buf dir = CC_BUF_INIT;
	unsigned char rnd[16], salt[KDF_SALT_LEN];
	unsigned char kek[KDF_KEY_LEN];
	char id[33], check[65], real[PATH_MAX];
	const char *source = NULL, *secret_kind = "passphrase";
	int rc;

	*out = NULL;
	git_init_once();
	if (opts && opts->version != CC_REPO_INIT_OPTIONS_VERSION)
		return cc_error_set(CC_EINVALID, "unsupported init options version");
	if ((rc = cc_fs_mkdir_p(path, 0755)) < 0)
		return rc;
	if (!realpath(path, real))
		return cc_error_errno(0, "cannot resolve '%s'", path);
	if (has_config(real))
		return cc_error_set(CC_EEXISTS, "'%s' is already a certctl repository", real);
	if (access(real, W_OK) < 0)
		return cc_error_errno(CC_EIO, "cannot write to '%s'", real);

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 || RAND_bytes(salt, sizeof(salt)) != 1)
		return cc_error_openssl(CC_ERROR, "no randomness");
	cc_hex(id, rnd, sizeof(rnd));

	rc = cc_secret_from_env(&secret, "CERTCTL_PASSPHRASE_FILE", "CERTCTL_PASSPHRASE", &source);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		secret_kind = "file";
		rc = write_random_secret(&secret, id, opts ? opts->secret_dir : NULL, &secret_path);
	}
	if (rc < 0)
		goto done;
	if ((rc = derive_check(secret, salt, sizeof(salt), KDF_N, KDF_R, KDF_P, check, kek)) < 0)
		goto done;
	if ((rc = cc_base64_encode(&salt_b64, salt, sizeof(salt))) < 0)
		goto done;
	if ((rc = format_config(&config, id, salt_b64.ptr, check, secret_kind)) < 0)
		goto done;

	if (git_repository_init(&git, real, 0) < 0) {
		rc = cc_error_git(CC_EIO, "cannot create a git repository in '%s'", real);
		goto done;
	}
	git_repository_free(git);
	git = NULL;
	if ((rc = cc_fs_join(&dir, real, ".certctl")) < 0 || (rc = cc_fs_mkdir_p(dir.ptr, 0755)) < 0)
		goto done;
	cc_buf_clear(&dir);
	if ((rc = cc_fs_join(&dir, real, CONFIG_PATH)) < 0 ||
	    (rc = cc_fs_write_atomic(dir.ptr, config.ptr, config.size, 0644)) < 0)
		goto done;
	if ((rc = repo_attach(&repo, real)) < 0)
		goto done;
	memcpy(repo->kek, kek, sizeof(kek));
	repo->passphrase = secret;
	secret = NULL;

	/* The first commit: configuration and ignore rules, made like every
	 * other change so the audit trail starts with it. */
	if ((rc = cc_txn_begin(&txn, repo, "init")) < 0)
		goto done;
	if ((rc = cc_txn_write(txn, CONFIG_PATH, config.ptr, config.size, 0644)) < 0)
		goto done;
	{
		static const char ignore[] =
			"# certctl: temporary files of interrupted writes\n*.tmp-*\n";
		if ((rc = cc_txn_write(txn, ".gitignore", ignore, sizeof(ignore) - 1, 0644)) < 0)
			goto done;
	}
	rc = cc_txn_commit(txn, "init: certificate repository created",
			   secret_path.size ? "The repository secret was written outside the "
					      "repository; keep a copy of it safe."
					    : "Private keys are encrypted with the passphrase "
					      "given in the environment.");
	txn = NULL;
done:
	cc_txn_abort(txn);
	cc_secret_free(secret);
	cc_buf_dispose(&config);
	cc_buf_dispose(&salt_b64);
	cc_buf_dispose(&secret_path);
	cc_buf_dispose(&dir);
	OPENSSL_cleanse(salt, sizeof(salt));
	OPENSSL_cleanse(kek, sizeof(kek));
	if (rc < 0) {
		cc_repo_free(repo);
		return rc;
	}
	*out = repo;
	return 0;
}

/* --- rotating the secret ------------------------------------------------- */

struct cc_keystore_next {
	cc_secret *secret;
	unsigned char salt[KDF_SALT_LEN];
	unsigned char kek[KDF_KEY_LEN];
	char check[65];
	char salt_b64[64];
	const char *kind; /* "file" or "passphrase" */
	cc_buf secret_path; /* where a random secret goes, when it is one */
};

/*
 * The configuration text with keystore.salt, .check and .secret replaced
 * in place: every other line, comments included, stays as the user left it.
 */
static int config_with_keystore(const cc_repo *repo, const cc_keystore_next *next, cc_buf *out)
{
	const cc_node *ks = cc_node_get(repo->config, "keystore");
	const struct {
		const char *key, *value;
	} edits[] = { { "salt", next->salt_b64 }, { "check", next->check }, { "secret", next->kind } };
	cc_buf path = CC_BUF_INIT, text = CC_BUF_INIT;
	size_t line_of[3], col_of[3];
	int rc;

	if ((rc = cc_fs_join(&path, repo->workdir, CONFIG_PATH)) < 0 ||
	    (rc = cc_fs_read(&text, path.ptr, 1 << 20)) < 0)
		goto done;
	for (size_t i = 0; i < CC_ARRAY_SIZE(edits); i++) {
		const cc_node *node = cc_node_get(ks, edits[i].key);

		if (!node || cc_node_kind(node) != CC_NODE_SCALAR) {
			rc = cc_error_set(CC_EINVALID, "%s: keystore.%s is missing", CONFIG_PATH,
					  edits[i].key);
			goto done;
		}
		line_of[i] = cc_node_line(node);
		col_of[i] = cc_node_column(node);
	}
	{
		size_t line = 1;
		const char *p = text.ptr, *end = text.ptr + text.size;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			int edited = 0;

			for (size_t i = 0; i < CC_ARRAY_SIZE(edits) && !edited; i++) {
				if (line_of[i] != line || col_of[i] < 1 || col_of[i] - 1 > len)
					continue;
				rc = cc_buf_put(out, p, col_of[i] - 1);
				rc = rc ? rc : cc_buf_printf(out, "%s", edits[i].value);
				edited = 1;
			}
			if (!edited)
				rc = cc_buf_put(out, p, len);
			if (rc == 0 && nl)
				rc = cc_buf_putc(out, '\n');
			if (rc < 0)
				goto done;
			p += len + (nl ? 1 : 0);
			line++;
		}
	}
done:
	cc_buf_dispose(&path);
	cc_buf_dispose(&text);
	return rc;
}

int cc_keystore_next_new(cc_keystore_next **out, cc_repo *repo)
{
	cc_keystore_next *next = calloc(1, sizeof(*next));
	const char *source = NULL;
	cc_buf b64 = CC_BUF_INIT;
	int rc;

	*out = NULL;
	if (!next)
		return cc_error_set(CC_ERROR, "out of memory");
	rc = cc_secret_from_env(&next->secret, "CERTCTL_NEW_PASSPHRASE_FILE", "CERTCTL_NEW_PASSPHRASE",
				&source);
	next->kind = "passphrase";
	if (rc == CC_ENOTFOUND) {
		unsigned char raw[32];
		cc_buf text = CC_BUF_INIT;

		cc_error_clear();
		next->kind = "file";
		rc = RAND_bytes(raw, sizeof(raw)) == 1 ? 0 : cc_error_openssl(CC_ERROR, "no randomness");
		rc = rc ? rc : cc_base64_encode(&text, raw, sizeof(raw));
		rc = rc ? rc : cc_secret_new(&next->secret, text.ptr, text.size);
		rc = rc ? rc : cc_repo_secret_path(repo, &next->secret_path);
		OPENSSL_cleanse(raw, sizeof(raw));
		cc_buf_dispose_secure(&text);
	} else if (rc == 0 && cc_secret_len(next->secret) < 8) {
		rc = cc_error_set(CC_EINVALID, "the new passphrase (from %s) is shorter than 8 "
				  "characters", source);
	}
	if (rc == 0 && RAND_bytes(next->salt, sizeof(next->salt)) != 1)
		rc = cc_error_openssl(CC_ERROR, "no randomness");
	if (rc == 0)
		rc = derive_check(next->secret, next->salt, sizeof(next->salt), repo->n, repo->r,
				  repo->p, next->check, next->kek);
	if (rc == 0 && (rc = cc_base64_encode(&b64, next->salt, sizeof(next->salt))) == 0)
		snprintf(next->salt_b64, sizeof(next->salt_b64), "%s", b64.ptr);
	cc_buf_dispose(&b64);
	if (rc < 0) {
		cc_keystore_next_free(next);
		return rc;
	}
	*out = next;
	return 0;
}

int cc_keystore_next_switch(cc_repo *repo, cc_txn *txn, cc_keystore_next *next)
{
	cc_buf config = CC_BUF_INIT;
	int rc;

	if ((rc = cc_repo_unlock(repo)) < 0)
		return rc;
	if ((rc = config_with_keystore(repo, next, &config)) < 0 ||
	    (rc = cc_txn_write(txn, CONFIG_PATH, config.ptr, config.size, 0644)) < 0)
		goto done;
	/* From here on the repository encrypts and checks with the new secret. */
	memcpy(repo->salt, next->salt, sizeof(next->salt));
	repo->saltlen = sizeof(next->salt);
	memcpy(repo->kek, next->kek, sizeof(next->kek));
	memcpy(repo->check, next->check, sizeof(repo->check));
	cc_secret_free(repo->passphrase);
	repo->passphrase = next->secret;
	next->secret = NULL;
	/* A random secret waits beside the old one until the commit. */
	if (next->secret_path.size) {
		cc_buf path = CC_BUF_INIT;

		rc = cc_buf_printf(&path, "%s.new", next->secret_path.ptr);
		rc = rc ? rc : cc_fs_mkdir_parents(path.ptr, 0700);
		if (rc == 0) {
			cc_buf text = CC_BUF_INIT;

			rc = cc_buf_put(&text, cc_secret_data(repo->passphrase),
					cc_secret_len(repo->passphrase));
			rc = rc ? rc : cc_buf_putc(&text, '\n');
			rc = rc ? rc : cc_fs_write_atomic(path.ptr, text.ptr, text.size, 0600);
			cc_buf_dispose_secure(&text);
		}
		cc_buf_dispose(&path);
	}
done:
	cc_buf_dispose(&config);
	return rc;
}

int cc_keystore_next_finish(cc_keystore_next *next, int committed)
{
	cc_buf path = CC_BUF_INIT;
	int rc = 0;

	if (!next->secret_path.size)
		return 0;
	if ((rc = cc_buf_printf(&path, "%s.new", next->secret_path.ptr)) < 0)
		return rc;
	if (!committed)
		unlink(path.ptr);
	else if (rename(path.ptr, next->secret_path.ptr) < 0)
		rc = cc_error_errno(CC_EIO, "the new secret is in '%s': move it to '%s'", path.ptr,
				    next->secret_path.ptr);
	cc_buf_dispose(&path);
	return rc;
}

const char *cc_keystore_next_secret_path(const cc_keystore_next *next)
{
	return next->secret_path.size ? next->secret_path.ptr : NULL;
}

void cc_keystore_next_free(cc_keystore_next *next)
{
	if (!next)
		return;
	cc_secret_free(next->secret);
	OPENSSL_cleanse(next->kek, sizeof(next->kek));
	OPENSSL_cleanse(next->salt, sizeof(next->salt));
	cc_buf_dispose(&next->secret_path);
	free(next);
}

int cc_repo_committer(cc_repo *repo, const char **name, const char **email)
{
	git_signature *sig = NULL;

	if (!repo->committer_name) {
		/* git's configuration is read once a process, not once a commit. */
		if (git_signature_default(&sig, repo->git) < 0) {
			git_error_clear();
			return CC_ENOTFOUND;
		}
		repo->committer_name = strdup(sig->name);
		repo->committer_email = strdup(sig->email);
		git_signature_free(sig);
		if (!repo->committer_name || !repo->committer_email)
			return cc_error_set(CC_ERROR, "out of memory");
	}
	*name = repo->committer_name;
	*email = repo->committer_email;
	return 0;
}
