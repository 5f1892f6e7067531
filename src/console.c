/* console.c -- the console's controller: terminal, keys, signals, customers, one loop. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "demo-sim.h"
#include "listener.h"
#include "metrics.h"
#include "review.h"
#include "store.h"
#include "types.h"
#include "ui-input.h"
#include "ui-theme.h"

/* Redraws are coalesced: at most one per this many milliseconds. */
#define FRAME_MS 15
/* The clock on the screen (time waiting) ticks this often. */
#define TICK_MS 1000

/* The first ends the console, a second abandons the turns still in flight. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* ---------------------------------------------------------------- redraw */

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
draw(struct console *con)
{
	double t0 = now_ms();
	erase();
	switch (con->screen) {
	case SCREEN_SUPERVISE:
		ui_supervise_draw(con);
		break;
	case SCREEN_HANDOFFS:
		ui_handoffs_draw(con);
		break;
	case SCREEN_REVIEW:
		ui_review_draw(con);
		break;
	case SCREEN_METRICS:
		ui_metrics_draw(con);
		break;
	case SCREEN_REPLAY:
		ui_replay_draw(con);
		break;
	case SCREEN_HELP:
		ui_help_draw(con);
		break;
	}
	wnoutrefresh(stdscr);
	doupdate();
	con->dirty = 0;
	con->frames++;
	con->last_frame_ms = now_ms() - t0;
	con->total_frame_ms += con->last_frame_ms;
	if (con->last_frame_ms > con->max_frame_ms)
		con->max_frame_ms = con->last_frame_ms;
	if (con->frames == 1)
		con->first_frame_ms = now_ms() - con->started_ms;
}

static void
redraw_fire(struct loop *l, void *arg)
{
	struct console *con = arg;
	con->redraw_timer = 0;
	if (con->dirty)
		draw(con);
}

/* Marks the screen dirty; the redraw comes once, after this pass of the loop. */
static void
dirty(struct console *con)
{
	con->dirty = 1;
	if (con->redraw_timer == 0)
		con->redraw_timer = loop_timer_add(con->loop, FRAME_MS, redraw_fire, con);
}

static void status(struct console *con, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
status(struct console *con, int error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(con->status, sizeof con->status, fmt, ap);
	va_end(ap);
	con->status_error = error;
	dirty(con);
}

static void
tick(struct loop *l, void *arg)
{
	struct console *con = arg;
	dirty(con);
	loop_timer_add(l, TICK_MS, tick, con);
}

/* ------------------------------------------------------------ selection */

struct desk_conv *
console_selected(struct console *con)
{
	return con->selected ? desk_find(con->desk, con->selected) : NULL;
}

/* Moves the selection by delta rows of the queue (clamped). */
static void
select_move(struct console *con, long delta)
{
	size_t n;
	struct desk_conv **v = desk_list(con->desk, &n);
	if (n == 0)
		return;
	long at = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i]->id == con->selected)
			at = (long)i;
	at += delta;
	if (at < 0)
		at = 0;
	if (at >= (long)n)
		at = (long)n - 1;
	if (v[at]->id != con->selected) {
		con->selected = v[at]->id;
		con->chat_scroll = 0;
		con->show_packet = 0;
		con->asking_outcome = 0;
	}
	dirty(con);
}

static void
clear_held(struct console *con)
{
	free(con->held);
	con->held = NULL;
	cJSON_Delete(con->held_validation);
	con->held_validation = NULL;
}

/* Keys go to the reply line, or back to the commands. */
static void
set_typing(struct console *con, int on)
{
	con->typing = on;
	/* readline reads the raw bytes of a key; the commands want ncurses' key codes. */
	keypad(stdscr, on ? FALSE : TRUE);
	curs_set(on ? 1 : 0);
	dirty(con);
}

/* ------------------------------------------------------------ desk hooks */

static void
on_deliver(void *arg, struct desk_conv *c, const char *role, const char *text)
{
	struct console *con = arg;
	if (c->client != NULL) {
		int human = strcmp(role, "human") == 0;
		cJSON *m = cp_new_message(human ? CP_ROLE_HUMAN : CP_ROLE_AI,
		                          human ? c->owner : NULL, text, NULL);
		client_send(c->client, m);
		cJSON_Delete(m);
	}
	if (c->demo != NULL && con->demo != NULL)
		demo_sim_answered(con->demo, c->demo);
}

_Static_assert((int)HANDLER_AI == (int)CP_STATE_AI &&
                   (int)HANDLER_WAITING == (int)CP_STATE_WAITING &&
                   (int)HANDLER_HUMAN == (int)CP_STATE_HUMAN &&
                   (int)HANDLER_RESOLVED == (int)CP_STATE_RESOLVED,
               "the protocol's states are the desk's handlers");

static void
send_state(struct desk_conv *c)
{
	/* The protocol's states are the desk's handlers, by name and order. */
	cJSON *m = cp_new_state((enum cp_state)c->handler);
	client_send(c->client, m);
	cJSON_Delete(m);
}

static void
on_handler(void *arg, struct desk_conv *c)
{
	(void)arg;
	/* Simulated customers hear messages only: a takeover is not a human's answer yet. */
	if (c->client != NULL)
		send_state(c);
}

static void
on_changed(void *arg, struct desk_conv *c)
{
	struct console *con = arg;
	if (con->selected == 0)
		con->selected = c->id;
	dirty(con);
}

/* -------------------------------------------------------- listener hooks */

static int
on_hello(void *arg, struct client *cl, const struct customer_hello *h, char **cause)
{
	struct console *con = arg;
	struct desk_conv *c =
	    desk_join(con->desk, h->customer_id, h->name, h->tier, h->tier_given, cause);
	if (c == NULL)
		return -1;
	c->client = cl;
	client_set_data(cl, c);
	cJSON *m = cp_new_welcome(c->id, c->customer_id);
	client_send(cl, m);
	cJSON_Delete(m);
	send_state(c);
	return 0;
}

