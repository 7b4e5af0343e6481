/*
 * This module implements issuing from the built-in CA: the RFC 5280 leaf
 * certificate of a definition (profile, names, extensions), the checks that
 * refuse what the CA may not sign, storage of key and certificate in one
 * transaction; then revocation, CRLs and PKCS#12 bundles for clients.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include "ca_internal.h"

static int add_general_name(GENERAL_NAMES *names, int type, const char *value)
{
	GENERAL_NAME *gn = NULL;

	if (type == GEN_IPADD) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);

		if (!ip)
			return cc_error_set(CC_EINVALID, "invalid IP address '%s'", value);
		gn = GENERAL_NAME_new();
		if (gn)
			GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		else
			ASN1_OCTET_STRING_free(ip);
	} else {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (!s || ASN1_STRING_set(s, value, -1) != 1) {
			ASN1_IA5STRING_free(s);
			return cc_error_set(CC_ERROR, "out of memory");
		}
		gn = GENERAL_NAME_new();
		if (gn)
			GENERAL_NAME_set0_value(gn, type, s);
		else
			ASN1_IA5STRING_free(s);
	}
	if (!gn || !sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	return 0;
}

int cc_definition_general_names(GENERAL_NAMES **out, const cc_definition *def, int *critical)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	const cc_sans *s = &def->sans;
	int rc = 0;

	*out = NULL;
	if (!names)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < s->dns.count && rc == 0; i++)
		rc = add_general_name(names, GEN_DNS, s->dns.items[i]);
	/* A host name as CN and no SAN at all: clients read names from SANs only. */
	if (rc == 0 && !s->dns.count && !s->ip.count && !s->email.count && !s->uri.count &&
	    def->subject.cn && strchr(def->subject.cn, '.') && cc_dns_name_valid(def->subject.cn, 1))
		rc = add_general_name(names, GEN_DNS, def->subject.cn);
	for (size_t i = 0; i < s->ip.count && rc == 0; i++)
		rc = add_general_name(names, GEN_IPADD, s->ip.items[i]);
	for (size_t i = 0; i < s->email.count && rc == 0; i++)
		rc = add_general_name(names, GEN_EMAIL, s->email.items[i]);
	for (size_t i = 0; i < s->uri.count && rc == 0; i++)
		rc = add_general_name(names, GEN_URI, s->uri.items[i]);
	/* RFC 5280 4.2.1.6: critical when the subject is empty. */
	*critical = !def->subject.cn && !def->subject.o && !def->subject.ou && !def->subject.c &&
		    !def->subject.email && !def->subject.l && !def->subject.st;
	if (rc < 0) {
		GENERAL_NAMES_free(names);
		return rc;
	}
	*out = names;
	return 0;
}

/* subjectAltName from the definition (built directly: no text parsing). */
static int add_sans(X509 *x, const cc_definition *def)
{
	GENERAL_NAMES *names = NULL;
	int critical, rc = cc_definition_general_names(&names, def, &critical);

	if (rc == 0 && sk_GENERAL_NAME_num(names) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, names, critical, X509V3_ADD_DEFAULT) != 1)
		rc = cc_error_openssl(CC_EINVALID, "cannot add the subject alternative names");
	GENERAL_NAMES_free(names);
	return rc;
}

