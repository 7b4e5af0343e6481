/*
 * Tests of lib/util.c: string lists, durations, object names, DNS names,
 * addresses, URIs, country codes, hex and time formatting.
 */
#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "suites.h"

/* strlist */

START_TEST(test_strlist_add_copies_and_contains_finds)
{
	cc_strlist list = CC_STRLIST_INIT;
	char name[] = "www.example.com";

	ck_assert_int_eq(cc_strlist_add(&list, name), 0);
	ck_assert_int_eq(cc_strlist_add(&list, "example.com"), 0);
	name[0] = 'X'; /* the list holds its own copy */
	ck_assert_uint_eq(list.count, 2);
	ck_assert_str_eq(list.items[0], "www.example.com");
	ck_assert_str_eq(list.items[1], "example.com");
	ck_assert(cc_strlist_contains(&list, "example.com"));
	ck_assert(cc_strlist_contains(&list, "www.example.com"));
	ck_assert(!cc_strlist_contains(&list, "Xww.example.com"));
	ck_assert(!cc_strlist_contains(&list, "example"));
	cc_strlist_dispose(&list);
}
END_TEST

START_TEST(test_strlist_contains_on_empty_list_is_false)
{
	cc_strlist list = CC_STRLIST_INIT;

	ck_assert(!cc_strlist_contains(&list, ""));
	ck_assert(!cc_strlist_contains(&list, "a"));
}
END_TEST

START_TEST(test_strlist_remove_drops_every_copy_and_keeps_order)
{
	cc_strlist list = CC_STRLIST_INIT;

	cc_strlist_add(&list, "a");
	cc_strlist_add(&list, "b");
	cc_strlist_add(&list, "a");
	cc_strlist_add(&list, "c");
	cc_strlist_add(&list, "a");
	ck_assert_uint_eq(cc_strlist_remove(&list, "a"), 3);
	ck_assert_uint_eq(list.count, 2);
	ck_assert_str_eq(list.items[0], "b");
	ck_assert_str_eq(list.items[1], "c");
	ck_assert_uint_eq(cc_strlist_remove(&list, "zzz"), 0);
	ck_assert_uint_eq(list.count, 2);
	cc_strlist_dispose(&list);
}
END_TEST

START_TEST(test_strlist_copy_is_deep)
{
	cc_strlist src = CC_STRLIST_INIT, dst = CC_STRLIST_INIT;

	cc_strlist_add(&src, "one");
	cc_strlist_add(&src, "two");
	cc_strlist_add(&dst, "zero");
	ck_assert_int_eq(cc_strlist_copy(&dst, &src), 0);
	cc_strlist_dispose(&src);
	ck_assert_uint_eq(dst.count, 3);
	ck_assert_str_eq(dst.items[0], "zero");
	ck_assert_str_eq(dst.items[1], "one");
	ck_assert_str_eq(dst.items[2], "two");
	cc_strlist_dispose(&dst);
}
END_TEST

START_TEST(test_strlist_sort_orders_bytewise)
{
	cc_strlist list = CC_STRLIST_INIT;

	cc_strlist_add(&list, "web");
	cc_strlist_add(&list, "api");
	cc_strlist_add(&list, "Mail");
	cc_strlist_add(&list, "api2");
	cc_strlist_sort(&list);
	ck_assert_str_eq(list.items[0], "Mail");
	ck_assert_str_eq(list.items[1], "api");
	ck_assert_str_eq(list.items[2], "api2");
	ck_assert_str_eq(list.items[3], "web");
	cc_strlist_dispose(&list);
}
END_TEST

START_TEST(test_strlist_dispose_resets_list)
{
	cc_strlist list = CC_STRLIST_INIT;

	cc_strlist_add(&list, "x");
	cc_strlist_dispose(&list);
	ck_assert_ptr_null(list.items);
	ck_assert_uint_eq(list.count, 0);
	cc_strlist_dispose(&list);
	ck_assert_uint_eq(list.count, 0);
}
END_TEST

/* durations */

static long long parse_ok(const char *text)
{
	long long secs = -12345;
	int rc = cc_duration_parse(&secs, text);

	ck_assert_msg(rc == 0, "'%s' rejected: %s", text, cc_error_last());
	return secs;
}

