/* policy.c -- policy-as-code: schema, loading, routing, reloading. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "tone.h"
#include "tools.h"
#include "ydoc.h"

const char *const disclosure_trigger_names[] = {"first_message", "account_data_requested",
                                                "before_handoff", "every_reply", NULL};
const char *const handler_action_names[] = {
    "escalate_immediately", "escalate_to_billing_specialist", "escalate_to_human", NULL};

/* ------------------------------------------------------------- schema */

static const struct ykey k_str = {.type = Y_STR};
static const struct ykey k_regex = {.type = Y_REGEX};

/*
 * A pattern in any list of them: a regular expression, or a mapping
 * with match plus the cues that cancel it and the words it needs near
 * it (pattern.h).
 */
static const struct ykey k_regexes[] = {
    {.type = Y_REGEX},
    {.type = Y_LIST, .sub = &k_regex},
};
static const struct ykey k_pattern_map[] = {
    {.name = "match", .type = Y_REGEX, .required = 1},
    {.name = "unless", .type = Y_EITHER, .sub = k_regexes},
    {.name = "unless_within", .type = Y_INT, .min = 1, .max = 50},
    {.name = "near", .type = Y_EITHER, .sub = k_regexes},
    {.name = "within", .type = Y_INT, .min = 1, .max = 50},
    {.name = "unless_anywhere", .type = Y_EITHER, .sub = k_regexes},
    {.name = "match_case", .type = Y_BOOL},
    {.name = "same_sentence", .type = Y_BOOL},
    {0},
};
static const struct ykey k_pattern_forms[] = {
    {.type = Y_REGEX},
    {.type = Y_MAP, .sub = k_pattern_map},
};
static const struct ykey k_pattern = {.type = Y_EITHER, .sub = k_pattern_forms};
static const struct ykey k_pattern_list = {.type = Y_LIST, .sub = &k_pattern};

static const struct ykey k_disclosure[] = {
    {.name = "trigger", .type = Y_ENUM, .values = disclosure_trigger_names, .required = 1},
    {.name = "text", .type = Y_STR, .required = 1},
    {0},
};
static const struct ykey k_disclosure_map = {.type = Y_MAP, .sub = k_disclosure};

static const struct ykey k_handler[] = {
    {.name = "action", .type = Y_ENUM, .values = handler_action_names, .required = 1},
    {.name = "message", .type = Y_STR},
    {.name = "threshold_usd", .type = Y_NUM, .min = 0, .max = 1e9},
    {.name = "patterns", .type = Y_LIST, .sub = &k_pattern},
    {0},
};
static const struct ykey k_handler_map = {.type = Y_MAP, .sub = k_handler};

static const struct ykey k_commitments[] = {
    [COMMIT_GUARANTEE] = {.name = "guarantee", .type = Y_LIST, .sub = &k_pattern},
    [COMMIT_AMOUNT] = {.name = "amount", .type = Y_LIST, .sub = &k_pattern},
    [COMMIT_DATE] = {.name = "date", .type = Y_LIST, .sub = &k_pattern},
    [COMMIT_LEGAL_CLAIM] = {.name = "legal_claim", .type = Y_LIST, .sub = &k_pattern},
    [COMMIT__N] = {0},
};

/*
 * content_guardrails.commitments for a policy that leaves a list out:
 * company-neutral, read like policy text (the shipped policy spells the
 * same lists out). An empty list turns one off.
 */
static const char default_commitments[] =
    "guarantee:\n"
    "  - '\\b(i|we) (personally |can |will )?(guarantee|promise|assure you|swear)\\b'\n"
    "  - '\\bguaranteed? (you )?(a |an |the |your )?(full |partial )?"
    "(refund|replacement|approval|delivery|credit|compensation|outcome|result|fix)\\b'\n"
    "  - '\\b(will|''ll) (definitely|certainly|absolutely|surely|100%) "
    "(get|receive|be (refunded|approved|reimbursed|compensated|replaced|delivered|fixed))\\b'\n"
    "amount:\n"
    "  - '\\b(you(''ll| will)|you are going to|you''re going to|we(''ll| will)|i(''ll| will)"
    "|i can|we can|i am going to|i''m going to|we are going to|we''re going to) (also )?"
    "(get|receive|be (refunded|credited|reimbursed|compensated|paid|given)"
    "|refund|credit|reimburse|compensate|pay|give|send|issue|waive)\\b'\n"
    "  - '\\b(full |partial )?(refund|credit|reimbursement|compensation|payout) of\\b'\n"
    "  - '\\b(i|we)(''ve| have) (refunded|credited|reimbursed|issued|applied|approved)\\b'\n"
    "date:\n"
    "  - match: '\\b(today|tonight|tomorrow"
    "|by (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|tomorrow"
    "|the weekend|end of (the )?(day|week|month))"
    "|this (morning|afternoon|evening|week)|within the hour|first thing (tomorrow|monday))\\b'\n"
    "    near:\n"
    "      - '\\b(will|''ll|going to|shall|guarantee|guaranteed|promise|promised)\\b'\n"
    "      - '\\b(get (it|them|a|an|the|your|this|that|back your|my|money)|receive"
    "|refund|refunded|credit|credited|reimburs[a-z]*|arrive|arrives|deliver|delivered"
    "|delivery|ship|shipped|ships|fix|fixed|resolve|resolved|replace|replaced|replacement"
    "|process|processed|paid|sorted)\\b'\n"
    "    within: 10\n"
    "    same_sentence: true\n"
    "legal_claim:\n"
    "  - '\\b(our|my|the company''s) (lawyers?|attorneys?|solicitors?"
    "|legal (team|department|counsel)) (agree|agrees|say|says|said|confirm|confirms"
    "|confirmed|have (confirmed|reviewed|advised)|advise|advised|reviewed)\\b'\n"
    "  - '\\byou (have|don''t have|do not have) (no |a )?(legal )?(case|claim|grounds)\\b'\n"
    "  - '\\b(legally|by law|under (the )?law),? (we|you) "
    "(are|aren''t|are not|must|have to|cannot|can''t|owe|don''t)\\b'\n"
    "  - '\\b(we are|we''re) (not )?(legally )?(liable|obligated|obliged|required by law)\\b'\n"
    "  - '\\b(this|that|it) is (perfectly |completely |entirely )?"
    "(legal|lawful|illegal|unlawful)\\b'\n";

