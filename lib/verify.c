/*
 * The verifier (include/certctl/verify.h).  OpenSSL builds and validates
 * the path (RFC 5280, strict under web PKI, CRLs); a verification
 * callback keeps every error it reports instead of stopping at the first,
 * so the report names each problem with its rule id.  The web-PKI rules
 * OpenSSL leaves out are applied here to the path it built.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <libpsl.h>
#include "internal.h"
#include "certctl/verify.h"

#define MAX_DEPTH 8        /* longest path built: leaf, 6 CAs, anchor */
#define AIA_ROUNDS 4       /* missing issuers fetched, one level each */
#define CRL_MAX (8 << 20)  /* bigger CRLs are refused */
#define AIA_MAX (256 << 10) /* bigger issuer files are refused */
#define MAX_ROUNDS 8       /* verifications of one leaf, fetching between them */
#define MAX_CANDIDATES 32  /* certificates given that path building considers */
#define MAX_EXTRA_NAMED 8  /* unneeded certificates named one by one */
#define MAX_ALTERNATIVES 8 /* other paths tried when one reaches no anchor */

int cc_verify_policy_parse(cc_verify_policy *out, const char *text)
{
	if (text && !strcmp(text, "webpki"))
		*out = CC_POLICY_WEBPKI;
	else if (text && !strcmp(text, "rfc5280"))
		*out = CC_POLICY_RFC5280;
	else
		return cc_error_set(CC_EINVALID, "unknown policy '%s' (webpki or rfc5280)",
				    text ? text : "");
	return 0;
}

/* Every rule id a finding can have (certctl-verify(1) RULES). */
static const char *const rule_ids[] = {
	"chain.trusted", "chain.untrusted", "chain.missing-intermediate", "chain.extra",
	"chain.order", "chain.too-long", "chain.invalid", "signature.invalid",
	"validity.expired", "validity.not-yet-valid", "validity.malformed", "validity.critical",
	"validity.warning", "validity.ok", "ca.basic-constraints", "ca.path-length",
	"ca.key-usage", "name.constraints", "extension.unknown-critical",
	"extension.aki-missing", "extension.ski-missing", "extension.malformed",
	"policy.invalid", "revocation.revoked", "revocation.unavailable", "revocation.unchecked",
	"revocation.good",
	"revocation.crl-invalid", "revocation.crl-expired", "name.mismatch", "name.cn-only",
	"name.wildcard-position", "name.wildcard-public-suffix", "eku.missing-serverauth",
	"eku.intermediate-no-serverauth", "key.rsa-too-small", "key.ec-too-small", "key.dsa",
	"key.curve", "signature.sha1", "signature.md5",
};

/* Failures that are never an exception: revoked, forged, or trusted by nobody. */
static int never_allowed(const char *rule)
{
	return !strcmp(rule, "revocation.revoked") || !strcmp(rule, "signature.invalid") ||
	       !strcmp(rule, "chain.untrusted");
}

int cc_verify_rule_allowable(const char *rule)
{
	for (size_t i = 0; i < sizeof(rule_ids) / sizeof(rule_ids[0]); i++)
		if (!strcmp(rule_ids[i], rule))
			return !never_allowed(rule);
	return 0;
}

int cc_verify_set_policy(cc_repo *repo, const char *set, cc_verify_options *opts)
{
	char key[200], def[129];
	const char *v;

	if (!repo)
		return 0;
	if (!set)
		set = cc_trust_default(repo, def);
	snprintf(key, sizeof(key), "trust_sets.%s.policy", set);
	if ((v = cc_repo_config_get(repo, key)) && cc_verify_policy_parse(&opts->policy, v) < 0)
		return cc_error_set(CC_EINVALID, ".certctl/config.yaml: %s: %s", key,
				    cc_error_last());
	snprintf(key, sizeof(key), "trust_sets.%s.revocation", set);
	if ((v = cc_repo_config_get(repo, key))) {
		if (!strcmp(v, "soft"))
			opts->revocation = CC_REVOCATION_SOFT;
		else if (!strcmp(v, "hard"))
			opts->revocation = CC_REVOCATION_HARD;
		else if (!strcmp(v, "off"))
			opts->revocation = CC_REVOCATION_OFF;
		else
			return cc_error_set(CC_EINVALID, ".certctl/config.yaml: %s: '%s' is not "
					    "soft, hard or off", key, v);
	}
	return 0;
}

const char *cc_verify_policy_name(cc_verify_policy policy)
{
	return policy == CC_POLICY_RFC5280 ? "rfc5280" : "webpki";
}

/* --- findings -------------------------------------------------------------- */

typedef struct {
	const cc_verify_options *opts;
	cc_verify_report *report;
	STACK_OF(X509_CRL) *crls;  /* every CRL at hand */
	cc_strlist crl_tried;      /* distribution points fetched this run */
	cc_strlist crl_failed;     /* "URL: why" of those that failed */
	char trusted[160];         /* what is trusted, for messages: "trust set 'default'" */
	int incomplete;            /* an issuer is missing (chain.untrusted) */
	int path_errors;           /* CRITICAL findings of OpenSSL's validation */
	unsigned crl_missing;      /* depths whose CRL could not be had */
	cc_repo *repo;             /* its cache of fetched CRLs and intermediates, or NULL */
	time_t now;                /* the time verified at */
	X509_STORE_CTX *ctx;       /* of the verification under way (store lookups) */
	int oom;
} verify_run;

static void add(verify_run *run, const char *rule, cc_status status, int depth,
		const char *fmt, ...) CC_PRINTF(5, 6);

static void add(verify_run *run, const char *rule, cc_status status, int depth,
		const char *fmt, ...)
{
	cc_verify_report *r = run->report;
	cc_verify_finding *f;
	char message[1024];
	va_list ap;

	/* One finding per rule and position: OpenSSL may say it twice. */
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].depth == depth && !strcmp(r->findings[i].rule, rule))
			return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (!(f = realloc(r->findings, (r->nfindings + 1) * sizeof(*f)))) {
		run->oom = 1;
		return;
	}
	r->findings = f;
	f = &r->findings[r->nfindings];
	memset(f, 0, sizeof(*f));
	f->rule = strdup(rule);
	f->message = strdup(message);
	f->status = status;
	f->depth = depth;
	if (!f->rule || !f->message) {
		free(f->rule);
		free(f->message);
		run->oom = 1;
		return;
	}
	r->nfindings++;
}

static void findings_clear(cc_verify_report *r)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		free(r->findings[i].rule);
		free(r->findings[i].message);
	}
	free(r->findings);
	r->findings = NULL;
	r->nfindings = 0;
}

/*
 * Whether CA certificate `x` is a cross-signed root: not self-signed, but
 * with the subject and key of a self-signed certificate the run knows of
 * (given with the leaf, or in the trust store).
 */
static int cross_signed_root(verify_run *run, X509 *x)
{
	const X509_NAME *subject = X509_get_subject_name(x);
	STACK_OF(X509) *same = NULL;
	EVP_PKEY *key = X509_get0_pubkey(x);
	int found = 0;

	if (!run || !key || X509_self_signed(x, 0) == 1 || !X509_NAME_cmp(subject,
								     X509_get_issuer_name(x)))
		return 0;
	for (size_t i = 0; i < run->opts->nuntrusted && !found; i++) {
		X509 *g = cc_cert_get0_x509(run->opts->untrusted[i]);

		found = !X509_NAME_cmp(X509_get_subject_name(g), subject) &&
			X509_self_signed(g, 0) == 1 && EVP_PKEY_eq(X509_get0_pubkey(g), key) == 1;
	}
	if (!found && run->ctx && (same = X509_STORE_CTX_get1_certs(run->ctx, subject)))
		for (int i = 0; i < sk_X509_num(same) && !found; i++) {
			X509 *s = sk_X509_value(same, i);

			found = X509_self_signed(s, 0) == 1 &&
				EVP_PKEY_eq(X509_get0_pubkey(s), key) == 1;
		}
	sk_X509_pop_free(same, X509_free);
	ERR_clear_error();
	return found;
}

/* What to call the certificate at `depth` of a path of `len`: "the
 * certificate", "intermediate NAME", "root NAME", "cross-signed root NAME
 * (signed by ISSUER)". */
