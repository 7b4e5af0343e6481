/*
 * Tests of private keys (lib/key.c): specs, generation of every type, ids
 * and fingerprints checked against OpenSSL, import of PEM/DER in every
 * supported form, encrypted export, and storage in a repository.
 */
#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

/* spec */

static cc_key_spec spec_ok(const char *text)
{
	cc_key_spec spec = { CC_KEY_NONE, 0 };
	int rc = cc_key_spec_parse(&spec, text);

	ck_assert_msg(rc == 0, "'%s' rejected: %s", text, cc_error_last());
	ck_assert_int_eq(cc_key_spec_check(&spec), 0);
	return spec;
}

START_TEST(test_key_spec_parses_every_documented_form)
{
	cc_key_spec spec;

	spec = spec_ok("rsa");
	ck_assert_int_eq(spec.type, CC_KEY_RSA);
	ck_assert(spec.bits == 2048 || spec.bits == 3072 || spec.bits == 4096);
	spec = spec_ok("rsa:2048");
	ck_assert_int_eq(spec.type, CC_KEY_RSA);
	ck_assert_uint_eq(spec.bits, 2048);
	spec = spec_ok("rsa:3072");
	ck_assert_uint_eq(spec.bits, 3072);
	spec = spec_ok("rsa:4096");
	ck_assert_uint_eq(spec.bits, 4096);
	spec = spec_ok("ecdsa");
	ck_assert_int_eq(spec.type, CC_KEY_ECDSA);
	ck_assert(spec.bits == 256 || spec.bits == 384);
	spec = spec_ok("ecdsa:P-256");
	ck_assert_int_eq(spec.type, CC_KEY_ECDSA);
	ck_assert_uint_eq(spec.bits, 256);
	spec = spec_ok("ecdsa:P-384");
	ck_assert_int_eq(spec.type, CC_KEY_ECDSA);
	ck_assert_uint_eq(spec.bits, 384);
	spec = spec_ok("ec:p-256");
	ck_assert_int_eq(spec.type, CC_KEY_ECDSA);
	ck_assert_uint_eq(spec.bits, 256);
	spec = spec_ok("ed25519");
	ck_assert_int_eq(spec.type, CC_KEY_ED25519);
}
END_TEST

START_TEST(test_key_spec_rejects_unsupported_types_and_sizes)
{
	static const char *bad[] = {
		"rsa:1024", "rsa:512", "rsa:2047", "rsa:32768", "ecdsa:P-192",
		"dsa", "", "rsa:", "rsa:abc", "ecdsa:", "ecdsa:secp256k1", "ed448", "x25519",
		"rsa:2048:extra",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cc_key_spec spec = { CC_KEY_NONE, 0 };
		int rc = cc_key_spec_parse(&spec, bad[i]);

		ck_assert_msg(rc == CC_EINVALID, "'%s' gave %d, not CC_EINVALID", bad[i], rc);
	}
}
END_TEST

START_TEST(test_key_spec_parse_accepts_stored_types_that_are_not_generated)
{
	/* Imported keys may be RSA-8192 or P-521; certctl does not make them. */
	cc_key_spec spec;
	char text[32];

	ck_assert_int_eq(cc_key_spec_parse(&spec, "rsa:8192"), 0);
	ck_assert_int_eq(spec.bits, 8192);
	ck_assert_int_eq(cc_key_spec_check(&spec), CC_EINVALID);
	ck_assert_int_eq(cc_key_spec_parse(&spec, "ecdsa:P-521"), 0);
	cc_key_spec_format(&spec, text, sizeof(text));
	ck_assert_str_eq(text, "ecdsa:P-521");
	ck_assert_int_eq(cc_key_spec_check(&spec), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "P-384") != NULL, "'%s'", cc_error_last());
}
END_TEST

START_TEST(test_key_spec_error_names_the_bad_part)
{
	cc_key_spec spec;

	ck_assert_int_eq(cc_key_spec_parse(&spec, "rsa:1024"), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "1024") != NULL, "'%s'", cc_error_last());
	ck_assert_int_eq(cc_key_spec_parse(&spec, "ecdsa:P-192"), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "P-192") != NULL, "'%s'", cc_error_last());
	ck_assert_int_eq(cc_key_spec_parse(&spec, "dsa"), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "dsa") != NULL, "'%s'", cc_error_last());
}
END_TEST

START_TEST(test_key_spec_check_rejects_bad_structs)
{
	cc_key_spec rsa_small = { CC_KEY_RSA, 1024 };
	cc_key_spec ec_521 = { CC_KEY_ECDSA, 521 };
	cc_key_spec none = { CC_KEY_NONE, 0 };
	cc_key_spec rsa_ok = { CC_KEY_RSA, 3072 };
	cc_key_spec ec_ok = { CC_KEY_ECDSA, 384 };

	ck_assert_int_eq(cc_key_spec_check(&rsa_small), CC_EINVALID);
	ck_assert_int_eq(cc_key_spec_check(&ec_521), CC_EINVALID);
	ck_assert_int_eq(cc_key_spec_check(&none), CC_EINVALID);
	ck_assert_int_eq(cc_key_spec_check(&rsa_ok), 0);
	ck_assert_int_eq(cc_key_spec_check(&ec_ok), 0);
}
END_TEST

START_TEST(test_key_spec_format_is_canonical)
{
	char out[32];
	cc_key_spec rsa = { CC_KEY_RSA, 2048 };
	cc_key_spec p256 = { CC_KEY_ECDSA, 256 };
	cc_key_spec p384 = { CC_KEY_ECDSA, 384 };
	cc_key_spec ed = { CC_KEY_ED25519, 0 };

	cc_key_spec_format(&rsa, out, sizeof(out));
	ck_assert_str_eq(out, "rsa:2048");
	cc_key_spec_format(&p256, out, sizeof(out));
	ck_assert_str_eq(out, "ecdsa:P-256");
	cc_key_spec_format(&p384, out, sizeof(out));
	ck_assert_str_eq(out, "ecdsa:P-384");
	cc_key_spec_format(&ed, out, sizeof(out));
	ck_assert_str_eq(out, "ed25519");
}
END_TEST

