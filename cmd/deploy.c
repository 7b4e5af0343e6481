/*
 * certctl deploy: install a definition's certificate on its targets, check
 * that the servers present it, and follow each target's state;
 * certctl deployments: list the deployment records.
 */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static void progress(const char *line, void *payload)
{
	int dry = *(const int *)payload;

	if (dry)
		printf("%s\n", line);
	else if (cli.verbose)
		fprintf(stderr, "certctl: %s\n", line);
}

static int target_failed(const cc_deployment *d)
{
	return d->state == CC_DEPLOY_FAILED;
}

static void print_record(const cc_deployment *d)
{
	printf("%-16s %-18s %s", d->target, cc_deploy_state_name(d->state),
	       d->cert ? d->cert : "-");
	if (d->state == CC_DEPLOY_FAILED && d->error)
		printf("  %s", d->error);
	else if (d->has_check && d->check.result && !strcmp(d->check.result, "ok"))
		printf("  %s:%u presents SHA-256 %s", d->check.host, d->check.port,
		       d->check.served_sha256);
	else if (d->state == CC_DEPLOY_INSTALL_REQUESTED && d->files.count)
		printf("  package %s", d->files.items[0]);
	else if (d->state == CC_DEPLOY_INSTALLED)
		printf("  (no deploy check configured)");
	printf("\n");
}

