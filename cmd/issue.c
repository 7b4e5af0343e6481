/*
 * certctl issue: issue definitions' certificates from the built-in CA (or
 * self-signed), one at a time or in batches for CI.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

struct issue_args {
	const char *ca, *key_id, *validity, *profile, *p12_out, *p12_pass_file, *batch;
	int reuse_key, self_signed, one_commit, json, force;
};

struct issue_run {
	cc_repo *repo;
	cc_ca *ca;
	cc_issue_options opts;
	struct issue_args *args;
	cc_json *results;
	size_t issued;
	cc_buf deferred; /* --one-commit: what to print once it is committed */
};

/* Print or collect the result of one issuance. */
static void report(struct issue_run *run, const cc_definition *def, const cc_cert *cert)
{
	char until[32];

	cc_time_rfc3339(cc_cert_not_after(cert), until);
	if (run->results) {
		cc_json *obj = cc_json_object();

		cc_json_set_str(obj, "definition", def->name);
		cc_json_set_str(obj, "ca", run->ca ? cc_ca_name(run->ca) : NULL);
		cc_json_set(obj, "certificate", cc_cert_to_json(cert));
		cc_json_append(run->results, obj);
	} else if (run->args->one_commit) {
		cc_buf_printf(&run->deferred, "%s: issued %s by %s, valid until %s\n", def->name,
			      cc_cert_serial(cert), run->ca ? cc_ca_name(run->ca) : "itself", until);
	} else {
		cli_info("%s: issued %s by %s, valid until %s\n", def->name, cc_cert_serial(cert),
			 run->ca ? cc_ca_name(run->ca) : "itself", until);
	}
}

/* The CA for `def`: its own, the --ca one, or the default. */
static int ca_for(struct issue_run *run, const cc_definition *def)
{
	const char *want = run->args->ca ? run->args->ca : def->ca;

	if (run->args->self_signed)
		return 0;
	if (run->ca && (!want || !strcmp(want, cc_ca_name(run->ca))))
		return 0;
	cc_ca_free(run->ca);
	run->ca = NULL;
	return cc_ca_load(&run->ca, run->repo, want);
}

/* The type of the definition's provider ("builtin", "manual", "acme"...). */
static const char *provider_type(const cc_repo *repo, const cc_definition *def)
{
	const cc_node *provider = cc_node_get(cc_node_get(cc_repo_config(repo), "providers"),
					      def->provider ? def->provider : "builtin");

	return provider ? cc_node_scalar(cc_node_get(provider, "type")) : NULL;
}

/* Issue one definition inside `txn` (which the caller commits). */
static int issue_one(struct issue_run *run, cc_txn *txn, const cc_definition *def,
		     cc_cert **cert_out, cc_key **key_out)
{
	const char *type = provider_type(run->repo, def);

	/* A definition acquired elsewhere is issued here only when asked for. */
	if (!run->args->self_signed && !run->args->ca && type && strcmp(type, "builtin") != 0)
		return cc_error_set(CC_EINVALID, "definition '%s' acquires from provider '%s' (%s); "
				    "give --ca NAME to issue from a built-in CA instead",
				    def->name, def->provider, type);
	if (ca_for(run, def) < 0)
		return CC_ERROR;
	if (cc_issue(txn, run->ca, def, &run->opts, cert_out, key_out) < 0)
		return CC_ERROR;
	if (cc_txn_trailer(txn, "Certctl-Definition", def->name) < 0 ||
	    (run->ca && cc_txn_trailer(txn, "Certctl-CA", cc_ca_name(run->ca)) < 0) ||
	    cc_txn_trailer(txn, "Certctl-Certificate", cc_cert_id(*cert_out)) < 0)
		return CC_ERROR;
	return 0;
}

static void summary_for(cc_buf *out, const struct issue_run *run, const cc_definition *def,
			const cc_cert *cert)
{
	char until[32];

	cc_time_rfc3339(cc_cert_not_after(cert), until);
	cc_buf_clear(out);
	if (run->ca)
		cc_buf_printf(out, "issue: %s: certificate %s issued by %s, valid until %s", def->name,
			      cc_cert_serial(cert), cc_ca_name(run->ca), until);
	else
		cc_buf_printf(out, "issue: %s: self-signed certificate %s, valid until %s", def->name,
			      cc_cert_serial(cert), until);
}

