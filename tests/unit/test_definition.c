/*
 * Tests of certificate definitions (lib/definition.c): defaults, the full
 * example of the specification, canonical formatting that reads back the
 * same, every validation rule with its FILE:LINE:COLUMN message, check
 * endpoints, and storage in a repository.
 */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

/* The example of docs-spec/CLI.md, verbatim. */
static const char full_example[] =
	"# certctl definition; see certctl-definition(5).\n"
	"description: Public web site\n"
	"mode: lifecycle             # lifecycle | monitor\n"
	"process: interactive        # interactive | unattended\n"
	"subject:\n"
	"  cn: www.example.com\n"
	"  o: Example Ltd\n"
	"  ou: Web\n"
	"  l: Berlin\n"
	"  st: Berlin\n"
	"  c: DE\n"
	"  email: hostmaster@example.com\n"
	"san:\n"
	"  dns: [www.example.com, example.com]\n"
	"  ip: [192.0.2.10]\n"
	"  email: [hostmaster@example.com]\n"
	"  uri: [https://www.example.com/]\n"
	"key:\n"
	"  type: ecdsa:P-256          # rsa:2048|3072|4096, ecdsa:P-256|P-384, ed25519\n"
	"  reuse: false\n"
	"provider: builtin            # a provider named in .certctl/config.yaml\n"
	"ca: corp-root                # CA for the builtin provider (omitted: the default CA)\n"
	"profile: server              # server | client | server+client\n"
	"product: \"OV multi-domain\"\n"
	"validation: ov               # dv | ov | ev\n"
	"validity: 90d\n"
	"renew_before: 30d\n"
	"trust_set: default\n"
	"monitor:\n"
	"  enabled: true\n"
	"  warning: 30d\n"
	"  critical: 7d\n"
	"checks:\n"
	"  - host: www.example.com   # \"server name to check\": name or address to connect to\n"
	"    port: 443\n"
	"    sni: www.example.com    # TLS server name (default: host, when a name)\n"
	"    starttls: smtp          # optional: smtp imap pop3 ftp ldap postgres\n"
	"    enabled: true\n"
	"targets:                     # read by deploy; free-form settings besides name and type\n"
	"  - name: web1\n"
	"    type: nginx\n"
	"contacts:\n"
	"  requester: Alice <alice@example.com>\n"
	"  owner: Web team <web@example.com>\n"
	"notes: |\n"
	"  Free text.\n";

#define DAY 86400LL

static cc_definition *parse_ok(const char *name, const char *text)
{
	cc_definition *def = NULL;
	int rc = cc_definition_parse(&def, NULL, name, text, strlen(text), "www.yaml");

	ck_assert_msg(rc == 0, "parse failed: %d %s", rc, cc_error_last());
	ck_assert_ptr_nonnull(def);
	return def;
}

/* Parse must fail with CC_EINVALID; the message is returned. */
static const char *parse_fails(const char *text)
{
	cc_definition *def = NULL;
	int rc = cc_definition_parse(&def, NULL, "www", text, strlen(text), "www.yaml");

	ck_assert_msg(rc == CC_EINVALID, "gave %d, not CC_EINVALID, for:\n%s", rc, text);
	ck_assert_ptr_null(def);
	return cc_error_last();
}

static int matches(const char *text, const char *pattern)
{
	regex_t re;
	int found;

	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	found = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return found;
}

/* The message starts with www.yaml:LINE:COLUMN and mentions each word. */
static void assert_error_at(const char *msg, unsigned line, const char *word1, const char *word2)
{
	char pattern[64];

	snprintf(pattern, sizeof(pattern), "^www\\.yaml:%u:[0-9]+: ", line);
	ck_assert_msg(matches(msg, pattern), "expected www.yaml:%u:COLUMN in '%s'", line, msg);
	if (word1)
		ck_assert_msg(fx_contains_ci(msg, word1), "'%s' not in '%s'", word1, msg);
	if (word2)
		ck_assert_msg(fx_contains_ci(msg, word2), "'%s' not in '%s'", word2, msg);
}

static void assert_str_eq_or_null(const char *a, const char *b)
{
	if (!a || !b)
		ck_assert_msg(a == b, "'%s' vs '%s'", a ? a : "(null)", b ? b : "(null)");
	else
		ck_assert_str_eq(a, b);
}

static void assert_lists_eq(const cc_strlist *a, const cc_strlist *b)
{
	ck_assert_uint_eq(a->count, b->count);
	for (size_t i = 0; i < a->count; i++)
		ck_assert_str_eq(a->items[i], b->items[i]);
}

