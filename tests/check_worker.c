/*
 * check_worker.c -- frontline worker and consoles sharing one store: every
 * customer message answered exactly once, a dead or stopped worker's claim
 * finished by another, a takeover mid-turn withholding the reply, and two
 * consoles taking over the same chat with exactly one winning.
 *
 * The store is a PostgreSQL database when FRONTLINE_TEST_PG is set (see
 * tests/worker-pg.sh: a throwaway cluster), else a SQLite file (workers
 * and consoles then poll). Workers are the real binary ($FRONTLINE); a
 * slow model backend is tests/mock-openai.py answering after a delay.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "desk.h"
#include "loop.h"
#include "store.h"
#include "testutil.h"
#include "tool-backend.h"
#include "worker.h"

/* Every wait is a bounded poll: generous, so a slow (sanitizer) build passes. */
#define WAIT_S 90

static struct policy *policy;
static struct agents ag;
static struct tool_backend tb;
static char *dir, *target;
static struct strv delivered; /* "CONV:ROLE:TEXT" */
static pid_t kids[16];
static size_t nkids;

static void
on_deliver(void *arg, struct desk_conv *c, const char *role, const char *text)
{
	(void)arg;
	strv_take(&delivered, xasprintf("%lld:%s:%s", (long long)c->id, role, text));
}

static const struct desk_hooks hooks = {on_deliver, NULL, NULL, NULL, NULL};

/* Messages that the offline engine answers without handing off, two by two. */
static const char *const talk[][2] = {
    {"how do I reset my password?", "how long does standard shipping take?"},
    {"which payment methods do you accept?", "what is the return window for unopened items?"},
    {"how long does standard shipping take?", "what is the return window for unopened items?"},
};

static void
setup(void)
{
	static unsigned seq;
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
	setenv("FRONTLINE_TODAY", "2026-11-24", 1);

	/* A store of its own per test. */
	const char *pg = getenv("FRONTLINE_TEST_PG");
	if (pg != NULL && *pg != '\0') {
		char *name = xasprintf("fl_worker_%ld_%u", (long)getpid(), ++seq);
		char *cmd = xasprintf(
		    "psql -q -X -v ON_ERROR_STOP=1 -d '%s' -c 'CREATE DATABASE %s'", pg, name);
		ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
		const char *slash = strrchr(pg, '/');
		ck_assert_ptr_nonnull(slash);
		target = xasprintf("%.*s/%s", (int)(slash - pg), pg, name);
		free(cmd);
		free(name);
	} else
		target = xasprintf("%s/store.db", dir);
	/* The schema, before any process races to make it. */
	struct store *st = store_open(target, &cause);
	ck_assert_msg(st != NULL, "store_open: %s", cause);
	store_close(st);
}

