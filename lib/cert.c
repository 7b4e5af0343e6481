/*
 * This module implements certificates: parsing PEM, DER and PKCS#7, the
 * fields and fingerprints operators compare, and the per-definition store
 * in certs/<definition>/<id>/.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include "internal.h"

struct cc_cert {
	X509 *x509;
	char sha256[65], sha1[41], id[17], keyfp[65];
	char *serial, *subject, *issuer, *cn;
	int self_signed; /* -1 until asked: checking costs a signature verification */
};

/* Inputs larger than this are not certificate files. */
#define CERT_INPUT_MAX (16 * 1024 * 1024)
/* A chain or bundle with more certificates than this is refused. */
#define CERT_LIST_MAX 1000

char *cc_name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long len;

	if (!bio)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		out = strndup(data ? data : "", (size_t)len);
	}
	BIO_free(bio);
	return out;
}

void cc_cert_free(cc_cert *cert)
{
	if (!cert)
		return;
	X509_free(cert->x509);
	free(cert->serial);
	free(cert->subject);
	free(cert->issuer);
	free(cert->cn);
	free(cert);
}

/*
 * SHA-256 and SHA-1 fetched once: with EVP_sha256() OpenSSL 3 fetches the
 * implementation again for every digest, through its locked method store.
 */
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md, *sha1_md;

static void digests_free(void)
{
	EVP_MD_free(sha256_md);
	EVP_MD_free(sha1_md);
	sha256_md = sha1_md = NULL;
}

static void digests_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
	atexit(digests_free);
}

/* Wrap `x509` (taking the reference) and compute what we show. */
int cc_cert_from_x509(cc_cert **out, X509 *x509)
{
	cc_cert *cert = calloc(1, sizeof(*cert));
	unsigned char md[EVP_MAX_MD_SIZE], *spki = NULL;
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	const ASN1_INTEGER *serial;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int len, ok, rc = 0;

	*out = NULL;
	if (!cert) {
		X509_free(x509);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	cert->x509 = x509;
	cert->self_signed = -1;
	pthread_once(&digests_once, digests_fetch);
	/* What X509_digest() hashes, encoded once for both digests. */
	len = i2d_X509(x509, &der);
	ok = len > 0 &&
	     EVP_Digest(der, (size_t)len, md, &mdlen, sha256_md ? sha256_md : EVP_sha256(), NULL) == 1;
	if (ok) {
		cc_hex(cert->sha256, md, 32);
		memcpy(cert->id, cert->sha256, 16);
		ok = EVP_Digest(der, (size_t)len, md, &mdlen, sha1_md ? sha1_md : EVP_sha1(), NULL) == 1;
	}
	OPENSSL_free(der);
	if (!ok)
		goto fail;
	cc_hex(cert->sha1, md, 20);
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509), &spki);
	if (len <= 0 ||
	    EVP_Digest(spki, (size_t)len, md, &mdlen, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1)
		goto fail;
	cc_hex(cert->keyfp, md, 32);
	serial = X509_get0_serialNumber(x509);
	if (!(bn = ASN1_INTEGER_to_BN(serial, NULL)) || !(hex = BN_bn2hex(bn)))
		goto fail;
	cert->serial = strdup(hex);
	cert->subject = cc_name_text(X509_get_subject_name(x509));
	cert->issuer = cc_name_text(X509_get_issuer_name(x509));
	{
		X509_NAME *name = X509_get_subject_name(x509);
		int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

		if (idx >= 0) {
			ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
			unsigned char *utf8 = NULL;
			int ulen = ASN1_STRING_to_UTF8(&utf8, data);

			if (ulen >= 0) {
				cert->cn = strndup((const char *)utf8, (size_t)ulen);
				OPENSSL_free(utf8);
			}
		}
	}
	if (!cert->serial || !cert->subject || !cert->issuer)
		goto fail;
	goto done;
fail:
	rc = cc_error_openssl(CC_EINVALID, "cannot read the certificate");
done:
	OPENSSL_free(spki);
	OPENSSL_free(hex);
	BN_free(bn);
	if (rc < 0)
		cc_cert_free(cert);
	else
		*out = cert;
	return rc;
}

