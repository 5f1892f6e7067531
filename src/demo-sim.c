/* demo-sim.c -- simulated customers for `frontline console --demo`, played from a script. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "demo-sim.h"
#include "tools.h"
#include "ydoc.h"

/* ------------------------------------------------------------ the script */

static const struct ykey k_expect[] = {
    {.name = "resolved", .type = Y_BOOL},
    {.name = "escalate", .type = Y_STR},
    {.name = "stale", .type = Y_STR},
    {.name = "tool", .type = Y_ENUM, .values = tool_names},
    {.name = "no_tool", .type = Y_ENUM, .values = tool_names},
    {.name = "not_said", .type = Y_STR},
    {0},
};
static const struct ykey k_message = {.type = Y_STR};
static const struct ykey k_csat[] = {
    {.name = "score", .type = Y_INT, .min = 1, .max = 5, .required = 1},
    {.name = "comment", .type = Y_STR},
    {0},
};
static const struct ykey k_customer[] = {
    {.name = "id", .type = Y_STR, .required = 1},
    {.name = "name", .type = Y_STR, .required = 1},
    {.name = "tier", .type = Y_ENUM, .values = tier_names, .required = 1},
    {.name = "at", .type = Y_NUM, .min = 0, .max = 3600, .required = 1},
    {.name = "messages", .type = Y_LIST, .sub = &k_message, .required = 1},
    {.name = "after_human", .type = Y_STR},
    {.name = "csat", .type = Y_MAP, .sub = k_csat},
    {.name = "expect", .type = Y_MAP, .sub = k_expect, .required = 1},
    {0},
};
static const struct ykey k_customer_map = {.type = Y_MAP, .sub = k_customer};
static const struct ykey k_top[] = {
    {.name = "repeat", .type = Y_BOOL},
    {.name = "pause", .type = Y_NUM, .min = 0, .max = 3600},
    {.name = "customers", .type = Y_LIST, .sub = &k_customer_map, .required = 1},
    {0},
};
static const struct ykey k_root = {.type = Y_MAP, .sub = k_top};

#define DEFAULT_PAUSE_S 8.0
#define MAX_TEXT        1000 /* bytes in one message */

/* Item i of a sequence node. */
static yaml_node_t *
item(struct ydoc *y, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

/* A copy of key's scalar in map, or NULL when absent. */
static char *
dup_or_null(struct ydoc *y, yaml_node_t *map, const char *key)
{
	const char *s = ydoc_str_or_null(y, map, key);
	return s ? xstrdup(s) : NULL;
}

/*
 * A line a customer types: one line of text (chat reads one message per
 * line), not empty, not too long. Returns NULL or what is wrong.
 */
static const char *
text_problem(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || strspn(s, " \t") == n)
		return "is empty";
	if (n > MAX_TEXT)
		return "is too long (more than 1000 bytes)";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "must be one line of text, without control characters";
	return NULL;
}

/* Ids go on command lines and into file names: letters, digits, '.', '_', '-'. */
static int
id_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Reason codes and fact ids: lower-case words joined by '-' or '/'. */
static int
code_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '/')
			return 0;
	return 1;
}

static void
customer_free(struct demo_customer *c)
{
	free(c->id);
	free(c->name);
	for (size_t i = 0; i < c->nmessages; i++)
		free(c->messages[i]);
	free(c->messages);
	free(c->after_human);
	free(c->csat_comment);
	free(c->escalate);
	free(c->stale);
	free(c->tool);
	free(c->no_tool);
	free(c->not_said);
}

