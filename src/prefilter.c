/* prefilter.c -- literals a regular expression's matches must contain. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prefilter.h"

/* Sets bigger than this, or strings longer, are not worth tracking. */
#define MAX_SET 64
#define MAX_LIT 64

/*
 * What is known of a piece of a pattern: exact (set holds every string
 * it can match), or required (every match contains one of set), or
 * nothing (set empty, not exact).
 */
struct info {
	int exact;
	struct strv set;
};

static void
info_any(struct info *i)
{
	strv_free(&i->set);
	i->exact = 0;
}

static void
info_exact1(struct info *i, const char *s)
{
	memset(i, 0, sizeof *i);
	i->exact = 1;
	strv_add(&i->set, s);
}

static size_t
min_len(const struct strv *sv)
{
	size_t m = SIZE_MAX;
	for (size_t i = 0; i < sv->n; i++)
		if (strlen(sv->v[i]) < m)
			m = strlen(sv->v[i]);
	return sv->n ? m : 0;
}

/* Is a as a requirement better than b: longer shortest string, then fewer strings? */
static int
better(const struct strv *a, const struct strv *b)
{
	size_t la = min_len(a), lb = min_len(b);
	if (la != lb)
		return la > lb;
	return b->n == 0 || a->n < b->n;
}

/* Keeps cand as the requirement when it beats best; cand is consumed. */
static void
consider(struct strv *best, struct strv *cand)
{
	if (cand->n > 0 && min_len(cand) > 0 && better(cand, best)) {
		strv_free(best);
		*best = *cand;
		memset(cand, 0, sizeof *cand);
	} else
		strv_free(cand);
}

/* Cross product of two exact sets into a; -1 (a unchanged) when too big. */
static int
cross(struct strv *a, const struct strv *b)
{
	if (a->n * b->n > MAX_SET)
		return -1;
	struct strv out = {0};
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++) {
			if (strlen(a->v[i]) + strlen(b->v[j]) > MAX_LIT) {
				strv_free(&out);
				return -1;
			}
			char *s = xasprintf("%s%s", a->v[i], b->v[j]);
			if (strv_contains(&out, s))
				free(s);
			else
				strv_take(&out, s);
		}
	strv_free(a);
	*a = out;
	return 0;
}

static void parse_alt(const char **p, struct info *out);

/* Skips a bracket expression starting at '['. */
static void
skip_bracket(const char **p)
{
	const char *s = *p + 1;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s != '\0' && *s != ']') {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			char close = s[1];
			s += 2;
			while (*s != '\0' && !(*s == close && s[1] == ']'))
				s++;
			if (*s != '\0')
				s += 2;
		} else
			s++;
	}
	*p = *s == ']' ? s + 1 : s;
}

static void
parse_atom(const char **p, struct info *out)
{
	const char *s = *p;
	char lit[2] = {0};
	memset(out, 0, sizeof *out);
	switch (*s) {
	case '(':
		s++;
		parse_alt(&s, out);
		if (*s == ')')
			s++;
		break;
	case '[':
		skip_bracket(&s);
		break; /* one unknown character */
	case '.':
		s++;
		break;
	case '^':
	case '$':
		s++;
		info_exact1(out, "");
		break;
	case '\\':
		s++;
		if (*s == '\0')
			break;
		if (strchr("bB<>`'", *s) != NULL)
			info_exact1(out, "");
		else if (strchr("wWsS", *s) == NULL) {
			lit[0] = (char)tolower((unsigned char)*s);
			info_exact1(out, lit);
		}
		s++;
		break;
	default:
		lit[0] = (char)tolower((unsigned char)*s);
		info_exact1(out, lit);
		s++;
		break;
	}
	*p = s;
}

/* Applies a quantifier after an atom, if there is one. */
static void
parse_quant(const char **p, struct info *i)
{
	const char *s = *p;
	long lo = 1, hi = 1;
	if (*s == '*')
		lo = 0, hi = -1, s++;
	else if (*s == '+')
		lo = 1, hi = -1, s++;
	else if (*s == '?')
		lo = 0, hi = 1, s++;
	else if (*s == '{' && isdigit((unsigned char)s[1])) {
		char *e;
		lo = strtol(s + 1, &e, 10);
		hi = lo;
		if (*e == ',') {
			e++;
			hi = isdigit((unsigned char)*e) ? strtol(e, &e, 10) : -1;
		}
		s = *e == '}' ? e + 1 : e;
	} else
		return;
	*p = s;
	if (lo == 0 && hi == 1 && i->exact) {
		if (!strv_contains(&i->set, ""))
			strv_add(&i->set, "");
	} else if (lo == 0)
		info_any(i);
	else if (!(lo == 1 && hi == 1))
		i->exact = 0; /* at least once: still required, no longer exact */
	parse_quant(p, i);
}

