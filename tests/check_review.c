/* check_review.c -- trainer review (src/review.c): corrections, validation, export as tickets. */
#include "config.h"

#include <string.h>

#include "policy.h"
#include "review.h"
#include "store.h"
#include "testutil.h"
#include "types.h"

static const char *
s(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* A packet as the store gives it back, with a conversation of two AI turns and a human one. */
static void
packet_fixture(struct review_packet *rp)
{
	memset(rp, 0, sizeof *rp);
	rp->id = 7;
	rp->conv = 3;
	rp->packet = cJSON_Parse("{\"id\":7,\"reason\":\"low-confidence\",\"queue\":\"human-queue-"
	                         "standard\",\"customer\":{\"id\":\"C-1\",\"tier\":\"premium\","
	                         "\"messages\":2},\"text\":\"- Customer: C-1\"}");
	rp->conversation = cJSON_Parse(
	    "{\"id\":3,\"customer\":\"C-1\",\"name\":\"Dana Reyes\",\"tier\":\"premium\","
	    "\"created\":\"2026-11-24T10:00:00Z\"}");
	rp->messages =
	    cJSON_Parse("[{\"role\":\"customer\",\"text\":\"where is my order\",\"at\":\"t1\"},"
	                "{\"role\":\"ai\",\"text\":\"it ships soon\",\"at\":\"t2\"},"
	                "{\"role\":\"customer\",\"text\":\"I was charged twice\",\"at\":\"t3\"},"
	                "{\"role\":\"human\",\"text\":\"refunding the duplicate\",\"at\":\"t4\"},"
	                "{\"role\":\"customer\",\"text\":\"thanks\",\"at\":\"t5\"}]");
	/* The third triage is the human's turn: not what the AI decided at the handoff. */
	rp->events = cJSON_Parse(
	    "[{\"kind\":\"triage\",\"payload\":{\"intent_category\":\"shipping\"}},"
	    "{\"kind\":\"triage\",\"payload\":{\"intent_category\":\"technical\"}},"
	    "{\"kind\":\"triage\",\"payload\":{\"intent_category\":\"general\"}},"
	    "{\"kind\":\"ending\",\"payload\":{\"ending\":\"resolved-human\","
	    "\"closed_by\":\"supervisor\"}},"
	    "{\"kind\":\"csat\",\"payload\":{\"score\":4}}]");
	review_packet_derive(rp);
}

START_TEST(the_ai_decision_is_the_handoff_turns)
{
	struct review_packet rp;
	packet_fixture(&rp);
	ck_assert_str_eq(rp.ai_category, "technical");
	ck_assert_str_eq(rp.ai_reason, "low-confidence");
	/* Without the turn count: the last triage. */
	cJSON_DeleteItemFromObject(rp.packet, "customer");
	review_packet_derive(&rp);
	ck_assert_str_eq(rp.ai_category, "general");
	review_packet_free(&rp);
}
END_TEST

START_TEST(a_correction_says_what_was_wrong)
{
	struct review_packet rp;
	packet_fixture(&rp);
	struct review_edit e = {.category = "billing", .reason = "customer-requested-human"};
	strv_add(&e.missing, "the order number");
	e.note = "double charge";
	cJSON *c = review_correction(&rp, &e);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(c, "ok")));
	ck_assert_str_eq(s(c, "category"), "billing");
	ck_assert_str_eq(s(c, "reason"), "customer-requested-human");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "escalated")));
	ck_assert_str_eq(s(cJSON_GetObjectItem(c, "ai"), "category"), "technical");
	ck_assert_str_eq(s(cJSON_GetObjectItem(c, "ai"), "reason"), "low-confidence");
	char *w = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "wrong"));
	ck_assert_str_eq(w, "[\"category\",\"reason\",\"missing-information\"]");
	free(w);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "missing"), 0)->valuestring,
	                 "the order number");
	ck_assert_str_eq(s(c, "note"), "double charge");
	cJSON_Delete(c);
	strv_free(&e.missing);

	/* Nothing changed: ok, and the AI's decision stands as the label. */
	struct review_edit same = {.category = "technical"};
	c = review_correction(&rp, &same);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")));
	ck_assert_str_eq(s(c, "category"), "technical");
	ck_assert_str_eq(s(c, "reason"), "low-confidence");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "note")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "wrong")), 0);
	cJSON_Delete(c);

	/* Should not have escalated: no reason, escalation is what was wrong. */
	struct review_edit no = {.no_escalation = 1};
	c = review_correction(&rp, &no);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(c, "escalated")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "reason")));
	w = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "wrong"));
	ck_assert_str_eq(w, "[\"escalation\"]");
	free(w);
	cJSON_Delete(c);
	review_packet_free(&rp);
}
END_TEST

