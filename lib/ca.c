/*
 * This module implements the built-in private CA: creating root and
 * subordinate CAs, installing the certificate of an external parent,
 * importing an existing CA, and the CA's record (ca/<name>/ca.yaml) with
 * its certificate, its chain and its index of issued certificates.
 * Issuing, revocation and CRLs are in issue.c and crl.c.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "internal.h"
#include "ca_internal.h"

void cc_ca_options_init(cc_ca_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = CC_CA_OPTIONS_VERSION;
	opts->path_len = -1;
}

void cc_ca_options_dispose(cc_ca_options *opts)
{
	cc_strlist *lists[] = { &opts->permit_dns, &opts->exclude_dns, &opts->permit_ip,
				&opts->exclude_ip, &opts->crl_urls, &opts->ocsp_urls,
				&opts->issuer_urls, &opts->policies };

	for (size_t i = 0; i < CC_ARRAY_SIZE(lists); i++)
		cc_strlist_dispose(lists[i]);
}

void cc_ca_free(cc_ca *ca)
{
	if (!ca)
		return;
	free(ca->name);
	free(ca->status);
	free(ca->parent);
	free(ca->key_id);
	free(ca->created);
	cc_strlist_dispose(&ca->crl_urls);
	cc_strlist_dispose(&ca->ocsp_urls);
	cc_strlist_dispose(&ca->issuer_urls);
	cc_strlist_dispose(&ca->policies);
	cc_cert_free(ca->cert);
	cc_cert_list_free(ca->chain, ca->nchain);
	cc_key_free(ca->key);
	cc_verify_ctx_dispose(&ca->verify);
	free(ca);
}

const char *cc_ca_name(const cc_ca *ca) { return ca->name; }
const cc_cert *cc_ca_cert(const cc_ca *ca) { return ca->cert; }
int cc_ca_is_default(const cc_ca *ca) { return ca->is_default; }
const char *cc_ca_key_id(const cc_ca *ca) { return ca->key_id; }
const char *cc_ca_status(const cc_ca *ca) { return ca->status; }

const char *cc_ca_parent(const cc_ca *ca)
{
	return ca->parent ? ca->parent : "";
}

size_t cc_ca_chain(const cc_ca *ca, cc_cert *const **chain)
{
	*chain = ca->chain;
	return ca->nchain;
}

/* The digest a key signs with (NULL for Ed25519). */
const EVP_MD *cc_ca_digest(EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_ED25519:
		return NULL;
	case EVP_PKEY_EC:
		return EVP_PKEY_get_bits(pkey) > 384 ? EVP_sha512()
		       : EVP_PKEY_get_bits(pkey) > 256 ? EVP_sha384() : EVP_sha256();
	default:
		return EVP_sha256();
	}
}

int cc_ca_random_serial(ASN1_INTEGER **out)
{
	unsigned char bytes[16];
	BIGNUM *bn = NULL;

	*out = NULL;
	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		return cc_error_openssl(CC_ERROR, "no randomness");
	/* Positive, and at least 64 random bits even after DER drops zeros. */
	bytes[0] = (unsigned char)((bytes[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	*out = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	return *out ? 0 : cc_error_openssl(CC_ERROR, "cannot make a serial number");
}

static int name_add(X509_NAME *name, const char *field, const char *value)
{
	if (!value || !*value)
		return 0;
	if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value,
				       -1, -1, 0) != 1)
		return cc_error_openssl(CC_EINVALID, "invalid subject %s '%s'", field, value);
	return 0;
}

int cc_ca_new_x509(X509 **out, X509_NAME *subject, const cc_cert *issuer, cc_key *key,
		   long long validity)
{
	ASN1_INTEGER *serial = NULL;
	/* A key from the key pool comes with its public key set already. */
	X509 *x = cc_key_blank_x509(key);
	time_t now = time(NULL);
	int rc;

	*out = NULL;
	if (!x)
		return cc_error_openssl(CC_ERROR, "cannot set the public key of a certificate");
	if ((rc = cc_ca_random_serial(&serial)) < 0) {
		X509_free(x);
		return rc;
	}
	X509_set_version(x, 2);
	X509_set_serialNumber(x, serial);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(cc_cert_get0_x509(issuer)) : subject);
	/* A minute back, for clocks slightly behind ours. */
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -60, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)validity, &now);
	ASN1_INTEGER_free(serial);
	*out = x;
	return 0;
}

int cc_ca_subject_name(X509_NAME **out, const cc_subject *s)
{
	X509_NAME *name = X509_NAME_new();
	int rc;

	*out = NULL;
	if (!name)
		return cc_error_set(CC_ERROR, "out of memory");
	if ((rc = name_add(name, "C", s->c)) < 0 || (rc = name_add(name, "ST", s->st)) < 0 ||
	    (rc = name_add(name, "L", s->l)) < 0 || (rc = name_add(name, "O", s->o)) < 0 ||
	    (rc = name_add(name, "OU", s->ou)) < 0 || (rc = name_add(name, "CN", s->cn)) < 0 ||
	    (rc = name_add(name, "emailAddress", s->email)) < 0) {
		X509_NAME_free(name);
		return rc;
	}
	*out = name;
	return 0;
}

int cc_ca_add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(cert, ext, -1) == 1;

	X509_EXTENSION_free(ext);
	if (!ok)
		return cc_error_openssl(CC_EINVALID, "cannot add extension %s = %s", OBJ_nid2sn(nid),
					value);
	return 0;
}

/* "10.0.0.0/8" -> "10.0.0.0/255.0.0.0" (what OpenSSL's IP constraints take). */
static int cidr_to_mask(const char *cidr, char *out, size_t size)
{
	char addr[64];
	const char *slash = strchr(cidr, '/');
	unsigned char bytes[16], mask[16];
	int family, len, bits;
	char *end = NULL;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		return -1;
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	len = family == AF_INET ? 4 : 16;
	bits = (int)strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || bits < 0 || bits > len * 8 || inet_pton(family, addr, bytes) != 1)
		return -1;
	memset(mask, 0, sizeof(mask));
	for (int i = 0; i < bits; i++)
		mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
	for (int i = 0; i < len; i++)
		if (bytes[i] & ~mask[i])
			return -1; /* host bits set: not a range */
	{
		char mtext[64];

		inet_ntop(family, mask, mtext, sizeof(mtext));
		snprintf(out, size, "%s/%s", addr, mtext);
	}
	return 0;
}