START_TEST(test_key_spec_parse_format_round_trip)
{
	static const char *texts[] = {
		"rsa", "rsa:2048", "rsa:3072", "rsa:4096", "ecdsa", "ecdsa:P-256", "ecdsa:P-384",
		"ec:p-384", "ed25519",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cc_key_spec spec = spec_ok(texts[i]), back = { CC_KEY_NONE, 0 };
		char out[32], again[32];

		cc_key_spec_format(&spec, out, sizeof(out));
		ck_assert_msg(cc_key_spec_parse(&back, out) == 0, "'%s' -> '%s' does not parse",
			      texts[i], out);
		ck_assert_int_eq(back.type, spec.type);
		if (spec.type != CC_KEY_ED25519)
			ck_assert_uint_eq(back.bits, spec.bits);
		cc_key_spec_format(&back, again, sizeof(again));
		ck_assert_str_eq(out, again);
	}
}
END_TEST

START_TEST(test_key_type_and_curve_names)
{
	ck_assert_str_eq(cc_key_type_name(CC_KEY_RSA), "rsa");
	ck_assert_str_eq(cc_key_type_name(CC_KEY_ECDSA), "ecdsa");
	ck_assert_str_eq(cc_key_type_name(CC_KEY_ED25519), "ed25519");
	ck_assert_str_eq(cc_key_curve_name(256), "P-256");
	ck_assert_str_eq(cc_key_curve_name(384), "P-384");
	ck_assert_ptr_null(cc_key_curve_name(2048));
	ck_assert_ptr_null(cc_key_curve_name(0));
}
END_TEST

/* keys */

static int is_lower_hex(const char *s, size_t len)
{
	if (!s || strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

/* SHA-256 of the SubjectPublicKeyInfo DER, hex, computed with OpenSSL. */
static void spki_sha256_hex(EVP_PKEY *pkey, char out[65])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len = i2d_PUBKEY(pkey, &der);

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(mdlen, 32);
	cc_hex(out, md, 32);
	OPENSSL_free(der);
}

static cc_key *generate(const char *spec_text)
{
	cc_key_spec spec = spec_ok(spec_text);
	cc_key *key = NULL;
	int rc = cc_key_generate(&key, &spec);

	ck_assert_msg(rc == 0, "generate %s: %d %s", spec_text, rc, cc_error_last());
	ck_assert_ptr_nonnull(key);
	return key;
}

/* Everything the header promises about a fresh key's identity. */
static void assert_key_identity(const cc_key *key, cc_key_type type, unsigned bits)
{
	EVP_PKEY *pkey = cc_key_get0_pkey(key);
	cc_key_spec got;
	char expected[65];
	cc_buf pem = CC_BUF_INIT;
	BIO *bio;
	EVP_PKEY *pub;

	ck_assert_ptr_nonnull(pkey);
	cc_key_get_spec(key, &got);
	ck_assert_int_eq(got.type, type);
	if (type != CC_KEY_ED25519)
		ck_assert_uint_eq(got.bits, bits);
	ck_assert_msg(is_lower_hex(cc_key_id(key), 16), "id '%s'", cc_key_id(key));
	ck_assert_msg(is_lower_hex(cc_key_fingerprint(key), 64), "fingerprint '%s'",
		      cc_key_fingerprint(key));
	spki_sha256_hex(pkey, expected);
	ck_assert_str_eq(cc_key_fingerprint(key), expected);
	expected[16] = '\0';
	ck_assert_str_eq(cc_key_id(key), expected);
	/* the id is stable */
	ck_assert_str_eq(cc_key_id(key), expected);
	ck_assert_ptr_eq(cc_key_id(key), cc_key_id(key));

	ck_assert_int_eq(cc_key_public_pem(key, &pem), 0);
	ck_assert_msg(strncmp(cc_buf_cstr(&pem), "-----BEGIN PUBLIC KEY-----\n", 27) == 0, "%s",
		      cc_buf_cstr(&pem));
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(pub);
	ck_assert_int_eq(EVP_PKEY_eq(pub, pkey), 1);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	cc_buf_dispose(&pem);
}

static cc_key *parse_ok(const void *data, size_t len, const cc_secret *pass)
{
	cc_key *key = NULL;
	int rc = cc_key_parse(&key, data, len, pass, "test input");

	ck_assert_msg(rc == 0, "cc_key_parse: %d %s", rc, cc_error_last());
	ck_assert_ptr_nonnull(key);
	return key;
}

/* Export in clear, parse back, same id; returns nothing, frees all. */
static void assert_clear_export_round_trips(const cc_key *key)
{
	cc_buf pem = CC_BUF_INIT;
	cc_key *back;

	ck_assert_int_eq(cc_key_export_pem(key, NULL, &pem), 0);
	ck_assert_msg(strncmp(cc_buf_cstr(&pem), "-----BEGIN PRIVATE KEY-----\n", 28) == 0, "%s",
		      cc_buf_cstr(&pem));
	back = parse_ok(pem.ptr, pem.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	ck_assert_str_eq(cc_key_fingerprint(back), cc_key_fingerprint(key));
	ck_assert_int_eq(EVP_PKEY_eq(cc_key_get0_pkey(back), cc_key_get0_pkey(key)), 1);
	cc_key_free(back);
	cc_buf_dispose_secure(&pem);
}

/* The private key in DER (PKCS#8 when `pkcs8`, else the type's own form). */
static void der_of(EVP_PKEY *pkey, int pkcs8, cc_buf *out)
{
	unsigned char *der = NULL;
	int len;

	if (pkcs8) {
		PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);

		ck_assert_ptr_nonnull(p8);
		len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
		PKCS8_PRIV_KEY_INFO_free(p8);
	} else {
		len = i2d_PrivateKey(pkey, &der);
	}
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(cc_buf_put(out, der, (size_t)len), 0);
	OPENSSL_clear_free(der, (size_t)len);
}

/* Traditional PEM (PKCS#1 for RSA, SEC1 for EC), optionally encrypted. */
static void traditional_pem_of(EVP_PKEY *pkey, const char *pass, cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(
				 bio, pkey, pass ? EVP_aes_128_cbc() : NULL,
				 (unsigned char *)pass, pass ? (int)strlen(pass) : 0, NULL, NULL),
			 1);
	len = BIO_get_mem_data(bio, &data);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(cc_buf_put(out, data, (size_t)len), 0);
	BIO_free(bio);
}

