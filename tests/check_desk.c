/*
 * check_desk.c -- the console's model: live conversations, takeover,
 * hand-back, restart. With FRONTLINE_TEST_PG (tests/desk-pg.sh: a
 * throwaway cluster) also the live side on PostgreSQL: what others change
 * is read as a delta, a burst once, and everything after a lost
 * connection -- counted in statements; and a desk on frontline serve's
 * floor stream, which reads nothing for what others change.
 */
#include "config.h"

#include <libpq-fe.h>
#include <time.h>

#include "desk.h"
#include "http.h"
#include "loop.h"
#include "metrics.h"
#include "serve.h"
#include "sse.h"
#include "testutil.h"
#include "tool-backend.h"

static struct policy *policy;
static struct agents ag;
static struct tool_backend tb;
static char *dir, *db;

/* What the hooks saw. */
static struct strv delivered; /* "ROLE:TEXT" */
static int handler_calls, changes;

static void
on_deliver(void *arg, struct desk_conv *c, const char *role, const char *text)
{
	strv_take(&delivered, xasprintf("%s:%s", role, text));
}

static void
on_handler(void *arg, struct desk_conv *c)
{
	handler_calls++;
}

static void
on_changed(void *arg, struct desk_conv *c)
{
	changes++;
}

/* What the floor's stream last said went wrong ("" when it is back), and how often it ended. */
static char floor_problem[256];
static int floor_ends;

static void
on_floor(void *arg, const char *problem)
{
	snprintf(floor_problem, sizeof floor_problem, "%s", problem ? problem : "");
	floor_ends += problem != NULL && strstr(problem, "ended") != NULL;
}

static const struct desk_hooks hooks = {on_deliver, on_handler, on_changed, NULL, on_floor};

static void
setup(void)
{
	struct diag d = {0};
	char *pp = srcpath("policies/support-agent-policy.yaml");
	policy = policy_load(pp, &d);
	ck_assert_msg(policy != NULL, "policy: %s", d.msgs.n ? d.msgs.v[0] : "?");
	free(pp);
	const char *env = getenv("FRONTLINE_MODEL");
	char *model =
	    env ? xstrdup(env) : xasprintf("%s/triage.model", getenv("top_builddir") ?: ".");
	char *data = srcpath("data/triage"), *catalog = srcpath("kb/catalog.yaml"), *cause = NULL;
	char *kbdir = srcpath("kb"), *fixture = srcpath("data/fixtures/customers.json");
	int ex = 0;
	ag.policy = policy;
	ag.triage = triage_open(model, data, catalog, policy, &cause, &ex);
	ck_assert_msg(ag.triage != NULL, "triage_open: %s", cause);
	ag.kb = kb_open(kbdir, ":memory:", &d, &cause);
	ck_assert_msg(ag.kb != NULL, "kb_open: %s", cause);
	ck_assert_int_eq(date_parse("2026-11-24", &ag.fresh.today), 0);
	ag.fresh.stale_after_days = policy->stale_after_days;
	ag.fresh.volatile_topics = policy->volatile_topics;
	ck_assert_msg(tool_backend_fixture(&tb, fixture, &cause) == 0, "fixture: %s", cause);
	ag.tools = &tb;
	diag_free(&d);
	free(model);
	free(data);
	free(catalog);
	free(kbdir);
	free(fixture);
	dir = tmpdir_new();
	db = xasprintf("%s/desk.db", dir);
	setenv("FRONTLINE_TODAY", "2026-11-24", 1);
}

static void
teardown(void)
{
	triage_close(ag.triage);
	kb_close(ag.kb);
	tool_backend_free(&tb);
	policy_free(policy);
	strv_free(&delivered);
	handler_calls = changes = 0;
	char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(db);
	free(dir);
}

static struct store *
store_ok(void)
{
	char *cause = NULL;
	struct store *st = store_open(db, &cause);
	ck_assert_msg(st != NULL, "store_open: %s", cause);
	return st;
}

static struct desk *
desk_ok(struct store *st)
{
	char *cause = NULL;
	struct desk *d = desk_open(&ag, st, &hooks, &cause);
	ck_assert_msg(d != NULL, "desk_open: %s", cause);
	return d;
}

static struct desk_conv *
join_ok(struct desk *d, const char *customer, enum tier tier)
{
	char *cause = NULL;
	struct desk_conv *c = desk_join(d, customer, NULL, tier, 1, &cause);
	ck_assert_msg(c != NULL, "desk_join: %s", cause);
	return c;
}

static void
say_ok(struct desk *d, struct desk_conv **c, const char *text)
{
	char *cause = NULL;
	ck_assert_msg(desk_say(d, c, text, &cause) == 0, "desk_say: %s", cause);
}

/* Who spoke last (notes are the supervisor's, not the conversation's). */
static const char *
last_role(const struct desk_conv *c)
{
	for (size_t i = c->nmsgs; i-- > 0;)
		if (strcmp(c->msgs[i].role, "note") != 0)
			return c->msgs[i].role;
	return "";
}

/* The number of rows an SQL count gives on the store file. */
static int
count(struct store *st, const char *kind, int64_t conv)
{
	cJSON *ev;
	char *cause = NULL;
	ck_assert_int_eq(store_events(st, conv, &ev, &cause), 0);
	int n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, ev) n +=
	    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")), kind) == 0;
	cJSON_Delete(ev);
	return n;
}

/* A member of the conversation's ending (its "ending" event; static copy). */
static const char *
ending_of(struct store *st, int64_t conv, const char *field)
{
	static char out[128];
	cJSON *ev;
	char *cause = NULL;
	ck_assert_int_eq(store_events(st, conv, &ev, &cause), 0);
	const cJSON *e, *p = NULL;
	cJSON_ArrayForEach(e, ev)
	{
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")), "ending") == 0)
			p = cJSON_GetObjectItem(e, "payload");
	}
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(p, field));
	snprintf(out, sizeof out, "%s", v ? v : "(none)");
	cJSON_Delete(ev);
	return out;
}

START_TEST(the_ai_answers_and_everything_is_stored)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	struct desk_conv *c = join_ok(d, "C-1001", TIER_STANDARD);
	ck_assert_int_eq(c->handler, HANDLER_AI);
	unsigned seq = c->seq;
	say_ok(d, &c, "how long does standard shipping take?");
	ck_assert_uint_gt(c->seq, seq);
	ck_assert_int_eq(c->busy, 0);
	ck_assert_int_eq(delivered.n, 1);
	ck_assert_msg(strncmp(delivered.v[0], "ai:", 3) == 0, "%s", delivered.v[0]);
	ck_assert_str_eq(last_role(c), "ai");
	ck_assert_ptr_nonnull(c->triage);
	ck_assert_ptr_nonnull(c->knowledge);
	ck_assert_ptr_nonnull(c->escalation);
	ck_assert_ptr_nonnull(c->validation);
	ck_assert_int_eq(c->sentiments.n, 1);

	cJSON *m;
	char *cause = NULL;
	ck_assert_int_eq(store_messages(st, c->id, &m, &cause), 0);
	ck_assert_int_eq(cJSON_GetArraySize(m), 2);
	cJSON_Delete(m);
	ck_assert_int_eq(count(st, "triage", c->id), 1);
	ck_assert_int_eq(count(st, "state", c->id), 1);
	desk_close(d);
	store_close(st);
}
END_TEST

