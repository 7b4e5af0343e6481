/*
 * Probing TLS servers: one event loop (poll) drives many probes at once,
 * each a small state machine: connect (trying each address of the host),
 * the plain-text STARTTLS exchange of its protocol, the TLS handshake.
 * Every probe has its own deadline and every read is bounded, so a dead
 * host, a silent port or an endless banner costs one slot for a bounded
 * time and nothing more.  Nothing is verified here: the chain is returned
 * as the server sent it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "internal.h"

/* The most a server may say before TLS starts. */
#define BANNER_MAX 16384

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_exact_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
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

static const char *const starttls_names[] = { "", "smtp", "imap", "pop3", "ftp", "ldap",
					       "postgres" };

int cc_starttls_parse(cc_starttls *out, const char *name)
{
	*out = CC_STARTTLS_NONE;
	if (!name || !*name || !strcmp(name, "none"))
		return 0;
	for (size_t i = 1; i < CC_ARRAY_SIZE(starttls_names); i++)
		if (!strcmp(name, starttls_names[i])) {
			*out = (cc_starttls)i;
			return 0;
		}
	return cc_error_set(CC_EINVALID, "unknown STARTTLS protocol '%s' (smtp, imap, pop3, ftp, "
			    "ldap or postgres)", name);
}

const char *cc_starttls_name(cc_starttls proto)
{
	return (size_t)proto < CC_ARRAY_SIZE(starttls_names) ? starttls_names[proto] : "";
}

void cc_probe_result_dispose(cc_probe_result *r)
{
	free(r->error);
	cc_cert_list_free(r->chain, r->nchain);
	free(r->protocol);
	free(r->cipher);
	free(r->alpn);
	free(r->ocsp);
	memset(r, 0, sizeof(*r));
}

/* --- the STARTTLS exchanges --------------------------------------------- */

typedef enum {
	STEP_END = 0,
	STEP_SEND,        /* send text */
	STEP_REPLY,       /* a numbered reply (SMTP, FTP), multi-line "NNN-" */
	STEP_LINE,        /* a line starting with text */
	STEP_TAGGED,      /* lines until one starts with the tag (IMAP) */
	STEP_LDAP,        /* an LDAP ExtendedResponse with resultCode 0 */
	STEP_BYTE,        /* one byte (PostgreSQL's 'S') */
} step_kind;

typedef struct {
	step_kind kind;
	const char *text;   /* what to send, or expect */
	size_t len;         /* of binary text (0: strlen) */
} step;

/* The ExtendedRequest for StartTLS (RFC 4511 4.14), message id 1. */
static const char ldap_starttls[] =
	"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037";
/* PostgreSQL's SSLRequest: length 8, code 80877103. */
static const char pg_sslrequest[] = "\x00\x00\x00\x08\x04\xd2\x16\x2f";

static const step smtp_steps[] = {
	{ STEP_REPLY, "220", 0 }, { STEP_SEND, "EHLO certctl.invalid\r\n", 0 },
	{ STEP_REPLY, "250", 0 }, { STEP_SEND, "STARTTLS\r\n", 0 },
	{ STEP_REPLY, "220", 0 }, { STEP_END, NULL, 0 },
};
static const step imap_steps[] = {
	{ STEP_LINE, "* OK", 0 }, { STEP_SEND, "a1 STARTTLS\r\n", 0 },
	{ STEP_TAGGED, "a1 OK", 0 }, { STEP_END, NULL, 0 },
};
static const step pop3_steps[] = {
	{ STEP_LINE, "+OK", 0 }, { STEP_SEND, "STLS\r\n", 0 },
	{ STEP_LINE, "+OK", 0 }, { STEP_END, NULL, 0 },
};
static const step ftp_steps[] = {
	{ STEP_REPLY, "220", 0 }, { STEP_SEND, "AUTH TLS\r\n", 0 },
	{ STEP_REPLY, "234", 0 }, { STEP_END, NULL, 0 },
};
static const step ldap_steps[] = {
	{ STEP_SEND, ldap_starttls, sizeof(ldap_starttls) - 1 }, { STEP_LDAP, NULL, 0 },
	{ STEP_END, NULL, 0 },
};
static const step postgres_steps[] = {
	{ STEP_SEND, pg_sslrequest, sizeof(pg_sslrequest) - 1 }, { STEP_BYTE, "S", 0 },
	{ STEP_END, NULL, 0 },
};

