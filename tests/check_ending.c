/* check_ending.c -- the ending rule, case by case, and the close that stores it. */
#include "config.h"

#include "ending.h"
#include "store.h"
#include "testutil.h"

/*
 * A timeline in a line: messages as "c:" (customer), "a:" (AI), "h:"
 * (human), events as "!KIND" or "!KIND{JSON payload}", separated by "|".
 * Messages go to *msgs, events to *events, in order (both as the store's
 * rows).
 */
static void
timeline(const char *spec, cJSON **msgs, cJSON **events)
{
	*msgs = cJSON_CreateArray();
	*events = cJSON_CreateArray();
	char *copy = xstrdup(spec), *save = NULL;
	for (char *t = strtok_r(copy, "|", &save); t != NULL; t = strtok_r(NULL, "|", &save)) {
		cJSON *o = cJSON_CreateObject();
		if (*t == '!') {
			char *brace = strchr(t, '{');
			char *kind =
			    brace ? xstrndup(t + 1, (size_t)(brace - t - 1)) : xstrdup(t + 1);
			cJSON_AddStringToObject(o, "kind", kind);
			cJSON *p = brace ? cJSON_Parse(brace) : cJSON_CreateNull();
			ck_assert_msg(p != NULL, "bad payload in the test: %s", t);
			cJSON_AddItemToObject(o, "payload", p);
			cJSON_AddItemToArray(*events, o);
			free(kind);
		} else {
			const char *role = t[0] == 'c' ? "customer" : t[0] == 'a' ? "ai" : "human";
			cJSON_AddStringToObject(o, "role", role);
			cJSON_AddStringToObject(o, "text", t + 2);
			cJSON_AddItemToArray(*msgs, o);
		}
	}
	free(copy);
}

START_TEST(the_rule_case_by_case)
{
	static const struct {
		const char *timeline, *handler, *outcome, *ending, *reason;
	} cases[] = {
	    /* Any takeover or human reply: the human's, whatever follows. */
	    {"c:hi|a:hello|!takeover{\"by\":\"sam\"}|!handback|c:thanks|a:bye|"
	     "!state{\"act\":\"thanks\",\"awaiting\":null}",
	     "ai", NULL, "resolved-human", "takeover"},
	    {"c:hi|!handoff|h:here|c:?", "human", "abandoned", "resolved-human", "human-reply"},
	    /* Nothing said. */
	    {"", "ai", NULL, "abandoned", "no-message"},
	    /* The supervisor's verdict when no human was in it. */
	    {"c:hi|a:hello|!state{\"act\":\"thanks\"}", "ai", "abandoned", "abandoned",
	     "supervisor-abandoned"},
	    /* Handed off, nobody came. */
	    {"c:sue you|a:a specialist will help|!handoff{\"reason\":\"legal\"}|c:hello?",
	     "waiting", NULL, "abandoned", "escalated-no-human"},
	    /* Handed back without a human: back on the AI's ground. */
	    {"c:x|a:y|!handoff|!handback|!state{\"act\":\"question\",\"awaiting\":null}", NULL,
	     NULL, "unconfirmed", "no-confirmation"},
	    /* Left mid-turn. */
	    {"c:hi|a:hello|!state{}|c:one more thing", "ai", NULL, "abandoned", "unanswered"},
	    /* The customer confirmed. */
	    {"c:where?|a:there|!state{\"act\":\"question\"}|c:thanks!|a:welcome|"
	     "!state{\"act\":\"thanks\",\"awaiting\":null}",
	     "ai", "resolved", "resolved-agent", "confirmed"},
	    /* Thanks when nothing was asked confirms nothing. */
	    {"c:hi|a:hello|!state{\"act\":\"greeting\"}|c:thanks|a:welcome|"
	     "!state{\"act\":\"thanks\",\"awaiting\":null}",
	     "ai", NULL, "unconfirmed", "nothing-asked"},
	    /* The agent waits on the customer: any value of awaiting. */
	    {"c:late|a:order?|!state{\"act\":\"question\",\"awaiting\":\"order_number\"}", "ai",
	     NULL, "abandoned", "awaiting"},
	    {"c:a refund?|a:shall I?|!state{\"act\":\"question\",\"awaiting\":\"confirm\"}", "ai",
	     "resolved", "abandoned", "awaiting"},
	    /* A state from before awaiting: what the turn asked for. */
	    {"c:late parcel|a:order number?|!state{\"asked\":1}", "ai", NULL, "abandoned",
	     "awaiting"},
	    {"c:my account|a:email?|!state{\"asked\":2}", "ai", NULL, "abandoned", "awaiting"},
	    /* Answered, nothing confirmed it, whoever closed it. */
	    {"c:hours?|a:8 to 10|!state{\"act\":\"question\",\"awaiting\":null}", "ai", "resolved",
	     "unconfirmed", "no-confirmation"},
	    {"c:hours?|a:8 to 10|!state{\"asked\":0}", "ai", NULL, "unconfirmed",
	     "no-confirmation"},
	    /* Unknown acts are questions. */
	    {"c:hours?|a:8 to 10", "ai", NULL, "unconfirmed", "no-confirmation"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		cJSON *msgs, *events, *ev = NULL;
		timeline(cases[i].timeline, &msgs, &events);
		struct ending_close how = {.closed_by = "customer-left",
		                           .outcome = cases[i].outcome,
		                           .by = cases[i].outcome ? "sam" : NULL};
		enum ending e = ending_judge(msgs, events, cases[i].handler, &how, &ev);
		ck_assert_msg(strcmp(ending_names[e], cases[i].ending) == 0, "case %zu: %s, not %s",
		              i, ending_names[e], cases[i].ending);
		const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "reason"));
		ck_assert_msg(reason != NULL && strcmp(reason, cases[i].reason) == 0,
		              "case %zu: reason %s, not %s", i, reason ? reason : "(none)",
		              cases[i].reason);
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "closed_by")),
		                 "customer-left");
		cJSON_Delete(msgs);
		cJSON_Delete(events);
		cJSON_Delete(ev);
	}
}
END_TEST

