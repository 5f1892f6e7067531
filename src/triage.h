/* triage.h -- the triage agent: classify, read, extract, flag, route. */
#ifndef FL_TRIAGE_H
#define FL_TRIAGE_H

#include <cjson/cJSON.h>

#include "dialogue.h"
#include "entities.h"
#include "policy.h"
#include "types.h"
#include "util.h"

/* Why a message was flagged complex (bits of complexity_reasons). */
enum complexity_reason {
	CPLX_MULTI_ISSUE = 1 << 0,   /* more than one request in one message */
	CPLX_PRIOR_CONTACT = 1 << 1, /* "third time", "still not fixed", a ticket number */
	CPLX_LEGAL = 1 << 2,         /* legal or regulatory language */
	CPLX_EMOTIONAL = 1 << 3,     /* intense negative emotion, profanity */
};

struct triage_result {
	enum category intent_category;
	double intent_confidence; /* calibrated P(this category, and a support request) */
	enum category runner_up;  /* the next most likely category */
	double runner_up_confidence;
	double out_of_scope; /* P(not a support request at all) */
	int not_support;     /* the intent model's best reading: no support request */
	int from_knowledge;  /* the category is a fact's topic, not the intent model's */
	struct dialogue_reading dialogue; /* what the words do, read on their own */
	enum urgency urgency;
	const char *urgency_rule; /* the rule that set it, or NULL; owned by the engine */
	enum sentiment sentiment;
	double sentiment_score; /* VADER compound in [-1, 1] */
	int profanity;
	struct entities entities;
	enum complexity complexity_signal;
	unsigned complexity_reasons;
	int has_legal_language;
	enum route route;
};

struct triage; /* the loaded engine: model, lexicons, rules */

/*
 * Loads the offline triage engine: the classifier model, the lexicons
 * and urgency rules under data_dir, and the product catalogue
 * (catalog may be NULL). The policy supplies entity formats, legal
 * patterns and the routing table, and must outlive the engine (or be
 * replaced with triage_set_policy). Returns NULL with *cause (caller
 * frees) and *ex set to a sysexits code: 66 for a missing file, 65 for
 * a corrupted one.
 */
struct triage *triage_open(const char *model, const char *data_dir, const char *catalog,
                           const struct policy *, char **cause, int *ex);
/* Switches to a reloaded policy; returns 0, or -1 with *cause (old policy kept). */
int triage_set_policy(struct triage *, const struct policy *, char **cause);
void triage_close(struct triage *);

/*
 * Triage of one customer message (any bytes: invalid UTF-8 and control
 * characters are tolerated). tier is the customer's account tier, for
 * the routing table. The result holds entities: triage_result_free.
 */
void triage_run(const struct triage *, const char *text, size_t len, enum tier tier,
                struct triage_result *out);
void triage_result_free(struct triage_result *);

struct classifier;
/* The engine's intent model (classifier.h); owned by the engine. */
const struct classifier *triage_classifier(const struct triage *);
/*
 * The intent of text (any bytes) under an intent model, exactly as
 * triage_run decides it: the most probable category, or general with the
 * model's (low) probability of general when the model's best class is
 * out_of_scope. Returns 0, or -1 when the model lacks a category's class.
 */
int triage_intent(const struct classifier *, const char *text, size_t len, enum category *cat,
                  double *confidence);

/* Appends the TriageResult as one line of JSON (DESIGN.md section 5). */
void triage_json_write(const struct triage_result *, struct buf *);
/* The same as a cJSON object; caller frees. */
cJSON *triage_json(const struct triage_result *);

#endif
