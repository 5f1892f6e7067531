/* desk.h -- the live conversations a console supervises: who has each, and what they said. */
#ifndef FL_DESK_H
#define FL_DESK_H

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ai-turn.h"
#include "agents.h"
#include "store.h"
#include "util.h"

/*
 * The desk is the console's model, without a screen: it runs customer
 * messages through the agents (asynchronously, on the models' loop when
 * a model backend is configured), stores every turn before anything is
 * delivered, and carries takeovers, human replies, hand-backs and
 * resolutions. It never draws and never writes to a socket: it calls
 * hooks, and bumps each conversation's seq when something changed.
 */

/*
 * The event kinds whose payloads only the panels and the desk's own turns
 * use (the knowledge and signals panels, the conversation's state): a
 * conversation not on screen, that the desk does not answer, reads its
 * events without them, and fills them in when it is shown or answered.
 * The floor's relay (frontline serve) sends them without, too.
 */
#define DESK_PANEL_KINDS ",retrieval,escalation,state,model,tool,"

/* Who has a conversation. */
enum handler { HANDLER_AI, HANDLER_WAITING, HANDLER_HUMAN, HANDLER_RESOLVED, HANDLER__N };
/* "ai", "waiting", "human", "resolved" */
const char *handler_name(enum handler);
/* Now on the store's clock (its dates follow FRONTLINE_TODAY): what since and at count from. */
time_t desk_now(void);

struct desk_msg {
	char *role; /* "customer", "ai", "human", or "note" (for the supervisor only) */
	char *text; /* as stored: untrusted, sanitise before drawing */
	time_t at;
	int64_t id; /* the store's message id; 0 for a note */
};

struct desk_span {
	int64_t first, last;
};

struct desk_conv {
	int64_t id; /* the store's conversation id */
	char *customer_id;
	char *name; /* NULL when unknown */
	enum tier tier;
	enum handler handler;
	char *owner;          /* who took it over; NULL unless a human has it */
	enum urgency urgency; /* from the latest triage (URG_NORMAL before any) */
	time_t since;         /* when the handler last changed (time waiting) */
	time_t last;          /* the latest message */

	struct desk_msg *msgs;
	size_t nmsgs, capmsgs;
	/* The latest of each, as stored (NULL before any): the panels. */
	cJSON *triage, *knowledge, *escalation, *validation, *packet, *tools;
	struct strv sentiments; /* one per triaged turn, oldest first */
	int64_t handoff_id;     /* the latest packet's id, 0 for none */
	struct buf stream;      /* the reply as a model streams it; empty when none */
	int busy;               /* a turn is in flight */
	int pending;            /* stored customer messages may be waiting for the AI's turn */
	char *error;            /* the latest failure to store, for the screen; NULL for none */

	void *client; /* the connected customer (the console's), or NULL */
	void *demo;   /* the simulated customer, or NULL */
	unsigned seq; /* bumped on every change */

	/* Private to the desk. */
	struct desk *desk;
	struct conversation conv;
	struct agents ag;
	int withheld;      /* a human took over during the turn in flight */
	struct ai_arm arm; /* its rollout arm (rollout.h), from its first turn */
	int64_t upto;      /* the customer message the turn in flight answers */
	int retry;         /* a claim to answer it failed: tried again on the loop */
	/* What the store has: read from msg_seen and event_seen on (store_conversation_since). */
	int64_t msg_seen, event_seen;
	int64_t full_seen;      /* the panels' payloads are in up to this event */
	unsigned want;          /* others changed it (STORE_CHANGE_*): read at the next frame */
	struct desk_span *mine; /* events the desk wrote (and has): skipped when read */
	size_t nmine, capmine;
};

