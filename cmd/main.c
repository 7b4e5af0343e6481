/*
 * certctl: global options, the command table and dispatch.  Everything a
 * command does is in the library; the command files parse, call and print.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

struct cmd_spec {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *description;
};

static const struct cmd_spec commands[] = {
	{ "init", cmd_init, "create a certificate repository" },
	{ "define", cmd_define, "create or change a certificate definition" },
	{ "show", cmd_show, "show a certificate definition" },
	{ "list", cmd_list, "list certificate definitions" },
	{ "rm", cmd_rm, "remove a certificate definition" },
	{ "key", cmd_key, "list, show, generate, import and export private keys" },
	{ "ca", cmd_ca, "run the built-in private CA: create, import, revoke, publish CRLs" },
	{ "issue", cmd_issue, "issue definitions' certificates from the built-in CA" },
	{ "acquire", cmd_acquire, "acquire a certificate from a provider (CSR, ACME, built-in CA)" },
	{ "current", cmd_current, "show or switch a definition's current certificate" },
	{ "requests", cmd_requests, "list acquisition requests" },
	{ "check", cmd_check, "check what servers present (monitoring-plugin exit codes)" },
	{ "monitor", cmd_monitor, "check everything monitored, renew and deploy what is due (cron)" },
	{ "verify", cmd_verify, "verify a certificate file or a server's chain, rule by rule" },
	{ "discover", cmd_discover, "scan networks for TLS servers and judge their certificates" },
	{ "status", cmd_status, "every definition at a glance: certificates, renewals, deployments, checks" },
	{ "notify", cmd_notify, "send a test notification (e-mail, webhook)" },
	{ "deploy", cmd_deploy, "install certificates on servers, reload, check, roll back" },
	{ "deployments", cmd_deployments, "list deployment processes and their states" },
	{ "revoke", cmd_revoke, "revoke a definition's certificate at its CA (built-in or ACME)" },
	{ "import", cmd_import, "bring existing certificates and keys under management" },
	{ "export", cmd_export, "write a certificate as PEM, DER, P7B, PKCS#12 or JKS" },
	{ "inspect", cmd_inspect, "show what certificate, key and keystore files hold" },
	{ "trust", cmd_trust, "manage the trusted CA sets certificates are verified against" },
	{ "log", cmd_log, "show the history of the repository or of one definition" },
	{ "fsck", cmd_fsck, "check the repository for damage, leaked keys and interruptions" },
	{ "config", cmd_config, "show the settings in effect and where each comes from" },
	{ "help", cmd_help, "show the manual page of a command" },
	{ "version", cmd_version, "print the version" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: certctl [-C DIR] [-c KEY=VALUE] [--color[=WHEN]] [-q] [-v] [--version] "
		"[--help]\n               COMMAND [ARGS]\n\n"
		"Manage the life of TLS server certificates in a git repository.\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].description);
	fprintf(out, "\nglobal options:\n"
		     "  -C DIR         use the repository in DIR (also $CERTCTL_DIR)\n"
		     "  -c KEY=VALUE   a setting for this run, over the environment and the\n"
		     "                 configuration files (certctl config list)\n"
		     "  --color[=WHEN] colour: auto (on a terminal), always, never;\n"
		     "                 --no-color is never (NO_COLOR=1 in the environment too)\n"
		     "  -q, --quiet    print only errors and requested data\n"
		     "  -v, --verbose  print more detail\n"
		     "  --version      print the version\n"
		     "  -h, --help     show this help\n\n"
		     "'certctl COMMAND --help' lists a command's options; "
		     "'certctl help COMMAND' shows its manual.\n");
}

int cmd_version(int argc, char **argv)
{
	static const struct cli_opt opts[] = { OPT_DONE() };
	int first, rc;

	if ((rc = cli_parse(argc, argv, opts, "certctl version", "Print the version.", &first)) ||
	    (first < argc && (rc = cli_usage_error("version", "unexpected argument '%s'",
						   argv[first]))))
		return rc;
	printf("certctl %s\n", cc_version());
	return EXIT_OK;
}

/* Manual pages that are not commands: certctl help repository. */
static const char *const topics[][2] = {
	{ "repository", "5" },
	{ "definition", "5" },
	{ "json", "7" },
};

