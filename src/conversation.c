/* conversation.c -- a conversation turn through triage, resolution, governance and handoff. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "escalation.h"
#include "handoff-model.h"
#include "kb.h"
#include "model.h"
#include "resolution-model.h"
#include "resolution.h"
#include "retrieval.h"
#include "triage-model.h"
#include "tone.h"
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
	cJSON_Delete(c->offer);
	free(c->pending);
	strv_free(&c->told);
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
	cJSON_AddBoolToObject(o, "escalated", c->escalated);
	cJSON_AddStringToObject(o, "act", dialogue_act_names[c->act]);
	if (c->awaiting == AWAIT_NONE)
		cJSON_AddNullToObject(o, "awaiting");
	else
		cJSON_AddStringToObject(o, "awaiting", awaiting_names[c->awaiting]);
	cJSON_AddItemToObject(o, "offer", c->offer ? cJSON_Duplicate(c->offer, 1) : cJSON_CreateNull());
	if (c->pending != NULL) {
		cJSON_AddStringToObject(o, "pending", c->pending);
		cJSON_AddStringToObject(o, "pending_category", category_names[c->pending_category]);
	}
	cJSON_AddBoolToObject(o, "offered_more", c->offered_more);
	cJSON_AddNumberToObject(o, "work_turns", c->work_turns);
	cJSON_AddItemToObject(o, "told", strv_json(&c->told));
	cJSON_AddStringToObject(o, "category", category_names[c->category]);
	cJSON_AddItemToObject(o, "orders", strv_json(&c->orders));
	cJSON_AddItemToObject(o, "ids", strv_json(&c->ids));
	cJSON_AddItemToObject(o, "words", strv_json(&c->words));
	cJSON_AddItemToObject(o, "tried", strv_json(&c->tried));
	cJSON_AddItemToObject(o, "facts", strv_json(&c->facts));
	cJSON_AddNumberToObject(o, "max_amount", c->max_amount);
	cJSON_AddNumberToObject(o, "credited_usd", c->tools.credited_usd);
	cJSON_AddNumberToObject(o, "writes", c->tools.writes);
	cJSON_AddNumberToObject(o, "model_tokens", (double)c->model_tokens);
	cJSON_AddNumberToObject(o, "model_cost_usd", c->model_cost_usd);
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
	c->escalated = cJSON_IsTrue(cJSON_GetObjectItem(s, "escalated"));
	int act = names_find(dialogue_act_names,
	                     cJSON_GetStringValue(cJSON_GetObjectItem(s, "act")) ?: "");
	c->act = act < 0 ? ACT_QUESTION : (enum dialogue_act)act;
	int aw = names_find(awaiting_names,
	                    cJSON_GetStringValue(cJSON_GetObjectItem(s, "awaiting")) ?: "");
	if (aw >= 0)
		c->awaiting = (enum awaiting)aw;
	else if ((v = cJSON_GetObjectItem(s, "asked")) && cJSON_IsNumber(v) && v->valueint != 0)
		/* A state written before dialogue acts: its ASK_ORDER and ASK_EMAIL bits. */
		c->awaiting = v->valueint & 1 ? AWAIT_ORDER_NUMBER : AWAIT_EMAIL;
	v = cJSON_GetObjectItem(s, "offer");
	c->offer = cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : NULL;
	const char *pending = cJSON_GetStringValue(cJSON_GetObjectItem(s, "pending"));
	c->pending = pending ? xstrdup(pending) : NULL;
	int pc = names_find(category_names,
	                    cJSON_GetStringValue(cJSON_GetObjectItem(s, "pending_category")) ?: "");
	c->pending_category = pc < 0 ? CAT_GENERAL : (enum category)pc;
	c->offered_more = cJSON_IsTrue(cJSON_GetObjectItem(s, "offered_more"));
	c->work_turns = (v = cJSON_GetObjectItem(s, "work_turns")) && cJSON_IsNumber(v)
	                    ? v->valueint
	                    : c->turn;
	strv_from_json(&c->told, cJSON_GetObjectItem(s, "told"));
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
	c->model_tokens =
	    (v = cJSON_GetObjectItem(s, "model_tokens")) ? (int64_t)v->valuedouble : 0;
	c->model_cost_usd = (v = cJSON_GetObjectItem(s, "model_cost_usd")) ? v->valuedouble : 0;
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

/* How sure triage must be that a message is no support request before the agent says so. */
#define OUT_OF_SCOPE 0.97

/* Does the message hold the detail the agent is waiting for? */
static int
detail_given(const struct conversation *c, const struct triage_result *t)
{
	switch (c->awaiting) {
	case AWAIT_ORDER_NUMBER:
		return t->entities.order_numbers.n > 0;
	case AWAIT_EMAIL:
		return t->entities.emails.n > 0 || t->entities.account_ids.n > 0;
	case AWAIT_DEVICE:
		return t->entities.products.n > 0;
	case AWAIT_CHOICE:
		return t->dialogue.act == ACT_QUESTION || t->dialogue.act == ACT_AFFIRM;
	default:
		return 0;
	}
}

