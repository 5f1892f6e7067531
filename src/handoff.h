/* handoff.h -- the handoff agent (playbook role 4): the packet a human reads in 20 seconds. */
#ifndef FL_HANDOFF_H
#define FL_HANDOFF_H

#include "agents.h"
#include "escalation.h"

/* The most words the packet's text may have. */
#define HANDOFF_MAX_WORDS 200

/*
 * Builds the packet for an escalated conversation: customer summary,
 * the issue in the customer's words, what was tried, knowledge with
 * staleness flags, next steps, tone. Emails and phones are masked; the
 * human has the customer id. Returns {"reason","queue","customer",
 * "issue","tried","knowledge","next_steps","tone","text"}; caller frees.
 */
cJSON *handoff_build(const struct conversation *, const struct triage_result *, const char *reason,
                     const char *queue);

/*
 * The same, with a model's judgement ({"summary","next_steps","tone"},
 * already validated; NULL for none): its summary is added, its steps
 * follow the policy's, its tone note precedes the measured one. Its text
 * is masked and bounded like the rest, and the word limit still holds.
 */
cJSON *handoff_build_judged(const struct conversation *, const struct triage_result *,
                            const char *reason, const char *queue, const cJSON *judgement);

/* Words in text (runs of non-space). */
int handoff_words(const char *text);

#endif