X509 *cc_cert_get0_x509(const cc_cert *cert)
{
	return cert->x509;
}

cc_cert *cc_cert_dup(const cc_cert *cert)
{
	cc_cert *copy = NULL;

	if (!X509_up_ref(cert->x509))
		return NULL;
	if (cc_cert_from_x509(&copy, cert->x509) < 0)
		return NULL;
	return copy;
}

void cc_cert_list_free(cc_cert **certs, size_t count)
{
	if (!certs)
		return;
	for (size_t i = 0; i < count; i++)
		cc_cert_free(certs[i]);
	free(certs);
}

typedef struct {
	cc_cert **items;
	size_t count, alloc;
} cert_list;

static int list_add(cert_list *list, X509 *x509, const char *source)
{
	cc_cert *cert = NULL;
	int rc;

	if (list->count >= CERT_LIST_MAX) {
		X509_free(x509);
		return cc_error_set(CC_EINVALID, "%s: more than %d certificates", source,
				    CERT_LIST_MAX);
	}
	if (list->count == list->alloc) {
		size_t alloc = list->alloc ? list->alloc * 2 : 4;
		cc_cert **items = realloc(list->items, alloc * sizeof(*items));

		if (!items) {
			X509_free(x509);
			return cc_error_set(CC_ERROR, "out of memory");
		}
		list->items = items;
		list->alloc = alloc;
	}
	if ((rc = cc_cert_from_x509(&cert, x509)) < 0)
		return rc;
	list->items[list->count++] = cert;
	return 0;
}

static int add_pkcs7(cert_list *list, PKCS7 *p7, const char *source)
{
	STACK_OF(X509) *certs = NULL;
	int nid = OBJ_obj2nid(p7->type), rc = 0;

	if (nid == NID_pkcs7_signed && p7->d.sign)
		certs = p7->d.sign->cert;
	else if (nid == NID_pkcs7_signedAndEnveloped && p7->d.signed_and_enveloped)
		certs = p7->d.signed_and_enveloped->cert;
	for (int i = 0; certs && i < sk_X509_num(certs) && rc == 0; i++) {
		X509 *x = sk_X509_value(certs, i);

		if (X509_up_ref(x))
			rc = list_add(list, x, source);
	}
	return rc;
}

static int has_text(const char *data, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (data[i] == needle[0] && memcmp(data + i, needle, n) == 0)
			return 1;
	return 0;
}

int cc_cert_parse_all(cc_cert ***out, size_t *count, const void *data, size_t len,
		      const char *source)
{
	cert_list list = { NULL, 0, 0 };
	const char *name = source ? source : "input";
	BIO *bio = NULL;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (!data || len == 0)
		return cc_error_set(CC_EINVALID, "%s: empty, no certificate", name);
	if (len > CERT_INPUT_MAX)
		return cc_error_set(CC_EINVALID, "%s: too large for a certificate file", name);
	if (has_text(data, len, "-----BEGIN ")) {
		/* PEM: certificates and PKCS#7 blocks, in order; other blocks skipped. */
		char *pem_name = NULL, *header = NULL;
		unsigned char *der = NULL;
		long der_len = 0;

		bio = BIO_new_mem_buf(data, (int)len);
		if (!bio)
			return cc_error_set(CC_ERROR, "out of memory");
		while (rc == 0 && PEM_read_bio(bio, &pem_name, &header, &der, &der_len) == 1) {
			const unsigned char *p = der;

			if (!strcmp(pem_name, "CERTIFICATE") || !strcmp(pem_name, "X509 CERTIFICATE") ||
			    !strcmp(pem_name, "TRUSTED CERTIFICATE")) {
				X509 *x = !strcmp(pem_name, "TRUSTED CERTIFICATE")
						  ? d2i_X509_AUX(NULL, &p, der_len)
						  : d2i_X509(NULL, &p, der_len);

				rc = x ? list_add(&list, x, name)
				       : cc_error_openssl(CC_EINVALID, "%s: certificate %zu is damaged",
							  name, list.count + 1);
			} else if (!strcmp(pem_name, "PKCS7") || !strcmp(pem_name, "CERTIFICATE CHAIN")) {
				PKCS7 *p7 = d2i_PKCS7(NULL, &p, der_len);

				rc = p7 ? add_pkcs7(&list, p7, name)
					: cc_error_openssl(CC_EINVALID, "%s: damaged PKCS#7 block", name);
				PKCS7_free(p7);
			}
			OPENSSL_free(pem_name);
			OPENSSL_free(header);
			OPENSSL_free(der);
			pem_name = header = NULL;
			der = NULL;
		}
		ERR_clear_error();
	} else {
		const unsigned char *p = data;
		X509 *x = d2i_X509(NULL, &p, (long)len);

		if (x && p == (const unsigned char *)data + len) {
			rc = list_add(&list, x, name);
		} else {
			PKCS7 *p7;

			X509_free(x);
			p = data;
			p7 = d2i_PKCS7(NULL, &p, (long)len);
			if (p7)
				rc = add_pkcs7(&list, p7, name);
			PKCS7_free(p7);
		}
		ERR_clear_error();
	}
	BIO_free(bio);
	if (rc == 0 && list.count == 0)
		rc = cc_error_set(CC_EINVALID,
				  "%s: no certificate found (expected PEM, DER or PKCS#7)", name);
	if (rc < 0) {
		cc_cert_list_free(list.items, list.count);
		return rc;
	}
	*out = list.items;
	*count = list.count;
	return 0;
}

