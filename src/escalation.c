/* escalation.c -- the multi-signal escalation evaluator (seed: EscalationEvaluator). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "escalation.h"

static const char *const signal_names[SIG__N] = {
    [SIG_LEGAL] = "legal_language",
    [SIG_HUMAN_REQUEST] = "human_requested",
    [SIG_SENSITIVE] = "sensitive_topic",
    [SIG_ENTERPRISE_BILLING] = "enterprise_billing",
    [SIG_SENTIMENT] = "sentiment_degradation",
    [SIG_MAX_TURNS] = "max_turns",
    [SIG_CONFIDENCE] = "agent_confidence",
    [SIG_RETRIEVAL] = "retrieval_confidence",
};

static const char *const queue_for_action[] = {
    [ACTION_ESCALATE_IMMEDIATELY] = "human-queue-priority",
    [ACTION_ESCALATE_TO_BILLING_SPECIALIST] = "billing-specialist",
    [ACTION_ESCALATE_TO_HUMAN] = "human-queue-standard",
};

/* Does a sensitive-topic handler fire for this input? */
static int
handler_fires(const struct sensitive_handler *h, const struct escalation_input *in)
{
	if (in->message == NULL || patset_match(&h->patterns, in->message) < 0)
		return 0;
	return h->threshold_usd < 0 || in->amount_usd > h->threshold_usd;
}

static void
reason_from_name(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s", name);
	for (char *p = out; *p != '\0'; p++)
		if (*p == '_')
			*p = '-';
}

void
escalation_evaluate(const struct policy *p, const struct escalation_input *in,
                    struct escalation_decision *out)
{
	const struct escalation_config *c = &p->esc;
	struct esc_signal *s = out->signals;

	memset(out, 0, sizeof *out);
	for (int i = 0; i < SIG__N; i++) {
		s[i].name = signal_names[i];
		s[i].threshold = NAN;
		s[i].hard = i <= SIG_SENTIMENT;
	}

	/* Hard triggers: always escalate, whatever the agent thinks. */
	s[SIG_LEGAL].applies = 1;
	s[SIG_LEGAL].value = in->has_legal_language ? 1 : 0;
	s[SIG_LEGAL].fired = in->has_legal_language != 0;
	snprintf(s[SIG_LEGAL].detail, sizeof s[SIG_LEGAL].detail, "%s",
	         in->has_legal_language ? "legal or regulatory language" : "none");

	/* A customer who asks for a person gets one: asking twice is already a failure. */
	int asked = in->message != NULL && patset_match(&c->human_request, in->message) >= 0;
	s[SIG_HUMAN_REQUEST].applies = in->message != NULL;
	s[SIG_HUMAN_REQUEST].value = asked;
	s[SIG_HUMAN_REQUEST].fired = asked;
	snprintf(s[SIG_HUMAN_REQUEST].detail, sizeof s[SIG_HUMAN_REQUEST].detail, "%s",
	         asked ? "the customer asked for a person" : "none");

	const struct sensitive_handler *hit = NULL;
	s[SIG_SENSITIVE].applies = in->message != NULL;
	for (size_t i = 0; i < p->nhandlers && hit == NULL; i++)
		if (handler_fires(&p->handlers[i], in))
			hit = &p->handlers[i];
	s[SIG_SENSITIVE].fired = hit != NULL;
	s[SIG_SENSITIVE].value = hit != NULL;
	if (hit != NULL && hit->threshold_usd >= 0) {
		s[SIG_SENSITIVE].value = in->amount_usd;
		s[SIG_SENSITIVE].threshold = hit->threshold_usd;
		snprintf(s[SIG_SENSITIVE].detail, sizeof s[SIG_SENSITIVE].detail,
		         "%s: $%.2f > $%.2f", hit->name, in->amount_usd, hit->threshold_usd);
	} else
		snprintf(s[SIG_SENSITIVE].detail, sizeof s[SIG_SENSITIVE].detail, "%s",
		         hit ? hit->name : "none");

	int ent_tier = (c->enterprise_tiers & (1u << in->tier)) != 0;
	int ent_cat = (c->enterprise_categories & (1u << in->category)) != 0;
	s[SIG_ENTERPRISE_BILLING].applies = c->enterprise_billing;
	s[SIG_ENTERPRISE_BILLING].fired = c->enterprise_billing && ent_tier && ent_cat;
	s[SIG_ENTERPRISE_BILLING].value = s[SIG_ENTERPRISE_BILLING].fired;
	snprintf(s[SIG_ENTERPRISE_BILLING].detail, sizeof s[SIG_ENTERPRISE_BILLING].detail,
	         "tier %s, category %s", tier_names[in->tier], category_names[in->category]);

	int frustrated = in->sentiment == SENT_FRUSTRATED;
	s[SIG_SENTIMENT].applies = 1;
	s[SIG_SENTIMENT].value = frustrated ? in->turn_count : 0;
	s[SIG_SENTIMENT].threshold = c->frustrated_turns;
	s[SIG_SENTIMENT].fired = frustrated && in->turn_count >= c->frustrated_turns;
	snprintf(s[SIG_SENTIMENT].detail, sizeof s[SIG_SENTIMENT].detail, "%s, turn %d of %d",
	         sentiment_names[in->sentiment], in->turn_count, c->frustrated_turns);

