/*
 * certctl config: the settings in effect and where each comes from.
 */
#include <string.h>
#include "cli.h"

/* The repository when there is one; settings make sense without it too. */
static cc_repo *open_repo_quietly(void)
{
	cc_repo *repo = NULL;

	if (cc_repo_open(&repo, cli.repo_dir, 0) < 0) {
		cc_error_clear();
		return NULL;
	}
	return repo;
}

static int config_list(int argc, char **argv)
{
	int show_origin = 0, json = 0, first, rc = EXIT_OK;
	cc_repo *repo;
	cc_json *out = NULL, *arr = NULL;
	char last_error[1024] = "";
	const struct cli_opt options[] = {
		OPT_BOOL(0, "show-origin", &show_origin, "also print where each value comes from"),
		OPT_BOOL(0, "json", &json, "print the settings as JSON"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl config list [--show-origin] [--json]",
			    "Print every setting's value in effect (command line, environment, "
			    "repository, user configuration, built-in default).", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("config list", "unexpected argument '%s'", argv[first]);
	repo = open_repo_quietly();
	if (json) {
		out = cc_json_object();
		arr = cc_json_array();
		cc_json_set_str(out, "schema", "certctl.config/1");
	}
	for (size_t i = 0; i < cc_settings_count(); i++) {
		cc_setting st;

		if (cc_setting_get(&st, repo, cc_settings_key(i)) < 0) {
			/* A bad value is reported (once) and the listing goes on. */
			if (strcmp(last_error, cc_error_last()))
				fprintf(stderr, "certctl: %s\n", cc_error_last());
			snprintf(last_error, sizeof(last_error), "%s", cc_error_last());
			rc = EXIT_FAIL;
			continue;
		}
		if (json) {
			cc_json *obj = cc_json_object();

			cc_json_set_str(obj, "key", st.key);
			cc_json_set_str(obj, "value", st.value);
			cc_json_set_str(obj, "layer", cc_setting_layer_name(st.layer));
			cc_json_set_str(obj, "origin", st.origin);
			cc_json_set_str(obj, "description", st.description);
			cc_json_append(arr, obj);
		} else if (show_origin) {
			printf("%-24s %-14s %-28s %s\n", st.key, st.value,
			       cc_setting_layer_name(st.layer), st.origin);
		} else {
			printf("%s=%s\n", st.key, st.value);
		}
	}
	if (json) {
		cc_json_set(out, "settings", arr);
		if (cli_print_json(out))
			rc = EXIT_FAIL;
	}
	cc_repo_free(repo);
	return rc;
}

static int config_get(int argc, char **argv)
{
	int show_origin = 0, first, rc;
	cc_repo *repo;
	cc_setting st;
	const struct cli_opt options[] = {
		OPT_BOOL(0, "show-origin", &show_origin, "also print where the value comes from"),
		OPT_DONE(),
	};

	if ((rc = cli_parse(argc, argv, options, "certctl config get KEY [--show-origin]",
			    "Print one setting's value in effect.", &first)))
		return rc;
	if (argc - first != 1)
		return cli_usage_error("config get", "give one KEY");
	repo = open_repo_quietly();
	if (cc_setting_get(&st, repo, argv[first]) < 0) {
		if (cc_error_code() == CC_ENOTFOUND)
			rc = cli_usage_error("config get", "%s", cc_error_last());
		else
			rc = cli_lib_error();
	} else if (show_origin) {
		printf("%s\t%s\t%s\n", st.value, cc_setting_layer_name(st.layer), st.origin);
	} else {
		printf("%s\n", st.value);
	}
	cc_repo_free(repo);
	return rc;
}

static int config_path(int argc, char **argv)
{
	static const struct cli_opt options[] = { OPT_DONE() };
	cc_buf path = CC_BUF_INIT;
	int first, rc;

	if ((rc = cli_parse(argc, argv, options, "certctl config path",
			    "Print where the user configuration is read from.", &first)))
		return rc;
	if (first < argc)
		return cli_usage_error("config path", "unexpected argument '%s'", argv[first]);
	if (cc_settings_user_path(&path) < 0)
		rc = cli_lib_error();
	else
		printf("%s\n", path.ptr);
	cc_buf_dispose(&path);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "list", config_list, "every setting's value in effect (--show-origin, --json)" },
		{ "get", config_get, "one setting's value in effect" },
		{ "path", config_path, "where the user configuration is read from" },
	};

	return cli_dispatch("config", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
