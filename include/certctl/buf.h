/*
 * A growable byte buffer, always NUL-terminated when non-empty.
 */
#ifndef CERTCTL_BUF_H
#define CERTCTL_BUF_H

#include "common.h"

typedef struct {
	char *ptr;    /* the bytes, NUL-terminated; NULL while empty */
	size_t size;  /* bytes used, without the terminator */
	size_t asize; /* bytes allocated */
} cc_buf;

#define CC_BUF_INIT { NULL, 0, 0 }

int cc_buf_grow(cc_buf *buf, size_t extra);
int cc_buf_put(cc_buf *buf, const void *data, size_t len);
int cc_buf_puts(cc_buf *buf, const char *s);
int cc_buf_putc(cc_buf *buf, char c);
int cc_buf_printf(cc_buf *buf, const char *fmt, ...) CC_PRINTF(2, 3);
int cc_buf_vprintf(cc_buf *buf, const char *fmt, va_list ap);

/* The contents as a C string ("" when empty); borrowed. */
const char *cc_buf_cstr(const cc_buf *buf);

/* Empty the buffer, keeping its memory. */
void cc_buf_clear(cc_buf *buf);

/* Hand the memory to the caller (free() it); the buffer becomes empty. */
char *cc_buf_detach(cc_buf *buf);

/* Release the memory. */
void cc_buf_dispose(cc_buf *buf);

/* Release the memory after overwriting it (for secrets). */
void cc_buf_dispose_secure(cc_buf *buf);

#endif
