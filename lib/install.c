/*
 * Installing a certificate where a server reads it: the files built for a
 * target, written beside the old ones and renamed into place (the old file
 * kept as PATH.certctl-prev), certbot's archive/ and live/ layout, and
 * SFTP uploads through libcurl.  Each way records what it changed so that
 * a failed reload puts the old files back.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include "deploy_internal.h"

#define NEW_SUFFIX ".certctl-new"
#define PREV_SUFFIX ".certctl-prev"

/* Build piece `k` (PKCS#12 and JKS take the target's password). */
static int build_piece(deploy_material *m, const deploy_target *t, piece_kind k, cc_secret **pass)
{
	const char *alias = t && t->alias ? t->alias : m->definition;
	cc_buf *b = &m->piece[k];
	int rc = 0;

	if (m->have[k])
		return 0;
	if (k >= PIECE_KEY && !m->key)
		return cc_error_set(CC_ENOTFOUND, "target '%s' needs the private key, and "
				    "certificate %s has none stored", t ? t->name : "",
				    m->cert_id);
	switch (k) {
	case PIECE_CERT:
		rc = cc_cert_pem(m->cert, b);
		break;
	case PIECE_CHAIN:
		/* An empty chain is an empty file: the server needs nothing more. */
		rc = cc_buf_puts(b, "");
		for (size_t j = 0; j < m->nchain && rc == 0; j++)
			rc = cc_cert_pem(m->chain[j], b);
		break;
	case PIECE_FULLCHAIN:
	case PIECE_COMBINED:
		rc = cc_cert_pem(m->cert, b);
		for (size_t j = 0; j < m->nchain && rc == 0; j++)
			rc = cc_cert_pem(m->chain[j], b);
		if (rc == 0 && k == PIECE_COMBINED)
			rc = cc_key_export_pem(m->key, NULL, b);
		break;
	case PIECE_KEY:
		rc = cc_key_export_pem(m->key, NULL, b);
		break;
	case PIECE_PKCS12:
	case PIECE_JKS:
		if (!*pass) {
			const char *env = t->passphrase_env ? getenv(t->passphrase_env) : NULL;

			if (t->passphrase_file)
				rc = cc_secret_from_file(pass, t->passphrase_file);
			else if (env)
				rc = cc_secret_new(pass, env, strlen(env));
			else
				rc = cc_error_set(CC_ENOTFOUND, "target '%s': the environment "
						  "variable %s (the keystore password) is not set",
						  t->name, t->passphrase_env);
			if (rc < 0)
				return rc;
		}
		rc = k == PIECE_PKCS12 ?
		     cc_pkcs12_build(b, m->key, m->cert, m->chain, m->nchain, *pass, alias) :
		     cc_jks_write(b, alias, m->key, m->cert, m->chain, m->nchain, *pass);
		break;
	default:
		break;
	}
	m->have[k] = rc == 0;
	return rc;
}

int material_build(deploy_material *m, const deploy_target *t)
{
	cc_secret *pass = NULL;
	int rc = 0;

	for (size_t i = 0; i < t->nfiles && rc == 0; i++)
		rc = build_piece(m, t, t->files[i].kind, &pass);
	cc_secret_free(pass);
	return rc;
}

int material_build_pem(deploy_material *m)
{
	int rc = 0;

	for (int k = PIECE_CERT; k <= PIECE_FULLCHAIN && rc == 0; k++)
		rc = build_piece(m, NULL, (piece_kind)k, NULL);
	return rc;
}

void material_dispose(deploy_material *m)
{
	for (int k = 0; k < PIECE_COUNT; k++)
		cc_buf_dispose_secure(&m->piece[k]);
	memset(m->have, 0, sizeof(m->have));
}

void install_log_dispose(install_log *log)
{
	for (size_t i = 0; i < log->count; i++) {
		free(log->items[i].path);
		free(log->items[i].prev);
		free(log->items[i].old_link);
	}
	free(log->items);
	memset(log, 0, sizeof(*log));
}

