/* check_replay.c -- reply similarity, ticket parsing, replay and its report
 * (src/textsim.c, src/replay.c). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "replay.h"
#include "testutil.h"
#include "textsim.h"
#include "tool-backend.h"
#include "triage.h"

#define TODAY          20781L /* 2026-11-24 */
#define close_to(x, y) ck_assert_msg(fabs((x) - (y)) < 1e-3, "%f != %f", (double)(x), (double)(y))

/* ------------------------------------------------------------ similarity */

START_TEST(similarity_by_hand)
{
	struct textsim s;
	textsim_compare("the cat sat", "the cat sat", &s);
	close_to(s.f1, 1);
	close_to(s.rouge_l, 1);
	/* the x2, cat, on, mat shared: 5 of 6 each way; the LCS "the cat on the mat" is 5. */
	textsim_compare("the cat sat on the mat", "the cat is on the mat", &s);
	close_to(s.f1, 5.0 / 6);
	close_to(s.rouge_l, 5.0 / 6);
	/* Same bag, reversed order: F1 1, LCS 1 of 4. */
	textsim_compare("a b c d", "d c b a", &s);
	close_to(s.f1, 1);
	close_to(s.rouge_l, 0.25);
	/* Case and punctuation do not count. */
	textsim_compare("Hello, WORLD!", "hello world", &s);
	close_to(s.f1, 1);
	close_to(s.rouge_l, 1);
	/* An apostrophe inside a word keeps it whole: 1 shared, P 1/2, R 1/3. */
	close_to(textsim_f1("don't stop", "don t stop"), 0.4);
	/* Repeated tokens count as often as both have them: P 2/3, R 1. */
	close_to(textsim_f1("a b a", "a a"), 0.8);
	close_to(textsim_rouge_l("a b a", "a a"), 0.8);
	/* Nothing against nothing is the same; nothing against something is not. */
	close_to(textsim_f1("", ""), 1);
	close_to(textsim_f1("!!!", NULL), 1);
	close_to(textsim_f1("", "x"), 0);
	close_to(textsim_rouge_l("x", ""), 0);
	close_to(textsim_f1("abc", "xyz"), 0);
}
END_TEST

/* --------------------------------------------------------------- tickets */

