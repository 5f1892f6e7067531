/* resolution.c -- the resolution agent: plans governed tool calls and composes grounded replies. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "answer-type.h"
#include "kb.h"
#include "resolution.h"
#include "tone.h"
#include "tokens.h"

/* A stale fact may still help, but the agent trusts it less. */
#define STALE_PENALTY 0.25

static void
plan_add(struct plan *p, int tool, cJSON *args)
{
	if (p->n < (int)nitems(p->tool)) {
		p->tool[p->n] = tool;
		p->args[p->n++] = args;
	} else
		cJSON_Delete(args);
}

/* Does the act ask the agent for something (rather than greet, thank, say yes or no)? */
static int
act_asks(enum dialogue_act a)
{
	return a == ACT_QUESTION || a == ACT_HUMAN_QUESTION || a == ACT_DETAIL;
}

/* ------------------------------------------------------------ requests */

/*
 * What a customer may ask the agent to do is the policy's
 * (resolution.actions). Only whether it was asked comes from the
 * customer's words; what is done (which order, how much) comes from the
 * tools' answers and the policy.
 */

/* The first action text asks for, or NULL. */
static const struct action *
asked_action(const struct policy *p, const char *text)
{
	for (size_t i = 0; text != NULL && i < p->nactions; i++)
		if (patset_match(&p->actions[i].patterns, text) >= 0)
			return &p->actions[i];
	return NULL;
}

/*
 * Was what tool does asked for in this message, or in the one before when
 * the agent then asked for the order number it needed?
 */
static int
requested(const struct policy *p, const struct conversation *c, int tool)
{
	size_t n = c->words.n;
	for (size_t back = 0; back < n && back < 2; back++) {
		if (back == 1 && c->awaiting != AWAIT_ORDER_NUMBER)
			break;
		const struct action *a = asked_action(p, c->words.v[n - 1 - back]);
		if (a != NULL && a->tool == tool)
			return 1;
	}
	return 0;
}

void
resolution_plan(const struct policy *pol, const struct conversation *c,
                const struct triage_result *t, struct plan *p)
{
	memset(p, 0, sizeof *p);
	if (c->act == ACT_AFFIRM) {
		/* What the agent offered, as it offered it: tool_invoke decides if it may run. */
		const cJSON *tool = cJSON_GetObjectItemCaseSensitive(c->offer, "tool");
		int id = cJSON_IsString(tool) ? tool_find(tool->valuestring) : -1;
		if (id >= 0)
			plan_add(p, id,
			         cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c->offer, "args"), 1));
		return;
	}
	if (!act_asks(c->act))
		return;
	/* The newest order number: this message's, else one given before. */
	const char *order = NULL;
	if (t->entities.order_numbers.n > 0)
		order = t->entities.order_numbers.v[0];
	else if (c->orders.n > 0 &&
	         (t->intent_category == CAT_SHIPPING || t->intent_category == CAT_RETURNS ||
	          c->awaiting == AWAIT_ORDER_NUMBER ||
	          requested(pol, c, TOOL_APPLY_STANDARD_CREDIT) ||
	          requested(pol, c, TOOL_RESEND_CONFIRMATION)))
		order = c->orders.v[c->orders.n - 1];
	if (order != NULL) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "order_id", order);
		plan_add(p, TOOL_GET_ORDER_STATUS, a);
	}
	if (t->intent_category == CAT_ACCOUNT || t->intent_category == CAT_BILLING) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "customer_id", c->customer_id ? c->customer_id : "");
		plan_add(p, TOOL_GET_CUSTOMER_ACCOUNT, a);
	}
}

/* Was tool already called for order_id in this conversation (allowed or refused)? */
static int
done(const struct conversation *c, int tool, const char *order_id)
{
	const char *name = tool_table[tool].name;
	size_t nl = strlen(name);
	char *needle = xasprintf("\"order_id\":\"%s\"", order_id);
	int found = 0;
	for (size_t i = 0; i < c->tried.n && !found; i++)
		found = strncmp(c->tried.v[i], name, nl) == 0 && c->tried.v[i][nl] == ' ' &&
		        strstr(c->tried.v[i], needle) != NULL;
	free(needle);
	return found;
}

