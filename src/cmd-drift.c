/* cmd-drift.c -- frontline drift: the shipped suite through the agents against a baseline. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "drift.h"
#include "progress.h"
#include "replay.h"
#include "safe-text.h"
#include "version.h"

/*
 * Runs every prompt of the suite; returns the summaries in *out, or an
 * exit code with every bad line named (nothing is compared then).
 */
static int
run_suite(struct agents *ag, const char *version, const char *path, struct progress *pg,
          cJSON **out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fl_warnx("drift: the suite %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	pg->total = progress_count_lines(path);
	pg->step = pg->total > 0 ? (pg->total + 99) / 100 : 100;
	cJSON *all = cJSON_CreateArray();
	char *cause = NULL;
	long bad = 0, done = 0;
	int got;
	struct ticket t;
	struct jsonl rd;
	jsonl_init(&rd, f, path);
	while ((got = ticket_read(&rd, &t, &cause)) != 0 && got != -2) {
		cJSON *r = NULL;
		if (got < 0) /* FILE:LINE: why */
			text_printf(stderr, "%s%s\n", progress_clear(pg), cause);
		else if ((r = replay_ticket(ag, version, &t, &cause)) == NULL)
			text_printf(stderr, "%s%s:%ld: %s\n", progress_clear(pg), path, rd.lineno,
			            cause);
		else {
			cJSON_AddItemToArray(all, drift_summary(r));
			cJSON_Delete(r);
		}
		if (r == NULL) {
			free(cause);
			cause = NULL;
			bad++;
		}
		ticket_free(&t);
		progress_show(pg, ++done, bad, 0);
	}
	progress_show(pg, done, bad, 1);
	jsonl_free(&rd);
	fclose(f);
	if (got == -2) {
		fl_warnx("drift: the suite %s", cause);
		free(cause);
		cJSON_Delete(all);
		return EX_IOERR;
	}
	if (bad > 0) {
		cJSON_Delete(all);
		return EX_DATAERR;
	}
	*out = all;
	return EX_OK;
}

static int
load_baseline(const char *path, cJSON **out, long *today)
{
	char *cause = NULL;
	char *text = file_read(path, 64 << 20, NULL, &cause);
	if (text == NULL) {
		fl_warnx("drift: the baseline %s: %s (make one with frontline drift --update)",
		         path, cause);
		free(cause);
		return EX_NOINPUT;
	}
	cJSON *b = cJSON_Parse(text);
	free(text);
	if (b == NULL) {
		fl_warnx("drift: the baseline %s is not JSON", path);
		return EX_DATAERR;
	}
	if (drift_baseline_check(b, &cause) != 0) {
		fl_warnx("drift: the baseline %s: %s", path, cause);
		free(cause);
		cJSON_Delete(b);
		return EX_DATAERR;
	}
	const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(b, "today"));
	if (d != NULL && date_parse(d, today) != 0) {
		fl_warnx("drift: the baseline %s: \"today\" is not a YYYY-MM-DD date", path);
		cJSON_Delete(b);
		return EX_DATAERR;
	}
	*out = b;
	return EX_OK;
}

