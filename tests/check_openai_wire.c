/* check_openai_wire.c -- the chat-completions wire format (src/openai-wire.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jschema.h"
#include "openai-wire.h"
#include "testutil.h"
#include "util.h"

static cJSON *
parse(const char *text)
{
	cJSON *v = cJSON_Parse(text);
	ck_assert_msg(v != NULL, "not JSON: %s", text);
	return v;
}

static const cJSON *
get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *
gets(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(get(o, key));
}

/* ================================================================ requests */

static const struct wire_tool_def tools[] = {
    {"get_order_status", "Status of an order",
     "{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":\"string\"}},"
     "\"required\":[\"order_id\"]}"},
    {"knowledge_base_search", "Search the KB", NULL},
};

static cJSON *
conversation(int with_system, int with_tool_history)
{
	cJSON *m = cJSON_CreateArray();
	if (with_system)
		cJSON_AddItemToArray(m, wire_msg_system("You are a support agent."));
	cJSON_AddItemToArray(m, wire_msg_user("Where is order A12345?"));
	if (with_tool_history) {
		/* A reply owns its calls' strings, so they are not const: arrays. */
		struct wire_tool_call calls[] = {
		    {(char[]){"call_1"}, (char[]){"get_order_status"},
		     (char[]){"{\"order_id\":\"A12345\"}"}},
		};
		cJSON_AddItemToArray(m, wire_msg_tool_calls(NULL, calls, 1));
		cJSON_AddItemToArray(m, wire_msg_tool_result("call_1", "{\"status\":\"shipped\"}"));
		cJSON_AddItemToArray(m, wire_msg_assistant("It has shipped."));
		cJSON_AddItemToArray(m, wire_msg_user("Thanks"));
	}
	return m;
}

/* Builds a body and parses it back; the test fails if it cannot be built. */
static cJSON *
body_for(const struct model_caps *caps, const struct wire_request *r)
{
	char *cause = NULL;
	char *text = wire_request_body(caps, r, &cause);
	ck_assert_msg(text != NULL, "%s", cause ? cause : "?");
	cJSON *b = parse(text);
	free(text);
	return b;
}

static const struct model_caps caps_full = {.output = WIRE_OUTPUT_JSON_SCHEMA,
                                            .tools = 1,
                                            .tool_choice = 1,
                                            .temperature = 1,
                                            .stream_usage = 1,
                                            .max_tokens_field = WIRE_MAX_COMPLETION_TOKENS};

START_TEST(request_json_schema_mode)
{
	cJSON *msgs = conversation(1, 0);
	struct wire_request r = {.model = "gpt-4o",
	                         .messages = msgs,
	                         .schema = &jschema_triage,
	                         .schema_name = "triage_result",
	                         .max_tokens = 400,
	                         .set_temperature = 1,
	                         .temperature = 0.2};
	cJSON *b = body_for(&caps_full, &r);
	ck_assert_str_eq(gets(b, "model"), "gpt-4o");
	const cJSON *rf = get(b, "response_format");
	ck_assert_str_eq(gets(rf, "type"), "json_schema");
	const cJSON *js = get(rf, "json_schema");
	ck_assert_str_eq(gets(js, "name"), "triage_result");
	ck_assert(cJSON_IsTrue(get(js, "strict")));
	const cJSON *schema = get(js, "schema");
	ck_assert_str_eq(gets(schema, "type"), "object");
	ck_assert(cJSON_IsFalse(get(schema, "additionalProperties")));
	ck_assert_ptr_nonnull(get(get(schema, "properties"), "intent_confidence"));
	/* The messages go through untouched: the schema travels in response_format. */
	ck_assert(cJSON_Compare(get(b, "messages"), msgs, 1));
	ck_assert_int_eq((int)get(b, "max_completion_tokens")->valuedouble, 400);
	ck_assert_ptr_null(get(b, "max_tokens"));
	ck_assert_double_eq_tol(get(b, "temperature")->valuedouble, 0.2, 1e-9);
	ck_assert_ptr_null(get(b, "stream"));
	ck_assert_ptr_null(get(b, "stream_options"));
	ck_assert_ptr_null(get(b, "tools"));
	ck_assert_ptr_null(get(b, "tool_choice"));
	cJSON_Delete(b);

	/* No schema name: a default that OpenAI accepts. */
	r.schema_name = NULL;
	b = body_for(&caps_full, &r);
	ck_assert_str_eq(gets(get(get(b, "response_format"), "json_schema"), "name"), "response");
	cJSON_Delete(b);
	cJSON_Delete(msgs);
}
END_TEST

START_TEST(request_json_object_mode_describes_the_schema)
{
	struct model_caps caps = caps_full;
	caps.output = WIRE_OUTPUT_JSON_OBJECT;
	cJSON *msgs = conversation(1, 0);
	struct wire_request r = {.model = "m", .messages = msgs, .schema = &jschema_triage};
	cJSON *b = body_for(&caps, &r);
	const cJSON *rf = get(b, "response_format");
	ck_assert_str_eq(gets(rf, "type"), "json_object");
	ck_assert_ptr_null(get(rf, "json_schema"));
	const cJSON *out = get(b, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(out), 2);
	const char *sys = gets(cJSON_GetArrayItem(out, 0), "content");
	ck_assert_msg(strncmp(sys, "You are a support agent.\n\n", 26) == 0, "%s", sys);
	/* OpenAI's json_object mode wants the word JSON in the messages. */
	ck_assert_msg(strstr(sys, "JSON object") != NULL, "%s", sys);
	char *shape = jschema_describe(&jschema_triage);
	ck_assert_msg(strstr(sys, shape) != NULL, "%s", sys);
	free(shape);
	ck_assert_msg(strstr(sys, "Markdown") == NULL, "%s", sys);
	/* The caller's array is not changed. */
	ck_assert_str_eq(gets(cJSON_GetArrayItem(msgs, 0), "content"), "You are a support agent.");
	cJSON_Delete(b);
	cJSON_Delete(msgs);
}
END_TEST

START_TEST(request_instruction_mode_and_no_system_message)
{
	struct model_caps caps = caps_full;
	caps.output = WIRE_OUTPUT_INSTRUCTION;
	cJSON *msgs = conversation(0, 0);
	struct wire_request r = {.model = "m", .messages = msgs, .schema = &jschema_triage};
	cJSON *b = body_for(&caps, &r);
	ck_assert_ptr_null(get(b, "response_format"));
	const cJSON *out = get(b, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(out), 2);
	const cJSON *first = cJSON_GetArrayItem(out, 0);
	ck_assert_str_eq(gets(first, "role"), "system");
	const char *sys = gets(first, "content");
	ck_assert_msg(strncmp(sys, "Answer with one JSON object and nothing else", 44) == 0, "%s",
	              sys);
	ck_assert_msg(strstr(sys, "\"intent_category\"") != NULL, "%s", sys);
	ck_assert_msg(strstr(sys, "Markdown") != NULL, "%s", sys);
	ck_assert_str_eq(gets(cJSON_GetArrayItem(out, 1), "role"), "user");
	cJSON_Delete(b);

	/* Without a schema, no mode adds anything. */
	r.schema = NULL;
	b = body_for(&caps, &r);
	ck_assert(cJSON_Compare(get(b, "messages"), msgs, 1));
	ck_assert_ptr_null(get(b, "response_format"));
	cJSON_Delete(b);
	cJSON_Delete(msgs);
}
END_TEST

