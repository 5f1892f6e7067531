/* ui-layout.c -- where each part of a console screen goes. */
#include "config.h"

#include <string.h>

#include "ui-layout.h"

static int
clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static struct rect
rect_make(int y, int x, int h, int w)
{
	struct rect r = {0, 0, 0, 0};
	if (h > 0 && w > 0) {
		r.y = y;
		r.x = x;
		r.h = h;
		r.w = w;
	}
	return r;
}

/* A panel to stack: which one, its share of spare rows, and how late it is dropped. */
struct stacked {
	enum layout_panel id;
	int weight;
	int keep; /* higher: dropped later */
};

/*
 * Stacks the panels in col, top to bottom in the order given, each at
 * least LAYOUT_PANEL_MIN_H rows; panels that do not fit are dropped,
 * lowest keep first, and stay hidden (zeroed) in panel[].
 */
static void
stack_panels(struct rect col, const struct stacked *p, int n, struct rect *panel)
{
	int shown[PANEL_COUNT] = {0}, count = 0, units = 0, used = 0;

	if (col.w < LAYOUT_PANEL_MIN_W)
		return;
	for (int i = 0; i < n; i++)
		shown[i] = 1;
	count = n;
	while (count > 0 && count * LAYOUT_PANEL_MIN_H > col.h) {
		int drop = -1;
		for (int i = 0; i < n; i++)
			if (shown[i] && (drop < 0 || p[i].keep < p[drop].keep))
				drop = i;
		shown[drop] = 0;
		count--;
	}
	if (count == 0)
		return;

	int h[PANEL_COUNT] = {0}, heaviest = -1;
	int extra = col.h - count * LAYOUT_PANEL_MIN_H;
	for (int i = 0; i < n; i++)
		if (shown[i]) {
			units += p[i].weight;
			if (heaviest < 0 || p[i].weight > p[heaviest].weight)
				heaviest = i;
		}
	for (int i = 0; i < n; i++)
		if (shown[i]) {
			h[i] = LAYOUT_PANEL_MIN_H + extra * p[i].weight / units;
			used += h[i];
		}
	/* Leftover rows: all to the heaviest panel, or one each from the top. */
	int left = col.h - used;
	if (p[heaviest].weight > 1)
		h[heaviest] += left;
	else
		for (int i = 0; i < n && left > 0; i++)
			if (shown[i]) {
				h[i]++;
				left--;
			}

	int y = col.y;
	for (int i = 0; i < n; i++)
		if (shown[i]) {
			panel[p[i].id] = rect_make(y, col.x, h[i], col.w);
			y += h[i];
		}
}

static int
too_small(int lines, int cols, struct rect *message)
{
	if (lines >= LAYOUT_MIN_LINES && cols >= LAYOUT_MIN_COLS)
		return 0;
	*message = rect_make(0, 0, lines, cols);
	return 1;
}

void
layout_supervise(int lines, int cols, int input, struct supervise_layout *out)
{
	memset(out, 0, sizeof *out);
	if ((out->too_small = too_small(lines, cols, &out->message)))
		return;

	out->title = rect_make(0, 0, 1, cols);
	out->footer = rect_make(lines - 1, 0, 1, cols);
	int top = 1, bottom = lines - 1, left = 0;
	if (input) {
		out->input = rect_make(lines - 2, 0, 1, cols);
		bottom--;
	}
	if (cols < 60) {
		out->queue_strip = 1;
		out->queue = rect_make(top, 0, 1, cols);
		top++;
	} else {
		left = clamp(cols / 4, 22, 40);
		out->queue = rect_make(top, 0, bottom - top, left);
	}
	int bh = bottom - top, aw = cols - left;

	if (cols >= 100) {
		static const struct stacked column[] = {
		    {PANEL_TRIAGE, 1, 1},
		    {PANEL_KNOWLEDGE, 2, 2},
		    {PANEL_SIGNALS, 1, 3},
		    {PANEL_GUARDRAILS, 1, 0},
		};
		int rw = clamp(cols * 33 / 100, 30, 56);
		out->chat = rect_make(top, left, bh, aw - rw);
		stack_panels(rect_make(top, cols - rw, bh, rw), column, PANEL_COUNT, out->panel);
		return;
	}

	static const struct stacked right[] = {
	    {PANEL_TRIAGE, 1, 1},
	    {PANEL_SIGNALS, 1, 2},
	    {PANEL_GUARDRAILS, 1, 0},
	};
	/* The chat keeps the upper half, and never less than five rows. */
	int lower = bh / 2;
	if (lower < LAYOUT_PANEL_MIN_H || bh - lower < 5)
		lower = 0;
	out->panels_below = 1;
	out->chat = rect_make(top, left, bh - lower, aw);
	if (lower == 0)
		return;
	int y = top + bh - lower, lw = aw / 2;
	struct rect knowledge = rect_make(y, left, lower, lw);
	if (knowledge.w >= LAYOUT_PANEL_MIN_W && knowledge.h >= LAYOUT_PANEL_MIN_H)
		out->panel[PANEL_KNOWLEDGE] = knowledge;
	stack_panels(rect_make(y, left + lw, lower, aw - lw), right,
	             (int)(sizeof right / sizeof right[0]), out->panel);
}

void
layout_reader(int lines, int cols, int with_list, struct reader_layout *out)
{
	memset(out, 0, sizeof *out);
	if ((out->too_small = too_small(lines, cols, &out->message)))
		return;

	out->title = rect_make(0, 0, 1, cols);
	out->footer = rect_make(lines - 1, 0, 1, cols);
	int top = 1, bh = lines - 2;
	if (!with_list) {
		out->body = rect_make(top, 0, bh, cols);
	} else if (cols >= 100) {
		int lw = clamp(cols * 30 / 100, 24, 48);
		out->list = rect_make(top, 0, bh, lw);
		out->body = rect_make(top, lw, bh, cols - lw);
	} else {
		int lh = clamp(bh / 3, 3, 12);
		out->list = rect_make(top, 0, lh, cols);
		out->body = rect_make(top + lh, 0, bh - lh, cols);
	}
}
