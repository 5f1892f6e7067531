/* dialogue.h -- dialogue acts: what a customer message does in the conversation. */
#ifndef FL_DIALOGUE_H
#define FL_DIALOGUE_H

/*
 * What a message does. The first seven can be read from its words alone
 * (dialogue_read); the conversation refines them with what the agent
 * said last (dialogue_interpret): "yes" accepts an offer, an order
 * number answers the question the agent asked, a customer asking for a
 * person is the policy's to decide.
 */
enum dialogue_act {
	ACT_QUESTION,       /* a support question or request */
	ACT_GREETING,       /* hello, and nothing else */
	ACT_THANKS,         /* thanks, praise, closing: the customer is done */
	ACT_AFFIRM,         /* yes: accepts what was offered */
	ACT_DENY,           /* no: declines what was offered */
	ACT_BOT_QUESTION,   /* "am I talking to a bot?" */
	ACT_HUMAN_QUESTION, /* asks about people ("do you have staff at weekends?") */
	ACT_HUMAN_REQUEST,  /* asks for a person (the policy's patterns) */
	ACT_OUT_OF_SCOPE,   /* not a support request at all */
	ACT_DETAIL,         /* gives the detail the agent asked for */
	ACT_ACK,            /* "ok, I'll try that": acknowledges, asks nothing */
	ACT__N
};
/* NULL-terminated, indexed by enum dialogue_act: "question", "greeting", ... */
extern const char *const dialogue_act_names[];

/*
 * What the agent waits for from the customer after its reply: a detail it
 * asked for, a choice between two readings, or a yes or no to an offer.
 * A customer who leaves while the agent waits has abandoned the chat.
 */
enum awaiting {
	AWAIT_NONE,
	AWAIT_ORDER_NUMBER,
	AWAIT_EMAIL,
	AWAIT_DEVICE,
	AWAIT_CHOICE,
	AWAIT_CONFIRM,
	AWAIT__N
};
/* NULL-terminated, indexed by enum awaiting: "none", "order_number", ... */
extern const char *const awaiting_names[];

/* Cues of a message (bits of dialogue_reading.cues), from the rules file. */
enum dialogue_cue {
	CUE_BOT,
	CUE_HUMAN,
	CUE_CONTRAST,
	CUE_REQUEST, /* asks for something: "can you", "please", "how do I" */
	CUE_ORDER,   /* the customer's own order, parcel, return */
	CUE_SELF,    /* what the customer will do: "I'll try that", "doing it now" */
	CUE_DENY,
	CUE_THANKS,
	CUE_AFFIRM,
	CUE_GREETING,
	CUE_FILLER,
	CUE__N
};

struct dialogue_rules;

/*
 * Loads the cue rules (data/triage/dialogue.rules, frontline-triage(5)).
 * Returns NULL with *cause (caller frees) as "file:line: message".
 */
struct dialogue_rules *dialogue_load(const char *path, char **cause);
void dialogue_free(struct dialogue_rules *);

/* What the words of one message say on their own. */
struct dialogue_reading {
	enum dialogue_act act; /* read without context: question, greeting, thanks, affirm,
	                          deny, ack, bot_question or human_question */
	unsigned cues;         /* bit per enum dialogue_cue found, not negated */
	int lead;              /* the cue covering the first word, or -1 */
	int content;           /* words that are neither cue nor filler */
	int question;          /* the message holds a '?' */
	char rest[128];        /* those words, lower case, space-separated (truncated) */
};

/* Reads text (any bytes) with rules; a NULL rules reads every message as a question. */
void dialogue_read(const struct dialogue_rules *, const char *text, struct dialogue_reading *);

/* What the conversation knows when it interprets a message. */
struct dialogue_context {
	int offer_pending;   /* the agent offered something the customer may accept */
	const char *offer;   /* what it offered, in words (may be NULL) */
	int awaiting_detail; /* the agent asked for a detail... */
	int detail_given;    /* ...and the message holds it (an order number, an email) */
	int human_requested; /* the policy's human_request_patterns match */
	int out_of_scope;    /* triage reads no support request and no fact answers it */
};

/* The message's act in the conversation. */
enum dialogue_act dialogue_interpret(const struct dialogue_reading *,
                                     const struct dialogue_context *);

#endif
