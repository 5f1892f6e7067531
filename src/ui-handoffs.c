/* ui-handoffs.c -- the Handoffs screen: every packet, and a reader for one. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "ui-draw.h"
#include "ui-layout.h"
#include "ui-text.h"
#include "ui-theme.h"

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

void
ui_handoffs_draw(struct console *con)
{
	th = &con->theme;
	struct rect title = {0, 0, 1, COLS}, body = {1, 0, LINES - 2, COLS},
	            footer = {LINES - 1, 0, 1, COLS};
	if (LINES < 5 || COLS < 20) {
		ui_put(stdscr, 0, 0, COLS, "terminal too small", A_BOLD);
		return;
	}
	ui_clear(stdscr, title, ATTR(THEME_TITLE));
	ui_clear(stdscr, footer, ATTR(THEME_FOOTER_LABEL));
	if (con->packet != NULL) {
		ui_put(stdscr, 0, 0, COLS, " frontline  handoff packet", ATTR(THEME_TITLE));
		ui_put(stdscr, LINES - 1, 0, COLS, "Up/Down scroll  q back to the list  F1 help",
		       ATTR(THEME_FOOTER_LABEL));
		struct strv lines = {0};
		packet_lines(con->packet, body.w - 2, &lines);
		int first = con->reader_scroll < (int)lines.n ? con->reader_scroll : 0;
		for (int r = 0; r < body.h && first + r < (int)lines.n; r++) {
			const char *l = lines.v[first + r];
			ui_put(stdscr, body.y + r, 1, body.w - 2, l,
			       strstr(l, "STALE") ? ATTR(THEME_STALE) : A_NORMAL);
		}
		strv_free(&lines);
		return;
	}
	char head[128];
	snprintf(head, sizeof head, " frontline  handoffs (%d)", cJSON_GetArraySize(con->handoffs));
	ui_put(stdscr, 0, 0, COLS, head, ATTR(THEME_TITLE));
	ui_put(stdscr, LINES - 1, 0, COLS, "Enter read  Up/Down select  q back  F1 help",
	       ATTR(THEME_FOOTER_LABEL));
	int n = cJSON_GetArraySize(con->handoffs);
	if (n == 0) {
		ui_put(stdscr, body.y + 1, 2, COLS - 4, "no handoff packets yet", ATTR(THEME_DIM));
		return;
	}
	int top = con->handoff_sel >= body.h ? con->handoff_sel - body.h + 1 : 0;
	for (int r = 0; r < body.h && top + r < n; r++) {
		const cJSON *h = cJSON_GetArrayItem(con->handoffs, top + r);
		char line[512];
		snprintf(line, sizeof line, "#%-5d conv %-5d %-20.19s %-20.19s %s",
		         (int)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "id")),
		         (int)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "conversation")),
		         str(h, "customer"), str(h, "created"), str(h, "reason"));
		attr_t a = top + r == con->handoff_sel ? ATTR(THEME_SELECTED) : A_NORMAL;
		if (top + r == con->handoff_sel)
			ui_clear(stdscr, (struct rect){body.y + r, 0, 1, COLS}, a);
		ui_put(stdscr, body.y + r, 1, COLS - 2, line, a);
	}
}
