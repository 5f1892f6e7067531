/* cmd-rollout.c -- frontline rollout status|advance|rollback: the graduated rollout's stages. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "classifier.h"
#include "cmd.h"
#include "metrics.h"
#include "rollout.h"
#include "store.h"
#include "version.h"

/* A refusal: the gate failed, or there is no stage to go to. */
#define EX_REFUSED 1

const char *
cmd_actor(void)
{
	const char *u = getenv("USER");
	return u != NULL && *u != '\0' ? u : "unknown";
}

/* ------------------------------------------------------ live traffic */

/* The stage index of a rollout state under the policy's ladder, or -1 with a warning. */
static int
stage_of(const struct rollout_policy *r, const cJSON *state)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(state, "stage"));
	for (size_t i = 0; name != NULL && i < r->nstages; i++)
		if (strcmp(r->stages[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
ctx_rollout(struct ctx *ctx, struct store *st, const struct agents *current, struct rollout_live *l)
{
	cJSON *ro = NULL, *ca = NULL;
	char *cause = NULL;
	int ex;
	memset(l, 0, sizeof *l);
	l->policy = &current->policy->rollout;
	l->stage = -1;
	l->canary_share = -1;
	if (store_rollout_state(st, "rollout", &ro, &cause) != 0 ||
	    store_rollout_state(st, "canary", &ca, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		cJSON_Delete(ro);
		return EX_IOERR;
	}
	if (ro != NULL && (l->stage = stage_of(l->policy, ro)) < 0) {
		/* The policy's ladder changed under the rollout: the safest stage. */
		fl_warnx("rollout: stage '%s' is not in the policy; using '%s'",
		         cJSON_GetStringValue(cJSON_GetObjectItem(ro, "stage")),
		         l->policy->stages[0].name);
		l->stage = 0;
	}
	cJSON_Delete(ro);
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(ca, "status"));
	if (status == NULL || strcmp(status, "running") != 0) {
		cJSON_Delete(ca);
		return EX_OK;
	}
	const cJSON *cand = cJSON_GetObjectItem(ca, "candidate");
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(cand, "policy"));
	const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(cand, "source"));
	struct diag d = {0};
	struct policy *p =
	    text ? policy_load_text(src ? src : "candidate", text, strlen(text), &d) : NULL;
	diag_free(&d);
	if (p == NULL) {
		fl_warnx("canary: the stored candidate does not load; no canary traffic");
		cJSON_Delete(ca);
		return EX_OK;
	}
	/* A candidate model is loaded from where it was when the canary started, unchanged. */
	const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(cand, "model"));
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(cand, "model_sha256"));
	struct triage *t = ctx_triage(ctx, p, model, &ex);
	if (t == NULL && model == NULL) {
		policy_free(p);
		cJSON_Delete(ca);
		return ex;
	}
	if (t == NULL ||
	    (sha != NULL && strcmp(classifier_sha256(triage_classifier(t)), sha) != 0)) {
		fl_warnx("canary: the candidate model %s %s; no canary traffic", model,
		         t ? "changed since the canary started" : "does not load");
		triage_close(t);
		policy_free(p);
		cJSON_Delete(ca);
		return EX_OK;
	}
	l->candidate = *current;
	l->candidate.policy = l->candidate_policy = p;
	l->candidate.triage = t;
	ctx_freshness(ctx, p, &l->candidate.fresh);
	agents_version(&l->candidate, l->candidate_version);
	l->canary_share = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(ca, "share"));
	cJSON_Delete(ca);
	return EX_OK;
}

void
ctx_rollout_free(struct rollout_live *l)
{
	if (l->candidate_policy == NULL)
		return;
	triage_close(l->candidate.triage);
	policy_free(l->candidate_policy);
	l->candidate_policy = NULL;
	l->candidate.policy = NULL;
}

static void
print_json(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	puts(s);
	free(s);
}

/* ------------------------------------------------------------- gate */

/*
 * The gate out of a stage with no AI traffic (shadow): the newest shadow
 * replay, for the agent version in force. NULL with a message printed.
 */
