/*
 * What a TLS server presents: its certificate chain, fetched under a
 * deadline (nothing verified; callers judge it).
 */
#ifndef CERTCTL_PROBE_H
#define CERTCTL_PROBE_H

#include "common.h"
#include "cert.h"

/* "host:443", "[2001:db8::1]:443" into host and port. */
int cc_hostport_parse(const char *text, char *host, size_t hostsize, unsigned *port);

/*
 * Connect to host:port (IPv4 or IPv6), handshake with SNI `sni` (NULL:
 * none) and return the certificates the server sent, in its order.
 * CC_ENET for connection problems and timeouts, CC_ETLS for handshakes.
 */
int cc_tls_fetch_chain(const char *host, unsigned port, const char *sni, long timeout_ms,
		       cc_cert ***out, size_t *count);

#endif