static placed_file *log_add(install_log *log, const char *path)
{
	placed_file *items = realloc(log->items, (log->count + 1) * sizeof(*items));

	if (!items)
		return NULL;
	log->items = items;
	memset(&items[log->count], 0, sizeof(*items));
	if (!(items[log->count].path = strdup(path)))
		return NULL;
	return &items[log->count++];
}

static int name_to_id(const char *name, int group, long *out)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end && v >= 0) {
		*out = v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(name);

		if (!g)
			return cc_error_set(CC_ENOTFOUND, "no group '%s' on this machine", name);
		*out = (long)g->gr_gid;
	} else {
		struct passwd *p = getpwnam(name);

		if (!p)
			return cc_error_set(CC_ENOTFOUND, "no user '%s' on this machine", name);
		*out = (long)p->pw_uid;
	}
	return 0;
}

/* The directory part of `path` (which is absolute). */
static int parent_of(const char *path, cc_buf *out)
{
	const char *slash = strrchr(path, '/');

	cc_buf_clear(out);
	if (!slash || slash == path)
		return cc_buf_puts(out, "/");
	return cc_buf_put(out, path, (size_t)(slash - path));
}

int install_preflight(deploy_target *t)
{
	cc_buf dir = CC_BUF_INIT;
	long id = 0;
	int rc = 0;

	if (t->owner) {
		if ((rc = name_to_id(t->owner, 0, &id)) < 0)
			return cc_error_set(rc, "target '%s': %s", t->name, cc_error_last());
		t->uid = (uid_t)id;
	}
	if (t->group) {
		if ((rc = name_to_id(t->group, 1, &id)) < 0)
			return cc_error_set(rc, "target '%s': %s", t->name, cc_error_last());
		t->gid = (gid_t)id;
	}
	for (size_t i = 0; i < t->nfiles && rc == 0; i++) {
		const char *path = t->files[i].path;
		struct stat st;

		if (t->type == TT_CERTBOT_LIVE)
			break;
		if ((rc = parent_of(path, &dir)) < 0)
			break;
		/* A missing directory is made (0755); what cannot hold files is
		 * refused now, before anything is written. */
		if (!cc_fs_is_dir(dir.ptr) && cc_fs_mkdir_p(dir.ptr, 0755) < 0) {
			rc = cc_error_set(CC_EIO, "target '%s': cannot create directory %s: %s",
					  t->name, dir.ptr, cc_error_last());
			break;
		}
		if (access(dir.ptr, W_OK) < 0) {
			rc = cc_error_errno(CC_EIO, "target '%s': cannot write in %s", t->name,
					    dir.ptr);
			break;
		}
		if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			rc = cc_error_set(CC_EIO, "target '%s': %s exists and is not a file",
					  t->name, path);
	}
	if (rc == 0 && t->type == TT_CERTBOT_LIVE) {
		cc_buf_clear(&dir);
		if (!cc_fs_is_dir(t->dir) && cc_fs_mkdir_p(t->dir, 0755) < 0)
			rc = cc_error_set(CC_EIO, "target '%s': cannot create directory %s: %s",
					  t->name, t->dir, cc_error_last());
		else if (access(t->dir, W_OK) < 0)
			rc = cc_error_errno(CC_EIO, "target '%s': cannot write in %s", t->name,
					    t->dir);
	}
	cc_buf_dispose(&dir);
	return rc;
}

/* Write `data` to a new file `path` (replacing a stale one) with the mode
 * and owner asked for, and sync it. */
static int write_new(const char *path, const void *data, size_t len, unsigned mode, uid_t uid,
		     gid_t gid)
{
	int fd;
	ssize_t n;
	size_t off = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		return cc_error_errno(CC_EIO, "cannot replace %s", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cc_error_errno(CC_EIO, "cannot create %s", path);
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) {
		close(fd);
		unlink(path);
		return cc_error_errno(CC_EIO, "cannot change the owner of %s", path);
	}
	if (fchmod(fd, mode) < 0) {
		close(fd);
		unlink(path);
		return cc_error_errno(CC_EIO, "cannot set the mode of %s", path);
	}
	while (off < len) {
		n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			unlink(path);
			return cc_error_errno(CC_EIO, "cannot write %s", path);
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		unlink(path);
		return cc_error_errno(CC_EIO, "cannot write %s", path);
	}
	return 0;
}