static cJSON *
shadow_gate_eval(struct ctx *ctx, struct store *st, const struct policy *p, size_t i)
{
	struct agents ag = {0};
	struct tool_backend tb = {0};
	cJSON *run = NULL;
	char *cause = NULL, version[13];
	if (ctx_agents(ctx, NULL, &ag, &tb) != EX_OK) {
		ctx_agents_free(&ag, &tb);
		return NULL;
	}
	agents_version(&ag, version);
	ctx_agents_free(&ag, &tb);
	if (store_replay_run(st, 0, &run, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		return NULL;
	}
	const cJSON *report = cJSON_GetObjectItem(run, "report");
	cJSON *v =
	    rollout_shadow_gate(&p->rollout, i, cJSON_IsObject(report) ? report : NULL, version);
	if (run != NULL)
		cJSON_AddItemToObject(v, "replay", run);
	return v;
}

/*
 * The gate of stage i: out of shadow, the newest shadow replay against
 * the humans' labels; out of a live stage, the store's metrics -- the AI
 * arm's live sessions since the stage began against the human arm's over
 * the same time. NULL with a message printed.
 */
static cJSON *
gate_eval(struct ctx *ctx, struct store *st, const struct policy *p, size_t i, const char *since)
{
	if (p->rollout.stages[i].share == 0)
		return shadow_gate_eval(ctx, st, p, i);
	struct metrics_config mc;
	metrics_config_default(&mc);
	metrics_config_policy(&mc, p);
	char today[16];
	date_format(ctx->today, today);
	mc.today = today;
	struct metrics_filter ai = {.since = since, .source = "live", .arm = "ai"};
	struct metrics_filter human = {.since = since, .source = "live", .arm = "human"};
	cJSON *ra = NULL, *rh = NULL;
	char *cause = NULL;
	if (metrics_report(st, &ai, &mc, &ra, &cause) != 0 ||
	    metrics_report(st, &human, &mc, &rh, &cause) != 0) {
		fl_warnx("metrics: %s", cause);
		free(cause);
		cJSON_Delete(ra);
		return NULL;
	}
	cJSON *v = rollout_gate(&p->rollout, i, ra, rh);
	cJSON_AddItemToObject(v, "ai", ra);
	cJSON_AddItemToObject(v, "human", rh);
	return v;
}

static void
print_gate(const cJSON *v)
{
	const cJSON *c;
	printf("gate to leave %s: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(v, "stage")),
	       cJSON_IsTrue(cJSON_GetObjectItem(v, "passed")) ? "passes" : "fails");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(v, "checks"))
	{
		printf("  [%s] %s\n", cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")) ? "ok" : "FAIL",
		       cJSON_GetStringValue(cJSON_GetObjectItem(c, "detail")));
	}
}

/* The filters of a stage in words ("any conversation" when none). */
static char *
filters_text(const struct rollout_stage *s)
{
	struct {
		unsigned mask;
		const char *const *names;
		int n;
		const char *label;
	} f[] = {
	    {s->complexity, complexity_names, CPLX__N, "complexity"},
	    {s->urgency, urgency_names, URG__N, "urgency"},
	    {s->category, category_names, CAT__N, "categories"},
	    {s->tier, tier_names, TIER__N, "tiers"},
	};
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < nitems(f); i++) {
		if (f[i].mask == 0)
			continue;
		buf_printf(&b, "%s%s ", b.len ? "; " : "", f[i].label);
		int first = 1;
		for (int k = 0; k < f[i].n; k++)
			if (f[i].mask & (1u << k)) {
				buf_printf(&b, "%s%s", first ? "" : ",", f[i].names[k]);
				first = 0;
			}
	}
	if (b.len == 0)
		buf_adds(&b, "any conversation");
	char *text = buf_steal(&b);
	buf_free(&b);
	return text;
}

static cJSON *
stage_json(const struct rollout_stage *s, size_t i)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "index", (double)i);
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddNumberToObject(o, "share", s->share);
	char *f = filters_text(s);
	cJSON_AddStringToObject(o, "eligible", f);
	free(f);
	return o;
}

/* ----------------------------------------------------------- commands */

