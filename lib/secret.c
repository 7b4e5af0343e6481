/*
 * This module implements cc_secret: passphrases and repository secrets held
 * in memory that is wiped on free, read from files or the environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "internal.h"

struct cc_secret {
	unsigned char *data;
	size_t len;
};

/* Secret files larger than this are not passphrases. */
#define SECRET_MAX (64 * 1024)

int cc_secret_new(cc_secret **out, const void *data, size_t len)
{
	cc_secret *s = NULL;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return cc_error_set(CC_ERROR, "out of memory");
	s->data = malloc(len + 1);
	if (!s->data) {
		free(s);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	if (len)
		memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	*out = s;
	return 0;
}

int cc_secret_from_file(cc_secret **out, const char *path)
{
	cc_buf buf = CC_BUF_INIT;
	size_t len;
	int rc;

	*out = NULL;
	rc = cc_fs_read(&buf, path, SECRET_MAX);
	if (rc < 0)
		goto done;
	len = buf.size;
	if (len && buf.ptr[len - 1] == '\n') {
		len--;
		if (len && buf.ptr[len - 1] == '\r')
			len--;
	}
	rc = cc_secret_new(out, buf.ptr ? buf.ptr : "", len);
done:
	cc_buf_dispose_secure(&buf);
	return rc;
}

int cc_secret_from_env(cc_secret **out, const char *file_var, const char *value_var,
		       const char **source)
{
	static _Thread_local char where[512];
	const char *file = file_var ? getenv(file_var) : NULL;
	const char *value = value_var ? getenv(value_var) : NULL;
	int rc;

	*out = NULL;
	if (file && *file) {
		snprintf(where, sizeof(where), "file '%s' ($%s)", file, file_var);
		if (source)
			*source = where;
		rc = cc_secret_from_file(out, file);
		if (rc < 0)
			/* Not CC_ENOTFOUND: the caller must not fall back to another secret. */
			return cc_error_set(CC_EIO, "cannot read the secret from %s: %s", where,
					    rc == CC_ENOTFOUND ? "no such file" : cc_error_last());
		return 0;
	}
	if (value) {
		snprintf(where, sizeof(where), "$%s", value_var);
		if (source)
			*source = where;
		return cc_secret_new(out, value, strlen(value));
	}
	return cc_error_set(CC_ENOTFOUND, "no secret in the environment ($%s or $%s)",
			    file_var ? file_var : "-", value_var ? value_var : "-");
}

const unsigned char *cc_secret_data(const cc_secret *secret)
{
	return secret->data;
}

size_t cc_secret_len(const cc_secret *secret)
{
	return secret->len;
}

void cc_secret_free(cc_secret *secret)
{
	if (!secret)
		return;
	OPENSSL_cleanse(secret->data, secret->len + 1);
	free(secret->data);
	free(secret);
}
