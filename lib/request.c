/*
 * Acquisition requests: requests/<definition>/<id>.yaml and <id>.csr.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>
#include "internal.h"

static const char *const state_names[] = {
	"key-generated", "csr-generated", "ordered", "received", "completed", "cancelled", "failed",
};

const char *cc_request_state_name(cc_request_state state)
{
	return (size_t)state < CC_ARRAY_SIZE(state_names) ? state_names[state] : "?";
}

static int state_parse(cc_request_state *out, const char *text)
{
	for (size_t i = 0; text && i < CC_ARRAY_SIZE(state_names); i++)
		if (!strcmp(text, state_names[i])) {
			*out = (cc_request_state)i;
			return 0;
		}
	return -1;
}

void cc_request_free(cc_request *req)
{
	if (!req)
		return;
	free(req->id);
	free(req->definition);
	free(req->kind);
	free(req->provider);
	free(req->provider_type);
	free(req->key_id);
	free(req->cert_id);
	free(req->created);
	free(req->updated);
	free(req->order_number);
	free(req->order_date);
	free(req->contact);
	free(req->notes);
	free(req->acme_account);
	free(req->acme_order);
	free(req->acme_finalize);
	free(req->acme_certificate);
	free(req->error);
	for (size_t i = 0; i < req->nhistory; i++) {
		free(req->history[i].time);
		free(req->history[i].state);
		free(req->history[i].message);
	}
	free(req->history);
	free(req);
}

int cc_request_is_open(const cc_request *req)
{
	return req->state != CC_REQ_COMPLETED && req->state != CC_REQ_CANCELLED;
}

/*
 * 20261124T022500Z-3e7a: the time, then the millisecond in three hex
 * digits and one random digit, so that ids sort in the order requests were
 * made even within one second (listings are by id).
 */
int cc_request_new_id(char out[32])
{
	unsigned char rnd;
	struct timespec ts;
	struct tm tm;

	if (RAND_bytes(&rnd, 1) != 1)
		return cc_error_openssl(CC_ERROR, "no randomness");
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out + strlen(out), 32 - strlen(out), "-%03lx%x", ts.tv_nsec / 1000000L, rnd & 15);
	return 0;
}

static int id_check(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 4 || n > 40 || strspn(id, "0123456789TZ-abcdef") != n)
		return cc_error_set(CC_EINVALID, "invalid request id '%s'", id ? id : "");
	return 0;
}

static int relpath(cc_buf *out, const char *def, const char *id, const char *ext)
{
	return cc_buf_printf(out, "requests/%s/%s.%s", def, id, ext);
}

/* A scalar of `root` copied into *out (NULL when absent). */
static int take(const cc_node *root, const char *key, char **out)
{
	const char *v = cc_node_scalar(cc_node_get(root, key));

	free(*out);
	*out = v && *v ? strdup(v) : NULL;
	return v && *v && !*out ? cc_error_set(CC_ERROR, "out of memory") : 0;
}