static const step *steps_of(cc_starttls proto)
{
	switch (proto) {
	case CC_STARTTLS_SMTP: return smtp_steps;
	case CC_STARTTLS_IMAP: return imap_steps;
	case CC_STARTTLS_POP3: return pop3_steps;
	case CC_STARTTLS_FTP: return ftp_steps;
	case CC_STARTTLS_LDAP: return ldap_steps;
	case CC_STARTTLS_POSTGRES: return postgres_steps;
	default: return NULL;
	}
}

/* --- one probe ----------------------------------------------------------- */

typedef enum { PH_IDLE = 0, PH_CONNECT, PH_STARTTLS, PH_HANDSHAKE, PH_DONE } phase;

typedef struct {
	size_t index;           /* into probes/results */
	phase ph;
	int fd;
	struct addrinfo *addrs, *ai;
	int last_errno;
	const step *steps;
	size_t step;
	size_t sent;            /* of the current send step */
	char *buf;              /* what the server said before TLS (STARTTLS only) */
	size_t buflen;
	size_t said;            /* everything the server said so far */
	SSL *ssl;
	long long start, deadline;
	short events;           /* what to poll for */
} slot;

static void slot_close(slot *s)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->addrs) {
		freeaddrinfo(s->addrs);
		s->addrs = NULL;
	}
	free(s->buf);
	s->buf = NULL;
	ERR_clear_error();
}

static void fail(slot *s, cc_probe_result *r, int code, const char *fmt, ...) CC_PRINTF(4, 5);
static void fail(slot *s, cc_probe_result *r, int code, const char *fmt, ...)
{
	cc_buf msg = CC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	cc_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	r->rc = code;
	r->error = cc_buf_detach(&msg);
	s->ph = PH_DONE;
	slot_close(s);
}

static void address_text(const struct addrinfo *ai, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ai->ai_addr;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(out, size, "[%s]:%u", host, port);
	} else {
		const struct sockaddr_in *a = (const void *)ai->ai_addr;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(out, size, "%s:%u", host, port);
	}
}

/* Start connecting to the next address; PH_DONE when none is left. */
static void next_address(slot *s, const cc_probe *p, cc_probe_result *r)
{
	for (; s->ai; s->ai = s->ai->ai_next) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = socket(s->ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s->fd < 0) {
			s->last_errno = errno;
			continue;
		}
		address_text(s->ai, r->address, sizeof(r->address));
		if (connect(s->fd, s->ai->ai_addr, s->ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			s->ph = PH_CONNECT;
			s->events = POLLOUT;
			s->ai = s->ai->ai_next;
			return;
		}
		s->last_errno = errno;
	}
	fail(s, r, CC_ENET, "%s:%u: cannot connect: %s", p->host, p->port,
	     strerror(s->last_errno ? s->last_errno : ECONNREFUSED));
}

static int alpn_wire(const char *list, unsigned char *out, size_t size, unsigned *len)
{
	size_t n = 0;

	*len = 0;
	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t l = comma ? (size_t)(comma - list) : strlen(list);

		if (l == 0 || l > 255 || n + 1 + l > size)
			return -1;
		out[n++] = (unsigned char)l;
		memcpy(out + n, list, l);
		n += l;
		list = comma ? comma + 1 : NULL;
	}
	*len = (unsigned)n;
	return 0;
}