int cc_cert_parse(cc_cert **out, const void *data, size_t len, const char *source)
{
	cc_cert **all = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = cc_cert_parse_all(&all, &n, data, len, source)) < 0)
		return rc;
	if (n != 1) {
		cc_cert_list_free(all, n);
		return cc_error_set(CC_EINVALID, "%s: holds %zu certificates, expected one",
				    source ? source : "input", n);
	}
	*out = all[0];
	free(all);
	return 0;
}

int cc_cert_pem(const cc_cert *cert, cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc;

	if (!bio || PEM_write_bio_X509(bio, cert->x509) != 1) {
		BIO_free(bio);
		return cc_error_openssl(CC_ERROR, "cannot encode the certificate");
	}
	len = BIO_get_mem_data(bio, &data);
	rc = cc_buf_put(out, data, (size_t)len);
	BIO_free(bio);
	return rc;
}

int cc_cert_der(const cc_cert *cert, cc_buf *out)
{
	unsigned char *der = NULL;
	int len = i2d_X509(cert->x509, &der), rc;

	if (len <= 0)
		return cc_error_openssl(CC_ERROR, "cannot encode the certificate");
	rc = cc_buf_put(out, der, (size_t)len);
	OPENSSL_free(der);
	return rc;
}

const char *cc_cert_sha256(const cc_cert *cert) { return cert->sha256; }
const char *cc_cert_sha1(const cc_cert *cert) { return cert->sha1; }
const char *cc_cert_id(const cc_cert *cert) { return cert->id; }
const char *cc_cert_serial(const cc_cert *cert) { return cert->serial; }
const char *cc_cert_subject(const cc_cert *cert) { return cert->subject; }
const char *cc_cert_issuer(const cc_cert *cert) { return cert->issuer; }
const char *cc_cert_cn(const cc_cert *cert) { return cert->cn; }
const char *cc_cert_key_fingerprint(const cc_cert *cert) { return cert->keyfp; }

time_t cc_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

time_t cc_cert_not_before(const cc_cert *cert)
{
	return cc_asn1_time(X509_get0_notBefore(cert->x509));
}

time_t cc_cert_not_after(const cc_cert *cert)
{
	return cc_asn1_time(X509_get0_notAfter(cert->x509));
}

int cc_cert_is_ca(const cc_cert *cert)
{
	return X509_check_ca(cert->x509) > 0;
}

int cc_cert_is_self_signed(const cc_cert *cert)
{
	cc_cert *cache = (cc_cert *)cert; /* the answer never changes */

	if (cache->self_signed < 0)
		cache->self_signed = X509_self_signed(cert->x509, 1) == 1;
	return cache->self_signed;
}

