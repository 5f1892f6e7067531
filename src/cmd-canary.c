/* cmd-canary.c -- frontline canary start|status|promote|rollback: a candidate version's trial. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "classifier.h"
#include "cmd.h"
#include "metrics.h"
#include "paths.h"
#include "rollout.h"
#include "store.h"
#include "version.h"

/* A refusal: the comparison fails, or there is no canary to act on. */
#define EX_REFUSED 1

static void
print_json(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	puts(s);
	free(s);
}

/* The canary's state; *running says whether it runs. Returns -1 to go on, or an exit code. */
static int
open_canary(struct ctx *ctx, struct policy **p, struct store **st, cJSON **state, int *running)
{
	int ex = EX_OK;
	char *cause = NULL;
	if ((*p = ctx_policy(ctx)) == NULL)
		return EX_CONFIG;
	if ((*st = ctx_store(ctx, &ex)) == NULL)
		return ex;
	if (store_rollout_state(*st, "canary", state, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		store_close(*st);
		return EX_IOERR;
	}
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(*state, "status"));
	*running = s != NULL && strcmp(s, "running") == 0;
	return -1;
}

static const char *
field(const cJSON *state, const char *obj, const char *key)
{
	const cJSON *o = obj ? cJSON_GetObjectItem(state, obj) : state;
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
}

/* Logs a change of the canary with state s (taken); returns an exit code. */
static int
log_change(struct store *st, const char *action, cJSON *s, const char *reason)
{
	char *cause = NULL;
	int rc = store_rollout_add(st, "canary", action, s, cmd_actor(), reason, &cause);
	cJSON_Delete(s);
	if (rc != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		return EX_IOERR;
	}
	return EX_OK;
}

/* What a canary's candidate changes, for a line of text: "policy V from F, model SHA from M". */
static char *
describe(const cJSON *state)
{
	const cJSON *cand = cJSON_GetObjectItem(state, "candidate");
	const char *cur = field(state, "current", "policy_hash");
	const char *sha = field(state, "candidate", "model_sha256");
	int policy =
	    cur == NULL || strcmp(cur, field(state, "candidate", "policy_hash") ?: "") != 0;
	struct buf b;
	buf_init(&b, 0);
	if (policy)
		buf_printf(&b, "policy %s from %s", field(state, "candidate", "policy_version"),
		           field(state, "candidate", "source"));
	if (sha != NULL)
		buf_printf(&b, "%smodel %.12s from %s", policy ? ", " : "", sha,
		           cJSON_GetStringValue(cJSON_GetObjectItem(cand, "model")));
	char *str = buf_steal(&b);
	buf_free(&b);
	return str;
}

/* A state as shown: without the candidate policy's text. */
static void
print_state(const cJSON *s)
{
	cJSON *shown = cJSON_Duplicate(s, 1);
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(shown, "candidate"), "policy");
	print_json(shown);
	cJSON_Delete(shown);
}

/*
 * The candidate policy from source, validated like policy check: every
 * problem printed, then NULL and *ex set. *text gets the file's text
 * (caller frees, also on failure).
 */
static struct policy *
load_candidate(const char *source, char **text, int *ex)
{
	char *cause = NULL;
	size_t len;
	if ((*text = file_read(source, 4u << 20, &len, &cause)) == NULL) {
		fl_warnx("canary: %s: %s", source, cause);
		free(cause);
		*ex = EX_NOINPUT;
		return NULL;
	}
	struct diag d = {0};
	struct policy *cand = policy_load_text(source, *text, len, &d);
	for (size_t j = 0; j < d.msgs.n; j++)
		fprintf(stderr, "%s\n", d.msgs.v[j]);
	if (cand == NULL) {
		fprintf(stderr, "%s: %d error%s; the canary was not started\n", source, d.errors,
		        d.errors == 1 ? "" : "s");
		*ex = EX_CONFIG;
	}
	diag_free(&d);
	return cand;
}

