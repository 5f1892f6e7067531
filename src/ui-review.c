/* ui-review.c -- the Review screen: handoff packets with their reviews, and a packet under review.
 */
#include "config.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "review.h"
#include "types.h"
#include "ui-draw.h"
#include "ui-text.h"
#include "ui-theme.h"

/* The console's theme, for the draw in progress. */
static const struct theme *th;
#define ATTR(role) theme_attr(th, role)

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

/* Sanitises and wraps text (untrusted: customer words, model text) into out. */
static void
wrap(struct strv *out, const char *text, int w)
{
	char *safe = text_sanitize(text, strlen(text));
	text_wrap(safe, w, out);
	free(safe);
}

static void wrapf(struct strv *out, int w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
wrapf(struct strv *out, int w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	wrap(out, s, w);
	free(s);
}

/* "category, reason" of what a correction says was wrong. Caller frees. */
static char *
wrong_of(const cJSON *corr)
{
	struct buf b;
	buf_init(&b, 0);
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(corr, "wrong"))
	{
		if (cJSON_IsString(x))
			buf_printf(&b, "%s%s", b.len ? ", " : "", x->valuestring);
	}
	if (b.len == 0)
		buf_adds(&b, "right");
	char *s = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves an empty buffer behind */
	return s;
}

static void
draw_list(struct console *con, struct rect body)
{
	int n = cJSON_GetArraySize(con->handoffs), todo = 0;
	const cJSON *h;
	cJSON_ArrayForEach(h, con->handoffs)
	{
		todo += review_latest(con->reviews, (int64_t)cJSON_GetNumberValue(
		                                        cJSON_GetObjectItem(h, "id"))) == NULL;
	}
	char head[128];
	snprintf(head, sizeof head, "%d packet%s, %d to review", n, n == 1 ? "" : "s", todo);
	ui_put(stdscr, body.y, 1, body.w - 2, head, ATTR(THEME_DIM));
	if (n == 0) {
		ui_put(stdscr, body.y + 2, 2, body.w - 4, "no handoff packets yet",
		       ATTR(THEME_DIM));
		return;
	}
	struct rect list = {body.y + 1, 0, body.h - 1, body.w};
	int top = con->review_sel >= list.h ? con->review_sel - list.h + 1 : 0;
	for (int r = 0; r < list.h && top + r < n; r++) {
		h = cJSON_GetArrayItem(con->handoffs, top + r);
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "id"));
		const cJSON *rv = review_latest(con->reviews, id);
		char *w = rv ? wrong_of(cJSON_GetObjectItem(rv, "correction")) : NULL;
		char line[512];
		snprintf(line, sizeof line, "%s #%-5lld %-14.14s %-34.34s %s%s", rv ? "[x]" : "[ ]",
		         (long long)id, str(h, "customer"), str(h, "reason"),
		         rv ? "reviewed: " : "", w ? w : "");
		free(w);
		char *safe = text_sanitize(line, strlen(line));
		int sel = top + r == con->review_sel;
		attr_t a = sel ? ATTR(THEME_SELECTED) : rv ? ATTR(THEME_DIM) : A_NORMAL;
		if (sel)
			ui_clear(stdscr, (struct rect){list.y + r, 0, 1, body.w}, a);
		ui_put(stdscr, list.y + r, 1, body.w - 2, safe, a);
		free(safe);
	}
}

/* The reviewer's draft as the correction it would save. */
static const char *
draft_category(const struct console *con)
{
	return con->rv_category >= 0 ? category_names[con->rv_category]
	                             : con->reviewing->ai_category;
}

