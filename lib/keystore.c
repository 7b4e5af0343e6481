/*
 * Reading every container servers and CAs hand out, by content: PEM (any
 * mix of certificates and one private key), DER certificates and keys,
 * PKCS#7 (P7B), PKCS#12 (modern and legacy ciphers) and Java KeyStores
 * (JKS and JCEKS: key entries with their chains, trusted certificate
 * entries; the store's integrity digest is verified).  And writing JKS.
 *
 * JKS is Sun's format: big-endian fields, a SHA-1 "integrity" digest over
 * the UTF-16BE password, the words "Mighty Aphrodite" and the store, and
 * private keys hidden by a SHA-1 keystream (the JKS key protector).  Weak
 * by design; it is read and written because Java servers still use it.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include "internal.h"

#define JKS_MAGIC 0xFEEDFEEDu
#define JCEKS_MAGIC 0xCECECECEu
#define JKS_MAX_ENTRIES 4096
#define JKS_MAX_CHAIN 64
#define JKS_KEY_PROTECTOR_OID "1.3.6.1.4.1.42.2.17.1.1"
/* JCEKS: Sun's PBEWithMD5AndTripleDES. */
#define JCEKS_KEY_PROTECTOR_OID "1.3.6.1.4.1.42.2.19.1"

void cc_bundle_dispose(cc_bundle *b)
{
	if (!b)
		return;
	cc_key_free(b->key);
	free(b->alias);
	cc_cert_list_free(b->certs, b->ncerts);
	memset(b, 0, sizeof(*b));
}

static int bundle_add(cc_bundle *b, X509 *x)
{
	cc_cert **grown, *c = NULL;
	int rc;

	if ((rc = cc_cert_from_x509(&c, x)) < 0)
		return rc;
	grown = realloc(b->certs, (b->ncerts + 1) * sizeof(*grown));
	if (!grown) {
		cc_cert_free(c);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	b->certs = grown;
	b->certs[b->ncerts++] = c;
	return 0;
}

/* ---- JKS ----------------------------------------------------------------- */

typedef struct {
	const unsigned char *p, *end;
	const char *source;
} reader;

static int need(reader *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return cc_error_set(CC_EINVALID, "%s: truncated keystore", r->source);
	return 0;
}

static int get_u16(reader *r, unsigned *out)
{
	if (need(r, 2) < 0)
		return CC_EINVALID;
	*out = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2;
	return 0;
}

static int get_u32(reader *r, uint32_t *out)
{
	if (need(r, 4) < 0)
		return CC_EINVALID;
	*out = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return 0;
}

static int skip(reader *r, size_t n)
{
	if (need(r, n) < 0)
		return CC_EINVALID;
	r->p += n;
	return 0;
}

/* Java's writeUTF: a 16-bit length and (modified) UTF-8. */
static int get_utf(reader *r, char **out)
{
	unsigned len;

	*out = NULL;
	if (get_u16(r, &len) < 0 || need(r, len) < 0)
		return CC_EINVALID;
	*out = strndup((const char *)r->p, len);
	r->p += len;
	return *out ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

static int get_cert(reader *r, cc_bundle *b, unsigned version)
{
	char *type = NULL;
	uint32_t len;
	const unsigned char *der;
	X509 *x;
	int rc;

	if (version == 2 && (rc = get_utf(r, &type)) < 0)
		return rc;
	if (type && strcmp(type, "X.509")) {
		rc = cc_error_set(CC_EINVALID, "%s: unsupported certificate type '%s'", r->source, type);
		free(type);
		return rc;
	}
	free(type);
	if ((rc = get_u32(r, &len)) < 0 || (rc = need(r, len)) < 0)
		return rc;
	der = r->p;
	x = d2i_X509(NULL, &der, (long)len);
	if (!x || der != r->p + len) {
		X509_free(x);
		return cc_error_openssl(CC_EINVALID, "%s: a certificate in the keystore is damaged",
					r->source);
	}
	r->p += len;
	return bundle_add(b, x);
}

/* The password as Java hashes it: UTF-16 big-endian code units. */
static int utf16be(cc_buf *out, const cc_secret *pass)
{
	const unsigned char *s = pass ? cc_secret_data(pass) : (const unsigned char *)"";
	size_t len = pass ? cc_secret_len(pass) : 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n;

		if (s[i] < 0x80)
			cp = s[i], n = 1;
		else if ((s[i] & 0xe0) == 0xc0 && i + 1 < len)
			cp = (uint32_t)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f), n = 2;
		else if ((s[i] & 0xf0) == 0xe0 && i + 2 < len)
			cp = (uint32_t)(s[i] & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
			     (s[i + 2] & 0x3f),
			n = 3;
		else if ((s[i] & 0xf8) == 0xf0 && i + 3 < len)
			cp = (uint32_t)(s[i] & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3f) << 12 |
			     (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f),
			n = 4;
		else
			return cc_error_set(CC_EINVALID, "the keystore password is not UTF-8");
		i += n;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			cc_buf_putc(out, (char)(0xd8 | (cp >> 18)));
			cc_buf_putc(out, (char)((cp >> 10) & 0xff));
			cc_buf_putc(out, (char)(0xdc | ((cp >> 8) & 3)));
			cc_buf_putc(out, (char)(cp & 0xff));
		} else {
			cc_buf_putc(out, (char)(cp >> 8));
			cc_buf_putc(out, (char)(cp & 0xff));
		}
	}
	return 0;
}

