/* chars.h -- ASCII character classes for the hand-written scanners (locale-free, fast). */
#ifndef FL_CHARS_H
#define FL_CHARS_H

static inline int
is_digit(int c)
{
	return (unsigned)c - '0' < 10u;
}

static inline int
is_alpha(int c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u;
}

static inline int
is_alnum(int c)
{
	return is_digit(c) || is_alpha(c);
}

static inline int
lower(int c)
{
	return (unsigned)(c - 'A') < 26u ? c + 32 : c;
}

/* Punctuation that ends a phrase: no product name or urgency phrase spans it. */
static inline int
is_hard(int c)
{
	switch (c) {
	case '.':
	case ',':
	case ';':
	case ':':
	case '!':
	case '?':
	case '(':
	case ')':
	case '[':
	case ']':
	case '{':
	case '}':
	case '<':
	case '>':
	case '/':
	case '\\':
	case '|':
	case '@':
	case '#':
	case '%':
	case '^':
	case '+':
	case '=':
		return 1;
	default:
		return 0;
	}
}

#endif
