/* check_ui_theme.c -- attributes by role, with and without colour (src/ui-theme.c). */
#include "config.h"

#include <stdlib.h>

#include "testutil.h"
#include "ui-theme.h"
#include "uiterm.h"

/* The monochrome looks every fallback must give. */
static const attr_t mono[THEME_NROLES] = {
    [THEME_TITLE] = A_REVERSE | A_BOLD,
    [THEME_FOOTER_KEY] = A_REVERSE,
    [THEME_FOOTER_LABEL] = A_NORMAL,
    [THEME_SELECTED] = A_REVERSE,
    [THEME_CUSTOMER] = A_NORMAL,
    [THEME_AI] = A_NORMAL,
    [THEME_HUMAN] = A_BOLD,
    [THEME_SYSTEM] = A_DIM,
    [THEME_STALE] = A_REVERSE | A_BOLD,
    [THEME_WARNING] = A_BOLD,
    [THEME_OK] = A_NORMAL,
    [THEME_DIM] = A_DIM,
    [THEME_BORDER] = A_NORMAL,
    [THEME_STREAMING] = A_DIM,
};

static void
expect_mono(const struct theme_choice *c)
{
	for (int r = 0; r < THEME_NROLES; r++) {
		ck_assert_msg(c[r].pair == 0, "role %d has pair %d without colour", r, c[r].pair);
		ck_assert_msg(c[r].attr == mono[r], "role %d: attr %lx, want %lx", r,
		              (unsigned long)c[r].attr, (unsigned long)mono[r]);
	}
	/* Told apart without colour: selection, STALE (even inside a selection). */
	ck_assert(c[THEME_SELECTED].attr & A_REVERSE);
	ck_assert(c[THEME_STALE].attr & A_REVERSE);
	ck_assert(c[THEME_STALE].attr & A_BOLD);
	ck_assert(c[THEME_STALE].attr != c[THEME_SELECTED].attr);
	ck_assert(c[THEME_TITLE].attr != A_NORMAL);
	ck_assert(c[THEME_WARNING].attr != A_NORMAL);
}

START_TEST(no_colours_degrade_to_attributes)
{
	struct theme_choice c[THEME_NROLES];
	theme_decide(0, 0, 0, 0, c);
	expect_mono(c);
	/* A terminal with colours but fewer than eight. */
	theme_decide(1, 2, 64, 0, c);
	expect_mono(c);
	/* Too few pairs for the roles. */
	theme_decide(1, 8, 4, 0, c);
	expect_mono(c);
}
END_TEST

START_TEST(no_color_means_no_colour_even_on_a_colour_terminal)
{
	struct theme_choice c[THEME_NROLES];
	theme_decide(1, 256, 65536, 1, c);
	expect_mono(c);
	theme_decide(1, 8, 64, 1, c);
	expect_mono(c);
}
END_TEST

START_TEST(eight_colours_get_pairs)
{
	struct theme_choice c[THEME_NROLES];
	theme_decide(1, 8, 64, 0, c);
	ck_assert_int_gt(c[THEME_TITLE].pair, 0);
	ck_assert_int_eq(c[THEME_TITLE].fg, COLOR_WHITE);
	ck_assert_int_eq(c[THEME_TITLE].bg, COLOR_BLUE);
	ck_assert_int_eq(c[THEME_STALE].fg, COLOR_WHITE);
	ck_assert_int_eq(c[THEME_STALE].bg, COLOR_RED);
	ck_assert(c[THEME_STALE].attr & A_BOLD);
	/* The selection stays reversed with colour too. */
	ck_assert(c[THEME_SELECTED].attr & A_REVERSE);
	ck_assert_int_gt(c[THEME_SELECTED].pair, 0);
	/* Plain roles take no pair; dim is A_DIM with 8 colours. */
	ck_assert_int_eq(c[THEME_CUSTOMER].pair, 0);
	ck_assert_int_eq(c[THEME_FOOTER_LABEL].pair, 0);
	ck_assert_int_eq(c[THEME_DIM].pair, 0);
	ck_assert(c[THEME_DIM].attr & A_DIM);
	/* Same colours, same pair; different colours, different pairs; all in range. */
	for (int a = 0; a < THEME_NROLES; a++) {
		if (c[a].pair == 0)
			continue;
		ck_assert(c[a].pair >= 1 && c[a].pair < 64);
		ck_assert(c[a].fg >= -1 && c[a].fg < 8 && c[a].bg >= -1 && c[a].bg < 8);
		for (int b = 0; b < THEME_NROLES; b++) {
			if (c[b].pair == 0)
				continue;
			int same = c[a].fg == c[b].fg && c[a].bg == c[b].bg;
			ck_assert_int_eq(same, c[a].pair == c[b].pair);
		}
	}
	ck_assert_int_eq(c[THEME_AI].pair, c[THEME_STREAMING].pair);
	ck_assert(c[THEME_STREAMING].attr & A_DIM);
}
END_TEST

