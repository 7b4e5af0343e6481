/*
 * Trusted CA sets and chain verification.
 *
 * A set has a bundle file outside the repository (the system's CA bundle
 * by default, trust_sets.NAME.bundle in the configuration) and CAs stored
 * in the repository, trust/<set>/<id>.pem.  The repository's own CAs
 * (ca/<name>/cert.pem) are trusted in every set.
 *
 * Verification completes what the certificate's holder left out: a
 * missing intermediate comes from the trust set or from the CA issuers
 * URL of the certificate's AIA extension, and when none does, the error
 * names the certificate that is missing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include "internal.h"

/* Whether a trust set name is acceptable (a file name component). */
static int set_check(const char *set)
{
	return cc_name_check(set, "trust set");
}

const char *cc_trust_bundle(const cc_repo *repo, const char *set)
{
	char key[128];
	const char *v;

	snprintf(key, sizeof(key), "trust_sets.%s.bundle", set);
	v = repo ? cc_repo_config_get(repo, key) : NULL;
	if (v)
		return *v ? v : NULL; /* "" : no bundle */
	v = getenv("CERTCTL_CA_BUNDLE");
	if (v && *v)
		return v;
	return X509_get_default_cert_file();
}

/*
 * A CA bundle read lazily.  Parsing every certificate of the system bundle
 * (a few hundred) costs tens of milliseconds, most of it OpenSSL 3 decoding
 * public keys nobody looks at, while a verification needs one or two of
 * them.  The bundle is indexed by subject name (the PEM decoded, the DER
 * walked to the subject, the name parsed) and a certificate is parsed and
 * added to the store when verification asks for its subject, the way
 * OpenSSL's hashed-directory lookup does.  The store is only ever searched
 * by subject, never listed.
 */
typedef struct {
	X509_NAME *subject;
	unsigned char *der;
	long len;
	int aux; /* "TRUSTED CERTIFICATE": the DER is followed by trust settings */
	int added;
} lazy_entry;

typedef struct {
	lazy_entry *entries;
	size_t count;
} lazy_bundle;

static void lazy_bundle_free(lazy_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->count; i++) {
		X509_NAME_free(b->entries[i].subject);
		OPENSSL_free(b->entries[i].der);
	}
	free(b->entries);
	free(b);
}

/* The subject Name of a DER certificate, by walking its TBSCertificate. */
static int subject_of(const unsigned char *der, long len, const unsigned char **out, long *outlen)
{
	const unsigned char *p = der, *end = der + len, *elem;
	long l;
	int tag, cls;

#define NEXT()                                                                              \
	do {                                                                                \
		elem = p;                                                                   \
		if ((ASN1_get_object(&p, &l, &tag, &cls, (long)(end - p)) & 0x80) || l < 0 ||    \
		    l > end - p)                                                            \
			return -1;                                                          \
	} while (0)
	NEXT(); /* Certificate */
	if (tag != V_ASN1_SEQUENCE)
		return -1;
	NEXT(); /* TBSCertificate */
	if (tag != V_ASN1_SEQUENCE)
		return -1;
	NEXT(); /* version [0], optional */
	if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0) {
		p += l;
		NEXT();
	}
	p += l; /* serialNumber */
	NEXT(); /* signature */
	p += l;
	NEXT(); /* issuer */
	p += l;
	NEXT(); /* validity */
	p += l;
	NEXT(); /* subject */
	if (tag != V_ASN1_SEQUENCE)
		return -1;
#undef NEXT
	*out = elem;
	*outlen = (long)(p - elem) + l;
	return 0;
}

