/* check_rollout.c -- graduated rollout and canary (src/rollout.c, the policy's sections). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "rollout.h"
#include "testutil.h"

#define SHIPPED "policies/support-agent-policy.yaml"
#define BASE    "content_guardrails: {}\n"

static struct policy *
load_text(const char *text, struct diag *d)
{
	return policy_load_text("inline.yaml", text, strlen(text), d);
}

static struct policy *
load_text_ok(const char *text)
{
	struct diag d = {0};
	struct policy *p = load_text(text, &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(p != NULL && d.errors == 0, "policy did not load:\n%s", msgs);
	free(msgs);
	diag_free(&d);
	return p;
}

/* The policy must be refused with a diagnostic holding want (and its position). */
static void
assert_refused(const char *text, const char *want)
{
	struct diag d = {0};
	struct policy *p = load_text(text, &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(p == NULL, "accepted:\n%s", text);
	ck_assert_msg(strstr(msgs, want) != NULL, "no '%s' in:\n%s", want, msgs);
	ck_assert_msg(strncmp(msgs, "inline.yaml:", 12) == 0, "no file:line:col in %s", msgs);
	free(msgs);
	diag_free(&d);
}

static cJSON *
fixture(const char *name)
{
	char *rel = xasprintf("tests/data/rollout/%s", name);
	char *path = srcpath(rel);
	char *cause = NULL;
	size_t len;
	char *text = file_read(path, 1 << 20, &len, &cause);
	ck_assert_msg(text != NULL, "%s: %s", path, cause);
	cJSON *j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	free(text);
	free(path);
	free(rel);
	return j;
}

static int
has_reason(const cJSON *v, const char *needle)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(v, "reasons"))
	{
		if (strstr(r->valuestring, needle) != NULL)
			return 1;
	}
	return 0;
}

static int
passed(const cJSON *v)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(v, "passed"));
}

/* ---------------------------------------------------------------- policy */

START_TEST(defaults_are_the_playbook_ladder)
{
	struct policy *p = load_text_ok(BASE);
	const struct rollout_policy *r = &p->rollout;
	static const char *const names[] = {"shadow", "pilot", "expanded", "routed", "steady"};
	static const int shares[] = {0, 10, 30, 60, 100};
	ck_assert_uint_eq(r->nstages, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(r->stages[i].name, names[i]);
		ck_assert_int_eq(r->stages[i].share, shares[i]);
	}
	ck_assert_uint_eq(r->stages[1].complexity, 1u << CPLX_SIMPLE);
	ck_assert_uint_eq(r->stages[1].urgency, 1u << URG_LOW | 1u << URG_NORMAL);
	ck_assert_uint_eq(r->stages[3].category | r->stages[3].urgency | r->stages[3].complexity,
	                  0);
	ck_assert(fabs(r->csat_margin) < 1e-9);
	ck_assert_int_eq(r->min_sessions, 30);
	ck_assert(fabs(r->escalation[CAT_BILLING].max - 0.35) < 1e-9);
	ck_assert_int_eq(p->canary.share, 5);
	ck_assert(fabs(p->canary.window_hours - 48) < 1e-9);
	ck_assert_int_eq(p->canary.allow_new_violations, 0);
	policy_free(p);
}
END_TEST

