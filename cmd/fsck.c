/*
 * certctl fsck: check the repository and report every problem.
 */
#include <string.h>
#include "cli.h"

struct fsck_state {
	int json;
	cc_json *arr;
};

static int print_problem(const cc_fsck_problem *p, void *payload)
{
	struct fsck_state *st = payload;
	const char *level = p->repaired ? "repaired"
				       : p->severity == CC_FSCK_ERROR ? "error" : "warning";

	if (st->json) {
		cc_json *obj = cc_json_object();

		cc_json_set_str(obj, "severity", level);
		cc_json_set_str(obj, "path", p->path);
		cc_json_set_str(obj, "message", p->message);
		return cc_json_append(st->arr, obj) < 0 ? -1 : 0;
	}
	{
		size_t len = strlen(p->path);

		/* Messages that start with the file's own position need no prefix. */
		cli_paint(stdout, level, 0);
		if (!strncmp(p->message, p->path, len) && p->message[len] == ':')
			printf(": %s\n", p->message);
		else
			printf(": %s: %s\n", p->path, p->message);
	}
	return 0;
}

int cmd_fsck(int argc, char **argv)
{
	struct fsck_state st = { 0, NULL };
	cc_fsck_options opts = CC_FSCK_OPTIONS_INIT;
	cc_fsck_stats stats;
	cc_repo *repo = NULL;
	int first, rc, no_keys = 0;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "repair", &opts.repair,
			 "roll back an interrupted operation and fix file modes"),
		OPT_BOOL(0, "no-keys", &no_keys, "do not decrypt keys (no secret needed)"),
		OPT_BOOL(0, "json", &st.json, "print the problems as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl fsck [--repair] [--no-keys] [--json]",
			    "Check definitions, keys, file modes, clear-text keys and git "
			    "objects. Exit 0 when clean, 1 when problems remain.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("fsck", "unexpected argument '%s'", argv[first]);
	opts.skip_keys = no_keys;
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (st.json)
		st.arr = cc_json_array();
	if (cc_fsck(repo, &opts, print_problem, &st, &stats) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (st.json) {
		cc_json *out = cc_json_object(), *counts = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.fsck/1");
		cc_json_set_bool(out, "clean", stats.errors == 0 && stats.warnings == 0);
		cc_json_set_int(counts, "definitions", (long long)stats.definitions);
		cc_json_set_int(counts, "keys", (long long)stats.keys);
		cc_json_set_int(counts, "certificates", (long long)stats.certificates);
		cc_json_set_int(counts, "cas", (long long)stats.cas);
		cc_json_set_int(counts, "requests", (long long)stats.requests);
		cc_json_set_int(counts, "trusted", (long long)stats.trusted);
		cc_json_set_int(counts, "objects", (long long)stats.objects);
		cc_json_set_int(counts, "errors", (long long)stats.errors);
		cc_json_set_int(counts, "warnings", (long long)stats.warnings);
		cc_json_set_int(counts, "repaired", (long long)stats.repaired);
		cc_json_set(out, "counts", counts);
		cc_json_set(out, "problems", st.arr);
		st.arr = NULL;
		cli_print_json(out);
	} else if (!cli.quiet) {
		printf("checked %zu definition%s, %zu key%s, %zu certificate%s, %zu CA%s, "
		       "%zu request%s, %zu trusted CA%s, %zu git objects: %zu error%s, %zu warning%s",
		       stats.definitions, stats.definitions == 1 ? "" : "s", stats.keys,
		       stats.keys == 1 ? "" : "s", stats.certificates,
		       stats.certificates == 1 ? "" : "s", stats.cas, stats.cas == 1 ? "" : "s",
		       stats.requests, stats.requests == 1 ? "" : "s", stats.trusted,
		       stats.trusted == 1 ? "" : "s", stats.objects, stats.errors,
		       stats.errors == 1 ? "" : "s", stats.warnings, stats.warnings == 1 ? "" : "s");
		if (stats.repaired)
			printf(", %zu repaired", stats.repaired);
		printf("\n");
	}
	rc = stats.errors || stats.warnings ? EXIT_FAIL : EXIT_OK;
done:
	cc_json_free(st.arr);
	cc_repo_free(repo);
	return rc;
}