static void
bad(const char *line, const char *want)
{
	struct ticket t;
	char *cause = NULL;
	ck_assert_msg(ticket_parse(line, strlen(line), &t, &cause) == -1, "accepted: %s", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s: cause '%s' lacks '%s'", line, cause, want);
	ck_assert_ptr_null(t.json);
	free(cause);
}

START_TEST(bad_lines_say_why)
{
	bad("{\"id\":", "not JSON");
	bad("{\"id\":\"a\",\"messages\":[]} x", "text after the value");
	bad("[1,2]", "not a JSON object");
	bad("{\"messages\":[]}", "no \"id\"");
	bad("{\"id\":\"\",\"messages\":[]}", "\"id\" is not a non-empty string");
	bad("{\"id\":\"T\"}", "no \"messages\"");
	bad("{\"id\":\"T\",\"messages\":{}}", "\"messages\" is not an array");
	bad("{\"id\":\"T\",\"messages\":[3]}", "messages[0] is not an object");
	bad("{\"id\":\"T\",\"messages\":[{\"text\":\"hi\"}]}", "messages[0] has no \"role\"");
	bad("{\"id\":\"T\",\"messages\":[{\"role\":\"customer\",\"text\":\"hi\"},"
	    "{\"role\":\"bot\",\"text\":\"x\"}]}",
	    "messages[1]: role \"bot\" is not customer or human");
	bad("{\"id\":\"T\",\"messages\":[{\"role\":\"customer\"}]}", "messages[0] has no \"text\"");
	bad("{\"id\":\"T\",\"messages\":[{\"role\":\"customer\",\"text\":\" \\t\"}]}",
	    "messages[0]: empty text");
	bad("{\"id\":\"T\",\"messages\":[{\"role\":\"customer\",\"text\":5}]}", "not a string");
	bad("{\"id\":\"T\",\"messages\":[{\"role\":\"human\",\"text\":\"hello\"}]}",
	    "no customer message");
	bad("{\"id\":\"T\",\"customer\":{\"tier\":\"gold\"},\"messages\":[{\"role\":\"customer\","
	    "\"text\":\"hi\"}]}",
	    "customer.tier is not one of self-serve");
	bad("{\"id\":\"T\",\"labels\":{\"intent_category\":\"legal\"},\"messages\":[{\"role\":"
	    "\"customer\",\"text\":\"hi\"}]}",
	    "labels.intent_category is not one of billing");
	bad("{\"id\":\"T\",\"labels\":{\"escalated\":\"yes\"},\"messages\":[{\"role\":"
	    "\"customer\",\"text\":\"hi\"}]}",
	    "labels.escalated is not true or false");
	bad("{\"id\":\"T\",\"context\":[],\"messages\":[{\"role\":\"customer\",\"text\":\"hi\"}]}",
	    "\"context\" is not an object");
	char nul[] = "{\"id\":\"T\"}\0x";
	struct ticket t;
	char *cause = NULL;
	ck_assert_int_eq(ticket_parse(nul, sizeof nul - 1, &t, &cause), -1);
	ck_assert_str_eq(cause, "a NUL byte in the line");
	free(cause);
}
END_TEST

START_TEST(a_minimal_ticket_and_a_full_one)
{
	struct ticket t;
	char *cause = NULL;
	const char *min = "{\"id\":\"42\",\"messages\":[{\"role\":\"customer\",\"text\":\"hi\"}]}";
	ck_assert_msg(ticket_parse(min, strlen(min), &t, &cause) == 0, "%s", cause);
	ck_assert_str_eq(t.id, "42");
	ck_assert_int_eq(t.tier, TIER_STANDARD);
	ck_assert_ptr_null(t.customer_id);
	ck_assert_ptr_null(t.labels);
	ck_assert_int_eq(t.customer_messages, 1);
	ticket_free(&t);
	const char *full =
	    "{\"id\":\"T-1\",\"created_at\":\"2026-10-02T14:03:00Z\",\"customer\":{\"id\":\"C-42\","
	    "\"tier\":\"enterprise\"},\"context\":{\"orders\":[]},\"messages\":[{\"role\":"
	    "\"customer\",\"text\":\"a\"},{\"role\":\"human\",\"text\":\"b\"},{\"role\":"
	    "\"customer\",\"text\":\"c\"}],\"labels\":{\"intent_category\":\"shipping\","
	    "\"escalated\":false,\"escalation_reason\":null},\"outcome\":{\"resolved\":true}}\n";
	ck_assert_msg(ticket_parse(full, strlen(full), &t, &cause) == 0, "%s", cause);
	ck_assert_str_eq(t.customer_id, "C-42");
	ck_assert_int_eq(t.tier, TIER_ENTERPRISE);
	ck_assert_str_eq(t.created_at, "2026-10-02T14:03:00Z");
	ck_assert_ptr_nonnull(t.context);
	ck_assert_ptr_nonnull(t.outcome);
	ck_assert_int_eq(t.customer_messages, 2);
	ticket_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- report */

static struct replay_report *
fixture_report(double target)
{
	char *path = srcpath("tests/fixtures/replay/results.jsonl");
	char *text = slurp(path);
	struct replay_report *rp = replay_report_new(target);
	int n = 0;
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		cJSON *r = cJSON_Parse(line);
		ck_assert_ptr_nonnull(r);
		replay_report_add(rp, r);
		cJSON_Delete(r);
		n++;
	}
	ck_assert_int_eq(n, 8);
	free(text);
	free(path);
	return rp;
}

static double
at(const cJSON *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;
	const cJSON *v = o;
	for (char *k = strtok_r(p, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save))
		v = cJSON_GetObjectItemCaseSensitive(v, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", path);
	free(p);
	return v->valuedouble;
}

START_TEST(agreement_on_the_fixture_set)
{
	struct replay_report *rp = fixture_report(0.8);
	cJSON *o = replay_report_json(rp);
	close_to(at(o, "tickets"), 8);
	close_to(at(o, "triage.labelled"), 8);
	close_to(at(o, "triage.accuracy"), 0.75);
	close_to(at(o, "triage.macro_f1"), 0.689);
	close_to(at(o, "triage.per_category.billing.f1"), 0.667);
	close_to(at(o, "triage.per_category.account.precision"), 0.5);
	close_to(at(o, "triage.per_category.shipping.f1"), 0.8);
	close_to(at(o, "triage.per_category.returns.f1"), 0);
	close_to(at(o, "triage.confusion.returns.shipping"), 1);
	close_to(at(o, "triage.confusion.billing.account"), 1);
	close_to(at(o, "triage.confusion.shipping.shipping"), 2);

	close_to(at(o, "escalation.tp"), 3);
	close_to(at(o, "escalation.fp"), 1);
	close_to(at(o, "escalation.fn"), 1);
	close_to(at(o, "escalation.tn"), 3);
	close_to(at(o, "escalation.precision"), 0.75);
	close_to(at(o, "escalation.recall"), 0.75);
	close_to(at(o, "escalation.agreement"), 0.75);
	close_to(at(o, "escalation.agent_rate"), 0.5);
	close_to(at(o, "escalation.by_category.shipping.agent_rate"), 0.5);
	close_to(at(o, "escalation.by_category.shipping.human_rate"), 0);
	close_to(at(o, "escalation.by_category.returns.human_rate"), 1);
	close_to(at(o, "escalation.by_turn.1"), 2);
	close_to(at(o, "escalation.by_turn.4"), 1);
	close_to(at(o, "escalation.reasons.low-confidence"), 2);

	close_to(at(o, "violations.total"), 3);
	close_to(at(o, "violations.tickets"), 2);
	close_to(at(o, "violations.by_kind.pii"), 1);
	close_to(at(o, "prohibited_phrases.Unfortunately, I cannot"), 1);
	close_to(at(o, "reply_similarity.turns"), 3);
	close_to(at(o, "reply_similarity.f1"), 0.5);
	close_to(at(o, "reply_similarity.rouge_l"), 0.4);
	close_to(at(o, "tools.get_order_status"), 2);
	close_to(at(o, "tools.get_customer_account"), 1);

	close_to(at(o, "outcomes.tickets"), 4);
	close_to(at(o, "outcomes.csat_by_path.human.mean"), 4.5);
	close_to(at(o, "outcomes.csat_by_path.agent.mean"), 2);
	close_to(at(o, "outcomes.csat_by_path.abandoned.mean"), 1);
	close_to(at(o, "outcomes.recontact.rate"), 0.333);
	cJSON_Delete(o);
	replay_report_free(rp);
}
END_TEST

START_TEST(the_sweep_finds_the_threshold_computed_by_hand)
{
	struct replay_report *rp = fixture_report(0.8);
	cJSON *o = replay_report_json(rp);
	const cJSON *pts = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "sweep"), "points");
	ck_assert_int_eq(cJSON_GetArraySize(pts), 19);
	static const struct {
		double t, rate, agree;
	} want[] = {{0.05, 0.25, 0.75},   {0.30, 0.25, 0.75}, {0.35, 0.375, 0.875},
	            {0.40, 0.375, 0.875}, {0.45, 0.5, 0.75},  {0.70, 0.5, 0.75},
	            {0.75, 0.625, 0.875}, {0.80, 0.75, 0.75}, {0.85, 0.875, 0.625},
	            {0.90, 1, 0.5},       {0.95, 1, 0.5}};
	for (size_t i = 0; i < nitems(want); i++) {
		const cJSON *p = cJSON_GetArrayItem(pts, (int)lround(want[i].t * 20) - 1);
		close_to(at(p, "threshold"), want[i].t);
		close_to(at(p, "escalation_rate"), want[i].rate);
		close_to(at(p, "agreement"), want[i].agree);
	}
	close_to(at(o, "sweep.best.threshold"), 0.35);
	close_to(at(o, "sweep.best.escalation_rate"), 0.375);
	cJSON_Delete(o);
	replay_report_free(rp);

	/* Nothing reaches 90%: no best threshold. */
	rp = fixture_report(0.9);
	o = replay_report_json(rp);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "sweep"), "best")));
	cJSON_Delete(o);
	replay_report_free(rp);

	/* One result's question: a signal independent of confidence escalates at any threshold. */
	cJSON *r = cJSON_Parse("{\"sweep\":{\"min_confidence\":0.6,\"other_signal\":false}}");
	ck_assert(!replay_sweep_escalates(r, 0.6));
	ck_assert(replay_sweep_escalates(r, 0.65));
	cJSON_Delete(r);
	r = cJSON_Parse("{\"sweep\":{\"min_confidence\":null,\"other_signal\":true}}");
	ck_assert(replay_sweep_escalates(r, 0.05));
	cJSON_Delete(r);
}
END_TEST