static void
on_say(void *arg, struct client *cl, const char *text)
{
	struct console *con = arg;
	struct desk_conv *c = client_data(cl);
	char *cause = NULL;
	if (c == NULL)
		return;
	if (desk_say(con->desk, &c, text, &cause) != 0) {
		cJSON *m = cp_new_error("your message could not be stored; please retry");
		client_send(cl, m);
		cJSON_Delete(m);
		status(con, 1, "store: %s", cause);
		free(cause);
		return;
	}
	client_set_data(cl, c); /* a resolved conversation is followed by a new one */
}

static void
on_rate(void *arg, struct client *cl, int score, const char *comment)
{
	struct console *con = arg;
	struct desk_conv *c = client_data(cl);
	char *cause = NULL;
	if (c != NULL && desk_rate(con->desk, c, score, comment, &cause) != 0) {
		status(con, 1, "store: %s", cause);
		free(cause);
	}
}

static void
on_gone(void *arg, struct client *cl)
{
	struct console *con = arg;
	struct desk_conv *c = client_data(cl);
	if (c != NULL && c->client == cl)
		desk_leave(con->desk, c);
}

/* ------------------------------------------------------------ demo hooks */

/* The live conversation of a simulated customer (its handle is its first one). */
static struct desk_conv *
demo_conv(struct console *con, void *who)
{
	size_t n;
	struct desk_conv **v = desk_list(con->desk, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i]->demo == who)
			return v[i];
	return NULL;
}

static void *
demo_join(void *arg, const char *customer_id, const char *name, enum tier tier)
{
	struct console *con = arg;
	char *cause = NULL;
	struct desk_conv *c = desk_join(con->desk, customer_id, name, tier, 1, &cause);
	if (c == NULL || c->demo != NULL || c->handler != HANDLER_AI) {
		/* Still connected, or a human still has their last conversation: not this round. */
		free(cause);
		return NULL;
	}
	c->demo = c;
	return c;
}

static void
demo_say(void *arg, void *who, const char *text)
{
	struct console *con = arg;
	struct desk_conv *c = demo_conv(con, who);
	char *cause = NULL;
	if (c != NULL && desk_say(con->desk, &c, text, &cause) != 0) {
		status(con, 1, "store: %s", cause);
		free(cause);
	}
}

static void
demo_rate(void *arg, void *who, int score, const char *comment)
{
	struct console *con = arg;
	struct desk_conv *c = demo_conv(con, who);
	char *cause = NULL;
	if (c != NULL && desk_rate(con->desk, c, score, comment, &cause) != 0) {
		status(con, 1, "store: %s", cause);
		free(cause);
	}
}

static void
demo_leave(void *arg, void *who)
{
	struct console *con = arg;
	struct desk_conv *c = demo_conv(con, who);
	if (c != NULL)
		desk_leave(con->desk, c);
}

/* ------------------------------------------------------------- commands */

static void
take_over(struct console *con)
{
	struct desk_conv *c = console_selected(con);
	char *cause = NULL;
	if (c == NULL)
		return;
	if (c->handler == HANDLER_HUMAN) {
		if (c->owner && strcmp(c->owner, con->supervisor) == 0) {
			set_typing(con, 1);
			return;
		}
		status(con, 1, "%s has this conversation", c->owner ? c->owner : "another human");
		return;
	}
	if (desk_takeover(con->desk, c, con->supervisor, &cause) != 0) {
		status(con, 1, "cannot take over: %s", cause);
		free(cause);
		return;
	}
	clear_held(con);
	/* The packet first: the human reads it before writing. */
	con->show_packet = 1;
	con->packet_scroll = 0;
	status(con, 0, "you have conversation %lld: read the packet, then any key to reply",
	       (long long)c->id);
	set_typing(con, 0);
}

static void
hand_back(struct console *con)
{
	struct desk_conv *c = console_selected(con);
	char *cause = NULL;
	if (c == NULL)
		return;
	if (desk_handback(con->desk, c, &cause) != 0) {
		status(con, 1, "cannot hand back: %s", cause);
		free(cause);
		return;
	}
	clear_held(con);
	set_typing(con, 0);
	status(con, 0, "conversation %lld is the AI's again", (long long)c->id);
}

static void
resolve(struct console *con, const char *outcome)
{
	struct desk_conv *c = console_selected(con);
	char *cause = NULL;
	con->asking_outcome = 0;
	if (c == NULL)
		return;
	if (desk_resolve(con->desk, c, outcome, NULL, &cause) != 0) {
		status(con, 1, "cannot close: %s", cause);
		free(cause);
		return;
	}
	clear_held(con);
	set_typing(con, 0);
	status(con, 0, "conversation %lld %s", (long long)c->id, outcome);
}

static void prompt_line(struct console *con, const char *line);

/* The reply line gave a line: send it through the guardrails. */
static void
on_line(void *arg, const char *line)
{
	struct console *con = arg;
	if (con->prompt != PROMPT_NONE) {
		prompt_line(con, line);
		return;
	}
	struct desk_conv *c = console_selected(con);
	char *cause = NULL;
	cJSON *v = NULL;
	if (c == NULL || *line == '\0')
		return;
	/* The same text again after a warning: the human overrides it. */
	int override = con->held != NULL && strcmp(con->held, line) == 0;
	int rc = desk_human_say(con->desk, c, line, override, &v, &cause);
	if (rc < 0) {
		status(con, 1, "not sent: %s", cause);
		free(cause);
		return;
	}
	clear_held(con);
	if (rc == 1) {
		con->held = xstrdup(line);
		con->held_validation = v;
		ui_input_set_line(con->input, line);
		int n = cJSON_GetArraySize(cJSON_GetObjectItem(v, "violations"));
		status(con, 1,
		       "held back: %d guardrail warning%s -- edit the reply, or Enter to send it "
		       "anyway",
		       n, n == 1 ? "" : "s");
		return;
	}
	cJSON_Delete(v);
	con->chat_scroll = 0;
	status(con, 0, override ? "sent despite the warnings (recorded)" : "sent");
}

