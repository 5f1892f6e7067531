/*
 * ui-supervise.c -- the Supervise screen: queue, live chat, triage, knowledge, signals,
 * guardrails; taking a conversation over, replying, handing back and closing.
 */
#include "config.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "console.h"
#include "desk.h"
#include "types.h"
#include "ui-draw.h"
#include "ui-input.h"
#include "ui-layout.h"
#include "ui-text.h"
#include "ui-theme.h"
#include "util.h"

struct supervise {
	int64_t selected; /* the selected conversation's id, 0 for none */
	int chat_scroll;  /* lines scrolled up from the bottom of the chat pane */
	int show_packet;  /* the packet overlay is up (shown first on takeover) */
	int packet_scroll;
	int asking_outcome;     /* r was pressed: waiting for the outcome key */
	char *held;             /* a reply held back by the guardrails: Enter again sends it */
	cJSON *held_validation; /* its violations, shown in the guardrails panel */
};

/* The selected conversation, or NULL. */
static struct desk_conv *
selected(struct console *con, const struct supervise *sv)
{
	/* Drawn or acted on: its panels are read in (the others' wait until they are). */
	desk_show(con->desk, sv->selected);
	return sv->selected ? desk_find(con->desk, sv->selected) : NULL;
}

/* Whether c is this supervisor's to reply to. */
static int
is_mine(const struct console *con, const struct desk_conv *c)
{
	return c != NULL && c->handler == HANDLER_HUMAN && c->owner &&
	       strcmp(c->owner, con->supervisor) == 0;
}

/* The console's theme, for the draw in progress. */
static const struct theme *th;
#define ATTR(role) theme_attr(th, role)

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : "";
}

/* "42s", "3m", "2h05", "3d": short enough for a queue row. */
static void
age(time_t secs, char out[32])
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(out, 32, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(out, 32, "%lldm", (long long)(secs / 60));
	else if (secs < 86400)
		snprintf(out, 32, "%lldh%02lld", (long long)(secs / 3600),
		         (long long)(secs % 3600 / 60));
	else
		snprintf(out, 32, "%lldd", (long long)(secs / 86400));
}

static const char *const state_tag[HANDLER__N] = {[HANDLER_AI] = "AI  ",
                                                  [HANDLER_WAITING] = "WAIT",
                                                  [HANDLER_HUMAN] = "HUMN",
                                                  [HANDLER_RESOLVED] = "DONE"};

static const char *const urgency_tag[URG__N] = {
    [URG_CRITICAL] = "crit", [URG_HIGH] = "high", [URG_NORMAL] = "norm", [URG_LOW] = "low "};

static void
draw_title(struct console *con, struct rect r)
{
	struct desk *d = con->desk;
	char left[256], right[128];
	snprintf(left, sizeof left,
	         " frontline  %zu waiting  %zu human  %zu AI (%zu answering)  %zu resolved",
	         desk_count(d, HANDLER_WAITING), desk_count(d, HANDLER_HUMAN),
	         desk_count(d, HANDLER_AI), desk_busy(d), desk_count(d, HANDLER_RESOLVED));
	snprintf(right, sizeof right, "policy %s  you: %s ",
	         con->policy_version ? con->policy_version : "?", con->supervisor);
	ui_clear(stdscr, r, ATTR(THEME_TITLE));
	ui_put(stdscr, r.y, r.x, r.w, left, ATTR(THEME_TITLE));
	int rw = text_width(right);
	if (rw < r.w - text_width(left))
		ui_put(stdscr, r.y, r.x + r.w - rw, rw, right, ATTR(THEME_TITLE));
}

