/*
 * certctl export: a definition's current certificate in the format a
 * server wants: PEM pieces, DER, P7B, PKCS#12 or JKS.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

struct export_args {
	const char *format, *out, *alias, *pass_file;
	int with_key, fullchain, force;
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PEM into a directory: cert.pem, chain.pem, fullchain.pem [, key.pem]. */
static int pem_pieces(const struct export_args *a, const cc_cert *cert, cc_cert **chain,
		      size_t nchain, const cc_key *key)
{
	cc_buf certpem = CC_BUF_INIT, chainpem = CC_BUF_INIT, full = CC_BUF_INIT, keypem = CC_BUF_INIT,
	       path = CC_BUF_INIT;
	int rc = 0;

	if (cc_cert_pem(cert, &certpem) < 0 || (key && cc_key_export_pem(key, NULL, &keypem) < 0)) {
		rc = cli_lib_error();
		goto done;
	}
	for (size_t i = 0; i < nchain && rc == 0; i++)
		if (cc_cert_pem(chain[i], &chainpem) < 0)
			rc = cli_lib_error();
	cc_buf_put(&full, certpem.ptr, certpem.size);
	cc_buf_put(&full, chainpem.ptr ? chainpem.ptr : "", chainpem.size);
	{
		const struct {
			const char *name;
			cc_buf *data;
			unsigned mode;
		} files[] = { { "cert.pem", &certpem, 0644 },
			      { "chain.pem", &chainpem, 0644 },
			      { "fullchain.pem", &full, 0644 },
			      { "key.pem", &keypem, 0600 } };

		/* All or nothing: refuse before writing when one exists. */
		for (size_t i = 0; i < 4 && rc == 0; i++) {
			if (i == 3 && !key)
				break;
			cc_buf_clear(&path);
			cc_buf_printf(&path, "%s/%s", a->out, files[i].name);
			rc = cli_output_check(path.ptr, a->force);
		}
		for (size_t i = 0; i < 4 && rc == 0; i++) {
			if (i == 3 && !key)
				break;
			cc_buf_clear(&path);
			cc_buf_printf(&path, "%s/%s", a->out, files[i].name);
			rc = cli_write_file(path.ptr, files[i].data->ptr ? files[i].data->ptr : "",
					    files[i].data->size, files[i].mode, a->force);
			if (rc == 0)
				cli_info("%s\n", path.ptr);
		}
	}
done:
	cc_buf_dispose(&certpem);
	cc_buf_dispose(&chainpem);
	cc_buf_dispose(&full);
	cc_buf_dispose_secure(&keypem);
	cc_buf_dispose(&path);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a;
	int first, rc;
	cc_repo *repo = NULL;
	cc_cert *cert = NULL;
	cc_cert **chain = NULL;
	size_t nchain = 0;
	cc_key *key = NULL;
	cc_secret *pass = NULL;
	char *key_id = NULL, *cert_id = NULL;
	cc_buf out = CC_BUF_INIT;
	int keyed;

	memset(&a, 0, sizeof(a));
	a.format = "pem";
	{
		const struct cli_opt options[] = {
			OPT_STR(0, "format", &a.format, "F", "pem (default), der, p7b, p12 or jks"),
			OPT_STR('o', "out", &a.out, "FILE|DIR", "where to write (- for stdout; a "
				"directory gets the PEM pieces)"),
			OPT_BOOL(0, "with-key", &a.with_key, "include the private key (pem; p12 and jks "
				 "always have it); files with a key are 0600"),
			OPT_BOOL(0, "fullchain", &a.fullchain, "pem: the chain after the certificate "
				 "(p7b, p12 and jks always carry it)"),
			OPT_STR(0, "alias", &a.alias, "NAME", "p12/jks: the key entry's alias (default: "
				"the definition's name)"),
			OPT_STR(0, "passphrase-file", &a.pass_file, "FILE", "p12/jks password (else "
				"$CERTCTL_EXPORT_PASSPHRASE[_FILE])"),
			OPT_BOOL('f', "force", &a.force, "overwrite existing files"),
			OPT_DONE(),
		};

		rc = cli_parse(argc, argv, options,
			       "certctl export DEF [--format pem|der|p7b|p12|jks] [--out FILE|DIR] "
			       "[--with-key] [--fullchain]",
			       "Write a definition's current certificate (and chain, and key) in the "
			       "format a server wants; changes nothing in the repository.", &first);
	}
	if (rc)
		return rc;
	if (argc - first != 1)
		return cli_usage_error("export", argc - first ? "too many arguments" : "missing DEF");
	if (strcmp(a.format, "pem") && strcmp(a.format, "der") && strcmp(a.format, "p7b") &&
	    strcmp(a.format, "p12") && strcmp(a.format, "jks"))
		return cli_usage_error("export", "--format is pem, der, p7b, p12 or jks");
	keyed = a.with_key || !strcmp(a.format, "p12") || !strcmp(a.format, "jks");
	if (a.with_key && (!strcmp(a.format, "der") || !strcmp(a.format, "p7b")))
		return cli_usage_error("export", "--with-key goes with pem, p12 or jks");
	if (!a.out && (keyed || !strcmp(a.format, "der")))
		return cli_usage_error("export", "give --out for %s", keyed ? "a private key" :
				       "binary output");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_definition_ref_check(argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (!cc_definition_exists(repo, argv[first])) {
		rc = cli_error("no definition '%s'", argv[first]);
		goto done;
	}
	if (cc_cert_current(&cert, &chain, &nchain, repo, argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (keyed) {
		if (cc_cert_current_id(&cert_id, repo, argv[first]) < 0 ||
		    cc_cert_key_id(&key_id, repo, argv[first], cert_id) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		if (!key_id) {
			rc = cli_error("%s: the current certificate has no stored key (monitored or "
				       "imported without one); export it without the key", argv[first]);
			goto done;
		}
		if (cc_key_load(&key, repo, key_id) < 0) {
			rc = cli_lib_error();
			goto done;
		}
	}
	if ((!strcmp(a.format, "p12") || !strcmp(a.format, "jks")) &&
	    (rc = cli_passphrase(&pass, a.pass_file, "CERTCTL_EXPORT_PASSPHRASE", 1)))
		goto done;
	if (!strcmp(a.format, "pem") && a.out && is_dir(a.out)) {
		rc = pem_pieces(&a, cert, chain, nchain, key);
		goto done;
	}
	if (a.out && (rc = cli_output_check(a.out, a.force)))
		goto done;
	if (!strcmp(a.format, "pem")) {
		rc = cc_cert_pem(cert, &out);
		for (size_t i = 0; a.fullchain && i < nchain && rc == 0; i++)
			rc = cc_cert_pem(chain[i], &out);
		if (rc == 0 && key)
			rc = cc_key_export_pem(key, NULL, &out);
	} else if (!strcmp(a.format, "der")) {
		if (a.fullchain) {
			rc = cli_error("DER holds one certificate; use --format p7b for the chain");
			goto done;
		}
		rc = cc_cert_der(cert, &out);
	} else if (!strcmp(a.format, "p7b")) {
		cc_cert **all = calloc(nchain + 1, sizeof(*all));

		if (!all) {
			rc = cli_error("out of memory");
			goto done;
		}
		all[0] = cert;
		for (size_t i = 0; i < nchain; i++)
			all[i + 1] = chain[i];
		/* A P7B carries the chain: that is what it is for. */
		rc = cc_p7b_build(&out, all, nchain + 1, !a.out || !strcmp(a.out, "-") || ends_with(a.out, ".pem"));
		free(all);
	} else if (!strcmp(a.format, "p12")) {
		rc = cc_pkcs12_build(&out, key, cert, chain, nchain, pass,
				     a.alias ? a.alias : argv[first]);
	} else {
		rc = cc_jks_write(&out, a.alias ? a.alias : argv[first], key, cert, chain, nchain, pass);
	}
	if (rc < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cli_write_file(a.out ? a.out : "-", out.ptr, out.size, key ? 0600 : 0644, a.force);
done:
	cc_buf_dispose_secure(&out);
	cc_secret_free(pass);
	cc_key_free(key);
	free(key_id);
	free(cert_id);
	cc_cert_free(cert);
	cc_cert_list_free(chain, nchain);
	cc_repo_free(repo);
	return rc;
}
