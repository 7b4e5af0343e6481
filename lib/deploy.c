/*
 * The deployment process: for each chosen target of a definition, prepare
 * the files, install them (atomic replace, old files kept), run the
 * server's test and reload, and check by fingerprint that the server
 * presents the certificate with its intermediates.  Each state change of a
 * target is one commit of its record, deployments/<def>/<target>.yaml, so
 * `certctl log DEF` is the deployment history.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "deploy_internal.h"
#include "certctl/verify.h"

#define HISTORY_MAX 50

static const char *const state_names[] = {
	"prepared", "install-requested", "installed", "confirmed", "failed", "manually-confirmed",
};

const char *cc_deploy_state_name(cc_deploy_state state)
{
	return (size_t)state < CC_ARRAY_SIZE(state_names) ? state_names[state] : "unknown";
}

int cc_deploy_state_done(cc_deploy_state state)
{
	return state == CC_DEPLOY_CONFIRMED || state == CC_DEPLOY_MANUALLY_CONFIRMED;
}

static void check_dispose(cc_deploy_check *c)
{
	free(c->time);
	free(c->host);
	free(c->sni);
	free(c->result);
	free(c->served_sha256);
	free(c->served_sha1);
	free(c->served_subject);
	cc_strlist_dispose(&c->served_chain);
	cc_strlist_dispose(&c->missing);
	free(c->verdict);
	cc_strlist_dispose(&c->findings);
	free(c->message);
	memset(c, 0, sizeof(*c));
}

static void command_clear(cc_deployment *d)
{
	argv_free(d->command);
	d->command = NULL;
	d->command_status = -1;
	free(d->command_result);
	free(d->command_output);
	d->command_result = d->command_output = NULL;
}

void cc_deployment_free(cc_deployment *d)
{
	if (!d)
		return;
	free(d->definition);
	free(d->target);
	free(d->type);
	free(d->cert);
	free(d->sha256);
	free(d->sha1);
	free(d->previous);
	free(d->updated);
	cc_strlist_dispose(&d->files);
	command_clear(d);
	check_dispose(&d->check);
	free(d->error);
	free(d->note);
	for (size_t i = 0; i < d->nhistory; i++) {
		free(d->history[i].time);
		free(d->history[i].state);
		free(d->history[i].cert);
		free(d->history[i].message);
	}
	free(d->history);
	free(d);
}

void cc_deployment_list_free(cc_deployment **deps, size_t count)
{
	for (size_t i = 0; i < count; i++)
		cc_deployment_free(deps[i]);
	free(deps);
}

/* --- the record file ---------------------------------------------------- */

