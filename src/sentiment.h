/* sentiment.h -- VADER-style lexicon sentiment, with profanity as frustration. */
#ifndef FL_SENTIMENT_H
#define FL_SENTIMENT_H

#include <stddef.h>

#include "types.h"

struct sentiment_lexicon; /* the loaded lexicons (the tag differs from enum sentiment: C shares tag
                             names) */

/*
 * Loads dir/vader_lexicon.txt, dir/emoji_utf8_lexicon.txt and
 * dir/profanity.txt. Returns NULL with *cause (caller frees) naming the
 * file and line of the first problem.
 */
struct sentiment_lexicon *sentiment_load(const char *dir, char **cause);
void sentiment_free(struct sentiment_lexicon *);

struct sentiment_result {
	double compound; /* VADER's normalised score in [-1, 1] */
	double pos, neu, neg;
	int profanity; /* profane words and phrases found */
	int intensity; /* emphasis markers: capitals, !!, intensifiers */
	enum sentiment label;
};

/* Scores text (any bytes; invalid UTF-8 is tolerated). */
void sentiment_analyze(const struct sentiment_lexicon *, const char *text, size_t len,
                       struct sentiment_result *out);

#endif