/* Reads customer i (already checked against the schema), adding what else is wrong to d. */
static void
load_customer(struct demo_script *s, struct ydoc *y, yaml_node_t *m, size_t i, struct diag *d)
{
	struct demo_customer *c = &s->customers[i];
	char where[64];
	snprintf(where, sizeof where, "customers[%zu]", i);
	memset(c, 0, sizeof *c);
	c->line = ydoc_line(y, m);

	yaml_node_t *n = ydoc_get(y, m, "id");
	c->id = xstrdup(ydoc_str(n));
	if (!id_ok(c->id))
		diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n),
		           "%s.id: '%s' is not an id (letters, digits, '.', '_', '-')", where,
		           c->id);
	for (size_t j = 0; j < i; j++)
		if (strcmp(s->customers[j].id, c->id) == 0)
			diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n),
			           "%s.id: '%s' already plays customers[%zu] (line %d)", where,
			           c->id, j, s->customers[j].line);
	n = ydoc_get(y, m, "name");
	c->name = xstrdup(ydoc_str(n));
	const char *why = text_problem(c->name);
	if (why != NULL)
		diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n), "%s.name %s", where, why);
	c->tier = (enum tier)names_find(tier_names, ydoc_str_or_null(y, m, "tier"));
	c->at = ydoc_num_or(y, m, "at", 0);

	yaml_node_t *msgs = ydoc_get(y, m, "messages");
	size_t nm = ydoc_count(msgs);
	if (nm == 0 || nm > DEMO_MAX_MESSAGES)
		diag_error(d, y->file, ydoc_line(y, msgs), ydoc_col(msgs),
		           "%s.messages: expected 1 to %d messages, got %zu", where,
		           DEMO_MAX_MESSAGES, nm);
	c->messages = xcalloc(nm ? nm : 1, sizeof *c->messages);
	for (size_t j = 0; j < nm; j++) {
		yaml_node_t *t = item(y, msgs, j);
		c->messages[c->nmessages++] = xstrdup(ydoc_str(t));
		if ((why = text_problem(ydoc_str(t))) != NULL)
			diag_error(d, y->file, ydoc_line(y, t), ydoc_col(t), "%s.messages[%zu] %s",
			           where, j, why);
	}

	yaml_node_t *cs = ydoc_get(y, m, "csat");
	if (cs != NULL) {
		c->csat = (int)ydoc_int_or(y, cs, "score", 0);
		c->csat_comment = dup_or_null(y, cs, "comment");
		if (c->csat_comment != NULL && (why = text_problem(c->csat_comment)) != NULL)
			diag_error(d, y->file, ydoc_line(y, ydoc_get(y, cs, "comment")),
			           ydoc_col(ydoc_get(y, cs, "comment")), "%s.csat.comment %s",
			           where, why);
	}

	yaml_node_t *e = ydoc_get(y, m, "expect");
	c->resolved = ydoc_bool_or(y, e, "resolved", 0);
	c->escalate = dup_or_null(y, e, "escalate");
	c->stale = dup_or_null(y, e, "stale");
	c->tool = dup_or_null(y, e, "tool");
	c->no_tool = dup_or_null(y, e, "no_tool");
	c->not_said = dup_or_null(y, e, "not_said");
	if (c->resolved == (c->escalate != NULL))
		diag_error(d, y->file, ydoc_line(y, e), ydoc_col(e),
		           "%s.expect: give either 'resolved: true' or 'escalate: REASON'", where);
	if (c->escalate != NULL && !code_ok(c->escalate))
		diag_error(d, y->file, ydoc_line(y, ydoc_get(y, e, "escalate")),
		           ydoc_col(ydoc_get(y, e, "escalate")),
		           "%s.expect.escalate: '%s' is not a reason code", where, c->escalate);
	if (c->stale != NULL && !code_ok(c->stale))
		diag_error(d, y->file, ydoc_line(y, ydoc_get(y, e, "stale")),
		           ydoc_col(ydoc_get(y, e, "stale")),
		           "%s.expect.stale: '%s' is not a fact id", where, c->stale);
	if (c->not_said != NULL && *c->not_said == '\0')
		diag_error(d, y->file, ydoc_line(y, ydoc_get(y, e, "not_said")),
		           ydoc_col(ydoc_get(y, e, "not_said")), "%s.expect.not_said is empty",
		           where);

	n = ydoc_get(y, m, "after_human");
	if (n != NULL) {
		c->after_human = xstrdup(ydoc_str(n));
		if ((why = text_problem(c->after_human)) != NULL)
			diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n), "%s.after_human %s",
			           where, why);
		else if (c->escalate == NULL)
			diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n),
			           "%s.after_human: only a customer expected to escalate meets a "
			           "human",
			           where);
	}
}

