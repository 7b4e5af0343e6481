/*
 * certctl trust: the trusted CA sets that received and checked
 * certificates are verified against.
 */
#include <string.h>
#include "cli.h"

static int trust_add(int argc, char **argv)
{
	const char *set = "default";
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_cert **certs = NULL;
	size_t n = 0, added = 0;
	cc_buf data = CC_BUF_INIT, summary = CC_BUF_INIT, report = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: default)"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust add FILE... [--set NAME]",
			    "Add the CA certificates in FILEs (PEM, DER or P7B) to a trust set; one "
			    "commit.", &first)))
		return rc;
	if (first >= argc)
		return cli_usage_error("trust add", "missing FILE");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_txn_begin(&txn, repo, "trust add") < 0) {
		rc = cli_lib_error();
		goto done;
	}
	for (int i = first; i < argc; i++) {
		cc_buf_clear(&data);
		if ((rc = cli_read_file(argv[i], 16 << 20, &data)))
			goto done;
		if (cc_cert_parse_all(&certs, &n, data.ptr, data.size, argv[i]) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		for (size_t k = 0; k < n; k++) {
			if (cc_trust_add(txn, set, certs[k]) < 0) {
				rc = cli_error("%s: %s", argv[i], cc_error_last());
				goto done;
			}
			cc_buf_printf(&report, "%s: %s added to trust set '%s'\n",
				      cc_cert_id(certs[k]), cc_cert_subject(certs[k]), set);
			added++;
		}
		cc_cert_list_free(certs, n);
		certs = NULL;
		n = 0;
	}
	cc_buf_printf(&summary, "trust add: %zu CA certificate(s) to set '%s'", added, set);
	if (cc_txn_trailer(txn, "Certctl-Trust-Set", set) < 0 ||
	    cc_txn_commit(txn, summary.ptr, NULL) < 0) {
		txn = NULL;
		rc = cli_lib_error();
		goto done;
	}
	txn = NULL;
	cli_info("%s", cc_buf_cstr(&report)); /* only once it is committed */
done:
	cc_txn_abort(txn);
	cc_cert_list_free(certs, n);
	cc_buf_dispose(&data);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&report);
	cc_repo_free(repo);
	return rc;
}

static int trust_list(int argc, char **argv)
{
	const char *set = "default";
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_strlist ids = CC_STRLIST_INIT;
	const char *bundle;
	cc_json *out = NULL, *arr = NULL;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: default)"),
		OPT_BOOL(0, "json", &json, "print the set as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust list [--set NAME]",
			    "List a trust set: its bundle file and the CAs stored in the "
			    "repository (the repository's own CAs are trusted in every set).",
			    &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("trust list", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_trust_list(repo, set, &ids) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	bundle = cc_trust_bundle(repo, set);
	if (json) {
		out = cc_json_object();
		arr = cc_json_array();
		cc_json_set_str(out, "schema", "certctl.trust/1");
		cc_json_set_str(out, "set", set);
		cc_json_set_str(out, "bundle", bundle);
	} else {
		printf("trust set '%s': bundle %s\n", set, bundle ? bundle : "(none)");
	}
	for (size_t i = 0; i < ids.count; i++) {
		cc_buf rel = CC_BUF_INIT, data = CC_BUF_INIT;
		cc_cert *cert = NULL;

		cc_buf_printf(&rel, "trust/%s/%s.pem", set, ids.items[i]);
		if (cc_repo_read(repo, rel.ptr, &data) < 0 ||
		    cc_cert_parse(&cert, data.ptr, data.size, rel.ptr) < 0) {
			cc_buf_dispose(&rel);
			cc_buf_dispose(&data);
			rc = cli_lib_error();
			goto done;
		}
		if (json)
			cc_json_append(arr, cc_cert_to_json(cert));
		else
			printf("  %s  %s\n", cc_cert_id(cert), cc_cert_subject(cert));
		cc_cert_free(cert);
		cc_buf_dispose(&rel);
		cc_buf_dispose(&data);
	}
	if (json) {
		cc_json_set(out, "certificates", arr);
		arr = NULL;
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		out = NULL;
	}
done:
	cc_json_free(arr);
	cc_json_free(out);
	cc_strlist_dispose(&ids);
	cc_repo_free(repo);
	return rc;
}

static int trust_rm(int argc, char **argv)
{
	const char *set = "default";
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: default)"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust rm ID [--set NAME]",
			    "Remove CA certificate ID from a trust set; one commit.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("trust rm", argc - first ? "too many arguments" : "missing ID");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	cc_buf_printf(&summary, "trust rm: %s from set '%s'", argv[first], set);
	if (cc_txn_begin(&txn, repo, "trust rm") < 0 || cc_trust_remove(txn, set, argv[first]) < 0 ||
	    cc_txn_trailer(txn, "Certctl-Trust-Set", set) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL) < 0 ? cli_lib_error() : 0;
	txn = NULL;
done:
	cc_txn_abort(txn);
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

static const struct cli_verb verbs[] = {
	{ "add", trust_add, "add CA certificates to a trust set" },
	{ "list", trust_list, "list a trust set" },
	{ "rm", trust_rm, "remove a CA certificate from a trust set" },
};

int cmd_trust(int argc, char **argv)
{
	return cli_dispatch("trust", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