/* The nameConstraints value for OpenSSL's configuration syntax. */
static int name_constraints_text(const cc_ca_options *opts, cc_buf *out)
{
	const cc_strlist *lists[] = { &opts->permit_dns, &opts->exclude_dns, &opts->permit_ip,
				      &opts->exclude_ip };
	const char *kinds[] = { "permitted;DNS", "excluded;DNS", "permitted;IP", "excluded;IP" };

	for (size_t l = 0; l < 4; l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const char *v = lists[l]->items[i];
			char range[128];

			if (l < 2) {
				const char *host = v[0] == '.' ? v + 1 : v;

				if (!cc_dns_name_valid(host, 0))
					return cc_error_set(CC_EINVALID,
							    "invalid DNS name constraint '%s'", v);
			} else if (cidr_to_mask(v, range, sizeof(range)) < 0) {
				return cc_error_set(CC_EINVALID,
						    "invalid IP range '%s' (CIDR, e.g. 10.0.0.0/8)", v);
			}
			cc_buf_printf(out, "%s%s:%s", out->size ? "," : "critical,", kinds[l],
				      l < 2 ? v : range);
		}
	}
	return 0;
}

/* URLs go into extensions through OpenSSL's configuration syntax: keep
 * them free of its separators. */
static int url_ok(const char *url)
{
	return cc_uri_valid(url) && !strpbrk(url, ",;\"");
}

static int oid_ok(const char *oid)
{
	size_t dots = 0;

	if (!oid || !*oid || strspn(oid, "0123456789.") != strlen(oid) || oid[0] == '.')
		return 0;
	for (const char *p = oid; *p; p++)
		if (*p == '.' && (++dots, p[1] == '.' || p[1] == '\0'))
			return 0;
	return dots >= 1;
}

int cc_ca_check_options(const cc_ca_options *opts)
{
	const cc_strlist *urls[] = { &opts->crl_urls, &opts->ocsp_urls, &opts->issuer_urls };

	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; i < urls[l]->count; i++)
			if (!url_ok(urls[l]->items[i]))
				return cc_error_set(CC_EINVALID, "invalid URL '%s'", urls[l]->items[i]);
	for (size_t i = 0; i < opts->policies.count; i++)
		if (!oid_ok(opts->policies.items[i]))
			return cc_error_set(CC_EINVALID, "invalid policy OID '%s' (e.g. 2.23.140.1.2.1)",
					    opts->policies.items[i]);
	if (opts->path_len > 16)
		return cc_error_set(CC_EINVALID, "path length %d is too large", opts->path_len);
	if (opts->subject.c && !cc_country_valid(opts->subject.c))
		return cc_error_set(CC_EINVALID, "invalid country code '%s'", opts->subject.c);
	return 0;
}

/* ca.yaml: the CA's record. */

int cc_ca_relpath(cc_buf *out, const char *name, const char *file)
{
	int rc;

	if ((rc = cc_name_check(name, "CA")) < 0)
		return rc;
	return cc_buf_printf(out, "ca/%s/%s", name, file);
}

static int put_list(cc_yaml_writer *w, const char *key, const cc_strlist *list)
{
	int rc;

	if (!list->count)
		return 0;
	rc = cc_yaml_key(w, key);
	rc = rc ? rc : cc_yaml_seq_start(w, 0);
	for (size_t i = 0; i < list->count && rc == 0; i++)
		rc = cc_yaml_scalar(w, list->items[i]);
	return rc ? rc : cc_yaml_seq_end(w);
}

int cc_ca_write_record(cc_txn *txn, const cc_ca *ca)
{
	cc_buf text = CC_BUF_INIT, rel = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	char num[32], dur[32];
	int rc;

	if ((rc = cc_ca_relpath(&rel, ca->name, "ca.yaml")) < 0)
		return rc;
	cc_buf_printf(&text, "# certctl CA '%s'; see certctl-repository(5).\n", ca->name);
	if ((rc = cc_yaml_writer_new(&w, &text)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "name");
	rc = rc ? rc : cc_yaml_scalar(w, ca->name);
	rc = rc ? rc : cc_yaml_key(w, "status");
	rc = rc ? rc : cc_yaml_scalar(w, ca->status);
	rc = rc ? rc : cc_yaml_key(w, "default");
	rc = rc ? rc : cc_yaml_plain(w, ca->is_default ? "true" : "false");
	rc = rc ? rc : cc_yaml_key(w, "key");
	rc = rc ? rc : cc_yaml_scalar(w, ca->key_id);
	if (rc == 0 && ca->parent) {
		rc = cc_yaml_key(w, "parent");
		rc = rc ? rc : cc_yaml_scalar(w, ca->parent);
	}
	cc_duration_format(dur, sizeof(dur), ca->max_validity);
	rc = rc ? rc : cc_yaml_key(w, "max_validity");
	rc = rc ? rc : cc_yaml_scalar(w, dur);
	cc_duration_format(dur, sizeof(dur), ca->crl_validity);
	rc = rc ? rc : cc_yaml_key(w, "crl_validity");
	rc = rc ? rc : cc_yaml_scalar(w, dur);
	snprintf(num, sizeof(num), "%lu", ca->crl_number);
	rc = rc ? rc : cc_yaml_key(w, "crl_number");
	rc = rc ? rc : cc_yaml_plain(w, num);
	rc = rc ? rc : put_list(w, "crl_urls", &ca->crl_urls);
	rc = rc ? rc : put_list(w, "ocsp_urls", &ca->ocsp_urls);
	rc = rc ? rc : put_list(w, "issuer_urls", &ca->issuer_urls);
	rc = rc ? rc : put_list(w, "policies", &ca->policies);
	rc = rc ? rc : cc_yaml_key(w, "created");
	rc = rc ? rc : cc_yaml_scalar(w, ca->created);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	if (rc == 0)
		rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644);
done:
	cc_yaml_writer_free(w);
	cc_buf_dispose(&text);
	cc_buf_dispose(&rel);
	return rc;
}

static int read_list(const cc_node *root, const char *key, cc_strlist *out)
{
	const cc_node *node = cc_node_get(root, key);

	if (!node)
		return 0;
	if (cc_node_kind(node) != CC_NODE_SEQUENCE)
		return cc_node_error(node, CC_EINVALID, "%s must be a list", key);
	for (size_t i = 0; i < cc_node_count(node); i++) {
		const char *v = cc_node_scalar(cc_node_at(node, i));

		if (!v)
			return cc_node_error(cc_node_at(node, i), CC_EINVALID, "expected a value");
		if (cc_strlist_add(out, v) < 0)
			return CC_ERROR;
	}
	return 0;
}

int cc_ca_names(cc_repo *repo, cc_strlist *out)
{
	cc_strlist dirs = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, rec = CC_BUF_INIT;
	int rc;

	if ((rc = cc_repo_path(repo, "ca", &dir)) < 0 || (rc = cc_fs_list(&dirs, dir.ptr, NULL)) < 0)
		goto done;
	for (size_t i = 0; i < dirs.count && rc == 0; i++) {
		cc_buf_clear(&rec);
		if (cc_name_check(dirs.items[i], "CA") < 0) {
			cc_error_clear();
			continue;
		}
		cc_buf_printf(&rec, "%s/%s/ca.yaml", dir.ptr, dirs.items[i]);
		if (cc_fs_exists(rec.ptr))
			rc = cc_strlist_add(out, dirs.items[i]);
	}
done:
	cc_strlist_dispose(&dirs);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&rec);
	return rc;
}

