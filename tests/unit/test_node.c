/*
 * Tests of cc_node (lib/node.c): YAML parsing into a tree with positions,
 * the restrictions (no anchors, aliases, tags, duplicate keys), deep
 * copies, the scalar helpers and the YAML writer.
 */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "fixture.h"
#include "suites.h"

static cc_node *parse_ok(const char *text)
{
	cc_node *node = NULL;
	int rc = cc_node_parse(&node, text, strlen(text), "t.yaml");

	ck_assert_msg(rc == 0, "parse failed: %d %s", rc, cc_error_last());
	ck_assert_ptr_nonnull(node);
	return node;
}

/* Parse must fail with CC_EINVALID; returns the message (thread storage). */
static const char *parse_fails(const char *text)
{
	cc_node *node = (cc_node *)0x1;
	int rc = cc_node_parse(&node, text, strlen(text), "t.yaml");

	ck_assert_msg(rc == CC_EINVALID, "'%s' gave %d, not CC_EINVALID", text, rc);
	ck_assert_ptr_null(node);
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

/* Two trees hold the same values, keys and positions. */
static void assert_same_tree(const cc_node *a, const cc_node *b)
{
	ck_assert_int_eq(cc_node_kind(a), cc_node_kind(b));
	ck_assert_uint_eq(cc_node_line(a), cc_node_line(b));
	ck_assert_uint_eq(cc_node_column(a), cc_node_column(b));
	ck_assert_str_eq(cc_node_file(a), cc_node_file(b));
	if (cc_node_kind(a) == CC_NODE_SCALAR) {
		ck_assert_str_eq(cc_node_scalar(a), cc_node_scalar(b));
		return;
	}
	ck_assert_uint_eq(cc_node_count(a), cc_node_count(b));
	for (size_t i = 0; i < cc_node_count(a); i++) {
		if (cc_node_kind(a) == CC_NODE_MAPPING)
			ck_assert_str_eq(cc_node_key_at(a, i), cc_node_key_at(b, i));
		assert_same_tree(cc_node_at(a, i), cc_node_at(b, i));
	}
}

/* Same values and keys, positions ignored. */
static void assert_same_values(const cc_node *a, const cc_node *b)
{
	ck_assert_int_eq(cc_node_kind(a), cc_node_kind(b));
	if (cc_node_kind(a) == CC_NODE_SCALAR) {
		ck_assert_str_eq(cc_node_scalar(a), cc_node_scalar(b));
		return;
	}
	ck_assert_uint_eq(cc_node_count(a), cc_node_count(b));
	for (size_t i = 0; i < cc_node_count(a); i++) {
		if (cc_node_kind(a) == CC_NODE_MAPPING)
			ck_assert_str_eq(cc_node_key_at(a, i), cc_node_key_at(b, i));
		assert_same_values(cc_node_at(a, i), cc_node_at(b, i));
	}
}

START_TEST(test_node_parses_mapping_in_order)
{
	cc_node *root = parse_ok("b: two\na: 1\nc: \"x y\"\n");

	ck_assert_int_eq(cc_node_kind(root), CC_NODE_MAPPING);
	ck_assert_uint_eq(cc_node_count(root), 3);
	ck_assert_str_eq(cc_node_key_at(root, 0), "b");
	ck_assert_str_eq(cc_node_key_at(root, 1), "a");
	ck_assert_str_eq(cc_node_key_at(root, 2), "c");
	ck_assert_str_eq(cc_node_scalar(cc_node_at(root, 0)), "two");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(root, "a")), "1");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(root, "c")), "x y");
	ck_assert_ptr_null(cc_node_get(root, "d"));
	ck_assert_ptr_null(cc_node_scalar(root));
	ck_assert_ptr_null(cc_node_at(root, 3));
	ck_assert_ptr_null(cc_node_key_at(root, 3));
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_parses_sequence)
{
	cc_node *root = parse_ok("- x\n- y\n- [1, 2]\n");

	ck_assert_int_eq(cc_node_kind(root), CC_NODE_SEQUENCE);
	ck_assert_uint_eq(cc_node_count(root), 3);
	ck_assert_str_eq(cc_node_scalar(cc_node_at(root, 0)), "x");
	ck_assert_str_eq(cc_node_scalar(cc_node_at(root, 1)), "y");
	ck_assert_int_eq(cc_node_kind(cc_node_at(root, 2)), CC_NODE_SEQUENCE);
	ck_assert_uint_eq(cc_node_count(cc_node_at(root, 2)), 2);
	ck_assert_str_eq(cc_node_scalar(cc_node_at(cc_node_at(root, 2), 1)), "2");
	/* a sequence has no keys */
	ck_assert_ptr_null(cc_node_key_at(root, 0));
	ck_assert_ptr_null(cc_node_get(root, "x"));
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_parses_scalar_document)
{
	cc_node *root = parse_ok("hello world\n");

	ck_assert_int_eq(cc_node_kind(root), CC_NODE_SCALAR);
	ck_assert_str_eq(cc_node_scalar(root), "hello world");
	ck_assert_uint_eq(cc_node_count(root), 0);
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_parses_flow_and_block_styles_alike)
{
	cc_node *flow = parse_ok("{san: {dns: [a.example, b.example]}, n: 3}");
	cc_node *block = parse_ok("san:\n  dns:\n    - a.example\n    - b.example\nn: 3\n");

	assert_same_values(flow, block);
	cc_node_free(flow);
	cc_node_free(block);
}
END_TEST

