/* check_metrics.c -- the measurement framework: aggregates on hand-computed fixtures, sessions
 * from a store written the way the desk, chat and replay write it. */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ending.h"
#include "metrics.h"
#include "store.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

/*
 * Whether actual is expected: the same members (in any order), arrays in
 * order, numbers within 1e-6. *where gets the path of the first
 * difference (caller frees).
 */
static int
json_match(const cJSON *e, const cJSON *a, const char *path, char **where)
{
	if (e == NULL || a == NULL || (e->type & 0xff) != (a->type & 0xff)) {
		char *es = e ? cJSON_PrintUnformatted(e) : xstrdup("(missing)");
		char *as = a ? cJSON_PrintUnformatted(a) : xstrdup("(missing)");
		*where = xasprintf("%s: expected %s, got %s", path, es, as);
		free(es);
		free(as);
		return 0;
	}
	if (cJSON_IsNumber(e)) {
		if (fabs(e->valuedouble - a->valuedouble) > 1e-6) {
			*where = xasprintf("%s: expected %.9g, got %.9g", path, e->valuedouble,
			                   a->valuedouble);
			return 0;
		}
		return 1;
	}
	if (cJSON_IsString(e)) {
		if (strcmp(e->valuestring, a->valuestring) != 0) {
			*where = xasprintf("%s: expected \"%s\", got \"%s\"", path, e->valuestring,
			                   a->valuestring);
			return 0;
		}
		return 1;
	}
	if (cJSON_IsArray(e)) {
		int ne = cJSON_GetArraySize(e), na = cJSON_GetArraySize(a);
		if (ne != na) {
			char *as = cJSON_PrintUnformatted(a);
			*where = xasprintf("%s: expected %d items, got %d: %s", path, ne, na, as);
			free(as);
			return 0;
		}
		for (int i = 0; i < ne; i++) {
			char *p = xasprintf("%s[%d]", path, i);
			int ok = json_match(cJSON_GetArrayItem(e, i), cJSON_GetArrayItem(a, i), p,
			                    where);
			free(p);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (cJSON_IsObject(e)) {
		const cJSON *m;
		cJSON_ArrayForEach(m, e)
		{
			char *p = xasprintf("%s.%s", path, m->string);
			int ok =
			    json_match(m, cJSON_GetObjectItemCaseSensitive(a, m->string), p, where);
			free(p);
			if (!ok)
				return 0;
		}
		cJSON_ArrayForEach(m, a)
		{
			if (cJSON_GetObjectItemCaseSensitive(e, m->string) == NULL) {
				*where = xasprintf("%s.%s: not expected", path, m->string);
				return 0;
			}
		}
		return 1;
	}
	if (cJSON_IsBool(e) && cJSON_IsTrue(e) != cJSON_IsTrue(a)) {
		*where = xasprintf("%s: expected %s", path, cJSON_IsTrue(e) ? "true" : "false");
		return 0;
	}
	return 1; /* null, or equal booleans */
}

#define assert_json(expected, actual, name)                                                        \
	do {                                                                                       \
		char *where_ = NULL;                                                               \
		int ok_ = json_match((expected), (actual), (name), &where_);                       \
		ck_assert_msg(ok_, "%s", where_ ? where_ : "?");                                   \
		free(where_);                                                                      \
	} while (0)

static const cJSON *
get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(v != NULL, "no member %s", k);
	return v;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
is_null(const cJSON *o, const char *k)
{
	return cJSON_IsNull(get(o, k));
}

static int
is_true(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	ck_assert_msg(cJSON_IsBool(v), "%s is not a boolean", k);
	return cJSON_IsTrue(v);
}

static int
has_string(const cJSON *arr, const char *s)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, arr)
	{
		if (cJSON_IsString(x) && strcmp(x->valuestring, s) == 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------- hand-computed fixtures */

/*
 * Each tests/fixtures/metrics/NAME.json holds "sessions" (as
 * metrics_sessions makes them), an optional "config" (human_cost_per_hour,
 * coverage_gaps_max) and the "expected" report, worked out by hand: see the
 * "about" line of each. mixed.json, for instance: CSAT agent (5+3)/2 = 4,
 * human (2+4)/2 = 3, unconfirmed 1; FCR agent-first 1 of 5 (the abandoned
 * and the unconfirmed ones count, the open one does not), by the agent 1
 * (0.2), by a human 0; endings 2 agent, 2 human, 1 abandoned, 1
 * unconfirmed (quiet: its window passed), 1 open; escalation 3 of 7, by
 * the agent 2 of 7; cost (0.066 + 840 s at $30/h = 7) / 4 resolutions =
 * 1.7665; gaps "where is order #" (A12345 and B99999 together, mean 0.3)
 * ranks over "reset password"/account (also 2, mean 0.4).
 */
START_TEST(aggregates_match_the_hand_computed_fixtures)
{
	char *dir = srcpath("tests/fixtures/metrics");
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL) {
		if (!str_endswith(de->d_name, ".json"))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		char *text = slurp(path);
		cJSON *fx = cJSON_Parse(text);
		ck_assert_msg(fx != NULL, "%s: not JSON", path);
		struct metrics_config cfg;
		metrics_config_default(&cfg);
		const cJSON *c = cJSON_GetObjectItem(fx, "config");
		if (cJSON_IsNumber(cJSON_GetObjectItem(c, "human_cost_per_hour")))
			cfg.human_cost_per_hour = num(c, "human_cost_per_hour");
		if (cJSON_IsNumber(cJSON_GetObjectItem(c, "coverage_gaps_max")))
			cfg.coverage_gaps_max = (int)num(c, "coverage_gaps_max");
		const cJSON *sessions = get(fx, "sessions");
		char *before = cJSON_PrintUnformatted(sessions);
		cJSON *r = metrics_aggregate(sessions, &cfg);
		assert_json(get(fx, "expected"), r, de->d_name);
		/* Pure: the sessions are untouched, and a second run agrees. */
		char *after = cJSON_PrintUnformatted(sessions);
		ck_assert_str_eq(before, after);
		cJSON *r2 = metrics_aggregate(sessions, &cfg);
		ck_assert(cJSON_Compare(r, r2, 1));
		cJSON_Delete(r2);
		free(before);
		free(after);
		cJSON_Delete(r);
		cJSON_Delete(fx);
		free(text);
		free(path);
		n++;
	}
	closedir(d);
	free(dir);
	ck_assert_int_ge(n, 3);
}
END_TEST

START_TEST(queries_normalise_for_grouping)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Where is order A12345?", "where is order #"},
	    {"  where   IS order b99999 ", "where is order #"},
	    {"reset  PASSWORD!", "reset password"},
	    {"refund $129.99 please", "refund # # please"},
	    {"???", ""},
	    {"", ""},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		char *n = metrics_normalise_query(cases[i].in);
		ck_assert_str_eq(n, cases[i].out);
		free(n);
	}
	/* Long queries are cut, at a word. */
	char *longq = xstrdup("");
	for (int i = 0; i < 100; i++) {
		char *t = xasprintf("%s word", longq);
		free(longq);
		longq = t;
	}
	char *n = metrics_normalise_query(longq);
	ck_assert_uint_le(strlen(n), 125);
	ck_assert_uint_ge(strlen(n), 115);
	free(n);
	free(longq);
}
END_TEST

