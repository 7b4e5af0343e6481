/*
 * Discovery: expanding targets (names, addresses, CIDR ranges, files)
 * and ports into probes, judging what answers like a bare check plus the
 * rules of a scan, and keeping the report (with the certificates found,
 * so that they can be imported later) in discovery/<id>.yaml.
 */
#include <ctype.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "internal.h"

#define FILE_MAX (4 << 20)

static const unsigned default_ports[] = { 443, 8443, 636, 993, 995, 465, 990, 5061, 6443, 9443,
					  25, 587, 143, 110, 21, 389, 5432 };

void cc_scan_default_ports(const unsigned **out, size_t *count)
{
	*out = default_ports;
	*count = CC_ARRAY_SIZE(default_ports);
}

cc_starttls cc_scan_port_starttls(unsigned port)
{
	switch (port) {
	case 25:
	case 587: return CC_STARTTLS_SMTP;
	case 143: return CC_STARTTLS_IMAP;
	case 110: return CC_STARTTLS_POP3;
	case 21: return CC_STARTTLS_FTP;
	case 389: return CC_STARTTLS_LDAP;
	case 5432: return CC_STARTTLS_POSTGRES;
	default: return CC_STARTTLS_NONE;
	}
}

int cc_scan_ports(const char *list, unsigned **out, size_t *count)
{
	unsigned char seen[65536 / 8] = { 0 };
	unsigned *ports = NULL;
	size_t n = 0;
	const char *p = list;

	*out = NULL;
	*count = 0;
	while (p && *p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			goto bad;
		if (*end == '-') {
			const char *q = end + 1;

			b = strtoul(q, &end, 10);
			if (end == q)
				goto bad;
		}
		if (a < 1 || b > 65535 || a > b || (*end && *end != ','))
			goto bad;
		/* A port once, in the order given ("1-65535" is 65,535 ports). */
		if (!ports && !(ports = malloc(65535 * sizeof(*ports))))
			return cc_error_set(CC_ERROR, "out of memory");
		for (unsigned long v = a; v <= b; v++) {
			if (seen[v / 8] & (1u << (v % 8)))
				continue;
			seen[v / 8] |= (unsigned char)(1u << (v % 8));
			ports[n++] = (unsigned)v;
		}
		p = *end ? end + 1 : end;
	}
	if (!n) {
		free(ports);
		return cc_error_set(CC_EINVALID, "no port in '%s'", list ? list : "");
	}
	*out = ports;
	*count = n;
	return 0;
bad:
	free(ports);
	return cc_error_set(CC_EINVALID, "invalid port list '%s' (ports 1 to 65535: 443,8443,"
			    "9000-9010)", list);
}

/* An address range: first and last, as 128-bit numbers (IPv4 mapped). */
typedef struct {
	unsigned char first[16], last[16];
	int v4;
} range;

static void inc(unsigned char a[16])
{
	for (int i = 15; i >= 0 && ++a[i] == 0; i--)
		;
}

static int cmp(const unsigned char a[16], const unsigned char b[16])
{
	return memcmp(a, b, 16);
}

/* How many addresses a range has, saturated at SIZE_MAX. */
static size_t range_size(const range *r)
{
	unsigned long long f = 0, l = 0;

	if (memcmp(r->first, r->last, 8))
		return SIZE_MAX;
	for (int k = 8; k < 16; k++) {
		f = (f << 8) | r->first[k];
		l = (l << 8) | r->last[k];
	}
	if (l - f >= (unsigned long long)SIZE_MAX)
		return SIZE_MAX;
	return (size_t)(l - f) + 1;
}

/* "ADDR" or "ADDR/BITS" into a range; 0, or -1 when it is not an address. */
static int parse_range(const char *spec, range *r, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(spec, '/');
	unsigned char bin[16];
	long bits;
	size_t len = slash ? (size_t)(slash - spec) : strlen(spec);

	*why = NULL;
	if (len >= sizeof(addr))
		return -1;
	memcpy(addr, spec, len);
	addr[len] = '\0';
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, addr, bin) == 1) {
		r->v4 = 1;
		r->first[10] = r->first[11] = 0xff;
		memcpy(r->first + 12, bin, 4);
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		memcpy(r->first, bin, 16);
	} else {
		if (slash)
			*why = "not an IP address before '/'";
		return -1;
	}
	bits = r->v4 ? 32 : 128;
	if (slash) {
		char *end;

		bits = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || bits < 0 || bits > (r->v4 ? 32 : 128)) {
			*why = r->v4 ? "the prefix length must be 0 to 32" :
				       "the prefix length must be 0 to 128";
			return -1;
		}
		if (r->v4)
			bits += 96;
	} else if (r->v4) {
		bits = 128;
	}
	memcpy(r->last, r->first, 16);
	for (int i = 0; i < 128; i++)
		if (i >= bits) {
			r->first[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
			r->last[i / 8] |= (unsigned char)(0x80 >> (i % 8));
		}
	return 0;
}

