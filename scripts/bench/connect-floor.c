/*
 * connect-floor: the kernel's share of a connect scan, for b0005-discover.sh.
 *
 *   bench-connect-floor FIRST_ADDRESS COUNT PORT [THREADS]
 *
 * Opens a non-blocking TCP socket to PORT on each of COUNT IPv4 addresses
 * from FIRST_ADDRESS up, starts the connect, and closes it: no waiting for
 * the answer, no poll, no TLS.  Every connect scan (certctl discover,
 * nmap -sT) does at least this much for every address, so the time it takes
 * bounds how fast any of them can sweep the range on this machine.  THREADS
 * (default 4, certctl's most for a sweep) share the addresses.
 *
 * Prints one line: "addresses=N threads=T ms=MS".
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16

typedef struct {
	unsigned first, count, port, stride, start;
} slice;

static void *sweep(void *arg)
{
	const slice *s = arg;

	for (unsigned i = s->start; i < s->count; i += s->stride) {
		struct sockaddr_in sa = { 0 };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("socket");
			exit(1);
		}
		sa.sin_family = AF_INET;
		sa.sin_port = htons((unsigned short)s->port);
		sa.sin_addr.s_addr = htonl(s->first + i);
		(void)connect(fd, (struct sockaddr *)&sa, sizeof(sa)); /* EINPROGRESS */
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct in_addr first;
	slice slices[MAX_THREADS];
	pthread_t threads[MAX_THREADS];
	struct timespec t0, t1;
	unsigned count, port, nthreads;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &first) != 1) {
		fprintf(stderr, "usage: bench-connect-floor FIRST_ADDRESS COUNT PORT [THREADS]\n");
		return 2;
	}
	count = (unsigned)strtoul(argv[2], NULL, 10);
	port = (unsigned)strtoul(argv[3], NULL, 10);
	nthreads = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 4;
	if (!count || !port || port > 65535 || !nthreads || nthreads > MAX_THREADS) {
		fprintf(stderr, "bench-connect-floor: bad COUNT, PORT or THREADS\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned t = 0; t < nthreads; t++) {
		slices[t] = (slice){ ntohl(first.s_addr), count, port, nthreads, t };
		if (pthread_create(&threads[t], NULL, sweep, &slices[t]) != 0) {
			fprintf(stderr, "bench-connect-floor: cannot start a thread\n");
			return 1;
		}
	}
	for (unsigned t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("addresses=%u threads=%u ms=%.1f\n", count, nthreads,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}
