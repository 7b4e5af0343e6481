/*
 * certctl ca: the built-in private CA — create, install, import, list,
 * show, export, choose the default, revoke, publish CRLs, list issued.
 */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* Commit a CA change with its trailers. */
static int commit_ca(cc_txn *txn, const char *name, const char *summary, const char *body)
{
	int rc;

	if (cc_txn_trailer(txn, "Certctl-CA", name) < 0) {
		cc_txn_abort(txn);
		return cli_lib_error();
	}
	rc = cc_txn_commit(txn, summary, body);
	return rc < 0 ? cli_lib_error() : EXIT_OK;
}

static int ca_init(int argc, char **argv)
{
	cc_ca_options opts;
	const char *key = NULL, *validity = NULL, *max_validity = NULL, *parent = NULL;
	const char *csr_out = NULL;
	unsigned long path_len = (unsigned long)-1;
	int external = 0, force = 0, first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf csr = CC_BUF_INIT, summary = CC_BUF_INIT;

	cc_ca_options_init(&opts);
	{
		const struct cli_opt options[] = {
			OPT_HEADING("subject"),
			OPT_STR(0, "cn", &opts.subject.cn, "CN", "common name (default: NAME)"),
			OPT_STR(0, "org", &opts.subject.o, "O", "organization"),
			OPT_STR(0, "ou", &opts.subject.ou, "OU", "organizational unit"),
			OPT_STR(0, "locality", &opts.subject.l, "L", "locality"),
			OPT_STR(0, "state", &opts.subject.st, "ST", "state or province"),
			OPT_STR(0, "country", &opts.subject.c, "C", "two-letter country code"),
			OPT_STR(0, "email", &opts.subject.email, "ADDR", "e-mail address"),
			OPT_HEADING("key, validity and constraints"),
			OPT_STR(0, "key", &key, "SPEC", "key type (default ecdsa:P-384)"),
			OPT_STR(0, "validity", &validity, "DUR", "validity (default 10y root, 5y subordinate)"),
			OPT_NUM(0, "path-len", &path_len, "N", "how many CA levels may follow below"),
			OPT_MULTI(0, "permit-dns", &opts.permit_dns, "DOMAIN", "permitted DNS subtree (repeatable)"),
			OPT_MULTI(0, "exclude-dns", &opts.exclude_dns, "DOMAIN", "excluded DNS subtree (repeatable)"),
			OPT_MULTI(0, "permit-ip", &opts.permit_ip, "CIDR", "permitted IP range (repeatable)"),
			OPT_MULTI(0, "exclude-ip", &opts.exclude_ip, "CIDR", "excluded IP range (repeatable)"),
			OPT_HEADING("hierarchy"),
			OPT_STR(0, "parent", &parent, "CA", "signed by this CA of the repository"),
			OPT_BOOL(0, "external", &external, "signed by an external CA: write a CSR"),
			OPT_STR(0, "csr-out", &csr_out, "FILE", "where to write the CSR (with --external)"),
			OPT_BOOL('f', "force", &force, "overwrite the --csr-out file"),
			OPT_HEADING("what it puts in the certificates it issues"),
			OPT_MULTI(0, "crl-url", &opts.crl_urls, "URL", "CRL distribution point (repeatable)"),
			OPT_MULTI(0, "ocsp-url", &opts.ocsp_urls, "URL", "OCSP responder (repeatable)"),
			OPT_MULTI(0, "issuer-url", &opts.issuer_urls, "URL", "where its certificate is published"),
			OPT_MULTI(0, "policy", &opts.policies, "OID", "certificate policy (repeatable)"),
			OPT_STR(0, "max-validity", &max_validity, "DUR", "longest validity it issues (default 398d)"),
			OPT_DONE(),
		};

		rc = cli_parse(argc, argv, options, "certctl ca init NAME [options]",
			       "Create a root CA, a subordinate of another CA (--parent) or of an "
			       "external one (--external: a CSR to have signed); one commit.", &first);
	}
	if (rc)
		goto done;
	if (argc - first != 1) {
		rc = cli_usage_error("ca init", argc - first ? "too many arguments" : "missing NAME");
		goto done;
	}
	if (csr_out && !external) {
		rc = cli_usage_error("ca init", "--csr-out needs --external");
		goto done;
	}
	opts.parent = parent;
	opts.external = external;
	if (path_len != (unsigned long)-1 && path_len > 16) {
		rc = cli_usage_error("ca init", "--path-len %lu is too large (16 at most)", path_len);
		goto done;
	}
	opts.path_len = path_len == (unsigned long)-1 ? -1 : (int)path_len;
	if ((key && cc_key_spec_parse(&opts.key, key) < 0) ||
	    (validity && cc_duration_parse(&opts.validity, validity) < 0) ||
	    (max_validity && cc_duration_parse(&opts.max_validity, max_validity) < 0)) {
		rc = cli_lib_error();
		goto done;
	}
	if ((rc = cli_open_repo(&repo)))
		goto done;
	if (cc_txn_begin(&txn, repo, "ca init") < 0 ||
	    cc_ca_create(txn, argv[first], &opts, &csr) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (external)
		cc_buf_printf(&summary, "ca: %s: key and CSR made for an external CA", argv[first]);
	else if (parent)
		cc_buf_printf(&summary, "ca: %s: subordinate CA created under %s", argv[first], parent);
	else
		cc_buf_printf(&summary, "ca: %s: root CA created", argv[first]);
	if ((rc = cli_output_check(csr_out, force)))
		goto done;
	rc = commit_ca(txn, argv[first], summary.ptr, NULL);
	txn = NULL;
	if (rc)
		goto done;
	if (csr_out && (rc = cli_write_file(csr_out, csr.ptr, csr.size, 0644, force)))
		goto done;
	if (external) {
		cli_info("CA %s awaits its certificate: have the CSR signed (%s), then run\n"
			 "  certctl ca install %s --cert FILE [--chain FILE]\n", argv[first],
			 csr_out ? csr_out : "also in ca/NAME/request.csr", argv[first]);
		if (!csr_out)
			fwrite(csr.ptr, 1, csr.size, stdout);
	} else {
		cli_info("%s\n", summary.ptr + 4);
	}
done:
	cc_txn_abort(txn);
	cc_repo_free(repo);
	cc_buf_dispose(&csr);
	cc_buf_dispose(&summary);
	cc_ca_options_dispose(&opts);
	return rc;
}

static int ca_install(int argc, char **argv)
{
	const char *cert = NULL, *chain = NULL;
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf cert_data = CC_BUF_INIT, chain_data = CC_BUF_INIT, summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "cert", &cert, "FILE", "the CA certificate the external CA issued"),
		OPT_STR(0, "chain", &chain, "FILE", "the certificates above it (PEM, DER or P7B)"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl ca install NAME --cert FILE [--chain FILE]",
			    "Install the certificate an external CA signed for CA NAME; it must "
			    "match the CA's key and chain up to a root.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("ca install", argc - first ? "too many arguments" : "missing NAME");
	if (!cert)
		return cli_usage_error("ca install", "--cert FILE is required");
	if ((rc = cli_read_file(cert, 16 << 20, &cert_data)) ||
	    (chain && (rc = cli_read_file(chain, 16 << 20, &chain_data))))
		goto done;
	if ((rc = cli_open_repo(&repo)))
		goto done;
	if (cc_txn_begin(&txn, repo, "ca install") < 0 ||
	    cc_ca_install(txn, argv[first], cert_data.ptr, cert_data.size, chain_data.ptr,
			  chain_data.size, cert) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	cc_buf_printf(&summary, "ca: %s: certificate from the external CA installed", argv[first]);
	rc = commit_ca(txn, argv[first], summary.ptr, NULL);
	txn = NULL;
	if (rc == EXIT_OK)
		cli_info("CA %s is active\n", argv[first]);
done:
	cc_txn_abort(txn);
	cc_repo_free(repo);
	cc_buf_dispose(&cert_data);
	cc_buf_dispose(&chain_data);
	cc_buf_dispose(&summary);
	return rc;
}

static int ca_import(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *pass_file = NULL;
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_secret *pass = NULL;
	cc_buf cert_data = CC_BUF_INIT, key_data = CC_BUF_INIT, summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "cert", &cert, "FILE", "CA certificate and chain (PEM/DER/P7B), or PKCS#12"),
		OPT_STR(0, "key", &key, "FILE", "its private key (omit for PKCS#12)"),
		OPT_STR(0, "passphrase-file", &pass_file, "FILE",
			"passphrase of the key or PKCS#12 (else $CERTCTL_IMPORT_PASSPHRASE[_FILE])"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl ca import NAME --cert FILE [--key FILE] [--passphrase-file FILE]",
			    "Bring an existing CA into the repository: its certificate and key "
			    "(PEM, DER, PKCS#12); the key is stored encrypted.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("ca import", argc - first ? "too many arguments" : "missing NAME");
	if (!cert)
		return cli_usage_error("ca import", "--cert FILE is required");
	if ((rc = cli_read_file(cert, 16 << 20, &cert_data)) ||
	    (key && (rc = cli_read_file(key, 1 << 20, &key_data))) ||
	    (rc = cli_passphrase(&pass, pass_file, "CERTCTL_IMPORT_PASSPHRASE", 0)))
		goto done;
	if ((rc = cli_open_repo(&repo)))
		goto done;
	if (cc_repo_unlock(repo) < 0 || cc_txn_begin(&txn, repo, "ca import") < 0 ||
	    cc_ca_import(txn, argv[first], cert_data.ptr, cert_data.size, key_data.ptr,
			 key_data.size, pass, cert) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	cc_buf_printf(&summary, "ca: %s: imported", argv[first]);
	rc = commit_ca(txn, argv[first], summary.ptr, NULL);
	txn = NULL;
	if (rc == EXIT_OK)
		cli_info("CA %s imported\n", argv[first]);
done:
	cc_txn_abort(txn);
	cc_secret_free(pass);
	cc_repo_free(repo);
	cc_buf_dispose(&cert_data);
	cc_buf_dispose_secure(&key_data);
	cc_buf_dispose(&summary);
	return rc;
}

static cc_json *ca_json(const cc_ca *ca)
{
	cc_json *obj = cc_json_object(), *chain = cc_json_array();
	cc_cert *const *certs;
	size_t n = cc_ca_chain(ca, &certs);

	cc_json_set_str(obj, "name", cc_ca_name(ca));
	cc_json_set_str(obj, "status", cc_ca_status(ca));
	cc_json_set_bool(obj, "default", cc_ca_is_default(ca));
	cc_json_set_str(obj, "parent", *cc_ca_parent(ca) ? cc_ca_parent(ca) : NULL);
	cc_json_set_str(obj, "key", cc_ca_key_id(ca));
	/* null while a CA waits for its external parent's certificate */
	cc_json_set(obj, "certificate", cc_ca_cert(ca) ? cc_cert_to_json(cc_ca_cert(ca)) :
			cc_json_null());
	for (size_t i = 0; i < n; i++)
		cc_json_append(chain, cc_cert_to_json(certs[i]));
	cc_json_set(obj, "chain", chain);
	return obj;
}

static int ca_list(int argc, char **argv)
{
	int json = 0, first, rc = EXIT_OK;
	cc_repo *repo = NULL;
	cc_strlist names = CC_STRLIST_INIT;
	cc_json *arr = NULL;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the CAs as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl ca list [--json]",
			    "List the CAs: name, default mark, status, expiry, subject.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("ca list", "unexpected argument '%s'", argv[first]);
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_ca_names(repo, &names) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json)
		arr = cc_json_array();
	for (size_t i = 0; i < names.count; i++) {
		cc_ca *ca = NULL;
		char until[32] = "-";

		if (cc_ca_load(&ca, repo, names.items[i]) < 0) {
			rc = cli_lib_error();
			continue;
		}
		if (json) {
			cc_json_append(arr, ca_json(ca));
		} else {
			if (cc_ca_cert(ca))
				cc_time_rfc3339(cc_cert_not_after(cc_ca_cert(ca)), until);
			printf("%-20s %s %-8s %-20s %s\n", cc_ca_name(ca), cc_ca_is_default(ca) ? "*" : " ",
			       cc_ca_status(ca), until,
			       cc_ca_cert(ca) ? cc_cert_subject(cc_ca_cert(ca)) : "(awaiting certificate)");
		}
		cc_ca_free(ca);
	}
	if (json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.cas/1");
		cc_json_set(out, "cas", arr);
		arr = NULL;
		if (cli_print_json(out))
			rc = EXIT_FAIL;
	}
done:
	cc_json_free(arr);
	cc_strlist_dispose(&names);
	cc_repo_free(repo);
	return rc;
}

static int ca_show(int argc, char **argv)
{
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_ca *ca = NULL;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the CA as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl ca show [NAME] [--json]",
			    "Show a CA (default: the default CA).", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("ca show", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_ca_load(&ca, repo, first < argc ? argv[first] : NULL) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.ca/1");
		cc_json_set(out, "ca", ca_json(ca));
		rc = cli_print_json(out);
	} else {
		const cc_cert *cert = cc_ca_cert(ca);
		cc_cert *const *chain;
		size_t n = cc_ca_chain(ca, &chain);

		printf("name:        %s%s\nstatus:      %s\nparent:      %s\nkey:         %s\n",
		       cc_ca_name(ca), cc_ca_is_default(ca) ? " (default)" : "", cc_ca_status(ca),
		       *cc_ca_parent(ca) ? cc_ca_parent(ca) : "none (root)", cc_ca_key_id(ca));
		if (cert) {
			char from[32], until[32];

			cc_time_rfc3339(cc_cert_not_before(cert), from);
			cc_time_rfc3339(cc_cert_not_after(cert), until);
			printf("subject:     %s\nissuer:      %s\nserial:      %s\nvalid:       %s to %s\n"
			       "sha256:      %s\nsha1:        %s\n", cc_cert_subject(cert),
			       cc_cert_issuer(cert), cc_cert_serial(cert), from, until,
			       cc_cert_sha256(cert), cc_cert_sha1(cert));
		}
		for (size_t i = 0; i < n; i++)
			printf("chain[%zu]:    %s\n", i, cc_cert_subject(chain[i]));
	}
done:
	cc_ca_free(ca);
	cc_repo_free(repo);
	return rc;
}

static int ca_export(int argc, char **argv)
{
	const char *format = "pem", *out = "-";
	int with_chain = 0, force = 0, first, rc;
	cc_repo *repo = NULL;
	cc_ca *ca = NULL;
	cc_buf data = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "format", &format, "FMT", "pem (default) or der"),
		OPT_BOOL(0, "chain", &with_chain, "with the certificates above it (pem)"),
		OPT_STR('o', "out", &out, "FILE", "write to FILE (default: standard output)"),
		OPT_BOOL('f', "force", &force, "overwrite FILE"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl ca export [NAME] [--format pem|der] [--chain] [--out FILE]",
			    "Write a CA's certificate, to distribute it to the machines that trust "
			    "it.", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("ca export", "too many arguments");
	if (strcmp(format, "pem") && strcmp(format, "der"))
		return cli_usage_error("ca export", "--format must be pem or der");
	if (!strcmp(format, "der") && with_chain)
		return cli_usage_error("ca export", "a DER file holds one certificate: use "
				       "--format pem with --chain");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_ca_load(&ca, repo, first < argc ? argv[first] : NULL) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (!cc_ca_cert(ca)) {
		rc = cli_error("CA '%s' awaits its certificate", cc_ca_name(ca));
		goto done;
	}
	if (!strcmp(format, "der")) {
		rc = cc_cert_der(cc_ca_cert(ca), &data);
	} else {
		cc_cert *const *chain;
		size_t n = cc_ca_chain(ca, &chain);

		rc = cc_cert_pem(cc_ca_cert(ca), &data);
		for (size_t i = 0; with_chain && i < n && rc == 0; i++)
			rc = cc_cert_pem(chain[i], &data);
	}
	if (rc < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cli_write_file(out, data.ptr, data.size, 0644, force);
done:
	cc_buf_dispose(&data);
	cc_ca_free(ca);
	cc_repo_free(repo);
	return rc;
}

static int ca_default(int argc, char **argv)
{
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = { OPT_DONE() };

	if ((rc = cli_parse(argc, argv, options, "certctl ca default NAME",
			    "Make NAME the CA that definitions without a 'ca' use.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("ca default", argc - first ? "too many arguments" : "missing NAME");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_txn_begin(&txn, repo, "ca default") < 0 || cc_ca_set_default(txn, argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (cc_txn_changes(txn) == 0) {
		cli_info("%s is already the default CA\n", argv[first]);
		goto done;
	}
	cc_buf_printf(&summary, "ca: %s: made the default CA", argv[first]);
	rc = commit_ca(txn, argv[first], summary.ptr, NULL);
	txn = NULL;
done:
	cc_txn_abort(txn);
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

/* A serial number, or a definition whose current certificate is meant. */
static int resolve_serial(cc_repo *repo, const cc_ca *ca, const char *what, char **serial,
			  char **definition)
{
	cc_cert *cert = NULL;

	*serial = NULL;
	*definition = NULL;
	if (cc_definition_exists(repo, what)) {
		if (cc_cert_current(&cert, NULL, NULL, repo, what) < 0)
			return cli_lib_error();
		if (strcmp(cc_cert_issuer(cert), cc_cert_subject(cc_ca_cert(ca))) != 0) {
			cli_error("the current certificate of '%s' was not issued by CA '%s' (issuer %s)",
				  what, cc_ca_name(ca), cc_cert_issuer(cert));
			cc_cert_free(cert);
			return EXIT_FAIL;
		}
		*serial = strdup(cc_cert_serial(cert));
		*definition = strdup(what);
		cc_cert_free(cert);
		return 0;
	}
	*serial = strdup(what);
	return 0;
}

static int ca_revoke(int argc, char **argv)
{
	const char *reason_text = "unspecified";
	int first, rc, reason = 0;
	cc_repo *repo = NULL;
	cc_ca *ca = NULL;
	cc_txn *txn = NULL;
	char *serial = NULL, *definition = NULL;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "reason", &reason_text, "REASON",
			"keyCompromise, superseded, cessationOfOperation, affiliationChanged, ..."),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl ca revoke CA SERIAL|DEF [--reason R]",
			    "Revoke a certificate CA issued, by serial number or by definition "
			    "(its current certificate); 'ca crl' then publishes it.", &first)))
		return rc;
	if (argc - first != 2)
		return cli_usage_error("ca revoke", "expected CA and SERIAL or DEF");
	if (cc_revocation_reason_parse(&reason, reason_text) < 0)
		return cli_lib_error();
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_ca_load(&ca, repo, argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (!cc_ca_cert(ca)) {
		rc = cli_error("CA '%s' awaits its certificate", cc_ca_name(ca));
		goto done;
	}
	if ((rc = resolve_serial(repo, ca, argv[first + 1], &serial, &definition)))
		goto done;
	{
		char normal[130];

		if (cc_serial_normalize(normal, sizeof(normal), serial) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		free(serial);
		serial = strdup(normal);
	}
	if (cc_txn_begin(&txn, repo, "ca revoke") < 0 || cc_ca_revoke(txn, ca, serial, reason) < 0 ||
	    (definition && cc_txn_trailer(txn, "Certctl-Definition", definition) < 0)) {
		rc = cli_lib_error();
		goto done;
	}
	cc_buf_printf(&summary, "ca: %s: certificate %s%s%s revoked (%s)", cc_ca_name(ca), serial,
		      definition ? " of " : "", definition ? definition : "",
		      cc_revocation_reason_name(reason));
	rc = commit_ca(txn, cc_ca_name(ca), summary.ptr, NULL);
	txn = NULL;
	if (rc == EXIT_OK)
		cli_info("revoked %s; run 'certctl ca crl %s' to publish it\n", serial, cc_ca_name(ca));
done:
	cc_txn_abort(txn);
	free(serial);
	free(definition);
	cc_buf_dispose(&summary);
	cc_ca_free(ca);
	cc_repo_free(repo);
	return rc;
}

static int ca_crl(int argc, char **argv)
{
	const char *out = NULL;
	int force = 0, first, rc;
	cc_repo *repo = NULL;
	cc_ca *ca = NULL;
	cc_txn *txn = NULL;
	cc_buf pem = CC_BUF_INIT, summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR('o', "out", &out, "FILE", "also write the CRL to FILE"),
		OPT_BOOL('f', "force", &force, "overwrite FILE"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl ca crl [NAME] [--out FILE]",
			    "Sign a new CRL of the CA with every revoked certificate; stored as "
			    "ca/NAME/crl.pem, one commit.", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("ca crl", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_ca_load(&ca, repo, first < argc ? argv[first] : NULL) < 0 ||
	    cc_txn_begin(&txn, repo, "ca crl") < 0 || cc_ca_crl(txn, ca, &pem) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if ((rc = cli_output_check(out, force)))
		goto done;
	cc_buf_printf(&summary, "ca: %s: CRL published", cc_ca_name(ca));
	rc = commit_ca(txn, cc_ca_name(ca), summary.ptr, NULL);
	txn = NULL;
	if (rc == EXIT_OK && out)
		rc = cli_write_file(out, pem.ptr, pem.size, 0644, force);
	else if (rc == EXIT_OK)
		fwrite(pem.ptr, 1, pem.size, stdout);
done:
	cc_txn_abort(txn);
	cc_buf_dispose(&pem);
	cc_buf_dispose(&summary);
	cc_ca_free(ca);
	cc_repo_free(repo);
	return rc;
}

static int ca_issued(int argc, char **argv)
{
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_ca *ca = NULL;
	cc_ca_record *records = NULL;
	size_t count = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the index as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl ca issued [NAME] [--json]",
			    "The CA's index: every certificate it issued, with its status.", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("ca issued", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_ca_load(&ca, repo, first < argc ? argv[first] : NULL) < 0 ||
	    cc_ca_records(ca, repo, &records, &count) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		for (size_t i = 0; i < count; i++) {
			cc_json *obj = cc_json_object();

			cc_json_set_str(obj, "serial", records[i].serial);
			cc_json_set_str(obj, "subject", records[i].subject);
			cc_json_set_str(obj, "issued_to", records[i].definition);
			cc_json_set_str(obj, "not_before", records[i].not_before);
			cc_json_set_str(obj, "not_after", records[i].not_after);
			cc_json_set_str(obj, "status", records[i].status);
			cc_json_set_str(obj, "revoked_at", records[i].revoked_at);
			cc_json_set_str(obj, "reason", records[i].reason);
			cc_json_append(arr, obj);
		}
		cc_json_set_str(out, "schema", "certctl.ca-issued/1");
		cc_json_set_str(out, "ca", cc_ca_name(ca));
		cc_json_set(out, "issued", arr);
		rc = cli_print_json(out);
	} else {
		for (size_t i = 0; i < count; i++)
			printf("%-34s %-8s %-20s %-24s %s\n", records[i].serial, records[i].status,
			       records[i].not_after, records[i].definition ? records[i].definition : "-",
			       records[i].subject ? records[i].subject : "");
	}
done:
	cc_ca_records_free(records, count);
	cc_ca_free(ca);
	cc_repo_free(repo);
	return rc;
}

static const struct cli_verb verbs[] = {
	{ "init", ca_init, "create a root or subordinate CA" },
	{ "install", ca_install, "install the certificate an external CA signed" },
	{ "import", ca_import, "import an existing CA (certificate and key)" },
	{ "list", ca_list, "list the CAs" },
	{ "show", ca_show, "show a CA" },
	{ "export", ca_export, "write a CA certificate for distribution" },
	{ "default", ca_default, "choose the default CA" },
	{ "revoke", ca_revoke, "revoke a certificate" },
	{ "crl", ca_crl, "publish a signed CRL" },
	{ "issued", ca_issued, "list the certificates a CA issued" },
};

int cmd_ca(int argc, char **argv)
{
	return cli_dispatch("ca", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
