/*
 * certctl trust: the trusted CA sets that received and checked
 * certificates are verified against.
 */
#include <string.h>
#include "cli.h"

static int trust_add(int argc, char **argv)
{
	const char *set = NULL;
	char def[129];
	int first, rc, anchor = 0;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_cert **certs = NULL;
	size_t n = 0, added = 0;
	cc_buf data = CC_BUF_INIT, summary = CC_BUF_INIT, report = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: the default set)"),
		OPT_BOOL(0, "anchor", &anchor, "trust intermediate CAs as anchors: paths end at them"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust add FILE... [--set NAME] [--anchor]",
			    "Add the CA certificates in FILEs (PEM, DER or P7B) to a trust set; one "
			    "commit.", &first)))
		return rc;
	if (first >= argc)
		return cli_usage_error("trust add", "missing FILE");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (!set)
		set = cc_trust_default(repo, def);
	if (cc_txn_begin(&txn, repo, "trust add") < 0) {
		rc = cli_lib_error();
		goto done;
	}
	for (int i = first; i < argc; i++) {
		cc_buf_clear(&data);
		if ((rc = cli_read_file(argv[i], 16 << 20, &data)))
			goto done;
		if (cc_cert_parse_all(&certs, &n, data.ptr, data.size, argv[i]) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		for (size_t k = 0; k < n; k++) {
			if (cc_trust_add(txn, set, certs[k], anchor) < 0) {
				rc = cli_error("%s: %s", argv[i], cc_error_last());
				goto done;
			}
			cc_buf_printf(&report, "%s: %s added to trust set '%s'%s\n",
				      cc_cert_id(certs[k]), cc_cert_subject(certs[k]), set,
				      anchor && !cc_cert_is_self_signed(certs[k]) ? " as an anchor" : "");
			added++;
		}
		cc_cert_list_free(certs, n);
		certs = NULL;
		n = 0;
	}
	cc_buf_printf(&summary, "trust add: %zu CA certificate(s) to set '%s'", added, set);
	if (cc_txn_trailer(txn, "Certctl-Trust-Set", set) < 0 ||
	    cc_txn_commit(txn, summary.ptr, NULL) < 0) {
		txn = NULL;
		rc = cli_lib_error();
		goto done;
	}
	txn = NULL;
	cli_info("%s", cc_buf_cstr(&report)); /* only once it is committed */
done:
	cc_txn_abort(txn);
	cc_cert_list_free(certs, n);
	cc_buf_dispose(&data);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&report);
	cc_repo_free(repo);
	return rc;
}

