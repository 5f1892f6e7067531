/* resolution-model.c -- the resolution agent on a model backend, with governed tool calls. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "resolution-model.h"
#include "retrieval.h"

/* The function tools a model may be offered, indexed by enum tool_id. */
static const struct wire_tool_def tool_defs[TOOL__N] = {
    [TOOL_KNOWLEDGE_BASE_SEARCH] = {"knowledge_base_search",
                                    "Search Acme's knowledge base for facts on a question.",
                                    "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":"
                                    "\"string\"}},\"required\":[\"query\"],"
                                    "\"additionalProperties\":false}"},
    [TOOL_GET_CUSTOMER_ACCOUNT] = {"get_customer_account",
                                   "The account of the customer in this conversation: plan, "
                                   "tier, balance, contact details.",
                                   "{\"type\":\"object\",\"properties\":{},"
                                   "\"additionalProperties\":false}"},
    [TOOL_GET_ORDER_STATUS] = {"get_order_status",
                               "Status, carrier, tracking and delivery estimate of one of "
                               "this customer's orders.",
                               "{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":"
                               "\"string\"}},\"required\":[\"order_id\"],"
                               "\"additionalProperties\":false}"},
    [TOOL_APPLY_STANDARD_CREDIT] = {"apply_standard_credit",
                                    "Apply a goodwill credit in US dollars to this customer's "
                                    "account, within the policy's caps.",
                                    "{\"type\":\"object\",\"properties\":{\"amount_usd\":{"
                                    "\"type\":\"number\"},\"reason\":{\"type\":\"string\"}},"
                                    "\"required\":[\"amount_usd\",\"reason\"],"
                                    "\"additionalProperties\":false}"},
    [TOOL_RESEND_CONFIRMATION] = {"resend_confirmation", "Send the order confirmation email again.",
                                  "{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":"
                                  "\"string\"}},\"required\":[\"order_id\"],"
                                  "\"additionalProperties\":false}"},
};

static void send_round(struct resolution_model_job *j);
static void answered(const struct model_result *r, void *arg);

/* The tools the policy grants the route, write tools only under the switch. */
static size_t
offered(const struct resolution_model_job *j, struct wire_tool_def out[TOOL__N])
{
	size_t n = 0;
	out[n++] = tool_defs[TOOL_KNOWLEDGE_BASE_SEARCH];
	for (int t = TOOL_GET_CUSTOMER_ACCOUNT; t < TOOL__N; t++) {
		if (!policy_tool_allowed(j->policy, j->route, t))
			continue;
		if (tool_table[t].authority == TOOL_WRITE && !j->policy->write_tools_enabled)
			continue;
		out[n++] = tool_defs[t];
	}
	return n;
}

static void
add_hits(struct buf *b, const struct kb_hits *hits)
{
	if (hits->n == 0) {
		buf_adds(b, "Knowledge: nothing relevant was found.\n");
		return;
	}
	buf_adds(b, "Knowledge facts:\n");
	for (size_t i = 0; i < hits->n; i++) {
		const struct kb_hit *h = &hits->v[i];
		char date[11];
		date_format(h->fact.updated, date);
		/* What the customer may read, and apart from it what only guides the agent. */
		char *pub = kb_fact_public(h->fact.content);
		buf_printf(b, "[%s] %s (updated %s%s; relevance %.2f)\n%s\n", h->fact.id,
		           h->fact.title, date,
		           h->stale ? ", STALE: say it may be out of date" : "", h->confidence, pub);
		char *notes = kb_fact_agent_notes(h->fact.content);
		if (*notes != '\0')
			buf_printf(b, "Guidance for you only, never to be quoted: %s\n", notes);
		free(notes);
		free(pub);
	}
}

/* What the conversation's dialogue state tells the model: the act, its offer, what it awaits. */
static void
add_dialogue(struct buf *b, const struct conversation *c)
{
	buf_printf(b, "This message is a %s.\n", dialogue_act_names[c->act]);
	const char *offer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->offer, "text"));
	if (offer != NULL)
		buf_printf(b, "Your last reply offered: \"%s\" (a yes accepts it, a no declines it).\n",
		           offer);
	if (c->awaiting != AWAIT_NONE)
		buf_printf(b, "You were waiting for: %s%s%s.\n", awaiting_names[c->awaiting],
		           c->pending ? ", for the question: " : "", c->pending ? c->pending : "");
	if (c->told.n > 0) {
		buf_adds(b, "Already told the customer (do not repeat unless asked again):");
		for (size_t i = 0; i < c->told.n; i++)
			buf_printf(b, " %s", c->told.v[i]);
		buf_addc(b, '\n');
	}
}