static int sha1_parts(unsigned char out[20], const void *a, size_t alen, const void *b, size_t blen,
		      const void *c, size_t clen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
		 EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, b, blen) &&
		 (!c || EVP_DigestUpdate(ctx, c, clen)) && EVP_DigestFinal_ex(ctx, out, NULL);

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : cc_error_openssl(CC_ERROR, "SHA-1 failed");
}

static const char whitener[] = "Mighty Aphrodite";

/* The JKS key protector, both ways: XOR with SHA-1(pw || previous). */
static int jks_keystream_xor(unsigned char *out, const unsigned char *in, size_t len,
			     const cc_buf *pw, const unsigned char salt[20])
{
	unsigned char digest[20];
	int rc = 0;

	memcpy(digest, salt, 20);
	for (size_t off = 0; off < len && rc == 0; off += 20) {
		if ((rc = sha1_parts(digest, pw->ptr ? pw->ptr : "", pw->size, digest, 20, NULL, 0)) < 0)
			break;
		for (size_t i = 0; i < 20 && off + i < len; i++)
			out[off + i] = in[off + i] ^ digest[i];
	}
	OPENSSL_cleanse(digest, sizeof(digest));
	return rc;
}

/*
 * JCEKS key entries: PBEWithMD5AndTripleDES as Sun defines it.  Each half
 * of the 8-byte salt is hashed with the password (its bytes, not UTF-16)
 * `iterations` times with MD5; the two digests are the 3DES key (24
 * bytes) and the IV (8).  Equal halves get the first one reversed.
 */
