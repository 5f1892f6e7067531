/* policy.h -- policy-as-code: the support policy loaded from YAML. */
#ifndef FL_POLICY_H
#define FL_POLICY_H

#include <regex.h>
#include <sys/stat.h>

#include "diag.h"
#include "pattern.h"
#include "tone.h"
#include "types.h"
#include "util.h"

struct prohibited_topic {
	char *name;
	struct patset patterns;
};

enum disclosure_trigger {
	DISCLOSE_FIRST_MESSAGE,
	DISCLOSE_ACCOUNT_DATA_REQUESTED,
	DISCLOSE_BEFORE_HANDOFF,
	DISCLOSE_EVERY_REPLY,
};
extern const char *const disclosure_trigger_names[];

struct disclosure {
	char *name;
	enum disclosure_trigger trigger;
	char *text;
};

enum handler_action {
	ACTION_ESCALATE_IMMEDIATELY,
	ACTION_ESCALATE_TO_BILLING_SPECIALIST,
	ACTION_ESCALATE_TO_HUMAN,
};
extern const char *const handler_action_names[];

struct sensitive_handler {
	char *name;
	enum handler_action action;
	char *message;
	double threshold_usd; /* < 0 when the handler has none */
	struct patset patterns;
};

/* Something a customer may ask the agent to do (resolution.actions). */
struct action {
	char *name;
	struct patset patterns; /* how a customer asks for it */
	int tool;               /* enum tool_id that does it, or -1: a person does it */
	int self_serve;         /* the customer does it; the knowledge base says how */
	char *say;              /* how it is named to the customer ("arrange a replacement") */
};

/* What a reply may not promise (content_guardrails.commitments), by violation kind. */
enum commitment_kind {
	COMMIT_GUARANTEE,   /* an outcome as certain: commitment:guarantee */
	COMMIT_AMOUNT,      /* money, beyond the credit authority: commitment:amount */
	COMMIT_DATE,        /* a day no knowledge or tool result gives: commitment:date */
	COMMIT_LEGAL_CLAIM, /* a legal position: legal_claim */
	COMMIT__N
};

struct escalation_config {
	double confidence_threshold;
	int max_turns;
	int frustrated_turns;
	double retrieval_floor;
	unsigned retrieval_categories; /* bit per enum category */
	int enterprise_billing;
	unsigned enterprise_tiers;      /* bit per enum tier */
	unsigned enterprise_categories; /* bit per enum category */
	struct patset legal;
	struct patset human_request; /* the customer asks for a person */
};

/* One routing rule: every mask that is non-zero must contain the value. */
struct route_rule {
	unsigned urgency, complexity, category, sentiment, tier;
	int legal; /* -1 any, 0 or 1 */
	enum route route;
	int line;
};

/* ------------------------------------------------ rollout and canary */

/* One stage of the graduated rollout. */
struct rollout_stage {
	char *name;
	int share; /* percent of eligible conversations the AI handles */
	/* Eligibility from the first message's triage: bit masks, 0 for any. */
	unsigned complexity, urgency, category, tier;
};

/* Acceptable escalation rates of a category, as fractions. */
struct rate_range {
	double min, max;
};

/* rollout: the ladder and the gate to leave a stage (defaults: the playbook's ladder). */
struct rollout_policy {
	char *salt; /* hashed with each conversation's key */
	struct rollout_stage *stages;
	size_t nstages;
	double csat_margin;     /* the AI arm's CSAT may trail the human baseline by this */
	int min_sessions;       /* sessions each arm needs before the gate can pass */
	int min_csat_responses; /* CSAT responses each arm needs */
	struct rate_range escalation[CAT__N];
	/* Leaving shadow: the newest shadow replay against the humans' labels. */
	struct {
		int min_tickets;
		double triage_accuracy; /* the agent's category matches the label */
		double
		    escalation_agreement; /* the agent escalates when, and only when, humans did */
		double escalation_recall; /* share of the humans' escalations the agent caught */
	} shadow;
};

