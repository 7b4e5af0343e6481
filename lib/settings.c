/*
 * Settings in layers: command line, environment, repository configuration,
 * user configuration, built-in default (see include/certctl/settings.h).
 * Each value is checked against its setting's type whenever it is read, so
 * a bad value is reported with where it came from instead of being
 * silently replaced by a default.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

enum setting_type {
	TYPE_DURATION, /* "90d"; a plain number is days */
	TYPE_TIMEOUT,  /* "10s"; a plain number is seconds, under a day */
	TYPE_UINT,     /* a positive integer within [min, max] */
	TYPE_KEY,      /* a key spec: "ecdsa:P-256", "rsa:3072" */
	TYPE_NAME,     /* a provider or trust set name */
	TYPE_COLOR,    /* auto, always, never */
};

struct setting_def {
	const char *key;
	enum setting_type type;
	const char *builtin;
	unsigned long long min, max; /* TYPE_UINT */
	const char *description;
	int personal; /* a matter of taste: never read from a shared repository */
};

static const struct setting_def settings[] = {
	{ "color", TYPE_COLOR, "auto", 0, 0,
	  "colour on a terminal: auto, always or never (NO_COLOR turns auto off)", 1 },
	{ "defaults.critical", TYPE_DURATION, "7d", 0, 0,
	  "new definitions: CRITICAL when the certificate expires within this", 0 },
	{ "defaults.key", TYPE_KEY, "ecdsa:P-256", 0, 0, "new definitions: the key type", 0 },
	{ "defaults.provider", TYPE_NAME, "builtin", 0, 0, "new definitions: the provider", 0 },
	{ "defaults.renew_before", TYPE_DURATION, "30d", 0, 0,
	  "new definitions: renew this long before expiry", 0 },
	{ "defaults.trust_set", TYPE_NAME, "default", 0, 0,
	  "the trust set of definitions and checks that name none", 0 },
	{ "defaults.validity", TYPE_DURATION, "90d", 0, 0,
	  "new definitions: the validity asked for", 0 },
	{ "defaults.warning", TYPE_DURATION, "30d", 0, 0,
	  "new definitions: WARNING when the certificate expires within this", 0 },
	{ "discover.concurrency", TYPE_UINT, "256", 1, 10000, "discover: probes at once", 0 },
	{ "discover.critical", TYPE_DURATION, "7d", 0, 0,
	  "discover: CRITICAL when a certificate expires within this", 0 },
	{ "discover.max_addresses", TYPE_UINT, "65536", 1, 1048576,
	  "discover: addresses one scan may cover without --force", 0 },
	{ "discover.rate", TYPE_UINT, "2000", 1, 100000,
	  "discover: new connections a second at most", 0 },
	{ "discover.timeout", TYPE_UINT, "3", 1, 60, "discover: seconds per probe", 0 },
	{ "discover.warning", TYPE_DURATION, "30d", 0, 0,
	  "discover: WARNING when a certificate expires within this", 0 },
	{ "lock.timeout", TYPE_TIMEOUT, "10s", 0, 0,
	  "how long a command waits for the repository lock", 0 },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Command-line values, owned; set once at start-up by the front end. */
static char *overrides[NSETTINGS];

/* The user configuration, read once. */
static pthread_once_t user_once = PTHREAD_ONCE_INIT;
static cc_node *user_config;
static char *user_error; /* why it could not be used, or NULL */
static char user_display[4096];

size_t cc_settings_count(void)
{
	return NSETTINGS;
}

const char *cc_settings_key(size_t index)
{
	return index < NSETTINGS ? settings[index].key : NULL;
}

const char *cc_setting_layer_name(cc_setting_layer layer)
{
	switch (layer) {
	case CC_SETTING_COMMAND_LINE: return "command line";
	case CC_SETTING_ENVIRONMENT: return "environment";
	case CC_SETTING_REPOSITORY: return "repository";
	case CC_SETTING_USER: return "user";
	case CC_SETTING_BUILTIN: break;
	}
	return "built-in";
}

static const struct setting_def *find(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].key, key))
			return &settings[i];
	return NULL;
}

static const char *nearest(const char *key)
{
	const char *keys[NSETTINGS + 1];

	for (size_t i = 0; i < NSETTINGS; i++)
		keys[i] = settings[i].key;
	keys[NSETTINGS] = NULL;
	return cc_suggest(key, keys);
}

/* "'KEY' is not a setting; did you mean 'NEAR'?", at a node or after `where`. */
static int unknown_key(const cc_node *at, const char *where, const char *key, int code)
{
	const char *hint = nearest(key);
	char near[200] = "";

	if (hint)
		snprintf(near, sizeof(near), "; did you mean '%s'?", hint);
	if (at)
		return cc_node_key_error(at, code, "'%s' is not a setting%s", key, near);
	return cc_error_set(code, "%s'%s' is not a setting%s", where, key, near);
}

