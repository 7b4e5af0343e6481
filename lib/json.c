/*
 * This module implements the JSON builder of json.h on jansson.
 */
#include <jansson.h>
#include "internal.h"

/* cc_json is jansson's json_t; the cast keeps jansson out of the public API. */
#define J(x) ((json_t *)(x))

cc_json *cc_json_object(void)
{
	return (cc_json *)json_object();
}

cc_json *cc_json_array(void)
{
	return (cc_json *)json_array();
}

static int oom(void)
{
	return cc_error_set(CC_ERROR, "out of memory");
}

cc_json *cc_json_null(void)
{
	return (cc_json *)json_null();
}

int cc_json_set(cc_json *obj, const char *key, cc_json *value)
{
	if (!obj || !value) {
		json_decref(J(value));
		return oom();
	}
	return json_object_set_new(J(obj), key, J(value)) == 0 ? 0 : oom();
}

int cc_json_set_str(cc_json *obj, const char *key, const char *value)
{
	return cc_json_set(obj, key, (cc_json *)(value ? json_string(value) : json_null()));
}

int cc_json_set_int(cc_json *obj, const char *key, long long value)
{
	return cc_json_set(obj, key, (cc_json *)json_integer((json_int_t)value));
}

int cc_json_set_bool(cc_json *obj, const char *key, int value)
{
	return cc_json_set(obj, key, (cc_json *)json_boolean(value));
}

int cc_json_append(cc_json *arr, cc_json *value)
{
	if (!arr || !value) {
		json_decref(J(value));
		return oom();
	}
	return json_array_append_new(J(arr), J(value)) == 0 ? 0 : oom();
}

int cc_json_append_str(cc_json *arr, const char *value)
{
	return cc_json_append(arr, (cc_json *)json_string(value));
}

int cc_json_dump(const cc_json *json, int pretty, cc_buf *out)
{
	size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	char *text = json_dumps(J(json), flags);
	int rc;

	if (!text)
		return cc_error_set(CC_ERROR, "cannot encode JSON (invalid UTF-8?)");
	rc = cc_buf_puts(out, text);
	if (rc == 0)
		rc = cc_buf_putc(out, '\n');
	free(text);
	return rc;
}

void cc_json_free(cc_json *json)
{
	json_decref(J(json));
}
