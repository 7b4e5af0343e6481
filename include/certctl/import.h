/*
 * Import: an existing certificate (with its chain, and its key when there
 * is one) becomes a definition's current certificate.
 */
#ifndef CERTCTL_IMPORT_H
#define CERTCTL_IMPORT_H

#include "common.h"
#include "txn.h"
#include "keystore.h"
#include "definition.h"
#include "check.h"

typedef struct {
	unsigned version;
	const char *name;   /* the definition; NULL: the certificate's host name */
	int mode;           /* a cc_operation_mode; -1: lifecycle with a key, else monitor */
	const char *source; /* the file, for messages */
	const char *check_host; /* a new definition checks this endpoint (NULL: none) */
	unsigned check_port;
	const char *check_sni;
} cc_import_options;

#define CC_IMPORT_OPTIONS_VERSION 1
#define CC_IMPORT_OPTIONS_INIT { CC_IMPORT_OPTIONS_VERSION, NULL, -1, "input", NULL, 0, NULL }

typedef struct {
	char definition[256];
	char cert_id[17];
	int created;     /* the definition is new */
	int with_key;
	size_t chain_len;
	int mode;
	/* The verifier's verdict on what was imported (never a reason to
	 * refuse it: import takes what exists), and the worst finding. */
	cc_status status;
	char summary[512];
	size_t completed;  /* intermediates added from the trust set */
} cc_import_result;

/*
 * Import `bundle`: its certificate (the key's, else the one that issued
 * none of the others; unrelated certificates are refused) becomes the
 * current certificate of a definition made from it (subject, names, key
 * type, validity) or of the existing definition `opts->name`; the chain is
 * what of the bundle issued it, roots left out, completed from the trust
 * set when the verifier finds intermediates there; the key is stored
 * encrypted; the verifier's verdict is in the result.  The same
 * certificate twice is CC_EEXISTS naming where it is.
 */
int cc_import(cc_txn *txn, const cc_bundle *bundle, const cc_import_options *opts,
	      cc_import_result *result);

#endif
