/*
 * The certificate repository: a git work tree with a documented layout
 * (see certctl-repository(5)), its configuration and its secret.
 */
#ifndef CERTCTL_REPO_H
#define CERTCTL_REPO_H

#include "common.h"
#include "buf.h"

typedef struct cc_repo cc_repo;
typedef struct cc_node cc_node;

/* The repository format this library reads and writes. */
#define CC_REPO_FORMAT 1

typedef struct {
	unsigned version;
	/*
	 * Directory for the random repository secret that init creates when
	 * no passphrase is given in the environment.  NULL means
	 * $CERTCTL_SECRET_DIR, else $XDG_CONFIG_HOME/certctl/secrets, else
	 * ~/.config/certctl/secrets.
	 */
	const char *secret_dir;
} cc_repo_init_options;

#define CC_REPO_INIT_OPTIONS_VERSION 1
#define CC_REPO_INIT_OPTIONS_INIT { CC_REPO_INIT_OPTIONS_VERSION, NULL }

/*
 * Create a repository at `path` (created when missing; it must not already
 * hold a certctl repository) and make its first commit.  The secret comes
 * from CERTCTL_PASSPHRASE_FILE or CERTCTL_PASSPHRASE when set, else a new
 * random secret is written to the secret directory (0600).
 * CC_EEXISTS, CC_EIO.
 */
int cc_repo_init(cc_repo **out, const char *path, const cc_repo_init_options *opts);

/* Open only `path` itself; do not walk up to parent directories. */
#define CC_REPO_OPEN_NO_SEARCH 0x1u

/*
 * Open the repository that holds `path` (walking up like git), or, when
 * `path` is NULL, the one named by $CERTCTL_DIR, else the one holding the
 * current directory.  CC_ENOREPO when there is none; CC_EINVALID when its
 * configuration is broken or of an unknown format.
 */
int cc_repo_open(cc_repo **out, const char *path, unsigned flags);

void cc_repo_free(cc_repo *repo);

/* The work tree's absolute path, without a trailing slash; borrowed. */
const char *cc_repo_workdir(const cc_repo *repo);

/* The repository's random identifier (names its secret file); borrowed. */
const char *cc_repo_id(const cc_repo *repo);

/*
 * Make the repository secret available for key operations: read it (see
 * cc_repo_init), derive the key-encryption passphrase and check it against
 * the repository's check value.  Cheap after the first call.
 * CC_EAUTH for a wrong secret, CC_ENOTFOUND when there is none.
 */
int cc_repo_unlock(cc_repo *repo);

/*
 * Where the random repository secret of this repository is kept (whether or
 * not it exists): <secret dir>/<id>.key.
 */
int cc_repo_secret_path(const cc_repo *repo, cc_buf *out);

/*
 * Batch mode: the git objects of each commit publication go to one pack
 * file instead of one loose file each (for commands that make many
 * commits in one process).  Stays on until the repository is freed.
 */
int cc_repo_batch_objects(cc_repo *repo);

/*
 * A value from .certctl/config.yaml by dotted path ("defaults.validity");
 * borrowed, NULL when absent or not a scalar.
 */
const char *cc_repo_config_get(const cc_repo *repo, const char *dotted_path);

/* The whole configuration tree; borrowed. */
const cc_node *cc_repo_config(const cc_repo *repo);

/*
 * Absolute path of `relpath` inside the work tree, into `out`.
 * `relpath` must be a clean relative path (no "..", no leading "/");
 * CC_EINVALID otherwise.
 */
int cc_repo_path(const cc_repo *repo, const char *relpath, cc_buf *out);

/*
 * Read a file of the work tree.  CC_ENOTFOUND when it does not exist.
 * The caller disposes `out`.
 */
int cc_repo_read(const cc_repo *repo, const char *relpath, cc_buf *out);

#endif
