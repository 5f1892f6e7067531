/* model.c -- calls to OpenAI-compatible model endpoints, asynchronous on the event loop. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "model.h"
#include "resilience.h"
#include "util.h"

struct endpoint {
	const struct endpoint_settings *cfg;
	char *url;       /* .../chat/completions */
	char *embed_url; /* .../embeddings */
	char *auth;      /* "Authorization: Bearer ..." or NULL; never printed */
	struct breaker breaker;
};

struct models {
	struct loop *loop;
	struct http_client *http;
	const struct settings *settings;
	struct endpoint *ep;
	size_t nep;
	struct endpoint *agent_ep[AGENT__N];
	char *prompt[AGENT__N];
	struct price *prices;
	size_t nprices;
	uint64_t rng;
	struct model_stats stats;
};

/* One call in flight. */
struct call {
	struct models *m;
	struct endpoint *ep;
	struct model_req req;
	model_done_fn done;
	void *arg;
	int attempts, retries, repaired;
	int64_t started;
	int64_t prompt_tokens, completion_tokens;
	double cost;
	struct wire_stream *stream;
	uint64_t timer;
	/* An embeddings call instead of a chat completion. */
	int embed;
	struct strv inputs;
	model_embed_fn edone;
};

/* Vectors as JSON text are large: 2,048 inputs of 3,072 floats is about 100 MB. */
#define EMBED_MAX_BODY ((size_t)256 << 20)

static const char *const role_prompt_files[AGENT__N] = {"triage", "resolution", "knowledge",
                                                        "handoff", NULL};

/* ------------------------------------------------------------- client */

struct models *
models_new(struct loop *loop, const struct settings *s, const char *datadir, char **cause)
{
	struct models *m = xcalloc(1, sizeof *m);
	m->loop = loop;
	m->settings = s;
	m->rng = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)(uintptr_t)m;
	if ((m->http = http_client_new(loop, cause)) == NULL)
		goto fail;
	m->ep = xcalloc(s->nendpoints, sizeof *m->ep);
	m->nep = s->nendpoints;
	for (size_t i = 0; i < s->nendpoints; i++) {
		struct endpoint *ep = &m->ep[i];
		const struct endpoint_settings *e = &s->endpoints[i];
		ep->cfg = e;
		const char *base = e->base_url;
		if (base == NULL)
			base = getenv("OPENAI_BASE_URL");
		if (base == NULL || *base == '\0')
			base = "https://api.openai.com/v1";
		size_t bl = strlen(base);
		while (bl > 0 && base[bl - 1] == '/')
			bl--;
		ep->url = xasprintf("%.*s/chat/completions", (int)bl, base);
		ep->embed_url = xasprintf("%.*s/embeddings", (int)bl, base);
		const char *key = e->api_key_env ? getenv(e->api_key_env) : NULL;
		if (key != NULL && *key != '\0') {
			if (strpbrk(key, "\r\n") != NULL) {
				*cause = xasprintf(
				    "endpoint %s: the API key in $%s contains a line break",
				    e->name, e->api_key_env);
				goto fail;
			}
			ep->auth = xasprintf("Authorization: Bearer %s", key);
		}
		breaker_init(&ep->breaker, (unsigned)e->breaker_failures, e->breaker_cooldown_ms);
	}
	for (int r = 0; r < AGENT__N; r++) {
		const struct agent_settings *a = &s->agents[r];
		for (size_t i = 0; i < m->nep; i++)
			if (strcmp(m->ep[i].cfg->name, a->endpoint) == 0)
				m->agent_ep[r] = &m->ep[i];
		if (role_prompt_files[r] == NULL)
			continue;
		char *path =
		    a->prompt ? xstrdup(a->prompt)
		              : xasprintf("%s/data/prompts/%s.txt", datadir, role_prompt_files[r]);
		size_t len;
		char *why = NULL;
		m->prompt[r] = file_read(path, 1u << 20, &len, &why);
		free(path);
		if (m->prompt[r] == NULL) {
			*cause = xasprintf("the %s agent's prompt: %s", agent_role_names[r], why);
			free(why);
			goto fail;
		}
	}
	m->prices = xcalloc(s->nprices + 1, sizeof *m->prices);
	for (size_t i = 0; i < s->nprices; i++) {
		m->prices[i].model = s->prices[i].model;
		m->prices[i].input_per_mtok = s->prices[i].input_per_mtok;
		m->prices[i].output_per_mtok = s->prices[i].output_per_mtok;
	}
	m->nprices = s->nprices;
	return m;