START_TEST(names_are_checked)
{
	char *cause = NULL;
	struct diag d = {0};
	char *path = srcpath("policies/support-agent-policy.yaml");
	struct policy *p = policy_load(path, &d);
	ck_assert_ptr_nonnull(p);
	struct review_edit ok = {.category = "returns", .reason = "account-security-concern"};
	ck_assert_int_eq(review_edit_check(&ok, p, &cause), 0);
	/* A handler's reason needs the policy that has the handler. */
	ck_assert_int_eq(review_edit_check(&ok, NULL, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "account-security-concern"));
	free(cause);
	struct review_edit badcat = {.category = "refunds"};
	ck_assert_int_eq(review_edit_check(&badcat, p, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "unknown category 'refunds'"));
	ck_assert_ptr_nonnull(
	    strstr(cause, "billing, technical, account, shipping, returns, general"));
	free(cause);
	struct review_edit badreason = {.reason = "bored"};
	ck_assert_int_eq(review_edit_check(&badreason, p, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "legal-language-detected"));
	free(cause);
	struct review_edit both = {.reason = "low-confidence", .no_escalation = 1};
	ck_assert_int_eq(review_edit_check(&both, p, &cause), -1);
	free(cause);
	struct review_edit empty = {0};
	strv_add(&empty.missing, "");
	ck_assert_int_eq(review_edit_check(&empty, p, &cause), -1);
	free(cause);
	strv_free(&empty.missing);
	ck_assert(review_reason_known(p, "triage-route"));
	ck_assert(!review_reason_known(p, "account_security_concern"));
	policy_free(p);
	diag_free(&d);
	free(path);
}
END_TEST

START_TEST(latest_review_wins)
{
	cJSON *reviews = cJSON_Parse("[{\"id\":1,\"handoff\":7},{\"id\":2,\"handoff\":8},"
	                             "{\"id\":3,\"handoff\":7}]");
	ck_assert_int_eq(cJSON_GetObjectItem(review_latest(reviews, 7), "id")->valueint, 3);
	ck_assert_int_eq(cJSON_GetObjectItem(review_latest(reviews, 8), "id")->valueint, 2);
	ck_assert_ptr_null(review_latest(reviews, 9));
	cJSON_Delete(reviews);
}
END_TEST

START_TEST(a_review_becomes_a_ticket)
{
	struct review_packet rp;
	packet_fixture(&rp);
	struct review_edit e = {.category = "billing", .no_escalation = 1};
	strv_add(&e.missing, "the charge amount");
	cJSON *review = cJSON_CreateObject();
	cJSON_AddNumberToObject(review, "handoff", 7);
	cJSON_AddStringToObject(review, "reviewer", "ana");
	cJSON_AddStringToObject(review, "created", "2026-11-24T12:00:00Z");
	cJSON_AddItemToObject(review, "correction", review_correction(&rp, &e));
	cJSON *t = review_ticket(&rp, review);
	ck_assert_str_eq(s(t, "id"), "review-7");
	ck_assert_str_eq(s(t, "created_at"), "2026-11-24T10:00:00Z");
	const cJSON *c = cJSON_GetObjectItem(t, "customer");
	ck_assert_str_eq(s(c, "id"), "C-1");
	ck_assert_str_eq(s(c, "name"), "Dana Reyes");
	ck_assert_str_eq(s(c, "tier"), "premium");
	/* Customer and human messages in order; the AI's own are left out. */
	const cJSON *m = cJSON_GetObjectItem(t, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(m), 4);
	ck_assert_str_eq(s(cJSON_GetArrayItem(m, 1), "text"), "I was charged twice");
	ck_assert_str_eq(s(cJSON_GetArrayItem(m, 2), "role"), "human");
	const cJSON *l = cJSON_GetObjectItem(t, "labels");
	ck_assert_str_eq(s(l, "intent_category"), "billing");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(l, "escalated")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "escalation_reason")));
	const cJSON *o = cJSON_GetObjectItem(t, "outcome");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "resolved")));
	ck_assert_str_eq(s(o, "resolved_by"), "human");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "csat")->valueint, 4);
	ck_assert_str_eq(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(t, "missing_information"), 0)->valuestring,
	    "the charge amount");
	/* Unconfirmed is no resolution, whoever answered. */
	cJSON *end = cJSON_GetObjectItem(cJSON_GetArrayItem(rp.events, 3), "payload");
	cJSON_ReplaceItemInObject(end, "ending", cJSON_CreateString("unconfirmed"));
	cJSON *t2 = review_ticket(&rp, review);
	o = cJSON_GetObjectItem(t2, "outcome");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "resolved")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "resolved_by")));
	cJSON_Delete(t2);
	const cJSON *r = cJSON_GetObjectItem(t, "review");
	ck_assert_str_eq(s(r, "reviewer"), "ana");
	ck_assert_str_eq(s(cJSON_GetObjectItem(r, "ai"), "category"), "technical");
	cJSON_Delete(t);
	cJSON_Delete(review);
	strv_free(&e.missing);
	review_packet_free(&rp);
}
END_TEST