/* An answer to "is this about A or B?" that names a category of its own. */
static int
choice_made(const struct conversation *c, const struct triage_result *t)
{
	(void)c;
	return t->intent_confidence >= 0.5;
}

/*
 * The message's act in the conversation: what its words say, what the
 * agent offered or asked for, the policy's patterns for asking for a
 * person, and whether triage and knowledge both find no support request.
 */
static enum dialogue_act
interpret(const struct agents *ag, const struct conversation *c, const struct triage_result *t,
          const struct kb_hits *hits, const char *text)
{
	const struct policy *p = ag->policy;
	/* Anything the knowledge base partly recognises is a support question. */
	int somewhat = hits->n > 0 && hits->v[0].confidence >= p->esc.retrieval_floor * 0.6;
	const struct entities *e = &t->entities;
	int ids = e->order_numbers.n + e->account_ids.n + e->emails.n + e->products.n > 0;
	struct dialogue_context cx = {
	    .offer_pending = c->offer != NULL,
	    .offer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->offer, "text")),
	    .awaiting_detail = c->pending != NULL,
	    .detail_given = detail_given(c, t),
	    .human_requested = patset_match(&p->esc.human_request, text) >= 0,
	    /* The intent model alone errs on ordinary questions: knowledge must find nothing too. */
	    .out_of_scope = t->out_of_scope >= OUT_OF_SCOPE && !somewhat && !ids,
	};
	return dialogue_interpret(&t->dialogue, &cx);
}

/* ---------------------------------------------------------- the turn */

#define TURN_MAX_CALLS 12

/* A turn in flight: everything its steps share. */
struct turn {
	const struct agents *ag;
	struct conversation *c;
	char *text;
	char *query; /* what knowledge is searched for: the text, or the question a detail completes */
	cJSON *turn, *events, *tools, *results, *model_steps;
	struct triage_result t;
	struct kb_hits hits;
	struct tool_call calls[TURN_MAX_CALLS];
	int ncalls;
	struct plan plan; /* the calls being run */
	int plan_i;
	void (*plan_next)(struct turn *);
	int account_read;
	enum route route;
	int human;
	struct resolution res;
	struct resolution_model_job rj;
	int model_failed; /* the resolution model failed: a human answers */
	char reason[64];
	const char *queue; /* static or the policy's */
	char *told;        /* what the customer is told when a human takes over */
	cJSON *packet;
	turn_done_fn done;
	void *arg;
};

static int
uses_model(const struct agents *ag, enum agent_role r)
{
	return ag->models != NULL && ag->backend[r] == BACKEND_OPENAI;
}

/*
 * Records a model step: an event, a line in the turn, the conversation's
 * tokens and cost. extra's members (taken; may be NULL) are added to it.
 */
static void
model_step_extra(struct turn *tu, enum agent_role role, const struct model_result *r,
                 const char *fallback, cJSON *extra)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "agent", agent_role_names[role]);
	cJSON_AddStringToObject(o, "model", models_model(tu->ag->models, role));
	cJSON_AddBoolToObject(o, "ok", r->ok);
	cJSON_AddNumberToObject(o, "attempts", r->attempts);
	if (r->repaired)
		cJSON_AddTrueToObject(o, "repaired");
	if (r->ignored_keys > 0)
		cJSON_AddNumberToObject(o, "ignored_keys", r->ignored_keys);
	cJSON_AddNumberToObject(o, "prompt_tokens", (double)r->prompt_tokens);
	cJSON_AddNumberToObject(o, "completion_tokens", (double)r->completion_tokens);
	cJSON_AddNumberToObject(o, "cost_usd", r->cost_usd);
	if (!r->ok) {
		cJSON_AddStringToObject(o, "fault", r->fault ? r->fault : "error");
		cJSON_AddStringToObject(o, "error", r->error ? r->error : "");
		cJSON_AddStringToObject(o, "fallback", fallback);
	}
	if (extra != NULL) {
		cJSON *e;
		while ((e = extra->child) != NULL)
			cJSON_AddItemToObject(o, e->string, cJSON_DetachItemViaPointer(extra, e));
		cJSON_Delete(extra);
	}
	cJSON_AddItemToArray(tu->model_steps, cJSON_Duplicate(o, 1));
	event(tu->events, "model", o);
	tu->c->model_tokens += r->prompt_tokens + r->completion_tokens;
	tu->c->model_cost_usd += r->cost_usd;
}

static void
model_step(struct turn *tu, enum agent_role role, const struct model_result *r,
           const char *fallback)
{
	model_step_extra(tu, role, r, fallback, NULL);
}

/* A step whose request could not even be made. */
static void
model_step_unmade(struct turn *tu, enum agent_role role, const char *cause, const char *fallback)
{
	struct model_result r = {.fault = "request", .error = cause};
	model_step(tu, role, &r, fallback);
}

