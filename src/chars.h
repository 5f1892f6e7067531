/* chars.h -- ASCII character classes for the hand-written scanners (locale-free, fast). */
#ifndef FL_CHARS_H
#define FL_CHARS_H

#include <stddef.h>

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

/* A word character for \b: what glibc counts in the C locale. */
static inline int
is_word(int c)
{
	return is_alnum(c) || c == '_';
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

/* Characters of an email address's local part and domain. */
static inline int
email_local_char(int c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static inline int
email_domain_char(int c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* An email domain: labels of letters, digits and inner hyphens; two or more; the last all letters.
 */
static inline int
email_domain_ok(const char *d, size_t len)
{
	size_t labels = 0, i = 0;
	while (i < len) {
		size_t a = i;
		while (i < len && d[i] != '.')
			i++;
		if (i == a || i - a > 63 || d[a] == '-' || d[i - 1] == '-')
			return 0;
		labels++;
		if (i == len) {
			if (i - a < 2)
				return 0;
			for (size_t k = a; k < i; k++)
				if (!is_alpha(d[k]))
					return 0;
		}
		i++; /* the dot */
	}
	return labels >= 2 && d[len - 1] != '.';
}

#endif
