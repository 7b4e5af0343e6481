/*
 * The acquisition process: start (key, CSR, request), receive a
 * certificate from any CA and check it, complete from the built-in CA,
 * cancel; and switching the current certificate.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ca_internal.h"

int cc_provider_type(const cc_repo *repo, const char *name, const char **type)
{
	const cc_node *p = cc_node_get(cc_node_get(cc_repo_config(repo), "providers"), name);
	const char *t = cc_node_scalar(cc_node_get(p, "type"));

	*type = NULL;
	if (!p)
		return cc_error_set(CC_ENOTFOUND, "no provider '%s' in .certctl/config.yaml", name);
	if (!t || (strcmp(t, "builtin") && strcmp(t, "manual") && strcmp(t, "acme")))
		return cc_node_error(p, CC_EINVALID, "provider '%s': type must be builtin, manual or "
				     "acme", name);
	*type = t;
	return 0;
}


int cc_acquire_start(cc_txn *txn, const cc_definition *def, const cc_acquire_options *opts,
		     cc_request **out)
{
	cc_acquire_options defaults = CC_ACQUIRE_OPTIONS_INIT;
	cc_issue_options key_opts = CC_ISSUE_OPTIONS_INIT;
	cc_repo *repo = cc_txn_repo(txn);
	cc_request *open = NULL, *req = NULL;
	cc_key *key = NULL;
	cc_buf csr = CC_BUF_INIT, rel = CC_BUF_INIT, msg = CC_BUF_INIT;
	char *current = NULL, id[32], now[32];
	const char *provider, *type = NULL;
	int rc, is_new = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (def->mode == CC_MODE_MONITOR)
		return cc_error_set(CC_EINVALID, "definition '%s' is monitored-only; switch it to "
				    "lifecycle ('define %s --mode lifecycle') to acquire", def->name,
				    def->name);
	provider = opts->provider ? opts->provider : def->provider;
	if ((rc = cc_provider_type(repo, provider, &type)) < 0)
		return rc;
	rc = cc_request_open_for(&open, repo, def->name);
	if (rc == 0) {
		rc = cc_error_set(CC_EEXISTS, "'%s' already has an open acquisition: request %s (%s); "
				  "finish it or cancel it with 'certctl acquire %s --cancel'",
				  def->name, open->id, cc_request_state_name(open->state), def->name);
		cc_request_free(open);
		return rc;
	}
	if (rc != CC_ENOTFOUND)
		return rc;
	cc_error_clear();
	key_opts.reuse_key = opts->reuse_key;
	key_opts.key_id = opts->key_id;
	if ((rc = cc_issue_key(&key, &is_new, txn, def, &key_opts)) < 0)
		goto done;
	/* Ids are the millisecond and 4 random bits: a cancelled request of
	 * the same millisecond must not be overwritten. */
	for (int attempt = 0;; attempt++) {
		cc_buf abs = CC_BUF_INIT;
		int taken;

		if ((rc = cc_request_new_id(id)) < 0)
			goto done;
		cc_buf_printf(&rel, "requests/%s/%s.yaml", def->name, id);
		taken = cc_repo_path(repo, rel.ptr, &abs) == 0 && cc_fs_exists(abs.ptr);
		cc_buf_dispose(&abs);
		cc_buf_clear(&rel);
		if (!taken)
			break;
		if (attempt == 16) {
			rc = cc_error_set(CC_ERROR, "cannot find a free request id");
			goto done;
		}
	}
	if (!(req = calloc(1, sizeof(*req)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	rc = cc_cert_current_id(&current, repo, def->name);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		rc = 0;
	} else if (rc < 0) {
		goto done;
	}
	cc_time_now_rfc3339(now);
	req->id = strdup(id);
	req->definition = strdup(def->name);
	req->kind = strdup(current ? "renewal" : "new");
	req->provider = strdup(provider);
	req->provider_type = strdup(type);
	req->key_id = strdup(cc_key_id(key));
	req->created = strdup(now);
	if (!req->id || !req->definition || !req->kind || !req->provider || !req->provider_type ||
	    !req->key_id || !req->created) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	if (is_new) {
		cc_buf_printf(&msg, "acquisition %s of '%s'", id, def->name);
		if ((rc = cc_key_store(txn, key, msg.ptr)) < 0)
			goto done;
		cc_buf_clear(&msg);
	}
	cc_buf_printf(&msg, "%s key %s (%s)", is_new ? "new" : "reused", cc_key_id(key),
		      current ? "renewal" : "first certificate");
	if ((rc = cc_request_transition(NULL, req, CC_REQ_KEY_GENERATED, msg.ptr)) < 0 ||
	    (rc = cc_csr_build(&csr, def, key)) < 0 ||
	    (rc = cc_buf_printf(&rel, "requests/%s/%s.csr", def->name, id)) < 0 ||
	    (rc = cc_txn_write(txn, rel.ptr, csr.ptr, csr.size, 0644)) < 0 ||
	    (rc = cc_request_transition(txn, req, CC_REQ_CSR_GENERATED, "CSR written")) < 0)
		goto done;
	*out = req;
	req = NULL;
done:
	cc_request_free(req);
	cc_key_free(key);
	free(current);
	cc_buf_dispose(&csr);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&msg);
	return rc;
}