START_TEST(request_tools_and_tool_choice)
{
	cJSON *msgs = conversation(1, 1);
	struct wire_request r = {.model = "m",
	                         .messages = msgs,
	                         .tools = tools,
	                         .ntools = nitems(tools),
	                         .tool_choice = WIRE_TOOL_CHOICE_REQUIRED};
	cJSON *b = body_for(&caps_full, &r);
	const cJSON *t = get(b, "tools");
	ck_assert_int_eq(cJSON_GetArraySize(t), 2);
	const cJSON *t0 = cJSON_GetArrayItem(t, 0);
	ck_assert_str_eq(gets(t0, "type"), "function");
	ck_assert_str_eq(gets(get(t0, "function"), "name"), "get_order_status");
	ck_assert_str_eq(gets(get(t0, "function"), "description"), "Status of an order");
	const cJSON *params = get(get(t0, "function"), "parameters");
	ck_assert_str_eq(gets(params, "type"), "object");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(get(params, "required"), 0)),
	                 "order_id");
	/* No parameters given: an empty object schema. */
	const cJSON *p1 = get(get(cJSON_GetArrayItem(t, 1), "function"), "parameters");
	ck_assert_str_eq(gets(p1, "type"), "object");
	ck_assert_str_eq(gets(b, "tool_choice"), "required");
	/* The tool history goes as is. */
	ck_assert(cJSON_Compare(get(b, "messages"), msgs, 1));
	const cJSON *call = cJSON_GetArrayItem(get(cJSON_GetArrayItem(msgs, 2), "tool_calls"), 0);
	ck_assert_str_eq(gets(call, "id"), "call_1");
	ck_assert_str_eq(gets(call, "type"), "function");
	ck_assert_str_eq(gets(get(call, "function"), "arguments"), "{\"order_id\":\"A12345\"}");
	ck_assert(cJSON_IsNull(get(cJSON_GetArrayItem(msgs, 2), "content")));
	ck_assert_str_eq(gets(cJSON_GetArrayItem(msgs, 3), "tool_call_id"), "call_1");
	cJSON_Delete(b);

	static const struct {
		enum wire_tool_choice c;
		const char *want;
	} simple[] = {{WIRE_TOOL_CHOICE_AUTO, "auto"}, {WIRE_TOOL_CHOICE_NONE, "none"}};
	for (size_t i = 0; i < nitems(simple); i++) {
		r.tool_choice = simple[i].c;
		b = body_for(&caps_full, &r);
		ck_assert_str_eq(gets(b, "tool_choice"), simple[i].want);
		cJSON_Delete(b);
	}
	r.tool_choice = WIRE_TOOL_CHOICE_DEFAULT;
	b = body_for(&caps_full, &r);
	ck_assert_ptr_null(get(b, "tool_choice"));
	cJSON_Delete(b);
	r.tool_choice = WIRE_TOOL_CHOICE_NAMED;
	r.tool_choice_name = "knowledge_base_search";
	b = body_for(&caps_full, &r);
	ck_assert_str_eq(gets(get(b, "tool_choice"), "type"), "function");
	ck_assert_str_eq(gets(get(get(b, "tool_choice"), "function"), "name"),
	                 "knowledge_base_search");
	cJSON_Delete(b);

	/* Tools but no tool_choice support: tools go, the choice does not. */
	struct model_caps caps = caps_full;
	caps.tool_choice = 0;
	b = body_for(&caps, &r);
	ck_assert_int_eq(cJSON_GetArraySize(get(b, "tools")), 2);
	ck_assert_ptr_null(get(b, "tool_choice"));
	cJSON_Delete(b);
	cJSON_Delete(msgs);
}
END_TEST

START_TEST(request_without_tool_support_rewrites_history)
{
	struct model_caps caps = caps_full;
	caps.tools = 0;
	cJSON *msgs = conversation(1, 1);
	struct wire_request r = {.model = "m",
	                         .messages = msgs,
	                         .tools = tools,
	                         .ntools = nitems(tools),
	                         .tool_choice = WIRE_TOOL_CHOICE_REQUIRED};
	cJSON *b = body_for(&caps, &r);
	ck_assert_ptr_null(get(b, "tools"));
	ck_assert_ptr_null(get(b, "tool_choice"));
	const cJSON *out = get(b, "messages");
	/* system, user, assistant (the call as text), user (result + "Thanks" merged)... */
	const char *roles[] = {"system", "user", "assistant", "user", "assistant", "user"};
	ck_assert_int_eq(cJSON_GetArraySize(out), 6);
	for (int i = 0; i < 6; i++) {
		const cJSON *m = cJSON_GetArrayItem(out, i);
		ck_assert_str_eq(gets(m, "role"), roles[i]);
		ck_assert_ptr_null(get(m, "tool_calls"));
		ck_assert_ptr_null(get(m, "tool_call_id"));
		ck_assert_msg(cJSON_IsString(get(m, "content")), "message %d content", i);
	}
	const char *called = gets(cJSON_GetArrayItem(out, 2), "content");
	ck_assert_str_eq(called,
	                 "[I called the tool get_order_status with {\"order_id\":\"A12345\"}]");
	const char *result = gets(cJSON_GetArrayItem(out, 3), "content");
	ck_assert_str_eq(result, "Result of the tool get_order_status:\n{\"status\":\"shipped\"}");
	cJSON_Delete(b);
	cJSON_Delete(msgs);

	/* Two results in a row join one user message. */
	msgs = cJSON_CreateArray();
	cJSON_AddItemToArray(msgs, wire_msg_user("Q"));
	struct wire_tool_call calls[] = {
	    {(char[]){"a"}, (char[]){"get_order_status"}, (char[]){"{}"}},
	    {(char[]){"b"}, (char[]){"knowledge_base_search"}, (char[]){"{\"q\":\"x\"}"}}};
	cJSON_AddItemToArray(msgs, wire_msg_tool_calls("Let me look.", calls, 2));
	cJSON_AddItemToArray(msgs, wire_msg_tool_result("a", "one"));
	cJSON_AddItemToArray(msgs, wire_msg_tool_result("b", "two"));
	r.messages = msgs;
	b = body_for(&caps, &r);
	out = get(b, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(out), 3);
	ck_assert_str_eq(gets(cJSON_GetArrayItem(out, 1), "content"),
	                 "Let me look.\n[I called the tool get_order_status with {}]\n"
	                 "[I called the tool knowledge_base_search with {\"q\":\"x\"}]");
	ck_assert_str_eq(gets(cJSON_GetArrayItem(out, 2), "content"),
	                 "Result of the tool get_order_status:\none\n\n"
	                 "Result of the tool knowledge_base_search:\ntwo");
	cJSON_Delete(b);
	cJSON_Delete(msgs);
}
END_TEST

/* Every combination of caps: fields appear exactly when the caps allow them. */
START_TEST(request_every_caps_combination)
{
	cJSON *msgs = conversation(1, 1);
	/* 3 outputs x 2^6 switches: tools, tool_choice, temperature, stream_usage,
	 * max-tokens field, stream. */
	int n = 0;
	for (int combo = 0; combo < 3 * 64; combo++) {
		int out = combo / 64, tl = combo & 1, tc = (combo >> 1) & 1,
		    temp = (combo >> 2) & 1, su = (combo >> 3) & 1, mf = (combo >> 4) & 1,
		    stream = (combo >> 5) & 1;
		struct model_caps caps = {.output = (enum wire_output)out,
		                          .tools = tl,
		                          .tool_choice = tc,
		                          .temperature = temp,
		                          .stream_usage = su,
		                          .max_tokens_field = (enum wire_max_tokens_field)mf};
		struct wire_request r = {.model = "m",
		                         .messages = msgs,
		                         .schema = &jschema_triage,
		                         .tools = tools,
		                         .ntools = nitems(tools),
		                         .tool_choice = WIRE_TOOL_CHOICE_AUTO,
		                         .max_tokens = 100,
		                         .set_temperature = 1,
		                         .temperature = 0,
		                         .stream = stream};
		cJSON *b = body_for(&caps, &r);
		const cJSON *rf = get(b, "response_format");
		switch (caps.output) {
		case WIRE_OUTPUT_JSON_SCHEMA:
			ck_assert_str_eq(gets(rf, "type"), "json_schema");
			break;
		case WIRE_OUTPUT_JSON_OBJECT:
			ck_assert_str_eq(gets(rf, "type"), "json_object");
			break;
		case WIRE_OUTPUT_INSTRUCTION:
			ck_assert_ptr_null(rf);
			break;
		}
		ck_assert_int_eq(get(b, "tools") != NULL, tl);
		ck_assert_int_eq(get(b, "tool_choice") != NULL, tl && tc);
		ck_assert_int_eq(get(b, "temperature") != NULL, temp);
		ck_assert_int_eq(get(b, "max_tokens") != NULL, mf == WIRE_MAX_TOKENS);
		ck_assert_int_eq(get(b, "max_completion_tokens") != NULL,
		                 mf == WIRE_MAX_COMPLETION_TOKENS);
		ck_assert_int_eq(get(b, "stream") != NULL, stream);
		ck_assert_int_eq(get(b, "stream_options") != NULL, stream && su);
		if (stream && su)
			ck_assert(cJSON_IsTrue(get(get(b, "stream_options"), "include_usage")));
		/* Tool messages only where tools are understood. */
		int tool_msgs = 0;
		const cJSON *m;
		cJSON_ArrayForEach(m, get(b, "messages"))
		{
			tool_msgs += get(m, "tool_calls") != NULL || get(m, "tool_call_id") != NULL;
		}
		ck_assert_int_eq(tool_msgs > 0, tl);
		/* The schema is described in the system message unless json_schema carries it. */
		const char *sys = gets(cJSON_GetArrayItem(get(b, "messages"), 0), "content");
		ck_assert_int_eq(strstr(sys, "\"intent_confidence\"") != NULL,
		                 caps.output != WIRE_OUTPUT_JSON_SCHEMA);
		cJSON_Delete(b);
		n++;
	}
	ck_assert_int_eq(n, 192);
	cJSON_Delete(msgs);
}
END_TEST

START_TEST(request_presets)
{
	const struct model_caps *c = wire_preset_find("openai");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->output, WIRE_OUTPUT_JSON_SCHEMA);
	ck_assert_int_eq(c->max_tokens_field, WIRE_MAX_COMPLETION_TOKENS);
	c = wire_preset_find("minimal");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->output, WIRE_OUTPUT_INSTRUCTION);
	ck_assert_int_eq(c->tools, 0);
	ck_assert_int_eq(wire_preset_find("ollama")->tool_choice, 0);
	ck_assert_int_eq(wire_preset_find("vllm")->max_tokens_field, WIRE_MAX_TOKENS);
	ck_assert_ptr_nonnull(wire_preset_find("llama.cpp"));
	ck_assert_ptr_nonnull(wire_preset_find("azure"));
	ck_assert_ptr_null(wire_preset_find("OpenAI"));
	ck_assert_str_eq(wire_output_names[WIRE_OUTPUT_JSON_OBJECT], "json_object");
	ck_assert_str_eq(wire_max_tokens_names[WIRE_MAX_COMPLETION_TOKENS],
	                 "max_completion_tokens");
}
END_TEST

