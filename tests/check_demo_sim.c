/*
 * check_demo_sim.c -- the demo's simulated customers: the script loader and
 * the driver on a real loop, with a fake console for hooks.
 *
 * Run without arguments it is a Check suite. tests/demo-script.sh also uses
 * it to read the script exactly as the simulation does:
 *   check_demo_sim --list SCRIPT            "INDEX<TAB>ID<TAB>TIER" per customer
 *   check_demo_sim --messages SCRIPT INDEX  that customer's messages, one per line
 *   check_demo_sim --verify SCRIPT INDEX FIXTURE
 *       checks that customer's expect: against the chat-turn objects of
 *       `frontline chat --json` on standard input, and its name and tier
 *       against the tool fixture; prints ok/FAIL lines, exits 1 on a failure.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "demo-sim.h"
#include "loop.h"
#include "testutil.h"

/* ------------------------------------------------------- the fake console */

enum answer_mode {
	ANSWER_SYNC,  /* from inside say(), as an offline turn completes at once */
	ANSWER_TIMER, /* on a 0 ms timer, as an asynchronous turn does */
	ANSWER_NEVER, /* the console never answers */
};

struct fake;

struct conv {
	struct fake *f;
	const struct demo_customer *c; /* the customer, from the fake's own copy of the script */
	int joined;
	int awaiting; /* a line was said and not answered yet */
	size_t said;  /* lines said since the customer joined */
	int human;    /* a human has answered */
};

struct fake {
	struct loop *l;
	struct demo_sim *sim;
	struct demo_script *script;
	struct conv convs[DEMO_MAX_CUSTOMERS];
	struct strv log; /* "join ID", "say ID TEXT", "leave ID", "skip ID" */
	enum answer_mode mode;
	int double_answer;  /* answer twice in one turn (message + state change) */
	const char *humans; /* ids (space-separated) a human answers after an escalation */
	const char *null_id;
	unsigned null_round; /* join returns NULL for null_id in this round (1-based) */
	unsigned round;      /* rounds begun, counted by the first customer's arrivals */
	int in_answered;
	int finished, target;
	int stop;
};

static struct conv *
conv_of(struct fake *f, const char *id)
{
	for (size_t i = 0; i < f->script->n; i++)
		if (strcmp(f->script->customers[i].id, id) == 0)
			return &f->convs[i];
	ck_abort_msg("unknown customer %s", id);
	return NULL;
}

static int
listed(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list ? strstr(list, id) : NULL; p; p = strstr(p + 1, id))
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static void
logf_(struct fake *f, const char *verb, const char *id, const char *text)
{
	strv_take(&f->log,
	          text ? xasprintf("%s %s %s", verb, id, text) : xasprintf("%s %s", verb, id));
}

static void
count_finished(struct fake *f)
{
	if (++f->finished == f->target)
		f->stop = 1;
}

static void
answer(struct conv *v)
{
	struct fake *f = v->f;
	ck_assert_msg(v->joined, "%s answered but not joined", v->c->id);
	v->awaiting = 0;
	f->in_answered = 1;
	demo_sim_answered(f->sim, v);
	if (f->double_answer)
		demo_sim_answered(f->sim, v);
	f->in_answered = 0;
}

static void
human_answer_cb(struct loop *l, void *arg)
{
	struct conv *v = arg;
	(void)l;
	v->human = 1;
	answer(v);
}

/* The AI's answer; a human follows in a later turn when the chat escalated. */
static void
ai_answer(struct conv *v)
{
	struct fake *f = v->f;
	answer(v);
	if (v->c->escalate != NULL && v->said == v->c->nmessages && listed(f->humans, v->c->id))
		loop_timer_add(f->l, 0, human_answer_cb, v);
}

static void
ai_answer_cb(struct loop *l, void *arg)
{
	(void)l;
	ai_answer(arg);
}

static void *
fake_join(void *arg, const char *id, const char *name, enum tier tier)
{
	struct fake *f = arg;
	ck_assert_msg(!f->in_answered, "join called from inside demo_sim_answered");
	struct conv *v = conv_of(f, id);
	ck_assert_str_eq(name, v->c->name);
	ck_assert_int_eq(tier, v->c->tier);
	ck_assert_msg(!v->joined, "%s joined twice", id);
	if (v == &f->convs[0])
		f->round++;
	if (f->null_id != NULL && strcmp(id, f->null_id) == 0 && f->round == f->null_round) {
		logf_(f, "skip", id, NULL);
		count_finished(f);
		return NULL;
	}
	logf_(f, "join", id, NULL);
	v->joined = 1;
	v->awaiting = 0;
	v->said = 0;
	v->human = 0;
	return v;
}

