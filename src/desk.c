/* desk.c -- the live conversations a console supervises. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ai-turn.h"
#include "conversation.h"
#include "desk.h"
#include "ending.h"
#include "handoff.h"
#include "http.h"
#include "loop.h"
#include "rollout.h"
#include "sse.h"
#include "triage.h"
#include "validate.h"

/* The longest reply text kept while it streams. */
#define STREAM_MAX (256 * 1024)
/* Closed conversations shown after a restart: those of the last day. */
#define RECENT_S (24 * 3600)
/* The lease of the desk's claims; renewed every third of it while a turn runs. */
#define LEASE_MS 30000
/* A failed claim or a lost connection is tried again this often. */
#define RETRY_MS 2000
/* The floor's stream is opened again this often (catching up each time). */
#define FLOOR_STREAM_MS (60L * 60 * 1000)
/* The idle timeout (lifecycle.idle_close_minutes) is looked at this often. */
#define IDLE_LOOK_S 60
/*
 * Others' changes are read a frame after the first of them is heard: a
 * burst to one conversation (a customer's message and the answer that
 * follows it within milliseconds, too) is one read.
 */
#define FRAME_MS 30

struct desk {
	struct agents ag; /* a copy: each conversation gets its own with its delta hook */
	struct store *st;
	struct desk_hooks hooks;
	struct desk_conv **convs; /* every conversation, in no order */
	size_t n, cap;
	struct desk_conv **byid; /* the same by id (open addressing, a power of two; NULL: free) */
	size_t capbyid;
	struct desk_conv **order; /* desk_list's answer */
	size_t busy;
	unsigned guests;
	struct rollout_live *rollout; /* NULL: no rollout, everything AI */

	char *worker;      /* the name of the desk's claims */
	struct loop *loop; /* NULL until desk_attach */
	long poll_ms;      /* SQLite: the open conversations are looked at this often */
	int notify_fd;     /* watched, or -1 */
	uint64_t claim_timer, poll_timer, listen_timer, drain_timer, frame_timer;
	int64_t *dirty; /* conversations notified, not read again yet */
	size_t ndirty, capdirty;
	int draining;
	int unseen_writes; /* the desk's commits now are not in its conversations: read them back */
	int64_t shown;     /* the conversation on screen (desk_show), 0 for none */
	time_t idle_look;  /* when the idle timeout was last looked at */

	/* The floor's relay (desk_attach_floor): others' changes as data, not notifications. */
	struct http_client *http; /* NULL: not relayed */
	char *floor_url, *floor_auth;
	uint64_t floor_req, floor_timer;
	int floor_live; /* the stream's first bytes came: what it missed was read */
	struct sse floor_sse;
};

static const char *const handler_names[] = {"ai", "waiting", "human", "resolved", NULL};

const char *
handler_name(enum handler h)
{
	return h < HANDLER__N ? handler_names[h] : "?";
}

/* ------------------------------------------------------------- helpers */

/* Seconds since the epoch of a stored ISO-8601 time; now when it does not parse. */
static time_t
iso_time(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	return end ? timegm(&tm) : time(NULL);
}

time_t
desk_now(void)
{
	char now[64];
	store_now(now);
	return iso_time(now);
}

static void drain_soon(struct desk *);
static void on_own_commit(void *, const struct store_change *);

static void
changed(struct desk *d, struct desk_conv *c)
{
	c->seq++;
	if (d->hooks.changed)
		d->hooks.changed(d->hooks.arg, c);
	/* The store calls behind a change may have read notifications the fd will not show. */
	drain_soon(d);
}

static void
msg_add(struct desk_conv *c, const char *role, const char *text, time_t at, int64_t id)
{
	if (c->nmsgs == c->capmsgs) {
		c->capmsgs = c->capmsgs ? c->capmsgs * 2 : 8;
		c->msgs = xreallocarray(c->msgs, c->capmsgs, sizeof *c->msgs);
	}
	c->msgs[c->nmsgs++] = (struct desk_msg){xstrdup(role), xstrdup(text), at, id};
	if (strcmp(role, "note") != 0)
		c->last = at;
}

static void note(struct desk_conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
note(struct desk_conv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	msg_add(c, "note", s, desk_now(), 0);
	free(s);
}

/* What the supervisor reads in the chat pane for an event, or NULL for none (caller frees). */
static char *
event_note(const char *kind, const cJSON *payload)
{
	const char *by = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "by"));
	if (kind == NULL)
		return NULL;
	if (strcmp(kind, "handoff") == 0) {
		const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "reason"));
		return xasprintf("handed off: %s", r ? r : "escalation");
	}
	if (strcmp(kind, "takeover") == 0)
		return xasprintf("%s took over", by ? by : "a human");
	if (strcmp(kind, "handback") == 0)
		return xstrdup("handed back to the AI");
	if (strcmp(kind, "withheld") == 0)
		return xstrdup("the AI's answer was withheld: a human took over");
	if (strcmp(kind, "left") == 0)
		return xstrdup("the customer left");
	if (strcmp(kind, "csat") == 0) {
		const cJSON *sc = cJSON_GetObjectItem(payload, "score");
		return xasprintf("the customer rated it %d/5",
		                 cJSON_IsNumber(sc) ? sc->valueint : 0);
	}
	if (strcmp(kind, "ending") == 0) {
		const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "ending"));
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "reason"));
		if (by == NULL)
			by = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "closed_by"));
		return xasprintf("ended %s (%s; closed by %s)", e ? e : "?", why ? why : "?",
		                 by ? by : "?");
	}
	if (strcmp(kind, "outcome") == 0) {
		const char *o = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "outcome"));
		const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "path"));
		return xasprintf("%s by %s", o ? o : "closed", by ? by : path ? path : "?");
	}
	if (strcmp(kind, "validation") == 0 &&
	    cJSON_IsTrue(cJSON_GetObjectItem(payload, "overridden"))) {
		int n = cJSON_GetArraySize(cJSON_GetObjectItem(payload, "violations"));
		return xasprintf("%s sent a reply despite %d guardrail warning%s",
		                 by ? by : "a human", n, n == 1 ? "" : "s");
	}
	return NULL;
}

static void
note_event(struct desk_conv *c, const char *kind, const cJSON *payload, time_t at)
{
	char *s = event_note(kind, payload);
	if (s != NULL)
		msg_add(c, "note", s, at, 0);
	free(s);
}

static void
set_json(cJSON **slot, const cJSON *v)
{
	cJSON_Delete(*slot);
	*slot = v ? cJSON_Duplicate(v, 1) : NULL;
}

static void
set_error(struct desk_conv *c, const char *cause)
{
	free(c->error);
	c->error = cause ? xstrdup(cause) : NULL;
}

/* Takes in what an event says about the panels. */
static void
absorb_event(struct desk_conv *c, const char *kind, const cJSON *payload)
{
	if (kind == NULL)
		return;
	if (strcmp(kind, "triage") == 0) {
		set_json(&c->triage, payload);
		const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "sentiment"));
		strv_add(&c->sentiments, s ? s : "neutral");
		int u = names_find(urgency_names,
		                   cJSON_GetStringValue(cJSON_GetObjectItem(payload, "urgency")));
		if (u >= 0)
			c->urgency = (enum urgency)u;
	} else if (strcmp(kind, "retrieval") == 0)
		set_json(&c->knowledge, payload);
	else if (strcmp(kind, "escalation") == 0)
		set_json(&c->escalation, payload);
	else if (strcmp(kind, "validation") == 0)
		set_json(&c->validation, payload);
	else if (strcmp(kind, "handoff") == 0)
		set_json(&c->packet, payload);
}

static void conv_free(struct desk_conv *);
static void turn_start(struct desk *, struct desk_conv *, const char *text);

static void
on_delta(void *arg, const char *text, size_t len)
{
	struct desk_conv *c = arg;
	if (c->desk == NULL)
		return; /* orphaned by desk_close */
	buf_add(&c->stream, text, len);
	changed(c->desk, c);
}