fail:
	models_free(m);
	return NULL;
}

void
models_free(struct models *m)
{
	if (m == NULL)
		return;
	http_client_free(m->http); /* runs the callbacks of what was in flight */
	for (size_t i = 0; i < m->nep; i++) {
		free(m->ep[i].url);
		free(m->ep[i].embed_url);
		if (m->ep[i].auth != NULL) {
			explicit_bzero(m->ep[i].auth, strlen(m->ep[i].auth));
			free(m->ep[i].auth);
		}
	}
	free(m->ep);
	for (int r = 0; r < AGENT__N; r++)
		free(m->prompt[r]);
	free(m->prices);
	free(m);
}

struct loop *
models_loop(struct models *m)
{
	return m->loop;
}

const char *
models_prompt(const struct models *m, enum agent_role r)
{
	return m->prompt[r];
}

const char *
models_model(const struct models *m, enum agent_role r)
{
	return m->settings->agents[r].model;
}

int
models_max_tool_rounds(const struct models *m)
{
	return m->settings->agents[AGENT_RESOLUTION].max_tool_rounds;
}

int
models_stream(const struct models *m, enum agent_role r)
{
	return m->settings->agents[r].stream;
}

void
models_stats(const struct models *m, struct model_stats *out)
{
	*out = m->stats;
}

/* --------------------------------------------------------------- calls */

static void send_request(struct call *k);

static void
call_free(struct call *k)
{
	cJSON_Delete(k->req.messages);
	wire_stream_free(k->stream);
	strv_free(&k->inputs);
	free(k);
}

/* Counts the end of a call. */
static void
ended(struct call *k, int ok)
{
	struct models *m = k->m;
	if (ok)
		m->stats.ok++;
	else
		m->stats.failed++;
	m->stats.inflight--;
}

/* Ends an embeddings call with a result. */
static void
finish_embed(struct call *k, struct embed_result *r)
{
	struct models *m = k->m;
	r->attempts = k->attempts;
	r->prompt_tokens = k->prompt_tokens;
	r->cost_usd = k->cost;
	r->elapsed_ms = (double)(loop_now(m->loop) - k->started);
	r->model = m->settings->agents[AGENT_EMBEDDINGS].model;
	ended(k, r->ok);
	k->edone(r, k->arg);
	call_free(k);
}

/* Ends the call with a result. */
static void
finish(struct call *k, struct model_result *r)
{
	struct models *m = k->m;
	r->attempts = k->attempts;
	r->repaired = k->repaired;
	r->prompt_tokens = k->prompt_tokens;
	r->completion_tokens = k->completion_tokens;
	r->cost_usd = k->cost;
	r->elapsed_ms = (double)(loop_now(m->loop) - k->started);
	r->model = m->settings->agents[k->req.role].model;
	ended(k, r->ok);
	k->done(r, k->arg);
	call_free(k);
}

static void
fail(struct call *k, const char *fault, const char *why)
{
	if (k->embed) {
		struct embed_result e = {.ok = 0, .fault = fault, .error = why};
		finish_embed(k, &e);
		return;
	}
	struct model_result r = {.ok = 0, .fault = fault, .error = why};
	finish(k, &r);
}

static void
retry_timer(struct loop *l, void *arg)
{
	(void)l;
	struct call *k = arg;
	k->timer = 0;
	send_request(k);
}

/* Retries after backoff when the fault allows it and attempts remain; else fails. */
static void
retry_or_fail(struct call *k, enum fault f, const char *name, const char *why, long retry_after_ms)
{
	struct models *m = k->m;
	breaker_record(&k->ep->breaker, !fault_counts(f), loop_now(m->loop));
	if (!fault_retryable(f) || k->retries >= k->ep->cfg->max_retries) {
		char *msg = k->attempts > 1 ? xasprintf("%s (after %d attempts)", why, k->attempts)
		                            : xstrdup(why);
		fail(k, name, msg);
		free(msg);
		return;
	}
	k->retries++;
	m->stats.retries++;
	int64_t ms = backoff_delay_ms((unsigned)k->retries, k->ep->cfg->backoff_base_ms,
	                              k->ep->cfg->backoff_cap_ms, retry_after_ms, &m->rng);
	k->timer = loop_timer_add(m->loop, (long)ms, retry_timer, k);
}