static void
draw_packet(struct console *con, struct rect body)
{
	const struct review_packet *rp = con->reviewing;
	int w = body.w - 2;
	struct strv head = {0}, lines = {0};

	wrapf(&head, w, "Handoff #%lld  conversation %lld  queue %s", (long long)rp->id,
	      (long long)rp->conv, str(rp->packet, "queue"));
	wrapf(&head, w, "AI decided:   category %-10s  reason %s",
	      rp->ai_category ? rp->ai_category : "?", rp->ai_reason ? rp->ai_reason : "?");
	const char *cat = draft_category(con);
	const char *reason = con->rv_reason < 0 ? rp->ai_reason
	                     : (size_t)con->rv_reason < con->rv_reasons.n
	                         ? con->rv_reasons.v[con->rv_reason]
	                         : "none: should not have escalated";
	wrapf(&head, w, "Correction:   category %-10s  reason %s", cat ? cat : "?",
	      reason ? reason : "?");
	for (size_t i = 0; i < con->rv_missing.n; i++)
		wrapf(&head, w, "Missing:      %s", con->rv_missing.v[i]);
	if (con->rv_note != NULL)
		wrapf(&head, w, "Note:         %s", con->rv_note);
	const cJSON *prev = review_latest(con->reviews, rp->id);
	if (prev != NULL) {
		char *wr = wrong_of(cJSON_GetObjectItem(prev, "correction"));
		wrapf(&head, w, "Reviewed by %s at %s: %s", str(prev, "reviewer"),
		      str(prev, "created"), wr);
		free(wr);
	}

	wrap(&lines, str(rp->packet, "text"), w);
	strv_add(&lines, "");
	strv_add(&lines, "Transcript");
	const cJSON *m;
	cJSON_ArrayForEach(m, rp->messages)
	{
		const char *role = str(m, "role");
		wrapf(&lines, w, "%s: %s",
		      strcmp(role, "customer") == 0 ? "Customer"
		      : strcmp(role, "ai") == 0     ? "AI"
		                                    : "Human",
		      str(m, "text"));
	}

	int y = body.y;
	for (size_t i = 0; i < head.n && y < body.y + body.h; i++, y++) {
		const char *l = head.v[i];
		attr_t a = i == 0                               ? A_BOLD
		           : strncmp(l, "Correction:", 11) == 0 ? ATTR(THEME_OK) | A_BOLD
		           : strncmp(l, "Missing:", 8) == 0     ? ATTR(THEME_WARNING)
		                                                : A_NORMAL;
		ui_put(stdscr, y, 1, w, l, a);
	}
	if (y < body.y + body.h)
		ui_fill(stdscr, y++, 1, w, A_NORMAL);
	int rows = body.y + body.h - y;
	int first = con->review_scroll;
	if (first > (int)lines.n - 1)
		first = lines.n > 0 ? (int)lines.n - 1 : 0;
	for (int r = 0; r < rows && first + r < (int)lines.n; r++) {
		const char *l = lines.v[first + r];
		attr_t a = strncmp(l, "Customer:", 9) == 0 ? ATTR(THEME_CUSTOMER)
		           : strncmp(l, "AI:", 3) == 0     ? ATTR(THEME_AI)
		           : strncmp(l, "Human:", 6) == 0  ? ATTR(THEME_HUMAN)
		           : strcmp(l, "Transcript") == 0  ? A_BOLD
		                                           : A_NORMAL;
		ui_put(stdscr, y + r, 1, w, l, a);
	}
	strv_free(&head);
	strv_free(&lines);
}

void
ui_review_draw(struct console *con)
{
	static const struct ui_key list_keys[] = {{"Enter", "Review"}, {"Up/Down", "Select"},
	                                          {"q", "Back"},       {"F2", "Handoffs"},
	                                          {"F4", "Metrics"},   {"F5", "Replay"},
	                                          {"F1", "Help"},      {NULL, NULL}},
	                           packet_keys[] = {
	                               {"c/C", "Category"},   {"e/E", "Reason"}, {"m", "Missing"},
	                               {"d", "Drop missing"}, {"n", "Note"},     {"s", "Save"},
	                               {"q", "Back"},         {"F1", "Help"},    {NULL, NULL}};
	th = &con->theme;
	struct rect body =
	    ui_tool_frame(con, con->reviewing ? "trainer review: handoff packet" : "trainer review",
	                  con->reviewing ? packet_keys : list_keys);
	if (body.h <= 0)
		return;
	if (con->reviewing != NULL)
		draw_packet(con, body);
	else
		draw_list(con, body);
}