static void who(verify_run *run, char *out, size_t size, X509 *x, int depth, int len)
{
	char *name = depth ? cc_name_text(X509_get_subject_name(x)) : NULL;

	if (depth == 0) {
		snprintf(out, size, "the certificate");
	} else if (depth == len - 1 && X509_self_signed(x, 0) == 1) {
		snprintf(out, size, "root %s", name ? name : "?");
	} else if (cross_signed_root(run, x)) {
		char *issuer = cc_name_text(X509_get_issuer_name(x));

		snprintf(out, size, "cross-signed root %s (signed by %s)", name ? name : "?",
			 issuer ? issuer : "?");
		free(issuer);
	} else {
		snprintf(out, size, "intermediate %s", name ? name : "?");
	}
	free(name);
}

/* --- OpenSSL's verdicts, by rule ----------------------------------------------- */

static const struct {
	int error;
	const char *rule;
} openssl_rules[] = {
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "chain.untrusted" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "chain.untrusted" },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "chain.untrusted" },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "chain.untrusted" },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "chain.untrusted" },
	{ X509_V_ERR_CERT_UNTRUSTED, "chain.untrusted" },
	{ X509_V_ERR_CERT_CHAIN_TOO_LONG, "chain.too-long" },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE, "signature.invalid" },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, "signature.invalid" },
	{ X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, "signature.invalid" },
	{ X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH, "signature.invalid" },
	{ X509_V_ERR_CERT_NOT_YET_VALID, "validity.not-yet-valid" },
	{ X509_V_ERR_CERT_HAS_EXPIRED, "validity.expired" },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, "validity.malformed" },
	{ X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, "validity.malformed" },
	{ X509_V_ERR_INVALID_CA, "ca.basic-constraints" },
	{ X509_V_ERR_PATH_LENGTH_EXCEEDED, "ca.path-length" },
	{ X509_V_ERR_KEYUSAGE_NO_CERTSIGN, "ca.key-usage" },
	{ X509_V_ERR_CA_BCONS_NOT_CRITICAL, "ca.basic-constraints" },
	{ X509_V_ERR_CA_CERT_MISSING_KEY_USAGE, "ca.key-usage" },
	{ X509_V_ERR_INVALID_PURPOSE, "eku.missing-serverauth" },
	{ X509_V_ERR_PERMITTED_VIOLATION, "name.constraints" },
	{ X509_V_ERR_EXCLUDED_VIOLATION, "name.constraints" },
	{ X509_V_ERR_SUBTREE_MINMAX, "name.constraints" },
	{ X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, "name.constraints" },
	{ X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX, "name.constraints" },
	{ X509_V_ERR_UNSUPPORTED_NAME_SYNTAX, "name.constraints" },
	{ X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, "extension.unknown-critical" },
	{ X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER, "extension.aki-missing" },
	{ X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER, "extension.ski-missing" },
	{ X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL, "extension.malformed" },
	{ X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL, "extension.malformed" },
	{ X509_V_ERR_EMPTY_SUBJECT_ALT_NAME, "extension.malformed" },
	{ X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL, "extension.malformed" },
	{ X509_V_ERR_ISSUER_NAME_EMPTY, "extension.malformed" },
	{ X509_V_ERR_EC_KEY_EXPLICIT_PARAMS, "key.curve" },
	{ X509_V_ERR_INVALID_EXTENSION, "extension.malformed" },
	{ X509_V_ERR_INVALID_POLICY_EXTENSION, "policy.invalid" },
	{ X509_V_ERR_NO_EXPLICIT_POLICY, "policy.invalid" },
	{ X509_V_ERR_INVALID_NON_CA, "ca.basic-constraints" },
	{ X509_V_ERR_CERT_REVOKED, "revocation.revoked" },
	{ X509_V_ERR_UNABLE_TO_GET_CRL, "revocation.unavailable" },
	{ X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, "revocation.unavailable" },
	{ X509_V_ERR_CRL_SIGNATURE_FAILURE, "revocation.crl-invalid" },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, "revocation.crl-invalid" },
	{ X509_V_ERR_CRL_NOT_YET_VALID, "revocation.crl-invalid" },
	{ X509_V_ERR_CRL_HAS_EXPIRED, "revocation.crl-expired" },
	{ X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD, "revocation.crl-invalid" },
	{ X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, "revocation.crl-invalid" },
	{ X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, "revocation.crl-invalid" },
	{ X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION, "revocation.crl-invalid" },
	{ X509_V_ERR_DIFFERENT_CRL_SCOPE, "revocation.crl-invalid" },
	{ X509_V_ERR_CRL_PATH_VALIDATION_ERROR, "revocation.crl-invalid" },
};

static const char *rule_of_error(int err)
{
	for (size_t i = 0; i < sizeof(openssl_rules) / sizeof(openssl_rules[0]); i++)
		if (openssl_rules[i].error == err)
			return openssl_rules[i].rule;
	return "chain.invalid";
}

static int crl_url(X509 *x, char *out, size_t size);

/* The run of the verification in progress, for the callback. */
static int run_index = -1;

/* CRLReason (RFC 5280 5.3.1) by value. */
static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "7", "removeFromCRL", "privilegeWithdrawn",
	"aACompromise",
};

/* The reason and date a CRL at hand gives for revoking `x`, into `out`. */
static void revocation_details(verify_run *run, X509 *x, char *out, size_t size)
{
	*out = '\0';
	for (int i = 0; i < sk_X509_CRL_num(run->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(run->crls, i);
		X509_REVOKED *rev = NULL;
		ASN1_ENUMERATED *reason;
		char when[32] = "?";
		long code = -1;
		struct tm tm;

		/* It matches the issuer too: the CRL's, or an indirect CRL's
		 * certificateIssuer entry extension (RFC 5280 5.3.3). */
		if (X509_CRL_get0_by_cert(crl, &rev, x) != 1 || !rev)
			continue;
		if (ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(rev), &tm) == 1)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
		if (reason)
			code = ASN1_ENUMERATED_get(reason);
		ASN1_ENUMERATED_free(reason);
		snprintf(out, size, " on %s, reason %s", when,
			 code >= 0 && code < (long)(sizeof(reasons) / sizeof(reasons[0]))
				 ? reasons[code] : "not given");
		return;
	}
}

/* Keep every error OpenSSL finds and go on, so that the report has all. */
static int keep_going(int ok, X509_STORE_CTX *ctx)
{
	verify_run *run = X509_STORE_CTX_get_ex_data(ctx, run_index);
	int err = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	const char *rule;
	char what[300], details[160] = "";
	cc_status status = CC_STATUS_CRITICAL;

	if (ok || !run)
		return ok;
	rule = rule_of_error(err);
	who(run, what, sizeof(what), x ? x : sk_X509_value(chain, 0), depth,
	    chain ? sk_X509_num(chain) : 1);
	if (err == X509_V_ERR_UNABLE_TO_GET_CRL) {
		/* A trust anchor is trusted as it is (RFC 5280 6.1): a root, or
		 * an anchor declared (from the store, at the top). */
		if (x && chain && depth == sk_X509_num(chain) - 1 &&
		    (X509_self_signed(x, 0) == 1 || depth >= X509_STORE_CTX_get_num_untrusted(ctx)))
			return 1;
		/* No CRL: OCSP may know; decided once the path is known. */
		if (depth >= 0 && depth < MAX_DEPTH + 1)
			run->crl_missing |= 1u << depth;
		return 1;
	}
	if ((err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	     err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	     err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) && x) {
		char *subject = cc_name_text(X509_get_subject_name(x));
		char *issuer = cc_name_text(X509_get_issuer_name(x));

		/* What is missing, by name: the fix an operator needs. */
		add(run, rule, status, depth, "the chain is incomplete: the issuer of '%s' ('%s') "
		    "is neither sent nor in %s", subject ? subject : "?", issuer ? issuer : "?",
		    run->trusted);
		free(subject);
		free(issuer);
		run->incomplete = 1;
		return 1;
	}
	if (!strcmp(rule, "chain.untrusted")) {
		add(run, rule, status, depth, "does not verify against %s: %s", run->trusted,
		    X509_verify_cert_error_string(err));
		return 1;
	}
	if (err == X509_V_ERR_CERT_REVOKED && x)
		revocation_details(run, x, details, sizeof(details));
	/* A CRL past its nextUpdate leaves the status unknown: soft or hard fail. */
	if (err == X509_V_ERR_CRL_HAS_EXPIRED && run->opts->revocation == CC_REVOCATION_SOFT)
		status = CC_STATUS_WARNING;
	if (err == X509_V_ERR_CERT_HAS_EXPIRED && x) {
		char when[32];

		cc_time_rfc3339(cc_asn1_time(X509_get0_notAfter(x)), when);
		snprintf(details, sizeof(details), " (%s)", when);
	}
	add(run, rule, status, depth, "%s: %s%s", what, X509_verify_cert_error_string(err),
	    details);
	return 1;
}

