/* ui-review.c -- the Review screen: handoff packets with their reviews, and a packet under review.
 */
#include "config.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agents.h"
#include "console.h"
#include "review.h"
#include "store.h"
#include "types.h"
#include "ui-draw.h"
#include "ui-text.h"
#include "ui-theme.h"
#include "util.h"

struct trainer {
	cJSON *handoffs; /* store_handoff_list, read when the list shows */
	cJSON *reviews;  /* store_reviews, likewise */
	int sel;
	struct review_packet *reviewing; /* the packet under review, or NULL for the list */
	int scroll;
	/* The draft correction. */
	int category;        /* index in category_names; -1: the AI's */
	int reason;          /* index in reasons; reasons.n: no escalation; -1: the AI's */
	struct strv reasons; /* every reason under the policy */
	struct strv missing;
	char *note;
};

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
draw_list(const struct trainer *t, struct rect body)
{
	int n = cJSON_GetArraySize(t->handoffs), unreviewed = 0;
	const cJSON *h;
	cJSON_ArrayForEach(h, t->handoffs)
	{
		unreviewed += review_latest(t->reviews, (int64_t)cJSON_GetNumberValue(
		                                            cJSON_GetObjectItem(h, "id"))) == NULL;
	}
	char head[128];
	snprintf(head, sizeof head, "%d packet%s, %d to review", n, n == 1 ? "" : "s", unreviewed);
	ui_put(stdscr, body.y, 1, body.w - 2, head, ATTR(THEME_DIM));
	if (n == 0) {
		ui_put(stdscr, body.y + 2, 2, body.w - 4, "no handoff packets yet",
		       ATTR(THEME_DIM));
		return;
	}
	struct rect list = {body.y + 1, 0, body.h - 1, body.w};
	int top = t->sel >= list.h ? t->sel - list.h + 1 : 0;
	for (int r = 0; r < list.h && top + r < n; r++) {
		h = cJSON_GetArrayItem(t->handoffs, top + r);
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "id"));
		const cJSON *rv = review_latest(t->reviews, id);
		char *w = rv ? wrong_of(cJSON_GetObjectItem(rv, "correction")) : NULL;
		char line[512];
		snprintf(line, sizeof line, "%s #%-5lld %-14.14s %-34.34s %s%s", rv ? "[x]" : "[ ]",
		         (long long)id, str(h, "customer"), str(h, "reason"),
		         rv ? "reviewed: " : "", w ? w : "");
		free(w);
		char *safe = text_sanitize(line, strlen(line));
		int sel = top + r == t->sel;
		attr_t a = sel ? ATTR(THEME_SELECTED) : rv ? ATTR(THEME_DIM) : A_NORMAL;
		if (sel)
			ui_clear(stdscr, (struct rect){list.y + r, 0, 1, body.w}, a);
		ui_put(stdscr, list.y + r, 1, body.w - 2, safe, a);
		free(safe);
	}
}

/* The reviewer's draft as the correction it would save. */
static const char *
draft_category(const struct trainer *t)
{
	return t->category >= 0 ? category_names[t->category] : t->reviewing->ai_category;
}