/* Adds a call that ran to the turn: its JSON, its event, its result, what was tried. */
static void
record_call(struct turn *tu, struct tool_call *k)
{
	struct conversation *c = tu->c;
	cJSON *kj = tool_call_json(k);
	cJSON_AddItemToArray(tu->tools, kj);
	event(tu->events, "tool", cJSON_Duplicate(kj, 1));
	if (k->tool < 0 || k->tool >= TOOL__N)
		return;
	char *args = cJSON_PrintUnformatted(k->args ? k->args : NULL);
	if (k->allowed && k->result) {
		cJSON_AddItemToArray(tu->results, cJSON_Duplicate(k->result, 1));
		remember_result_ids(c, k->result);
		if (k->tool != TOOL_KNOWLEDGE_BASE_SEARCH)
			tried_take(
			    c, xasprintf("%s %s", tool_table[k->tool].name, args ? args : "{}"));
		if (k->tool == TOOL_GET_CUSTOMER_ACCOUNT)
			tu->account_read = 1;
	} else if (tool_table[k->tool].authority == TOOL_WRITE) {
		/* The human who takes over needs to know what the agent could not do. */
		tried_take(c, xasprintf("%s %s refused: %s", tool_table[k->tool].name,
		                        args ? args : "{}", k->refusal ? k->refusal : "no result"));
		tu->res.refused = 1;
	}
	free(args);
}

/*
 * Runs the plan's calls one after another under the policy for the route
 * (the plan's args move into the calls), then next. A tool backend on the
 * network answers from the loop; a call may also end before it starts
 * returning, so nothing touches the turn after starting one.
 */
static void plan_step(struct turn *tu);

static void
plan_called(struct tool_call *k, int rc, void *arg)
{
	(void)rc; /* a failed call is recorded as such; the agent decides without it */
	struct turn *tu = arg;
	record_call(tu, k);
	plan_step(tu);
}

static void
plan_step(struct turn *tu)
{
	struct plan *plan = &tu->plan;
	if (tu->plan_i < plan->n && tu->ncalls < TURN_MAX_CALLS) {
		/* Triage's human routes read with the general route's tools, for the handoff. */
		enum route route = tu->human ? ROUTE_RESOLUTION_GENERAL : tu->route;
		struct tool_call *k = &tu->calls[tu->ncalls++];
		memset(k, 0, sizeof *k);
		k->tool = plan->tool[tu->plan_i];
		k->args = plan->args[tu->plan_i];
		plan->args[tu->plan_i++] = NULL;
		tool_invoke_start(tu->ag->policy, route, &tu->c->tools, tu->ag->tools,
		                  tu->c->customer_id, k, plan_called, tu);
		return;
	}
	for (int i = 0; i < plan->n; i++) {
		cJSON_Delete(plan->args[i]);
		plan->args[i] = NULL;
	}
	plan->n = 0;
	tu->plan_next(tu);
}

static void
run_plan(struct turn *tu, struct plan *plan, void (*next)(struct turn *))
{
	tu->plan = *plan;
	plan->n = 0;
	tu->plan_i = 0;
	tu->plan_next = next;
	plan_step(tu);
}

static void turn_resolved(struct turn *tu);
static void turn_retrieved(struct retrieval_result *r, void *arg);
static void turn_read(struct turn *tu);
static void turn_read_model(struct turn *tu);
static void turn_written(struct turn *tu);

/* The offline agent over the turn's evidence; a write refused earlier stays refused. */
static void
compose(struct turn *tu)
{
	int refused = tu->res.refused;
	resolution_compose(tu->ag, tu->c, &tu->t, &tu->hits, tu->calls, tu->ncalls, &tu->res);
	tu->res.refused |= refused;
}
static void turn_finish(struct turn *tu);

static void
turn_free(struct turn *tu)
{
	free(tu->told);
	resolution_free(&tu->res);
	for (int i = 0; i < tu->ncalls; i++)
		tool_call_free(&tu->calls[i]);
	cJSON_Delete(tu->results);
	cJSON_Delete(tu->model_steps);
	kb_hits_free(&tu->hits);
	triage_result_free(&tu->t);
	free(tu->text);
	free(tu->query);
	free(tu);
}

/*
 * The dialogue state the reply leaves: what the agent now waits for, the
 * offer it made (an offer not taken up lapses), the question a detail
 * was asked for, and what the customer has been told.
 */
static void
remember_dialogue(struct conversation *c, struct resolution *res, enum category asked_about)
{
	c->awaiting = res->awaiting;
	cJSON_Delete(c->offer);
	c->offer = res->offer;
	res->offer = NULL;
	if (res->pending != NULL || c->act != ACT_DETAIL) {
		free(c->pending);
		c->pending = res->pending;
		res->pending = NULL;
		if (c->pending != NULL && c->act != ACT_DETAIL)
			c->pending_category = asked_about;
	}
	if (c->awaiting == AWAIT_NONE) {
		free(c->pending);
		c->pending = NULL;
	}
	c->offered_more = res->offered_more;
	for (size_t i = 0; i < res->told.n; i++)
		if (!strv_contains(&c->told, res->told.v[i]))
			strv_add(&c->told, res->told.v[i]);
}