static int parse(cc_request **out, const char *text, size_t len, const char *file)
{
	cc_node *root = NULL;
	cc_request *req = calloc(1, sizeof(*req));
	const cc_node *v, *order, *acme, *history;
	int rc;

	*out = NULL;
	if (!req)
		return cc_error_set(CC_ERROR, "out of memory");
	if ((rc = cc_node_parse(&root, text, len, file)) < 0)
		goto done;
	if (cc_node_kind(root) != CC_NODE_MAPPING) {
		rc = cc_node_error(root, CC_EINVALID, "a request is a mapping");
		goto done;
	}
	order = cc_node_get(root, "order");
	acme = cc_node_get(root, "acme");
	if ((rc = take(root, "id", &req->id)) || (rc = take(root, "definition", &req->definition)) ||
	    (rc = take(root, "kind", &req->kind)) || (rc = take(root, "provider", &req->provider)) ||
	    (rc = take(root, "provider_type", &req->provider_type)) ||
	    (rc = take(root, "key", &req->key_id)) || (rc = take(root, "certificate", &req->cert_id)) ||
	    (rc = take(root, "created", &req->created)) ||
	    (rc = take(root, "updated", &req->updated)) || (rc = take(root, "error", &req->error)) ||
	    (rc = take(order, "number", &req->order_number)) ||
	    (rc = take(order, "date", &req->order_date)) ||
	    (rc = take(order, "contact", &req->contact)) || (rc = take(order, "notes", &req->notes)) ||
	    (rc = take(acme, "account", &req->acme_account)) ||
	    (rc = take(acme, "order", &req->acme_order)) ||
	    (rc = take(acme, "finalize", &req->acme_finalize)) ||
	    (rc = take(acme, "certificate", &req->acme_certificate)))
		goto done;
	v = cc_node_get(root, "state");
	if (!req->id || !req->definition || !req->provider) {
		rc = cc_node_error(root, CC_EINVALID, "a request needs id, definition and provider");
		goto done;
	}
	if (state_parse(&req->state, cc_node_scalar(v)) < 0) {
		rc = cc_node_error(v ? v : root, CC_EINVALID, "invalid request state '%s'",
				   cc_node_scalar(v) ? cc_node_scalar(v) : "");
		goto done;
	}
	history = cc_node_get(root, "history");
	if (history && cc_node_count(history)) {
		req->history = calloc(cc_node_count(history), sizeof(*req->history));
		if (!req->history) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < cc_node_count(history); i++) {
			const cc_node *e = cc_node_at(history, i);
			cc_request_event *ev = &req->history[req->nhistory++];

			if ((rc = take(e, "time", &ev->time)) || (rc = take(e, "state", &ev->state)) ||
			    (rc = take(e, "message", &ev->message)))
				goto done;
		}
	}
	*out = req;
	req = NULL;
done:
	cc_node_free(root);
	cc_request_free(req);
	return rc;
}

int cc_request_load(cc_request **out, cc_repo *repo, const char *def, const char *id)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = cc_definition_ref_check(def)) < 0 || (rc = id_check(id)) < 0)
		return rc;
	if ((rc = relpath(&rel, def, id, "yaml")) == 0 &&
	    (rc = cc_repo_read(repo, rel.ptr, &text)) == 0)
		rc = parse(out, text.ptr, text.size, rel.ptr);
	if (rc == CC_ENOTFOUND)
		rc = cc_error_set(CC_ENOTFOUND, "no request '%s' for '%s'", id, def);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

static int by_created(const void *a, const void *b)
{
	const cc_request *x = *(cc_request *const *)a, *y = *(cc_request *const *)b;

	return strcmp(x->id, y->id); /* ids start with their creation time */
}

static int list_def(cc_request ***arr, size_t *n, size_t *cap, cc_repo *repo, const char *def)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, rel = CC_BUF_INIT;
	int rc;

	if ((rc = cc_buf_printf(&rel, "requests/%s", def)) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &dir)) < 0)
		goto done;
	if (!cc_fs_is_dir(dir.ptr))
		goto done;
	if ((rc = cc_fs_list(&names, dir.ptr, ".yaml")) < 0)
		goto done;
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		char id[64];
		cc_request *req = NULL;

		snprintf(id, sizeof(id), "%.*s", (int)(strlen(names.items[i]) - 5), names.items[i]);
		if ((rc = cc_request_load(&req, repo, def, id)) < 0)
			break;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			cc_request **grown = realloc(*arr, ncap * sizeof(*grown));

			if (!grown) {
				cc_request_free(req);
				rc = cc_error_set(CC_ERROR, "out of memory");
				break;
			}
			*arr = grown;
			*cap = ncap;
		}
		(*arr)[(*n)++] = req;
	}
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_request_list(cc_request ***out, size_t *count, cc_repo *repo, const char *def)
{
	cc_request **arr = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (def) {
		if ((rc = cc_definition_ref_check(def)) == 0)
			rc = list_def(&arr, &n, &cap, repo, def);
	} else {
		cc_strlist defs = CC_STRLIST_INIT;
		cc_buf dir = CC_BUF_INIT;

		if ((rc = cc_repo_path(repo, "requests", &dir)) == 0 && cc_fs_is_dir(dir.ptr))
			rc = cc_fs_list(&defs, dir.ptr, NULL);
		for (size_t i = 0; i < defs.count && rc == 0; i++)
			rc = list_def(&arr, &n, &cap, repo, defs.items[i]);
		cc_strlist_dispose(&defs);
		cc_buf_dispose(&dir);
	}
	if (rc < 0) {
		cc_request_list_free(arr, n);
		return rc;
	}
	if (n)
		qsort(arr, n, sizeof(*arr), by_created);
	*out = arr;
	*count = n;
	return 0;
}