static void
open_handoffs(struct console *con)
{
	char *cause = NULL;
	cJSON_Delete(con->handoffs);
	con->handoffs = NULL;
	if (store_handoff_list(con->st, &con->handoffs, &cause) != 0) {
		status(con, 1, "handoffs: %s", cause);
		free(cause);
		return;
	}
	cJSON_Delete(con->packet);
	con->packet = NULL;
	con->handoff_sel = 0;
	con->screen = SCREEN_HANDOFFS;
	dirty(con);
}

static void
open_packet(struct console *con)
{
	const cJSON *row = cJSON_GetArrayItem(con->handoffs, con->handoff_sel);
	char *cause = NULL;
	if (row == NULL)
		return;
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id"));
	cJSON_Delete(con->packet);
	con->packet = NULL;
	if (store_handoff_get(con->st, id, &con->packet, &cause) != 0) {
		status(con, 1, "handoff %lld: %s", (long long)id, cause);
		free(cause);
		return;
	}
	con->reader_scroll = 0;
	dirty(con);
}

/* ---------------------------------------------------------------- prompts */

/* Borrows the reply line for a prompt; the reply draft is kept for later. */
static void
prompt_start(struct console *con, enum console_prompt kind, const char *initial)
{
	free(con->saved_draft);
	con->saved_draft = xstrdup(ui_input_line(con->input));
	ui_input_clear(con->input);
	if (initial != NULL)
		ui_input_set_line(con->input, initial);
	con->prompt = kind;
	set_typing(con, 1);
}

/* Gives the reply line back, with the reply draft as it was. */
static void
prompt_end(struct console *con)
{
	con->prompt = PROMPT_NONE;
	ui_input_clear(con->input);
	if (con->saved_draft != NULL && *con->saved_draft != '\0')
		ui_input_set_line(con->input, con->saved_draft);
	free(con->saved_draft);
	con->saved_draft = NULL;
	set_typing(con, 0);
}

static void replay_start(struct console *con, const char *file);

static void
prompt_line(struct console *con, const char *line)
{
	enum console_prompt kind = con->prompt;
	char *text = xstrdup(line);
	str_trim(text);
	prompt_end(con);
	switch (kind) {
	case PROMPT_MISSING:
		if (*text != '\0' && con->reviewing != NULL) {
			strv_add(&con->rv_missing, text);
			status(con, 0, "missing information noted (%zu); s saves the review",
			       con->rv_missing.n);
		}
		break;
	case PROMPT_NOTE:
		if (con->reviewing != NULL) {
			free(con->rv_note);
			con->rv_note = *text ? xstrdup(text) : NULL;
			status(con, 0, *text ? "note set; s saves the review" : "note cleared");
		}
		break;
	case PROMPT_REPLAY_FILE:
		if (*text != '\0')
			replay_start(con, text);
		break;
	case PROMPT_NONE:
		break;
	}
	free(text);
	dirty(con);
}

/* ----------------------------------------------------------------- review */

static void
review_reload(struct console *con)
{
	char *cause = NULL;
	cJSON *list = NULL, *reviews = NULL;
	if (store_handoff_list(con->st, &list, &cause) != 0 ||
	    store_reviews(con->st, &reviews, &cause) != 0) {
		status(con, 1, "review: %s", cause);
		free(cause);
		cJSON_Delete(list);
		return;
	}
	cJSON_Delete(con->handoffs);
	con->handoffs = list;
	cJSON_Delete(con->reviews);
	con->reviews = reviews;
	int n = cJSON_GetArraySize(list);
	if (con->review_sel >= n)
		con->review_sel = n > 0 ? n - 1 : 0;
}

static void
review_close(struct console *con)
{
	if (con->reviewing != NULL) {
		review_packet_free(con->reviewing);
		free(con->reviewing);
		con->reviewing = NULL;
	}
	strv_free(&con->rv_missing);
	strv_free(&con->rv_reasons);
	free(con->rv_note);
	con->rv_note = NULL;
}

static void
open_review(struct console *con)
{
	review_close(con);
	cJSON_Delete(con->packet);
	con->packet = NULL;
	review_reload(con);
	con->screen = SCREEN_REVIEW;
	dirty(con);
}

static void
review_open_packet(struct console *con)
{
	const cJSON *row = cJSON_GetArrayItem(con->handoffs, con->review_sel);
	char *cause = NULL;
	if (row == NULL)
		return;
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "id"));
	review_close(con);
	struct review_packet *rp = xcalloc(1, sizeof *rp);
	int rc = review_packet_load(con->st, id, rp, &cause);
	if (rc != 0) {
		status(con, 1, "handoff %lld: %s", (long long)id, rc < 0 ? cause : "gone");
		free(cause);
		free(rp);
		return;
	}
	con->reviewing = rp;
	con->review_scroll = 0;
	con->rv_category = con->rv_reason = -1;
	review_reasons(con->ag ? con->ag->policy : NULL, &con->rv_reasons);
	status(con, 0, "c/e change the category and reason, m adds missing information, s saves");
	dirty(con);
}

/* Steps the draft's category or reason by dir, starting from the AI's. */
static void
review_cycle(struct console *con, int reason, int dir)
{
	const struct review_packet *rp = con->reviewing;
	if (!reason) {
		int cur = con->rv_category >= 0 ? con->rv_category
		          : rp->ai_category     ? names_find(category_names, rp->ai_category)
		                                : -1;
		if (cur < 0)
			cur = dir > 0 ? -1 : 0;
		con->rv_category = (cur + dir + CAT__N) % CAT__N;
	} else {
		/* The reasons, then "should not have escalated". */
		int n = (int)con->rv_reasons.n + 1, cur = con->rv_reason;
		if (cur < 0) {
			cur = dir > 0 ? -1 : 0;
			for (size_t i = 0; rp->ai_reason && i < con->rv_reasons.n; i++)
				if (strcmp(con->rv_reasons.v[i], rp->ai_reason) == 0)
					cur = (int)i;
		}
		con->rv_reason = (cur + dir + n) % n;
	}
	dirty(con);
}