static size_t
index_slot(const struct desk *d, int64_t id)
{
	size_t k = (size_t)hash_fnv1a(&id, sizeof id) & (d->capbyid - 1);
	while (d->byid[k] != NULL && d->byid[k]->id != id)
		k = (k + 1) & (d->capbyid - 1);
	return k;
}

/* Every conversation in byid again, at twice the conversations' count at least. */
static void
index_rebuild(struct desk *d)
{
	size_t cap = 64;
	while (cap < 2 * (d->n + 1))
		cap *= 2;
	free(d->byid);
	d->byid = xcalloc(cap, sizeof *d->byid);
	d->capbyid = cap;
	for (size_t i = 0; i < d->n; i++)
		d->byid[index_slot(d, d->convs[i]->id)] = d->convs[i];
}

/* Notifications name conversations by id: found without a walk through all of them. */
static void
index_add(struct desk *d, struct desk_conv *c)
{
	if (2 * d->n > d->capbyid)
		index_rebuild(d);
	else
		d->byid[index_slot(d, c->id)] = c;
}

static struct desk_conv *
conv_new(struct desk *d, int64_t id, const char *customer_id, const char *name, enum tier tier)
{
	struct desk_conv *c = xcalloc(1, sizeof *c);
	c->desk = d;
	c->id = id;
	c->customer_id = xstrdup(customer_id);
	c->name = name ? xstrdup(name) : NULL;
	c->tier = tier;
	c->urgency = URG_NORMAL;
	c->since = c->last = desk_now();
	buf_init(&c->stream, STREAM_MAX);
	conversation_init(&c->conv, customer_id, tier);
	c->ag = d->ag;
	c->ag.on_delta = on_delta;
	c->ag.delta_arg = c;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->convs = xreallocarray(d->convs, d->cap, sizeof *d->convs);
	}
	d->convs[d->n++] = c;
	index_add(d, c);
	return c;
}

static void
conv_free(struct desk_conv *c)
{
	for (size_t i = 0; i < c->nmsgs; i++) {
		free(c->msgs[i].role);
		free(c->msgs[i].text);
	}
	free(c->msgs);
	cJSON_Delete(c->triage);
	cJSON_Delete(c->knowledge);
	cJSON_Delete(c->escalation);
	cJSON_Delete(c->validation);
	cJSON_Delete(c->packet);
	cJSON_Delete(c->tools);
	strv_free(&c->sentiments);
	buf_free(&c->stream);
	conversation_free(&c->conv);
	free(c->mine);
	free(c->customer_id);
	free(c->name);
	free(c->owner);
	free(c->error);
	free(c);
}

/* The customer's conversation that is not resolved, or NULL. */
static struct desk_conv *
live_of(struct desk *d, const char *customer_id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->convs[i]->handler != HANDLER_RESOLVED &&
		    strcmp(d->convs[i]->customer_id, customer_id) == 0)
			return d->convs[i];
	return NULL;
}

/* --------------------------------------------------------------- store */

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Whether the desk has message id. */
static int
has_msg(const struct desk_conv *c, int64_t id)
{
	for (size_t i = c->nmsgs; i-- > 0;)
		if (c->msgs[i].id == id)
			return 1;
	return 0;
}

/* Whether event id is one the desk wrote itself (and so has). */
static int
is_mine(const struct desk_conv *c, int64_t id)
{
	for (size_t i = 0; i < c->nmine; i++)
		if (id >= c->mine[i].first && id <= c->mine[i].last)
			return 1;
	return 0;
}

/* Forgets the desk's own events once what it has read goes past them. */
static void
mine_prune(struct desk_conv *c)
{
	size_t k = 0;
	for (size_t i = 0; i < c->nmine; i++)
		if (c->mine[i].last > c->event_seen)
			c->mine[k++] = c->mine[i];
	c->nmine = k;
}

/* Whether the payloads of kind are the panels' (DESK_PANEL_KINDS). */
static int
panel_kind(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;
	for (const char *p = DESK_PANEL_KINDS; n > 0 && (p = strstr(p, kind)) != NULL; p += n)
		if (p[-1] == ',' && p[n] == ',')
			return 1;
	return 0;
}

/*
 * Takes in messages and events read from the store (rows of
 * store_conversation_since, in order), merged in time order: the messages
 * it does not have, the events others wrote (its own it took in when it
 * wrote them), the panels, the notes. full: the events came with every
 * payload (else DESK_PANEL_KINDS' were left out: their panels wait for
 * conv_fill), and the conversation's state is restored. With deliver,
 * what others said to the customer goes to the deliver hook. Moves
 * msg_seen and event_seen on. Returns 1 when something was new.
 */
static int
conv_absorb(struct desk *d, struct desk_conv *c, const cJSON *msgs, const cJSON *events, int full,
            int deliver)
{
	const cJSON *m = msgs ? msgs->child : NULL, *e = events ? events->child : NULL;
	int news = 0, filled = c->full_seen >= c->event_seen;
	int64_t had = c->event_seen; /* a relay may send again what was read */
	while (m != NULL || e != NULL) {
		const char *mat = m ? cJSON_GetStringValue(cJSON_GetObjectItem(m, "at")) : NULL;
		const char *eat = e ? cJSON_GetStringValue(cJSON_GetObjectItem(e, "at")) : NULL;
		if (m != NULL && (e == NULL || strcmp(mat ? mat : "", eat ? eat : "") <= 0)) {
			const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
			const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(m, "text"));
			int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id"));
			m = m->next;
			if (id > c->msg_seen)
				c->msg_seen = id;
			if (has_msg(c, id))
				continue;
			msg_add(c, role ? role : "customer", text ? text : "", iso_time(mat), id);
			news = 1;
			if (deliver && d->hooks.deliver && role != NULL &&
			    strcmp(role, "customer") != 0)
				d->hooks.deliver(d->hooks.arg, c, role, text ? text : "");
			continue;
		}
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "id"));
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
		const cJSON *payload = cJSON_GetObjectItem(e, "payload");
		e = e->next;
		if (id <= had)
			continue;
		if (id > c->event_seen)
			c->event_seen = id;
		if (is_mine(c, id))
			continue;
		if (!full && panel_kind(kind)) {
			filled = 0; /* conv_fill reads it */
			continue;
		}
		absorb_event(c, kind, payload);
		note_event(c, kind, payload, iso_time(eat));
		news = 1;
		/* Time waiting counts from the latest change of hands. */
		if (kind != NULL &&
		    (strcmp(kind, "handoff") == 0 || strcmp(kind, "takeover") == 0 ||
		     strcmp(kind, "handback") == 0 || strcmp(kind, "ending") == 0))
			c->since = iso_time(eat);
	}
	if (full)
		ai_turn_restore(&c->conv, &c->arm, events);
	if (filled)
		c->full_seen = c->event_seen;
	mine_prune(c);
	return news;
}

/*
 * Reads the panels' payloads (DESK_PANEL_KINDS) a conversation read without
 * them, and restores its state: before it is shown, or answered, or acted
 * on. Returns 0 or -1 with *cause.
 */
static int
conv_fill(struct desk *d, struct desk_conv *c, char **cause)
{
	cJSON *msgs, *events;
	if (c->full_seen >= c->event_seen)
		return 0;
	if (store_conversation_since(d->st, c->id, INT64_MAX, c->full_seen, NULL, &msgs, &events,
	                             cause) != 0)
		return -1;
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "id"));
		if (panel_kind(kind))
			absorb_event(c, kind, cJSON_GetObjectItem(e, "payload"));
		if (id > c->full_seen)
			c->full_seen = id;
	}
	ai_turn_restore(&c->conv, &c->arm, events);
	cJSON_Delete(msgs);
	cJSON_Delete(events);
	changed(d, c);
	return 0;
}

/* Whether the desk reads a conversation's events whole: it shows it, or answers it. */
static int
conv_full(const struct desk *d, const struct desk_conv *c)
{
	return c->id == d->shown || c->client != NULL || c->demo != NULL || c->busy;
}

