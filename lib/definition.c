/*
 * This module implements certificate definitions: the YAML schema (every
 * field checked, errors at FILE:LINE:COLUMN), defaults from the repository
 * configuration, the canonical writer and storage in definitions/.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "internal.h"
#include "certctl/deploy.h"

#define DEF_DIR "definitions"
#define DEF_SUFFIX ".yaml"

static int key_id_valid(const char *id);

static const char *const starttls_protocols[] = { "smtp", "imap", "pop3", "ftp", "ldap",
						  "postgres" };

const char *cc_operation_mode_name(cc_operation_mode mode)
{
	return mode == CC_MODE_MONITOR ? "monitor" : "lifecycle";
}

const char *cc_process_mode_name(cc_process_mode mode)
{
	return mode == CC_PROCESS_UNATTENDED ? "unattended" : "interactive";
}

const char *cc_profile_name(cc_profile profile)
{
	switch (profile) {
	case CC_PROFILE_CLIENT: return "client";
	case CC_PROFILE_SERVER_CLIENT: return "server+client";
	default: return "server";
	}
}

int cc_operation_mode_parse(cc_operation_mode *out, const char *text)
{
	if (text && (!strcmp(text, "lifecycle") || !strcmp(text, "lifecycle-managed")))
		*out = CC_MODE_LIFECYCLE;
	else if (text && (!strcmp(text, "monitor") || !strcmp(text, "monitored-only")))
		*out = CC_MODE_MONITOR;
	else
		return cc_error_set(CC_EINVALID, "invalid mode '%s' (lifecycle or monitor)",
				    text ? text : "");
	return 0;
}

int cc_process_mode_parse(cc_process_mode *out, const char *text)
{
	if (text && !strcmp(text, "interactive"))
		*out = CC_PROCESS_INTERACTIVE;
	else if (text && !strcmp(text, "unattended"))
		*out = CC_PROCESS_UNATTENDED;
	else
		return cc_error_set(CC_EINVALID,
				    "invalid process mode '%s' (interactive or unattended)",
				    text ? text : "");
	return 0;
}

int cc_profile_parse(cc_profile *out, const char *text)
{
	if (text && !strcmp(text, "server"))
		*out = CC_PROFILE_SERVER;
	else if (text && !strcmp(text, "client"))
		*out = CC_PROFILE_CLIENT;
	else if (text && (!strcmp(text, "server+client") || !strcmp(text, "client+server")))
		*out = CC_PROFILE_SERVER_CLIENT;
	else
		return cc_error_set(CC_EINVALID,
				    "invalid profile '%s' (server, client or server+client)",
				    text ? text : "");
	return 0;
}

void cc_check_dispose(cc_check *check)
{
	free(check->host);
	free(check->sni);
	free(check->starttls);
	memset(check, 0, sizeof(*check));
}

static int port_parse(const char *text, unsigned *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (!*text || *end || errno || v == 0 || v > 65535 || *text == '-' || *text == '+')
		return cc_error_set(CC_EINVALID, "invalid port '%s' (1-65535)", text);
	*out = (unsigned)v;
	return 0;
}

static int host_valid(const char *host)
{
	return cc_ip_valid(host) || cc_dns_name_valid(host, 0);
}

int cc_check_parse(cc_check *out, const char *text)
{
	char host[300];
	const char *port = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	out->port = 443;
	out->enabled = 1;
	if (!text || !*text)
		return cc_error_set(CC_EINVALID, "empty check endpoint");
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || (close[1] && close[1] != ':'))
			return cc_error_set(CC_EINVALID, "invalid endpoint '%s' (use [ADDR]:PORT)",
					    text);
		len = (size_t)(close - text - 1);
		if (close[1] == ':')
			port = close + 2;
		text++;
	} else {
		const char *colon = strchr(text, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* A bare IPv6 address, no port. */
			len = strlen(text);
		} else {
			len = colon ? (size_t)(colon - text) : strlen(text);
			port = colon ? colon + 1 : NULL;
		}
	}
	if (len == 0 || len >= sizeof(host))
		return cc_error_set(CC_EINVALID, "invalid endpoint '%s'", text);
	memcpy(host, text, len);
	host[len] = '\0';
	if (!host_valid(host))
		return cc_error_set(CC_EINVALID, "invalid host '%s' (a DNS name or an IP address)",
				    host);
	if (port && port_parse(port, &out->port) < 0)
		return CC_EINVALID;
	out->host = strdup(host);
	return out->host ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

static void subject_dispose(cc_subject *s)
{
	free(s->cn);
	free(s->o);
	free(s->ou);
	free(s->l);
	free(s->st);
	free(s->c);
	free(s->email);
}

static void sans_dispose(cc_sans *s)
{
	cc_strlist_dispose(&s->dns);
	cc_strlist_dispose(&s->ip);
	cc_strlist_dispose(&s->email);
	cc_strlist_dispose(&s->uri);
}

void cc_definition_free(cc_definition *def)
{
	if (!def)
		return;
	free(def->name);
	free(def->description);
	subject_dispose(&def->subject);
	sans_dispose(&def->sans);
	free(def->key_id);
	free(def->provider);
	free(def->ca);
	free(def->product);
	free(def->validation);
	free(def->trust_set);
	for (size_t i = 0; i < def->nchecks; i++)
		cc_check_dispose(&def->checks[i]);
	free(def->checks);
	for (size_t i = 0; i < def->ntargets; i++) {
		free(def->targets[i].name);
		free(def->targets[i].type);
		cc_node_free(def->targets[i].settings);
	}
	free(def->targets);
	for (size_t i = 0; i < def->npeers; i++) {
		free(def->peers[i].name);
		sans_dispose(&def->peers[i].sans);
	}
	free(def->peers);
	free(def->peer);
	free(def->requester);
	free(def->owner);
	free(def->notes);
	cc_strlist_dispose(&def->allow);
	free(def);
}

