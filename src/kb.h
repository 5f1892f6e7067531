/* kb.h -- the knowledge base: facts, their freshness, and retrieval. */
#ifndef FL_KB_H
#define FL_KB_H

#include <cjson/cJSON.h>

#include "diag.h"
#include "types.h"
#include "util.h"

/* One discrete fact (a file, or one "## " section of a file). */
struct kb_fact {
	char *id;
	char *title;
	char *context; /* a section fact's file title ("Factory reset steps"), or NULL */
	char *content;
	char *source; /* file path as found under the KB directory */
	int line;     /* line of the fact in that file */
	enum topic topic;
	char *product;
	long updated; /* days since the epoch */
	int version;
	int volatile_;
	unsigned missing; /* KB_MISSING_* bits: metadata the file left out */
};

#define KB_MISSING_PRODUCT  0x1
#define KB_MISSING_VERSION  0x2
#define KB_MISSING_VOLATILE 0x4

struct kb_facts {
	struct kb_fact *v;
	size_t n, cap;
};
void kb_facts_free(struct kb_facts *);

/*
 * Parses one fact file's text into facts, appended to out. Problems go
 * to d as "file:line:col: message"; a file with errors adds no facts.
 * Returns 0 or -1.
 */
int kb_parse_file(const char *path, const char *text, size_t len, struct kb_facts *out,
                  struct diag *d);

/* Reads every *.md under dir (sorted); bad files are reported and skipped. */
int kb_load_dir(const char *dir, struct kb_facts *out, struct diag *d, char **cause);

/* Freshness settings, from the policy. */
struct kb_freshness {
	long today;
	int stale_after_days;
	unsigned volatile_topics; /* bit per enum topic */
};
int kb_fact_freshness(const struct kb_fact *, const struct kb_freshness *, int *stale);

/*
 * A fact's content as a customer may read it: without its agent-only
 * paragraphs (those that open with "Agent only:", frontline-kb(5)).
 * Caller frees; "" when the whole fact is for agents.
 */
char *kb_fact_public(const char *content);
/* The agent-only paragraphs, without their marker; caller frees ("" when none). */
char *kb_fact_agent_notes(const char *content);

struct kb; /* an open index */

/*
 * Whether text holds word as the index reads words (stemmed: "payments"
 * holds "payment"). kb may not be NULL.
 */
int kb_text_holds(struct kb *kb, const char *text, const char *word);

/*
 * Opens the index for the facts under dir, bringing it up to date: only
 * files whose size or time changed are parsed again. index is a SQLite
 * file path, ":memory:", or NULL for the default under
 * $XDG_CACHE_HOME/frontline. Invalid files are reported in d and left
 * out. Returns NULL with *cause (caller frees) when the KB cannot be
 * opened at all.
 */
struct kb *kb_open(const char *dir, const char *index, struct diag *d, char **cause);
/*
 * How far an open is: told after each file looked at, done of total, and
 * how many of them were parsed again (0 throughout when the index is
 * current).
 */
struct kb_progress {
	void (*fn)(void *arg, size_t done, size_t total, size_t parsed);
	void *arg;
};
/* kb_open, telling p (NULL: nobody) how far it is. */
struct kb *kb_open_progress(const char *dir, const char *index, const struct kb_progress *p,
                            struct diag *d, char **cause);
void kb_close(struct kb *);
size_t kb_count(const struct kb *);
/* How many files the last kb_open parsed again (0 when the index was current). */
size_t kb_reindexed(const struct kb *);

/*
 * Confidence features of a hit (README, How retrieval works):
 *  0  coverage: the share of the query's idf whose words the fact holds
 *     (a product's name counts for half, order numbers and other words
 *     with digits that no fact holds not at all, words no fact holds in
 *     full: a question about what the KB never mentions is covered less)
 *  1  the same for its title
 *  2  its bm25 relative to the best candidate's
 *  3  the best candidate's margin over the second, times its coverage
 *     and 1 - 1/(query words): 0 for the others and for one-word queries
 *  4  the best bm25 per unit of query idf
 *  5  the share of the query's neighbouring word pairs that are
 *     neighbours in the fact
 *  6  whether the fact holds the kind of value the query asks for (1),
 *     lacks it (-1), or the query asks for none (0): answer_asked()
 *  7  the topic hint's confidence: positive when the fact is on a hinted
 *     topic, negative when on another category's, 0 without a hint
 *  8  the query's words, a tenth each, up to 1
 *  9  the share of the idf of the fact's title that the query holds
 * 10  whether the title names a product the query names (1), only other
 *     products (-1), or the query names none, or the title none (0)
 */
#define KB_NFEAT 11
/* The calibrated probability for a hit's features (logistic model). */
double kb_calibrate(const double feat[KB_NFEAT]);

