/*
 * Consistency checks of a repository: YAML, references, keys, secrets in
 * clear text, git objects.
 */
#ifndef CERTCTL_FSCK_H
#define CERTCTL_FSCK_H

#include "common.h"
#include "repo.h"

typedef enum {
	CC_FSCK_WARNING = 1,
	CC_FSCK_ERROR = 2,
} cc_fsck_severity;

typedef struct {
	cc_fsck_severity severity;
	const char *path;    /* repository path or object id concerned */
	const char *message;
	int repaired;        /* fixed by --repair */
} cc_fsck_problem;

typedef int (*cc_fsck_cb)(const cc_fsck_problem *problem, void *payload);

typedef struct {
	unsigned version;
	int repair;      /* roll back interrupted operations, fix file modes */
	int skip_keys;   /* do not decrypt keys (no secret at hand) */
} cc_fsck_options;

#define CC_FSCK_OPTIONS_VERSION 1
#define CC_FSCK_OPTIONS_INIT { CC_FSCK_OPTIONS_VERSION, 0, 0 }

typedef struct {
	size_t definitions, keys, certificates, cas, requests, trusted, objects;
	size_t warnings, errors, repaired;
} cc_fsck_stats;

/*
 * Check the repository; `cb` gets every problem found.  Returns 0 when the
 * checks could run (look at `stats->errors`), negative when they could not.
 */
int cc_fsck(cc_repo *repo, const cc_fsck_options *opts, cc_fsck_cb cb, void *payload,
	    cc_fsck_stats *stats);

#endif
