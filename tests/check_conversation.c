/* check_conversation.c -- conversation turns with tool calls on the event loop
 * (src/conversation.c). */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conversation.h"
#include "loop.h"
#include "loopback-http.h"
#include "policy.h"
#include "testutil.h"
#include "tool-backend.h"
#include "triage.h"

#define TODAY 20781L /* 2026-11-24 */

/* Everything a turn runs on, with an http tool backend on one loop. */
struct rig {
	struct policy *policy;
	struct triage *triage;
	struct kb *kb;
	struct loop *loop;
	struct tool_backend tools;
	struct agents ag;
};

static void
rig_open(struct rig *r, const char *order_url, const char *account_url, long timeout_ms)
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
	char *kbdir = srcpath("tests/data/kb-small");
	r->kb = kb_open(kbdir, ":memory:", &d, &cause);
	ck_assert_msg(r->kb != NULL, "kb_open: %s", cause);
	free(kbdir);
	diag_free(&d);

	r->loop = loop_new();
	struct tool_http_config cfg = {.order_url = order_url,
	                               .account_url = account_url,
	                               .timeout_ms = timeout_ms,
	                               .loop = r->loop};
	ck_assert_msg(tool_backend_http(&r->tools, &cfg, &cause) == 0, "%s", cause);
	ck_assert_ptr_eq(r->tools.loop, r->loop);
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
	loop_free(r->loop);
	kb_close(r->kb);
	triage_close(r->triage);
	policy_free(r->policy);
}

struct done {
	cJSON *turn, *events;
	int n;
};

static void
turn_done(cJSON *turn, cJSON *events, void *arg)
{
	struct done *d = arg;
	d->turn = turn;
	d->events = events;
	d->n++;
}

static void
done_free(struct done *d)
{
	cJSON_Delete(d->turn);
	cJSON_Delete(d->events);
}

/* The turn's first tool call. */
static const cJSON *
first_tool(const cJSON *turn)
{
	const cJSON *tools = cJSON_GetObjectItem(turn, "tools");
	ck_assert_int_ge(cJSON_GetArraySize(tools), 1);
	return cJSON_GetArrayItem(tools, 0);
}

/* The turn ended as a turn must: a reply to the customer, or a handoff to a human. */
static void
assert_ended(const cJSON *turn)
{
	const cJSON *reply = cJSON_GetObjectItem(turn, "reply");
	const cJSON *handoff = cJSON_GetObjectItem(turn, "handoff");
	ck_assert_msg(cJSON_IsString(reply) || cJSON_IsObject(handoff),
	              "neither reply nor handoff");
}

static char *
url(struct lb *lb, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", lb_port(lb), path);
}

START_TEST(two_conversations_call_tools_at_once)
{
	/* /slowjson holds each request until two are open at once. */
	struct lb *lb = lb_new(50);
	ck_assert_ptr_nonnull(lb);
	lb_set_gate(lb, 2);
	ck_assert_int_eq(lb_start(lb), 0);
	char *u = url(lb, "/slowjson");
	struct rig r;
	rig_open(&r, u, u, 4000);

	struct conversation a, b;
	conversation_init(&a, "C-1001", TIER_STANDARD);
	conversation_init(&b, "C-1002", TIER_STANDARD);
	struct done da = {0}, db = {0};
	conversation_turn_start(&r.ag, &a, "where is my order A12345", turn_done, &da);
	conversation_turn_start(&r.ag, &b, "where is my order B22222", turn_done, &db);
	/* Both wait on their tool call: neither turn is over yet. */
	ck_assert_int_eq(da.n + db.n, 0);
	while (da.n == 0 || db.n == 0)
		loop_once(r.loop, -1);
	ck_assert_int_eq(da.n, 1);
	ck_assert_int_eq(db.n, 1);

	struct lb_stats st;
	lb_get_stats(lb, &st);
	ck_assert_msg(st.max_open >= 2, "at most %ld tool request(s) were open at once",
	              st.max_open);
	const struct done *both[] = {&da, &db};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *k = first_tool(both[i]->turn);
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(k, "name")),
		                 "get_order_status");
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(k, "allowed")));
		ck_assert(
		    cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(k, "result"), "slow")));
		assert_ended(both[i]->turn);
	}
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
	                     cJSON_GetObjectItem(first_tool(db.turn), "args"), "order_id")),
	                 "B22222");

	done_free(&da);
	done_free(&db);
	conversation_free(&a);
	conversation_free(&b);
	rig_close(&r);
	free(u);
	lb_free(lb);
}
END_TEST