static int load_named(cc_ca **out, cc_repo *repo, const char *name)
{
	cc_ca *ca = NULL;
	cc_node *root = NULL;
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	const char *v;
	int rc;

	*out = NULL;
	if ((rc = cc_ca_relpath(&rel, name, "ca.yaml")) < 0 || (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	rc = cc_node_load(&root, abs.ptr, rel.ptr);
	if (rc == CC_ENOTFOUND) {
		rc = cc_error_set(CC_ENOTFOUND, "no CA '%s' (see 'certctl ca list')", name);
		goto done;
	}
	if (rc < 0)
		goto done;
	if (!(ca = calloc(1, sizeof(*ca)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	ca->repo = repo;
	ca->name = strdup(name);
	ca->status = cc_strdup(cc_node_scalar(cc_node_get(root, "status")));
	ca->key_id = cc_strdup(cc_node_scalar(cc_node_get(root, "key")));
	ca->parent = cc_strdup(cc_node_scalar(cc_node_get(root, "parent")));
	ca->created = cc_strdup(cc_node_scalar(cc_node_get(root, "created")));
	v = cc_node_scalar(cc_node_get(root, "default"));
	ca->is_default = v && !strcmp(v, "true");
	ca->max_validity = 398 * 86400LL;
	ca->crl_validity = 7 * 86400LL;
	if (cc_node_get(root, "max_validity") &&
	    (rc = cc_node_duration(cc_node_get(root, "max_validity"), &ca->max_validity)) < 0)
		goto done;
	if (cc_node_get(root, "crl_validity") &&
	    (rc = cc_node_duration(cc_node_get(root, "crl_validity"), &ca->crl_validity)) < 0)
		goto done;
	if (cc_node_get(root, "crl_number") &&
	    (rc = cc_node_uint(cc_node_get(root, "crl_number"), 1UL << 62, &ca->crl_number)) < 0)
		goto done;
	if ((rc = read_list(root, "crl_urls", &ca->crl_urls)) < 0 ||
	    (rc = read_list(root, "ocsp_urls", &ca->ocsp_urls)) < 0 ||
	    (rc = read_list(root, "issuer_urls", &ca->issuer_urls)) < 0 ||
	    (rc = read_list(root, "policies", &ca->policies)) < 0)
		goto done;
	if (!ca->name || !ca->status || !ca->key_id || !ca->created) {
		rc = cc_node_error(root, CC_EINVALID, "CA record needs status, key and created");
		goto done;
	}
	if (strcmp(ca->status, "pending") != 0) {
		cc_cert **certs = NULL;
		size_t n = 0;

		cc_buf_clear(&rel);
		if ((rc = cc_ca_relpath(&rel, name, "cert.pem")) < 0 ||
		    (rc = cc_repo_read_certs(&certs, &n, repo, rel.ptr)) < 0)
			goto done;
		if (n != 1) {
			cc_cert_list_free(certs, n);
			rc = cc_error_set(CC_EINVALID, "%s: expected one certificate", rel.ptr);
			goto done;
		}
		ca->cert = certs[0];
		free(certs);
		cc_buf_clear(&rel);
		if ((rc = cc_ca_relpath(&rel, name, "chain.pem")) < 0)
			goto done;
		rc = cc_repo_read_certs(&ca->chain, &ca->nchain, repo, rel.ptr);
		if (rc == CC_ENOTFOUND) {
			cc_error_clear();
			rc = 0;
		}
	}
done:
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	if (rc < 0)
		cc_ca_free(ca);
	else
		*out = ca;
	return rc;
}

int cc_ca_load(cc_ca **out, cc_repo *repo, const char *name)
{
	cc_strlist names = CC_STRLIST_INIT;
	int rc;

	*out = NULL;
	if (name)
		return load_named(out, repo, name);
	if ((rc = cc_ca_names(repo, &names)) < 0)
		return rc;
	for (size_t i = 0; i < names.count && !*out; i++) {
		cc_ca *ca = NULL;

		if ((rc = load_named(&ca, repo, names.items[i])) < 0)
			break;
		if (ca->is_default)
			*out = ca;
		else
			cc_ca_free(ca);
	}
	if (rc == 0 && !*out)
		rc = cc_error_set(CC_ENOTFOUND, names.count
					 ? "no default CA (choose one with 'certctl ca default NAME')"
					 : "no CA in this repository (create one with 'certctl ca init NAME')");
	cc_strlist_dispose(&names);
	return rc;
}

int cc_ca_key(cc_ca *ca, cc_key **out)
{
	int rc;

	if (!ca->key && (rc = cc_key_load(&ca->key, ca->repo, ca->key_id)) < 0)
		return cc_error_set(rc, "CA '%s': %s", ca->name, cc_error_last());
	*out = ca->key;
	return 0;
}

int cc_ca_set_default(cc_txn *txn, const char *name)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_repo *repo = cc_txn_repo(txn);
	int rc, found = 0;

	if ((rc = cc_ca_names(repo, &names)) < 0)
		return rc;
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		cc_ca *ca = NULL;
		int want = !strcmp(names.items[i], name);

		found |= want;
		if ((rc = load_named(&ca, repo, names.items[i])) < 0)
			break;
		if (ca->is_default != want) {
			ca->is_default = want;
			rc = cc_ca_write_record(txn, ca);
		}
		cc_ca_free(ca);
	}
	if (rc == 0 && !found)
		rc = cc_error_set(CC_ENOTFOUND, "no CA '%s'", name);
	cc_strlist_dispose(&names);
	return rc;
}

/* Write cert.pem and chain.pem of a CA. */
static int write_certs(cc_txn *txn, const char *name, const cc_cert *cert, cc_cert *const *chain,
		       size_t nchain)
{
	cc_buf pem = CC_BUF_INIT, rel = CC_BUF_INIT;
	int rc;

	if ((rc = cc_cert_pem(cert, &pem)) < 0 || (rc = cc_ca_relpath(&rel, name, "cert.pem")) < 0 ||
	    (rc = cc_txn_write(txn, rel.ptr, pem.ptr, pem.size, 0644)) < 0)
		goto done;
	cc_buf_clear(&pem);
	cc_buf_clear(&rel);
	for (size_t i = 0; i < nchain && rc == 0; i++)
		rc = cc_cert_pem(chain[i], &pem);
	if (rc == 0 && (rc = cc_ca_relpath(&rel, name, "chain.pem")) == 0)
		rc = cc_txn_write(txn, rel.ptr, pem.ptr ? pem.ptr : "", pem.size, 0644);
done:
	cc_buf_dispose(&pem);
	cc_buf_dispose(&rel);
	return rc;
}

void cc_verify_ctx_dispose(cc_verify_ctx *v)
{
	X509_STORE_free(v->store);
	sk_X509_free(v->untrusted);
	v->store = NULL;
	v->untrusted = NULL;
}

/* Trust the top of the chain (its root, or the topmost as a partial chain). */
static int verify_ctx_init(cc_verify_ctx *v, const cc_cert *issuer, cc_cert *const *chain,
			   size_t nchain)
{
	const cc_cert *top = nchain ? chain[nchain - 1] : issuer;

	v->store = X509_STORE_new();
	v->untrusted = sk_X509_new_null();
	if (!v->store || !v->untrusted) {
		cc_verify_ctx_dispose(v);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	X509_STORE_add_cert(v->store, cc_cert_get0_x509(top));
	if (!cc_cert_is_self_signed(top))
		X509_STORE_set_flags(v->store, X509_V_FLAG_PARTIAL_CHAIN);
	if (issuer != top)
		sk_X509_push(v->untrusted, cc_cert_get0_x509(issuer));
	for (size_t i = 0; i + 1 < nchain; i++)
		sk_X509_push(v->untrusted, cc_cert_get0_x509(chain[i]));
	return 0;
}

/* The certificate's names and the first name constraints above it, as text. */
static void constraint_texts(X509_STORE_CTX *ctx, const cc_cert *cert, cc_buf *names,
			     cc_buf *limits)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	cc_strlist sans = CC_STRLIST_INIT;

	cc_cert_sans(cert, &sans);
	for (size_t i = 0; i < sans.count; i++)
		cc_buf_printf(names, "%s%s", i ? ", " : "", sans.items[i]);
	if (!sans.count && cc_cert_cn(cert))
		cc_buf_printf(names, "CN=%s", cc_cert_cn(cert));
	cc_strlist_dispose(&sans);
	for (int i = 1; chain && i < sk_X509_num(chain) && !limits->size; i++) {
		X509 *ca = sk_X509_value(chain, i);
		int idx = X509_get_ext_by_NID(ca, NID_name_constraints, -1);
		BIO *bio;
		char *data;
		long len;

		if (idx < 0 || !(bio = BIO_new(BIO_s_mem())))
			continue;
		if (X509V3_EXT_print(bio, X509_get_ext(ca, idx), 0, 0) == 1) {
			len = BIO_get_mem_data(bio, &data);
			for (long k = 0; k < len; k++) {
				char ch = data[k] == '\n' ? ' ' : data[k];

				/* one line, single spaces */
				if (ch == ' ' && (!limits->size || limits->ptr[limits->size - 1] == ' '))
					continue;
				cc_buf_putc(limits, ch);
			}
			while (limits->size && limits->ptr[limits->size - 1] == ' ')
				limits->ptr[--limits->size] = '\0';
		}
		BIO_free(bio);
	}
	if (!limits->size)
		cc_buf_puts(limits, "see the CA certificate");
}

/*
 * OpenSSL's last step of verification, less the signatures: each member of
 * the chain must be valid now.  Names, constraints, purposes and path
 * lengths were checked before this step.
 */
static int times_only(X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);

	for (int i = 0; chain && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		int err = X509_cmp_current_time(X509_get0_notBefore(x)) >= 0 ? X509_V_ERR_CERT_NOT_YET_VALID
			  : X509_cmp_current_time(X509_get0_notAfter(x)) <= 0 ? X509_V_ERR_CERT_HAS_EXPIRED
									       : X509_V_OK;

		if (err != X509_V_OK) {
			X509_STORE_CTX_set_error_depth(ctx, i);
			X509_STORE_CTX_set_current_cert(ctx, x);
			X509_STORE_CTX_set_error(ctx, err);
			return 0;
		}
	}
	return 1;
}

/* `trust_signatures`: the leaf was just signed by a key already proven to
 * match its CA certificate, and the chain above it was verified before. */
static int verify_with(const cc_verify_ctx *v, const cc_cert *cert, const char *what,
		       int trust_signatures)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = 0, err;

	if (!ctx || X509_STORE_CTX_init(ctx, v->store, cc_cert_get0_x509(cert), v->untrusted) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot verify %s", what);
		goto done;
	}
	if (trust_signatures)
		X509_STORE_CTX_set_verify(ctx, times_only);
	if (X509_verify_cert(ctx) == 1)
		goto done;
	err = X509_STORE_CTX_get_error(ctx);
	switch (err) {
	case X509_V_ERR_PERMITTED_VIOLATION:
	case X509_V_ERR_EXCLUDED_VIOLATION:
	case X509_V_ERR_SUBTREE_MINMAX:
	case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX: {
		cc_buf names = CC_BUF_INIT, limits = CC_BUF_INIT;

		constraint_texts(ctx, cert, &names, &limits);
		rc = cc_error_set(CC_EINVALID, "%s: its names (%s) are not all within the issuing "
				  "CA's name constraints (%s): %s", what, cc_buf_cstr(&names),
				  cc_buf_cstr(&limits), X509_verify_cert_error_string(err));
		cc_buf_dispose(&names);
		cc_buf_dispose(&limits);
		break;
	}
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		rc = cc_error_set(CC_EINVALID, "%s: the issuing CA's path length does not allow "
				  "another CA below it", what);
		break;
	default:
		rc = cc_error_set(CC_EINVALID, "%s does not verify: %s (depth %d)", what,
				  X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
	}
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}

int cc_ca_verify(const cc_cert *cert, const cc_cert *issuer, cc_cert *const *chain, size_t nchain,
		 const char *what)
{
	cc_verify_ctx v;
	int rc;

	if ((rc = verify_ctx_init(&v, issuer, chain, nchain)) < 0)
		return rc;
	rc = verify_with(&v, cert, what, 0);
	cc_verify_ctx_dispose(&v);
	return rc;
}

int cc_ca_verify_issued(cc_ca *ca, const cc_cert *cert, const char *what)
{
	int rc;

	/* The same store for every certificate of a batch; the first one's
	 * signatures prove the CA's key and chain, for the rest as well. */
	if (!ca->verify.store &&
	    (rc = verify_ctx_init(&ca->verify, ca->cert, ca->chain, ca->nchain)) < 0)
		return rc;
	if ((rc = verify_with(&ca->verify, cert, what, ca->signatures_proven)) == 0)
		ca->signatures_proven = 1;
	return rc;
}

int cc_ca_issuing_extensions(const cc_ca *ca, X509 *cert, X509V3_CTX *ctx)
{
	cc_buf value = CC_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < ca->crl_urls.count; i++)
		cc_buf_printf(&value, "%sURI:%s", i ? "," : "", ca->crl_urls.items[i]);
	if (value.size)
		rc = cc_ca_add_ext(cert, ctx, NID_crl_distribution_points, value.ptr);
	cc_buf_clear(&value);
	for (size_t i = 0; i < ca->issuer_urls.count; i++)
		cc_buf_printf(&value, "%scaIssuers;URI:%s", value.size ? "," : "",
			      ca->issuer_urls.items[i]);
	for (size_t i = 0; i < ca->ocsp_urls.count; i++)
		cc_buf_printf(&value, "%sOCSP;URI:%s", value.size ? "," : "", ca->ocsp_urls.items[i]);
	if (rc == 0 && value.size)
		rc = cc_ca_add_ext(cert, ctx, NID_info_access, value.ptr);
	cc_buf_dispose(&value);
	/* Policies are built directly: OpenSSL's text form needs a config database. */
	if (rc == 0 && ca->policies.count) {
		CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();

		for (size_t i = 0; pols && i < ca->policies.count && rc == 0; i++) {
			POLICYINFO *pi = POLICYINFO_new();

			if (!pi || !(pi->policyid = OBJ_txt2obj(ca->policies.items[i], 1)) ||
			    !sk_POLICYINFO_push(pols, pi)) {
				POLICYINFO_free(pi);
				rc = cc_error_openssl(CC_EINVALID, "invalid policy OID '%s'",
						      ca->policies.items[i]);
			}
		}
		if (rc == 0 && (!pols || X509_add1_ext_i2d(cert, NID_certificate_policies, pols, 0,
							   X509V3_ADD_DEFAULT) != 1))
			rc = cc_error_openssl(CC_ERROR, "cannot add the certificate policies");
		sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	}
	return rc;
}

/* Put `key: value` into the record being written, skipping absent values. */
static int put_field(cc_yaml_writer *w, const char *key, const char *value)
{
	int rc;

	if (!value)
		return 0;
	rc = cc_yaml_key(w, key);
	return rc ? rc : cc_yaml_scalar(w, value);
}

int cc_ca_index_write(cc_txn *txn, const cc_ca *ca, const cc_ca_record *r)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	int rc;

	if ((rc = cc_ca_record_path(&rel, ca, r->serial)) < 0)
		goto done;
	cc_buf_puts(&text, "# certctl: a certificate this CA issued.\n");
	if ((rc = cc_yaml_writer_new(&w, &text)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : put_field(w, "serial", r->serial);
	rc = rc ? rc : put_field(w, "subject", r->subject ? r->subject : "");
	rc = rc ? rc : put_field(w, "issued_to", r->definition ? r->definition : "");
	rc = rc ? rc : put_field(w, "cert", r->cert_id ? r->cert_id : "");
	rc = rc ? rc : put_field(w, "not_before", r->not_before ? r->not_before : "");
	rc = rc ? rc : put_field(w, "not_after", r->not_after);
	rc = rc ? rc : put_field(w, "status", r->status);
	rc = rc ? rc : put_field(w, "revoked_at", r->revoked_at);
	rc = rc ? rc : put_field(w, "reason", r->reason);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	if (rc == 0)
		rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644);
done:
	cc_yaml_writer_free(w);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_ca_index_add(cc_txn *txn, const cc_ca *ca, const cc_cert *cert, const char *issued_to)
{
	char from[32], until[32];
	cc_ca_record r;

	memset(&r, 0, sizeof(r));
	cc_time_rfc3339(cc_cert_not_before(cert), from);
	cc_time_rfc3339(cc_cert_not_after(cert), until);
	r.serial = (char *)cc_cert_serial(cert);
	r.subject = (char *)cc_cert_subject(cert);
	r.definition = (char *)issued_to;
	r.cert_id = (char *)cc_cert_id(cert);
	r.not_before = from;
	r.not_after = until;
	r.status = "valid";
	return cc_ca_index_write(txn, ca, &r);
}

static int ca_exists(cc_repo *repo, const char *name)
{
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	int found = 0;

	if (cc_ca_relpath(&rel, name, "ca.yaml") == 0 && cc_repo_path(repo, rel.ptr, &abs) == 0)
		found = cc_fs_exists(abs.ptr);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return found;
}

/* A new record for CA `name` (not yet written). */
static int new_record(cc_ca **out, cc_repo *repo, const char *name, const char *status,
		      const char *parent, const char *key_id, const cc_ca_options *opts)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_ca *ca = calloc(1, sizeof(*ca));
	char now[32];
	int rc = 0;

	*out = NULL;
	if (!ca)
		return cc_error_set(CC_ERROR, "out of memory");
	cc_time_now_rfc3339(now);
	ca->repo = repo;
	ca->name = strdup(name);
	ca->status = strdup(status);
	ca->parent = cc_strdup(parent);
	ca->key_id = strdup(key_id);
	ca->created = strdup(now);
	ca->max_validity = opts && opts->max_validity ? opts->max_validity : 398 * 86400LL;
	ca->crl_validity = 7 * 86400LL;
	if (opts && (cc_strlist_copy(&ca->crl_urls, &opts->crl_urls) < 0 ||
		     cc_strlist_copy(&ca->ocsp_urls, &opts->ocsp_urls) < 0 ||
		     cc_strlist_copy(&ca->issuer_urls, &opts->issuer_urls) < 0 ||
		     cc_strlist_copy(&ca->policies, &opts->policies) < 0))
		rc = CC_ERROR;
	/* The first CA of a repository is its default. */
	if (rc == 0 && (rc = cc_ca_names(repo, &names)) == 0)
		ca->is_default = names.count == 0;
	cc_strlist_dispose(&names);
	if (rc == 0 && (!ca->name || !ca->status || !ca->key_id || !ca->created))
		rc = cc_error_set(CC_ERROR, "out of memory");
	if (rc < 0)
		cc_ca_free(ca);
	else
		*out = ca;
	return rc;
}

static int ca_extensions(X509 *cert, X509V3_CTX *ctx, const cc_ca_options *opts, int is_root)
{
	char bc[64];
	cc_buf nc = CC_BUF_INIT;
	int rc;

	if (opts->path_len >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", opts->path_len);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	if ((rc = cc_ca_add_ext(cert, ctx, NID_basic_constraints, bc)) < 0 ||
	    (rc = cc_ca_add_ext(cert, ctx, NID_key_usage,
				"critical,keyCertSign,cRLSign,digitalSignature")) < 0 ||
	    (rc = cc_ca_add_ext(cert, ctx, NID_subject_key_identifier, "hash")) < 0)
		goto done;
	if (!is_root && (rc = cc_ca_add_ext(cert, ctx, NID_authority_key_identifier,
					    "keyid:always")) < 0)
		goto done;
	if ((rc = name_constraints_text(opts, &nc)) < 0)
		goto done;
	if (nc.size)
		rc = cc_ca_add_ext(cert, ctx, NID_name_constraints, nc.ptr);
done:
	cc_buf_dispose(&nc);
	return rc;
}

/* The CSR of an externally signed CA, with the CA extensions it asks for. */
static int make_csr(cc_buf *out, const cc_key *key, X509_NAME *subject, const cc_ca_options *opts)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509 *scratch = X509_new();
	X509V3_CTX ctx;
	BIO *bio = NULL;
	EVP_PKEY *pkey = cc_key_get0_pkey(key);
	int rc = 0;

	if (!req || !exts || !scratch) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	/* Build the extensions on a scratch certificate, then copy them over. */
	X509_set_pubkey(scratch, pkey);
	X509V3_set_ctx(&ctx, NULL, scratch, NULL, NULL, 0);
	if ((rc = ca_extensions(scratch, &ctx, opts, 1)) < 0)
		goto done;
	for (int i = 0; i < X509_get_ext_count(scratch); i++)
		sk_X509_EXTENSION_push(exts, X509_get_ext(scratch, i));
	if (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, subject) != 1 ||
	    X509_REQ_set_pubkey(req, pkey) != 1 || X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, pkey, cc_ca_digest(pkey)) <= 0 || !(bio = BIO_new(BIO_s_mem())) ||
	    PEM_write_bio_X509_REQ(bio, req) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot make the CSR");
		goto done;
	}
	{
		char *data;
		long len = BIO_get_mem_data(bio, &data);

		rc = cc_buf_put(out, data, (size_t)len);
	}
