/*
 * certctl list: one line per certificate definition.
 */
#include <string.h>
#include "cli.h"

/* The names a definition certifies, shortened for one line. */
static void names_summary(const cc_definition *def, char *out, size_t size)
{
	const cc_strlist *lists[] = { &def->sans.dns, &def->sans.ip, &def->sans.email,
				      &def->sans.uri };
	size_t used = 0, total = 0, shown = 0;

	out[0] = '\0';
	for (size_t l = 0; l < 4; l++)
		total += lists[l]->count;
	for (size_t l = 0; l < 4; l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const char *n = lists[l]->items[i];
			int w;

			if (shown == 2)
				break;
			w = snprintf(out + used, size - used, "%s%s", shown ? "," : "", n);
			if (w < 0 || (size_t)w >= size - used)
				break;
			used += (size_t)w;
			shown++;
		}
	}
	if (!total && def->subject.cn)
		snprintf(out, size, "%s", def->subject.cn);
	else if (total > shown && used + 8 < size)
		snprintf(out + used, size - used, ",+%zu", total - shown);
}

int cmd_list(int argc, char **argv)
{
	int json = 0, first, rc = EXIT_OK;
	cc_repo *repo = NULL;
	cc_strlist names = CC_STRLIST_INIT;
	cc_json *out = NULL, *arr = NULL;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "json", &json, "print the definitions as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl list [--json]",
			    "List the certificate definitions, one per line: name, mode, "
			    "provider, key and names.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("list", "unexpected argument '%s'", argv[first]);
	if ((rc = cli_open_repo(&repo)))
		return rc;
	if (cc_definition_names(repo, &names) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (json) {
		out = cc_json_object();
		arr = cc_json_array();
	}
	for (size_t i = 0; i < names.count; i++) {
		cc_definition *def = NULL;
		char key[32], list[160];

		if (cc_definition_load(&def, repo, names.items[i]) < 0) {
			/* One broken file must not hide the others. */
			cli_lib_error();
			rc = EXIT_FAIL;
			continue;
		}
		if (json) {
			cc_json_append(arr, cc_definition_to_json(def));
		} else {
			cc_key_spec_format(&def->key, key, sizeof(key));
			names_summary(def, list, sizeof(list));
			printf("%-30s %-9s %-10s %-12s %s\n", def->name,
			       cc_operation_mode_name(def->mode), def->provider ? def->provider : "-",
			       key, list);
		}
		cc_definition_free(def);
	}
	if (json) {
		int prc;

		cc_json_set_str(out, "schema", "certctl.definitions/1");
		cc_json_set(out, "definitions", arr);
		arr = NULL;
		prc = cli_print_json(out);
		out = NULL;
		if (prc)
			rc = prc;
	}
done:
	cc_json_free(arr);
	cc_json_free(out);
	cc_strlist_dispose(&names);
	cc_repo_free(repo);
	return rc;
}