/* The first sentences of text, at most max bytes, ending on a sentence. */
static char *
first_sentences(const char *text, size_t max)
{
	size_t n = strlen(text), end = 0;
	for (size_t i = 0; i < n && i < max; i++)
		if ((text[i] == '.' || text[i] == '!' || text[i] == '?') &&
		    (text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\0')) {
			end = i + 1;
			if (end > max / 2)
				break;
		}
	if (end == 0)
		end = n < max ? n : max;
	char *s = xstrndup(text, end);
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return s;
}

static const char *
str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static int
found(const cJSON *r)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, "found");
	return r != NULL && !cJSON_IsFalse(f);
}

void
resolution_plan_writes(const struct policy *p, const struct conversation *c,
                       const struct tool_call *reads, int nreads, struct plan *out)
{
	memset(out, 0, sizeof *out);
	if (!act_asks(c->act))
		return;
	int credit = requested(p, c, TOOL_APPLY_STANDARD_CREDIT),
	    resend = requested(p, c, TOOL_RESEND_CONFIRMATION);
	for (int i = 0; i < nreads && (credit || resend); i++) {
		const struct tool_call *k = &reads[i];
		if (k->tool != TOOL_GET_ORDER_STATUS || !k->allowed || !found(k->result))
			continue;
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(k->result, "order");
		if (o == NULL)
			o = k->result;
		/* The order as the backend knows it, not as the customer typed it. */
		const char *id =
		    str_field(o, "id") ? str_field(o, "id") : str_field(k->args, "order_id");
		const char *status = str_field(o, "status");
		if (id == NULL)
			continue;
		if (resend && !done(c, TOOL_RESEND_CONFIRMATION, id)) {
			cJSON *a = cJSON_CreateObject();
			cJSON_AddStringToObject(a, "order_id", id);
			plan_add(out, TOOL_RESEND_CONFIRMATION, a);
		}
		/* A standard credit is for a failure the order itself shows. */
		int failed = status != NULL && (strcasecmp(status, "delayed") == 0 ||
		                                strcasecmp(status, "lost") == 0);
		if (credit && failed && p->credit_standard > 0 &&
		    !done(c, TOOL_APPLY_STANDARD_CREDIT, id)) {
			cJSON *a = cJSON_CreateObject();
			cJSON_AddNumberToObject(a, "amount_usd", p->credit_standard);
			char *why = xasprintf("standard credit: order %s %s", id, status);
			cJSON_AddStringToObject(a, "reason", why);
			free(why);
			cJSON_AddStringToObject(a, "order_id", id);
			plan_add(out, TOOL_APPLY_STANDARD_CREDIT, a);
		}
	}
}

/* Did a write do what it was asked to (allowed, and the backend did not say no)? */
static int
write_done(const struct tool_call *k)
{
	const char *flag = k->tool == TOOL_APPLY_STANDARD_CREDIT ? "applied" : "sent";
	return k->allowed && k->result != NULL &&
	       !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(k->result, flag));
}

/* ------------------------------------------------------------ the reply */

const char *const reply_feature_names[] = {"fact_confidence", "fact_margin", "coverage",
                                           "tool_answer",     "social",      "asked",
                                           "stale",           "no_answer",   NULL};

/*
 * P(a careful human lets the reply stand), a logistic model over the
 * features: fitted on the labelled development tickets by
 * tools/fit-confidence.py (README, "Decision quality").
 */
static const double conf_w[FEAT__N + 1] = {0.434, -0.211, 0.737, 0.529, 0.502, 1.369, -0.217, 0.273, 0.000};