/*
 * Where the old version of `path` is kept: beside it as PATH.certctl-prev,
 * or, for servers that load every file of a directory (haproxy's `crt
 * DIR`), in the hidden subdirectory DIR/.certctl-prev/.
 */
static int prev_path(const deploy_target *t, const char *path, cc_buf *out)
{
	const char *slash = strrchr(path, '/');

	cc_buf_clear(out);
	if (t->type != TT_HAPROXY || !slash)
		return cc_buf_printf(out, "%s" PREV_SUFFIX, path);
	cc_buf_put(out, path, (size_t)(slash - path));
	cc_buf_puts(out, "/" PREV_SUFFIX);
	if (mkdir(out->ptr, 0700) < 0 && errno != EEXIST)
		return cc_error_errno(CC_EIO, "cannot create %s", out->ptr);
	return cc_buf_puts(out, slash);
}

/* Replace `path` by `path`.certctl-new, keeping the old one at `p->prev`
 * (a hard link, so `path` never goes missing). */
static int swap_in(const char *path, placed_file *p)
{
	cc_buf fresh = CC_BUF_INIT;
	struct stat st;
	int rc = 0;

	if (cc_buf_printf(&fresh, "%s" NEW_SUFFIX, path) < 0) {
		rc = CC_ERROR;
		goto done;
	}
	if (lstat(path, &st) == 0) {
		if (unlink(p->prev) < 0 && errno != ENOENT) {
			rc = cc_error_errno(CC_EIO, "cannot replace %s", p->prev);
			goto done;
		}
		if (link(path, p->prev) < 0) {
			rc = cc_error_errno(CC_EIO, "cannot keep %s as %s", path, p->prev);
			goto done;
		}
		p->had_old = 1;
	} else {
		p->created = 1;
	}
	if (rename(fresh.ptr, path) < 0) {
		rc = cc_error_errno(CC_EIO, "cannot put %s in place", path);
		if (p->had_old)
			unlink(p->prev);
		p->had_old = p->created = 0;
	}
done:
	cc_buf_dispose(&fresh);
	return rc;
}

int install_local(const deploy_target *t, const deploy_material *m, install_log *log)
{
	cc_buf fresh = CC_BUF_INIT, dir = CC_BUF_INIT;
	int rc = 0;
	size_t written = 0;

	/* Every new file first, then the renames: a failure while writing
	 * leaves the old files untouched. */
	for (; written < t->nfiles && rc == 0; written++) {
		const target_file *f = &t->files[written];

		cc_buf_clear(&fresh);
		if ((rc = cc_buf_printf(&fresh, "%s" NEW_SUFFIX, f->path)) < 0)
			break;
		rc = write_new(fresh.ptr, m->piece[f->kind].ptr ? m->piece[f->kind].ptr : "",
			       m->piece[f->kind].size, f->mode, t->uid, t->gid);
	}
	if (rc < 0) {
		for (size_t i = 0; i + 1 < written; i++) {
			cc_buf_clear(&fresh);
			cc_buf_printf(&fresh, "%s" NEW_SUFFIX, t->files[i].path);
			unlink(fresh.ptr);
		}
		goto done;
	}
	for (size_t i = 0; i < t->nfiles && rc == 0; i++) {
		placed_file *p = log_add(log, t->files[i].path);
		cc_buf prev = CC_BUF_INIT;

		if (!p) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			break;
		}
		if ((rc = prev_path(t, t->files[i].path, &prev)) == 0) {
			p->prev = cc_buf_detach(&prev);
			rc = swap_in(t->files[i].path, p);
		}
		cc_buf_dispose(&prev);
	}
	for (size_t i = 0; i < t->nfiles; i++) {
		if (parent_of(t->files[i].path, &dir) == 0)
			cc_fs_fsync_dir(dir.ptr);
		cc_error_clear();
	}
	if (rc < 0) {
		cc_buf why = CC_BUF_INIT;

		install_undo(log, &why);
		cc_buf_dispose(&why);
	}