/* The common start: policy, store, state. Returns -1 to go on, or an exit code. */
static int
open_rollout(struct ctx *ctx, struct policy **p, struct store **st, cJSON **state)
{
	int ex = EX_OK;
	char *cause = NULL;
	if ((*p = ctx_policy(ctx)) == NULL)
		return EX_CONFIG;
	if ((*st = ctx_store(ctx, &ex)) == NULL)
		return ex;
	if (store_rollout_state(*st, "rollout", state, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		store_close(*st);
		return EX_IOERR;
	}
	return -1;
}

static int
cmd_rollout_status(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st;
	cJSON *state;
	int ex = open_rollout(ctx, &p, &st, &state);
	if (ex >= 0)
		return ex;
	const struct rollout_policy *r = &p->rollout;
	cJSON *out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "started", state != NULL);
	int i = state ? stage_of(r, state) : -1;
	if (state != NULL && i < 0) {
		fl_warnx("rollout: stage '%s' is not in the policy; conversations get '%s'",
		         cJSON_GetStringValue(cJSON_GetObjectItem(state, "stage")),
		         r->stages[0].name);
		i = 0;
	}
	const char *since = cJSON_GetStringValue(cJSON_GetObjectItem(state, "since"));
	cJSON_AddItemToObject(out, "stage",
	                      i >= 0 ? stage_json(&r->stages[i], (size_t)i) : cJSON_CreateNull());
	cJSON_AddItemToObject(out, "since", since ? cJSON_CreateString(since) : cJSON_CreateNull());
	size_t next = i < 0 ? 0 : (size_t)i + 1;
	cJSON_AddItemToObject(out, "next",
	                      next < r->nstages ? stage_json(&r->stages[next], next)
	                                        : cJSON_CreateNull());
	cJSON *stages = cJSON_AddArrayToObject(out, "stages");
	for (size_t k = 0; k < r->nstages; k++)
		cJSON_AddItemToArray(stages, stage_json(&r->stages[k], k));
	cJSON *gate = NULL;
	if (i >= 0 && (gate = gate_eval(ctx, st, p, (size_t)i, since)) == NULL) {
		ex = EX_SOFTWARE;
		goto out;
	}
	cJSON_AddItemToObject(out, "gate", gate ? gate : cJSON_CreateNull());
	cJSON *log = NULL;
	char *cause = NULL;
	if (store_rollout_log(st, "rollout", &log, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		ex = EX_IOERR;
		goto out;
	}
	cJSON_AddItemToObject(out, "log", log);
	if (cmd_args_has(a, "json")) {
		print_json(out);
		ex = EX_OK;
		goto out;
	}
	if (i < 0) {
		printf("rollout: not started: every conversation goes to the AI.\n"
		       "'frontline rollout advance' starts it at stage %s (%d%% AI).\n",
		       r->stages[0].name, r->stages[0].share);
	} else {
		const struct rollout_stage *s = &r->stages[i];
		char *f = filters_text(s);
		printf("rollout: stage %d of %zu, %s, since %s\n", i + 1, r->nstages, s->name,
		       since ? since : "?");
		printf("split: AI %d%% of eligible conversations (%s); humans the rest\n", s->share,
		       f);
		free(f);
		if (next < r->nstages)
			printf("next: %s (%d%% AI)\n", r->stages[next].name, r->stages[next].share);
		else
			printf("next: none, this is the last stage\n");
		print_gate(gate);
	}
	ex = EX_OK;
out:
	cJSON_Delete(out);
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

/* Logs the move to stage i; returns an exit code. */
static int
move_to(struct store *st, const struct rollout_policy *r, size_t i, const char *action,
        const char *reason, const cJSON *gate, int json)
{
	char now[64], *cause = NULL;
	store_now(now);
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "stage", r->stages[i].name);
	cJSON_AddNumberToObject(s, "index", (double)i);
	cJSON_AddNumberToObject(s, "share", r->stages[i].share);
	cJSON_AddStringToObject(s, "since", now);
	if (gate != NULL) {
		cJSON_AddBoolToObject(s, "gate_passed",
		                      cJSON_IsTrue(cJSON_GetObjectItem(gate, "passed")));
		cJSON_AddItemToObject(s, "gate_reasons",
		                      cJSON_Duplicate(cJSON_GetObjectItem(gate, "reasons"), 1));
	}
	int rc = store_rollout_add(st, "rollout", action, s, cmd_actor(), reason, &cause);
	if (rc != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		cJSON_Delete(s);
		return EX_IOERR;
	}
	if (json) {
		cJSON_AddStringToObject(s, "action", action);
		cJSON_AddStringToObject(s, "actor", cmd_actor());
		cJSON_AddStringToObject(s, "reason", reason);
		print_json(s);
	} else
		printf(
		    "rollout: %s to stage %s (%d%% AI of eligible conversations); logged for %s: "
		    "%s\n",
		    action, r->stages[i].name, r->stages[i].share, cmd_actor(), reason);
	cJSON_Delete(s);
	return EX_OK;
}

static int
cmd_rollout_advance(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st;
	cJSON *state, *gate = NULL;
	const char *reason = cmd_args_get(a, "reason");
	int json = cmd_args_has(a, "json");
	int ex = open_rollout(ctx, &p, &st, &state);
	if (ex >= 0)
		return ex;
	const struct rollout_policy *r = &p->rollout;
	if (state == NULL) {
		ex = move_to(st, r, 0, "start", reason ? reason : "rollout started", NULL, json);
		goto out;
	}
	int i = stage_of(r, state);
	if (i < 0) {
		fl_warnx("rollout: stage '%s' is not in the policy; 'frontline rollout rollback' "
		         "returns to a stage it has",
		         cJSON_GetStringValue(cJSON_GetObjectItem(state, "stage")));
		ex = EX_CONFIG;
		goto out;
	}
	if ((size_t)i + 1 >= r->nstages) {
		fl_warnx("rollout: already at the last stage, %s", r->stages[i].name);
		ex = EX_REFUSED;
		goto out;
	}
	const char *since = cJSON_GetStringValue(cJSON_GetObjectItem(state, "since"));
	if ((gate = gate_eval(ctx, st, p, (size_t)i, since)) == NULL) {
		ex = EX_SOFTWARE;
		goto out;
	}
	int ok = cJSON_IsTrue(cJSON_GetObjectItem(gate, "passed"));
	if (!ok && !cmd_args_has(a, "force")) {
		if (json)
			print_json(gate);
		fl_warnx("rollout: not advancing from %s to %s: the gate fails:", r->stages[i].name,
		         r->stages[i + 1].name);
		const cJSON *why;
		cJSON_ArrayForEach(why, cJSON_GetObjectItem(gate, "reasons"))
		{
			fprintf(stderr, "  %s\n", why->valuestring);
		}
		fprintf(stderr, "(--force --reason TEXT overrides the gate)\n");
		ex = EX_REFUSED;
		goto out;
	}
	char *why = reason ? xstrdup(reason) : xasprintf("gate passed at %s", r->stages[i].name);
	ex = move_to(st, r, (size_t)i + 1, ok ? "advance" : "advance-forced", why, gate, json);
	free(why);
out:
	cJSON_Delete(gate);
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

static int
cmd_rollout_rollback(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st;
	cJSON *state;
	const char *reason = cmd_args_get(a, "reason");
	int ex = open_rollout(ctx, &p, &st, &state);
	if (ex >= 0)
		return ex;
	const struct rollout_policy *r = &p->rollout;
	int i = state ? stage_of(r, state) : -1;
	if (state == NULL) {
		fl_warnx("rollout: not started: nothing to roll back");
		ex = EX_REFUSED;
	} else if (i == 0) {
		fl_warnx("rollout: already at the first stage, %s", r->stages[0].name);
		ex = EX_REFUSED;
	} else {
		/* A stage the policy no longer has goes back to the first. */
		size_t to = i < 0 ? 0 : (size_t)i - 1;
		ex = move_to(st, r, to, "rollback", reason ? reason : "rolled back", NULL,
		             cmd_args_has(a, "json"));
	}
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

#define ROLLOUT_HELP                                                                               \
	"Exit status: 0 done, 1 refused (the gate fails, or no stage to go to),\n"                 \
	"64 usage, 70 metrics failed, 74 store, 78 policy.\n"

const struct cmd_entry cmd_rollout_status_entry = {
    .name = "rollout",
    .verb = "status",
    .summary = "the rollout's stage, its split and the gate's evaluation from the metrics",
    .options = cmd_json_options,
    .exec = cmd_rollout_status,
    .help = ROLLOUT_HELP,
};

static const struct cmd_option advance_options[] = {
    {.name = "force", .needs = "reason", .help = "advance although the gate fails"},
    CMD_OPTION_REASON,
    {.name = "json", .help = "the result as JSON"},
    {0},
};

const struct cmd_entry cmd_rollout_advance_entry = {
    .name = "rollout",
    .verb = "advance",
    .summary = "go up a stage when its gate passes (the first advance starts the rollout)",
    .options = advance_options,
    .exec = cmd_rollout_advance,
    .help = ROLLOUT_HELP,
};

const struct cmd_entry cmd_rollout_rollback_entry = {
    .name = "rollout",
    .verb = "rollback",
    .summary = "go back one stage",
    .options = cmd_reason_options,
    .exec = cmd_rollout_rollback,
    .help = ROLLOUT_HELP,
};
