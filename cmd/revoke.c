/*
 * certctl revoke: revoke a definition's certificate where it came from.
 */
#include "cli.h"

int cmd_revoke(int argc, char **argv)
{
	const char *cert_id = NULL, *reason_text = "unspecified";
	int first, rc, reason = 0;
	cc_repo *repo = NULL;
	cc_buf how = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "cert", &cert_id, "ID", "revoke this stored certificate (default: the "
			"current one)"),
		OPT_STR(0, "reason", &reason_text, "REASON", "unspecified, keyCompromise, "
			"superseded, cessationOfOperation, ..."),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl revoke DEF [--cert ID] [--reason REASON]",
			    "Revoke a definition's certificate at the CA that issued it (the "
			    "built-in CA or the ACME server); one commit.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("revoke", argc - first ? "too many arguments" : "missing DEF");
	if (cc_revocation_reason_parse(&reason, reason_text) < 0)
		return cli_error("--reason: %s", cc_error_last());
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_definition_ref_check(argv[first]) < 0 || cc_repo_unlock(repo) < 0 ||
	    cc_revoke(repo, argv[first], cert_id, reason, &how) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	cli_info("%s: %s\n", argv[first], how.ptr);
done:
	cc_buf_dispose(&how);
	cc_repo_free(repo);
	return rc;
}
