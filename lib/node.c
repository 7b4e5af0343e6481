/*
 * This module implements cc_node, the YAML tree with source positions,
 * on top of libyaml's event parser, and the YAML writer used for every file
 * certctl writes (libyaml's emitter, so quoting is always right).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "internal.h"

struct cc_node {
	cc_node_type type;
	char *scalar;
	char **keys;        /* mapping keys */
	cc_node **items;    /* sequence items or mapping values */
	size_t count, alloc;
	unsigned line, column;
	unsigned key_line, key_column; /* where this value's key is, in a mapping */
	char *file;
};

/* Documents larger than this are not definitions or configuration. */
#define NODE_MAX_DEPTH 64

static cc_node *node_alloc(cc_node_type type, const yaml_mark_t *mark, const char *file)
{
	cc_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->line = mark ? (unsigned)mark->line + 1 : 0;
	n->column = mark ? (unsigned)mark->column + 1 : 0;
	n->file = strdup(file ? file : "<input>");
	if (!n->file) {
		free(n);
		return NULL;
	}
	return n;
}

void cc_node_free(cc_node *node)
{
	if (!node)
		return;
	for (size_t i = 0; i < node->count; i++) {
		cc_node_free(node->items[i]);
		if (node->keys)
			free(node->keys[i]);
	}
	free(node->items);
	free(node->keys);
	free(node->scalar);
	free(node->file);
	free(node);
}

static int node_append(cc_node *parent, char *key, cc_node *child)
{
	if (parent->count == parent->alloc) {
		size_t alloc = parent->alloc ? parent->alloc * 2 : 4;
		cc_node **items = realloc(parent->items, alloc * sizeof(*items));

		if (!items)
			return -1;
		parent->items = items;
		if (parent->type == CC_NODE_MAPPING) {
			char **keys = realloc(parent->keys, alloc * sizeof(*keys));

			if (!keys)
				return -1;
			parent->keys = keys;
		}
		parent->alloc = alloc;
	}
	if (parent->type == CC_NODE_MAPPING)
		parent->keys[parent->count] = key;
	parent->items[parent->count++] = child;
	return 0;
}

/* "FILE:LINE:COLUMN: message" at (line, column) of `node`'s file. */
static int located_error(const cc_node *node, unsigned line, unsigned column, int code,
			 const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!node)
		return cc_error_set(code, "%s", msg);
	return cc_error_set(code, "%s:%u:%u: %s", node->file, line, column, msg);
}

int cc_node_key_error(const cc_node *value, int code, const char *fmt, ...)
{
	int has_key = value && value->key_line;
	va_list ap;

	va_start(ap, fmt);
	located_error(value, has_key ? value->key_line : value ? value->line : 0,
		      has_key ? value->key_column : value ? value->column : 0, code, fmt, ap);
	va_end(ap);
	return code;
}

int cc_node_error(const cc_node *node, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	located_error(node, node ? node->line : 0, node ? node->column : 0, code, fmt, ap);
	va_end(ap);
	return code;
}

static int event_error(const char *file, const yaml_mark_t *mark, const char *what)
{
	return cc_error_set(CC_EINVALID, "%s:%zu:%zu: %s", file, mark->line + 1,
			    mark->column + 1, what);
}

/*
 * Recursive descent over the event stream; `ev` holds the event that starts
 * the value to read.
 */
