/* replay.c -- shadow-mode replay of tickets, and the agent-vs-human report. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "intent-eval.h"
#include "replay.h"
#include "textsim.h"
#include "tool-backend.h"
#include "validate.h"

/* ---------------------------------------------------------------- tickets */

static int fail(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(char **cause, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	*cause = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

/* A member that is present and not null, or NULL. */
static const cJSON *
member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return v == NULL || cJSON_IsNull(v) ? NULL : v;
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* "a, b or c" of a names table; caller frees. */
static char *
names_list(const char *const *names, int n)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	char *str = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves a fresh buffer behind */
	return str;
}

static int
parse_messages(struct ticket *t, char **cause)
{
	const cJSON *m;
	int i = 0;
	cJSON_ArrayForEach(m, t->messages)
	{
		if (!cJSON_IsObject(m))
			return fail(cause, "messages[%d] is not an object", i);
		const char *role = cJSON_GetStringValue(member(m, "role"));
		if (role == NULL)
			return fail(cause, "messages[%d] has no \"role\" string", i);
		if (strcmp(role, "customer") != 0 && strcmp(role, "human") != 0)
			return fail(cause, "messages[%d]: role \"%.40s\" is not customer or human",
			            i, role);
		const cJSON *at = member(m, "at");
		if (at != NULL && !cJSON_IsString(at))
			return fail(cause, "messages[%d]: \"at\" is not a string", i);
		const cJSON *text = member(m, "text");
		if (text == NULL)
			return fail(cause, "messages[%d] has no \"text\"", i);
		if (!cJSON_IsString(text))
			return fail(cause, "messages[%d]: \"text\" is not a string", i);
		if (blank(text->valuestring))
			return fail(cause, "messages[%d]: empty text", i);
		if (strcmp(role, "customer") == 0)
			t->customer_messages++;
		i++;
	}
	if (t->customer_messages == 0)
		return fail(cause, "no customer message");
	return 0;
}

/*
 * The types of the optional fields frontline-tickets(5) names, beyond
 * what parse_parts reads itself: a wrong type is an error, not a field
 * quietly ignored by the report. Null counts as absent.
 */
enum ftype { F_STRING, F_BOOL, F_NUMBER, F_OBJECT, F_ARRAY };
static const struct field_type {
	const char *in; /* the enclosing object, NULL for the ticket */
	const char *name;
	enum ftype type;
	double min, max; /* numbers: inclusive bounds, when max > min */
} field_types[] = {
    {.in = NULL, .name = "channel", .type = F_STRING},
    {.in = "customer", .name = "name", .type = F_STRING},
    {.in = "customer", .name = "email", .type = F_STRING},
    {.in = "context", .name = "orders", .type = F_ARRAY},
    {.in = "context", .name = "account", .type = F_OBJECT},
    {.in = "labels", .name = "escalation_reason", .type = F_STRING},
    {.in = "labels", .name = "escalation_turn", .type = F_NUMBER, .min = 1, .max = 1e9},
    {.in = "labels", .name = "note", .type = F_STRING},
    {.in = "outcome", .name = "resolved", .type = F_BOOL},
    {.in = "outcome", .name = "resolved_by", .type = F_STRING},
    {.in = "outcome", .name = "csat", .type = F_NUMBER, .min = 1, .max = 5},
    {.in = "outcome", .name = "csat_verbatim", .type = F_STRING},
    {.in = "outcome", .name = "recontact_within_7d", .type = F_BOOL},
    {.in = "outcome", .name = "handle_time_s", .type = F_NUMBER, .min = 0, .max = 1e12},
};

static int
check_types(const cJSON *j, char **cause)
{
	static const char *const nouns[] = {"a string", "true or false", "a number", "an object",
	                                    "an array"};
	for (size_t i = 0; i < nitems(field_types); i++) {
		const struct field_type *f = &field_types[i];
		const cJSON *in = f->in ? member(j, f->in) : j;
		const cJSON *v = cJSON_IsObject(in) ? member(in, f->name) : NULL;
		if (v == NULL)
			continue;
		int ok = f->type == F_STRING   ? cJSON_IsString(v)
		         : f->type == F_BOOL   ? cJSON_IsBool(v)
		         : f->type == F_NUMBER ? cJSON_IsNumber(v)
		         : f->type == F_OBJECT ? cJSON_IsObject(v)
		                               : cJSON_IsArray(v);
		if (!ok)
			return fail(cause, "%s%s%s is not %s", f->in ? f->in : "", f->in ? "." : "",
			            f->name, nouns[f->type]);
		if (f->type == F_NUMBER && f->max > f->min &&
		    (v->valuedouble < f->min || v->valuedouble > f->max))
			return fail(cause, "%s.%s is out of range [%g, %g]", f->in, f->name, f->min,
			            f->max);
	}
	return 0;
}

static int
parse_parts(struct ticket *t, char **cause)
{
	const cJSON *j = t->json, *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "id")) == NULL)
		return fail(cause, "no \"id\"");
	if (!cJSON_IsString(v) || blank(v->valuestring))
		return fail(cause, "\"id\" is not a non-empty string");
	t->id = xstrdup(v->valuestring);
	if (check_types(j, cause) != 0)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "messages")) == NULL)
		return fail(cause, "no \"messages\"");
	if (!cJSON_IsArray(v))
		return fail(cause, "\"messages\" is not an array");
	t->messages = v;

	t->tier = TIER_STANDARD;
	if ((v = member(j, "customer")) != NULL) {
		if (!cJSON_IsObject(v))
			return fail(cause, "\"customer\" is not an object");
		t->customer = v;
		const cJSON *id = member(v, "id"), *tier = member(v, "tier");
		if (id != NULL && (!cJSON_IsString(id) || blank(id->valuestring)))
			return fail(cause, "customer.id is not a non-empty string");
		t->customer_id = id ? id->valuestring : NULL;
		if (tier != NULL) {
			int k =
			    cJSON_IsString(tier) ? names_find(tier_names, tier->valuestring) : -1;
			if (k < 0) {
				char *l = names_list(tier_names, TIER__N);
				fail(cause, "customer.tier is not one of %s", l);
				free(l);
				return -1;
			}
			t->tier = (enum tier)k;
		}
	}
	if ((v = member(j, "created_at")) != NULL) {
		if (!cJSON_IsString(v))
			return fail(cause, "\"created_at\" is not a string");
		t->created_at = v->valuestring;
	}
	if ((v = member(j, "context")) != NULL) {
		if (!cJSON_IsObject(v))
			return fail(cause, "\"context\" is not an object");
		t->context = v;
	}
	if ((v = member(j, "labels")) != NULL) {
		if (!cJSON_IsObject(v))
			return fail(cause, "\"labels\" is not an object");
		t->labels = v;
		const cJSON *cat = member(v, "intent_category"), *esc = member(v, "escalated");
		if (cat != NULL &&
		    (!cJSON_IsString(cat) || names_find(category_names, cat->valuestring) < 0)) {
			char *l = names_list(category_names, CAT__N);
			fail(cause, "labels.intent_category is not one of %s", l);
			free(l);
			return -1;
		}
		if (esc != NULL && !cJSON_IsBool(esc))
			return fail(cause, "labels.escalated is not true or false");
	}
	if ((v = member(j, "outcome")) != NULL) {
		if (!cJSON_IsObject(v))
			return fail(cause, "\"outcome\" is not an object");
		t->outcome = v;
	}
	return parse_messages(t, cause);
}