START_TEST(escalation_waits_then_a_human_takes_over_and_hands_back)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	struct desk_conv *c = join_ok(d, "C-1001", TIER_STANDARD);
	say_ok(d, &c, "This is unacceptable, my lawyer will hear about this");
	ck_assert_int_eq(c->handler, HANDLER_WAITING);
	ck_assert_int_eq(handler_calls, 1);
	ck_assert_ptr_nonnull(c->packet);
	ck_assert_int_gt(c->handoff_id, 0);
	ck_assert_int_eq(desk_count(d, HANDLER_WAITING), 1);

	/* Waiting: the AI does not answer any more. */
	size_t before = delivered.n;
	say_ok(d, &c, "hello? anyone?");
	ck_assert_int_eq(delivered.n, before);
	ck_assert_str_eq(last_role(c), "customer");

	char *cause = NULL;
	ck_assert_int_eq(desk_takeover(d, c, "sam", &cause), 0);
	ck_assert_int_eq(c->handler, HANDLER_HUMAN);
	ck_assert_str_eq(c->owner, "sam");
	/* A second supervisor cannot take it too. */
	ck_assert_int_eq(desk_takeover(d, c, "kim", &cause), -1);
	ck_assert_msg(strstr(cause, "already"), "%s", cause);
	free(cause);
	cause = NULL;

	/* A reply that breaks the guardrails is held back unless overridden. */
	cJSON *v = NULL;
	ck_assert_int_eq(desk_human_say(d, c, "Sure, your SSN is 123-45-6789", 0, &v, &cause), 1);
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(v, "passed")));
	ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(v, "violations")), 0);
	cJSON_Delete(v);
	ck_assert_int_eq(delivered.n, before);
	ck_assert_int_eq(
	    desk_human_say(d, c, "I am sorry about this, I will sort it out now.", 0, &v, &cause),
	    0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(v, "passed")));
	cJSON_Delete(v);
	ck_assert_int_eq(delivered.n, before + 1);
	ck_assert_str_eq(delivered.v[before],
	                 "human:I am sorry about this, I will sort it out now.");
	ck_assert_int_eq(desk_human_say(d, c, "Sure, your SSN is 123-45-6789", 1, &v, &cause), 0);
	cJSON_Delete(v);
	ck_assert_int_eq(delivered.n, before + 2);

	/* Back to the AI: it answers the next message. */
	ck_assert_int_eq(desk_handback(d, c, &cause), 0);
	ck_assert_int_eq(c->handler, HANDLER_AI);
	ck_assert_ptr_null(c->owner);
	say_ok(d, &c, "thanks, and how long does standard shipping take?");
	ck_assert_str_eq(last_role(c), "ai");
	ck_assert_int_eq(c->handler, HANDLER_AI);

	ck_assert_int_eq(desk_resolve(d, c, "resolved", "sorted", &cause), 0);
	ck_assert_int_eq(c->handler, HANDLER_RESOLVED);
	ck_assert_int_eq(count(st, "takeover", c->id), 1);
	ck_assert_int_eq(count(st, "handback", c->id), 1);
	ck_assert_int_eq(count(st, "ending", c->id), 1);
	ck_assert_str_eq(ending_of(st, c->id, "ending"), "resolved-human");
	ck_assert_int_eq(desk_resolve(d, c, "resolved", NULL, &cause), -1);
	free(cause);
	desk_close(d);
	store_close(st);
}
END_TEST

START_TEST(a_human_promise_beyond_authority_is_held)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	struct desk_conv *c = join_ok(d, "C-1006", TIER_STANDARD);
	say_ok(d, &c, "You charged me $740 for a camera I sent back, I want my money");
	char *cause = NULL;
	if (c->handler != HANDLER_HUMAN)
		ck_assert_int_eq(desk_takeover(d, c, "sam", &cause), 0);
	size_t before = delivered.n;

	/* The customer's own $740 grounds the figure, not the promise (issue 15). */
	static const char promise[] =
	    "I guarantee you will get a full refund of $740 today, our lawyers agree";
	cJSON *v = NULL;
	ck_assert_int_eq(desk_human_say(d, c, promise, 0, &v, &cause), 1);
	char *vs = cJSON_PrintUnformatted(cJSON_GetObjectItem(v, "violations"));
	ck_assert_str_eq(vs, "[\"commitment:guarantee:I guarantee\",\"commitment:amount:$740\","
	                     "\"commitment:date:today\",\"legal_claim:our lawyers agree\"]");
	free(vs);
	cJSON_Delete(v);
	ck_assert_int_eq(delivered.n, before);

	/* What the human may say goes through; the held one only when overridden. */
	ck_assert_int_eq(desk_human_say(d, c,
	                                "A billing specialist will review the refund and reply by "
	                                "email.",
	                                0, &v, &cause),
	                 0);
	cJSON_Delete(v);
	ck_assert_int_eq(desk_human_say(d, c, promise, 1, &v, &cause), 0);
	cJSON_Delete(v);
	ck_assert_int_eq(delivered.n, before + 2);
	desk_close(d);
	store_close(st);
}
END_TEST

START_TEST(taking_over_from_the_ai_writes_a_packet)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	struct desk_conv *c = join_ok(d, "C-1002", TIER_PREMIUM);
	say_ok(d, &c, "where is my order?");
	ck_assert_ptr_null(c->packet);
	char *cause = NULL;
	ck_assert_int_eq(desk_takeover(d, c, "sam", &cause), 0);
	ck_assert_ptr_nonnull(c->packet);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c->packet, "reason")),
	                 "supervisor-takeover");
	cJSON *p = NULL;
	ck_assert_int_eq(store_handoff_get(st, c->handoff_id, &p, &cause), 0);
	ck_assert_ptr_nonnull(p);
	cJSON_Delete(p);
	/* The AI does not answer a conversation a human has. */
	size_t before = delivered.n;
	say_ok(d, &c, "hello?");
	ck_assert_int_eq(delivered.n, before);
	desk_close(d);
	store_close(st);
}
END_TEST