struct desk_hooks {
	/* Text for the customer: role "ai" or "human". */
	void (*deliver)(void *arg, struct desk_conv *, const char *role, const char *text);
	/* The handler changed (the customer is told who has the conversation now). */
	void (*handler)(void *arg, struct desk_conv *);
	/* Anything changed: the screen redraws. */
	void (*changed)(void *arg, struct desk_conv *);
	void *arg;
	/* The floor's stream (desk_attach_floor) failed: why, for the screen; NULL: it is back. */
	void (*floor)(void *arg, const char *problem);
};

struct desk;

/*
 * Opens the desk on the agents and the store (both borrowed; they must
 * outlive it): the open conversations and those closed in the last
 * day come back from the store, and customer messages left unanswered
 * (the console stopped mid-turn) are answered. hooks is copied; its
 * functions may be NULL. Returns NULL with *cause (caller frees).
 *
 * The store may be shared with other consoles, frontline worker and
 * frontline serve: the desk answers a conversation only under a claim
 * (store_claim), so it and the workers never both answer a message, and
 * takes one over atomically (store_conversation_take), so two
 * supervisors never both own it.
 */
struct desk *desk_open(const struct agents *, struct store *, const struct desk_hooks *,
                       char **cause);
/*
 * Frees the desk. Turns still in flight are abandoned (their customers'
 * messages are stored): their conversations are freed when they end,
 * which needs the agents they run on until then -- end the model client
 * (models_free) before the agents.
 */
void desk_close(struct desk *);

/*
 * The desk's live side, on the loop (borrowed; it must outlive the desk):
 * conversations changed by other processes on the store -- new ones from
 * frontline serve, workers' answers, other consoles' takeovers -- are
 * read again as they change (PostgreSQL: LISTEN frontline_conv; SQLite,
 * which has no notifications: the open conversations are looked at
 * every poll_ms), the claims of turns in flight are renewed, and a claim
 * that failed is tried again. Returns 0 or -1 with *cause.
 */
struct loop;
int desk_attach(struct desk *, struct loop *, long poll_ms, char **cause);
/*
 * desk_attach, taking others' changes from frontline serve's floor stream
 * (GET URL/v1/floor/events with the bearer token; frontline-http(7))
 * instead of the store's notifications: serve reads each change once for
 * every console, and the desk applies the data it sends without reading
 * the store -- but for the panels of the conversation shown or answered
 * here, and what it writes itself. Each time the stream (re)opens, the
 * desk first reads from the store what it may have missed. A stream that
 * fails is opened again every few seconds (hooks.floor hears why). The
 * idle timeout is left to the workers (frontline worker looks every
 * minute): a console on the floor does not look for idle conversations.
 * Returns 0, or -1 with *cause (a URL that is not http(s), no token).
 */
int desk_attach_floor(struct desk *, struct loop *, const char *url, const char *token,
                      char **cause);
/*
 * Reads conversation id again from the store (one the desk did not have
 * is added): what others said to a customer of this desk is delivered,
 * a change of hands reported through the hooks. Returns 0 or -1 with
 * *cause.
 */
int desk_refresh(struct desk *, int64_t id, char **cause);
/*
 * The conversation on screen (0: none). The desk reads the events of the
 * conversations it neither shows nor answers without the payloads only
 * the panels use (what was retrieved, the escalation's signals, the
 * conversation's state), and reads those in when one is shown -- or
 * answered, taken over, replied to or handed back, which need them.
 */
void desk_show(struct desk *, int64_t id);
/* The name the desk's claims go by ("console:HOST:PID:N"). */
const char *desk_worker(const struct desk *);

/* The policy (and its freshness rules) for turns started from now on. */
void desk_set_policy(struct desk *, const struct policy *);
/*
 * The rollout in force (borrowed; NULL: none, everything AI): each new
 * conversation is assigned at its first message; the human arm's AI
 * reply is stored as a shadow and the conversation waits for a human.
 */
struct rollout_live;
void desk_set_rollout(struct desk *, struct rollout_live *);

/*
 * The conversations in queue order: waiting for a human (most urgent,
 * then longest waiting, first), human-owned, AI-handled, resolved
 * (latest first). *n gets the count; the array is the desk's and valid
 * until the next call into the desk.
 */