static cJSON *
first_messages(const struct resolution_model_job *j, struct models *m)
{
	const struct policy *p = j->policy;
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, models_prompt(m, AGENT_RESOLUTION));
	if (p->voice && *p->voice)
		buf_printf(&b, "\nVoice: %s\n", p->voice);
	if (p->prohibited_phrases.n > 0) {
		buf_adds(&b, "Never say:");
		for (size_t i = 0; i < p->prohibited_phrases.n; i++)
			buf_printf(&b, "%s \"%s\"", i ? "," : "", p->prohibited_phrases.v[i]);
		buf_addc(&b, '\n');
	}
	cJSON *msgs = cJSON_CreateArray();
	cJSON_AddItemToArray(msgs, wire_msg_system(b.data));
	buf_reset(&b);

	const struct conversation *c = j->conv;
	buf_printf(&b, "Customer: %s (tier %s)\nIntent: %s, urgency %s, sentiment %s\n",
	           c->customer_id ? c->customer_id : "unknown", tier_names[c->tier],
	           category_names[j->triage->intent_category], urgency_names[j->triage->urgency],
	           sentiment_names[j->triage->sentiment]);
	add_hits(&b, j->hits);
	add_dialogue(&b, c);
	if (c->words.n > 1) {
		buf_adds(&b, "Earlier messages from the customer:\n");
		for (size_t i = 0; i + 1 < c->words.n; i++)
			buf_printf(&b, "- %s\n", c->words.v[i]);
	}
	if (j->ncalls > 0) {
		buf_adds(&b, "Already looked up for this message (tool results):\n");
		for (int i = 0; i < j->ncalls; i++) {
			cJSON *kj = tool_call_json(&j->calls[i]);
			char *txt = cJSON_PrintUnformatted(kj);
			buf_printf(&b, "- %s\n", txt);
			free(txt);
			cJSON_Delete(kj);
		}
	}
	buf_printf(&b, "The customer's message now:\n%s", j->text);
	cJSON_AddItemToArray(msgs, wire_msg_user(b.data));
	buf_free(&b);
	return msgs;
}

static void next_call(struct resolution_model_job *j);

/* A call's result goes back to the model; then the next call. */
static void
reported(struct resolution_model_job *j, const char *call_id, char *result)
{
	cJSON_AddItemToArray(j->msgs, wire_msg_tool_result(call_id, result));
	free(result);
	j->next++;
	next_call(j);
}

static void
searched(struct retrieval_result *r, void *arg)
{
	struct resolution_model_job *j = arg;
	struct tool_call *k = &j->calls[j->ncalls - 1];
	j->embed_attempts += r->attempts;
	j->embed_tokens += r->prompt_tokens;
	j->embed_cost_usd += r->cost_usd;
	k->result = cJSON_CreateArray();
	for (size_t i = 0; r->kb_error == NULL && i < r->hits.n; i++)
		cJSON_AddItemToArray(k->result, kb_hit_json(&r->hits.v[i]));
	reported(j, j->pending[j->next].id, cJSON_PrintUnformatted(k->result));
}

static void
invoked(struct tool_call *k, int rc, void *arg)
{
	(void)rc;
	struct resolution_model_job *j = arg;
	char *res;
	if (!k->allowed) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "refused", k->refusal ? k->refusal : "refused");
		res = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	} else if (k->result != NULL)
		res = cJSON_PrintUnformatted(k->result);
	else {
		/* The backend failed (down, timed out): the model hears why, in clean words. */
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error", k->refusal ? k->refusal : "no result");
		res = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	reported(j, j->pending[j->next].id, res);
}

/*
 * Runs the round's next tool call through the governed registry, or,
 * when none is left, sends the results to the model. A call may finish
 * before its start returns (a refusal, a local backend): nothing here
 * touches the job after starting one.
 */