double
resolution_confidence(const double feat[FEAT__N])
{
	/* No answer is no draft: nothing a person could let stand. */
	if (feat[FEAT_NONE] > 0)
		return 0;
	double z = conf_w[0];
	for (int i = 0; i < FEAT__N; i++)
		z += conf_w[i + 1] * feat[i];
	return 1.0 / (1.0 + exp(-z));
}

/* A reply being written: its text and what it is made of. */
struct draft {
	const struct policy *p;
	struct buf b;
	struct resolution *out;
};

static void
say(struct draft *d, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	if (d->b.len > 0 && d->b.data[d->b.len - 1] != ' ')
		buf_addc(&d->b, ' ');
	buf_adds(&d->b, text);
}

static void
say_piece(struct draft *d, enum piece pc)
{
	say(d, d->p->tone.piece[pc]);
}

/* A piece with placeholders: name, value pairs, NULL-terminated. */
static void
say_filled(struct draft *d, enum piece pc, const char *const *vars)
{
	char *s = tone_fill(d->p->tone.piece[pc], vars);
	say(d, s);
	free(s);
}

static int
told(const struct conversation *c, const char *what)
{
	return strv_contains(&c->told, what);
}

static void
tell(struct draft *d, char *what)
{
	if (!strv_contains(&d->out->told, what))
		strv_add(&d->out->told, what);
	free(what);
}

/* A value for a piece's placeholder: "" for none, which drops its [optional part]. */
static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

/* "Your order A12345 is shipped with UPS (tracking 1Z...), expected on 2026-10-05." */
static void
say_order(struct draft *d, const cJSON *call_args, const cJSON *r, int with_eta)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, "order");
	if (o == NULL)
		o = r;
	const char *vars[] = {"order",    or_empty(str_field(call_args, "order_id")),
	                      "status",   or_empty(str_field(o, "status")),
	                      "carrier",  or_empty(str_field(o, "carrier")),
	                      "tracking", or_empty(str_field(o, "tracking")),
	                      "eta",      with_eta ? or_empty(str_field(o, "eta")) : "",
	                      NULL};
	say_filled(d, PIECE_ORDER_STATUS, vars);
}

/* What the account says, when nothing else answers a question about it. */
static void
say_account(struct draft *d, const cJSON *r)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "account");
	if (a == NULL)
		a = r;
	const char *plan = str_field(a, "plan"), *status = str_field(a, "status");
	if (plan == NULL && status == NULL)
		return;
	const char *vars[] = {"plan", or_empty(plan), "status", or_empty(status), NULL};
	say_filled(d, PIECE_ACCOUNT_SUMMARY, vars);
}

/*
 * "I've applied a credit of $10.00 to your account for the trouble with order
 * A12346." The amount is said only as the backend confirmed it.
 */
static void
say_write(struct draft *d, const struct tool_call *k)
{
	const char *order = or_empty(str_field(k->args, "order_id"));
	if (k->tool == TOOL_APPLY_STANDARD_CREDIT) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(k->result, "amount_usd");
		char amount[32] = "";
		if (cJSON_IsNumber(a))
			snprintf(amount, sizeof amount, "$%.2f", a->valuedouble);
		const char *vars[] = {"amount", amount, "order", order, NULL};
		say_filled(d, PIECE_CREDIT_APPLIED, vars);
	} else {
		const char *vars[] = {"order", order, "to", or_empty(str_field(k->result, "to")), NULL};
		say_filled(d, PIECE_CONFIRMATION_RESENT, vars);
	}
}

/* Words of a field's name that say its unit, not what it is: "balance_usd". */
static const char *const unit_words[] = {"usd", "eur", "gbp", "id", "at", NULL};

/* A field's value as a person says it: "$12.50", "on". */
static void
say_value(struct buf *b, const char *name, const cJSON *v)
{
	if (cJSON_IsBool(v))
		buf_adds(b, cJSON_IsTrue(v) ? "on" : "off");
	else if (cJSON_IsNumber(v) && strstr(name, "usd") != NULL)
		buf_printf(b, "$%.2f", v->valuedouble);
	else if (cJSON_IsNumber(v))
		buf_printf(b, "%g", v->valuedouble);
	else
		buf_adds(b, v->valuestring);
}

