/* conversation.c -- a conversation turn through triage, resolution, governance and handoff. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "escalation.h"
#include "handoff.h"
#include "resolution.h"
#include "validate.h"

void
conversation_init(struct conversation *c, const char *customer_id, enum tier tier)
{
	memset(c, 0, sizeof *c);
	c->customer_id = customer_id ? xstrdup(customer_id) : NULL;
	c->tier = tier;
	c->category = CAT_GENERAL;
	c->max_amount = -1;
}

void
conversation_free(struct conversation *c)
{
	free(c->customer_id);
	free(c->last_sentiment);
	strv_free(&c->orders);
	strv_free(&c->ids);
	strv_free(&c->words);
	strv_free(&c->tried);
	strv_free(&c->facts);
	memset(c, 0, sizeof *c);
}

static cJSON *
strv_json(const struct strv *sv)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

static void
strv_from_json(struct strv *sv, const cJSON *a)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		if (cJSON_IsString(e))
			strv_add(sv, e->valuestring);
	}
}

cJSON *
conversation_state_json(const struct conversation *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "turn", c->turn);
	cJSON_AddBoolToObject(o, "disclosed_ai", c->disclosed_ai);
	cJSON_AddBoolToObject(o, "disclosed_data", c->disclosed_data);
	cJSON_AddNumberToObject(o, "asked", c->asked);
	cJSON_AddBoolToObject(o, "escalated", c->escalated);
	cJSON_AddStringToObject(o, "category", category_names[c->category]);
	cJSON_AddItemToObject(o, "orders", strv_json(&c->orders));
	cJSON_AddItemToObject(o, "ids", strv_json(&c->ids));
	cJSON_AddItemToObject(o, "words", strv_json(&c->words));
	cJSON_AddItemToObject(o, "tried", strv_json(&c->tried));
	cJSON_AddItemToObject(o, "facts", strv_json(&c->facts));
	cJSON_AddNumberToObject(o, "max_amount", c->max_amount);
	cJSON_AddNumberToObject(o, "credited_usd", c->tools.credited_usd);
	cJSON_AddNumberToObject(o, "writes", c->tools.writes);
	return o;
}

int
conversation_restore(struct conversation *c, const cJSON *s)
{
	if (!cJSON_IsObject(s))
		return -1;
	const cJSON *v;
	c->turn = (v = cJSON_GetObjectItem(s, "turn")) && cJSON_IsNumber(v) ? v->valueint : 0;
	c->disclosed_ai = cJSON_IsTrue(cJSON_GetObjectItem(s, "disclosed_ai"));
	c->disclosed_data = cJSON_IsTrue(cJSON_GetObjectItem(s, "disclosed_data"));
	c->asked =
	    (v = cJSON_GetObjectItem(s, "asked")) && cJSON_IsNumber(v) ? (unsigned)v->valueint : 0;
	c->escalated = cJSON_IsTrue(cJSON_GetObjectItem(s, "escalated"));
	int cat = names_find(category_names,
	                     cJSON_GetStringValue(cJSON_GetObjectItem(s, "category")) ?: "");
	c->category = cat < 0 ? CAT_GENERAL : (enum category)cat;
	strv_from_json(&c->orders, cJSON_GetObjectItem(s, "orders"));
	strv_from_json(&c->ids, cJSON_GetObjectItem(s, "ids"));
	strv_from_json(&c->words, cJSON_GetObjectItem(s, "words"));
	strv_from_json(&c->tried, cJSON_GetObjectItem(s, "tried"));
	strv_from_json(&c->facts, cJSON_GetObjectItem(s, "facts"));
	c->max_amount = (v = cJSON_GetObjectItem(s, "max_amount")) ? v->valuedouble : -1;
	c->tools.credited_usd = (v = cJSON_GetObjectItem(s, "credited_usd")) ? v->valuedouble : 0;
	c->tools.writes = (v = cJSON_GetObjectItem(s, "writes")) ? v->valueint : 0;
	return 0;
}

static void
event(cJSON *events, const char *kind, cJSON *payload)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "kind", kind);
	cJSON_AddItemToObject(e, "payload", payload);
	cJSON_AddItemToArray(events, e);
}

static const char *
disclosure_text(const struct policy *p, enum disclosure_trigger trig)
{
	for (size_t i = 0; i < p->ndisclosures; i++)
		if (p->disclosures[i].trigger == trig)
			return p->disclosures[i].text;
	return NULL;
}

/* Remembers the customer's own identifiers: the reply may repeat them. */
static void
remember_ids(struct conversation *c, const struct entities *e)
{
	const struct strv *lists[] = {&e->order_numbers, &e->account_ids, &e->emails, &e->phones};
	for (size_t l = 0; l < nitems(lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (!strv_contains(&c->ids, lists[l]->v[i]))
				strv_add(&c->ids, lists[l]->v[i]);
	for (size_t i = 0; i < e->order_numbers.n; i++)
		if (!strv_contains(&c->orders, e->order_numbers.v[i]))
			strv_add(&c->orders, e->order_numbers.v[i]);
}

/* Adds the identifiers in a tool result (the customer's own emails, orders) to ids. */
static void
remember_result_ids(struct conversation *c, const cJSON *r)
{
	static const char *const keys[] = {"email", "id", "order_id", "tracking", "phone"};
	const cJSON *e;
	if (r == NULL)
		return;
	cJSON_ArrayForEach(e, r)
	{
		if (cJSON_IsObject(e) || cJSON_IsArray(e))
			remember_result_ids(c, e);
		else if (cJSON_IsString(e) && e->string != NULL)
			for (size_t k = 0; k < nitems(keys); k++)
				if (strcmp(e->string, keys[k]) == 0 &&
				    !strv_contains(&c->ids, e->valuestring))
					strv_add(&c->ids, e->valuestring);
	}
}

/* Records what the agent did (s is taken), once: a tool read every turn is one line. */
static void
tried_take(struct conversation *c, char *s)
{
	if (strv_contains(&c->tried, s))
		free(s);
	else
		strv_take(&c->tried, s);
}

/*
 * Runs plan's calls under the policy for route into calls[*ncalls...] (the
 * plan's args move there), adding each to tools and events and each result
 * to results. What was done, and each write refused, goes into c->tried.
 */
static void
run_plan(const struct agents *ag, struct conversation *c, enum route route, struct plan *plan,
         struct tool_call *calls, int *ncalls, cJSON *tools, cJSON *events, cJSON *results,
         int *account_read)
{
	/* Triage's human routes read with the general route's tools, for the handoff. */
	if (route == ROUTE_HUMAN_PRIORITY || route == ROUTE_HUMAN_STANDARD)
		route = ROUTE_RESOLUTION_GENERAL;
	for (int i = 0; i < plan->n; i++) {
		struct tool_call *k = &calls[(*ncalls)++];
		memset(k, 0, sizeof *k);
		k->tool = plan->tool[i];
		k->args = plan->args[i];
		tool_invoke(ag->policy, route, &c->tools, ag->tools, c->customer_id, k);
		cJSON *kj = tool_call_json(k);
		cJSON_AddItemToArray(tools, kj);
		event(events, "tool", cJSON_Duplicate(kj, 1));
		char *args = cJSON_PrintUnformatted(k->args);
		if (k->allowed && k->result) {
			cJSON_AddItemToArray(results, cJSON_Duplicate(k->result, 1));
			remember_result_ids(c, k->result);
			tried_take(c, xasprintf("%s %s", tool_table[k->tool].name, args));
			if (k->tool == TOOL_GET_CUSTOMER_ACCOUNT)
				*account_read = 1;
		} else if (tool_table[k->tool].authority == TOOL_WRITE)
			/* The human who takes over needs to know what the agent could not do. */
			tried_take(c, xasprintf("%s %s refused: %s", tool_table[k->tool].name, args,
			                        k->refusal ? k->refusal : "no result"));
		free(args);
	}
	plan->n = 0;
}

cJSON *
conversation_turn(const struct agents *ag, struct conversation *c, const char *text,
                  cJSON **events_out)
{
	const struct policy *p = ag->policy;
	cJSON *turn = cJSON_CreateObject(), *events = cJSON_CreateArray();
	struct triage_result t;
	char *cause = NULL;

	c->turn++;
	strv_add(&c->words, text);
	cJSON_AddNumberToObject(turn, "turn", c->turn);
	cJSON_AddStringToObject(turn, "customer", text);

	/* 1. Triage. */
	triage_run(ag->triage, text, strlen(text), c->tier, &t);
	if (c->turn == 1)
		c->category = t.intent_category;
	remember_ids(c, &t.entities);
	double amount = entities_max_usd(&t.entities);
	if (amount > c->max_amount)
		c->max_amount = amount;
	cJSON *tj = triage_json(&t);
	cJSON_AddItemToObject(turn, "triage", tj);
	event(events, "triage", cJSON_Duplicate(tj, 1));

	/* 2. Knowledge: searched every turn. */
	struct kb_hits hits = {0};
	if (kb_search(ag->kb, text, 3, &ag->fresh, &hits, &cause) != 0) {
		cJSON_AddStringToObject(turn, "knowledge_error", cause);
		free(cause);
		cause = NULL;
	}
	cJSON *kn = cJSON_AddArrayToObject(turn, "knowledge");
	for (size_t i = 0; i < hits.n; i++)
		cJSON_AddItemToArray(kn, kb_hit_json(&hits.v[i]));
	event(events, "retrieval", cJSON_Duplicate(kn, 1));

	/* 3. Governed tools, as the agent plans them (never as the customer asks). */
	struct plan plan;
	struct tool_call calls[8];
	int ncalls = 0;
	enum route route = t.route;
	int human = route == ROUTE_HUMAN_PRIORITY || route == ROUTE_HUMAN_STANDARD;
	cJSON *tools = cJSON_AddArrayToObject(turn, "tools");
	cJSON *results = cJSON_CreateArray();
	int account_read = 0;
	resolution_plan(c, &t, &plan);
	run_plan(ag, c, route, &plan, calls, &ncalls, tools, events, results, &account_read);
	/* Writes only from what the reads verified, and never on a human's ticket. */
	if (!human) {
		resolution_plan_writes(p, c, calls, ncalls, &plan);
		run_plan(ag, c, route, &plan, calls, &ncalls, tools, events, results,
		         &account_read);
	}

	/* 4. The resolution agent's reply. */
	struct resolution res;
	resolution_compose(ag, c, &t, &hits, calls, ncalls, &res);
	c->asked = res.asked;
	if (res.used != NULL) {
		const struct kb_fact *f = &res.used->fact;
		char *rec = xasprintf("%s|%s|%d|%d", f->id, f->title, res.used->freshness_days,
		                      res.used->stale);
		if (!strv_contains(&c->facts, rec))
			strv_take(&c->facts, rec);
		else
			free(rec);
		tried_take(c, xasprintf("quoted %s%s", f->id, res.used->stale ? " (stale)" : ""));
	}

	/* 5. Disclosures: the AI on the first message, data collection with account data. */
	struct buf reply;
	buf_init(&reply, 0);
	cJSON *disc = cJSON_CreateArray();
	const char *ai = disclosure_text(p, DISCLOSE_FIRST_MESSAGE);
	const char *data = disclosure_text(p, DISCLOSE_ACCOUNT_DATA_REQUESTED);
	struct strv allowed = {0};
	if (!c->disclosed_ai && ai != NULL) {
		buf_printf(&reply, "%s ", ai);
		strv_add(&allowed, ai);
		cJSON_AddItemToArray(disc, cJSON_CreateString("ai_disclosure"));
		c->disclosed_ai = 1;
	}
	if (account_read && !c->disclosed_data && data != NULL) {
		buf_printf(&reply, "%s ", data);
		strv_add(&allowed, data);
		cJSON_AddItemToArray(disc, cJSON_CreateString("data_collection_notice"));
		c->disclosed_data = 1;
	}
	/* The disclosures go with whatever the customer is sent: reply or handoff message. */
	char *disclosed = xstrndup(reply.data, reply.len);
	buf_adds(&reply, res.reply);
	if (res.caveat)
		strv_add(&allowed, res.caveat);
	for (size_t i = 0; i < c->words.n; i++)
		strv_add(&allowed, c->words.v[i]);

	/* 6. Output validation: a failing reply never reaches the customer. */
	struct strv knowledge = {0};
	for (size_t i = 0; i < hits.n; i++) {
		strv_add(&knowledge, hits.v[i].fact.title);
		strv_add(&knowledge, hits.v[i].fact.content);
	}
	struct validation_context vc = {.knowledge = &knowledge,
	                                .tool_results = results,
	                                .customer_ids = &c->ids,
	                                .allowed_text = &allowed};
	struct validation val;
	validate_reply(p, reply.data, &vc, &val);
	cJSON *vj = validation_json(&val);
	cJSON_AddItemToObject(turn, "validation", vj);
	event(events, "validation", cJSON_Duplicate(vj, 1));
	if (cJSON_GetArraySize(disc) > 0)
		event(events, "disclosure", cJSON_Duplicate(disc, 1));
	cJSON_AddItemToObject(turn, "disclosures", disc);

	/* 7. Escalation: every signal, and triage's human routes. */
	struct escalation_input in = {
	    .agent_confidence = res.confidence,
	    .turn_count = c->turn,
	    .sentiment = t.sentiment,
	    .category = t.intent_category,
	    .tier = c->tier,
	    .has_legal_language = t.has_legal_language,
	    .retrieval_confidence = hits.n > 0 ? hits.v[0].confidence : -1,
	    .message = text,
	    .amount_usd = c->max_amount,
	};
	struct escalation_decision d;
	escalation_evaluate(p, &in, &d);
	const char *reason = d.escalate ? d.reason : NULL, *queue = d.queue;
	if (reason == NULL && !val.passed) {
		reason = "validation-failed";
		queue = route_names[ROUTE_HUMAN_STANDARD];
	}
	if (reason == NULL && res.refused) {
		reason = "write-refused";
		queue = route_names[ROUTE_HUMAN_STANDARD];
	}
	if (reason == NULL && (route == ROUTE_HUMAN_PRIORITY || route == ROUTE_HUMAN_STANDARD)) {
		reason = "triage-route";
		queue = route_names[route];
	}
	cJSON *ej = escalation_json(&d);
	if (reason != NULL && !d.escalate) {
		cJSON_ReplaceItemInObject(ej, "escalate", cJSON_CreateTrue());
		cJSON_ReplaceItemInObject(ej, "reason", cJSON_CreateString(reason));
		cJSON_ReplaceItemInObject(ej, "queue", cJSON_CreateString(queue));
	}
	cJSON_AddItemToObject(turn, "escalation", ej);
	event(events, "escalation", cJSON_Duplicate(ej, 1));

	/* 8. A reply, or a handoff packet for a human. */
	if (reason == NULL) {
		cJSON_AddStringToObject(turn, "reply", reply.data);
		cJSON_AddNullToObject(turn, "handoff");
	} else {
		cJSON_AddNullToObject(turn, "reply");
		c->escalated = 1;
		cJSON *h = handoff_build(c, &t, reason, queue);
		/* What the customer is told while a human picks it up. */
		const char *msg =
		    d.escalate && d.message
		        ? d.message
		        : "I'm connecting you with a specialist who can help with this; "
		          "they will have the full context of our conversation.";
		char *told = xasprintf("%s%s", disclosed, msg);
		cJSON_AddStringToObject(h, "message_to_customer", told);
		free(told);
		cJSON_AddItemToObject(turn, "handoff", h);
		event(events, "handoff", cJSON_Duplicate(h, 1));
	}
	cJSON_AddNumberToObject(turn, "agent_confidence",
	                        (double)(int)(res.confidence * 1000) / 1000);
	event(events, "state", conversation_state_json(c));

	free(disclosed);
	strv_free(&knowledge);
	strv_free(&allowed);
	validation_free(&val);
	buf_free(&reply);
	resolution_free(&res);
	for (int i = 0; i < ncalls; i++)
		tool_call_free(&calls[i]);
	cJSON_Delete(results);
	kb_hits_free(&hits);
	triage_result_free(&t);
	*events_out = events;
	return turn;
}
