/* store.h -- the durable store: everything that happens to a conversation, in SQLite. */
#ifndef FL_STORE_H
#define FL_STORE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "types.h"
#include "util.h"

struct store;

/*
 * Opens (creating and migrating) the store at path, in WAL mode with
 * synchronous=FULL. Returns NULL with *cause (caller frees). A database
 * whose schema is newer than this binary is refused.
 */
struct store *store_open(const char *path, char **cause);
void store_close(struct store *);

/* Groups calls into one transaction; store_commit makes them durable. */
int store_begin(struct store *, char **cause);
int store_commit(struct store *, char **cause);
void store_rollback(struct store *);

/* Creates or updates a customer (NULL fields, and a tier of TIER__N, keep what was stored). */
int store_customer_put(struct store *, const char *id, const char *name, const char *email,
                       enum tier tier, char **cause);

/*
 * The customer's open conversation, or a new one. *created says which.
 * Conversation ids are positive.
 */
int store_conversation_open(struct store *, const char *customer_id, int64_t *conv, int *created,
                            char **cause);
/* Closes it with a state: "resolved", "escalated", "abandoned". */
int store_conversation_close(struct store *, int64_t conv, const char *state, char **cause);

/*
 * Who handles an open conversation: "ai", "waiting" (for a human, after a
 * handoff) or "human" (owner: who took it over; NULL otherwise).
 */
int store_conversation_handler(struct store *, int64_t conv, const char *handler,
                               const char *owner, char **cause);
/*
 * Open conversations, and those closed at or after closed_since (an
 * ISO-8601 time; NULL for none), oldest first: [{"id","customer","name",
 * "tier","state","handler","owner","created","closed"}...] with null for
 * what is unknown. The caller frees *out.
 */
int store_conversation_list(struct store *, const char *closed_since, cJSON **out, char **cause);
/* One conversation as a row of the list; *out NULL when there is none. */
int store_conversation_get(struct store *, int64_t conv, cJSON **out, char **cause);

/* role: "customer", "ai", "human". Returns the message id in *id (may be NULL). */
int store_message_add(struct store *, int64_t conv, const char *role, const char *text, int64_t *id,
                      char **cause);
/* An event: kind "triage", "retrieval", "tool", "validation", "escalation", "disclosure",
 * "handoff", "outcome", ...; payload is copied. */
int store_event_add(struct store *, int64_t conv, const char *kind, const cJSON *payload,
                    char **cause);

/* A handoff packet (JSON) for the conversation; *id gets its id. */
int store_handoff_add(struct store *, int64_t conv, const cJSON *packet, int64_t *id, char **cause);

/* The time the store writes now, ISO-8601 UTC (FRONTLINE_TODAY's date when set). */
void store_now(char out[64]);

/* Rows read back. Each returns 0 or -1 with *cause; the caller frees the cJSON. */
/* [{"id","role","text","at"}...] in order. */
int store_messages(struct store *, int64_t conv, cJSON **out, char **cause);
/* [{"id","kind","payload","at"}...] in order. */
int store_events(struct store *, int64_t conv, cJSON **out, char **cause);
/* [{"id","conversation","customer","created","reason"}...], newest first. */
int store_handoff_list(struct store *, cJSON **out, char **cause);
/* The packet with its id, or *out NULL when there is none. */
int store_handoff_get(struct store *, int64_t id, cJSON **out, char **cause);

#endif
