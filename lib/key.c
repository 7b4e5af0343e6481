/*
 * This module implements private keys: generation, parsing of every PEM and
 * DER form, and storage in keys/ as standard encrypted PKCS#8 (PBES2 with
 * scrypt and AES-256-CBC) whose password is the repository secret.
 *
 * All key files of a repository share the scrypt salt in the configuration,
 * so the expensive derivation runs once per process and each file costs one
 * AES pass; each file still has its own random IV.  Any PKCS#8 reader
 * (`openssl pkey -passin`) decrypts them with the secret.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include "internal.h"

struct cc_key {
	EVP_PKEY *pkey;
	char id[17];
	char fingerprint[65];
	cc_key_spec spec;
	/* Made ahead by cc_key_prepare() (on the key pool's thread): a blank
	 * certificate holding the public key, and the clear PKCS#8 DER. */
	X509 *blank;
	unsigned char *pkcs8;
	int pkcs8_len;
};

/* Parsed keys from files bigger than this are refused (1 MiB). */
#define KEY_INPUT_MAX (1024 * 1024)

static OSSL_PROVIDER *default_provider, *legacy_provider;

static void unload_providers(void)
{
	OSSL_PROVIDER_unload(legacy_provider);
	OSSL_PROVIDER_unload(default_provider);
	legacy_provider = default_provider = NULL;
}

int cc_legacy_provider(void)
{
	if (!legacy_provider) {
		/* Loading legacy replaces the implicit default; keep both. */
		default_provider = OSSL_PROVIDER_load(NULL, "default");
		legacy_provider = default_provider ? OSSL_PROVIDER_load(NULL, "legacy") : NULL;
		if (!legacy_provider) {
			unload_providers();
			return cc_error_openssl(CC_ERROR, "cannot load OpenSSL's legacy provider");
		}
		atexit(unload_providers);
	}
	return 0;
}

const char *cc_key_type_name(cc_key_type type)
{
	switch (type) {
	case CC_KEY_RSA: return "rsa";
	case CC_KEY_ECDSA: return "ecdsa";
	case CC_KEY_ED25519: return "ed25519";
	default: return "none";
	}
}

const char *cc_key_curve_name(unsigned bits)
{
	switch (bits) {
	case 256: return "P-256";
	case 384: return "P-384";
	case 521: return "P-521";
	default: return NULL;
	}
}

int cc_key_spec_check(const cc_key_spec *spec)
{
	switch (spec->type) {
	case CC_KEY_RSA:
		if (spec->bits != 2048 && spec->bits != 3072 && spec->bits != 4096)
			return cc_error_set(CC_EINVALID,
					    "unsupported RSA key size %u (2048, 3072 or 4096)",
					    spec->bits);
		return 0;
	case CC_KEY_ECDSA:
		if (spec->bits != 256 && spec->bits != 384)
			return cc_error_set(CC_EINVALID,
					    "ECDSA curve %s is not supported here (P-256 or P-384)",
					    cc_key_curve_name(spec->bits) ? cc_key_curve_name(spec->bits)
									  : "?");
		return 0;
	case CC_KEY_ED25519:
		return 0;
	default:
		return cc_error_set(CC_EINVALID, "no key type");
	}
}

/* What a stored (possibly imported) key may be. */
static int spec_storable(const cc_key_spec *spec)
{
	switch (spec->type) {
	case CC_KEY_RSA:
		if (spec->bits < 2048 || spec->bits > 16384)
			return cc_error_set(CC_EINVALID,
					    "RSA key of %u bits is not supported (2048 to 16384)",
					    spec->bits);
		return 0;
	case CC_KEY_ECDSA:
		if (spec->bits != 256 && spec->bits != 384 && spec->bits != 521)
			return cc_error_set(CC_EINVALID,
					    "unsupported ECDSA curve (P-256, P-384 or P-521)");
		return 0;
	case CC_KEY_ED25519:
		return 0;
	default:
		return cc_error_set(CC_EINVALID, "no key type");
	}
}