static void
teardown(void)
{
	for (size_t i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	nkids = 0;
	triage_close(ag.triage);
	kb_close(ag.kb);
	tool_backend_free(&tb);
	policy_free(policy);
	strv_free(&delivered);
	rm_rf(dir);
	free(dir);
	free(target);
}

static struct store *
store_ok(void)
{
	char *cause = NULL;
	struct store *st = store_open(target, &cause);
	ck_assert_msg(st != NULL, "store_open: %s", cause);
	return st;
}

/* A desk on its own connection, live on the loop. */
static struct desk *
desk_live(struct store *st, struct loop *l)
{
	char *cause = NULL;
	struct desk *d = desk_open(&ag, st, &hooks, &cause);
	ck_assert_msg(d != NULL, "desk_open: %s", cause);
	ck_assert_msg(desk_attach(d, l, 100, &cause) == 0, "desk_attach: %s", cause);
	return d;
}

/* Runs the loop (NULL: sleeps) until done(arg), for at most WAIT_S seconds. */
static int
wait_for(struct loop *l, int (*done)(void *), void *arg)
{
	time_t end = time(NULL) + WAIT_S;
	while (!done(arg)) {
		if (time(NULL) > end)
			return 0;
		if (l != NULL)
			loop_once(l, 50);
		else
			usleep(50000);
	}
	return 1;
}

/* ------------------------------------------------------------ processes */

/* Starts argv with stdout and stderr to dir/NAME.out; it dies with the test. */
static pid_t
spawn(const char *name, char *const argv[])
{
	char *out = xasprintf("%s/%s.out", dir, name);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	free(out);
	ck_assert_uint_lt(nkids, nitems(kids));
	kids[nkids++] = pid;
	return pid;
}

static void
reap(pid_t pid, int *status)
{
	ck_assert_int_eq(waitpid(pid, status, 0), pid);
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = kids[--nkids];
}

/* What a process wrote so far (caller frees). */
static char *
output(const char *name)
{
	char *p = xasprintf("%s/%s.out", dir, name);
	char *cause = NULL, *text = file_read(p, 0, NULL, &cause);
	free(cause);
	free(p);
	return text ? text : xstrdup("");
}

struct says {
	const char *name, *what;
};

static int
has_said(void *arg)
{
	struct says *s = arg;
	char *out = output(s->name);
	int yes = strstr(out, s->what) != NULL;
	free(out);
	return yes;
}

/* A frontline worker named id with a lease of lease seconds (config: NULL or a file). */
static pid_t
worker(const char *id, const char *lease, const char *config)
{
	const char *bin = getenv("FRONTLINE");
	char *fl = bin ? xstrdup(bin) : xasprintf("%s/frontline", getenv("top_builddir") ?: ".");
	char *pp = srcpath("policies/support-agent-policy.yaml"), *kb = srcpath("kb");
	char *top = srcpath("");
	setenv("FRONTLINE_DATADIR", top, 1);
	setenv("HOME", dir, 1);
	setenv("XDG_STATE_HOME", dir, 1);
	setenv("XDG_CONFIG_HOME", dir, 1);
	setenv("OPENAI_API_KEY", "sk-test-worker", 1);
	unsetenv("OPENAI_BASE_URL");
	struct strv argv = {0};
	const char *const fixed[] = {"--db", target, "--policy", pp, "--kb", kb};
	strv_add(&argv, fl);
	for (size_t i = 0; i < nitems(fixed); i++)
		strv_add(&argv, fixed[i]);
	if (config != NULL) {
		strv_add(&argv, "--config");
		strv_add(&argv, config);
	}
	const char *const rest[] = {"worker", "--id",   id,    "--lease",
	                            lease,    "--poll", "0.1", "--verbose"};
	for (size_t i = 0; i < nitems(rest); i++)
		strv_add(&argv, rest[i]);
	strv_take(&argv, NULL);
	pid_t pid = spawn(id, argv.v);
	strv_free(&argv);
	/* Up: it says so once it listens (a signal before would end it unheard). */
	struct says up = {id, " store "};
	ck_assert_msg(wait_for(NULL, has_said, &up), "worker %s did not start", id);
	free(fl);
	free(pp);
	free(kb);
	free(top);
	return pid;
}

/*
 * A model backend that answers everything after delay_ms: the mock server,
 * and a config file putting the resolution agent on it. Returns the
 * config's path (caller frees), or NULL without python3.
 */
static char *
slow_model(long delay_ms)
{
	if (system("python3 -c pass 2>/dev/null") != 0)
		return NULL;
	char *mock = srcpath("tests/mock-openai.py"), *portf = xasprintf("%s/port", dir);
	char *delay = xasprintf("%ld", delay_ms);
	struct strv argv = {0};
	const char *const args[] = {"python3", mock,          "--auto", "--delay-ms",
	                            delay,     "--port-file", portf};
	for (size_t i = 0; i < nitems(args); i++)
		strv_add(&argv, args[i]);
	strv_take(&argv, NULL);
	spawn("mock", argv.v);
	strv_free(&argv);
	char *port = NULL;
	for (int i = 0; i < WAIT_S * 20 && port == NULL; i++) {
		char *cause = NULL;
		if ((port = file_read(portf, 0, NULL, &cause)) == NULL) {
			free(cause);
			usleep(50000);
		}
	}
	ck_assert_msg(port != NULL, "the mock model server did not start");
	str_trim(port);
	char *yaml = xasprintf("endpoints:\n"
	                       "  openai:\n"
	                       "    base_url: http://127.0.0.1:%s/v1\n"
	                       "    timeouts: {total_ms: 120000, first_byte_ms: 120000}\n"
	                       "agents:\n"
	                       "  resolution: {backend: openai, model: mock-model}\n",
	                       port);
	char *cfg = tmpfile_with(dir, "slow.yaml", yaml);
	free(yaml);
	free(port);
	free(mock);
	free(portf);
	free(delay);
	return cfg;
}

/* ---------------------------------------------------------------- store */

static int
count_where(struct store *st, int64_t conv, int events, const char *field, const char *value)
{
	cJSON *rows = NULL;
	char *cause = NULL;
	int rc = events ? store_events(st, conv, &rows, &cause)
	                : store_messages(st, conv, &rows, &cause);
	ck_assert_msg(rc == 0, "store: %s", cause);
	int n = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, rows)
	{
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(r, field));
		n += v != NULL && strcmp(v, value) == 0;
	}
	cJSON_Delete(rows);
	return n;
}

