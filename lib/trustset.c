/*
 * Trusted CA sets as records: trust/<set>/set.yaml names the set's
 * system-defined collection (a bundle file such as the system's CA bundle)
 * with the SHA-256 of the file and the fingerprints of its CAs as they
 * were when the set was created or last merged, so that a changed bundle
 * is noticed and its changes shown; trust/default names the default set.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

#define BUNDLE_MAX (16 << 20)

void cc_trust_info_dispose(cc_trust_info *info)
{
	free(info->set);
	free(info->bundle);
	free(info->recorded_sha256);
	free(info->current_sha256);
	free(info->merged);
	cc_strlist_dispose(&info->fingerprints);
	cc_strlist_dispose(&info->user_cas);
	memset(info, 0, sizeof(*info));
}

const char *cc_trust_default(cc_repo *repo, char out[129])
{
	cc_buf text = CC_BUF_INIT;
	cc_setting st;
	int have = cc_setting_get(&st, repo, "defaults.trust_set") == 0;

	snprintf(out, 129, "default");
	/*
	 * The command line and the environment beat the repository's choice
	 * (`certctl trust default` writes trust/default), which beats the
	 * configuration's defaults.trust_set.
	 */
	if (have && st.layer >= CC_SETTING_ENVIRONMENT) {
		snprintf(out, 129, "%s", st.value);
	} else if (repo && cc_repo_read(repo, "trust/default", &text) == 0 && text.size) {
		size_t n = strcspn(text.ptr, "\r\n");

		if (n && n < 129) {
			memcpy(out, text.ptr, n);
			out[n] = '\0';
		}
	} else if (have) {
		snprintf(out, 129, "%s", st.value);
	}
	cc_error_clear();
	cc_buf_dispose(&text);
	return out;
}

/* The set's record, if it has one. */
static int read_record(cc_repo *repo, const char *set, cc_trust_info *info)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_node *root = NULL;
	const cc_node *fps;
	int rc;

	cc_buf_printf(&rel, "trust/%s/set.yaml", set);
	rc = cc_repo_read(repo, rel.ptr, &text);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		rc = 0;
		goto done;
	}
	if (rc < 0 || (rc = cc_node_parse(&root, text.ptr, text.size, rel.ptr)) < 0)
		goto done;
	info->has_record = 1;
	if (cc_node_get(root, "bundle"))
		info->bundle = cc_strdup(cc_node_scalar(cc_node_get(root, "bundle")));
	info->recorded_sha256 = cc_strdup(cc_node_scalar(cc_node_get(root, "bundle_sha256")));
	info->merged = cc_strdup(cc_node_scalar(cc_node_get(root, "merged")));
	fps = cc_node_get(root, "bundle_cas");
	for (size_t i = 0; fps && i < cc_node_count(fps); i++)
		if (cc_node_scalar(cc_node_at(fps, i)))
			cc_strlist_add(&info->fingerprints, cc_node_scalar(cc_node_at(fps, i)));
done:
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_trust_info_load(cc_repo *repo, const char *set, cc_trust_info *info)
{
	cc_buf data = CC_BUF_INIT;
	char def[129];
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = cc_name_check(set, "trust set")) < 0)
		return rc;
	info->set = strdup(set);
	info->is_default = !strcmp(set, cc_trust_default(repo, def));
	if ((rc = read_record(repo, set, info)) < 0)
		return rc;
	if (!info->has_record) {
		const char *b = cc_trust_bundle(repo, set);

		info->bundle = cc_strdup(b ? b : "");
	}
	if ((rc = cc_trust_list(repo, set, &info->user_cas)) < 0)
		return rc;
	if (info->bundle && *info->bundle) {
		char hex[65];

		if (cc_fs_read(&data, info->bundle, BUNDLE_MAX) == 0 && cc_sha256_hex(data.ptr, data.size, hex) == 0)
			info->current_sha256 = strdup(hex);
		cc_error_clear();
	}
	info->bundle_changed = info->recorded_sha256 && info->current_sha256 &&
			       strcmp(info->recorded_sha256, info->current_sha256);
	cc_buf_dispose(&data);
	return 0;
}

