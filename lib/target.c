/*
 * Deployment targets: a target's settings (certctl-definition(5)) with the
 * defaults of its type, resolved into the files to write, the commands to
 * run and the endpoint of the deploy check.
 */
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"

static const char *const type_names[] = {
	"files", "nginx", "apache", "haproxy", "postfix",
	"dovecot", "certbot-live", "sftp", "command", "package", "vecs",
};

static const char *const piece_keys[PIECE_COUNT] = {
	"cert", "chain", "fullchain", "key", "combined", "pkcs12", "jks",
};

const char *target_type_name(target_type type)
{
	return type_names[type];
}

/* Settings every type knows, and those only some types have. */
static const char *const common_keys[] = {
	"name", "type", "cert", "chain", "fullchain", "key", "combined", "pkcs12", "jks",
	"alias", "passphrase_file", "passphrase_env", "mode", "key_mode", "timeout", "check",
	"sni", "auto", "peer", "settle", "starttls", NULL,
};

static int key_allowed(target_type type, const char *key)
{
	for (size_t i = 0; common_keys[i]; i++)
		if (!strcmp(key, common_keys[i]))
			return (type != TT_COMMAND && type != TT_VECS) || i < 2 || i > 13 ||
			       (type == TT_VECS && i == 9);
	if (!strcmp(key, "dir") || !strcmp(key, "owner") || !strcmp(key, "group"))
		return type != TT_COMMAND && type != TT_SFTP && type != TT_VECS;
	if (!strcmp(key, "test"))
		return type != TT_COMMAND && type != TT_SFTP && type != TT_VECS;
	if (!strcmp(key, "reload"))
		return type != TT_COMMAND;
	if (!strcmp(key, "run"))
		return type == TT_COMMAND;
	if (!strcmp(key, "url") || !strcmp(key, "identity") || !strcmp(key, "known_hosts"))
		return type == TT_SFTP;
	if (!strcmp(key, "layout"))
		return type == TT_SFTP || type == TT_PACKAGE;
	if (!strcmp(key, "out"))
		return type == TT_PACKAGE;
	if (!strcmp(key, "cert_name"))
		return type == TT_CERTBOT_LIVE;
	if (!strcmp(key, "store") || !strcmp(key, "vecs_cli"))
		return type == TT_VECS;
	return 0;
}

void argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static char **argv_of(const char *const *words)
{
	size_t n = 0;
	char **argv;

	while (words[n])
		n++;
	if (!(argv = calloc(n + 1, sizeof(*argv))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(argv[i] = strdup(words[i]))) {
			argv_free(argv);
			return NULL;
		}
	return argv;
}

/* An argv list: a YAML sequence of strings.  An empty sequence is none. */
static int read_argv(const cc_node *node, const char *what, char ***out)
{
	size_t n;
	char **argv;

	argv_free(*out);
	*out = NULL;
	if (cc_node_kind(node) == CC_NODE_SCALAR)
		return cc_node_error(node, CC_EINVALID, "%s is a list of the program and its "
				     "arguments ([nginx, -s, reload]), not a shell command line",
				     what);
	if (cc_node_kind(node) != CC_NODE_SEQUENCE)
		return cc_node_error(node, CC_EINVALID, "%s must be a list", what);
	n = cc_node_count(node);
	if (n == 0)
		return 0;
	if (!(argv = calloc(n + 1, sizeof(*argv))))
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const cc_node *item = cc_node_at(node, i);

		if (cc_node_kind(item) != CC_NODE_SCALAR || !cc_node_scalar(item)[0]) {
			argv_free(argv);
			return cc_node_error(item, CC_EINVALID, "%s: every item is a non-empty "
					     "string", what);
		}
		if (!(argv[i] = strdup(cc_node_scalar(item)))) {
			argv_free(argv);
			return cc_error_set(CC_ERROR, "out of memory");
		}
	}
	*out = argv;
	return 0;
}