START_TEST(test_node_parses_block_scalars)
{
	cc_node *root = parse_ok("notes: |\n  line one\n  line two\nfolded: >\n  a\n  b\n");

	ck_assert_str_eq(cc_node_scalar(cc_node_get(root, "notes")), "line one\nline two\n");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(root, "folded")), "a b\n");
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_keeps_line_and_column_of_values)
{
	cc_node *root = parse_ok("# comment\nsubject:\n  cn: www.example.com\nlist:\n  - a\n  - b\n");
	const cc_node *subject = cc_node_get(root, "subject");
	const cc_node *cn = cc_node_get(subject, "cn");
	const cc_node *list = cc_node_get(root, "list");

	ck_assert_uint_eq(cc_node_line(cn), 3);
	ck_assert_uint_eq(cc_node_column(cn), 7);
	ck_assert_uint_eq(cc_node_line(subject), 3);
	ck_assert_uint_eq(cc_node_column(subject), 3);
	ck_assert_uint_eq(cc_node_line(cc_node_at(list, 1)), 6);
	ck_assert_uint_eq(cc_node_column(cc_node_at(list, 1)), 5);
	ck_assert_str_eq(cc_node_file(cn), "t.yaml");
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_syntax_error_gives_file_line_column)
{
	const char *msg = parse_fails("a: [1,");

	ck_assert_msg(matches(msg, "^t\\.yaml:[0-9]+:[0-9]+: "), "message '%s'", msg);
	/* the flow sequence is unterminated at the end of input: line 1 or 2 */
	ck_assert_msg(matches(msg, "^t\\.yaml:(1:[0-9]+|2:1): "), "message '%s'", msg);
}
END_TEST

START_TEST(test_node_syntax_error_on_later_line_names_that_line)
{
	const char *msg = parse_fails("a: 1\nb: 2\nc: [\n");

	ck_assert_msg(matches(msg, "^t\\.yaml:[34]:[0-9]+: "), "message '%s'", msg);
}
END_TEST

START_TEST(test_node_uses_placeholder_without_filename)
{
	cc_node *node = NULL;

	ck_assert_int_eq(cc_node_parse(&node, "a: [", 4, NULL), CC_EINVALID);
	ck_assert_msg(matches(cc_error_last(), ":[0-9]+:[0-9]+: "), "message '%s'",
		      cc_error_last());
}
END_TEST

START_TEST(test_node_rejects_duplicate_key)
{
	const char *msg = parse_fails("a: 1\nb: 2\na: 3\n");

	ck_assert_ptr_nonnull(strstr(msg, "duplicate key"));
	ck_assert_msg(matches(msg, "^t\\.yaml:3:1: "), "message '%s'", msg);
	ck_assert_ptr_nonnull(strstr(msg, "'a'"));
}
END_TEST

START_TEST(test_node_rejects_duplicate_key_in_nested_mapping)
{
	const char *msg = parse_fails("subject:\n  cn: a\n  cn: b\n");

	ck_assert_ptr_nonnull(strstr(msg, "duplicate key"));
	ck_assert_msg(matches(msg, "^t\\.yaml:3:3: "), "message '%s'", msg);
}
END_TEST