/* Messages of a role, and events of a kind, in the store. */
static int
said(struct store *st, int64_t conv, const char *role)
{
	return count_where(st, conv, 0, "role", role);
}

static int
events(struct store *st, int64_t conv, const char *kind)
{
	return count_where(st, conv, 1, "kind", kind);
}

/* A conversation as frontline serve opens one: customer id, its messages stored. */
static int64_t
front_door(struct store *st, const char *customer, const char *const *texts, size_t n)
{
	char *cause = NULL;
	int64_t id;
	ck_assert_msg(store_customer_put(st, customer, NULL, NULL, TIER_STANDARD, &cause) == 0 &&
	                  store_conversation_open(st, customer, &id, NULL, &cause) == 0,
	              "store: %s", cause);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(store_message_add(st, id, "customer", texts[i], NULL, &cause) == 0,
		              "store: %s", cause);
	return id;
}

/* Whether worker id holds a live claim. */
static int
claims(struct store *st, const char *id)
{
	cJSON *s = NULL;
	char *cause = NULL;
	ck_assert_msg(store_status(st, &s, &cause) == 0, "store_status: %s", cause);
	const cJSON *held = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "workers"), id);
	int n = cJSON_IsNumber(held) ? held->valueint : 0;
	cJSON_Delete(s);
	return n;
}

struct answered {
	struct store *st;
	const int64_t *convs;
	size_t n;
	int each; /* ai messages wanted in each */
};

static int
all_answered(void *arg)
{
	struct answered *a = arg;
	for (size_t i = 0; i < a->n; i++)
		if (said(a->st, a->convs[i], "ai") < a->each)
			return 0;
	return 1;
}

struct held {
	struct store *st;
	const char *id;
};

static int
is_held(void *arg)
{
	struct held *h = arg;
	return claims(h->st, h->id) > 0;
}

/* ---------------------------------------------------------------- tests */

struct known {
	struct desk *d;
	int64_t id;
};

static int
is_known(void *arg)
{
	struct known *k = arg;
	return desk_find(k->d, k->id) != NULL;
}

/* The desk has conversation id, with at least ai answers in it. */
struct on_desk {
	struct desk *d;
	int64_t id;
	int ai;
};

static int
desk_has(void *arg)
{
	struct on_desk *o = arg;
	struct desk_conv *c = desk_find(o->d, o->id);
	int ai = 0;
	for (size_t k = 0; c != NULL && k < c->nmsgs; k++)
		ai += strcmp(c->msgs[k].role, "ai") == 0;
	return c != NULL && ai >= o->ai;
}

/* The console delivered at least n answers in conversation conv. */
struct delivery {
	int64_t conv;
	int n;
};

static int
delivered_n(void *arg)
{
	struct delivery *dv = arg;
	char prefix[32];
	int got = 0;
	snprintf(prefix, sizeof prefix, "%lld:ai:", (long long)dv->conv);
	for (size_t k = 0; k < delivered.n; k++)
		got += strncmp(delivered.v[k], prefix, strlen(prefix)) == 0;
	return got >= dv->n;
}

