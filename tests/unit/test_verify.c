/*
 * Unit tests of the verifier (lib/verify.c): each web-PKI rule, the chain
 * rules and revocation, on certificates made here with OpenSSL.  Every
 * test makes the defective certificate and checks that the verifier names
 * the rule, then makes the same certificate without the defect and checks
 * that the rule is gone and the verdict is OK.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <check.h>
#include <openssl/dsa.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "internal.h" /* cc_cert_from_x509 */
#include "fixture.h"
#include "suites.h"

/* --- making certificates ------------------------------------------------------------------ */

/* A certificate's extensions as OpenSSL's configuration names them. */
typedef struct {
	const char *name[16];
	const char *value[16];
	size_t n;
} extlist;

/* Set extension `name` to `value`, replacing it; NULL removes it. */
static void ext_set(extlist *l, const char *name, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->name[i], name))
			continue;
		if (value) {
			l->value[i] = value;
		} else {
			memmove(&l->name[i], &l->name[i + 1], (l->n - i - 1) * sizeof(l->name[0]));
			memmove(&l->value[i], &l->value[i + 1], (l->n - i - 1) * sizeof(l->value[0]));
			l->n--;
		}
		return;
	}
	if (value) {
		ck_assert_uint_lt(l->n, 16);
		l->name[l->n] = name;
		l->value[l->n++] = value;
	}
}

static extlist ca_exts(void)
{
	extlist l = { { 0 }, { 0 }, 0 };

	ext_set(&l, "basicConstraints", "critical,CA:TRUE");
	ext_set(&l, "keyUsage", "critical,keyCertSign,cRLSign");
	ext_set(&l, "subjectKeyIdentifier", "hash");
	ext_set(&l, "authorityKeyIdentifier", "keyid");
	return l;
}

/* A leaf as the web PKI wants it, for www.example.com. */
static extlist leaf_exts(void)
{
	extlist l = { { 0 }, { 0 }, 0 };

	ext_set(&l, "basicConstraints", "critical,CA:FALSE");
	ext_set(&l, "keyUsage", "critical,digitalSignature");
	ext_set(&l, "extendedKeyUsage", "serverAuth");
	ext_set(&l, "subjectAltName", "DNS:www.example.com");
	ext_set(&l, "authorityKeyIdentifier", "keyid");
	return l;
}

/*
 * The authority key identifier of a certificate `issuer` signs: the SHA-1
 * of its public key, as subjectKeyIdentifier=hash makes it, whether or not
 * the issuer carries a subject key identifier.
 */
static X509_EXTENSION *aki_of(X509 *issuer)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	X509_EXTENSION *ext;

	ck_assert_int_eq(X509_pubkey_digest(issuer, EVP_sha1(), md, &len), 1);
	akid->keyid = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(akid->keyid, md, (int)len);
	ext = X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid);
	AUTHORITY_KEYID_free(akid);
	ck_assert_ptr_nonnull(ext);
	return ext;
}

/*
 * A certificate for CN=`cn` with `key`, signed by `issuer` with
 * `issuer_key` (NULL, NULL: self-signed) with digest `md`, valid from
 * `from_days` to `to_days` days from now.
 */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		       const extlist *exts, long from_days, long to_days, const EVP_MD *md)
{
	static long serial = 4096;
	X509 *x = X509_new();
	CONF *conf = NCONF_new(NULL); /* empty: certificatePolicies wants one */
	X509V3_CTX v3;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_UTF8,
				   (const unsigned char *)"certctl tests", -1, -1, 0);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	X509V3_set_nconf(&v3, conf);
	for (size_t i = 0; i < exts->n; i++) {
		X509_EXTENSION *ext;

		if (!strcmp(exts->name[i], "authorityKeyIdentifier"))
			ext = aki_of(issuer ? issuer : x);
		else
			ext = X509V3_EXT_nconf(conf, &v3, exts->name[i], exts->value[i]);
		ck_assert_msg(ext != NULL, "extension %s=%s", exts->name[i], exts->value[i]);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ck_assert_int_gt(X509_sign(x, issuer_key ? issuer_key : key, md), 0);
	NCONF_free(conf);
	return x;
}

static EVP_PKEY *dsa_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
	EVP_PKEY *params = NULL, *key = NULL;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_paramgen_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_dsa_paramgen_bits(ctx, 1024), 1);
	ck_assert_int_eq(EVP_PKEY_paramgen(ctx, &params), 1);
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &key), 1);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return key;
}

/* A root and an intermediate under it, both P-256, both as the web PKI wants them. */
typedef struct {
	EVP_PKEY *root_key, *int_key;
	X509 *root, *inter;
} pki;

static void pki_init(pki *p, const extlist *int_exts, long int_days)
{
	extlist root = ca_exts(), inter = int_exts ? *int_exts : ca_exts();

	ext_set(&root, "authorityKeyIdentifier", NULL);
	p->root_key = EVP_EC_gen("P-256");
	p->int_key = EVP_EC_gen("P-256");
	p->root = make_cert("Test Root", p->root_key, NULL, NULL, &root, -1, 3650, EVP_sha256());
	p->inter = make_cert("Test Intermediate", p->int_key, p->root, p->root_key, &inter, -1,
			     int_days ? int_days : 1825, EVP_sha256());
}

