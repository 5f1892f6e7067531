/* customer-proto.h -- the customer protocol: line-delimited JSON between the console and customers.
 */
#ifndef FL_CUSTOMER_PROTO_H
#define FL_CUSTOMER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "types.h"
#include "util.h"

/*
 * frontline-protocol(7) is the reference. One JSON object per line, UTF-8,
 * each line ended by '\n' (a '\r' before it is dropped). Both sides ignore
 * types and fields they do not know, so either can grow.
 *
 *   customer -> console   hello, say, rate, bye
 *   console -> customer   welcome, message, state, typing, error
 */

#define CP_MAX_LINE    65536 /* bytes in a line, without its newline */
#define CP_MAX_TEXT    16384 /* bytes of a say's text */
#define CP_MAX_NAME    128   /* bytes of a display name */
#define CP_MAX_ID      64    /* bytes of a customer id */
#define CP_MAX_COMMENT 2048  /* bytes of a rating's comment */

enum cp_type {
	CP_UNKNOWN, /* a type this side does not know, or one sent the other way: ignored */
	CP_HELLO,
	CP_SAY,
	CP_BYE,
	CP_WELCOME,
	CP_MESSAGE,
	CP_STATE,
	CP_TYPING,
	CP_ERROR,
	CP_RATE, /* the customer rates the conversation (CSAT) */
};

/* Who writes a console message: the AI agent or a human agent. */
enum cp_role { CP_ROLE_AI, CP_ROLE_HUMAN, CP_ROLE__N };

/* Who has the conversation now. */
enum cp_state {
	CP_STATE_AI,       /* the AI agent answers */
	CP_STATE_WAITING,  /* handed off, waiting for a human agent */
	CP_STATE_HUMAN,    /* a human agent answers */
	CP_STATE_RESOLVED, /* closed */
	CP_STATE__N
};

/* NULL-terminated, indexed by the enums: "ai", "human"; "ai", "waiting", "human", "resolved". */
extern const char *const cp_role_names[];
extern const char *const cp_state_names[];

/* Which way a line travels: decides which types are known. */
enum cp_dir { CP_TO_CONSOLE, CP_TO_CUSTOMER };

/* A decoded line. The strings point into json and live as long as it does. */
struct cp_msg {
	enum cp_type type;
	const char *customer; /* hello (NULL: not given), welcome (NULL: not given) */
	const char *name;     /* hello, message from a human agent (NULL: not given) */
	enum tier tier;       /* hello: TIER_STANDARD unless tier_given */
	int tier_given;
	const char *text;     /* say, message, error */
	enum cp_role role;    /* message; typing ("who") */
	const char *at;       /* message (NULL: not given) */
	enum cp_state state;  /* state */
	int64_t conversation; /* welcome */
	int score;            /* rate: 1 to 5; its comment is in text (NULL: none) */
	cJSON *json;
};

/*
 * Parses and validates one line (len bytes, no newline) travelling in
 * direction dir. Returns 0 with *m filled (free with cp_msg_free; type
 * CP_UNKNOWN for what this side ignores), or -1 with *cause (caller frees):
 * the line is not a JSON object, has no "type", or a known type has a
 * missing or invalid field. Checked: a customer id is 1 to CP_MAX_ID
 * letters, digits and "._:@+-"; a name at most CP_MAX_NAME bytes of UTF-8
 * without control characters; a tier one of tier_names; a say's text 1 to
 * CP_MAX_TEXT bytes of UTF-8 and not only white space; a rate's score an
 * integer 1 to 5 and its comment at most CP_MAX_COMMENT bytes of UTF-8
 * (empty or blank: none); roles and states
 * from the tables above; a conversation a non-negative integer.
 */
int cp_decode(const char *line, size_t len, enum cp_dir dir, struct cp_msg *m, char **cause);
void cp_msg_free(struct cp_msg *);

/*
 * A rating as a person types it: "N" or "N comment", N from 1 to 5, white
 * space around. Returns 0 with *score and *comment (pointing into s, NULL
 * when there is none), or -1 when s is not one.
 */
int cp_rating_parse(const char *s, int *score, const char **comment);

/* A valid customer id, and a valid display name, as cp_decode checks them. */
int cp_id_valid(const char *);
int cp_name_valid(const char *);

/*
 * Builders: each returns a new object (caller deletes with cJSON_Delete).
 * NULL arguments leave optional fields out: customer and tier in hello,
 * name in message (a human agent's display name), at in message (then the
 * current time, UTC, ISO-8601 to the second).
 */
cJSON *cp_new_hello(const char *customer, const char *name, const enum tier *tier);
cJSON *cp_new_say(const char *text);
cJSON *cp_new_bye(void);
/* A rating: score 1 to 5, comment NULL for none. */
cJSON *cp_new_rate(int score, const char *comment);
cJSON *cp_new_welcome(int64_t conversation, const char *customer);
cJSON *cp_new_message(enum cp_role, const char *name, const char *text, const char *at);
cJSON *cp_new_state(enum cp_state);
cJSON *cp_new_typing(enum cp_role);
cJSON *cp_new_error(const char *message);

/*
 * Appends msg as one line: compact JSON and '\n'. Strings are written as
 * valid UTF-8 (invalid bytes become U+FFFD) with every control character
 * (C0, DEL, C1), U+2028/U+2029 and the bidirectional controls (U+202A..
 * U+202E, U+2066..U+2069) escaped as \uXXXX, so the line can be shown on a
 * terminal as is. Returns 0, or -1 when b's maximum would be
 * exceeded (b unchanged).
 */
int cp_encode(struct buf *b, const cJSON *msg);

/*
 * Splits a byte stream into lines. partial holds an unfinished line between
 * calls (buf_init it; its maximum is not used). For each complete line,
 * without its "\n" or "\r\n", fn(arg, line, len) is called (line is
 * NUL-terminated); fn returns nonzero to stop. Returns 0 when all of data
 * was taken, 1 when fn stopped (the rest of data is dropped), or -1 when a
 * line exceeds CP_MAX_LINE bytes (partial is reset).
 */
int cp_lines_feed(struct buf *partial, const char *data, size_t len,
                  int (*fn)(void *arg, const char *line, size_t len), void *arg);

#endif
