/*
 * Secrets: passphrases and the repository secret.  They live in their own
 * type, are wiped on free and are never formatted into messages.
 */
#ifndef CERTCTL_SECRET_H
#define CERTCTL_SECRET_H

#include "common.h"

typedef struct cc_secret cc_secret;

/* A copy of `len` bytes; the caller frees it with cc_secret_free(). */
int cc_secret_new(cc_secret **out, const void *data, size_t len);

/*
 * Read a secret from a file.  One trailing newline (LF or CRLF) is dropped;
 * an empty file is the empty secret.  CC_ENOTFOUND, CC_EIO.
 */
int cc_secret_from_file(cc_secret **out, const char *path);

/*
 * A secret from the environment: the file named by `file_var` when that
 * variable is set, else the value of `value_var`.  CC_ENOTFOUND when
 * neither is set.  `*source` (optional) receives a description of where it
 * came from, for messages ("file '/x'", "$VAR"); borrowed, static storage
 * until the next call.
 */
int cc_secret_from_env(cc_secret **out, const char *file_var,
		       const char *value_var, const char **source);

const unsigned char *cc_secret_data(const cc_secret *secret);
size_t cc_secret_len(const cc_secret *secret);

/* Wipe and free; NULL is fine. */
void cc_secret_free(cc_secret *secret);

#endif
