/*
 * Checking endpoints: probe them all at once (lib/probe.c), then judge
 * each chain by the rules of its definition; record the results.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include "deploy_internal.h"

static const char *const status_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

const char *cc_status_name(cc_status status)
{
	return (size_t)status < CC_ARRAY_SIZE(status_names) ? status_names[status] : "UNKNOWN";
}

cc_status cc_status_worse(cc_status a, cc_status b)
{
	static const int rank[] = { 0, 2, 3, 1 };

	return rank[a] >= rank[b] ? a : b;
}

static int status_parse(const char *s, cc_status *out)
{
	for (size_t i = 0; s && i < CC_ARRAY_SIZE(status_names); i++)
		if (!strcmp(s, status_names[i])) {
			*out = (cc_status)i;
			return 0;
		}
	return -1;
}

void cc_check_result_dispose(cc_check_result *r)
{
	free(r->definition);
	free(r->target);
	free(r->host);
	free(r->sni);
	free(r->starttls);
	free(r->time);
	free(r->summary);
	for (size_t i = 0; i < r->nfindings; i++) {
		free(r->findings[i].rule);
		free(r->findings[i].message);
	}
	free(r->findings);
	free(r->address);
	free(r->protocol);
	free(r->cipher);
	free(r->alpn);
	free(r->sha256);
	free(r->sha1);
	free(r->subject);
	free(r->issuer);
	free(r->not_after);
	cc_strlist_dispose(&r->chain);
	free(r->pem);
	memset(r, 0, sizeof(*r));
}

void cc_check_results_free(cc_check_result *results, size_t count)
{
	if (!results)
		return;
	for (size_t i = 0; i < count; i++)
		cc_check_result_dispose(&results[i]);
	free(results);
}

static void add(cc_check_result *r, const char *rule, cc_status status, const char *fmt, ...)
	CC_PRINTF(4, 5);
static void add(cc_check_result *r, const char *rule, cc_status status, const char *fmt, ...)
{
	cc_finding *grown = realloc(r->findings, (r->nfindings + 1) * sizeof(*grown));
	cc_buf msg = CC_BUF_INIT;
	va_list ap;

	if (!grown)
		return;
	r->findings = grown;
	va_start(ap, fmt);
	cc_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	grown[r->nfindings].rule = strdup(rule);
	grown[r->nfindings].status = status;
	grown[r->nfindings].message = cc_buf_detach(&msg);
	r->nfindings++;
	r->status = r->nfindings == 1 ? status : cc_status_worse(r->status, status);
}

/* --- endpoints -------------------------------------------------------- */

int cc_check_endpoints(const cc_definition *def, int monitored, cc_check_endpoint **out,
		       size_t *count)
{
	size_t n = *count, start = *count;
	cc_check_endpoint *list = *out;
	int rc = 0;

	if (monitored && !def->monitor)
		return 0;
	for (size_t i = 0; i < def->nchecks + def->ntargets && rc == 0; i++) {
		cc_check_endpoint e;
		deploy_target t;
		int dup = 0;

		memset(&e, 0, sizeof(e));
		memset(&t, 0, sizeof(t));
		if (i < def->nchecks) {
			const cc_check *c = &def->checks[i];

			if (monitored && !c->enabled)
				continue;
			e.host = c->host;
			e.port = c->port;
			e.sni = c->sni;
			if (c->starttls && (rc = cc_starttls_parse(&e.starttls, c->starttls)) < 0)
				break;
		} else {
			const cc_target *tg = &def->targets[i - def->nchecks];

			if ((rc = target_resolve(&t, tg, def->name)) < 0)
				break;
			if (!t.check_host || (monitored && !t.check_enabled)) {
				target_dispose(&t);
				continue;
			}
			/* The strings must outlive `t`: take them from the settings. */
			e.target = tg->name;
			e.host = t.check_host;
			e.port = t.check_port;
			e.sni = t.check_sni;
			e.starttls = t.check_starttls;
			/* A peer's view is named DEF@PEER already. */
			if (!def->peer)
				e.peer = cc_node_scalar(cc_node_get(tg->settings, "peer"));
		}
		e.definition = def->name;
		/* The same endpoint twice in one definition is checked once; other
		 * definitions may share it (each judges by its own rules). */
		for (size_t j = start; j < n && !dup; j++)
			dup = !strcmp(list[j].host, e.host) && list[j].port == e.port &&
			      !strcmp(list[j].sni ? list[j].sni : "", e.sni ? e.sni : "");
		if (!dup) {
			cc_check_endpoint *grown = realloc(list, (n + 1) * sizeof(*grown));

			if (!grown) {
				target_dispose(&t);
				rc = cc_error_set(CC_ERROR, "out of memory");
				break;
			}
			list = grown;
			list[n] = e;
			/* Copies owned by the list where `t` would free them. */
			if (i >= def->nchecks) {
				list[n].host = t.check_host;
				list[n].sni = t.check_sni;
				t.check_host = t.check_sni = NULL;
				list[n].owned = 1;
			}
			n++;
		}
		target_dispose(&t);
	}
	*out = list;
	*count = n;
	return rc;
}

