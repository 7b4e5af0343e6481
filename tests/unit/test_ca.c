/*
 * Unit tests of the certificate, CA and issuing modules: parsing every
 * container, CA hierarchies and their limits, leaves and their extensions,
 * revocation and CRLs.  Certificates are checked with OpenSSL directly.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include "internal.h" /* cc_cert_get0_x509, cc_key_get0_pkey */
#include "fixture.h"
#include "suites.h"

/* Run `fn(txn)` in a transaction and commit it; fails the test on error. */
static void in_txn(const char *op, int (*fn)(cc_txn *, void *), void *arg)
{
	cc_txn *txn = NULL;
	int rc;

	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, op), 0);
	rc = fn(txn, arg);
	ck_assert_msg(rc == 0, "%s: %s", op, cc_error_last());
	ck_assert_int_eq(cc_txn_commit(txn, op, NULL), 0);
}

struct ca_args {
	const char *name;
	cc_ca_options opts;
};

static int make_ca(cc_txn *txn, void *arg)
{
	struct ca_args *a = arg;

	return cc_ca_create(txn, a->name, &a->opts, NULL);
}

static void new_ca(const char *name, const char *parent, int path_len)
{
	struct ca_args a;

	a.name = name;
	cc_ca_options_init(&a.opts);
	a.opts.parent = parent;
	a.opts.path_len = path_len;
	cc_key_spec_parse(&a.opts.key, "ecdsa:P-256");
	in_txn("ca init", make_ca, &a);
	cc_ca_options_dispose(&a.opts);
}

static cc_definition *new_def(const char *name, const char *ca)
{
	cc_definition *def = NULL;
	cc_txn *txn = NULL;

	ck_assert_int_eq(cc_definition_new(&def, fx_repo, name), 0);
	ck_assert_int_eq(cc_definition_default_names(def), 0);
	if (ca)
		def->ca = strdup(ca);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "define"), 0);
	ck_assert_msg(cc_definition_save(txn, def) == 0, "%s", cc_error_last());
	ck_assert_int_eq(cc_txn_commit(txn, "define", NULL), 0);
	return def;
}

/* Issue `def` from `ca_name` (NULL: default); the certificate, or NULL with rc. */
static int issue(const cc_definition *def, const char *ca_name, const cc_issue_options *opts,
		 cc_cert **out)
{
	cc_ca *ca = NULL;
	cc_txn *txn = NULL;
	int rc;

	*out = NULL;
	if (!(opts && opts->self_signed) && (rc = cc_ca_load(&ca, fx_repo, ca_name)) < 0)
		return rc;
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "issue"), 0);
	rc = cc_issue(txn, ca, def, opts, out, NULL);
	if (rc < 0) {
		cc_txn_abort(txn);
	} else {
		ck_assert_int_eq(cc_txn_commit(txn, "issue", NULL), 0);
	}
	cc_ca_free(ca);
	return rc;
}

/* Parsing. */

static X509 *self_signed_x509(const char *cn)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pkey);
	X509_sign(x, pkey, EVP_sha256());
	EVP_PKEY_free(pkey);
	return x;
}

static char *pem_of(X509 *x, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy;
	long n;

	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &data);
	copy = malloc((size_t)n + 1);
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return copy;
}

START_TEST(test_cert_parse_reads_pem_der_and_pkcs7_alike)
{
	X509 *a = self_signed_x509("a.example"), *b = self_signed_x509("b.example");
	cc_cert **certs = NULL;
	size_t n = 0, la, lb;
	char *pa = pem_of(a, &la), *pb = pem_of(b, &lb), *both;
	unsigned char *der = NULL, *p7der = NULL;
	int dlen = i2d_X509(a, &der), p7len;
	PKCS7 *p7 = PKCS7_new();
	STACK_OF(X509) *sk;

	/* PEM bundle with text around it */
	both = malloc(la + lb + 32);
	snprintf(both, la + lb + 32, "junk\n%s\n%s", pa, pb);
	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, both, strlen(both), "bundle"), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(cc_cert_cn(certs[0]), "a.example");
	ck_assert_str_eq(cc_cert_cn(certs[1]), "b.example");
	cc_cert_list_free(certs, n);
	/* DER */
	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, der, (size_t)dlen, "der"), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(cc_cert_subject(certs[0]), "CN=a.example");
	ck_assert_str_eq(cc_cert_serial(certs[0]), "07");
	ck_assert(cc_cert_is_self_signed(certs[0]));
	cc_cert_list_free(certs, n);
	/* PKCS#7 (P7B) in DER */
	PKCS7_set_type(p7, NID_pkcs7_signed);
	PKCS7_content_new(p7, NID_pkcs7_data);
	PKCS7_add_certificate(p7, a);
	PKCS7_add_certificate(p7, b);
	p7len = i2d_PKCS7(p7, &p7der);
	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, p7der, (size_t)p7len, "p7b"), 0);
	ck_assert_uint_eq(n, 2);
	cc_cert_list_free(certs, n);
	(void)sk;
	PKCS7_free(p7);
	OPENSSL_free(p7der);
	OPENSSL_free(der);
	free(pa);
	free(pb);
	free(both);
	X509_free(a);
	X509_free(b);
}
END_TEST