done:
	cc_buf_dispose(&fresh);
	cc_buf_dispose(&dir);
	return rc;
}

/* Point the symbolic link `path` at `target`, atomically. */
static int relink(const char *path, const char *target)
{
	cc_buf tmp = CC_BUF_INIT;
	int rc = 0;

	if (cc_buf_printf(&tmp, "%s" NEW_SUFFIX, path) < 0)
		return CC_ERROR;
	unlink(tmp.ptr);
	if (symlink(target, tmp.ptr) < 0 || rename(tmp.ptr, path) < 0) {
		rc = cc_error_errno(CC_EIO, "cannot point %s at %s", path, target);
		unlink(tmp.ptr);
	}
	cc_buf_dispose(&tmp);
	return rc;
}

void install_undo(const install_log *log, cc_buf *why)
{
	for (size_t i = log->count; i-- > 0;) {
		const placed_file *p = &log->items[i];
		int bad = 0;

		if (p->old_link)
			bad = relink(p->path, p->old_link) < 0;
		else if (p->had_old && p->prev)
			bad = rename(p->prev, p->path) < 0;
		else if (p->created)
			bad = unlink(p->path) < 0 && errno != ENOENT;
		if (bad)
			cc_buf_printf(why, "%scannot restore %s", why->size ? "; " : "", p->path);
	}
	cc_error_clear();
}

/*
 * certbot's layout: archive/NAME/{cert,chain,fullchain,privkey}N.pem, a
 * new N for each certificate, and the live/NAME/ files: symbolic links to the
 * newest, so server configurations written for certbot keep working.
 */