static int parse_value(yaml_parser_t *parser, yaml_event_t *ev, const char *file, int depth,
		       cc_node **out)
{
	cc_node *node = NULL;
	yaml_event_t next;
	int rc = 0;

	*out = NULL;
	if (depth > NODE_MAX_DEPTH)
		return event_error(file, &ev->start_mark, "nesting too deep");

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return event_error(file, &ev->start_mark, "aliases are not supported");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return event_error(file, &ev->start_mark, "anchors are not supported");
		if (ev->data.scalar.tag && ev->data.scalar.plain_implicit == 0 &&
		    ev->data.scalar.quoted_implicit == 0)
			return event_error(file, &ev->start_mark, "tags are not supported");
		node = node_alloc(CC_NODE_SCALAR, &ev->start_mark, file);
		if (!node)
			return cc_error_set(CC_ERROR, "out of memory");
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
			cc_node_free(node);
			return event_error(file, &ev->start_mark, "NUL character in value");
		}
		node->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		/* "~" and "null" written plain mean no value. */
		if (node->scalar && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (strcmp(node->scalar, "~") == 0 || strcmp(node->scalar, "null") == 0)) {
			node->scalar[0] = '\0';
		}
		if (!node->scalar) {
			cc_node_free(node);
			return cc_error_set(CC_ERROR, "out of memory");
		}
		*out = node;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int is_map = ev->type == YAML_MAPPING_START_EVENT;
		yaml_event_type_t end_type = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

		if ((is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor))
			return event_error(file, &ev->start_mark, "anchors are not supported");
		if ((is_map ? !ev->data.mapping_start.implicit : !ev->data.sequence_start.implicit) ||
		    (is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag))
			return event_error(file, &ev->start_mark, "tags are not supported");
		node = node_alloc(is_map ? CC_NODE_MAPPING : CC_NODE_SEQUENCE, &ev->start_mark, file);
		if (!node)
			return cc_error_set(CC_ERROR, "out of memory");
		for (;;) {
			char *key = NULL;
			cc_node *child = NULL;
			yaml_mark_t key_mark = { 0, 0, 0 };

			if (!yaml_parser_parse(parser, &next)) {
				rc = cc_error_set(CC_EINVALID, "%s:%zu:%zu: %s", file,
						  parser->problem_mark.line + 1,
						  parser->problem_mark.column + 1,
						  parser->problem ? parser->problem : "syntax error");
				break;
			}
			if (next.type == end_type) {
				yaml_event_delete(&next);
				break;
			}
			if (is_map) {
				if (next.type != YAML_SCALAR_EVENT) {
					rc = event_error(file, &next.start_mark,
							 "mapping keys must be plain strings");
					yaml_event_delete(&next);
					break;
				}
				if (next.data.scalar.anchor ||
				    (next.data.scalar.tag && !next.data.scalar.plain_implicit &&
				     !next.data.scalar.quoted_implicit)) {
					rc = event_error(file, &next.start_mark,
							 "anchors and tags are not supported");
					yaml_event_delete(&next);
					break;
				}
				key_mark = next.start_mark;
				key = strndup((const char *)next.data.scalar.value,
					      next.data.scalar.length);
				if (!key) {
					yaml_event_delete(&next);
					rc = cc_error_set(CC_ERROR, "out of memory");
					break;
				}
				if (cc_node_get(node, key)) {
					rc = event_error(file, &next.start_mark, "duplicate key");
					cc_error_set(CC_EINVALID, "%s '%s'", cc_error_last(), key);
					free(key);
					yaml_event_delete(&next);
					break;
				}
				yaml_event_delete(&next);
				if (!yaml_parser_parse(parser, &next)) {
					free(key);
					rc = cc_error_set(CC_EINVALID, "%s:%zu:%zu: %s", file,
							  parser->problem_mark.line + 1,
							  parser->problem_mark.column + 1,
							  parser->problem ? parser->problem
									  : "syntax error");
					break;
				}
			}
			rc = parse_value(parser, &next, file, depth + 1, &child);
			yaml_event_delete(&next);
			if (rc == 0 && is_map) {
				child->key_line = (unsigned)key_mark.line + 1;
				child->key_column = (unsigned)key_mark.column + 1;
			}
			if (rc == 0 && node_append(node, key, child) < 0) {
				cc_node_free(child);
				rc = cc_error_set(CC_ERROR, "out of memory");
			}
			if (rc < 0) {
				free(key);
				break;
			}
		}
		if (rc < 0) {
			cc_node_free(node);
			return rc;
		}
		*out = node;
		return 0;
	}
	default:
		return event_error(file, &ev->start_mark, "unexpected YAML event");
	}
}