void cc_check_endpoints_free(cc_check_endpoint *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (list[i].owned) {
			free((char *)list[i].host);
			free((char *)list[i].sni);
		}
	free(list);
}

/* --- judging one chain --------------------------------------------------- */

typedef struct {
	char *name;               /* as checked: DEF or DEF@PEER */
	cc_definition *def;
	cc_cert *current;         /* lifecycle: what should be served */
	cc_cert **chain;
	size_t nchain;
} def_cache;

typedef struct {
	char *set;
	X509_STORE *store;
	int rc;
	char *error;
} store_cache;

typedef struct {
	char *key;               /* trust set and the SHA-256 of each certificate served */
	cc_finding *findings;
	size_t nfindings;
} chain_verdict;

typedef struct {
	cc_repo *repo;
	def_cache *defs;
	size_t ndefs;
	store_cache *stores;
	size_t nstores;
	chain_verdict *verdicts;
	size_t nverdicts;
	const cc_check_options *opts;
} check_ctx;

static def_cache *def_get(check_ctx *ctx, const char *name, const char *peer)
{
	char ref[300];
	def_cache *d;

	snprintf(ref, sizeof(ref), peer ? "%s@%s" : "%s", name, peer);
	for (size_t i = 0; i < ctx->ndefs; i++)
		if (!strcmp(ctx->defs[i].name, ref))
			return &ctx->defs[i];
	if (!(d = realloc(ctx->defs, (ctx->ndefs + 1) * sizeof(*d))))
		return NULL;
	ctx->defs = d;
	d = &ctx->defs[ctx->ndefs++];
	memset(d, 0, sizeof(*d));
	d->name = strdup(ref);
	if (ctx->repo && cc_definition_load(&d->def, ctx->repo, ref) == 0 &&
	    d->def->mode == CC_MODE_LIFECYCLE &&
	    cc_cert_current(&d->current, &d->chain, &d->nchain, ctx->repo, ref) < 0) {
		d->current = NULL;
		d->chain = NULL;
		d->nchain = 0;
	}
	cc_error_clear();
	return d;
}

static store_cache *store_get(check_ctx *ctx, const char *set)
{
	store_cache *s;
	char def[129];

	if (!set)
		set = cc_trust_default(ctx->repo, def);
	for (size_t i = 0; i < ctx->nstores; i++)
		if (!strcmp(ctx->stores[i].set, set))
			return &ctx->stores[i];
	if (!(s = realloc(ctx->stores, (ctx->nstores + 1) * sizeof(*s))))
		return NULL;
	ctx->stores = s;
	s = &ctx->stores[ctx->nstores++];
	memset(s, 0, sizeof(*s));
	s->set = strdup(set);
	if ((s->rc = cc_trust_store(&s->store, ctx->repo, set, NULL)) < 0) {
		s->error = strdup(cc_error_last());
		cc_error_clear();
	}
	return s;
}

static int served_has(cc_cert *const *served, size_t n, const cc_cert *want)
{
	for (size_t j = 1; j < n; j++)
		if (!strcmp(cc_cert_sha256(want), cc_cert_sha256(served[j])) ||
		    (!strcmp(cc_cert_subject(want), cc_cert_subject(served[j])) &&
		     !strcmp(cc_cert_key_fingerprint(want), cc_cert_key_fingerprint(served[j]))))
			return 1;
	return 0;
}

/* Does the subject field `nid` of the leaf equal `want`? */
static int subject_field_is(const cc_cert *leaf, int nid, const char *want)
{
	X509_NAME *name = X509_get_subject_name(cc_cert_get0_x509(leaf));
	char got[256];

	if (X509_NAME_get_text_by_NID(name, nid, got, sizeof(got)) < 0)
		return 0;
	return !strcmp(got, want);
}

/* Is `rule` one of a family ("key." matches "key.rsa-too-small")? */
static int rule_in(const char *rule, const char *family);

/* The key and algorithm verdicts go last, after the names and the subject. */
static void strength_last(cc_check_result *r)
{
	size_t n = r->nfindings, k = 0;
	cc_finding *sorted = malloc((n ? n : 1) * sizeof(*sorted));

	if (!sorted)
		return;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const char *rule = r->findings[i].rule;
			int strength = rule_in(rule, "key.") || rule_in(rule, "signature.") ||
				       !strcmp(rule, "strength.ok");

			if (strength == pass)
				sorted[k++] = r->findings[i];
		}
	memcpy(r->findings, sorted, n * sizeof(*sorted));
	free(sorted);
}

