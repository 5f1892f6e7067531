/* model.h -- calls to OpenAI-compatible model endpoints, asynchronous on the event loop. */
#ifndef FL_MODEL_H
#define FL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "jschema.h"
#include "loop.h"
#include "openai-wire.h"
#include "settings.h"

/*
 * The process's model client: one per process, on its loop. It knows the
 * endpoints (capabilities, timeouts, retries, a circuit breaker each), the
 * agents' models and system prompts, and the price table, and counts
 * calls, tokens and cost. API keys are read from the environment once and
 * never leave this file except in an Authorization header.
 */
struct models;

/*
 * Makes the client for the settings (borrowed: they must outlive it).
 * System prompts are read now (datadir/data/prompts/ROLE.txt unless the
 * settings name a file). Returns NULL with *cause (caller frees).
 */
struct models *models_new(struct loop *, const struct settings *, const char *datadir,
                          char **cause);
void models_free(struct models *);
struct loop *models_loop(struct models *);
/* The agent's system prompt (owned by the client). */
const char *models_prompt(const struct models *, enum agent_role);
/* The agent's model name. */
const char *models_model(const struct models *, enum agent_role);
/* The resolution agent's tool rounds per turn, and whether an agent's answers stream. */
int models_max_tool_rounds(const struct models *);
int models_stream(const struct models *, enum agent_role);

/* One call: a chat completion for an agent. */
struct model_req {
	enum agent_role role;
	cJSON *messages;              /* taken: the client owns and frees it */
	const struct jschema *schema; /* the JSON the answer must be, or NULL for text */
	const char *schema_name;
	const struct wire_tool_def *tools; /* offered tools, or NULL */
	size_t ntools;
	int stream;             /* stream the answer (SSE) */
	wire_delta_fn on_delta; /* text as it arrives, with stream; may be NULL */
	void *delta_arg;
};

/* How a call ended; valid only during the callback. */
struct model_result {
	int ok;            /* an answer arrived (and, with a schema, is valid) */
	const char *error; /* why not: displayable, never a key */
	const char *fault; /* a short class: timeout, http-429, http-5xx, refused, invalid-json,
	                      schema, breaker-open, ... ; NULL when ok */
	const struct wire_reply *reply; /* the answer (content, tool calls), when ok */
	const cJSON *json;              /* with a schema: the validated object */
	int ignored_keys;               /* keys of the answer the schema does not know, dropped */
	int attempts;                   /* HTTP requests made, retries and the repair included */
	int repaired;                   /* the answer passed only after one repair request */
	int64_t prompt_tokens, completion_tokens;
	double cost_usd;
	double elapsed_ms;
	const char *model;
};

typedef void (*model_done_fn)(const struct model_result *, void *arg);

/*
 * Starts a call. done runs exactly once, from the loop (never inside
 * model_call). Failures are results, not errors: transport faults and
 * 429/5xx answers are retried with backoff (honouring Retry-After) up to
 * the endpoint's limit; an answer is read with jschema_read (the JSON in
 * a fence or in prose, unknown keys dropped, numbers in strings taken)
 * and one that still breaks the schema gets one repair request; an open
 * circuit breaker fails the call at once. Returns 0, or
 * -1 with *cause when the request cannot even be built (no prompt, a bad
 * schema): done is not called then.
 */
int model_call(struct models *, struct model_req *, model_done_fn done, void *arg, char **cause);

/*
 * Embeddings: the vectors of the embeddings agent's model for inputs
 * (copied; at most MODEL_EMBED_MAX inputs, none empty), in one request
 * to its endpoint's .../embeddings, with the same retries, backoff,
 * circuit breaker, timeouts and key as a chat call. The answer is
 * checked (wire_parse_embeddings): one finite vector per input, all of
 * one dimension; a body that does not parse is retried like a cut
 * stream, vectors that parse but are wrong fail the call at once with
 * fault "invalid-vectors". done runs exactly once, from the loop.
 * Returns 0, or -1 with *cause when the request cannot be made (no
 * embeddings model or endpoint, no input, too many): done is not called.
 */
#define MODEL_EMBED_MAX 2048

struct embed_result {
	int ok;
	const char *error, *fault; /* as in struct model_result */
	const float *v; /* n * dim floats, row i for input i; valid during the callback */
	size_t n, dim;
	int attempts;
	int64_t prompt_tokens;
	double cost_usd;
	double elapsed_ms;
	const char *model;
};
typedef void (*model_embed_fn)(const struct embed_result *, void *arg);

int model_embed(struct models *, const char *const *inputs, size_t n, model_embed_fn done,
                void *arg, char **cause);
/* Whether the embeddings agent has a model and an endpoint to call. */
int models_can_embed(const struct models *);

/* What the client did so far. */
struct model_stats {
	uint64_t calls, ok, failed, retries, repairs, breaker_rejections;
	int64_t prompt_tokens, completion_tokens;
	double cost_usd;
	size_t inflight;
};
void models_stats(const struct models *, struct model_stats *);

#endif
