/*
 * Reading the containers certificates and keys come in, by content (PEM,
 * DER, PKCS#7, PKCS#12, JKS, JCEKS), and writing JKS keystores.
 */
#ifndef CERTCTL_KEYSTORE_H
#define CERTCTL_KEYSTORE_H

#include "common.h"
#include "buf.h"
#include "secret.h"
#include "key.h"
#include "cert.h"

typedef struct {
	const char *format; /* "pem", "der", "pkcs12", "jks", "jceks", "tls" */
	cc_key *key;        /* the private key, when the file holds one */
	char *alias;        /* the key entry's alias or friendlyName, or NULL */
	cc_cert **certs;    /* every certificate: a key entry's chain first, in file order */
	size_t ncerts;
	size_t ntrusted;    /* JKS trusted-certificate entries: the last ones of certs */
} cc_bundle;

/*
 * Read whatever `data` holds.  `pass` opens encrypted keys and keystores
 * (NULL: none); `key_pass` a JKS key entry whose password differs (NULL:
 * `pass`).  A JKS store's integrity digest is verified first.  CC_EAUTH
 * for a wrong password, CC_EINVALID naming `source` for anything else.
 */
int cc_bundle_read(cc_bundle *out, const void *data, size_t len, const cc_secret *pass,
		   const cc_secret *key_pass, const char *source);
void cc_bundle_dispose(cc_bundle *bundle);

/* A JKS keystore with one key entry `alias`: the key, its certificate and
 * chain, protected (store and key) with `pass`. */
int cc_jks_write(cc_buf *out, const char *alias, const cc_key *key, const cc_cert *cert,
		 cc_cert *const *chain, size_t nchain, const cc_secret *pass);

/* A PKCS#7 certificate bundle (P7B) of `certs`, PEM or DER. */
int cc_p7b_build(cc_buf *out, cc_cert *const *certs, size_t n, int pem);

#endif