/*
 * Five labelled replies: confidences 0.9 (stood), 0.8 (stood), 0.7 (not),
 * 0.3 (stood), 0.2 (not), and one unlabelled (null) that must not count.
 * ECE over ten bins: bins 9, 8, 7, 3 and 2 each hold one reply:
 * (|0.9-1| + |0.8-1| + |0.7-0| + |0.3-1| + |0.2-0|) / 5 = 1.9 / 5 = 0.38.
 * AUROC: stood {0.9, 0.8, 0.3} against not {0.7, 0.2}: pairs won
 * 0.9 > both, 0.8 > both, 0.3 > 0.2 only: 5 of 6 = 0.833.
 */
START_TEST(calibration_computed_by_hand)
{
	struct replay_report *rp = replay_report_new(0.8);
	cJSON *r = cJSON_Parse("{\"id\":\"c\",\"replies\":["
	                       "{\"confidence\":0.9,\"stands\":true},"
	                       "{\"confidence\":0.8,\"stands\":true},"
	                       "{\"confidence\":0.7,\"stands\":false},"
	                       "{\"confidence\":0.6,\"stands\":null}]}");
	replay_report_add(rp, r);
	cJSON_Delete(r);
	r = cJSON_Parse("{\"id\":\"d\",\"replies\":["
	                "{\"confidence\":0.3,\"stands\":true},"
	                "{\"confidence\":0.2,\"stands\":false}]}");
	replay_report_add(rp, r);
	cJSON_Delete(r);
	cJSON *o = replay_report_json(rp);
	close_to(at(o, "calibration.turns"), 5);
	close_to(at(o, "calibration.not_stood"), 2);
	close_to(at(o, "calibration.ece"), 0.38);
	close_to(at(o, "calibration.auroc"), 0.833);
	cJSON_Delete(o);
	replay_report_free(rp);
}
END_TEST