	/* Soft triggers. */
	s[SIG_MAX_TURNS].applies = 1;
	s[SIG_MAX_TURNS].value = in->turn_count;
	s[SIG_MAX_TURNS].threshold = c->max_turns;
	s[SIG_MAX_TURNS].fired = in->turn_count >= c->max_turns;
	snprintf(s[SIG_MAX_TURNS].detail, sizeof s[SIG_MAX_TURNS].detail, "turns %d/%d",
	         in->turn_count, c->max_turns);

	s[SIG_CONFIDENCE].applies = in->agent_confidence >= 0;
	s[SIG_CONFIDENCE].value = in->agent_confidence;
	s[SIG_CONFIDENCE].threshold = c->confidence_threshold;
	s[SIG_CONFIDENCE].fired =
	    in->agent_confidence >= 0 && in->agent_confidence < c->confidence_threshold;
	if (in->agent_confidence >= 0)
		snprintf(s[SIG_CONFIDENCE].detail, sizeof s[SIG_CONFIDENCE].detail,
		         "confidence %.2f %s %.2f", in->agent_confidence,
		         s[SIG_CONFIDENCE].fired ? "<" : ">=", c->confidence_threshold);
	else
		snprintf(s[SIG_CONFIDENCE].detail, sizeof s[SIG_CONFIDENCE].detail,
		         "no answer attempted");

	/*
	 * Nothing retrieved is the weakest retrieval there is, not the absence
	 * of a signal: on a sensitive category it counts as confidence 0.
	 */
	/* A reply from the account or the order, or one asking back, does not lean on it. */
	int sensitive =
	    (c->retrieval_categories & (1u << in->category)) != 0 && !in->retrieval_unused;
	int none = in->retrieval_confidence < 0;
	double rc = none ? 0 : in->retrieval_confidence;
	s[SIG_RETRIEVAL].applies = sensitive;
	s[SIG_RETRIEVAL].value = rc;
	s[SIG_RETRIEVAL].threshold = c->retrieval_floor;
	s[SIG_RETRIEVAL].fired = sensitive && rc < c->retrieval_floor;
	if (!none)
		snprintf(s[SIG_RETRIEVAL].detail, sizeof s[SIG_RETRIEVAL].detail,
		         "retrieval %.2f %s %.2f (%s%s)", rc,
		         rc < c->retrieval_floor ? "<" : ">=", c->retrieval_floor,
		         category_names[in->category], sensitive ? ", sensitive" : "");
	else
		snprintf(s[SIG_RETRIEVAL].detail, sizeof s[SIG_RETRIEVAL].detail,
		         "nothing retrieved (%s%s)", category_names[in->category],
		         sensitive ? ", sensitive" : "");

	for (int i = 0; i < SIG__N; i++) {
		if (!s[i].fired)
			continue;
		out->escalate = 1;
		out->queue = "human-queue-standard";
		switch (i) {
		case SIG_LEGAL:
			snprintf(out->reason, sizeof out->reason, "legal-language-detected");
			break;
		case SIG_HUMAN_REQUEST:
			snprintf(out->reason, sizeof out->reason, "customer-requested-human");
			break;
		case SIG_SENSITIVE:
			reason_from_name(out->reason, sizeof out->reason, hit->name);
			out->queue = queue_for_action[hit->action];
			out->message = *hit->message ? hit->message : NULL;
			break;
		case SIG_ENTERPRISE_BILLING:
			snprintf(out->reason, sizeof out->reason, "enterprise-billing-policy");
			break;
		case SIG_SENTIMENT:
			snprintf(out->reason, sizeof out->reason, "sentiment-degradation");
			break;
		case SIG_MAX_TURNS:
			snprintf(out->reason, sizeof out->reason, "max-turns-reached");
			break;
		case SIG_CONFIDENCE:
			snprintf(out->reason, sizeof out->reason, "low-confidence");
			break;
		case SIG_RETRIEVAL:
			snprintf(out->reason, sizeof out->reason,
			         "low-retrieval-confidence-sensitive-topic");
			break;
		}
		break;
	}
}

cJSON *
escalation_json(const struct escalation_decision *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "escalate", d->escalate);
	if (d->escalate) {
		cJSON_AddStringToObject(o, "reason", d->reason);
		cJSON_AddStringToObject(o, "queue", d->queue);
	} else {
		cJSON_AddNullToObject(o, "reason");
		cJSON_AddNullToObject(o, "queue");
	}
	cJSON *sigs = cJSON_AddObjectToObject(o, "signals");
	for (int i = 0; i < SIG__N; i++) {
		const struct esc_signal *s = &d->signals[i];
		cJSON *j = cJSON_AddObjectToObject(sigs, s->name);
		cJSON_AddBoolToObject(j, "hard", s->hard);
		cJSON_AddBoolToObject(j, "applies", s->applies);
		cJSON_AddBoolToObject(j, "fired", s->fired);
		cJSON_AddNumberToObject(j, "value", s->value);
		if (isnan(s->threshold))
			cJSON_AddNullToObject(j, "threshold");
		else
			cJSON_AddNumberToObject(j, "threshold", s->threshold);
		cJSON_AddStringToObject(j, "detail", s->detail);
	}
	return o;
}