/* ------------------------------------------------------ store-built cases */

static char *dir;
static struct store *st;

static void
setup(void)
{
	setenv("FRONTLINE_TODAY", "2026-11-24", 1);
	dir = tmpdir_new();
	char *path = xasprintf("%s/frontline.db", dir);
	char *cause = NULL;
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

static void
ok(int rc, char *cause)
{
	ck_assert_msg(rc == 0, "%s", cause ? cause : "?");
}

/*
 * Waits until the store's clock moves on, so every write gets its own
 * time: the metrics merge messages and events in time order, as a live
 * conversation (at a person's pace) has them.
 */
static void
tick(void)
{
	char a[64], b[64];
	store_now(a);
	do {
		usleep(200);
		store_now(b);
	} while (strcmp(a, b) == 0);
}

static void
event(int64_t conv, const char *kind, const char *json)
{
	char *cause = NULL;
	tick();
	cJSON *p = json ? cJSON_Parse(json) : NULL;
	ck_assert_msg(json == NULL || p != NULL, "bad JSON in the test: %s", json);
	ok(store_event_add(st, conv, kind, p, &cause), cause);
	cJSON_Delete(p);
}

static void
message(int64_t conv, const char *role, const char *text)
{
	char *cause = NULL;
	tick();
	ok(store_message_add(st, conv, role, text, NULL, &cause), cause);
}

static int64_t
open_conv(const char *customer)
{
	char *cause = NULL;
	int64_t id;
	int created;
	ok(store_customer_put(st, customer, NULL, NULL, TIER_PREMIUM, &cause), cause);
	ok(store_conversation_open(st, customer, &id, &created, &cause), cause);
	ck_assert(created);
	return id;
}

/* One AI turn's events, as conversation_turn makes them and desk_store_turn stores them. */
static void
turn(int64_t conv, const char *category, const char *hits, const char *escalation)
{
	char *t = xasprintf("{\"intent_category\":\"%s\",\"urgency\":\"normal\"}", category);
	event(conv, "triage", t);
	free(t);
	event(conv, "retrieval", hits);
	event(conv, "validation", "{\"passed\":true,\"violations\":[]}");
	event(conv, "escalation", escalation);
}

/* Closes conv by the rule (ending_close), which must find the ending want. */
static void
close_as(int64_t conv, const struct ending_close *how, const char *want)
{
	char *cause = NULL;
	cJSON *fact = NULL;
	tick();
	ck_assert_msg(ending_close(st, conv, how, NULL, &fact, &cause) == 0, "%s",
	              cause ? cause : "not open");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(fact, "ending")), want);
	cJSON_Delete(fact);
}

