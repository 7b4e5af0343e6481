/*
 * Small value types and parsers used across the library and commands:
 * string lists, durations, names, host names, addresses.
 */
#ifndef CERTCTL_UTIL_H
#define CERTCTL_UTIL_H

#include <time.h>
#include "common.h"
#include "buf.h"

typedef struct {
	char **items;
	size_t count;
} cc_strlist;

#define CC_STRLIST_INIT { NULL, 0 }

int cc_strlist_add(cc_strlist *list, const char *s);
int cc_strlist_contains(const cc_strlist *list, const char *s);
/* Remove every item equal to `s`; the number removed. */
size_t cc_strlist_remove(cc_strlist *list, const char *s);
int cc_strlist_copy(cc_strlist *dst, const cc_strlist *src);
void cc_strlist_sort(cc_strlist *list);
void cc_strlist_dispose(cc_strlist *list);

/*
 * Parse a duration: a number followed by s, m, h, d, w or y ("90d", "12h");
 * a plain number is days.  CC_EINVALID.
 */
int cc_duration_parse(long long *seconds, const char *text);
/* Format seconds back in the largest exact unit ("90d", "36h"). */
void cc_duration_format(char *out, size_t size, long long seconds);

/*
 * Check an object name (definition, CA, trust set, target): 1-128
 * characters of [A-Za-z0-9._-], starting with a letter or digit, no "..".
 * `what` names the kind in the message.  CC_EINVALID.
 */
int cc_name_check(const char *name, const char *what);

/* A DNS name (LDH labels, optional leading "*." wildcard label). */
int cc_dns_name_valid(const char *name, int allow_wildcard);
/* An IPv4 or IPv6 address. */
int cc_ip_valid(const char *text);
/* An e-mail address (local@domain, plain form). */
int cc_email_valid(const char *text);
/* An absolute URI with a scheme. */
int cc_uri_valid(const char *text);
/* A two-letter ISO 3166 country code (upper case). */
int cc_country_valid(const char *text);

/* Parse RFC 3339 UTC ("2026-11-24T10:00:00Z").  CC_EINVALID. */
int cc_time_parse_rfc3339(time_t *out, const char *text);

/* Current time as RFC 3339 UTC ("2026-11-23T22:08:00Z"). */
void cc_time_now_rfc3339(char out[32]);

/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes). */
void cc_hex(char *out, const unsigned char *data, size_t len);

/*
 * The candidate (NULL-terminated list) nearest to `word` within two edits
 * (a swap of neighbours is one), for "did you mean"; NULL when none is.
 */
const char *cc_suggest(const char *word, const char *const *candidates);

#endif