/* One definition in its own commit (the usual case). */
static int issue_committed(struct issue_run *run, cc_definition *def, cc_cert **cert_out,
			   cc_key **key_out)
{
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	int rc;

	if (cc_txn_begin(&txn, run->repo, "issue") < 0 ||
	    issue_one(run, txn, def, cert_out, key_out) < 0) {
		cc_txn_abort(txn);
		return cli_lib_error();
	}
	summary_for(&summary, run, def, *cert_out);
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	cc_buf_dispose(&summary);
	if (rc < 0)
		return cli_lib_error();
	run->issued++;
	report(run, def, *cert_out);
	return EXIT_OK;
}

/*
 * A batch item: a definition name, or a YAML mapping with "name" and the
 * fields of a definition (created or replaced in the same commit).
 */
static int batch_definition(cc_definition **out, struct issue_run *run, const cc_node *item,
			    int *from_yaml)
{
	const char *name;

	*out = NULL;
	*from_yaml = 0;
	if (cc_node_kind(item) == CC_NODE_SCALAR) {
		if (cc_definition_load(out, run->repo, cc_node_scalar(item)) < 0)
			return cli_lib_error();
		return 0;
	}
	name = cc_node_scalar(cc_node_get(item, "name"));
	if (cc_node_kind(item) != CC_NODE_MAPPING || !name)
		return cli_error("%s:%u:%u: a batch item is a definition name or a mapping with "
				 "'name'", cc_node_file(item), cc_node_line(item),
				 cc_node_column(item));
	if (cc_definition_from_node(out, run->repo, name, item, "name") < 0)
		return cli_lib_error();
	*from_yaml = 1;
	return 0;
}

/* Names one per line (# comments), or a YAML sequence. */
static int batch_items(cc_node **out, const char *path, const cc_buf *text)
{
	const char *t = cc_buf_cstr(text), *first = t;
	cc_buf yaml = CC_BUF_INIT;
	int rc;

	*out = NULL;
	/* The first line that is neither blank nor a comment tells the form. */
	for (;;) {
		first += strspn(first, " \t\r\n");
		if (*first != '#')
			break;
		first += strcspn(first, "\n");
	}
	if (*first == '-' || *first == '[') {
		if (cc_node_parse(out, t, text->size, strcmp(path, "-") ? path : "<stdin>") < 0)
			return cli_lib_error();
		if (cc_node_kind(*out) != CC_NODE_SEQUENCE) {
			cc_node_free(*out);
			*out = NULL;
			return cli_error("%s: a batch is a YAML list (or names one per line)", path);
		}
		return 0;
	}
	/* Plain names: turn them into a YAML list of quoted strings. */
	for (const char *line = t; *line;) {
		size_t len = strcspn(line, "\n"), start = strspn(line, " \t");
		size_t end = len;

		while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' ||
				       line[end - 1] == '\r'))
			end--;
		if (end > start && line[start] != '#') {
			cc_buf_puts(&yaml, "- \"");
			for (size_t i = start; i < end; i++) {
				if (line[i] == '"' || line[i] == '\\')
					cc_buf_putc(&yaml, '\\');
				cc_buf_putc(&yaml, line[i]);
			}
			cc_buf_puts(&yaml, "\"\n");
		}
		line += len + (line[len] == '\n');
	}
	rc = cc_node_parse(out, cc_buf_cstr(&yaml), yaml.size, path) < 0 ? cli_lib_error() : 0;
	if (rc == 0 && cc_node_kind(*out) != CC_NODE_SEQUENCE) {
		cc_node_free(*out);
		*out = NULL;
		rc = cli_error("%s: no definition names", path);
	}
	cc_buf_dispose(&yaml);
	return rc;
}

/*
 * Commits of a batch are published in groups: each certificate is its own
 * commit, but the branch moves (and the disk is flushed) once per group.
 */
#define BATCH_GROUP 100

/* Publish what the open group has; a failed item was rolled back before. */
static int publish(cc_txn **txn)
{
	int rc = 0;

	if (!*txn)
		return 0;
	if (cc_txn_commits(*txn) == 0)
		cc_txn_abort(*txn);
	else if (cc_txn_commit(*txn, NULL, NULL) < 0)
		rc = cli_lib_error();
	*txn = NULL;
	return rc;
}

