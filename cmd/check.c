/*
 * certctl check: connect to the endpoints of definitions (or to bare
 * HOST:PORT endpoints), judge what they present, print a table, JSON or a
 * monitoring-plugin line, and record the results.  The exit status is the
 * plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

#define EXIT_PLUGIN_UNKNOWN 3

static int exit_of(cc_status s)
{
	return s == CC_STATUS_OK ? 0 : s == CC_STATUS_WARNING ? 1 : s == CC_STATUS_CRITICAL ? 2 : 3;
}

static void progress(size_t done, size_t total, void *payload)
{
	(void)payload;
	fprintf(stderr, "\rcertctl: checked %zu of %zu", done, total);
	if (done == total)
		fprintf(stderr, "\n");
}

/* A perfdata label: letters, digits, '.', '_', '-' (quotes break parsers). */
static void label(char *out, size_t size, const cc_check_result *r)
{
	size_t j = 0;
	char raw[300];

	snprintf(raw, sizeof(raw), "%s_%s_%u", r->definition ? r->definition : r->sni ? r->sni :
		 r->host, r->host, r->port);
	for (size_t i = 0; raw[i] && j + 1 < size; i++)
		out[j++] = (char)(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789._-", raw[i]) ? raw[i] : '_');
	out[j] = '\0';
}

static void print_plugin(const cc_check_result *res, size_t n, cc_status worst,
			 long long warn_days, long long crit_days)
{
	size_t counts[4] = { 0, 0, 0, 0 };
	const cc_check_result *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		counts[res[i].status]++;
		if (res[i].status == worst && !pick)
			pick = &res[i];
	}
	printf("CERTCTL %s - %zu endpoint%s: %zu critical, %zu warning, %zu unknown, %zu ok",
	       cc_status_name(worst), n, n == 1 ? "" : "s", counts[CC_STATUS_CRITICAL],
	       counts[CC_STATUS_WARNING], counts[CC_STATUS_UNKNOWN], counts[CC_STATUS_OK]);
	if (pick && worst != CC_STATUS_OK)
		printf(strchr(pick->host, ':') ? "; %s%s[%s]:%u %s" : "; %s%s%s:%u %s",
		       pick->definition ? pick->definition : "", pick->definition ? " " : "",
		       pick->host, pick->port, pick->summary ? pick->summary : "");
	printf(" | critical=%zu warning=%zu unknown=%zu ok=%zu", counts[CC_STATUS_CRITICAL],
	       counts[CC_STATUS_WARNING], counts[CC_STATUS_UNKNOWN], counts[CC_STATUS_OK]);
	for (size_t i = 0; i < n; i++) {
		char l[200];

		if (!res[i].not_after)
			continue;
		label(l, sizeof(l), &res[i]);
		printf(" %s_days=%lld;%lld;%lld", l, res[i].seconds_left / 86400,
		       res[i].warning ? res[i].warning / 86400 : warn_days,
		       res[i].critical ? res[i].critical / 86400 : crit_days);
	}
	printf("\n");
}