int cc_node_parse(cc_node **out, const char *text, size_t len, const char *filename)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	cc_node *root = NULL;
	const char *file = filename ? filename : "<input>";
	int rc = 0, done = 0;

	*out = NULL;
	if (!yaml_parser_initialize(&parser))
		return cc_error_set(CC_ERROR, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = cc_error_set(CC_EINVALID, "%s:%zu:%zu: %s%s%s", file,
					  parser.problem_mark.line + 1,
					  parser.problem_mark.column + 1,
					  parser.problem ? parser.problem : "syntax error",
					  parser.context ? " " : "",
					  parser.context ? parser.context : "");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root) {
				rc = event_error(file, &ev.start_mark,
						 "only one YAML document is allowed");
				done = 1;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			rc = parse_value(&parser, &ev, file, 0, &root);
			if (rc < 0)
				done = 1;
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	/* "---" alone is an empty document, like no text at all. */
	if (rc == 0 && root && root->type == CC_NODE_SCALAR && !root->scalar[0]) {
		cc_node_free(root);
		root = NULL;
	}
	if (rc == 0 && !root) {
		yaml_mark_t start = { 0, 0, 0 };

		root = node_alloc(CC_NODE_MAPPING, &start, file);
		if (!root)
			rc = cc_error_set(CC_ERROR, "out of memory");
	}
	if (rc < 0) {
		cc_node_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

int cc_node_load(cc_node **out, const char *path, const char *display_name)
{
	cc_buf buf = CC_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = cc_fs_read(&buf, path, 4 * 1024 * 1024)) == 0)
		rc = cc_node_parse(out, cc_buf_cstr(&buf), buf.size,
				   display_name ? display_name : path);
	cc_buf_dispose(&buf);
	return rc;
}

cc_node_type cc_node_kind(const cc_node *node)
{
	return node->type;
}

const char *cc_node_scalar(const cc_node *node)
{
	return node && node->type == CC_NODE_SCALAR ? node->scalar : NULL;
}

size_t cc_node_count(const cc_node *node)
{
	return node && node->type != CC_NODE_SCALAR ? node->count : 0;
}

const cc_node *cc_node_at(const cc_node *node, size_t index)
{
	return node && index < node->count ? node->items[index] : NULL;
}

const char *cc_node_key_at(const cc_node *node, size_t index)
{
	return node && node->type == CC_NODE_MAPPING && index < node->count ? node->keys[index]
									     : NULL;
}

const cc_node *cc_node_get(const cc_node *node, const char *key)
{
	if (!node || node->type != CC_NODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < node->count; i++)
		if (strcmp(node->keys[i], key) == 0)
			return node->items[i];
	return NULL;
}

unsigned cc_node_line(const cc_node *node)
{
	return node->line;
}

unsigned cc_node_column(const cc_node *node)
{
	return node->column;
}

const char *cc_node_file(const cc_node *node)
{
	return node->file;
}

cc_node *cc_node_dup(const cc_node *node)
{
	yaml_mark_t mark;
	cc_node *copy;

	if (!node)
		return NULL;
	mark.line = node->line ? node->line - 1 : 0;
	mark.column = node->column ? node->column - 1 : 0;
	mark.index = 0;
	copy = node_alloc(node->type, &mark, node->file);
	if (!copy)
		return NULL;
	copy->key_line = node->key_line;
	copy->key_column = node->key_column;
	if (node->scalar && !(copy->scalar = strdup(node->scalar)))
		goto fail;
	for (size_t i = 0; i < node->count; i++) {
		cc_node *child = cc_node_dup(node->items[i]);
		char *key = NULL;

		if (!child)
			goto fail;
		if (node->keys && !(key = strdup(node->keys[i]))) {
			cc_node_free(child);
			goto fail;
		}
		if (node_append(copy, key, child) < 0) {
			free(key);
			cc_node_free(child);
			goto fail;
		}
	}
	return copy;
fail:
	cc_node_free(copy);
	return NULL;
}

/* Schema helpers. */