START_TEST(request_refuses_bad_input)
{
	cJSON *msgs = conversation(1, 0);
	char *cause = NULL;
	struct wire_request r = {.model = "", .messages = msgs};
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_str_eq(cause, "request: no model");
	free(cause);

	cJSON *notarr = cJSON_CreateObject();
	r = (struct wire_request){.model = "m", .messages = notarr};
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_str_eq(cause, "request: messages must be a non-empty array");
	free(cause);
	cJSON_Delete(notarr);

	cJSON *bad = cJSON_CreateArray();
	cJSON_AddItemToArray(bad, wire_msg_user("x"));
	cJSON_AddItemToArray(bad, cJSON_CreateString("y"));
	r.messages = bad;
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_str_eq(cause, "request: message 1 is not an object with a role");
	free(cause);
	cJSON_Delete(bad);

	r = (struct wire_request){.model = "m",
	                          .messages = msgs,
	                          .schema = &jschema_triage,
	                          .schema_name = "triage result"};
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_msg(strstr(cause, "schema name") != NULL, "%s", cause);
	free(cause);

	struct wire_tool_def badname[] = {{"get order", "x", NULL}};
	r = (struct wire_request){.model = "m", .messages = msgs, .tools = badname, .ntools = 1};
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_msg(strstr(cause, "tool 0: name") != NULL, "%s", cause);
	free(cause);

	struct wire_tool_def badparams[] = {{"t", "x", "{\"type\":"}};
	r.tools = badparams;
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_str_eq(cause, "request: tool t: parameters are not a JSON object");
	free(cause);
	struct wire_tool_def arrparams[] = {{"t", "x", "[]"}};
	r.tools = arrparams;
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_str_eq(cause, "request: tool t: parameters are not a JSON object");
	free(cause);

	r = (struct wire_request){.model = "m",
	                          .messages = msgs,
	                          .tools = tools,
	                          .ntools = nitems(tools),
	                          .tool_choice = WIRE_TOOL_CHOICE_NAMED,
	                          .tool_choice_name = "refund_everything"};
	ck_assert_ptr_null(wire_request_body(&caps_full, &r, &cause));
	ck_assert_str_eq(
	    cause, "request: tool_choice names refund_everything, which is not among the tools");
	free(cause);
	cJSON_Delete(msgs);
}
END_TEST

START_TEST(messages_repair_invalid_utf8)
{
	cJSON *msgs = cJSON_CreateArray();
	cJSON_AddItemToArray(msgs, wire_msg_user("caf\xc3 \xff ok \xe2\x82\xac"));
	struct wire_request r = {.model = "m", .messages = msgs};
	char *cause = NULL;
	char *text = wire_request_body(&caps_full, &r, &cause);
	ck_assert_ptr_nonnull(text);
	/* Every byte of the body is valid UTF-8. */
	size_t len = strlen(text);
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len((const unsigned char *)text + i, len - i);
		ck_assert_msg(k > 0, "invalid UTF-8 at %zu", i);
		i += k;
	}
	cJSON *b = parse(text);
	ck_assert_str_eq(gets(cJSON_GetArrayItem(get(b, "messages"), 0), "content"),
	                 "caf\xef\xbf\xbd \xef\xbf\xbd ok \xe2\x82\xac");
	cJSON_Delete(b);
	free(text);
	cJSON_Delete(msgs);
}
END_TEST

/* ================================================================= replies */

static int
parse_ok(const char *body, struct wire_reply *r)
{
	char *cause = NULL;
	int rc = wire_parse_response(body, strlen(body), r, &cause);
	ck_assert_msg(rc == 0, "%s", cause ? cause : "?");
	return rc;
}

static void
parse_fails(const char *body, const char *want)
{
	struct wire_reply r;
	char *cause = NULL;
	ck_assert_int_eq(wire_parse_response(body, strlen(body), &r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strcmp(cause, want) == 0, "body %s: cause \"%s\", want \"%s\"", body, cause,
	              want);
	ck_assert_ptr_null(r.content);
	ck_assert_uint_eq(r.ncalls, 0);
	wire_reply_free(&r);
	free(cause);
}

START_TEST(response_text_and_usage)
{
	const char *body =
	    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-2024-08-06\","
	    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\","
	    "\"refusal\":null},\"finish_reason\":\"stop\"}],"
	    "\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":3,\"total_tokens\":22,"
	    "\"prompt_tokens_details\":{\"cached_tokens\":8}}}";
	struct wire_reply r;
	parse_ok(body, &r);
	ck_assert_str_eq(r.content, "Hello!");
	ck_assert_ptr_null(r.refusal);
	ck_assert_str_eq(r.finish_reason, "stop");
	ck_assert_str_eq(r.model, "gpt-4o-2024-08-06");
	ck_assert_uint_eq(r.ncalls, 0);
	ck_assert_int_eq(r.usage.present, 1);
	ck_assert_int_eq(r.usage.prompt_tokens, 19);
	ck_assert_int_eq(r.usage.completion_tokens, 3);
	ck_assert_int_eq(r.usage.total_tokens, 22);
	ck_assert_int_eq(r.usage.cached_tokens, 8);
	wire_reply_free(&r);
	ck_assert_ptr_null(r.content);

	/* No usage, no total: sums; a refusal; content as parts. */
	parse_ok("{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
	         "{\"type\":\"text\",\"text\":\"b\"}],\"refusal\":\"I can't\"}}],"
	         "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}",
	         &r);
	ck_assert_str_eq(r.content, "ab");
	ck_assert_str_eq(r.refusal, "I can't");
	ck_assert_ptr_null(r.finish_reason);
	ck_assert_int_eq(r.usage.total_tokens, 12);
	wire_reply_free(&r);
	parse_ok("{\"choices\":[{\"message\":{\"content\":\"x\"}}]}", &r);
	ck_assert_int_eq(r.usage.present, 0);
	wire_reply_free(&r);
}
END_TEST

START_TEST(response_tool_calls)
{
	struct wire_reply r;
	parse_ok("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,"
	         "\"tool_calls\":[{\"id\":\"call_abc\",\"type\":\"function\",\"function\":"
	         "{\"name\":\"get_order_status\",\"arguments\":\"{\\\"order_id\\\":\\\"A1\\\"}\"}},"
	         "{\"type\":\"function\",\"function\":{\"name\":\"knowledge_base_search\","
	         "\"arguments\":{\"q\":\"returns\"}}}]},\"finish_reason\":\"tool_calls\"}]}",
	         &r);
	ck_assert_ptr_null(r.content);
	ck_assert_str_eq(r.finish_reason, "tool_calls");
	ck_assert_uint_eq(r.ncalls, 2);
	ck_assert_str_eq(r.calls[0].id, "call_abc");
	ck_assert_str_eq(r.calls[0].name, "get_order_status");
	ck_assert_str_eq(r.calls[0].arguments, "{\"order_id\":\"A1\"}");
	/* No id: one is made up; arguments as an object: printed. */
	ck_assert_str_eq(r.calls[1].id, "call_1");
	ck_assert_str_eq(r.calls[1].name, "knowledge_base_search");
	ck_assert_str_eq(r.calls[1].arguments, "{\"q\":\"returns\"}");
	wire_reply_free(&r);
}
END_TEST

START_TEST(response_malformed_shapes)
{
	parse_fails("", "empty response body");
	parse_fails(" \r\n ", "empty response body");
	parse_fails("Hello there", "the response is not JSON: Hello there");
	parse_fails("<html><body>\x1b[31mOops</body></html>",
	            "the response is not JSON: <html><body>Oops</body></html>");
	parse_fails("{\"choices\":[]} trailing",
	            "the response is not JSON: {\"choices\":[]} trailing");
	parse_fails("[1,2]", "the response is an array, not a JSON object");
	parse_fails("\"text\"", "the response is a string, not a JSON object");
	parse_fails("{}", "the response has no choices");
	parse_fails("{\"choices\":null}", "the response has no choices");
	parse_fails("{\"choices\":{}}", "choices is an object, not an array");
	parse_fails("{\"choices\":[]}", "choices is empty");
	parse_fails("{\"choices\":[1]}", "choices[0] is a number, not an object");
	parse_fails("{\"choices\":[{\"text\":\"hi\"}]}", "choices[0] has no message");
	parse_fails("{\"choices\":[{\"message\":\"hi\"}]}",
	            "choices[0].message is a string, not an object");
	parse_fails("{\"choices\":[{\"message\":{\"content\":42}}]}",
	            "choices[0].message.content is a number, not a string");
	parse_fails("{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":1}]}",
	            "choices[0].finish_reason is a number, not a string");
	parse_fails("{\"choices\":[{\"message\":{\"tool_calls\":{}}}]}",
	            "choices[0].message.tool_calls is an object, not an array");
	parse_fails("{\"choices\":[{\"message\":{\"tool_calls\":[\"x\"]}}]}",
	            "choices[0].message.tool_calls[0] is a string, not an object");
	parse_fails("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"a\"}]}}]}",
	            "choices[0].message.tool_calls[0] has no function");
	parse_fails("{\"choices\":[{\"message\":{\"tool_calls\":[{\"function\":{\"arguments\":"
	            "\"{}\"}}]}}]}",
	            "choices[0].message.tool_calls[0] has no function name");
	parse_fails("{\"choices\":[{\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"f\","
	            "\"arguments\":3}}]}}]}",
	            "choices[0].message.tool_calls[0].function.arguments is a number");
	parse_fails("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":7,\"function\":{\"name\":"
	            "\"f\"}}]}}]}",
	            "choices[0].message.tool_calls[0].id is a number, not a string");
	parse_fails("{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":\"lots\"}",
	            "usage is a string, not an object");
	parse_fails("{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":"
	            "\"5\"}}",
	            "usage.prompt_tokens is not a token count");
	parse_fails("{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":"
	            "-5}}",
	            "usage.prompt_tokens is not a token count");
	parse_fails(
	    "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}",
	    "the server reported an error: The server had an error (server_error)");
	parse_fails("{\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\","
	            "\"code\":400}",
	            "the server reported an error: bad (BadRequestError, 400)");
}
END_TEST

