/*
 * certctl requests: list acquisition requests.
 */
#include <string.h>
#include "cli.h"

int cmd_requests(int argc, char **argv)
{
	int open_only = 0, json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_request **reqs = NULL;
	size_t n = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "open", &open_only, "only open acquisitions"),
		OPT_BOOL(0, "json", &json, "print the requests as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl requests [DEF] [--open]",
			    "List acquisition requests (of one definition, or all), oldest first.",
			    &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("requests", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_request_list(&reqs, &n, repo, first < argc ? argv[first] : NULL) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.requests/1");
		for (size_t i = 0; i < n; i++)
			if (!open_only || cc_request_is_open(reqs[i]))
				cc_json_append(arr, cc_request_to_json(reqs[i]));
		cc_json_set(out, "requests", arr);
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const cc_request *r = reqs[i];

		if (open_only && !cc_request_is_open(r))
			continue;
		printf("%-22s %-30s %-8s %-12s %-14s %s%s%s\n", r->id, r->definition,
		       r->kind ? r->kind : "-", r->provider, cc_request_state_name(r->state),
		       r->cert_id ? r->cert_id : "", r->error ? "  " : "", r->error ? r->error : "");
	}
done:
	cc_request_list_free(reqs, n);
	cc_repo_free(repo);
	return rc;
}