static int record_format(const cc_deployment *d, cc_buf *out)
{
	cc_yaml_writer *w = NULL;
	char num[32];
	int rc;

	cc_buf_puts(out, "# certctl deployment record; see certctl-repository(5).\n");
	if ((rc = cc_yaml_writer_new(&w, out)) < 0)
		return rc;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "definition", d->definition);
	rc = rc ? rc : cc_yaml_put(w, "target", d->target);
	rc = rc ? rc : cc_yaml_put(w, "type", d->type);
	rc = rc ? rc : cc_yaml_put(w, "state", cc_deploy_state_name(d->state));
	rc = rc ? rc : cc_yaml_put(w, "cert", d->cert);
	rc = rc ? rc : cc_yaml_put(w, "sha256", d->sha256);
	rc = rc ? rc : cc_yaml_put(w, "sha1", d->sha1);
	rc = rc ? rc : cc_yaml_put(w, "previous", d->previous);
	rc = rc ? rc : cc_yaml_put(w, "updated", d->updated);
	rc = rc ? rc : cc_yaml_put_list(w, "files", &d->files, 0);
	if (rc == 0 && d->command) {
		rc = cc_yaml_key(w, "command");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_key(w, "argv");
		rc = rc ? rc : cc_yaml_seq_start(w, 1);
		for (char **a = d->command; *a && rc == 0; a++)
			rc = cc_yaml_scalar(w, *a);
		rc = rc ? rc : cc_yaml_seq_end(w);
		snprintf(num, sizeof(num), "%d", d->command_status);
		rc = rc ? rc : cc_yaml_key(w, "status");
		rc = rc ? rc : cc_yaml_plain(w, num);
		rc = rc ? rc : cc_yaml_put(w, "result", d->command_result);
		if (rc == 0 && d->command_output && *d->command_output) {
			rc = cc_yaml_key(w, "output");
			rc = rc ? rc : cc_yaml_block(w, d->command_output);
		}
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	if (rc == 0 && d->has_check) {
		const cc_deploy_check *c = &d->check;

		rc = cc_yaml_key(w, "check");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put(w, "time", c->time);
		rc = rc ? rc : cc_yaml_put(w, "host", c->host);
		snprintf(num, sizeof(num), "%u", c->port);
		rc = rc ? rc : cc_yaml_key(w, "port");
		rc = rc ? rc : cc_yaml_plain(w, num);
		rc = rc ? rc : cc_yaml_put(w, "sni", c->sni);
		rc = rc ? rc : cc_yaml_put(w, "result", c->result);
		rc = rc ? rc : cc_yaml_put(w, "served_sha256", c->served_sha256);
		rc = rc ? rc : cc_yaml_put(w, "served_sha1", c->served_sha1);
		rc = rc ? rc : cc_yaml_put(w, "served_subject", c->served_subject);
		rc = rc ? rc : cc_yaml_put_list(w, "served_chain", &c->served_chain, 0);
		rc = rc ? rc : cc_yaml_put_list(w, "missing", &c->missing, 0);
		rc = rc ? rc : cc_yaml_put(w, "verdict", c->verdict);
		rc = rc ? rc : cc_yaml_put_list(w, "findings", &c->findings, 0);
		rc = rc ? rc : cc_yaml_put(w, "message", c->message);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	rc = rc ? rc : cc_yaml_put(w, "error", d->error);
	rc = rc ? rc : cc_yaml_put(w, "note", d->note);
	if (rc == 0 && d->nhistory) {
		rc = cc_yaml_key(w, "history");
		rc = rc ? rc : cc_yaml_seq_start(w, 0);
		for (size_t i = 0; i < d->nhistory && rc == 0; i++) {
			rc = cc_yaml_map_start(w);
			rc = rc ? rc : cc_yaml_put(w, "time", d->history[i].time);
			rc = rc ? rc : cc_yaml_put(w, "state", d->history[i].state);
			rc = rc ? rc : cc_yaml_put(w, "cert", d->history[i].cert);
			rc = rc ? rc : cc_yaml_put(w, "message", d->history[i].message);
			rc = rc ? rc : cc_yaml_map_end(w);
		}
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	return rc;
}

static char *scalar_dup(const cc_node *map, const char *key)
{
	const char *s = cc_node_scalar(cc_node_get(map, key));

	return s ? strdup(s) : NULL;
}

static int read_list(const cc_node *node, cc_strlist *out)
{
	int rc = 0;

	for (size_t i = 0; node && i < cc_node_count(node) && rc == 0; i++)
		if (cc_node_scalar(cc_node_at(node, i)))
			rc = cc_strlist_add(out, cc_node_scalar(cc_node_at(node, i)));
	return rc;
}

static int record_parse(cc_deployment **out, const cc_node *root, const char *file)
{
	cc_deployment *d = calloc(1, sizeof(*d));
	const cc_node *v;
	const char *state;
	int rc = 0;

	*out = NULL;
	if (!d)
		return cc_error_set(CC_ERROR, "out of memory");
	d->command_status = -1;
	if (cc_node_kind(root) != CC_NODE_MAPPING) {
		cc_deployment_free(d);
		return cc_error_set(CC_EINVALID, "%s: not a deployment record", file);
	}
	d->definition = scalar_dup(root, "definition");
	d->target = scalar_dup(root, "target");
	d->type = scalar_dup(root, "type");
	d->cert = scalar_dup(root, "cert");
	d->sha256 = scalar_dup(root, "sha256");
	d->sha1 = scalar_dup(root, "sha1");
	d->previous = scalar_dup(root, "previous");
	d->updated = scalar_dup(root, "updated");
	d->error = scalar_dup(root, "error");
	d->note = scalar_dup(root, "note");
	state = cc_node_scalar(cc_node_get(root, "state"));
	d->state = (cc_deploy_state)-1;
	for (size_t i = 0; state && i < CC_ARRAY_SIZE(state_names); i++)
		if (!strcmp(state, state_names[i]))
			d->state = (cc_deploy_state)i;
	if ((int)d->state < 0 || !d->definition || !d->target) {
		cc_deployment_free(d);
		return cc_error_set(CC_EINVALID, "%s: a deployment record needs definition, target "
				    "and a known state", file);
	}
	rc = read_list(cc_node_get(root, "files"), &d->files);
	if (rc == 0 && (v = cc_node_get(root, "command"))) {
		const cc_node *argv = cc_node_get(v, "argv");
		size_t n = cc_node_count(argv);

		if (n && (d->command = calloc(n + 1, sizeof(char *))))
			for (size_t i = 0; i < n; i++)
				d->command[i] = strdup(cc_node_scalar(cc_node_at(argv, i)) ?
						       cc_node_scalar(cc_node_at(argv, i)) : "");
		if (cc_node_scalar(cc_node_get(v, "status")))
			d->command_status = atoi(cc_node_scalar(cc_node_get(v, "status")));
		d->command_result = scalar_dup(v, "result");
		d->command_output = scalar_dup(v, "output");
	}
	if (rc == 0 && (v = cc_node_get(root, "check"))) {
		cc_deploy_check *c = &d->check;
		unsigned long port = 0;

		d->has_check = 1;
		c->time = scalar_dup(v, "time");
		c->host = scalar_dup(v, "host");
		if (cc_node_get(v, "port") && cc_node_uint(cc_node_get(v, "port"), 65535, &port) < 0)
			cc_error_clear();
		c->port = (unsigned)port;
		c->sni = scalar_dup(v, "sni");
		c->result = scalar_dup(v, "result");
		c->served_sha256 = scalar_dup(v, "served_sha256");
		c->served_sha1 = scalar_dup(v, "served_sha1");
		c->served_subject = scalar_dup(v, "served_subject");
		c->message = scalar_dup(v, "message");
		rc = read_list(cc_node_get(v, "served_chain"), &c->served_chain);
		rc = rc ? rc : read_list(cc_node_get(v, "missing"), &c->missing);
		c->verdict = scalar_dup(v, "verdict");
		rc = rc ? rc : read_list(cc_node_get(v, "findings"), &c->findings);
	}
	v = cc_node_get(root, "history");
	if (rc == 0 && v && cc_node_count(v)) {
		d->history = calloc(cc_node_count(v), sizeof(*d->history));
		if (!d->history)
			rc = cc_error_set(CC_ERROR, "out of memory");
		for (size_t i = 0; rc == 0 && i < cc_node_count(v); i++) {
			const cc_node *e = cc_node_at(v, i);

			d->history[i].time = scalar_dup(e, "time");
			d->history[i].state = scalar_dup(e, "state");
			d->history[i].cert = scalar_dup(e, "cert");
			d->history[i].message = scalar_dup(e, "message");
			d->nhistory = i + 1;
		}
	}
	if (rc < 0) {
		cc_deployment_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int cc_deployment_load(cc_deployment **out, cc_repo *repo, const char *definition,
		       const char *target)
{
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_node *root = NULL;
	int rc;

	*out = NULL;
	if ((rc = cc_buf_printf(&rel, "deployments/%s/%s.yaml", definition, target)) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	if (!cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_ENOTFOUND, "target '%s' of %s has not been deployed", target,
				  definition);
		goto done;
	}
	if ((rc = cc_node_load(&root, abs.ptr, rel.ptr)) < 0)
		goto done;
	rc = record_parse(out, root, rel.ptr);
done:
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return rc;
}

int cc_deployment_list(cc_deployment ***out, size_t *count, cc_repo *repo, const char *definition)
{
	cc_strlist defs = CC_STRLIST_INIT, files = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	cc_deployment **list = NULL;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if ((rc = cc_repo_path(repo, "deployments", &dir)) < 0)
		goto done;
	if (definition)
		rc = cc_strlist_add(&defs, definition);
	else if (cc_fs_is_dir(dir.ptr))
		rc = cc_fs_list(&defs, dir.ptr, NULL);
	for (size_t i = 0; i < defs.count && rc == 0; i++) {
		cc_buf sub = CC_BUF_INIT;

		cc_strlist_dispose(&files);
		if ((rc = cc_buf_printf(&sub, "%s/%s", dir.ptr, defs.items[i])) == 0 &&
		    cc_fs_is_dir(sub.ptr))
			rc = cc_fs_list(&files, sub.ptr, ".yaml");
		cc_buf_dispose(&sub);
		for (size_t j = 0; j < files.count && rc == 0; j++) {
			char *target = strdup(files.items[j]);
			cc_deployment **grown;

			if (!target || !(grown = realloc(list, (n + 1) * sizeof(*list)))) {
				free(target);
				rc = cc_error_set(CC_ERROR, "out of memory");
				break;
			}
			list = grown;
			target[strlen(target) - 5] = '\0';
			rc = cc_deployment_load(&list[n], repo, defs.items[i], target);
			free(target);
			if (rc == 0)
				n++;
		}
	}
	if (rc < 0) {
		cc_deployment_list_free(list, n);
		goto done;
	}
	*out = list;
	*count = n;
done:
	cc_strlist_dispose(&defs);
	cc_strlist_dispose(&files);
	cc_buf_dispose(&dir);
	return rc;
}

static cc_json *strlist_json(const cc_strlist *l)
{
	cc_json *arr = cc_json_array();

	for (size_t i = 0; arr && i < l->count; i++)
		cc_json_append_str(arr, l->items[i]);
	return arr;
}

cc_json *cc_deployment_to_json(const cc_deployment *d)
{
	cc_json *o = cc_json_object(), *h;
	int rc = 0;

	if (!o)
		return NULL;
	rc |= cc_json_set_str(o, "definition", d->definition);
	rc |= cc_json_set_str(o, "target", d->target);
	rc |= cc_json_set_str(o, "type", d->type);
	rc |= cc_json_set_str(o, "state", cc_deploy_state_name(d->state));
	rc |= cc_json_set_str(o, "cert", d->cert);
	rc |= cc_json_set_str(o, "sha256", d->sha256);
	rc |= cc_json_set_str(o, "sha1", d->sha1);
	rc |= cc_json_set_str(o, "previous", d->previous);
	rc |= cc_json_set_str(o, "updated", d->updated);
	rc |= cc_json_set(o, "files", strlist_json(&d->files));
	if (d->command) {
		cc_json *c = cc_json_object(), *argv = cc_json_array();

		for (char **a = d->command; *a; a++)
			rc |= cc_json_append_str(argv, *a);
		rc |= cc_json_set(c, "argv", argv);
		rc |= cc_json_set_int(c, "status", d->command_status);
		rc |= cc_json_set_str(c, "result", d->command_result);
		rc |= cc_json_set_str(c, "output", d->command_output ? d->command_output : "");
		rc |= cc_json_set(o, "command", c);
	} else {
		rc |= cc_json_set(o, "command", cc_json_null());
	}
	if (d->has_check) {
		const cc_deploy_check *ck = &d->check;
		cc_json *c = cc_json_object();

		rc |= cc_json_set_str(c, "time", ck->time);
		rc |= cc_json_set_str(c, "host", ck->host);
		rc |= cc_json_set_int(c, "port", ck->port);
		rc |= cc_json_set_str(c, "sni", ck->sni);
		rc |= cc_json_set_str(c, "result", ck->result);
		rc |= cc_json_set_str(c, "served_sha256", ck->served_sha256);
		rc |= cc_json_set_str(c, "served_sha1", ck->served_sha1);
		rc |= cc_json_set_str(c, "served_subject", ck->served_subject);
		rc |= cc_json_set(c, "served_chain", strlist_json(&ck->served_chain));
		rc |= cc_json_set(c, "missing", strlist_json(&ck->missing));
		rc |= cc_json_set_str(c, "verdict", ck->verdict);
		rc |= cc_json_set(c, "findings", strlist_json(&ck->findings));
		rc |= cc_json_set_str(c, "message", ck->message);
		rc |= cc_json_set(o, "check", c);
	} else {
		rc |= cc_json_set(o, "check", cc_json_null());
	}
	rc |= cc_json_set_str(o, "error", d->error);
	rc |= cc_json_set_str(o, "note", d->note);
	h = cc_json_array();
	for (size_t i = 0; h && i < d->nhistory; i++) {
		cc_json *e = cc_json_object();

		rc |= cc_json_set_str(e, "time", d->history[i].time);
		rc |= cc_json_set_str(e, "state", d->history[i].state);
		rc |= cc_json_set_str(e, "cert", d->history[i].cert);
		rc |= cc_json_set_str(e, "message", d->history[i].message);
		rc |= cc_json_append(h, e);
	}
	rc |= cc_json_set(o, "history", h);
	if (rc) {
		cc_json_free(o);
		return NULL;
	}
	return o;
}

/* --- one target's process ----------------------------------------------- */

typedef struct {
	cc_repo *repo;
	const cc_definition *def;
	const cc_deploy_options *opts;
} deploy_ctx;

static void say(const deploy_ctx *ctx, const char *fmt, ...) CC_PRINTF(2, 3);
static void say(const deploy_ctx *ctx, const char *fmt, ...)
{
	cc_buf line = CC_BUF_INIT;
	va_list ap;

	if (!ctx->opts->progress)
		return;
	va_start(ap, fmt);
	cc_buf_vprintf(&line, fmt, ap);
	va_end(ap);
	if (line.ptr)
		ctx->opts->progress(line.ptr, ctx->opts->payload);
	cc_buf_dispose(&line);
}

/* Set the state (with a history entry) and commit the record. */
static int record_commit(const deploy_ctx *ctx, cc_deployment *d, cc_deploy_state state,
			 const char *message)
{
	cc_buf text = CC_BUF_INIT, rel = CC_BUF_INIT, summary = CC_BUF_INIT;
	cc_txn *txn = NULL;
	cc_deploy_event *ev;
	char now[32];
	int rc;

	cc_time_now_rfc3339(now);
	d->state = state;
	cc_strset(&d->updated, now);
	if (d->nhistory == HISTORY_MAX) {
		free(d->history[0].time);
		free(d->history[0].state);
		free(d->history[0].cert);
		free(d->history[0].message);
		memmove(d->history, d->history + 1, (HISTORY_MAX - 1) * sizeof(*d->history));
		d->nhistory--;
	} else {
		cc_deploy_event *grown = realloc(d->history, (d->nhistory + 1) * sizeof(*grown));

		if (!grown)
			return cc_error_set(CC_ERROR, "out of memory");
		d->history = grown;
	}
	ev = &d->history[d->nhistory++];
	ev->time = strdup(now);
	ev->state = strdup(cc_deploy_state_name(state));
	ev->cert = cc_strdup(d->cert);
	ev->message = cc_strdup(message);
	if ((rc = record_format(d, &text)) < 0 ||
	    (rc = cc_buf_printf(&rel, "deployments/%s/%s.yaml", d->definition, d->target)) < 0 ||
	    (rc = cc_buf_printf(&summary, "deploy %s to %s: %s", d->definition, d->target,
				cc_deploy_state_name(state))) < 0)
		goto done;
	if (d->cert)
		cc_buf_printf(&summary, " (certificate %s)", d->cert);
	if ((rc = cc_txn_begin(&txn, ctx->repo, "deploy")) < 0)
		goto done;
	if ((rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Definition", d->definition)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Target", d->target)) < 0 ||
	    (d->cert && (rc = cc_txn_trailer(txn, "Certctl-Certificate", d->cert)) < 0)) {
		cc_txn_abort(txn);
		goto done;
	}
	rc = cc_txn_commit(txn, summary.ptr, message);
done:
	cc_buf_dispose(&text);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&summary);
	return rc;
}

/* Fail the target: the reason in the record, one commit. */
static int record_fail(const deploy_ctx *ctx, cc_deployment *d, const char *why)
{
	cc_strset(&d->error, why);
	say(ctx, "%s: failed: %s", d->target, why);
	return record_commit(ctx, d, CC_DEPLOY_FAILED, why);
}

/* Run a test, reload or hook command; its result goes into the record.
 * 0 when it exited with 0. */
static int run_command(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
		       char **argv, const char *const *env, const char *what, cc_buf *why)
{
	cc_run_options ro = { argv, env, t->timeout_ms, NULL, 4096 };
	cc_run_result res;
	cc_buf desc = CC_BUF_INIT;
	int rc, ok;

	command_clear(d);
	say(ctx, "%s: running %s %s", t->name, what, argv[0]);
	rc = cc_run(&ro, &res);
	{
		size_t n = 0;

		while (argv[n])
			n++;
		if ((d->command = calloc(n + 1, sizeof(char *))))
			for (size_t i = 0; i < n; i++)
				d->command[i] = strdup(argv[i]);
	}
	if (rc < 0) {
		cc_buf_puts(&desc, cc_error_last());
		cc_error_clear();
	} else {
		cc_run_describe(&ro, &res, &desc);
	}
	d->command_status = res.status;
	d->command_result = cc_strdup(desc.ptr);
	ok = rc == 0 && !res.timed_out && !res.not_found && !res.signal && res.status == 0;
	/* What a program prints goes into the repository only when it failed:
	 * that is when an operator needs it, and a chatty hook's output (its
	 * environment, say) stays out of the history. */
	if (!ok)
		d->command_output = cc_strdup(res.output.ptr ? res.output.ptr : "");
	if (!ok) {
		const char *out = res.output.ptr ? res.output.ptr : "";
		const char *last = out + strlen(out);

		/* The message carries the last line the program printed. */
		while (last > out && (last[-1] == '\n' || last[-1] == '\r'))
			last--;
		{
			const char *start = last;

			while (start > out && start[-1] != '\n')
				start--;
			cc_buf_printf(why, "%s %s", what, desc.ptr ? desc.ptr : "failed");
			if (last > start)
				cc_buf_printf(why, ": %.*s", (int)(last - start > 300 ? 300 :
								    last - start), start);
		}
	}
	cc_run_result_dispose(&res);
	cc_buf_dispose(&desc);
	return ok ? 0 : -1;
}

/*
 * What the served chain is worth to a client: the verifier's answer, as
 * `certctl check` gives it (the definition's trust set, policy and allowed
 * rules, the name the check asked for, the stapled OCSP response).  The
 * findings that are not OK go to the record as "RULE: message (status)";
 * returns the worst status, the critical findings' text appended to
 * `critical`.  The leaf's nearing expiry is the monitor's
 * business, not the deployment's: only an expired or not yet valid leaf
 * counts here.
 */
static cc_status deploy_verify(const deploy_ctx *ctx, cc_deploy_check *c, cc_cert **served,
			       size_t nserved, const char *sni, const unsigned char *ocsp,
			       size_t ocsp_len, cc_buf *critical)
{
	cc_verify_options o = CC_VERIFY_OPTIONS_INIT;
	cc_verify_report vr;
	cc_status worst = CC_STATUS_OK;

	o.trust_set = ctx->def->trust_set;
	o.untrusted = served + 1;
	o.nuntrusted = nserved - 1;
	o.host = sni;
	o.allowed = &ctx->def->allow;
	o.ocsp_stapled = ocsp;
	o.ocsp_stapled_len = ocsp_len;
	if (cc_verify_set_policy(ctx->repo, ctx->def->trust_set, &o) < 0 ||
	    cc_verify(ctx->repo, served[0], &o, &vr) < 0) {
		cc_buf line = CC_BUF_INIT;

		cc_buf_printf(&line, "chain.trust-set: cannot verify: %s (unknown)", cc_error_last());
		cc_strlist_add(&c->findings, line.ptr);
		cc_buf_dispose(&line);
		cc_error_clear();
		free(c->verdict);
		c->verdict = strdup(cc_status_name(CC_STATUS_UNKNOWN));
		return CC_STATUS_UNKNOWN;
	}
	for (size_t i = 0; i < vr.nfindings; i++) {
		const cc_verify_finding *f = &vr.findings[i];
		cc_buf line = CC_BUF_INIT;

		if (f->status == CC_STATUS_OK && !f->allowed)
			continue;
		if (f->depth == 0 && (!strcmp(f->rule, "validity.warning") ||
				      !strcmp(f->rule, "validity.critical")))
			continue;
		worst = cc_status_worse(worst, f->status);
		if (f->status == CC_STATUS_CRITICAL && !f->allowed)
			cc_buf_printf(critical, "%s%s: %s", critical->size ? "; " : "", f->rule,
				      f->message);
		cc_buf_printf(&line, "%s%s: %s (%s)", f->allowed ? "allowed: " : "", f->rule,
			      f->message, cc_status_name(f->status));
		cc_strlist_add(&c->findings, line.ptr);
		cc_buf_dispose(&line);
	}
	cc_verify_report_dispose(&vr);
	free(c->verdict);
	c->verdict = strdup(cc_status_name(worst));
	return worst;
}

/* The deploy check: does the server present this certificate and the
 * intermediates it needs, in a chain clients accept?  Fills d->check; 0
 * when it does. */
static int deploy_check(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
			const cc_cert *cert, cc_cert *const *chain, size_t nchain, cc_buf *why)
{
	cc_deploy_check *c = &d->check;
	cc_cert **served = NULL;
	size_t nserved = 0, ocsp_len = 0;
	unsigned char *ocsp = NULL;
	cc_buf critical = CC_BUF_INIT;
	const char *sni = t->check_sni;
	char now[32];
	int rc;

	check_dispose(c);
	d->has_check = 1;
	if (!sni && !cc_ip_valid(t->check_host))
		sni = t->check_host;
	if (!sni && ctx->def->subject.cn && cc_dns_name_valid(ctx->def->subject.cn, 0))
		sni = ctx->def->subject.cn;
	if (!sni && ctx->def->sans.dns.count && cc_dns_name_valid(ctx->def->sans.dns.items[0], 0))
		sni = ctx->def->sans.dns.items[0];
	cc_time_now_rfc3339(now);
	c->time = strdup(now);
	c->host = strdup(t->check_host);
	c->port = t->check_port;
	c->sni = cc_strdup(sni);
	say(ctx, "%s: checking %s:%u%s%s", t->name, t->check_host, t->check_port,
	    sni ? " as " : "", sni ? sni : "");
	{
		cc_probe probe = { t->check_host, t->check_port, sni, t->check_starttls, NULL,
				   ctx->opts->check_timeout_ms ? ctx->opts->check_timeout_ms : 10000 };
		cc_probe_result res;

		memset(&res, 0, sizeof(res));
		rc = cc_probe_run(&probe, 1, 1, 0, &res, NULL, NULL);
		if (rc < 0 || res.rc < 0 || !res.nchain) {
			c->result = strdup("error");
			cc_buf_printf(why, "deploy check of %s:%u: %s", t->check_host, t->check_port,
				      rc < 0 ? cc_error_last() : res.error ? res.error :
				      "the server sent no certificate");
			c->message = cc_strdup(why->ptr);
			cc_error_clear();
			cc_probe_result_dispose(&res);
			return -1;
		}
		served = res.chain;
		nserved = res.nchain;
		ocsp = res.ocsp;
		ocsp_len = res.ocsp_len;
		res.chain = NULL;
		res.nchain = 0;
		res.ocsp = NULL;
		cc_probe_result_dispose(&res);
	}
	c->served_sha256 = strdup(cc_cert_sha256(served[0]));
	c->served_sha1 = strdup(cc_cert_sha1(served[0]));
	c->served_subject = strdup(cc_cert_subject(served[0]));
	for (size_t i = 1; i < nserved; i++)
		cc_strlist_add(&c->served_chain, cc_cert_subject(served[i]));
	if (strcmp(cc_cert_sha256(served[0]), cc_cert_sha256(cert))) {
		c->result = strdup("mismatch");
		cc_buf_printf(why, "%s:%u serves another certificate: SHA-256 %s (SHA-1 %s%s%s), "
			      "not %s", t->check_host, t->check_port, c->served_sha256,
			      c->served_sha1, *c->served_subject ? ", " : "", c->served_subject,
			      cc_cert_sha256(cert));
	} else {
		/* An intermediate is served when the same certificate, or one with
		 * its subject and key (a re-issued or cross-signed copy), is. */
		for (size_t i = 0; i < nchain; i++) {
			int found = 0;

			for (size_t j = 1; j < nserved && !found; j++)
				found = !strcmp(cc_cert_sha256(chain[i]), cc_cert_sha256(served[j])) ||
					(!strcmp(cc_cert_subject(chain[i]), cc_cert_subject(served[j])) &&
					 !strcmp(cc_cert_key_fingerprint(chain[i]),
						 cc_cert_key_fingerprint(served[j])));
			if (!found)
				cc_strlist_add(&c->missing, cc_cert_subject(chain[i]));
		}
		if (c->missing.count) {
			c->result = strdup("missing-intermediate");
			cc_buf_printf(why, "%s:%u serves the certificate but not the intermediate ",
				      t->check_host, t->check_port);
			for (size_t i = 0; i < c->missing.count; i++)
				cc_buf_printf(why, "%s%s", i ? " and " : "", c->missing.items[i]);
		} else if (deploy_verify(ctx, c, served, nserved, sni, ocsp, ocsp_len, &critical) ==
			   CC_STATUS_CRITICAL) {
			c->result = strdup("rejected");
			cc_buf_printf(why, "%s:%u serves the certificate and its intermediates, but "
				      "clients reject the chain: %s", t->check_host, t->check_port,
				      critical.size ? critical.ptr : "");
		} else {
			c->result = strdup("ok");
		}
	}
	if (why->size)
		c->message = strdup(why->ptr);
	else
		c->message = cc_strdup("the server presents the certificate and its intermediates");
	cc_cert_list_free(served, nserved);
	free(ocsp);
	cc_buf_dispose(&critical);
	return why->size ? -1 : 0;
}

/*
 * The deploy check, given the server time to take up what was installed: a
 * reload is often only a signal (nginx -s reload returns at once), so a
 * server still presenting the old certificate, or not accepting yet, is
 * asked again every 200 ms for `settle_ms`.  A server that presents the new
 * certificate without its intermediates is not going to change: no wait.
 */
static int deploy_check_settled(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
				const cc_cert *cert, cc_cert *const *chain, size_t nchain,
				long settle_ms, cc_buf *why)
{
	struct timespec start, now, pause = { 0, 200 * 1000 * 1000 };
	struct timespec again = { 0, 300 * 1000 * 1000 };
	int seen = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int round = 0; round < 1000; round++) {
		long waited;

		cc_buf_clear(why);
		/*
		 * After a reload, once more a little later: nginx's old workers
		 * keep accepting connections for a moment after the new ones
		 * serve the new certificate, and a check right after the deploy
		 * must not meet them.
		 */
		if (deploy_check(ctx, d, t, cert, chain, nchain, why) == 0) {
			if (settle_ms <= 0 || seen)
				return 0;
			seen = 1;
			nanosleep(&again, NULL);
			continue;
		}
		seen = 0;
		/* A server serving the wrong chain is not going to change. */
		if (d->check.result && (!strcmp(d->check.result, "missing-intermediate") ||
					!strcmp(d->check.result, "rejected")))
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (long)(now.tv_sec - start.tv_sec) * 1000 +
			 (long)(now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited + 200 > settle_ms)
			return -1;
		nanosleep(&pause, NULL);
	}
	return -1;
}

static const char *const piece_files[] = { "cert.pem", "chain.pem", "fullchain.pem", "key.pem" };

/* The four PEM pieces in a new private directory (`dir` gets its path). */
static int private_files(const deploy_material *m, cc_buf *dir, cc_buf *why)
{
	const char *tmp = getenv("TMPDIR");
	cc_buf path = CC_BUF_INIT;
	int rc = 0;

	cc_buf_printf(dir, "%s/certctl-deploy.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir->ptr)) {
		cc_buf_printf(why, "cannot make a temporary directory in %s: %s",
			      tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < 4 && rc == 0; i++) {
		const cc_buf *b = &m->piece[PIECE_CERT + i];

		cc_buf_clear(&path);
		cc_buf_printf(&path, "%s/%s", dir->ptr, piece_files[i]);
		if (cc_fs_write_atomic_nosync(path.ptr, b->ptr ? b->ptr : "", b->size, 0600) < 0) {
			cc_buf_puts(why, cc_error_last());
			cc_error_clear();
			rc = -1;
		}
	}
	cc_buf_dispose(&path);
	return rc;
}

/* Remove what private_files() made, and whatever else went in there. */
static void private_files_remove(const cc_buf *dir)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_buf path = CC_BUF_INIT;

	if (!dir->ptr)
		return;
	if (cc_fs_list(&names, dir->ptr, NULL) == 0)
		for (size_t i = 0; i < names.count; i++) {
			cc_buf_clear(&path);
			cc_buf_printf(&path, "%s/%s", dir->ptr, names.items[i]);
			unlink(path.ptr);
		}
	cc_error_clear();
	rmdir(dir->ptr);
	cc_strlist_dispose(&names);
	cc_buf_dispose(&path);
}

/* A `command` target: the pieces in a private directory, the hook run with
 * their paths in its environment. */
static int run_hook(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
		    const deploy_material *m, int rollback, cc_buf *why)
{
	static const char *const vars[] = { "CERTCTL_CERT_FILE", "CERTCTL_CHAIN_FILE",
					    "CERTCTL_FULLCHAIN_FILE", "CERTCTL_KEY_FILE" };
	cc_buf dir = CC_BUF_INIT, env[12];
	const char *envp[13];
	size_t ne = 0;
	int rc;

	memset(env, 0, sizeof(env));
	rc = private_files(m, &dir, why);
	for (size_t i = 0; i < 4; i++) {
		cc_buf_printf(&env[ne], "%s=%s/%s", vars[i], dir.ptr, piece_files[i]);
		envp[ne] = env[ne].ptr, ne++;
	}
	cc_buf_printf(&env[ne], "CERTCTL_ACTION=%s", rollback ? "rollback" : "install");
	envp[ne] = env[ne].ptr, ne++;
	cc_buf_printf(&env[ne], "CERTCTL_DEFINITION=%s", d->definition);
	envp[ne] = env[ne].ptr, ne++;
	cc_buf_printf(&env[ne], "CERTCTL_TARGET=%s", d->target);
	envp[ne] = env[ne].ptr, ne++;
	cc_buf_printf(&env[ne], "CERTCTL_CERT_ID=%s", m->cert_id);
	envp[ne] = env[ne].ptr, ne++;
	cc_buf_printf(&env[ne], "CERTCTL_CERT_SHA256=%s", cc_cert_sha256(m->cert));
	envp[ne] = env[ne].ptr, ne++;
	if (m->previous_id) {
		cc_buf_printf(&env[ne], "CERTCTL_PREVIOUS_CERT_ID=%s", m->previous_id);
		envp[ne] = env[ne].ptr, ne++;
	}
	envp[ne] = NULL;
	if (rc == 0)
		rc = run_command(ctx, d, t, t->run, envp, "hook", why);
	private_files_remove(&dir);
	for (size_t i = 0; i < CC_ARRAY_SIZE(env); i++)
		cc_buf_dispose(&env[i]);
	cc_buf_dispose(&dir);
	return rc;
}

/* vecs-cli VERB --store S --alias A [more...]: 0 when it exited with 0. */
static int vecs(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
		const char *verb, const char *const *more, cc_buf *why)
{
	char *argv[16];
	size_t n = 0;

	argv[n++] = t->vecs_cli;
	argv[n++] = (char *)"entry";
	argv[n++] = (char *)verb;
	argv[n++] = (char *)"--store";
	argv[n++] = t->store;
	argv[n++] = (char *)"--alias";
	argv[n++] = t->alias;
	for (; more && *more && n < 15; more++)
		argv[n++] = (char *)*more;
	argv[n] = NULL;
	return run_command(ctx, d, t, argv, NULL, "vecs-cli", why);
}

/*
 * A `vecs` target (vCenter's certificate store): as VMware's procedure,
 * delete the entry and create it with the new certificate and key; the old
 * entry is read out first and created again if anything fails.
 */
static int install_vecs(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
			const deploy_material *m, cc_buf *why)
{
	cc_buf dir = CC_BUF_INIT, oldcert = CC_BUF_INIT, oldkey = CC_BUF_INIT, cert = CC_BUF_INIT,
	       key = CC_BUF_INIT, ignored = CC_BUF_INIT;
	int rc, have_old;

	if ((rc = private_files(m, &dir, why)) < 0)
		goto done;
	cc_buf_printf(&oldcert, "%s/old-cert.pem", dir.ptr);
	cc_buf_printf(&oldkey, "%s/old-key.pem", dir.ptr);
	cc_buf_printf(&cert, "%s/cert.pem", dir.ptr);
	cc_buf_printf(&key, "%s/key.pem", dir.ptr);
	{
		const char *getcert[] = { "--output", oldcert.ptr, NULL };
		const char *getkey[] = { "--output", oldkey.ptr, NULL };

		/* No entry yet is fine: there is nothing to keep. */
		have_old = vecs(ctx, d, t, "getcert", getcert, &ignored) == 0 &&
			   vecs(ctx, d, t, "getkey", getkey, &ignored) == 0;
	}
	{
		const char *yes[] = { "-y", NULL };
		const char *create[] = { "--cert", cert.ptr, "--key", key.ptr, NULL };
		const char *recreate[] = { "--cert", oldcert.ptr, "--key", oldkey.ptr, NULL };

		if (have_old && (rc = vecs(ctx, d, t, "delete", yes, why)) < 0)
			goto done;
		rc = vecs(ctx, d, t, "create", create, why);
		if (rc == 0 && t->reload)
			rc = run_command(ctx, d, t, t->reload, NULL, "reload", why);
		if (rc < 0 && have_old) {
			cc_buf_clear(&ignored);
			vecs(ctx, d, t, "delete", yes, &ignored);
			if (vecs(ctx, d, t, "create", recreate, &ignored) == 0)
				cc_buf_puts(why, "; the old entry is back in place");
			else
				cc_buf_printf(why, "; and the old entry could not be put back: %s",
					      ignored.ptr ? ignored.ptr : "");
		}
	}
	if (rc == 0) {
		cc_strlist_dispose(&d->files);
		cc_buf_clear(&ignored);
		cc_buf_printf(&ignored, "vecs:%s/%s", t->store, t->alias);
		cc_strlist_add(&d->files, ignored.ptr);
	}
done:
	private_files_remove(&dir);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&oldcert);
	cc_buf_dispose(&oldkey);
	cc_buf_dispose(&cert);
	cc_buf_dispose(&key);
	cc_buf_dispose(&ignored);
	return rc;
}