START_TEST(test_cert_parse_rejects_garbage_empty_and_truncated)
{
	X509 *a = self_signed_x509("a.example");
	cc_cert **certs = NULL;
	cc_cert *one = NULL;
	size_t n = 0, len;
	char *pem = pem_of(a, &len);

	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, "", 0, "empty"), CC_EINVALID);
	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, "hello", 5, "text"), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "text") != NULL, "%s", cc_error_last());
	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, pem, len / 2, "half.pem"), CC_EINVALID);
	ck_assert_int_eq(cc_cert_parse_all(&certs, &n, "\x30\x82\x01", 3, "der"), CC_EINVALID);
	ck_assert_ptr_null(certs);
	/* exactly one wanted */
	{
		char *two = malloc(2 * len + 1);

		memcpy(two, pem, len);
		memcpy(two + len, pem, len);
		two[2 * len] = '\0';
		ck_assert_int_eq(cc_cert_parse(&one, two, 2 * len, "two.pem"), CC_EINVALID);
		ck_assert_ptr_null(one);
		free(two);
	}
	free(pem);
	X509_free(a);
}
END_TEST

/* CAs. */

START_TEST(test_ca_first_is_default_and_root_is_a_ca)
{
	cc_ca *ca = NULL;
	const cc_cert *cert;
	X509 *x;

	new_ca("root", NULL, 1);
	ck_assert_int_eq(cc_ca_load(&ca, fx_repo, NULL), 0);
	ck_assert_str_eq(cc_ca_name(ca), "root");
	ck_assert(cc_ca_is_default(ca));
	cert = cc_ca_cert(ca);
	ck_assert_ptr_nonnull(cert);
	ck_assert(cc_cert_is_ca(cert));
	ck_assert(cc_cert_is_self_signed(cert));
	x = cc_cert_get0_x509(cert);
	ck_assert_int_eq(X509_get_pathlen(x), 1);
	ck_assert(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	ck_assert(X509_get_key_usage(x) & KU_CRL_SIGN);
	ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
	cc_ca_free(ca);
	{
		char *op = fx_git_head_trailer(fx_repo_path, "Certctl-Operation");

		ck_assert_ptr_nonnull(op);
		ck_assert_str_eq(op, "ca init");
		free(op);
	}
}
END_TEST

START_TEST(test_ca_path_length_zero_refuses_a_subordinate)
{
	struct ca_args a;
	cc_txn *txn = NULL;
	char before[41], after[41];

	new_ca("root", NULL, 0);
	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	a.name = "sub";
	cc_ca_options_init(&a.opts);
	a.opts.parent = "root";
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "ca init"), 0);
	ck_assert_int_eq(cc_ca_create(txn, "sub", &a.opts, NULL), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "path length") != NULL, "%s", cc_error_last());
	cc_txn_abort(txn);
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
	cc_ca_options_dispose(&a.opts);
}
END_TEST

START_TEST(test_ca_subordinate_chains_to_root)
{
	cc_ca *sub = NULL;
	cc_cert *const *chain;

	new_ca("root", NULL, -1);
	new_ca("sub", "root", 0);
	ck_assert_int_eq(cc_ca_load(&sub, fx_repo, "sub"), 0);
	ck_assert(!cc_ca_is_default(sub));
	ck_assert_uint_eq(cc_ca_chain(sub, &chain), 1);
	ck_assert(cc_cert_issued_by(cc_ca_cert(sub), chain[0]));
	ck_assert(!cc_cert_is_self_signed(cc_ca_cert(sub)));
	cc_ca_free(sub);
}
END_TEST

