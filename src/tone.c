/* tone.c -- the pieces the agent's replies are written from. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tone.h"

static const char *const no_vars[] = {NULL};
static const char *const v_choices[] = {"choices", NULL};
static const char *const v_ab[] = {"a", "b", NULL};
static const char *const v_eta[] = {"eta", NULL};
static const char *const v_days[] = {"days", NULL};
static const char *const v_order[] = {"order", NULL};
static const char *const v_action[] = {"action", NULL};
static const char *const v_field[] = {"field", "value", NULL};
static const char *const v_order_status[] = {"order", "status", "carrier", "tracking", "eta", NULL};
static const char *const v_account[] = {"plan", "status", NULL};
static const char *const v_credit[] = {"amount", "order", NULL};
static const char *const v_resent[] = {"order", "to", NULL};

/*
 * The defaults: plain, warm and company-neutral, so a policy written
 * without pieces still reads like a person. The shipped policy spells
 * every one out.
 */
const struct piece_def piece_defs[PIECE__N] = {
    [PIECE_GREETING] = {"greeting", "Hello! How can I help you today?", no_vars},
    [PIECE_ACKNOWLEDGEMENT] = {"acknowledgement", "Thanks, that helps.", no_vars},
    [PIECE_APOLOGY] = {"apology", "I'm sorry for the trouble.", no_vars},
    [PIECE_ANYTHING_ELSE] = {"anything_else", "Is there anything else I can help you with?",
                             no_vars},
    [PIECE_ACK] = {"ack", "Sounds good.", no_vars},
    [PIECE_ASK_MORE] = {"ask_more", "Of course. What else can I help you with?", no_vars},
    [PIECE_CLOSING] = {"closing", "You're welcome, I'm glad I could help. Have a great day!",
                       no_vars},
    [PIECE_DECLINED_OFFER] = {"declined_offer", "No problem.", no_vars},
    [PIECE_ASK_ORDER_NUMBER] = {"ask_order_number",
                                "Could you share your order number? It's in your order "
                                "confirmation email.",
                                no_vars},
    [PIECE_ASK_EMAIL] = {"ask_email",
                         "Could you tell me the email address on your account, so I can "
                         "look it up?",
                         no_vars},
    [PIECE_ASK_DEVICE] = {"ask_device", "Which one is this about: {choices}?", v_choices},
    [PIECE_ASK_CHOICE] = {"ask_choice",
                          "Just to make sure I help with the right thing: is this about {a} "
                          "or {b}?",
                          v_ab},
    [PIECE_DECLINE] = {"decline",
                       "That's a topic I'm not able to go into here, but I'm happy to help "
                       "with anything about your orders, account or our products.",
                       no_vars},
    [PIECE_OUT_OF_SCOPE] = {"out_of_scope",
                            "I'm here to help with your orders, deliveries, returns, billing, "
                            "account and our products. What can I help you with?",
                            no_vars},
    [PIECE_BOT] = {"bot",
                   "Yes, I'm an AI assistant. I can help with most questions right away, and "
                   "I can bring in a person whenever you'd like.",
                   no_vars},
    [PIECE_OFFER_HANDOFF] = {"offer_handoff", "Would you like me to connect you with a person?",
                             no_vars},
    [PIECE_HANDOFF] = {"handoff",
                       "I'm connecting you with a specialist who can help with this; they "
                       "will have the full context of our conversation.",
                       no_vars},
    [PIECE_LATE] = {"late", "It's running late: it was expected to arrive on {eta}.", v_eta},
    [PIECE_STALE] = {"stale",
                     "Please note this comes from information last updated {days} days "
                     "ago, so a specialist may need to confirm it.",
                     v_days},
    [PIECE_NOT_FOUND] = {"not_found",
                         "I couldn't find order {order} on your account. Could you check the "
                         "order number in your confirmation email?",
                         v_order},
    [PIECE_ACTION_HANDOFF] = {"action_handoff",
                              "I'll need a specialist to {action} for you, so I'm passing "
                              "this to them now with everything you've told me.",
                              v_action},
    [PIECE_OFFER_ACTION] = {"offer_action", "Would you like me to ask a specialist to {action}?",
                            v_action},
    [PIECE_ACCOUNT_FIELD] = {"account_field", "Your {field} is {value}.", v_field},
    [PIECE_ORDER_STATUS] = {"order_status",
                            "Your order {order}[ is {status}][ with {carrier}][ (tracking number "
                            "{tracking})][, expected to arrive on {eta}].",
                            v_order_status},
    [PIECE_ACCOUNT_SUMMARY] = {"account_summary",
                               "I can see your account[ is on the {plan} plan][ with status "
                               "{status}].",
                               v_account},
    [PIECE_CREDIT_APPLIED] = {"credit_applied",
                              "I've applied a credit[ of {amount}] to your account[ for the "
                              "trouble with order {order}].",
                              v_credit},
    [PIECE_CONFIRMATION_RESENT] = {"confirmation_resent",
                                   "I've sent the confirmation for order {order} again[ to {to}].",
                                   v_resent},
};