static void
fake_say(void *arg, void *who, const char *text)
{
	struct fake *f = arg;
	struct conv *v = who;
	ck_assert_msg(!f->in_answered, "say called from inside demo_sim_answered");
	ck_assert_msg(v->joined, "%s says '%s' without having joined", v->c->id, text);
	ck_assert_msg(!v->awaiting, "%s says '%s' before its last line was answered", v->c->id,
	              text);
	logf_(f, "say", v->c->id, text);
	v->said++;
	v->awaiting = 1;
	if (f->mode == ANSWER_SYNC)
		ai_answer(v);
	else if (f->mode == ANSWER_TIMER)
		loop_timer_add(f->l, 0, ai_answer_cb, v);
}

static void
fake_leave(void *arg, void *who)
{
	struct fake *f = arg;
	struct conv *v = who;
	ck_assert_msg(!f->in_answered, "leave called from inside demo_sim_answered");
	ck_assert_msg(v->joined, "%s leaves without having joined", v->c->id);
	logf_(f, "leave", v->c->id, NULL);
	v->joined = 0;
	count_finished(f);
}

static void
fake_rate(void *arg, void *who, int score, const char *comment)
{
	struct fake *f = arg;
	struct conv *v = who;
	ck_assert_msg(v->joined, "%s rates without having joined", v->c->id);
	char *t = xasprintf("%d %s", score, comment ? comment : "-");
	logf_(f, "rate", v->c->id, t);
	free(t);
}

/*
 * Plays the script in text at a high speed until rounds rounds are over
 * (every customer left or was skipped that many times), or until nothing is
 * left to do. The log is in f->log; the caller frees with fake_done().
 */
static void
fake_play(struct fake *f, const char *text, int rounds)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "customers.yaml", text);
	char *cause = NULL;
	f->script = demo_script_load(path, &cause);
	ck_assert_msg(f->script != NULL, "%s", cause ? cause : "");
	for (size_t i = 0; i < f->script->n; i++)
		f->convs[i] = (struct conv){.f = f, .c = &f->script->customers[i]};
	f->target = rounds * (int)f->script->n;
	f->l = loop_new();
	struct demo_hooks hooks = {fake_join, fake_say, fake_leave, f, fake_rate};
	f->sim = demo_sim_new(f->l, path, 1000, &hooks, &cause);
	ck_assert_msg(f->sim != NULL, "%s", cause ? cause : "");
	loop_run(f->l, &f->stop);
	rm_rf(dir);
	free(path);
	free(dir);
}

static void
fake_done(struct fake *f)
{
	demo_sim_free(f->sim);
	loop_free(f->l);
	demo_script_free(f->script);
	strv_free(&f->log);
}

/* Index of the first log entry at or after from equal to s, or -1. */
static int
log_find(const struct fake *f, int from, const char *s)
{
	for (size_t i = (size_t)from; i < f->log.n; i++)
		if (strcmp(f->log.v[i], s) == 0)
			return (int)i;
	return -1;
}

static int
log_count(const struct fake *f, const char *s)
{
	int n = 0;
	for (size_t i = 0; i < f->log.n; i++)
		n += strcmp(f->log.v[i], s) == 0;
	return n;
}

static int
log_count_prefix(const struct fake *f, const char *prefix)
{
	int n = 0;
	for (size_t i = 0; i < f->log.n; i++)
		n += strncmp(f->log.v[i], prefix, strlen(prefix)) == 0;
	return n;
}

/* The events of one customer, in order, joined with " | ". Caller frees. */
static char *
log_of(const struct fake *f, const char *id)
{
	struct buf b;
	buf_init(&b, 0);
	size_t n = strlen(id);
	for (size_t i = 0; i < f->log.n; i++) {
		const char *e = f->log.v[i], *sp = strchr(e, ' ');
		if (strncmp(sp + 1, id, n) == 0 && (sp[1 + n] == ' ' || sp[1 + n] == '\0'))
			buf_printf(&b, "%s%.*s%s", b.len ? " | " : "", (int)(sp - e), e,
			           sp + 1 + n);
	}
	char *s = xstrdup(b.data);
	buf_free(&b);
	return s;
}