START_TEST(test_ca_external_is_pending_until_installed)
{
	struct ca_args a;
	cc_txn *txn = NULL;
	cc_buf csr = CC_BUF_INIT;
	cc_ca *ca = NULL;
	X509_REQ *req;
	BIO *bio;

	cc_ca_options_init(&a.opts);
	a.opts.external = 1;
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "ca init"), 0);
	ck_assert_int_eq(cc_ca_create(txn, "ext", &a.opts, &csr), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "ca init", NULL), 0);
	bio = BIO_new_mem_buf(csr.ptr, (int)csr.size);
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	ck_assert_int_eq(cc_ca_load(&ca, fx_repo, "ext"), 0);
	ck_assert_str_eq(cc_ca_status(ca), "pending");
	ck_assert_ptr_null(cc_ca_cert(ca));
	cc_ca_free(ca);
	X509_REQ_free(req);
	BIO_free(bio);
	cc_buf_dispose(&csr);
	cc_ca_options_dispose(&a.opts);
}
END_TEST

/* Issuing. */

START_TEST(test_issue_leaf_has_rfc5280_extensions_and_verifies)
{
	cc_definition *def;
	cc_cert *cert = NULL;
	cc_ca *ca = NULL;
	X509 *x;
	const ASN1_INTEGER *serial;
	BIGNUM *bn;
	cc_strlist sans = CC_STRLIST_INIT;

	new_ca("root", NULL, -1);
	def = new_def("www.example.com", NULL);
	cc_strlist_add(&def->sans.ip, "192.0.2.7");
	ck_assert_msg(issue(def, NULL, NULL, &cert) == 0, "%s", cc_error_last());
	x = cc_cert_get0_x509(cert);
	ck_assert(!cc_cert_is_ca(cert));
	ck_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	ck_assert(!(X509_get_key_usage(x) & KU_KEY_CERT_SIGN));
	ck_assert(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	ck_assert(!(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT));
	ck_assert_ptr_nonnull(X509_get0_authority_key_id(x));
	serial = X509_get0_serialNumber(x);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	ck_assert(!BN_is_negative(bn));
	ck_assert_int_ge(BN_num_bits(bn), 64);
	BN_free(bn);
	cc_cert_sans(cert, &sans);
	ck_assert(cc_strlist_contains(&sans, "DNS:www.example.com"));
	ck_assert(cc_strlist_contains(&sans, "IP:192.0.2.7"));
	ck_assert_int_eq(cc_ca_load(&ca, fx_repo, "root"), 0);
	ck_assert(cc_cert_issued_by(cert, cc_ca_cert(ca)));
	/* stored as current, with its key */
	{
		cc_cert *current = NULL;
		char *key_id = NULL;
		cc_key *key = NULL;

		ck_assert_int_eq(cc_cert_current(&current, NULL, NULL, fx_repo, def->name), 0);
		ck_assert_str_eq(cc_cert_id(current), cc_cert_id(cert));
		ck_assert_int_eq(cc_cert_key_id(&key_id, fx_repo, def->name, cc_cert_id(cert)), 0);
		ck_assert_int_eq(cc_key_load(&key, fx_repo, key_id), 0);
		ck_assert(cc_cert_matches_key(cert, key));
		cc_key_free(key);
		free(key_id);
		cc_cert_free(current);
	}
	cc_strlist_dispose(&sans);
	cc_ca_free(ca);
	cc_cert_free(cert);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_issue_profiles_set_extended_key_usage)
{
	cc_definition *def;
	cc_cert *cert = NULL;
	cc_issue_options opts = CC_ISSUE_OPTIONS_INIT;

	new_ca("root", NULL, -1);
	def = new_def("client.example.com", NULL);
	opts.profile = CC_PROFILE_CLIENT;
	ck_assert_int_eq(issue(def, NULL, &opts, &cert), 0);
	ck_assert(X509_get_extended_key_usage(cc_cert_get0_x509(cert)) & XKU_SSL_CLIENT);
	ck_assert(!(X509_get_extended_key_usage(cc_cert_get0_x509(cert)) & XKU_SSL_SERVER));
	cc_cert_free(cert);
	opts.profile = CC_PROFILE_SERVER_CLIENT;
	ck_assert_int_eq(issue(def, NULL, &opts, &cert), 0);
	ck_assert(X509_get_extended_key_usage(cc_cert_get0_x509(cert)) & XKU_SSL_CLIENT);
	ck_assert(X509_get_extended_key_usage(cc_cert_get0_x509(cert)) & XKU_SSL_SERVER);
	cc_cert_free(cert);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_issue_reuse_key_keeps_the_public_key)
{
	cc_definition *def;
	cc_cert *first = NULL, *second = NULL, *third = NULL;
	cc_issue_options opts = CC_ISSUE_OPTIONS_INIT;

	new_ca("root", NULL, -1);
	def = new_def("www.example.com", NULL);
	ck_assert_int_eq(issue(def, NULL, NULL, &first), 0);
	opts.reuse_key = 1;
	ck_assert_int_eq(issue(def, NULL, &opts, &second), 0);
	ck_assert_str_eq(cc_cert_key_fingerprint(first), cc_cert_key_fingerprint(second));
	ck_assert_str_ne(cc_cert_id(first), cc_cert_id(second));
	ck_assert_int_eq(issue(def, NULL, NULL, &third), 0);
	ck_assert_str_ne(cc_cert_key_fingerprint(first), cc_cert_key_fingerprint(third));
	cc_cert_free(first);
	cc_cert_free(second);
	cc_cert_free(third);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_issue_refuses_names_outside_constraints_and_long_validity)
{
	struct ca_args a;
	cc_definition *def;
	cc_cert *cert = NULL;
	cc_issue_options opts = CC_ISSUE_OPTIONS_INIT;
	char before[41], after[41];

	a.name = "corp";
	cc_ca_options_init(&a.opts);
	cc_strlist_add(&a.opts.permit_dns, "example.com");
	in_txn("ca init", make_ca, &a);
	cc_ca_options_dispose(&a.opts);
	def = new_def("www.other.org", NULL);
	ck_assert_int_eq(fx_git_head(fx_repo_path, before), 0);
	ck_assert_int_eq(issue(def, NULL, NULL, &cert), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "constraints") != NULL, "%s", cc_error_last());
	ck_assert_int_eq(fx_git_head(fx_repo_path, after), 0);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(fx_git_status_count(fx_repo_path), 0);
	cc_definition_free(def);
	def = new_def("www.example.com", NULL);
	opts.validity = 2 * 365 * 86400LL;
	ck_assert_int_eq(issue(def, NULL, &opts, &cert), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "validity") != NULL, "%s", cc_error_last());
	opts.validity = 0;
	ck_assert_int_eq(issue(def, NULL, &opts, &cert), 0);
	cc_cert_free(cert);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_issue_self_signed_needs_no_ca)
{
	cc_definition *def = new_def("appliance.example.com", NULL);
	cc_cert *cert = NULL;
	cc_issue_options opts = CC_ISSUE_OPTIONS_INIT;

	opts.self_signed = 1;
	ck_assert_msg(issue(def, NULL, &opts, &cert) == 0, "%s", cc_error_last());
	ck_assert(cc_cert_is_self_signed(cert));
	ck_assert(!cc_cert_is_ca(cert));
	cc_cert_free(cert);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_revoke_and_crl_list_the_serial)
{
	cc_definition *def;
	cc_cert *cert = NULL, *other = NULL;
	cc_ca *ca = NULL;
	cc_txn *txn = NULL;
	cc_buf pem = CC_BUF_INIT;
	X509_CRL *crl;
	X509_REVOKED *rev = NULL;
	BIO *bio;
	int reason;

	new_ca("root", NULL, -1);
	def = new_def("www.example.com", NULL);
	ck_assert_int_eq(issue(def, NULL, NULL, &cert), 0);
	ck_assert_int_eq(issue(def, NULL, NULL, &other), 0);
	ck_assert_int_eq(cc_ca_load(&ca, fx_repo, "root"), 0);
	ck_assert_int_eq(cc_revocation_reason_parse(&reason, "keyCompromise"), 0);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "ca revoke"), 0);
	ck_assert_int_eq(cc_ca_revoke(txn, ca, cc_cert_serial(cert), reason), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "revoke", NULL), 0);
	/* twice is an error; an unknown serial too */
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "ca revoke"), 0);
	ck_assert_int_eq(cc_ca_revoke(txn, ca, cc_cert_serial(cert), reason), CC_EEXISTS);
	ck_assert_int_eq(cc_ca_revoke(txn, ca, "0123ABCD", reason), CC_ENOTFOUND);
	cc_txn_abort(txn);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "ca crl"), 0);
	ck_assert_int_eq(cc_ca_crl(txn, ca, &pem), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "crl", NULL), 0);
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(crl);
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(cc_cert_get0_x509(cc_ca_cert(ca)))), 1);
	ck_assert_int_eq(X509_CRL_get0_by_serial(crl, &rev,
		(ASN1_INTEGER *)X509_get0_serialNumber(cc_cert_get0_x509(cert))), 1);
	ck_assert_int_eq(X509_CRL_get0_by_serial(crl, &rev,
		(ASN1_INTEGER *)X509_get0_serialNumber(cc_cert_get0_x509(other))), 0);
	ck_assert_ptr_nonnull(X509_CRL_get0_nextUpdate(crl));
	X509_CRL_free(crl);
	BIO_free(bio);
	cc_buf_dispose(&pem);
	cc_cert_free(cert);
	cc_cert_free(other);
	cc_ca_free(ca);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_pkcs12_bundle_reads_back_with_the_password)
{
	cc_definition *def;
	cc_cert *cert = NULL;
	cc_key *key = NULL;
	cc_secret *pass = NULL;
	cc_buf p12 = CC_BUF_INIT;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	STACK_OF(X509) *cas = NULL;
	const unsigned char *p;
	PKCS12 *parsed;

	new_ca("root", NULL, -1);
	def = new_def("client.example.com", NULL);
	ck_assert_int_eq(issue(def, NULL, NULL, &cert), 0);
	{
		char *key_id = NULL;

		ck_assert_int_eq(cc_cert_key_id(&key_id, fx_repo, def->name, cc_cert_id(cert)), 0);
		ck_assert_int_eq(cc_key_load(&key, fx_repo, key_id), 0);
		free(key_id);
	}
	cc_secret_new(&pass, "s3cret", 6);
	ck_assert_int_eq(cc_pkcs12_build(&p12, key, cert, NULL, 0, pass, "client"), 0);
	p = (const unsigned char *)p12.ptr;
	parsed = d2i_PKCS12(NULL, &p, (long)p12.size);
	ck_assert_ptr_nonnull(parsed);
	ck_assert_int_eq(PKCS12_verify_mac(parsed, "wrong", -1), 0);
	ck_assert_int_eq(PKCS12_parse(parsed, "s3cret", &pkey, &x, &cas), 1);
	ck_assert_int_eq(X509_cmp(x, cc_cert_get0_x509(cert)), 0);
	ck_assert_int_eq(EVP_PKEY_eq(pkey, cc_key_get0_pkey(key)), 1);
	EVP_PKEY_free(pkey);
	X509_free(x);
	sk_X509_pop_free(cas, X509_free);
	PKCS12_free(parsed);
	cc_buf_dispose_secure(&p12);
	cc_secret_free(pass);
	cc_key_free(key);
	cc_cert_free(cert);
	cc_definition_free(def);
}
END_TEST