int cc_key_spec_parse(cc_key_spec *out, const char *text)
{
	char type[16];
	const char *colon = text ? strchr(text, ':') : NULL;
	const char *param = colon ? colon + 1 : NULL;
	size_t len = colon ? (size_t)(colon - text) : (text ? strlen(text) : 0);
	cc_key_spec spec = { CC_KEY_NONE, 0 };

	if (!text || len == 0 || len >= sizeof(type))
		goto bad;
	for (size_t i = 0; i < len; i++)
		type[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
	type[len] = '\0';
	if (strcmp(type, "rsa") == 0) {
		char *end = NULL;

		spec.type = CC_KEY_RSA;
		spec.bits = 2048;
		if (param) {
			unsigned long bits = strtoul(param, &end, 10);

			if (!*param || *end || bits > 65536)
				goto bad;
			spec.bits = (unsigned)bits;
		}
	} else if (strcmp(type, "ecdsa") == 0 || strcmp(type, "ec") == 0) {
		spec.type = CC_KEY_ECDSA;
		spec.bits = 256;
		if (param) {
			if (!strcasecmp(param, "P-256") || !strcasecmp(param, "p256") ||
			    !strcasecmp(param, "prime256v1") || !strcmp(param, "256"))
				spec.bits = 256;
			else if (!strcasecmp(param, "P-384") || !strcasecmp(param, "p384") ||
				 !strcasecmp(param, "secp384r1") || !strcmp(param, "384"))
				spec.bits = 384;
			else if (!strcasecmp(param, "P-521") || !strcasecmp(param, "p521") ||
				 !strcasecmp(param, "secp521r1") || !strcmp(param, "521"))
				spec.bits = 521;
			else
				return cc_error_set(CC_EINVALID,
						    "unsupported ECDSA curve '%s' (P-256 or P-384)",
						    param);
		}
	} else if (strcmp(type, "ed25519") == 0) {
		if (param)
			goto bad;
		spec.type = CC_KEY_ED25519;
	} else {
		goto bad;
	}
	if (spec_storable(&spec) < 0)
		return CC_EINVALID;
	*out = spec;
	return 0;
bad:
	return cc_error_set(CC_EINVALID,
			    "invalid key type '%s' (rsa, rsa:2048|3072|4096, ecdsa:P-256|P-384, "
			    "ed25519)", text ? text : "");
}

void cc_key_spec_format(const cc_key_spec *spec, char *out, size_t size)
{
	switch (spec->type) {
	case CC_KEY_RSA:
		snprintf(out, size, "rsa:%u", spec->bits);
		break;
	case CC_KEY_ECDSA:
		snprintf(out, size, "ecdsa:%s",
			 cc_key_curve_name(spec->bits) ? cc_key_curve_name(spec->bits) : "?");
		break;
	case CC_KEY_ED25519:
		snprintf(out, size, "ed25519");
		break;
	default:
		snprintf(out, size, "none");
	}
}

void cc_key_free(cc_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	X509_free(key->blank);
	OPENSSL_clear_free(key->pkcs8, key->pkcs8_len > 0 ? (size_t)key->pkcs8_len : 0);
	free(key);
}

/* A new certificate holding only the public key `pkey`, or NULL. */
static X509 *blank_x509(EVP_PKEY *pkey)
{
	X509 *x = X509_new();

	if (x && X509_set_pubkey(x, pkey) != 1) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/*
 * The private key as PKCS#8 DER (OPENSSL_malloc'ed, to cleanse), its
 * length or <= 0: the encoding made ahead when there is one.
 */
static int pkcs8_der(const cc_key *key, unsigned char **out)
{
	PKCS8_PRIV_KEY_INFO *p8;
	int len;

	*out = NULL;
	if (key->pkcs8)
		return (*out = OPENSSL_memdup(key->pkcs8, (size_t)key->pkcs8_len)) ? key->pkcs8_len
										   : -1;
	if (!(p8 = EVP_PKEY2PKCS8(key->pkey)))
		return -1;
	len = i2d_PKCS8_PRIV_KEY_INFO(p8, out);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return len;
}

/*
 * The two encodings OpenSSL 3.0 makes through its encoder lookup, each
 * costing more than generating an EC key: the public key set into a new
 * certificate, and the private key as PKCS#8.  Done here ahead of use, on
 * the key pool's thread; no error state is touched on failure (the user
 * then encodes in line and reports any error there).
 */
int cc_key_prepare(cc_key *key)
{
	if (!key->blank)
		key->blank = blank_x509(key->pkey);
	if (!key->pkcs8) {
		unsigned char *der = NULL;
		int len = pkcs8_der(key, &der);

		if (len > 0) {
			key->pkcs8 = der;
			key->pkcs8_len = len;
		}
	}
	ERR_clear_error();
	return key->blank && key->pkcs8 ? 0 : -1;
}

X509 *cc_key_take_blank(cc_key *key)
{
	X509 *x = key->blank;

	key->blank = NULL;
	return x;
}

X509 *cc_key_blank_x509(cc_key *key)
{
	X509 *x = cc_key_take_blank(key);

	return x ? x : blank_x509(key->pkey);
}

/*
 * The DER SubjectPublicKeyInfo of `key` (OPENSSL_malloc'ed), its length or
 * <= 0.  For EC and Ed25519 keys it is a fixed header and the public key's
 * bytes: i2d_PUBKEY() gets the same through OpenSSL 3.0's encoder lookup,
 * which costs more than generating the key.  RSA goes through OpenSSL.
 */
static int spki_der(const cc_key *key, unsigned char **out)
{
	static const unsigned char p256[] = {
		0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
	};
	static const unsigned char p384[] = {
		0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
		0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
	};
	static const unsigned char ed25519[] = {
		0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
	};
	const unsigned char *head = NULL;
	size_t headlen = 0, keylen = 0, got = 0;
	unsigned char point[133];

	if (key->spec.type == CC_KEY_ECDSA && key->spec.bits == 256)
		head = p256, headlen = sizeof(p256), keylen = 65;
	else if (key->spec.type == CC_KEY_ECDSA && key->spec.bits == 384)
		head = p384, headlen = sizeof(p384), keylen = 97;
	else if (key->spec.type == CC_KEY_ED25519)
		head = ed25519, headlen = sizeof(ed25519), keylen = 32;
	/* Uncompressed points only: a key read with a compressed point is
	 * encoded by OpenSSL, which keeps what it read. */
	if (head && EVP_PKEY_get_octet_string_param(key->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
						    point, sizeof(point), &got) == 1 &&
	    got == keylen && (key->spec.type == CC_KEY_ED25519 || point[0] == 0x04)) {
		*out = OPENSSL_malloc(headlen + keylen);
		if (!*out)
			return -1;
		memcpy(*out, head, headlen);
		memcpy(*out + headlen, point, keylen);
		return (int)(headlen + keylen);
	}
	return i2d_PUBKEY(key->pkey, out);
}

/* Fill in id, fingerprint and spec from the EVP_PKEY. */
static int key_describe(cc_key *key)
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len, base = EVP_PKEY_get_base_id(key->pkey), rc = 0;

	switch (base) {
	case EVP_PKEY_RSA:
		key->spec.type = CC_KEY_RSA;
		key->spec.bits = (unsigned)EVP_PKEY_get_bits(key->pkey);
		break;
	case EVP_PKEY_EC: {
		char group[64] = "";
		size_t glen = 0;

		/* Only the NIST curves: secp256k1 has 256 bits too. */
		if (!EVP_PKEY_get_utf8_string_param(key->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), &glen))
			return cc_error_openssl(CC_EINVALID, "EC key without a named curve");
		if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
			key->spec.bits = 256;
		else if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
			key->spec.bits = 384;
		else if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
			key->spec.bits = 521;
		else
			return cc_error_set(CC_EINVALID,
					    "unsupported EC curve '%s' (P-256, P-384 or P-521)", group);
		key->spec.type = CC_KEY_ECDSA;
		break;
	}
	case EVP_PKEY_ED25519:
		key->spec.type = CC_KEY_ED25519;
		key->spec.bits = 0;
		break;
	default:
		return cc_error_set(CC_EINVALID, "unsupported key algorithm '%s'",
				    OBJ_nid2sn(base) ? OBJ_nid2sn(base) : "?");
	}
	if (spec_storable(&key->spec) < 0)
		return CC_EINVALID;
	len = spki_der(key, &der);
	if (len <= 0)
		return cc_error_openssl(CC_EINVALID, "cannot encode the public key");
	if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1)
		rc = cc_error_openssl(CC_ERROR, "cannot hash the public key");
	else {
		cc_hex(key->fingerprint, md, 32);
		memcpy(key->id, key->fingerprint, 16);
		key->id[16] = '\0';
	}
	OPENSSL_free(der);
	return rc;
}

