/* openai-wire.c -- the OpenAI chat-completions wire format, network-free. */
#include "config.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openai-wire.h"
#include "util.h"

/* ===================================================== endpoint capabilities */

const char *const wire_output_names[] = {"json_schema", "json_object", "instruction", NULL};
const char *const wire_max_tokens_names[] = {"max_tokens", "max_completion_tokens", NULL};

/*
 * What each server accepted when these were written. llama.cpp needs
 * --jinja for tools; vLLM needs --enable-auto-tool-choice. Ollama and
 * llama.cpp get no tool_choice: they do not honour a named choice.
 */
const struct wire_preset wire_presets[] = {
    {"openai",
     {.output = WIRE_OUTPUT_JSON_SCHEMA,
      .tools = 1,
      .tool_choice = 1,
      .temperature = 1,
      .stream_usage = 1,
      .max_tokens_field = WIRE_MAX_COMPLETION_TOKENS}},
    {"azure",
     {.output = WIRE_OUTPUT_JSON_SCHEMA,
      .tools = 1,
      .tool_choice = 1,
      .temperature = 1,
      .stream_usage = 1,
      .max_tokens_field = WIRE_MAX_COMPLETION_TOKENS}},
    {"vllm",
     {.output = WIRE_OUTPUT_JSON_SCHEMA,
      .tools = 1,
      .tool_choice = 1,
      .temperature = 1,
      .stream_usage = 1,
      .max_tokens_field = WIRE_MAX_TOKENS}},
    {"llama.cpp",
     {.output = WIRE_OUTPUT_JSON_SCHEMA,
      .tools = 1,
      .tool_choice = 0,
      .temperature = 1,
      .stream_usage = 0,
      .max_tokens_field = WIRE_MAX_TOKENS}},
    {"ollama",
     {.output = WIRE_OUTPUT_JSON_SCHEMA,
      .tools = 1,
      .tool_choice = 0,
      .temperature = 1,
      .stream_usage = 1,
      .max_tokens_field = WIRE_MAX_TOKENS}},
    {"minimal",
     {.output = WIRE_OUTPUT_INSTRUCTION,
      .tools = 0,
      .tool_choice = 0,
      .temperature = 1,
      .stream_usage = 0,
      .max_tokens_field = WIRE_MAX_TOKENS}},
    {NULL, {0}},
};

const struct model_caps *
wire_preset_find(const char *name)
{
	for (const struct wire_preset *p = wire_presets; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return &p->caps;
	return NULL;
}

/* ================================================================ helpers */

/* The buffer's text, handed to the caller (who frees it); b is released. */
static char *
take(struct buf *b)
{
	char *s = buf_steal(b);
	buf_free(b);
	return s;
}

/* Copy of s with invalid UTF-8 replaced by U+FFFD; caller frees. */
static char *
utf8_fix(const char *s)
{
	size_t len = strlen(s);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len((const unsigned char *)s + i, len - i);
		if (k == 0) {
			buf_adds(&b, "\xef\xbf\xbd");
			i++;
		} else {
			buf_add(&b, s + i, k);
			i += k;
		}
	}
	return take(&b);
}

static void
add_text(cJSON *o, const char *key, const char *text)
{
	if (text == NULL) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	char *fixed = utf8_fix(text);
	cJSON_AddStringToObject(o, key, fixed);
	free(fixed);
}

static const char *
str_item(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* [A-Za-z0-9_-]{1,64}: what OpenAI takes for tool and schema names. */
static int
valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Parses len bytes as one JSON value with nothing but whitespace after it. */
static cJSON *
parse_exact(const char *s, size_t len)
{
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(s, len, &end, 0);
	if (v == NULL)
		return NULL;
	for (; end < s + len; end++)
		if (!isspace((unsigned char)*end)) {
			cJSON_Delete(v);
			return NULL;
		}
	return v;
}

/* ============================================================ messages */

static cJSON *
message(const char *role, const char *text)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", role);
	add_text(m, "content", text);
	return m;
}

cJSON *
wire_msg_system(const char *text)
{
	return message("system", text ? text : "");
}

cJSON *
wire_msg_user(const char *text)
{
	return message("user", text ? text : "");
}

cJSON *
wire_msg_assistant(const char *text)
{
	return message("assistant", text ? text : "");
}

cJSON *
wire_msg_tool_result(const char *call_id, const char *content)
{
	cJSON *m = message("tool", content ? content : "");
	add_text(m, "tool_call_id", call_id ? call_id : "");
	return m;
}

cJSON *
wire_msg_tool_calls(const char *text, const struct wire_tool_call *calls, size_t n)
{
	cJSON *m = message("assistant", text);
	cJSON *arr = cJSON_AddArrayToObject(m, "tool_calls");
	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_CreateObject();
		add_text(c, "id", calls[i].id ? calls[i].id : "");
		cJSON_AddStringToObject(c, "type", "function");
		cJSON *f = cJSON_AddObjectToObject(c, "function");
		add_text(f, "name", calls[i].name ? calls[i].name : "");
		add_text(f, "arguments", calls[i].arguments ? calls[i].arguments : "{}");
		cJSON_AddItemToArray(arr, c);
	}
	return m;
}

/* ============================================================= requests */

static const char json_instruction[] =
    "Answer with one JSON object and nothing else, in this shape:\n%s\n"
    "Every key shown is required; add no other keys.%s";

/*
 * Appends the description of the schema to the first system message,
 * or prepends a system message holding it.
 */
static void
add_schema_instruction(cJSON *messages, const struct jschema *schema, int plain)
{
	char *shape = jschema_describe(schema);
	char *text = xasprintf(json_instruction, shape,
	                       plain ? " Do not wrap it in Markdown fences and write no text "
	                               "before or after it."
	                             : "");
	free(shape);
	cJSON *first = cJSON_GetArrayItem(messages, 0);
	const char *role = str_item(first, "role");
	cJSON *content = cJSON_GetObjectItemCaseSensitive(first, "content");
	if (role != NULL && strcmp(role, "system") == 0 && cJSON_IsString(content)) {
		char *joined = xasprintf("%s\n\n%s", content->valuestring, text);
		cJSON_ReplaceItemInObjectCaseSensitive(first, "content",
		                                       cJSON_CreateString(joined));
		free(joined);
	} else {
		cJSON_InsertItemInArray(messages, 0, wire_msg_system(text));
	}
	free(text);
}

/* The name of the tool an earlier assistant message gave this call id. */
static const char *
call_name(const cJSON *messages, const cJSON *upto, const char *id)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, messages)
	{
		if (m == upto)
			break;
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "tool_calls"))
		{
			const char *cid = str_item(c, "id");
			if (cid != NULL && id != NULL && strcmp(cid, id) == 0)
				return str_item(cJSON_GetObjectItemCaseSensitive(c, "function"),
				                "name");
		}
	}
	return NULL;
}

/*
 * For servers without tools: the same conversation as plain text. Tool
 * calls become assistant text, tool results user text (merged into a
 * preceding user message, since many chat templates insist on
 * alternating roles). Returns a new array; the input is not changed.
 */
static cJSON *
messages_without_tools(const cJSON *in)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *m;
	cJSON_ArrayForEach(m, in)
	{
		const char *role = str_item(m, "role");
		const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
		const char *content = str_item(m, "content");
		if (role != NULL && strcmp(role, "tool") == 0) {
			const char *id = str_item(m, "tool_call_id");
			const char *name = call_name(in, m, id);
			char *text = xasprintf("Result of the tool %s:\n%s", name ? name : "call",
			                       content ? content : "");
			cJSON *last = cJSON_GetArrayItem(out, cJSON_GetArraySize(out) - 1);
			const char *lrole = str_item(last, "role");
			const char *ltext = str_item(last, "content");
			if (lrole != NULL && strcmp(lrole, "user") == 0 && ltext != NULL) {
				char *joined = xasprintf("%s\n\n%s", ltext, text);
				cJSON_ReplaceItemInObjectCaseSensitive(last, "content",
				                                       cJSON_CreateString(joined));
				free(joined);
			} else {
				cJSON_AddItemToArray(out, message("user", text));
			}
			free(text);
		} else if (role != NULL && strcmp(role, "assistant") == 0 && cJSON_IsArray(calls)) {
			struct buf b;
			buf_init(&b, 0);
			if (content != NULL && *content != '\0')
				buf_adds(&b, content);
			const cJSON *c;
			cJSON_ArrayForEach(c, calls)
			{
				const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "function");
				const char *name = str_item(f, "name");
				const char *args = str_item(f, "arguments");
				buf_printf(&b, "%s[I called the tool %s with %s]",
				           b.len ? "\n" : "", name ? name : "?",
				           args ? args : "{}");
			}
			cJSON_AddItemToArray(out, message("assistant", b.data));
			buf_free(&b);
		} else {
			cJSON_AddItemToArray(out, cJSON_Duplicate(m, 1));
		}
	}
	return out;
}

