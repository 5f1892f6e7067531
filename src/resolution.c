/* resolution.c -- the resolution agent: plans governed tool calls and composes grounded replies. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolution.h"

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

void
resolution_plan(const struct conversation *c, const struct triage_result *t, struct plan *p)
{
	memset(p, 0, sizeof *p);
	/* The newest order number: this message's, else one given before. */
	const char *order = NULL;
	if (t->entities.order_numbers.n > 0)
		order = t->entities.order_numbers.v[0];
	else if (c->orders.n > 0 && (t->intent_category == CAT_SHIPPING ||
	                             t->intent_category == CAT_RETURNS || (c->asked & ASK_ORDER)))
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

/* "Your order A12345 is shipped with UPS (tracking 1Z...), expected on 2026-10-05." */
static void
say_order(struct buf *b, const cJSON *call_args, const cJSON *r)
{
	const char *id = str_field(call_args, "order_id");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, "order");
	if (o == NULL)
		o = r;
	const char *status = str_field(o, "status"), *carrier = str_field(o, "carrier");
	const char *tracking = str_field(o, "tracking"), *eta = str_field(o, "eta");
	buf_printf(b, "Your order %s is %s", id ? id : "", status ? status : "in our system");
	if (carrier)
		buf_printf(b, " with %s", carrier);
	if (tracking)
		buf_printf(b, " (tracking number %s)", tracking);
	if (eta)
		buf_printf(b, ", expected to arrive on %s", eta);
	buf_adds(b, ". ");
}

static void
say_account(struct buf *b, const cJSON *r)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "account");
	if (a == NULL)
		a = r;
	const char *plan = str_field(a, "plan"), *status = str_field(a, "status");
	if (plan == NULL && status == NULL)
		return;
	buf_adds(b, "I can see your account");
	if (plan)
		buf_printf(b, " is on the %s plan", plan);
	if (status)
		buf_printf(b, "%s status %s", plan ? " with" : " has", status);
	buf_adds(b, ". ");
}

void
resolution_compose(const struct agents *ag, const struct conversation *c,
                   const struct triage_result *t, const struct kb_hits *hits,
                   const struct tool_call *calls, int ncalls, struct resolution *out)
{
	struct buf b;
	double conf = 0;
	int answered = 0;

	memset(out, 0, sizeof *out);
	buf_init(&b, 0);
	if (t->sentiment == SENT_FRUSTRATED)
		buf_adds(&b, "I'm sorry for the trouble, and I want to make sure this gets "
		             "resolved for you. ");

	for (int i = 0; i < ncalls; i++) {
		const struct tool_call *k = &calls[i];
		if (!k->allowed || k->result == NULL)
			continue;
		if (k->tool == TOOL_GET_ORDER_STATUS) {
			if (found(k->result)) {
				say_order(&b, k->args, k->result);
				conf = fmax(conf, 0.9);
				answered = 1;
			} else {
				buf_printf(
				    &b,
				    "I couldn't find order %s on your account. Could you check "
				    "the order number in your confirmation email? ",
				    str_field(k->args, "order_id") ? str_field(k->args, "order_id")
				                                   : "");
				out->asked |= ASK_ORDER;
				conf = fmax(conf, 0.75);
			}
		} else if (k->tool == TOOL_GET_CUSTOMER_ACCOUNT && found(k->result)) {
			size_t before = b.len;
			say_account(&b, k->result);
			if (b.len > before)
				conf = fmax(conf, 0.75);
		}
	}

	/* The best fact, if it is good enough to quote. */
	const struct kb_hit *h = hits->n > 0 ? &hits->v[0] : NULL;
	if (h != NULL && h->confidence >= ag->policy->esc.retrieval_floor) {
		char *s = first_sentences(h->fact.content, 360);
		buf_printf(&b, "%s ", s);
		free(s);
		double kc = h->confidence;
		if (h->stale) {
			out->caveat =
			    xasprintf("Please note this comes from information last updated "
			              "%d days ago, so a specialist may need to confirm it.",
			              h->freshness_days);
			buf_printf(&b, "%s ", out->caveat);
			kc -= STALE_PENALTY;
		}
		out->used = h;
		conf = fmax(conf, kc);
		answered = 1;
	}

	/* Ask for what is missing rather than guess. */
	int needs_order =
	    (t->intent_category == CAT_SHIPPING || t->intent_category == CAT_RETURNS) &&
	    t->entities.order_numbers.n == 0 && c->orders.n == 0;
	if (needs_order && !(c->asked & ASK_ORDER)) {
		buf_adds(&b, "Could you share your order number? It is in your confirmation "
		             "email, a letter followed by digits. ");
		out->asked |= ASK_ORDER;
		conf = fmax(conf, 0.8);
	}
	int needs_email =
	    (t->intent_category == CAT_ACCOUNT || t->intent_category == CAT_BILLING) &&
	    (c->customer_id == NULL || *c->customer_id == '\0') && t->entities.emails.n == 0;
	if (needs_email && !(c->asked & ASK_EMAIL)) {
		buf_adds(&b, "Could you tell me the email address on your account, so I can look "
		             "it up? ");
		out->asked |= ASK_EMAIL;
		conf = fmax(conf, 0.8);
	}

	if (!answered && out->asked == 0) {
		/* Never a refusal without another path. */
		buf_adds(&b, "Here's what I can do: I can connect you with a specialist who can "
		             "look into this with you. ");
		conf = fmin(conf, 0.3);
	} else if (answered && out->asked == 0)
		buf_adds(&b, "Is there anything else I can help you with?");

	/* A message triage reads as no support request is not one the agent can resolve. */
	if (t->intent_category == CAT_GENERAL && t->intent_confidence < 0.25)
		conf *= 0.5;
	out->confidence = conf;
	str_trim(b.data);
	b.len = strlen(b.data);
	out->reply = xstrdup(b.data);
	buf_free(&b);
}

void
resolution_free(struct resolution *r)
{
	free(r->reply);
	free(r->caveat);
	memset(r, 0, sizeof *r);
}
