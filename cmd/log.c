/*
 * certctl log: the audit trail, from the repository's commits.
 */
#include <time.h>
#include "cli.h"

struct log_state {
	int json;
	cc_json *arr;
};

static int print_entry(const cc_history_entry *e, void *payload)
{
	struct log_state *st = payload;
	time_t t = (time_t)e->time;
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (st->json) {
		cc_json *obj = cc_json_object();

		cc_json_set_str(obj, "commit", e->id);
		cc_json_set_str(obj, "date", when);
		cc_json_set_str(obj, "author", e->author);
		cc_json_set_str(obj, "summary", e->summary);
		cc_json_set_str(obj, "operation", e->operation);
		cc_json_set_str(obj, "definition", e->definition);
		return cc_json_append(st->arr, obj) < 0 ? -1 : 0;
	}
	printf("%.10s %s %s\n", e->id, when, e->summary);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	struct log_state st = { 0, NULL };
	unsigned long max = 0;
	int first, rc;
	cc_repo *repo = NULL;
	const char *def = NULL;
	const struct cli_opt options[] = {
		OPT_NUM('n', "max-count", &max, "N", "show at most N entries"),
		OPT_BOOL(0, "json", &st.json, "print the entries as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl log [DEF] [-n N] [--json]",
			    "Show the history of the repository, or of definition DEF, newest "
			    "first.", &first)))
		return rc;
	if (argc - first > 1)
		return cli_usage_error("log", "too many arguments");
	if (first < argc)
		def = argv[first];
	if (def && cc_name_check(def, "definition") < 0)
		return cli_lib_error();
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (st.json)
		st.arr = cc_json_array();
	if (cc_history_walk(repo, def, max, print_entry, &st) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (st.json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.log/1");
		cc_json_set(out, "entries", st.arr);
		st.arr = NULL;
		rc = cli_print_json(out);
	}
done:
	cc_json_free(st.arr);
	cc_repo_free(repo);
	return rc;
}
