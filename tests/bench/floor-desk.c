/*
 * floor-desk.c -- headless consoles for the floor bench (tests/bench/floor.sh):
 * N desks (the console's model, src/desk.c, without curses), each in a
 * process of its own with its own connection to the store, subscribed as a
 * console is (desk_attach: LISTEN frontline_conv on PostgreSQL). The agents
 * are loaded once, before the processes fork.
 *
 *   floor-desk --db URL --consoles N --out FILE --srcdir DIR [--model FILE]
 *              [--listen-only | --relay URL]
 *
 * --relay URL: each console takes the changes from frontline serve's floor
 * stream at URL (the token in $FRONTLINE_SERVE_TOKEN) instead of LISTEN,
 * as frontline console --floor does: it reads the store only to catch up
 * when the stream opens.
 * --listen-only: each console LISTENs and takes its notifications, and
 * does nothing else -- what the notifications alone cost, to tell apart
 * from what reading the changes costs.
 *
 * Every message a desk takes in is timed (CLOCK_REALTIME) when the desk has
 * it -- after the notification, the read, and the desk's own bookkeeping:
 * what a console would draw next. SIGUSR1 marks a moment (the bench's
 * window): the statements the desks have run so far. On SIGTERM or SIGINT
 * it writes FILE and exits 0: a line "mark STATEMENTS" per mark, then one
 * line per message id, "ID DESKS LAST_MS": how many desks have it and when
 * the last of them took it in (milliseconds since midnight UTC, the time of
 * day the store's "at" has even when FRONTLINE_TODAY sets its date). It
 * never answers a customer: no customer is connected to it.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "desk.h"
#include "diag.h"
#include "kb.h"
#include "loop.h"
#include "policy.h"
#include "store.h"
#include "tool-backend.h"
#include "triage.h"
#include "util.h"

static volatile sig_atomic_t stop, marking;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		marking = 1;
	else
		stop = 1;
}

static void
die(const char *what, const char *cause)
{
	fprintf(stderr, "floor-desk: %s: %s\n", what, cause ? cause : "failed");
	exit(1);
}

/* A map from a positive id to two numbers, open addressing. */
struct slot {
	int64_t id;
	int64_t a, b;
};
struct map {
	struct slot *v;
	size_t n, cap;
};

/* By conversation id: a, how many of its messages a desk has looked at (desks only append). */
static struct map looked;
/* By message id: a, how many desks have it; b, when the last of them took it in. */
static struct map took;

static struct slot *
slot_of(struct map *m, int64_t id)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 65536;
		struct slot *t = xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < m->cap; i++)
			if (m->v[i].id != 0) {
				size_t k = hash_fnv1a(&m->v[i].id, sizeof m->v[i].id) & (cap - 1);
				while (t[k].id != 0)
					k = (k + 1) & (cap - 1);
				t[k] = m->v[i];
			}
		free(m->v);
		m->v = t;
		m->cap = cap;
	}
	size_t k = hash_fnv1a(&id, sizeof id) & (m->cap - 1);
	while (m->v[k].id != 0 && m->v[k].id != id)
		k = (k + 1) & (m->cap - 1);
	if (m->v[k].id == 0) {
		m->v[k].id = id;
		m->n++;
	}
	return &m->v[k];
}

/* The desk changed a conversation: the messages it has now and did not before are timed. */
static void
on_changed(void *arg, struct desk_conv *c)
{
	(void)arg;
	if (c->id <= 0)
		return;
	struct slot *n = slot_of(&looked, c->id);
	if ((size_t)n->a >= c->nmsgs)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ms = (int64_t)(ts.tv_sec % 86400) * 1000 + ts.tv_nsec / 1000000;
	for (; (size_t)n->a < c->nmsgs; n->a++) {
		if (c->msgs[n->a].id <= 0)
			continue; /* a note */
		struct slot *t = slot_of(&took, c->msgs[n->a].id);
		t->a++;
		t->b = ms;
	}
}