static int jceks_unprotect(cc_key **out, const X509_ALGOR *alg, const ASN1_OCTET_STRING *enc,
			   const cc_secret *pass, const char *source, const char *alias)
{
	PBEPARAM *pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
	unsigned char salt[8], derived[32], *plain = NULL;
	const unsigned char *pw = pass ? cc_secret_data(pass) : (const unsigned char *)"";
	size_t pwlen = pass ? cc_secret_len(pass) : 0;
	long iterations;
	EVP_CIPHER_CTX *ctx = NULL;
	int len1 = 0, len2 = 0, rc = 0;

	if (!pbe || ASN1_STRING_length(pbe->salt) != 8 ||
	    (iterations = ASN1_INTEGER_get(pbe->iter)) < 1) {
		rc = cc_error_set(CC_EINVALID, "%s: the key of entry '%s' has damaged parameters",
				  source, alias);
		goto done;
	}
	if (iterations > 1000000) {
		rc = cc_error_set(CC_EINVALID, "%s: entry '%s': an iteration count of %ld is above "
				  "certctl's limit of 1000000", source, alias, iterations);
		goto done;
	}
	memcpy(salt, ASN1_STRING_get0_data(pbe->salt), 8);
	if (!memcmp(salt, salt + 4, 4))
		for (int i = 0; i < 2; i++) {
			unsigned char t = salt[i];

			salt[i] = salt[3 - i];
			salt[3 - i] = t;
		}
	for (int half = 0; half < 2; half++) {
		unsigned char digest[16];
		const unsigned char *in = salt + 4 * half;
		size_t inlen = 4;

		EVP_MD_CTX *md = EVP_MD_CTX_new();

		for (long i = 0; i < iterations; i++) {
			int ok = md && EVP_DigestInit_ex(md, EVP_md5(), NULL) &&
				 EVP_DigestUpdate(md, in, inlen) && EVP_DigestUpdate(md, pw, pwlen) &&
				 EVP_DigestFinal_ex(md, digest, NULL);

			if (!ok) {
				EVP_MD_CTX_free(md);
				rc = cc_error_openssl(CC_ERROR, "MD5 failed");
				goto done;
			}
			in = digest;
			inlen = 16;
		}
		EVP_MD_CTX_free(md);
		memcpy(derived + 16 * half, digest, 16);
	}
	if (!(plain = OPENSSL_malloc((size_t)ASN1_STRING_length(enc) + 16)) ||
	    !(ctx = EVP_CIPHER_CTX_new())) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_des_ede3_cbc(), NULL, derived, derived + 24) != 1 ||
	    EVP_DecryptUpdate(ctx, plain, &len1, ASN1_STRING_get0_data(enc),
			      ASN1_STRING_length(enc)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + len1, &len2) != 1) {
		ERR_clear_error();
		rc = cc_error_set(CC_EAUTH, "%s: wrong password for the key of entry '%s'", source,
				  alias);
		goto done;
	}
	rc = cc_key_parse(out, plain, (size_t)(len1 + len2), NULL, source);
	if (rc == CC_EINVALID)
		rc = cc_error_set(CC_EAUTH, "%s: wrong password for the key of entry '%s'", source,
				  alias);
done:
	OPENSSL_cleanse(derived, sizeof(derived));
	if (plain) {
		OPENSSL_cleanse(plain, (size_t)ASN1_STRING_length(enc) + 16);
		OPENSSL_free(plain);
	}
	EVP_CIPHER_CTX_free(ctx);
	PBEPARAM_free(pbe);
	return rc;
}

