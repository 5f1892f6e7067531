/* resolution.h -- the resolution agent (playbook role 2) on the offline engine. */
#ifndef FL_RESOLUTION_H
#define FL_RESOLUTION_H

#include "conversation.h"

/* The tools to call this turn, planned from triage and the conversation. */
struct plan {
	int tool[4];
	cJSON *args[4]; /* owned until handed to tool_invoke */
	int n;
};

/*
 * Plans this turn's tool calls: the order's status when an order number
 * is known, the account for account and billing questions. Knowledge is
 * searched by the caller every turn.
 */
void resolution_plan(const struct conversation *, const struct triage_result *, struct plan *);

/*
 * Plans this turn's write tools from what the read tools (reads, nreads)
 * verified, never from amounts or orders in the customer's words: a
 * standard credit of the policy's credit.standard_usd for an order the
 * backend reports delayed or lost, and a resent confirmation for a known
 * order, each only when the customer asked for it (this message, or the
 * one the agent answered by asking for the order number) and once per order
 * per conversation. Whether a planned write may run is tool_invoke's call.
 */
void resolution_plan_writes(const struct policy *, const struct conversation *,
                            const struct tool_call *reads, int nreads, struct plan *);

struct resolution {
	char *reply;               /* owned */
	double confidence;         /* how sure the agent is that the reply resolves the message */
	unsigned asked;            /* ASK_* asked for this turn */
	const struct kb_hit *used; /* the fact quoted, or NULL */
	char *caveat;              /* the staleness caveat added, or NULL; owned */
	int refused;               /* a write the customer asked for was refused or failed */
};

/*
 * Composes a reply grounded in the tool results and the retrieved facts,
 * in the policy's tone: frustration acknowledged first, specific, and
 * never a refusal without another path. Facts flagged stale are used
 * only with a caveat, which lowers the confidence. A write that is done
 * is told to the customer; one that was refused or failed sets refused,
 * and the caller hands the conversation to a human.
 */
void resolution_compose(const struct agents *, const struct conversation *,
                        const struct triage_result *, const struct kb_hits *,
                        const struct tool_call *calls, int ncalls, struct resolution *);
void resolution_free(struct resolution *);

#endif
