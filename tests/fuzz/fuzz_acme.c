/*
 * What certctl reads from an ACME server's replies: the header lines
 * (cc_http_header: Location, Replay-Nonce, Retry-After, Content-Type,
 * Link), Retry-After as seconds or an HTTP date (cc_http_retry_after_ms),
 * Link relations (cc_http_link), RFC 7807 problem documents with their
 * subproblems (cc_acme_problem, over JSON from jansson) and challenge
 * tokens (cc_acme_token_valid).
 *
 * An input is an HTTP status line, header lines, a blank line, the body
 * (CRLF or LF).  What must hold: the error certctl makes of a reply is
 * one line of printable text (a server's detail must not forge lines or
 * drive the terminal) with the code asked for or CC_EAUTH; waits stay
 * within their bounds; a token accepted is base64url only.
 */
#include <string.h>
#include "internal.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void one_line(const char *what)
{
	const char *m = cc_error_last();

	if (!*m)
		FUZZ_FAIL("%s: no message", what);
	for (const unsigned char *p = (const unsigned char *)m; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			FUZZ_FAIL("%s: control character 0x%02x in '%s'", what, *p, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_http_response r;
	const char *p = (const char *)data, *end = p + size;
	long wait;
	int rc;

	memset(&r, 0, sizeof(r));
	r.status = 400;
	/* Header lines up to the first empty one, as libcurl hands them over. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		size_t bare = len - (nl ? 1 : 0);

		if (bare && p[bare - 1] == '\r')
			bare--;
		if (bare == 0) {
			p += len;
			break;
		}
		if (bare > 12 && !memcmp(p, "HTTP/1.1 ", 9))
			r.status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
		cc_http_header(&r, p, len);
		p += len;
	}
	if (cc_buf_put(&r.body, p, (size_t)(end - p)) < 0)
		FUZZ_FAIL("out of memory");

	wait = cc_http_retry_after_ms(&r, 1000, 60000);
	if (wait < 0 || wait > 60000)
		FUZZ_FAIL("Retry-After gives a wait of %ld ms, bounds 0-60000", wait);
	for (size_t i = 0; i < 4; i++) {
		char *up = cc_http_link(&r, "up", i), *alt = cc_http_link(&r, "alternate", i);

		if (up && !*up)
			FUZZ_FAIL("an empty Link URL");
		free(up);
		free(alt);
	}

	rc = cc_acme_problem(CC_ENET, "fuzz", &r);
	if (rc != CC_ENET && rc != CC_EAUTH)
		FUZZ_FAIL("cc_acme_problem returned %d", rc);
	if (rc != cc_error_code())
		FUZZ_FAIL("cc_acme_problem returned %d, the last error is %d", rc, cc_error_code());
	one_line("cc_acme_problem");
	cc_error_clear();

	/* The body's first line as a challenge token. */
	{
		char token[300];
		size_t n = (size_t)(end - p) < sizeof(token) - 1 ? (size_t)(end - p) : sizeof(token) - 1;

		memcpy(token, p, n);
		token[n] = '\0';
		token[strcspn(token, "\r\n")] = '\0';
		if (cc_acme_token_valid(token)) {
			size_t len = strlen(token);

			if (len < 1 || len > 256 || strchr(token, '/') || strchr(token, '.') ||
			    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
				    len)
				FUZZ_FAIL("token '%s' accepted", token);
		}
	}
	cc_http_response_dispose(&r);
	return 0;
}
