/* cmd-metrics.c -- frontline metrics: the measurement framework over the store. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cmd.h"
#include "metrics.h"
#include "store.h"
#include "safe-text.h"

/* ------------------------------------------------------------ helpers */

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A rate as a percentage, a mean, a count, or "-" for null. */
static void
fmt_rate(char *out, size_t n, const cJSON *v)
{
	if (cJSON_IsNumber(v))
		snprintf(out, n, "%.1f%%", v->valuedouble * 100);
	else
		snprintf(out, n, "-");
}

/* A number with decimals after the point, between pre and post. */
static void
fmt_num(char *out, size_t n, const cJSON *v, const char *pre, int decimals, const char *post)
{
	if (cJSON_IsNumber(v))
		snprintf(out, n, "%s%.*f%s", pre, decimals, v->valuedouble, post);
	else
		snprintf(out, n, "-");
}

static int
count(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* "2026-11-24" or "2026-11-24T10:00:00" with an optional "Z". */
static int
date_ok(const char *s)
{
	long days;
	char d[11];
	if (strlen(s) < 10)
		return 0;
	memcpy(d, s, 10);
	d[10] = '\0';
	if (date_parse(d, &days) != 0)
		return 0;
	if (s[10] == '\0')
		return 1;
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return end != NULL && (*end == '\0' || strcmp(end, "Z") == 0);
}

/* ---------------------------------------------------------------- text */

/* "  LABEL                 N" with an optional aside. */
static void
count_line(FILE *f, int indent, const char *label, int n, const char *aside)
{
	fprintf(f, "%*s%-*s %8d%s%s\n", indent, "", 29 - indent, label, n, aside ? "   " : "",
	        aside ? aside : "");
}

/* The resolution paths, as the report's sections name them. */
static const struct {
	const char *key, *label;
} paths[] = {
    {"agent", "resolved by the agent"},
    {"human", "resolved by a human"},
    {"abandoned", "abandoned"},
    {"unconfirmed", "unconfirmed"},
};

/* The report's sections; replay: the sessions are replayed tickets (else live conversations). */
static void
text_endings(const cJSON *r, const struct metrics_config *cfg, int replay, FILE *f)
{
	if (replay)
		fprintf(f,
		        "frontline metrics, %s: %d replayed tickets (the human agents' work; "
		        "the agent's shadow decisions aside)\n",
		        cfg->today ? cfg->today : "today", count(r, "sessions"));
	else
		fprintf(f, "frontline metrics, %s: %d live sessions\n",
		        cfg->today ? cfg->today : "today", count(r, "sessions"));

	/* How they ended: the facts stored at each close (frontline(1), METRICS). */
	const cJSON *en = get(r, "endings"), *un = get(r, "unconfirmed");
	fprintf(f, "\nHow sessions ended            %8s\n", "sessions");
	count_line(f, 2, "resolved by the agent", count(en, "resolved-agent"),
	           replay ? NULL : "the customer confirmed");
	count_line(f, 2, "resolved by a human", count(en, "resolved-human"),
	           replay ? NULL : "a human took over or replied");
	count_line(f, 2, "abandoned", count(en, "abandoned"), NULL);
	if (!replay) {
		count_line(f, 2, "unconfirmed", count(en, "unconfirmed"),
		           "answered, then silence: not a resolution");
		char l[64];
		snprintf(l, sizeof l, "re-contacted in %d days", cfg->recontact_days);
		count_line(f, 4, l, count(un, "recontacted"), NULL);
		snprintf(l, sizeof l, "quiet %d days after", cfg->recontact_days);
		count_line(f, 4, l, count(un, "quiet"), "never counted as the agent's");
		count_line(f, 4, "window still open", count(un, "window_open"), NULL);
		count_line(f, 2, "still open", count(en, "open"), NULL);
	}
}

/* CSAT, first-contact resolution and re-contact, by resolution path. */
static void
text_paths(const cJSON *r, const struct metrics_config *cfg, int replay, FILE *f)
{
	char a[32], b[32];
	fprintf(f, "\nCSAT by resolution path       %8s %9s %7s\n", "sessions", "responses",
	        "mean");
	for (size_t i = 0; i < nitems(paths); i++) {
		const cJSON *p = get(get(r, "csat_by_path"), paths[i].key);
		if (replay && strcmp(paths[i].key, "unconfirmed") == 0)
			continue;
		fmt_num(a, sizeof a, get(p, "mean"), "", 2, "");
		fprintf(f, "  %-27s %8d %9d %7s\n", paths[i].label, count(p, "sessions"),
		        count(p, "responses"), a);
	}

	fprintf(f, "\nFirst-contact resolution      %8s %9s %7s\n", "sessions", "resolved", "rate");
	for (size_t i = 0; i < 2; i++) {
		const cJSON *p = get(get(r, "fcr"), paths[i].key);
		fmt_rate(a, sizeof a, get(p, "rate"));
		fprintf(f, "  %-27s %8d %9d %7s\n",
		        i == 0 ? "agent first contact" : "human first contact",
		        count(p, "sessions"), count(p, "resolved_first_contact"), a);
		if (i == 0 && !replay) {
			fmt_rate(a, sizeof a, get(p, "agent_rate"));
			fmt_rate(b, sizeof b, get(p, "human_rate"));
			fprintf(f, "    %-25s %8s %9d %7s\n", "by the agent", "",
			        count(p, "resolved_by_agent"), a);
			fprintf(f, "    %-25s %8s %9d %7s\n", "by a human after handoff", "",
			        count(p, "resolved_by_human"), b);
		}
	}

	const cJSON *rc = get(r, "recontact");
	fprintf(f, "\nRe-contact within %d days%*s%8s %9s %7s\n", cfg->recontact_days,
	        cfg->recontact_days < 10 ? 6 : 5, "", "resolved", "again", "rate");
	fmt_rate(a, sizeof a, get(rc, "rate"));
	fprintf(f, "  %-27s %8d %9d %7s\n", "all", count(rc, "resolved"), count(rc, "recontacted"),
	        a);
	for (size_t i = 0; i < 2; i++) {
		const cJSON *p = get(get(rc, "by_path"), paths[i].key);
		fmt_rate(a, sizeof a, get(p, "rate"));
		fprintf(f, "  %-27s %8d %9d %7s\n", paths[i].label, count(p, "resolved"),
		        count(p, "recontacted"), a);
	}
}

static void
text_escalation(const cJSON *r, int replay, FILE *f)
{
	char a[32], b[32], c[32];
	const cJSON *e = get(r, "effort");
	fmt_num(a, sizeof a, get(e, "mean_turns"), "", 2, "");
	fmt_num(b, sizeof b, get(e, "mean_restatements"), "", 2, "");
	fmt_rate(c, sizeof c, get(e, "high_effort_rate"));
	fprintf(f, "\nCustomer effort\n");
	fprintf(f, "  %-37s %8s\n", "mean customer messages", a);
	fprintf(f, "  %-37s %8s\n", "mean restatements after escalation", b);
	fprintf(f, "  %-37s %8s\n", "high effort (5+ messages or restated)", c);

	const cJSON *es = get(r, "escalation"), *x;
	fmt_rate(a, sizeof a, get(es, "rate"));
	fprintf(f, "\n%-29s %8s %9s %7s\n",
	        replay ? "Escalation by human agents" : "Escalation to a human", "sessions",
	        "escalated", "rate");
	int ns = 0, ne = 0;
	cJSON_ArrayForEach(x, get(es, "by_category"))
	{
		ns += count(x, "sessions");
		ne += count(x, "escalated");
	}
	fprintf(f, "  %-27s %8d %9d %7s\n",
	        replay ? "all (the tickets' labels)" : "all (handoffs, takeovers)", ns, ne, a);
	fmt_rate(b, sizeof b, get(es, "agent_rate"));
	fprintf(f, "  %-27s %8s %9s %7s\n",
	        replay ? "the agent, in shadow mode" : "handed off by the agent", "", "", b);
	cJSON_ArrayForEach(x, get(es, "by_category"))
	{
		fmt_rate(b, sizeof b, get(x, "rate"));
		fprintf(f, "  %-27s %8d %9d %7s\n", x->string, count(x, "sessions"),
		        count(x, "escalated"), b);
	}
	if (cJSON_GetArraySize(get(es, "by_reason")) > 0) {
		fprintf(f, "  by reason\n");
		cJSON_ArrayForEach(x, get(es, "by_reason"))
		{
			fprintf(f, "    %-35s %8d\n", x->string, x->valueint);
		}
	}
}

static void
text_cost(const cJSON *r, const struct metrics_config *cfg, FILE *f)
{
	char a[32], b[32];
	const cJSON *x;
	const cJSON *co = get(r, "cost");
	fprintf(f, "\nCost (human time at $%.2f/hour)\n", cfg->human_cost_per_hour);
	fmt_num(a, sizeof a, get(co, "model_usd"), "$", 4, "");
	fprintf(f, "  %-27s %18s  (%d tokens)\n", "model", a, count(co, "tokens"));
	fmt_num(a, sizeof a, get(co, "human_usd"), "$", 2, "");
	fmt_num(b, sizeof b, get(co, "human_minutes"), "", 1, " min");
	fprintf(f, "  %-27s %18s  (%s)\n", "human", a, b);
	fprintf(f, "  %-27s %18d\n", "resolutions", count(co, "resolutions"));
	fmt_num(a, sizeof a, get(co, "per_resolution_usd"), "$", 4, "");
	fprintf(f, "  %-27s %18s\n", "per resolution", a);

	const cJSON *q = get(r, "quality");
	fprintf(f, "\nKnowledge and output quality\n");
	fmt_rate(a, sizeof a, get(q, "retrieval_used_rate"));
	fprintf(f, "  %-37s %8s\n", "retrieval used", a);
	fmt_num(a, sizeof a, get(q, "mean_freshness_days"), "", 1, " d");
	fprintf(f, "  %-37s %8s\n", "mean freshness of retrieved facts", a);
	fmt_num(a, sizeof a, get(q, "mean_confidence"), "", 3, "");
	fprintf(f, "  %-37s %8s\n", "mean retrieval confidence", a);
	if (cJSON_GetArraySize(get(q, "violations")) > 0) {
		fprintf(f, "  validation violations\n");
		cJSON_ArrayForEach(x, get(q, "violations"))
		{
			fprintf(f, "    %-35s %8d\n", x->string, x->valueint);
		}
	} else
		fprintf(f, "  %-37s %8s\n", "validation violations", "none");
	if (cJSON_GetArraySize(get(q, "policy_flags")) > 0) {
		fprintf(f, "  policy flags (sessions)\n");
		cJSON_ArrayForEach(x, get(q, "policy_flags"))
		{
			fprintf(f, "    %-35s %8d\n", x->string, x->valueint);
		}
	} else
		fprintf(f, "  %-37s %8s\n", "policy flags", "none");
}

/* Coverage gaps, and the days with sessions (the JSON has every day between, for sparklines). */
static void
text_gaps(const cJSON *r, const struct metrics_config *cfg, FILE *f)
{
	char a[32], b[32], c[32];
	const cJSON *x;
	fprintf(f, "\nKnowledge coverage gaps (answered below confidence %.2f)\n",
	        cfg->coverage_confidence);
	if (cJSON_GetArraySize(get(r, "coverage_gaps")) == 0)
		fprintf(f, "  none\n");
	else
		fprintf(f, "  %5s %6s  %-10s %s\n", "count", "conf", "topic", "query");
	cJSON_ArrayForEach(x, get(r, "coverage_gaps"))
	{
		char *query = text_sanitize_line(cJSON_GetStringValue(get(x, "query")));
		char *topic = text_sanitize_line(cJSON_GetStringValue(get(x, "topic")));
		fmt_num(a, sizeof a, get(x, "mean_confidence"), "", 3, "");
		fprintf(f, "  %5d %6s  %-10s %s\n", count(x, "count"), a, *topic ? topic : "-",
		        query);
		free(query);
		free(topic);
	}

	fprintf(f, "\nDaily\n");
	int quiet = 0;
	if (cJSON_GetArraySize(get(r, "daily")) == 0)
		fprintf(f, "  none\n");
	else
		fprintf(f, "  %-10s %8s %10s %6s %10s\n", "date", "sessions", "escalated", "csat",
		        "cost");
	cJSON_ArrayForEach(x, get(r, "daily"))
	{
		if (count(x, "sessions") == 0) {
			quiet++;
			continue;
		}
		fmt_rate(a, sizeof a, get(x, "escalation_rate"));
		fmt_num(b, sizeof b, get(x, "csat_mean"), "", 2, "");
		fmt_num(c, sizeof c, get(x, "cost_usd"), "$", 4, "");
		fprintf(f, "  %-10s %8d %10s %6s %10s\n", cJSON_GetStringValue(get(x, "date")),
		        count(x, "sessions"), a, b, c);
	}
	if (quiet > 0)
		fprintf(f, "  (%d day%s without sessions between them)\n", quiet,
		        quiet == 1 ? "" : "s");
}

static void
text_report(const cJSON *r, const struct metrics_config *cfg, int replay, FILE *f)
{
	text_endings(r, cfg, replay, f);
	text_paths(r, cfg, replay, f);
	text_escalation(r, replay, f);
	text_cost(r, cfg, f);
	text_gaps(r, cfg, f);
}

/* One line per session: the figures a reader scans; --json or --csv has them all. */
static void
text_sessions(const cJSON *sessions, FILE *f)
{
	const cJSON *s;
	fprintf(f, "%-6s %-12s %-20s %-10s %-11s %5s %-4s %-24s %4s %9s\n", "source", "id",
	        "created", "category", "path", "turns", "esc", "reason", "csat", "cost");
	cJSON_ArrayForEach(s, sessions)
	{
		char id[32], turns[16], csat[16], cost[24];
		const cJSON *idj = get(s, "id");
		if (cJSON_IsNumber(idj))
			snprintf(id, sizeof id, "%lld", (long long)idj->valuedouble);
		char *sid = text_sanitize_line(cJSON_IsString(idj) ? idj->valuestring : NULL);
		char *reason =
		    text_sanitize_line(cJSON_GetStringValue(get(s, "escalation_reason")));
		fmt_num(turns, sizeof turns, get(s, "turns"), "", 0, "");
		fmt_num(csat, sizeof csat, get(s, "csat_score"), "", 0, "");
		fmt_num(cost, sizeof cost, get(s, "cost_usd"), "$", 4, "");
		const cJSON *esc = get(s, "escalated");
		fprintf(f, "%-6s %-12s %-20s %-10s %-11s %5s %-4s %-24s %4s %9s\n",
		        cJSON_GetStringValue(get(s, "source")), cJSON_IsNumber(idj) ? id : sid,
		        cJSON_GetStringValue(get(s, "created")) ?: "-",
		        cJSON_GetStringValue(get(s, "category")) ?: "-",
		        cJSON_GetStringValue(get(s, "path")) ?: "-", turns,
		        cJSON_IsBool(esc) ? (cJSON_IsTrue(esc) ? "yes" : "no") : "-",
		        *reason ? reason : "-", csat, cost);
		free(sid);
		free(reason);
	}
	if (cJSON_GetArraySize(sessions) == 0)
		fprintf(f, "no sessions\n");
}

/* ----------------------------------------------------------------- csv */

/* The seed's fields, in its order, after who and when. */
static const char *const csv_fields[] = {
    "source",
    "id",
    "customer",
    "created",
    "category",
    "tier",
    "path",
    "resolved",
    "resolved_correctly",
    "turns",
    "restatements",
    "escalated",
    "escalation_reason",
    "retrieval_used",
    "retrieval_freshness_days",
    "retrieval_confidence",
    "validation_violations",
    "policy_flags",
    "handle_time_seconds",
    "tokens_consumed",
    "cost_usd",
    "csat_score",
    "csat_verbatim",
    "recontact_within_7d",
    "version",
    "arm",
    "ending",
};

/*
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line
 * break. Text that a spreadsheet would run as a formula (= + - @ first)
 * gets a leading apostrophe; control characters become spaces.
 */
static void
csv_cell(struct buf *b, const char *s, int text)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		buf_addc(b, '"');
	if (text && strchr("=+-@", s[0]) != NULL && s[0] != '\0')
		buf_addc(b, '\'');
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"')
			buf_adds(b, "\"\"");
		else if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
			buf_addc(b, ' ');
		else
			buf_addc(b, (char)ch);
	}
	if (quote)
		buf_addc(b, '"');
}