START_TEST(test_key_generate_rsa_2048_and_read_it_back_in_every_form)
{
	/* The only RSA key of the suite: RSA generation is slow. */
	cc_key *key = generate("rsa:2048"), *back;
	cc_buf der = CC_BUF_INIT, pem = CC_BUF_INIT;

	assert_key_identity(key, CC_KEY_RSA, 2048);
	ck_assert_int_eq(EVP_PKEY_get_base_id(cc_key_get0_pkey(key)), EVP_PKEY_RSA);
	ck_assert_int_eq(EVP_PKEY_get_bits(cc_key_get0_pkey(key)), 2048);
	assert_clear_export_round_trips(key);

	/* PKCS#1 PEM */
	traditional_pem_of(cc_key_get0_pkey(key), NULL, &pem);
	ck_assert_ptr_nonnull(strstr(cc_buf_cstr(&pem), "BEGIN RSA PRIVATE KEY"));
	back = parse_ok(pem.ptr, pem.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);

	/* PKCS#1 DER and PKCS#8 DER */
	der_of(cc_key_get0_pkey(key), 0, &der);
	back = parse_ok(der.ptr, der.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	cc_buf_clear(&der);
	der_of(cc_key_get0_pkey(key), 1, &der);
	back = parse_ok(der.ptr, der.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);

	cc_buf_dispose_secure(&der);
	cc_buf_dispose_secure(&pem);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_generate_ecdsa_p256)
{
	cc_key *key = generate("ecdsa:P-256");
	char group[64] = "";

	assert_key_identity(key, CC_KEY_ECDSA, 256);
	ck_assert_int_eq(EVP_PKEY_get_base_id(cc_key_get0_pkey(key)), EVP_PKEY_EC);
	ck_assert_int_eq(EVP_PKEY_get_group_name(cc_key_get0_pkey(key), group, sizeof(group), NULL),
			 1);
	ck_assert_str_eq(group, "prime256v1");
	assert_clear_export_round_trips(key);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_generate_ecdsa_p384)
{
	cc_key *key = generate("ecdsa:P-384");
	char group[64] = "";

	assert_key_identity(key, CC_KEY_ECDSA, 384);
	ck_assert_int_eq(EVP_PKEY_get_group_name(cc_key_get0_pkey(key), group, sizeof(group), NULL),
			 1);
	ck_assert_str_eq(group, "secp384r1");
	assert_clear_export_round_trips(key);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_generate_ed25519)
{
	cc_key *key = generate("ed25519");

	assert_key_identity(key, CC_KEY_ED25519, 0);
	ck_assert_int_eq(EVP_PKEY_get_base_id(cc_key_get0_pkey(key)), EVP_PKEY_ED25519);
	assert_clear_export_round_trips(key);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_generate_gives_a_new_key_each_time)
{
	cc_key *a = generate("ed25519"), *b = generate("ed25519");

	ck_assert_str_ne(cc_key_id(a), cc_key_id(b));
	cc_key_free(a);
	cc_key_free(b);
}
END_TEST

START_TEST(test_key_generate_rejects_unsupported_spec)
{
	cc_key_spec small = { CC_KEY_RSA, 1024 }, none = { CC_KEY_NONE, 0 };
	cc_key_spec p521 = { CC_KEY_ECDSA, 521 };
	cc_key *key = NULL;

	ck_assert_int_eq(cc_key_generate(&key, &small), CC_EINVALID);
	ck_assert_ptr_null(key);
	ck_assert_int_eq(cc_key_generate(&key, &none), CC_EINVALID);
	ck_assert_int_eq(cc_key_generate(&key, &p521), CC_EINVALID);
	ck_assert_ptr_null(key);
}
END_TEST

START_TEST(test_key_from_pkey_gives_same_id_as_parse)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	cc_key *key = NULL;
	char expected[65];

	ck_assert_ptr_nonnull(pkey);
	spki_sha256_hex(pkey, expected);
	ck_assert_int_eq(cc_key_from_pkey(&key, pkey), 0);
	EVP_PKEY_free(pkey); /* the key holds its own reference */
	expected[16] = '\0';
	ck_assert_str_eq(cc_key_id(key), expected);
	assert_key_identity(key, CC_KEY_ECDSA, 256);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_sec1_pem_and_der)
{
	cc_key *key = generate("ecdsa:P-384"), *back;
	cc_buf pem = CC_BUF_INIT, der = CC_BUF_INIT;

	traditional_pem_of(cc_key_get0_pkey(key), NULL, &pem);
	ck_assert_ptr_nonnull(strstr(cc_buf_cstr(&pem), "BEGIN EC PRIVATE KEY"));
	back = parse_ok(pem.ptr, pem.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	der_of(cc_key_get0_pkey(key), 0, &der);
	back = parse_ok(der.ptr, der.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	cc_buf_dispose_secure(&pem);
	cc_buf_dispose_secure(&der);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_ed25519_pkcs8_der)
{
	cc_key *key = generate("ed25519"), *back;
	cc_buf der = CC_BUF_INIT;

	der_of(cc_key_get0_pkey(key), 1, &der);
	back = parse_ok(der.ptr, der.size, NULL);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	cc_buf_dispose_secure(&der);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_encrypted_traditional_pem)
{
	cc_key *key = generate("ecdsa:P-256"), *back = NULL;
	cc_secret *right = NULL, *wrong = NULL;
	cc_buf pem = CC_BUF_INIT;

	traditional_pem_of(cc_key_get0_pkey(key), "open sesame", &pem);
	ck_assert_ptr_nonnull(strstr(cc_buf_cstr(&pem), "ENCRYPTED"));
	ck_assert_int_eq(cc_secret_new(&right, "open sesame", 11), 0);
	ck_assert_int_eq(cc_secret_new(&wrong, "open sesame!", 12), 0);
	ck_assert_int_eq(cc_key_parse(&back, pem.ptr, pem.size, wrong, "k.pem"), CC_EAUTH);
	ck_assert_ptr_null(back);
	back = parse_ok(pem.ptr, pem.size, right);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	cc_secret_free(right);
	cc_secret_free(wrong);
	cc_buf_dispose_secure(&pem);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_pkcs8_encrypted_by_openssl_with_pbkdf2)
{
	cc_key *key = generate("ed25519"), *back = NULL;
	cc_secret *right = NULL, *wrong = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, cc_key_get0_pkey(key),
						       EVP_aes_256_cbc(), "pw", 2, NULL, NULL),
			 1);
	len = BIO_get_mem_data(bio, &data);
	ck_assert_ptr_nonnull(strstr(data, "BEGIN ENCRYPTED PRIVATE KEY"));
	ck_assert_int_eq(cc_secret_new(&right, "pw", 2), 0);
	ck_assert_int_eq(cc_secret_new(&wrong, "pW", 2), 0);
	ck_assert_int_eq(cc_key_parse(&back, data, (size_t)len, wrong, "k.pem"), CC_EAUTH);
	back = parse_ok(data, (size_t)len, right);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	cc_secret_free(right);
	cc_secret_free(wrong);
	BIO_free(bio);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_export_encrypted_uses_scrypt_and_aes_256_cbc)
{
	cc_key *key = generate("ecdsa:P-256");
	cc_secret *pass = NULL;
	cc_buf pem = CC_BUF_INIT;
	BIO *bio;
	X509_SIG *p8;
	const X509_ALGOR *alg = NULL;
	PBE2PARAM *pbe2;
	EVP_PKEY *decrypted;

	ck_assert_int_eq(cc_secret_new(&pass, "export pass", 11), 0);
	ck_assert_int_eq(cc_key_export_pem(key, pass, &pem), 0);
	ck_assert_msg(strncmp(cc_buf_cstr(&pem), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38) == 0,
		      "%s", cc_buf_cstr(&pem));
	ck_assert_ptr_null(strstr(cc_buf_cstr(&pem), "BEGIN PRIVATE KEY"));

	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	p8 = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(p8);
	X509_SIG_get0(p8, &alg, NULL);
	ck_assert_int_eq(OBJ_obj2nid(alg->algorithm), NID_pbes2);
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
	ck_assert_ptr_nonnull(pbe2);
	ck_assert_int_eq(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_scrypt);
	ck_assert_int_eq(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
	PBE2PARAM_free(pbe2);
	X509_SIG_free(p8);
	BIO_free(bio);

	/* OpenSSL itself decrypts it to the same key */
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	decrypted = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"export pass");
	ck_assert_ptr_nonnull(decrypted);
	ck_assert_int_eq(EVP_PKEY_eq(decrypted, cc_key_get0_pkey(key)), 1);
	EVP_PKEY_free(decrypted);
	BIO_free(bio);

	cc_secret_free(pass);
	cc_buf_dispose_secure(&pem);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_export_encrypted_parses_back_only_with_right_passphrase)
{
	cc_key *key = generate("ed25519"), *back = NULL;
	cc_secret *pass = NULL, *wrong = NULL, *empty = NULL;
	cc_buf pem = CC_BUF_INIT;

	ck_assert_int_eq(cc_secret_new(&pass, "correct horse", 13), 0);
	ck_assert_int_eq(cc_secret_new(&wrong, "battery staple", 14), 0);
	ck_assert_int_eq(cc_secret_new(&empty, "", 0), 0);
	ck_assert_int_eq(cc_key_export_pem(key, pass, &pem), 0);

	ck_assert_int_eq(cc_key_parse(&back, pem.ptr, pem.size, wrong, "export.pem"), CC_EAUTH);
	ck_assert_ptr_null(back);
	ck_assert_int_eq(cc_key_parse(&back, pem.ptr, pem.size, empty, "export.pem"), CC_EAUTH);
	ck_assert_ptr_null(back);
	/* no passphrase at all cannot open it either */
	ck_assert_int_lt(cc_key_parse(&back, pem.ptr, pem.size, NULL, "export.pem"), 0);
	ck_assert_ptr_null(back);

	back = parse_ok(pem.ptr, pem.size, pass);
	ck_assert_str_eq(cc_key_id(back), cc_key_id(key));
	cc_key_free(back);
	cc_secret_free(pass);
	cc_secret_free(wrong);
	cc_secret_free(empty);
	cc_buf_dispose_secure(&pem);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_auth_error_does_not_reveal_passphrase)
{
	cc_key *key = generate("ed25519"), *back = NULL;
	cc_secret *pass = NULL, *wrong = NULL;
	cc_buf pem = CC_BUF_INIT;

	ck_assert_int_eq(cc_secret_new(&pass, "right-one", 9), 0);
	ck_assert_int_eq(cc_secret_new(&wrong, "SuperSecretGuess", 16), 0);
	ck_assert_int_eq(cc_key_export_pem(key, pass, &pem), 0);
	ck_assert_int_eq(cc_key_parse(&back, pem.ptr, pem.size, wrong, "export.pem"), CC_EAUTH);
	ck_assert_ptr_null(strstr(cc_error_last(), "SuperSecretGuess"));
	ck_assert_ptr_null(strstr(cc_error_last(), "right-one"));
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "export.pem"));
	cc_secret_free(pass);
	cc_secret_free(wrong);
	cc_buf_dispose_secure(&pem);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_rejects_garbage)
{
	static const char garbage[] = "this is not a key\n";
	static const char truncated[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n";
	static const unsigned char junk_der[] = { 0x30, 0x82, 0xff, 0xff, 0x02, 0x01 };
	cc_key *key = NULL;

	ck_assert_int_eq(cc_key_parse(&key, garbage, strlen(garbage), NULL, "junk.pem"),
			 CC_EINVALID);
	ck_assert_ptr_null(key);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "junk.pem"));
	ck_assert_int_eq(cc_key_parse(&key, "", 0, NULL, "empty.pem"), CC_EINVALID);
	ck_assert_int_eq(cc_key_parse(&key, truncated, strlen(truncated), NULL, "t.pem"),
			 CC_EINVALID);
	ck_assert_int_eq(cc_key_parse(&key, junk_der, sizeof(junk_der), NULL, "j.der"),
			 CC_EINVALID);
	ck_assert_ptr_null(key);
}
END_TEST

