/*
 * verify-inproc: verifications a second in one process, for b0006-verify.sh.
 *
 *   bench-verify-inproc N ROOT INT LEAF [CRL...]
 *
 * Three loops of N verifications of LEAF (with INT as the untrusted
 * intermediate, ROOT the only trust anchor), one thread each:
 *   openssl  X509_verify_cert alone, default flags: the reference;
 *   certctl  cc_verify_store: strict RFC 5280 validation, every web-PKI
 *            rule, the expiry of each member, revocation off;
 *   crl      the same with the CRLs given (read, parsed and checked each
 *            time: what a cached CRL costs a verification), revocation hard.
 * Prints "NAME=RATE" lines (verifications a second).  Exits 1 when a
 * verification does not come out as expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "internal.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static X509 *load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!x) {
		fprintf(stderr, "verify-inproc: cannot read %s\n", path);
		exit(1);
	}
	return x;
}

int main(int argc, char **argv)
{
	long n;
	X509 *root, *inter, *leaf;
	X509_STORE *store;
	STACK_OF(X509) *untrusted;
	cc_cert *c_leaf = NULL, *c_int = NULL;
	double t0, t1;

	if (argc < 5 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench-verify-inproc N ROOT INT LEAF [CRL...]\n");
		return 2;
	}
	root = load(argv[2]);
	inter = load(argv[3]);
	leaf = load(argv[4]);
	store = X509_STORE_new();
	untrusted = sk_X509_new_null();
	if (!store || !untrusted || X509_STORE_add_cert(store, root) != 1 ||
	    !sk_X509_push(untrusted, inter))
		return 1;

	t0 = now();
	for (long i = 0; i < n; i++) {
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();

		if (!ctx || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1 ||
		    X509_verify_cert(ctx) != 1) {
			fprintf(stderr, "verify-inproc: openssl does not verify the chain\n");
			return 1;
		}
		X509_STORE_CTX_free(ctx);
	}
	t1 = now();
	printf("openssl=%.1f\n", n / (t1 - t0));

	X509_up_ref(leaf);
	X509_up_ref(inter);
	if (cc_cert_from_x509(&c_leaf, leaf) < 0 || cc_cert_from_x509(&c_int, inter) < 0)
		return 1;
	for (int pass = 0; pass < 2; pass++) {
		cc_verify_options o = CC_VERIFY_OPTIONS_INIT;
		cc_verify_report r;

		if (pass == 1 && argc < 6)
			break;
		o.untrusted = &c_int;
		o.nuntrusted = 1;
		o.no_fetch = 1;
		o.revocation = pass ? CC_REVOCATION_HARD : CC_REVOCATION_OFF;
		o.crl_files = pass ? (const char *const *)argv + 5 : NULL;
		o.ncrl_files = pass ? (size_t)(argc - 5) : 0;
		t0 = now();
		for (long i = 0; i < n; i++) {
			if (cc_verify_store(store, NULL, c_leaf, &o, &r) < 0 || !r.verified) {
				fprintf(stderr, "verify-inproc: certctl does not verify the chain: %s\n",
					r.nfindings ? r.findings[0].message : cc_error_last());
				return 1;
			}
			cc_verify_report_dispose(&r);
		}
		t1 = now();
		printf("%s=%.1f\n", pass ? "crl" : "certctl", n / (t1 - t0));
	}
	cc_cert_free(c_leaf);
	cc_cert_free(c_int);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	return 0;
}