START_TEST(a_restart_brings_everything_back)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	char *cause = NULL;
	struct desk_conv *a = join_ok(d, "C-1001", TIER_STANDARD);
	say_ok(d, &a, "my lawyer will contact you about this");
	ck_assert_int_eq(desk_takeover(d, a, "sam", &cause), 0);
	struct desk_conv *b = join_ok(d, "C-1002", TIER_PREMIUM);
	say_ok(d, &b, "how long does standard shipping take?");
	int64_t aid = a->id, bid = b->id;
	size_t an = a->nmsgs;
	desk_close(d);
	/* A message stored while no console ran (or as it died): answered on open. */
	ck_assert_int_eq(store_message_add(st, bid, "customer",
	                                   "how long does expedited shipping take?", NULL, &cause),
	                 0);
	size_t before = delivered.n;

	d = desk_ok(st);
	size_t n;
	desk_list(d, &n);
	ck_assert_int_eq(n, 2);
	a = desk_find(d, aid);
	b = desk_find(d, bid);
	ck_assert_int_eq(a->handler, HANDLER_HUMAN);
	ck_assert_str_eq(a->owner, "sam");
	ck_assert_ptr_nonnull(a->packet);
	ck_assert_int_eq(a->nmsgs, an); /* the notes come back from the events */
	ck_assert_int_eq(b->tier, TIER_PREMIUM);
	/* The message left over got its turn: a reply or a handoff message. */
	ck_assert_str_eq(last_role(b), "ai");
	ck_assert_int_eq(delivered.n, before + 1);
	ck_assert_int_eq(b->sentiments.n, 2);
	desk_close(d);
	store_close(st);
}
END_TEST

START_TEST(customers_come_and_go)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	char *cause = NULL;
	struct desk_conv *c = join_ok(d, "C-1001", TIER_STANDARD);
	c->client = &cause; /* any non-NULL client */
	ck_assert_ptr_null(desk_join(d, "C-1001", NULL, TIER_STANDARD, 0, &cause));
	ck_assert_msg(strstr(cause, "already connected"), "%s", cause);
	free(cause);
	cause = NULL;
	say_ok(d, &c, "how long does standard shipping take?");
	desk_leave(d, c);
	ck_assert_int_eq(c->handler, HANDLER_RESOLVED);
	ck_assert_ptr_null(c->client);
	ck_assert_int_eq(count(st, "ending", c->id), 1);

	/* Back again: a new conversation. */
	struct desk_conv *again = join_ok(d, "C-1001", TIER_STANDARD);
	ck_assert_int_ne(again->id, c->id);
	ck_assert_int_eq(again->handler, HANDLER_AI);

	/* Writing into a resolved conversation moves the customer to a new one. */
	struct desk_conv *g = join_ok(d, NULL, TIER_STANDARD);
	ck_assert_msg(strncmp(g->customer_id, "guest-", 6) == 0, "%s", g->customer_id);
	ck_assert_int_eq(desk_resolve(d, g, "resolved", NULL, &cause), 0);
	g->client = &cause;
	struct desk_conv *moved = g;
	say_ok(d, &moved, "one more thing: how long does standard shipping take?");
	ck_assert_ptr_ne(moved, g);
	ck_assert_ptr_null(g->client);
	ck_assert_ptr_eq(moved->client, &cause);
	ck_assert_str_eq(last_role(moved), "ai");
	ck_assert_int_eq(desk_count(d, HANDLER_RESOLVED), 2);
	desk_close(d);
	store_close(st);
}
END_TEST

START_TEST(the_queue_puts_the_urgent_waiting_first)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	char *cause = NULL;
	struct desk_conv *ai = join_ok(d, "C-1001", TIER_STANDARD);
	say_ok(d, &ai, "how long does standard shipping take?");
	struct desk_conv *w1 = join_ok(d, "C-1002", TIER_STANDARD);
	say_ok(d, &w1, "I want to speak to a human agent please");
	struct desk_conv *w2 = join_ok(d, "C-1003", TIER_STANDARD);
	say_ok(d, &w2, "someone hacked my account and is stealing money, my lawyer will sue");
	struct desk_conv *r = join_ok(d, "guest-r", TIER_STANDARD);
	ck_assert_int_eq(desk_resolve(d, r, "abandoned", NULL, &cause), 0);
	ck_assert_int_eq(w1->handler, HANDLER_WAITING);
	ck_assert_int_eq(w2->handler, HANDLER_WAITING);
	ck_assert_msg(w2->urgency < w1->urgency, "urgency %d vs %d", w2->urgency, w1->urgency);
	size_t n;
	struct desk_conv **v = desk_list(d, &n);
	ck_assert_int_eq(n, 4);
	ck_assert_ptr_eq(v[0], w2);
	ck_assert_ptr_eq(v[1], w1);
	ck_assert_ptr_eq(v[2], ai);
	ck_assert_ptr_eq(v[3], r);
	desk_close(d);
	store_close(st);
}
END_TEST

/*
 * Every ending through the desk, as customers and a supervisor make them,
 * then the metrics over the store they leave, against figures worked out
 * by hand.
 */
