/* kb.h -- the knowledge base: facts, their freshness, and retrieval. */
#ifndef FL_KB_H
#define FL_KB_H

#include <cjson/cJSON.h>

#include "diag.h"
#include "types.h"

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

struct kb; /* an open index */

/*
 * Opens the index for the facts under dir, bringing it up to date: only
 * files whose size or time changed are parsed again. index is a SQLite
 * file path, ":memory:", or NULL for the default under
 * $XDG_CACHE_HOME/frontline. Invalid files are reported in d and left
 * out. Returns NULL with *cause (caller frees) when the KB cannot be
 * opened at all.
 */
struct kb *kb_open(const char *dir, const char *index, struct diag *d, char **cause);
void kb_close(struct kb *);
size_t kb_count(const struct kb *);
/* How many files the last kb_open parsed again (0 when the index was current). */
size_t kb_reindexed(const struct kb *);

/*
 * Confidence features of a hit: coverage (share of the query's idf
 * whose terms the fact holds), the same for its title, score relative
 * to the best hit, the best hit's margin over the second (0 for the
 * others), the best hit's bm25 per unit of query idf, and the share of
 * the query's neighbouring term pairs that are neighbours in the fact.
 */
#define KB_NFEAT 6
/* The calibrated probability for a hit's features (logistic model). */
double kb_calibrate(const double feat[KB_NFEAT]);

struct kb_hit {
	struct kb_fact fact; /* owned by the hit */
	double score;        /* bm25, higher is better */
	double confidence;   /* calibrated probability that this hit answers the query */
	int freshness_days;
	int stale;
	double feat[KB_NFEAT]; /* what the confidence was computed from */
};

struct kb_hits {
	struct kb_hit *v;
	size_t n;
	size_t query_terms; /* terms left after stopwords and common terms */
};
void kb_hits_free(struct kb_hits *);

/*
 * Retrieves up to k facts for query, best first. Returns 0, or -1 with
 * *cause (caller frees) on a database error. No hits is not an error.
 */
int kb_search(struct kb *, const char *query, int k, const struct kb_freshness *,
              struct kb_hits *out, char **cause);

/* One hit as DESIGN.md's retrieval hit object; caller frees. */
cJSON *kb_hit_json(const struct kb_hit *);

/* Stopwords: is this lower-case word one? */
int kb_is_stopword(const char *word, size_t len);

#endif