/* Notes the fact the reply quoted, for the conversation and its handoff. */
static void
note_used_fact(struct turn *tu)
{
	const struct kb_hit *used = tu->res.used;
	if (used == NULL)
		return;
	struct conversation *c = tu->c;
	const struct kb_fact *f = &used->fact;
	char *rec = xasprintf("%s|%s|%d|%d", f->id, f->title, used->freshness_days, used->stale);
	if (!strv_contains(&c->facts, rec))
		strv_take(&c->facts, rec);
	else
		free(rec);
	tried_take(c, xasprintf("quoted %s%s", f->id, used->stale ? " (stale)" : ""));
}

static void
resolution_model_done(struct resolution_model_job *j, void *arg)
{
	struct turn *tu = arg;
	for (int i = tu->ncalls; i < j->ncalls; i++)
		record_call(tu, &tu->calls[i]);
	tu->ncalls = j->ncalls;
	/*
	 * The same evidence through the offline agent gives the confidence (how
	 * well the facts and tool results cover the question), the fact used and
	 * what is still to ask for; the model's words replace its reply.
	 */
	compose(tu);
	if (j->reply != NULL) {
		free(tu->res.reply);
		tu->res.reply = j->reply;
		j->reply = NULL;
		/* The offline draft's offer was never made: the model's words replace it. */
		cJSON_Delete(tu->res.offer);
		tu->res.offer = NULL;
		if (tu->res.awaiting == AWAIT_CONFIRM)
			tu->res.awaiting = AWAIT_NONE;
	} else
		tu->model_failed = 1;
	struct model_result r = {.ok = !tu->model_failed,
	                         .fault = j->fault,
	                         .error = j->error,
	                         .attempts = j->attempts,
	                         .prompt_tokens = j->prompt_tokens,
	                         .completion_tokens = j->completion_tokens,
	                         .cost_usd = j->cost_usd};
	model_step(tu, AGENT_RESOLUTION, &r, "escalate");
	if (j->embed_attempts > 0) {
		/* The model's own knowledge searches embedded their queries. */
		struct model_result e = {.ok = 1,
		                         .attempts = j->embed_attempts,
		                         .prompt_tokens = j->embed_tokens,
		                         .cost_usd = j->embed_cost_usd};
		cJSON *extra = cJSON_CreateObject();
		cJSON_AddStringToObject(extra, "for", "knowledge_base_search");
		model_step_extra(tu, AGENT_EMBEDDINGS, &e, "fts", extra);
	}
	free(j->error);
	j->error = NULL;
	turn_resolved(tu);
}

/*
 * The shipped intent model knows support in general, the company's
 * knowledge base its own trade: a message the model reads as no support
 * request ("the night vision on my cams flickers") that a fact answers at
 * the policy's retrieval floor is about that fact's topic, when the topic
 * is a category other than general (category_source "knowledge").
 */
static void
category_from_knowledge(const struct agents *ag, const struct conversation *c,
                        struct triage_result *t, const char *text)
{
	if (!t->not_support || ag->kb == NULL)
		return;
	struct kb_hits h;
	char *cause = NULL;
	if (kb_search(ag->kb, text, 1, NULL, &h, &cause) != 0) {
		free(cause); /* the turn's own search reports it */
		return;
	}
	const struct kb_hit *top = h.n > 0 ? &h.v[0] : NULL;
	if (top != NULL && top->confidence >= ag->policy->esc.retrieval_floor &&
	    (unsigned)top->fact.topic < CAT__N && (int)top->fact.topic != CAT_GENERAL) {
		t->intent_category = (enum category)top->fact.topic;
		t->intent_confidence = top->confidence;
		t->from_knowledge = 1;
		t->route = policy_route(ag->policy, t->intent_category, t->urgency, t->sentiment,
		                        t->complexity_signal, c->tier, t->has_legal_language);
	}
	kb_hits_free(&h);
}

