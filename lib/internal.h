/*
 * Semi-private helpers shared by the library's modules; not installed.
 * Only lib/ includes this header (and the third-party headers).
 */
#ifndef CERTCTL_INTERNAL_H
#define CERTCTL_INTERNAL_H

#include <stdio.h>
#include <sys/types.h>
#include <git2.h>
#include <openssl/evp.h>
#include "certctl.h"

#define CC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* error.c: bridges that append a third-party reason to the message. */
int cc_error_openssl(int code, const char *fmt, ...) CC_PRINTF(2, 3);
int cc_error_git(int code, const char *fmt, ...) CC_PRINTF(2, 3);
int cc_error_errno(int code, const char *fmt, ...) CC_PRINTF(2, 3);
/* Map errno to CC_ENOTFOUND / CC_EIO. */
int cc_error_from_errno(int err);

/* fs.c */
int cc_fs_read(cc_buf *out, const char *path, size_t max_size);
/* Write via temp file + fsync + rename, then fsync the directory. */
int cc_fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* The same without the fsyncs: the transaction flushes once at commit. */
int cc_fs_write_atomic_nosync(const char *path, const void *data, size_t len, unsigned mode);
/* Flush everything written to the file system holding `path` (syncfs). */
int cc_fs_syncfs(const char *path);
int cc_fs_mkdir_p(const char *path, unsigned mode);
/* Create parent directories of `path`. */
int cc_fs_mkdir_parents(const char *path, unsigned mode);
int cc_fs_exists(const char *path);
int cc_fs_is_dir(const char *path);
int cc_fs_fsync_dir(const char *dir);
/* Join `a` and `b` with one '/'. */
int cc_fs_join(cc_buf *out, const char *a, const char *b);
/* Check a repository-relative path: no "..", no leading '/', no "//". */
int cc_fs_relpath_check(const char *relpath);
/* Names (not paths) of the entries of `dir`, sorted; "." ones skipped. */
int cc_fs_list(cc_strlist *out, const char *dir, const char *suffix);
/*
 * Fan-out directories (keys/, a CA's issued/) keep each file in a
 * subdirectory named after the file's first two characters, as git keeps
 * objects/: a commit rewrites every git tree it touches, and no tree then
 * grows with the repository.  Files of the older flat layout are still read.
 *
 * cc_fanout_path: "DIR/ab/abcdef.yaml" for `name` "abcdef.yaml".
 * cc_fanout_find: the repository-relative path of DIR's `name`: the fan-out
 *   one, or the flat one where only that exists (an older repository).
 * cc_fs_list_fanout: the entries of absolute `dir` as "ab/NAME" for files in
 *   two-character subdirectories and "NAME" for anything else, sorted.
 */
int cc_fanout_path(cc_buf *out, const char *dir, const char *name);
int cc_fanout_find(cc_buf *out, const cc_repo *repo, const char *dir, const char *name);
int cc_fs_list_fanout(cc_strlist *out, const char *dir, const char *suffix);

/* repo.c */
git_repository *cc_repo_git(cc_repo *repo);
/* git's user.name and user.email for this repository (read once; borrowed);
 * CC_ENOTFOUND when git has none. */
int cc_repo_committer(cc_repo *repo, const char **name, const char **email);
/*
 * A new repository secret (key rotate-secret): from $CERTCTL_NEW_PASSPHRASE_FILE
 * or $CERTCTL_NEW_PASSPHRASE, else random (for the secret file).  _switch
 * writes the new salt and check value into the configuration in `txn` and
 * makes the repository encrypt with the new secret (a random one waits in
 * ID.key.new); _finish, after the commit (or not), moves it over ID.key.
 */
