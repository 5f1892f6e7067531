/* pattern.h -- the policy's text patterns, with the cues that cancel them and the words they need. */
#ifndef FL_PATTERN_H
#define FL_PATTERN_H

#include <regex.h>

#include "util.h"

/*
 * One pattern of a policy list. It fires on a text when no
 * unless_anywhere expression matches anywhere in it, and match matches
 * somewhere such that
 *   - no unless expression matches in the unless_within words before
 *     that match, within its clause (a clause ends at . , : ; ! ? or a
 *     line break), so "nobody hacked me" or "my daughter Sue" is no hit;
 *   - every near expression matches within `within` words of it, before
 *     or after, outside the match itself (and in its sentence when
 *     same_sentence is set: one ends at . ! ? ; or a line break).
 * All expressions are POSIX extended and ignore case, but match heeds
 * it when match_case is set ("Sue" the name, "sue" the verb). An unless
 * expression sees the text up to the match, so "$" in it means "just
 * before the match".
 */
struct pattern {
	regex_t match;
	regex_t *unless;
	size_t nunless;
	int unless_within; /* words */
	regex_t *near;
	size_t nnear;
	int within; /* words */
	int same_sentence;
	regex_t *anywhere;
	size_t nanywhere;
	int plain; /* match alone */
};

/* What a pattern is made of, as written in the policy; lists may be NULL. */
struct pattern_spec {
	const char *match;
	const struct strv *unless;
	int unless_within; /* 0: the default */
	const struct strv *near;
	int within; /* 0: the default */
	const struct strv *unless_anywhere;
	int match_case;
	int same_sentence;
};

/* Default windows, in words, when the policy gives none. */
#define PATTERN_UNLESS_WITHIN 3
#define PATTERN_WITHIN        8

/* A list of patterns, in the policy's order. */
struct patset {
	struct strv src; /* each pattern's match expression, for display and prefilters */
	struct pattern *v;
};

/*
 * Compiles spec into p. Returns 0, or -1 with *cause (caller frees)
 * naming the expression that does not compile; p is then empty.
 */
int pattern_compile(struct pattern *p, const struct pattern_spec *spec, char **cause);
/* Frees what pattern_compile made. */
void pattern_free(struct pattern *);
/*
 * Does the pattern fire on text (NUL-terminated)? The policy writes
 * apostrophes straight: text should have its curly ones straightened
 * (patset_match does it).
 */
int pattern_fires(const struct pattern *, const char *text);
/*
 * Where it fires first from text[from] on (what comes before still counts
 * as context): 1 with the match at text[*so, *eo), or 0.
 */
int pattern_find(const struct pattern *, const char *text, size_t from, size_t *so, size_t *eo);

/* Adds a compiled pattern (taken over) with its match source. */
void patset_add(struct patset *, struct pattern *p, const char *src);
/* Index of the first pattern firing on text, its apostrophes straightened, or -1. */
int patset_match(const struct patset *, const char *text);
void patset_free(struct patset *);

#endif