/* ================================================================== errors */

static void
expect_error(int status, const char *body, const char *want_text, const char *want_code)
{
	static char unset[] = "unset"; /* wire_error_text must replace it */
	char *code = unset;
	char *text = wire_error_text(status, body, body ? strlen(body) : 0, &code);
	ck_assert_msg(strcmp(text, want_text) == 0, "text \"%s\", want \"%s\"", text, want_text);
	if (want_code == NULL)
		ck_assert_msg(code == NULL, "code \"%s\", want none", code);
	else
		ck_assert_msg(code != NULL && strcmp(code, want_code) == 0,
		              "code \"%s\", want \"%s\"", code ? code : "(null)", want_code);
	free(text);
	free(code);
}

START_TEST(error_bodies_every_shape)
{
	/* OpenAI */
	expect_error(401,
	             "{\"error\":{\"message\":\"Incorrect API key provided: "
	             "sk-proj-AbCdEf0123456789xyzXYZ. You can find your API key at "
	             "https://platform.openai.com/account/api-keys.\",\"type\":"
	             "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}",
	             "HTTP 401: Incorrect API key provided: sk-***. You can find your API key at "
	             "https://platform.openai.com/account/api-keys. (invalid_request_error, "
	             "invalid_api_key)",
	             "invalid_api_key");
	expect_error(429,
	             "{\"error\":{\"message\":\"You exceeded your current quota.\",\"type\":"
	             "\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}",
	             "HTTP 429: You exceeded your current quota. (insufficient_quota)",
	             "insufficient_quota");
	/* Azure */
	expect_error(404,
	             "{\"error\":{\"code\":\"DeploymentNotFound\",\"message\":\"The API deployment "
	             "for this resource does not exist.\"}}",
	             "HTTP 404: The API deployment for this resource does not exist. "
	             "(DeploymentNotFound)",
	             "DeploymentNotFound");
	/* vLLM: a numeric code equal to the status says nothing new */
	expect_error(404,
	             "{\"object\":\"error\",\"message\":\"The model `llama` does not exist.\","
	             "\"type\":\"NotFoundError\",\"param\":null,\"code\":404}",
	             "HTTP 404: The model `llama` does not exist. (NotFoundError)",
	             "NotFoundError");
	/* llama.cpp */
	expect_error(503,
	             "{\"error\":{\"code\":503,\"message\":\"Loading model\",\"type\":"
	             "\"unavailable_error\"}}",
	             "HTTP 503: Loading model (unavailable_error)", "unavailable_error");
	/* Ollama */
	expect_error(404, "{\"error\":\"model \\\"llama3\\\" not found, try pulling it first\"}",
	             "HTTP 404: model \"llama3\" not found, try pulling it first", NULL);
	/* FastAPI-based gateways */
	expect_error(404, "{\"detail\":\"Not Found\"}", "HTTP 404: Not Found", NULL);
	expect_error(422,
	             "{\"detail\":[{\"loc\":[\"body\",\"model\"],\"msg\":\"field required\"}]}",
	             "HTTP 422: field required", NULL);
	/* An unknown JSON shape is shown as compact JSON. */
	expect_error(500, "{\"status\": \"broken\"}", "HTTP 500: {\"status\":\"broken\"}", NULL);
	/* HTML from a proxy: its title */
	expect_error(502,
	             "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
	             "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
	             "</body>\r\n</html>\r\n",
	             "HTTP 502: 502 Bad Gateway", NULL);
	expect_error(403, "<!DOCTYPE html><p>Access &amp; <b>denied</b></p>",
	             "HTTP 403: Access & denied", NULL);
	/* Plain text */
	expect_error(503, "upstream connect error or disconnect/reset before headers\n",
	             "HTTP 503: upstream connect error or disconnect/reset before headers", NULL);
	/* Nothing at all */
	expect_error(500, "", "HTTP 500 Internal Server Error (empty body)", NULL);
	expect_error(502, NULL, "HTTP 502 Bad Gateway (empty body)", NULL);
	expect_error(599, "  ", "HTTP 599 (empty body)", NULL);
	expect_error(0, "{\"error\":{\"message\":\"stream broke\"}}", "stream broke", NULL);
	expect_error(0, "", "an error with no message", NULL);
}
END_TEST

START_TEST(error_text_is_neutralised)
{
	/* Escapes in a JSON message: OSC title, colours, a clear screen; newlines folded. */
	expect_error(400,
	             "{\"error\":{\"message\":\"\\u001b]0;pwned\\u0007\\u001b[31mred\\u001b[0m "
	             "text\\r\\n\\u001b[2Jmore\\u0008!\"}}",
	             "HTTP 400: red text more!", NULL);
	/* Raw bytes in a text body: C1 CSI, bidi override, DEL, invalid UTF-8. */
	expect_error(500,
	             "a\xc2\x9b"
	             "31mb \xe2\x80\xae"
	             "cba\x7f \xff end",
	             "HTTP 500: a31mb cba \xef\xbf\xbd end", NULL);
	/* Long messages are cut, marked, and stay valid UTF-8. */
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"error\":\"");
	for (int i = 0; i < 500; i++)
		buf_adds(&b, "\xc3\xa9");
	buf_adds(&b, "\"}");
	char *text = wire_error_text(400, b.data, b.len, NULL);
	size_t len = strlen(text), chars = 0;
	for (size_t i = 0; i < len; chars++) {
		size_t k = utf8_seq_len((const unsigned char *)text + i, len - i);
		ck_assert_uint_gt(k, 0);
		i += k;
	}
	ck_assert_uint_eq(chars, 303);
	ck_assert_str_eq(text + len - 3, "...");
	ck_assert(strncmp(text, "HTTP 400: \xc3\xa9", 12) == 0);
	free(text);
	buf_free(&b);
}
END_TEST

static void
expect_clean(const char *in, const char *want)
{
	char *out = wire_clean_text(in, strlen(in), 0);
	ck_assert_msg(strcmp(out, want) == 0, "clean(\"%s\") = \"%s\", want \"%s\"", in, out, want);
	free(out);
}

