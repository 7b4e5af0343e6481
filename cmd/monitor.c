/*
 * certctl monitor: the cron job.  Checks every monitored endpoint at once
 * (one event loop), records the results, renews what is due for
 * unattended definitions and deploys it, and writes a node-exporter
 * textfile.  Exit status as `check`: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

#define EXIT_PLUGIN_UNKNOWN 3

/* Which of N machines monitors a definition: FNV-1a of its name. */
static unsigned shard_of(const char *name, unsigned n)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (unsigned)(h % n);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void prom_value(cc_buf *out, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			cc_buf_putc(out, '\\');
		if (*v == '\n') {
			cc_buf_puts(out, "\\n");
			continue;
		}
		cc_buf_putc(out, *v);
	}
}

static void prom_labels(cc_buf *out, const cc_check_result *r)
{
	char port[16];

	snprintf(port, sizeof(port), "%u", r->port);
	cc_buf_puts(out, "{definition=\"");
	prom_value(out, r->definition ? r->definition : "");
	cc_buf_puts(out, "\",host=\"");
	prom_value(out, r->host);
	cc_buf_puts(out, "\",port=\"");
	cc_buf_puts(out, port);
	cc_buf_puts(out, "\",target=\"");
	prom_value(out, r->target ? r->target : "");
	cc_buf_puts(out, "\"}");
}

static int write_prometheus(const char *path, const cc_check_result *res, size_t n,
			    const cc_renew_result *ren, size_t nren)
{
	cc_buf out = CC_BUF_INIT, tmp = CC_BUF_INIT;
	FILE *f;
	int rc = 0;

	cc_buf_puts(&out, "# HELP certctl_certificate_expiry_timestamp_seconds When the "
		    "certificate an endpoint presents expires.\n"
		    "# TYPE certctl_certificate_expiry_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		if (!res[i].not_after)
			continue;
		cc_buf_puts(&out, "certctl_certificate_expiry_timestamp_seconds");
		prom_labels(&out, &res[i]);
		cc_buf_printf(&out, " %lld\n", res[i].expires);
	}
	cc_buf_puts(&out, "# HELP certctl_check_status The last check of an endpoint: 0 OK, "
		    "1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n# TYPE certctl_check_status gauge\n");
	for (size_t i = 0; i < n; i++) {
		cc_buf_puts(&out, "certctl_check_status");
		prom_labels(&out, &res[i]);
		cc_buf_printf(&out, " %d\n", (int)res[i].status);
	}
	cc_buf_puts(&out, "# HELP certctl_check_handshake_seconds How long the TLS handshake "
		    "took.\n# TYPE certctl_check_handshake_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		if (!res[i].not_after)
			continue;
		cc_buf_puts(&out, "certctl_check_handshake_seconds");
		prom_labels(&out, &res[i]);
		cc_buf_printf(&out, " %.3f\n", (double)res[i].handshake_ms / 1000.0);
	}
	cc_buf_puts(&out, "# HELP certctl_renewal_failed Whether the last unattended renewal or "
		    "deployment of a definition failed (1) or waits for a person (2).\n"
		    "# TYPE certctl_renewal_failed gauge\n");
	for (size_t i = 0; i < nren; i++) {
		if (ren[i].action == CC_RENEW_SKIPPED)
			continue;
		cc_buf_puts(&out, "certctl_renewal_failed{definition=\"");
		prom_value(&out, ren[i].definition);
		cc_buf_printf(&out, "\"} %d\n", ren[i].action == CC_RENEW_FAILED ? 1 :
			      ren[i].action == CC_RENEW_WAITING ? 2 : 0);
	}
	cc_buf_printf(&out, "# HELP certctl_monitor_last_run_timestamp_seconds When certctl "
		      "monitor last ran.\n# TYPE certctl_monitor_last_run_timestamp_seconds gauge\n"
		      "certctl_monitor_last_run_timestamp_seconds %lld\n", (long long)time(NULL));
	/* The exporter must never read half a file: write beside, rename. */
	cc_buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	if (!(f = fopen(tmp.ptr, "w")) || fwrite(out.ptr, 1, out.size, f) != out.size ||
	    fclose(f) != 0 || rename(tmp.ptr, path) < 0) {
		rc = cli_error("cannot write %s", path);
		unlink(tmp.ptr);
	}
	cc_buf_dispose(&out);
	cc_buf_dispose(&tmp);
	return rc;
}

