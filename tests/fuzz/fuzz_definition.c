/*
 * Definition files (definitions/NAME.yaml, define --from): every field's
 * reader, the consistency check, the canonical writer and the JSON record.
 * A definition that passes cc_definition_validate is one certctl saves;
 * what cc_definition_format writes for it must read back to the same
 * definition (formatting it again gives the same text).
 */
#include <string.h>
#include "certctl.h"
#include "fuzz.h"

#define NAME "fuzz.example.com"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void round_trip(const cc_definition *def, const cc_buf *text)
{
	cc_definition *again = NULL;
	cc_buf text2 = CC_BUF_INIT;

	if (cc_definition_parse(&again, NULL, NAME, text->ptr, text->size, "formatted.yaml") < 0)
		FUZZ_FAIL("certctl cannot read the definition it wrote: %s\n---\n%s",
			  cc_error_last(), cc_buf_cstr(text));
	if (cc_definition_validate(again) < 0)
		FUZZ_FAIL("the definition certctl wrote no longer validates: %s\n---\n%s",
			  cc_error_last(), cc_buf_cstr(text));
	if (cc_definition_format(again, &text2) < 0)
		FUZZ_FAIL("cannot format the definition read back: %s", cc_error_last());
	if (text->size != text2.size || memcmp(text->ptr, text2.ptr, text->size) != 0)
		FUZZ_FAIL("definition round trip changes it:\n--- written\n%s--- read back and "
			  "written\n%s", cc_buf_cstr(text), cc_buf_cstr(&text2));
	(void)def;
	cc_buf_dispose(&text2);
	cc_definition_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_definition *def = NULL, *copy = NULL;
	cc_buf text = CC_BUF_INIT, out = CC_BUF_INIT;
	cc_json *json;
	int valid;

	if (cc_definition_parse(&def, NULL, NAME, (const char *)data, size, "fuzz.yaml") < 0) {
		if (def)
			FUZZ_FAIL("a failed parse returns a definition");
		cc_error_clear();
		return 0;
	}
	valid = cc_definition_validate(def) == 0;
	if (cc_definition_format(def, &text) == 0 && valid)
		round_trip(def, &text);
	if ((json = cc_definition_to_json(def)) != NULL) {
		cc_json_dump(json, 1, &out);
		cc_json_free(json);
	}
	if (cc_definition_clone(&copy, def, "copy.example.com") == 0)
		cc_definition_free(copy);
	if (cc_definition_default_names(def) == 0)
		(void)cc_definition_validate(def);
	cc_buf_dispose(&text);
	cc_buf_dispose(&out);
	cc_definition_free(def);
	cc_error_clear();
	return 0;
}