static void assert_definitions_eq(const cc_definition *a, const cc_definition *b)
{
	assert_str_eq_or_null(a->description, b->description);
	ck_assert_int_eq(a->mode, b->mode);
	ck_assert_int_eq(a->process, b->process);
	assert_str_eq_or_null(a->subject.cn, b->subject.cn);
	assert_str_eq_or_null(a->subject.o, b->subject.o);
	assert_str_eq_or_null(a->subject.ou, b->subject.ou);
	assert_str_eq_or_null(a->subject.l, b->subject.l);
	assert_str_eq_or_null(a->subject.st, b->subject.st);
	assert_str_eq_or_null(a->subject.c, b->subject.c);
	assert_str_eq_or_null(a->subject.email, b->subject.email);
	assert_lists_eq(&a->sans.dns, &b->sans.dns);
	assert_lists_eq(&a->sans.ip, &b->sans.ip);
	assert_lists_eq(&a->sans.email, &b->sans.email);
	assert_lists_eq(&a->sans.uri, &b->sans.uri);
	ck_assert_int_eq(a->key.type, b->key.type);
	ck_assert_uint_eq(a->key.bits, b->key.bits);
	ck_assert_int_eq(a->reuse_key, b->reuse_key);
	assert_str_eq_or_null(a->key_id, b->key_id);
	assert_str_eq_or_null(a->provider, b->provider);
	assert_str_eq_or_null(a->ca, b->ca);
	ck_assert_int_eq(a->profile, b->profile);
	assert_str_eq_or_null(a->product, b->product);
	assert_str_eq_or_null(a->validation, b->validation);
	ck_assert_int_eq(a->validity, b->validity);
	ck_assert_int_eq(a->renew_before, b->renew_before);
	assert_str_eq_or_null(a->trust_set, b->trust_set);
	ck_assert_int_eq(a->monitor, b->monitor);
	ck_assert_int_eq(a->warning, b->warning);
	ck_assert_int_eq(a->critical, b->critical);
	ck_assert_uint_eq(a->nchecks, b->nchecks);
	for (size_t i = 0; i < a->nchecks; i++) {
		assert_str_eq_or_null(a->checks[i].host, b->checks[i].host);
		ck_assert_uint_eq(a->checks[i].port, b->checks[i].port);
		assert_str_eq_or_null(a->checks[i].sni, b->checks[i].sni);
		assert_str_eq_or_null(a->checks[i].starttls, b->checks[i].starttls);
		ck_assert_int_eq(a->checks[i].enabled, b->checks[i].enabled);
	}
	ck_assert_uint_eq(a->ntargets, b->ntargets);
	for (size_t i = 0; i < a->ntargets; i++) {
		assert_str_eq_or_null(a->targets[i].name, b->targets[i].name);
		assert_str_eq_or_null(a->targets[i].type, b->targets[i].type);
	}
	assert_str_eq_or_null(a->requester, b->requester);
	assert_str_eq_or_null(a->owner, b->owner);
	assert_str_eq_or_null(a->notes, b->notes);
}

/* defaults */

START_TEST(test_definition_new_has_builtin_defaults)
{
	cc_definition *def = NULL;

	ck_assert_int_eq(cc_definition_new(&def, NULL, "www.example.com"), 0);
	ck_assert_ptr_nonnull(def);
	ck_assert_str_eq(def->name, "www.example.com");
	ck_assert_int_eq(def->mode, CC_MODE_LIFECYCLE);
	ck_assert_int_eq(def->process, CC_PROCESS_INTERACTIVE);
	ck_assert_int_eq(def->profile, CC_PROFILE_SERVER);
	ck_assert_int_eq(cc_key_spec_check(&def->key), 0);
	ck_assert_ptr_nonnull(def->provider);
	ck_assert_int_gt(def->critical, 0);
	ck_assert_int_gt(def->warning, def->critical);
	ck_assert_int_gt(def->renew_before, 0);
	if (def->validity)
		ck_assert_int_gt(def->validity, def->renew_before);
	ck_assert_uint_eq(def->nchecks, 0);
	ck_assert_uint_eq(def->ntargets, 0);
	ck_assert_uint_eq(def->sans.dns.count, 0);
	ck_assert_ptr_null(def->description);
	cc_definition_free(def);
	cc_definition_free(NULL);
}
END_TEST

START_TEST(test_definition_new_rejects_bad_name)
{
	static const char *bad[] = { "", "../x", "a/b", ".hidden", "a..b" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cc_definition *def = NULL;

		ck_assert_msg(cc_definition_new(&def, NULL, bad[i]) == CC_EINVALID, "'%s' accepted",
			      bad[i]);
		ck_assert_ptr_null(def);
	}
}
END_TEST

START_TEST(test_definition_new_takes_defaults_from_repository)
{
	cc_definition *def = NULL;
	cc_repo *repo = NULL;
	char path[PATH_MAX];
	char *config, *p;

	/* the defaults written by init */
	ck_assert_int_eq(cc_definition_new(&def, fx_repo, "www"), 0);
	ck_assert_int_eq(def->key.type, CC_KEY_ECDSA);
	ck_assert_uint_eq(def->key.bits, 256);
	ck_assert_str_eq(def->provider, "builtin");
	ck_assert_int_eq(def->validity, 90 * DAY);
	ck_assert_int_eq(def->renew_before, 30 * DAY);
	ck_assert_int_eq(def->warning, 30 * DAY);
	ck_assert_int_eq(def->critical, 7 * DAY);
	cc_definition_free(def);

	/* changed defaults are followed */
	fx_pathf(path, sizeof(path), "%s/.certctl/config.yaml", fx_repo_path);
	config = fx_read_file(path);
	p = strstr(config, "ecdsa:P-256");
	ck_assert_ptr_nonnull(p);
	memcpy(p, "ed25519    ", 11);
	p = strstr(config, "validity: 90d");
	ck_assert_ptr_nonnull(p);
	memcpy(p, "validity: 47d", 13);
	fx_write_file(path, config);
	free(config);
	ck_assert_int_eq(cc_repo_open(&repo, fx_repo_path, 0), 0);
	ck_assert_int_eq(cc_definition_new(&def, repo, "www"), 0);
	ck_assert_int_eq(def->key.type, CC_KEY_ED25519);
	ck_assert_int_eq(def->validity, 47 * DAY);
	cc_definition_free(def);
	cc_repo_free(repo);
}
END_TEST