START_TEST(sections_are_read)
{
	struct policy *p = load_text_ok(BASE "rollout:\n"
	                                     "  salt: s1\n"
	                                     "  stages:\n"
	                                     "    - {name: dark, share: 0}\n"
	                                     "    - name: some\n"
	                                     "      share: 25\n"
	                                     "      complexity: simple\n"
	                                     "      tiers: [standard, premium]\n"
	                                     "      categories: [shipping]\n"
	                                     "  gate:\n"
	                                     "    csat_margin: 0.1\n"
	                                     "    min_sessions: 5\n"
	                                     "    escalation_rate:\n"
	                                     "      default: {min: 0.01, max: 0.2}\n"
	                                     "      billing: {max: 0.5}\n"
	                                     "canary: {share: 10, window_hours: 2, "
	                                     "allow_new_violation_kinds: true}\n");
	const struct rollout_policy *r = &p->rollout;
	ck_assert_str_eq(r->salt, "s1");
	ck_assert_uint_eq(r->nstages, 2);
	ck_assert_str_eq(r->stages[1].name, "some");
	ck_assert_int_eq(r->stages[1].share, 25);
	ck_assert_uint_eq(r->stages[1].tier, 1u << TIER_STANDARD | 1u << TIER_PREMIUM);
	ck_assert_uint_eq(r->stages[1].category, 1u << CAT_SHIPPING);
	ck_assert_uint_eq(r->stages[1].urgency, 0);
	ck_assert_int_eq(r->min_sessions, 5);
	ck_assert(fabs(r->escalation[CAT_SHIPPING].min - 0.01) < 1e-9);
	ck_assert(fabs(r->escalation[CAT_SHIPPING].max - 0.2) < 1e-9);
	ck_assert(fabs(r->escalation[CAT_BILLING].min - 0.01) < 1e-9);
	ck_assert(fabs(r->escalation[CAT_BILLING].max - 0.5) < 1e-9);
	ck_assert_int_eq(p->canary.share, 10);
	ck_assert_int_eq(p->canary.allow_new_violations, 1);
	policy_free(p);
}
END_TEST

START_TEST(bad_sections_are_refused_with_positions)
{
	assert_refused(BASE "rollout: {stages: [{name: a, share: 120}]}\n", "share");
	assert_refused(BASE "rollout: {stages: [{share: 10}]}\n", "name");
	assert_refused(BASE "rollout: {stages: [{name: a, share: 30}, {name: b, share: 10}]}\n",
	               "the ladder only goes up");
	assert_refused(BASE "rollout: {stages: [{name: a, share: 0}, {name: a, share: 10}]}\n",
	               "'a' is already a stage");
	assert_refused(BASE "rollout: {stages: [{name: a, share: 10, urgency: [urgent]}]}\n",
	               "urgent");
	assert_refused(BASE "rollout: {stages: [{name: a, share: 10, categories: []}]}\n",
	               "empty list");
	assert_refused(BASE "rollout: {stages: []}\n", "at least one stage");
	assert_refused(BASE "rollout: {gate: {escalation_rate: {food: {max: 0.1}}}}\n",
	               "'food' is neither a category");
	assert_refused(BASE "rollout: {gate: {escalation_rate: {billing: {min: 0.5, max: 0.1}}}}\n",
	               "min (0.5) exceeds max (0.1)");
	assert_refused(BASE "rollout: {steps: []}\n", "steps");
	assert_refused(BASE "canary: {share: 0}\n", "share");
	assert_refused(BASE "canary: {window: 3}\n", "window");
}
END_TEST

