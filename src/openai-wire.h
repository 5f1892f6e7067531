/*
 * openai-wire.h -- the OpenAI chat-completions wire format, without the
 * network: request bodies, replies (whole and streamed), error bodies,
 * JSON in model text, and what a call cost.
 *
 * Every server that speaks "OpenAI-compatible" speaks a different
 * subset of it; struct model_caps says which subset an endpoint takes,
 * and nothing here emits a field the caps rule out.
 *
 * Text that comes back from a server (content, tool arguments, error
 * messages) is untrusted. wire_error_text and wire_clean_text return
 * text safe to display; reply content is returned as sent, and must be
 * neutralised by whoever displays it.
 */
#ifndef FL_OPENAI_WIRE_H
#define FL_OPENAI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "jschema.h"

/* ===================================================== endpoint capabilities */

/* How an endpoint can be made to answer in JSON. */
enum wire_output {
	WIRE_OUTPUT_JSON_SCHEMA, /* response_format json_schema, strict */
	WIRE_OUTPUT_JSON_OBJECT, /* response_format json_object + the shape in the system message */
	WIRE_OUTPUT_INSTRUCTION, /* no response_format: the system message alone asks for JSON */
};
/* NULL-terminated, indexed by enum wire_output: json_schema, json_object, instruction. */
extern const char *const wire_output_names[];

/* The name of the output-length field. */
enum wire_max_tokens_field {
	WIRE_MAX_TOKENS,            /* max_tokens: vLLM, llama.cpp, Ollama, older OpenAI models */
	WIRE_MAX_COMPLETION_TOKENS, /* max_completion_tokens: current OpenAI and Azure */
};
/* NULL-terminated, indexed by enum wire_max_tokens_field. */
extern const char *const wire_max_tokens_names[];

struct model_caps {
	enum wire_output output;
	int tools;        /* accepts tools (and tool messages in the history) */
	int tool_choice;  /* accepts tool_choice */
	int temperature;  /* accepts temperature (OpenAI reasoning models refuse it) */
	int stream_usage; /* accepts stream_options.include_usage */
	enum wire_max_tokens_field max_tokens_field;
};

/*
 * Starting points for the servers we know, for the configuration to
 * name and override: "openai", "azure", "vllm", "llama.cpp", "ollama",
 * and "minimal" (instruction-only JSON, no tools, nothing optional).
 */
struct wire_preset {
	const char *name;
	struct model_caps caps;
};
extern const struct wire_preset wire_presets[]; /* ends with a NULL name */
/* The preset's caps (static), or NULL for an unknown name. */
const struct model_caps *wire_preset_find(const char *name);

/* ============================================================ messages */

/*
 * A tool call, as a model asks for it and as a reply carries it. In a
 * struct wire_reply the strings are owned by the reply; as an argument
 * to wire_msg_tool_calls they are only read.
 */
struct wire_tool_call {
	char *id;
	char *name;
	char *arguments; /* JSON text, as the model wrote it (may be invalid) */
};

/*
 * Chat messages for struct wire_request.messages (a cJSON array the
 * caller builds with cJSON_AddItemToArray, which takes ownership).
 * Each returns a new object the caller owns; text is copied, with
 * invalid UTF-8 replaced by U+FFFD so the request body is valid JSON.
 */
cJSON *wire_msg_system(const char *text);
cJSON *wire_msg_user(const char *text);
cJSON *wire_msg_assistant(const char *text);
/* The result of the tool call with that id, as a "tool" message. */
cJSON *wire_msg_tool_result(const char *call_id, const char *content);
/* An assistant turn that called tools; text may be NULL (content null). */
cJSON *wire_msg_tool_calls(const char *text, const struct wire_tool_call *calls, size_t n);

/* ============================================================= requests */

/* A function tool offered to the model; usually a row of a static table. */
struct wire_tool_def {
	const char *name; /* [A-Za-z0-9_-]{1,64} */
	const char *description;
	const char *parameters; /* JSON Schema of the arguments, as JSON text */
};

enum wire_tool_choice {
	WIRE_TOOL_CHOICE_DEFAULT, /* no tool_choice field: the server decides */
	WIRE_TOOL_CHOICE_AUTO,
	WIRE_TOOL_CHOICE_NONE,
	WIRE_TOOL_CHOICE_REQUIRED,
	WIRE_TOOL_CHOICE_NAMED, /* the tool named tool_choice_name */
};

