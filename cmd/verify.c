/*
 * certctl verify: verify a certificate file or what a server presents,
 * with the verifier every other command uses, and print each rule's verdict.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

/* Read every certificate of a file ("-": standard input). */
static int read_certs(const char *path, cc_cert ***out, size_t *n)
{
	cc_buf data = CC_BUF_INIT;
	int rc;

	if ((rc = cli_read_file(path, 16 << 20, &data)))
		return rc;
	if (cc_cert_parse_all(out, n, data.ptr, data.size, path) < 0)
		rc = cli_lib_error();
	cc_buf_dispose(&data);
	return rc;
}

/* Append the certificates of each file of `files` to *all. */
static int read_cert_files(const cc_strlist *files, cc_cert ***all, size_t *n)
{
	for (size_t i = 0; i < files->count; i++) {
		cc_cert **certs = NULL, **grown;
		size_t count = 0;
		int rc;

		if ((rc = read_certs(files->items[i], &certs, &count)))
			return rc;
		if (!(grown = realloc(*all, (*n + count) * sizeof(*grown)))) {
			cc_cert_list_free(certs, count);
			return cli_error("out of memory");
		}
		*all = grown;
		memcpy(*all + *n, certs, count * sizeof(*certs));
		*n += count;
		free(certs);
	}
	return 0;
}