/* Check `value` against the setting's type; `where` prefixes the message. */
static int check_value(const struct setting_def *s, const char *value, const char *where)
{
	long long secs;

	switch (s->type) {
	case TYPE_DURATION:
		if (cc_duration_parse(&secs, value) == 0 && secs > 0)
			return 0;
		cc_error_clear();
		return cc_error_set(CC_EINVALID, "%s%s: '%s' is not a duration (e.g. 30d, 12h)",
				    where, s->key, value);
	case TYPE_TIMEOUT: {
		char *end = NULL;
		double v;

		errno = 0;
		v = strtod(value, &end);
		if (end != value && *end == '\0' && !errno && v >= 0 && v < 86400)
			return 0;
		if (cc_duration_parse(&secs, value) == 0 && secs >= 0 && secs < 86400)
			return 0;
		cc_error_clear();
		return cc_error_set(CC_EINVALID,
				    "%s%s: '%s' is not a time under a day (seconds, or 30s, 5m)",
				    where, s->key, value);
	}
	case TYPE_UINT: {
		char *end = NULL;
		unsigned long long v;

		errno = 0;
		v = isdigit((unsigned char)*value) ? strtoull(value, &end, 10) : 0;
		if (end && *end == '\0' && !errno && v >= s->min && v <= s->max)
			return 0;
		return cc_error_set(CC_EINVALID, "%s%s: '%s' is not a number from %llu to %llu",
				    where, s->key, value, s->min, s->max);
	}
	case TYPE_KEY: {
		cc_key_spec spec;

		if (cc_key_spec_parse(&spec, value) == 0 && cc_key_spec_check(&spec) == 0)
			return 0;
		return cc_error_set(CC_EINVALID, "%s%s: %s", where, s->key, cc_error_last());
	}
	case TYPE_NAME:
		if (cc_name_check(value, s->key) == 0)
			return 0;
		return cc_error_set(CC_EINVALID, "%s%s", where, cc_error_last());
	case TYPE_COLOR:
		if (!strcmp(value, "auto") || !strcmp(value, "always") || !strcmp(value, "never"))
			return 0;
		return cc_error_set(CC_EINVALID, "%s%s: '%s' is not auto, always or never",
				    where, s->key, value);
	}
	return cc_error_set(CC_ERROR, "setting '%s' has no type", s->key);
}

int cc_settings_user_path(cc_buf *out)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	cc_buf_clear(out);
	/* The XDG base directory rules ignore a relative XDG_CONFIG_HOME. */
	if (xdg && xdg[0] == '/')
		return cc_buf_printf(out, "%s/certctl/config.yaml", xdg);
	if (home && *home)
		return cc_buf_printf(out, "%s/.config/certctl/config.yaml", home);
	return cc_error_set(CC_ENOTFOUND, "no home directory (set HOME or XDG_CONFIG_HOME)");
}

/* The user configuration: a mapping of known settings, checked whole. */
static int user_check(const cc_node *root)
{
	if (cc_node_kind(root) != CC_NODE_MAPPING)
		return cc_node_error(root, CC_EINVALID, "the user configuration is not a mapping");
	for (size_t i = 0; i < cc_node_count(root); i++) {
		const char *section = cc_node_key_at(root, i);
		const cc_node *v = cc_node_at(root, i);

		if (cc_node_kind(v) == CC_NODE_SCALAR) {
			if (!find(section))
				return unknown_key(v, NULL, section, CC_EINVALID);
			continue;
		}
		if (cc_node_kind(v) != CC_NODE_MAPPING)
			return cc_node_error(v, CC_EINVALID, "'%s' must be a mapping", section);
		for (size_t j = 0; j < cc_node_count(v); j++) {
			char key[160];
			const cc_node *leaf = cc_node_at(v, j);

			snprintf(key, sizeof(key), "%s.%s", section, cc_node_key_at(v, j));
			if (!find(key))
				return unknown_key(leaf, NULL, key, CC_EINVALID);
			if (cc_node_kind(leaf) != CC_NODE_SCALAR)
				return cc_node_error(leaf, CC_EINVALID, "'%s' must be a single value",
						     key);
		}
	}
	return 0;
}

static void user_load(void)
{
	cc_buf path = CC_BUF_INIT;
	const char *home = getenv("HOME");
	int rc;

	if (cc_settings_user_path(&path) < 0) {
		cc_error_clear();
		cc_buf_dispose(&path);
		return;
	}
	/* Messages say ~/... for the usual place. */
	if (home && *home && !strncmp(path.ptr, home, strlen(home)) &&
	    path.ptr[strlen(home)] == '/')
		snprintf(user_display, sizeof(user_display), "~%s", path.ptr + strlen(home));
	else
		snprintf(user_display, sizeof(user_display), "%s", path.ptr);
	rc = cc_node_load(&user_config, path.ptr, user_display);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
	} else if (rc < 0 || (rc = user_check(user_config)) < 0) {
		user_error = strdup(cc_error_last());
		cc_node_free(user_config);
		user_config = NULL;
		cc_error_clear();
	}
	cc_buf_dispose(&path);
}

