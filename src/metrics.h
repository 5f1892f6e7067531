/* metrics.h -- the measurement framework: per-session metrics and their aggregates. */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include <cjson/cJSON.h>

struct store;

/* Which sessions count. NULL or empty strings mean "any". */
struct metrics_filter {
	const char *since;   /* ISO-8601 date or time: sessions created at or after it */
	const char *until;   /* sessions created before it */
	const char *source;  /* "replay" for replayed tickets (implied by run); else live */
	const char *version; /* the agent version that handled the session */
	const char *arm;     /* rollout arm: "ai", "human", "canary", "current" */
	long long run;       /* replays: one run id; 0 for the newest run of each source */
};

/* The knobs, from the policy's metrics section (metrics_config_default fills the defaults). */
struct metrics_config {
	double human_cost_per_hour; /* what a human agent's hour costs, USD */
	double coverage_confidence; /* retrieval confidence below this is a coverage gap */
	int recontact_days;         /* a new contact within this many days re-opens a resolution */
	int coverage_gaps_max;      /* how many gap groups the report keeps */
	const char *today;          /* YYYY-MM-DD the report is made on */
};
void metrics_config_default(struct metrics_config *);
struct policy;
/* The policy's metrics section into c (coverage_gaps_max and today are kept). */
void metrics_config_policy(struct metrics_config *, const struct policy *);

/*
 * A query as coverage gaps group it: lower case, words of letters and
 * digits separated by one space, a word with a digit in it (an order
 * number, an amount) as "#", at most about 120 bytes. Caller frees.
 */
char *metrics_normalise_query(const char *);

/*
 * The per-session metrics of every session the filter admits, live
 * conversations or replayed tickets (never both: f->source): an array of
 * objects with the seed's fields,
 *
 * {"source":"live"|"replay","id","customer","created","category","tier",
 *  "path":"agent"|"human"|"abandoned"|"unconfirmed"|"open",
 *  "ending":"resolved-agent"|"resolved-human"|"abandoned"|"unconfirmed"|null,
 *  "resolved","resolved_correctly",
 *  "turns","restatements","escalated","escalation_reason","retrieval_used",
 *  "retrieval_freshness_days","retrieval_confidence","validation_violations":[kind...],
 *  "policy_flags":[flag...],"handle_time_seconds","tokens_consumed","cost_usd",
 *  "csat_score","csat_verbatim","recontact_within_7d","version","arm",
 *  "low_confidence_queries":[{"query","topic","confidence"}...]}
 *
 * with null for what is unknown. A live session's path is its stored
 * ending (ending.h) and nothing else; resolved is true for resolved-agent
 * and resolved-human only. An unconfirmed session's recontact_within_7d
 * is null until its window (recontact_days after the day it closed) has
 * passed. Beyond the seed's fields: "agent_escalated" (live: the agent
 * handed it off; replay: its shadow decision), "first_contact", "canary",
 * "human_seconds", "closed". Returns 0, or -1 with *cause (caller frees);
 * the caller frees *out.
 */
int metrics_sessions(struct store *, const struct metrics_filter *, const struct metrics_config *,
                     cJSON **out, char **cause);

/*
 * The aggregate report over sessions (an array as metrics_sessions makes;
 * not modified). Pure: the same sessions give the same report. The
 * caller frees the result.
 *
 * {"sessions":N,"live":N,"replay":N,
 *  "endings":{"resolved-agent":N,"resolved-human":N,"abandoned":N,"unconfirmed":N,"open":N},
 *  "unconfirmed":{"sessions","recontacted","quiet","window_open"},
 *  "csat_by_path":{"agent":{"sessions","responses","mean"},"human":{...},"abandoned":{...},
 *                  "unconfirmed":{...}},
 *  "fcr":{"agent":{"sessions","resolved_first_contact","rate","resolved_by_agent",
 *                  "agent_rate","resolved_by_human","human_rate"},"human":{...}},
 *  "recontact":{"resolved","recontacted","rate","by_path":{"agent":{...},"human":{...}}},
 *  "effort":{"mean_turns","mean_restatements","high_effort_rate"},
 *  "escalation":{"rate","agent_rate",
 *                "by_category":{"billing":{"sessions","escalated","rate"},...},
 *                "by_reason":{"legal-language":N,...}},
 *  "cost":{"model_usd","tokens","human_minutes","human_usd","resolutions","per_resolution_usd"},
 *  "quality":{"retrieval_used_rate","mean_freshness_days","mean_confidence",
 *             "violations":{"kind":N},"policy_flags":{"flag":N}},
 *  "coverage_gaps":[{"query","topic","count","mean_confidence"}...],
 *  "daily":[{"date","sessions","escalation_rate","csat_mean","cost_usd"}...]}
 *
 * A rate or mean with no sessions under it is null, never 0.
 */
cJSON *metrics_aggregate(const cJSON *sessions, const struct metrics_config *);

/* metrics_sessions then metrics_aggregate. */
int metrics_report(struct store *, const struct metrics_filter *, const struct metrics_config *,
                   cJSON **out, char **cause);

#endif