START_TEST(test_duration_parse_reads_every_unit)
{
	ck_assert_int_eq(parse_ok("45s"), 45);
	ck_assert_int_eq(parse_ok("30m"), 30 * 60);
	ck_assert_int_eq(parse_ok("12h"), 12 * 3600);
	ck_assert_int_eq(parse_ok("90d"), 90LL * 86400);
	ck_assert_int_eq(parse_ok("2w"), 14LL * 86400);
	ck_assert_int_eq(parse_ok("1y"), 365LL * 86400);
	ck_assert_int_eq(parse_ok("0s"), 0);
}
END_TEST

START_TEST(test_duration_parse_plain_number_is_days)
{
	ck_assert_int_eq(parse_ok("90"), 90LL * 86400);
	ck_assert_int_eq(parse_ok("1"), 86400);
	ck_assert_int_eq(parse_ok("0"), 0);
}
END_TEST

START_TEST(test_duration_parse_rejects_bad_input)
{
	static const char *bad[] = {
		"", "d", "-5d", "+5d", "5x", "5dd", "5 d", " 5d", "5d ", "1.5d", "abc",
		"12hours", "0x10", "99999999999999999999d", "9223372036854775807y",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long long secs = 777;
		int rc = cc_duration_parse(&secs, bad[i]);

		ck_assert_msg(rc == CC_EINVALID, "'%s' gave %d, not CC_EINVALID", bad[i], rc);
		ck_assert_msg(strlen(cc_error_last()) > 0, "no message for '%s'", bad[i]);
	}
}
END_TEST

START_TEST(test_duration_parse_error_names_the_text)
{
	long long secs;

	ck_assert_int_eq(cc_duration_parse(&secs, "3fortnights"), CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "3fortnights"));
}
END_TEST

START_TEST(test_duration_format_uses_largest_exact_unit)
{
	char out[32];

	cc_duration_format(out, sizeof(out), 90LL * 86400);
	ck_assert_str_eq(out, "90d");
	cc_duration_format(out, sizeof(out), 36LL * 3600);
	ck_assert_str_eq(out, "36h");
	cc_duration_format(out, sizeof(out), 30 * 60);
	ck_assert_str_eq(out, "30m");
	cc_duration_format(out, sizeof(out), 45);
	ck_assert_str_eq(out, "45s");
	cc_duration_format(out, sizeof(out), 90);
	ck_assert_str_eq(out, "90s");
	cc_duration_format(out, sizeof(out), 365LL * 86400);
	ck_assert_str_eq(out, "1y");
	cc_duration_format(out, sizeof(out), 86400 + 3600);
	ck_assert_str_eq(out, "25h");
}
END_TEST

START_TEST(test_duration_format_parses_back_to_same_seconds)
{
	static const long long values[] = {
		0, 1, 59, 60, 61, 3600, 7200 + 60, 86400, 7LL * 86400, 14LL * 86400,
		30LL * 86400, 397LL * 86400, 730LL * 86400, 86400 + 1,
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char out[32];
		long long back = -1;

		cc_duration_format(out, sizeof(out), values[i]);
		ck_assert_msg(cc_duration_parse(&back, out) == 0, "'%s' does not parse: %s", out,
			      cc_error_last());
		ck_assert_msg(back == values[i], "%lld -> '%s' -> %lld", values[i], out, back);
	}
}
END_TEST

START_TEST(test_duration_format_truncates_to_buffer)
{
	char out[3] = "zz";

	cc_duration_format(out, sizeof(out), 90LL * 86400 + 1); /* "7776001s" */
	ck_assert_uint_le(strlen(out), 2);
}
END_TEST

/* object names */

START_TEST(test_name_check_accepts_valid_names)
{
	char longest[129];

	memset(longest, 'a', 128);
	longest[128] = '\0';
	ck_assert_int_eq(cc_name_check("www.example.com", "definition"), 0);
	ck_assert_int_eq(cc_name_check("a-b_c.1", "definition"), 0);
	ck_assert_int_eq(cc_name_check("1st", "definition"), 0);
	ck_assert_int_eq(cc_name_check("A", "definition"), 0);
	ck_assert_int_eq(cc_name_check(longest, "definition"), 0);
}
END_TEST

