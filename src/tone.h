/* tone.h -- the pieces the agent's replies are written from: policy data, not code. */
#ifndef FL_TONE_H
#define FL_TONE_H

#include "types.h"
#include "util.h"

/*
 * Every piece of a reply the offline agent writes itself (everything but
 * facts and tool results) comes from the policy's tone_guidelines.pieces
 * (frontline-policy(5)). A policy that leaves a piece out gets the
 * default in piece_defs, written for any company.
 */
enum piece {
	PIECE_GREETING,        /* "Hello! How can I help you today?" */
	PIECE_ACKNOWLEDGEMENT, /* a detail the agent asked for was given */
	PIECE_APOLOGY,         /* only when frustrated or something went wrong */
	PIECE_ANYTHING_ELSE,   /* after an answer */
	PIECE_ACK,             /* "ok, I'll try that": the customer needs nothing now */
	PIECE_ASK_MORE,        /* "yes" to "anything else?" */
	PIECE_CLOSING,         /* thanks, goodbye */
	PIECE_DECLINED_OFFER,  /* "no" to what was offered */
	PIECE_ASK_ORDER_NUMBER,
	PIECE_ASK_EMAIL,
	PIECE_ASK_DEVICE, /* {choices}: the products the question could be about */
	PIECE_ASK_CHOICE, /* {a}, {b}: two categories' words */
	PIECE_DECLINE,    /* a prohibited topic without a piece of its own */
	PIECE_OUT_OF_SCOPE,
	PIECE_BOT,            /* "am I talking to a bot?" */
	PIECE_OFFER_HANDOFF,  /* offers a person */
	PIECE_HANDOFF,        /* what the customer is told when a person takes over */
	PIECE_LATE,           /* {eta}: an order past its delivery date */
	PIECE_STALE,          /* {days}: a fact last updated long ago */
	PIECE_NOT_FOUND,      /* {order}: an order the tools do not know */
	PIECE_ACTION_HANDOFF, /* {action}: what was asked for or accepted needs a person */
	PIECE_OFFER_ACTION,   /* {action}: offers what a person would do next */
	PIECE_ACCOUNT_FIELD,  /* {field}, {value}: what the account's data says to a question */
	PIECE_ORDER_STATUS,   /* {order}, {status}, {carrier}, {tracking}, {eta}: an order looked up */
	PIECE_ACCOUNT_SUMMARY, /* {plan}, {status}: the account, when nothing else answers */
	PIECE_CREDIT_APPLIED,  /* {amount}, {order}: a goodwill credit the backend applied */
	PIECE_CONFIRMATION_RESENT, /* {order}, {to}: an order confirmation sent again */
	PIECE__N
};

struct piece_def {
	const char *name;        /* the key under tone_guidelines.pieces */
	const char *dflt;        /* the text when the policy has none */
	const char *const *vars; /* the placeholders it may hold, NULL-terminated */
};
/* Indexed by enum piece. */
extern const struct piece_def piece_defs[PIECE__N];

/* The policy's pieces, as loaded (policy.h holds one). */
struct tone {
	char *piece[PIECE__N];                /* owned; never NULL once loaded */
	struct strv decline_topics, declines; /* a prohibited topic's own decline */
	char *category_words[CAT__N];         /* how a category is named to a customer; owned */
	char *reader; /* what the knowledge base calls the customer ("customer"); owned */
};

/* Default category words ("a charge or your bill"), indexed by enum category. */
extern const char *const tone_category_defaults[CAT__N];

void tone_free(struct tone *);

/* The decline for a prohibited topic: its own piece, else the default one. */
const char *tone_decline(const struct tone *, const char *topic);

/*
 * A piece's text with its {placeholders} filled from vars, a
 * NULL-terminated list of name, value pairs; an unknown placeholder is
 * left as written. [An optional part] is said only when every
 * placeholder in it has a value that is not empty. Caller frees.
 */
char *tone_fill(const char *text, const char *const *vars);

/*
 * The first {placeholder} in text that is not among vars, as a string
 * the caller frees, or NULL when every one is known.
 */
char *tone_unknown_var(const char *text, const char *const *vars);

/*
 * A fact written about the customer as said to them: with reader
 * "customer", "the customer's plan" is "your plan", "the customer is
 * charged" "you are charged", "if the customer wants" "if you want", "to
 * the customer" "to you", "Customers can" "You can". Only the forms whose
 * rewrite is sure change ("customers who", "customer data" stay). Caller
 * frees.
 */
char *tone_to_reader(const char *text, const char *reader);

#endif