static void
review_save(struct console *con)
{
	const struct review_packet *rp = con->reviewing;
	struct review_edit e = {0};
	char *cause = NULL;
	int64_t id;
	e.category = con->rv_category >= 0 ? category_names[con->rv_category] : NULL;
	if (con->rv_reason >= 0 && (size_t)con->rv_reason < con->rv_reasons.n)
		e.reason = con->rv_reasons.v[con->rv_reason];
	e.no_escalation = con->rv_reason >= 0 && (size_t)con->rv_reason == con->rv_reasons.n;
	e.missing = con->rv_missing; /* borrowed */
	e.note = con->rv_note;
	cJSON *corr = review_correction(rp, &e);
	if (store_review_add(con->st, rp->id, con->supervisor, corr, &id, &cause) != 0) {
		status(con, 1, "review not saved: %s", cause);
		free(cause);
		cJSON_Delete(corr);
		return;
	}
	const cJSON *w = cJSON_GetObjectItem(corr, "wrong");
	status(con, 0, "review of handoff %lld saved: %s", (long long)rp->id,
	       cJSON_GetArraySize(w) == 0 ? "the AI got it right" : "corrections recorded");
	cJSON_Delete(corr);
	review_close(con);
	review_reload(con);
	dirty(con);
}

static void open_metrics(struct console *con);
static void open_replay(struct console *con);

/* Keys every tool screen shares; returns 1 when k was one of them. */
static int
key_screens(struct console *con, int k)
{
	switch (k) {
	case '?':
	case KEY_F(1):
		con->back = con->screen;
		con->screen = SCREEN_HELP;
		break;
	case KEY_F(2):
		open_handoffs(con);
		break;
	case KEY_F(3):
		open_review(con);
		break;
	case KEY_F(4):
		open_metrics(con);
		break;
	case KEY_F(5):
		open_replay(con);
		break;
	case KEY_F(10):
		con->stop = 1;
		break;
	default:
		return 0;
	}
	dirty(con);
	return 1;
}

/*
 * Moves a scroll offset by a line (j/k, arrows) or half a screen (space,
 * PgUp/PgDn); returns 0 when k is not a scroll key.
 */
static int
scroll_key(int *scroll, int k)
{
	switch (k) {
	case KEY_DOWN:
	case 'j':
		(*scroll)++;
		break;
	case KEY_UP:
	case 'k':
		if (*scroll > 0)
			(*scroll)--;
		break;
	case KEY_NPAGE:
	case ' ':
		*scroll += LINES / 2;
		break;
	case KEY_PPAGE:
		*scroll = *scroll > LINES / 2 ? *scroll - LINES / 2 : 0;
		break;
	default:
		return 0;
	}
	return 1;
}

static void
key_review(struct console *con, int k)
{
	if (con->reviewing != NULL) {
		switch (k) {
		case 'c':
			review_cycle(con, 0, 1);
			break;
		case 'C':
			review_cycle(con, 0, -1);
			break;
		case 'e':
			review_cycle(con, 1, 1);
			break;
		case 'E':
			review_cycle(con, 1, -1);
			break;
		case 'm':
			prompt_start(con, PROMPT_MISSING, NULL);
			break;
		case 'd':
			if (con->rv_missing.n > 0) {
				free(con->rv_missing.v[--con->rv_missing.n]);
				con->rv_missing.v[con->rv_missing.n] = NULL;
			}
			break;
		case 'n':
			prompt_start(con, PROMPT_NOTE, con->rv_note);
			break;
		case 's':
			review_save(con);
			break;
		case 'q':
		case 27:
		case KEY_BACKSPACE:
			review_close(con);
			status(con, 0, "review not saved");
			break;
		default:
			if (!scroll_key(&con->review_scroll, k))
				key_screens(con, k);
		}
		dirty(con);
		return;
	}
	int n = cJSON_GetArraySize(con->handoffs);
	switch (k) {
	case KEY_DOWN:
	case 'j':
		if (con->review_sel + 1 < n)
			con->review_sel++;
		break;
	case KEY_UP:
	case 'k':
		if (con->review_sel > 0)
			con->review_sel--;
		break;
	case KEY_HOME:
	case 'g':
		con->review_sel = 0;
		break;
	case KEY_END:
	case 'G':
		con->review_sel = n > 0 ? n - 1 : 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		review_open_packet(con);
		break;
	case 'q':
	case 27:
		con->screen = SCREEN_SUPERVISE;
		break;
	default:
		key_screens(con, k);
	}
	dirty(con);
}

