/* review.c -- trainer review: corrections of handoff packets and their export as tickets. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "review.h"
#include "store.h"
#include "types.h"

/* What conversation.c and escalation.c can name as a reason, besides the policy's handlers. */
const char *const review_fixed_reasons[] = {
    "legal-language-detected",
    "customer-requested-human",
    "enterprise-billing-policy",
    "sentiment-degradation",
    "max-turns-reached",
    "low-confidence",
    "low-retrieval-confidence-sensitive-topic",
    "resolution-unavailable",
    "validation-failed",
    "write-refused",
    "triage-route",
    NULL,
};

void
review_reasons(const struct policy *p, struct strv *out)
{
	for (size_t i = 0; review_fixed_reasons[i] != NULL; i++)
		strv_add(out, review_fixed_reasons[i]);
	for (size_t i = 0; p != NULL && i < p->nhandlers; i++) {
		/* escalation.c names a handler's reason after it, '_' as '-'. */
		char *r = xstrdup(p->handlers[i].name);
		for (char *c = r; *c != '\0'; c++)
			if (*c == '_')
				*c = '-';
		if (strv_contains(out, r))
			free(r);
		else
			strv_take(out, r);
	}
}

int
review_reason_known(const struct policy *p, const char *reason)
{
	struct strv v = {0};
	review_reasons(p, &v);
	int known = reason != NULL && strv_contains(&v, reason);
	strv_free(&v);
	return known;
}

static const char *
str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

void
review_packet_derive(struct review_packet *rp)
{
	rp->ai_reason = str(rp->packet, "reason");
	rp->ai_category = NULL;
	const cJSON *cust = cJSON_GetObjectItemCaseSensitive(rp->packet, "customer");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(cust, "messages");
	int turn = cJSON_IsNumber(m) ? m->valueint : 0, seen = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, rp->events)
	{
		const char *kind = str(e, "kind");
		if (kind == NULL || strcmp(kind, "triage") != 0)
			continue;
		const char *c =
		    str(cJSON_GetObjectItemCaseSensitive(e, "payload"), "intent_category");
		if (c == NULL)
			continue;
		/* A handoff at turn N follows the N-th triage; later ones are the human's turns. */
		if (turn <= 0 || seen < turn)
			rp->ai_category = c;
		seen++;
	}
}

int
review_packet_load(struct store *st, int64_t id, struct review_packet *rp, char **cause)
{
	memset(rp, 0, sizeof *rp);
	if (store_handoff_get(st, id, &rp->packet, cause) != 0)
		return -1;
	if (rp->packet == NULL)
		return 1;
	rp->id = id;
	/* The packet does not name its conversation: the list does. */
	cJSON *list = NULL;
	if (store_handoff_list(st, &list, cause) != 0)
		goto fail;
	const cJSON *h;
	cJSON_ArrayForEach(h, list)
	{
		if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "id")) == id)
			rp->conv = (int64_t)cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(h, "conversation"));
	}
	cJSON_Delete(list);
	if (store_conversation_get(st, rp->conv, &rp->conversation, cause) != 0 ||
	    store_messages(st, rp->conv, &rp->messages, cause) != 0 ||
	    store_events(st, rp->conv, &rp->events, cause) != 0)
		goto fail;
	review_packet_derive(rp);
	return 0;
fail:
	review_packet_free(rp);
	return -1;
}

void
review_packet_free(struct review_packet *rp)
{
	cJSON_Delete(rp->packet);
	cJSON_Delete(rp->conversation);
	cJSON_Delete(rp->messages);
	cJSON_Delete(rp->events);
	memset(rp, 0, sizeof *rp);
}

/* "a, b, c" of a NULL-terminated table or a strv. Caller frees. */
static char *
join(const char *const *v, size_t n)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n && v[i] != NULL; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", v[i]);
	char *s = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves an empty buffer behind */
	return s;
}

int
review_edit_check(const struct review_edit *e, const struct policy *p, char **cause)
{
	if (e->category != NULL && names_find(category_names, e->category) < 0) {
		char *v = join(category_names, CAT__N);
		*cause = xasprintf("unknown category '%s' (one of: %s)", e->category, v);
		free(v);
		return -1;
	}
	if (e->reason != NULL && e->no_escalation) {
		*cause = xstrdup("a reason and 'should not have escalated' contradict each other");
		return -1;
	}
	if (e->reason != NULL && !review_reason_known(p, e->reason)) {
		struct strv r = {0};
		review_reasons(p, &r);
		char *v = join((const char *const *)r.v, r.n);
		*cause = xasprintf("unknown escalation reason '%s' (one of: %s)", e->reason, v);
		free(v);
		strv_free(&r);
		return -1;
	}
	for (size_t i = 0; i < e->missing.n; i++)
		if (*e->missing.v[i] == '\0') {
			*cause = xstrdup("missing information cannot be empty");
			return -1;
		}
	return 0;
}

