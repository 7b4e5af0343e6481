/*
 * Import: bring an existing certificate (with its chain, and its key when
 * there is one) under management as a definition's current certificate.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/x509v3.h>
#include "internal.h"

/* A subject attribute of `x` as UTF-8, malloc'ed, or NULL. */
static char *name_entry(X509 *x, int nid)
{
	X509_NAME *name = X509_get_subject_name(x);
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	char *out = NULL;
	int len;

	if (idx < 0)
		return NULL;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (len >= 0)
		out = strndup((const char *)utf8, (size_t)len);
	OPENSSL_free(utf8);
	return out;
}

/* The definition a certificate describes: its subject, names, key type
 * and validity. */
static int definition_from_cert(cc_definition *def, const cc_cert *cert)
{
	X509 *x = cc_cert_get0_x509(cert);
	cc_strlist sans = CC_STRLIST_INIT;
	long long days;
	int rc = 0;

	free(def->subject.cn);
	def->subject.cn = name_entry(x, NID_commonName);
	def->subject.o = name_entry(x, NID_organizationName);
	def->subject.ou = name_entry(x, NID_organizationalUnitName);
	def->subject.l = name_entry(x, NID_localityName);
	def->subject.st = name_entry(x, NID_stateOrProvinceName);
	def->subject.c = name_entry(x, NID_countryName);
	def->subject.email = name_entry(x, NID_pkcs9_emailAddress);
	if ((rc = cc_cert_sans(cert, &sans)) < 0)
		return rc;
	for (size_t i = 0; i < sans.count && rc == 0; i++) {
		const char *s = sans.items[i];

		if (!strncmp(s, "DNS:", 4))
			rc = cc_strlist_add(&def->sans.dns, s + 4);
		else if (!strncmp(s, "IP:", 3))
			rc = cc_strlist_add(&def->sans.ip, s + 3);
		else if (!strncmp(s, "email:", 6))
			rc = cc_strlist_add(&def->sans.email, s + 6);
		else if (!strncmp(s, "URI:", 4))
			rc = cc_strlist_add(&def->sans.uri, s + 4);
	}
	cc_strlist_dispose(&sans);
	/* The key type renewals will generate: the certificate's when certctl
	 * can make one, else the repository's default (a P-521 or RSA-1024
	 * certificate is still worth monitoring). */
	{
		cc_key_spec spec;

		cc_cert_key_spec(cert, &spec);
		if (cc_key_spec_check(&spec) == 0)
			def->key = spec;
		cc_error_clear();
	}
	days = (long long)(cc_cert_not_after(cert) - cc_cert_not_before(cert)) / 86400;
	if (days > 0)
		def->validity = days * 86400;
	/* A short-lived certificate renews within its life: a third before. */
	if (def->validity && def->renew_before >= def->validity)
		def->renew_before = def->validity / 3;
	return rc;
}

/* The name a definition of `cert` gets: its host name, else its id. */
static int default_name(char *out, size_t size, const cc_cert *cert)
{
	const char *cn = cc_cert_cn(cert);
	cc_strlist sans = CC_STRLIST_INIT;
	int rc = 0;

	if (cn && cc_dns_name_valid(cn, 0) && cc_name_check(cn, "definition") == 0) {
		snprintf(out, size, "%s", cn);
		return 0;
	}
	cc_error_clear();
	if (cc_cert_sans(cert, &sans) == 0)
		for (size_t i = 0; i < sans.count; i++)
			if (!strncmp(sans.items[i], "DNS:", 4) && cc_dns_name_valid(sans.items[i] + 4, 0) &&
			    cc_name_check(sans.items[i] + 4, "definition") == 0) {
				snprintf(out, size, "%s", sans.items[i] + 4);
				cc_strlist_dispose(&sans);
				return 0;
			}
	cc_error_clear();
	cc_strlist_dispose(&sans);
	snprintf(out, size, "cert-%s", cc_cert_id(cert));
	return rc;
}