static void
key_supervise(struct console *con, int k)
{
	struct desk_conv *c = console_selected(con);
	if (con->asking_outcome) {
		con->asking_outcome = 0;
		if (k == 'r' || k == 'R')
			resolve(con, "resolved");
		else if (k == 'a' || k == 'A')
			resolve(con, "abandoned");
		else
			status(con, 0, "not closed");
		return;
	}
	if (con->show_packet) {
		switch (k) {
		case KEY_DOWN:
		case 'j':
			con->packet_scroll++;
			break;
		case KEY_UP:
		case 'k':
			if (con->packet_scroll > 0)
				con->packet_scroll--;
			break;
		case 'q':
		case 27:
		case 'p':
			con->show_packet = 0;
			break;
		default:
			/* Read: now reply, when it is ours. */
			con->show_packet = 0;
			if (c && c->handler == HANDLER_HUMAN && c->owner &&
			    strcmp(c->owner, con->supervisor) == 0)
				set_typing(con, 1);
		}
		dirty(con);
		return;
	}
	switch (k) {
	case KEY_UP:
	case 'k':
		select_move(con, -1);
		break;
	case KEY_DOWN:
	case 'j':
		select_move(con, 1);
		break;
	case KEY_HOME:
	case 'g':
		select_move(con, -1000000);
		break;
	case KEY_END:
	case 'G':
		select_move(con, 1000000);
		break;
	case KEY_PPAGE:
		con->chat_scroll += LINES / 2;
		dirty(con);
		break;
	case KEY_NPAGE:
		con->chat_scroll = con->chat_scroll > LINES / 2 ? con->chat_scroll - LINES / 2 : 0;
		dirty(con);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 't':
		take_over(con);
		break;
	case 'b':
		hand_back(con);
		break;
	case 'r':
		if (c != NULL && c->handler != HANDLER_RESOLVED) {
			con->asking_outcome = 1;
			status(con, 0,
			       "close conversation %lld as: r resolved, a abandoned, any other "
			       "key: cancel",
			       (long long)c->id);
		}
		break;
	case 'p':
		if (c != NULL && c->packet != NULL) {
			con->show_packet = 1;
			con->packet_scroll = 0;
			dirty(con);
		} else
			status(con, 0, "no handoff packet for this conversation");
		break;
	case 'h':
	case KEY_F(2):
		open_handoffs(con);
		break;
	case 'v':
	case KEY_F(3):
		open_review(con);
		break;
	case 'm':
	case KEY_F(4):
		open_metrics(con);
		break;
	case 's':
	case KEY_F(5):
		open_replay(con);
		break;
	case '?':
	case KEY_F(1):
		con->back = con->screen;
		con->screen = SCREEN_HELP;
		dirty(con);
		break;
	case 'q':
	case KEY_F(10):
		con->stop = 1;
		break;
	}
}

static void
key_handoffs(struct console *con, int k)
{
	if (con->packet != NULL) {
		switch (k) {
		case 'q':
		case 27:
		case KEY_BACKSPACE:
			cJSON_Delete(con->packet);
			con->packet = NULL;
			break;
		default:
			scroll_key(&con->reader_scroll, k);
		}
		dirty(con);
		return;
	}
	int n = cJSON_GetArraySize(con->handoffs);
	switch (k) {
	case KEY_DOWN:
	case 'j':
		if (con->handoff_sel + 1 < n)
			con->handoff_sel++;
		break;
	case KEY_UP:
	case 'k':
		if (con->handoff_sel > 0)
			con->handoff_sel--;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		open_packet(con);
		break;
	case '?':
	case KEY_F(1):
		con->back = con->screen;
		con->screen = SCREEN_HELP;
		break;
	case 'q':
	case 27:
	case 'h':
	case KEY_F(2):
		con->screen = SCREEN_SUPERVISE;
		break;
	case KEY_F(3):
		open_review(con);
		break;
	case KEY_F(4):
		open_metrics(con);
		break;
	case KEY_F(5):
		open_replay(con);
		break;
	case KEY_F(10):
		con->stop = 1;
		break;
	}
	dirty(con);
}

/* ---------------------------------------------------------------- metrics */

/* The Metrics screen recomputes this often while it shows. */
#define METRICS_MS 5000

static void
metrics_refresh(struct console *con)
{
	struct metrics_filter f = {.source = "live"};
	struct metrics_config cfg;
	cJSON *report = NULL;
	char *cause = NULL;
	metrics_config_default(&cfg);
	if (con->ag != NULL && con->ag->policy != NULL)
		metrics_config_policy(&cfg, con->ag->policy);
	cfg.today = con->opts->today;
	if (metrics_report(con->st, &f, &cfg, &report, &cause) != 0) {
		snprintf(con->metrics_error, sizeof con->metrics_error, "%s", cause);
		free(cause);
	} else {
		cJSON_Delete(con->metrics);
		con->metrics = report;
		con->metrics_error[0] = '\0';
	}
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(con->metrics_at, sizeof con->metrics_at, "%H:%M:%S", &tm);
	dirty(con);
}

static void
metrics_tick(struct loop *l, void *arg)
{
	struct console *con = arg;
	con->metrics_timer = 0;
	if (con->screen != SCREEN_METRICS &&
	    !(con->screen == SCREEN_HELP && con->back == SCREEN_METRICS))
		return;
	metrics_refresh(con);
	con->metrics_timer = loop_timer_add(l, METRICS_MS, metrics_tick, con);
}

static void
open_metrics(struct console *con)
{
	con->screen = SCREEN_METRICS;
	metrics_refresh(con);
	if (con->metrics_timer == 0)
		con->metrics_timer = loop_timer_add(con->loop, METRICS_MS, metrics_tick, con);
}

static void
key_metrics(struct console *con, int k)
{
	switch (k) {
	case 'r':
		metrics_refresh(con);
		status(con, 0, "metrics recomputed");
		break;
	case 'q':
	case 27:
		con->screen = SCREEN_SUPERVISE;
		break;
	default:
		if (!scroll_key(&con->metrics_scroll, k))
			key_screens(con, k);
	}
	dirty(con);
}

/* ----------------------------------------------------------------- replay */

/* How often a child that closed its stderr is looked for, until it is reaped. */
#define REAP_MS 50

static char *
replay_path(const struct console *con, const char *name)
{
	return xasprintf("%s/%s", con->replay_dir, name);
}

