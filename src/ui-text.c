/* ui-text.c -- sanitising and measuring untrusted text (no curses). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui-text.h"
#include "util.h"

#define REPLACEMENT 0xfffdu
#define ZWJ         0x200du

int
text_locale_utf8(void)
{
	return MB_CUR_MAX > 1;
}

uint32_t
text_display_cp(uint32_t cp)
{
	if (!text_locale_utf8())
		return cp >= 0x20 && cp < 0x7f ? cp : '?';
	if (cp < 0x20)
		return 0x2400 + cp;
	if (cp == 0x7f)
		return 0x2421;
	if (cp < 0x7f)
		return cp;
	if (cp <= 0x9f || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || text_cp_removed(cp) ||
	    text_cp_flagged(cp) || wcwidth((wchar_t)cp) < 0)
		return REPLACEMENT;
	return cp;
}

int
text_cp_width(uint32_t cp)
{
	if (cp >= 0x20 && cp < 0x7f)
		return 1;
	if (cp == '\n' || cp == '\t')
		return 1;
	int w = wcwidth((wchar_t)text_display_cp(cp));
	return w < 0 ? 1 : w;
}

size_t
text_cluster(const char *s, size_t n, int *width)
{
	uint32_t cp;
	size_t k = text_decode(s, n, &cp);
	int w = text_cp_width(cp);
	int joined = cp == ZWJ;

	while (k < n) {
		uint32_t next;
		size_t l = text_decode(s + k, n - k, &next);
		int nw = text_cp_width(next);
		/* Attach zero-width characters; after a ZWJ, the next non-ASCII one. */
		if (nw != 0 && !(joined && next >= 0x80))
			break;
		w += nw;
		k += l;
		joined = next == ZWJ;
	}
	*width = w;
	return k;
}

int
text_width(const char *utf8)
{
	size_t n = strlen(utf8), i = 0;
	int w = 0;
	while (i < n) {
		uint32_t cp;
		i += text_decode(utf8 + i, n - i, &cp);
		w += text_cp_width(cp);
	}
	return w;
}

/* text_fit() over n bytes. */
static size_t
fit_n(const char *s, size_t n, int cols, int *used)
{
	size_t i = 0;
	int w = 0;
	if (cols < 0)
		cols = 0;
	while (i < n) {
		int cw;
		size_t k = text_cluster(s + i, n - i, &cw);
		if (w + cw > cols)
			break;
		w += cw;
		i += k;
	}
	if (used != NULL)
		*used = w;
	return i;
}

size_t
text_fit(const char *utf8, int cols, int *used)
{
	return fit_n(utf8, strlen(utf8), cols, used);
}

static int
width_n(const char *s, size_t n)
{
	int w;
	fit_n(s, n, 0x7fffffff, &w);
	return w;
}

static void
add_spaces(struct buf *b, int n)
{
	while (n-- > 0)
		buf_addc(b, ' ');
}

/* Wraps one paragraph (no '\n') of n bytes. */
static void
wrap_paragraph(const char *p, size_t n, int cols, struct strv *out)
{
	struct buf line;
	size_t i = 0, emitted = out->n;
	int lw = 0, first = 1, para_start = 1, only_indent = 0;

	buf_init(&line, 0);
	for (;;) {
		size_t s0 = i;
		while (i < n && p[i] == ' ')
			i++;
		int sepw = (int)(i - s0);
		if (i >= n)
			break;
		size_t w0 = i;
		while (i < n && p[i] != ' ')
			i++;
		const char *word = p + w0;
		size_t wl = i - w0;
		int ww = width_n(word, wl);

		if (first) {
			int ind = para_start && sepw < cols ? sepw : 0;
			add_spaces(&line, ind);
			lw = ind;
			only_indent = ind > 0;
		} else if (lw + sepw + ww <= cols) {
			add_spaces(&line, sepw);
			buf_add(&line, word, wl);
			lw += sepw + ww;
			continue;
		} else {
			strv_take(out, buf_steal(&line));
			lw = 0;
		}
		para_start = 0;

		/* Place the word on the current line, breaking it where it must. */
		while (wl > 0) {
			if (lw + ww <= cols) {
				buf_add(&line, word, wl);
				lw += ww;
				only_indent = 0;
				break;
			}
			int u;
			size_t k = fit_n(word, wl, cols - lw, &u);
			if (k == 0) {
				if (only_indent) { /* drop the indentation, not the word */
					buf_reset(&line);
					lw = only_indent = 0;
					continue;
				}
				if (lw > 0) {
					strv_take(out, buf_steal(&line));
					lw = 0;
					continue;
				}
				k = text_cluster(word, wl, &u); /* wider than a line */
			}
			buf_add(&line, word, k);
			strv_take(out, buf_steal(&line));
			lw = only_indent = 0;
			word += k;
			wl -= k;
			ww -= u;
		}
		first = line.len == 0;
	}
	if (line.len > 0 || out->n == emitted)
		strv_take(out, buf_steal(&line));
	buf_free(&line);
}

void
text_wrap(const char *utf8, int cols, struct strv *lines)
{
	const char *p = utf8;
	if (cols < 1)
		return;
	while (*p != '\0') {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		wrap_paragraph(p, n, cols, lines);
		p += n;
		if (*p == '\n')
			p++;
	}
}
