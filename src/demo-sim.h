/* demo-sim.h -- simulated customers for `frontline console --demo`, played from a script. */
#ifndef FL_DEMO_SIM_H
#define FL_DEMO_SIM_H

#include <stddef.h>

#include "loop.h"
#include "types.h"

/* ------------------------------------------------------------ the script */

/*
 * One simulated customer (data/demo/customers.yaml): who, when, what they
 * say, and what the shipped engine is expected to make of it. The
 * expectations are not used by the simulation; tests/demo-script.sh checks
 * them against the real binary so the demo keeps showing what it claims.
 */
struct demo_customer {
	char *id;   /* customer id: a fixture customer, or a guest-* id */
	char *name; /* display name */
	enum tier tier;
	double at; /* arrival, seconds after the round starts (at speed 1) */
	char **messages;
	size_t nmessages;   /* 1..DEMO_MAX_MESSAGES */
	char *after_human;  /* said once a human answers an escalated chat, or NULL */
	int csat;           /* the rating given on leaving, 1..5; 0 for none */
	char *csat_comment; /* with it, or NULL */
	int line;           /* where the customer starts in the file */

	/* expect: exactly one of resolved and escalate; the rest optional (NULL) */
	int resolved;   /* no turn escalates */
	char *escalate; /* only the last turn escalates, with this reason code */
	char *stale;    /* a turn retrieves this fact flagged stale */
	char *tool;     /* a turn runs this tool (allowed) */
	char *no_tool;  /* no turn plans this tool */
	char *not_said; /* no reply or handoff message contains this text */
};

#define DEMO_MAX_MESSAGES  4
#define DEMO_MAX_CUSTOMERS 64

struct demo_script {
	char *path;
	int repeat;   /* start again when every customer has finished */
	double pause; /* seconds between rounds, at speed 1 */
	struct demo_customer *customers;
	size_t n;
};

/*
 * Reads and checks a script. Returns it (free with demo_script_free), or
 * NULL with *cause (caller frees): every problem found, one per line, as
 * "file:line:col: message".
 */
struct demo_script *demo_script_load(const char *path, char **cause);
void demo_script_free(struct demo_script *);

/* ------------------------------------------------------------ the driver */

struct demo_sim;

/* What the simulated customers do; the console implements these. */
struct demo_hooks {
	/* a simulated customer arrives; returns a handle for it (the console's conversation),
	 * or NULL to skip it */
	void *(*join)(void *arg, const char *customer_id, const char *name, enum tier tier);
	void (*say)(void *arg, void *who, const char *text); /* the customer sends a message */
	void (*leave)(void *arg, void *who); /* the script for this customer is over */
	void *arg;
	/* the customer rates the chat just before leaving (csat in the script); may be NULL */
	void (*rate)(void *arg, void *who, int score, const char *comment);
};

/*
 * Loads the script at path and starts playing it on the loop: each
 * customer joins at its offset, types its lines at a human pace (delays
 * proportional to the text, with deterministic jitter), waits for an answer
 * before each next line, and leaves when its script is over. speed (> 0)
 * divides every delay. Hooks are only ever called from the loop's timers.
 * The text passed to say and the strings passed to join belong to the
 * simulation and stay valid until it is freed. Returns NULL with *cause
 * (caller frees) when the script is bad or speed is not a positive number.
 */
struct demo_sim *demo_sim_new(struct loop *, const char *path, double speed,
                              const struct demo_hooks *, char **cause);

/*
 * The console answered `who` (role "ai" or "human") or its state changed;
 * the next scripted line follows after a human pause. Calls that arrive
 * while the customer is not waiting for an answer (typing, or already told
 * in this turn of the loop) count once or not at all. After the last line
 * of a customer whose script expects an escalation, the next answer (in a
 * later turn of the loop) is taken as the human's: the customer sends its
 * after_human line, if any, and leaves. Unknown handles are ignored. Never
 * calls a hook itself.
 */
void demo_sim_answered(struct demo_sim *, void *who);

/*
 * Stops the simulation: pending timers are cancelled, no hook is called
 * (customers still in a chat get no leave). Not from inside a hook. NULL is
 * a no-op.
 */
void demo_sim_free(struct demo_sim *);

#endif