/* Write trust/<set>/set.yaml for `bundle` as it is now; `added` and
 * `removed` get the subjects that changed since the last record. */
static int record_bundle(cc_txn *txn, const char *set, const char *bundle, const cc_strlist *old,
			 cc_strlist *added, cc_strlist *removed, size_t *count)
{
	cc_buf data = CC_BUF_INIT, text = CC_BUF_INIT, rel = CC_BUF_INIT;
	cc_cert **certs = NULL;
	size_t n = 0;
	cc_strlist fps = CC_STRLIST_INIT;
	cc_yaml_writer *w = NULL;
	char hex[65] = "", now[32];
	int rc = 0;

	*count = 0;
	if (bundle && *bundle) {
		if ((rc = cc_fs_read(&data, bundle, BUNDLE_MAX)) < 0)
			goto done;
		if ((rc = cc_cert_parse_all(&certs, &n, data.ptr, data.size, bundle)) < 0)
			goto done;
		if ((rc = cc_sha256_hex(data.ptr, data.size, hex)) < 0)
			goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *fp = cc_cert_sha256(certs[i]);

		if (cc_strlist_contains(&fps, fp))
			continue;
		cc_strlist_add(&fps, fp);
		if (old && !cc_strlist_contains(old, fp) && added)
			cc_strlist_add(added, cc_cert_subject(certs[i]));
	}
	for (size_t i = 0; old && removed && i < old->count; i++)
		if (!cc_strlist_contains(&fps, old->items[i]))
			cc_strlist_add(removed, old->items[i]);
	*count = fps.count;
	cc_time_now_rfc3339(now);
	cc_buf_puts(&text, "# certctl trusted CA set; see certctl-trust(1).\n");
	if ((rc = cc_yaml_writer_new(&w, &text)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "set", set);
	rc = rc ? rc : cc_yaml_key(w, "bundle");
	rc = rc ? rc : cc_yaml_scalar(w, bundle ? bundle : "");
	if (hex[0])
		rc = rc ? rc : cc_yaml_put(w, "bundle_sha256", hex);
	rc = rc ? rc : cc_yaml_put(w, "merged", now);
	rc = rc ? rc : cc_yaml_put_list(w, "bundle_cas", &fps, 0);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	if (rc < 0)
		goto done;
	cc_buf_printf(&rel, "trust/%s/set.yaml", set);
	rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644);
done:
	cc_cert_list_free(certs, n);
	cc_strlist_dispose(&fps);
	cc_buf_dispose(&data);
	cc_buf_dispose(&text);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_trust_create(cc_txn *txn, const char *set, const char *bundle, size_t *count)
{
	cc_trust_info info;
	int rc;

	if ((rc = cc_name_check(set, "trust set")) < 0)
		return rc;
	if ((rc = cc_trust_info_load(cc_txn_repo(txn), set, &info)) < 0)
		goto done;
	if (info.has_record || info.user_cas.count) {
		rc = cc_error_set(CC_EEXISTS, "trust set '%s' exists", set);
		goto done;
	}
	if (!bundle)
		bundle = cc_trust_bundle(NULL, set); /* the system's */
	rc = record_bundle(txn, set, bundle, NULL, NULL, NULL, count);
done:
	cc_trust_info_dispose(&info);
	return rc;
}

int cc_trust_merge(cc_txn *txn, const char *set, const char *bundle, cc_strlist *added,
		   cc_strlist *removed, size_t *count)
{
	cc_trust_info info;
	int rc;

	if ((rc = cc_trust_info_load(cc_txn_repo(txn), set, &info)) < 0)
		goto done;
	rc = record_bundle(txn, set, bundle ? bundle : info.bundle, info.has_record ?
			   &info.fingerprints : NULL, added, removed, count);
done:
	cc_trust_info_dispose(&info);
	return rc;
}

int cc_trust_sets(cc_repo *repo, cc_strlist *out)
{
	cc_buf dir = CC_BUF_INIT;
	cc_strlist names = CC_STRLIST_INIT;
	char def[129];
	int rc;

	if ((rc = cc_repo_path(repo, "trust", &dir)) < 0)
		return rc;
	if (cc_fs_is_dir(dir.ptr) && (rc = cc_fs_list(&names, dir.ptr, NULL)) < 0)
		goto done;
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		cc_buf sub = CC_BUF_INIT;

		cc_strlist files = CC_STRLIST_INIT;

		/* A deleted set may leave its empty directory behind. */
		cc_buf_printf(&sub, "%s/%s", dir.ptr, names.items[i]);
		if (cc_fs_is_dir(sub.ptr) && cc_fs_list(&files, sub.ptr, NULL) == 0 && files.count)
			rc = cc_strlist_add(out, names.items[i]);
		cc_error_clear();
		cc_strlist_dispose(&files);
		cc_buf_dispose(&sub);
	}
	cc_trust_default(repo, def);
	if (rc == 0 && !cc_strlist_contains(out, def))
		rc = cc_strlist_add(out, def);
	if (rc == 0 && !cc_strlist_contains(out, "default"))
		rc = cc_strlist_add(out, "default");
	cc_strlist_sort(out);
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&dir);
	return rc;
}