int
ticket_parse(const char *line, size_t len, struct ticket *t, char **cause)
{
	memset(t, 0, sizeof *t);
	if ((t->json = jsonl_parse(line, len, cause)) == NULL)
		return -1;
	if (parse_parts(t, cause) != 0) {
		ticket_free(t);
		return -1;
	}
	return 0;
}

void
ticket_free(struct ticket *t)
{
	cJSON_Delete(t->json);
	free(t->id);
	memset(t, 0, sizeof *t);
}

int
ticket_line(struct jsonl *r, const char *line, size_t len, struct ticket *t, char **cause)
{
	char *why = NULL;
	if (ticket_parse(line, len, t, &why) == 0) {
		long first = jsonl_unique(r, t->id);
		if (first == 0)
			return 1;
		struct buf q;
		buf_init(&q, 0);
		buf_json_str(&q, t->id);
		why = xasprintf("duplicate ticket id %s (first at line %ld)", q.data, first);
		buf_free(&q);
		ticket_free(t);
	}
	*cause = xasprintf("%s:%ld: %s", r->name, r->lineno, why);
	free(why);
	return -1;
}

int
ticket_read(struct jsonl *r, struct ticket *t, char **cause)
{
	const char *line;
	size_t len;
	memset(t, 0, sizeof *t);
	int rc = jsonl_read(r, &line, &len, cause);
	return rc != 1 ? rc : ticket_line(r, line, len, t, cause);
}

/* ---------------------------------------------------------- one ticket */

/* What a ticket's run collects besides what goes straight into the result. */
struct run {
	cJSON *r; /* the result being built */
	cJSON *replies, *tools, *violations, *phrases, *lowq;
	int used;
	double conf_sum, fresh_sum;
	int conf_n;
	double sim_f1, sim_rl;
	int sim_n;
	/* The sweep: the lowest confidence until a signal independent of it fired. */
	double min_conf;
	int other;
};

static double
num(const cJSON *o, const char *name, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static double
round3(double x)
{
	return round(x * 1000) / 1000;
}

/* What a turn the agent took adds to the result. */
static void
record_turn(struct run *ru, const struct agents *ag, const cJSON *turn, int k, const char *text,
            const char *human, int stands)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(turn, "tools"))
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "turn", k);
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
		cJSON_AddItemToObject(o, "name", cJSON_Duplicate(name, 1));
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
		cJSON_AddItemToObject(o, "args",
		                      args ? cJSON_Duplicate(args, 1) : cJSON_CreateNull());
		cJSON_AddBoolToObject(o, "allowed",
		                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "allowed")));
		cJSON_AddItemToArray(ru->tools, o);
	}

	const cJSON *val = cJSON_GetObjectItemCaseSensitive(turn, "validation");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(val, "violations"))
	{
		const char *s = cJSON_GetStringValue(e);
		if (s == NULL)
			continue;
		char *kind = validation_kind(s);
		cJSON_AddItemToArray(ru->violations, cJSON_CreateString(kind));
		if (strcmp(kind, "prohibited_phrase") == 0 && s[strlen(kind)] == ':')
			cJSON_AddItemToArray(ru->phrases, cJSON_CreateString(s + strlen(kind) + 1));
		free(kind);
	}

	const cJSON *kn = cJSON_GetObjectItemCaseSensitive(turn, "knowledge");
	const cJSON *top = cJSON_GetArrayItem(kn, 0);
	double conf = top ? num(top, "confidence", 0) : 0;
	if (top != NULL) {
		ru->used = 1;
		ru->conf_sum += conf;
		ru->fresh_sum += num(top, "freshness_days", 0);
		ru->conf_n++;
	}
	if (top == NULL || conf < ag->policy->esc.retrieval_floor) {
		/* What the knowledge base could not answer well: a coverage gap. */
		cJSON *q = cJSON_CreateObject();
		cJSON_AddStringToObject(q, "query", text);
		const char *topic =
		    top ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(top, "topic"))
		        : NULL;
		if (topic == NULL)
			topic = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(turn, "triage"), "intent_category"));
		cJSON_AddStringToObject(q, "topic", topic ? topic : "general");
		cJSON_AddNumberToObject(q, "confidence", round3(conf));
		cJSON_AddItemToArray(ru->lowq, q);
	}

	const char *reply = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(turn, "reply"));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "turn", k);
	if (reply)
		cJSON_AddStringToObject(o, "text", reply);
	else
		cJSON_AddNullToObject(o, "text");
	cJSON_AddItemToObject(o, "validation", val ? cJSON_Duplicate(val, 1) : cJSON_CreateNull());
	/* What the confidence said, and whether the human let this turn stand. */
	cJSON_AddNumberToObject(o, "confidence", num(turn, "agent_confidence", 0));
	const cJSON *feat = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(turn, "dialogue"), "features");
	cJSON_AddItemToObject(o, "features", feat ? cJSON_Duplicate(feat, 1) : cJSON_CreateNull());
	const cJSON *fact = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(turn, "dialogue"), "fact");
	cJSON_AddItemToObject(o, "fact", fact ? cJSON_Duplicate(fact, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "stands", stands < 0 ? cJSON_CreateNull() : cJSON_CreateBool(stands));
	if (human)
		cJSON_AddStringToObject(o, "human", human);
	else
		cJSON_AddNullToObject(o, "human");
	if (reply != NULL && human != NULL) {
		struct textsim s;
		textsim_compare(reply, human, &s);
		cJSON *sj = cJSON_AddObjectToObject(o, "similarity");
		cJSON_AddNumberToObject(sj, "f1", round3(s.f1));
		cJSON_AddNumberToObject(sj, "rouge_l", round3(s.rouge_l));
		ru->sim_f1 += s.f1;
		ru->sim_rl += s.rouge_l;
		ru->sim_n++;
	} else
		cJSON_AddNullToObject(o, "similarity");
	cJSON_AddItemToArray(ru->replies, o);
}