static void
draw_queue(struct console *con, const struct supervise *sv, struct rect r)
{
	size_t n;
	struct desk_conv **v = desk_list(con->desk, &n);
	if (r.h == 1) {
		/* A narrow terminal: the queue is one row, the selected conversation in it. */
		char line[256];
		size_t at = 0;
		for (size_t i = 0; i < n; i++)
			if (v[i]->id == sv->selected)
				at = i;
		if (n > 0)
			snprintf(line, sizeof line, "Queue %zu/%zu: %s %s (j/k)", at + 1, n,
			         state_tag[v[at]->handler],
			         v[at]->name ? v[at]->name : v[at]->customer_id);
		else
			snprintf(line, sizeof line, "Queue: no conversations yet");
		ui_put(stdscr, r.y, r.x, r.w, line, ATTR(THEME_SELECTED));
		return;
	}
	struct rect in = ui_box(stdscr, r, "Queue", ATTR(THEME_BORDER), A_BOLD);
	if (in.h <= 0 || in.w <= 0)
		return;
	/* Keep the selection in view. */
	size_t sel = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i]->id == sv->selected)
			sel = i;
	size_t top = sel >= (size_t)in.h ? sel - (size_t)in.h + 1 : 0;
	time_t now = desk_now();
	for (int row = 0; row < in.h && top + (size_t)row < n; row++) {
		const struct desk_conv *c = v[top + (size_t)row];
		char when[32], line[512];
		age(now - c->since, when);
		snprintf(line, sizeof line, "%s%s %s %s", state_tag[c->handler],
		         c->busy ? "*" : " ", urgency_tag[c->urgency],
		         c->name ? c->name : c->customer_id);
		attr_t a = c->id == sv->selected            ? ATTR(THEME_SELECTED)
		           : c->handler == HANDLER_WAITING  ? ATTR(THEME_WARNING)
		           : c->handler == HANDLER_RESOLVED ? ATTR(THEME_DIM)
		                                            : A_NORMAL;
		if (c->id == sv->selected)
			ui_clear(stdscr, (struct rect){in.y + row, in.x, 1, in.w}, a);
		int ww = text_width(when);
		ui_put(stdscr, in.y + row, in.x, in.w - ww - 1, line, a);
		ui_put(stdscr, in.y + row, in.x + in.w - ww, ww, when, a);
	}
	if (n == 0)
		ui_put(stdscr, in.y, in.x, in.w, "no conversations yet", ATTR(THEME_DIM));
}

/* The chat pane's lines: every message wrapped, with who said it. */
static void
chat_lines(const struct desk_conv *c, int w, struct strv *lines, struct strv *roles)
{
	for (size_t i = 0; i < c->nmsgs; i++) {
		const struct desk_msg *m = &c->msgs[i];
		char *who;
		if (strcmp(m->role, "customer") == 0)
			who = xasprintf("%s: ", c->name ? c->name : "customer");
		else if (strcmp(m->role, "ai") == 0)
			who = xstrdup("AI: ");
		else if (strcmp(m->role, "human") == 0)
			who = xasprintf("%s: ", c->owner ? c->owner : "human");
		else
			who = xstrdup("-- ");
		char *safe = text_sanitize(m->text, strlen(m->text));
		char *all =
		    xasprintf("%s%s%s", who, safe, strcmp(m->role, "note") == 0 ? " --" : "");
		size_t before = lines->n;
		text_wrap(all, w, lines);
		for (size_t k = before; k < lines->n; k++)
			strv_add(roles, m->role);
		strv_add(lines, "");
		strv_add(roles, "note");
		free(who);
		free(safe);
		free(all);
	}
	if (c->stream.len > 0) {
		char *safe = text_sanitize(c->stream.data, c->stream.len);
		char *all = xasprintf("AI (writing): %s", safe);
		size_t before = lines->n;
		text_wrap(all, w, lines);
		for (size_t k = before; k < lines->n; k++)
			strv_add(roles, "stream");
		free(safe);
		free(all);
	} else if (c->busy) {
		strv_add(lines, "AI is answering...");
		strv_add(roles, "stream");
	}
}

static attr_t
role_attr(const char *role)
{
	if (strcmp(role, "customer") == 0)
		return ATTR(THEME_CUSTOMER);
	if (strcmp(role, "ai") == 0)
		return ATTR(THEME_AI);
	if (strcmp(role, "human") == 0)
		return ATTR(THEME_HUMAN);
	if (strcmp(role, "stream") == 0)
		return ATTR(THEME_STREAMING);
	return ATTR(THEME_SYSTEM);
}