/* Build and sign the leaf; `issuer`/`signer` NULL make it self-signed. */
static int build_leaf(cc_cert **out, const cc_definition *def, cc_key *key, cc_ca *ca,
		      long long validity, cc_profile profile)
{
	X509 *x = NULL;
	X509_NAME *subject = NULL;
	X509V3_CTX ctx;
	cc_key *signer = NULL;
	EVP_PKEY *sign_key;
	const char *eku;
	char ku[96];
	int rc;

	*out = NULL;
	{
		/* RFC 5280 4.1.2.4: a self-signed certificate's issuer, its own
		 * subject, must not be empty: name it after its first name. */
		cc_subject s = def->subject;

		if (!ca && !s.cn && !s.o && !s.ou && !s.c && !s.l && !s.st && !s.email)
			s.cn = def->sans.dns.count ? def->sans.dns.items[0] : def->name;
		if ((rc = cc_ca_subject_name(&subject, &s)) < 0)
			goto done;
	}
	if ((ca && (rc = cc_ca_key(ca, &signer)) < 0) ||
	    (rc = cc_ca_new_x509(&x, subject, ca ? ca->cert : NULL, key, validity)) < 0)
		goto done;
	X509V3_set_ctx(&ctx, ca ? cc_cert_get0_x509(ca->cert) : x, x, NULL, NULL, 0);
	/* RSA keys may encipher the TLS key exchange; EC and Ed25519 keys only sign. */
	snprintf(ku, sizeof(ku), "critical,digitalSignature%s",
		 EVP_PKEY_get_base_id(cc_key_get0_pkey(key)) == EVP_PKEY_RSA ? ",keyEncipherment" : "");
	eku = profile == CC_PROFILE_CLIENT ? "clientAuth"
	      : profile == CC_PROFILE_SERVER_CLIENT ? "serverAuth,clientAuth" : "serverAuth";
	if ((rc = cc_ca_add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")) < 0 ||
	    (rc = cc_ca_add_ext(x, &ctx, NID_key_usage, ku)) < 0 ||
	    (rc = cc_ca_add_ext(x, &ctx, NID_ext_key_usage, eku)) < 0 ||
	    (rc = cc_ca_add_ext(x, &ctx, NID_subject_key_identifier, "hash")) < 0 ||
	    (rc = cc_ca_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) < 0 ||
	    (rc = add_sans(x, def)) < 0)
		goto done;
	if (ca && (rc = cc_ca_issuing_extensions(ca, x, &ctx)) < 0)
		goto done;
	sign_key = cc_key_get0_pkey(ca ? signer : key);
	if (X509_sign(x, sign_key, cc_ca_digest(sign_key)) <= 0) {
		rc = cc_error_openssl(CC_ERROR, "cannot sign the certificate of '%s'", def->name);
		goto done;
	}
	rc = cc_cert_from_x509(out, x);
	x = NULL;
done:
	X509_free(x);
	X509_NAME_free(subject);
	return rc;
}

/* The key to certify: new, the current certificate's, or a named one. */
int cc_issue_key(cc_key **out, int *is_new, cc_txn *txn, const cc_definition *def,
		     const cc_issue_options *opts)
{
	cc_repo *repo = cc_txn_repo(txn);
	const char *key_id = opts->key_id ? opts->key_id : def->key_id;
	char *current = NULL, *current_key = NULL;
	int rc;

	*out = NULL;
	*is_new = 0;
	if (!key_id && (opts->reuse_key || def->reuse_key)) {
		rc = cc_cert_current_id(&current, repo, def->name);
		if (rc == 0)
			rc = cc_cert_key_id(&current_key, repo, def->name, current);
		if (rc == 0 && !current_key)
			rc = cc_error_set(CC_ENOTFOUND, "the current certificate of '%s' has no stored "
					  "key to reuse", def->name);
		if (rc == CC_ENOTFOUND && !opts->reuse_key) {
			/* reuse is the definition's wish: a first certificate gets a new key */
			cc_error_clear();
			rc = 0;
		}
		if (rc < 0)
			goto done;
		key_id = current_key;
	}
	if (key_id) {
		rc = cc_key_load(out, repo, key_id);
		goto done;
	}
	if ((rc = cc_key_spec_check(&def->key)) < 0 ||
	    (rc = opts->key_pool ? cc_key_pool_take(opts->key_pool, out, &def->key)
				 : cc_key_generate(out, &def->key)) < 0)
		goto done;
	*is_new = 1;
done:
	free(current);
	free(current_key);
	return rc;
}

int cc_issue(cc_txn *txn, cc_ca *ca, const cc_definition *def, const cc_issue_options *opts,
	     cc_cert **out, cc_key **key_out)
{
	cc_issue_options defaults = CC_ISSUE_OPTIONS_INIT;
	cc_key *key = NULL;
	cc_cert *cert = NULL;
	cc_cert **chain = NULL;
	size_t nchain = 0;
	cc_cert_store_info info;
	cc_profile profile;
	long long validity;
	time_t now = time(NULL);
	char source[160], until[32];
	int rc, is_new = 0;

	if (out)
		*out = NULL;
	if (key_out)
		*key_out = NULL;
	if (!opts)
		opts = &defaults;
	if (!opts->self_signed && !ca)
		return cc_error_set(CC_EINVALID, "no CA to issue from");
	if (def->mode == CC_MODE_MONITOR)
		return cc_error_set(CC_EINVALID, "definition '%s' is monitored-only; switch it to "
				    "lifecycle ('define %s --mode lifecycle') to issue", def->name,
				    def->name);
	profile = opts->profile >= 0 ? (cc_profile)opts->profile : def->profile;
	validity = opts->validity ? opts->validity : def->validity ? def->validity : 90 * 86400LL;
	if (ca) {
		if (!ca->cert)
			return cc_error_set(CC_EINVALID, "CA '%s' awaits its certificate ('certctl ca "
					    "install %s')", ca->name, ca->name);
		cc_time_rfc3339(cc_cert_not_after(ca->cert), until);
		if (now >= cc_cert_not_after(ca->cert))
			return cc_error_set(CC_EINVALID, "CA '%s' expired on %s", ca->name, until);
		if (now < cc_cert_not_before(ca->cert))
			return cc_error_set(CC_EINVALID, "CA '%s' is not valid yet", ca->name);
		if (validity > ca->max_validity) {
			char max[32];

			cc_duration_format(max, sizeof(max), ca->max_validity);
			return cc_error_set(CC_EINVALID, "'%s' asks for a validity past CA '%s''s "
					    "maximum of %s (give a shorter --validity)", def->name,
					    ca->name, max);
		}
		if (now + validity > cc_cert_not_after(ca->cert))
			return cc_error_set(CC_EINVALID, "'%s' would be valid past CA '%s', which "
					    "expires %s (give a shorter --validity)", def->name,
					    ca->name, until);
	}
	if ((rc = cc_issue_key(&key, &is_new, txn, def, opts)) < 0)
		goto done;
	if ((rc = build_leaf(&cert, def, key, ca, validity, profile)) < 0)
		goto done;
	if (ca) {
		char what[200];

		snprintf(what, sizeof(what), "the certificate of '%s'", def->name);
		if ((rc = cc_ca_verify_issued(ca, cert, what)) < 0)
			goto done;
		/* What servers send: the CA and the intermediates above it, no root. */
		chain = calloc(ca->nchain + 1, sizeof(*chain));
		if (!chain) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		if (!cc_cert_is_self_signed(ca->cert))
			chain[nchain++] = cc_cert_dup(ca->cert);
		for (size_t i = 0; i < ca->nchain; i++)
			if (!cc_cert_is_self_signed(ca->chain[i]))
				chain[nchain++] = cc_cert_dup(ca->chain[i]);
	}
	if (is_new) {
		char origin[200];

		snprintf(origin, sizeof(origin), "generated for '%s'", def->name);
		if ((rc = cc_key_store(txn, key, origin)) < 0)
			goto done;
	}
	snprintf(source, sizeof(source), ca ? "builtin:%s" : "self-signed", ca ? ca->name : "");
	info.source = source;
	info.key_id = cc_key_id(key);
	info.request = NULL;
	if ((rc = cc_cert_store(txn, def->name, cert, chain, nchain, &info, 1)) < 0)
		goto done;
	if (ca)
		rc = cc_ca_index_add(txn, ca, cert, def->name);
done:
	cc_cert_list_free(chain, nchain);
	if (rc == 0 && out) {
		*out = cert;
		cert = NULL;
	}
	if (rc == 0 && key_out) {
		*key_out = key;
		key = NULL;
	}
	cc_cert_free(cert);
	cc_key_free(key);
	return rc;
}

/* Revocation. */

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
	"aACompromise",
};

