/* cmd-drift.c -- frontline drift: the shipped suite through the agents against a baseline. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "drift.h"
#include "replay.h"
#include "safe-text.h"
#include "version.h"

/*
 * Runs every prompt of the suite; returns the summaries in *out, or an
 * exit code with every bad line named (nothing is compared then).
 */
static int
run_suite(struct agents *ag, const char *version, const char *path, cJSON **out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fl_warnx("drift: the suite %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	cJSON *all = cJSON_CreateArray();
	char *cause = NULL;
	long bad = 0;
	int got;
	struct ticket t;
	struct jsonl rd;
	jsonl_init(&rd, f, path);
	while ((got = ticket_read(&rd, &t, &cause)) != 0 && got != -2) {
		cJSON *r = NULL;
		if (got < 0)
			text_printf(stderr, "%s\n", cause); /* FILE:LINE: why */
		else if ((r = replay_ticket(ag, version, &t, &cause)) == NULL)
			text_printf(stderr, "%s:%ld: %s\n", path, rd.lineno, cause);
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
	}
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

static int
cmd_drift(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"suite", required_argument, NULL, 's'},
	    {"baseline", required_argument, NULL, 'b'},
	    {"update", no_argument, NULL, 'u'},
	    {"min-similarity", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, json = 0, update = 0;
	const char *suite = NULL, *base = NULL;
	double min_sim = DRIFT_MIN_SIMILARITY;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			suite = optarg;
			break;
		case 'b':
			base = optarg;
			break;
		case 'u':
			update = 1;
			break;
		case 'm':
			errno = 0;
			min_sim = strtod(optarg, &end);
			if (errno || end == optarg || *end != '\0' || !(min_sim >= 0) ||
			    min_sim > 1) {
				fl_warnx(
				    "drift: --min-similarity takes a number in [0,1], not '%s'",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			cmd_help(&cmd_drift_entry, stdout);
			return EX_OK;
		default:
			cmd_help(&cmd_drift_entry, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cmd_help(&cmd_drift_entry, stderr);
		return EX_USAGE;
	}
	char *dsuite = xasprintf("%s/data/drift/suite.jsonl", ctx->datadir);
	char *dbase = xasprintf("%s/data/drift/baseline.json", ctx->datadir);
	if (suite == NULL)
		suite = dsuite;
	if (base == NULL)
		base = dbase;

	struct agents ag = {0};
	struct tool_backend tb = {0};
	cJSON *baseline = NULL, *current = NULL, *report = NULL;
	int ex;
	long today = ctx->today;
	if (!update && (ex = load_baseline(base, &baseline, &today)) != EX_OK)
		goto out;
	if ((ex = ctx_agents(ctx, NULL, &ag, &tb)) != EX_OK)
		goto out;
	/* The baseline's date, unless FRONTLINE_TODAY says otherwise: freshness is behaviour too.
	 */
	if (baseline != NULL && getenv("FRONTLINE_TODAY") == NULL)
		ag.fresh.today = today;
	char version[13];
	agents_version(&ag, version);
	if ((ex = run_suite(&ag, version, suite, &current)) != EX_OK)
		goto out;

	if (update) {
		char day[11];
		date_format(ag.fresh.today, day);
		int n = cJSON_GetArraySize(current);
		cJSON *b = drift_baseline(version, agents_version_json(&ag), current);
		cJSON_AddStringToObject(b, "today", day);
		current = NULL;
		ex = write_baseline(base, b);
		cJSON_Delete(b);
		if (ex == EX_OK)
			printf(
			    "drift: wrote the baseline of %d prompts for agent version %s to %s\n",
			    n, version, base);
		goto out;
	}

	cJSON *regs = drift_compare(baseline, current, min_sim);
	report = cJSON_CreateObject();
	cJSON_AddStringToObject(report, "suite", suite);
	cJSON_AddStringToObject(report, "baseline", base);
	cJSON_AddStringToObject(report, "version", version);
	cJSON_AddStringToObject(report, "baseline_version",
	                        cJSON_GetStringValue(cJSON_GetObjectItem(baseline, "version")));
	cJSON_AddNumberToObject(report, "prompts", cJSON_GetArraySize(current));
	cJSON_AddNumberToObject(report, "min_similarity", min_sim);
	cJSON_AddBoolToObject(report, "passed", cJSON_GetArraySize(regs) == 0);
	cJSON_AddItemToObject(report, "regressions", regs);
	if (json) {
		char *s = cJSON_Print(report);
		puts(s);
		free(s);
	} else
		print_text(report, stdout);
	ex = cJSON_GetArraySize(regs) == 0 ? EX_OK : 1;
out:
	cJSON_Delete(report);
	cJSON_Delete(current);
	cJSON_Delete(baseline);
	ctx_agents_free(&ag, &tb);
	free(dsuite);
	free(dbase);
	return ex;
}

const struct cmd_entry cmd_drift_entry = {
    .name = "drift",
    .args = "[--json] [--suite FILE] [--baseline FILE] [--update] [--min-similarity X]",
    .summary = "behavioural drift: the shipped suite through the current agents against a "
               "baseline",
    .exec = cmd_drift,
    .help = "  --json               the comparison as one JSON object\n"
            "  --suite FILE         prompts in ticket format (default: data/drift/suite.jsonl)\n"
            "  --baseline FILE      what they did before (default: data/drift/baseline.json)\n"
            "  --update             write the baseline from this run instead of comparing\n"
            "  --min-similarity X   a reply less similar than this (ROUGE-L) to the\n"
            "                       baseline's is a regression (default 0.8)\n"
            "Exit 0: no regression; 1: the behaviour drifted (every change is listed);\n"
            "65: a bad suite line or baseline; 66: a missing suite or baseline;\n"
            "78: a bad policy.\n",
};