/* The sweep's record of one turn; returns 1 when the sweep needs no further turn. */
static int
sweep_turn(struct run *ru, const cJSON *turn)
{
	const cJSON *esc = cJSON_GetObjectItemCaseSensitive(turn, "escalation");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(esc, "signals"), "agent_confidence");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sig, "applies"))) {
		double c = num(sig, "value", 1);
		if (ru->min_conf < 0 || c < ru->min_conf)
			ru->min_conf = c;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(esc, "without_confidence")))
		ru->other = 1;
	return ru->other;
}

/* The human's reply to customer message i: the human messages after it, up to the next. */
static char *
human_reply(const cJSON *messages, const cJSON *from)
{
	struct buf b;
	buf_init(&b, 0);
	for (const cJSON *m = from->next; m != NULL; m = m->next) {
		const char *role =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
		if (strcmp(role, "customer") == 0)
			break;
		if (b.len > 0)
			buf_addc(&b, '\n');
		buf_adds(&b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "text")));
	}
	(void)messages;
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	char *str = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves a fresh buffer behind */
	return str;
}

static cJSON *
dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static cJSON *
mean_or_null(double sum, int n)
{
	return n > 0 ? cJSON_CreateNumber(round3(sum / n)) : cJSON_CreateNull();
}

/*
 * Is reason one of the policy's hard triggers? A human who escalated for
 * one did not judge the agent's reply, so that turn says nothing about it.
 */
static int
hard_reason(const struct policy *p, const char *reason)
{
	static const char *const hard[] = {"legal-language-detected", "customer-requested-human",
	                                   "enterprise-billing-policy", "sentiment-degradation",
	                                   NULL};
	if (reason == NULL)
		return 0;
	if (names_find(hard, reason) >= 0)
		return 1;
	for (size_t i = 0; i < p->nhandlers; i++) {
		char *name = xstrdup(p->handlers[i].name);
		for (char *q = name; *q; q++)
			if (*q == '_')
				*q = '-';
		int same = strcmp(name, reason) == 0;
		free(name);
		if (same)
			return 1;
	}
	return 0;
}

/*
 * Did the human let turn k stand: 1 when they had not escalated by then, 0
 * when they escalated at it for a reason about the answer, -1 when it says
 * nothing (after their escalation, a hard trigger's turn, no label).
 */
static int
human_stands(const struct policy *p, const cJSON *labels, int k)
{
	const cJSON *esc = cJSON_GetObjectItemCaseSensitive(labels, "escalated");
	if (!cJSON_IsBool(esc))
		return -1;
	if (cJSON_IsFalse(esc))
		return 1;
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(labels, "escalation_turn");
	int hturn = cJSON_IsNumber(at) ? at->valueint : 1;
	if (k < hturn)
		return 1;
	if (k > hturn)
		return -1;
	const char *reason =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "escalation_reason"));
	return hard_reason(p, reason) ? -1 : 0;
}