START_TEST(test_node_allows_same_key_in_sibling_mappings)
{
	cc_node *root = parse_ok("- name: a\n- name: b\n");

	ck_assert_str_eq(cc_node_scalar(cc_node_get(cc_node_at(root, 1), "name")), "b");
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_rejects_anchors_and_aliases)
{
	const char *msg = parse_fails("a: &x 1\nb: *x\n");

	ck_assert_msg(matches(msg, "^t\\.yaml:1:[0-9]+: "), "message '%s'", msg);
	ck_assert_msg(fx_contains_ci(msg, "anchor") || fx_contains_ci(msg, "alias"),
		      "message '%s'", msg);
}
END_TEST

START_TEST(test_node_rejects_anchor_on_collection)
{
	parse_fails("base: &b {x: 1}\n");
	parse_fails("list: &l [1]\n");
}
END_TEST

START_TEST(test_node_rejects_anchor_on_key)
{
	parse_fails("&k a: 1\n");
}
END_TEST

START_TEST(test_node_rejects_alias_as_key)
{
	parse_fails("a: &k x\n*k : 1\n");
}
END_TEST

START_TEST(test_node_rejects_tags)
{
	parse_fails("a: !!str 1\n");
	parse_fails("a: !custom x\n");
}
END_TEST

START_TEST(test_node_rejects_tag_on_collection)
{
	parse_fails("a: !custom [1, 2]\n");
	parse_fails("a: !!map {b: 1}\n");
}
END_TEST

START_TEST(test_node_rejects_non_scalar_keys)
{
	parse_fails("? [a, b]\n: 1\n");
	parse_fails("{[a]: 1}\n");
}
END_TEST

START_TEST(test_node_rejects_several_documents)
{
	parse_fails("a: 1\n---\nb: 2\n");
}
END_TEST

START_TEST(test_node_rejects_very_deep_nesting)
{
	size_t depth = 5000;
	char *text = malloc(2 * depth + 1);
	cc_node *node = NULL;

	ck_assert_ptr_nonnull(text);
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	text[2 * depth] = '\0';
	ck_assert_int_eq(cc_node_parse(&node, text, 2 * depth, "deep.yaml"), CC_EINVALID);
	ck_assert_ptr_null(node);
	free(text);
}
END_TEST

START_TEST(test_node_empty_document_is_empty_mapping)
{
	cc_node *root = parse_ok("");

	ck_assert_int_eq(cc_node_kind(root), CC_NODE_MAPPING);
	ck_assert_uint_eq(cc_node_count(root), 0);
	cc_node_free(root);
	root = parse_ok("# only a comment\n\n");
	ck_assert_int_eq(cc_node_kind(root), CC_NODE_MAPPING);
	ck_assert_uint_eq(cc_node_count(root), 0);
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_explicit_empty_document_is_empty_mapping)
{
	cc_node *root = parse_ok("---\n");

	ck_assert_int_eq(cc_node_kind(root), CC_NODE_MAPPING);
	ck_assert_uint_eq(cc_node_count(root), 0);
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_respects_length_argument)
{
	cc_node *node = NULL;
	const char *text = "a: 1\nb: [";

	/* only "a: 1\n" is given: the broken tail is never read */
	ck_assert_int_eq(cc_node_parse(&node, text, 5, "t.yaml"), 0);
	ck_assert_uint_eq(cc_node_count(node), 1);
	cc_node_free(node);
}
END_TEST

START_TEST(test_node_dup_is_deep_and_keeps_positions)
{
	cc_node *root = parse_ok("a:\n  - x\n  - {k: v}\nb: c\n");
	cc_node *copy = cc_node_dup(root);
	cc_node *again;

	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_ne(copy, root);
	assert_same_tree(root, copy);
	again = cc_node_dup(cc_node_get(root, "a"));
	cc_node_free(root);
	/* the copies live on after the original is gone */
	ck_assert_str_eq(cc_node_scalar(cc_node_get(cc_node_at(cc_node_get(copy, "a"), 1), "k")),
			 "v");
	ck_assert_int_eq(cc_node_kind(again), CC_NODE_SEQUENCE);
	ck_assert_uint_eq(cc_node_line(again), 2);
	ck_assert_str_eq(cc_node_scalar(cc_node_at(again, 0)), "x");
	cc_node_free(copy);
	cc_node_free(again);
}
END_TEST

