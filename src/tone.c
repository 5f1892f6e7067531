/* tone.c -- the pieces the agent's replies are written from. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tone.h"

static const char *const no_vars[] = {NULL};
static const char *const v_choices[] = {"choices", NULL};
static const char *const v_ab[] = {"a", "b", NULL};
static const char *const v_eta[] = {"eta", NULL};
static const char *const v_days[] = {"days", NULL};
static const char *const v_order[] = {"order", NULL};
static const char *const v_action[] = {"action", NULL};

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

char *
tone_fill(const char *text, const char *const *vars)
{
	struct buf b;
	buf_init(&b, 0);
	for (const char *p = text; *p != '\0';) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		const char *v = close ? var_value(p + 1, (size_t)(close - p - 1), vars) : NULL;
		if (v != NULL) {
			buf_adds(&b, v);
			p = close + 1;
		} else
			buf_addc(&b, *p++);
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