int cc_key_from_pkey(cc_key **out, EVP_PKEY *pkey)
{
	cc_key *key = calloc(1, sizeof(*key));
	int rc;

	*out = NULL;
	if (!key)
		return cc_error_set(CC_ERROR, "out of memory");
	if (!EVP_PKEY_up_ref(pkey)) {
		free(key);
		return cc_error_openssl(CC_ERROR, "cannot reference the key");
	}
	key->pkey = pkey;
	if ((rc = key_describe(key)) < 0) {
		cc_key_free(key);
		return rc;
	}
	*out = key;
	return 0;
}

EVP_PKEY *cc_key_get0_pkey(const cc_key *key)
{
	return key->pkey;
}

int cc_key_generate(cc_key **out, const cc_key_spec *spec)
{
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if ((rc = cc_key_spec_check(spec)) < 0)
		return rc;
	switch (spec->type) {
	case CC_KEY_RSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)spec->bits);
		break;
	case CC_KEY_ECDSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec->bits == 384 ? "P-384" : "P-256");
		break;
	case CC_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		break;
	}
	if (!pkey)
		return cc_error_openssl(CC_ERROR, "cannot generate a key");
	rc = cc_key_from_pkey(out, pkey);
	EVP_PKEY_free(pkey);
	return rc;
}

/* Password callback that hands OpenSSL the passphrase, or fails without one. */
static int pem_password(char *buf, int size, int rwflag, void *u)
{
	const cc_secret *pass = u;
	(void)rwflag;
	if (!pass)
		return -1;
	if ((size_t)size < cc_secret_len(pass))
		return -1;
	memcpy(buf, cc_secret_data(pass), cc_secret_len(pass));
	return (int)cc_secret_len(pass);
}

static int looks_encrypted(const char *text, size_t len)
{
	static const char *markers[] = { "ENCRYPTED PRIVATE KEY", "Proc-Type: 4,ENCRYPTED" };

	for (size_t i = 0; i < CC_ARRAY_SIZE(markers); i++) {
		size_t mlen = strlen(markers[i]);

		for (size_t j = 0; j + mlen <= len; j++)
			if (memcmp(text + j, markers[i], mlen) == 0)
				return 1;
	}
	return 0;
}

/*
 * Password-based encryption parameters from files must not make us spin:
 * an iteration count of 2^31 is an afternoon of PBKDF2.  Real files use
 * 2,048 to a few hundred thousand.
 */
#define PBE_MAX_ITERATIONS 1000000

int cc_pbe_check(const X509_ALGOR *alg, const char *source)
{
	int nid = OBJ_obj2nid(alg->algorithm);
	long iter = 1;

	if (nid == NID_pbes2) {
		PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
		int kdf = pbe2 ? OBJ_obj2nid(pbe2->keyfunc->algorithm) : NID_undef;

		if (kdf == NID_id_pbkdf2) {
			PBKDF2PARAM *kp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
								    pbe2->keyfunc->parameter);

			iter = kp ? ASN1_INTEGER_get(kp->iter) : -1;
			PBKDF2PARAM_free(kp);
		}
		/* scrypt: OpenSSL refuses parameters above 32 MiB by itself. */
		PBE2PARAM_free(pbe2);
	} else if (alg->parameter && alg->parameter->type == V_ASN1_SEQUENCE) {
		/* PKCS#5 v1 and PKCS#12 PBE: salt and iteration count. */
		PBEPARAM *pp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);

		if (pp)
			iter = ASN1_INTEGER_get(pp->iter);
		PBEPARAM_free(pp);
	}
	ERR_clear_error();
	if (iter > PBE_MAX_ITERATIONS)
		return cc_error_set(CC_EINVALID, "%s: an iteration count of %ld is above certctl's "
				    "limit of %d", source, iter, PBE_MAX_ITERATIONS);
	return 0;
}

