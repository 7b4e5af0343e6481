/*
 * Certificate files (PEM, DER, PKCS#7): cc_cert_parse_all and every
 * accessor operators and JSON output read, plus the ways certctl writes
 * certificates back out (PEM, DER, P7B) read in again.
 */
#include <string.h>
#include "internal.h"
#include "fuzz.h"

/* Pairs checked with cc_cert_issued_by (each costs a signature check). */
#define ISSUER_PAIRS_MAX 6

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void exercise(const cc_cert *cert)
{
	cc_strlist sans = CC_STRLIST_INIT;
	cc_key_spec spec;
	cc_json *json;
	cc_buf buf = CC_BUF_INIT;
	cc_cert *copy, *again = NULL;
	char when[32], text[32];

	if (strlen(cc_cert_sha256(cert)) != 64 || strlen(cc_cert_sha1(cert)) != 40 ||
	    strlen(cc_cert_id(cert)) != 16 || strlen(cc_cert_key_fingerprint(cert)) != 64)
		FUZZ_FAIL("a fingerprint of the wrong length");
	if (!cc_cert_serial(cert) || !cc_cert_subject(cert) || !cc_cert_issuer(cert))
		FUZZ_FAIL("a parsed certificate without serial, subject or issuer");
	(void)cc_cert_cn(cert);
	cc_time_rfc3339(cc_cert_not_before(cert), when);
	cc_time_rfc3339(cc_cert_not_after(cert), when);
	(void)cc_cert_is_ca(cert);
	(void)cc_cert_is_self_signed(cert);
	cc_cert_sans(cert, &sans);
	cc_strlist_dispose(&sans);
	cc_cert_key_spec(cert, &spec);
	cc_key_spec_format(&spec, text, sizeof(text));

	if ((json = cc_cert_to_json(cert)) != NULL) {
		cc_json_dump(json, 1, &buf);
		cc_json_free(json);
	}
	cc_buf_clear(&buf);
	cc_acme_ari_cert_id(&buf, cert);
	cc_buf_clear(&buf);

	/* What certctl writes, it reads back as the same certificate. */
	if (cc_cert_der(cert, &buf) == 0) {
		if (cc_cert_parse(&again, buf.ptr, buf.size, "der") < 0)
			FUZZ_FAIL("cannot read back the DER certctl wrote: %s", cc_error_last());
		if (strcmp(cc_cert_sha256(again), cc_cert_sha256(cert)) != 0)
			FUZZ_FAIL("DER round trip changes the fingerprint");
		cc_cert_free(again);
		again = NULL;
	}
	cc_buf_clear(&buf);
	if (cc_cert_pem(cert, &buf) == 0) {
		if (cc_cert_parse(&again, buf.ptr, buf.size, "pem") < 0)
			FUZZ_FAIL("cannot read back the PEM certctl wrote: %s", cc_error_last());
		if (strcmp(cc_cert_sha256(again), cc_cert_sha256(cert)) != 0)
			FUZZ_FAIL("PEM round trip changes the fingerprint");
		cc_cert_free(again);
	}
	cc_buf_dispose(&buf);

	if ((copy = cc_cert_dup(cert)) != NULL) {
		if (strcmp(cc_cert_sha256(copy), cc_cert_sha256(cert)) != 0)
			FUZZ_FAIL("cc_cert_dup changes the fingerprint");
		cc_cert_free(copy);
	}
}

/* A P7B of the certificates reads back as the same list. */
static void p7b_round_trip(cc_cert **certs, size_t n, int pem)
{
	cc_buf buf = CC_BUF_INIT;
	cc_cert **back = NULL;
	size_t nback = 0;

	if (cc_p7b_build(&buf, certs, n, pem) == 0) {
		if (cc_cert_parse_all(&back, &nback, buf.ptr, buf.size, "p7b") < 0)
			FUZZ_FAIL("cannot read back the P7B certctl wrote: %s", cc_error_last());
		if (nback != n)
			FUZZ_FAIL("P7B round trip: %zu certificates, %zu back", n, nback);
		for (size_t i = 0; i < n; i++)
			if (strcmp(cc_cert_sha256(back[i]), cc_cert_sha256(certs[i])) != 0)
				FUZZ_FAIL("P7B round trip changes certificate %zu", i);
		cc_cert_list_free(back, nback);
	}
	cc_buf_dispose(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_cert **certs = NULL;
	size_t n = 0;

	if (cc_cert_parse_all(&certs, &n, data, size, "fuzz") < 0) {
		if (certs || n)
			FUZZ_FAIL("a failed parse returns certificates");
		cc_error_clear();
		return 0;
	}
	if (n == 0 || !certs)
		FUZZ_FAIL("a successful parse without certificates");
	for (size_t i = 0; i < n; i++)
		exercise(certs[i]);
	for (size_t i = 0; i < n && i < ISSUER_PAIRS_MAX; i++)
		for (size_t j = 0; j < n && j < ISSUER_PAIRS_MAX; j++)
			(void)cc_cert_issued_by(certs[i], certs[j]);
	p7b_round_trip(certs, n, 0);
	p7b_round_trip(certs, n, 1);
	cc_cert_list_free(certs, n);
	cc_error_clear();
	return 0;
}