int cc_revocation_reason_parse(int *out, const char *text)
{
	for (size_t i = 0; i < CC_ARRAY_SIZE(reasons); i++) {
		if (reasons[i] && text && !strcasecmp(text, reasons[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return cc_error_set(CC_EINVALID, "invalid revocation reason '%s' (unspecified, "
			    "keyCompromise, cACompromise, affiliationChanged, superseded, "
			    "cessationOfOperation, certificateHold, privilegeWithdrawn)",
			    text ? text : "");
}

const char *cc_revocation_reason_name(int reason)
{
	if (reason < 0 || (size_t)reason >= CC_ARRAY_SIZE(reasons) || !reasons[reason])
		return "unspecified";
	return reasons[reason];
}

int cc_serial_normalize(char *out, size_t size, const char *serial)
{
	size_t j = 0;

	for (const char *p = serial; *p; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || j + 1 >= size)
			return cc_error_set(CC_EINVALID, "invalid serial number '%s' (hex)", serial);
		out[j++] = (char)toupper((unsigned char)*p);
	}
	out[j] = '\0';
	/* BN_bn2hex has no leading zeros beyond a full byte: drop them the same way. */
	while (j > 2 && out[0] == '0' && out[1] == '0') {
		memmove(out, out + 2, j - 1);
		j -= 2;
	}
	if (j == 0)
		return cc_error_set(CC_EINVALID, "empty serial number");
	return 0;
}

int cc_ca_record_path(cc_buf *rel, const cc_ca *ca, const char *serial)
{
	cc_buf dir = CC_BUF_INIT, file = CC_BUF_INIT;
	int rc;

	if ((rc = cc_ca_relpath(&dir, ca->name, "issued")) == 0 &&
	    (rc = cc_buf_printf(&file, "%s.yaml", serial)) == 0)
		rc = cc_fanout_find(rel, ca->repo, dir.ptr, file.ptr);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&file);
	return rc;
}

void cc_ca_records_free(cc_ca_record *records, size_t count)
{
	for (size_t i = 0; records && i < count; i++) {
		cc_ca_record *r = &records[i];

		free(r->serial);
		free(r->subject);
		free(r->definition);
		free(r->not_before);
		free(r->not_after);
		free(r->status);
		free(r->revoked_at);
		free(r->reason);
		free(r->cert_id);
	}
	free(records);
}

static int record_read(cc_ca_record *r, cc_repo *repo, const char *rel)
{
	cc_buf abs = CC_BUF_INIT;
	cc_node *root = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = cc_repo_path(repo, rel, &abs)) < 0 || (rc = cc_node_load(&root, abs.ptr, rel)) < 0)
		goto done;
	r->serial = cc_strdup(cc_node_scalar(cc_node_get(root, "serial")));
	r->subject = cc_strdup(cc_node_scalar(cc_node_get(root, "subject")));
	r->definition = cc_strdup(cc_node_scalar(cc_node_get(root, "issued_to")));
	r->not_before = cc_strdup(cc_node_scalar(cc_node_get(root, "not_before")));
	r->not_after = cc_strdup(cc_node_scalar(cc_node_get(root, "not_after")));
	r->status = cc_strdup(cc_node_scalar(cc_node_get(root, "status")));
	r->revoked_at = cc_strdup(cc_node_scalar(cc_node_get(root, "revoked_at")));
	r->reason = cc_strdup(cc_node_scalar(cc_node_get(root, "reason")));
	r->cert_id = cc_strdup(cc_node_scalar(cc_node_get(root, "cert")));
	if (!r->serial || !r->status || !r->not_after)
		rc = cc_node_error(root, CC_EINVALID, "an index record needs serial, status and "
				   "not_after");
done:
	cc_node_free(root);
	cc_buf_dispose(&abs);
	return rc;
}