/*
 * The account field a question asks about, said from the account's data:
 * "when is my next payment?" and next_payment, every word of the field's
 * name (but its unit) in the question as the index reads words. Returns
 * whether one was said. The fields are the tool's, whatever they are.
 */
static int
say_account_field(struct draft *d, const struct agents *ag, const struct conversation *c,
                  const cJSON *r, const char *question)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "account");
	if (a == NULL)
		a = r;
	unsigned asked = answer_asked(question);
	int said_one = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, a)
	{
		if (f->string == NULL ||
		    !(cJSON_IsString(f) || cJSON_IsNumber(f) || cJSON_IsBool(f)))
			continue;
		char *name = xstrdup(f->string), *save = NULL;
		int words = 0, held = 1;
		struct buf said, value;
		buf_init(&said, 0);
		buf_init(&value, 0);
		for (char *w = strtok_r(name, "_", &save); w != NULL && held;
		     w = strtok_r(NULL, "_", &save)) {
			int unit = 0;
			for (const char *const *u = unit_words; *u != NULL; u++)
				unit |= strcasecmp(w, *u) == 0;
			if (unit)
				continue;
			words++;
			held = kb_text_holds(ag->kb, question, w);
			buf_printf(&said, "%s%s", said.len ? " " : "", w);
		}
		char *key = xasprintf("account:%s", f->string);
		if (words > 0 && held && !told(c, key)) {
			/*
			 * One common word ("plan") is weak evidence: the question must
			 * ask for the kind of value the field holds ("how much", "when").
			 */
			say_value(&value, f->string, f);
			said_one = words >= 2 || (asked & answer_held(value.data)) != 0;
		}
		if (said_one) {
			const char *vars[] = {"field", said.data, "value", value.data, NULL};
			say_filled(d, PIECE_ACCOUNT_FIELD, vars);
			tell(d, key);
		} else
			free(key);
		buf_free(&value);
		buf_free(&said);
		free(name);
		if (said_one)
			return 1;
	}
	return 0;
}

/* Is an order's status one where a past delivery date means it is late? */
static int
in_transit(const char *status)
{
	static const char *const done_[] = {"delivered", "cancelled", "canceled", "returned",
	                                     "refunded", NULL};
	for (size_t i = 0; status != NULL && done_[i] != NULL; i++)
		if (strcasecmp(status, done_[i]) == 0)
			return 0;
	return 1;
}

/*
 * The order's status, carrier, tracking and date, as the backend has
 * them; an order past its date is said to be late. Returns how many days
 * late it is, 0 when it is not.
 */
static long
say_order_status(struct draft *d, const cJSON *call_args, const cJSON *r, long today)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, "order");
	if (o == NULL)
		o = r;
	const char *status = str_field(o, "status"), *eta = str_field(o, "eta");
	long due;
	int late = eta != NULL && date_parse(eta, &due) == 0 && due < today && in_transit(status) &&
	           today > 0;
	if (late) {
		/* Say the order without its date, then what its date now means. */
		say_order(d, call_args, r, 0);
		const char *vars[] = {"eta", eta, NULL};
		say_filled(d, PIECE_LATE, vars);
	} else
		say_order(d, call_args, r, 1);
	return late ? today - due : 0;
}

/* Hands off for something only a person can do, named as the policy names it. */
static void
needs_person(struct resolution *out, const char *what)
{
	free(out->action);
	out->action = xstrdup(what);
	out->needs_person = 1;
}

/*
 * An order past its date: lost once the policy says so (a person takes
 * over for the policy's action), else the customer is offered that action.
 */
