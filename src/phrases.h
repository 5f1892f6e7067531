/* phrases.h -- labelled phrase rules kept in data files (urgency, dialogue acts). */
#ifndef FL_PHRASES_H
#define FL_PHRASES_H

#include <stddef.h>

#include "tokens.h"

/*
 * What a rules file's lines may be labelled with. A label's index is its
 * rank: when several labels' phrases match, phrase_rules_best picks the
 * lowest. Owned by the caller (usually static) and must outlive the rules.
 */
struct phrase_labels {
	const char *const *names; /* NULL-terminated */
	const char *what;         /* what a label is, for messages: "level", "act" */
	const char *reserved; /* a word that is no label but deserves its own message, or NULL */
	const char *reserved_why; /* that message */
};

struct phrase_rules;

/*
 * Loads a rules file (format in frontline-triage(5)): "LABEL RULE-NAME
 * PHRASE | PHRASE ..." lines and "negate WORD ..." lines. Returns NULL
 * with *cause (caller frees) as "file:line: message".
 */
struct phrase_rules *phrase_rules_load(const char *path, const struct phrase_labels *,
                                       char **cause);
void phrase_rules_free(struct phrase_rules *);

/*
 * The lowest-ranked label with a phrase in the words w of low (as
 * tokens_split made them) that no negator precedes, or -1; *rule (may be
 * NULL) gets the deciding rule's name, owned by the rules.
 */
int phrase_rules_best(const struct phrase_rules *, const char *low, const struct token *w,
                      size_t nw, const char **rule);

/* One phrase found in a text. */
struct phrase_match {
	int label;
	const char *rule; /* owned by the rules */
	size_t word;      /* the first word it covers */
	size_t nwords;
	int negated; /* a negator stands within three words before it */
};

/*
 * Every phrase in the words w of low, in word order, negated or not; for
 * each word and label only the longest. Fills at most max matches and
 * returns how many.
 */
size_t phrase_rules_scan(const struct phrase_rules *, const char *low, const struct token *w,
                         size_t nw, struct phrase_match *out, size_t max);

#endif
