/*
 * An ACME client (RFC 8555) for acquisitions from an "acme" provider.
 *
 * Accounts live in acme/<provider>/account.yaml with their key in keys/
 * like every key.  One acquisition: new order for the definition's names,
 * one challenge per authorization (http-01 by a built-in responder or a
 * webroot, dns-01 by a hook program), finalize with the request's CSR,
 * download the chain, and store it through cc_acquire_receive().  Progress
 * is committed as the request's state (ordered, failed) so an interrupted
 * acquisition can be resumed.  Every wait is bounded by the provider's
 * timeout; polling follows Retry-After, else a short growing backoff.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "internal.h"


/* ---- small helpers ---------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cc_base64url(cc_buf *out, const void *data, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		char q[4] = { alphabet[p[i] >> 2], alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			      alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
			      alphabet[p[i + 2] & 63] };

		if (cc_buf_put(out, q, 4) < 0)
			return -1;
	}
	if (len - i == 1) {
		char q[2] = { alphabet[p[i] >> 2], alphabet[(p[i] & 3) << 4] };

		return cc_buf_put(out, q, 2);
	}
	if (len - i == 2) {
		char q[3] = { alphabet[p[i] >> 2], alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			      alphabet[(p[i + 1] & 15) << 2] };

		return cc_buf_put(out, q, 3);
	}
	return 0;
}

/* base64url (padding optional) to bytes; -1 on a bad character. */
static int base64url_decode(cc_buf *out, const char *text)
{
	unsigned acc = 0;
	int bits = 0;

	for (const char *c = text; *c && *c != '='; c++) {
		int v = *c >= 'A' && *c <= 'Z'   ? *c - 'A'
			: *c >= 'a' && *c <= 'z' ? *c - 'a' + 26
			: *c >= '0' && *c <= '9' ? *c - '0' + 52
			: *c == '-' || *c == '+' ? 62
			: *c == '_' || *c == '/' ? 63
						 : -1;

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (cc_buf_putc(out, (char)((acc >> bits) & 0xff)) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the account key as JWK, and JWS signatures ------------------------ */

static int bn_param_b64(cc_buf *out, const EVP_PKEY *pkey, const char *name, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char bytes[1024];
	int len, rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return -1;
	len = pad ? BN_bn2binpad(bn, bytes, (int)pad) : BN_bn2bin(bn, bytes);
	if (len > 0 && (size_t)len <= sizeof(bytes))
		rc = cc_base64url(out, bytes, (size_t)len);
	BN_free(bn);
	return rc;
}

/* The JWK members in lexicographic order (RFC 7638), as JSON text. */
int cc_acme_jwk(cc_buf *out, const cc_key *key)
{
	EVP_PKEY *pkey = cc_key_get0_pkey(key);
	cc_key_spec spec;
	cc_buf a = CC_BUF_INIT, b = CC_BUF_INIT;
	int rc = -1;

	cc_key_get_spec(key, &spec);
	if (spec.type == CC_KEY_ECDSA && (spec.bits == 256 || spec.bits == 384)) {
		size_t n = spec.bits / 8;

		if (bn_param_b64(&a, pkey, OSSL_PKEY_PARAM_EC_PUB_X, n) == 0 &&
		    bn_param_b64(&b, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, n) == 0)
			rc = cc_buf_printf(out, "{\"crv\":\"P-%u\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
					   spec.bits, a.ptr, b.ptr);
	} else if (spec.type == CC_KEY_RSA) {
		if (bn_param_b64(&a, pkey, OSSL_PKEY_PARAM_RSA_E, 0) == 0 &&
		    bn_param_b64(&b, pkey, OSSL_PKEY_PARAM_RSA_N, 0) == 0)
			rc = cc_buf_printf(out, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", a.ptr,
					   b.ptr);
	} else if (spec.type == CC_KEY_ED25519) {
		unsigned char raw[32];
		size_t len = sizeof(raw);

		if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) == 1 && cc_base64url(&a, raw, len) == 0)
			rc = cc_buf_printf(out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
					   a.ptr);
	}
	cc_buf_dispose(&a);
	cc_buf_dispose(&b);
	return rc < 0 ? cc_error_set(CC_EINVALID, "the account key cannot be used for ACME") : 0;
}

int cc_acme_thumbprint(cc_buf *out, const cc_key *key)
{
	cc_buf jwk = CC_BUF_INIT;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int rc;

	if ((rc = cc_acme_jwk(&jwk, key)) == 0) {
		if (EVP_Digest(jwk.ptr, jwk.size, md, &mdlen, EVP_sha256(), NULL) != 1)
			rc = cc_error_openssl(CC_ERROR, "cannot hash the JWK");
		else
			rc = cc_base64url(out, md, mdlen);
	}
	cc_buf_dispose(&jwk);
	return rc;
}

static const char *jws_alg(const cc_key *key)
{
	cc_key_spec spec;

	cc_key_get_spec(key, &spec);
	if (spec.type == CC_KEY_ECDSA)
		return spec.bits == 384 ? "ES384" : "ES256";
	return spec.type == CC_KEY_ED25519 ? "EdDSA" : "RS256";
}

/* Sign `input`; ECDSA signatures become r||s as JWS wants them. */
static int jws_sign(cc_buf *sig_b64, const cc_key *key, const char *input)
{
	EVP_PKEY *pkey = cc_key_get0_pkey(key);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	cc_key_spec spec;
	const EVP_MD *md;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	int rc = 0;

	cc_key_get_spec(key, &spec);
	md = spec.type == CC_KEY_ED25519 ? NULL : spec.bits == 384 ? EVP_sha384() : EVP_sha256();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
		rc = cc_error_openssl(CC_ERROR, "cannot sign the ACME request");
		goto done;
	}
	if (spec.type == CC_KEY_ECDSA) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		size_t n = spec.bits == 384 ? 48 : 32;
		unsigned char rs[96];

		if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)n) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + n, (int)n) < 0) {
			ECDSA_SIG_free(es);
			rc = cc_error_openssl(CC_ERROR, "cannot convert the ECDSA signature");
			goto done;
		}
		ECDSA_SIG_free(es);
		rc = cc_base64url(sig_b64, rs, 2 * n);
	} else {
		rc = cc_base64url(sig_b64, sig, siglen);
	}
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* ---- the client --------------------------------------------------------- */

typedef struct {
	cc_repo *repo;
	const char *provider;
	const cc_node *conf;
	char *ca_file;
	long deadline_ms;
	double deadline; /* monotonic seconds */
	json_t *dir;
	char *nonce;
	cc_key *account_key;
	char *kid; /* account URL */
} acme_client;

static const char *dir_url(acme_client *c, const char *name)
{
	return json_string_value(json_object_get(c->dir, name));
}

static const char *conf_str(const acme_client *c, const char *path)
{
	const cc_node *n = c->conf;
	char part[64];

	while (n && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		snprintf(part, sizeof(part), "%.*s", (int)len, path);
		n = cc_node_get(n, part);
		path += len + (dot ? 1 : 0);
	}
	return cc_node_scalar(n);
}

static long conf_duration_ms(const acme_client *c, const char *path, long fallback_ms)
{
	const char *v = conf_str(c, path);
	long long s;

	if (!v || cc_duration_parse(&s, v) < 0) {
		cc_error_clear();
		return fallback_ms;
	}
	return (long)(s * 1000);
}

