/* ui-help.c -- the help screen: the keys of every screen, from their rows in console_screens. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>

#include "console.h"
#include "ui-draw.h"
#include "ui-theme.h"
#include "util.h"

/* The body starts on this row, under the title and a blank line. */
#define TOP 2

struct help {
	int scroll;
};

/* The keys that show s from every screen ("v, F3"), or "" for none. */
static void
screen_keys(const struct console_screen *s, char out[16])
{
	if (s->letter != 0 && s->fkey != 0)
		snprintf(out, 16, "%c, F%d", s->letter, s->fkey);
	else if (s->fkey != 0)
		snprintf(out, 16, "F%d", s->fkey);
	else if (s->letter != 0)
		snprintf(out, 16, "%c", s->letter);
	else
		out[0] = '\0';
}

/* Rows are laid out from the top and scrolled; th NULL only counts them. */
struct pen {
	const struct theme *th;
	int y;
};

static int
visible(const struct pen *p)
{
	return p->th != NULL && p->y >= TOP && p->y < LINES;
}

static void
heading(struct pen *p, const char *text, int first)
{
	if (!first)
		p->y++;
	if (visible(p))
		ui_put(stdscr, p->y, 2, COLS - 4, text, A_BOLD);
	p->y++;
}

static void
row(struct pen *p, const char *keys, const char *what)
{
	if (visible(p)) {
		ui_put(stdscr, p->y, 4, 20, keys, theme_attr(p->th, THEME_FOOTER_KEY));
		if (COLS > 26)
			ui_put(stdscr, p->y, 26, COLS - 28, what, A_NORMAL);
	}
	p->y++;
}

/* Writes every row from the scroll-th; returns how many there are. */
static int
rows(const struct theme *th, int scroll)
{
	struct pen p = {th, TOP - scroll};
	const struct console_screen *const *s;
	char keys[16], title[64];
	heading(&p, "Every screen", 1);
	for (s = console_screens; *s != NULL; s++) {
		screen_keys(*s, keys);
		if (keys[0] != '\0')
			row(&p, keys, (*s)->what);
	}
	row(&p, "q, Esc", "back to Supervise (from a packet: to the list); on Supervise q quits");
	row(&p, "F10", "quit (everything is in the store; restart to continue)");
	for (s = console_screens; *s != NULL; s++) {
		if ((*s)->help == NULL)
			continue;
		screen_keys(*s, keys);
		if (keys[0] != '\0')
			snprintf(title, sizeof title, "%s (%s)", (*s)->name, keys);
		else
			snprintf(title, sizeof title, "%s", (*s)->name);
		heading(&p, title, 0);
		for (const struct ui_help *h = (*s)->help; h->keys != NULL || h->what != NULL;
		     h++) {
			if (h->keys == NULL)
				heading(&p, h->what, 0);
			else
				row(&p, h->keys, h->what);
		}
	}
	return p.y - (TOP - scroll);
}

/* How far the help can scroll: 0 when it fits. */
static int
max_scroll(void)
{
	int n = rows(NULL, 0), room = LINES - TOP;
	return n > room ? n - room : 0;
}

static void
help_draw(struct console *con, void *state)
{
	const struct help *h = state;
	const struct theme *th = &con->theme;
	int max = max_scroll();
	ui_clear(stdscr, (struct rect){0, 0, 1, COLS}, theme_attr(th, THEME_TITLE));
	ui_put(stdscr, 0, 0, COLS,
	       max > 0 ? " frontline  help (j/k, PgUp/PgDn scroll; any other key to go back)"
	               : " frontline  help (any key to go back)",
	       theme_attr(th, THEME_TITLE));
	rows(th, h->scroll < max ? h->scroll : max);
}

/* Scroll keys scroll a help taller than the terminal; any other key goes back. */
static int
help_key(struct console *con, void *state, int k)
{
	struct help *h = state;
	int max = max_scroll();
	if (max > 0 && ui_scroll_key(&h->scroll, k)) {
		if (h->scroll > max)
			h->scroll = max;
		return 1;
	}
	h->scroll = 0;
	console_back(con);
	return 1;
}

static void *
help_open(struct console *con)
{
	return xcalloc(1, sizeof(struct help));
}

static void
help_close(struct console *con, void *state)
{
	free(state);
}

const struct console_screen ui_help_screen = {
    .name = "Help",
    .what = "this help",
    .letter = '?',
    .fkey = 1,
    .overlay = 1,
    .open = help_open,
    .close = help_close,
    .key = help_key,
    .draw = help_draw,
};
