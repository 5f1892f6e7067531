/* check_ui_layout.c -- screen layout arithmetic (src/ui-layout.c). */
#include "config.h"

#include <stdio.h>

#include "testutil.h"
#include "ui-layout.h"

static int
hidden(struct rect r)
{
	return r.y == 0 && r.x == 0 && r.h == 0 && r.w == 0;
}

static int
overlap(struct rect a, struct rect b)
{
	return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static void
expect_rect(struct rect r, int y, int x, int h, int w, const char *what)
{
	ck_assert_msg(r.y == y && r.x == x && r.h == h && r.w == w,
	              "%s is {%d,%d,%d,%d}, want {%d,%d,%d,%d}", what, r.y, r.x, r.h, r.w, y, x, h,
	              w);
}

/* Every rect hidden or inside the screen with a positive size; no two overlap. */
static void
check_rects(const struct rect *r, const char *const *names, int n, int lines, int cols)
{
	for (int i = 0; i < n; i++) {
		if (hidden(r[i]))
			continue;
		ck_assert_msg(r[i].h >= 1 && r[i].w >= 1, "%dx%d: %s has size %dx%d", cols, lines,
		              names[i], r[i].w, r[i].h);
		ck_assert_msg(r[i].y >= 0 && r[i].x >= 0 && r[i].y + r[i].h <= lines &&
		                  r[i].x + r[i].w <= cols,
		              "%dx%d: %s {%d,%d,%d,%d} leaves the screen", cols, lines, names[i],
		              r[i].y, r[i].x, r[i].h, r[i].w);
		for (int j = 0; j < i; j++)
			ck_assert_msg(hidden(r[j]) || !overlap(r[i], r[j]), "%dx%d: %s overlaps %s",
			              cols, lines, names[i], names[j]);
	}
}

static void
check_supervise(int lines, int cols, int input)
{
	static const char *const names[] = {"message", "title",     "footer", "input",
	                                    "queue",   "chat",      "triage", "knowledge",
	                                    "signals", "guardrails"};
	struct supervise_layout l;
	layout_supervise(lines, cols, input, &l);
	struct rect r[] = {l.message, l.title,    l.footer,   l.input,    l.queue,
	                   l.chat,    l.panel[0], l.panel[1], l.panel[2], l.panel[3]};
	check_rects(r, names, (int)nitems(r), lines, cols);

	int big = lines >= LAYOUT_MIN_LINES && cols >= LAYOUT_MIN_COLS;
	ck_assert_int_eq(l.too_small, !big);
	if (!big) {
		/* Nothing but the message, which takes the whole screen. */
		expect_rect(l.message, 0, 0, lines, cols, "message");
		for (size_t i = 1; i < nitems(r); i++)
			ck_assert_msg(hidden(r[i]), "%dx%d: %s shown", cols, lines, names[i]);
		return;
	}
	ck_assert(hidden(l.message));
	expect_rect(l.title, 0, 0, 1, cols, "title");
	expect_rect(l.footer, lines - 1, 0, 1, cols, "footer");
	if (input)
		expect_rect(l.input, lines - 2, 0, 1, cols, "input");
	else
		ck_assert(hidden(l.input));
	ck_assert_msg(!hidden(l.chat) && l.chat.h >= 3 && l.chat.w >= 20, "%dx%d: chat %dx%d", cols,
	              lines, l.chat.w, l.chat.h);
	ck_assert(!hidden(l.queue));
	ck_assert_int_eq(l.queue_strip, cols < 60);
	ck_assert_int_eq(l.panels_below, cols < 100);
	if (l.queue_strip)
		ck_assert_int_eq(l.queue.h, 1);
	else
		ck_assert(l.queue.w >= 22 && l.queue.w <= 40);
	for (int p = 0; p < PANEL_COUNT; p++)
		if (!hidden(l.panel[p]))
			ck_assert_msg(l.panel[p].h >= LAYOUT_PANEL_MIN_H &&
			                  l.panel[p].w >= LAYOUT_PANEL_MIN_W,
			              "%dx%d: %s is %dx%d", cols, lines, names[6 + p], l.panel[p].w,
			              l.panel[p].h);
	/* Knowledge gets more rows than any other panel when all four show. */
	int all = 1;
	for (int p = 0; p < PANEL_COUNT; p++)
		all &= !hidden(l.panel[p]);
	if (all)
		for (int p = 0; p < PANEL_COUNT; p++)
			if (p != PANEL_KNOWLEDGE)
				ck_assert_int_ge(l.panel[PANEL_KNOWLEDGE].h, l.panel[p].h);
	/* Escalation signals are the last panel to go. */
	for (int p = 0; p < PANEL_COUNT; p++)
		if (!hidden(l.panel[p]))
			ck_assert_msg(!hidden(l.panel[PANEL_SIGNALS]), "%dx%d: %s without signals",
			              cols, lines, names[6 + p]);
}

static void
check_reader(int lines, int cols, int with_list)
{
	static const char *const names[] = {"message", "title", "footer", "list", "body"};
	struct reader_layout l;
	layout_reader(lines, cols, with_list, &l);
	struct rect r[] = {l.message, l.title, l.footer, l.list, l.body};
	check_rects(r, names, (int)nitems(r), lines, cols);
	int big = lines >= LAYOUT_MIN_LINES && cols >= LAYOUT_MIN_COLS;
	ck_assert_int_eq(l.too_small, !big);
	if (!big) {
		expect_rect(l.message, 0, 0, lines, cols, "message");
		return;
	}
	ck_assert(!hidden(l.body));
	ck_assert_int_eq(hidden(l.list), !with_list);
	/* Title, footer, list and body tile the screen. */
	int area = 0;
	for (size_t i = 1; i < nitems(r); i++)
		area += r[i].h * r[i].w;
	ck_assert_int_eq(area, lines * cols);
}

/* Every size up to 160x60, then every 7th column and 5th row up to 300x120. */
static int
next_size(int v, int dense)
{
	return v < dense ? v + 1 : v + (dense == 160 ? 7 : 5);
}

START_TEST(supervise_rects_are_sound_at_every_size)
{
	for (int lines = 1; lines <= 120; lines = next_size(lines, 60))
		for (int cols = 1; cols <= 300; cols = next_size(cols, 160)) {
			check_supervise(lines, cols, 0);
			check_supervise(lines, cols, 1);
		}
}
END_TEST

START_TEST(reader_rects_are_sound_at_every_size)
{
	for (int lines = 1; lines <= 120; lines = next_size(lines, 60))
		for (int cols = 1; cols <= 300; cols = next_size(cols, 160)) {
			check_reader(lines, cols, 0);
			check_reader(lines, cols, 1);
		}
}
END_TEST

START_TEST(degenerate_sizes)
{
	struct supervise_layout l;
	layout_supervise(0, 0, 1, &l);
	ck_assert(l.too_small);
	ck_assert(hidden(l.message));
	layout_supervise(-5, 80, 0, &l);
	ck_assert(l.too_small);
	ck_assert(hidden(l.message));
	layout_supervise(9, 200, 0, &l);
	ck_assert(l.too_small);
	layout_supervise(10, 39, 0, &l);
	ck_assert(l.too_small);
	layout_supervise(10, 40, 1, &l);
	ck_assert(!l.too_small);
	ck_assert(!hidden(l.chat));
	ck_assert_str_eq(LAYOUT_TOO_SMALL, "terminal too small (need 40x10)");
}
END_TEST

START_TEST(supervise_80x24)
{
	struct supervise_layout l;
	layout_supervise(24, 80, 0, &l);
	ck_assert(!l.too_small && !l.queue_strip && l.panels_below);
	expect_rect(l.title, 0, 0, 1, 80, "title");
	expect_rect(l.queue, 1, 0, 22, 22, "queue");
	expect_rect(l.chat, 1, 22, 11, 58, "chat");
	expect_rect(l.panel[PANEL_KNOWLEDGE], 12, 22, 11, 29, "knowledge");
	expect_rect(l.panel[PANEL_TRIAGE], 12, 51, 4, 29, "triage");
	expect_rect(l.panel[PANEL_SIGNALS], 16, 51, 4, 29, "signals");
	expect_rect(l.panel[PANEL_GUARDRAILS], 20, 51, 3, 29, "guardrails");
	expect_rect(l.footer, 23, 0, 1, 80, "footer");
	ck_assert(hidden(l.input));

	layout_supervise(24, 80, 1, &l);
	expect_rect(l.queue, 1, 0, 21, 22, "queue");
	expect_rect(l.chat, 1, 22, 11, 58, "chat");
	expect_rect(l.panel[PANEL_KNOWLEDGE], 12, 22, 10, 29, "knowledge");
	expect_rect(l.panel[PANEL_TRIAGE], 12, 51, 4, 29, "triage");
	expect_rect(l.panel[PANEL_SIGNALS], 16, 51, 3, 29, "signals");
	expect_rect(l.panel[PANEL_GUARDRAILS], 19, 51, 3, 29, "guardrails");
	expect_rect(l.input, 22, 0, 1, 80, "input");
	expect_rect(l.footer, 23, 0, 1, 80, "footer");
}
END_TEST

START_TEST(supervise_120x40)
{
	struct supervise_layout l;
	layout_supervise(40, 120, 0, &l);
	ck_assert(!l.too_small && !l.queue_strip && !l.panels_below);
	expect_rect(l.title, 0, 0, 1, 120, "title");
	expect_rect(l.queue, 1, 0, 38, 30, "queue");
	expect_rect(l.chat, 1, 30, 38, 51, "chat");
	expect_rect(l.panel[PANEL_TRIAGE], 1, 81, 8, 39, "triage");
	expect_rect(l.panel[PANEL_KNOWLEDGE], 9, 81, 14, 39, "knowledge");
	expect_rect(l.panel[PANEL_SIGNALS], 23, 81, 8, 39, "signals");
	expect_rect(l.panel[PANEL_GUARDRAILS], 31, 81, 8, 39, "guardrails");
	expect_rect(l.footer, 39, 0, 1, 120, "footer");
}
END_TEST

START_TEST(supervise_200x50)
{
	struct supervise_layout l;
	layout_supervise(50, 200, 1, &l);
	ck_assert(!l.too_small && !l.queue_strip && !l.panels_below);
	expect_rect(l.queue, 1, 0, 47, 40, "queue");
	expect_rect(l.chat, 1, 40, 47, 104, "chat");
	expect_rect(l.panel[PANEL_TRIAGE], 1, 144, 10, 56, "triage");
	expect_rect(l.panel[PANEL_KNOWLEDGE], 11, 144, 17, 56, "knowledge");
	expect_rect(l.panel[PANEL_SIGNALS], 28, 144, 10, 56, "signals");
	expect_rect(l.panel[PANEL_GUARDRAILS], 38, 144, 10, 56, "guardrails");
	expect_rect(l.input, 48, 0, 1, 200, "input");
	expect_rect(l.footer, 49, 0, 1, 200, "footer");
}
END_TEST

START_TEST(supervise_narrow_and_short)
{
	struct supervise_layout l;
	/* Under 60 columns the queue is a strip and the chat takes the width. */
	layout_supervise(30, 50, 0, &l);
	ck_assert(l.queue_strip && l.panels_below);
	expect_rect(l.queue, 1, 0, 1, 50, "queue");
	expect_rect(l.chat, 2, 0, 14, 50, "chat");
	expect_rect(l.panel[PANEL_KNOWLEDGE], 16, 0, 13, 25, "knowledge");
	/* Wide but short: only the panels that fit, signals first. */
	layout_supervise(10, 150, 1, &l);
	ck_assert(!l.panels_below);
	ck_assert_int_eq(l.queue.h, 7);
	ck_assert(!hidden(l.panel[PANEL_SIGNALS]) && !hidden(l.panel[PANEL_KNOWLEDGE]));
	ck_assert(hidden(l.panel[PANEL_TRIAGE]) && hidden(l.panel[PANEL_GUARDRAILS]));
	/* The smallest screen: no room for panels under the chat. */
	layout_supervise(10, 40, 1, &l);
	expect_rect(l.queue, 1, 0, 1, 40, "queue");
	expect_rect(l.chat, 2, 0, 6, 40, "chat");
	for (int p = 0; p < PANEL_COUNT; p++)
		ck_assert(hidden(l.panel[p]));
}
END_TEST

START_TEST(reader_examples)
{
	struct reader_layout l;
	layout_reader(24, 80, 1, &l);
	expect_rect(l.list, 1, 0, 7, 80, "list");
	expect_rect(l.body, 8, 0, 15, 80, "body");
	layout_reader(40, 120, 1, &l);
	expect_rect(l.list, 1, 0, 38, 36, "list");
	expect_rect(l.body, 1, 36, 38, 84, "body");
	layout_reader(50, 200, 0, &l);
	ck_assert(hidden(l.list));
	expect_rect(l.body, 1, 0, 48, 200, "body");
}
END_TEST

static Suite *
ui_layout_suite(void)
{
	Suite *s = suite_create("ui-layout");
	TCase *tc = tcase_create("sweep");
	tcase_add_test(tc, supervise_rects_are_sound_at_every_size);
	tcase_add_test(tc, reader_rects_are_sound_at_every_size);
	tcase_add_test(tc, degenerate_sizes);
	suite_add_tcase(s, tc);
	tc = tcase_create("examples");
	tcase_add_test(tc, supervise_80x24);
	tcase_add_test(tc, supervise_120x40);
	tcase_add_test(tc, supervise_200x50);
	tcase_add_test(tc, supervise_narrow_and_short);
	tcase_add_test(tc, reader_examples);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ui_layout_suite());
}
