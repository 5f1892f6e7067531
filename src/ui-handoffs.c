/* ui-handoffs.c -- the Handoffs screen: every packet, and a reader for one. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "console.h"
#include "store.h"
#include "ui-draw.h"
#include "ui-layout.h"
#include "ui-text.h"
#include "ui-theme.h"
#include "util.h"

struct handoffs {
	cJSON *list; /* store_handoff_list, read when the screen shows */
	int sel;
	cJSON *packet; /* the packet read, or NULL for the list */
	int scroll;
};

/* The console's theme, for the draw in progress. */
static const struct theme *th;
#define ATTR(role) theme_attr(th, role)

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : "";
}

/* The packet as lines for the reader. */
static void
packet_lines(const cJSON *p, int w, struct strv *out)
{
	char *head = xasprintf("Packet #%d  reason %s  queue %s",
	                       (int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "id")),
	                       str(p, "reason"), str(p, "queue"));
	text_wrap(head, w, out);
	free(head);
	strv_add(out, "");
	char *safe = text_sanitize(str(p, "text"), strlen(str(p, "text")));
	text_wrap(safe, w, out);
	free(safe);
	/* The text has the issue, what was tried and the knowledge: only what it lacks follows. */
	if (*str(p, "message_to_customer")) {
		strv_add(out, "");
		char *l = xasprintf("Told the customer: %s", str(p, "message_to_customer"));
		char *s = text_sanitize(l, strlen(l));
		text_wrap(s, w, out);
		free(s);
		free(l);
	}
}

static void
handoffs_draw(struct console *con, void *state)
{
	const struct handoffs *h = state;
	th = &con->theme;
	struct rect title = {0, 0, 1, COLS}, body = {1, 0, LINES - 2, COLS},
	            footer = {LINES - 1, 0, 1, COLS};
	if (LINES < 5 || COLS < 20) {
		ui_put(stdscr, 0, 0, COLS, "terminal too small", A_BOLD);
		return;
	}
	ui_clear(stdscr, title, ATTR(THEME_TITLE));
	ui_clear(stdscr, footer, ATTR(THEME_FOOTER_LABEL));
	if (h->packet != NULL) {
		ui_put(stdscr, 0, 0, COLS, " frontline  handoff packet", ATTR(THEME_TITLE));
		ui_put(stdscr, LINES - 1, 0, COLS, "Up/Down scroll  q back to the list  F1 help",
		       ATTR(THEME_FOOTER_LABEL));
		struct strv lines = {0};
		packet_lines(h->packet, body.w - 2, &lines);
		int first = h->scroll < (int)lines.n ? h->scroll : 0;
		for (int r = 0; r < body.h && first + r < (int)lines.n; r++) {
			const char *l = lines.v[first + r];
			ui_put(stdscr, body.y + r, 1, body.w - 2, l,
			       strstr(l, "STALE") ? ATTR(THEME_STALE) : A_NORMAL);
		}
		strv_free(&lines);
		return;
	}
	char head[128];
	snprintf(head, sizeof head, " frontline  handoffs (%d)", cJSON_GetArraySize(h->list));
	ui_put(stdscr, 0, 0, COLS, head, ATTR(THEME_TITLE));
	ui_put(stdscr, LINES - 1, 0, COLS, "Enter read  Up/Down select  q back  F1 help",
	       ATTR(THEME_FOOTER_LABEL));
	int n = cJSON_GetArraySize(h->list);
	if (n == 0) {
		ui_put(stdscr, body.y + 1, 2, COLS - 4, "no handoff packets yet", ATTR(THEME_DIM));
		return;
	}
	int top = h->sel >= body.h ? h->sel - body.h + 1 : 0;
	for (int r = 0; r < body.h && top + r < n; r++) {
		const cJSON *row = cJSON_GetArrayItem(h->list, top + r);
		char line[512];
		snprintf(line, sizeof line, "#%-5d conv %-5d %-20.19s %-20.19s %s",
		         (int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id")),
		         (int)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "conversation")),
		         str(row, "customer"), str(row, "created"), str(row, "reason"));
		attr_t a = top + r == h->sel ? ATTR(THEME_SELECTED) : A_NORMAL;
		if (top + r == h->sel)
			ui_clear(stdscr, (struct rect){body.y + r, 0, 1, COLS}, a);
		ui_put(stdscr, body.y + r, 1, COLS - 2, line, a);
	}
}

/* ------------------------------------------------------------- commands */

static void
open_packet(struct console *con, struct handoffs *h)
{
	const cJSON *row = cJSON_GetArrayItem(h->list, h->sel);
	char *cause = NULL;
	if (row == NULL)
		return;
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id"));
	cJSON_Delete(h->packet);
	h->packet = NULL;
	if (store_handoff_get(con->st, id, &h->packet, &cause) != 0) {
		console_status(con, 1, "handoff %lld: %s", (long long)id, cause);
		free(cause);
		return;
	}
	h->scroll = 0;
}

/* The packet reader: scrolls, q back to the list. */
static int
key_reader(struct handoffs *h, int k)
{
	switch (k) {
	case 'q':
	case 27:
	case KEY_BACKSPACE:
		cJSON_Delete(h->packet);
		h->packet = NULL;
		return 1;
	default:
		return ui_scroll_key(&h->scroll, k);
	}
}

static int
handoffs_key(struct console *con, void *state, int k)
{
	struct handoffs *h = state;
	if (h->packet != NULL)
		return key_reader(h, k);
	int n = cJSON_GetArraySize(h->list);
	switch (k) {
	case KEY_DOWN:
	case 'j':
		if (h->sel + 1 < n)
			h->sel++;
		break;
	case KEY_UP:
	case 'k':
		if (h->sel > 0)
			h->sel--;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		open_packet(con, h);
		break;
	case 'h':
	case KEY_F(2):
		/* Its own key again: back, as q does. */
		console_show(con, console_screens[0]);
		break;
	default:
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ the screen */

static void *
handoffs_open(struct console *con)
{
	return xcalloc(1, sizeof(struct handoffs));
}

static void
handoffs_close(struct console *con, void *state)
{
	struct handoffs *h = state;
	cJSON_Delete(h->list);
	cJSON_Delete(h->packet);
	free(h);
}

/* Shown: the list afresh, the reader closed. */
static int
handoffs_show(struct console *con, void *state)
{
	struct handoffs *h = state;
	cJSON *list = NULL;
	char *cause = NULL;
	if (store_handoff_list(con->st, &list, &cause) != 0) {
		console_status(con, 1, "handoffs: %s", cause);
		free(cause);
		return -1;
	}
	cJSON_Delete(h->list);
	h->list = list;
	cJSON_Delete(h->packet);
	h->packet = NULL;
	h->sel = 0;
	return 0;
}

static const struct ui_help help[] = {
    {"Up/Down, Enter", "select and read a packet; q goes back"},
    {NULL, NULL},
};

const struct console_screen ui_handoffs_screen = {
    .name = "Handoffs",
    .what = "the Handoffs screen: every handoff packet, and a reader",
    .letter = 'h',
    .fkey = 2,
    .help = help,
    .open = handoffs_open,
    .close = handoffs_close,
    .show = handoffs_show,
    .key = handoffs_key,
    .draw = handoffs_draw,
};