START_TEST(an_empty_report_has_nulls_not_zeros)
{
	struct replay_report *rp = replay_report_new(0.8);
	replay_report_bad(rp);
	cJSON *o = replay_report_json(rp);
	close_to(at(o, "bad_lines"), 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "triage"), "accuracy")));
	ck_assert(
	    cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "escalation"), "recall")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "sweep"), "best")));
	ck_assert(cJSON_IsNull(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "calibration"), "auroc")));
	cJSON_Delete(o);
	replay_report_free(rp);
}
END_TEST

/* ------------------------------------------------ tickets through the agents */

struct rig {
	struct policy *policy;
	struct triage *triage;
	struct kb *kb;
	struct tool_backend tools;
	struct agents ag;
};

static void
rig_open(struct rig *r)
{
	struct diag d = {0};
	char *cause = NULL;
	int ex = 0;
	memset(r, 0, sizeof *r);
	char *path = srcpath("policies/support-agent-policy.yaml");
	r->policy = policy_load(path, &d);
	ck_assert_msg(r->policy != NULL, "policy: %s", path);
	free(path);
	const char *env = getenv("FRONTLINE_MODEL");
	char *model =
	    env ? xstrdup(env) : xasprintf("%s/triage.model", getenv("top_builddir") ?: ".");
	char *data = srcpath("data/triage"), *catalog = srcpath("kb/catalog.yaml");
	r->triage = triage_open(model, data, catalog, r->policy, &cause, &ex);
	ck_assert_msg(r->triage != NULL, "triage_open: %s", cause);
	free(model);
	free(data);
	free(catalog);
	char *kbdir = srcpath("kb");
	r->kb = kb_open(kbdir, ":memory:", &d, &cause);
	ck_assert_msg(r->kb != NULL, "kb_open: %s", cause);
	free(kbdir);
	diag_free(&d);
	char *fx = srcpath("data/fixtures/customers.json");
	ck_assert_msg(tool_backend_fixture(&r->tools, fx, &cause) == 0, "%s", cause);
	free(fx);
	r->ag = (struct agents){.policy = r->policy,
	                        .triage = r->triage,
	                        .kb = r->kb,
	                        .fresh = {.today = TODAY, .stale_after_days = 90},
	                        .tools = &r->tools};
}