/* Triage is final: knowledge, then the resolution agent. */
static void
turn_triaged(struct turn *tu)
{
	const struct agents *ag = tu->ag;
	struct conversation *c = tu->c;

	/*
	 * A detail the agent asked for completes the question it was asked for:
	 * knowledge is searched for both, and the question's category stands.
	 */
	if (c->pending != NULL && detail_given(c, &tu->t)) {
		tu->query = xasprintf("%s %s", c->pending, tu->text);
		if (c->awaiting != AWAIT_CHOICE || !choice_made(c, &tu->t))
			tu->t.intent_category = c->pending_category;
	} else
		tu->query = xstrdup(tu->text);
	if (c->turn == 1)
		c->category = tu->t.intent_category;
	remember_ids(c, &tu->t.entities);
	double amount = entities_max_usd(&tu->t.entities);
	if (amount > c->max_amount)
		c->max_amount = amount;
	cJSON *tj = triage_json(&tu->t);
	cJSON_AddItemToObject(tu->turn, "triage", tj);
	event(tu->events, "triage", cJSON_Duplicate(tj, 1));

	/* Knowledge: searched every turn; with embeddings, asynchronously. */
	/* Triage's category is a soft prior: what it says the message is about ranks first. */
	struct kb_hint hint = kb_hint_category(tu->t.intent_category, tu->t.intent_confidence);
	retrieval_start_hinted(ag->kb, uses_model(ag, AGENT_EMBEDDINGS) ? ag->models : NULL,
	                       tu->query, 3, &ag->fresh, &hint, turn_retrieved, tu);
}

/* The facts are in: the governed tools, then the resolution agent. */
static void
turn_retrieved(struct retrieval_result *r, void *arg)
{
	struct turn *tu = arg;
	const struct agents *ag = tu->ag;
	struct conversation *c = tu->c;

	tu->hits = r->hits;
	memset(&r->hits, 0, sizeof r->hits);
	if (r->kb_error != NULL)
		cJSON_AddStringToObject(tu->turn, "knowledge_error", r->kb_error);
	if (r->embeddings) {
		/* Embeddings that failed leave FTS5 alone: a step, never a failed turn. */
		struct model_result mr = {.ok = r->hybrid,
		                          .fault = r->fault,
		                          .error = r->error,
		                          .attempts = r->attempts,
		                          .prompt_tokens = r->prompt_tokens,
		                          .cost_usd = r->cost_usd};
		cJSON *extra = cJSON_CreateObject();
		cJSON_AddStringToObject(extra, "retrieval", r->hybrid ? "hybrid" : "fts");
		if (r->facts_embedded > 0)
			cJSON_AddNumberToObject(extra, "facts_embedded", (double)r->facts_embedded);
		if (r->hybrid && r->facts_missing > 0)
			cJSON_AddNumberToObject(extra, "facts_missing", (double)r->facts_missing);
		model_step_extra(tu, AGENT_EMBEDDINGS, &mr, "fts", extra);
	}
	cJSON *kn = cJSON_AddArrayToObject(tu->turn, "knowledge");
	for (size_t i = 0; i < tu->hits.n; i++)
		cJSON_AddItemToArray(kn, kb_hit_json(&tu->hits.v[i]));
	event(tu->events, "retrieval", cJSON_Duplicate(kn, 1));

	c->act = interpret(ag, c, &tu->t, &tu->hits, tu->text);
	if (c->act == ACT_QUESTION || c->act == ACT_HUMAN_QUESTION || c->act == ACT_DETAIL)
		c->work_turns++;

	/* Governed tools, as the agent plans them (never as the customer asks). */
	tu->route = tu->t.route;
	tu->human = tu->route == ROUTE_HUMAN_PRIORITY || tu->route == ROUTE_HUMAN_STANDARD;
	tu->tools = cJSON_AddArrayToObject(tu->turn, "tools");
	struct plan plan;
	resolution_plan(ag->policy, c, &tu->t, &plan);
	/* With a model, the reads the plan calls for are done first and shown to it. */
	run_plan(tu, &plan,
	         uses_model(ag, AGENT_RESOLUTION) && !tu->human ? turn_read_model : turn_read);
}

/* The reads are done: the resolution model takes it from here. */
static void
turn_read_model(struct turn *tu)
{
	const struct agents *ag = tu->ag;
	struct conversation *c = tu->c;
	char *cause = NULL;
	struct resolution_model_job *j = &tu->rj;
	memset(j, 0, sizeof *j);
	j->policy = ag->policy;
	j->kb = ag->kb;
	j->fresh = &ag->fresh;
	j->tools = ag->tools;
	j->conv = c;
	j->triage = &tu->t;
	j->hits = &tu->hits;
	j->text = tu->text;
	j->route = tu->route;
	j->hybrid = uses_model(ag, AGENT_EMBEDDINGS);
	j->max_rounds = models_max_tool_rounds(ag->models);
	j->stream = models_stream(ag->models, AGENT_RESOLUTION);
	j->on_delta = ag->on_delta;
	j->delta_arg = ag->delta_arg;
	j->calls = tu->calls;
	j->ncalls = tu->ncalls;
	j->max_calls = TURN_MAX_CALLS;
	j->done = resolution_model_done;
	j->arg = tu;
	if (resolution_model_start(ag->models, j, &cause) == 0)
		return;
	j->error = cause;
	j->fault = "request";
	resolution_model_done(j, tu);
}

/* The offline agent: writes only from what the reads verified, never on a human's ticket. */
static void
turn_read(struct turn *tu)
{
	if (tu->human) {
		turn_written(tu);
		return;
	}
	struct plan plan;
	resolution_plan_writes(tu->ag->policy, tu->c, tu->calls, tu->ncalls, &plan);
	run_plan(tu, &plan, turn_written);
}

