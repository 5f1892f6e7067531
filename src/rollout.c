/* rollout.c -- graduated rollout and canary deploys: assignment, gates, live traffic. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "rollout.h"
#include "triage.h"
#include "version.h"

/* ------------------------------------------------------------ assignment */

static int
bucket_of(const char *salt, const char *suffix, const char *key)
{
	char *text = xasprintf("%s%s\n%s", salt ? salt : "", suffix, key ? key : "");
	char sha[65];
	sha256_hex(text, strlen(text), sha);
	free(text);
	sha[16] = '\0';
	uint64_t v = strtoull(sha, NULL, 16);
	return (int)(v % 100);
}

int
rollout_bucket(const char *salt, const char *key)
{
	return bucket_of(salt, "", key);
}

int
rollout_canary_bucket(const char *salt, const char *key)
{
	return bucket_of(salt, "/canary", key);
}

char *
rollout_key(const char *customer, int64_t conv)
{
	return xasprintf("%s/%" PRId64, customer ? customer : "", conv);
}

static int
admits(unsigned mask, int value)
{
	return mask == 0 || (mask & (1u << value)) != 0;
}

int
rollout_eligible(const struct rollout_stage *s, enum category cat, enum urgency urg,
                 enum complexity cplx, enum tier tier)
{
	return admits(s->category, cat) && admits(s->urgency, urg) && admits(s->complexity, cplx) &&
	       admits(s->tier, tier);
}

void
rollout_assign(const struct rollout_policy *r, int stage, int canary_share, const char *key,
               enum category cat, enum urgency urg, enum complexity cplx, enum tier tier,
               struct rollout_assignment *out)
{
	memset(out, 0, sizeof *out);
	out->bucket = rollout_bucket(r->salt, key);
	out->canary_bucket = rollout_canary_bucket(r->salt, key);
	if (stage >= 0 && (size_t)stage < r->nstages) {
		const struct rollout_stage *s = &r->stages[stage];
		out->stage = s->name;
		out->eligible = rollout_eligible(s, cat, urg, cplx, tier);
		out->ai = out->eligible && out->bucket < s->share;
	} else {
		out->eligible = 1;
		out->ai = 1;
	}
	out->canary = out->ai && canary_share > 0 && out->canary_bucket < canary_share;
}

cJSON *
rollout_assignment_json(const struct rollout_assignment *a, const char *version)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", version ? version : "");
	cJSON_AddStringToObject(o, "arm", a->ai ? "ai" : "human");
	cJSON_AddBoolToObject(o, "canary", a->canary);
	if (a->stage)
		cJSON_AddStringToObject(o, "stage", a->stage);
	else
		cJSON_AddNullToObject(o, "stage");
	cJSON_AddNumberToObject(o, "bucket", a->bucket);
	cJSON_AddBoolToObject(o, "eligible", a->eligible);
	cJSON_AddNumberToObject(o, "canary_bucket", a->canary_bucket);
	return o;
}

/* ------------------------------------------------------------------ gates */

static double
num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

double
rollout_report_csat(const cJSON *report, int *responses)
{
	const cJSON *p;
	double sum = 0;
	int n = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(report, "csat_by_path"))
	{
		int k = (int)num(p, "responses", 0);
		double mean = num(p, "mean", NAN);
		if (k > 0 && !isnan(mean)) {
			sum += mean * k;
			n += k;
		}
	}
	*responses = n;
	return n > 0 ? sum / n : -1;
}

/* A verdict under construction. */
static cJSON *
verdict_new(void)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddBoolToObject(v, "passed", 1);
	cJSON_AddArrayToObject(v, "checks");
	cJSON_AddArrayToObject(v, "reasons");
	return v;
}

static void check(cJSON *v, const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
check(cJSON *v, const char *name, int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *detail = xvasprintf(fmt, ap);
	va_end(ap);
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "check", name);
	cJSON_AddBoolToObject(c, "ok", ok);
	cJSON_AddStringToObject(c, "detail", detail);
	cJSON_AddItemToArray(cJSON_GetObjectItem(v, "checks"), c);
	if (!ok) {
		cJSON_ReplaceItemInObject(v, "passed", cJSON_CreateFalse());
		cJSON_AddItemToArray(cJSON_GetObjectItem(v, "reasons"), cJSON_CreateString(detail));
	}
	free(detail);
}