static const struct ykey k_guardrails[] = {
    {.name = "prohibited_topics", .type = Y_LIST, .sub = &k_str},
    {.name = "required_disclosures", .type = Y_DICT, .sub = &k_disclosure_map},
    {.name = "sensitive_topic_handlers", .type = Y_DICT, .sub = &k_handler_map},
    {.name = "topic_patterns", .type = Y_DICT, .sub = &k_pattern_list},
    {.name = "commitments", .type = Y_MAP, .sub = k_commitments},
    {0},
};

static const struct ykey k_category_words[] = {
    {.name = "billing", .type = Y_STR},  {.name = "technical", .type = Y_STR},
    {.name = "account", .type = Y_STR},  {.name = "shipping", .type = Y_STR},
    {.name = "returns", .type = Y_STR},  {.name = "general", .type = Y_STR},
    {0},
};
static const struct ykey k_tone[] = {
    {.name = "voice", .type = Y_STR},
    {.name = "prohibited_phrases", .type = Y_LIST, .sub = &k_str},
    {.name = "preferred_patterns", .type = Y_LIST, .sub = &k_str},
    /* What the agent's replies are written from (tone.h); keys checked in load_tone. */
    {.name = "pieces", .type = Y_DICT, .sub = &k_str},
    {.name = "declines", .type = Y_DICT, .sub = &k_str},
    {.name = "category_words", .type = Y_MAP, .sub = k_category_words},
    {.name = "kb_reader", .type = Y_STR},
    {0},
};

static const struct ykey k_enterprise[] = {
    {.name = "enabled", .type = Y_BOOL},
    {.name = "tiers", .type = Y_ENUMS, .values = tier_names},
    {.name = "categories", .type = Y_ENUMS, .values = category_names},
    {0},
};

static const struct ykey k_escalation[] = {
    {.name = "confidence_threshold", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "max_turns", .type = Y_INT, .min = 1, .max = 1000},
    {.name = "frustrated_turns", .type = Y_INT, .min = 1, .max = 1000},
    {.name = "retrieval_confidence_floor", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "retrieval_sensitive_categories", .type = Y_ENUMS, .values = category_names},
    {.name = "enterprise_billing", .type = Y_MAP, .sub = k_enterprise},
    {.name = "legal_patterns", .type = Y_LIST, .sub = &k_pattern},
    {.name = "human_request_patterns", .type = Y_LIST, .sub = &k_pattern},
    {0},
};

static const char *const bool_names[] = {"true", "false", NULL};
static const struct ykey k_when[] = {
    {.name = "urgency", .type = Y_ENUMS, .values = urgency_names},
    {.name = "complexity_signal", .type = Y_ENUMS, .values = complexity_names},
    {.name = "intent_category", .type = Y_ENUMS, .values = category_names},
    {.name = "sentiment", .type = Y_ENUMS, .values = sentiment_names},
    {.name = "tier", .type = Y_ENUMS, .values = tier_names},
    {.name = "has_legal_language", .type = Y_ENUM, .values = bool_names},
    {0},
};
static const struct ykey k_rule[] = {
    {.name = "when", .type = Y_MAP, .sub = k_when},
    {.name = "route", .type = Y_ENUM, .values = route_names, .required = 1},
    {0},
};
static const struct ykey k_rule_map = {.type = Y_MAP, .sub = k_rule};

static const struct ykey k_credit[] = {
    {.name = "max_per_credit_usd", .type = Y_NUM, .min = 0, .max = 1e6},
    {.name = "max_per_conversation_usd", .type = Y_NUM, .min = 0, .max = 1e6},
    {.name = "standard_usd", .type = Y_NUM, .min = 0, .max = 1e6},
    {0},
};
static const struct ykey k_tool_list = {.type = Y_ENUMS, .values = tool_names};
static const struct ykey k_action[] = {
    {.name = "patterns", .type = Y_LIST, .sub = &k_pattern, .required = 1},
    {.name = "tool", .type = Y_ENUM, .values = tool_names},
    {.name = "self_serve", .type = Y_BOOL},
    {.name = "say", .type = Y_STR},
    {0},
};
static const struct ykey k_action_map = {.type = Y_MAP, .sub = k_action};
static const struct ykey k_late_orders[] = {
    {.name = "lost_after_days", .type = Y_INT, .min = 1, .max = 365},
    {.name = "offer", .type = Y_STR},
    {0},
};
static const struct ykey k_resolution[] = {
    {.name = "write_tools_enabled", .type = Y_BOOL},
    {.name = "credit", .type = Y_MAP, .sub = k_credit},
    {.name = "routes", .type = Y_DICT, .sub = &k_tool_list},
    {.name = "actions", .type = Y_DICT, .sub = &k_action_map},
    {.name = "late_orders", .type = Y_MAP, .sub = k_late_orders},
    {0},
};

static const struct ykey k_knowledge[] = {
    {.name = "stale_after_days", .type = Y_INT, .min = 1, .max = 36500},
    {.name = "volatile_topics", .type = Y_ENUMS, .values = topic_names},
    {0},
};

static const struct ykey k_entities[] = {
    {.name = "order_number", .type = Y_REGEX},
    {.name = "account_id", .type = Y_REGEX},
    {0},
};

/* metrics: the measurement framework's knobs. */
static const struct ykey k_metrics[] = {
    {.name = "human_cost_per_hour", .type = Y_NUM, .min = 0, .max = 1e6},
    {.name = "coverage_confidence", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "recontact_days", .type = Y_INT, .min = 1, .max = 365},
    {0},
};

/* lifecycle: when a conversation nobody is using closes (ending.h). */
static const struct ykey k_lifecycle[] = {
    {.name = "idle_close_minutes", .type = Y_INT, .min = 1, .max = 43200},
    {0},
};

