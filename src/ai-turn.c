/* ai-turn.c -- one AI turn on a stored conversation: restore, rollout arm, divert, store. */
#include "config.h"

#include <string.h>

#include "ai-turn.h"
#include "conversation.h"
#include "rollout.h"

void
ai_arm_absorb(struct ai_arm *arm, const cJSON *payload)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(payload, "arm"));
	arm->assigned = 1;
	arm->ai = name == NULL || strcmp(name, "human") != 0;
	arm->canary = cJSON_IsTrue(cJSON_GetObjectItem(payload, "canary"));
}

void
ai_turn_restore(struct conversation *c, struct ai_arm *arm, const cJSON *events)
{
	const cJSON *e, *last = NULL;
	cJSON_ArrayForEach(e, events)
	{
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
		if (k == NULL)
			continue;
		if (strcmp(k, "state") == 0)
			last = cJSON_GetObjectItem(e, "payload");
		else if (strcmp(k, "assignment") == 0)
			ai_arm_absorb(arm, cJSON_GetObjectItem(e, "payload"));
	}
	if (last != NULL)
		conversation_restore(c, last);
}

int
ai_turn_prepare(struct store *st, int64_t conv, struct rollout_live *live,
                const struct agents *base, const struct conversation *c, struct ai_arm *arm,
                const char *text, struct agents *use, char **cause)
{
	int rc = 0;
	*use = *base;
	if (live == NULL)
		return 0;
	if (!arm->assigned && c->turn == 0 && rollout_live_active(live)) {
		/* A new conversation's first message: its arm, stored before the turn. */
		struct rollout_assignment a;
		live->policy = &base->policy->rollout;
		cJSON *ev =
		    rollout_live_assign(live, base, c->customer_id, conv, text, c->tier, &a);
		/* Unrecorded, it would not be auditable: the conversation stays on the AI. */
		if (store_event_add(st, conv, "assignment", ev, cause) != 0)
			rc = -1;
		else
			ai_arm_absorb(arm, ev);
		cJSON_Delete(ev);
	}
	if (arm->assigned) {
		struct agents a;
		rollout_live_agents(live, base, arm->ai, arm->canary, &a);
		use->policy = a.policy;
		use->triage = a.triage;
		use->fresh = a.fresh;
	}
	return rc;
}

void
ai_turn_divert(cJSON *turn, cJSON *events, const struct ai_arm *arm, const struct conversation *c,
               const struct triage *t)
{
	if (arm->assigned && !arm->ai &&
	    cJSON_GetNumberValue(cJSON_GetObjectItem(turn, "turn")) == 1)
		rollout_divert(turn, events, c, t);
}

void
ai_turn_withhold(cJSON *turn, cJSON *events)
{
	cJSON_DeleteItemFromObject(turn, "reply");
	cJSON_AddNullToObject(turn, "reply");
	cJSON_DeleteItemFromObject(turn, "handoff");
	cJSON_AddNullToObject(turn, "handoff");
	cJSON *w = cJSON_CreateObject();
	cJSON_AddStringToObject(w, "kind", "withheld");
	cJSON_AddItemToObject(w, "payload", cJSON_CreateString("a human took over"));
	cJSON_AddItemToArray(events, w);
}

const char *
ai_turn_reply(const cJSON *turn)
{
	const char *reply = cJSON_GetStringValue(cJSON_GetObjectItem(turn, "reply"));
	const cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	if (reply == NULL && cJSON_IsObject(h))
		reply = cJSON_GetStringValue(cJSON_GetObjectItem(h, "message_to_customer"));
	return reply;
}

int
ai_turn_store(struct store *st, int64_t conv, const struct ai_claim *claim, cJSON *turn,
              cJSON *events, int *withheld, int64_t *reply_id, char **cause)
{
	int64_t rid = 0;
	if (store_begin(st, cause) != 0)
		return -1;
	if (claim != NULL) {
		const char *handler = NULL;
		int rc = store_claim_finish(st, conv, claim->worker, claim->upto, &handler, cause);
		if (rc != 0) {
			store_rollback(st);
			return rc;
		}
		if (handler == NULL || strcmp(handler, "ai") != 0)
			*withheld = 1;
	}
	if (*withheld)
		ai_turn_withhold(turn, events);
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		if (store_event_add(st, conv, cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")),
		                    cJSON_GetObjectItem(e, "payload"), cause) != 0)
			goto fail;
	}
	const char *reply = ai_turn_reply(turn);
	if (reply != NULL && store_message_add(st, conv, "ai", reply, &rid, cause) != 0)
		goto fail;
	cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	if (cJSON_IsObject(h)) {
		int64_t id;
		if (store_handoff_add(st, conv, h, &id, cause) != 0 ||
		    store_conversation_handler(st, conv, "waiting", NULL, cause) != 0)
			goto fail;
		cJSON_AddNumberToObject(h, "id", (double)id);
	}
	if (store_commit(st, cause) != 0)
		return -1;
	if (reply_id != NULL)
		*reply_id = rid;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

const cJSON *
ai_turn_next(const cJSON *rows)
{
	const cJSON *m, *next = NULL;
	cJSON_ArrayForEach(m, rows)
	{
		const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
		if (role == NULL)
			continue;
		if (strcmp(role, "human") == 0)
			next = NULL;
		else if (strcmp(role, "customer") == 0 && next == NULL)
			next = m;
	}
	return next;
}

int
ai_turn_claimed(struct store *st, const char *worker, const struct store_claim *cl, cJSON **msg,
                char **cause)
{
	cJSON *rows = NULL;
	*msg = NULL;
	if (store_messages_after(st, cl->conv, cl->answered, &rows, cause) != 0)
		return -1;
	const cJSON *m = ai_turn_next(rows);
	if (m != NULL) {
		*msg = cJSON_Duplicate(m, 1);
		cJSON_Delete(rows);
		return 1;
	}
	cJSON_Delete(rows);
	/* A human answered what was pending: the claim ends with nothing to say. */
	const char *handler;
	if (store_begin(st, cause) != 0)
		return -1;
	int rc = store_claim_finish(st, cl->conv, worker, cl->upto, &handler, cause);
	if (rc != 0) {
		store_rollback(st);
		return rc < 0 ? -1 : 0;
	}
	return store_commit(st, cause) == 0 ? 0 : -1;
}
