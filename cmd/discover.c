/*
 * certctl discover: scan names, addresses and ranges for TLS servers,
 * judge each certificate found, group them, keep the report and print it
 * (table, JSON, HTML).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static void progress(size_t done, size_t total, void *payload)
{
	(void)payload;
	if (done == total || done % 64 == 0)
		fprintf(stderr, "\rcertctl: probed %zu of %zu", done, total);
	if (done == total)
		fprintf(stderr, "\n");
}

/* An option not given. */
#define UNSET ((unsigned long)-1)

/* An option's value, or its setting's when the option was not given. */
static int option_or_setting(unsigned long *value, const cc_repo *repo, const char *key)
{
	unsigned long long v;
	int rc;

	if (*value != UNSET)
		return 0;
	if ((rc = cc_setting_uint(&v, repo, key)) < 0)
		return rc;
	*value = (unsigned long)v;
	return 0;
}

int cmd_discover(int argc, char **argv)
{
	const char *ports_arg = NULL, *html = NULL;
	cc_strlist excludes = CC_STRLIST_INIT, specs = CC_STRLIST_INIT;
	unsigned long concurrency = UNSET, rate = UNSET, timeout = UNSET;
	int force = 0, no_record = 0, json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_scan_host *hosts = NULL;
	size_t nhosts = 0, nports = 0;
	unsigned *ports = NULL;
	const unsigned *defports;
	cc_discovery *d = NULL;
	cc_discover_options opts = CC_DISCOVER_OPTIONS_INIT;
	unsigned long long max = 0;
	const struct cli_opt options[] = {
		OPT_STR('p', "ports", &ports_arg, "LIST", "ports, e.g. 443,8443,9000-9010 (default: "
			"the usual TLS and STARTTLS ports)"),
		OPT_MULTI(0, "exclude", &excludes, "TARGET", "leave out an address or range "
			  "(repeatable; @FILE reads a list)"),
		OPT_NUM(0, "concurrency", &concurrency, "N", "probes at once (default: discover.concurrency, 256)"),
		OPT_NUM(0, "rate", &rate, "R", "new connections a second at most (default: discover.rate, 2000)"),
		OPT_NUM(0, "timeout", &timeout, "SECONDS", "time limit per probe (default: discover.timeout, 3)"),
		OPT_BOOL(0, "force", &force, "scan more addresses than discover.max_addresses"),
		OPT_BOOL(0, "no-record", &no_record, "do not store the report in the repository"),
		OPT_BOOL(0, "json", &json, "print the report as JSON"),
		OPT_STR(0, "html", &html, "FILE", "write the report as an HTML page"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl discover TARGET... [--ports LIST] [--exclude TARGET]... "
			    "[--rate R] [--timeout S] [--json] [--html FILE]",
			    "Scan host names, addresses and ranges (10.0.0.0/24, @FILE) for TLS "
			    "servers, judge every certificate found, and keep the report.", &first)))
		goto done;
	if (first >= argc) {
		rc = cli_usage_error("discover", "give a TARGET: a name, an address or a range");
		goto done;
	}
	if ((concurrency != UNSET && (!concurrency || concurrency > 10000)) ||
	    (rate != UNSET && (!rate || rate > 100000)) ||
	    (timeout != UNSET && (!timeout || timeout > 60))) {
		rc = cli_usage_error("discover", "--concurrency 1 to 10000, --rate 1 to 100000, "
				     "--timeout 1 to 60");
		goto done;
	}
	if (html && (rc = cli_output_check(html, 1)))
		goto done;
	/* Inside a repository: its trust set, policy, and the report's home. */
	if (cc_repo_open(&repo, cli.repo_dir, 0) < 0) {
		repo = NULL;
		cc_error_clear();
	}
	/* Options beat the discover.* settings (certctl-config(1)). */
	if (cc_setting_uint(&max, repo, "discover.max_addresses") < 0 ||
	    option_or_setting(&concurrency, repo, "discover.concurrency") < 0 ||
	    option_or_setting(&rate, repo, "discover.rate") < 0 ||
	    option_or_setting(&timeout, repo, "discover.timeout") < 0 ||
	    cc_setting_duration(&opts.warning, repo, "discover.warning") < 0 ||
	    cc_setting_duration(&opts.critical, repo, "discover.critical") < 0) {
		rc = cli_lib_error();
		goto done;
	}
	for (int i = first; i < argc; i++)
		cc_strlist_add(&specs, argv[i]);
	if (cc_scan_targets(&specs, &excludes, (size_t)max, force, &hosts, &nhosts) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (ports_arg) {
		if (cc_scan_ports(ports_arg, &ports, &nports) < 0) {
			rc = cli_usage_error("discover", "%s", cc_error_last());
			goto done;
		}
		defports = ports;
	} else {
		cc_scan_default_ports(&defports, &nports);
	}
	opts.concurrency = (unsigned)concurrency;
	opts.rate = (double)rate;
	opts.timeout_ms = (long)timeout * 1000;
	if (isatty(2) && !cli.quiet && !json)
		opts.progress = progress;
	if (cc_discover(repo, hosts, nhosts, defports, nports, &opts, &d) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (repo && !no_record && cc_discovery_save(repo, d) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (html) {
		cc_buf page = CC_BUF_INIT;

		cc_discovery_html(d, &page);
		rc = cli_write_file(html, page.ptr, page.size, 0644, 1);
		cc_buf_dispose(&page);
		if (rc)
			goto done;
	}
	if (json) {
		rc = cli_print_json(cc_discovery_to_json(d)) ? EXIT_FAIL : EXIT_OK;
		goto done;
	}
	{
		cc_strlist distinct = CC_STRLIST_INIT;
		size_t shared = 0;

		for (size_t i = 0; i < d->nendpoints; i++) {
			const cc_check_result *r = &d->endpoints[i];
			char ep[300], rules[400] = "";
			size_t used = 0;

			snprintf(ep, sizeof(ep), strchr(r->host, ':') ? "[%s]:%u%s%s" : "%s:%u%s%s",
				 r->host, r->port, r->sni ? " " : "", r->sni ? r->sni : "");
			for (size_t k = 0; k < r->nfindings && used + 2 < sizeof(rules); k++)
				if (r->findings[k].status != CC_STATUS_OK)
					used += (size_t)snprintf(rules + used, sizeof(rules) - used, "%s%s",
								 used ? "," : "", r->findings[k].rule);
			cli_paint(stdout, cc_status_name(r->status), 8);
			printf(" %-36s %5lld %-30s %s%s%s\n", ep,
			       r->seconds_left / 86400, r->subject ? r->subject : "-",
			       rules[0] ? rules : "-", d->managed[i] ? "  managed by " : "",
			       d->managed[i] ? d->managed[i] : "");
			if (cc_strlist_contains(&distinct, r->sha256))
				shared++;
			else
				cc_strlist_add(&distinct, r->sha256);
		}
		if (!cli.quiet)
			printf("discover: %zu TLS endpoint%s of %zu probed, %zu distinct certificate%s "
			       "(%zu more endpoint%s with a certificate seen before)%s%s\n",
			       d->nendpoints, d->nendpoints == 1 ? "" : "s", d->probes, distinct.count,
			       distinct.count == 1 ? "" : "s", shared, shared == 1 ? "" : "s",
			       repo && !no_record ? "; report " : "",
			       repo && !no_record ? d->id : "");
		cc_strlist_dispose(&distinct);
	}
done:
	cc_discovery_free(d);
	free(hosts);
	free(ports);
	cc_strlist_dispose(&excludes);
	cc_strlist_dispose(&specs);
	cc_repo_free(repo);
	return rc;
}