static void
late_order(struct draft *d, long days_late)
{
	const struct policy *p = d->p;
	struct resolution *out = d->out;
	if (p->late_offer < 0)
		return;
	const struct action *a = &p->actions[p->late_offer];
	if (p->lost_after_days > 0 && days_late > p->lost_after_days) {
		needs_person(out, a->say);
		return;
	}
	const char *vars[] = {"action", a->say, NULL};
	char *text = tone_fill(p->tone.piece[PIECE_OFFER_ACTION], vars);
	say(d, text);
	cJSON *o = out->offer = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", "action");
	cJSON_AddStringToObject(o, "action", a->say);
	cJSON_AddStringToObject(o, "text", text);
	free(text);
	out->awaiting = AWAIT_CONFIRM;
}

/* The prohibited topic the customer's message raises, or NULL (the policy's name). */
static const char *
raised_topic(const struct policy *p, const char *text)
{
	for (size_t i = 0; text != NULL && i < p->ntopics; i++)
		if (patset_match(&p->topics[i].patterns, text) >= 0)
			return p->topics[i].name;
	return NULL;
}

/* Quotes a fact's customer-facing text, once per conversation; returns 1 when quoted. */
static int
say_fact(struct draft *d, const struct conversation *c, const struct kb_hit *h)
{
	char *id = xasprintf("fact:%s", h->fact.id);
	if (told(c, id)) {
		free(id);
		return 0;
	}
	char *pub = kb_fact_public(h->fact.content);
	if (pub == NULL || *pub == '\0') {
		/* Only agent-only text: it guides the agent, never the customer. */
		free(pub);
		free(id);
		return 0;
	}
	char *sentences = first_sentences(pub, 360);
	/* KB facts speak of "the customer"; the reply speaks to them. */
	char *to_you = tone_to_reader(sentences, d->p->tone.reader);
	say(d, to_you);
	free(to_you);
	free(sentences);
	free(pub);
	tell(d, id);
	return 1;
}

/* A stale hit loses to a fresh one close behind it: a careful agent quotes the current fact. */
#define FRESH_OVER_STALE 0.15

/* Hit i, or the fresh hit after it that a careful agent would quote instead. */
static const struct kb_hit *
fresher(const struct kb_hits *hits, size_t i, double floor)
{
	const struct kb_hit *h = &hits->v[i];
	for (size_t j = i + 1; h->stale && j < hits->n; j++) {
		const struct kb_hit *o = &hits->v[j];
		if (o->confidence < floor || h->confidence - o->confidence >= FRESH_OVER_STALE)
			break;
		if (!o->stale)
			return o;
	}
	return h;
}

/* Is the question where an order is: a delivery or return, or the order the agent asked for? */
static int
about_delivery(const struct conversation *c, const struct triage_result *t)
{
	return t->intent_category == CAT_SHIPPING || t->intent_category == CAT_RETURNS ||
	       (c->act == ACT_DETAIL && c->awaiting == AWAIT_ORDER_NUMBER) ||
	       /* nothing else specific: the order named is what the message is about */
	       (t->intent_category == CAT_GENERAL && t->entities.order_numbers.n > 0);
}

/* Does the conversation talk about one of the customer's own orders? */
static int
own_order(const struct triage_result *t)
{
	return (t->dialogue.cues & 1u << CUE_ORDER) != 0;
}

