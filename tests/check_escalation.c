/* check_escalation.c -- the multi-signal escalation evaluator against the shipped policy. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "escalation.h"
#include "testutil.h"

static struct policy *pol;

/*
 * The shipped policy with the playbook's confidence threshold, 0.72, which
 * these tests spell out (Acme's policy ships the one its shadow replay
 * chose: README, Decision quality).
 */
static void
setup(void)
{
	struct diag d = {0};
	char *path = srcpath("policies/support-agent-policy.yaml");
	char *text = slurp(path);
	char *seed = replace1(text, "confidence_threshold: 0.5", "confidence_threshold: 0.72");
	pol = policy_load_text(path, seed, strlen(seed), &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(pol != NULL, "%s:\n%s", path, msgs);
	free(msgs);
	diag_free(&d);
	free(seed);
	free(text);
	free(path);
}

static void
teardown(void)
{
	policy_free(pol);
	pol = NULL;
}

/* A turn where nothing is wrong: a confident answer on turn 1. */
static struct escalation_input
calm(void)
{
	struct escalation_input in = {
	    .agent_confidence = 0.9,
	    .turn_count = 1,
	    .sentiment = SENT_NEUTRAL,
	    .category = CAT_SHIPPING,
	    .tier = TIER_STANDARD,
	    .has_legal_language = 0,
	    .retrieval_confidence = 0.9,
	    .message = "Where is my order A1234567?",
	    .amount_usd = -1,
	};
	return in;
}

static struct escalation_decision
decide(const struct escalation_input *in)
{
	struct escalation_decision d;
	memset(&d, 0x5a, sizeof d); /* the evaluator must fill in everything */
	escalation_evaluate(pol, in, &d);
	return d;
}

static void
assert_escalates(const struct escalation_input *in, const char *reason, const char *queue)
{
	struct escalation_decision d = decide(in);
	ck_assert_msg(d.escalate, "no escalation, wanted %s", reason);
	ck_assert_str_eq(d.reason, reason);
	ck_assert_ptr_nonnull(d.queue);
	if (queue != NULL)
		ck_assert_str_eq(d.queue, queue);
}

static void
assert_no_escalation(const struct escalation_input *in)
{
	struct escalation_decision d = decide(in);
	ck_assert_msg(!d.escalate, "escalated: %s", d.reason);
	ck_assert_str_eq(d.reason, "");
	ck_assert_ptr_null(d.message);
	for (int i = 0; i < SIG__N; i++)
		ck_assert_msg(!d.signals[i].fired, "%s fired", d.signals[i].name);
}

static int
legal(const char *text)
{
	return patset_match(&pol->esc.legal, text) >= 0;
}

/* ----------------------------------------------------------- triggers */

START_TEST(nothing_wrong_no_escalation)
{
	struct escalation_input in = calm();
	assert_no_escalation(&in);
	struct escalation_decision d = decide(&in);
	ck_assert_ptr_null(d.queue);
	/* Billing and account are fine too when everything is confident. */
	in.category = CAT_BILLING;
	in.tier = TIER_PREMIUM;
	in.sentiment = SENT_POSITIVE;
	in.turn_count = 3;
	assert_no_escalation(&in);
	/* No answer attempted and nothing retrieved is not an alarm by itself. */
	in = calm();
	in.agent_confidence = -1;
	in.retrieval_confidence = -1;
	in.message = NULL;
	assert_no_escalation(&in);
}
END_TEST

START_TEST(legal_language_detected)
{
	struct escalation_input in = calm();
	in.message = "If this isn't fixed I'll have my lawyer contact you";
	in.has_legal_language = legal(in.message);
	ck_assert(in.has_legal_language);
	assert_escalates(&in, "legal-language-detected", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert(d.signals[SIG_LEGAL].fired);
	ck_assert(d.signals[SIG_LEGAL].hard);

	/* Everyday words that only look legal do not. */
	in.message = "I have an issue with the app, please pursue it";
	in.has_legal_language = legal(in.message);
	ck_assert(!in.has_legal_language);
	assert_no_escalation(&in);
}
END_TEST

START_TEST(asking_for_a_person)
{
	static const char *const asks[] = {
	    "I want to speak to a human agent please",
	    "Can I talk to a real person?",
	    "transfer me to a manager",
	    "agent",
	    "Human please!",
	    "I want a human, not a bot",
	    "I'd rather talk to a person than a bot",
	    "could you get me a real human please",
	    "is there a living, breathing person I can talk to?",
	    "am I ever going to get a real person?",
	};
	/* Asking whether this is a person is not asking for one (issue 15). */
	static const char *const not_asks[] = {
	    "you're not a bot, are you?",
	    "are you a real person?",
	    "am I talking to a real human?",
	    "are you a person or a program?",
	    "is this a bot rather than a human?",
	    "the agent said my order shipped",
	    "how do I add a person to my account",
	    "is the human body sensor on the cam adjustable?",
	};
	for (size_t i = 0; i < nitems(asks); i++) {
		struct escalation_input in = calm();
		in.message = asks[i];
		struct escalation_decision d = decide(&in);
		ck_assert_msg(d.escalate && strcmp(d.reason, "customer-requested-human") == 0,
		              "'%s': %s", asks[i], d.reason);
		ck_assert(d.signals[SIG_HUMAN_REQUEST].hard);
	}
	for (size_t i = 0; i < nitems(not_asks); i++) {
		struct escalation_input in = calm();
		in.message = not_asks[i];
		ck_assert_msg(!decide(&in).signals[SIG_HUMAN_REQUEST].fired, "'%s'", not_asks[i]);
	}
}
END_TEST

START_TEST(account_security_concern)
{
	static const char *const msgs[] = {
	    "I think someone logged into my account and changed my email",
	    "My account was hacked!!",
	    "There's a suspicious login from another country",
	    "Somebody changed my password without asking me",
	};
	for (size_t i = 0; i < nitems(msgs); i++) {
		struct escalation_input in = calm();
		in.category = CAT_ACCOUNT;
		in.message = msgs[i];
		struct escalation_decision d = decide(&in);
		ck_assert_msg(d.escalate, "'%s' did not escalate", msgs[i]);
		ck_assert_str_eq(d.reason, "account-security-concern");
		ck_assert_str_eq(d.queue, "human-queue-priority");
		ck_assert_str_eq(d.message,
		                 "For your security, I'm connecting you with a specialist right "
		                 "now.");
		ck_assert(d.signals[SIG_SENSITIVE].fired);
		ck_assert_str_eq(d.signals[SIG_SENSITIVE].detail, "account_security_concern");
	}
	struct escalation_input in = calm();
	in.category = CAT_ACCOUNT;
	in.message = "How do I change my password?";
	assert_no_escalation(&in);
}
END_TEST

/* Hard triggers as customers tell them: every message, alone, escalates for reason. */
static void
assert_each_escalates(const char *const *msgs, size_t n, double amount, const char *reason)
{
	for (size_t i = 0; i < n; i++) {
		struct escalation_input in = calm();
		in.message = msgs[i];
		in.has_legal_language = legal(msgs[i]);
		in.amount_usd = amount;
		struct escalation_decision d = decide(&in);
		ck_assert_msg(d.escalate && strcmp(d.reason, reason) == 0, "'%s': %s, wanted %s",
		              msgs[i], d.escalate ? d.reason : "no escalation", reason);
	}
}

START_TEST(takeovers_told_without_hacked)
{
	static const char *const msgs[] = {
	    "someone changed my email and now I can't get in",
	    "I got a code I never asked for, then an order I didn't place",
	    "my email was changed and I can't log in anymore",
	    "somebody got into my account and ordered stuff",
	    "I keep getting password reset emails I didn't request",
	    "there's an order on my account I didn't place",
	    "a stranger has access to my account",
	    "I don't recognize this laptop in my signed-in devices",
	    "someone else has my password and keeps changing my settings",
	    "I think my account was hacked",
	    "my password was leaked",
	};
	assert_each_escalates(msgs, nitems(msgs), -1, "account-security-concern");
}
END_TEST

START_TEST(regulators_and_lawyers_in_any_words)
{
	static const char *const msgs[] = {
	    "I'm reporting you to the attorney general",
	    "I will complain to the ombudsman about this",
	    "I'm going to file a complaint with the BBB",
	    "reporting you to consumer protection",
	    "I'll report you to the regulator",
	    "what you did is illegal",
	    "this violates GDPR",
	    "under the CCPA I want a copy of everything you hold on me",
	    "I've now written to the state consumer affairs office",
	    /* Lower case mid-sentence, and every form of the word. */
	    "ok so i spoke to my attorney about this",
	    "my lawyers will be in touch",
	    "he sued a company like yours before and he will sue you",
	    "if this isn't fixed i'm going to sue",
	    "I won't hesitate to take legal action",
	    "don't make me sue you",
	    "I don't want to have to call my lawyer",
	    "I\xe2\x80\x99m going to sue",
	};
	assert_each_escalates(msgs, nitems(msgs), -1, "legal-language-detected");
}
END_TEST

START_TEST(contested_charges_over_the_threshold)
{
	static const char *const msgs[] = {
	    "you took $649 and I never bought that",
	    "there is a $620 charge I don't recognize",
	    "I was charged twice for $550",
	    "I see two charges of $700 for the same order",
	    "I want to dispute a $740 charge",
	    "this $900 charge is fraudulent, I never authorized it",
	};
	assert_each_escalates(msgs, nitems(msgs), 649, "payment-dispute-over-threshold");
	/* The same under the threshold is for the agent. */
	for (size_t i = 0; i < nitems(msgs); i++) {
		struct escalation_input in = calm();
		in.message = msgs[i];
		in.amount_usd = 120;
		ck_assert_msg(!decide(&in).signals[SIG_SENSITIVE].fired, "'%s'", msgs[i]);
	}
}
END_TEST

START_TEST(lookalikes_trigger_nothing)
{
	static const char *const msgs[] = {
	    /* Names. */
	    "my daughter Sue ordered the camera",
	    "Thanks, Sue",
	    "Sue's order never came",
	    /* Figures of speech. */
	    "this is killing me, where is my order",
	    "the law of averages says it should have arrived",
	    /* Negations. */
	    "nobody hacked me, I just forgot my password",
	    "I'm not going to sue, I just want my tracking number",
	    "I\xe2\x80\x99m not going to sue, I just want my tracking number",
	    "I have no intention of taking legal action",
	    "I don't think my account was hacked, I just can't remember the password",
	    /* Risks asked about or read of. */
	    "Can my camera be hacked?",
	    "I read that people got hacked, is my account safe?",
	    "my husband has my password, he set up the cameras",
	    /* Ordinary security and billing questions. */
	    "how do I turn on two-step verification?",
	    "I didn't get my verification code",
	    "I changed my email and now I can't log in",
	    "I got a sign-in alert from a new device but it was me",
	    "the password reset link didn't work",
	    "my package was stolen from the porch",
	    "I ordered the $599 camera, when does it ship?",
	    "I only ordered it once but got two boxes",
	    "my voltage regulator is broken and I want to report it",
	};
	for (size_t i = 0; i < nitems(msgs); i++) {
		struct escalation_input in = calm();
		in.message = msgs[i];
		in.has_legal_language = legal(msgs[i]);
		in.amount_usd = 599;
		struct escalation_decision d = decide(&in);
		for (int k = 0; k < SIG__N; k++)
			ck_assert_msg(!d.signals[k].fired, "'%s' fired %s", msgs[i],
			              d.signals[k].name);
	}
}
END_TEST

START_TEST(payment_dispute_over_threshold)
{
	struct escalation_input in = calm();
	in.category = CAT_BILLING;
	in.message = "I want to dispute a $740 charge I never authorized";
	in.amount_usd = 740;
	struct escalation_decision d = decide(&in);
	ck_assert(d.escalate);
	ck_assert_str_eq(d.reason, "payment-dispute-over-threshold");
	ck_assert_str_eq(d.queue, "billing-specialist");
	ck_assert_str_eq(d.message, "I'm bringing in a billing specialist who can resolve this "
	                            "dispute with you.");
	ck_assert_double_eq_tol(d.signals[SIG_SENSITIVE].value, 740, 1e-9);
	ck_assert_double_eq_tol(d.signals[SIG_SENSITIVE].threshold, 500, 1e-9);
	ck_assert_str_eq(d.signals[SIG_SENSITIVE].detail,
	                 "payment_dispute_over_threshold: $740.00 > $500.00");

	in.amount_usd = 500.01;
	assert_escalates(&in, "payment-dispute-over-threshold", "billing-specialist");
	/* Not at the threshold, not below it, not without an amount. */
	in.amount_usd = 500;
	assert_no_escalation(&in);
	in.amount_usd = 120;
	assert_no_escalation(&in);
	in.amount_usd = -1;
	assert_no_escalation(&in);
	/* A large amount without a dispute is no dispute. */
	in.message = "Can I pay the $900 invoice by card?";
	in.amount_usd = 900;
	assert_no_escalation(&in);
}
END_TEST

START_TEST(enterprise_billing_policy)
{
	struct escalation_input in = calm();
	in.tier = TIER_ENTERPRISE;
	in.category = CAT_BILLING;
	in.message = "Please send a copy of last month's invoice";
	assert_escalates(&in, "enterprise-billing-policy", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert_str_eq(d.signals[SIG_ENTERPRISE_BILLING].detail,
	                 "tier enterprise, category billing");
	/* Enterprise but not billing, or billing but not enterprise: no. */
	in.category = CAT_TECHNICAL;
	assert_no_escalation(&in);
	in.category = CAT_BILLING;
	in.tier = TIER_PREMIUM;
	assert_no_escalation(&in);
}
END_TEST

START_TEST(sentiment_degradation)
{
	struct escalation_input in = calm();
	in.sentiment = SENT_FRUSTRATED;
	in.turn_count = 3;
	in.agent_confidence = 0.95;
	assert_escalates(&in, "sentiment-degradation", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert(d.signals[SIG_SENTIMENT].hard);
	ck_assert_double_eq_tol(d.signals[SIG_SENTIMENT].value, 3, 1e-9);
	ck_assert_double_eq_tol(d.signals[SIG_SENTIMENT].threshold, 3, 1e-9);
	ck_assert_str_eq(d.signals[SIG_SENTIMENT].detail, "frustrated, turn 3 of 3");
	/* Frustrated on turn 2: not yet. */
	in.turn_count = 2;
	assert_no_escalation(&in);
	/* Neutral on turn 3: no. */
	in.turn_count = 3;
	in.sentiment = SENT_NEUTRAL;
	assert_no_escalation(&in);
}
END_TEST

START_TEST(max_turns_reached)
{
	struct escalation_input in = calm();
	in.turn_count = 4;
	assert_escalates(&in, "max-turns-reached", NULL);
	in.turn_count = 7;
	assert_escalates(&in, "max-turns-reached", NULL);
	in.turn_count = 3;
	assert_no_escalation(&in);
}
END_TEST

START_TEST(low_confidence)
{
	struct escalation_input in = calm();
	in.agent_confidence = 0.71;
	assert_escalates(&in, "low-confidence", NULL);
	in.agent_confidence = 0;
	assert_escalates(&in, "low-confidence", NULL);
	/* Exactly at the threshold is confident enough. */
	in.agent_confidence = 0.72;
	assert_no_escalation(&in);
	struct escalation_decision d = decide(&in);
	ck_assert_str_eq(d.signals[SIG_CONFIDENCE].detail, "confidence 0.72 >= 0.72");
}
END_TEST

START_TEST(low_retrieval_confidence_sensitive_topic)
{
	struct escalation_input in = calm();
	in.category = CAT_BILLING;
	in.retrieval_confidence = 0.3;
	assert_escalates(&in, "low-retrieval-confidence-sensitive-topic", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert(d.signals[SIG_RETRIEVAL].applies);
	ck_assert_double_eq_tol(d.signals[SIG_RETRIEVAL].value, 0.3, 1e-9);
	ck_assert_double_eq_tol(d.signals[SIG_RETRIEVAL].threshold, 0.5, 1e-9);
	ck_assert_str_eq(d.signals[SIG_RETRIEVAL].detail,
	                 "retrieval 0.30 < 0.50 (billing, sensitive)");
	in.category = CAT_ACCOUNT;
	assert_escalates(&in, "low-retrieval-confidence-sensitive-topic", NULL);
	/* At the floor it is fine. */
	in.retrieval_confidence = 0.5;
	assert_no_escalation(&in);
	/* Shipping is not a sensitive category: weak retrieval is not escalated. */
	in.category = CAT_SHIPPING;
	in.retrieval_confidence = 0.1;
	assert_no_escalation(&in);
	d = decide(&in);
	ck_assert(!d.signals[SIG_RETRIEVAL].applies);
	ck_assert_str_eq(d.signals[SIG_RETRIEVAL].detail, "retrieval 0.10 < 0.50 (shipping)");
}
END_TEST

START_TEST(nothing_retrieved_on_a_sensitive_topic)
{
	/* Nothing at all is weaker than a weak hit: on billing it escalates. */
	struct escalation_input in = calm();
	in.category = CAT_BILLING;
	in.retrieval_confidence = -1;
	assert_escalates(&in, "low-retrieval-confidence-sensitive-topic", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert(d.signals[SIG_RETRIEVAL].applies);
	ck_assert_double_eq_tol(d.signals[SIG_RETRIEVAL].value, 0, 1e-9);
	ck_assert_str_eq(d.signals[SIG_RETRIEVAL].detail, "nothing retrieved (billing, sensitive)");
	/* Elsewhere it is no alarm by itself. */
	in.category = CAT_TECHNICAL;
	assert_no_escalation(&in);
	d = decide(&in);
	ck_assert(!d.signals[SIG_RETRIEVAL].applies);
	ck_assert_str_eq(d.signals[SIG_RETRIEVAL].detail, "nothing retrieved (technical)");
}
END_TEST

/* --------------------------------------------------------- precedence */

START_TEST(legal_beats_enterprise_billing)
{
	struct escalation_input in = calm();
	in.tier = TIER_ENTERPRISE;
	in.category = CAT_BILLING;
	in.message = "Our counsel will review this invoice";
	in.has_legal_language = legal(in.message);
	ck_assert(in.has_legal_language);
	assert_escalates(&in, "legal-language-detected", NULL);
	struct escalation_decision d = decide(&in);
	/* The others are still measured. */
	ck_assert(d.signals[SIG_ENTERPRISE_BILLING].fired);
}
END_TEST

START_TEST(enterprise_billing_beats_sentiment)
{
	struct escalation_input in = calm();
	in.tier = TIER_ENTERPRISE;
	in.category = CAT_BILLING;
	in.sentiment = SENT_FRUSTRATED;
	in.turn_count = 3;
	assert_escalates(&in, "enterprise-billing-policy", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert(d.signals[SIG_SENTIMENT].fired);
}
END_TEST

START_TEST(sensitive_handler_beats_enterprise_billing)
{
	struct escalation_input in = calm();
	in.tier = TIER_ENTERPRISE;
	in.category = CAT_BILLING;
	in.message = "We were double charged and want a chargeback";
	in.amount_usd = 12000;
	assert_escalates(&in, "payment-dispute-over-threshold", "billing-specialist");
}
END_TEST

START_TEST(hard_trigger_beats_low_confidence)
{
	struct escalation_input in = calm();
	in.agent_confidence = 0.2;
	in.sentiment = SENT_FRUSTRATED;
	in.turn_count = 3;
	assert_escalates(&in, "sentiment-degradation", NULL);
	in = calm();
	in.agent_confidence = 0.2;
	in.category = CAT_ACCOUNT;
	in.message = "my account was compromised";
	assert_escalates(&in, "account-security-concern", "human-queue-priority");
	in.has_legal_language = 1;
	assert_escalates(&in, "legal-language-detected", NULL);
}
END_TEST

START_TEST(max_turns_beats_low_confidence)
{
	struct escalation_input in = calm();
	in.turn_count = 4;
	in.agent_confidence = 0.5;
	in.category = CAT_BILLING;
	in.retrieval_confidence = 0.1;
	assert_escalates(&in, "max-turns-reached", NULL);
	struct escalation_decision d = decide(&in);
	ck_assert(d.signals[SIG_CONFIDENCE].fired);
	ck_assert(d.signals[SIG_RETRIEVAL].fired);
	/* Low confidence beats low retrieval confidence. */
	in.turn_count = 1;
	assert_escalates(&in, "low-confidence", NULL);
}
END_TEST

/* ------------------------------------------------------------ signals */

START_TEST(every_signal_is_filled_in)
{
	struct escalation_input in = calm();
	in.turn_count = 3;
	in.agent_confidence = 0.64;
	in.category = CAT_BILLING;
	in.retrieval_confidence = 0.8;
	struct escalation_decision d = decide(&in);
	ck_assert(d.escalate);
	ck_assert_str_eq(d.reason, "low-confidence");

	static const char *const names[SIG__N] = {
	    "legal_language",        "human_requested", "sensitive_topic",  "enterprise_billing",
	    "sentiment_degradation", "max_turns",       "agent_confidence", "retrieval_confidence",
	};
	for (int i = 0; i < SIG__N; i++) {
		ck_assert_str_eq(d.signals[i].name, names[i]);
		ck_assert_int_eq(d.signals[i].hard, i <= SIG_SENTIMENT);
		ck_assert_msg(d.signals[i].detail[0] != '\0', "%s has no detail", names[i]);
		ck_assert_msg(memchr(d.signals[i].detail, '\0', sizeof d.signals[i].detail) != NULL,
		              "%s: detail not terminated", names[i]);
	}
	const struct esc_signal *s = d.signals;
	ck_assert_double_eq_tol(s[SIG_MAX_TURNS].value, 3, 1e-9);
	ck_assert_double_eq_tol(s[SIG_MAX_TURNS].threshold, 4, 1e-9);
	ck_assert(!s[SIG_MAX_TURNS].fired);
	ck_assert_str_eq(s[SIG_MAX_TURNS].detail, "turns 3/4");
	ck_assert_double_eq_tol(s[SIG_CONFIDENCE].value, 0.64, 1e-9);
	ck_assert_double_eq_tol(s[SIG_CONFIDENCE].threshold, 0.72, 1e-9);
	ck_assert(s[SIG_CONFIDENCE].fired);
	ck_assert_str_eq(s[SIG_CONFIDENCE].detail, "confidence 0.64 < 0.72");
	ck_assert_double_eq_tol(s[SIG_RETRIEVAL].value, 0.8, 1e-9);
	ck_assert_double_eq_tol(s[SIG_RETRIEVAL].threshold, 0.5, 1e-9);
	ck_assert(!s[SIG_RETRIEVAL].fired);
	ck_assert_str_eq(s[SIG_RETRIEVAL].detail, "retrieval 0.80 >= 0.50 (billing, sensitive)");
	ck_assert_double_eq_tol(s[SIG_SENTIMENT].threshold, 3, 1e-9);
	ck_assert_str_eq(s[SIG_SENTIMENT].detail, "neutral, turn 3 of 3");
	ck_assert_str_eq(s[SIG_LEGAL].detail, "none");
	ck_assert_str_eq(s[SIG_SENSITIVE].detail, "none");
	ck_assert_str_eq(s[SIG_ENTERPRISE_BILLING].detail, "tier standard, category billing");
	/* Non-numeric signals have no threshold. */
	ck_assert(isnan(s[SIG_LEGAL].threshold));
	ck_assert(isnan(s[SIG_ENTERPRISE_BILLING].threshold));
}
END_TEST

START_TEST(escalation_json_has_the_decision_and_all_signals)
{
	struct escalation_input in = calm();
	in.turn_count = 3;
	in.agent_confidence = 0.64;
	struct escalation_decision d = decide(&in);
	cJSON *o = escalation_json(&d);
	ck_assert_ptr_nonnull(o);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "escalate")));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "reason")->valuestring,
	                 "low-confidence");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "queue")->valuestring,
	                 "human-queue-standard");
	cJSON *sigs = cJSON_GetObjectItemCaseSensitive(o, "signals");
	ck_assert(cJSON_IsObject(sigs));
	ck_assert_int_eq(cJSON_GetArraySize(sigs), SIG__N);
	for (int i = 0; i < SIG__N; i++) {
		cJSON *s = cJSON_GetObjectItemCaseSensitive(sigs, d.signals[i].name);
		ck_assert_msg(cJSON_IsObject(s), "signal %s missing", d.signals[i].name);
		static const char *const fields[] = {"hard",  "applies",   "fired",
		                                     "value", "threshold", "detail"};
		for (size_t f = 0; f < nitems(fields); f++)
			ck_assert_msg(cJSON_GetObjectItemCaseSensitive(s, fields[f]) != NULL,
			              "%s.%s missing", d.signals[i].name, fields[f]);
	}
	cJSON *mt = cJSON_GetObjectItemCaseSensitive(sigs, "max_turns");
	ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(mt, "value")->valuedouble, 3,
	                        1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(mt, "threshold")->valuedouble, 4,
	                        1e-9);
	cJSON *ac = cJSON_GetObjectItemCaseSensitive(sigs, "agent_confidence");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ac, "fired")));
	ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(ac, "threshold")->valuedouble,
	                        0.72, 1e-9);
	cJSON *lg = cJSON_GetObjectItemCaseSensitive(sigs, "legal_language");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lg, "threshold")));
	/* It prints as valid JSON (no NaN). */
	char *text = cJSON_PrintUnformatted(o);
	ck_assert(strstr(text, "nan") == NULL && strstr(text, "NaN") == NULL);
	cJSON *back = cJSON_Parse(text);
	ck_assert_ptr_nonnull(back);
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(o);

	/* Not escalating: reason and queue are null. */
	in = calm();
	d = decide(&in);
	o = escalation_json(&d);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "escalate")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "reason")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "queue")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "signals")),
	                 SIG__N);
	cJSON_Delete(o);
}
END_TEST