static int lazy_index(lazy_bundle *b, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len = 0;
	size_t alloc = 0;
	int rc = 0;

	if (!bio)
		return cc_error_openssl(CC_EINVALID, "cannot read '%s'", path);
	while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
		int aux = !strcmp(name, PEM_STRING_X509_TRUSTED);
		const unsigned char *subj, *q;
		long subjlen;

		if (aux || !strcmp(name, PEM_STRING_X509) || !strcmp(name, PEM_STRING_X509_OLD)) {
			lazy_entry *e;

			if (subject_of(data, len, &subj, &subjlen) < 0) {
				rc = cc_error_set(CC_EINVALID, "'%s': a certificate that is not X.509", path);
				break;
			}
			if (b->count == alloc) {
				lazy_entry *grown = realloc(b->entries, (alloc = alloc ? alloc * 2 : 256) *
									sizeof(*grown));

				if (!grown) {
					rc = cc_error_set(CC_ERROR, "out of memory");
					break;
				}
				b->entries = grown;
			}
			e = &b->entries[b->count];
			q = subj;
			if (!(e->subject = d2i_X509_NAME(NULL, &q, subjlen))) {
				rc = cc_error_openssl(CC_EINVALID, "'%s': a certificate's subject", path);
				break;
			}
			e->der = data;
			e->len = len;
			e->aux = aux;
			e->added = 0;
			b->count++;
			data = NULL;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	ERR_clear_error(); /* PEM_read_bio ends with "no start line" */
	return rc;
}

static int lazy_get_by_subject(X509_LOOKUP *lookup, X509_LOOKUP_TYPE type, const X509_NAME *name,
			       X509_OBJECT *ret)
{
	lazy_bundle *b = X509_LOOKUP_get_method_data(lookup);
	X509_STORE *store = X509_LOOKUP_get_store(lookup);
	X509_OBJECT *o;
	X509 *x;
	int found = 0, ok;

	if (type != X509_LU_X509 || !b || !name)
		return 0;
	/* Every certificate of that subject goes into the store (cross-signed
	 * CAs share one); the store then finds each of them itself. */
	for (size_t i = 0; i < b->count; i++) {
		lazy_entry *e = &b->entries[i];
		const unsigned char *p = e->der;

		if (X509_NAME_cmp(e->subject, name) != 0)
			continue;
		found = 1;
		if (e->added)
			continue;
		e->added = 1;
		x = e->aux ? d2i_X509_AUX(NULL, &p, e->len) : d2i_X509(NULL, &p, e->len);
		if (x)
			X509_STORE_add_cert(store, x); /* already there: fine */
		X509_free(x);
	}
	ERR_clear_error();
	if (!found)
		return 0;
	/* `ret` borrows the store's reference, as with OpenSSL's own lookups:
	 * the caller takes a reference of its own. */
	X509_STORE_lock(store);
	o = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store), X509_LU_X509, name);
	x = o ? X509_OBJECT_get0_X509(o) : NULL;
	ok = x && X509_OBJECT_set1_X509(ret, x);
	if (ok)
		X509_free(x); /* the reference set1 took */
	X509_STORE_unlock(store);
	return ok;
}

static void lazy_free(X509_LOOKUP *lookup)
{
	lazy_bundle_free(X509_LOOKUP_get_method_data(lookup));
}

static X509_LOOKUP_METHOD *lazy_method;
static pthread_once_t lazy_once = PTHREAD_ONCE_INIT;

static void lazy_method_init(void)
{
	X509_LOOKUP_METHOD *m = X509_LOOKUP_meth_new("certctl lazy bundle");

	if (m && X509_LOOKUP_meth_set_get_by_subject(m, lazy_get_by_subject) &&
	    X509_LOOKUP_meth_set_free(m, lazy_free))
		lazy_method = m;
	else
		X509_LOOKUP_meth_free(m);
}

/* The certificates of the PEM bundle `path` for `store`, read on demand;
 * `*count` gets how many it has. */
static int add_bundle_lazily(X509_STORE *store, const char *path, size_t *count)
{
	lazy_bundle *b = calloc(1, sizeof(*b));
	X509_LOOKUP *lookup;
	int rc;

	if (!b)
		return cc_error_set(CC_ERROR, "out of memory");
	if ((rc = lazy_index(b, path)) < 0) {
		lazy_bundle_free(b);
		return rc;
	}
	pthread_once(&lazy_once, lazy_method_init);
	if (!lazy_method || !(lookup = X509_STORE_add_lookup(store, lazy_method)) ||
	    !X509_LOOKUP_set_method_data(lookup, b)) {
		lazy_bundle_free(b);
		return cc_error_openssl(CC_ERROR, "cannot set up the trust store");
	}
	*count = b->count;
	return 0;
}

/* --- anchors: CAs of a set trusted though they are not roots ------------------------- */

static int anchors_rel(cc_buf *rel, const char *set)
{
	return cc_buf_printf(rel, "trust/%s/anchors.yaml", set);
}

