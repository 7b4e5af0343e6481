/*
 * certctl inspect: what a certificate, key or keystore file holds, without
 * touching any repository.
 */
#include <string.h>
#include <unistd.h>
#include "cli.h"

static void print_cert(const cc_cert *cert, size_t index, const char *role)
{
	cc_strlist sans = CC_STRLIST_INIT;
	cc_key_spec spec;
	char from[32], until[32], key[32];

	cc_time_rfc3339(cc_cert_not_before(cert), from);
	cc_time_rfc3339(cc_cert_not_after(cert), until);
	cc_cert_key_spec(cert, &spec);
	cc_key_spec_format(&spec, key, sizeof(key));
	cc_cert_sans(cert, &sans);
	printf("  [%zu] %s\n", index, role);
	printf("      subject   %s\n", cc_cert_subject(cert));
	printf("      issuer    %s\n", cc_cert_issuer(cert));
	if (sans.count) {
		printf("      names    ");
		for (size_t i = 0; i < sans.count; i++)
			printf(" %s", sans.items[i]);
		printf("\n");
	}
	printf("      key       %s, SHA-256 %s\n", key, cc_cert_key_fingerprint(cert));
	printf("      valid     %s .. %s\n", from, until);
	printf("      serial    %s\n", cc_cert_serial(cert));
	printf("      SHA-256   %s\n", cc_cert_sha256(cert));
	printf("      SHA-1     %s\n", cc_cert_sha1(cert));
	cc_strlist_dispose(&sans);
}

/* What the certificate at `i` is, seen from the others in the file. */
static const char *role_of(const cc_bundle *b, size_t i)
{
	const cc_cert *c = b->certs[i];

	if (i >= b->ncerts - b->ntrusted)
		return "trusted certificate entry";
	if (b->key && cc_cert_matches_key(c, b->key))
		return "certificate of the private key";
	if (cc_cert_is_self_signed(c))
		return cc_cert_is_ca(c) ? "root CA (self-signed)" : "self-signed certificate";
	if (cc_cert_is_ca(c))
		return "intermediate CA";
	return "certificate";
}

static int inspect_file(const char *path, const cc_secret *pass, const cc_secret *key_pass,
			const char *sni, cc_json *files)
{
	cc_buf data = CC_BUF_INIT;
	cc_bundle b;
	char host[256];
	unsigned port;
	int rc;

	memset(&b, 0, sizeof(b));
	if (access(path, F_OK) != 0 && cc_hostport_parse(path, host, sizeof(host), &port) == 0) {
		/* A server: the chain it presents, in its order. */
		if (cc_tls_fetch_chain(host, port, sni ? sni : host, 10000, &b.certs, &b.ncerts) < 0)
			return cli_lib_error();
		b.format = "tls";
	} else {
		cc_error_clear();
		if ((rc = cli_read_file(path, 16 << 20, &data)))
			return rc;
		rc = cc_bundle_read(&b, data.ptr, data.size, pass, key_pass, path);
		cc_buf_dispose_secure(&data);
		if (rc < 0)
			return cli_lib_error();
	}
	if (files) {
		cc_json *f = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(f, "file", path);
		cc_json_set_str(f, "format", b.format);
		cc_json_set_str(f, "alias", b.alias);
		if (b.key) {
			cc_json *k = cc_json_object();
			cc_key_spec spec;
			char text[32];

			cc_key_get_spec(b.key, &spec);
			cc_key_spec_format(&spec, text, sizeof(text));
			cc_json_set_str(k, "type", text);
			cc_json_set_str(k, "fingerprint", cc_key_fingerprint(b.key));
			cc_json_set(f, "key", k);
		} else {
			cc_json_set(f, "key", cc_json_null());
		}
		for (size_t i = 0; i < b.ncerts; i++) {
			cc_json *c = cc_cert_to_json(b.certs[i]);

			cc_json_set_str(c, "role", role_of(&b, i));
			cc_json_append(arr, c);
		}
		cc_json_set(f, "certificates", arr);
		cc_json_append(files, f);
	} else {
		printf("%s: %s", path, b.format);
		if (b.alias)
			printf(", alias '%s'", b.alias);
		printf(", %zu certificate%s%s\n", b.ncerts, b.ncerts == 1 ? "" : "s",
		       b.key ? ", a private key" : "");
		if (b.key) {
			cc_key_spec spec;
			char text[32];
			int matched = 0;

			cc_key_get_spec(b.key, &spec);
			cc_key_spec_format(&spec, text, sizeof(text));
			for (size_t i = 0; i < b.ncerts; i++)
				matched |= cc_cert_matches_key(b.certs[i], b.key);
			printf("  private key %s, SHA-256 %s%s\n", text, cc_key_fingerprint(b.key),
			       b.ncerts && !matched ? " (matches none of the certificates)" : "");
		}
		for (size_t i = 0; i < b.ncerts; i++)
			print_cert(b.certs[i], i, role_of(&b, i));
		/* Chain order: each certificate should be issued by the next. */
		for (size_t i = 0; i + 1 < b.ncerts - b.ntrusted; i++)
			if (!cc_cert_issued_by(b.certs[i], b.certs[i + 1]))
				printf("  note: [%zu] is not issued by [%zu] (out of order or "
				       "unrelated)\n", i, i + 1);
	}
	cc_bundle_dispose(&b);
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	const char *pass_file = NULL, *sni = NULL, *key_pass_file = NULL;
	int json = 0, first, rc = 0;
	cc_secret *pass = NULL, *key_pass = NULL;
	cc_json *files = NULL;
	const struct cli_opt options[] = {
		OPT_STR(0, "passphrase-file", &pass_file, "FILE", "password of encrypted keys and "
			"keystores (else $CERTCTL_IMPORT_PASSPHRASE[_FILE])"),
		OPT_STR(0, "key-passphrase-file", &key_pass_file, "FILE", "a JKS or JCEKS key "
			"entry's own password, when it differs"),
		OPT_STR(0, "sni", &sni, "NAME", "the server name to ask a HOST:PORT for (default: "
			"HOST)"),
		OPT_BOOL(0, "json", &json, "print what the files hold as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl inspect FILE|HOST:PORT... [--passphrase-file F] [--sni NAME]",
			    "Show what certificate, key and keystore files hold (PEM, DER, P7B, "
			    "PKCS#12, JKS), or what a TLS server presents: subjects, issuers, names, "
			    "keys, validity, fingerprints and chain order. Changes nothing.", &first)))
		return rc;
	if (first >= argc)
		return cli_usage_error("inspect", "missing FILE");
	if ((rc = cli_passphrase(&pass, pass_file, "CERTCTL_IMPORT_PASSPHRASE", 0)) ||
	    (key_pass_file &&
	     (rc = cli_passphrase(&key_pass, key_pass_file, "CERTCTL_IMPORT_KEY_PASSPHRASE", 1)))) {
		cc_secret_free(pass);
		return rc;
	}
	if (json)
		files = cc_json_array();
	for (int i = first; i < argc && rc == 0; i++)
		rc = inspect_file(argv[i], pass, key_pass, sni, files);
	if (rc == 0 && files) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.inspect/1");
		cc_json_set(out, "files", files);
		files = NULL;
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
	}
	cc_json_free(files);
	cc_secret_free(pass);
	cc_secret_free(key_pass);
	return rc;
}