Suite *ca_suite(void)
{
	Suite *s = suite_create("ca");
	TCase *tc = tcase_create("cert");

	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_cert_parse_reads_pem_der_and_pkcs7_alike);
	tcase_add_test(tc, test_cert_parse_rejects_garbage_empty_and_truncated);
	suite_add_tcase(s, tc);
	tc = tcase_create("ca");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_ca_first_is_default_and_root_is_a_ca);
	tcase_add_test(tc, test_ca_path_length_zero_refuses_a_subordinate);
	tcase_add_test(tc, test_ca_subordinate_chains_to_root);
	tcase_add_test(tc, test_ca_external_is_pending_until_installed);
	tcase_add_test(tc, test_issue_leaf_has_rfc5280_extensions_and_verifies);
	tcase_add_test(tc, test_issue_profiles_set_extended_key_usage);
	tcase_add_test(tc, test_issue_reuse_key_keeps_the_public_key);
	tcase_add_test(tc, test_issue_refuses_names_outside_constraints_and_long_validity);
	tcase_add_test(tc, test_issue_self_signed_needs_no_ca);
	tcase_add_test(tc, test_revoke_and_crl_list_the_serial);
	tcase_add_test(tc, test_pkcs12_bundle_reads_back_with_the_password);
	suite_add_tcase(s, tc);
	return s;
}