static void
turn_written(struct turn *tu)
{
	compose(tu);
	turn_resolved(tu);
}

static void
triage_model_done(const struct model_result *r, void *arg)
{
	struct turn *tu = arg;
	model_step(tu, AGENT_TRIAGE, r, "offline");
	turn_triaged(tu);
}

static void
handoff_model_done(const struct model_result *r, void *arg)
{
	struct turn *tu = arg;
	model_step(tu, AGENT_HANDOFF, r, "offline");
	if (r->ok) {
		cJSON_Delete(tu->packet);
		tu->packet = handoff_build_judged(tu->c, &tu->t, tu->reason, tu->queue, r->json);
	}
	turn_finish(tu);
}

/*
 * The disclosures the customer is owed with this turn, whatever they are
 * sent: the AI on the first message, data collection with account data.
 * Appends them to reply and to allowed (text the reply may always hold),
 * their names to *disc (a new array the caller records), and returns
 * them as one string (caller frees).
 */
static char *
disclose(struct turn *tu, struct buf *reply, struct strv *allowed, cJSON **disc_out)
{
	const struct policy *p = tu->ag->policy;
	struct conversation *c = tu->c;
	cJSON *disc = cJSON_CreateArray();
	const char *ai = disclosure_text(p, DISCLOSE_FIRST_MESSAGE);
	const char *data = disclosure_text(p, DISCLOSE_ACCOUNT_DATA_REQUESTED);
	if (!c->disclosed_ai && ai != NULL) {
		buf_printf(reply, "%s ", ai);
		strv_add(allowed, ai);
		cJSON_AddItemToArray(disc, cJSON_CreateString("ai_disclosure"));
		c->disclosed_ai = 1;
	}
	if (tu->account_read && !c->disclosed_data && data != NULL) {
		buf_printf(reply, "%s ", data);
		strv_add(allowed, data);
		cJSON_AddItemToArray(disc, cJSON_CreateString("data_collection_notice"));
		c->disclosed_data = 1;
	}
	*disc_out = disc;
	return xstrndup(reply->data ? reply->data : "", reply->len);
}

/*
 * Output validation of the reply against the turn's knowledge, tool
 * results and allowed text (the customer's words, the caveat, the policy's
 * own pieces are added here); recorded in the turn. out is the caller's.
 */
static void
validate(struct turn *tu, const char *reply, struct strv *allowed, struct validation *out)
{
	const struct policy *p = tu->ag->policy;
	struct conversation *c = tu->c;
	if (tu->res.caveat)
		strv_add(allowed, tu->res.caveat);
	for (size_t i = 0; i < c->words.n; i++)
		strv_add(allowed, c->words.v[i]);
	/* The policy's own pieces are vetted text: their figures are grounded. */
	for (int i = 0; i < PIECE__N; i++)
		strv_add(allowed, p->tone.piece[i]);
	for (size_t i = 0; i < p->tone.declines.n; i++)
		strv_add(allowed, p->tone.declines.v[i]);
	struct strv knowledge = {0};
	for (size_t i = 0; i < tu->hits.n; i++) {
		strv_add(&knowledge, tu->hits.v[i].fact.title);
		strv_add(&knowledge, tu->hits.v[i].fact.content);
	}
	struct validation_context vc = {.knowledge = &knowledge,
	                                .tool_results = tu->results,
	                                .customer_ids = &c->ids,
	                                .allowed_text = allowed};
	validate_reply(p, reply, &vc, out);
	cJSON *vj = validation_json(out);
	cJSON_AddItemToObject(tu->turn, "validation", vj);
	event(tu->events, "validation", cJSON_Duplicate(vj, 1));
	strv_free(&knowledge);
}

/*
 * Escalation: every signal of the evaluator, then what only the turn
 * knows (a failed model, a failed validation, a refused write, an action
 * only a person does, a person accepted, triage's human routes). Fills
 * *d, returns the reason (NULL: the reply goes out) and sets *queue;
 * both point at static or policy text. Records the decision in the turn.
 */
