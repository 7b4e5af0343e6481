/*
 * certctl define: create or change a certificate definition from flags, a
 * YAML file or another definition.
 */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

struct define_args {
	const char *from, *clone;
	const char *cn, *org, *ou, *locality, *state, *country, *email;
	cc_strlist dns, ip, san_email, uri, checks, allow;
	const char *key, *key_id, *provider, *ca, *profile, *product, *validation;
	const char *validity, *renew_before, *trust_set, *mode, *process;
	const char *sni, *starttls, *warning, *critical;
	const char *requester, *owner, *notes, *description;
	int reuse_key, monitor, create, update, json;
};

static void set_field(char **slot, const char *value)
{
	if (!value)
		return;
	free(*slot);
	*slot = *value ? strdup(value) : NULL;
}

/* Given values replace the list; one empty value ('') empties it. */
static int replace_list(cc_strlist *slot, const cc_strlist *given)
{
	if (!given->count)
		return 0;
	cc_strlist_dispose(slot);
	if (given->count == 1 && !given->items[0][0])
		return 0;
	return cc_strlist_copy(slot, given);
}

static int set_duration(long long *slot, const char *value, const char *option)
{
	if (!value)
		return 0;
	if (cc_duration_parse(slot, value) < 0)
		return cli_error("--%s: %s", option, cc_error_last());
	return 0;
}

/* Point the definition at a stored key; its type becomes the key's. */
static int use_key(cc_repo *repo, cc_definition *def, const char *id)
{
	cc_key_info info;

	if (!*id) {
		free(def->key_id);
		def->key_id = NULL;
		return 0;
	}
	if (cc_key_info_load(&info, repo, id) < 0)
		return cli_error("--key-id: %s", cc_error_last());
	set_field(&def->key_id, info.id);
	def->key = info.spec;
	cc_key_info_dispose(&info);
	return 0;
}

