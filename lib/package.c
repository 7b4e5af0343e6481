/*
 * The install package: what a server administrator (or a machine no
 * network reaches) needs to install a certificate by hand or with one
 * command.  A tar.gz holding the certificate, its chain, the key encrypted
 * under a passphrase of its own, a manifest of SHA-256 sums, a README and
 * install.sh, a POSIX shell script that needs nothing but openssl.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "deploy_internal.h"

/* One ustar member. */
static int tar_member(cc_buf *tar, const char *name, const void *data, size_t len, unsigned mode,
		      int dir, long long mtime)
{
	unsigned char h[512];
	unsigned sum = 0;
	size_t pad;

	if (strlen(name) > 99)
		return cc_error_set(CC_EINVALID, "package member name %s is too long", name);
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)(dir ? 0 : len));
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = dir ? '5' : '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	if (cc_buf_put(tar, h, sizeof(h)) < 0 || (!dir && cc_buf_put(tar, data, len) < 0))
		return CC_ERROR;
	pad = dir ? 0 : (512 - len % 512) % 512;
	memset(h, 0, sizeof(h));
	return pad ? cc_buf_put(tar, h, pad) : 0;
}

static int gzip_buf(cc_buf *out, const cc_buf *in)
{
	z_stream zs;
	unsigned char chunk[16384];
	int zrc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return cc_error_set(CC_ERROR, "cannot start compressing the package");
	zs.next_in = (unsigned char *)in->ptr;
	zs.avail_in = (uInt)in->size;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = deflate(&zs, Z_FINISH);
		if (zrc == Z_STREAM_ERROR ||
		    cc_buf_put(out, chunk, sizeof(chunk) - zs.avail_out) < 0) {
			deflateEnd(&zs);
			return cc_error_set(CC_ERROR, "cannot compress the package");
		}
	} while (zrc != Z_STREAM_END);
	deflateEnd(&zs);
	return 0;
}