static int
check_request(const struct wire_request *r, cJSON **tool_params, char **cause)
{
	if (r->model == NULL || *r->model == '\0') {
		*cause = xstrdup("request: no model");
		return -1;
	}
	if (!cJSON_IsArray(r->messages) || cJSON_GetArraySize(r->messages) == 0) {
		*cause = xstrdup("request: messages must be a non-empty array");
		return -1;
	}
	int i = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, r->messages)
	{
		if (!cJSON_IsObject(m) || str_item(m, "role") == NULL) {
			*cause = xasprintf("request: message %d is not an object with a role", i);
			return -1;
		}
		i++;
	}
	if (r->schema != NULL && r->schema_name != NULL && !valid_name(r->schema_name)) {
		*cause = xstrdup("request: schema name must be 1-64 of A-Z a-z 0-9 _ -");
		return -1;
	}
	int named_found = 0;
	for (size_t t = 0; t < r->ntools; t++) {
		const struct wire_tool_def *d = &r->tools[t];
		if (!valid_name(d->name)) {
			*cause =
			    xasprintf("request: tool %zu: name must be 1-64 of A-Z a-z 0-9 _ -", t);
			return -1;
		}
		const char *p =
		    d->parameters ? d->parameters : "{\"type\":\"object\",\"properties\":{}}";
		tool_params[t] = parse_exact(p, strlen(p));
		if (!cJSON_IsObject(tool_params[t])) {
			*cause = xasprintf("request: tool %s: parameters are not a JSON object",
			                   d->name);
			return -1;
		}
		if (r->tool_choice_name != NULL && strcmp(d->name, r->tool_choice_name) == 0)
			named_found = 1;
	}
	if (r->tool_choice == WIRE_TOOL_CHOICE_NAMED && !named_found) {
		*cause = xasprintf("request: tool_choice names %s, which is not among the tools",
		                   r->tool_choice_name ? r->tool_choice_name : "no tool");
		return -1;
	}
	return 0;
}

static void
add_tools(cJSON *body, const struct model_caps *caps, const struct wire_request *r,
          cJSON **tool_params)
{
	cJSON *tools = cJSON_AddArrayToObject(body, "tools");
	for (size_t t = 0; t < r->ntools; t++) {
		cJSON *tool = cJSON_CreateObject();
		cJSON_AddStringToObject(tool, "type", "function");
		cJSON *f = cJSON_AddObjectToObject(tool, "function");
		cJSON_AddStringToObject(f, "name", r->tools[t].name);
		if (r->tools[t].description != NULL)
			add_text(f, "description", r->tools[t].description);
		cJSON_AddItemToObject(f, "parameters", tool_params[t]);
		tool_params[t] = NULL;
		cJSON_AddItemToArray(tools, tool);
	}
	if (!caps->tool_choice)
		return;
	switch (r->tool_choice) {
	case WIRE_TOOL_CHOICE_DEFAULT:
		break;
	case WIRE_TOOL_CHOICE_AUTO:
		cJSON_AddStringToObject(body, "tool_choice", "auto");
		break;
	case WIRE_TOOL_CHOICE_NONE:
		cJSON_AddStringToObject(body, "tool_choice", "none");
		break;
	case WIRE_TOOL_CHOICE_REQUIRED:
		cJSON_AddStringToObject(body, "tool_choice", "required");
		break;
	case WIRE_TOOL_CHOICE_NAMED: {
		cJSON *c = cJSON_AddObjectToObject(body, "tool_choice");
		cJSON_AddStringToObject(c, "type", "function");
		cJSON *f = cJSON_AddObjectToObject(c, "function");
		cJSON_AddStringToObject(f, "name", r->tool_choice_name);
		break;
	}
	}
}

char *
wire_request_body(const struct model_caps *caps, const struct wire_request *r, char **cause)
{
	cJSON **tool_params = xcalloc(r->ntools ? r->ntools : 1, sizeof *tool_params);
	char *text = NULL;
	if (check_request(r, tool_params, cause) != 0)
		goto out;

	cJSON *body = cJSON_CreateObject();
	add_text(body, "model", r->model);
	cJSON *messages =
	    caps->tools ? cJSON_Duplicate(r->messages, 1) : messages_without_tools(r->messages);
	cJSON_AddItemToObject(body, "messages", messages);

	if (r->schema != NULL) {
		switch (caps->output) {
		case WIRE_OUTPUT_JSON_SCHEMA: {
			cJSON *rf = cJSON_AddObjectToObject(body, "response_format");
			cJSON_AddStringToObject(rf, "type", "json_schema");
			cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
			cJSON_AddStringToObject(js, "name",
			                        r->schema_name ? r->schema_name : "response");
			cJSON_AddTrueToObject(js, "strict");
			cJSON_AddItemToObject(js, "schema", jschema_to_json(r->schema));
			break;
		}
		case WIRE_OUTPUT_JSON_OBJECT: {
			cJSON *rf = cJSON_AddObjectToObject(body, "response_format");
			cJSON_AddStringToObject(rf, "type", "json_object");
			add_schema_instruction(messages, r->schema, 0);
			break;
		}
		case WIRE_OUTPUT_INSTRUCTION:
			add_schema_instruction(messages, r->schema, 1);
			break;
		}
	}
	if (caps->tools && r->ntools > 0)
		add_tools(body, caps, r, tool_params);
	if (r->max_tokens > 0)
		cJSON_AddNumberToObject(body, wire_max_tokens_names[caps->max_tokens_field],
		                        (double)r->max_tokens);
	if (r->set_temperature && caps->temperature)
		cJSON_AddNumberToObject(body, "temperature", r->temperature);
	if (r->stream) {
		cJSON_AddTrueToObject(body, "stream");
		if (caps->stream_usage) {
			cJSON *so = cJSON_AddObjectToObject(body, "stream_options");
			cJSON_AddTrueToObject(so, "include_usage");
		}
	}
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
out:
	for (size_t t = 0; t < r->ntools; t++)
		cJSON_Delete(tool_params[t]);
	free(tool_params);
	return text;
}

/* ============================================================== replies */

void
wire_reply_free(struct wire_reply *r)
{
	free(r->content);
	free(r->refusal);
	for (size_t i = 0; i < r->ncalls; i++) {
		free(r->calls[i].id);
		free(r->calls[i].name);
		free(r->calls[i].arguments);
	}
	free(r->calls);
	free(r->finish_reason);
	free(r->model);
	memset(r, 0, sizeof *r);
}

static int
parse_usage(const cJSON *u, struct wire_usage *out, char **cause)
{
	if (u == NULL || cJSON_IsNull(u))
		return 0;
	if (!cJSON_IsObject(u)) {
		*cause = xasprintf("usage is %s, not an object", jschema_value_noun(u));
		return -1;
	}
	struct wire_usage w = {.present = 1};
	const struct {
		const char *key;
		int64_t *dst;
	} fields[] = {
	    {"prompt_tokens", &w.prompt_tokens},
	    {"completion_tokens", &w.completion_tokens},
	    {"total_tokens", &w.total_tokens},
	};
	for (size_t i = 0; i < nitems(fields); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, fields[i].key);
		if (v == NULL || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e15) {
			*cause = xasprintf("usage.%s is not a token count", fields[i].key);
			return -1;
		}
		*fields[i].dst = (int64_t)v->valuedouble;
	}
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details");
	const cJSON *cached = cJSON_GetObjectItemCaseSensitive(details, "cached_tokens");
	if (cJSON_IsNumber(cached) && cached->valuedouble >= 0 &&
	    cached->valuedouble <= (double)w.prompt_tokens)
		w.cached_tokens = (int64_t)cached->valuedouble;
	if (w.total_tokens == 0)
		w.total_tokens = w.prompt_tokens + w.completion_tokens;
	*out = w;
	return 0;
}