/* The role of the latest message (notes aside), or "". */
static const char *
last_said(const struct desk_conv *c)
{
	for (size_t i = c->nmsgs; i-- > 0;)
		if (strcmp(c->msgs[i].role, "note") != 0)
			return c->msgs[i].role;
	return "";
}

/* Who has the conversation, from a row of store_conversation_list. */
static enum handler
row_handler(const cJSON *row)
{
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(row, "state"));
	int h =
	    names_find(handler_names, cJSON_GetStringValue(cJSON_GetObjectItem(row, "handler")));
	return state != NULL && strcmp(state, "open") != 0 ? HANDLER_RESOLVED
	       : h >= 0                                    ? (enum handler)h
	                                                   : HANDLER_AI;
}

/* Takes the handler and the owner from a row. */
static void
row_hands(struct desk_conv *c, const cJSON *row)
{
	const char *owner = cJSON_GetStringValue(cJSON_GetObjectItem(row, "owner"));
	c->handler = row_handler(row);
	free(c->owner);
	c->owner = owner ? xstrdup(owner) : NULL;
}

/* Whether the row says the same as the desk about who has the conversation. */
static int
row_same(const struct desk_conv *c, const cJSON *row)
{
	const char *owner = cJSON_GetStringValue(cJSON_GetObjectItem(row, "owner"));
	enum handler h = row_handler(row);
	return h == c->handler &&
	       (owner == NULL ? c->owner == NULL
	                      : c->owner != NULL && strcmp(owner, c->owner) == 0);
}

/*
 * A conversation from a row of store_conversation_list, and all it has
 * stored (full: with the panels' payloads too): given in msgs and events
 * (without the panels' payloads) when both are non-NULL, else read.
 */
static struct desk_conv *
conv_from_row(struct desk *d, const cJSON *row, int full, const cJSON *given_msgs,
              const cJSON *given_events, char **cause)
{
	const char *customer = cJSON_GetStringValue(cJSON_GetObjectItem(row, "customer"));
	int t = names_find(tier_names, cJSON_GetStringValue(cJSON_GetObjectItem(row, "tier")));
	struct desk_conv *c = conv_new(
	    d, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id")),
	    customer ? customer : "?", cJSON_GetStringValue(cJSON_GetObjectItem(row, "name")),
	    t >= 0 ? (enum tier)t : TIER_STANDARD);
	row_hands(c, row);
	c->since = iso_time(cJSON_GetStringValue(cJSON_GetObjectItem(row, "created")));
	cJSON *msgs = NULL, *events = NULL;
	if (given_msgs != NULL && given_events != NULL)
		full = 0;
	else if (store_conversation_since(d->st, c->id, 0, 0, full ? NULL : DESK_PANEL_KINDS, &msgs,
	                                  &events, cause) != 0) {
		d->n--;
		index_rebuild(d);
		conv_free(c);
		return NULL;
	}
	conv_absorb(d, c, msgs ? msgs : given_msgs, events ? events : given_events, full, 0);
	/* The AI's, with the customer's message last: waiting for its turn. */
	c->pending = c->handler == HANDLER_AI && strcmp(last_said(c), "customer") == 0;
	cJSON_Delete(msgs);
	cJSON_Delete(events);
	return c;
}

/* ---------------------------------------------------------------- turns */

/*
 * The AI answers the next pending message, if it still has the
 * conversation and can claim it: a conversation claimed elsewhere (a
 * worker answering it, a console stopped mid-turn whose lease has not run
 * out) is tried again from the loop.
 */
static void
next_turn(struct desk *d, struct desk_conv *c)
{
	if (c->busy || c->handler != HANDLER_AI || !c->pending)
		return;
	struct store_claim cl;
	cJSON *msg = NULL;
	char *cause = NULL;
	/* The turn goes on from the conversation's state: its panels' payloads, read in. */
	int rc = conv_fill(d, c, &cause) == 0
	             ? store_claim(d->st, d->worker, LEASE_MS, c->id, &cl, &cause)
	             : -1;
	if (rc == 0) {
		c->retry = 1;
		return;
	}
	if (rc == 1)
		rc = ai_turn_claimed(d->st, d->worker, &cl, &msg, &cause);
	if (rc < 0) {
		c->retry = 1;
		set_error(c, cause);
		note(c, "the AI could not take its turn: %s", cause);
		free(cause);
		changed(d, c);
		return;
	}
	c->retry = 0;
	c->pending = 0;
	if (rc == 0)
		return; /* nothing left to answer */
	c->upto = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(msg, "id"));
	/* Messages after this one wait for the next turn. */
	c->pending = cl.upto > c->upto;
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(msg, "text"));
	turn_start(d, c, text ? text : "");
	cJSON_Delete(msg);
}

static void
turn_done(cJSON *turn, cJSON *events, void *arg)
{
	struct desk_conv *c = arg;
	struct desk *d = c->desk;
	char *cause = NULL;
	if (d == NULL) {
		/* The desk closed while this turn was in flight: nobody to tell. */
		cJSON_Delete(turn);
		cJSON_Delete(events);
		conv_free(c);
		return;
	}
	c->busy = 0;
	d->busy--;
	buf_reset(&c->stream);

	/* The human arm's first turn: the AI's answer is a shadow, a human gets it. */
	ai_turn_divert(turn, events, &c->arm, &c->conv, d->ag.triage);
	/* A human took over meanwhile: keep the record, send nothing. */
	int withheld = c->withheld, known = c->withheld;
	const struct ai_claim claim = {d->worker, c->upto};
	int64_t reply_id = 0;
	c->withheld = 0;
	int rc = ai_turn_store(d->st, c->id, &claim, turn, events, &withheld, &reply_id, &cause);
	if (rc == 1) {
		/* The lease ran out and another answerer has it: its answer counts. */
		note(c, "the AI's answer was dropped: the conversation was claimed elsewhere");
		c->want = STORE_CHANGE_ANY;
		changed(d, c);
		goto out;
	}
	if (rc != 0) {
		/* The customer's message is stored; the answer is not: tried again later. */
		c->pending = c->retry = 1;
		set_error(c, cause);
		note(c, "the AI's answer could not be stored: %s", cause);
		free(cause);
		changed(d, c);
		goto out;
	}
	set_error(c, NULL);
	/* Withheld by the store: the conversation changed hands elsewhere. */
	if (withheld && !known)
		c->want = STORE_CHANGE_ANY;
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		absorb_event(c, cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")),
		             cJSON_GetObjectItem(e, "payload"));
	}
	set_json(&c->tools, cJSON_GetObjectItem(turn, "tools"));
	if (withheld) {
		note_event(c, "withheld", NULL, desk_now());
		changed(d, c);
		goto out;
	}
	const char *reply = ai_turn_reply(turn);
	const cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	time_t now = desk_now();
	if (reply != NULL) {
		msg_add(c, "ai", reply, now, reply_id);
		if (d->hooks.deliver)
			d->hooks.deliver(d->hooks.arg, c, "ai", reply);
	}
	if (cJSON_IsObject(h)) {
		c->handoff_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "id"));
		c->handler = HANDLER_WAITING;
		c->since = now;
		note_event(c, "handoff", h, now);
		if (d->hooks.handler)
			d->hooks.handler(d->hooks.arg, c);
	}
	changed(d, c);
out:
	cJSON_Delete(turn);
	cJSON_Delete(events);
	/* What others changed during the turn, read now that it is over. */
	if (c->want != 0) {
		if (desk_refresh(d, c->id, &cause) != 0) {
			set_error(c, cause);
			free(cause);
		}
	}
	next_turn(d, c);
}

static void
turn_start(struct desk *d, struct desk_conv *c, const char *text)
{
	c->busy = 1;
	d->busy++;
	/* The desk's agents now (the policy may have been reloaded), with this conversation's
	 * hooks. */
	struct agents base = c->ag;
	base.policy = d->ag.policy;
	base.fresh = d->ag.fresh;
	base.triage = d->ag.triage;
	char *cause = NULL;
	if (ai_turn_prepare(d->st, c->id, d->rollout, &base, &c->conv, &c->arm, text, &c->ag,
	                    &cause) != 0) {
		note(c, "the rollout assignment could not be stored: %s", cause);
		free(cause);
	}
	changed(d, c);
	/* With every agent offline turn_done runs before this returns. */
	conversation_turn_start(&c->ag, &c->conv, text, turn_done, c);
}