static int jks_unprotect(cc_key **out, const unsigned char *der, size_t len, const cc_buf *pw,
			 const cc_secret *pass, const char *source, const char *alias)
{
	const unsigned char *p = der;
	X509_SIG *sig = d2i_X509_SIG(NULL, &p, (long)len);
	const X509_ALGOR *alg;
	const ASN1_OCTET_STRING *enc;
	unsigned char *plain = NULL, check[20];
	char oid[64];
	size_t n;
	int rc = 0;

	*out = NULL;
	if (!sig) {
		return cc_error_openssl(CC_EINVALID, "%s: the key of entry '%s' is damaged", source,
					alias);
	}
	X509_SIG_get0(sig, &alg, &enc);
	OBJ_obj2txt(oid, sizeof(oid), alg->algorithm, 1);
	if (!strcmp(oid, JCEKS_KEY_PROTECTOR_OID)) {
		rc = jceks_unprotect(out, alg, enc, pass, source, alias);
		goto done;
	}
	if (strcmp(oid, JKS_KEY_PROTECTOR_OID)) {
		rc = cc_error_set(CC_EINVALID, "%s: entry '%s' is protected with %s, not the JKS key "
				  "protector", source, alias, oid);
		goto done;
	}
	if (ASN1_STRING_length(enc) < 41) {
		rc = cc_error_set(CC_EINVALID, "%s: the key of entry '%s' is damaged", source, alias);
		goto done;
	}
	n = (size_t)ASN1_STRING_length(enc) - 40;
	if (!(plain = OPENSSL_malloc(n))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if ((rc = jks_keystream_xor(plain, ASN1_STRING_get0_data(enc) + 20, n, pw,
				    ASN1_STRING_get0_data(enc))) < 0 ||
	    (rc = sha1_parts(check, pw->ptr ? pw->ptr : "", pw->size, plain, n, NULL, 0)) < 0)
		goto done;
	if (CRYPTO_memcmp(check, ASN1_STRING_get0_data(enc) + 20 + n, 20) != 0) {
		rc = cc_error_set(CC_EAUTH, "%s: wrong password for the key of entry '%s'", source,
				  alias);
		goto done;
	}
	rc = cc_key_parse(out, plain, n, NULL, source);
done:
	if (plain) {
		OPENSSL_cleanse(plain, n);
		OPENSSL_free(plain);
	}
	X509_SIG_free(sig);
	return rc;
}

static int jks_read(cc_bundle *b, const unsigned char *data, size_t len, const cc_secret *pass,
		    const cc_secret *key_pass, const char *source)
{
	reader r = { data, data + len, source };
	cc_buf pw = CC_BUF_INIT, kpw = CC_BUF_INIT;
	cc_bundle trusted;
	uint32_t magic, version, count;
	unsigned char digest[20];
	int rc;

	memset(&trusted, 0, sizeof(trusted));
	b->format = data[0] == 0xCE ? "jceks" : "jks";
	if (len < 12 + 20)
		return cc_error_set(CC_EINVALID, "%s: truncated keystore", source);
	if ((rc = utf16be(&pw, pass)) < 0 || (rc = utf16be(&kpw, key_pass ? key_pass : pass)) < 0)
		goto done;
	/* Integrity first: a damaged or tampered store is not read at all. */
	if ((rc = sha1_parts(digest, pw.ptr ? pw.ptr : "", pw.size, whitener, sizeof(whitener) - 1,
			     data, len - 20)) < 0)
		goto done;
	if (CRYPTO_memcmp(digest, data + len - 20, 20) != 0) {
		rc = cc_error_set(CC_EAUTH, "%s: the keystore's integrity check fails: wrong password, "
				  "or the file is damaged", source);
		goto done;
	}
	r.end = data + len - 20;
	get_u32(&r, &magic);
	get_u32(&r, &version);
	if ((rc = get_u32(&r, &count)) < 0)
		goto done;
	if (version != 1 && version != 2) {
		rc = cc_error_set(CC_EINVALID, "%s: unsupported JKS version %u", source, version);
		goto done;
	}
	if (count > JKS_MAX_ENTRIES) {
		rc = cc_error_set(CC_EINVALID, "%s: %u entries is too many", source, count);
		goto done;
	}
	for (uint32_t i = 0; i < count && rc == 0; i++) {
		uint32_t tag, klen, nchain;
		char *alias = NULL;

		if ((rc = get_u32(&r, &tag)) < 0 || (rc = get_utf(&r, &alias)) < 0 ||
		    (rc = skip(&r, 8)) < 0) { /* the entry's date */
			free(alias);
			break;
		}
		if (tag == 1) {
			cc_key *key = NULL;

			if ((rc = get_u32(&r, &klen)) < 0 || (rc = need(&r, klen)) < 0) {
				free(alias);
				break;
			}
			if (b->key) {
				rc = cc_error_set(CC_EINVALID, "%s: more than one key entry ('%s', '%s'); "
						  "certctl imports one key per file", source, b->alias,
						  alias);
				free(alias);
				break;
			}
			rc = jks_unprotect(&key, r.p, klen, &kpw, key_pass ? key_pass : pass, source,
					   alias);
			r.p += klen;
			if (rc == 0 && (rc = get_u32(&r, &nchain)) == 0 && nchain > JKS_MAX_CHAIN)
				rc = cc_error_set(CC_EINVALID, "%s: a chain of %u certificates is too long",
						  source, nchain);
			for (uint32_t k = 0; rc == 0 && k < nchain; k++)
				rc = get_cert(&r, b, version);
			b->key = key;
			b->alias = alias;
		} else if (tag == 2) {
			rc = get_cert(&r, &trusted, version);
			free(alias);
		} else if (tag == 3) {
			rc = cc_error_set(CC_EINVALID, "%s: entry '%s' is a secret key (JCEKS), not a "
					  "certificate or private key; remove it with keytool -delete",
					  source, alias);
			free(alias);
		} else {
			rc = cc_error_set(CC_EINVALID, "%s: entry '%s' is of a kind certctl does not read "
					  "(tag %u)", source, alias, tag);
			free(alias);
		}
	}
	if (rc == 0 && r.p != r.end)
		rc = cc_error_set(CC_EINVALID, "%s: trailing bytes in the keystore", source);
	/* Trusted entries come after the key entry's chain. */
	for (size_t i = 0; rc == 0 && i < trusted.ncerts; i++) {
		rc = bundle_add(b, X509_dup(cc_cert_get0_x509(trusted.certs[i])));
		b->ntrusted++;
	}
done:
	cc_bundle_dispose(&trusted);
	cc_buf_dispose_secure(&pw);
	cc_buf_dispose_secure(&kpw);
	return rc;
}

static int put_u16(cc_buf *out, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	return cc_buf_put(out, b, 2);
}

static int put_u32(cc_buf *out, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };

	return cc_buf_put(out, b, 4);
}