int cmd_check(int argc, char **argv)
{
	const char *sni = NULL, *starttls = NULL, *alpn = NULL;
	unsigned long timeout = 10, concurrency = 64;
	int json = 0, plugin = 0, plugin_said = 0, no_record = 0, first, rc;
	cc_repo *repo = NULL;
	cc_check_endpoint *eps = NULL;
	size_t neps = 0;
	cc_definition **defs = NULL;
	size_t ndefs = 0;
	cc_check_result *res = NULL;
	char (*hosts)[256] = NULL;
	cc_check_options opts = CC_CHECK_OPTIONS_INIT;
	cc_status worst = CC_STATUS_OK;
	cc_starttls proto = CC_STARTTLS_NONE;
	size_t broken = 0;
	const struct cli_opt options[] = {
		OPT_HEADING("connection (for HOST:PORT operands)"),
		OPT_STR(0, "sni", &sni, "NAME", "TLS server name (default: the host when it is a "
			"name)"),
		OPT_STR(0, "starttls", &starttls, "PROTO", "smtp, imap, pop3, ftp, ldap or postgres"),
		OPT_HEADING("every check"),
		OPT_STR(0, "alpn", &alpn, "LIST", "protocols to offer, e.g. h2,http/1.1"),
		OPT_NUM(0, "timeout", &timeout, "SECONDS", "time limit per endpoint (default 10)"),
		OPT_NUM(0, "concurrency", &concurrency, "N", "endpoints checked at once (default 64)"),
		OPT_BOOL(0, "no-record", &no_record, "do not record the results in the repository"),
		OPT_HEADING("output"),
		OPT_BOOL(0, "json", &json, "print the results as JSON"),
		OPT_BOOL(0, "nagios", &plugin, "one monitoring-plugin line with perfdata"),
		OPT_DONE(),
	};

	rc = cli_parse(argc, argv, options,
		       "certctl check [DEF[@PEER]... | HOST:PORT...] [--json | --nagios] "
		       "[--no-record]",
		       "Check what servers present: the definitions' endpoints (all monitored "
		       "ones by default) or HOST:PORT. Exit status: 0 OK, 1 WARNING, 2 CRITICAL, "
		       "3 UNKNOWN.", &first);
	if (rc) {
		/* A plugin says so on its one line even for a usage error. */
		for (int i = 1; rc == EXIT_USAGE && i < argc; i++)
			if (!strcmp(argv[i], "--nagios")) {
				printf("CERTCTL UNKNOWN - usage error (see certctl check --help)\n");
				break;
			}
		return rc == EXIT_USAGE ? EXIT_PLUGIN_UNKNOWN : rc;
	}
	if (json && plugin) {
		cli_usage_error("check", "--json and --nagios exclude each other");
		return EXIT_PLUGIN_UNKNOWN;
	}
	if (timeout < 1 || timeout > 300 || concurrency < 1 || concurrency > 10000) {
		cli_usage_error("check", "--timeout is 1 to 300 seconds, --concurrency 1 to 10000");
		return EXIT_PLUGIN_UNKNOWN;
	}
	if (cc_starttls_parse(&proto, starttls) < 0) {
		cli_lib_error();
		return EXIT_PLUGIN_UNKNOWN;
	}
	/* ALPN: comma-separated protocol names of 1 to 255 bytes. */
	for (const char *p = alpn; p && *p;) {
		size_t l = strcspn(p, ",");

		if (l == 0 || l > 255) {
			cli_usage_error("check", "--alpn is a list such as h2,http/1.1");
			return EXIT_PLUGIN_UNKNOWN;
		}
		p += l + (p[l] == ',');
		if (p[-1] == ',' && !*p) {
			cli_usage_error("check", "--alpn is a list such as h2,http/1.1");
			return EXIT_PLUGIN_UNKNOWN;
		}
	}
	/* Definitions need the repository; bare endpoints do not. */
	{
		int need_repo = first == argc;

		for (int i = first; i < argc; i++)
			if (!strchr(argv[i], ':'))
				need_repo = 1;
		if (need_repo) {
			if (cli_open_repo(&repo)) {
				rc = EXIT_PLUGIN_UNKNOWN;
				goto done;
			}
		} else if (cc_repo_open(&repo, cli.repo_dir, 0) < 0) {
			/* Outside a repository: the system's CA bundle. */
			repo = NULL;
			cc_error_clear();
		}
	}
	if (!(hosts = calloc((size_t)(argc - first) + 1, sizeof(*hosts)))) {
		rc = cli_error("out of memory");
		goto unknown;
	}
	if (first == argc) {
		cc_strlist names = CC_STRLIST_INIT;

		if (cc_definition_names(repo, &names) < 0) {
			cli_lib_error();
			goto unknown;
		}
		for (size_t i = 0; i < names.count; i++) {
			cc_definition *def = NULL, **grown;

			if (cc_definition_load(&def, repo, names.items[i]) < 0) {
				/* One broken definition does not hide the others. */
				cli_lib_error();
				broken++;
				continue;
			}
			if (!(grown = realloc(defs, (ndefs + 1) * sizeof(*defs)))) {
				cc_definition_free(def);
				cc_strlist_dispose(&names);
				cli_error("out of memory");
				goto unknown;
			}
			defs = grown;
			defs[ndefs++] = def;
			if (cc_check_endpoints(def, 1, &eps, &neps) < 0) {
				cli_lib_error();
				cc_strlist_dispose(&names);
				goto unknown;
			}
		}
		cc_strlist_dispose(&names);
	}
	for (int i = first; i < argc; i++) {
		if (strchr(argv[i], ':')) {
			cc_check_endpoint e, *grown;
			unsigned port;

			if (cc_hostport_parse(argv[i], hosts[i - first], sizeof(hosts[0]), &port) < 0) {
				cli_lib_error();
				goto unknown;
			}
			memset(&e, 0, sizeof(e));
			e.host = hosts[i - first];
			e.port = port;
			e.sni = sni;
			e.starttls = proto;
			if (!(grown = realloc(eps, (neps + 1) * sizeof(*eps)))) {
				cli_error("out of memory");
				goto unknown;
			}
			eps = grown;
			eps[neps++] = e;
		} else {
			cc_definition *def = NULL, **grown;
			int again = 0;

			/* A definition named twice is checked once. */
			for (size_t k = 0; k < ndefs && !again; k++)
				again = !strcmp(defs[k]->name, argv[i]);
			if (again)
				continue;
			if (cc_definition_ref_check(argv[i]) < 0 ||
			    cc_definition_load(&def, repo, argv[i]) < 0) {
				cli_lib_error();
				goto unknown;
			}
			if (!(grown = realloc(defs, (ndefs + 1) * sizeof(*defs)))) {
				cc_definition_free(def);
				cli_error("out of memory");
				goto unknown;
			}
			defs = grown;
			defs[ndefs++] = def;
			if (cc_check_endpoints(def, 0, &eps, &neps) < 0) {
				cli_lib_error();
				goto unknown;
			}
			if (!def->nchecks && !def->ntargets) {
				cli_error("%s has no endpoint to check: give it --check HOST:PORT "
					  "(certctl define) or a target with a check", argv[i]);
				goto unknown;
			}
		}
	}
	if (!neps) {
		if (plugin) {
			printf("CERTCTL UNKNOWN - nothing to check: no definition has a monitored "
			       "endpoint\n");
			plugin_said = 1;
		} else
			cli_error("nothing to check: no definition has a monitored endpoint");
		goto unknown;
	}
	if (!(res = calloc(neps, sizeof(*res)))) {
		cli_error("out of memory");
		goto unknown;
	}
	opts.concurrency = (unsigned)concurrency;
	opts.timeout_ms = (long)timeout * 1000;
	opts.alpn = alpn;
	if (isatty(2) && !cli.quiet && !json && !plugin && neps > 1)
		opts.progress = progress;
	if (cc_check_run(repo, eps, neps, &opts, res) < 0) {
		cli_lib_error();
		goto unknown;
	}
	for (size_t i = 0; i < neps; i++)
		worst = i ? cc_status_worse(worst, res[i].status) : res[i].status;
	if (broken)
		worst = cc_status_worse(worst, CC_STATUS_UNKNOWN);
	if (repo && !no_record && cc_check_record(repo, res, neps) < 0)
		fprintf(stderr, "certctl: the results were not recorded: %s\n", cc_error_last());
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.check/1");
		cc_json_set_str(out, "status", cc_status_name(worst));
		for (size_t i = 0; i < neps; i++)
			cc_json_append(arr, cc_check_result_to_json(&res[i]));
		cc_json_set(out, "results", arr);
		cli_print_json(out);
	} else if (plugin) {
		long long w = 30, c = 7;

		/* Thresholds of the perfdata: the first definition's, else 30/7. */
		if (ndefs) {
			w = defs[0]->warning / 86400;
			c = defs[0]->critical / 86400;
		}
		print_plugin(res, neps, worst, w, c);
	} else {
		for (size_t i = 0; i < neps; i++) {
			const cc_check_result *r = &res[i];
			char ep[300];

			snprintf(ep, sizeof(ep), strchr(r->host, ':') ? "[%s]:%u" : "%s:%u", r->host,
				 r->port);
			cli_paint(stdout, cc_status_name(r->status), 8);
			printf(" %-24s %-28s %s\n", r->definition ? r->definition : "-", ep,
			       r->summary ? r->summary : "");
			for (size_t k = 0; cli.verbose && k < r->nfindings; k++) {
				printf("         ");
				cli_paint(stdout, cc_status_name(r->findings[k].status), 8);
				printf(" %-28s %s\n", r->findings[k].rule, r->findings[k].message);
			}
		}
	}
	rc = exit_of(worst);
	goto done;
unknown:
	rc = EXIT_PLUGIN_UNKNOWN;
	/* A plugin always says something on its one line. */
	if (plugin && !plugin_said)
		printf("CERTCTL UNKNOWN - %s\n", *cc_error_last() ? cc_error_last() :
		       "the check could not run (see the error above)");
done:
	if (res)
		for (size_t i = 0; i < neps; i++)
			cc_check_result_dispose(&res[i]);
	free(res);
	cc_check_endpoints_free(eps, neps);
	for (size_t i = 0; i < ndefs; i++)
		cc_definition_free(defs[i]);
	free(defs);
	free(hosts);
	cc_repo_free(repo);
	return rc;
}