/* Is `rule` one of a family ("key." matches "key.rsa-too-small")? */
static int rule_in(const char *rule, const char *family)
{
	return !strncmp(rule, family, strlen(family));
}

/*
 * The verifier's rules (lib/verify.c) on what an endpoint served.  A
 * monitored endpoint gets them all: the path to its trust set, revocation,
 * names, keys and algorithms; a lifecycle one, whose certificate the
 * repository verified when it got it, the key and algorithm rules.  The
 * leaf's own expiry is the check's (its thresholds), not repeated here.
 * One chain served by many endpoints (a load balancer's names) is verified
 * once a run for each name; the findings are replayed for the others.
 */
static void judge_verify(check_ctx *ctx, store_cache *sc, const cc_definition *def,
			 const cc_probe_result *pr, const char *name, int lifecycle,
			 cc_check_result *r)
{
	cc_verify_options o = CC_VERIFY_OPTIONS_INIT;
	cc_verify_report vr;
	cc_buf key = CC_BUF_INIT;
	size_t first = r->nfindings;
	int names_bad = 0, strength_bad = 0;
	chain_verdict *v;

	cc_buf_printf(&key, "%s:%d:%s", sc->set, lifecycle, name ? name : "");
	if (def)
		cc_buf_printf(&key, ":%s", def->name);
	for (size_t i = 0; i < pr->nchain; i++)
		cc_buf_printf(&key, ":%s", cc_cert_sha256(pr->chain[i]));
	for (size_t i = 0; i < ctx->nverdicts; i++)
		if (!strcmp(ctx->verdicts[i].key, key.ptr)) {
			v = &ctx->verdicts[i];
			for (size_t k = 0; k < v->nfindings; k++)
				add(r, v->findings[k].rule, v->findings[k].status, "%s",
				    v->findings[k].message);
			cc_buf_dispose(&key);
			return;
		}
	o.trust_set = sc->set;
	o.untrusted = pr->chain + 1;
	o.nuntrusted = pr->nchain - 1;
	o.host = lifecycle ? NULL : name;
	o.warning = r->warning;
	o.critical = r->critical;
	o.allowed = def ? &def->allow : NULL;
	o.ocsp_stapled = pr->ocsp;
	o.ocsp_stapled_len = pr->ocsp_len;
	if (cc_verify_set_policy(ctx->repo, sc->set, &o) < 0 ||
	    cc_verify_store(sc->store, ctx->repo, pr->chain[0], &o, &vr) < 0) {
		add(r, "chain.trust-set", CC_STATUS_UNKNOWN, "cannot verify: %s", cc_error_last());
		cc_error_clear();
		cc_buf_dispose(&key);
		return;
	}
	/* The chain's verdicts first, then the names', as the table reads. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < vr.nfindings; i++) {
			const cc_verify_finding *f = &vr.findings[i];

			if (rule_in(f->rule, "name.") != pass)
				continue;
			if (rule_in(f->rule, "name."))
				names_bad |= f->status != CC_STATUS_OK;
			if (rule_in(f->rule, "key.") || rule_in(f->rule, "signature."))
				strength_bad |= f->status != CC_STATUS_OK;
			/* What is fine is said once below; the leaf's expiry is the check's. */
			if ((f->status == CC_STATUS_OK && !f->allowed) ||
			    (f->depth == 0 && rule_in(f->rule, "validity.")))
				continue;
			if (lifecycle && !rule_in(f->rule, "key.") && !rule_in(f->rule, "signature."))
				continue;
			add(r, f->rule, f->status, "%s%s", f->allowed ? "allowed: " : "", f->message);
		}
		if (pass == 0 && !lifecycle && vr.path_valid) {
			int missing = 0;

			for (size_t i = first; i < r->nfindings; i++)
				missing |= !strcmp(r->findings[i].rule, "chain.missing-intermediate");
			if (!missing)
				add(r, "chain.trusted", CC_STATUS_OK,
				    "the chain verifies against trust set %s", sc->set);
		}
	}
	if (!lifecycle && name && !names_bad)
		add(r, "name.ok", CC_STATUS_OK, "valid for %s", name);
	if (!strength_bad)
		add(r, "strength.ok", CC_STATUS_OK, "keys and signatures are strong enough");
	cc_verify_report_dispose(&vr);
	/* Keep the verdict for the next endpoint serving the same chain. */
	if ((v = realloc(ctx->verdicts, (ctx->nverdicts + 1) * sizeof(*v)))) {
		ctx->verdicts = v;
		v = &ctx->verdicts[ctx->nverdicts];
		v->key = cc_buf_detach(&key);
		v->nfindings = r->nfindings - first;
		v->findings = calloc(v->nfindings ? v->nfindings : 1, sizeof(*v->findings));
		if (v->key && v->findings) {
			for (size_t k = 0; k < v->nfindings; k++) {
				v->findings[k].rule = strdup(r->findings[first + k].rule);
				v->findings[k].status = r->findings[first + k].status;
				v->findings[k].message = strdup(r->findings[first + k].message);
			}
			ctx->nverdicts++;
		} else {
			free(v->key);
			free(v->findings);
		}
	}
	cc_buf_dispose(&key);
}