static int read_mode(const cc_node *node, const char *what, unsigned *out)
{
	const char *s = cc_node_scalar(node);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return cc_node_error(node, CC_EINVALID, "%s must be an octal file mode (\"0640\")",
				     what);
	v = strtoul(s, &end, 8);
	if (*end || v > 0777)
		return cc_node_error(node, CC_EINVALID, "%s '%s' is not a file mode (octal, at "
				     "most 0777)", what, s);
	*out = (unsigned)v;
	return 0;
}

/* A path setting: no control characters (they would end up in install
 * scripts and logs), and, when relative, a directory to be relative to. */
static int read_path(const cc_node *node, const char *what, char **out)
{
	const char *s = cc_node_scalar(node);

	if (!s || !*s)
		return cc_node_error(node, CC_EINVALID, "%s must be a path", what);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cc_node_error(node, CC_EINVALID, "%s: control characters are not "
					     "allowed in a path", what);
	cc_strset(out, s);
	return *out ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

static int add_file(deploy_target *t, piece_kind kind, const char *path)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].kind == kind) {
			cc_strset(&t->files[i].path, path);
			return t->files[i].path ? 0 : cc_error_set(CC_ERROR, "out of memory");
		}
	t->files[t->nfiles].kind = kind;
	t->files[t->nfiles].path = strdup(path);
	if (!t->files[t->nfiles].path)
		return cc_error_set(CC_ERROR, "out of memory");
	t->nfiles++;
	return 0;
}

/* The file layout, commands and check port of a server type. */
static int layout_defaults(deploy_target *t, target_type layout, const char *def)
{
	static const char *const nginx_test[] = { "nginx", "-t", NULL };
	static const char *const nginx_reload[] = { "nginx", "-s", "reload", NULL };
	static const char *const apache_test[] = { "apache2ctl", "configtest", NULL };
	static const char *const apache_reload[] = { "apache2ctl", "graceful", NULL };
	static const char *const haproxy_test[] = { "haproxy", "-c", "-f",
						     "/etc/haproxy/haproxy.cfg", NULL };
	static const char *const haproxy_reload[] = { "systemctl", "reload", "haproxy", NULL };
	static const char *const postfix_test[] = { "postfix", "check", NULL };
	static const char *const postfix_reload[] = { "postfix", "reload", NULL };
	static const char *const dovecot_test[] = { "doveconf", "-n", NULL };
	static const char *const dovecot_reload[] = { "doveadm", "reload", NULL };
	const char *dir = NULL;
	const char *const *test = NULL, *const *reload = NULL;
	cc_buf b = CC_BUF_INIT;
	int rc = 0;

	t->check_port = 443;
	switch (layout) {
	case TT_NGINX:
		dir = "/etc/nginx/ssl";
		test = nginx_test;
		reload = nginx_reload;
		break;
	case TT_APACHE:
		dir = "/etc/apache2/ssl";
		test = apache_test;
		reload = apache_reload;
		break;
	case TT_HAPROXY:
		dir = "/etc/haproxy/certs";
		test = haproxy_test;
		reload = haproxy_reload;
		break;
	case TT_POSTFIX:
		dir = "/etc/postfix/certs";
		test = postfix_test;
		reload = postfix_reload;
		t->check_port = 465;
		break;
	case TT_DOVECOT:
		dir = "/etc/dovecot/private";
		test = dovecot_test;
		reload = dovecot_reload;
		t->check_port = 993;
		break;
	case TT_CERTBOT_LIVE:
		dir = "/etc/letsencrypt";
		break;
	default:
		break;
	}
	if (dir && t->type != TT_SFTP) {
		/* haproxy keeps every certificate in one directory, by name. */
		if (layout == TT_HAPROXY || layout == TT_CERTBOT_LIVE)
			rc = cc_buf_puts(&b, dir);
		else
			rc = cc_buf_printf(&b, "%s/%s", dir, def);
		cc_strset(&t->dir, b.ptr);
		if (rc == 0 && !t->dir)
			rc = cc_error_set(CC_ERROR, "out of memory");
	}
	if (rc == 0 && t->type != TT_SFTP && test && !(t->test = argv_of(test)))
		rc = cc_error_set(CC_ERROR, "out of memory");
	if (rc == 0 && t->type != TT_SFTP && reload && !(t->reload = argv_of(reload)))
		rc = cc_error_set(CC_ERROR, "out of memory");
	switch (layout) {
	case TT_NGINX:
	case TT_POSTFIX:
	case TT_DOVECOT:
		rc = rc ? rc : add_file(t, PIECE_FULLCHAIN, "fullchain.pem");
		rc = rc ? rc : add_file(t, PIECE_KEY, "key.pem");
		break;
	case TT_APACHE:
		rc = rc ? rc : add_file(t, PIECE_CERT, "cert.pem");
		rc = rc ? rc : add_file(t, PIECE_CHAIN, "chain.pem");
		rc = rc ? rc : add_file(t, PIECE_FULLCHAIN, "fullchain.pem");
		rc = rc ? rc : add_file(t, PIECE_KEY, "key.pem");
		break;
	case TT_HAPROXY:
		cc_buf_clear(&b);
		rc = rc ? rc : cc_buf_printf(&b, "%s.pem", def);
		rc = rc ? rc : add_file(t, PIECE_COMBINED, b.ptr);
		break;
	case TT_CERTBOT_LIVE:
		/* The four files of live/NAME/, named as certbot names them. */
		rc = rc ? rc : add_file(t, PIECE_CERT, "cert.pem");
		rc = rc ? rc : add_file(t, PIECE_CHAIN, "chain.pem");
		rc = rc ? rc : add_file(t, PIECE_FULLCHAIN, "fullchain.pem");
		rc = rc ? rc : add_file(t, PIECE_KEY, "privkey.pem");
		break;
	default:
		break;
	}
	cc_buf_dispose(&b);
	return rc;
}