static int remaining_ms(const acme_client *c)
{
	double left = c->deadline - now_s();

	return left <= 0 ? 0 : (int)(left * 1000);
}

/* An ACME problem document as one line. */
int cc_acme_problem(int code, const char *what, const cc_http_response *r)
{
	json_error_t jerr;
	json_t *doc = r->body.size ? json_loadb(r->body.ptr, r->body.size, 0, &jerr) : NULL;
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *detail = json_string_value(json_object_get(doc, "detail"));
	json_t *subs = json_object_get(doc, "subproblems");
	cc_buf extra = CC_BUF_INIT;
	int rc;

	if (type && !strncmp(type, "urn:ietf:params:acme:error:", 27))
		type += 27;
	for (size_t i = 0; i < json_array_size(subs) && i < 5; i++) {
		json_t *s = json_array_get(subs, i);
		const char *st = json_string_value(json_object_get(s, "type"));
		const char *sd = json_string_value(json_object_get(s, "detail"));

		if (st && !strncmp(st, "urn:ietf:params:acme:error:", 27))
			st += 27;
		cc_buf_printf(&extra, "; %s: %s", st ? st : "?", sd ? sd : "");
	}
	if (type)
		rc = cc_error_set(!strcmp(type, "unauthorized") || !strcmp(type, "accountDoesNotExist")
					  ? CC_EAUTH
					  : code,
				  "%s: ACME server: %s: %s%s%s", what, type, detail ? detail : "",
				  extra.ptr ? extra.ptr : "",
				  !strcmp(type, "rateLimited") && r->retry_after ? " (retry later)" : "");
	else
		rc = cc_error_set(code, "%s: ACME server answered HTTP %ld%s%.*s", what, r->status,
				  r->body.size ? ": " : "", (int)(r->body.size > 200 ? 200 : r->body.size),
				  r->body.ptr ? r->body.ptr : "");
	json_decref(doc);
	cc_buf_dispose(&extra);
	return rc;
}

static int http(acme_client *c, cc_http_request *req, cc_http_response *resp)
{
	int left = remaining_ms(c);
	int rc;

	if (left <= 0)
		return cc_error_set(CC_ENET, "the ACME acquisition ran out of time (timeout %lds)",
				    c->deadline_ms / 1000);
	req->ca_file = c->ca_file;
	req->timeout_ms = left < 30000 ? left : 30000;
	req->max_body = req->max_body ? req->max_body : 1 << 20;
	rc = cc_http_do(req, resp);
	if (rc == 0 && resp->replay_nonce) {
		free(c->nonce);
		c->nonce = strdup(resp->replay_nonce);
	}
	return rc;
}

static int fetch_nonce(acme_client *c)
{
	cc_http_request req = { 0 };
	cc_http_response resp;
	int rc;

	req.url = dir_url(c, "newNonce");
	req.head = 1;
	if (!req.url)
		return cc_error_set(CC_EINVALID, "the ACME directory has no newNonce");
	if ((rc = http(c, &req, &resp)) < 0)
		return rc;
	if (!resp.replay_nonce)
		rc = cc_error_set(CC_ENET, "%s: no Replay-Nonce in the reply", req.url);
	cc_http_response_dispose(&resp);
	return rc;
}

/*
 * A badNonce is retried with the fresh nonce the error carries: servers may
 * reject good nonces at random (RFC 8555 6.5), and each retry is one round
 * trip under the acquisition's deadline.
 */
#define BAD_NONCE_RETRIES 16

/*
 * POST a JWS of `payload` (NULL: POST-as-GET) to `url`, signed with the
 * account key (by kid, or by jwk when there is no account yet).
 */
static int post(acme_client *c, const char *url, const char *payload, const char *accept,
		cc_http_response *resp)
{
	for (int attempt = 0;; attempt++) {
		cc_buf protected = CC_BUF_INIT, input = CC_BUF_INIT, sig = CC_BUF_INIT, body = CC_BUF_INIT,
		       jwk = CC_BUF_INIT, p64 = CC_BUF_INIT;
		json_t *hdr = json_object();
		char *hdr_text = NULL;
		cc_http_request req = { 0 };
		int rc = 0, bad_nonce = 0;

		if (!c->nonce && (rc = fetch_nonce(c)) < 0) {
			json_decref(hdr);
			return rc;
		}
		json_object_set_new(hdr, "alg", json_string(jws_alg(c->account_key)));
		if (c->kid) {
			json_object_set_new(hdr, "kid", json_string(c->kid));
		} else {
			json_error_t jerr;

			if ((rc = cc_acme_jwk(&jwk, c->account_key)) == 0)
				json_object_set_new(hdr, "jwk", json_loads(jwk.ptr, 0, &jerr));
		}
		json_object_set_new(hdr, "nonce", json_string(c->nonce));
		json_object_set_new(hdr, "url", json_string(url));
		free(c->nonce);
		c->nonce = NULL;
		hdr_text = json_dumps(hdr, JSON_COMPACT);
		json_decref(hdr);
		if (rc == 0 && (!hdr_text || cc_base64url(&protected, hdr_text, strlen(hdr_text)) < 0 ||
				(payload && cc_base64url(&p64, payload, strlen(payload)) < 0)))
			rc = cc_error_set(CC_ERROR, "out of memory");
		if (rc == 0)
			rc = cc_buf_printf(&input, "%s.%s", protected.ptr, p64.ptr ? p64.ptr : "");
		if (rc == 0)
			rc = jws_sign(&sig, c->account_key, input.ptr);
		if (rc == 0)
			rc = cc_buf_printf(&body,
					   "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
					   protected.ptr, p64.ptr ? p64.ptr : "", sig.ptr);
		if (rc == 0) {
			req.url = url;
			req.body = body.ptr;
			req.body_len = body.size;
			req.content_type = "application/jose+json";
			req.accept = accept;
			rc = http(c, &req, resp);
		}
		if (rc == 0 && resp->status == 400 && attempt < BAD_NONCE_RETRIES) {
			json_error_t jerr;
			json_t *doc = json_loadb(resp->body.ptr, resp->body.size, 0, &jerr);
			const char *type = json_string_value(json_object_get(doc, "type"));

			bad_nonce = type && !strcmp(type, "urn:ietf:params:acme:error:badNonce");
			json_decref(doc);
		}
		free(hdr_text);
		cc_buf_dispose(&protected);
		cc_buf_dispose(&input);
		cc_buf_dispose(&sig);
		cc_buf_dispose(&body);
		cc_buf_dispose(&jwk);
		cc_buf_dispose(&p64);
		if (rc < 0 || !bad_nonce)
			return rc;
		cc_http_response_dispose(resp); /* its Replay-Nonce is already ours */
	}
}

/* POST and parse a JSON reply with one of the `ok` statuses. */
static int post_json(acme_client *c, const char *url, const char *payload, const char *what,
		     json_t **out, cc_http_response *resp_out)
{
	cc_http_response resp;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if ((rc = post(c, url, payload, NULL, &resp)) < 0)
		return rc;
	if (resp.status < 200 || resp.status > 299) {
		rc = cc_acme_problem(CC_ENET, what, &resp);
	} else if (!(*out = json_loadb(resp.body.ptr, resp.body.size, 0, &jerr)) ||
		   !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = cc_error_set(CC_ENET, "%s: the ACME server's reply is not a JSON object", what);
	}
	if (resp_out && rc == 0)
		*resp_out = resp;
	else
		cc_http_response_dispose(&resp);
	return rc;
}