START_TEST(every_ending_and_the_metrics_over_them)
{
	struct store *st = store_ok();
	struct desk *d = desk_ok(st);
	char *cause = NULL;
	cJSON *v = NULL;

	/* Taken over, answered by a human, handed back, resolved: the human's. */
	struct desk_conv *h = join_ok(d, "C-1001", TIER_STANDARD);
	say_ok(d, &h, "how long does standard shipping take?");
	ck_assert_int_eq(desk_takeover(d, h, "sam", &cause), 0);
	ck_assert_int_eq(desk_human_say(d, h, "Sam here: it ships today.", 0, &v, &cause), 0);
	cJSON_Delete(v);
	/* A message while the human has it: once handed back, the AI answers it. */
	size_t before = delivered.n;
	say_ok(d, &h, "and what are your support hours?");
	ck_assert_int_eq(delivered.n, before);
	ck_assert_int_eq(desk_handback(d, h, &cause), 0);
	ck_assert_int_eq(delivered.n, before + 1);
	ck_assert_msg(strstr(delivered.v[before], "ai:") == delivered.v[before] &&
	                  strstr(delivered.v[before], "8 am to 10 pm") != NULL,
	              "%s", delivered.v[before]);
	ck_assert_str_eq(last_role(h), "ai");
	ck_assert_int_eq(h->handler, HANDLER_AI);
	ck_assert_int_eq(desk_rate(d, h, 5, NULL, &cause), 0);
	ck_assert_int_eq(desk_resolve(d, h, "resolved", "sorted", &cause), 0);
	ck_assert_str_eq(ending_of(st, h->id, "ending"), "resolved-human");
	ck_assert_str_eq(ending_of(st, h->id, "reason"), "takeover");
	ck_assert_str_eq(ending_of(st, h->id, "closed_by"), "supervisor");

	/* The agent asks for the order number and the customer leaves: abandoned. */
	struct desk_conv *a = join_ok(d, "C-1002", TIER_STANDARD);
	say_ok(d, &a, "where is my order?");
	ck_assert_str_eq(last_role(a), "ai");
	desk_leave(d, a);
	ck_assert_int_eq(a->handler, HANDLER_RESOLVED);
	ck_assert_str_eq(ending_of(st, a->id, "ending"), "abandoned");
	ck_assert_str_eq(ending_of(st, a->id, "reason"), "awaiting");
	ck_assert_str_eq(ending_of(st, a->id, "awaiting"), "order_number");

	/* Handed off, and the customer leaves before any human answered: abandoned. */
	struct desk_conv *w = join_ok(d, "C-1003", TIER_STANDARD);
	say_ok(d, &w, "my lawyer will sue you over this refund");
	ck_assert_int_eq(w->handler, HANDLER_WAITING);
	desk_leave(d, w);
	ck_assert_int_eq(w->handler, HANDLER_RESOLVED);
	ck_assert_str_eq(ending_of(st, w->id, "ending"), "abandoned");
	ck_assert_str_eq(ending_of(st, w->id, "reason"), "escalated-no-human");

	/* Answered, the customer thanks the agent and leaves: resolved by the agent. */
	struct desk_conv *t = join_ok(d, "C-1005", TIER_STANDARD);
	say_ok(d, &t, "what is the return window for unopened items?");
	say_ok(d, &t, "thanks, that solved it");
	ck_assert_str_eq(last_role(t), "ai");
	desk_leave(d, t);
	ck_assert_str_eq(ending_of(st, t->id, "ending"), "resolved-agent");
	ck_assert_str_eq(ending_of(st, t->id, "reason"), "confirmed");
	ck_assert_str_eq(ending_of(st, t->id, "last_act"), "thanks");

	/* Answered, then silence until the idle timeout: unconfirmed. */
	struct desk_conv *u = join_ok(d, "C-1004", TIER_STANDARD);
	say_ok(d, &u, "what are your support hours?");
	ck_assert_str_eq(last_role(u), "ai");
	int n = -1;
	/* Everything was stored after that time: nothing is idle since. */
	ck_assert_int_eq(desk_close_idle(d, "2026-11-24T00:00:00.000Z", &n, &cause), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(u->handler, HANDLER_AI);
	ck_assert_int_eq(desk_close_idle(d, "2026-11-25T00:00:00.000Z", &n, &cause), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(u->handler, HANDLER_RESOLVED);
	ck_assert_str_eq(ending_of(st, u->id, "ending"), "unconfirmed");
	ck_assert_str_eq(ending_of(st, u->id, "closed_by"), "idle");

	/*
	 * By hand: five sessions, all first taken by the agent, two resolved
	 * with no re-contact (one by the human, one by the agent): FCR 2/5, by
	 * the agent 1/5, by a human 1/5. Escalated: the takeover and the
	 * handoff, 2/5; by the agent itself only the handoff, 1/5. CSAT: the
	 * human path's one rating, 5.
	 */
	struct metrics_config cfg;
	metrics_config_default(&cfg);
	cJSON *r = NULL;
	ck_assert_msg(metrics_report(st, NULL, &cfg, &r, &cause) == 0, "%s", cause);
	const cJSON *en = cJSON_GetObjectItem(r, "endings");
	ck_assert_int_eq(cJSON_GetObjectItem(en, "resolved-agent")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(en, "resolved-human")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(en, "abandoned")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(en, "unconfirmed")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(en, "open")->valueint, 0);
	const cJSON *fa = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "fcr"), "agent");
	ck_assert_int_eq(cJSON_GetObjectItem(fa, "sessions")->valueint, 5);
	ck_assert_int_eq(cJSON_GetObjectItem(fa, "resolved_first_contact")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(fa, "resolved_by_agent")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(fa, "resolved_by_human")->valueint, 1);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(fa, "rate")->valuedouble, 0.4, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(fa, "agent_rate")->valuedouble, 0.2, 1e-9);
	const cJSON *es = cJSON_GetObjectItem(r, "escalation");
	ck_assert_double_eq_tol(cJSON_GetObjectItem(es, "rate")->valuedouble, 0.4, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(es, "agent_rate")->valuedouble, 0.2, 1e-9);
	const cJSON *ch = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "csat_by_path"), "human");
	ck_assert_int_eq(cJSON_GetObjectItem(ch, "responses")->valueint, 1);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(ch, "mean")->valuedouble, 5, 1e-9);
	ck_assert_int_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r, "unconfirmed"), "window_open")->valueint, 1);
	ck_assert_int_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r, "cost"), "resolutions")->valueint, 2);
	cJSON_Delete(r);
	desk_close(d);
	store_close(st);
}
END_TEST

/* ------------------------------------------------ live, on PostgreSQL */

static const char *pg_server; /* FRONTLINE_TEST_PG, or NULL */