START_TEST(test_node_dup_of_null_is_null)
{
	ck_assert_ptr_null(cc_node_dup(NULL));
	cc_node_free(NULL);
}
END_TEST

START_TEST(test_node_error_formats_location_and_returns_code)
{
	cc_node *root = parse_ok("a: 1\nport: 70000\n");
	int rc = cc_node_error(cc_node_get(root, "port"), CC_EINVALID, "port %s is too large",
			       "70000");

	ck_assert_int_eq(rc, CC_EINVALID);
	ck_assert_int_eq(cc_error_code(), CC_EINVALID);
	ck_assert_str_eq(cc_error_last(), "t.yaml:2:7: port 70000 is too large");
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_load_reads_file_and_uses_display_name)
{
	char path[PATH_MAX];
	cc_node *root = NULL;

	fx_path(path, sizeof(path), "c.yaml");
	fx_write_file(path, "x: [\n");
	ck_assert_int_eq(cc_node_load(&root, path, "shown.yaml"), CC_EINVALID);
	ck_assert_msg(matches(cc_error_last(), "^shown\\.yaml:[0-9]+:[0-9]+: "), "message '%s'",
		      cc_error_last());
	fx_write_file(path, "x: 1\n");
	ck_assert_int_eq(cc_node_load(&root, path, "shown.yaml"), 0);
	ck_assert_str_eq(cc_node_file(root), "shown.yaml");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(root, "x")), "1");
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_load_missing_file_is_not_found)
{
	char path[PATH_MAX];
	cc_node *root = NULL;

	fx_path(path, sizeof(path), "missing.yaml");
	ck_assert_int_eq(cc_node_load(&root, path, NULL), CC_ENOTFOUND);
	ck_assert_ptr_null(root);
}
END_TEST

/* scalar helpers (internal.h) */