static void
draw_packet(const struct trainer *t, struct rect body)
{
	const struct review_packet *rp = t->reviewing;
	int w = body.w - 2;
	struct strv head = {0}, lines = {0};

	wrapf(&head, w, "Handoff #%lld  conversation %lld  queue %s", (long long)rp->id,
	      (long long)rp->conv, str(rp->packet, "queue"));
	wrapf(&head, w, "AI decided:   category %-10s  reason %s",
	      rp->ai_category ? rp->ai_category : "?", rp->ai_reason ? rp->ai_reason : "?");
	const char *cat = draft_category(t);
	const char *reason = t->reason < 0                      ? rp->ai_reason
	                     : (size_t)t->reason < t->reasons.n ? t->reasons.v[t->reason]
	                                                        : "none: should not have escalated";
	wrapf(&head, w, "Correction:   category %-10s  reason %s", cat ? cat : "?",
	      reason ? reason : "?");
	for (size_t i = 0; i < t->missing.n; i++)
		wrapf(&head, w, "Missing:      %s", t->missing.v[i]);
	if (t->note != NULL)
		wrapf(&head, w, "Note:         %s", t->note);
	const cJSON *prev = review_latest(t->reviews, rp->id);
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
	int first = t->scroll;
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

static void
trainer_draw(struct console *con, void *state)
{
	const struct trainer *t = state;
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
	    ui_tool_frame(con, t->reviewing ? "trainer review: handoff packet" : "trainer review",
	                  t->reviewing ? packet_keys : list_keys);
	if (body.h <= 0)
		return;
	if (t->reviewing != NULL)
		draw_packet(t, body);
	else
		draw_list(t, body);
}

/* ------------------------------------------------------------- commands */

/* The list and its reviews afresh; the selection stays in it. */
static void
reload(struct console *con, struct trainer *t)
{
	char *cause = NULL;
	cJSON *list = NULL, *reviews = NULL;
	if (store_handoff_list(con->st, &list, &cause) != 0 ||
	    store_reviews(con->st, &reviews, &cause) != 0) {
		console_status(con, 1, "review: %s", cause);
		free(cause);
		cJSON_Delete(list);
		return;
	}
	cJSON_Delete(t->handoffs);
	t->handoffs = list;
	cJSON_Delete(t->reviews);
	t->reviews = reviews;
	int n = cJSON_GetArraySize(list);
	if (t->sel >= n)
		t->sel = n > 0 ? n - 1 : 0;
}

/* Drops the packet under review and its draft. */
static void
drop_packet(struct trainer *t)
{
	if (t->reviewing != NULL) {
		review_packet_free(t->reviewing);
		free(t->reviewing);
		t->reviewing = NULL;
	}
	strv_free(&t->missing);
	strv_free(&t->reasons);
	free(t->note);
	t->note = NULL;
}

static void
open_packet(struct console *con, struct trainer *t)
{
	const cJSON *row = cJSON_GetArrayItem(t->handoffs, t->sel);
	char *cause = NULL;
	if (row == NULL)
		return;
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id"));
	drop_packet(t);
	struct review_packet *rp = xcalloc(1, sizeof *rp);
	int rc = review_packet_load(con->st, id, rp, &cause);
	if (rc != 0) {
		console_status(con, 1, "handoff %lld: %s", (long long)id, rc < 0 ? cause : "gone");
		free(cause);
		free(rp);
		return;
	}
	t->reviewing = rp;
	t->scroll = 0;
	t->category = t->reason = -1;
	review_reasons(con->ag ? con->ag->policy : NULL, &t->reasons);
	console_status(con, 0,
	               "c/e change the category and reason, m adds missing information, s saves");
}

/* Steps the draft's category or reason by dir, starting from the AI's. */
static void
cycle(struct trainer *t, int reason, int dir)
{
	const struct review_packet *rp = t->reviewing;
	if (!reason) {
		int cur = t->category >= 0  ? t->category
		          : rp->ai_category ? names_find(category_names, rp->ai_category)
		                            : -1;
		if (cur < 0)
			cur = dir > 0 ? -1 : 0;
		t->category = (cur + dir + CAT__N) % CAT__N;
	} else {
		/* The reasons, then "should not have escalated". */
		int n = (int)t->reasons.n + 1, cur = t->reason;
		if (cur < 0) {
			cur = dir > 0 ? -1 : 0;
			for (size_t i = 0; rp->ai_reason && i < t->reasons.n; i++)
				if (strcmp(t->reasons.v[i], rp->ai_reason) == 0)
					cur = (int)i;
		}
		t->reason = (cur + dir + n) % n;
	}
}

static void
save(struct console *con, struct trainer *t)
{
	const struct review_packet *rp = t->reviewing;
	struct review_edit e = {0};
	char *cause = NULL;
	int64_t id;
	e.category = t->category >= 0 ? category_names[t->category] : NULL;
	if (t->reason >= 0 && (size_t)t->reason < t->reasons.n)
		e.reason = t->reasons.v[t->reason];
	e.no_escalation = t->reason >= 0 && (size_t)t->reason == t->reasons.n;
	e.missing = t->missing; /* borrowed */
	e.note = t->note;
	cJSON *corr = review_correction(rp, &e);
	if (store_review_add(con->st, rp->id, con->supervisor, corr, &id, &cause) != 0) {
		console_status(con, 1, "review not saved: %s", cause);
		free(cause);
		cJSON_Delete(corr);
		return;
	}
	const cJSON *w = cJSON_GetObjectItem(corr, "wrong");
	console_status(con, 0, "review of handoff %lld saved: %s", (long long)rp->id,
	               cJSON_GetArraySize(w) == 0 ? "the AI got it right" : "corrections recorded");
	cJSON_Delete(corr);
	drop_packet(t);
	reload(con, t);
}

/* The m prompt's answer: information the packet lacked. */
static void
add_missing(struct console *con, void *arg, const char *text)
{
	struct trainer *t = arg;
	if (*text != '\0' && t->reviewing != NULL) {
		strv_add(&t->missing, text);
		console_status(con, 0, "missing information noted (%zu); s saves the review",
		               t->missing.n);
	}
}

/* The n prompt's answer: the note, or none. */
static void
set_note(struct console *con, void *arg, const char *text)
{
	struct trainer *t = arg;
	if (t->reviewing != NULL) {
		free(t->note);
		t->note = *text ? xstrdup(text) : NULL;
		console_status(con, 0, *text ? "note set; s saves the review" : "note cleared");
	}
}

/* A packet under review: its keys shadow the screens' m and s (missing, save). */
static int
key_packet(struct console *con, struct trainer *t, int k)
{
	switch (k) {
	case 'c':
	case 'C':
		cycle(t, 0, k == 'c' ? 1 : -1);
		break;
	case 'e':
	case 'E':
		cycle(t, 1, k == 'e' ? 1 : -1);
		break;
	case 'm':
		console_prompt(con, "missing from the packet> ", NULL, add_missing, t);
		break;
	case 'd':
		if (t->missing.n > 0) {
			free(t->missing.v[--t->missing.n]);
			t->missing.v[t->missing.n] = NULL;
		}
		break;
	case 'n':
		console_prompt(con, "note> ", t->note, set_note, t);
		break;
	case 's':
		save(con, t);
		break;
	case 'q':
	case 27:
	case KEY_BACKSPACE:
		drop_packet(t);
		console_status(con, 0, "review not saved");
		break;
	default:
		return ui_scroll_key(&t->scroll, k);
	}
	return 1;
}

static int
trainer_key(struct console *con, void *state, int k)
{
	struct trainer *t = state;
	if (t->reviewing != NULL)
		return key_packet(con, t, k);
	int n = cJSON_GetArraySize(t->handoffs);
	switch (k) {
	case KEY_DOWN:
	case 'j':
		if (t->sel + 1 < n)
			t->sel++;
		break;
	case KEY_UP:
	case 'k':
		if (t->sel > 0)
			t->sel--;
		break;
	case KEY_HOME:
	case 'g':
		t->sel = 0;
		break;
	case KEY_END:
	case 'G':
		t->sel = n > 0 ? n - 1 : 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		open_packet(con, t);
		break;
	default:
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ the screen */

static void *
trainer_open(struct console *con)
{
	return xcalloc(1, sizeof(struct trainer));
}

static void
trainer_close(struct console *con, void *state)
{
	struct trainer *t = state;
	drop_packet(t);
	cJSON_Delete(t->handoffs);
	cJSON_Delete(t->reviews);
	free(t);
}

/* Shown: the list afresh; a draft left unsaved is dropped. */
static int
trainer_show(struct console *con, void *state)
{
	struct trainer *t = state;
	drop_packet(t);
	reload(con, t);
	return 0;
}

static const struct ui_help help[] = {
    {"Up/Down, Enter", "select a packet ([x]: reviewed) and review it"},
    {"c/C, e/E", "the right category / escalation reason (last: should not escalate)"},
    {"m, d, n", "on a packet: add missing information, drop the last, write a note"},
    {"s", "on a packet: save the review (unchanged: the AI got it right); q drops it"},
    {NULL, NULL},
};

const struct console_screen ui_review_screen = {
    .name = "Review",
    .what = "the Review screen: mark what the AI got wrong in handoffs",
    .letter = 'v',
    .fkey = 3,
    .help = help,
    .open = trainer_open,
    .close = trainer_close,
    .show = trainer_show,
    .key = trainer_key,
    .draw = trainer_draw,
};