static void range_text(const unsigned char a[16], int v4, char *out, size_t size)
{
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a + 12 : a, out, (socklen_t)size);
}

static int in_any(const unsigned char a[16], const range *ex, size_t nex)
{
	for (size_t i = 0; i < nex; i++)
		if (cmp(a, ex[i].first) >= 0 && cmp(a, ex[i].last) <= 0)
			return 1;
	return 0;
}

/* Specs with "@FILE" expanded (one per line, '#' comments, blanks). */
static int expand_files(const cc_strlist *specs, cc_strlist *out)
{
	int rc = 0;

	for (size_t i = 0; i < specs->count && rc == 0; i++) {
		const char *s = specs->items[i];
		cc_buf text = CC_BUF_INIT;

		if (s[0] != '@') {
			rc = cc_strlist_add(out, s);
			continue;
		}
		if ((rc = cc_fs_read(&text, s + 1, FILE_MAX)) < 0) {
			rc = cc_error_set(rc, "target file %s: %s", s + 1, cc_error_last());
			break;
		}
		for (char *line = text.ptr, *next; line && *line && rc == 0; line = next) {
			char *end;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (strchr(line, '#'))
				*strchr(line, '#') = '\0';
			while (isspace((unsigned char)*line))
				line++;
			end = line + strlen(line);
			while (end > line && isspace((unsigned char)end[-1]))
				*--end = '\0';
			if (*line)
				rc = cc_strlist_add(out, line);
		}
		cc_buf_dispose(&text);
	}
	return rc;
}

/* Overlapping targets name an address once: the first time, in order. */
static int dedupe_hosts(cc_scan_host *list, size_t *n)
{
	size_t cap = 1, kept = 0;
	size_t *slots;

	while (cap < *n * 2)
		cap <<= 1;
	if (!(slots = calloc(cap, sizeof(*slots))))
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < *n; i++) {
		uint32_t h = 2166136261u;
		size_t at;
		int dup = 0;

		for (const unsigned char *p = (const unsigned char *)list[i].host; *p; p++)
			h = (h ^ *p) * 16777619u;
		/* Slots hold kept index + 1; 0 is empty. */
		for (at = h & (cap - 1); slots[at]; at = (at + 1) & (cap - 1))
			if (!strcmp(list[slots[at] - 1].host, list[i].host)) {
				dup = 1;
				break;
			}
		if (dup)
			continue;
		list[kept] = list[i];
		slots[at] = ++kept;
	}
	*n = kept;
	free(slots);
	return 0;
}

int cc_scan_targets(const cc_strlist *specs, const cc_strlist *excludes, size_t max, int force,
		    cc_scan_host **out, size_t *count)
{
	return cc_scan_targets_ex(specs, excludes, max, force, 1, out, count);
}