void cc_request_list_free(cc_request **reqs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		cc_request_free(reqs[i]);
	free(reqs);
}

int cc_request_open_for(cc_request **out, cc_repo *repo, const char *def)
{
	cc_request **reqs = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = cc_request_list(&reqs, &n, repo, def)) < 0)
		return rc;
	for (size_t i = n; i-- > 0;)
		if (cc_request_is_open(reqs[i])) {
			*out = reqs[i];
			reqs[i] = NULL;
			break;
		}
	cc_request_list_free(reqs, n);
	return *out ? 0 : cc_error_set(CC_ENOTFOUND, "'%s' has no open acquisition", def);
}

int cc_request_csr(cc_buf *out, cc_repo *repo, const cc_request *req)
{
	cc_buf rel = CC_BUF_INIT;
	int rc = relpath(&rel, req->definition, req->id, "csr");

	if (rc == 0)
		rc = cc_repo_read(repo, rel.ptr, out);
	if (rc == CC_ENOTFOUND)
		rc = cc_error_set(CC_ENOTFOUND, "request %s has no CSR yet", req->id);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_request_save(cc_txn *txn, cc_request *req)
{
	cc_buf out = CC_BUF_INIT, rel = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	int rc;

	cc_buf_puts(&out, "# certctl acquisition request; see certctl-acquire(1).\n");
	if ((rc = cc_yaml_writer_new(&w, &out)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "id", req->id);
	rc = rc ? rc : cc_yaml_put(w, "definition", req->definition);
	rc = rc ? rc : cc_yaml_put(w, "kind", req->kind);
	rc = rc ? rc : cc_yaml_put(w, "provider", req->provider);
	rc = rc ? rc : cc_yaml_put(w, "provider_type", req->provider_type);
	rc = rc ? rc : cc_yaml_put(w, "state", cc_request_state_name(req->state));
	rc = rc ? rc : cc_yaml_put(w, "key", req->key_id);
	rc = rc ? rc : cc_yaml_put(w, "certificate", req->cert_id);
	rc = rc ? rc : cc_yaml_put(w, "created", req->created);
	rc = rc ? rc : cc_yaml_put(w, "updated", req->updated);
	if (rc == 0 && (req->order_number || req->order_date || req->contact || req->notes)) {
		rc = cc_yaml_key(w, "order");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put(w, "number", req->order_number);
		rc = rc ? rc : cc_yaml_put(w, "date", req->order_date);
		rc = rc ? rc : cc_yaml_put(w, "contact", req->contact);
		rc = rc ? rc : cc_yaml_put(w, "notes", req->notes);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	if (rc == 0 && (req->acme_account || req->acme_order)) {
		rc = cc_yaml_key(w, "acme");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put(w, "account", req->acme_account);
		rc = rc ? rc : cc_yaml_put(w, "order", req->acme_order);
		rc = rc ? rc : cc_yaml_put(w, "finalize", req->acme_finalize);
		rc = rc ? rc : cc_yaml_put(w, "certificate", req->acme_certificate);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	rc = rc ? rc : cc_yaml_put(w, "error", req->error);
	if (rc == 0 && req->nhistory) {
		rc = cc_yaml_key(w, "history");
		rc = rc ? rc : cc_yaml_seq_start(w, 0);
		for (size_t i = 0; i < req->nhistory && rc == 0; i++) {
			rc = cc_yaml_map_start(w);
			rc = rc ? rc : cc_yaml_put(w, "time", req->history[i].time);
			rc = rc ? rc : cc_yaml_put(w, "state", req->history[i].state);
			rc = rc ? rc : cc_yaml_put(w, "message", req->history[i].message);
			rc = rc ? rc : cc_yaml_map_end(w);
		}
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	if (rc == 0 && (rc = relpath(&rel, req->definition, req->id, "yaml")) == 0)
		rc = cc_txn_write(txn, rel.ptr, out.ptr, out.size, 0644);
done:
	cc_yaml_writer_free(w);
	cc_buf_dispose(&out);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_request_transition(cc_txn *txn, cc_request *req, cc_request_state state,
			  const char *message)
{
	cc_request_event *grown = realloc(req->history, (req->nhistory + 1) * sizeof(*grown));
	char now[32];
	cc_request_event *ev;

	if (!grown)
		return cc_error_set(CC_ERROR, "out of memory");
	req->history = grown;
	cc_time_now_rfc3339(now);
	ev = &req->history[req->nhistory];
	ev->time = strdup(now);
	ev->state = strdup(cc_request_state_name(state));
	ev->message = message ? strdup(message) : NULL;
	if (!ev->time || !ev->state || (message && !ev->message)) {
		free(ev->time), free(ev->state), free(ev->message);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	req->nhistory++;
	req->state = state;
	free(req->updated);
	req->updated = strdup(now);
	if (state == CC_REQ_FAILED) {
		free(req->error);
		req->error = message ? strdup(message) : NULL;
	} else if (state != CC_REQ_CANCELLED) {
		free(req->error);
		req->error = NULL;
	}
	return txn ? cc_request_save(txn, req) : 0;
}

int cc_request_set(cc_request *req, const char *field, const char *value)
{
	char **slot = !strcmp(field, "number") || !strcmp(field, "order-number") ||
				      !strcmp(field, "order_number")
			      ? &req->order_number
		      : !strcmp(field, "date") || !strcmp(field, "order-date") ||
				      !strcmp(field, "order_date")
			      ? &req->order_date
		      : !strcmp(field, "contact") ? &req->contact
		      : !strcmp(field, "notes")   ? &req->notes
						  : NULL;
	char *copy;

	if (!slot)
		return cc_error_set(CC_EINVALID, "unknown request field '%s' (order-number, "
				    "order-date, contact, notes)", field);
	if (value && strpbrk(value, "\r") != NULL)
		return cc_error_set(CC_EINVALID, "%s: carriage returns are not allowed", field);
	copy = value && *value ? strdup(value) : NULL;
	if (value && *value && !copy)
		return cc_error_set(CC_ERROR, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

cc_json *cc_request_to_json(const cc_request *req)
{
	cc_json *obj = cc_json_object(), *order, *hist;
	int rc = 0;

	if (!obj)
		return NULL;
	rc |= cc_json_set_str(obj, "id", req->id);
	rc |= cc_json_set_str(obj, "definition", req->definition);
	rc |= cc_json_set_str(obj, "kind", req->kind);
	rc |= cc_json_set_str(obj, "provider", req->provider);
	rc |= cc_json_set_str(obj, "provider_type", req->provider_type);
	rc |= cc_json_set_str(obj, "state", cc_request_state_name(req->state));
	rc |= cc_json_set_bool(obj, "open", cc_request_is_open(req));
	rc |= cc_json_set_str(obj, "key", req->key_id);
	rc |= cc_json_set_str(obj, "certificate", req->cert_id);
	rc |= cc_json_set_str(obj, "created", req->created);
	rc |= cc_json_set_str(obj, "updated", req->updated);
	rc |= cc_json_set_str(obj, "error", req->error);
	order = cc_json_object();
	if (order) {
		rc |= cc_json_set_str(order, "number", req->order_number);
		rc |= cc_json_set_str(order, "date", req->order_date);
		rc |= cc_json_set_str(order, "contact", req->contact);
		rc |= cc_json_set_str(order, "notes", req->notes);
		rc |= cc_json_set(obj, "order", order);
	}
	hist = cc_json_array();
	for (size_t i = 0; hist && i < req->nhistory; i++) {
		cc_json *e = cc_json_object();

		if (!e)
			break;
		rc |= cc_json_set_str(e, "time", req->history[i].time);
		rc |= cc_json_set_str(e, "state", req->history[i].state);
		rc |= cc_json_set_str(e, "message", req->history[i].message);
		rc |= cc_json_append(hist, e);
	}
	if (hist)
		rc |= cc_json_set(obj, "history", hist);
	if (rc || !order || !hist) {
		cc_json_free(obj);
		return NULL;
	}
	return obj;
}
