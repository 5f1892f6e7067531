/* check_triage.c -- the triage agent end to end on the shipped model and data. */
#include "config.h"

#include <math.h>

#include "escalation.h"
#include "testutil.h"
#include "triage.h"

static struct policy *policy;
static struct triage *engine;

static void
setup(void)
{
	struct diag d = {0};
	char *pp = srcpath("policies/support-agent-policy.yaml");
	policy = policy_load(pp, &d);
	ck_assert_msg(policy != NULL, "policy: %s", d.msgs.n ? d.msgs.v[0] : "?");
	diag_free(&d);
	free(pp);
	const char *env = getenv("FRONTLINE_MODEL");
	char *model =
	    env ? xstrdup(env) : xasprintf("%s/triage.model", getenv("top_builddir") ?: ".");
	char *data = srcpath("data/triage"), *catalog = srcpath("kb/catalog.yaml"), *cause = NULL;
	int ex = 0;
	engine = triage_open(model, data, catalog, policy, &cause, &ex);
	ck_assert_msg(engine != NULL, "triage_open: %s", cause);
	free(model);
	free(data);
	free(catalog);
}

static void
teardown(void)
{
	triage_close(engine);
	policy_free(policy);
}

static void
run(const char *text, enum tier tier, struct triage_result *r)
{
	triage_run(engine, text, strlen(text), tier, r);
}

START_TEST(test_every_field)
{
	struct triage_result r;
	run("I was charged $129.99 twice for order A12345, reach me at dana@example.com or "
	    "+1 (555) 010-0142",
	    TIER_STANDARD, &r);
	ck_assert_int_eq(r.intent_category, CAT_BILLING);
	ck_assert(r.intent_confidence > 0.5 && r.intent_confidence <= 1.0);
	ck_assert_int_eq(r.urgency, URG_HIGH);
	ck_assert_str_eq(r.urgency_rule, "wrong-charge");
	ck_assert_int_eq(r.complexity_signal, CPLX_SIMPLE);
	ck_assert(!r.has_legal_language);
	ck_assert_int_eq(r.route, ROUTE_RESOLUTION_AUTHENTICATED);
	ck_assert_uint_eq(r.entities.order_numbers.n, 1);
	ck_assert_str_eq(r.entities.order_numbers.v[0], "A12345");
	ck_assert_uint_eq(r.entities.emails.n, 1);
	ck_assert_uint_eq(r.entities.phones.n, 1);
	ck_assert_uint_eq(r.entities.namounts, 1);
	ck_assert_double_eq_tol(r.entities.amounts[0].value, 129.99, 1e-9);
	ck_assert_str_eq(r.entities.amounts[0].currency, "USD");

	struct buf b;
	buf_init(&b, 0);
	triage_json_write(&r, &b);
	cJSON *o = cJSON_Parse(b.data);
	ck_assert_msg(o != NULL, "not JSON: %s", b.data);
	static const char *const keys[] = {
	    "intent_category",    "urgency",           "sentiment", "entities", "complexity_signal",
	    "has_legal_language", "intent_confidence", "route"};
	for (size_t i = 0; i < nitems(keys); i++)
		ck_assert_msg(cJSON_HasObjectItem(o, keys[i]), "missing %s", keys[i]);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "route")->valuestring,
	                 "resolution-agent-authenticated");
	cJSON_Delete(o);
	buf_free(&b);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_categories)
{
	static const struct {
		const char *text;
		enum category cat;
	} cases[] = {
	    {"where is my package? tracking says it hasn't moved in 4 days", CAT_SHIPPING},
	    {"my outdoor cam keeps going offline every night", CAT_TECHNICAL},
	    {"I can't reset my password, the email never comes", CAT_ACCOUNT},
	    {"the doorbell arrived damaged and I want to return it", CAT_RETURNS},
	    {"why was I billed for Protect Plus when I cancelled?", CAT_BILLING},
	    {"what are your support hours on weekends", CAT_GENERAL},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		struct triage_result r;
		run(cases[i].text, TIER_STANDARD, &r);
		ck_assert_msg(r.intent_category == cases[i].cat, "'%s' -> %s", cases[i].text,
		              category_names[r.intent_category]);
		triage_result_free(&r);
	}
}
END_TEST

START_TEST(test_not_support_is_general_with_low_confidence)
{
	struct triage_result r;
	run("what's the weather going to be like in paris tomorrow", TIER_STANDARD, &r);
	ck_assert_int_eq(r.intent_category, CAT_GENERAL);
	ck_assert(r.intent_confidence < 0.2);
	triage_result_free(&r);
}
END_TEST

/* The playbook's examples: legal language, enterprise billing, "third time". */
START_TEST(test_legal_language)
{
	struct triage_result r;
	run("If this isn't fixed by Friday my lawyer will be in touch", TIER_STANDARD, &r);
	ck_assert(r.has_legal_language);
	ck_assert(r.complexity_reasons & CPLX_LEGAL);
	ck_assert_int_eq(r.complexity_signal, CPLX_COMPLEX);
	ck_assert_int_eq(r.route, ROUTE_HUMAN_STANDARD);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_enterprise_billing_escalates)
{
	struct triage_result r;
	run("Our invoice this month is wrong, we were billed for 40 seats instead of 25",
	    TIER_ENTERPRISE, &r);
	ck_assert_int_eq(r.intent_category, CAT_BILLING);
	ck_assert_int_eq(r.route, ROUTE_RESOLUTION_AUTHENTICATED);
	struct escalation_input in = {
	    .agent_confidence = 0.9,
	    .turn_count = 1,
	    .sentiment = r.sentiment,
	    .category = r.intent_category,
	    .tier = TIER_ENTERPRISE,
	    .has_legal_language = r.has_legal_language,
	    .retrieval_confidence = 0.9,
	    .amount_usd = entities_max_usd(&r.entities),
	};
	struct escalation_decision d;
	escalation_evaluate(policy, &in, &d);
	ck_assert(d.escalate);
	ck_assert_str_eq(d.reason, "enterprise-billing-policy");
	triage_result_free(&r);
}
END_TEST