static void
draw_chat(const struct supervise *sv, const struct desk_conv *c, struct rect r)
{
	char title[256];
	if (c == NULL) {
		ui_box(stdscr, r, "Chat", ATTR(THEME_BORDER), A_BOLD);
		return;
	}
	const char *who = c->handler == HANDLER_AI        ? "AI handling"
	                  : c->handler == HANDLER_WAITING ? "waiting for a human"
	                  : c->handler == HANDLER_HUMAN   ? "human"
	                                                  : "resolved";
	snprintf(title, sizeof title, "#%lld %s %s, %s, %s%s%s", (long long)c->id, c->customer_id,
	         c->name ? c->name : "", tier_names[c->tier], who,
	         c->handler == HANDLER_HUMAN && c->owner ? ": " : "",
	         c->handler == HANDLER_HUMAN && c->owner ? c->owner : "");
	struct rect in = ui_box(stdscr, r, title, ATTR(THEME_BORDER), A_BOLD);
	if (in.h <= 0 || in.w <= 0)
		return;
	struct strv lines = {0}, roles = {0};
	chat_lines(c, in.w, &lines, &roles);
	/* The newest at the bottom; chat_scroll lines up from there. */
	int total = (int)lines.n;
	int max_scroll = total > in.h ? total - in.h : 0;
	int scroll = sv->chat_scroll < max_scroll ? sv->chat_scroll : max_scroll;
	int first = total - in.h - scroll;
	if (first < 0)
		first = 0;
	for (int row = 0; row < in.h && first + row < total; row++)
		ui_put(stdscr, in.y + row, in.x, in.w, lines.v[first + row],
		       role_attr(roles.v[first + row]));
	if (scroll > 0) {
		char more[32];
		snprintf(more, sizeof more, "[%d more below]", scroll);
		ui_put(stdscr, r.y + r.h - 1, r.x + r.w - 2 - text_width(more), text_width(more),
		       more, ATTR(THEME_DIM));
	}
	strv_free(&lines);
	strv_free(&roles);
}

/* Writes one "label value" row of a panel; returns the next row. */
static int
panel_row(struct rect in, int y, const char *label, const char *value, attr_t a)
{
	if (y >= in.y + in.h)
		return y;
	int lw = text_width(label);
	ui_put(stdscr, y, in.x, in.w, label, ATTR(THEME_DIM));
	if (lw + 1 < in.w)
		ui_put(stdscr, y, in.x + lw + 1, in.w - lw - 1, value, a);
	return y + 1;
}