static void pki_dispose(pki *p)
{
	X509_free(p->root);
	X509_free(p->inter);
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->int_key);
}

/* A leaf of `p`'s intermediate with `key` (NULL: a new P-256 key). */
static X509 *leaf_of(pki *p, const extlist *exts, EVP_PKEY *key, long days, const EVP_MD *md)
{
	extlist dflt = leaf_exts();
	EVP_PKEY *k = key ? key : EVP_EC_gen("P-256");
	X509 *x = make_cert("www.example.com", k, p->inter, p->int_key, exts ? exts : &dflt, -1,
			    days ? days : 90, md ? md : EVP_sha256());

	if (!key)
		EVP_PKEY_free(k);
	return x;
}

/* A CRL of `issuer`, revoking `revoked` (NULL: none) for `reason`, into
 * `path` (PEM), its nextUpdate `next_days` from now (its thisUpdate a day
 * before that at the latest). */
static void write_crl_until(const char *path, X509 *issuer, EVP_PKEY *key, X509 *revoked,
			    int reason, long next_days)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), next_days < 0 ? (int)next_days - 1 : -1, 0);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), (int)next_days, 0);
	X509_EXTENSION *aki = aki_of(issuer);
	FILE *f;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_CRL_set1_lastUpdate(crl, now);
	X509_CRL_set1_nextUpdate(crl, next);
	X509_CRL_add_ext(crl, aki, -1);
	if (revoked) {
		X509_REVOKED *entry = X509_REVOKED_new();
		ASN1_ENUMERATED *code = ASN1_ENUMERATED_new();

		X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(revoked));
		X509_REVOKED_set_revocationDate(entry, now);
		ASN1_ENUMERATED_set(code, reason);
		X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, code, 0, 0);
		ASN1_ENUMERATED_free(code);
		X509_CRL_add0_revoked(crl, entry);
	}
	X509_CRL_sort(crl);
	ck_assert_int_gt(X509_CRL_sign(crl, key, EVP_sha256()), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509_CRL(f, crl), 1);
	fclose(f);
	X509_EXTENSION_free(aki);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
}

static void write_crl(const char *path, X509 *issuer, EVP_PKEY *key, X509 *revoked, int reason)
{
	write_crl_until(path, issuer, key, revoked, reason, 7);
}

/*
 * An HTTP server on 127.0.0.1 in a child process, answering every request
 * with `body` (a DER certificate); its port into *port.  It ends itself
 * after 30 s should the test die first; server_stop() ends it sooner.
 */
static pid_t serve(const void *body, size_t len, int *port)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	*port = ntohs(sa.sin_port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Check's handlers, inherited, would end the whole test. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm(30);
		for (;;) {
			char request[4096], head[200];
			int c = accept(fd, NULL, NULL), n;

			if (c < 0)
				_exit(0);
			/* One read takes curl's small GET; what it asks is not looked at. */
			if (read(c, request, sizeof(request)) > 0) {
				n = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: "
					     "application/pkix-cert\r\nContent-Length: %zu\r\n\r\n", len);
				if (write(c, head, (size_t)n) != n || write(c, body, len) != (ssize_t)len)
					_exit(1);
			}
			close(c);
		}
	}
	close(fd);
	return pid;
}

static void server_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* --- verifying ---------------------------------------------------------------------------- */

/* Web PKI, no revocation checking, for www.example.com, nothing fetched. */
static cc_verify_options options(void)
{
	cc_verify_options o = CC_VERIFY_OPTIONS_INIT;

	o.revocation = CC_REVOCATION_OFF;
	o.host = "www.example.com";
	o.no_fetch = 1;
	return o;
}

static cc_cert *wrap(X509 *x)
{
	cc_cert *c = NULL;

	X509_up_ref(x);
	ck_assert_int_eq(cc_cert_from_x509(&c, x), 0);
	return c;
}

/*
 * Verify `leaf` with `o`, trusting the NULL-terminated `anchors` and given
 * the NULL-terminated `given` as its chain.  The report is the caller's.
 */
static void verify(cc_verify_report *r, const cc_verify_options *o, X509 *leaf,
		   X509 *const *anchors, X509 *const *given)
{
	cc_verify_options opts = *o;
	cc_cert *a[8], *g[8], *l = wrap(leaf);
	size_t na = 0, ng = 0;

	while (anchors[na]) {
		ck_assert_uint_lt(na, 8);
		a[na] = wrap(anchors[na]);
		na++;
	}
	while (given[ng]) {
		ck_assert_uint_lt(ng, 8);
		g[ng] = wrap(given[ng]);
		ng++;
	}
	opts.anchors = a;
	opts.nanchors = na;
	opts.untrusted = g;
	opts.nuntrusted = ng;
	ck_assert_msg(cc_verify(NULL, l, &opts, r) == 0, "cc_verify: %s", cc_error_last());
	for (size_t i = 0; i < na; i++)
		cc_cert_free(a[i]);
	for (size_t i = 0; i < ng; i++)
		cc_cert_free(g[i]);
	cc_cert_free(l);
}

/* The usual case: the leaf, the intermediate sent, the root trusted. */
static void verify_leaf(cc_verify_report *r, const cc_verify_options *o, pki *p, X509 *leaf)
{
	X509 *anchors[] = { p->root, NULL }, *given[] = { p->inter, NULL };

	verify(r, o, leaf, anchors, given);
}