/* CSAT of one side against the other's, with margin; label names the sides. */
static void
check_csat(cJSON *v, const cJSON *a, const cJSON *b, const char *an, const char *bn,
           int min_responses, double margin)
{
	int ra, rb;
	double ca = rollout_report_csat(a, &ra), cb = rollout_report_csat(b, &rb);
	if (ra < min_responses || rb < min_responses) {
		check(v, "csat", 0,
		      "CSAT: %d response%s on the %s, %d on the %s; each side needs %d to compare",
		      ra, ra == 1 ? "" : "s", an, rb, bn, min_responses);
		return;
	}
	int ok = ca >= cb - margin - 1e-9;
	check(v, "csat", ok, "CSAT %.2f on the %s (%d responses) vs %.2f on the %s (%d): %s", ca,
	      an, ra, cb, bn, rb,
	      ok ? (ca >= cb ? "parity or better" : "within the margin")
	         : "below parity by more than the margin");
	if (!ok) {
		/* The margin in words, appended to the failing detail. */
		cJSON *reasons = cJSON_GetObjectItem(v, "reasons");
		cJSON *last = cJSON_GetArrayItem(reasons, cJSON_GetArraySize(reasons) - 1);
		char *s = xasprintf("%s (%.2f allowed)", last->valuestring, margin);
		cJSON_ReplaceItemInArray(reasons, cJSON_GetArraySize(reasons) - 1,
		                         cJSON_CreateString(s));
		free(s);
	}
}

static void
check_sessions(cJSON *v, const cJSON *report, const char *side, int min)
{
	int n = (int)num(report, "sessions", 0);
	check(v, "sessions", n >= min, "%s: %d session%s, the gate needs %d", side, n,
	      n == 1 ? "" : "s", min);
}

cJSON *
rollout_gate(const struct rollout_policy *r, size_t stage, const cJSON *ai, const cJSON *human)
{
	cJSON *v = verdict_new();
	const struct rollout_stage *s = stage < r->nstages ? &r->stages[stage] : NULL;
	cJSON_AddStringToObject(v, "stage", s ? s->name : "");
	check_sessions(v, ai, "AI arm", r->min_sessions);
	check_sessions(v, human, "human baseline", r->min_sessions);
	check_csat(v, ai, human, "AI arm", "human baseline", r->min_csat_responses, r->csat_margin);

	const cJSON *bycat =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(ai, "escalation"), "by_category");
	for (int c = 0; c < CAT__N; c++) {
		if (s != NULL && s->category != 0 && (s->category & (1u << c)) == 0)
			continue; /* not in the stage's scope */
		const cJSON *e = cJSON_GetObjectItem(bycat, category_names[c]);
		int n = (int)num(e, "sessions", 0);
		if (n == 0)
			continue; /* nothing to judge; the sessions check counts the whole */
		double rate = num(e, "rate", NAN);
		const struct rate_range *rr = &r->escalation[c];
		char name[64];
		snprintf(name, sizeof name, "escalation:%s", category_names[c]);
		int ok = !isnan(rate) && rate >= rr->min - 1e-9 && rate <= rr->max + 1e-9;
		check(v, name, ok,
		      "escalation rate of %s: %.1f%% over %d sessions, %s %.1f%%-%.1f%%",
		      category_names[c], rate * 100, n, ok ? "within" : "outside", rr->min * 100,
		      rr->max * 100);
	}
	return v;
}

/* A replay report's figure at section.key against a floor; *what in words. */
static void
check_floor(cJSON *v, const cJSON *replay, const char *section, const char *key, const char *what,
            double floor)
{
	const cJSON *sec = cJSON_GetObjectItem(replay, section);
	double x = num(sec, key, NAN);
	int n = (int)num(sec, "labelled", 0);
	if (isnan(x)) {
		check(v, key, 0, "shadow %s: unknown (%d labelled tickets)", what, n);
		return;
	}
	int ok = x >= floor - 1e-9;
	check(v, key, ok, "shadow %s: %.1f%% over %d labelled tickets, %s %.1f%%", what, x * 100, n,
	      ok ? "at least" : "below", floor * 100);
}

