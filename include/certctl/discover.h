/*
 * Discovery: the TLS servers of a network.  Targets (names, addresses,
 * CIDR ranges, files of them) and ports become probes run by one event
 * loop under a rate limit; each server found is judged like a bare
 * `certctl check` endpoint, plus the rules of a scan (self-signed,
 * wildcard, already managed); certificates seen on several endpoints are
 * grouped; the report is kept in discovery/<id>.yaml.
 */
#ifndef CERTCTL_DISCOVER_H
#define CERTCTL_DISCOVER_H

#include "common.h"
#include "util.h"
#include "repo.h"
#include "json.h"
#include "check.h"

typedef struct {
	char host[256];   /* an address, or a name as given */
	int is_name;
} cc_scan_host;

/*
 * Expand target specifications: "10.0.0.0/24", "2001:db8::/120",
 * "192.0.2.7", "www.example.com", "@FILE" (one per line; '#' comments),
 * less `excludes` (addresses or ranges).  More than `max` addresses is
 * CC_EINVALID naming the range, unless `force`.  Names are resolved now,
 * so that one that does not resolve is an error naming it.
 */
int cc_scan_targets(const cc_strlist *specs, const cc_strlist *excludes, size_t max, int force,
		    cc_scan_host **out, size_t *count);
/* The same; names are resolved only when `resolve` (else checked as names). */
int cc_scan_targets_ex(const cc_strlist *specs, const cc_strlist *excludes, size_t max, int force,
		       int resolve, cc_scan_host **out, size_t *count);
/* At most this many addresses in one scan, --force or not: each takes
 * memory (about 260 bytes) before the first probe (a /12, an IPv6 /108). */
#define CC_SCAN_HARD_MAX (1u << 20)

/* "443,8443,1000-1010" into ports; CC_EINVALID naming the bad part. */
int cc_scan_ports(const char *list, unsigned **out, size_t *count);
/* The default ports (TLS and STARTTLS ones). */
void cc_scan_default_ports(const unsigned **out, size_t *count);
/* The STARTTLS protocol usual on `port` (25 smtp, 143 imap, ...), or none. */
cc_starttls cc_scan_port_starttls(unsigned port);

typedef struct {
	unsigned version;
	unsigned concurrency;  /* 0: 256 */
	double rate;           /* connections a second; 0: 2000 */
	long timeout_ms;       /* per probe; 0: 3 s */
	long long warning, critical; /* validity thresholds, seconds; 0: 30 / 7 days */
	void (*progress)(size_t done, size_t total, void *payload);
	void *payload;
} cc_discover_options;

#define CC_DISCOVER_OPTIONS_VERSION 1
#define CC_DISCOVER_OPTIONS_INIT { CC_DISCOVER_OPTIONS_VERSION, 0, 0, 0, 0, 0, NULL, NULL }

/* What a scan found. */
typedef struct {
	char *id;               /* "20261124T050000Z" */
	char *time;
	size_t probes, answered; /* probes made; endpoints that spoke TLS */
	cc_check_result *endpoints; /* those that spoke TLS, with their findings */
	size_t nendpoints;
	char **managed;         /* per endpoint: the definition holding its certificate, or NULL */
} cc_discovery;

void cc_discovery_free(cc_discovery *d);

/* The definition that stores the certificate with this SHA-256 (a copy),
 * or NULL. */
char *cc_cert_managed_by(cc_repo *repo, const char *sha256);

/*
 * Probe every host on every port (names with and without SNI) and judge
 * what answers; `repo` (may be NULL) gives the default trust set and
 * marks managed certificates.
 */
int cc_discover(cc_repo *repo, const cc_scan_host *hosts, size_t nhosts, const unsigned *ports,
		size_t nports, const cc_discover_options *opts, cc_discovery **out);

/* Store the report in discovery/<id>.yaml, one commit (an id already
 * taken gets "-2", "-3": d->id is updated). */
int cc_discovery_save(cc_repo *repo, cc_discovery *d);
/* Load report `id` (NULL: the newest). */
int cc_discovery_load(cc_repo *repo, const char *id, cc_discovery **out);

/*
 * Whether endpoint `i` passes `filter`: "all" (NULL), "unmanaged", or
 * KEY=VALUE conditions joined by ',' (status=CRITICAL, rule=validity.expired,
 * host=ADDR, port=N, subject=TEXT, issuer=TEXT; all must hold).
 */
int cc_discovery_select(const cc_discovery *d, const char *filter, size_t i, int *selected);

/* The report as JSON (certctl.discover/1) and as an HTML page. */
cc_json *cc_discovery_to_json(const cc_discovery *d);
int cc_discovery_html(const cc_discovery *d, cc_buf *out);

#endif