/* --- the cache of what was fetched ------------------------------------------------ */

/*
 * CRLs, intermediates and OCSP responses fetched from their URLs are kept
 * in the repository, unversioned (.git/certctl/cache/KIND/SHA-256 of the
 * URL, and for OCSP of the certificate asked about too), for every command
 * that verifies: a CRL or an OCSP response until its nextUpdate, an
 * intermediate while it is valid.  A broken or stale entry is fetched
 * again; nothing is lost if the cache goes.
 */
static int cache_path(cc_buf *out, cc_repo *repo, const char *kind, const char *url)
{
	unsigned char md[32];
	char hex[65];

	SHA256((const unsigned char *)url, strlen(url), md);
	cc_hex(hex, md, sizeof(md));
	return cc_buf_printf(out, "%s/cache/%s/%s", cc_repo_statedir(repo), kind, hex);
}

static int cache_read(cc_repo *repo, const char *kind, const char *url, size_t max, cc_buf *data)
{
	cc_buf path = CC_BUF_INIT;
	int rc = -1;

	if (repo && cache_path(&path, repo, kind, url) == 0)
		rc = cc_fs_read(data, path.ptr, max);
	cc_error_clear();
	cc_buf_dispose(&path);
	return rc;
}

static void cache_write(cc_repo *repo, const char *kind, const char *url, const void *data,
			size_t len)
{
	cc_buf path = CC_BUF_INIT;

	if (repo && cache_path(&path, repo, kind, url) == 0 &&
	    cc_fs_mkdir_parents(path.ptr, 0755) == 0)
		cc_fs_write_atomic(path.ptr, data, len, 0644);
	cc_error_clear();
	cc_buf_dispose(&path);
}

/* --- CRLs -------------------------------------------------------------------- */

/* Every CRL in `data` (PEM, one or more, or DER) onto `crls`; *n counts them. */
static int crl_parse_into(STACK_OF(X509_CRL) *crls, const void *data, size_t len, int *n)
{
	BIO *bio;
	X509_CRL *crl;

	*n = 0;
	if (len > CRL_MAX || !(bio = BIO_new_mem_buf(data, (int)len)))
		return cc_error_set(CC_EINVALID, "CRL too large");
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL))) {
		if (!sk_X509_CRL_push(crls, crl)) {
			X509_CRL_free(crl);
			break;
		}
		(*n)++;
	}
	BIO_free(bio);
	if (!*n) {
		const unsigned char *p = data;

		if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) && sk_X509_CRL_push(crls, crl))
			(*n)++;
		else
			X509_CRL_free(crl);
	}
	ERR_clear_error();
	return 0;
}

static int crl_add_file(verify_run *run, const char *path)
{
	cc_buf data = CC_BUF_INIT;
	int rc, n = 0;

	if ((rc = cc_fs_read(&data, path, CRL_MAX)) < 0) {
		cc_buf_dispose(&data);
		return rc;
	}
	rc = crl_parse_into(run->crls, data.ptr, data.size, &n);
	cc_buf_dispose(&data);
	if (rc < 0 || n == 0)
		return cc_error_set(CC_EINVALID, "%s: not a CRL (PEM or DER)", path);
	return 0;
}

/* The CRLs of the repository's CAs (ca/NAME/crl.pem). */
static void crl_add_repository(verify_run *run, cc_repo *repo)
{
	cc_strlist names = CC_STRLIST_INIT;

	if (!repo || cc_ca_names(repo, &names) < 0) {
		cc_error_clear();
		return;
	}
	for (size_t i = 0; i < names.count; i++) {
		cc_buf rel = CC_BUF_INIT, data = CC_BUF_INIT;
		int n = 0;

		if (cc_buf_printf(&rel, "ca/%s/crl.pem", names.items[i]) == 0 &&
		    cc_repo_read(repo, rel.ptr, &data) == 0)
			crl_parse_into(run->crls, data.ptr, data.size, &n);
		cc_error_clear();
		cc_buf_dispose(&rel);
		cc_buf_dispose(&data);
	}
	cc_strlist_dispose(&names);
}

/* The first http(s) distribution point URL of `x` into `out`; 0 if none. */
static int crl_url(X509 *x, char *out, size_t size)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	int found = 0;

	for (int k = 0; k < sk_DIST_POINT_num(dps) && !found; k++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, k);

		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && !found;
		     j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			int len;

			if (gn->type != GEN_URI)
				continue;
			len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
			if (len <= 0 || (size_t)len >= size)
				continue;
			snprintf(out, size, "%.*s", len,
				 (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier));
			found = !strncmp(out, "http://", 7) || !strncmp(out, "https://", 8);
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return found;
}

/* The CRLs of `url` from the cache onto the run's, when none is past its
 * nextUpdate. */
static int crl_cached(verify_run *run, const char *url)
{
	STACK_OF(X509_CRL) *got = sk_X509_CRL_new_null();
	cc_buf data = CC_BUF_INIT;
	int n = 0, fresh = 0;

	if (got && cache_read(run->repo, "crl", url, CRL_MAX, &data) == 0 &&
	    crl_parse_into(got, data.ptr, data.size, &n) == 0 && n) {
		fresh = 1;
		for (int i = 0; i < n; i++) {
			const ASN1_TIME *next = X509_CRL_get0_nextUpdate(sk_X509_CRL_value(got, i));

			if (!next || cc_asn1_time(next) <= run->now)
				fresh = 0;
		}
	}
	while (fresh && sk_X509_CRL_num(got))
		sk_X509_CRL_push(run->crls, sk_X509_CRL_shift(got));
	sk_X509_CRL_pop_free(got, X509_CRL_free);
	cc_buf_dispose(&data);
	return fresh;
}

/*
 * Fetch the CRLs the path's certificates name (their first http(s)
 * distribution point each), each URL once a run; the number fetched or
 * failed, so that the caller knows whether to verify again.
 */
static int crl_fetch(verify_run *run, STACK_OF(X509) *path)
{
	int tried = 0;

	for (int i = 0; i < sk_X509_num(path); i++) {
		cc_http_request req = { 0 };
		cc_http_response resp;
		char url[1024], why[1200] = "";
		int n = 0;

		if (!crl_url(sk_X509_value(path, i), url, sizeof(url)) ||
		    cc_strlist_contains(&run->crl_tried, url))
			continue;
		cc_strlist_add(&run->crl_tried, url);
		tried++;
		if (crl_cached(run, url))
			continue;
		req.url = url;
		req.allow_http = 1; /* CRLs are signed, and served over plain HTTP */
		req.follow_redirects = 1;
		req.timeout_ms = 10000;
		req.max_body = CRL_MAX;
		if (cc_http_do(&req, &resp) < 0) {
			const char *e = cc_error_last();

			/* Keep "URL: reason", the URL once. */
			if (!strncmp(e, url, strlen(url)) && !strncmp(e + strlen(url), ": ", 2))
				e += strlen(url) + 2;
			snprintf(why, sizeof(why), "%s: %s", url, e);
		} else {
			if (resp.status != 200)
				snprintf(why, sizeof(why), "%s: HTTP status %ld", url, resp.status);
			else if (crl_parse_into(run->crls, resp.body.ptr, resp.body.size, &n) < 0 ||
				 !n)
				snprintf(why, sizeof(why), "%s: not a CRL", url);
			else
				cache_write(run->repo, "crl", url, resp.body.ptr, resp.body.size);
			cc_http_response_dispose(&resp);
		}
		if (why[0])
			cc_strlist_add(&run->crl_failed, why);
		cc_error_clear();
	}
	return tried;
}