done:
	sk_X509_EXTENSION_free(exts); /* the extensions belong to scratch */
	X509_free(scratch);
	X509_REQ_free(req);
	BIO_free(bio);
	return rc;
}

int cc_ca_create(cc_txn *txn, const char *name, const cc_ca_options *opts, cc_buf *csr_out)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_ca *parent = NULL, *ca = NULL;
	cc_key *key = NULL, *signer = NULL;
	cc_cert *cert = NULL;
	cc_cert **chain = NULL;
	cc_subject subject;
	X509_NAME *name_x = NULL;
	X509 *x = NULL;
	cc_buf csr = CC_BUF_INIT, rel = CC_BUF_INIT, origin = CC_BUF_INIT;
	cc_key_spec spec;
	long long validity;
	time_t now = time(NULL);
	size_t nchain = 0;
	int rc;

	if ((rc = cc_name_check(name, "CA")) < 0 || (rc = cc_ca_check_options(opts)) < 0)
		return rc;
	if (ca_exists(repo, name))
		return cc_error_set(CC_EEXISTS, "CA '%s' already exists", name);
	if (opts->parent && opts->external)
		return cc_error_set(CC_EINVALID, "a CA has a parent in the repository or an "
				    "external one, not both");
	spec = opts->key;
	if (spec.type == CC_KEY_NONE) {
		spec.type = CC_KEY_ECDSA;
		spec.bits = 384;
	}
	if ((rc = cc_key_spec_check(&spec)) < 0)
		return rc;
	validity = opts->validity ? opts->validity
				  : (opts->parent || opts->external ? 5 : 10) * 365 * 86400LL;
	if (opts->parent) {
		if ((rc = cc_ca_load(&parent, repo, opts->parent)) < 0)
			goto done;
		if (!parent->cert) {
			rc = cc_error_set(CC_EINVALID, "CA '%s' awaits its certificate ('certctl ca "
					  "install %s')", parent->name, parent->name);
			goto done;
		}
		/* Each ancestor's path length counts the CAs below it, this one too. */
		for (size_t k = 0; k <= parent->nchain; k++) {
			const cc_cert *above = k == 0 ? parent->cert : parent->chain[k - 1];
			long limit = X509_get_pathlen(cc_cert_get0_x509(above));

			if (limit >= 0 && (size_t)limit < k + 1) {
				rc = cc_error_set(CC_EINVALID, "'%s' may not have a CA below it: its path "
						  "length is %ld (%s)", k == 0 ? parent->name
									   : cc_cert_subject(above),
						  limit, k == 0 ? "created with --path-len" : "an ancestor");
				goto done;
			}
		}
		/* Unasked, a subordinate ends with its parent rather than failing. */
		if (!opts->validity && now + validity > cc_cert_not_after(parent->cert))
			validity = (long long)(cc_cert_not_after(parent->cert) - now);
		if (now + validity > cc_cert_not_after(parent->cert)) {
			char until[32];

			cc_time_rfc3339(cc_cert_not_after(parent->cert), until);
			rc = cc_error_set(CC_EINVALID, "CA '%s' would outlive its parent '%s', which "
					  "expires %s (give a shorter --validity)", name,
					  parent->name, until);
			goto done;
		}
		if (now >= cc_cert_not_after(parent->cert)) {
			rc = cc_error_set(CC_EINVALID, "parent CA '%s' has expired", parent->name);
			goto done;
		}
	}
	subject = opts->subject;
	if (!subject.cn)
		subject.cn = (char *)name;
	if ((rc = cc_ca_subject_name(&name_x, &subject)) < 0)
		goto done;
	if ((rc = cc_key_generate(&key, &spec)) < 0)
		goto done;
	cc_buf_printf(&origin, "generated for CA '%s'", name);
	if ((rc = cc_key_store(txn, key, origin.ptr)) < 0)
		goto done;

	if (opts->external) {
		if ((rc = make_csr(&csr, key, name_x, opts)) < 0 ||
		    (rc = cc_ca_relpath(&rel, name, "request.csr")) < 0 ||
		    (rc = cc_txn_write(txn, rel.ptr, csr.ptr, csr.size, 0644)) < 0)
			goto done;
		if (csr_out && (rc = cc_buf_put(csr_out, csr.ptr, csr.size)) < 0)
			goto done;
		if ((rc = new_record(&ca, repo, name, "pending", "external", cc_key_id(key), opts)) < 0)
			goto done;
		rc = cc_ca_write_record(txn, ca);
		goto done;
	}

	/* The certificate: self-signed, or signed by the parent. */
	{
		X509V3_CTX ctx;
		X509 *issuer;
		EVP_PKEY *sign_key;

		if ((parent && (rc = cc_ca_key(parent, &signer)) < 0) ||
		    (rc = cc_ca_new_x509(&x, name_x, parent ? parent->cert : NULL, key, validity)) < 0)
			goto done;
		issuer = parent ? cc_cert_get0_x509(parent->cert) : x;
		X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
		if ((rc = ca_extensions(x, &ctx, opts, !parent)) < 0)
			goto done;
		if (parent && (rc = cc_ca_issuing_extensions(parent, x, &ctx)) < 0)
			goto done;
		sign_key = cc_key_get0_pkey(parent ? signer : key);
		if (X509_sign(x, sign_key, cc_ca_digest(sign_key)) <= 0) {
			rc = cc_error_openssl(CC_ERROR, "cannot sign the certificate of CA '%s'", name);
			goto done;
		}
		rc = cc_cert_from_x509(&cert, x);
		x = NULL;
		if (rc < 0)
			goto done;
	}
	if (parent) {
		char what[160];

		snprintf(what, sizeof(what), "CA '%s' under '%s'", name, parent->name);
		if ((rc = cc_ca_verify(cert, parent->cert, parent->chain, parent->nchain, what)) < 0)
			goto done;
		/* Its chain: the parent, then what is above the parent. */
		nchain = parent->nchain + 1;
		chain = calloc(nchain, sizeof(*chain));
		if (!chain) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		chain[0] = cc_cert_dup(parent->cert);
		for (size_t i = 0; i < parent->nchain; i++)
			chain[i + 1] = cc_cert_dup(parent->chain[i]);
		snprintf(what, sizeof(what), "ca:%s", name);
		if ((rc = cc_ca_index_add(txn, parent, cert, what)) < 0)
			goto done;
	}
	if ((rc = write_certs(txn, name, cert, chain, nchain)) < 0)
		goto done;
	if ((rc = new_record(&ca, repo, name, "active", parent ? parent->name : NULL,
			     cc_key_id(key), opts)) < 0)
		goto done;
	rc = cc_ca_write_record(txn, ca);
