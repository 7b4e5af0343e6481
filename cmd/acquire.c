/*
 * certctl acquire: start, follow and finish a definition's acquisition
 * from its provider (builtin CA, any external CA by CSR, ACME).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

struct acquire_args {
	const char *key_id, *provider, *csr_out, *csr_format, *receive, *trust_set;
	cc_strlist chain, set;
	int reuse_key, show_csr, cancel, resume, no_switch, json, force;
};

struct acquire_run {
	struct acquire_args *a;
	cc_repo *repo;
	cc_definition *def;
	cc_request *req;
	cc_cert *cert;
	cc_strlist warnings;
	const char *did; /* what happened, for the output */
};

/* Commit `txn` with "acquire: DEF: WHAT" and the request's trailers. */
static int commit(struct acquire_run *run, cc_txn *txn, const char *what)
{
	cc_buf summary = CC_BUF_INIT;
	int rc;

	cc_buf_printf(&summary, "acquire: %s: %s", run->def->name, what);
	if (cc_txn_trailer(txn, "Certctl-Definition", run->def->name) < 0 ||
	    cc_txn_trailer(txn, "Certctl-Request", run->req->id) < 0 ||
	    (run->cert && cc_txn_trailer(txn, "Certctl-Certificate", cc_cert_id(run->cert)) < 0)) {
		cc_txn_abort(txn);
		cc_buf_dispose(&summary);
		return cli_lib_error();
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	cc_buf_dispose(&summary);
	return rc < 0 ? cli_lib_error() : 0;
}

static int write_csr(struct acquire_run *run)
{
	cc_buf pem = CC_BUF_INIT, der = CC_BUF_INIT;
	int der_wanted = run->a->csr_format && !strcmp(run->a->csr_format, "der");
	int rc;

	if (cc_request_csr(&pem, run->repo, run->req) < 0 ||
	    (der_wanted && cc_csr_to_der(&pem, &der) < 0)) {
		rc = cli_lib_error();
		goto done;
	}
	if (!strcmp(run->a->csr_out, "-"))
		rc = fwrite(der_wanted ? der.ptr : pem.ptr, 1, der_wanted ? der.size : pem.size,
			    stdout) == (der_wanted ? der.size : pem.size)
			     ? 0
			     : cli_error("cannot write the CSR to standard output");
	else
		rc = cli_write_file(run->a->csr_out, der_wanted ? der.ptr : pem.ptr,
				    der_wanted ? der.size : pem.size, 0644, run->a->force);
done:
	cc_buf_dispose(&pem);
	cc_buf_dispose(&der);
	return rc;
}

/* ACME: the whole exchange, committing as it goes (see cc_acme_acquire). */
static int run_acme(struct acquire_run *run)
{
	cc_receive_options opts = CC_RECEIVE_OPTIONS_INIT;

	opts.no_switch = run->a->no_switch;
	opts.trust_set = run->a->trust_set;
	opts.warnings = &run->warnings;
	if (cc_acme_acquire(run->repo, run->def, run->req, &opts, &run->cert) < 0)
		return cli_error("%s (request %s kept: 'certctl acquire %s --resume' retries, "
				 "--cancel drops it)", cc_error_last(), run->req->id, run->def->name);
	run->did = "completed";
	return 0;
}

static int start(struct acquire_run *run)
{
	cc_acquire_options opts = CC_ACQUIRE_OPTIONS_INIT;
	cc_txn *txn = NULL;
	cc_buf what = CC_BUF_INIT;
	int rc;

	opts.reuse_key = run->a->reuse_key;
	opts.key_id = run->a->key_id;
	opts.provider = run->a->provider;
	if (cc_txn_begin(&txn, run->repo, "acquire") < 0 ||
	    cc_acquire_start(txn, run->def, &opts, &run->req) < 0) {
		cc_txn_abort(txn);
		return cli_lib_error();
	}
	/* The CSR file first: if it cannot be written, nothing is started. */
	if (run->a->csr_out && (rc = write_csr(run))) {
		cc_txn_abort(txn);
		return rc;
	}
	if (!strcmp(run->req->provider_type, "builtin")) {
		if (cc_acquire_builtin(txn, run->def, run->req, &run->cert) < 0) {
			cc_txn_abort(txn);
			return cli_lib_error();
		}
		cc_buf_printf(&what, "certificate %s issued by the built-in CA (request %s)",
			      cc_cert_id(run->cert), run->req->id);
		run->did = "completed";
	} else {
		cc_buf_printf(&what, "%s acquisition started from %s (request %s)", run->req->kind,
			      run->req->provider, run->req->id);
		run->did = "started";
	}
	rc = commit(run, txn, what.ptr);
	cc_buf_dispose(&what);
	if (rc && run->a->csr_out && strcmp(run->a->csr_out, "-"))
		unlink(run->a->csr_out); /* a CSR of a request that does not exist */
	if (rc == 0 && !strcmp(run->req->provider_type, "acme"))
		rc = run_acme(run);
	return rc;
}

static int receive(struct acquire_run *run)
{
	cc_receive_options opts = CC_RECEIVE_OPTIONS_INIT;
	cc_cert **certs = NULL;
	size_t n = 0;
	cc_txn *txn = NULL;
	cc_buf what = CC_BUF_INIT;
	int rc;

	/* Every file is read and parsed before anything changes. */
	for (size_t f = 0; f <= run->a->chain.count; f++) {
		const char *path = f == 0 ? run->a->receive : run->a->chain.items[f - 1];
		cc_buf data = CC_BUF_INIT;
		cc_cert **got = NULL, **grown;
		size_t ngot = 0;

		if ((rc = cli_read_file(path, 16 << 20, &data)))
			goto done;
		if (cc_cert_parse_all(&got, &ngot, data.ptr, data.size, path) < 0) {
			cc_buf_dispose(&data);
			rc = cli_lib_error();
			goto done;
		}
		cc_buf_dispose(&data);
		grown = realloc(certs, (n + ngot) * sizeof(*certs));
		if (!grown) {
			cc_cert_list_free(got, ngot);
			rc = cli_error("out of memory");
			goto done;
		}
		certs = grown;
		memcpy(certs + n, got, ngot * sizeof(*got));
		n += ngot;
		free(got);
	}
	opts.no_switch = run->a->no_switch;
	opts.trust_set = run->a->trust_set;
	opts.warnings = &run->warnings;
	if (cc_txn_begin(&txn, run->repo, "acquire") < 0 ||
	    cc_acquire_receive(txn, run->def, run->req, certs, n, &opts, &run->cert) < 0) {
		cc_txn_abort(txn);
		rc = cli_lib_error();
		goto done;
	}
	cc_buf_printf(&what, "certificate %s received (request %s)%s", cc_cert_id(run->cert),
		      run->req->id, strstr(run->req->history[run->req->nhistory - 1].message,
					   "is current")
					    ? ""
					    : ", not current yet");
	rc = commit(run, txn, what.ptr);
	run->did = "received";
done:
	cc_cert_list_free(certs, n);
	cc_buf_dispose(&what);
	return rc;
}

static int update(struct acquire_run *run)
{
	cc_txn *txn = NULL;
	cc_buf what = CC_BUF_INIT;
	int rc;

	for (size_t i = 0; i < run->a->set.count; i++) {
		char *item = run->a->set.items[i], *eq = strchr(item, '=');

		if (!eq)
			return cli_error("--set %s: expected KEY=VALUE", item);
		*eq = '\0';
		if (cc_request_set(run->req, item, eq + 1) < 0)
			return cli_lib_error();
		cc_buf_printf(&what, "%s%s", i ? ", " : "", item);
	}
	if (cc_txn_begin(&txn, run->repo, "acquire") < 0 || cc_request_save(txn, run->req) < 0) {
		cc_txn_abort(txn);
		cc_buf_dispose(&what);
		return cli_lib_error();
	}
	{
		cc_buf summary = CC_BUF_INIT;

		cc_buf_printf(&summary, "request %s: set %s", run->req->id, what.ptr);
		rc = commit(run, txn, summary.ptr);
		cc_buf_dispose(&summary);
	}
	cc_buf_dispose(&what);
	run->did = "updated";
	return rc;
}

static int cancel(struct acquire_run *run)
{
	cc_txn *txn = NULL;
	cc_buf what = CC_BUF_INIT;
	int rc;

	if (cc_txn_begin(&txn, run->repo, "acquire") < 0 ||
	    cc_acquire_cancel(txn, run->req, "cancelled by the operator") < 0) {
		cc_txn_abort(txn);
		return cli_lib_error();
	}
	cc_buf_printf(&what, "request %s cancelled", run->req->id);
	rc = commit(run, txn, what.ptr);
	cc_buf_dispose(&what);
	run->did = "cancelled";
	return rc;
}

static int print_result(struct acquire_run *run)
{
	if (run->a->json) {
		cc_json *out = cc_json_object(), *warnings = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.acquire/1");
		cc_json_set_str(out, "definition", run->def->name);
		cc_json_set_str(out, "action", run->did);
		cc_json_set(out, "request", run->req ? cc_request_to_json(run->req) : cc_json_null());
		cc_json_set(out, "certificate", run->cert ? cc_cert_to_json(run->cert) : cc_json_null());
		for (size_t i = 0; i < run->warnings.count; i++)
			cc_json_append_str(warnings, run->warnings.items[i]);
		cc_json_set(out, "warnings", warnings);
		return cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
	}
	for (size_t i = 0; i < run->warnings.count; i++)
		fprintf(stderr, "certctl: warning: %s\n", run->warnings.items[i]);
	if (!run->req)
		return EXIT_OK;
	cli_info("%s: request %s (%s, provider %s): %s\n", run->def->name, run->req->id,
		 run->req->kind ? run->req->kind : "?", run->req->provider,
		 cc_request_state_name(run->req->state));
	if (run->cert) {
		char until[32];

		cc_time_rfc3339(cc_cert_not_after(run->cert), until);
		cli_info("%s: certificate %s, valid until %s\n", run->def->name,
			 cc_cert_id(run->cert), until);
	}
	if (!strcmp(run->did, "started") && !strcmp(run->req->provider_type, "manual") &&
	    !run->a->csr_out)
		cli_info("next: 'certctl acquire %s --csr-out FILE', have it signed, then "
			 "'certctl acquire %s --receive CERT'\n", run->def->name, run->def->name);
	return EXIT_OK;
}

int cmd_acquire(int argc, char **argv)
{
	struct acquire_args a;
	struct acquire_run run;
	int first, rc, actions;

	memset(&a, 0, sizeof(a));
	memset(&run, 0, sizeof(run));
	{
		const struct cli_opt options[] = {
			OPT_HEADING("Starting"),
			OPT_BOOL(0, "reuse-key", &a.reuse_key, "certify the current certificate's key again"),
			OPT_STR(0, "key", &a.key_id, "ID", "certify this stored key"),
			OPT_STR(0, "provider", &a.provider, "NAME", "use this provider instead of the "
				"definition's"),
			OPT_STR(0, "csr-out", &a.csr_out, "FILE", "write the request's CSR (- for stdout); "
				"starts an acquisition when none is open"),
			OPT_STR(0, "csr-format", &a.csr_format, "F", "pem (default) or der"),
			OPT_BOOL('f', "force", &a.force, "overwrite the --csr-out file"),
			OPT_HEADING("Following the open acquisition"),
			OPT_BOOL(0, "show-csr", &a.show_csr, "print the open request's CSR, decoded"),
			OPT_MULTI(0, "set", &a.set, "KEY=VALUE", "record order-number, order-date, "
				  "contact or notes"),
			OPT_STR(0, "receive", &a.receive, "CERT", "the signed certificate (PEM, DER or "
				"P7B; may hold the chain)"),
			OPT_MULTI(0, "chain", &a.chain, "FILE", "intermediate certificates (repeatable)"),
			OPT_STR(0, "trust-set", &a.trust_set, "NAME", "verify against this trust set "
				"(default: the definition's)"),
			OPT_BOOL(0, "no-switch", &a.no_switch, "store the received certificate without "
				 "making it current"),
			OPT_BOOL(0, "resume", &a.resume, "continue an interrupted ACME acquisition"),
			OPT_BOOL(0, "cancel", &a.cancel, "cancel the open acquisition"),
			OPT_BOOL(0, "json", &a.json, "print the result as JSON"),
			OPT_DONE(),
		};

		rc = cli_parse(argc, argv, options,
			       "certctl acquire DEF [--reuse-key | --key ID] [--provider NAME] "
			       "[--csr-out FILE]\n"
			       "       certctl acquire DEF --receive CERT [--chain FILE]... "
			       "[--no-switch]\n"
			       "       certctl acquire DEF --show-csr | --set KEY=VALUE... | --resume "
			       "| --cancel",
			       "Acquire a definition's certificate from its provider: start an "
			       "acquisition (key, CSR, request), receive the signed certificate, or "
			       "follow, resume or cancel the open one.", &first);
	}
	if (rc)
		goto out;
	if (argc - first != 1) {
		rc = cli_usage_error("acquire", argc - first ? "too many arguments" : "missing DEF");
		goto out;
	}
	actions = !!a.receive + a.show_csr + a.cancel + a.resume + !!a.set.count;
	if (actions > 1) {
		rc = cli_usage_error("acquire", "--receive, --show-csr, --set, --resume and --cancel "
				     "exclude each other");
		goto out;
	}
	if (a.chain.count && !a.receive) {
		rc = cli_usage_error("acquire", "--chain goes with --receive");
		goto out;
	}
	if ((a.reuse_key || a.key_id || a.provider) && actions) {
		rc = cli_usage_error("acquire", "--reuse-key, --key and --provider start an "
				     "acquisition; they do not go with --receive, --set, ...");
		goto out;
	}
	if (a.reuse_key && a.key_id) {
		rc = cli_usage_error("acquire", "--reuse-key and --key exclude each other");
		goto out;
	}
	if (a.csr_format && strcmp(a.csr_format, "pem") && strcmp(a.csr_format, "der")) {
		rc = cli_usage_error("acquire", "--csr-format is pem or der");
		goto out;
	}
	if (a.csr_out && (rc = cli_output_check(a.csr_out, a.force)))
		goto out;
	run.a = &a;
	run.did = "none";
	if ((rc = cli_open_repo(&run.repo)))
		goto out;
	if (cc_definition_load(&run.def, run.repo, argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (run.def->npeers) {
		rc = cli_error("%s has cluster peers, each with its own key and CSR: acquire "
			       "%s@%s (and each other peer)", run.def->name, run.def->name,
			       run.def->peers[0].name);
		goto done;
	}
	rc = cc_request_open_for(&run.req, run.repo, run.def->name);
	if (rc < 0 && rc != CC_ENOTFOUND) {
		rc = cli_lib_error();
		goto done;
	}
	rc = 0;
	if (actions && !run.req) {
		rc = cli_error("%s: no open acquisition (start one with 'certctl acquire %s')",
			       run.def->name, run.def->name);
		goto done;
	}
	if (a.show_csr) {
		cc_buf pem = CC_BUF_INIT, text = CC_BUF_INIT;

		if (cc_request_csr(&pem, run.repo, run.req) < 0 || cc_csr_describe(&pem, &text) < 0)
			rc = cli_lib_error();
		else
			fwrite(text.ptr, 1, text.size, stdout);
		cc_buf_dispose(&pem);
		cc_buf_dispose(&text);
		goto done;
	}
	if (a.resume) {
		if (strcmp(run.req->provider_type, "acme")) {
			rc = cli_error("%s: request %s (provider %s) waits for its certificate: receive "
				       "it with 'certctl acquire %s --receive CERT'", run.def->name,
				       run.req->id, run.req->provider, run.def->name);
			goto done;
		}
		if (cc_repo_unlock(run.repo) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		rc = run_acme(&run);
		if (rc == 0)
			rc = print_result(&run);
		goto done;
	}
	/* Keys are needed to start (a new key is stored encrypted) and to
	 * receive (the certificate is matched against the request's key). */
	if ((a.receive || (!run.req && !actions)) && cc_repo_unlock(run.repo) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (a.receive)
		rc = receive(&run);
	else if (a.cancel)
		rc = cancel(&run);
	else if (a.set.count)
		rc = update(&run);
	else if (!run.req)
		rc = start(&run); /* writes --csr-out itself, before committing */
	else if (!a.csr_out && !strcmp(run.req->provider_type, "acme")) {
		rc = cli_error("%s: acquisition %s is already open (%s); resume it with 'certctl "
			       "acquire %s --resume', or cancel it with 'certctl acquire %s --cancel'",
			       run.def->name, run.req->id, cc_request_state_name(run.req->state),
			       run.def->name, run.def->name);
		goto done;
	} else if (!a.csr_out) {
		rc = cli_error("%s: acquisition %s is already open (%s); receive its certificate, or "
			       "cancel it with 'certctl acquire %s --cancel'", run.def->name,
			       run.req->id, cc_request_state_name(run.req->state), run.def->name);
		goto done;
	} else {
		run.did = "shown";
	}
	if (rc == 0 && a.csr_out && strcmp(run.did, "started") && strcmp(run.did, "completed"))
		rc = write_csr(&run);
	if (rc == 0)
		rc = print_result(&run);
done:
	cc_cert_free(run.cert);
	cc_request_free(run.req);
	cc_definition_free(run.def);
	cc_strlist_dispose(&run.warnings);
	cc_repo_free(run.repo);
out:
	cc_strlist_dispose(&a.chain);
	cc_strlist_dispose(&a.set);
	return rc;
}
