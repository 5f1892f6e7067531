/* worker.c -- frontline worker: claims, turns, leases, notifications. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai-turn.h"
#include "conversation.h"
#include "ending.h"
#include "worker.h"

/* After a failure to read the queue or to listen, the next try comes this much later. */
#define RETRY_MS 1000
/* Claims per look before the loop gets a turn. */
#define LOOK_BATCH 64
/* The idle timeout (lifecycle.idle_close_minutes) is looked at this often. */
#define IDLE_LOOK_S 60

struct job {
	struct worker *w; /* NULL: released (orphaned); freed when the turn ends */
	int64_t conv;
	int64_t upto; /* the customer message this turn answers */
	struct conversation state;
	struct ai_arm arm;
	struct agents use;
	uint64_t renew_timer;
	int lost; /* the claim was lost while the turn ran: its result is dropped */
	struct job *next;
};

struct worker {
	struct loop *loop;
	struct store *st;
	const struct agents *ag;
	struct rollout_live *live;
	struct worker_opts o;
	char *id;

	struct job *jobs; /* in flight */
	size_t busy;
	int draining;
	int empty;           /* the last look found nothing to claim */
	int looking;         /* inside look(): no nested looks */
	uint64_t look_timer; /* a look is due */
	uint64_t sweep_timer;
	uint64_t listen_timer;
	int notify_fd; /* watched, or -1 */
	time_t idle_look; /* when the idle timeout was last looked at */
	struct worker_stats stats;
};