cJSON *
replay_ticket(const struct agents *ag, const char *version, const struct ticket *t, char **cause)
{
	struct agents a = *ag;
	struct tool_backend tb = {0};
	if (t->context != NULL) {
		if (tool_backend_context(&tb, t->customer, t->context, cause) != 0)
			return NULL;
		a.tools = &tb;
	}
	a.on_delta = NULL;
	/* The ticket's own day: an order due after it was written was not late then. */
	long day;
	if (t->created_at != NULL && strlen(t->created_at) >= 10) {
		char ymd[11];
		memcpy(ymd, t->created_at, 10);
		ymd[10] = '\0';
		if (date_parse(ymd, &day) == 0)
			a.day = day;
	}

	char *guest = t->customer_id ? NULL : xasprintf("replay-%s", t->id);
	struct conversation conv;
	conversation_init(&conv, t->customer_id ? t->customer_id : guest, t->tier);

	struct run ru = {.min_conf = -1};
	cJSON *r = ru.r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "id", t->id);
	cJSON *cust = cJSON_AddObjectToObject(r, "customer");
	cJSON_AddItemToObject(
	    cust, "id", t->customer_id ? cJSON_CreateString(t->customer_id) : cJSON_CreateNull());
	cJSON_AddStringToObject(cust, "tier", tier_names[t->tier]);
	cJSON_AddItemToObject(r, "created_at",
	                      t->created_at ? cJSON_CreateString(t->created_at)
	                                    : cJSON_CreateNull());
	ru.replies = cJSON_CreateArray();
	ru.tools = cJSON_CreateArray();
	ru.violations = cJSON_CreateArray();
	ru.phrases = cJSON_CreateArray();
	ru.lowq = cJSON_CreateArray();

	cJSON *triage = NULL, *handoff = NULL;
	char reason[64] = "";
	int escalated = 0, esc_turn = 0, turns = 0, k = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, t->messages)
	{
		const char *role =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
		if (strcmp(role, "customer") != 0)
			continue;
		const char *text =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "text"));
		cJSON *events = NULL;
		cJSON *turn = conversation_turn(&a, &conv, text, &events);
		cJSON_Delete(events);
		k++;
		if (!escalated) {
			turns = k;
			char *human = human_reply(t->messages, m);
			record_turn(&ru, &a, turn, k, text, human, human_stands(ag->policy, t->labels, k));
			free(human);
			if (k == 1)
				triage = cJSON_DetachItemFromObjectCaseSensitive(turn, "triage");
			const cJSON *esc = cJSON_GetObjectItemCaseSensitive(turn, "escalation");
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(esc, "escalate"))) {
				escalated = 1;
				esc_turn = k;
				snprintf(reason, sizeof reason, "%s",
				         cJSON_GetStringValue(
				             cJSON_GetObjectItemCaseSensitive(esc, "reason"))
				             ?: "");
				handoff = cJSON_DetachItemFromObjectCaseSensitive(turn, "handoff");
			}
		}
		int enough = sweep_turn(&ru, turn);
		cJSON_Delete(turn);
		if (escalated && enough)
			break;
	}

	const char *route = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(triage, "route"));
	cJSON_AddItemToObject(r, "triage", dup_or_null(triage));
	cJSON_AddItemToObject(r, "route", route ? cJSON_CreateString(route) : cJSON_CreateNull());
	cJSON_AddStringToObject(r, "category", category_names[conv.category]);
	cJSON_AddBoolToObject(r, "agent_escalated", escalated);
	cJSON_AddItemToObject(r, "escalation_reason",
	                      escalated ? cJSON_CreateString(reason) : cJSON_CreateNull());
	cJSON_AddItemToObject(r, "escalation_turn",
	                      escalated ? cJSON_CreateNumber(esc_turn) : cJSON_CreateNull());
	cJSON_AddItemToObject(r, "replies", ru.replies);
	cJSON_AddItemToObject(r, "tools", ru.tools);
	cJSON_AddItemToObject(r, "handoff", handoff ? handoff : cJSON_CreateNull());
	cJSON_AddItemToObject(r, "human",
	                      t->labels ? cJSON_Duplicate(t->labels, 1) : cJSON_CreateObject());

	cJSON *agr = cJSON_AddObjectToObject(r, "agreement");
	const char *lcat =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t->labels, "intent_category"));
	cJSON_AddItemToObject(
	    agr, "category",
	    lcat ? cJSON_CreateBool(strcmp(lcat, category_names[conv.category]) == 0)
	         : cJSON_CreateNull());
	const cJSON *lesc = cJSON_GetObjectItemCaseSensitive(t->labels, "escalated");
	cJSON_AddItemToObject(agr, "escalation",
	                      cJSON_IsBool(lesc) ? cJSON_CreateBool(cJSON_IsTrue(lesc) == escalated)
	                                         : cJSON_CreateNull());
	if (ru.sim_n > 0) {
		cJSON *s = cJSON_AddObjectToObject(agr, "reply_similarity");
		cJSON_AddNumberToObject(s, "f1", round3(ru.sim_f1 / ru.sim_n));
		cJSON_AddNumberToObject(s, "rouge_l", round3(ru.sim_rl / ru.sim_n));
		cJSON_AddNumberToObject(s, "turns", ru.sim_n);
	} else
		cJSON_AddNullToObject(agr, "reply_similarity");

	cJSON_AddItemToObject(r, "outcome", dup_or_null(t->outcome));
	cJSON_AddNumberToObject(r, "turns", turns);
	cJSON *ret = cJSON_AddObjectToObject(r, "retrieval");
	cJSON_AddBoolToObject(ret, "used", ru.used);
	cJSON_AddItemToObject(ret, "mean_confidence", mean_or_null(ru.conf_sum, ru.conf_n));
	cJSON_AddItemToObject(ret, "mean_freshness_days", mean_or_null(ru.fresh_sum, ru.conf_n));
	cJSON_AddItemToObject(r, "low_confidence_queries", ru.lowq);
	cJSON_AddItemToObject(r, "violations", ru.violations);
	cJSON_AddItemToObject(r, "prohibited_phrases", ru.phrases);
	cJSON_AddNumberToObject(r, "tokens", (double)conv.model_tokens);
	cJSON_AddNumberToObject(r, "cost_usd", conv.model_cost_usd);
	cJSON_AddStringToObject(r, "version", version ? version : "");
	cJSON *sw = cJSON_AddObjectToObject(r, "sweep");
	cJSON_AddItemToObject(sw, "min_confidence",
	                      ru.min_conf >= 0 ? cJSON_CreateNumber(ru.min_conf)
	                                       : cJSON_CreateNull());
	cJSON_AddBoolToObject(sw, "other_signal", ru.other);

	cJSON_Delete(triage);
	conversation_free(&conv);
	free(guest);
	if (t->context != NULL)
		tool_backend_free(&tb);
	return r;
}

