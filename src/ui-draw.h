/*
 * ui-draw.h -- small ncurses helpers shared by every screen.
 *
 * All text goes through ui_put(): it decodes UTF-8 itself, maps every
 * character through text_display_cp() (so even unsanitised text cannot
 * put a control character on the terminal), clips at a character
 * boundary and hands wide characters to waddnwstr(). Nothing here calls
 * waddstr() on raw bytes. Widths follow ui-text.h: lay out with
 * text_width()/text_fit()/text_wrap() and the drawing agrees.
 *
 * None of these refresh: the console calls wnoutrefresh()/doupdate()
 * once per loop pass. Each leaves the window's own attributes as it
 * found them. Coordinates are the window's; whatever falls outside the
 * window is clipped, never wrapped to the next row.
 */
#ifndef FL_UI_DRAW_H
#define FL_UI_DRAW_H

#include <curses.h>
#include <stddef.h>

#include "ui-layout.h"

/*
 * Puts utf8 at (y, x) with attr, clipped to n columns (and to the
 * window). A wide character or a cluster that would cross the limit is
 * left out whole; zero-width characters with no base before them are
 * dropped; '\n' and '\t' show as a space. Returns the columns drawn.
 */
int ui_put(WINDOW *w, int y, int x, int n, const char *utf8, attr_t attr);

/* ui_put(), then spaces in attr up to n columns: a whole row, e.g. a selection bar. */
int ui_put_row(WINDOW *w, int y, int x, int n, const char *utf8, attr_t attr);

/* n spaces in attr from (y, x). */
void ui_fill(WINDOW *w, int y, int x, int n, attr_t attr);

/* Fills the rectangle r with spaces in attr. */
void ui_clear(WINDOW *w, struct rect r, attr_t attr);

/*
 * Draws a frame around r in border attributes, with title (may be NULL)
 * on the top edge: "┌─ title ──┐", clipped to leave a corner and a line
 * on each side. Returns the rectangle inside the frame, or a zeroed rect
 * when r is smaller than 2x2 (then nothing is drawn) or has no inside.
 */
struct rect ui_box(WINDOW *w, struct rect r, const char *title, attr_t border, attr_t title_attr);

/*
 * Word-wraps utf8 to r.w columns (text_wrap()) and draws the lines from
 * the skip-th on, one per row of r, each padded with spaces in attr to
 * the full width. Rows below the last line are not touched. Returns the
 * number of rows drawn.
 */
int ui_paragraph(WINDOW *w, struct rect r, int skip, const char *utf8, attr_t attr);

/* The number of lines ui_paragraph() wraps utf8 into at cols columns. */
int ui_paragraph_lines(const char *utf8, int cols);

/*
 * A horizontal bar of n columns filled in proportion to value/max (clamped
 * to [0, 1]; 0 when max <= 0 or either is not finite): full blocks and an
 * eighth-block for the remainder in fill, spaces in empty. Outside a
 * UTF-8 locale: '#' in fill, '-' in empty.
 */
void ui_bar(WINDOW *w, int y, int x, int n, double value, double max, attr_t fill, attr_t empty);

/*
 * A sparkline of the last min(count, n) values of v, oldest first, from
 * (y, x): "▁▂▃▄▅▆▇█" (or "_.,-=+*#" outside a UTF-8 locale), a space for a
 * value that is not finite, spaces up to n columns.
 */
void ui_sparkline(WINDOW *w, int y, int x, int n, const double *v, size_t count, attr_t attr);

/*
 * The sparkline's levels for count values, 0..7, or -1 for a value that is
 * not finite. The scale runs from 0 (or the smallest value when one is
 * negative) to the largest; when they are equal every level is 0. Pure.
 */
void ui_spark_levels(const double *v, size_t count, int *level);

#endif
