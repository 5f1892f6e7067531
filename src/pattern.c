/* pattern.c -- the policy's text patterns, with the cues that cancel them and the words they need. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

#define PAT_FLAGS (REG_EXTENDED | REG_ICASE)

/*
 * Words are what lies between separators: white space and the ASCII
 * punctuation that does not join a word ("don't", "$649", "sign-in",
 * "A12345/2" stay one word). Anything non-ASCII is part of a word.
 */
static int
is_sep(unsigned char c)
{
	if (c >= 0x80)
		return 0;
	if (c <= ' ' || c == 0x7f)
		return 1;
	return strchr("!\"(),.:;<>?[]{}*=|\\^`~", c) != NULL;
}

/* How far a window of words may reach. */
enum scope { ANY, SENTENCE, CLAUSE };

/*
 * Does a sentence (or, for CLAUSE, a clause) end at s[k]? A full stop,
 * comma or colon only before a blank, so "$6.49" and "1,000" go on.
 */
static int
is_break(const char *s, size_t k, enum scope scope)
{
	unsigned char c = (unsigned char)s[k], next = (unsigned char)s[k + 1];
	if (scope == ANY)
		return 0;
	if (c == '\n' || c == '\r' || c == '!' || c == '?' || c == ';')
		return 1;
	if (c == ',' || c == ':')
		return scope == CLAUSE && (next == '\0' || next <= ' ');
	return c == '.' && (next == '\0' || next <= ' ');
}

/* Start of the n words before s[p], within scope. */
static size_t
words_before(const char *s, size_t p, int n, enum scope scope)
{
	size_t start = p;
	for (int w = 0; w < n; w++) {
		size_t j = start;
		while (j > 0 && is_sep((unsigned char)s[j - 1])) {
			if (is_break(s, j - 1, scope))
				return start;
			j--;
		}
		if (j == 0)
			break;
		while (j > 0 && !is_sep((unsigned char)s[j - 1]))
			j--;
		start = j;
	}
	return start;
}

/* End of the n words after s[p] (len: the text's length), within scope. */
static size_t
words_after(const char *s, size_t p, size_t len, int n, enum scope scope)
{
	size_t end = p;
	for (int w = 0; w < n; w++) {
		size_t j = end;
		while (j < len && is_sep((unsigned char)s[j])) {
			if (is_break(s, j, scope))
				return end;
			j++;
		}
		if (j == len)
			break;
		while (j < len && !is_sep((unsigned char)s[j]))
			j++;
		end = j;
	}
	return end;
}

/* Does re match inside s[a, b)? The text before a is context ("\b"), b is its end ("$"). */
static int
match_in(const regex_t *re, const char *s, size_t a, size_t b)
{
	if (a >= b)
		return 0;
	regmatch_t m = {.rm_so = (regoff_t)a, .rm_eo = (regoff_t)b};
	return regexec(re, s, 1, &m, REG_STARTEND) == 0;
}

/* Is the match at s[so] cancelled by a cue in the words before it? */
static int
cancelled(const struct pattern *p, const char *s, size_t so)
{
	size_t a = words_before(s, so, p->unless_within, CLAUSE);
	for (size_t i = 0; i < p->nunless; i++)
		if (match_in(&p->unless[i], s, a, so))
			return 1;
	return 0;
}

/* Does every near expression match within p->within words of s[so, eo)? */
static int
near_all(const struct pattern *p, const char *s, size_t len, size_t so, size_t eo)
{
	if (p->nnear == 0)
		return 1;
	enum scope scope = p->same_sentence ? SENTENCE : ANY;
	size_t a = words_before(s, so, p->within, scope);
	size_t b = words_after(s, eo, len, p->within, scope);
	for (size_t i = 0; i < p->nnear; i++)
		if (!match_in(&p->near[i], s, a, so) && !match_in(&p->near[i], s, eo, b))
			return 0;
	return 1;
}

int
pattern_find(const struct pattern *p, const char *text, size_t from, size_t *so, size_t *eo)
{
	size_t len = strlen(text);
	if (len > INT_MAX / 2 || from > len)
		return 0;
	for (size_t i = 0; i < p->nanywhere; i++)
		if (regexec(&p->anywhere[i], text, 0, NULL, 0) == 0)
			return 0;
	for (size_t off = from; off <= len;) {
		regmatch_t m = {.rm_so = (regoff_t)off, .rm_eo = (regoff_t)len};
		if (regexec(&p->match, text, 1, &m, REG_STARTEND) != 0)
			return 0;
		size_t a = (size_t)m.rm_so, b = (size_t)m.rm_eo;
		if (p->plain || (!cancelled(p, text, a) && near_all(p, text, len, a, b))) {
			*so = a;
			*eo = b;
			return 1;
		}
		off = b > a ? b : a + 1;
	}
	return 0;
}