/* "2026-11-24T10:00:00Z" or "@SECONDS". */
static int parse_time(const char *text, time_t *out)
{
	if (text[0] == '@') {
		char *e;
		long long v = strtoll(text + 1, &e, 10);

		if (e == text + 1 || *e)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	if (cc_time_parse_rfc3339(out, text) < 0) {
		cc_error_clear();
		return -1;
	}
	return 0;
}

static int exit_of(cc_status status)
{
	return status == CC_STATUS_OK ? 0 : status == CC_STATUS_WARNING ? 1 :
	       status == CC_STATUS_CRITICAL ? 2 : 3;
}

int cmd_verify(int argc, char **argv)
{
	const char *policy = NULL, *host = NULL, *set = NULL, *revocation = NULL, *at = NULL;
	const char *sni = NULL;
	cc_strlist ca_files = CC_STRLIST_INIT, untrusted_files = CC_STRLIST_INIT;
	cc_strlist crl_files = CC_STRLIST_INIT, allow = CC_STRLIST_INIT, policies = CC_STRLIST_INIT;
	int json = 0, no_fetch = 0, explicit_policy = 0, first, rc;
	unsigned long timeout = 10;
	cc_repo *repo = NULL;
	cc_cert **given = NULL, **anchors = NULL, **extra = NULL, **untrusted = NULL;
	size_t ngiven = 0, nanchors = 0, nextra = 0;
	cc_probe_result probed;
	cc_verify_options opts = CC_VERIFY_OPTIONS_INIT;
	cc_verify_report report;
	const struct cli_opt options[] = {
		OPT_STR(0, "policy", &policy, "POLICY", "webpki or rfc5280 (default: the trust set's "
			"policy, else webpki)"),
		OPT_STR(0, "host", &host, "NAME", "the name or address the certificate must be "
			"for (default: HOST of HOST:PORT)"),
		OPT_STR(0, "sni", &sni, "NAME", "the server name to send (default: HOST)"),
		OPT_STR(0, "trust-set", &set, "SET", "trust this set of the repository (default: "
			"the default set)"),
		OPT_MULTI(0, "ca", &ca_files, "FILE", "trust only the CAs in FILE (repeatable)"),
		OPT_MULTI(0, "untrusted", &untrusted_files, "FILE", "intermediates to build the "
			  "path with (repeatable)"),
		OPT_MULTI(0, "crl", &crl_files, "FILE", "a CRL to check revocation with "
			  "(repeatable)"),
		OPT_STR(0, "revocation", &revocation, "MODE", "soft (unknown is a WARNING), hard "
			"(unknown is CRITICAL) or off (default: the trust set's, else soft)"),
		OPT_BOOL(0, "no-fetch", &no_fetch, "fetch no intermediate (AIA) or CRL, ask no OCSP responder"),
		OPT_MULTI(0, "allow", &allow, "RULE", "accept a rule's failure (repeatable)"),
		OPT_MULTI(0, "initial-policy", &policies, "OID", "a certificate policy acceptable "
			  "(repeatable; default: any policy)"),
		OPT_BOOL(0, "explicit-policy", &explicit_policy, "require a path valid for an "
			 "acceptable policy"),
		OPT_STR(0, "at", &at, "TIME", "verify as of TIME (2026-11-24T10:00:00Z or @SECONDS)"),
		OPT_NUM(0, "timeout", &timeout, "SECONDS", "time limit for HOST:PORT (default 10)"),
		OPT_BOOL(0, "json", &json, "print the report as JSON"),
		OPT_DONE(),
	};

	memset(&probed, 0, sizeof(probed));
	memset(&report, 0, sizeof(report));
	if ((rc = cli_parse(argc, argv, options,
			    "certctl verify FILE | HOST:PORT [--host NAME] [--policy webpki|rfc5280] "
			    "[--ca FILE] [--crl FILE] [--json]",
			    "Verify a certificate (the first of FILE, with the rest as its chain) or "
			    "what a server presents: the path to a trust anchor, revocation, and the "
			    "web-PKI rules. Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
			    &first))) {
		goto done;
	}
	if (argc - first != 1) {
		rc = cli_usage_error("verify", "give one FILE or HOST:PORT");
		goto done;
	}
	/* A repository is optional: its trust set (unless --ca), the trust
	 * set's policy and revocation mode (unless options say), its cache. */
	if (cc_repo_open(&repo, cli.repo_dir, 0) < 0) {
		repo = NULL;
		cc_error_clear();
	}
	if (repo && !ca_files.count) {
		if (cc_verify_set_policy(repo, set, &opts) < 0) {
			cli_lib_error();
			rc = 3;
			goto done;
		}
	}
	if ((policy && cc_verify_policy_parse(&opts.policy, policy) < 0) ||
	    (at && parse_time(at, &opts.at) < 0 &&
	     cc_error_set(CC_EINVALID, "--at '%s': give 2026-11-24T10:00:00Z or @SECONDS", at)) ||
	    (revocation && strcmp(revocation, "soft") && strcmp(revocation, "hard") &&
	     strcmp(revocation, "off") &&
	     cc_error_set(CC_EINVALID, "--revocation '%s': soft, hard or off", revocation) < 0) ||
	    !timeout || timeout > 300) {
		if (!timeout || timeout > 300)
			cc_error_set(CC_EINVALID, "--timeout: 1 to 300 seconds");
		rc = cli_usage_error("verify", "%s", cc_error_last());
		goto done;
	}
	if (revocation)
		opts.revocation = !strcmp(revocation, "hard") ? CC_REVOCATION_HARD :
				  !strcmp(revocation, "off") ? CC_REVOCATION_OFF : CC_REVOCATION_SOFT;
	if ((rc = read_cert_files(&ca_files, &anchors, &nanchors)) ||
	    (rc = read_cert_files(&untrusted_files, &extra, &nextra))) {
		rc = 3;
		goto done;
	}
	{
		char hostbuf[256];
		unsigned port;
		const char *arg = argv[first];

		/* An existing file wins over a name that looks like HOST:PORT. */
		if (!strcmp(arg, "-") || access(arg, F_OK) == 0 ||
		    cc_hostport_parse(arg, hostbuf, sizeof(hostbuf), &port) < 0) {
			cc_error_clear();
			if ((rc = read_certs(arg, &given, &ngiven))) {
				rc = 3;
				goto done;
			}
		} else {
			cc_probe probe = { 0 };

			probe.host = hostbuf;
			probe.port = port;
			probe.sni = sni ? sni : cc_ip_valid(hostbuf) ? NULL : hostbuf;
			probe.timeout_ms = (long)timeout * 1000;
			if (cc_probe_run(&probe, 1, 1, 0, &probed, NULL, NULL) < 0 || probed.rc < 0) {
				cli_error("%s", probed.error ? probed.error : cc_error_last());
				rc = 2; /* a server that cannot be reached is CRITICAL, as in check */
				goto done;
			}
			if (!host)
				host = sni ? sni : hostbuf;
			given = probed.chain;
			ngiven = probed.nchain;
			opts.ocsp_stapled = probed.ocsp;
			opts.ocsp_stapled_len = probed.ocsp_len;
		}
	}
	/* The path may use what came with the leaf and what --untrusted gave. */
	if (!(untrusted = calloc(ngiven + nextra + 1, sizeof(*untrusted)))) {
		cli_error("out of memory");
		rc = 3;
		goto done;
	}
	memcpy(untrusted, given + 1, (ngiven - 1) * sizeof(*given));
	if (nextra) /* extra is NULL without --untrusted: no memcpy from NULL */
		memcpy(untrusted + ngiven - 1, extra, nextra * sizeof(*extra));
	opts.untrusted = untrusted;
	opts.nuntrusted = ngiven - 1 + nextra;
	opts.anchors = anchors;
	opts.nanchors = nanchors;
	opts.trust_set = set;
	opts.crl_files = (const char *const *)crl_files.items;
	opts.ncrl_files = crl_files.count;
	opts.host = host;
	opts.no_fetch = no_fetch;
	opts.allowed = &allow;
	opts.policies = (const char *const *)policies.items;
	opts.npolicies = policies.count;
	opts.explicit_policy = explicit_policy;
	if (cc_verify(repo, given[0], &opts, &report) < 0) {
		cli_lib_error();
		rc = 3;
		goto done;
	}
	if (json) {
		cc_json *out = cc_verify_report_to_json(&report);

		if (out) {
			cc_json_set_str(out, "schema", "certctl.verify/1");
			cc_json_set_str(out, "policy", cc_verify_policy_name(opts.policy));
		}
		if (cli_print_json(out)) {
			rc = 3;
			goto done;
		}
	} else {
		for (size_t i = 0; i < report.nfindings; i++) {
			const cc_verify_finding *f = &report.findings[i];

			if (f->status == CC_STATUS_OK && !f->allowed && !cli.verbose &&
			    report.status != CC_STATUS_OK)
				continue;
			cli_paint(stdout, cc_status_name(f->status), 8);
			printf(" %-32s %s%s\n", f->rule, f->allowed ? "allowed: " : "", f->message);
		}
		if (cli.verbose)
			for (size_t i = 0; i < report.path_len; i++)
				printf("path %zu: %s\n", i, cc_cert_subject(report.path[i]));
	}
	rc = exit_of(report.status);
done:
	cc_verify_report_dispose(&report);
	if (given != probed.chain)
		cc_cert_list_free(given, ngiven);
	cc_probe_result_dispose(&probed);
	cc_cert_list_free(anchors, nanchors);
	free(untrusted);
	cc_cert_list_free(extra, nextra);
	cc_strlist_dispose(&ca_files);
	cc_strlist_dispose(&untrusted_files);
	cc_strlist_dispose(&crl_files);
	cc_strlist_dispose(&allow);
	cc_strlist_dispose(&policies);
	cc_repo_free(repo);
	return rc;
}
