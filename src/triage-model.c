/* triage-model.c -- the triage agent on a model backend, with the offline engine as its net. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "triage-model.h"

struct job {
	struct triage_result *out; /* the offline result, overlaid on success */
	const struct policy *policy;
	const char *text;
	enum tier tier;
	triage_model_fn done;
	void *arg;
};

static int
pick(const char *const *names, const cJSON *o, const char *key, int dflt)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	int i = s ? names_find(names, s) : -1;
	return i < 0 ? dflt : i;
}

/* Adds what the model found that the message really contains (no invented order numbers). */
static void
add_present(struct strv *to, const cJSON *arr, const char *text)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		const char *s = cJSON_GetStringValue(e);
		if (s != NULL && *s != '\0' && strstr(text, s) != NULL && !strv_contains(to, s))
			strv_add(to, s);
	}
}

static void
overlay(struct job *j, const cJSON *o)
{
	struct triage_result *t = j->out;
	t->intent_category =
	    (enum category)pick(category_names, o, "intent_category", t->intent_category);
	t->urgency = (enum urgency)pick(urgency_names, o, "urgency", t->urgency);
	t->sentiment = (enum sentiment)pick(sentiment_names, o, "sentiment", t->sentiment);
	t->complexity_signal =
	    (enum complexity)pick(complexity_names, o, "complexity_signal", t->complexity_signal);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "intent_confidence");
	if (cJSON_IsNumber(c))
		t->intent_confidence = c->valuedouble;
	/* Legal language is a hard trigger: the model can add it, never remove it. */
	t->has_legal_language |=
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "has_legal_language"));
	const cJSON *ent = cJSON_GetObjectItemCaseSensitive(o, "entities");
	add_present(&t->entities.order_numbers,
	            cJSON_GetObjectItemCaseSensitive(ent, "order_numbers"), j->text);
	add_present(&t->entities.account_ids, cJSON_GetObjectItemCaseSensitive(ent, "account_ids"),
	            j->text);
	add_present(&t->entities.emails, cJSON_GetObjectItemCaseSensitive(ent, "emails"), j->text);
	add_present(&t->entities.phones, cJSON_GetObjectItemCaseSensitive(ent, "phones"), j->text);
	/* The route is the policy's decision (its routing table), not the model's. */
	t->route = policy_route(j->policy, t->intent_category, t->urgency, t->sentiment,
	                        t->complexity_signal, j->tier, t->has_legal_language);
}

static void
answered(const struct model_result *r, void *arg)
{
	struct job *j = arg;
	if (r->ok)
		overlay(j, r->json);
	j->done(r, j->arg);
	free(j);
}

int
triage_model_start(struct models *m, const struct policy *p, const char *text, enum tier tier,
                   struct triage_result *out, triage_model_fn done, void *arg, char **cause)
{
	struct job *j = xcalloc(1, sizeof *j);
	*j = (struct job){
	    .out = out, .policy = p, .text = text, .tier = tier, .done = done, .arg = arg};
	cJSON *msgs = cJSON_CreateArray();
	cJSON_AddItemToArray(msgs, wire_msg_system(models_prompt(m, AGENT_TRIAGE)));
	char *u = xasprintf("Customer tier: %s\nCustomer message:\n%s", tier_names[tier], text);
	cJSON_AddItemToArray(msgs, wire_msg_user(u));
	free(u);
	struct model_req req = {
	    .role = AGENT_TRIAGE,
	    .messages = msgs,
	    .schema = &jschema_triage,
	    .schema_name = "triage_result",
	};
	if (model_call(m, &req, answered, j, cause) != 0) {
		free(j);
		return -1;
	}
	return 0;
}
