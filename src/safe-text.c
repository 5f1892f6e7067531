/* safe-text.c -- untrusted text made inert for a terminal (no curses, no locale). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safe-text.h"
#include "util.h"

#define REPLACEMENT 0xfffdu

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

int
text_cp_removed(uint32_t cp)
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

int
text_cp_flagged(uint32_t cp)
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

const char *
text_cp_suspect(uint32_t cp)
{
	if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7f && cp <= 0x9f))
		return "control character";
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return "bidi control";
	return text_cp_flagged(cp) ? "invisible character" : NULL;
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
		} else if (text_cp_removed(cp))
			continue;
		else if (text_cp_flagged(cp))
			buf_add(&b, enc, text_encode(REPLACEMENT, enc));
		else
			buf_add(&b, enc, text_encode(cp, enc));
	}
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
}

char *
text_sanitize_line(const char *s)
{
	char *t = text_sanitize(s ? s : "", s ? strlen(s) : 0);
	for (char *p = t; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return t;
}

int
text_vprintf(FILE *f, const char *fmt, va_list ap)
{
	char *raw = xvasprintf(fmt, ap);
	char *safe = text_sanitize(raw, strlen(raw));
	int rc = fputs(safe, f) == EOF ? -1 : 0;
	free(safe);
	free(raw);
	return rc;
}

int
text_printf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = text_vprintf(f, fmt, ap);
	va_end(ap);
	return rc;
}

FILE *
text_capture_begin(struct text_capture *c)
{
	c->data = NULL;
	c->len = 0;
	if ((c->f = open_memstream(&c->data, &c->len)) == NULL) {
		fputs("frontline: out of memory\n", stderr);
		abort();
	}
	return c->f;
}

int
text_capture_end(struct text_capture *c, FILE *out)
{
	int rc = fclose(c->f) == 0 ? 0 : -1;
	char *safe = text_sanitize(c->data, c->len);
	if (fputs(safe, out) == EOF)
		rc = -1;
	free(safe);
	free(c->data);
	*c = (struct text_capture){0};
	return rc;
}