static const char *
decide(struct turn *tu, const struct validation *val, struct escalation_decision *d,
       const char **queue)
{
	struct conversation *c = tu->c;
	const struct resolution *res = &tu->res;
	struct escalation_input in = {
	    .agent_confidence = res->confidence,
	    /* Greetings and thanks are not turns spent on the problem. */
	    .turn_count = c->work_turns,
	    .sentiment = tu->t.sentiment,
	    .category = tu->t.intent_category,
	    .tier = c->tier,
	    .has_legal_language = tu->t.has_legal_language,
	    .retrieval_confidence = tu->hits.n > 0 ? tu->hits.v[0].confidence : -1,
	    .retrieval_unused = res->used == NULL && (res->feat[FEAT_TOOL] > 0 || res->acted ||
	                                              res->feat[FEAT_SOCIAL] > 0 ||
	                                              res->feat[FEAT_ASKED] > 0),
	    .message = tu->text,
	    .amount_usd = c->max_amount,
	};
	escalation_evaluate(tu->ag->policy, &in, d);
	const char *reason = d->escalate ? d->reason : NULL;
	const char *standard = route_names[ROUTE_HUMAN_STANDARD];
	*queue = d->queue;
	/* A failed model is why the agent had nothing to say: say so. */
	if (tu->model_failed && (reason == NULL || strcmp(reason, "low-confidence") == 0))
		reason = "resolution-unavailable", *queue = standard;
	else if (reason == NULL && !val->passed)
		reason = "validation-failed", *queue = standard;
	else if (reason == NULL && res->refused)
		reason = "write-refused", *queue = standard;
	else if (reason == NULL && res->needs_person) {
		/* Asked for, or accepted, something only a person can do: the packet says what. */
		reason = "action-requires-human", *queue = standard;
		tried_take(c, xasprintf("the customer needs a person to %s", res->action));
	} else if (reason == NULL && res->handoff)
		/* The customer said yes to the person the agent offered. */
		reason = "customer-requested-human", *queue = standard;
	else if (reason == NULL && tu->human)
		reason = "triage-route", *queue = route_names[tu->route];

	cJSON *ej = escalation_json(d);
	/*
	 * Would the turn escalate whatever the confidence threshold? Replay's
	 * threshold sweep recomputes decisions from this and the confidence.
	 */
	int other = tu->model_failed || !val->passed || res->refused || tu->human ||
	            res->needs_person || res->handoff;
	for (int i = 0; i < SIG__N && !other; i++)
		other = i != SIG_CONFIDENCE && d->signals[i].fired;
	cJSON_AddBoolToObject(ej, "without_confidence", other);
	if (reason != NULL && !d->escalate) {
		cJSON_ReplaceItemInObject(ej, "escalate", cJSON_CreateTrue());
		cJSON_ReplaceItemInObject(ej, "reason", cJSON_CreateString(reason));
		cJSON_ReplaceItemInObject(ej, "queue", cJSON_CreateString(*queue));
	}
	cJSON_AddItemToObject(tu->turn, "escalation", ej);
	event(tu->events, "escalation", cJSON_Duplicate(ej, 1));
	return reason;
}

/*
 * A person takes over: what the customer is told (the disclosures, for an
 * action what the agent found, then the handler's message, the action's
 * piece or the policy's handoff piece) and the packet for the person.
 */
static void
hand_off(struct turn *tu, const struct escalation_decision *d, const char *reason,
         const char *queue, const char *disclosed)
{
	const struct policy *p = tu->ag->policy;
	struct conversation *c = tu->c;
	const struct resolution *res = &tu->res;
	c->escalated = 1;
	snprintf(tu->reason, sizeof tu->reason, "%s", reason);
	tu->queue = queue;
	char *action = NULL;
	if (res->action != NULL &&
	    (strcmp(reason, "write-refused") == 0 || strcmp(reason, "action-requires-human") == 0)) {
		const char *vars[] = {"action", res->action, NULL};
		action = tone_fill(p->tone.piece[PIECE_ACTION_HANDOFF], vars);
	}
	const char *msg = d->escalate && d->message ? d->message
	                  : action != NULL          ? action
	                                            : p->tone.piece[PIECE_HANDOFF];
	/* What the agent found comes first for an action: it passed validation with the reply. */
	const char *found_ = action != NULL && res->reply != NULL ? res->reply : "";
	tu->told = xasprintf("%s%s%s%s", disclosed, found_, *found_ ? " " : "", msg);
	free(action);
	c->awaiting = AWAIT_NONE; /* a person answers from here */
	cJSON_Delete(c->offer);
	c->offer = NULL;
	tu->packet = handoff_build(c, &tu->t, tu->reason, queue);
}

/* The reply is drafted: disclosures, validation, escalation; then a reply or a handoff. */
static void
turn_resolved(struct turn *tu)
{
	const struct agents *ag = tu->ag;
	struct conversation *c = tu->c;
	struct resolution *res = &tu->res;

	remember_dialogue(c, res, tu->t.intent_category);
	note_used_fact(tu);

	struct buf reply;
	struct strv allowed = {0};
	buf_init(&reply, 0);
	/* The disclosures go with whatever the customer is sent: reply or handoff message. */
	cJSON *disc;
	char *disclosed = disclose(tu, &reply, &allowed, &disc);
	buf_adds(&reply, res->reply ? res->reply : "");
	/* Output validation: a failing reply never reaches the customer. */
	struct validation val;
	validate(tu, reply.data, &allowed, &val);
	if (cJSON_GetArraySize(disc) > 0)
		event(tu->events, "disclosure", cJSON_Duplicate(disc, 1));
	cJSON_AddItemToObject(tu->turn, "disclosures", disc);
	struct escalation_decision d;
	const char *queue, *reason = decide(tu, &val, &d, &queue);
	if (reason == NULL)
		cJSON_AddStringToObject(tu->turn, "reply", reply.data);
	else
		hand_off(tu, &d, reason, queue, disclosed);
	free(disclosed);
	strv_free(&allowed);
	validation_free(&val);
	buf_free(&reply);

	if (tu->packet != NULL && uses_model(ag, AGENT_HANDOFF)) {
		char *cause = NULL;
		if (handoff_model_start(ag->models, tu->packet, handoff_model_done, tu, &cause) ==
		    0)
			return;
		model_step_unmade(tu, AGENT_HANDOFF, cause, "offline");
		free(cause);
	}
	turn_finish(tu);
}

