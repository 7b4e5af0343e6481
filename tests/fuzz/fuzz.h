/*
 * Shared by the libFuzzer targets in tests/fuzz/: the entry points'
 * prototypes (the build uses -Wmissing-prototypes) and a way to stop on a
 * broken invariant so that libFuzzer saves the input.
 */
#ifndef CERTCTL_FUZZ_H
#define CERTCTL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property certctl promises does not hold: print why and abort(), which
 * libFuzzer reports as a crash with this input. */
#define FUZZ_FAIL(...)                                                                   \
	do {                                                                             \
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);                    \
		fprintf(stderr, __VA_ARGS__);                                            \
		fprintf(stderr, "\n");                                                   \
		abort();                                                                 \
	} while (0)

#endif
