/* textsim.c -- token F1 and ROUGE-L over lower-cased word tokens. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "textsim.h"
#include "util.h"

static int
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

/* The tokens of s, lower-cased, into sv (at most TEXTSIM_MAX_TOKENS). */
static void
tokenize(const char *s, struct strv *sv)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p != '\0' && sv->n < TEXTSIM_MAX_TOKENS) {
		if (!word_byte(*p)) {
			p++;
			continue;
		}
		const unsigned char *b = p;
		while (word_byte(*p) || (*p == '\'' && p > b && word_byte(p[1])))
			p++;
		char *t = xstrndup((const char *)b, (size_t)(p - b));
		for (char *q = t; *q != '\0'; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		strv_take(sv, t);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* F1 of two counts against the two lengths; the empty cases as textsim.h says. */
static double
f_score(size_t common, size_t nc, size_t nr)
{
	if (nc == 0 && nr == 0)
		return 1;
	if (common == 0)
		return 0;
	double p = (double)common / (double)nc, r = (double)common / (double)nr;
	return 2 * p * r / (p + r);
}

/* Tokens the two bags share, each counted as often as it is in both. */
static size_t
bag_overlap(const struct strv *a, const struct strv *b)
{
	char **x = xcalloc(a->n + 1, sizeof *x), **y = xcalloc(b->n + 1, sizeof *y);
	if (a->n > 0)
		memcpy(x, a->v, a->n * sizeof *x);
	if (b->n > 0)
		memcpy(y, b->v, b->n * sizeof *y);
	qsort(x, a->n, sizeof *x, cmp_str);
	qsort(y, b->n, sizeof *y, cmp_str);
	size_t i = 0, j = 0, common = 0;
	while (i < a->n && j < b->n) {
		int c = strcmp(x[i], y[j]);
		if (c == 0) {
			common++;
			i++;
			j++;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	free(x);
	free(y);
	return common;
}

/* Length of the longest common subsequence, one row of the table at a time. */
static size_t
lcs(const struct strv *a, const struct strv *b)
{
	size_t *row = xcalloc(b->n + 1, sizeof *row);
	for (size_t i = 0; i < a->n; i++) {
		size_t diag = 0; /* row[j] of the previous i, before it was overwritten */
		for (size_t j = 1; j <= b->n; j++) {
			size_t up = row[j];
			if (strcmp(a->v[i], b->v[j - 1]) == 0)
				row[j] = diag + 1;
			else if (row[j - 1] > row[j])
				row[j] = row[j - 1];
			diag = up;
		}
	}
	size_t n = row[b->n];
	free(row);
	return n;
}

void
textsim_compare(const char *candidate, const char *reference, struct textsim *out)
{
	struct strv c = {0}, r = {0};
	tokenize(candidate, &c);
	tokenize(reference, &r);
	out->f1 = f_score(bag_overlap(&c, &r), c.n, r.n);
	out->rouge_l = f_score(lcs(&c, &r), c.n, r.n);
	strv_free(&c);
	strv_free(&r);
}

double
textsim_f1(const char *candidate, const char *reference)
{
	struct textsim s;
	textsim_compare(candidate, reference, &s);
	return s.f1;
}

double
textsim_rouge_l(const char *candidate, const char *reference)
{
	struct textsim s;
	textsim_compare(candidate, reference, &s);
	return s.rouge_l;
}