done:
	X509_free(x);
	X509_NAME_free(name_x);
	cc_cert_free(cert);
	cc_cert_list_free(chain, nchain);
	cc_key_free(key);
	cc_ca_free(parent);
	cc_ca_free(ca);
	cc_buf_dispose(&csr);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&origin);
	return rc;
}

/*
 * Order the issuers of `leaf` found in `pool` nearest first, up to a
 * self-signed root when the pool has one.  `*complete` tells whether it
 * reached a root; when not, `missing` (optional) names the issuer lacking.
 */
static int order_chain(const cc_cert *leaf, cc_cert **pool, size_t npool, cc_cert ***out,
		       size_t *count, int *complete, char *missing, size_t missing_size)
{
	cc_cert **ordered = calloc(npool + 1, sizeof(*ordered));
	const cc_cert *at = leaf;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	*complete = 0;
	if (!ordered)
		return cc_error_set(CC_ERROR, "out of memory");
	while (!cc_cert_is_self_signed(at) && n < npool) {
		const cc_cert *next = NULL;

		for (size_t i = 0; i < npool && !next; i++)
			if (pool[i] != at && cc_cert_issued_by(at, pool[i]))
				next = pool[i];
		if (!next)
			break;
		ordered[n++] = cc_cert_dup(next);
		at = next;
	}
	*complete = cc_cert_is_self_signed(at);
	if (!*complete && missing)
		snprintf(missing, missing_size, "%s", cc_cert_issuer(at));
	*out = ordered;
	*count = n;
	return 0;
}

