/*
 * Notifications: e-mail through SMTP (libcurl; STARTTLS required unless
 * configured otherwise, password from a file) and webhooks (a JSON POST),
 * configured under `notify` in the repository configuration.  Every
 * notification sent is recorded in the repository (notify/log/), so a
 * team sees who was told what, and when.
 */
#ifndef CERTCTL_NOTIFY_H
#define CERTCTL_NOTIFY_H

#include "common.h"
#include "buf.h"
#include "repo.h"
#include "json.h"
#include "check.h"
#include "deploy.h"
#include "status.h"

typedef struct {
	const char *subject;   /* one line */
	const char *text;      /* the plain-text body */
	const char *html;      /* an HTML alternative, or NULL */
	const cc_json *json;   /* the webhook's payload (NULL: subject and text) */
} cc_message;

/* The channels configured: "email", "webhook". */
int cc_notify_channels(const cc_repo *repo, cc_strlist *out);

typedef struct {
	char *channel;
	int ok;
	char *detail;   /* recipients or URL; the error when not ok */
} cc_notify_outcome;

/*
 * Send `m` through every configured channel (or only `channel`), record
 * it in notify/log/ (one commit, unless `record` is 0).  0 when every
 * channel took it; CC_ENOTFOUND when none is configured; CC_ENET when one
 * failed (the others are still tried; `outcomes` says which).
 */
int cc_notify_send(cc_repo *repo, const cc_message *m, const char *channel, int record,
		   cc_notify_outcome **outcomes, size_t *count);
void cc_notify_outcomes_free(cc_notify_outcome *o, size_t count);

/*
 * After a monitor run: tell the administrator what needs attention (checks
 * not OK, renewals that failed or wait for a person, deployments that
 * failed), once per change of that list and again after `notify.repeat`
 * (default 24 h); and "all clear" when problems told before are gone.
 * *sent is 1 when a notification went out.
 */
int cc_notify_monitor(cc_repo *repo, const cc_check_result *checks, size_t nchecks,
		      const cc_renew_result *renewals, size_t nrenewals, int *sent);

/* The status of every definition (text, HTML, JSON) through the channels
 * (or `channel` only), recorded like any notification. */
int cc_notify_report(cc_repo *repo, const char *channel, cc_notify_outcome **outcomes,
		     size_t *count);

/* With notify.daily_report: true, the report once a day (UTC), at the
 * first monitor run of the day; notify/report keeps the date sent. */
int cc_notify_daily(cc_repo *repo, int *sent);

#endif