int cc_node_expect(const cc_node *node, cc_node_type type, const char *what)
{
	static const char *names[] = { "a single value", "a list", "a mapping" };

	if (node->type != type)
		return cc_node_error(node, CC_EINVALID, "%s must be %s", what, names[type]);
	return 0;
}

int cc_node_string(const cc_node *node, char **out)
{
	if (node->type != CC_NODE_SCALAR)
		return cc_node_error(node, CC_EINVALID, "expected a single value");
	*out = strdup(node->scalar);
	return *out ? 0 : cc_error_set(CC_ERROR, "out of memory");
}

int cc_node_bool(const cc_node *node, int *out)
{
	static const char *yes[] = { "true", "yes", "on", "True", "Yes", "On", "TRUE" };
	static const char *no[] = { "false", "no", "off", "False", "No", "Off", "FALSE" };

	if (node->type == CC_NODE_SCALAR) {
		for (size_t i = 0; i < CC_ARRAY_SIZE(yes); i++) {
			if (strcmp(node->scalar, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcmp(node->scalar, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	}
	return cc_node_error(node, CC_EINVALID, "expected true or false");
}

int cc_node_uint(const cc_node *node, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (node->type != CC_NODE_SCALAR || !node->scalar[0] || node->scalar[0] == '-' ||
	    node->scalar[0] == '+')
		return cc_node_error(node, CC_EINVALID, "expected a number");
	errno = 0;
	v = strtoul(node->scalar, &end, 10);
	if (errno || *end)
		return cc_node_error(node, CC_EINVALID, "expected a number, not '%s'", node->scalar);
	if (v > max)
		return cc_node_error(node, CC_EINVALID, "%lu is too large (%lu at most)", v, max);
	*out = v;
	return 0;
}

int cc_node_duration(const cc_node *node, long long *out)
{
	if (node->type != CC_NODE_SCALAR)
		return cc_node_error(node, CC_EINVALID, "expected a duration such as 90d");
	if (cc_duration_parse(out, node->scalar) < 0)
		return cc_node_error(node, CC_EINVALID, "%s", cc_error_last());
	return 0;
}

/* The writer. */

struct cc_yaml_writer {
	yaml_emitter_t emitter;
	cc_buf *dest;
	int failed;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	cc_yaml_writer *w = data;

	return cc_buf_put(w->dest, buffer, size) == 0;
}

static int emit(cc_yaml_writer *w, yaml_event_t *ev)
{
	if (w->failed)
		return CC_ERROR;
	if (!yaml_emitter_emit(&w->emitter, ev)) {
		w->failed = 1;
		return cc_error_set(CC_ERROR, "cannot write YAML: %s",
				    w->emitter.problem ? w->emitter.problem : "emitter error");
	}
	return 0;
}

int cc_yaml_writer_new(cc_yaml_writer **out, cc_buf *dest)
{
	cc_yaml_writer *w = calloc(1, sizeof(*w));
	yaml_event_t ev;

	*out = NULL;
	if (!w || !yaml_emitter_initialize(&w->emitter)) {
		free(w);
		return cc_error_set(CC_ERROR, "out of memory");
	}
	w->dest = dest;
	yaml_emitter_set_output(&w->emitter, write_handler, w);
	yaml_emitter_set_unicode(&w->emitter, 1);
	yaml_emitter_set_width(&w->emitter, 100);
	yaml_emitter_set_indent(&w->emitter, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(w, &ev) < 0)
		goto fail;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(w, &ev) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	cc_yaml_writer_free(w);
	return CC_ERROR;
}

int cc_yaml_map_start(cc_yaml_writer *w)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	return emit(w, &ev);
}

int cc_yaml_map_end(cc_yaml_writer *w)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	return emit(w, &ev);
}

int cc_yaml_seq_start(cc_yaml_writer *w, int flow)
{
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					     flow ? YAML_FLOW_SEQUENCE_STYLE
						  : YAML_BLOCK_SEQUENCE_STYLE);
	return emit(w, &ev);
}

int cc_yaml_seq_end(cc_yaml_writer *w)
{
	yaml_event_t ev;

	yaml_sequence_end_event_initialize(&ev);
	return emit(w, &ev);
}

static int scalar_styled(cc_yaml_writer *w, const char *value, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)value,
					  (int)strlen(value), 1, 1, style)) {
		w->failed = 1;
		return cc_error_set(CC_ERROR, "out of memory");
	}
	return emit(w, &ev);
}

