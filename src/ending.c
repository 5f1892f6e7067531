/* ending.c -- how a conversation ended: the rule, and the close that stores it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ending.h"
#include "store.h"
#include "util.h"

const char *const ending_names[] = {"resolved-agent", "resolved-human", "abandoned", "unconfirmed",
                                    NULL};

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int
is(const char *s, const char *v)
{
	return s != NULL && strcmp(s, v) == 0;
}

/*
 * What the agent waits for after the last turn, from its "state" payload:
 * "awaiting" (null: nothing) -- or, in states written before it existed,
 * what the turn asked for: "asked", bit 1 the order number, bit 2 the
 * email address. NULL for nothing; borrowed from state, or a static
 * string.
 */
static const char *
awaiting_of(const cJSON *state)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(state, "awaiting");
	if (a != NULL)
		return cJSON_IsString(a) ? a->valuestring : cJSON_IsNull(a) ? NULL : "yes";
	const cJSON *asked = cJSON_GetObjectItemCaseSensitive(state, "asked");
	unsigned bits = cJSON_IsNumber(asked) ? (unsigned)asked->valueint : 0;
	return bits & 1 ? "order_number" : bits & 2 ? "email" : NULL;
}

enum ending
ending_judge(const cJSON *messages, const cJSON *events, const char *handler,
             const struct ending_close *how, cJSON **evidence)
{
	int customer = 0, unanswered = 0, human = 0, takeovers = 0, handoffs = 0;
	int waiting = 0;   /* handed off, and not handed back since */
	int questions = 0; /* turns on something to resolve: not a greeting, not thanks */
	const char *taker = NULL;
	const cJSON *m, *e, *state = NULL;
	cJSON_ArrayForEach(m, messages)
	{
		const char *role = jstr(m, "role");
		if (is(role, "customer")) {
			customer++;
			unanswered++;
		} else if (role != NULL) {
			unanswered = 0;
			human += is(role, "human");
		}
	}
	cJSON_ArrayForEach(e, events)
	{
		const char *kind = jstr(e, "kind");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "payload");
		if (is(kind, "takeover")) {
			if (takeovers++ == 0)
				taker = jstr(p, "by");
		} else if (is(kind, "handoff")) {
			handoffs++;
			waiting = 1;
		} else if (is(kind, "handback"))
			waiting = 0;
		else if (is(kind, "state")) {
			state = p;
			const char *a = jstr(p, "act");
			questions += !is(a, "greeting") && !is(a, "thanks");
		}
	}
	if (handler != NULL)
		waiting = is(handler, "waiting");
	/* The dialogue act of the last answered customer message; "question" when unknown. */
	const char *act = jstr(state, "act") ? jstr(state, "act") : "question";
	const char *awaiting = awaiting_of(state);
	const char *outcome = how ? how->outcome : NULL;

	enum ending end;
	const char *reason;
	if (takeovers > 0 || human > 0) {
		end = ENDING_RESOLVED_HUMAN;
		reason = takeovers > 0 ? "takeover" : "human-reply";
	} else if (customer == 0) {
		end = ENDING_ABANDONED;
		reason = "no-message";
	} else if (is(outcome, "abandoned")) {
		end = ENDING_ABANDONED;
		reason = "supervisor-abandoned";
	} else if (waiting) {
		end = ENDING_ABANDONED;
		reason = "escalated-no-human";
	} else if (unanswered > 0) {
		end = ENDING_ABANDONED;
		reason = "unanswered";
	} else if (is(act, "thanks") && questions > 0) {
		end = ENDING_RESOLVED_AGENT;
		reason = "confirmed";
	} else if (awaiting != NULL) {
		end = ENDING_ABANDONED;
		reason = "awaiting";
	} else {
		/* Thanks for nothing asked confirms nothing: not the agent's resolution. */
		end = ENDING_UNCONFIRMED;
		reason = questions > 0 || !is(act, "thanks") ? "no-confirmation" : "nothing-asked";
	}

	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "closed_by", how && how->closed_by ? how->closed_by : "unknown");
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddNumberToObject(o, "customer_messages", customer);
	cJSON_AddNumberToObject(o, "unanswered", unanswered);
	if (state != NULL)
		cJSON_AddStringToObject(o, "last_act", act);
	else
		cJSON_AddNullToObject(o, "last_act");
	if (awaiting != NULL)
		cJSON_AddStringToObject(o, "awaiting", awaiting);
	else
		cJSON_AddNullToObject(o, "awaiting");
	cJSON_AddNumberToObject(o, "takeovers", takeovers);
	if (taker != NULL)
		cJSON_AddStringToObject(o, "takeover_by", taker);
	cJSON_AddNumberToObject(o, "human_replies", human);
	cJSON_AddNumberToObject(o, "handoffs", handoffs);
	if (outcome != NULL)
		cJSON_AddStringToObject(o, "outcome", outcome);
	if (how != NULL && how->by != NULL)
		cJSON_AddStringToObject(o, "by", how->by);
	if (how != NULL && how->note != NULL && *how->note != '\0')
		cJSON_AddStringToObject(o, "note", how->note);
	*evidence = o;
	return end;
}

