/* answer-type.h -- the kind of value a question asks for, and the kinds a text holds. */
#ifndef FL_ANSWER_TYPE_H
#define FL_ANSWER_TYPE_H

/*
 * "What email do I write to?" asks for an e-mail address, "how long do I
 * have to return it?" for a duration, "how much is Plus a year?" for a
 * price: a fact that answers it holds one. These are English question
 * forms and value shapes, the same for every company's knowledge base.
 */
enum {
	ANSWER_EMAIL = 1u << 0,
	ANSWER_PHONE = 1u << 1,
	ANSWER_PRICE = 1u << 2,
	ANSWER_DURATION = 1u << 3, /* 30 days, 2 business days, 48 hours */
	ANSWER_TIME = 1u << 4,     /* a time of day: 10 pm, 1:30 */
	ANSWER_DATE = 1u << 5,     /* November 26, Monday */
};

/* The kinds of value question asks for (bits above), 0 when it names none. */
unsigned answer_asked(const char *question);

/*
 * The same, appending to cue (lower case) the words that only ask, the
 * "long" of "how long" and the "much" of "how much": they say what kind
 * of answer is wanted, not what it is about.
 */
struct strv;
unsigned answer_asked_cue(const char *question, struct strv *cue);

/* The kinds of value text holds. */
unsigned answer_held(const char *text);

#endif
