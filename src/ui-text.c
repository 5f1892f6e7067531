/* ui-text.c -- sanitising and measuring untrusted text (no curses). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui-text.h"
#include "util.h"

#define REPLACEMENT 0xfffdu
#define ZWJ         0x200du

size_t
text_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0fu;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07u;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		*cp = REPLACEMENT;
		return 1;
	}
	/* The maximal subpart: stop at the first byte that cannot continue. */
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*cp = REPLACEMENT;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3fu);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

size_t
text_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Invisible characters text_sanitize() drops. */
static int
cp_removed(uint32_t cp)
{
	switch (cp) {
	case 0x00ad: /* soft hyphen */
	case 0x061c: /* Arabic letter mark */
	case 0x200b: /* zero-width space */
	case 0x200e: /* left-to-right mark */
	case 0x200f: /* right-to-left mark */
	case 0x2060: /* word joiner */
	case 0xfeff: /* byte order mark */
		return 1;
	default:
		return 0;
	}
}

/* Characters that can reorder or hide text: text_sanitize() shows U+FFFD. */
static int
cp_flagged(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) ||   /* bidi embeddings, overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||   /* bidi isolates */
	       (cp >= 0x2061 && cp <= 0x2064) ||   /* invisible operators */
	       (cp >= 0x206a && cp <= 0x206f) ||   /* deprecated format controls */
	       (cp >= 0xfff9 && cp <= 0xfffb) ||   /* interlinear annotation */
	       (cp >= 0xe0000 && cp <= 0xe007f) || /* tags */
	       cp == 0x180e || cp == 0x3164 || cp == 0xffa0 || (cp >= 0xfdd0 && cp <= 0xfdef) ||
	       (cp & 0xfffeu) == 0xfffeu; /* noncharacters */
}

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
	if (cp <= 0x9f || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp_removed(cp) ||
	    cp_flagged(cp) || wcwidth((wchar_t)cp) < 0)
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

char *
text_sanitize(const char *s, size_t len)
{
	struct buf b;
	char enc[4];
	size_t i = 0;

	buf_init(&b, 0);
	while (i < len) {
		uint32_t cp;
		i += text_decode(s + i, len - i, &cp);
		if (cp == '\r') {
			if (i < len && s[i] == '\n')
				continue; /* the '\n' comes next */
			cp = '\n';
		}
		if (cp == '\n' || cp == 0x2028 || cp == 0x2029)
			buf_addc(&b, '\n');
		else if (cp == '\t')
			buf_addc(&b, ' ');
		else if (cp < 0x20 || cp == 0x7f)
			buf_add(&b, enc, text_encode(cp == 0x7f ? 0x2421 : 0x2400 + cp, enc));
		else if (cp >= 0x80 && cp <= 0x9f) {
			buf_add(&b, enc, text_encode(0x241b, enc));
			buf_addc(&b, (char)(cp - 0x40));
		} else if (cp_removed(cp))
			continue;
		else if (cp_flagged(cp))
			buf_add(&b, enc, text_encode(REPLACEMENT, enc));
		else
			buf_add(&b, enc, text_encode(cp, enc));
	}
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
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