int cc_ca_records(cc_ca *ca, cc_repo *repo, cc_ca_record **out, size_t *count)
{
	cc_strlist files = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, rel = CC_BUF_INIT;
	cc_ca_record *records = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = cc_ca_relpath(&rel, ca->name, "issued")) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &dir)) < 0 ||
	    (rc = cc_fs_list_fanout(&files, dir.ptr, ".yaml")) < 0)
		goto done;
	records = calloc(files.count ? files.count : 1, sizeof(*records));
	if (!records) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < files.count; i++) {
		cc_buf_clear(&rel);
		cc_buf_printf(&rel, "ca/%s/issued/%s", ca->name, files.items[i]);
		if ((rc = record_read(&records[n], repo, rel.ptr)) < 0) {
			n++;
			goto done;
		}
		n++;
	}
done:
	cc_strlist_dispose(&files);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&rel);
	if (rc < 0) {
		cc_ca_records_free(records, n);
		return rc;
	}
	*out = records;
	*count = n;
	return 0;
}

int cc_ca_revoke(cc_txn *txn, cc_ca *ca, const char *serial_text, int reason)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_ca_record r;
	char serial[130], now[32];
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = cc_serial_normalize(serial, sizeof(serial), serial_text)) < 0 ||
	    (rc = cc_ca_record_path(&rel, ca, serial)) < 0 || (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	if (!cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_ENOTFOUND, "CA '%s' did not issue a certificate with serial %s",
				  ca->name, serial);
		goto done;
	}
	if ((rc = record_read(&r, repo, rel.ptr)) < 0)
		goto done;
	if (!strcmp(r.status, "revoked")) {
		rc = cc_error_set(CC_EEXISTS, "certificate %s of CA '%s' is already revoked (%s)",
				  serial, ca->name, r.revoked_at ? r.revoked_at : "");
		goto done;
	}
	cc_time_now_rfc3339(now);
	free(r.status);
	free(r.revoked_at);
	free(r.reason);
	r.status = strdup("revoked");
	r.revoked_at = strdup(now);
	r.reason = strdup(cc_revocation_reason_name(reason));
	if (!r.status || !r.revoked_at || !r.reason)
		rc = cc_error_set(CC_ERROR, "out of memory");
	else
		rc = cc_ca_index_write(txn, ca, &r);