int cmd_help(int argc, char **argv)
{
	static const struct cli_opt opts[] = { OPT_DONE() };
	const size_t ncommands = sizeof(commands) / sizeof(commands[0]);
	const size_t ntopics = sizeof(topics) / sizeof(topics[0]);
	const char *section = "1";
	char page[128];
	int first, rc, command = -1;

	if ((rc = cli_parse(argc, argv, opts, "certctl help [COMMAND | repository | definition | json]",
			    "Show the manual page of certctl, of one command, or of the repository "
			    "format, definitions and JSON output.", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("help", "give one COMMAND or topic");
	if (first >= argc) {
		snprintf(page, sizeof(page), "certctl");
	} else {
		const char *names[sizeof(commands) / sizeof(commands[0]) +
				  sizeof(topics) / sizeof(topics[0]) + 1];
		size_t n = 0;

		for (size_t i = 0; i < ncommands; i++) {
			if (!strcmp(commands[i].name, argv[first]))
				command = (int)i;
			names[n++] = commands[i].name;
		}
		for (size_t i = 0; i < ntopics; i++) {
			if (!strcmp(topics[i][0], argv[first]))
				section = topics[i][1];
			names[n++] = topics[i][0];
		}
		names[n] = NULL;
		if (command < 0 && !strcmp(section, "1")) {
			const char *hint = cli_suggest(argv[first], names);

			return hint ? cli_usage_error("help", "no manual for '%s'; did you mean '%s'?",
						      argv[first], hint)
				    : cli_usage_error("help", "no manual for '%s'", argv[first]);
		}
		snprintf(page, sizeof(page), "certctl-%s", argv[first]);
	}
	/* The manual when man can show it, else the built-in help. */
	if (access("/usr/bin/man", X_OK) == 0 && (isatty(STDOUT_FILENO) || command < 0)) {
		char *man_argv[] = { "man", (char *)section, page, NULL };

		fflush(stdout);
		execv("/usr/bin/man", man_argv);
	}
	if (first >= argc) {
		usage(stdout);
		return EXIT_OK;
	}
	if (command < 0)
		return cli_error("the manual page %s(%s) needs man(1), which is not installed",
				 page, section);
	{
		char *help_argv[] = { argv[first], "--help", NULL };

		return commands[command].fn(2, help_argv);
	}
}

int main(int argc, char **argv)
{
	const char *names[sizeof(commands) / sizeof(commands[0]) + 1];
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-C")) {
			if (++i >= argc)
				return cli_usage_error(NULL, "option '-C' needs a directory");
			cli.repo_dir = argv[i];
		} else if (!strncmp(a, "-C", 2)) {
			cli.repo_dir = a + 2;
		} else if (!strcmp(a, "-c") || (!strncmp(a, "-c", 2) && a[2])) {
			const char *assignment = a[2] ? a + 2 : (++i < argc ? argv[i] : NULL);

			if (!assignment)
				return cli_usage_error(NULL, "option '-c' needs KEY=VALUE");
			if (cc_settings_override(assignment) < 0)
				return cli_usage_error(NULL, "%s", cc_error_last());
		} else if (!strncmp(a, "--color", 7) && (!a[7] || a[7] == '=')) {
			char assignment[64];

			snprintf(assignment, sizeof(assignment), "color=%s", a[7] ? a + 8 : "always");
			if (cc_settings_override(assignment) < 0)
				return cli_usage_error(NULL, "%s", cc_error_last());
		} else if (!strcmp(a, "--no-color")) {
			cc_settings_override("color=never");
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			cli.quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cli.verbose++;
		} else if (!strcmp(a, "--version")) {
			printf("certctl %s\n", cc_version());
			return EXIT_OK;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			return cli_usage_error(NULL, "unknown global option '%s'", a);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		names[k] = commands[k].name;
		if (!strcmp(commands[k].name, argv[i]))
			return commands[k].fn(argc - i, argv + i);
	}
	names[sizeof(commands) / sizeof(commands[0])] = NULL;
	{
		const char *hint = cli_suggest(argv[i], names);

		if (hint)
			return cli_usage_error(NULL, "'%s' is not a certctl command; did you mean '%s'?",
					       argv[i], hint);
	}
	return cli_usage_error(NULL, "'%s' is not a certctl command", argv[i]);
}