cJSON *
rollout_shadow_gate(const struct rollout_policy *r, size_t stage, const cJSON *replay,
                    const char *version)
{
	cJSON *v = verdict_new();
	const struct rollout_stage *s = stage < r->nstages ? &r->stages[stage] : NULL;
	cJSON_AddStringToObject(v, "stage", s ? s->name : "");
	if (replay == NULL) {
		check(v, "replay", 0,
		      "no shadow replay in the store: run frontline replay TICKETS.jsonl first");
		return v;
	}
	const char *rv = cJSON_GetStringValue(cJSON_GetObjectItem(replay, "version"));
	int same = rv != NULL && version != NULL && strcmp(rv, version) == 0;
	if (same)
		check(v, "version", 1,
		      "the newest shadow replay ran the agent version in force, %s", rv);
	else
		check(
		    v, "version", 0,
		    "the newest shadow replay ran agent version %s, not %s, the version in force: "
		    "replay again",
		    rv ? rv : "(unknown)", version ? version : "(unknown)");
	int n = (int)num(replay, "tickets", 0);
	check(v, "sessions", n >= r->shadow.min_tickets,
	      "shadow replay: %d ticket%s, the gate needs %d", n, n == 1 ? "" : "s",
	      r->shadow.min_tickets);
	check_floor(v, replay, "triage", "accuracy", "triage accuracy", r->shadow.triage_accuracy);
	check_floor(v, replay, "escalation", "agreement", "escalation agreement",
	            r->shadow.escalation_agreement);
	check_floor(v, replay, "escalation", "recall",
	            "escalation recall (humans' escalations caught)", r->shadow.escalation_recall);
	return v;
}

/* The violation kinds a report counts, as an object {kind:N}. */
static const cJSON *
violations(const cJSON *report)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(report, "quality"), "violations");
}

cJSON *
canary_compare(const struct canary_policy *c, const cJSON *cand, const cJSON *cur, double hours)
{
	cJSON *v = verdict_new();
	check(v, "window", hours >= c->window_hours,
	      "window: %.1f of %.0f hours have passed since the canary started", hours,
	      c->window_hours);
	check_sessions(v, cand, "candidate", c->min_sessions);
	check_sessions(v, cur, "current version", c->min_sessions);
	check_csat(v, cand, cur, "candidate", "current version", c->min_csat_responses,
	           c->csat_margin);

	double ea = num(cJSON_GetObjectItem(cand, "escalation"), "rate", NAN);
	double eb = num(cJSON_GetObjectItem(cur, "escalation"), "rate", NAN);
	if (isnan(ea) || isnan(eb))
		check(v, "escalation", 0, "escalation rate: unknown on the %s",
		      isnan(ea) ? "candidate" : "current version");
	else {
		int ok = ea <= eb + c->escalation_margin + 1e-9;
		check(v, "escalation", ok,
		      "escalation rate %.1f%% on the candidate vs %.1f%% on the current version "
		      "(%s; up to %.1f points more allowed)",
		      ea * 100, eb * 100, ok ? "ok" : "up by too much", c->escalation_margin * 100);
	}

	struct buf fresh;
	buf_init(&fresh, 0);
	int nfresh = 0;
	const cJSON *k;
	cJSON_ArrayForEach(k, violations(cand))
	{
		if (!cJSON_IsNumber(k) || k->valuedouble <= 0)
			continue;
		if (num(violations(cur), k->string, 0) > 0)
			continue;
		buf_printf(&fresh, "%s%s", nfresh++ ? ", " : "", k->string);
	}
	char *list = buf_steal(&fresh);
	buf_free(&fresh);
	if (nfresh == 0)
		check(v, "violations", 1, "violations: no kind the current version does not have");
	else
		check(v, "violations", c->allow_new_violations,
		      "violations: new kind%s on the candidate: %s%s", nfresh == 1 ? "" : "s", list,
		      c->allow_new_violations ? " (allowed by the policy)" : "");
	free(list);
	return v;
}

/* ------------------------------------------------------------ live traffic */

int
rollout_live_active(const struct rollout_live *l)
{
	return l != NULL && (l->stage >= 0 || l->canary_share > 0);
}

cJSON *
rollout_live_assign(const struct rollout_live *l, const struct agents *current,
                    const char *customer, int64_t conv, const char *text, enum tier tier,
                    struct rollout_assignment *a)
{
	struct triage_result t;
	triage_run(current->triage, text, strlen(text), tier, &t);
	char *key = rollout_key(customer, conv);
	rollout_assign(l->policy, l->stage, l->canary_share, key, t.intent_category, t.urgency,
	               t.complexity_signal, tier, a);
	free(key);
	triage_result_free(&t);
	char v[13];
	if (a->canary)
		memcpy(v, l->candidate_version, sizeof v);
	else
		agents_version(current, v);
	return rollout_assignment_json(a, v);
}