int
replay_sweep_escalates(const cJSON *result, double threshold)
{
	const cJSON *sw = cJSON_GetObjectItemCaseSensitive(result, "sweep");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sw, "other_signal")))
		return 1;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(sw, "min_confidence");
	return cJSON_IsNumber(c) && c->valuedouble < threshold;
}

/* ---------------------------------------------------------------- report */

#define SWEEP_N 19 /* thresholds 0.05, 0.10, ... 0.95 */
#define PATH_N  3

static const char *const path_names[PATH_N] = {"agent", "human", "abandoned"};

/* A count per name, in the order names were first seen. */
struct tally {
	struct strv names;
	long *n;
};

static void
tally_add(struct tally *t, const char *name, long by)
{
	for (size_t i = 0; i < t->names.n; i++)
		if (strcmp(t->names.v[i], name) == 0) {
			t->n[i] += by;
			return;
		}
	strv_add(&t->names, name);
	t->n = xrealloc(t->n, t->names.n * sizeof *t->n);
	t->n[t->names.n - 1] = by;
}

static void
tally_free(struct tally *t)
{
	strv_free(&t->names);
	free(t->n);
}

static cJSON *
tally_json(const struct tally *t)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < t->names.n; i++)
		cJSON_AddNumberToObject(o, t->names.v[i], (double)t->n[i]);
	return o;
}

struct replay_report {
	double target;
	long tickets, bad;
	/* Triage: the agent's first category against the human's label. */
	struct intent_tally triage;
	/* Escalation, over tickets with a human escalation label. */
	long tp, fp, fn, tn;
	long agent_escalated;
	long cat_tickets[CAT__N], cat_agent[CAT__N], cat_human[CAT__N], cat_human_labelled[CAT__N];
	struct tally by_turn, reasons, human_reasons;
	/* Compliance and tone. */
	long violation_tickets;
	struct tally violations, phrases, tools;
	/* Reply similarity over the turns with both replies. */
	double f1_sum, rl_sum;
	long sim_turns;
	/* Outcomes. */
	long outcomes;
	long path_tickets[PATH_N], path_csat_n[PATH_N];
	double path_csat_sum[PATH_N];
	long resolved, recontacted;
	/* The reply confidence against the humans: (confidence, stood) per turn. */
	double *cal_conf;
	char *cal_stood;
	size_t cal_n, cal_cap;
	/* The sweep. */
	long sweep_labelled;
	long sweep_escalated[SWEEP_N], sweep_agree[SWEEP_N];
	char version[16];
};

struct replay_report *
replay_report_new(double target_agreement)
{
	struct replay_report *rp = xcalloc(1, sizeof *rp);
	rp->target = target_agreement;
	return rp;
}

void
replay_report_free(struct replay_report *rp)
{
	if (rp == NULL)
		return;
	tally_free(&rp->by_turn);
	tally_free(&rp->reasons);
	tally_free(&rp->human_reasons);
	tally_free(&rp->violations);
	tally_free(&rp->phrases);
	tally_free(&rp->tools);
	free(rp->cal_conf);
	free(rp->cal_stood);
	free(rp);
}

void
replay_report_bad(struct replay_report *rp)
{
	rp->bad++;
}

static double
sweep_threshold(int i)
{
	return (i + 1) / 20.0;
}

static const cJSON *
get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