int cc_definition_new(cc_definition **out, const cc_repo *repo, const char *name)
{
	cc_definition *def = NULL;
	cc_setting st;
	int rc;

	*out = NULL;
	if ((rc = cc_name_check(name, "definition")) < 0)
		return rc;
	def = calloc(1, sizeof(*def));
	if (!def || !(def->name = strdup(name))) {
		free(def);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	/* The defaults.* settings (certctl-config(1)). */
	if ((rc = cc_setting_get(&st, repo, "defaults.key")) < 0 ||
	    (rc = cc_key_spec_parse(&def->key, st.value)) < 0 ||
	    (rc = cc_setting_get(&st, repo, "defaults.provider")) < 0)
		goto fail;
	if (!(def->provider = strdup(st.value))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto fail;
	}
	if ((rc = cc_setting_duration(&def->validity, repo, "defaults.validity")) < 0 ||
	    (rc = cc_setting_duration(&def->renew_before, repo, "defaults.renew_before")) < 0 ||
	    (rc = cc_setting_duration(&def->warning, repo, "defaults.warning")) < 0 ||
	    (rc = cc_setting_duration(&def->critical, repo, "defaults.critical")) < 0)
		goto fail;
	def->monitor = 1;
	*out = def;
	return 0;
fail:
	cc_definition_free(def);
	return rc;
}

/* Schema readers: each takes the node of one field. */

static int read_string(const cc_node *node, char **slot)
{
	char *value = NULL;
	int rc;

	if ((rc = cc_node_string(node, &value)) < 0)
		return rc;
	free(*slot);
	*slot = *value ? value : NULL;
	if (!*value)
		free(value);
	return 0;
}

typedef int (*item_check)(const char *value);

static int read_list(const cc_node *node, cc_strlist *list, item_check check, const char *what)
{
	cc_strlist_dispose(list);
	if (cc_node_kind(node) == CC_NODE_SCALAR) {
		/* A single value where a list is expected is a list of one. */
		if (!*cc_node_scalar(node))
			return 0;
		if (check && !check(cc_node_scalar(node)))
			return cc_node_error(node, CC_EINVALID, "invalid %s '%s'", what,
					     cc_node_scalar(node));
		return cc_strlist_add(list, cc_node_scalar(node));
	}
	if (cc_node_kind(node) != CC_NODE_SEQUENCE)
		return cc_node_error(node, CC_EINVALID, "expected a list of %ss", what);
	for (size_t i = 0; i < cc_node_count(node); i++) {
		const cc_node *item = cc_node_at(node, i);
		const char *value = cc_node_scalar(item);

		if (!value)
			return cc_node_error(item, CC_EINVALID, "expected a %s", what);
		if (check && !check(value))
			return cc_node_error(item, CC_EINVALID, "invalid %s '%s'", what, value);
		if (cc_strlist_contains(list, value))
			return cc_node_error(item, CC_EINVALID, "duplicate %s '%s'", what, value);
		if (cc_strlist_add(list, value) < 0)
			return CC_ERROR;
	}
	return 0;
}

static int dns_check(const char *value)
{
	return cc_dns_name_valid(value, 1);
}

/* Reject keys of `map` not in `allowed`, naming the first one. */
static int only_keys(const cc_node *map, const char *const *allowed, size_t n, const char *where)
{
	for (size_t i = 0; i < cc_node_count(map); i++) {
		const char *key = cc_node_key_at(map, i);
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(key, allowed[j]) == 0)
				break;
		if (j == n)
			return cc_node_key_error(cc_node_at(map, i), CC_EINVALID, "unknown key '%s'%s%s",
						 key, where ? " in " : "", where ? where : "");
	}
	return 0;
}

static int read_subject(const cc_node *node, cc_subject *s)
{
	static const char *const keys[] = { "cn", "o", "ou", "l", "st", "c", "email" };
	char **slots[] = { &s->cn, &s->o, &s->ou, &s->l, &s->st, &s->c, &s->email };
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_MAPPING, "subject")) < 0 ||
	    (rc = only_keys(node, keys, CC_ARRAY_SIZE(keys), "subject")) < 0)
		return rc;
	for (size_t i = 0; i < CC_ARRAY_SIZE(keys); i++) {
		const cc_node *v = cc_node_get(node, keys[i]);

		if (v && (rc = read_string(v, slots[i])) < 0)
			return rc;
	}
	if (s->c && !cc_country_valid(s->c))
		return cc_node_error(cc_node_get(node, "c"), CC_EINVALID,
				     "invalid country code '%s' (two upper-case letters, ISO 3166)",
				     s->c);
	if (s->email && !cc_email_valid(s->email))
		return cc_node_error(cc_node_get(node, "email"), CC_EINVALID,
				     "invalid e-mail address '%s'", s->email);
	if (s->cn && strlen(s->cn) > 64)
		return cc_node_error(cc_node_get(node, "cn"), CC_EINVALID,
				     "common name longer than 64 characters");
	return 0;
}

static int read_sans(const cc_node *node, cc_sans *s)
{
	static const char *const keys[] = { "dns", "ip", "email", "uri" };
	const cc_node *v;
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_MAPPING, "san")) < 0 ||
	    (rc = only_keys(node, keys, CC_ARRAY_SIZE(keys), "san")) < 0)
		return rc;
	if ((v = cc_node_get(node, "dns")) && (rc = read_list(v, &s->dns, dns_check, "DNS name")) < 0)
		return rc;
	if ((v = cc_node_get(node, "ip")) && (rc = read_list(v, &s->ip, cc_ip_valid, "IP address")) < 0)
		return rc;
	if ((v = cc_node_get(node, "email")) &&
	    (rc = read_list(v, &s->email, cc_email_valid, "e-mail address")) < 0)
		return rc;
	if ((v = cc_node_get(node, "uri")) && (rc = read_list(v, &s->uri, cc_uri_valid, "URI")) < 0)
		return rc;
	return 0;
}

static int read_key(const cc_node *node, cc_definition *def)
{
	static const char *const keys[] = { "type", "reuse", "id" };
	const cc_node *v;
	int rc;

	if (cc_node_kind(node) == CC_NODE_SCALAR) {
		if (cc_key_spec_parse(&def->key, cc_node_scalar(node)) < 0 ||
		    cc_key_spec_check(&def->key) < 0)
			return cc_node_error(node, CC_EINVALID, "%s", cc_error_last());
		return 0;
	}
	if ((rc = cc_node_expect(node, CC_NODE_MAPPING, "key")) < 0 ||
	    (rc = only_keys(node, keys, CC_ARRAY_SIZE(keys), "key")) < 0)
		return rc;
	if ((v = cc_node_get(node, "type"))) {
		if (!cc_node_scalar(v) || cc_key_spec_parse(&def->key, cc_node_scalar(v)) < 0 ||
		    cc_key_spec_check(&def->key) < 0)
			return cc_node_error(v, CC_EINVALID, "%s",
					     cc_node_scalar(v) ? cc_error_last()
							       : "key type must be a single value");
	}
	if ((v = cc_node_get(node, "reuse")) && (rc = cc_node_bool(v, &def->reuse_key)) < 0)
		return rc;
	if ((v = cc_node_get(node, "id"))) {
		if ((rc = read_string(v, &def->key_id)) < 0)
			return rc;
		if (def->key_id && !key_id_valid(def->key_id))
			return cc_node_error(v, CC_EINVALID,
					     "invalid key id '%s' (16 lower-case hex digits)",
					     def->key_id);
	}
	return 0;
}

static int key_id_valid(const char *id)
{
	return strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16;
}

static int read_monitor(const cc_node *node, cc_definition *def)
{
	static const char *const keys[] = { "enabled", "warning", "critical" };
	const cc_node *v;
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_MAPPING, "monitor")) < 0 ||
	    (rc = only_keys(node, keys, CC_ARRAY_SIZE(keys), "monitor")) < 0)
		return rc;
	if ((v = cc_node_get(node, "enabled")) && (rc = cc_node_bool(v, &def->monitor)) < 0)
		return rc;
	if ((v = cc_node_get(node, "warning")) && (rc = cc_node_duration(v, &def->warning)) < 0)
		return rc;
	if ((v = cc_node_get(node, "critical")) && (rc = cc_node_duration(v, &def->critical)) < 0)
		return rc;
	if (def->critical > def->warning)
		return cc_node_error(node, CC_EINVALID,
				     "critical threshold is longer than the warning threshold");
	return 0;
}