/*
 * Message content: a string, null, or (some servers) an array of parts
 * of which the text ones count. Sets *out (caller frees) or NULL.
 */
static int
parse_content(const cJSON *c, const char *what, char **out, char **cause)
{
	*out = NULL;
	if (c == NULL || cJSON_IsNull(c))
		return 0;
	if (cJSON_IsString(c)) {
		*out = xstrdup(c->valuestring);
		return 0;
	}
	if (cJSON_IsArray(c)) {
		struct buf b;
		buf_init(&b, 0);
		const cJSON *part;
		cJSON_ArrayForEach(part, c)
		{
			const char *t = str_item(part, "text");
			if (t != NULL)
				buf_adds(&b, t);
		}
		*out = take(&b);
		return 0;
	}
	*cause = xasprintf("%s is %s, not a string", what, jschema_value_noun(c));
	return -1;
}

/* One tool call of a complete message into out (strings owned by out). */
static int
parse_tool_call(const cJSON *c, size_t i, struct wire_tool_call *out, char **cause)
{
	if (!cJSON_IsObject(c)) {
		*cause = xasprintf("choices[0].message.tool_calls[%zu] is %s, not an object", i,
		                   jschema_value_noun(c));
		return -1;
	}
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "function");
	if (!cJSON_IsObject(f)) {
		*cause = xasprintf("choices[0].message.tool_calls[%zu] has no function", i);
		return -1;
	}
	const char *name = str_item(f, "name");
	if (name == NULL || *name == '\0') {
		*cause = xasprintf("choices[0].message.tool_calls[%zu] has no function name", i);
		return -1;
	}
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(f, "arguments");
	if (args != NULL && !cJSON_IsString(args) && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
		*cause = xasprintf("choices[0].message.tool_calls[%zu].function.arguments is %s", i,
		                   jschema_value_noun(args));
		return -1;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
	if (id != NULL && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		*cause = xasprintf("choices[0].message.tool_calls[%zu].id is %s, not a string", i,
		                   jschema_value_noun(id));
		return -1;
	}
	out->id = cJSON_IsString(id) && *id->valuestring ? xstrdup(id->valuestring)
	                                                 : xasprintf("call_%zu", i);
	out->name = xstrdup(name);
	/* Some servers (Ollama's own API) hand arguments over as an object. */
	if (cJSON_IsString(args))
		out->arguments = xstrdup(args->valuestring);
	else if (cJSON_IsObject(args))
		out->arguments = cJSON_PrintUnformatted(args);
	else
		out->arguments = xstrdup("{}");
	return 0;
}

static int
parse_optional_string(const cJSON *o, const char *key, const char *what, char **out, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		*cause = xasprintf("%s is %s, not a string", what, jschema_value_noun(v));
		return -1;
	}
	*out = xstrdup(v->valuestring);
	return 0;
}

/* An error object in a 200 body, or a stream: {"error":...} or vLLM's {"object":"error"}. */
static int
is_error_object(const cJSON *o)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const char *object = str_item(o, "object");
	return (e != NULL && !cJSON_IsNull(e) && !cJSON_IsFalse(e)) ||
	       (object != NULL && strcmp(object, "error") == 0);
}

static int
parse_reply(const cJSON *root, struct wire_reply *out, char **cause)
{
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	if (choices == NULL || cJSON_IsNull(choices)) {
		*cause = xstrdup("the response has no choices");
		return -1;
	}
	if (!cJSON_IsArray(choices)) {
		*cause = xasprintf("choices is %s, not an array", jschema_value_noun(choices));
		return -1;
	}
	const cJSON *choice = cJSON_GetArrayItem(choices, 0);
	if (choice == NULL) {
		*cause = xstrdup("choices is empty");
		return -1;
	}
	if (!cJSON_IsObject(choice)) {
		*cause = xasprintf("choices[0] is %s, not an object", jschema_value_noun(choice));
		return -1;
	}
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	if (msg == NULL) {
		*cause = xstrdup("choices[0] has no message");
		return -1;
	}
	if (!cJSON_IsObject(msg)) {
		*cause =
		    xasprintf("choices[0].message is %s, not an object", jschema_value_noun(msg));
		return -1;
	}
	if (parse_content(cJSON_GetObjectItemCaseSensitive(msg, "content"),
	                  "choices[0].message.content", &out->content, cause) != 0 ||
	    parse_optional_string(msg, "refusal", "choices[0].message.refusal", &out->refusal,
	                          cause) != 0 ||
	    parse_optional_string(choice, "finish_reason", "choices[0].finish_reason",
	                          &out->finish_reason, cause) != 0 ||
	    parse_optional_string(root, "model", "model", &out->model, cause) != 0 ||
	    parse_usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), &out->usage, cause) != 0)
		return -1;

	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
	if (calls == NULL || cJSON_IsNull(calls))
		return 0;
	if (!cJSON_IsArray(calls)) {
		*cause = xasprintf("choices[0].message.tool_calls is %s, not an array",
		                   jschema_value_noun(calls));
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(calls);
	out->calls = xcalloc(n ? n : 1, sizeof *out->calls);
	const cJSON *c;
	cJSON_ArrayForEach(c, calls)
	{
		if (parse_tool_call(c, out->ncalls, &out->calls[out->ncalls], cause) != 0)
			return -1;
		out->ncalls++;
	}
	return 0;
}

/* What a broken body starts with, for a cause: cleaned, 80 characters. */
static char *
body_excerpt(const char *body, size_t len)
{
	return wire_clean_text(body, len, 80);
}

int
wire_parse_response(const char *body, size_t len, struct wire_reply *out, char **cause)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i == len) {
		*cause = xstrdup("empty response body");
		return -1;
	}
	cJSON *root = parse_exact(body, len);
	if (root == NULL) {
		char *ex = body_excerpt(body, len);
		*cause = xasprintf("the response is not JSON: %s", ex);
		free(ex);
		return -1;
	}
	int rc = -1;
	if (!cJSON_IsObject(root)) {
		*cause =
		    xasprintf("the response is %s, not a JSON object", jschema_value_noun(root));
	} else if (is_error_object(root)) {
		char *msg = wire_error_text(0, body, len, NULL);
		*cause = xasprintf("the server reported an error: %s", msg);
		free(msg);
	} else {
		rc = parse_reply(root, out, cause);
	}
	cJSON_Delete(root);
	if (rc != 0)
		wire_reply_free(out);
	return rc;
}

/* ================================================================ cleaning */

/* Longest message wire_error_text returns, in characters. */
#define ERROR_TEXT_MAX 300

/* Index just past the escape sequence that starts at s[i] (ESC). */
static size_t
skip_escape(const unsigned char *s, size_t len, size_t i)
{
	i++; /* ESC */
	if (i >= len)
		return i;
	unsigned char c = s[i++];
	if (c == '[') { /* CSI: parameters and intermediates, then one final byte */
		while (i < len && s[i] >= 0x20 && s[i] <= 0x3f)
			i++;
		while (i < len && s[i] >= 0x20 && s[i] <= 0x2f)
			i++;
		if (i < len && s[i] >= 0x40 && s[i] <= 0x7e)
			i++;
		return i;
	}
	if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
		/* OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \). */
		while (i < len) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b && i + 1 < len && s[i + 1] == '\\')
				return i + 2;
			if (s[i] == 0x1b)
				return i; /* a new sequence: the string was never closed */
			i++;
		}
		return i;
	}
	while (c >= 0x20 && c <= 0x2f && i < len) /* intermediates, then the final byte */
		c = s[i++];
	return i;
}

