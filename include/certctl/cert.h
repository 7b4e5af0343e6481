/*
 * X.509 certificates: parsing every container format (PEM, DER, PKCS#7),
 * their identity (fingerprints, id), the fields operators read, and the
 * store of a definition's certificates in certs/<definition>/.
 */
#ifndef CERTCTL_CERT_H
#define CERTCTL_CERT_H

#include <time.h>
#include "common.h"
#include "buf.h"
#include "key.h"
#include "repo.h"
#include "txn.h"
#include "json.h"

typedef struct cc_cert cc_cert;

/*
 * Every certificate in `data`: PEM (one or many), DER, or PKCS#7 (P7B, PEM
 * or DER).  `source` names the input in messages.  The caller frees the
 * array with cc_cert_list_free().  CC_EINVALID when there is none.
 */
int cc_cert_parse_all(cc_cert ***out, size_t *count, const void *data, size_t len,
		      const char *source);
void cc_cert_list_free(cc_cert **certs, size_t count);

/* Exactly one certificate; CC_EINVALID for none or several. */
int cc_cert_parse(cc_cert **out, const void *data, size_t len, const char *source);

/* A new reference to the same certificate. */
cc_cert *cc_cert_dup(const cc_cert *cert);
void cc_cert_free(cc_cert *cert);

int cc_cert_pem(const cc_cert *cert, cc_buf *out);
int cc_cert_der(const cc_cert *cert, cc_buf *out);

/* SHA-256 and SHA-1 fingerprints of the DER, lower-case hex; borrowed. */
const char *cc_cert_sha256(const cc_cert *cert);
const char *cc_cert_sha1(const cc_cert *cert);
/* The id: the first 16 hex digits of the SHA-256 fingerprint; borrowed. */
const char *cc_cert_id(const cc_cert *cert);
/* The serial number in hex, upper case, no separators; borrowed. */
const char *cc_cert_serial(const cc_cert *cert);
/* Subject and issuer, RFC 2253 one-line form ("CN=x,O=y"); borrowed. */
const char *cc_cert_subject(const cc_cert *cert);
const char *cc_cert_issuer(const cc_cert *cert);
/* The subject's common name, or NULL; borrowed. */
const char *cc_cert_cn(const cc_cert *cert);
time_t cc_cert_not_before(const cc_cert *cert);
time_t cc_cert_not_after(const cc_cert *cert);
int cc_cert_is_ca(const cc_cert *cert);
int cc_cert_is_self_signed(const cc_cert *cert);
/* The SHA-256 of the public key (SubjectPublicKeyInfo), as keys have it. */
const char *cc_cert_key_fingerprint(const cc_cert *cert);
/* The subject alternative names as "DNS:x", "IP:y", "email:z", "URI:u". */
int cc_cert_sans(const cc_cert *cert, cc_strlist *out);
/* The public key's type and size. */
void cc_cert_key_spec(const cc_cert *cert, cc_key_spec *out);

/* Whether `key` is the certificate's key pair. */
int cc_cert_matches_key(const cc_cert *cert, const cc_key *key);

/* Whether `issuer` signed `cert` (names and signature). */
int cc_cert_issued_by(const cc_cert *cert, const cc_cert *issuer);

/* RFC 3339 UTC of a time ("2026-11-23T22:08:00Z"). */
void cc_time_rfc3339(time_t t, char out[32]);

/* The certificate as a JSON object (certctl-json(7) "certificate"). */
cc_json *cc_cert_to_json(const cc_cert *cert);

/*
 * The certificate store of a definition: certs/<def>/<id>/{cert.pem,
 * chain.pem, cert.yaml} and certs/<def>/current naming the current one.
 */
typedef struct {
	const char *source;   /* "builtin:CA", "self-signed", "manual", "import" */
	const char *key_id;   /* the stored key, or NULL */
	const char *request;  /* the acquisition request id, or NULL */
} cc_cert_store_info;

/*
 * Store `cert` with its `chain` (issuers, leaf excluded, nearest first) for
 * definition `def_name`; `make_current` switches certs/<def>/current to it.
 * Storing the same certificate again is CC_EEXISTS.
 */
int cc_cert_store(cc_txn *txn, const char *def_name, const cc_cert *cert, cc_cert *const *chain,
		  size_t chain_len, const cc_cert_store_info *info, int make_current);

/*
 * The current certificate of `def_name` and its chain (caller frees both;
 * `chain`/`chain_len` may be NULL).  CC_ENOTFOUND when there is none.
 */
int cc_cert_current(cc_cert **out, cc_cert ***chain, size_t *chain_len, cc_repo *repo,
		    const char *def_name);

/* Stored certificate `id` of `def_name` and its chain, as cc_cert_current(). */
int cc_cert_load(cc_cert **out, cc_cert ***chain, size_t *chain_len, cc_repo *repo,
		 const char *def_name, const char *id);

/* The id of the current certificate (a copy to free), or CC_ENOTFOUND. */
int cc_cert_current_id(char **out, cc_repo *repo, const char *def_name);

/* The key id recorded for certificate `id` of `def_name` (a copy), or NULL. */
int cc_cert_key_id(char **out, cc_repo *repo, const char *def_name, const char *id);

#endif