const char *const tone_category_defaults[CAT__N] = {
    [CAT_BILLING] = "a charge or your bill",
    [CAT_TECHNICAL] = "a device or the app not working",
    [CAT_ACCOUNT] = "your account or signing in",
    [CAT_SHIPPING] = "a delivery",
    [CAT_RETURNS] = "a return or refund",
    [CAT_GENERAL] = "something else",
};

void
tone_free(struct tone *t)
{
	for (int i = 0; i < PIECE__N; i++)
		free(t->piece[i]);
	for (int i = 0; i < CAT__N; i++)
		free(t->category_words[i]);
	free(t->reader);
	strv_free(&t->decline_topics);
	strv_free(&t->declines);
	memset(t, 0, sizeof *t);
}

const char *
tone_decline(const struct tone *t, const char *topic)
{
	for (size_t i = 0; topic != NULL && i < t->decline_topics.n; i++)
		if (strcmp(t->decline_topics.v[i], topic) == 0)
			return t->declines.v[i];
	return t->piece[PIECE_DECLINE];
}

/* The value of {name} (n bytes) in vars, or NULL. */
static const char *
var_value(const char *name, size_t n, const char *const *vars)
{
	for (; vars != NULL && vars[0] != NULL && vars[1] != NULL; vars += 2)
		if (strlen(vars[0]) == n && memcmp(vars[0], name, n) == 0)
			return vars[1];
	return NULL;
}

/*
 * Appends [p, end) to b with its {placeholders} filled (an unknown one
 * left as written); returns 0 when a placeholder's value was empty.
 */
static int
fill_span(struct buf *b, const char *p, const char *end, const char *const *vars)
{
	int full = 1;
	while (p < end) {
		const char *close = *p == '{' ? memchr(p, '}', (size_t)(end - p)) : NULL;
		const char *v = close ? var_value(p + 1, (size_t)(close - p - 1), vars) : NULL;
		if (v != NULL) {
			buf_adds(b, v);
			full &= *v != '\0';
			p = close + 1;
		} else
			buf_addc(b, *p++);
	}
	return full;
}

char *
tone_fill(const char *text, const char *const *vars)
{
	struct buf b;
	buf_init(&b, 0);
	for (const char *p = text; *p != '\0';) {
		/* [an optional part] is said only when all its placeholders have values. */
		const char *close = *p == '[' ? strchr(p, ']') : NULL;
		const char *end = close ? close : p + 1 + strcspn(p + 1, "[");
		if (close == NULL) {
			fill_span(&b, p, end, vars);
			p = end;
			continue;
		}
		struct buf part;
		buf_init(&part, 0);
		if (fill_span(&part, p + 1, close, vars))
			buf_add(&b, part.data, part.len);
		buf_free(&part);
		p = close + 1;
	}
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}