static int read_check(deploy_target *t, const cc_node *node)
{
	const char *text = NULL;
	const cc_node *port = NULL, *sni = NULL, *enabled = NULL;
	cc_check check;
	int rc;

	if (cc_node_kind(node) == CC_NODE_SCALAR) {
		text = cc_node_scalar(node);
	} else if (cc_node_kind(node) == CC_NODE_MAPPING) {
		for (size_t i = 0; i < cc_node_count(node); i++) {
			const char *k = cc_node_key_at(node, i);

			if (strcmp(k, "host") && strcmp(k, "port") && strcmp(k, "sni") &&
			    strcmp(k, "enabled") && strcmp(k, "starttls"))
				return cc_node_key_error(cc_node_at(node, i), CC_EINVALID,
							 "unknown check setting '%s' (host, port, "
							 "sni, starttls, enabled)", k);
		}
		text = cc_node_scalar(cc_node_get(node, "host"));
		port = cc_node_get(node, "port");
		sni = cc_node_get(node, "sni");
		enabled = cc_node_get(node, "enabled");
		if (cc_node_get(node, "starttls") &&
		    cc_starttls_parse(&t->check_starttls,
				      cc_node_scalar(cc_node_get(node, "starttls"))) < 0)
			return cc_node_error(cc_node_get(node, "starttls"), CC_EINVALID, "%s",
					     cc_error_last());
		if (!text)
			return cc_node_error(node, CC_EINVALID, "check needs a host");
	} else {
		return cc_node_error(node, CC_EINVALID, "check is HOST:PORT or a mapping "
				     "{host, port, sni}");
	}
	if (cc_check_parse(&check, text) < 0)
		return cc_node_error(node, CC_EINVALID, "check: %s", cc_error_last());
	/* "HOST" alone takes the type's port. */
	if (text[0] == '[' ? !strstr(text, "]:") : (!strchr(text, ':') ||
						     strchr(text, ':') != strrchr(text, ':')))
		check.port = t->check_port;
	cc_strset(&t->check_host, check.host);
	t->check_port = check.port;
	cc_check_dispose(&check);
	if (port) {
		unsigned long p;

		if ((rc = cc_node_uint(port, 65535, &p)) < 0 || p == 0)
			return cc_node_error(port, CC_EINVALID, "check port must be 1 to 65535");
		t->check_port = (unsigned)p;
	}
	if (sni) {
		if (!cc_dns_name_valid(cc_node_scalar(sni), 0))
			return cc_node_error(sni, CC_EINVALID, "check sni '%s' is not a DNS name",
					     cc_node_scalar(sni) ? cc_node_scalar(sni) : "");
		cc_strset(&t->check_sni, cc_node_scalar(sni));
	}
	if (enabled && (rc = cc_node_bool(enabled, &t->check_enabled)) < 0)
		return rc;
	return t->check_host ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

static int type_parse(const cc_node *node, target_type *out, int layout_only)
{
	const char *s = cc_node_scalar(node);

	for (size_t i = 0; s && i < CC_ARRAY_SIZE(type_names); i++)
		if (!strcmp(s, type_names[i])) {
			if (layout_only && (i == TT_SFTP || i == TT_COMMAND || i == TT_PACKAGE ||
					    i == TT_VECS))
				break;
			*out = (target_type)i;
			return 0;
		}
	if (layout_only)
		return cc_node_error(node, CC_EINVALID, "unknown layout '%s' (files, nginx, apache, "
				     "haproxy, postfix, dovecot, certbot-live)", s ? s : "");
	return cc_node_error(node, CC_EINVALID, "unknown target type '%s' (files, nginx, apache, "
			     "haproxy, postfix, dovecot, certbot-live, sftp, command, package)",
			     s ? s : "");
}

int target_resolve(deploy_target *t, const cc_target *target, const char *def)
{
	const cc_node *s = target->settings, *v;
	int explicit_files = 0, rc = 0;
	unsigned mode = 0644, key_mode = 0600;
	long long timeout = 60;

	memset(t, 0, sizeof(*t));
	t->source = target;
	t->name = target->name;
	t->uid = (uid_t)-1;
	t->gid = (gid_t)-1;
	t->check_enabled = 1;
	if ((rc = type_parse(cc_node_get(s, "type"), &t->type, 0)) < 0)
		return rc;
	t->layout = t->type;
	t->auto_install = t->type != TT_PACKAGE;
	for (size_t i = 0; i < cc_node_count(s); i++) {
		const char *k = cc_node_key_at(s, i);

		if (!key_allowed(t->type, k))
			return cc_node_key_error(cc_node_at(s, i), CC_EINVALID,
						 "'%s' is not a setting of %s targets", k,
						 type_names[t->type]);
	}
	if ((v = cc_node_get(s, "layout"))) {
		if ((rc = type_parse(v, &t->layout, 1)) < 0)
			return rc;
		if (t->type == TT_SFTP && t->layout == TT_CERTBOT_LIVE)
			return cc_node_error(v, CC_EINVALID, "sftp targets cannot use the "
					     "certbot-live layout");
	} else if (t->type == TT_SFTP || t->type == TT_PACKAGE) {
		t->layout = TT_NGINX;
	}
	if (t->type != TT_COMMAND && (rc = layout_defaults(t, t->layout, def)) < 0)
		return rc;
	if ((v = cc_node_get(s, "dir")) && (rc = read_path(v, "dir", &t->dir)) < 0)
		return rc;
	/* Files given by name replace the layout's set. */
	for (int k = 0; k < PIECE_COUNT; k++)
		if (cc_node_get(s, piece_keys[k]))
			explicit_files = 1;
	if (explicit_files && t->type == TT_CERTBOT_LIVE)
		return cc_node_error(s, CC_EINVALID, "certbot-live targets write certbot's four "
				     "files; set dir and cert_name, not file names");
	if (explicit_files) {
		for (size_t i = 0; i < t->nfiles; i++)
			free(t->files[i].path);
		memset(t->files, 0, sizeof(t->files));
		t->nfiles = 0;
		for (int k = 0; k < PIECE_COUNT; k++) {
			cc_buf full = CC_BUF_INIT;
			char *path = NULL;

			if (!(v = cc_node_get(s, piece_keys[k])))
				continue;
			if ((rc = read_path(v, piece_keys[k], &path)) < 0)
				return rc;
			if (path[0] != '/' && t->type != TT_SFTP) {
				if (!t->dir) {
					free(path);
					return cc_node_error(v, CC_EINVALID, "%s: a relative path needs "
							     "'dir' (or give an absolute path)",
							     piece_keys[k]);
				}
				rc = cc_buf_printf(&full, "%s/%s", t->dir, path);
			} else {
				rc = cc_buf_puts(&full, path);
			}
			free(path);
			rc = rc ? rc : add_file(t, (piece_kind)k, full.ptr);
			cc_buf_dispose(&full);
			if (rc < 0)
				return rc;
		}
	} else if (t->type != TT_SFTP && t->type != TT_COMMAND && t->type != TT_VECS && t->dir) {
		for (size_t i = 0; i < t->nfiles; i++) {
			cc_buf full = CC_BUF_INIT;

			if ((rc = cc_buf_printf(&full, "%s/%s", t->dir, t->files[i].path)) < 0)
				return rc;
			free(t->files[i].path);
			t->files[i].path = cc_buf_detach(&full);
		}
	}
	if (t->type == TT_FILES && !t->nfiles)
		return cc_node_error(s, CC_EINVALID, "target '%s' (files) names no file: give "
				     "cert, chain, fullchain, key, combined, pkcs12 or jks", t->name);
	if (t->type == TT_VECS) {
		/* vCenter's certificate store: an entry (store, alias) replaced with
		 * vecs-cli, as VMware's procedure does by hand. */
		cc_strset(&t->store, (v = cc_node_get(s, "store")) ? cc_node_scalar(v) :
			  "MACHINE_SSL_CERT");
		if (!t->alias)
			cc_strset(&t->alias, (v = cc_node_get(s, "alias")) ? cc_node_scalar(v) :
				  "__MACHINE_CERT");
		if ((v = cc_node_get(s, "vecs_cli")) && (rc = read_path(v, "vecs_cli", &t->vecs_cli)) < 0)
			return rc;
		if (!t->vecs_cli)
			cc_strset(&t->vecs_cli, "/usr/lib/vmware-vmafd/bin/vecs-cli");
		if (!t->store || !*t->store || !t->alias || !*t->alias)
			return cc_node_error(s, CC_EINVALID, "target '%s' (vecs): store and alias "
					     "must not be empty", t->name);
	}
	if (t->type == TT_COMMAND || t->type == TT_VECS) {
		for (int k = 0; k < PIECE_KEY + 1; k++)
			if ((rc = add_file(t, (piece_kind)k, piece_keys[k])) < 0)
				return rc;
	}
	if ((v = cc_node_get(s, "mode")) && (rc = read_mode(v, "mode", &mode)) < 0)
		return rc;
	if ((v = cc_node_get(s, "key_mode")) && (rc = read_mode(v, "key_mode", &key_mode)) < 0)
		return rc;
	for (size_t i = 0; i < t->nfiles; i++) {
		piece_kind k = t->files[i].kind;

		t->files[i].mode = (k == PIECE_KEY || k == PIECE_COMBINED || k == PIECE_PKCS12 ||
				    k == PIECE_JKS) ? key_mode : mode;
		/* Two pieces in one file would overwrite each other. */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->files[i].path, t->files[j].path))
				return cc_node_error(s, CC_EINVALID, "%s and %s are the same file %s",
						     piece_keys[t->files[j].kind], piece_keys[k],
						     t->files[i].path);
	}
	if ((v = cc_node_get(s, "alias")) && t->type != TT_VECS)
		cc_strset(&t->alias, cc_node_scalar(v));
	if ((v = cc_node_get(s, "passphrase_file")) &&
	    (rc = read_path(v, "passphrase_file", &t->passphrase_file)) < 0)
		return rc;
	if ((v = cc_node_get(s, "passphrase_env")))
		cc_strset(&t->passphrase_env, cc_node_scalar(v));
	for (size_t i = 0; i < t->nfiles; i++)
		if ((t->files[i].kind == PIECE_PKCS12 || t->files[i].kind == PIECE_JKS) &&
		    !t->passphrase_file && !t->passphrase_env)
			return cc_node_error(s, CC_EINVALID, "target '%s': a %s file needs "
					     "passphrase_file or passphrase_env (its password)",
					     t->name, piece_keys[t->files[i].kind]);
	if ((v = cc_node_get(s, "owner")))
		cc_strset(&t->owner, cc_node_scalar(v));
	if ((v = cc_node_get(s, "group")))
		cc_strset(&t->group, cc_node_scalar(v));
	if ((v = cc_node_get(s, "test")) && (rc = read_argv(v, "test", &t->test)) < 0)
		return rc;
	if ((v = cc_node_get(s, "reload")) && (rc = read_argv(v, "reload", &t->reload)) < 0)
		return rc;
	if ((v = cc_node_get(s, "run")) && (rc = read_argv(v, "run", &t->run)) < 0)
		return rc;
	if (t->type == TT_COMMAND && !t->run)
		return cc_node_error(s, CC_EINVALID, "target '%s' (command) needs 'run', the hook "
				     "program and its arguments", t->name);
	if ((v = cc_node_get(s, "timeout"))) {
		if ((rc = cc_node_duration(v, &timeout)) < 0)
			return rc;
		if (timeout < 1 || timeout > 3600)
			return cc_node_error(v, CC_EINVALID, "timeout must be 1s to 1h");
	}
	t->timeout_ms = (long)timeout * 1000;
	t->settle_ms = 5000;
	if ((v = cc_node_get(s, "settle"))) {
		long long settle;

		if ((rc = cc_node_duration(v, &settle)) < 0)
			return rc;
		if (settle > 600)
			return cc_node_error(v, CC_EINVALID, "settle must be at most 10m");
		t->settle_ms = (long)settle * 1000;
	}
	if ((v = cc_node_get(s, "check")) && (rc = read_check(t, v)) < 0)
		return rc;
	if ((v = cc_node_get(s, "sni"))) {
		if (!cc_dns_name_valid(cc_node_scalar(v), 0))
			return cc_node_error(v, CC_EINVALID, "sni '%s' is not a DNS name",
					     cc_node_scalar(v));
		cc_strset(&t->check_sni, cc_node_scalar(v));
	}
	if ((v = cc_node_get(s, "starttls")) &&
	    cc_starttls_parse(&t->check_starttls, cc_node_scalar(v)) < 0)
		return cc_node_error(v, CC_EINVALID, "%s", cc_error_last());
	if ((v = cc_node_get(s, "auto")) && (rc = cc_node_bool(v, &t->auto_install)) < 0)
		return rc;
	if ((v = cc_node_get(s, "peer"))) {
		if (cc_name_check(cc_node_scalar(v), "peer") < 0)
			return cc_node_error(v, CC_EINVALID, "%s", cc_error_last());
		cc_strset(&t->peer, cc_node_scalar(v));
	}
	if ((v = cc_node_get(s, "cert_name"))) {
		if (cc_name_check(cc_node_scalar(v), "certificate") < 0)
			return cc_node_error(v, CC_EINVALID, "cert_name: %s", cc_error_last());
		cc_strset(&t->cert_name, cc_node_scalar(v));
	}
	if (t->type == TT_CERTBOT_LIVE && !t->cert_name)
		cc_strset(&t->cert_name, def);
	if (t->type == TT_SFTP) {
		static const char *const need[] = { "url", "identity", "known_hosts" };

		for (size_t i = 0; i < CC_ARRAY_SIZE(need); i++)
			if (!cc_node_get(s, need[i]))
				return cc_node_error(s, CC_EINVALID, "target '%s' (sftp) needs '%s'%s",
						     t->name, need[i], i == 2 ?
						     ": the server's host key is always verified" : "");
		if ((rc = read_path(cc_node_get(s, "url"), "url", &t->url)) < 0 ||
		    (rc = read_path(cc_node_get(s, "identity"), "identity", &t->identity)) < 0 ||
		    (rc = read_path(cc_node_get(s, "known_hosts"), "known_hosts",
				    &t->known_hosts)) < 0)
			return rc;
		if (strncmp(t->url, "sftp://", 7) || !t->url[7] || t->url[7] == '/')
			return cc_node_error(cc_node_get(s, "url"), CC_EINVALID, "url must be "
					     "sftp://[USER@]HOST[:PORT]/DIR/");
		if (t->url[strlen(t->url) - 1] != '/')
			return cc_node_error(cc_node_get(s, "url"), CC_EINVALID, "url names a "
					     "directory: end it with '/'");
	}
	if (t->type == TT_PACKAGE) {
		for (size_t i = 0; i < t->nfiles; i++)
			if (t->files[i].kind == PIECE_PKCS12 || t->files[i].kind == PIECE_JKS)
				return cc_node_error(s, CC_EINVALID, "package targets install PEM "
						     "files; PKCS#12 and JKS need a files target");
		if (t->layout == TT_CERTBOT_LIVE)
			return cc_node_error(s, CC_EINVALID, "package targets cannot use the "
					     "certbot-live layout");
		if ((v = cc_node_get(s, "out")) && (rc = read_path(v, "out", &t->out)) < 0)
			return rc;
	}
	if (t->type != TT_SFTP && t->type != TT_COMMAND && t->type != TT_VECS)
		for (size_t i = 0; i < t->nfiles; i++)
			if (t->files[i].path[0] != '/')
				return cc_node_error(s, CC_EINVALID, "target '%s': %s is not an "
						     "absolute path", t->name, t->files[i].path);
	return 0;
}

