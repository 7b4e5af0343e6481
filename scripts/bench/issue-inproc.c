/*
 * issue-inproc: the in-process limit of leaf issuance, for b0002-issue.sh.
 *
 *   bench-issue-inproc [N [DIR]]
 *
 * Makes a throw-away ECDSA P-256 root, then issues N (default 2000) ECDSA
 * P-256 leaves the way certctl does (lib/issue.c build_leaf): a new P-256
 * key, a random 128-bit serial, CN and dNSName SAN, basicConstraints
 * (critical, CA:FALSE), keyUsage (critical, digitalSignature), extKeyUsage
 * serverAuth, subjectKeyIdentifier, authorityKeyIdentifier, signed with
 * ECDSA-SHA256 by the root; certificate and key are PEM-encoded to memory
 * and dropped: no storage, no git.  With DIR, the root and the last leaf
 * are written to DIR/ca.pem and DIR/leaf.pem so the caller can verify them.
 *
 * Prints one line: "issued=N seconds=S rate=R" (R certificates per second,
 * wall clock, one thread).  Uses OpenSSL only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static void die(const char *what)
{
	fprintf(stderr, "bench-issue-inproc: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	if (!ext || X509_add_ext(x, ext, -1) != 1)
		die("cannot add an extension");
	X509_EXTENSION_free(ext);
}

static void random_serial(X509 *x)
{
	unsigned char bytes[16];
	BIGNUM *bn;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		die("no randomness");
	bytes[0] = (unsigned char)((bytes[0] & 0x7f) | 0x40);
	if (!(bn = BN_bin2bn(bytes, sizeof(bytes), NULL)) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		die("cannot make a serial number");
	BN_free(bn);
}

static X509_NAME *cn_name(const char *cn)
{
	X509_NAME *name = X509_NAME_new();

	if (!name || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						(const unsigned char *)cn, -1, -1, 0) != 1)
		die("cannot make a name");
	return name;
}

static void add_san(X509 *x, const char *dns)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (!names || !gn || !s || ASN1_STRING_set(s, dns, -1) != 1)
		die("out of memory");
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	if (!sk_GENERAL_NAME_push(names, gn) ||
	    X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) != 1)
		die("cannot add the SAN");
	GENERAL_NAMES_free(names);
}

static X509 *make_root(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = cn_name("bench-inproc-root");
	X509V3_CTX ctx;
	time_t t = time(NULL);

	if (!x)
		die("out of memory");
	X509_set_version(x, 2);
	random_serial(x);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -60, &t);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &t);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		die("cannot sign the root");
	X509_NAME_free(name);
	return x;
}

/* One leaf, PEM-encoded (certificate, then key) into `pem`. */
static X509 *issue(const char *dns, X509 *ca, EVP_PKEY *ca_key, BIO *pem)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *subject = cn_name(dns);
	X509V3_CTX ctx;
	time_t t = time(NULL);

	if (!key || !x)
		die("cannot generate a key");
	X509_set_version(x, 2);
	random_serial(x);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -60, &t);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, 90L * 86400, &t);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
	add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	add_san(x, dns);
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0)
		die("cannot sign a leaf");
	if (PEM_write_bio_X509(pem, x) != 1 ||
	    PEM_write_bio_PKCS8PrivateKey(pem, key, NULL, NULL, 0, NULL, NULL) != 1)
		die("cannot PEM-encode");
	X509_NAME_free(subject);
	EVP_PKEY_free(key);
	return x;
}

static void write_pem(const char *dir, const char *file, X509 *x)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!(f = fopen(path, "w")) || PEM_write_X509(f, x) != 1 || fclose(f) != 0)
		die(path);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
	const char *dir = argc > 2 ? argv[2] : NULL;
	EVP_PKEY *ca_key;
	X509 *ca, *last = NULL;
	BIO *pem = BIO_new(BIO_s_mem());
	size_t bytes = 0;
	double t0, t1;
	char dns[64];

	if (n < 1 || argc > 3) {
		fprintf(stderr, "usage: bench-issue-inproc [N [DIR]]\n");
		return 2;
	}
	if (!pem || !(ca_key = EVP_EC_gen("P-256")))
		die("cannot make the root key");
	ca = make_root(ca_key);
	t0 = now();
	for (long i = 1; i <= n; i++) {
		BUF_MEM *mem;

		snprintf(dns, sizeof(dns), "host%ld.bench.example.com", i);
		X509_free(last);
		last = issue(dns, ca, ca_key, pem);
		BIO_get_mem_ptr(pem, &mem);
		bytes += mem->length;
		(void)BIO_reset(pem);
	}
	t1 = now();
	if (dir) {
		write_pem(dir, "ca.pem", ca);
		write_pem(dir, "leaf.pem", last);
	}
	printf("issued=%ld seconds=%.6f rate=%.1f pem_bytes=%zu\n", n, t1 - t0, (double)n / (t1 - t0),
	       bytes);
	X509_free(last);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	BIO_free(pem);
	return 0;
}