static int put_utf(cc_buf *out, const char *s)
{
	size_t len = strlen(s);

	if (len > 0xffff)
		return cc_error_set(CC_EINVALID, "'%.20s...' is too long for a keystore", s);
	return put_u16(out, (unsigned)len) < 0 ? -1 : cc_buf_put(out, s, len);
}

static int put_cert(cc_buf *out, const cc_cert *cert)
{
	cc_buf der = CC_BUF_INIT;
	int rc = cc_cert_der(cert, &der);

	rc = rc ? rc : put_utf(out, "X.509");
	rc = rc ? rc : put_u32(out, (uint32_t)der.size);
	rc = rc ? rc : cc_buf_put(out, der.ptr, der.size);
	cc_buf_dispose(&der);
	return rc;
}

int cc_jks_write(cc_buf *out, const char *alias, const cc_key *key, const cc_cert *cert,
		 cc_cert *const *chain, size_t nchain, const cc_secret *pass)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *plain = NULL, *blob = NULL, digest[20];
	int plen = 0, rc;
	cc_buf pw = CC_BUF_INIT, enc = CC_BUF_INIT;
	X509_SIG *sig = NULL;
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *octets;
	unsigned char *sigder = NULL;
	int siglen;
	uint64_t now = (uint64_t)time(NULL) * 1000;
	char *lower = NULL;

	if ((rc = utf16be(&pw, pass)) < 0)
		goto done;
	if (!(p8 = EVP_PKEY2PKCS8(cc_key_get0_pkey(key))) ||
	    (plen = i2d_PKCS8_PRIV_KEY_INFO(p8, &plain)) <= 0) {
		rc = cc_error_openssl(CC_ERROR, "cannot encode the key");
		goto done;
	}
	/* salt || keystream XOR key || SHA-1(pw || key) */
	if (!(blob = OPENSSL_malloc((size_t)plen + 40)) || RAND_bytes(blob, 20) != 1) {
		rc = cc_error_openssl(CC_ERROR, "no randomness");
		goto done;
	}
	if ((rc = jks_keystream_xor(blob + 20, plain, (size_t)plen, &pw, blob)) < 0 ||
	    (rc = sha1_parts(blob + 20 + plen, pw.ptr ? pw.ptr : "", pw.size, plain, (size_t)plen,
			     NULL, 0)) < 0)
		goto done;
	if (!(sig = X509_SIG_new())) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	X509_SIG_getm(sig, &alg, &octets);
	if (X509_ALGOR_set0(alg, OBJ_txt2obj(JKS_KEY_PROTECTOR_OID, 1), V_ASN1_NULL, NULL) != 1 ||
	    ASN1_OCTET_STRING_set(octets, blob, plen + 40) != 1 ||
	    (siglen = i2d_X509_SIG(sig, &sigder)) <= 0) {
		rc = cc_error_openssl(CC_ERROR, "cannot encode the protected key");
		goto done;
	}
	rc = put_u32(out, JKS_MAGIC);
	rc = rc ? rc : put_u32(out, 2);
	rc = rc ? rc : put_u32(out, 1);
	rc = rc ? rc : put_u32(out, 1); /* a private key entry */
	/* Java looks aliases up in lower case (keytool writes them so). */
	if (rc == 0 && !(lower = strdup(alias)))
		rc = cc_error_set(CC_ERROR, "out of memory");
	for (char *c = lower; rc == 0 && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	rc = rc ? rc : put_utf(out, lower);
	rc = rc ? rc : put_u32(out, (uint32_t)(now >> 32));
	rc = rc ? rc : put_u32(out, (uint32_t)now);
	rc = rc ? rc : put_u32(out, (uint32_t)siglen);
	rc = rc ? rc : cc_buf_put(out, sigder, (size_t)siglen);
	rc = rc ? rc : put_u32(out, (uint32_t)(1 + nchain));
	rc = rc ? rc : put_cert(out, cert);
	for (size_t i = 0; rc == 0 && i < nchain; i++)
		rc = put_cert(out, chain[i]);
	if (rc == 0 && (rc = sha1_parts(digest, pw.ptr ? pw.ptr : "", pw.size, whitener,
					sizeof(whitener) - 1, out->ptr, out->size)) == 0)
		rc = cc_buf_put(out, digest, 20);
done:
	if (plain) {
		OPENSSL_cleanse(plain, (size_t)plen);
		OPENSSL_free(plain);
	}
	free(lower);
	OPENSSL_free(blob);
	OPENSSL_free(sigder);
	X509_SIG_free(sig);
	PKCS8_PRIV_KEY_INFO_free(p8);
	cc_buf_dispose_secure(&pw);
	cc_buf_dispose(&enc);
	return rc;
}

