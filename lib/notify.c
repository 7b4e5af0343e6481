/*
 * Notifications by e-mail (SMTP through libcurl) and webhook (JSON POST),
 * each sent one recorded in notify/log/<time>.yaml; what monitor tells the
 * administrator, told once per change.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "internal.h"

static const cc_node *channel_conf(const cc_repo *repo, const char *name)
{
	return cc_node_get(cc_node_get(cc_repo_config(repo), "notify"), name);
}

int cc_notify_channels(const cc_repo *repo, cc_strlist *out)
{
	static const char *const names[] = { "email", "webhook" };
	int rc = 0;

	for (size_t i = 0; i < CC_ARRAY_SIZE(names) && rc == 0; i++)
		if (channel_conf(repo, names[i]))
			rc = cc_strlist_add(out, names[i]);
	return rc;
}

void cc_notify_outcomes_free(cc_notify_outcome *o, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(o[i].channel);
		free(o[i].detail);
	}
	free(o);
}

static const char *conf_str(const cc_node *conf, const char *key)
{
	const char *s = cc_node_scalar(cc_node_get(conf, key));

	return s && *s ? s : NULL;
}

static long conf_timeout_ms(const cc_node *conf, long fallback)
{
	long long v;

	if (cc_node_get(conf, "timeout") && cc_node_duration(cc_node_get(conf, "timeout"), &v) == 0 &&
	    v > 0 && v <= 600)
		return (long)v * 1000;
	cc_error_clear();
	return fallback;
}

/* One header line's value: no CR or LF from data may start another header. */
static void header_value(cc_buf *out, const char *s)
{
	for (; s && *s; s++)
		cc_buf_putc(out, *s == '\r' || *s == '\n' ? ' ' : *s);
}

/* Body text with bare LF turned into CRLF, as SMTP wants. */
static void crlf(cc_buf *out, const char *s)
{
	char prev = 0;

	for (; s && *s; prev = *s++) {
		if (*s == '\n' && prev != '\r')
			cc_buf_putc(out, '\r');
		cc_buf_putc(out, *s);
	}
}

static int build_mail(cc_buf *out, const char *from, const cc_strlist *to, const cc_message *m)
{
	unsigned char rnd[12];
	char boundary[64], date[64], id[40];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cc_error_openssl(CC_ERROR, "random");
	cc_hex(id, rnd, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "certctl-%s", id);
	cc_buf_puts(out, "From: ");
	header_value(out, from);
	cc_buf_puts(out, "\r\nTo: ");
	for (size_t i = 0; i < to->count; i++) {
		if (i)
			cc_buf_puts(out, ", ");
		header_value(out, to->items[i]);
	}
	cc_buf_puts(out, "\r\nSubject: ");
	header_value(out, m->subject);
	cc_buf_printf(out, "\r\nDate: %s\r\nMessage-ID: <%s@certctl.invalid>\r\n"
		      "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n", date, id);
	if (!m->html) {
		cc_buf_puts(out, "Content-Type: text/plain; charset=utf-8\r\n"
			    "Content-Transfer-Encoding: 8bit\r\n\r\n");
		crlf(out, m->text);
		return cc_buf_puts(out, "\r\n");
	}
	cc_buf_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
		      "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: 8bit\r\n\r\n", boundary, boundary);
	crlf(out, m->text);
	cc_buf_printf(out, "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: 8bit\r\n\r\n", boundary);
	crlf(out, m->html);
	return cc_buf_printf(out, "\r\n--%s--\r\n", boundary);
}