/* The PBE parameters of an encrypted PKCS#8 key (PEM or DER), if it is one. */
static int check_encrypted_key(const void *data, size_t len, const char *source)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509_SIG *sig = bio ? PEM_read_bio_PKCS8(bio, NULL, NULL, NULL) : NULL;
	const X509_ALGOR *alg = NULL;
	int rc = 0;

	if (!sig) {
		const unsigned char *p = data;

		sig = d2i_X509_SIG(NULL, &p, (long)len);
	}
	ERR_clear_error();
	if (sig) {
		X509_SIG_get0(sig, &alg, NULL);
		rc = cc_pbe_check(alg, source);
	}
	X509_SIG_free(sig);
	BIO_free(bio);
	return rc;
}

int cc_key_parse(cc_key **out, const void *data, size_t len, const cc_secret *passphrase,
		 const char *source)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	const char *name = source ? source : "key";
	int encrypted, rc;

	*out = NULL;
	if (len == 0 || !data)
		return cc_error_set(CC_EINVALID, "%s: empty, not a private key", name);
	if (len > KEY_INPUT_MAX || len > INT32_MAX)
		return cc_error_set(CC_EINVALID, "%s: too large for a private key", name);
	encrypted = looks_encrypted(data, len);
	if (encrypted && !passphrase)
		return cc_error_set(CC_EAUTH, "%s: the private key is encrypted; give its passphrase",
				    name);
	if (encrypted && (rc = check_encrypted_key(data, len, name)) < 0)
		return rc;
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return cc_error_openssl(CC_ERROR, "out of memory");
	ERR_clear_error();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_password, (void *)passphrase);
	if (!pkey && !encrypted) {
		/* DER: PKCS#8 (clear or encrypted) or a traditional form. */
		const unsigned char *p = data;

		ERR_clear_error();
		pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
		if (!pkey && passphrase) {
			BIO *der = BIO_new_mem_buf(data, (int)len);

			if ((rc = check_encrypted_key(data, len, name)) < 0) {
				BIO_free(der);
				BIO_free(bio);
				return rc;
			}
			if (der) {
				ERR_clear_error();
				pkey = d2i_PKCS8PrivateKey_bio(der, NULL, pem_password,
							       (void *)passphrase);
				BIO_free(der);
				if (!pkey) {
					/* Only an EncryptedPrivateKeyInfo failed to decrypt. */
					const unsigned char *q = data;
					X509_SIG *sig = d2i_X509_SIG(NULL, &q, (long)len);

					encrypted = sig && q == (const unsigned char *)data + len;
					X509_SIG_free(sig);
				}
			}
		}
	}
	BIO_free(bio);
	if (!pkey) {
		if (encrypted)
			return cc_error_openssl(CC_EAUTH,
						"%s: cannot decrypt the private key (wrong passphrase?)",
						name);
		return cc_error_openssl(CC_EINVALID, "%s: not a private key (PEM or DER)", name);
	}
	rc = cc_key_from_pkey(out, pkey);
	EVP_PKEY_free(pkey);
	return rc;
}

int cc_key_public_pem(const cc_key *key, cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = 0;

	if (!bio)
		return cc_error_openssl(CC_ERROR, "out of memory");
	if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot encode the public key");
		goto done;
	}
	len = BIO_get_mem_data(bio, &data);
	rc = cc_buf_put(out, data, (size_t)len);
done:
	BIO_free(bio);
	return rc;
}

/* PEM of a clear PKCS#8 or of an X509_SIG, into `out`. */
static int bio_to_buf(BIO *bio, cc_buf *out)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	int rc = cc_buf_put(out, data, (size_t)len);

	OPENSSL_cleanse(data, (size_t)len);
	return rc;
}

/* PEM of `key`, encrypted as PKCS#8 PBES2 with `alg` when it is not NULL
 * (taken), in the clear otherwise. */
static int export_pem(const cc_key *key, const cc_secret *passphrase, X509_ALGOR *alg,
		      cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int ok, rc;

	if (!bio) {
		X509_ALGOR_free(alg);
		return cc_error_openssl(CC_ERROR, "out of memory");
	}
	if (alg) {
		PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key->pkey);
		X509_SIG *sig = NULL;

		ok = p8 && (sig = PKCS8_set0_pbe((const char *)cc_secret_data(passphrase),
						 (int)cc_secret_len(passphrase), p8, alg)) != NULL;
		if (ok)
			alg = NULL; /* owned by sig now */
		ok = ok && PEM_write_bio_PKCS8(bio, sig) == 1;
		X509_ALGOR_free(alg);
		X509_SIG_free(sig);
		PKCS8_PRIV_KEY_INFO_free(p8);
	} else {
		ok = PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) == 1;
	}
	if (!ok) {
		BIO_free(bio);
		return cc_error_openssl(CC_ERROR, "cannot encode the private key");
	}
	rc = bio_to_buf(bio, out);
	BIO_free(bio);
	return rc;
}

