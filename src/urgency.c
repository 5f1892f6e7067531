/* urgency.c -- urgency from phrase rules kept in a data file. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "phrases.h"
#include "urgency.h"
#include "util.h"

#define SMALL_TEXT 1024 /* texts up to this size need no allocation */

/* The rules' labels, most urgent first: the rank phrase_rules_best goes by. */
static const char *const level_names[] = {"critical", "high", "low", NULL};
static const enum urgency rank_level[] = {URG_CRITICAL, URG_HIGH, URG_LOW};
static const struct phrase_labels levels = {
    .names = level_names,
    .what = "level",
    .reserved = "normal",
    .reserved_why = "'normal' is what matches no rule; rules are critical, high or low",
};

struct urgency_rules {
	struct phrase_rules *rules;
};

struct urgency_rules *
urgency_load(const char *path, char **cause)
{
	struct phrase_rules *rules = phrase_rules_load(path, &levels, cause);
	if (rules == NULL)
		return NULL;
	struct urgency_rules *r = xmalloc(sizeof *r);
	r->rules = rules;
	return r;
}

void
urgency_free(struct urgency_rules *r)
{
	if (r == NULL)
		return;
	phrase_rules_free(r->rules);
	free(r);
}

enum urgency
urgency_classify(const struct urgency_rules *r, const char *text, const char **why)
{
	char lowbuf[SMALL_TEXT];
	struct token wbuf[SMALL_TEXT / 2 + 1];

	if (why != NULL)
		*why = NULL;
	if (r == NULL || text == NULL)
		return URG_NORMAL;

	size_t n = strlen(text);
	char *low = n <= SMALL_TEXT ? lowbuf : xmalloc(n);
	struct token *w = n <= SMALL_TEXT ? wbuf : xmalloc((n / 2 + 1) * sizeof *w);
	size_t nw = tokens_split((const unsigned char *)text, n, low, w);
	int best = phrase_rules_best(r->rules, low, w, nw, why);
	if (low != lowbuf)
		free(low);
	if (w != wbuf)
		free(w);
	return best < 0 ? URG_NORMAL : rank_level[best];
}