int install_certbot(const deploy_target *t, const deploy_material *m, install_log *log)
{
	static const char *const stems[] = { "cert", "chain", "fullchain", "privkey" };
	static const piece_kind kinds[] = { PIECE_CERT, PIECE_CHAIN, PIECE_FULLCHAIN, PIECE_KEY };
	cc_buf archive = CC_BUF_INIT, live = CC_BUF_INIT, path = CC_BUF_INIT, target = CC_BUF_INIT;
	cc_strlist names = CC_STRLIST_INIT;
	unsigned long next = 1;
	size_t written = 0;
	int rc;

	if ((rc = cc_buf_printf(&archive, "%s/archive/%s", t->dir, t->cert_name)) < 0 ||
	    (rc = cc_buf_printf(&live, "%s/live/%s", t->dir, t->cert_name)) < 0)
		goto done;
	/* certbot keeps the archive private: it holds every key. */
	if ((rc = cc_fs_mkdir_p(archive.ptr, 0700)) < 0 || (rc = cc_fs_mkdir_p(live.ptr, 0755)) < 0)
		goto done;
	if ((rc = cc_fs_list(&names, archive.ptr, ".pem")) < 0)
		goto done;
	for (size_t i = 0; i < names.count; i++) {
		unsigned long n;
		char *end;

		if (strncmp(names.items[i], "cert", 4))
			continue;
		n = strtoul(names.items[i] + 4, &end, 10);
		if (!strcmp(end, ".pem") && n >= next)
			next = n + 1;
	}
	for (; written < 4 && rc == 0; written++) {
		cc_buf_clear(&path);
		cc_buf_printf(&path, "%s/%s%lu.pem", archive.ptr, stems[written], next);
		rc = write_new(path.ptr, m->piece[kinds[written]].ptr ? m->piece[kinds[written]].ptr :
			       "", m->piece[kinds[written]].size, kinds[written] == PIECE_KEY ?
			       t->files[3].mode : t->files[written].mode, t->uid, t->gid);
		if (rc == 0) {
			placed_file *p = log_add(log, path.ptr);

			if (!p)
				rc = cc_error_set(CC_ERROR, "out of memory");
			else
				p->created = 1;
		}
	}
	for (size_t i = 0; i < 4 && rc == 0; i++) {
		char old[PATH_MAX];
		ssize_t n;
		placed_file *p;

		cc_buf_clear(&path);
		cc_buf_clear(&target);
		cc_buf_printf(&path, "%s/%s.pem", live.ptr, stems[i]);
		cc_buf_printf(&target, "../../archive/%s/%s%lu.pem", t->cert_name, stems[i], next);
		n = readlink(path.ptr, old, sizeof(old) - 1);
		if (!(p = log_add(log, path.ptr))) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			break;
		}
		if (n > 0) {
			old[n] = '\0';
			p->old_link = strdup(old);
		} else if (access(path.ptr, F_OK) == 0) {
			rc = cc_error_set(CC_EIO, "%s is not a symbolic link: not certbot's layout",
					  path.ptr);
			break;
		} else {
			p->created = 1;
		}
		rc = relink(path.ptr, target.ptr);
	}
	if (rc == 0) {
		static const char readme[] =
			"This directory contains your keys and certificates, installed by certctl\n"
			"in certbot's layout.\n\n"
			"`privkey.pem`  : the private key for your certificate.\n"
			"`fullchain.pem`: the certificate file used in most server software.\n"
			"`chain.pem`    : used for OCSP stapling in Nginx >=1.3.7.\n"
			"`cert.pem`     : will break many server configurations, and should not be "
			"used\n                 without reading further documentation.\n";

		cc_buf_clear(&path);
		cc_buf_printf(&path, "%s/README", live.ptr);
		if (access(path.ptr, F_OK) < 0)
			cc_fs_write_atomic(path.ptr, readme, sizeof(readme) - 1, 0644);
		cc_fs_fsync_dir(live.ptr);
		cc_fs_fsync_dir(archive.ptr);
		cc_error_clear();
	} else {
		cc_buf why = CC_BUF_INIT;

		install_undo(log, &why);
		cc_buf_dispose(&why);
	}
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&archive);
	cc_buf_dispose(&live);
	cc_buf_dispose(&path);
	cc_buf_dispose(&target);
	return rc;
}

/* --- SFTP ------------------------------------------------------------- */

/* The host part of an sftp URL ("user@host:port" without user and port). */
static int sftp_parts(const deploy_target *t, cc_buf *user, cc_buf *host, cc_buf *port,
		      cc_buf *dir)
{
	const char *p = t->url + 7, *slash = strchr(p, '/'), *at, *colon;

	if (!slash)
		return cc_error_set(CC_EINVALID, "target '%s': url has no directory", t->name);
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		cc_buf_put(user, p, (size_t)(at - p));
		p = at + 1;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(slash - p));

		if (!close)
			return cc_error_set(CC_EINVALID, "target '%s': bad url", t->name);
		cc_buf_put(host, p + 1, (size_t)(close - p - 1));
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		cc_buf_put(host, p, (size_t)((colon ? colon : slash) - p));
	}
	if (colon)
		cc_buf_put(port, colon + 1, (size_t)(slash - colon - 1));
	cc_buf_puts(dir, slash);
	if (!host->size)
		return cc_error_set(CC_EINVALID, "target '%s': url has no host", t->name);
	return 0;
}

/* Remote path of file `i`: absolute as given, else under the URL's dir. */
static int remote_path(const deploy_target *t, const char *dir, size_t i, cc_buf *out)
{
	const char *path = t->files[i].path;

	cc_buf_clear(out);
	return path[0] == '/' ? cc_buf_puts(out, path) : cc_buf_printf(out, "%s%s", dir, path);
}

/* A URL for remote path `path` on the target's server. */
static int remote_url(const deploy_target *t, const char *path, cc_buf *out)
{
	const char *slash = strchr(t->url + 7, '/');

	cc_buf_clear(out);
	cc_buf_put(out, t->url, (size_t)(slash - t->url));
	return cc_buf_puts(out, path);
}