START_TEST(clean_text_redacts_credentials)
{
	expect_clean("key sk-abcdefghijklmnopqrstuvwxyz0123 leaked", "key sk-*** leaked");
	expect_clean("sk-ant-api03-AAAAAAAAAAAAAAAA.", "sk-***.");
	expect_clean("Incorrect API key provided: sk-proj-********************1234.",
	             "Incorrect API key provided: sk-***.");
	expect_clean("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature",
	             "Authorization: Bearer ***");
	expect_clean("bearer abcdefgh12345678", "bearer ***");
	expect_clean("api-key: 0123456789abcdef0123", "api-key: ***");
	expect_clean("{\"api_key\": \"abcd1234efgh\"}", "{\"api_key\": \"***\"}");
	expect_clean("https://x.example/v1?key=AbCdEf123&x=1", "https://x.example/v1?key=***&x=1");
	expect_clean("x-api-key=s3cr3t-value", "x-api-key=***");
	expect_clean("password: hunter2hunter2", "password: ***");
	expect_clean("token eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ", "token ***");
	expect_clean("jwt=x eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ", "jwt=x eyJ***");
	expect_clean("gsk_0123456789abcdef hf_abcdefghijklmnop AIzaSyA-1234567890abc",
	             "gsk_*** hf_*** AIza***");
	expect_clean("AKIAIOSFODNN7EXAMPLE", "AKIA***");
	/* Words that only look similar are left alone. */
	expect_clean("max_tokens: 4096 exceeds the limit", "max_tokens: 4096 exceeds the limit");
	expect_clean("task-1234567890 and disk-abcdefghijk",
	             "task-1234567890 and disk-abcdefghijk");
	expect_clean("Basic plan users need a bearer token",
	             "Basic plan users need a bearer token");
	expect_clean("Missing key: model", "Missing key: model");
	expect_clean("This model's maximum context length is 8192 tokens.",
	             "This model's maximum context length is 8192 tokens.");
	expect_clean("sk-short", "sk-short");
	/* An escape sequence or control between a word and a key is still a boundary, */
	expect_clean("key\x1b[0msk-abcdefghijklmnop", "keysk-***");
	expect_clean("ke\xc2\x9bsk-abcdefghijklmnop", "kesk-***");
	/* and one inside a key does not split it. */
	expect_clean("s\x1b[0mk-abcd\x07"
	             "efghijklmnop",
	             "sk-***");
	/* Whitespace folds, ends trimmed. */
	expect_clean("  a \t\n b  ", "a b");
	/* A cut keeps whole characters. */
	char *cut = wire_clean_text("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 2);
	ck_assert_str_eq(cut, "\xc3\xa9\xc3\xa9...");
	free(cut);
	cut = wire_clean_text("abc", 3, 3);
	ck_assert_str_eq(cut, "abc");
	free(cut);
	/* A key is redacted before the cut, so no prefix of it survives. */
	cut = wire_clean_text("sk-abcdefghijklmnop", 19, 10);
	ck_assert_str_eq(cut, "sk-***");
	free(cut);
}
END_TEST

/* =============================================================== streaming */

struct collected {
	struct buf text;
	int calls;
};

static void
on_delta(void *arg, const char *text, size_t len)
{
	struct collected *c = arg;
	ck_assert_uint_gt(len, 0);
	buf_add(&c->text, text, len);
	c->calls++;
}

/* An OpenAI text stream with usage (stream_options.include_usage). */
static const char text_stream[] =
    ": OPENROUTER PROCESSING\n"
    "\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\n"
    "\n"
    "event: message\n"
    "id: 2\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Your order \"},"
    "\"finish_reason\":null}]}\n"
    "\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"has sh\xc3\"},"
    "\"finish_reason\":null}]}\n"
    "\n"
    /* one event over two data lines: joined with a newline, which JSON allows */
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":\n"
    "data: {\"content\":\"\xa9ipped \xe2\x9c\x93\"},\"finish_reason\":null}]}\n"
    "\n"
    "retry: 1000\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n"
    "\n"
    "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":42,\"completion_tokens\":6,"
    "\"total_tokens\":48}}\n"
    "\n"
    "data: [DONE]\n"
    "\n";

/* Two tool calls, interleaved by index, arguments in pieces. */
static const char tool_stream[] =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
    "\"tool_calls\":[{\"index\":0,\"id\":\"call_A\",\"type\":\"function\",\"function\":"
    "{\"name\":\"get_order_status\",\"arguments\":\"\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
    "{\"arguments\":\"{\\\"order\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_B\","
    "\"type\":\"function\",\"function\":{\"name\":\"knowledge_base_search\",\"arguments\":\"\"}}]"
    "}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
    "{\"arguments\":\"_id\\\": \\\"A1\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":"
    "{\"arguments\":\"{\\\"q\\\":\\\"returns\\\"}\"}},{\"index\":0,\"function\":{\"arguments\":"
    "\"\\\"}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: [DONE]\n\n";

/* Text with every LF turned into line ends of the given style (caller frees). */
static char *
with_line_ends(const char *text, const char *eol)
{
	struct buf b;
	buf_init(&b, 0);
	for (const char *p = text; *p; p++)
		if (*p == '\n')
			buf_adds(&b, eol);
		else
			buf_addc(&b, *p);
	char *s = xstrdup(b.data);
	buf_free(&b);
	return s;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Feeds text to a new stream in pieces: whole (step 0), byte by byte
 * (step 1), or random sizes from seed (step -1). Returns finish's rc.
 */
static int
feed(const char *text, size_t len, int step, uint64_t seed, struct wire_reply *out,
     struct collected *col, char **cause)
{
	struct wire_stream *st = wire_stream_new(on_delta, col, 0);
	int rc = 0;
	for (size_t i = 0; i < len && rc == 0;) {
		size_t n = step == 0 ? len : step > 0 ? (size_t)step : 1 + xorshift(&seed) % 17;
		if (n > len - i)
			n = len - i;
		char *piece = xstrndup(text + i, n); /* exact-size copies catch overreads */
		char *fcause = NULL;
		rc = wire_stream_feed(st, piece, n, &fcause);
		free(piece);
		if (rc != 0) {
			free(fcause);
			break;
		}
		i += n;
	}
	rc = wire_stream_finish(st, out, cause);
	wire_stream_free(st);
	return rc;
}

static void
assert_same_reply(const struct wire_reply *a, const struct wire_reply *b)
{
	ck_assert_int_eq(a->content == NULL, b->content == NULL);
	if (a->content)
		ck_assert_str_eq(a->content, b->content);
	ck_assert_int_eq(a->finish_reason == NULL, b->finish_reason == NULL);
	if (a->finish_reason)
		ck_assert_str_eq(a->finish_reason, b->finish_reason);
	ck_assert_uint_eq(a->ncalls, b->ncalls);
	for (size_t i = 0; i < a->ncalls; i++) {
		ck_assert_str_eq(a->calls[i].id, b->calls[i].id);
		ck_assert_str_eq(a->calls[i].name, b->calls[i].name);
		ck_assert_str_eq(a->calls[i].arguments, b->calls[i].arguments);
	}
	ck_assert_int_eq(a->usage.present, b->usage.present);
	ck_assert_int_eq(a->usage.total_tokens, b->usage.total_tokens);
}

START_TEST(stream_text_whole)
{
	struct collected col = {.calls = 0};
	buf_init(&col.text, 0);
	struct wire_reply r;
	char *cause = NULL;
	ck_assert_int_eq(feed(text_stream, strlen(text_stream), 0, 0, &r, &col, &cause), 0);
	ck_assert_str_eq(r.content, "Your order has sh\xc3\xa9ipped \xe2\x9c\x93");
	ck_assert_str_eq(r.finish_reason, "stop");
	ck_assert_str_eq(r.model, "gpt-4o-mini");
	ck_assert_int_eq(r.usage.present, 1);
	ck_assert_int_eq(r.usage.prompt_tokens, 42);
	ck_assert_int_eq(r.usage.completion_tokens, 6);
	ck_assert_int_eq(r.usage.total_tokens, 48);
	ck_assert_uint_eq(r.ncalls, 0);
	/* One callback per non-empty delta, in order; the empty first one is skipped. */
	ck_assert_int_eq(col.calls, 3);
	ck_assert_str_eq(col.text.data, r.content);
	wire_reply_free(&r);
	buf_free(&col.text);
}
END_TEST

START_TEST(stream_tool_calls_merge_by_index)
{
	struct collected col = {.calls = 0};
	buf_init(&col.text, 0);
	struct wire_reply r;
	char *cause = NULL;
	ck_assert_int_eq(feed(tool_stream, strlen(tool_stream), 0, 0, &r, &col, &cause), 0);
	ck_assert_ptr_null(r.content);
	ck_assert_int_eq(col.calls, 0);
	ck_assert_str_eq(r.finish_reason, "tool_calls");
	ck_assert_uint_eq(r.ncalls, 2);
	ck_assert_str_eq(r.calls[0].id, "call_A");
	ck_assert_str_eq(r.calls[0].name, "get_order_status");
	ck_assert_str_eq(r.calls[0].arguments, "{\"order_id\": \"A1\"}");
	ck_assert_str_eq(r.calls[1].id, "call_B");
	ck_assert_str_eq(r.calls[1].name, "knowledge_base_search");
	ck_assert_str_eq(r.calls[1].arguments, "{\"q\":\"returns\"}");
	ck_assert_int_eq(r.usage.present, 0);
	wire_reply_free(&r);
	buf_free(&col.text);
}
END_TEST

/* Byte by byte, in random splits, with LF, CRLF and CR line ends: the same reply. */
START_TEST(stream_any_split_any_line_end)
{
	const char *streams[] = {text_stream, tool_stream};
	const char *eols[] = {"\n", "\r\n", "\r"};
	for (size_t s = 0; s < nitems(streams); s++) {
		struct collected ref_col = {.calls = 0};
		buf_init(&ref_col.text, 0);
		struct wire_reply ref;
		char *cause = NULL;
		ck_assert_int_eq(feed(streams[s], strlen(streams[s]), 0, 0, &ref, &ref_col, &cause),
		                 0);
		for (size_t e = 0; e < nitems(eols); e++) {
			char *text = with_line_ends(streams[s], eols[e]);
			size_t len = strlen(text);
			for (int trial = 0; trial < 60; trial++) {
				struct collected col = {.calls = 0};
				buf_init(&col.text, 0);
				struct wire_reply r;
				int step = trial == 0 ? 1 : trial == 1 ? 0 : -1;
				int rc = feed(text, len, step, 0x9e3779b9u * (uint64_t)(trial + 1),
				              &r, &col, &cause);
				ck_assert_msg(rc == 0, "stream %zu eol %zu trial %d: %s", s, e,
				              trial, cause);
				assert_same_reply(&ref, &r);
				ck_assert_str_eq(col.text.data, ref_col.text.data);
				wire_reply_free(&r);
				buf_free(&col.text);
			}
			free(text);
		}
		wire_reply_free(&ref);
		buf_free(&ref_col.text);
	}
}
END_TEST

static int
feed_all(const char *text, struct wire_reply *r, char **cause)
{
	struct wire_stream *st = wire_stream_new(NULL, NULL, 0);
	char *fc = NULL;
	if (wire_stream_feed(st, text, strlen(text), &fc) != 0)
		free(fc);
	int rc = wire_stream_finish(st, r, cause);
	wire_stream_free(st);
	return rc;
}

static void
stream_fails(const char *text, const char *want)
{
	struct wire_reply r;
	char *cause = NULL;
	ck_assert_int_eq(feed_all(text, &r, &cause), -1);
	ck_assert_msg(cause != NULL && strcmp(cause, want) == 0, "cause \"%s\", want \"%s\"",
	              cause ? cause : "(null)", want);
	free(cause);
	wire_reply_free(&r);
}

START_TEST(stream_truncated)
{
	/* Everything but [DONE]: truncated, with the text that came kept. */
	size_t cut = (size_t)(strstr(text_stream, "data: [DONE]") - text_stream);
	char *head = xstrndup(text_stream, cut);
	struct wire_reply r;
	char *cause = NULL;
	ck_assert_int_eq(feed_all(head, &r, &cause), -1);
	ck_assert_str_eq(cause, "truncated stream: it ended without [DONE]");
	ck_assert_str_eq(r.content, "Your order has sh\xc3\xa9ipped \xe2\x9c\x93");
	ck_assert_str_eq(r.finish_reason, "stop");
	free(cause);
	wire_reply_free(&r);
	free(head);

	/* Cut inside an event, at every byte of it. */
	const char *ev = strstr(text_stream, "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,"
	                                     "\"delta\":{\"content\":\"Your");
	size_t from = (size_t)(ev - text_stream);
	size_t to = (size_t)(strstr(ev, "\n\n") - text_stream) + 1;
	for (size_t at = from + 1; at <= to; at++) {
		head = xstrndup(text_stream, at);
		ck_assert_int_eq(feed_all(head, &r, &cause), -1);
		ck_assert_msg(
		    strcmp(cause, "truncated stream: it ended in the middle of an event") == 0,
		    "cut at %zu: %s", at, cause);
		ck_assert_ptr_null(r.finish_reason);
		free(cause);
		wire_reply_free(&r);
		free(head);
	}
	stream_fails("", "truncated stream: it ended without [DONE]");
	stream_fails(": just a comment\n\n", "truncated stream: it ended without [DONE]");

	/* [DONE] without the blank line after it ends a stream. */
	ck_assert_int_eq(feed_all("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
	                          "data: [DONE]",
	                          &r, &cause),
	                 0);
	ck_assert_str_eq(r.content, "a");
	wire_reply_free(&r);
	ck_assert_int_eq(feed_all("data: [DONE]\n", &r, &cause), 0);
	wire_reply_free(&r);
	/* What follows [DONE] is ignored. */
	ck_assert_int_eq(feed_all("data: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":"
	                          "\"late\"}}]}\n\n",
	                          &r, &cause),
	                 0);
	ck_assert_ptr_null(r.content);
	wire_reply_free(&r);
}
END_TEST

START_TEST(stream_errors)
{
	/* An error object inside the stream is reported at once and sticks. */
	const char *s = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
	                "data: {\"error\":{\"message\":\"Rate limit exceeded, key sk-abcdefghijkl"
	                "mnopqrstu\",\"type\":\"rate_limit\",\"code\":429}}\n\n";
	struct wire_stream *st = wire_stream_new(NULL, NULL, 0);
	char *cause = NULL;
	ck_assert_int_eq(wire_stream_feed(st, s, strlen(s), &cause), -1);
	ck_assert_str_eq(cause, "the server reported an error in the stream: Rate limit exceeded, "
	                        "key sk-*** (rate_limit, 429)");
	free(cause);
	ck_assert_int_eq(wire_stream_feed(st, "data: [DONE]\n\n", 14, &cause), -1);
	free(cause);
	struct wire_reply r;
	ck_assert_int_eq(wire_stream_finish(st, &r, &cause), -1);
	ck_assert_msg(strncmp(cause, "the server reported an error in the stream", 42) == 0, "%s",
	              cause);
	ck_assert_str_eq(r.content, "Hi");
	free(cause);
	wire_reply_free(&r);
	wire_stream_free(st);

	stream_fails("event: error\ndata: {\"message\":\"overloaded\"}\n\n",
	             "the server reported an error in the stream: overloaded");
	stream_fails(
	    "data: {\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\"}\n\n",
	    "the server reported an error in the stream: bad (BadRequestError)");
	stream_fails("data: oops\n\n", "stream: event data is not JSON: oops");
	stream_fails("data: [1]\n\n", "stream: event data is an array, not an object");
	stream_fails("data: {\"choices\":{}}\n\n", "stream: choices is an object, not an array");
	stream_fails("data: {\"choices\":[{\"delta\":{\"content\":5}}]}\n\n",
	             "stream: delta content is a number, not a string");
	stream_fails("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":999}]}}]}\n\n",
	             "stream: tool call index 999 is out of range");
	stream_fails("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
	             "{\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n",
	             "stream: tool call 0 has no name");
	stream_fails("data: {\"choices\":[],\"usage\":{\"total_tokens\":\"many\"}}\n\n",
	             "stream: usage.total_tokens is not a token count");
}
END_TEST

