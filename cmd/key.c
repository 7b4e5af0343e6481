/*
 * certctl key: the private keys of the repository — list, show, generate,
 * import and export (for disaster recovery), and rotate-secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

static cc_json *info_json(const cc_key_info *info)
{
	cc_json *obj = cc_json_object();
	char spec[32];

	cc_key_spec_format(&info->spec, spec, sizeof(spec));
	cc_json_set_str(obj, "id", info->id);
	cc_json_set_str(obj, "type", spec);
	cc_json_set_str(obj, "fingerprint_sha256", info->fingerprint);
	cc_json_set_str(obj, "created", info->created);
	cc_json_set_str(obj, "origin", info->origin);
	return obj;
}

/* Print a key as key show, generate and import print it: certctl.key/1 with
 * one record (certctl-json(7) "key"), its public key included. */
static int print_key_json(const cc_key_info *info, const char *public_pem)
{
	cc_json *out = cc_json_object(), *obj = info_json(info);

	cc_json_set_str(obj, "public_key_pem", public_pem);
	cc_json_set_str(out, "schema", "certctl.key/1");
	cc_json_set(out, "key", obj);
	return cli_print_json(out);
}

static int key_list(int argc, char **argv)
{
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_key_info *infos = NULL;
	size_t count = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the keys as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl key list [--json]",
			    "List the private keys of the repository (no secret needed).", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("key list", "unexpected argument '%s'", argv[first]);
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_key_info_list(repo, &infos, &count) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		for (size_t i = 0; i < count; i++)
			cc_json_append(arr, info_json(&infos[i]));
		cc_json_set_str(out, "schema", "certctl.keys/1");
		cc_json_set(out, "keys", arr);
		rc = cli_print_json(out);
	} else {
		for (size_t i = 0; i < count; i++) {
			char spec[32];

			cc_key_spec_format(&infos[i].spec, spec, sizeof(spec));
			printf("%s %-12s %s %s\n", infos[i].id, spec,
			       infos[i].created ? infos[i].created : "-",
			       infos[i].origin ? infos[i].origin : "-");
		}
	}
done:
	cc_key_info_list_free(infos, count);
	cc_repo_free(repo);
	return rc;
}