static void
next_call(struct resolution_model_job *j)
{
	if (j->next >= j->npending) {
		send_round(j);
		return;
	}
	const struct wire_tool_call *wc = &j->pending[j->next];
	if (j->ncalls >= j->max_calls) {
		reported(j, wc->id, xstrdup("{\"refused\":\"too many tool calls this turn\"}"));
		return;
	}
	struct tool_call *k = &j->calls[j->ncalls++];
	memset(k, 0, sizeof *k);
	k->tool = tool_find(wc->name);
	k->args = cJSON_Parse(wc->arguments ? wc->arguments : "{}");
	if (k->tool < 0) {
		k->tool = TOOL__N; /* recorded as refused */
		k->refusal = xasprintf("no tool named '%.64s'", wc->name ? wc->name : "");
		reported(j, wc->id, xasprintf("{\"error\":\"%s\"}", "unknown tool"));
		return;
	}
	if (k->args == NULL && wc->arguments != NULL) {
		k->refusal = xstrdup("the arguments are not valid JSON");
		reported(j, wc->id, xstrdup("{\"error\":\"the arguments are not valid JSON\"}"));
		return;
	}
	if (k->tool == TOOL_KNOWLEDGE_BASE_SEARCH) {
		const char *q =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k->args, "query"));
		k->allowed = 1;
		if (q == NULL || *q == '\0') {
			k->result = cJSON_CreateArray();
			reported(j, wc->id, xstrdup("[]"));
			return;
		}
		retrieval_start(j->kb, j->hybrid ? j->m : NULL, q, 3, j->fresh, searched, j);
		return;
	}
	tool_invoke_start(j->policy, j->route, &j->conv->tools, j->tools, j->conv->customer_id, k,
	                  invoked, j);
}

static void
pending_free(struct resolution_model_job *j)
{
	for (size_t i = 0; i < j->npending; i++) {
		free(j->pending[i].id);
		free(j->pending[i].name);
		free(j->pending[i].arguments);
	}
	free(j->pending);
	j->pending = NULL;
	j->npending = j->next = 0;
}

static void
finish(struct resolution_model_job *j)
{
	cJSON_Delete(j->msgs);
	j->msgs = NULL;
	pending_free(j);
	j->done(j, j->arg);
}

static void
answered(const struct model_result *r, void *arg)
{
	struct resolution_model_job *j = arg;
	j->attempts += r->attempts;
	j->prompt_tokens += r->prompt_tokens;
	j->completion_tokens += r->completion_tokens;
	j->cost_usd += r->cost_usd;
	if (!r->ok) {
		j->error = xstrdup(r->error ? r->error : "the model failed");
		j->fault = r->fault;
		finish(j);
		return;
	}
	const struct wire_reply *rep = r->reply;
	if (rep->ncalls == 0) {
		if (rep->content == NULL || *rep->content == '\0') {
			j->error = xstrdup("the model gave an empty answer");
			j->fault = "empty";
		} else
			j->reply = xstrdup(rep->content);
		finish(j);
		return;
	}
	/* Tool calls: run them, report each result back, and go round again. */
	j->rounds++;
	cJSON_AddItemToArray(j->msgs, wire_msg_tool_calls(rep->content, rep->calls, rep->ncalls));
	pending_free(j);
	j->pending = xcalloc(rep->ncalls, sizeof *j->pending);
	for (size_t i = 0; i < rep->ncalls; i++) {
		const struct wire_tool_call *c = &rep->calls[i];
		j->pending[i].id = xstrdup(c->id ? c->id : "");
		j->pending[i].name = c->name ? xstrdup(c->name) : NULL;
		j->pending[i].arguments = c->arguments ? xstrdup(c->arguments) : NULL;
	}
	j->npending = rep->ncalls;
	j->next = 0;
	next_call(j);
}

/* Sends the conversation so far; returns 0, or -1 with *cause. */
static int
send_request(struct resolution_model_job *j, char **cause)
{
	size_t n = j->rounds < j->max_rounds ? offered(j, j->offered) : 0;
	struct model_req req = {
	    .role = AGENT_RESOLUTION,
	    .messages = cJSON_Duplicate(j->msgs, 1),
	    .tools = n ? j->offered : NULL,
	    .ntools = n,
	    .stream = j->stream || j->on_delta != NULL,
	    .on_delta = j->on_delta,
	    .delta_arg = j->delta_arg,
	};
	return model_call(j->m, &req, answered, j, cause);
}

static void
send_round(struct resolution_model_job *j)
{
	char *cause = NULL;
	if (send_request(j, &cause) != 0) {
		j->error = cause;
		j->fault = "request";
		finish(j);
	}
}

int
resolution_model_start(struct models *m, struct resolution_model_job *j, char **cause)
{
	j->m = m;
	j->rounds = j->attempts = j->embed_attempts = 0;
	j->embed_tokens = 0;
	j->embed_cost_usd = 0;
	j->pending = NULL;
	j->npending = j->next = 0;
	j->reply = j->error = NULL;
	j->fault = NULL;
	j->msgs = first_messages(j, m);
	if (send_request(j, cause) != 0) {
		cJSON_Delete(j->msgs);
		j->msgs = NULL;
		return -1;
	}
	return 0;
}
