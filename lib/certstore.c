/*
 * This module implements the certificate store of definitions:
 * certs/<definition>/<id>/{cert.pem, chain.pem, cert.yaml} for every
 * certificate a definition has had, and certs/<definition>/current naming
 * the one servers should have.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static int store_meta(cc_buf *out, const cc_cert *cert, size_t chain_len,
		      const cc_cert_store_info *info)
{
	cc_yaml_writer *w = NULL;
	cc_strlist sans = CC_STRLIST_INIT;
	cc_key_spec spec;
	char when[32], key[32], now[32];
	int rc;

	cc_buf_puts(out, "# certctl certificate record; the certificate is cert.pem beside it.\n");
	if ((rc = cc_yaml_writer_new(&w, out)) < 0)
		return rc;
	cc_cert_key_spec(cert, &spec);
	cc_key_spec_format(&spec, key, sizeof(key));
	cc_time_now_rfc3339(now);
	rc = cc_cert_sans(cert, &sans);
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "id");
	rc = rc ? rc : cc_yaml_scalar(w, cc_cert_id(cert));
	rc = rc ? rc : cc_yaml_key(w, "serial");
	rc = rc ? rc : cc_yaml_scalar(w, cc_cert_serial(cert));
	rc = rc ? rc : cc_yaml_key(w, "subject");
	rc = rc ? rc : cc_yaml_scalar(w, cc_cert_subject(cert));
	rc = rc ? rc : cc_yaml_key(w, "issuer");
	rc = rc ? rc : cc_yaml_scalar(w, cc_cert_issuer(cert));
	if (rc == 0 && sans.count) {
		rc = cc_yaml_key(w, "san");
		rc = rc ? rc : cc_yaml_seq_start(w, 1);
		for (size_t i = 0; i < sans.count && rc == 0; i++)
			rc = cc_yaml_scalar(w, sans.items[i]);
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	cc_time_rfc3339(cc_cert_not_before(cert), when);
	rc = rc ? rc : cc_yaml_key(w, "not_before");
	rc = rc ? rc : cc_yaml_scalar(w, when);
	cc_time_rfc3339(cc_cert_not_after(cert), when);
	rc = rc ? rc : cc_yaml_key(w, "not_after");
	rc = rc ? rc : cc_yaml_scalar(w, when);
	rc = rc ? rc : cc_yaml_key(w, "key");
	rc = rc ? rc : cc_yaml_scalar(w, key);
	if (rc == 0 && info && info->key_id) {
		rc = cc_yaml_key(w, "key_id");
		rc = rc ? rc : cc_yaml_scalar(w, info->key_id);
	}
	rc = rc ? rc : cc_yaml_key(w, "sha256");
	rc = rc ? rc : cc_yaml_scalar(w, cc_cert_sha256(cert));
	rc = rc ? rc : cc_yaml_key(w, "sha1");
	rc = rc ? rc : cc_yaml_scalar(w, cc_cert_sha1(cert));
	rc = rc ? rc : cc_yaml_key(w, "chain");
	{
		char n[16];

		snprintf(n, sizeof(n), "%zu", chain_len);
		rc = rc ? rc : cc_yaml_plain(w, n);
	}
	rc = rc ? rc : cc_yaml_key(w, "source");
	rc = rc ? rc : cc_yaml_scalar(w, info && info->source ? info->source : "unknown");
	if (rc == 0 && info && info->request) {
		rc = cc_yaml_key(w, "request");
		rc = rc ? rc : cc_yaml_scalar(w, info->request);
	}
	rc = rc ? rc : cc_yaml_key(w, "stored");
	rc = rc ? rc : cc_yaml_scalar(w, now);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	cc_strlist_dispose(&sans);
	return rc;
}

int cc_cert_store(cc_txn *txn, const char *def_name, const cc_cert *cert, cc_cert *const *chain,
		  size_t chain_len, const cc_cert_store_info *info, int make_current)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT, pem = CC_BUF_INIT, meta = CC_BUF_INIT;
	int rc;

	if ((rc = cc_definition_ref_check(def_name)) < 0)
		return rc;
	if ((rc = cc_buf_printf(&rel, "certs/%s/%s/cert.pem", def_name, cc_cert_id(cert))) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	if (cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_EEXISTS, "certificate %s of '%s' is already stored",
				  cc_cert_id(cert), def_name);
		goto done;
	}
	if ((rc = cc_cert_pem(cert, &pem)) < 0 ||
	    (rc = cc_txn_write(txn, rel.ptr, pem.ptr, pem.size, 0644)) < 0)
		goto done;
	cc_buf_clear(&pem);
	for (size_t i = 0; i < chain_len && rc == 0; i++)
		rc = cc_cert_pem(chain[i], &pem);
	cc_buf_clear(&rel);
	if (rc < 0 || (rc = cc_buf_printf(&rel, "certs/%s/%s/chain.pem", def_name,
					  cc_cert_id(cert))) < 0 ||
	    (rc = cc_txn_write(txn, rel.ptr, pem.ptr ? pem.ptr : "", pem.size, 0644)) < 0)
		goto done;
	cc_buf_clear(&rel);
	if ((rc = store_meta(&meta, cert, chain_len, info)) < 0 ||
	    (rc = cc_buf_printf(&rel, "certs/%s/%s/cert.yaml", def_name, cc_cert_id(cert))) < 0 ||
	    (rc = cc_txn_write(txn, rel.ptr, meta.ptr, meta.size, 0644)) < 0)
		goto done;
	if (make_current) {
		char line[32];
		int len = snprintf(line, sizeof(line), "%s\n", cc_cert_id(cert));

		cc_buf_clear(&rel);
		if ((rc = cc_buf_printf(&rel, "certs/%s/current", def_name)) < 0)
			goto done;
		rc = cc_txn_write(txn, rel.ptr, line, (size_t)len, 0644);
	}
done:
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	cc_buf_dispose(&pem);
	cc_buf_dispose(&meta);
	return rc;
}

int cc_cert_current_id(char **out, cc_repo *repo, const char *def_name)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = cc_definition_ref_check(def_name)) < 0 ||
	    (rc = cc_buf_printf(&rel, "certs/%s/current", def_name)) < 0)
		goto done;
	rc = cc_repo_read(repo, rel.ptr, &text);
	if (rc == CC_ENOTFOUND) {
		rc = cc_error_set(CC_ENOTFOUND, "definition '%s' has no current certificate",
				  def_name);
		goto done;
	}
	if (rc < 0)
		goto done;
	len = strspn(cc_buf_cstr(&text), "0123456789abcdef");
	if (len != 16) {
		rc = cc_error_set(CC_EINVALID, "%s: not a certificate id", rel.ptr);
		goto done;
	}
	*out = strndup(text.ptr, 16);
	rc = *out ? 0 : cc_error_set(CC_ERROR, "out of memory");
done:
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_repo_read_certs(cc_cert ***out, size_t *count, cc_repo *repo, const char *rel)
{
	cc_buf text = CC_BUF_INIT;
	int rc = cc_repo_read(repo, rel, &text);

	*out = NULL;
	*count = 0;
	/* An empty file (a chain with nothing above a root) holds none. */
	if (rc == 0 && text.size)
		rc = cc_cert_parse_all(out, count, text.ptr, text.size, rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_cert_load(cc_cert **out, cc_cert ***chain, size_t *chain_len, cc_repo *repo,
		 const char *def_name, const char *id)
{
	cc_buf rel = CC_BUF_INIT;
	cc_cert **leaf = NULL;
	size_t nleaf = 0;
	int rc;

	*out = NULL;
	if (chain)
		*chain = NULL;
	if (chain_len)
		*chain_len = 0;
	if ((rc = cc_buf_printf(&rel, "certs/%s/%s/cert.pem", def_name, id)) < 0)
		goto done;
	if ((rc = cc_repo_read_certs(&leaf, &nleaf, repo, rel.ptr)) < 0) {
		if (rc == CC_ENOTFOUND)
			rc = cc_error_set(CC_ENOTFOUND, "%s has no certificate %s", def_name, id);
		goto done;
	}
	if (nleaf != 1) {
		rc = cc_error_set(CC_EINVALID, "%s: expected one certificate", rel.ptr);
		goto done;
	}
	if (chain) {
		cc_buf_clear(&rel);
		if ((rc = cc_buf_printf(&rel, "certs/%s/%s/chain.pem", def_name, id)) < 0 ||
		    (rc = cc_repo_read_certs(chain, chain_len, repo, rel.ptr)) < 0)
			goto done;
	}
	*out = leaf[0];
	leaf[0] = NULL;
done:
	cc_cert_list_free(leaf, nleaf);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_cert_current(cc_cert **out, cc_cert ***chain, size_t *chain_len, cc_repo *repo,
		    const char *def_name)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (chain)
		*chain = NULL;
	if (chain_len)
		*chain_len = 0;
	if ((rc = cc_cert_current_id(&id, repo, def_name)) < 0)
		return rc;
	rc = cc_cert_load(out, chain, chain_len, repo, def_name, id);
	free(id);
	return rc;
}

int cc_cert_key_id(char **out, cc_repo *repo, const char *def_name, const char *id)
{
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_node *meta = NULL;
	const char *key;
	int rc;

	*out = NULL;
	if ((rc = cc_buf_printf(&rel, "certs/%s/%s/cert.yaml", def_name, id)) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0 ||
	    (rc = cc_node_load(&meta, abs.ptr, rel.ptr)) < 0)
		goto done;
	key = cc_node_scalar(cc_node_get(meta, "key_id"));
	if (key && *key && !(*out = strdup(key)))
		rc = cc_error_set(CC_ERROR, "out of memory");
done:
	cc_node_free(meta);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return rc;
}