/* rollout: and canary: (graduated rollout and canary deploys, rollout.h). */
static const struct ykey k_stage[] = {
    {.name = "name", .type = Y_STR, .required = 1},
    {.name = "share", .type = Y_INT, .min = 0, .max = 100, .required = 1},
    {.name = "complexity", .type = Y_ENUMS, .values = complexity_names},
    {.name = "urgency", .type = Y_ENUMS, .values = urgency_names},
    {.name = "categories", .type = Y_ENUMS, .values = category_names},
    {.name = "tiers", .type = Y_ENUMS, .values = tier_names},
    {0},
};
static const struct ykey k_stage_map = {.type = Y_MAP, .sub = k_stage};
static const struct ykey k_range[] = {
    {.name = "min", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "max", .type = Y_NUM, .min = 0, .max = 1},
    {0},
};
static const struct ykey k_range_map = {.type = Y_MAP, .sub = k_range};
static const struct ykey k_shadow_gate[] = {
    {.name = "min_tickets", .type = Y_INT, .min = 1, .max = 10000000},
    {.name = "triage_accuracy", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "escalation_agreement", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "escalation_recall", .type = Y_NUM, .min = 0, .max = 1},
    {0},
};
static const struct ykey k_gate[] = {
    {.name = "shadow", .type = Y_MAP, .sub = k_shadow_gate},
    {.name = "csat_margin", .type = Y_NUM, .min = 0, .max = 4},
    {.name = "min_sessions", .type = Y_INT, .min = 1, .max = 1000000},
    {.name = "min_csat_responses", .type = Y_INT, .min = 1, .max = 1000000},
    {.name = "escalation_rate", .type = Y_DICT, .sub = &k_range_map},
    {0},
};
static const struct ykey k_rollout[] = {
    {.name = "salt", .type = Y_STR},
    {.name = "stages", .type = Y_LIST, .sub = &k_stage_map},
    {.name = "gate", .type = Y_MAP, .sub = k_gate},
    {0},
};
static const struct ykey k_canary[] = {
    {.name = "share", .type = Y_INT, .min = 1, .max = 50},
    {.name = "window_hours", .type = Y_NUM, .min = 0, .max = 8760},
    {.name = "min_sessions", .type = Y_INT, .min = 1, .max = 1000000},
    {.name = "min_csat_responses", .type = Y_INT, .min = 1, .max = 1000000},
    {.name = "csat_margin", .type = Y_NUM, .min = 0, .max = 4},
    {.name = "escalation_margin", .type = Y_NUM, .min = 0, .max = 1},
    {.name = "allow_new_violation_kinds", .type = Y_BOOL},
    {0},
};

static const struct ykey k_top[] = {
    {.name = "content_guardrails", .type = Y_MAP, .sub = k_guardrails, .required = 1},
    {.name = "tone_guidelines", .type = Y_MAP, .sub = k_tone},
    {.name = "escalation", .type = Y_MAP, .sub = k_escalation},
    {.name = "routing", .type = Y_LIST, .sub = &k_rule_map},
    {.name = "resolution", .type = Y_MAP, .sub = k_resolution},
    {.name = "knowledge", .type = Y_MAP, .sub = k_knowledge},
    {.name = "entities", .type = Y_MAP, .sub = k_entities},
    {.name = "metrics", .type = Y_MAP, .sub = k_metrics},
    {.name = "lifecycle", .type = Y_MAP, .sub = k_lifecycle},
    {.name = "rollout", .type = Y_MAP, .sub = k_rollout},
    {.name = "canary", .type = Y_MAP, .sub = k_canary},
    {0},
};
static const struct ykey k_root = {.type = Y_MAP, .sub = k_top};

/* ------------------------------------------------------------ helpers */

/* Bit mask of the enum values in a scalar or a list (validated). */
static unsigned
enum_mask(struct ydoc *y, yaml_node_t *n, const char *const *names)
{
	unsigned m = 0;
	if (n == NULL)
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		int i = names_find(names, ydoc_str(n));
		return i >= 0 ? 1u << i : 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		int i = names_find(names, ydoc_str(yaml_document_get_node(&y->doc, *it)));
		if (i >= 0)
			m |= 1u << i;
	}
	return m;
}

static void
str_list(struct strv *sv, struct ydoc *y, yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++)
		strv_add(sv, ydoc_str(yaml_document_get_node(&y->doc, *it)));
}

/* A regular expression or a list of them (validated), appended to sv. */
static void
regex_list(struct strv *sv, struct ydoc *y, yaml_node_t *n)
{
	if (n != NULL && n->type == YAML_SCALAR_NODE)
		strv_add(sv, ydoc_str(n));
	else
		str_list(sv, y, n);
}

/* A key about the window of expressions the pattern does not have. */
static void
window_alone(struct ydoc *y, yaml_node_t *m, const char *key, const char *needs,
             const struct strv *have, struct diag *d)
{
	yaml_node_t *k = ydoc_get(y, m, key);
	if (k != NULL && have->n == 0)
		diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
		           "'%s' only applies to '%s', which this pattern does not have", key,
		           needs);
}

/* Compiles a validated list of patterns. */
static void
patset_load(struct patset *ps, struct ydoc *y, yaml_node_t *list, struct diag *d)
{
	memset(ps, 0, sizeof *ps);
	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(&y->doc, *it);
		struct strv unless = {0}, near = {0}, anywhere = {0};
		struct pattern_spec spec = {.match = ydoc_str(n),
		                            .unless = &unless,
		                            .near = &near,
		                            .unless_anywhere = &anywhere};
		if (n->type == YAML_MAPPING_NODE) {
			spec.match = ydoc_str(ydoc_get(y, n, "match"));
			regex_list(&unless, y, ydoc_get(y, n, "unless"));
			regex_list(&near, y, ydoc_get(y, n, "near"));
			regex_list(&anywhere, y, ydoc_get(y, n, "unless_anywhere"));
			spec.unless_within = (int)ydoc_int_or(y, n, "unless_within", 0);
			spec.within = (int)ydoc_int_or(y, n, "within", 0);
			spec.match_case = ydoc_bool_or(y, n, "match_case", 0);
			spec.same_sentence = ydoc_bool_or(y, n, "same_sentence", 0);
			window_alone(y, n, "unless_within", "unless", &unless, d);
			window_alone(y, n, "within", "near", &near, d);
			window_alone(y, n, "same_sentence", "near", &near, d);
		}
		struct pattern pat;
		char *cause = NULL;
		if (pattern_compile(&pat, &spec, &cause) == 0)
			patset_add(ps, &pat, spec.match);
		else {
			diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n), "%s", cause);
			free(cause);
		}
		strv_free(&unless);
		strv_free(&near);
		strv_free(&anywhere);
	}
}

/* -------------------------------------------------------- extraction */

