/*
 * Unattended renewal: what `certctl monitor` does for a lifecycle-managed
 * definition whose process is unattended.  Inside the renewal window (or
 * with no current certificate) it acquires a new certificate from the
 * definition's provider (the built-in CA at once, ACME through the whole
 * exchange, a manual CA by starting the request and waiting), then deploys
 * it to the targets marked for automatic installation, with their deploy
 * checks.  Whatever cannot go on stays in a resumable state: the open
 * request, the failed deployment; the next run takes it up again.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "deploy_internal.h"

const char *cc_renew_action_name(cc_renew_action action)
{
	static const char *const names[] = { "skipped", "not-due", "renewed", "deployed",
					     "waiting", "failed" };

	return (size_t)action < CC_ARRAY_SIZE(names) ? names[action] : "?";
}

void cc_renew_result_dispose(cc_renew_result *r)
{
	free(r->definition);
	free(r->message);
	free(r->request);
	free(r->cert);
	memset(r, 0, sizeof(*r));
}

static void set_result(cc_renew_result *r, cc_renew_action action, const char *fmt, ...)
	CC_PRINTF(3, 4);
static void set_result(cc_renew_result *r, cc_renew_action action, const char *fmt, ...)
{
	cc_buf msg = CC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	cc_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	r->action = action;
	free(r->message);
	r->message = cc_buf_detach(&msg);
}

static int commit_request(cc_txn *txn, const cc_definition *def, const cc_request *req,
			  const cc_cert *cert, const char *what)
{
	cc_buf summary = CC_BUF_INIT;
	int rc;

	cc_buf_printf(&summary, "acquire: %s: %s", def->name, what);
	if ((rc = cc_txn_trailer(txn, "Certctl-Definition", def->name)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Request", req->id)) < 0 ||
	    (cert && (rc = cc_txn_trailer(txn, "Certctl-Certificate", cc_cert_id(cert))) < 0) ||
	    (rc = cc_txn_trailer(txn, "Certctl-Process", "unattended")) < 0) {
		cc_txn_abort(txn);
		cc_buf_dispose(&summary);
		return rc;
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	cc_buf_dispose(&summary);
	return rc;
}

/* When the current certificate is due: its expiry minus the window. */
static int due(cc_repo *repo, const cc_definition *def, time_t now, time_t *when, int *has_current)
{
	cc_cert *cur = NULL;
	int rc = cc_cert_current(&cur, NULL, NULL, repo, def->name);

	*has_current = 0;
	*when = now;
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		return 1;
	}
	if (rc < 0)
		return rc;
	*has_current = 1;
	*when = cc_cert_not_after(cur) - (time_t)def->renew_before;
	cc_cert_free(cur);
	return *when <= now;
}

/* Acquire: returns 1 with a new current certificate, 0 when waiting, 2 when
 * another run acquired it meanwhile, < 0. */
static int acquire(cc_repo *repo, const cc_definition *def, int force, cc_renew_result *r)
{
	cc_request *req = NULL;
	cc_cert *cert = NULL;
	cc_txn *txn = NULL;
	cc_buf what = CC_BUF_INIT;
	int rc;

	rc = cc_request_open_for(&req, repo, def->name);
	if (rc < 0 && rc != CC_ENOTFOUND)
		return rc;
	cc_error_clear();
	if (!req) {
		cc_acquire_options opts = CC_ACQUIRE_OPTIONS_INIT;

		opts.reuse_key = def->reuse_key;
		if ((rc = cc_txn_begin(&txn, repo, "acquire")) < 0)
			goto done;
		/* Another run (a second monitor) may have acquired it while this
		 * one waited for the lock: due is decided again under the lock. */
		if (!force) {
			time_t when;
			int has_current, still = due(repo, def, time(NULL), &when, &has_current);

			if (still <= 0) {
				cc_txn_abort(txn);
				rc = still < 0 ? still : 2;
				goto done;
			}
		}
		if ((rc = cc_acquire_start(txn, def, &opts, &req)) < 0) {
			cc_txn_abort(txn);
			goto done;
		}
		if (!strcmp(req->provider_type, "builtin")) {
			if ((rc = cc_acquire_builtin(txn, def, req, &cert)) < 0) {
				cc_txn_abort(txn);
				goto done;
			}
			cc_buf_printf(&what, "certificate %s issued by the built-in CA (request %s)",
				      cc_cert_id(cert), req->id);
		} else {
			cc_buf_printf(&what, "%s acquisition started from %s (request %s)", req->kind,
				      req->provider, req->id);
		}
		if ((rc = commit_request(txn, def, req, cert, what.ptr)) < 0)
			goto done;
	}
	r->request = cc_strdup(req->id);
	if (!cert && !strcmp(req->provider_type, "acme")) {
		cc_receive_options ropts = CC_RECEIVE_OPTIONS_INIT;

		if ((rc = cc_acme_acquire(repo, def, req, &ropts, &cert)) < 0) {
			rc = cc_error_set(rc, "%s (request %s kept; the next run retries)",
					  cc_error_last(), req->id);
			goto done;
		}
	} else if (!cert) {
		/* A manual CA: the CSR goes to it by hand. */
		set_result(r, CC_RENEW_WAITING, "request %s waits for the certificate from %s: "
			   "'certctl acquire %s --csr-out FILE', then --receive", req->id,
			   req->provider, def->name);
		rc = 0;
		goto done;
	}
	r->cert = cc_strdup(cc_cert_id(cert));
	rc = 1;
done:
	cc_buf_dispose(&what);
	cc_cert_free(cert);
	cc_request_free(req);
	return rc;
}

/* Whether `target` still needs certificate `current`: never deployed, an
 * older certificate, or a deployment that failed or was interrupted. */
