/* triage-model.h -- the triage agent on a model backend, with the offline engine as its net. */
#ifndef FL_TRIAGE_MODEL_H
#define FL_TRIAGE_MODEL_H

#include "model.h"
#include "triage.h"

/* Called once with the model call's outcome; out is final by then. */
typedef void (*triage_model_fn)(const struct model_result *, void *arg);

/*
 * Asks the triage model about text. out must already hold the offline
 * engine's result for the same text: on a valid answer the model's
 * category, urgency, sentiment, complexity and confidence replace the
 * offline ones, entities it found that the text really contains are
 * added, legal language can be added but never removed, and the route is
 * recomputed from the policy's routing table (never taken from the
 * model). On failure out stays the offline result: the fallback. text,
 * p and out must live until done runs. Returns 0, or -1 with *cause
 * (done is not called).
 */
int triage_model_start(struct models *, const struct policy *p, const char *text, enum tier,
                       struct triage_result *out, triage_model_fn done, void *arg, char **cause);

#endif
