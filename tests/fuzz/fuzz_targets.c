/*
 * What certctl discover reads from its command line: the port list
 * (cc_scan_ports) and the targets and exclusions (cc_scan_targets_ex:
 * addresses, CIDR ranges of both families, names, @FILE lists).
 *
 * An input is lines: the first is the port list; "-X" excludes X; a line
 * "@" makes the rest of the input a target file, passed as "@FILE"; every
 * other line is a target.  Names are checked, not resolved (no network),
 * and the maximum is 4096 addresses without --force, as a user's
 * configuration might set it.  What comes back must be what was asked:
 * ports in 1-65535 once each, at most the maximum of addresses, each
 * address once, excluded ones left out.
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "fuzz.h"

#define MAX_ADDRESSES 4096
#define LINE_MAX_LEN 512

static char target_file[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(target_file, sizeof(target_file), "/tmp/certctl-fuzz-targets.XXXXXX");
	if ((fd = mkstemp(target_file)) < 0)
		FUZZ_FAIL("cannot create a target file");
	close(fd);
	return 0;
}

static void check_ports(const char *list)
{
	unsigned char seen[65536 / 8] = { 0 };
	unsigned *ports = NULL;
	size_t n = 0;

	if (cc_scan_ports(list, &ports, &n) < 0) {
		if (ports || n)
			FUZZ_FAIL("a refused port list returns ports");
		if (!*cc_error_last())
			FUZZ_FAIL("a refused port list without a message");
		cc_error_clear();
		return;
	}
	if (!n || n > 65535)
		FUZZ_FAIL("%zu ports from '%s'", n, list);
	for (size_t i = 0; i < n; i++) {
		if (ports[i] < 1 || ports[i] > 65535)
			FUZZ_FAIL("port %u from '%s'", ports[i], list);
		if (seen[ports[i] / 8] & (1u << (ports[i] % 8)))
			FUZZ_FAIL("port %u twice from '%s'", ports[i], list);
		seen[ports[i] / 8] |= (unsigned char)(1u << (ports[i] % 8));
	}
	free(ports);
}

/* Whether `host` (an address) is `spec` or within the range `spec`. */
static int excluded_by(const char *host, const char *spec)
{
	unsigned char a[16], b[16];
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(spec, '/');
	size_t len = slash ? (size_t)(slash - spec) : strlen(spec);
	int family = strchr(host, ':') ? AF_INET6 : AF_INET, bits, total = family == AF_INET ? 32 : 128;
	char *end;

	if (len >= sizeof(addr))
		return 0;
	memcpy(addr, spec, len);
	addr[len] = '\0';
	if (inet_pton(family, host, a) != 1 || inet_pton(family, addr, b) != 1)
		return 0;
	bits = slash ? (int)strtol(slash + 1, &end, 10) : total;
	if (bits < 0 || bits > total)
		return 0;
	for (int i = 0; i < bits; i++)
		if ((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

static int by_host(const void *a, const void *b)
{
	return strcmp(((const cc_scan_host *)a)->host, ((const cc_scan_host *)b)->host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_strlist specs = CC_STRLIST_INIT, excludes = CC_STRLIST_INIT;
	cc_scan_host *hosts = NULL;
	char line[LINE_MAX_LEN + 1];
	size_t pos = 0, count = 0, names = 0, nlines = 0;
	int have_ports = 0;

	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;

		if (len > LINE_MAX_LEN || memchr(data + pos, '\0', len))
			goto done; /* the command line has neither */
		memcpy(line, data + pos, len);
		line[len] = '\0';
		pos += len + (nl ? 1 : 0);
		if (!have_ports) {
			check_ports(line);
			have_ports = 1;
			continue;
		}
		if (++nlines > 64)
			break;
		if (!strcmp(line, "@")) {
			FILE *f = fopen(target_file, "wb");
			char spec[80];

			if (!f || fwrite(data + pos, 1, size - pos, f) != size - pos || fclose(f) != 0)
				FUZZ_FAIL("cannot write the target file");
			snprintf(spec, sizeof(spec), "@%s", target_file);
			cc_strlist_add(&specs, spec);
			break;
		}
		if (line[0] == '-')
			cc_strlist_add(&excludes, line + 1);
		else if (line[0] != '@') /* no other files */
			cc_strlist_add(&specs, line);
	}
	if (cc_scan_targets_ex(&specs, &excludes, MAX_ADDRESSES, 0, 0, &hosts, &count) < 0) {
		if (hosts || count)
			FUZZ_FAIL("refused targets return hosts");
		if (!*cc_error_last() || strchr(cc_error_last(), '\n'))
			FUZZ_FAIL("refused targets need a one-line message: '%s'", cc_error_last());
		cc_error_clear();
		goto done;
	}
	if (!count)
		FUZZ_FAIL("accepted targets with nothing to scan");
	for (size_t i = 0; i < count; i++) {
		unsigned char bin[16];

		if (!hosts[i].host[0])
			FUZZ_FAIL("an empty host");
		if (hosts[i].is_name) {
			names++;
			if (!cc_dns_name_valid(hosts[i].host, 0))
				FUZZ_FAIL("'%s' accepted as a name", hosts[i].host);
			continue;
		}
		if (inet_pton(AF_INET, hosts[i].host, bin) != 1 &&
		    inet_pton(AF_INET6, hosts[i].host, bin) != 1)
			FUZZ_FAIL("'%s' is not an address", hosts[i].host);
		for (size_t k = 0; k < excludes.count; k++)
			if (excluded_by(hosts[i].host, excludes.items[k]))
				FUZZ_FAIL("'%s' is excluded by '%s'", hosts[i].host, excludes.items[k]);
	}
	qsort(hosts, count, sizeof(*hosts), by_host);
	for (size_t i = 1; i < count; i++)
		if (!strcmp(hosts[i - 1].host, hosts[i].host))
			FUZZ_FAIL("'%s' twice", hosts[i].host);
	if (count - names > MAX_ADDRESSES)
		FUZZ_FAIL("%zu addresses, over the maximum of %d", count - names, MAX_ADDRESSES);
done:
	free(hosts);
	cc_strlist_dispose(&specs);
	cc_strlist_dispose(&excludes);
	return 0;
}
