/* check_ui_draw.c -- ncurses drawing helpers, read back from the window (src/ui-draw.c). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "ui-draw.h"
#include "ui-text.h"
#include "uiterm.h"

static struct uiterm term;

static void
setup_utf8(void)
{
	uiterm_open(&term, "xterm-256color", 24, 80, 1);
}

static void
setup_ascii(void)
{
	uiterm_open(&term, "vt100", 24, 80, 0);
}

static void
teardown(void)
{
	uiterm_close(&term);
}

/* Row y of stdscr from x over n columns equals want. */
static void
expect_row(int y, int x, int n, const char *want)
{
	char *got = uiterm_row(stdscr, y, x, n);
	ck_assert_str_eq(got, want);
	free(got);
}

/* Fills row y with dots so that what was not drawn shows. */
static void
dots(int y)
{
	mvwhline(stdscr, y, 0, '.', COLS);
}

START_TEST(put_clips_at_characters)
{
	dots(0);
	ck_assert_int_eq(ui_put(stdscr, 0, 0, 10, "hello", A_NORMAL), 5);
	expect_row(0, 0, 8, "hello...");
	dots(1);
	ck_assert_int_eq(ui_put(stdscr, 1, 2, 5, "hello world", A_NORMAL), 5);
	expect_row(1, 0, 9, "..hello..");
	/* A wide character that would cross the limit is left out whole. */
	dots(2);
	ck_assert_int_eq(ui_put(stdscr, 2, 0, 5, "日本語", A_NORMAL), 4);
	expect_row(2, 0, 6, "日本..");
	/* The window's edge is a limit too: no wrap onto the next row. */
	dots(3);
	dots(4);
	ck_assert_int_eq(ui_put(stdscr, 3, 78, 10, "abcdef", A_NORMAL), 2);
	expect_row(3, 76, 4, "..ab");
	ck_assert_int_eq(ui_put(stdscr, 3, 79, 10, "日", A_NORMAL), 0);
	expect_row(4, 0, 3, "...");
	/* Off the window, or nothing to draw. */
	ck_assert_int_eq(ui_put(stdscr, 24, 0, 10, "x", A_NORMAL), 0);
	ck_assert_int_eq(ui_put(stdscr, -1, 0, 10, "x", A_NORMAL), 0);
	ck_assert_int_eq(ui_put(stdscr, 0, 80, 10, "x", A_NORMAL), 0);
	ck_assert_int_eq(ui_put(stdscr, 0, 0, 0, "x", A_NORMAL), 0);
	ck_assert_int_eq(ui_put(stdscr, 0, 0, 10, NULL, A_NORMAL), 0);
}
END_TEST

START_TEST(put_keeps_combining_marks_with_their_base)
{
	wchar_t wc[CCHARW_MAX + 1];
	cchar_t cc;
	attr_t a;
	short p;
	dots(0);
	ck_assert_int_eq(ui_put(stdscr, 0, 0, 3, "e\xcc\x81x", A_NORMAL), 2);
	ck_assert_int_eq(mvwin_wch(stdscr, 0, 0, &cc), OK);
	ck_assert_int_eq(getcchar(&cc, wc, &a, &p, NULL), OK);
	ck_assert(wc[0] == L'e' && wc[1] == 0x301);
	ck_assert(uiterm_cell(stdscr, 0, 1, NULL) == L'x');
	/* A combining mark with no base is dropped, not attached to what is left of it. */
	dots(1);
	mvwaddch(stdscr, 1, 0, ACS_VLINE);
	ck_assert_int_eq(ui_put(stdscr, 1, 1, 5,
	                        "\xcc\x81"
	                        "ab",
	                        A_NORMAL),
	                 2);
	ck_assert_int_eq(mvwin_wch(stdscr, 1, 0, &cc), OK);
	ck_assert_int_eq(getcchar(&cc, wc, &a, &p, NULL), OK);
	ck_assert(wc[1] == 0);
	expect_row(1, 1, 3, "ab.");
}
END_TEST

START_TEST(put_never_draws_a_control_character)
{
	/* Even text that skipped sanitising: ESC, BEL and C1 become visible symbols. */
	dots(0);
	int n = ui_put(stdscr, 0, 0, 40,
	               "\x1b[2J\x07\xc2\x9b"
	               "1m\xff\tz\nq",
	               A_NORMAL);
	expect_row(0, 0, 14,
	           "␛[2J␇\xef\xbf\xbd"
	           "1m\xef\xbf\xbd z q.");
	ck_assert_int_eq(n, 13);
	for (int x = 0; x < n; x++) {
		wchar_t c = uiterm_cell(stdscr, 0, x, NULL);
		ck_assert_msg(c >= 0x20 && c != 0x7f && (c < 0x80 || c > 0x9f), "control at %d", x);
	}
}
END_TEST