int cmd_deploy(int argc, char **argv)
{
	cc_strlist targets = CC_STRLIST_INIT;
	const char *cert = NULL, *note = NULL, *package_out = NULL, *pass_file = NULL;
	int check = 0, confirm = 0, rollback = 0, no_check = 0, dry = 0, json = 0, first, rc;
	unsigned long timeout = 10;
	cc_deploy_options opts = CC_DEPLOY_OPTIONS_INIT;
	cc_deployment **deps = NULL;
	size_t n = 0;
	cc_repo *repo = NULL;
	cc_secret *pass = NULL;
	const struct cli_opt options[] = {
		OPT_HEADING("what to do (default: install, reload and check)"),
		OPT_BOOL(0, "check", &check, "only run the deploy check (e.g. after an "
			 "administrator installed a package)"),
		OPT_BOOL(0, "confirm-manual", &confirm, "mark the targets checked by hand"),
		OPT_STR(0, "note", &note, "TEXT", "with --confirm-manual: what was checked"),
		OPT_BOOL(0, "rollback", &rollback, "install the previously deployed certificate "
			 "again"),
		OPT_STR(0, "package-out", &package_out, "FILE", "write the install package (tar.gz) "
			"for the target's administrator"),
		OPT_STR(0, "package-passphrase-file", &pass_file, "FILE", "passphrase that encrypts "
			"the key in the package (else $CERTCTL_PACKAGE_PASSPHRASE[_FILE])"),
		OPT_HEADING("options"),
		OPT_MULTI('t', "target", &targets, "T", "only target T (repeatable; default: all)"),
		OPT_STR(0, "cert", &cert, "ID", "install this stored certificate instead of the "
			"current one"),
		OPT_BOOL(0, "no-check", &no_check, "install without the deploy check"),
		OPT_NUM(0, "timeout", &timeout, "SECONDS", "deploy check time limit (default 10)"),
		OPT_BOOL('n', "dry-run", &dry, "say what would be written and run; change nothing"),
		OPT_BOOL(0, "json", &json, "print the deployment records as JSON"),
		OPT_DONE(),
	};

	rc = cli_parse(argc, argv, options,
		       "certctl deploy DEF[@PEER] [--target T]... [--cert ID] [--no-check] "
		       "[--timeout S] [--dry-run] [--json]\n"
		       "   or: certctl deploy DEF [--target T]... --check [--timeout S] [--json]\n"
		       "   or: certctl deploy DEF [--target T]... --confirm-manual [--note TEXT]\n"
		       "   or: certctl deploy DEF [--target T]... --rollback [--no-check] [--json]\n"
		       "   or: certctl deploy DEF [--target T] --package-out FILE [--cert ID]\n"
		       "       [--package-passphrase-file FILE]",
		       "Install a definition's certificate on its targets, reload the servers and "
		       "check that they present it; one commit per state change.", &first);
	if (rc)
		goto done;
	if (argc - first != 1) {
		rc = cli_usage_error("deploy", argc - first ? "too many arguments" : "missing DEF");
		goto done;
	}
	if (check + confirm + rollback + (package_out != NULL) > 1) {
		rc = cli_usage_error("deploy", "--check, --confirm-manual, --rollback and "
				     "--package-out go alone");
		goto done;
	}
	if (note && !confirm) {
		rc = cli_usage_error("deploy", "--note goes with --confirm-manual");
		goto done;
	}
	/* A dry run changes no record, so it has none to print: its lines only. */
	if (dry && json) {
		rc = cli_usage_error("deploy", "--dry-run and --json exclude each other");
		goto done;
	}
	if (cert && (check || confirm || rollback)) {
		rc = cli_usage_error("deploy", "--cert goes with a deploy or --package-out");
		goto done;
	}
	if (timeout < 1 || timeout > 300) {
		rc = cli_usage_error("deploy", "--timeout is 1 to 300 seconds");
		goto done;
	}
	if ((rc = cli_open_repo(&repo)))
		goto done;
	if (cc_definition_ref_check(argv[first]) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (package_out && targets.count > 1) {
		rc = cli_usage_error("deploy", "--package-out makes one package: name one --target");
		goto done;
	}
	/* A package needs its passphrase; a deploy needs one only when a
	 * target is a package, which the library says if it is missing. */
	if (!check && !confirm && !rollback &&
	    (rc = cli_passphrase(&pass, pass_file, "CERTCTL_PACKAGE_PASSPHRASE",
				 package_out != NULL && !dry)))
		goto done;
	opts.action = check ? CC_DEPLOY_CHECK : confirm ? CC_DEPLOY_CONFIRM :
		      rollback ? CC_DEPLOY_ROLLBACK : package_out ? CC_DEPLOY_PACKAGE :
		      CC_DEPLOY_INSTALL;
	opts.targets = &targets;
	opts.cert_id = cert;
	opts.no_check = no_check;
	opts.dry_run = dry;
	opts.note = note;
	opts.package_out = package_out;
	opts.package_passphrase = pass;
	opts.check_timeout_ms = (long)timeout * 1000;
	opts.progress = progress;
	opts.payload = &dry;
	if (package_out && !targets.count) {
		cc_definition *def = NULL;

		if (cc_definition_load(&def, repo, argv[first]) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		if (def->ntargets > 1) {
			rc = cli_usage_error("deploy", "%s has %zu targets: name one with --target",
					     argv[first], def->ntargets);
			cc_definition_free(def);
			goto done;
		}
		cc_definition_free(def);
	}
	if (cc_deploy(repo, argv[first], &opts, &deps, &n) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (dry)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (target_failed(deps[i]))
			rc = EXIT_FAIL;
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.deploy/1");
		cc_json_set_str(out, "definition", argv[first]);
		for (size_t i = 0; i < n; i++)
			cc_json_append(arr, cc_deployment_to_json(deps[i]));
		cc_json_set(out, "targets", arr);
		if (cli_print_json(out))
			rc = EXIT_FAIL;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (target_failed(deps[i]))
			fprintf(stderr, "certctl: %s: target '%s' failed: %s\n", argv[first],
				deps[i]->target, deps[i]->error ? deps[i]->error : "unknown error");
		if (!cli.quiet)
			print_record(deps[i]);
	}
done:
	cc_deployment_list_free(deps, n);
	cc_secret_free(pass);
	cc_strlist_dispose(&targets);
	cc_repo_free(repo);
	return rc;
}

int cmd_deployments(int argc, char **argv)
{
	int failed = 0, open_only = 0, json = 0, first, rc;
	cc_repo *repo = NULL;
	cc_deployment **all = NULL;
	size_t n = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "failed", &failed, "only targets whose last state is failed"),
		OPT_BOOL(0, "open", &open_only, "only deployments not confirmed yet"),
		OPT_BOOL(0, "json", &json, "print the records as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options,
			    "certctl deployments [DEF...] [--failed] [--open] [--json]",
			    "List the deployment processes: each target's state, certificate and "
			    "last deploy check.", &first)))
		return rc;
	if ((rc = cli_open_repo(&repo)))
		return rc;
	for (int a = first; a < argc || (a == first && first == argc); a++) {
		cc_deployment **some = NULL, **grown;
		size_t m = 0;

		if (a < argc && cc_name_check(argv[a], "definition") < 0) {
			rc = cli_lib_error();
			goto done;
		}
		if (a < argc && !cc_definition_exists(repo, argv[a])) {
			rc = cli_error("no definition '%s'", argv[a]);
			goto done;
		}
		if (cc_deployment_list(&some, &m, repo, a < argc ? argv[a] : NULL) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		if (!(grown = realloc(all, (n + m + 1) * sizeof(*all)))) {
			cc_deployment_list_free(some, m);
			rc = cli_error("out of memory");
			goto done;
		}
		all = grown;
		memcpy(all + n, some, m * sizeof(*some));
		n += m;
		free(some);
		if (first == argc)
			break;
	}
	if (json) {
		cc_json *out = cc_json_object(), *arr = cc_json_array();

		cc_json_set_str(out, "schema", "certctl.deployments/1");
		for (size_t i = 0; i < n; i++) {
			if ((failed && all[i]->state != CC_DEPLOY_FAILED) ||
			    (open_only && cc_deploy_state_done(all[i]->state)))
				continue;
			cc_json_append(arr, cc_deployment_to_json(all[i]));
		}
		cc_json_set(out, "deployments", arr);
		rc = cli_print_json(out) ? EXIT_FAIL : EXIT_OK;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const cc_deployment *d = all[i];

		if ((failed && d->state != CC_DEPLOY_FAILED) ||
		    (open_only && cc_deploy_state_done(d->state)))
			continue;
		printf("%-24s %-16s %-12s %-18s %-16s %s%s%s\n", d->definition, d->target,
		       d->type ? d->type : "-", cc_deploy_state_name(d->state),
		       d->cert ? d->cert : "-", d->updated ? d->updated : "-",
		       d->error ? "  " : "", d->error ? d->error : "");
	}
done:
	cc_deployment_list_free(all, n);
	cc_repo_free(repo);
	return rc;
}
