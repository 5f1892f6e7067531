/* version.c -- the agent version: what the agents are, identified by a content hash. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "model.h"
#include "triage.h"
#include "version.h"

/* The object without "version": what the hash covers. */
static cJSON *
parts(const struct agents *ag)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "policy", ag->policy ? ag->policy->hash : "");
	cJSON_AddStringToObject(o, "engine", PACKAGE_VERSION);
	/* The intent model is data like the policy: a retrained one is a new version. */
	cJSON_AddStringToObject(o, "triage_model",
	                        ag->triage ? classifier_sha256(triage_classifier(ag->triage)) : "");
	cJSON *agents = cJSON_AddObjectToObject(o, "agents");
	for (int r = 0; r < AGENT__N; r++) {
		cJSON *a = cJSON_AddObjectToObject(agents, agent_role_names[r]);
		int on_model = ag->backend[r] == BACKEND_OPENAI && ag->models != NULL;
		cJSON_AddStringToObject(a, "backend", on_model ? "openai" : "offline");
		if (!on_model)
			continue;
		const char *model = models_model(ag->models, (enum agent_role)r);
		const char *prompt = models_prompt(ag->models, (enum agent_role)r);
		char sha[65];
		cJSON_AddStringToObject(a, "model", model ? model : "");
		sha256_hex(prompt ? prompt : "", prompt ? strlen(prompt) : 0, sha);
		cJSON_AddStringToObject(a, "prompt", sha);
	}
	cJSON_AddStringToObject(o, "tools", ag->tools && ag->tools->name ? ag->tools->name : "");
	return o;
}

static void
hash_of(const cJSON *o, char out[13])
{
	char *text = cJSON_PrintUnformatted(o);
	char sha[65];
	sha256_hex(text, strlen(text), sha);
	memcpy(out, sha, 12);
	out[12] = '\0';
	free(text);
}

cJSON *
agents_version_json(const struct agents *ag)
{
	char v[13];
	cJSON *o = parts(ag);
	hash_of(o, v);
	cJSON_AddStringToObject(o, "version", v);
	return o;
}

void
agents_version(const struct agents *ag, char out[13])
{
	cJSON *o = parts(ag);
	hash_of(o, out);
	cJSON_Delete(o);
}