typedef struct cc_keystore_next cc_keystore_next;
int cc_keystore_next_new(cc_keystore_next **out, cc_repo *repo);
int cc_keystore_next_switch(cc_repo *repo, cc_txn *txn, cc_keystore_next *next);
int cc_keystore_next_finish(cc_keystore_next *next, int committed);
const char *cc_keystore_next_secret_path(const cc_keystore_next *next);
void cc_keystore_next_free(cc_keystore_next *next);
/* The directory for certctl's private state inside .git ("<gitdir>/certctl"). */
const char *cc_repo_statedir(const cc_repo *repo);
/* The passphrase that encrypts key files, after cc_repo_unlock(); borrowed. */
const cc_secret *cc_repo_key_passphrase(cc_repo *repo);
/* Batch mode: write the objects held in memory as one pack / drop them. */
int cc_repo_write_objects(cc_repo *repo);
void cc_repo_discard_objects(cc_repo *repo);
/* The 32-byte AES key of key files, scrypt(secret, salt); NULL until unlocked. */
const unsigned char *cc_repo_kek(cc_repo *repo);
/* Scrypt parameters and salt of this repository's key files. */
int cc_repo_kdf(const cc_repo *repo, const unsigned char **salt, size_t *saltlen,
		uint64_t *n, uint64_t *r, uint64_t *p);
/* Roll back what an interrupted transaction left (journal in the state dir);
 * `repaired` gets the number of paths restored. */
int cc_repo_recover(cc_repo *repo, size_t *repaired);
/* Paths of git's index lock and of HEAD's branch's ref lock (txn.c). */
int cc_repo_git_lock_paths(cc_repo *repo, cc_buf *index_lock, cc_buf *ref_lock);
/* The secret directory for new repositories. */
int cc_repo_secret_dir(cc_buf *out, const char *override);

/* packbatch.c: an object store in memory, written out as one pack. */
int cc_packbatch_new(git_odb_backend **out);
/* Write what it holds to `objects_dir`/pack/ and empty it. */
int cc_packbatch_flush(git_odb_backend *backend, git_odb *odb, const char *objects_dir);
void cc_packbatch_reset(git_odb_backend *backend);
/* Write an object: into `odb`'s batch when it has one, else through libgit2. */
int cc_odb_write(git_oid *out, git_odb *odb, const void *data, size_t len, git_object_t type);
/* An object of `odb`'s batch, borrowed until the batch is flushed; NULL
 * when there is no batch or the object is not in it. */
const void *cc_packbatch_peek(git_odb *odb, const git_oid *id, git_object_t *type, size_t *len);
/* `id` is a new version of `base`: store it as a delta when both are in
 * `odb`'s batch (a no-op without one). */
void cc_packbatch_hint(git_odb *odb, const git_oid *id, const git_oid *base);

/* trust.c: the X509_STORE of trust set `set` (NULL: "default"); `count`
 * (optional) gets the number of sources loaded. */
int cc_trust_store(X509_STORE **out, cc_repo *repo, const char *set, size_t *count);
/* cc_verify() with a store already built (many chains, one store; borrowed). */
int cc_verify_store(X509_STORE *store, cc_repo *repo, const cc_cert *leaf,
		    const cc_verify_options *opts, cc_verify_report *report);
/* cc_verify_chain() with a store already built (many chains, one store). */
int cc_verify_chain_store(X509_STORE *store, const char *set, const cc_cert *leaf,
			  cc_cert *const *given, size_t ngiven, time_t at, cc_verify_result *result);

/* request.c: a new request id ("20261124T022500Z-3fa1"). */
int cc_request_new_id(char out[32]);

/* acme.c: base64url without padding; the JWK of a key (RFC 7638 member
 * order) and its SHA-256 thumbprint, base64url. */
int cc_base64url(cc_buf *out, const void *data, size_t len);
int cc_acme_jwk(cc_buf *out, const cc_key *key);
int cc_acme_thumbprint(cc_buf *out, const cc_key *key);
/* An ACME challenge token as RFC 8555 allows it (base64url, 1-256 characters). */
int cc_acme_token_valid(const char *token);
/* The ARI certificate identifier: base64url(AKI keyIdentifier) "."
 * base64url(serial number octets). */
int cc_acme_ari_cert_id(cc_buf *out, const cc_cert *cert);

/* http.c: bounded HTTP(S) through libcurl; TLS verification always on. */
typedef struct {
	const char *url;
	const void *body;         /* POST when set */
	size_t body_len;
	const char *content_type; /* of the body */
	const char *accept;       /* a whole "Accept: ..." header line, or NULL */
	const char *ca_file;      /* trust anchors for HTTPS; NULL: the system's */
	long timeout_ms;          /* the whole transfer; 0: 30 s */
	size_t max_body;          /* bigger replies fail; 0: 1 MiB */
	int head;                 /* HEAD instead of GET */
	int allow_http;           /* plain http:// too (AIA URLs, local servers) */
	int follow_redirects;     /* at most 3 */
} cc_http_request;