static void judge(check_ctx *ctx, const cc_check_endpoint *e, const cc_probe_result *pr,
		  cc_check_result *r)
{
	def_cache *d = e->definition ? def_get(ctx, e->definition, e->peer) : NULL;
	const cc_definition *def = d ? d->def : NULL;
	const cc_cert *leaf;
	long long warning = def ? def->warning : ctx->opts->warning ? ctx->opts->warning :
			    30 * 86400LL;
	long long critical = def ? def->critical : ctx->opts->critical ? ctx->opts->critical :
			     7 * 86400LL;
	time_t now = time(NULL);
	char when[32];

	if (pr->rc < 0) {
		const char *msg = pr->error ? pr->error : "the probe failed";
		char prefix[300];

		/* The result names the endpoint already. */
		snprintf(prefix, sizeof(prefix), "%s:%u: ", e->host, e->port);
		if (!strncmp(msg, prefix, strlen(prefix)))
			msg += strlen(prefix);
		add(r, pr->rc == CC_ETLS ? "tls.handshake" : "connect.failed", CC_STATUS_CRITICAL,
		    "%s", msg);
		return;
	}
	leaf = pr->chain[0];
	r->address = cc_strdup(pr->address);
	r->protocol = cc_strdup(pr->protocol);
	r->cipher = cc_strdup(pr->cipher);
	r->alpn = cc_strdup(pr->alpn);
	r->handshake_ms = pr->handshake_ms;
	r->sha256 = strdup(cc_cert_sha256(leaf));
	r->sha1 = strdup(cc_cert_sha1(leaf));
	r->subject = strdup(cc_cert_subject(leaf));
	r->issuer = strdup(cc_cert_issuer(leaf));
	cc_time_rfc3339(cc_cert_not_after(leaf), when);
	r->not_after = strdup(when);
	r->seconds_left = (long long)(cc_cert_not_after(leaf) - now);
	r->expires = (long long)cc_cert_not_after(leaf);
	for (size_t i = 1; i < pr->nchain; i++)
		cc_strlist_add(&r->chain, cc_cert_subject(pr->chain[i]));
	if (ctx->opts->keep_pem) {
		cc_buf pem = CC_BUF_INIT;

		for (size_t i = 0; i < pr->nchain; i++)
			cc_cert_pem(pr->chain[i], &pem);
		r->pem = cc_buf_detach(&pem);
	}
	r->warning = warning;
	r->critical = critical;
	if (e->definition && !def) {
		add(r, "definition.unreadable", CC_STATUS_UNKNOWN, "definition %s cannot be read",
		    e->definition);
		return;
	}
	/* Validity, for every kind of check. */
	if (cc_cert_not_before(leaf) > now) {
		cc_time_rfc3339(cc_cert_not_before(leaf), when);
		add(r, "validity.not-yet-valid", CC_STATUS_CRITICAL, "not valid before %s", when);
	} else if (r->seconds_left < 0) {
		if (-r->seconds_left < 86400)
			add(r, "validity.expired", CC_STATUS_CRITICAL, "expired %lld hours ago (%s)",
			    -r->seconds_left / 3600, r->not_after);
		else
			add(r, "validity.expired", CC_STATUS_CRITICAL, "expired %lld days ago (%s)",
			    -r->seconds_left / 86400, r->not_after);
	} else if (r->seconds_left < critical) {
		add(r, "validity.critical", CC_STATUS_CRITICAL, "expires in %lld days (%s)",
		    r->seconds_left / 86400, r->not_after);
	} else if (r->seconds_left < warning) {
		add(r, "validity.warning", CC_STATUS_WARNING, "expires in %lld days (%s)",
		    r->seconds_left / 86400, r->not_after);
	} else {
		add(r, "validity.ok", CC_STATUS_OK, "expires in %lld days (%s)",
		    r->seconds_left / 86400, r->not_after);
	}
	if (d && d->current) {
		store_cache *sc = store_get(ctx, def->trust_set);

		/* Lifecycle-managed: the repository verified it; is it the one served? */
		if (strcmp(cc_cert_sha256(leaf), cc_cert_sha256(d->current))) {
			add(r, "deploy.not-current", CC_STATUS_CRITICAL, "serves %s (%s), not the current "
			    "certificate %s", r->sha256, r->subject, cc_cert_sha256(d->current));
		} else {
			size_t missing = 0;

			for (size_t i = 0; i < d->nchain; i++)
				if (!served_has(pr->chain, pr->nchain, d->chain[i])) {
					add(r, "chain.missing-intermediate", CC_STATUS_CRITICAL,
					    "does not send the intermediate %s",
					    cc_cert_subject(d->chain[i]));
					missing++;
				}
			if (!missing)
				add(r, "deploy.current", CC_STATUS_OK, "serves the current certificate "
				    "with its intermediates");
		}
		if (sc && sc->rc == 0)
			judge_verify(ctx, sc, def, pr, NULL, 1, r);
	} else {
		/* Monitored: verify against the trust set, and the names. */
		store_cache *sc = store_get(ctx, def ? def->trust_set : NULL);
		const char *name = e->sni;

		/* The name asked for in the handshake is the name to be valid for;
		 * an address asked for nothing else is one. */
		if (!name)
			name = r->sni;
		if (!name && (!cc_ip_valid(e->host) || !ctx->opts->names_only))
			name = e->host;
		if (!sc || sc->rc < 0)
			add(r, "chain.trust-set", CC_STATUS_UNKNOWN, "trust set unusable: %s",
			    sc && sc->error ? sc->error : "out of memory");
		else
			judge_verify(ctx, sc, def, pr, name, 0, r);
		if (def) {
			const struct {
				int nid;
				const char *want, *what;
			} fields[] = {
				{ NID_commonName, def->subject.cn, "common name" },
				{ NID_organizationName, def->subject.o, "organization" },
				{ NID_countryName, def->subject.c, "country" },
			};
			int bad = 0;

			for (size_t i = 0; i < CC_ARRAY_SIZE(fields); i++)
				if (fields[i].want && !subject_field_is(leaf, fields[i].nid, fields[i].want)) {
					add(r, "subject.mismatch", CC_STATUS_WARNING, "the %s is not '%s' "
					    "(subject %s)", fields[i].what, fields[i].want, r->subject);
					bad = 1;
				}
			if (!bad)
				add(r, "subject.ok", CC_STATUS_OK, "the subject is the definition's");
		}
	}
	strength_last(r);
}