int cc_yaml_scalar(cc_yaml_writer *w, const char *value)
{
	/* Values that a YAML reader would take for null, booleans or numbers
	 * are quoted, so other tools read them back as the strings they are. */
	static const char *special[] = { "", "~", "null", "true", "false", "yes", "no", "on", "off" };
	for (size_t i = 0; i < CC_ARRAY_SIZE(special); i++)
		if (strcasecmp(value, special[i]) == 0)
			return scalar_styled(w, value, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	return scalar_styled(w, value, YAML_ANY_SCALAR_STYLE);
}

int cc_yaml_block(cc_yaml_writer *w, const char *value)
{
	return scalar_styled(w, value, strchr(value, '\n') ? YAML_LITERAL_SCALAR_STYLE
							    : YAML_ANY_SCALAR_STYLE);
}

int cc_yaml_key(cc_yaml_writer *w, const char *key)
{
	return scalar_styled(w, key, YAML_ANY_SCALAR_STYLE);
}

int cc_yaml_node(cc_yaml_writer *w, const cc_node *node)
{
	int rc = 0;

	switch (node->type) {
	case CC_NODE_SCALAR:
		return cc_yaml_scalar(w, node->scalar);
	case CC_NODE_SEQUENCE:
		if ((rc = cc_yaml_seq_start(w, 0)) < 0)
			return rc;
		for (size_t i = 0; i < node->count && rc == 0; i++)
			rc = cc_yaml_node(w, node->items[i]);
		return rc < 0 ? rc : cc_yaml_seq_end(w);
	case CC_NODE_MAPPING:
		if ((rc = cc_yaml_map_start(w)) < 0)
			return rc;
		for (size_t i = 0; i < node->count && rc == 0; i++) {
			rc = cc_yaml_key(w, node->keys[i]);
			if (rc == 0)
				rc = cc_yaml_node(w, node->items[i]);
		}
		return rc < 0 ? rc : cc_yaml_map_end(w);
	}
	return CC_ERROR;
}

int cc_yaml_writer_finish(cc_yaml_writer *w)
{
	yaml_event_t ev;

	yaml_document_end_event_initialize(&ev, 1);
	if (emit(w, &ev) < 0)
		return CC_ERROR;
	yaml_stream_end_event_initialize(&ev);
	if (emit(w, &ev) < 0)
		return CC_ERROR;
	if (!yaml_emitter_flush(&w->emitter))
		return cc_error_set(CC_ERROR, "cannot write YAML");
	return 0;
}

void cc_yaml_writer_free(cc_yaml_writer *w)
{
	if (!w)
		return;
	yaml_emitter_delete(&w->emitter);
	free(w);
}

int cc_yaml_plain(cc_yaml_writer *w, const char *value)
{
	return scalar_styled(w, value, YAML_PLAIN_SCALAR_STYLE);
}

int cc_yaml_put(cc_yaml_writer *w, const char *key, const char *value)
{
	int rc;

	if (!value)
		return 0;
	if ((rc = cc_yaml_key(w, key)) < 0)
		return rc;
	return strchr(value, '\n') ? cc_yaml_block(w, value) : cc_yaml_scalar(w, value);
}

int cc_yaml_put_list(cc_yaml_writer *w, const char *key, const cc_strlist *list, int flow)
{
	int rc;

	if (!list->count)
		return 0;
	rc = cc_yaml_key(w, key);
	rc = rc ? rc : cc_yaml_seq_start(w, flow);
	for (size_t i = 0; i < list->count && rc == 0; i++)
		rc = cc_yaml_scalar(w, list->items[i]);
	return rc ? rc : cc_yaml_seq_end(w);
}