START_TEST(shipped_policy_has_the_sections)
{
	char *path = srcpath(SHIPPED);
	struct diag d = {0};
	struct policy *p = policy_load(path, &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(p != NULL && d.warnings == 0, "%s:\n%s", path, msgs);
	free(msgs);
	ck_assert_uint_eq(p->rollout.nstages, 5);
	ck_assert_str_eq(p->rollout.stages[1].name, "pilot");
	ck_assert_int_eq(p->rollout.stages[1].share, 10);
	ck_assert_int_eq(p->canary.share, 5);
	policy_free(p);
	diag_free(&d);
	free(path);
}
END_TEST

/* ------------------------------------------------------------ assignment */

START_TEST(same_key_same_bucket)
{
	int b = rollout_bucket("salt", "C-42/7");
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(rollout_bucket("salt", "C-42/7"), b);
	ck_assert_int_ge(b, 0);
	ck_assert_int_lt(b, 100);
	/* A known value: the hash is SHA-256, the same on every machine. */
	ck_assert_int_eq(rollout_bucket("frontline", "C-1/1"), 59);
	ck_assert_int_eq(rollout_canary_bucket("frontline", "C-1/1"), 44);
	char *k = rollout_key("C-42", 7);
	ck_assert_str_eq(k, "C-42/7");
	free(k);
	/* Another salt reshuffles. */
	int moved = 0;
	for (int i = 0; i < 100; i++) {
		char *key = rollout_key("c", i);
		moved += rollout_bucket("a", key) != rollout_bucket("b", key);
		free(key);
	}
	ck_assert_int_gt(moved, 80);
}
END_TEST

START_TEST(shares_come_out_right)
{
	struct policy *p = load_text_ok(BASE);
	const struct rollout_policy *r = &p->rollout;
	for (size_t s = 0; s < r->nstages; s++) {
		int ai = 0, canary = 0, again = 0;
		const int n = 10000;
		for (int i = 0; i < n; i++) {
			char *key = rollout_key("cust", i);
			struct rollout_assignment a, b;
			rollout_assign(r, (int)s, 5, key, CAT_SHIPPING, URG_NORMAL, CPLX_SIMPLE,
			               TIER_STANDARD, &a);
			rollout_assign(r, (int)s, 5, key, CAT_SHIPPING, URG_NORMAL, CPLX_SIMPLE,
			               TIER_STANDARD, &b);
			ck_assert(a.eligible);
			ck_assert_str_eq(a.stage, r->stages[s].name);
			ai += a.ai;
			canary += a.canary;
			again += a.ai == b.ai && a.canary == b.canary && a.bucket == b.bucket;
			free(key);
		}
		ck_assert_int_eq(again, n);
		double share = 100.0 * ai / n;
		ck_assert_msg(fabs(share - r->stages[s].share) <= 1.5,
		              "stage %s: %.2f%% AI, want %d", r->stages[s].name, share,
		              r->stages[s].share);
		if (ai > 2000) {
			double cs = 100.0 * canary / ai;
			ck_assert_msg(fabs(cs - 5) <= 1.5, "canary %.2f%% of AI", cs);
		}
		if (ai == 0)
			ck_assert_int_eq(canary, 0);
	}
	policy_free(p);
}
END_TEST

START_TEST(eligibility_filters)
{
	struct policy *p = load_text_ok(BASE);
	const struct rollout_policy *r = &p->rollout;
	const struct rollout_stage *pilot = &r->stages[1];
	ck_assert(rollout_eligible(pilot, CAT_SHIPPING, URG_LOW, CPLX_SIMPLE, TIER_ENTERPRISE));
	ck_assert(!rollout_eligible(pilot, CAT_SHIPPING, URG_HIGH, CPLX_SIMPLE, TIER_STANDARD));
	ck_assert(!rollout_eligible(pilot, CAT_SHIPPING, URG_NORMAL, CPLX_MODERATE, TIER_STANDARD));
	ck_assert(!rollout_eligible(pilot, CAT_BILLING, URG_NORMAL, CPLX_SIMPLE, TIER_STANDARD));
	ck_assert(
	    rollout_eligible(&r->stages[2], CAT_ACCOUNT, URG_NORMAL, CPLX_MODERATE, TIER_STANDARD));
	ck_assert(rollout_eligible(&r->stages[3], CAT_BILLING, URG_CRITICAL, CPLX_COMPLEX,
	                           TIER_STANDARD));
	struct rollout_stage tiers = {.share = 100, .tier = 1u << TIER_PREMIUM};
	ck_assert(rollout_eligible(&tiers, CAT_BILLING, URG_HIGH, CPLX_COMPLEX, TIER_PREMIUM));
	ck_assert(!rollout_eligible(&tiers, CAT_BILLING, URG_HIGH, CPLX_COMPLEX, TIER_STANDARD));

	/* Ineligible conversations go to humans whatever their bucket, and never to the canary. */
	int ai = 0;
	for (int i = 0; i < 2000; i++) {
		char *key = rollout_key("x", i);
		struct rollout_assignment a;
		rollout_assign(r, 1, 50, key, CAT_BILLING, URG_NORMAL, CPLX_SIMPLE, TIER_STANDARD,
		               &a);
		ck_assert(!a.eligible);
		ai += a.ai + a.canary;
		free(key);
	}
	ck_assert_int_eq(ai, 0);

	/* Before the rollout starts: everything AI, no stage. */
	struct rollout_assignment a;
	rollout_assign(r, -1, -1, "k", CAT_BILLING, URG_CRITICAL, CPLX_COMPLEX, TIER_STANDARD, &a);
	ck_assert(a.ai && a.eligible && !a.canary);
	ck_assert_ptr_null(a.stage);
	cJSON *j = rollout_assignment_json(&a, "abc");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "arm")), "ai");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "stage")));
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "version")), "abc");
	ck_assert_int_eq(cJSON_GetObjectItem(j, "bucket")->valueint, a.bucket);
	cJSON_Delete(j);
	policy_free(p);
}
END_TEST