#define CHECK_LOG(f, id, want)                                                                     \
	do {                                                                                       \
		char *got_ = log_of((f), (id));                                                    \
		ck_assert_str_eq(got_, (want));                                                    \
		free(got_);                                                                        \
	} while (0)

/* ------------------------------------------------------------ scripts */

static const char three[] = "customers:\n"
                            "  - id: C-1\n"
                            "    name: Ann\n"
                            "    tier: standard\n"
                            "    at: 2\n"
                            "    messages: [where is my order?, thanks]\n"
                            "    expect: {resolved: true}\n"
                            "  - id: C-2\n"
                            "    name: Bob\n"
                            "    tier: premium\n"
                            "    at: 1\n"
                            "    messages: [one, two, three]\n"
                            "    after_human: hello human\n"
                            "    expect: {escalate: max-turns-reached}\n"
                            "  - id: guest-3\n"
                            "    name: Cleo\n"
                            "    tier: enterprise\n"
                            "    at: 3\n"
                            "    messages: [I want a human]\n"
                            "    after_human: are you there?\n"
                            "    expect: {escalate: low-confidence}\n";

START_TEST(plays_every_customer_in_order)
{
	/* Both ways a console answers: inside say(), and in a later turn. */
	static const enum answer_mode modes[] = {ANSWER_SYNC, ANSWER_TIMER};
	for (size_t m = 0; m < nitems(modes); m++) {
		struct fake f = {.mode = modes[m], .humans = "C-2"};
		fake_play(&f, three, 1);
		ck_assert_int_eq(f.finished, 3);
		/* Arrivals in the order of their offsets. */
		ck_assert_int_lt(log_find(&f, 0, "join C-2"), log_find(&f, 0, "join C-1"));
		ck_assert_int_lt(log_find(&f, 0, "join C-1"), log_find(&f, 0, "join guest-3"));
		CHECK_LOG(&f, "C-1", "join | say where is my order? | say thanks | leave");
		/* A human answered the escalated chat: the after_human line, then away. */
		CHECK_LOG(&f, "C-2",
		          "join | say one | say two | say three | say hello human | leave");
		/* Nobody came: the customer gives up without its after_human line. */
		CHECK_LOG(&f, "guest-3", "join | say I want a human | leave");
		fake_done(&f);
	}
}
END_TEST