/* The reply to a greeting, thanks, yes or no, a bot question or small talk. */
static void
compose_social(struct draft *d, const struct conversation *c, const struct tool_call *calls,
               int ncalls)
{
	struct resolution *out = d->out;
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c->offer, "kind");
	int offered = c->offer != NULL;
	out->feat[FEAT_SOCIAL] = 1;
	switch (c->act) {
	case ACT_GREETING:
		say_piece(d, PIECE_GREETING);
		break;
	case ACT_THANKS:
		say_piece(d, PIECE_CLOSING);
		break;
	case ACT_DENY:
		if (offered) {
			say_piece(d, PIECE_DECLINED_OFFER);
			say_piece(d, PIECE_ANYTHING_ELSE);
			out->offered_more = 1;
		} else if (c->offered_more)
			say_piece(d, PIECE_CLOSING);
		else {
			say_piece(d, PIECE_ANYTHING_ELSE);
			out->offered_more = 1;
		}
		break;
	case ACT_AFFIRM:
		if (offered && cJSON_IsString(kind) && strcmp(kind->valuestring, "handoff") == 0) {
			out->handoff = 1;
			break;
		}
		if (offered && cJSON_IsString(kind) && strcmp(kind->valuestring, "action") == 0) {
			const char *what =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->offer, "action"));
			needs_person(out, what ? what : d->p->tone.piece[PIECE_HANDOFF]);
			break;
		}
		if (offered) {
			/* The write accepted ran (or was refused) this turn. */
			int done_ = 0;
			for (int i = 0; i < ncalls; i++)
				if (tool_table[calls[i].tool].authority == TOOL_WRITE) {
					if (write_done(&calls[i])) {
						say_write(d, &calls[i]);
						done_ = 1;
					} else
						out->refused = 1;
				}
			if (out->refused) {
				const char *what = cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(c->offer, "action"));
				out->action = xstrdup(what ? what : "do that");
			} else if (done_) {
				out->feat[FEAT_TOOL] = 1;
				say_piece(d, PIECE_ANYTHING_ELSE);
				out->offered_more = 1;
			}
			break;
		}
		say_piece(d, PIECE_ASK_MORE);
		break;
	case ACT_BOT_QUESTION: {
		say_piece(d, PIECE_BOT);
		say_piece(d, PIECE_OFFER_HANDOFF);
		cJSON *o = out->offer = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", "handoff");
		cJSON_AddStringToObject(o, "text", d->p->tone.piece[PIECE_OFFER_HANDOFF]);
		out->awaiting = AWAIT_CONFIRM;
		break;
	}
	case ACT_OUT_OF_SCOPE:
		say_piece(d, PIECE_OUT_OF_SCOPE);
		break;
	case ACT_ACK:
		say_piece(d, PIECE_ACK);
		say_piece(d, PIECE_ANYTHING_ELSE);
		out->offered_more = 1;
		break;
	default:
		break;
	}
}