/* canary: a candidate version's share and what promoting it takes. */
struct canary_policy {
	int share;                /* percent of eligible AI conversations */
	double window_hours;      /* how long to compare before promoting */
	int min_sessions;         /* candidate sessions needed */
	int min_csat_responses;   /* CSAT responses each side needs */
	double csat_margin;       /* the candidate's CSAT may trail the current's by this */
	double escalation_margin; /* its escalation rate may exceed the current's by this */
	int allow_new_violations; /* validation violation kinds the current never had */
};

struct policy {
	char *path;
	char hash[65];    /* SHA-256 of the file */
	char version[13]; /* its first 12 digits: the policy version */

	struct prohibited_topic *topics;
	size_t ntopics;
	struct disclosure *disclosures;
	size_t ndisclosures;
	struct sensitive_handler *handlers;
	size_t nhandlers;
	struct patset commitments[COMMIT__N];

	char *voice;
	struct strv prohibited_phrases;
	struct strv preferred_patterns;
	struct tone tone; /* the pieces replies are written from */

	struct escalation_config esc;

	struct route_rule *rules;
	size_t nrules;

	int write_tools_enabled;
	double credit_max_per_credit;
	double credit_max_per_conversation;
	double credit_standard;         /* what the agent offers as a standard credit */
	struct action *actions;         /* what customers ask for, and who does it */
	size_t nactions;
	int lost_after_days; /* an order this many days past its date is lost; 0: never */
	int late_offer;      /* the action offered for a late order (index), or -1 */
	unsigned route_tools[ROUTE__N]; /* bit per enum tool_id */

	int stale_after_days;
	unsigned volatile_topics; /* bit per enum topic */

	char *order_number_re;
	char *account_id_re;

	struct rollout_policy rollout;
	struct canary_policy canary;
	/* metrics: what frontline metrics counts with. */
	struct {
		double human_cost_per_hour; /* USD per hour of a human agent */
		double coverage_confidence; /* an answer retrieved below this is a coverage gap */
		int recontact_days;         /* a new contact this soon re-opens a resolution */
	} metrics;
	/* lifecycle: an AI conversation with nothing new for this long closes (ending.h). */
	int idle_close_minutes;
};

/*
 * Loads and validates a policy file. Returns the policy (free with
 * policy_free) or NULL with every problem added to d as
 * "file:line:col: message". Warnings may be added on success.
 */
struct policy *policy_load(const char *path, struct diag *d);
/* Same from text in memory; path names it in messages. */
struct policy *policy_load_text(const char *path, const char *text, size_t len, struct diag *d);
void policy_free(struct policy *);

/* The route the policy's routing table picks. */
enum route policy_route(const struct policy *, enum category, enum urgency, enum sentiment,
                        enum complexity, enum tier, int legal);
/* Whether the route may call the tool (write tools also need the switch). */
int policy_tool_allowed(const struct policy *, enum route, int tool_id);

/*
 * Watches a policy file and reloads it when it changes. The current
 * policy stays in force when a changed file is invalid. Versions
 * replaced by a reload stay allocated until the watch is freed: an
 * engine or a turn in flight may still hold one.
 */
struct policy_watch {
	char *path;
	struct policy *current;  /* owned by the watch */
	struct policy **retired; /* replaced versions, owned by the watch */
	size_t nretired;
	struct stat seen; /* the file as last examined */
};

/* Loads path. Returns 0, or -1 with *cause (caller frees). */
int policy_watch_init(struct policy_watch *, const char *path, char **cause);
/*
 * Checks the file: returns 0 when unchanged, 1 when a new version was
 * loaded, -1 when the changed file is invalid (*cause says why and that
 * the last good version stays; caller frees). A broken file is reported
 * once, not on every poll.
 */
int policy_watch_poll(struct policy_watch *, char **cause);
void policy_watch_free(struct policy_watch *);

#endif