static void
pg_admin(const char *target, const char *sql)
{
	PGconn *c = PQconnectdb(target);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	              "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* The desk suite's setup, with db a fresh database on the server. */
static void
setup_pg(void)
{
	static unsigned seq;
	setup();
	char *name = xasprintf("fl_desk_%ld_%u", (long)getpid(), ++seq);
	char *sql = xasprintf("CREATE DATABASE %s", name);
	pg_admin(pg_server, sql);
	const char *slash = strrchr(pg_server, '/');
	free(db);
	db = xasprintf("%.*s/%s", (int)(slash - pg_server), pg_server, name);
	free(sql);
	free(name);
}

/* Runs the loop until done(arg), for at most 60 s (a slow sanitizer build passes). */
static int
run_until(struct loop *l, int (*done)(void *), void *arg)
{
	time_t end = time(NULL) + 60;
	while (!done(arg)) {
		if (time(NULL) > end)
			return 0;
		loop_once(l, 50);
	}
	return 1;
}

/* Runs the loop for ms: late notifications arrive and are taken in. */
static void
run_for(struct loop *l, long ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		loop_once(l, 20);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/* The desk has conversation id with at least n messages of role, or a note containing text. */
struct seen {
	struct desk *d;
	int64_t id;
	const char *role; /* NULL: any */
	int n;
	const char *note;     /* NULL: none wanted */
	enum handler handler; /* HANDLER__N: any */
};

static int
sees(void *arg)
{
	const struct seen *w = arg;
	const struct desk_conv *c = desk_find(w->d, w->id);
	int n = 0, note = w->note == NULL;
	if (c == NULL)
		return 0;
	for (size_t i = 0; i < c->nmsgs; i++) {
		n += w->role == NULL || strcmp(c->msgs[i].role, w->role) == 0;
		note |= strcmp(c->msgs[i].role, "note") == 0 && strstr(c->msgs[i].text, w->note);
	}
	return n >= w->n && note && (w->handler == HANDLER__N || c->handler == w->handler);
}

/* A conversation opened elsewhere (a front door), with a customer's message and an answer. */
static int64_t
elsewhere_chat(struct store *other, const char *customer)
{
	int64_t id;
	char *cause = NULL;
	ck_assert_msg(store_conversation_open(other, customer, &id, NULL, &cause) == 0, "%s",
	              cause);
	ck_assert_int_eq(store_message_add(other, id, "customer", "hello?", NULL, &cause), 0);
	ck_assert_int_eq(store_message_add(other, id, "ai", "Hello! How can I help?", NULL, &cause),
	                 0);
	return id;
}

/* A desk live on its own connection, with three conversations from elsewhere on it. */
struct live {
	struct store *st, *other;
	struct loop *l;
	struct desk *d;
	int64_t conv[3];
};

static void
live_open(struct live *v)
{
	char *cause = NULL;
	v->st = store_ok();
	v->other = store_ok();
	v->l = loop_new();
	v->d = desk_ok(v->st);
	ck_assert_msg(desk_attach(v->d, v->l, 100, &cause) == 0, "%s", cause);
	static const char *const who[] = {"C-7001", "C-7002", "C-7003"};
	for (int i = 0; i < 3; i++) {
		v->conv[i] = elsewhere_chat(v->other, who[i]);
		struct seen w = {v->d, v->conv[i], NULL, 2, NULL, HANDLER__N};
		ck_assert_msg(run_until(v->l, sees, &w), "conversation %d never reached the desk",
		              i);
	}
}

static void
live_close(struct live *v)
{
	desk_close(v->d);
	loop_free(v->l);
	store_close(v->st);
	store_close(v->other);
}

START_TEST(a_change_elsewhere_is_read_as_a_delta)
{
	struct live v;
	char *cause = NULL;
	live_open(&v);
	struct desk_conv *b = desk_find(v.d, v.conv[1]), *c = desk_find(v.d, v.conv[2]);
	unsigned bseq = b->seq, cseq = c->seq;

	/* A customer's message: its new messages, in one statement, and nothing else. */
	uint64_t n0 = store_statements(v.st);
	ck_assert_int_eq(
	    store_message_add(v.other, v.conv[0], "customer", "my hub is offline", NULL, &cause),
	    0);
	struct seen w = {v.d, v.conv[0], "customer", 2, NULL, HANDLER__N};
	ck_assert(run_until(v.l, sees, &w));
	run_for(v.l, 200);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);

	/* A worker's turn (events, then the reply): both kinds in that one statement. */
	n0 = store_statements(v.st);
	cJSON *t = cJSON_Parse("{\"intent\":\"technical\",\"urgency\":\"high\","
	                       "\"sentiment\":\"frustrated\"}");
	ck_assert_int_eq(store_begin(v.other, &cause), 0);
	ck_assert_int_eq(store_event_add(v.other, v.conv[0], "triage", t, &cause), 0);
	ck_assert_int_eq(store_event_add(v.other, v.conv[0], "retrieval", NULL, &cause), 0);
	ck_assert_int_eq(
	    store_message_add(v.other, v.conv[0], "ai", "Try restarting it.", NULL, &cause), 0);
	ck_assert_int_eq(store_commit(v.other, &cause), 0);
	cJSON_Delete(t);
	w.role = "ai";
	ck_assert(run_until(v.l, sees, &w));
	run_for(v.l, 200);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);
	struct desk_conv *a = desk_find(v.d, v.conv[0]);
	ck_assert_ptr_nonnull(a->triage);
	ck_assert_int_eq(a->urgency, URG_HIGH);

	/* Another console takes it over: its row (who has it now) and its events. */
	n0 = store_statements(v.st);
	cJSON *by = cJSON_Parse("{\"by\":\"bob\",\"from\":\"ai\"}");
	ck_assert_int_eq(store_begin(v.other, &cause), 0);
	ck_assert_int_eq(store_conversation_take(v.other, v.conv[0], "bob", &cause), 0);
	ck_assert_int_eq(store_event_add(v.other, v.conv[0], "takeover", by, &cause), 0);
	ck_assert_int_eq(store_commit(v.other, &cause), 0);
	cJSON_Delete(by);
	struct seen h = {v.d, v.conv[0], NULL, 0, "bob took over", HANDLER_HUMAN};
	ck_assert(run_until(v.l, sees, &h));
	run_for(v.l, 200);
	ck_assert_uint_eq(store_statements(v.st) - n0, 2);
	ck_assert_str_eq(a->owner, "bob");

	/* The others were not read, nor changed. */
	ck_assert_uint_eq(b->seq, bseq);
	ck_assert_uint_eq(c->seq, cseq);

	/* The desk's own change is not read back: it has it. */
	ck_assert_int_eq(desk_takeover(v.d, b, "sam", &cause), 0);
	n0 = store_statements(v.st);
	run_for(v.l, 300);
	ck_assert_uint_eq(store_statements(v.st) - n0, 0);
	int notes = 0;
	for (size_t i = 0; i < b->nmsgs; i++)
		notes +=
		    strcmp(b->msgs[i].role, "note") == 0 && strstr(b->msgs[i].text, "took over");
	ck_assert_int_eq(notes, 1);
	live_close(&v);
}
END_TEST

/* A worker's turn elsewhere: triage, what was retrieved (hits), the reply. */
static void
elsewhere_turn(struct store *other, int64_t conv, const char *hits, const char *reply)
{
	char *cause = NULL;
	cJSON *t = cJSON_Parse("{\"urgency\":\"normal\",\"sentiment\":\"neutral\"}");
	cJSON *k = cJSON_Parse(hits);
	ck_assert_int_eq(store_begin(other, &cause), 0);
	ck_assert_int_eq(store_event_add(other, conv, "triage", t, &cause), 0);
	ck_assert_int_eq(store_event_add(other, conv, "retrieval", k, &cause), 0);
	ck_assert_int_eq(store_message_add(other, conv, "ai", reply, NULL, &cause), 0);
	ck_assert_int_eq(store_commit(other, &cause), 0);
	cJSON_Delete(t);
	cJSON_Delete(k);
}

START_TEST(a_conversation_off_screen_waits_for_its_panels)
{
	struct live v;
	live_open(&v);
	struct desk_conv *a = desk_find(v.d, v.conv[0]);
	/* Not on screen: the turn's triage and reply, not what it retrieved. */
	elsewhere_turn(v.other, v.conv[0], "[{\"id\":\"returns-window\"}]", "Thirty days.");
	struct seen w = {v.d, v.conv[0], "ai", 2, NULL, HANDLER__N};
	ck_assert(run_until(v.l, sees, &w));
	ck_assert_ptr_nonnull(a->triage);
	ck_assert_ptr_null(a->knowledge);
	/* Shown: what it retrieved is read in, in one statement. */
	uint64_t n0 = store_statements(v.st);
	desk_show(v.d, v.conv[0]);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);
	ck_assert_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(a->knowledge, 0), "id")),
	    "returns-window");
	desk_show(v.d, v.conv[0]);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);
	/* On screen, the next turn comes whole, in its one statement. */
	n0 = store_statements(v.st);
	elsewhere_turn(v.other, v.conv[0], "[{\"id\":\"pair-sensor\"}]", "Hold the button.");
	w.n = 3;
	ck_assert(run_until(v.l, sees, &w));
	run_for(v.l, 200);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);
	ck_assert_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(a->knowledge, 0), "id")),
	    "pair-sensor");
	live_close(&v);
}
END_TEST