static struct demo_script *
script_load_text(const char *path, const char *text, size_t len, struct diag *d)
{
	struct ydoc y;
	if (ydoc_load(&y, path, text, len, 0, d) != 0)
		return NULL;
	yaml_node_t *root = ydoc_root(&y);
	if (root == NULL) {
		diag_error(d, path, 0, 0, "no customers (the file is empty)");
		ydoc_free(&y);
		return NULL;
	}
	int errors0 = d->errors;
	ydoc_check(&y, root, &k_root, "", d);
	if (d->errors > errors0) {
		ydoc_free(&y);
		return NULL;
	}
	struct demo_script *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->repeat = ydoc_bool_or(&y, root, "repeat", 0);
	s->pause = ydoc_num_or(&y, root, "pause", DEFAULT_PAUSE_S);
	yaml_node_t *cs = ydoc_get(&y, root, "customers");
	size_t n = ydoc_count(cs);
	if (n == 0 || n > DEMO_MAX_CUSTOMERS)
		diag_error(d, path, ydoc_line(&y, cs), ydoc_col(cs),
		           "customers: expected 1 to %d customers, got %zu", DEMO_MAX_CUSTOMERS, n);
	else {
		s->customers = xcalloc(n, sizeof *s->customers);
		for (s->n = 0; s->n < n; s->n++)
			load_customer(s, &y, item(&y, cs, s->n), s->n, d);
	}
	ydoc_free(&y);
	if (d->errors > errors0) {
		demo_script_free(s);
		return NULL;
	}
	return s;
}

struct demo_script *
demo_script_load(const char *path, char **cause)
{
	struct diag d = {0};
	size_t len;
	char *err = NULL;
	char *text = file_read(path, 1u << 20, &len, &err);
	if (text == NULL) {
		*cause = xasprintf("%s: %s", path, err);
		free(err);
		return NULL;
	}
	struct demo_script *s = script_load_text(path, text, len, &d);
	free(text);
	if (s == NULL)
		*cause = diag_join(&d);
	diag_free(&d);
	return s;
}

void
demo_script_free(struct demo_script *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		customer_free(&s->customers[i]);
	free(s->customers);
	free(s->path);
	free(s);
}

/* ------------------------------------------------------------ the driver */

/*
 * Pace, in seconds at speed 1. A customer arrives with the first question
 * typed; before each next line they read the answer and type, in time
 * proportional to the line, within [LINE_MIN_S, LINE_MAX_S]. Every delay
 * is jittered by +-20%, the same way every time (seeded by customer, round
 * and step), and divided by the speed.
 */
#define FIRST_LINE_S      0.8
#define FIRST_LINE_MIN_S  0.4
#define FIRST_LINE_MAX_S  1.5
#define READ_S            1.2
#define TYPE_S_PER_BYTE   0.04
#define LINE_MIN_S        1.5
#define LINE_MAX_S        6.0
#define LINGER_S          3.0 /* reading the last answer before leaving */
#define HUMAN_PATIENCE_S  45.0
#define ANSWER_PATIENCE_S 60.0
#define JITTER            0.2
#define MAX_DELAY_MS      (24L * 3600 * 1000)

enum actor_state {
	A_IDLE,    /* not arrived this round; timer: arrival */
	A_TYPING,  /* timer: the line is sent */
	A_WAITING, /* for an answer; timer: gives up and leaves */
	A_TOLD,    /* answered; timer (0 ms): decides what next */
	A_HUMAN,   /* the script is over, the chat escalated; timer: gives up and leaves */
	A_LINGER,  /* the script is over; timer: leaves */
	A_DONE,    /* left, or skipped this round */
};

/* Where an escalated customer is with the human. */
enum human_phase { H_NONE, H_AWAITED, H_ANSWERED, H_SAID };

