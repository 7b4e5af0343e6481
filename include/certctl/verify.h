/*
 * The verifier: one answer to "is this chain good?" for every command.
 *
 * It builds the path from the leaf through what the server sent or the
 * file held (any order; extras reported), the repository's CAs and the
 * trust set, fetching a missing issuer from its CA issuers URL; validates
 * it with OpenSSL's RFC 5280 path validation (strict under web PKI);
 * checks revocation against the CRLs it has; and, under the web-PKI
 * policy, applies the rules browsers and the CA/Browser Forum add (names
 * from SAN only, wildcards, serverAuth, key sizes and algorithms,
 * AKI/SKI).  Every verdict is a finding with a stable rule id
 * (certctl-verify(1)).
 */
#ifndef CERTCTL_VERIFY_H
#define CERTCTL_VERIFY_H

#include <time.h>
#include "common.h"
#include "util.h"
#include "repo.h"
#include "cert.h"
#include "check.h"

typedef enum {
	CC_POLICY_WEBPKI = 0, /* RFC 5280 and the web-PKI rules */
	CC_POLICY_RFC5280,    /* RFC 5280 path validation alone (private PKIs) */
} cc_verify_policy;

/* "webpki" / "rfc5280"; CC_EINVALID for anything else. */
int cc_verify_policy_parse(cc_verify_policy *out, const char *text);
const char *cc_verify_policy_name(cc_verify_policy policy);

typedef enum {
	CC_REVOCATION_SOFT = 0, /* status unknown: WARNING */
	CC_REVOCATION_HARD,     /* status unknown: CRITICAL */
	CC_REVOCATION_OFF,      /* no revocation checking */
} cc_revocation_mode;

typedef struct {
	unsigned version;
	cc_verify_policy policy;
	cc_revocation_mode revocation;
	const char *trust_set;      /* with a repository; NULL: the default set */
	cc_cert *const *anchors;    /* trust only these (and no trust set) when given */
	size_t nanchors;
	cc_cert *const *untrusted;  /* what came with the leaf, any order */
	size_t nuntrusted;
	const char *const *crl_files; /* CRLs to use (PEM or DER files) */
	size_t ncrl_files;
	const char *host;           /* the name or address the leaf must be for; NULL: none */
	time_t at;                  /* 0: now */
	long long warning, critical; /* expiry thresholds, seconds; 0: 30 / 7 days */
	int no_fetch;               /* never fetch an intermediate from its AIA URL */
	const cc_strlist *allowed;  /* rule ids excepted (a definition's allow list) */
	const unsigned char *ocsp_stapled; /* the leaf's OCSP response a server sent */
	size_t ocsp_stapled_len;
	/* RFC 5280 6.1.1: user-initial-policy-set (OIDs; none: any-policy)
	 * and initial-explicit-policy. */
	const char *const *policies;
	size_t npolicies;
	int explicit_policy;
} cc_verify_options;

#define CC_VERIFY_OPTIONS_VERSION 1
#define CC_VERIFY_OPTIONS_INIT \
	{ CC_VERIFY_OPTIONS_VERSION, CC_POLICY_WEBPKI, CC_REVOCATION_SOFT, NULL, NULL, 0, NULL, 0, \
	  NULL, 0, NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, 0 }

/* One verdict: as in a check (rule id, status, message), with where. */
typedef struct {
	char *rule;
	cc_status status;      /* OK for an allowed rule, with `allowed` set */
	int depth;             /* 0 the leaf, 1 its issuer, ...; -1 the whole path */
	int allowed;           /* excepted by the options' allow list */
	char *message;
} cc_verify_finding;

typedef struct {
	int verified;           /* a path to a trust anchor passed every rule */
	int path_valid;         /* RFC 5280 validation passed (web-PKI rules aside) */
	cc_status status;       /* the worst finding */
	cc_cert **path;         /* leaf first, anchor last (when verified) */
	size_t path_len;
	size_t fetched;         /* certificates fetched from AIA URLs */
	char *fetched_from;     /* the last CA issuers URL they came from, or NULL */
	cc_verify_finding *findings;
	size_t nfindings;
} cc_verify_report;

/*
 * Verify `leaf`.  `repo` may be NULL (then the system's CA bundle, or the
 * anchors, are trusted).  0 with the report filled whatever the verdict;
 * < 0 only when verification could not run (a CRL file unreadable, out of
 * memory).
 */
int cc_verify(cc_repo *repo, const cc_cert *leaf, const cc_verify_options *opts,
	      cc_verify_report *report);
void cc_verify_report_dispose(cc_verify_report *report);

/*
 * The policy and revocation mode trust set `set` (NULL: the default set)
 * asks for in the configuration (trust_sets.SET.policy: webpki|rfc5280,
 * .revocation: soft|hard|off), into `opts`; what it leaves out is left as
 * it was.
 * CC_EINVALID naming the key for a bad value.
 */
int cc_verify_set_policy(cc_repo *repo, const char *set, cc_verify_options *opts);

/* Whether `rule` is a rule id a definition may allow (known, and not a
 * revocation, a bad signature or an untrusted path). */
int cc_verify_rule_allowable(const char *rule);

/* The report as JSON (certctl-json(7) "verify"). */
cc_json *cc_verify_report_to_json(const cc_verify_report *report);

#endif