static int send_email(const cc_node *conf, const cc_message *m, cc_buf *detail)
{
	const char *url = conf_str(conf, "url"), *from = conf_str(conf, "from");
	const char *user = conf_str(conf, "username"), *pwfile = conf_str(conf, "password_file");
	const cc_node *to = cc_node_get(conf, "to");
	cc_strlist rcpt = CC_STRLIST_INIT;
	struct curl_slist *list = NULL;
	cc_secret *pw = NULL;
	cc_buf mail = CC_BUF_INIT, pwstr = CC_BUF_INIT, addr = CC_BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	int starttls = 1, rc = 0;
	CURL *h = NULL;
	CURLcode code;

	if (!url || (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8)))
		return cc_error_set(CC_EINVALID, "notify.email.url must be smtp://HOST[:PORT] or "
				    "smtps://HOST[:PORT]");
	if (!from)
		return cc_error_set(CC_EINVALID, "notify.email.from is missing");
	if (cc_node_kind(to) == CC_NODE_SCALAR && cc_node_scalar(to))
		cc_strlist_add(&rcpt, cc_node_scalar(to));
	for (size_t i = 0; cc_node_kind(to) == CC_NODE_SEQUENCE && i < cc_node_count(to); i++)
		if (cc_node_scalar(cc_node_at(to, i)))
			cc_strlist_add(&rcpt, cc_node_scalar(cc_node_at(to, i)));
	if (!rcpt.count) {
		rc = cc_error_set(CC_EINVALID, "notify.email.to names no recipient");
		goto done;
	}
	if (cc_node_get(conf, "starttls") && cc_node_bool(cc_node_get(conf, "starttls"),
							  &starttls) < 0) {
		rc = CC_EINVALID;
		goto done;
	}
	if (pwfile && (rc = cc_secret_from_file(&pw, pwfile)) < 0)
		goto done;
	if ((rc = build_mail(&mail, from, &rcpt, m)) < 0)
		goto done;
	if (!(h = curl_easy_init())) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	cc_buf_printf(&addr, "<%s>", from);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr.ptr);
	for (size_t i = 0; i < rcpt.count; i++) {
		cc_buf one = CC_BUF_INIT;

		cc_buf_printf(&one, "<%s>", rcpt.items[i]);
		list = curl_slist_append(list, one.ptr);
		cc_buf_dispose(&one);
	}
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, list);
	/* smtp:// must go encrypted unless the configuration says otherwise. */
	curl_easy_setopt(h, CURLOPT_USE_SSL, starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf_str(conf, "ca_bundle"))
		curl_easy_setopt(h, CURLOPT_CAINFO, conf_str(conf, "ca_bundle"));
	if (user)
		curl_easy_setopt(h, CURLOPT_USERNAME, user);
	if (pw) {
		cc_buf_put(&pwstr, cc_secret_data(pw), cc_secret_len(pw));
		curl_easy_setopt(h, CURLOPT_PASSWORD, pwstr.ptr ? pwstr.ptr : "");
	}
	{
		cc_curl_upload u = { &mail, 0 };

		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, cc_curl_upload_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &u);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)mail.size);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, conf_timeout_ms(conf, 30000));
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		code = curl_easy_perform(h);
	}
	for (size_t i = 0; i < rcpt.count; i++)
		cc_buf_printf(detail, "%s%s", i ? ", " : "", rcpt.items[i]);
	if (code != CURLE_OK)
		rc = cc_error_set(CC_ENET, "e-mail through %s: %s", url,
				  errbuf[0] ? errbuf : curl_easy_strerror(code));
done:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(list);
	cc_secret_free(pw);
	cc_buf_dispose_secure(&pwstr);
	cc_buf_dispose(&mail);
	cc_buf_dispose(&addr);
	cc_strlist_dispose(&rcpt);
	return rc;
}