START_TEST(the_evidence_says_why)
{
	cJSON *msgs, *events, *ev = NULL;
	timeline("c:hi|a:hello|!handoff{\"reason\":\"x\"}|!takeover{\"by\":\"sam\"}|h:here|h:done|"
	         "c:ok|!takeover{\"by\":\"kim\"}",
	         &msgs, &events);
	struct ending_close how = {
	    .closed_by = "supervisor", .outcome = "resolved", .by = "kim", .note = "refunded"};
	ck_assert_int_eq(ending_judge(msgs, events, "human", &how, &ev), ENDING_RESOLVED_HUMAN);
	char *s = cJSON_PrintUnformatted(ev);
	ck_assert_str_eq(s, "{\"closed_by\":\"supervisor\",\"reason\":\"takeover\","
	                    "\"customer_messages\":2,\"unanswered\":1,\"last_act\":null,"
	                    "\"awaiting\":null,\"takeovers\":2,\"takeover_by\":\"sam\","
	                    "\"human_replies\":2,\"handoffs\":1,\"outcome\":\"resolved\","
	                    "\"by\":\"kim\",\"note\":\"refunded\"}");
	free(s);
	cJSON_Delete(ev);
	cJSON_Delete(msgs);
	cJSON_Delete(events);
}
END_TEST

/* ------------------------------------------------------------ the store */

static char *dir;
static struct store *st;

static void
setup(void)
{
	setenv("FRONTLINE_TODAY", "2026-11-24", 1);
	dir = tmpdir_new();
	char *path = xasprintf("%s/frontline.db", dir), *cause = NULL;
	st = store_open(path, &cause);
	ck_assert_msg(st != NULL, "store_open: %s", cause);
	free(path);
}

static void
teardown(void)
{
	store_close(st);
	rm_rf(dir);
	free(dir);
}