static cJSON *
str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

cJSON *
review_correction(const struct review_packet *rp, const struct review_edit *e)
{
	const char *category = e->category ? e->category : rp->ai_category;
	const char *reason = e->no_escalation ? NULL : e->reason ? e->reason : rp->ai_reason;
	cJSON *o = cJSON_CreateObject(), *wrong = cJSON_CreateArray();
	if (!same(category, rp->ai_category))
		cJSON_AddItemToArray(wrong, cJSON_CreateString("category"));
	if (e->no_escalation)
		cJSON_AddItemToArray(wrong, cJSON_CreateString("escalation"));
	else if (!same(reason, rp->ai_reason))
		cJSON_AddItemToArray(wrong, cJSON_CreateString("reason"));
	if (e->missing.n > 0)
		cJSON_AddItemToArray(wrong, cJSON_CreateString("missing-information"));

	cJSON_AddBoolToObject(o, "ok", cJSON_GetArraySize(wrong) == 0);
	cJSON *ai = cJSON_AddObjectToObject(o, "ai");
	cJSON_AddItemToObject(ai, "category", str_or_null(rp->ai_category));
	cJSON_AddItemToObject(ai, "reason", str_or_null(rp->ai_reason));
	cJSON_AddItemToObject(o, "category", str_or_null(category));
	cJSON_AddBoolToObject(o, "escalated", !e->no_escalation);
	cJSON_AddItemToObject(o, "reason", str_or_null(reason));
	cJSON_AddItemToObject(o, "wrong", wrong);
	cJSON *m = cJSON_AddArrayToObject(o, "missing");
	for (size_t i = 0; i < e->missing.n; i++)
		cJSON_AddItemToArray(m, cJSON_CreateString(e->missing.v[i]));
	cJSON_AddItemToObject(o, "note", str_or_null(e->note && *e->note ? e->note : NULL));
	return o;
}

const cJSON *
review_latest(const cJSON *reviews, int64_t handoff)
{
	const cJSON *r, *found = NULL;
	cJSON_ArrayForEach(r, reviews)
	{
		if ((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "handoff")) ==
		    handoff)
			found = r;
	}
	return found;
}

static cJSON *
dup_or_null(const cJSON *j)
{
	return j ? cJSON_Duplicate(j, 1) : cJSON_CreateNull();
}

/* The ticket's outcome from the conversation's ending (ending.h) and csat events, or NULL. */
static cJSON *
ticket_outcome(const cJSON *events)
{
	const cJSON *e, *ending = NULL, *csat = NULL;
	cJSON_ArrayForEach(e, events)
	{
		const char *kind = str(e, "kind");
		if (kind != NULL && strcmp(kind, "ending") == 0)
			ending = cJSON_GetObjectItemCaseSensitive(e, "payload");
		else if (kind != NULL && strcmp(kind, "csat") == 0)
			csat = cJSON_GetObjectItemCaseSensitive(e, "payload");
	}
	if (ending == NULL && csat == NULL)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (ending != NULL) {
		/* Only a resolution is one: unconfirmed is not, whoever answered. */
		const char *what = str(ending, "ending");
		const char *by = NULL;
		if (what != NULL && strcmp(what, "resolved-agent") == 0)
			by = "agent";
		else if (what != NULL && strcmp(what, "resolved-human") == 0)
			by = "human";
		cJSON_AddBoolToObject(o, "resolved", by != NULL);
		cJSON_AddItemToObject(o, "resolved_by", str_or_null(by));
	}
	const cJSON *score = cJSON_GetObjectItemCaseSensitive(csat, "score");
	if (cJSON_IsNumber(score))
		cJSON_AddNumberToObject(o, "csat", score->valuedouble);
	return o;
}

