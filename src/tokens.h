/* tokens.h -- lower-case ASCII words for the phrase matchers (entities, urgency). */
#ifndef FL_TOKENS_H
#define FL_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct token {
	uint32_t off;  /* into the lower-case buffer */
	uint32_t len;
	uint32_t hash; /* FNV-1a of the lower-case word */
	int hard;      /* punctuation between this word and the one before */
};

/*
 * Splits s into lower-case ASCII words, written one after another into
 * low (at least n bytes); w needs n / 2 + 1 slots. Apostrophes inside a
 * word ("don't", "don’t") are dropped, so both spellings read "dont",
 * and so are the points and commas of a number ("1,299.00" is one word).
 * Returns the number of words.
 */
size_t tokens_split(const unsigned char *s, size_t n, char *low, struct token *w);

#endif
