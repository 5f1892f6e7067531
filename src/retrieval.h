/* retrieval.h -- the knowledge retrieval service: FTS5, or hybrid with embeddings, on the loop. */
#ifndef FL_RETRIEVAL_H
#define FL_RETRIEVAL_H

#include <stdint.h>

#include "kb.h"

struct models;

/*
 * Without an embeddings model a retrieval is kb_search, done at once.
 * With one (models_can_embed), it is asynchronous on the models' loop:
 *
 *  1. Facts without a vector for the model are embedded first, in
 *     batches of RETRIEVAL_BATCH texts, RETRIEVAL_PARALLEL requests at a
 *     time, and cached in the index (kb_embed_put): once per fact and
 *     model, shared by every retrieval of the process; retrievals that
 *     arrive meanwhile wait for the same backfill. One that has waited
 *     RETRIEVAL_WAIT_MS goes on with the vectors cached so far.
 *  2. The query is embedded (one request).
 *  3. kb_search_hybrid fuses the two rankings.
 *
 * When embeddings fail -- the endpoint is down, times out, its breaker
 * is open, its vectors are malformed or of the wrong dimension -- the
 * retrieval falls back to kb_search and says why; it never fails for
 * that. The backfill is tried again by the next retrieval.
 */
#define RETRIEVAL_BATCH    64
#define RETRIEVAL_PARALLEL 2
#define RETRIEVAL_WAIT_MS  5000

/* How a retrieval went; valid during the callback. */
struct retrieval_result {
	struct kb_hits hits; /* the callee may take them (and zero this) */
	char *kb_error;      /* a database error (no hits), or NULL */
	int embeddings;      /* an embeddings model was asked: the fields below say how it went */
	int hybrid;          /* the hits are fused with the vector ranking */
	const char *fault;   /* why embeddings failed and FTS5 answered alone, or NULL */
	const char *error;
	const char *model;
	int attempts; /* embeddings requests, retries included */
	int64_t prompt_tokens;
	double cost_usd;
	size_t facts_embedded; /* facts this retrieval had embedded into the cache */
	size_t facts_missing;  /* facts without a vector when it searched (hybrid) */
};

typedef void (*retrieval_done_fn)(struct retrieval_result *, void *arg);

/*
 * Retrieves up to k facts for query (copied); fr may be NULL. models
 * may be NULL: FTS5 alone. done runs exactly once: before this returns
 * for FTS5 alone, else from the loop. The kb must stay open until done
 * has run.
 */
void retrieval_start(struct kb *, struct models *, const char *query, int k,
                     const struct kb_freshness *fr, retrieval_done_fn done, void *arg);

/*
 * retrieval_start with a topic hint (kb_search_hinted; copied, NULL for
 * none): the conversation passes triage's intent, kb_hint_category(
 * t.intent_category, t.intent_confidence).
 */
void retrieval_start_hinted(struct kb *, struct models *, const char *query, int k,
                            const struct kb_freshness *fr, const struct kb_hint *hint,
                            retrieval_done_fn done, void *arg);

#endif