/* ---- everything else ------------------------------------------------------ */

static int pkcs12_read(cc_bundle *b, const unsigned char *data, size_t len, const cc_secret *pass,
		       const char *source)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *others = NULL;
	int rc;

	b->format = "pkcs12";
	if ((rc = cc_pkcs12_parse(data, len, pass, source, &pkey, &cert, &others)) < 0)
		return rc;
	if (pkey)
		rc = cc_key_from_pkey(&b->key, pkey);
	if (rc == 0 && cert) {
		int alen = 0;
		unsigned char *name = X509_alias_get0(cert, &alen);

		if (name && alen > 0)
			b->alias = strndup((const char *)name, (size_t)alen);
		rc = bundle_add(b, cert);
		cert = NULL;
	}
	while (rc == 0 && others && sk_X509_num(others) > 0)
		rc = bundle_add(b, sk_X509_shift(others));
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(others, X509_free);
	return rc;
}

/* PEM: certificates (also inside PKCS#7 blocks) and at most one key. */
static int pem_read(cc_bundle *b, const unsigned char *data, size_t len, const cc_secret *pass,
		    const char *source)
{
	cc_cert **certs = NULL;
	size_t n = 0;
	const char *key_begin = NULL;
	int rc = 0;

	b->format = "pem";
	/* A private key block of any form: PKCS#1, SEC1, PKCS#8, encrypted. */
	for (const char *p = (const char *)data; p && p < (const char *)data + len;) {
		const char *hit = memmem(p, (size_t)((const char *)data + len - p), "-----BEGIN ", 11);
		const char *eol;

		if (!hit)
			break;
		eol = memchr(hit, '\n', (size_t)((const char *)data + len - hit));
		if (eol && memmem(hit, (size_t)(eol - hit), "PRIVATE KEY-----", 16)) {
			if (key_begin)
				return cc_error_set(CC_EINVALID, "%s: more than one private key", source);
			key_begin = hit;
		}
		p = hit + 11;
	}
	if (key_begin && (rc = cc_key_parse(&b->key, data, len, pass, source)) < 0)
		return rc;
	rc = cc_cert_parse_all(&certs, &n, data, len, source);
	if (rc == CC_EINVALID && b->key) {
		cc_error_clear(); /* a key alone */
		return 0;
	}
	if (rc < 0)
		return rc;
	b->certs = certs;
	b->ncerts = n;
	return 0;
}

