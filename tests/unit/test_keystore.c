/*
 * Unit tests of lib/keystore.c: JKS written and read back, its integrity
 * digest and key protector, and format detection by content.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

static cc_key *key_;
static cc_cert *cert_;

/* A self-signed certificate for a fresh P-256 key. */
static void make_pair(void)
{
	cc_key_spec spec = { CC_KEY_ECDSA, 256 };
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	ck_assert_int_eq(cc_key_generate(&key_, &spec), 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"ks.example",
				   -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, cc_key_get0_pkey(key_));
	ck_assert_int_gt(X509_sign(x, cc_key_get0_pkey(key_), EVP_sha256()), 0);
	X509_NAME_free(name);
	ck_assert_int_eq(cc_cert_from_x509(&cert_, x), 0);
}

static void setup(void)
{
	fx_env_setup();
	make_pair();
}

static void teardown(void)
{
	cc_key_free(key_);
	cc_cert_free(cert_);
	key_ = NULL;
	cert_ = NULL;
	fx_env_teardown();
}

static cc_secret *secret(const char *text)
{
	cc_secret *s = NULL;

	ck_assert_int_eq(cc_secret_new(&s, text, strlen(text)), 0);
	return s;
}

START_TEST(test_jks_round_trip_keeps_alias_key_and_chain)
{
	cc_secret *pass = secret("s3cret-\xc3\xa9t\xc3\xa9"); /* non-ASCII: UTF-16BE in the digest */
	cc_buf jks = CC_BUF_INIT;
	cc_bundle b;

	ck_assert_int_eq(cc_jks_write(&jks, "web", key_, cert_, NULL, 0, pass), 0);
	ck_assert_uint_gt(jks.size, 100);
	ck_assert_int_eq((unsigned char)jks.ptr[0], 0xFE);
	ck_assert_int_eq(cc_bundle_read(&b, jks.ptr, jks.size, pass, NULL, "t.jks"), 0);
	ck_assert_str_eq(b.format, "jks");
	ck_assert_str_eq(b.alias, "web");
	ck_assert_ptr_nonnull(b.key);
	ck_assert_str_eq(cc_key_fingerprint(b.key), cc_key_fingerprint(key_));
	ck_assert_uint_eq(b.ncerts, 1);
	ck_assert_uint_eq(b.ntrusted, 0);
	ck_assert_str_eq(cc_cert_sha256(b.certs[0]), cc_cert_sha256(cert_));
	cc_bundle_dispose(&b);
	cc_buf_dispose(&jks);
	cc_secret_free(pass);
}
END_TEST

START_TEST(test_jks_wrong_password_and_flipped_byte_are_refused)
{
	cc_secret *pass = secret("right"), *wrong = secret("wrong");
	cc_buf jks = CC_BUF_INIT;
	cc_bundle b;

	ck_assert_int_eq(cc_jks_write(&jks, "web", key_, cert_, NULL, 0, pass), 0);
	ck_assert_int_eq(cc_bundle_read(&b, jks.ptr, jks.size, wrong, NULL, "t.jks"), CC_EAUTH);
	ck_assert_msg(strstr(cc_error_last(), "integrity"), "%s", cc_error_last());
	jks.ptr[jks.size / 2] ^= 0x01;
	ck_assert_int_eq(cc_bundle_read(&b, jks.ptr, jks.size, pass, NULL, "t.jks"), CC_EAUTH);
	jks.ptr[jks.size / 2] ^= 0x01;
	/* Every truncation is refused cleanly. */
	for (size_t len = 0; len < jks.size; len += 7)
		ck_assert_int_lt(cc_bundle_read(&b, jks.ptr, len, pass, NULL, "t.jks"), 0);
	ck_assert_int_eq(cc_bundle_read(&b, jks.ptr, jks.size, pass, NULL, "t.jks"), 0);
	cc_bundle_dispose(&b);
	cc_buf_dispose(&jks);
	cc_secret_free(pass);
	cc_secret_free(wrong);
}
END_TEST

START_TEST(test_formats_are_detected_by_content)
{
	cc_buf pem = CC_BUF_INIT, der = CC_BUF_INIT, p7 = CC_BUF_INIT, both = CC_BUF_INIT,
	       keypem = CC_BUF_INIT;
	cc_bundle b;

	ck_assert_int_eq(cc_cert_pem(cert_, &pem), 0);
	ck_assert_int_eq(cc_cert_der(cert_, &der), 0);
	ck_assert_int_eq(cc_p7b_build(&p7, &cert_, 1, 0), 0);
	ck_assert_int_eq(cc_key_export_pem(key_, NULL, &keypem), 0);
	cc_buf_put(&both, keypem.ptr, keypem.size);
	cc_buf_put(&both, pem.ptr, pem.size);

	ck_assert_int_eq(cc_bundle_read(&b, pem.ptr, pem.size, NULL, NULL, "a.pem"), 0);
	ck_assert_str_eq(b.format, "pem");
	ck_assert_uint_eq(b.ncerts, 1);
	ck_assert_ptr_null(b.key);
	cc_bundle_dispose(&b);
	ck_assert_int_eq(cc_bundle_read(&b, der.ptr, der.size, NULL, NULL, "a.cer"), 0);
	ck_assert_str_eq(b.format, "der");
	ck_assert_uint_eq(b.ncerts, 1);
	cc_bundle_dispose(&b);
	ck_assert_int_eq(cc_bundle_read(&b, p7.ptr, p7.size, NULL, NULL, "a.p7b"), 0);
	ck_assert_uint_eq(b.ncerts, 1);
	ck_assert_str_eq(cc_cert_sha256(b.certs[0]), cc_cert_sha256(cert_));
	cc_bundle_dispose(&b);
	ck_assert_int_eq(cc_bundle_read(&b, both.ptr, both.size, NULL, NULL, "both.pem"), 0);
	ck_assert_ptr_nonnull(b.key);
	ck_assert_uint_eq(b.ncerts, 1);
	cc_bundle_dispose(&b);
	ck_assert_int_eq(cc_bundle_read(&b, "garbage\n", 8, NULL, NULL, "g.txt"), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "g.txt"), "%s", cc_error_last());
	ck_assert_int_eq(cc_bundle_read(&b, "\xce\xce\xce\xce\0\0\0\2", 8, NULL, NULL, "x.jceks"),
			 CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "truncated"), "%s", cc_error_last());
	cc_buf_dispose(&pem);
	cc_buf_dispose(&der);
	cc_buf_dispose(&p7);
	cc_buf_dispose(&both);
	cc_buf_dispose_secure(&keypem);
}
END_TEST

Suite *keystore_suite(void)
{
	Suite *s = suite_create("keystore");
	TCase *tc = tcase_create("formats");

	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_jks_round_trip_keeps_alias_key_and_chain);
	tcase_add_test(tc, test_jks_wrong_password_and_flipped_byte_are_refused);
	tcase_add_test(tc, test_formats_are_detected_by_content);
	suite_add_tcase(s, tc);
	return s;
}