int cc_ca_install(cc_txn *txn, const char *name, const void *cert_data, size_t cert_len,
		  const void *chain_data, size_t chain_len, const char *source)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_ca *ca = NULL;
	cc_cert **pool = NULL, **more = NULL, **ordered = NULL, *cert = NULL;
	size_t npool = 0, nmore = 0, nordered = 0;
	cc_key_info info;
	char missing[512];
	int rc, complete;

	memset(&info, 0, sizeof(info));
	if ((rc = cc_ca_load(&ca, repo, name)) < 0)
		return rc;
	if (strcmp(ca->status, "pending") != 0) {
		rc = cc_error_set(CC_EINVALID, "CA '%s' already has its certificate", name);
		goto done;
	}
	if ((rc = cc_key_info_load(&info, repo, ca->key_id)) < 0)
		goto done;
	if ((rc = cc_cert_parse_all(&pool, &npool, cert_data, cert_len, source)) < 0)
		goto done;
	if (chain_data && chain_len) {
		cc_cert **grown;

		if ((rc = cc_cert_parse_all(&more, &nmore, chain_data, chain_len, "chain")) < 0)
			goto done;
		grown = realloc(pool, (npool + nmore) * sizeof(*pool));
		if (!grown) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		pool = grown;
		memcpy(pool + npool, more, nmore * sizeof(*more));
		npool += nmore;
		free(more);
		more = NULL;
		nmore = 0;
	}
	for (size_t i = 0; i < npool && !cert; i++)
		if (!strcmp(cc_cert_key_fingerprint(pool[i]), info.fingerprint))
			cert = pool[i];
	if (!cert) {
		rc = cc_error_set(CC_EMISMATCH,
				  "%s: no certificate for the key of CA '%s' (key SHA-256 %s; the "
				  "file's first certificate has %s)", source, name, info.fingerprint,
				  cc_cert_key_fingerprint(pool[0]));
		goto done;
	}
	if (!cc_cert_is_ca(cert)) {
		rc = cc_error_set(CC_EINVALID, "%s: the certificate for CA '%s' is not a CA "
				  "certificate (basicConstraints CA:TRUE missing)", source, name);
		goto done;
	}
	if ((rc = order_chain(cert, pool, npool, &ordered, &nordered, &complete, missing,
			      sizeof(missing))) < 0)
		goto done;
	if (!complete) {
		rc = cc_error_set(CC_EINVALID, "the chain of CA '%s' does not reach a root: no "
				  "certificate of '%s' (give it with --chain)", name, missing);
		goto done;
	}
	if (nordered == 0) {
		rc = cc_error_set(CC_EINVALID, "%s: the certificate for CA '%s' is self-signed, "
				  "not signed by an external CA", source, name);
		goto done;
	}
	if ((rc = cc_ca_verify(cert, ordered[0], ordered + 1, nordered - 1, "the CA certificate")) < 0)
		goto done;
	if ((rc = write_certs(txn, name, cert, ordered, nordered)) < 0)
		goto done;
	free(ca->status);
	ca->status = strdup("active");
	rc = ca->status ? cc_ca_write_record(txn, ca) : cc_error_set(CC_ERROR, "out of memory");