static const cJSON *
session(const cJSON *list, double id)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, list)
	{
		const cJSON *v = cJSON_GetObjectItem(s, "id");
		if (cJSON_IsNumber(v) && v->valuedouble == id)
			return s;
	}
	ck_abort_msg("no session %g", id);
	return NULL;
}

static cJSON *
sessions(const struct metrics_filter *f)
{
	struct metrics_config cfg;
	metrics_config_default(&cfg);
	cJSON *out = NULL;
	char *cause = NULL;
	ok(metrics_sessions(st, f, &cfg, &out, &cause), cause);
	return out;
}

/* A billing chat: answered from weak knowledge, handed off, restated, resolved by Sam. */
static int64_t
escalated_chat(void)
{
	int64_t c = open_conv("C-9");
	event(c, "assignment",
	      "{\"version\":\"abc123\",\"arm\":\"ai\",\"canary\":true,\"stage\":1,"
	      "\"bucket\":3,\"eligible\":true}");
	message(c, "customer", "My invoice INV-1 charged twice for the annual plan");
	event(c, "triage", "{\"intent_category\":\"billing\"}");
	event(c, "model",
	      "{\"agent\":\"triage\",\"ok\":true,\"prompt_tokens\":100,\"completion_tokens\":20,"
	      "\"cost_usd\":0.002}");
	event(c, "retrieval",
	      "[{\"id\":\"billing-cycle\",\"topic\":\"billing\",\"freshness_days\":12,"
	      "\"confidence\":0.45},{\"id\":\"x\",\"topic\":\"general\",\"freshness_days\":400,"
	      "\"confidence\":0.2}]");
	event(c, "tool", "{\"name\":\"get_customer_account\",\"allowed\":false}");
	event(c, "validation", "{\"passed\":false,\"violations\":[\"prohibited_phrase:x\"]}");
	event(c, "escalation",
	      "{\"escalate\":false,\"reason\":null,\"signals\":{\"retrieval_confidence\":"
	      "{\"fired\":true},\"legal_language\":{\"fired\":false}}}");
	event(c, "state", "{}");
	message(c, "ai", "Billing runs monthly.");
	message(c, "customer", "and the tax is wrong too, I want a person");
	turn(c, "billing", "[]",
	     "{\"escalate\":true,\"reason\":\"customer-requested-human\",\"signals\":"
	     "{\"human_requested\":{\"fired\":true}}}");
	event(c, "handoff", "{\"reason\":\"customer-requested-human\",\"queue\":\"q\"}");
	message(c, "ai", "Connecting you with a specialist.");
	/* Restating after the handoff: every word was said before. */
	message(c, "customer", "I was charged twice for the annual plan on my invoice");
	message(c, "customer", "ok");
	message(c, "customer", "what about shipping times to Norway");
	event(c, "takeover", "{\"by\":\"sam\",\"from\":\"waiting\"}");
	message(c, "human", "Refunded the duplicate charge.");
	/* The customer's rating, then the close, as the desk writes them. */
	event(c, "csat", "{\"score\":4,\"verbatim\":\"good in the end\"}");
	close_as(
	    c,
	    &(struct ending_close){.closed_by = "supervisor", .outcome = "resolved", .by = "sam"},
	    "resolved-human");
	return c;
}

