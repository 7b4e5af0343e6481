/*
 * This module implements `certctl fsck`: it reads everything the repository
 * holds and reports what is broken — interrupted operations, invalid YAML,
 * missing files, keys that do not decrypt or match, loose file modes,
 * private keys in clear text (work tree and every git object) and damaged
 * or missing git objects.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "internal.h"

typedef struct {
	cc_repo *repo;
	const cc_fsck_options *opts;
	cc_fsck_cb cb;
	void *payload;
	cc_fsck_stats *stats;
	/* object ids already checked, an open-addressing set */
	git_oid *seen;
	size_t seen_count, seen_alloc;
} fsck_state;

static int report(fsck_state *st, cc_fsck_severity severity, const char *path, int repaired,
		  const char *fmt, ...) CC_PRINTF(5, 6);

static int report(fsck_state *st, cc_fsck_severity severity, const char *path, int repaired,
		  const char *fmt, ...)
{
	cc_fsck_problem problem;
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (repaired)
		st->stats->repaired++;
	else if (severity == CC_FSCK_ERROR)
		st->stats->errors++;
	else
		st->stats->warnings++;
	problem.severity = severity;
	problem.path = path;
	problem.message = message;
	problem.repaired = repaired;
	return st->cb ? st->cb(&problem, st->payload) : 0;
}

/* Returns 1 when `oid` was not seen before (and records it). */
static int seen_add(fsck_state *st, const git_oid *oid)
{
	size_t mask, i;

	if (st->seen_count * 2 >= st->seen_alloc) {
		size_t alloc = st->seen_alloc ? st->seen_alloc * 2 : 1024;
		git_oid *table = calloc(alloc, sizeof(*table));
		git_oid zero;

		if (!table)
			return -1;
		memset(&zero, 0, sizeof(zero));
		for (size_t j = 0; j < st->seen_alloc; j++) {
			if (git_oid_equal(&st->seen[j], &zero))
				continue;
			i = (size_t)(st->seen[j].id[0] | st->seen[j].id[1] << 8 |
				     (size_t)st->seen[j].id[2] << 16) & (alloc - 1);
			while (!git_oid_is_zero(&table[i]))
				i = (i + 1) & (alloc - 1);
			table[i] = st->seen[j];
		}
		free(st->seen);
		st->seen = table;
		st->seen_alloc = alloc;
	}
	mask = st->seen_alloc - 1;
	i = (size_t)(oid->id[0] | oid->id[1] << 8 | (size_t)oid->id[2] << 16) & mask;
	while (!git_oid_is_zero(&st->seen[i])) {
		if (git_oid_equal(&st->seen[i], oid))
			return 0;
		i = (i + 1) & mask;
	}
	st->seen[i] = *oid;
	st->seen_count++;
	return 1;
}

/*
 * Whether `data` holds a private key in clear text: an unencrypted PEM
 * private key block, or DER that parses as a private key.
 */
static const char *cleartext_key_kind(const unsigned char *data, size_t len)
{
	static const char *pem[] = {
		"-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
		"-----BEGIN EC PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----",
		"-----BEGIN OPENSSH PRIVATE KEY-----",
	};

	for (size_t i = 0; i < CC_ARRAY_SIZE(pem); i++) {
		size_t mlen = strlen(pem[i]);

		for (const unsigned char *p = data; p + mlen <= data + len;) {
			const unsigned char *hit = memchr(p, '-', (size_t)(data + len - p));

			if (!hit || hit + mlen > data + len)
				break;
			if (memcmp(hit, pem[i], mlen) == 0) {
				/* Traditional PEM with a Proc-Type header is encrypted. */
				size_t rest = (size_t)(data + len - hit);
				const unsigned char *enc = NULL;

				if (i == 1 || i == 2 || i == 3) {
					const char *marker = "Proc-Type: 4,ENCRYPTED";
					size_t window = rest < 200 ? rest : 200;

					for (size_t k = 0; k + strlen(marker) <= window; k++)
						if (!memcmp(hit + k, marker, strlen(marker))) {
							enc = hit + k;
							break;
						}
				}
				if (!enc)
					return "PEM private key";
			}
			p = hit + 1;
		}
	}
	/* DER: a SEQUENCE that OpenSSL accepts as a private key. */
	if (len >= 32 && len < 65536 && data[0] == 0x30) {
		const unsigned char *p = data;
		EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);

		ERR_clear_error();
		if (pkey) {
			EVP_PKEY_free(pkey);
			return "DER private key";
		}
	}
	return NULL;
}