static unsigned
utf8_decode(const unsigned char *s, size_t k)
{
	if (k == 1)
		return s[0];
	unsigned cp = s[0] & (0x7f >> k);
	for (size_t j = 1; j < k; j++)
		cp = (cp << 6) | (s[j] & 0x3f);
	return cp;
}

/* Code points that reorder or hide text on a terminal. */
static int
invisible(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||     /* C1 controls */
	       (cp >= 0x202a && cp <= 0x202e) || /* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069) || /* bidi isolates */
	       (cp >= 0x200b && cp <= 0x200f) || /* zero-width spaces and marks */
	       cp == 0xfeff;
}

/*
 * Escapes and controls out, whitespace collapsed, UTF-8 made valid.
 * marks gets one byte per output byte: 1 where something was dropped
 * just before it, so that redaction still sees a word boundary there
 * ("key\e[0msk-..." must not hide the key as "keysk-...").
 */
static void
neutralise(struct buf *b, struct buf *marks, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	int space = 0, dropped = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == 0x1b) {
			i = skip_escape(s, len, i);
			dropped = 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			space = 1;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			i++;
			dropped = 1;
			continue;
		}
		size_t k = c < 0x80 ? 1 : utf8_seq_len(s + i, len - i);
		unsigned cp = k ? utf8_decode(s + i, k) : 0xfffd;
		if (cp == 0x2028 || cp == 0x2029) {
			space = 1;
			i += k;
			continue;
		}
		if (invisible(cp)) {
			i += k;
			dropped = 1;
			continue;
		}
		if (space && b->len > 0) {
			buf_addc(b, ' ');
			buf_addc(marks, 0);
		}
		space = 0;
		const char *bytes = k ? (const char *)s + i : "\xef\xbf\xbd";
		size_t n = k ? k : 3;
		buf_add(b, bytes, n);
		buf_addc(marks, (char)dropped);
		for (size_t j = 1; j < n; j++)
			buf_addc(marks, 0);
		dropped = 0;
		i += k ? k : 1;
	}
}

static int
word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Characters a key or token is made of. */
static int
token_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-_.*~+/=", c) != NULL;
}

/* Length of the token at s, without a trailing full stop. */
static size_t
token_len(const char *s)
{
	size_t n = 0;
	while (s[n] && token_char(s[n]))
		n++;
	while (n > 0 && s[n - 1] == '.')
		n--;
	return n;
}

/* How keys from the providers we know begin. */
static const char *const key_prefixes[] = {
    "sk-",  "sk_",         "rk_",    "pk-",   "xai-",  "gsk_", "hf_", "AIza", "ghp_",
    "gho_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "AKIA", "eyJ", /* a JWT: base64 of {" */
    NULL,
};

/* Names whose value is a secret, and what may separate the two. */
static const struct {
	const char *name;
	const char *seps;
} secret_names[] = {
    {"api-key", ":="},   {"api_key", ":="},       {"apikey", ":="},       {"x-api-key", ":="},
    {"api-token", ":="}, {"access_token", ":="},  {"access-token", ":="}, {"token", ":="},
    {"secret", ":="},    {"client_secret", ":="}, {"password", ":="},     {"passwd", ":="},
    {"key", "="},
};

/* Auth schemes whose next word is a credential. */
static const char *const auth_schemes[] = {"Bearer", "Basic", "Token", NULL};

#define REDACTED   "***"
#define MIN_SECRET 8 /* shorter tokens are words, not keys */

/*
 * Length of the credential-bearing text at s, with *keep the length of
 * the part to keep before REDACTED; 0 when nothing at s looks secret.
 */
static size_t
secret_at(const char *s, size_t *keep)
{
	for (size_t i = 0; key_prefixes[i] != NULL; i++) {
		size_t p = strlen(key_prefixes[i]);
		if (strncmp(s, key_prefixes[i], p) == 0 && token_len(s + p) >= MIN_SECRET) {
			*keep = p;
			return p + token_len(s + p);
		}
	}
	for (size_t i = 0; auth_schemes[i] != NULL; i++) {
		size_t p = strlen(auth_schemes[i]);
		if (strncasecmp(s, auth_schemes[i], p) == 0 && s[p] == ' ' &&
		    token_len(s + p + 1) >= MIN_SECRET) {
			*keep = p + 1;
			return p + 1 + token_len(s + p + 1);
		}
	}
	for (size_t i = 0; i < nitems(secret_names); i++) {
		size_t p = strlen(secret_names[i].name);
		if (strncasecmp(s, secret_names[i].name, p) != 0 || word_char(s[p]) || s[p] == '-')
			continue;
		size_t j = p;
		if (s[j] == '"' || s[j] == '\'')
			j++;
		while (s[j] == ' ')
			j++;
		if (s[j] == '\0' || strchr(secret_names[i].seps, s[j]) == NULL)
			continue;
		j++;
		while (s[j] == ' ' || s[j] == '"' || s[j] == '\'')
			j++;
		/* "Authorization: Bearer x" is left to the scheme rule. */
		int scheme = 0;
		for (size_t a = 0; auth_schemes[a] != NULL; a++)
			if (strncasecmp(s + j, auth_schemes[a], strlen(auth_schemes[a])) == 0)
				scheme = 1;
		size_t v = token_len(s + j);
		if (scheme || v < 4 || (v == strlen(REDACTED) && strncmp(s + j, REDACTED, v) == 0))
			continue;
		*keep = j;
		return j + v;
	}
	return 0;
}

static void
redact(struct buf *out, const char *s, const char *marks)
{
	for (size_t i = 0; s[i] != '\0';) {
		size_t keep = 0, n = 0;
		if (i == 0 || !word_char(s[i - 1]) || marks[i])
			n = secret_at(s + i, &keep);
		if (n > 0) {
			buf_add(out, s + i, keep);
			buf_adds(out, REDACTED);
			i += n;
		} else {
			buf_addc(out, s[i++]);
		}
	}
}

char *
wire_clean_text(const char *s, size_t len, size_t max)
{
	struct buf a, marks, b;
	buf_init(&a, 0);
	buf_init(&marks, 0);
	buf_init(&b, 0);
	neutralise(&a, &marks, s ? s : "", s ? len : 0);
	redact(&b, a.data, marks.data);
	buf_free(&a);
	buf_free(&marks);
	if (max == 0)
		return take(&b);
	size_t i = 0, n = 0;
	while (i < b.len && n < max) {
		i += utf8_seq_len((const unsigned char *)b.data + i, b.len - i);
		n++;
	}
	if (i < b.len) {
		b.len = i;
		while (b.len > 0 && b.data[b.len - 1] == ' ')
			b.len--;
		b.data[b.len] = '\0';
		buf_adds(&b, "...");
	}
	return take(&b);
}

/* ============================================================== errors */