START_TEST(customers_rate_as_they_leave)
{
	static const char rated[] = "customers:\n"
	                            "  - id: C-1\n"
	                            "    name: Ann\n"
	                            "    tier: standard\n"
	                            "    at: 1\n"
	                            "    messages: [where is my order?]\n"
	                            "    csat: {score: 4, comment: quick}\n"
	                            "    expect: {resolved: true}\n"
	                            "  - id: C-2\n"
	                            "    name: Bob\n"
	                            "    tier: premium\n"
	                            "    at: 2\n"
	                            "    messages: [hello]\n"
	                            "    csat: {score: 1}\n"
	                            "    expect: {resolved: true}\n"
	                            "  - id: C-3\n"
	                            "    name: Cy\n"
	                            "    tier: premium\n"
	                            "    at: 3\n"
	                            "    messages: [hi]\n"
	                            "    expect: {resolved: true}\n";
	struct fake f = {.mode = ANSWER_SYNC};
	fake_play(&f, rated, 1);
	CHECK_LOG(&f, "C-1", "join | say where is my order? | rate 4 quick | leave");
	CHECK_LOG(&f, "C-2", "join | say hello | rate 1 - | leave");
	CHECK_LOG(&f, "C-3", "join | say hi | leave");
	fake_done(&f);

	/* A score outside 1..5 is refused with its place. */
	char *dir = tmpdir_new(), *cause = NULL;
	char *path = tmpfile_with(dir, "bad.yaml",
	                          "customers:\n"
	                          "  - id: C-1\n"
	                          "    name: Ann\n"
	                          "    tier: standard\n"
	                          "    at: 1\n"
	                          "    messages: [hi]\n"
	                          "    csat: {score: 6}\n"
	                          "    expect: {resolved: true}\n");
	struct demo_script *sc = demo_script_load(path, &cause);
	ck_assert_ptr_null(sc);
	ck_assert_msg(strstr(cause, "bad.yaml:7:") != NULL, "%s", cause);
	free(cause);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(next_line_waits_for_an_answer)
{
	/* Never answered: only the first lines are said, then everyone leaves. */
	struct fake f = {.mode = ANSWER_NEVER};
	fake_play(&f, three, 1);
	ck_assert_int_eq(f.finished, 3);
	CHECK_LOG(&f, "C-1", "join | say where is my order? | leave");
	CHECK_LOG(&f, "C-2", "join | say one | leave");
	CHECK_LOG(&f, "guest-3", "join | say I want a human | leave");
	fake_done(&f);
}
END_TEST

START_TEST(answers_in_one_turn_count_once)
{
	/*
	 * The console reports the handoff message and the state change in the
	 * same turn: that is one answer, not the AI's and then a human's, so
	 * no after_human line; and no line is skipped before it.
	 */
	struct fake f = {.mode = ANSWER_SYNC, .double_answer = 1};
	fake_play(&f, three, 1);
	CHECK_LOG(&f, "C-1", "join | say where is my order? | say thanks | leave");
	CHECK_LOG(&f, "C-2", "join | say one | say two | say three | leave");
	CHECK_LOG(&f, "guest-3", "join | say I want a human | leave");
	fake_done(&f);
}
END_TEST

START_TEST(unknown_handles_are_ignored)
{
	struct fake f = {.mode = ANSWER_TIMER};
	int stranger;
	fake_play(&f, three, 1);
	demo_sim_answered(f.sim, &stranger);
	demo_sim_answered(f.sim, NULL);
	demo_sim_answered(NULL, &stranger);
	ck_assert_int_eq(loop_once(f.l, 0), 0); /* nothing was scheduled */
	fake_done(&f);
}
END_TEST

static const char repeating[] = "repeat: true\n"
                                "pause: 0.5\n"
                                "customers:\n"
                                "  - id: C-1\n"
                                "    name: Ann\n"
                                "    tier: standard\n"
                                "    at: 1\n"
                                "    messages: [hello, bye]\n"
                                "    expect: {resolved: true}\n"
                                "  - id: C-2\n"
                                "    name: Bob\n"
                                "    tier: self-serve\n"
                                "    at: 2\n"
                                "    messages: [help]\n"
                                "    expect: {escalate: legal-language-detected}\n";

START_TEST(repeat_starts_again)
{
	struct fake f = {.mode = ANSWER_TIMER};
	fake_play(&f, repeating, 3);
	ck_assert_int_eq(f.finished, 6);
	CHECK_LOG(&f, "C-1",
	          "join | say hello | say bye | leave | join | say hello | say bye | leave | "
	          "join | say hello | say bye | leave");
	CHECK_LOG(&f, "C-2",
	          "join | say help | leave | join | say help | leave | join | say "
	          "help | leave");
	/* A round starts only when the last one is over. */
	int second = log_find(&f, 1, "join C-1");
	ck_assert_int_gt(second, log_find(&f, 0, "leave C-1"));
	ck_assert_int_gt(second, log_find(&f, 0, "leave C-2"));
	fake_done(&f);
}
END_TEST

START_TEST(no_repeat_stops)
{
	/* Without repeat: the loop runs dry after one round (loop_run returns). */
	struct fake f = {.mode = ANSWER_TIMER};
	char *once = replace1(repeating, "repeat: true", "repeat: false");
	fake_play(&f, once, 99);
	ck_assert_int_eq(f.finished, 2);
	ck_assert_int_eq(log_count_prefix(&f, "join "), 2);
	free(once);
	fake_done(&f);
}
END_TEST

START_TEST(join_null_skips_this_round)
{
	struct fake f = {.mode = ANSWER_TIMER, .null_id = "C-2", .null_round = 1};
	fake_play(&f, repeating, 2);
	ck_assert_int_eq(f.finished, 4);
	CHECK_LOG(&f, "C-2", "skip | join | say help | leave");
	CHECK_LOG(&f, "C-1",
	          "join | say hello | say bye | leave | join | say hello | say bye | "
	          "leave");
	ck_assert_int_eq(log_count(&f, "say C-2 help"), 1);
	fake_done(&f);
}
END_TEST

START_TEST(refuses_bad_speed_and_hooks)
{
	struct loop *l = loop_new();
	struct demo_hooks hooks = {fake_join, fake_say, fake_leave, NULL, NULL};
	char *path = srcpath("data/demo/customers.yaml"), *cause = NULL;
	static const double bad[] = {0, -1, NAN, INFINITY};
	for (size_t i = 0; i < nitems(bad); i++) {
		ck_assert_ptr_null(demo_sim_new(l, path, bad[i], &hooks, &cause));
		ck_assert_ptr_nonnull(strstr(cause, "speed"));
		free(cause);
		cause = NULL;
	}
	hooks.say = NULL;
	ck_assert_ptr_null(demo_sim_new(l, path, 1, &hooks, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "hooks"));
	free(cause);
	demo_sim_free(NULL);
	free(path);
	loop_free(l);
}
END_TEST

START_TEST(free_cancels_everything)
{
	/* Freed mid-round: nothing is called afterwards (the loop runs dry). */
	struct fake f = {.mode = ANSWER_TIMER};
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "c.yaml", three);
	char *cause = NULL;
	f.script = demo_script_load(path, &cause);
	ck_assert_ptr_nonnull(f.script);
	for (size_t i = 0; i < f.script->n; i++)
		f.convs[i] = (struct conv){.f = &f, .c = &f.script->customers[i]};
	f.l = loop_new();
	struct demo_hooks hooks = {fake_join, fake_say, fake_leave, &f, NULL};
	f.sim = demo_sim_new(f.l, path, 1000, &hooks, &cause);
	ck_assert_ptr_nonnull(f.sim);
	while (log_find(&f, 0, "say C-2 one") < 0)
		ck_assert_int_ge(loop_once(f.l, -1), 0);
	demo_sim_free(f.sim);
	f.sim = NULL;
	size_t n = f.log.n;
	loop_run(f.l, NULL); /* only the fake's own answer timers are left */
	ck_assert_uint_eq(f.log.n, n);
	rm_rf(dir);
	free(path);
	free(dir);
	fake_done(&f);
}
END_TEST

