/*
 * certctl show: print one certificate definition.
 */
#include "cli.h"

int cmd_show(int argc, char **argv)
{
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_definition *def = NULL;
	cc_buf text = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the definition as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl show NAME [--json]",
			    "Show the certificate definition NAME.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("show", argc - first ? "too many arguments" : "missing NAME");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_definition_load(&def, repo, argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.definition/1");
		cc_json_set(out, "definition", cc_definition_to_json(def));
		rc = cli_print_json(out);
	} else if (cc_definition_format(def, &text) < 0) {
		rc = cli_lib_error();
	} else {
		fwrite(text.ptr, 1, text.size, stdout);
		rc = EXIT_OK;
	}
done:
	cc_buf_dispose(&text);
	cc_definition_free(def);
	cc_repo_free(repo);
	return rc;
}