static int scan_worktree_dir(fsck_state *st, const char *rel)
{
	cc_buf abs = CC_BUF_INIT, child = CC_BUF_INIT, data = CC_BUF_INIT;
	struct dirent *e;
	DIR *d = NULL;
	int rc = 0;

	if ((rc = rel[0] ? cc_repo_path(st->repo, rel, &abs)
			 : cc_buf_puts(&abs, cc_repo_workdir(st->repo))) < 0)
		return rc;
	if (!(d = opendir(abs.ptr))) {
		rc = report(st, CC_FSCK_ERROR, rel[0] ? rel : ".", 0, "cannot read directory: %s",
			    strerror(errno));
		goto done;
	}
	while ((e = readdir(d)) != NULL && rc == 0) {
		struct stat sb;
		const char *kind;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".git"))
			continue;
		cc_buf_clear(&child);
		cc_buf_clear(&data);
		if (rel[0])
			cc_buf_printf(&child, "%s/%s", rel, e->d_name);
		else
			cc_buf_puts(&child, e->d_name);
		cc_buf_clear(&abs);
		cc_fs_join(&abs, cc_repo_workdir(st->repo), child.ptr);
		if (lstat(abs.ptr, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			rc = scan_worktree_dir(st, child.ptr);
			continue;
		}
		if (!S_ISREG(sb.st_mode) || sb.st_size > 16 * 1024 * 1024)
			continue;
		if (cc_fs_read(&data, abs.ptr, 0) < 0) {
			rc = report(st, CC_FSCK_ERROR, child.ptr, 0, "%s", cc_error_last());
			continue;
		}
		kind = cleartext_key_kind((const unsigned char *)data.ptr, data.size);
		if (kind)
			rc = report(st, CC_FSCK_ERROR, child.ptr, 0,
				    "%s in clear text in the work tree", kind);
	}
done:
	if (d)
		closedir(d);
	cc_buf_dispose_secure(&data);
	cc_buf_dispose(&abs);
	cc_buf_dispose(&child);
	return rc;
}

/* Every object in the database: readable (hash verified) and no clear key. */
typedef struct {
	fsck_state *st;
	git_odb *odb;
	int rc;
} odb_walk;

static int check_object(const git_oid *oid, void *payload)
{
	odb_walk *walk = payload;
	git_odb_object *obj = NULL;
	char id[GIT_OID_HEXSZ + 1];

	git_oid_tostr(id, sizeof(id), oid);
	walk->st->stats->objects++;
	if (git_odb_read(&obj, walk->odb, oid) < 0) {
		walk->rc = report(walk->st, CC_FSCK_ERROR, id, 0, "git object unreadable: %s",
				  git_error_last() ? git_error_last()->message : "?");
		return walk->rc;
	}
	if (git_odb_object_type(obj) == GIT_OBJECT_BLOB) {
		const char *kind = cleartext_key_kind(git_odb_object_data(obj),
						      git_odb_object_size(obj));

		if (kind)
			walk->rc = report(walk->st, CC_FSCK_ERROR, id, 0,
					  "%s in clear text in git object %s", kind, id);
	}
	git_odb_object_free(obj);
	return walk->rc;
}

/* Every tree and blob reachable from `tree` exists. */
static int check_tree(fsck_state *st, git_odb *odb, const git_oid *tree_id, const char *path)
{
	git_tree *tree = NULL;
	char id[GIT_OID_HEXSZ + 1];
	int rc = 0, fresh = seen_add(st, tree_id);

	if (fresh <= 0)
		return fresh;
	git_oid_tostr(id, sizeof(id), tree_id);
	if (git_tree_lookup(&tree, cc_repo_git(st->repo), tree_id) < 0)
		return report(st, CC_FSCK_ERROR, path[0] ? path : "/", 0, "missing tree %s", id);
	for (size_t i = 0; i < git_tree_entrycount(tree) && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		char sub[1024];

		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "/" : "", git_tree_entry_name(e));
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			rc = check_tree(st, odb, git_tree_entry_id(e), sub);
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			if (seen_add(st, git_tree_entry_id(e)) &&
			    !git_odb_exists(odb, git_tree_entry_id(e))) {
				git_oid_tostr(id, sizeof(id), git_tree_entry_id(e));
				rc = report(st, CC_FSCK_ERROR, sub, 0, "missing blob %s", id);
			}
		}
	}
	git_tree_free(tree);
	return rc;
}