/* Forgets the last run: kills a child still running, removes its files. */
static void
replay_reset(struct console *con)
{
	if (con->replay_fd >= 0) {
		loop_watch(con->loop, con->replay_fd, 0, NULL, NULL);
		close(con->replay_fd);
		con->replay_fd = -1;
	}
	if (con->replay_timer != 0) {
		loop_timer_del(con->loop, con->replay_timer);
		con->replay_timer = 0;
	}
	if (con->replay_pid > 0) {
		kill(-con->replay_pid, SIGKILL);
		waitpid(con->replay_pid, NULL, 0);
		con->replay_pid = -1;
	}
	if (con->replay_dir != NULL) {
		static const char *const files[] = {"results.jsonl", "report.json"};
		for (size_t i = 0; i < nitems(files); i++) {
			char *f = replay_path(con, files[i]);
			unlink(f);
			free(f);
		}
		rmdir(con->replay_dir);
		free(con->replay_dir);
		con->replay_dir = NULL;
	}
	cJSON_Delete(con->replay_report);
	con->replay_report = NULL;
	buf_reset(&con->replay_in);
	con->replay_error[0] = '\0';
	con->replay_done = con->replay_total = con->replay_bad = 0;
	con->replay_scroll = 0;
}

/* The child is gone: its exit status says how the run went. */
static void
replay_finished(struct console *con, int wstatus)
{
	con->replay_pid = -1;
	if (con->replay_state == REPLAY_CANCELLED) {
		status(con, 0, "replay cancelled");
		return;
	}
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	char *path = replay_path(con, "report.json"), *cause = NULL;
	char *text = file_read(path, 64u << 20, NULL, &cause);
	free(path);
	cJSON *report = text ? cJSON_Parse(text) : NULL;
	free(text);
	/* Bad lines make the exit status 65, after a report of the good ones. */
	if (!cJSON_IsObject(report) || (code != 0 && code != 65)) {
		cJSON_Delete(report);
		con->replay_state = REPLAY_FAILED;
		if (con->replay_error[0] == '\0')
			snprintf(con->replay_error, sizeof con->replay_error, "%s",
			         cause ? cause : "the replay stopped without a report");
		free(cause);
		if (code >= 0)
			status(con, 1, "replay failed (exit status %d)", code);
		else
			status(con, 1, "replay failed (signal %d)",
			       WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
		return;
	}
	free(cause);
	con->replay_report = report;
	con->replay_state = REPLAY_DONE;
	status(con, 0, "replay finished: %ld tickets, %ld bad lines", con->replay_done,
	       con->replay_bad);
}

static void
replay_reap(struct loop *l, void *arg)
{
	struct console *con = arg;
	int ws;
	con->replay_timer = 0;
	pid_t r = waitpid(con->replay_pid, &ws, WNOHANG);
	if (r == con->replay_pid || (r < 0 && errno == ECHILD))
		replay_finished(con, r == con->replay_pid ? ws : 0x7f00);
	else
		con->replay_timer = loop_timer_add(l, REAP_MS, replay_reap, con);
	dirty(con);
}

/* One line of the child's stderr: progress, or a message worth showing. */
static void
replay_line(struct console *con, char *line)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *done = cJSON_GetObjectItemCaseSensitive(j, "done");
	if (cJSON_IsNumber(done)) {
		con->replay_done = (long)done->valuedouble;
		con->replay_total =
		    (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "total"));
		con->replay_bad =
		    (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "bad"));
	} else if (*line != '\0') {
		snprintf(con->replay_error, sizeof con->replay_error, "%s", line);
	}
	cJSON_Delete(j);
}

static void
on_replay_err(struct loop *l, int fd, int ready, void *arg)
{
	struct console *con = arg;
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				/* A line past the buffer's maximum is cut; progress lines are
				 * short. */
				buf_addc(&con->replay_in, chunk[i]);
				continue;
			}
			buf_addc(&con->replay_in, '\0');
			replay_line(con, con->replay_in.data);
			buf_reset(&con->replay_in);
		}
		dirty(con);
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The end of its stderr: the child has exited, or is about to. */
	loop_watch(l, fd, 0, NULL, NULL);
	close(fd);
	con->replay_fd = -1;
	replay_reap(l, con);
}