/* Adds usage to the call and the client; model is the one that answered, or NULL. */
static void
count_tokens(struct call *k, const struct wire_usage *u, const char *model)
{
	struct models *m = k->m;
	if (!u->present)
		return;
	k->prompt_tokens += u->prompt_tokens;
	k->completion_tokens += u->completion_tokens;
	double c = wire_cost_usd(m->prices, m->nprices,
	                         model ? model : m->settings->agents[k->req.role].model, u, NULL);
	k->cost += c;
	m->stats.prompt_tokens += u->prompt_tokens;
	m->stats.completion_tokens += u->completion_tokens;
	m->stats.cost_usd += c;
}

static void
count_usage(struct call *k, const struct wire_reply *rep)
{
	count_tokens(k, &rep->usage, rep->model);
}

/* A parsed answer: checks the schema, repairs once, or finishes. */
static void
answered(struct call *k, struct wire_reply *rep)
{
	struct models *m = k->m;
	breaker_record(&k->ep->breaker, 1, loop_now(m->loop));
	count_usage(k, rep);
	if (k->req.schema == NULL) {
		struct model_result r = {.ok = 1, .reply = rep};
		finish(k, &r);
		return;
	}
	char *cause = NULL;
	cJSON *j = NULL;
	int ignored = 0;
	if (rep->refusal != NULL)
		cause = xasprintf("the model refused: %s", rep->refusal);
	else if (rep->content == NULL)
		cause = xstrdup("the answer has no content");
	else if ((j = wire_extract_json(rep->content, &cause)) != NULL &&
	         jschema_read(k->req.schema, j, &ignored, &cause) != 0) {
		cJSON_Delete(j);
		j = NULL;
	}
	if (j != NULL) {
		struct model_result r = {.ok = 1, .reply = rep, .json = j, .ignored_keys = ignored};
		finish(k, &r);
		cJSON_Delete(j);
		return;
	}
	if (!k->repaired && rep->content != NULL) {
		/* One repair: the model sees its answer and what was wrong with it. */
		k->repaired = 1;
		m->stats.repairs++;
		cJSON_AddItemToArray(k->req.messages, wire_msg_assistant(rep->content));
		char *ask =
		    xasprintf("That answer is not valid: %s. Answer again with only the JSON "
		              "object, exactly as specified.",
		              cause);
		cJSON_AddItemToArray(k->req.messages, wire_msg_user(ask));
		free(ask);
		free(cause);
		send_request(k);
		return;
	}
	char *clean = wire_clean_text(cause, strlen(cause), 300);
	char *msg = xasprintf("invalid output: %s", clean);
	fail(k, "schema", msg);
	free(msg);
	free(clean);
	free(cause);
}

/* A 200 answer to an embeddings request: vectors, or why not. */
static void
embedded(struct call *k, const struct http_result *h)
{
	struct wire_embeddings e;
	char *cause = NULL;
	if (wire_parse_embeddings(h->body, h->len, k->inputs.n, &e, &cause) != 0) {
		char *clean = wire_clean_text(cause, strlen(cause), 300);
		free(cause);
		/* Not an embeddings body at all (cut, or not JSON): the server's fault, retried. */
		cJSON *j = cJSON_ParseWithLength(h->body, h->len);
		int parsed = j != NULL;
		cJSON_Delete(j);
		if (!parsed) {
			retry_or_fail(k, fault_classify(0, TRANSPORT_TRUNCATED, NULL),
			              "invalid-response", clean, -1);
		} else {
			breaker_record(&k->ep->breaker, 1, loop_now(k->m->loop));
			char *msg = xasprintf("invalid vectors: %s", clean);
			fail(k, "invalid-vectors", msg);
			free(msg);
		}
		free(clean);
		return;
	}
	breaker_record(&k->ep->breaker, 1, loop_now(k->m->loop));
	count_tokens(k, &e.usage, e.model);
	struct embed_result r = {.ok = 1, .v = e.v, .n = e.n, .dim = e.dim};
	finish_embed(k, &r);
	wire_embeddings_free(&e);
}

/* The transport failure's class for fault_classify, and its short name. */
static enum transport_error
transport_of(enum http_error e, const char **name)
{
	switch (e) {
	case HTTP_ECONNECT:
		*name = "refused";
		return TRANSPORT_CONNECT;
	case HTTP_ETIMEOUT_CONNECT:
	case HTTP_ETIMEOUT_FIRST_BYTE:
	case HTTP_ETIMEOUT_TOTAL:
		*name = "timeout";
		return TRANSPORT_TIMEOUT;
	case HTTP_ETRUNCATED:
		*name = "truncated";
		return TRANSPORT_TRUNCATED;
	default:
		*name = "transport";
		return TRANSPORT_OTHER;
	}
}