START_TEST(live_session_from_the_store)
{
	int64_t c = escalated_chat();
	/* The same customer is back: the resolution was a false one. */
	int64_t again = open_conv("C-9");
	message(again, "customer", "the charge is back");

	cJSON *list = sessions(NULL);
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	const cJSON *s = session(list, (double)c);
	ck_assert_str_eq(str(s, "source"), "live");
	ck_assert_str_eq(str(s, "customer"), "C-9");
	ck_assert_str_eq(str(s, "tier"), "premium");
	ck_assert_str_eq(str(s, "category"), "billing");
	ck_assert_str_eq(str(s, "path"), "human");
	ck_assert(is_true(s, "resolved"));
	ck_assert(is_true(s, "recontact_within_7d"));
	ck_assert(!is_true(s, "resolved_correctly"));
	ck_assert_int_eq((int)num(s, "turns"), 5);
	ck_assert_int_eq((int)num(s, "restatements"), 1);
	ck_assert(is_true(s, "escalated"));
	ck_assert_str_eq(str(s, "escalation_reason"), "customer-requested-human");
	ck_assert(is_true(s, "retrieval_used"));
	/* The top hit of each turn that found something. */
	ck_assert(fabs(num(s, "retrieval_confidence") - 0.45) < 1e-9);
	ck_assert(fabs(num(s, "retrieval_freshness_days") - 12) < 1e-9);
	const cJSON *v = get(s, "validation_violations");
	ck_assert_int_eq(cJSON_GetArraySize(v), 1);
	ck_assert(has_string(v, "prohibited_phrase"));
	const cJSON *flags = get(s, "policy_flags");
	ck_assert(has_string(flags, "retrieval_confidence"));
	ck_assert(has_string(flags, "human_requested"));
	ck_assert(has_string(flags, "tool_refused:get_customer_account"));
	ck_assert(!has_string(flags, "legal_language"));
	ck_assert_int_eq((int)num(s, "tokens_consumed"), 120);
	ck_assert(fabs(num(s, "cost_usd") - 0.002) < 1e-9);
	ck_assert_int_eq((int)num(s, "csat_score"), 4);
	ck_assert_str_eq(str(s, "csat_verbatim"), "good in the end");
	ck_assert_int_ge((int)num(s, "handle_time_seconds"), 0);
	ck_assert_int_ge((int)num(s, "human_seconds"), 0);
	ck_assert_str_eq(str(s, "version"), "abc123");
	ck_assert_str_eq(str(s, "arm"), "ai");
	ck_assert(is_true(s, "canary"));
	/* The first answer came from weak knowledge: a gap, with the message that asked. */
	const cJSON *g = get(s, "low_confidence_queries");
	ck_assert_int_eq(cJSON_GetArraySize(g), 1);
	ck_assert_str_eq(str(g->child, "query"),
	                 "My invoice INV-1 charged twice for the annual plan");
	ck_assert_str_eq(str(g->child, "topic"), "billing");
	ck_assert(fabs(num(g->child, "confidence") - 0.45) < 1e-9);

	const cJSON *n = session(list, (double)again);
	ck_assert_str_eq(str(n, "path"), "open");
	ck_assert(!is_true(n, "resolved"));
	ck_assert(is_null(n, "recontact_within_7d"));
	ck_assert(is_null(n, "handle_time_seconds"));
	ck_assert(is_null(n, "csat_score"));
	ck_assert(is_null(n, "category"));
	ck_assert(is_null(n, "version"));
	ck_assert(!is_true(n, "escalated"));
	ck_assert(is_null(n, "escalation_reason"));
	ck_assert(is_null(n, "retrieval_confidence"));
	cJSON_Delete(list);
}
END_TEST