START_TEST(stream_variants)
{
	struct wire_reply r;
	char *cause = NULL;
	/* A BOM, no space after the colon, and "message" instead of "delta". */
	ck_assert_int_eq(feed_all("\xef\xbb\xbf"
	                          "data:{\"choices\":[{\"message\":{\"content\":\"x\"}}]}\n\n"
	                          "data:[DONE]\n\n",
	                          &r, &cause),
	                 0);
	ck_assert_str_eq(r.content, "x");
	wire_reply_free(&r);

	/* Tool calls without index (some servers): told apart by id; the name sent whole each time.
	 */
	ck_assert_int_eq(
	    feed_all(
	        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":"
	        "{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":\"}}]}}]}\n\n"
	        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"f\","
	        "\"arguments\":\"1}\"}}]}}]}\n\n"
	        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":"
	        "{\"name\":\"g\",\"arguments\":{\"y\":2}}}]}}]}\n\n"
	        "data: [DONE]\n\n",
	        &r, &cause),
	    0);
	ck_assert_uint_eq(r.ncalls, 2);
	ck_assert_str_eq(r.calls[0].id, "a");
	ck_assert_str_eq(r.calls[0].name, "f");
	ck_assert_str_eq(r.calls[0].arguments, "{\"x\":1}");
	ck_assert_str_eq(r.calls[1].id, "b");
	ck_assert_str_eq(r.calls[1].name, "g");
	ck_assert_str_eq(r.calls[1].arguments, "{\"y\":2}");
	wire_reply_free(&r);

	/* A name in pieces; a call with no id gets one; choices other than 0 ignored. */
	ck_assert_int_eq(
	    feed_all("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
	             "\"function\":{\"name\":\"get_\"}}]}},{\"index\":1,\"delta\":{\"content\":"
	             "\"other\"}}]}\n\n"
	             "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
	             "\"function\":{\"name\":\"order\"}}]}}]}\n\n"
	             "data: [DONE]\n\n",
	             &r, &cause),
	    0);
	ck_assert_uint_eq(r.ncalls, 1);
	ck_assert_str_eq(r.calls[0].name, "get_order");
	ck_assert_str_eq(r.calls[0].id, "call_0");
	ck_assert_str_eq(r.calls[0].arguments, "{}");
	ck_assert_ptr_null(r.content);
	wire_reply_free(&r);

	/* Calls come out in index order, whatever order they start in. */
	ck_assert_int_eq(
	    feed_all(
	        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"second\","
	        "\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n"
	        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"first\","
	        "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n"
	        "data: [DONE]\n\n",
	        &r, &cause),
	    0);
	ck_assert_uint_eq(r.ncalls, 2);
	ck_assert_str_eq(r.calls[0].id, "first");
	ck_assert_str_eq(r.calls[1].id, "second");
	wire_reply_free(&r);

	/* A server that ignored "stream": a plain JSON body, in pieces. */
	const char *plain = "\n{\"choices\":[{\"message\":{\"content\":\"whole\"},"
	                    "\"finish_reason\":\"stop\"}]}";
	for (int step = 0; step <= 1; step++) {
		struct collected col = {.calls = 0};
		buf_init(&col.text, 0);
		ck_assert_int_eq(feed(plain, strlen(plain), step, 1, &r, &col, &cause), 0);
		ck_assert_str_eq(r.content, "whole");
		ck_assert_str_eq(r.finish_reason, "stop");
		wire_reply_free(&r);
		buf_free(&col.text);
	}
	stream_fails("{\"error\":\"model not loaded\"}",
	             "the server reported an error: model not loaded");
}
END_TEST