static void
draw_triage(const struct desk_conv *c, struct rect r)
{
	struct rect in = ui_box(stdscr, r, "Triage", ATTR(THEME_BORDER), A_BOLD);
	if (in.h <= 0 || in.w <= 0 || c == NULL || c->triage == NULL)
		return;
	const cJSON *t = c->triage;
	char buf[512];
	int y = in.y;
	snprintf(buf, sizeof buf, "%s (%.2f)", str(t, "intent_category"),
	         cJSON_GetNumberValue(cJSON_GetObjectItem(t, "intent_confidence")));
	y = panel_row(in, y, "intent    ", buf, A_BOLD);
	snprintf(buf, sizeof buf, "%s  complexity %s", str(t, "urgency"),
	         str(t, "complexity_signal"));
	y = panel_row(in, y, "urgency   ", buf,
	              strcmp(str(t, "urgency"), "critical") == 0 ||
	                      strcmp(str(t, "urgency"), "high") == 0
	                  ? ATTR(THEME_WARNING)
	                  : A_NORMAL);
	/* Sentiment over the turns, oldest first: the trend is the signal. */
	struct buf b;
	buf_init(&b, 0);
	size_t from = c->sentiments.n > 8 ? c->sentiments.n - 8 : 0;
	for (size_t i = from; i < c->sentiments.n; i++)
		buf_printf(&b, "%s%s", i > from ? " > " : "", c->sentiments.v[i]);
	y = panel_row(in, y, "sentiment ", b.data ? b.data : "",
	              strcmp(str(t, "sentiment"), "frustrated") == 0 ? ATTR(THEME_WARNING)
	                                                             : A_NORMAL);
	buf_reset(&b);
	const cJSON *ents = cJSON_GetObjectItem(t, "entities"), *kind, *e;
	cJSON_ArrayForEach(kind, ents)
	{
		cJSON_ArrayForEach(e, kind)
		{
			if (cJSON_IsString(e))
				buf_printf(&b, "%s%s", b.len ? ", " : "", e->valuestring);
			else if (cJSON_IsObject(e))
				buf_printf(&b, "%s%.2f %s", b.len ? ", " : "",
				           cJSON_GetNumberValue(cJSON_GetObjectItem(e, "value")),
				           str(e, "currency"));
		}
	}
	y = panel_row(in, y, "entities  ", b.len ? b.data : "none", A_NORMAL);
	buf_free(&b);
	y = panel_row(in, y, "route     ", str(t, "route"),
	              strncmp(str(t, "route"), "human", 5) == 0 ? ATTR(THEME_WARNING) : A_NORMAL);
	if (cJSON_IsTrue(cJSON_GetObjectItem(t, "has_legal_language")))
		panel_row(in, y, "legal     ", "legal language", ATTR(THEME_WARNING));
}

static void
draw_knowledge(const struct desk_conv *c, struct rect r)
{
	struct rect in = ui_box(stdscr, r, "Knowledge", ATTR(THEME_BORDER), A_BOLD);
	if (in.h <= 0 || in.w <= 0 || c == NULL)
		return;
	int y = in.y;
	const cJSON *h;
	if (cJSON_GetArraySize(c->knowledge) == 0) {
		ui_put(stdscr, y, in.x, in.w, c->knowledge ? "nothing retrieved" : "",
		       ATTR(THEME_DIM));
		return;
	}
	cJSON_ArrayForEach(h, c->knowledge)
	{
		if (y >= in.y + in.h)
			break;
		int stale = cJSON_IsTrue(cJSON_GetObjectItem(h, "stale"));
		char head[64];
		snprintf(head, sizeof head, "%.2f %4dd ",
		         cJSON_GetNumberValue(cJSON_GetObjectItem(h, "confidence")),
		         (int)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "freshness_days")));
		int x = in.x, hw = text_width(head);
		ui_put(stdscr, y, x, in.w, head, A_NORMAL);
		x += hw;
		if (stale && x + 6 <= in.x + in.w) {
			ui_put(stdscr, y, x, 5, "STALE", ATTR(THEME_STALE));
			x += 6;
		}
		ui_put(stdscr, y, x, in.x + in.w - x, str(h, "title"),
		       stale ? ATTR(THEME_DIM) : A_NORMAL);
		y++;
	}
}

static void
draw_signals(const struct desk_conv *c, struct rect r)
{
	struct rect in = ui_box(stdscr, r, "Escalation", ATTR(THEME_BORDER), A_BOLD);
	if (in.h <= 0 || in.w <= 0 || c == NULL || c->escalation == NULL)
		return;
	int y = in.y;
	const cJSON *e = c->escalation;
	if (cJSON_IsTrue(cJSON_GetObjectItem(e, "escalate"))) {
		char buf[160];
		snprintf(buf, sizeof buf, "ESCALATE: %s", str(e, "reason"));
		ui_put(stdscr, y++, in.x, in.w, buf, ATTR(THEME_WARNING) | A_BOLD);
	}
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(e, "signals"))
	{
		if (y >= in.y + in.h)
			break;
		int fired = cJSON_IsTrue(cJSON_GetObjectItem(s, "fired"));
		int applies = cJSON_IsTrue(cJSON_GetObjectItem(s, "applies"));
		char name[40];
		snprintf(name, sizeof name, "%-2s%-22s", fired ? "!" : "", s->string);
		ui_put(stdscr, y, in.x, in.w, name,
		       fired     ? ATTR(THEME_WARNING) | A_BOLD
		       : applies ? A_NORMAL
		                 : ATTR(THEME_DIM));
		if (in.w > 25)
			ui_put(stdscr, y, in.x + 25, in.w - 25, str(s, "detail"),
			       fired     ? ATTR(THEME_WARNING)
			       : applies ? A_NORMAL
			                 : ATTR(THEME_DIM));
		y++;
	}
}

