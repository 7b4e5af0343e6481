/*
 * This module implements the error convention: a per-thread last error
 * (code and message) and bridges that fold OpenSSL, libgit2 and errno
 * reasons into the message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include "internal.h"

static _Thread_local char error_message[1024];
static _Thread_local int error_code;

const char *cc_error_last(void)
{
	return error_message;
}

int cc_error_code(void)
{
	return error_code;
}

void cc_error_clear(void)
{
	error_message[0] = '\0';
	error_code = CC_OK;
}

static int set_v(int code, const char *suffix, const char *fmt, va_list ap)
{
	char msg[sizeof(error_message) / 2];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix && *suffix)
		snprintf(error_message, sizeof(error_message), "%s: %s", msg, suffix);
	else
		snprintf(error_message, sizeof(error_message), "%s", msg);
	/* One line, whatever a server or a file put into it: a line break
	 * would forge a second message, an escape sequence would drive the
	 * terminal.  Control characters become spaces. */
	for (char *p = error_message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	error_code = code;
	return code;
}

int cc_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

/* The most useful line of OpenSSL's error queue: its reason text. */
static void openssl_reason(char *out, size_t size)
{
	unsigned long err, last = 0;
	const char *reason;

	out[0] = '\0';
	while ((err = ERR_get_error()) != 0)
		last = err;
	if (!last)
		return;
	reason = ERR_reason_error_string(last);
	if (reason)
		snprintf(out, size, "%s", reason);
	else
		ERR_error_string_n(last, out, size);
}

int cc_error_openssl(int code, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	openssl_reason(reason, sizeof(reason));
	va_start(ap, fmt);
	set_v(code, reason, fmt, ap);
	va_end(ap);
	return code;
}

int cc_error_git(int code, const char *fmt, ...)
{
	const git_error *gerr = git_error_last();
	va_list ap;

	va_start(ap, fmt);
	set_v(code, gerr && gerr->message ? gerr->message : NULL, fmt, ap);
	va_end(ap);
	return code;
}

int cc_error_from_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return CC_ENOTFOUND;
	case EEXIST:
		return CC_EEXISTS;
	default:
		return CC_EIO;
	}
}

int cc_error_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (code == 0)
		code = cc_error_from_errno(saved);
	va_start(ap, fmt);
	set_v(code, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

const char *cc_error_name(int code)
{
	switch (code) {
	case CC_OK: return "ok";
	case CC_ENOTFOUND: return "not found";
	case CC_EEXISTS: return "exists";
	case CC_EINVALID: return "invalid";
	case CC_ELOCKED: return "locked";
	case CC_ENET: return "network";
	case CC_ETLS: return "tls";
	case CC_EAUTH: return "authentication";
	case CC_EPENDING: return "pending";
	case CC_EIO: return "i/o";
	case CC_ENOREPO: return "no repository";
	case CC_EMISMATCH: return "mismatch";
	default: return "error";
	}
}

const char *cc_version(void)
{
	return CERTCTL_VERSION;
}