/* The findings, one a line, for failure messages. */
static const char *dump(const cc_verify_report *r)
{
	static char text[8192];
	size_t used = 0;

	text[0] = '\0';
	for (size_t i = 0; i < r->nfindings && used < sizeof(text); i++) {
		const cc_verify_finding *f = &r->findings[i];
		int n = snprintf(text + used, sizeof(text) - used, "  %s %s (depth %d%s): %s\n",
				 cc_status_name(f->status), f->rule, f->depth,
				 f->allowed ? ", allowed" : "", f->message);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return text;
}

static const cc_verify_finding *find(const cc_verify_report *r, const char *rule)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (!strcmp(r->findings[i].rule, rule))
			return &r->findings[i];
	return NULL;
}

/* `rule` is reported with `status` at `depth` (-2: any), and the verdict is no better. */
static const cc_verify_finding *assert_rule(const cc_verify_report *r, const char *rule,
					    cc_status status, int depth)
{
	const cc_verify_finding *f = find(r, rule);

	ck_assert_msg(f != NULL, "no %s among the findings:\n%s", rule, dump(r));
	ck_assert_msg(f->status == status, "%s is %s, not %s:\n%s", rule,
		      cc_status_name(f->status), cc_status_name(status), dump(r));
	ck_assert_msg(depth == -2 || f->depth == depth, "%s at depth %d, not %d:\n%s", rule,
		      f->depth, depth, dump(r));
	ck_assert_msg(r->status >= status, "verdict %s with %s %s:\n%s",
		      cc_status_name(r->status), cc_status_name(status), rule, dump(r));
	if (status == CC_STATUS_CRITICAL)
		ck_assert_msg(!r->verified, "verified with %s:\n%s", rule, dump(r));
	return f;
}

/* `rule` is not reported, and the path is verified and OK. */
static void assert_clean(const cc_verify_report *r, const char *rule)
{
	ck_assert_msg(find(r, rule) == NULL, "%s is still reported:\n%s", rule, dump(r));
	ck_assert_msg(r->status == CC_STATUS_OK && r->verified, "verdict %s, verified %d:\n%s",
		      cc_status_name(r->status), r->verified, dump(r));
	ck_assert_msg(find(r, "chain.trusted") != NULL, "no chain.trusted:\n%s", dump(r));
}

/* --- the tests ---------------------------------------------------------------------------- */