done:
	free(r.serial);
	free(r.subject);
	free(r.definition);
	free(r.not_before);
	free(r.not_after);
	free(r.status);
	free(r.revoked_at);
	free(r.reason);
	free(r.cert_id);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return rc;
}

static time_t rfc3339_parse(const char *text)
{
	time_t t;

	return text && cc_time_parse_rfc3339(&t, text) == 0 ? t : 0;
}

int cc_ca_crl(cc_txn *txn, cc_ca *ca, cc_buf *pem_out)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_ca_record *records = NULL;
	size_t count = 0;
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *number = NULL;
	X509V3_CTX ctx;
	cc_key *key = NULL;
	cc_buf pem = CC_BUF_INIT, rel = CC_BUF_INIT;
	BIO *bio = NULL;
	time_t now = time(NULL);
	int rc;

	if (!crl)
		return cc_error_set(CC_ERROR, "out of memory");
	if (!ca->cert) {
		rc = cc_error_set(CC_EINVALID, "CA '%s' has no certificate yet", ca->name);
		goto done;
	}
	if ((rc = cc_ca_key(ca, &key)) < 0 || (rc = cc_ca_records(ca, repo, &records, &count)) < 0)
		goto done;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(cc_cert_get0_x509(ca->cert)));
	t = ASN1_TIME_new();
	X509_time_adj_ex(t, 0, 0, &now);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_time_adj_ex(t, 0, (long)ca->crl_validity, &now);
	X509_CRL_set1_nextUpdate(crl, t);
	for (size_t i = 0; i < count; i++) {
		X509_REVOKED *rev;
		BIGNUM *bn = NULL;
		ASN1_INTEGER *serial;
		ASN1_ENUMERATED *reason;
		int code = 0;

		if (strcmp(records[i].status, "revoked") != 0)
			continue;
		rev = X509_REVOKED_new();
		if (!rev || !BN_hex2bn(&bn, records[i].serial)) {
			X509_REVOKED_free(rev);
			rc = cc_error_set(CC_EINVALID, "CA '%s': bad serial '%s' in its index", ca->name,
					  records[i].serial);
			goto done;
		}
		serial = BN_to_ASN1_INTEGER(bn, NULL);
		BN_free(bn);
		X509_REVOKED_set_serialNumber(rev, serial);
		ASN1_INTEGER_free(serial);
		{
			time_t when = rfc3339_parse(records[i].revoked_at);
			ASN1_TIME *rt = ASN1_TIME_new();

			X509_time_adj_ex(rt, 0, 0, when ? &when : &now);
			X509_REVOKED_set_revocationDate(rev, rt);
			ASN1_TIME_free(rt);
		}
		if (records[i].reason && cc_revocation_reason_parse(&code, records[i].reason) < 0) {
			cc_error_clear();
			code = 0;
		}
		if (code) {
			reason = ASN1_ENUMERATED_new();
			ASN1_ENUMERATED_set(reason, code);
			X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
			ASN1_ENUMERATED_free(reason);
		}
		X509_CRL_add0_revoked(crl, rev);
	}
	X509_CRL_sort(crl);
	ca->crl_number++;
	number = ASN1_INTEGER_new();
	ASN1_INTEGER_set_uint64(number, ca->crl_number);
	X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0);
	X509V3_set_ctx(&ctx, cc_cert_get0_x509(ca->cert), NULL, NULL, crl, 0);
	{
		X509_EXTENSION *aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
							  "keyid:always");

		if (!aki || !X509_CRL_add_ext(crl, aki, -1)) {
			X509_EXTENSION_free(aki);
			rc = cc_error_openssl(CC_ERROR, "cannot make the CRL");
			goto done;
		}
		X509_EXTENSION_free(aki);
	}
	if (X509_CRL_sign(crl, cc_key_get0_pkey(key), cc_ca_digest(cc_key_get0_pkey(key))) <= 0 ||
	    !(bio = BIO_new(BIO_s_mem())) || PEM_write_bio_X509_CRL(bio, crl) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot sign the CRL of CA '%s'", ca->name);
		goto done;
	}
	{
		char *data;
		long len = BIO_get_mem_data(bio, &data);

		rc = cc_buf_put(&pem, data, (size_t)len);
	}
	if (rc < 0 || (rc = cc_ca_relpath(&rel, ca->name, "crl.pem")) < 0 ||
	    (rc = cc_txn_write(txn, rel.ptr, pem.ptr, pem.size, 0644)) < 0 ||
	    (rc = cc_ca_write_record(txn, ca)) < 0)
		goto done;
	if (pem_out)
		rc = cc_buf_put(pem_out, pem.ptr, pem.size);