/* Which certificate of `certs` is the one to manage, and its chain. */
static int pick_leaf(const cc_cert **leaf, const cc_cert *const *certs, size_t n, size_t ntrusted,
		     const cc_key *key, const char *source)
{
	size_t candidates = 0, usable = n - ntrusted;

	*leaf = NULL;
	if (key) {
		for (size_t i = 0; i < n && !*leaf; i++)
			if (cc_cert_matches_key(certs[i], key))
				*leaf = certs[i];
		if (*leaf)
			return 0;
		if (!usable)
			return 0; /* a key alone: nothing to match */
		return cc_error_set(CC_EMISMATCH, "%s: the private key (SHA-256 %s) belongs to none of "
				    "the certificates (the first has key SHA-256 %s)", source,
				    cc_key_fingerprint(key), cc_cert_key_fingerprint(certs[0]));
	}
	/* Without a key: the one certificate that issued none of the others. */
	for (size_t i = 0; i < usable; i++) {
		int issuer = 0;

		for (size_t k = 0; k < usable && !issuer; k++)
			issuer = k != i && cc_cert_issued_by(certs[k], certs[i]);
		if (!issuer && !(usable > 1 && cc_cert_is_self_signed(certs[i]) && cc_cert_is_ca(certs[i]))) {
			if (candidates++)
				return cc_error_set(CC_EINVALID, "%s: holds unrelated certificates ('%s' "
						    "and '%s'); import them one file each",
						    source, cc_cert_subject(*leaf),
						    cc_cert_subject(certs[i]));
			*leaf = certs[i];
		}
	}
	if (!*leaf && usable)
		*leaf = certs[0];
	return 0;
}

/* The issuers of `leaf` among `certs`, nearest first, roots left out. */
static int build_chain(cc_cert ***out, size_t *nout, const cc_cert *leaf,
		       const cc_cert *const *certs, size_t n)
{
	cc_cert **chain = calloc(n ? n : 1, sizeof(*chain));
	const cc_cert *at = leaf;

	*out = NULL;
	*nout = 0;
	if (!chain)
		return cc_error_set(CC_ERROR, "out of memory");
	while (*nout < n && !cc_cert_is_self_signed(at)) {
		const cc_cert *next = NULL;

		for (size_t i = 0; i < n && !next; i++)
			if (certs[i] != at && certs[i] != leaf && cc_cert_issued_by(at, certs[i]))
				next = certs[i];
		if (!next || cc_cert_is_self_signed(next))
			break;
		chain[(*nout)++] = cc_cert_dup(next);
		at = next;
	}
	*out = chain;
	return 0;
}

/*
 * The verifier's verdict on `leaf` (the definition's trust set and policy,
 * its allowed rules; nothing fetched, no revocation: import is offline and
 * takes what exists), and the chain completed with the intermediates the
 * trust set holds.
 */