/* --- OCSP (RFC 6960) ---------------------------------------------------------- */

#define OCSP_MAX (64 << 10)  /* bigger responses are refused */
#define OCSP_LEEWAY 300      /* seconds of clock difference tolerated */

enum { OCSP_UNKNOWN = 0, OCSP_GOOD, OCSP_REVOKED };

/*
 * What a response says of `id`: its status (checked: successful, signed by
 * the issuer or a responder it delegated to, within thisUpdate/nextUpdate,
 * answering our nonce when it carries one), or OCSP_UNKNOWN with why.
 */
static int ocsp_judge(verify_run *run, X509_STORE *store, STACK_OF(X509) *path,
		      OCSP_RESPONSE *resp, OCSP_REQUEST *req, OCSP_CERTID *id, int depth,
		      const char *source, char *why, size_t whysize)
{
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int status = -1, reason = -1, answer = OCSP_UNKNOWN, rc;

	if ((rc = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, whysize, "%s: the responder says %s", source,
			 OCSP_response_status_str(rc));
		return OCSP_UNKNOWN;
	}
	if (!(bs = OCSP_response_get1_basic(resp))) {
		snprintf(why, whysize, "%s: not a basic OCSP response", source);
		goto done;
	}
	if (req && OCSP_check_nonce(req, bs) == 0) {
		snprintf(why, whysize, "%s: the response does not answer our nonce", source);
		goto done;
	}
	if (OCSP_basic_verify(bs, path, store, 0) <= 0) {
		snprintf(why, whysize, "%s: the response is not signed by the issuer or a "
			 "responder it authorized", source);
		goto done;
	}
	if (OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
		snprintf(why, whysize, "%s: the response is not about this certificate", source);
		goto done;
	}
	if (OCSP_check_validity(thisupd, nextupd, OCSP_LEEWAY, -1) != 1) {
		snprintf(why, whysize, "%s: the response is out of date", source);
		goto done;
	}
	if (status == V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, whysize, "%s", source);
		answer = OCSP_GOOD;
	} else if (status == V_OCSP_CERTSTATUS_REVOKED) {
		char when[32] = "?", what[300];
		struct tm tm;

		if (rev && ASN1_TIME_to_tm(rev, &tm) == 1)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		who(run, what, sizeof(what), sk_X509_value(path, depth), depth, sk_X509_num(path));
		add(run, "revocation.revoked", CC_STATUS_CRITICAL, depth,
		    "%s: revoked on %s, reason %s (%s)", what, when,
		    reason >= 0 && reason < (int)(sizeof(reasons) / sizeof(reasons[0]))
			    ? reasons[reason] : "not given", source);
		run->path_errors++;
		answer = OCSP_REVOKED;
	} else {
		snprintf(why, whysize, "%s: the responder does not know the certificate", source);
	}
done:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	return answer;
}

/* The nextUpdate of what `resp` says of `id`; 0 when it has none. */
static time_t ocsp_next_update(OCSP_RESPONSE *resp, OCSP_CERTID *id)
{
	OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int status = -1, reason = -1;
	time_t next = 0;
	struct tm tm;

	if (bs && OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) == 1 &&
	    nextupd && ASN1_TIME_to_tm(nextupd, &tm) == 1)
		next = timegm(&tm);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return next;
}

/* The first http(s) OCSP responder URL of `x` into `out`; 0 if none. */
static int ocsp_url(X509 *x, char *out, size_t size)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(x);
	int found = 0;

	for (int i = 0; i < sk_OPENSSL_STRING_num(urls) && !found; i++) {
		const char *u = sk_OPENSSL_STRING_value(urls, i);

		if ((!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) && strlen(u) < size) {
			snprintf(out, size, "%s", u);
			found = 1;
		}
	}
	X509_email_free(urls);
	return found;
}

/*
 * The revocation status of the certificate at `depth` by OCSP: the
 * response the server stapled (the leaf's), then the responder the
 * certificate names.  OCSP_GOOD, OCSP_REVOKED (the finding added), or
 * OCSP_UNKNOWN with why.
 */
static int ocsp_status(verify_run *run, X509_STORE *store, STACK_OF(X509) *path, int depth,
		       char *why, size_t whysize)
{
	const cc_verify_options *o = run->opts;
	X509 *x = sk_X509_value(path, depth);
	OCSP_CERTID *id = NULL;
	OCSP_REQUEST *req = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	cc_http_request hreq = { 0 };
	cc_http_response hresp;
	cc_buf key = CC_BUF_INIT, cached = CC_BUF_INIT;
	char url[1024];
	int len, answer = OCSP_UNKNOWN;

	*why = '\0';
	if (depth + 1 >= sk_X509_num(path) ||
	    !(id = OCSP_cert_to_id(NULL, x, sk_X509_value(path, depth + 1)))) {
		snprintf(why, whysize, "OCSP: no issuer to ask about");
		goto done;
	}
	if (depth == 0 && o->ocsp_stapled && o->ocsp_stapled_len) {
		p = o->ocsp_stapled;
		if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)o->ocsp_stapled_len)))
			answer = ocsp_judge(run, store, path, resp, NULL, id, depth,
					    "the stapled OCSP response", why, whysize);
		else
			snprintf(why, whysize, "the stapled OCSP response does not parse");
		OCSP_RESPONSE_free(resp);
		resp = NULL;
		if (answer != OCSP_UNKNOWN)
			goto done;
	}
	if (!ocsp_url(x, url, sizeof(url))) {
		if (!*why)
			snprintf(why, whysize, "no OCSP responder named");
		goto done;
	}
	/* The cache key: the responder and the certificate asked about. */
	if ((len = i2d_OCSP_CERTID(id, &der)) <= 0) {
		snprintf(why, whysize, "OCSP %s: cannot make the request", url);
		goto done;
	}
	cc_buf_printf(&key, "%s\n", url);
	for (int i = 0; i < len; i++)
		cc_buf_printf(&key, "%02x", der[i]);
	OPENSSL_free(der);
	der = NULL;
	/* A response from the cache, until its nextUpdate. */
	if (cache_read(run->repo, "ocsp", key.ptr, OCSP_MAX, &cached) == 0) {
		char source[1100], cwhy[1400] = "";

		p = (const unsigned char *)cached.ptr;
		snprintf(source, sizeof(source), "OCSP %s, cached", url);
		if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)cached.size)) &&
		    ocsp_next_update(resp, id) > time(NULL)) {
			int cached_answer = ocsp_judge(run, store, path, resp, NULL, id, depth, source,
						       cwhy, sizeof(cwhy));

			if (cached_answer != OCSP_UNKNOWN) {
				answer = cached_answer;
				snprintf(why, whysize, "%s", cwhy);
				goto done;
			}
		}
		OCSP_RESPONSE_free(resp);
		resp = NULL;
	}
	if (o->no_fetch) {
		snprintf(why, whysize, "OCSP %s: fetching is off", url);
		goto done;
	}
	if (!(req = OCSP_REQUEST_new()) || !OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) ||
	    !OCSP_request_add1_nonce(req, NULL, -1) || (len = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		snprintf(why, whysize, "OCSP %s: cannot make the request", url);
		goto done;
	}
	hreq.url = url;
	hreq.body = der;
	hreq.body_len = (size_t)len;
	hreq.content_type = "application/ocsp-request";
	hreq.allow_http = 1; /* responses are signed; responders speak plain HTTP */
	hreq.timeout_ms = 10000;
	hreq.max_body = OCSP_MAX;
	if (cc_http_do(&hreq, &hresp) < 0) {
		snprintf(why, whysize, "OCSP %s: %s", url, cc_error_last());
		cc_error_clear();
		goto done;
	}
	p = (const unsigned char *)hresp.body.ptr;
	if (hresp.status != 200)
		snprintf(why, whysize, "OCSP %s: HTTP status %ld", url, hresp.status);
	else if (!p || !(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)hresp.body.size)))
		snprintf(why, whysize, "OCSP %s: not an OCSP response", url);
	else {
		char source[1100];

		snprintf(source, sizeof(source), "OCSP %s", url);
		answer = ocsp_judge(run, store, path, resp, req, id, depth, source, why, whysize);
		/* Kept while it says something and has a nextUpdate to expire
		 * by (without one, newer information is always available). */
		if (answer != OCSP_UNKNOWN && ocsp_next_update(resp, id) > time(NULL))
			cache_write(run->repo, "ocsp", key.ptr, hresp.body.ptr, hresp.body.size);
	}
	cc_http_response_dispose(&hresp);
