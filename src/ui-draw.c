/* ui-draw.c -- small ncurses helpers shared by every screen. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui-draw.h"
#include "ui-text.h"
#include "util.h"

/* Clips a run of n columns at (y, x) to the window; returns the columns left. */
static int
clip(WINDOW *w, int y, int x, int n)
{
	if (w == NULL || y < 0 || y >= getmaxy(w) || x < 0 || x >= getmaxx(w))
		return 0;
	return n < getmaxx(w) - x ? n : getmaxx(w) - x;
}

int
ui_put(WINDOW *w, int y, int x, int n, const char *s, attr_t attr)
{
	if (s == NULL || (n = clip(w, y, x, n)) <= 0)
		return 0;

	size_t len = strlen(s), i = 0, k = 0;
	wchar_t *ws = xreallocarray(NULL, len + 1, sizeof *ws); /* a character per byte at most */
	int used = 0, based = 0;
	while (i < len) {
		int cw;
		size_t cl = text_cluster(s + i, len - i, &cw);
		if (used + cw > n)
			break;
		for (size_t j = i; j < i + cl;) {
			uint32_t cp;
			j += text_decode(s + j, i + cl - j, &cp);
			int zero = text_cp_width(cp) == 0;
			if (zero && !based)
				continue; /* nothing to attach to: it would land on a border */
			based |= !zero;
			ws[k++] = cp == '\n' || cp == '\t' ? L' ' : (wchar_t)text_display_cp(cp);
		}
		used += cw;
		i += cl;
	}

	if (k > 0) {
		attr_t oa;
		short op;
		wattr_get(w, &oa, &op, NULL);
		wattr_set(w, attr & ~A_COLOR, (short)PAIR_NUMBER(attr), NULL);
		mvwaddnwstr(w, y, x, ws, (int)k);
		wattr_set(w, oa, op, NULL);
	}
	free(ws);
	return used;
}

void
ui_fill(WINDOW *w, int y, int x, int n, attr_t attr)
{
	if ((n = clip(w, y, x, n)) > 0)
		mvwhline(w, y, x, ' ' | (chtype)attr, n);
}

int
ui_put_row(WINDOW *w, int y, int x, int n, const char *utf8, attr_t attr)
{
	int used = ui_put(w, y, x, n, utf8, attr);
	ui_fill(w, y, x + used, n - used, attr);
	return used;
}

void
ui_clear(WINDOW *w, struct rect r, attr_t attr)
{
	for (int i = 0; i < r.h; i++)
		ui_fill(w, r.y + i, r.x, r.w, attr);
}

static void
put_acs(WINDOW *w, int y, int x, chtype c)
{
	if (clip(w, y, x, 1) == 1)
		mvwaddch(w, y, x, c);
}

struct rect
ui_box(WINDOW *w, struct rect r, const char *title, attr_t border, attr_t title_attr)
{
	struct rect inner = {0, 0, 0, 0};
	if (r.h < 2 || r.w < 2)
		return inner;

	chtype b = (chtype)border;
	int bottom = r.y + r.h - 1, right = r.x + r.w - 1;
	put_acs(w, r.y, r.x, ACS_ULCORNER | b);
	put_acs(w, r.y, right, ACS_URCORNER | b);
	put_acs(w, bottom, r.x, ACS_LLCORNER | b);
	put_acs(w, bottom, right, ACS_LRCORNER | b);
	for (int x = r.x + 1; x < right; x++) {
		put_acs(w, r.y, x, ACS_HLINE | b);
		put_acs(w, bottom, x, ACS_HLINE | b);
	}
	for (int y = r.y + 1; y < bottom; y++) {
		put_acs(w, y, r.x, ACS_VLINE | b);
		put_acs(w, y, right, ACS_VLINE | b);
	}
	if (title != NULL && *title != '\0' && r.w >= 6) {
		char *t = xasprintf(" %s ", title);
		ui_put(w, r.y, r.x + 2, r.w - 4, t, title_attr);
		free(t);
	}
	if (r.h > 2 && r.w > 2) {
		inner.y = r.y + 1;
		inner.x = r.x + 1;
		inner.h = r.h - 2;
		inner.w = r.w - 2;
	}
	return inner;
}

