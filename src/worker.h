/* worker.h -- frontline worker: answers claimed conversations from the shared store. */
#ifndef FL_WORKER_H
#define FL_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "agents.h"
#include "loop.h"
#include "store.h"

/*
 * A worker answers conversations with customer messages waiting for the
 * AI (stored by frontline serve, or left by a console), on the process's
 * loop: it claims one (store_claim: on PostgreSQL FOR UPDATE SKIP
 * LOCKED, so any number of workers share the queue), runs one turn per
 * customer message through the same steps as the console (ai-turn.h),
 * renews the claim's lease while the turn is in flight, and stores the
 * turn in a transaction that starts by finishing the claim: a claim lost
 * meanwhile (the lease ran out, another worker took over) stores nothing;
 * a conversation a human took over meanwhile gets its reply withheld.
 *
 * Work is found through notifications (LISTEN frontline_work) where the
 * store has them; without (SQLite) the queue is looked at every poll_ms.
 * Either way it is looked at again once per lease, for claims whose
 * worker died.
 */

struct rollout_live;

struct worker_opts {
	const char *id;  /* the claim holder, unique among workers (e.g. "host:pid") */
	long lease_ms;   /* a claim's lease; renewed every third of it while a turn runs */
	int concurrency; /* turns in flight at most */
	long poll_ms;    /* without notifications: how often the queue is looked at */
	/* Lines for the operator, or NULL: one per turn (info), and problems (warn). */
	void (*info)(void *arg, const char *line);
	void (*warn)(void *arg, const char *line);
	void *arg;
};

struct worker_stats {
	uint64_t turns;    /* turns stored */
	uint64_t withheld; /* of which withheld: a human took over mid-turn */
	uint64_t lost;     /* turns dropped: the claim was lost meanwhile */
	uint64_t errors;   /* turns not stored: a store failure (the lease runs out, retried) */
	uint64_t closed;   /* conversations the idle timeout closed */
};

struct worker;

/*
 * A worker on the loop, the store (its own connection: it LISTENs and
 * holds transactions), the agents and the rollout in force (live may be
 * NULL), all borrowed: they must outlive it. ag is read at each turn's
 * start, so the caller may point it at a reloaded policy. opts is
 * copied (id too). Nothing is claimed before worker_start.
 */
struct worker *worker_new(struct loop *, struct store *, const struct agents *ag,
                          struct rollout_live *live, const struct worker_opts *);
/*
 * Listens for work (where the store can) and looks at the queue. Returns
 * 0, or -1 with *cause (caller frees).
 */
int worker_start(struct worker *, char **cause);
/*
 * The idle timeout: closes the AI's conversations with nothing stored
 * since before (NULL: the policy's lifecycle.idle_close_minutes ago;
 * ending_close_idle), counted in the stats' closed. The worker does it on
 * its own about once a minute once started. Returns 0 or -1 with *cause.
 */
int worker_close_idle(struct worker *, const char *before, char **cause);
/* No more claims from now on; turns in flight go on to their end. */
void worker_drain(struct worker *);
/* Turns in flight. */
size_t worker_busy(const struct worker *);
/* Nothing in flight and the queue had nothing claimable at the last look. */
int worker_idle(const struct worker *);
/*
 * Gives up the claims of the turns in flight (their customers' messages
 * stay pending for another worker): their results are dropped when they
 * end. For a worker told to stop twice.
 */
void worker_release(struct worker *);
const struct worker_stats *worker_stats(const struct worker *);
/* Frees the worker; turns still in flight are released first (worker_release). */
void worker_free(struct worker *);

#endif
