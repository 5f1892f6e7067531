/*
 * ui-theme.h -- curses attributes for each role of text on the console.
 *
 * The screens never pick colours: they ask for a role. theme_decide() is
 * the pure decision (testable without a terminal); theme_init() applies
 * it to the running curses session (init_pair) and fills a struct theme
 * that the console owns and passes to its screens.
 */
#ifndef FL_UI_THEME_H
#define FL_UI_THEME_H

#include <curses.h>

enum theme_role {
	THEME_TITLE,        /* title bar */
	THEME_FOOTER_KEY,   /* a key in the footer ("F1") */
	THEME_FOOTER_LABEL, /* what the key does ("Help") */
	THEME_SELECTED,     /* the selected row of a list */
	THEME_CUSTOMER,     /* customer text in the chat */
	THEME_AI,           /* the AI agent's replies */
	THEME_HUMAN,        /* a human agent's replies */
	THEME_SYSTEM,       /* system notes ("human took over") */
	THEME_STALE,        /* the STALE flag on a knowledge fact */
	THEME_WARNING,
	THEME_OK,
	THEME_DIM,       /* secondary detail */
	THEME_BORDER,    /* panel frames */
	THEME_STREAMING, /* model text still arriving */
	THEME_NROLES
};

/*
 * One role's decision: a colour pair (0 = none; then fg/bg are unused)
 * with its colours (-1 = the terminal's default), and the attributes
 * that go with it.
 */
struct theme_choice {
	short pair;
	short fg, bg;
	attr_t attr;
};

/* The resolved attributes, COLOR_PAIR() included, one per role. */
struct theme {
	attr_t attr[THEME_NROLES];
	int colour; /* colour pairs are in use */
};

/*
 * Decides every role's look. Colour needs has_colors, at least 8 colours
 * and enough pairs (npairs, the terminal's COLOR_PAIRS), and no_color
 * unset (the caller passes: NO_COLOR is set and not empty). Otherwise
 * roles are told apart by attributes alone:
 *
 *   title           reverse, bold        footer key      reverse
 *   footer label    normal               selected row    reverse
 *   customer, AI    normal               human           bold
 *   system note     dim                  STALE           reverse, bold
 *   warning         bold                 ok              normal
 *   dim             dim                  border          normal
 *   streaming       dim
 *
 * so the selection and the STALE flag stay visible on a monochrome
 * terminal (and STALE inside a selected row stays distinct: bold). With
 * colour the selection keeps A_REVERSE too. Roles sharing colours share
 * a pair; pairs are numbered from 1. Pure: no curses call.
 */
void theme_decide(int has_colors, int ncolors, int npairs, int no_color,
                  struct theme_choice out[THEME_NROLES]);

/*
 * Fills *t for the running curses session. Call after initscr()/newterm()
 * and, when has_colors(), after start_color() (COLORS and COLOR_PAIRS are
 * only known then): theme_init(&t, has_colors(), COLORS, no_color). When
 * colour is chosen it calls use_default_colors() (falling back to white
 * on black where the terminal has no default colours) and init_pair();
 * it never touches colours otherwise.
 */
void theme_init(struct theme *t, int has_colors, int ncolors, int no_color);

/* The attributes for role (A_NORMAL for an unknown role). */
attr_t theme_attr(const struct theme *t, enum theme_role role);

/* True when the NO_COLOR environment variable asks for no colour. */
int theme_no_color_env(void);

#endif