/* The versions a canary compares. */
struct canary_sides {
	const struct policy *cur, *cand;
	const char *vcur, *vcand, *cur_sha, *cand_sha;
	const char *source, *text, *model, *in_use;
};

/* The running canary's state (caller deletes). */
static cJSON *
canary_state(const struct canary_sides *v, int share)
{
	char now[64];
	store_now(now);
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "status", "running");
	cJSON_AddNumberToObject(s, "share", share);
	cJSON_AddStringToObject(s, "started", now);
	cJSON *c = cJSON_AddObjectToObject(s, "candidate");
	cJSON_AddStringToObject(c, "version", v->vcand);
	cJSON_AddStringToObject(c, "policy_version", v->cand->version);
	cJSON_AddStringToObject(c, "policy_hash", v->cand->hash);
	cJSON_AddStringToObject(c, "source", v->source);
	cJSON_AddStringToObject(c, "policy", v->text);
	if (v->model != NULL) {
		cJSON_AddStringToObject(c, "model", v->model);
		cJSON_AddStringToObject(c, "model_sha256", v->cand_sha);
	}
	c = cJSON_AddObjectToObject(s, "current");
	cJSON_AddStringToObject(c, "version", v->vcur);
	cJSON_AddStringToObject(c, "policy_version", v->cur->version);
	cJSON_AddStringToObject(c, "policy_hash", v->cur->hash);
	cJSON_AddStringToObject(c, "model", v->in_use);
	cJSON_AddStringToObject(c, "model_sha256", v->cur_sha);
	return s;
}

static int
cmd_canary_start(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st = NULL;
	cJSON *state = NULL;
	struct agents ag = {0};
	struct tool_backend tb = {0};
	const char *reason = cmd_args_get(a, "reason");
	int running, json = cmd_args_has(a, "json");
	/* A policy file, a triage model, or one of each: told apart by the model's magic. */
	const char *file = NULL, *model = NULL;
	for (int i = 0; i < a->argc; i++) {
		const char **slot = classifier_is_model_file(a->argv[i]) ? &model : &file;
		if (*slot != NULL) {
			fl_warnx("canary: one candidate policy and one candidate model at most");
			return EX_USAGE;
		}
		*slot = a->argv[i];
	}
	int ex = open_canary(ctx, &p, &st, &state, &running);
	if (ex >= 0)
		return ex;
	struct policy *cand = NULL;
	struct triage *cand_triage = NULL;
	char *text = NULL, *model_abs = NULL, *in_use = NULL;
	const char *source = file ? file : ctx->policy_path;
	if (running) {
		fl_warnx("canary: version %s is already running; promote or roll it back first",
		         field(state, "candidate", "version"));
		ex = EX_REFUSED;
		goto out;
	}
	/* A model alone runs with the policy in force as it is now. */
	if ((cand = load_candidate(source, &text, &ex)) == NULL)
		goto out;
	/* The agents the sessions will carry, current and candidate, and their versions. */
	if ((ex = ctx_agents(ctx, NULL, &ag, &tb)) != EX_OK)
		goto out;
	const char *cur_sha = classifier_sha256(triage_classifier(ag.triage));
	if (model != NULL) {
		if ((cand_triage = ctx_triage(ctx, cand, model, &ex)) == NULL)
			goto out;
		/* Every process that runs the canary loads it from here. */
		if ((model_abs = realpath(model, NULL)) == NULL)
			model_abs = xstrdup(model);
	}
	const char *cand_sha =
	    cand_triage ? classifier_sha256(triage_classifier(cand_triage)) : cur_sha;
	if (strcmp(cand->hash, p->hash) == 0 && strcmp(cand_sha, cur_sha) == 0) {
		if (model != NULL)
			fl_warnx("canary: %s is the model in use%s: nothing to try", model,
			         file ? " and the policy is the one in force" : "");
		else
			fl_warnx("canary: %s is the policy in force (version %s): nothing to try",
			         file, p->version);
		ex = EX_REFUSED;
		goto out;
	}
	char vcur[13], vcand[13];
	agents_version(&ag, vcur);
	struct agents try = ag;
	try.policy = cand;
	if (cand_triage != NULL)
		try.triage = cand_triage;
	agents_version(&try, vcand);
	int share = (int)cmd_args_number(a, "share", p->canary.share);
	in_use = paths_triage_model(ctx->datadir, NULL, NULL);
	struct canary_sides sides = {p,        cand,   vcur, vcand,     cur_sha,
	                             cand_sha, source, text, model_abs, in_use};
	cJSON *s = canary_state(&sides, share);
	if (json)
		print_state(s);
	char *what = describe(s);
	if ((ex = log_change(st, "start", s, reason ? reason : "canary started")) == EX_OK && !json)
		printf("canary: version %s (%s) takes %d%% of eligible AI conversations; current "
		       "version %s\n",
		       vcand, what, share, vcur);
	free(what);
out:
	triage_close(cand_triage);
	ctx_agents_free(&ag, &tb);
	policy_free(cand);
	free(text);
	free(model_abs);
	free(in_use);
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

/* Hours from an ISO-8601 time of the store's clock to now. */
static double
hours_since(const char *iso)
{
	struct tm tm = {0};
	char now[64];
	struct tm tn = {0};
	store_now(now);
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL ||
	    strptime(now, "%Y-%m-%dT%H:%M:%S", &tn) == NULL)
		return 0;
	return difftime(timegm(&tn), timegm(&tm)) / 3600.0;
}