START_TEST(live_paths_and_recontact_window)
{
	char *cause = NULL;
	const struct ending_close left = {.closed_by = "customer-left"};
	/* Answered, then "thanks" (the dialogue act): resolved by the agent; nobody came back. */
	int64_t a = open_conv("C-1");
	message(a, "customer", "where is my order A12345");
	turn(a, "shipping", "[{\"topic\":\"shipping\",\"freshness_days\":3,\"confidence\":0.9}]",
	     "{\"escalate\":false,\"signals\":{}}");
	event(a, "state", "{\"act\":\"question\",\"awaiting\":null}");
	message(a, "ai", "It ships tomorrow.");
	message(a, "customer", "thanks");
	turn(a, "general", "[]", "{\"escalate\":false,\"signals\":{}}");
	event(a, "state", "{\"act\":\"thanks\",\"awaiting\":null}");
	message(a, "ai", "You're welcome.");
	event(a, "left", NULL);
	close_as(a, &left, "resolved-agent");
	/* Left mid-turn: abandoned. */
	int64_t b = open_conv("C-2");
	message(b, "customer", "hello?");
	close_as(b, &left, "abandoned");
	/* Handed off, and the customer left before any human answered: abandoned. */
	int64_t e = open_conv("C-3");
	message(e, "customer", "I will sue");
	turn(e, "general", "[]",
	     "{\"escalate\":true,\"reason\":\"legal-language-detected\",\"signals\":{}}");
	event(e, "handoff", "{\"reason\":\"legal-language-detected\"}");
	ok(store_conversation_handler(st, e, "waiting", NULL, &cause), cause);
	message(e, "customer", "hello?");
	close_as(e, &(struct ending_close){.closed_by = "end-of-input"}, "abandoned");
	/* Answered, then silence: unconfirmed. */
	int64_t u = open_conv("C-4");
	message(u, "customer", "what are your support hours");
	turn(u, "general", "[{\"topic\":\"general\",\"freshness_days\":3,\"confidence\":0.9}]",
	     "{\"escalate\":false,\"signals\":{}}");
	event(u, "state", "{\"act\":\"question\",\"awaiting\":null}");
	message(u, "ai", "8 am to 10 pm Eastern.");
	close_as(u, &(struct ending_close){.closed_by = "idle"}, "unconfirmed");
	/* The agent asked for the order number and the customer left: abandoned. */
	int64_t w = open_conv("C-5");
	message(w, "customer", "my parcel is late");
	turn(w, "shipping", "[]", "{\"escalate\":false,\"signals\":{}}");
	event(w, "state", "{\"act\":\"question\",\"awaiting\":\"order_number\"}");
	message(w, "ai", "Could you share your order number?");
	close_as(w, &left, "abandoned");

	cJSON *list = sessions(NULL);
	const cJSON *s = session(list, (double)a);
	ck_assert_str_eq(str(s, "path"), "agent");
	ck_assert_str_eq(str(s, "ending"), "resolved-agent");
	ck_assert(is_true(s, "resolved"));
	ck_assert(!is_true(s, "recontact_within_7d"));
	ck_assert(is_true(s, "resolved_correctly"));
	ck_assert(!is_true(s, "escalated"));
	ck_assert(is_null(s, "human_seconds"));
	ck_assert_str_eq(str(s, "first_contact"), "agent");
	/* Knowledge was strong, and "thanks" is no question: no gaps. */
	ck_assert_int_eq(cJSON_GetArraySize(get(s, "low_confidence_queries")), 0);
	ck_assert_int_eq((int)num(s, "restatements"), 0);
	s = session(list, (double)b);
	ck_assert_str_eq(str(s, "path"), "abandoned");
	ck_assert(!is_true(s, "resolved"));
	ck_assert(is_null(s, "recontact_within_7d"));
	s = session(list, (double)e);
	ck_assert_str_eq(str(s, "path"), "abandoned");
	ck_assert(is_true(s, "escalated"));
	ck_assert(is_true(s, "agent_escalated"));
	ck_assert_str_eq(str(s, "escalation_reason"), "legal-language-detected");
	s = session(list, (double)u);
	ck_assert_str_eq(str(s, "path"), "unconfirmed");
	ck_assert_str_eq(str(s, "ending"), "unconfirmed");
	ck_assert(!is_true(s, "resolved"));
	/* Its re-contact window is still open: unknown yet. */
	ck_assert(is_null(s, "recontact_within_7d"));
	ck_assert_str_eq(str(session(list, (double)w), "ending"), "abandoned");

	/* By hand: 5 agent-first sessions, one resolved (by the agent), none by a human. */
	struct metrics_config cfg;
	metrics_config_default(&cfg);
	cJSON *r = metrics_aggregate(list, &cfg);
	const cJSON *en = get(r, "endings");
	ck_assert_int_eq((int)num(en, "resolved-agent"), 1);
	ck_assert_int_eq((int)num(en, "resolved-human"), 0);
	ck_assert_int_eq((int)num(en, "abandoned"), 3);
	ck_assert_int_eq((int)num(en, "unconfirmed"), 1);
	ck_assert_int_eq((int)num(en, "open"), 0);
	const cJSON *fa = get(get(r, "fcr"), "agent");
	ck_assert_int_eq((int)num(fa, "sessions"), 5);
	ck_assert_int_eq((int)num(fa, "resolved_first_contact"), 1);
	ck_assert_int_eq((int)num(fa, "resolved_by_agent"), 1);
	ck_assert(fabs(num(fa, "agent_rate") - 0.2) < 1e-9);
	ck_assert_int_eq((int)num(get(r, "unconfirmed"), "window_open"), 1);
	/* Escalation: the agent handed off 1 of 5. */
	ck_assert(fabs(num(get(r, "escalation"), "agent_rate") - 0.2) < 1e-9);
	cJSON_Delete(r);
	cJSON_Delete(list);

	/* C-1 is back 19 days later: outside 7 days, inside 30. C-4 is not back. */
	setenv("FRONTLINE_TODAY", "2026-12-13", 1);
	open_conv("C-1");
	cJSON *out = NULL;
	ok(metrics_sessions(st, NULL, &cfg, &out, &cause), cause);
	ck_assert(!is_true(session(out, (double)a), "recontact_within_7d"));
	/* The window passed quietly: counted on its own, never as the agent's resolution. */
	s = session(out, (double)u);
	ck_assert(cJSON_IsFalse(get(s, "recontact_within_7d")));
	ck_assert(!is_true(s, "resolved"));
	r = metrics_aggregate(out, &cfg);
	ck_assert_int_eq((int)num(get(r, "unconfirmed"), "quiet"), 1);
	ck_assert_int_eq((int)num(get(get(r, "fcr"), "agent"), "resolved_by_agent"), 1);
	cJSON_Delete(r);
	cJSON_Delete(out);
	cfg.recontact_days = 30;
	ok(metrics_sessions(st, NULL, &cfg, &out, &cause), cause);
	ck_assert(is_true(session(out, (double)a), "recontact_within_7d"));
	ck_assert(!is_true(session(out, (double)a), "resolved_correctly"));
	/* Within 30 days of its close the window is open again: unknown. */
	ck_assert(is_null(session(out, (double)u), "recontact_within_7d"));
	cJSON_Delete(out);

	/* C-4 comes back the next day: its unconfirmed answer did not hold. */
	setenv("FRONTLINE_TODAY", "2026-11-25", 1);
	int64_t u2 = open_conv("C-4");
	cfg.recontact_days = 7;
	ok(metrics_sessions(st, NULL, &cfg, &out, &cause), cause);
	ck_assert(is_true(session(out, (double)u), "recontact_within_7d"));
	ck_assert_str_eq(str(session(out, (double)u2), "path"), "open");
	cJSON_Delete(out);
}
END_TEST