int cc_trust_anchors(cc_repo *repo, const char *set, cc_strlist *out)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_node *root = NULL;
	const cc_node *list;
	int rc;

	if ((rc = set_check(set)) < 0 || (rc = anchors_rel(&rel, set)) < 0)
		goto done;
	rc = cc_repo_read(repo, rel.ptr, &text);
	if (rc == CC_ENOTFOUND) {
		cc_error_clear();
		rc = 0;
		goto done;
	}
	if (rc < 0 || (rc = cc_node_parse(&root, text.ptr, text.size, rel.ptr)) < 0)
		goto done;
	list = cc_node_get(root, "anchors");
	for (size_t i = 0; list && i < cc_node_count(list) && rc == 0; i++) {
		const char *id = cc_node_scalar(cc_node_at(list, i));

		if (!id || strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16)
			rc = cc_error_set(CC_EINVALID, "%s: anchors: '%s' is not a certificate id "
					  "(16 hex digits)", rel.ptr, id ? id : "");
		else
			rc = cc_strlist_add(out, id);
	}
done:
	cc_node_free(root);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

/* Write the set's anchors (sorted; none: no file). */
static int anchors_write(cc_txn *txn, const char *set, cc_strlist *ids)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	int rc;

	if ((rc = anchors_rel(&rel, set)) < 0)
		goto done;
	if (!ids->count) {
		rc = cc_txn_remove(txn, rel.ptr);
		if (rc == CC_ENOTFOUND) {
			cc_error_clear();
			rc = 0;
		}
		goto done;
	}
	cc_strlist_sort(ids);
	cc_buf_puts(&text, "# CAs of this set trusted as anchors though not roots "
		    "(certctl trust add --anchor).\n");
	if ((rc = cc_yaml_writer_new(&w, &text)) < 0)
		goto done;
	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put_list(w, "anchors", ids, 0);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	if (rc == 0)
		rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644);
done:
	cc_yaml_writer_free(w);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

/*
 * Add the certificates of `rel` to `store`.  As an anchor, a certificate
 * carries OpenSSL's explicit trust (any purpose), which ends a path at it
 * as at a root: partial chains for the anchors declared, not for every
 * CA in the store (X509_V_FLAG_PARTIAL_CHAIN would).
 */
static int add_file(X509_STORE *store, cc_repo *repo, const char *rel, int anchor, size_t *added)
{
	cc_cert **certs = NULL;
	size_t n = 0;
	int rc = cc_repo_read_certs(&certs, &n, repo, rel);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		X509 *x = cc_cert_get0_x509(certs[i]);
		X509 *trusted = NULL;

		if (anchor && X509_self_signed(x, 0) != 1) {
			if (!(trusted = X509_dup(x)) ||
			    !X509_add1_trust_object(trusted, OBJ_nid2obj(NID_anyExtendedKeyUsage))) {
				X509_free(trusted);
				rc = cc_error_set(CC_ERROR, "out of memory");
				break;
			}
			x = trusted;
		}
		if (X509_STORE_add_cert(store, x) != 1) {
			unsigned long e = ERR_peek_last_error();

			/* The same CA twice (bundle and repository) is fine. */
			if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
				rc = cc_error_openssl(CC_ERROR, "%s: cannot add to the trust store", rel);
			ERR_clear_error();
		}
		X509_free(trusted);
		(*added)++;
	}
	cc_cert_list_free(certs, n);
	return rc;
}

int cc_trust_list(cc_repo *repo, const char *set, cc_strlist *out)
{
	cc_buf dir = CC_BUF_INIT, rel = CC_BUF_INIT;
	cc_strlist names = CC_STRLIST_INIT;
	int rc;

	if ((rc = set_check(set)) < 0)
		return rc;
	if ((rc = cc_buf_printf(&rel, "trust/%s", set)) < 0 ||
	    (rc = cc_repo_path(repo, rel.ptr, &dir)) < 0)
		goto done;
	if (cc_fs_is_dir(dir.ptr) && (rc = cc_fs_list(&names, dir.ptr, ".pem")) < 0)
		goto done;
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		char id[64];

		snprintf(id, sizeof(id), "%.*s", (int)(strlen(names.items[i]) - 4), names.items[i]);
		rc = cc_strlist_add(out, id);
	}
done:
	cc_strlist_dispose(&names);
	cc_buf_dispose(&dir);
	cc_buf_dispose(&rel);
	return rc;
}