START_TEST(thresholds_come_from_the_policy)
{
	/* A policy with other numbers changes the decisions. */
	char *path = srcpath("policies/support-agent-policy.yaml");
	char *text = slurp(path);
	char *a = replace1(text, "confidence_threshold: 0.5", "confidence_threshold: 0.3");
	char *b = replace1(a, "max_turns: 4", "max_turns: 6");
	struct diag dg = {0};
	struct policy *p = policy_load_text(path, b, strlen(b), &dg);
	ck_assert_ptr_nonnull(p);
	struct escalation_input in = calm();
	in.agent_confidence = 0.4;
	in.turn_count = 5;
	struct escalation_decision d;
	escalation_evaluate(p, &in, &d);
	ck_assert_msg(!d.escalate, "escalated: %s", d.reason);
	ck_assert_str_eq(d.signals[SIG_MAX_TURNS].detail, "turns 5/6");
	in.turn_count = 6;
	escalation_evaluate(p, &in, &d);
	ck_assert_str_eq(d.reason, "max-turns-reached");
	policy_free(p);
	diag_free(&dg);
	free(b);
	free(a);
	free(text);
	free(path);
}
END_TEST

static struct policy *
policy_from(const char *text)
{
	struct diag dg = {0};
	struct policy *p = policy_load_text("inline.yaml", text, strlen(text), &dg);
	char *msgs = diag_join(&dg);
	ck_assert_msg(p != NULL, "%s", msgs);
	free(msgs);
	diag_free(&dg);
	return p;
}

