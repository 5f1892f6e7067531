/*
 * ui-text.h -- sanitising and measuring untrusted text for the console.
 *
 * Customer and model text is untrusted: it may carry terminal escape
 * sequences, invalid UTF-8 or invisible characters meant to mislead the
 * person reading it. Every string drawn by the console goes through
 * text_sanitize() first; the measuring functions then count columns the
 * way the drawing code (ui-draw.h) puts characters on the screen.
 *
 * No curses here. Sanitising is pure and does not depend on the locale.
 * Measuring uses wcwidth(), so it needs LC_CTYPE set to a UTF-8 locale
 * (setlocale(LC_ALL, "") in the console; C.UTF-8 in the tests); under a
 * single-byte locale every non-ASCII character counts as one column and
 * is drawn as '?'.
 */
#ifndef FL_UI_TEXT_H
#define FL_UI_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* --------------------------------------------------------- sanitising */

/*
 * Returns a newly allocated, NUL-terminated copy of the len bytes at s
 * (which may contain NULs) that is safe to draw. The caller frees it.
 * s may be NULL when len is 0.
 *
 * The output is valid UTF-8 with no C0 control except '\n', no DEL and
 * no C1 control, so no escape sequence can reach the terminal. Choices:
 *
 *  - Invalid UTF-8 (stray continuation bytes, overlong forms, surrogates,
 *    code points past U+10FFFF, truncated sequences) becomes U+FFFD, one
 *    per maximal invalid subpart as Unicode recommends. This includes raw
 *    8-bit C1 bytes such as 0x9B (8-bit CSI).
 *  - '\n' is kept: it is a line break for text_wrap(). "\r\n" becomes
 *    '\n', and so does a lone '\r', U+2028 and U+2029.
 *  - '\t' becomes one space (a chat pane has no tab stops).
 *  - Any other C0 control is shown as its Control Picture, U+2400 + c:
 *    ESC as U+241B "␛", BEL as U+2407 "␇", NUL as U+2400. DEL is U+2421.
 *    An escape sequence thus stays visible but inert: "\e[2J" shows as
 *    "␛[2J", an OSC title or OSC 8/52 as "␛]0;title␇" or "␛]52;c;...␛\".
 *  - A C1 control encoded as UTF-8 (U+0080..U+009F) is shown as "␛"
 *    followed by its 7-bit equivalent (c - 0x40): U+009B CSI as "␛[",
 *    U+009D OSC as "␛]", U+0090 DCS as "␛P", U+0085 NEL as "␛E".
 *  - Bidirectional embeddings, overrides and isolates (U+202A..U+202E,
 *    U+2066..U+2069) become U+FFFD, visibly: they can reorder what a
 *    reader sees ("Trojan Source"). The implicit marks U+200E, U+200F and
 *    U+061C are removed: legitimate right-to-left text uses them and they
 *    only nudge neutral characters.
 *  - Invisible characters that can hide text become U+FFFD: tag characters
 *    (U+E0000..U+E007F, which smuggle ASCII past a human reader), invisible
 *    operators (U+2061..U+2064), deprecated format controls (U+206A..
 *    U+206F), interlinear annotations (U+FFF9..U+FFFB), U+180E and the
 *    Hangul fillers U+3164 and U+FFA0. Zero-width space U+200B, word
 *    joiner U+2060, BOM U+FEFF and soft hyphen U+00AD are removed. ZWJ,
 *    ZWNJ, variation selectors and combining marks are kept: scripts and
 *    emoji need them.
 *  - Noncharacters (U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF) become U+FFFD.
 */
char *text_sanitize(const char *s, size_t len);

/* --------------------------------------------------------- characters */

/*
 * Decodes the UTF-8 character at s (at most n >= 1 bytes): returns the
 * number of bytes it takes (>= 1) and sets *cp. An invalid sequence sets
 * *cp to U+FFFD and covers its maximal invalid subpart.
 */
size_t text_decode(const char *s, size_t n, uint32_t *cp);

/* Appends the UTF-8 encoding of cp (<= U+10FFFF) to out; returns its length. */
size_t text_encode(uint32_t cp, char out[4]);

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