struct wire_request {
	const char *model;
	const cJSON *messages; /* array of messages; read, not taken */

	/* Optional: the JSON the reply must be. schema_name is [A-Za-z0-9_-]{1,64}. */
	const struct jschema *schema;
	const char *schema_name;

	/* Optional tools. */
	const struct wire_tool_def *tools;
	size_t ntools;
	enum wire_tool_choice tool_choice;
	const char *tool_choice_name;

	long max_tokens; /* 0: no limit sent */
	int set_temperature;
	double temperature;
	int stream;
};

/*
 * The JSON request body for an endpoint with these caps. Degrades to
 * what the endpoint takes:
 *  - schema with json_schema: response_format json_schema (strict);
 *    with json_object: response_format json_object and the schema,
 *    described, appended to the system message (one is prepended when
 *    the first message is not a system message); with instruction: the
 *    same description and no response_format.
 *  - tools without caps.tools: no tools or tool_choice, and tool
 *    history is rewritten as plain text (tool results become user
 *    messages, tool calls become assistant text) so the server sees no
 *    field it refuses. tool_choice without caps.tool_choice: omitted.
 *  - temperature without caps.temperature: omitted. stream with
 *    caps.stream_usage: stream_options.include_usage.
 * Returns the body (caller frees), or NULL with *cause (caller frees)
 * for a request that cannot be built: no model, messages not an array
 * of objects, a bad schema or tool name, tool parameters that are not a
 * JSON object, a named tool_choice that names no tool.
 */
char *wire_request_body(const struct model_caps *, const struct wire_request *, char **cause);

/* ============================================================== replies */

struct wire_usage {
	int present; /* the server reported usage */
	int64_t prompt_tokens;
	int64_t completion_tokens;
	int64_t total_tokens;
	int64_t cached_tokens; /* part of prompt_tokens served from the prompt cache */
};

/* One model reply. Strings are owned by the reply: wire_reply_free. */
struct wire_reply {
	char *content; /* NULL when the model sent no text */
	char *refusal; /* OpenAI structured-output refusal, or NULL */
	struct wire_tool_call *calls;
	size_t ncalls;
	char *finish_reason; /* stop, length, tool_calls, content_filter, ...; or NULL */
	char *model;         /* the model that answered, or NULL */
	struct wire_usage usage;
};

/* Frees what the reply holds and zeroes it; safe on a zeroed reply. */
void wire_reply_free(struct wire_reply *);

/*
 * Parses a non-streamed chat-completion response body into out (zeroed
 * first; on error it holds nothing, and wire_reply_free stays safe).
 * Returns 0, or -1 with *cause (caller frees) for an empty body, a body
 * that is not JSON, an error object (its message), no choices, or any
 * field of the wrong type. Tool calls without an id get "call_N".
 */
int wire_parse_response(const char *body, size_t len, struct wire_reply *out, char **cause);

/* ============================================================== errors */

/*
 * One readable, displayable message for an error response, whatever its
 * shape: OpenAI/Azure {"error":{"message","type","code"}}, vLLM
 * {"object":"error","message",...}, llama.cpp {"error":{"code","message",
 * "type"}}, Ollama {"error":"text"}, FastAPI {"detail":...}, HTML error
 * pages (their title) and plain text. Prefixed with "HTTP <status>"
 * when status > 0. The text is cleaned as by wire_clean_text (at most
 * 300 characters). When code is not NULL, *code receives the error's
 * code or type (e.g. "insufficient_quota"), cleaned, or NULL; caller
 * frees. Returns a string the caller frees.
 */
char *wire_error_text(int status, const char *body, size_t len, char **code);

/*
 * len bytes of untrusted text made safe to show and to log: terminal
 * escape sequences, control characters and bidi overrides removed,
 * whitespace collapsed, invalid UTF-8 replaced, anything that looks
 * like a credential (sk-..., Bearer ..., api-key: ..., JWTs) redacted,
 * and cut to at most max characters (0: no limit) with "..." marking a
 * cut. Returns a string the caller frees.
 */
char *wire_clean_text(const char *s, size_t len, size_t max);

/* ============================================================ streaming */

/*
 * Called for each piece of content as it arrives (len > 0, not
 * NUL-terminated). A piece may end inside a UTF-8 character: servers
 * split text by tokens, not characters.
 */