static void
draw_guardrails(const struct supervise *sv, const struct desk_conv *c, struct rect r)
{
	struct rect in = ui_box(stdscr, r, "Guardrails", ATTR(THEME_BORDER), A_BOLD);
	if (in.h <= 0 || in.w <= 0 || c == NULL)
		return;
	int y = in.y;
	const cJSON *v = sv->held_validation ? sv->held_validation : c->validation;
	if (v == NULL)
		return;
	const char *whose = sv->held_validation ? "your reply" : "last reply";
	const cJSON *viol = cJSON_GetObjectItem(v, "violations"), *x;
	char buf[128];
	if (cJSON_IsTrue(cJSON_GetObjectItem(v, "passed"))) {
		snprintf(buf, sizeof buf, "%s: validation passed", whose);
		ui_put(stdscr, y, in.x, in.w, buf, ATTR(THEME_OK));
		return;
	}
	snprintf(buf, sizeof buf, "%s: %d violation%s", whose, cJSON_GetArraySize(viol),
	         cJSON_GetArraySize(viol) == 1 ? "" : "s");
	ui_put(stdscr, y++, in.x, in.w, buf, ATTR(THEME_WARNING) | A_BOLD);
	cJSON_ArrayForEach(x, viol)
	{
		if (y >= in.y + in.h)
			break;
		ui_put(stdscr, y++, in.x + 2, in.w - 2,
		       cJSON_GetStringValue(x) ? x->valuestring : "?", ATTR(THEME_WARNING));
	}
}

/* The packet over the chat pane: what the human reads before replying. */
static void
draw_packet(const struct supervise *sv, const struct desk_conv *c, struct rect r)
{
	char title[128];
	snprintf(title, sizeof title, "Handoff packet #%lld: %s (any key: reply, p: close)",
	         (long long)c->handoff_id, str(c->packet, "reason"));
	ui_clear(stdscr, r, A_NORMAL);
	struct rect in = ui_box(stdscr, r, title, ATTR(THEME_WARNING), A_BOLD);
	if (in.h <= 0 || in.w <= 0)
		return;
	struct strv lines = {0};
	char *safe = text_sanitize(str(c->packet, "text"), strlen(str(c->packet, "text")));
	/* The text has its knowledge lines, stale ones marked: drawn once. */
	text_wrap(safe, in.w, &lines);
	free(safe);
	int first = sv->packet_scroll < (int)lines.n ? sv->packet_scroll : 0;
	for (int row = 0; row < in.h && first + row < (int)lines.n; row++)
		ui_put(stdscr, in.y + row, in.x, in.w, lines.v[first + row],
		       strstr(lines.v[first + row], "STALE") ? ATTR(THEME_STALE) : A_NORMAL);
	strv_free(&lines);
}

