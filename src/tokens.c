/* tokens.c -- lower-case ASCII words for the phrase matchers. */
#include "config.h"

#include "chars.h"
#include "tokens.h"

size_t
tokens_split(const unsigned char *s, size_t n, char *low, struct token *w)
{
	size_t i = 0, nw = 0, o = 0;
	int hard = 0;

	while (i < n) {
		int c = s[i];
		if (!is_alnum(c)) {
			hard |= is_hard(c);
			i++;
			continue;
		}
		uint32_t h = 2166136261u;
		size_t start = o;
		for (;;) {
			if (i < n && is_alnum(s[i])) {
				low[o] = (char)lower(s[i]);
				h = (h ^ (unsigned char)low[o]) * 16777619u;
				o++;
				i++;
			} else if (i + 1 < n && s[i] == '\'' && is_alnum(s[i + 1]))
				i++;
			else if (i + 1 < n && (s[i] == '.' || s[i] == ',') &&
			         is_digit(low[o - 1]) && is_digit(s[i + 1]))
				i++; /* 1,299.00 is one word */
			else if (i + 3 < n && s[i] == 0xe2 && s[i + 1] == 0x80 &&
			         s[i + 2] == 0x99 && is_alnum(s[i + 3]))
				i += 3;
			else
				break;
		}
		w[nw].off = (uint32_t)start;
		w[nw].len = (uint32_t)(o - start);
		w[nw].hash = h;
		w[nw].hard = hard;
		nw++;
		hard = 0;
	}
	return nw;
}
