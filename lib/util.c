/*
 * This module implements small value types (string lists, durations) and
 * the syntax checks for names, host names, addresses and countries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "internal.h"

char *cc_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void cc_strset(char **slot, const char *value)
{
	char *copy = cc_strdup(value);

	free(*slot);
	*slot = copy;
}

int cc_strlist_add(cc_strlist *list, const char *s)
{
	char **items;
	char *copy = strdup(s);

	if (!copy)
		return cc_error_set(CC_ERROR, "out of memory");
	items = realloc(list->items, (list->count + 1) * sizeof(*items));
	if (!items) {
		free(copy);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	items[list->count++] = copy;
	list->items = items;
	return 0;
}

int cc_strlist_contains(const cc_strlist *list, const char *s)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], s) == 0)
			return 1;
	return 0;
}

size_t cc_strlist_remove(cc_strlist *list, const char *s)
{
	size_t kept = 0, removed = 0;

	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i], s) == 0) {
			free(list->items[i]);
			removed++;
		} else {
			list->items[kept++] = list->items[i];
		}
	}
	list->count = kept;
	return removed;
}

int cc_strlist_copy(cc_strlist *dst, const cc_strlist *src)
{
	for (size_t i = 0; i < src->count; i++)
		if (cc_strlist_add(dst, src->items[i]) < 0)
			return CC_ERROR;
	return 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cc_strlist_sort(cc_strlist *list)
{
	if (list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items), compare_strings);
}

void cc_strlist_dispose(cc_strlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int cc_duration_parse(long long *seconds, const char *text)
{
	char *end = NULL;
	long long n, unit = 86400;

	if (!text || !isdigit((unsigned char)*text))
		return cc_error_set(CC_EINVALID, "invalid duration '%s' (expected e.g. 90d, 12h)",
				    text ? text : "");
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno || n < 0)
		return cc_error_set(CC_EINVALID, "invalid duration '%s'", text);
	if (*end) {
		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		case 'y': unit = 365 * 86400; break;
		default:
			return cc_error_set(CC_EINVALID,
					    "invalid duration '%s' (units: s, m, h, d, w, y)", text);
		}
		if (end[1])
			return cc_error_set(CC_EINVALID, "invalid duration '%s'", text);
	}
	if (n > LLONG_MAX / unit || n * unit > 100LL * 365 * 86400)
		return cc_error_set(CC_EINVALID, "duration '%s' is too long (100 years at most)", text);
	*seconds = n * unit;
	return 0;
}

void cc_duration_format(char *out, size_t size, long long seconds)
{
	static const struct { long long secs; char unit; } units[] = {
		{ 365 * 86400, 'y' }, { 7 * 86400, 'w' }, { 86400, 'd' },
		{ 3600, 'h' }, { 60, 'm' },
	};

	for (size_t i = 0; i < CC_ARRAY_SIZE(units); i++) {
		/* weeks read worse than days for typical validity periods */
		if (units[i].unit == 'w')
			continue;
		if (seconds >= units[i].secs && seconds % units[i].secs == 0) {
			snprintf(out, size, "%lld%c", seconds / units[i].secs, units[i].unit);
			return;
		}
	}
	snprintf(out, size, "%llds", seconds);
}

int cc_name_check(const char *name, const char *what)
{
	size_t len;

	if (!name || !*name)
		return cc_error_set(CC_EINVALID, "%s name is empty", what);
	len = strlen(name);
	if (len > 128)
		return cc_error_set(CC_EINVALID, "%s name '%.40s...' is longer than 128 characters",
				    what, name);
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)name[i]))
			return cc_error_set(CC_EINVALID,
					    "invalid %s name: control or non-ASCII characters are not "
					    "allowed (use letters, digits, '.', '_', '-')", what);
	if (!isalnum((unsigned char)name[0]))
		return cc_error_set(CC_EINVALID,
				    "invalid %s name '%s': must start with a letter or digit",
				    what, name);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return cc_error_set(CC_EINVALID,
					    "invalid %s name '%s': character '%c' not allowed "
					    "(use letters, digits, '.', '_', '-')",
					    what, name, isprint(c) ? c : '?');
	}
	if (strstr(name, ".."))
		return cc_error_set(CC_EINVALID, "invalid %s name '%s': '..' not allowed", what,
				    name);
	return 0;
}