static void
load_guardrails(struct policy *p, struct ydoc *y, yaml_node_t *g, struct diag *d)
{
	yaml_node_t *topics = ydoc_get(y, g, "prohibited_topics");
	yaml_node_t *tpat = ydoc_get(y, g, "topic_patterns");
	struct strv names = {0};
	str_list(&names, y, topics);
	p->topics = xcalloc(names.n, sizeof *p->topics);
	for (size_t i = 0; i < names.n; i++) {
		struct prohibited_topic *t = &p->topics[p->ntopics++];
		t->name = xstrdup(names.v[i]);
		patset_load(&t->patterns, y, ydoc_get(y, tpat, names.v[i]), d);
		if (t->patterns.src.n == 0)
			diag_warn(d, y->file, ydoc_line(y, topics), ydoc_col(topics),
			          "prohibited topic '%s' has no topic_patterns: replies cannot "
			          "be checked for it",
			          t->name);
	}
	YDOC_FOR_PAIRS(y, tpat, pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		if (!strv_contains(&names, ydoc_str(k)))
			diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
			           "topic_patterns: '%s' is not a prohibited topic", ydoc_str(k));
	}
	strv_free(&names);

	yaml_node_t *disc = ydoc_get(y, g, "required_disclosures");
	p->disclosures = xcalloc(ydoc_count(disc), sizeof *p->disclosures);
	YDOC_FOR_PAIRS(y, disc, pr)
	{
		yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
		struct disclosure *dc = &p->disclosures[p->ndisclosures++];
		dc->name = xstrdup(ydoc_str(yaml_document_get_node(&y->doc, pr->key)));
		dc->trigger = (enum disclosure_trigger)names_find(
		    disclosure_trigger_names, ydoc_str(ydoc_get(y, v, "trigger")));
		dc->text = xstrdup(ydoc_str(ydoc_get(y, v, "text")));
	}

	yaml_node_t *hs = ydoc_get(y, g, "sensitive_topic_handlers");
	p->handlers = xcalloc(ydoc_count(hs), sizeof *p->handlers);
	YDOC_FOR_PAIRS(y, hs, pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
		struct sensitive_handler *h = &p->handlers[p->nhandlers++];
		h->name = xstrdup(ydoc_str(k));
		h->action = (enum handler_action)names_find(handler_action_names,
		                                            ydoc_str(ydoc_get(y, v, "action")));
		h->message = xstrdup(ydoc_str(ydoc_get(y, v, "message")));
		h->threshold_usd = ydoc_num_or(y, v, "threshold_usd", -1);
		patset_load(&h->patterns, y, ydoc_get(y, v, "patterns"), d);
		if (h->patterns.src.n == 0)
			diag_warn(d, y->file, ydoc_line(y, k), ydoc_col(k),
			          "sensitive topic handler '%s' has no patterns: it can never fire",
			          h->name);
	}

	yaml_node_t *cm = ydoc_get(y, g, "commitments");
	struct ydoc dy;
	int dflt = 0;
	for (int i = 0; i < COMMIT__N; i++)
		dflt |= ydoc_get(y, cm, k_commitments[i].name) == NULL;
	if (dflt)
		dflt = ydoc_load(&dy, "(default commitments)", default_commitments,
		                 sizeof default_commitments - 1, 0, d) == 0;
	for (int i = 0; i < COMMIT__N; i++) {
		yaml_node_t *list = ydoc_get(y, cm, k_commitments[i].name);
		if (list != NULL)
			patset_load(&p->commitments[i], y, list, d);
		else if (dflt)
			patset_load(&p->commitments[i], &dy,
			            ydoc_get(&dy, ydoc_root(&dy), k_commitments[i].name), d);
	}
	if (dflt)
		ydoc_free(&dy);
}

/* A piece's text must only hold its own placeholders and none of the prohibited phrases. */
static void
check_piece(const struct policy *p, struct ydoc *y, yaml_node_t *v, const char *where,
            const char *const *vars, struct diag *d)
{
	const char *text = ydoc_str(v);
	char *bad = tone_unknown_var(text, vars);
	if (bad != NULL) {
		struct buf b;
		buf_init(&b, 0);
		for (size_t i = 0; vars[i] != NULL; i++)
			buf_printf(&b, "%s{%s}", i ? ", " : "", vars[i]);
		diag_error(d, y->file, ydoc_line(y, v), ydoc_col(v),
		           "%s: unknown placeholder {%s} (%s%s)", where, bad,
		           b.len ? "it may hold " : "it takes none", b.len ? b.data : "");
		buf_free(&b);
		free(bad);
	}
	for (size_t i = 0; i < p->prohibited_phrases.n; i++)
		if (str_casecontains(text, p->prohibited_phrases.v[i]))
			diag_error(d, y->file, ydoc_line(y, v), ydoc_col(v),
			           "%s: holds the prohibited phrase '%s'", where,
			           p->prohibited_phrases.v[i]);
}

/* tone_guidelines.pieces, declines and category_words; defaults for what is left out. */
static void
load_tone(struct policy *p, struct ydoc *y, yaml_node_t *tone, struct diag *d)
{
	static const char *const no_vars[] = {NULL};
	struct tone *t = &p->tone;
	yaml_node_t *pieces = ydoc_get(y, tone, "pieces");
	YDOC_FOR_PAIRS(y, pieces, pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
		int i = 0;
		while (i < PIECE__N && strcmp(piece_defs[i].name, ydoc_str(k)) != 0)
			i++;
		if (i == PIECE__N) {
			diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
			           "tone_guidelines.pieces: unknown piece '%s'", ydoc_str(k));
			continue;
		}
		char *where = xasprintf("tone_guidelines.pieces.%s", piece_defs[i].name);
		check_piece(p, y, v, where, piece_defs[i].vars, d);
		free(where);
		free(t->piece[i]);
		t->piece[i] = xstrdup(ydoc_str(v));
	}
	for (int i = 0; i < PIECE__N; i++)
		if (t->piece[i] == NULL)
			t->piece[i] = xstrdup(piece_defs[i].dflt);

	YDOC_FOR_PAIRS(y, ydoc_get(y, tone, "declines"), pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
		int known = 0;
		for (size_t i = 0; i < p->ntopics; i++)
			known |= strcmp(p->topics[i].name, ydoc_str(k)) == 0;
		if (!known)
			diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
			           "tone_guidelines.declines: '%s' is not a prohibited topic",
			           ydoc_str(k));
		check_piece(p, y, v, "tone_guidelines.declines", no_vars, d);
		strv_add(&t->decline_topics, ydoc_str(k));
		strv_add(&t->declines, ydoc_str(v));
	}
	yaml_node_t *cw = ydoc_get(y, tone, "category_words");
	for (int c = 0; c < CAT__N; c++) {
		const char *w = ydoc_str_or_null(y, cw, category_names[c]);
		t->category_words[c] = xstrdup(w ? w : tone_category_defaults[c]);
	}
	/* The KB's word for the customer: one lower-case word, its plural with an s. */
	yaml_node_t *rd = ydoc_get(y, tone, "kb_reader");
	const char *reader = rd ? ydoc_str(rd) : NULL;
	int word = reader != NULL && *reader != '\0';
	for (const char *c = reader; word && *c != '\0'; c++)
		word = *c >= 'a' && *c <= 'z';
	if (rd != NULL && !word)
		diag_error(d, y->file, ydoc_line(y, rd), ydoc_col(rd),
		           "tone_guidelines.kb_reader: '%s' is not one lower-case word",
		           reader ? reader : "");
	t->reader = xstrdup(word ? reader : "customer");
}