/*
 * The candidate against the current version over the window: live
 * sessions since the canary started, each side by its agent version:
 * the candidate's canary sessions against the current version's AI-arm
 * sessions (its human arm, which carries the same version, is not the
 * AI's doing). NULL with a message printed.
 */
static cJSON *
compare(struct ctx *ctx, struct store *st, const struct policy *p, const cJSON *state)
{
	struct metrics_config mc;
	metrics_config_default(&mc);
	metrics_config_policy(&mc, p);
	char today[16];
	date_format(ctx->today, today);
	mc.today = today;
	const char *since = field(state, NULL, "started");
	struct metrics_filter fc = {.since = since,
	                            .source = "live",
	                            .version = field(state, "candidate", "version"),
	                            .arm = "canary"};
	struct metrics_filter fk = {.since = since,
	                            .source = "live",
	                            .version = field(state, "current", "version"),
	                            .arm = "ai"};
	cJSON *rc = NULL, *rk = NULL;
	char *cause = NULL;
	if (metrics_report(st, &fc, &mc, &rc, &cause) != 0 ||
	    metrics_report(st, &fk, &mc, &rk, &cause) != 0) {
		fl_warnx("metrics: %s", cause);
		free(cause);
		cJSON_Delete(rc);
		return NULL;
	}
	cJSON *v = canary_compare(&p->canary, rc, rk, hours_since(since));
	cJSON_AddItemToObject(v, "candidate", rc);
	cJSON_AddItemToObject(v, "current", rk);
	return v;
}

static void
print_comparison(const cJSON *v)
{
	const cJSON *c;
	printf("comparison: %s\n", cJSON_IsTrue(cJSON_GetObjectItem(v, "passed"))
	                               ? "the candidate may be promoted"
	                               : "the candidate may not be promoted");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(v, "checks"))
	{
		printf("  [%s] %s\n", cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")) ? "ok" : "FAIL",
		       cJSON_GetStringValue(cJSON_GetObjectItem(c, "detail")));
	}
}