static void start_tls(slot *s, const cc_probe *p, cc_probe_result *r, SSL_CTX *ctx)
{
	unsigned char alpn[256];
	unsigned alpn_len;

	if (!(s->ssl = SSL_new(ctx)) || SSL_set_fd(s->ssl, s->fd) != 1) {
		fail(s, r, CC_ERROR, "%s:%u: cannot set up TLS", p->host, p->port);
		return;
	}
	if (p->sni && *p->sni)
		SSL_set_tlsext_host_name(s->ssl, p->sni);
	/* A stapled OCSP response costs the server nothing to send. */
	SSL_set_tlsext_status_type(s->ssl, TLSEXT_STATUSTYPE_ocsp);
	if (p->alpn && alpn_wire(p->alpn, alpn, sizeof(alpn), &alpn_len) == 0 && alpn_len)
		SSL_set_alpn_protos(s->ssl, alpn, alpn_len);
	SSL_set_connect_state(s->ssl);
	s->ph = PH_HANDSHAKE;
	s->events = POLLOUT;
}

/* Connected: on to STARTTLS or straight to TLS. */
static void connected(slot *s, const cc_probe *p, cc_probe_result *r, SSL_CTX *ctx)
{
	r->connect_ms = (long)(now_ms() - s->start);
	freeaddrinfo(s->addrs);
	s->addrs = s->ai = NULL;
	s->steps = steps_of(p->starttls);
	s->step = 0;
	if (s->steps && !(s->buf = malloc(BANNER_MAX + 1))) {
		fail(s, r, CC_ERROR, "out of memory");
		return;
	}
	if (s->steps) {
		s->ph = PH_STARTTLS;
		s->events = s->steps[0].kind == STEP_SEND ? POLLOUT : POLLIN;
	} else {
		start_tls(s, p, r, ctx);
	}
}

/* A complete line at the start of the buffer: its length with the line
 * end, or 0. */
static size_t line_len(const slot *s)
{
	const char *nl = memchr(s->buf, '\n', s->buflen);

	return nl ? (size_t)(nl - s->buf) + 1 : 0;
}

static void consume(slot *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->buflen - n);
	s->buflen -= n;
}

/* The server's words for a message: the line without its end. */
static void quote_line(const char *line, size_t len, char *out, size_t size)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 1 < size; i++)
		if (line[i] >= 0x20 && line[i] < 0x7f)
			out[j++] = line[i];
	out[j] = '\0';
}

/* Match what the current expect step wants against the buffer: 1 done,
 * 0 need more, -1 failed (message set). */