/* Apply the flags given on the command line to `def`. */
static int apply(cc_repo *repo, cc_definition *def, const struct define_args *a)
{
	set_field(&def->subject.cn, a->cn);
	set_field(&def->subject.o, a->org);
	set_field(&def->subject.ou, a->ou);
	set_field(&def->subject.l, a->locality);
	set_field(&def->subject.st, a->state);
	set_field(&def->subject.c, a->country);
	set_field(&def->subject.email, a->email);
	if (replace_list(&def->sans.dns, &a->dns) < 0 || replace_list(&def->sans.ip, &a->ip) < 0 ||
	    replace_list(&def->sans.email, &a->san_email) < 0 ||
	    replace_list(&def->sans.uri, &a->uri) < 0)
		return cli_lib_error();
	if (a->key && cc_key_spec_parse(&def->key, a->key) < 0)
		return cli_error("--key: %s", cc_error_last());
	if (a->key_id && use_key(repo, def, a->key_id))
		return EXIT_FAIL;
	if (a->key && a->key_id && *a->key_id) {
		cc_key_spec given;

		cc_key_spec_parse(&given, a->key);
		if (given.type != def->key.type || given.bits != def->key.bits)
			return cli_error("--key %s does not match the type of key %s", a->key,
					 def->key_id);
	}
	if (a->reuse_key >= 0)
		def->reuse_key = a->reuse_key;
	if (a->provider && !*a->provider)
		return cli_error("--provider: empty provider name");
	set_field(&def->provider, a->provider);
	set_field(&def->ca, a->ca);
	if (a->profile && cc_profile_parse(&def->profile, a->profile) < 0)
		return cli_error("--profile: %s", cc_error_last());
	set_field(&def->product, a->product);
	set_field(&def->validation, a->validation);
	if (set_duration(&def->validity, a->validity, "validity") ||
	    set_duration(&def->renew_before, a->renew_before, "renew-before") ||
	    set_duration(&def->warning, a->warning, "warning") ||
	    set_duration(&def->critical, a->critical, "critical"))
		return EXIT_FAIL;
	set_field(&def->trust_set, a->trust_set);
	for (size_t i = 0; i < a->allow.count; i++)
		if (a->allow.items[i][0] && !cc_verify_rule_allowable(a->allow.items[i]))
			return cli_error("--allow: '%s' is not a rule that can be allowed (see "
					 "certctl-verify(1))", a->allow.items[i]);
	if (replace_list(&def->allow, &a->allow) < 0)
		return cli_error("out of memory");
	if (a->mode && cc_operation_mode_parse(&def->mode, a->mode) < 0)
		return cli_error("--mode: %s", cc_error_last());
	if (a->process && cc_process_mode_parse(&def->process, a->process) < 0)
		return cli_error("--process: %s", cc_error_last());
	if (a->monitor >= 0)
		def->monitor = a->monitor;
	if (a->checks.count == 1 && !a->checks.items[0][0]) {
		for (size_t i = 0; i < def->nchecks; i++)
			cc_check_dispose(&def->checks[i]);
		def->nchecks = 0;
	} else if (a->checks.count) {
		cc_check *checks = calloc(a->checks.count, sizeof(*checks));

		if (!checks)
			return cli_error("out of memory");
		for (size_t i = 0; i < a->checks.count; i++) {
			if (cc_check_parse(&checks[i], a->checks.items[i]) < 0) {
				for (size_t j = 0; j < i; j++)
					cc_check_dispose(&checks[j]);
				free(checks);
				return cli_error("--check: %s", cc_error_last());
			}
		}
		for (size_t i = 0; i < def->nchecks; i++)
			cc_check_dispose(&def->checks[i]);
		free(def->checks);
		def->checks = checks;
		def->nchecks = a->checks.count;
	}
	for (size_t i = 0; i < def->nchecks; i++) {
		set_field(&def->checks[i].sni, a->sni);
		set_field(&def->checks[i].starttls, a->starttls);
	}
	if ((a->sni || a->starttls) && !def->nchecks)
		return cli_error("--sni and --starttls apply to checks; give --check HOST[:PORT]");
	set_field(&def->requester, a->requester);
	set_field(&def->owner, a->owner);
	set_field(&def->notes, a->notes);
	set_field(&def->description, a->description);
	return 0;
}