START_TEST(put_sets_attributes_and_restores_the_window)
{
	attr_t before, after, cell;
	short pb, pa;
	wattr_set(stdscr, A_UNDERLINE, 0, NULL);
	wattr_get(stdscr, &before, &pb, NULL);
	ui_put(stdscr, 0, 0, 5, "bold", A_BOLD | A_REVERSE);
	wattr_get(stdscr, &after, &pa, NULL);
	ck_assert_uint_eq(before, after);
	ck_assert_int_eq(pb, pa);
	uiterm_cell(stdscr, 0, 1, &cell);
	ck_assert(cell & A_BOLD);
	ck_assert(cell & A_REVERSE);
	ck_assert(!(cell & A_UNDERLINE));
	/* A whole row in the selection's attributes. */
	dots(1);
	ck_assert_int_eq(ui_put_row(stdscr, 1, 2, 10, "row", A_REVERSE), 3);
	expect_row(1, 0, 14, "..row       ..");
	uiterm_cell(stdscr, 1, 11, &cell);
	ck_assert(cell & A_REVERSE);
	uiterm_cell(stdscr, 1, 12, &cell);
	ck_assert(!(cell & A_REVERSE));
}
END_TEST

static int
is_acs(int y, int x, chtype want)
{
	chtype mask = A_CHARTEXT | A_ALTCHARSET;
	return (mvwinch(stdscr, y, x) & mask) == (want & mask);
}

START_TEST(box_with_a_title)
{
	struct rect r = {2, 3, 5, 20};
	struct rect in = ui_box(stdscr, r, "Triage", A_NORMAL, A_BOLD);
	ck_assert(in.y == 3 && in.x == 4 && in.h == 3 && in.w == 18);
	ck_assert(is_acs(2, 3, ACS_ULCORNER));
	ck_assert(is_acs(2, 22, ACS_URCORNER));
	ck_assert(is_acs(6, 3, ACS_LLCORNER));
	ck_assert(is_acs(6, 22, ACS_LRCORNER));
	ck_assert(is_acs(2, 4, ACS_HLINE));
	ck_assert(is_acs(2, 13, ACS_HLINE));
	ck_assert(is_acs(4, 3, ACS_VLINE));
	ck_assert(is_acs(4, 22, ACS_VLINE));
	ck_assert(is_acs(6, 10, ACS_HLINE));
	expect_row(2, 5, 8, " Triage ");
	attr_t a;
	uiterm_cell(stdscr, 2, 6, &a);
	ck_assert(a & A_BOLD);

	/* A long title is clipped and leaves the corner alone. */
	struct rect s = {10, 0, 3, 12};
	ui_box(stdscr, s, "Knowledge base", A_NORMAL, A_NORMAL);
	expect_row(10, 2, 8, " Knowled");
	ck_assert(is_acs(10, 10, ACS_HLINE));
	ck_assert(is_acs(10, 11, ACS_URCORNER));

	/* Too small to frame: nothing drawn. */
	dots(20);
	struct rect t = {20, 0, 1, 10};
	in = ui_box(stdscr, t, "x", A_NORMAL, A_NORMAL);
	ck_assert(in.h == 0 && in.w == 0);
	expect_row(20, 0, 10, "..........");
	/* A 2-row frame has no inside. */
	struct rect u = {21, 0, 2, 10};
	in = ui_box(stdscr, u, NULL, A_NORMAL, A_NORMAL);
	ck_assert(in.h == 0 && in.w == 0);
	ck_assert(is_acs(21, 0, ACS_ULCORNER));
	/* A frame reaching past the window is clipped, not wrapped. */
	struct rect v = {22, 75, 5, 10};
	ui_box(stdscr, v, "edge", A_NORMAL, A_NORMAL);
	ck_assert(is_acs(22, 75, ACS_ULCORNER));
	ck_assert(is_acs(23, 75, ACS_VLINE));
}
END_TEST

START_TEST(paragraph_wraps_into_a_rect)
{
	const char *text = "the quick brown fox jumps over";
	struct rect r = {0, 2, 3, 10};
	for (int y = 0; y < 4; y++)
		dots(y);
	ck_assert_int_eq(ui_paragraph_lines(text, 10), 3);
	ck_assert_int_eq(ui_paragraph(stdscr, r, 0, text, A_NORMAL), 3);
	expect_row(0, 0, 13, "..the quick .");
	expect_row(1, 0, 13, "..brown fox .");
	expect_row(2, 0, 13, "..jumps over.");
	expect_row(3, 0, 13, ".............");

	/* Scrolled by one line: two rows drawn, the third untouched. */
	for (int y = 0; y < 4; y++)
		dots(y);
	ck_assert_int_eq(ui_paragraph(stdscr, r, 1, text, A_NORMAL), 2);
	expect_row(0, 0, 13, "..brown fox .");
	expect_row(1, 0, 13, "..jumps over.");
	expect_row(2, 0, 13, ".............");

	/* More lines than rows: cut at the rect's bottom. */
	struct rect small = {5, 0, 2, 5};
	dots(7);
	ck_assert_int_eq(ui_paragraph(stdscr, small, 0, text, A_NORMAL), 2);
	expect_row(5, 0, 5, "the  ");
	expect_row(6, 0, 5, "quick");
	expect_row(7, 0, 5, ".....");
	struct rect none = {0, 0, 0, 5};
	ck_assert_int_eq(ui_paragraph(stdscr, none, 0, text, A_NORMAL), 0);
}
END_TEST

