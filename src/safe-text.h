/*
 * safe-text.h -- the one way out to a terminal for untrusted text.
 *
 * Customer, knowledge-base, model and ticket text is untrusted: it may
 * carry terminal escape sequences, invalid UTF-8 or invisible characters
 * meant to mislead the person reading it. The console draws it through
 * text_sanitize(); every command that prints it in text mode (chat, kb
 * search, handoff, customer, the reports) goes through text_printf(),
 * which applies the same rules to everything it prints. JSON output does
 * not come here: JSON escaping already makes it safe, and it stays exact.
 *
 * No curses and no locale here, so commands can use it without the UI.
 */
#ifndef FL_SAFE_TEXT_H
#define FL_SAFE_TEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * Decodes the UTF-8 character at s (at most n >= 1 bytes): returns the
 * number of bytes it takes (>= 1) and sets *cp. An invalid sequence sets
 * *cp to U+FFFD and covers its maximal invalid subpart.
 */
size_t text_decode(const char *s, size_t n, uint32_t *cp);

/* Appends the UTF-8 encoding of cp (<= U+10FFFF) to out; returns its length. */
size_t text_encode(uint32_t cp, char out[4]);

/* True for the invisible characters text_sanitize() removes (ZWSP, soft hyphen, BOM, ...). */
int text_cp_removed(uint32_t cp);
/*
 * True for the characters text_sanitize() shows as U+FFFD because they
 * can reorder or hide text: bidi embeddings, overrides and isolates, tag
 * characters, invisible operators, noncharacters and the like.
 */
int text_cp_flagged(uint32_t cp);

/*
 * What cp is called when it has no place in text a person writes (a fact,
 * a policy value): "control character" (C0 but tab and line ends, DEL,
 * C1), "bidi control" (embeddings, overrides, isolates), "invisible
 * character" (the rest of text_cp_flagged()); NULL for anything else.
 */
const char *text_cp_suspect(uint32_t cp);

/* text_sanitize() of the string s (NULL is ""), with every '\n' a space: one line. */
char *text_sanitize_line(const char *s);

/*
 * Formats like fprintf, then writes the result to f through
 * text_sanitize(): whatever the arguments hold, no control character but
 * '\n' reaches f ('\t' becomes a space). Returns 0, or -1 on a write error.
 */
int text_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int text_vprintf(FILE *f, const char *fmt, va_list ap);

/*
 * A report written with stdio calls to a memory stream, then printed as
 * a whole through text_sanitize(): text_capture_begin() returns the
 * stream to write to; text_capture_end() closes it, writes what it holds
 * to out and releases it. Returns 0, or -1 on a write error.
 */
struct text_capture {
	FILE *f;
	char *data;
	size_t len;
};
FILE *text_capture_begin(struct text_capture *);
int text_capture_end(struct text_capture *, FILE *out);

#endif