/* --------------------------------------------------------------- public */

struct desk *
desk_open(const struct agents *ag, struct store *st, const struct desk_hooks *hooks, char **cause)
{
	static unsigned seq;
	struct desk *d = xcalloc(1, sizeof *d);
	d->ag = *ag;
	d->st = st;
	if (hooks)
		d->hooks = *hooks;
	d->notify_fd = -1;
	store_on_commit(st, on_own_commit, d);
	char host[256] = "localhost";
	if (gethostname(host, sizeof host - 1) != 0)
		strcpy(host, "localhost");
	d->worker = xasprintf("console:%s:%ld:%u", host, (long)getpid(), ++seq);

	char since[64];
	time_t t = desk_now() - RECENT_S;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S", &tm);
	cJSON *rows;
	if (store_conversation_list(st, since, &rows, cause) != 0) {
		store_on_commit(st, NULL, NULL);
		free(d->worker);
		free(d);
		return NULL;
	}
	const cJSON *row;
	cJSON_ArrayForEach(row, rows)
	{
		if (conv_from_row(d, row, 1, NULL, NULL, cause) == NULL) {
			cJSON_Delete(rows);
			desk_close(d);
			return NULL;
		}
	}
	cJSON_Delete(rows);
	/* Where the last console stopped: unanswered messages get their turn. */
	for (size_t i = 0; i < d->n; i++)
		next_turn(d, d->convs[i]);
	return d;
}

void
desk_close(struct desk *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct desk_conv *c = d->convs[i];
		if (c->busy) {
			/* Abandoned: another answerer may take its message at once. */
			char *cause = NULL;
			if (store_claim_release(d->st, c->id, d->worker, &cause) != 0)
				free(cause); /* its lease runs out instead */
			c->desk = NULL;      /* freed when its turn ends */
		} else
			conv_free(c);
	}
	if (d->loop != NULL) {
		if (d->notify_fd >= 0)
			loop_watch(d->loop, d->notify_fd, 0, NULL, NULL);
		uint64_t timers[] = {d->claim_timer, d->poll_timer,  d->listen_timer,
		                     d->drain_timer, d->frame_timer, d->floor_timer};
		for (size_t i = 0; i < nitems(timers); i++)
			if (timers[i] != 0)
				loop_timer_del(d->loop, timers[i]);
	}
	store_on_commit(d->st, NULL, NULL);
	if (d->http != NULL) {
		http_client_free(d->http); /* the stream is cancelled */
		sse_close(&d->floor_sse);
		explicit_bzero(d->floor_auth, strlen(d->floor_auth));
	}
	free(d->floor_url);
	free(d->floor_auth);
	free(d->convs);
	free(d->byid);
	free(d->order);
	free(d->dirty);
	free(d->worker);
	free(d);
}

void
desk_set_policy(struct desk *d, const struct policy *p)
{
	d->ag.policy = p;
	d->ag.fresh.stale_after_days = p->stale_after_days;
	d->ag.fresh.volatile_topics = p->volatile_topics;
}

void
desk_set_rollout(struct desk *d, struct rollout_live *r)
{
	d->rollout = r;
}

static int
handler_rank(enum handler h)
{
	static const int rank[HANDLER__N] = {
	    [HANDLER_WAITING] = 0, [HANDLER_HUMAN] = 1, [HANDLER_AI] = 2, [HANDLER_RESOLVED] = 3};
	return rank[h];
}