START_TEST(test_verify_accepts_a_good_chain)
{
	cc_verify_options o = options();
	cc_verify_report r;
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "chain.untrusted");
	ck_assert_uint_eq(r.path_len, 3);
	ck_assert_str_eq(cc_cert_subject(r.path[2]), "CN=Test Root,O=certctl tests");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_name_only_in_the_common_name)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	ext_set(&e, "subjectAltName", NULL);
	leaf = leaf_of(&p, &e, NULL, 0, NULL); /* CN=www.example.com */
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.cn-only", CC_STATUS_CRITICAL, 0);
	/* the missing SAN is the one finding, not a mismatch besides */
	ck_assert_ptr_null(find(&r, "name.mismatch"));
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.cn-only");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_matches_names_and_addresses_as_such)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	o.host = "mail.example.com";
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.mismatch", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	o.host = "www.example.com";
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.mismatch");
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	/* An address in a DNS name is not an address. */
	ext_set(&e, "subjectAltName", "DNS:192.0.2.10");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	o.host = "192.0.2.10";
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.mismatch", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	/* Addresses compare as addresses, whatever their spelling. */
	ext_set(&e, "subjectAltName", "IP:192.0.2.10,IP:2001:db8::1");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	o.host = "192.0.2.11";
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.mismatch", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	o.host = "192.0.2.10";
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.mismatch");
	cc_verify_report_dispose(&r);
	o.host = "2001:0db8:0:0::0001";
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.mismatch");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_wildcard_that_is_not_a_whole_label)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	ext_set(&e, "subjectAltName", "DNS:www.example.com,DNS:w*.example.com");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.wildcard-position", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	ext_set(&e, "subjectAltName", "DNS:www.example.com,DNS:*.example.com");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.wildcard-position");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_wildcard_under_a_public_suffix)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	o.host = "www.example.co.uk";
	ext_set(&e, "subjectAltName", "DNS:www.example.co.uk,DNS:*.co.uk");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.wildcard-public-suffix", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	ext_set(&e, "subjectAltName", "DNS:*.example.co.uk");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.wildcard-public-suffix");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_wants_serverauth_on_the_leaf)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	ext_set(&e, "extendedKeyUsage", "clientAuth");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "eku.missing-serverauth", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	ext_set(&e, "extendedKeyUsage", NULL);
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "eku.missing-serverauth", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	ext_set(&e, "extendedKeyUsage", "serverAuth,clientAuth");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "eku.missing-serverauth");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_an_intermediate_that_leaves_out_serverauth)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = ca_exts();
	pki p;
	X509 *leaf;

	ext_set(&e, "extendedKeyUsage", "clientAuth,emailProtection");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "eku.intermediate-no-serverauth", CC_STATUS_CRITICAL, 1);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	ext_set(&e, "extendedKeyUsage", "serverAuth,clientAuth");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "eku.intermediate-no-serverauth");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_wants_a_critical_basic_constraints_on_a_ca)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = ca_exts();
	pki p;
	X509 *leaf;

	ext_set(&e, "basicConstraints", "CA:TRUE");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "ca.basic-constraints", CC_STATUS_CRITICAL, 1);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	ext_set(&e, "basicConstraints", "critical,CA:TRUE");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "ca.basic-constraints");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_wants_keycertsign_on_a_ca)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = ca_exts();
	pki p;
	X509 *leaf;

	ext_set(&e, "keyUsage", "critical,digitalSignature,cRLSign");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "ca.key-usage", CC_STATUS_CRITICAL, 1);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	ext_set(&e, "keyUsage", "critical,digitalSignature,keyCertSign,cRLSign");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "ca.key-usage");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_wants_an_authority_key_identifier)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	ext_set(&e, "authorityKeyIdentifier", NULL);
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "extension.aki-missing", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	ext_set(&e, "authorityKeyIdentifier", "keyid");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "extension.aki-missing");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_wants_a_subject_key_identifier_on_a_ca)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = ca_exts();
	pki p;
	X509 *leaf;

	ext_set(&e, "subjectKeyIdentifier", NULL);
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "extension.ski-missing", CC_STATUS_CRITICAL, 1);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	ext_set(&e, "subjectKeyIdentifier", "hash");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "extension.ski-missing");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_an_rsa_key_under_2048_bits)
{
	cc_verify_options o = options();
	cc_verify_report r;
	EVP_PKEY *key = EVP_RSA_gen(1024);
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, key, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "key.rsa-too-small", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);

	key = EVP_RSA_gen(2048);
	leaf = leaf_of(&p, NULL, key, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "key.rsa-too-small");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_curve_other_than_the_nist_ones)
{
	cc_verify_options o = options();
	cc_verify_report r;
	EVP_PKEY *key = EVP_EC_gen("secp256k1");
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, key, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "key.curve", CC_STATUS_CRITICAL, 0);
	ck_assert_msg(strstr(find(&r, "key.curve")->message, "secp256k1") != NULL, "%s", dump(&r));
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);

	key = EVP_EC_gen("P-384");
	leaf = leaf_of(&p, NULL, key, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "key.curve");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_dsa_key)
{
	cc_verify_options o = options();
	cc_verify_report r;
	EVP_PKEY *key = dsa_key();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, key, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "key.dsa", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);

	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "key.dsa");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_sha1_signature)
{
	cc_verify_options o = options();
	cc_verify_report r;
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, EVP_sha1());
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "signature.sha1", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	leaf = leaf_of(&p, NULL, NULL, 0, EVP_sha384());
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "signature.sha1");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_an_expired_certificate)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = make_cert("www.example.com", key, p.inter, p.int_key, &e, -30, -1, EVP_sha256());
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "validity.expired", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	leaf = make_cert("www.example.com", key, p.inter, p.int_key, &e, -30, 60, EVP_sha256());
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "validity.expired");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_warns_of_an_intermediate_near_its_end)
{
	cc_verify_options o = options();
	cc_verify_report r;
	const cc_verify_finding *f;
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 20);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	f = assert_rule(&r, "validity.warning", CC_STATUS_WARNING, 1);
	ck_assert_msg(strstr(f->message, "intermediate") && strstr(f->message, "Test Intermediate"),
		      "the warning does not name the intermediate:\n%s", dump(&r));
	ck_assert(r.verified); /* a warning, not a failure */
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	pki_init(&p, NULL, 400);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "validity.warning");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_warns_of_a_certificate_sent_for_nothing)
{
	cc_verify_options o = options();
	cc_verify_report r;
	pki p, other;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	pki_init(&other, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	{
		X509 *anchors[] = { p.root, NULL }, *given[] = { p.inter, other.inter, NULL };

		verify(&r, &o, leaf, anchors, given);
	}
	assert_rule(&r, "chain.extra", CC_STATUS_WARNING, -1);
	ck_assert(r.verified);
	cc_verify_report_dispose(&r);

	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "chain.extra");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&other);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_warns_of_a_chain_out_of_order)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = ca_exts();
	EVP_PKEY *key2 = EVP_EC_gen("P-256");
	pki p;
	X509 *int2, *leaf;

	/* root > int > int2 > leaf */
	pki_init(&p, NULL, 0);
	int2 = make_cert("Test Intermediate 2", key2, p.inter, p.int_key, &e, -1, 1000, EVP_sha256());
	{
		extlist l = leaf_exts();
		EVP_PKEY *key = EVP_EC_gen("P-256");

		leaf = make_cert("www.example.com", key, int2, key2, &l, -1, 90, EVP_sha256());
		EVP_PKEY_free(key);
	}
	{
		X509 *anchors[] = { p.root, NULL }, *given[] = { p.inter, int2, NULL };

		verify(&r, &o, leaf, anchors, given);
		assert_rule(&r, "chain.order", CC_STATUS_WARNING, -1);
		ck_assert(r.verified);
		cc_verify_report_dispose(&r);
	}
	{
		X509 *anchors[] = { p.root, NULL }, *given[] = { int2, p.inter, NULL };

		verify(&r, &o, leaf, anchors, given);
		assert_clean(&r, "chain.order");
		cc_verify_report_dispose(&r);
	}
	X509_free(leaf);
	X509_free(int2);
	EVP_PKEY_free(key2);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_warns_of_a_missing_intermediate)
{
	cc_verify_options o = options();
	cc_verify_report r;
	const cc_verify_finding *f;
	extlist e = leaf_exts();
	unsigned char *der = NULL;
	int der_len, port;
	char aia[128], url[100];
	pid_t server;
	pki p;
	X509 *leaf;

	/* The intermediate is not sent; the leaf says where it is. */
	pki_init(&p, NULL, 0);
	der_len = i2d_X509(p.inter, &der);
	ck_assert_int_gt(der_len, 0);
	server = serve(der, (size_t)der_len, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/int.der", port);
	snprintf(aia, sizeof(aia), "caIssuers;URI:%s", url);
	ext_set(&e, "authorityInfoAccess", aia);
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	o.no_fetch = 0;
	{
		X509 *anchors[] = { p.root, NULL }, *given[] = { NULL };

		verify(&r, &o, leaf, anchors, given);
		f = assert_rule(&r, "chain.missing-intermediate", CC_STATUS_WARNING, 1);
		ck_assert_msg(strstr(f->message, url) != NULL, "%s not named:\n%s", url, dump(&r));
		ck_assert_uint_eq(r.fetched, 1);
		ck_assert(r.verified);
		cc_verify_report_dispose(&r);
		/* Not fetched, it is missing altogether. */
		o.no_fetch = 1;
		verify(&r, &o, leaf, anchors, given);
		assert_rule(&r, "chain.untrusted", CC_STATUS_CRITICAL, -2);
		cc_verify_report_dispose(&r);
	}
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "chain.missing-intermediate");
	cc_verify_report_dispose(&r);
	server_stop(server);
	OPENSSL_free(der);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_revoked_certificate_with_the_reason)
{
	cc_verify_options o = options();
	cc_verify_report r;
	const cc_verify_finding *f;
	char crl[PATH_MAX];
	const char *crls[] = { crl };
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	fx_path(crl, sizeof(crl), "int.crl");
	o.revocation = CC_REVOCATION_SOFT;
	o.crl_files = crls;
	o.ncrl_files = 1;
	write_crl(crl, p.inter, p.int_key, leaf, 1 /* keyCompromise */);
	verify_leaf(&r, &o, &p, leaf);
	f = assert_rule(&r, "revocation.revoked", CC_STATUS_CRITICAL, 0);
	ck_assert_msg(strstr(f->message, "reason keyCompromise") != NULL, "%s", dump(&r));
	cc_verify_report_dispose(&r);
	/* Revoked is never excepted. */
	{
		cc_strlist allowed = CC_STRLIST_INIT;

		cc_strlist_add(&allowed, "revocation.revoked");
		o.allowed = &allowed;
		verify_leaf(&r, &o, &p, leaf);
		f = assert_rule(&r, "revocation.revoked", CC_STATUS_CRITICAL, 0);
		ck_assert(!f->allowed);
		cc_verify_report_dispose(&r);
		o.allowed = NULL;
		cc_strlist_dispose(&allowed);
	}

	write_crl(crl, p.inter, p.int_key, NULL, 0);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "revocation.revoked");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_tells_unchecked_from_unavailable)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	char int_crl[PATH_MAX], root_crl[PATH_MAX];
	const char *crls[] = { int_crl, root_crl };
	pki p;
	X509 *plain, *with_dp;

	pki_init(&p, NULL, 0);
	plain = leaf_of(&p, NULL, NULL, 0, NULL);
	/* A distribution point nothing answers at, and fetching is off anyway. */
	ext_set(&e, "crlDistributionPoints", "URI:http://127.0.0.1:9/int.crl");
	with_dp = leaf_of(&p, &e, NULL, 0, NULL);

	/* Soft: no distribution point and no CRL is not checked, and OK... */
	o.revocation = CC_REVOCATION_SOFT;
	verify_leaf(&r, &o, &p, plain);
	assert_rule(&r, "revocation.unchecked", CC_STATUS_OK, 0);
	ck_assert_ptr_null(find(&r, "revocation.unavailable"));
	ck_assert_int_eq(r.status, CC_STATUS_OK);
	cc_verify_report_dispose(&r);
	/* ...a CRL named and not had is a warning. */
	verify_leaf(&r, &o, &p, with_dp);
	assert_rule(&r, "revocation.unavailable", CC_STATUS_WARNING, 0);
	ck_assert_int_eq(r.status, CC_STATUS_WARNING);
	cc_verify_report_dispose(&r);
	/* Hard: both are critical. */
	o.revocation = CC_REVOCATION_HARD;
	verify_leaf(&r, &o, &p, plain);
	assert_rule(&r, "revocation.unavailable", CC_STATUS_CRITICAL, 0);
	ck_assert_ptr_null(find(&r, "revocation.unchecked"));
	cc_verify_report_dispose(&r);
	verify_leaf(&r, &o, &p, with_dp);
	assert_rule(&r, "revocation.unavailable", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);

	/* With the CRLs at hand, both are known good, soft or hard. */
	fx_path(int_crl, sizeof(int_crl), "int.crl");
	fx_path(root_crl, sizeof(root_crl), "root.crl");
	write_crl(int_crl, p.inter, p.int_key, NULL, 0);
	write_crl(root_crl, p.root, p.root_key, NULL, 0);
	o.crl_files = crls;
	o.ncrl_files = 2;
	verify_leaf(&r, &o, &p, plain);
	assert_clean(&r, "revocation.unavailable");
	cc_verify_report_dispose(&r);
	verify_leaf(&r, &o, &p, with_dp);
	assert_clean(&r, "revocation.unavailable");
	cc_verify_report_dispose(&r);
	o.revocation = CC_REVOCATION_SOFT;
	verify_leaf(&r, &o, &p, plain);
	assert_clean(&r, "revocation.unchecked");
	cc_verify_report_dispose(&r);
	X509_free(plain);
	X509_free(with_dp);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_signature_that_does_not_verify)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	EVP_PKEY *key = EVP_EC_gen("P-256"), *forger = EVP_EC_gen("P-256");
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	/* The intermediate's name and key identifier, another key's signature. */
	leaf = make_cert("www.example.com", key, p.inter, forger, &e, -1, 90, EVP_sha256());
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "signature.invalid", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	leaf = make_cert("www.example.com", key, p.inter, p.int_key, &e, -1, 90, EVP_sha256());
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "signature.invalid");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);
	EVP_PKEY_free(forger);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_a_certificate_not_yet_valid)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = make_cert("www.example.com", key, p.inter, p.int_key, &e, 2, 90, EVP_sha256());
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "validity.not-yet-valid", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	leaf = make_cert("www.example.com", key, p.inter, p.int_key, &e, -1, 90, EVP_sha256());
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "validity.not-yet-valid");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_fails_an_intermediate_at_its_end)
{
	cc_verify_options o = options();
	cc_verify_report r;
	const cc_verify_finding *f;
	pki p;
	X509 *leaf;

	/* Three days left: under the 7 days of CRITICAL. */
	pki_init(&p, NULL, 3);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	f = assert_rule(&r, "validity.critical", CC_STATUS_CRITICAL, 1);
	ck_assert_msg(strstr(f->message, "Test Intermediate") != NULL, "%s", dump(&r));
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	pki_init(&p, NULL, 400);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "validity.critical");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