static int
write_baseline(const char *path, const cJSON *b)
{
	char *tmp = xasprintf("%s.tmp", path);
	char *s = cJSON_Print(b);
	FILE *f = fopen(tmp, "w");
	int ok = f != NULL && fputs(s, f) >= 0 && fputc('\n', f) != EOF;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		fl_warnx("drift: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(s);
	free(tmp);
	return ok ? EX_OK : EX_CANTCREAT;
}

static void
print_text(const cJSON *report, FILE *f)
{
	const cJSON *regs = cJSON_GetObjectItem(report, "regressions"), *e;
	fprintf(f, "drift: %d prompts, agent version %s against baseline %s: ",
	        cJSON_GetObjectItem(report, "prompts")->valueint,
	        cJSON_GetStringValue(cJSON_GetObjectItem(report, "version")),
	        cJSON_GetStringValue(cJSON_GetObjectItem(report, "baseline_version")));
	if (cJSON_GetArraySize(regs) == 0)
		fputs("no regressions\n", f);
	else
		fprintf(f, "%d regressions\n", cJSON_GetArraySize(regs));
	cJSON_ArrayForEach(e, regs)
	{
		text_printf(f, "  %s: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(e, "id")),
		            cJSON_GetStringValue(cJSON_GetObjectItem(e, "detail")));
	}
}

/* --update: this run (current, taken) becomes the baseline, dated today. */
static int
update_baseline(const struct agents *ag, const char *version, cJSON *current, const char *path)
{
	char day[11];
	date_format(ag->fresh.today, day);
	int n = cJSON_GetArraySize(current);
	cJSON *b = drift_baseline(version, agents_version_json(ag), current);
	cJSON_AddStringToObject(b, "today", day);
	int ex = write_baseline(path, b);
	cJSON_Delete(b);
	if (ex == EX_OK)
		printf("drift: wrote the baseline of %d prompts for agent version %s to %s\n", n,
		       version, path);
	return ex;
}

/* This run against the baseline, printed; EX_OK, or 1 when the behaviour drifted. */
static int
compare(const struct cmd_args *a, const cJSON *baseline, const cJSON *current, const char *suite,
        const char *base, const char *version)
{
	double min_sim = cmd_args_number(a, "min-similarity", DRIFT_MIN_SIMILARITY);
	cJSON *regs = drift_compare(baseline, current, min_sim);
	cJSON *report = cJSON_CreateObject();
	cJSON_AddStringToObject(report, "suite", suite);
	cJSON_AddStringToObject(report, "baseline", base);
	cJSON_AddStringToObject(report, "version", version);
	cJSON_AddStringToObject(report, "baseline_version",
	                        cJSON_GetStringValue(cJSON_GetObjectItem(baseline, "version")));
	cJSON_AddNumberToObject(report, "prompts", cJSON_GetArraySize(current));
	cJSON_AddNumberToObject(report, "min_similarity", min_sim);
	cJSON_AddBoolToObject(report, "passed", cJSON_GetArraySize(regs) == 0);
	cJSON_AddItemToObject(report, "regressions", regs);
	if (cmd_args_has(a, "json")) {
		char *s = cJSON_Print(report);
		puts(s);
		free(s);
	} else
		print_text(report, stdout);
	int ex = cJSON_GetArraySize(regs) == 0 ? EX_OK : 1;
	cJSON_Delete(report);
	return ex;
}

static int
cmd_drift(struct ctx *ctx, const struct cmd_args *a)
{
	char *dsuite = xasprintf("%s/data/drift/suite.jsonl", ctx->datadir);
	char *dbase = xasprintf("%s/data/drift/baseline.json", ctx->datadir);
	const char *suite = cmd_args_get(a, "suite") ?: dsuite;
	const char *base = cmd_args_get(a, "baseline") ?: dbase;
	int update = cmd_args_has(a, "update"), ex;
	struct agents ag = {0};
	struct tool_backend tb = {0};
	cJSON *baseline = NULL, *current = NULL;
	struct progress pg = {.what = "drift", .unit = "prompts"};
	long today = ctx->today;
	char version[13];

	cmd_progress(a, &pg);
	if (!update && (ex = load_baseline(base, &baseline, &today)) != EX_OK)
		goto out;
	if ((ex = ctx_agents(ctx, NULL, &ag, &tb)) != EX_OK)
		goto out;
	/* The baseline's date, unless FRONTLINE_TODAY says otherwise: freshness is behaviour too.
	 */
	if (baseline != NULL && getenv("FRONTLINE_TODAY") == NULL)
		ag.fresh.today = today;
	agents_version(&ag, version);
	if ((ex = run_suite(&ag, version, suite, &pg, &current)) != EX_OK)
		goto out;
	if (update) {
		ex = update_baseline(&ag, version, current, base);
		current = NULL;
	} else
		ex = compare(a, baseline, current, suite, base, version);
out:
	cJSON_Delete(current);
	cJSON_Delete(baseline);
	ctx_agents_free(&ag, &tb);
	free(dsuite);
	free(dbase);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "json", .help = "the comparison as one JSON object"},
    {.name = "suite",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "prompts in ticket format (default: data/drift/suite.jsonl)"},
    {.name = "baseline",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "what they did before (default: data/drift/baseline.json)"},
    {.name = "update", .help = "write the baseline from this run instead of comparing"},
    {.name = "min-similarity",
     .value = CMD_NUMBER,
     .arg = "X",
     .min = 0,
     .max = 1,
     .help = "a reply less similar than this (ROUGE-L) to the baseline's is a regression "
             "(default 0.8)"},
    CMD_OPTION_PROGRESS,
    {0},
};

const struct cmd_entry cmd_drift_entry = {
    .name = "drift",
    .summary = "behavioural drift: the shipped suite through the current agents against a "
               "baseline",
    .options = options,
    .exec = cmd_drift,
    .help = "Exit 0: no regression; 1: the behaviour drifted (every change is listed);\n"
            "65: a bad suite line or baseline; 66: a missing suite or baseline;\n"
            "78: a bad policy.\n",
};