/* The summary: the worst finding, or "expires in N days". */
static void summarize(cc_check_result *r)
{
	const cc_finding *pick = NULL;

	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].status == r->status && (!pick || r->status != CC_STATUS_OK))
			if (!pick || pick->status != r->status)
				pick = &r->findings[i];
	if (r->status == CC_STATUS_OK) {
		for (size_t i = 0; i < r->nfindings; i++)
			if (!strncmp(r->findings[i].rule, "validity.", 9))
				pick = &r->findings[i];
	}
	r->summary = cc_strdup(pick ? pick->message : "no result");
}

typedef struct {
	const cc_check_options *opts;
	size_t done, total;
} progress_ctx;

static void on_probe(size_t index, const cc_probe_result *res, void *payload)
{
	progress_ctx *p = payload;

	(void)index;
	(void)res;
	p->done++;
	if (p->opts->progress)
		p->opts->progress(p->done, p->total, p->opts->payload);
}

/* The default trust set, read while the probes run (a bundle of a few
 * hundred CAs takes tens of milliseconds to parse). */
static void *prefetch_store(void *arg)
{
	store_get(arg, NULL);
	return NULL;
}

#define PREFETCH_MIN 64 /* endpoints: below this, a thread costs more than it saves */

int cc_check_run(cc_repo *repo, const cc_check_endpoint *endpoints, size_t n,
		 const cc_check_options *opts, cc_check_result *results)
{
	pthread_t prefetch;
	int prefetching = 0;
	static const cc_check_options defaults = CC_CHECK_OPTIONS_INIT;
	cc_probe *probes = calloc(n ? n : 1, sizeof(*probes));
	cc_probe_result *pres = calloc(n ? n : 1, sizeof(*pres));
	check_ctx ctx;
	progress_ctx pc;
	char now[32];
	int rc;

	if (!opts)
		opts = &defaults;
	memset(&ctx, 0, sizeof(ctx));
	ctx.repo = repo;
	ctx.opts = opts;
	pc.opts = opts;
	pc.done = 0;
	pc.total = n;
	if (!probes || !pres) {
		free(probes);
		free(pres);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const cc_check_endpoint *e = &endpoints[i];
		def_cache *d = e->definition ? def_get(&ctx, e->definition, e->peer) : NULL;
		const char *sni = e->sni;

		/* A definition's endpoint given as an address asks for its name. */
		if (!sni && cc_ip_valid(e->host) && d && d->def) {
			if (d->def->subject.cn && cc_dns_name_valid(d->def->subject.cn, 0))
				sni = d->def->subject.cn;
			else if (d->def->sans.dns.count &&
				 cc_dns_name_valid(d->def->sans.dns.items[0], 0))
				sni = d->def->sans.dns.items[0];
		}
		if (!sni && !cc_ip_valid(e->host))
			sni = e->host;
		if (e->no_sni)
			sni = NULL;
		probes[i].host = e->host;
		probes[i].port = e->port;
		probes[i].sni = sni;
		probes[i].starttls = e->starttls;
		probes[i].alpn = opts->alpn;
		probes[i].timeout_ms = opts->timeout_ms;
	}
	/* Only the probes run meanwhile: ctx.stores is the thread's alone. */
	if (n >= PREFETCH_MIN)
		prefetching = pthread_create(&prefetch, NULL, prefetch_store, &ctx) == 0;
	rc = cc_probe_run(probes, n, opts->concurrency, opts->rate, pres, on_probe, &pc);
	if (prefetching)
		pthread_join(prefetch, NULL);
	cc_time_now_rfc3339(now);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const cc_check_endpoint *e = &endpoints[i];
		cc_check_result *r = &results[i];

		memset(r, 0, sizeof(*r));
		r->definition = e->peer ? NULL : cc_strdup(e->definition);
		if (e->peer) {
			cc_buf ref = CC_BUF_INIT;

			cc_buf_printf(&ref, "%s@%s", e->definition, e->peer);
			r->definition = cc_buf_detach(&ref);
		}
		r->target = cc_strdup(e->target);
		r->host = cc_strdup(e->host);
		r->port = e->port;
		r->sni = cc_strdup(probes[i].sni);
		r->starttls = e->starttls ? strdup(cc_starttls_name(e->starttls)) : NULL;
		r->time = strdup(now);
		judge(&ctx, e, &pres[i], r);
		summarize(r);
	}
	for (size_t i = 0; i < n; i++)
		cc_probe_result_dispose(&pres[i]);
	for (size_t i = 0; i < ctx.ndefs; i++) {
		free(ctx.defs[i].name);
		cc_definition_free(ctx.defs[i].def);
		cc_cert_free(ctx.defs[i].current);
		cc_cert_list_free(ctx.defs[i].chain, ctx.defs[i].nchain);
	}
	for (size_t i = 0; i < ctx.nstores; i++) {
		free(ctx.stores[i].set);
		free(ctx.stores[i].error);
		X509_STORE_free(ctx.stores[i].store);
	}
	for (size_t i = 0; i < ctx.nverdicts; i++) {
		for (size_t k = 0; k < ctx.verdicts[i].nfindings; k++) {
			free(ctx.verdicts[i].findings[k].rule);
			free(ctx.verdicts[i].findings[k].message);
		}
		free(ctx.verdicts[i].findings);
		free(ctx.verdicts[i].key);
	}
	free(ctx.verdicts);
	free(ctx.defs);
	free(ctx.stores);
	free(probes);
	free(pres);
	return rc;
}