START_TEST(test_key_parse_rejects_public_key)
{
	cc_key *key = generate("ecdsa:P-256"), *back = NULL;
	cc_buf pem = CC_BUF_INIT;

	ck_assert_int_eq(cc_key_public_pem(key, &pem), 0);
	ck_assert_int_eq(cc_key_parse(&back, pem.ptr, pem.size, NULL, "pub.pem"), CC_EINVALID);
	ck_assert_ptr_null(back);
	cc_buf_dispose(&pem);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_imports_p521_but_rejects_secp256k1)
{
	EVP_PKEY *p521 = EVP_EC_gen("P-521");
	cc_key_spec spec;
	cc_key *imported = NULL;

	/* P-521 can be imported and stored, though certctl never generates it. */
	ck_assert_ptr_nonnull(p521);
	ck_assert_int_eq(cc_key_from_pkey(&imported, p521), 0);
	cc_key_get_spec(imported, &spec);
	ck_assert_int_eq(spec.type, CC_KEY_ECDSA);
	ck_assert_int_eq(spec.bits, 521);
	cc_key_free(imported);
	EVP_PKEY_free(p521);
}
END_TEST

START_TEST(test_key_parse_rejects_unsupported_curve)
{
	/* secp256k1 has 256 bits like P-256, but it is not a web-PKI curve */
	EVP_PKEY *pkey = EVP_EC_gen("secp256k1");
	cc_key *key = NULL;
	cc_buf pem = CC_BUF_INIT;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	ck_assert_int_eq(cc_key_parse(&key, data, (size_t)len, NULL, "k256.pem"), CC_EINVALID);
	ck_assert_ptr_null(key);
	ck_assert_int_eq(cc_key_from_pkey(&key, pkey), CC_EINVALID);
	ck_assert_ptr_null(key);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	cc_buf_dispose(&pem);
}
END_TEST

