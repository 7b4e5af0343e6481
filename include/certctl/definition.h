/*
 * Certificate definitions: what a certificate must be (subject, names, key,
 * provider, validity), where it goes (targets) and how it is checked.
 * One YAML file per definition, definitions/<name>.yaml; the format is
 * described in certctl-definition(5).
 */
#ifndef CERTCTL_DEFINITION_H
#define CERTCTL_DEFINITION_H

#include "common.h"
#include "buf.h"
#include "util.h"
#include "node.h"
#include "key.h"
#include "repo.h"
#include "txn.h"
#include "json.h"

typedef enum {
	CC_MODE_LIFECYCLE = 0, /* certctl acquires, deploys and monitors */
	CC_MODE_MONITOR,       /* certctl only monitors what servers present */
} cc_operation_mode;

typedef enum {
	CC_PROCESS_INTERACTIVE = 0, /* steps wait for an operator */
	CC_PROCESS_UNATTENDED,      /* monitor runs the steps by itself */
} cc_process_mode;

typedef enum {
	CC_PROFILE_SERVER = 0,
	CC_PROFILE_CLIENT,
	CC_PROFILE_SERVER_CLIENT,
} cc_profile;

typedef struct {
	char *cn, *o, *ou, *l, *st, *c, *email;
} cc_subject;

typedef struct {
	cc_strlist dns, ip, email, uri;
} cc_sans;

/* An endpoint to check: where to connect and what to ask for. */
typedef struct {
	char *host;     /* name or address to connect to ("server name to check") */
	unsigned port;
	char *sni;      /* TLS server name; NULL: host when it is a name */
	char *starttls; /* NULL, or smtp, imap, pop3, ftp, ldap, postgres */
	int enabled;    /* included in monitoring */
} cc_check;

/* A deployment target; its settings are read by the deploy module. */
typedef struct {
	char *name;
	char *type;
	cc_node *settings; /* the whole mapping as written, owned */
} cc_target;

/* A cluster peer: its own key and certificate, with the definition's
 * names and its own. */
typedef struct {
	char *name;
	cc_sans sans;        /* names only this peer's certificate has */
} cc_peer;

typedef struct {
	char *name;          /* file name without .yaml; "DEF@PEER" for a peer's view */
	char *description;
	cc_operation_mode mode;
	cc_process_mode process;
	cc_subject subject;
	cc_sans sans;
	cc_key_spec key;
	int reuse_key;       /* renewals keep the current key */
	char *key_id;        /* a stored key to use (keys/<id>); NULL: new keys */
	char *provider;      /* provider name from the repository config */
	char *ca;            /* CA for the builtin provider; NULL = default */
	cc_profile profile;
	char *product;       /* product or requirement wanted from the provider */
	char *validation;    /* dv, ov, ev; NULL = any */
	long long validity;  /* seconds wanted; 0 = provider's default */
	long long renew_before; /* renewal window, seconds before expiry */
	char *trust_set;     /* NULL = the repository default */
	cc_strlist allow;    /* verifier rule ids excepted (a legacy appliance) */
	int monitor;         /* periodic monitoring on (1) or off (0) */
	long long warning;   /* seconds before expiry that make a WARNING */
	long long critical;  /* ... and a CRITICAL */
	cc_check *checks;
	size_t nchecks;
	cc_target *targets;
	size_t ntargets;
	cc_peer *peers;      /* cluster peers; each target then names one */
	size_t npeers;
	char *peer;          /* in a peer's view: the peer (and name is "DEF@PEER") */
	char *requester;     /* "Name <mail>" */
	char *owner;
	char *notes;
} cc_definition;

/*
 * A new definition named `name` with the repository's defaults (key type,
 * validity, renewal window, provider, thresholds); `repo` may be NULL for
 * built-in defaults.  CC_EINVALID for a bad name.
 */
int cc_definition_new(cc_definition **out, const cc_repo *repo, const char *name);

/*
 * Read a definition from YAML text.  Every field is checked; errors read
 * "FILE:LINE:COLUMN: message".  Fields absent from the text keep the
 * defaults of cc_definition_new().
 */
int cc_definition_parse(cc_definition **out, const cc_repo *repo, const char *name,
			const char *text, size_t len, const char *filename);

/*
 * A definition from a YAML mapping already parsed (a batch item); the key
 * `extra_key` (e.g. "name") is allowed beside the definition's fields.  A
 * mapping without subject and san certifies the name itself.
 */
int cc_definition_from_node(cc_definition **out, const cc_repo *repo, const char *name,
			    const cc_node *root, const char *extra_key);

/*
 * Load definitions/<name>.yaml.  CC_ENOTFOUND, CC_EINVALID.  "DEF@PEER"
 * loads the view of cluster peer PEER: named "DEF@PEER", its names the
 * definition's plus the peer's, its targets those of the peer; its
 * certificates and requests are stored under that name.  A view cannot be
 * saved.
 */
int cc_definition_load(cc_definition **out, const cc_repo *repo, const char *name);

/* A definition name or a peer reference "DEF@PEER" (both parts names). */
int cc_definition_ref_check(const char *ref);

/* Whether definitions/<name>.yaml exists (and has the peer, for "DEF@PEER"). */
int cc_definition_exists(const cc_repo *repo, const char *name);

/*
 * Check the whole definition for consistency (a name to certify, valid
 * names and addresses, thresholds in order).  CC_EINVALID naming the field.
 */
int cc_definition_validate(const cc_definition *def);

/*
 * A definition that names nothing gets its own name as common name and
 * DNS name, when the name is a DNS name with a dot ("www.example.com").
 */
int cc_definition_default_names(cc_definition *def);

/*
 * Check what the definition refers to in the repository: its provider is
 * named in the configuration and its key (key.id) is stored.  CC_ENOTFOUND
 * naming the missing thing.
 */
int cc_definition_check_refs(const cc_definition *def, cc_repo *repo);

/* The definition as YAML, in canonical field order. */
int cc_definition_format(const cc_definition *def, cc_buf *out);

/* Validate and write definitions/<name>.yaml in the transaction. */
int cc_definition_save(cc_txn *txn, const cc_definition *def);

/* Remove definitions/<name>.yaml.  CC_ENOTFOUND. */
int cc_definition_remove(cc_txn *txn, const char *name);

/* A deep copy under another name. */
int cc_definition_clone(cc_definition **out, const cc_definition *def, const char *name);

/* The names of every definition, sorted. */
int cc_definition_names(const cc_repo *repo, cc_strlist *out);

void cc_definition_free(cc_definition *def);

const char *cc_operation_mode_name(cc_operation_mode mode);
const char *cc_process_mode_name(cc_process_mode mode);
const char *cc_profile_name(cc_profile profile);
int cc_operation_mode_parse(cc_operation_mode *out, const char *text);
int cc_process_mode_parse(cc_process_mode *out, const char *text);
int cc_profile_parse(cc_profile *out, const char *text);

/*
 * The definition as a JSON object (the "definition" record of
 * certctl-json(7)); NULL when out of memory.
 */
cc_json *cc_definition_to_json(const cc_definition *def);

/* Parse "HOST:PORT", "[V6]:PORT" or "HOST" (port 443) into a check. */
int cc_check_parse(cc_check *out, const char *text);
void cc_check_dispose(cc_check *check);

#endif