static int load_directory(acme_client *c)
{
	cc_http_request req = { 0 };
	cc_http_response resp;
	json_error_t jerr;
	int rc;

	req.url = conf_str(c, "directory");
	if (!req.url || strncmp(req.url, "https://", 8) != 0)
		return cc_error_set(CC_EINVALID, "provider '%s': directory must be an https:// URL",
				    c->provider);
	if ((rc = http(c, &req, &resp)) < 0)
		return rc;
	if (resp.status != 200)
		rc = cc_acme_problem(CC_ENET, req.url, &resp);
	else if (!(c->dir = json_loadb(resp.body.ptr, resp.body.size, 0, &jerr)) ||
		 !json_is_object(c->dir) || !dir_url(c, "newNonce") || !dir_url(c, "newAccount") ||
		 !dir_url(c, "newOrder"))
		rc = cc_error_set(CC_ENET, "%s: not an ACME directory", req.url);
	cc_http_response_dispose(&resp);
	return rc;
}

/* ---- accounts ------------------------------------------------------------ */

static int account_path(cc_buf *out, const char *provider)
{
	return cc_buf_printf(out, "acme/%s/account.yaml", provider);
}

static int load_account(acme_client *c)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_node *root = NULL;
	const char *url, *key_id;
	int rc;

	if ((rc = account_path(&rel, c->provider)) < 0)
		goto done;
	rc = cc_repo_read(c->repo, rel.ptr, &text);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		rc = 0;
		goto done;
	}
	if (rc < 0 || (rc = cc_node_parse(&root, text.ptr, text.size, rel.ptr)) < 0)
		goto done;
	url = cc_node_scalar(cc_node_get(root, "url"));
	key_id = cc_node_scalar(cc_node_get(root, "key"));
	if (!url || !key_id) {
		rc = cc_node_error(root, CC_EINVALID, "an ACME account needs url and key");
		goto done;
	}
	if ((rc = cc_key_load(&c->account_key, c->repo, key_id)) < 0)
		goto done;
	c->kid = strdup(url);
done:
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

/* The contacts of the configuration as a JSON array of mailto: URLs. */
static json_t *contacts(const acme_client *c)
{
	const cc_node *list = cc_node_get(c->conf, "contact");
	json_t *arr = json_array();

	for (size_t i = 0; list && i < cc_node_count(list); i++) {
		const char *v = cc_node_scalar(cc_node_at(list, i));
		cc_buf url = CC_BUF_INIT;

		if (!v)
			continue;
		cc_buf_printf(&url, "%s%s", strncmp(v, "mailto:", 7) ? "mailto:" : "", v);
		json_array_append_new(arr, json_string(url.ptr));
		cc_buf_dispose(&url);
	}
	if (!list && cc_node_scalar(cc_node_get(c->conf, "contact"))) {
		const char *v = cc_node_scalar(cc_node_get(c->conf, "contact"));
		cc_buf url = CC_BUF_INIT;

		cc_buf_printf(&url, "%s%s", strncmp(v, "mailto:", 7) ? "mailto:" : "", v);
		json_array_append_new(arr, json_string(url.ptr));
		cc_buf_dispose(&url);
	}
	return arr;
}

/* RFC 8555 7.3.4: a JWS over the account JWK with the EAB MAC key. */
static int eab_binding(acme_client *c, json_t **out)
{
	const char *kid = conf_str(c, "eab.kid"), *file = conf_str(c, "eab.hmac_key_file");
	const char *env = conf_str(c, "eab.hmac_key_env");
	cc_buf keytext = CC_BUF_INIT, mac_key = CC_BUF_INIT, prot = CC_BUF_INIT, pay = CC_BUF_INIT,
	       input = CC_BUF_INIT, sig = CC_BUF_INIT, jwk = CC_BUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char *hdr = NULL;
	json_t *h;
	int rc = 0;

	*out = NULL;
	if (!kid)
		return 0;
	if (file) {
		if ((rc = cc_fs_read(&keytext, file, 4096)) < 0)
			goto done;
	} else if (env && getenv(env)) {
		rc = cc_buf_puts(&keytext, getenv(env));
	} else if (env) {
		rc = cc_error_set(CC_EINVALID, "provider '%s': eab.hmac_key_env names %s, which is "
				  "not set", c->provider, env);
		goto done;
	} else {
		rc = cc_error_set(CC_EINVALID, "provider '%s': eab.kid needs eab.hmac_key_file or "
				  "eab.hmac_key_env", c->provider);
		goto done;
	}
	while (keytext.size && (keytext.ptr[keytext.size - 1] == '\n' || keytext.ptr[keytext.size - 1] == '\r'))
		keytext.ptr[--keytext.size] = '\0';
	if (rc < 0 || base64url_decode(&mac_key, keytext.ptr ? keytext.ptr : "") < 0 || !mac_key.size) {
		rc = cc_error_set(CC_EINVALID, "provider '%s': the EAB HMAC key is not base64url",
				  c->provider);
		goto done;
	}
	h = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", kid, "url", dir_url(c, "newAccount"));
	hdr = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	if (!hdr || (rc = cc_acme_jwk(&jwk, c->account_key)) < 0 ||
	    cc_base64url(&prot, hdr, strlen(hdr)) < 0 || cc_base64url(&pay, jwk.ptr, jwk.size) < 0 ||
	    cc_buf_printf(&input, "%s.%s", prot.ptr, pay.ptr) < 0 ||
	    !HMAC(EVP_sha256(), mac_key.ptr, (int)mac_key.size, (unsigned char *)input.ptr, input.size,
		  mac, &maclen) ||
	    cc_base64url(&sig, mac, maclen) < 0) {
		rc = rc < 0 ? rc : cc_error_openssl(CC_ERROR, "cannot compute the EAB binding");
		goto done;
	}
	*out = json_pack("{s:s, s:s, s:s}", "protected", prot.ptr, "payload", pay.ptr, "signature",
			 sig.ptr);
done:
	free(hdr);
	cc_buf_dispose_secure(&keytext);
	cc_buf_dispose_secure(&mac_key);
	cc_buf_dispose(&prot);
	cc_buf_dispose(&pay);
	cc_buf_dispose(&input);
	cc_buf_dispose(&sig);
	cc_buf_dispose(&jwk);
	return rc;
}