/* A reply, or a handoff packet for a human; then the turn is handed over. */
static void
turn_finish(struct turn *tu)
{
	struct conversation *c = tu->c;
	if (tu->packet == NULL)
		cJSON_AddNullToObject(tu->turn, "handoff");
	else {
		cJSON_AddNullToObject(tu->turn, "reply");
		cJSON_AddStringToObject(tu->packet, "message_to_customer", tu->told);
		cJSON_AddItemToObject(tu->turn, "handoff", tu->packet);
		event(tu->events, "handoff", cJSON_Duplicate(tu->packet, 1));
		tu->packet = NULL;
	}
	cJSON_AddNumberToObject(tu->turn, "agent_confidence",
	                        (double)(int)(tu->res.confidence * 1000) / 1000);
	cJSON *dj = cJSON_AddObjectToObject(tu->turn, "dialogue");
	cJSON_AddStringToObject(dj, "act", dialogue_act_names[c->act]);
	if (c->awaiting == AWAIT_NONE)
		cJSON_AddNullToObject(dj, "awaiting");
	else
		cJSON_AddStringToObject(dj, "awaiting", awaiting_names[c->awaiting]);
	cJSON_AddItemToObject(dj, "fact",
	                      tu->res.used ? cJSON_CreateString(tu->res.used->fact.id)
	                                   : cJSON_CreateNull());
	cJSON *fj = cJSON_AddObjectToObject(dj, "features");
	for (int i = 0; i < FEAT__N; i++)
		cJSON_AddNumberToObject(fj, reply_feature_names[i],
		                        (double)(int)(tu->res.feat[i] * 1000) / 1000);
	if (cJSON_GetArraySize(tu->model_steps) > 0) {
		cJSON_AddItemToObject(tu->turn, "models", tu->model_steps);
		tu->model_steps = NULL;
	}
	event(tu->events, "state", conversation_state_json(c));
	turn_done_fn done = tu->done;
	void *arg = tu->arg;
	cJSON *turn = tu->turn, *events = tu->events;
	turn_free(tu);
	done(turn, events, arg);
}

void
conversation_turn_start(const struct agents *ag, struct conversation *c, const char *text,
                        turn_done_fn done, void *arg)
{
	struct turn *tu = xcalloc(1, sizeof *tu);
	tu->ag = ag;
	tu->c = c;
	tu->text = xstrdup(text);
	tu->done = done;
	tu->arg = arg;
	tu->turn = cJSON_CreateObject();
	tu->events = cJSON_CreateArray();
	tu->results = cJSON_CreateArray();
	tu->model_steps = cJSON_CreateArray();

	c->turn++;
	strv_add(&c->words, text);
	cJSON_AddNumberToObject(tu->turn, "turn", c->turn);
	cJSON_AddStringToObject(tu->turn, "customer", text);

	/* Triage: the offline engine always runs; a model refines it when configured. */
	triage_run(ag->triage, text, strlen(text), c->tier, &tu->t);
	category_from_knowledge(ag, c, &tu->t, text);
	if (uses_model(ag, AGENT_TRIAGE)) {
		char *cause = NULL;
		if (triage_model_start(ag->models, ag->policy, tu->text, c->tier, &tu->t,
		                       triage_model_done, tu, &cause) == 0)
			return;
		model_step_unmade(tu, AGENT_TRIAGE, cause, "offline");
		free(cause);
	}
	turn_triaged(tu);
}

struct sync_turn {
	cJSON *turn, *events;
	int done;
};

static void
sync_done(cJSON *turn, cJSON *events, void *arg)
{
	struct sync_turn *s = arg;
	s->turn = turn;
	s->events = events;
	s->done = 1;
}

cJSON *
conversation_turn(const struct agents *ag, struct conversation *c, const char *text, cJSON **events)
{
	struct sync_turn s = {0};
	conversation_turn_start(ag, c, text, sync_done, &s);
	/* Models and the tool backend share the process's loop; either may be all there is. */
	struct loop *loop = ag->models  ? models_loop(ag->models)
	                    : ag->tools ? ag->tools->loop
	                                : NULL;
	while (!s.done)
		loop_once(loop, -1);
	*events = s.events;
	return s.turn;
}
