/*
 * Fetching the certificate chain a TLS server presents: a non-blocking
 * connect and handshake under one deadline, IPv4 or IPv6, with SNI.
 * Nothing is verified here; the caller judges what was sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "internal.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cc_hostport_parse(const char *text, char *host, size_t hostsize, unsigned *port)
{
	const char *colon;
	char *end;
	unsigned long p;

	if (!text || !*text)
		return cc_error_set(CC_EINVALID, "empty HOST:PORT");
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return cc_error_set(CC_EINVALID, "'%s': expected [ADDRESS]:PORT", text);
		if ((size_t)(close - text - 1) >= hostsize)
			return cc_error_set(CC_EINVALID, "'%s': host name too long", text);
		snprintf(host, hostsize, "%.*s", (int)(close - text - 1), text + 1);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon)
			return cc_error_set(CC_EINVALID, "'%s': expected HOST:PORT", text);
		if ((size_t)(colon - text) >= hostsize || colon == text)
			return cc_error_set(CC_EINVALID, "'%s': expected HOST:PORT", text);
		snprintf(host, hostsize, "%.*s", (int)(colon - text), text);
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || p == 0 || p > 65535)
		return cc_error_set(CC_EINVALID, "'%s': invalid port", text);
	*port = (unsigned)p;
	return 0;
}

/* Connect to one address within the deadline. */
static int connect_one(const struct addrinfo *ai, long long deadline)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		struct pollfd p = { fd, POLLOUT, 0 };
		long long left = deadline - now_ms();
		int err = 0;
		socklen_t len = sizeof(err);

		if (left > 0 && poll(&p, 1, (int)left) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			return fd;
		errno = err ? err : ETIMEDOUT;
	}
	close(fd);
	return -1;
}

int cc_tls_fetch_chain(const char *host, unsigned port, const char *sni, long timeout_ms,
		       cc_cert ***out, size_t *count)
{
	struct addrinfo hints, *res = NULL;
	char portstr[8];
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1, err, rc = 0, last_errno = 0;

	*out = NULL;
	*count = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((err = getaddrinfo(host, portstr, &hints, &res)) != 0)
		return cc_error_set(CC_ENET, "%s: %s", host, gai_strerror(err));
	for (struct addrinfo *ai = res; ai && fd < 0 && now_ms() < deadline; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd < 0)
			last_errno = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cc_error_set(CC_ENET, "%s:%u: cannot connect: %s", host, port,
				    strerror(last_errno ? last_errno : ETIMEDOUT));
	if (!(ctx = SSL_CTX_new(TLS_client_method())) || !(ssl = SSL_new(ctx)) ||
	    SSL_set_fd(ssl, fd) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot set up TLS");
		goto done;
	}
	/* Whatever the server offers: this fetches, it does not judge. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (sni && *sni)
		SSL_set_tlsext_host_name(ssl, sni);
	for (;;) {
		int r = SSL_connect(ssl), want;
		struct pollfd p;
		long long left;

		if (r == 1)
			break;
		want = SSL_get_error(ssl, r);
		left = deadline - now_ms();
		if ((want != SSL_ERROR_WANT_READ && want != SSL_ERROR_WANT_WRITE) || left <= 0) {
			rc = left <= 0 ? cc_error_set(CC_ENET, "%s:%u: TLS handshake timed out", host, port)
				       : cc_error_openssl(CC_ETLS, "%s:%u: TLS handshake failed", host,
							  port);
			goto done;
		}
		p.fd = fd;
		p.events = want == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, (int)left) == 0) {
			rc = cc_error_set(CC_ENET, "%s:%u: TLS handshake timed out", host, port);
			goto done;
		}
	}
	{
		STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
		int n = chain ? sk_X509_num(chain) : 0;

		if (n <= 0) {
			rc = cc_error_set(CC_ETLS, "%s:%u: the server sent no certificate", host, port);
			goto done;
		}
		if (!(*out = calloc((size_t)n, sizeof(**out)))) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		for (int i = 0; i < n && rc == 0; i++) {
			X509 *x = sk_X509_value(chain, i);

			X509_up_ref(x);
			if ((rc = cc_cert_from_x509(&(*out)[*count], x)) == 0)
				(*count)++;
		}
	}
done:
	if (rc < 0) {
		cc_cert_list_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	if (ssl)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (fd >= 0)
		close(fd);
	return rc;
}