static void
parse_concat(const char **p, struct info *out)
{
	struct info cur;
	struct strv best = {0};
	int all_exact = 1;

	info_exact1(&cur, "");
	while (**p != '\0' && **p != '|' && **p != ')') {
		struct info a;
		parse_atom(p, &a);
		parse_quant(p, &a);
		if (a.exact && cross(&cur.set, &a.set) == 0) {
			strv_free(&a.set);
			continue;
		}
		/* The run of exact pieces ends here. */
		all_exact = 0;
		consider(&best, &cur.set);
		if (a.exact) {
			cur = a;
			continue;
		}
		consider(&best, &a.set);
		info_exact1(&cur, "");
	}
	if (all_exact) {
		strv_free(&best);
		*out = cur;
		return;
	}
	consider(&best, &cur.set);
	out->exact = 0;
	out->set = best;
}

static void
parse_alt(const char **p, struct info *out)
{
	parse_concat(p, out);
	while (**p == '|') {
		(*p)++;
		struct info b;
		parse_concat(p, &b);
		int usable = out->set.n > 0 && b.set.n > 0;
		int exact = out->exact && b.exact;
		if (!exact && (strv_contains(&out->set, "") || strv_contains(&b.set, "")))
			usable = 0;
		if (usable && out->set.n + b.set.n <= MAX_SET) {
			for (size_t i = 0; i < b.set.n; i++)
				if (!strv_contains(&out->set, b.set.v[i]))
					strv_add(&out->set, b.set.v[i]);
			out->exact = exact;
		} else if (exact && out->set.n + b.set.n > MAX_SET)
			info_any(out);
		else if (!usable)
			info_any(out);
		strv_free(&b.set);
	}
}

int
prefilter_literals(const char *pattern, struct strv *out)
{
	struct info i;
	const char *p = pattern;
	parse_alt(&p, &i);
	int ok = *p == '\0' && i.set.n > 0 && min_len(&i.set) > 0;
	if (ok)
		for (size_t k = 0; k < i.set.n; k++)
			if (!strv_contains(out, i.set.v[k]))
				strv_add(out, i.set.v[k]);
	strv_free(&i.set);
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------ filter */

#define TRI_BITS 4096

static unsigned
tri_bit(const char *s)
{
	return ((unsigned char)s[0] * 31u * 31u + (unsigned char)s[1] * 31u + (unsigned char)s[2]) %
	       TRI_BITS;
}

void
prefilter_init(struct prefilter *f, const struct strv *patterns)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < patterns->n; i++)
		if (prefilter_literals(patterns->v[i], &f->lit) != 0)
			f->always = 1;
	f->tri = xcalloc(f->lit.n ? f->lit.n : 1, sizeof *f->tri);
	for (size_t i = 0; i < f->lit.n; i++)
		f->tri[i] = strlen(f->lit.v[i]) >= 3 ? tri_bit(f->lit.v[i]) : ~0u;
}

void
prefilter_free(struct prefilter *f)
{
	strv_free(&f->lit);
	free(f->tri);
	memset(f, 0, sizeof *f);
}

int
prefilter_may_match(const struct prefilter *f, const char *lower, size_t len)
{
	if (f->always)
		return 1;
	uint64_t seen[TRI_BITS / 64] = {0};
	for (size_t i = 0; i + 3 <= len; i++) {
		unsigned b = tri_bit(lower + i);
		seen[b / 64] |= 1ULL << (b % 64);
	}
	for (size_t i = 0; i < f->lit.n; i++) {
		unsigned b = f->tri[i];
		if (b != ~0u && !((seen[b / 64] >> (b % 64)) & 1))
			continue;
		if (strstr(lower, f->lit.v[i]) != NULL)
			return 1;
	}
	return 0;
}