static CURL *sftp_handle(const deploy_target *t, char *errbuf)
{
	CURL *h = curl_easy_init();
	cc_buf pub = CC_BUF_INIT;

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "sftp");
	curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
	curl_easy_setopt(h, CURLOPT_SSH_PRIVATE_KEYFILE, t->identity);
	/* An empty public key file lets libssh2 derive it from the private key. */
	cc_buf_printf(&pub, "%s.pub", t->identity);
	curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, access(pub.ptr, R_OK) == 0 ? pub.ptr : "");
	cc_buf_dispose(&pub);
	/* Without a key callback libcurl accepts only a host key that matches. */
	curl_easy_setopt(h, CURLOPT_SSH_KNOWNHOSTS, t->known_hosts);
	curl_easy_setopt(h, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	return h;
}

static int sftp_error(const deploy_target *t, CURLcode code, const char *errbuf, const char *what)
{
	if (code == CURLE_PEER_FAILED_VERIFICATION)
		return cc_error_set(CC_ETLS, "the SSH host key of %s does not match known_hosts %s "
				    "(or is not in it)", t->url, t->known_hosts);
	return cc_error_set(CC_ENET, "%s %s: %s", what, t->url,
			    errbuf[0] ? errbuf : curl_easy_strerror(code));
}

int install_sftp(const deploy_target *t, const deploy_material *m, install_log *log)
{
	cc_buf user = CC_BUF_INIT, host = CC_BUF_INIT, port = CC_BUF_INIT, dir = CC_BUF_INIT;
	cc_buf path = CC_BUF_INIT, url = CC_BUF_INIT, cmd = CC_BUF_INIT;
	struct curl_slist *post = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = NULL;
	CURLcode code;
	int rc;

	if ((rc = sftp_parts(t, &user, &host, &port, &dir)) < 0)
		goto done;
	if (!(h = sftp_handle(t, errbuf))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	/* Upload every file as NAME.certctl-new; after the last one, in the
	 * same session, keep each old file as .certctl-prev and rename the new
	 * ones into place. */
	for (size_t i = 0; i < t->nfiles; i++) {
		cc_buf_clear(&cmd);
		remote_path(t, dir.ptr, i, &path);
		cc_buf_printf(&cmd, "*rm \"%s" PREV_SUFFIX "\"", path.ptr);
		post = curl_slist_append(post, cmd.ptr);
		cc_buf_clear(&cmd);
		cc_buf_printf(&cmd, "*rename \"%s\" \"%s" PREV_SUFFIX "\"", path.ptr, path.ptr);
		post = curl_slist_append(post, cmd.ptr);
		cc_buf_clear(&cmd);
		cc_buf_printf(&cmd, "rename \"%s" NEW_SUFFIX "\" \"%s\"", path.ptr, path.ptr);
		post = curl_slist_append(post, cmd.ptr);
		if (!post) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		/* Quoted paths: nothing may close the quotes. */
		if (strchr(path.ptr, '"')) {
			rc = cc_error_set(CC_EINVALID, "target '%s': remote path %s contains '\"'",
					  t->name, path.ptr);
			goto done;
		}
	}
	for (size_t i = 0; i < t->nfiles; i++) {
		cc_curl_upload src = { &m->piece[t->files[i].kind], 0 };

		remote_path(t, dir.ptr, i, &path);
		cc_buf_puts(&path, NEW_SUFFIX);
		remote_url(t, path.ptr, &url);
		curl_easy_setopt(h, CURLOPT_URL, url.ptr);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, cc_curl_upload_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &src);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src.data->size);
		curl_easy_setopt(h, CURLOPT_NEW_FILE_PERMS, (long)t->files[i].mode);
		curl_easy_setopt(h, CURLOPT_POSTQUOTE, i + 1 == t->nfiles ? post : NULL);
		errbuf[0] = '\0';
		if ((code = curl_easy_perform(h)) != CURLE_OK) {
			rc = sftp_error(t, code, errbuf, i + 1 == t->nfiles ? "upload and rename" :
					"upload");
			goto done;
		}
	}
	for (size_t i = 0; i < t->nfiles; i++) {
		placed_file *p;

		remote_path(t, dir.ptr, i, &path);
		if (!(p = log_add(log, path.ptr))) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		p->had_old = 1; /* when there was none, the restore's rename fails: harmless */
	}