static int check_git(fsck_state *st)
{
	git_odb *odb = NULL;
	git_revwalk *walk = NULL;
	odb_walk ow;
	git_oid oid;
	int rc = 0, err;

	if (git_repository_odb(&odb, cc_repo_git(st->repo)) < 0)
		return report(st, CC_FSCK_ERROR, ".git", 0, "cannot open the object database");
	ow.st = st;
	ow.odb = odb;
	ow.rc = 0;
	err = git_odb_foreach(odb, check_object, &ow);
	if (err < 0 && ow.rc == 0)
		rc = report(st, CC_FSCK_ERROR, ".git", 0, "cannot list git objects: %s",
			    git_error_last() ? git_error_last()->message : "?");
	if (rc || ow.rc)
		goto done;
	if (git_revwalk_new(&walk, cc_repo_git(st->repo)) < 0)
		goto done;
	err = git_revwalk_push_head(walk);
	if (err == GIT_EUNBORNBRANCH || err == GIT_ENOTFOUND) {
		rc = report(st, CC_FSCK_ERROR, "HEAD", 0, "the repository has no commit");
		goto done;
	}
	if (err < 0) {
		rc = report(st, CC_FSCK_ERROR, "HEAD", 0, "cannot walk the history: %s",
			    git_error_last() ? git_error_last()->message : "?");
		goto done;
	}
	while (rc == 0 && (err = git_revwalk_next(&oid, walk)) == 0) {
		git_commit *commit = NULL;

		if (git_commit_lookup(&commit, cc_repo_git(st->repo), &oid) < 0) {
			rc = report(st, CC_FSCK_ERROR, git_oid_tostr_s(&oid), 0, "missing commit");
			break;
		}
		rc = check_tree(st, odb, git_commit_tree_id(commit), "");
		git_commit_free(commit);
	}
	if (rc == 0 && err < 0 && err != GIT_ITEROVER)
		rc = report(st, CC_FSCK_ERROR, "HEAD", 0, "history broken: %s",
			    git_error_last() ? git_error_last()->message : "?");
done:
	git_revwalk_free(walk);
	git_odb_free(odb);
	return rc ? rc : ow.rc;
}

static int check_definitions(fsck_state *st)
{
	cc_strlist files = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	int rc;

	if ((rc = cc_repo_path(st->repo, "definitions", &dir)) < 0 ||
	    (rc = cc_fs_list(&files, dir.ptr, NULL)) < 0)
		goto done;
	for (size_t i = 0; i < files.count && rc == 0; i++) {
		char *name = files.items[i], path[512];
		size_t len = strlen(name);
		cc_definition *def = NULL;

		snprintf(path, sizeof(path), "definitions/%s", name);
		if (strstr(name, ".tmp-")) {
			rc = report(st, CC_FSCK_WARNING, path, 0,
				    "temporary file of an interrupted write");
			continue;
		}
		if (len <= 5 || strcmp(name + len - 5, ".yaml") != 0) {
			rc = report(st, CC_FSCK_WARNING, path, 0, "not a definition (no .yaml suffix)");
			continue;
		}
		name[len - 5] = '\0';
		if (cc_name_check(name, "definition") < 0) {
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
			continue;
		}
		st->stats->definitions++;
		if (cc_definition_load(&def, st->repo, name) < 0) {
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
		} else if (cc_definition_check_refs(def, st->repo) < 0) {
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
		}
		cc_definition_free(def);
	}
done:
	cc_strlist_dispose(&files);
	cc_buf_dispose(&dir);
	return rc;
}