void
replay_report_add(struct replay_report *rp, const cJSON *r)
{
	rp->tickets++;
	if (rp->version[0] == '\0' && cJSON_GetStringValue(get(r, "version")))
		snprintf(rp->version, sizeof rp->version, "%s", get(r, "version")->valuestring);
	const cJSON *human = get(r, "human");
	int acat = names_find(category_names, cJSON_GetStringValue(get(r, "category")) ?: "");
	int hcat =
	    names_find(category_names, cJSON_GetStringValue(get(human, "intent_category")) ?: "");
	if (acat >= 0 && hcat >= 0) {
		const cJSON *conf = get(get(r, "triage"), "intent_confidence");
		intent_tally_add(&rp->triage, hcat, (enum category)acat,
		                 cJSON_IsNumber(conf) ? conf->valuedouble : -1);
	}

	/* Escalation: by the human's category when labelled, else the agent's. */
	int agent = cJSON_IsTrue(get(r, "agent_escalated"));
	const cJSON *hesc = get(human, "escalated");
	int cat = hcat >= 0 ? hcat : acat;
	if (cat >= 0) {
		rp->cat_tickets[cat]++;
		rp->cat_agent[cat] += agent;
	}
	rp->agent_escalated += agent;
	if (cJSON_IsBool(hesc)) {
		int h = cJSON_IsTrue(hesc);
		rp->tp += agent && h;
		rp->fp += agent && !h;
		rp->fn += !agent && h;
		rp->tn += !agent && !h;
		if (cat >= 0) {
			rp->cat_human[cat] += h;
			rp->cat_human_labelled[cat]++;
		}
		const char *hr = cJSON_GetStringValue(get(human, "escalation_reason"));
		if (h)
			tally_add(&rp->human_reasons, hr ? hr : "(none given)", 1);
	}
	if (agent) {
		const cJSON *turn = get(r, "escalation_turn");
		char buf[32];
		snprintf(buf, sizeof buf, "%d", cJSON_IsNumber(turn) ? turn->valueint : 0);
		tally_add(&rp->by_turn, buf, 1);
		tally_add(&rp->reasons, cJSON_GetStringValue(get(r, "escalation_reason")) ?: "", 1);
	}

	const cJSON *e;
	int nviol = 0;
	cJSON_ArrayForEach(e, get(r, "violations"))
	{
		if (cJSON_IsString(e)) {
			tally_add(&rp->violations, e->valuestring, 1);
			nviol++;
		}
	}
	rp->violation_tickets += nviol > 0;
	cJSON_ArrayForEach(e, get(r, "prohibited_phrases"))
	{
		if (cJSON_IsString(e))
			tally_add(&rp->phrases, e->valuestring, 1);
	}
	cJSON_ArrayForEach(e, get(r, "tools"))
	{
		const char *name = cJSON_GetStringValue(get(e, "name"));
		if (name != NULL)
			tally_add(&rp->tools, name, 1);
	}
	cJSON_ArrayForEach(e, get(r, "replies"))
	{
		const cJSON *st = get(e, "stands"), *cf = get(e, "confidence");
		if (cJSON_IsBool(st) && cJSON_IsNumber(cf)) {
			if (rp->cal_n == rp->cal_cap) {
				rp->cal_cap = rp->cal_cap ? rp->cal_cap * 2 : 256;
				rp->cal_conf = xreallocarray(rp->cal_conf, rp->cal_cap, sizeof *rp->cal_conf);
				rp->cal_stood = xrealloc(rp->cal_stood, rp->cal_cap);
			}
			rp->cal_conf[rp->cal_n] = cf->valuedouble;
			rp->cal_stood[rp->cal_n++] = (char)cJSON_IsTrue(st);
		}
		const cJSON *s = get(e, "similarity");
		if (cJSON_IsObject(s)) {
			rp->f1_sum += num(s, "f1", 0);
			rp->rl_sum += num(s, "rouge_l", 0);
			rp->sim_turns++;
		}
	}

	const cJSON *out = get(r, "outcome");
	if (cJSON_IsObject(out)) {
		rp->outcomes++;
		const cJSON *res = get(out, "resolved");
		const char *by = cJSON_GetStringValue(get(out, "resolved_by"));
		int path = cJSON_IsFalse(res) ? 2 : by && strcmp(by, "agent") == 0 ? 0 : 1;
		rp->path_tickets[path]++;
		const cJSON *csat = get(out, "csat");
		if (cJSON_IsNumber(csat) && csat->valuedouble >= 1 && csat->valuedouble <= 5) {
			rp->path_csat_sum[path] += csat->valuedouble;
			rp->path_csat_n[path]++;
		}
		const cJSON *rc = get(out, "recontact_within_7d");
		if (!cJSON_IsFalse(res) && cJSON_IsBool(rc)) {
			rp->resolved++;
			rp->recontacted += cJSON_IsTrue(rc);
		}
	}

	if (cJSON_IsBool(hesc)) {
		rp->sweep_labelled++;
		for (int i = 0; i < SWEEP_N; i++) {
			int a = replay_sweep_escalates(r, sweep_threshold(i));
			rp->sweep_escalated[i] += a;
			rp->sweep_agree[i] += a == cJSON_IsTrue(hesc);
		}
	} else
		for (int i = 0; i < SWEEP_N; i++)
			rp->sweep_escalated[i] += replay_sweep_escalates(r, sweep_threshold(i));
}

static cJSON *
ratio(double num, double den)
{
	return den > 0 ? cJSON_CreateNumber(round3(num / den)) : cJSON_CreateNull();
}

static cJSON *
escalation_json_report(const struct replay_report *rp)
{
	cJSON *o = cJSON_CreateObject();
	long lab = rp->tp + rp->fp + rp->fn + rp->tn;
	cJSON_AddNumberToObject(o, "labelled", (double)lab);
	cJSON_AddNumberToObject(o, "tp", (double)rp->tp);
	cJSON_AddNumberToObject(o, "fp", (double)rp->fp);
	cJSON_AddNumberToObject(o, "fn", (double)rp->fn);
	cJSON_AddNumberToObject(o, "tn", (double)rp->tn);
	cJSON_AddItemToObject(o, "precision", ratio((double)rp->tp, (double)(rp->tp + rp->fp)));
	cJSON_AddItemToObject(o, "recall", ratio((double)rp->tp, (double)(rp->tp + rp->fn)));
	cJSON_AddItemToObject(o, "agreement", ratio((double)(rp->tp + rp->tn), (double)lab));
	cJSON_AddItemToObject(o, "agent_rate",
	                      ratio((double)rp->agent_escalated, (double)rp->tickets));
	cJSON_AddItemToObject(o, "human_rate", ratio((double)(rp->tp + rp->fn), (double)lab));
	cJSON *bc = cJSON_AddObjectToObject(o, "by_category");
	for (int c = 0; c < CAT__N; c++) {
		if (rp->cat_tickets[c] == 0)
			continue;
		cJSON *k = cJSON_AddObjectToObject(bc, category_names[c]);
		cJSON_AddNumberToObject(k, "tickets", (double)rp->cat_tickets[c]);
		cJSON_AddNumberToObject(k, "agent_escalated", (double)rp->cat_agent[c]);
		cJSON_AddNumberToObject(k, "human_escalated", (double)rp->cat_human[c]);
		cJSON_AddItemToObject(k, "agent_rate",
		                      ratio((double)rp->cat_agent[c], (double)rp->cat_tickets[c]));
		cJSON_AddItemToObject(
		    k, "human_rate",
		    ratio((double)rp->cat_human[c], (double)rp->cat_human_labelled[c]));
	}
	cJSON_AddItemToObject(o, "by_turn", tally_json(&rp->by_turn));
	cJSON_AddItemToObject(o, "reasons", tally_json(&rp->reasons));
	cJSON_AddItemToObject(o, "human_reasons", tally_json(&rp->human_reasons));
	return o;
}

/* Expected calibration error over ten equal-width bins of confidence. */
static double
ece(const double *conf, const char *stood, size_t n)
{
	double sum_c[10] = {0}, sum_y[10] = {0};
	long cnt[10] = {0};
	for (size_t i = 0; i < n; i++) {
		int b = conf[i] >= 1 ? 9 : conf[i] <= 0 ? 0 : (int)(conf[i] * 10);
		sum_c[b] += conf[i];
		sum_y[b] += stood[i];
		cnt[b]++;
	}
	double e = 0;
	for (int b = 0; b < 10; b++)
		if (cnt[b] > 0)
			e += fabs(sum_c[b] - sum_y[b]) / (double)n;
	return e;
}

