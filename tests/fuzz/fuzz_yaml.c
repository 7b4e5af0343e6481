/*
 * The YAML reader every definition, request and configuration file goes
 * through (cc_node_parse), the tree's accessors and scalar helpers, and
 * the writer: a tree written with cc_yaml_node reads back as the same tree.
 */
#include <string.h>
#include "internal.h"
#include "fuzz.h"

/* Nodes visited per input (the parser allows 64 levels of nesting). */
#define WALK_MAX 100000

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void walk(const cc_node *node, unsigned depth, size_t *budget)
{
	size_t n;

	if (!node)
		FUZZ_FAIL("a NULL node in the tree");
	if (*budget == 0)
		return;
	(*budget)--;
	if (depth > 66)
		FUZZ_FAIL("nesting of %u levels got through", depth);
	if (!cc_node_file(node) || strcmp(cc_node_file(node), "fuzz.yaml") != 0)
		FUZZ_FAIL("a node without its file name");
	(void)cc_node_line(node);
	(void)cc_node_column(node);
	switch (cc_node_kind(node)) {
	case CC_NODE_SCALAR: {
		const char *s = cc_node_scalar(node);
		unsigned long u;
		long long d;
		int b;

		if (!s || cc_node_count(node) != 0)
			FUZZ_FAIL("a scalar without text, or with items");
		(void)strlen(s);
		cc_node_bool(node, &b);
		cc_node_uint(node, 65535, &u);
		cc_node_duration(node, &d);
		cc_error_clear();
		return;
	}
	case CC_NODE_SEQUENCE:
		if (cc_node_scalar(node) || cc_node_key_at(node, 0))
			FUZZ_FAIL("a sequence with text or keys");
		n = cc_node_count(node);
		for (size_t i = 0; i < n; i++)
			walk(cc_node_at(node, i), depth + 1, budget);
		if (cc_node_at(node, n))
			FUZZ_FAIL("an item past the end");
		return;
	case CC_NODE_MAPPING:
		if (cc_node_scalar(node))
			FUZZ_FAIL("a mapping with text");
		n = cc_node_count(node);
		for (size_t i = 0; i < n; i++) {
			const char *key = cc_node_key_at(node, i);

			if (!key)
				FUZZ_FAIL("a mapping entry without a key");
			/* Keys are unique: the lookup finds this very entry. */
			if (cc_node_get(node, key) != cc_node_at(node, i))
				FUZZ_FAIL("key '%s' does not find its own value", key);
			walk(cc_node_at(node, i), depth + 1, budget);
		}
		if (cc_node_at(node, n) || cc_node_key_at(node, n))
			FUZZ_FAIL("an entry past the end");
		return;
	}
	FUZZ_FAIL("a node of kind %d", (int)cc_node_kind(node));
}

/* Whether two trees hold the same values (positions aside). */
static int same_tree(const cc_node *a, const cc_node *b)
{
	size_t n;

	if (cc_node_kind(a) != cc_node_kind(b))
		return 0;
	if (cc_node_kind(a) == CC_NODE_SCALAR)
		return strcmp(cc_node_scalar(a), cc_node_scalar(b)) == 0;
	n = cc_node_count(a);
	if (n != cc_node_count(b))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (cc_node_kind(a) == CC_NODE_MAPPING &&
		    strcmp(cc_node_key_at(a, i), cc_node_key_at(b, i)) != 0)
			return 0;
		if (!same_tree(cc_node_at(a, i), cc_node_at(b, i)))
			return 0;
	}
	return 1;
}

static void write_and_read_back(const cc_node *root)
{
	cc_yaml_writer *w = NULL;
	cc_buf text = CC_BUF_INIT;
	cc_node *again = NULL;
	int rc;

	if (cc_yaml_writer_new(&w, &text) < 0)
		return;
	rc = cc_yaml_node(w, root);
	rc = rc ? rc : cc_yaml_writer_finish(w);
	cc_yaml_writer_free(w);
	if (rc == 0) {
		if (cc_node_parse(&again, text.ptr, text.size, "written.yaml") < 0)
			FUZZ_FAIL("certctl cannot read the YAML it wrote: %s\n---\n%s",
				  cc_error_last(), cc_buf_cstr(&text));
		if (!same_tree(root, again))
			FUZZ_FAIL("YAML written and read back differs:\n---\n%s", cc_buf_cstr(&text));
		cc_node_free(again);
	}
	cc_buf_dispose(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_node *root = NULL, *copy;
	size_t budget = WALK_MAX;

	if (cc_node_parse(&root, (const char *)data, size, "fuzz.yaml") < 0) {
		if (root)
			FUZZ_FAIL("a failed parse returns a tree");
		cc_error_clear();
		return 0;
	}
	walk(root, 0, &budget);
	if ((copy = cc_node_dup(root)) != NULL) {
		if (!same_tree(root, copy))
			FUZZ_FAIL("cc_node_dup changes the tree");
		cc_node_free(copy);
	}
	write_and_read_back(root);
	cc_node_free(root);
	cc_error_clear();
	return 0;
}
