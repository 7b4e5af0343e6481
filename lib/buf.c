/*
 * This module implements cc_buf, the growable byte buffer used for all
 * text and binary data the library builds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "internal.h"

int cc_buf_grow(cc_buf *buf, size_t extra)
{
	size_t need, asize;
	char *p;

	if (extra > SIZE_MAX - buf->size - 1)
		return cc_error_set(CC_ERROR, "out of memory");
	need = buf->size + extra + 1;
	if (need <= buf->asize)
		return 0;
	asize = buf->asize ? buf->asize : 64;
	while (asize < need)
		asize = asize > SIZE_MAX / 2 ? need : asize * 2;
	p = realloc(buf->ptr, asize);
	if (!p)
		return cc_error_set(CC_ERROR, "out of memory");
	buf->ptr = p;
	buf->asize = asize;
	buf->ptr[buf->size] = '\0';
	return 0;
}

int cc_buf_put(cc_buf *buf, const void *data, size_t len)
{
	if (cc_buf_grow(buf, len) < 0)
		return CC_ERROR;
	if (len)
		memcpy(buf->ptr + buf->size, data, len);
	buf->size += len;
	buf->ptr[buf->size] = '\0';
	return 0;
}

int cc_buf_puts(cc_buf *buf, const char *s)
{
	return cc_buf_put(buf, s, strlen(s));
}

int cc_buf_putc(cc_buf *buf, char c)
{
	return cc_buf_put(buf, &c, 1);
}

int cc_buf_vprintf(cc_buf *buf, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return cc_error_set(CC_ERROR, "bad format");
	if (cc_buf_grow(buf, (size_t)n) < 0)
		return CC_ERROR;
	vsnprintf(buf->ptr + buf->size, (size_t)n + 1, fmt, ap);
	buf->size += (size_t)n;
	return 0;
}

int cc_buf_printf(cc_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cc_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

const char *cc_buf_cstr(const cc_buf *buf)
{
	return buf->ptr ? buf->ptr : "";
}

void cc_buf_clear(cc_buf *buf)
{
	buf->size = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

char *cc_buf_detach(cc_buf *buf)
{
	char *p = buf->ptr;

	if (!p)
		p = calloc(1, 1);
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
	return p;
}

void cc_buf_dispose(cc_buf *buf)
{
	free(buf->ptr);
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
}

void cc_buf_dispose_secure(cc_buf *buf)
{
	if (buf->ptr)
		OPENSSL_cleanse(buf->ptr, buf->asize);
	cc_buf_dispose(buf);
}