int cc_scan_targets_ex(const cc_strlist *specs, const cc_strlist *excludes, size_t max, int force,
		       int resolve, cc_scan_host **out, size_t *count)
{
	cc_strlist all = CC_STRLIST_INIT, exall = CC_STRLIST_INIT;
	range *ex = NULL;
	size_t nex = 0, n = 0, cap = 0, total = 0;
	cc_scan_host *list = NULL;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = expand_files(specs, &all)) < 0 || (rc = expand_files(excludes, &exall)) < 0)
		goto done;
	if (exall.count && !(ex = calloc(exall.count, sizeof(*ex)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < exall.count; i++) {
		const char *why;

		if (parse_range(exall.items[i], &ex[nex], &why) < 0) {
			rc = cc_error_set(CC_EINVALID, "--exclude '%s': %s", exall.items[i],
					  why ? why : "not an address or a range");
			goto done;
		}
		nex++;
	}
	for (size_t i = 0; i < all.count; i++) {
		const char *spec = all.items[i], *why;
		range r;

		if (parse_range(spec, &r, &why) == 0) {
			size_t size = range_size(&r);

			if (size > max && !force) {
				rc = cc_error_set(CC_EINVALID, "%s has %s%zu addresses, more than the "
						  "maximum of %zu (discover.max_addresses); give "
						  "--force to scan it", spec,
						  size == SIZE_MAX ? "more than " : "",
						  size == SIZE_MAX ? (size_t)SIZE_MAX : size, max);
				goto done;
			}
			/* --force lifts the configured maximum, not this one: every
			 * address takes memory before the first probe. */
			if (size > CC_SCAN_HARD_MAX || total + size > CC_SCAN_HARD_MAX) {
				rc = cc_error_set(CC_EINVALID, "%s: the targets have more than %u "
						  "addresses; certctl scans at most that many in one "
						  "run", spec, (unsigned)CC_SCAN_HARD_MAX);
				goto done;
			}
			total += size;
			if (total > max && !force) {
				rc = cc_error_set(CC_EINVALID, "the targets have more than %zu addresses "
						  "(discover.max_addresses); give --force", max);
				goto done;
			}
			for (unsigned char a[16], *p = memcpy(a, r.first, 16); ; inc(p)) {
				if (!in_any(p, ex, nex)) {
					if (n == cap) {
						cc_scan_host *grown;

						cap = cap ? cap * 2 : 256;
						if (!(grown = realloc(list, cap * sizeof(*grown)))) {
							rc = cc_error_set(CC_ERROR, "out of memory");
							goto done;
						}
						list = grown;
					}
					range_text(p, r.v4, list[n].host, sizeof(list[n].host));
					list[n++].is_name = 0;
				}
				if (!cmp(p, r.last))
					break;
			}
			continue;
		}
		if (why) {
			rc = cc_error_set(CC_EINVALID, "target '%s': %s", spec, why);
			goto done;
		}
		if (!cc_dns_name_valid(spec, 0)) {
			rc = cc_error_set(CC_EINVALID, "target '%s' is neither an address, a range "
					  "(10.0.0.0/24) nor a host name", spec);
			goto done;
		}
		if (resolve) {
			struct addrinfo hints, *res = NULL;
			int err;

			memset(&hints, 0, sizeof(hints));
			hints.ai_socktype = SOCK_STREAM;
			if ((err = getaddrinfo(spec, NULL, &hints, &res)) != 0) {
				rc = cc_error_set(CC_ENET, "cannot resolve %s: %s", spec,
						  gai_strerror(err));
				goto done;
			}
			freeaddrinfo(res);
		}
		if (n == cap) {
			cc_scan_host *grown;

			cap = cap ? cap * 2 : 256;
			if (!(grown = realloc(list, cap * sizeof(*grown)))) {
				rc = cc_error_set(CC_ERROR, "out of memory");
				goto done;
			}
			list = grown;
		}
		snprintf(list[n].host, sizeof(list[n].host), "%s", spec);
		list[n++].is_name = 1;
		total++;
	}
	if (!n) {
		rc = cc_error_set(CC_EINVALID, "nothing to scan: no target is left");
		goto done;
	}
	if ((rc = dedupe_hosts(list, &n)) < 0)
		goto done;
	*out = list;
	*count = n;
	list = NULL;
done:
	free(list);
	free(ex);
	cc_strlist_dispose(&all);
	cc_strlist_dispose(&exall);
	return rc;
}

/* --- the scan --------------------------------------------------------- */

void cc_discovery_free(cc_discovery *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nendpoints; i++) {
		cc_check_result_dispose(&d->endpoints[i]);
		free(d->managed ? d->managed[i] : NULL);
	}
	free(d->endpoints);
	free(d->managed);
	free(d->id);
	free(d->time);
	free(d);
}

char *cc_cert_managed_by(cc_repo *repo, const char *sha256)
{
	cc_strlist defs = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, path = CC_BUF_INIT;
	char *found = NULL;

	if (!repo || cc_repo_path(repo, "certs", &dir) < 0 || cc_fs_list(&defs, dir.ptr, NULL) < 0)
		goto done;
	for (size_t i = 0; i < defs.count && !found; i++) {
		cc_buf_clear(&path);
		cc_buf_printf(&path, "%s/%s/%.16s/cert.pem", dir.ptr, defs.items[i], sha256);
		if (cc_fs_exists(path.ptr))
			found = strdup(defs.items[i]);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&defs);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&path);
	return found;
}