START_TEST(bars_in_eighths)
{
	attr_t a;
	ui_bar(stdscr, 0, 0, 10, 5, 10, A_BOLD, A_NORMAL);
	expect_row(0, 0, 10, "█████     ");
	uiterm_cell(stdscr, 0, 4, &a);
	ck_assert(a & A_BOLD);
	uiterm_cell(stdscr, 0, 5, &a);
	ck_assert(!(a & A_BOLD));
	ui_bar(stdscr, 1, 0, 10, 0.55, 1, A_NORMAL, A_NORMAL); /* 44 eighths */
	expect_row(1, 0, 10, "█████▌    ");
	ui_bar(stdscr, 2, 0, 10, 0.01, 1, A_NORMAL, A_NORMAL); /* 1 eighth */
	expect_row(2, 0, 10, "▏         ");
	ui_bar(stdscr, 3, 0, 4, 99, 10, A_NORMAL, A_NORMAL);
	expect_row(3, 0, 4, "████");
	ui_bar(stdscr, 4, 0, 4, 5, 0, A_NORMAL, A_NORMAL);
	expect_row(4, 0, 4, "    ");
	ui_bar(stdscr, 5, 0, 4, NAN, 10, A_NORMAL, A_NORMAL);
	expect_row(5, 0, 4, "    ");
	ui_bar(stdscr, 6, 0, 4, -3, 10, A_NORMAL, A_NORMAL);
	expect_row(6, 0, 4, "    ");
}
END_TEST

START_TEST(sparklines)
{
	const double ramp[] = {0, 1, 2, 3, 4, 5, 6, 7};
	ui_sparkline(stdscr, 0, 0, 10, ramp, 8, A_NORMAL);
	expect_row(0, 0, 10, "▁▂▃▄▅▆▇█  ");
	/* More values than columns: the most recent ones. */
	const double many[] = {100, 100, 0, 7, 14};
	ui_sparkline(stdscr, 1, 0, 3, many, 5, A_NORMAL);
	expect_row(1, 0, 3, "▁▅█");
	const double gaps[] = {1, NAN, 2, INFINITY};
	ui_sparkline(stdscr, 2, 0, 4, gaps, 4, A_NORMAL);
	expect_row(2, 0, 4, "▅ █ ");
	ui_sparkline(stdscr, 3, 0, 3, ramp, 0, A_NORMAL);
	expect_row(3, 0, 3, "   ");
}
END_TEST

START_TEST(spark_levels_are_pure)
{
	int l[5];
	const double zeros[] = {0, 0, 0};
	ui_spark_levels(zeros, 3, l);
	ck_assert(l[0] == 0 && l[1] == 0 && l[2] == 0);
	const double flat[] = {5, 5};
	ui_spark_levels(flat, 2, l);
	ck_assert(l[0] == 7 && l[1] == 7);
	const double neg[] = {-10, 0, 10};
	ui_spark_levels(neg, 3, l);
	ck_assert(l[0] == 0 && l[1] == 4 && l[2] == 7);
	const double odd[] = {NAN, -INFINITY, 3};
	ui_spark_levels(odd, 3, l);
	ck_assert(l[0] == -1 && l[1] == -1 && l[2] == 7);
}
END_TEST

START_TEST(ascii_fallbacks_outside_utf8)
{
	ck_assert_int_eq(text_locale_utf8(), 0);
	ui_bar(stdscr, 0, 0, 10, 3, 10, A_NORMAL, A_NORMAL);
	expect_row(0, 0, 10, "###-------");
	const double ramp[] = {0, 1, 2, 3, 4, 5, 6, 7};
	ui_sparkline(stdscr, 1, 0, 8, ramp, 8, A_NORMAL);
	expect_row(1, 0, 8, "_.,-=+*#");
	/* Non-ASCII text shows as '?', one column per character. */
	dots(2);
	ck_assert_int_eq(ui_put(stdscr, 2, 0, 10, "日本\x1b", A_NORMAL), 3);
	expect_row(2, 0, 4, "???.");
}
END_TEST

static Suite *
ui_draw_suite(void)
{
	Suite *s = suite_create("ui-draw");
	TCase *tc = tcase_create("utf8");
	tcase_add_checked_fixture(tc, setup_utf8, teardown);
	tcase_add_test(tc, put_clips_at_characters);
	tcase_add_test(tc, put_keeps_combining_marks_with_their_base);
	tcase_add_test(tc, put_never_draws_a_control_character);
	tcase_add_test(tc, put_sets_attributes_and_restores_the_window);
	tcase_add_test(tc, box_with_a_title);
	tcase_add_test(tc, paragraph_wraps_into_a_rect);
	tcase_add_test(tc, bars_in_eighths);
	tcase_add_test(tc, sparklines);
	tcase_add_test(tc, spark_levels_are_pure);
	suite_add_tcase(s, tc);
	tc = tcase_create("ascii");
	tcase_add_checked_fixture(tc, setup_ascii, teardown);
	tcase_add_test(tc, ascii_fallbacks_outside_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ui_draw_suite());
}