static int run_batch(struct issue_run *run)
{
	cc_buf text = CC_BUF_INIT, summary = CC_BUF_INIT;
	cc_node *items = NULL;
	cc_txn *txn = NULL;
	size_t in_group = 0;
	int rc;

	if ((rc = cli_read_file(run->args->batch, 64 << 20, &text)) ||
	    (rc = batch_items(&items, run->args->batch, &text)))
		goto done;
	if (cc_repo_batch_objects(run->repo) < 0 || cc_key_pool_new(&run->opts.key_pool) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	for (size_t i = 0; i < cc_node_count(items); i++) {
		cc_definition *def = NULL;
		cc_cert *cert = NULL;
		int from_yaml, failed;

		if ((rc = batch_definition(&def, run, cc_node_at(items, i), &from_yaml)))
			goto done;
		if (!txn && cc_txn_begin(&txn, run->repo, "issue") < 0) {
			cc_definition_free(def);
			rc = cli_lib_error();
			goto done;
		}
		failed = (from_yaml && cc_definition_save(txn, def) < 0) ||
			 issue_one(run, txn, def, &cert, NULL) < 0;
		if (!failed && !run->args->one_commit) {
			summary_for(&summary, run, def, cert);
			failed = cc_txn_checkpoint(txn, summary.ptr,
						   from_yaml ? "The definition was written by the batch."
							     : NULL) < 0;
		}
		if (failed) {
			rc = cli_lib_error();
			/* What was issued before this item stays (one commit each). */
			if (!run->args->one_commit && cc_txn_rollback_pending(txn) == 0)
				publish(&txn);
			cc_cert_free(cert);
			cc_definition_free(def);
			goto done;
		}
		run->issued++;
		report(run, def, cert);
		cc_cert_free(cert);
		cc_definition_free(def);
		if (!run->args->one_commit && ++in_group == BATCH_GROUP) {
			if ((rc = publish(&txn)))
				goto done;
			in_group = 0;
		}
	}
	if (run->args->one_commit && txn) {
		cc_buf_clear(&summary);
		cc_buf_printf(&summary, "issue: %zu certificates issued in one batch", run->issued);
		rc = cc_txn_commit(txn, summary.ptr, NULL);
		txn = NULL;
		if (rc < 0) {
			rc = cli_lib_error();
			goto done;
		}
		cli_info("%s", cc_buf_cstr(&run->deferred));
	}
	rc = publish(&txn);
done:
	if (rc && run->args->one_commit) {
		/* Nothing of an interrupted --one-commit batch was committed. */
		run->issued = 0;
		if (run->results) {
			cc_json_free(run->results);
			run->results = cc_json_array();
		}
	}
	cc_buf_dispose(&run->deferred);
	cc_txn_abort(txn);
	cc_key_pool_free(run->opts.key_pool);
	run->opts.key_pool = NULL;
	cc_node_free(items);
	cc_buf_dispose(&text);
	cc_buf_dispose(&summary);
	return rc;
}

/* --p12-out: the key, certificate and chain for a browser or curl. */
static int write_p12(struct issue_run *run, const cc_definition *def, const cc_cert *cert,
		     const cc_key *key, const cc_secret *pass)
{
	cc_cert *current = NULL;
	cc_cert **chain = NULL;
	size_t nchain = 0;
	cc_buf p12 = CC_BUF_INIT;
	int rc;

	if (cc_cert_current(&current, &chain, &nchain, run->repo, def->name) < 0 ||
	    cc_pkcs12_build(&p12, key, cert, chain, nchain, pass, def->name) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cli_write_file(run->args->p12_out, p12.ptr, p12.size, 0600, run->args->force);
done:
	cc_buf_dispose_secure(&p12);
	cc_cert_free(current);
	cc_cert_list_free(chain, nchain);
	return rc;
}

int cmd_issue(int argc, char **argv)
{
	struct issue_args a;
	struct issue_run run;
	cc_secret *p12_pass = NULL;
	int first, rc;

	memset(&a, 0, sizeof(a));
	memset(&run, 0, sizeof(run));
	{
		const struct cli_opt options[] = {
			OPT_STR(0, "ca", &a.ca, "NAME", "issue from this CA (default: the definition's, "
				"else the default CA)"),
			OPT_BOOL(0, "self-signed", &a.self_signed, "make a self-signed certificate instead"),
			OPT_BOOL(0, "reuse-key", &a.reuse_key, "certify the current certificate's key again"),
			OPT_STR(0, "key-id", &a.key_id, "ID", "certify this stored key"),
			OPT_STR(0, "validity", &a.validity, "DUR", "validity (default: the definition's)"),
			OPT_STR(0, "profile", &a.profile, "P", "server, client or server+client"),
			OPT_STR(0, "p12-out", &a.p12_out, "FILE", "also write key, certificate and chain "
				"as PKCS#12 (0600)"),
			OPT_STR(0, "p12-passphrase-file", &a.p12_pass_file, "FILE", "its password (else "
				"$CERTCTL_P12_PASSPHRASE[_FILE])"),
			OPT_BOOL('f', "force", &a.force, "overwrite the --p12-out file"),
			OPT_STR(0, "batch", &a.batch, "FILE", "issue every definition listed in FILE "
				"(names or YAML; - for stdin)"),
			OPT_BOOL(0, "one-commit", &a.one_commit, "with --batch: one commit for all"),
			OPT_BOOL(0, "json", &a.json, "print the results as JSON"),
			OPT_DONE(),
		};

		rc = cli_parse(argc, argv, options, "certctl issue DEF... [options]\n"
			       "       certctl issue --batch FILE [--one-commit] [options]",
			       "Issue the certificates of definitions from the built-in CA: new key "
			       "(or the one asked for), stored as the current certificate; one commit "
			       "each.", &first);
	}
	if (rc)
		return rc;
	if (!a.batch && first >= argc)
		return cli_usage_error("issue", "missing DEF (or --batch FILE)");
	if (a.batch && first < argc)
		return cli_usage_error("issue", "give definitions either as arguments or in --batch");
	if (a.one_commit && !a.batch)
		return cli_usage_error("issue", "--one-commit goes with --batch");
	if (a.p12_out && (a.batch || argc - first != 1))
		return cli_usage_error("issue", "--p12-out needs exactly one DEF");
	if (a.self_signed && a.ca)
		return cli_usage_error("issue", "--self-signed and --ca exclude each other");
	run.args = &a;
	run.opts = (cc_issue_options)CC_ISSUE_OPTIONS_INIT;
	run.opts.reuse_key = a.reuse_key;
	run.opts.key_id = a.key_id;
	run.opts.self_signed = a.self_signed;
	if (a.validity && cc_duration_parse(&run.opts.validity, a.validity) < 0)
		return cli_error("--validity: %s", cc_error_last());
	if (a.profile) {
		cc_profile p;

		if (cc_profile_parse(&p, a.profile) < 0)
			return cli_error("--profile: %s", cc_error_last());
		run.opts.profile = (int)p;
	}
	/* Everything --p12-out needs is checked before anything is issued. */
	if (a.p12_out && ((rc = cli_output_check(a.p12_out, a.force)) ||
			  (rc = cli_passphrase(&p12_pass, a.p12_pass_file, "CERTCTL_P12_PASSPHRASE", 1))))
		return rc;
	if ((rc = cli_open_repo(&run.repo))) {
		cc_secret_free(p12_pass);
		return rc;
	}
	if (cc_repo_unlock(run.repo) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (a.json)
		run.results = cc_json_array();
	if (a.batch) {
		rc = run_batch(&run);
	} else {
		for (int i = first; i < argc && rc == 0; i++) {
			cc_definition *def = NULL;
			cc_cert *cert = NULL;
			cc_key *key = NULL;

			if (cc_definition_load(&def, run.repo, argv[i]) < 0) {
				rc = cli_lib_error();
				break;
			}
			/* A cluster: each peer gets its own key and certificate. */
			if (def->npeers) {
				for (size_t p = 0; p < def->npeers && rc == 0; p++) {
					cc_definition *view = NULL;
					char ref[300];

					snprintf(ref, sizeof(ref), "%s@%s", def->name,
						 def->peers[p].name);
					if (cc_definition_load(&view, run.repo, ref) < 0) {
						rc = cli_lib_error();
						break;
					}
					rc = issue_committed(&run, view, &cert, &key);
					if (rc == 0 && a.p12_out)
						rc = cli_usage_error("issue", "--p12-out takes one "
								     "certificate: name the peer "
								     "(%s)", ref);
					cc_cert_free(cert);
					cc_key_free(key);
					cert = NULL;
					key = NULL;
					cc_definition_free(view);
				}
				cc_definition_free(def);
				continue;
			}
			rc = issue_committed(&run, def, &cert, &key);
			if (rc == 0 && a.p12_out)
				rc = write_p12(&run, def, cert, key, p12_pass);
			cc_cert_free(cert);
			cc_key_free(key);
			cc_definition_free(def);
		}
	}
	if (run.results) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.issue/1");
		cc_json_set_int(out, "issued", (long long)run.issued);
		cc_json_set(out, "results", run.results);
		run.results = NULL;
		if (cli_print_json(out) && rc == 0)
			rc = EXIT_FAIL;
	}
done:
	cc_secret_free(p12_pass);
	cc_json_free(run.results);
	cc_ca_free(run.ca);
	cc_repo_free(run.repo);
	return rc;
}
