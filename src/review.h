/*
 * review.h -- trainer review: corrections of what the AI got wrong in a
 * handoff, and their export as tickets (DESIGN.md section 5) for replay
 * and the drift suite. Shared by `frontline handoff review` and the
 * console's Review screen.
 *
 * A correction (stored with store_review_add) is one JSON object:
 *
 * {"ok":bool,                       nothing was wrong
 *  "ai":{"category","reason"},      what the AI decided (category null when unknown)
 *  "category":"billing",            the right category (the AI's unless corrected)
 *  "escalated":bool,                whether the conversation should have escalated
 *  "reason":"legal-language-detected"|null,   the right reason (null: no escalation)
 *  "wrong":["category","escalation","reason","missing-information"],
 *  "missing":["..."],               what the packet should have said
 *  "note":"..."|null}
 */
#ifndef FL_REVIEW_H
#define FL_REVIEW_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "util.h"

struct policy;
struct store;

/* The reason codes the pipeline can give (NULL-terminated), before the policy's handlers. */
extern const char *const review_fixed_reasons[];

/* Every reason a handoff can carry under policy p (may be NULL): appended to *out. */
void review_reasons(const struct policy *p, struct strv *out);
/* True when reason is one of review_reasons(p). */
int review_reason_known(const struct policy *p, const char *reason);

/* A handoff packet with what a reviewer reads beside it. */
struct review_packet {
	int64_t id, conv;
	cJSON *packet;           /* store_handoff_get */
	cJSON *conversation;     /* store_conversation_get's row; NULL when it is gone */
	cJSON *messages;         /* store_messages */
	cJSON *events;           /* store_events */
	const char *ai_category; /* the triage category at the handoff (in events), or NULL */
	const char *ai_reason;   /* the packet's reason (in packet) */
};

/*
 * Loads handoff id with its conversation. Returns 0, 1 when there is no
 * such packet (rp left zeroed), or -1 with *cause (caller frees).
 * review_packet_free releases what was loaded.
 */
int review_packet_load(struct store *, int64_t id, struct review_packet *rp, char **cause);
void review_packet_free(struct review_packet *);
/*
 * Sets rp->ai_category and rp->ai_reason from rp->packet and rp->events:
 * the category of the triage of the turn that handed off (the packet's
 * customer.messages-th triage event, else the last one). Pure.
 */
void review_packet_derive(struct review_packet *rp);

/* What a reviewer says; NULL fields leave the AI's decision standing. */
struct review_edit {
	const char *category;
	const char *reason;
	int no_escalation; /* it should not have escalated (reason must be NULL) */
	struct strv missing;
	const char *note;
};

/*
 * Checks the edit against the value sets (category_names, the reasons of
 * p). Returns 0, or -1 with *cause (caller frees) naming the valid values.
 */
int review_edit_check(const struct review_edit *, const struct policy *p, char **cause);

/* The correction object (see the top of this file) for the edit of rp. Pure; caller frees. */
cJSON *review_correction(const struct review_packet *rp, const struct review_edit *);

/*
 * The newest review of handoff in reviews (store_reviews' array, oldest
 * first), or NULL.
 */
const cJSON *review_latest(const cJSON *reviews, int64_t handoff);

/*
 * The ticket (DESIGN.md section 5) that a reviewed handoff becomes:
 * {"id":"review-N","created_at","channel":"chat","customer":{"id","name","tier"},
 *  "messages":[{"role":"customer"|"human","text","at"}...],
 *  "labels":{"intent_category","escalated","escalation_reason"},
 *  "outcome":{...}|absent, "missing_information":[...],
 *  "review":{"handoff","conversation","reviewer","reviewed_at","note","ai":{...},"wrong":[...]}}
 * The AI's own messages are left out: a replay produces its own. review
 * is a row of store_reviews. Pure; caller frees.
 */
cJSON *review_ticket(const struct review_packet *rp, const cJSON *review);

/*
 * Writes the newest review of every reviewed handoff as a ticket, one
 * JSON line each, in handoff order. *n gets the number written. Returns 0,
 * or -1 with *cause (caller frees).
 */
int review_export(struct store *, FILE *out, size_t *n, char **cause);

#endif