static void judge(cc_repo *repo, const cc_definition *def, const cc_cert *leaf,
		  const cc_bundle *bundle, cc_cert ***chain, size_t *nchain,
		  cc_import_result *result)
{
	cc_verify_options o = CC_VERIFY_OPTIONS_INIT;
	cc_verify_report rep;
	cc_cert **given = calloc(bundle->ncerts ? bundle->ncerts : 1, sizeof(*given));
	const cc_verify_finding *worst = NULL;
	size_t ngiven = 0;
	char set[129];
	int rc;

	result->status = CC_STATUS_UNKNOWN;
	snprintf(result->summary, sizeof(result->summary), "not verified: out of memory");
	if (!given)
		return;
	for (size_t i = 0; i < bundle->ncerts; i++)
		if (bundle->certs[i] != leaf)
			given[ngiven++] = bundle->certs[i];
	o.trust_set = def->trust_set ? def->trust_set : cc_trust_default(repo, set);
	o.untrusted = given;
	o.nuntrusted = ngiven;
	o.allowed = &def->allow;
	if ((rc = cc_verify_set_policy(repo, o.trust_set, &o)) == 0) {
		o.revocation = CC_REVOCATION_OFF;
		o.no_fetch = 1;
		rc = cc_verify(repo, leaf, &o, &rep);
	}
	free(given);
	if (rc < 0) {
		snprintf(result->summary, sizeof(result->summary), "not verified: %s",
			 cc_error_last());
		cc_error_clear();
		return;
	}
	/* Intermediates the bundle lacked and the trust set holds are kept too. */
	if (rep.path_valid && rep.path_len > 2 && rep.path_len - 2 > *nchain) {
		size_t want = rep.path_len - 2, k = 0;
		cc_cert **full = calloc(want, sizeof(*full));

		for (size_t i = 1; full && i <= want; i++)
			if ((full[k] = cc_cert_dup(rep.path[i])))
				k++;
		if (full && k == want) {
			result->completed = want - *nchain;
			cc_cert_list_free(*chain, *nchain);
			*chain = full;
			*nchain = want;
		} else {
			cc_cert_list_free(full, k);
		}
	}
	/* The verdict; an intermediate the file lacked is no longer missing. */
	result->status = CC_STATUS_OK;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < rep.nfindings; i++) {
			const cc_verify_finding *f = &rep.findings[i];

			if (result->completed && !strcmp(f->rule, "chain.missing-intermediate"))
				continue;
			if (pass == 0)
				result->status = cc_status_worse(result->status, f->status);
			else if (!worst && f->status == result->status)
				worst = f;
		}
	if (result->status == CC_STATUS_OK || !worst)
		snprintf(result->summary, sizeof(result->summary), "verified against trust set %s",
			 o.trust_set);
	else
		snprintf(result->summary, sizeof(result->summary), "%s: %s", worst->rule,
			 worst->message);
	cc_verify_report_dispose(&rep);
}

/* Whether certificate id `id` is stored for any definition (its name). */
static int find_stored(cc_repo *repo, const char *id, char **def_out)
{
	cc_strlist defs = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, path = CC_BUF_INIT;
	int rc = 0;

	*def_out = NULL;
	if (cc_repo_path(repo, "certs", &dir) < 0 || !cc_fs_is_dir(dir.ptr) ||
	    cc_fs_list(&defs, dir.ptr, NULL) < 0)
		goto done;
	for (size_t i = 0; i < defs.count && !*def_out; i++) {
		cc_buf_clear(&path);
		cc_buf_printf(&path, "%s/%s/%s/cert.pem", dir.ptr, defs.items[i], id);
		if (cc_fs_exists(path.ptr))
			*def_out = strdup(defs.items[i]);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&defs);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&path);
	return rc;
}