START_TEST(export_from_the_store)
{
	char *dir = tmpdir_new(), *db = xasprintf("%s/r.db", dir), *cause = NULL;
	struct store *st = store_open(db, &cause);
	ck_assert_msg(st != NULL, "%s", cause);
	int64_t conv, h1, h2;
	int created;
	ck_assert_int_eq(store_customer_put(st, "C-9", "Lee", NULL, TIER_STANDARD, &cause), 0);
	ck_assert_int_eq(store_conversation_open(st, "C-9", &conv, &created, &cause), 0);
	ck_assert_int_eq(
	    store_message_add(st, conv, "customer", "my card was declined", NULL, &cause), 0);
	cJSON *tr = cJSON_Parse("{\"intent_category\":\"technical\"}");
	ck_assert_int_eq(store_event_add(st, conv, "triage", tr, &cause), 0);
	cJSON_Delete(tr);
	cJSON *pk = cJSON_Parse("{\"reason\":\"low-confidence\",\"customer\":{\"id\":\"C-9\","
	                        "\"messages\":1}}");
	ck_assert_int_eq(store_handoff_add(st, conv, pk, &h1, &cause), 0);
	ck_assert_int_eq(store_handoff_add(st, conv, pk, &h2, &cause), 0);
	cJSON_Delete(pk);

	struct review_packet rp;
	ck_assert_int_eq(review_packet_load(st, h1, &rp, &cause), 0);
	ck_assert_int_eq(rp.conv, conv);
	ck_assert_str_eq(rp.ai_category, "technical");
	struct review_edit e1 = {.category = "account"}, e2 = {.category = "billing"};
	cJSON *c1 = review_correction(&rp, &e1), *c2 = review_correction(&rp, &e2);
	ck_assert_int_eq(store_review_add(st, h1, "ana", c1, NULL, &cause), 0);
	ck_assert_int_eq(store_review_add(st, h1, "ana", c2, NULL, &cause), 0);
	cJSON_Delete(c1);
	cJSON_Delete(c2);
	review_packet_free(&rp);
	struct review_packet none;
	ck_assert_int_eq(review_packet_load(st, 999, &none, &cause), 1);

	/* One ticket for h1 (its newest review); h2 is unreviewed. */
	char *out = xasprintf("%s/out.jsonl", dir);
	FILE *f = fopen(out, "w");
	size_t n;
	ck_assert_int_eq(review_export(st, f, &n, &cause), 0);
	fclose(f);
	ck_assert_uint_eq(n, 1);
	char *text = slurp(out);
	int lines = 0;
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	ck_assert_int_eq(lines, 1);
	cJSON *t = cJSON_Parse(text);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(s(cJSON_GetObjectItem(t, "labels"), "intent_category"), "billing");
	ck_assert_str_eq(s(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "messages"), 0), "text"),
	                 "my card was declined");
	cJSON_Delete(t);
	free(text);
	free(out);
	store_close(st);
	rm_rf(dir);
	free(db);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("review");
	TCase *tc = tcase_create("review");
	tcase_add_test(tc, the_ai_decision_is_the_handoff_turns);
	tcase_add_test(tc, a_correction_says_what_was_wrong);
	tcase_add_test(tc, names_are_checked);
	tcase_add_test(tc, latest_review_wins);
	tcase_add_test(tc, a_review_becomes_a_ticket);
	tcase_add_test(tc, export_from_the_store);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