START_TEST(a_burst_to_one_conversation_is_read_once)
{
	struct live v;
	char *cause = NULL;
	live_open(&v);
	/* Ten commits before the desk looks: one read, however the notifications come. */
	uint64_t n0 = store_statements(v.st);
	for (int i = 0; i < 10; i++) {
		char text[32];
		snprintf(text, sizeof text, "line %d", i);
		ck_assert_int_eq(
		    store_message_add(v.other, v.conv[1], "customer", text, NULL, &cause), 0);
	}
	struct seen w = {v.d, v.conv[1], "customer", 11, NULL, HANDLER__N};
	ck_assert(run_until(v.l, sees, &w));
	run_for(v.l, 300);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);
	/* In order, each once. */
	struct desk_conv *c = desk_find(v.d, v.conv[1]);
	int k = 0;
	for (size_t i = 0; i < c->nmsgs; i++) {
		char text[32];
		snprintf(text, sizeof text, "line %d", k);
		k += strcmp(c->msgs[i].text, text) == 0;
	}
	ck_assert_int_eq(k, 10);
	ck_assert_uint_eq(c->nmsgs, 12);
	live_close(&v);
}
END_TEST

START_TEST(a_console_that_lost_its_connection_catches_up)
{
	struct live v;
	char *cause = NULL;
	live_open(&v);
	/* The server drops every connection but this one; the desk has not noticed yet. */
	pg_admin(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
	             " WHERE datname = current_database() AND pid <> pg_backend_pid()");
	/* Meanwhile, elsewhere (nobody tells the desk): a message, a rating alone, a takeover, a
	 * new chat. */
	ck_assert_int_eq(
	    store_message_add(v.other, v.conv[0], "customer", "still there?", NULL, &cause), 0);
	cJSON *csat = desk_csat_json(4, NULL);
	ck_assert_int_eq(store_event_add(v.other, v.conv[1], "csat", csat, &cause), 0);
	cJSON_Delete(csat);
	ck_assert_int_eq(store_conversation_take(v.other, v.conv[2], "bob", &cause), 0);
	int64_t fresh = elsewhere_chat(v.other, "C-7004");

	struct seen w[] = {
	    {v.d, v.conv[0], "customer", 2, NULL, HANDLER__N},
	    {v.d, v.conv[1], NULL, 0, "rated it 4/5", HANDLER__N},
	    {v.d, v.conv[2], NULL, 0, NULL, HANDLER_HUMAN},
	    {v.d, fresh, NULL, 2, NULL, HANDLER_AI},
	};
	for (size_t i = 0; i < nitems(w); i++)
		ck_assert_msg(run_until(v.l, sees, &w[i]), "change %zu was not caught up", i);
	ck_assert_str_eq(desk_find(v.d, v.conv[2])->owner, "bob");

	/* Listening again: the next change comes as a delta, as before. */
	uint64_t n0 = store_statements(v.st);
	ck_assert_int_eq(store_message_add(v.other, fresh, "customer", "thanks", NULL, &cause), 0);
	struct seen again = {v.d, fresh, "customer", 2, NULL, HANDLER__N};
	ck_assert(run_until(v.l, sees, &again));
	run_for(v.l, 200);
	ck_assert_uint_eq(store_statements(v.st) - n0, 1);
	live_close(&v);
}
END_TEST

/* ------------------------------------------------ the floor's relay (frontline serve) */

#define FLOOR_TOKEN "floor-test-token-0123456789"

/* A desk on serve's floor stream (serve on its own connection), three chats from elsewhere. */
struct relay {
	struct live v;
	struct store *serve_st;
	struct serve *sv;
	struct strv tokens;
	int port;
};

static void
relay_serve(struct relay *r)
{
	char *cause = NULL;
	struct serve_config cfg;
	serve_config_defaults(&cfg);
	char listen[32];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", r->port);
	cfg.listen = listen;
	cfg.tokens = &r->tokens;
	r->sv = serve_new(r->v.l, r->serve_st, &cfg, &cause);
	ck_assert_msg(r->sv != NULL, "serve: %s", cause);
	r->port = serve_port(r->sv);
}

static int
floor_streaming(void *arg)
{
	return serve_streams(arg) == 1;
}

static void
relay_open(struct relay *r)
{
	char *cause = NULL;
	memset(r, 0, sizeof *r);
	r->v.st = store_ok();
	r->v.other = store_ok();
	r->serve_st = store_ok();
	r->v.l = loop_new();
	strv_add(&r->tokens, FLOOR_TOKEN);
	relay_serve(r);
	r->v.d = desk_ok(r->v.st);
	char *url = xasprintf("http://127.0.0.1:%d", r->port);
	ck_assert_msg(desk_attach_floor(r->v.d, r->v.l, url, FLOOR_TOKEN, &cause) == 0, "%s",
	              cause);
	free(url);
	ck_assert(run_until(r->v.l, floor_streaming, r->sv));
	static const char *const who[] = {"C-7101", "C-7102", "C-7103"};
	for (int i = 0; i < 3; i++) {
		r->v.conv[i] = elsewhere_chat(r->v.other, who[i]);
		struct seen w = {r->v.d, r->v.conv[i], NULL, 2, NULL, HANDLER__N};
		ck_assert_msg(run_until(r->v.l, sees, &w), "conversation %d never reached the desk",
		              i);
	}
}

static void
relay_close(struct relay *r)
{
	desk_close(r->v.d);
	serve_free(r->sv);
	loop_free(r->v.l);
	store_close(r->v.st);
	store_close(r->v.other);
	store_close(r->serve_st);
	strv_free(&r->tokens);
}

static void
on_status(const struct http_result *res, void *arg)
{
	*(long *)arg = res->error == HTTP_OK ? res->status : -1;
}

static int
answered(void *arg)
{
	return *(long *)arg != 0;
}