START_TEST(filters_pick_sessions)
{
	escalated_chat();
	int64_t other = open_conv("C-5");
	message(other, "customer", "hi");

	struct metrics_filter f = {.arm = "canary"};
	cJSON *l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	f = (struct metrics_filter){.arm = "current"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 0); /* the other has no assignment */
	cJSON_Delete(l);
	f = (struct metrics_filter){.version = "abc123"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	f = (struct metrics_filter){.source = "replay"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
	/* Today's sessions: the store's clock follows FRONTLINE_TODAY (set in setup). */
	f = (struct metrics_filter){.since = "2026-11-24", .until = "2026-11-25"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 2);
	cJSON_Delete(l);
	f = (struct metrics_filter){.until = "2026-11-24"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
}
END_TEST

/* A replay result as the replay helper stores it (DESIGN.md section 5 plus the metrics fields). */
static void
result(int64_t run, const char *id, const char *created, const char *outcome, int human_esc,
       double conf)
{
	char *json = xasprintf(
	    "{\"id\":\"%s\",\"customer\":{\"id\":\"C-%s\",\"tier\":\"standard\"},"
	    "\"created_at\":%s,\"category\":\"shipping\",\"route\":\"resolution-agent-general\","
	    "\"agent_escalated\":true,\"escalation_reason\":\"max-turns-reached\","
	    "\"escalation_turn\":3,\"replies\":[],\"tools\":[],\"handoff\":null,"
	    "\"human\":{\"intent_category\":\"billing\",\"escalated\":%s,"
	    "\"escalation_reason\":%s},\"agreement\":{},\"outcome\":%s,\"turns\":3,"
	    "\"retrieval\":{\"used\":true,\"mean_confidence\":0.55,\"mean_freshness_days\":40},"
	    "\"low_confidence_queries\":[{\"query\":\"gift cards\",\"topic\":\"pricing\","
	    "\"confidence\":%g}],\"violations\":[\"prohibited_phrase:guarantee\"],"
	    "\"prohibited_phrases\":[\"guarantee\"],\"tokens\":321,\"cost_usd\":0.004,"
	    "\"version\":\"v1\"}",
	    id, id, created, human_esc ? "true" : "false",
	    human_esc ? "\"payment-dispute\"" : "null", outcome, conf);
	cJSON *r = cJSON_Parse(json);
	ck_assert_msg(r != NULL, "bad JSON in the test: %s", json);
	char *cause = NULL;
	ok(store_replay_result(st, run, id, r, &cause), cause);
	cJSON_Delete(r);
	free(json);
}

START_TEST(replay_sessions_describe_the_ticket)
{
	char *cause = NULL;
	int64_t old, run;
	ok(store_replay_begin(st, "demo.jsonl", "v0", &old, &cause), cause);
	result(old, "T-1", "\"2026-10-01T10:00:00Z\"", "null", 0, 0.1);
	result(old, "T-2", "null", "null", 0, 0.1);
	ok(store_replay_finish(st, old, 2, NULL, &cause), cause);
	ok(store_replay_begin(st, "demo.jsonl", "v1", &run, &cause), cause);
	result(run, "T-1", "\"2026-10-02T10:00:00Z\"",
	       "{\"resolved\":true,\"resolved_by\":\"human\",\"csat\":5,"
	       "\"recontact_within_7d\":false,\"handle_time_s\":240,\"csat_verbatim\":\"great\"}",
	       1, 0.3);
	result(run, "T-3", "\"2026-10-05T10:00:00Z\"",
	       "{\"resolved\":false,\"resolved_by\":null,\"csat\":null,"
	       "\"recontact_within_7d\":null,\"handle_time_s\":60}",
	       0, 0.7);
	ok(store_replay_finish(st, run, 2, NULL, &cause), cause);

	/* Without --source replay: live sessions only, never the replays' human figures. */
	int64_t live = open_conv("C-7");
	message(live, "customer", "hi");
	cJSON *l = sessions(NULL);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	ck_assert_str_eq(str(l->child, "source"), "live");
	cJSON_Delete(l);

	/* By default the newest run of each ticket file. */
	struct metrics_filter f = {.source = "replay"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 2);
	const cJSON *s = l->child;
	ck_assert_str_eq(str(s, "source"), "replay");
	ck_assert_str_eq(str(s, "id"), "T-1");
	ck_assert_str_eq(str(s, "customer"), "C-T-1");
	ck_assert_str_eq(str(s, "created"), "2026-10-02T10:00:00Z");
	ck_assert_str_eq(str(s, "category"), "billing"); /* the human's label */
	ck_assert_str_eq(str(s, "agent_category"), "shipping");
	ck_assert_str_eq(str(s, "path"), "human");
	ck_assert(is_true(s, "resolved"));
	ck_assert(is_true(s, "resolved_correctly"));
	ck_assert(is_true(s, "escalated")); /* as it happened */
	ck_assert_str_eq(str(s, "escalation_reason"), "payment-dispute");
	ck_assert(is_true(s, "agent_escalated"));
	ck_assert_str_eq(str(s, "agent_escalation_reason"), "max-turns-reached");
	ck_assert_int_eq((int)num(s, "turns"), 3);
	ck_assert(is_null(s, "restatements"));
	ck_assert_int_eq((int)num(s, "csat_score"), 5);
	ck_assert_str_eq(str(s, "csat_verbatim"), "great");
	ck_assert_int_eq((int)num(s, "handle_time_seconds"), 240);
	ck_assert_int_eq((int)num(s, "human_seconds"), 240);
	ck_assert_int_eq((int)num(s, "tokens_consumed"), 321);
	ck_assert(fabs(num(s, "retrieval_confidence") - 0.55) < 1e-9);
	ck_assert(has_string(get(s, "validation_violations"), "prohibited_phrase"));
	ck_assert(has_string(get(s, "policy_flags"), "prohibited_phrase"));
	ck_assert_str_eq(str(s, "version"), "v1");
	ck_assert_int_eq((int)num(s, "run"), (int)run);
	ck_assert_int_eq(cJSON_GetArraySize(get(s, "low_confidence_queries")), 1);
	s = s->next;
	ck_assert_str_eq(str(s, "id"), "T-3");
	ck_assert_str_eq(str(s, "path"), "abandoned");
	ck_assert(!is_true(s, "resolved"));
	ck_assert(is_null(s, "resolved_correctly"));
	ck_assert(is_null(s, "recontact_within_7d"));
	ck_assert(is_null(s, "csat_score"));
	/* 0.7 is above the coverage threshold (0.6): no gap. */
	ck_assert_int_eq(cJSON_GetArraySize(get(s, "low_confidence_queries")), 0);
	cJSON_Delete(l);

	/* One run by id; unknown outcomes stay unknown. */
	f = (struct metrics_filter){.run = old};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 2);
	s = l->child;
	ck_assert_str_eq(str(s, "version"), "v1"); /* the result's own */
	ck_assert(is_null(s, "path"));
	ck_assert(is_null(s, "resolved"));
	ck_assert(is_null(s, "handle_time_seconds"));
	ck_assert(is_null(s->next, "created"));
	cJSON_Delete(l);

	/* Dates, and a run that is not there. */
	f = (struct metrics_filter){.source = "replay", .since = "2026-10-03"};
	l = sessions(&f);
	ck_assert_int_eq(cJSON_GetArraySize(l), 1);
	ck_assert_str_eq(str(l->child, "id"), "T-3");
	cJSON_Delete(l);
	struct metrics_config cfg;
	metrics_config_default(&cfg);
	f = (struct metrics_filter){.run = 999};
	cJSON *out = NULL;
	ck_assert_int_eq(metrics_sessions(st, &f, &cfg, &out, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "999"));
	free(cause);

	/* And the report over them: CSAT for the human path, the agent's would-escalate aside. */
	f = (struct metrics_filter){.source = "replay"};
	ok(metrics_report(st, &f, &cfg, &out, &cause), cause);
	const cJSON *h = get(get(out, "csat_by_path"), "human");
	ck_assert_int_eq((int)num(h, "responses"), 1);
	ck_assert(fabs(num(h, "mean") - 5) < 1e-9);
	ck_assert(fabs(num(get(out, "escalation"), "rate") - 0.5) < 1e-9);
	ck_assert_int_eq((int)num(out, "replay"), 2);
	cJSON_Delete(out);
}
END_TEST

START_TEST(an_empty_store_reports_nulls)
{
	struct metrics_config cfg;
	metrics_config_default(&cfg);
	cJSON *r = NULL;
	char *cause = NULL;
	ok(metrics_report(st, NULL, &cfg, &r, &cause), cause);
	ck_assert_int_eq((int)num(r, "sessions"), 0);
	ck_assert(is_null(get(get(r, "csat_by_path"), "agent"), "mean"));
	ck_assert(is_null(get(r, "cost"), "per_resolution_usd"));
	ck_assert(is_null(get(r, "escalation"), "rate"));
	cJSON_Delete(r);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("aggregate");
	tcase_add_test(tc, aggregates_match_the_hand_computed_fixtures);
	tcase_add_test(tc, queries_normalise_for_grouping);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, live_session_from_the_store);
	tcase_add_test(tc, live_paths_and_recontact_window);
	tcase_add_test(tc, filters_pick_sessions);
	tcase_add_test(tc, replay_sessions_describe_the_ticket);
	tcase_add_test(tc, an_empty_store_reports_nulls);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