static void add_finding(cc_check_result *r, const char *rule, cc_status st, const char *msg)
{
	cc_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof(*grown));

	if (!grown)
		return;
	r->findings = grown;
	grown[r->nfindings].rule = strdup(rule);
	grown[r->nfindings].status = st;
	grown[r->nfindings].message = strdup(msg);
	r->nfindings++;
	r->status = cc_status_worse(r->status, st);
}

/* The rules of a scan besides a check's: self-signed, wildcard, managed. */
static void scan_rules(cc_repo *repo, cc_check_result *r, char **managed)
{
	cc_cert **certs = NULL;
	size_t n = 0;
	cc_strlist sans = CC_STRLIST_INIT;
	char msg[400];

	if (!r->pem || cc_cert_parse_all(&certs, &n, r->pem, strlen(r->pem), "scan") < 0 || !n) {
		cc_error_clear();
		goto done;
	}
	if (cc_cert_is_self_signed(certs[0]))
		add_finding(r, "cert.self-signed", CC_STATUS_WARNING,
			    "self-signed: no CA vouches for it");
	if (cc_cert_sans(certs[0], &sans) == 0)
		for (size_t i = 0; i < sans.count; i++)
			if (!strncmp(sans.items[i], "DNS:*.", 6)) {
				snprintf(msg, sizeof(msg), "a wildcard certificate (%s)", sans.items[i] + 4);
				add_finding(r, "name.wildcard", CC_STATUS_WARNING, msg);
				break;
			}
	if ((*managed = cc_cert_managed_by(repo, r->sha256))) {
		snprintf(msg, sizeof(msg), "managed by definition %s", *managed);
		add_finding(r, "managed", CC_STATUS_OK, msg);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&sans);
	cc_cert_list_free(certs, n);
}