/* --- JSON and records ----------------------------------------------------- */

cc_json *cc_check_result_to_json(const cc_check_result *r)
{
	cc_json *o = cc_json_object(), *f = cc_json_array(), *chain = cc_json_array();
	int rc = 0;

	if (!o || !f || !chain) {
		cc_json_free(o);
		cc_json_free(f);
		cc_json_free(chain);
		return NULL;
	}
	rc |= cc_json_set_str(o, "definition", r->definition);
	rc |= cc_json_set_str(o, "target", r->target);
	rc |= cc_json_set_str(o, "host", r->host);
	rc |= cc_json_set_int(o, "port", r->port);
	rc |= cc_json_set_str(o, "sni", r->sni);
	rc |= cc_json_set_str(o, "starttls", r->starttls);
	rc |= cc_json_set_str(o, "time", r->time);
	rc |= cc_json_set_str(o, "status", cc_status_name(r->status));
	rc |= cc_json_set_str(o, "summary", r->summary);
	rc |= cc_json_set_str(o, "address", r->address);
	rc |= cc_json_set_str(o, "protocol", r->protocol);
	rc |= cc_json_set_str(o, "cipher", r->cipher);
	rc |= cc_json_set_str(o, "alpn", r->alpn);
	rc |= cc_json_set_str(o, "sha256", r->sha256);
	rc |= cc_json_set_str(o, "sha1", r->sha1);
	rc |= cc_json_set_str(o, "subject", r->subject);
	rc |= cc_json_set_str(o, "issuer", r->issuer);
	rc |= cc_json_set_str(o, "not_after", r->not_after);
	if (r->not_after)
		rc |= cc_json_set_int(o, "days_left", r->seconds_left / 86400);
	else
		rc |= cc_json_set(o, "days_left", cc_json_null());
	for (size_t i = 0; i < r->chain.count; i++)
		rc |= cc_json_append_str(chain, r->chain.items[i]);
	rc |= cc_json_set(o, "chain", chain);
	for (size_t i = 0; i < r->nfindings; i++) {
		cc_json *x = cc_json_object();

		rc |= cc_json_set_str(x, "rule", r->findings[i].rule);
		rc |= cc_json_set_str(x, "status", cc_status_name(r->findings[i].status));
		rc |= cc_json_set_str(x, "message", r->findings[i].message);
		rc |= cc_json_append(f, x);
	}
	rc |= cc_json_set(o, "findings", f);
	rc |= cc_json_set_int(o, "handshake_ms", r->handshake_ms);
	if (rc) {
		cc_json_free(o);
		return NULL;
	}
	return o;
}

