/*
 * The built-in private CA: root and subordinate CAs (signed by another CA
 * of the repository or by an external one), certificate issuing with
 * profiles, revocation and CRLs.  Each CA lives in ca/<name>/ (its key in
 * keys/ like every other key); see certctl-repository(5).
 */
#ifndef CERTCTL_CA_H
#define CERTCTL_CA_H

#include "common.h"
#include "buf.h"
#include "util.h"
#include "cert.h"
#include "definition.h"
#include "key.h"
#include "repo.h"
#include "txn.h"

typedef struct {
	unsigned version;
	cc_subject subject;      /* cn defaults to the CA's name */
	cc_key_spec key;         /* type 0: ecdsa:P-384 */
	long long validity;      /* 0: 10 years for a root, 5 for a subordinate */
	int path_len;            /* -1: no limit */
	cc_strlist permit_dns, exclude_dns; /* name constraints */
	cc_strlist permit_ip, exclude_ip;   /* CIDR ranges */
	const char *parent;      /* a CA of this repository signs it */
	int external;            /* an external CA signs it: make a CSR */
	cc_strlist crl_urls, ocsp_urls, issuer_urls, policies; /* put in what it issues */
	long long max_validity;  /* cap for what it issues; 0: 398 days */
} cc_ca_options;

#define CC_CA_OPTIONS_VERSION 1

/* Initialise options (everything empty, path_len -1). */
void cc_ca_options_init(cc_ca_options *opts);
void cc_ca_options_dispose(cc_ca_options *opts);

typedef struct cc_ca cc_ca;

/*
 * Create CA `name`: a self-signed root, or signed by `opts->parent`, or
 * (external) a key and a CSR awaiting cc_ca_install().  The CSR (PEM) goes
 * to `csr_out` when given.  The first CA of a repository is the default.
 * CC_EEXISTS, CC_ENOTFOUND (parent), CC_EINVALID (what the parent may not
 * sign: path length, name constraints, validity).
 */
int cc_ca_create(cc_txn *txn, const char *name, const cc_ca_options *opts, cc_buf *csr_out);

/*
 * Install the certificate an external CA issued for pending CA `name`,
 * with the chain above it (PEM, DER or PKCS#7 each).  The certificate must
 * match the CA's key, be a CA certificate and chain up to a self-signed
 * root through `chain`.
 */
int cc_ca_install(cc_txn *txn, const char *name, const void *cert, size_t cert_len,
		  const void *chain, size_t chain_len, const char *source);

/*
 * Import an existing CA: its certificate (with any chain above it) and its
 * private key (`key`, or the key inside a PKCS#12 given as `cert`).
 */
int cc_ca_import(cc_txn *txn, const char *name, const void *cert, size_t cert_len,
		 const void *key, size_t key_len, const cc_secret *passphrase,
		 const char *source);

/* Load CA `name`, or the default CA when `name` is NULL.  CC_ENOTFOUND. */
int cc_ca_load(cc_ca **out, cc_repo *repo, const char *name);
void cc_ca_free(cc_ca *ca);

const char *cc_ca_name(const cc_ca *ca);
/* The CA's certificate; NULL while it awaits an external signature. */
const cc_cert *cc_ca_cert(const cc_ca *ca);
/* The certificates above the CA, nearest first (root last). */
size_t cc_ca_chain(const cc_ca *ca, cc_cert *const **chain);
int cc_ca_is_default(const cc_ca *ca);
/* "root", "subordinate of NAME", "subordinate of an external CA" */
const char *cc_ca_parent(const cc_ca *ca);
const char *cc_ca_key_id(const cc_ca *ca);
/* "active" or "pending" (awaiting the external CA's certificate). */
const char *cc_ca_status(const cc_ca *ca);

/* The names of every CA, sorted. */
int cc_ca_names(cc_repo *repo, cc_strlist *out);

/* Make `name` the default CA. */
int cc_ca_set_default(cc_txn *txn, const char *name);

typedef struct {
	unsigned version;
	int reuse_key;         /* keep the current certificate's key */
	const char *key_id;    /* use this stored key */
	long long validity;    /* 0: the definition's */
	int profile;           /* -1: the definition's; else a cc_profile */
	int self_signed;       /* no CA: a self-signed certificate */
	cc_key_pool *key_pool; /* new keys from here; NULL: made in line */
} cc_issue_options;

#define CC_ISSUE_OPTIONS_VERSION 2
#define CC_ISSUE_OPTIONS_INIT { CC_ISSUE_OPTIONS_VERSION, 0, NULL, 0, -1, 0, NULL }

/*
 * Issue definition `def`'s certificate from `ca` (NULL with self_signed):
 * a new key (stored encrypted) or the one asked for, an RFC 5280
 * certificate of the definition's subject, names and profile, stored as
 * the definition's current certificate and recorded in the CA's index.
 * `out` (optional) gets the certificate and `key_out` (optional) the key.
 * Refuses what the CA may not sign (names outside its constraints, a
 * validity past its own, an expired CA) with CC_EINVALID.
 */
int cc_issue(cc_txn *txn, cc_ca *ca, const cc_definition *def, const cc_issue_options *opts,
	     cc_cert **out, cc_key **key_out);

/* Revocation reasons (RFC 5280 CRLReason). */
int cc_revocation_reason_parse(int *out, const char *text);
const char *cc_revocation_reason_name(int reason);

/*
 * A serial number as certctl writes it: upper-case hex without separators
 * or leading zero bytes ("58:fa:3a" -> "58FA3A").  CC_EINVALID.
 */
int cc_serial_normalize(char *out, size_t size, const char *serial);

/*
 * Revoke the certificate with serial `serial` (hex) issued by `ca`.
 * CC_ENOTFOUND when the CA did not issue it, CC_EEXISTS when revoked.
 */
int cc_ca_revoke(cc_txn *txn, cc_ca *ca, const char *serial, int reason);

/*
 * Make a new signed CRL of `ca` (number, this and next update, every
 * revoked certificate), store it as ca/<name>/crl.pem and give its PEM.
 */
int cc_ca_crl(cc_txn *txn, cc_ca *ca, cc_buf *pem_out);

/* One line of a CA's index of issued certificates. */
typedef struct {
	char *serial, *subject, *definition, *not_before, *not_after, *status;
	char *revoked_at, *reason, *cert_id;
} cc_ca_record;

int cc_ca_records(cc_ca *ca, cc_repo *repo, cc_ca_record **out, size_t *count);
void cc_ca_records_free(cc_ca_record *records, size_t count);

/*
 * A PKCS#12 file of `key`, `cert` and `chain` under `password` (AES-256,
 * PBKDF2, SHA-256 MAC), with `alias` as its friendly name.
 */
int cc_pkcs12_build(cc_buf *out, const cc_key *key, const cc_cert *cert, cc_cert *const *chain,
		    size_t chain_len, const cc_secret *password, const char *alias);

#endif