START_TEST(two_workers_and_a_console_answer_every_message_once)
{
	worker("w1", "5", NULL);
	worker("w2", "5", NULL);
	struct store *st = store_ok(), *door = store_ok();
	struct loop *l = loop_new();
	struct desk *d = desk_live(st, l);

	/* Customers of frontline serve (the workers'), and of the console. */
	int64_t convs[9];
	size_t n = 0;
	char name[32];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "C-20%02d", i);
		convs[n++] = front_door(door, name, talk[i % 3], 2);
	}
	for (int i = 0; i < 3; i++) {
		char *cause = NULL;
		snprintf(name, sizeof name, "C-30%02d", i);
		struct desk_conv *c = desk_join(d, name, NULL, TIER_STANDARD, 1, &cause);
		ck_assert_msg(c != NULL, "desk_join: %s", cause);
		for (int k = 0; k < 2; k++)
			ck_assert_msg(desk_say(d, &c, talk[i][k], &cause) == 0, "desk_say: %s",
			              cause);
		convs[n++] = c->id;
	}
	struct answered a = {door, convs, n, 2};
	ck_assert_msg(wait_for(l, all_answered, &a), "not every message was answered");

	for (size_t i = 0; i < n; i++) {
		/* Exactly one turn per customer message, whoever took it. */
		ck_assert_int_eq(said(door, convs[i], "customer"), 2);
		ck_assert_int_eq(said(door, convs[i], "ai"), 2);
		ck_assert_int_eq(events(door, convs[i], "state"), 2);
		ck_assert_int_eq(events(door, convs[i], "triage"), 2);
	}
	/* The console saw every conversation and every answer as they came... */
	for (size_t i = 0; i < n; i++) {
		struct on_desk od = {d, convs[i], 2};
		ck_assert_msg(wait_for(l, desk_has, &od),
		              "conversation %lld and its answers are not on the console",
		              (long long)convs[i]);
	}
	/* ... and each of its customers got each answer once, however it was answered. */
	for (size_t i = 6; i < n; i++) {
		char *cause = NULL;
		struct delivery dv = {convs[i], 2};
		ck_assert_msg(wait_for(l, delivered_n, &dv), "a console customer was not answered");
		ck_assert_msg(desk_refresh(d, convs[i], &cause) == 0, "desk_refresh: %s", cause);
		dv.n = 3;
		ck_assert_msg(!delivered_n(&dv), "a console customer got an answer twice");
	}
	/* The workers' turns are those the console did not take. */
	char *o1 = output("w1"), *o2 = output("w2");
	int by_workers = 0;
	for (const char *p = o1; (p = strstr(p, " answered (turn")) != NULL; p++)
		by_workers++;
	for (const char *p = o2; (p = strstr(p, " answered (turn")) != NULL; p++)
		by_workers++;
	ck_assert_int_ge(by_workers, 12);
	ck_assert_int_le(by_workers, 18);
	free(o1);
	free(o2);

	/* SIGTERM: they stop cleanly, holding nothing. */
	for (size_t i = nkids; i-- > 0;) {
		pid_t pid = kids[i];
		int status;
		kill(pid, SIGTERM);
		reap(pid, &status);
		char *out = output(i == 0 ? "w1" : "w2");
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker status %d: %s",
		              status, out);
		free(out);
	}
	cJSON *s = NULL;
	char *cause = NULL;
	ck_assert_msg(store_status(door, &s, &cause) == 0, "%s", cause);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "pending")), 0);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "claimed")), 0);
	cJSON_Delete(s);
	desk_close(d);
	loop_free(l);
	store_close(st);
	store_close(door);
}
END_TEST