/* Install on one target: files, test, reload.  0 when installed; else the
 * old files are back and `why` says what failed. */
static int install_target(const deploy_ctx *ctx, cc_deployment *d, const deploy_target *t,
			  const deploy_material *m, int rollback, cc_buf *why)
{
	install_log log = { NULL, 0 };
	int rc = 0;

	if (t->type == TT_COMMAND)
		return run_hook(ctx, d, t, m, rollback, why);
	if (t->type == TT_VECS)
		return install_vecs(ctx, d, t, m, why);
	for (size_t i = 0; t->type != TT_CERTBOT_LIVE && i < t->nfiles; i++)
		say(ctx, "%s: writing %s%s (mode %04o)", t->name, t->type == TT_SFTP ? t->url : "",
		    t->files[i].path, t->files[i].mode);
	if (t->type == TT_SFTP)
		rc = install_sftp(t, m, &log);
	else if (t->type == TT_CERTBOT_LIVE)
		rc = install_certbot(t, m, &log);
	else
		rc = install_local(t, m, &log);
	if (rc < 0) {
		cc_buf_puts(why, cc_error_last());
		cc_error_clear();
		install_log_dispose(&log);
		return -1;
	}
	cc_strlist_dispose(&d->files);
	for (size_t i = 0; i < log.count; i++)
		cc_strlist_add(&d->files, log.items[i].path);
	command_clear(d);
	if (t->type == TT_SFTP) {
		char **argv = NULL;

		if (t->reload) {
			if (sftp_reload_argv(t, &argv) < 0) {
				cc_buf_puts(why, cc_error_last());
				rc = -1;
			} else {
				rc = run_command(ctx, d, t, argv, NULL, "remote reload", why);
			}
			argv_free(argv);
		}
		if (rc < 0 && install_sftp_undo(t, &log) < 0) {
			cc_buf_printf(why, "; and the old files could not be put back: %s",
				      cc_error_last());
			cc_error_clear();
		}
	} else {
		if (t->test)
			rc = run_command(ctx, d, t, t->test, NULL, "configuration test", why);
		if (rc == 0 && t->reload)
			rc = run_command(ctx, d, t, t->reload, NULL, "reload", why);
		if (rc < 0) {
			cc_buf undo = CC_BUF_INIT;

			install_undo(&log, &undo);
			if (undo.size)
				cc_buf_printf(why, "; and %s", undo.ptr);
			else
				cc_buf_puts(why, "; the old files are back in place");
			cc_buf_dispose(&undo);
		}
	}
	install_log_dispose(&log);
	return rc;
}

