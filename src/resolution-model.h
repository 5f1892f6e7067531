/* resolution-model.h -- the resolution agent on a model backend, with governed tool calls. */
#ifndef FL_RESOLUTION_MODEL_H
#define FL_RESOLUTION_MODEL_H

#include "agents.h"
#include "model.h"

/*
 * One turn's resolution by a model. The caller fills the inputs and the
 * calls array (its capacity in max_calls); the job must stay put until
 * done runs. The model sees the system prompt, the policy's voice and
 * prohibited phrases, the retrieved facts with their freshness, the
 * conversation so far and the customer's message, and is offered the
 * tools the policy grants the route (write tools only when the policy's
 * switch is on). Its tool calls run one at a time, asynchronously, through
 * tool_invoke_start -- authority, the
 * write switch, caps and arguments are checked there, the customer id is
 * the conversation's, never the model's -- and every call, refused or
 * not, is recorded in calls and reported back to the model. At most
 * max_rounds rounds of tool calls; the last request offers no tools, so
 * the model must answer.
 */
struct resolution_model_job {
	/* in */
	const struct policy *policy;
	struct kb *kb;
	const struct kb_freshness *fresh;
	const struct tool_backend *tools;
	struct conversation *conv;
	const struct triage_result *triage;
	const struct kb_hits *hits;
	const char *text; /* this turn's message */
	enum route route; /* the route tools are granted for */
	int max_rounds;
	int hybrid;             /* knowledge_base_search embeds its query (retrieval.h) */
	int stream;             /* ask for the answer as a stream (SSE) */
	wire_delta_fn on_delta; /* reply text as it streams, or NULL */
	void *delta_arg;
	void (*done)(struct resolution_model_job *, void *arg);
	void *arg;

	/*
	 * The caller's array of calls: entries 0..ncalls-1 on start are the reads
	 * already planned and run (shown to the model); the model's calls are
	 * added after them. The caller frees them all.
	 */
	struct tool_call *calls;
	int ncalls, max_calls;

	/* out: valid in done */
	char *reply;       /* the answer (caller frees), or NULL when the model failed */
	char *error;       /* why it failed (caller frees), or NULL */
	const char *fault; /* short class of the failure, or NULL */
	int rounds, attempts;
	int64_t prompt_tokens, completion_tokens;
	double cost_usd;
	/* What knowledge_base_search's query embeddings cost (hybrid only). */
	int embed_attempts;
	int64_t embed_tokens;
	double embed_cost_usd;

	/* private */
	struct models *m;
	cJSON *msgs;
	struct wire_tool_def offered[TOOL__N]; /* must outlive each request */
	struct wire_tool_call *pending;        /* this round's calls, run one after another */
	size_t npending, next;
};

/* Starts the job. Returns 0, or -1 with *cause (done is not called). */
int resolution_model_start(struct models *, struct resolution_model_job *, char **cause);

#endif