char *
tone_unknown_var(const char *text, const char *const *vars)
{
	for (const char *p = strchr(text, '{'); p != NULL; p = strchr(p + 1, '{')) {
		const char *close = strchr(p, '}');
		if (close == NULL)
			return NULL;
		size_t n = (size_t)(close - p - 1);
		int known = 0;
		for (size_t i = 0; vars[i] != NULL; i++)
			known |= strlen(vars[i]) == n && memcmp(vars[i], p + 1, n) == 0;
		if (!known)
			return xstrndup(p + 1, n);
	}
	return NULL;
}

/* ------------------------------------------------------ speaking to the reader */

struct word {
	const char *p;
	size_t n;
};

static int
is(struct word w, const char *lit)
{
	return w.n == strlen(lit) && strncasecmp(w.p, lit, w.n) == 0;
}

static int
is_any(struct word w, const char *const *lits)
{
	for (; *lits != NULL; lits++)
		if (is(w, *lits))
			return 1;
	return 0;
}

/* Words after which "the customer" is the object: "to the customer", "asks the customer". */
static const char *const object_before[] = {
    "to",       "for",    "with",    "from",  "by",     "ask",     "asks",    "tell",     "tells",
    "email",    "emails", "send",    "sends", "charge", "charges", "contact", "contacts", "notify",
    "notifies", "remind", "reminds", "let",   "lets",   "give",    "gives",   NULL};
static const char *const modals[] = {"can",  "cannot", "could", "should", "would",
                                     "will", "may",    "might", "must",   NULL};
/* Words after "customers" that make it no subject of what follows: "customers who". */
static const char *const not_subject[] = {
    "who", "whose", "in", "of",  "with",    "and",     "or",    "but", "that", "which", "from",
    "on",  "at",    "to", "for", "outside", "without", "using", "by",  "is",   "was",   NULL};
/* Words after which "customers" opens a clause: not "new customers", "all customers". */
static const char *const clause_openers[] = {
    "if",   "when",  "unless", "once",   "because", "so",   "and",   "but",
    "then", "while", "until",  "before", "after",   "that", "where", NULL};
static const char *const be[][2] = {
    {"is", "are"}, {"was", "were"}, {"has", "have"}, {"does", "do"}};

/* A third-person verb's plain form ("wants" -> "want", "tries" -> "try") into b, or 0. */
static int
add_plain_verb(struct buf *b, struct word w)
{
	for (size_t i = 0; i < sizeof be / sizeof be[0]; i++)
		if (is(w, be[i][0])) {
			buf_adds(b, be[i][1]);
			return 1;
		}
	if (is_any(w, modals)) {
		buf_add(b, w.p, w.n);
		return 1;
	}
	if (w.n < 4 || tolower((unsigned char)w.p[w.n - 1]) != 's' ||
	    strchr("su'", tolower((unsigned char)w.p[w.n - 2])) != NULL)
		return 0;
	if (strncasecmp(w.p + w.n - 3, "ies", 3) == 0) {
		buf_add(b, w.p, w.n - 3);
		buf_addc(b, 'y');
		return 1;
	}
	static const char *const es[] = {"sses", "shes", "ches", "xes", "zes", "oes", NULL};
	for (const char *const *e = es; *e != NULL; e++) {
		size_t k = strlen(*e);
		if (w.n > k && strncasecmp(w.p + w.n - k, *e, k) == 0) {
			buf_add(b, w.p, w.n - 2);
			return 1;
		}
	}
	buf_add(b, w.p, w.n - 1);
	return 1;
}

/* Does a sentence end right after w? */
static int
ends_sentence(struct word w)
{
	const char *e = w.p + w.n;
	return *e == '.' || *e == ';' || *e == '?' || *e == '!' || *e == ':';
}

/* "you" or "your", capitalised like the word it replaces. */
static void
add_you(struct buf *b, struct word like, const char *you)
{
	buf_addc(b,
	         isupper((unsigned char)like.p[0]) ? (char)toupper((unsigned char)you[0]) : you[0]);
	buf_adds(b, you + 1);
}