START_TEST(a_hung_tool_endpoint_times_out_and_the_turn_ends)
{
	struct lb *lb = lb_new(0);
	ck_assert_ptr_nonnull(lb);
	ck_assert_int_eq(lb_start(lb), 0);
	char *u = url(lb, "/hang");
	struct rig r;
	rig_open(&r, u, u, 300);
	struct conversation c;
	conversation_init(&c, "C-1001", TIER_STANDARD);
	cJSON *events = NULL;
	/* The synchronous wrapper runs the tool backend's loop: there is no model client. */
	cJSON *turn = conversation_turn(&r.ag, &c, "where is my order A12345", &events);
	const cJSON *k = first_tool(turn);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(k, "allowed")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(k, "result")));
	const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(k, "refusal"));
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, "backend error: get_order_status") != NULL &&
	                  (strcasestr(why, "timed out") || strcasestr(why, "timeout")),
	              "refusal '%s'", why);
	assert_ended(turn);
	/* The failed call is an event like any other. */
	int tool_events = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")), "tool") == 0)
			tool_events++;
	}
	ck_assert_int_eq(tool_events, 1);
	cJSON_Delete(turn);
	cJSON_Delete(events);
	conversation_free(&c);
	rig_close(&r);
	free(u);
	lb_free(lb);
}
END_TEST

START_TEST(a_dead_tool_endpoint_fails_the_call_not_the_turn)
{
	/* A port nothing listens on. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	char *u = xasprintf("http://127.0.0.1:%d/customers/{customer_id}", ntohs(sa.sin_port));
	close(s);
	struct rig r;
	rig_open(&r, u, u, 2000);
	struct conversation c;
	conversation_init(&c, "C-1001", TIER_STANDARD);
	/* Two turns: the second still gets its call and its answer. */
	for (int i = 0; i < 2; i++) {
		cJSON *events = NULL;
		cJSON *turn = conversation_turn(
		    &r.ag, &c, i ? "and order A12345?" : "where is my order A12345", &events);
		const cJSON *k = first_tool(turn);
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(k, "refusal"));
		ck_assert_msg(why != NULL && strstr(why, "backend error") != NULL, "refusal '%s'",
		              why ? why : "(none)");
		assert_ended(turn);
		cJSON_Delete(turn);
		cJSON_Delete(events);
		if (c.escalated)
			break;
	}
	conversation_free(&c);
	rig_close(&r);
	free(u);
}
END_TEST

static void
credit_done(struct tool_call *k, int rc, void *arg)
{
	(void)k;
	(void)rc;
	(*(int *)arg)++;
}

START_TEST(credits_in_flight_count_against_the_cap)
{
	/* A write backend that answers slowly: the second credit sees the first's reservation. */
	struct lb *lb = lb_new(100);
	ck_assert_ptr_nonnull(lb);
	ck_assert_int_eq(lb_start(lb), 0);
	char *u = url(lb, "/slowjson");
	struct diag d = {0};
	char *path = srcpath("policies/support-agent-policy.yaml");
	char *text = slurp(path);
	char *on = replace1(text, "write_tools_enabled: false", "write_tools_enabled: true");
	struct policy *p = policy_load_text("writes.yaml", on, strlen(on), &d);
	ck_assert_ptr_nonnull(p);
	struct loop *l = loop_new();
	struct tool_backend tb;
	char *cause = NULL;
	struct tool_http_config cfg = {.credit_url = u, .timeout_ms = 4000, .loop = l};
	ck_assert_msg(tool_backend_http(&tb, &cfg, &cause) == 0, "%s", cause);

	struct tool_session sess = {0};
	double cap = p->credit_max_per_conversation, each = p->credit_max_per_credit;
	int n = (int)(cap / each) + 1; /* one more than the cap allows */
	ck_assert_int_le(n, 8);
	struct tool_call calls[8];
	int finished = 0;
	for (int i = 0; i < n; i++) {
		calls[i] = (struct tool_call){.tool = TOOL_APPLY_STANDARD_CREDIT};
		calls[i].args = cJSON_CreateObject();
		cJSON_AddNumberToObject(calls[i].args, "amount_usd", each);
		tool_invoke_start(p, ROUTE_RESOLUTION_AUTHENTICATED, &sess, &tb, "C-1001",
		                  &calls[i], credit_done, &finished);
	}
	/* The last was refused at once: the ones in flight already fill the cap. */
	ck_assert_int_eq(finished, 1);
	ck_assert_int_eq(calls[n - 1].allowed, 0);
	ck_assert_ptr_nonnull(strstr(calls[n - 1].refusal, "per conversation"));
	while (finished < n)
		loop_once(l, -1);
	for (int i = 0; i < n - 1; i++)
		ck_assert_msg(calls[i].allowed && calls[i].result != NULL, "credit %d: %s", i,
		              calls[i].refusal ? calls[i].refusal : "no result");
	ck_assert_int_eq(sess.writes, n - 1);
	for (int i = 0; i < n; i++)
		tool_call_free(&calls[i]);
	tool_backend_free(&tb);
	loop_free(l);
	policy_free(p);
	diag_free(&d);
	free(on);
	free(text);
	free(path);
	free(u);
	lb_free(lb);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("conversation");
	TCase *tc = tcase_create("http tools");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, two_conversations_call_tools_at_once);
	tcase_add_test(tc, a_hung_tool_endpoint_times_out_and_the_turn_ends);
	tcase_add_test(tc, a_dead_tool_endpoint_fails_the_call_not_the_turn);
	tcase_add_test(tc, credits_in_flight_count_against_the_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* Loopback only: no proxy from the environment may carry these requests. */
	const char *proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
	                         "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
	for (size_t i = 0; i < nitems(proxies); i++)
		unsetenv(proxies[i]);
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	return run_suite(suite());
}
