/*
 * certctl import: bring existing certificates (and their keys) under
 * management, from any file format; one commit for all.
 */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

struct import_args {
	const char *key, *name, *mode, *pass_file, *key_pass_file, *from, *sni, *select;
	cc_strlist chain;
	int json, from_discovery;
	unsigned long timeout; /* --from: seconds */
};

/* One imported certificate as JSON (certctl-json(7) certctl.import/1). */
static cc_json *import_record(const char *file, const char *server, const cc_import_result *r)
{
	cc_json *o = cc_json_object(), *v = cc_json_object();

	if (file)
		cc_json_set_str(o, "file", file);
	else
		cc_json_set_str(o, "server", server);
	cc_json_set_str(o, "definition", r->definition);
	cc_json_set_str(o, "certificate", r->cert_id);
	cc_json_set_bool(o, "created", r->created);
	cc_json_set_bool(o, "key", r->with_key);
	cc_json_set_int(o, "chain", (long long)r->chain_len);
	cc_json_set_str(o, "mode", cc_operation_mode_name(r->mode));
	cc_json_set_str(v, "status", cc_status_name(r->status));
	cc_json_set_str(v, "summary", r->summary);
	cc_json_set(o, "verification", v);
	return o;
}

/* What the verifier found, when it is not all OK: on the next line. */
static void verdict_text(cc_buf *out, const cc_import_result *r)
{
	if (r->completed)
		cc_buf_printf(out, "  the chain was completed with %zu intermediate%s of the trust "
			      "set\n", r->completed, r->completed == 1 ? "" : "s");
	if (r->status != CC_STATUS_OK)
		cc_buf_printf(out, "  %s: %s\n", cc_status_name(r->status), r->summary);
}

/* Read `path` into `b`; with `into`, append its certificates and key. */
static int read_bundle(cc_bundle *b, const char *path, const cc_secret *pass,
		       const cc_secret *key_pass)
{
	cc_buf data = CC_BUF_INIT;
	int rc = cli_read_file(path, 16 << 20, &data);

	if (rc)
		return rc;
	rc = cc_bundle_read(b, data.ptr, data.size, pass, key_pass, path) < 0 ? cli_lib_error() : 0;
	cc_buf_dispose_secure(&data);
	return rc;
}

/* Move `extra`'s key and certificates into `b` (the --key and --chain files). */
static int merge(cc_bundle *b, cc_bundle *extra, const char *path)
{
	cc_cert **grown;

	if (extra->key) {
		if (b->key)
			return cli_error("%s: the certificate file already holds a private key", path);
		b->key = extra->key;
		extra->key = NULL;
	}
	if (!extra->ncerts)
		return 0;
	grown = realloc(b->certs, (b->ncerts + extra->ncerts) * sizeof(*grown));
	if (!grown)
		return cli_error("out of memory");
	/* Before any trusted entries, which stay last. */
	memmove(grown + (b->ncerts - b->ntrusted) + extra->ncerts, grown + (b->ncerts - b->ntrusted),
		b->ntrusted * sizeof(*grown));
	memcpy(grown + (b->ncerts - b->ntrusted), extra->certs, extra->ncerts * sizeof(*grown));
	b->certs = grown;
	b->ncerts += extra->ncerts;
	free(extra->certs);
	extra->certs = NULL;
	extra->ncerts = 0;
	return 0;
}

/*
 * --from-discovery: each distinct certificate the report's selected
 * endpoints serve, not managed yet, becomes a definition (named from the
 * certificate) checked at the first endpoint it was seen on; one commit.
 */