int cc_trust_set_default(cc_txn *txn, const char *set)
{
	cc_buf text = CC_BUF_INIT;
	int rc;

	if ((rc = cc_name_check(set, "trust set")) < 0)
		return rc;
	cc_buf_printf(&text, "%s\n", set);
	rc = cc_txn_write(txn, "trust/default", text.ptr, text.size, 0644);
	cc_buf_dispose(&text);
	return rc;
}

int cc_trust_delete(cc_txn *txn, const char *set)
{
	cc_repo *repo = cc_txn_repo(txn);
	cc_trust_info info;
	cc_strlist names = CC_STRLIST_INIT;
	cc_buf rel = CC_BUF_INIT;
	int rc;

	if ((rc = cc_trust_info_load(repo, set, &info)) < 0)
		goto done;
	if (info.is_default) {
		rc = cc_error_set(CC_EINVALID, "trust set '%s' is the default; make another the "
				  "default first ('certctl trust default NAME')", set);
		goto done;
	}
	if (!info.has_record && !info.user_cas.count) {
		rc = cc_error_set(CC_ENOTFOUND, "no trust set '%s'", set);
		goto done;
	}
	if ((rc = cc_definition_names(repo, &names)) < 0)
		goto done;
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		cc_definition *def = NULL;

		if (cc_definition_load(&def, repo, names.items[i]) < 0) {
			cc_error_clear();
			continue;
		}
		if (def->trust_set && !strcmp(def->trust_set, set))
			rc = cc_error_set(CC_EINVALID, "definition %s uses trust set '%s'",
					  names.items[i], set);
		cc_definition_free(def);
	}
	if (rc < 0)
		goto done;
	for (size_t i = 0; i < info.user_cas.count && rc == 0; i++) {
		cc_buf_clear(&rel);
		cc_buf_printf(&rel, "trust/%s/%s.pem", set, info.user_cas.items[i]);
		rc = cc_txn_remove(txn, rel.ptr);
	}
	if (rc == 0 && info.has_record) {
		cc_buf_clear(&rel);
		cc_buf_printf(&rel, "trust/%s/set.yaml", set);
		rc = cc_txn_remove(txn, rel.ptr);
	}
	if (rc == 0) {
		cc_buf_clear(&rel);
		cc_buf_printf(&rel, "trust/%s/anchors.yaml", set);
		if ((rc = cc_txn_remove(txn, rel.ptr)) == CC_ENOTFOUND) {
			cc_error_clear();
			rc = 0;
		}
	}
done:
	cc_trust_info_dispose(&info);
	cc_strlist_dispose(&names);
	cc_buf_dispose(&rel);
	return rc;
}
