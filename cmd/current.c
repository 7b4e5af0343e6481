/*
 * certctl current: show or switch a definition's current certificate.
 */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cmd_current(int argc, char **argv)
{
	const char *cert_id = NULL;
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_cert *cert = NULL;
	cc_strlist ids = CC_STRLIST_INIT;
	char *now = NULL;
	const struct cli_opt options[] = {
		OPT_STR(0, "cert", &cert_id, "ID", "make stored certificate ID current"),
		OPT_BOOL(0, "json", &json, "print the current certificate as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl current DEF [--cert ID]",
			    "Show a definition's current certificate and the stored ones, or make "
			    "another stored certificate current (one commit).", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("current", argc - first ? "too many arguments" : "missing DEF");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_definition_ref_check(argv[first]) < 0 ||
	    !cc_definition_exists(repo, argv[first])) {
		rc = cc_error_code() ? cli_lib_error()
				     : cli_error("no definition '%s'", argv[first]);
		goto done;
	}
	if (cert_id && cc_cert_current_id(&now, repo, argv[first]) == 0 && !strcmp(now, cert_id)) {
		if (!json) /* with --json, standard output is the document alone */
			cli_info("%s: %s is already current\n", argv[first], cert_id);
		cert_id = NULL; /* nothing to commit */
	}
	cc_error_clear();
	free(now);
	now = NULL;
	if (cert_id) {
		cc_buf summary = CC_BUF_INIT;

		cc_buf_printf(&summary, "current: %s: certificate %s", argv[first], cert_id);
		if (cc_txn_begin(&txn, repo, "current") < 0 ||
		    cc_current_switch(txn, argv[first], cert_id) < 0 ||
		    cc_txn_trailer(txn, "Certctl-Definition", argv[first]) < 0 ||
		    cc_txn_trailer(txn, "Certctl-Certificate", cert_id) < 0) {
			cc_buf_dispose(&summary);
			rc = cli_lib_error();
			goto done;
		}
		rc = cc_txn_commit(txn, summary.ptr, NULL);
		txn = NULL;
		cc_buf_dispose(&summary);
		if (rc < 0) {
			rc = cli_lib_error();
			goto done;
		}
	}
	if (cc_cert_list_ids(repo, argv[first], &ids) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cc_cert_current_id(&now, repo, argv[first]);
	if (rc < 0 && rc != CC_ENOTFOUND) {
		rc = cli_lib_error();
		goto done;
	}
	rc = 0;
	if (now && cc_cert_current(&cert, NULL, NULL, repo, argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.current/1");
		cc_json_set_str(out, "definition", argv[first]);
		cc_json_set(out, "current", cert ? cc_cert_to_json(cert) : cc_json_null());
		for (size_t i = 0; i < ids.count; i++)
			cc_json_append_str(arr, ids.items[i]);
		cc_json_set(out, "stored", arr);
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		goto done;
	}
	if (!cert) {
		printf("%s: no current certificate (%zu stored)\n", argv[first], ids.count);
	} else {
		char from[32], until[32];

		cc_time_rfc3339(cc_cert_not_before(cert), from);
		cc_time_rfc3339(cc_cert_not_after(cert), until);
		printf("%s: current %s  %s .. %s  %s\n", argv[first], cc_cert_id(cert), from, until,
		       cc_cert_issuer(cert));
	}
	for (size_t i = 0; i < ids.count && !cli.quiet; i++)
		printf("  %s %s\n", now && !strcmp(now, ids.items[i]) ? "*" : " ", ids.items[i]);
done:
	cc_txn_abort(txn);
	cc_cert_free(cert);
	free(now);
	cc_strlist_dispose(&ids);
	cc_repo_free(repo);
	return rc;
}
