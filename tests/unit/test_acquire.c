/*
 * Unit tests of the acquisition modules: ACME encodings (base64url, JWK,
 * RFC 7638 thumbprints, JWS signatures), HTTP header helpers, requests
 * on disk and CSRs.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

static char *b64(const void *data, size_t len)
{
	cc_buf out = CC_BUF_INIT;

	ck_assert_int_eq(cc_base64url(&out, data, len), 0);
	return out.ptr ? out.ptr : strdup("");
}

START_TEST(test_base64url_rfc4648_vectors_without_padding)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const want[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	static const unsigned char url_chars[] = { 0xfb, 0xff };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *got = b64(in[i], strlen(in[i]));

		ck_assert_str_eq(got, want[i]);
		free(got);
	}
	{
		char *got = b64(url_chars, sizeof(url_chars));

		ck_assert_str_eq(got, "-_8"); /* not "+/8=" */
		free(got);
	}
}
END_TEST

/* RFC 7638 section 3.1: the example RSA key and its thumbprint. */
START_TEST(test_jwk_thumbprint_matches_rfc7638_example)
{
	static const char n_b64[] =
		"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
		"c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGj"
		"QR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-b"
		"FTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
	unsigned char n[256];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn_n, *bn_e = BN_new();
	cc_key *key = NULL;
	cc_buf thumb = CC_BUF_INIT;
	size_t nlen = 0;
	unsigned acc = 0;
	int bits = 0;

	/* base64url-decode n by hand: the library has only the encoder public. */
	for (const char *c = n_b64; *c; c++) {
		const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

		acc = (acc << 6) | (unsigned)(strchr(alpha, *c) - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			n[nlen++] = (unsigned char)(acc >> bits);
		}
	}
	ck_assert_uint_eq(nlen, 256);
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	BN_set_word(bn_e, 65537);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
	params = OSSL_PARAM_BLD_to_param(bld);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	ck_assert_int_eq(cc_key_from_pkey(&key, pkey), 0);
	ck_assert_int_eq(cc_acme_thumbprint(&thumb, key), 0);
	ck_assert_str_eq(thumb.ptr, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	cc_buf_dispose(&thumb);
	cc_key_free(key);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
}
END_TEST

START_TEST(test_jwk_of_p256_key_has_padded_coordinates_in_member_order)
{
	cc_key_spec spec = { CC_KEY_ECDSA, 256 };
	cc_key *key = NULL;
	cc_buf jwk = CC_BUF_INIT;
	const char *x, *y;

	ck_assert_int_eq(cc_key_generate(&key, &spec), 0);
	ck_assert_int_eq(cc_acme_jwk(&jwk, key), 0);
	{
		static const char head[] = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"";

		ck_assert_msg(!strncmp(jwk.ptr, head, sizeof(head) - 1), "%s", jwk.ptr);
	}
	x = strstr(jwk.ptr, "\"x\":\"") + 5;
	y = strstr(jwk.ptr, "\"y\":\"") + 5;
	/* 32 bytes each: 43 base64url characters, whatever leading zeros. */
	ck_assert_int_eq((int)(strchr(x, '"') - x), 43);
	ck_assert_int_eq((int)(strchr(y, '"') - y), 43);
	cc_buf_dispose(&jwk);
	cc_key_free(key);
}
END_TEST

START_TEST(test_http_link_finds_each_relation_in_order)
{
	cc_http_response r;
	char *a, *b, *up;

	memset(&r, 0, sizeof(r));
	cc_strlist_add(&r.links, "<https://ca.example/cert/1/alt/0>;rel=\"alternate\", "
				 "<https://ca.example/dir>;rel=\"index\"");
	cc_strlist_add(&r.links, "<https://ca.example/cert/1/alt/1>; rel=\"alternate\"");
	cc_strlist_add(&r.links, "<https://ca.example/issuer>;rel=up");
	a = cc_http_link(&r, "alternate", 0);
	b = cc_http_link(&r, "alternate", 1);
	up = cc_http_link(&r, "up", 0);
	ck_assert_str_eq(a, "https://ca.example/cert/1/alt/0");
	ck_assert_str_eq(b, "https://ca.example/cert/1/alt/1");
	ck_assert_str_eq(up, "https://ca.example/issuer");
	ck_assert_ptr_null(cc_http_link(&r, "alternate", 2));
	ck_assert_ptr_null(cc_http_link(&r, "alt", 0));
	free(a);
	free(b);
	free(up);
	cc_strlist_dispose(&r.links);
}
END_TEST

START_TEST(test_retry_after_seconds_date_and_bounds)
{
	cc_http_response r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(cc_http_retry_after_ms(&r, 150, 10000), 150);
	r.retry_after = "3";
	ck_assert_int_eq(cc_http_retry_after_ms(&r, 150, 10000), 3000);
	r.retry_after = "3600";
	ck_assert_int_eq(cc_http_retry_after_ms(&r, 150, 10000), 10000);
	r.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"; /* in the past */
	ck_assert_int_eq(cc_http_retry_after_ms(&r, 150, 10000), 0);
	r.retry_after = "soon";
	ck_assert_int_eq(cc_http_retry_after_ms(&r, 150, 10000), 150);
}
END_TEST

/* draft-ietf-acme-ari, section 4.1: the example identifier. */
START_TEST(test_ari_certificate_identifier_matches_the_draft_example)
{
	static const unsigned char keyid[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40,
					       0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
					       0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
	X509 *x = X509_new();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;
	cc_cert *cert = NULL;
	cc_buf id = CC_BUF_INIT;

	akid->keyid = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(akid->keyid, keyid, sizeof(keyid));
	ck_assert_int_eq(X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0), 1);
	BN_hex2bn(&bn, "87654321");
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	X509_set_serialNumber(x, serial);
	{
		EVP_PKEY *k = EVP_EC_gen("P-256");
		X509_NAME *name = X509_NAME_new();

		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"ari", -1,
					   -1, 0);
		X509_set_subject_name(x, name);
		X509_set_issuer_name(x, name);
		X509_gmtime_adj(X509_getm_notBefore(x), 0);
		X509_gmtime_adj(X509_getm_notAfter(x), 3600);
		X509_set_pubkey(x, k);
		ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
		X509_NAME_free(name);
		EVP_PKEY_free(k);
	}
	ck_assert_int_eq(cc_cert_from_x509(&cert, x), 0);
	ck_assert_int_eq(cc_acme_ari_cert_id(&id, cert), 0);
	ck_assert_str_eq(id.ptr, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	cc_buf_dispose(&id);
	cc_cert_free(cert);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	AUTHORITY_KEYID_free(akid);
}
END_TEST

static cc_definition *definition(const char *yaml)
{
	cc_definition *def = NULL;

	ck_assert_msg(cc_definition_parse(&def, NULL, "www.example.com", yaml, strlen(yaml),
					  "test.yaml") == 0,
		      "%s", cc_error_last());
	return def;
}

START_TEST(test_csr_carries_subject_and_every_name_and_verifies)
{
	cc_definition *def = definition("subject:\n  cn: www.example.com\n  o: Example\n"
					"san:\n  dns: [www.example.com, example.com]\n"
					"  ip: [192.0.2.7]\n");
	cc_key_spec spec = { CC_KEY_ECDSA, 384 };
	cc_key *key = NULL;
	cc_buf pem = CC_BUF_INIT, text = CC_BUF_INIT, der = CC_BUF_INIT;
	BIO *bio;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *names = NULL;

	ck_assert_int_eq(cc_key_generate(&key, &spec), 0);
	ck_assert_int_eq(cc_csr_build(&pem, def, key), 0);
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	ck_assert_int_eq(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA384);
	exts = X509_REQ_get_extensions(req);
	for (int i = 0; i < sk_X509_EXTENSION_num(exts) && !names; i++)
		if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) ==
		    NID_subject_alt_name)
			names = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
	ck_assert_ptr_nonnull(names);
	ck_assert_int_eq(sk_GENERAL_NAME_num(names), 3);
	ck_assert_int_eq(cc_csr_describe(&pem, &text), 0);
	ck_assert_msg(strstr(text.ptr, "CN = www.example.com") && strstr(text.ptr, "O = Example") &&
			      strstr(text.ptr, "DNS:example.com") &&
			      strstr(text.ptr, "IP Address:192.0.2.7") &&
			      strstr(text.ptr, "Self-signature: valid"),
		      "%s", text.ptr);
	ck_assert_int_eq(cc_csr_to_der(&pem, &der), 0);
	ck_assert_uint_gt(der.size, 100);
	ck_assert_int_eq((unsigned char)der.ptr[0], 0x30);
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	BIO_free(bio);
	cc_buf_dispose(&pem);
	cc_buf_dispose(&text);
	cc_buf_dispose(&der);
	cc_key_free(key);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_request_survives_save_and_load_with_history_and_order_fields)
{
	cc_request *req = calloc(1, sizeof(*req)), *back = NULL;
	cc_txn *txn = NULL;
	char id[32];

	ck_assert_int_eq(cc_request_new_id(id), 0);
	req->id = strdup(id);
	req->definition = strdup("www.example.com");
	req->kind = strdup("new");
	req->provider = strdup("manual");
	req->provider_type = strdup("manual");
	req->key_id = strdup("0123456789abcdef");
	req->created = strdup("2026-11-24T00:00:00Z");
	ck_assert_int_eq(cc_request_set(req, "order-number", "PO-4711"), 0);
	ck_assert_int_eq(cc_request_set(req, "contact", "Jane <jane@example.com>"), 0);
	ck_assert_int_eq(cc_request_set(req, "notes", "line one\nline two: with colon"), 0);
	ck_assert_int_eq(cc_request_set(req, "price", "1"), CC_EINVALID);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "acquire"), 0);
	ck_assert_int_eq(cc_request_transition(NULL, req, CC_REQ_KEY_GENERATED, "new key"), 0);
	ck_assert_int_eq(cc_request_transition(txn, req, CC_REQ_FAILED, "it: failed 'badly'"), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "test: request", NULL), 0);
	ck_assert_int_eq(cc_request_load(&back, fx_repo, "www.example.com", id), 0);
	ck_assert_str_eq(back->id, id);
	ck_assert_int_eq(back->state, CC_REQ_FAILED);
	ck_assert(cc_request_is_open(back));
	ck_assert_str_eq(back->order_number, "PO-4711");
	ck_assert_str_eq(back->contact, "Jane <jane@example.com>");
	ck_assert_str_eq(back->notes, "line one\nline two: with colon");
	ck_assert_str_eq(back->error, "it: failed 'badly'");
	ck_assert_uint_eq(back->nhistory, 2);
	ck_assert_str_eq(back->history[0].state, "key-generated");
	ck_assert_str_eq(back->history[1].message, "it: failed 'badly'");
	cc_request_free(back);
	back = NULL;
	ck_assert_int_eq(cc_request_open_for(&back, fx_repo, "www.example.com"), 0);
	ck_assert_str_eq(back->id, id);
	cc_request_free(back);
	ck_assert_int_eq(cc_request_load(&back, fx_repo, "www.example.com", "../../x"), CC_EINVALID);
	ck_assert_int_eq(cc_request_load(&back, fx_repo, "www.example.com", "20990101T000000Z-0000"),
			 CC_ENOTFOUND);
	cc_request_free(req);
}
END_TEST

Suite *acquire_suite(void)
{
	Suite *s = suite_create("acquire");
	TCase *tc = tcase_create("encodings");

	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_base64url_rfc4648_vectors_without_padding);
	tcase_add_test(tc, test_jwk_thumbprint_matches_rfc7638_example);
	tcase_add_test(tc, test_jwk_of_p256_key_has_padded_coordinates_in_member_order);
	tcase_add_test(tc, test_http_link_finds_each_relation_in_order);
	tcase_add_test(tc, test_retry_after_seconds_date_and_bounds);
	tcase_add_test(tc, test_ari_certificate_identifier_matches_the_draft_example);
	tcase_add_test(tc, test_csr_carries_subject_and_every_name_and_verifies);
	suite_add_tcase(s, tc);
	tc = tcase_create("requests");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_request_survives_save_and_load_with_history_and_order_fields);
	suite_add_tcase(s, tc);
	return s;
}