static void
http_done(const struct http_result *h, void *arg)
{
	struct call *k = arg;
	char *cause = NULL;
	const char *name;

	if (h->error == HTTP_ECANCELLED) {
		fail(k, "cancelled", "cancelled");
		return;
	}
	if (h->error != HTTP_OK) {
		enum transport_error te = transport_of(h->error, &name);
		retry_or_fail(k, fault_classify(0, te, NULL), name, h->message, -1);
		return;
	}
	if (h->status != 200) {
		char *code = NULL;
		char *msg = wire_error_text((int)h->status, h->body, h->len, &code);
		enum fault f = fault_classify((int)h->status, TRANSPORT_OK, code);
		char fname[24];
		snprintf(fname, sizeof fname, "http-%ld", h->status);
		retry_or_fail(k, f, fname, msg, h->retry_after_ms);
		free(msg);
		free(code);
		return;
	}
	if (k->embed) {
		embedded(k, h);
		return;
	}
	struct wire_reply rep = {0};
	int rc = k->stream ? wire_stream_finish(k->stream, &rep, &cause)
	                   : wire_parse_response(h->body, h->len, &rep, &cause);
	if (k->stream) {
		wire_stream_free(k->stream);
		k->stream = NULL;
	}
	if (rc != 0) {
		/* A cut stream or a body that is not a completion: the server's fault. */
		char *clean = wire_clean_text(cause, strlen(cause), 300);
		retry_or_fail(k, fault_classify(0, TRANSPORT_TRUNCATED, NULL), "invalid-response",
		              clean, -1);
		free(clean);
		free(cause);
		wire_reply_free(&rep);
		return;
	}
	answered(k, &rep);
	wire_reply_free(&rep);
}

static void
on_chunk(const char *data, size_t len, void *arg)
{
	struct call *k = arg;
	char *cause = NULL;
	if (k->stream != NULL && wire_stream_feed(k->stream, data, len, &cause) != 0)
		free(cause); /* it sticks: wire_stream_finish reports it */
}

/* Sends an embeddings call's request (the breaker was asked already). */
static void
send_embed(struct call *k)
{
	struct models *m = k->m;
	char *cause = NULL;
	struct wire_embed_request w = {
	    .model = m->settings->agents[AGENT_EMBEDDINGS].model,
	    .inputs = (const char *const *)k->inputs.v,
	    .n = k->inputs.n,
	};
	char *body = wire_embeddings_body(&w, &cause);
	if (body == NULL) {
		char *msg = xasprintf("cannot build the request: %s", cause);
		fail(k, "request", msg);
		free(msg);
		free(cause);
		return;
	}
	const char *headers[3];
	size_t nh = 0;
	headers[nh++] = "Content-Type: application/json";
	if (k->ep->auth != NULL)
		headers[nh++] = k->ep->auth;
	headers[nh] = NULL;
	struct http_request hr = {
	    .method = "POST",
	    .url = k->ep->embed_url,
	    .headers = headers,
	    .body = body,
	    .body_len = strlen(body),
	    .connect_timeout_ms = k->ep->cfg->connect_timeout_ms,
	    .first_byte_timeout_ms = k->ep->cfg->first_byte_timeout_ms,
	    .total_timeout_ms = k->ep->cfg->total_timeout_ms,
	    .max_body = EMBED_MAX_BODY,
	};
	k->attempts++;
	uint64_t id = http_start(m->http, &hr, http_done, k, &cause);
	free(body);
	if (id == 0) {
		fail(k, "request", cause);
		free(cause);
	}
}

