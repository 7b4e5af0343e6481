/*
 * Status views: each definition (and each cluster peer) with its current
 * and next certificate, its open acquisition, its deployments and its last
 * monitor result, read from the repository.
 */
#ifndef CERTCTL_STATUS_H
#define CERTCTL_STATUS_H

#include "common.h"
#include "repo.h"
#include "json.h"

typedef struct {
	char *definition;        /* DEF, or DEF@PEER */
	char *mode, *process;
	int monitored;
	int has_current;
	char *current;           /* id of the current certificate, or NULL */
	char *current_not_after;
	long long seconds_left;  /* until the current certificate expires */
	char *next;              /* a stored certificate that outlives the current one */
	char *request, *request_state; /* the open acquisition */
	size_t deploy_total, deploy_done, deploy_failed; /* deployment records */
	char *check_status, *check_summary, *check_time; /* the last check (worst endpoint) */
	int check_failed;
	cc_strlist allow;        /* the verifier rules the definition excepts */
} cc_def_status;

/* The status of every definition, sorted by name (peers after their definition). */
int cc_status_collect(cc_repo *repo, cc_def_status **out, size_t *count);
void cc_def_status_dispose(cc_def_status *s);
void cc_def_status_list_free(cc_def_status *list, size_t count);
/* Whether a renewal has started: an open acquisition or a next certificate. */
int cc_def_status_renewal_started(const cc_def_status *s);
/* The status as JSON (certctl-json(7) "status"). */
cc_json *cc_def_status_to_json(const cc_def_status *s);

#endif
