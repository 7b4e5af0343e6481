/*
 * Certificate signing requests (PKCS#10) for acquisitions: the
 * definition's subject and names, signed by the request's key.
 */
#include <string.h>
#include <openssl/pem.h>
#include "ca_internal.h"

int cc_csr_build(cc_buf *pem_out, const cc_definition *def, const cc_key *key)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = NULL;
	GENERAL_NAMES *names = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	const EVP_MD *md;
	int critical = 0, rc;
	cc_key_spec spec;

	if (!req)
		return cc_error_set(CC_ERROR, "out of memory");
	if ((rc = cc_ca_subject_name(&name, &def->subject)) < 0 ||
	    (rc = cc_definition_general_names(&names, def, &critical)) < 0)
		goto done;
	if (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, cc_key_get0_pkey(key)) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot build the CSR");
		goto done;
	}
	if (sk_GENERAL_NAME_num(names) > 0) {
		if (X509V3_add1_i2d(&exts, NID_subject_alt_name, names, critical, X509V3_ADD_DEFAULT) !=
			    1 ||
		    X509_REQ_add_extensions(req, exts) != 1) {
			rc = cc_error_openssl(CC_ERROR, "cannot add the names to the CSR");
			goto done;
		}
	} else if (!def->subject.cn) {
		rc = cc_error_set(CC_EINVALID, "definition '%s' names nothing to certify", def->name);
		goto done;
	}
	cc_key_get_spec(key, &spec);
	/* Ed25519 signs without a separate digest. */
	md = spec.type == CC_KEY_ED25519 ? NULL : spec.bits == 384 ? EVP_sha384() : EVP_sha256();
	if (X509_REQ_sign(req, cc_key_get0_pkey(key), md) <= 0) {
		rc = cc_error_openssl(CC_ERROR, "cannot sign the CSR");
		goto done;
	}
	if (!(bio = BIO_new(BIO_s_mem())) || PEM_write_bio_X509_REQ(bio, req) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot encode the CSR");
		goto done;
	}
	BIO_get_mem_ptr(bio, &mem);
	rc = cc_buf_put(pem_out, mem->data, mem->length);
done:
	BIO_free(bio);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(names);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

static int read_csr(X509_REQ **out, const cc_buf *pem)
{
	BIO *bio = BIO_new_mem_buf(pem->ptr, (int)pem->size);

	*out = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	return *out ? 0 : cc_error_openssl(CC_EINVALID, "not a PEM certificate request");
}

int cc_csr_to_der(const cc_buf *pem, cc_buf *der_out)
{
	X509_REQ *req = NULL;
	unsigned char *der = NULL;
	int len, rc;

	if ((rc = read_csr(&req, pem)) < 0)
		return rc;
	len = i2d_X509_REQ(req, &der);
	rc = len > 0 ? cc_buf_put(der_out, der, (size_t)len)
		     : cc_error_openssl(CC_ERROR, "cannot encode the CSR");
	OPENSSL_free(der);
	X509_REQ_free(req);
	return rc;
}

int cc_csr_describe(const cc_buf *pem, cc_buf *out)
{
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	int rc;

	if ((rc = read_csr(&req, pem)) < 0)
		return rc;
	if (!(bio = BIO_new(BIO_s_mem())) ||
	    X509_REQ_print_ex(bio, req, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB, 0) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot describe the CSR");
	} else {
		BIO_get_mem_ptr(bio, &mem);
		rc = cc_buf_put(out, mem->data, mem->length);
	}
	if (rc == 0) {
		int ok = X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) == 1;

		rc = cc_buf_printf(out, "Self-signature: %s\n", ok ? "valid" : "INVALID");
	}
	BIO_free(bio);
	X509_REQ_free(req);
	return rc;
}

int cc_csr_key_fingerprint(const cc_buf *pem, char out[65])
{
	X509_REQ *req = NULL;
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len, rc;

	if ((rc = read_csr(&req, pem)) < 0)
		return rc;
	len = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &der);
	if (len <= 0 || EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1)
		rc = cc_error_openssl(CC_EINVALID, "cannot read the CSR's public key");
	else
		cc_hex(out, md, 32);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return rc;
}
