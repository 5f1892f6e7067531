/* rollout.h -- graduated rollout and canary deploys: who gets the AI, and when to go further. */
#ifndef FL_ROLLOUT_H
#define FL_ROLLOUT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "agents.h"
#include "policy.h"
#include "types.h"

/* ------------------------------------------------------------ assignment */

/*
 * The bucket 0..99 of a conversation key under a salt: the first 64 bits
 * of SHA-256(salt "\n" key) modulo 100, so the same key always lands in
 * the same bucket, on any machine. The canary's bucket hashes under
 * another salt (salt "/canary"), independent of the rollout's.
 */
int rollout_bucket(const char *salt, const char *key);
int rollout_canary_bucket(const char *salt, const char *key);
/* A conversation's key: "customer/conversation". Caller frees. */
char *rollout_key(const char *customer, int64_t conv);

/* Whether the stage's filters admit a conversation with this first triage. */
int rollout_eligible(const struct rollout_stage *, enum category, enum urgency, enum complexity,
                     enum tier);

/* Where a conversation goes. */
struct rollout_assignment {
	const char *stage; /* the stage's name (the policy's), NULL before the rollout starts */
	int eligible;      /* the stage's filters admit it */
	int bucket;        /* rollout_bucket */
	int ai;            /* arm: 1 "ai", 0 "human" */
	int canary;        /* on the candidate version */
	int canary_bucket; /* rollout_canary_bucket */
};

/*
 * Pure: the arm of the conversation key. stage indexes r->stages, or is
 * -1 before the rollout starts (everything is eligible and AI). The arm
 * is "ai" when eligible and bucket < the stage's share. canary_share is
 * the running canary's share (-1 for none): an AI conversation whose
 * canary bucket is below it runs on the candidate.
 */
void rollout_assign(const struct rollout_policy *r, int stage, int canary_share, const char *key,
                    enum category, enum urgency, enum complexity, enum tier,
                    struct rollout_assignment *out);
/* The "assignment" event: {version,arm,canary,stage,bucket,eligible,canary_bucket}; caller frees.
 */
cJSON *rollout_assignment_json(const struct rollout_assignment *, const char *version);

/* ------------------------------------------------------------------ gates */

/*
 * The gate to leave stage (an index into r->stages), on two metrics
 * reports (metrics.h): the AI arm's and the human baseline's. Checks the
 * sessions on each side, CSAT parity (each arm's CSAT is the mean over
 * every resolution path: what being in the arm was like), and the AI
 * arm's escalation rate for every category in the stage's scope.
 * Returns {"passed":bool,"stage","checks":[{"check","ok","detail"}...],
 * "reasons":[detail of each failed check...]}; caller frees.
 */
cJSON *rollout_gate(const struct rollout_policy *r, size_t stage, const cJSON *ai,
                    const cJSON *human);

/*
 * The gate out of a stage with no AI traffic (shadow): the report of the
 * newest shadow replay (frontline replay --json's object; NULL when there
 * is none) against the policy's gate.shadow thresholds, for the agent
 * version in force (version; a replay of another version fails). Returns
 * the same shape as rollout_gate; caller frees.
 */
cJSON *rollout_shadow_gate(const struct rollout_policy *r, size_t stage, const cJSON *replay,
                           const char *version);

/*
 * The canary's comparison: the candidate's report against the current
 * version's over the same window, hours after it started. Checks the
 * window, the sessions, CSAT, escalation rate and new violation kinds.
 * Returns the same shape as rollout_gate (without "stage"); caller frees.
 */
cJSON *canary_compare(const struct canary_policy *c, const cJSON *candidate, const cJSON *current,
                      double hours);

/* A report's CSAT over every path: the mean, and the responses in *responses. -1 with none. */
double rollout_report_csat(const cJSON *report, int *responses);

/* ------------------------------------------------------------ live traffic */

/*
 * The rollout in force for a chat or a console, from the store's rollout
 * and canary logs (see ctx_rollout in cmd.h, which builds it).
 */
struct rollout_live {
	const struct rollout_policy *policy; /* the current policy's ladder */
	int stage;                           /* -1: not started (everything AI) */
	int canary_share;                    /* -1: no canary running */
	struct agents candidate;             /* the agents on the candidate (canary) */
	struct policy *candidate_policy;     /* owned: candidate.policy */
	char candidate_version[13];
	struct policy readonly; /* the human arm's shadow turn: write tools off */
};

/* Whether anything is in force (else conversations are not assigned). */
int rollout_live_active(const struct rollout_live *);

/*
 * Assigns a new conversation at its first message, from the offline
 * triage of that message (ag->triage: deterministic, like the hash).
 * version names the agents that will answer. Returns the assignment
 * event's payload (caller frees) and fills *a.
 */
cJSON *rollout_live_assign(const struct rollout_live *, const struct agents *current,
                           const char *customer, int64_t conv, const char *text, enum tier,
                           struct rollout_assignment *a);

/*
 * The agents a turn of an assigned conversation runs on: the candidate's
 * for the canary, a copy of current whose policy has write tools off for
 * the human arm (the reply is computed, never sent: it must not act),
 * current otherwise. *out is filled; it borrows from live and current.
 */
void rollout_live_agents(struct rollout_live *, const struct agents *current, int ai, int canary,
                         struct agents *out);

/*
 * The human arm's first turn: the AI's reply (or its handoff message)
 * is moved to a "shadow" event {reply,escalation} with the AI's own
 * escalation decision, and the turn becomes a handoff to a human with
 * reason "rollout-human" (a packet without a message for the customer,
 * so nothing the AI wrote is sent). turn and events are modified in
 * place; t is the engine to triage the message for the packet.
 */
void rollout_divert(cJSON *turn, cJSON *events, const struct conversation *,
                    const struct triage *t);

#endif
