/*
 * certctl status: every definition at a glance; --expiring for those
 * running out with no renewal started, --failed for those whose last
 * check failed.
 */
#include <string.h>
#include "cli.h"

int cmd_status(int argc, char **argv)
{
	const char *expiring = NULL;
	int failed = 0, json = 0, first, rc;
	long long within = 0;
	cc_repo *repo = NULL;
	cc_def_status *list = NULL;
	size_t n = 0;
	const struct cli_opt options[] = {
		OPT_STR(0, "expiring", &expiring, "DUR", "only those expiring within DUR (60d) with "
			"no renewal started"),
		OPT_BOOL(0, "failed", &failed, "only those whose last check was not OK"),
		OPT_BOOL(0, "json", &json, "print the status as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl status [--expiring DUR] [--failed] [--json]",
			    "Show every definition with its current and next certificate, "
			    "acquisition, deployments and last check.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[first]);
	if (expiring && (cc_duration_parse(&within, expiring) < 0 || within <= 0))
		return cli_usage_error("status", "--expiring takes a duration such as 60d");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_status_collect(repo, &list, &n) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.status/1");
		for (size_t i = 0; i < n; i++) {
			const cc_def_status *s = &list[i];

			if (expiring && !(s->has_current && s->seconds_left < within &&
					  !cc_def_status_renewal_started(s)))
				continue;
			if (failed && !s->check_failed)
				continue;
			cc_json_append(arr, cc_def_status_to_json(s));
		}
		cc_json_set(out, "definitions", arr);
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		goto done;
	}
	if (!cli.quiet)
		printf("%-28s %-11s %-17s %6s %-17s %-16s %-7s %s\n", "DEFINITION", "PROCESS", "CURRENT",
		       "DAYS", "NEXT", "ACQUISITION", "DEPLOY", "LAST CHECK");
	for (size_t i = 0; i < n; i++) {
		const cc_def_status *s = &list[i];
		char days[24] = "-", deploy[48] = "-", acq[48] = "-";

		if (expiring && !(s->has_current && s->seconds_left < within &&
				  !cc_def_status_renewal_started(s)))
			continue;
		if (failed && !s->check_failed)
			continue;
		if (s->has_current)
			snprintf(days, sizeof(days), "%lld", s->seconds_left / 86400);
		if (s->deploy_total)
			snprintf(deploy, sizeof(deploy), "%zu/%zu%s", s->deploy_done, s->deploy_total,
				 s->deploy_failed ? "!" : "");
		if (s->request_state)
			snprintf(acq, sizeof(acq), "%s", s->request_state);
		printf("%-28s %-11s %-17s %6s %-17s %-16s %-7s ", s->definition,
		       !strcmp(s->mode, "monitor") ? "monitor" : s->process,
		       s->current ? s->current : "-", days, s->next ? s->next : "-", acq, deploy);
		cli_paint(stdout, s->check_status ? s->check_status : "-", 0);
		printf("%s%s", s->check_summary ? ": " : "", s->check_summary ? s->check_summary : "");
		/* Exceptions to the verifier's rules are shown, not hidden. */
		for (size_t k = 0; k < s->allow.count; k++)
			printf("%s%s", k ? "," : " (allows ", s->allow.items[k]);
		printf("%s\n", s->allow.count ? ")" : "");
	}
done:
	cc_def_status_list_free(list, n);
	cc_repo_free(repo);
	return rc;
}
