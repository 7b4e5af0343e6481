/*
 * JSON output for --json: a small builder over the library's JSON parser,
 * so commands print records without knowing how JSON is encoded.  Every
 * document certctl prints carries "schema": "certctl.<kind>/<version>".
 */
#ifndef CERTCTL_JSON_H
#define CERTCTL_JSON_H

#include "common.h"
#include "buf.h"

typedef struct cc_json cc_json;

/* New empty object / array; NULL when out of memory. */
cc_json *cc_json_object(void);
cc_json *cc_json_array(void);
cc_json *cc_json_null(void);

/* Setters on objects.  A NULL string value is written as null. */
int cc_json_set_str(cc_json *obj, const char *key, const char *value);
int cc_json_set_int(cc_json *obj, const char *key, long long value);
int cc_json_set_bool(cc_json *obj, const char *key, int value);
/* Set `key` to `value`, taking ownership of `value` (freed on failure). */
int cc_json_set(cc_json *obj, const char *key, cc_json *value);

/* Append to arrays, taking ownership of `value`. */
int cc_json_append(cc_json *arr, cc_json *value);
int cc_json_append_str(cc_json *arr, const char *value);

/* Serialize, members in the order they were set, indented by two spaces
 * when `pretty` (else on one line), with a trailing newline; the schemas of
 * the documents are in certctl-json(7). */
int cc_json_dump(const cc_json *json, int pretty, cc_buf *out);

void cc_json_free(cc_json *json);

#endif