static const char *const script_head =
	"#!/bin/sh\n"
	"# Installs the certificate of this package; written by certctl.\n"
	"# usage: sh install.sh [--root DIR] [--no-reload] [--passphrase-file FILE]\n"
	"#   --root DIR             install under DIR instead of / (a staging tree)\n"
	"#   --no-reload            do not run the server's test and reload commands\n"
	"#   --passphrase-file FILE the key's passphrase (first line); else the\n"
	"#                          environment: CERTCTL_PACKAGE_PASSPHRASE_FILE or\n"
	"#                          CERTCTL_PACKAGE_PASSPHRASE\n"
	"# Needs only sh and openssl.  Old files are kept as FILE.certctl-prev and put\n"
	"# back when the server's test or reload fails.\n"
	"# shellcheck disable=SC2016 # arguments are quoted literally on purpose\n"
	"set -eu\n"
	"root='' reload=1 passfile=''\n"
	"usage() { echo 'usage: sh install.sh [--root DIR] [--no-reload] [--passphrase-file FILE]'; }\n"
	"die() { echo \"install.sh: $*\" >&2; exit 1; }\n"
	"while [ $# -gt 0 ]; do\n"
	"\tcase $1 in\n"
	"\t--root) [ $# -ge 2 ] || { usage >&2; exit 64; }; root=$2; shift 2 ;;\n"
	"\t--no-reload) reload=0; shift ;;\n"
	"\t--passphrase-file) [ $# -ge 2 ] || { usage >&2; exit 64; }; passfile=$2; shift 2 ;;\n"
	"\t-h|--help) usage; exit 0 ;;\n"
	"\t*) echo \"install.sh: unknown option $1\" >&2; usage >&2; exit 64 ;;\n"
	"\tesac\n"
	"done\n"
	"case $root in */) root=${root%/} ;; esac\n"
	"here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
	"command -v openssl >/dev/null 2>&1 || die 'openssl is needed'\n"
	"while read -r sum name; do\n"
	"\tgot=$(openssl dgst -sha256 -r \"$here/$name\") || die \"cannot read $name\"\n"
	"\t[ \"${got%% *}\" = \"$sum\" ] || die \"$name is damaged (its SHA-256 differs from the manifest)\"\n"
	"done <\"$here/manifest\"\n"
	"if [ -n \"$passfile\" ]; then\n"
	"\tpass=\"file:$passfile\"\n"
	"elif [ -n \"${CERTCTL_PACKAGE_PASSPHRASE_FILE:-}\" ]; then\n"
	"\tpass=\"file:$CERTCTL_PACKAGE_PASSPHRASE_FILE\"\n"
	"elif [ -n \"${CERTCTL_PACKAGE_PASSPHRASE+set}\" ]; then\n"
	"\tpass=env:CERTCTL_PACKAGE_PASSPHRASE\n"
	"else\n"
	"\tdie 'the key is encrypted: give its passphrase with --passphrase-file FILE or CERTCTL_PACKAGE_PASSPHRASE'\n"
	"fi\n"
	"umask 077\n"
	"work=$(mktemp -d \"${TMPDIR:-/tmp}/certctl-install.XXXXXX\") || die 'cannot make a temporary directory'\n"
	"trap 'rm -rf \"$work\"' EXIT\n"
	"openssl pkey -in \"$here/key.enc.pem\" -passin \"$pass\" -out \"$work/key.pem\" 2>\"$work/err\" ||\n"
	"\tdie 'cannot decrypt the key (wrong passphrase?)'\n"
	"a=$(openssl pkey -in \"$work/key.pem\" -pubout | openssl dgst -sha256 -r)\n"
	"b=$(openssl x509 -in \"$here/cert.pem\" -noout -pubkey | openssl dgst -sha256 -r)\n"
	"[ \"$a\" = \"$b\" ] || die 'the key does not match the certificate'\n"
	"cat \"$here/fullchain.pem\" \"$work/key.pem\" >\"$work/combined.pem\"\n"
	"umask 022\n"
	"# stage SOURCE DEST MODE [OWNER] [GROUP]: DEST.certctl-new, ready to go in.\n"
	"stage() {\n"
	"\td=$root$2\n"
	"\tmkdir -p \"$(dirname \"$d\")\" || die \"cannot create $(dirname \"$d\")\"\n"
	"\trm -f \"$d.certctl-new\"\n"
	"\tcp \"$1\" \"$d.certctl-new\" || die \"cannot write $d.certctl-new\"\n"
	"\tchmod \"$3\" \"$d.certctl-new\" || die \"cannot chmod $d.certctl-new\"\n"
	"\tif [ -n \"${4:-}\" ]; then chown \"$4\" \"$d.certctl-new\" || die \"cannot chown $d\"; fi\n"
	"\tif [ -n \"${5:-}\" ]; then chgrp \"$5\" \"$d.certctl-new\" || die \"cannot chgrp $d\"; fi\n"
	"}\n"
	"# put DEST: the old file becomes DEST.certctl-prev, the new one DEST.\n"
	"put() {\n"
	"\td=$root$1\n"
	"\tif [ -e \"$d\" ]; then\n"
	"\t\trm -f \"$d.certctl-prev\"\n"
	"\t\tln \"$d\" \"$d.certctl-prev\" 2>/dev/null || cp -p \"$d\" \"$d.certctl-prev\" || die \"cannot back up $d\"\n"
	"\t\tprevs=\"$prevs $1\"\n"
	"\telse\n"
	"\t\tnews=\"$news $1\"\n"
	"\tfi\n"
	"\tmv -f \"$d.certctl-new\" \"$d\" || die \"cannot put $d in place\"\n"
	"}\n"
	"restore() {\n"
	"\tfor f in $prevs; do mv -f \"$root$f.certctl-prev\" \"$root$f\"; done\n"
	"\tfor f in $news; do rm -f \"$root$f\"; done\n"
	"}\n"
	"prevs='' news=''\n";