/* parsing */

START_TEST(test_definition_parses_full_example_of_the_spec)
{
	cc_definition *def = parse_ok("www", full_example);

	ck_assert_str_eq(def->name, "www");
	ck_assert_str_eq(def->description, "Public web site");
	ck_assert_int_eq(def->mode, CC_MODE_LIFECYCLE);
	ck_assert_int_eq(def->process, CC_PROCESS_INTERACTIVE);
	ck_assert_str_eq(def->subject.cn, "www.example.com");
	ck_assert_str_eq(def->subject.o, "Example Ltd");
	ck_assert_str_eq(def->subject.ou, "Web");
	ck_assert_str_eq(def->subject.l, "Berlin");
	ck_assert_str_eq(def->subject.st, "Berlin");
	ck_assert_str_eq(def->subject.c, "DE");
	ck_assert_str_eq(def->subject.email, "hostmaster@example.com");
	ck_assert_uint_eq(def->sans.dns.count, 2);
	ck_assert_str_eq(def->sans.dns.items[0], "www.example.com");
	ck_assert_str_eq(def->sans.dns.items[1], "example.com");
	ck_assert_uint_eq(def->sans.ip.count, 1);
	ck_assert_str_eq(def->sans.ip.items[0], "192.0.2.10");
	ck_assert_uint_eq(def->sans.email.count, 1);
	ck_assert_str_eq(def->sans.email.items[0], "hostmaster@example.com");
	ck_assert_uint_eq(def->sans.uri.count, 1);
	ck_assert_str_eq(def->sans.uri.items[0], "https://www.example.com/");
	ck_assert_int_eq(def->key.type, CC_KEY_ECDSA);
	ck_assert_uint_eq(def->key.bits, 256);
	ck_assert_int_eq(def->reuse_key, 0);
	ck_assert_str_eq(def->provider, "builtin");
	ck_assert_str_eq(def->ca, "corp-root");
	ck_assert_int_eq(def->profile, CC_PROFILE_SERVER);
	ck_assert_str_eq(def->product, "OV multi-domain");
	ck_assert_str_eq(def->validation, "ov");
	ck_assert_int_eq(def->validity, 90 * DAY);
	ck_assert_int_eq(def->renew_before, 30 * DAY);
	ck_assert_str_eq(def->trust_set, "default");
	ck_assert_int_eq(def->monitor, 1);
	ck_assert_int_eq(def->warning, 30 * DAY);
	ck_assert_int_eq(def->critical, 7 * DAY);
	ck_assert_uint_eq(def->nchecks, 1);
	ck_assert_str_eq(def->checks[0].host, "www.example.com");
	ck_assert_uint_eq(def->checks[0].port, 443);
	ck_assert_str_eq(def->checks[0].sni, "www.example.com");
	ck_assert_str_eq(def->checks[0].starttls, "smtp");
	ck_assert_int_eq(def->checks[0].enabled, 1);
	ck_assert_uint_eq(def->ntargets, 1);
	ck_assert_str_eq(def->targets[0].name, "web1");
	ck_assert_str_eq(def->targets[0].type, "nginx");
	ck_assert_ptr_nonnull(def->targets[0].settings);
	ck_assert_int_eq(cc_node_kind(def->targets[0].settings), CC_NODE_MAPPING);
	ck_assert_str_eq(def->requester, "Alice <alice@example.com>");
	ck_assert_str_eq(def->owner, "Web team <web@example.com>");
	ck_assert_str_eq(def->notes, "Free text.\n");
	ck_assert_int_eq(cc_definition_validate(def), 0);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_definition_format_parses_back_to_same_definition)
{
	cc_definition *def = parse_ok("www", full_example), *back;
	cc_buf text = CC_BUF_INIT, again = CC_BUF_INIT;

	ck_assert_int_eq(cc_definition_format(def, &text), 0);
	back = parse_ok("www", cc_buf_cstr(&text));
	assert_definitions_eq(def, back);
	/* canonical: formatting what was read gives the same text */
	ck_assert_int_eq(cc_definition_format(back, &again), 0);
	ck_assert_str_eq(cc_buf_cstr(&text), cc_buf_cstr(&again));
	cc_definition_free(def);
	cc_definition_free(back);
	cc_buf_dispose(&text);
	cc_buf_dispose(&again);
}
END_TEST

START_TEST(test_definition_format_keeps_target_settings)
{
	cc_definition *def = parse_ok(
		"www", "subject: {cn: www.example.com}\n"
		       "targets:\n  - name: web1\n    type: nginx\n    dir: /etc/nginx/certs\n"
		       "    reload: [systemctl, reload, nginx]\n    check: 127.0.0.1:8443\n");
	cc_definition *back;
	cc_buf text = CC_BUF_INIT;
	const cc_node *settings;

	ck_assert_int_eq(cc_definition_format(def, &text), 0);
	back = parse_ok("www", cc_buf_cstr(&text));
	ck_assert_uint_eq(back->ntargets, 1);
	settings = back->targets[0].settings;
	ck_assert_str_eq(cc_node_scalar(cc_node_get(settings, "dir")), "/etc/nginx/certs");
	ck_assert_uint_eq(cc_node_count(cc_node_get(settings, "reload")), 3);
	ck_assert_str_eq(cc_node_scalar(cc_node_at(cc_node_get(settings, "reload"), 2)), "nginx");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(settings, "check")), "127.0.0.1:8443");
	cc_definition_free(def);
	cc_definition_free(back);
	cc_buf_dispose(&text);
}
END_TEST