/* The newest "at" among rows, or "". */
static const char *
newest(const cJSON *rows)
{
	const char *max = "";
	const cJSON *r;
	cJSON_ArrayForEach(r, rows)
	{
		const char *at = jstr(r, "at");
		if (at != NULL && strcmp(at, max) > 0)
			max = at;
	}
	return max;
}

int
ending_close(struct store *st, int64_t conv, const struct ending_close *how,
             const char *idle_before, cJSON **fact, char **cause)
{
	cJSON *row = NULL, *msgs = NULL, *events = NULL, *evidence = NULL;
	int rc = -1;
	if (fact != NULL)
		*fact = NULL;
	if (store_begin(st, cause) != 0)
		return -1;
	if (store_conversation_lock(st, conv, cause) != 0 ||
	    store_conversation_get(st, conv, &row, cause) != 0)
		goto done;
	if (row == NULL) {
		*cause = xasprintf("no conversation %lld", (long long)conv);
		goto done;
	}
	const char *handler = jstr(row, "handler");
	rc = 1;
	if (!is(jstr(row, "state"), "open"))
		goto done;
	/* Idle: still the AI's, nobody answering it, nothing new since the look. */
	if (idle_before != NULL &&
	    (!is(handler, "ai") || jstr(row, "claimed_by") != NULL ||
	     jstr(row, "created") == NULL || strcmp(jstr(row, "created"), idle_before) >= 0))
		goto done;
	rc = -1;
	if (store_messages(st, conv, &msgs, cause) != 0 ||
	    store_events(st, conv, &events, cause) != 0)
		goto done;
	if (idle_before != NULL &&
	    (strcmp(newest(msgs), idle_before) >= 0 || strcmp(newest(events), idle_before) >= 0)) {
		rc = 1;
		goto done;
	}
	enum ending end = ending_judge(msgs, events, handler, how, &evidence);
	if (store_conversation_end(st, conv, ending_names[end], evidence, cause) != 0 ||
	    store_commit(st, cause) != 0)
		goto done;
	if (fact != NULL) {
		cJSON_AddStringToObject(evidence, "ending", ending_names[end]);
		*fact = evidence;
		evidence = NULL;
	}
	rc = 0;
done:
	if (rc != 0)
		store_rollback(st);
	cJSON_Delete(row);
	cJSON_Delete(msgs);
	cJSON_Delete(events);
	cJSON_Delete(evidence);
	return rc;
}

void
ending_idle_before(int idle_minutes, char out[64])
{
	char now[64];
	struct tm tm = {0};
	store_now(now);
	const char *end = strptime(now, "%Y-%m-%dT%H:%M:%S", &tm);
	time_t t = end != NULL ? timegm(&tm) : time(NULL);
	t -= (time_t)idle_minutes * 60;
	gmtime_r(&t, &tm);
	strftime(out, 64, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* The idle timeout's batch: a pass closes this many at most before it looks again. */
#define IDLE_BATCH 50

int
ending_close_idle(struct store *st, const char *before, int *closed, char **cause)
{
	int n = 0, rc = 0;
	for (;;) {
		cJSON *ids = NULL;
		if (store_conversation_idle(st, before, IDLE_BATCH, &ids, cause) != 0) {
			rc = -1;
			break;
		}
		int got = cJSON_GetArraySize(ids), done = 0;
		const struct ending_close how = {.closed_by = "idle"};
		const cJSON *id;
		cJSON_ArrayForEach(id, ids)
		{
			int r =
			    ending_close(st, (int64_t)id->valuedouble, &how, before, NULL, cause);
			if (r < 0) {
				rc = -1;
				break;
			}
			done += r == 0;
		}
		cJSON_Delete(ids);
		n += done;
		/* A full batch that closed nothing would come back the same: stop. */
		if (rc != 0 || got < IDLE_BATCH || done == 0)
			break;
	}
	if (closed != NULL)
		*closed = n;
	return rc;
}