cJSON *
review_ticket(const struct review_packet *rp, const cJSON *review)
{
	const cJSON *corr = cJSON_GetObjectItemCaseSensitive(review, "correction");
	const cJSON *conv = rp->conversation;
	cJSON *t = cJSON_CreateObject();
	char id[48];
	snprintf(id, sizeof id, "review-%lld", (long long)rp->id);
	cJSON_AddStringToObject(t, "id", id);
	cJSON_AddItemToObject(t, "created_at", str_or_null(str(conv, "created")));
	cJSON_AddStringToObject(t, "channel", "chat");

	cJSON *cust = cJSON_AddObjectToObject(t, "customer");
	const cJSON *pc = cJSON_GetObjectItemCaseSensitive(rp->packet, "customer");
	const char *cid = str(conv, "customer") ? str(conv, "customer") : str(pc, "id");
	cJSON_AddStringToObject(cust, "id", cid ? cid : "unknown");
	if (str(conv, "name") != NULL)
		cJSON_AddStringToObject(cust, "name", str(conv, "name"));
	const char *tier = str(conv, "tier") ? str(conv, "tier") : str(pc, "tier");
	if (tier != NULL && names_find(tier_names, tier) >= 0)
		cJSON_AddStringToObject(cust, "tier", tier);

	cJSON *msgs = cJSON_AddArrayToObject(t, "messages");
	const cJSON *m;
	cJSON_ArrayForEach(m, rp->messages)
	{
		const char *role = str(m, "role"), *text = str(m, "text");
		if (role == NULL || text == NULL ||
		    (strcmp(role, "customer") != 0 && strcmp(role, "human") != 0))
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", role);
		cJSON_AddStringToObject(o, "text", text);
		if (str(m, "at") != NULL)
			cJSON_AddStringToObject(o, "at", str(m, "at"));
		cJSON_AddItemToArray(msgs, o);
	}

	cJSON *labels = cJSON_AddObjectToObject(t, "labels");
	cJSON_AddItemToObject(labels, "intent_category",
	                      dup_or_null(cJSON_GetObjectItemCaseSensitive(corr, "category")));
	cJSON_AddBoolToObject(labels, "escalated",
	                      !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(corr, "escalated")));
	cJSON_AddItemToObject(labels, "escalation_reason",
	                      dup_or_null(cJSON_GetObjectItemCaseSensitive(corr, "reason")));

	cJSON *outcome = ticket_outcome(rp->events);
	if (outcome != NULL)
		cJSON_AddItemToObject(t, "outcome", outcome);
	const cJSON *missing = cJSON_GetObjectItemCaseSensitive(corr, "missing");
	cJSON_AddItemToObject(t, "missing_information",
	                      missing ? cJSON_Duplicate(missing, 1) : cJSON_CreateArray());

	cJSON *r = cJSON_AddObjectToObject(t, "review");
	cJSON_AddNumberToObject(r, "handoff", (double)rp->id);
	cJSON_AddNumberToObject(r, "conversation", (double)rp->conv);
	cJSON_AddItemToObject(r, "reviewer",
	                      dup_or_null(cJSON_GetObjectItemCaseSensitive(review, "reviewer")));
	cJSON_AddItemToObject(r, "reviewed_at",
	                      dup_or_null(cJSON_GetObjectItemCaseSensitive(review, "created")));
	cJSON_AddItemToObject(r, "note",
	                      dup_or_null(cJSON_GetObjectItemCaseSensitive(corr, "note")));
	cJSON_AddItemToObject(r, "ai", dup_or_null(cJSON_GetObjectItemCaseSensitive(corr, "ai")));
	cJSON_AddItemToObject(r, "wrong",
	                      dup_or_null(cJSON_GetObjectItemCaseSensitive(corr, "wrong")));
	return t;
}

static int
by_handoff(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int
review_export(struct store *st, FILE *out, size_t *n, char **cause)
{
	cJSON *reviews = NULL;
	*n = 0;
	if (store_reviews(st, &reviews, cause) != 0)
		return -1;
	size_t cap = (size_t)cJSON_GetArraySize(reviews), k = 0;
	int64_t *ids = xcalloc(cap ? cap : 1, sizeof *ids);
	const cJSON *r;
	cJSON_ArrayForEach(r, reviews)
	{
		int64_t h =
		    (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "handoff"));
		int dup = 0;
		for (size_t i = 0; i < k; i++)
			dup |= ids[i] == h;
		if (!dup)
			ids[k++] = h;
	}
	qsort(ids, k, sizeof *ids, by_handoff);
	int rc = 0;
	for (size_t i = 0; i < k && rc == 0; i++) {
		struct review_packet rp;
		int got = review_packet_load(st, ids[i], &rp, cause);
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 1)
			continue; /* the store refuses reviews of missing packets; gone since? */
		cJSON *t = review_ticket(&rp, review_latest(reviews, ids[i]));
		char *line = cJSON_PrintUnformatted(t);
		if (fprintf(out, "%s\n", line) < 0) {
			*cause = xstrdup("write failed");
			rc = -1;
		} else
			(*n)++;
		free(line);
		cJSON_Delete(t);
		review_packet_free(&rp);
	}
	free(ids);
	cJSON_Delete(reviews);
	return rc;
}