static void say(void (*fn)(void *, const char *), void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
say(void (*fn)(void *, const char *), void *arg, const char *fmt, ...)
{
	if (fn == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	fn(arg, s);
	free(s);
}

#define INFO(w, ...) say((w)->o.info, (w)->o.arg, __VA_ARGS__)
#define WARN(w, ...) say((w)->o.warn, (w)->o.arg, __VA_ARGS__)

static void look(struct worker *);

static void
look_fire(struct loop *l, void *arg)
{
	struct worker *w = arg;
	(void)l;
	w->look_timer = 0;
	look(w);
}

/* A look at the queue on the loop's next turn (never from inside a callback chain). */
static void
look_soon(struct worker *w, long ms)
{
	if (w->look_timer != 0) {
		if (ms > 0)
			return;
		loop_timer_del(w->loop, w->look_timer);
	}
	w->look_timer = loop_timer_add(w->loop, ms, look_fire, w);
}

/* ---------------------------------------------------------------- jobs */

static void
job_unlink(struct worker *w, struct job *j)
{
	for (struct job **p = &w->jobs; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	w->busy--;
	if (j->renew_timer != 0)
		loop_timer_del(w->loop, j->renew_timer);
	j->renew_timer = 0;
}

static void
job_free(struct job *j)
{
	conversation_free(&j->state);
	free(j);
}

static void
renew_fire(struct loop *l, void *arg)
{
	struct job *j = arg;
	struct worker *w = j->w;
	char *cause = NULL;
	j->renew_timer = 0;
	switch (store_claim_renew(w->st, j->conv, w->id, (int)w->o.lease_ms, &cause)) {
	case 1:
		/* Another worker has it: this turn's answer is not ours to store. */
		j->lost = 1;
		WARN(w, "conversation %lld: the claim was lost mid-turn (lease expired)",
		     (long long)j->conv);
		return;
	case -1:
		/* Try again: the lease may still hold until the next renewal. */
		WARN(w, "conversation %lld: renewing the claim: %s", (long long)j->conv, cause);
		free(cause);
		break;
	}
	j->renew_timer = loop_timer_add(l, w->o.lease_ms / 3, renew_fire, j);
}

static void
job_done(cJSON *turn, cJSON *events, void *arg)
{
	struct job *j = arg;
	struct worker *w = j->w;
	char *cause = NULL;
	if (w == NULL) {
		/* Released: the conversation is another worker's now. */
		cJSON_Delete(turn);
		cJSON_Delete(events);
		job_free(j);
		return;
	}
	job_unlink(w, j);
	if (j->lost) {
		w->stats.lost++;
		goto out;
	}
	ai_turn_divert(turn, events, &j->arm, &j->state, w->ag->triage);
	const struct ai_claim claim = {w->id, j->upto};
	int withheld = 0;
	switch (ai_turn_store(w->st, j->conv, &claim, turn, events, &withheld, NULL, &cause)) {
	case 0:
		w->stats.turns++;
		w->stats.withheld += withheld != 0;
		INFO(w, "conversation %lld: message %lld %s (turn %d)", (long long)j->conv,
		     (long long)j->upto,
		     withheld ? "withheld: a human has it"
		     : cJSON_IsObject(cJSON_GetObjectItem(turn, "handoff")) ? "handed off"
		                                                            : "answered",
		     j->state.turn);
		break;
	case 1:
		w->stats.lost++;
		WARN(w, "conversation %lld: the claim was lost mid-turn; the answer is dropped",
		     (long long)j->conv);
		break;
	default:
		/* The claim stays until its lease runs out: then it is tried again. */
		w->stats.errors++;
		WARN(w, "conversation %lld: the turn could not be stored: %s", (long long)j->conv,
		     cause);
		free(cause);
		break;
	}
out:
	cJSON_Delete(turn);
	cJSON_Delete(events);
	job_free(j);
	look_soon(w, 0);
}

/*
 * Starts the turn of a claimed conversation: its state from the store and
 * the first customer message the AI owes it (none: the claim is finished
 * at once). Returns 0, or -1 with *cause (the claim is kept until its
 * lease runs out, when it is tried again).
 */
static int
job_start(struct worker *w, const struct store_claim *cl, char **cause)
{
	cJSON *row = NULL, *events = NULL, *msg = NULL;
	int rc = ai_turn_claimed(w->st, w->id, cl, &msg, cause);
	if (rc <= 0)
		return rc;
	rc = -1;
	if (store_conversation_get(w->st, cl->conv, &row, cause) != 0 ||
	    store_events(w->st, cl->conv, &events, cause) != 0)
		goto out;
	if (row == NULL) {
		*cause = xstrdup("the conversation vanished from the store");
		goto out;
	}
	const char *customer = cJSON_GetStringValue(cJSON_GetObjectItem(row, "customer"));
	int t = names_find(tier_names, cJSON_GetStringValue(cJSON_GetObjectItem(row, "tier")));
	struct job *j = xcalloc(1, sizeof *j);
	j->w = w;
	j->conv = cl->conv;
	j->upto = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(msg, "id"));
	conversation_init(&j->state, customer ? customer : "?",
	                  t >= 0 ? (enum tier)t : TIER_STANDARD);
	ai_turn_restore(&j->state, &j->arm, events);
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(msg, "text"));
	char *why = NULL;
	if (ai_turn_prepare(w->st, j->conv, w->live, w->ag, &j->state, &j->arm, text ? text : "",
	                    &j->use, &why) != 0) {
		WARN(w, "conversation %lld: the rollout assignment could not be stored: %s",
		     (long long)j->conv, why);
		free(why);
	}
	j->next = w->jobs;
	w->jobs = j;
	w->busy++;
	j->renew_timer = loop_timer_add(w->loop, w->o.lease_ms / 3, renew_fire, j);
	/* With every agent offline job_done runs before this returns. */
	conversation_turn_start(&j->use, &j->state, text ? text : "", job_done, j);
	rc = 0;
out:
	cJSON_Delete(row);
	cJSON_Delete(events);
	cJSON_Delete(msg);
	return rc;
}

/* ------------------------------------------------------------ the queue */

static void
look(struct worker *w)
{
	if (w->looking)
		return;
	w->looking = 1;
	/* Offline turns end inside job_start: a batch a pass, then the loop. */
	for (int n = 0; !w->draining && w->busy < (size_t)w->o.concurrency; n++) {
		if (n == LOOK_BATCH) {
			look_soon(w, 0);
			break;
		}
		struct store_claim cl;
		char *cause = NULL;
		int rc = store_claim(w->st, w->id, (int)w->o.lease_ms, 0, &cl, &cause);
		if (rc == 0) {
			w->empty = 1;
			break;
		}
		if (rc < 0) {
			WARN(w, "the queue: %s", cause);
			free(cause);
			look_soon(w, RETRY_MS);
			break;
		}
		w->empty = 0;
		if (job_start(w, &cl, &cause) != 0) {
			w->stats.errors++;
			WARN(w, "conversation %lld: %s", (long long)cl.conv, cause);
			free(cause);
		}
	}
	w->looking = 0;
}

static void
on_notification(void *arg, const struct store_change *ch)
{
	(void)arg;
	(void)ch;
}

static void listen_fire(struct loop *, void *);

/* LISTENs and watches the store's connection; 0, or -1 with *cause. */
static int
listen_on(struct worker *w, char **cause)
{
	if (store_listen(w->st, STORE_CHANNEL_WORK, cause) != 0)
		return -1;
	w->notify_fd = store_notify_fd(w->st);
	return 0;
}

static void
on_notify(struct loop *l, int fd, int ready, void *arg)
{
	struct worker *w = arg;
	char *cause = NULL;
	(void)fd;
	(void)ready;
	int n = store_notifications(w->st, on_notification, w, &cause);
	if (n < 0) {
		/* The connection went: listen again on a new one, and look meanwhile. */
		WARN(w, "notifications: %s", cause);
		free(cause);
		loop_watch(l, w->notify_fd, 0, NULL, NULL);
		w->notify_fd = -1;
		w->listen_timer = loop_timer_add(l, RETRY_MS, listen_fire, w);
		return;
	}
	if (n > 0)
		look_soon(w, 0);
}

static void
watch_notify(struct worker *w)
{
	if (w->notify_fd >= 0)
		loop_watch(w->loop, w->notify_fd, LOOP_READ, on_notify, w);
}

static void
listen_fire(struct loop *l, void *arg)
{
	struct worker *w = arg;
	char *cause = NULL;
	w->listen_timer = 0;
	if (listen_on(w, &cause) != 0) {
		WARN(w, "listening for work: %s", cause);
		free(cause);
		w->listen_timer = loop_timer_add(l, RETRY_MS, listen_fire, w);
		return;
	}
	watch_notify(w);
	look_soon(w, 0);
}

int
worker_close_idle(struct worker *w, const char *before, char **cause)
{
	char at[64];
	int n = 0;
	if (before == NULL) {
		ending_idle_before(w->ag->policy->idle_close_minutes, at);
		before = at;
	}
	int rc = ending_close_idle(w->st, before, &n, cause);
	w->stats.closed += (uint64_t)n;
	if (n > 0)
		INFO(w, "%d idle conversation%s closed", n, n == 1 ? "" : "s");
	return rc;
}

/*
 * The periodic look: for claims left by a worker that died (their lease
 * runs out without a notification) and, without notifications, for
 * everything; now and then, for what the idle timeout closes.
 */
static void
sweep_fire(struct loop *l, void *arg)
{
	struct worker *w = arg;
	long every = w->notify_fd >= 0 ? w->o.lease_ms : w->o.poll_ms;
	w->sweep_timer = loop_timer_add(l, every, sweep_fire, w);
	time_t now = time(NULL);
	if (!w->draining && now - w->idle_look >= IDLE_LOOK_S) {
		char *cause = NULL;
		w->idle_look = now;
		if (worker_close_idle(w, NULL, &cause) != 0) {
			WARN(w, "the idle timeout: %s", cause);
			free(cause);
		}
	}
	/* Notifications read by a query meanwhile wait in the connection's buffer. */
	if (w->notify_fd >= 0)
		on_notify(l, w->notify_fd, LOOP_READ, w);
	look(w);
}

/* --------------------------------------------------------------- public */

struct worker *
worker_new(struct loop *l, struct store *st, const struct agents *ag, struct rollout_live *live,
           const struct worker_opts *o)
{
	struct worker *w = xcalloc(1, sizeof *w);
	w->loop = l;
	w->st = st;
	w->ag = ag;
	w->live = live;
	w->o = *o;
	w->id = xstrdup(o->id);
	w->o.id = w->id;
	if (w->o.lease_ms < 100)
		w->o.lease_ms = 100;
	if (w->o.concurrency < 1)
		w->o.concurrency = 1;
	if (w->o.poll_ms < 10)
		w->o.poll_ms = 1000;
	w->notify_fd = -1;
	return w;
}

int
worker_start(struct worker *w, char **cause)
{
	if (listen_on(w, cause) != 0)
		return -1;
	watch_notify(w);
	long every = w->notify_fd >= 0 ? w->o.lease_ms : w->o.poll_ms;
	w->sweep_timer = loop_timer_add(w->loop, every, sweep_fire, w);
	look_soon(w, 0);
	return 0;
}

void
worker_drain(struct worker *w)
{
	w->draining = 1;
}

size_t
worker_busy(const struct worker *w)
{
	return w->busy;
}

int
worker_idle(const struct worker *w)
{
	return w->busy == 0 && w->empty && w->look_timer == 0;
}

const struct worker_stats *
worker_stats(const struct worker *w)
{
	return &w->stats;
}

void
worker_release(struct worker *w)
{
	if (w == NULL)
		return;
	w->draining = 1;
	while (w->jobs != NULL) {
		struct job *j = w->jobs;
		char *cause = NULL;
		job_unlink(w, j);
		if (!j->lost && store_claim_release(w->st, j->conv, w->id, &cause) != 0) {
			WARN(w,
			     "conversation %lld: releasing the claim: %s (its lease will run out)",
			     (long long)j->conv, cause);
			free(cause);
		}
		j->w = NULL; /* freed when its turn ends */
	}
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	worker_release(w);
	if (w->notify_fd >= 0)
		loop_watch(w->loop, w->notify_fd, 0, NULL, NULL);
	if (w->look_timer != 0)
		loop_timer_del(w->loop, w->look_timer);
	if (w->sweep_timer != 0)
		loop_timer_del(w->loop, w->sweep_timer);
	if (w->listen_timer != 0)
		loop_timer_del(w->loop, w->listen_timer);
	free(w->id);
	free(w);
}