static int write_account(cc_txn *txn, const acme_client *c)
{
	cc_buf out = CC_BUF_INIT, rel = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	char now[32];
	int rc;

	cc_time_now_rfc3339(now);
	cc_buf_puts(&out, "# certctl ACME account; its key is in keys/.\n");
	if ((rc = cc_yaml_writer_new(&w, &out)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_key(w, "directory");
	rc = rc ? rc : cc_yaml_scalar(w, conf_str(c, "directory"));
	rc = rc ? rc : cc_yaml_key(w, "url");
	rc = rc ? rc : cc_yaml_scalar(w, c->kid);
	rc = rc ? rc : cc_yaml_key(w, "key");
	rc = rc ? rc : cc_yaml_scalar(w, cc_key_id(c->account_key));
	rc = rc ? rc : cc_yaml_key(w, "created");
	rc = rc ? rc : cc_yaml_scalar(w, now);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	if (rc == 0 && (rc = account_path(&rel, c->provider)) == 0)
		rc = cc_txn_write(txn, rel.ptr, out.ptr, out.size, 0644);
done:
	cc_yaml_writer_free(w);
	cc_buf_dispose(&out);
	cc_buf_dispose(&rel);
	return rc;
}

/* Register an account (new key) and commit it; an existing account for the
 * key is found again by the server (200 instead of 201). */
static int register_account(acme_client *c)
{
	cc_key_spec spec = { CC_KEY_ECDSA, 256 };
	json_t *payload = json_object(), *eab = NULL, *reply = NULL;
	const char *tos = json_string_value(json_object_get(json_object_get(c->dir, "meta"),
							     "termsOfService"));
	const char *agree = conf_str(c, "agree_tos");
	cc_http_response resp;
	cc_txn *txn = NULL;
	char *text = NULL;
	cc_buf summary = CC_BUF_INIT, origin = CC_BUF_INIT;
	int rc;

	memset(&resp, 0, sizeof(resp));
	if (tos && !(agree && !strcmp(agree, "true"))) {
		rc = cc_error_set(CC_EINVALID, "provider '%s': the ACME server's terms of service "
				  "(%s) must be agreed to: set agree_tos: true in its configuration",
				  c->provider, tos);
		goto done;
	}
	if ((rc = cc_key_generate(&c->account_key, &spec)) < 0 || (rc = eab_binding(c, &eab)) < 0)
		goto done;
	if (json_object_get(json_object_get(c->dir, "meta"), "externalAccountRequired") == json_true() &&
	    !eab) {
		rc = cc_error_set(CC_EINVALID, "provider '%s': the ACME server requires External "
				  "Account Binding (eab.kid, and eab.hmac_key_file or eab.hmac_key_env)", c->provider);
		goto done;
	}
	json_object_set_new(payload, "termsOfServiceAgreed", tos ? json_true() : json_false());
	json_object_set_new(payload, "contact", contacts(c));
	if (eab)
		json_object_set_new(payload, "externalAccountBinding", eab);
	text = json_dumps(payload, JSON_COMPACT);
	if ((rc = post_json(c, dir_url(c, "newAccount"), text, "new account", &reply, &resp)) < 0)
		goto done;
	if (!resp.location) {
		rc = cc_error_set(CC_ENET, "new account: no account URL (Location) in the reply");
		goto done;
	}
	c->kid = strdup(resp.location);
	cc_buf_printf(&origin, "ACME account of provider '%s'", c->provider);
	cc_buf_printf(&summary, "acme: %s: account registered", c->provider);
	if ((rc = cc_txn_begin(&txn, c->repo, "acme account")) < 0 ||
	    (rc = cc_key_store(txn, c->account_key, origin.ptr)) < 0 ||
	    (rc = write_account(txn, c)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Provider", c->provider)) < 0)
		goto done;
	rc = cc_txn_commit(txn, summary.ptr, NULL);
	txn = NULL;
done:
	cc_txn_abort(txn);
	json_decref(payload);
	json_decref(reply);
	free(text);
	cc_http_response_dispose(&resp);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&origin);
	return rc;
}

/* ---- challenges ---------------------------------------------------------- */

typedef struct {
	char *token, *keyauth;
} http_token;

typedef struct {
	int fd;
	pthread_t thread;
	int running;
	volatile int stop;
	pthread_mutex_t lock;
	http_token *tokens;
	size_t ntokens;
} http_responder;

static void respond(http_responder *r, int fd)
{
	char buf[4096], path[1024], out[1536];
	size_t len = 0;
	double until = now_s() + 5.0;

	/* Read the request line (bounded: 4 kB, 5 s). */
	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (now_s() > until || poll(&p, 1, 200) < 0)
			return;
		if (!(p.revents & POLLIN))
			continue;
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (sscanf(buf, "GET %1023s", path) == 1 &&
	    !strncmp(path, "/.well-known/acme-challenge/", 28)) {
		const char *token = path + 28;

		pthread_mutex_lock(&r->lock);
		for (size_t i = 0; i < r->ntokens; i++)
			if (!strcmp(r->tokens[i].token, token)) {
				int n = snprintf(out, sizeof(out),
						 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
						 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
						 strlen(r->tokens[i].keyauth), r->tokens[i].keyauth);

				pthread_mutex_unlock(&r->lock);
				if (n > 0 && send(fd, out, (size_t)n, MSG_NOSIGNAL) < 0)
					return;
				return;
			}
		pthread_mutex_unlock(&r->lock);
	}
	{
		static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					 "Connection: close\r\n\r\n";

		if (send(fd, nf, sizeof(nf) - 1, MSG_NOSIGNAL) < 0)
			return;
	}
}

static void *responder_main(void *opaque)
{
	http_responder *r = opaque;

	while (!r->stop) {
		struct pollfd p = { r->fd, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 100) <= 0 || !(p.revents & POLLIN))
			continue;
		fd = accept(r->fd, NULL, NULL);
		if (fd < 0)
			continue;
		respond(r, fd);
		close(fd);
	}
	return NULL;
}

/* Listen on "ADDRESS:PORT" ("[::1]:80", "127.0.0.1:5002", ":80"). */
static int responder_start(http_responder *r, const char *listen_on)
{
	char host[256] = "", port[16] = "80";
	struct addrinfo hints, *ai = NULL;
	const char *colon = strrchr(listen_on, ':');
	int one = 1, err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	if (colon) {
		size_t hl = (size_t)(colon - listen_on);

		if (hl >= 2 && listen_on[0] == '[' && listen_on[hl - 1] == ']')
			snprintf(host, sizeof(host), "%.*s", (int)(hl - 2), listen_on + 1);
		else
			snprintf(host, sizeof(host), "%.*s", (int)hl, listen_on);
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else {
		snprintf(host, sizeof(host), "%s", listen_on);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((err = getaddrinfo(*host ? host : NULL, port, &hints, &ai)) != 0)
		return cc_error_set(CC_EINVALID, "http01.listen '%s': %s", listen_on, gai_strerror(err));
	r->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0 || setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(r->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(r->fd, 16) < 0) {
		err = cc_error_errno(CC_EIO, "http-01 responder: cannot listen on %s", listen_on);
		freeaddrinfo(ai);
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		return err;
	}
	freeaddrinfo(ai);
	if (pthread_create(&r->thread, NULL, responder_main, r) != 0) {
		close(r->fd);
		r->fd = -1;
		return cc_error_set(CC_ERROR, "cannot start the http-01 responder");
	}
	r->running = 1;
	return 0;
}

static int responder_add(http_responder *r, const char *token, const char *keyauth)
{
	http_token *grown;

	pthread_mutex_lock(&r->lock);
	grown = realloc(r->tokens, (r->ntokens + 1) * sizeof(*grown));
	if (grown) {
		r->tokens = grown;
		r->tokens[r->ntokens].token = strdup(token);
		r->tokens[r->ntokens].keyauth = strdup(keyauth);
		r->ntokens++;
	}
	pthread_mutex_unlock(&r->lock);
	return grown ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

static void responder_stop(http_responder *r)
{
	if (r->running) {
		r->stop = 1;
		pthread_join(r->thread, NULL);
	}
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].token);
		free(r->tokens[i].keyauth);
	}
	free(r->tokens);
	pthread_mutex_destroy(&r->lock);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Run the dns-01 hook (argv from the configuration) with the TXT record in
 * its environment, bounded by dns01.timeout. */
static int run_hook(acme_client *c, const char *action, const char *domain, const char *value)
{
	const cc_node *hook = cc_node_get(cc_node_get(c->conf, "dns01"), "hook");
	size_t n = cc_node_count(hook);
	char **argv = NULL;
	cc_buf e1 = CC_BUF_INIT, e2 = CC_BUF_INIT, e3 = CC_BUF_INIT, e4 = CC_BUF_INIT;
	cc_run_result res;
	int rc = 0;

	if (!hook || cc_node_kind(hook) != CC_NODE_SEQUENCE || !n)
		return cc_error_set(CC_EINVALID, "provider '%s': dns-01 needs dns01.hook, a list "
				    "(program and arguments)", c->provider);
	if (!(argv = calloc(n + 1, sizeof(*argv))))
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)cc_node_scalar(cc_node_at(hook, i));
	cc_buf_printf(&e1, "CERTCTL_ACME_ACTION=%s", action);
	cc_buf_printf(&e2, "CERTCTL_ACME_DOMAIN=%s", domain);
	cc_buf_printf(&e3, "CERTCTL_ACME_TXT_NAME=_acme-challenge.%s", domain);
	cc_buf_printf(&e4, "CERTCTL_ACME_TXT_VALUE=%s", value);
	{
		/* The repository's secret stays with us: cc_run drops CERTCTL_*. */
		const char *env[] = { e1.ptr, e2.ptr, e3.ptr, e4.ptr, NULL };
		cc_run_options ro = { argv, env, conf_duration_ms(c, "dns01.timeout", 60000), NULL,
				      2048 };

		if ((rc = cc_run(&ro, &res)) == 0) {
			if (res.timed_out)
				rc = cc_error_set(CC_ERROR, "dns-01 hook %s (%s %s) did not finish "
						  "within %lds", argv[0], action, domain,
						  ro.timeout_ms / 1000);
			else if (res.status != 0)
				rc = cc_error_set(CC_ERROR, "dns-01 hook %s (%s %s) failed with %s %d",
						  argv[0], action, domain,
						  res.signal ? "signal" : "exit status",
						  res.signal ? res.signal : res.status);
		}
		cc_run_result_dispose(&res);
	}
	free(argv);
	cc_buf_dispose(&e1);
	cc_buf_dispose(&e2);
	cc_buf_dispose(&e3);
	cc_buf_dispose(&e4);
	return rc;
}

/* Poll `url` (POST-as-GET) until its status leaves `pending`/`processing`
 * (and `ready` when `past_ready`); the final object goes to *out. */
static int poll_status(acme_client *c, const char *url, const char *what, int past_ready,
		       json_t **out)
{
	long backoff = 100;

	*out = NULL;
	for (int round = 0; round < 10000; round++) {
		cc_http_response resp;
		const char *status;
		long wait;
		int rc;

		memset(&resp, 0, sizeof(resp));
		if ((rc = post_json(c, url, NULL, what, out, &resp)) < 0)
			return rc;
		status = json_string_value(json_object_get(*out, "status"));
		if (!status) {
			cc_http_response_dispose(&resp);
			return cc_error_set(CC_ENET, "%s: the reply has no status", what);
		}
		if (strcmp(status, "pending") && strcmp(status, "processing") &&
		    (!past_ready || strcmp(status, "ready"))) {
			cc_http_response_dispose(&resp);
			return 0;
		}
		wait = cc_http_retry_after_ms(&resp, backoff, 10000);
		cc_http_response_dispose(&resp);
		json_decref(*out);
		*out = NULL;
		if (remaining_ms(c) <= wait)
			return cc_error_set(CC_ENET, "%s: still %s when the acquisition's time ran out "
					    "(timeout %lds)", what, status, c->deadline_ms / 1000);
		sleep_ms(wait);
		backoff = backoff * 3 / 2 > 2000 ? 2000 : backoff * 3 / 2;
	}
	return cc_error_set(CC_ENET, "%s: too many polls", what);
}

/* The reason a challenge or authorization failed, from its error member. */
static int challenge_error(const json_t *chall, const char *type, const char *domain)
{
	json_t *err = json_object_get(chall, "error");
	const char *et = json_string_value(json_object_get(err, "type"));
	const char *ed = json_string_value(json_object_get(err, "detail"));

	if (et && !strncmp(et, "urn:ietf:params:acme:error:", 27))
		et += 27;
	return cc_error_set(CC_EAUTH, "challenge %s for %s failed: %s%s%s", type, domain,
			    et ? et : "invalid", ed ? ": " : "", ed ? ed : "");
}

static int write_webroot(const char *webroot, const char *token, const char *keyauth,
			 cc_buf *path_out)
{
	int rc = cc_buf_printf(path_out, "%s/.well-known/acme-challenge/%s", webroot, token);

	if (rc == 0 && strchr(token, '/'))
		rc = cc_error_set(CC_EINVALID, "ACME token '%s' is not a file name", token);
	if (rc == 0)
		rc = cc_fs_mkdir_parents(path_out->ptr, 0755);
	if (rc == 0)
		rc = cc_fs_write_atomic(path_out->ptr, keyauth, strlen(keyauth), 0644);
	return rc;
}

/* Solve one authorization; returns when it is valid, or with an error. */
/*
 * RFC 8555 8.1: a token is base64url, and certctl writes it as a file name
 * and serves it as a path: anything else from the server is refused.
 */
int cc_acme_token_valid(const char *token)
{
	size_t n = token ? strlen(token) : 0;

	return n >= 1 && n <= 256 &&
	       strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* Whether the authorization's identifier is one certctl ordered: a server
 * must not get challenges answered (or DNS hooks run) for other names. */
static int ordered_identifier(const cc_definition *def, const char *type, const char *value,
			      int wildcard)
{
	int ip = type && !strcmp(type, "ip");
	const cc_strlist *names = ip ? &def->sans.ip : &def->sans.dns;

	if (!value)
		return 0;
	for (size_t i = 0; i < names->count; i++) {
		const char *n = names->items[i];

		if (ip) { /* as addresses: "2001:db8::1" is "2001:0db8:0::1" */
			unsigned char a[16], b[16];
			int af = strchr(n, ':') ? AF_INET6 : AF_INET;

			if (inet_pton(af, n, a) == 1 && inet_pton(af, value, b) == 1 &&
			    !memcmp(a, b, af == AF_INET6 ? 16 : 4))
				return 1;
		} else if (wildcard ? !strncmp(n, "*.", 2) && !strcasecmp(n + 2, value)
				    : !strcasecmp(n, value)) {
			return 1;
		}
	}
	/* A definition with no DNS name orders its CN (identifiers()). */
	return !def->sans.dns.count && !def->sans.ip.count && type && !strcmp(type, "dns") &&
	       def->subject.cn && !strcasecmp(def->subject.cn, value);
}

static int authorize(acme_client *c, const cc_definition *def, const char *authz_url,
		     http_responder *responder, cc_strlist *cleanup_files, cc_strlist *cleanup_dns)
{
	json_t *authz = NULL, *chall = NULL, *done_authz = NULL, *challenges;
	const char *want = conf_str(c, "challenge") ? conf_str(c, "challenge") : "http-01";
	const char *domain, *status, *token, *curl_ = NULL;
	cc_buf thumb = CC_BUF_INIT, keyauth = CC_BUF_INIT, txt = CC_BUF_INIT, path = CC_BUF_INIT;
	json_t *reply = NULL;
	int rc;

	if ((rc = post_json(c, authz_url, NULL, "authorization", &authz, NULL)) < 0)
		return rc;
	domain = json_string_value(json_object_get(json_object_get(authz, "identifier"), "value"));
	status = json_string_value(json_object_get(authz, "status"));
	if (!domain || !status) {
		rc = cc_error_set(CC_ENET, "%s: malformed authorization", authz_url);
		goto done;
	}
	if (!ordered_identifier(def,
				json_string_value(json_object_get(json_object_get(authz, "identifier"),
								  "type")),
				domain, json_is_true(json_object_get(authz, "wildcard")))) {
		rc = cc_error_set(CC_ENET, "%s: an authorization for '%s', which certctl did not order",
				  authz_url, domain);
		goto done;
	}
	if (!strcmp(status, "valid"))
		goto done;
	if (strcmp(status, "pending")) {
		rc = cc_error_set(CC_EAUTH, "authorization for %s is %s", domain, status);
		goto done;
	}
	challenges = json_object_get(authz, "challenges");
	for (size_t i = 0; i < json_array_size(challenges); i++) {
		json_t *ch = json_array_get(challenges, i);

		const char *type = json_string_value(json_object_get(ch, "type"));

		if (type && !strcmp(type, want))
			chall = ch;
	}
	token = json_string_value(json_object_get(chall, "token"));
	curl_ = json_string_value(json_object_get(chall, "url"));
	if (!chall || !token || !curl_) {
		rc = cc_error_set(CC_EINVALID, "the ACME server offers no %s challenge for %s", want,
				  domain);
		goto done;
	}
	if (!cc_acme_token_valid(token)) {
		rc = cc_error_set(CC_ENET, "%s: the %s challenge's token is not base64url", authz_url,
				  want);
		goto done;
	}
	if ((rc = cc_acme_thumbprint(&thumb, c->account_key)) < 0 ||
	    (rc = cc_buf_printf(&keyauth, "%s.%s", token, thumb.ptr)) < 0)
		goto done;
	if (!strcmp(want, "http-01")) {
		const char *webroot = conf_str(c, "http01.webroot");

		if (webroot) {
			if ((rc = write_webroot(webroot, token, keyauth.ptr, &path)) < 0)
				goto done;
			cc_strlist_add(cleanup_files, path.ptr);
		} else if ((rc = responder_add(responder, token, keyauth.ptr)) < 0) {
			goto done;
		}
	} else if (!strcmp(want, "dns-01")) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		long wait = conf_duration_ms(c, "dns01.wait", 0);

		EVP_Digest(keyauth.ptr, keyauth.size, md, &mdlen, EVP_sha256(), NULL);
		if ((rc = cc_base64url(&txt, md, mdlen)) < 0 ||
		    (rc = run_hook(c, "present", domain, txt.ptr)) < 0)
			goto done;
		cc_buf_clear(&path);
		cc_buf_printf(&path, "%s %s", domain, txt.ptr);
		cc_strlist_add(cleanup_dns, path.ptr);
		if (wait > 0)
			sleep_ms(wait < remaining_ms(c) ? wait : remaining_ms(c));
	} else {
		rc = cc_error_set(CC_EINVALID, "provider '%s': challenge must be http-01 or dns-01",
				  c->provider);
		goto done;
	}
	/* Tell the server to validate, then wait for the authorization. */
	if ((rc = post_json(c, curl_, "{}", "challenge", &reply, NULL)) < 0)
		goto done;
	if ((rc = poll_status(c, authz_url, "authorization", 0, &done_authz)) < 0)
		goto done;
	status = json_string_value(json_object_get(done_authz, "status"));
	if (strcmp(status, "valid")) {
		json_t *failed = NULL, *chs = json_object_get(done_authz, "challenges");

		for (size_t i = 0; i < json_array_size(chs); i++) {
			json_t *ch = json_array_get(chs, i);

			if (json_object_get(ch, "error"))
				failed = ch;
		}
		rc = failed ? challenge_error(failed, want, domain)
			    : cc_error_set(CC_EAUTH, "authorization for %s is %s", domain, status);
	}
done:
	json_decref(authz);
	json_decref(done_authz);
	json_decref(reply);
	cc_buf_dispose(&thumb);
	cc_buf_dispose(&keyauth);
	cc_buf_dispose(&txt);
	cc_buf_dispose(&path);
	return rc;
}

/* ---- ACME Renewal Information (draft-ietf-acme-ari) ---------------------- */

int cc_acme_ari_cert_id(cc_buf *out, const cc_cert *cert)
{
	X509 *x = cc_cert_get0_x509(cert);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	unsigned char *der = NULL;
	int len, rc;

	if (!aki)
		return cc_error_set(CC_EINVALID, "the certificate has no authority key identifier");
	len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der);
	/* The serial's content octets: after the tag and a short length. */
	if (len < 3 || der[1] & 0x80) {
		OPENSSL_free(der);
		return cc_error_set(CC_EINVALID, "unusual serial number encoding");
	}
	rc = cc_base64url(out, ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki));
	rc = rc ? rc : cc_buf_putc(out, '.');
	rc = rc ? rc : cc_base64url(out, der + 2, (size_t)len - 2);
	OPENSSL_free(der);
	return rc;
}

