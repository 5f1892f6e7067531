/* ui-metrics.c -- the Metrics screen: metrics_report as bars, sparklines and a few numbers. */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agents.h"
#include "console.h"
#include "metrics.h"
#include "types.h"
#include "ui-draw.h"
#include "ui-text.h"
#include "ui-theme.h"
#include "util.h"

/* The Metrics screen recomputes this often while it shows. */
#define METRICS_MS 5000

struct live_metrics {
	struct console *con; /* for the timer */
	cJSON *report;       /* metrics_report, recomputed on a key and every few seconds */
	char error[256];
	char at[64];
	uint64_t timer;
	int scroll;
};

/* The console's theme, for the draw in progress. */
static const struct theme *th;
#define ATTR(role) theme_attr(th, role)

/* Rows are laid out from the top and scrolled: y is the next row, body what shows. */
struct pen {
	struct rect body;
	int y;
};

static int
visible(const struct pen *p)
{
	return p->y >= p->body.y && p->y < p->body.y + p->body.h;
}

static void
line(struct pen *p, int indent, const char *text, attr_t a)
{
	if (visible(p)) {
		char *safe = text_sanitize(text, strlen(text));
		ui_put(stdscr, p->y, p->body.x + indent, p->body.w - indent - 1, safe, a);
		free(safe);
	}
	p->y++;
}