static int
cmd_canary_status(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st;
	cJSON *state, *v = NULL;
	int running, ex = open_canary(ctx, &p, &st, &state, &running);
	if (ex >= 0)
		return ex;
	if (running && (v = compare(ctx, st, p, state)) == NULL) {
		ex = EX_SOFTWARE;
		goto out;
	}
	ex = EX_OK;
	if (cmd_args_has(a, "json")) {
		cJSON *out = state ? cJSON_Duplicate(state, 1) : cJSON_CreateObject();
		cJSON_DeleteItemFromObject(cJSON_GetObjectItem(out, "candidate"), "policy");
		if (state == NULL)
			cJSON_AddStringToObject(out, "status", "none");
		cJSON_AddItemToObject(out, "comparison", v ? v : cJSON_CreateNull());
		v = NULL;
		print_json(out);
		cJSON_Delete(out);
		goto out;
	}
	if (!running) {
		printf("canary: none running%s%s\n", state ? "; the last one was " : "",
		       state ? field(state, NULL, "status") : "");
		goto out;
	}
	char *what = describe(state);
	printf("canary: version %s (%s), %d%% of eligible AI conversations, started %s (%.1f "
	       "hours ago)\n",
	       field(state, "candidate", "version"), what,
	       (int)cJSON_GetNumberValue(cJSON_GetObjectItem(state, "share")),
	       field(state, NULL, "started"), hours_since(field(state, NULL, "started")));
	free(what);
	printf("current: version %s (policy %s)\n", field(state, "current", "version"),
	       field(state, "current", "policy_version"));
	print_comparison(v);
out:
	cJSON_Delete(v);
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

/* The state after a promote or rollback: the started one with a new status and the policy text
 * kept. */
static cJSON *
ended(const cJSON *state, const char *status)
{
	char now[64];
	store_now(now);
	cJSON *s = cJSON_Duplicate(state, 1);
	cJSON_ReplaceItemInObject(s, "status", cJSON_CreateString(status));
	cJSON_AddStringToObject(s, "ended", now);
	return s;
}

/*
 * The candidate model of the canary in state, when it tried one: *cand
 * loaded (it must be the one the canary tried), *target where it goes
 * (where the model in use comes from, bar the installed one: that is the
 * package's) and *moved when the model in use changed since the canary
 * started (*in_use_path names it). Caller frees all three. Returns -1 to
 * go on, or an exit code.
 */
static int
candidate_model(struct ctx *ctx, const cJSON *state, struct classifier **cand, char **target,
                int *moved, char **in_use_path)
{
	const char *model = field(state, "candidate", "model");
	const char *was = field(state, "current", "model_sha256");
	char *cause = NULL, *dir = NULL;
	if (model == NULL)
		return -1;
	if ((*cand = classifier_load(model, &cause)) == NULL ||
	    strcmp(classifier_sha256(*cand), field(state, "candidate", "model_sha256") ?: "") !=
	        0) {
		fl_warnx("canary: not promoting: the candidate model %s is not the one the canary "
		         "tried (%s)",
		         model, cause ? cause : "it changed since");
		free(cause);
		return EX_REFUSED;
	}
	const char *env = getenv("FRONTLINE_MODEL");
	if (env != NULL && *env != '\0')
		*target = xstrdup(env);
	else if ((dir = paths_data_home()) == NULL || (*target = paths_trained_model()) == NULL) {
		fl_warnx("canary: no HOME or XDG_DATA_HOME to put the model in");
		free(dir);
		return EX_CANTCREAT;
	}
	free(dir);
	int no_model;
	struct classifier *in_use = ctx_intent_model(ctx, NULL, in_use_path, NULL, &no_model);
	*moved = was != NULL && strcmp(in_use ? classifier_sha256(in_use) : "", was) != 0;
	classifier_free(in_use);
	return -1;
}

/* Why the canary in state is not promoted, on standard error. */
static void
print_refusal(const struct ctx *ctx, const struct policy *p, const cJSON *state, const cJSON *v,
              int moved, const char *model_path)
{
	if (moved)
		fl_warnx("canary: not promoting: %s changed since the canary started (version %s, "
		         "was %.12s); its edit would be lost",
		         ctx->policy_path, p->version, field(state, "current", "policy_hash"));
	if (model_path != NULL)
		fl_warnx("canary: not promoting: the model in use %s changed since the canary "
		         "started (was %.12s)",
		         model_path, field(state, "current", "model_sha256"));
	if (!cJSON_IsTrue(cJSON_GetObjectItem(v, "passed"))) {
		fl_warnx("canary: not promoting version %s: the comparison fails:",
		         field(state, "candidate", "version"));
		const cJSON *why;
		cJSON_ArrayForEach(why, cJSON_GetObjectItem(v, "reasons"))
		{
			fprintf(stderr, "  %s\n", why->valuestring);
		}
	}
	fprintf(stderr, "(--force --reason TEXT overrides; 'frontline canary rollback' drops the "
	                "candidate)\n");
}

/*
 * Writes what the canary in state tried where the current version is
 * read from: the model cand to target, the candidate policy to the
 * policy file (only when the canary changed it: a model's canary ran on
 * the policy as it was, and writing that back would undo edits). Notes
 * both in s and in *said. Returns an exit code.
 */
static int
write_promoted(const struct ctx *ctx, const cJSON *state, struct classifier *cand,
               const char *target, cJSON *s, struct buf *said)
{
	char *cause = NULL;
	if (cand != NULL) {
		if (classifier_save(cand, target, &cause) != 0) {
			fl_warnx("canary: cannot write the model: %s", cause);
			free(cause);
			return EX_CANTCREAT;
		}
		cJSON_AddStringToObject(s, "model_file", target);
		buf_printf(said,
		           "%s now holds model %.12s (a running frontline loads it when restarted)",
		           target, classifier_sha256(cand));
	}
	if (strcmp(field(state, "current", "policy_hash") ?: "",
	           field(state, "candidate", "policy_hash") ?: "") != 0) {
		const char *text = field(state, "candidate", "policy");
		if (file_write_atomic(ctx->policy_path, text, strlen(text), 0644, &cause) != 0) {
			fl_warnx("canary: cannot write the policy: %s", cause);
			free(cause);
			return EX_CANTCREAT;
		}
		cJSON_AddStringToObject(s, "policy_file", ctx->policy_path);
		buf_printf(said, "%s%s now holds policy %s", said->len ? "; " : "",
		           ctx->policy_path, field(state, "candidate", "policy_version"));
	}
	return EX_OK;
}

static int
cmd_canary_promote(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st;
	cJSON *state, *v = NULL;
	char *target = NULL, *model_path = NULL;
	struct classifier *cand = NULL;
	const char *reason = cmd_args_get(a, "reason");
	int json = cmd_args_has(a, "json"), model_moved = 0;
	int running, ex = open_canary(ctx, &p, &st, &state, &running);
	if (ex >= 0)
		return ex;
	if (!running) {
		fl_warnx("canary: none running: nothing to promote");
		ex = EX_REFUSED;
		goto out;
	}
	if ((v = compare(ctx, st, p, state)) == NULL) {
		ex = EX_SOFTWARE;
		goto out;
	}
	int ok = cJSON_IsTrue(cJSON_GetObjectItem(v, "passed"));
	const char *was = field(state, "current", "policy_hash");
	int moved = was != NULL && strcmp(was, p->hash) != 0;
	if ((ex = candidate_model(ctx, state, &cand, &target, &model_moved, &model_path)) >= 0)
		goto out;
	if ((!ok || moved || model_moved) && !cmd_args_has(a, "force")) {
		if (json)
			print_json(v);
		print_refusal(ctx, p, state, v, moved, model_moved ? model_path : NULL);
		ex = EX_REFUSED;
		goto out;
	}
	cJSON *s = ended(state, "promoted");
	struct buf said;
	buf_init(&said, 0);
	if ((ex = write_promoted(ctx, state, cand, target, s, &said)) != EX_OK) {
		cJSON_Delete(s);
		buf_free(&said);
		goto out;
	}
	cJSON_AddBoolToObject(s, "comparison_passed", ok);
	cJSON_AddItemToObject(s, "reasons", cJSON_Duplicate(cJSON_GetObjectItem(v, "reasons"), 1));
	char *why = reason ? xstrdup(reason) : xasprintf("comparison passed; %s", said.data);
	if (json)
		print_state(s);
	ex = log_change(st, ok ? "promote" : "promote-forced", s, why);
	free(why);
	if (ex == EX_OK && !json)
		printf("canary: promoted version %s: %s\n", field(state, "candidate", "version"),
		       said.data);
	buf_free(&said);
out:
	classifier_free(cand);
	free(model_path);
	free(target);
	cJSON_Delete(v);
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

static int
cmd_canary_rollback(struct ctx *ctx, const struct cmd_args *a)
{
	struct policy *p;
	struct store *st;
	cJSON *state;
	const char *reason = cmd_args_get(a, "reason");
	int json = cmd_args_has(a, "json");
	int running, ex = open_canary(ctx, &p, &st, &state, &running);
	if (ex >= 0)
		return ex;
	if (!running) {
		fl_warnx("canary: none running: nothing to roll back");
		ex = EX_REFUSED;
	} else {
		cJSON *s = ended(state, "rolled-back");
		if (json)
			print_state(s);
		ex = log_change(st, "rollback", s, reason ? reason : "rolled back");
		if (ex == EX_OK && !json)
			printf("canary: rolled back version %s; every AI conversation runs on %s\n",
			       field(state, "candidate", "version"),
			       field(state, "current", "version"));
	}
	cJSON_Delete(state);
	store_close(st);
	return ex;
}

#define CANARY_HELP                                                                                \
	"Exit status: 0 done, 1 refused (a comparison fails, or no canary to act on),\n"           \
	"64 usage, 66 no candidate file, 70 metrics failed, 74 store, 78 invalid policy.\n"

static const struct cmd_option start_options[] = {
    {.name = "share",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = 50,
     .help = "percent of eligible AI conversations (default: the policy's canary.share, 5)"},
    CMD_OPTION_REASON,
    {.name = "json", .help = "the result as JSON"},
    {0},
};

const struct cmd_entry cmd_canary_start_entry = {
    .name = "canary",
    .verb = "start",
    .summary = "try a candidate policy, triage model, or both on a share of the eligible AI "
               "conversations",
    .options = start_options,
    .operands = "CANDIDATE...",
    .min_operands = 1,
    .max_operands = 2,
    .operand_value = CMD_FILE,
    .exec = cmd_canary_start,
    .help = "CANDIDATE is a policy file, a triage model, or one of each.\n" CANARY_HELP,
};

const struct cmd_entry cmd_canary_status_entry = {
    .name = "canary",
    .verb = "status",
    .summary = "the candidate against the current version on the same metrics",
    .options = cmd_json_options,
    .exec = cmd_canary_status,
    .help = CANARY_HELP,
};

static const struct cmd_option promote_options[] = {
    {.name = "force", .needs = "reason", .help = "promote although the comparison fails"},
    CMD_OPTION_REASON,
    {.name = "json", .help = "the result as JSON"},
    {0},
};

const struct cmd_entry cmd_canary_promote_entry = {
    .name = "canary",
    .verb = "promote",
    .summary = "make the candidate the policy file, when the comparison holds",
    .options = promote_options,
    .exec = cmd_canary_promote,
    .help = CANARY_HELP,
};

const struct cmd_entry cmd_canary_rollback_entry = {
    .name = "canary",
    .verb = "rollback",
    .summary = "drop the candidate: every AI conversation runs on the current version",
    .options = cmd_reason_options,
    .exec = cmd_canary_rollback,
    .help = CANARY_HELP,
};