/* Area under the ROC curve: P(a reply that stood scores above one that did not), ties half. */
static double
auroc(const double *conf, const char *stood, size_t n, long *pos, long *neg)
{
	double wins = 0;
	*pos = *neg = 0;
	for (size_t i = 0; i < n; i++)
		*pos += stood[i], *neg += !stood[i];
	if (*pos == 0 || *neg == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n && stood[i]; j++)
			if (!stood[j])
				wins += conf[i] > conf[j] ? 1 : conf[i] == conf[j] ? 0.5 : 0;
	return wins / ((double)*pos * (double)*neg);
}

static cJSON *
calibration_json(const struct replay_report *rp)
{
	cJSON *o = cJSON_CreateObject();
	long pos, neg;
	double a = auroc(rp->cal_conf, rp->cal_stood, rp->cal_n, &pos, &neg);
	cJSON_AddNumberToObject(o, "turns", (double)rp->cal_n);
	cJSON_AddNumberToObject(o, "stood", (double)pos);
	cJSON_AddNumberToObject(o, "not_stood", (double)neg);
	cJSON_AddItemToObject(o, "ece",
	                      rp->cal_n ? cJSON_CreateNumber(round3(ece(rp->cal_conf, rp->cal_stood,
	                                                                  rp->cal_n)))
	                                : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "auroc", isnan(a) ? cJSON_CreateNull() : cJSON_CreateNumber(round3(a)));
	return o;
}

static cJSON *
sweep_json(const struct replay_report *rp)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "target_agreement", rp->target);
	cJSON_AddNumberToObject(o, "labelled", (double)rp->sweep_labelled);
	cJSON *pts = cJSON_AddArrayToObject(o, "points");
	int best = -1;
	for (int i = 0; i < SWEEP_N; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "threshold", sweep_threshold(i));
		cJSON_AddItemToObject(p, "escalation_rate",
		                      ratio((double)rp->sweep_escalated[i], (double)rp->tickets));
		cJSON_AddItemToObject(
		    p, "agreement", ratio((double)rp->sweep_agree[i], (double)rp->sweep_labelled));
		cJSON_AddItemToArray(pts, p);
		if (rp->sweep_labelled == 0 || rp->tickets == 0 ||
		    (double)rp->sweep_agree[i] / rp->sweep_labelled < rp->target - 1e-9)
			continue;
		/* The lowest escalation rate; on a tie, the better agreement, then the lower
		 * threshold. */
		if (best < 0 || rp->sweep_escalated[i] < rp->sweep_escalated[best] ||
		    (rp->sweep_escalated[i] == rp->sweep_escalated[best] &&
		     rp->sweep_agree[i] > rp->sweep_agree[best]))
			best = i;
	}
	if (best >= 0)
		cJSON_AddItemToObject(o, "best", cJSON_Duplicate(cJSON_GetArrayItem(pts, best), 1));
	else
		cJSON_AddNullToObject(o, "best");
	return o;
}

cJSON *
replay_report_json(const struct replay_report *rp)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "tickets", (double)rp->tickets);
	cJSON_AddNumberToObject(o, "bad_lines", (double)rp->bad);
	cJSON_AddStringToObject(o, "version", rp->version);
	cJSON_AddItemToObject(o, "triage", intent_tally_json(&rp->triage));
	cJSON_AddItemToObject(o, "escalation", escalation_json_report(rp));
	cJSON *v = cJSON_AddObjectToObject(o, "violations");
	long total = 0;
	for (size_t i = 0; i < rp->violations.names.n; i++)
		total += rp->violations.n[i];
	cJSON_AddNumberToObject(v, "total", (double)total);
	cJSON_AddNumberToObject(v, "tickets", (double)rp->violation_tickets);
	cJSON_AddItemToObject(v, "by_kind", tally_json(&rp->violations));
	cJSON_AddItemToObject(o, "prohibited_phrases", tally_json(&rp->phrases));
	cJSON *s = cJSON_AddObjectToObject(o, "reply_similarity");
	cJSON_AddNumberToObject(s, "turns", (double)rp->sim_turns);
	cJSON_AddItemToObject(s, "f1", ratio(rp->f1_sum, (double)rp->sim_turns));
	cJSON_AddItemToObject(s, "rouge_l", ratio(rp->rl_sum, (double)rp->sim_turns));
	cJSON_AddItemToObject(o, "tools", tally_json(&rp->tools));
	cJSON *oc = cJSON_AddObjectToObject(o, "outcomes");
	cJSON_AddNumberToObject(oc, "tickets", (double)rp->outcomes);
	cJSON *cp = cJSON_AddObjectToObject(oc, "csat_by_path");
	for (int i = 0; i < PATH_N; i++) {
		cJSON *k = cJSON_AddObjectToObject(cp, path_names[i]);
		cJSON_AddNumberToObject(k, "tickets", (double)rp->path_tickets[i]);
		cJSON_AddNumberToObject(k, "responses", (double)rp->path_csat_n[i]);
		cJSON_AddItemToObject(k, "mean",
		                      ratio(rp->path_csat_sum[i], (double)rp->path_csat_n[i]));
	}
	cJSON *rc = cJSON_AddObjectToObject(oc, "recontact");
	cJSON_AddNumberToObject(rc, "resolved", (double)rp->resolved);
	cJSON_AddNumberToObject(rc, "recontacted", (double)rp->recontacted);
	cJSON_AddItemToObject(rc, "rate", ratio((double)rp->recontacted, (double)rp->resolved));
	cJSON_AddItemToObject(o, "calibration", calibration_json(rp));
	cJSON_AddItemToObject(o, "sweep", sweep_json(rp));
	return o;
}