static int read_check(const cc_node *node, cc_check *check)
{
	static const char *const keys[] = { "host", "port", "sni", "starttls", "enabled" };
	const cc_node *v;
	unsigned long port;
	int rc;

	memset(check, 0, sizeof(*check));
	check->port = 443;
	check->enabled = 1;
	if (cc_node_kind(node) == CC_NODE_SCALAR) {
		if (cc_check_parse(check, cc_node_scalar(node)) < 0)
			return cc_node_error(node, CC_EINVALID, "%s", cc_error_last());
		return 0;
	}
	if ((rc = cc_node_expect(node, CC_NODE_MAPPING, "a check")) < 0 ||
	    (rc = only_keys(node, keys, CC_ARRAY_SIZE(keys), "check")) < 0)
		return rc;
	v = cc_node_get(node, "host");
	if (!v)
		return cc_node_error(node, CC_EINVALID, "a check needs a 'host'");
	if ((rc = read_string(v, &check->host)) < 0)
		return rc;
	if (!check->host || !host_valid(check->host))
		return cc_node_error(v, CC_EINVALID, "invalid host '%s' (a DNS name or an IP address)",
				     check->host ? check->host : "");
	if ((v = cc_node_get(node, "port"))) {
		if (cc_node_uint(v, 65535, &port) < 0 || port == 0)
			return cc_node_error(v, CC_EINVALID, "port must be 1-65535, not '%s'",
					     cc_node_scalar(v) ? cc_node_scalar(v) : "");
		check->port = (unsigned)port;
	}
	if ((v = cc_node_get(node, "sni"))) {
		if ((rc = read_string(v, &check->sni)) < 0)
			return rc;
		if (check->sni && !cc_dns_name_valid(check->sni, 0))
			return cc_node_error(v, CC_EINVALID, "invalid server name '%s'", check->sni);
	}
	if ((v = cc_node_get(node, "starttls"))) {
		size_t i;

		if ((rc = read_string(v, &check->starttls)) < 0)
			return rc;
		for (i = 0; check->starttls && i < CC_ARRAY_SIZE(starttls_protocols); i++)
			if (!strcmp(check->starttls, starttls_protocols[i]))
				break;
		if (check->starttls && i == CC_ARRAY_SIZE(starttls_protocols))
			return cc_node_error(v, CC_EINVALID,
					     "invalid starttls '%s' (smtp, imap, pop3, ftp, ldap, "
					     "postgres)", check->starttls);
	}
	if ((v = cc_node_get(node, "enabled")) && (rc = cc_node_bool(v, &check->enabled)) < 0)
		return rc;
	return 0;
}

static int read_checks(const cc_node *node, cc_definition *def)
{
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_SEQUENCE, "checks")) < 0)
		return rc;
	def->checks = calloc(cc_node_count(node) + 1, sizeof(*def->checks));
	if (!def->checks)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < cc_node_count(node); i++) {
		rc = read_check(cc_node_at(node, i), &def->checks[i]);
		def->nchecks = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_targets(const cc_node *node, cc_definition *def)
{
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_SEQUENCE, "targets")) < 0)
		return rc;
	def->targets = calloc(cc_node_count(node) + 1, sizeof(*def->targets));
	if (!def->targets)
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < cc_node_count(node); i++) {
		const cc_node *t = cc_node_at(node, i), *name, *type;
		cc_target *target = &def->targets[i];

		def->ntargets = i + 1;
		if ((rc = cc_node_expect(t, CC_NODE_MAPPING, "a target")) < 0)
			return rc;
		name = cc_node_get(t, "name");
		type = cc_node_get(t, "type");
		if (!name || !cc_node_scalar(name))
			return cc_node_error(t, CC_EINVALID, "a target needs a 'name'");
		if (!type || !cc_node_scalar(type) || !*cc_node_scalar(type))
			return cc_node_error(t, CC_EINVALID, "target '%s' needs a 'type'",
					     cc_node_scalar(name));
		if (cc_name_check(cc_node_scalar(name), "target") < 0)
			return cc_node_error(name, CC_EINVALID, "%s", cc_error_last());
		for (size_t j = 0; j < i; j++)
			if (!strcmp(def->targets[j].name, cc_node_scalar(name)))
				return cc_node_error(name, CC_EINVALID, "duplicate target '%s'",
						     cc_node_scalar(name));
		target->name = strdup(cc_node_scalar(name));
		target->type = strdup(cc_node_scalar(type));
		target->settings = cc_node_dup(t);
		if (!target->name || !target->type || !target->settings)
			return cc_error_set(CC_ERROR, "out of memory");
		/* The deploy module knows the settings; errors point into this file. */
		{
			cc_target here = *target;

			here.settings = (cc_node *)t;
			if ((rc = cc_target_check(&here, def->name ? def->name : "x")) < 0)
				return rc;
		}
	}
	return 0;
}

static int read_peers(const cc_node *node, cc_definition *def)
{
	static const char *const keys[] = { "name", "san" };
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_SEQUENCE, "peers")) < 0)
		return rc;
	if (!(def->peers = calloc(cc_node_count(node) + 1, sizeof(*def->peers))))
		return cc_error_set(CC_ERROR, "out of memory");
	for (size_t i = 0; i < cc_node_count(node); i++) {
		const cc_node *p = cc_node_at(node, i), *name, *v;
		cc_peer *peer = &def->peers[i];

		def->npeers = i + 1;
		if ((rc = cc_node_expect(p, CC_NODE_MAPPING, "a peer")) < 0 ||
		    (rc = only_keys(p, keys, CC_ARRAY_SIZE(keys), "a peer")) < 0)
			return rc;
		if (!(name = cc_node_get(p, "name")) || !cc_node_scalar(name))
			return cc_node_error(p, CC_EINVALID, "a peer needs a 'name'");
		if (cc_name_check(cc_node_scalar(name), "peer") < 0)
			return cc_node_error(name, CC_EINVALID, "%s", cc_error_last());
		for (size_t j = 0; j < i; j++)
			if (!strcmp(def->peers[j].name, cc_node_scalar(name)))
				return cc_node_error(name, CC_EINVALID, "duplicate peer '%s'",
						     cc_node_scalar(name));
		if (!(peer->name = strdup(cc_node_scalar(name))))
			return cc_error_set(CC_ERROR, "out of memory");
		if ((v = cc_node_get(p, "san")) && (rc = read_sans(v, &peer->sans)) < 0)
			return rc;
	}
	return 0;
}