done:
	ERR_clear_error();
	cc_buf_dispose(&key);
	cc_buf_dispose(&cached);
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	return answer;
}

/*
 * Revocation beyond the CRLs: the leaf's stapled response always (a server
 * that staples "revoked" is believed), and OCSP for every certificate whose
 * CRL could not be had; what stays unknown is soft- or hard-failed.
 */
static void revocation_resolve(verify_run *run, X509_STORE *store, STACK_OF(X509) *path)
{
	const cc_verify_options *o = run->opts;
	int len = sk_X509_num(path);

	if (o->revocation == CC_REVOCATION_OFF)
		return;
	for (int depth = 0; depth < len && depth <= MAX_DEPTH; depth++) {
		X509 *x = sk_X509_value(path, depth);
		char why[1400], crl[1024], what[300], crl_why[1200] = "";
		int missing = (run->crl_missing >> depth) & 1, answer;

		if (!missing && !(depth == 0 && o->ocsp_stapled))
			continue;
		/* The top of a path that reaches no anchor: its issuer is what is
		 * missing (chain.untrusted), not its revocation status. */
		if (depth + 1 >= len)
			continue;
		answer = ocsp_status(run, store, path, depth, why, sizeof(why));
		who(run, what, sizeof(what), x, depth, len);
		if (answer == OCSP_GOOD)
			add(run, "revocation.good", CC_STATUS_OK, depth, "%s is not revoked (%s)", what,
			    why);
		if (!missing || answer != OCSP_UNKNOWN)
			continue;
		if (!crl_url(x, crl, sizeof(crl))) {
			/* Neither a CRL nor a responder: nothing to ask. */
			if (!strcmp(why, "no OCSP responder named")) {
				if (o->revocation == CC_REVOCATION_SOFT)
					add(run, "revocation.unchecked", CC_STATUS_OK, depth,
					    "%s names no CRL distribution point and no OCSP "
					    "responder, and no CRL of its issuer is at hand", what);
				else
					add(run, "revocation.unavailable", CC_STATUS_CRITICAL, depth,
					    "no CRL at hand for %s, which names no CRL distribution "
					    "point and no OCSP responder", what);
				continue;
			}
			snprintf(crl_why, sizeof(crl_why), "no CRL distribution point");
		} else {
			for (size_t i = 0; i < run->crl_failed.count; i++)
				if (!strncmp(run->crl_failed.items[i], crl, strlen(crl)) &&
				    !strncmp(run->crl_failed.items[i] + strlen(crl), ": ", 2))
					snprintf(crl_why, sizeof(crl_why), "CRL %s: %s", crl,
						 run->crl_failed.items[i] + strlen(crl) + 2);
			if (!crl_why[0])
				snprintf(crl_why, sizeof(crl_why), "CRL %s%s", crl,
					 o->no_fetch ? ": fetching is off" : ": not usable");
		}
		add(run, "revocation.unavailable",
		    o->revocation == CC_REVOCATION_SOFT ? CC_STATUS_WARNING : CC_STATUS_CRITICAL,
		    depth, "the revocation status of %s is unknown: %s; %s", what, crl_why, why);
	}
}

/* --- intermediates from AIA --------------------------------------------------- */

/* The CA issuers URL of `x` (AIA), malloc'ed, or NULL. */
static char *aia_ca_issuers(X509 *x)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	char *url = NULL;

	for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia) && !url; i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers &&
		    ad->location->type == GEN_URI) {
			const ASN1_IA5STRING *u = ad->location->d.uniformResourceIdentifier;

			url = strndup((const char *)ASN1_STRING_get0_data(u),
				      (size_t)ASN1_STRING_length(u));
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return url;
}

/* Fetch the certificates at an AIA URL (DER, PEM or PKCS#7), bounded. */
static int aia_fetch(verify_run *run, cc_cert ***out, size_t *n, const char *url)
{
	cc_http_request req = { 0 };
	cc_http_response resp;
	cc_buf cached = CC_BUF_INIT;
	int rc;

	*out = NULL;
	*n = 0;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return cc_error_set(CC_EINVALID, "unsupported AIA URL '%s'", url);
	/* From the cache while every certificate there is valid. */
	if (cache_read(run->repo, "aia", url, AIA_MAX, &cached) == 0 &&
	    cc_cert_parse_all(out, n, cached.ptr, cached.size, url) == 0) {
		int fresh = *n > 0;

		for (size_t i = 0; i < *n; i++)
			if (cc_cert_not_after((*out)[i]) <= run->now)
				fresh = 0;
		cc_buf_dispose(&cached);
		if (fresh)
			return 0;
		cc_cert_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	cc_buf_dispose(&cached);
	cc_error_clear();
	req.url = url;
	req.allow_http = 1; /* CA issuers are served over plain HTTP (RFC 5280 4.2.2.1) */
	req.follow_redirects = 1;
	req.timeout_ms = 10000;
	req.max_body = AIA_MAX;
	if ((rc = cc_http_do(&req, &resp)) < 0)
		return rc;
	if (resp.status != 200)
		rc = cc_error_set(CC_ENET, "%s: HTTP status %ld", url, resp.status);
	else if ((rc = cc_cert_parse_all(out, n, resp.body.ptr, resp.body.size, url)) == 0)
		cache_write(run->repo, "aia", url, resp.body.ptr, resp.body.size);
	cc_http_response_dispose(&resp);
	return rc;
}

/* --- the web-PKI rules ----------------------------------------------------------- */

static int has_eku(X509 *x, int nid, int *present)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int found = 0;

	*present = eku != NULL;
	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		int n = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));

		if (n == nid || n == NID_anyExtendedKeyUsage)
			found = 1;
	}
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

static void rule_names(verify_run *run, X509 *leaf)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	const char *host = run->opts->host;
	psl_ctx_t *psl = NULL;
	int nsans = 0;

	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		char name[256];
		const char *star;

		if (gn->type == GEN_IPADD) {
			nsans++;
			continue;
		}
		if (gn->type != GEN_DNS || ASN1_STRING_length(gn->d.dNSName) >= (int)sizeof(name))
			continue;
		nsans++;
		snprintf(name, sizeof(name), "%.*s", ASN1_STRING_length(gn->d.dNSName),
			 ASN1_STRING_get0_data(gn->d.dNSName));
		if (!(star = strchr(name, '*')))
			continue;
		if (star != name || name[1] != '.' || strchr(name + 1, '*')) {
			add(run, "name.wildcard-position", CC_STATUS_CRITICAL, 0,
			    "the name %s has a wildcard that is not the whole leftmost label", name);
			continue;
		}
		if (!psl)
			psl = psl_latest(NULL);
		if (!psl)
			psl = (psl_ctx_t *)psl_builtin();
		if (psl && psl_is_public_suffix(psl, name + 2))
			add(run, "name.wildcard-public-suffix", CC_STATUS_CRITICAL, 0,
			    "the name %s is a wildcard directly under the public suffix %s", name,
			    name + 2);
	}
	if (psl && psl != psl_builtin())
		psl_free(psl);
	if (!nsans)
		add(run, "name.cn-only", CC_STATUS_CRITICAL, 0,
		    "the certificate has no DNS name or address in subjectAltName (the "
		    "common name is not used for names)");
	if (host && *host) {
		int ok;

		if (cc_ip_valid(host))
			ok = X509_check_ip_asc(leaf, host, 0) == 1;
		else
			ok = X509_check_host(leaf, host, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
				X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
		if (!ok && !nsans)
			; /* name.cn-only says it */
		else if (!ok)
			add(run, "name.mismatch", CC_STATUS_CRITICAL, 0,
			    "not valid for %s", host);
	}
	GENERAL_NAMES_free(sans);
}