int
ui_paragraph(WINDOW *w, struct rect r, int skip, const char *utf8, attr_t attr)
{
	struct strv lines = {0};
	int rows = 0;
	if (r.h <= 0 || r.w <= 0)
		return 0;
	text_wrap(utf8, r.w, &lines);
	for (size_t i = skip > 0 ? (size_t)skip : 0; i < lines.n && rows < r.h; i++, rows++)
		ui_put_row(w, r.y + rows, r.x, r.w, lines.v[i], attr);
	strv_free(&lines);
	return rows;
}

int
ui_paragraph_lines(const char *utf8, int cols)
{
	struct strv lines = {0};
	text_wrap(utf8, cols, &lines);
	int n = (int)lines.n;
	strv_free(&lines);
	return n;
}

void
ui_bar(WINDOW *w, int y, int x, int n, double value, double max, attr_t fill, attr_t empty)
{
	double frac = 0;
	struct buf b;
	char enc[4];
	if (n <= 0)
		return;
	if (isfinite(value) && isfinite(max) && max > 0 && value > 0)
		frac = value >= max ? 1 : value / max;

	buf_init(&b, 0);
	if (text_locale_utf8()) {
		long eighths = lround(frac * n * 8);
		for (long i = 0; i < eighths / 8; i++)
			buf_add(&b, enc, text_encode(0x2588, enc)); /* █ */
		if (eighths % 8)
			buf_add(&b, enc,
			        text_encode(0x2590 - (uint32_t)(eighths % 8), enc)); /* ▏..▉ */
		int used = ui_put(w, y, x, n, b.data, fill);
		ui_fill(w, y, x + used, n - used, empty);
	} else {
		long cells = lround(frac * n);
		for (long i = 0; i < cells; i++)
			buf_addc(&b, '#');
		int used = ui_put(w, y, x, n, b.data, fill);
		buf_reset(&b);
		for (int i = used; i < n; i++)
			buf_addc(&b, '-');
		ui_put(w, y, x + used, n - used, b.data, empty);
	}
	buf_free(&b);
}

void
ui_spark_levels(const double *v, size_t count, int *level)
{
	double lo = 0, hi = 0;
	int any = 0;
	for (size_t i = 0; i < count; i++) {
		if (!isfinite(v[i]))
			continue;
		if (!any || v[i] > hi)
			hi = v[i];
		if (v[i] < lo)
			lo = v[i];
		any = 1;
	}
	for (size_t i = 0; i < count; i++) {
		if (!isfinite(v[i]))
			level[i] = -1;
		else if (hi <= lo)
			level[i] = 0;
		else {
			long l = lround((v[i] - lo) / (hi - lo) * 7);
			level[i] = l < 0 ? 0 : l > 7 ? 7 : (int)l;
		}
	}
}

void
ui_sparkline(WINDOW *w, int y, int x, int n, const double *v, size_t count, attr_t attr)
{
	static const char ascii[] = "_.,-=+*#";
	struct buf b;
	char enc[4];
	if (n <= 0)
		return;
	size_t m = count < (size_t)n ? count : (size_t)n;
	const double *tail = v + (count - m);
	int *level = xreallocarray(NULL, m + 1, sizeof *level);
	int utf8 = text_locale_utf8();

	ui_spark_levels(tail, m, level);
	buf_init(&b, 0);
	for (size_t i = 0; i < m; i++) {
		if (level[i] < 0)
			buf_addc(&b, ' ');
		else if (utf8)
			buf_add(&b, enc, text_encode(0x2581 + (uint32_t)level[i], enc)); /* ▁..█ */
		else
			buf_addc(&b, ascii[level[i]]);
	}
	ui_put_row(w, y, x, n, b.data, attr);
	buf_free(&b);
	free(level);
}