struct kb_hit {
	struct kb_fact fact; /* owned by the hit */
	double score;        /* bm25, higher is better */
	double confidence;   /* calibrated probability that this hit answers the query */
	int freshness_days;
	int stale;
	double feat[KB_NFEAT]; /* what the confidence was computed from */
	/* Hybrid retrieval (kb_search_hybrid) only: */
	int hybrid;
	double cosine;             /* with the query's vector; NAN when the fact has none */
	int fts_rank, vector_rank; /* 1-based place in each ranking, 0 when not in it */
	double fused;              /* kb_rrf of the two */
	long long row;             /* the fact's row in the index */
};

struct kb_hits {
	struct kb_hit *v;
	size_t n;
	size_t query_terms; /* terms left after stopwords and common terms */
	int hybrid;         /* fused with a vector ranking */
};
void kb_hits_free(struct kb_hits *);

/*
 * Retrieves up to k facts for query, best first. Returns 0, or -1 with
 * *cause (caller frees) on a database error. No hits is not an error.
 */
int kb_search(struct kb *, const char *query, int k, const struct kb_freshness *,
              struct kb_hits *out, char **cause);

/*
 * A topic hint: what triage read the message as. topics has a bit per
 * enum topic (1u << TOPIC_SHIPPING) for the categories it points to,
 * and confidence is how sure it is (its intent confidence). It is a
 * soft prior, one more feature of the calibrated model: facts on
 * another category's topic score lower, facts on the hinted topics
 * higher, and facts on policy, pricing and product, which answer
 * questions of any category, are left alone.
 */
struct kb_hint {
	unsigned topics;
	double confidence;
};

/* The hint for a triage category and its confidence. */
struct kb_hint kb_hint_category(enum category, double confidence);

/* kb_search with a topic hint (NULL: none, as kb_search). */
int kb_search_hinted(struct kb *, const char *query, int k, const struct kb_freshness *,
                     const struct kb_hint *, struct kb_hits *out, char **cause);

/* ------------------------------------------------------ embeddings */

/*
 * Fact vectors live in the index database, keyed by the SHA-256 of the
 * text embedded (the fact's title, after its file's title for a section,
 * and its content) and by the model's name: a fact is embedded once per
 * model, an edited fact or another model finds no vector and is embedded
 * again, and the vectors outlive a rebuilt index. Vectors of text no
 * fact holds any more are dropped when the KB changes.
 */

/* Facts without a vector for a model: content hashes and the text to embed. */
struct kb_embed_todo {
	struct strv hashes, texts;
};
void kb_embed_todo_free(struct kb_embed_todo *);
/* The distinct fact texts with no vector for model, in index order. Returns 0 or -1. */
int kb_embed_pending(struct kb *, const char *model, struct kb_embed_todo *out, char **cause);
/*
 * Stores n vectors of dim floats (row i for hashes[i]) for model, in one
 * transaction; the model's vectors of another dimension are dropped.
 */
int kb_embed_put(struct kb *, const char *model, const char *const *hashes, const float *v,
                 size_t n, size_t dim, char **cause);
/* Drops every vector of model. */
int kb_embed_forget(struct kb *, const char *model, char **cause);
/* Facts that have a vector for model. */
size_t kb_embedded(struct kb *, const char *model);

/* The reciprocal rank fusion score of 1-based ranks (0: not in that ranking). */
double kb_rrf(int fts_rank, int vector_rank);

/*
 * Hybrid retrieval: the FTS5 ranking (kb_search's candidates, ordered by
 * confidence) fused by reciprocal rank with the cosine ranking of the
 * query's vector qvec (dim floats, from model) against the cached fact
 * vectors; facts without a vector take part in the FTS5 ranking only.
 * Up to k hits, best fused score first.
 *
 * The confidence stays kb_calibrate's: a function of the query and the
 * fact alone (a fact the vector ranking found is scored on the same
 * lexical features, its bm25 computed for it), so a fact has the same
 * confidence for a query with or without embeddings, and a threshold
 * means what it meant. Cosines are not calibrated: they order, they do
 * not vouch.
 *
 * Returns 0, or -1 with *cause on a database error, a query vector of no
 * length, or a dimension other than the cached vectors' (those are then
 * dropped, to be embedded again).
 */
int kb_search_hybrid(struct kb *, const char *query, const float *qvec, size_t dim,
                     const char *model, int k, const struct kb_freshness *, const struct kb_hint *,
                     struct kb_hits *out, char **cause);

/*
 * One pointer another module keeps with the open index (the retrieval
 * service's state); kb_close calls free_fn on it.
 */
void kb_set_companion(struct kb *, void *p, void (*free_fn)(void *));
void *kb_companion(const struct kb *);

/* One hit as DESIGN.md's retrieval hit object (plus "cosine" and "ranks" when hybrid); caller
 * frees. */
cJSON *kb_hit_json(const struct kb_hit *);

/* Stopwords: is this lower-case word one? */
int kb_is_stopword(const char *word, size_t len);

#endif