/* ------------------------------------------------------- the shipped script */

START_TEST(shipped_script_covers_the_tour)
{
	char *path = srcpath("data/demo/customers.yaml"), *cause = NULL;
	struct demo_script *s = demo_script_load(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause ? cause : "");
	ck_assert_int_ge(s->n, 10);
	ck_assert_int_le(s->n, 14);
	ck_assert(s->repeat);
	/* Every escalation signal the tour promises, and the rest of it. */
	static const char *const reasons[] = {
	    "sentiment-degradation",
	    "legal-language-detected",
	    "payment-dispute-over-threshold",
	    "low-confidence",
	    "max-turns-reached",
	    "customer-requested-human",
	    "account-security-concern",
	    "write-refused",
	};
	for (size_t r = 0; r < nitems(reasons); r++) {
		int found = 0;
		for (size_t i = 0; i < s->n; i++)
			found |= s->customers[i].escalate != NULL &&
			         strcmp(s->customers[i].escalate, reasons[r]) == 0;
		ck_assert_msg(found, "no demo customer escalates with %s", reasons[r]);
	}
	int resolved = 0, stale = 0, injection = 0, guests = 0, first = 0, rated = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct demo_customer *c = &s->customers[i];
		rated += c->csat > 0;
		resolved += c->resolved;
		stale += c->stale != NULL;
		injection += c->no_tool != NULL;
		guests += strncmp(c->id, "guest-", 6) == 0;
		first += c->at <= 1.0;
		/* Everything shows within the first ~20 seconds. */
		ck_assert_msg(c->at <= 15, "%s arrives at %g s", c->id, c->at);
	}
	ck_assert_int_ge(resolved, 3);
	/* The demo store gets CSAT: most customers rate, across the scale. */
	ck_assert_int_ge(rated, 6);
	ck_assert_int_ge(stale, 1);
	ck_assert_int_ge(injection, 1);
	ck_assert_int_ge(guests, 2);
	ck_assert_int_ge(first, 1);
	demo_script_free(s);
	free(path);
}
END_TEST

/* ------------------------------------------------------------ bad scripts */

static const char good_customer[] = "  - id: C-1\n"
                                    "    name: Ann\n"
                                    "    tier: standard\n"
                                    "    at: 1\n"
                                    "    messages: [hello]\n"
                                    "    expect: {resolved: true}\n";