/* With peers, each target is a peer's: it names one of them. */
static int check_target_peers(const cc_node *targets, const cc_definition *def)
{
	for (size_t i = 0; i < def->ntargets; i++) {
		const cc_node *t = cc_node_at(targets, i), *peer = cc_node_get(t, "peer");
		size_t j;

		if (!peer) {
			if (def->npeers)
				return cc_node_error(t, CC_EINVALID, "target '%s': the definition has "
						     "peers, so each target names its peer",
						     def->targets[i].name);
			continue;
		}
		for (j = 0; j < def->npeers; j++)
			if (!strcmp(def->peers[j].name, cc_node_scalar(peer)))
				break;
		if (j == def->npeers)
			return cc_node_error(peer, CC_EINVALID, "target '%s': no peer '%s' in the "
					     "definition's peers", def->targets[i].name,
					     cc_node_scalar(peer));
	}
	return 0;
}

static int read_contacts(const cc_node *node, cc_definition *def)
{
	static const char *const keys[] = { "requester", "owner" };
	const cc_node *v;
	int rc;

	if ((rc = cc_node_expect(node, CC_NODE_MAPPING, "contacts")) < 0 ||
	    (rc = only_keys(node, keys, CC_ARRAY_SIZE(keys), "contacts")) < 0)
		return rc;
	if ((v = cc_node_get(node, "requester")) && (rc = read_string(v, &def->requester)) < 0)
		return rc;
	if ((v = cc_node_get(node, "owner")) && (rc = read_string(v, &def->owner)) < 0)
		return rc;
	return 0;
}

static int read_enum(const cc_node *node, int (*parse)(void *, const char *), void *slot)
{
	if (!cc_node_scalar(node) || parse(slot, cc_node_scalar(node)) < 0)
		return cc_node_error(node, CC_EINVALID, "%s",
				     cc_node_scalar(node) ? cc_error_last() : "expected a single value");
	return 0;
}

static int parse_mode(void *slot, const char *text)
{
	return cc_operation_mode_parse(slot, text);
}

static int parse_process(void *slot, const char *text)
{
	return cc_process_mode_parse(slot, text);
}

static int parse_profile(void *slot, const char *text)
{
	return cc_profile_parse(slot, text);
}

static int read_definition(const cc_node *root, cc_definition *def, const char *extra_key)
{
	static const char *const keys[] = {
		"description", "mode", "process", "subject", "san", "key", "provider", "ca",
		"profile", "product", "validation", "validity", "renew_before", "trust_set",
		"monitor", "checks", "targets", "peers", "contacts", "notes", "allow", NULL,
	};
	const char *allowed[CC_ARRAY_SIZE(keys)];
	const cc_node *v;
	int rc;

	memcpy(allowed, keys, sizeof(keys));
	allowed[CC_ARRAY_SIZE(keys) - 1] = extra_key;
	if ((rc = cc_node_expect(root, CC_NODE_MAPPING, "a definition")) < 0 ||
	    (rc = only_keys(root, allowed, CC_ARRAY_SIZE(keys) - (extra_key ? 0 : 1), NULL)) < 0)
		return rc;
	if ((v = cc_node_get(root, "description")) && (rc = read_string(v, &def->description)) < 0)
		return rc;
	if ((v = cc_node_get(root, "mode")) && (rc = read_enum(v, parse_mode, &def->mode)) < 0)
		return rc;
	if ((v = cc_node_get(root, "process")) && (rc = read_enum(v, parse_process, &def->process)) < 0)
		return rc;
	if ((v = cc_node_get(root, "subject")) && (rc = read_subject(v, &def->subject)) < 0)
		return rc;
	if ((v = cc_node_get(root, "san")) && (rc = read_sans(v, &def->sans)) < 0)
		return rc;
	if ((v = cc_node_get(root, "key")) && (rc = read_key(v, def)) < 0)
		return rc;
	if ((v = cc_node_get(root, "provider"))) {
		if ((rc = read_string(v, &def->provider)) < 0)
			return rc;
		if (!def->provider || cc_name_check(def->provider, "provider") < 0)
			return cc_node_error(v, CC_EINVALID, "%s",
					     def->provider ? cc_error_last() : "provider is empty");
	}
	if ((v = cc_node_get(root, "ca"))) {
		if ((rc = read_string(v, &def->ca)) < 0)
			return rc;
		if (def->ca && cc_name_check(def->ca, "CA") < 0)
			return cc_node_error(v, CC_EINVALID, "%s", cc_error_last());
	}
	if ((v = cc_node_get(root, "profile")) && (rc = read_enum(v, parse_profile, &def->profile)) < 0)
		return rc;
	if ((v = cc_node_get(root, "product")) && (rc = read_string(v, &def->product)) < 0)
		return rc;
	if ((v = cc_node_get(root, "validation"))) {
		if ((rc = read_string(v, &def->validation)) < 0)
			return rc;
		if (def->validation && strcmp(def->validation, "dv") && strcmp(def->validation, "ov") &&
		    strcmp(def->validation, "ev"))
			return cc_node_error(v, CC_EINVALID, "invalid validation '%s' (dv, ov or ev)",
					     def->validation);
	}
	if ((v = cc_node_get(root, "validity")) && (rc = cc_node_duration(v, &def->validity)) < 0)
		return rc;
	if ((v = cc_node_get(root, "renew_before")) &&
	    (rc = cc_node_duration(v, &def->renew_before)) < 0)
		return rc;
	if ((v = cc_node_get(root, "trust_set"))) {
		if ((rc = read_string(v, &def->trust_set)) < 0)
			return rc;
		if (def->trust_set && cc_name_check(def->trust_set, "trust set") < 0)
			return cc_node_error(v, CC_EINVALID, "%s", cc_error_last());
	}
	if ((v = cc_node_get(root, "monitor")) && (rc = read_monitor(v, def)) < 0)
		return rc;
	if ((v = cc_node_get(root, "checks")) && (rc = read_checks(v, def)) < 0)
		return rc;
	if ((v = cc_node_get(root, "peers")) && (rc = read_peers(v, def)) < 0)
		return rc;
	if ((v = cc_node_get(root, "targets")) &&
	    ((rc = read_targets(v, def)) < 0 || (rc = check_target_peers(v, def)) < 0))
		return rc;
	if ((v = cc_node_get(root, "contacts")) && (rc = read_contacts(v, def)) < 0)
		return rc;
	if ((v = cc_node_get(root, "notes")) && (rc = read_string(v, &def->notes)) < 0)
		return rc;
	if ((v = cc_node_get(root, "allow")) &&
	    (rc = read_list(v, &def->allow, cc_verify_rule_allowable, "rule to allow")) < 0)
		return rc;
	if (def->validity && def->renew_before >= def->validity)
		return cc_node_error(cc_node_get(root, "renew_before") ? cc_node_get(root, "renew_before")
								     : root,
				     CC_EINVALID, "renew_before must be shorter than validity");
	if (!def->subject.cn && !def->sans.dns.count && !def->sans.ip.count &&
	    !def->sans.email.count && !def->sans.uri.count)
		return cc_node_error(root, CC_EINVALID,
				     "definition '%s' names nothing to certify "
				     "(give subject.cn or a san entry)", def->name);
	return 0;
}