START_TEST(test_definition_format_quotes_values_that_look_like_other_types)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com, o: \"yes\", ou: \"123\"}\n"
					    "description: \"true\"\nproduct: \"null\"\n");
	cc_definition *back;
	cc_buf text = CC_BUF_INIT;

	ck_assert_int_eq(cc_definition_format(def, &text), 0);
	back = parse_ok("www", cc_buf_cstr(&text));
	ck_assert_str_eq(back->subject.o, "yes");
	ck_assert_str_eq(back->subject.ou, "123");
	ck_assert_str_eq(back->description, "true");
	ck_assert_str_eq(back->product, "null");
	cc_definition_free(def);
	cc_definition_free(back);
	cc_buf_dispose(&text);
}
END_TEST

START_TEST(test_definition_absent_fields_keep_defaults)
{
	cc_definition *def = parse_ok("www", "subject:\n  cn: www.example.com\n");
	cc_definition *fresh = NULL;

	ck_assert_int_eq(cc_definition_new(&fresh, NULL, "www"), 0);
	ck_assert_int_eq(def->validity, fresh->validity);
	ck_assert_int_eq(def->renew_before, fresh->renew_before);
	ck_assert_int_eq(def->warning, fresh->warning);
	ck_assert_int_eq(def->critical, fresh->critical);
	ck_assert_int_eq(def->key.type, fresh->key.type);
	ck_assert_str_eq(def->provider, fresh->provider);
	cc_definition_free(def);
	cc_definition_free(fresh);
}
END_TEST

START_TEST(test_definition_accepts_other_modes_and_profiles)
{
	cc_definition *def = parse_ok("mail", "mode: monitor\nprocess: unattended\n"
					      "profile: server+client\nkey: {type: rsa:3072, reuse: true}\n"
					      "san: {dns: ['*.example.com'], email: [a@example.com]}\n"
					      "validity: 1y\nrenew_before: 12h\n"
					      "monitor: {enabled: false, warning: 14d, critical: 2d}\n");

	ck_assert_int_eq(def->mode, CC_MODE_MONITOR);
	ck_assert_int_eq(def->process, CC_PROCESS_UNATTENDED);
	ck_assert_int_eq(def->profile, CC_PROFILE_SERVER_CLIENT);
	ck_assert_int_eq(def->key.type, CC_KEY_RSA);
	ck_assert_uint_eq(def->key.bits, 3072);
	ck_assert_int_eq(def->reuse_key, 1);
	ck_assert_str_eq(def->sans.dns.items[0], "*.example.com");
	ck_assert_int_eq(def->validity, 365 * DAY);
	ck_assert_int_eq(def->renew_before, 12 * 3600);
	ck_assert_int_eq(def->monitor, 0);
	ck_assert_int_eq(def->warning, 14 * DAY);
	ck_assert_int_eq(def->critical, 2 * DAY);
	ck_assert_ptr_null(def->subject.cn);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_definition_key_id_refers_to_a_stored_key)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com}\n"
					     "key:\n  type: ed25519\n  id: 0123456789abcdef\n");
	cc_definition *back;
	cc_buf text = CC_BUF_INIT;

	ck_assert_ptr_nonnull(def->key_id);
	ck_assert_str_eq(def->key_id, "0123456789abcdef");
	ck_assert_int_eq(cc_definition_format(def, &text), 0);
	back = parse_ok("www", cc_buf_cstr(&text));
	ck_assert_str_eq(back->key_id, "0123456789abcdef");
	cc_definition_free(def);
	cc_definition_free(back);
	cc_buf_dispose(&text);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nkey:\n  id: XYZ\n"), 3,
			"XYZ", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nkey:\n  id: 0123\n"), 3,
			"0123", NULL);
}
END_TEST

START_TEST(test_definition_check_port_defaults_to_443)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com}\n"
					     "checks:\n  - host: 192.0.2.1\n  - host: mail.example.com\n"
					     "    port: 465\n");

	ck_assert_uint_eq(def->nchecks, 2);
	ck_assert_uint_eq(def->checks[0].port, 443);
	ck_assert_str_eq(def->checks[0].host, "192.0.2.1");
	ck_assert_int_eq(def->checks[0].enabled, 1);
	ck_assert_uint_eq(def->checks[1].port, 465);
	cc_definition_free(def);
}
END_TEST

/* validation errors */

START_TEST(test_definition_rejects_unknown_key)
{
	const char *msg = parse_fails("subject:\n  cn: www.example.com\ncolour: red\n");

	assert_error_at(msg, 3, "colour", NULL);
}
END_TEST

START_TEST(test_definition_rejects_unknown_nested_key)
{
	const char *msg = parse_fails("subject:\n  cn: www.example.com\n  common_name: x\n");

	assert_error_at(msg, 3, "common_name", NULL);
	msg = parse_fails("subject: {cn: www.example.com}\nchecks:\n  - host: a.example\n"
			  "    prot: 443\n");
	assert_error_at(msg, 4, "prot", NULL);
}
END_TEST