static void rule_key_and_signature(verify_run *run, X509 *x, int depth, int len)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	int bits = pk ? EVP_PKEY_get_bits(pk) : 0, nid = 0, pknid = 0;
	char what[300];

	ERR_clear_error();
	who(run, what, sizeof(what), x, depth, len);
	if (pk) {
		switch (EVP_PKEY_get_base_id(pk)) {
		case EVP_PKEY_RSA:
			if (bits < 2048)
				add(run, "key.rsa-too-small", CC_STATUS_CRITICAL, depth,
				    "%s has an RSA key of %d bits (at least 2048 needed)", what, bits);
			break;
		case EVP_PKEY_DSA:
			add(run, "key.dsa", CC_STATUS_CRITICAL, depth, "%s has a DSA key", what);
			break;
		case EVP_PKEY_EC: {
			char group[64] = "";

			EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL);
			if (bits < 256)
				add(run, "key.ec-too-small", CC_STATUS_CRITICAL, depth,
				    "%s has an EC key of %d bits (at least 256 needed)", what, bits);
			else if (strcmp(group, "prime256v1") && strcmp(group, "secp384r1") &&
			    strcmp(group, "secp521r1"))
				add(run, "key.curve", CC_STATUS_CRITICAL, depth,
				    "%s has a key on curve %s (P-256, P-384 or P-521 only)", what,
				    *group ? group : "?");
			break;
		}
		default:
			break;
		}
	}
	/* A root's signature on itself is not what makes it trusted. */
	if (depth == len - 1 && depth > 0 && X509_self_signed(x, 0) == 1)
		return;
	if (X509_get_signature_info(x, &nid, &pknid, NULL, NULL) == 1 &&
	    (nid == NID_sha1 || nid == NID_md5 || nid == NID_md5_sha1 || nid == NID_md2 ||
	     nid == NID_md4))
		add(run, nid == NID_sha1 ? "signature.sha1" : "signature.md5", CC_STATUS_CRITICAL,
		    depth, "%s is signed with %s", what, OBJ_nid2sn(nid));
}

static void rule_ca(verify_run *run, X509 *x, int depth, int len)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	int crit = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
	uint32_t ku = X509_get_key_usage(x);
	char what[300];
	int present;

	who(run, what, sizeof(what), x, depth, len);
	if (!bc || !bc->ca || crit < 0 || !X509_EXTENSION_get_critical(X509_get_ext(x, crit)))
		add(run, "ca.basic-constraints", CC_STATUS_CRITICAL, depth,
		    "%s lacks a critical basicConstraints extension with cA true", what);
	BASIC_CONSTRAINTS_free(bc);
	if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE) || !(ku & KU_KEY_CERT_SIGN))
		add(run, "ca.key-usage", CC_STATUS_CRITICAL, depth,
		    "%s lacks keyUsage keyCertSign", what);
	if (!X509_get0_subject_key_id(x))
		add(run, "extension.ski-missing", CC_STATUS_CRITICAL, depth,
		    "%s has no subjectKeyIdentifier", what);
	if (depth < len - 1 && !has_eku(x, NID_server_auth, &present) && present)
		add(run, "eku.intermediate-no-serverauth", CC_STATUS_CRITICAL, depth,
		    "%s limits its extended key usage and leaves out serverAuth", what);
}

static void rule_webpki(verify_run *run, STACK_OF(X509) *path)
{
	int len = sk_X509_num(path), present;
	X509 *leaf = sk_X509_value(path, 0);

	rule_names(run, leaf);
	if (!has_eku(leaf, NID_server_auth, &present))
		add(run, "eku.missing-serverauth", CC_STATUS_CRITICAL, 0,
		    present ? "the certificate's extended key usage leaves out serverAuth"
			    : "the certificate has no extended key usage (serverAuth needed)");
	for (int i = 0; i < len; i++) {
		X509 *x = sk_X509_value(path, i);

		rule_key_and_signature(run, x, i, len);
		if (i > 0)
			rule_ca(run, x, i, len);
		if (!(i == len - 1 && X509_self_signed(x, 0) == 1) && !X509_get0_authority_key_id(x)) {
			char what[300];

			who(run, what, sizeof(what), x, i, len);
			add(run, "extension.aki-missing", CC_STATUS_CRITICAL, i,
			    "%s has no authorityKeyIdentifier", what);
		}
	}
}

/* The expiry of every member of the path, by name. */
static void rule_expiry(verify_run *run, STACK_OF(X509) *path, time_t now)
{
	const cc_verify_options *o = run->opts;
	long long warning = o->warning ? o->warning : 30 * 86400LL;
	long long critical = o->critical ? o->critical : 7 * 86400LL;
	int len = sk_X509_num(path), soonest = -1;
	long long soonest_left = 0;

	for (int i = 0; i < len; i++) {
		X509 *x = sk_X509_value(path, i);
		long long left = (long long)(cc_asn1_time(X509_get0_notAfter(x)) - now);
		char what[300], when[32];

		who(run, what, sizeof(what), x, i, len);
		cc_time_rfc3339(cc_asn1_time(X509_get0_notAfter(x)), when);
		if (left < 0)
			continue; /* validity.expired, from OpenSSL */
		if (left < critical)
			add(run, "validity.critical", CC_STATUS_CRITICAL, i,
			    "%s expires in %lld days (%s)", what, left / 86400, when);
		else if (left < warning)
			add(run, "validity.warning", CC_STATUS_WARNING, i,
			    "%s expires in %lld days (%s)", what, left / 86400, when);
		if (soonest < 0 || left < soonest_left) {
			soonest = i;
			soonest_left = left;
		}
	}
	if (soonest >= 0) {
		char what[300];

		who(run, what, sizeof(what), sk_X509_value(path, soonest), soonest, len);
		add(run, "validity.ok", CC_STATUS_OK, -1, "the first to expire is %s, in %lld days",
		    what, soonest_left / 86400);
	}
}

/* --- the path ---------------------------------------------------------------- */

/* Compare what was given with the path: missing, extra, out of order. */
static void rule_given(verify_run *run, STACK_OF(X509) *path, const char *fetched_url)
{
	const cc_verify_options *o = run->opts;
	int len = sk_X509_num(path), last_pos = 0;
	size_t extra = 0;
	cc_buf names = CC_BUF_INIT;

	for (size_t i = 0; i < o->nuntrusted; i++) {
		X509 *g = cc_cert_get0_x509(o->untrusted[i]);
		int pos = -1;

		for (int k = 1; k < len && pos < 0; k++)
			if (!X509_cmp(g, sk_X509_value(path, k)))
				pos = k;
		if (pos < 0) {
			/* Named, up to a few: a server may send hundreds. */
			if (++extra <= MAX_EXTRA_NAMED) {
				char *name = cc_name_text(X509_get_subject_name(g));

				cc_buf_printf(&names, "%s%s", extra > 1 ? ", " : "", name ? name : "?");
				free(name);
			}
		} else if (pos < last_pos) {
			add(run, "chain.order", CC_STATUS_WARNING, -1,
			    "the chain is sent out of order (each certificate should be "
			    "followed by its issuer)");
		} else {
			last_pos = pos;
		}
	}
	if (extra > MAX_EXTRA_NAMED)
		cc_buf_printf(&names, " and %zu more", extra - MAX_EXTRA_NAMED);
	if (extra == 1)
		add(run, "chain.extra", CC_STATUS_WARNING, -1, "%s is sent but not part of the path",
		    names.ptr);
	else if (extra)
		add(run, "chain.extra", CC_STATUS_WARNING, -1, "%zu certificates are sent but not "
		    "part of the path: %s", extra, names.ptr);
	cc_buf_dispose(&names);
	for (int k = 1; k < len; k++) {
		X509 *x = sk_X509_value(path, k);
		int given = 0;
		char what[300];

		if (k == len - 1)
			break; /* the anchor need not be sent */
		for (size_t i = 0; i < o->nuntrusted && !given; i++)
			given = !X509_cmp(x, cc_cert_get0_x509(o->untrusted[i]));
		if (given)
			continue;
		who(run, what, sizeof(what), x, k, len);
		add(run, "chain.missing-intermediate", CC_STATUS_WARNING, k,
		    "does not send the %s%s%s%s", what, fetched_url ? " (fetched from " : "",
		    fetched_url ? fetched_url : "", fetched_url ? ")" : "");
	}
}