static void
load_escalation(struct policy *p, struct ydoc *y, yaml_node_t *e, struct diag *d)
{
	struct escalation_config *c = &p->esc;
	c->confidence_threshold = ydoc_num_or(y, e, "confidence_threshold", 0.72);
	c->max_turns = (int)ydoc_int_or(y, e, "max_turns", 4);
	c->frustrated_turns = (int)ydoc_int_or(y, e, "frustrated_turns", 3);
	c->retrieval_floor = ydoc_num_or(y, e, "retrieval_confidence_floor", 0.5);
	yaml_node_t *rc = ydoc_get(y, e, "retrieval_sensitive_categories");
	c->retrieval_categories =
	    rc ? enum_mask(y, rc, category_names) : 1u << CAT_BILLING | 1u << CAT_ACCOUNT;
	yaml_node_t *eb = ydoc_get(y, e, "enterprise_billing");
	c->enterprise_billing = ydoc_bool_or(y, eb, "enabled", 1);
	yaml_node_t *tiers = ydoc_get(y, eb, "tiers");
	yaml_node_t *cats = ydoc_get(y, eb, "categories");
	c->enterprise_tiers = tiers ? enum_mask(y, tiers, tier_names) : 1u << TIER_ENTERPRISE;
	c->enterprise_categories = cats ? enum_mask(y, cats, category_names) : 1u << CAT_BILLING;
	patset_load(&c->legal, y, ydoc_get(y, e, "legal_patterns"), d);
	patset_load(&c->human_request, y, ydoc_get(y, e, "human_request_patterns"), d);
}

static void
load_routing(struct policy *p, struct ydoc *y, yaml_node_t *r, struct diag *d)
{
	if (r == NULL || r->type != YAML_SEQUENCE_NODE) {
		/* The playbook's route_ticket() when the policy has no table. */
		static const struct route_rule dflt[] = {
		    {.urgency = 1u << URG_CRITICAL, .legal = -1, .route = ROUTE_HUMAN_PRIORITY},
		    {.complexity = 1u << CPLX_COMPLEX, .legal = -1, .route = ROUTE_HUMAN_STANDARD},
		    {.category = 1u << CAT_BILLING | 1u << CAT_ACCOUNT,
		     .legal = -1,
		     .route = ROUTE_RESOLUTION_AUTHENTICATED},
		    {.legal = -1, .route = ROUTE_RESOLUTION_GENERAL},
		};
		p->nrules = nitems(dflt);
		p->rules = xcalloc(p->nrules, sizeof *p->rules);
		memcpy(p->rules, dflt, sizeof dflt);
		return;
	}
	size_t n = ydoc_count(r);
	p->rules = xcalloc(n ? n : 1, sizeof *p->rules);
	for (yaml_node_item_t *it = r->data.sequence.items.start; it < r->data.sequence.items.top;
	     it++) {
		yaml_node_t *m = yaml_document_get_node(&y->doc, *it);
		yaml_node_t *w = ydoc_get(y, m, "when");
		struct route_rule *rr = &p->rules[p->nrules++];
		rr->urgency = enum_mask(y, ydoc_get(y, w, "urgency"), urgency_names);
		rr->complexity =
		    enum_mask(y, ydoc_get(y, w, "complexity_signal"), complexity_names);
		rr->category = enum_mask(y, ydoc_get(y, w, "intent_category"), category_names);
		rr->sentiment = enum_mask(y, ydoc_get(y, w, "sentiment"), sentiment_names);
		rr->tier = enum_mask(y, ydoc_get(y, w, "tier"), tier_names);
		rr->legal = ydoc_bool_or(y, w, "has_legal_language", -1);
		rr->route = (enum route)names_find(route_names, ydoc_str(ydoc_get(y, m, "route")));
		rr->line = ydoc_line(y, m);
		YDOC_FOR_PAIRS(y, w, pr)
		{
			yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
			if (v->type == YAML_SEQUENCE_NODE &&
			    v->data.sequence.items.top == v->data.sequence.items.start)
				diag_error(d, y->file, ydoc_line(y, v), ydoc_col(v),
				           "routing: an empty list matches nothing; leave the "
				           "condition out to match anything");
		}
	}
	struct route_rule *last = n ? &p->rules[n - 1] : NULL;
	if (last == NULL || last->urgency || last->complexity || last->category ||
	    last->sentiment || last->tier || last->legal != -1)
		diag_error(d, y->file, ydoc_line(y, r), ydoc_col(r),
		           "routing: the last rule must have no 'when' so that every ticket "
		           "gets a route");
}

/*
 * What a policy without resolution.actions lets customers ask for: the two
 * write tools, as frontline read requests before actions were policy data.
 */
static const struct {
	const char *name, *say;
	int tool;
	const char *patterns[3];
} default_actions[] = {
    {"credit",
     "apply a credit",
     TOOL_APPLY_STANDARD_CREDIT,
     {"(give|want|like|get|need|deserve|expect|owe|apply|issue|request|have)( me| us)?( an?| "
      "some| the)?( account| goodwill| standard)? credit",
      "credit (me|us|my account|our account)|\\b(compensate|compensated|compensation) (me|us|for)",
      NULL}},
    {"resend_confirmation",
     "resend the confirmation",
     TOOL_RESEND_CONFIRMATION,
     {"(resend|re-send|send)( me| it)?( the| my| a| an)?( order)? confirmation",
      "(never|didn'?t|haven'?t|hasn'?t|not) (get|got|receive|received|see|seen)( the| my| a| "
      "an| any)?( order)? confirmation|confirmation[a-z ]* (missing|deleted|never came|never "
      "arrived)",
      NULL}},
};

static void
default_action_set(struct policy *p)
{
	p->nactions = nitems(default_actions);
	p->actions = xcalloc(p->nactions, sizeof *p->actions);
	for (size_t i = 0; i < p->nactions; i++) {
		struct action *a = &p->actions[i];
		a->name = xstrdup(default_actions[i].name);
		a->say = xstrdup(default_actions[i].say);
		a->tool = default_actions[i].tool;
		for (int j = 0; default_actions[i].patterns[j] != NULL; j++) {
			const char *re = default_actions[i].patterns[j];
			struct pattern pt;
			char *cause = NULL;
			if (pattern_compile(&pt, &(struct pattern_spec){.match = re}, &cause) == 0)
				patset_add(&a->patterns, &pt, re);
			free(cause); /* the defaults compile */
		}
	}
}