static void
replay_start(struct console *con, const char *file)
{
	if (con->replay_state == REPLAY_RUNNING) {
		status(con, 1, "a replay is running: c cancels it");
		return;
	}
	replay_reset(con);
	/* file may be con->replay_file itself (r, Enter): copied before the old one goes. */
	char *path = xstrdup(file);
	free(con->replay_file);
	con->replay_file = path;
	file = path;
	if (access(file, R_OK) != 0) {
		con->replay_state = REPLAY_FAILED;
		snprintf(con->replay_error, sizeof con->replay_error, "%s: %s", file,
		         strerror(errno));
		status(con, 1, "cannot read %s", file);
		return;
	}
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/frontline-replay-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int errp[2] = {-1, -1};
	if (mkdtemp(dir) == NULL || pipe2(errp, O_CLOEXEC) != 0) {
		con->replay_state = REPLAY_FAILED;
		snprintf(con->replay_error, sizeof con->replay_error, "%s", strerror(errno));
		status(con, 1, "replay not started: %s", strerror(errno));
		if (errp[0] < 0)
			rmdir(dir);
		free(dir);
		return;
	}
	con->replay_dir = dir;
	char *out = replay_path(con, "results.jsonl"), *report = replay_path(con, "report.json");
	struct strv argv = {0};
	strv_add(&argv, "frontline");
	for (char *const *a = con->opts->replay_args; a && *a; a++)
		strv_add(&argv, *a);
	static const char *const tail[] = {"replay", "--progress=json", "--json", "--out"};
	for (size_t i = 0; i < nitems(tail); i++)
		strv_add(&argv, tail[i]);
	strv_add(&argv, out);
	strv_add(&argv, file);
	strv_take(&argv, NULL); /* argv's end */
	argv.n--;

	pid_t pid = fork();
	if (pid == 0) {
		/* The child: its own process group, so that a cancel reaches what it runs. */
		setpgid(0, 0);
		int in = open("/dev/null", O_RDONLY),
		    rep = open(report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (in < 0 || rep < 0 || dup2(in, STDIN_FILENO) < 0 ||
		    dup2(rep, STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0)
			_exit(71);
		static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGWINCH};
		for (size_t i = 0; i < nitems(sigs); i++)
			signal(sigs[i], SIG_DFL);
		execv("/proc/self/exe", argv.v);
		dprintf(STDERR_FILENO, "cannot run /proc/self/exe: %s\n", strerror(errno));
		_exit(127);
	}
	int saved = errno;
	close(errp[1]);
	free(out);
	free(report);
	strv_free(&argv);
	if (pid < 0) {
		close(errp[0]);
		con->replay_state = REPLAY_FAILED;
		snprintf(con->replay_error, sizeof con->replay_error, "fork: %s", strerror(saved));
		status(con, 1, "replay not started: %s", strerror(saved));
		return;
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	fcntl(errp[0], F_SETFL, fcntl(errp[0], F_GETFL) | O_NONBLOCK);
	con->replay_pid = pid;
	con->replay_fd = errp[0];
	con->replay_state = REPLAY_RUNNING;
	loop_watch(con->loop, errp[0], LOOP_READ, on_replay_err, con);
	status(con, 0, "replaying %s", file);
	dirty(con);
}

static void
replay_cancel(struct console *con)
{
	if (con->replay_state != REPLAY_RUNNING || con->replay_pid <= 0)
		return;
	kill(-con->replay_pid, SIGTERM);
	con->replay_state = REPLAY_CANCELLED;
	status(con, 0, "cancelling the replay");
}

static void
open_replay(struct console *con)
{
	if (con->replay_file == NULL && con->opts->datadir != NULL)
		con->replay_file = xasprintf("%s/data/tickets/demo.jsonl", con->opts->datadir);
	con->screen = SCREEN_REPLAY;
	dirty(con);
}

static void
key_replay(struct console *con, int k)
{
	switch (k) {
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'r':
		if (con->replay_file != NULL)
			replay_start(con, con->replay_file);
		break;
	case 'f':
		if (con->replay_state == REPLAY_RUNNING)
			status(con, 1, "a replay is running: c cancels it");
		else
			prompt_start(con, PROMPT_REPLAY_FILE, con->replay_file);
		break;
	case 'c':
		replay_cancel(con);
		break;
	case 'q':
	case 27:
		con->screen = SCREEN_SUPERVISE;
		break;
	default:
		if (!scroll_key(&con->replay_scroll, k))
			key_screens(con, k);
	}
	dirty(con);
}

/* A key in command mode. */
static void
key(struct console *con, int k)
{
	if (k == KEY_RESIZE)
		return; /* SIGWINCH is ours: see on_winch */
	switch (con->screen) {
	case SCREEN_SUPERVISE:
		key_supervise(con, k);
		break;
	case SCREEN_HANDOFFS:
		key_handoffs(con, k);
		break;
	case SCREEN_REVIEW:
		key_review(con, k);
		break;
	case SCREEN_METRICS:
		key_metrics(con, k);
		break;
	case SCREEN_REPLAY:
		key_replay(con, k);
		break;
	case SCREEN_HELP:
		con->screen = con->back;
		dirty(con);
		break;
	}
}

/* ------------------------------------------------------------ terminal */

static void
on_tty(struct loop *l, int fd, int ready, void *arg)
{
	struct console *con = arg;
	int k, typed = 0;
	while (!con->stop && (k = getch()) != ERR) {
		if (!con->typing) {
			key(con, k);
			continue;
		}
		typed = 1;
		if (ui_input_key(con->input, k) == UI_INPUT_CANCEL)
			goto cancel;
	}
	/* An Escape alone at the end of what arrived leaves the reply line. */
	if (typed && con->typing && ui_input_flush(con->input) == UI_INPUT_CANCEL)
		goto cancel;
	if (typed)
		dirty(con);
	goto done;
cancel:
	if (con->prompt != PROMPT_NONE) {
		prompt_end(con);
		status(con, 0, "cancelled");
		goto done;
	}
	set_typing(con, 0);
	status(con, 0, "reply line left, draft kept (Enter: back to it, b: hand back, r: close)");
done:
	/* A key is answered at once; what models and customers change waits for a frame. */
	if (con->dirty && !con->stop) {
		if (con->redraw_timer != 0)
			loop_timer_del(l, con->redraw_timer);
		con->redraw_timer = 0;
		draw(con);
	}
}

/* The terminal's new size: the next frame is drawn for it, whole. */
static void
on_winch(struct loop *l, int signo, void *arg)
{
	struct console *con = arg;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	dirty(con);
}

static void
on_stop(struct loop *l, int signo, void *arg)
{
	struct console *con = arg;
	con->stop = 1;
}

/* The console's signals on the loop, or with con NULL their default actions back. */
static int
signals_take(struct loop *l, struct console *con)
{
	int rc = loop_signal(l, SIGWINCH, con ? on_winch : NULL, con);
	for (size_t i = 0; i < nitems(stop_signals); i++)
		rc |= loop_signal(l, stop_signals[i], con ? on_stop : NULL, con);
	return rc;
}

static void
exit_after(struct loop *l, void *arg)
{
	struct console *con = arg;
	con->stop = 1;
}

/* How often the policy file is looked at. */
#define POLICY_MS 2000

static void
policy_tick(struct loop *l, void *arg)
{
	struct console *con = arg;
	const struct policy *p = con->opts->policy_poll(con->opts->policy_arg);
	if (p != NULL) {
		desk_set_policy(con->desk, p);
		con->policy_version = p->version;
		status(con, 0, "policy reloaded: version %s", p->version);
	}
	loop_timer_add(l, POLICY_MS, policy_tick, con);
}

int
console_run(struct loop *l, const struct agents *ag, struct store *st, const struct console_opts *o)
{
	struct console con = {0};
	char *cause = NULL;
	int ex = EX_OK;
	con.loop = l;
	con.st = st;
	con.started_ms = now_ms();
	con.supervisor = o->supervisor;
	con.policy_version = o->policy_version;
	con.opts = o;
	con.ag = ag;
	con.replay_pid = -1;
	con.replay_fd = -1;
	buf_init(&con.replay_in, 4096);
	const struct desk_hooks dh = {on_deliver, on_handler, on_changed, &con};

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "frontline: the console needs a terminal\n");
		return EX_USAGE;
	}
	if ((con.desk = desk_open(ag, st, &dh, &cause)) == NULL) {
		fprintf(stderr, "frontline: the store: %s\n", cause);
		free(cause);
		return EX_IOERR;
	}
	desk_set_rollout(con.desk, o->rollout);
	/* Changes by other processes on the store (workers, serve, other consoles), live. */
	if (desk_attach(con.desk, l, 0, &cause) != 0) {
		status(&con, 1, "changes made elsewhere are not shown: %s", cause);
		free(cause);
		cause = NULL;
	}
	if (o->socket_path != NULL || o->tcp_port != 0) {
		const struct listener_hooks lh = {on_hello, on_say, on_gone, &con, on_rate};
		con.listener = listener_open(l, o->socket_path, o->tcp_port, &lh, &cause);
		if (con.listener == NULL) {
			fprintf(stderr, "frontline: customers cannot join: %s\n", cause);
			free(cause);
			desk_close(con.desk);
			return EX_UNAVAILABLE;
		}
	}
	if (signals_take(l, &con) != 0) {
		fprintf(stderr, "frontline: signals: %s\n", strerror(errno));
		ex = EX_OSERR;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Before initscr: readline may complain about an inputrc on stderr. */
	if ((con.input = ui_input_open(o->history_path, on_line, &con, &cause)) == NULL) {
		/* A history that cannot be read costs the history, not the console. */
		status(&con, 1, "reply history not used: %s", cause);
		free(cause);
		cause = NULL;
		con.input = ui_input_open(NULL, on_line, &con, &cause);
		if (con.input == NULL) {
			ex = EX_SOFTWARE;
			goto out;
		}
	}
	initscr();
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	int no_color = theme_no_color_env();
	if (has_colors() && !no_color)
		start_color(); /* before theme_init: it reads COLOR_PAIRS */
	theme_init(&con.theme, has_colors(), COLORS, no_color);

	loop_watch(l, STDIN_FILENO, LOOP_READ, on_tty, &con);
	loop_timer_add(l, TICK_MS, tick, &con);
	if (o->exit_after_ms > 0)
		loop_timer_add(l, o->exit_after_ms, exit_after, &con);
	if (o->policy_poll != NULL)
		loop_timer_add(l, POLICY_MS, policy_tick, &con);

	if (o->demo_path != NULL) {
		const struct demo_hooks hh = {demo_join, demo_say, demo_leave, &con, demo_rate};
		con.demo = demo_sim_new(l, o->demo_path, o->demo_speed > 0 ? o->demo_speed : 1, &hh,
		                        &cause);
		if (con.demo == NULL) {
			ex = EX_DATAERR;
			goto restore;
		}
	}
	if (con.selected == 0) {
		size_t n;
		struct desk_conv **v = desk_list(con.desk, &n);
		con.selected = n ? v[0]->id : 0;
	}
	if (con.listener && listener_path(con.listener))
		status(&con, 0, "customers join with: frontline customer --socket %s",
		       listener_path(con.listener));
	draw(&con);
	while (!con.stop)
		loop_once(l, -1);

restore:
	demo_sim_free(con.demo);
	con.demo = NULL;
	char *hcause = NULL;
	if (con.input != NULL && ui_input_close(con.input, &hcause) != 0) {
		endwin();
		fprintf(stderr, "frontline: reply history not saved: %s\n", hcause);
		free(hcause);
	}
	endwin();
	/* For the benchmarks: what drawing cost. */
	const char *stats = getenv("FRONTLINE_CONSOLE_STATS");
	if (stats != NULL && *stats != '\0')
		fprintf(stderr,
		        "console: %zu conversations, first frame %.1f ms after start, %llu frames, "
		        "mean %.3f ms, max %.3f ms\n",
		        desk_count(con.desk, HANDLER_AI) + desk_count(con.desk, HANDLER_WAITING) +
		            desk_count(con.desk, HANDLER_HUMAN) +
		            desk_count(con.desk, HANDLER_RESOLVED),
		        con.first_frame_ms, (unsigned long long)con.frames,
		        con.frames ? con.total_frame_ms / (double)con.frames : 0, con.max_frame_ms);
	if (cause != NULL) {
		fprintf(stderr, "frontline: %s\n", cause);
		free(cause);
		cause = NULL;
	}
	/*
	 * Turns in flight end by themselves (every model call has a deadline);
	 * their answers are stored and delivered before the desk goes. A
	 * second signal abandons them: their customers' messages are stored.
	 */
	if (desk_busy(con.desk) > 0) {
		fprintf(stderr, "frontline: finishing %zu turn%s in flight (Ctrl-C to abandon)\n",
		        desk_busy(con.desk), desk_busy(con.desk) == 1 ? "" : "s");
		con.stop = 0;
		while (desk_busy(con.desk) > 0 && !con.stop)
			loop_once(l, -1);
	}
out:
	if (cause != NULL) {
		fprintf(stderr, "frontline: %s\n", cause);
		free(cause);
	}
	loop_watch(l, STDIN_FILENO, 0, NULL, NULL);
	signals_take(l, NULL);
	if (con.listener)
		listener_close(con.listener);
	clear_held(&con);
	replay_reset(&con);
	review_close(&con);
	cJSON_Delete(con.reviews);
	cJSON_Delete(con.metrics);
	buf_free(&con.replay_in);
	free(con.replay_file);
	free(con.saved_draft);
	cJSON_Delete(con.handoffs);
	cJSON_Delete(con.packet);
	desk_close(con.desk);
	return ex;
}