static int check_keys(fsck_state *st)
{
	cc_strlist files = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, abs = CC_BUF_INIT;
	struct stat sb;
	int rc, unlocked = 0;

	if ((rc = cc_repo_path(st->repo, "keys", &dir)) < 0 ||
	    (rc = cc_fs_list_fanout(&files, dir.ptr, NULL)) < 0)
		goto done;
	if (files.count && stat(dir.ptr, &sb) == 0 && (sb.st_mode & 077)) {
		int fixed = st->opts->repair && chmod(dir.ptr, 0700) == 0;

		rc = report(st, CC_FSCK_WARNING, "keys", fixed, "directory mode %03o, expected 700",
			    (unsigned)(sb.st_mode & 0777));
	}
	for (size_t i = 0; i < files.count && rc == 0; i++) {
		char *entry = files.items[i], path[512], id[64];
		const char *name = strrchr(entry, '/') ? strrchr(entry, '/') + 1 : entry;
		size_t len = strlen(name);
		cc_key_info info;
		cc_key *key = NULL;

		snprintf(path, sizeof(path), "keys/%s", entry);
		/* keys/ab/ holds the ids that start with "ab" */
		if (name != entry && strncmp(entry, name, 2) != 0) {
			rc = report(st, CC_FSCK_WARNING, path, 0, "unexpected file (not in keys/%.2s/)",
				    name);
			continue;
		}
		if (name != entry && (i == 0 || strncmp(files.items[i - 1], entry, 3) != 0)) {
			cc_buf_clear(&abs);
			cc_buf_printf(&abs, "%s/%.2s", dir.ptr, entry);
			if (stat(abs.ptr, &sb) == 0 && (sb.st_mode & 077)) {
				int fixed = st->opts->repair && chmod(abs.ptr, 0700) == 0;
				char sub[16];

				snprintf(sub, sizeof(sub), "keys/%.2s", entry);
				rc = report(st, CC_FSCK_WARNING, sub, fixed,
					    "directory mode %03o, expected 700",
					    (unsigned)(sb.st_mode & 0777));
			}
		}
		if (len > 4 && !strcmp(name + len - 4, ".pem")) {
			snprintf(id, sizeof(id), "%.*s", (int)(len - 4), name);
			cc_buf_clear(&abs);
			cc_fs_join(&abs, dir.ptr, entry);
			if (stat(abs.ptr, &sb) == 0 && (sb.st_mode & 077)) {
				int fixed = st->opts->repair && chmod(abs.ptr, 0600) == 0;

				rc = report(st, CC_FSCK_WARNING, path, fixed,
					    "key file mode %03o, expected 600",
					    (unsigned)(sb.st_mode & 0777));
			}
			cc_buf_clear(&abs);
			cc_buf_printf(&abs, "%s/%.*s.yaml", dir.ptr, (int)(strlen(entry) - 4), entry);
			if (rc == 0 && !cc_fs_exists(abs.ptr))
				rc = report(st, CC_FSCK_ERROR, path, 0, "key without metadata (%s.yaml)",
					    id);
			continue;
		}
		if (len <= 5 || strcmp(name + len - 5, ".yaml") != 0) {
			rc = report(st, CC_FSCK_WARNING, path, 0, "unexpected file");
			continue;
		}
		snprintf(id, sizeof(id), "%.*s", (int)(len - 5), name);
		st->stats->keys++;
		if (cc_key_info_load(&info, st->repo, id) < 0) {
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
			continue;
		}
		cc_buf_clear(&abs);
		cc_buf_printf(&abs, "%s/%.*s.pem", dir.ptr, (int)(strlen(entry) - 5), entry);
		if (!cc_fs_exists(abs.ptr)) {
			rc = report(st, CC_FSCK_ERROR, path, 0, "key %s: the key file %s.pem is missing",
				    id, id);
		} else if (!st->opts->skip_keys) {
			if (!unlocked && cc_repo_unlock(st->repo) < 0) {
				rc = report(st, CC_FSCK_ERROR, "keys", 0,
					    "cannot check keys: %s (use --no-keys)", cc_error_last());
				cc_key_info_dispose(&info);
				break;
			}
			unlocked = 1;
			if (cc_key_load(&key, st->repo, id) < 0)
				rc = report(st, CC_FSCK_ERROR, path, 0, "key %s: %s", id, cc_error_last());
			else if (strcmp(cc_key_fingerprint(key), info.fingerprint) != 0)
				rc = report(st, CC_FSCK_ERROR, path, 0,
					    "key %s: fingerprint %s does not match the metadata %s", id,
					    cc_key_fingerprint(key), info.fingerprint);
			else {
				cc_key_spec actual;
				char have[32], said[32];

				cc_key_get_spec(key, &actual);
				if (actual.type != info.spec.type || actual.bits != info.spec.bits) {
					cc_key_spec_format(&actual, have, sizeof(have));
					cc_key_spec_format(&info.spec, said, sizeof(said));
					rc = report(st, CC_FSCK_ERROR, path, 0,
						    "key %s is %s, but its metadata says %s", id, have,
						    said);
				}
			}
			cc_key_free(key);
		}
		cc_key_info_dispose(&info);
	}
done:
	cc_strlist_dispose(&files);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&abs);
	return rc;
}

static int check_journal(fsck_state *st)
{
	cc_buf path = CC_BUF_INIT;
	cc_txn *txn = NULL;
	int rc = 0;

	if (cc_fs_join(&path, cc_repo_statedir(st->repo), "journal") < 0)
		return CC_ERROR;
	if (cc_fs_exists(path.ptr)) {
		if (st->opts->repair) {
			/* Beginning a transaction rolls the interrupted one back. */
			if (cc_txn_begin(&txn, st->repo, "fsck") < 0)
				rc = report(st, CC_FSCK_ERROR, ".git/certctl/journal", 0,
					    "cannot roll back the interrupted operation: %s",
					    cc_error_last());
			else
				rc = report(st, CC_FSCK_ERROR, ".git/certctl/journal", 1,
					    "an interrupted operation was rolled back");
			cc_txn_abort(txn);
		} else {
			rc = report(st, CC_FSCK_ERROR, ".git/certctl/journal", 0,
				    "an operation was interrupted; the next command (or "
				    "'fsck --repair') rolls it back");
		}
	}
	cc_buf_dispose(&path);
	return rc;
}

