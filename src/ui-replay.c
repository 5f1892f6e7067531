/* ui-replay.c -- the Replay screen: a shadow replay's progress, then its report. */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "types.h"
#include "ui-draw.h"
#include "ui-text.h"
#include "ui-theme.h"

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

static void linef(struct pen *p, int indent, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
linef(struct pen *p, int indent, attr_t a, const char *fmt, ...)
{
	if (visible(p)) {
		va_list ap;
		va_start(ap, fmt);
		char *s = xvasprintf(fmt, ap);
		va_end(ap);
		/* Ticket files, reason codes and categories come from outside. */
		char *safe = text_sanitize(s, strlen(s));
		ui_put(stdscr, p->y, p->body.x + indent, p->body.w - indent - 1, safe, a);
		free(safe);
		free(s);
	}
	p->y++;
}

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* "0.750" or "-" for what could not be computed. */
static const char *
fmt3(char out[16], double v)
{
	if (isfinite(v))
		snprintf(out, 16, "%.3f", v);
	else
		snprintf(out, 16, "-");
	return out;
}

static void
heading(struct pen *p, const char *title)
{
	p->y++;
	linef(p, 1, A_BOLD, "%s", title);
}

static void
draw_triage(struct pen *p, const cJSON *t)
{
	char a[16], f[16];
	heading(p, "Triage");
	linef(p, 2, A_NORMAL, "accuracy %s   macro-F1 %s   (%d labelled, %d correct)",
	      fmt3(a, num(t, "accuracy")), fmt3(f, num(t, "macro_f1")), (int)num(t, "labelled"),
	      (int)num(t, "correct"));
	const cJSON *c;
	cJSON_ArrayForEach(c, get(t, "per_category"))
	{
		char pr[16], rc[16], f1[16];
		if (visible(p) && p->body.w > 60) {
			ui_put(stdscr, p->y, p->body.x + 4, 12, c->string ? c->string : "?",
			       A_NORMAL);
			ui_bar(stdscr, p->y, p->body.x + 16, 20,
			       isfinite(num(c, "f1")) ? num(c, "f1") : 0, 1,
			       ATTR(THEME_OK) | A_REVERSE, ATTR(THEME_DIM));
			char s[128];
			snprintf(s, sizeof s, "F1 %s  precision %s  recall %s  (%d tickets)",
			         fmt3(f1, num(c, "f1")), fmt3(pr, num(c, "precision")),
			         fmt3(rc, num(c, "recall")), (int)num(c, "support"));
			ui_put(stdscr, p->y, p->body.x + 37, p->body.w - 38, s, A_NORMAL);
			p->y++;
		} else
			linef(p, 4, A_NORMAL, "%-10s F1 %s (%d)", c->string ? c->string : "?",
			      fmt3(f1, num(c, "f1")), (int)num(c, "support"));
	}
}

static void
draw_escalation(struct pen *p, const cJSON *e)
{
	char pr[16], rc[16], ag[16];
	heading(p, "Escalation: agent against the humans");
	linef(p, 4, ATTR(THEME_DIM), "%-22s %16s %16s", "", "human escalated", "human did not");
	linef(p, 4, A_NORMAL, "%-22s %16d %16d", "agent would escalate", (int)num(e, "tp"),
	      (int)num(e, "fp"));
	linef(p, 4, A_NORMAL, "%-22s %16d %16d", "agent would not", (int)num(e, "fn"),
	      (int)num(e, "tn"));
	linef(p, 2, A_NORMAL, "precision %s   recall %s   agreement %s",
	      fmt3(pr, num(e, "precision")), fmt3(rc, num(e, "recall")),
	      fmt3(ag, num(e, "agreement")));
	linef(p, 2, A_NORMAL, "escalation rate: agent %.0f%%, human %.0f%%",
	      isfinite(num(e, "agent_rate")) ? num(e, "agent_rate") * 100 : 0,
	      isfinite(num(e, "human_rate")) ? num(e, "human_rate") * 100 : 0);
	const cJSON *c;
	cJSON_ArrayForEach(c, get(e, "by_category"))
	{
		linef(p, 4, A_NORMAL, "%-10s agent %3.0f%%  human %3.0f%%  (%d tickets)",
		      c->string ? c->string : "?",
		      isfinite(num(c, "agent_rate")) ? num(c, "agent_rate") * 100 : 0,
		      isfinite(num(c, "human_rate")) ? num(c, "human_rate") * 100 : 0,
		      (int)num(c, "tickets"));
	}
}

static void
draw_sweep(struct pen *p, const cJSON *s)
{
	char t[16];
	const cJSON *best = get(s, "best"), *pt;
	heading(p, "Escalation threshold sweep");
	if (cJSON_IsObject(best))
		linef(p, 2, ATTR(THEME_OK), "threshold %s meets the target agreement %s",
		      fmt3(t, num(best, "threshold")),
		      fmt3((char[16]){0}, num(s, "target_agreement")));
	else
		linef(p, 2, ATTR(THEME_WARNING), "no threshold reaches the target agreement %s",
		      fmt3(t, num(s, "target_agreement")));
	linef(p, 4, ATTR(THEME_DIM), "%-10s %-16s %s", "threshold", "escalation rate", "agreement");
	cJSON_ArrayForEach(pt, get(s, "points"))
	{
		int is_best =
		    cJSON_IsObject(best) && num(best, "threshold") == num(pt, "threshold");
		char a[16], r[16];
		linef(p, 4, is_best ? A_BOLD : A_NORMAL, "%-10s %-16s %s%s",
		      fmt3(t, num(pt, "threshold")), fmt3(r, num(pt, "escalation_rate")),
		      fmt3(a, num(pt, "agreement")), is_best ? "  <- best" : "");
	}
}

static void
draw_rest(struct pen *p, const cJSON *r)
{
	char f[16], l[16];
	const cJSON *sim = get(r, "reply_similarity"), *v = get(r, "violations"), *k;
	heading(p, "Reply similarity to the humans");
	linef(p, 2, A_NORMAL, "token F1 %s   ROUGE-L %s   over %d replies", fmt3(f, num(sim, "f1")),
	      fmt3(l, num(sim, "rouge_l")), (int)num(sim, "turns"));
	heading(p, "Policy violations");
	linef(p, 2, A_NORMAL, "%d violations in %d tickets", (int)num(v, "total"),
	      (int)num(v, "tickets"));
	cJSON_ArrayForEach(k, get(v, "by_kind"))
	{
		linef(p, 4, ATTR(THEME_WARNING), "%-28s %d", k->string ? k->string : "?",
		      cJSON_IsNumber(k) ? k->valueint : 0);
	}
	const cJSON *ph = get(r, "prohibited_phrases");
	cJSON_ArrayForEach(k, ph)
	{
		linef(p, 4, ATTR(THEME_WARNING), "prohibited phrase %-20s %d",
		      k->string ? k->string : "?", cJSON_IsNumber(k) ? k->valueint : 0);
	}
}

/* Draws everything from the scroll-th row into r; returns how many rows there are. */
static int
rows(struct console *con, struct rect r, int scroll)
{
	struct pen p = {r, r.y - scroll};
	const char *file = con->replay_file ? con->replay_file : "(none)";
	linef(&p, 1, A_NORMAL, "Tickets: %s", file);
	switch (con->replay_state) {
	case REPLAY_IDLE:
		linef(&p, 1, ATTR(THEME_DIM),
		      "Enter replays this file in shadow mode (nothing is sent); f picks another");
		break;
	case REPLAY_RUNNING:
	case REPLAY_CANCELLED:
		if (visible(&p) && r.w > 30) {
			int bw = r.w - 30 > 60 ? 60 : r.w - 30;
			ui_bar(stdscr, p.y, r.x + 1, bw, (double)con->replay_done,
			       (double)con->replay_total, ATTR(THEME_OK) | A_REVERSE,
			       ATTR(THEME_DIM));
			char s[64];
			snprintf(s, sizeof s, "%ld/%ld  %ld bad", con->replay_done,
			         con->replay_total, con->replay_bad);
			ui_put(stdscr, p.y, r.x + 2 + bw, r.w - bw - 3, s, A_NORMAL);
		}
		p.y++;
		linef(&p, 1, ATTR(THEME_DIM), "%s",
		      con->replay_state == REPLAY_CANCELLED ? "cancelling..."
		                                            : "replaying: c cancels");
		break;
	case REPLAY_FAILED:
		linef(&p, 1, ATTR(THEME_WARNING), "the replay failed: %s", con->replay_error);
		break;
	case REPLAY_DONE:
		break;
	}
	if (con->replay_state == REPLAY_CANCELLED && con->replay_pid <= 0) {
		p.y--;
		linef(&p, 1, ATTR(THEME_WARNING), "cancelled after %ld of %ld tickets",
		      con->replay_done, con->replay_total);
	}
	const cJSON *rep = con->replay_report;
	if (con->replay_state == REPLAY_DONE && rep != NULL) {
		const char *ver = cJSON_GetStringValue(get(rep, "version"));
		linef(&p, 1, ATTR(THEME_OK),
		      "Report: %d tickets, %d bad lines, agent version %s, run %d",
		      (int)num(rep, "tickets"), (int)num(rep, "bad_lines"), ver ? ver : "?",
		      (int)num(rep, "run"));
		if (con->replay_error[0] != '\0')
			linef(&p, 1, ATTR(THEME_DIM), "last message: %s", con->replay_error);
		draw_triage(&p, get(rep, "triage"));
		draw_escalation(&p, get(rep, "escalation"));
		draw_sweep(&p, get(rep, "sweep"));
		draw_rest(&p, rep);
	}
	return p.y - (r.y - scroll);
}

void
ui_replay_draw(struct console *con)
{
	static const struct ui_key idle_keys[] = {{"Enter", "Run"},      {"f", "File"},
	                                          {"Up/Down", "Scroll"}, {"q", "Back"},
	                                          {"F3", "Review"},      {"F4", "Metrics"},
	                                          {"F1", "Help"},        {NULL, NULL}},
	                           run_keys[] = {{"c", "Cancel"},
	                                         {"q", "Back"},
	                                         {"F1", "Help"},
	                                         {NULL, NULL}};
	th = &con->theme;
	struct rect body = ui_tool_frame(
	    con, "shadow replay", con->replay_state == REPLAY_RUNNING ? run_keys : idle_keys);
	if (body.h <= 0)
		return;
	struct rect none = {body.y, body.x, 0, body.w};
	int n = rows(con, none, 0), scroll = con->replay_scroll;
	if (scroll > n - body.h)
		scroll = n > body.h ? n - body.h : 0;
	rows(con, body, scroll);
}