int cc_key_export_pem(const cc_key *key, const cc_secret *passphrase, cc_buf *out)
{
	X509_ALGOR *alg = NULL;
	unsigned char salt[16];

	if (!passphrase)
		return export_pem(key, NULL, NULL, out);
	/* A fresh salt, standard scrypt cost: this file leaves the repository. */
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    !(alg = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof(salt), NULL, 16384, 8, 1)))
		return cc_error_openssl(CC_ERROR, "cannot encrypt the private key");
	return export_pem(key, passphrase, alg, out);
}

int cc_key_export_pem_portable(const cc_key *key, const cc_secret *passphrase, cc_buf *out)
{
	X509_ALGOR *alg;

	/* PBKDF2 with HMAC-SHA256: what every openssl since 1.0 decrypts. */
	if (!(alg = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), 200000, NULL, 0, NULL,
				      NID_hmacWithSHA256)))
		return cc_error_openssl(CC_ERROR, "cannot encrypt the private key");
	return export_pem(key, passphrase, alg, out);
}

/* The AES key of this repository's key files (scrypt runs once, in unlock). */
static int repo_kek(cc_repo *repo, const unsigned char **kek)
{
	int rc;

	if ((rc = cc_repo_unlock(repo)) < 0)
		return rc;
	*kek = cc_repo_kek(repo);
	return 0;
}

/* Encrypt `key` as PKCS#8 PBES2(scrypt with the repository's salt, AES-256-CBC). */
static int encrypt_for_repo(const cc_key *key, cc_repo *repo, cc_buf *out)
{
	X509_ALGOR *pbe = NULL, *sig_alg = NULL;
	ASN1_OCTET_STRING *digest = NULL;
	X509_SIG *sig = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *plain = NULL, *cipher = NULL, iv[16];
	const unsigned char *kek, *salt;
	size_t saltlen;
	uint64_t n, r, p;
	int plainlen = 0, len1 = 0, len2 = 0, rc;
	BIO *bio = NULL;

	if ((rc = repo_kek(repo, &kek)) < 0)
		return rc;
	cc_repo_kdf(repo, &salt, &saltlen, &n, &r, &p);
	rc = CC_ERROR;
	if (RAND_bytes(iv, sizeof(iv)) != 1)
		goto fail;
	if ((plainlen = pkcs8_der(key, &plain)) <= 0)
		goto fail;
	if (!(pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, (int)saltlen, iv, n, r, p)))
		goto fail;
	if (!(cipher = OPENSSL_malloc((size_t)plainlen + 32)) || !(ctx = EVP_CIPHER_CTX_new()))
		goto fail;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, kek, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, cipher, &len1, plain, plainlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, cipher + len1, &len2) != 1)
		goto fail;
	if (!(sig = X509_SIG_new()))
		goto fail;
	X509_SIG_getm(sig, &sig_alg, &digest);
	if (X509_ALGOR_copy(sig_alg, pbe) != 1 ||
	    ASN1_OCTET_STRING_set(digest, cipher, len1 + len2) != 1)
		goto fail;
	if (!(bio = BIO_new(BIO_s_mem())) || PEM_write_bio_PKCS8(bio, sig) != 1)
		goto fail;
	rc = bio_to_buf(bio, out);
	goto done;
fail:
	rc = cc_error_openssl(CC_ERROR, "cannot encrypt key %s", key->id);
done:
	if (plain) {
		OPENSSL_cleanse(plain, (size_t)plainlen);
		OPENSSL_free(plain);
	}
	OPENSSL_free(cipher);
	EVP_CIPHER_CTX_free(ctx);
	X509_ALGOR_free(pbe);
	X509_SIG_free(sig);
	BIO_free(bio);
	return rc;
}

/*
 * Decrypt a key file of this repository.  Files encrypted under the
 * repository's own scrypt parameters use the cached key; anything else
 * (a file from before a secret rotation) goes the slow standard way.
 */
static int decrypt_for_repo(cc_key **out, cc_repo *repo, const char *text, size_t len,
			    const char *source)
{
	X509_SIG *sig = NULL;
	const X509_ALGOR *alg;
	const ASN1_OCTET_STRING *digest;
	PBE2PARAM *pbe2 = NULL;
	SCRYPT_PARAMS *sp = NULL;
	ASN1_OCTET_STRING *ivs = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *plain = NULL;
	const unsigned char *kek, *salt, *pp;
	size_t saltlen;
	uint64_t n, r, p, fn = 0, fr = 0, fp = 0;
	int len1 = 0, len2 = 0, rc;
	BIO *bio = NULL;

	*out = NULL;
	if ((rc = repo_kek(repo, &kek)) < 0)
		return rc;
	cc_repo_kdf(repo, &salt, &saltlen, &n, &r, &p);
	if (len > INT32_MAX || !(bio = BIO_new_mem_buf(text, (int)len)))
		return cc_error_set(CC_EINVALID, "%s: not a key file", source);
	sig = PEM_read_bio_PKCS8(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!sig) {
		rc = cc_error_openssl(CC_EINVALID, "%s: not an encrypted PKCS#8 key", source);
		goto done;
	}
	X509_SIG_get0(sig, &alg, &digest);
	if (OBJ_obj2nid(alg->algorithm) != NID_pbes2 ||
	    !(pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter)) ||
	    OBJ_obj2nid(pbe2->keyfunc->algorithm) != NID_id_scrypt ||
	    OBJ_obj2nid(pbe2->encryption->algorithm) != NID_aes_256_cbc ||
	    !(sp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS),
					      pbe2->keyfunc->parameter)) ||
	    ASN1_INTEGER_get_uint64(&fn, sp->costParameter) != 1 ||
	    ASN1_INTEGER_get_uint64(&fr, sp->blockSize) != 1 ||
	    ASN1_INTEGER_get_uint64(&fp, sp->parallelizationParameter) != 1 ||
	    fn != n || fr != r || fp != p || (size_t)ASN1_STRING_length(sp->salt) != saltlen ||
	    memcmp(ASN1_STRING_get0_data(sp->salt), salt, saltlen) != 0 ||
	    !pbe2->encryption->parameter ||
	    pbe2->encryption->parameter->type != V_ASN1_OCTET_STRING ||
	    !(ivs = ASN1_STRING_dup(pbe2->encryption->parameter->value.octet_string))) {
		/* Not ours, or unusual parameters: let OpenSSL do it all. */
		ERR_clear_error();
		goto slow;
	}
	goto fast;