START_TEST(test_name_check_rejects_bad_names)
{
	char too_long[130];
	static const char *bad[] = {
		"", "../x", "a/b", "a..b", ".hidden", "-x", "_x", "a b", "a\\b", "a:b",
		"a\nb", "caf\xc3\xa9", "..", ".", "x/",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cc_name_check(bad[i], "definition") == CC_EINVALID,
			      "'%s' accepted", bad[i]);
	memset(too_long, 'a', 129);
	too_long[129] = '\0';
	ck_assert_int_eq(cc_name_check(too_long, "definition"), CC_EINVALID);
}
END_TEST

START_TEST(test_name_check_message_names_the_kind)
{
	ck_assert_int_eq(cc_name_check("a/b", "trust set"), CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "trust set"));
	ck_assert_int_eq(cc_name_check("", "CA"), CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "CA"));
}
END_TEST

/* DNS names */

START_TEST(test_dns_name_accepts_host_names)
{
	static const char *good[] = {
		"www.example.com", "example.com", "localhost", "a-b.example",
		"xn--bcher-kva.example", "a1.b2.c3", "EXAMPLE.COM", "x",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(cc_dns_name_valid(good[i], 0), "'%s' rejected", good[i]);
		ck_assert_msg(cc_dns_name_valid(good[i], 1), "'%s' rejected (wildcards on)",
			      good[i]);
	}
}
END_TEST

START_TEST(test_dns_name_rejects_malformed_names)
{
	static const char *bad[] = {
		"", ".", "..", "-a.com", "a-.com", "a..b", ".a.com", "a b.com", "a/b",
		"a@b.com", "exa!mple.com", "http://example.com", "a.-b.com",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!cc_dns_name_valid(bad[i], 0), "'%s' accepted", bad[i]);
		ck_assert_msg(!cc_dns_name_valid(bad[i], 1), "'%s' accepted (wildcards on)",
			      bad[i]);
	}
	ck_assert(!cc_dns_name_valid(NULL, 0));
}
END_TEST

START_TEST(test_dns_name_rejects_underscore_as_not_ldh)
{
	/* The header promises LDH labels: letters, digits, hyphens. */
	ck_assert(!cc_dns_name_valid("host_name.example.com", 0));
}
END_TEST

START_TEST(test_dns_name_limits_label_and_total_length)
{
	char label63[80], label64[80], name[300];

	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".com");
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	ck_assert(cc_dns_name_valid(label63, 0));
	ck_assert(!cc_dns_name_valid(label64, 0));
	/* 4 labels of 63 plus dots: 255 characters, over the 253 limit */
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 4; i++) {
		memset(name + i * 64, 'b', 63);
		if (i < 3)
			name[i * 64 + 63] = '.';
	}
	ck_assert_uint_eq(strlen(name), 255);
	ck_assert(!cc_dns_name_valid(name, 0));
}
END_TEST

START_TEST(test_dns_name_wildcard_only_when_allowed)
{
	ck_assert(cc_dns_name_valid("*.example.com", 1));
	ck_assert(!cc_dns_name_valid("*.example.com", 0));
}
END_TEST

START_TEST(test_dns_name_wildcard_must_be_whole_leftmost_label)
{
	static const char *bad[] = {
		"*", "*.", "**.example.com", "*example.com", "w*.example.com",
		"www.*.example.com", "*.*.example.com", "example.*", ".*.example.com",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cc_dns_name_valid(bad[i], 1), "'%s' accepted", bad[i]);
}
END_TEST

/* addresses, mail, URIs, countries */

START_TEST(test_ip_accepts_v4_and_v6)
{
	ck_assert(cc_ip_valid("192.0.2.10"));
	ck_assert(cc_ip_valid("0.0.0.0"));
	ck_assert(cc_ip_valid("::1"));
	ck_assert(cc_ip_valid("2001:db8::1"));
	ck_assert(cc_ip_valid("::ffff:192.0.2.1"));
}
END_TEST