static void
csv_sessions(const cJSON *sessions, FILE *f)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < nitems(csv_fields); i++)
		buf_printf(&b, "%s%s", i ? "," : "", csv_fields[i]);
	buf_adds(&b, "\r\n");
	const cJSON *s;
	cJSON_ArrayForEach(s, sessions)
	{
		for (size_t i = 0; i < nitems(csv_fields); i++) {
			const cJSON *v = get(s, csv_fields[i]);
			if (i)
				buf_addc(&b, ',');
			if (cJSON_IsString(v))
				csv_cell(&b, v->valuestring, 1);
			else if (cJSON_IsBool(v))
				buf_adds(&b, cJSON_IsTrue(v) ? "true" : "false");
			else if (cJSON_IsNumber(v)) {
				char *n = cJSON_PrintUnformatted(v);
				buf_adds(&b, n);
				free(n);
			} else if (cJSON_IsArray(v)) {
				/* Lists as one cell, ';' between the items. */
				struct buf l;
				buf_init(&l, 0);
				const cJSON *x;
				cJSON_ArrayForEach(x, v)
				{
					if (cJSON_IsString(x))
						buf_printf(&l, "%s%s", l.len ? ";" : "",
						           x->valuestring);
				}
				buf_addc(&l, '\0');
				csv_cell(&b, l.data, 1);
				buf_free(&l);
			}
		}
		buf_adds(&b, "\r\n");
	}
	fwrite(b.data, 1, b.len, f);
	buf_free(&b);
}