START_TEST(a_relayed_change_arrives_as_data)
{
	struct relay r;
	char *cause = NULL;
	relay_open(&r);
	struct loop *l = r.v.l;
	/* A new conversation came whole, and every later change as data: nothing read here. */
	uint64_t n0 = store_statements(r.v.st);
	ck_assert_int_eq(store_message_add(r.v.other, r.v.conv[0], "customer", "my hub is offline",
	                                   NULL, &cause),
	                 0);
	struct seen w = {r.v.d, r.v.conv[0], "customer", 2, NULL, HANDLER__N};
	ck_assert(run_until(l, sees, &w));
	elsewhere_turn(r.v.other, r.v.conv[0], "[{\"id\":\"returns-window\"}]",
	               "Try restarting it.");
	w.role = "ai";
	ck_assert(run_until(l, sees, &w));
	cJSON *by = cJSON_Parse("{\"by\":\"bob\",\"from\":\"ai\"}");
	ck_assert_int_eq(store_begin(r.v.other, &cause), 0);
	ck_assert_int_eq(store_conversation_take(r.v.other, r.v.conv[1], "bob", &cause), 0);
	ck_assert_int_eq(store_event_add(r.v.other, r.v.conv[1], "takeover", by, &cause), 0);
	ck_assert_int_eq(store_commit(r.v.other, &cause), 0);
	cJSON_Delete(by);
	struct seen h = {r.v.d, r.v.conv[1], NULL, 0, "bob took over", HANDLER_HUMAN};
	ck_assert(run_until(l, sees, &h));
	int64_t fresh = elsewhere_chat(r.v.other, "C-7104");
	struct seen f = {r.v.d, fresh, NULL, 2, NULL, HANDLER_AI};
	ck_assert(run_until(l, sees, &f));
	run_for(l, 200);
	ck_assert_uint_eq(store_statements(r.v.st) - n0, 0);
	struct desk_conv *a = desk_find(r.v.d, r.v.conv[0]);
	ck_assert_ptr_nonnull(a->triage);
	ck_assert_ptr_null(a->knowledge); /* the panels' payloads are read when shown */
	ck_assert_str_eq(desk_find(r.v.d, r.v.conv[1])->owner, "bob");
	/* Each message once. */
	ck_assert_uint_eq(a->nmsgs, 4);

	/* The floor's stream wants the token. */
	struct http_client *hc = http_client_new(l, &cause);
	ck_assert_ptr_nonnull(hc);
	char *url = xasprintf("http://127.0.0.1:%d/v1/floor/events", r.port);
	long status = 0;
	struct http_request rq = {.url = url, .total_timeout_ms = 5000};
	ck_assert(http_start(hc, &rq, on_status, &status, &cause) != 0);
	ck_assert(run_until(l, answered, &status));
	ck_assert_int_eq(status, 401);
	http_client_free(hc);
	free(url);
	/* A console with a wrong one is told, and reads nothing while it is refused. */
	struct store *st2 = store_ok();
	struct desk *d2 = desk_ok(st2);
	char *base = xasprintf("http://127.0.0.1:%d", r.port);
	ck_assert_int_eq(desk_attach_floor(d2, l, base, "wrong-token-0123456789", &cause), 0);
	n0 = store_statements(st2);
	run_for(l, 2500);
	ck_assert_msg(strstr(floor_problem, "401") != NULL, "told: '%s'", floor_problem);
	ck_assert_uint_eq(store_statements(st2) - n0, 0);
	desk_close(d2);
	store_close(st2);
	free(base);
	relay_close(&r);
}
END_TEST

START_TEST(a_relayed_console_whose_stream_was_cut_catches_up)
{
	struct relay r;
	char *cause = NULL;
	relay_open(&r);
	struct loop *l = r.v.l;
	/* serve stops (the stream is cut); meanwhile, elsewhere: a message, a takeover, a new chat.
	 */
	serve_free(r.sv);
	r.sv = NULL;
	ck_assert_int_eq(
	    store_message_add(r.v.other, r.v.conv[0], "customer", "still there?", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_take(r.v.other, r.v.conv[2], "bob", &cause), 0);
	int64_t fresh = elsewhere_chat(r.v.other, "C-7105");
	run_for(l, 300);
	ck_assert_ptr_null(desk_find(r.v.d, fresh));
	relay_serve(&r);
	struct seen w[] = {
	    {r.v.d, r.v.conv[0], "customer", 2, NULL, HANDLER__N},
	    {r.v.d, r.v.conv[2], NULL, 0, NULL, HANDLER_HUMAN},
	    {r.v.d, fresh, NULL, 2, NULL, HANDLER_AI},
	};
	for (size_t i = 0; i < nitems(w); i++)
		ck_assert_msg(run_until(l, sees, &w[i]), "change %zu was not caught up", i);
	ck_assert_str_eq(desk_find(r.v.d, r.v.conv[2])->owner, "bob");
	/* Back on the stream: the next change comes as data again. */
	run_for(l, 200);
	uint64_t n0 = store_statements(r.v.st);
	ck_assert_int_eq(store_message_add(r.v.other, fresh, "customer", "thanks", NULL, &cause),
	                 0);
	struct seen again = {r.v.d, fresh, "customer", 2, NULL, HANDLER__N};
	ck_assert(run_until(l, sees, &again));
	run_for(l, 200);
	ck_assert_uint_eq(store_statements(r.v.st) - n0, 0);
	relay_close(&r);
}
END_TEST

/* A reader of the floor's stream beside the consoles: the change events serve sent, in order. */
struct floor_reader {
	struct sse sse;
	cJSON *changes;
	long status;
};

static void
on_reader_event(void *arg, const char *event, const char *data)
{
	struct floor_reader *fr = arg;
	if (strcmp(event, "change") == 0)
		cJSON_AddItemToArray(fr->changes, cJSON_Parse(data));
}

static void
on_reader_chunk(const char *data, size_t len, void *arg)
{
	struct floor_reader *fr = arg;
	sse_feed(&fr->sse, data, len);
}

static void
on_reader_done(const struct http_result *res, void *arg)
{
	struct floor_reader *fr = arg;
	fr->status = res->error == HTTP_OK ? res->status : -1;
}

static int
two_streaming(void *arg)
{
	return serve_streams(arg) == 2;
}

/* The messages of conversation conv in the changes sent, in their order, as a string of ids. */
static char *
sent_of(const cJSON *sent, int64_t conv, int *events)
{
	struct buf b;
	const cJSON *ch, *m;
	buf_init(&b, 0);
	*events = 0;
	cJSON_ArrayForEach(ch, sent)
	{
		if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ch, "conversation")) != conv)
			continue;
		++*events;
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(ch, "messages"))
		{
			int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id"));
			buf_printf(&b, " %lld", (long long)id);
		}
	}
	char *ids = xstrdup(b.data);
	buf_free(&b);
	return ids;
}