/* resolution.actions and resolution.late_orders. */
static void
load_actions(struct policy *p, struct ydoc *y, yaml_node_t *r, struct diag *d)
{
	yaml_node_t *acts = ydoc_get(y, r, "actions");
	if (acts == NULL)
		default_action_set(p);
	else
		p->actions = xcalloc(ydoc_count(acts) + 1, sizeof *p->actions);
	YDOC_FOR_PAIRS(y, acts, pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
		struct action *a = &p->actions[p->nactions++];
		a->name = xstrdup(ydoc_str(k));
		patset_load(&a->patterns, y, ydoc_get(y, v, "patterns"), d);
		const char *tool = ydoc_str_or_null(y, v, "tool");
		a->tool = tool ? tool_find(tool) : -1;
		a->self_serve = ydoc_bool_or(y, v, "self_serve", 0);
		if (a->self_serve && a->tool >= 0)
			diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
			           "resolution.actions.%s: an action is done by a tool or by the "
			           "customer (self_serve), not both",
			           a->name);
		const char *say = ydoc_str_or_null(y, v, "say");
		a->say = xstrdup(say ? say : a->name);
		if (say == NULL)
			for (char *c = a->say; *c; c++)
				if (*c == '_')
					*c = ' ';
	}
	yaml_node_t *late = ydoc_get(y, r, "late_orders");
	p->lost_after_days = (int)ydoc_int_or(y, late, "lost_after_days", 0);
	p->late_offer = -1;
	yaml_node_t *offer = ydoc_get(y, late, "offer");
	if (offer != NULL) {
		for (size_t i = 0; i < p->nactions; i++)
			if (strcmp(p->actions[i].name, ydoc_str(offer)) == 0)
				p->late_offer = (int)i;
		if (p->late_offer < 0)
			diag_error(d, y->file, ydoc_line(y, offer), ydoc_col(offer),
			           "resolution.late_orders.offer: '%s' is not one of "
			           "resolution.actions",
			           ydoc_str(offer));
	}
}

static void
load_resolution(struct policy *p, struct ydoc *y, yaml_node_t *r, struct diag *d)
{
	p->write_tools_enabled = ydoc_bool_or(y, r, "write_tools_enabled", 0);
	yaml_node_t *credit = ydoc_get(y, r, "credit");
	p->credit_max_per_credit = ydoc_num_or(y, credit, "max_per_credit_usd", 25);
	p->credit_max_per_conversation = ydoc_num_or(y, credit, "max_per_conversation_usd", 50);
	if (p->credit_max_per_credit > p->credit_max_per_conversation)
		diag_error(d, y->file, ydoc_line(y, credit), ydoc_col(credit),
		           "resolution.credit: max_per_credit_usd (%g) exceeds "
		           "max_per_conversation_usd (%g)",
		           p->credit_max_per_credit, p->credit_max_per_conversation);
	p->credit_standard = ydoc_num_or(y, credit, "standard_usd", 10);
	if (p->credit_standard > p->credit_max_per_credit) {
		yaml_node_t *n = ydoc_get(y, credit, "standard_usd");
		diag_warn(d, y->file, ydoc_line(y, n ? n : credit), ydoc_col(n ? n : credit),
		          "resolution.credit: standard_usd (%g) exceeds max_per_credit_usd (%g): "
		          "every standard credit will be refused",
		          p->credit_standard, p->credit_max_per_credit);
	}
	load_actions(p, y, r, d);
	yaml_node_t *routes = ydoc_get(y, r, "routes");
	if (routes == NULL) {
		/* Read tools for both resolution routes; write tools need a policy. */
		unsigned ro = 1u << TOOL_KNOWLEDGE_BASE_SEARCH | 1u << TOOL_GET_ORDER_STATUS;
		p->route_tools[ROUTE_RESOLUTION_GENERAL] = ro;
		p->route_tools[ROUTE_RESOLUTION_AUTHENTICATED] =
		    ro | 1u << TOOL_GET_CUSTOMER_ACCOUNT;
		return;
	}
	YDOC_FOR_PAIRS(y, routes, pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		int ri = names_find(route_names, ydoc_str(k));
		if (ri < 0) {
			diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
			           "resolution.routes: '%s' is not a route", ydoc_str(k));
			continue;
		}
		p->route_tools[ri] =
		    enum_mask(y, yaml_document_get_node(&y->doc, pr->value), tool_names);
	}
}

/*
 * Coverage gaps default a little above the escalation retrieval floor:
 * answers that only just cleared it are the knowledge base's weak spots.
 */
static void
load_metrics(struct policy *p, struct ydoc *y, yaml_node_t *m)
{
	p->metrics.human_cost_per_hour = ydoc_num_or(y, m, "human_cost_per_hour", 30);
	p->metrics.coverage_confidence = ydoc_num_or(y, m, "coverage_confidence", 0.6);
	p->metrics.recontact_days = (int)ydoc_int_or(y, m, "recontact_days", 7);
}

/* ------------------------------------------------ rollout and canary */

/* The playbook's ladder, when the policy has none. */
static void
rollout_default_stages(struct rollout_policy *r)
{
	static const struct {
		const char *name;
		int share;
		unsigned complexity, urgency, category;
	} dflt[] = {
	    {"shadow", 0, 0, 0, 0},
	    {"pilot", 10, 1u << CPLX_SIMPLE, 1u << URG_LOW | 1u << URG_NORMAL,
	     1u << CAT_SHIPPING | 1u << CAT_RETURNS | 1u << CAT_GENERAL},
	    {"expanded", 30, 1u << CPLX_SIMPLE | 1u << CPLX_MODERATE,
	     1u << URG_LOW | 1u << URG_NORMAL,
	     1u << CAT_SHIPPING | 1u << CAT_RETURNS | 1u << CAT_GENERAL | 1u << CAT_TECHNICAL |
	         1u << CAT_ACCOUNT},
	    {"routed", 60, 0, 0, 0},
	    {"steady", 100, 0, 0, 0},
	};
	r->nstages = nitems(dflt);
	r->stages = xcalloc(r->nstages, sizeof *r->stages);
	for (size_t i = 0; i < r->nstages; i++) {
		r->stages[i].name = xstrdup(dflt[i].name);
		r->stages[i].share = dflt[i].share;
		r->stages[i].complexity = dflt[i].complexity;
		r->stages[i].urgency = dflt[i].urgency;
		r->stages[i].category = dflt[i].category;
	}
}