START_TEST(a_worker_killed_mid_turn_is_replaced)
{
	char *cfg = slow_model(8000);
	if (cfg == NULL) {
		fprintf(stderr,
		        "check_worker: python3 not found: the mid-turn cases are skipped\n");
		return;
	}
	struct store *st = store_ok();
	int64_t conv = front_door(st, "C-4001", talk[0], 1);
	pid_t slow = worker("slow", "2", cfg);
	struct held h = {st, "slow"};
	ck_assert_msg(wait_for(NULL, is_held, &h), "the slow worker never claimed");

	/* Dead mid-turn: its lease runs out, and the other finishes the conversation. */
	kill(slow, SIGKILL);
	reap(slow, NULL);
	worker("fast", "2", NULL);
	struct answered a = {st, &conv, 1, 1};
	ck_assert_msg(wait_for(NULL, all_answered, &a), "the conversation was not finished");
	struct says s = {"fast", "answered (turn 1)"};
	ck_assert_msg(wait_for(NULL, has_said, &s), "the other worker did not say it answered");
	ck_assert_int_eq(said(st, conv, "ai"), 1);
	ck_assert_int_eq(events(st, conv, "state"), 1);
	ck_assert_int_eq(claims(st, "slow"), 0);
	store_close(st);
	free(cfg);
}
END_TEST

START_TEST(a_stopped_worker_finds_its_claim_lost)
{
	char *cfg = slow_model(8000);
	if (cfg == NULL)
		return;
	struct store *st = store_ok();
	int64_t conv = front_door(st, "C-4002", talk[1], 1);
	pid_t slow = worker("slow", "1.5", cfg);
	struct held h = {st, "slow"};
	ck_assert_msg(wait_for(NULL, is_held, &h), "the slow worker never claimed");

	/* Stopped past its lease: another answers; woken, its own answer must not count. */
	kill(slow, SIGSTOP);
	worker("fast", "2", NULL);
	struct answered a = {st, &conv, 1, 1};
	ck_assert_msg(wait_for(NULL, all_answered, &a), "the conversation was not finished");
	kill(slow, SIGCONT);
	struct says s = {"slow", "lost"};
	ck_assert_msg(wait_for(NULL, has_said, &s), "the stopped worker did not see its loss");
	/* Told to stop, it waits for its model's answer (8 s after the request): dropped. */
	kill(slow, SIGTERM);
	int status;
	reap(slow, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	char *out = output("slow");
	ck_assert_msg(strstr(out, "0 turns stored (0 withheld), 1 dropped") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(said(st, conv, "ai"), 1);
	ck_assert_int_eq(events(st, conv, "state"), 1);
	ck_assert_int_eq(events(st, conv, "triage"), 1);
	store_close(st);
	free(cfg);
}
END_TEST

START_TEST(a_takeover_mid_turn_withholds_the_workers_reply)
{
	char *cfg = slow_model(3000);
	if (cfg == NULL)
		return;
	struct store *st = store_ok();
	struct loop *l = loop_new();
	struct desk *d = desk_live(st, l);
	int64_t conv = front_door(st, "C-4003", talk[2], 1);
	pid_t slow = worker("slow", "5", cfg);
	struct held h = {st, "slow"};
	ck_assert_msg(wait_for(l, is_held, &h), "the slow worker never claimed");

	char *cause = NULL;
	struct desk_conv *c = desk_find(d, conv);
	if (c == NULL) {
		ck_assert_int_eq(desk_refresh(d, conv, &cause), 0);
		c = desk_find(d, conv);
	}
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(desk_takeover(d, c, "sam", &cause) == 0, "desk_takeover: %s", cause);
	struct says s = {"slow", "withheld"};
	ck_assert_msg(wait_for(l, has_said, &s), "the worker's turn did not end withheld");
	ck_assert_int_eq(said(st, conv, "ai"), 0);
	ck_assert_int_eq(events(st, conv, "withheld"), 1);
	ck_assert_int_eq(events(st, conv, "state"), 1);
	ck_assert_int_eq(c->handler, HANDLER_HUMAN);
	ck_assert_str_eq(c->owner, "sam");
	kill(slow, SIGTERM);
	reap(slow, NULL);
	desk_close(d);
	loop_free(l);
	store_close(st);
	free(cfg);
}
END_TEST

/* The newest message of conversation conv, by the AI: it has this in it. */
struct ai_said {
	struct store *st;
	int64_t conv;
	const char *what;
};

static int
ai_said_it(void *arg)
{
	struct ai_said *a = arg;
	cJSON *rows = NULL;
	char *cause = NULL;
	ck_assert_msg(store_messages(a->st, a->conv, &rows, &cause) == 0, "%s", cause);
	const cJSON *last = cJSON_GetArrayItem(rows, cJSON_GetArraySize(rows) - 1);
	const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(last, "role"));
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(last, "text"));
	int yes = role != NULL && strcmp(role, "ai") == 0 && strstr(text, a->what) != NULL;
	cJSON_Delete(rows);
	return yes;
}

