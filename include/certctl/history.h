/*
 * The audit trail: the repository's commits, read back as records.
 */
#ifndef CERTCTL_HISTORY_H
#define CERTCTL_HISTORY_H

#include "common.h"
#include "repo.h"

typedef struct {
	char id[41];          /* commit id, hex */
	long long time;       /* seconds since the epoch */
	int offset;           /* time zone offset, minutes */
	const char *author;   /* "Name <mail>" */
	const char *summary;  /* first line of the message */
	const char *message;  /* the whole message */
	const char *operation;  /* Certctl-Operation trailer, or NULL */
	const char *definition; /* first Certctl-Definition trailer, or NULL */
} cc_history_entry;

/* Return non-zero to stop the walk (that value is returned). */
typedef int (*cc_history_cb)(const cc_history_entry *entry, void *payload);

/*
 * Walk the history from the newest commit, calling `cb` for each commit
 * (only those with a Certctl-Definition trailer naming `definition`, when
 * it is not NULL), at most `max` of them (0 = all).
 */
int cc_history_walk(cc_repo *repo, const char *definition, size_t max,
		    cc_history_cb cb, void *payload);

#endif