static void
load_rollout(struct policy *p, struct ydoc *y, yaml_node_t *ro, struct diag *d)
{
	struct rollout_policy *r = &p->rollout;
	const char *salt = ydoc_str_or_null(y, ro, "salt");
	r->salt = xstrdup(salt ? salt : "frontline");
	yaml_node_t *stages = ydoc_get(y, ro, "stages");
	if (stages == NULL)
		rollout_default_stages(r);
	else {
		size_t n = ydoc_count(stages);
		if (n == 0)
			diag_error(d, y->file, ydoc_line(y, stages), ydoc_col(stages),
			           "rollout.stages: the ladder needs at least one stage");
		r->stages = xcalloc(n ? n : 1, sizeof *r->stages);
		int prev = 0;
		for (yaml_node_item_t *it = stages->data.sequence.items.start;
		     it < stages->data.sequence.items.top; it++) {
			yaml_node_t *m = yaml_document_get_node(&y->doc, *it);
			struct rollout_stage *st = &r->stages[r->nstages++];
			st->name = xstrdup(ydoc_str(ydoc_get(y, m, "name")));
			st->share = (int)ydoc_int_or(y, m, "share", 0);
			st->complexity =
			    enum_mask(y, ydoc_get(y, m, "complexity"), complexity_names);
			st->urgency = enum_mask(y, ydoc_get(y, m, "urgency"), urgency_names);
			st->category = enum_mask(y, ydoc_get(y, m, "categories"), category_names);
			st->tier = enum_mask(y, ydoc_get(y, m, "tiers"), tier_names);
			for (size_t i = 0; i + 1 < r->nstages; i++)
				if (strcmp(r->stages[i].name, st->name) == 0)
					diag_error(d, y->file, ydoc_line(y, m), ydoc_col(m),
					           "rollout.stages: '%s' is already a stage",
					           st->name);
			if (st->share < prev)
				diag_error(
				    d, y->file, ydoc_line(y, m), ydoc_col(m),
				    "rollout.stages: '%s' has a share of %d%%, less than the "
				    "stage before it (%d%%): the ladder only goes up",
				    st->name, st->share, prev);
			prev = st->share;
			YDOC_FOR_PAIRS(y, m, pr)
			{
				yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
				if (v->type == YAML_SEQUENCE_NODE &&
				    v->data.sequence.items.top == v->data.sequence.items.start)
					diag_error(d, y->file, ydoc_line(y, v), ydoc_col(v),
					           "rollout.stages: an empty list admits nothing; "
					           "leave the filter out to admit anything");
			}
		}
	}

	yaml_node_t *g = ydoc_get(y, ro, "gate");
	r->csat_margin = ydoc_num_or(y, g, "csat_margin", 0);
	r->min_sessions = (int)ydoc_int_or(y, g, "min_sessions", 30);
	r->min_csat_responses = (int)ydoc_int_or(y, g, "min_csat_responses", 10);
	yaml_node_t *sg = ydoc_get(y, g, "shadow");
	r->shadow.min_tickets = (int)ydoc_int_or(y, sg, "min_tickets", 50);
	r->shadow.triage_accuracy = ydoc_num_or(y, sg, "triage_accuracy", 0.8);
	r->shadow.escalation_agreement = ydoc_num_or(y, sg, "escalation_agreement", 0.8);
	r->shadow.escalation_recall = ydoc_num_or(y, sg, "escalation_recall", 0.9);
	yaml_node_t *er = ydoc_get(y, g, "escalation_rate");
	yaml_node_t *dn = ydoc_get(y, er, "default");
	struct rate_range dr = {ydoc_num_or(y, dn, "min", 0), ydoc_num_or(y, dn, "max", 0.35)};
	for (int c = 0; c < CAT__N; c++)
		r->escalation[c] = dr;
	YDOC_FOR_PAIRS(y, er, pr)
	{
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, pr->value);
		int c = names_find(category_names, ydoc_str(k));
		struct rate_range rr = {ydoc_num_or(y, v, "min", dr.min),
		                        ydoc_num_or(y, v, "max", dr.max)};
		if (c < 0 && strcmp(ydoc_str(k), "default") != 0) {
			diag_error(d, y->file, ydoc_line(y, k), ydoc_col(k),
			           "rollout.gate.escalation_rate: '%s' is neither a category nor "
			           "'default'",
			           ydoc_str(k));
			continue;
		}
		if (rr.min > rr.max)
			diag_error(d, y->file, ydoc_line(y, v), ydoc_col(v),
			           "rollout.gate.escalation_rate: %s: min (%g) exceeds max (%g)",
			           ydoc_str(k), rr.min, rr.max);
		if (c >= 0)
			r->escalation[c] = rr;
	}
}

static void
load_canary(struct policy *p, struct ydoc *y, yaml_node_t *ca)
{
	struct canary_policy *c = &p->canary;
	c->share = (int)ydoc_int_or(y, ca, "share", 5);
	c->window_hours = ydoc_num_or(y, ca, "window_hours", 48);
	c->min_sessions = (int)ydoc_int_or(y, ca, "min_sessions", 30);
	c->min_csat_responses = (int)ydoc_int_or(y, ca, "min_csat_responses", 5);
	c->csat_margin = ydoc_num_or(y, ca, "csat_margin", 0.2);
	c->escalation_margin = ydoc_num_or(y, ca, "escalation_margin", 0.05);
	c->allow_new_violations = ydoc_bool_or(y, ca, "allow_new_violation_kinds", 0);
}

static char *
regex_or_null(struct ydoc *y, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = ydoc_get(y, map, key);
	return n ? xstrdup(ydoc_str(n)) : NULL;
}