typedef struct {
	long status;
	cc_buf body;
	char *location, *replay_nonce, *retry_after, *content_type;
	cc_strlist links; /* Link header values */
} cc_http_response;

/* A libcurl upload from memory: CURLOPT_READFUNCTION cc_curl_upload_read,
 * CURLOPT_READDATA a cc_curl_upload. */
typedef struct {
	const cc_buf *data;
	size_t off;
} cc_curl_upload;
size_t cc_curl_upload_read(char *ptr, size_t size, size_t nmemb, void *userdata);

/* Perform `req`; `resp` is filled (any status) or CC_ENET / CC_ETLS. */
int cc_http_do(const cc_http_request *req, cc_http_response *resp);
void cc_http_response_dispose(cc_http_response *resp);
/* One header line of a response (what libcurl hands over) into `resp`. */
void cc_http_header(cc_http_response *resp, const char *data, size_t len);
/* The error an ACME server's reply means (RFC 7807 problem document or not),
 * set as the last error with `code` and `what` before it; returns the code. */
int cc_acme_problem(int code, const char *what, const cc_http_response *r);
/* Retry-After (seconds or an HTTP date) in ms, else `fallback_ms`; at most `max_ms`. */
long cc_http_retry_after_ms(const cc_http_response *resp, long fallback_ms, long max_ms);
/* The `nth` URL of a Link header with rel="`rel`" (malloc'ed), or NULL. */
char *cc_http_link(const cc_http_response *resp, const char *rel, size_t nth);

/* gitraw.c: commits without parsing whole trees and indexes. */
typedef struct {
	const char *path; /* repository-relative */
	git_oid id;       /* blob, unless removed */
	int remove;
} cc_git_change;
/* The tree `base` (NULL: empty) with `changes` applied; sorts `changes`. */
int cc_git_tree_apply(git_oid *out, git_repository *repo, const git_oid *base,
		      cc_git_change *changes, size_t n);
/* Update the index for `changes`; 1 when it needs libgit2 instead (unusual
 * index), 0 when done, negative on error. */
int cc_git_index_apply(git_repository *repo, const char *workdir, cc_git_change *changes,
		       size_t n);

/* cert.c */
#include <openssl/x509.h>
int cc_cert_from_x509(cc_cert **out, X509 *x509); /* takes the reference */
X509 *cc_cert_get0_x509(const cc_cert *cert);
/* A name in RFC 2253 form, as certificates' subjects are shown; malloc'ed. */
char *cc_name_text(const X509_NAME *name);
/* An ASN.1 time as seconds since the epoch (0 when unreadable). */
time_t cc_asn1_time(const ASN1_TIME *t);
/* The certificates of a repository file (certstore.c); none for an empty file. */
int cc_repo_read_certs(cc_cert ***out, size_t *count, cc_repo *repo, const char *rel);

/* Load OpenSSL's legacy provider (RC2, 3DES PKCS#12) once; 0 when loaded. */
int cc_legacy_provider(void);
/* key.c: refuse password-based encryption parameters that would make us
 * spin (iteration counts above a million). */
int cc_pbe_check(const X509_ALGOR *alg, const char *source);
/* A PKCS#12 file's key, certificate and other certificates (ca.c). */
int cc_pkcs12_parse(const void *data, size_t len, const cc_secret *pass, const char *source,
		    EVP_PKEY **pkey, X509 **cert, STACK_OF(X509) **others);

/* key.c */
EVP_PKEY *cc_key_get0_pkey(const cc_key *key);
int cc_key_from_pkey(cc_key **out, EVP_PKEY *pkey); /* takes a reference */
/* The key pool's work ahead of use: a blank certificate holding the public
 * key and the clear PKCS#8 DER; 0 when both are made.  No error state. */
int cc_key_prepare(cc_key *key);
/* That blank certificate, now the caller's; NULL when there is none. */
X509 *cc_key_take_blank(cc_key *key);
/* A blank certificate for `key`: the one made ahead, or a new one; NULL
 * when OpenSSL fails. */