START_TEST(two_hundred_fifty_six_colours_use_greys)
{
	struct theme_choice c[THEME_NROLES];
	theme_decide(1, 256, 65536, 0, c);
	ck_assert_int_gt(c[THEME_DIM].pair, 0);
	ck_assert_int_eq(c[THEME_DIM].fg, 245);
	ck_assert(!(c[THEME_DIM].attr & A_DIM));
	ck_assert_int_ne(c[THEME_AI].pair, c[THEME_STREAMING].pair);
}
END_TEST

START_TEST(no_color_environment)
{
	unsetenv("NO_COLOR");
	ck_assert_int_eq(theme_no_color_env(), 0);
	setenv("NO_COLOR", "", 1);
	ck_assert_int_eq(theme_no_color_env(), 0);
	setenv("NO_COLOR", "1", 1);
	ck_assert_int_eq(theme_no_color_env(), 1);
}
END_TEST

START_TEST(init_on_a_monochrome_terminal)
{
	struct uiterm t;
	struct theme th;
	uiterm_open(&t, "vt100", 24, 80, 1);
	ck_assert(!has_colors());
	theme_init(&th, has_colors(), COLORS, 0);
	ck_assert_int_eq(th.colour, 0);
	for (int r = 0; r < THEME_NROLES; r++)
		ck_assert_uint_eq(theme_attr(&th, (enum theme_role)r), mono[r]);
	ck_assert_uint_eq(theme_attr(&th, THEME_NROLES), A_NORMAL);
	uiterm_close(&t);
}
END_TEST

START_TEST(init_on_a_colour_terminal)
{
	struct uiterm t;
	struct theme th;
	struct theme_choice c[THEME_NROLES];
	short fg, bg;
	uiterm_open(&t, "xterm-256color", 24, 80, 1);
	ck_assert(has_colors());
	ck_assert_int_eq(start_color(), OK);
	theme_init(&th, has_colors(), COLORS, 0);
	theme_decide(1, COLORS, COLOR_PAIRS, 0, c);
	ck_assert_int_eq(th.colour, 1);
	for (int r = 0; r < THEME_NROLES; r++) {
		attr_t a = theme_attr(&th, (enum theme_role)r);
		ck_assert_int_eq(PAIR_NUMBER(a), c[r].pair);
		ck_assert_uint_eq(a & ~A_COLOR, c[r].attr);
		if (c[r].pair == 0)
			continue;
		ck_assert_int_eq(pair_content(c[r].pair, &fg, &bg), OK);
		ck_assert_int_eq(fg, c[r].fg);
		/* -1 when the terminal has default colours, else black. */
		ck_assert(bg == c[r].bg || (c[r].bg == -1 && bg == COLOR_BLACK));
	}
	uiterm_close(&t);
}
END_TEST

START_TEST(init_with_no_color_sets_no_pairs)
{
	struct uiterm t;
	struct theme th;
	short fg = 99, bg = 99;
	uiterm_open(&t, "xterm-256color", 24, 80, 1);
	ck_assert_int_eq(start_color(), OK);
	theme_init(&th, has_colors(), COLORS, 1);
	ck_assert_int_eq(th.colour, 0);
	for (int r = 0; r < THEME_NROLES; r++) {
		ck_assert_uint_eq(theme_attr(&th, (enum theme_role)r) & A_COLOR, 0);
		ck_assert_uint_eq(theme_attr(&th, (enum theme_role)r), mono[r]);
	}
	/* Pair 1 was never initialised. */
	ck_assert_int_eq(pair_content(1, &fg, &bg), OK);
	ck_assert(fg != COLOR_WHITE || bg != COLOR_BLUE);
	uiterm_close(&t);
}
END_TEST

static Suite *
ui_theme_suite(void)
{
	Suite *s = suite_create("ui-theme");
	TCase *tc = tcase_create("decide");
	tcase_add_test(tc, no_colours_degrade_to_attributes);
	tcase_add_test(tc, no_color_means_no_colour_even_on_a_colour_terminal);
	tcase_add_test(tc, eight_colours_get_pairs);
	tcase_add_test(tc, two_hundred_fifty_six_colours_use_greys);
	tcase_add_test(tc, no_color_environment);
	suite_add_tcase(s, tc);
	tc = tcase_create("init");
	tcase_add_test(tc, init_on_a_monochrome_terminal);
	tcase_add_test(tc, init_on_a_colour_terminal);
	tcase_add_test(tc, init_with_no_color_sets_no_pairs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ui_theme_suite());
}