static void
send_request(struct call *k)
{
	struct models *m = k->m;
	const struct agent_settings *a = &m->settings->agents[k->req.role];
	char *cause = NULL;

	if (!breaker_allow(&k->ep->breaker, loop_now(m->loop))) {
		m->stats.breaker_rejections++;
		char *msg = xasprintf("endpoint %s: circuit open after repeated failures",
		                      k->ep->cfg->name);
		fail(k, "breaker-open", msg);
		free(msg);
		return;
	}
	if (k->embed) {
		send_embed(k);
		return;
	}
	struct wire_request w = {
	    .model = a->model,
	    .messages = k->req.messages,
	    .schema = k->req.schema,
	    .schema_name = k->req.schema_name,
	    .tools = k->req.tools,
	    .ntools = k->req.ntools,
	    .tool_choice = k->req.ntools > 0 ? WIRE_TOOL_CHOICE_AUTO : WIRE_TOOL_CHOICE_DEFAULT,
	    .max_tokens = a->max_tokens,
	    .set_temperature = 1,
	    .temperature = a->temperature,
	    .stream = k->req.stream,
	};
	char *body = wire_request_body(&k->ep->cfg->caps, &w, &cause);
	if (body == NULL) {
		char *msg = xasprintf("cannot build the request: %s", cause);
		fail(k, "request", msg);
		free(msg);
		free(cause);
		return;
	}
	const char *headers[4];
	size_t nh = 0;
	headers[nh++] = "Content-Type: application/json";
	if (k->req.stream)
		headers[nh++] = "Accept: text/event-stream";
	if (k->ep->auth != NULL)
		headers[nh++] = k->ep->auth;
	headers[nh] = NULL;
	if (k->req.stream) {
		wire_stream_free(k->stream);
		k->stream = wire_stream_new(k->req.on_delta, k->req.delta_arg, 0);
	}
	struct http_request hr = {
	    .method = "POST",
	    .url = k->ep->url,
	    .headers = headers,
	    .body = body,
	    .body_len = strlen(body),
	    .connect_timeout_ms = k->ep->cfg->connect_timeout_ms,
	    .first_byte_timeout_ms = k->ep->cfg->first_byte_timeout_ms,
	    .total_timeout_ms = k->ep->cfg->total_timeout_ms,
	    .on_chunk = k->req.stream ? on_chunk : NULL,
	};
	k->attempts++;
	uint64_t id = http_start(m->http, &hr, http_done, k, &cause);
	free(body);
	if (id == 0) {
		fail(k, "request", cause);
		free(cause);
	}
}

static void
start_timer(struct loop *l, void *arg)
{
	(void)l;
	send_request(arg);
}

int
model_call(struct models *m, struct model_req *req, model_done_fn done, void *arg, char **cause)
{
	struct endpoint *ep = m->agent_ep[req->role];
	if (ep == NULL || m->settings->agents[req->role].model == NULL) {
		*cause =
		    xasprintf("the %s agent has no endpoint or model", agent_role_names[req->role]);
		cJSON_Delete(req->messages);
		req->messages = NULL;
		return -1;
	}
	struct call *k = xcalloc(1, sizeof *k);
	k->m = m;
	k->ep = ep;
	k->req = *req;
	req->messages = NULL;
	k->done = done;
	k->arg = arg;
	k->started = loop_now(m->loop);
	m->stats.calls++;
	m->stats.inflight++;
	/* Sent from the loop, so done never runs inside model_call. */
	k->timer = loop_timer_add(m->loop, 0, start_timer, k);
	return 0;
}

int
models_can_embed(const struct models *m)
{
	return m->agent_ep[AGENT_EMBEDDINGS] != NULL &&
	       m->settings->agents[AGENT_EMBEDDINGS].model != NULL;
}

int
model_embed(struct models *m, const char *const *inputs, size_t n, model_embed_fn done, void *arg,
            char **cause)
{
	if (!models_can_embed(m)) {
		*cause = xstrdup("the embeddings agent has no endpoint or model");
		return -1;
	}
	if (n == 0 || n > MODEL_EMBED_MAX) {
		*cause =
		    xasprintf("%zu inputs to embed (1 to %d in one request)", n, MODEL_EMBED_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (inputs[i] == NULL || *inputs[i] == '\0') {
			*cause = xasprintf("input %zu to embed is empty", i);
			return -1;
		}
	struct call *k = xcalloc(1, sizeof *k);
	k->m = m;
	k->ep = m->agent_ep[AGENT_EMBEDDINGS];
	k->req.role = AGENT_EMBEDDINGS;
	k->embed = 1;
	for (size_t i = 0; i < n; i++)
		strv_add(&k->inputs, inputs[i]);
	k->edone = done;
	k->arg = arg;
	k->started = loop_now(m->loop);
	m->stats.calls++;
	m->stats.inflight++;
	k->timer = loop_timer_add(m->loop, 0, start_timer, k);
	return 0;
}
