/* uiterm.h -- a curses screen for tests: no terminal, output to /dev/null. */
#ifndef FL_UITERM_H
#define FL_UITERM_H

#include <check.h>
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

/*
 * A screen of the terminal type term (from ncurses-base's terminfo, e.g.
 * "xterm-256color" or "vt100") resized to lines x cols, under C.UTF-8
 * unless utf8 is 0. Nothing is read from it; what is drawn is read back
 * from the windows, never from the output.
 */
struct uiterm {
	FILE *in, *out;
	SCREEN *screen;
};

static inline void
uiterm_open(struct uiterm *t, const char *term, int lines, int cols, int utf8)
{
	ck_assert_msg(setlocale(LC_ALL, utf8 ? "C.UTF-8" : "C") != NULL, "no C.UTF-8 locale");
	t->out = fopen("/dev/null", "w");
	t->in = fopen("/dev/null", "r");
	ck_assert(t->out != NULL && t->in != NULL);
	t->screen = newterm(term, t->out, t->in);
	ck_assert_msg(t->screen != NULL, "no terminfo entry for %s", term);
	set_term(t->screen);
	ck_assert_int_eq(resize_term(lines, cols), OK);
}

static inline void
uiterm_close(struct uiterm *t)
{
	endwin();
	delscreen(t->screen);
	fclose(t->out);
	fclose(t->in);
}

/*
 * The characters of window w from (y, x) on, covering n columns, as
 * UTF-8 (a wide character counts once); caller frees.
 */
static inline char *
uiterm_row(WINDOW *w, int y, int x, int n)
{
	wchar_t ws[512];
	char *s = malloc(4 * 512 + 1);
	ck_assert(s != NULL);
	int k = mvwinnwstr(w, y, x, ws, 511);
	ck_assert_int_ge(k, 0);
	int cols = 0, i = 0;
	for (; i < k; i++) {
		int cw = wcwidth(ws[i]);
		if (cols + (cw > 0 ? cw : 0) > n)
			break;
		cols += cw > 0 ? cw : 0;
	}
	ws[i] = L'\0';
	ck_assert(wcstombs(s, ws, 4 * 512) != (size_t)-1);
	return s;
}

/* The wide character at (y, x) of w and its attributes. */
static inline wchar_t
uiterm_cell(WINDOW *w, int y, int x, attr_t *attr)
{
	cchar_t cc;
	wchar_t wc[CCHARW_MAX + 1];
	attr_t a;
	short pair;
	ck_assert_int_eq(mvwin_wch(w, y, x, &cc), OK);
	ck_assert_int_eq(getcchar(&cc, wc, &a, &pair, NULL), OK);
	if (attr != NULL)
		*attr = a;
	return wc[0];
}

#endif
