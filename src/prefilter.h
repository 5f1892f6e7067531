/* prefilter.h -- literals a regular expression's matches must contain. */
#ifndef FL_PREFILTER_H
#define FL_PREFILTER_H

#include "util.h"

/*
 * Finds lower-case strings such that every match of the POSIX extended
 * regular expression pattern (matched ignoring case) contains one of
 * them, appended to out. Returns 0, or -1 when no such set is known (the
 * pattern must always be run). Looking for the literals first lets a
 * caller skip regexec on almost every text.
 */
int prefilter_literals(const char *pattern, struct strv *out);

/*
 * A set of literals checked against a text in one pass: the text's
 * trigrams go into a bit set, and only literals whose first trigram is
 * there are searched for.
 */
struct prefilter {
	struct strv lit;
	unsigned *tri; /* the first trigram's bit of each literal, or ~0u */
	int always;    /* some pattern has no literals: every text may match */
};

/* Builds the filter for a set of patterns; free with prefilter_free. */
void prefilter_init(struct prefilter *, const struct strv *patterns);
void prefilter_free(struct prefilter *);
/* May a pattern match lower (the text in lower case)? */
int prefilter_may_match(const struct prefilter *, const char *lower, size_t len);

#endif
