/*
 * Every container certctl import and inspect read (lib/keystore.c):
 * cc_bundle_read over PEM, DER, PKCS#7, PKCS#12, JKS and JCEKS, without
 * a passphrase and with the fixed one the seeds use ("fuzz").  Java
 * keystores carry a SHA-1 integrity digest keyed with the password, which random
 * mutations never get right; a copy with the digest recomputed is read
 * too, so the fuzzer reaches the entries.  What is read is written back
 * out the ways certctl exports it (JKS, PKCS#8) and must read back the same.
 */
#include <string.h>
#include <openssl/evp.h>
#include "internal.h"
#include "fuzz.h"

#define PASSPHRASE "fuzz"
/* A JKS key entry holds the key and at most this many certificates. */
#define JKS_CHAIN_MAX 64

static cc_secret *pass;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (cc_secret_new(&pass, PASSPHRASE, strlen(PASSPHRASE)) < 0)
		FUZZ_FAIL("cc_secret_new: %s", cc_error_last());
	/* Loaded once on the first legacy PKCS#12; load it now so that it is
	 * not an allocation of whichever input gets there first. */
	if (cc_legacy_provider() < 0)
		FUZZ_FAIL("OpenSSL's legacy provider: %s", cc_error_last());
	cc_error_clear();
	return 0;
}

/* The keystore's last 20 bytes: SHA-1(UTF-16BE password || "Mighty
 * Aphrodite" || everything before the digest). */
static void jks_fix_digest(uint8_t *data, size_t len)
{
	static const unsigned char pw[] = { 0, 'f', 0, 'u', 0, 'z', 0, 'z' };
	static const char whitener[] = "Mighty Aphrodite";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(ctx, pw, sizeof(pw)) ||
	    !EVP_DigestUpdate(ctx, whitener, sizeof(whitener) - 1) ||
	    !EVP_DigestUpdate(ctx, data, len - 20) || !EVP_DigestFinal_ex(ctx, data + len - 20, NULL))
		FUZZ_FAIL("SHA-1 failed");
	EVP_MD_CTX_free(ctx);
}

static void same_bundle(const cc_bundle *a, const cc_bundle *b, const char *how)
{
	if (!b->key || strcmp(cc_key_fingerprint(a->key), cc_key_fingerprint(b->key)) != 0)
		FUZZ_FAIL("%s round trip changes the key", how);
	if (a->ncerts != b->ncerts)
		FUZZ_FAIL("%s round trip: %zu certificates, %zu back", how, a->ncerts, b->ncerts);
	for (size_t i = 0; i < a->ncerts; i++)
		if (strcmp(cc_cert_sha256(a->certs[i]), cc_cert_sha256(b->certs[i])) != 0)
			FUZZ_FAIL("%s round trip changes certificate %zu", how, i);
}

/* certctl export --format jks, then import: the same key and certificates. */
static void jks_round_trip(const cc_bundle *b)
{
	cc_buf out = CC_BUF_INIT;
	cc_bundle back;

	if (b->ncerts < 1 || b->ncerts > JKS_CHAIN_MAX)
		return;
	if (cc_jks_write(&out, "fuzz", b->key, b->certs[0], b->certs + 1, b->ncerts - 1, pass) < 0) {
		cc_buf_dispose(&out);
		return;
	}
	if (cc_bundle_read(&back, out.ptr, out.size, pass, NULL, "written.jks") < 0)
		FUZZ_FAIL("cannot read back the JKS certctl wrote: %s", cc_error_last());
	if (strcmp(back.format, "jks") != 0 || !back.alias || strcmp(back.alias, "fuzz") != 0)
		FUZZ_FAIL("the JKS certctl wrote reads back as %s, alias %s", back.format,
			  back.alias ? back.alias : "(none)");
	same_bundle(b, &back, "JKS");
	cc_bundle_dispose(&back);
	cc_buf_dispose(&out);
}

/* The key as clear PKCS#8 PEM reads back as the same key. */
static void key_round_trip(const cc_key *key)
{
	cc_buf pem = CC_BUF_INIT;
	cc_key *back = NULL;

	if (cc_key_export_pem(key, NULL, &pem) == 0) {
		if (cc_key_parse(&back, pem.ptr, pem.size, NULL, "exported") < 0)
			FUZZ_FAIL("cannot read back the key certctl exported: %s", cc_error_last());
		if (strcmp(cc_key_fingerprint(back), cc_key_fingerprint(key)) != 0)
			FUZZ_FAIL("key export round trip changes the key");
		cc_key_free(back);
	}
	cc_buf_dispose_secure(&pem);
}

/* `round_trips`: also write the contents out and read them back (slow:
 * OpenSSL's key decoders dominate; done once per input). */
static void exercise(const cc_bundle *b, int round_trips)
{
	cc_strlist sans = CC_STRLIST_INIT;
	cc_buf buf = CC_BUF_INIT;
	cc_key_spec spec;
	char text[32];

	if (!b->format)
		FUZZ_FAIL("a bundle without a format");
	if (b->ntrusted > b->ncerts)
		FUZZ_FAIL("%zu trusted of %zu certificates", b->ntrusted, b->ncerts);
	for (size_t i = 0; i < b->ncerts; i++) {
		(void)cc_cert_subject(b->certs[i]);
		(void)cc_cert_issuer(b->certs[i]);
		cc_cert_sans(b->certs[i], &sans);
		cc_strlist_dispose(&sans);
		if (b->key)
			(void)cc_cert_matches_key(b->certs[i], b->key);
	}
	if (!b->key)
		return;
	if (strlen(cc_key_id(b->key)) != 16 || strlen(cc_key_fingerprint(b->key)) != 64)
		FUZZ_FAIL("a key id or fingerprint of the wrong length");
	cc_key_get_spec(b->key, &spec);
	cc_key_spec_format(&spec, text, sizeof(text));
	cc_key_public_pem(b->key, &buf);
	cc_buf_dispose(&buf);
	if (round_trips) {
		key_round_trip(b->key);
		jks_round_trip(b);
	}
}

static void read_one(const uint8_t *data, size_t size, const cc_secret *secret, int round_trips)
{
	cc_bundle b;

	if (cc_bundle_read(&b, data, size, secret, NULL, "fuzz") == 0)
		exercise(&b, round_trips);
	else if (b.key || b.certs || b.ncerts || b.alias)
		FUZZ_FAIL("a failed read leaves something in the bundle");
	cc_bundle_dispose(&b);
	cc_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_one(data, size, NULL, 0);
	read_one(data, size, pass, 1);
	if (size >= 32 && ((data[0] == 0xFE && data[1] == 0xED && data[2] == 0xFE && data[3] == 0xED) ||
			   (data[0] == 0xCE && data[1] == 0xCE && data[2] == 0xCE && data[3] == 0xCE))) {
		uint8_t *copy = malloc(size);

		if (!copy)
			return 0;
		memcpy(copy, data, size);
		jks_fix_digest(copy, size);
		read_one(copy, size, pass, 1);
		free(copy);
	}
	return 0;
}
