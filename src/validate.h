/* validate.h -- the output validation layer: nothing reaches a customer unchecked. */
#ifndef FL_VALIDATE_H
#define FL_VALIDATE_H

#include <cjson/cJSON.h>

#include "policy.h"
#include "util.h"

/* What a reply may draw on. */
struct validation_context {
	/* Text the reply may quote figures from: retrieved facts' titles and
	 * contents, and tool results (any JSON; its strings and numbers count). */
	const struct strv *knowledge;
	const cJSON *tool_results; /* may be NULL */
	/* This customer's own identifiers, which the reply may repeat: emails,
	 * phones, account ids, order numbers. */
	const struct strv *customer_ids;
	/* Text the reply may always contain (the policy's disclosures, the
	 * customer's own words); may be NULL. */
	const struct strv *allowed_text;
};

struct validation {
	int passed;
	/*
	 * One entry per violation, as "kind:detail": prohibited_topic:NAME,
	 * prohibited_phrase:PHRASE, pii:card_number, pii:national_id,
	 * pii:email, pii:phone, pii:account_id, ungrounded:FIGURE (money,
	 * percentage, date, duration or count found in neither knowledge nor
	 * tool results), and what a reply promises beyond authority:
	 * commitment:guarantee:TEXT, commitment:amount:FIGURE,
	 * commitment:date:TEXT, legal_claim:TEXT.
	 */
	struct strv violations;
};

/* Checks reply against the policy and the context; out is overwritten. */
void validate_reply(const struct policy *, const char *reply, const struct validation_context *,
                    struct validation *out);
void validation_free(struct validation *);
/* {"passed":bool,"violations":[...]}; caller frees. */
cJSON *validation_json(const struct validation *);

/*
 * The kind of a violation, for counting: what comes before its detail
 * ("ungrounded:$5" is ungrounded); a commitment keeps what was promised
 * ("commitment:amount:$740" is commitment:amount). A kind is its own
 * kind. Caller frees.
 */
char *validation_kind(const char *violation);

/* Luhn check of the digits in s (spaces and dashes ignored), 13-19 digits. */
int luhn_valid(const char *s, size_t len);

#endif
