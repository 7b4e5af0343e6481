/*
 * A read-only tree of YAML values (scalars, sequences, mappings) that
 * remembers where each value came from, for FILE:LINE:COLUMN messages.
 */
#ifndef CERTCTL_NODE_H
#define CERTCTL_NODE_H

#include "common.h"
#include "buf.h"

typedef struct cc_node cc_node;

typedef enum {
	CC_NODE_SCALAR,
	CC_NODE_SEQUENCE,
	CC_NODE_MAPPING,
} cc_node_type;

/*
 * Parse YAML text into a tree.  `filename` is used in messages only.
 * An empty document gives an empty mapping.  CC_EINVALID with
 * "FILE:LINE:COLUMN: message" on a syntax error, anchors/aliases, tags,
 * duplicate keys or non-scalar keys.
 */
int cc_node_parse(cc_node **out, const char *text, size_t len, const char *filename);

/* Read and parse a file.  CC_ENOTFOUND, CC_EIO, CC_EINVALID. */
int cc_node_load(cc_node **out, const char *path, const char *display_name);

void cc_node_free(cc_node *node);

cc_node_type cc_node_kind(const cc_node *node);
/* Scalar text, or NULL for a non-scalar; borrowed. */
const char *cc_node_scalar(const cc_node *node);
/* Items of a sequence, entries of a mapping. */
size_t cc_node_count(const cc_node *node);
const cc_node *cc_node_at(const cc_node *node, size_t index);
/* The key of mapping entry `index`; borrowed. */
const char *cc_node_key_at(const cc_node *node, size_t index);
/* The value for `key` in a mapping, NULL when absent. */
const cc_node *cc_node_get(const cc_node *node, const char *key);
/* Where the value starts: 1-based line and column; file name as given. */
unsigned cc_node_line(const cc_node *node);
unsigned cc_node_column(const cc_node *node);
const char *cc_node_file(const cc_node *node);

/* A deep copy; NULL for NULL. */
cc_node *cc_node_dup(const cc_node *node);

/*
 * Set an error "FILE:LINE:COLUMN: <message>" located at `node` and return
 * `code`.
 */
int cc_node_error(const cc_node *node, int code, const char *fmt, ...) CC_PRINTF(3, 4);

#endif