START_TEST(stream_memory_is_bounded)
{
	struct wire_stream *st = wire_stream_new(NULL, NULL, 64);
	char *cause = NULL;
	char line[200];
	memset(line, 'a', sizeof line);
	ck_assert_int_eq(wire_stream_feed(st, "data: ", 6, &cause), 0);
	ck_assert_int_eq(wire_stream_feed(st, line, sizeof line, &cause), -1);
	ck_assert_str_eq(cause, "stream: larger than the limit of 64 bytes");
	free(cause);
	wire_stream_free(st);

	/* Content that grows past the limit over many small events. */
	st = wire_stream_new(NULL, NULL, 64);
	const char *ev = "data: {\"choices\":[{\"delta\":{\"content\":\"0123456789\"}}]}\n\n";
	int rc = 0;
	for (int i = 0; i < 10 && rc == 0; i++)
		rc = wire_stream_feed(st, ev, strlen(ev), &cause);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(cause, "stream: larger than the limit of 64 bytes");
	free(cause);
	wire_stream_free(st);
}
END_TEST

/* Cleaned text: valid UTF-8, no C0 controls, no DEL, no C1 controls. */
static void
assert_displayable(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k = utf8_seq_len(p, len - i);
		ck_assert_msg(k > 0, "invalid UTF-8 at %zu in \"%s\"", i, s);
		ck_assert_msg(*p >= 0x20 && *p != 0x7f, "control 0x%02x in \"%s\"", *p, s);
		ck_assert_msg(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "C1 in \"%s\"", s);
		i += k;
	}
}

/*
 * Corrupted streams and bodies: every parser either succeeds or says
 * why, and whatever it hands back for display is displayable. (The
 * sanitizer build checks the memory side.)
 */
START_TEST(parsers_survive_corruption)
{
	static const unsigned char nasty[] = {0x00, 0x1b, '\r', '\n', '"', '{', '}',
	                                      '\\', 0xc2, 0x9b, 0xff, ':', '[', 0xe2};
	const char *inputs[] = {text_stream, tool_stream,
	                        "{\"error\":{\"message\":\"bad key sk-abcdefghijklmnop\","
	                        "\"type\":\"x\",\"code\":\"y\"}}"};
	uint64_t seed = 12345;
	for (int trial = 0; trial < 3000; trial++) {
		const char *src = inputs[trial % nitems(inputs)];
		size_t len = strlen(src);
		char *m = xmalloc(len + 1);
		memcpy(m, src, len + 1);
		int flips = 1 + (int)(xorshift(&seed) % 6);
		for (int f = 0; f < flips; f++)
			m[xorshift(&seed) % len] = (char)nasty[xorshift(&seed) % sizeof nasty];
		/* Also cut it short now and then. */
		size_t n = trial % 5 == 0 ? xorshift(&seed) % (len + 1) : len;

		struct collected col = {.calls = 0};
		buf_init(&col.text, 0);
		struct wire_reply r;
		char *cause = NULL;
		int rc = feed(m, n, -1, seed, &r, &col, &cause);
		ck_assert(rc == 0 || rc == -1);
		ck_assert_int_eq(rc == -1, cause != NULL);
		if (cause != NULL)
			assert_displayable(cause);
		free(cause);
		cause = NULL;
		wire_reply_free(&r);
		buf_free(&col.text);

		if (wire_parse_response(m, n, &r, &cause) == 0) {
			wire_reply_free(&r);
		} else {
			ck_assert_ptr_nonnull(cause);
			ck_assert_ptr_null(r.content);
		}
		free(cause);
		cause = NULL;

		char *code = NULL;
		char *text = wire_error_text(400, m, n, &code);
		assert_displayable(text);
		/* A key that survived the corruption whole must not survive the cleaning. */
		if (memmem(m, n, "sk-abcdefghijklmnop", 19) != NULL)
			ck_assert_msg(strstr(text, "abcdefghijklmnop") == NULL, "key leaked: %s",
			              text);
		if (code != NULL)
			assert_displayable(code);
		free(text);
		free(code);

		char *copy = xstrndup(m, n);
		cJSON *v = wire_extract_json(copy, &cause);
		ck_assert_int_eq(v == NULL, cause != NULL);
		cJSON_Delete(v);
		free(cause);
		cause = NULL;
		free(copy);
		free(m);
	}
}
END_TEST

/* ============================================================ JSON in text */

static void
extract_ok(const char *text, const char *want_json)
{
	char *cause = NULL;
	cJSON *v = wire_extract_json(text, &cause);
	ck_assert_msg(v != NULL, "%s: %s", text, cause);
	cJSON *want = parse(want_json);
	ck_assert_msg(cJSON_Compare(v, want, 1), "%s", text);
	cJSON_Delete(want);
	cJSON_Delete(v);
}

static void
extract_fails(const char *text, const char *want)
{
	char *cause = NULL;
	ck_assert_ptr_null(wire_extract_json(text, &cause));
	ck_assert_msg(cause != NULL && strcmp(cause, want) == 0, "%s: cause \"%s\", want \"%s\"",
	              text, cause ? cause : "(null)", want);
	free(cause);
}

START_TEST(extract_json_from_model_text)
{
	extract_ok("{\"a\":1}", "{\"a\":1}");
	extract_ok("  \n{\"a\":{\"b\":[1,2]}}\n", "{\"a\":{\"b\":[1,2]}}");
	extract_ok("```json\n{\"a\":1}\n```", "{\"a\":1}");
	extract_ok("```JSON\n{\"a\":1}\n```\n", "{\"a\":1}");
	extract_ok("```\n{\"a\":1}\n```", "{\"a\":1}");
	extract_ok("```{\"a\":1}```", "{\"a\":1}");
	extract_ok("Sure! Here is the result:\n\n```json\n{\"a\":\"x } y\"}\n```\nHope it helps {:",
	           "{\"a\":\"x } y\"}");
	extract_ok("Here you go: {\"urgency\":\"high\"} -- let me know.", "{\"urgency\":\"high\"}");
	/* Braces in prose before the object are skipped. */
	extract_ok("Use {placeholders} like {this}. {\"ok\":true}", "{\"ok\":true}");
	/* A fence with something else in it, then the object outside. */
	extract_ok("```python\nprint(1)\n```\n{\"a\":2}", "{\"a\":2}");
	/* Reasoning first, with JSON-looking text of its own. */
	extract_ok("<think>maybe {\"a\":0}? no.</think>\n{\"a\":1}", "{\"a\":1}");
	extract_ok("the template opened it {\"a\":0}</think>{\"a\":1}", "{\"a\":1}");
	/* An unclosed fence: the rest of the text. */
	extract_ok("```json\n{\"a\":1}", "{\"a\":1}");

	extract_fails("", "the reply is empty");
	extract_fails("I cannot help with that.", "the reply contains no JSON object");
	extract_fails("<think>{\"a\":1}", "the reply contains no JSON object");
	extract_fails("[{\"a\":1}]", "the reply is a JSON array, not an object");
	extract_fails("```json\n[1,2]\n```", "the reply is a JSON array, not an object");
	extract_fails("{\"a\":1,\"b\":\"trunc", "the JSON object in the reply is cut off");
	extract_fails("```json\n{\"a\":{\"b\":1}\n```", "the JSON object in the reply is cut off");
	extract_fails("{\"a\":1,,}", "the JSON object in the reply is malformed");
	extract_fails("{a:1}", "the JSON object in the reply is malformed");
}
END_TEST

/* ================================================================== prices */

static const struct price prices[] = {
    {"gpt-4o", 2.50, 10.00, 1.25},
    {"gpt-4o-mini", 0.15, 0.60, 0},
    {"llama*", 0.10, 0.10, 0},
    {"llama-3.1*", 0.20, 0.30, 0},
};

START_TEST(prices_and_cost)
{
	struct wire_usage u = {.present = 1,
	                       .prompt_tokens = 1000,
	                       .completion_tokens = 500,
	                       .total_tokens = 1500,
	                       .cached_tokens = 200};
	int unknown = -1;
	/* 800 * 2.50 + 200 * 1.25 + 500 * 10.00, per million */
	ck_assert_double_eq_tol(wire_cost_usd(prices, nitems(prices), "gpt-4o", &u, &unknown),
	                        0.00725, 1e-12);
	ck_assert_int_eq(unknown, 0);
	/* A dated snapshot takes its model's price, and mini is not 4o. */
	ck_assert_ptr_eq(wire_price_find(prices, nitems(prices), "gpt-4o-2024-08-06"), &prices[0]);
	ck_assert_ptr_eq(wire_price_find(prices, nitems(prices), "gpt-4o-mini-2024-07-18"),
	                 &prices[1]);
	ck_assert_ptr_eq(wire_price_find(prices, nitems(prices), "gpt-4o-mini"), &prices[1]);
	/* No cached price: cached input costs the input price. */
	ck_assert_double_eq_tol(wire_cost_usd(prices, nitems(prices), "gpt-4o-mini", &u, NULL),
	                        (1000 * 0.15 + 500 * 0.60) / 1e6, 1e-12);
	/* Wildcards: the longest wins. */
	ck_assert_ptr_eq(wire_price_find(prices, nitems(prices), "llama-3.1-8b"), &prices[3]);
	ck_assert_ptr_eq(wire_price_find(prices, nitems(prices), "llama-2"), &prices[2]);
	/* Unknown: 0 and the flag. */
	unknown = 0;
	ck_assert_double_eq(wire_cost_usd(prices, nitems(prices), "gpt-4o-audio", &u, &unknown), 0);
	ck_assert_int_eq(unknown, 1);
	ck_assert_ptr_null(wire_price_find(prices, nitems(prices), "gpt-4"));
	ck_assert_ptr_null(wire_price_find(prices, nitems(prices), NULL));
	ck_assert_double_eq(wire_cost_usd(NULL, 0, "gpt-4o", &u, &unknown), 0);
	ck_assert_int_eq(unknown, 1);
	/* Usage not reported: 0, but the model is known. */
	struct wire_usage none = {.present = 0};
	ck_assert_double_eq(wire_cost_usd(prices, nitems(prices), "gpt-4o", &none, &unknown), 0);
	ck_assert_int_eq(unknown, 0);
}
END_TEST

