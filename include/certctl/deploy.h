/*
 * Deployment: from the repository to the servers.
 *
 * A definition lists its targets (certctl-definition(5)): where the files
 * go, what reloads the server, where the deploy check connects.  Each
 * target has a deployment record, deployments/<definition>/<target>.yaml,
 * whose state moves through prepared, install-requested, installed,
 * confirmed, failed and manually-confirmed; every change is one commit.
 */
#ifndef CERTCTL_DEPLOY_H
#define CERTCTL_DEPLOY_H

#include "common.h"
#include "buf.h"
#include "util.h"
#include "repo.h"
#include "secret.h"
#include "definition.h"
#include "json.h"

typedef enum {
	CC_DEPLOY_PREPARED = 0,
	CC_DEPLOY_INSTALL_REQUESTED,
	CC_DEPLOY_INSTALLED,
	CC_DEPLOY_CONFIRMED,
	CC_DEPLOY_FAILED,
	CC_DEPLOY_MANUALLY_CONFIRMED,
} cc_deploy_state;

/* "prepared", "install-requested", ... */
const char *cc_deploy_state_name(cc_deploy_state state);

typedef struct {
	char *time, *state, *cert, *message;
} cc_deploy_event;

/* The last deploy check of a target. */
typedef struct {
	char *time, *host, *sni;
	unsigned port;
	char *result;        /* ok, mismatch, missing-intermediate, rejected, error */
	char *served_sha256, *served_sha1, *served_subject;
	cc_strlist served_chain; /* subjects after the leaf, in the order served */
	cc_strlist missing;      /* needed intermediates not served */
	char *verdict;           /* the verifier's on the served chain: ok, warning, ... */
	cc_strlist findings;     /* its findings that are not OK: "RULE: message (status)" */
	char *message;
} cc_deploy_check;

/* A target's deployment record. */
typedef struct {
	char *definition, *target, *type;
	cc_deploy_state state;
	char *cert, *sha256, *sha1; /* the certificate this deployment is about */
	char *previous;             /* the one deployed before it; NULL at first */
	char *updated;
	cc_strlist files;           /* where it was installed */
	char **command;             /* the last test/reload/hook command run (argv) */
	int command_status;         /* its exit status, -1 when it did not exit */
	char *command_result;       /* "exited with status 1", "timeout", ... */
	char *command_output;       /* its output's last 4 KiB */
	int has_check;
	cc_deploy_check check;
	char *error;                /* why the state is failed */
	char *note;                 /* --confirm-manual --note */
	cc_deploy_event *history;   /* oldest first, at most 50 */
	size_t nhistory;
} cc_deployment;

void cc_deployment_free(cc_deployment *dep);
void cc_deployment_list_free(cc_deployment **deps, size_t count);

/* The record of `target` of `definition`; CC_ENOTFOUND when never deployed. */
int cc_deployment_load(cc_deployment **out, cc_repo *repo, const char *definition,
		       const char *target);

/* Every record (of `definition`, or of all definitions when NULL),
 * sorted by definition and target. */
int cc_deployment_list(cc_deployment ***out, size_t *count, cc_repo *repo,
		       const char *definition);

/* The record as JSON (certctl-json(7) "deployment"); NULL when out of memory. */
cc_json *cc_deployment_to_json(const cc_deployment *dep);

/* Whether a state ends a deployment process (confirmed, manually confirmed). */
int cc_deploy_state_done(cc_deploy_state state);

/*
 * Check one target's settings (type, keys, paths, argv lists) as the
 * definition loader does; errors point at the setting ("FILE:LINE:COL").
 */
int cc_target_check(const cc_target *target, const char *definition);

typedef enum {
	CC_DEPLOY_INSTALL = 0, /* prepare, install, reload, check */
	CC_DEPLOY_CHECK,       /* the deploy check only */
	CC_DEPLOY_CONFIRM,     /* mark manually confirmed */
	CC_DEPLOY_ROLLBACK,    /* install the previous certificate again */
	CC_DEPLOY_PACKAGE,     /* write an install package */
} cc_deploy_action;

typedef struct {
	unsigned version;
	cc_deploy_action action;
	const cc_strlist *targets; /* NULL or empty: every target */
	const char *cert_id;       /* install: a stored certificate; NULL: the current one */
	int no_check;              /* install/rollback: skip the deploy check */
	int dry_run;               /* say what would be done, do nothing */
	const char *note;          /* confirm: a note for the record */
	const char *package_out;   /* package: the archive to write; NULL: the target's `out` */
	const cc_secret *package_passphrase; /* package: encrypts the key inside */
	long check_timeout_ms;     /* 0: 10 s */
	/* Progress and dry-run lines ("writing /etc/...", "running nginx -t"). */
	void (*progress)(const char *line, void *payload);
	void *payload;
} cc_deploy_options;

#define CC_DEPLOY_OPTIONS_VERSION 1
#define CC_DEPLOY_OPTIONS_INIT { CC_DEPLOY_OPTIONS_VERSION, CC_DEPLOY_INSTALL, NULL, NULL, 0, 0, \
				 NULL, NULL, NULL, 0, NULL, NULL }

/*
 * Run `opts->action` for the chosen targets of definition `def`.
 *
 * Everything that can be known beforehand (target names and settings,
 * the certificate and its key, writable paths, commands that exist) is
 * checked for every chosen target before anything happens: such errors
 * return < 0 with nothing changed.  Then each target goes its way, one
 * commit per state change; a target that fails (a reload, a deploy check)
 * does not stop the others.  Returns 0 with the records of the chosen
 * targets in *out (their states say how each went), or < 0.
 */
int cc_deploy(cc_repo *repo, const char *def, const cc_deploy_options *opts,
	      cc_deployment ***out, size_t *count);

/*
 * Unattended renewal (certctl monitor): for a lifecycle-managed definition
 * with an unattended process, inside its renewal window (or without a
 * current certificate), acquire a new certificate from its provider and
 * deploy it to the targets marked `auto`; outside the window, deploy the
 * current certificate to auto targets that do not have it yet.
 */
typedef enum {
	CC_RENEW_SKIPPED = 0, /* not lifecycle-managed and unattended */
	CC_RENEW_NOT_DUE,     /* outside the renewal window, nothing pending */
	CC_RENEW_RENEWED,     /* a new certificate is current (no auto targets) */
	CC_RENEW_DEPLOYED,    /* ... and deployed */
	CC_RENEW_WAITING,     /* started; a manual CA must sign the CSR */
	CC_RENEW_FAILED,      /* stopped; the state is kept for the next run */
} cc_renew_action;

const char *cc_renew_action_name(cc_renew_action action);

typedef struct {
	char *definition;
	cc_renew_action action;
	char *message;
	char *request, *cert;   /* the request and certificate involved */
	size_t deploy_failed;
} cc_renew_result;

void cc_renew_result_dispose(cc_renew_result *r);

typedef struct {
	unsigned version;
	int dry_run;  /* say what is due, do nothing */
	int force;    /* renew even outside the window */
} cc_renew_options;

#define CC_RENEW_OPTIONS_VERSION 1
#define CC_RENEW_OPTIONS_INIT { CC_RENEW_OPTIONS_VERSION, 0, 0 }

/* One definition's step; what happened is in `r` (0 unless it could not run). */
int cc_renew(cc_repo *repo, const char *definition, const cc_renew_options *opts,
	     cc_renew_result *r);

#endif
