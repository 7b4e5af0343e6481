/*
 * Acquisition: getting a definition's certificate from a provider.
 *
 * An acquisition is a request object, requests/<definition>/<id>.yaml,
 * with the CSR beside it (<id>.csr).  It moves through states (key
 * generated, CSR generated, ordered, received, completed; or cancelled,
 * failed) and keeps its history and order-tracking fields.  One request
 * per definition is open at a time.  Providers are named in the
 * repository configuration: builtin (a CA of the repository), manual (any
 * external CA, by CSR and received certificate) and acme (RFC 8555).
 */
#ifndef CERTCTL_ACQUIRE_H
#define CERTCTL_ACQUIRE_H

#include "common.h"
#include "buf.h"
#include "util.h"
#include "repo.h"
#include "txn.h"
#include "key.h"
#include "cert.h"
#include "definition.h"
#include "json.h"

typedef enum {
	CC_REQ_KEY_GENERATED = 0,
	CC_REQ_CSR_GENERATED,
	CC_REQ_ORDERED,
	CC_REQ_RECEIVED,
	CC_REQ_COMPLETED,
	CC_REQ_CANCELLED,
	CC_REQ_FAILED,
} cc_request_state;

/* "key-generated", "csr-generated", ... */
const char *cc_request_state_name(cc_request_state state);

typedef struct {
	char *time, *state, *message;
} cc_request_event;

typedef struct {
	char *id;            /* "20261124T022500Z-3fa1" */
	char *definition;
	char *kind;          /* "new" or "renewal" */
	char *provider;      /* name in the configuration */
	char *provider_type; /* builtin, manual, acme */
	cc_request_state state;
	char *key_id;
	char *cert_id;       /* once received */
	char *created, *updated;
	/* Order tracking (acquire --set KEY=VALUE). */
	char *order_number, *order_date, *contact, *notes;
	/* ACME progress, for --resume. */
	char *acme_account, *acme_order, *acme_finalize, *acme_certificate;
	char *error;         /* why the last step failed */
	cc_request_event *history;
	size_t nhistory;
} cc_request;

void cc_request_free(cc_request *req);
/* Whether the request is still open (not completed, not cancelled). */
int cc_request_is_open(const cc_request *req);
/* Load requests/<def>/<id>.yaml.  CC_ENOTFOUND, CC_EINVALID. */
int cc_request_load(cc_request **out, cc_repo *repo, const char *def, const char *id);
/* The open request of `def`, or CC_ENOTFOUND. */
int cc_request_open_for(cc_request **out, cc_repo *repo, const char *def);
/* Every request (of `def`, or of all definitions), oldest first. */
int cc_request_list(cc_request ***out, size_t *count, cc_repo *repo, const char *def);
void cc_request_list_free(cc_request **reqs, size_t count);
/* The CSR of a request (PEM text). */
int cc_request_csr(cc_buf *out, cc_repo *repo, const cc_request *req);
/* Move to `state` with a history line, and write the request. */
int cc_request_transition(cc_txn *txn, cc_request *req, cc_request_state state,
			  const char *message);
/* Set an order-tracking field: number, date, contact, notes. */
int cc_request_set(cc_request *req, const char *field, const char *value);
int cc_request_save(cc_txn *txn, cc_request *req);
cc_json *cc_request_to_json(const cc_request *req);

/* CSRs. */
/* A CSR for `def` signed by `key`, PEM. */
int cc_csr_build(cc_buf *pem_out, const cc_definition *def, const cc_key *key);
/* PEM CSR to DER. */
int cc_csr_to_der(const cc_buf *pem, cc_buf *der_out);
/* The SHA-256 of a PEM CSR's public key (as keys have it), hex. */
int cc_csr_key_fingerprint(const cc_buf *pem, char out[65]);
/* A readable view of a PEM CSR (subject, names, key, signature). */
int cc_csr_describe(const cc_buf *pem, cc_buf *out);

typedef struct {
	unsigned version;
	int reuse_key;       /* the current certificate's key */
	const char *key_id;  /* this stored key */
	const char *provider; /* instead of the definition's */
} cc_acquire_options;

#define CC_ACQUIRE_OPTIONS_VERSION 1
#define CC_ACQUIRE_OPTIONS_INIT { CC_ACQUIRE_OPTIONS_VERSION, 0, NULL, NULL }

/*
 * Start an acquisition of `def`: key (new, reused or given), CSR, request
 * in state csr-generated.  A second open request is CC_EEXISTS naming the
 * open one.  The caller commits.
 */
int cc_acquire_start(cc_txn *txn, const cc_definition *def, const cc_acquire_options *opts,
		     cc_request **out);

typedef struct {
	unsigned version;
	int no_switch;          /* store, but keep the current certificate */
	const char *trust_set;  /* NULL: the definition's */
	cc_strlist *warnings;   /* optional: differences worth telling */
} cc_receive_options;

#define CC_RECEIVE_OPTIONS_VERSION 1
#define CC_RECEIVE_OPTIONS_INIT { CC_RECEIVE_OPTIONS_VERSION, 0, NULL, NULL }

/*
 * Receive the certificate of an open request: `certs` holds it and any
 * chain certificates, in any order (the leaf is the one with the request's
 * key).  Checks that its key is the request's (CC_EMISMATCH naming both
 * fingerprints), that it verifies against the trust set (completing the
 * chain from the set and AIA URLs), notes name differences as warnings;
 * stores it, makes it current unless it is not valid yet or `no_switch`,
 * completes the request.  `cert_out` (optional) gets the certificate.
 */
int cc_acquire_receive(cc_txn *txn, const cc_definition *def, cc_request *req,
		       cc_cert *const *certs, size_t ncerts, const cc_receive_options *opts,
		       cc_cert **cert_out);

/* Cancel an open request. */
int cc_acquire_cancel(cc_txn *txn, cc_request *req, const char *why);

/* Complete a builtin-provider request at once from the repository's CA. */
int cc_acquire_builtin(cc_txn *txn, const cc_definition *def, cc_request *req,
		       cc_cert **cert_out);

/*
 * Run (or resume) the ACME acquisition of request `req` (provider type
 * acme): account, order, challenges, finalize, download, and store through
 * cc_acquire_receive().  Commits as it goes (account, ordered, received);
 * a failure is committed as state failed and the request stays open for
 * another attempt.  Takes the repository lock only while committing.
 */
int cc_acme_acquire(cc_repo *repo, const cc_definition *def, cc_request *req,
		    const cc_receive_options *opts, cc_cert **cert_out);
/* Revoke `cert` through provider `provider`'s ACME server (RFC 8555 7.6). */
int cc_acme_revoke(cc_repo *repo, const char *provider, const cc_cert *cert, int reason);

/*
 * Revoke certificate `id` of `def` (NULL: the current one) where it came
 * from: the repository's CA (builtin) or the ACME provider; recorded in
 * certs/<def>/<id>/revoked.yaml, one commit.  Manually received ones are
 * refused (revoke them at their CA).  `how` gets a description.
 */
int cc_revoke(cc_repo *repo, const char *def, const char *id, int reason, cc_buf *how);

/* Make stored certificate `id` current for `def`. */
int cc_current_switch(cc_txn *txn, const char *def, const char *id);
/* Ids of `def`'s stored certificates, oldest first. */
int cc_cert_list_ids(cc_repo *repo, const char *def, cc_strlist *out);

/* The type of provider `name` in the configuration ("builtin", ...). */
int cc_provider_type(const cc_repo *repo, const char *name, const char **type);

#endif