typedef void (*wire_delta_fn)(void *arg, const char *text, size_t len);

struct wire_stream;

/*
 * An incremental parser for a streamed (SSE) chat completion. on_delta
 * may be NULL. max bounds the memory a stream may use (the longest
 * line, event and accumulated text; 0 = 4 MiB). A body that is plain
 * JSON instead of SSE (a server ignoring "stream") is accepted too.
 * Free with wire_stream_free.
 */
struct wire_stream *wire_stream_new(wire_delta_fn on_delta, void *arg, size_t max);
/*
 * Feeds len bytes, split anywhere. Returns 0, or -1 with *cause (caller
 * frees) when the stream reports an error or breaks the format; the
 * error sticks, and wire_stream_finish reports it again.
 */
int wire_stream_feed(struct wire_stream *, const char *data, size_t len, char **cause);
/*
 * Ends the stream and moves what arrived into out (zeroed first; free
 * it with wire_reply_free whatever this returns). Returns 0, or -1 with
 * *cause (caller frees): a stream error, or "truncated stream" when it
 * ended without [DONE] or in the middle of an event -- out then holds
 * the partial reply.
 */
int wire_stream_finish(struct wire_stream *, struct wire_reply *out, char **cause);
void wire_stream_free(struct wire_stream *);

/* ============================================================ JSON in text */

/*
 * The JSON object in a model's text: the whole text, a ```json fenced
 * block, or an object with prose around it; <think> blocks are skipped.
 * Returns a new tree (caller frees with cJSON_Delete), or NULL with
 * *cause (caller frees): no object, an array instead, or an object that
 * is malformed or cut off.
 */
cJSON *wire_extract_json(const char *text, char **cause);

/* ================================================================ prices */

/* US dollars per million tokens; a row of the configuration's table. */
struct price {
	const char *model; /* exact name, or a prefix ending in '*' */
	double input_per_mtok;
	double output_per_mtok;
	double cached_input_per_mtok; /* 0: cached input costs input_per_mtok */
};

/*
 * The row for model: an exact match; else a row that is the model minus
 * a dated snapshot suffix ("gpt-4o" for "gpt-4o-2024-08-06"); else the
 * longest matching '*' prefix. NULL when none.
 */
const struct price *wire_price_find(const struct price *, size_t n, const char *model);
/*
 * What usage cost for model, in US dollars. Returns 0 with *unknown set
 * to 1 (unknown may be NULL) when the table has no row for the model;
 * 0 with *unknown 0 when the usage was not reported.
 */
double wire_cost_usd(const struct price *, size_t n, const char *model, const struct wire_usage *,
                     int *unknown);

/* ============================================================ embeddings */

/*
 * An embeddings request (POST .../embeddings): every input in one body,
 * "input" always an array, "dimensions" only when set. Inputs must be
 * non-empty; invalid UTF-8 is replaced by U+FFFD. Returns the body
 * (caller frees), or NULL with *cause (caller frees): no model, no input,
 * an empty input.
 */
struct wire_embed_request {
	const char *model;
	const char *const *inputs;
	size_t n;
	int dimensions; /* 0: the model's own */
};
char *wire_embeddings_body(const struct wire_embed_request *, char **cause);

/* The vectors of an embeddings response: n of dim floats, row i for input i. */
struct wire_embeddings {
	float *v; /* n * dim, row-major; owned */
	size_t n, dim;
	char *model; /* the model that answered, or NULL */
	struct wire_usage usage;
};
void wire_embeddings_free(struct wire_embeddings *);

/* Largest dimension accepted; bigger vectors are refused as malformed. */
#define WIRE_EMBED_MAX_DIM 65536

/*
 * Parses an embeddings response for a request of n inputs into out
 * (zeroed first; on error it holds nothing). Each "data" item is an
 * object with an "embedding" (an array of numbers, or base64 of
 * little-endian float32 as "encoding_format":"base64" returns) and an
 * "index" (its position when absent). Refused, with *cause (caller
 * frees): not JSON, an error object, anything but exactly one vector per
 * input index, vectors of different or zero dimension, a value that is
 * not a finite float, a vector of length zero (no direction to compare).
 */
int wire_parse_embeddings(const char *body, size_t len, size_t n, struct wire_embeddings *out,
                          char **cause);

#endif