START_TEST(test_definition_rejects_bad_dns_name)
{
	const char *msg = parse_fails("san:\n  dns: [www.example.com, bad..name]\n");

	assert_error_at(msg, 2, "dns", "bad..name");
}
END_TEST

START_TEST(test_definition_rejects_bad_ip)
{
	const char *msg = parse_fails("subject:\n  cn: www.example.com\nsan:\n  ip: [999.1.1.1]\n");

	assert_error_at(msg, 4, "ip", "999.1.1.1");
}
END_TEST

START_TEST(test_definition_rejects_lower_case_country)
{
	const char *msg = parse_fails("subject:\n  cn: www.example.com\n  c: de\n");

	assert_error_at(msg, 3, "country", "'de'");
}
END_TEST

START_TEST(test_definition_rejects_small_rsa_key)
{
	const char *msg = parse_fails("subject: {cn: www.example.com}\nkey:\n  type: rsa:1024\n");

	assert_error_at(msg, 3, "key", "1024");
}
END_TEST

START_TEST(test_definition_rejects_port_out_of_range)
{
	const char *msg = parse_fails("subject: {cn: www.example.com}\nchecks:\n"
				      "  - host: www.example.com\n    port: 70000\n");

	assert_error_at(msg, 4, "port", "70000");
	msg = parse_fails("subject: {cn: www.example.com}\nchecks:\n"
			  "  - host: www.example.com\n    port: 0\n");
	assert_error_at(msg, 4, "port", NULL);
}
END_TEST

START_TEST(test_definition_rejects_warning_shorter_than_critical)
{
	const char *msg = parse_fails("subject: {cn: www.example.com}\nmonitor:\n"
				      "  warning: 7d\n  critical: 30d\n");

	ck_assert_msg(matches(msg, "^www\\.yaml:[2-4]:[0-9]+: "), "'%s'", msg);
	ck_assert_msg(fx_contains_ci(msg, "warning") && fx_contains_ci(msg, "critical"), "'%s'",
		      msg);
}
END_TEST

START_TEST(test_definition_rejects_nothing_to_certify)
{
	const char *msg = parse_fails("description: no names at all\n");

	ck_assert_msg(matches(msg, "^www\\.yaml:[0-9]+:[0-9]+: "), "'%s'", msg);
	ck_assert_msg(fx_contains_ci(msg, "cn") || fx_contains_ci(msg, "common name"), "'%s'", msg);
}
END_TEST

START_TEST(test_definition_rejects_wrong_types_and_values)
{
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nvalidity: soon\n"), 2, "soon",
			NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nmode: sometimes\n"), 2,
			"sometimes", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nprofile: printer\n"), 2,
			"printer", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nvalidation: xv\n"), 2, "xv",
			NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nchecks:\n  - host: a.example\n"
				    "    starttls: telnet\n"),
			4, "telnet", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nchecks: {host: a.example}\n"),
			2, "checks", NULL);
	assert_error_at(parse_fails("subject:\n  - www.example.com\n"), 2, "subject", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com, email: not-an-address}\n"), 1,
			"not-an-address", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nmonitor: {enabled: maybe}\n"),
			2, NULL, NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nsan: {uri: [not a uri]}\n"), 2,
			"not a uri", NULL);
	assert_error_at(parse_fails("subject: {cn: www.example.com}\nchecks:\n  - port: 443\n"), 3,
			"host", NULL);
}
END_TEST

START_TEST(test_definition_rejects_duplicate_target_names)
{
	const char *msg = parse_fails("subject: {cn: www.example.com}\ntargets:\n"
				      "  - {name: web1, type: nginx}\n  - {name: web1, type: apache}\n");

	assert_error_at(msg, 4, "web1", NULL);
}
END_TEST

START_TEST(test_definition_rejects_yaml_syntax_error_with_position)
{
	const char *msg = parse_fails("subject:\n  cn: [www.example.com\n");

	ck_assert_msg(matches(msg, "^www\\.yaml:[0-9]+:[0-9]+: "), "'%s'", msg);
}
END_TEST

START_TEST(test_definition_validate_names_the_field)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com}\n");

	ck_assert_int_eq(cc_definition_validate(def), 0);
	cc_strset(&def->subject.c, "de");
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(fx_contains_ci(cc_error_last(), "country"), "'%s'", cc_error_last());
	cc_strset(&def->subject.c, "DE");
	ck_assert_int_eq(cc_strlist_add(&def->sans.ip, "1.2.3"), 0);
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(fx_contains_ci(cc_error_last(), "ip"), "'%s'", cc_error_last());
	cc_strlist_dispose(&def->sans.ip);
	def->warning = DAY;
	def->critical = 2 * DAY;
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(fx_contains_ci(cc_error_last(), "critical"), "'%s'", cc_error_last());
	def->critical = DAY / 2;
	def->key.type = CC_KEY_RSA;
	def->key.bits = 1024;
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "1024") != NULL, "'%s'", cc_error_last());
	def->key.bits = 2048;
	ck_assert_int_eq(cc_definition_validate(def), 0);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_definition_validate_rejects_no_cn_and_no_san)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com}\n");

	cc_strset(&def->subject.cn, NULL);
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(fx_contains_ci(cc_error_last(), "common name") ||
			      fx_contains_ci(cc_error_last(), "cn"),
		      "'%s'", cc_error_last());
	/* one SAN of any kind is enough */
	ck_assert_int_eq(cc_strlist_add(&def->sans.email, "a@example.com"), 0);
	ck_assert_int_eq(cc_definition_validate(def), 0);
	cc_definition_free(def);
}
END_TEST

