/*
 * store.h -- the durable store: everything that happens to a conversation,
 * in SQLite (a file, the default) or PostgreSQL (a server shared by many
 * processes and machines).
 */
#ifndef FL_STORE_H
#define FL_STORE_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "types.h"
#include "util.h"

struct store;

/*
 * Opens (creating and migrating) the store at target: a target starting
 * postgresql:// or postgres:// is a PostgreSQL connection URI (libpq),
 * anything else the path of a SQLite file (WAL mode, synchronous=FULL).
 * Returns NULL with *cause (caller frees; it names no target: callers
 * print store_target_redacted's). A database whose schema is newer than
 * this binary is refused.
 */
struct store *store_open(const char *target, char **cause);
/* The same without migrating, for `frontline db status|migrate`. */
struct store *store_open_unmigrated(const char *target, char **cause);
void store_close(struct store *);

/* 1 when target names a PostgreSQL database. */
int store_is_postgres(const char *target);
/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *);
/* target with its password (if any) replaced by "***", for messages; caller frees. */
char *store_target_redacted(const char *target);

/* The schema version the database has, and the one this binary wants. */
int store_schema(struct store *, int *have, int *want, char **cause);
/* Applies the missing migrations (all or none); *from and *to say which. */
int store_migrate(struct store *, int *from, int *to, char **cause);
/*
 * {"backend","schema":{"have","want"},"open","pending","claimed",
 * "workers":{ID:claims}}: open conversations, those waiting for the AI,
 * and live claims (the counts only when the schema is current). Caller
 * frees *out.
 */
int store_status(struct store *, cJSON **out, char **cause);

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
/*
 * Closes it with its ending (ending.h: "resolved-agent", "resolved-human",
 * "abandoned", "unconfirmed"), in one transaction: the ending column, the
 * state (resolved for the first two, abandoned for the others: the coarse
 * view older scripts read) and an "ending" event whose payload is
 * {"ending"} and the members of evidence (a JSON object, copied; may be
 * NULL). A conversation that is not open is refused ("conversation N is
 * already STATE").
 */
int store_conversation_end(struct store *, int64_t conv, const char *ending, const cJSON *evidence,
                           char **cause);
/*
 * Inside a transaction (store_begin): locks the conversation's row until
 * it ends (PostgreSQL: FOR UPDATE; SQLite's write lock is the
 * transaction's), so that what is read next stays true until the commit.
 */
int store_conversation_lock(struct store *, int64_t conv, char **cause);
/*
 * Ids of the AI's open conversations with nothing stored since before
 * (an ISO-8601 time: no message, no event, created earlier) and no live
 * claim, oldest first, max at most: those an idle timeout closes.
 */
int store_conversation_idle(struct store *, const char *before, int max, cJSON **out, char **cause);

/*
 * Who handles an open conversation: "ai", "waiting" (for a human, after a
 * handoff) or "human" (owner: who took it over; NULL otherwise).
 */
int store_conversation_handler(struct store *, int64_t conv, const char *handler, const char *owner,
                               char **cause);
/*
 * Open conversations, and those closed at or after closed_since (an
 * ISO-8601 time; NULL for none), oldest first: [{"id","customer","name",
 * "tier","state","handler","owner","created","closed","ending",
 * "claimed_by"}...] with null for what is unknown: ending once it closed,
 * claimed_by the holder of a live claim (store_claim). The caller frees
 * *out.
 */
int store_conversation_list(struct store *, const char *closed_since, cJSON **out, char **cause);
/* One conversation as a row of the list; *out NULL when there is none. */
int store_conversation_get(struct store *, int64_t conv, cJSON **out, char **cause);

/*
 * role: "customer", "ai", "human". Returns the message id in *id (may be
 * NULL). A customer message makes the conversation pending for the AI
 * (see store_claim).
 */
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
/* Messages with id > after, in order, as store_messages' rows. */
int store_messages_after(struct store *, int64_t conv, int64_t after, cJSON **out, char **cause);
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

/*
 * Export and import: every table as JSON Lines (a header line
 * {"format":"frontline-export","schema":N}, then {"table":T,"row":{...}}
 * per row, ids kept), the same bytes for the same rows on either backend.
 * The export reads one snapshot. *rows counts the rows written or read.
 */
int store_export(struct store *, FILE *f, int64_t *rows, char **cause);
/*
 * Reads an export (name: the file's name, for messages) into an empty
 * store of the same schema, in one transaction; row ids continue past the
 * imported ones. Returns 0, 1 when a line is bad (*cause "NAME:LINE:
 * why"; nothing imported), 2 when the store is not empty, -1 on the
 * store's errors.
 */
int store_import(struct store *, FILE *f, const char *name, int64_t *rows, char **cause);

/* ------------------------------------------------- takeover, work queue */

/*
 * Atomic takeover: handler "human", owner who -- unless another human owns
 * it. Returns 0 taken (or already who's), 1 someone else has it (*cause
 * names them), -1 error (not open, the store).
 */
int store_conversation_take(struct store *, int64_t conv, const char *who, char **cause);

/*
 * The work queue: an open conversation with handler "ai" whose newest
 * customer message (last_customer) is newer than what the AI has answered
 * (answered).
 */
struct store_claim {
	int64_t conv;
	int64_t answered; /* the newest customer message id already answered (0: none) */
	int64_t upto;     /* the newest customer message id at the claim: the turn covers (answered,
	                     upto] */
};
/*
 * Claims a pending conversation for worker (an id unique per process, e.g.
 * "host:pid") for lease_ms: conv 0 = any (the one waiting longest first;
 * PostgreSQL: FOR UPDATE SKIP LOCKED), else that one. A live lease (of any
 * worker) is never taken; an expired one is. Lease times are on the
 * database's clock. Returns 1 (claimed, *out set), 0 (nothing to claim),
 * -1 with *cause.
 */
