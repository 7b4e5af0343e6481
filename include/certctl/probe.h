/*
 * What TLS servers present: their certificate chains, fetched many at a
 * time by one event loop (non-blocking connects, STARTTLS exchanges and
 * handshakes), each under its own deadline.  Nothing is verified here;
 * callers judge what was sent.
 */
#ifndef CERTCTL_PROBE_H
#define CERTCTL_PROBE_H

#include "common.h"
#include "cert.h"

/* "host:443", "[2001:db8::1]:443" into host and port. */
int cc_hostport_parse(const char *text, char *host, size_t hostsize, unsigned *port);

typedef enum {
	CC_STARTTLS_NONE = 0,
	CC_STARTTLS_SMTP,
	CC_STARTTLS_IMAP,
	CC_STARTTLS_POP3,
	CC_STARTTLS_FTP,
	CC_STARTTLS_LDAP,
	CC_STARTTLS_POSTGRES,
} cc_starttls;

/* "smtp", "imap", "pop3", "ftp", "ldap", "postgres" (NULL or "" is none). */
int cc_starttls_parse(cc_starttls *out, const char *name);
const char *cc_starttls_name(cc_starttls proto);

typedef struct {
	const char *host;     /* a name or an address */
	unsigned port;
	const char *sni;      /* TLS server name; NULL: none */
	cc_starttls starttls;
	const char *alpn;     /* protocols to offer, "h2,http/1.1"; NULL: none */
	long timeout_ms;      /* the whole probe; 0: 10 s */
} cc_probe;

typedef struct {
	int rc;               /* 0, or CC_ENET (no connection, time-out), CC_ETLS */
	char *error;          /* one line when rc < 0 */
	char address[64];     /* the address connected to, "[::1]:443" */
	cc_cert **chain;      /* what the server sent, in its order */
	size_t nchain;
	char *protocol;       /* "TLSv1.3" */
	char *cipher;
	char *alpn;           /* the protocol the server chose, or NULL */
	long connect_ms;      /* from the start of the probe */
	long handshake_ms;
	unsigned char *ocsp;  /* the OCSP response the server stapled (DER), or NULL */
	size_t ocsp_len;
} cc_probe_result;

void cc_probe_result_dispose(cc_probe_result *result);

/* Called as each probe ends, in the order they end. */
typedef void (*cc_probe_cb)(size_t index, const cc_probe_result *result, void *payload);

/*
 * Run `n` probes, at most `concurrency` at a time (0: 64) and, when `rate`
 * is above 0, starting at most `rate` connections a second.  `results`
 * (n of them, zeroed by the caller or not) gets each outcome.  Returns 0
 * when every probe ran (whatever its outcome), < 0 when they could not.
 */
int cc_probe_run(const cc_probe *probes, size_t n, unsigned concurrency, double rate,
		 cc_probe_result *results, cc_probe_cb cb, void *payload);

/*
 * One probe: connect to host:port (IPv4 or IPv6), handshake with SNI `sni`
 * (NULL: none) and return the certificates the server sent, in its order.
 * CC_ENET for connection problems and timeouts, CC_ETLS for handshakes.
 */
int cc_tls_fetch_chain(const char *host, unsigned port, const char *sni, long timeout_ms,
		       cc_cert ***out, size_t *count);

#endif
