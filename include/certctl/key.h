/*
 * Private keys: generation of every supported type, import from PEM/DER,
 * storage in keys/ encrypted at rest, export for disaster recovery.
 */
#ifndef CERTCTL_KEY_H
#define CERTCTL_KEY_H

#include "common.h"
#include "buf.h"
#include "repo.h"
#include "txn.h"
#include "secret.h"

typedef enum {
	CC_KEY_NONE = 0,
	CC_KEY_RSA,
	CC_KEY_ECDSA,
	CC_KEY_ED25519,
} cc_key_type;

typedef struct {
	cc_key_type type;
	unsigned bits; /* RSA modulus size, or the ECDSA curve size (256, 384) */
} cc_key_spec;

/*
 * Parse "rsa", "rsa:3072", "ecdsa", "ecdsa:P-384", "ec:p-256", "ed25519":
 * any type a stored key may have (RSA of 2048 to 16384 bits, ECDSA P-256,
 * P-384 or P-521, Ed25519).  CC_EINVALID.
 */
int cc_key_spec_parse(cc_key_spec *out, const char *text);
/*
 * Check that certctl generates keys of this spec (what definitions may ask
 * for): RSA 2048, 3072 or 4096; ECDSA P-256 or P-384; Ed25519.
 * CC_EINVALID naming the bad part.
 */
int cc_key_spec_check(const cc_key_spec *spec);
/* "rsa:2048", "ecdsa:P-256", "ed25519". */
void cc_key_spec_format(const cc_key_spec *spec, char *out, size_t size);
/* "rsa", "ecdsa", "ed25519" */
const char *cc_key_type_name(cc_key_type type);
/* The curve name for an ECDSA size ("P-256"), NULL for others. */
const char *cc_key_curve_name(unsigned bits);

typedef struct cc_key cc_key;

/* A new key pair.  CC_EINVALID for an unsupported spec. */
int cc_key_generate(cc_key **out, const cc_key_spec *spec);

/*
 * A key from PEM (PKCS#1, SEC1 or PKCS#8, encrypted or not) or DER bytes.
 * `passphrase` may be NULL for clear keys.  `source` names the input in
 * messages.  CC_EAUTH for a wrong passphrase, CC_EINVALID for anything
 * that is not a supported private key.
 */
int cc_key_parse(cc_key **out, const void *data, size_t len,
		 const cc_secret *passphrase, const char *source);

/*
 * Load and decrypt key `id` (or a unique prefix of at least 4 hex digits)
 * from the repository; unlocks the repository secret as needed.
 * CC_ENOTFOUND, CC_EINVALID (ambiguous prefix), CC_EAUTH.
 */
int cc_key_load(cc_key **out, cc_repo *repo, const char *id);

/*
 * Store the key in keys/<id>.pem (encrypted PKCS#8, 0600) with its
 * metadata in keys/<id>.yaml.  `origin` says where it came from
 * ("generated", "imported from 'x.pem'").  Storing a key that is already
 * there is CC_EEXISTS.
 */
int cc_key_store(cc_txn *txn, const cc_key *key, const char *origin);

/* The key's id: the first 16 hex digits of the SHA-256 of its public key
 * (SubjectPublicKeyInfo DER); borrowed. */
const char *cc_key_id(const cc_key *key);
/* The full SHA-256 fingerprint of the public key, hex; borrowed. */
const char *cc_key_fingerprint(const cc_key *key);
void cc_key_get_spec(const cc_key *key, cc_key_spec *out);

/* The public key as PEM (SubjectPublicKeyInfo). */
int cc_key_public_pem(const cc_key *key, cc_buf *out);

/*
 * The private key as PKCS#8 PEM: in clear text when `passphrase` is NULL,
 * else encrypted with AES-256-CBC under scrypt.  The caller should dispose
 * `out` with cc_buf_dispose_secure().
 */
int cc_key_export_pem(const cc_key *key, const cc_secret *passphrase, cc_buf *out);
/* The same, encrypted with PBKDF2 (HMAC-SHA256, 200,000 rounds) instead of
 * scrypt, for machines with an openssl older than 1.1. */
int cc_key_export_pem_portable(const cc_key *key, const cc_secret *passphrase, cc_buf *out);

void cc_key_free(cc_key *key);

/*
 * Keys made ahead on a second thread, for commands that issue many
 * certificates in a row (issue --batch): while one certificate is signed
 * and stored, the next one's key is generated, its public key set into a
 * blank certificate and its private key encoded, the steps that cost most
 * in OpenSSL 3.  ECDSA and Ed25519 keys only: an RSA key takes so long to
 * make that storing the previous certificate is a small share of it.
 */
typedef struct cc_key_pool cc_key_pool;

int cc_key_pool_new(cc_key_pool **out);
/*
 * A new key of `spec`: one made ahead when the previous request was for
 * the same spec, else one made now (and the pool goes on with this spec).
 * The same errors as cc_key_generate().
 */
int cc_key_pool_take(cc_key_pool *pool, cc_key **out, const cc_key_spec *spec);
/* Stop the thread; keys made ahead and not taken are freed, cleansed. */
void cc_key_pool_free(cc_key_pool *pool);

/* What keys/<id>.yaml records; readable without the secret. */
typedef struct {
	char *id;
	char *fingerprint; /* SHA-256 of the public key, hex */
	cc_key_spec spec;
	char *created;     /* RFC 3339 */
	char *origin;
} cc_key_info;

/*
 * The metadata of every stored key, sorted by id.  Free with
 * cc_key_info_list_free().
 */
int cc_key_info_list(cc_repo *repo, cc_key_info **out, size_t *count);
void cc_key_info_list_free(cc_key_info *infos, size_t count);

/*
 * Re-encrypt every key of the repository under a new repository secret, in
 * one commit: the new secret comes from $CERTCTL_NEW_PASSPHRASE_FILE or
 * $CERTCTL_NEW_PASSPHRASE, else it is random and replaces the secret file
 * (`*secret_path`, a copy, NULL for a passphrase).  Needs the current
 * secret.  The history keeps the keys as they were encrypted then.
 */
int cc_key_rotate_secret(cc_repo *repo, size_t *count, char **secret_path);

/* The metadata of one key (id or unique prefix). */
int cc_key_info_load(cc_key_info *out, cc_repo *repo, const char *id);
void cc_key_info_dispose(cc_key_info *info);

/*
 * Resolve an id prefix to the full id of a stored key; `out` gets a copy
 * the caller frees.  CC_ENOTFOUND, CC_EINVALID when ambiguous.
 */
int cc_key_resolve(char **out, cc_repo *repo, const char *prefix);

#endif