/* Whether DER `p` starts like a PKCS#12 PFX: SEQUENCE { INTEGER 3, ... }. */
static int looks_like_pkcs12(const unsigned char *p, size_t len)
{
	size_t hdr;

	if (len < 5 || p[0] != 0x30)
		return 0;
	hdr = p[1] < 0x80 ? 2 : (size_t)(p[1] & 0x7f) + 2;
	return hdr + 3 <= len && p[hdr] == 0x02 && p[hdr + 1] == 0x01 && p[hdr + 2] == 0x03;
}

int cc_bundle_read(cc_bundle *out, const void *data, size_t len, const cc_secret *pass,
		   const cc_secret *key_pass, const char *source)
{
	const unsigned char *p = data;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len >= 4 && ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) ==
				JKS_MAGIC)
		rc = jks_read(out, p, len, pass, key_pass, source);
	else if (len >= 4 && ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
			      p[3]) == JCEKS_MAGIC)
		rc = jks_read(out, p, len, pass, key_pass, source);
	else if (memmem(data, len, "-----BEGIN ", 11))
		rc = pem_read(out, p, len, pass, source);
	else {
		/* DER: a certificate, a PKCS#7 bundle, a PKCS#12 file or a key. */
		const unsigned char *q = p;
		PKCS12 *p12 = len < INT32_MAX ? d2i_PKCS12(NULL, &q, (long)len) : NULL;

		ERR_clear_error();
		if (p12 && q == p + len) {
			PKCS12_free(p12);
			rc = pkcs12_read(out, p, len, pass, source);
		} else if (looks_like_pkcs12(p, len)) {
			PKCS12_free(p12);
			rc = cc_error_set(CC_EINVALID, "%s: a PKCS#12 file that is truncated or damaged",
					  source);
		} else {
			PKCS12_free(p12);
			out->format = "der";
			rc = cc_cert_parse_all(&out->certs, &out->ncerts, data, len, source);
			if (rc == CC_EINVALID) {
				cc_error_clear();
				rc = cc_key_parse(&out->key, data, len, pass, source);
				if (rc == CC_EINVALID)
					rc = cc_error_set(CC_EINVALID, "%s: neither certificates (PEM, DER, "
							  "PKCS#7), a PKCS#12 or JKS keystore, nor a "
							  "private key", source);
			}
		}
	}
	if (rc < 0)
		cc_bundle_dispose(out);
	return rc;
}

int cc_p7b_build(cc_buf *out, cc_cert *const *certs, size_t n, int pem)
{
	PKCS7 *p7 = PKCS7_new();
	PKCS7_SIGNED *sd = PKCS7_SIGNED_new();
	STACK_OF(X509) *stack = sk_X509_new_null();
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem = NULL;
	int rc = 0;

	if (!p7 || !sd || !stack || !bio) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	/* A "degenerate" signed-data: certificates, no signers (what P7B is). */
	p7->type = OBJ_nid2obj(NID_pkcs7_signed);
	p7->d.sign = sd;
	sd->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	sd->cert = stack;
	sd = NULL;
	stack = NULL;
	ASN1_INTEGER_set(p7->d.sign->version, 1);
	for (size_t i = 0; i < n; i++)
		if (!sk_X509_push(p7->d.sign->cert, X509_dup(cc_cert_get0_x509(certs[i])))) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
	if ((pem ? PEM_write_bio_PKCS7(bio, p7) : i2d_PKCS7_bio(bio, p7)) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot encode the PKCS#7 bundle");
		goto done;
	}
	BIO_get_mem_ptr(bio, &mem);
	rc = cc_buf_put(out, mem->data, mem->length);
done:
	BIO_free(bio);
	sk_X509_free(stack);
	PKCS7_SIGNED_free(sd);
	PKCS7_free(p7);
	return rc;
}