int cc_check_result_yaml(cc_yaml_writer *w, const cc_check_result *r)
{
	char num[16];
	int rc;

	snprintf(num, sizeof(num), "%u", r->port);
	rc = cc_yaml_put(w, "host", r->host);
	rc = rc ? rc : cc_yaml_key(w, "port");
	rc = rc ? rc : cc_yaml_plain(w, num);
	rc = rc ? rc : cc_yaml_put(w, "sni", r->sni);
	rc = rc ? rc : cc_yaml_put(w, "starttls", r->starttls);
	rc = rc ? rc : cc_yaml_put(w, "target", r->target);
	rc = rc ? rc : cc_yaml_put(w, "time", r->time);
	rc = rc ? rc : cc_yaml_put(w, "status", cc_status_name(r->status));
	rc = rc ? rc : cc_yaml_put(w, "summary", r->summary);
	rc = rc ? rc : cc_yaml_put(w, "sha256", r->sha256);
	rc = rc ? rc : cc_yaml_put(w, "sha1", r->sha1);
	rc = rc ? rc : cc_yaml_put(w, "subject", r->subject);
	rc = rc ? rc : cc_yaml_put(w, "issuer", r->issuer);
	rc = rc ? rc : cc_yaml_put(w, "not_after", r->not_after);
	rc = rc ? rc : cc_yaml_put_list(w, "chain", &r->chain, 0);
	if (rc == 0 && r->nfindings) {
		rc = cc_yaml_key(w, "findings");
		rc = rc ? rc : cc_yaml_seq_start(w, 0);
		for (size_t k = 0; k < r->nfindings && rc == 0; k++) {
			rc = cc_yaml_map_start(w);
			rc = rc ? rc : cc_yaml_put(w, "rule", r->findings[k].rule);
			rc = rc ? rc : cc_yaml_put(w, "status", cc_status_name(r->findings[k].status));
			rc = rc ? rc : cc_yaml_put(w, "message", r->findings[k].message);
			rc = rc ? rc : cc_yaml_map_end(w);
		}
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	return rc;
}

int cc_check_result_from_node(cc_check_result *r, const cc_node *e)
{
	const cc_node *f = cc_node_get(e, "findings");
	unsigned long port = 0;

	if (cc_node_uint(cc_node_get(e, "port"), 65535, &port) < 0 ||
	    !cc_node_scalar(cc_node_get(e, "host")))
		return cc_node_error(e, CC_EINVALID, "an endpoint needs host and port");
	r->host = cc_strdup(cc_node_scalar(cc_node_get(e, "host")));
	r->port = (unsigned)port;
	r->sni = cc_strdup(cc_node_scalar(cc_node_get(e, "sni")));
	r->starttls = cc_strdup(cc_node_scalar(cc_node_get(e, "starttls")));
	r->target = cc_strdup(cc_node_scalar(cc_node_get(e, "target")));
	r->time = cc_strdup(cc_node_scalar(cc_node_get(e, "time")));
	if (status_parse(cc_node_scalar(cc_node_get(e, "status")), &r->status) < 0)
		r->status = CC_STATUS_UNKNOWN;
	r->summary = cc_strdup(cc_node_scalar(cc_node_get(e, "summary")));
	r->sha256 = cc_strdup(cc_node_scalar(cc_node_get(e, "sha256")));
	r->sha1 = cc_strdup(cc_node_scalar(cc_node_get(e, "sha1")));
	r->subject = cc_strdup(cc_node_scalar(cc_node_get(e, "subject")));
	r->issuer = cc_strdup(cc_node_scalar(cc_node_get(e, "issuer")));
	r->not_after = cc_strdup(cc_node_scalar(cc_node_get(e, "not_after")));
	for (size_t k = 0; f && k < cc_node_count(f); k++) {
		const cc_node *x = cc_node_at(f, k);
		cc_status st;

		if (status_parse(cc_node_scalar(cc_node_get(x, "status")), &st) < 0)
			st = CC_STATUS_UNKNOWN;
		add(r, cc_node_scalar(cc_node_get(x, "rule")) ? cc_node_scalar(cc_node_get(x, "rule")) :
		    "?", st, "%s", cc_node_scalar(cc_node_get(x, "message")) ?
		    cc_node_scalar(cc_node_get(x, "message")) : "");
	}
	return 0;
}

static int record_format(const char *def, const cc_check_result *results, size_t n, cc_buf *out)
{
	cc_yaml_writer *w = NULL;
	cc_status worst = CC_STATUS_OK;
	int rc, first = 1;

	for (size_t i = 0; i < n; i++)
		if (results[i].definition && !strcmp(results[i].definition, def)) {
			worst = first ? results[i].status : cc_status_worse(worst, results[i].status);
			first = 0;
		}
	cc_buf_puts(out, "# certctl check results; see certctl-repository(5).\n");
	if ((rc = cc_yaml_writer_new(&w, out)) < 0)
		return rc;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "definition", def);
	rc = rc ? rc : cc_yaml_put(w, "status", cc_status_name(worst));
	rc = rc ? rc : cc_yaml_key(w, "endpoints");
	rc = rc ? rc : cc_yaml_seq_start(w, 0);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const cc_check_result *r = &results[i];

		if (!r->definition || strcmp(r->definition, def))
			continue;
		rc = cc_yaml_map_start(w);
		rc = rc ? rc : cc_check_result_yaml(w, r);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	rc = rc ? rc : cc_yaml_seq_end(w);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	return rc;
}