struct demo_actor {
	struct demo_sim *sim;
	const struct demo_customer *c;
	enum actor_state state;
	enum human_phase phase;
	size_t next; /* the next message to send */
	void *who;
	uint64_t timer; /* the one pending timer, 0 when none */
	uint64_t seed;  /* the id's hash */
};

struct demo_sim {
	struct loop *loop;
	struct demo_script *script;
	double speed;
	struct demo_hooks hooks;
	struct demo_actor *actors;
	size_t active; /* actors still to finish this round */
	unsigned round;
	uint64_t round_timer;
};

static void round_start(struct loop *, void *);

/* splitmix64: a well-mixed 64-bit value from any seed. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Milliseconds for sec seconds at speed 1, jittered for (actor, step), clamped to [lo, hi]. */
static long
delay_ms(const struct demo_actor *a, unsigned step, double sec, double lo, double hi)
{
	const struct demo_sim *s = a->sim;
	uint64_t r = mix64(a->seed ^ mix64(((uint64_t)s->round << 32) | step));
	double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
	sec *= 1 - JITTER + 2 * JITTER * u;
	sec = sec < lo ? lo : sec > hi ? hi : sec;
	double ms = sec * 1000 / s->speed;
	return ms >= MAX_DELAY_MS ? MAX_DELAY_MS : (long)llround(ms);
}

static long
plain_ms(const struct demo_sim *s, double sec)
{
	double ms = sec * 1000 / s->speed;
	return ms >= MAX_DELAY_MS ? MAX_DELAY_MS : (long)llround(ms);
}

static void
set_timer(struct demo_actor *a, long ms, loop_timer_fn fn)
{
	if (a->timer != 0)
		loop_timer_del(a->sim->loop, a->timer);
	a->timer = loop_timer_add(a->sim->loop, ms, fn, a);
}

/* An actor is through for this round; the last one starts the pause before the next. */
static void
finished(struct demo_sim *s)
{
	if (--s->active == 0 && s->script->repeat)
		s->round_timer =
		    loop_timer_add(s->loop, plain_ms(s, s->script->pause), round_start, s);
}

static void
leave(struct demo_actor *a)
{
	struct demo_sim *s = a->sim;
	void *who = a->who;
	a->who = NULL;
	a->state = A_DONE;
	if (a->timer != 0)
		loop_timer_del(s->loop, a->timer);
	a->timer = 0;
	if (a->c->csat > 0 && s->hooks.rate != NULL)
		s->hooks.rate(s->hooks.arg, who, a->c->csat, a->c->csat_comment);
	s->hooks.leave(s->hooks.arg, who);
	finished(s);
}

static void
on_leave(struct loop *l, void *arg)
{
	struct demo_actor *a = arg;
	(void)l;
	a->timer = 0;
	leave(a);
}

/* The text of the line being typed: the next message, or the one for the human. */
static const char *
typed_line(const struct demo_actor *a)
{
	return a->next < a->c->nmessages ? a->c->messages[a->next] : a->c->after_human;
}

static void
on_typed(struct loop *l, void *arg)
{
	struct demo_actor *a = arg;
	struct demo_sim *s = a->sim;
	(void)l;
	a->timer = 0;
	const char *text = typed_line(a);
	if (a->next < a->c->nmessages)
		a->next++;
	else
		a->phase = H_SAID;
	/* Waiting before saying: the console may answer from inside say(). */
	a->state = A_WAITING;
	set_timer(a, plain_ms(s, ANSWER_PATIENCE_S), on_leave);
	s->hooks.say(s->hooks.arg, a->who, text);
}

/* Starts typing the next line; step names it for the jitter. */
static void
type_next(struct demo_actor *a, unsigned step)
{
	a->state = A_TYPING;
	double sec = READ_S + TYPE_S_PER_BYTE * (double)strlen(typed_line(a));
	set_timer(a, delay_ms(a, step, sec, LINE_MIN_S, LINE_MAX_S), on_typed);
}