/* ------------------------------------------------------------- command */

/* The sessions as --csv, --sessions or the report (text or --json) say. */
static void
print_metrics(const struct cmd_args *a, const cJSON *list, const struct metrics_config *cfg,
              const struct metrics_filter *f)
{
	int json = cmd_args_has(a, "json");
	struct text_capture tc;
	if (cmd_args_has(a, "csv"))
		csv_sessions(list, stdout);
	else if (cmd_args_has(a, "sessions") && json) {
		char *s = cJSON_Print(list);
		puts(s);
		free(s);
	} else if (cmd_args_has(a, "sessions")) {
		text_sessions(list, text_capture_begin(&tc));
		text_capture_end(&tc, stdout);
	} else {
		cJSON *r = metrics_aggregate(list, cfg);
		if (json) {
			char *s = cJSON_Print(r);
			puts(s);
			free(s);
		} else {
			text_report(r, cfg,
			            f->source != NULL ? strcmp(f->source, "replay") == 0
			                              : f->run > 0,
			            text_capture_begin(&tc));
			text_capture_end(&tc, stdout);
		}
		cJSON_Delete(r);
	}
}

/* Whether replay run id is in the store: EX_OK, or an exit code having said why. */
static int
run_exists(struct store *st, long long id)
{
	cJSON *run = NULL;
	char *cause = NULL;
	if (store_replay_run(st, id, &run, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		return EX_IOERR;
	}
	if (run == NULL) {
		fl_warnx("no replay run %lld (frontline metrics --json lists none; see "
		         "frontline replay)",
		         id);
		return EX_NOINPUT;
	}
	cJSON_Delete(run);
	return EX_OK;
}

static int
cmd_metrics(struct ctx *ctx, const struct cmd_args *a)
{
	struct metrics_filter f = {
	    .since = cmd_args_get(a, "since"),
	    .until = cmd_args_get(a, "until"),
	    .source = cmd_args_get(a, "source"),
	    .version = cmd_args_get(a, "version"),
	    .arm = cmd_args_get(a, "arm"),
	    .run = (long long)cmd_args_number(a, "run", 0),
	};
	struct policy *p = ctx_policy(ctx);
	if (p == NULL)
		return EX_CONFIG;
	struct metrics_config cfg;
	char today[11];
	metrics_config_default(&cfg);
	metrics_config_policy(&cfg, p);
	date_format(ctx->today, today);
	cfg.today = today;

	int ex = EX_OK;
	struct store *st = ctx_store(ctx, &ex);
	if (st == NULL)
		return ex;
	char *cause = NULL;
	cJSON *list = NULL;
	if (f.run > 0 && (ex = run_exists(st, f.run)) != EX_OK)
		goto out;
	if (metrics_sessions(st, &f, &cfg, &list, &cause) != 0) {
		fl_warnx("store: %s", cause);
		ex = EX_IOERR;
		goto out;
	}
	print_metrics(a, list, &cfg, &f);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fl_warnx("stdout: write error");
		ex = EX_IOERR;
	}
out:
	cJSON_Delete(list);
	free(cause);
	store_close(st);
	return ex;
}