/* The server's suggested renewal window for `cert`, as a history line; 0
 * with an empty line when the server has no renewalInfo. */
static int renewal_info(acme_client *c, const cc_cert *cert, cc_buf *line)
{
	const char *base = dir_url(c, "renewalInfo");
	cc_buf url = CC_BUF_INIT, id = CC_BUF_INIT;
	cc_http_request req = { 0 };
	cc_http_response resp;
	json_error_t jerr;
	json_t *doc = NULL;
	int rc;

	if (!base)
		return 0;
	if ((rc = cc_acme_ari_cert_id(&id, cert)) < 0 ||
	    (rc = cc_buf_printf(&url, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/",
				id.ptr)) < 0)
		goto done;
	req.url = url.ptr;
	req.max_body = 64 * 1024;
	if ((rc = http(c, &req, &resp)) < 0)
		goto done;
	if (resp.status == 200 && (doc = json_loadb(resp.body.ptr, resp.body.size, 0, &jerr))) {
		json_t *w = json_object_get(doc, "suggestedWindow");
		const char *start = json_string_value(json_object_get(w, "start"));
		const char *end = json_string_value(json_object_get(w, "end"));

		if (start && end)
			cc_buf_printf(line, "renewal information: renew between %s and %s", start, end);
	}
	cc_http_response_dispose(&resp);
done:
	json_decref(doc);
	cc_buf_dispose(&url);
	cc_buf_dispose(&id);
	return rc;
}

