/*
 * certctl notify: send a test notification through the configured
 * channels (e-mail, webhook); what monitor sends is recorded the same way.
 */
#include <string.h>
#include "cli.h"

int cmd_notify(int argc, char **argv)
{
	const char *channel = NULL;
	int test = 0, report = 0, first, rc;
	cc_repo *repo = NULL;
	cc_notify_outcome *o = NULL;
	size_t n = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "test", &test, "send a test message through every channel"),
		OPT_BOOL(0, "report", &report, "send the status report (what monitor sends daily "
			 "with notify.daily_report)"),
		OPT_STR(0, "channel", &channel, "NAME", "only this channel: email or webhook"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl notify --test | --report [--channel email|webhook]",
			    "Send a test notification, or the status report, through the channels configured under "
			    "'notify' (e-mail, webhook); recorded in notify/log/, one commit.",
			    &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("notify", "unexpected argument '%s'", argv[first]);
	if (test == report)
		return cli_usage_error("notify", "give --test or --report");
	if (channel && strcmp(channel, "email") && strcmp(channel, "webhook"))
		return cli_usage_error("notify", "--channel is email or webhook");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (report) {
		rc = cc_notify_report(repo, channel, &o, &n) < 0 ? EXIT_FAIL : EXIT_OK;
		if (rc)
			cli_lib_error();
	} else {
		cc_buf text = CC_BUF_INIT;
		cc_message m;

		cc_buf_printf(&text, "This is a test notification from certctl for the repository "
			      "%s.\nIf you read it, monitor's notifications reach you.\n",
			      cc_repo_workdir(repo));
		memset(&m, 0, sizeof(m));
		m.subject = "certctl test notification";
		m.text = text.ptr;
		rc = cc_notify_send(repo, &m, channel, 1, &o, &n) < 0 ? EXIT_FAIL : EXIT_OK;
		if (rc)
			cli_lib_error();
		cc_buf_dispose(&text);
	}
	for (size_t i = 0; i < n; i++)
		if (o[i].ok)
			cli_info("%s: sent to %s\n", o[i].channel, o[i].detail ? o[i].detail : "");
	cc_notify_outcomes_free(o, n);
	cc_repo_free(repo);
	return rc;
}
