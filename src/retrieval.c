/* retrieval.c -- the knowledge retrieval service: FTS5, or hybrid with embeddings, on the loop. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "model.h"
#include "retrieval.h"

/*
 * The service's state for one open KB, kept with it (kb_set_companion).
 * Model calls in flight hold a reference: when the KB closes first, the
 * state is orphaned (kb NULL) and the last call to come back frees it.
 */
struct rstate {
	struct kb *kb;
	struct models *m;
	int refs; /* the KB's, and one per model call in flight */

	/* The backfill: facts being embedded into the cache. */
	int running;
	struct kb_embed_todo todo;
	size_t next; /* the first text not yet sent */
	int inflight;
	char *fault, *error; /* the first failure, which ends the backfill */
	int attempts;
	int64_t prompt_tokens;
	double cost_usd;
	size_t embedded;
	struct rq *waiters;
};

/* One retrieval in flight. */
struct rq {
	struct rstate *st;
	char *query;
	int k;
	struct kb_freshness fr;
	int has_fr;
	struct kb_hint hint;
	int has_hint;
	retrieval_done_fn done;
	void *arg;
	struct rq *next; /* in the waiters */
	uint64_t timer;  /* how long it waits for the backfill */
	struct retrieval_result r;
	char *fault, *error;
};

/* One backfill request. */
struct batch {
	struct rstate *st;
	size_t first, n;
};

static void
state_unref(struct rstate *st)
{
	if (--st->refs > 0)
		return;
	kb_embed_todo_free(&st->todo);
	free(st->fault);
	free(st->error);
	free(st);
}

static void
rq_free(struct rq *q)
{
	free(q->query);
	free(q->fault);
	free(q->error);
	free(q);
}

/* kb_close: the state loses its KB; waiting retrievals are dropped without a call. */
static void
state_orphan(void *p)
{
	struct rstate *st = p;
	st->kb = NULL;
	for (struct rq *q = st->waiters, *next; q != NULL; q = next) {
		next = q->next;
		if (q->timer)
			loop_timer_del(models_loop(st->m), q->timer);
		rq_free(q);
	}
	st->waiters = NULL;
	state_unref(st);
}

static struct rstate *
state_of(struct kb *kb, struct models *m)
{
	struct rstate *st = kb_companion(kb);
	if (st == NULL) {
		st = xcalloc(1, sizeof *st);
		st->kb = kb;
		st->refs = 1;
		kb_set_companion(kb, st, state_orphan);
	}
	st->m = m;
	return st;
}

static const char *
emb_model(const struct rstate *st)
{
	return models_model(st->m, AGENT_EMBEDDINGS);
}

/* Answers with FTS5 alone; fault and error say why embeddings are not used (may be NULL). */
static void
finish_fts(struct rq *q, const char *fault, const char *error)
{
	char *cause = NULL;
	struct kb *kb = q->st->kb;
	if (fault != NULL) {
		free(q->fault);
		free(q->error);
		q->fault = xstrdup(fault);
		q->error = xstrdup(error ? error : fault);
	}
	q->r.fault = q->fault;
	q->r.error = q->error;
	q->r.hybrid = 0;
	if (kb_search_hinted(kb, q->query, q->k, q->has_fr ? &q->fr : NULL,
	                     q->has_hint ? &q->hint : NULL, &q->r.hits, &cause) != 0)
		q->r.kb_error = cause;
	q->done(&q->r, q->arg);
	kb_hits_free(&q->r.hits);
	free(q->r.kb_error);
	rq_free(q);
}

static void
query_embedded(const struct embed_result *e, void *arg)
{
	struct rq *q = arg;
	struct rstate *st = q->st;
	if (st->kb == NULL) { /* the KB was closed meanwhile */
		rq_free(q);
		state_unref(st);
		return;
	}
	q->r.attempts += e->attempts;
	q->r.prompt_tokens += e->prompt_tokens;
	q->r.cost_usd += e->cost_usd;
	if (!e->ok) {
		finish_fts(q, e->fault ? e->fault : "error", e->error);
		state_unref(st);
		return;
	}
	char *cause = NULL;
	size_t have = kb_embedded(st->kb, emb_model(st));
	size_t all = kb_count(st->kb);
	if (kb_search_hybrid(st->kb, q->query, e->v, e->dim, emb_model(st), q->k,
	                     q->has_fr ? &q->fr : NULL, q->has_hint ? &q->hint : NULL, &q->r.hits,
	                     &cause) != 0) {
		/* Vectors that do not fit the cache (another dimension): it is dropped. */
		finish_fts(q, "invalid-vectors", cause);
		free(cause);
		state_unref(st);
		return;
	}
	q->r.hybrid = 1;
	q->r.facts_missing = all > have ? all - have : 0;
	q->done(&q->r, q->arg);
	kb_hits_free(&q->r.hits);
	rq_free(q);
	state_unref(st);
}

/* Step 2: the query's vector, then the fused search. */
static void
embed_query(struct rq *q)
{
	struct rstate *st = q->st;
	const char *in[] = {q->query};
	char *cause = NULL;
	st->refs++;
	if (model_embed(st->m, in, 1, query_embedded, q, &cause) != 0) {
		st->refs--;
		finish_fts(q, "request", cause);
		free(cause);
	}
}

static void backfill_send(struct rstate *st);

