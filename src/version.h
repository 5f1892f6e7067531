/* version.h -- the agent version: what the agents are, identified by a content hash. */
#ifndef FL_VERSION_H
#define FL_VERSION_H

#include <cjson/cJSON.h>

#include "agents.h"

/*
 * What decides how the agents behave, as JSON: the policy's content hash,
 * the engine (frontline's own version: the offline engine is code), the
 * triage engine's intent model (its SHA-256, classifier_sha256), each
 * agent's backend and, on a model, its model name and the SHA-256 of its
 * system prompt, and the tool backend. Two runs with equal objects behave
 * alike. {"version","policy","engine","triage_model","agents":{role:{...}},"tools"}.
 * The caller frees it.
 */
cJSON *agents_version_json(const struct agents *);

/* The agent version: the first 12 hex digits of the SHA-256 of the object above (sans version). */
void agents_version(const struct agents *, char out[13]);

#endif