struct policy *
policy_load_text(const char *path, const char *text, size_t len, struct diag *d)
{
	struct ydoc y;
	int errors0 = d->errors;

	if (ydoc_load(&y, path, text, len, 0, d) != 0)
		return NULL;
	yaml_node_t *root = ydoc_root(&y);
	if (root == NULL) {
		diag_error(d, path, 1, 1, "the policy file is empty");
		ydoc_free(&y);
		return NULL;
	}
	ydoc_check(&y, root, &k_root, "", d);
	if (d->errors > errors0) {
		ydoc_free(&y);
		return NULL;
	}

	struct policy *p = xcalloc(1, sizeof *p);
	p->path = xstrdup(path);
	sha256_hex(text, len, p->hash);
	memcpy(p->version, p->hash, 12);
	p->version[12] = '\0';

	load_guardrails(p, &y, ydoc_get(&y, root, "content_guardrails"), d);
	yaml_node_t *tone = ydoc_get(&y, root, "tone_guidelines");
	p->voice = xstrdup(ydoc_str(ydoc_get(&y, tone, "voice")));
	str_list(&p->prohibited_phrases, &y, ydoc_get(&y, tone, "prohibited_phrases"));
	str_list(&p->preferred_patterns, &y, ydoc_get(&y, tone, "preferred_patterns"));
	load_tone(p, &y, tone, d);
	load_escalation(p, &y, ydoc_get(&y, root, "escalation"), d);
	load_routing(p, &y, ydoc_get(&y, root, "routing"), d);
	load_resolution(p, &y, ydoc_get(&y, root, "resolution"), d);
	yaml_node_t *k = ydoc_get(&y, root, "knowledge");
	p->stale_after_days = (int)ydoc_int_or(&y, k, "stale_after_days", 90);
	yaml_node_t *vt = ydoc_get(&y, k, "volatile_topics");
	p->volatile_topics = vt ? enum_mask(&y, vt, topic_names)
	                        : 1u << TOPIC_PRICING | 1u << TOPIC_POLICY | 1u << TOPIC_PRODUCT;
	yaml_node_t *ent = ydoc_get(&y, root, "entities");
	p->order_number_re = regex_or_null(&y, ent, "order_number");
	p->account_id_re = regex_or_null(&y, ent, "account_id");
	load_metrics(p, &y, ydoc_get(&y, root, "metrics"));
	p->idle_close_minutes =
	    (int)ydoc_int_or(&y, ydoc_get(&y, root, "lifecycle"), "idle_close_minutes", 30);
	load_rollout(p, &y, ydoc_get(&y, root, "rollout"), d);
	load_canary(p, &y, ydoc_get(&y, root, "canary"));
	ydoc_free(&y);

	if (d->errors > errors0) {
		policy_free(p);
		return NULL;
	}
	return p;
}

struct policy *
policy_load(const char *path, struct diag *d)
{
	size_t len;
	char *text = ydoc_read(path, 4u << 20, &len, d);
	if (text == NULL)
		return NULL;
	struct policy *p = policy_load_text(path, text, len, d);
	free(text);
	return p;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ntopics; i++) {
		free(p->topics[i].name);
		patset_free(&p->topics[i].patterns);
	}
	free(p->topics);
	for (size_t i = 0; i < p->ndisclosures; i++) {
		free(p->disclosures[i].name);
		free(p->disclosures[i].text);
	}
	free(p->disclosures);
	for (size_t i = 0; i < p->nhandlers; i++) {
		free(p->handlers[i].name);
		free(p->handlers[i].message);
		patset_free(&p->handlers[i].patterns);
	}
	free(p->handlers);
	free(p->voice);
	tone_free(&p->tone);
	strv_free(&p->prohibited_phrases);
	strv_free(&p->preferred_patterns);
	for (int i = 0; i < COMMIT__N; i++)
		patset_free(&p->commitments[i]);
	patset_free(&p->esc.legal);
	patset_free(&p->esc.human_request);
	for (size_t i = 0; i < p->nactions; i++) {
		free(p->actions[i].name);
		free(p->actions[i].say);
		patset_free(&p->actions[i].patterns);
	}
	free(p->actions);
	free(p->rules);
	free(p->order_number_re);
	free(p->account_id_re);
	for (size_t i = 0; i < p->rollout.nstages; i++)
		free(p->rollout.stages[i].name);
	free(p->rollout.stages);
	free(p->rollout.salt);
	free(p->path);
	free(p);
}

/* ------------------------------------------------------------ routing */

static int
mask_ok(unsigned mask, int value)
{
	return mask == 0 || (mask & (1u << value)) != 0;
}

enum route
policy_route(const struct policy *p, enum category cat, enum urgency urg, enum sentiment sent,
             enum complexity cplx, enum tier tier, int legal)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct route_rule *r = &p->rules[i];
		if (mask_ok(r->urgency, urg) && mask_ok(r->complexity, cplx) &&
		    mask_ok(r->category, cat) && mask_ok(r->sentiment, sent) &&
		    mask_ok(r->tier, tier) && (r->legal == -1 || r->legal == !!legal))
			return r->route;
	}
	return ROUTE_RESOLUTION_GENERAL;
}

int
policy_tool_allowed(const struct policy *p, enum route route, int tool)
{
	if (tool < 0 || tool >= TOOL__N || (unsigned)route >= ROUTE__N)
		return 0;
	if ((p->route_tools[route] & (1u << tool)) == 0)
		return 0;
	return tool_table[tool].authority == TOOL_READ || p->write_tools_enabled;
}

/* ------------------------------------------------------------ reloads */

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int
policy_watch_init(struct policy_watch *w, const char *path, char **cause)
{
	struct diag d = {0};
	memset(w, 0, sizeof *w);
	if (stat(path, &w->seen) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	w->current = policy_load(path, &d);
	if (w->current == NULL) {
		*cause = diag_join(&d);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	w->path = xstrdup(path);
	return 0;
}

int
policy_watch_poll(struct policy_watch *w, char **cause)
{
	struct stat st;
	if (stat(w->path, &st) != 0) {
		if (w->seen.st_ino == 0)
			return 0; /* already reported */
		memset(&w->seen, 0, sizeof w->seen);
		*cause = xasprintf("%s: %s; keeping policy version %s", w->path, strerror(errno),
		                   w->current->version);
		return -1;
	}
	if (same_file(&st, &w->seen))
		return 0;
	w->seen = st;

	struct diag d = {0};
	struct policy *p = policy_load(w->path, &d);
	if (p == NULL) {
		char *msgs = diag_join(&d);
		*cause = xasprintf("%s\npolicy not reloaded; keeping version %s", msgs,
		                   w->current->version);
		free(msgs);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	if (strcmp(p->hash, w->current->hash) == 0) {
		policy_free(p);
		return 0;
	}
	/* Engines and turns in flight may still hold the old version. */
	w->retired = xreallocarray(w->retired, w->nretired + 1, sizeof *w->retired);
	w->retired[w->nretired++] = w->current;
	w->current = p;
	return 1;
}

void
policy_watch_free(struct policy_watch *w)
{
	policy_free(w->current);
	for (size_t i = 0; i < w->nretired; i++)
		policy_free(w->retired[i]);
	free(w->retired);
	w->retired = NULL;
	w->nretired = 0;
	free(w->path);
	w->current = NULL;
	w->path = NULL;
}