/* ============================================================== embeddings */

START_TEST(embeddings_request_body)
{
	const char *in[] = {"return window", "caf\xc3\xa9 \"quoted\"", "bad \xff byte"};
	char *cause = NULL;
	struct wire_embed_request r = {.model = "text-embedding-3-small", .inputs = in, .n = 3};
	char *body = wire_embeddings_body(&r, &cause);
	ck_assert_ptr_nonnull(body);
	cJSON *o = parse(body);
	ck_assert_str_eq(gets(o, "model"), "text-embedding-3-small");
	const cJSON *a = get(o, "input");
	ck_assert(cJSON_IsArray(a));
	ck_assert_int_eq(cJSON_GetArraySize(a), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(a, 1)->valuestring, "caf\xc3\xa9 \"quoted\"");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 2)->valuestring, "bad \xef\xbf\xbd byte");
	ck_assert_ptr_null(get(o, "dimensions"));
	cJSON_Delete(o);
	free(body);

	/* One input is still an array; dimensions only when asked for. */
	r.n = 1;
	r.dimensions = 256;
	body = wire_embeddings_body(&r, &cause);
	o = parse(body);
	ck_assert(cJSON_IsArray(get(o, "input")));
	ck_assert_int_eq((int)get(o, "dimensions")->valuedouble, 256);
	cJSON_Delete(o);
	free(body);

	const char *empty[] = {"fine", ""};
	struct wire_embed_request bad[] = {
	    {.model = NULL, .inputs = in, .n = 1},
	    {.model = "m", .inputs = in, .n = 0},
	    {.model = "m", .inputs = empty, .n = 2},
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		cause = NULL;
		ck_assert_ptr_null(wire_embeddings_body(&bad[i], &cause));
		ck_assert_ptr_nonnull(cause);
		free(cause);
	}
}
END_TEST

START_TEST(embeddings_response_valid)
{
	struct wire_embeddings e;
	char *cause = NULL;
	/* Out of order by index: rows follow the inputs. */
	const char *body = "{\"object\":\"list\",\"model\":\"emb-1\",\"data\":["
	                   "{\"object\":\"embedding\",\"index\":1,\"embedding\":[0,1,0]},"
	                   "{\"object\":\"embedding\",\"index\":0,\"embedding\":[1,0.5,-2]}],"
	                   "\"usage\":{\"prompt_tokens\":7,\"total_tokens\":7}}";
	ck_assert_msg(wire_parse_embeddings(body, strlen(body), 2, &e, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_uint_eq(e.dim, 3);
	ck_assert(e.v[0] == 1.0f && e.v[1] == 0.5f && e.v[2] == -2.0f);
	ck_assert(e.v[3] == 0.0f && e.v[4] == 1.0f && e.v[5] == 0.0f);
	ck_assert_str_eq(e.model, "emb-1");
	ck_assert(e.usage.present);
	ck_assert_int_eq(e.usage.prompt_tokens, 7);
	wire_embeddings_free(&e);

	/* base64 float32, little-endian: [1.0, -0.5] is 0000803f 000000bf. */
	body = "{\"data\":[{\"embedding\":\"AACAPwAAAL8=\"}]}";
	ck_assert_msg(wire_parse_embeddings(body, strlen(body), 1, &e, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(e.dim, 2);
	ck_assert(e.v[0] == 1.0f && e.v[1] == -0.5f);
	ck_assert(!e.usage.present);
	wire_embeddings_free(&e);
}
END_TEST

START_TEST(embeddings_response_refused)
{
	const struct {
		const char *body;
		size_t n;
		const char *want;
	} cases[] = {
	    {"", 1, "empty"},
	    {"not json", 1, "not JSON"},
	    {"[1,2]", 1, "not a JSON object"},
	    {"{\"error\":{\"message\":\"no such model\"}}", 1, "no such model"},
	    {"{\"object\":\"list\"}", 1, "no data"},
	    {"{\"data\":{}}", 1, "not an array"},
	    {"{\"data\":[{\"embedding\":[1,0]}]}", 2, "1 vectors for 2 inputs"},
	    {"{\"data\":[{\"embedding\":[1,0]},{\"embedding\":[1,0,0]}]}", 2, "where data[0]"},
	    {"{\"data\":[{\"embedding\":[]}]}", 1, "0 values"},
	    {"{\"data\":[{\"embedding\":[0,0,0]}]}", 1, "no length"},
	    {"{\"data\":[{\"embedding\":[1,\"x\"]}]}", 1, "not a finite number"},
	    {"{\"data\":[{\"embedding\":[1,1e400]}]}", 1, "not a finite number"},
	    {"{\"data\":[{\"embedding\":[1,1e39]}]}", 1, "not a finite number"},
	    {"{\"data\":[{\"embedding\":[1,null]}]}", 1, "not a finite number"},
	    {"{\"data\":[{\"embedding\":\"AACAfw==\"}]}", 1, "not a finite number"}, /* +inf */
	    {"{\"data\":[{\"embedding\":\"!!!\"}]}", 1, "not base64"},
	    {"{\"data\":[{\"embedding\":\"AAA=\"}]}", 1, "not base64"},
	    {"{\"data\":[{\"embedding\":true}]}", 1, "not an array of numbers"},
	    {"{\"data\":[{\"index\":0}]}", 1, "no embedding"},
	    {"{\"data\":[3]}", 1, "not an object"},
	    {"{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,\"embedding\":[1]}]}", 2,
	     "two vectors for input 0"},
	    {"{\"data\":[{\"index\":5,\"embedding\":[1]}]}", 1, "not an input's index"},
	    {"{\"data\":[{\"index\":0.5,\"embedding\":[1]}]}", 1, "not an input's index"},
	    {"{\"data\":[{\"embedding\":[1]}],\"usage\":{\"prompt_tokens\":-1}}", 1,
	     "not a token count"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		struct wire_embeddings e;
		char *cause = NULL;
		int rc = wire_parse_embeddings(cases[i].body, strlen(cases[i].body), cases[i].n, &e,
		                               &cause);
		ck_assert_msg(rc == -1, "case %zu accepted", i);
		ck_assert_ptr_null(e.v);
		ck_assert_msg(cause != NULL && strstr(cause, cases[i].want) != NULL,
		              "case %zu: '%s' lacks '%s'", i, cause ? cause : "(null)",
		              cases[i].want);
		free(cause);
	}
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite *s = suite_create("openai-wire");
	TCase *tc = tcase_create("request");
	tcase_add_test(tc, request_json_schema_mode);
	tcase_add_test(tc, request_json_object_mode_describes_the_schema);
	tcase_add_test(tc, request_instruction_mode_and_no_system_message);
	tcase_add_test(tc, request_tools_and_tool_choice);
	tcase_add_test(tc, request_without_tool_support_rewrites_history);
	tcase_add_test(tc, request_every_caps_combination);
	tcase_add_test(tc, request_presets);
	tcase_add_test(tc, request_refuses_bad_input);
	tcase_add_test(tc, messages_repair_invalid_utf8);
	suite_add_tcase(s, tc);
	tc = tcase_create("response");
	tcase_add_test(tc, response_text_and_usage);
	tcase_add_test(tc, response_tool_calls);
	tcase_add_test(tc, response_malformed_shapes);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, error_bodies_every_shape);
	tcase_add_test(tc, error_text_is_neutralised);
	tcase_add_test(tc, clean_text_redacts_credentials);
	suite_add_tcase(s, tc);
	tc = tcase_create("stream");
	tcase_add_test(tc, stream_text_whole);
	tcase_add_test(tc, stream_tool_calls_merge_by_index);
	tcase_add_test(tc, stream_any_split_any_line_end);
	tcase_add_test(tc, stream_truncated);
	tcase_add_test(tc, stream_errors);
	tcase_add_test(tc, stream_variants);
	tcase_add_test(tc, stream_memory_is_bounded);
	tcase_add_test(tc, parsers_survive_corruption);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, extract_json_from_model_text);
	tcase_add_test(tc, prices_and_cost);
	suite_add_tcase(s, tc);
	tc = tcase_create("embeddings");
	tcase_add_test(tc, embeddings_request_body);
	tcase_add_test(tc, embeddings_response_valid);
	tcase_add_test(tc, embeddings_response_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(wire_suite());
}