int cc_definition_parse(cc_definition **out, const cc_repo *repo, const char *name,
			const char *text, size_t len, const char *filename)
{
	cc_definition *def = NULL;
	cc_node *root = NULL;
	int rc;

	*out = NULL;
	if ((rc = cc_definition_new(&def, repo, name)) < 0)
		return rc;
	if ((rc = cc_node_parse(&root, text, len, filename)) < 0)
		goto done;
	rc = read_definition(root, def, NULL);
done:
	cc_node_free(root);
	if (rc < 0) {
		cc_definition_free(def);
		return rc;
	}
	*out = def;
	return 0;
}

int cc_definition_from_node(cc_definition **out, const cc_repo *repo, const char *name,
			    const cc_node *root, const char *extra_key)
{
	cc_definition *def = NULL;
	int rc;

	*out = NULL;
	if ((rc = cc_definition_new(&def, repo, name)) < 0)
		return rc;
	/* A definition that names nothing certifies its own name, as with define. */
	if (!cc_node_get(root, "subject") && !cc_node_get(root, "san") &&
	    (rc = cc_definition_default_names(def)) < 0)
		goto done;
	rc = read_definition(root, def, extra_key);
done:
	if (rc < 0)
		cc_definition_free(def);
	else
		*out = def;
	return rc;
}

static int def_relpath(cc_buf *out, const char *name)
{
	int rc;

	if ((rc = cc_name_check(name, "definition")) < 0)
		return rc;
	return cc_buf_printf(out, DEF_DIR "/%s" DEF_SUFFIX, name);
}

int cc_definition_exists(const cc_repo *repo, const char *name)
{
	cc_buf rel = CC_BUF_INIT, abs = CC_BUF_INIT;
	int found = 0;

	if (name && strchr(name, '@')) {
		cc_definition *def = NULL;

		found = cc_definition_load(&def, repo, name) == 0;
		cc_definition_free(def);
		cc_error_clear();
		return found;
	}

	if (def_relpath(&rel, name) == 0 && cc_repo_path(repo, rel.ptr, &abs) == 0)
		found = cc_fs_exists(abs.ptr);
	cc_error_clear();
	cc_buf_dispose(&rel);
	cc_buf_dispose(&abs);
	return found;
}

int cc_definition_ref_check(const char *ref)
{
	const char *at = ref ? strchr(ref, '@') : NULL;
	char base[160];
	int rc;

	if (!at)
		return cc_name_check(ref, "definition");
	if ((size_t)(at - ref) >= sizeof(base))
		return cc_error_set(CC_EINVALID, "definition name '%.40s...' is too long", ref);
	memcpy(base, ref, (size_t)(at - ref));
	base[at - ref] = '\0';
	if ((rc = cc_name_check(base, "definition")) < 0)
		return rc;
	return cc_name_check(at + 1, "peer");
}

/* Append the names of `add` to `to`, once each. */
static int sans_merge(cc_sans *to, const cc_sans *add)
{
	cc_strlist *dst[] = { &to->dns, &to->ip, &to->email, &to->uri };
	const cc_strlist *src[] = { &add->dns, &add->ip, &add->email, &add->uri };
	int rc = 0;

	for (size_t i = 0; i < CC_ARRAY_SIZE(dst) && rc == 0; i++)
		for (size_t j = 0; j < src[i]->count && rc == 0; j++)
			if (!cc_strlist_contains(dst[i], src[i]->items[j]))
				rc = cc_strlist_add(dst[i], src[i]->items[j]);
	return rc;
}

