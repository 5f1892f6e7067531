/* phone.c -- phone numbers in free text, for entity extraction and output validation. */
#include "config.h"

#include <string.h>

#include "chars.h"
#include "phone.h"
#include "util.h"

/* Shapes that are not phone numbers: dates, year ranges, ZIP+4, SSNs. */
static int
phone_shape_ok(const char *dg, const int *g, int ng, int plus, int dot, int nd)
{
	if (plus)
		return nd >= 8 && nd <= 15 && g[ng - 1] >= 2;
	if (nd < 7 || nd > 12)
		return 0;
	if (ng == 1)
		return nd == 10 || nd == 11;
	for (int k = 1; k < ng; k++)
		if (g[k] < 2)
			return 0;
	if (g[0] == 1 && (dg[0] != '1' || ng < 3))
		return 0;
	if (dot && !((ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4) ||
	             (ng == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4)))
		return 0;
	if (ng == 2 && g[0] == 5 && g[1] == 4)
		return 0;
	if (ng == 2 && g[0] == 4 && g[1] == 4 && (dg[0] == '1' || dg[0] == '2') &&
	    (dg[4] == '1' || dg[4] == '2'))
		return 0;
	if (ng == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4)
		return 0;
	return 1;
}

static int
looks_like_date(const int *g, int ng)
{
	return ng >= 3 &&
	       ((g[0] == 4 && g[1] <= 2 && g[2] <= 2) || (g[0] <= 2 && g[1] <= 2 && g[2] == 4));
}

void
phone_key(const char *dg, int n, char key[16])
{
	int skip = n == 11 && dg[0] == '1';
	memcpy(key, dg + skip, (size_t)(n - skip));
	key[n - skip] = '\0';
}

/*
 * A phone number at s[i] ('+', '(' or a digit): groups of digits
 * separated by one space, hyphen or point, the area code perhaps in
 * parentheses. The longest run of groups with a phone's shape wins.
 * Returns its end with its key, or 0; *resume is where scanning goes on.
 */
static size_t
parse_phone(const char *s, size_t i, const unsigned char *taken, char key[16], size_t *resume)
{
	char dg[16];
	int g[8], ng = 0, nd = 0, plus = 0, dot = 0, paren = 0;
	size_t gend[8], p = i;

	if (s[p] == '+')
		plus = 1, p++;
	*resume = p;
	for (;;) {
		int inparen = 0;
		if (s[p] == '(') {
			if (paren || ng > 1)
				break;
			paren = inparen = 1;
			p++;
		}
		if (!is_digit(s[p]) || (taken != NULL && taken[p]))
			break;
		int len = 0;
		while (is_digit(s[p])) {
			if (nd == 15 || ng == (int)nitems(g)) {
				/* More than 15 digits in all: a card or tracking number. */
				while (is_digit(s[p]) ||
				       ((s[p] == ' ' || s[p] == '-') && is_digit(s[p + 1])))
					p++;
				*resume = p;
				return 0;
			}
			dg[nd++] = s[p++];
			len++;
		}
		*resume = p;
		if (inparen) {
			if (s[p] != ')')
				break;
			p++;
		}
		g[ng] = len;
		gend[ng++] = inparen ? p - 1 : p;
		size_t q = p;
		if (s[q] == ' ' || s[q] == '-' || s[q] == '.')
			q++;
		else if (!inparen)
			break;
		if (!is_digit(s[q]) && s[q] != '(')
			break;
		dot |= s[p] == '.';
		p = q;
	}
	if (ng == 0 || (!plus && looks_like_date(g, ng)))
		return 0;
	/* Back off trailing groups until the shape fits: "555-010-0142 2 times". */
	for (int k = ng; k > 0; k--) {
		int nk = 0;
		for (int j = 0; j < k; j++)
			nk += g[j];
		size_t e = gend[k - 1];
		if (!phone_shape_ok(dg, g, k, plus, dot, nk) || is_word(s[e]) || s[e] == '%' ||
		    (s[e] == '.' && is_digit(s[e + 1])) || (s[e] == ',' && is_digit(s[e + 1])))
			continue;
		phone_key(dg, nk, key);
		return e;
	}
	return 0;
}

int
phone_next(const char *s, size_t n, const unsigned char *taken, size_t *pos, size_t *a, size_t *b,
           char key[16])
{
	for (size_t i = *pos; i < n; i++) {
		i += strcspn(s + i, "0123456789+(");
		int c = (unsigned char)s[i];
		if (i >= n || (taken != NULL && taken[i]))
			continue;
		if (c == '+' || c == '(') {
			if (!is_digit(s[i + 1]) || (i > 0 && is_word(s[i - 1])))
				continue;
		} else if (is_digit(c)) {
			int pc = i > 0 ? (unsigned char)s[i - 1] : ' ';
			if (is_word(pc) || pc == '.' || pc == ',' || pc == '#' || pc == '/' ||
			    pc == '-' || pc == ':' || pc == '$') {
				while (is_digit(s[i + 1]))
					i++;
				continue;
			}
		} else
			continue;
		size_t resume, e = parse_phone(s, i, taken, key, &resume);
		if (e == 0) {
			i = resume > i ? resume - 1 : i;
			continue;
		}
		*a = i;
		*b = e;
		*pos = e;
		return 1;
	}
	*pos = n;
	return 0;
}

int
phone_same(const char *x, const char *y)
{
	size_t lx = strlen(x), ly = strlen(y);
	if (lx >= 10 && ly >= 10)
		return memcmp(x + lx - 10, y + ly - 10, 10) == 0;
	return lx == ly && memcmp(x, y, lx) == 0;
}