static int trust_list(int argc, char **argv)
{
	const char *set = NULL;
	char def[129];
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_strlist ids = CC_STRLIST_INIT, anchors = CC_STRLIST_INIT;
	const char *bundle;
	cc_json *out = NULL, *arr = NULL;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: the default set)"),
		OPT_BOOL(0, "json", &json, "print the set as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust list [--set NAME] [--json]",
			    "List a trust set: its bundle file and the CAs stored in the "
			    "repository (the repository's own CAs are trusted in every set).",
			    &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("trust list", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (!set)
		set = cc_trust_default(repo, def);
	if (cc_trust_list(repo, set, &ids) < 0 || cc_trust_anchors(repo, set, &anchors) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	{
		cc_trust_info info;

		bundle = cc_trust_bundle(repo, set);
		if (cc_trust_info_load(repo, set, &info) == 0 && info.has_record) {
			static char recorded[4096];

			snprintf(recorded, sizeof(recorded), "%s", info.bundle ? info.bundle : "");
			bundle = *recorded ? recorded : NULL;
		}
		cc_error_clear();
		cc_trust_info_dispose(&info);
	}
	if (json) {
		out = cc_json_object();
		arr = cc_json_array();
		cc_json_set_str(out, "schema", "certctl.trust/1");
		cc_json_set_str(out, "set", set);
		cc_json_set_str(out, "bundle", bundle);
	} else {
		printf("trust set '%s': bundle %s\n", set, bundle ? bundle : "(none)");
	}
	for (size_t i = 0; i < ids.count; i++) {
		cc_buf rel = CC_BUF_INIT, data = CC_BUF_INIT;
		cc_cert *cert = NULL;

		cc_buf_printf(&rel, "trust/%s/%s.pem", set, ids.items[i]);
		if (cc_repo_read(repo, rel.ptr, &data) < 0 ||
		    cc_cert_parse(&cert, data.ptr, data.size, rel.ptr) < 0) {
			cc_buf_dispose(&rel);
			cc_buf_dispose(&data);
			rc = cli_lib_error();
			goto done;
		}
		if (json)
			cc_json_append(arr, cc_cert_to_json(cert));
		else
			printf("  %s  %s%s\n", cc_cert_id(cert), cc_cert_subject(cert),
			       cc_strlist_contains(&anchors, ids.items[i]) ? "  (anchor)" : "");
		cc_cert_free(cert);
		cc_buf_dispose(&rel);
		cc_buf_dispose(&data);
	}
	if (json) {
		cc_json *a = cc_json_array();

		for (size_t i = 0; a && i < anchors.count; i++)
			cc_json_append_str(a, anchors.items[i]);
		cc_json_set(out, "certificates", arr);
		cc_json_set(out, "anchors", a);
		arr = NULL;
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		out = NULL;
	}
done:
	cc_json_free(arr);
	cc_json_free(out);
	cc_strlist_dispose(&ids);
	cc_strlist_dispose(&anchors);
	cc_repo_free(repo);
	return rc;
}

static int trust_rm(int argc, char **argv)
{
	const char *set = NULL;
	char def[129];
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: the default set)"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust rm ID [--set NAME]",
			    "Remove CA certificate ID from a trust set; one commit.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("trust rm", argc - first ? "too many arguments" : "missing ID");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (!set)
		set = cc_trust_default(repo, def);
	cc_buf_printf(&summary, "trust rm: %s from set '%s'", argv[first], set);
	if (cc_txn_begin(&txn, repo, "trust rm") < 0 || cc_trust_remove(txn, set, argv[first]) < 0 ||
	    cc_txn_trailer(txn, "Certctl-Trust-Set", set) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL) < 0 ? cli_lib_error() : 0;
	txn = NULL;
done:
	cc_txn_abort(txn);
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

/* One commit of a trust change, with the set as a trailer. */
static int commit_trust(cc_txn *txn, const char *set, const char *summary)
{
	if (cc_txn_trailer(txn, "Certctl-Trust-Set", set) < 0 ||
	    cc_txn_commit(txn, summary, NULL) < 0)
		return cli_lib_error();
	return 0;
}

static int trust_create(int argc, char **argv)
{
	const char *bundle = NULL;
	int no_bundle = 0, first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	size_t count = 0;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "bundle", &bundle, "FILE", "its system-defined CAs (default: the system's "
			"CA bundle)"),
		OPT_BOOL(0, "no-bundle", &no_bundle, "no system-defined CAs: only those added"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust create NAME [--bundle FILE | "
			    "--no-bundle]", "Create a trust set, recording its bundle file's "
			    "SHA-256 and CAs; one commit.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("trust create", argc - first ? "too many arguments" :
				       "missing NAME");
	if (bundle && no_bundle)
		return cli_usage_error("trust create", "--bundle and --no-bundle exclude each other");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_txn_begin(&txn, repo, "trust create") < 0 ||
	    cc_trust_create(txn, argv[first], no_bundle ? "" : bundle, &count) < 0) {
		cc_txn_abort(txn);
		rc = cli_lib_error();
		goto done;
	}
	cc_buf_printf(&summary, "trust create: set '%s' with %zu CAs from %s", argv[first], count,
		      no_bundle ? "no bundle" : bundle ? bundle : "the system's bundle");
	if ((rc = commit_trust(txn, argv[first], summary.ptr)) == 0)
		cli_info("%s\n", summary.ptr + strlen("trust create: "));
done:
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

static int trust_merge(int argc, char **argv)
{
	const char *set = NULL, *bundle = NULL;
	char def[129];
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_strlist added = CC_STRLIST_INIT, removed = CC_STRLIST_INIT;
	size_t count = 0;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: the default set)"),
		OPT_STR(0, "bundle", &bundle, "FILE", "change the set's bundle file"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl trust merge [--set NAME] [--bundle FILE]",
			    "Take the set's bundle file as it is now (after a system update): "
			    "record its SHA-256 and CAs, show what changed; one commit.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("trust merge", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (!set)
		set = cc_trust_default(repo, def);
	if (cc_txn_begin(&txn, repo, "trust merge") < 0 ||
	    cc_trust_merge(txn, set, bundle, &added, &removed, &count) < 0) {
		cc_txn_abort(txn);
		rc = cli_lib_error();
		goto done;
	}
	cc_buf_printf(&summary, "trust merge: set '%s': %zu CAs, %zu added, %zu removed", set, count,
		      added.count, removed.count);
	if ((rc = commit_trust(txn, set, summary.ptr)))
		goto done;
	for (size_t i = 0; i < added.count; i++)
		cli_info("+ %s\n", added.items[i]);
	for (size_t i = 0; i < removed.count; i++)
		cli_info("- the CA with SHA-256 %s\n", removed.items[i]);
	cli_info("%s\n", summary.ptr + strlen("trust merge: "));
done:
	cc_strlist_dispose(&added);
	cc_strlist_dispose(&removed);
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

static int trust_show(int argc, char **argv)
{
	const char *set = NULL;
	char def[129];
	int json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_trust_info info;
	const struct cli_opt options[] = {
		OPT_STR(0, "set", &set, "NAME", "the trust set (default: the default set)"),
		OPT_BOOL(0, "json", &json, "print the set as JSON"),
		OPT_DONE(),
	};

	memset(&info, 0, sizeof(info));
	if ((rc = cli_parse(argc, argv, options, "certctl trust show [--set NAME] [--json]",
			    "Show a trust set: its bundle (and whether it changed since it was "
			    "merged) and the CAs stored in the repository.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("trust show", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (!set)
		set = cc_trust_default(repo, def);
	if (cc_trust_info_load(repo, set, &info) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		cc_json *out = cc_json_object(), *cas = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.trust-set/1");
		cc_json_set_str(out, "set", info.set);
		cc_json_set_bool(out, "default", info.is_default);
		cc_json_set_bool(out, "recorded", info.has_record);
		cc_json_set_str(out, "bundle", info.bundle && *info.bundle ? info.bundle : NULL);
		cc_json_set_str(out, "bundle_sha256", info.recorded_sha256);
		cc_json_set_str(out, "bundle_sha256_now", info.current_sha256);
		cc_json_set_bool(out, "bundle_changed", info.bundle_changed);
		cc_json_set_int(out, "bundle_cas", (long long)info.fingerprints.count);
		cc_json_set_str(out, "merged", info.merged);
		for (size_t i = 0; i < info.user_cas.count; i++)
			cc_json_append_str(cas, info.user_cas.items[i]);
		cc_json_set(out, "user_cas", cas);
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		goto done;
	}
	printf("trust set:  %s%s\n", info.set, info.is_default ? " (default)" : "");
	printf("bundle:     %s\n", info.bundle && *info.bundle ? info.bundle : "(none)");
	if (info.has_record) {
		printf("merged:     %s, %zu CAs, SHA-256 %s\n", info.merged ? info.merged : "?",
		       info.fingerprints.count, info.recorded_sha256 ? info.recorded_sha256 : "-");
		if (info.bundle_changed)
			printf("            the bundle changed since: run 'certctl trust merge "
			       "--set %s'\n", info.set);
	} else {
		printf("merged:     never (the bundle is used as it is; 'certctl trust merge' "
		       "records it)\n");
	}
	printf("user CAs:   %zu (certctl trust list --set %s)\n", info.user_cas.count, info.set);
	printf("and the repository's own CAs\n");
done:
	cc_trust_info_dispose(&info);
	cc_repo_free(repo);
	return rc;
}

static int trust_sets(int argc, char **argv)
{
	int first, rc;
	cc_repo *repo = NULL;
	cc_strlist sets = CC_STRLIST_INIT;
	const struct cli_opt options[] = { OPT_DONE() };

	if ((rc = cli_parse(argc, argv, options, "certctl trust sets",
			    "List the trust sets; * marks the default.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("trust sets", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_trust_sets(repo, &sets) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	for (size_t i = 0; i < sets.count; i++) {
		cc_trust_info info;

		if (cc_trust_info_load(repo, sets.items[i], &info) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		printf("%c %-20s %-40s %zu user CA%s%s\n", info.is_default ? '*' : ' ', info.set,
		       info.bundle && *info.bundle ? info.bundle : "(no bundle)",
		       info.user_cas.count, info.user_cas.count == 1 ? "" : "s",
		       info.bundle_changed ? "  bundle changed: merge" : "");
		cc_trust_info_dispose(&info);
	}
done:
	cc_strlist_dispose(&sets);
	cc_repo_free(repo);
	return rc;
}

static int trust_default(int argc, char **argv)
{
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	char def[129];
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = { OPT_DONE() };

	if ((rc = cli_parse(argc, argv, options, "certctl trust default [NAME]",
			    "Show the default trust set, or make NAME the default; one commit.",
			    &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("trust default", "too many arguments");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (first == argc) {
		printf("%s\n", cc_trust_default(repo, def));
		goto done;
	}
	cc_buf_printf(&summary, "trust default: set '%s' is the default", argv[first]);
	if (cc_txn_begin(&txn, repo, "trust default") < 0 ||
	    cc_trust_set_default(txn, argv[first]) < 0) {
		cc_txn_abort(txn);
		rc = cli_lib_error();
		goto done;
	}
	rc = commit_trust(txn, argv[first], summary.ptr);
done:
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

static int trust_delete(int argc, char **argv)
{
	int first, rc;
	cc_repo *repo = NULL;
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	const struct cli_opt options[] = { OPT_DONE() };

	if ((rc = cli_parse(argc, argv, options, "certctl trust delete NAME",
			    "Delete a trust set (its record and CAs); not the default, not one a "
			    "definition uses; one commit.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("trust delete", argc - first ? "too many arguments" :
				       "missing NAME");
	if ((rc = cli_open_repo(&repo)))
		return rc;
	cc_buf_printf(&summary, "trust delete: set '%s'", argv[first]);
	if (cc_txn_begin(&txn, repo, "trust delete") < 0 || cc_trust_delete(txn, argv[first]) < 0) {
		cc_txn_abort(txn);
		rc = cli_lib_error();
		goto done;
	}
	rc = commit_trust(txn, argv[first], summary.ptr);
done:
	cc_buf_dispose(&summary);
	cc_repo_free(repo);
	return rc;
}

static const struct cli_verb verbs[] = {
	{ "add", trust_add, "add CA certificates to a trust set" },
	{ "list", trust_list, "list a trust set's CAs" },
	{ "rm", trust_rm, "remove a CA certificate from a trust set" },
	{ "create", trust_create, "create a trust set (with a bundle file, or none)" },
	{ "merge", trust_merge, "take a changed bundle file into its set" },
	{ "show", trust_show, "show a trust set and whether its bundle changed" },
	{ "sets", trust_sets, "list the trust sets" },
	{ "default", trust_default, "show or set the default trust set" },
	{ "delete", trust_delete, "delete a trust set" },
};

int cmd_trust(int argc, char **argv)
{
	return cli_dispatch("trust", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