int cc_acquire_cancel(cc_txn *txn, cc_request *req, const char *why)
{
	if (!cc_request_is_open(req))
		return cc_error_set(CC_EINVALID, "request %s is %s, not open", req->id,
				    cc_request_state_name(req->state));
	return cc_request_transition(txn, req, CC_REQ_CANCELLED, why ? why : "cancelled");
}

/* The names the definition wants that the certificate lacks, and extras. */
static int name_differences(const cc_definition *def, const cc_cert *cert, cc_strlist *warnings)
{
	cc_strlist have = CC_STRLIST_INIT, want = CC_STRLIST_INIT;
	cc_buf line = CC_BUF_INIT;
	int rc = cc_cert_sans(cert, &have);

	for (size_t i = 0; rc == 0 && i < def->sans.dns.count; i++) {
		cc_buf_clear(&line);
		cc_buf_printf(&line, "DNS:%s", def->sans.dns.items[i]);
		rc = cc_strlist_add(&want, line.ptr);
	}
	for (size_t i = 0; rc == 0 && i < def->sans.ip.count; i++) {
		cc_buf_clear(&line);
		cc_buf_printf(&line, "IP:%s", def->sans.ip.items[i]);
		rc = cc_strlist_add(&want, line.ptr);
	}
	for (size_t i = 0; rc == 0 && i < want.count; i++)
		if (!cc_strlist_contains(&have, want.items[i])) {
			cc_buf_clear(&line);
			cc_buf_printf(&line, "the certificate lacks %s, which the definition names",
				      want.items[i]);
			rc = cc_strlist_add(warnings, line.ptr);
		}
	for (size_t i = 0; rc == 0 && i < have.count; i++)
		if ((!strncmp(have.items[i], "DNS:", 4) || !strncmp(have.items[i], "IP:", 3)) &&
		    !cc_strlist_contains(&want, have.items[i])) {
			cc_buf_clear(&line);
			cc_buf_printf(&line, "the certificate also names %s, which the definition "
				      "does not", have.items[i]);
			rc = cc_strlist_add(warnings, line.ptr);
		}
	if (rc == 0 && def->subject.cn && (!cc_cert_cn(cert) || strcmp(def->subject.cn, cc_cert_cn(cert)))) {
		cc_buf_clear(&line);
		cc_buf_printf(&line, "the certificate's common name is '%s', the definition's '%s'",
			      cc_cert_cn(cert) ? cc_cert_cn(cert) : "", def->subject.cn);
		rc = cc_strlist_add(warnings, line.ptr);
	}
	cc_strlist_dispose(&have);
	cc_strlist_dispose(&want);
	cc_buf_dispose(&line);
	return rc;
}