START_TEST(handlers_fire_in_file_order)
{
	static const char a[] = "content_guardrails:\n"
	                        "  prohibited_topics: []\n"
	                        "  sensitive_topic_handlers:\n"
	                        "    refund_complaint:\n"
	                        "      action: escalate_to_human\n"
	                        "      patterns: [refund]\n"
	                        "    urgent_refund:\n"
	                        "      action: escalate_immediately\n"
	                        "      message: Connecting you now.\n"
	                        "      patterns: [refund now]\n";
	static const char b[] = "content_guardrails:\n"
	                        "  prohibited_topics: []\n"
	                        "  sensitive_topic_handlers:\n"
	                        "    urgent_refund:\n"
	                        "      action: escalate_immediately\n"
	                        "      message: Connecting you now.\n"
	                        "      patterns: [refund now]\n"
	                        "    refund_complaint:\n"
	                        "      action: escalate_to_human\n"
	                        "      patterns: [refund]\n";
	struct escalation_input in = calm();
	in.message = "I want a REFUND NOW";
	struct escalation_decision d;

	struct policy *p = policy_from(a);
	escalation_evaluate(p, &in, &d);
	ck_assert_str_eq(d.reason, "refund-complaint");
	ck_assert_str_eq(d.queue, "human-queue-standard");
	ck_assert_ptr_null(d.message); /* the handler has none */
	policy_free(p);

	p = policy_from(b);
	escalation_evaluate(p, &in, &d);
	ck_assert_str_eq(d.reason, "urgent-refund");
	ck_assert_str_eq(d.queue, "human-queue-priority");
	ck_assert_str_eq(d.message, "Connecting you now.");
	/* When the first handler does not match, the next is tried. */
	in.message = "a refund, whenever";
	escalation_evaluate(p, &in, &d);
	ck_assert_str_eq(d.reason, "refund-complaint");
	policy_free(p);
}
END_TEST

