/*
 * HTTP(S) requests through libcurl, bounded in size and time: what ACME
 * and AIA fetching need, and nothing the network can use to make us hang
 * or grow without limit.  TLS verification is always on.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "internal.h"

#ifndef CERTCTL_VERSION
#define CERTCTL_VERSION "0"
#endif

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;

static void curl_setup(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct transfer {
	cc_http_response *resp;
	size_t max_body;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct transfer *t = opaque;
	size_t len = size * nmemb;

	if (t->resp->body.size + len > t->max_body) {
		t->too_big = 1;
		return 0; /* aborts the transfer */
	}
	return cc_buf_put(&t->resp->body, data, len) < 0 ? 0 : len;
}

/* A header value without surrounding blanks, malloc'ed. */
static char *header_value(const char *data, size_t len, size_t name_len)
{
	const char *v = data + name_len + 1, *end = data + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	return strndup(v, (size_t)(end - v));
}

static int header_is(const char *data, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && data[n] == ':' && strncasecmp(data, name, n) == 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct transfer *t = opaque;

	cc_http_header(t->resp, data, size * nmemb);
	return size * nmemb;
}

void cc_http_header(cc_http_response *r, const char *data, size_t len)
{
	char **slot = NULL;

	/* A new status line (after a 100 Continue or a redirect) starts over. */
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(r->location), r->location = NULL;
		free(r->replay_nonce), r->replay_nonce = NULL;
		free(r->retry_after), r->retry_after = NULL;
		free(r->content_type), r->content_type = NULL;
		cc_strlist_dispose(&r->links);
		return;
	}
	if (header_is(data, len, "Location"))
		slot = &r->location;
	else if (header_is(data, len, "Replay-Nonce"))
		slot = &r->replay_nonce;
	else if (header_is(data, len, "Retry-After"))
		slot = &r->retry_after;
	else if (header_is(data, len, "Content-Type"))
		slot = &r->content_type;
	if (slot) {
		free(*slot);
		*slot = header_value(data, len, strchr(data, ':') - data);
	} else if (header_is(data, len, "Link") && r->links.count < 64) {
		char *v = header_value(data, len, 4);

		if (v)
			cc_strlist_add(&r->links, v);
		free(v);
	}
}

int cc_http_do(const cc_http_request *req, cc_http_response *resp)
{
	struct transfer t = { resp, req->max_body ? req->max_body : 1 << 20, 0 };
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *curl;
	CURLcode res;
	long timeout = req->timeout_ms > 0 ? req->timeout_ms : 30000;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	pthread_once(&curl_once, curl_setup);
	if (!curl_ready || !(curl = curl_easy_init()))
		return cc_error_set(CC_ERROR, "cannot set up libcurl");
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, req->allow_http ? "http,https" : "https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, req->allow_http ? "http,https" : "https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "certctl/" CERTCTL_VERSION);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t.max_body);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, req->ca_file);
	if (req->follow_redirects) {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
	}
	if (req->accept)
		headers = curl_slist_append(headers, req->accept);
	if (req->body) {
		char ct[128];

		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 req->content_type ? req->content_type : "application/octet-stream");
		headers = curl_slist_append(headers, ct);
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (req->head) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	}
	if (headers)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	res = curl_easy_perform(curl);
	if (res != CURLE_OK) {
		int code = res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CONNECT_ERROR ||
				   res == CURLE_SSL_CACERT_BADFILE
			   ? CC_ETLS
			   : CC_ENET;

		if (t.too_big || res == CURLE_FILESIZE_EXCEEDED)
			rc = cc_error_set(CC_ENET, "%s: the reply is larger than %zu bytes", req->url,
					  t.max_body);
		else
			rc = cc_error_set(code, "%s: %s", req->url,
					  *errbuf ? errbuf : curl_easy_strerror(res));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (rc < 0)
		cc_http_response_dispose(resp);
	return rc;
}

void cc_http_response_dispose(cc_http_response *resp)
{
	if (!resp)
		return;
	cc_buf_dispose(&resp->body);
	free(resp->location);
	free(resp->replay_nonce);
	free(resp->retry_after);
	free(resp->content_type);
	cc_strlist_dispose(&resp->links);
	memset(resp, 0, sizeof(*resp));
}

long cc_http_retry_after_ms(const cc_http_response *resp, long fallback_ms, long max_ms)
{
	const char *v = resp->retry_after;
	long ms = fallback_ms;

	if (v && *v && strspn(v, "0123456789") == strlen(v) && strlen(v) < 9)
		ms = atol(v) * 1000;
	else if (v && *v) {
		/* An HTTP date: the delay until then. */
		time_t when = curl_getdate(v, NULL);

		if (when > 0) {
			long long delta = (long long)(when - time(NULL)) * 1000;

			ms = delta < 0 ? 0 : delta > max_ms ? max_ms : (long)delta;
		}
	}
	return ms > max_ms ? max_ms : ms < 0 ? 0 : ms;
}

char *cc_http_link(const cc_http_response *resp, const char *rel, size_t nth)
{
	size_t seen = 0;

	for (size_t i = 0; i < resp->links.count; i++) {
		/* Link: <URL>;rel="up", <URL2>;rel="alternate" */
		const char *p = resp->links.items[i];

		while (p && *p) {
			const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
			const char *next = gt ? strchr(gt, ',') : NULL;
			const char *r = gt ? strstr(gt, "rel=") : NULL;

			if (!gt)
				break;
			/* An empty target (<>) names nothing to fetch. */
			if (r && (!next || r < next) && gt > lt + 1) {
				const char *val = r + 4;
				size_t rl = strlen(rel);

				if (*val == '"')
					val++;
				if (strncmp(val, rel, rl) == 0 && (val[rl] == '"' || val[rl] == ';' ||
								   val[rl] == ',' || val[rl] == '\0' ||
								   val[rl] == ' ')) {
					if (seen++ == nth)
						return strndup(lt + 1, (size_t)(gt - lt - 1));
				}
			}
			p = next ? next + 1 : NULL;
		}
	}
	return NULL;
}

size_t cc_curl_upload_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	cc_curl_upload *u = userdata;
	size_t n = size * nmemb, left = u->data->size - u->off;

	if (n > left)
		n = left;
	if (n)
		memcpy(ptr, u->data->ptr + u->off, n);
	u->off += n;
	return n;
}