static int64_t
answered(const char *customer)
{
	char *cause = NULL;
	int64_t conv;
	ck_assert_int_eq(store_conversation_open(st, customer, &conv, NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(st, conv, "customer", "hours?", NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(st, conv, "ai", "8 to 10", NULL, &cause), 0);
	return conv;
}

START_TEST(closing_stores_the_fact_once)
{
	char *cause = NULL;
	int64_t conv = answered("ann");
	cJSON *fact = NULL;
	const struct ending_close how = {.closed_by = "end-of-input"};
	ck_assert_int_eq(ending_close(st, conv, &how, NULL, &fact, &cause), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(fact, "ending")), "unconfirmed");
	cJSON_Delete(fact);
	cJSON *row = NULL;
	ck_assert_int_eq(store_conversation_get(st, conv, &row, &cause), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "ending")), "unconfirmed");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "state")), "abandoned");
	cJSON_Delete(row);
	/* Closed already: left alone, nothing more stored. */
	ck_assert_int_eq(ending_close(st, conv, &how, NULL, &fact, &cause), 1);
	ck_assert_ptr_null(fact);
	cJSON *events = NULL;
	ck_assert_int_eq(store_events(st, conv, &events, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(events), 1);
	cJSON_Delete(events);
	ck_assert_int_eq(ending_close(st, 999, &how, NULL, NULL, &cause), -1);
	ck_assert_msg(strstr(cause, "no conversation 999") != NULL, "%s", cause);
	free(cause);
}
END_TEST

START_TEST(the_idle_timeout_closes_only_the_ais_silent_ones)
{
	char *cause = NULL;
	int64_t quiet = answered("ann"), held = answered("bob"), human = answered("cy");
	int64_t waiting = answered("di");
	struct store_claim cl;
	ck_assert_int_eq(store_message_add(st, held, "customer", "and?", NULL, &cause), 0);
	ck_assert_int_eq(store_claim(st, "worker:1", 60000, held, &cl, &cause), 1);
	ck_assert_int_eq(store_conversation_take(st, human, "sam", &cause), 0);
	ck_assert_int_eq(store_conversation_handler(st, waiting, "waiting", NULL, &cause), 0);
	char now[64];
	store_now(now);
	int n = -1;
	/* Before what they stored: none is idle since. */
	ck_assert_int_eq(ending_close_idle(st, "2026-11-24T00:00:00.000Z", &n, &cause), 0);
	ck_assert_int_eq(n, 0);
	/* Long after: only the AI's with no live claim; a human's and the queue's wait. */
	ck_assert_int_eq(ending_close_idle(st, "2026-12-24T00:00:00.000Z", &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	cJSON *list = NULL;
	ck_assert_int_eq(store_conversation_list(st, NULL, &list, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(list), 3);
	const cJSON *r;
	cJSON_ArrayForEach(r, list)
	{
		ck_assert(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "id")) != (double)quiet);
	}
	cJSON_Delete(list);
	/* Once the claim is given up, the one it held goes too: a message nobody answered. */
	ck_assert_int_eq(store_claim_release(st, held, "worker:1", &cause), 0);
	ck_assert_int_eq(ending_close_idle(st, "2026-12-24T00:00:00.000Z", &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	cJSON *row = NULL;
	ck_assert_int_eq(store_conversation_get(st, held, &row, &cause), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "ending")), "abandoned");
	cJSON_Delete(row);
	/* An idle cutoff an hour ago is an hour before now. */
	char before[64];
	ending_idle_before(60, before);
	ck_assert_int_eq(strlen(before), 24);
	ck_assert(strcmp(before, now) < 0);
	ck_assert(strncmp(before, "2026-11-2", 9) == 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ending");
	TCase *rule = tcase_create("rule");
	tcase_add_test(rule, the_rule_case_by_case);
	tcase_add_test(rule, the_evidence_says_why);
	suite_add_tcase(s, rule);
	TCase *store = tcase_create("store");
	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, closing_stores_the_fact_once);
	tcase_add_test(store, the_idle_timeout_closes_only_the_ais_silent_ones);
	suite_add_tcase(s, store);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