START_TEST(test_node_bool_reads_true_and_false)
{
	cc_node *root = parse_ok("a: true\nb: false\nc: yes\nd: off\ne: maybe\nf: [1]\n");
	int v = -1;

	ck_assert_int_eq(cc_node_bool(cc_node_get(root, "a"), &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(cc_node_bool(cc_node_get(root, "b"), &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(cc_node_bool(cc_node_get(root, "c"), &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(cc_node_bool(cc_node_get(root, "d"), &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(cc_node_bool(cc_node_get(root, "e"), &v), CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "t.yaml:5:4"));
	ck_assert_int_eq(cc_node_bool(cc_node_get(root, "f"), &v), CC_EINVALID);
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_uint_checks_range_and_syntax)
{
	cc_node *root = parse_ok("ok: 443\nmax: 65535\nbig: 70000\nneg: -1\ntext: 44x\nempty: \"\"\n");
	unsigned long v = 0;

	ck_assert_int_eq(cc_node_uint(cc_node_get(root, "ok"), 65535, &v), 0);
	ck_assert_uint_eq(v, 443);
	ck_assert_int_eq(cc_node_uint(cc_node_get(root, "max"), 65535, &v), 0);
	ck_assert_uint_eq(v, 65535);
	ck_assert_int_eq(cc_node_uint(cc_node_get(root, "big"), 65535, &v), CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "70000"));
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "t.yaml:3:"));
	ck_assert_int_eq(cc_node_uint(cc_node_get(root, "neg"), 65535, &v), CC_EINVALID);
	ck_assert_int_eq(cc_node_uint(cc_node_get(root, "text"), 65535, &v), CC_EINVALID);
	ck_assert_int_eq(cc_node_uint(cc_node_get(root, "empty"), 65535, &v), CC_EINVALID);
	cc_node_free(root);
}
END_TEST

START_TEST(test_node_duration_and_string_helpers)
{
	cc_node *root = parse_ok("v: 90d\nbad: soon\nlist: [a]\n");
	long long secs = 0;
	char *s = NULL;

	ck_assert_int_eq(cc_node_duration(cc_node_get(root, "v"), &secs), 0);
	ck_assert_int_eq(secs, 90LL * 86400);
	ck_assert_int_eq(cc_node_duration(cc_node_get(root, "bad"), &secs), CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "t.yaml:2:6"));
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "soon"));
	ck_assert_int_eq(cc_node_string(cc_node_get(root, "v"), &s), 0);
	ck_assert_str_eq(s, "90d");
	free(s);
	ck_assert_int_eq(cc_node_string(cc_node_get(root, "list"), &s), CC_EINVALID);
	ck_assert_int_eq(cc_node_expect(cc_node_get(root, "list"), CC_NODE_SEQUENCE, "list"), 0);
	ck_assert_int_eq(cc_node_expect(cc_node_get(root, "v"), CC_NODE_MAPPING, "v"),
			 CC_EINVALID);
	ck_assert_ptr_nonnull(strstr(cc_error_last(), "t.yaml:1:4"));
	cc_node_free(root);
}
END_TEST

/* writer (internal.h) */

static char *write_tree(const cc_node *node)
{
	cc_buf out = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;

	ck_assert_int_eq(cc_yaml_writer_new(&w, &out), 0);
	ck_assert_int_eq(cc_yaml_node(w, node), 0);
	ck_assert_int_eq(cc_yaml_writer_finish(w), 0);
	cc_yaml_writer_free(w);
	return cc_buf_detach(&out);
}

START_TEST(test_yaml_writer_output_parses_back_to_same_tree)
{
	cc_node *root = parse_ok(
		"name: web\nempty: \"\"\nflag: \"true\"\nnull_word: \"null\"\n"
		"colon: \"a: b\"\nhash: \"x # y\"\nlead: \" space\"\nstar: \"*x\"\n"
		"multi: |\n  one\n  two\nlist: [a, \"b c\", \"- d\"]\nnested: {k: [1, {z: \"'\"}]}\n"
		"quote: \"say \\\"hi\\\"\"\nunicode: \"caf\xc3\xa9\"\n");
	char *text = write_tree(root);
	cc_node *back = parse_ok(text);

	assert_same_values(root, back);
	cc_node_free(root);
	cc_node_free(back);
	free(text);
}
END_TEST

START_TEST(test_yaml_writer_quotes_words_other_readers_take_for_non_strings)
{
	cc_buf out = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	cc_node *back;

	ck_assert_int_eq(cc_yaml_writer_new(&w, &out), 0);
	ck_assert_int_eq(cc_yaml_map_start(w), 0);
	ck_assert_int_eq(cc_yaml_key(w, "a"), 0);
	ck_assert_int_eq(cc_yaml_scalar(w, "true"), 0);
	ck_assert_int_eq(cc_yaml_key(w, "b"), 0);
	ck_assert_int_eq(cc_yaml_scalar(w, "~"), 0);
	ck_assert_int_eq(cc_yaml_key(w, "c"), 0);
	ck_assert_int_eq(cc_yaml_scalar(w, ""), 0);
	ck_assert_int_eq(cc_yaml_key(w, "d"), 0);
	ck_assert_int_eq(cc_yaml_scalar(w, "No"), 0);
	ck_assert_int_eq(cc_yaml_map_end(w), 0);
	ck_assert_int_eq(cc_yaml_writer_finish(w), 0);
	cc_yaml_writer_free(w);
	ck_assert_msg(!matches(cc_buf_cstr(&out), "a: true"), "%s", cc_buf_cstr(&out));
	ck_assert_msg(!matches(cc_buf_cstr(&out), "b: ~"), "%s", cc_buf_cstr(&out));
	ck_assert_msg(!matches(cc_buf_cstr(&out), "d: No"), "%s", cc_buf_cstr(&out));
	back = parse_ok(cc_buf_cstr(&out));
	ck_assert_str_eq(cc_node_scalar(cc_node_get(back, "a")), "true");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(back, "b")), "~");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(back, "c")), "");
	ck_assert_str_eq(cc_node_scalar(cc_node_get(back, "d")), "No");
	cc_node_free(back);
	cc_buf_dispose(&out);
}
END_TEST