void
rollout_live_agents(struct rollout_live *l, const struct agents *current, int ai, int canary,
                    struct agents *out)
{
	*out = *current;
	if (ai && canary && l->candidate.policy != NULL) {
		out->policy = l->candidate.policy;
		out->triage = l->candidate.triage;
		out->fresh = l->candidate.fresh;
	} else if (!ai) {
		l->readonly = *current->policy;
		l->readonly.write_tools_enabled = 0;
		out->policy = &l->readonly;
	}
}

/* Removes the first event of kind from events and returns its payload (caller frees), or NULL. */
static cJSON *
take_event(cJSON *events, const char *kind)
{
	int i = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
		if (k != NULL && strcmp(k, kind) == 0) {
			cJSON *d = cJSON_DetachItemFromArray(events, i);
			cJSON *p = cJSON_DetachItemFromObject(d, "payload");
			cJSON_Delete(d);
			return p;
		}
		i++;
	}
	return NULL;
}

static void
add_event(cJSON *events, const char *kind, cJSON *payload)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "kind", kind);
	cJSON_AddItemToObject(e, "payload", payload);
	/* Before the state event, like the pipeline's own. */
	int n = cJSON_GetArraySize(events);
	cJSON *last = cJSON_GetArrayItem(events, n - 1);
	const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(last, "kind"));
	if (k != NULL && strcmp(k, "state") == 0) {
		cJSON *state = cJSON_DetachItemFromArray(events, n - 1);
		cJSON_AddItemToArray(events, e);
		cJSON_AddItemToArray(events, state);
	} else
		cJSON_AddItemToArray(events, e);
}

void
rollout_divert(cJSON *turn, cJSON *events, const struct conversation *c, const struct triage *tr)
{
	cJSON *shadow = cJSON_CreateObject();
	const char *reply = cJSON_GetStringValue(cJSON_GetObjectItem(turn, "reply"));
	const cJSON *h = cJSON_GetObjectItem(turn, "handoff");
	if (reply == NULL && cJSON_IsObject(h))
		reply = cJSON_GetStringValue(cJSON_GetObjectItem(h, "message_to_customer"));
	cJSON_AddNumberToObject(shadow, "turn", num(turn, "turn", 0));
	if (reply != NULL)
		cJSON_AddStringToObject(shadow, "reply", reply);
	else
		cJSON_AddNullToObject(shadow, "reply");
	/* What the AI would have done stays in the shadow, not in the conversation's record. */
	cJSON *esc = take_event(events, "escalation");
	cJSON_AddItemToObject(shadow, "escalation", esc ? esc : cJSON_CreateNull());
	cJSON_Delete(take_event(events, "handoff"));
	add_event(events, "shadow", shadow);

	const char *customer = cJSON_GetStringValue(cJSON_GetObjectItem(turn, "customer"));
	struct triage_result t;
	triage_run(tr, customer ? customer : "", customer ? strlen(customer) : 0, c->tier, &t);
	const char *queue = t.route == ROUTE_HUMAN_PRIORITY ? route_names[ROUTE_HUMAN_PRIORITY]
	                                                    : route_names[ROUTE_HUMAN_STANDARD];
	cJSON *packet = handoff_build(c, &t, "rollout-human", queue);
	triage_result_free(&t);

	cJSON *ej = cJSON_CreateObject();
	cJSON_AddBoolToObject(ej, "escalate", 1);
	cJSON_AddStringToObject(ej, "reason", "rollout-human");
	cJSON_AddObjectToObject(ej, "signals");
	add_event(events, "escalation", cJSON_Duplicate(ej, 1));
	add_event(events, "handoff", cJSON_Duplicate(packet, 1));
	cJSON_ReplaceItemInObject(turn, "escalation", ej);
	cJSON_ReplaceItemInObject(turn, "reply", cJSON_CreateNull());
	if (cJSON_GetObjectItem(turn, "handoff"))
		cJSON_ReplaceItemInObject(turn, "handoff", packet);
	else
		cJSON_AddItemToObject(turn, "handoff", packet);
}