slow: {
		const cc_secret *pass = cc_repo_key_passphrase(repo);

		p8 = PKCS8_decrypt(sig, (const char *)cc_secret_data(pass), (int)cc_secret_len(pass));
		if (!p8) {
			rc = cc_error_openssl(CC_EAUTH, "%s: cannot decrypt with the repository secret",
					      source);
			goto done;
		}
		goto convert;
	}
fast:
	if (ASN1_STRING_length(ivs) != 16 || ASN1_STRING_length(digest) <= 0) {
		rc = cc_error_set(CC_EINVALID, "%s: malformed encryption parameters", source);
		goto done;
	}
	if (!(plain = OPENSSL_malloc((size_t)ASN1_STRING_length(digest) + 32)) ||
	    !(ctx = EVP_CIPHER_CTX_new())) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, kek, ASN1_STRING_get0_data(ivs)) != 1 ||
	    EVP_DecryptUpdate(ctx, plain, &len1, ASN1_STRING_get0_data(digest),
			      ASN1_STRING_length(digest)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + len1, &len2) != 1) {
		ERR_clear_error();
		rc = cc_error_set(CC_EAUTH, "%s: cannot decrypt with the repository secret", source);
		goto done;
	}
	pp = plain;
	if (!(p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &pp, len1 + len2))) {
		rc = cc_error_openssl(CC_EINVALID, "%s: decrypted data is not a private key", source);
		goto done;
	}
convert:
	if (!(pkey = EVP_PKCS82PKEY(p8))) {
		rc = cc_error_openssl(CC_EINVALID, "%s: unsupported private key", source);
		goto done;
	}
	rc = cc_key_from_pkey(out, pkey);
done:
	if (plain) {
		OPENSSL_cleanse(plain, (size_t)(len1 + len2 + 32));
		OPENSSL_free(plain);
	}
	EVP_CIPHER_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ASN1_OCTET_STRING_free(ivs);
	SCRYPT_PARAMS_free(sp);
	PBE2PARAM_free(pbe2);
	X509_SIG_free(sig);
	return rc;
}

/* keys/ab/ID.pem and keys/ab/ID.yaml (keys/ID.* in older repositories). */
static int key_paths(const cc_repo *repo, cc_buf *pem, cc_buf *meta, const char *id)
{
	cc_buf name = CC_BUF_INIT;
	int rc = 0;

	if (pem && (rc = cc_buf_printf(&name, "%s.pem", id)) == 0)
		rc = cc_fanout_find(pem, repo, "keys", name.ptr);
	cc_buf_clear(&name);
	if (rc == 0 && meta && (rc = cc_buf_printf(&name, "%s.yaml", id)) == 0)
		rc = cc_fanout_find(meta, repo, "keys", name.ptr);
	cc_buf_dispose(&name);
	return rc;
}

int cc_key_resolve(char **out, cc_repo *repo, const char *prefix)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	char *found = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;
	int rc;

	*out = NULL;
	if (plen < 4 || plen > 64 || strspn(prefix, "0123456789abcdef") != plen)
		return cc_error_set(CC_EINVALID,
				    "invalid key id '%s' (at least 4 lower-case hex digits)",
				    prefix ? prefix : "");
	/* A whole id needs no listing: most callers hold one. */
	if (plen == sizeof(((cc_key *)0)->id) - 1) {
		cc_buf rel = CC_BUF_INIT;

		if ((rc = key_paths(repo, NULL, &rel, prefix)) == 0 &&
		    (rc = cc_repo_path(repo, rel.ptr, &dir)) == 0 && cc_fs_exists(dir.ptr))
			found = (char *)prefix;
		cc_buf_dispose(&rel);
		if (rc < 0)
			goto done;
		if (found) {
			*out = strdup(prefix);
			rc = *out ? 0 : cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		rc = cc_error_set(CC_ENOTFOUND, "no key '%s'", prefix);
		goto done;
	}
	cc_buf_clear(&dir);
	if ((rc = cc_repo_path(repo, "keys", &dir)) < 0 ||
	    (rc = cc_fs_list_fanout(&names, dir.ptr, ".yaml")) < 0)
		goto done;
	for (size_t i = 0; i < names.count; i++) {
		/* "ab/ID.yaml", or "ID.yaml" in the flat layout */
		char *base = strrchr(names.items[i], '/');

		base = base ? base + 1 : names.items[i];
		if (strncmp(base, prefix, plen) != 0)
			continue;
		if (found) {
			rc = cc_error_set(CC_EINVALID, "key id '%s' is ambiguous", prefix);
			goto done;
		}
		found = base;
	}
	if (!found) {
		rc = cc_error_set(CC_ENOTFOUND, "no key '%s'", prefix);
		goto done;
	}
	*out = strndup(found, strlen(found) - strlen(".yaml"));
	rc = *out ? 0 : cc_error_set(CC_ERROR, "out of memory");
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&dir);
	return rc;
}