/* The node of dotted `key` in a configuration tree, or NULL. */
static const cc_node *lookup(const cc_node *root, const char *key)
{
	const char *dot = strchr(key, '.');
	char section[64];
	const cc_node *n;

	if (!root)
		return NULL;
	if (!dot)
		return cc_node_get(root, key);
	if ((size_t)(dot - key) >= sizeof(section))
		return NULL;
	memcpy(section, key, (size_t)(dot - key));
	section[dot - key] = '\0';
	n = cc_node_get(root, section);
	return n ? cc_node_get(n, dot + 1) : NULL;
}

int cc_settings_override(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	const struct setting_def *s;
	char key[160];
	int rc;

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(key))
		return cc_error_set(CC_EINVALID, "-c '%s': give KEY=VALUE", assignment);
	memcpy(key, assignment, (size_t)(eq - assignment));
	key[eq - assignment] = '\0';
	if (!(s = find(key)))
		return unknown_key(NULL, "-c: ", key, CC_EINVALID);
	if ((rc = check_value(s, eq + 1, "-c ")) < 0)
		return rc;
	free(overrides[s - settings]);
	if (!(overrides[s - settings] = strdup(eq + 1)))
		return cc_error_set(CC_ERROR, "out of memory");
	return 0;
}

/* The environment variable of a setting: CERTCTL_LOCK_TIMEOUT. */
static void env_name(char *out, size_t size, const char *key)
{
	size_t n = (size_t)snprintf(out, size, "CERTCTL_");

	for (; *key && n + 1 < size; key++)
		out[n++] = *key == '.' ? '_' : (char)toupper((unsigned char)*key);
	out[n] = '\0';
}

int cc_setting_get(cc_setting *out, const cc_repo *repo, const char *key)
{
	/* Origins are formatted into per-thread storage: borrowed by `out`. */
	static _Thread_local char origin[4200];
	const struct setting_def *s = find(key);
	const cc_node *node;
	const char *v;
	char where[4300];

	memset(out, 0, sizeof(*out));
	if (!s)
		return unknown_key(NULL, "", key, CC_ENOTFOUND);
	out->key = s->key;
	out->description = s->description;
	if ((v = overrides[s - settings])) {
		out->value = v;
		out->layer = CC_SETTING_COMMAND_LINE;
		out->origin = "-c";
		return 0;
	}
	env_name(origin, sizeof(origin), s->key);
	if ((v = getenv(origin)) && *v) {
		out->value = v;
		out->layer = CC_SETTING_ENVIRONMENT;
		out->origin = origin;
		snprintf(where, sizeof(where), "%s: ", origin);
		return check_value(s, v, where);
	}
	if (repo && !s->personal && (node = lookup(cc_repo_config(repo), s->key)) && (v = cc_node_scalar(node))) {
		out->value = v;
		out->layer = CC_SETTING_REPOSITORY;
		snprintf(origin, sizeof(origin), ".certctl/config.yaml:%u", cc_node_line(node));
		out->origin = origin;
		snprintf(where, sizeof(where), "%s: ", origin);
		return check_value(s, v, where);
	}
	pthread_once(&user_once, user_load);
	if (user_error)
		return cc_error_set(CC_EINVALID, "%s", user_error);
	if ((node = lookup(user_config, s->key)) && (v = cc_node_scalar(node))) {
		out->value = v;
		out->layer = CC_SETTING_USER;
		snprintf(origin, sizeof(origin), "%s:%u", user_display, cc_node_line(node));
		out->origin = origin;
		snprintf(where, sizeof(where), "%s: ", origin);
		return check_value(s, v, where);
	}
	out->value = s->builtin;
	out->layer = CC_SETTING_BUILTIN;
	out->origin = "built-in";
	return 0;
}

int cc_setting_duration(long long *seconds, const cc_repo *repo, const char *key)
{
	cc_setting st;
	int rc;

	*seconds = 0;
	if ((rc = cc_setting_get(&st, repo, key)) < 0)
		return rc;
	if (find(key)->type == TYPE_TIMEOUT) {
		char *end = NULL;
		double v = strtod(st.value, &end);

		if (end != st.value && *end == '\0') {
			*seconds = (long long)v;
			return 0;
		}
	}
	return cc_duration_parse(seconds, st.value);
}

int cc_setting_uint(unsigned long long *value, const cc_repo *repo, const char *key)
{
	cc_setting st;
	int rc;

	*value = 0;
	if ((rc = cc_setting_get(&st, repo, key)) < 0)
		return rc;
	*value = strtoull(st.value, NULL, 10);
	return 0;
}