START_TEST(test_definition_validate_checks_endpoints)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com}\n"
					     "checks: [{host: www.example.com}]\n");

	ck_assert_int_eq(cc_definition_validate(def), 0);
	def->checks[0].port = 70000;
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(fx_contains_ci(cc_error_last(), "port"), "'%s'", cc_error_last());
	def->checks[0].port = 443;
	cc_strset(&def->checks[0].host, "bad..host");
	ck_assert_int_eq(cc_definition_validate(def), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "bad..host") != NULL, "'%s'", cc_error_last());
	cc_definition_free(def);
}
END_TEST

/* clone */

START_TEST(test_definition_clone_is_deep_copy_under_new_name)
{
	cc_definition *def = parse_ok("www", full_example), *copy = NULL;

	ck_assert_int_eq(cc_definition_clone(&copy, def, "www2"), 0);
	ck_assert_str_eq(copy->name, "www2");
	ck_assert_str_eq(def->name, "www");
	assert_definitions_eq(def, copy);
	cc_strset(&copy->subject.cn, "other.example.com");
	ck_assert_int_eq(cc_strlist_add(&copy->sans.dns, "other.example.com"), 0);
	ck_assert_str_eq(def->subject.cn, "www.example.com");
	ck_assert_uint_eq(def->sans.dns.count, 2);
	cc_definition_free(def);
	/* the copy outlives the original */
	ck_assert_str_eq(copy->targets[0].name, "web1");
	cc_definition_free(copy);
}
END_TEST

START_TEST(test_definition_clone_rejects_bad_name)
{
	cc_definition *def = parse_ok("www", "subject: {cn: www.example.com}\n"), *copy = NULL;

	ck_assert_int_eq(cc_definition_clone(&copy, def, "../evil"), CC_EINVALID);
	ck_assert_ptr_null(copy);
	cc_definition_free(def);
}
END_TEST

/* enums and checks */

START_TEST(test_definition_enum_names_parse_back)
{
	cc_operation_mode mode;
	cc_process_mode process;
	cc_profile profile;

	ck_assert_str_eq(cc_operation_mode_name(CC_MODE_LIFECYCLE), "lifecycle");
	ck_assert_str_eq(cc_operation_mode_name(CC_MODE_MONITOR), "monitor");
	ck_assert_str_eq(cc_process_mode_name(CC_PROCESS_INTERACTIVE), "interactive");
	ck_assert_str_eq(cc_process_mode_name(CC_PROCESS_UNATTENDED), "unattended");
	ck_assert_str_eq(cc_profile_name(CC_PROFILE_SERVER), "server");
	ck_assert_str_eq(cc_profile_name(CC_PROFILE_CLIENT), "client");
	ck_assert_str_eq(cc_profile_name(CC_PROFILE_SERVER_CLIENT), "server+client");
	ck_assert_int_eq(cc_operation_mode_parse(&mode, "monitor"), 0);
	ck_assert_int_eq(mode, CC_MODE_MONITOR);
	ck_assert_int_eq(cc_operation_mode_parse(&mode, "lifecycle"), 0);
	ck_assert_int_eq(mode, CC_MODE_LIFECYCLE);
	ck_assert_int_eq(cc_process_mode_parse(&process, "unattended"), 0);
	ck_assert_int_eq(process, CC_PROCESS_UNATTENDED);
	ck_assert_int_eq(cc_profile_parse(&profile, "server+client"), 0);
	ck_assert_int_eq(profile, CC_PROFILE_SERVER_CLIENT);
	ck_assert_int_eq(cc_profile_parse(&profile, "client"), 0);
	ck_assert_int_eq(profile, CC_PROFILE_CLIENT);
	ck_assert_int_eq(cc_operation_mode_parse(&mode, "bogus"), CC_EINVALID);
	ck_assert_int_eq(cc_process_mode_parse(&process, "Interactive!"), CC_EINVALID);
	ck_assert_int_eq(cc_profile_parse(&profile, ""), CC_EINVALID);
}
END_TEST

START_TEST(test_check_parse_host_only_uses_port_443)
{
	cc_check check;

	ck_assert_int_eq(cc_check_parse(&check, "host.example.com"), 0);
	ck_assert_str_eq(check.host, "host.example.com");
	ck_assert_uint_eq(check.port, 443);
	ck_assert_ptr_null(check.sni);
	ck_assert_ptr_null(check.starttls);
	ck_assert_int_ne(check.enabled, 0);
	cc_check_dispose(&check);
	ck_assert_int_eq(cc_check_parse(&check, "host"), 0);
	ck_assert_str_eq(check.host, "host");
	ck_assert_uint_eq(check.port, 443);
	cc_check_dispose(&check);
}
END_TEST