int cc_cert_sans(const cc_cert *cert, cc_strlist *out)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert->x509, NID_subject_alt_name, NULL, NULL);
	int rc = 0;

	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && rc == 0; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		char text[512];

		text[0] = '\0';
		switch (gn->type) {
		case GEN_DNS:
			snprintf(text, sizeof(text), "DNS:%.*s", ASN1_STRING_length(gn->d.dNSName),
				 (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
			break;
		case GEN_EMAIL:
			snprintf(text, sizeof(text), "email:%.*s", ASN1_STRING_length(gn->d.rfc822Name),
				 (const char *)ASN1_STRING_get0_data(gn->d.rfc822Name));
			break;
		case GEN_URI:
			snprintf(text, sizeof(text), "URI:%.*s",
				 ASN1_STRING_length(gn->d.uniformResourceIdentifier),
				 (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier));
			break;
		case GEN_IPADD: {
			ASN1_OCTET_STRING *os = gn->d.iPAddress;
			char addr[64] = "";

			if (ASN1_STRING_length(os) == 4)
				inet_ntop(AF_INET, ASN1_STRING_get0_data(os), addr, sizeof(addr));
			else if (ASN1_STRING_length(os) == 16)
				inet_ntop(AF_INET6, ASN1_STRING_get0_data(os), addr, sizeof(addr));
			snprintf(text, sizeof(text), "IP:%s", addr);
			break;
		}
		default:
			continue;
		}
		rc = cc_strlist_add(out, text);
	}
	GENERAL_NAMES_free(names);
	return rc;
}

void cc_cert_key_spec(const cc_cert *cert, cc_key_spec *out)
{
	EVP_PKEY *pkey = X509_get0_pubkey(cert->x509);

	out->type = CC_KEY_NONE;
	out->bits = 0;
	if (!pkey)
		return;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		out->type = CC_KEY_RSA;
		out->bits = (unsigned)EVP_PKEY_get_bits(pkey);
		break;
	case EVP_PKEY_EC:
		out->type = CC_KEY_ECDSA;
		out->bits = (unsigned)EVP_PKEY_get_bits(pkey);
		break;
	case EVP_PKEY_ED25519:
		out->type = CC_KEY_ED25519;
		break;
	default:
		break;
	}
}

int cc_cert_matches_key(const cc_cert *cert, const cc_key *key)
{
	return strcmp(cert->keyfp, cc_key_fingerprint(key)) == 0;
}

int cc_cert_issued_by(const cc_cert *cert, const cc_cert *issuer)
{
	EVP_PKEY *pkey = X509_get0_pubkey(issuer->x509);
	int ok;

	if (X509_check_issued(issuer->x509, cert->x509) != X509_V_OK || !pkey)
		return 0;
	ok = X509_verify(cert->x509, pkey) == 1;
	ERR_clear_error();
	return ok;
}

void cc_time_rfc3339(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cc_json *cc_cert_to_json(const cc_cert *cert)
{
	cc_json *obj = cc_json_object(), *sans = cc_json_array();
	cc_strlist names = CC_STRLIST_INIT;
	cc_key_spec spec;
	char when[32], key[32];

	if (!obj || !sans) {
		cc_json_free(obj);
		cc_json_free(sans);
		return NULL;
	}
	cc_json_set_str(obj, "id", cert->id);
	cc_json_set_str(obj, "subject", cert->subject);
	cc_json_set_str(obj, "issuer", cert->issuer);
	cc_json_set_str(obj, "serial", cert->serial);
	cc_time_rfc3339(cc_cert_not_before(cert), when);
	cc_json_set_str(obj, "not_before", when);
	cc_time_rfc3339(cc_cert_not_after(cert), when);
	cc_json_set_str(obj, "not_after", when);
	cc_json_set_str(obj, "sha256", cert->sha256);
	cc_json_set_str(obj, "sha1", cert->sha1);
	cc_cert_key_spec(cert, &spec);
	cc_key_spec_format(&spec, key, sizeof(key));
	cc_json_set_str(obj, "key", key);
	cc_json_set_bool(obj, "ca", cc_cert_is_ca(cert));
	cc_cert_sans(cert, &names);
	for (size_t i = 0; i < names.count; i++)
		cc_json_append_str(sans, names.items[i]);
	cc_json_set(obj, "san", sans);
	cc_strlist_dispose(&names);
	return obj;
}
