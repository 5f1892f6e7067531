/*
 * agents.h -- what the agents work with: their engines and policy (struct
 * agents) and a conversation's state (struct conversation). Below the
 * agents: triage, resolution, knowledge and handoff read these; the
 * pipeline that calls them (conversation.h) is above.
 */
#ifndef FL_AGENTS_H
#define FL_AGENTS_H

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

#endif