int cc_trust_store(X509_STORE **out, cc_repo *repo, const char *set, size_t *count)
{
	X509_STORE *store = X509_STORE_new();
	cc_strlist ids = CC_STRLIST_INIT, cas = CC_STRLIST_INIT, anchors = CC_STRLIST_INIT;
	cc_buf rel = CC_BUF_INIT;
	const char *bundle;
	char def[129];
	cc_trust_info info;
	size_t added = 0;
	int rc = 0;

	*out = NULL;
	memset(&info, 0, sizeof(info));
	if (!store)
		return cc_error_set(CC_ERROR, "out of memory");
	if (!set)
		set = cc_trust_default(repo, def);
	/* Outside a repository: the bundle alone. */
	if (repo && (rc = cc_trust_list(repo, set, &ids)) < 0)
		goto done;
	/* The set's record names its bundle; else the configuration. */
	bundle = cc_trust_bundle(repo, set);
	if (repo && cc_trust_info_load(repo, set, &info) == 0 && info.has_record)
		bundle = info.bundle && *info.bundle ? info.bundle : NULL;
	cc_error_clear();
	if (bundle && cc_fs_exists(bundle)) {
		size_t n = 0;

		if (add_bundle_lazily(store, bundle, &n) < 0) {
			rc = cc_error_set(CC_EINVALID, "trust set '%s': cannot read bundle '%s': %s", set,
					  bundle, cc_error_last());
			goto done;
		}
		added += n;
	}
	if (repo && (rc = cc_trust_anchors(repo, set, &anchors)) < 0)
		goto done;
	for (size_t i = 0; i < ids.count && rc == 0; i++) {
		cc_buf_clear(&rel);
		if ((rc = cc_buf_printf(&rel, "trust/%s/%s.pem", set, ids.items[i])) == 0)
			rc = add_file(store, repo, rel.ptr,
				      cc_strlist_contains(&anchors, ids.items[i]), &added);
	}
	if (rc == 0 && repo)
		rc = cc_ca_names(repo, &cas);
	for (size_t i = 0; i < cas.count && rc == 0; i++) {
		cc_buf_clear(&rel);
		if ((rc = cc_buf_printf(&rel, "ca/%s/cert.pem", cas.items[i])) < 0)
			break;
		rc = add_file(store, repo, rel.ptr, 0, &added);
		if (rc == CC_ENOTFOUND) { /* a CA that awaits its certificate */
			cc_error_clear();
			rc = 0;
		}
	}
done:
	cc_trust_info_dispose(&info);
	cc_strlist_dispose(&ids);
	cc_strlist_dispose(&cas);
	cc_strlist_dispose(&anchors);
	cc_buf_dispose(&rel);
	if (rc < 0) {
		X509_STORE_free(store);
		return rc;
	}
	if (count)
		*count = added;
	*out = store;
	return 0;
}

int cc_trust_add(cc_txn *txn, const char *set, const cc_cert *cert, int anchor)
{
	cc_buf rel = CC_BUF_INIT, pem = CC_BUF_INIT, abs = CC_BUF_INIT;
	cc_strlist anchors = CC_STRLIST_INIT;
	int rc;

	if ((rc = set_check(set)) < 0)
		return rc;
	if (!cc_cert_is_ca(cert))
		return cc_error_set(CC_EINVALID, "%s is not a CA certificate (basicConstraints)",
				    cc_cert_subject(cert));
	if ((rc = cc_buf_printf(&rel, "trust/%s/%s.pem", set, cc_cert_id(cert))) < 0 ||
	    (rc = cc_repo_path(cc_txn_repo(txn), rel.ptr, &abs)) < 0)
		goto done;
	if (cc_fs_exists(abs.ptr)) {
		rc = cc_error_set(CC_EEXISTS, "%s is already in trust set '%s' (%s)",
				  cc_cert_subject(cert), set, cc_cert_id(cert));
		goto done;
	}
	if ((rc = cc_cert_pem(cert, &pem)) == 0)
		rc = cc_txn_write(txn, rel.ptr, pem.ptr, pem.size, 0644);
	/* A root is an anchor as it is. */
	if (rc == 0 && anchor && !cc_cert_is_self_signed(cert) &&
	    (rc = cc_trust_anchors(cc_txn_repo(txn), set, &anchors)) == 0 &&
	    (rc = cc_strlist_add(&anchors, cc_cert_id(cert))) == 0)
		rc = anchors_write(txn, set, &anchors);
done:
	cc_strlist_dispose(&anchors);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&pem);
	cc_buf_dispose(&abs);
	return rc;
}