X509 *cc_key_blank_x509(cc_key *key);

/* yaml emitter helpers (node.c) */
typedef struct cc_yaml_writer cc_yaml_writer;
int cc_yaml_writer_new(cc_yaml_writer **out, cc_buf *dest);
int cc_yaml_map_start(cc_yaml_writer *w);
int cc_yaml_map_end(cc_yaml_writer *w);
int cc_yaml_seq_start(cc_yaml_writer *w, int flow);
int cc_yaml_seq_end(cc_yaml_writer *w);
int cc_yaml_scalar(cc_yaml_writer *w, const char *value);
/* A literal block scalar (multi-line text). */
int cc_yaml_block(cc_yaml_writer *w, const char *value);
int cc_yaml_key(cc_yaml_writer *w, const char *key);
/* A scalar written plain (numbers, booleans), never quoted. */
int cc_yaml_plain(cc_yaml_writer *w, const char *value);
int cc_yaml_node(cc_yaml_writer *w, const cc_node *node);
int cc_yaml_writer_finish(cc_yaml_writer *w);
/* `key: value` (a block scalar when it has several lines); nothing for NULL. */
int cc_yaml_put(cc_yaml_writer *w, const char *key, const char *value);
/* `key: [items]` (flow) or one item a line; nothing for an empty list. */
int cc_yaml_put_list(cc_yaml_writer *w, const char *key, const cc_strlist *list, int flow);
void cc_yaml_writer_free(cc_yaml_writer *w);

/* check.c: a result's fields into an open YAML mapping, and back. */
int cc_check_result_yaml(cc_yaml_writer *w, const cc_check_result *r);
int cc_check_result_from_node(cc_check_result *r, const cc_node *node);

/* An error located at the key of mapping value `value` ("FILE:L:C: ..."). */
int cc_node_key_error(const cc_node *value, int code, const char *fmt, ...) CC_PRINTF(3, 4);

/* Scalar helpers for schema readers. */
int cc_node_bool(const cc_node *node, int *out);
int cc_node_uint(const cc_node *node, unsigned long max, unsigned long *out);
int cc_node_string(const cc_node *node, char **out); /* scalar -> strdup */
int cc_node_duration(const cc_node *node, long long *out);
int cc_node_expect(const cc_node *node, cc_node_type type, const char *what);

char *cc_strdup(const char *s); /* NULL-safe strdup */
/* `s` with < > & " ' as HTML entities, appended to `out`. */
void cc_html_escape(cc_buf *out, const char *s);
/* SHA-256 of `data`, lower-case hex. */
int cc_sha256_hex(const void *data, size_t len, char out[65]);
void cc_strset(char **slot, const char *value); /* free old, strdup new */
int cc_base64_encode(cc_buf *out, const unsigned char *data, size_t len);
int cc_base64_decode(cc_buf *out, const char *text);

/* run.c: a program from an argv list (never a shell string), bounded in
 * time, its output (stdout and stderr together) captured. */
typedef struct {
	char *const *argv;
	const char *const *env; /* "NAME=value" added; NULL-terminated or NULL */
	long timeout_ms;        /* 0: 60 s; the program's process group is killed */
	const char *cwd;        /* NULL: ours */
	size_t max_output;      /* the last bytes kept; 0: 4096 */
} cc_run_options;

typedef struct {
	int status;    /* exit status, -1 when it did not exit */
	int signal;    /* the signal that ended it, or 0 */
	int timed_out;
	int not_found; /* the program does not exist or cannot be executed */
	cc_buf output;
} cc_run_result;

/* The program's path as execve would find it (PATH when no '/'). */
int cc_run_find(const char *program, cc_buf *out);
/* Run it: 0 when it ran (whatever its status; see res), an error when it
 * could not be started.  The environment loses every CERTCTL_ variable. */
int cc_run(const cc_run_options *opts, cc_run_result *res);
/* "nginx exited with status 1", "... did not finish within 30s". */
int cc_run_describe(const cc_run_options *opts, const cc_run_result *res, cc_buf *out);
void cc_run_result_dispose(cc_run_result *res);

#endif