static int
queue_cmp(const void *a, const void *b)
{
	const struct desk_conv *x = *(struct desk_conv *const *)a,
	                       *y = *(struct desk_conv *const *)b;
	int rx = handler_rank(x->handler), ry = handler_rank(y->handler);
	if (rx != ry)
		return rx - ry;
	if (x->handler == HANDLER_RESOLVED) /* latest first */
		return x->since != y->since ? (x->since < y->since ? 1 : -1)
		                            : (x->id < y->id ? 1 : -1);
	if (x->urgency != y->urgency)
		return (int)x->urgency - (int)y->urgency;
	if (x->since != y->since)
		return x->since < y->since ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct desk_conv **
desk_list(struct desk *d, size_t *n)
{
	free(d->order);
	d->order = xmalloc((d->n ? d->n : 1) * sizeof *d->order);
	if (d->n > 0)
		memcpy(d->order, d->convs, d->n * sizeof *d->order);
	qsort(d->order, d->n, sizeof *d->order, queue_cmp);
	*n = d->n;
	return d->order;
}

struct desk_conv *
desk_find(struct desk *d, int64_t id)
{
	return d->capbyid > 0 ? d->byid[index_slot(d, id)] : NULL;
}

size_t
desk_busy(const struct desk *d)
{
	return d->busy;
}

size_t
desk_count(const struct desk *d, enum handler h)
{
	size_t k = 0;
	for (size_t i = 0; i < d->n; i++)
		k += d->convs[i]->handler == h;
	return k;
}

struct desk_conv *
desk_join(struct desk *d, const char *customer_id, const char *name, enum tier tier, int tier_given,
          char **cause)
{
	char *guest = NULL;
	if (customer_id == NULL)
		customer_id = guest =
		    xasprintf("guest-%ld-%ld-%u", (long)time(NULL), (long)getpid(), ++d->guests);
	struct desk_conv *c = live_of(d, customer_id);
	if (c != NULL && c->client != NULL) {
		*cause = xasprintf("customer %s is already connected", customer_id);
		free(guest);
		return NULL;
	}
	if (store_customer_put(d->st, customer_id, name, NULL, tier_given ? tier : TIER__N,
	                       cause) != 0) {
		free(guest);
		return NULL;
	}
	if (c == NULL) {
		/* Opened now, or by another process (frontline chat) since the desk opened. */
		int64_t id;
		cJSON *row = NULL;
		if (store_conversation_open(d->st, customer_id, &id, NULL, cause) != 0 ||
		    store_conversation_get(d->st, id, &row, cause) != 0) {
			free(guest);
			return NULL;
		}
		c = row ? conv_from_row(d, row, 1, NULL, NULL, cause) : NULL;
		if (row == NULL)
			*cause =
			    xasprintf("conversation %lld vanished from the store", (long long)id);
		cJSON_Delete(row);
		if (c == NULL) {
			free(guest);
			return NULL;
		}
		c->since = desk_now();
	} else {
		if (name != NULL && (c->name == NULL || strcmp(c->name, name) != 0)) {
			free(c->name);
			c->name = xstrdup(name);
		}
		if (tier_given)
			c->tier = c->conv.tier = tier;
	}
	free(guest);
	changed(d, c);
	next_turn(d, c);
	return c;
}

int
desk_say(struct desk *d, struct desk_conv **cv, const char *text, char **cause)
{
	struct desk_conv *c = *cv;
	if (c->handler == HANDLER_RESOLVED) {
		/* The customer writes again: a new conversation. */
		void *client = c->client, *demo = c->demo;
		c->client = c->demo = NULL;
		struct desk_conv *n = desk_join(d, c->customer_id, NULL, c->tier, 0, cause);
		if (n == NULL) {
			c->client = client;
			c->demo = demo;
			return -1;
		}
		n->client = client;
		n->demo = demo;
		changed(d, c);
		*cv = c = n;
	}
	int64_t id;
	if (store_message_add(d->st, c->id, "customer", text, &id, cause) != 0)
		return -1;
	msg_add(c, "customer", text, desk_now(), id);
	if (c->handler == HANDLER_AI) {
		c->pending = 1;
		next_turn(d, c);
	}
	changed(d, c);
	return 0;
}

/*
 * Closes the conversation in the store with its ending (ending.h), and
 * here. Returns 0, 1 when it was closed already (elsewhere: read again),
 * -1 with *cause.
 */
static int
close_with(struct desk *d, struct desk_conv *c, const struct ending_close *how, char **cause)
{
	cJSON *fact = NULL;
	int rc = ending_close(d->st, c->id, how, NULL, &fact, cause);
	if (rc == 1) {
		char *why = NULL;
		if (desk_refresh(d, c->id, &why) != 0)
			free(why);
		*cause = xasprintf("conversation %lld is closed already", (long long)c->id);
		return 1;
	}
	if (rc != 0)
		return -1;
	note_event(c, "ending", fact, desk_now());
	cJSON_Delete(fact);
	c->handler = HANDLER_RESOLVED;
	c->since = desk_now();
	c->pending = 0;
	if (d->hooks.handler)
		d->hooks.handler(d->hooks.arg, c);
	changed(d, c);
	return 0;
}

void
desk_leave(struct desk *d, struct desk_conv *c)
{
	char *cause = NULL;
	c->client = NULL;
	c->demo = NULL;
	if (store_event_add(d->st, c->id, "left", NULL, &cause) == 0)
		note_event(c, "left", NULL, desk_now());
	else {
		set_error(c, cause);
		free(cause);
		cause = NULL;
	}
	/* A human's conversation stays theirs to close; the AI's, or one in the queue, ends. */
	if (c->handler == HANDLER_AI || c->handler == HANDLER_WAITING) {
		if (c->busy)
			c->withheld = 1;
		const struct ending_close how = {.closed_by = "customer-left"};
		if (close_with(d, c, &how, &cause) < 0)
			set_error(c, cause);
		free(cause);
	}
	changed(d, c);
}

/* The latest customer message, or "". */
static const char *
last_customer(const struct desk_conv *c)
{
	for (size_t i = c->nmsgs; i-- > 0;)
		if (strcmp(c->msgs[i].role, "customer") == 0)
			return c->msgs[i].text;
	return "";
}

int
desk_takeover(struct desk *d, struct desk_conv *c, const char *who, char **cause)
{
	if (c->handler == HANDLER_HUMAN && c->owner != NULL && strcmp(c->owner, who) != 0) {
		*cause = xasprintf("conversation %lld is already taken over by %s",
		                   (long long)c->id, c->owner);
		return -1;
	}
	if (c->handler == HANDLER_RESOLVED || c->handler == HANDLER_HUMAN) {
		*cause = xasprintf("conversation %lld is %s", (long long)c->id,
		                   c->handler == HANDLER_HUMAN ? "already taken over" : "resolved");
		return -1;
	}
	/* The packet is written from the conversation's state. */
	if (conv_fill(d, c, cause) != 0)
		return -1;
	cJSON *packet = NULL;
	if (c->handler == HANDLER_AI) {
		/* Taken from the AI: the human still gets a packet to read first. */
		struct triage_result t;
		const char *text = last_customer(c);
		triage_run(d->ag.triage, text, strlen(text), c->tier, &t);
		packet = handoff_build(&c->conv, &t, "supervisor-takeover", "human-queue-standard");
		triage_result_free(&t);
	}
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "by", who);
	cJSON_AddStringToObject(ev, "from", handler_name(c->handler));
	int64_t hid = 0;
	if (store_begin(d->st, cause) != 0)
		goto fail;
	/* First, atomically: another supervisor may have it (elsewhere, unknown here yet). */
	int taken = store_conversation_take(d->st, c->id, who, cause);
	if (taken != 0 ||
	    (packet != NULL && (store_handoff_add(d->st, c->id, packet, &hid, cause) != 0 ||
	                        store_event_add(d->st, c->id, "handoff", packet, cause) != 0)) ||
	    store_event_add(d->st, c->id, "takeover", ev, cause) != 0 ||
	    store_commit(d->st, cause) != 0) {
		store_rollback(d->st);
		if (taken == 1) {
			/* Lost to another supervisor: the screen shows who has it. */
			char *why = NULL;
			if (desk_refresh(d, c->id, &why) != 0)
				free(why);
		}
		goto fail;
	}
	if (packet != NULL)
		note_event(c, "handoff", packet, desk_now());
	note_event(c, "takeover", ev, desk_now());
	cJSON_Delete(ev);
	if (packet != NULL) {
		cJSON_AddNumberToObject(packet, "id", (double)hid);
		cJSON_Delete(c->packet);
		c->packet = packet;
		c->handoff_id = hid;
	}
	if (c->busy)
		c->withheld = 1;
	c->pending = 0;
	c->handler = HANDLER_HUMAN;
	free(c->owner);
	c->owner = xstrdup(who);
	c->since = desk_now();
	if (d->hooks.handler)
		d->hooks.handler(d->hooks.arg, c);
	changed(d, c);
	return 0;
fail:
	cJSON_Delete(ev);
	cJSON_Delete(packet);
	return -1;
}

/* Adds the strings of a JSON array's objects' fields to v. */
static void
knowledge_text(const cJSON *hits, struct strv *v)
{
	const cJSON *h;
	cJSON_ArrayForEach(h, hits)
	{
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(h, "title"));
		const char *x = cJSON_GetStringValue(cJSON_GetObjectItem(h, "content"));
		if (t)
			strv_add(v, t);
		if (x)
			strv_add(v, x);
	}
}

int
desk_human_say(struct desk *d, struct desk_conv *c, const char *text, int override,
               cJSON **validation, char **cause)
{
	*validation = NULL;
	if (c->handler != HANDLER_HUMAN) {
		*cause = xasprintf("conversation %lld is not taken over", (long long)c->id);
		return -1;
	}
	/* Checked against what the conversation retrieved: its panels, read in. */
	if (conv_fill(d, c, cause) != 0)
		return -1;
	/* The same checks as the AI's replies, grounded in what the conversation retrieved. */
	struct strv knowledge = {0}, allowed = {0};
	knowledge_text(c->knowledge, &knowledge);
	for (size_t i = 0; i < c->nmsgs; i++)
		if (strcmp(c->msgs[i].role, "customer") == 0)
			strv_add(&allowed, c->msgs[i].text);
	cJSON *results = cJSON_CreateArray();
	const cJSON *t;
	cJSON_ArrayForEach(t, c->tools)
	{
		const cJSON *r = cJSON_GetObjectItem(t, "result");
		if (r)
			cJSON_AddItemToArray(results, cJSON_Duplicate(r, 1));
	}
	struct validation_context vc = {.knowledge = &knowledge,
	                                .tool_results = results,
	                                .customer_ids = &c->conv.ids,
	                                .allowed_text = &allowed};
	struct validation val;
	validate_reply(d->ag.policy, text, &vc, &val);
	*validation = validation_json(&val);
	int passed = val.passed;
	validation_free(&val);
	strv_free(&knowledge);
	strv_free(&allowed);
	cJSON_Delete(results);
	if (!passed && !override)
		return 1;

	cJSON *ev = cJSON_Duplicate(*validation, 1);
	cJSON_AddStringToObject(ev, "by", c->owner ? c->owner : "human");
	if (!passed)
		cJSON_AddBoolToObject(ev, "overridden", 1);
	int64_t id = 0;
	int rc = store_begin(d->st, cause) == 0 &&
	                 store_event_add(d->st, c->id, "validation", ev, cause) == 0 &&
	                 store_message_add(d->st, c->id, "human", text, &id, cause) == 0 &&
	                 store_commit(d->st, cause) == 0
	             ? 0
	             : -1;
	if (rc == 0)
		note_event(c, "validation", ev, desk_now());
	cJSON_Delete(ev);
	if (rc != 0) {
		store_rollback(d->st);
		cJSON_Delete(*validation);
		*validation = NULL;
		return -1;
	}
	msg_add(c, "human", text, desk_now(), id);
	if (d->hooks.deliver)
		d->hooks.deliver(d->hooks.arg, c, "human", text);
	changed(d, c);
	return 0;
}