/* The out file: the marks, then a line per message. 0 or -1. */
static int
write_out(const char *out, const uint64_t *marks, size_t nmarks)
{
	FILE *f = fopen(out, "w");
	if (f == NULL)
		return -1;
	for (size_t i = 0; i < nmarks; i++)
		fprintf(f, "mark %llu\n", (unsigned long long)marks[i]);
	for (size_t i = 0; i < took.cap; i++)
		if (took.v[i].id != 0)
			fprintf(f, "%lld %lld %lld\n", (long long)took.v[i].id,
			        (long long)took.v[i].a, (long long)took.v[i].b);
	return fclose(f);
}

static void
ignore(void *arg, const struct store_change *ch)
{
	(void)arg;
	(void)ch;
}

static void
on_notify(struct loop *l, int fd, int ready, void *arg)
{
	char *cause = NULL;
	(void)l;
	(void)fd;
	(void)ready;
	if (store_notifications(arg, ignore, NULL, &cause) < 0)
		die("notifications", cause);
}

/*
 * One console: a desk on its own connection (listen_only: only the
 * connection, listening), until SIGTERM; its file is part. A byte on
 * ready once it listens. Returns the exit status.
 */
static int
console(const char *db, const struct agents *ag, int listen_only, const char *relay,
        const char *part, int ready)
{
	char *cause = NULL;
	struct loop *l = loop_new();
	struct store *st = store_open(db, &cause);
	const struct desk_hooks hooks = {.changed = on_changed};
	struct desk *d = NULL;
	if (st != NULL && listen_only) {
		if (store_listen(st, STORE_CHANNEL_CONV, &cause) != 0)
			die("listen", cause);
		loop_watch(l, store_notify_fd(st), LOOP_READ, on_notify, st);
	} else if (st == NULL || (d = desk_open(ag, st, &hooks, &cause)) == NULL ||
	           (relay != NULL
	                ? desk_attach_floor(d, l, relay, getenv("FRONTLINE_SERVE_TOKEN"), &cause)
	                : desk_attach(d, l, 0, &cause)) != 0) {
		fprintf(stderr, "floor-desk: %s\n", cause ? cause : "?");
		return 1;
	}
	if (write(ready, "", 1) != 1)
		return 1;
	close(ready);
	uint64_t marks[8];
	size_t nmarks = 0;
	while (!stop) {
		loop_once(l, 200);
		if (marking && nmarks < nitems(marks)) {
			marking = 0;
			marks[nmarks++] = store_statements(st);
		}
	}
	int rc = write_out(part, marks, nmarks) == 0 ? 0 : 1;
	desk_close(d);
	store_close(st);
	loop_free(l);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *db = NULL, *out = NULL, *srcdir = ".", *model = NULL, *relay = NULL;
	int consoles = 1, listen_only = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--listen-only") == 0) {
			listen_only = 1;
			continue;
		}
		if (v != NULL && strcmp(argv[i], "--db") == 0)
			db = v;
		else if (v != NULL && strcmp(argv[i], "--consoles") == 0)
			consoles = atoi(v);
		else if (v != NULL && strcmp(argv[i], "--out") == 0)
			out = v;
		else if (v != NULL && strcmp(argv[i], "--srcdir") == 0)
			srcdir = v;
		else if (v != NULL && strcmp(argv[i], "--model") == 0)
			model = v;
		else if (v != NULL && strcmp(argv[i], "--relay") == 0)
			relay = v;
		else {
			fprintf(stderr, "floor-desk: unknown option or missing value: %s\n",
			        argv[i]);
			return 64;
		}
		i++;
	}
	if (db == NULL || out == NULL || consoles < 1 || (listen_only && relay != NULL)) {
		fprintf(stderr, "usage: floor-desk --db URL --consoles N --out FILE --srcdir DIR "
		                "[--model FILE] [--listen-only | --relay URL]\n");
		return 64;
	}

	/* The agents a console has (it runs no turn here: no customer is connected). */
	struct diag d = {0};
	char *cause = NULL;
	char *pp = xasprintf("%s/policies/support-agent-policy.yaml", srcdir);
	char *data = xasprintf("%s/data/triage", srcdir), *kbdir = xasprintf("%s/kb", srcdir);
	char *catalog = xasprintf("%s/kb/catalog.yaml", srcdir);
	char *fixture = xasprintf("%s/data/fixtures/customers.json", srcdir);
	struct agents ag = {0};
	struct tool_backend tb = {0};
	struct policy *policy = policy_load(pp, &d);
	if (policy == NULL)
		die("policy", d.msgs.n ? d.msgs.v[0] : pp);
	int ex = 0;
	ag.policy = policy;
	if ((ag.triage = triage_open(model ? model : getenv("FRONTLINE_MODEL"), data, catalog,
	                             policy, &cause, &ex)) == NULL)
		die("triage", cause);
	if ((ag.kb = kb_open(kbdir, ":memory:", &d, &cause)) == NULL)
		die("kb", cause);
	if (date_today(&ag.fresh.today, &cause) != 0)
		die("today", cause);
	ag.fresh.stale_after_days = policy->stale_after_days;
	ag.fresh.volatile_topics = policy->volatile_topics;
	if (tool_backend_fixture(&tb, fixture, &cause) != 0)
		die("fixture", cause);
	ag.tools = &tb;

	/* Without SA_RESTART: a signal ends waitpid, to be passed on to the consoles. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	pid_t *kids = xcalloc((size_t)consoles, sizeof *kids);
	int ready[2];
	if (pipe(ready) != 0)
		die("pipe", "failed");
	for (int i = 0; i < consoles; i++) {
		char *part = xasprintf("%s.%d", out, i);
		if ((kids[i] = fork()) == 0) {
			close(ready[0]);
			_exit(console(db, &ag, listen_only, relay, part, ready[1]));
		}
		free(part);
		if (kids[i] < 0)
			die("fork", "failed");
	}
	close(ready[1]);
	char b;
	int listening = 0;
	while (listening < consoles && read(ready[0], &b, 1) == 1)
		listening++;
	close(ready[0]);
	fprintf(stderr, "floor-desk: %d consoles listening\n", listening);
	int failed = 0, left = consoles;
	while (left > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			/* A signal: the consoles hear it too. */
			int sig = stop ? SIGTERM : SIGUSR1;
			marking = 0;
			for (int i = 0; i < consoles; i++)
				kill(kids[i], sig);
			continue;
		}
		left--;
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	free(kids);
	if (failed)
		die("a console", "failed");

	/* One file: the marks summed, each message's desks summed and its last time. */
	uint64_t marks[8] = {0};
	size_t nmarks = 0;
	for (int i = 0; i < consoles; i++) {
		char *part = xasprintf("%s.%d", out, i), line[128];
		FILE *f = fopen(part, "r");
		unsigned long long m;
		long long id, desks, ms;
		size_t k = 0;
		if (f == NULL)
			die(part, "cannot read");
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "mark %llu", &m) == 1 && k < nitems(marks))
				marks[k++] += m;
			else if (sscanf(line, "%lld %lld %lld", &id, &desks, &ms) == 3) {
				struct slot *t = slot_of(&took, id);
				t->a += desks;
				if (ms > t->b)
					t->b = ms;
			}
		}
		nmarks = k > nmarks ? k : nmarks;
		fclose(f);
		unlink(part);
		free(part);
	}
	if (write_out(out, marks, nmarks) != 0)
		die(out, "cannot write");
	triage_close(ag.triage);
	kb_close(ag.kb);
	tool_backend_free(&tb);
	policy_free(policy);
	diag_free(&d);
	free(pp);
	free(data);
	free(kbdir);
	free(catalog);
	free(fixture);
	return 0;
}