done:
	cc_ca_records_free(records, count);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(number);
	X509_CRL_free(crl);
	BIO_free(bio);
	cc_buf_dispose(&pem);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_pkcs12_build(cc_buf *out, const cc_key *key, const cc_cert *cert, cc_cert *const *chain,
		    size_t chain_len, const cc_secret *password, const char *alias)
{
	STACK_OF(X509) *cas = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	const char *pw = (const char *)cc_secret_data(password);
	int len, rc = 0;

	if (!cas)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < chain_len; i++)
		sk_X509_push(cas, cc_cert_get0_x509(chain[i]));
	/* AES-256-CBC with PBKDF2 for key and certificates, a SHA-256 MAC. */
	p12 = PKCS12_create(pw, alias, cc_key_get0_pkey(key), cc_cert_get0_x509(cert), cas,
			    NID_aes_256_cbc, NID_aes_256_cbc, PKCS12_DEFAULT_ITER, -1, 0);
	if (!p12 || PKCS12_set_mac(p12, pw, -1, NULL, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) != 1 ||
	    (len = i2d_PKCS12(p12, &der)) <= 0) {
		rc = cc_error_openssl(CC_ERROR, "cannot make the PKCS#12 file");
		goto done;
	}
	rc = cc_buf_put(out, der, (size_t)len);
done:
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_free(cas);
	return rc;
}
