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
/*
 * Store CA certificate `cert` in `set`; CC_EEXISTS when it is there.  With
 * `anchor`, a CA that is not a root is a trust anchor of the set (paths end
 * at it, trusted as it is: RFC 5280 6.1); otherwise it only helps to build
 * paths up to a root the set trusts.
 */
int cc_trust_add(cc_txn *txn, const char *set, const cc_cert *cert, int anchor);
/* Ids of the CAs of `set` that are anchors though not roots, appended to `out`. */
int cc_trust_anchors(cc_repo *repo, const char *set, cc_strlist *out);
/* Remove certificate `id` from `set`; CC_ENOTFOUND when it is not there. */
int cc_trust_remove(cc_txn *txn, const char *set, const char *id);

/* A set as recorded (trust/<set>/set.yaml) and as its bundle is now. */
typedef struct {
	char *set;
	int is_default;
	int has_record;          /* created or merged by certctl */
	char *bundle;            /* the bundle file; "" for none */
	char *recorded_sha256;   /* of the bundle when last merged */
	char *current_sha256;    /* of the bundle now (NULL: unreadable) */
	int bundle_changed;      /* both known and different: merge again */
	char *merged;            /* when */
	cc_strlist fingerprints; /* the bundle's CAs when last merged */
	cc_strlist user_cas;     /* ids of the CAs stored in the repository */
} cc_trust_info;

int cc_trust_info_load(cc_repo *repo, const char *set, cc_trust_info *info);
void cc_trust_info_dispose(cc_trust_info *info);
/* The default set's name into `out` (trust/default, else the configuration's
 * defaults.trust_set, else "default"); returns `out`. */
const char *cc_trust_default(cc_repo *repo, char out[129]);
/* Every set: those in trust/ and the default. */
int cc_trust_sets(cc_repo *repo, cc_strlist *out);
/* A new set with `bundle` (NULL: the system's; "": none) recorded; CC_EEXISTS. */
int cc_trust_create(cc_txn *txn, const char *set, const char *bundle, size_t *count);
/* Record the set's bundle (or `bundle`, to change it) as it is now; the
 * subjects of CAs added and the fingerprints of those removed since the
 * last record go to `added` / `removed`. */
int cc_trust_merge(cc_txn *txn, const char *set, const char *bundle, cc_strlist *added,
		   cc_strlist *removed, size_t *count);
int cc_trust_set_default(cc_txn *txn, const char *set);
/* Remove a set (its record and CAs); not the default, not one in use. */
int cc_trust_delete(cc_txn *txn, const char *set);

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