static int import_discovery(const struct import_args *a, const char *report, int nargs)
{
	cc_repo *repo = NULL;
	cc_discovery *d = NULL;
	cc_txn *txn = NULL;
	cc_strlist done = CC_STRLIST_INIT;
	cc_buf summary = CC_BUF_INIT, out = CC_BUF_INIT;
	cc_json *results = NULL;
	size_t imported = 0;
	int rc = 0;

	if (nargs > 1 || a->key || a->chain.count || a->from || a->name || a->sni)
		return cli_usage_error("import", "--from-discovery takes one REPORT and no FILE, "
				       "--key, --chain, --from, --name or --sni");
	if (a->mode && strcmp(a->mode, "monitor"))
		return cli_usage_error("import", "what a scan found is imported monitored-only (no "
				       "key); --mode monitor");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_discovery_load(repo, report, &d) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (cc_txn_begin(&txn, repo, "import") < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (a->json)
		results = cc_json_array();
	for (size_t i = 0; i < d->nendpoints && rc == 0; i++) {
		const cc_check_result *e = &d->endpoints[i];
		cc_import_options opts = CC_IMPORT_OPTIONS_INIT;
		cc_import_result r;
		cc_bundle b;
		int selected = 0;

		if (cc_discovery_select(d, a->select, i, &selected) < 0) {
			rc = cli_usage_error("import", "%s", cc_error_last());
			break;
		}
		/* Each certificate once; what is managed already stays as it is. */
		if (!selected || d->managed[i] || !e->pem || cc_strlist_contains(&done, e->sha256))
			continue;
		{
			char *by = cc_cert_managed_by(repo, e->sha256);

			if (by) {
				if (!a->json) /* the document alone on standard output */
					cli_info("%s:%u: certificate already in definition %s\n",
						 e->host, e->port, by);
				free(by);
				continue;
			}
		}
		cc_strlist_add(&done, e->sha256);
		memset(&b, 0, sizeof(b));
		if (cc_cert_parse_all(&b.certs, &b.ncerts, e->pem, strlen(e->pem), d->id) < 0) {
			rc = cli_lib_error();
			break;
		}
		/* A server that sends a certificate twice sent it once. */
		for (size_t x = 1; x < b.ncerts; x++)
			for (size_t y = 0; y < x; y++)
				if (!strcmp(cc_cert_sha256(b.certs[x]), cc_cert_sha256(b.certs[y]))) {
					cc_cert_free(b.certs[x]);
					memmove(b.certs + x, b.certs + x + 1,
						(b.ncerts - x - 1) * sizeof(*b.certs));
					b.ncerts--;
					x--;
					break;
				}
		b.format = "tls";
		opts.source = d->id;
		opts.mode = CC_MODE_MONITOR;
		opts.check_host = e->host;
		opts.check_port = e->port;
		opts.check_sni = e->sni;
		if (cc_import(txn, &b, &opts, &r) < 0) {
			rc = cli_error("%s:%u: %s", e->host, e->port, cc_error_last());
			cc_bundle_dispose(&b);
			break;
		}
		cc_bundle_dispose(&b);
		imported++;
		cc_txn_trailer(txn, "Certctl-Definition", r.definition);
		cc_buf_printf(&out, "%s: certificate %s imported from %s:%u (%s)\n", r.definition,
			      r.cert_id, e->host, e->port, cc_operation_mode_name(r.mode));
		verdict_text(&out, &r);
		if (results) {
			char ep[300];

			snprintf(ep, sizeof(ep), "%s:%u", e->host, e->port);
			cc_json_append(results, import_record(NULL, ep, &r));
		}
	}
	if (rc == 0 && !imported) {
		rc = cli_error("nothing to import: no selected certificate of report %s is "
			       "unmanaged", d->id);
	}
	if (rc) {
		cc_txn_abort(txn);
		txn = NULL;
		goto done;
	}
	cc_buf_printf(&summary, "import: %zu certificate%s from discovery %s", imported,
		      imported == 1 ? "" : "s", d->id);
	cc_txn_trailer(txn, "Certctl-Discovery", d->id);
	if (cc_txn_commit(txn, summary.ptr, NULL) < 0) {
		txn = NULL;
		rc = cli_lib_error();
		goto done;
	}
	txn = NULL;
	if (results) {
		cc_json *o = cc_json_object();

		cc_json_set_str(o, "schema", "certctl.import/1");
		cc_json_set(o, "imported", results);
		results = NULL;
		rc = cli_print_json(o) ? EXIT_FAIL : EXIT_OK;
	} else {
		cli_info("%s", cc_buf_cstr(&out));
	}
done:
	cc_txn_abort(txn);
	cc_json_free(results);
	cc_discovery_free(d);
	cc_strlist_dispose(&done);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&out);
	cc_repo_free(repo);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	struct import_args a;
	cc_import_options opts = CC_IMPORT_OPTIONS_INIT;
	cc_secret *pass = NULL, *key_pass = NULL;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_json *results = NULL;
	cc_buf summary = CC_BUF_INIT, names = CC_BUF_INIT, report = CC_BUF_INIT;
	size_t imported = 0;
	int first, rc;

	memset(&a, 0, sizeof(a));
	a.timeout = 10;
	{
		const struct cli_opt options[] = {
			OPT_STR(0, "key", &a.key, "FILE", "the private key (any PEM or DER form), with "
				"one FILE"),
			OPT_MULTI(0, "chain", &a.chain, "FILE", "intermediate certificates, with one FILE "
				  "(repeatable)"),
			OPT_STR(0, "name", &a.name, "NAME", "the definition (default: the certificate's "
				"host name); an existing one gets the certificate"),
			OPT_STR(0, "mode", &a.mode, "M", "lifecycle or monitor (default: lifecycle "
				"with a key, else monitor)"),
			OPT_STR(0, "passphrase-file", &a.pass_file, "FILE", "password of encrypted "
				"keys and keystores (else $CERTCTL_IMPORT_PASSPHRASE[_FILE])"),
			OPT_STR(0, "key-passphrase-file", &a.key_pass_file, "FILE", "a JKS key entry's "
				"own password, when it differs"),
			OPT_STR(0, "from", &a.from, "HOST:PORT", "import the chain a TLS server presents "
				"(monitored only)"),
			OPT_STR(0, "sni", &a.sni, "NAME", "with --from: the server name to ask for "
				"(default: HOST)"),
			OPT_NUM(0, "timeout", &a.timeout, "SECONDS", "with --from: time limit of the "
				"connection and handshake (1 to 300, default 10)"),
			OPT_BOOL(0, "from-discovery", &a.from_discovery, "import what a discovery "
				 "report found (the newest, or the REPORT id given)"),
			OPT_STR(0, "select", &a.select, "FILTER", "with --from-discovery: all "
				"(default), unmanaged, or KEY=VALUE,... (status, rule, host, port, subject, "
				"issuer)"),
			OPT_BOOL(0, "json", &a.json, "print what was imported as JSON"),
			OPT_DONE(),
		};

		rc = cli_parse(argc, argv, options,
			       "certctl import FILE... [--key FILE] [--chain FILE]... [--name NAME] "
			       "[--mode lifecycle|monitor]\n"
			       "       certctl import --from HOST:PORT [--sni NAME] [--timeout S] [--name NAME]\n"
			       "       certctl import --from-discovery [REPORT] [--select FILTER]",
			       "Import existing certificates (PEM, DER, P7B, PKCS#12, JKS; found by "
			       "content) with their chains and keys as definitions' current "
			       "certificates; one commit for all.", &first);
	}
	if (rc)
		goto out;
	if (a.from_discovery) {
		rc = import_discovery(&a, argc - first > 0 ? argv[first] : NULL, argc - first);
		goto out;
	}
	if (a.select) {
		rc = cli_usage_error("import", "--select goes with --from-discovery");
		goto out;
	}
	if (a.from && (first < argc || a.key || a.chain.count)) {
		rc = cli_usage_error("import", "--from takes no FILE, --key or --chain");
		goto out;
	}
	if ((a.sni || a.timeout != 10) && !a.from) {
		rc = cli_usage_error("import", "--sni and --timeout go with --from");
		goto out;
	}
	if (a.timeout < 1 || a.timeout > 300) {
		rc = cli_usage_error("import", "--timeout is 1 to 300 seconds");
		goto out;
	}
	if (a.from && a.mode && strcmp(a.mode, "monitor")) {
		rc = cli_usage_error("import", "a server's certificate is imported monitored-only "
				     "(no key)");
		goto out;
	}
	if (first >= argc && !a.from) {
		rc = cli_usage_error("import", "missing FILE (or --from HOST:PORT)");
		goto out;
	}
	if ((a.key || a.chain.count || a.name) && argc - first != 1 && !a.from) {
		rc = cli_usage_error("import", "--key, --chain and --name go with one FILE");
		goto out;
	}
	if (a.mode && strcmp(a.mode, "lifecycle") && strcmp(a.mode, "monitor")) {
		rc = cli_usage_error("import", "--mode is lifecycle or monitor");
		goto out;
	}
	opts.name = a.name;
	opts.mode = !a.mode ? -1 : !strcmp(a.mode, "lifecycle") ? CC_MODE_LIFECYCLE : CC_MODE_MONITOR;
	if ((rc = cli_passphrase(&pass, a.pass_file, "CERTCTL_IMPORT_PASSPHRASE", 0)) ||
	    (a.key_pass_file && (rc = cli_passphrase(&key_pass, a.key_pass_file, "CERTCTL_IMPORT_KEY_PASSPHRASE", 1))))
		goto out;
	if ((rc = cli_open_repo(&repo)))
		goto out;
	if (cc_repo_unlock(repo) < 0 || cc_txn_begin(&txn, repo, "import") < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (a.json)
		results = cc_json_array();
	if (a.from) {
		char host[256];
		unsigned port;
		cc_bundle b;
		cc_import_result r;

		memset(&b, 0, sizeof(b));
		if (cc_hostport_parse(a.from, host, sizeof(host), &port) < 0 ||
		    cc_tls_fetch_chain(host, port, a.sni ? a.sni : host,
				       (long)a.timeout * 1000, &b.certs,
				       &b.ncerts) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		b.format = "tls";
		opts.source = a.from;
		opts.mode = CC_MODE_MONITOR;
		opts.check_host = host;
		opts.check_port = port;
		opts.check_sni = a.sni;
		rc = cc_import(txn, &b, &opts, &r) < 0 ? cli_lib_error() : 0;
		cc_bundle_dispose(&b);
		if (rc)
			goto done;
		imported = 1;
		cc_buf_printf(&names, "%s", r.definition);
		cc_buf_printf(&report, "%s: certificate %s imported from %s (monitored only, chain of "
			      "%zu, checked at %s)\n", r.definition, r.cert_id, a.from, r.chain_len,
			      a.from);
		cc_txn_trailer(txn, "Certctl-Definition", r.definition);
		cc_txn_trailer(txn, "Certctl-Certificate", r.cert_id);
		verdict_text(&report, &r);
		if (results)
			cc_json_append(results, import_record(NULL, a.from, &r));
	}
	for (int i = first; i < argc && rc == 0; i++) {
		cc_bundle b, extra;
		cc_import_result r;

		memset(&extra, 0, sizeof(extra));
		if ((rc = read_bundle(&b, argv[i], pass, key_pass)))
			break;
		if (a.key && (rc = read_bundle(&extra, a.key, pass, key_pass)) == 0)
			rc = merge(&b, &extra, a.key);
		cc_bundle_dispose(&extra);
		for (size_t k = 0; rc == 0 && k < a.chain.count; k++) {
			if ((rc = read_bundle(&extra, a.chain.items[k], pass, NULL)) == 0)
				rc = merge(&b, &extra, a.chain.items[k]);
			cc_bundle_dispose(&extra);
		}
		opts.source = argv[i];
		if (rc == 0 && cc_import(txn, &b, &opts, &r) < 0)
			rc = cli_lib_error();
		cc_bundle_dispose(&b);
		if (rc)
			break;
		imported++;
		cc_buf_printf(&names, "%s%s", imported > 1 ? ", " : "", r.definition);
		cc_buf_printf(&report, "%s: certificate %s imported from %s as '%s' (%s%s, %s, chain "
			      "of %zu)\n", r.definition, r.cert_id, argv[i], r.definition,
			      r.created ? "new definition, " : "",
			      r.mode == CC_MODE_MONITOR ? "monitored only" : "lifecycle",
			      r.with_key ? "with its key" : "no key", r.chain_len);
		verdict_text(&report, &r);
		if (results)
			cc_json_append(results, import_record(argv[i], NULL, &r));
		if (imported == 1)
			cc_txn_trailer(txn, "Certctl-Definition", r.definition);
		cc_txn_trailer(txn, "Certctl-Certificate", r.cert_id);
	}
	if (rc)
		goto done;
	if (imported == 1)
		cc_buf_printf(&summary, "import: %s: certificate from %s", names.ptr,
			      a.from ? a.from : argv[first]);
	else
		cc_buf_printf(&summary, "import: %zu certificates (%s)", imported, names.ptr);
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	txn = NULL;
	if (rc < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (results) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.import/1");
		cc_json_set(out, "imported", results);
		results = NULL;
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
	} else {
		cli_info("%s", cc_buf_cstr(&report));
	}
done:
	cc_txn_abort(txn);
	cc_json_free(results);
	cc_repo_free(repo);
out:
	cc_secret_free(pass);
	cc_secret_free(key_pass);
	cc_strlist_dispose(&a.chain);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&names);
	cc_buf_dispose(&report);
	return rc;
}