START_TEST(a_relayed_frame_keeps_every_change_in_order)
{
	struct relay r;
	char *cause = NULL;
	relay_open(&r);
	struct loop *l = r.v.l;
	struct floor_reader fr = {.changes = cJSON_CreateArray()};
	sse_init(&fr.sse, 0, on_reader_event, &fr);
	struct http_client *hc = http_client_new(l, &cause);
	ck_assert_ptr_nonnull(hc);
	char *url = xasprintf("http://127.0.0.1:%d/v1/floor/events", r.port);
	char *auth = xasprintf("Authorization: Bearer %s", FLOOR_TOKEN);
	const char *hdr[] = {auth, NULL};
	struct http_request rq = {
	    .url = url, .headers = hdr, .total_timeout_ms = 120000, .on_chunk = on_reader_chunk};
	ck_assert(http_start(hc, &rq, on_reader_done, &fr, &cause) != 0);
	ck_assert(run_until(l, two_streaming, r.sv));
	run_for(l, 100);

	/* Twelve commits while serve is not looking: they reach it within a frame or two. */
	uint64_t n0 = store_statements(r.v.st);
	int64_t first = 0, last = 0;
	for (int i = 0; i < 10; i++) {
		char text[32];
		snprintf(text, sizeof text, "line %d", i);
		ck_assert_int_eq(
		    store_message_add(r.v.other, r.v.conv[1], "customer", text, &last, &cause), 0);
		if (first == 0)
			first = last;
	}
	ck_assert_int_eq(
	    store_message_add(r.v.other, r.v.conv[0], "customer", "and mine", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_take(r.v.other, r.v.conv[2], "bob", &cause), 0);
	struct seen w[] = {
	    {r.v.d, r.v.conv[1], "customer", 11, NULL, HANDLER__N},
	    {r.v.d, r.v.conv[0], "customer", 2, NULL, HANDLER__N},
	    {r.v.d, r.v.conv[2], NULL, 0, NULL, HANDLER_HUMAN},
	};
	for (size_t i = 0; i < nitems(w); i++)
		ck_assert_msg(run_until(l, sees, &w[i]), "change %zu never reached the desk", i);
	run_for(l, 200);
	/* As data: the console read nothing. */
	ck_assert_uint_eq(store_statements(r.v.st) - n0, 0);
	struct desk_conv *c = desk_find(r.v.d, r.v.conv[1]);
	ck_assert_uint_eq(c->nmsgs, 12);
	for (int i = 0; i < 10; i++) {
		char text[32];
		snprintf(text, sizeof text, "line %d", i);
		ck_assert_str_eq(c->msgs[2 + i].text, text);
	}
	ck_assert_str_eq(desk_find(r.v.d, r.v.conv[2])->owner, "bob");

	/* The burst was read once, for every stream: one change, its ten messages in order. */
	struct buf want;
	buf_init(&want, 0);
	for (int64_t id = first; id <= last; id++)
		buf_printf(&want, " %lld", (long long)id);
	int events = 0;
	char *got = sent_of(fr.changes, r.v.conv[1], &events);
	ck_assert_int_eq(events, 1);
	ck_assert_str_eq(got, want.data);
	free(got);
	got = sent_of(fr.changes, r.v.conv[2], &events);
	ck_assert_int_eq(events, 1);
	free(got);
	buf_free(&want);

	http_client_free(hc);
	sse_close(&fr.sse);
	cJSON_Delete(fr.changes);
	free(url);
	free(auth);
	relay_close(&r);
}
END_TEST

/* A second console, on a loop of its own that the test runs or not (a console that stalls). */
static int ends2;

static void
on_floor2(void *arg, const char *problem)
{
	ends2 += problem != NULL && strstr(problem, "ended") != NULL;
}

struct two_loops {
	struct loop *other;
	int (*done)(void *);
	void *arg;
};

static int
both_run(void *arg)
{
	struct two_loops *t = arg;
	loop_once(t->other, 10);
	return t->done(t->arg);
}

START_TEST(a_stalled_floor_stream_does_not_hold_the_others)
{
	struct relay r;
	char *cause = NULL;
	relay_open(&r);
	struct loop *l = r.v.l, *l2 = loop_new();
	struct store *st2 = store_ok();
	const struct desk_hooks hooks2 = {.floor = on_floor2};
	struct desk *d2 = desk_open(&ag, st2, &hooks2, &cause);
	ck_assert_msg(d2 != NULL, "%s", cause);
	char *base = xasprintf("http://127.0.0.1:%d", r.port);
	ck_assert_int_eq(desk_attach_floor(d2, l2, base, FLOOR_TOKEN, &cause), 0);
	struct two_loops t = {l2, two_streaming, r.sv};
	ck_assert(run_until(l, both_run, &t));
	struct seen w2 = {d2, r.v.conv[0], NULL, 2, NULL, HANDLER__N};
	t = (struct two_loops){l2, sees, &w2};
	ck_assert(run_until(l, both_run, &t));
	ends2 = 0;

	/*
	 * The second console stops reading. Far more than serve holds for a
	 * stream (a megabyte) and the sockets between hold: the first console
	 * has every message as it comes, as data.
	 */
	enum { N = 192, SIZE = 32 * 1024 };
	char *text = xmalloc(SIZE + 1);
	uint64_t n0 = store_statements(r.v.st);
	floor_ends = 0;
	for (int i = 0; i < N; i++) {
		memset(text, 'a' + i % 26, SIZE);
		text[snprintf(text, SIZE, "part %d", i)] = ' ';
		text[SIZE] = '\0';
		ck_assert_int_eq(
		    store_message_add(r.v.other, r.v.conv[0], "customer", text, NULL, &cause), 0);
		struct seen w = {r.v.d, r.v.conv[0], "customer", 2 + i, NULL, HANDLER__N};
		if (i % 8 == 7)
			ck_assert_msg(run_until(l, sees, &w),
			              "message %d never reached the first console", i);
	}
	ck_assert_uint_eq(store_statements(r.v.st) - n0, 0);
	ck_assert_int_eq(floor_ends, 0);

	/* Back: its stream was ended, and it catches up from the store, every message in order. */
	w2.n = 2 + N;
	t = (struct two_loops){l2, sees, &w2};
	ck_assert(run_until(l, both_run, &t));
	ck_assert_int_eq(ends2, 1);
	struct desk_conv *c = desk_find(d2, r.v.conv[0]), *c1 = desk_find(r.v.d, r.v.conv[0]);
	ck_assert_uint_eq(c->nmsgs, c1->nmsgs);
	for (size_t i = 0; i < c->nmsgs; i++) {
		ck_assert_int_eq(c->msgs[i].id, c1->msgs[i].id);
		ck_assert_str_eq(c->msgs[i].text, c1->msgs[i].text);
	}
	free(text);
	free(base);
	desk_close(d2);
	store_close(st2);
	relay_close(&r);
	loop_free(l2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("desk");
	pg_server = getenv("FRONTLINE_TEST_PG");
	if (pg_server != NULL && *pg_server != '\0') {
		TCase *pg = tcase_create("live");
		tcase_set_timeout(pg, 180);
		tcase_add_checked_fixture(pg, setup_pg, teardown);
		tcase_add_test(pg, a_change_elsewhere_is_read_as_a_delta);
		tcase_add_test(pg, a_burst_to_one_conversation_is_read_once);
		tcase_add_test(pg, a_conversation_off_screen_waits_for_its_panels);
		tcase_add_test(pg, a_console_that_lost_its_connection_catches_up);
		tcase_add_test(pg, a_relayed_change_arrives_as_data);
		tcase_add_test(pg, a_relayed_console_whose_stream_was_cut_catches_up);
		tcase_add_test(pg, a_relayed_frame_keeps_every_change_in_order);
		tcase_add_test(pg, a_stalled_floor_stream_does_not_hold_the_others);
		suite_add_tcase(s, pg);
	}
	TCase *tc = tcase_create("desk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_ai_answers_and_everything_is_stored);
	tcase_add_test(tc, escalation_waits_then_a_human_takes_over_and_hands_back);
	tcase_add_test(tc, taking_over_from_the_ai_writes_a_packet);
	tcase_add_test(tc, a_human_promise_beyond_authority_is_held);
	tcase_add_test(tc, a_restart_brings_everything_back);
	tcase_add_test(tc, customers_come_and_go);
	tcase_add_test(tc, the_queue_puts_the_urgent_waiting_first);
	tcase_add_test(tc, every_ending_and_the_metrics_over_them);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