static int expect(slot *s, const cc_probe *p, cc_probe_result *r)
{
	const step *st = &s->steps[s->step];
	char said[120];
	size_t n;

	switch (st->kind) {
	case STEP_REPLY:
		/* "250-first" lines go on; "250 last" ends the reply. */
		while ((n = line_len(s))) {
			if (n < 4 || strncmp(s->buf, st->text, 3) ||
			    (s->buf[3] != ' ' && s->buf[3] != '-' && s->buf[3] != '\r' &&
			     s->buf[3] != '\n')) {
				quote_line(s->buf, n, said, sizeof(said));
				fail(s, r, CC_ENET, "%s:%u: %s STARTTLS: expected %s, the server said '%s'",
				     p->host, p->port, cc_starttls_name(p->starttls), st->text, said);
				return -1;
			}
			if (s->buf[3] != '-') {
				consume(s, n);
				return 1;
			}
			consume(s, n);
		}
		return 0;
	case STEP_LINE:
		if (!(n = line_len(s)))
			return 0;
		if (strncmp(s->buf, st->text, strlen(st->text))) {
			quote_line(s->buf, n, said, sizeof(said));
			fail(s, r, CC_ENET, "%s:%u: %s STARTTLS: expected '%s', the server said '%s'",
			     p->host, p->port, cc_starttls_name(p->starttls), st->text, said);
			return -1;
		}
		consume(s, n);
		return 1;
	case STEP_TAGGED:
		while ((n = line_len(s))) {
			if (!strncmp(s->buf, "a1 ", 3)) {
				if (strncmp(s->buf, st->text, strlen(st->text))) {
					quote_line(s->buf, n, said, sizeof(said));
					fail(s, r, CC_ENET, "%s:%u: imap STARTTLS refused: '%s'", p->host,
					     p->port, said);
					return -1;
				}
				consume(s, n);
				return 1;
			}
			consume(s, n); /* untagged lines before the answer */
		}
		return 0;
	case STEP_LDAP: {
		/* SEQUENCE { messageID, [APPLICATION 24] { resultCode ENUMERATED, ... } } */
		const unsigned char *b = (const unsigned char *)s->buf;
		size_t total, i;

		if (s->buflen < 2)
			return 0;
		if (b[0] != 0x30) {
			fail(s, r, CC_ENET, "%s:%u: ldap STARTTLS: not an LDAP message", p->host,
			     p->port);
			return -1;
		}
		if (b[1] < 0x80) {
			total = 2 + b[1];
			i = 2;
		} else {
			size_t nl = b[1] & 0x7f;

			if (nl < 1 || nl > 3) {
				fail(s, r, CC_ENET, "%s:%u: ldap STARTTLS: bad length", p->host, p->port);
				return -1;
			}
			if (s->buflen < 2 + nl)
				return 0;
			total = 0;
			for (size_t k = 0; k < nl; k++)
				total = total << 8 | b[2 + k];
			total += 2 + nl;
			i = 2 + nl;
		}
		if (total > BANNER_MAX) {
			fail(s, r, CC_ENET, "%s:%u: ldap STARTTLS: reply too long", p->host, p->port);
			return -1;
		}
		if (s->buflen < total)
			return 0;
		/* Skip the message id, then find the resultCode after the tag 0x78. */
		if (i + 2 < total && b[i] == 0x02)
			i += 2 + b[i + 1];
		if (i + 1 < total && b[i] == 0x78) {
			i += 2;
			if (b[i - 1] & 0x80)
				i += b[i - 1] & 0x7f;
			if (i + 2 < total && b[i] == 0x0a && b[i + 1] == 1) {
				if (b[i + 2] == 0) {
					consume(s, total);
					return 1;
				}
				fail(s, r, CC_ENET, "%s:%u: ldap STARTTLS refused (resultCode %u)",
				     p->host, p->port, b[i + 2]);
				return -1;
			}
		}
		fail(s, r, CC_ENET, "%s:%u: ldap STARTTLS: unexpected reply", p->host, p->port);
		return -1;
	}
	case STEP_BYTE:
		if (!s->buflen)
			return 0;
		if (s->buf[0] != st->text[0]) {
			fail(s, r, CC_ENET, "%s:%u: %s: the server does not offer TLS (answered '%c')",
			     p->host, p->port, cc_starttls_name(p->starttls),
			     s->buf[0] >= 0x20 && s->buf[0] < 0x7f ? s->buf[0] : '?');
			return -1;
		}
		consume(s, 1);
		return 1;
	default:
		return 1;
	}
}