/* A fixed RSA-1024 key (generating one would be slow and pointless). */
static const char rsa1024_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKWi4VTxEhgzf9Hf\n"
	"wC355bRiZsnmunDcuCBbh5gKf/vawaTw6xlPSHxpMqN1hq3cCD/13BCEijD/gPT1\n"
	"dfyJ+d85UC4CxOCUTL8CpWd3+7TKz8bVZi6h9vMKZaOAKZab2mo6LDSc3Vnhgiui\n"
	"XeIsoPcSPkyMUhai3AKDvgdQUaE/AgMBAAECgYAC7yzAvXiNlzP3ethDuD6agHfD\n"
	"seOxpidY42Y2ilEUHB78FgyEKURmd9Ke1LErGU/IGknovQBZt90H+eU6MRONGoGA\n"
	"gjGmTqfMr7mxTLzq4sxvtlntog9bgTSXY/mbja1tK0uNMVYRFSjNMA80uCFuK0ob\n"
	"PqL6nsb4o6D24HKW0QJBANMKk/hnkJL1vHvh1ErNV8vkNcq6KrgftISFcAlgBqy6\n"
	"OpfaTmdT8mLwfcvv/rsqAhtCJUCY5inUBMSuLA3exfkCQQDI7BNh3jG6wagBf6fO\n"
	"+tlrji6+5jsKehGjLljS9OJWi2H4J+WSh8S3Q1M+Mp90hMhD4OoNtrUL+ViuK7+b\n"
	"NQ73AkBFybG060p7zpdNwBgbxFvMKONA7t9Bk/p1+EpcT0zlwY+ut5pFwRTecvim\n"
	"f+6UpgecS/tVqTozitEo2Q/oZkrBAkEAmkeEHosyHlhjfDscjLdbydXUmStKPKI8\n"
	"9tM4y0vUnGXMpXNlOZ3c9GfS/Jh8jkkDSfPjZQJdhMNDUAIxz6jvQwJAct0/U/MA\n"
	"e8B5qU1/VX2mbJoqG/5JiGb05qEQxIhxlEN90zSW6J1/Of+sd71QM0yUOQam1FS7\n"
	"vcnkxo/DqKyweA==\n"
	"-----END PRIVATE KEY-----\n";

START_TEST(test_key_parse_rejects_rsa_1024)
{
	cc_key *key = NULL;
	int rc = cc_key_parse(&key, rsa1024_pem, strlen(rsa1024_pem), NULL, "weak.pem");

	ck_assert_msg(rc == CC_EINVALID, "a 1024-bit RSA key gave %d, not CC_EINVALID", rc);
	ck_assert_ptr_null(key);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_parse_rejects_secp256k1_instead_of_calling_it_p256)
{
	EVP_PKEY *pkey = EVP_EC_gen("secp256k1");
	cc_key *key = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	int rc;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	rc = cc_key_parse(&key, data, (size_t)len, NULL, "k1.pem");
	if (rc == 0) {
		cc_key_spec spec;

		cc_key_get_spec(key, &spec);
		ck_abort_msg("secp256k1 key accepted as type %d, %u bits", spec.type, spec.bits);
	}
	ck_assert_int_eq(rc, CC_EINVALID);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
}
END_TEST

START_TEST(test_key_free_accepts_null)
{
	cc_key *key = generate("ed25519");

	cc_key_free(NULL);
	ck_assert_uint_eq(strlen(cc_key_id(key)), 16);
	cc_key_free(key);
}
END_TEST

