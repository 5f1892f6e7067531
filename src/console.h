/* console.h -- the ncurses console: screens over the desk, keys, and the one event loop. */
#ifndef FL_CONSOLE_H
#define FL_CONSOLE_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "desk.h"
#include "loop.h"
#include "ui-layout.h"
#include "ui-theme.h"
#include "util.h"

struct listener;
struct demo_sim;
struct ui_input;
struct rollout_live;

enum console_screen {
	SCREEN_SUPERVISE,
	SCREEN_HANDOFFS,
	SCREEN_REVIEW,  /* trainer review of handoff packets */
	SCREEN_METRICS, /* the measurement framework */
	SCREEN_REPLAY,  /* an operator's shadow replay */
	SCREEN_HELP
};

/* What the reply line is typing into, when it is not a reply. */
enum console_prompt { PROMPT_NONE, PROMPT_MISSING, PROMPT_NOTE, PROMPT_REPLAY_FILE };

enum replay_state { REPLAY_IDLE, REPLAY_RUNNING, REPLAY_DONE, REPLAY_FAILED, REPLAY_CANCELLED };

struct review_packet;

/*
 * What the screens draw from. The desk holds the conversations; this is
 * the view over them. Drawing code only reads it (ui-*.c); the console
 * (console.c) changes it in answer to keys and events, then marks the
 * screen dirty; one redraw runs per pass of the loop at most.
 */
struct console {
	struct loop *loop;
	struct desk *desk;
	struct store *st;
	struct listener *listener;
	struct demo_sim *demo;
	struct ui_input *input;
	const char *supervisor; /* who takes over: --name, or $USER */
	const char *policy_version;
	const struct console_opts *opts;
	struct theme theme;

	enum console_screen screen, back; /* back: where help returns to */
	int64_t selected;                 /* the selected conversation's id, 0 for none */
	int chat_scroll;                  /* lines scrolled up from the bottom of the chat pane */
	int typing;                       /* keys go to the reply line (takeover) */
	int show_packet;                  /* the packet overlay is up (shown first on takeover) */
	int packet_scroll;
	int asking_outcome;     /* r was pressed: waiting for the outcome key */
	char *held;             /* a reply held back by the guardrails: Enter again sends it */
	cJSON *held_validation; /* its violations, shown in the guardrails panel */
	char status[256];       /* the status line's message */
	int status_error;

	/* Handoffs screen */
	cJSON *handoffs; /* store_handoff_list, read when the screen opens */
	int handoff_sel;
	cJSON *packet; /* the packet read, or NULL for the list */
	int reader_scroll;

	/* Review screen */
	const struct agents *ag; /* the reasons a handoff can give come from its policy */
	cJSON *reviews;          /* store_reviews, read when the list shows */
	int review_sel;
	struct review_packet *reviewing; /* the packet under review, or NULL for the list */
	int review_scroll;
	int rv_category;        /* index in category_names; -1: the AI's */
	int rv_reason;          /* index in rv_reasons; rv_reasons.n: no escalation; -1: the AI's */
	struct strv rv_reasons; /* every reason under the policy */
	struct strv rv_missing;
	char *rv_note;

	/* The reply line borrowed for a prompt; the reply draft waits in saved_draft. */
	enum console_prompt prompt;
	char *saved_draft;

	/* Metrics screen */
	cJSON *metrics; /* metrics_report, refreshed on a key and every few seconds */
	char metrics_error[256];
	char metrics_at[64];
	uint64_t metrics_timer;
	int metrics_scroll;

	/* Replay screen: a child `frontline replay`, read through its stderr */
	char *replay_file;
	enum replay_state replay_state;
	pid_t replay_pid;
	int replay_fd;        /* its stderr: progress lines */
	struct buf replay_in; /* a progress line not yet complete */
	long replay_done, replay_total, replay_bad;
	char *replay_dir; /* temporary: the per-ticket results and the report */
	cJSON *replay_report;
	char replay_error[256];
	uint64_t replay_timer;
	int replay_scroll;

	int dirty;
	uint64_t redraw_timer;
	int stop;
	/* Measured, for the status bar and the benchmarks. */
	uint64_t frames;
	double started_ms, first_frame_ms, last_frame_ms, total_frame_ms, max_frame_ms;
};

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
};

/*
 * Runs the console until the supervisor quits or a signal ends it: the
 * desk on the agents and store (borrowed), the customer listener, the
 * demo, the terminal. The terminal is restored on every way out. Returns
 * a sysexits code; problems are printed to stderr after the terminal is
 * restored.
 */
int console_run(struct loop *, const struct agents *, struct store *, const struct console_opts *);

/* The selected conversation, or NULL. */
struct desk_conv *console_selected(struct console *);

/* Screens (ui-*.c): draw the whole screen into stdscr; no refresh. */
void ui_supervise_draw(struct console *);
void ui_handoffs_draw(struct console *);
void ui_help_draw(struct console *);
void ui_review_draw(struct console *);
void ui_metrics_draw(struct console *);
void ui_replay_draw(struct console *);

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

#endif