static void starttls_io(slot *s, const cc_probe *p, cc_probe_result *r, SSL_CTX *ctx,
			short revents)
{
	for (int rounds = 0; rounds < 64 && s->ph == PH_STARTTLS; rounds++) {
		const step *st = &s->steps[s->step];

		if (st->kind == STEP_END) {
			if (s->buflen) {
				/* TLS must start on a clean stream. */
				fail(s, r, CC_ENET, "%s:%u: %s STARTTLS: the server said more than "
				     "expected", p->host, p->port, cc_starttls_name(p->starttls));
				return;
			}
			start_tls(s, p, r, ctx);
			return;
		}
		if (st->kind == STEP_SEND) {
			size_t len = st->len ? st->len : strlen(st->text);
			ssize_t w = send(s->fd, st->text + s->sent, len - s->sent, MSG_NOSIGNAL);

			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				s->events = POLLOUT;
				return;
			}
			if (w < 0) {
				fail(s, r, CC_ENET, "%s:%u: %s STARTTLS: %s", p->host, p->port,
				     cc_starttls_name(p->starttls), strerror(errno));
				return;
			}
			s->sent += (size_t)w;
			if (s->sent == len) {
				s->sent = 0;
				s->step++;
			}
			continue;
		}
		{
			int m = expect(s, p, r);

			if (m < 0)
				return;
			if (m > 0) {
				s->step++;
				continue;
			}
		}
		/* Need more from the server. */
		if (!(revents & (POLLIN | POLLHUP | POLLERR))) {
			s->events = POLLIN;
			return;
		}
		revents = 0;
		{
			ssize_t got;

			if (s->buflen >= BANNER_MAX || s->said >= 4 * BANNER_MAX) {
				fail(s, r, CC_ENET, "%s:%u: %s STARTTLS: the server talks on and on "
				     "(%zu bytes without the expected reply)", p->host, p->port,
				     cc_starttls_name(p->starttls), s->said);
				return;
			}
			got = recv(s->fd, s->buf + s->buflen, BANNER_MAX - s->buflen, 0);
			if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				s->events = POLLIN;
				return;
			}
			if (got <= 0) {
				fail(s, r, CC_ENET, "%s:%u: %s STARTTLS: the server closed the "
				     "connection%s%s", p->host, p->port, cc_starttls_name(p->starttls),
				     got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
				return;
			}
			s->buflen += (size_t)got;
			s->said += (size_t)got;
		}
	}
}

static void handshake(slot *s, const cc_probe *p, cc_probe_result *r)
{
	int ret = SSL_do_handshake(s->ssl);
	STACK_OF(X509) *chain;
	int n, rc = 0;

	if (ret != 1) {
		int e = SSL_get_error(s->ssl, ret);
		unsigned long code;
		char reason[160] = "";

		if (e == SSL_ERROR_WANT_READ) {
			s->events = POLLIN;
			return;
		}
		if (e == SSL_ERROR_WANT_WRITE) {
			s->events = POLLOUT;
			return;
		}
		if ((code = ERR_peek_last_error()))
			ERR_error_string_n(code, reason, sizeof(reason));
		fail(s, r, CC_ETLS, "%s:%u: TLS handshake failed: %s", p->host, p->port,
		     reason[0] ? reason : e == SSL_ERROR_SYSCALL ? "the server closed the connection"
							 : "no reason given");
		return;
	}
	r->handshake_ms = (long)(now_ms() - s->start);
	chain = SSL_get_peer_cert_chain(s->ssl);
	n = chain ? sk_X509_num(chain) : 0;
	if (n <= 0) {
		fail(s, r, CC_ETLS, "%s:%u: the server sent no certificate", p->host, p->port);
		return;
	}
	if (!(r->chain = calloc((size_t)n, sizeof(*r->chain)))) {
		fail(s, r, CC_ERROR, "out of memory");
		return;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		X509 *x = sk_X509_value(chain, i);

		X509_up_ref(x);
		if ((rc = cc_cert_from_x509(&r->chain[r->nchain], x)) == 0)
			r->nchain++;
	}
	r->protocol = cc_strdup(SSL_get_version(s->ssl));
	r->cipher = cc_strdup(SSL_get_cipher_name(s->ssl));
	{
		const unsigned char *resp = NULL;
		long len = SSL_get_tlsext_status_ocsp_resp(s->ssl, &resp);

		if (resp && len > 0 && len < 65536 && (r->ocsp = malloc((size_t)len))) {
			memcpy(r->ocsp, resp, (size_t)len);
			r->ocsp_len = (size_t)len;
		}
	}
	{
		const unsigned char *sel = NULL;
		unsigned len = 0;

		SSL_get0_alpn_selected(s->ssl, &sel, &len);
		if (sel && len) {
			r->alpn = malloc(len + 1);
			if (r->alpn) {
				memcpy(r->alpn, sel, len);
				r->alpn[len] = '\0';
			}
		}
	}
	if (rc < 0) {
		fail(s, r, CC_ERROR, "out of memory");
		return;
	}
	/* A quiet close: we asked what we wanted and wait for nothing more. */
	SSL_set_quiet_shutdown(s->ssl, 1);
	SSL_shutdown(s->ssl);
	r->rc = 0;
	s->ph = PH_DONE;
	slot_close(s);
}