/* storage in a repository */

static cc_key *store_new_key(const char *spec_text)
{
	cc_key *key = generate(spec_text);
	cc_txn *txn = NULL;
	int rc;

	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "key generate"), 0);
	rc = cc_key_store(txn, key, "generated");
	ck_assert_msg(rc == 0, "cc_key_store: %d %s", rc, cc_error_last());
	rc = cc_txn_commit(txn, "key: generated", NULL);
	ck_assert_msg(rc == 0, "cc_txn_commit: %d %s", rc, cc_error_last());
	return key;
}

/* Repositories written before keys/ fanned out keep keys/ID.pem: still read. */
START_TEST(test_key_flat_layout_of_older_repositories_still_loads)
{
	cc_key *key = store_new_key("ecdsa:P-256"), *loaded = NULL;
	cc_key_info *infos = NULL;
	size_t count = 0;
	char from[PATH_MAX], to[PATH_MAX], prefix[8];
	const char *exts[] = { "pem", "yaml" };

	for (int i = 0; i < 2; i++) {
		fx_pathf(from, sizeof(from), "%s/keys/%.2s/%s.%s", fx_repo_path, cc_key_id(key),
			 cc_key_id(key), exts[i]);
		fx_pathf(to, sizeof(to), "%s/keys/%s.%s", fx_repo_path, cc_key_id(key), exts[i]);
		ck_assert_int_eq(rename(from, to), 0);
	}
	ck_assert_int_eq(cc_key_load(&loaded, fx_repo, cc_key_id(key)), 0);
	ck_assert_str_eq(cc_key_fingerprint(loaded), cc_key_fingerprint(key));
	cc_key_free(loaded);
	snprintf(prefix, sizeof(prefix), "%.6s", cc_key_id(key));
	ck_assert_int_eq(cc_key_load(&loaded, fx_repo, prefix), 0);
	cc_key_free(loaded);
	ck_assert_int_eq(cc_key_info_list(fx_repo, &infos, &count), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_str_eq(infos[0].id, cc_key_id(key));
	cc_key_info_list_free(infos, count);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_store_writes_encrypted_pem_0600_and_metadata)
{
	cc_key *key = store_new_key("ecdsa:P-256");
	char rel[64], path[PATH_MAX], secret_path[PATH_MAX];
	char *pem, *meta, *secret;
	BIO *bio;
	EVP_PKEY *decrypted;

	snprintf(rel, sizeof(rel), "repo/keys/%.2s/%s.pem", cc_key_id(key), cc_key_id(key));
	fx_path(path, sizeof(path), rel);
	ck_assert_int_eq(fx_mode(path), 0600);
	pem = fx_read_file(path);
	ck_assert_ptr_nonnull(pem);
	ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	ck_assert_ptr_null(strstr(pem, "BEGIN PRIVATE KEY"));

	/* the documented recovery path: openssl with the secret file as password */
	fx_pathf(secret_path, sizeof(secret_path), "%s/%s.key", fx_secret_dir, cc_repo_id(fx_repo));
	secret = fx_read_file(secret_path);
	ck_assert_ptr_nonnull(secret);
	secret[strcspn(secret, "\r\n")] = '\0';
	bio = BIO_new_mem_buf(pem, -1);
	decrypted = PEM_read_bio_PrivateKey(bio, NULL, NULL, secret);
	ck_assert_msg(decrypted != NULL, "openssl cannot decrypt keys/%s.pem with the secret",
		      cc_key_id(key));
	ck_assert_int_eq(EVP_PKEY_eq(decrypted, cc_key_get0_pkey(key)), 1);
	EVP_PKEY_free(decrypted);
	BIO_free(bio);

	snprintf(rel, sizeof(rel), "repo/keys/%.2s/%s.yaml", cc_key_id(key), cc_key_id(key));
	fx_path(path, sizeof(path), rel);
	meta = fx_read_file(path);
	ck_assert_ptr_nonnull(meta);
	ck_assert_ptr_nonnull(strstr(meta, cc_key_id(key)));
	ck_assert_ptr_nonnull(strstr(meta, cc_key_fingerprint(key)));
	ck_assert_ptr_nonnull(strstr(meta, "generated"));

	/* both files are in the commit */
	snprintf(rel, sizeof(rel), "keys/%.2s/%s.pem", cc_key_id(key), cc_key_id(key));
	{
		char *committed = fx_git_head_file(fx_repo_path, rel);

		ck_assert_ptr_nonnull(committed);
		ck_assert_str_eq(committed, pem);
		free(committed);
	}
	free(pem);
	free(meta);
	free(secret);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_store_twice_is_exists)
{
	cc_key *key = store_new_key("ed25519");
	cc_txn *txn = NULL;

	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "key import"), 0);
	ck_assert_int_eq(cc_key_store(txn, key, "imported from 'x.pem'"), CC_EEXISTS);
	cc_txn_abort(txn);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_load_by_id_and_prefix)
{
	cc_key *key = store_new_key("ed25519"), *loaded = NULL;
	cc_repo *other = NULL;
	char prefix[5];

	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_key_load(&loaded, other, cc_key_id(key)), 0);
	ck_assert_str_eq(cc_key_id(loaded), cc_key_id(key));
	ck_assert_int_eq(EVP_PKEY_eq(cc_key_get0_pkey(loaded), cc_key_get0_pkey(key)), 1);
	cc_key_free(loaded);
	loaded = NULL;
	memcpy(prefix, cc_key_id(key), 4);
	prefix[4] = '\0';
	ck_assert_int_eq(cc_key_load(&loaded, other, prefix), 0);
	ck_assert_str_eq(cc_key_id(loaded), cc_key_id(key));
	cc_key_free(loaded);
	cc_repo_free(other);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_load_unknown_id_is_not_found)
{
	cc_key *loaded = NULL;

	ck_assert_int_eq(cc_key_load(&loaded, fx_repo, "0123456789abcdef"), CC_ENOTFOUND);
	ck_assert_ptr_null(loaded);
}
END_TEST