START_TEST(test_check_parse_host_and_port)
{
	cc_check check;

	ck_assert_int_eq(cc_check_parse(&check, "host:8443"), 0);
	ck_assert_str_eq(check.host, "host");
	ck_assert_uint_eq(check.port, 8443);
	cc_check_dispose(&check);
	ck_assert_int_eq(cc_check_parse(&check, "192.0.2.1:993"), 0);
	ck_assert_str_eq(check.host, "192.0.2.1");
	ck_assert_uint_eq(check.port, 993);
	cc_check_dispose(&check);
	ck_assert_int_eq(cc_check_parse(&check, "h.example:65535"), 0);
	ck_assert_uint_eq(check.port, 65535);
	cc_check_dispose(&check);
}
END_TEST

START_TEST(test_check_parse_bracketed_ipv6)
{
	cc_check check;

	ck_assert_int_eq(cc_check_parse(&check, "[::1]:443"), 0);
	ck_assert_str_eq(check.host, "::1");
	ck_assert_uint_eq(check.port, 443);
	cc_check_dispose(&check);
	ck_assert_int_eq(cc_check_parse(&check, "[2001:db8::5]:8443"), 0);
	ck_assert_str_eq(check.host, "2001:db8::5");
	ck_assert_uint_eq(check.port, 8443);
	cc_check_dispose(&check);
	ck_assert_int_eq(cc_check_parse(&check, "[2001:db8::5]"), 0);
	ck_assert_str_eq(check.host, "2001:db8::5");
	ck_assert_uint_eq(check.port, 443);
	cc_check_dispose(&check);
}
END_TEST

START_TEST(test_check_parse_rejects_bad_endpoints)
{
	static const char *bad[] = {
		"host:70000", "host:0", "host:", "host:abc", "host:-1", "host:+443", "host:44 3",
		"", "[::1", "[::1]x", "[::1]:", "bad..host:443", ":443",
		"host:443:1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cc_check check;
		int rc = cc_check_parse(&check, bad[i]);

		ck_assert_msg(rc == CC_EINVALID, "'%s' gave %d, not CC_EINVALID", bad[i], rc);
	}
}
END_TEST

START_TEST(test_check_parse_error_names_the_port)
{
	cc_check check;

	ck_assert_int_eq(cc_check_parse(&check, "host:70000"), CC_EINVALID);
	ck_assert_msg(strstr(cc_error_last(), "70000") != NULL, "'%s'", cc_error_last());
}
END_TEST

/* storage */

static void save_ok(const char *name, const char *text)
{
	cc_definition *def = NULL;
	cc_txn *txn = NULL;
	int rc;

	rc = cc_definition_parse(&def, fx_repo, name, text, strlen(text), name);
	ck_assert_msg(rc == 0, "parse: %s", cc_error_last());
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "define"), 0);
	rc = cc_definition_save(txn, def);
	ck_assert_msg(rc == 0, "save: %d %s", rc, cc_error_last());
	ck_assert_int_eq(cc_txn_commit(txn, "define: created", NULL), 0);
	cc_definition_free(def);
}

START_TEST(test_definition_save_then_load_gives_same_definition)
{
	cc_definition *def = NULL, *loaded = NULL;
	char rel[] = "definitions/www.yaml";
	char *committed;

	ck_assert(!cc_definition_exists(fx_repo, "www"));
	save_ok("www", full_example);
	ck_assert(cc_definition_exists(fx_repo, "www"));
	committed = fx_git_head_file(fx_repo_path, rel);
	ck_assert_ptr_nonnull(committed);
	free(committed);
	ck_assert_int_eq(cc_definition_load(&loaded, fx_repo, "www"), 0);
	def = parse_ok("www", full_example);
	assert_definitions_eq(def, loaded);
	ck_assert_str_eq(loaded->name, "www");
	cc_definition_free(def);
	cc_definition_free(loaded);
}
END_TEST

START_TEST(test_definition_load_missing_is_not_found)
{
	cc_definition *def = NULL;

	ck_assert_int_eq(cc_definition_load(&def, fx_repo, "nothing"), CC_ENOTFOUND);
	ck_assert_ptr_null(def);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "nothing"));
}
END_TEST

START_TEST(test_definition_load_reports_repository_relative_position)
{
	cc_definition *def = NULL;
	char path[PATH_MAX];

	fx_pathf(path, sizeof(path), "%s/definitions", fx_repo_path);
	ck_assert_int_eq(cc_fs_mkdir_p(path, 0755), 0);
	fx_pathf(path, sizeof(path), "%s/definitions/bad.yaml", fx_repo_path);
	fx_write_file(path, "subject:\n  cn: www.example.com\nbogus: 1\n");
	ck_assert_int_eq(cc_definition_load(&def, fx_repo, "bad"), CC_EINVALID);
	ck_assert_msg(matches(cc_error_last(), "definitions/bad\\.yaml:3:[0-9]+: "), "'%s'",
		      cc_error_last());
	ck_assert_ptr_null(def);
}
END_TEST

START_TEST(test_definition_save_refuses_invalid_definition)
{
	cc_definition *def = NULL;
	cc_txn *txn = NULL;
	char path[PATH_MAX];

	ck_assert_int_eq(cc_definition_new(&def, fx_repo, "empty"), 0);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "define"), 0);
	ck_assert_int_eq(cc_definition_save(txn, def), CC_EINVALID);
	ck_assert_uint_eq(cc_txn_changes(txn), 0);
	cc_txn_abort(txn);
	fx_pathf(path, sizeof(path), "%s/definitions/empty.yaml", fx_repo_path);
	ck_assert(!fx_exists(path));
	cc_definition_free(def);
}
END_TEST