char *
tone_to_reader(const char *text, const char *reader)
{
	if (reader == NULL || *reader == '\0')
		return xstrdup(text);
	/* The words, then each rewrite from the words around it. */
	size_t nw = 0, cap = 16;
	struct word *w = xmalloc(cap * sizeof *w);
	for (const char *p = text; *p != '\0';) {
		if (!isalpha((unsigned char)*p)) {
			p++;
			continue;
		}
		const char *q = p;
		while (isalpha((unsigned char)*q) || *q == '\'')
			q++;
		if (nw == cap)
			w = xrealloc(w, (cap *= 2) * sizeof *w);
		w[nw++] = (struct word){p, (size_t)(q - p)};
		p = q;
	}
	char *possessive = xasprintf("%s's", reader);
	char *plural = xasprintf("%ss", reader);
	struct buf b;
	buf_init(&b, 0);
	const char *done = text;
	/* Only words one space apart read as one phrase. */
#define NEXT_TO(i) ((i) + 1 < nw && w[(i) + 1].p == w[i].p + w[i].n + 1)
	for (size_t i = 0; i < nw; i++) {
		struct buf r;
		buf_init(&r, 0);
		size_t upto = i; /* the last word rewritten */
		int subject = 0; /* the reader now does what follows: "you keep" */
		if (is(w[i], "the") && NEXT_TO(i) && is(w[i + 1], possessive)) {
			add_you(&r, w[i], "your");
			upto = i + 1;
		} else if (is(w[i], "the") && NEXT_TO(i) && is(w[i + 1], reader)) {
			struct buf verb;
			buf_init(&verb, 0);
			if (NEXT_TO(i + 1) && add_plain_verb(&verb, w[i + 2])) {
				add_you(&r, w[i], "you ");
				buf_add(&r, verb.data, verb.len);
				upto = i + 2;
				subject = 1;
			} else if (i > 0 && is_any(w[i - 1], object_before)) {
				add_you(&r, w[i], "you");
				upto = i + 1;
			}
			buf_free(&verb);
		} else if (is(w[i], plural) && NEXT_TO(i) && !is_any(w[i + 1], not_subject) &&
		           (i == 0 || ends_sentence(w[i - 1]) || w[i - 1].p[w[i - 1].n] == ',' ||
		            is_any(w[i - 1], clause_openers))) {
			add_you(&r, w[i], "you");
			subject = 1;
		}
		if (r.len > 0) {
			buf_add(&b, done, (size_t)(w[i].p - done));
			buf_add(&b, r.data, r.len);
			done = w[upto].p + w[upto].n;
			i = upto;
			/* "you cancel or picks another plan": the verbs it goes on with. */
			while (subject && i + 2 < nw && NEXT_TO(i) && NEXT_TO(i + 1) &&
			       (is(w[i + 1], "or") || is(w[i + 1], "and"))) {
				struct buf v;
				buf_init(&v, 0);
				int verb =
				    add_plain_verb(&v, w[i + 2]) && !is_any(w[i + 2], modals);
				if (verb) {
					buf_add(&b, done, (size_t)(w[i + 2].p - done));
					buf_add(&b, v.data, v.len);
					done = w[i + 2].p + w[i + 2].n;
					i += 2;
				}
				buf_free(&v);
				if (!verb)
					break;
			}
			/* "You delete their account": the rest of the sentence is yours too. */
			for (size_t j = i + 1; subject && j < nw && !ends_sentence(w[j - 1]); j++)
				if (is(w[j], "their") || is(w[j], "themselves")) {
					buf_add(&b, done, (size_t)(w[j].p - done));
					buf_adds(&b, is(w[j], "their") ? "your" : "yourself");
					done = w[j].p + w[j].n;
					i = j;
				}
		}
		buf_free(&r);
	}
#undef NEXT_TO
	buf_adds(&b, done);
	free(possessive);
	free(plural);
	free(w);
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}
