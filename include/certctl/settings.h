/*
 * Settings: the tunable values (defaults of new definitions, the lock
 * timeout, discovery limits, colour) and where each one comes from.
 *
 * One lookup serves every caller, in this order, the first that has the
 * setting wins (certctl-config(1)):
 *   1. the command line: `certctl -c KEY=VALUE` (cc_settings_override);
 *   2. the environment: CERTCTL_ followed by the key in upper case with
 *      dots as underscores (lock.timeout: CERTCTL_LOCK_TIMEOUT);
 *   3. the repository configuration, .certctl/config.yaml;
 *   4. the user configuration, $XDG_CONFIG_HOME/certctl/config.yaml
 *      (~/.config/certctl/config.yaml);
 *   5. the built-in default.
 * A command's own option (define --key, discover --warning) is more
 * specific than any of them and is applied by the command.
 */
#ifndef CERTCTL_SETTINGS_H
#define CERTCTL_SETTINGS_H

#include "common.h"
#include "repo.h"

typedef enum {
	CC_SETTING_BUILTIN = 0,
	CC_SETTING_USER,
	CC_SETTING_REPOSITORY,
	CC_SETTING_ENVIRONMENT,
	CC_SETTING_COMMAND_LINE,
} cc_setting_layer;

typedef struct {
	const char *key;         /* "lock.timeout" */
	const char *value;       /* borrowed; valid until the next override */
	cc_setting_layer layer;  /* where the value came from */
	const char *origin;      /* "CERTCTL_LOCK_TIMEOUT", "FILE:LINE", "built-in" */
	const char *description; /* one line, for listings */
} cc_setting;

/* The number of known settings, and the name of setting `index`. */
size_t cc_settings_count(void);
const char *cc_settings_key(size_t index);

/*
 * Set a command-line value ("KEY=VALUE", as `certctl -c` takes it).  The
 * key must be known and the value valid for it.  CC_EINVALID, naming the
 * nearest known key when there is one.
 */
int cc_settings_override(const char *assignment);

/*
 * The effective value of `key` with its origin.  `repo` may be NULL (then
 * the repository layer is skipped).  Every value is checked when it is
 * read: CC_EINVALID naming its origin ("CERTCTL_LOCK_TIMEOUT: ..." or
 * "FILE:LINE: ...") for a bad one, or for a user configuration that does
 * not parse; CC_ENOTFOUND for an unknown key.
 */
int cc_setting_get(cc_setting *out, const cc_repo *repo, const char *key);

/* The value of a duration setting, in seconds. */
int cc_setting_duration(long long *seconds, const cc_repo *repo, const char *key);

/* The value of an integer setting. */
int cc_setting_uint(unsigned long long *value, const cc_repo *repo, const char *key);

/* The layer's name as listings print it ("environment"). */
const char *cc_setting_layer_name(cc_setting_layer layer);

/* The user configuration's path (whether or not it exists). */
int cc_settings_user_path(cc_buf *out);

#endif