int cc_trust_remove(cc_txn *txn, const char *set, const char *id)
{
	cc_buf rel = CC_BUF_INIT;
	cc_strlist anchors = CC_STRLIST_INIT;
	int rc;

	if ((rc = set_check(set)) < 0)
		return rc;
	if (!id || strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16)
		return cc_error_set(CC_EINVALID, "invalid certificate id '%s' (16 hex digits)",
				    id ? id : "");
	if ((rc = cc_buf_printf(&rel, "trust/%s/%s.pem", set, id)) == 0) {
		rc = cc_txn_remove(txn, rel.ptr);
		if (rc == CC_ENOTFOUND)
			rc = cc_error_set(CC_ENOTFOUND, "no certificate %s in trust set '%s'", id, set);
	}
	if (rc == 0 && (rc = cc_trust_anchors(cc_txn_repo(txn), set, &anchors)) == 0 &&
	    cc_strlist_remove(&anchors, id))
		rc = anchors_write(txn, set, &anchors);
	cc_strlist_dispose(&anchors);
	cc_buf_dispose(&rel);
	return rc;
}


int cc_verify_chain(cc_repo *repo, const char *set, const cc_cert *leaf, cc_cert *const *given,
		    size_t ngiven, time_t at, cc_verify_result *result)
{
	X509_STORE *store = NULL;
	int rc;

	memset(result, 0, sizeof(*result));
	if ((rc = cc_trust_store(&store, repo, set, NULL)) < 0)
		return rc;
	rc = cc_verify_chain_store(store, set, leaf, given, ngiven, at, result);
	X509_STORE_free(store);
	return rc;
}

/*
 * The chain of a certificate received from a CA, judged by the verifier
 * (lib/verify.c) as RFC 5280 path validation: what the CA sent, completed
 * from AIA, up to the trust set.  Revocation is not asked of a certificate
 * just issued.
 */
int cc_verify_chain_store(X509_STORE *store, const char *set, const cc_cert *leaf,
			  cc_cert *const *given, size_t ngiven, time_t at, cc_verify_result *result)
{
	cc_verify_options o = CC_VERIFY_OPTIONS_INIT;
	cc_verify_report rep;
	const cc_verify_finding *bad = NULL;
	int rc;

	memset(result, 0, sizeof(*result));
	o.policy = CC_POLICY_RFC5280;
	o.revocation = CC_REVOCATION_OFF;
	o.trust_set = set;
	o.untrusted = given;
	o.nuntrusted = ngiven;
	o.at = at;
	if ((rc = cc_verify_store(store, NULL, leaf, &o, &rep)) < 0)
		return rc;
	result->fetched = rep.fetched;
	result->aia_url = cc_strdup(rep.fetched_from);
	for (size_t i = 0; i < rep.nfindings && !bad; i++)
		if (rep.findings[i].status == CC_STATUS_CRITICAL)
			bad = &rep.findings[i];
	if (rep.path_valid && !bad) {
		/* What a server sends: the intermediates, not the leaf, not a root. */
		result->chain = calloc(rep.path_len ? rep.path_len : 1, sizeof(*result->chain));
		if (!result->chain) {
			rc = cc_error_set(CC_ERROR, "out of memory");
			goto done;
		}
		for (size_t i = 1; i < rep.path_len; i++) {
			X509 *x = cc_cert_get0_x509(rep.path[i]);

			if (i == rep.path_len - 1 && X509_self_signed(x, 0) == 1)
				break;
			if ((rc = cc_cert_from_x509(&result->chain[result->chain_len], X509_dup(x))) < 0)
				goto done;
			result->chain_len++;
		}
		result->verified = 1;
		goto done;
	}
	result->error = cc_strdup(bad ? bad->message : "no path to a trust anchor");
	if (bad && !strcmp(bad->rule, "chain.untrusted") && !strncmp(bad->message, "the chain is ", 13))
		rc = cc_error_set(CC_EINVALID, "%s", bad->message);
	else
		rc = cc_error_set(CC_EINVALID, "the certificate does not verify against trust set "
				  "'%s': %s", set ? set : "default", result->error);
done:
	cc_verify_report_dispose(&rep);
	return rc;
}

void cc_verify_result_dispose(cc_verify_result *result)
{
	cc_cert_list_free(result->chain, result->chain_len);
	free(result->error);
	free(result->missing_for);
	free(result->missing_issuer);
	free(result->aia_url);
	free(result->aia_error);
	memset(result, 0, sizeof(*result));
}