START_TEST(test_definition_names_are_sorted)
{
	cc_strlist names = CC_STRLIST_INIT;

	ck_assert_int_eq(cc_definition_names(fx_repo, &names), 0);
	ck_assert_uint_eq(names.count, 0);
	save_ok("web", "subject: {cn: web.example.com}\n");
	save_ok("api", "subject: {cn: api.example.com}\n");
	save_ok("mail", "san: {dns: [mail.example.com]}\n");
	ck_assert_int_eq(cc_definition_names(fx_repo, &names), 0);
	ck_assert_uint_eq(names.count, 3);
	ck_assert_str_eq(names.items[0], "api");
	ck_assert_str_eq(names.items[1], "mail");
	ck_assert_str_eq(names.items[2], "web");
	cc_strlist_dispose(&names);
}
END_TEST

START_TEST(test_definition_remove_deletes_and_commits)
{
	cc_txn *txn = NULL;
	cc_definition *def = NULL;

	save_ok("www", "subject: {cn: www.example.com}\n");
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "rm"), 0);
	ck_assert_int_eq(cc_definition_remove(txn, "www"), 0);
	ck_assert_int_eq(cc_txn_commit(txn, "rm: www: removed", NULL), 0);
	ck_assert(!cc_definition_exists(fx_repo, "www"));
	ck_assert_ptr_null(fx_git_head_file(fx_repo_path, "definitions/www.yaml"));
	ck_assert_int_eq(cc_definition_load(&def, fx_repo, "www"), CC_ENOTFOUND);
	ck_assert_int_eq(cc_txn_begin(&txn, fx_repo, "rm"), 0);
	ck_assert_int_eq(cc_definition_remove(txn, "www"), CC_ENOTFOUND);
	cc_txn_abort(txn);
}
END_TEST

Suite *definition_suite(void)
{
	Suite *s = suite_create("definition");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_definition_new_has_builtin_defaults);
	tcase_add_test(tc, test_definition_new_rejects_bad_name);
	tcase_add_test(tc, test_definition_parses_full_example_of_the_spec);
	tcase_add_test(tc, test_definition_format_parses_back_to_same_definition);
	tcase_add_test(tc, test_definition_format_keeps_target_settings);
	tcase_add_test(tc, test_definition_format_quotes_values_that_look_like_other_types);
	tcase_add_test(tc, test_definition_absent_fields_keep_defaults);
	tcase_add_test(tc, test_definition_accepts_other_modes_and_profiles);
	tcase_add_test(tc, test_definition_key_id_refers_to_a_stored_key);
	tcase_add_test(tc, test_definition_check_port_defaults_to_443);
	tcase_add_test(tc, test_definition_clone_is_deep_copy_under_new_name);
	tcase_add_test(tc, test_definition_clone_rejects_bad_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_test(tc, test_definition_rejects_unknown_key);
	tcase_add_test(tc, test_definition_rejects_unknown_nested_key);
	tcase_add_test(tc, test_definition_rejects_bad_dns_name);
	tcase_add_test(tc, test_definition_rejects_bad_ip);
	tcase_add_test(tc, test_definition_rejects_lower_case_country);
	tcase_add_test(tc, test_definition_rejects_small_rsa_key);
	tcase_add_test(tc, test_definition_rejects_port_out_of_range);
	tcase_add_test(tc, test_definition_rejects_warning_shorter_than_critical);
	tcase_add_test(tc, test_definition_rejects_nothing_to_certify);
	tcase_add_test(tc, test_definition_rejects_wrong_types_and_values);
	tcase_add_test(tc, test_definition_rejects_duplicate_target_names);
	tcase_add_test(tc, test_definition_rejects_yaml_syntax_error_with_position);
	tcase_add_test(tc, test_definition_validate_names_the_field);
	tcase_add_test(tc, test_definition_validate_rejects_no_cn_and_no_san);
	tcase_add_test(tc, test_definition_validate_checks_endpoints);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_definition_enum_names_parse_back);
	tcase_add_test(tc, test_check_parse_host_only_uses_port_443);
	tcase_add_test(tc, test_check_parse_host_and_port);
	tcase_add_test(tc, test_check_parse_bracketed_ipv6);
	tcase_add_test(tc, test_check_parse_rejects_bad_endpoints);
	tcase_add_test(tc, test_check_parse_error_names_the_port);
	suite_add_tcase(s, tc);

	tc = tcase_create("storage");
	tcase_set_timeout(tc, FX_SLOW_TIMEOUT);
	tcase_add_checked_fixture(tc, fx_repo_setup, fx_repo_teardown);
	tcase_add_test(tc, test_definition_new_takes_defaults_from_repository);
	tcase_add_test(tc, test_definition_save_then_load_gives_same_definition);
	tcase_add_test(tc, test_definition_load_missing_is_not_found);
	tcase_add_test(tc, test_definition_load_reports_repository_relative_position);
	tcase_add_test(tc, test_definition_save_refuses_invalid_definition);
	tcase_add_test(tc, test_definition_names_are_sorted);
	tcase_add_test(tc, test_definition_remove_deletes_and_commits);
	suite_add_tcase(s, tc);
	return s;
}
