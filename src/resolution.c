/* resolution.c -- the resolution agent: plans governed tool calls and composes grounded replies. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolution.h"
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

/* ------------------------------------------------------------ requests */

/*
 * What a customer may ask the agent to do. Only whether it was asked comes
 * from the customer's words; what is done (which order, how much) comes from
 * the tools' answers and the policy.
 */
enum request { REQ_CREDIT, REQ_RESEND };

static const char *const credit_words[] = {"credit",       "compensate", "compensated",
                                           "compensation", "goodwill",   NULL};
/* With "confirmation": it did not come, or should come again. */
static const char *const resend_words[] = {"send",    "resend",  "again", "never",
                                           "didnt",   "havent",  "hasnt", "not",
                                           "missing", "deleted", NULL};

static int
word_is(const char *w, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(w, s, len) == 0;
}

static int
word_in(const char *w, size_t len, const char *const *list)
{
	for (; *list != NULL; list++)
		if (word_is(w, len, *list))
			return 1;
	return 0;
}

/* Does text ask for r? */
static int
asks(const char *text, enum request r)
{
	size_t n = strlen(text);
	char *low = xmalloc(n + 1);
	struct token *w = xreallocarray(NULL, n / 2 + 1, sizeof *w);
	size_t nw = tokens_split((const unsigned char *)text, n, low, w);
	int subject = 0, verb = 0;

	for (size_t i = 0; i < nw; i++) {
		const char *t = low + w[i].off;
		size_t len = w[i].len;
		if (r == REQ_CREDIT) {
			/* A credit card is how they paid, not what they ask for. */
			int card =
			    i + 1 < nw && (word_is(low + w[i + 1].off, w[i + 1].len, "card") ||
			                   word_is(low + w[i + 1].off, w[i + 1].len, "cards"));
			if (word_in(t, len, credit_words) && !card)
				subject = verb = 1;
		} else if (word_is(t, len, "confirmation"))
			subject = 1;
		else if (word_in(t, len, resend_words))
			verb = 1;
	}
	free(low);
	free(w);
	return subject && verb;
}

/*
 * Was r asked for in this message, or in the one before when the agent
 * then asked for the order number it needed?
 */
static int
requested(const struct conversation *c, enum request r)
{
	size_t n = c->words.n;
	if (n > 0 && asks(c->words.v[n - 1], r))
		return 1;
	return n > 1 && (c->asked & ASK_ORDER) && asks(c->words.v[n - 2], r);
}

void
resolution_plan(const struct conversation *c, const struct triage_result *t, struct plan *p)
{
	memset(p, 0, sizeof *p);
	/* The newest order number: this message's, else one given before. */
	const char *order = NULL;
	if (t->entities.order_numbers.n > 0)
		order = t->entities.order_numbers.v[0];
	else if (c->orders.n > 0 &&
	         (t->intent_category == CAT_SHIPPING || t->intent_category == CAT_RETURNS ||
	          (c->asked & ASK_ORDER) || requested(c, REQ_CREDIT) || requested(c, REQ_RESEND)))
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
resolution_plan_writes(const struct policy *p, const struct conversation *c,
                       const struct tool_call *reads, int nreads, struct plan *out)
{
	memset(out, 0, sizeof *out);
	int credit = requested(c, REQ_CREDIT), resend = requested(c, REQ_RESEND);
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

/*
 * "I've applied a credit of $10.00 to your account for the trouble with order
 * A12346." The amount is said only as the backend confirmed it.
 */
static void
say_write(struct buf *b, const struct tool_call *k)
{
	const char *order = str_field(k->args, "order_id");
	if (k->tool == TOOL_APPLY_STANDARD_CREDIT) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(k->result, "amount_usd");
		if (cJSON_IsNumber(a))
			buf_printf(b, "I've applied a credit of $%.2f to your account",
			           a->valuedouble);
		else
			buf_adds(b, "I've applied a credit to your account");
		if (order)
			buf_printf(b, " for the trouble with order %s", order);
	} else {
		const char *to = str_field(k->result, "to");
		buf_printf(b, "I've sent the confirmation for order %s again", order ? order : "");
		if (to)
			buf_printf(b, " to %s", to);
	}
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
		if (tool_table[k->tool].authority == TOOL_WRITE) {
			/* Asked for and not done: only a human can do it now. */
			if (!write_done(k)) {
				out->refused = 1;
				continue;
			}
			say_write(&b, k);
			conf = fmax(conf, 0.9);
			answered = 1;
			continue;
		}
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
	    (t->intent_category == CAT_SHIPPING || t->intent_category == CAT_RETURNS ||
	     requested(c, REQ_CREDIT) || requested(c, REQ_RESEND)) &&
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