/* The key a certificate names is stored and is the certificate's key. */
static int check_cert_key(fsck_state *st, const char *path, const char *key_id,
			  const cc_cert *cert)
{
	cc_key_info info;
	int rc = 0;

	if (cc_key_info_load(&info, st->repo, key_id) < 0)
		return report(st, CC_FSCK_ERROR, path, 0, "its key %s is not stored", key_id);
	if (strcmp(info.fingerprint, cc_cert_key_fingerprint(cert)) != 0)
		rc = report(st, CC_FSCK_ERROR, path, 0,
			    "key %s (SHA-256 %s) is not the certificate's key (SHA-256 %s)", key_id,
			    info.fingerprint, cc_cert_key_fingerprint(cert));
	cc_key_info_dispose(&info);
	return rc;
}

/* certs/<def>/<id>/ and certs/<def>/current. */
static int check_certs(fsck_state *st)
{
	cc_strlist defs = CC_STRLIST_INIT, ids = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT, sub = CC_BUF_INIT, rel = CC_BUF_INIT, text = CC_BUF_INIT;
	int rc;

	if ((rc = cc_repo_path(st->repo, "certs", &dir)) < 0 || (rc = cc_fs_list(&defs, dir.ptr, NULL)) < 0)
		goto done;
	for (size_t d = 0; d < defs.count && rc == 0; d++) {
		const char *def = defs.items[d];
		char *current = NULL;

		cc_strlist_dispose(&ids);
		cc_buf_clear(&sub);
		cc_buf_printf(&sub, "%s/%s", dir.ptr, def);
		if (cc_fs_list(&ids, sub.ptr, NULL) < 0)
			continue;
		for (size_t i = 0; i < ids.count && rc == 0; i++) {
			const char *id = ids.items[i];
			cc_cert *cert = NULL;
			cc_node *meta = NULL;
			const char *key_id;

			if (!strcmp(id, "current"))
				continue;
			st->stats->certificates++;
			cc_buf_clear(&rel);
			cc_buf_printf(&rel, "certs/%s/%s/cert.pem", def, id);
			cc_buf_clear(&text);
			if (cc_repo_read(st->repo, rel.ptr, &text) < 0 ||
			    cc_cert_parse(&cert, text.ptr, text.size, rel.ptr) < 0) {
				rc = report(st, CC_FSCK_ERROR, rel.ptr, 0, "%s", cc_error_last());
				continue;
			}
			if (strcmp(cc_cert_id(cert), id) != 0)
				rc = report(st, CC_FSCK_ERROR, rel.ptr, 0,
					    "holds certificate %s, not %s", cc_cert_id(cert), id);
			cc_buf_clear(&rel);
			cc_buf_printf(&rel, "certs/%s/%s/cert.yaml", def, id);
			cc_buf_clear(&sub);
			cc_repo_path(st->repo, rel.ptr, &sub);
			if (rc == 0 && cc_node_load(&meta, sub.ptr, rel.ptr) < 0) {
				rc = report(st, CC_FSCK_ERROR, rel.ptr, 0, "%s", cc_error_last());
			} else if (rc == 0) {
				key_id = cc_node_scalar(cc_node_get(meta, "key_id"));
				if (key_id && *key_id)
					rc = check_cert_key(st, rel.ptr, key_id, cert);
			}
			cc_node_free(meta);
			cc_cert_free(cert);
		}
		if (rc == 0 && cc_cert_current_id(&current, st->repo, def) == 0) {
			cc_buf_clear(&rel);
			cc_buf_printf(&rel, "certs/%s/%s/cert.pem", def, current);
			cc_buf_clear(&sub);
			cc_repo_path(st->repo, rel.ptr, &sub);
			if (!cc_fs_exists(sub.ptr))
				rc = report(st, CC_FSCK_ERROR, "certs", 0,
					    "certs/%s/current names %s, which is not stored", def, current);
		}
		cc_error_clear();
		free(current);
	}
done:
	cc_strlist_dispose(&defs);
	cc_strlist_dispose(&ids);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&sub);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