/* ------------------------------------------------------------ text report */

static void
pnum(FILE *f, const cJSON *v, int percent)
{
	char b[32];
	fputs(intent_fmt_rate(b, v, percent), f);
}

static void
ptally(FILE *f, const char *title, const cJSON *t)
{
	fprintf(f, "%s:", title);
	if (cJSON_GetArraySize(t) == 0)
		fputs(" none", f);
	const cJSON *e;
	cJSON_ArrayForEach(e, t)
	{
		fprintf(f, " %s %d%s", e->string, e->valueint, e->next ? "," : "");
	}
	fputc('\n', f);
}

void
replay_report_print(const cJSON *o, FILE *f)
{
	const cJSON *t = get(o, "triage"), *e = get(o, "escalation"), *e2;
	fprintf(f, "Replay of %d tickets (%d bad lines skipped), agent version %s\n\n",
	        get(o, "tickets")->valueint, get(o, "bad_lines")->valueint,
	        cJSON_GetStringValue(get(o, "version")));

	fprintf(f, "Triage (%d labelled): ", get(t, "labelled")->valueint);
	intent_report_print(t, f);
	fprintf(f, "\nEscalation (%d labelled): agent ", get(e, "labelled")->valueint);
	pnum(f, get(e, "agent_rate"), 1);
	fputs(", human ", f);
	pnum(f, get(e, "human_rate"), 1);
	fputs(", agreement ", f);
	pnum(f, get(e, "agreement"), 1);
	fputs(", precision ", f);
	pnum(f, get(e, "precision"), 0);
	fputs(", recall ", f);
	pnum(f, get(e, "recall"), 0);
	fprintf(f, "\n  both %d, agent only %d, human only %d, neither %d\n",
	        get(e, "tp")->valueint, get(e, "fp")->valueint, get(e, "fn")->valueint,
	        get(e, "tn")->valueint);
	fputs("  category     tickets  agent rate  human rate\n", f);
	cJSON_ArrayForEach(e2, get(e, "by_category"))
	{
		char b1[32], b2[32];
		fprintf(f, "  %-12s %7d  %-10s  %s\n", e2->string, get(e2, "tickets")->valueint,
		        intent_fmt_rate(b1, get(e2, "agent_rate"), 1),
		        intent_fmt_rate(b2, get(e2, "human_rate"), 1));
	}
	fputs("  ", f);
	ptally(f, "agent escalated at turn", get(e, "by_turn"));
	fputs("  ", f);
	ptally(f, "agent's reasons", get(e, "reasons"));
	fputs("  ", f);
	ptally(f, "human's reasons", get(e, "human_reasons"));

	const cJSON *v = get(o, "violations");
	fprintf(f, "\nValidation: %d violations in %d tickets\n  ", get(v, "total")->valueint,
	        get(v, "tickets")->valueint);
	ptally(f, "by kind", get(v, "by_kind"));
	ptally(f, "Tone (prohibited phrases)", get(o, "prohibited_phrases"));
	const cJSON *s = get(o, "reply_similarity");
	fprintf(f, "Reply similarity over %d turns: token F1 ", get(s, "turns")->valueint);
	pnum(f, get(s, "f1"), 0);
	fputs(", ROUGE-L ", f);
	pnum(f, get(s, "rouge_l"), 0);
	fputc('\n', f);
	ptally(f, "Tools the agent would have called", get(o, "tools"));

	const cJSON *oc = get(o, "outcomes");
	fprintf(f, "\nOutcomes (%d tickets): CSAT by path", get(oc, "tickets")->valueint);
	cJSON_ArrayForEach(e2, get(oc, "csat_by_path"))
	{
		fprintf(f, " %s ", e2->string);
		pnum(f, get(e2, "mean"), 0);
		fprintf(f, " (%d)%s", get(e2, "responses")->valueint, e2->next ? "," : "");
	}
	const cJSON *rc = get(oc, "recontact");
	fputs("; re-contact within 7 days ", f);
	pnum(f, get(rc, "rate"), 1);
	fprintf(f, " of %d resolved\n", get(rc, "resolved")->valueint);

	const cJSON *cal = get(o, "calibration");
	fprintf(f, "\nReply confidence against the humans (%d turns, %d not let stand): ECE ",
	        get(cal, "turns")->valueint, get(cal, "not_stood")->valueint);
	pnum(f, get(cal, "ece"), 0);
	fputs(", AUROC ", f);
	pnum(f, get(cal, "auroc"), 0);
	fputc('\n', f);

	const cJSON *sw = get(o, "sweep");
	fprintf(f, "\nThreshold sweep (%d labelled; target agreement %.0f%%)\n",
	        get(sw, "labelled")->valueint, num(sw, "target_agreement", 0) * 100);
	fputs("  threshold  escalation rate  agreement\n", f);
	cJSON_ArrayForEach(e2, get(sw, "points"))
	{
		char b1[32], b2[32];
		fprintf(f, "  %9.2f  %-15s  %s\n", num(e2, "threshold", 0),
		        intent_fmt_rate(b1, get(e2, "escalation_rate"), 1),
		        intent_fmt_rate(b2, get(e2, "agreement"), 1));
	}
	const cJSON *b = get(sw, "best");
	if (cJSON_IsObject(b)) {
		fprintf(f, "  best: threshold %.2f, escalation rate ", num(b, "threshold", 0));
		pnum(f, get(b, "escalation_rate"), 1);
		fputs(", agreement ", f);
		pnum(f, get(b, "agreement"), 1);
		fputc('\n', f);
	} else
		fputs("  best: no threshold reaches the target agreement\n", f);
}