/* A line of the script that runs an argv list; `what` says which. */
static int script_command(cc_buf *s, char **argv, const char *what)
{
	int rc = cc_buf_puts(s, "\tif ! ");

	for (char **a = argv; *a && rc == 0; a++) {
		rc = shell_quote(s, *a);
		rc = rc ? rc : cc_buf_putc(s, ' ');
	}
	return rc ? rc : cc_buf_printf(s, "; then\n\t\trestore\n\t\tdie 'the %s failed; "
				       "the old files are back'\n\tfi\n", what);
}

static int build_script(cc_buf *s, const deploy_target *t)
{
	static const char *const sources[PIECE_COUNT] = {
		"$here/cert.pem", "$here/chain.pem", "$here/fullchain.pem", "$work/key.pem",
		"$work/combined.pem", NULL, NULL,
	};
	int rc = cc_buf_puts(s, script_head);

	/* The paths are data: each goes in single quotes (and has no control
	 * characters: the definition loader refuses them). */
	for (size_t i = 0; i < t->nfiles && rc == 0; i++) {
		rc = cc_buf_printf(s, "stage \"%s\" ", sources[t->files[i].kind]);
		rc = rc ? rc : shell_quote(s, t->files[i].path);
		rc = rc ? rc : cc_buf_printf(s, " %o ", t->files[i].mode);
		rc = rc ? rc : shell_quote(s, t->owner ? t->owner : "");
		rc = rc ? rc : cc_buf_putc(s, ' ');
		rc = rc ? rc : shell_quote(s, t->group ? t->group : "");
		rc = rc ? rc : cc_buf_putc(s, '\n');
	}
	for (size_t i = 0; i < t->nfiles && rc == 0; i++) {
		rc = cc_buf_puts(s, "put ");
		rc = rc ? rc : shell_quote(s, t->files[i].path);
		rc = rc ? rc : cc_buf_putc(s, '\n');
	}
	if (rc == 0 && (t->test || t->reload)) {
		rc = cc_buf_puts(s, "if [ \"$reload\" = 1 ]; then\n");
		if (rc == 0 && t->test)
			rc = script_command(s, t->test, "configuration test of the server");
		if (rc == 0 && t->reload)
			rc = script_command(s, t->reload, "reload of the server");
		rc = rc ? rc : cc_buf_puts(s, "fi\n");
	}
	rc = rc ? rc : cc_buf_puts(s,
		"fp=$(openssl x509 -in \"$here/cert.pem\" -noout -fingerprint -sha256)\n"
		"echo \"installed: ${fp#*=}\"\n");
	return rc;
}

static int build_readme(cc_buf *s, const deploy_target *t, const deploy_material *m)
{
	char until[32];
	int rc;

	cc_time_rfc3339(cc_cert_not_after(m->cert), until);
	rc = cc_buf_printf(s,
		"Certificate install package, made by certctl\n\n"
		"Definition:  %s\nTarget:      %s (%s)\nCertificate: %s\nSubject:     %s\n"
		"Valid until: %s\nSHA-256:     %s\n\n"
		"To install it on the server, as a user who may write the files below:\n\n"
		"    CERTCTL_PACKAGE_PASSPHRASE_FILE=/path/to/passphrase sh install.sh\n\n"
		"(or --passphrase-file FILE; the passphrase came to you apart from this\n"
		"package).  install.sh checks the files against the manifest, decrypts the\n"
		"key, keeps each old file as FILE.certctl-prev, puts the new ones in place,\n"
		"runs the server's test and reload commands and puts the old files back if\n"
		"either fails.  --root DIR installs under DIR; --no-reload skips the\n"
		"commands.  It needs only sh and openssl.\n\nFiles it installs:\n",
		m->definition, t->name, target_type_name(t->layout), m->cert_id,
		cc_cert_subject(m->cert), until, cc_cert_sha256(m->cert));
	for (size_t i = 0; i < t->nfiles && rc == 0; i++)
		rc = cc_buf_printf(s, "    %s (mode %04o)\n", t->files[i].path, t->files[i].mode);
	if (rc == 0 && t->test)
		rc = cc_buf_printf(s, "\nConfiguration test: %s ...\n", t->test[0]);
	if (rc == 0 && t->reload)
		rc = cc_buf_printf(s, "Reload: %s ...\n", t->reload[0]);
	rc = rc ? rc : cc_buf_puts(s,
		"\nTo install by hand instead: cert.pem is the certificate, chain.pem the\n"
		"intermediate CA certificates, fullchain.pem both, and key.enc.pem the\n"
		"private key, encrypted:\n\n"
		"    openssl pkey -in key.enc.pem -out key.pem    # asks for the passphrase\n\n"
		"Keep key.pem readable by the server only (chmod 600).\n");
	return rc;
}