static int pending(cc_repo *repo, const char *def, const char *target, const char *current)
{
	cc_deployment *d = NULL;
	int yes;

	if (cc_deployment_load(&d, repo, def, target) < 0) {
		cc_error_clear();
		return 1;
	}
	yes = !d->cert || strcmp(d->cert, current) || d->state == CC_DEPLOY_FAILED ||
	      d->state == CC_DEPLOY_PREPARED;
	cc_deployment_free(d);
	return yes;
}

/* Deploy to the targets that may be installed unattended (with
 * `only_pending`, those that do not have the current certificate yet). */
static int deploy_auto(cc_repo *repo, const cc_definition *def, cc_renew_result *r,
		       int only_pending, int *deployed)
{
	char *current = NULL, base[160];
	cc_strlist targets = CC_STRLIST_INIT;
	cc_deploy_options opts = CC_DEPLOY_OPTIONS_INIT;
	cc_deployment **deps = NULL;
	size_t n = 0, failed = 0;
	cc_buf why = CC_BUF_INIT;
	int rc = 0;

	/* A peer's targets keep their records under the definition's name. */
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(def->name, "@"), def->name);
	*deployed = 0;
	if (cc_cert_current_id(&current, repo, def->name) < 0) {
		cc_error_clear();
		if (only_pending)
			return 0;
	}
	for (size_t i = 0; i < def->ntargets; i++) {
		deploy_target t;

		if (target_resolve(&t, &def->targets[i], def->name) < 0) {
			cc_error_clear();
			continue;
		}
		if (t.auto_install && t.type != TT_PACKAGE &&
		    (!only_pending || (current && pending(repo, base, t.name, current))))
			cc_strlist_add(&targets, t.name);
		target_dispose(&t);
	}
	if (!targets.count)
		goto done;
	opts.targets = &targets;
	if ((rc = cc_deploy(repo, def->name, &opts, &deps, &n)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (deps[i]->state == CC_DEPLOY_FAILED) {
			cc_buf_printf(&why, "%s%s: %s", failed ? "; " : "", deps[i]->target,
				      deps[i]->error ? deps[i]->error : "failed");
			failed++;
		}
	*deployed = (int)(n - failed);
	r->deploy_failed = failed;
	if (failed)
		rc = cc_error_set(CC_ERROR, "deployment failed on %zu of %zu targets: %s", failed, n,
				  why.ptr);
done:
	free(current);
	cc_deployment_list_free(deps, n);
	cc_strlist_dispose(&targets);
	cc_buf_dispose(&why);
	return rc;
}

int cc_renew(cc_repo *repo, const char *name, const cc_renew_options *opts, cc_renew_result *r)
{
	cc_definition *def = NULL;
	time_t now = time(NULL), when;
	int has_current, rc, deployed = 0;
	char date[32];

	memset(r, 0, sizeof(*r));
	r->definition = strdup(name);
	if ((rc = cc_definition_load(&def, repo, name)) < 0) {
		set_result(r, CC_RENEW_FAILED, "%s", cc_error_last());
		return rc;
	}
	if (def->mode != CC_MODE_LIFECYCLE || def->process != CC_PROCESS_UNATTENDED || def->npeers) {
		set_result(r, CC_RENEW_SKIPPED, def->npeers ? "cluster peers renew one by one "
			   "(DEF@PEER)" : "not lifecycle-managed and unattended");
		goto done;
	}
	if ((rc = due(repo, def, now, &when, &has_current)) < 0) {
		set_result(r, CC_RENEW_FAILED, "%s", cc_error_last());
		goto done;
	}
	if (!rc && !(opts && opts->force)) {
		cc_time_rfc3339(when, date);
		set_result(r, CC_RENEW_NOT_DUE, "renewal window opens %s", date);
		/* A deployment that failed or was interrupted is taken up again. */
		if (!(opts && opts->dry_run)) {
			rc = deploy_auto(repo, def, r, 1, &deployed);
			if (rc < 0)
				set_result(r, CC_RENEW_FAILED, "%s (the next run retries)",
					   cc_error_last());
			else if (deployed)
				set_result(r, CC_RENEW_DEPLOYED, "the current certificate is deployed "
					   "to %d more target%s", deployed, deployed == 1 ? "" : "s");
		}
		goto done;
	}
	if (opts && opts->dry_run) {
		set_result(r, CC_RENEW_WAITING, "due: would %s and deploy", has_current ?
			   "renew" : "acquire the first certificate");
		rc = 0;
		goto done;
	}
	if ((rc = acquire(repo, def, opts && opts->force, r)) < 0) {
		set_result(r, CC_RENEW_FAILED, "%s", cc_error_last());
		goto done;
	}
	if (rc == 0)
		goto done; /* waiting for a manual CA */
	if (rc == 2) {
		set_result(r, CC_RENEW_NOT_DUE, "acquired meanwhile by another run");
		rc = 0;
		goto done;
	}
	set_result(r, CC_RENEW_RENEWED, "certificate %s is current", r->cert);
	if ((rc = deploy_auto(repo, def, r, 0, &deployed)) < 0) {
		set_result(r, CC_RENEW_FAILED, "certificate %s is current, but %s (the next run "
			   "or 'certctl deploy %s' retries)", r->cert, cc_error_last(), name);
		goto done;
	}
	if (deployed)
		set_result(r, CC_RENEW_DEPLOYED, "certificate %s is current and deployed to %d "
			   "target%s", r->cert, deployed, deployed == 1 ? "" : "s");
	rc = 0;
done:
	cc_error_clear();
	cc_definition_free(def);
	return rc < 0 ? rc : 0;
}