/* root > intermediate (pathlen `pathlen`) > sub-CA > leaf: verified. */
static void verify_under_pathlen(cc_verify_report *r, const char *pathlen)
{
	cc_verify_options o = options();
	extlist e = ca_exts(), sub_e = ca_exts(), leaf_e = leaf_exts();
	EVP_PKEY *sub_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	char bc[64];
	pki p;
	X509 *sub, *leaf;

	snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%s", pathlen);
	ext_set(&e, "basicConstraints", bc);
	pki_init(&p, &e, 0);
	sub = make_cert("Test Sub-CA", sub_key, p.inter, p.int_key, &sub_e, -1, 1000, EVP_sha256());
	leaf = make_cert("www.example.com", key, sub, sub_key, &leaf_e, -1, 90, EVP_sha256());
	{
		X509 *anchors[] = { p.root, NULL }, *given[] = { sub, p.inter, NULL };

		verify(r, &o, leaf, anchors, given);
	}
	X509_free(leaf);
	X509_free(sub);
	EVP_PKEY_free(key);
	EVP_PKEY_free(sub_key);
	pki_dispose(&p);
}

START_TEST(test_verify_applies_the_path_length)
{
	cc_verify_report r;

	verify_under_pathlen(&r, "0");
	assert_rule(&r, "ca.path-length", CC_STATUS_CRITICAL, -2);
	cc_verify_report_dispose(&r);

	verify_under_pathlen(&r, "1");
	assert_clean(&r, "ca.path-length");
	ck_assert_uint_eq(r.path_len, 4);
	cc_verify_report_dispose(&r);
}
END_TEST