/* The backfill is over: every waiter goes on, the first carrying its cost. */
static void
backfill_end(struct rstate *st)
{
	struct rq *list = st->waiters;
	st->waiters = NULL;
	st->running = 0;
	kb_embed_todo_free(&st->todo);
	char *fault = st->fault, *error = st->error;
	st->fault = st->error = NULL;
	for (struct rq *q = list, *next; q != NULL; q = next) {
		next = q->next;
		if (q->timer) {
			loop_timer_del(models_loop(st->m), q->timer);
			q->timer = 0;
		}
		if (q == list) {
			q->r.attempts += st->attempts;
			q->r.prompt_tokens += st->prompt_tokens;
			q->r.cost_usd += st->cost_usd;
			q->r.facts_embedded = st->embedded;
		}
		if (fault != NULL)
			finish_fts(q, fault, error);
		else
			embed_query(q);
	}
	st->attempts = 0;
	st->prompt_tokens = 0;
	st->cost_usd = 0;
	st->embedded = 0;
	free(fault);
	free(error);
}

static void
batch_done(const struct embed_result *e, void *arg)
{
	struct batch *b = arg;
	struct rstate *st = b->st;
	st->inflight--;
	if (st->kb == NULL) {
		free(b);
		state_unref(st);
		return;
	}
	st->attempts += e->attempts;
	st->prompt_tokens += e->prompt_tokens;
	st->cost_usd += e->cost_usd;
	char *cause = NULL;
	if (!e->ok) {
		if (st->fault == NULL) {
			st->fault = xstrdup(e->fault ? e->fault : "error");
			st->error = xstrdup(e->error ? e->error : st->fault);
		}
	} else if (kb_embed_put(st->kb, emb_model(st),
	                        (const char *const *)st->todo.hashes.v + b->first, e->v, b->n,
	                        e->dim, &cause) != 0) {
		if (st->fault == NULL) {
			st->fault = xstrdup("cache");
			st->error = cause;
			cause = NULL;
		}
		free(cause);
	} else
		st->embedded += b->n;
	free(b);
	if (st->fault == NULL && st->next < st->todo.texts.n)
		backfill_send(st);
	else if (st->inflight == 0)
		backfill_end(st);
	state_unref(st);
}

/* Keeps RETRIEVAL_PARALLEL batches in flight while texts remain. */
static void
backfill_send(struct rstate *st)
{
	while (st->fault == NULL && st->inflight < RETRIEVAL_PARALLEL &&
	       st->next < st->todo.texts.n) {
		struct batch *b = xcalloc(1, sizeof *b);
		b->st = st;
		b->first = st->next;
		b->n = st->todo.texts.n - st->next;
		if (b->n > RETRIEVAL_BATCH)
			b->n = RETRIEVAL_BATCH;
		char *cause = NULL;
		st->refs++;
		if (model_embed(st->m, (const char *const *)st->todo.texts.v + b->first, b->n,
		                batch_done, b, &cause) != 0) {
			st->refs--;
			st->fault = xstrdup("request");
			st->error = cause;
			free(b);
			break;
		}
		st->inflight++;
		st->next += b->n;
	}
	if (st->inflight == 0)
		backfill_end(st);
}

/* Starts the backfill when facts lack vectors; returns whether one is running. */
static int
backfill_start(struct rstate *st, char **cause)
{
	if (st->running)
		return 1;
	if (kb_embed_pending(st->kb, emb_model(st), &st->todo, cause) != 0)
		return -1;
	if (st->todo.texts.n == 0) {
		kb_embed_todo_free(&st->todo);
		return 0;
	}
	st->running = 1;
	st->next = 0;
	backfill_send(st);
	return st->running;
}

/* A waiter that waited long enough goes on with the vectors cached so far. */
static void
wait_expired(struct loop *l, void *arg)
{
	(void)l;
	struct rq *q = arg;
	struct rstate *st = q->st;
	q->timer = 0;
	for (struct rq **pp = &st->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	embed_query(q);
}

void
retrieval_start(struct kb *kb, struct models *m, const char *query, int k,
                const struct kb_freshness *fr, retrieval_done_fn done, void *arg)
{
	retrieval_start_hinted(kb, m, query, k, fr, NULL, done, arg);
}

void
retrieval_start_hinted(struct kb *kb, struct models *m, const char *query, int k,
                       const struct kb_freshness *fr, const struct kb_hint *hint,
                       retrieval_done_fn done, void *arg)
{
	struct rq *q = xcalloc(1, sizeof *q);
	q->query = xstrdup(query);
	q->k = k;
	if (fr != NULL) {
		q->fr = *fr;
		q->has_fr = 1;
	}
	if (hint != NULL) {
		q->hint = *hint;
		q->has_hint = 1;
	}
	q->done = done;
	q->arg = arg;
	int blank = query[strspn(query, " \t\r\n")] == '\0';
	if (m == NULL || !models_can_embed(m) || blank) {
		struct rstate none = {.kb = kb};
		q->st = &none;
		finish_fts(q, NULL, NULL);
		return;
	}
	struct rstate *st = state_of(kb, m);
	q->st = st;
	q->r.embeddings = 1;
	q->r.model = emb_model(st);
	char *cause = NULL;
	int running = backfill_start(st, &cause);
	if (running < 0) {
		finish_fts(q, "cache", cause);
		free(cause);
		return;
	}
	if (!running) {
		embed_query(q);
		return;
	}
	/* Waits for the backfill, at the end of the line. */
	struct rq **pp = &st->waiters;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = q;
	q->timer = loop_timer_add(models_loop(m), RETRIEVAL_WAIT_MS, wait_expired, q);
}
