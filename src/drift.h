/* drift.h -- behavioural drift: a fixed suite through the agents, compared with a baseline. */
#ifndef FL_DRIFT_H
#define FL_DRIFT_H

#include <cjson/cJSON.h>

/* Replies less similar than this (ROUGE-L) to the baseline's are a regression. */
#define DRIFT_MIN_SIMILARITY 0.8

/*
 * What drift compares of one prompt, from its replay result:
 * {"id","category","route","escalated","escalation_reason","escalation_turn",
 *  "violations":["kind:detail"...],"replies":[text or null per turn]}.
 * The caller frees it.
 */
cJSON *drift_summary(const cJSON *result);

/*
 * The baseline file's object: {"version","agent":{agents_version_json},
 * "prompts":[summary...]}; prompts is taken. The caller frees it.
 */
cJSON *drift_baseline(const char *version, cJSON *agent, cJSON *prompts);

/* Checks a baseline's shape; returns 0, or -1 with *cause (caller frees). */
int drift_baseline_check(const cJSON *baseline, char **cause);

/*
 * Every regression of current (an array of summaries) against the
 * baseline: [{"id","field","baseline","current","detail"}...], where field
 * is category, route, escalated, escalation_reason, escalation_turn,
 * violations, reply or missing (a prompt with no baseline). The caller
 * frees it.
 */
cJSON *drift_compare(const cJSON *baseline, const cJSON *current, double min_similarity);

#endif
