/*
 * ui-text.h -- measuring sanitised text for the console.
 *
 * Every string drawn by the console goes through text_sanitize()
 * (safe-text.h) first; the measuring functions here then count columns
 * the way the drawing code (ui-draw.h) puts characters on the screen.
 *
 * No curses here. Measuring uses wcwidth(), so it needs LC_CTYPE set to a UTF-8 locale
 * (setlocale(LC_ALL, "") in the console; C.UTF-8 in the tests); under a
 * single-byte locale every non-ASCII character counts as one column and
 * is drawn as '?'.
 */
#ifndef FL_UI_TEXT_H
#define FL_UI_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "safe-text.h"
#include "util.h"

/* --------------------------------------------------------- characters */

/*
 * The code point that the drawing code puts on the screen for cp: cp
 * itself when it is printable; the Control Picture for a C0 control or
 * DEL; U+FFFD for a C1 control, a character text_sanitize() removes or
 * flags, or anything wcwidth() cannot measure (unassigned code points).
 * Under a single-byte locale, anything but printable ASCII is '?'.
 * Depends on LC_CTYPE.
 */
uint32_t text_display_cp(uint32_t cp);

/*
 * Columns cp takes on the screen: 0 for combining and other zero-width
 * characters, 2 for wide (CJK, most emoji), 1 otherwise. '\n' and '\t'
 * count as one column (the drawing code shows them as a space), and so
 * does anything wcwidth() cannot measure (drawn as U+FFFD). After
 * text_sanitize() the only control left is '\n'.
 */
int text_cp_width(uint32_t cp);

/*
 * The length in bytes of the display cluster starting at s (n >= 1 bytes
 * available): one character followed by the zero-width characters that
 * attach to it (combining marks, variation selectors), and characters
 * joined to it by U+200D ZWJ (emoji sequences). Sets *width to the
 * cluster's columns (the sum of text_cp_width() over it: terminals that
 * join ZWJ sequences draw them narrower, never wider). A cluster is never
 * split across lines or clipped in the middle.
 */
size_t text_cluster(const char *s, size_t n, int *width);

/* True when LC_CTYPE is a multibyte (UTF-8) locale. */
int text_locale_utf8(void);

/* ---------------------------------------------------------- measuring */

/* Columns utf8 takes on one line (see text_cp_width()). */
int text_width(const char *utf8);

/*
 * The number of bytes of the longest prefix of utf8 that fits in cols
 * columns, never splitting a character or separating combining marks
 * from their base. Sets *used (when not NULL) to that prefix's columns.
 * cols < 0 counts as 0. Zero-width characters at the start (with no base)
 * fit in any width.
 */
size_t text_fit(const char *utf8, int cols, int *used);

/*
 * Word-wraps utf8 into lines of at most cols columns, appended to *lines
 * (copies; strv_free() releases them). '\n' ends a line ("a\n" is one
 * line, "a\n\n" two, "" none); an empty paragraph is one empty line.
 * Lines break at ASCII spaces, which are dropped at the break; spaces
 * between words on a line and the indentation at the start of a paragraph
 * are kept (an indentation of cols or more is dropped). A word longer than
 * a line is broken at a cluster boundary. cols < 1 gives no lines. Every
 * line is at most cols wide except when a single cluster is wider than
 * cols (a wide character with cols == 1): it then has a line to itself,
 * and the drawing code clips it.
 */
void text_wrap(const char *utf8, int cols, struct strv *lines);

#endif