int cc_key_load(cc_key **out, cc_repo *repo, const char *id)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	char *full = NULL;
	int rc;

	*out = NULL;
	if ((rc = cc_key_resolve(&full, repo, id)) < 0)
		goto done;
	if ((rc = key_paths(repo, &rel, NULL, full)) < 0)
		goto done;
	rc = cc_repo_read(repo, rel.ptr, &text);
	if (rc == CC_ENOTFOUND) {
		rc = cc_error_set(CC_ENOTFOUND, "key %s: '%s' is missing", full, rel.ptr);
		goto done;
	}
	if (rc < 0)
		goto done;
	if ((rc = decrypt_for_repo(out, repo, text.ptr, text.size, rel.ptr)) < 0)
		goto done;
	/* A damaged file can still decrypt to a key whose halves disagree. */
	{
		EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, (*out)->pkey, NULL);
		int result = check ? EVP_PKEY_pairwise_check(check) : 0;
		int ok = result == 1 || result == -2; /* -2: no check for this type */

		EVP_PKEY_CTX_free(check);
		ERR_clear_error();
		if (!ok) {
			rc = cc_error_set(CC_EINVALID, "key %s: '%s' is damaged (its private and "
					  "public halves do not match)", full, rel.ptr);
			cc_key_free(*out);
			*out = NULL;
			goto done;
		}
	}
	if (strcmp(cc_key_id(*out), full) != 0) {
		rc = cc_error_set(CC_EMISMATCH, "%s: holds key %s, not %s", rel.ptr, cc_key_id(*out),
				  full);
		cc_key_free(*out);
		*out = NULL;
	}
done:
	free(full);
	cc_buf_dispose(&rel);
	cc_buf_dispose_secure(&text);
	return rc;
}

int cc_key_store(cc_txn *txn, const cc_key *key, const char *origin)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_buf pem = CC_BUF_INIT, meta = CC_BUF_INIT, pem_path = CC_BUF_INIT;
	cc_buf meta_path = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	char spec[32], now[32];
	int rc;

	if ((rc = key_paths(repo, &pem_path, &meta_path, key->id)) < 0)
		goto done;
	if ((rc = cc_repo_path(repo, meta_path.ptr, &abs)) < 0)
		goto done;
	if (cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_EEXISTS, "key %s is already in the repository", key->id);
		goto done;
	}
	if ((rc = encrypt_for_repo(key, repo, &pem)) < 0)
		goto done;
	cc_key_spec_format(&key->spec, spec, sizeof(spec));
	cc_time_now_rfc3339(now);
	cc_buf_puts(&meta, "# certctl key metadata; the key itself is in the .pem beside it.\n");
	if ((rc = cc_yaml_writer_new(&w, &meta)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "id");
	rc = rc ? rc : cc_yaml_scalar(w, key->id);
	rc = rc ? rc : cc_yaml_key(w, "fingerprint");
	rc = rc ? rc : cc_yaml_scalar(w, key->fingerprint);
	rc = rc ? rc : cc_yaml_key(w, "type");
	rc = rc ? rc : cc_yaml_scalar(w, spec);
	rc = rc ? rc : cc_yaml_key(w, "created");
	rc = rc ? rc : cc_yaml_scalar(w, now);
	rc = rc ? rc : cc_yaml_key(w, "origin");
	rc = rc ? rc : cc_yaml_scalar(w, origin ? origin : "generated");
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	if (rc < 0)
		goto done;
	if ((rc = cc_txn_write(txn, pem_path.ptr, pem.ptr, pem.size, 0600)) < 0)
		goto done;
	rc = cc_txn_write(txn, meta_path.ptr, meta.ptr, meta.size, 0644);
done:
	cc_yaml_writer_free(w);
	cc_buf_dispose(&pem);
	cc_buf_dispose(&meta);
	cc_buf_dispose(&pem_path);
	cc_buf_dispose(&meta_path);
	cc_buf_dispose(&abs);
	return rc;
}

const char *cc_key_id(const cc_key *key)
{
	return key->id;
}

const char *cc_key_fingerprint(const cc_key *key)
{
	return key->fingerprint;
}

void cc_key_get_spec(const cc_key *key, cc_key_spec *out)
{
	*out = key->spec;
}

void cc_key_info_dispose(cc_key_info *info)
{
	if (!info)
		return;
	free(info->id);
	free(info->fingerprint);
	free(info->created);
	free(info->origin);
	memset(info, 0, sizeof(*info));
}

