/* ai-turn.h -- one AI turn on a stored conversation: what the desk, chat and the worker share. */
#ifndef FL_AI_TURN_H
#define FL_AI_TURN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "conversation.h"
#include "store.h"

/*
 * Whoever answers a stored conversation -- the console's desk, frontline
 * chat, frontline worker -- runs the same steps around the pipeline
 * (conversation_turn_start): the state comes back from the last "state"
 * event, a new conversation's first message is assigned to its rollout
 * arm (stored as an "assignment" event) and the turn runs on that arm's
 * agents; the human arm's first answer becomes a shadow; the turn is
 * stored in one transaction, under the answerer's claim when there is
 * one, with the reply withheld when a human took over meanwhile.
 */

struct rollout_live;

/* A conversation's place in the rollout, from its "assignment" event. */
struct ai_arm {
	int assigned; /* there is an assignment (else the conversation is on the AI) */
	int ai;       /* the arm: 1 AI, 0 human */
	int canary;   /* on the candidate version */
};

/* Reads an "assignment" event's payload into *arm. */
void ai_arm_absorb(struct ai_arm *, const cJSON *payload);

/*
 * Brings the conversation's state back from its events (store_events'
 * rows, oldest first): the pipeline state from the last "state" event
 * (c is left as initialised when there is none) and the rollout arm.
 */
void ai_turn_restore(struct conversation *c, struct ai_arm *arm, const cJSON *events);

/*
 * Before a turn on text, the newest customer message of conversation
 * conv (state c): a new conversation's first message is assigned to its
 * arm when a rollout is in force (live may be NULL: none) -- the
 * "assignment" event is stored now, before the turn -- and *use gets the
 * agents the turn runs on: base (copied, hooks included) with the arm's
 * policy, triage and freshness. Returns 0, or -1 with *cause when the
 * assignment could not be stored (*use is then base, on the AI: the
 * caller decides whether to go on).
 */
int ai_turn_prepare(struct store *, int64_t conv, struct rollout_live *live,
                    const struct agents *base, const struct conversation *c, struct ai_arm *arm,
                    const char *text, struct agents *use, char **cause);

/*
 * After the pipeline: the human arm's first turn is diverted (its answer
 * becomes a "shadow" event and the turn a handoff to a human, see
 * rollout_divert); t triages the message for the packet.
 */
void ai_turn_divert(cJSON *turn, cJSON *events, const struct ai_arm *, const struct conversation *,
                    const struct triage *t);

/*
 * A human took over while the turn ran: its record is kept but nothing
 * goes to the customer -- reply and handoff become null and a "withheld"
 * event is added. turn and events are changed in place.
 */
void ai_turn_withhold(cJSON *turn, cJSON *events);

/*
 * Stores a turn's events, the agent's message and any handoff in one
 * transaction. With *withheld set by the caller (a human took over
 * meanwhile) the turn is withheld first (ai_turn_withhold). A handoff
 * gets its packet id ("id" in turn's handoff); with close_on_handoff the
 * conversation closes as escalated, otherwise it waits for a human.
 * Returns 0, or -1 with *cause (nothing stored).
 */
int ai_turn_store(struct store *, int64_t conv, cJSON *turn, cJSON *events, int close_on_handoff,
                  int *withheld, char **cause);

/*
 * What the customer reads from a stored turn: the reply, or the handoff's
 * message; NULL for none. Borrowed from turn.
 */
const char *ai_turn_reply(const cJSON *turn);

#endif