done:
	cc_key_info_dispose(&info);
	cc_cert_list_free(pool, npool);
	cc_cert_list_free(more, nmore);
	cc_cert_list_free(ordered, nordered);
	cc_ca_free(ca);
	return rc;
}

/* The iteration counts of a PKCS#12's MAC, encrypted contents and
 * shrouded keys, checked before any of them is computed. */
static int check_bags(const STACK_OF(PKCS12_SAFEBAG) *bags, const char *source)
{
	int rc = 0;

	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags) && rc == 0; i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
		const X509_SIG *sig = PKCS12_SAFEBAG_get0_pkcs8(bag);

		if (sig) {
			const X509_ALGOR *alg = NULL;

			X509_SIG_get0(sig, &alg, NULL);
			rc = cc_pbe_check(alg, source);
		}
	}
	return rc;
}

static int pkcs12_limits(PKCS12 *p12, const char *pw, const char *source)
{
	const ASN1_INTEGER *iter = NULL;
	STACK_OF(PKCS7) *safes;
	int rc = 0;

	PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
	if (iter && ASN1_INTEGER_get(iter) > 1000000)
		return cc_error_set(CC_EINVALID, "%s: a MAC iteration count of %ld is above certctl's "
				    "limit of 1000000", source, ASN1_INTEGER_get(iter));
	if (!(safes = PKCS12_unpack_authsafes(p12))) {
		ERR_clear_error();
		return 0; /* PKCS12_parse says what is wrong */
	}
	for (int i = 0; i < sk_PKCS7_num(safes) && rc == 0; i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags = NULL;

		if (PKCS7_type_is_encrypted(p7) && p7->d.encrypted && p7->d.encrypted->enc_data) {
			if ((rc = cc_pbe_check(p7->d.encrypted->enc_data->algorithm, source)) < 0)
				break;
			bags = PKCS12_unpack_p7encdata(p7, pw, -1);
			if (!bags && cc_legacy_provider() == 0)
				bags = PKCS12_unpack_p7encdata(p7, pw, -1);
		} else if (PKCS7_type_is_data(p7)) {
			bags = PKCS12_unpack_p7data(p7);
		}
		if (bags)
			rc = check_bags(bags, source);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	ERR_clear_error();
	return rc;
}

/* Read a PKCS#12 (modern or legacy encryption) into key, certificate, others. */
int cc_pkcs12_parse(const void *data, size_t len, const cc_secret *pass, const char *source,
		    EVP_PKEY **pkey, X509 **cert, STACK_OF(X509) **others)
{
	const unsigned char *p = data;
	PKCS12 *p12 = NULL;
	const char *pw = pass ? (const char *)cc_secret_data(pass) : "";
	int rc = 0;

	*pkey = NULL;
	*cert = NULL;
	*others = NULL;
	if (len > INT32_MAX || !(p12 = d2i_PKCS12(NULL, &p, (long)len)))
		return cc_error_openssl(CC_EINVALID, "%s: not a PKCS#12 file", source);
	if ((rc = pkcs12_limits(p12, pw, source)) < 0)
		goto done;
	/* A file made without a MAC (-nomac) has no integrity to check. */
	if (PKCS12_mac_present(p12) && PKCS12_verify_mac(p12, pw, -1) != 1) {
		rc = cc_error_set(CC_EAUTH, "%s: wrong password (or a damaged file: the MAC does not "
				  "verify)", source);
		goto done;
	}
	if (PKCS12_parse(p12, pw, pkey, cert, others) != 1) {
		/* RC2-40 and other legacy ciphers need the legacy provider. */
		ERR_clear_error();
		if (cc_legacy_provider() == 0 && PKCS12_parse(p12, pw, pkey, cert, others) == 1)
			goto done;
		rc = cc_error_openssl(CC_EINVALID, "%s: cannot read the PKCS#12 contents", source);
	}
done:
	ERR_clear_error();
	PKCS12_free(p12);
	return rc;
}

int cc_ca_import(cc_txn *txn, const char *name, const void *cert_data, size_t cert_len,
		 const void *key_data, size_t key_len, const cc_secret *passphrase,
		 const char *source)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_key *key = NULL;
	cc_cert **pool = NULL, **ordered = NULL, *cert = NULL;
	size_t npool = 0, nordered = 0;
	cc_ca *ca = NULL;
	cc_buf origin = CC_BUF_INIT;
	int rc, complete;

	if ((rc = cc_name_check(name, "CA")) < 0)
		return rc;
	if (ca_exists(repo, name))
		return cc_error_set(CC_EEXISTS, "CA '%s' already exists", name);
	if (!key_data || !key_len) {
		/* A PKCS#12 holding key, certificate and chain. */
		EVP_PKEY *pkey = NULL;
		X509 *x = NULL;
		STACK_OF(X509) *others = NULL;

		if ((rc = cc_pkcs12_parse(cert_data, cert_len, passphrase, source, &pkey, &x,
					  &others)) < 0)
			goto done;
		if (!pkey || !x) {
			rc = cc_error_set(CC_EINVALID, "%s: no key and certificate in the PKCS#12 file "
					  "(give --key for a certificate file)", source);
		} else if ((rc = cc_key_from_pkey(&key, pkey)) == 0) {
			npool = 1 + (size_t)(others ? sk_X509_num(others) : 0);
			pool = calloc(npool, sizeof(*pool));
			if (!pool)
				rc = cc_error_set(CC_ERROR, "out of memory");
			for (size_t i = 0; rc == 0 && i < npool; i++) {
				X509 *xi = i == 0 ? x : sk_X509_value(others, (int)i - 1);

				if (X509_up_ref(xi))
					rc = cc_cert_from_x509(&pool[i], xi);
			}
		}
		EVP_PKEY_free(pkey);
		X509_free(x);
		sk_X509_pop_free(others, X509_free);
		if (rc < 0)
			goto done;
	} else {
		if ((rc = cc_cert_parse_all(&pool, &npool, cert_data, cert_len, source)) < 0 ||
		    (rc = cc_key_parse(&key, key_data, key_len, passphrase, "key")) < 0)
			goto done;
	}
	for (size_t i = 0; i < npool && !cert; i++)
		if (pool[i] && cc_cert_matches_key(pool[i], key))
			cert = pool[i];
	if (!cert) {
		rc = cc_error_set(CC_EMISMATCH, "%s: no certificate matches the key (key SHA-256 %s, "
				  "certificate key SHA-256 %s)", source, cc_key_fingerprint(key),
				  cc_cert_key_fingerprint(pool[0]));
		goto done;
	}
	if (!cc_cert_is_ca(cert)) {
		rc = cc_error_set(CC_EINVALID, "%s: '%s' is not a CA certificate", source,
				  cc_cert_subject(cert));
		goto done;
	}
	if ((rc = order_chain(cert, pool, npool, &ordered, &nordered, &complete, NULL, 0)) < 0)
		goto done;
	cc_buf_printf(&origin, "imported for CA '%s'", name);
	rc = cc_key_store(txn, key, origin.ptr);
	if (rc == CC_EEXISTS) {
		cc_error_clear();
		rc = 0;
	}
	if (rc < 0 || (rc = write_certs(txn, name, cert, ordered, nordered)) < 0)
		goto done;
	if ((rc = new_record(&ca, repo, name, "active",
			     cc_cert_is_self_signed(cert) ? NULL : "external", cc_key_id(key),
			     NULL)) < 0)
		goto done;
	rc = cc_ca_write_record(txn, ca);
done:
	cc_key_free(key);
	cc_cert_list_free(pool, npool);
	cc_cert_list_free(ordered, nordered);
	cc_ca_free(ca);
	cc_buf_dispose(&origin);
	return rc;
}