/* --- the whole process ---------------------------------------------------- */

typedef struct {
	deploy_target t;
	cc_deployment *rec;  /* NULL when never deployed */
	char *cert_id;       /* what to install */
	cc_cert *cert;
	cc_cert **chain;
	size_t nchain;
	cc_key *key;
	deploy_material m;
	char *out;           /* package archive */
	char store[300];     /* whose certificates: DEF, or DEF@PEER for a peer's target */
} planned;

static void planned_dispose(planned *p)
{
	target_dispose(&p->t);
	cc_deployment_free(p->rec);
	free(p->cert_id);
	cc_cert_free(p->cert);
	cc_cert_list_free(p->chain, p->nchain);
	cc_key_free(p->key);
	material_dispose(&p->m);
	free(p->out);
}

static int new_record(cc_deployment **out, const char *def, const deploy_target *t)
{
	cc_deployment *d = calloc(1, sizeof(*d));

	*out = d;
	if (!d)
		return cc_error_set(CC_ERROR, "out of memory");
	d->command_status = -1;
	d->definition = strdup(def);
	d->target = strdup(t->name);
	d->type = strdup(target_type_name(t->type));
	return d->definition && d->target && d->type ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

/* Commands the target will run must exist here (a remote reload runs
 * there: only ssh must exist here). */
static int commands_exist(const deploy_target *t)
{
	char **lists[3] = { t->test, t->reload, t->run };
	cc_buf path = CC_BUF_INIT;
	int rc = 0;

	if (t->type == TT_PACKAGE)
		return 0;
	if (t->type == TT_SFTP) {
		if (t->reload && cc_run_find("ssh", &path) < 0)
			rc = cc_error_set(CC_ENOTFOUND, "target '%s': its remote reload needs ssh, "
					  "which is not installed", t->name);
		if (rc == 0 && access(t->identity, R_OK) < 0)
			rc = cc_error_errno(CC_ENOTFOUND, "target '%s': identity %s", t->name,
					    t->identity);
		if (rc == 0 && access(t->known_hosts, R_OK) < 0)
			rc = cc_error_errno(CC_ENOTFOUND, "target '%s': known_hosts %s", t->name,
					    t->known_hosts);
		cc_buf_dispose(&path);
		return rc;
	}
	if (t->type == TT_VECS && cc_run_find(t->vecs_cli, &path) < 0)
		rc = cc_error_set(CC_ENOTFOUND, "target '%s': %s", t->name, cc_error_last());
	for (int i = 0; i < 3 && rc == 0; i++)
		if (lists[i] && cc_run_find(lists[i][0], &path) < 0)
			rc = cc_error_set(CC_ENOTFOUND, "target '%s': %s command %s", t->name,
					  i == 0 ? "test" : i == 1 ? "reload" : "hook", cc_error_last());
	cc_buf_dispose(&path);
	return rc;
}

/* Load what target `p` will install and check it can be installed. */
static int plan_install(const deploy_ctx *ctx, planned *p)
{
	cc_deploy_action action = ctx->opts->action;
	const char *def = p->store;
	char *key_id = NULL;
	int rc;

	if (action == CC_DEPLOY_ROLLBACK) {
		if (!p->rec || !p->rec->previous)
			return cc_error_set(CC_ENOTFOUND, "target '%s' of %s has no previous "
					    "certificate to roll back to", p->t.name, def);
		p->cert_id = strdup(p->rec->previous);
	} else if (ctx->opts->cert_id) {
		p->cert_id = strdup(ctx->opts->cert_id);
	} else if ((rc = cc_cert_current_id(&p->cert_id, ctx->repo, def)) < 0) {
		return cc_error_set(rc, "%s has no current certificate: issue or acquire one first",
				    def);
	}
	if (!p->cert_id)
		return cc_error_set(CC_ERROR, "out of memory");
	if ((rc = cc_cert_load(&p->cert, &p->chain, &p->nchain, ctx->repo, def, p->cert_id)) < 0)
		return rc;
	if (target_needs_key(&p->t)) {
		if ((rc = cc_cert_key_id(&key_id, ctx->repo, def, p->cert_id)) < 0)
			return rc;
		if (!key_id)
			return cc_error_set(CC_ENOTFOUND, "%s: certificate %s has no stored private "
					    "key (monitored-only or imported without one); target "
					    "'%s' needs it", def, p->cert_id, p->t.name);
		rc = cc_key_load(&p->key, ctx->repo, key_id);
		free(key_id);
		if (rc < 0)
			return rc;
	}
	p->m.cert = p->cert;
	p->m.chain = p->chain;
	p->m.nchain = p->nchain;
	p->m.key = p->key;
	p->m.cert_id = p->cert_id;
	p->m.definition = ctx->def->name;
	p->m.previous_id = p->rec ? p->rec->cert : NULL;
	if ((rc = material_build(&p->m, &p->t)) < 0)
		return rc;
	if (action == CC_DEPLOY_PACKAGE || p->t.type == TT_PACKAGE) {
		const char *out = ctx->opts->package_out ? ctx->opts->package_out : p->t.out;

		if ((rc = material_build_pem(&p->m)) < 0)
			return rc;
		if (p->t.type == TT_SFTP || p->t.type == TT_COMMAND || p->t.type == TT_VECS ||
		    p->t.layout == TT_CERTBOT_LIVE)
			return cc_error_set(CC_EINVALID, "target '%s' (%s) has no install package; "
					    "packages are for files, nginx, apache, haproxy, "
					    "postfix, dovecot and package targets", p->t.name,
					    target_type_name(p->t.type));
		if (!out)
			return cc_error_set(CC_EINVALID, "target '%s': where should the package go? "
					    "give --package-out FILE (or 'out' in the target)",
					    p->t.name);
		if (!ctx->opts->package_passphrase)
			return cc_error_set(CC_EINVALID, "the package's key is encrypted under a "
					    "passphrase of its own: give --package-passphrase-file "
					    "or CERTCTL_PACKAGE_PASSPHRASE[_FILE]");
		if (!(p->out = strdup(out)))
			return cc_error_set(CC_ERROR, "out of memory");
		{
			/* The archive's directory must take it: found out now, not
			 * as a failed deployment. */
			char *slash = strrchr(p->out, '/');
			cc_buf dir = CC_BUF_INIT;

			if (!slash)
				cc_buf_puts(&dir, ".");
			else
				cc_buf_put(&dir, p->out, slash == p->out ? 1 : (size_t)(slash - p->out));
			if (!cc_fs_is_dir(dir.ptr) || access(dir.ptr, W_OK) < 0)
				rc = cc_error_set(CC_EIO, "target '%s': cannot write the package in %s",
						  p->t.name, dir.ptr);
			cc_buf_dispose(&dir);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (p->t.type == TT_PACKAGE)
		return 0;
	if (p->t.type != TT_SFTP && p->t.type != TT_COMMAND && p->t.type != TT_VECS &&
	    !ctx->opts->dry_run && (rc = install_preflight(&p->t)) < 0)
		return rc;
	return commands_exist(&p->t);
}

static void dry_run(const deploy_ctx *ctx, const planned *p)
{
	const deploy_target *t = &p->t;
	cc_buf line = CC_BUF_INIT;

	say(ctx, "%s (%s): would install certificate %s", t->name, target_type_name(t->type),
	    p->cert_id);
	if (t->type == TT_PACKAGE) {
		say(ctx, "%s: would write the install package %s", t->name,
		    ctx->opts->package_out ? ctx->opts->package_out : t->out ? t->out : "(none)");
	} else if (t->type == TT_COMMAND) {
		for (char **a = t->run; *a; a++)
			cc_buf_printf(&line, " %s", *a);
		say(ctx, "%s: would run the hook:%s", t->name, line.ptr);
	} else if (t->type == TT_VECS) {
		say(ctx, "%s: would replace VECS entry %s/%s with %s", t->name, t->store, t->alias,
		    t->vecs_cli);
	} else if (t->type == TT_CERTBOT_LIVE) {
		say(ctx, "%s: would write %s/archive/%s/ and point %s/live/%s/ at it", t->name,
		    t->dir, t->cert_name, t->dir, t->cert_name);
	} else {
		for (size_t i = 0; i < t->nfiles; i++)
			say(ctx, "%s: would write %s%s (mode %04o)", t->name,
			    t->type == TT_SFTP ? t->url : "", t->files[i].path, t->files[i].mode);
	}
	for (int k = 0; k < 2; k++) {
		char **argv = k ? t->reload : t->test;

		if (!argv || t->type == TT_PACKAGE)
			continue;
		cc_buf_clear(&line);
		for (char **a = argv; *a; a++)
			cc_buf_printf(&line, " %s", *a);
		say(ctx, "%s: would run%s:%s", t->name, t->type == TT_SFTP ? " on the remote host" :
		    "", line.ptr);
	}
	if (t->check_host && !ctx->opts->no_check)
		say(ctx, "%s: would check %s:%u", t->name, t->check_host, t->check_port);
	cc_buf_dispose(&line);
}

/* The whole process for one target; failures are recorded, not returned. */
static int deploy_one(const deploy_ctx *ctx, planned *p)
{
	cc_deployment *d = p->rec;
	cc_deploy_action action = ctx->opts->action;
	cc_buf why = CC_BUF_INIT;
	int rc;

	if (action == CC_DEPLOY_ROLLBACK) {
		/* Rolling back swaps: the one rolled back from becomes previous. */
		char *from = d->cert;

		d->cert = NULL;
		free(d->previous);
		d->previous = from;
	} else if (d->cert && strcmp(d->cert, p->cert_id)) {
		free(d->previous);
		d->previous = d->cert;
		d->cert = NULL;
	}
	cc_strset(&d->cert, p->cert_id);
	cc_strset(&d->sha256, cc_cert_sha256(p->cert));
	cc_strset(&d->sha1, cc_cert_sha1(p->cert));
	free(d->error);
	free(d->note);
	d->error = d->note = NULL;
	command_clear(d);
	check_dispose(&d->check);
	d->has_check = 0;
	if (action == CC_DEPLOY_PACKAGE || p->t.type == TT_PACKAGE) {
		cc_buf archive = CC_BUF_INIT;
		const char *out = p->out ? p->out : p->t.out;

		if (!out || !ctx->opts->package_passphrase) {
			rc = record_fail(ctx, d, !out ? "no 'out' for the install package (give "
					 "--package-out)" : "no passphrase for the package's key "
					 "(CERTCTL_PACKAGE_PASSPHRASE[_FILE])");
			goto done;
		}
		if ((rc = package_build(&archive, &p->t, &p->m, ctx->opts->package_passphrase)) < 0 ||
		    (rc = cc_fs_write_atomic(out, archive.ptr, archive.size, 0600)) < 0) {
			cc_buf_dispose(&archive);
			cc_buf_puts(&why, cc_error_last());
			cc_error_clear();
			rc = record_fail(ctx, d, why.ptr);
			goto done;
		}
		cc_buf_dispose(&archive);
		say(ctx, "%s: wrote the install package %s", p->t.name, out);
		cc_strlist_dispose(&d->files);
		cc_strlist_add(&d->files, out);
		cc_buf_printf(&why, "install package %s written for the server's administrator", out);
		rc = record_commit(ctx, d, CC_DEPLOY_INSTALL_REQUESTED, why.ptr);
		goto done;
	}
	cc_strlist_dispose(&d->files);
	if ((rc = record_commit(ctx, d, CC_DEPLOY_PREPARED, action == CC_DEPLOY_ROLLBACK ?
				"rolling back" : NULL)) < 0)
		goto done;
	if (install_target(ctx, d, &p->t, &p->m, action == CC_DEPLOY_ROLLBACK, &why) < 0) {
		rc = record_fail(ctx, d, why.ptr);
		goto done;
	}
	if ((rc = record_commit(ctx, d, CC_DEPLOY_INSTALLED, NULL)) < 0)
		goto done;
	say(ctx, "%s: installed certificate %s", p->t.name, p->cert_id);
	if (!p->t.check_host || !p->t.check_enabled || ctx->opts->no_check)
		goto done;
	if (deploy_check_settled(ctx, d, &p->t, p->cert, p->chain, p->nchain, p->t.settle_ms,
				 &why) < 0) {
		rc = record_fail(ctx, d, why.ptr);
		goto done;
	}
	say(ctx, "%s: confirmed: %s:%u presents %s", p->t.name, p->t.check_host, p->t.check_port,
	    cc_cert_sha256(p->cert));
	for (size_t i = 0; i < d->check.findings.count; i++)
		say(ctx, "%s: %s", p->t.name, d->check.findings.items[i]);
	rc = record_commit(ctx, d, CC_DEPLOY_CONFIRMED, d->check.message);
done:
	cc_buf_dispose(&why);
	return rc;
}

/* --check: the deploy check of what the record says is deployed. */
static int check_one(const deploy_ctx *ctx, planned *p)
{
	cc_deployment *d = p->rec;
	cc_cert *cert = NULL;
	cc_cert **chain = NULL;
	size_t nchain = 0;
	cc_buf why = CC_BUF_INIT;
	int rc;

	if ((rc = cc_cert_load(&cert, &chain, &nchain, ctx->repo, p->store, d->cert)) < 0)
		return rc;
	free(d->error);
	d->error = NULL;
	if (deploy_check_settled(ctx, d, &p->t, cert, chain, nchain, 0, &why) < 0)
		rc = record_fail(ctx, d, why.ptr);
	else
		rc = record_commit(ctx, d, CC_DEPLOY_CONFIRMED, d->check.message);
	cc_cert_free(cert);
	cc_cert_list_free(chain, nchain);
	cc_buf_dispose(&why);
	return rc;
}

/* One deployment of a definition at a time, across processes. */
static int deploy_lock(cc_repo *repo, const char *def, int *fd)
{
	cc_buf path = CC_BUF_INIT;
	int rc = 0;

	cc_buf_printf(&path, "%s/deploy-%s.lock", cc_repo_statedir(repo), def);
	cc_fs_mkdir_p(cc_repo_statedir(repo), 0700);
	*fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		rc = cc_error_errno(CC_EIO, "cannot open %s", path.ptr);
	else if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		close(*fd);
		*fd = -1;
		rc = cc_error_set(CC_ELOCKED, "another certctl is deploying %s; try again when it "
				  "is done", def);
	}
	cc_buf_dispose(&path);
	return rc;
}

int cc_deploy(cc_repo *repo, const char *def_name, const cc_deploy_options *opts,
	      cc_deployment ***out, size_t *count)
{
	cc_definition *def = NULL;
	planned *plan = NULL;
	size_t nplan = 0;
	deploy_ctx ctx = { repo, NULL, opts };
	const char *at, *peer = NULL;
	char base[160];
	int rc, lockfd = -1;

	*out = NULL;
	*count = 0;
	/* DEF@PEER: the targets of that peer; records are the definition's. */
	if ((rc = cc_definition_ref_check(def_name)) < 0)
		return rc;
	if ((at = strchr(def_name, '@'))) {
		snprintf(base, sizeof(base), "%.*s", (int)(at - def_name), def_name);
		peer = at + 1;
		if (!cc_definition_exists(repo, def_name))
			return cc_error_set(CC_ENOTFOUND, "no peer '%s' in definition '%s'", peer,
					    base);
		def_name = base;
	}
	if ((rc = cc_definition_load(&def, repo, def_name)) < 0)
		return rc;
	ctx.def = def;
	if (def->mode == CC_MODE_MONITOR && opts->action != CC_DEPLOY_CHECK &&
	    opts->action != CC_DEPLOY_CONFIRM) {
		rc = cc_error_set(CC_EINVALID, "%s is monitored-only: certctl does not deploy its "
				  "certificates (see --mode in certctl-define(1))", def_name);
		goto done;
	}
	if (!def->ntargets) {
		rc = cc_error_set(CC_ENOTFOUND, "%s has no targets: list them under 'targets' in "
				  "definitions/%s.yaml (see certctl-definition(5))", def_name,
				  def_name);
		goto done;
	}
	for (size_t i = 0; opts->targets && i < opts->targets->count; i++) {
		size_t j;

		for (j = 0; j < def->ntargets; j++)
			if (!strcmp(def->targets[j].name, opts->targets->items[i]))
				break;
		if (j == def->ntargets) {
			cc_buf names = CC_BUF_INIT;

			for (j = 0; j < def->ntargets; j++)
				cc_buf_printf(&names, "%s%s", j ? ", " : "", def->targets[j].name);
			rc = cc_error_set(CC_ENOTFOUND, "%s has no target '%s' (its targets: %s)",
					  def_name, opts->targets->items[i], names.ptr);
			cc_buf_dispose(&names);
			goto done;
		}
	}
	if (!(plan = calloc(def->ntargets, sizeof(*plan)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	/* Everything that can be known beforehand, for every target first. */
	for (size_t i = 0; i < def->ntargets; i++) {
		planned *p = &plan[nplan];

		const char *tpeer = cc_node_scalar(cc_node_get(def->targets[i].settings, "peer"));

		if (opts->targets && opts->targets->count &&
		    !cc_strlist_contains(opts->targets, def->targets[i].name))
			continue;
		if (peer && (!tpeer || strcmp(tpeer, peer)))
			continue;
		nplan++;
		if ((rc = target_resolve(&p->t, &def->targets[i], def_name)) < 0)
			goto done;
		if (p->t.peer)
			snprintf(p->store, sizeof(p->store), "%s@%s", def_name, p->t.peer);
		else
			snprintf(p->store, sizeof(p->store), "%s", def_name);
		rc = cc_deployment_load(&p->rec, repo, def_name, p->t.name);
		if (rc == CC_ENOTFOUND) {
			cc_error_clear();
			if (opts->action == CC_DEPLOY_CHECK) {
				rc = cc_error_set(CC_ENOTFOUND, "target '%s' of %s has not been "
						  "deployed: nothing to check", p->t.name, def_name);
				goto done;
			}
			rc = 0;
		}
		if (rc < 0)
			goto done;
		if (opts->action == CC_DEPLOY_CHECK && (!p->t.check_host || !p->t.check_enabled)) {
			rc = cc_error_set(CC_EINVALID, "target '%s' of %s has no 'check' endpoint%s",
					  p->t.name, def_name, p->t.check_host ? " enabled" : "");
			goto done;
		}
		if (opts->action != CC_DEPLOY_CHECK && opts->action != CC_DEPLOY_CONFIRM &&
		    (rc = plan_install(&ctx, p)) < 0)
			goto done;
	}
	if (opts->dry_run) {
		for (size_t i = 0; i < nplan; i++)
			dry_run(&ctx, &plan[i]);
		goto done;
	}
	if ((rc = deploy_lock(repo, def_name, &lockfd)) < 0)
		goto done;
	for (size_t i = 0; i < nplan && rc == 0; i++) {
		planned *p = &plan[i];

		if (!p->rec && (rc = new_record(&p->rec, def_name, &p->t)) < 0)
			break;
		cc_strset(&p->rec->type, target_type_name(p->t.type));
		switch (opts->action) {
		case CC_DEPLOY_CHECK:
			rc = check_one(&ctx, p);
			break;
		case CC_DEPLOY_CONFIRM:
			if (!p->rec->cert) {
				char *id = NULL;

				if ((rc = cc_cert_current_id(&id, repo, p->store)) < 0)
					break;
				p->rec->cert = id;
			}
			free(p->rec->error);
			p->rec->error = NULL;
			cc_strset(&p->rec->note, opts->note);
			rc = record_commit(&ctx, p->rec, CC_DEPLOY_MANUALLY_CONFIRMED,
					   opts->note ? opts->note : "checked by hand");
			break;
		default:
			rc = deploy_one(&ctx, p);
			break;
		}
	}
	if (rc < 0)
		goto done;
	if (!(*out = calloc(nplan + 1, sizeof(**out)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nplan; i++) {
		(*out)[i] = plan[i].rec;
		plan[i].rec = NULL;
	}
	*count = nplan;
done:
	if (lockfd >= 0)
		close(lockfd);
	for (size_t i = 0; i < nplan; i++)
		planned_dispose(&plan[i]);
	free(plan);
	cc_definition_free(def);
	return rc;
}
