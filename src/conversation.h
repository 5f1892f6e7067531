/* conversation.h -- one support conversation through the agents, turn by turn. */
#ifndef FL_CONVERSATION_H
#define FL_CONVERSATION_H

#include <cjson/cJSON.h>

#include "agents.h"

void conversation_init(struct conversation *, const char *customer_id, enum tier);
void conversation_free(struct conversation *);
cJSON *conversation_state_json(const struct conversation *);
/* Rebuilds state from a "state" event's payload; returns 0 or -1. */
int conversation_restore(struct conversation *, const cJSON *state);

/*
 * Called once a turn is complete with the chat-turn object of DESIGN.md
 * section 5 and the events to store with it (an array of
 * {"kind","payload"}); the callee takes both.
 */
typedef void (*turn_done_fn)(cJSON *turn, cJSON *events, void *arg);

/*
 * One customer message through the pipeline: triage, route, tools,
 * knowledge, resolution, validation, disclosures, escalation, reply or
 * handoff. Steps on a model backend (embeddings included) and calls to
 * an HTTP tool backend run asynchronously on the process's loop -- the
 * models' and the tool backend's must be the same one -- so many
 * conversations can be in flight at once; with every agent offline and a
 * local tool backend (fixture, context), done runs before this returns.
 * ag, c and the conversation's state belong to the turn until done runs:
 * one turn per conversation at a time. Nothing here writes anywhere.
 */
void conversation_turn_start(const struct agents *, struct conversation *, const char *text,
                             turn_done_fn done, void *arg);

/*
 * The same, waiting for the turn (running the models' loop, or the tool
 * backend's when no agent is on a model, meanwhile); *events as above.
 */
cJSON *conversation_turn(const struct agents *, struct conversation *, const char *text,
                         cJSON **events);

#endif