static const struct bad {
	const char *text;
	int line;          /* where the message points */
	const char *where; /* and what it says */
} bads[] = {
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: soon\n"
     "    messages: [hi]\n    expect: {resolved: true}\n",
     5, "customers[0].at: expected a number, got 'soon'"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: gold\n    at: 1\n"
     "    messages: [hi]\n    expect: {resolved: true}\n",
     4, "'gold' is not one of: self-serve, standard, premium, enterprise"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    mesages: [hi]\n    expect: {resolved: true}\n",
     6, "unknown key 'mesages' in customers[0]"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    expect: {resolved: true}\n",
     2, "customers[0]: missing required key 'messages'"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: hi\n    expect: {resolved: true}\n",
     6, "customers[0].messages: expected a list, got a scalar"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: []\n    expect: {resolved: true}\n",
     6, "customers[0].messages: expected 1 to 4 messages, got 0"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [a, b, c, d, e]\n    expect: {resolved: true}\n",
     6, "expected 1 to 4 messages, got 5"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages:\n      - hi\n      - {text: hi}\n    expect: {resolved: true}\n",
     8, "customers[0].messages[1]: expected a string, got a mapping"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages:\n      - |\n        two\n        lines\n    expect: {resolved: true}\n",
     7, "customers[0].messages[0] must be one line of text"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [\"  \"]\n    expect: {resolved: true}\n",
     6, "customers[0].messages[0] is empty"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: -2\n"
     "    messages: [hi]\n    expect: {resolved: true}\n",
     5, "customers[0].at: -2 is out of range"},
    {"customers:\n  - id: C 1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {resolved: true}\n",
     2, "customers[0].id: 'C 1' is not an id"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {resolved: true, escalate: legal-language-detected}\n",
     7, "give either 'resolved: true' or 'escalate: REASON'"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {}\n",
     7, "give either 'resolved: true' or 'escalate: REASON'"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {resolved: maybe}\n",
     7, "customers[0].expect.resolved: expected true or false, got 'maybe'"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {escalate: Legal Language}\n",
     7, "customers[0].expect.escalate: 'Legal Language' is not a reason code"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {resolved: true, no_tool: refund_everything}\n",
     7, "'refund_everything' is not one of: knowledge_base_search"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    after_human: hello\n    expect: {resolved: true}\n",
     7, "customers[0].after_human: only a customer expected to escalate"},
    {"customers:\n  - id: C-1\n    name: Ann\n    tier: standard\n    at: 1\n"
     "    messages: [hi]\n    expect: {resolved: true}\n"
     "  - id: C-1\n    name: Bob\n    tier: standard\n    at: 2\n"
     "    messages: [hi]\n    expect: {resolved: true}\n",
     8, "customers[1].id: 'C-1' already plays customers[0] (line 2)"},
    {"repeat: sometimes\ncustomers:\n", 1, "repeat: expected true or false"},
    {"customers: []\n", 1, "customers: expected 1 to 64 customers, got 0"},
    {"customer:\n  - id: C-1\n", 1, "unknown key 'customer' in the top level"},
    {"- just\n- a list\n", 1, "expected a mapping, got a list"},
    {"customers:\n  - id: C-1\n    name: [Ann\n", 4, "YAML syntax error"},
};

START_TEST(refuses_bad_scripts)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "bad.yaml", bads[_i].text);
	char *cause = NULL;
	ck_assert_ptr_null(demo_script_load(path, &cause));
	ck_assert_ptr_nonnull(cause);
	char *want = xasprintf("%s:%d:", path, bads[_i].line);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0 && strstr(cause, bads[_i].where),
	              "bad[%d]: got\n%s\nwanted %s ... %s", _i, cause, want, bads[_i].where);
	/* The driver refuses it the same way. */
	struct loop *l = loop_new();
	struct demo_hooks hooks = {fake_join, fake_say, fake_leave, NULL, NULL};
	char *cause2 = NULL;
	ck_assert_ptr_null(demo_sim_new(l, path, 1, &hooks, &cause2));
	ck_assert_str_eq(cause2, cause);
	loop_free(l);
	free(cause2);
	free(want);
	free(cause);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(refuses_missing_and_empty_files)
{
	char *dir = tmpdir_new();
	char *missing = xasprintf("%s/none.yaml", dir);
	char *cause = NULL;
	ck_assert_ptr_null(demo_script_load(missing, &cause));
	ck_assert_ptr_nonnull(strstr(cause, missing));
	free(cause);
	char *empty = tmpfile_with(dir, "empty.yaml", "# nothing\n");
	ck_assert_ptr_null(demo_script_load(empty, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "no customers"));
	free(cause);
	/* And the good customer used above is good on its own. */
	char *text = xasprintf("customers:\n%s", good_customer);
	char *good = tmpfile_with(dir, "good.yaml", text);
	struct demo_script *s = demo_script_load(good, &cause);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->n, 1);
	ck_assert_str_eq(s->customers[0].messages[0], "hello");
	ck_assert_int_eq(s->customers[0].line, 2);
	ck_assert(!s->repeat);
	demo_script_free(s);
	free(text);
	free(good);
	free(empty);
	free(missing);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* --------------------------------------- tools for tests/demo-script.sh */