struct desk_conv **desk_list(struct desk *, size_t *n);
struct desk_conv *desk_find(struct desk *, int64_t id);
/* Turns in flight, and counts by handler. */
size_t desk_busy(const struct desk *);
size_t desk_count(const struct desk *, enum handler);

/*
 * A customer arrives (customer_id NULL: a new guest). Their live
 * conversation is resumed, or one is opened. name NULL and !tier_given
 * keep what is stored. Returns the conversation, or NULL with *cause
 * (caller frees), e.g. when that customer is already connected
 * (client != NULL) -- the caller sets client.
 */
struct desk_conv *desk_join(struct desk *, const char *customer_id, const char *name,
                            enum tier tier, int tier_given, char **cause);
/*
 * A customer message: stored (acknowledged) before anything else, then
 * answered by the AI when it has the conversation. A resolved
 * conversation is followed by a new one for the same customer (the
 * client moves to it); *cv is updated. Returns 0 or -1 with *cause.
 */
int desk_say(struct desk *, struct desk_conv **cv, const char *text, char **cause);
/*
 * The customer left. A conversation of the AI's, or one waiting for a
 * human, closes with its ending (ending.h: unconfirmed after an answer,
 * resolved-agent after a confirmation, abandoned mid-turn, while the
 * agent waited on the customer, or before any human answered); one a
 * human holds stays theirs to close.
 */
void desk_leave(struct desk *, struct desk_conv *);

/*
 * A human (who) takes the conversation over: the AI stops answering it
 * (a turn in flight is stored but its reply withheld), and a packet is
 * written when there was none. The change of hands is atomic in the
 * store: when another supervisor has it (here or on another console)
 * nothing is written, the conversation is read again and *cause names
 * who has it. Returns 0 or -1 with *cause.
 */
int desk_takeover(struct desk *, struct desk_conv *, const char *who, char **cause);
/*
 * A human's reply through the same output validation as the AI's.
 * With violations and !override nothing is sent: returns 1 and
 * *validation ({"passed","violations"}, caller frees) says why. Sent:
 * returns 0 (*validation set too). Returns -1 with *cause on a store
 * failure or when no human has the conversation.
 */
int desk_human_say(struct desk *, struct desk_conv *, const char *text, int override,
                   cJSON **validation, char **cause);
/* Back to the AI, with a fresh turn budget; an unanswered message is answered. */
int desk_handback(struct desk *, struct desk_conv *, char **cause);
/*
 * A supervisor closes it: outcome "resolved" or "abandoned", with an
 * optional note. The ending stored is the rule's (ending.h): the
 * supervisor's outcome and note are part of its evidence, and an outcome
 * "abandoned" makes it abandoned unless a human took over or replied.
 */
int desk_resolve(struct desk *, struct desk_conv *, const char *outcome, const char *note,
                 char **cause);
/*
 * The idle timeout: closes the AI's conversations with nothing stored
 * since before (NULL: the policy's lifecycle.idle_close_minutes ago),
 * this desk's and any other's on the store (ending_close_idle), and shows
 * them closed. The desk does it on its own every minute once attached
 * (desk_attach). *closed (may be NULL) counts them. Returns 0 or -1 with
 * *cause.
 */
int desk_close_idle(struct desk *, const char *before, int *closed, char **cause);

/*
 * The customer's rating of the conversation (CSAT): a "csat" event
 * {score, verbatim} (verbatim null without a comment). Any state; a
 * later rating replaces an earlier one in the metrics. Returns 0 or -1
 * with *cause (a score outside 1..5, a store failure).
 */
int desk_rate(struct desk *, struct desk_conv *, int score, const char *verbatim, char **cause);
/* The csat event's payload (caller frees), shared with frontline chat. */
cJSON *desk_csat_json(int score, const char *verbatim);

#endif