static int send_webhook(const cc_node *conf, const cc_message *m, cc_buf *detail)
{
	const char *url = conf_str(conf, "url");
	cc_http_request req;
	cc_http_response resp;
	cc_buf body = CC_BUF_INIT;
	cc_json *own = NULL;
	int rc, local;

	if (!url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
		return cc_error_set(CC_EINVALID, "notify.webhook.url must be an https:// URL");
	/* Plain http only to this machine: a notification may name internals. */
	local = !strncmp(url, "http://127.", 11) || !strncmp(url, "http://localhost", 16) ||
		!strncmp(url, "http://[::1]", 12);
	if (!strncmp(url, "http://", 7) && !local)
		return cc_error_set(CC_EINVALID, "notify.webhook.url: plain http:// only to this "
				    "machine (127.0.0.0/8, ::1); use https://");
	if (!m->json) {
		/* A message of its own (the test) is a notification with
		 * nothing to report: the fields monitor's have. */
		own = cc_json_object();
		cc_json_set_str(own, "schema", "certctl.notification/1");
		cc_json_set_str(own, "subject", m->subject);
		cc_json_set_str(own, "text", m->text);
		cc_json_set_str(own, "status", "OK");
		cc_json_set(own, "items", cc_json_array());
	}
	if ((rc = cc_json_dump(m->json ? m->json : own, 0, &body)) < 0)
		goto done;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.url = url;
	req.body = body.ptr;
	req.body_len = body.size;
	req.content_type = "application/json";
	req.ca_file = conf_str(conf, "ca_bundle");
	req.timeout_ms = conf_timeout_ms(conf, 10000);
	req.max_body = 64 * 1024;
	req.allow_http = local;
	cc_buf_puts(detail, url);
	if ((rc = cc_http_do(&req, &resp)) == 0 && (resp.status < 200 || resp.status > 299))
		rc = cc_error_set(CC_ENET, "webhook %s answered HTTP %ld", url, resp.status);
	else if (rc < 0)
		rc = cc_error_set(rc, "webhook %s: %s", url, cc_error_last());
	cc_http_response_dispose(&resp);
done:
	cc_json_free(own);
	cc_buf_dispose(&body);
	return rc;
}

static int record(cc_repo *repo, const cc_message *m, const cc_notify_outcome *o, size_t n,
		  const char *state_hash)
{
	cc_buf text = CC_BUF_INIT, rel = CC_BUF_INIT, summary = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	cc_txn *txn = NULL;
	char now[32], stamp[32];
	int rc;

	cc_time_now_rfc3339(now);
	snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", now, now + 5, now + 8,
		 now + 11, now + 14, now + 17);
	cc_buf_puts(&text, "# certctl notification; see certctl-repository(5).\n");
	if ((rc = cc_yaml_writer_new(&w, &text)) < 0)
		return rc;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "time", now);
	rc = rc ? rc : cc_yaml_put(w, "subject", m->subject);
	rc = rc ? rc : cc_yaml_put(w, "state", state_hash);
	rc = rc ? rc : cc_yaml_key(w, "channels");
	rc = rc ? rc : cc_yaml_seq_start(w, 0);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put(w, "channel", o[i].channel);
		rc = rc ? rc : cc_yaml_put(w, "result", o[i].ok ? "sent" : "failed");
		rc = rc ? rc : cc_yaml_put(w, "detail", o[i].detail);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	rc = rc ? rc : cc_yaml_seq_end(w);
	rc = rc ? rc : cc_yaml_put(w, "text", m->text);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	if (rc < 0)
		goto done;
	cc_buf_printf(&rel, "notify/log/%s.yaml", stamp);
	cc_buf_puts(&summary, "notify: ");
	header_value(&summary, m->subject);
	for (size_t i = 0; i < n; i++)
		cc_buf_printf(&summary, "%s%s %s", i ? "," : " (", o[i].channel,
			      o[i].ok ? "sent" : "failed");
	if (n)
		cc_buf_putc(&summary, ')');
	if ((rc = cc_txn_begin(&txn, repo, "notify")) < 0)
		goto done;
	if ((rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644)) < 0) {
		cc_txn_abort(txn);
		goto done;
	}
	/* What monitor told, so that the next run does not say it again. */
	if (state_hash) {
		cc_buf st = CC_BUF_INIT;

		cc_buf_printf(&st, "# What certctl monitor last told; see certctl-repository(5).\n"
			      "state: \"%s\"\ntime: %s\n", state_hash, now);
		rc = cc_txn_write(txn, "notify/state.yaml", st.ptr, st.size, 0644);
		cc_buf_dispose(&st);
		if (rc < 0) {
			cc_txn_abort(txn);
			goto done;
		}
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL);
done:
	cc_buf_dispose(&text);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&summary);
	return rc;
}