START_TEST(test_verify_applies_name_constraints)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = ca_exts();
	pki p;
	X509 *leaf;

	ext_set(&e, "nameConstraints", "critical,permitted;DNS:example.org");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL); /* www.example.com */
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "name.constraints", CC_STATUS_CRITICAL, -2);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);

	ext_set(&e, "nameConstraints", "critical,permitted;DNS:example.com");
	pki_init(&p, &e, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "name.constraints");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_an_unknown_critical_extension)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist e = leaf_exts();
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	ext_set(&e, "1.3.6.1.4.1.55555.1", "critical,DER:05:00");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "extension.unknown-critical", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	/* The same extension, not critical, may be ignored. */
	ext_set(&e, "1.3.6.1.4.1.55555.1", "DER:05:00");
	leaf = leaf_of(&p, &e, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "extension.unknown-critical");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_an_ec_key_under_256_bits)
{
	cc_verify_options o = options();
	cc_verify_report r;
	EVP_PKEY *key = EVP_EC_gen("P-224");
	pki p;
	X509 *leaf;

	ck_assert_ptr_nonnull(key);
	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, key, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "key.ec-too-small", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);

	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "key.ec-too-small");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rejects_an_md5_signature)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist ca = ca_exts(), e = leaf_exts();
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *key = EVP_EC_gen("P-256");
	pki p;
	X509 *inter, *leaf;

	ck_assert_ptr_nonnull(rsa);
	pki_init(&p, NULL, 0);
	/* ECDSA has no MD5: an RSA intermediate signs. */
	inter = make_cert("Test RSA Intermediate", rsa, p.root, p.root_key, &ca, -1, 1000,
			  EVP_sha256());
	leaf = make_cert("www.example.com", key, inter, rsa, &e, -1, 90, EVP_md5());
	{
		X509 *anchors[] = { p.root, NULL }, *given[] = { inter, NULL };

		verify(&r, &o, leaf, anchors, given);
		assert_rule(&r, "signature.md5", CC_STATUS_CRITICAL, 0);
		cc_verify_report_dispose(&r);
		X509_free(leaf);

		leaf = make_cert("www.example.com", key, inter, rsa, &e, -1, 90, EVP_sha256());
		verify(&r, &o, leaf, anchors, given);
		assert_clean(&r, "signature.md5");
		cc_verify_report_dispose(&r);
	}
	X509_free(leaf);
	X509_free(inter);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(key);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_fails_softly_or_hard_on_an_expired_crl)
{
	cc_verify_options o = options();
	cc_verify_report r;
	char crl[PATH_MAX], root_crl[PATH_MAX];
	const char *crls[] = { crl, root_crl };
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, NULL);
	fx_path(crl, sizeof(crl), "int.crl");
	fx_path(root_crl, sizeof(root_crl), "root.crl");
	write_crl(root_crl, p.root, p.root_key, NULL, 0);
	o.crl_files = crls;
	o.ncrl_files = 2;
	write_crl_until(crl, p.inter, p.int_key, NULL, 0, -1);
	o.revocation = CC_REVOCATION_SOFT;
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "revocation.crl-expired", CC_STATUS_WARNING, 0);
	ck_assert(r.verified); /* soft: a warning */
	cc_verify_report_dispose(&r);
	o.revocation = CC_REVOCATION_HARD;
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "revocation.crl-expired", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);
	/* Revoked in an expired CRL is still revoked. */
	write_crl_until(crl, p.inter, p.int_key, leaf, 1, -1);
	o.revocation = CC_REVOCATION_SOFT;
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "revocation.revoked", CC_STATUS_CRITICAL, 0);
	cc_verify_report_dispose(&r);

	write_crl(crl, p.inter, p.int_key, NULL, 0);
	o.revocation = CC_REVOCATION_HARD;
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "revocation.crl-expired");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