int cc_check_record(cc_repo *repo, const cc_check_result *results, size_t n)
{
	cc_strlist defs = CC_STRLIST_INIT;
	size_t counts[4] = { 0, 0, 0, 0 }, recorded = 0;
	cc_buf text = CC_BUF_INIT, rel = CC_BUF_INIT, summary = CC_BUF_INIT;
	cc_txn *txn = NULL;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (results[i].definition) {
			if (!cc_strlist_contains(&defs, results[i].definition))
				cc_strlist_add(&defs, results[i].definition);
			counts[results[i].status]++;
			recorded++;
		}
	if (!defs.count)
		goto done;
	if ((rc = cc_txn_begin(&txn, repo, "check")) < 0)
		goto done;
	for (size_t d = 0; d < defs.count && rc == 0; d++) {
		cc_buf_clear(&text);
		cc_buf_clear(&rel);
		if ((rc = record_format(defs.items[d], results, n, &text)) < 0 ||
		    (rc = cc_buf_printf(&rel, "monitor/%s.yaml", defs.items[d])) < 0 ||
		    (rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644)) < 0)
			break;
		if (defs.count <= 20)
			rc = cc_txn_trailer(txn, "Certctl-Definition", defs.items[d]);
	}
	if (rc < 0) {
		cc_txn_abort(txn);
		goto done;
	}
	cc_buf_printf(&summary, "check: %zu endpoint%s of %zu definition%s: ", recorded,
		      recorded == 1 ? "" : "s", defs.count, defs.count == 1 ? "" : "s");
	{
		int any = 0;
		const cc_status order[] = { CC_STATUS_CRITICAL, CC_STATUS_WARNING, CC_STATUS_UNKNOWN,
					    CC_STATUS_OK };

		for (size_t k = 0; k < 4; k++)
			if (counts[order[k]]) {
				cc_buf_printf(&summary, "%s%zu %s", any ? ", " : "", counts[order[k]],
					      cc_status_name(order[k]));
				any = 1;
			}
	}
	rc = cc_txn_commit(txn, summary.ptr, NULL);
done:
	cc_strlist_dispose(&defs);
	cc_buf_dispose(&text);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&summary);
	return rc;
}

int cc_check_last(cc_repo *repo, const char *definition, cc_check_result **out, size_t *count)
{
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_node *root = NULL;
	const cc_node *eps;
	cc_check_result *list = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = cc_buf_printf(&rel, "monitor/%s.yaml", definition)) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &abs)) < 0)
		goto done;
	if (!cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_ENOTFOUND, "%s has not been checked", definition);
		goto done;
	}
	if ((rc = cc_node_load(&root, abs.ptr, rel.ptr)) < 0)
		goto done;
	eps = cc_node_get(root, "endpoints");
	if (eps && cc_node_count(eps) && !(list = calloc(cc_node_count(eps), sizeof(*list)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; eps && i < cc_node_count(eps); i++) {
		cc_check_result *r = &list[n++];

		r->definition = strdup(definition);
		if ((rc = cc_check_result_from_node(r, cc_node_at(eps, i))) < 0)
			goto done;
	}
	*out = list;
	*count = n;
	list = NULL;
done:
	cc_check_results_free(list, n);
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return rc;
}