int cmd_monitor(int argc, char **argv)
{
	const char *prometheus = NULL, *shard = NULL;
	unsigned long timeout = 10, concurrency = 64;
	int no_renew = 0, no_notify = 0, notified = 0, dry = 0, json = 0, first, rc;
	unsigned shard_i = 0, shard_n = 1;
	cc_repo *repo = NULL;
	cc_strlist names = CC_STRLIST_INIT, mine = CC_STRLIST_INIT;
	cc_definition **defs = NULL;
	size_t ndefs = 0, neps = 0, nren = 0;
	cc_check_endpoint *eps = NULL;
	cc_check_result *res = NULL;
	cc_renew_result *ren = NULL;
	cc_check_options copts = CC_CHECK_OPTIONS_INIT;
	cc_status worst = CC_STATUS_OK;
	const struct cli_opt options[] = {
		OPT_NUM(0, "concurrency", &concurrency, "N", "endpoints checked at once (default 64)"),
		OPT_NUM(0, "timeout", &timeout, "SECONDS", "time limit per endpoint (default 10)"),
		OPT_BOOL(0, "no-renew", &no_renew, "check only: no unattended renewal or deployment"),
		OPT_BOOL(0, "no-notify", &no_notify, "send no notification"),
		OPT_BOOL('n', "dry-run", &dry, "check without recording; say what renewal would do"),
		OPT_STR(0, "prometheus", &prometheus, "FILE", "write a node-exporter textfile"),
		OPT_STR(0, "shard", &shard, "I/N", "take the I-th of N shares of the definitions "
			"(several machines, one repository)"),
		OPT_BOOL(0, "json", &json, "print the results as JSON"),
		OPT_DONE(),
	};

	rc = cli_parse(argc, argv, options,
		       "certctl monitor [--concurrency N] [--timeout S] [--no-renew] [--no-notify] "
		       "[--dry-run] [--prometheus FILE] [--shard I/N] [--json]",
		       "Check every monitored endpoint, record the results, renew and deploy what "
		       "is due for unattended definitions. Exit status: 0 OK, 1 WARNING, "
		       "2 CRITICAL, 3 UNKNOWN.", &first);
	if (rc)
		return rc == EXIT_USAGE ? EXIT_PLUGIN_UNKNOWN : rc;
	if (first < argc) {
		cli_usage_error("monitor", "unexpected argument '%s'", argv[first]);
		return EXIT_PLUGIN_UNKNOWN;
	}
	if (timeout < 1 || timeout > 300 || concurrency < 1 || concurrency > 10000) {
		cli_usage_error("monitor", "--timeout is 1 to 300 seconds, --concurrency 1 to 10000");
		return EXIT_PLUGIN_UNKNOWN;
	}
	if (shard) {
		char extra;

		if (sscanf(shard, "%u/%u%c", &shard_i, &shard_n, &extra) != 2 || shard_n < 1 ||
		    shard_i < 1 || shard_i > shard_n) {
			cli_usage_error("monitor", "--shard is I/N with 1 <= I <= N, e.g. 2/3");
			return EXIT_PLUGIN_UNKNOWN;
		}
		shard_i--;
	}
	if (cli_open_repo(&repo))
		return EXIT_PLUGIN_UNKNOWN;
	if (cc_definition_names(repo, &names) < 0) {
		cli_lib_error();
		goto unknown;
	}
	if (!(defs = calloc(names.count + 1, sizeof(*defs)))) {
		cli_error("out of memory");
		goto unknown;
	}
	for (size_t i = 0; i < names.count; i++) {
		if (shard_n > 1 && shard_of(names.items[i], shard_n) != shard_i)
			continue;
		if (cc_definition_load(&defs[ndefs], repo, names.items[i]) < 0) {
			/* One broken definition does not stop the others. */
			fprintf(stderr, "certctl: %s\n", cc_error_last());
			worst = CC_STATUS_UNKNOWN;
			continue;
		}
		cc_strlist_add(&mine, names.items[i]);
		if (cc_check_endpoints(defs[ndefs], 1, &eps, &neps) < 0) {
			cli_lib_error();
			goto unknown;
		}
		ndefs++;
	}
	if (neps) {
		if (!(res = calloc(neps, sizeof(*res)))) {
			cli_error("out of memory");
			goto unknown;
		}
		copts.concurrency = (unsigned)concurrency;
		copts.timeout_ms = (long)timeout * 1000;
		if (cc_check_run(repo, eps, neps, &copts, res) < 0) {
			cli_lib_error();
			goto unknown;
		}
		for (size_t i = 0; i < neps; i++)
			worst = cc_status_worse(worst, res[i].status);
		if (!dry && cc_check_record(repo, res, neps) < 0) {
			fprintf(stderr, "certctl: the results were not recorded: %s\n", cc_error_last());
			worst = cc_status_worse(worst, CC_STATUS_UNKNOWN);
		}
	}
	if (!no_renew) {
		size_t cap = 0;

		for (size_t i = 0; i < ndefs; i++)
			cap += defs[i]->npeers ? defs[i]->npeers : 1;
		if (cap && !(ren = calloc(cap, sizeof(*ren)))) {
			cli_error("out of memory");
			goto unknown;
		}
		for (size_t i = 0; i < ndefs; i++) {
			cc_renew_options ropts = CC_RENEW_OPTIONS_INIT;
			size_t np = defs[i]->npeers;

			ropts.dry_run = dry;
			for (size_t p = 0; p < (np ? np : 1); p++) {
				char ref[300];

				snprintf(ref, sizeof(ref), np ? "%s@%s" : "%s", defs[i]->name,
					 np ? defs[i]->peers[p].name : "");
				cc_renew(repo, ref, &ropts, &ren[nren]);
				if (ren[nren].action == CC_RENEW_FAILED)
					worst = cc_status_worse(worst, CC_STATUS_CRITICAL);
				else if (ren[nren].action == CC_RENEW_WAITING && !dry)
					worst = cc_status_worse(worst, CC_STATUS_WARNING);
				nren++;
			}
		}
	}
	if (!dry && !no_notify && cc_notify_monitor(repo, res, neps, ren, nren, &notified) < 0) {
		fprintf(stderr, "certctl: notification: %s\n", cc_error_last());
		worst = cc_status_worse(worst, CC_STATUS_UNKNOWN);
	}
	if (!dry && !no_notify && shard_i == 0) {
		int reported = 0;

		/* The daily report: one machine (the first shard) sends it. */
		if (cc_notify_daily(repo, &reported) < 0)
			fprintf(stderr, "certctl: daily report: %s\n", cc_error_last());
		notified |= reported;
	}
	if (prometheus && write_prometheus(prometheus, res, neps, ren, nren))
		worst = cc_status_worse(worst, CC_STATUS_UNKNOWN);
	if (json) {
		cc_json *out = cc_json_object(), *checks = cc_json_array(), *renewals = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.monitor/1");
		cc_json_set_str(out, "status", cc_status_name(worst));
		for (size_t i = 0; i < neps; i++)
			cc_json_append(checks, cc_check_result_to_json(&res[i]));
		for (size_t i = 0; i < nren; i++) {
			cc_json *r = cc_json_object();

			cc_json_set_str(r, "definition", ren[i].definition);
			cc_json_set_str(r, "action", cc_renew_action_name(ren[i].action));
			cc_json_set_str(r, "message", ren[i].message);
			cc_json_set_str(r, "request", ren[i].request);
			cc_json_set_str(r, "cert", ren[i].cert);
			cc_json_append(renewals, r);
		}
		cc_json_set(out, "checks", checks);
		cc_json_set(out, "renewals", renewals);
		cc_json_set_bool(out, "notified", notified);
		cli_print_json(out);
	} else {
		for (size_t i = 0; i < neps; i++) {
			const cc_check_result *r = &res[i];

			if (r->status == CC_STATUS_OK && !cli.verbose)
				continue;
			printf("%-8s %-24s %s:%u  %s\n", cc_status_name(r->status),
			       r->definition ? r->definition : "-", r->host, r->port,
			       r->summary ? r->summary : "");
		}
		for (size_t i = 0; i < nren; i++) {
			if ((ren[i].action == CC_RENEW_SKIPPED || ren[i].action == CC_RENEW_NOT_DUE) &&
			    !cli.verbose)
				continue;
			printf("%-8s %-24s %s\n", cc_renew_action_name(ren[i].action),
			       ren[i].definition, ren[i].message ? ren[i].message : "");
		}
		if (!cli.quiet)
			printf("monitor: %zu endpoint%s of %zu definition%s checked%s: %s%s\n", neps,
			       neps == 1 ? "" : "s", ndefs, ndefs == 1 ? "" : "s",
			       shard ? " (this shard)" : "", cc_status_name(worst),
			       notified ? "; notification sent" : "");
	}
	rc = worst == CC_STATUS_OK ? 0 : worst == CC_STATUS_WARNING ? 1 :
	     worst == CC_STATUS_CRITICAL ? 2 : 3;
	goto done;
unknown:
	rc = EXIT_PLUGIN_UNKNOWN;
done:
	if (res)
		for (size_t i = 0; i < neps; i++)
			cc_check_result_dispose(&res[i]);
	free(res);
	for (size_t i = 0; i < nren; i++)
		cc_renew_result_dispose(&ren[i]);
	free(ren);
	cc_check_endpoints_free(eps, neps);
	for (size_t i = 0; i < ndefs; i++)
		cc_definition_free(defs[i]);
	free(defs);
	cc_strlist_dispose(&names);
	cc_strlist_dispose(&mine);
	cc_repo_free(repo);
	return rc;
}