static void
rig_close(struct rig *r)
{
	tool_backend_free(&r->tools);
	kb_close(r->kb);
	triage_close(r->triage);
	policy_free(r->policy);
}

static cJSON *
replay_line(struct rig *rig, const char *line)
{
	struct ticket t;
	char *cause = NULL;
	ck_assert_msg(ticket_parse(line, strlen(line), &t, &cause) == 0, "%s", cause);
	cJSON *r = replay_ticket(&rig->ag, "v1", &t, &cause);
	ck_assert_msg(r != NULL, "%s", cause);
	ticket_free(&t);
	return r;
}

static const cJSON *
path_of(const cJSON *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;
	const cJSON *v = o;
	for (char *k = strtok_r(p, ".", &save); k != NULL; k = strtok_r(NULL, ".", &save))
		v = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, atoi(k))
		                     : cJSON_GetObjectItemCaseSensitive(v, k);
	free(p);
	return v;
}

START_TEST(a_ticket_with_context_pairs_the_humans_replies)
{
	struct rig rig;
	rig_open(&rig);
	/* The order exists only in the ticket's context, not in the shipped fixture. */
	cJSON *r = replay_line(
	    &rig, "{\"id\":\"T-1\",\"customer\":{\"id\":\"C-9\",\"tier\":\"premium\"},"
	          "\"context\":{\"orders\":[{\"id\":\"Z90001\",\"status\":\"shipped\",\"carrier\":"
	          "\"DHL\",\"eta\":\"2026-11-28\"}]},\"messages\":["
	          "{\"role\":\"customer\",\"text\":\"how long is the return window?\"},"
	          "{\"role\":\"customer\",\"text\":\"where is my order Z90001?\"},"
	          "{\"role\":\"human\",\"text\":\"Your order Z90001 shipped with DHL.\"},"
	          "{\"role\":\"human\",\"text\":\"It arrives on 2026-11-28.\"}],"
	          "\"labels\":{\"intent_category\":\"shipping\",\"escalated\":false}}");
	ck_assert_str_eq(cJSON_GetStringValue(path_of(r, "id")), "T-1");
	ck_assert_str_eq(cJSON_GetStringValue(path_of(r, "customer.tier")), "premium");
	ck_assert(cJSON_IsNull(path_of(r, "created_at")));
	ck_assert(cJSON_IsFalse(path_of(r, "agent_escalated")));
	ck_assert_int_eq(path_of(r, "turns")->valueint, 2);
	ck_assert_int_eq(cJSON_GetArraySize(path_of(r, "replies")), 2);
	/* The first message has no human reply of its own; the second gets both lines. */
	ck_assert(cJSON_IsNull(path_of(r, "replies.0.human")));
	ck_assert(cJSON_IsNull(path_of(r, "replies.0.similarity")));
	ck_assert_str_eq(cJSON_GetStringValue(path_of(r, "replies.1.human")),
	                 "Your order Z90001 shipped with DHL.\nIt arrives on 2026-11-28.");
	const char *reply = cJSON_GetStringValue(path_of(r, "replies.1.text"));
	ck_assert_msg(reply && strstr(reply, "DHL"), "reply: %s", reply ? reply : "null");
	ck_assert(cJSON_IsNumber(path_of(r, "replies.1.similarity.f1")));
	ck_assert_int_eq(path_of(r, "agreement.reply_similarity.turns")->valueint, 1);
	ck_assert(cJSON_IsTrue(path_of(r, "agreement.escalation")));
	ck_assert_str_eq(cJSON_GetStringValue(path_of(r, "tools.0.name")), "get_order_status");
	ck_assert_str_eq(cJSON_GetStringValue(path_of(r, "version")), "v1");
	ck_assert(cJSON_IsFalse(path_of(r, "sweep.other_signal")));
	ck_assert(cJSON_IsNumber(path_of(r, "sweep.min_confidence")));
	cJSON_Delete(r);
	rig_close(&rig);
}
END_TEST

