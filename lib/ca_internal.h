/*
 * What the CA modules (ca.c, issue.c, crl.c) share; not installed.
 */
#ifndef CERTCTL_CA_INTERNAL_H
#define CERTCTL_CA_INTERNAL_H

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include "internal.h"

/* Verification material for certificates below a CA (ca.c). */
typedef struct {
	X509_STORE *store;
	STACK_OF(X509) *untrusted;
} cc_verify_ctx;

void cc_verify_ctx_dispose(cc_verify_ctx *v);

struct cc_ca {
	cc_repo *repo;
	char *name, *status, *parent, *key_id, *created;
	int is_default;
	long long max_validity, crl_validity;
	unsigned long crl_number;
	cc_strlist crl_urls, ocsp_urls, issuer_urls, policies;
	cc_cert *cert;     /* NULL while pending */
	cc_cert **chain;   /* above the CA, nearest first */
	size_t nchain;
	cc_key *key;       /* loaded on first use */
	cc_verify_ctx verify; /* for what it issues, built on first use */
	int signatures_proven; /* a certificate it issued verified in full */
};

const EVP_MD *cc_ca_digest(EVP_PKEY *pkey);
/* ca/NAME/issued/AB/SERIAL.yaml: where the index keeps `serial` (fan-out). */
int cc_ca_record_path(cc_buf *rel, const cc_ca *ca, const char *serial);
int cc_ca_random_serial(ASN1_INTEGER **out);
int cc_ca_subject_name(X509_NAME **out, const cc_subject *subject);
/* The key for a new certificate of `def`: the one `opts` or the definition
 * asks for, the current certificate's (reuse), or a new one (`is_new`). */
int cc_issue_key(cc_key **out, int *is_new, cc_txn *txn, const cc_definition *def,
		 const cc_issue_options *opts);
/* The subject alternative names of `def`; `critical` when its subject is empty. */
int cc_definition_general_names(GENERAL_NAMES **out, const cc_definition *def, int *critical);
/*
 * A new v3 certificate for `key` named `subject`, issued by `issuer` (NULL:
 * itself), with a random serial and a validity from a minute ago.
 */
int cc_ca_new_x509(X509 **out, X509_NAME *subject, const cc_cert *issuer, cc_key *key,
		   long long validity);
int cc_ca_add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value);
int cc_ca_relpath(cc_buf *out, const char *name, const char *file);
int cc_ca_write_record(cc_txn *txn, const cc_ca *ca);
int cc_ca_key(cc_ca *ca, cc_key **out);
int cc_ca_verify(const cc_cert *cert, const cc_cert *issuer, cc_cert *const *chain, size_t nchain,
		 const char *what);
int cc_ca_check_options(const cc_ca_options *opts);
/* cc_ca_verify() for what `ca` issued, with a store kept for the CA's life. */
int cc_ca_verify_issued(cc_ca *ca, const cc_cert *cert, const char *what);
/* Write one record of the CA's index (ca/<name>/issued/<serial>.yaml). */
int cc_ca_index_write(cc_txn *txn, const cc_ca *ca, const cc_ca_record *record);
/* Add the issued certificate to the CA's index (ca/<name>/issued/<serial>.yaml). */
int cc_ca_index_add(cc_txn *txn, const cc_ca *ca, const cc_cert *cert, const char *issued_to);
/* The CA's own extensions for what it issues: CRL, AIA, policies. */
int cc_ca_issuing_extensions(const cc_ca *ca, X509 *cert, X509V3_CTX *ctx);

#endif