static struct demo_script *
must_load(const char *path)
{
	char *cause = NULL;
	struct demo_script *s = demo_script_load(path, &cause);
	if (s == NULL) {
		fprintf(stderr, "%s\n", cause);
		exit(1);
	}
	return s;
}

static const struct demo_customer *
must_customer(const struct demo_script *s, const char *index)
{
	char *end;
	unsigned long i = strtoul(index, &end, 10);
	if (*index == '\0' || *end != '\0' || i >= s->n) {
		fprintf(stderr, "no customer %s in %s\n", index, s->path);
		exit(1);
	}
	return &s->customers[i];
}

static int verify_failed;
static const char *verify_path;

static void verdict(const struct demo_customer *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
verdict(const struct demo_customer *c, int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	printf("%s - %s:%d: %s (%s): %s\n", ok ? "ok" : "FAIL", verify_path, c->line, c->id,
	       c->name, msg);
	free(msg);
	verify_failed |= !ok;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The customer's record in the tool fixture, or NULL. */
static const cJSON *
fixture_customer(const cJSON *fx, const char *id)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "customers"))
	{
		if (jstr(c, "id") && strcmp(jstr(c, "id"), id) == 0)
			return c;
	}
	return NULL;
}

/* Does any turn have a tool call named tool (and allowed, when allowed is set)? */
static int
any_tool(const cJSON *turns, const char *tool, int allowed)
{
	const cJSON *t, *k;
	cJSON_ArrayForEach(t, turns)
	{
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(t, "tools"))
		{
			if (jstr(k, "name") && strcmp(jstr(k, "name"), tool) == 0 &&
			    (!allowed ||
			     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "allowed"))))
				return 1;
		}
	}
	return 0;
}

