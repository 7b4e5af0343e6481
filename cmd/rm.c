/*
 * certctl rm: remove a certificate definition (its keys stay).
 */
#include "cli.h"

int cmd_rm(int argc, char **argv)
{
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = { OPT_DONE() };

	if ((rc = cli_parse(argc, argv, options, "certctl rm NAME",
			    "Remove the certificate definition NAME; one commit. Keys, "
			    "certificates and history stay.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("rm", argc - first ? "too many arguments" : "missing NAME");
	if (cc_name_check(argv[first], "definition") < 0)
		return cli_lib_error();
	if ((rc = cli_open_repo(&repo)))
		return rc;
	cc_buf_printf(&summary, "rm: %s: removed", argv[first]);
	if (cc_txn_begin(&txn, repo, "rm") < 0 || cc_definition_remove(txn, argv[first]) < 0 ||
	    cc_txn_trailer(txn, "Certctl-Definition", argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	txn = NULL;
	if (rc < 0) {
		rc = cli_lib_error();
		goto done;
	}
	cli_info("%s: removed\n", argv[first]);
	rc = EXIT_OK;
done:
	cc_txn_abort(txn);
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}
