/* urgency.h -- urgency from rules and lexicons kept in a data file. */
#ifndef FL_URGENCY_H
#define FL_URGENCY_H

#include "types.h"

struct urgency_rules;

/*
 * Loads a rules file (format in frontline-triage(5)). Returns NULL with
 * *cause (caller frees) as "file:line: message".
 */
struct urgency_rules *urgency_load(const char *path, char **cause);
void urgency_free(struct urgency_rules *);

/*
 * The most urgent level whose rules match text. *why (may be NULL) gets
 * the name of the rule that decided, owned by the rules, or NULL.
 */
enum urgency urgency_classify(const struct urgency_rules *, const char *text, const char **why);

#endif
