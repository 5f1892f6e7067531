/* ui-frame.c -- the frame the console's full-screen tools share, and their scrolling. */
#include "config.h"

#include <curses.h>
#include <string.h>

#include "console.h"
#include "ui-draw.h"
#include "ui-input.h"
#include "ui-text.h"
#include "ui-theme.h"

struct rect
ui_tool_frame(struct console *con, const char *title, const struct ui_key *keys)
{
	const struct theme *th = &con->theme;
	if (LINES < LAYOUT_MIN_LINES || COLS < LAYOUT_MIN_COLS) {
		ui_put(stdscr, 0, 0, COLS, LAYOUT_TOO_SMALL, A_BOLD);
		return (struct rect){0, 0, 0, 0};
	}
	struct rect t = {0, 0, 1, COLS}, f = {LINES - 1, 0, 1, COLS};
	ui_clear(stdscr, t, theme_attr(th, THEME_TITLE));
	char head[256];
	snprintf(head, sizeof head, " frontline  %s", title);
	ui_put(stdscr, 0, 0, COLS, head, theme_attr(th, THEME_TITLE));

	ui_clear(stdscr, f, theme_attr(th, THEME_FOOTER_LABEL));
	int x = 0;
	for (const struct ui_key *k = keys; k->key != NULL && x < COLS; k++) {
		x += ui_put(stdscr, f.y, x, COLS - x, k->key, theme_attr(th, THEME_FOOTER_KEY));
		if (x < COLS)
			x += ui_put(stdscr, f.y, x, COLS - x, k->label,
			            theme_attr(th, THEME_FOOTER_LABEL));
		x++;
	}
	int y = LINES - 2;
	if (con->typing && con->prompt != NULL)
		ui_input_draw(con->input, stdscr, y, 0, COLS, con->prompt, A_NORMAL);
	else if (con->status[0] != '\0')
		ui_put(stdscr, y, 1, COLS - 2, con->status,
		       con->status_error ? theme_attr(th, THEME_WARNING)
		                         : theme_attr(th, THEME_DIM));
	return (struct rect){1, 0, LINES - 3, COLS};
}

int
ui_scroll_key(int *scroll, int k)
{
	switch (k) {
	case KEY_DOWN:
	case 'j':
		(*scroll)++;
		break;
	case KEY_UP:
	case 'k':
		if (*scroll > 0)
			(*scroll)--;
		break;
	case KEY_NPAGE:
	case ' ':
		*scroll += LINES / 2;
		break;
	case KEY_PPAGE:
		*scroll = *scroll > LINES / 2 ? *scroll - LINES / 2 : 0;
		break;
	default:
		return 0;
	}
	return 1;
}