START_TEST(test_yaml_writer_block_keeps_multiline_text)
{
	cc_buf out = CC_BUF_INIT;
	cc_yaml_writer *w = NULL;
	cc_node *back;

	ck_assert_int_eq(cc_yaml_writer_new(&w, &out), 0);
	ck_assert_int_eq(cc_yaml_map_start(w), 0);
	ck_assert_int_eq(cc_yaml_key(w, "notes"), 0);
	ck_assert_int_eq(cc_yaml_block(w, "first line\nsecond: line\n"), 0);
	ck_assert_int_eq(cc_yaml_key(w, "flow"), 0);
	ck_assert_int_eq(cc_yaml_seq_start(w, 1), 0);
	ck_assert_int_eq(cc_yaml_scalar(w, "a"), 0);
	ck_assert_int_eq(cc_yaml_seq_end(w), 0);
	ck_assert_int_eq(cc_yaml_map_end(w), 0);
	ck_assert_int_eq(cc_yaml_writer_finish(w), 0);
	cc_yaml_writer_free(w);
	ck_assert_msg(strstr(cc_buf_cstr(&out), "notes: |") != NULL, "%s", cc_buf_cstr(&out));
	ck_assert_msg(strstr(cc_buf_cstr(&out), "[a]") != NULL, "%s", cc_buf_cstr(&out));
	back = parse_ok(cc_buf_cstr(&out));
	ck_assert_str_eq(cc_node_scalar(cc_node_get(back, "notes")), "first line\nsecond: line\n");
	cc_node_free(back);
	cc_buf_dispose(&out);
}
END_TEST

Suite *node_suite(void)
{
	Suite *s = suite_create("node");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, fx_env_setup, fx_env_teardown);
	tcase_add_test(tc, test_node_parses_mapping_in_order);
	tcase_add_test(tc, test_node_parses_sequence);
	tcase_add_test(tc, test_node_parses_scalar_document);
	tcase_add_test(tc, test_node_parses_flow_and_block_styles_alike);
	tcase_add_test(tc, test_node_parses_block_scalars);
	tcase_add_test(tc, test_node_keeps_line_and_column_of_values);
	tcase_add_test(tc, test_node_syntax_error_gives_file_line_column);
	tcase_add_test(tc, test_node_syntax_error_on_later_line_names_that_line);
	tcase_add_test(tc, test_node_uses_placeholder_without_filename);
	tcase_add_test(tc, test_node_rejects_duplicate_key);
	tcase_add_test(tc, test_node_rejects_duplicate_key_in_nested_mapping);
	tcase_add_test(tc, test_node_allows_same_key_in_sibling_mappings);
	tcase_add_test(tc, test_node_rejects_anchors_and_aliases);
	tcase_add_test(tc, test_node_rejects_anchor_on_collection);
	tcase_add_test(tc, test_node_rejects_anchor_on_key);
	tcase_add_test(tc, test_node_rejects_alias_as_key);
	tcase_add_test(tc, test_node_rejects_tags);
	tcase_add_test(tc, test_node_rejects_tag_on_collection);
	tcase_add_test(tc, test_node_rejects_non_scalar_keys);
	tcase_add_test(tc, test_node_rejects_several_documents);
	tcase_add_test(tc, test_node_rejects_very_deep_nesting);
	tcase_add_test(tc, test_node_empty_document_is_empty_mapping);
	tcase_add_test(tc, test_node_explicit_empty_document_is_empty_mapping);
	tcase_add_test(tc, test_node_respects_length_argument);
	tcase_add_test(tc, test_node_dup_is_deep_and_keeps_positions);
	tcase_add_test(tc, test_node_dup_of_null_is_null);
	tcase_add_test(tc, test_node_error_formats_location_and_returns_code);
	tcase_add_test(tc, test_node_load_reads_file_and_uses_display_name);
	tcase_add_test(tc, test_node_load_missing_file_is_not_found);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_node_bool_reads_true_and_false);
	tcase_add_test(tc, test_node_uint_checks_range_and_syntax);
	tcase_add_test(tc, test_node_duration_and_string_helpers);
	tcase_add_test(tc, test_yaml_writer_output_parses_back_to_same_tree);
	tcase_add_test(tc, test_yaml_writer_quotes_words_other_readers_take_for_non_strings);
	tcase_add_test(tc, test_yaml_writer_block_keeps_multiline_text);
	suite_add_tcase(s, tc);
	return s;
}
