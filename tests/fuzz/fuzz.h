/*
 * fuzz.h: what the libFuzzer harnesses share. Each harness defines
 * LLVMFuzzerTestOneInput and checks, besides "no crash, no leak, no
 * undefined behaviour", an invariant of the code under test; a broken
 * invariant calls FUZZ_REQUIRE, which aborts so that libFuzzer keeps the
 * input.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: " __VA_ARGS__);                         \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* data as a NUL-terminated string (malloc'd; the caller frees it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Writes data to path (the loaders under test read files). */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

#endif