/* ------------------------------------------------------------------ gates */

START_TEST(gate_passes_on_good_metrics)
{
	struct policy *p = load_text_ok(BASE);
	cJSON *ai = fixture("ai-pass.json"), *human = fixture("human.json");
	int n;
	ck_assert(fabs(rollout_report_csat(ai, &n) - 4.25) < 1e-9);
	ck_assert_int_eq(n, 12);
	cJSON *v = rollout_gate(&p->rollout, 1, ai, human);
	char *s = cJSON_Print(v);
	ck_assert_msg(passed(v), "gate failed: %s", s);
	free(s);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "reasons")), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(v, "stage")), "pilot");
	/* Sessions twice, CSAT, shipping and returns. */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "checks")), 5);
	cJSON_Delete(v);
	cJSON_Delete(ai);
	cJSON_Delete(human);
	policy_free(p);
}
END_TEST

START_TEST(gate_refuses_with_every_reason)
{
	struct policy *p = load_text_ok(BASE);
	cJSON *ai = fixture("ai-fail.json"), *human = fixture("human.json");
	cJSON *v = rollout_gate(&p->rollout, 1, ai, human);
	char *s = cJSON_Print(v);
	ck_assert_msg(!passed(v), "gate passed: %s", s);
	ck_assert_msg(has_reason(v, "AI arm: 12 sessions, the gate needs 30"), "%s", s);
	ck_assert_msg(has_reason(v, "CSAT: 4 responses on the AI arm"), "%s", s);
	ck_assert_msg(has_reason(v, "escalation rate of returns: 50.0%"), "%s", s);
	ck_assert_msg(!has_reason(v, "shipping"), "%s", s);
	/* billing is not in the pilot's scope */
	ck_assert_msg(!has_reason(v, "billing"), "%s", s);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "reasons")), 3);
	free(s);
	cJSON_Delete(v);
	/* At the routed stage billing is in scope. */
	v = rollout_gate(&p->rollout, 3, ai, human);
	ck_assert(has_reason(v, "escalation rate of billing: 50.0%"));
	cJSON_Delete(v);
	cJSON_Delete(ai);
	cJSON_Delete(human);
	policy_free(p);
}
END_TEST

START_TEST(gate_refuses_csat_below_parity)
{
	struct policy *p = load_text_ok(BASE "rollout: {gate: {min_csat_responses: 1}}\n");
	cJSON *ai = fixture("ai-pass.json"), *human = fixture("human.json");
	/* The human baseline at 4.6: the AI's 4.25 is below parity. */
	cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(human, "csat_by_path"), "human");
	cJSON_ReplaceItemInObject(h, "mean", cJSON_CreateNumber(4.6));
	cJSON *v = rollout_gate(&p->rollout, 1, ai, human);
	ck_assert(!passed(v));
	ck_assert(has_reason(v, "CSAT 4.25 on the AI arm (12 responses) vs 4.60 on the human "
	                        "baseline (20): below parity by more than the margin (0.00 "
	                        "allowed)"));
	cJSON_Delete(v);
	policy_free(p);
	/* A margin of 0.5 lets it through. */
	p = load_text_ok(BASE "rollout: {gate: {csat_margin: 0.5}}\n");
	v = rollout_gate(&p->rollout, 1, ai, human);
	ck_assert(passed(v));
	cJSON_Delete(v);
	cJSON_Delete(ai);
	cJSON_Delete(human);
	policy_free(p);
}
END_TEST