/* A caller with no set named (a definition on the default set) gets the
 * default set's policy and revocation mode, as one naming it does. */
START_TEST(test_verify_set_policy_of_no_set_is_the_default_sets)
{
	cc_verify_options o = CC_VERIFY_OPTIONS_INIT;
	char path[PATH_MAX];
	char *text;
	cc_repo *repo = NULL;
	FILE *f;

	fx_pathf(path, sizeof(path), "%s/.certctl/config.yaml", fx_repo_path);
	text = fx_read_file(path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%strust_sets:\n  default:\n    policy: rfc5280\n    revocation: hard\n", text);
	fclose(f);
	free(text);
	ck_assert_int_eq(cc_repo_open(&repo, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_verify_set_policy(repo, NULL, &o), 0);
	ck_assert_int_eq(o.policy, CC_POLICY_RFC5280);
	ck_assert_int_eq(o.revocation, CC_REVOCATION_HARD);
	/* Another set is not the default's. */
	o = (cc_verify_options)CC_VERIFY_OPTIONS_INIT;
	ck_assert_int_eq(cc_verify_set_policy(repo, "partners", &o), 0);
	ck_assert_int_eq(o.policy, CC_POLICY_WEBPKI);
	ck_assert_int_eq(o.revocation, CC_REVOCATION_SOFT);
	cc_repo_free(repo);
}
END_TEST

START_TEST(test_verify_allow_turns_a_rule_ok)
{
	cc_verify_options o = options();
	cc_verify_report r;
	cc_strlist allowed = CC_STRLIST_INIT;
	const cc_verify_finding *f;
	pki p;
	X509 *leaf;

	pki_init(&p, NULL, 0);
	leaf = leaf_of(&p, NULL, NULL, 0, EVP_sha1());
	cc_strlist_add(&allowed, "signature.sha1");
	o.allowed = &allowed;
	verify_leaf(&r, &o, &p, leaf);
	f = find(&r, "signature.sha1");
	ck_assert_msg(f && f->status == CC_STATUS_OK && f->allowed, "%s", dump(&r));
	ck_assert_msg(r.status == CC_STATUS_OK && r.verified, "%s", dump(&r));
	ck_assert_ptr_nonnull(find(&r, "chain.trusted"));
	cc_verify_report_dispose(&r);
	cc_strlist_dispose(&allowed);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_rfc5280_policy_leaves_out_the_webpki_rules)
{
	static const char *const webpki_rules[] = {
		"name.cn-only", "eku.missing-serverauth", "eku.intermediate-no-serverauth",
		"ca.basic-constraints", "extension.ski-missing", "extension.aki-missing",
		"key.curve", "signature.sha1",
	};
	cc_verify_options o = options();
	cc_verify_report r;
	extlist ie = ca_exts(), le = leaf_exts();
	EVP_PKEY *key = EVP_EC_gen("secp256k1");
	pki p;
	X509 *leaf;

	/* An intermediate and a leaf that break every rule above, and no other. */
	ext_set(&ie, "basicConstraints", "CA:TRUE");
	ext_set(&ie, "subjectKeyIdentifier", NULL);
	ext_set(&ie, "extendedKeyUsage", "clientAuth");
	pki_init(&p, &ie, 0);
	ext_set(&le, "subjectAltName", NULL);
	ext_set(&le, "extendedKeyUsage", NULL);
	ext_set(&le, "authorityKeyIdentifier", NULL);
	leaf = leaf_of(&p, &le, key, 0, EVP_sha1());

	verify_leaf(&r, &o, &p, leaf);
	for (size_t i = 0; i < sizeof(webpki_rules) / sizeof(webpki_rules[0]); i++)
		assert_rule(&r, webpki_rules[i], CC_STATUS_CRITICAL, -2);
	cc_verify_report_dispose(&r);

	o.policy = CC_POLICY_RFC5280;
	verify_leaf(&r, &o, &p, leaf);
	for (size_t i = 0; i < sizeof(webpki_rules) / sizeof(webpki_rules[0]); i++)
		assert_clean(&r, webpki_rules[i]);
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	EVP_PKEY_free(key);
	pki_dispose(&p);
}
END_TEST

START_TEST(test_verify_processes_certificate_policies)
{
	cc_verify_options o = options();
	cc_verify_report r;
	extlist ie = ca_exts(), le = leaf_exts();
	pki p;
	X509 *leaf;

	/* The intermediate requires an explicit policy below it. */
	ext_set(&ie, "certificatePolicies", "1.3.6.1.4.1.55555.1");
	ext_set(&ie, "policyConstraints", "critical,requireExplicitPolicy:0");
	pki_init(&p, &ie, 0);
	leaf = leaf_of(&p, &le, NULL, 0, NULL);
	o.policy = CC_POLICY_RFC5280;
	verify_leaf(&r, &o, &p, leaf);
	assert_rule(&r, "policy.invalid", CC_STATUS_CRITICAL, -2);
	cc_verify_report_dispose(&r);
	X509_free(leaf);

	ext_set(&le, "certificatePolicies", "1.3.6.1.4.1.55555.1");
	leaf = leaf_of(&p, &le, NULL, 0, NULL);
	verify_leaf(&r, &o, &p, leaf);
	assert_clean(&r, "policy.invalid");
	cc_verify_report_dispose(&r);
	X509_free(leaf);
	pki_dispose(&p);
}
END_TEST

Suite *verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("rules");

	/* RSA and DSA keys take a while to make. */
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_verify_accepts_a_good_chain);
	tcase_add_test(tc, test_verify_rejects_a_name_only_in_the_common_name);
	tcase_add_test(tc, test_verify_matches_names_and_addresses_as_such);
	tcase_add_test(tc, test_verify_rejects_a_wildcard_that_is_not_a_whole_label);
	tcase_add_test(tc, test_verify_rejects_a_wildcard_under_a_public_suffix);
	tcase_add_test(tc, test_verify_wants_serverauth_on_the_leaf);
	tcase_add_test(tc, test_verify_rejects_an_intermediate_that_leaves_out_serverauth);
	tcase_add_test(tc, test_verify_wants_a_critical_basic_constraints_on_a_ca);
	tcase_add_test(tc, test_verify_wants_keycertsign_on_a_ca);
	tcase_add_test(tc, test_verify_wants_an_authority_key_identifier);
	tcase_add_test(tc, test_verify_wants_a_subject_key_identifier_on_a_ca);
	tcase_add_test(tc, test_verify_rejects_an_rsa_key_under_2048_bits);
	tcase_add_test(tc, test_verify_rejects_a_curve_other_than_the_nist_ones);
	tcase_add_test(tc, test_verify_rejects_a_dsa_key);
	tcase_add_test(tc, test_verify_rejects_a_sha1_signature);
	tcase_add_test(tc, test_verify_rejects_an_expired_certificate);
	tcase_add_test(tc, test_verify_warns_of_an_intermediate_near_its_end);
	tcase_add_test(tc, test_verify_warns_of_a_certificate_sent_for_nothing);
	tcase_add_test(tc, test_verify_warns_of_a_chain_out_of_order);
	tcase_add_test(tc, test_verify_warns_of_a_missing_intermediate);
	tcase_add_test(tc, test_verify_rejects_a_revoked_certificate_with_the_reason);
	tcase_add_test(tc, test_verify_tells_unchecked_from_unavailable);
	tcase_add_test(tc, test_verify_rejects_a_signature_that_does_not_verify);
	tcase_add_test(tc, test_verify_rejects_a_certificate_not_yet_valid);
	tcase_add_test(tc, test_verify_fails_an_intermediate_at_its_end);
	tcase_add_test(tc, test_verify_applies_the_path_length);
	tcase_add_test(tc, test_verify_applies_name_constraints);
	tcase_add_test(tc, test_verify_rejects_an_unknown_critical_extension);
	tcase_add_test(tc, test_verify_rejects_an_ec_key_under_256_bits);
	tcase_add_test(tc, test_verify_rejects_an_md5_signature);
	tcase_add_test(tc, test_verify_fails_softly_or_hard_on_an_expired_crl);
	tcase_add_test(tc, test_verify_allow_turns_a_rule_ok);
	tcase_add_test(tc, test_verify_rfc5280_policy_leaves_out_the_webpki_rules);
	tcase_add_test(tc, test_verify_processes_certificate_policies);
	suite_add_tcase(s, tc);

	tc = tcase_create("settings");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_verify_set_policy_of_no_set_is_the_default_sets);
	suite_add_tcase(s, tc);
	return s;
}