static int
date_check(const char *v, const char **what)
{
	*what = "a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)";
	return date_ok(v) ? 0 : -1;
}

static const struct cmd_option options[] = {
    {.name = "json",
     .group = 1,
     .help = "the report as one JSON object (or, with --sessions, the per-session metrics as an "
             "array)"},
    {.name = "csv", .group = 1, .help = "one row per session with the seed's fields, and a header"},
    {.name = "sessions", .help = "the per-session metrics instead of the report"},
    {.name = "since",
     .value = CMD_TEXT,
     .arg = "DATE",
     .check = date_check,
     .help = "sessions created at or after DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"},
    {.name = "until",
     .value = CMD_TEXT,
     .arg = "DATE",
     .check = date_check,
     .help = "sessions created before DATE"},
    {.name = "source",
     .value = CMD_CHOICE,
     .arg = "live|replay",
     .choices = (const char *const[]){"live", "replay", NULL},
     .help = "live conversations (the default) or replayed tickets"},
    {.name = "version",
     .value = CMD_TEXT,
     .arg = "V",
     .help = "sessions the agent version V handled"},
    {.name = "arm",
     .value = CMD_CHOICE,
     .arg = "ARM",
     .choices = (const char *const[]){"ai", "human", "canary", "current", NULL},
     .help = "rollout arm: ai, human, canary or current"},
    {.name = "run",
     .value = CMD_INT,
     .arg = "ID",
     .min = 1,
     .max = INFINITY,
     .help = "replays from run ID (default: the newest run of each ticket file)"},
    {0},
};

const struct cmd_entry cmd_metrics_entry = {
    .name = "metrics",
    .summary = "the measurement framework: CSAT by path, FCR, re-contact, effort, escalation, "
               "cost per resolution and coverage gaps, over the store",
    .options = options,
    .exec = cmd_metrics,
    .help = "A live conversation's path is the ending stored when it closed\n"
            "(resolved-agent, resolved-human, abandoned, unconfirmed); see frontline(1).\n"
            "The policy's metrics section sets the human cost, the coverage threshold\n"
            "and the re-contact window.\n",
};