int
desk_handback(struct desk *d, struct desk_conv *c, char **cause)
{
	if (c->handler != HANDLER_HUMAN && c->handler != HANDLER_WAITING) {
		*cause = xasprintf("conversation %lld is %s", (long long)c->id,
		                   handler_name(c->handler));
		return -1;
	}
	/* The state stored with it is the conversation's: read in first. */
	if (conv_fill(d, c, cause) != 0)
		return -1;
	/* A fresh budget: the escalation that brought the human in is settled. */
	c->conv.escalated = 0;
	c->conv.turn = 0;
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "by", c->owner ? c->owner : "supervisor");
	cJSON *state = conversation_state_json(&c->conv);
	int rc = store_begin(d->st, cause) == 0 &&
	                 store_event_add(d->st, c->id, "handback", ev, cause) == 0 &&
	                 store_event_add(d->st, c->id, "state", state, cause) == 0 &&
	                 store_conversation_handler(d->st, c->id, "ai", NULL, cause) == 0 &&
	                 store_commit(d->st, cause) == 0
	             ? 0
	             : -1;
	if (rc == 0)
		note_event(c, "handback", ev, desk_now());
	cJSON_Delete(ev);
	cJSON_Delete(state);
	if (rc != 0) {
		store_rollback(d->st);
		return -1;
	}
	c->handler = HANDLER_AI;
	free(c->owner);
	c->owner = NULL;
	c->since = desk_now();
	if (d->hooks.handler)
		d->hooks.handler(d->hooks.arg, c);
	/* A message the human left unanswered is the AI's now (the notes are the supervisor's). */
	c->pending = strcmp(last_said(c), "customer") == 0;
	changed(d, c);
	next_turn(d, c);
	return 0;
}