static Suite *
escalation_suite(void)
{
	Suite *s = suite_create("escalation");
	TCase *tc = tcase_create("triggers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, nothing_wrong_no_escalation);
	tcase_add_test(tc, legal_language_detected);
	tcase_add_test(tc, asking_for_a_person);
	tcase_add_test(tc, account_security_concern);
	tcase_add_test(tc, payment_dispute_over_threshold);
	tcase_add_test(tc, takeovers_told_without_hacked);
	tcase_add_test(tc, regulators_and_lawyers_in_any_words);
	tcase_add_test(tc, contested_charges_over_the_threshold);
	tcase_add_test(tc, lookalikes_trigger_nothing);
	tcase_add_test(tc, enterprise_billing_policy);
	tcase_add_test(tc, sentiment_degradation);
	tcase_add_test(tc, max_turns_reached);
	tcase_add_test(tc, low_confidence);
	tcase_add_test(tc, low_retrieval_confidence_sensitive_topic);
	tcase_add_test(tc, nothing_retrieved_on_a_sensitive_topic);
	suite_add_tcase(s, tc);

	tc = tcase_create("precedence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, legal_beats_enterprise_billing);
	tcase_add_test(tc, enterprise_billing_beats_sentiment);
	tcase_add_test(tc, sensitive_handler_beats_enterprise_billing);
	tcase_add_test(tc, hard_trigger_beats_low_confidence);
	tcase_add_test(tc, max_turns_beats_low_confidence);
	tcase_add_test(tc, handlers_fire_in_file_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_signal_is_filled_in);
	tcase_add_test(tc, escalation_json_has_the_decision_and_all_signals);
	tcase_add_test(tc, thresholds_come_from_the_policy);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(escalation_suite());
}