/* The view of peer `peer` of `def` (which becomes it). */
static int peer_view(cc_definition *def, const char *peer, const char *ref)
{
	size_t p, kept = 0;
	int rc;

	for (p = 0; p < def->npeers; p++)
		if (!strcmp(def->peers[p].name, peer))
			break;
	if (p == def->npeers)
		return cc_error_set(CC_ENOTFOUND, "definition '%s' has no peer '%s'", def->name,
				    peer);
	if ((rc = sans_merge(&def->sans, &def->peers[p].sans)) < 0)
		return rc;
	for (size_t i = 0; i < def->ntargets; i++) {
		const char *tp = cc_node_scalar(cc_node_get(def->targets[i].settings, "peer"));

		if (tp && !strcmp(tp, peer)) {
			def->targets[kept++] = def->targets[i];
		} else {
			free(def->targets[i].name);
			free(def->targets[i].type);
			cc_node_free(def->targets[i].settings);
		}
	}
	def->ntargets = kept;
	/* A peer's view is one certificate: it has no peers of its own. */
	cc_strset(&def->peer, peer);
	for (size_t i = 0; i < def->npeers; i++) {
		free(def->peers[i].name);
		sans_dispose(&def->peers[i].sans);
	}
	free(def->peers);
	def->peers = NULL;
	def->npeers = 0;
	cc_strset(&def->name, ref);
	return def->peer && def->name ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

int cc_definition_load(cc_definition **out, const cc_repo *repo, const char *name)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	int rc;

	*out = NULL;
	if (name && strchr(name, '@')) {
		char base[160];
		const char *at = strchr(name, '@');

		if ((rc = cc_definition_ref_check(name)) < 0)
			return rc;
		memcpy(base, name, (size_t)(at - name));
		base[at - name] = '\0';
		if ((rc = cc_definition_load(out, repo, base)) < 0)
			return rc;
		if ((rc = peer_view(*out, at + 1, name)) < 0) {
			cc_definition_free(*out);
			*out = NULL;
		}
		return rc;
	}
	if ((rc = def_relpath(&rel, name)) < 0)
		goto done;
	rc = cc_repo_read(repo, rel.ptr, &text);
	if (rc == CC_ENOTFOUND) {
		rc = cc_error_set(CC_ENOTFOUND, "no definition '%s'", name);
		goto done;
	}
	if (rc < 0)
		goto done;
	rc = cc_definition_parse(out, repo, name, cc_buf_cstr(&text), text.size, rel.ptr);
done:
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_definition_validate(const cc_definition *def)
{
	const cc_strlist *lists[] = { &def->sans.dns, &def->sans.ip, &def->sans.email, &def->sans.uri };
	item_check checks[] = { dns_check, cc_ip_valid, cc_email_valid, cc_uri_valid };
	const char *what[] = { "DNS name", "IP address", "e-mail address", "URI" };
	int rc;

	if ((rc = cc_definition_ref_check(def->name)) < 0)
		return rc;
	if (def->subject.c && !cc_country_valid(def->subject.c))
		return cc_error_set(CC_EINVALID,
				    "invalid country code '%s' (two upper-case letters, ISO 3166)",
				    def->subject.c);
	if (def->subject.email && !cc_email_valid(def->subject.email))
		return cc_error_set(CC_EINVALID, "invalid e-mail address '%s'", def->subject.email);
	if (def->subject.cn && strlen(def->subject.cn) > 64)
		return cc_error_set(CC_EINVALID, "common name longer than 64 characters");
	for (size_t i = 0; i < CC_ARRAY_SIZE(lists); i++)
		for (size_t j = 0; j < lists[i]->count; j++)
			if (!checks[i](lists[i]->items[j]))
				return cc_error_set(CC_EINVALID, "invalid %s '%s'", what[i],
						    lists[i]->items[j]);
	if (!def->subject.cn && !def->sans.dns.count && !def->sans.ip.count &&
	    !def->sans.email.count && !def->sans.uri.count)
		return cc_error_set(CC_EINVALID,
				    "definition '%s' names nothing to certify (give a common name "
				    "or a subject alternative name)", def->name);
	if ((rc = cc_key_spec_check(&def->key)) < 0)
		return rc;
	if (def->key_id && !key_id_valid(def->key_id))
		return cc_error_set(CC_EINVALID, "invalid key id '%s' (16 lower-case hex digits)",
				    def->key_id);
	if (!def->provider || cc_name_check(def->provider, "provider") < 0)
		return cc_error_set(CC_EINVALID, "invalid provider '%s'",
				    def->provider ? def->provider : "");
	if (def->ca && cc_name_check(def->ca, "CA") < 0)
		return CC_EINVALID;
	if (def->trust_set && cc_name_check(def->trust_set, "trust set") < 0)
		return CC_EINVALID;
	if (def->validation && strcmp(def->validation, "dv") && strcmp(def->validation, "ov") &&
	    strcmp(def->validation, "ev"))
		return cc_error_set(CC_EINVALID, "invalid validation '%s' (dv, ov or ev)",
				    def->validation);
	if (def->critical > def->warning)
		return cc_error_set(CC_EINVALID,
				    "critical threshold is longer than the warning threshold");
	if (def->validity && def->renew_before >= def->validity)
		return cc_error_set(CC_EINVALID, "renew_before must be shorter than validity");
	for (size_t i = 0; i < def->nchecks; i++) {
		const cc_check *c = &def->checks[i];

		if (!c->host || !host_valid(c->host))
			return cc_error_set(CC_EINVALID, "invalid check host '%s'",
					    c->host ? c->host : "");
		if (c->port == 0 || c->port > 65535)
			return cc_error_set(CC_EINVALID, "invalid check port %u", c->port);
		if (c->sni && !cc_dns_name_valid(c->sni, 0))
			return cc_error_set(CC_EINVALID, "invalid server name '%s'", c->sni);
		if (c->starttls) {
			size_t k;

			for (k = 0; k < CC_ARRAY_SIZE(starttls_protocols); k++)
				if (!strcmp(c->starttls, starttls_protocols[k]))
					break;
			if (k == CC_ARRAY_SIZE(starttls_protocols))
				return cc_error_set(CC_EINVALID, "invalid starttls '%s'", c->starttls);
		}
	}
	return 0;
}

/* Writer helpers: emit a key and a value only when there is one. */
static int put_duration(cc_yaml_writer *w, const char *key, long long seconds)
{
	char text[32];

	cc_duration_format(text, sizeof(text), seconds);
	return cc_yaml_put(w, key, text);
}

static int put_bool(cc_yaml_writer *w, const char *key, int value)
{
	int rc = cc_yaml_key(w, key);

	return rc ? rc : cc_yaml_plain(w, value ? "true" : "false");
}

static int format_body(cc_yaml_writer *w, const cc_definition *def)
{
	const cc_subject *s = &def->subject;
	const cc_sans *san = &def->sans;
	char spec[32], port[16];
	int rc;

	rc = cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "description", def->description);
	rc = rc ? rc : cc_yaml_put(w, "mode", cc_operation_mode_name(def->mode));
	rc = rc ? rc : cc_yaml_put(w, "process", cc_process_mode_name(def->process));
	if (rc == 0 && (s->cn || s->o || s->ou || s->l || s->st || s->c || s->email)) {
		rc = cc_yaml_key(w, "subject");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put(w, "cn", s->cn);
		rc = rc ? rc : cc_yaml_put(w, "o", s->o);
		rc = rc ? rc : cc_yaml_put(w, "ou", s->ou);
		rc = rc ? rc : cc_yaml_put(w, "l", s->l);
		rc = rc ? rc : cc_yaml_put(w, "st", s->st);
		rc = rc ? rc : cc_yaml_put(w, "c", s->c);
		rc = rc ? rc : cc_yaml_put(w, "email", s->email);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	if (rc == 0 && (san->dns.count || san->ip.count || san->email.count || san->uri.count)) {
		rc = cc_yaml_key(w, "san");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put_list(w, "dns", &san->dns, 1);
		rc = rc ? rc : cc_yaml_put_list(w, "ip", &san->ip, 1);
		rc = rc ? rc : cc_yaml_put_list(w, "email", &san->email, 1);
		rc = rc ? rc : cc_yaml_put_list(w, "uri", &san->uri, 1);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	cc_key_spec_format(&def->key, spec, sizeof(spec));
	rc = rc ? rc : cc_yaml_key(w, "key");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : cc_yaml_put(w, "type", spec);
	rc = rc ? rc : put_bool(w, "reuse", def->reuse_key);
	rc = rc ? rc : cc_yaml_put(w, "id", def->key_id);
	rc = rc ? rc : cc_yaml_map_end(w);
	rc = rc ? rc : cc_yaml_put(w, "provider", def->provider);
	rc = rc ? rc : cc_yaml_put(w, "ca", def->ca);
	rc = rc ? rc : cc_yaml_put(w, "profile", cc_profile_name(def->profile));
	rc = rc ? rc : cc_yaml_put(w, "product", def->product);
	rc = rc ? rc : cc_yaml_put(w, "validation", def->validation);
	/* Always written: 0 ("the provider's default") must not read back as
	 * the repository's default. */
	rc = rc ? rc : put_duration(w, "validity", def->validity);
	rc = rc ? rc : put_duration(w, "renew_before", def->renew_before);
	rc = rc ? rc : cc_yaml_put(w, "trust_set", def->trust_set);
	if (def->allow.count)
		rc = rc ? rc : cc_yaml_put_list(w, "allow", &def->allow, 1);
	rc = rc ? rc : cc_yaml_key(w, "monitor");
	rc = rc ? rc : cc_yaml_map_start(w);
	rc = rc ? rc : put_bool(w, "enabled", def->monitor);
	rc = rc ? rc : put_duration(w, "warning", def->warning);
	rc = rc ? rc : put_duration(w, "critical", def->critical);
	rc = rc ? rc : cc_yaml_map_end(w);
	if (rc == 0 && def->nchecks) {
		rc = cc_yaml_key(w, "checks");
		rc = rc ? rc : cc_yaml_seq_start(w, 0);
		for (size_t i = 0; i < def->nchecks && rc == 0; i++) {
			const cc_check *c = &def->checks[i];

			snprintf(port, sizeof(port), "%u", c->port);
			rc = cc_yaml_map_start(w);
			rc = rc ? rc : cc_yaml_put(w, "host", c->host);
			rc = rc ? rc : cc_yaml_key(w, "port");
			rc = rc ? rc : cc_yaml_plain(w, port);
			rc = rc ? rc : cc_yaml_put(w, "sni", c->sni);
			rc = rc ? rc : cc_yaml_put(w, "starttls", c->starttls);
			rc = rc ? rc : put_bool(w, "enabled", c->enabled);
			rc = rc ? rc : cc_yaml_map_end(w);
		}
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	if (rc == 0 && def->ntargets) {
		rc = cc_yaml_key(w, "targets");
		rc = rc ? rc : cc_yaml_seq_start(w, 0);
		for (size_t i = 0; i < def->ntargets && rc == 0; i++)
			rc = cc_yaml_node(w, def->targets[i].settings);
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	if (rc == 0 && def->npeers) {
		rc = cc_yaml_key(w, "peers");
		rc = rc ? rc : cc_yaml_seq_start(w, 0);
		for (size_t i = 0; i < def->npeers && rc == 0; i++) {
			const cc_sans *ps = &def->peers[i].sans;

			rc = cc_yaml_map_start(w);
			rc = rc ? rc : cc_yaml_put(w, "name", def->peers[i].name);
			if (rc == 0 && (ps->dns.count || ps->ip.count || ps->email.count ||
					ps->uri.count)) {
				rc = cc_yaml_key(w, "san");
				rc = rc ? rc : cc_yaml_map_start(w);
				rc = rc ? rc : cc_yaml_put_list(w, "dns", &ps->dns, 1);
				rc = rc ? rc : cc_yaml_put_list(w, "ip", &ps->ip, 1);
				rc = rc ? rc : cc_yaml_put_list(w, "email", &ps->email, 1);
				rc = rc ? rc : cc_yaml_put_list(w, "uri", &ps->uri, 1);
				rc = rc ? rc : cc_yaml_map_end(w);
			}
			rc = rc ? rc : cc_yaml_map_end(w);
		}
		rc = rc ? rc : cc_yaml_seq_end(w);
	}
	if (rc == 0 && (def->requester || def->owner)) {
		rc = cc_yaml_key(w, "contacts");
		rc = rc ? rc : cc_yaml_map_start(w);
		rc = rc ? rc : cc_yaml_put(w, "requester", def->requester);
		rc = rc ? rc : cc_yaml_put(w, "owner", def->owner);
		rc = rc ? rc : cc_yaml_map_end(w);
	}
	rc = rc ? rc : cc_yaml_put(w, "notes", def->notes);
	return rc ? rc : cc_yaml_map_end(w);
}

int cc_definition_format(const cc_definition *def, cc_buf *out)
{
	cc_yaml_writer *w = NULL;
	int rc;

	if ((rc = cc_buf_printf(out, "# certctl definition '%s'; see certctl-definition(5).\n",
				def->name)) < 0)
		return rc;
	if ((rc = cc_yaml_writer_new(&w, out)) < 0)
		return rc;
	rc = format_body(w, def);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	return rc;
}

int cc_definition_default_names(cc_definition *def)
{
	const cc_sans *s = &def->sans;

	if (def->subject.cn || s->dns.count || s->ip.count || s->email.count || s->uri.count)
		return 0;
	if (!cc_dns_name_valid(def->name, 0) || !strchr(def->name, '.'))
		return 0;
	cc_strset(&def->subject.cn, def->name);
	if (!def->subject.cn)
		return cc_error_set(CC_ERROR, "out of memory");
	return cc_strlist_add(&def->sans.dns, def->name);
}

int cc_definition_check_refs(const cc_definition *def, cc_repo *repo)
{
	const cc_node *providers = cc_node_get(cc_repo_config(repo), "providers");
	cc_key_info info;

	if (def->provider && !cc_node_get(providers, def->provider)) {
		cc_buf names = CC_BUF_INIT;

		for (size_t i = 0; i < cc_node_count(providers); i++)
			cc_buf_printf(&names, "%s%s", i ? ", " : "", cc_node_key_at(providers, i));
		cc_error_set(CC_ENOTFOUND,
			     "definition '%s': no provider '%s' in .certctl/config.yaml "
			     "(providers: %s)", def->name, def->provider,
			     names.size ? names.ptr : "none");
		cc_buf_dispose(&names);
		return CC_ENOTFOUND;
	}
	if (def->key_id) {
		if (cc_key_info_load(&info, repo, def->key_id) < 0)
			return cc_error_set(CC_ENOTFOUND, "definition '%s': key %s is not stored",
					    def->name, def->key_id);
		cc_key_info_dispose(&info);
	}
	return 0;
}

int cc_definition_save(cc_txn *txn, const cc_definition *def)
{
	cc_buf rel = CC_BUF_INIT, text = CC_BUF_INIT;
	cc_definition *check = NULL;
	int rc;

	if (def->peer) {
		rc = cc_error_set(CC_EINVALID, "%s is a peer's view of a definition; change the "
				  "definition itself", def->name);
		goto done;
	}
	if ((rc = cc_definition_validate(def)) < 0 ||
	    (rc = cc_definition_check_refs(def, cc_txn_repo(txn))) < 0)
		goto done;
	if ((rc = def_relpath(&rel, def->name)) < 0 || (rc = cc_definition_format(def, &text)) < 0)
		goto done;
	/* What we write must read back: never store a file load() rejects. */
	if ((rc = cc_definition_parse(&check, cc_txn_repo(txn), def->name, text.ptr, text.size,
				      rel.ptr)) < 0)
		goto done;
	rc = cc_txn_write(txn, rel.ptr, text.ptr, text.size, 0644);
done:
	cc_definition_free(check);
	cc_buf_dispose(&rel);
	cc_buf_dispose(&text);
	return rc;
}

int cc_definition_remove(cc_txn *txn, const char *name)
{
	cc_buf rel = CC_BUF_INIT;
	int rc;

	if ((rc = def_relpath(&rel, name)) < 0)
		goto done;
	rc = cc_txn_remove(txn, rel.ptr);
	if (rc == CC_ENOTFOUND)
		rc = cc_error_set(CC_ENOTFOUND, "no definition '%s'", name);
done:
	cc_buf_dispose(&rel);
	return rc;
}

int cc_definition_clone(cc_definition **out, const cc_definition *def, const char *name)
{
	cc_buf text = CC_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = cc_name_check(name, "definition")) < 0)
		return rc;
	if ((rc = cc_definition_format(def, &text)) == 0)
		rc = cc_definition_parse(out, NULL, name, text.ptr, text.size, def->name);
	cc_buf_dispose(&text);
	return rc;
}

int cc_definition_names(const cc_repo *repo, cc_strlist *out)
{
	cc_buf dir = CC_BUF_INIT;
	cc_strlist files = CC_STRLIST_INIT;
	int rc;

	if ((rc = cc_repo_path(repo, DEF_DIR, &dir)) < 0 ||
	    (rc = cc_fs_list(&files, dir.ptr, DEF_SUFFIX)) < 0)
		goto done;
	for (size_t i = 0; i < files.count && rc == 0; i++) {
		files.items[i][strlen(files.items[i]) - strlen(DEF_SUFFIX)] = '\0';
		if (cc_name_check(files.items[i], "definition") < 0) {
			cc_error_clear();
			continue; /* not ours: fsck reports it */
		}
		rc = cc_strlist_add(out, files.items[i]);
	}
done:
	cc_strlist_dispose(&files);
	cc_buf_dispose(&dir);
	return rc;
}

static cc_json *strlist_json(const cc_strlist *list)
{
	cc_json *arr = cc_json_array();

	for (size_t i = 0; arr && i < list->count; i++)
		if (cc_json_append_str(arr, list->items[i]) < 0) {
			cc_json_free(arr);
			return NULL;
		}
	return arr;
}

/* Convert a settings tree (targets) to JSON, scalars as strings. */
static cc_json *node_json(const cc_node *node)
{
	cc_json *out = NULL;

	switch (cc_node_kind(node)) {
	case CC_NODE_SCALAR:
		return NULL; /* callers set scalars directly */
	case CC_NODE_SEQUENCE:
		out = cc_json_array();
		for (size_t i = 0; out && i < cc_node_count(node); i++) {
			const cc_node *item = cc_node_at(node, i);
			int rc = cc_node_kind(item) == CC_NODE_SCALAR
					 ? cc_json_append_str(out, cc_node_scalar(item))
					 : cc_json_append(out, node_json(item));
			if (rc < 0) {
				cc_json_free(out);
				return NULL;
			}
		}
		return out;
	case CC_NODE_MAPPING:
		out = cc_json_object();
		for (size_t i = 0; out && i < cc_node_count(node); i++) {
			const cc_node *item = cc_node_at(node, i);
			const char *key = cc_node_key_at(node, i);
			int rc = cc_node_kind(item) == CC_NODE_SCALAR
					 ? cc_json_set_str(out, key, cc_node_scalar(item))
					 : cc_json_set(out, key, node_json(item));
			if (rc < 0) {
				cc_json_free(out);
				return NULL;
			}
		}
		return out;
	}
	return NULL;
}

cc_json *cc_definition_to_json(const cc_definition *def)
{
	cc_json *obj = cc_json_object(), *sub, *arr;
	char spec[32];
	int rc = 0;

	if (!obj)
		return NULL;
	cc_key_spec_format(&def->key, spec, sizeof(spec));
	rc |= cc_json_set_str(obj, "name", def->name);
	rc |= cc_json_set_str(obj, "description", def->description);
	rc |= cc_json_set_str(obj, "mode", cc_operation_mode_name(def->mode));
	rc |= cc_json_set_str(obj, "process", cc_process_mode_name(def->process));
	sub = cc_json_object();
	rc |= cc_json_set_str(sub, "cn", def->subject.cn);
	rc |= cc_json_set_str(sub, "o", def->subject.o);
	rc |= cc_json_set_str(sub, "ou", def->subject.ou);
	rc |= cc_json_set_str(sub, "l", def->subject.l);
	rc |= cc_json_set_str(sub, "st", def->subject.st);
	rc |= cc_json_set_str(sub, "c", def->subject.c);
	rc |= cc_json_set_str(sub, "email", def->subject.email);
	rc |= cc_json_set(obj, "subject", sub);
	sub = cc_json_object();
	rc |= cc_json_set(sub, "dns", strlist_json(&def->sans.dns));
	rc |= cc_json_set(sub, "ip", strlist_json(&def->sans.ip));
	rc |= cc_json_set(sub, "email", strlist_json(&def->sans.email));
	rc |= cc_json_set(sub, "uri", strlist_json(&def->sans.uri));
	rc |= cc_json_set(obj, "san", sub);
	sub = cc_json_object();
	rc |= cc_json_set_str(sub, "type", spec);
	rc |= cc_json_set_bool(sub, "reuse", def->reuse_key);
	rc |= cc_json_set_str(sub, "id", def->key_id);
	rc |= cc_json_set(obj, "key", sub);
	rc |= cc_json_set_str(obj, "provider", def->provider);
	rc |= cc_json_set_str(obj, "ca", def->ca);
	rc |= cc_json_set_str(obj, "profile", cc_profile_name(def->profile));
	rc |= cc_json_set_str(obj, "product", def->product);
	rc |= cc_json_set_str(obj, "validation", def->validation);
	rc |= cc_json_set_int(obj, "validity_seconds", def->validity);
	rc |= cc_json_set_int(obj, "renew_before_seconds", def->renew_before);
	rc |= cc_json_set_str(obj, "trust_set", def->trust_set);
	sub = cc_json_object();
	rc |= cc_json_set_bool(sub, "enabled", def->monitor);
	rc |= cc_json_set_int(sub, "warning_seconds", def->warning);
	rc |= cc_json_set_int(sub, "critical_seconds", def->critical);
	rc |= cc_json_set(obj, "monitor", sub);
	arr = cc_json_array();
	for (size_t i = 0; i < def->nchecks; i++) {
		const cc_check *c = &def->checks[i];

		sub = cc_json_object();
		rc |= cc_json_set_str(sub, "host", c->host);
		rc |= cc_json_set_int(sub, "port", c->port);
		rc |= cc_json_set_str(sub, "sni", c->sni);
		rc |= cc_json_set_str(sub, "starttls", c->starttls);
		rc |= cc_json_set_bool(sub, "enabled", c->enabled);
		rc |= cc_json_append(arr, sub);
	}
	rc |= cc_json_set(obj, "checks", arr);
	arr = cc_json_array();
	for (size_t i = 0; i < def->ntargets; i++)
		rc |= cc_json_append(arr, node_json(def->targets[i].settings));
	rc |= cc_json_set(obj, "targets", arr);
	arr = cc_json_array();
	for (size_t i = 0; i < def->npeers; i++) {
		cc_json *p = cc_json_object(), *ps = cc_json_object();

		rc |= cc_json_set_str(p, "name", def->peers[i].name);
		rc |= cc_json_set(ps, "dns", strlist_json(&def->peers[i].sans.dns));
		rc |= cc_json_set(ps, "ip", strlist_json(&def->peers[i].sans.ip));
		rc |= cc_json_set(ps, "email", strlist_json(&def->peers[i].sans.email));
		rc |= cc_json_set(ps, "uri", strlist_json(&def->peers[i].sans.uri));
		rc |= cc_json_set(p, "san", ps);
		rc |= cc_json_append(arr, p);
	}
	rc |= cc_json_set(obj, "peers", arr);
	sub = cc_json_object();
	rc |= cc_json_set_str(sub, "requester", def->requester);
	rc |= cc_json_set_str(sub, "owner", def->owner);
	rc |= cc_json_set(obj, "contacts", sub);
	rc |= cc_json_set_str(obj, "notes", def->notes);
	arr = cc_json_array();
	for (size_t i = 0; i < def->allow.count; i++)
		rc |= cc_json_append_str(arr, def->allow.items[i]);
	rc |= cc_json_set(obj, "allow", arr);
	if (rc) {
		cc_json_free(obj);
		return NULL;
	}
	return obj;
}