/* Every CA loads, and its certificate is its key's. */
static int check_cas(fsck_state *st)
{
	cc_strlist names = CC_STRLIST_INIT;
	int rc = 0;

	if (cc_ca_names(st->repo, &names) < 0)
		return report(st, CC_FSCK_ERROR, "ca", 0, "%s", cc_error_last());
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		cc_ca *ca = NULL;
		char path[300];

		snprintf(path, sizeof(path), "ca/%s", names.items[i]);
		st->stats->cas++;
		if (cc_ca_load(&ca, st->repo, names.items[i]) < 0)
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
		else if (cc_ca_cert(ca))
			rc = check_cert_key(st, path, cc_ca_key_id(ca), cc_ca_cert(ca));
		cc_ca_free(ca);
	}
	cc_strlist_dispose(&names);
	return rc;
}

/* Whether keys/<id>.yaml exists (metadata: no secret needed). */
static int key_known(fsck_state *st, const char *id)
{
	cc_key_info info;
	int ok;

	memset(&info, 0, sizeof(info));
	ok = cc_key_info_load(&info, st->repo, id) == 0;
	if (!ok)
		cc_error_clear();
	cc_key_info_dispose(&info);
	return ok;
}

/* One request: it parses, its key and CSR exist and match, and what it
 * says it received is stored. */
static int check_request(fsck_state *st, const char *def, const char *id, size_t *open)
{
	cc_request *req = NULL;
	cc_key_info info;
	cc_buf csr = CC_BUF_INIT;
	char path[600], fp[65];
	int rc = 0;

	memset(&info, 0, sizeof(info));
	snprintf(path, sizeof(path), "requests/%s/%s.yaml", def, id);
	st->stats->requests++;
	if (cc_request_load(&req, st->repo, def, id) < 0)
		return report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
	if (strcmp(req->id, id) || strcmp(req->definition, def))
		rc = report(st, CC_FSCK_ERROR, path, 0, "names request %s of '%s', not its own path",
			    req->id, req->definition);
	if (cc_request_is_open(req))
		(*open)++;
	if (rc == 0 && req->key_id && cc_key_info_load(&info, st->repo, req->key_id) < 0)
		rc = report(st, CC_FSCK_ERROR, path, 0, "its key %s is not in keys/", req->key_id);
	if (rc == 0 && req->state >= CC_REQ_CSR_GENERATED && req->state != CC_REQ_CANCELLED) {
		if (cc_request_csr(&csr, st->repo, req) < 0 || cc_csr_key_fingerprint(&csr, fp) < 0)
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
		else if (info.fingerprint && strcmp(fp, info.fingerprint))
			rc = report(st, CC_FSCK_ERROR, path, 0, "its CSR is not for its key %s",
				    req->key_id);
	}
	if (rc == 0 && req->state == CC_REQ_COMPLETED && req->cert_id) {
		cc_strlist ids = CC_STRLIST_INIT;

		if (cc_cert_list_ids(st->repo, def, &ids) == 0 &&
		    !cc_strlist_contains(&ids, req->cert_id))
			rc = report(st, CC_FSCK_ERROR, path, 0, "its certificate %s is not stored in "
				    "certs/%s/", req->cert_id, def);
		cc_strlist_dispose(&ids);
	}
	cc_error_clear();
	cc_buf_dispose(&csr);
	cc_key_info_dispose(&info);
	cc_request_free(req);
	return rc;
}

static int check_requests(fsck_state *st)
{
	cc_strlist defs = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	int rc = 0;

	if (cc_repo_path(st->repo, "requests", &dir) < 0 || !cc_fs_is_dir(dir.ptr))
		goto done;
	if (cc_fs_list(&defs, dir.ptr, NULL) < 0) {
		rc = report(st, CC_FSCK_ERROR, "requests", 0, "%s", cc_error_last());
		goto done;
	}
	for (size_t i = 0; i < defs.count && rc == 0; i++) {
		cc_strlist files = CC_STRLIST_INIT;
		cc_buf sub = CC_BUF_INIT;
		size_t open = 0;

		cc_buf_printf(&sub, "%s/%s", dir.ptr, defs.items[i]);
		if (cc_fs_list(&files, sub.ptr, ".yaml") == 0)
			for (size_t k = 0; k < files.count && rc == 0; k++) {
				char id[64];

				snprintf(id, sizeof(id), "%.*s", (int)(strlen(files.items[k]) - 5),
					 files.items[k]);
				rc = check_request(st, defs.items[i], id, &open);
			}
		if (rc == 0 && open > 1) {
			char path[300];

			snprintf(path, sizeof(path), "requests/%s", defs.items[i]);
			rc = report(st, CC_FSCK_ERROR, path, 0,
				    "%zu open acquisitions; at most one may be open", open);
		}
		cc_strlist_dispose(&files);
		cc_buf_dispose(&sub);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&defs);
	cc_buf_dispose(&dir);
	return rc;
}