static void linef(struct pen *p, int indent, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
linef(struct pen *p, int indent, attr_t a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	line(p, indent, s, a);
	free(s);
}

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A number, or NAN for null and anything else. */
static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* "label  [bar]  text": the bar in proportion value/max, the text after it. */
static void
bar(struct pen *p, const char *label, double value, double max, const char *text)
{
	if (visible(p)) {
		int x = p->body.x + 2, w = p->body.w - 3;
		int lw = 14, bw = w - lw - 28;
		if (bw > 40)
			bw = 40;
		char *safe = text_sanitize(label, strlen(label));
		ui_put(stdscr, p->y, x, lw - 1, safe, A_NORMAL);
		free(safe);
		if (bw >= 4) {
			ui_bar(stdscr, p->y, x + lw, bw, isfinite(value) ? value : 0, max,
			       ATTR(THEME_OK) | A_REVERSE, ATTR(THEME_DIM));
			ui_put(stdscr, p->y, x + lw + bw + 1, w - lw - bw - 1, text, A_NORMAL);
		} else
			ui_put(stdscr, p->y, x + lw, w - lw, text, A_NORMAL);
	}
	p->y++;
}

/* "label  ▁▂▅█  last": a daily series as a sparkline. */
static void
spark(struct pen *p, const char *label, const cJSON *daily, const char *key, const char *unit,
      double scale)
{
	int n = cJSON_GetArraySize(daily);
	if (visible(p) && n > 0) {
		double *v = xcalloc((size_t)n, sizeof *v);
		for (int i = 0; i < n; i++)
			v[i] = num(cJSON_GetArrayItem(daily, i), key) * scale;
		int x = p->body.x + 2, w = p->body.w - 3, lw = 14, sw = w - lw - 16;
		if (sw > 60)
			sw = 60;
		ui_put(stdscr, p->y, x, lw - 1, label, A_NORMAL);
		if (sw >= 4) {
			ui_sparkline(stdscr, p->y, x + lw, sw, v, (size_t)n, ATTR(THEME_AI));
			char last[32];
			if (isfinite(v[n - 1]))
				snprintf(last, sizeof last, "%.2f%s", v[n - 1], unit);
			else
				snprintf(last, sizeof last, "-");
			ui_put(stdscr, p->y, x + lw + sw + 1, w - lw - sw - 1, last,
			       ATTR(THEME_DIM));
		}
		free(v);
	}
	p->y++;
}

static void
heading(struct pen *p, const char *title)
{
	p->y++;
	line(p, 1, title, A_BOLD);
}

static void
draw_csat(struct pen *p, const cJSON *r)
{
	static const char *const paths[][2] = {{"agent", "agent"},
	                                       {"human", "human"},
	                                       {"abandoned", "abandoned"},
	                                       {"unconfirmed", "unconfirmed"}};
	heading(p, "CSAT by resolution path (1-5)");
	const cJSON *by = get(r, "csat_by_path");
	for (size_t i = 0; i < nitems(paths); i++) {
		const cJSON *o = get(by, paths[i][0]);
		double mean = num(o, "mean");
		char text[96];
		if (isfinite(mean))
			snprintf(text, sizeof text, "%.2f  (%d ratings, %d sessions)", mean,
			         (int)num(o, "responses"), (int)num(o, "sessions"));
		else
			snprintf(text, sizeof text, "no ratings (%d sessions)",
			         isfinite(num(o, "sessions")) ? (int)num(o, "sessions") : 0);
		bar(p, paths[i][1], mean, 5, text);
	}
}

static void
draw_escalation(struct pen *p, const cJSON *r)
{
	const cJSON *e = get(r, "escalation");
	double rate = num(e, "rate");
	char head[96];
	double agent = num(e, "agent_rate");
	if (isfinite(rate) && isfinite(agent))
		snprintf(head, sizeof head,
		         "Escalation to a human by category (overall %.0f%%; by the agent %.0f%%)",
		         rate * 100, agent * 100);
	else if (isfinite(rate))
		snprintf(head, sizeof head, "Escalation to a human by category (overall %.0f%%)",
		         rate * 100);
	else
		snprintf(head, sizeof head, "Escalation rate by category");
	heading(p, head);
	const cJSON *by = get(e, "by_category");
	int any = 0;
	for (int c = 0; c < CAT__N; c++) {
		const cJSON *o = get(by, category_names[c]);
		if (o == NULL || !(num(o, "sessions") > 0))
			continue;
		char text[96];
		snprintf(text, sizeof text, "%3.0f%%  (%d of %d)", num(o, "rate") * 100,
		         (int)num(o, "escalated"), (int)num(o, "sessions"));
		bar(p, category_names[c], num(o, "rate"), 1, text);
		any = 1;
	}
	if (!any)
		line(p, 2, "no sessions with a category yet", ATTR(THEME_DIM));
}

static void
draw_daily(struct pen *p, const cJSON *r)
{
	const cJSON *daily = get(r, "daily");
	char head[96];
	int n = cJSON_GetArraySize(daily);
	snprintf(head, sizeof head, "Daily (%d day%s%s%s%s)", n, n == 1 ? "" : "s", n ? ": " : "",
	         n ? cJSON_GetStringValue(get(cJSON_GetArrayItem(daily, 0), "date")) ?: "" : "",
	         n > 1 ? " on" : "");
	heading(p, head);
	if (n == 0) {
		line(p, 2, "no sessions yet", ATTR(THEME_DIM));
		return;
	}
	spark(p, "sessions", daily, "sessions", "", 1);
	spark(p, "escalation", daily, "escalation_rate", "", 1);
	spark(p, "CSAT", daily, "csat_mean", "", 1);
	spark(p, "cost", daily, "cost_usd", " USD", 1);
}

static void
draw_numbers(struct pen *p, const cJSON *r)
{
	const cJSON *c = get(r, "cost");
	heading(p, "Cost per resolution");
	double per = num(c, "per_resolution_usd");
	if (isfinite(per))
		linef(p, 2, A_NORMAL,
		      "%.4f USD  = (model %.4f USD + human %.2f USD for %.1f min) / %d resolutions",
		      per, num(c, "model_usd"), num(c, "human_usd"), num(c, "human_minutes"),
		      (int)num(c, "resolutions"));
	else
		line(p, 2, "no resolutions yet", ATTR(THEME_DIM));

	const cJSON *rc = get(r, "recontact");
	heading(p, "Re-contact and first-contact resolution");
	if (isfinite(num(rc, "rate")))
		linef(p, 2, A_NORMAL, "re-contact %.0f%%  (%d of %d resolved)",
		      num(rc, "rate") * 100, (int)num(rc, "recontacted"), (int)num(rc, "resolved"));
	else
		line(p, 2, "re-contact: no resolutions yet", ATTR(THEME_DIM));
	const cJSON *fcr = get(r, "fcr");
	static const char *const who[][2] = {{"agent", "agent"}, {"human", "human"}};
	for (size_t i = 0; i < nitems(who); i++) {
		const cJSON *o = get(fcr, who[i][0]);
		if (isfinite(num(o, "rate")))
			linef(p, 2, A_NORMAL,
			      "first-contact resolution, %s first contact: %.0f%%  (%d of %d; by "
			      "the agent %d, by a human %d)",
			      who[i][1], num(o, "rate") * 100,
			      (int)num(o, "resolved_first_contact"), (int)num(o, "sessions"),
			      (int)num(o, "resolved_by_agent"), (int)num(o, "resolved_by_human"));
	}
	const cJSON *un = get(r, "unconfirmed");
	if (num(un, "sessions") > 0)
		linef(p, 2, A_NORMAL,
		      "unconfirmed (answered, then silence): %d; quiet past the window %d, "
		      "re-contacted %d -- never counted as resolved",
		      (int)num(un, "sessions"), (int)num(un, "quiet"), (int)num(un, "recontacted"));
	const cJSON *ef = get(r, "effort");
	if (isfinite(num(ef, "mean_turns")))
		linef(p, 2, A_NORMAL, "effort: %.1f turns, %.2f restatements a session",
		      num(ef, "mean_turns"),
		      isfinite(num(ef, "mean_restatements")) ? num(ef, "mean_restatements") : 0);
}

static void
draw_gaps(struct pen *p, const cJSON *r)
{
	const cJSON *gaps = get(r, "coverage_gaps"), *g;
	heading(p, "Top knowledge coverage gaps");
	if (cJSON_GetArraySize(gaps) == 0) {
		line(p, 2, "none: every query was answered with confident retrieval",
		     ATTR(THEME_DIM));
		return;
	}
	cJSON_ArrayForEach(g, gaps)
	{
		const char *q = cJSON_GetStringValue(get(g, "query")),
		           *t = cJSON_GetStringValue(get(g, "topic"));
		linef(p, 2, A_NORMAL, "%3dx  conf %.2f  %-10s %s", (int)num(g, "count"),
		      num(g, "mean_confidence"), t ? t : "-", q ? q : "");
	}
}

/* Draws the report's rows from the scroll-th into r; returns how many rows there are. */
static int
report_rows(const struct live_metrics *lm, struct rect r, int scroll)
{
	struct pen p = {r, r.y - scroll};
	const cJSON *m = lm->report;
	if (lm->error[0] != '\0')
		linef(&p, 1, ATTR(THEME_WARNING), "metrics: %s", lm->error);
	if (m != NULL) {
		linef(&p, 1, A_NORMAL,
		      "%d sessions (%d live, %d replayed)   computed %s, every 5 s",
		      (int)num(m, "sessions"), (int)num(m, "live"), (int)num(m, "replay"), lm->at);
		draw_csat(&p, m);
		draw_escalation(&p, m);
		draw_daily(&p, m);
		draw_numbers(&p, m);
		draw_gaps(&p, m);
	}
	return p.y - (r.y - scroll);
}

static void
metrics_draw(struct console *con, void *state)
{
	const struct live_metrics *lm = state;
	static const struct ui_key keys[] = {
	    {"r", "Refresh"}, {"Up/Down", "Scroll"}, {"q", "Back"}, {"F3", "Review"},
	    {"F5", "Replay"}, {"F1", "Help"},        {NULL, NULL}};
	th = &con->theme;
	struct rect body = ui_tool_frame(con, "metrics", keys);
	if (body.h <= 0)
		return;
	/* Measured first (nothing shows), so that scrolling stops at the last screenful. */
	struct rect none = {body.y, body.x, 0, body.w};
	int rows = report_rows(lm, none, 0);
	int scroll = lm->scroll;
	if (scroll > rows - body.h)
		scroll = rows > body.h ? rows - body.h : 0;
	report_rows(lm, body, scroll);
}

/* ------------------------------------------------------------- commands */

static void
recompute(struct console *con, struct live_metrics *lm)
{
	struct metrics_filter f = {.source = "live"};
	struct metrics_config cfg;
	cJSON *report = NULL;
	char *cause = NULL;
	metrics_config_default(&cfg);
	if (con->ag != NULL && con->ag->policy != NULL)
		metrics_config_policy(&cfg, con->ag->policy);
	cfg.today = con->opts->today;
	if (metrics_report(con->st, &f, &cfg, &report, &cause) != 0) {
		snprintf(lm->error, sizeof lm->error, "%s", cause);
		free(cause);
	} else {
		cJSON_Delete(lm->report);
		lm->report = report;
		lm->error[0] = '\0';
	}
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(lm->at, sizeof lm->at, "%H:%M:%S", &tm);
	console_dirty(con);
}

extern const struct console_screen ui_metrics_screen;

/* Every few seconds while the screen shows (the help over it counts). */
static void
tick(struct loop *l, void *arg)
{
	struct live_metrics *lm = arg;
	lm->timer = 0;
	if (!console_showing(lm->con, &ui_metrics_screen))
		return;
	recompute(lm->con, lm);
	lm->timer = loop_timer_add(l, METRICS_MS, tick, lm);
}

static int
metrics_key(struct console *con, void *state, int k)
{
	struct live_metrics *lm = state;
	if (k == 'r') {
		recompute(con, lm);
		console_status(con, 0, "metrics recomputed");
		return 1;
	}
	return ui_scroll_key(&lm->scroll, k);
}

/* ------------------------------------------------------------ the screen */

static void *
metrics_open(struct console *con)
{
	struct live_metrics *lm = xcalloc(1, sizeof *lm);
	lm->con = con;
	return lm;
}

static void
metrics_close(struct console *con, void *state)
{
	struct live_metrics *lm = state;
	if (lm->timer != 0)
		loop_timer_del(con->loop, lm->timer);
	cJSON_Delete(lm->report);
	free(lm);
}

/* Shown: recomputed now, then every few seconds. */
static int
metrics_show(struct console *con, void *state)
{
	struct live_metrics *lm = state;
	recompute(con, lm);
	if (lm->timer == 0)
		lm->timer = loop_timer_add(con->loop, METRICS_MS, tick, lm);
	return 0;
}

static const struct ui_help help[] = {
    {"r", "recompute now (it also does every 5 seconds)"},
    {"Up/Down, PgUp/PgDn", "scroll the metrics; q goes back"},
    {NULL, NULL},
};

const struct console_screen ui_metrics_screen = {
    .name = "Metrics",
    .what = "the Metrics screen: the measurement framework, live",
    .letter = 'm',
    .fkey = 4,
    .help = help,
    .open = metrics_open,
    .close = metrics_close,
    .show = metrics_show,
    .key = metrics_key,
    .draw = metrics_draw,
};