int
pattern_fires(const struct pattern *p, const char *text)
{
	size_t so, eo;
	if (p->plain)
		return regexec(&p->match, text, 0, NULL, 0) == 0;
	return pattern_find(p, text, 0, &so, &eo);
}

/* Compiles each expression of list into *out; -1 with *cause on the first that fails. */
static int
compile_list(regex_t **out, size_t *n, const struct strv *list, char **cause)
{
	*n = 0;
	*out = NULL;
	if (list == NULL || list->n == 0)
		return 0;
	*out = xcalloc(list->n, sizeof **out);
	for (size_t i = 0; i < list->n; i++) {
		if (regcomp(&(*out)[i], list->v[i], PAT_FLAGS | REG_NOSUB) != 0) {
			*cause = xasprintf("bad regular expression '%s'", list->v[i]);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

int
pattern_compile(struct pattern *p, const struct pattern_spec *spec, char **cause)
{
	memset(p, 0, sizeof *p);
	p->plain = (spec->unless == NULL || spec->unless->n == 0) &&
	           (spec->near == NULL || spec->near->n == 0) &&
	           (spec->unless_anywhere == NULL || spec->unless_anywhere->n == 0);
	p->unless_within = spec->unless_within > 0 ? spec->unless_within : PATTERN_UNLESS_WITHIN;
	p->within = spec->within > 0 ? spec->within : PATTERN_WITHIN;
	p->same_sentence = spec->same_sentence;
	/* With positions even when plain: pattern_find reports where it matched. */
	if (regcomp(&p->match, spec->match, REG_EXTENDED | (spec->match_case ? 0 : REG_ICASE)) !=
	    0) {
		*cause = xasprintf("bad regular expression '%s'", spec->match);
		memset(p, 0, sizeof *p);
		return -1;
	}
	if (compile_list(&p->unless, &p->nunless, spec->unless, cause) != 0 ||
	    compile_list(&p->near, &p->nnear, spec->near, cause) != 0 ||
	    compile_list(&p->anywhere, &p->nanywhere, spec->unless_anywhere, cause) != 0) {
		pattern_free(p);
		return -1;
	}
	return 0;
}

void
pattern_free(struct pattern *p)
{
	regfree(&p->match);
	for (size_t i = 0; i < p->nunless; i++)
		regfree(&p->unless[i]);
	for (size_t i = 0; i < p->nnear; i++)
		regfree(&p->near[i]);
	for (size_t i = 0; i < p->nanywhere; i++)
		regfree(&p->anywhere[i]);
	free(p->unless);
	free(p->near);
	free(p->anywhere);
	memset(p, 0, sizeof *p);
}

void
patset_add(struct patset *ps, struct pattern *p, const char *src)
{
	ps->v = xreallocarray(ps->v, ps->src.n + 1, sizeof *ps->v);
	ps->v[ps->src.n] = *p;
	strv_add(&ps->src, src);
	memset(p, 0, sizeof *p);
}

/* text with ’ and ‘ (U+2019, U+2018) as ', or NULL when it has none; caller frees. */
static char *
straighten(const char *text)
{
	const unsigned char *u = (const unsigned char *)strstr(text, "\xe2\x80");
	if (u == NULL)
		return NULL;
	char *out = xmalloc(strlen(text) + 1), *o = out;
	for (u = (const unsigned char *)text; *u != '\0';)
		if (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0x98 || u[2] == 0x99)) {
			*o++ = '\'';
			u += 3;
		} else
			*o++ = (char)*u++;
	*o = '\0';
	return out;
}

int
patset_match(const struct patset *ps, const char *text)
{
	char *own = ps->src.n > 0 ? straighten(text) : NULL;
	int hit = -1;
	for (size_t i = 0; i < ps->src.n && hit < 0; i++)
		if (pattern_fires(&ps->v[i], own ? own : text))
			hit = (int)i;
	free(own);
	return hit;
}

void
patset_free(struct patset *ps)
{
	for (size_t i = 0; i < ps->src.n; i++)
		pattern_free(&ps->v[i]);
	free(ps->v);
	strv_free(&ps->src);
	memset(ps, 0, sizeof *ps);
}