int cc_discover(cc_repo *repo, const cc_scan_host *hosts, size_t nhosts, const unsigned *ports,
		size_t nports, const cc_discover_options *opts, cc_discovery **out)
{
	static const cc_discover_options defaults = CC_DISCOVER_OPTIONS_INIT;
	cc_check_options copts = CC_CHECK_OPTIONS_INIT;
	cc_check_endpoint *eps = NULL;
	cc_check_result *res = NULL;
	cc_discovery *d = NULL;
	size_t n = 0, cap;
	char now[32];
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	cap = 0;
	for (size_t h = 0; h < nhosts; h++)
		cap += nports * (hosts[h].is_name ? 2 : 1);
	if (!(eps = calloc(cap ? cap : 1, sizeof(*eps))) || !(res = calloc(cap ? cap : 1,
									    sizeof(*res))) ||
	    !(d = calloc(1, sizeof(*d)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t h = 0; h < nhosts; h++)
		for (size_t p = 0; p < nports; p++)
			for (int look = 0; look < (hosts[h].is_name ? 2 : 1); look++) {
				cc_check_endpoint *e = &eps[n++];

				e->host = hosts[h].host;
				e->port = ports[p];
				e->starttls = cc_scan_port_starttls(ports[p]);
				/* A name is asked for, and the server's default looked at too. */
				e->no_sni = look == 1;
			}
	copts.concurrency = opts->concurrency ? opts->concurrency : 256;
	copts.timeout_ms = opts->timeout_ms ? opts->timeout_ms : 3000;
	copts.rate = opts->rate > 0 ? opts->rate : 2000;
	copts.warning = opts->warning;
	copts.critical = opts->critical;
	copts.names_only = 1;
	copts.keep_pem = 1;
	copts.progress = opts->progress;
	copts.payload = opts->payload;
	if ((rc = cc_check_run(repo, eps, n, &copts, res)) < 0)
		goto done;
	d->probes = n;
	if (!(d->endpoints = calloc(n ? n : 1, sizeof(*d->endpoints))) ||
	    !(d->managed = calloc(n ? n : 1, sizeof(*d->managed)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		cc_check_result *r = &res[i];

		/* Only what spoke TLS is found; closed and silent ports are counted. */
		if (!r->sha256) {
			cc_check_result_dispose(r);
			continue;
		}
		scan_rules(repo, r, &d->managed[d->nendpoints]);
		d->endpoints[d->nendpoints] = *r;
		memset(r, 0, sizeof(*r));
		d->nendpoints++;
	}
	d->answered = d->nendpoints;
	cc_time_now_rfc3339(now);
	d->time = strdup(now);
	{
		char id[32];

		snprintf(id, sizeof(id), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", now, now + 5, now + 8, now + 11,
			 now + 14, now + 17);
		d->id = strdup(id);
	}
	*out = d;
	d = NULL;
done:
	for (size_t i = 0; res && i < n; i++)
		cc_check_result_dispose(&res[i]);
	free(res);
	free(eps);
	cc_discovery_free(d);
	return rc;
}

/* --- the report ------------------------------------------------------- */

int cc_discovery_save(cc_repo *repo, cc_discovery *d)
{
	cc_buf text = CC_BUF_INIT, rel = CC_BUF_INIT, summary = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	cc_txn *txn = NULL;
	size_t counts[4] = { 0, 0, 0, 0 };
	char num[32];
	int rc;

	/* Two scans in one second: the second gets "-2", and so on. */
	for (int k = 2; k < 1000; k++) {
		cc_buf abs = CC_BUF_INIT;
		int taken;

		cc_buf_clear(&rel);
		cc_buf_printf(&rel, "discovery/%s.yaml", d->id);
		taken = cc_repo_path(repo, rel.ptr, &abs) == 0 && cc_fs_exists(abs.ptr);
		cc_buf_dispose(&abs);
		if (!taken)
			break;
		{
			char id[48];

			snprintf(id, sizeof(id), "%.16s-%d", d->id, k);
			cc_strset(&d->id, id);
		}
	}
	cc_buf_puts(&text, "# certctl discovery report; see certctl-discover(1).\n");
	if ((rc = cc_yaml_writer_new(&w, &text)) < 0)
		return rc;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "id", d->id);
	rc = rc ? rc : cc_yaml_put(w, "time", d->time);
	snprintf(num, sizeof(num), "%zu", d->probes);
	rc = rc ? rc : cc_yaml_key(w, "probes");
	rc = rc ? rc : cc_yaml_plain(w, num);
	rc = rc ? rc : cc_yaml_key(w, "endpoints");
	rc = rc ? rc : cc_yaml_seq_start(w, 0);
	for (size_t i = 0; i < d->nendpoints && rc == 0; i++) {
		const cc_check_result *r = &d->endpoints[i];

		counts[r->status]++;
		rc = cc_yaml_map_start(w);
		rc = rc ? rc : cc_check_result_yaml(w, r);
		rc = rc ? rc : cc_yaml_put(w, "managed", d->managed[i]);
		/* The chain itself, so that it can be imported without a second scan. */
		rc = rc ? rc : cc_yaml_put(w, "chain_pem", r->pem);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	rc = rc ? rc : cc_yaml_seq_end(w);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	if (rc < 0)
		goto done;
	cc_buf_printf(&summary, "discover: %zu TLS endpoints of %zu probed: %zu CRITICAL, "
		      "%zu WARNING, %zu OK", d->nendpoints, d->probes, counts[CC_STATUS_CRITICAL],
		      counts[CC_STATUS_WARNING], counts[CC_STATUS_OK]);
	if ((rc = cc_txn_begin(&txn, repo, "discover")) < 0)
		goto done;
	if ((rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Discovery", d->id)) < 0) {
		cc_txn_abort(txn);
		goto done;
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL);
done:
	cc_buf_dispose(&text);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&summary);
	return rc;
}

int cc_discovery_load(cc_repo *repo, const char *id, cc_discovery **out)
{
	cc_strlist ids = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_node *root = NULL;
	cc_discovery *d = NULL;
	const cc_node *eps;
	int rc;

	*out = NULL;
	if (!id) {
		if ((rc = cc_repo_path(repo, "discovery", &dir)) < 0)
			goto done;
		if (!cc_fs_is_dir(dir.ptr) || cc_fs_list(&ids, dir.ptr, ".yaml") < 0 || !ids.count) {
			rc = cc_error_set(CC_ENOTFOUND, "no discovery report: run certctl discover");
			goto done;
		}
		cc_buf_printf(&rel, "discovery/%s", ids.items[ids.count - 1]);
	} else {
		if ((rc = cc_name_check(id, "report")) < 0)
			goto done;
		cc_buf_printf(&rel, "discovery/%s.yaml", id);
	}
	if ((rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	if (!cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_ENOTFOUND, "no discovery report %s", id ? id : "");
		goto done;
	}
	if ((rc = cc_node_load(&root, abs.ptr, rel.ptr)) < 0)
		goto done;
	eps = cc_node_get(root, "endpoints");
	if (!(d = calloc(1, sizeof(*d))) ||
	    !(d->endpoints = calloc(cc_node_count(eps) + 1, sizeof(*d->endpoints))) ||
	    !(d->managed = calloc(cc_node_count(eps) + 1, sizeof(*d->managed)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	d->id = cc_strdup(cc_node_scalar(cc_node_get(root, "id")));
	d->time = cc_strdup(cc_node_scalar(cc_node_get(root, "time")));
	for (size_t i = 0; i < cc_node_count(eps); i++) {
		const cc_node *e = cc_node_at(eps, i);
		cc_check_result *r = &d->endpoints[d->nendpoints];

		if ((rc = cc_check_result_from_node(r, e)) < 0) {
			cc_check_result_dispose(r);
			goto done;
		}
		r->pem = cc_strdup(cc_node_scalar(cc_node_get(e, "chain_pem")));
		d->managed[d->nendpoints] = cc_strdup(cc_node_scalar(cc_node_get(e, "managed")));
		d->nendpoints++;
	}
	d->answered = d->nendpoints;
	*out = d;
	d = NULL;
done:
	cc_discovery_free(d);
	cc_node_free(root);
	cc_strlist_dispose(&ids);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return rc;
}

cc_json *cc_discovery_to_json(const cc_discovery *d)
{
	cc_json *o = cc_json_object(), *eps = cc_json_array(), *certs = cc_json_array();
	cc_strlist seen = CC_STRLIST_INIT;

	if (!o || !eps || !certs) {
		cc_json_free(o);
		cc_json_free(eps);
		cc_json_free(certs);
		return NULL;
	}
	cc_json_set_str(o, "schema", "certctl.discover/1");
	cc_json_set_str(o, "id", d->id);
	cc_json_set_str(o, "time", d->time);
	cc_json_set_int(o, "probes", (long long)d->probes);
	for (size_t i = 0; i < d->nendpoints; i++) {
		cc_json *e = cc_check_result_to_json(&d->endpoints[i]);

		cc_json_set_str(e, "managed", d->managed[i]);
		cc_json_append(eps, e);
	}
	/* Each certificate once, with every endpoint it was seen on. */
	for (size_t i = 0; i < d->nendpoints; i++) {
		const cc_check_result *r = &d->endpoints[i];
		cc_json *c, *where;

		if (cc_strlist_contains(&seen, r->sha256))
			continue;
		cc_strlist_add(&seen, r->sha256);
		c = cc_json_object();
		where = cc_json_array();
		cc_json_set_str(c, "sha256", r->sha256);
		cc_json_set_str(c, "subject", r->subject);
		cc_json_set_str(c, "issuer", r->issuer);
		cc_json_set_str(c, "not_after", r->not_after);
		cc_json_set_str(c, "managed", d->managed[i]);
		for (size_t j = i; j < d->nendpoints; j++) {
			char ep[300];

			if (strcmp(d->endpoints[j].sha256, r->sha256))
				continue;
			snprintf(ep, sizeof(ep), strchr(d->endpoints[j].host, ':') ? "[%s]:%u%s%s" :
				 "%s:%u%s%s", d->endpoints[j].host, d->endpoints[j].port,
				 d->endpoints[j].sni ? " " : "",
				 d->endpoints[j].sni ? d->endpoints[j].sni : "");
			cc_json_append_str(where, ep);
		}
		cc_json_set(c, "endpoints", where);
		cc_json_append(certs, c);
	}
	cc_json_set(o, "endpoints", eps);
	cc_json_set(o, "certificates", certs);
	cc_strlist_dispose(&seen);
	return o;
}

int cc_discovery_html(const cc_discovery *d, cc_buf *out)
{
	static const char *const colors[] = { "#dff0d8", "#fcf8e3", "#f2dede", "#eeeeee" };

	cc_buf_puts(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>certctl "
		    "discovery ");
	cc_html_escape(out, d->id);
	cc_buf_puts(out, "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
		    "td,th{border:1px solid #999;padding:3px 6px;vertical-align:top}</style></head>"
		    "<body>\n<h1>certctl discovery ");
	cc_html_escape(out, d->id);
	cc_buf_printf(out, "</h1>\n<p>%zu TLS endpoints found of %zu probed.</p>\n<table><tr>"
		      "<th>status</th><th>endpoint</th><th>subject</th><th>issuer</th>"
		      "<th>expires</th><th>findings</th><th>managed</th></tr>\n", d->nendpoints,
		      d->probes);
	for (size_t i = 0; i < d->nendpoints; i++) {
		const cc_check_result *r = &d->endpoints[i];

		cc_buf_printf(out, "<tr style=\"background:%s\"><td>%s</td><td>", colors[r->status],
			      cc_status_name(r->status));
		if (strchr(r->host, ':')) {
			cc_buf_putc(out, '[');
			cc_html_escape(out, r->host);
			cc_buf_printf(out, "]:%u", r->port);
		} else {
			cc_html_escape(out, r->host);
			cc_buf_printf(out, ":%u", r->port);
		}
		if (r->sni) {
			cc_buf_puts(out, " (");
			cc_html_escape(out, r->sni);
			cc_buf_puts(out, ")");
		}
		cc_buf_puts(out, "</td><td>");
		cc_html_escape(out, r->subject);
		cc_buf_puts(out, "</td><td>");
		cc_html_escape(out, r->issuer);
		cc_buf_puts(out, "</td><td>");
		cc_html_escape(out, r->not_after);
		cc_buf_puts(out, "</td><td>");
		for (size_t k = 0; k < r->nfindings; k++)
			if (r->findings[k].status != CC_STATUS_OK) {
				cc_buf_printf(out, "%s: ", cc_status_name(r->findings[k].status));
				cc_html_escape(out, r->findings[k].message);
				cc_buf_puts(out, "<br>");
			}
		cc_buf_puts(out, "</td><td>");
		cc_html_escape(out, d->managed[i] ? d->managed[i] : "");
		cc_buf_puts(out, "</td></tr>\n");
	}
	return cc_buf_puts(out, "</table>\n</body></html>\n");
}

/* One condition of a --select filter against endpoint `i`. */
static int select_one(const cc_discovery *d, size_t i, const char *cond, size_t len, int *ok)
{
	const cc_check_result *r = &d->endpoints[i];
	char key[32], val[256];
	const char *eq = memchr(cond, '=', len);

	if (len == 3 && !strncmp(cond, "all", 3)) {
		*ok = 1;
		return 0;
	}
	if (len == 9 && !strncmp(cond, "unmanaged", 9)) {
		*ok = !d->managed[i];
		return 0;
	}
	if (!eq || (size_t)(eq - cond) >= sizeof(key) || len - (size_t)(eq - cond) - 1 >= sizeof(val))
		return cc_error_set(CC_EINVALID, "--select: '%.*s' is not all, unmanaged or KEY=VALUE "
				    "(status, rule, host, port, subject, issuer)", (int)len, cond);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - cond), cond);
	snprintf(val, sizeof(val), "%.*s", (int)(len - (size_t)(eq - cond) - 1), eq + 1);
	if (!strcmp(key, "status")) {
		*ok = !strcasecmp(cc_status_name(r->status), val);
	} else if (!strcmp(key, "rule")) {
		*ok = 0;
		for (size_t k = 0; k < r->nfindings && !*ok; k++)
			*ok = r->findings[k].status != CC_STATUS_OK && !strcmp(r->findings[k].rule, val);
	} else if (!strcmp(key, "host")) {
		*ok = !strcmp(r->host, val);
	} else if (!strcmp(key, "port")) {
		*ok = (unsigned)atoi(val) == r->port;
	} else if (!strcmp(key, "subject")) {
		*ok = r->subject && strstr(r->subject, val);
	} else if (!strcmp(key, "issuer")) {
		*ok = r->issuer && strstr(r->issuer, val);
	} else {
		return cc_error_set(CC_EINVALID, "--select: unknown key '%s' (status, rule, host, "
				    "port, subject, issuer)", key);
	}
	return 0;
}

int cc_discovery_select(const cc_discovery *d, const char *filter, size_t i, int *selected)
{
	const char *p = filter && *filter ? filter : "all";
	int rc;

	/* Conditions joined by ',' must all hold. */
	*selected = 1;
	while (*p) {
		size_t len = strcspn(p, ",");
		int ok = 0;

		if ((rc = select_one(d, i, p, len, &ok)) < 0)
			return rc;
		*selected &= ok;
		p += len + (p[len] == ',');
	}
	return 0;
}