/* CAs of trust sets: each parses, is a CA, and is stored under its id. */
static int check_trust(fsck_state *st)
{
	cc_strlist sets = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	int rc = 0;

	if (cc_repo_path(st->repo, "trust", &dir) < 0 || !cc_fs_is_dir(dir.ptr) ||
	    cc_fs_list(&sets, dir.ptr, NULL) < 0)
		goto done;
	for (size_t i = 0; i < sets.count && rc == 0; i++) {
		cc_strlist ids = CC_STRLIST_INIT;

		if (cc_trust_list(st->repo, sets.items[i], &ids) < 0)
			rc = report(st, CC_FSCK_ERROR, "trust", 0, "%s", cc_error_last());
		for (size_t k = 0; k < ids.count && rc == 0; k++) {
			char path[600];
			cc_cert **certs = NULL;
			size_t n = 0;

			snprintf(path, sizeof(path), "trust/%s/%s.pem", sets.items[i], ids.items[k]);
			st->stats->trusted++;
			if (cc_repo_read_certs(&certs, &n, st->repo, path) < 0)
				rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
			else if (n != 1 || !cc_cert_is_ca(certs[0]))
				rc = report(st, CC_FSCK_ERROR, path, 0, "not one CA certificate");
			else if (strcmp(cc_cert_id(certs[0]), ids.items[k]))
				rc = report(st, CC_FSCK_WARNING, path, 0, "holds certificate %s",
					    cc_cert_id(certs[0]));
			cc_cert_list_free(certs, n);
		}
		/* Every anchor is a CA of the set. */
		if (rc == 0) {
			cc_strlist anchors = CC_STRLIST_INIT;
			char path[600];

			snprintf(path, sizeof(path), "trust/%s/anchors.yaml", sets.items[i]);
			if (cc_trust_anchors(st->repo, sets.items[i], &anchors) < 0)
				rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
			for (size_t k = 0; k < anchors.count && rc == 0; k++)
				if (!cc_strlist_contains(&ids, anchors.items[k]))
					rc = report(st, CC_FSCK_ERROR, path, 0, "anchor %s is not a CA "
						    "of the set (no trust/%s/%s.pem)", anchors.items[k],
						    sets.items[i], anchors.items[k]);
			cc_strlist_dispose(&anchors);
		}
		cc_strlist_dispose(&ids);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&sets);
	cc_buf_dispose(&dir);
	return rc;
}

/* ACME accounts name a stored key. */
static int check_accounts(fsck_state *st)
{
	cc_strlist providers = CC_STRLIST_INIT;
	cc_buf dir = CC_BUF_INIT;
	int rc = 0;

	if (cc_repo_path(st->repo, "acme", &dir) < 0 || !cc_fs_is_dir(dir.ptr) ||
	    cc_fs_list(&providers, dir.ptr, NULL) < 0)
		goto done;
	for (size_t i = 0; i < providers.count && rc == 0; i++) {
		char path[600];
		cc_buf text = CC_BUF_INIT;
		cc_node *root = NULL;
		const char *key;

		snprintf(path, sizeof(path), "acme/%s/account.yaml", providers.items[i]);
		if (cc_repo_read(st->repo, path, &text) < 0 ||
		    cc_node_parse(&root, text.ptr, text.size, path) < 0)
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
		else if (!(key = cc_node_scalar(cc_node_get(root, "key"))) ||
			 !cc_node_scalar(cc_node_get(root, "url")))
			rc = report(st, CC_FSCK_ERROR, path, 0, "an account needs url and key");
		else if (!key_known(st, key))
			rc = report(st, CC_FSCK_ERROR, path, 0, "its key %s is not in keys/", key);
		cc_node_free(root);
		cc_buf_dispose(&text);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&providers);
	cc_buf_dispose(&dir);
	return rc;
}

/* deployments/<def>/<target>.yaml: each parses, belongs to a target of an
 * existing definition, and names a stored certificate. */