static void slot_start(slot *s, size_t index, const cc_probe *p, cc_probe_result *r)
{
	struct addrinfo hints;
	char portstr[8];
	int err;

	memset(s, 0, sizeof(*s));
	memset(r, 0, sizeof(*r));
	s->fd = -1;
	s->index = index;
	s->start = now_ms();
	s->deadline = s->start + (p->timeout_ms > 0 ? p->timeout_ms : 10000);
	if (!p->host || !*p->host || !p->port || p->port > 65535) {
		fail(s, r, CC_EINVALID, "invalid endpoint %s:%u", p->host ? p->host : "", p->port);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%u", p->port);
	/* Name resolution blocks; addresses (the usual case of a scan) do not. */
	if ((err = getaddrinfo(p->host, portstr, &hints, &s->addrs)) != 0) {
		s->addrs = NULL;
		fail(s, r, CC_ENET, "%s: %s", p->host,
		     err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
		return;
	}
	s->ai = s->addrs;
	next_address(s, p, r);
}

static void slot_event(slot *s, const cc_probe *p, cc_probe_result *r, SSL_CTX *ctx,
		       short revents)
{
	switch (s->ph) {
	case PH_CONNECT: {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			s->last_errno = err;
			next_address(s, p, r);
			return;
		}
		connected(s, p, r, ctx);
		if (s->ph == PH_STARTTLS)
			starttls_io(s, p, r, ctx, 0);
		if (s->ph == PH_HANDSHAKE)
			handshake(s, p, r);
		return;
	}
	case PH_STARTTLS:
		starttls_io(s, p, r, ctx, revents);
		if (s->ph == PH_HANDSHAKE)
			handshake(s, p, r);
		return;
	case PH_HANDSHAKE:
		handshake(s, p, r);
		return;
	default:
		return;
	}
}

static const char *phase_name(const slot *s, const cc_probe *p)
{
	switch (s->ph) {
	case PH_CONNECT: return "connecting";
	case PH_STARTTLS: return p->starttls == CC_STARTTLS_NONE ? "" : "waiting for STARTTLS";
	case PH_HANDSHAKE: return "in the TLS handshake";
	default: return "";
	}
}

static SSL_CTX *probe_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	/* Whatever the server offers, old protocols and weak keys included:
	 * the caller judges them, and can only judge what it got. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
	/* Every curve, P-224 included: a server with such a key must still be
	 * reachable to be judged weak (the key share goes for X25519 first). */
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:X448:P-521:P-384:P-224:ffdhe2048:"
					  "ffdhe3072:ffdhe4096") != 1)
		ERR_clear_error();
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

static int run_loop_inner(const cc_probe *probes, size_t n, unsigned concurrency, double rate,
			  cc_probe_result *results, cc_probe_cb cb, void *payload);

/*
 * OpenSSL writes the handshake with write(): to a server that already
 * closed, that raises SIGPIPE, which kills the process.  The loop's thread
 * blocks it, and takes back what was raised before unblocking (a SIGPIPE a
 * write raises is the writing thread's own).
 */