/* ---- the acquisition -------------------------------------------------- */

static void client_dispose(acme_client *c)
{
	free(c->ca_file);
	json_decref(c->dir);
	free(c->nonce);
	cc_key_free(c->account_key);
	free(c->kid);
	memset(c, 0, sizeof(*c));
}

static int client_init(acme_client *c, cc_repo *repo, const char *provider)
{
	const cc_node *conf = cc_node_get(cc_node_get(cc_repo_config(repo), "providers"), provider);
	const char *type = cc_node_scalar(cc_node_get(conf, "type")), *bundle;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!conf || !type || strcmp(type, "acme"))
		return cc_error_set(CC_EINVALID, "provider '%s' is not an ACME provider", provider);
	c->repo = repo;
	c->provider = provider;
	c->conf = conf;
	c->deadline_ms = conf_duration_ms(c, "timeout", 300000);
	c->deadline = now_s() + (double)c->deadline_ms / 1000.0;
	bundle = conf_str(c, "ca_bundle");
	if (bundle && !(c->ca_file = strdup(bundle)))
		return cc_error_set(CC_ERROR, "out of memory");
	if ((rc = load_directory(c)) < 0 || (rc = load_account(c)) < 0)
		return rc;
	if (!c->kid)
		rc = register_account(c);
	return rc;
}