START_TEST(the_agent_stops_at_a_hard_escalation)
{
	struct rig rig;
	rig_open(&rig);
	cJSON *r = replay_line(
	    &rig,
	    "{\"id\":\"T-2\",\"messages\":["
	    "{\"role\":\"customer\",\"text\":\"I will have my lawyer sue you over this bill\"},"
	    "{\"role\":\"human\",\"text\":\"I am passing this to our legal team.\"},"
	    "{\"role\":\"customer\",\"text\":\"how long is the return window?\"}],"
	    "\"labels\":{\"escalated\":true}}");
	ck_assert(cJSON_IsTrue(path_of(r, "agent_escalated")));
	ck_assert_str_eq(cJSON_GetStringValue(path_of(r, "escalation_reason")),
	                 "legal-language-detected");
	ck_assert_int_eq(path_of(r, "escalation_turn")->valueint, 1);
	ck_assert_int_eq(path_of(r, "turns")->valueint, 1);
	ck_assert_int_eq(cJSON_GetArraySize(path_of(r, "replies")), 1);
	ck_assert(cJSON_IsNull(path_of(r, "replies.0.text")));
	ck_assert(cJSON_IsObject(path_of(r, "handoff")));
	ck_assert(cJSON_IsTrue(path_of(r, "sweep.other_signal")));
	ck_assert(cJSON_IsTrue(path_of(r, "agreement.escalation")));
	ck_assert(cJSON_IsNull(path_of(r, "agreement.category")));
	ck_assert(replay_sweep_escalates(r, 0.05));
	cJSON_Delete(r);
	rig_close(&rig);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("similarity");
	tcase_add_test(tc, similarity_by_hand);
	suite_add_tcase(s, tc);
	tc = tcase_create("tickets");
	tcase_add_test(tc, bad_lines_say_why);
	tcase_add_test(tc, a_minimal_ticket_and_a_full_one);
	suite_add_tcase(s, tc);
	tc = tcase_create("report");
	tcase_add_test(tc, agreement_on_the_fixture_set);
	tcase_add_test(tc, the_sweep_finds_the_threshold_computed_by_hand);
	tcase_add_test(tc, calibration_computed_by_hand);
	tcase_add_test(tc, an_empty_report_has_nulls_not_zeros);
	suite_add_tcase(s, tc);
	tc = tcase_create("pipeline");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_ticket_with_context_pairs_the_humans_replies);
	tcase_add_test(tc, the_agent_stops_at_a_hard_escalation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