int cc_acquire_receive(cc_txn *txn, const cc_definition *def, cc_request *req,
		       cc_cert *const *certs, size_t ncerts, const cc_receive_options *opts,
		       cc_cert **cert_out)
{
	cc_receive_options defaults = CC_RECEIVE_OPTIONS_INIT;
	cc_repo *repo = cc_txn_repo(txn);
	cc_key *key = NULL;
	const cc_cert *leaf = NULL;
	cc_cert **others = NULL;
	size_t nothers = 0;
	cc_verify_result vr;
	cc_cert_store_info info;
	cc_buf msg = CC_BUF_INIT, source = CC_BUF_INIT;
	int rc, make_current;

	memset(&vr, 0, sizeof(vr));
	if (cert_out)
		*cert_out = NULL;
	if (!opts)
		opts = &defaults;
	if (!cc_request_is_open(req) || req->state == CC_REQ_RECEIVED)
		return cc_error_set(CC_EINVALID, "request %s is %s: nothing to receive", req->id,
				    cc_request_state_name(req->state));
	if (!ncerts)
		return cc_error_set(CC_EINVALID, "no certificate given");
	if ((rc = cc_key_load(&key, repo, req->key_id)) < 0)
		return rc;
	for (size_t i = 0; i < ncerts && !leaf; i++)
		if (cc_cert_matches_key(certs[i], key))
			leaf = certs[i];
	if (!leaf) {
		/* Name the likely leaf: the first certificate that is not a CA. */
		const cc_cert *shown = certs[0];

		for (size_t i = 0; i < ncerts; i++)
			if (!cc_cert_is_ca(certs[i])) {
				shown = certs[i];
				break;
			}
		rc = cc_error_set(CC_EMISMATCH, "the certificate for '%s' (%s) has public key "
				  "SHA-256 %s, but request %s has key %s with SHA-256 %s: it was not "
				  "issued for this request's CSR", cc_cert_subject(shown),
				  cc_cert_id(shown), cc_cert_key_fingerprint(shown), req->id,
				  req->key_id, cc_key_fingerprint(key));
		goto done;
	}
	if (!(others = calloc(ncerts, sizeof(*others)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < ncerts; i++)
		if (certs[i] != leaf)
			others[nothers++] = certs[i];
	if (opts->warnings && (rc = name_differences(def, leaf, opts->warnings)) < 0)
		goto done;
	/* A certificate valid from a later date is checked as of that date. */
	if ((rc = cc_verify_chain(repo, opts->trust_set ? opts->trust_set : def->trust_set, leaf,
				  others, nothers,
				  cc_cert_not_before(leaf) > time(NULL) ? cc_cert_not_before(leaf) : 0,
				  &vr)) < 0)
		goto done;
	if (opts->warnings && vr.fetched) {
		cc_buf_printf(&msg, "completed the chain with %zu certificate(s) from %s", vr.fetched,
			      vr.aia_url ? vr.aia_url : "the AIA URL");
		cc_strlist_add(opts->warnings, msg.ptr);
		cc_buf_clear(&msg);
	}
	make_current = !opts->no_switch && cc_cert_not_before(leaf) <= time(NULL);
	cc_buf_printf(&source, "%s:%s", req->provider_type, req->provider);
	info.source = source.ptr;
	info.key_id = req->key_id;
	info.request = req->id;
	if ((rc = cc_cert_store(txn, def->name, leaf, vr.chain, vr.chain_len, &info,
				make_current)) < 0)
		goto done;
	free(req->cert_id);
	req->cert_id = strdup(cc_cert_id(leaf));
	cc_buf_printf(&msg, "certificate %s received (serial %s, issuer %s)", cc_cert_id(leaf),
		      cc_cert_serial(leaf), cc_cert_issuer(leaf));
	if ((rc = cc_request_transition(NULL, req, CC_REQ_RECEIVED, msg.ptr)) < 0)
		goto done;
	cc_buf_clear(&msg);
	if (make_current)
		cc_buf_printf(&msg, "certificate %s is current", cc_cert_id(leaf));
	else
		cc_buf_printf(&msg, "certificate %s stored; switch with 'certctl current %s --cert %s'",
			      cc_cert_id(leaf), def->name, cc_cert_id(leaf));
	if ((rc = cc_request_transition(txn, req, CC_REQ_COMPLETED, msg.ptr)) < 0)
		goto done;
	if (cert_out)
		*cert_out = cc_cert_dup(leaf);
done:
	cc_verify_result_dispose(&vr);
	free(others);
	cc_key_free(key);
	cc_buf_dispose(&msg);
	cc_buf_dispose(&source);
	return rc;
}

int cc_acquire_builtin(cc_txn *txn, const cc_definition *def, cc_request *req,
		       cc_cert **cert_out)
{
	cc_issue_options opts = CC_ISSUE_OPTIONS_INIT;
	const char *ca_name = cc_node_scalar(cc_node_get(
		cc_node_get(cc_node_get(cc_repo_config(cc_txn_repo(txn)), "providers"), req->provider),
		"ca"));
	cc_ca *ca = NULL;
	cc_cert *cert = NULL;
	cc_buf msg = CC_BUF_INIT;
	int rc;

	if (cert_out)
		*cert_out = NULL;
	if ((rc = cc_ca_load(&ca, cc_txn_repo(txn), def->ca ? def->ca : ca_name)) < 0)
		return rc;
	opts.key_id = req->key_id;
	cc_buf_printf(&msg, "ordered from CA '%s'", cc_ca_name(ca));
	if ((rc = cc_request_transition(NULL, req, CC_REQ_ORDERED, msg.ptr)) < 0 ||
	    (rc = cc_issue(txn, ca, def, &opts, &cert, NULL)) < 0)
		goto done;
	free(req->cert_id);
	req->cert_id = strdup(cc_cert_id(cert));
	cc_buf_clear(&msg);
	cc_buf_printf(&msg, "certificate %s issued by CA '%s' (serial %s)", cc_cert_id(cert),
		      cc_ca_name(ca), cc_cert_serial(cert));
	if ((rc = cc_request_transition(NULL, req, CC_REQ_RECEIVED, msg.ptr)) < 0)
		goto done;
	cc_buf_clear(&msg);
	cc_buf_printf(&msg, "certificate %s is current", cc_cert_id(cert));
	if ((rc = cc_request_transition(txn, req, CC_REQ_COMPLETED, msg.ptr)) < 0)
		goto done;
	if (cert_out) {
		*cert_out = cert;
		cert = NULL;
	}
done:
	cc_cert_free(cert);
	cc_ca_free(ca);
	cc_buf_dispose(&msg);
	return rc;
}

int cc_cert_list_ids(cc_repo *repo, const char *def, cc_strlist *out)
{
	cc_buf rel = CC_BUF_INIT, dir = CC_BUF_INIT;
	cc_strlist names = CC_STRLIST_INIT;
	int rc;

	if ((rc = cc_definition_ref_check(def)) < 0)
		return rc;
	if ((rc = cc_buf_printf(&rel, "certs/%s", def)) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &dir)) < 0)
		goto done;
	if (!cc_fs_is_dir(dir.ptr))
		goto done;
	if ((rc = cc_fs_list(&names, dir.ptr, NULL)) < 0)
		goto done;
	for (size_t i = 0; i < names.count && rc == 0; i++)
		if (strlen(names.items[i]) == 16 && strspn(names.items[i], "0123456789abcdef") == 16)
			rc = cc_strlist_add(out, names.items[i]);
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&dir);
	return rc;
}