START_TEST(test_ip_rejects_non_addresses)
{
	static const char *bad[] = {
		"", "256.1.1.1", "1.2.3", "1.2.3.4.5", "example.com", "::g", "192.0.2.1/24",
		"[::1]", " 192.0.2.1", "2001:db8:::1", "1.2.3.4:443",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cc_ip_valid(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!cc_ip_valid(NULL));
}
END_TEST

START_TEST(test_email_accepts_plain_addresses)
{
	ck_assert(cc_email_valid("hostmaster@example.com"));
	ck_assert(cc_email_valid("first.last+tag@sub.example.org"));
}
END_TEST

START_TEST(test_email_rejects_malformed_addresses)
{
	static const char *bad[] = {
		"", "noat", "@example.com", "user@", "a@@example.com", "a@b@example.com",
		"a b@example.com", "<a@example.com>", "Alice <a@example.com>", "a@exa mple.com",
		"a@-example.com",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cc_email_valid(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!cc_email_valid(NULL));
}
END_TEST

START_TEST(test_uri_accepts_absolute_uris)
{
	ck_assert(cc_uri_valid("https://www.example.com/"));
	ck_assert(cc_uri_valid("urn:example:thing"));
	ck_assert(cc_uri_valid("spiffe://trust.example/workload"));
	ck_assert(cc_uri_valid("mailto:a@example.com"));
}
END_TEST

START_TEST(test_uri_rejects_relative_or_malformed)
{
	static const char *bad[] = {
		"", "www.example.com", "/path", "1http://x", "http:", "://x",
		"https://exa mple.com/", "https://x/\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cc_uri_valid(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!cc_uri_valid(NULL));
}
END_TEST

START_TEST(test_country_accepts_two_upper_case_letters)
{
	ck_assert(cc_country_valid("DE"));
	ck_assert(cc_country_valid("US"));
}
END_TEST

START_TEST(test_country_rejects_everything_else)
{
	static const char *bad[] = { "", "de", "De", "D", "DEU", "D1", "12", " DE", "DE " };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cc_country_valid(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!cc_country_valid(NULL));
}
END_TEST

/* hex, time, strings, base64 */

START_TEST(test_hex_is_lower_case_and_terminated)
{
	static const unsigned char data[] = { 0x00, 0xab, 0xff, 0x10 };
	char out[9];

	memset(out, 'X', sizeof(out));
	cc_hex(out, data, sizeof(data));
	ck_assert_str_eq(out, "00abff10");
	cc_hex(out, data, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_time_now_is_rfc3339_utc)
{
	char out[32];

	cc_time_now_rfc3339(out);
	ck_assert_uint_eq(strlen(out), 20);
	for (int i = 0; i < 20; i++) {
		if (i == 4 || i == 7)
			ck_assert_int_eq(out[i], '-');
		else if (i == 10)
			ck_assert_int_eq(out[i], 'T');
		else if (i == 13 || i == 16)
			ck_assert_int_eq(out[i], ':');
		else if (i == 19)
			ck_assert_int_eq(out[i], 'Z');
		else
			ck_assert_msg(isdigit((unsigned char)out[i]), "'%s'", out);
	}
	ck_assert_int_ge(atoi(out), 2024);
}
END_TEST

START_TEST(test_strset_replaces_and_strdup_accepts_null)
{
	char *slot = cc_strdup("old");

	ck_assert_str_eq(slot, "old");
	cc_strset(&slot, "new");
	ck_assert_str_eq(slot, "new");
	cc_strset(&slot, NULL);
	ck_assert_ptr_null(slot);
	ck_assert_ptr_null(cc_strdup(NULL));
}
END_TEST

START_TEST(test_base64_round_trips_every_length)
{
	unsigned char data[40];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 200);
	for (size_t len = 0; len <= sizeof(data); len++) {
		cc_buf text = CC_BUF_INIT, back = CC_BUF_INIT;

		ck_assert_int_eq(cc_base64_encode(&text, data, len), 0);
		ck_assert_uint_eq(text.size, 4 * ((len + 2) / 3));
		ck_assert_int_eq(cc_base64_decode(&back, cc_buf_cstr(&text)), 0);
		ck_assert_msg(back.size == len, "length %zu decoded to %zu", len, back.size);
		if (len)
			ck_assert_mem_eq(back.ptr, data, len);
		cc_buf_dispose(&text);
		cc_buf_dispose(&back);
	}
}
END_TEST

START_TEST(test_base64_known_vector)
{
	cc_buf text = CC_BUF_INIT;

	ck_assert_int_eq(cc_base64_encode(&text, (const unsigned char *)"foobar", 6), 0);
	ck_assert_str_eq(cc_buf_cstr(&text), "Zm9vYmFy");
	cc_buf_clear(&text);
	ck_assert_int_eq(cc_base64_encode(&text, (const unsigned char *)"fo", 2), 0);
	ck_assert_str_eq(cc_buf_cstr(&text), "Zm8=");
	cc_buf_dispose(&text);
}
END_TEST

START_TEST(test_base64_decode_rejects_bad_text)
{
	cc_buf out = CC_BUF_INIT;

	ck_assert_int_eq(cc_base64_decode(&out, "abc"), CC_EINVALID);
	cc_buf_clear(&out);
	ck_assert_int_eq(cc_base64_decode(&out, "ab!d"), CC_EINVALID);
	cc_buf_dispose(&out);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc;

	tc = tcase_create("strlist");
	tcase_add_test(tc, test_strlist_add_copies_and_contains_finds);
	tcase_add_test(tc, test_strlist_contains_on_empty_list_is_false);
	tcase_add_test(tc, test_strlist_remove_drops_every_copy_and_keeps_order);
	tcase_add_test(tc, test_strlist_copy_is_deep);
	tcase_add_test(tc, test_strlist_sort_orders_bytewise);
	tcase_add_test(tc, test_strlist_dispose_resets_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("duration");
	tcase_add_test(tc, test_duration_parse_reads_every_unit);
	tcase_add_test(tc, test_duration_parse_plain_number_is_days);
	tcase_add_test(tc, test_duration_parse_rejects_bad_input);
	tcase_add_test(tc, test_duration_parse_error_names_the_text);
	tcase_add_test(tc, test_duration_format_uses_largest_exact_unit);
	tcase_add_test(tc, test_duration_format_parses_back_to_same_seconds);
	tcase_add_test(tc, test_duration_format_truncates_to_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_name_check_accepts_valid_names);
	tcase_add_test(tc, test_name_check_rejects_bad_names);
	tcase_add_test(tc, test_name_check_message_names_the_kind);
	tcase_add_test(tc, test_dns_name_accepts_host_names);
	tcase_add_test(tc, test_dns_name_rejects_malformed_names);
	tcase_add_test(tc, test_dns_name_rejects_underscore_as_not_ldh);
	tcase_add_test(tc, test_dns_name_limits_label_and_total_length);
	tcase_add_test(tc, test_dns_name_wildcard_only_when_allowed);
	tcase_add_test(tc, test_dns_name_wildcard_must_be_whole_leftmost_label);
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses");
	tcase_add_test(tc, test_ip_accepts_v4_and_v6);
	tcase_add_test(tc, test_ip_rejects_non_addresses);
	tcase_add_test(tc, test_email_accepts_plain_addresses);
	tcase_add_test(tc, test_email_rejects_malformed_addresses);
	tcase_add_test(tc, test_uri_accepts_absolute_uris);
	tcase_add_test(tc, test_uri_rejects_relative_or_malformed);
	tcase_add_test(tc, test_country_accepts_two_upper_case_letters);
	tcase_add_test(tc, test_country_rejects_everything_else);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoding");
	tcase_add_test(tc, test_hex_is_lower_case_and_terminated);
	tcase_add_test(tc, test_time_now_is_rfc3339_utc);
	tcase_add_test(tc, test_strset_replaces_and_strdup_accepts_null);
	tcase_add_test(tc, test_base64_round_trips_every_length);
	tcase_add_test(tc, test_base64_known_vector);
	tcase_add_test(tc, test_base64_decode_rejects_bad_text);
	suite_add_tcase(s, tc);
	return s;
}