/* An answer came (0 ms after it, so no hook runs inside demo_sim_answered): what next? */
static void
on_told(struct loop *l, void *arg)
{
	struct demo_actor *a = arg;
	const struct demo_customer *c = a->c;
	(void)l;
	a->timer = 0;
	if (a->next < c->nmessages)
		type_next(a, (unsigned)a->next);
	else if (c->escalate != NULL && a->phase == H_NONE) {
		a->phase = H_AWAITED;
		a->state = A_HUMAN;
		set_timer(a, plain_ms(a->sim, HUMAN_PATIENCE_S), on_leave);
	} else if (a->phase == H_ANSWERED && c->after_human != NULL)
		type_next(a, DEMO_MAX_MESSAGES);
	else {
		a->state = A_LINGER;
		set_timer(a, delay_ms(a, DEMO_MAX_MESSAGES + 1, LINGER_S, 0, 2 * LINGER_S),
		          on_leave);
	}
}

static void
on_arrive(struct loop *l, void *arg)
{
	struct demo_actor *a = arg;
	struct demo_sim *s = a->sim;
	const struct demo_customer *c = a->c;
	(void)l;
	a->timer = 0;
	a->who = s->hooks.join(s->hooks.arg, c->id, c->name, c->tier);
	if (a->who == NULL) {
		/* Still busy from the last round, say: skipped this round. */
		a->state = A_DONE;
		finished(s);
		return;
	}
	a->state = A_TYPING;
	set_timer(a, delay_ms(a, 0, FIRST_LINE_S, FIRST_LINE_MIN_S, FIRST_LINE_MAX_S), on_typed);
}

static void
round_start(struct loop *l, void *arg)
{
	struct demo_sim *s = arg;
	(void)l;
	s->round_timer = 0;
	s->round++;
	s->active = s->script->n;
	for (size_t i = 0; i < s->script->n; i++) {
		struct demo_actor *a = &s->actors[i];
		a->state = A_IDLE;
		a->phase = H_NONE;
		a->next = 0;
		a->who = NULL;
		set_timer(a, plain_ms(s, a->c->at), on_arrive);
	}
}

struct demo_sim *
demo_sim_new(struct loop *l, const char *path, double speed, const struct demo_hooks *hooks,
             char **cause)
{
	if (!(speed > 0) || !isfinite(speed)) {
		*cause = xasprintf("demo speed must be a positive number, not %g", speed);
		return NULL;
	}
	if (hooks == NULL || hooks->join == NULL || hooks->say == NULL || hooks->leave == NULL) {
		*cause = xstrdup("demo hooks: join, say and leave are all needed");
		return NULL;
	}
	struct demo_script *script = demo_script_load(path, cause);
	if (script == NULL)
		return NULL;
	struct demo_sim *s = xcalloc(1, sizeof *s);
	s->loop = l;
	s->script = script;
	s->speed = speed;
	s->hooks = *hooks;
	s->actors = xcalloc(script->n, sizeof *s->actors);
	for (size_t i = 0; i < script->n; i++) {
		struct demo_actor *a = &s->actors[i];
		a->sim = s;
		a->c = &script->customers[i];
		a->seed = hash_fnv1a(a->c->id, strlen(a->c->id));
	}
	round_start(l, s);
	return s;
}

void
demo_sim_answered(struct demo_sim *s, void *who)
{
	if (s == NULL || who == NULL)
		return;
	for (size_t i = 0; i < s->script->n; i++) {
		struct demo_actor *a = &s->actors[i];
		if (a->who != who)
			continue;
		if (a->state == A_HUMAN)
			a->phase = H_ANSWERED;
		else if (a->state != A_WAITING)
			return; /* typing, or already told this turn: nothing new */
		a->state = A_TOLD;
		set_timer(a, 0, on_told);
		return;
	}
}

void
demo_sim_free(struct demo_sim *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->script->n; i++)
		if (s->actors[i].timer != 0)
			loop_timer_del(s->loop, s->actors[i].timer);
	if (s->round_timer != 0)
		loop_timer_del(s->loop, s->round_timer);
	free(s->actors);
	demo_script_free(s->script);
	free(s);
}
