/* resolution.h -- the resolution agent (playbook role 2) on the offline engine. */
#ifndef FL_RESOLUTION_H
#define FL_RESOLUTION_H

#include "agents.h"

/* The tools to call this turn, planned from triage and the conversation. */
struct plan {
	int tool[4];
	cJSON *args[4]; /* owned until handed to tool_invoke */
	int n;
};

/*
 * Plans this turn's tool calls: the order's status when an order number
 * is known, the account for account and billing questions, and the write
 * the customer accepted when the agent offered one. Knowledge is searched
 * by the caller every turn.
 */
void resolution_plan(const struct policy *, const struct conversation *,
                     const struct triage_result *, struct plan *);

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

/* What the reply is made of, for its confidence (resolution_confidence). */
enum reply_feature {
	FEAT_FACT_CONF,   /* confidence of the fact quoted, 0 for none */
	FEAT_FACT_MARGIN, /* its lead over the next hit */
	FEAT_COVERAGE,    /* share of the question's idf the fact covers */
	FEAT_TOOL,        /* the answer comes from a tool result (an order, a write done) */
	FEAT_SOCIAL,      /* a greeting, thanks, yes or no answered in kind */
	FEAT_ASKED,       /* the reply asks for a missing detail or a choice */
	FEAT_STALE,       /* the fact quoted is stale */
	FEAT_NONE,        /* nothing answers the question */
	FEAT__N
};
extern const char *const reply_feature_names[];

struct resolution {
	char *reply;               /* owned */
	double confidence;         /* P(a careful human lets the reply stand) */
	double feat[FEAT__N];      /* what the confidence was computed from */
	const struct kb_hit *used; /* the fact quoted, or NULL */
	char *caveat;              /* the staleness caveat added, or NULL; owned */
	int refused;               /* a write the customer asked for was refused or failed */
	int acted;                 /* a write was tried: the question was a request to act */
	/* The dialogue state the reply leaves behind. */
	enum awaiting awaiting;
	cJSON *offer;      /* a new offer, owned; NULL for none */
	char *pending;     /* the question waiting for the detail asked for; owned */
	int offered_more;  /* the reply ends by asking whether there is anything else */
	struct strv told;  /* what the reply told ("order:ID:STATUS", "fact:ID") */
	int handoff;       /* the customer accepted a person */
	int needs_person;  /* what the customer asked for or accepted only a person can do */
	char *action;      /* that, or a refused write, in words ("arrange a replacement"); owned */
	const char *declined; /* the prohibited topic declined, or NULL (the policy's) */
};

/*
 * Composes the reply to the conversation's last message (c->act says what
 * it did) from the tool results and the retrieved facts, in the policy's
 * tone pieces: a greeting, thanks or "no" answered in kind, an offer carried
 * out, a prohibited topic declined with another path, a late order said to
 * be late, a missing detail asked for once, facts told once and only their
 * customer-facing text. Facts flagged stale are used only with a caveat.
 * A write that is done is told to the customer; one that was refused or
 * failed sets refused, and the caller hands the conversation to a human.
 */
void resolution_compose(const struct agents *, const struct conversation *,
                        const struct triage_result *, const struct kb_hits *,
                        const struct tool_call *calls, int ncalls, struct resolution *);
/* The calibrated confidence for a reply's features (a logistic model). */
double resolution_confidence(const double feat[FEAT__N]);
void resolution_free(struct resolution *);

#endif