static void
draw_footer(struct console *con, const struct desk_conv *c, struct rect r)
{
	static const struct {
		const char *key, *label;
	} ai[] = {{"F1", "Help"},    {"F2", "Handoffs"}, {"Enter", "Take over"},
	          {"p", "Packet"},   {"r", "Resolve"},   {"F3", "Review"},
	          {"F4", "Metrics"}, {"F5", "Replay"},   {"F10", "Quit"}},
	  mine[] = {{"Enter", "Reply"}, {"Esc", "Leave line"}, {"b", "Back to AI"},
	            {"r", "Resolve"},   {"p", "Packet"},       {"F10", "Quit"}};
	int ours = is_mine(con, c);
	int x = r.x;
	size_t n = ours ? nitems(mine) : nitems(ai);
	ui_clear(stdscr, r, ATTR(THEME_FOOTER_LABEL));
	for (size_t i = 0; i < n && x < r.x + r.w; i++) {
		const char *k = ours ? mine[i].key : ai[i].key,
		           *l = ours ? mine[i].label : ai[i].label;
		int kw = text_width(k), lw = text_width(l);
		ui_put(stdscr, r.y, x, r.x + r.w - x, k, ATTR(THEME_FOOTER_KEY));
		x += kw;
		if (x < r.x + r.w)
			ui_put(stdscr, r.y, x, r.x + r.w - x, l, ATTR(THEME_FOOTER_LABEL));
		x += lw + 1;
	}
	/* While the human types, the reply line is where the status goes: it moves here. */
	if (con->typing && con->status[0] != '\0' && x + 2 < r.x + r.w)
		ui_put(stdscr, r.y, x + 1, r.x + r.w - x - 1, con->status,
		       con->status_error ? ATTR(THEME_WARNING) : ATTR(THEME_FOOTER_LABEL));
}

static void
supervise_draw(struct console *con, void *state)
{
	const struct supervise *sv = state;
	struct supervise_layout L;
	th = &con->theme;
	layout_supervise(LINES, COLS, 1, &L);
	if (L.too_small) {
		ui_put(stdscr, L.message.y, L.message.x, L.message.w, LAYOUT_TOO_SMALL, A_BOLD);
		return;
	}
	struct desk_conv *c = selected(con, sv);
	draw_title(con, L.title);
	draw_queue(con, sv, L.queue);
	draw_chat(sv, c, L.chat);
	draw_triage(c, L.panel[PANEL_TRIAGE]);
	draw_knowledge(c, L.panel[PANEL_KNOWLEDGE]);
	draw_signals(c, L.panel[PANEL_SIGNALS]);
	draw_guardrails(sv, c, L.panel[PANEL_GUARDRAILS]);
	if (sv->show_packet && c != NULL && c->packet != NULL)
		draw_packet(sv, c, L.chat);
	draw_footer(con, c, L.footer);
	/* The reply line when typing, else the status. */
	if (con->typing && L.input.w > 0) {
		char prompt[96];
		snprintf(prompt, sizeof prompt, "reply to %s> ",
		         c && c->name ? c->name : "customer");
		ui_input_draw(con->input, stdscr, L.input.y, L.input.x, L.input.w, prompt,
		              A_NORMAL);
	} else if (L.input.w > 0 && con->status[0] != '\0')
		ui_put(stdscr, L.input.y, L.input.x, L.input.w, con->status,
		       con->status_error ? ATTR(THEME_WARNING) : ATTR(THEME_DIM));
}

/* ------------------------------------------------------------- commands */

/* Moves the selection by delta rows of the queue (clamped). */
static void
select_move(struct console *con, struct supervise *sv, long delta)
{
	size_t n;
	struct desk_conv **v = desk_list(con->desk, &n);
	if (n == 0)
		return;
	long at = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i]->id == sv->selected)
			at = (long)i;
	at += delta;
	if (at < 0)
		at = 0;
	if (at >= (long)n)
		at = (long)n - 1;
	if (v[at]->id != sv->selected) {
		sv->selected = v[at]->id;
		sv->chat_scroll = 0;
		sv->show_packet = 0;
		sv->asking_outcome = 0;
	}
	console_dirty(con);
}

static void
clear_held(struct supervise *sv)
{
	free(sv->held);
	sv->held = NULL;
	cJSON_Delete(sv->held_validation);
	sv->held_validation = NULL;
}

