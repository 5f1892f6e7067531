/*
 * ending.h -- how a conversation ended: judged from its timeline when it
 * closes, and stored then as a fact with its evidence (the ending column
 * and an "ending" event). Metrics read the fact, never the timeline again.
 *
 * The rule, in this order (frontline(1), METRICS):
 *   resolved-human  a human took the conversation over or replied in it,
 *                   at any point, whatever followed;
 *   abandoned       the customer said nothing, a supervisor closed it as
 *                   abandoned, it was handed off and no human answered,
 *                   a customer message was never answered (the customer
 *                   left mid-turn), or the agent was waiting on the
 *                   customer (the last turn asked for something);
 *   resolved-agent  the customer's last message confirmed (the dialogue
 *                   act "thanks") an answer to something they asked;
 *   unconfirmed     the agent answered and nothing confirmed it: closed
 *                   by the idle timeout, the end of chat's input, the
 *                   customer leaving -- kept apart from resolved-agent so
 *                   that silence never counts as the AI's resolution.
 */
#ifndef FL_ENDING_H
#define FL_ENDING_H

#include <stdint.h>

#include <cjson/cJSON.h>

struct store;

enum ending { ENDING_RESOLVED_AGENT, ENDING_RESOLVED_HUMAN, ENDING_ABANDONED, ENDING_UNCONFIRMED };
/* "resolved-agent", "resolved-human", "abandoned", "unconfirmed", NULL: a contract scripts read. */
extern const char *const ending_names[];

/* Why a conversation closes: the evidence's "closed_by". */
struct ending_close {
	const char *closed_by; /* "customer-left", "end-of-input", "idle", "new-conversation",
	                          "supervisor" */
	const char *outcome;   /* a supervisor's verdict ("resolved", "abandoned"), or NULL */
	const char *by;        /* who closed it (the supervisor), or NULL */
	const char *note;      /* the supervisor's note, or NULL */
};

/*
 * The ending of a conversation closing now, from its store rows
 * (store_messages and store_events, oldest first) and who has it
 * (handler: "ai", "waiting", "human"). *evidence (caller frees) gets
 * {"closed_by","reason","customer_messages","unanswered","last_act",
 * "awaiting","takeovers","human_replies","handoffs"} and the supervisor's
 * "outcome", "by" and "note" when how has them. Pure.
 */
enum ending ending_judge(const cJSON *messages, const cJSON *events, const char *handler,
                         const struct ending_close *how, cJSON **evidence);

/*
 * Closes conversation conv with its ending, in one transaction: locks its
 * row, reads its timeline, judges it and stores the ending
 * (store_conversation_end). With idle_before (an ISO-8601 time; else
 * NULL) it closes only a conversation still the AI's, with no live claim
 * and nothing stored since then. Returns 0 (closed; *fact, may be NULL,
 * gets the "ending" event's payload: {"ending"} and the evidence; caller
 * frees), 1 (left alone: not open any more, or not idle), or -1 with
 * *cause (caller frees).
 */
int ending_close(struct store *, int64_t conv, const struct ending_close *how,
                 const char *idle_before, cJSON **fact, char **cause);

/* The time idle_minutes before now on the store's clock (store_now), ISO-8601. */
void ending_idle_before(int idle_minutes, char out[64]);

/*
 * The idle timeout: closes ("idle") every conversation of the AI's with
 * nothing stored since before (ending_idle_before; store_conversation_idle),
 * a batch at a time. *closed (may be NULL) counts them. Returns 0 or -1
 * with *cause; those closed before a failure stay closed.
 */
int ending_close_idle(struct store *, const char *before, int *closed, char **cause);

#endif
