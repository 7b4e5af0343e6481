/*
 * Error convention and basic types shared by every certctl module.
 *
 * Every library function that can fail returns 0 or one of the negative
 * CC_E* codes below and leaves a message for cc_error_last().  The message
 * names what failed and where (file, file:line:column, field, host:port).
 */
#ifndef CERTCTL_COMMON_H
#define CERTCTL_COMMON_H

#include <stddef.h>
#include <stdarg.h>

#if defined(__GNUC__)
# define CC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
# define CC_PRINTF(f, a)
#endif

enum {
	CC_OK = 0,
	CC_ERROR = -1,      /* generic failure */
	CC_ENOTFOUND = -2,  /* the named thing does not exist */
	CC_EEXISTS = -3,    /* it exists already */
	CC_EINVALID = -4,   /* bad input: syntax, value, name */
	CC_ELOCKED = -5,    /* the repository is locked by another process */
	CC_ENET = -6,       /* network failure */
	CC_ETLS = -7,       /* TLS handshake or certificate failure */
	CC_EAUTH = -8,      /* wrong secret or passphrase */
	CC_EPENDING = -9,   /* operation started, not finished (resumable) */
	CC_EIO = -10,       /* file system failure */
	CC_ENOREPO = -11,   /* no certctl repository found */
	CC_EMISMATCH = -12, /* key and certificate (or similar) do not match */
};

/* The message of the last error set in this thread ("" when none). */
const char *cc_error_last(void);

/* The code of the last error set in this thread (CC_OK when none). */
int cc_error_code(void);

/* Forget the last error. */
void cc_error_clear(void);

/*
 * Set the last error and return `code`, so that callers can write
 * `return cc_error_set(CC_EINVALID, "bad name '%s'", name);`.
 */
int cc_error_set(int code, const char *fmt, ...) CC_PRINTF(2, 3);

/* A short name for an error code ("not found", "invalid", ...). */
const char *cc_error_name(int code);

/* The library version string. */
const char *cc_version(void);

#endif
