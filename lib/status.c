/*
 * The status of every definition at a glance: its current and next
 * certificates, the acquisition in progress, the deployments and the last
 * monitor result, gathered from the repository's files.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

void cc_def_status_dispose(cc_def_status *s)
{
	free(s->definition);
	free(s->mode);
	free(s->process);
	free(s->current);
	free(s->current_not_after);
	free(s->next);
	free(s->request);
	free(s->request_state);
	free(s->check_status);
	free(s->check_summary);
	free(s->check_time);
	cc_strlist_dispose(&s->allow);
	memset(s, 0, sizeof(*s));
}

void cc_def_status_list_free(cc_def_status *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		cc_def_status_dispose(&list[i]);
	free(list);
}

/* One definition, or one peer of it (name "DEF@PEER"). */
static int collect(cc_repo *repo, const cc_definition *def, const char *name, cc_def_status *s)
{
	cc_cert *cur = NULL;
	cc_request *req = NULL;
	cc_deployment **deps = NULL;
	cc_check_result *checks = NULL;
	cc_strlist ids = CC_STRLIST_INIT;
	size_t ndeps = 0, nchecks = 0;
	char base[160];
	int rc;

	memset(s, 0, sizeof(*s));
	s->definition = strdup(name);
	s->mode = strdup(cc_operation_mode_name(def->mode));
	s->process = strdup(cc_process_mode_name(def->process));
	s->monitored = def->monitor;
	cc_strlist_copy(&s->allow, &def->allow);
	if ((rc = cc_cert_current(&cur, NULL, NULL, repo, name)) == 0) {
		char when[32];

		s->current = strdup(cc_cert_id(cur));
		cc_time_rfc3339(cc_cert_not_after(cur), when);
		s->current_not_after = strdup(when);
		s->seconds_left = (long long)(cc_cert_not_after(cur) - time(NULL));
		s->has_current = 1;
		/* The next certificate: stored after the current one and newer. */
		if (cc_cert_list_ids(repo, name, &ids) == 0)
			for (size_t i = 0; i < ids.count; i++) {
				cc_cert *c = NULL;

				if (!strcmp(ids.items[i], s->current) ||
				    cc_cert_load(&c, NULL, NULL, repo, name, ids.items[i]) < 0) {
					cc_error_clear();
					continue;
				}
				if (cc_cert_not_after(c) > cc_cert_not_after(cur))
					cc_strset(&s->next, ids.items[i]);
				cc_cert_free(c);
			}
	}
	cc_error_clear();
	if (cc_request_open_for(&req, repo, name) == 0) {
		s->request = strdup(req->id);
		s->request_state = strdup(cc_request_state_name(req->state));
	}
	cc_error_clear();
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(name, "@"), name);
	if (cc_deployment_list(&deps, &ndeps, repo, base) == 0) {
		for (size_t i = 0; i < ndeps; i++) {
			const cc_deployment *d = deps[i];

			/* A peer counts its own targets only. */
			if (strchr(name, '@')) {
				int mine = 0;

				for (size_t t = 0; t < def->ntargets; t++)
					mine |= !strcmp(def->targets[t].name, d->target);
				if (!mine)
					continue;
			}
			s->deploy_total++;
			if (d->state == CC_DEPLOY_FAILED)
				s->deploy_failed++;
			else if ((cc_deploy_state_done(d->state) || d->state == CC_DEPLOY_INSTALLED) &&
				 s->current && d->cert && !strcmp(d->cert, s->current))
				s->deploy_done++;
		}
	}
	cc_error_clear();
	if (cc_check_last(repo, name, &checks, &nchecks) == 0 && nchecks) {
		cc_status worst = checks[0].status;
		size_t pick = 0;

		for (size_t i = 1; i < nchecks; i++)
			if (cc_status_worse(worst, checks[i].status) != worst) {
				worst = checks[i].status;
				pick = i;
			}
		s->check_status = strdup(cc_status_name(worst));
		s->check_summary = cc_strdup(checks[pick].summary);
		s->check_time = cc_strdup(checks[pick].time);
		s->check_failed = worst != CC_STATUS_OK;
	}
	cc_error_clear();
	cc_check_results_free(checks, nchecks);
	cc_deployment_list_free(deps, ndeps);
	cc_request_free(req);
	cc_cert_free(cur);
	cc_strlist_dispose(&ids);
	return s->definition && s->mode ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