static int key_show(int argc, char **argv)
{
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_key *key = NULL;
	cc_key_info info;
	cc_buf pem = CC_BUF_INIT;
	char spec[32];
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the key as JSON"),
		OPT_DONE(),
	};

	memset(&info, 0, sizeof(info));
	if ((rc = cli_parse(argc, argv, options, "certctl key show ID [--json]",
			    "Show a key: type, fingerprint and public key. ID may be a unique "
			    "prefix.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("key show", argc - first ? "too many arguments" : "missing ID");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_key_info_load(&info, repo, argv[first]) < 0 ||
	    cc_key_load(&key, repo, info.id) < 0 || cc_key_public_pem(key, &pem) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	cc_key_spec_format(&info.spec, spec, sizeof(spec));
	if (json) {
		rc = print_key_json(&info, pem.ptr);
	} else {
		printf("id:          %s\ntype:        %s\nfingerprint: SHA256:%s\ncreated:     %s\n"
		       "origin:      %s\n%s", info.id, spec, info.fingerprint,
		       info.created ? info.created : "-", info.origin ? info.origin : "-", pem.ptr);
	}
done:
	cc_buf_dispose(&pem);
	cc_key_free(key);
	cc_key_info_dispose(&info);
	cc_repo_free(repo);
	return rc;
}

/* Store `key` in one commit; prints its id, or with `json` the key record. */
static int store_key(cc_repo *repo, cc_key *key, const char *origin, const char *verb, int json)
{
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT, pem = CC_BUF_INIT;
	cc_key_info info;
	int rc;

	memset(&info, 0, sizeof(info));
	cc_buf_printf(&summary, "key: %s: %s", cc_key_id(key), verb);
	if (cc_txn_begin(&txn, repo, "key") < 0 || cc_key_store(txn, key, origin) < 0 ||
	    cc_txn_trailer(txn, "Certctl-Key", cc_key_id(key)) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cc_txn_commit(txn, summary.ptr, strcmp(origin, "generated") ? origin : NULL);
	txn = NULL;
	if (rc < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		if (cc_key_info_load(&info, repo, cc_key_id(key)) < 0 ||
		    cc_key_public_pem(key, &pem) < 0)
			rc = cli_lib_error();
		else
			rc = print_key_json(&info, pem.ptr);
	} else {
		printf("%s\n", cc_key_id(key));
		rc = EXIT_OK;
	}
done:
	cc_txn_abort(txn);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&pem);
	cc_key_info_dispose(&info);
	return rc;
}

static int key_generate(int argc, char **argv)
{
	const char *spec_text = NULL;
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_key *key = NULL;
	cc_key_spec spec;
	const struct cli_opt options[] = {
		OPT_STR(0, "key", &spec_text, "SPEC",
			"rsa[:2048|3072|4096], ecdsa[:P-256|P-384], ed25519 (default: defaults.key)"),
		OPT_BOOL(0, "json", &json, "print the new key as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl key generate [--key SPEC] [--json]",
			    "Generate a key and store it encrypted; prints its id.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("key generate", "unexpected argument '%s'", argv[first]);
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (!spec_text) {
		cc_setting st;

		if (cc_setting_get(&st, repo, "defaults.key") < 0) {
			rc = cli_lib_error();
			goto done;
		}
		spec_text = st.value;
	}
	if (cc_key_spec_parse(&spec, spec_text) < 0 ||
	    cc_repo_unlock(repo) < 0 || cc_key_generate(&key, &spec) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = store_key(repo, key, "generated", "generated", json);
done:
	cc_key_free(key);
	cc_repo_free(repo);
	return rc;
}

static int key_import(int argc, char **argv)
{
	const char *pass_file = NULL;
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_key *key = NULL;
	cc_secret *pass = NULL;
	cc_buf data = CC_BUF_INIT, origin = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "passphrase-file", &pass_file, "FILE",
			"passphrase of an encrypted key (else $CERTCTL_IMPORT_PASSPHRASE[_FILE])"),
		OPT_BOOL(0, "json", &json, "print the imported key as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl key import FILE [--passphrase-file FILE] [--json]",
			    "Import a private key (PEM PKCS#1, SEC1 or PKCS#8, encrypted or not, or "
			    "DER) and store it encrypted; prints its id.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("key import", argc - first ? "too many arguments"
								  : "missing FILE");
	if ((rc = cli_read_file(argv[first], 1024 * 1024, &data)) ||
	    (rc = cli_passphrase(&pass, pass_file, "CERTCTL_IMPORT_PASSPHRASE", 0)))
		goto done;
	if ((rc = cli_open_repo(&repo)))
		goto done;
	if (cc_key_parse(&key, data.ptr, data.size, pass, argv[first]) < 0 ||
	    cc_repo_unlock(repo) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	{
		/* The file's name only: a local path means nothing to teammates. */
		const char *base = strrchr(argv[first], '/');

		cc_buf_printf(&origin, "imported from '%s'", base ? base + 1 : argv[first]);
	}
	rc = store_key(repo, key, origin.ptr, "imported", json);
done:
	cc_buf_dispose_secure(&data);
	cc_buf_dispose(&origin);
	cc_secret_free(pass);
	cc_key_free(key);
	cc_repo_free(repo);
	return rc;
}

static int key_export(int argc, char **argv)
{
	const char *out_path = NULL, *pass_file = NULL;
	int encrypt = 0, force = 0, first, rc;
	cc_repo *repo = NULL;
	cc_key *key = NULL;
	cc_secret *pass = NULL;
	cc_buf pem = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR('o', "out", &out_path, "FILE", "write the key to FILE (0600)"),
		OPT_BOOL(0, "encrypt", &encrypt, "encrypt it (AES-256, scrypt) under a passphrase"),
		OPT_STR(0, "passphrase-file", &pass_file, "FILE",
			"the passphrase for --encrypt (else $CERTCTL_EXPORT_PASSPHRASE[_FILE])"),
		OPT_BOOL('f', "force", &force, "overwrite FILE"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl key export ID --out FILE [--encrypt [--passphrase-file FILE]] "
			    "[--force]",
			    "Export a private key as PKCS#8 PEM for disaster recovery: in clear "
			    "text, or encrypted under a passphrase of your choice.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("key export", argc - first ? "too many arguments" : "missing ID");
	if (!out_path)
		return cli_usage_error("key export", "--out FILE is required (keys are not printed)");
	if (pass_file && !encrypt)
		return cli_usage_error("key export", "--passphrase-file needs --encrypt");
	if (encrypt && (rc = cli_passphrase(&pass, pass_file, "CERTCTL_EXPORT_PASSPHRASE", 1)))
		goto done;
	if ((rc = cli_open_repo(&repo)))
		goto done;
	if (cc_key_load(&key, repo, argv[first]) < 0 || cc_key_export_pem(key, pass, &pem) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if ((rc = cli_write_file(out_path, pem.ptr, pem.size, 0600, force)))
		goto done;
	cli_info("key %s exported to %s (%s)\n", cc_key_id(key), out_path,
		 encrypt ? "encrypted" : "clear text: keep it safe");
	rc = EXIT_OK;
done:
	cc_buf_dispose_secure(&pem);
	cc_secret_free(pass);
	cc_key_free(key);
	cc_repo_free(repo);
	return rc;
}

static int key_rotate_secret(int argc, char **argv)
{
	int json = 0, first, rc = 0;
	cc_repo *repo = NULL;
	char *path = NULL;
	size_t count = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the outcome as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl key rotate-secret [--json]",
			    "Re-encrypt every key under a new repository secret, in one commit. "
			    "The new secret comes from $CERTCTL_NEW_PASSPHRASE_FILE or "
			    "$CERTCTL_NEW_PASSPHRASE, else it is random and replaces the secret "
			    "file. The current secret is read as usual.",
			    &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("key rotate-secret", "unexpected argument '%s'", argv[first]);
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_key_rotate_secret(repo, &count, &path) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.key-rotate-secret/1");
		cc_json_set_int(out, "keys", (long long)count);
		cc_json_set_str(out, "secret_file", path);
		rc = cli_print_json(out);
	} else if (path) {
		printf("%zu key%s re-encrypted; the new secret is in %s (copy it wherever the old "
		       "one was kept)\n", count, count == 1 ? "" : "s", path);
	} else {
		printf("%zu key%s re-encrypted under the new passphrase; set it as "
		       "CERTCTL_PASSPHRASE[_FILE] from now on\n", count, count == 1 ? "" : "s");
	}
done:
	free(path);
	cc_repo_free(repo);
	return rc;
}

static const struct cli_verb verbs[] = {
	{ "list", key_list, "list the keys" },
	{ "show", key_show, "show a key's type, fingerprint and public key" },
	{ "generate", key_generate, "generate a key" },
	{ "import", key_import, "import a key from a PEM or DER file" },
	{ "export", key_export, "export a key (disaster recovery)" },
	{ "rotate-secret", key_rotate_secret, "re-encrypt every key under a new repository secret" },
};

int cmd_key(int argc, char **argv)
{
	return cli_dispatch("key", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
