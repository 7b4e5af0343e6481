/*
 * CSRs as operators hand them in (acquire, inspect): the readable
 * description, the public key fingerprint and the DER form of a PEM CSR.
 */
#include <string.h>
#include "certctl.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_buf pem = CC_BUF_INIT, text = CC_BUF_INIT, der = CC_BUF_INIT;
	char fp[65];

	if (cc_buf_put(&pem, data, size) < 0)
		return 0;
	cc_csr_describe(&pem, &text);
	if (cc_csr_key_fingerprint(&pem, fp) == 0 && strlen(fp) != 64)
		FUZZ_FAIL("a key fingerprint of %zu characters", strlen(fp));
	cc_csr_to_der(&pem, &der);
	cc_error_clear();
	cc_buf_dispose(&pem);
	cc_buf_dispose(&text);
	cc_buf_dispose(&der);
	return 0;
}
