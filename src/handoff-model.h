/* handoff-model.h -- the handoff agent's judgement from a model, over the offline packet. */
#ifndef FL_HANDOFF_MODEL_H
#define FL_HANDOFF_MODEL_H

#include "handoff.h"
#include "model.h"

/* {"summary","next_steps":[...≤3],"tone"}: what the model writes. */
extern const struct jschema jschema_handoff;

/*
 * Asks the handoff model for its judgement on packet (the offline packet
 * of handoff_build: masked and bounded, so nothing more leaves than a
 * human would see). done gets the result; with r->ok, r->json is the
 * validated judgement for handoff_build_judged, else the offline packet
 * stands. Returns 0, or -1 with *cause (done is not called).
 */
int handoff_model_start(struct models *, const cJSON *packet, model_done_fn done, void *arg,
                        char **cause);

#endif