int
desk_resolve(struct desk *d, struct desk_conv *c, const char *outcome, const char *note_text,
             char **cause)
{
	if (c->handler == HANDLER_RESOLVED) {
		*cause = xasprintf("conversation %lld is already resolved", (long long)c->id);
		return -1;
	}
	if (outcome == NULL ||
	    (strcmp(outcome, "resolved") != 0 && strcmp(outcome, "abandoned") != 0)) {
		*cause = xasprintf("an outcome is resolved or abandoned, not '%s'",
		                   outcome ? outcome : "(null)");
		return -1;
	}
	if (c->busy)
		c->withheld = 1;
	const struct ending_close how = {.closed_by = "supervisor",
	                                 .outcome = outcome,
	                                 .by = c->owner ? c->owner : "supervisor",
	                                 .note = note_text};
	return close_with(d, c, &how, cause) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- live */

const char *
desk_worker(const struct desk *d)
{
	return d->worker;
}

void
desk_show(struct desk *d, int64_t id)
{
	if (id == d->shown)
		return;
	d->shown = id;
	struct desk_conv *c = desk_find(d, id);
	char *cause = NULL;
	if (c != NULL && conv_fill(d, c, &cause) != 0) {
		set_error(c, cause);
		changed(d, c);
		free(cause);
	}
}

/* What a reader reads again: messages, events, who has it. */
#define WANT_ALL (STORE_CHANGE_REPLY | STORE_CHANGE_EVENT | STORE_CHANGE_HANDS)

/*
 * Applies to a conversation the desk has what changed in it: who has it
 * (row, when given), the messages and events after those it has (rows of
 * store_conversation_since; full: with the panels' payloads). What others
 * said to a customer connected here is delivered to them. A turn in
 * flight keeps the conversation as it is but for who has it; the rest
 * (want) is read when the turn ends.
 */
static void
conv_apply(struct desk *d, struct desk_conv *c, const cJSON *row, const cJSON *msgs,
           const cJSON *events, unsigned want, int full)
{
	enum handler was = c->handler;
	int hands = row != NULL && !row_same(c, row);
	if (c->busy) {
		/* The turn's state is the turn's until it ends: who has it now is news already. */
		c->want |= want & ~STORE_CHANGE_HANDS;
		if (hands) {
			row_hands(c, row);
			c->withheld = c->handler != HANDLER_AI;
			if (d->hooks.handler && c->handler != was)
				d->hooks.handler(d->hooks.arg, c);
			changed(d, c);
		}
		return;
	}
	c->want = 0;
	if (hands)
		row_hands(c, row);
	int news = conv_absorb(d, c, msgs, events, full, 1) | hands;
	if (!news)
		return;
	c->pending = c->handler == HANDLER_AI && strcmp(last_said(c), "customer") == 0;
	if (d->hooks.handler && c->handler != was)
		d->hooks.handler(d->hooks.arg, c);
	changed(d, c);
	/* A customer of this desk waiting for the AI (handed back elsewhere): its turn. */
	if (c->client != NULL || c->demo != NULL)
		next_turn(d, c);
}

/*
 * Brings a conversation the desk has up to date with what want names
 * (STORE_CHANGE_*), read from the store: who has it (from row when given,
 * else read when want has STORE_CHANGE_HANDS), and the messages and
 * events after those it has read, in one statement (conv_apply).
 */
static int
conv_catch_up(struct desk *d, struct desk_conv *c, const cJSON *row, unsigned want, char **cause)
{
	cJSON *read_row = NULL, *msgs = NULL, *events = NULL;
	if (row == NULL && (want & STORE_CHANGE_HANDS)) {
		if (store_conversation_get(d->st, c->id, &read_row, cause) != 0)
			return -1;
		row = read_row;
	}
	int64_t after_msg =
	    want & (STORE_CHANGE_CUSTOMER | STORE_CHANGE_REPLY) ? c->msg_seen : INT64_MAX;
	int64_t after_event = want & STORE_CHANGE_EVENT ? c->event_seen : INT64_MAX;
	int full = conv_full(d, c);
	if (!c->busy && (after_msg != INT64_MAX || after_event != INT64_MAX) &&
	    store_conversation_since(d->st, c->id, after_msg, after_event,
	                             full ? NULL : DESK_PANEL_KINDS, &msgs, &events, cause) != 0) {
		cJSON_Delete(read_row);
		return -1;
	}
	conv_apply(d, c, row, msgs, events, want, full);
	cJSON_Delete(read_row);
	cJSON_Delete(msgs);
	cJSON_Delete(events);
	return 0;
}

/* A conversation the desk did not have, from its row: added when it is open. */
static int
conv_arrives(struct desk *d, const cJSON *row, char **cause)
{
	if (row_handler(row) == HANDLER_RESOLVED)
		return 0;
	struct desk_conv *c = conv_from_row(d, row, 0, NULL, NULL, cause);
	if (c == NULL)
		return -1;
	changed(d, c);
	return 0;
}

int
desk_refresh(struct desk *d, int64_t id, char **cause)
{
	struct desk_conv *c = desk_find(d, id);
	if (c != NULL)
		return conv_catch_up(d, c, NULL, WANT_ALL, cause);
	/* New here: opened elsewhere (frontline serve, another console's customer). */
	cJSON *row = NULL;
	if (store_conversation_get(d->st, id, &row, cause) != 0)
		return -1;
	int rc = row != NULL ? conv_arrives(d, row, cause) : 0;
	cJSON_Delete(row);
	return rc;
}

/* Reads what the notifications since the last frame named (each conversation once). */
static void
refresh_dirty(struct desk *d)
{
	while (d->ndirty > 0) {
		int64_t id = d->dirty[--d->ndirty];
		struct desk_conv *c = desk_find(d, id);
		char *cause = NULL;
		if ((c != NULL ? conv_catch_up(d, c, NULL, c->want, &cause)
		               : desk_refresh(d, id, &cause)) != 0) {
			if (c != NULL) {
				set_error(c, cause);
				changed(d, c);
			}
			free(cause);
		}
	}
}

static void
mark_dirty(struct desk *d, int64_t id)
{
	for (size_t i = 0; i < d->ndirty; i++)
		if (d->dirty[i] == id)
			return;
	if (d->ndirty == d->capdirty) {
		d->capdirty = d->capdirty ? d->capdirty * 2 : 16;
		d->dirty = xreallocarray(d->dirty, d->capdirty, sizeof *d->dirty);
	}
	d->dirty[d->ndirty++] = id;
}

/*
 * The desk's own commit (store_on_commit): it has what it wrote, so its
 * events are skipped when read back with others'.
 */
static void
on_own_commit(void *arg, const struct store_change *ch)
{
	struct desk *d = arg;
	struct desk_conv *c = desk_find(d, ch->conv);
	if (c == NULL)
		return;
	if (d->unseen_writes) {
		c->want |= WANT_ALL;
		mark_dirty(d, c->id);
		return;
	}
	if (ch->event_last <= c->event_seen)
		return;
	if (c->nmine == c->capmine) {
		c->capmine = c->capmine ? c->capmine * 2 : 4;
		c->mine = xreallocarray(c->mine, c->capmine, sizeof *c->mine);
	}
	c->mine[c->nmine++] = (struct desk_span){ch->event_first, ch->event_last};
}

/*
 * A notification: what it says changed is read at the next frame, unless
 * the desk has it already -- its own change, or one read with another.
 */
static void
on_change(void *arg, const struct store_change *ch)
{
	struct desk *d = arg;
	if (strcmp(ch->channel, STORE_CHANNEL_CONV) != 0 || ch->conv <= 0)
		return;
	struct desk_conv *c = desk_find(d, ch->conv);
	if (c == NULL) {
		mark_dirty(d, ch->conv);
		return;
	}
	if (ch->own) {
		/*
		 * Notifications come in commit order: with nothing of others'
		 * waiting, everything before this one is read, and this one the
		 * desk wrote.
		 */
		if (c->want == 0) {
			int filled = c->full_seen >= c->event_seen;
			if (ch->message > c->msg_seen)
				c->msg_seen = ch->message;
			if (ch->event_last > c->event_seen)
				c->event_seen = ch->event_last;
			if (filled)
				c->full_seen = c->event_seen;
			mine_prune(c);
		}
		return;
	}
	unsigned want = 0;
	if ((ch->what & (STORE_CHANGE_CUSTOMER | STORE_CHANGE_REPLY)) &&
	    (ch->message == 0 || ch->message > c->msg_seen))
		want |= STORE_CHANGE_REPLY;
	if ((ch->what & STORE_CHANGE_EVENT) &&
	    (ch->event_last == 0 || ch->event_last > c->event_seen))
		want |= STORE_CHANGE_EVENT;
	if (ch->what & STORE_CHANGE_HANDS)
		want |= STORE_CHANGE_HANDS;
	if (want == 0)
		return;
	c->want |= want;
	mark_dirty(d, c->id);
}

static void listen_fire(struct loop *, void *);

/* Reads what the notifications named, now (a frame). */
static void
frame(struct desk *d)
{
	if (d->draining)
		return;
	d->draining = 1;
	refresh_dirty(d);
	d->draining = 0;
}

static void
frame_fire(struct loop *l, void *arg)
{
	struct desk *d = arg;
	(void)l;
	d->frame_timer = 0;
	frame(d);
	/* Reading ran queries, which may have brought more. */
	drain_soon(d);
}

/* Takes the notifications that arrived: what they name is read at the next frame. */
static void
drain(struct desk *d)
{
	char *cause = NULL;
	if (d->notify_fd < 0 || d->draining)
		return;
	if (store_notifications(d->st, on_change, d, &cause) < 0) {
		/* The connection went: listen again on a new one, and read everything. */
		free(cause);
		loop_watch(d->loop, d->notify_fd, 0, NULL, NULL);
		d->notify_fd = -1;
		if (d->listen_timer == 0)
			d->listen_timer = loop_timer_add(d->loop, RETRY_MS, listen_fire, d);
		return;
	}
	if (d->ndirty == 0 || d->frame_timer != 0)
		return;
	d->frame_timer = loop_timer_add(d->loop, FRAME_MS, frame_fire, d);
}

static void
on_notify(struct loop *l, int fd, int ready, void *arg)
{
	(void)l;
	(void)fd;
	(void)ready;
	drain(arg);
}

static void
drain_fire(struct loop *l, void *arg)
{
	struct desk *d = arg;
	(void)l;
	d->drain_timer = 0;
	drain(d);
}

static void
drain_soon(struct desk *d)
{
	if (d->loop != NULL && d->notify_fd >= 0 && d->drain_timer == 0 && !d->draining)
		d->drain_timer = loop_timer_add(d->loop, 0, drain_fire, d);
}

/*
 * Every conversation the store has open, and every one the desk has
 * open, brought up to date; with !deep only new ones and changes of hands.
 */
static void
refresh_all(struct desk *d, int deep)
{
	cJSON *rows = NULL;
	char *cause = NULL;
	if (store_conversation_list(d->st, NULL, &rows, &cause) != 0) {
		free(cause);
		return;
	}
	const cJSON *row;
	size_t nids = 0;
	int64_t *ids = xreallocarray(NULL, (size_t)cJSON_GetArraySize(rows) + 1, sizeof *ids);
	cJSON_ArrayForEach(row, rows)
	{
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id"));
		struct desk_conv *c = desk_find(d, id);
		ids[nids++] = id;
		if ((c != NULL ? conv_catch_up(d, c, row, deep ? WANT_ALL & ~STORE_CHANGE_HANDS : 0,
		                               &cause)
		               : conv_arrives(d, row, &cause)) != 0) {
			if (c != NULL) {
				set_error(c, cause);
				changed(d, c);
			}
			free(cause);
			cause = NULL;
		}
	}
	/* Open here, closed there. */
	qsort(ids, nids, sizeof *ids, id_cmp);
	for (size_t i = 0; i < d->n; i++) {
		struct desk_conv *c = d->convs[i];
		if (c->handler != HANDLER_RESOLVED &&
		    bsearch(&c->id, ids, nids, sizeof *ids, id_cmp) == NULL &&
		    desk_refresh(d, c->id, &cause) != 0) {
			free(cause);
			cause = NULL;
		}
	}
	free(ids);
	cJSON_Delete(rows);
}

static int
listen_on(struct desk *d, char **cause)
{
	if (store_listen(d->st, STORE_CHANNEL_CONV, cause) != 0)
		return -1;
	d->notify_fd = store_notify_fd(d->st);
	if (d->notify_fd >= 0)
		loop_watch(d->loop, d->notify_fd, LOOP_READ, on_notify, d);
	return 0;
}

static void
listen_fire(struct loop *l, void *arg)
{
	struct desk *d = arg;
	char *cause = NULL;
	d->listen_timer = 0;
	if (listen_on(d, &cause) != 0) {
		free(cause);
		d->listen_timer = loop_timer_add(l, RETRY_MS, listen_fire, d);
		return;
	}
	/* What changed while nobody listened: everything after what each has. */
	refresh_all(d, 1);
}

static void
poll_fire(struct loop *l, void *arg)
{
	struct desk *d = arg;
	d->poll_timer = loop_timer_add(l, d->poll_ms, poll_fire, d);
	/* Nothing committed elsewhere since the last look: nothing to read. */
	char *cause = NULL;
	if (store_changed(d->st, &cause) != 0)
		refresh_all(d, 1);
	free(cause);
}

int
desk_close_idle(struct desk *d, const char *before, int *closed, char **cause)
{
	char at[64];
	int n = 0;
	if (before == NULL) {
		ending_idle_before(d->ag.policy->idle_close_minutes, at);
		before = at;
	}
	/* What closed (here or another desk's) is read back, to show as closed. */
	d->unseen_writes = 1;
	int rc = ending_close_idle(d->st, before, &n, cause);
	d->unseen_writes = 0;
	refresh_dirty(d);
	if (closed != NULL)
		*closed = n;
	return rc;
}

/*
 * Renews the claims of turns in flight, tries again the claims that
 * failed, and now and then closes what the idle timeout says.
 */
static void
claim_fire(struct loop *l, void *arg)
{
	struct desk *d = arg;
	d->claim_timer = loop_timer_add(l, LEASE_MS / 3, claim_fire, d);
	time_t now = time(NULL);
	/*
	 * On the floor's relay, the workers' look is enough: each console's
	 * own would be what PostgreSQL's cost grows by with the consoles.
	 */
	if (d->http == NULL && now - d->idle_look >= IDLE_LOOK_S) {
		char *cause = NULL;
		d->idle_look = now;
		if (desk_close_idle(d, NULL, NULL, &cause) != 0)
			free(cause); /* tried again at the next look */
	}
	for (size_t i = 0; i < d->n; i++) {
		struct desk_conv *c = d->convs[i];
		char *cause = NULL;
		if (c->busy) {
			int rc = store_claim_renew(d->st, c->id, d->worker, LEASE_MS, &cause);
			if (rc < 0)
				free(cause);
		} else if (c->retry)
			next_turn(d, c);
	}
	drain(d);
}

/* ---------------------------------------------------------------- the floor's relay */

/*
 * A change the relay read for every console, applied as if read here. A
 * conversation the desk does not have comes whole (its row, every
 * message and event); one it has less of than the change follows (it
 * was answering it when the earlier changes came) is read from the store.
 */
static int
floor_apply(struct desk *d, const cJSON *ch, char **cause)
{
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ch, "conversation"));
	const cJSON *row = cJSON_GetObjectItem(ch, "row");
	const cJSON *msgs = cJSON_GetObjectItem(ch, "messages");
	const cJSON *events = cJSON_GetObjectItem(ch, "events");
	int64_t msgs_after =
	    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ch, "messages_after"));
	int64_t events_after =
	    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ch, "events_after"));
	if (id <= 0 || (row != NULL && !cJSON_IsObject(row)) ||
	    (msgs != NULL && !cJSON_IsArray(msgs)) || (events != NULL && !cJSON_IsArray(events)))
		return 0; /* not a change this desk knows */
	struct desk_conv *c = desk_find(d, id);
	if (c == NULL) {
		if (row == NULL || msgs == NULL || events == NULL || msgs_after != 0 ||
		    events_after != 0)
			return desk_refresh(d, id, cause);
		if (row_handler(row) == HANDLER_RESOLVED)
			return 0;
		if ((c = conv_from_row(d, row, 0, msgs, events, cause)) == NULL)
			return -1;
		changed(d, c);
		return 0;
	}
	if ((msgs != NULL && c->msg_seen < msgs_after) ||
	    (events != NULL && c->event_seen < events_after))
		return conv_catch_up(d, c, row, WANT_ALL, cause);
	unsigned want = (row ? STORE_CHANGE_HANDS : 0) | (msgs ? STORE_CHANGE_REPLY : 0) |
	                (events ? STORE_CHANGE_EVENT : 0);
	conv_apply(d, c, row, msgs, events, want, 0);
	/* Shown or answered here: its panels, which the relay leaves out. */
	return conv_full(d, c) ? conv_fill(d, c, cause) : 0;
}