void target_dispose(deploy_target *t)
{
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i].path);
	free(t->dir);
	free(t->alias);
	free(t->passphrase_file);
	free(t->passphrase_env);
	free(t->owner);
	free(t->group);
	argv_free(t->test);
	argv_free(t->reload);
	argv_free(t->run);
	free(t->check_host);
	free(t->check_sni);
	free(t->peer);
	free(t->cert_name);
	free(t->url);
	free(t->identity);
	free(t->known_hosts);
	free(t->out);
	free(t->store);
	free(t->vecs_cli);
	memset(t, 0, sizeof(*t));
}

int target_needs_key(const deploy_target *t)
{
	if (t->type == TT_COMMAND || t->type == TT_PACKAGE || t->type == TT_VECS)
		return 1;
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].kind >= PIECE_KEY)
			return 1;
	return 0;
}

int cc_target_check(const cc_target *target, const char *definition)
{
	deploy_target t;
	int rc = target_resolve(&t, target, definition);

	target_dispose(&t);
	return rc;
}

int shell_quote(cc_buf *out, const char *s)
{
	int rc = cc_buf_putc(out, '\'');

	for (; *s && rc == 0; s++)
		rc = *s == '\'' ? cc_buf_puts(out, "'\\''") : cc_buf_putc(out, *s);
	return rc ? rc : cc_buf_putc(out, '\'');
}