START_TEST(shadow_gate_reads_the_replay)
{
	struct policy *p = load_text_ok(BASE);
	ck_assert_int_eq(p->rollout.shadow.min_tickets, 50);
	ck_assert(fabs(p->rollout.shadow.escalation_recall - 0.9) < 1e-9);

	cJSON *v = rollout_shadow_gate(&p->rollout, 0, NULL, "abc");
	ck_assert(!passed(v));
	ck_assert(has_reason(v, "no shadow replay in the store"));
	cJSON_Delete(v);

	/* 60 tickets; accuracy 0.85; agreement 0.82; recall 0.7 (7 of 10). */
	cJSON *r = cJSON_Parse("{\"tickets\":60,\"version\":\"abc\","
	                       "\"triage\":{\"labelled\":60,\"accuracy\":0.85},"
	                       "\"escalation\":{\"labelled\":60,\"agreement\":0.82,"
	                       "\"recall\":0.7}}");
	v = rollout_shadow_gate(&p->rollout, 0, r, "abc");
	char *s = cJSON_Print(v);
	ck_assert_msg(!passed(v), "%s", s);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "reasons")), 1);
	ck_assert_msg(has_reason(v, "escalation recall (humans' escalations caught): 70.0% over "
	                            "60 labelled tickets, below 90.0%"),
	              "%s", s);
	free(s);
	cJSON_Delete(v);

	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "escalation"), "recall",
	                          cJSON_CreateNumber(0.95));
	v = rollout_shadow_gate(&p->rollout, 0, r, "abc");
	ck_assert(passed(v));
	cJSON_Delete(v);
	/* The same figures from another version do not count. */
	v = rollout_shadow_gate(&p->rollout, 0, r, "def");
	ck_assert(!passed(v));
	ck_assert(has_reason(v, "ran agent version abc, not def"));
	cJSON_Delete(v);
	cJSON_Delete(r);
	policy_free(p);
}
END_TEST

START_TEST(canary_comparison)
{
	struct policy *p = load_text_ok(BASE);
	cJSON *good = fixture("ai-pass.json"), *bad = fixture("ai-fail.json");
	cJSON *v = canary_compare(&p->canary, good, good, 50);
	char *s = cJSON_Print(v);
	ck_assert_msg(passed(v), "%s", s);
	free(s);
	cJSON_Delete(v);

	v = canary_compare(&p->canary, good, good, 10);
	ck_assert(!passed(v));
	ck_assert(has_reason(v, "window: 10.0 of 48 hours"));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "reasons")), 1);
	cJSON_Delete(v);

	v = canary_compare(&p->canary, bad, good, 50);
	s = cJSON_Print(v);
	ck_assert_msg(!passed(v), "%s", s);
	ck_assert_msg(has_reason(v, "candidate: 12 sessions"), "%s", s);
	ck_assert_msg(has_reason(v, "CSAT: 4 responses on the candidate"), "%s", s);
	ck_assert_msg(has_reason(v, "escalation rate 33.0% on the candidate vs 20.0%"), "%s", s);
	ck_assert_msg(has_reason(v, "new kind on the candidate: pii_leak"), "%s", s);
	free(s);
	cJSON_Delete(v);
	policy_free(p);

	/* New violation kinds may be allowed; a wider margin admits the escalation rate. */
	p = load_text_ok(BASE "canary: {allow_new_violation_kinds: true, escalation_margin: 0.2, "
	                      "min_sessions: 10, min_csat_responses: 2, csat_margin: 1.5}\n");
	v = canary_compare(&p->canary, bad, good, 50);
	s = cJSON_Print(v);
	ck_assert_msg(passed(v), "%s", s);
	free(s);
	cJSON_Delete(v);
	cJSON_Delete(good);
	cJSON_Delete(bad);
	policy_free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rollout");
	TCase *tc = tcase_create("policy");
	tcase_add_test(tc, defaults_are_the_playbook_ladder);
	tcase_add_test(tc, sections_are_read);
	tcase_add_test(tc, bad_sections_are_refused_with_positions);
	tcase_add_test(tc, shipped_policy_has_the_sections);
	suite_add_tcase(s, tc);
	tc = tcase_create("assignment");
	tcase_add_test(tc, same_key_same_bucket);
	tcase_add_test(tc, shares_come_out_right);
	tcase_add_test(tc, eligibility_filters);
	suite_add_tcase(s, tc);
	tc = tcase_create("gates");
	tcase_add_test(tc, gate_passes_on_good_metrics);
	tcase_add_test(tc, gate_refuses_with_every_reason);
	tcase_add_test(tc, gate_refuses_csat_below_parity);
	tcase_add_test(tc, shadow_gate_reads_the_replay);
	tcase_add_test(tc, canary_comparison);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