int cc_import(cc_txn *txn, const cc_bundle *bundle, const cc_import_options *opts,
	      cc_import_result *result)
{
	cc_import_options defaults = CC_IMPORT_OPTIONS_INIT;
	cc_repo *repo = cc_txn_repo(txn);
	const cc_cert *leaf = NULL;
	cc_cert **chain = NULL;
	size_t nchain = 0;
	cc_definition *def = NULL;
	cc_cert_store_info info;
	char name[256], *existing = NULL;
	cc_buf origin = CC_BUF_INIT, source = CC_BUF_INIT;
	int rc, created = 0;

	memset(result, 0, sizeof(*result));
	if (!opts)
		opts = &defaults;
	if ((rc = pick_leaf(&leaf, (const cc_cert *const *)bundle->certs, bundle->ncerts,
			    bundle->ntrusted, bundle->key, opts->source)) < 0)
		return rc;
	if (!leaf)
		return cc_error_set(CC_EINVALID, bundle->ntrusted
					   ? "%s: holds only trusted certificate entries, no key entry "
					     "(add CAs to a trust set with 'certctl trust add')"
					   : "%s: no certificate to import (a key alone is imported with "
					     "'certctl key import')",
				    opts->source);
	if ((rc = find_stored(repo, cc_cert_id(leaf), &existing)) < 0)
		goto done;
	if (existing) {
		rc = cc_error_set(CC_EEXISTS, "%s: certificate %s (%s) is already imported, as '%s'",
				  opts->source, cc_cert_id(leaf), cc_cert_subject(leaf), existing);
		goto done;
	}
	if (opts->name)
		snprintf(name, sizeof(name), "%s", opts->name);
	else
		default_name(name, sizeof(name), leaf);
	if ((rc = cc_name_check(name, "definition")) < 0)
		goto done;
	if (cc_definition_exists(repo, name)) {
		if (!opts->name) {
			rc = cc_error_set(CC_EEXISTS, "%s: a definition '%s' exists; give --name to add "
					  "the certificate to it, or another name", opts->source, name);
			goto done;
		}
		if ((rc = cc_definition_load(&def, repo, name)) < 0)
			goto done;
	} else {
		if ((rc = cc_definition_new(&def, repo, name)) < 0 ||
		    (rc = definition_from_cert(def, leaf)) < 0)
			goto done;
		def->mode = opts->mode >= 0 ? (cc_operation_mode)opts->mode
			    : bundle->key	   ? CC_MODE_LIFECYCLE
					       : CC_MODE_MONITOR;
		free(def->provider);
		def->provider = strdup("manual");
		if (opts->check_host) {
			cc_check *checks = calloc(1, sizeof(*checks));

			if (!checks) {
				rc = cc_error_set(CC_ERROR, "out of memory");
				goto done;
			}
			checks->host = strdup(opts->check_host);
			checks->port = opts->check_port;
			checks->sni = opts->check_sni ? strdup(opts->check_sni) : NULL;
			checks->enabled = 1;
			def->checks = checks;
			def->nchecks = 1;
		}
		if (!def->provider) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		if ((rc = cc_definition_validate(def)) < 0) {
			rc = cc_error_set(rc, "%s: %s", opts->source, cc_error_last());
			goto done;
		}
		if ((rc = cc_definition_save(txn, def)) < 0)
			goto done;
		created = 1;
	}
	if (def->mode == CC_MODE_LIFECYCLE && !bundle->key && opts->mode == CC_MODE_LIFECYCLE) {
		rc = cc_error_set(CC_EINVALID, "%s: lifecycle management needs the private key (give "
				  "--key FILE, or import with --mode monitor)", opts->source);
		goto done;
	}
	if (bundle->key) {
		cc_buf_printf(&origin, "imported from '%s'", opts->source);
		rc = cc_key_store(txn, bundle->key, origin.ptr);
		if (rc == CC_EEXISTS) {
			cc_error_clear();
			rc = 0;
		} else if (rc < 0) {
			goto done;
		}
	}
	if ((rc = build_chain(&chain, &nchain, leaf, (const cc_cert *const *)bundle->certs,
			      bundle->ncerts)) < 0)
		goto done;
	judge(repo, def, leaf, bundle, &chain, &nchain, result);
	cc_buf_printf(&source, "import:%s", bundle->format ? bundle->format : "file");
	info.source = source.ptr;
	info.key_id = bundle->key ? cc_key_id(bundle->key) : NULL;
	info.request = NULL;
	if ((rc = cc_cert_store(txn, name, leaf, chain, nchain, &info, 1)) < 0)
		goto done;
	snprintf(result->definition, sizeof(result->definition), "%s", name);
	snprintf(result->cert_id, sizeof(result->cert_id), "%s", cc_cert_id(leaf));
	result->created = created;
	result->with_key = bundle->key != NULL;
	result->chain_len = nchain;
	result->mode = def->mode;
done:
	free(existing);
	cc_cert_list_free(chain, nchain);
	cc_definition_free(def);
	cc_buf_dispose(&origin);
	cc_buf_dispose(&source);
	return rc;
}
