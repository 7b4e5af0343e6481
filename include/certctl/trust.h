/*
 * Trusted CA sets and chain verification.  A set is a bundle file outside
 * the repository (the system's CA bundle unless trust_sets.NAME.bundle
 * says otherwise) plus CAs stored in trust/<set>/<id>.pem; the
 * repository's own CAs are trusted in every set.
 */
#ifndef CERTCTL_TRUST_H
#define CERTCTL_TRUST_H

#include "common.h"
#include "util.h"
#include "repo.h"
#include "txn.h"
#include "cert.h"

/* The bundle file of `set` (borrowed; NULL: none). */
const char *cc_trust_bundle(const cc_repo *repo, const char *set);
/* Ids of the CAs stored in trust set `set`, sorted, appended to `out`. */
int cc_trust_list(cc_repo *repo, const char *set, cc_strlist *out);
/* Store CA certificate `cert` in `set`; CC_EEXISTS when it is there. */
int cc_trust_add(cc_txn *txn, const char *set, const cc_cert *cert);
/* Remove certificate `id` from `set`; CC_ENOTFOUND when it is not there. */
int cc_trust_remove(cc_txn *txn, const char *set, const char *id);

typedef struct {
	int verified;
	cc_cert **chain;       /* the intermediates to serve, nearest first */
	size_t chain_len;
	size_t fetched;        /* certificates fetched from AIA URLs */
	char *error;           /* OpenSSL's reason when not verified */
	char *missing_for;     /* the certificate whose issuer is missing */
	char *missing_issuer;  /* that issuer's name */
	char *aia_url;         /* the CA issuers URL tried, if any */
	char *aia_error;       /* why fetching it failed */
} cc_verify_result;

/*
 * Verify `leaf` with the `given` certificates (any order, extras allowed)
 * against trust set `set` (NULL: "default") at time `at` (0: now),
 * fetching missing issuers from CA issuers URLs (AIA, bounded).  0 when it
 * verifies (result->chain is what to serve); CC_EINVALID with a message
 * naming what is missing or wrong otherwise; `result` is filled either way.
 */
int cc_verify_chain(cc_repo *repo, const char *set, const cc_cert *leaf, cc_cert *const *given,
		    size_t ngiven, time_t at, cc_verify_result *result);
void cc_verify_result_dispose(cc_verify_result *result);

#endif