int cc_current_switch(cc_txn *txn, const char *def, const char *id)
{
	cc_strlist ids = CC_STRLIST_INIT;
	cc_buf rel = CC_BUF_INIT, line = CC_BUF_INIT;
	int rc;

	if ((rc = cc_cert_list_ids(cc_txn_repo(txn), def, &ids)) < 0)
		goto done;
	if (!id || !cc_strlist_contains(&ids, id)) {
		rc = cc_error_set(CC_ENOTFOUND, "'%s' has no stored certificate '%s' (%zu stored)",
				  def, id ? id : "", ids.count);
		goto done;
	}
	if ((rc = cc_buf_printf(&rel, "certs/%s/current", def)) == 0 &&
	    (rc = cc_buf_printf(&line, "%s\n", id)) == 0)
		rc = cc_txn_write(txn, rel.ptr, line.ptr, line.size, 0644);
done:
	cc_strlist_dispose(&ids);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&line);
	return rc;
}

/* The "source" recorded for certificate `id` of `def` (malloc'ed). */
static int cert_source(char **out, cc_repo *repo, const char *def, const char *id)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_node *root = NULL;
	int rc;

	*out = NULL;
	if ((rc = cc_buf_printf(&rel, "certs/%s/%s/cert.yaml", def, id)) == 0 &&
	    (rc = cc_repo_read(repo, rel.ptr, &text)) == 0 &&
	    (rc = cc_node_parse(&root, text.ptr, text.size, rel.ptr)) == 0) {
		const char *s = cc_node_scalar(cc_node_get(root, "source"));

		*out = strdup(s ? s : "unknown");
	}
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_revoke(cc_repo *repo, const char *def, const char *id, int reason, cc_buf *how)
{
	char *current = NULL, *source = NULL, now[32];
	cc_buf rel = CC_BUF_INIT, record = CC_BUF_INIT, summary = CC_BUF_INIT, data = CC_BUF_INIT;
	cc_cert *cert = NULL;
	cc_ca *ca = NULL;
	cc_txn *txn = NULL;
	int rc;

	if (!id) {
		if ((rc = cc_cert_current_id(&current, repo, def)) < 0)
			goto done;
		id = current;
	}
	if ((rc = cert_source(&source, repo, def, id)) < 0)
		goto done;
	if ((rc = cc_buf_printf(&rel, "certs/%s/%s/cert.pem", def, id)) < 0 ||
	    (rc = cc_repo_read(repo, rel.ptr, &data)) < 0 ||
	    (rc = cc_cert_parse(&cert, data.ptr, data.size, rel.ptr)) < 0)
		goto done;
	cc_buf_clear(&rel);
	if ((rc = cc_buf_printf(&rel, "certs/%s/%s/revoked.yaml", def, id)) < 0)
		goto done;
	{
		cc_buf abs = CC_BUF_INIT;
		int exists = cc_repo_path(repo, rel.ptr, &abs) == 0 && cc_fs_exists(abs.ptr);

		cc_buf_dispose(&abs);
		if (exists) {
			rc = cc_error_set(CC_EEXISTS, "certificate %s of '%s' is already revoked", id, def);
			goto done;
		}
	}
	if (!strncmp(source, "acme:", 5)) {
		/* The CA first: only what it accepted is recorded. */
		if ((rc = cc_acme_revoke(repo, source + 5, cert, reason)) < 0)
			goto done;
		cc_buf_printf(how, "revoked through ACME provider '%s'", source + 5);
	} else if (strncmp(source, "builtin:", 8) != 0) {
		rc = cc_error_set(CC_EINVALID, "certificate %s of '%s' comes from '%s': revoke it at "
				  "the CA that issued it (%s)", id, def, source, cc_cert_issuer(cert));
		goto done;
	}
	if ((rc = cc_txn_begin(&txn, repo, "revoke")) < 0)
		goto done;
	if (!strncmp(source, "builtin:", 8)) {
		if ((rc = cc_ca_load(&ca, repo, source + 8)) < 0 ||
		    (rc = cc_ca_revoke(txn, ca, cc_cert_serial(cert), reason)) < 0)
			goto done;
		cc_buf_printf(how, "revoked by CA '%s'", source + 8);
	}
	cc_time_now_rfc3339(now);
	cc_buf_printf(&record, "# certctl revocation record\ntime: %s\nreason: %s\nby: %s\n", now,
		      cc_revocation_reason_name(reason), source);
	if ((rc = cc_txn_write(txn, rel.ptr, record.ptr, record.size, 0644)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Definition", def)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Certificate", id)) < 0)
		goto done;
	cc_buf_printf(&summary, "revoke: %s: certificate %s (%s)", def, id,
		      cc_revocation_reason_name(reason));
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	txn = NULL;
done:
	cc_txn_abort(txn);
	cc_ca_free(ca);
	cc_cert_free(cert);
	free(current);
	free(source);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&record);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&data);
	return rc;
}