static int send_all(cc_repo *repo, const cc_message *m, const char *channel, int rec,
		    const char *state_hash, cc_notify_outcome **outcomes, size_t *count)
{
	cc_strlist names = CC_STRLIST_INIT;
	cc_notify_outcome *o = NULL;
	size_t n = 0, failed = 0;
	cc_buf first_error = CC_BUF_INIT;
	int rc;

	*outcomes = NULL;
	*count = 0;
	if ((rc = cc_notify_channels(repo, &names)) < 0)
		return rc;
	if (channel && !cc_strlist_contains(&names, channel)) {
		rc = cc_error_set(CC_ENOTFOUND, "no notify.%s in the configuration", channel);
		goto done;
	}
	if (!names.count) {
		rc = cc_error_set(CC_ENOTFOUND, "no notification channel is configured (notify.email "
				  "or notify.webhook in .certctl/config.yaml)");
		goto done;
	}
	if (!(o = calloc(names.count, sizeof(*o)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < names.count; i++) {
		cc_buf detail = CC_BUF_INIT;
		const cc_node *conf = channel_conf(repo, names.items[i]);
		int r;

		if (channel && strcmp(channel, names.items[i]))
			continue;
		r = !strcmp(names.items[i], "email") ? send_email(conf, m, &detail)
						     : send_webhook(conf, m, &detail);
		o[n].channel = strdup(names.items[i]);
		o[n].ok = r == 0;
		if (r < 0) {
			cc_buf_clear(&detail);
			cc_buf_puts(&detail, cc_error_last());
			if (!failed++)
				cc_buf_puts(&first_error, cc_error_last());
			cc_error_clear();
		}
		o[n].detail = cc_buf_detach(&detail);
		n++;
	}
	if (rec && (rc = record(repo, m, o, n, state_hash)) < 0)
		goto done;
	if (failed)
		rc = cc_error_set(CC_ENET, "%s%s", first_error.ptr,
				  failed > 1 ? " (and another channel failed)" : "");
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&first_error);
	if (o) {
		*outcomes = o;
		*count = n;
	}
	return rc;
}

int cc_notify_send(cc_repo *repo, const cc_message *m, const char *channel, int rec,
		   cc_notify_outcome **outcomes, size_t *count)
{
	return send_all(repo, m, channel, rec, NULL, outcomes, count);
}

/* --- what monitor tells ------------------------------------------------------ */

/* The last notification's state hash and time, from notify/state.yaml. */
static void last_state(cc_repo *repo, char hash[65], time_t *when)
{
	cc_buf text = CC_BUF_INIT;
	cc_node *root = NULL;

	hash[0] = '\0';
	*when = 0;
	if (cc_repo_read(repo, "notify/state.yaml", &text) == 0 &&
	    cc_node_parse(&root, text.ptr, text.size, "notify/state.yaml") == 0) {
		const char *h = cc_node_scalar(cc_node_get(root, "state"));
		const char *t = cc_node_scalar(cc_node_get(root, "time"));
		struct tm tm;

		if (h)
			snprintf(hash, 65, "%s", h);
		memset(&tm, 0, sizeof(tm));
		if (t && sscanf(t, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
			tm.tm_year -= 1900;
			tm.tm_mon -= 1;
			*when = timegm(&tm);
		}
	}
	cc_error_clear();
	cc_node_free(root);
	cc_buf_dispose(&text);
}

int cc_notify_monitor(cc_repo *repo, const cc_check_result *checks, size_t nchecks,
		      const cc_renew_result *renewals, size_t nrenewals, int *sent)
{
	cc_buf key = CC_BUF_INIT, text = CC_BUF_INIT, html = CC_BUF_INIT, subject = CC_BUF_INIT;
	cc_strlist names = CC_STRLIST_INIT;
	cc_json *payload = NULL, *items = NULL;
	cc_notify_outcome *o = NULL;
	size_t no = 0, problems = 0;
	cc_status worst = CC_STATUS_OK;
	char hash[65] = "", last[65];
	time_t last_time, now = time(NULL);
	long long repeat = 86400;
	int rc = 0;

	*sent = 0;
	if ((rc = cc_notify_channels(repo, &names)) < 0 || !names.count)
		goto done;
	{
		const cc_node *r = cc_node_get(cc_node_get(cc_repo_config(repo), "notify"), "repeat");

		if (r && cc_node_duration(r, &repeat) < 0)
			cc_error_clear();
	}
	payload = cc_json_object();
	items = cc_json_array();
	cc_buf_puts(&html, "<html><body><h2>certctl</h2><table border=\"1\" cellpadding=\"4\">"
		    "<tr><th>status</th><th>definition</th><th>endpoint</th><th>what</th></tr>\n");
	for (size_t i = 0; i < nchecks; i++) {
		const cc_check_result *r = &checks[i];
		cc_json *it;

		if (r->status == CC_STATUS_OK)
			continue;
		problems++;
		worst = cc_status_worse(worst, r->status);
		/* What identifies the problem, not when it was seen. */
		cc_buf_printf(&key, "check %s %s %u %s\n", r->definition ? r->definition : "-",
			      r->host, r->port, cc_status_name(r->status));
		for (size_t k = 0; k < r->nfindings; k++)
			if (r->findings[k].status != CC_STATUS_OK)
				cc_buf_printf(&key, " %s\n", r->findings[k].rule);
		cc_buf_printf(&text, "%-8s %s %s:%u: %s\n", cc_status_name(r->status),
			      r->definition ? r->definition : "-", r->host, r->port,
			      r->summary ? r->summary : "");
		cc_buf_printf(&html, "<tr><td>%s</td><td>", cc_status_name(r->status));
		cc_html_escape(&html, r->definition ? r->definition : "-");
		cc_buf_puts(&html, "</td><td>");
		cc_html_escape(&html, r->host);
		cc_buf_printf(&html, ":%u</td><td>", r->port);
		cc_html_escape(&html, r->summary);
		cc_buf_puts(&html, "</td></tr>\n");
		it = cc_check_result_to_json(r);
		cc_json_append(items, it);
	}
	for (size_t i = 0; i < nrenewals; i++) {
		const cc_renew_result *r = &renewals[i];
		cc_json *it;

		if (r->action != CC_RENEW_FAILED && r->action != CC_RENEW_WAITING)
			continue;
		problems++;
		worst = cc_status_worse(worst, r->action == CC_RENEW_FAILED ? CC_STATUS_CRITICAL
									      : CC_STATUS_WARNING);
		cc_buf_printf(&key, "renew %s %s %s\n", r->definition,
			      cc_renew_action_name(r->action), r->request ? r->request : "");
		cc_buf_printf(&text, "%-8s %s: renewal %s: %s\n", r->action == CC_RENEW_FAILED ?
			      "CRITICAL" : "WARNING", r->definition, cc_renew_action_name(r->action),
			      r->message ? r->message : "");
		cc_buf_puts(&html, "<tr><td>");
		cc_buf_puts(&html, r->action == CC_RENEW_FAILED ? "CRITICAL" : "WARNING");
		cc_buf_puts(&html, "</td><td>");
		cc_html_escape(&html, r->definition);
		cc_buf_puts(&html, "</td><td>renewal</td><td>");
		cc_html_escape(&html, r->message);
		cc_buf_puts(&html, "</td></tr>\n");
		it = cc_json_object();
		cc_json_set_str(it, "definition", r->definition);
		cc_json_set_str(it, "renewal", cc_renew_action_name(r->action));
		cc_json_set_str(it, "message", r->message);
		cc_json_append(items, it);
	}
	cc_buf_puts(&html, "</table></body></html>\n");
	if (problems) {
		unsigned char md[32];
		unsigned int mdlen = 0;

		EVP_Digest(key.ptr, key.size, md, &mdlen, EVP_sha256(), NULL);
		cc_hex(hash, md, 32);
	}
	last_state(repo, last, &last_time);
	/* The same problems told recently: nothing new to say. */
	if (!strcmp(hash, last) && (!problems || now - last_time < repeat))
		goto done;
	if (problems)
		cc_buf_printf(&subject, "certctl %s: %zu problem%s need%s attention",
			      cc_status_name(worst), problems, problems == 1 ? "" : "s",
			      problems == 1 ? "s" : "");
	else
		cc_buf_puts(&subject, "certctl OK: the problems told before are gone");
	if (!problems)
		cc_buf_puts(&text, "Every check passes and no renewal waits.\n");
	cc_buf_puts(&text, "\n-- \ncertctl monitor; 'certctl status' shows more.\n");
	cc_json_set_str(payload, "schema", "certctl.notification/1");
	cc_json_set_str(payload, "subject", subject.ptr);
	cc_json_set_str(payload, "text", text.ptr);
	cc_json_set_str(payload, "status", cc_status_name(worst));
	cc_json_set(payload, "items", items);
	items = NULL;
	{
		cc_message m = { subject.ptr, text.ptr, problems ? html.ptr : NULL, payload };

		rc = send_all(repo, &m, NULL, 1, hash, &o, &no);
	}
	/* What was told is recorded with the log even when a channel failed:
	 * the next run does not repeat it to the channels that took it. */
	*sent = no > 0;
done:
	cc_notify_outcomes_free(o, no);
	cc_json_free(payload);
	cc_json_free(items);
	cc_strlist_dispose(&names);
	cc_buf_dispose(&key);
	cc_buf_dispose(&text);
	cc_buf_dispose(&html);
	cc_buf_dispose(&subject);
	return rc;
}

/* --- the daily report ---------------------------------------------------- */

static int build_report(cc_repo *repo, cc_buf *subject, cc_buf *text, cc_buf *html,
			cc_json **json)
{
	cc_def_status *list = NULL;
	size_t n = 0, expiring = 0, failed = 0, open = 0;
	cc_json *arr;
	char today[32];
	int rc;

	if ((rc = cc_status_collect(repo, &list, &n)) < 0)
		return rc;
	cc_time_now_rfc3339(today);
	today[10] = '\0';
	*json = cc_json_object();
	arr = cc_json_array();
	cc_buf_printf(text, "certctl daily report, %s, repository %s\n\n", today,
		      cc_repo_workdir(repo));
	cc_buf_printf(text, "%-30s %-11s %-17s %6s %-16s %-7s %s\n", "DEFINITION", "PROCESS",
		      "CURRENT", "DAYS", "ACQUISITION", "DEPLOY", "LAST CHECK");
	cc_buf_printf(html, "<html><body><h2>certctl daily report, %s</h2>\n<table border=\"1\" "
		      "cellpadding=\"4\"><tr><th>definition</th><th>process</th><th>current"
		      "</th><th>days left</th><th>acquisition</th><th>deployments</th>"
		      "<th>last check</th></tr>\n", today);
	for (size_t i = 0; i < n; i++) {
		const cc_def_status *st = &list[i];
		char days[24] = "-", deploy[48] = "-";

		if (st->has_current)
			snprintf(days, sizeof(days), "%lld", st->seconds_left / 86400);
		if (st->deploy_total)
			snprintf(deploy, sizeof(deploy), "%zu/%zu%s", st->deploy_done, st->deploy_total,
				 st->deploy_failed ? " failed" : "");
		if (st->has_current && st->seconds_left < 30 * 86400LL &&
		    !cc_def_status_renewal_started(st))
			expiring++;
		if (st->check_failed)
			failed++;
		if (st->request)
			open++;
		cc_buf_printf(text, "%-30s %-11s %-17s %6s %-16s %-7s %s%s%s\n", st->definition,
			      !strcmp(st->mode, "monitor") ? "monitor" : st->process,
			      st->current ? st->current : "-", days,
			      st->request_state ? st->request_state : "-", deploy,
			      st->check_status ? st->check_status : "-",
			      st->check_summary ? ": " : "", st->check_summary ? st->check_summary : "");
		cc_buf_puts(html, "<tr><td>");
		cc_html_escape(html, st->definition);
		cc_buf_printf(html, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
			      !strcmp(st->mode, "monitor") ? "monitor" : st->process,
			      st->current ? st->current : "-", days,
			      st->request_state ? st->request_state : "-", deploy);
		cc_html_escape(html, st->check_status ? st->check_status : "-");
		if (st->check_summary) {
			cc_buf_puts(html, ": ");
			cc_html_escape(html, st->check_summary);
		}
		cc_buf_puts(html, "</td></tr>\n");
		cc_json_append(arr, cc_def_status_to_json(st));
	}
	cc_buf_printf(text, "\n%zu definitions: %zu expire within 30 days with no renewal "
		      "started, %zu failed their last check, %zu acquisitions open.\n", n, expiring,
		      failed, open);
	cc_buf_printf(html, "</table><p>%zu definitions: %zu expire within 30 days with no renewal "
		      "started, %zu failed their last check, %zu acquisitions open.</p></body>"
		      "</html>\n", n, expiring, failed, open);
	cc_buf_printf(subject, "certctl daily report %s: %zu expiring, %zu failing", today,
		      expiring, failed);
	cc_json_set_str(*json, "schema", "certctl.report/1");
	cc_json_set_str(*json, "subject", subject->ptr);
	cc_json_set(*json, "definitions", arr);
	cc_def_status_list_free(list, n);
	return 0;
}

int cc_notify_report(cc_repo *repo, const char *channel, cc_notify_outcome **outcomes,
		     size_t *count)
{
	cc_buf subject = CC_BUF_INIT, text = CC_BUF_INIT, html = CC_BUF_INIT;
	cc_json *json = NULL;
	int rc;

	*outcomes = NULL;
	*count = 0;
	if ((rc = build_report(repo, &subject, &text, &html, &json)) == 0) {
		cc_message m = { subject.ptr, text.ptr, html.ptr, json };

		rc = send_all(repo, &m, channel, 1, NULL, outcomes, count);
	}
	cc_json_free(json);
	cc_buf_dispose(&subject);
	cc_buf_dispose(&text);
	cc_buf_dispose(&html);
	return rc;
}

int cc_notify_daily(cc_repo *repo, int *sent)
{
	const cc_node *v = cc_node_get(cc_node_get(cc_repo_config(repo), "notify"), "daily_report");
	cc_notify_outcome *o = NULL;
	cc_buf last = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_txn *txn = NULL;
	char today[32];
	int on = 0, rc = 0;
	size_t n = 0;

	*sent = 0;
	if (!v || cc_node_bool(v, &on) < 0 || !on) {
		cc_error_clear();
		return 0;
	}
	cc_time_now_rfc3339(today);
	today[10] = '\0';
	if (cc_repo_read(repo, "notify/report", &last) == 0 && last.size >= 10 &&
	    !strncmp(last.ptr, today, 10))
		goto done; /* sent today */
	cc_error_clear();
	rc = cc_notify_report(repo, NULL, &o, &n);
	if (!n)
		goto done;
	*sent = 1;
	{
		/* Once a day even when a channel failed: the log says which. */
		char why[1024];

		snprintf(why, sizeof(why), "%s", rc < 0 ? cc_error_last() : "");
		cc_buf_printf(&text, "%s\n", today);
		if (cc_txn_begin(&txn, repo, "notify") == 0) {
			if (cc_txn_write(txn, "notify/report", text.ptr, text.size, 0644) < 0 ||
			    cc_txn_commit(txn, "notify: daily report sent", NULL) < 0)
				cc_txn_abort(txn);
		}
		if (rc < 0)
			cc_error_set(rc, "%s", why);
	}
done:
	cc_notify_outcomes_free(o, n);
	cc_buf_dispose(&last);
	cc_buf_dispose(&text);
	return rc;
}