static const struct {
	int status;
	const char *reason;
} reasons[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Entity"},
    {425, "Too Early"},
    {429, "Too Many Requests"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

static const char *
reason_phrase(int status)
{
	for (size_t i = 0; i < nitems(reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return NULL;
}

/* A string or number field as text (caller frees), or NULL. */
static char *
scalar_text(const cJSON *v)
{
	if (cJSON_IsString(v) && *v->valuestring)
		return xstrdup(v->valuestring);
	if (cJSON_IsNumber(v))
		return xasprintf("%.15g", v->valuedouble);
	return NULL;
}

struct err_parts {
	char *message;
	char *type;
	char *code;
};

static void
err_from_object(const cJSON *o, struct err_parts *p)
{
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
	if (cJSON_IsString(msg))
		p->message = xstrdup(msg->valuestring);
	else if (msg != NULL && !cJSON_IsNull(msg))
		p->message = cJSON_PrintUnformatted(msg);
	p->type = scalar_text(cJSON_GetObjectItemCaseSensitive(o, "type"));
	p->code = scalar_text(cJSON_GetObjectItemCaseSensitive(o, "code"));
}

/* The shapes of JSON error bodies; leaves parts NULL when none fits. */
static void
err_from_json(const cJSON *root, struct err_parts *p)
{
	/* Google-style gateways wrap the error in an array. */
	if (cJSON_IsArray(root))
		root = cJSON_GetArrayItem(root, 0);
	if (!cJSON_IsObject(root))
		return;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
	if (cJSON_IsString(e)) { /* Ollama */
		p->message = xstrdup(e->valuestring);
	} else if (cJSON_IsObject(e)) { /* OpenAI, Azure, llama.cpp */
		err_from_object(e, p);
	} else if (cJSON_GetObjectItemCaseSensitive(root, "message") != NULL) {
		err_from_object(root, p);    /* vLLM, API gateways */
	} else if (cJSON_IsString(detail)) { /* FastAPI */
		p->message = xstrdup(detail->valuestring);
	} else if (cJSON_IsArray(detail)) { /* FastAPI validation errors */
		const char *m = str_item(cJSON_GetArrayItem(detail, 0), "msg");
		if (m != NULL)
			p->message = xstrdup(m);
	}
	if (p->message == NULL)
		p->message = cJSON_PrintUnformatted(root);
}

/* Decodes the few entities error pages use, in place. */
static void
html_entities(char *s)
{
	static const struct {
		const char *ent, *ch;
	} ents[] = {{"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
	            {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
	char *w = s;
	for (const char *r = s; *r;) {
		size_t i;
		for (i = 0; i < nitems(ents); i++)
			if (strncmp(r, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < nitems(ents)) {
			*w++ = ents[i].ch[0];
			r += strlen(ents[i].ent);
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* An HTML page's title, else its text without tags; caller frees. */
static char *
html_text(const char *s, size_t len)
{
	char *copy = xstrndup(s, len);
	char *lower = xstrdup(copy);
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	struct buf b;
	buf_init(&b, 0);
	const char *t = strstr(lower, "<title");
	const char *gt = t ? strchr(t, '>') : NULL;
	const char *end = gt ? strstr(gt, "</title") : NULL;
	if (end != NULL && end > gt + 1) {
		buf_add(&b, copy + (gt + 1 - lower), (size_t)(end - gt - 1));
	} else {
		int in_tag = 0;
		for (const char *c = copy; *c; c++) {
			if (*c == '<')
				in_tag = 1;
			else if (*c == '>' && in_tag)
				in_tag = 0, buf_addc(&b, ' ');
			else if (!in_tag)
				buf_addc(&b, *c);
		}
	}
	free(copy);
	free(lower);
	html_entities(b.data);
	b.len = strlen(b.data);
	return take(&b);
}

char *
wire_error_text(int status, const char *body, size_t len, char **code)
{
	struct err_parts p = {NULL, NULL, NULL};
	if (body == NULL)
		len = 0;
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len) {
		cJSON *root = parse_exact(body + i, len - i);
		if (root != NULL)
			err_from_json(root, &p);
		else if (body[i] == '<')
			p.message = html_text(body + i, len - i);
		else
			p.message = xstrndup(body + i, len - i);
		cJSON_Delete(root);
	}

	struct buf b;
	buf_init(&b, 0);
	if (status > 0)
		buf_printf(&b, "HTTP %d", status);
	char *clean_msg = p.message ? wire_clean_text(p.message, strlen(p.message), 0) : NULL;
	if (clean_msg != NULL && *clean_msg != '\0') {
		buf_printf(&b, "%s%s", status > 0 ? ": " : "", clean_msg);
	} else if (status > 0) {
		const char *r = reason_phrase(status);
		buf_printf(&b, "%s%s%s", r ? " " : "", r ? r : "", i == len ? " (empty body)" : "");
	} else {
		buf_adds(&b, i == len ? "an error with no message" : "an error");
	}
	free(clean_msg);

	/* "(type, code)", leaving out a code that only repeats the status. */
	char status_text[16];
	snprintf(status_text, sizeof status_text, "%d", status);
	const char *type = p.type;
	const char *c = p.code && strcmp(p.code, status_text) != 0 ? p.code : NULL;
	if (type && c && strcmp(type, c) == 0)
		type = NULL;
	if (type || c)
		buf_printf(&b, " (%s%s%s)", type ? type : "", type && c ? ", " : "", c ? c : "");

	char *out = wire_clean_text(b.data, b.len, ERROR_TEXT_MAX);
	buf_free(&b);
	if (code != NULL) {
		/* A code names the error better than a type does; numbers name nothing. */
		const char *best = p.code && !isdigit((unsigned char)p.code[0]) ? p.code : p.type;
		*code = best ? wire_clean_text(best, strlen(best), 64) : NULL;
	}
	free(p.message);
	free(p.type);
	free(p.code);
	return out;
}

/* ============================================================ streaming */

#define STREAM_DEFAULT_MAX (4u << 20)
#define STREAM_MAX_CALLS   128

enum stream_mode { MODE_UNDECIDED, MODE_SSE, MODE_RAW };

struct acc_call {
	int index;
	struct buf id, name, args;
};

struct wire_stream {
	wire_delta_fn on_delta;
	void *arg;
	size_t max;

	enum stream_mode mode;
	size_t bom;       /* bytes of a leading BOM matched */
	int after_cr;     /* the last byte was CR: an LF next ends the same line */
	struct buf line;  /* the line being read, without its end */
	struct buf data;  /* the event being read */
	int has_data;     /* the event has a data line */
	int in_event;     /* a field line arrived since the last blank line */
	struct buf event; /* its event field */
	struct buf raw;   /* MODE_RAW: the whole body */

	int done; /* [DONE] seen */
	char *error;

	struct buf content, refusal;
	int has_content, has_refusal;
	struct acc_call *calls;
	size_t ncalls;
	char *finish_reason;
	char *model;
	struct wire_usage usage;
};

static int stream_fail(struct wire_stream *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
stream_fail(struct wire_stream *st, const char *fmt, ...)
{
	if (st->error != NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	st->error = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

static int
too_big(struct wire_stream *st)
{
	return stream_fail(st, "stream: larger than the limit of %zu bytes", st->max);
}

struct wire_stream *
wire_stream_new(wire_delta_fn on_delta, void *arg, size_t max)
{
	struct wire_stream *st = xcalloc(1, sizeof *st);
	st->on_delta = on_delta;
	st->arg = arg;
	st->max = max ? max : STREAM_DEFAULT_MAX;
	buf_init(&st->line, st->max);
	buf_init(&st->data, st->max);
	buf_init(&st->event, 64);
	buf_init(&st->raw, st->max);
	buf_init(&st->content, st->max);
	buf_init(&st->refusal, st->max);
	return st;
}

void
wire_stream_free(struct wire_stream *st)
{
	if (st == NULL)
		return;
	buf_free(&st->line);
	buf_free(&st->data);
	buf_free(&st->event);
	buf_free(&st->raw);
	buf_free(&st->content);
	buf_free(&st->refusal);
	for (size_t i = 0; i < st->ncalls; i++) {
		buf_free(&st->calls[i].id);
		buf_free(&st->calls[i].name);
		buf_free(&st->calls[i].args);
	}
	free(st->calls);
	free(st->finish_reason);
	free(st->model);
	free(st->error);
	free(st);
}

static struct acc_call *
call_slot(struct wire_stream *st, int index, const char *id)
{
	if (index >= 0) {
		for (size_t i = 0; i < st->ncalls; i++)
			if (st->calls[i].index == index)
				return &st->calls[i];
	} else if (id != NULL) {
		/* No index (some servers): the id tells calls apart. */
		for (size_t i = 0; i < st->ncalls; i++)
			if (strcmp(st->calls[i].id.data, id) == 0)
				return &st->calls[i];
	} else if (st->ncalls > 0) {
		return &st->calls[st->ncalls - 1];
	}
	if (st->ncalls == STREAM_MAX_CALLS)
		return NULL;
	if (index < 0) {
		index = 0;
		for (size_t i = 0; i < st->ncalls; i++)
			if (st->calls[i].index >= index)
				index = st->calls[i].index + 1;
	}
	st->calls = xreallocarray(st->calls, st->ncalls + 1, sizeof *st->calls);
	struct acc_call *c = &st->calls[st->ncalls++];
	c->index = index;
	buf_init(&c->id, 256);
	buf_init(&c->name, 256);
	buf_init(&c->args, st->max);
	return c;
}

/* One element of a delta's tool_calls: id and name first, arguments in pieces. */
static int
merge_call(struct wire_stream *st, const cJSON *tc)
{
	if (!cJSON_IsObject(tc))
		return stream_fail(st, "stream: a tool_calls delta is %s, not an object",
		                   jschema_value_noun(tc));
	const cJSON *ix = cJSON_GetObjectItemCaseSensitive(tc, "index");
	int index = -1;
	if (cJSON_IsNumber(ix)) {
		if (!(ix->valuedouble >= 0 && ix->valuedouble < STREAM_MAX_CALLS))
			return stream_fail(st, "stream: tool call index %.15g is out of range",
			                   ix->valuedouble);
		index = (int)ix->valuedouble;
	} else if (ix != NULL && !cJSON_IsNull(ix)) {
		return stream_fail(st, "stream: tool call index is %s, not a number",
		                   jschema_value_noun(ix));
	}
	const char *id = str_item(tc, "id");
	if (id != NULL && *id == '\0')
		id = NULL;
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(tc, "function");
	if (f != NULL && !cJSON_IsObject(f) && !cJSON_IsNull(f))
		return stream_fail(st, "stream: tool call function is %s, not an object",
		                   jschema_value_noun(f));
	const char *name = str_item(f, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(f, "arguments");

	struct acc_call *c = call_slot(st, index, id);
	if (c == NULL)
		return stream_fail(st, "stream: more than %d tool calls", STREAM_MAX_CALLS);
	if (id != NULL && c->id.len == 0 && buf_adds(&c->id, id) != 0)
		return too_big(st);
	/* A name arrives once, or in pieces, or (some servers) whole in every delta. */
	if (name != NULL && strcmp(c->name.data, name) != 0 && buf_adds(&c->name, name) != 0)
		return too_big(st);
	if (cJSON_IsString(args)) {
		if (buf_adds(&c->args, args->valuestring) != 0)
			return too_big(st);
	} else if (cJSON_IsObject(args)) {
		char *text = cJSON_PrintUnformatted(args);
		int rc = buf_adds(&c->args, text);
		free(text);
		if (rc != 0)
			return too_big(st);
	}
	return 0;
}

static int
apply_delta(struct wire_stream *st, const cJSON *delta)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
	if (cJSON_IsString(content)) {
		size_t n = strlen(content->valuestring);
		st->has_content = 1;
		if (buf_add(&st->content, content->valuestring, n) != 0)
			return too_big(st);
		if (n > 0 && st->on_delta != NULL)
			st->on_delta(st->arg, content->valuestring, n);
	} else if (content != NULL && !cJSON_IsNull(content)) {
		return stream_fail(st, "stream: delta content is %s, not a string",
		                   jschema_value_noun(content));
	}
	const char *refusal = str_item(delta, "refusal");
	if (refusal != NULL) {
		st->has_refusal = 1;
		if (buf_adds(&st->refusal, refusal) != 0)
			return too_big(st);
	}
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls");
	if (calls != NULL && !cJSON_IsNull(calls) && !cJSON_IsArray(calls))
		return stream_fail(st, "stream: delta tool_calls is %s, not an array",
		                   jschema_value_noun(calls));
	const cJSON *tc;
	cJSON_ArrayForEach(tc, calls)
	{
		if (merge_call(st, tc) != 0)
			return -1;
	}
	return 0;
}

static int
apply_chunk(struct wire_stream *st, const cJSON *chunk)
{
	const char *model = str_item(chunk, "model");
	if (model != NULL && st->model == NULL)
		st->model = xstrdup(model);
	char *cause = NULL;
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(chunk, "usage");
	if (parse_usage(usage, &st->usage, &cause) != 0) {
		stream_fail(st, "stream: %s", cause);
		free(cause);
		return -1;
	}
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(chunk, "choices");
	if (choices != NULL && !cJSON_IsNull(choices) && !cJSON_IsArray(choices))
		return stream_fail(st, "stream: choices is %s, not an array",
		                   jschema_value_noun(choices));
	const cJSON *choice;
	cJSON_ArrayForEach(choice, choices)
	{
		if (!cJSON_IsObject(choice))
			return stream_fail(st, "stream: a choice is %s, not an object",
			                   jschema_value_noun(choice));
		const cJSON *ix = cJSON_GetObjectItemCaseSensitive(choice, "index");
		if (cJSON_IsNumber(ix) && ix->valuedouble != 0)
			continue; /* we ask for one choice; ignore any other */
		const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
		if (delta == NULL || cJSON_IsNull(delta)) /* a few servers send message */
			delta = cJSON_GetObjectItemCaseSensitive(choice, "message");
		if (delta != NULL && !cJSON_IsNull(delta) && !cJSON_IsObject(delta))
			return stream_fail(st, "stream: delta is %s, not an object",
			                   jschema_value_noun(delta));
		if (delta != NULL && apply_delta(st, delta) != 0)
			return -1;
		const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
		if (cJSON_IsString(fr)) {
			free(st->finish_reason);
			st->finish_reason = xstrdup(fr->valuestring);
		} else if (fr != NULL && !cJSON_IsNull(fr)) {
			return stream_fail(st, "stream: finish_reason is %s, not a string",
			                   jschema_value_noun(fr));
		}
	}
	return 0;
}

/* The end of an event (a blank line): act on its data. */
static int
dispatch(struct wire_stream *st)
{
	int rc = 0;
	if (!st->has_data || st->done)
		goto out;
	if (strcmp(st->data.data, "[DONE]") == 0) {
		st->done = 1;
		goto out;
	}
	int is_error_event = strcmp(st->event.data, "error") == 0;
	cJSON *chunk = parse_exact(st->data.data, st->data.len);
	if (is_error_event || (cJSON_IsObject(chunk) && is_error_object(chunk))) {
		char *msg = wire_error_text(0, st->data.data, st->data.len, NULL);
		rc = stream_fail(st, "the server reported an error in the stream: %s", msg);
		free(msg);
	} else if (chunk == NULL) {
		char *ex = body_excerpt(st->data.data, st->data.len);
		rc = stream_fail(st, "stream: event data is not JSON: %s", ex);
		free(ex);
	} else if (!cJSON_IsObject(chunk)) {
		rc = stream_fail(st, "stream: event data is %s, not an object",
		                 jschema_value_noun(chunk));
	} else {
		rc = apply_chunk(st, chunk);
	}
	cJSON_Delete(chunk);
out:
	buf_reset(&st->data);
	buf_reset(&st->event);
	st->has_data = 0;
	st->in_event = 0;
	return rc;
}

/* A complete line (without its end). */
static int
line_done(struct wire_stream *st)
{
	const char *l = st->line.data;
	int rc = 0;
	if (st->line.len == 0) {
		rc = dispatch(st);
	} else if (l[0] != ':') { /* ':' starts a comment */
		st->in_event = 1;
		const char *colon = strchr(l, ':');
		size_t flen = colon ? (size_t)(colon - l) : st->line.len;
		const char *value = colon ? colon + 1 : "";
		if (*value == ' ')
			value++;
		if (flen == 4 && strncmp(l, "data", 4) == 0) {
			if ((st->has_data && buf_addc(&st->data, '\n') != 0) ||
			    buf_adds(&st->data, value) != 0)
				rc = too_big(st);
			st->has_data = 1;
		} else if (flen == 5 && strncmp(l, "event", 5) == 0) {
			buf_reset(&st->event);
			buf_adds(&st->event, value); /* an over-long name is not "error" anyway */
		}
		/* id, retry and unknown fields mean nothing here. */
	}
	buf_reset(&st->line);
	return rc;
}

static int
sse_bytes(struct wire_stream *st, const char *p, size_t n)
{
	while (n > 0) {
		if (st->after_cr) {
			st->after_cr = 0;
			if (*p == '\n') {
				p++;
				n--;
				continue;
			}
		}
		size_t k = 0;
		while (k < n && p[k] != '\r' && p[k] != '\n')
			k++;
		if (k > 0 && buf_add(&st->line, p, k) != 0)
			return too_big(st);
		if (k == n)
			break;
		st->after_cr = p[k] == '\r';
		if (line_done(st) != 0)
			return -1;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

static int
stream_report(struct wire_stream *st, char **cause)
{
	if (cause != NULL)
		*cause = xstrdup(st->error);
	return -1;
}

int
wire_stream_feed(struct wire_stream *st, const char *data, size_t len, char **cause)
{
	static const unsigned char bom[] = {0xef, 0xbb, 0xbf};
	if (st->error != NULL)
		return stream_report(st, cause);
	size_t i = 0;
	while (i < len && st->bom < 3) {
		if ((unsigned char)data[i] == bom[st->bom]) {
			st->bom++;
			i++;
		} else {
			st->bom = 3;
		}
	}
	/* The first thing that is not white space says SSE or a plain JSON body. */
	while (i < len && st->mode == MODE_UNDECIDED) {
		char c = data[i];
		if (c == '{' || c == '[') {
			st->mode = MODE_RAW;
		} else if (!isspace((unsigned char)c)) {
			st->mode = MODE_SSE;
		} else {
			if (sse_bytes(st, data + i, 1) != 0)
				return stream_report(st, cause);
			i++;
		}
	}
	int rc = 0;
	if (st->mode == MODE_RAW)
		rc = buf_add(&st->raw, data + i, len - i) != 0 ? too_big(st) : 0;
	else if (i < len)
		rc = sse_bytes(st, data + i, len - i);
	return rc != 0 ? stream_report(st, cause) : 0;
}

static int
by_index(const void *a, const void *b)
{
	const struct acc_call *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

/* Moves what the stream accumulated into out. */
static void
stream_reply(struct wire_stream *st, struct wire_reply *out)
{
	if (st->has_content)
		out->content = xstrdup(st->content.data);
	if (st->has_refusal)
		out->refusal = xstrdup(st->refusal.data);
	out->finish_reason = st->finish_reason;
	st->finish_reason = NULL;
	out->model = st->model;
	st->model = NULL;
	out->usage = st->usage;
	if (st->ncalls == 0)
		return;
	qsort(st->calls, st->ncalls, sizeof *st->calls, by_index);
	out->calls = xcalloc(st->ncalls, sizeof *out->calls);
	for (size_t i = 0; i < st->ncalls; i++) {
		struct acc_call *c = &st->calls[i];
		struct wire_tool_call *w = &out->calls[out->ncalls++];
		w->id = c->id.len ? xstrdup(c->id.data) : xasprintf("call_%d", c->index);
		w->name = xstrdup(c->name.data);
		w->arguments = c->args.len ? xstrdup(c->args.data) : xstrdup("{}");
	}
}

int
wire_stream_finish(struct wire_stream *st, struct wire_reply *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (st->error == NULL && st->mode == MODE_RAW) {
		char *why = NULL;
		if (wire_parse_response(st->raw.data, st->raw.len, out, &why) != 0) {
			stream_fail(st, "%s", why);
			free(why);
		}
		return st->error ? stream_report(st, cause) : 0;
	}
	if (st->error == NULL && !st->done) {
		/* "data: [DONE]" without the blank line after it is a whole stream. */
		int partial = st->line.len > 0 || st->in_event;
		if (st->line.len > 0)
			line_done(st);
		if (st->has_data && strcmp(st->data.data, "[DONE]") == 0)
			st->done = 1;
		else if (partial)
			stream_fail(st, "truncated stream: it ended in the middle of an event");
		else
			stream_fail(st, "truncated stream: it ended without [DONE]");
	}
	stream_reply(st, out);
	for (size_t i = 0; i < out->ncalls && st->error == NULL; i++)
		if (out->calls[i].name[0] == '\0')
			stream_fail(st, "stream: tool call %zu has no name", i);
	return st->error ? stream_report(st, cause) : 0;
}

/* ============================================================ JSON in text */

/* text without <think>...</think> reasoning; caller frees. */
static char *
strip_think(const char *text)
{
	/* A template may open the block in the prompt: then only its end shows. */
	const char *close = NULL;
	for (const char *p = strstr(text, "</think>"); p; p = strstr(p + 1, "</think>"))
		close = p;
	const char *open = strstr(text, "<think>");
	if (close != NULL && (open == NULL || open > close))
		return xstrdup(close + strlen("</think>"));
	struct buf b;
	buf_init(&b, 0);
	const char *p = text;
	while ((open = strstr(p, "<think>")) != NULL) {
		buf_add(&b, p, (size_t)(open - p));
		const char *end = strstr(open, "</think>");
		if (end == NULL) {
			p = open + strlen(open);
			break;
		}
		p = end + strlen("</think>");
	}
	buf_adds(&b, p);
	return take(&b);
}

/*
 * Length of the brace-balanced text starting at s (a '{'), strings
 * respected; 0 when the text runs out before it closes.
 */
static size_t
balanced_len(const char *s, size_t n)
{
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if ((c == '}' || c == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

enum region_result { REGION_NONE, REGION_ARRAY, REGION_MALFORMED, REGION_CUT_OFF };

/* The first JSON object in s[0..n); *why says what stood in the way. */
static cJSON *
object_in(const char *s, size_t n, enum region_result *why)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n > 0 && *s == '[') {
		cJSON *v = parse_exact(s, n);
		int array = cJSON_IsArray(v);
		cJSON_Delete(v);
		if (array) {
			*why = REGION_ARRAY;
			return NULL;
		}
	}
	/*
	 * Each '{' that is not inside an earlier failed candidate, so that
	 * braces in prose are skipped but an object cut off at the end does
	 * not yield one of its members.
	 */
	const char *p = memchr(s, '{', n);
	while (p != NULL) {
		size_t rest = n - (size_t)(p - s);
		const char *end = NULL;
		cJSON *v = cJSON_ParseWithLengthOpts(p, rest, &end, 0);
		if (cJSON_IsObject(v))
			return v;
		cJSON_Delete(v);
		size_t span = balanced_len(p, rest);
		if (*why == REGION_NONE || *why == REGION_MALFORMED)
			*why = span == 0 ? REGION_CUT_OFF : REGION_MALFORMED;
		if (span == 0 || span == rest)
			break;
		p = memchr(p + span, '{', rest - span);
	}
	return NULL;
}

cJSON *
wire_extract_json(const char *text, char **cause)
{
	if (text == NULL || *text == '\0') {
		*cause = xstrdup("the reply is empty");
		return NULL;
	}
	char *t = strip_think(text);
	enum region_result why = REGION_NONE;
	cJSON *v = NULL;

	/* Fenced blocks first: prose around them may hold braces of its own. */
	for (const char *f = strstr(t, "```"); f != NULL && v == NULL;) {
		const char *body = f + 3;
		while (*body && *body != '\n' && *body != '{') /* the language tag */
			body++;
		const char *close = strstr(body, "```");
		size_t n = close ? (size_t)(close - body) : strlen(body);
		v = object_in(body, n, &why);
		f = close ? strstr(close + 3, "```") : NULL;
	}
	if (v == NULL)
		v = object_in(t, strlen(t), &why);
	free(t);
	if (v != NULL)
		return v;
	switch (why) {
	case REGION_ARRAY:
		*cause = xstrdup("the reply is a JSON array, not an object");
		break;
	case REGION_CUT_OFF:
		*cause = xstrdup("the JSON object in the reply is cut off");
		break;
	case REGION_MALFORMED:
		*cause = xstrdup("the JSON object in the reply is malformed");
		break;
	case REGION_NONE:
		*cause = xstrdup("the reply contains no JSON object");
		break;
	}
	return NULL;
}

/* ================================================================ prices */

/* "-2024-08-06", "-0613": the suffix of a dated snapshot. */
static int
dated_suffix(const char *s)
{
	if (s[0] != '-' || !isdigit((unsigned char)s[1]))
		return 0;
	for (s++; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

const struct price *
wire_price_find(const struct price *table, size_t n, const char *model)
{
	if (model == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].model, model) == 0)
			return &table[i];
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(table[i].model);
		if (strncmp(table[i].model, model, k) == 0 && dated_suffix(model + k))
			return &table[i];
	}
	const struct price *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(table[i].model);
		if (k == 0 || table[i].model[k - 1] != '*')
			continue;
		if (strncmp(table[i].model, model, k - 1) == 0 && (best == NULL || k > best_len)) {
			best = &table[i];
			best_len = k;
		}
	}
	return best;
}

double
wire_cost_usd(const struct price *table, size_t n, const char *model, const struct wire_usage *u,
              int *unknown)
{
	const struct price *p = wire_price_find(table, n, model);
	if (unknown != NULL)
		*unknown = p == NULL;
	if (p == NULL || u == NULL || !u->present)
		return 0;
	int64_t cached = u->cached_tokens;
	double cached_price =
	    p->cached_input_per_mtok > 0 ? p->cached_input_per_mtok : p->input_per_mtok;
	return ((double)(u->prompt_tokens - cached) * p->input_per_mtok +
	        (double)cached * cached_price + (double)u->completion_tokens * p->output_per_mtok) /
	       1e6;
}

/* ============================================================ embeddings */

char *
wire_embeddings_body(const struct wire_embed_request *r, char **cause)
{
	if (r->model == NULL || *r->model == '\0') {
		*cause = xstrdup("no embeddings model");
		return NULL;
	}
	if (r->n == 0) {
		*cause = xstrdup("nothing to embed");
		return NULL;
	}
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"model\":");
	buf_json_str(&b, r->model);
	buf_adds(&b, ",\"input\":[");
	for (size_t i = 0; i < r->n; i++) {
		if (r->inputs[i] == NULL || *r->inputs[i] == '\0') {
			*cause = xasprintf("input %zu is empty", i);
			buf_free(&b);
			return NULL;
		}
		if (i > 0)
			buf_addc(&b, ',');
		buf_json_str(&b, r->inputs[i]);
	}
	buf_addc(&b, ']');
	if (r->dimensions > 0)
		buf_printf(&b, ",\"dimensions\":%d", r->dimensions);
	buf_addc(&b, '}');
	return take(&b);
}

void
wire_embeddings_free(struct wire_embeddings *e)
{
	free(e->v);
	free(e->model);
	memset(e, 0, sizeof *e);
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes base64 (standard or URL alphabet, padding optional); NULL when malformed. */
static unsigned char *
b64_decode(const char *s, size_t *outlen)
{
	size_t len = strlen(s);
	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return NULL;
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*outlen = o;
	return out;
}

/* One embedding: a new array of *dim finite floats, or NULL with *cause. */
static float *
parse_vector(const cJSON *e, size_t i, size_t *dim, char **cause)
{
	size_t d;
	float *v = NULL;
	if (cJSON_IsArray(e)) {
		d = (size_t)cJSON_GetArraySize(e);
		if (d == 0 || d > WIRE_EMBED_MAX_DIM) {
			*cause = xasprintf("data[%zu].embedding has %zu values", i, d);
			return NULL;
		}
		v = xcalloc(d, sizeof *v);
		size_t j = 0;
		const cJSON *x;
		cJSON_ArrayForEach(x, e)
		{
			if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) ||
			    fabs(x->valuedouble) > FLT_MAX) {
				*cause = xasprintf(
				    "data[%zu].embedding[%zu] is not a finite number", i, j);
				free(v);
				return NULL;
			}
			v[j++] = (float)x->valuedouble;
		}
	} else if (cJSON_IsString(e)) {
		size_t nb = 0;
		unsigned char *raw = b64_decode(e->valuestring, &nb);
		if (raw == NULL || nb == 0 || nb % 4 != 0 || nb / 4 > WIRE_EMBED_MAX_DIM) {
			*cause =
			    xasprintf("data[%zu].embedding is not base64 of float32 values", i);
			free(raw);
			return NULL;
		}
		d = nb / 4;
		v = xcalloc(d, sizeof *v);
		for (size_t j = 0; j < d; j++) {
			uint32_t u = (uint32_t)raw[4 * j] | (uint32_t)raw[4 * j + 1] << 8 |
			             (uint32_t)raw[4 * j + 2] << 16 |
			             (uint32_t)raw[4 * j + 3] << 24;
			memcpy(&v[j], &u, sizeof u);
			if (!isfinite(v[j])) {
				*cause = xasprintf(
				    "data[%zu].embedding[%zu] is not a finite number", i, j);
				free(raw);
				free(v);
				return NULL;
			}
		}
		free(raw);
	} else {
		*cause = e == NULL ? xasprintf("data[%zu] has no embedding", i)
		                   : xasprintf("data[%zu].embedding is %s, not an array of numbers",
		                               i, jschema_value_noun(e));
		return NULL;
	}
	double norm = 0;
	for (size_t j = 0; j < d; j++)
		norm += (double)v[j] * v[j];
	if (!(norm > 0) || !isfinite(norm)) {
		*cause = xasprintf("data[%zu].embedding has no length (all zero)", i);
		free(v);
		return NULL;
	}
	*dim = d;
	return v;
}

int
wire_parse_embeddings(const char *body, size_t len, size_t n, struct wire_embeddings *out,
                      char **cause)
{
	memset(out, 0, sizeof *out);
	size_t ws = 0;
	while (ws < len && isspace((unsigned char)body[ws]))
		ws++;
	if (ws == len) {
		*cause = xstrdup("empty response body");
		return -1;
	}
	cJSON *root = parse_exact(body, len);
	if (root == NULL) {
		char *ex = body_excerpt(body, len);
		*cause = xasprintf("the response is not JSON: %s", ex);
		free(ex);
		return -1;
	}
	int rc = -1;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	unsigned char *seen = xcalloc(n ? n : 1, 1);
	if (!cJSON_IsObject(root)) {
		*cause =
		    xasprintf("the response is %s, not a JSON object", jschema_value_noun(root));
		goto out;
	}
	if (is_error_object(root)) {
		char *msg = wire_error_text(0, body, len, NULL);
		*cause = xasprintf("the server reported an error: %s", msg);
		free(msg);
		goto out;
	}
	if (!cJSON_IsArray(data)) {
		*cause = data ? xasprintf("data is %s, not an array", jschema_value_noun(data))
		              : xstrdup("the response has no data");
		goto out;
	}
	if (n == 0 || (size_t)cJSON_GetArraySize(data) != n) {
		*cause = xasprintf("%d vectors for %zu inputs", cJSON_GetArraySize(data), n);
		goto out;
	}
	size_t pos = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, data)
	{
		if (!cJSON_IsObject(item)) {
			*cause = xasprintf("data[%zu] is %s, not an object", pos,
			                   jschema_value_noun(item));
			goto out;
		}
		const cJSON *ix = cJSON_GetObjectItemCaseSensitive(item, "index");
		size_t at = pos;
		if (ix != NULL && !cJSON_IsNull(ix)) {
			if (!cJSON_IsNumber(ix) || !(ix->valuedouble >= 0) ||
			    ix->valuedouble >= (double)n ||
			    ix->valuedouble != floor(ix->valuedouble)) {
				*cause = xasprintf("data[%zu].index is not an input's index", pos);
				goto out;
			}
			at = (size_t)ix->valuedouble;
		}
		if (seen[at]) {
			*cause = xasprintf("two vectors for input %zu", at);
			goto out;
		}
		seen[at] = 1;
		size_t d = 0;
		float *v = parse_vector(cJSON_GetObjectItemCaseSensitive(item, "embedding"), pos,
		                        &d, cause);
		if (v == NULL)
			goto out;
		if (out->v == NULL) {
			out->dim = d;
			out->v = xcalloc(n * d, sizeof *out->v);
		} else if (d != out->dim) {
			*cause =
			    xasprintf("data[%zu].embedding has %zu values where data[0] has %zu",
			              pos, d, out->dim);
			free(v);
			goto out;
		}
		memcpy(out->v + at * d, v, d * sizeof *v);
		free(v);
		pos++;
	}
	if (parse_optional_string(root, "model", "model", &out->model, cause) != 0 ||
	    parse_usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), &out->usage, cause) != 0)
		goto out;
	out->n = n;
	rc = 0;
out:
	free(seen);
	cJSON_Delete(root);
	if (rc != 0)
		wire_embeddings_free(out);
	return rc;
}
