/* fuzz.h -- what the libFuzzer targets share (fuzz/README). */
#ifndef FL_FUZZ_H
#define FL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input as the callers hand it over: size bytes and a NUL after them
 * (file_read and the line readers add one), in a block of exactly that
 * size so that AddressSanitizer sees a read past the end. Caller frees.
 */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Text that is safe on a terminal, as the sanitizers promise it: valid
 * UTF-8 without C0 controls (but newline and tab when allowed), DEL, C1
 * controls, or bidirectional overrides and isolates. A target aborts
 * when it is not, so that libFuzzer keeps the input.
 */
static inline void
fuzz_assert_inert(const char *s, size_t n, int newlines)
{
	if (!utf8_valid(s, n))
		abort();
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i];
		if ((c < 0x20 && !(newlines && (c == '\n' || c == '\t'))) || c == 0x7f)
			abort();
		if (c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			abort(); /* U+0080..U+009F */
		if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 && p[i + 2] >= 0xaa &&
		    p[i + 2] <= 0xae)
			abort(); /* U+202A..U+202E */
		if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x81 && p[i + 2] >= 0xa6 &&
		    p[i + 2] <= 0xa9)
			abort(); /* U+2066..U+2069 */
	}
}

#endif