START_TEST(a_message_during_a_takeover_is_answered_after_the_handback)
{
	struct store *st = store_ok(), *ws = store_ok();
	struct loop *l = loop_new();
	struct desk *d = desk_live(st, l);
	char *cause = NULL;
	/* A worker in this process, on its own connection: frontline serve's customers are its. */
	struct worker_opts o = {.id = "w1", .lease_ms = 5000, .concurrency = 2, .poll_ms = 50};
	struct worker *w = worker_new(l, ws, &ag, NULL, &o);
	ck_assert_msg(worker_start(w, &cause) == 0, "worker_start: %s", cause);
	const char *first[] = {"how do I reset my password?"};
	int64_t conv = front_door(st, "C-4004", first, 1);
	struct ai_said a = {st, conv, "reset"};
	ck_assert_msg(wait_for(l, ai_said_it, &a), "the worker did not answer");

	struct known k = {d, conv};
	ck_assert_msg(wait_for(l, is_known, &k), "the console never saw the conversation");
	struct desk_conv *c = desk_find(d, conv);
	cJSON *v = NULL;
	ck_assert_msg(desk_takeover(d, c, "sam", &cause) == 0, "desk_takeover: %s", cause);
	ck_assert_int_eq(desk_human_say(d, c, "Sam here, one moment.", 0, &v, &cause), 0);
	cJSON_Delete(v);
	/* The customer writes while the human has it (through frontline serve). */
	ck_assert_int_eq(
	    store_message_add(st, conv, "customer", "what are your support hours?", NULL, &cause),
	    0);
	for (int i = 0; i < 5; i++)
		loop_once(l, 50);
	ck_assert_int_eq(said(st, conv, "ai"), 1);
	/* Handed back by another console: the worker answers what came meanwhile. */
	ck_assert_int_eq(store_begin(st, &cause), 0);
	ck_assert_int_eq(store_event_add(st, conv, "handback", NULL, &cause), 0);
	ck_assert_int_eq(store_conversation_handler(st, conv, "ai", NULL, &cause), 0);
	ck_assert_int_eq(store_commit(st, &cause), 0);
	a.what = "8 am to 10 pm";
	ck_assert_msg(wait_for(l, ai_said_it, &a), "the message of the takeover was not answered");
	ck_assert_int_eq(said(st, conv, "ai"), 2);

	/* Silent since: the idle timeout closes it, the human's (a takeover, whatever followed). */
	ck_assert_msg(worker_close_idle(w, "2026-12-24T00:00:00.000Z", &cause) == 0, "%s", cause);
	ck_assert_int_eq(worker_stats(w)->closed, 1);
	cJSON *row = NULL;
	ck_assert_int_eq(store_conversation_get(st, conv, &row, &cause), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "ending")),
	                 "resolved-human");
	cJSON_Delete(row);
	ck_assert_int_eq(events(st, conv, "ending"), 1);
	worker_free(w);
	desk_close(d);
	loop_free(l);
	store_close(ws);
	store_close(st);
}
END_TEST