static int check_deployments(fsck_state *st)
{
	cc_deployment **deps = NULL;
	size_t n = 0;
	cc_buf dir = CC_BUF_INIT;
	cc_strlist defs = CC_STRLIST_INIT;
	int rc = 0;

	if (cc_repo_path(st->repo, "deployments", &dir) < 0 || !cc_fs_is_dir(dir.ptr))
		goto done;
	if (cc_fs_list(&defs, dir.ptr, NULL) < 0)
		goto done;
	for (size_t i = 0; i < defs.count && rc == 0; i++) {
		char path[600];
		cc_definition *def = NULL;

		snprintf(path, sizeof(path), "deployments/%s", defs.items[i]);
		if (cc_deployment_list(&deps, &n, st->repo, defs.items[i]) < 0) {
			rc = report(st, CC_FSCK_ERROR, path, 0, "%s", cc_error_last());
			continue;
		}
		if (cc_definition_load(&def, st->repo, defs.items[i]) < 0) {
			rc = report(st, CC_FSCK_WARNING, path, 0, "deployment records of a definition "
				    "that does not exist (removed?)");
			cc_error_clear();
		}
		for (size_t j = 0; j < n && rc == 0; j++) {
			const cc_deployment *d = deps[j];
			const char *peer = NULL;
			size_t t = 0;
			cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;

			snprintf(path, sizeof(path), "deployments/%s/%s.yaml", defs.items[i],
				 d->target);
			if (strcmp(d->definition, defs.items[i]))
				rc = report(st, CC_FSCK_ERROR, path, 0, "names definition %s",
					    d->definition);
			if (def) {
				for (t = 0; t < def->ntargets; t++)
					if (!strcmp(def->targets[t].name, d->target))
						break;
				if (t == def->ntargets)
					rc = report(st, CC_FSCK_WARNING, path, 0, "the definition has no "
						    "target '%s' any more", d->target);
				else
					peer = cc_node_scalar(cc_node_get(def->targets[t].settings,
									  "peer"));
			}
			if (d->cert) {
				if (peer)
					cc_buf_printf(&rel, "certs/%s@%s/%s/cert.pem", defs.items[i],
						      peer, d->cert);
				else
					cc_buf_printf(&rel, "certs/%s/%s/cert.pem", defs.items[i],
						      d->cert);
				if (cc_repo_path(st->repo, rel.ptr, &abs) == 0 && !cc_fs_exists(abs.ptr))
					rc = report(st, CC_FSCK_ERROR, path, 0, "names certificate %s, "
						    "which is not stored (%s)", d->cert, rel.ptr);
			}
			cc_buf_dispose(&rel);
			cc_buf_dispose(&abs);
		}
		cc_deployment_list_free(deps, n);
		deps = NULL;
		n = 0;
		cc_definition_free(def);
	}
done:
	cc_error_clear();
	cc_strlist_dispose(&defs);
	cc_buf_dispose(&dir);
	return rc;
}

/* git lock files left behind block every commit; --repair removes them. */
static int check_git_locks(fsck_state *st)
{
	cc_buf index_lock = CC_BUF_INIT, ref_lock = CC_BUF_INIT;
	const char *paths[2];
	int rc = 0;

	if (cc_repo_git_lock_paths(st->repo, &index_lock, &ref_lock) < 0)
		goto done;
	paths[0] = index_lock.ptr;
	paths[1] = ref_lock.ptr;
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		const char *rel;
		int fixed;

		if (!paths[i] || !cc_fs_exists(paths[i]))
			continue;
		rel = strstr(paths[i], "/.git/") ? strstr(paths[i], "/.git/") + 1 : paths[i];
		fixed = st->opts->repair && unlink(paths[i]) == 0;
		rc = report(st, CC_FSCK_ERROR, rel, fixed,
			    fixed ? "git lock file removed"
				  : "git lock file: a git command is running, or one crashed; "
				    "every commit waits for it ('fsck --repair' removes it)");
	}
done:
	cc_error_clear();
	cc_buf_dispose(&index_lock);
	cc_buf_dispose(&ref_lock);
	return rc;
}

int cc_fsck(cc_repo *repo, const cc_fsck_options *opts, cc_fsck_cb cb, void *payload,
	    cc_fsck_stats *stats)
{
	cc_fsck_options defaults = CC_FSCK_OPTIONS_INIT;
	fsck_state st;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&st, 0, sizeof(st));
	st.repo = repo;
	st.opts = opts ? opts : &defaults;
	st.cb = cb;
	st.payload = payload;
	st.stats = stats;
	rc = check_git_locks(&st);
	if (rc == 0)
		rc = check_journal(&st);
	if (rc == 0)
		rc = check_definitions(&st);
	if (rc == 0)
		rc = check_keys(&st);
	if (rc == 0)
		rc = check_certs(&st);
	if (rc == 0)
		rc = check_cas(&st);
	if (rc == 0)
		rc = check_requests(&st);
	if (rc == 0)
		rc = check_trust(&st);
	if (rc == 0)
		rc = check_accounts(&st);
	if (rc == 0)
		rc = check_deployments(&st);
	if (rc == 0)
		rc = scan_worktree_dir(&st, "");
	if (rc == 0)
		rc = check_git(&st);
	free(st.seen);
	return rc > 0 ? 0 : rc;
}
