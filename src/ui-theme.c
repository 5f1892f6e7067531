/* ui-theme.c -- curses attributes for each role of text on the console. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ui-theme.h"

#define NOPAIR  (-2) /* no colour pair for this role */
#define DEFAULT (-1) /* the terminal's default colour */

/* One role's looks: without colour, with 8 colours, with 256. */
struct role_spec {
	attr_t mono;
	short fg8, bg8;
	attr_t attr8;
	short fg256, bg256;
	attr_t attr256;
};

static const struct role_spec roles[THEME_NROLES] = {
    [THEME_TITLE] = {A_REVERSE | A_BOLD, COLOR_WHITE, COLOR_BLUE, A_BOLD, COLOR_WHITE, COLOR_BLUE,
                     A_BOLD},
    [THEME_FOOTER_KEY] = {A_REVERSE, COLOR_BLACK, COLOR_CYAN, A_NORMAL, COLOR_BLACK, COLOR_CYAN,
                          A_NORMAL},
    [THEME_FOOTER_LABEL] = {A_NORMAL, NOPAIR, 0, A_NORMAL, NOPAIR, 0, A_NORMAL},
    [THEME_SELECTED] = {A_REVERSE, COLOR_CYAN, DEFAULT, A_REVERSE, COLOR_CYAN, DEFAULT, A_REVERSE},
    [THEME_CUSTOMER] = {A_NORMAL, NOPAIR, 0, A_NORMAL, NOPAIR, 0, A_NORMAL},
    [THEME_AI] = {A_NORMAL, COLOR_CYAN, DEFAULT, A_NORMAL, COLOR_CYAN, DEFAULT, A_NORMAL},
    [THEME_HUMAN] = {A_BOLD, COLOR_GREEN, DEFAULT, A_BOLD, COLOR_GREEN, DEFAULT, A_BOLD},
    [THEME_SYSTEM] = {A_DIM, COLOR_MAGENTA, DEFAULT, A_NORMAL, COLOR_MAGENTA, DEFAULT, A_NORMAL},
    [THEME_STALE] = {A_REVERSE | A_BOLD, COLOR_WHITE, COLOR_RED, A_BOLD, COLOR_WHITE, COLOR_RED,
                     A_BOLD},
    [THEME_WARNING] = {A_BOLD, COLOR_YELLOW, DEFAULT, A_BOLD, COLOR_YELLOW, DEFAULT, A_BOLD},
    [THEME_OK] = {A_NORMAL, COLOR_GREEN, DEFAULT, A_NORMAL, COLOR_GREEN, DEFAULT, A_NORMAL},
    [THEME_DIM] = {A_DIM, NOPAIR, 0, A_DIM, 245, DEFAULT, A_NORMAL},
    [THEME_BORDER] = {A_NORMAL, COLOR_BLUE, DEFAULT, A_NORMAL, 67, DEFAULT, A_NORMAL},
    [THEME_STREAMING] = {A_DIM, COLOR_CYAN, DEFAULT, A_DIM, 109, DEFAULT, A_NORMAL},
};

static void
decide_mono(struct theme_choice out[THEME_NROLES])
{
	for (int r = 0; r < THEME_NROLES; r++) {
		out[r].pair = 0;
		out[r].fg = out[r].bg = DEFAULT;
		out[r].attr = roles[r].mono;
	}
}

void
theme_decide(int has_colors, int ncolors, int npairs, int no_color,
             struct theme_choice out[THEME_NROLES])
{
	int rich = ncolors >= 256;
	short next = 1;

	decide_mono(out);
	if (!has_colors || no_color || ncolors < 8)
		return;
	for (int r = 0; r < THEME_NROLES; r++) {
		const struct role_spec *s = &roles[r];
		short fg = rich ? s->fg256 : s->fg8, bg = rich ? s->bg256 : s->bg8;
		out[r].attr = rich ? s->attr256 : s->attr8;
		if (fg == NOPAIR)
			continue;
		out[r].fg = fg;
		out[r].bg = bg;
		for (int q = 0; q < r && out[r].pair == 0; q++)
			if (out[q].pair != 0 && out[q].fg == fg && out[q].bg == bg)
				out[r].pair = out[q].pair;
		if (out[r].pair == 0)
			out[r].pair = next++;
	}
	/* Pair 0 is reserved: the pairs used must all be below npairs. */
	if (next > npairs)
		decide_mono(out);
}

void
theme_init(struct theme *t, int has_colors, int ncolors, int no_color)
{
	struct theme_choice c[THEME_NROLES];
	int npairs = has_colors && !no_color ? COLOR_PAIRS : 0;

	theme_decide(has_colors, ncolors, npairs, no_color, c);
	memset(t, 0, sizeof *t);
	for (int r = 0; r < THEME_NROLES; r++)
		t->colour |= c[r].pair != 0;
	int dflt = t->colour && use_default_colors() == OK;
	for (int r = 0; r < THEME_NROLES; r++) {
		t->attr[r] = c[r].attr;
		if (c[r].pair == 0)
			continue;
		short fg = c[r].fg == DEFAULT && !dflt ? COLOR_WHITE : c[r].fg;
		short bg = c[r].bg == DEFAULT && !dflt ? COLOR_BLACK : c[r].bg;
		init_pair(c[r].pair, fg, bg);
		t->attr[r] |= COLOR_PAIR(c[r].pair);
	}
}

attr_t
theme_attr(const struct theme *t, enum theme_role role)
{
	if ((int)role < 0 || role >= THEME_NROLES)
		return A_NORMAL;
	return t->attr[role];
}

int
theme_no_color_env(void)
{
	const char *v = getenv("NO_COLOR");
	return v != NULL && *v != '\0';
}