done:
	curl_slist_free_all(post);
	if (h)
		curl_easy_cleanup(h);
	cc_buf_dispose(&user);
	cc_buf_dispose(&host);
	cc_buf_dispose(&port);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&path);
	cc_buf_dispose(&url);
	cc_buf_dispose(&cmd);
	return rc;
}

int install_sftp_undo(const deploy_target *t, const install_log *log)
{
	struct curl_slist *quote = NULL;
	cc_buf cmd = CC_BUF_INIT, url = CC_BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h;
	CURLcode code;
	int rc = 0;

	if (!log->count)
		return 0;
	if (!(h = sftp_handle(t, errbuf)))
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < log->count; i++) {
		cc_buf_clear(&cmd);
		cc_buf_printf(&cmd, "*rename \"%s\" \"%s.certctl-failed\"", log->items[i].path,
			      log->items[i].path);
		quote = curl_slist_append(quote, cmd.ptr);
		cc_buf_clear(&cmd);
		cc_buf_printf(&cmd, "*rename \"%s" PREV_SUFFIX "\" \"%s\"", log->items[i].path,
			      log->items[i].path);
		quote = curl_slist_append(quote, cmd.ptr);
	}
	remote_url(t, "/", &url);
	curl_easy_setopt(h, CURLOPT_URL, url.ptr);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_QUOTE, quote);
	if ((code = curl_easy_perform(h)) != CURLE_OK)
		rc = sftp_error(t, code, errbuf, "restoring the old files");
	curl_slist_free_all(quote);
	curl_easy_cleanup(h);
	cc_buf_dispose(&cmd);
	cc_buf_dispose(&url);
	return rc;
}

int sftp_reload_argv(const deploy_target *t, char ***out)
{
	cc_buf user = CC_BUF_INIT, host = CC_BUF_INIT, port = CC_BUF_INIT, dir = CC_BUF_INIT;
	cc_buf line = CC_BUF_INIT, kh = CC_BUF_INIT, dest = CC_BUF_INIT;
	char **argv = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = sftp_parts(t, &user, &host, &port, &dir)) < 0)
		goto done;
	/* ssh joins its arguments into one line for the remote shell: each
	 * is quoted so that it arrives as the one word it is. */
	for (char **a = t->reload; *a && rc == 0; a++) {
		if (line.size)
			cc_buf_putc(&line, ' ');
		rc = shell_quote(&line, *a);
	}
	cc_buf_printf(&kh, "UserKnownHostsFile=%s", t->known_hosts);
	if (user.size)
		cc_buf_printf(&dest, "%s@%s", user.ptr, host.ptr);
	else
		cc_buf_puts(&dest, host.ptr);
	if (!(argv = calloc(24, sizeof(*argv)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	{
		const char *words[] = {
			"ssh", "-i", t->identity, "-p", port.size ? port.ptr : "22",
			"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", kh.ptr, "-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=15",
			dest.ptr, "--", line.ptr,
		};

		for (; n < CC_ARRAY_SIZE(words); n++)
			if (!(argv[n] = strdup(words[n] ? words[n] : ""))) {
				rc = cc_error_set(CC_ERROR, "out of memory");
				break;
			}
	}
	if (rc == 0)
		*out = argv;
	else
		argv_free(argv);
done:
	cc_buf_dispose(&user);
	cc_buf_dispose(&host);
	cc_buf_dispose(&port);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&line);
	cc_buf_dispose(&kh);
	cc_buf_dispose(&dest);
	return rc;
}