static int info_read(cc_key_info *out, cc_repo *repo, const char *id)
{
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_node *root = NULL;
	const char *fields[] = { "id", "fingerprint", "type", "created", "origin" };
	const char *values[5];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = key_paths(repo, NULL, &rel, id)) < 0 || (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	if ((rc = cc_node_load(&root, abs.ptr, rel.ptr)) < 0)
		goto done;
	for (size_t i = 0; i < CC_ARRAY_SIZE(fields); i++) {
		const cc_node *node = cc_node_get(root, fields[i]);

		values[i] = node ? cc_node_scalar(node) : NULL;
		if (!values[i] && i < 3) {
			rc = cc_node_error(root, CC_EINVALID, "'%s' is missing", fields[i]);
			goto done;
		}
	}
	if (strcmp(values[0], id) != 0) {
		rc = cc_node_error(cc_node_get(root, "id"), CC_EINVALID,
				   "id '%s' does not match the file name", values[0]);
		goto done;
	}
	if ((rc = cc_key_spec_parse(&out->spec, values[2])) < 0) {
		rc = cc_node_error(cc_node_get(root, "type"), CC_EINVALID, "%s", cc_error_last());
		goto done;
	}
	out->id = strdup(values[0]);
	out->fingerprint = strdup(values[1]);
	out->created = cc_strdup(values[3]);
	out->origin = cc_strdup(values[4]);
	if (!out->id || !out->fingerprint)
		rc = cc_error_set(CC_ERROR, "out of memory");
done:
	if (rc < 0)
		cc_key_info_dispose(out);
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return rc;
}

int cc_key_info_load(cc_key_info *out, cc_repo *repo, const char *id)
{
	char *full = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cc_key_resolve(&full, repo, id)) == 0)
		rc = info_read(out, repo, full);
	free(full);
	return rc;
}

int cc_key_info_list(cc_repo *repo, cc_key_info **out, size_t *count)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	cc_key_info *infos = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = cc_repo_path(repo, "keys", &dir)) < 0 ||
	    (rc = cc_fs_list_fanout(&names, dir.ptr, ".yaml")) < 0)
		goto done;
	infos = calloc(names.count ? names.count : 1, sizeof(*infos));
	if (!infos) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < names.count; i++) {
		char *base = strrchr(names.items[i], '/');

		base = base ? base + 1 : names.items[i];
		base[strlen(base) - 5] = '\0';
		if ((rc = info_read(&infos[n], repo, base)) < 0)
			goto done;
		n++;
	}
done:
	if (rc < 0) {
		cc_key_info_list_free(infos, n);
	} else {
		*out = infos;
		*count = n;
	}
	cc_strlist_dispose(&names);
	cc_buf_dispose(&dir);
	return rc;
}

void cc_key_info_list_free(cc_key_info *infos, size_t count)
{
	if (!infos)
		return;
	for (size_t i = 0; i < count; i++)
		cc_key_info_dispose(&infos[i]);
	free(infos);
}

int cc_key_rotate_secret(cc_repo *repo, size_t *count, char **secret_path)
{
	cc_txn *txn = NULL;
	cc_keystore_next *next = NULL;
	cc_key_info *infos = NULL;
	cc_key **keys = NULL;
	size_t n = 0;
	cc_buf pem = CC_BUF_INIT, rel = CC_BUF_INIT, msg = CC_BUF_INIT;
	int rc, committed = 0;

	*count = 0;
	*secret_path = NULL;
	if ((rc = cc_repo_unlock(repo)) < 0)
		return rc;
	/* Under the lock from the listing on: a key added meanwhile would stay
	 * encrypted under the old secret. */
	if ((rc = cc_txn_begin(&txn, repo, "key rotate-secret")) < 0)
		return rc;
	if ((rc = cc_key_info_list(repo, &infos, &n)) < 0)
		goto done;
	if (n && !(keys = calloc(n, sizeof(*keys)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = cc_key_load(&keys[i], repo, infos[i].id)) < 0)
			goto done;
	if ((rc = cc_keystore_next_new(&next, repo)) < 0 ||
	    (rc = cc_keystore_next_switch(repo, txn, next)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		cc_buf_clear(&pem);
		cc_buf_clear(&rel);
		if ((rc = encrypt_for_repo(keys[i], repo, &pem)) < 0 ||
		    (rc = key_paths(repo, &rel, NULL, keys[i]->id)) < 0 ||
		    (rc = cc_txn_write(txn, rel.ptr, pem.ptr, pem.size, 0600)) < 0)
			goto done;
	}
	cc_buf_printf(&msg, "key rotate-secret: %zu key%s re-encrypted under a new repository "
		      "secret", n, n == 1 ? "" : "s");
	rc = cc_txn_commit(txn, msg.ptr,
			   cc_keystore_next_secret_path(next)
				   ? "The new secret is in the secret file; copies of the old one no "
				     "longer open these keys (they still open the history's)."
				   : "The new passphrase comes from the environment; the history keeps "
				     "the keys as they were encrypted then.");
	txn = NULL;
	if (rc == 0) {
		committed = 1;
		*count = n;
		if (cc_keystore_next_secret_path(next) &&
		    !(*secret_path = strdup(cc_keystore_next_secret_path(next))))
			rc = cc_error_set(CC_ERROR, "out of memory");
	}
done:
	cc_txn_abort(txn);
	if (next) {
		int frc = cc_keystore_next_finish(next, committed);

		if (rc == 0)
			rc = frc;
	}
	cc_keystore_next_free(next);
	for (size_t i = 0; keys && i < n; i++)
		cc_key_free(keys[i]);
	free(keys);
	cc_key_info_list_free(infos, n);
	cc_buf_dispose_secure(&pem);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&msg);
	return rc;
}