START_TEST(test_key_load_with_too_short_prefix_fails)
{
	cc_key *key = store_new_key("ed25519"), *loaded = NULL;
	char prefix[4];

	memcpy(prefix, cc_key_id(key), 3);
	prefix[3] = '\0';
	ck_assert_int_lt(cc_key_load(&loaded, fx_repo, prefix), 0);
	ck_assert_ptr_null(loaded);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_load_with_wrong_secret_is_auth_error)
{
	cc_key *key = store_new_key("ed25519"), *loaded = NULL;
	cc_repo *other = NULL;

	setenv("CERTCTL_PASSPHRASE", "not the secret", 1);
	ck_assert_int_eq(cc_repo_open(&other, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_key_load(&loaded, other, cc_key_id(key)), CC_EAUTH);
	ck_assert_ptr_null(loaded);
	cc_repo_free(other);
	cc_key_free(key);
}
END_TEST

START_TEST(test_key_info_lists_stored_keys_sorted)
{
	cc_key *a = store_new_key("ed25519"), *b = store_new_key("ecdsa:P-384");
	cc_key_info *infos = NULL, info;
	size_t count = 0;
	const cc_key *first = strcmp(cc_key_id(a), cc_key_id(b)) < 0 ? a : b;
	const cc_key *second = first == a ? b : a;
	char *full = NULL, prefix[6];

	ck_assert_int_eq(cc_key_info_list(fx_repo, &infos, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_str_eq(infos[0].id, cc_key_id(first));
	ck_assert_str_eq(infos[1].id, cc_key_id(second));
	ck_assert_str_eq(infos[0].fingerprint, cc_key_fingerprint(first));
	for (size_t i = 0; i < count; i++) {
		ck_assert_str_eq(infos[i].origin, "generated");
		ck_assert_ptr_nonnull(infos[i].created);
		ck_assert_uint_eq(strlen(infos[i].created), 20);
	}
	ck_assert_int_eq(infos[first == a ? 0 : 1].spec.type, CC_KEY_ED25519);
	ck_assert_int_eq(infos[first == b ? 0 : 1].spec.type, CC_KEY_ECDSA);
	ck_assert_uint_eq(infos[first == b ? 0 : 1].spec.bits, 384);
	cc_key_info_list_free(infos, count);

	memcpy(prefix, cc_key_id(b), 5);
	prefix[5] = '\0';
	ck_assert_int_eq(cc_key_info_load(&info, fx_repo, prefix), 0);
	ck_assert_str_eq(info.id, cc_key_id(b));
	ck_assert_int_eq(info.spec.type, CC_KEY_ECDSA);
	cc_key_info_dispose(&info);
	ck_assert_int_eq(cc_key_resolve(&full, fx_repo, prefix), 0);
	ck_assert_str_eq(full, cc_key_id(b));
	free(full);
	full = NULL;
	ck_assert_int_eq(cc_key_resolve(&full, fx_repo, "ffffffffffffffff"), CC_ENOTFOUND);
	cc_key_free(a);
	cc_key_free(b);
}
END_TEST

START_TEST(test_key_info_list_of_new_repository_is_empty)
{
	cc_key_info *infos = NULL;
	size_t count = 99;

	ck_assert_int_eq(cc_key_info_list(fx_repo, &infos, &count), 0);
	ck_assert_uint_eq(count, 0);
	cc_key_info_list_free(infos, count);
}
END_TEST

/* key pool */

/* The pool's key `key` is a new key of type/bits, and what it made ahead
 * (if anything) belongs to it.  1 when it came with a blank certificate. */
static int check_pool_key(cc_key *key, cc_key_type type, unsigned bits)
{
	X509 *blank;
	int made_ahead;

	ck_assert_ptr_nonnull(key);
	assert_key_identity(key, type, bits);
	blank = cc_key_take_blank(key);
	made_ahead = blank != NULL;
	if (blank) {
		ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(blank), cc_key_get0_pkey(key)), 1);
		X509_free(blank);
	}
	ck_assert_ptr_null(cc_key_take_blank(key));
	return made_ahead;
}

START_TEST(test_key_pool_gives_new_keys_of_the_spec_asked)
{
	cc_key_pool *pool = NULL;
	cc_key *keys[6] = { NULL };
	cc_key_spec p256 = spec_ok("ecdsa:P-256"), ed = spec_ok("ed25519"), p384 = spec_ok("ecdsa:P-384");
	int ahead = 0;

	ck_assert_int_eq(cc_key_pool_new(&pool), 0);
	for (size_t i = 0; i < CC_ARRAY_SIZE(keys); i++) {
		ck_assert_int_eq(cc_key_pool_take(pool, &keys[i], &p256), 0);
		ahead += check_pool_key(keys[i], CC_KEY_ECDSA, 256);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(cc_key_id(keys[i]), cc_key_id(keys[j]));
	}
	/* the first is made in line; the others were made ahead */
	ck_assert_int_eq(ahead, (int)CC_ARRAY_SIZE(keys) - 1);
	for (size_t i = 0; i < CC_ARRAY_SIZE(keys); i++) {
		cc_key_free(keys[i]);
		keys[i] = NULL;
	}
	/* another spec: what was made ahead of the old one is not handed out */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(cc_key_pool_take(pool, &keys[0], &ed), 0);
		check_pool_key(keys[0], CC_KEY_ED25519, 0);
		cc_key_free(keys[0]);
		ck_assert_int_eq(cc_key_pool_take(pool, &keys[0], &p384), 0);
		check_pool_key(keys[0], CC_KEY_ECDSA, 384);
		cc_key_free(keys[0]);
	}
	cc_key_pool_free(pool);
}
END_TEST