static void
take_over(struct console *con, struct supervise *sv)
{
	struct desk_conv *c = selected(con, sv);
	char *cause = NULL;
	if (c == NULL)
		return;
	if (c->handler == HANDLER_HUMAN) {
		if (is_mine(con, c)) {
			console_typing(con, 1);
			return;
		}
		console_status(con, 1, "%s has this conversation",
		               c->owner ? c->owner : "another human");
		return;
	}
	if (desk_takeover(con->desk, c, con->supervisor, &cause) != 0) {
		console_status(con, 1, "cannot take over: %s", cause);
		free(cause);
		return;
	}
	clear_held(sv);
	/* The packet first: the human reads it before writing. */
	sv->show_packet = 1;
	sv->packet_scroll = 0;
	console_status(con, 0, "you have conversation %lld: read the packet, then any key to reply",
	               (long long)c->id);
	console_typing(con, 0);
}

static void
hand_back(struct console *con, struct supervise *sv)
{
	struct desk_conv *c = selected(con, sv);
	char *cause = NULL;
	if (c == NULL)
		return;
	if (desk_handback(con->desk, c, &cause) != 0) {
		console_status(con, 1, "cannot hand back: %s", cause);
		free(cause);
		return;
	}
	clear_held(sv);
	console_typing(con, 0);
	console_status(con, 0, "conversation %lld is the AI's again", (long long)c->id);
}

static void
resolve(struct console *con, struct supervise *sv, const char *outcome)
{
	struct desk_conv *c = selected(con, sv);
	char *cause = NULL;
	sv->asking_outcome = 0;
	if (c == NULL)
		return;
	if (desk_resolve(con->desk, c, outcome, NULL, &cause) != 0) {
		console_status(con, 1, "cannot close: %s", cause);
		free(cause);
		return;
	}
	clear_held(sv);
	console_typing(con, 0);
	console_status(con, 0, "conversation %lld %s", (long long)c->id, outcome);
}

/* The reply line gave a line: send it through the guardrails. NULL: Escape left it. */
static void
supervise_line(struct console *con, void *state, const char *text)
{
	struct supervise *sv = state;
	if (text == NULL) {
		console_typing(con, 0);
		console_status(con, 0,
		               "reply line left, draft kept (Enter: back to it, b: hand back, r: "
		               "close)");
		return;
	}
	struct desk_conv *c = selected(con, sv);
	char *cause = NULL;
	cJSON *v = NULL;
	if (c == NULL || *text == '\0')
		return;
	/* The same text again after a warning: the human overrides it. */
	int override = sv->held != NULL && strcmp(sv->held, text) == 0;
	int rc = desk_human_say(con->desk, c, text, override, &v, &cause);
	if (rc < 0) {
		console_status(con, 1, "not sent: %s", cause);
		free(cause);
		return;
	}
	clear_held(sv);
	if (rc == 1) {
		sv->held = xstrdup(text);
		sv->held_validation = v;
		ui_input_set_line(con->input, text);
		int n = cJSON_GetArraySize(cJSON_GetObjectItem(v, "violations"));
		console_status(
		    con, 1,
		    "held back: %d guardrail warning%s -- edit the reply, or Enter to send "
		    "it anyway",
		    n, n == 1 ? "" : "s");
		return;
	}
	cJSON_Delete(v);
	sv->chat_scroll = 0;
	console_status(con, 0, override ? "sent despite the warnings (recorded)" : "sent");
}

/* While the outcome is asked for: r or a closes, anything else cancels. */
static void
key_outcome(struct console *con, struct supervise *sv, int k)
{
	sv->asking_outcome = 0;
	if (k == 'r' || k == 'R')
		resolve(con, sv, "resolved");
	else if (k == 'a' || k == 'A')
		resolve(con, sv, "abandoned");
	else
		console_status(con, 0, "not closed");
}

/* While the packet is up: scroll it, close it, or any other key to reply. */
static void
key_packet(struct console *con, struct supervise *sv, int k)
{
	switch (k) {
	case KEY_DOWN:
	case 'j':
		sv->packet_scroll++;
		break;
	case KEY_UP:
	case 'k':
		if (sv->packet_scroll > 0)
			sv->packet_scroll--;
		break;
	case 'q':
	case 27:
	case 'p':
		sv->show_packet = 0;
		break;
	default:
		/* Read: now reply, when it is ours. */
		sv->show_packet = 0;
		if (is_mine(con, selected(con, sv)))
			console_typing(con, 1);
	}
}