int store_claim(struct store *, const char *worker, int lease_ms, int64_t conv,
                struct store_claim *out, char **cause);
/* Extends worker's claim: 0, 1 when it was lost (released, or taken by another), -1 error. */
int store_claim_renew(struct store *, int64_t conv, const char *worker, int lease_ms, char **cause);
/*
 * First call inside the transaction (store_begin) that stores the turn:
 * locks the row, checks worker still holds the claim, marks customer
 * messages up to upto answered and ends the claim. *handler (a static
 * string: "ai", "waiting", "human", or "closed") says who has the
 * conversation now: anything but "ai" means a human took over mid-turn --
 * store the turn's events but withhold the reply. Returns 0, 1 when the
 * claim was lost (roll back: another worker has it), -1 error.
 */
int store_claim_finish(struct store *, int64_t conv, const char *worker, int64_t upto,
                       const char **handler, char **cause);
/* Gives the claim up without answering; the messages stay pending. 0 or -1. */
int store_claim_release(struct store *, int64_t conv, const char *worker, char **cause);

/* ------------------------------------------------------------ live changes */

/*
 * PostgreSQL: every transaction that changes a conversation (a message,
 * an event, a handoff, its handler, a takeover, a finished claim, its
 * opening or closing) sends NOTIFY frontline_conv when it commits, with a
 * payload that says what changed (struct store_change); one that adds a
 * customer message (or releases a claim, or hands the conversation back
 * to the AI) also frontline_work. The store does it: callers never notify
 * by hand. A conversation's messages and events commit in id order (its
 * row is locked before they take their ids), so a reader that goes on
 * from the newest ids it has read never skips one.
 *
 * SQLite has no notifications (store_notify_fd is -1): a process on a
 * SQLite store polls on a timer instead -- the embedded, single-machine
 * case.
 *
 * Notifications that arrive while the connection runs other queries are
 * kept by the store, so the fd may not turn readable for them: call
 * store_notifications when the fd is readable and after the loop's own
 * store calls (a "before sleep" step), or LISTEN on a connection of its
 * own.
 */
#define STORE_CHANNEL_CONV "frontline_conv"
#define STORE_CHANNEL_WORK "frontline_work"

/* What a transaction changed in a conversation: the bits of store_change.what. */
enum {
	STORE_CHANGE_OPENED = 1 << 0,   /* the conversation was opened */
	STORE_CHANGE_CUSTOMER = 1 << 1, /* a customer message */
	STORE_CHANGE_REPLY = 1 << 2,    /* an AI or human message */
	STORE_CHANGE_EVENT = 1 << 3,    /* events */
	STORE_CHANGE_HANDS = 1 << 4,    /* its state, handler or owner */
	STORE_CHANGE_PACKET = 1 << 5,   /* a handoff packet */
	STORE_CHANGE_CLAIM = 1 << 6,    /* a claim finished or released */
	/* A payload this store cannot read (another program's NOTIFY): anything may have. */
	STORE_CHANGE_ANY = (1 << 7) - 1,
};

/*
 * One notification. The payload is "CONV WHAT MESSAGE FIRST LAST": the
 * conversation's id, the letters of what changed (o c r e h p l, in the
 * order of the bits above), the id of the newest message the transaction
 * added and of the first and last of its events (0: none). Readers need
 * only the first field; the others say what is worth reading.
 */
struct store_change {
	const char *channel;
	int64_t conv;
	unsigned what;                   /* STORE_CHANGE_* */
	int64_t message;                 /* the newest message added; 0: none */
	int64_t event_first, event_last; /* the events added; 0: none */
	int own;                         /* committed on this connection */
};

/* Subscribes to channel (lower-case letters, digits, '_'). SQLite: 0, no-op. */
int store_listen(struct store *, const char *channel, char **cause);
/* The connection's socket to watch for reading; -1: none. */
int store_notify_fd(struct store *);
/*
 * For those that poll instead (SQLite): 1 when a transaction (this
 * connection's or another's) may have committed since the last call
 * (the first call says 1), 0 when none did, -1 with *cause. On
 * PostgreSQL it always says 1.
 */
int store_changed(struct store *, char **cause);
/*
 * Drains what arrived: fn per notification (the change is valid during
 * the call only), in the order the transactions committed. Returns the count,
 * or -1 with *cause when the connection was lost (the caller reopens).
 */
int store_notifications(struct store *, void (*fn)(void *arg, const struct store_change *),
                        void *arg, char **cause);

/*
 * What changed in a conversation after the ids a reader has: its messages
 * with id > msgs_after into *msgs and its events with id > events_after
 * into *events (store_messages' and store_events' rows, in order), in one
 * statement. An after of INT64_MAX reads none of that kind (an empty
 * array). bare (NULL: none) names event kinds as ",kind,kind,": their
 * payloads are left out (null), for a reader that does not show them. The
 * caller frees both.
 */
int store_conversation_since(struct store *, int64_t conv, int64_t msgs_after, int64_t events_after,
                             const char *bare, cJSON **msgs, cJSON **events, char **cause);

/*
 * fn (NULL: none) is told after each commit of this connection what it
 * changed in each conversation, as a notification would (own set) -- at
 * once, on either backend, and even when the notification never arrives
 * (the connection was lost). fn must not use the store. One per store.
 */
void store_on_commit(struct store *, void (*fn)(void *arg, const struct store_change *), void *arg);

/* The statements this connection has run (transaction control and LISTEN aside): a cost to count.
 */
uint64_t store_statements(const struct store *);

#endif