START_TEST(test_key_pool_makes_rsa_keys_in_line)
{
	cc_key_pool *pool = NULL;
	cc_key *key = NULL;
	cc_key_spec rsa = spec_ok("rsa:2048"), bad = { CC_KEY_RSA, 1000 };

	ck_assert_int_eq(cc_key_pool_new(&pool), 0);
	ck_assert_int_eq(cc_key_pool_take(pool, &key, &rsa), 0);
	ck_assert_int_eq(check_pool_key(key, CC_KEY_RSA, 2048), 0);
	cc_key_free(key);
	/* the same errors as cc_key_generate() */
	ck_assert_int_eq(cc_key_pool_take(pool, &key, &bad), CC_EINVALID);
	ck_assert_ptr_null(key);
	cc_key_pool_free(pool);
}
END_TEST

START_TEST(test_key_pool_stops_with_keys_made_ahead)
{
	cc_key_pool *pool = NULL;
	cc_key *key = NULL;
	cc_key_spec p256 = spec_ok("ecdsa:P-256");

	cc_key_pool_free(NULL);
	ck_assert_int_eq(cc_key_pool_new(&pool), 0);
	cc_key_pool_free(pool); /* never started */
	ck_assert_int_eq(cc_key_pool_new(&pool), 0);
	ck_assert_int_eq(cc_key_pool_take(pool, &key, &p256), 0);
	cc_key_free(key);
	ck_assert_int_eq(cc_key_pool_take(pool, &key, &p256), 0);
	ck_assert_ptr_nonnull(key);
	cc_key_free(key);
	cc_key_pool_free(pool); /* the thread may be making one: joined, freed */
}
END_TEST

/* A key made ahead is stored from its encoding made ahead: it loads back. */
START_TEST(test_key_pool_key_stores_and_loads_back)
{
	cc_key_pool *pool = NULL;
	cc_key *key = NULL, *loaded = NULL;
	cc_key_spec p256 = spec_ok("ecdsa:P-256");
	cc_txn *txn = NULL;

	ck_assert_int_eq(cc_key_pool_new(&pool), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(cc_key_pool_take(pool, &key, &p256), 0);
		ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "key generate"), 0);
		ck_assert_msg(cc_key_store(txn, key, "generated") == 0, "%s", cc_error_last());
		ck_assert_msg(cc_txn_commit(txn, "key: generated", NULL) == 0, "%s", cc_error_last());
		ck_assert_msg(cc_key_load(&loaded, fx_repo, cc_key_id(key)) == 0, "%s", cc_error_last());
		ck_assert_int_eq(EVP_PKEY_eq(cc_key_get0_pkey(loaded), cc_key_get0_pkey(key)), 1);
		cc_key_free(loaded);
		cc_key_free(key);
		loaded = key = NULL;
	}
	cc_key_pool_free(pool);
}
END_TEST

Suite *key_suite(void)
{
	Suite *s = suite_create("key");
	TCase *tc;

	tc = tcase_create("spec");
	tcase_add_test(tc, test_key_spec_parses_every_documented_form);
	tcase_add_test(tc, test_key_spec_rejects_unsupported_types_and_sizes);
	tcase_add_test(tc, test_key_spec_error_names_the_bad_part);
	tcase_add_test(tc, test_key_spec_parse_accepts_stored_types_that_are_not_generated);
	tcase_add_test(tc, test_key_spec_check_rejects_bad_structs);
	tcase_add_test(tc, test_key_spec_format_is_canonical);
	tcase_add_test(tc, test_key_spec_parse_format_round_trip);
	tcase_add_test(tc, test_key_type_and_curve_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_test(tc, test_key_generate_rsa_2048_and_read_it_back_in_every_form);
	tcase_add_test(tc, test_key_generate_ecdsa_p256);
	tcase_add_test(tc, test_key_generate_ecdsa_p384);
	tcase_add_test(tc, test_key_generate_ed25519);
	tcase_add_test(tc, test_key_generate_gives_a_new_key_each_time);
	tcase_add_test(tc, test_key_generate_rejects_unsupported_spec);
	tcase_add_test(tc, test_key_from_pkey_gives_same_id_as_parse);
	tcase_add_test(tc, test_key_parse_sec1_pem_and_der);
	tcase_add_test(tc, test_key_parse_ed25519_pkcs8_der);
	tcase_add_test(tc, test_key_parse_encrypted_traditional_pem);
	tcase_add_test(tc, test_key_parse_pkcs8_encrypted_by_openssl_with_pbkdf2);
	tcase_add_test(tc, test_key_export_encrypted_uses_scrypt_and_aes_256_cbc);
	tcase_add_test(tc, test_key_export_encrypted_parses_back_only_with_right_passphrase);
	tcase_add_test(tc, test_key_auth_error_does_not_reveal_passphrase);
	tcase_add_test(tc, test_key_parse_rejects_garbage);
	tcase_add_test(tc, test_key_parse_rejects_public_key);
	tcase_add_test(tc, test_key_parse_rejects_unsupported_curve);
	tcase_add_test(tc, test_key_parse_imports_p521_but_rejects_secp256k1);
	tcase_add_test(tc, test_key_parse_rejects_rsa_1024);
	tcase_add_test(tc, test_key_parse_rejects_secp256k1_instead_of_calling_it_p256);
	tcase_add_test(tc, test_key_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_key_store_writes_encrypted_pem_0600_and_metadata);
	tcase_add_test(tc, test_key_flat_layout_of_older_repositories_still_loads);
	tcase_add_test(tc, test_key_store_twice_is_exists);
	tcase_add_test(tc, test_key_load_by_id_and_prefix);
	tcase_add_test(tc, test_key_load_unknown_id_is_not_found);
	tcase_add_test(tc, test_key_load_with_too_short_prefix_fails);
	tcase_add_test(tc, test_key_load_with_wrong_secret_is_auth_error);
	tcase_add_test(tc, test_key_info_lists_stored_keys_sorted);
	tcase_add_test(tc, test_key_info_list_of_new_repository_is_empty);
	tcase_add_test(tc, test_key_pool_key_stores_and_loads_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_test(tc, test_key_pool_gives_new_keys_of_the_spec_asked);
	tcase_add_test(tc, test_key_pool_makes_rsa_keys_in_line);
	tcase_add_test(tc, test_key_pool_stops_with_keys_made_ahead);
	suite_add_tcase(s, tc);
	return s;
}