static int
verify(const char *script, const char *index, const char *fixture)
{
	struct demo_script *s = must_load(script);
	const struct demo_customer *c = must_customer(s, index);
	verify_path = s->path;

	/* The fixture's customers are played as the fixture has them. */
	char *cause = NULL, *fxtext = file_read(fixture, 0, NULL, &cause);
	cJSON *fx = fxtext ? cJSON_Parse(fxtext) : NULL;
	if (fx == NULL) {
		fprintf(stderr, "%s: %s\n", fixture, cause ? cause : "not JSON");
		exit(1);
	}
	const cJSON *fc = fixture_customer(fx, c->id);
	if (fc != NULL) {
		verdict(c, jstr(fc, "name") && strcmp(jstr(fc, "name"), c->name) == 0,
		        "name as in the fixture (%s)",
		        jstr(fc, "name") ? jstr(fc, "name") : "none");
		verdict(c, jstr(fc, "tier") && strcmp(jstr(fc, "tier"), tier_names[c->tier]) == 0,
		        "tier as in the fixture (%s)",
		        jstr(fc, "tier") ? jstr(fc, "tier") : "none");
	} else
		verdict(c, strncmp(c->id, "guest-", 6) == 0, "not in the fixture, so a guest-* id");

	/* The turns, one JSON object per line. */
	cJSON *turns = cJSON_CreateArray();
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) != -1) {
		cJSON *t = cJSON_Parse(line);
		if (t == NULL) {
			verdict(c, 0, "chat printed something that is not JSON: %s", line);
			continue;
		}
		cJSON_AddItemToArray(turns, t);
	}
	free(line);

	int n = cJSON_GetArraySize(turns);
	verdict(c, n == (int)c->nmessages, "%zu messages, %d turns%s", c->nmessages, n,
	        n < (int)c->nmessages ? " (a human took over early?)" : "");
	for (int i = 0; i < n && i < (int)c->nmessages; i++) {
		const cJSON *t = cJSON_GetArrayItem(turns, i);
		const cJSON *esc = cJSON_GetObjectItemCaseSensitive(t, "escalation");
		int escalated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(esc, "escalate"));
		const char *reason = jstr(esc, "reason");
		int last = i == (int)c->nmessages - 1;
		if (!(last && c->escalate != NULL)) {
			verdict(c, !escalated && jstr(t, "reply") != NULL,
			        "turn %d is answered by the AI%s%s", i + 1,
			        escalated ? ", but it escalates: " : "",
			        escalated && reason ? reason : "");
			continue;
		}
		verdict(c,
		        escalated && reason && strcmp(reason, c->escalate) == 0 &&
		            cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t, "handoff")),
		        "turn %d escalates with %s (got %s)", i + 1, c->escalate,
		        escalated ? (reason ? reason : "no reason") : "no escalation");
	}
	if (c->stale != NULL) {
		int found = 0;
		const cJSON *t, *h;
		cJSON_ArrayForEach(t, turns)
		{
			cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(t, "knowledge"))
			{
				found |= jstr(h, "id") && strcmp(jstr(h, "id"), c->stale) == 0 &&
				         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "stale"));
			}
		}
		verdict(c, found, "retrieves %s flagged stale", c->stale);
	}
	if (c->tool != NULL)
		verdict(c, any_tool(turns, c->tool, 1), "runs %s", c->tool);
	if (c->no_tool != NULL)
		verdict(c, !any_tool(turns, c->no_tool, 0), "never plans %s", c->no_tool);
	if (c->not_said != NULL) {
		int said = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, turns)
		{
			const char *r = jstr(t, "reply");
			const char *h = jstr(cJSON_GetObjectItemCaseSensitive(t, "handoff"),
			                     "message_to_customer");
			said |= (r && strstr(r, c->not_said)) || (h && strstr(h, c->not_said));
		}
		verdict(c, !said, "never says '%s'", c->not_said);
	}
	cJSON_Delete(turns);
	cJSON_Delete(fx);
	free(fxtext);
	free(cause);
	demo_script_free(s);
	return verify_failed ? 1 : 0;
}

static int
tool_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--list") == 0) {
		struct demo_script *s = must_load(argv[2]);
		for (size_t i = 0; i < s->n; i++)
			printf("%zu\t%s\t%s\n", i, s->customers[i].id,
			       tier_names[s->customers[i].tier]);
		demo_script_free(s);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--messages") == 0) {
		struct demo_script *s = must_load(argv[2]);
		const struct demo_customer *c = must_customer(s, argv[3]);
		for (size_t i = 0; i < c->nmessages; i++)
			printf("%s\n", c->messages[i]);
		demo_script_free(s);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "--verify") == 0)
		return verify(argv[2], argv[3], argv[4]);
	fprintf(stderr,
	        "usage: %s [--list SCRIPT | --messages SCRIPT INDEX | --verify SCRIPT "
	        "INDEX FIXTURE]\n",
	        argv[0]);
	return 64;
}

/* ------------------------------------------------------------ the suite */

static Suite *
demo_sim_suite(void)
{
	Suite *s = suite_create("demo_sim");
	TCase *tc = tcase_create("driver");
	tcase_add_test(tc, plays_every_customer_in_order);
	tcase_add_test(tc, next_line_waits_for_an_answer);
	tcase_add_test(tc, answers_in_one_turn_count_once);
	tcase_add_test(tc, unknown_handles_are_ignored);
	tcase_add_test(tc, repeat_starts_again);
	tcase_add_test(tc, no_repeat_stops);
	tcase_add_test(tc, join_null_skips_this_round);
	tcase_add_test(tc, refuses_bad_speed_and_hooks);
	tcase_add_test(tc, free_cancels_everything);
	tcase_add_test(tc, customers_rate_as_they_leave);
	suite_add_tcase(s, tc);
	tc = tcase_create("script");
	tcase_add_test(tc, shipped_script_covers_the_tour);
	tcase_add_loop_test(tc, refuses_bad_scripts, 0, (int)nitems(bads));
	tcase_add_test(tc, refuses_missing_and_empty_files);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		return tool_main(argc, argv);
	return run_suite(demo_sim_suite());
}