static void
on_floor_event(void *arg, const char *event, const char *data)
{
	struct desk *d = arg;
	if (strcmp(event, "change") != 0)
		return;
	cJSON *ch = cJSON_Parse(data);
	char *cause = NULL;
	if (ch != NULL && floor_apply(d, ch, &cause) != 0) {
		struct desk_conv *c = desk_find(
		    d, (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ch, "conversation")));
		if (c != NULL) {
			set_error(c, cause);
			changed(d, c);
		}
		free(cause);
	}
	cJSON_Delete(ch);
}

static void
on_floor_chunk(const char *data, size_t len, void *arg)
{
	struct desk *d = arg;
	if (!d->floor_live && len > 0 && data[0] == '{')
		return; /* a refusal's JSON body (401, 503): on_floor_done tells it */
	if (!d->floor_live) {
		/* Open, and every change from now on comes on it: what came before is read. */
		d->floor_live = 1;
		if (d->hooks.floor)
			d->hooks.floor(d->hooks.arg, NULL);
		refresh_all(d, 1);
	}
	sse_feed(&d->floor_sse, data, len);
}

static void floor_open(struct desk *);

static void
floor_fire(struct loop *l, void *arg)
{
	struct desk *d = arg;
	(void)l;
	d->floor_timer = 0;
	floor_open(d);
}

/* The stream ended: a served one (cut, or its time up) is opened again at once, else later. */
static void
on_floor_done(const struct http_result *r, void *arg)
{
	struct desk *d = arg;
	int live = d->floor_live;
	d->floor_req = 0;
	d->floor_live = 0;
	sse_reset(&d->floor_sse);
	if (r->error == HTTP_ECANCELLED)
		return;
	if (d->hooks.floor) {
		char *why = r->error != HTTP_OK ? xasprintf("the floor's stream: %s", r->message)
		            : r->status != 200  ? xasprintf("the floor's stream: HTTP %ld %.200s",
		                                            r->status, r->body)
		                                : xstrdup("the floor's stream ended; reconnecting");
		d->hooks.floor(d->hooks.arg, why);
		free(why);
	}
	d->floor_timer =
	    loop_timer_add(d->loop, live && r->status == 200 ? 0 : RETRY_MS, floor_fire, d);
}

static void
floor_open(struct desk *d)
{
	const char *hdr[] = {d->floor_auth, "Accept: text/event-stream", NULL};
	struct http_request rq = {
	    .url = d->floor_url,
	    .headers = hdr,
	    .total_timeout_ms = FLOOR_STREAM_MS,
	    .on_chunk = on_floor_chunk,
	};
	char *cause = NULL;
	d->floor_req = http_start(d->http, &rq, on_floor_done, d, &cause);
	if (d->floor_req == 0) {
		if (d->hooks.floor)
			d->hooks.floor(d->hooks.arg, cause);
		free(cause);
		d->floor_timer = loop_timer_add(d->loop, RETRY_MS, floor_fire, d);
	}
}

int
desk_attach_floor(struct desk *d, struct loop *l, const char *url, const char *token, char **cause)
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		*cause = xasprintf("'%s' is not an http:// or https:// URL", url);
		return -1;
	}
	if (token == NULL || *token == '\0' || strpbrk(token, "\r\n") != NULL) {
		*cause = xstrdup("no token: set FRONTLINE_SERVE_TOKEN to the serve's bearer token");
		return -1;
	}
	if ((d->http = http_client_new(l, cause)) == NULL)
		return -1;
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	d->floor_url = xasprintf("%.*s/v1/floor/events", (int)n, url);
	d->floor_auth = xasprintf("Authorization: Bearer %s", token);
	sse_init(&d->floor_sse, 0, on_floor_event, d);
	d->loop = l;
	d->poll_ms = 0;
	d->claim_timer = loop_timer_add(l, LEASE_MS / 3, claim_fire, d);
	floor_open(d);
	return 0;
}

int
desk_attach(struct desk *d, struct loop *l, long poll_ms, char **cause)
{
	d->loop = l;
	d->poll_ms = poll_ms > 0 ? poll_ms : 2000;
	if (listen_on(d, cause) != 0) {
		d->loop = NULL;
		return -1;
	}
	/* Without notifications (SQLite), a look at the open conversations now and then. */
	if (d->notify_fd < 0)
		d->poll_timer = loop_timer_add(l, d->poll_ms, poll_fire, d);
	d->claim_timer = loop_timer_add(l, LEASE_MS / 3, claim_fire, d);
	/* New conversations and changes of hands between desk_open and now. */
	if (d->notify_fd >= 0)
		refresh_all(d, 0);
	return 0;
}

/* ---------------------------------------------------------------- csat */

cJSON *
desk_csat_json(int score, const char *verbatim)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "score", score);
	if (verbatim != NULL && *verbatim != '\0')
		cJSON_AddStringToObject(o, "verbatim", verbatim);
	else
		cJSON_AddNullToObject(o, "verbatim");
	return o;
}

int
desk_rate(struct desk *d, struct desk_conv *c, int score, const char *verbatim, char **cause)
{
	if (score < 1 || score > 5) {
		*cause = xasprintf("a rating is 1 to 5, not %d", score);
		return -1;
	}
	cJSON *o = desk_csat_json(score, verbatim);
	int rc = store_event_add(d->st, c->id, "csat", o, cause);
	if (rc == 0) {
		note_event(c, "csat", o, desk_now());
		changed(d, c);
	}
	cJSON_Delete(o);
	return rc;
}