int cmd_define(int argc, char **argv)
{
	struct define_args a;
	cc_repo *repo = NULL;
	cc_definition *def = NULL, *old = NULL;
	cc_txn *txn = NULL;
	cc_buf before = CC_BUF_INIT, after = CC_BUF_INIT, text = CC_BUF_INIT, summary = CC_BUF_INIT;
	const char *name, *what;
	int first, rc, exists;

	memset(&a, 0, sizeof(a));
	a.reuse_key = a.monitor = -1;
	{
		const struct cli_opt options[] = {
			OPT_HEADING("source"),
			OPT_STR(0, "from", &a.from, "FILE", "read the definition from a YAML file (- for stdin)"),
			OPT_STR(0, "clone", &a.clone, "OLD", "start from a copy of definition OLD"),
			OPT_BOOL(0, "create", &a.create, "fail if the definition exists"),
			OPT_BOOL(0, "update", &a.update, "fail if the definition does not exist"),
			OPT_HEADING("subject"),
			OPT_STR(0, "cn", &a.cn, "CN", "common name"),
			OPT_STR(0, "org", &a.org, "O", "organization"),
			OPT_STR(0, "ou", &a.ou, "OU", "organizational unit"),
			OPT_STR(0, "locality", &a.locality, "L", "locality (city)"),
			OPT_STR(0, "state", &a.state, "ST", "state or province"),
			OPT_STR(0, "country", &a.country, "C", "two-letter country code"),
			OPT_STR(0, "email", &a.email, "ADDR", "e-mail address in the subject"),
			OPT_HEADING("subject alternative names (repeatable; replace the list)"),
			OPT_MULTI(0, "dns", &a.dns, "NAME", "DNS name (*.example.com for a wildcard)"),
			OPT_MULTI(0, "ip", &a.ip, "ADDR", "IPv4 or IPv6 address"),
			OPT_MULTI(0, "san-email", &a.san_email, "ADDR", "e-mail address"),
			OPT_MULTI(0, "uri", &a.uri, "URI", "URI"),
			OPT_HEADING("key and acquisition"),
			OPT_STR(0, "key", &a.key, "SPEC", "rsa[:2048|3072|4096], ecdsa[:P-256|P-384], ed25519"),
			OPT_STR(0, "key-id", &a.key_id, "ID", "use this stored key (id or prefix; '' to clear)"),
			OPT_BOOL(0, "reuse-key", &a.reuse_key, "keep the key on renewal"),
			OPT_NO(0, "no-reuse-key", &a.reuse_key, "make a new key on renewal"),
			OPT_STR(0, "provider", &a.provider, "NAME", "provider from the repository config"),
			OPT_STR(0, "ca", &a.ca, "NAME", "CA of the builtin provider"),
			OPT_STR(0, "profile", &a.profile, "P", "server, client or server+client"),
			OPT_STR(0, "product", &a.product, "TEXT", "product or requirement wanted"),
			OPT_STR(0, "validation", &a.validation, "LEVEL", "dv, ov or ev"),
			OPT_STR(0, "validity", &a.validity, "DUR", "validity wanted (90d, 1y)"),
			OPT_STR(0, "renew-before", &a.renew_before, "DUR", "renewal window before expiry"),
			OPT_STR(0, "mode", &a.mode, "MODE", "lifecycle or monitor"),
			OPT_STR(0, "process", &a.process, "MODE", "interactive or unattended"),
			OPT_HEADING("checking and monitoring"),
			OPT_MULTI(0, "check", &a.checks, "HOST[:PORT]", "endpoint to check (repeatable; replaces the list)"),
			OPT_STR(0, "sni", &a.sni, "NAME", "TLS server name for the checks"),
			OPT_STR(0, "starttls", &a.starttls, "PROTO", "smtp, imap, pop3, ftp, ldap or postgres"),
			OPT_STR(0, "trust-set", &a.trust_set, "NAME", "trusted CA set"),
			OPT_MULTI(0, "allow", &a.allow, "RULE", "accept a verifier rule's failure "
				  "(repeatable; replaces the list; '' empties it)"),
			OPT_BOOL(0, "monitor", &a.monitor, "monitor periodically"),
			OPT_NO(0, "no-monitor", &a.monitor, "do not monitor"),
			OPT_STR(0, "warning", &a.warning, "DUR", "remaining validity that warns"),
			OPT_STR(0, "critical", &a.critical, "DUR", "remaining validity that is critical"),
			OPT_HEADING("people and notes"),
			OPT_STR(0, "requester", &a.requester, "TEXT", "requester (Name <mail>)"),
			OPT_STR(0, "owner", &a.owner, "TEXT", "owner (Name <mail>)"),
			OPT_STR(0, "description", &a.description, "TEXT", "one-line description"),
			OPT_STR(0, "notes", &a.notes, "TEXT", "free notes"),
			OPT_HEADING("output"),
			OPT_BOOL(0, "json", &a.json, "print the definition as JSON"),
			OPT_DONE(),
		};

		rc = cli_parse(argc, argv, options, "certctl define NAME [options]",
			       "Create or change the certificate definition NAME; one commit.", &first);
	}
	if (rc)
		goto done;
	if (argc - first != 1) {
		rc = cli_usage_error("define", argc - first ? "too many arguments" : "missing NAME");
		goto done;
	}
	name = argv[first];
	if (a.from && a.clone) {
		rc = cli_usage_error("define", "--from and --clone exclude each other");
		goto done;
	}
	if (a.create && a.update) {
		rc = cli_usage_error("define", "--create and --update exclude each other");
		goto done;
	}
	if (cc_name_check(name, "definition") < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if ((rc = cli_open_repo(&repo)))
		goto done;
	exists = cc_definition_exists(repo, name);
	if (a.create && exists) {
		rc = cli_error("definition '%s' already exists", name);
		goto done;
	}
	if (a.update && !exists) {
		rc = cli_error("no definition '%s'", name);
		goto done;
	}
	if (exists) {
		if (cc_definition_load(&old, repo, name) < 0 || cc_definition_format(old, &before) < 0) {
			rc = cli_lib_error();
			goto done;
		}
	}
	if (a.clone) {
		cc_definition *src = NULL;

		if (exists) {
			rc = cli_error("definition '%s' already exists; cannot clone into it", name);
			goto done;
		}
		if (cc_definition_load(&src, repo, a.clone) < 0 ||
		    cc_definition_clone(&def, src, name) < 0) {
			cc_definition_free(src);
			rc = cli_lib_error();
			goto done;
		}
		cc_definition_free(src);
	} else if (a.from) {
		if ((rc = cli_read_file(a.from, 4 * 1024 * 1024, &text)))
			goto done;
		if (cc_definition_parse(&def, repo, name, cc_buf_cstr(&text), text.size,
					strcmp(a.from, "-") ? a.from : "<stdin>") < 0) {
			rc = cli_lib_error();
			goto done;
		}
	} else if (old) {
		def = old;
		old = NULL;
	} else {
		if (cc_definition_new(&def, repo, name) < 0 ||
		    (!a.cn && !a.dns.count && !a.ip.count && !a.san_email.count && !a.uri.count &&
		     cc_definition_default_names(def) < 0)) {
			rc = cli_lib_error();
			goto done;
		}
	}
	if ((rc = apply(repo, def, &a)))
		goto done;
	if (cc_definition_validate(def) < 0 || cc_definition_format(def, &after) < 0) {
		rc = cli_lib_error();
		goto done;
	}
	if (exists && before.size == after.size && !memcmp(before.ptr, after.ptr, after.size)) {
		what = "unchanged";
	} else {
		what = exists ? "updated" : "created";
		if (a.clone)
			cc_buf_printf(&summary, "define: %s: created as a clone of %s", name, a.clone);
		else
			cc_buf_printf(&summary, "define: %s: %s", name, what);
		if (cc_txn_begin(&txn, repo, "define") < 0 || cc_definition_save(txn, def) < 0 ||
		    cc_txn_trailer(txn, "Certctl-Definition", name) < 0) {
			rc = cli_lib_error();
			goto done;
		}
		rc = cc_txn_commit(txn, summary.ptr, NULL);
		txn = NULL;
		if (rc < 0) {
			rc = cli_lib_error();
			goto done;
		}
	}
	if (a.json) {
		cc_json *out = cc_json_object();

		cc_json_set_str(out, "schema", "certctl.definition/1");
		cc_json_set_str(out, "result", what);
		cc_json_set(out, "definition", cc_definition_to_json(def));
		rc = cli_print_json(out);
	} else {
		cli_info("%s: %s\n", name, what);
		rc = EXIT_OK;
	}
done:
	cc_txn_abort(txn);
	cc_definition_free(def);
	cc_definition_free(old);
	cc_repo_free(repo);
	cc_buf_dispose(&before);
	cc_buf_dispose(&after);
	cc_buf_dispose(&text);
	cc_buf_dispose(&summary);
	cc_strlist_dispose(&a.dns);
	cc_strlist_dispose(&a.ip);
	cc_strlist_dispose(&a.san_email);
	cc_strlist_dispose(&a.uri);
	cc_strlist_dispose(&a.checks);
	cc_strlist_dispose(&a.allow);
	return rc;
}
