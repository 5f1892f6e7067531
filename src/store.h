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
int store_conversation_handler(struct store *, int64_t conv, const char *handler, const char *owner,
                               char **cause);
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

/*
 * Shadow replays. A run is begun, gets one result per ticket (the replay
 * result object of DESIGN.md section 5; copied) and is finished with the
 * number of tickets and the report.
 */
int store_replay_begin(struct store *, const char *source, const char *version, int64_t *run,
                       char **cause);
int store_replay_result(struct store *, int64_t run, const char *ticket, const cJSON *result,
                        char **cause);
int store_replay_finish(struct store *, int64_t run, int64_t tickets, const cJSON *report,
                        char **cause);
/* [{"id","source","version","started","finished","tickets"}...], newest first. */
int store_replay_runs(struct store *, cJSON **out, char **cause);
/* One run as a row of the list plus its "report" (run 0: the newest); *out NULL when none. */
int store_replay_run(struct store *, int64_t run, cJSON **out, char **cause);
/*
 * Calls fn with each result of the run, in order, without holding them
 * all in memory (fn must not keep the object). A non-zero return from fn
 * stops the walk (and is not an error).
 */
int store_replay_each(struct store *, int64_t run, int (*fn)(const cJSON *result, void *arg),
                      void *arg, char **cause);

/*
 * Trainer reviews: a correction (a JSON object, copied) of a handoff
 * packet. A missing handoff is refused ("no handoff packet N").
 */
int store_review_add(struct store *, int64_t handoff, const char *reviewer, const cJSON *correction,
                     int64_t *id, char **cause);
/* [{"id","handoff","conversation","reviewer","created","correction"}...], oldest first. */
int store_reviews(struct store *, cJSON **out, char **cause);

/*
 * The rollout and canary logs (kind "rollout" or "canary"): every change
 * is an entry with an action ("advance", "rollback", "start", "promote",
 * ...), the state after it (a JSON object, copied), who did it and why.
 */
int store_rollout_add(struct store *, const char *kind, const char *action, const cJSON *state,
                      const char *actor, const char *reason, char **cause);
/* [{"id","action","state","actor","reason","at"}...], newest first. */
int store_rollout_log(struct store *, const char *kind, cJSON **out, char **cause);
/* The newest entry's state, or *out NULL when the log is empty. */
int store_rollout_state(struct store *, const char *kind, cJSON **out, char **cause);

#endif
