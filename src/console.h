/*
 * console.h -- the ncurses console: the loop, the frame, and screens as modules.
 *
 * console.c runs the loop, owns the terminal, the reply line and the
 * status line, and switches between screens. A screen (ui-*.c) is one
 * file exporting one const struct console_screen: its state, its keys
 * and its drawing; ui-screens.c lists them. Adding a screen is adding a
 * file and a row there. Screens call down into this header, never into
 * console.c's insides; console.c calls screens only through their row.
 */
#ifndef FL_CONSOLE_H
#define FL_CONSOLE_H

#include <stdint.h>

#include "loop.h"
#include "ui-layout.h"
#include "ui-theme.h"

struct agents;
struct console;
struct desk;
struct desk_conv;
struct listener;
struct demo_sim;
struct policy;
struct rollout_live;
struct store;
struct ui_input;

/* A line the reply line gave to whoever borrowed it: trimmed. */
typedef void (*console_line_fn)(struct console *, void *arg, const char *line);

/*
 * What every screen may read. Drawing code only reads it; keys and
 * events change it through the functions below, which mark the screen
 * dirty: one redraw runs per pass of the loop at most.
 */
struct console {
	struct loop *loop;
	struct desk *desk;
	struct store *st;
	struct listener *listener;
	struct demo_sim *demo;
	struct ui_input *input;
	const struct agents *ag; /* borrowed: the policy, for the reasons a handoff can give */
	const char *supervisor;  /* who takes over: --name, or $USER */
	const char *policy_version;
	const struct console_opts *opts;
	struct theme theme;

	const struct console_screen *screen; /* on show */
	const struct console_screen *under;  /* what an overlay (the help) shows over */
	void **state;                        /* each screen's, by its place in console_screens */

	int typing; /* keys go to the reply line */
	/* The reply line borrowed for a prompt (its label, or NULL); the reply draft waits. */
	const char *prompt;
	console_line_fn prompt_done;
	void *prompt_arg;
	char *saved_draft;

	char status[256]; /* the status line's message */
	int status_error;

	int dirty;
	uint64_t redraw_timer;
	int stop;
	int closed; /* the terminal is given back (endwin): nothing draws any more */
	/* Measured, for the status bar and the benchmarks. */
	uint64_t frames;
	double started_ms, first_frame_ms, last_frame_ms, total_frame_ms, max_frame_ms;
};

/* A row of the help: keys and what they do; keys NULL: a heading; both NULL: the end. */
struct ui_help {
	const char *keys, *what;
};

/*
 * A screen. Only name and draw are required. Every function gets the
 * state its open made (NULL without open).
 */
struct console_screen {
	const char *name; /* "Review": the help's heading */
	const char *what; /* the help's line for its keys: "the Review screen: ..." */
	/* The keys that show it from every screen (0: none): a letter, and F-key n. */
	int letter, fkey;
	/*
	 * Drawn over the screen it was shown from, which stays as it was;
	 * console_back returns to it (the help).
	 */
	int overlay;
	/* Its keys, for the help; NULL for none. */
	const struct ui_help *help;

	/* Its state, made when the console starts (before the desk is open). */
	void *(*open)(struct console *);
	/* Frees the state when the console ends: stops what it runs, cancels its timers. */
	void (*close)(struct console *, void *state);
	/*
	 * Shown (its key, from any screen, even its own): reads what it shows
	 * afresh. Returns 0, or -1 to stay on the screen the console was on
	 * (the status says why).
	 */
	int (*show)(struct console *, void *state);
	/*
	 * A key in command mode. Returns 1 when it was the screen's; 0 lets
	 * the console's keys have it (the screens' keys, q and Esc back, F10).
	 */
	int (*key)(struct console *, void *state, int key);
	/* Draws the whole screen into stdscr; no refresh. */
	void (*draw)(struct console *, void *state);
	/* A line the reply line gave while no prompt had it; NULL when Escape left it. */
	void (*line)(struct console *, void *state, const char *line);
	/* A conversation on the desk changed. */
	void (*changed)(struct console *, void *state, struct desk_conv *);
};

/* Every screen, the home screen (Supervise) first; NULL-ended (ui-screens.c). */
extern const struct console_screen *const console_screens[];

/* How cmd-console starts the console. */
struct console_opts {
	const char *socket_path; /* NULL: no Unix socket */
	int tcp_port;            /* 0: no TCP listener */
	const char *demo_path;   /* the simulated customers' script, or NULL */
	double demo_speed;
	const char *supervisor;
	const char *history_path; /* the reply line's history, or NULL */
	const char *policy_version;
	/* Called every few seconds: the reloaded policy when its file changed, else NULL. */
	const struct policy *(*policy_poll)(void *arg);
	void *policy_arg;
	long exit_after_ms;  /* > 0: quit by itself after that long (benchmarks) */
	const char *datadir; /* where data/tickets/demo.jsonl is */
	/* Global options a child `frontline replay` gets (--policy, --kb, --db, ...); NULL-ended.
	 */
	char *const *replay_args;
	const char *today;            /* YYYY-MM-DD, for the metrics */
	struct rollout_live *rollout; /* the rollout in force for new conversations, or NULL */
	/* frontline serve's URL: changes made elsewhere come on its floor stream; NULL: LISTEN */
	const char *floor_url;
	const char *floor_token;
};

/*
 * Runs the console until the supervisor quits or a signal ends it: the
 * desk on the agents and store (borrowed), the customer listener, the
 * demo, the terminal. The terminal is restored on every way out. Returns
 * a sysexits code; problems are printed to stderr after the terminal is
 * restored.
 */
int console_run(struct loop *, const struct agents *, struct store *, const struct console_opts *);

/* Marks the screen dirty; the redraw comes once, after this pass of the loop. */
void console_dirty(struct console *);

/* Sets the status line's message (error: drawn as a warning). */
void console_status(struct console *, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Shows s (its show first: when that fails, the screen stays as it was). */
void console_show(struct console *, const struct console_screen *s);

/* From an overlay back to the screen under it, as it was. */
void console_back(struct console *);

/* Whether s is on show, or under the overlay on show. */
int console_showing(const struct console *, const struct console_screen *s);

/* Keys go to the reply line (on), or back to the screens' commands. */
void console_typing(struct console *, int on);

/*
 * Borrows the reply line for a prompt: label before it, initial text in
 * it (or NULL); the reply draft is kept and comes back after. Enter gives
 * done the trimmed line; Escape cancels, and done is not called.
 */
void console_prompt(struct console *, const char *label, const char *initial, console_line_fn done,
                    void *arg);

/*
 * The frame the full-screen tools share: title bar, footer keys ({key,
 * label} pairs ending with a NULL key), and on the row above the footer the
 * prompt being typed or the status. Returns the body between them, or a
 * zeroed rect when the terminal is too small (the frame then says so).
 */
struct ui_key {
	const char *key, *label;
};
struct rect ui_tool_frame(struct console *, const char *title, const struct ui_key *keys);

/*
 * Moves a scroll offset by a line (j/k, arrows) or half a screen (space,
 * PgUp/PgDn); returns 0 when k is not a scroll key.
 */
int ui_scroll_key(int *scroll, int k);

#endif
