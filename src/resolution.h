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

struct resolution {
	char *reply;               /* owned */
	double confidence;         /* how sure the agent is that the reply resolves the message */
	unsigned asked;            /* ASK_* asked for this turn */
	const struct kb_hit *used; /* the fact quoted, or NULL */
	char *caveat;              /* the staleness caveat added, or NULL; owned */
};

/*
 * Composes a reply grounded in the tool results and the retrieved facts,
 * in the policy's tone: frustration acknowledged first, specific, and
 * never a refusal without another path. Facts flagged stale are used
 * only with a caveat, which lowers the confidence.
 */
void resolution_compose(const struct agents *, const struct conversation *,
                        const struct triage_result *, const struct kb_hits *,
                        const struct tool_call *calls, int ncalls, struct resolution *);
void resolution_free(struct resolution *);

#endif
