/*
 * What the probe (check, monitor, discover, the deploy check) reads from a
 * server: STARTTLS banners and replies (SMTP, IMAP, POP3, FTP, LDAP,
 * PostgreSQL) and the TLS records after them.  A server thread on a
 * loopback port answers each connection with the input (after its first
 * byte, which picks the STARTTLS protocol and whether SNI is sent), then
 * closes; cc_probe_run connects to it like to any server.
 *
 * What must hold: the probe ends (within its 2 s limit) with 0, CC_ENET or
 * CC_ETLS; a failure has a one-line message; a success has a chain.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"
#include "fuzz.h"

static int listener = -1;
static unsigned port;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *reply;
static size_t reply_len;

/* One connection: the reply, the write side closed, then what the client
 * says is read and dropped until it closes (or 2 s), so that its writes
 * do not meet a reset before it has read everything. */
static void serve(int fd)
{
	size_t sent = 0, len;
	uint8_t *copy;

	/* A copy: libFuzzer frees the input once the probe returns, which can
	 * be before the server is done sending it. */
	pthread_mutex_lock(&lock);
	len = reply_len;
	copy = malloc(len ? len : 1);
	if (copy)
		memcpy(copy, reply, len);
	pthread_mutex_unlock(&lock);
	if (!copy)
		FUZZ_FAIL("out of memory");
	while (sent < len) {
		ssize_t n = send(fd, copy + sent, len - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	free(copy);
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 20; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		char buf[4096];

		if (poll(&p, 1, 100) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
	}
	close(fd);
}

static void *server_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listener, NULL, NULL);

		if (fd >= 0)
			serve(fd);
		else if (errno != EINTR)
			usleep(1000);
	}
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	pthread_t thread;
	int one = 1;

	(void)argc;
	(void)argv;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((listener = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(listener, 16) < 0 ||
	    getsockname(listener, (struct sockaddr *)&a, &alen) < 0)
		FUZZ_FAIL("cannot listen on loopback");
	port = ntohs(a.sin_port);
	if (pthread_create(&thread, NULL, server_main, NULL) != 0)
		FUZZ_FAIL("cannot start the server thread");
	pthread_detach(thread);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_probe p;
	cc_probe_result r;

	if (size < 1)
		return 0;
	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	p.host = "127.0.0.1";
	p.port = port;
	p.starttls = (cc_starttls)(data[0] % 7);
	p.sni = data[0] & 0x80 ? "fuzz.example.com" : NULL;
	p.alpn = data[0] & 0x40 ? "h2,http/1.1" : NULL;
	p.timeout_ms = 2000;
	pthread_mutex_lock(&lock);
	reply = data + 1;
	reply_len = size - 1;
	pthread_mutex_unlock(&lock);
	if (cc_probe_run(&p, 1, 1, 0, &r, NULL, NULL) < 0)
		FUZZ_FAIL("cc_probe_run could not run: %s", cc_error_last());
	if (r.rc != 0 && r.rc != CC_ENET && r.rc != CC_ETLS)
		FUZZ_FAIL("probe outcome %d", r.rc);
	if (r.rc < 0 && (!r.error || !*r.error || strchr(r.error, '\n')))
		FUZZ_FAIL("a failed probe needs a one-line message: '%s'", r.error ? r.error : "(none)");
	if (r.rc == 0 && r.nchain < 1)
		FUZZ_FAIL("a probe that succeeded without a certificate");
	cc_probe_result_dispose(&r);
	cc_error_clear();
	return 0;
}
