/* handoff-model.c -- the handoff agent's judgement from a model, over the offline packet. */
#include "config.h"

#include <stdlib.h>

#include "handoff-model.h"

static const struct jschema js_summary = {
    .type = JSCHEMA_STRING,
    .description = "one sentence: what the customer needs and why a human must take it",
    .min_length = 1,
    .max_length = 300,
};
static const struct jschema js_step = {.type = JSCHEMA_STRING, .min_length = 1, .max_length = 200};
static const struct jschema js_steps = {
    .type = JSCHEMA_ARRAY,
    .description = "the recommended next actions, most important first",
    .items = &js_step,
    .max_items = 3,
};
static const struct jschema js_tone = {
    .type = JSCHEMA_STRING,
    .description = "the customer's mood and how to approach them",
    .min_length = 1,
    .max_length = 200,
};
static const struct jschema_prop js_handoff_props[] = {
    {"summary", &js_summary, 0},
    {"next_steps", &js_steps, 0},
    {"tone", &js_tone, 0},
    {NULL, NULL, 0},
};
const struct jschema jschema_handoff = {
    .type = JSCHEMA_OBJECT,
    .description = "the judgement parts of a handoff packet",
    .props = js_handoff_props,
};

int
handoff_model_start(struct models *m, const cJSON *packet, model_done_fn done, void *arg,
                    char **cause)
{
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(packet, "text"));
	const char *reason =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(packet, "reason"));
	cJSON *msgs = cJSON_CreateArray();
	cJSON_AddItemToArray(msgs, wire_msg_system(models_prompt(m, AGENT_HANDOFF)));
	char *u = xasprintf("Escalation reason: %s\nThe packet so far:\n%s", reason ? reason : "",
	                    text ? text : "");
	cJSON_AddItemToArray(msgs, wire_msg_user(u));
	free(u);
	struct model_req req = {
	    .role = AGENT_HANDOFF,
	    .messages = msgs,
	    .schema = &jschema_handoff,
	    .schema_name = "handoff_judgement",
	};
	return model_call(m, &req, done, arg, cause);
}