static int
supervise_key(struct console *con, void *state, int k)
{
	struct supervise *sv = state;
	struct desk_conv *c = selected(con, sv);
	if (sv->asking_outcome) {
		key_outcome(con, sv, k);
		return 1;
	}
	if (sv->show_packet) {
		key_packet(con, sv, k);
		return 1;
	}
	switch (k) {
	case KEY_UP:
	case 'k':
		select_move(con, sv, -1);
		break;
	case KEY_DOWN:
	case 'j':
		select_move(con, sv, 1);
		break;
	case KEY_HOME:
	case 'g':
		select_move(con, sv, -1000000);
		break;
	case KEY_END:
	case 'G':
		select_move(con, sv, 1000000);
		break;
	case KEY_PPAGE:
		sv->chat_scroll += LINES / 2;
		break;
	case KEY_NPAGE:
		sv->chat_scroll = sv->chat_scroll > LINES / 2 ? sv->chat_scroll - LINES / 2 : 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 't':
		take_over(con, sv);
		break;
	case 'b':
		hand_back(con, sv);
		break;
	case 'r':
		if (c != NULL && c->handler != HANDLER_RESOLVED) {
			sv->asking_outcome = 1;
			console_status(
			    con, 0,
			    "close conversation %lld as: r resolved, a abandoned, any other "
			    "key: cancel",
			    (long long)c->id);
		}
		break;
	case 'p':
		if (c != NULL && c->packet != NULL) {
			sv->show_packet = 1;
			sv->packet_scroll = 0;
		} else
			console_status(con, 0, "no handoff packet for this conversation");
		break;
	default:
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ the screen */

static void *
supervise_open(struct console *con)
{
	return xcalloc(1, sizeof(struct supervise));
}

static void
supervise_close(struct console *con, void *state)
{
	struct supervise *sv = state;
	clear_held(sv);
	free(sv);
}

/* Shown: a conversation is selected when there is one. */
static int
supervise_show(struct console *con, void *state)
{
	struct supervise *sv = state;
	if (sv->selected == 0) {
		size_t n;
		struct desk_conv **v = desk_list(con->desk, &n);
		sv->selected = n ? v[0]->id : 0;
	}
	return 0;
}

/* The first conversation to appear is selected. */
static void
supervise_changed(struct console *con, void *state, struct desk_conv *c)
{
	struct supervise *sv = state;
	if (sv->selected == 0)
		sv->selected = c->id;
}

static const struct ui_help help[] = {
    {"Up/Down, j/k", "select a conversation (waiting ones first, most urgent on top)"},
    {"Home/End, g/G", "first / last conversation"},
    {"PgUp/PgDn", "scroll the chat"},
    {"Enter, t", "take the conversation over (the handoff packet is shown first)"},
    {"p", "show the handoff packet"},
    {"b", "hand the conversation back to the AI"},
    {"r", "close it: then r resolved, a abandoned"},
    {NULL, "Replying (after a takeover)"},
    {"Enter", "send the reply through the guardrails; a reply with warnings is held"},
    {"", "back: fix it, or press Enter again to send it anyway (recorded)"},
    {"Esc", "leave the reply line (Enter goes back to it)"},
    {"Ctrl-A/E/K, Up", "readline editing and history (~/.inputrc is honoured)"},
    {NULL, "Signs"},
    {"WAIT HUMN AI DONE", "waiting for a human, human-owned, AI handling, resolved"},
    {"*", "the AI is answering; crit/high/norm/low: urgency"},
    {"STALE", "a knowledge fact older than the policy allows"},
    {"!", "an escalation signal that fired"},
    {NULL, NULL},
};

const struct console_screen ui_supervise_screen = {
    .name = "Supervise",
    .what = "the Supervise screen: the queue and the live chats",
    .help = help,
    .open = supervise_open,
    .close = supervise_close,
    .show = supervise_show,
    .key = supervise_key,
    .draw = supervise_draw,
    .line = supervise_line,
    .changed = supervise_changed,
};