int package_build(cc_buf *out, const deploy_target *t, const deploy_material *m,
		  const cc_secret *pass)
{
	cc_buf tar = CC_BUF_INIT, keyenc = CC_BUF_INIT, script = CC_BUF_INIT, readme = CC_BUF_INIT;
	cc_buf manifest = CC_BUF_INIT, name = CC_BUF_INIT, top = CC_BUF_INIT;
	const cc_buf *members[7];
	static const char *const names[7] = { "cert.pem", "chain.pem", "fullchain.pem",
					      "key.enc.pem", "README", "install.sh", "manifest" };
	long long now = (long long)time(NULL);
	char sum[65];
	int rc;

	if (!m->key)
		return cc_error_set(CC_ENOTFOUND, "target '%s': certificate %s has no stored key "
				    "for the package", t->name, m->cert_id);
	if ((rc = cc_key_export_pem_portable(m->key, pass, &keyenc)) < 0 ||
	    (rc = build_script(&script, t)) < 0 || (rc = build_readme(&readme, t, m)) < 0)
		goto done;
	members[0] = &m->piece[PIECE_CERT];
	members[1] = &m->piece[PIECE_CHAIN];
	members[2] = &m->piece[PIECE_FULLCHAIN];
	members[3] = &keyenc;
	members[4] = &readme;
	members[5] = &script;
	for (int i = 0; i < 6 && rc == 0; i++) {
		if ((rc = cc_sha256_hex(members[i]->ptr, members[i]->size, sum)) == 0)
			rc = cc_buf_printf(&manifest, "%s  %s\n", sum, names[i]);
	}
	members[6] = &manifest;
	if (rc < 0)
		goto done;
	if (strlen(m->definition) + strlen(t->name) < 80)
		rc = cc_buf_printf(&top, "%s-%s", m->definition, t->name);
	else
		rc = cc_buf_puts(&top, "certctl-package");
	cc_buf_printf(&name, "%s/", top.ptr);
	rc = rc ? rc : tar_member(&tar, name.ptr, NULL, 0, 0755, 1, now);
	for (int i = 0; i < 7 && rc == 0; i++) {
		cc_buf_clear(&name);
		cc_buf_printf(&name, "%s/%s", top.ptr, names[i]);
		rc = tar_member(&tar, name.ptr, members[i]->ptr ? members[i]->ptr : "",
				members[i]->size, i == 5 ? 0755 : i == 3 ? 0600 : 0644, 0, now);
	}
	if (rc == 0) {
		char zeros[1024];

		memset(zeros, 0, sizeof(zeros));
		rc = cc_buf_put(&tar, zeros, sizeof(zeros));
	}
	rc = rc ? rc : gzip_buf(out, &tar);
done:
	cc_buf_dispose(&tar);
	cc_buf_dispose(&keyenc);
	cc_buf_dispose(&script);
	cc_buf_dispose(&readme);
	cc_buf_dispose(&manifest);
	cc_buf_dispose(&name);
	cc_buf_dispose(&top);
	return rc;
}
