/*
 * certctl init: create a certificate repository.
 */
#include <stdlib.h>
#include "cli.h"

int cmd_init(int argc, char **argv)
{
	int json = 0, first, rc;
	const char *dir;
	cc_repo *repo = NULL;
	cc_repo_init_options opts = CC_REPO_INIT_OPTIONS_INIT;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the result as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl init [DIR] [--json]",
			    "Create a certificate repository in DIR (default: -C, $CERTCTL_DIR "
			    "or the current directory).", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("init", "too many arguments");
	dir = first < argc ? argv[first] : cli.repo_dir ? cli.repo_dir
			  : getenv("CERTCTL_DIR") ? getenv("CERTCTL_DIR") : ".";
	if (cc_repo_init(&repo, dir, &opts) < 0)
		return cli_lib_error();
	if (json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.init/1");
		cc_json_set_str(out, "path", cc_repo_workdir(repo));
		cc_json_set_str(out, "id", cc_repo_id(repo));
		cc_json_set_str(out, "secret", cc_repo_config_get(repo, "keystore.secret"));
		if (!getenv("CERTCTL_PASSPHRASE_FILE") && !getenv("CERTCTL_PASSPHRASE")) {
			cc_buf path = CC_BUF_INIT;

			cc_repo_secret_path(repo, &path);
			cc_json_set_str(out, "secret_path", cc_buf_cstr(&path));
			cc_buf_dispose(&path);
		} else {
			cc_json_set(out, "secret_path", cc_json_null());
		}
		rc = cli_print_json(out);
	} else {
		cli_info("Initialized certctl repository in %s\n", cc_repo_workdir(repo));
		if (getenv("CERTCTL_PASSPHRASE_FILE") || getenv("CERTCTL_PASSPHRASE"))
			cli_info("Private keys are encrypted with the passphrase from the "
				 "environment.\n");
		else {
			cc_buf path = CC_BUF_INIT;

			cc_repo_secret_path(repo, &path);
			cli_info("Private keys are encrypted with a new random secret kept outside "
				 "the repository:\n  %s\nBack it up; teammates who clone the "
				 "repository need a copy to use its keys.\n", cc_buf_cstr(&path));
			cc_buf_dispose(&path);
		}
		rc = EXIT_OK;
	}
	cc_repo_free(repo);
	return rc;
}