int cc_status_collect(cc_repo *repo, cc_def_status **out, size_t *count)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_def_status *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = cc_definition_names(repo, &names)) < 0)
		return rc;
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		cc_definition *def = NULL;
		size_t parts;

		if ((rc = cc_definition_load(&def, repo, names.items[i])) < 0)
			break;
		parts = def->npeers ? def->npeers : 1;
		if (n + parts > cap) {
			cc_def_status *grown = realloc(list, (n + parts + 8) * sizeof(*grown));

			if (!grown) {
				cc_definition_free(def);
				rc = cc_error_set(CC_ERROR, "out of memory");
				break;
			}
			list = grown;
			cap = n + parts + 8;
		}
		for (size_t p = 0; p < parts && rc == 0; p++) {
			char ref[300];
			cc_definition *view = NULL;

			if (!def->npeers) {
				rc = collect(repo, def, def->name, &list[n++]);
				continue;
			}
			snprintf(ref, sizeof(ref), "%s@%s", def->name, def->peers[p].name);
			if ((rc = cc_definition_load(&view, repo, ref)) == 0)
				rc = collect(repo, view, ref, &list[n++]);
			cc_definition_free(view);
		}
		cc_definition_free(def);
	}
	cc_strlist_dispose(&names);
	if (rc < 0) {
		cc_def_status_list_free(list, n);
		return rc;
	}
	*out = list;
	*count = n;
	return 0;
}

int cc_def_status_renewal_started(const cc_def_status *s)
{
	return s->request != NULL || s->next != NULL;
}

cc_json *cc_def_status_to_json(const cc_def_status *s)
{
	cc_json *o = cc_json_object(), *cur = cc_json_object(), *dep = cc_json_object();
	cc_json *chk = s->check_status ? cc_json_object() : cc_json_null();
	int rc = 0;

	if (!o || !cur || !dep || !chk) {
		cc_json_free(o);
		cc_json_free(cur);
		cc_json_free(dep);
		cc_json_free(chk);
		return NULL;
	}
	rc |= cc_json_set_str(o, "definition", s->definition);
	rc |= cc_json_set_str(o, "mode", s->mode);
	rc |= cc_json_set_str(o, "process", s->process);
	rc |= cc_json_set_bool(o, "monitored", s->monitored);
	rc |= cc_json_set_str(cur, "id", s->current);
	rc |= cc_json_set_str(cur, "not_after", s->current_not_after);
	if (s->has_current)
		rc |= cc_json_set_int(cur, "days_left", s->seconds_left / 86400);
	else
		rc |= cc_json_set(cur, "days_left", cc_json_null());
	rc |= cc_json_set(o, "current", cur);
	rc |= cc_json_set_str(o, "next", s->next);
	rc |= cc_json_set_str(o, "request", s->request);
	rc |= cc_json_set_str(o, "request_state", s->request_state);
	rc |= cc_json_set_int(dep, "targets", (long long)s->deploy_total);
	rc |= cc_json_set_int(dep, "current", (long long)s->deploy_done);
	rc |= cc_json_set_int(dep, "failed", (long long)s->deploy_failed);
	rc |= cc_json_set(o, "deployments", dep);
	if (s->check_status) {
		rc |= cc_json_set_str(chk, "status", s->check_status);
		rc |= cc_json_set_str(chk, "summary", s->check_summary);
		rc |= cc_json_set_str(chk, "time", s->check_time);
	}
	rc |= cc_json_set(o, "last_check", chk);
	{
		cc_json *allow = cc_json_array();

		for (size_t i = 0; i < s->allow.count; i++)
			rc |= cc_json_append_str(allow, s->allow.items[i]);
		rc |= cc_json_set(o, "allow", allow);
	}
	if (rc) {
		cc_json_free(o);
		return NULL;
	}
	return o;
}
