/* escalation.h -- the multi-signal escalation evaluator. */
#ifndef FL_ESCALATION_H
#define FL_ESCALATION_H

#include <cjson/cJSON.h>

#include "policy.h"
#include "types.h"

/* What the evaluator looks at for one turn. */
struct escalation_input {
	double agent_confidence; /* 0..1; < 0 when no answer was attempted */
	int turn_count;          /* customer turns so far, this one included */
	enum sentiment sentiment;
	enum category category;
	enum tier tier;
	int has_legal_language;
	double retrieval_confidence; /* top hit's confidence; < 0 when nothing was retrieved */
	int retrieval_unused; /* the reply does not rest on retrieval (tool results, a
	                         greeting, a question back to the customer) */
	const char *message; /* this turn's customer text, for sensitive handlers; may be NULL */
	double amount_usd;   /* largest USD amount in the conversation; < 0 when none */
};

/* Signals in the order they are evaluated: hard triggers, then soft. */
enum esc_signal_id {
	SIG_LEGAL,
	SIG_HUMAN_REQUEST,
	SIG_SENSITIVE,
	SIG_ENTERPRISE_BILLING,
	SIG_SENTIMENT,
	SIG_MAX_TURNS,
	SIG_CONFIDENCE,
	SIG_RETRIEVAL,
	SIG__N
};

struct esc_signal {
	const char *name; /* e.g. "max_turns" */
	int hard;         /* a hard trigger: escalates whatever the confidence */
	int applies;      /* the signal had something to measure */
	int fired;
	double value;     /* what was measured */
	double threshold; /* what it is compared with (NAN when not a number) */
	char detail[96];  /* human-readable: "turns 3/4", "confidence 0.64 < 0.72" */
};

struct escalation_decision {
	int escalate;
	char reason[64];   /* the seed's reason codes; "" when not escalating */
	const char *queue; /* where the handoff goes, when escalating */
	const char
	    *message; /* a handler's message for the customer, or NULL; owned by the policy */
	struct esc_signal signals[SIG__N];
};

/*
 * Evaluates every signal against the policy and decides. The first
 * signal to fire, in enum order, gives the reason; every signal's value
 * is filled in whether or not it fired.
 */
void escalation_evaluate(const struct policy *, const struct escalation_input *,
                         struct escalation_decision *);

/* The decision as {"escalate","reason","queue","signals":{...}}; caller frees. */
cJSON *escalation_json(const struct escalation_decision *);

#endif