static int run_loop(const cc_probe *probes, size_t n, unsigned concurrency, double rate,
		    cc_probe_result *results, cc_probe_cb cb, void *payload)
{
	sigset_t pipe_only, old;
	int rc;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	rc = run_loop_inner(probes, n, concurrency, rate, results, cb, payload);
	if (!sigismember(&old, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_only, NULL, &zero) > 0)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int run_loop_inner(const cc_probe *probes, size_t n, unsigned concurrency, double rate,
			  cc_probe_result *results, cc_probe_cb cb, void *payload)
{
	slot *slots = NULL;
	struct pollfd *pfds = NULL;
	size_t *map = NULL, next = 0, active = 0;
	SSL_CTX *ctx = NULL;
	double started_at = now_exact_ms();
	double started = 0;
	size_t freed;
	int rc = 0;

	if (!n)
		return 0;
	if (!concurrency)
		concurrency = 64;
	if (concurrency > n)
		concurrency = (unsigned)n;
	if (!(ctx = probe_ctx()))
		return cc_error_openssl(CC_ERROR, "cannot set up TLS");
	slots = calloc(concurrency, sizeof(*slots));
	pfds = calloc(concurrency, sizeof(*pfds));
	map = calloc(concurrency, sizeof(*map));
	if (!slots || !pfds || !map) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (unsigned i = 0; i < concurrency; i++)
		slots[i].ph = PH_IDLE, slots[i].fd = -1;
	while (next < n || active) {
		long long now = now_ms(), wake = now + 1000;
		size_t npfd = 0;
		int ready;

		/* Start probes in free slots, as the rate allows. */
		for (unsigned i = 0; i < concurrency && next < n; i++) {
			slot *s = &slots[i];

			if (s->ph != PH_IDLE)
				continue;
			if (rate > 0 && started >= (now_exact_ms() - started_at) * rate / 1000.0 + 1) {
				/* The next start is due within this millisecond or the
				 * next: wait at least 1 ms, never spin. */
				long long at = (long long)(started_at + started * 1000.0 / rate) + 1;

				if (at < wake)
					wake = at > now ? at : now + 1;
				break;
			}
			started += 1;
			slot_start(s, next, &probes[next], &results[next]);
			next++;
			active++;
		}
		/* Finish what ended or ran out of time; poll the others. */
		freed = 0;
		for (unsigned i = 0; i < concurrency; i++) {
			slot *s = &slots[i];

			if (s->ph == PH_IDLE)
				continue;
			if (s->ph != PH_DONE && now >= s->deadline) {
				const cc_probe *p = &probes[s->index];

				fail(s, &results[s->index], CC_ENET, "%s:%u: timed out %s after %lld ms",
				     p->host, p->port, phase_name(s, p), now - s->start);
			}
			if (s->ph == PH_DONE) {
				if (cb)
					cb(s->index, &results[s->index], payload);
				s->ph = PH_IDLE;
				active--;
				freed++;
				continue;
			}
			pfds[npfd].fd = s->fd;
			pfds[npfd].events = s->events;
			pfds[npfd].revents = 0;
			map[npfd++] = i;
			if (s->deadline < wake)
				wake = s->deadline;
		}
		if (!active && next >= n)
			break;
		/* A slot came free: fill it before waiting on the others. */
		if ((freed && next < n) || (!npfd && active))
			continue;
		now = now_ms();
		ready = poll(pfds, npfd, wake > now ? (int)(wake - now) : 0);
		if (ready < 0 && errno != EINTR) {
			rc = cc_error_errno(CC_ERROR, "poll");
			break;
		}
		for (size_t k = 0; ready > 0 && k < npfd; k++) {
			slot *s = &slots[map[k]];

			if (!pfds[k].revents)
				continue;
			slot_event(s, &probes[s->index], &results[s->index], ctx, pfds[k].revents);
		}
	}
done:
	for (unsigned i = 0; slots && i < concurrency; i++)
		slot_close(&slots[i]);
	free(slots);
	free(pfds);
	free(map);
	SSL_CTX_free(ctx);
	return rc;
}

/*
 * A large sweep runs as a few event loops, one a thread, each with a slice
 * of the probes and its share of the concurrency and rate: a connect()
 * that meets a closed port costs the kernel more than certctl spends on
 * it, and one thread keeps one core busy with them.  The callback runs
 * under a lock, with the probe's index in the whole set.
 */
#define SLICE_MIN 1024   /* probes per thread, at least */
#define THREADS_MAX 4

typedef struct {
	const cc_probe *probes;
	cc_probe_result *results;
	size_t offset, n;
	unsigned concurrency;
	double rate;
	cc_probe_cb cb;
	void *payload;
	pthread_mutex_t *lock;
	int rc;
	char error[256];
} slice;

static void slice_cb(size_t index, const cc_probe_result *result, void *payload)
{
	slice *sl = payload;

	pthread_mutex_lock(sl->lock);
	sl->cb(sl->offset + index, result, sl->payload);
	pthread_mutex_unlock(sl->lock);
}

static void *slice_run(void *arg)
{
	slice *sl = arg;

	sl->rc = run_loop(sl->probes + sl->offset, sl->n, sl->concurrency, sl->rate,
			  sl->results + sl->offset, sl->cb ? slice_cb : NULL, sl);
	if (sl->rc < 0)
		snprintf(sl->error, sizeof(sl->error), "%s", cc_error_last());
	return NULL;
}

int cc_probe_run(const cc_probe *probes, size_t n, unsigned concurrency, double rate,
		 cc_probe_result *results, cc_probe_cb cb, void *payload)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t k = cpus > 1 ? (size_t)cpus : 1, started = 0;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_t threads[THREADS_MAX];
	slice slices[THREADS_MAX];
	int rc = 0;

	if (!concurrency)
		concurrency = 64;
	if (k > THREADS_MAX)
		k = THREADS_MAX;
	if (k > n / SLICE_MIN)
		k = n / SLICE_MIN;
	if (k > concurrency / 16)
		k = concurrency / 16;
	if (k < 2)
		return run_loop(probes, n, concurrency, rate, results, cb, payload);
	for (size_t i = 0; i < k; i++) {
		slice *sl = &slices[i];

		memset(sl, 0, sizeof(*sl));
		sl->probes = probes;
		sl->results = results;
		sl->offset = n * i / k;
		sl->n = n * (i + 1) / k - sl->offset;
		sl->concurrency = (unsigned)(concurrency / k);
		sl->rate = rate / (double)k;
		sl->cb = cb;
		sl->payload = payload;
		sl->lock = &lock;
	}
	/* The first slice runs here; a thread that cannot start leaves its
	 * slice to this one, after. */
	for (size_t i = 1; i < k; i++)
		if (pthread_create(&threads[i], NULL, slice_run, &slices[i]) == 0)
			started |= (size_t)1 << i;
	slice_run(&slices[0]);
	for (size_t i = 1; i < k; i++) {
		if (started & ((size_t)1 << i))
			pthread_join(threads[i], NULL);
		else
			slice_run(&slices[i]);
	}
	for (size_t i = 0; i < k && rc == 0; i++)
		if (slices[i].rc < 0)
			rc = cc_error_set(slices[i].rc, "%s", slices[i].error);
	pthread_mutex_destroy(&lock);
	return rc;
}

int cc_tls_fetch_chain(const char *host, unsigned port, const char *sni, long timeout_ms,
		       cc_cert ***out, size_t *count)
{
	cc_probe p;
	cc_probe_result r;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	p.host = host;
	p.port = port;
	p.sni = sni;
	p.timeout_ms = timeout_ms;
	*out = NULL;
	*count = 0;
	if ((rc = cc_probe_run(&p, 1, 1, 0, &r, NULL, NULL)) < 0)
		return rc;
	if (r.rc < 0) {
		rc = cc_error_set(r.rc, "%s", r.error ? r.error : "probe failed");
	} else {
		*out = r.chain;
		*count = r.nchain;
		r.chain = NULL;
		r.nchain = 0;
	}
	cc_probe_result_dispose(&r);
	return rc;
}
