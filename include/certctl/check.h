/*
 * Checking what servers present: for each endpoint of a definition (its
 * checks and its targets' deploy-check endpoints), or a bare HOST:PORT,
 * fetch the chain (lib/probe.c) and judge it.  Monitored-only definitions
 * get the chain verified against their trusted CA set, the subject
 * compared with the definition, the host name and the validity window;
 * lifecycle-managed ones get the served certificate compared with the
 * current one and the intermediates it needs.  Every endpoint also gets
 * the weak-key and SHA-1 rules.  Results use the monitoring-plugin
 * statuses and are recorded in monitor/<definition>.yaml.
 */
#ifndef CERTCTL_CHECK_H
#define CERTCTL_CHECK_H

#include "common.h"
#include "util.h"
#include "repo.h"
#include "json.h"
#include "probe.h"
#include "definition.h"

typedef enum {
	CC_STATUS_OK = 0,
	CC_STATUS_WARNING = 1,
	CC_STATUS_CRITICAL = 2,
	CC_STATUS_UNKNOWN = 3,
} cc_status;

/* "OK", "WARNING", "CRITICAL", "UNKNOWN" */
const char *cc_status_name(cc_status status);
/* The worse of two (CRITICAL > WARNING > UNKNOWN > OK for results). */
cc_status cc_status_worse(cc_status a, cc_status b);

/* One rule's verdict. */
typedef struct {
	char *rule;      /* stable id: "validity.expired", "chain.untrusted", ... */
	cc_status status;
	char *message;
} cc_finding;

/* One endpoint's result. */
typedef struct {
	char *definition;   /* NULL for a bare HOST:PORT */
	char *target;       /* the target whose deploy check this is, or NULL */
	char *host, *sni, *starttls;
	unsigned port;
	char *time;         /* RFC 3339 */
	cc_status status;   /* the worst finding */
	char *summary;      /* one line: the worst finding, or what is fine */
	cc_finding *findings;
	size_t nfindings;
	/* What the server presented (NULL / 0 when nothing). */
	char *address, *protocol, *cipher, *alpn;
	char *sha256, *sha1, *subject, *issuer, *not_after;
	long long seconds_left; /* until the leaf expires (negative: expired) */
	long long expires;      /* the leaf's notAfter, seconds since the epoch */
	cc_strlist chain;   /* subjects after the leaf */
	long handshake_ms;
	long long warning, critical; /* the thresholds applied, seconds */
	char *pem;          /* the chain served, PEM (with keep_pem), or NULL */
} cc_check_result;

void cc_check_result_dispose(cc_check_result *r);

/* An endpoint to check. */
typedef struct {
	const char *definition; /* NULL: a bare endpoint (default trust set, 30/7 days) */
	const char *target;     /* set for a target's deploy-check endpoint */
	const char *peer;       /* the cluster peer whose certificate it serves, or NULL */
	const char *host;
	unsigned port;
	const char *sni;
	cc_starttls starttls;
	int no_sni;             /* send no server name at all (a scan's second look) */
	int owned;              /* host and sni belong to the list (cc_check_endpoints) */
} cc_check_endpoint;

/*
 * The endpoints of definition `def` (its checks and its targets'
 * deploy-check endpoints, the same one once), appended to *out (free it
 * with cc_check_endpoints_free()).  With `monitored` only those
 * monitoring is on for (the definition's and the endpoint's `enabled`).
 * Strings not owned by the list belong to `def`: keep it while the
 * endpoints are used.
 */

int cc_check_endpoints(const cc_definition *def, int monitored, cc_check_endpoint **out,
		       size_t *count);
void cc_check_endpoints_free(cc_check_endpoint *list, size_t count);

typedef struct {
	unsigned version;
	unsigned concurrency;   /* at once; 0: 64 */
	long timeout_ms;        /* per endpoint; 0: 10 s */
	const char *alpn;       /* offered in every handshake; NULL: none */
	/* Called as each endpoint's result is ready (from the event loop). */
	void (*progress)(size_t done, size_t total, void *payload);
	void *payload;
	double rate;            /* new connections a second; 0: no limit */
	long long warning, critical; /* bare endpoints' thresholds; 0: 30 / 7 days */
	int names_only;         /* no name rule for an address without a name */
	int keep_pem;           /* keep the chain served, PEM, in each result */
} cc_check_options;

#define CC_CHECK_OPTIONS_VERSION 1
#define CC_CHECK_OPTIONS_INIT { CC_CHECK_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0 }

/*
 * Check `n` endpoints concurrently; `results` (n of them) is filled in the
 * order of `endpoints`.  `repo` may be NULL for bare endpoints (the
 * system's CA bundle).  < 0 only when checking could not run at all.
 */
int cc_check_run(cc_repo *repo, const cc_check_endpoint *endpoints, size_t n,
		 const cc_check_options *opts, cc_check_result *results);

/*
 * Record results in monitor/<definition>.yaml (the last result of each
 * endpoint of each definition; bare endpoints are not recorded), one
 * commit.  Nothing to record is not an error.
 */
int cc_check_record(cc_repo *repo, const cc_check_result *results, size_t n);

/* The last recorded results of `definition` (CC_ENOTFOUND when never checked). */
int cc_check_last(cc_repo *repo, const char *definition, cc_check_result **out, size_t *count);
void cc_check_results_free(cc_check_result *results, size_t count);

/* A result as JSON (certctl-json(7) "check"). */
cc_json *cc_check_result_to_json(const cc_check_result *r);

#endif
