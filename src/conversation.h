/* conversation.h -- one support conversation through the agents, turn by turn. */
#ifndef FL_CONVERSATION_H
#define FL_CONVERSATION_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "dialogue.h"
#include "kb.h"
#include "policy.h"
#include "settings.h"
#include "tool-backend.h"
#include "triage.h"
#include "util.h"

struct models;

/* What the agents run on; owned by the caller. */
struct agents {
	const struct policy *policy;
	struct triage *triage;
	struct kb *kb;
	struct kb_freshness fresh;
	const struct tool_backend *tools;
	/*
	 * The day the conversation happens, for what order dates mean (a past
	 * delivery date is late): days since the epoch, or 0 for fresh.today.
	 * Replay sets each ticket's own day.
	 */
	long day;
	/*
	 * The model client, or NULL when every agent is offline; backend[] says
	 * which agents use it. The offline engine answers whenever a model
	 * fails (triage, handoff); a failed resolution escalates.
	 */
	struct models *models;
	enum backend_kind backend[AGENT__N];
	/* The resolution reply's text as a model streams it (before validation: for a
	 * supervisor's screen, never for the customer); NULL for none. */
	void (*on_delta)(void *arg, const char *text, size_t len);
	void *delta_arg;
};

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
	int escalated;
	/* Dialogue state: what the last message did and what the agent waits for. */
	enum dialogue_act act; /* the customer's last act, in context */
	enum awaiting awaiting;
	cJSON *offer;           /* what the agent offered ({"kind","tool","args","text"}), or NULL */
	char *pending;          /* the question a detail was asked for, or NULL */
	enum category pending_category;
	int offered_more; /* the last reply asked whether there is anything else */
	int work_turns;   /* turns that asked for something; greetings and thanks do not count */
	struct strv told; /* what the customer was told: "order:ID:STATUS", "fact:ID" */
	enum category category; /* what the conversation is about (first triage) */
	struct strv orders;     /* order numbers the customer gave */
	struct strv ids;        /* the customer's own identifiers: the reply may repeat them */
	struct strv words;      /* the customer's messages, for the handoff */
	struct strv tried;      /* what the agent did, for the handoff */
	struct strv facts;      /* knowledge used: "id|title|days|stale" */
	char *last_sentiment;
	double max_amount;
	struct tool_session tools;
	int64_t model_tokens; /* prompt and completion tokens over the conversation */
	double model_cost_usd;
};

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