/* The reply to a question: tool results, a fact, a decline, or what is missing. */
static void
compose_answer(struct draft *d, const struct agents *ag, const struct conversation *c,
               const struct triage_result *t, const struct kb_hits *hits,
               const struct tool_call *calls, int ncalls)
{
	const struct policy *p = ag->policy;
	struct resolution *out = d->out;
	const char *text = c->words.n > 0 ? c->words.v[c->words.n - 1] : "";
	int answered = 0, wrong = 0, lookup_failed = 0;
	struct draft body = {.p = p, .out = out};
	buf_init(&body.b, 0);

	const struct action *want = asked_action(p, text);
	/* A prohibited topic is declined, with what can be said instead. */
	const char *topic = raised_topic(p, text);
	if (topic != NULL) {
		/* The policy's own words for it: what a careful person says too. */
		say(&body, tone_decline(&p->tone, topic));
		out->declined = topic;
		out->feat[FEAT_SOCIAL] = 1;
		answered = 1;
	}

	for (int i = 0; i < ncalls; i++) {
		const struct tool_call *k = &calls[i];
		if (tool_table[k->tool].authority == TOOL_WRITE) {
			out->acted = 1;
			/* Asked for and not done: only a human can do it now. */
			if (!write_done(k)) {
				out->refused = 1;
				wrong = 1;
				if (want != NULL) {
					free(out->action);
					out->action = xstrdup(want->say);
				}
				continue;
			}
			say_write(&body, k);
			out->feat[FEAT_TOOL] = 1;
			answered = 1;
			continue;
		}
		if (k->tool == TOOL_GET_ORDER_STATUS && k->allowed && k->result == NULL) {
			/* The order could not be looked up: no general fact answers for it. */
			lookup_failed = 1;
			continue;
		}
		if (!k->allowed || k->result == NULL)
			continue;
		if (k->tool == TOOL_GET_ORDER_STATUS) {
			const char *id = str_field(k->args, "order_id");
			if (!found(k->result)) {
				const char *vars[] = {"order", id ? id : "", NULL};
				say_filled(&body, PIECE_NOT_FOUND, vars);
				out->awaiting = AWAIT_ORDER_NUMBER;
				out->feat[FEAT_ASKED] = 1;
				wrong = 1;
				continue;
			}
			const cJSON *o = cJSON_GetObjectItemCaseSensitive(k->result, "order");
			const char *status = str_field(o ? o : k->result, "status");
			/* Where the order is answers a delivery question, not a billing one. */
			if (!about_delivery(c, t))
				continue;
			char *key = xasprintf("order:%s:%s", id ? id : "", status ? status : "");
			/* Said once, unless the customer names the order again or gives it now. */
			int again = t->entities.order_numbers.n > 0 || c->act == ACT_DETAIL;
			if (told(c, key) && !again) {
				free(key);
				continue;
			}
			long days_late = say_order_status(&body, k->args, k->result,
			                                  ag->day ? ag->day : ag->fresh.today);
			if (days_late > 0) {
				wrong = 1;
				if (want == NULL)
					late_order(&body, days_late);
			}
			tell(&body, key);
			out->feat[FEAT_TOOL] = 1;
			answered = 1;
		}
	}

	/* What the account's own data says to it ("when is my next payment?"). */
	for (int i = 0; i < ncalls && ag->kb != NULL; i++)
		if (calls[i].tool == TOOL_GET_CUSTOMER_ACCOUNT && calls[i].allowed &&
		    found(calls[i].result) &&
		    say_account_field(&body, ag, c, calls[i].result, text)) {
			out->feat[FEAT_TOOL] = 1;
			answered = 1;
			break;
		}

	/*
	 * The best fact not told yet, if it is good enough to quote: the
	 * retrieval confidence is the probability that it answers, so below the
	 * policy's floor it is more likely wrong than right.
	 */
	double floor = p->esc.retrieval_floor;
	for (size_t i = 0; i < hits->n && !out->used && !lookup_failed; i++) {
		const struct kb_hit *h = fresher(hits, i, floor);
		if (h->confidence < floor)
			break;
		if (!say_fact(&body, c, h))
			continue;
		out->used = h;
		size_t next = (size_t)(h - hits->v) + 1;
		out->feat[FEAT_FACT_CONF] = h->confidence;
		out->feat[FEAT_FACT_MARGIN] =
		    next < hits->n ? h->confidence - hits->v[next].confidence : h->confidence;
		out->feat[FEAT_COVERAGE] = h->feat[0];
		if (h->stale) {
			char days[16];
			snprintf(days, sizeof days, "%d", h->freshness_days);
			const char *vars[] = {"days", days, NULL};
			out->caveat = tone_fill(p->tone.piece[PIECE_STALE], vars);
			say(&body, out->caveat);
			out->feat[FEAT_STALE] = 1;
		}
		answered = 1;
	}

	/* A question about the account itself: what the account says. */
	for (int i = 0; i < ncalls && !answered && t->intent_category == CAT_ACCOUNT; i++)
		if (calls[i].tool == TOOL_GET_CUSTOMER_ACCOUNT && calls[i].allowed &&
		    found(calls[i].result)) {
			size_t before = body.b.len;
			say_account(&body, calls[i].result);
			if (body.b.len > before) {
				out->feat[FEAT_TOOL] = 1;
				answered = 1;
			}
		}

	/* Ask for what is missing rather than guess, once. */
	int needs_order = (own_order(t) || t->intent_category == CAT_SHIPPING ||
	                   t->intent_category == CAT_RETURNS ||
	                   requested(p, c, TOOL_APPLY_STANDARD_CREDIT) ||
	                   requested(p, c, TOOL_RESEND_CONFIRMATION)) &&
	                  t->entities.order_numbers.n == 0 && c->orders.n == 0;
	/* Only a question about the customer's own order needs its number. */
	int order_first = needs_order && own_order(t);
	if (order_first && c->awaiting != AWAIT_ORDER_NUMBER && out->awaiting == AWAIT_NONE) {
		say_piece(&body, PIECE_ASK_ORDER_NUMBER);
		out->awaiting = AWAIT_ORDER_NUMBER;
	}
	int needs_email =
	    (t->intent_category == CAT_ACCOUNT || t->intent_category == CAT_BILLING) &&
	    (c->customer_id == NULL || *c->customer_id == '\0') && t->entities.emails.n == 0;
	if (needs_email && !answered && c->awaiting != AWAIT_EMAIL && out->awaiting == AWAIT_NONE) {
		say_piece(&body, PIECE_ASK_EMAIL);
		out->awaiting = AWAIT_EMAIL;
	}
	/*
	 * Torn between two readings and nothing answers: ask which. "Something
	 * else" is no reading to offer: general means triage does not know.
	 */
	if (!answered && out->awaiting == AWAIT_NONE && c->awaiting != AWAIT_CHOICE &&
	    t->intent_category != CAT_GENERAL && t->runner_up != CAT_GENERAL &&
	    t->runner_up_confidence >= 0.3 &&
	    t->intent_confidence - t->runner_up_confidence < 0.25) {
		const char *vars[] = {"a", p->tone.category_words[t->intent_category], "b",
		                      p->tone.category_words[t->runner_up], NULL};
		say_filled(&body, PIECE_ASK_CHOICE, vars);
		out->awaiting = AWAIT_CHOICE;
	}
	if (out->awaiting != AWAIT_NONE && out->offer == NULL) {
		out->feat[FEAT_ASKED] = 1;
		out->pending = xstrdup(c->act == ACT_DETAIL && c->pending ? c->pending : text);
	}
	/* Asked for what no tool did and the customer cannot do: a person does it. */
	if (want != NULL && !want->self_serve && !out->acted && out->awaiting == AWAIT_NONE)
		needs_person(out, want->say);

	/* The opening: sorry when something went wrong, thanks for a detail given. */
	if (c->act == ACT_DETAIL)
		say_piece(d, PIECE_ACKNOWLEDGEMENT);
	if (t->sentiment == SENT_FRUSTRATED || wrong)
		say_piece(d, PIECE_APOLOGY);
	say(d, body.b.data);
	buf_free(&body.b);

	if (!answered && out->awaiting == AWAIT_NONE && !out->refused && !out->needs_person)
		out->feat[FEAT_NONE] = 1;
	else if (answered && out->awaiting == AWAIT_NONE && !out->refused && !out->needs_person) {
		say_piece(d, PIECE_ANYTHING_ELSE);
		out->offered_more = 1;
	}
}

void
resolution_compose(const struct agents *ag, const struct conversation *c,
                   const struct triage_result *t, const struct kb_hits *hits,
                   const struct tool_call *calls, int ncalls, struct resolution *out)
{
	memset(out, 0, sizeof *out);
	struct draft d = {.p = ag->policy, .out = out};
	buf_init(&d.b, 0);
	if (act_asks(c->act))
		compose_answer(&d, ag, c, t, hits, calls, ncalls);
	else
		compose_social(&d, c, calls, ncalls);
	out->confidence = resolution_confidence(out->feat);
	str_trim(d.b.data);
	out->reply = xstrdup(d.b.data);
	buf_free(&d.b);
}

void
resolution_free(struct resolution *r)
{
	free(r->reply);
	free(r->caveat);
	cJSON_Delete(r->offer);
	free(r->pending);
	free(r->action);
	strv_free(&r->told);
	memset(r, 0, sizeof *r);
}
