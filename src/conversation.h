/* conversation.h -- one support conversation through the agents, turn by turn. */
#ifndef FL_CONVERSATION_H
#define FL_CONVERSATION_H

#include <cjson/cJSON.h>

#include "kb.h"
#include "policy.h"
#include "tool-backend.h"
#include "triage.h"
#include "util.h"

/* What the agents run on; owned by the caller. */
struct agents {
	const struct policy *policy;
	struct triage *triage;
	struct kb *kb;
	struct kb_freshness fresh;
	const struct tool_backend *tools;
};

#define ASK_ORDER 0x1
#define ASK_EMAIL 0x2

/*
 * A conversation's state. It is saved as a "state" event after every
 * turn, and conversation_restore rebuilds it from the last one.
 */
struct conversation {
	char *customer_id;
	enum tier tier;
	int turn;           /* customer messages so far */
	int disclosed_ai;   /* the AI disclosure was given */
	int disclosed_data; /* the data-collection notice was given */
	unsigned asked;     /* ASK_* the agent is waiting for */
	int escalated;
	enum category category; /* what the conversation is about (first triage) */
	struct strv orders;     /* order numbers the customer gave */
	struct strv ids;        /* the customer's own identifiers: the reply may repeat them */
	struct strv words;      /* the customer's messages, for the handoff */
	struct strv tried;      /* what the agent did, for the handoff */
	struct strv facts;      /* knowledge used: "id|title|days|stale" */
	char *last_sentiment;
	double max_amount;
	struct tool_session tools;
};

void conversation_init(struct conversation *, const char *customer_id, enum tier);
void conversation_free(struct conversation *);
cJSON *conversation_state_json(const struct conversation *);
/* Rebuilds state from a "state" event's payload; returns 0 or -1. */
int conversation_restore(struct conversation *, const cJSON *state);

/*
 * One customer message through the pipeline: triage, route, tools,
 * knowledge, resolution, validation, disclosures, escalation, reply or
 * handoff. Returns the chat-turn object of DESIGN.md section 5 (caller
 * frees) and, in *events, the events to store with it: an array of
 * {"kind","payload"}. Nothing here writes anywhere.
 */
cJSON *conversation_turn(const struct agents *, struct conversation *, const char *text,
                         cJSON **events);

#endif