/* Record a failure on the request (state failed), committed. */
static void record_failure(cc_repo *repo, cc_request *req, const char *def_name)
{
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT, why = CC_BUF_INIT;
	int saved = cc_error_code();

	cc_buf_puts(&why, cc_error_last());
	cc_buf_printf(&summary, "acquire: %s: request %s failed", def_name, req->id);
	if (cc_txn_begin(&txn, repo, "acquire") == 0 &&
	    cc_request_transition(txn, req, CC_REQ_FAILED, why.ptr) == 0 &&
	    cc_txn_trailer(txn, "Certctl-Definition", def_name) == 0 &&
	    cc_txn_trailer(txn, "Certctl-Request", req->id) == 0) {
		cc_txn_commit(txn, summary.ptr, NULL);
		txn = NULL;
	}
	cc_txn_abort(txn);
	/* What the caller reports is the failure, not the bookkeeping. */
	cc_error_set(saved ? saved : CC_ERROR, "%s", why.ptr);
	cc_buf_dispose(&summary);
	cc_buf_dispose(&why);
}

static int save_progress(cc_repo *repo, cc_request *req, const char *def_name, const char *what)
{
	cc_txn *txn = NULL;
	cc_buf summary = CC_BUF_INIT;
	int rc;

	cc_buf_printf(&summary, "acquire: %s: request %s %s", def_name, req->id, what);
	if ((rc = cc_txn_begin(&txn, repo, "acquire")) < 0 ||
	    (rc = cc_request_transition(txn, req, CC_REQ_ORDERED, what)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Definition", def_name)) < 0 ||
	    (rc = cc_txn_trailer(txn, "Certctl-Request", req->id)) < 0) {
		cc_txn_abort(txn);
	} else {
		rc = cc_txn_commit(txn, summary.ptr, NULL);
	}
	cc_buf_dispose(&summary);
	return rc;
}

/* The identifiers of the order: the definition's DNS names and addresses. */
static json_t *identifiers(const cc_definition *def)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < def->sans.dns.count; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "type", "dns", "value",
						     def->sans.dns.items[i]));
	if (!def->sans.dns.count && !def->sans.ip.count && def->subject.cn &&
	    cc_dns_name_valid(def->subject.cn, 1))
		json_array_append_new(arr, json_pack("{s:s, s:s}", "type", "dns", "value",
						     def->subject.cn));
	for (size_t i = 0; i < def->sans.ip.count; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "type", "ip", "value",
						     def->sans.ip.items[i]));
	return arr;
}

/* The top issuer's CN of a PEM chain, for preferred_chain. */
static int chain_matches(const cc_buf *pem, const char *name)
{
	cc_cert **certs = NULL;
	size_t n = 0;
	int match = 0;

	if (cc_cert_parse_all(&certs, &n, pem->ptr, pem->size, "chain") == 0 && n) {
		const char *issuer = cc_cert_issuer(certs[n - 1]);
		const char *cn = strstr(issuer, "CN=");

		size_t len = strlen(name);

		match = cn && !strncmp(cn + 3, name, len) && (cn[3 + len] == ',' || !cn[3 + len]);
	} else {
		cc_error_clear();
	}
	cc_cert_list_free(certs, n);
	return match;
}

static int download_chain(acme_client *c, const char *url, cc_buf *pem)
{
	const char *preferred = conf_str(c, "preferred_chain");
	cc_http_response resp;
	int rc;

	if ((rc = post(c, url, NULL, "Accept: application/pem-certificate-chain", &resp)) < 0)
		return rc;
	if (resp.status != 200) {
		rc = cc_acme_problem(CC_ENET, "certificate download", &resp);
		cc_http_response_dispose(&resp);
		return rc;
	}
	rc = cc_buf_put(pem, resp.body.ptr, resp.body.size);
	if (rc == 0 && preferred && !chain_matches(pem, preferred)) {
		/* Alternate chains (RFC 8555 7.4.2): the first whose top matches. */
		for (size_t i = 0; i < 8; i++) {
			char *alt = cc_http_link(&resp, "alternate", i);
			cc_http_response ar;
			cc_buf apem = CC_BUF_INIT;

			if (!alt)
				break;
			if (post(c, alt, NULL, "Accept: application/pem-certificate-chain", &ar) == 0) {
				if (ar.status == 200 && cc_buf_put(&apem, ar.body.ptr, ar.body.size) == 0 &&
				    chain_matches(&apem, preferred)) {
					cc_buf_clear(pem);
					cc_buf_put(pem, apem.ptr, apem.size);
					i = 8;
				}
				cc_http_response_dispose(&ar);
			} else {
				cc_error_clear();
			}
			cc_buf_dispose(&apem);
			free(alt);
		}
	}
	cc_http_response_dispose(&resp);
	return rc;
}