START_TEST(test_third_time)
{
	struct triage_result r;
	run("This is the third time I'm writing about this, my camera is STILL offline!!",
	    TIER_STANDARD, &r);
	ck_assert(r.complexity_reasons & CPLX_PRIOR_CONTACT);
	ck_assert_int_eq(r.complexity_signal, CPLX_COMPLEX);
	ck_assert_int_eq(r.sentiment, SENT_FRUSTRATED);
	ck_assert_int_eq(r.route, ROUTE_HUMAN_STANDARD);
	triage_result_free(&r);
	run("I already contacted you about ticket #48213 and nothing happened", TIER_STANDARD, &r);
	ck_assert(r.complexity_reasons & CPLX_PRIOR_CONTACT);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_critical_routes_to_priority)
{
	struct triage_result r;
	run("someone hacked my account and changed my email", TIER_STANDARD, &r);
	ck_assert_int_eq(r.urgency, URG_CRITICAL);
	ck_assert_int_eq(r.route, ROUTE_HUMAN_PRIORITY);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_multi_issue_and_sentiment)
{
	struct triage_result r;
	run("my invoice is wrong and also the doorbell arrived broken. can you help? and when "
	    "do you open?",
	    TIER_STANDARD, &r);
	ck_assert(r.complexity_reasons & CPLX_MULTI_ISSUE);
	ck_assert_int_ne(r.complexity_signal, CPLX_SIMPLE);
	triage_result_free(&r);
	run("Thanks so much, that fixed it! You're great", TIER_STANDARD, &r);
	ck_assert_int_eq(r.sentiment, SENT_POSITIVE);
	ck_assert(r.sentiment_score > 0.5);
	ck_assert_int_eq(r.complexity_signal, CPLX_SIMPLE);
	triage_result_free(&r);
	run("Hi, could you check when order A55555 will arrive?", TIER_STANDARD, &r);
	ck_assert_int_eq(r.sentiment, SENT_NEUTRAL);
	ck_assert_int_eq(r.urgency, URG_NORMAL);
	triage_result_free(&r);
}
END_TEST

START_TEST(test_products)
{
	struct triage_result r;
	run("my outdoor cam and the Acme Hub both stopped working", TIER_STANDARD, &r);
	ck_assert(strv_contains(&r.entities.products, "acme-cam-outdoor"));
	ck_assert(strv_contains(&r.entities.products, "acme-hub"));
	triage_result_free(&r);
}
END_TEST

/* Any bytes give a sane result and valid JSON, never a crash. */
START_TEST(test_odd_input)
{
	size_t big = 1 << 20;
	char *huge = xmalloc(big + 1);
	for (size_t i = 0; i < big; i++)
		huge[i] = "my order A12345 is late!! "[i % 26];
	huge[big] = '\0';
	const char binary[] = "\x01\x02\xff\xfe\x1b[31m\x80\x7f\x00tail";
	const char *bad = "caf\xc3\x28 \xe2\x82 \xf0\x9f\x98 order \xed\xa0\x80 late";
	struct {
		const char *text;
		size_t len;
	} cases[] = {
	    {"", 0}, {"   \t  ", 6}, {huge, big}, {binary, sizeof binary - 1}, {bad, strlen(bad)}};
	for (size_t i = 0; i < nitems(cases); i++) {
		struct triage_result r;
		triage_run(engine, cases[i].text, cases[i].len, TIER_STANDARD, &r);
		ck_assert(r.intent_confidence >= 0 && r.intent_confidence <= 1);
		ck_assert(!isnan(r.sentiment_score));
		struct buf b;
		buf_init(&b, 0);
		triage_json_write(&r, &b);
		cJSON *o = cJSON_Parse(b.data);
		ck_assert_msg(o != NULL, "case %zu: invalid JSON", i);
		cJSON_Delete(o);
		buf_free(&b);
		if (i < 2)
			ck_assert_int_eq(r.complexity_signal, CPLX_UNKNOWN);
		triage_result_free(&r);
	}
	free(huge);
}
END_TEST

START_TEST(test_open_errors)
{
	char *data = srcpath("data/triage"), *cause = NULL, *dir = tmpdir_new();
	int ex = 0;
	char *missing = xasprintf("%s/none.model", dir);
	ck_assert_ptr_null(triage_open(missing, data, NULL, policy, &cause, &ex));
	ck_assert_int_eq(ex, 66);
	free(cause);
	char *junk = tmpfile_with(dir, "junk.model", "this is not a model\n");
	ck_assert_ptr_null(triage_open(junk, data, NULL, policy, &cause, &ex));
	ck_assert_int_eq(ex, 65);
	ck_assert_ptr_nonnull(strstr(cause, "junk.model"));
	free(cause);
	rm_rf(dir);
	free(dir);
	free(missing);
	free(junk);
	free(data);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("triage");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_field);
	tcase_add_test(tc, test_categories);
	tcase_add_test(tc, test_not_support_is_general_with_low_confidence);
	tcase_add_test(tc, test_legal_language);
	tcase_add_test(tc, test_enterprise_billing_escalates);
	tcase_add_test(tc, test_third_time);
	tcase_add_test(tc, test_critical_routes_to_priority);
	tcase_add_test(tc, test_multi_issue_and_sentiment);
	tcase_add_test(tc, test_products);
	tcase_add_test(tc, test_odd_input);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