static int store_for(X509_STORE **out, cc_repo *repo, const cc_verify_options *o)
{
	X509_STORE *store;
	int rc;

	if (!o->nanchors)
		return cc_trust_store(out, repo, o->trust_set, NULL);
	if (!(store = X509_STORE_new()))
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < o->nanchors; i++)
		if (X509_STORE_add_cert(store, cc_cert_get0_x509(o->anchors[i])) != 1) {
			rc = cc_error_openssl(CC_ERROR, "cannot use a trust anchor");
			X509_STORE_free(store);
			return rc;
		}
	*out = store;
	return 0;
}

int cc_verify(cc_repo *repo, const cc_cert *leaf, const cc_verify_options *opts,
	      cc_verify_report *report)
{
	X509_STORE *store = NULL;
	int rc;

	memset(report, 0, sizeof(*report));
	if ((rc = store_for(&store, repo, opts)) < 0)
		return rc;
	rc = cc_verify_store(store, repo, leaf, opts, report);
	X509_STORE_free(store);
	return rc;
}

static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void index_init(void)
{
	run_index = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/*
 * The certificates given that path building considers: all of them up to
 * MAX_CANDIDATES (a CRL's issuer, which no path names, may be among them);
 * beyond, those that may issue the leaf or a certificate already taken (by
 * name), breadth first, up to MAX_CANDIDATES.  A server may send hundreds
 * of certificates; the ones no path can use are only reported
 * (chain.extra), and a bounded set keeps OpenSSL's issuer search bounded.
 */
static int candidates_take(STACK_OF(X509) *out, const cc_cert *leaf, const cc_verify_options *o)
{
	unsigned char *taken;
	X509 *queue[MAX_CANDIDATES + 1];
	int head = 0, tail = 0;

	if (o->nuntrusted <= MAX_CANDIDATES) {
		for (size_t i = 0; i < o->nuntrusted; i++)
			if (!sk_X509_push(out, cc_cert_get0_x509(o->untrusted[i])))
				return -1;
		return 0;
	}
	if (!(taken = calloc(o->nuntrusted, 1)))
		return -1;
	queue[tail++] = cc_cert_get0_x509(leaf);
	while (head < tail && sk_X509_num(out) < MAX_CANDIDATES) {
		const X509_NAME *issuer = X509_get_issuer_name(queue[head++]);

		for (size_t i = 0; i < o->nuntrusted && sk_X509_num(out) < MAX_CANDIDATES; i++) {
			X509 *g = cc_cert_get0_x509(o->untrusted[i]);

			if (taken[i] || X509_NAME_cmp(X509_get_subject_name(g), issuer))
				continue;
			taken[i] = 1;
			if (!sk_X509_push(out, g)) {
				free(taken);
				return -1;
			}
			/* A self-signed certificate issues nothing further up. */
			if (X509_self_signed(g, 0) != 1 && tail <= MAX_CANDIDATES)
				queue[tail++] = g;
		}
	}
	free(taken);
	ERR_clear_error();
	return 0;
}

/* Whether the findings say the path reached no trust anchor. */
static int no_anchor(const cc_verify_report *report)
{
	for (size_t i = 0; i < report->nfindings; i++)
		if (!strcmp(report->findings[i].rule, "chain.untrusted"))
			return 1;
	return 0;
}

/* The highest certificate of `path` that came from `given` and has another
 * certificate with its subject there; NULL when none has. */
static X509 *twin_in_path(STACK_OF(X509) *path, STACK_OF(X509) *given)
{
	for (int d = sk_X509_num(path) - 1; d >= 1; d--) {
		X509 *x = sk_X509_value(path, d);
		int mine = -1, twins = 0;

		for (int i = 0; i < sk_X509_num(given); i++) {
			X509 *g = sk_X509_value(given, i);

			if (g == x || !X509_cmp(g, x))
				mine = i;
			else if (!X509_NAME_cmp(X509_get_subject_name(g), X509_get_subject_name(x)))
				twins++;
		}
		if (mine >= 0 && twins)
			return sk_X509_value(given, mine);
	}
	return NULL;
}

int cc_verify_store(X509_STORE *store, cc_repo *repo, const cc_cert *leaf,
		    const cc_verify_options *opts, cc_verify_report *report)
{
	verify_run run = { 0 };
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(ASN1_OBJECT) *policies = sk_ASN1_OBJECT_new_null();
	cc_cert **fetched[AIA_ROUNDS] = { 0 };
	size_t nfetched[AIA_ROUNDS] = { 0 };
	char *fetched_url = NULL;
	time_t now = opts->at ? opts->at : time(NULL);
	int rc = 0, anchors_partial = 0, naia = 0, nalt = 0;
	char aia_why[1200] = "";

	memset(report, 0, sizeof(*report));
	run.opts = opts;
	run.report = report;
	run.repo = repo;
	run.now = now;
	if (opts->nanchors) {
		snprintf(run.trusted, sizeof(run.trusted), "the CAs given");
	} else {
		char def[129];

		snprintf(run.trusted, sizeof(run.trusted), "trust set '%s'",
			 opts->trust_set ? opts->trust_set : cc_trust_default(repo, def));
	}
	run.crls = sk_X509_CRL_new_null();
	pthread_once(&index_once, index_init);
	if (!untrusted || !run.crls || run_index < 0 || !policies) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	/* RFC 5280 6.1.1's user-initial-policy-set: the policies given, else
	 * any-policy. */
	for (size_t i = 0; i < opts->npolicies; i++) {
		ASN1_OBJECT *oid = OBJ_txt2obj(opts->policies[i], 1);

		if (!oid || !sk_ASN1_OBJECT_push(policies, oid)) {
			ASN1_OBJECT_free(oid);
			rc = cc_error_set(CC_EINVALID, "'%s' is not a policy OID (1.2.3.4)",
					  opts->policies[i]);
			goto done;
		}
	}
	if (!opts->npolicies && !sk_ASN1_OBJECT_push(policies, OBJ_nid2obj(NID_any_policy))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if (candidates_take(untrusted, leaf, opts) < 0) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < opts->ncrl_files; i++)
		if ((rc = crl_add_file(&run, opts->crl_files[i])) < 0)
			goto done;
	if (opts->revocation != CC_REVOCATION_OFF)
		crl_add_repository(&run, repo);
	/* An anchor that is not a root (a trust set may declare one). */
	for (size_t i = 0; i < opts->nanchors; i++)
		if (X509_self_signed(cc_cert_get0_x509(opts->anchors[i]), 0) != 1)
			anchors_partial = 1;

	for (int round = 0;; round++) {
		X509_VERIFY_PARAM *param;
		STACK_OF(X509) *path;
		/*
		 * OpenSSL's strict checks hold CAs to RFC 5280's profile (a
		 * critical basicConstraints, key identifiers), which its path
		 * validation does not ask for: the web-PKI rules, not rfc5280's.
		 */
		unsigned long flags = opts->policy == CC_POLICY_WEBPKI ?
					      X509_V_FLAG_X509_STRICT : 0;
		int ok, err;

		/* Path errors of an earlier round are not the answer. */
		findings_clear(report);
		run.path_errors = 0;
		run.crl_missing = 0;
		X509_STORE_CTX_free(ctx);
		if (!(ctx = X509_STORE_CTX_new()) ||
		    X509_STORE_CTX_init(ctx, store, cc_cert_get0_x509(leaf), untrusted) != 1) {
			rc = cc_error_openssl(CC_ERROR, "cannot set up verification");
			goto done;
		}
		param = X509_STORE_CTX_get0_param(ctx);
		if (anchors_partial)
			flags |= X509_V_FLAG_PARTIAL_CHAIN;
		/*
		 * Extended CRL support: CRLs signed with a key of their own,
		 * indirect CRLs (cRLIssuer) and CRLs split by reason, as RFC
		 * 5280 6.3 has them; without it OpenSSL ignores such CRLs.
		 */
		if (opts->revocation != CC_REVOCATION_OFF)
			flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL |
				 X509_V_FLAG_EXTENDED_CRL_SUPPORT;
		if (opts->explicit_policy)
			flags |= X509_V_FLAG_EXPLICIT_POLICY;
		X509_VERIFY_PARAM_set_flags(param, flags);
		/*
		 * Without a policy set OpenSSL skips policy processing
		 * altogether (and with an empty one it fails every
		 * requireExplicitPolicy).
		 */
		if (X509_VERIFY_PARAM_set1_policies(param, policies) != 1) {
			rc = cc_error_openssl(CC_ERROR, "cannot set up verification");
			goto done;
		}
		X509_VERIFY_PARAM_set_depth(param, MAX_DEPTH);
		/* Key sizes and algorithms are rules of their own, named below. */
		X509_VERIFY_PARAM_set_auth_level(param, 0);
		X509_STORE_CTX_set_time(ctx, 0, now);
		X509_STORE_CTX_set0_crls(ctx, run.crls);
		X509_STORE_CTX_set_ex_data(ctx, run_index, &run);
		X509_STORE_CTX_set_verify_cb(ctx, keep_going);
		run.ctx = ctx;
		ok = X509_verify_cert(ctx);
		for (size_t i = 0; i < report->nfindings; i++)
			if (report->findings[i].status == CC_STATUS_CRITICAL)
				run.path_errors++;
		err = X509_STORE_CTX_get_error(ctx);
		path = X509_STORE_CTX_get0_chain(ctx);
		(void)ok;
		(void)err;
		if (run.oom) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		/* Revocation needs the issuers' CRLs: fetch those the path names. */
		if (opts->revocation != CC_REVOCATION_OFF && !opts->no_fetch && path &&
		    round < MAX_ROUNDS && crl_fetch(&run, path) > 0)
			continue;
		/*
		 * No anchor reached, and a certificate of the path has a twin
		 * among those given (one subject: a cross-signed CA beside its
		 * self-signed copy, an old and a new intermediate): OpenSSL
		 * takes the first that fits and goes no further, so try again
		 * without it.  Bounded: each try drops one.
		 */
		if (nalt < MAX_ALTERNATIVES && path && no_anchor(report)) {
			X509 *drop = twin_in_path(path, untrusted);

			if (drop) {
				sk_X509_delete_ptr(untrusted, drop);
				nalt++;
				run.incomplete = 0;
				continue;
			}
		}
		/* A missing issuer: ask the top certificate's CA issuers URL. */
		{
			int untrusted_issuer = 0;
			X509 *top = path && sk_X509_num(path) ?
					    sk_X509_value(path, sk_X509_num(path) - 1) :
					    cc_cert_get0_x509(leaf);
			char *url;

			untrusted_issuer = run.incomplete;
			run.incomplete = 0;
			if (untrusted_issuer && !opts->no_fetch && round < MAX_ROUNDS && naia < AIA_ROUNDS &&
			    X509_self_signed(top, 0) != 1 && (url = aia_ca_issuers(top))) {
				if (aia_fetch(&run, &fetched[naia], &nfetched[naia], url) == 0 &&
				    nfetched[naia]) {
					for (size_t i = 0; i < nfetched[naia]; i++)
						sk_X509_push(untrusted,
							     cc_cert_get0_x509(fetched[naia][i]));
					report->fetched += nfetched[naia++];
					free(fetched_url);
					fetched_url = url;
					continue;
				}
				snprintf(aia_why, sizeof(aia_why), ", nor usable from its CA issuers URL "
					 "%s: %s", url, cc_error_last());
				cc_error_clear();
				free(url);
			}
		}
		if (path && sk_X509_num(path)) {
			revocation_resolve(&run, store, path);
			if (opts->policy == CC_POLICY_WEBPKI)
				rule_webpki(&run, path);
			rule_given(&run, path, fetched_url);
			rule_expiry(&run, path, now);
			report->path = calloc((size_t)sk_X509_num(path), sizeof(*report->path));
			for (int i = 0; report->path && i < sk_X509_num(path); i++) {
				X509 *x = sk_X509_value(path, i);

				X509_up_ref(x);
				if (cc_cert_from_x509(&report->path[report->path_len], x) == 0)
					report->path_len++;
			}
			cc_error_clear();
		}
		break;
	}
	/* Say why the missing issuer could not be had. */
	for (size_t i = 0; i < report->nfindings; i++) {
		cc_verify_finding *f = &report->findings[i];
		cc_buf m = CC_BUF_INIT;

		if (strcmp(f->rule, "chain.untrusted") || strncmp(f->message, "the chain is ", 13))
			continue;
		cc_buf_puts(&m, f->message);
		if (aia_why[0])
			cc_buf_puts(&m, aia_why);
		else if (opts->no_fetch)
			cc_buf_puts(&m, " (fetching is off)");
		else if (!fetched_url)
			cc_buf_puts(&m, ", and the certificate names no CA issuers URL (give the "
				    "intermediate, or trust its root with 'certctl trust add')");
		if (m.ptr) {
			free(f->message);
			f->message = cc_buf_detach(&m);
		}
		cc_buf_dispose(&m);
	}
	/*
	 * Exceptions the options allow, then the verdict.  A revocation, a bad
	 * signature or a path to nowhere is never an exception.
	 */
	report->verified = report->path_len > 0;
	report->path_valid = report->path_len > 0 && !run.path_errors;
	for (size_t i = 0; i < report->nfindings; i++) {
		cc_verify_finding *f = &report->findings[i];

		if (opts->allowed && f->status != CC_STATUS_OK &&
		    cc_strlist_contains(opts->allowed, f->rule) && !never_allowed(f->rule)) {
			f->allowed = 1;
			f->status = CC_STATUS_OK;
		}
		if (f->status == CC_STATUS_CRITICAL)
			report->verified = 0;
		report->status = cc_status_worse(report->status, f->status);
	}
	if (fetched_url)
		report->fetched_from = strdup(fetched_url);
	if (report->verified)
		add(&run, "chain.trusted", CC_STATUS_OK, -1, "the path to %s is valid (%s)",
		    cc_cert_subject(report->path[report->path_len - 1]),
		    cc_verify_policy_name(opts->policy));
	if (run.oom)
		rc = cc_error_set(CC_ERROR, "out of memory");
done:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	sk_ASN1_OBJECT_pop_free(policies, ASN1_OBJECT_free); /* static ones are not freed */
	sk_X509_CRL_pop_free(run.crls, X509_CRL_free);
	cc_strlist_dispose(&run.crl_tried);
	cc_strlist_dispose(&run.crl_failed);
	for (int i = 0; i < AIA_ROUNDS; i++)
		cc_cert_list_free(fetched[i], nfetched[i]);
	free(fetched_url);
	if (rc < 0)
		cc_verify_report_dispose(report);
	return rc;
}

void cc_verify_report_dispose(cc_verify_report *report)
{
	findings_clear(report);
	free(report->fetched_from);
	cc_cert_list_free(report->path, report->path_len);
	memset(report, 0, sizeof(*report));
}

cc_json *cc_verify_report_to_json(const cc_verify_report *report)
{
	cc_json *obj = cc_json_object(), *path = cc_json_array(), *findings = cc_json_array();

	if (!obj || !path || !findings) {
		cc_json_free(obj);
		cc_json_free(path);
		cc_json_free(findings);
		return NULL;
	}
	cc_json_set_bool(obj, "verified", report->verified);
	cc_json_set_str(obj, "status", cc_status_name(report->status));
	for (size_t i = 0; i < report->path_len; i++)
		cc_json_append(path, cc_cert_to_json(report->path[i]));
	cc_json_set(obj, "path", path);
	cc_json_set_int(obj, "fetched", (long long)report->fetched);
	for (size_t i = 0; i < report->nfindings; i++) {
		const cc_verify_finding *f = &report->findings[i];
		cc_json *o = cc_json_object();

		cc_json_set_str(o, "rule", f->rule);
		cc_json_set_str(o, "status", cc_status_name(f->status));
		cc_json_set_int(o, "depth", f->depth);
		cc_json_set_bool(o, "allowed", f->allowed);
		cc_json_set_str(o, "message", f->message);
		cc_json_append(findings, o);
	}
	cc_json_set(obj, "findings", findings);
	return obj;
}