int cc_dns_name_valid(const char *name, int allow_wildcard)
{
	size_t len = name ? strlen(name) : 0, label = 0;
	const char *p = name;
	int all_digits = 1;

	if (len == 0 || len > 253)
		return 0;
	if (allow_wildcard && strncmp(p, "*.", 2) == 0)
		p += 2;
	if (!*p)
		return 0;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return 0;
		if (label == 0 && c == '-')
			return 0;
		if (!isdigit(c))
			all_digits = 0;
		if (++label > 63)
			return 0;
	}
	if (label == 0 && p[-1] == '.')
		return 1; /* a trailing dot is the root */
	if (p[-1] == '-')
		return 0;
	/* All-numeric names are addresses, not host names. */
	return !all_digits;
}

int cc_ip_valid(const char *text)
{
	unsigned char addr[16];

	return text && (inet_pton(AF_INET, text, addr) == 1 ||
			inet_pton(AF_INET6, text, addr) == 1);
}

int cc_email_valid(const char *text)
{
	const char *at = text ? strchr(text, '@') : NULL;

	if (!at || at == text || strchr(at + 1, '@'))
		return 0;
	for (const char *p = text; p < at; p++)
		if (!isgraph((unsigned char)*p) || *p == '<' || *p == '>' || *p == ',')
			return 0;
	return cc_dns_name_valid(at + 1, 0);
}

int cc_uri_valid(const char *text)
{
	const char *p = text;

	if (!p || !isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || !p[1])
		return 0;
	for (p++; *p; p++)
		if (!isgraph((unsigned char)*p))
			return 0;
	return 1;
}

int cc_country_valid(const char *text)
{
	return text && strlen(text) == 2 && isupper((unsigned char)text[0]) &&
	       isupper((unsigned char)text[1]);
}

void cc_time_now_rfc3339(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cc_hex(char *out, const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

int cc_base64_encode(cc_buf *out, const unsigned char *data, size_t len)
{
	size_t need = 4 * ((len + 2) / 3);
	int n;

	if (len > INT_MAX / 2 || cc_buf_grow(out, need) < 0)
		return cc_error_set(CC_ERROR, "out of memory");
	n = EVP_EncodeBlock((unsigned char *)out->ptr + out->size, data, (int)len);
	out->size += (size_t)n;
	out->ptr[out->size] = '\0';
	return 0;
}

int cc_base64_decode(cc_buf *out, const char *text)
{
	size_t len = strlen(text), pad = 0;
	int n;

	if (len % 4 || len > INT_MAX / 2)
		return cc_error_set(CC_EINVALID, "invalid base64 text");
	if (cc_buf_grow(out, len) < 0)
		return CC_ERROR;
	n = EVP_DecodeBlock((unsigned char *)out->ptr + out->size, (const unsigned char *)text,
			    (int)len);
	if (n < 0)
		return cc_error_set(CC_EINVALID, "invalid base64 text");
	if (len && text[len - 1] == '=')
		pad++;
	if (len > 1 && text[len - 2] == '=')
		pad++;
	out->size += (size_t)n - pad;
	out->ptr[out->size] = '\0';
	return 0;
}

int cc_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	if (EVP_Digest(data ? data : "", len, md, &n, EVP_sha256(), NULL) != 1)
		return cc_error_openssl(CC_ERROR, "SHA-256");
	cc_hex(out, md, 32);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

void cc_html_escape(cc_buf *out, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '<': cc_buf_puts(out, "&lt;"); break;
		case '>': cc_buf_puts(out, "&gt;"); break;
		case '&': cc_buf_puts(out, "&amp;"); break;
		case '"': cc_buf_puts(out, "&quot;"); break;
		case '\'': cc_buf_puts(out, "&#39;"); break;
		default: cc_buf_putc(out, *s);
		}
}

/* Edits between two words, a swap of neighbours counting as one (OSA). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[65][65];

	if (la > 64 || lb > 64)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cc_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = 3; /* more than two edits is no longer a typo */

	for (size_t i = 0; candidates[i]; i++) {
		size_t d = edit_distance(word, candidates[i]);

		if (d < best_d || (d == best_d && !best && strncmp(word, candidates[i], 3) == 0)) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}

int cc_time_parse_rfc3339(time_t *out, const char *text)
{
	struct tm tm;
	int used = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || !used || text[used] ||
	    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return cc_error_set(CC_EINVALID, "'%s' is not a UTC time like 2026-11-24T10:00:00Z",
				    text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
}