int cc_acme_acquire(cc_repo *repo, const cc_definition *def, cc_request *req,
		    const cc_receive_options *ropts, cc_cert **cert_out)
{
	acme_client c;
	http_responder responder;
	cc_strlist files = CC_STRLIST_INIT, dns = CC_STRLIST_INIT;
	json_t *order = NULL, *payload = NULL, *final = NULL;
	cc_buf csr_pem = CC_BUF_INIT, csr_der = CC_BUF_INIT, csr64 = CC_BUF_INIT, chain = CC_BUF_INIT;
	cc_cert **certs = NULL;
	size_t ncerts = 0;
	char *text = NULL;
	const char *status, *finalize, *cert_url, *challenge;
	int rc, responder_on = 0;

	if (cert_out)
		*cert_out = NULL;
	memset(&responder, 0, sizeof(responder));
	responder.fd = -1;
	if ((rc = client_init(&c, repo, req->provider)) < 0)
		goto fail;
	challenge = conf_str(&c, "challenge") ? conf_str(&c, "challenge") : "http-01";
	if ((rc = cc_request_csr(&csr_pem, repo, req)) < 0 ||
	    (rc = cc_csr_to_der(&csr_pem, &csr_der)) < 0 ||
	    (rc = cc_base64url(&csr64, csr_der.ptr, csr_der.size)) < 0)
		goto fail;
	/* An order in progress is continued; an unusable one replaced. */
	if (req->acme_order) {
		if (post_json(&c, req->acme_order, NULL, "order", &order, NULL) < 0) {
			cc_error_clear();
			order = NULL;
		} else {
			status = json_string_value(json_object_get(order, "status"));
			if (!status || !strcmp(status, "invalid")) {
				json_decref(order);
				order = NULL;
			}
		}
	}
	if (!order) {
		cc_http_response resp;

		memset(&resp, 0, sizeof(resp));
		payload = json_pack("{s:o}", "identifiers", identifiers(def));
		/* A renewal names the certificate it replaces (ARI), when offered. */
		if (dir_url(&c, "renewalInfo")) {
			cc_cert *current = NULL;
			cc_buf ari_id = CC_BUF_INIT;

			if (cc_cert_current(&current, NULL, NULL, repo, def->name) == 0 &&
			    cc_acme_ari_cert_id(&ari_id, current) == 0)
				json_object_set_new(payload, "replaces", json_string(ari_id.ptr));
			cc_error_clear();
			cc_cert_free(current);
			cc_buf_dispose(&ari_id);
		}
		text = json_dumps(payload, JSON_COMPACT);
		if ((rc = post_json(&c, dir_url(&c, "newOrder"), text, "new order", &order, &resp)) < 0)
			goto fail;
		free(req->acme_order);
		req->acme_order = resp.location ? strdup(resp.location) : NULL;
		cc_http_response_dispose(&resp);
		if (!req->acme_order) {
			rc = cc_error_set(CC_ENET, "new order: no order URL (Location) in the reply");
			goto fail;
		}
		free(req->acme_account);
		req->acme_account = strdup(c.kid);
		free(req->acme_finalize);
		finalize = json_string_value(json_object_get(order, "finalize"));
		req->acme_finalize = finalize ? strdup(finalize) : NULL;
		if ((rc = save_progress(repo, req, def->name, "ordered")) < 0)
			goto fail;
	}
	status = json_string_value(json_object_get(order, "status"));
	if (status && !strcmp(status, "pending")) {
		json_t *authzs = json_object_get(order, "authorizations");

		if (!strcmp(challenge, "http-01") && !conf_str(&c, "http01.webroot")) {
			const char *listen_on = conf_str(&c, "http01.listen");

			if ((rc = responder_start(&responder, listen_on ? listen_on : "0.0.0.0:80")) < 0)
				goto fail;
			responder_on = 1;
		}
		for (size_t i = 0; i < json_array_size(authzs); i++)
			if ((rc = authorize(&c, def, json_string_value(json_array_get(authzs, i)),
					    &responder, &files, &dns)) < 0)
				goto fail;
		json_decref(order);
		order = NULL;
		if ((rc = poll_status(&c, req->acme_order, "order", 0, &order)) < 0)
			goto fail;
		status = json_string_value(json_object_get(order, "status"));
	}
	if (status && !strcmp(status, "ready")) {
		finalize = json_string_value(json_object_get(order, "finalize"));
		json_decref(payload);
		payload = json_pack("{s:s}", "csr", csr64.ptr);
		free(text);
		text = json_dumps(payload, JSON_COMPACT);
		json_decref(final);
		if (!finalize || (rc = post_json(&c, finalize, text, "finalize", &final, NULL)) < 0) {
			rc = finalize ? rc : cc_error_set(CC_ENET, "the order has no finalize URL");
			goto fail;
		}
		json_decref(order);
		order = NULL;
		if ((rc = poll_status(&c, req->acme_order, "order", 1, &order)) < 0)
			goto fail;
		status = json_string_value(json_object_get(order, "status"));
	}
	if (!status || strcmp(status, "valid")) {
		json_t *err = json_object_get(order, "error");
		const char *d = json_string_value(json_object_get(err, "detail"));

		rc = cc_error_set(CC_ENET, "the ACME order is %s%s%s", status ? status : "?",
				  d ? ": " : "", d ? d : "");
		goto fail;
	}
	cert_url = json_string_value(json_object_get(order, "certificate"));
	if (!cert_url) {
		rc = cc_error_set(CC_ENET, "the valid order has no certificate URL");
		goto fail;
	}
	free(req->acme_certificate);
	req->acme_certificate = strdup(cert_url);
	if ((rc = download_chain(&c, cert_url, &chain)) < 0 ||
	    (rc = cc_cert_parse_all(&certs, &ncerts, chain.ptr, chain.size, cert_url)) < 0)
		goto fail;
	{
		cc_buf line = CC_BUF_INIT;

		/* Advice only: a server without it, or failing to give it, is fine. */
		if (renewal_info(&c, certs[0], &line) == 0 && line.size)
			cc_request_transition(NULL, req, CC_REQ_ORDERED, line.ptr);
		cc_error_clear();
		cc_buf_dispose(&line);
	}
	{
		cc_txn *txn = NULL;
		cc_buf summary = CC_BUF_INIT;
		cc_cert *cert = NULL;

		if ((rc = cc_txn_begin(&txn, repo, "acquire")) < 0 ||
		    (rc = cc_acquire_receive(txn, def, req, certs, ncerts, ropts, &cert)) < 0 ||
		    (rc = cc_txn_trailer(txn, "Certctl-Definition", def->name)) < 0 ||
		    (rc = cc_txn_trailer(txn, "Certctl-Request", req->id)) < 0 ||
		    (rc = cc_txn_trailer(txn, "Certctl-Certificate", cc_cert_id(cert))) < 0) {
			cc_txn_abort(txn);
			cc_cert_free(cert);
			goto fail;
		}
		cc_buf_printf(&summary, "acquire: %s: certificate %s received from %s (request %s)",
			      def->name, cc_cert_id(cert), req->provider, req->id);
		rc = cc_txn_commit(txn, summary.ptr, NULL);
		cc_buf_dispose(&summary);
		if (rc < 0) {
			cc_cert_free(cert);
			goto fail;
		}
		if (cert_out)
			*cert_out = cert;
		else
			cc_cert_free(cert);
	}
	goto done;
fail:
	if (req)
		record_failure(repo, req, def->name);
	rc = rc < 0 ? rc : CC_ERROR;
done:
	if (responder_on)
		responder_stop(&responder);
	for (size_t i = 0; i < files.count; i++)
		unlink(files.items[i]);
	for (size_t i = 0; i < dns.count; i++) {
		char *sp = strchr(dns.items[i], ' ');

		if (sp) {
			int saved = cc_error_code();
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", cc_error_last());
			*sp = '\0';
			if (run_hook(&c, "cleanup", dns.items[i], sp + 1) < 0 || saved)
				cc_error_set(saved ? saved : cc_error_code(), "%s",
					     saved ? msg : cc_error_last());
		}
	}
	cc_strlist_dispose(&files);
	cc_strlist_dispose(&dns);
	cc_cert_list_free(certs, ncerts);
	json_decref(order);
	json_decref(payload);
	json_decref(final);
	free(text);
	cc_buf_dispose(&csr_pem);
	cc_buf_dispose(&csr_der);
	cc_buf_dispose(&csr64);
	cc_buf_dispose(&chain);
	client_dispose(&c);
	return rc;
}

int cc_acme_revoke(cc_repo *repo, const char *provider, const cc_cert *cert, int reason)
{
	acme_client c;
	cc_buf der = CC_BUF_INIT, b64 = CC_BUF_INIT;
	json_t *payload = NULL;
	char *text = NULL;
	cc_http_response resp;
	int rc;

	if ((rc = client_init(&c, repo, provider)) < 0)
		goto done;
	if (!dir_url(&c, "revokeCert")) {
		rc = cc_error_set(CC_EINVALID, "the ACME server offers no revocation");
		goto done;
	}
	if ((rc = cc_cert_der(cert, &der)) < 0 || (rc = cc_base64url(&b64, der.ptr, der.size)) < 0)
		goto done;
	payload = json_pack("{s:s, s:i}", "certificate", b64.ptr, "reason", reason);
	text = json_dumps(payload, JSON_COMPACT);
	if ((rc = post(&c, dir_url(&c, "revokeCert"), text, NULL, &resp)) < 0)
		goto done;
	if (resp.status != 200)
		rc = cc_acme_problem(CC_ENET, "revocation", &resp);
	cc_http_response_dispose(&resp);
done:
	json_decref(payload);
	free(text);
	cc_buf_dispose(&der);
	cc_buf_dispose(&b64);
	client_dispose(&c);
	return rc;
}
