/* ai-turn.h -- one AI turn on a stored conversation: what the desk, chat and the worker share. */
#ifndef FL_AI_TURN_H
#define FL_AI_TURN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "agents.h"
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

/* Who answers under a claim (store_claim): the worker's id and the newest message answered. */
struct ai_claim {
	const char *worker;
	int64_t upto;
};

/*
 * Stores a turn's events, the agent's message and any handoff in one
 * transaction. With claim (else NULL) the transaction starts with
 * store_claim_finish: a claim lost meanwhile (its lease ran out and
 * another answerer took the conversation) stores nothing and returns 1;
 * a conversation no longer the AI's (a human took over, it closed) gets
 * its turn withheld (ai_turn_withhold), as does one whose *withheld the
 * caller set (a human took over, as far as it knows). On return
 * *withheld says whether it was; *reply_id (may be NULL) gets the id of
 * the message stored for the customer, 0 for none. A handoff gets its
 * packet id ("id" in turn's handoff) and the conversation waits for a
 * human. Returns 0, 1, or -1 with *cause (nothing stored).
 */
int ai_turn_store(struct store *, int64_t conv, const struct ai_claim *claim, cJSON *turn,
                  cJSON *events, int *withheld, int64_t *reply_id, char **cause);

/*
 * What the customer reads from a stored turn: the reply, or the handoff's
 * message; NULL for none. Borrowed from turn.
 */
const char *ai_turn_reply(const cJSON *turn);

/*
 * The customer message the AI answers next among rows (store_messages'
 * shape, oldest first: those after the newest message already answered),
 * or NULL: the first customer message after the last human reply (what a
 * human answered is not the AI's to answer again). Borrowed from rows.
 */
const cJSON *ai_turn_next(const cJSON *rows);

/*
 * After worker's claim cl (store_claim): the customer message the AI
 * answers now (ai_turn_next of what came after the answered one), a copy
 * of its store_messages row in *msg (caller frees). Returns 1; 0 when
 * nothing is left to answer (a human replied to it): the claim is then
 * finished, what was pending marked answered; -1 with *cause (the claim
 * is kept until its lease runs out).
 */
int ai_turn_claimed(struct store *, const char *worker, const struct store_claim *cl, cJSON **msg,
                    char **cause);

#endif