START_TEST(two_consoles_take_over_the_same_chat_and_one_wins)
{
	struct store *s1 = store_ok(), *s2 = store_ok();
	struct loop *l = loop_new();
	struct desk *d1 = desk_live(s1, l), *d2 = desk_live(s2, l);
	char *cause = NULL;
	struct desk_conv *c1 = desk_join(d1, "C-5001", NULL, TIER_STANDARD, 1, &cause);
	ck_assert_msg(c1 != NULL, "desk_join: %s", cause);
	ck_assert_msg(desk_say(d1, &c1, talk[0][0], &cause) == 0, "desk_say: %s", cause);
	/* The other console learns of it by itself. */
	struct known k = {d2, c1->id};
	ck_assert_msg(wait_for(l, is_known, &k), "the second console never saw the chat");
	struct desk_conv *c2 = desk_find(d2, c1->id);
	ck_assert_int_eq(c2->handler, HANDLER_AI);

	/* Both press the key before either hears of the other. */
	ck_assert_msg(desk_takeover(d1, c1, "alice", &cause) == 0, "desk_takeover: %s", cause);
	ck_assert_int_eq(desk_takeover(d2, c2, "bob", &cause), -1);
	ck_assert_msg(strstr(cause, "alice") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	/* The loser's screen shows who has it. */
	ck_assert_int_eq(c2->handler, HANDLER_HUMAN);
	ck_assert_str_eq(c2->owner, "alice");
	ck_assert_int_eq(events(s1, c1->id, "takeover"), 1);
	cJSON *row = NULL;
	ck_assert_int_eq(store_conversation_get(s1, c1->id, &row, &cause), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "owner")), "alice");
	cJSON_Delete(row);
	desk_close(d1);
	desk_close(d2);
	loop_free(l);
	store_close(s1);
	store_close(s2);
}
END_TEST

START_TEST(consoles_in_processes_race_for_a_takeover)
{
	enum { N = 4 };
	struct store *st = store_ok();
	/* No message: nothing for the consoles to answer when they open. */
	int64_t conv = front_door(st, "C-5002", NULL, 0);
	int go[2], res[2];
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(res), 0);
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] != 0)
			continue;
		/* A console of its own: its connection, its desk. */
		close(go[1]);
		char *cause = NULL, who[16], b;
		snprintf(who, sizeof who, "sup-%d", i);
		struct store *mine = store_open(target, &cause);
		struct desk *d = mine ? desk_open(&ag, mine, &hooks, &cause) : NULL;
		struct desk_conv *c = d ? desk_find(d, conv) : NULL;
		int rc =
		    read(go[0], &b, 1) == 0 && c != NULL ? desk_takeover(d, c, who, &cause) : -2;
		unsigned char out = (unsigned char)(rc + 2) | (unsigned char)(i << 4);
		if (write(res[1], &out, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	close(go[1]); /* go */
	int won = 0, lost = 0, winner = -1;
	for (int i = 0; i < N; i++) {
		unsigned char b;
		ck_assert_int_eq(read(res[0], &b, 1), 1);
		int rc = (b & 0xf) - 2;
		ck_assert_msg(rc == 0 || rc == -1, "a console failed (%d)", rc);
		if (rc == 0) {
			won++;
			winner = b >> 4;
		} else
			lost++;
	}
	for (int i = 0; i < N; i++)
		waitpid(pids[i], NULL, 0);
	close(res[0]);
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(lost, N - 1);
	ck_assert_int_eq(events(st, conv, "takeover"), 1);
	cJSON *row = NULL;
	char *cause = NULL, who[16];
	snprintf(who, sizeof who, "sup-%d", winner);
	ck_assert_int_eq(store_conversation_get(st, conv, &row, &cause), 0);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(row, "owner")), who);
	cJSON_Delete(row);
	store_close(st);
}
END_TEST

int
main(void)
{
	const char *pg = getenv("FRONTLINE_TEST_PG");
	Suite *s = suite_create(pg && *pg ? "worker (postgresql)" : "worker (sqlite)");
	TCase *tc = tcase_create("worker");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, two_workers_and_a_console_answer_every_message_once);
	tcase_add_test(tc, a_worker_killed_mid_turn_is_replaced);
	tcase_add_test(tc, a_stopped_worker_finds_its_claim_lost);
	tcase_add_test(tc, a_takeover_mid_turn_withholds_the_workers_reply);
	tcase_add_test(tc, a_message_during_a_takeover_is_answered_after_the_handback);
	tcase_add_test(tc, two_consoles_take_over_the_same_chat_and_one_wins);
	tcase_add_test(tc, consoles_in_processes_race_for_a_takeover);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
