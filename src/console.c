/* console.c -- the console: the loop, the terminal, the reply line, customers, switching screens. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "console.h"
#include "demo-sim.h"
#include "desk.h"
#include "listener.h"
#include "policy.h"
#include "types.h"
#include "ui-input.h"
#include "ui-theme.h"
#include "util.h"

/* Redraws are coalesced: at most one per this many milliseconds. */
#define FRAME_MS 15
/* The clock on the screen (time waiting) ticks this often. */
#define TICK_MS 1000

/* The first ends the console, a second abandons the turns still in flight. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* The home screen: where q and Esc go back to, and where q quits. */
#define HOME (console_screens[0])

/* ---------------------------------------------------------------- redraw */

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The state of a screen (one of console_screens). */
static void *
state_of(const struct console *con, const struct console_screen *s)
{
	for (size_t i = 0; console_screens[i] != NULL; i++)
		if (console_screens[i] == s)
			return con->state[i];
	return NULL;
}

static void
draw(struct console *con)
{
	/* A refresh after endwin would take the terminal back from the shell. */
	if (con->closed)
		return;
	double t0 = now_ms();
	erase();
	con->screen->draw(con, state_of(con, con->screen));
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

void
console_dirty(struct console *con)
{
	con->dirty = 1;
	if (con->redraw_timer == 0)
		con->redraw_timer = loop_timer_add(con->loop, FRAME_MS, redraw_fire, con);
}

void
console_status(struct console *con, int error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(con->status, sizeof con->status, fmt, ap);
	va_end(ap);
	con->status_error = error;
	console_dirty(con);
}

static void
tick(struct loop *l, void *arg)
{
	struct console *con = arg;
	console_dirty(con);
	loop_timer_add(l, TICK_MS, tick, con);
}

/* --------------------------------------------------------------- screens */

void
console_show(struct console *con, const struct console_screen *s)
{
	if (s->overlay) {
		if (!con->screen->overlay)
			con->under = con->screen;
	} else if (s->show != NULL && s->show(con, state_of(con, s)) != 0)
		return;
	con->screen = s;
	console_dirty(con);
}

void
console_back(struct console *con)
{
	if (con->screen->overlay)
		con->screen = con->under;
	console_dirty(con);
}

int
console_showing(const struct console *con, const struct console_screen *s)
{
	return con->screen == s || (con->screen->overlay && con->under == s);
}

/* Every screen's state, made before anything can call a screen. */
static void
screens_open(struct console *con)
{
	size_t n = 0;
	while (console_screens[n] != NULL)
		n++;
	con->state = xcalloc(n, sizeof *con->state);
	for (size_t i = 0; i < n; i++)
		if (console_screens[i]->open != NULL)
			con->state[i] = console_screens[i]->open(con);
	con->screen = con->under = HOME;
}

static void
screens_close(struct console *con)
{
	for (size_t i = 0; con->state != NULL && console_screens[i] != NULL; i++)
		if (console_screens[i]->close != NULL)
			console_screens[i]->close(con, con->state[i]);
	free(con->state);
	con->state = NULL;
}

/* ------------------------------------------------------------ reply line */

void
console_typing(struct console *con, int on)
{
	con->typing = on;
	/* readline reads the raw bytes of a key; the commands want ncurses' key codes. */
	keypad(stdscr, on ? FALSE : TRUE);
	curs_set(on ? 1 : 0);
	console_dirty(con);
}

void
console_prompt(struct console *con, const char *label, const char *initial, console_line_fn done,
               void *arg)
{
	free(con->saved_draft);
	con->saved_draft = xstrdup(ui_input_line(con->input));
	ui_input_clear(con->input);
	if (initial != NULL)
		ui_input_set_line(con->input, initial);
	con->prompt = label;
	con->prompt_done = done;
	con->prompt_arg = arg;
	console_typing(con, 1);
}

/* Gives the reply line back, with the reply draft as it was. */
static void
prompt_end(struct console *con)
{
	con->prompt = NULL;
	con->prompt_done = NULL;
	con->prompt_arg = NULL;
	ui_input_clear(con->input);
	if (con->saved_draft != NULL && *con->saved_draft != '\0')
		ui_input_set_line(con->input, con->saved_draft);
	free(con->saved_draft);
	con->saved_draft = NULL;
	console_typing(con, 0);
}

/* The reply line gave a line: to the prompt that borrowed it, else to the screen. */
static void
on_line(void *arg, const char *line)
{
	struct console *con = arg;
	if (con->prompt != NULL) {
		console_line_fn done = con->prompt_done;
		void *done_arg = con->prompt_arg;
		char *text = xstrdup(line);
		str_trim(text);
		prompt_end(con);
		done(con, done_arg, text);
		free(text);
		console_dirty(con);
		return;
	}
	if (con->screen->line != NULL)
		con->screen->line(con, state_of(con, con->screen), line);
}

/* Escape on the reply line. */
static void
line_cancel(struct console *con)
{
	if (con->prompt != NULL) {
		prompt_end(con);
		console_status(con, 0, "cancelled");
	} else if (con->screen->line != NULL)
		con->screen->line(con, state_of(con, con->screen), NULL);
	else
		console_typing(con, 0);
}

/* ------------------------------------------------------------------ keys */

/* A key in command mode: the screen's, else the keys every screen shares. */
static void
key(struct console *con, int k)
{
	if (k == KEY_RESIZE)
		return; /* SIGWINCH is ours: see on_winch */
	const struct console_screen *s = con->screen;
	if (s->key != NULL && s->key(con, state_of(con, s), k)) {
		console_dirty(con);
		return;
	}
	for (size_t i = 0; console_screens[i] != NULL; i++) {
		const struct console_screen *to = console_screens[i];
		if ((to->letter != 0 && k == to->letter) ||
		    (to->fkey != 0 && k == KEY_F(to->fkey))) {
			console_show(con, to);
			return;
		}
	}
	switch (k) {
	case 'q':
	case 27:
		if (s != HOME)
			console_show(con, HOME);
		else if (k == 'q')
			con->stop = 1;
		break;
	case KEY_F(10):
		con->stop = 1;
		break;
	}
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

/* The floor's stream failed (problem), or is back (NULL). */
static void
on_floor(void *arg, const char *problem)
{
	struct console *con = arg;
	if (problem != NULL)
		console_status(con, 1, "changes made elsewhere are late: %s", problem);
	else if (con->status_error)
		console_status(con, 0, "the floor's stream is back");
}

static void
on_changed(void *arg, struct desk_conv *c)
{
	struct console *con = arg;
	for (size_t i = 0; con->state != NULL && console_screens[i] != NULL; i++)
		if (console_screens[i]->changed != NULL)
			console_screens[i]->changed(con, con->state[i], c);
	console_dirty(con);
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
		console_status(con, 1, "store: %s", cause);
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
		console_status(con, 1, "store: %s", cause);
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
		console_status(con, 1, "store: %s", cause);
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
		console_status(con, 1, "store: %s", cause);
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
		console_dirty(con);
	goto done;
cancel:
	line_cancel(con);
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
	console_dirty(con);
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
		console_status(con, 0, "policy reloaded: version %s", p->version);
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
	const struct desk_hooks dh = {on_deliver, on_handler, on_changed, &con, on_floor};

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "frontline: the console needs a terminal\n");
		return EX_USAGE;
	}
	/* Before the desk: opening it may finish turns, and the screens hear of them. */
	screens_open(&con);
	if ((con.desk = desk_open(ag, st, &dh, &cause)) == NULL) {
		fprintf(stderr, "frontline: the store: %s\n", cause);
		free(cause);
		screens_close(&con);
		return EX_IOERR;
	}
	desk_set_rollout(con.desk, o->rollout);
	/* Changes by other processes on the store (workers, serve, other consoles), live. */
	if ((o->floor_url != NULL
	         ? desk_attach_floor(con.desk, l, o->floor_url, o->floor_token, &cause)
	         : desk_attach(con.desk, l, 0, &cause)) != 0) {
		console_status(&con, 1, "changes made elsewhere are not shown: %s", cause);
		free(cause);
		cause = NULL;
	}
	if (o->socket_path != NULL || o->tcp_port != 0) {
		const struct listener_hooks lh = {on_hello, on_say, on_gone, &con, on_rate};
		con.listener = listener_open(l, o->socket_path, o->tcp_port, &lh, &cause);
		if (con.listener == NULL) {
			fprintf(stderr, "frontline: customers cannot join: %s\n", cause);
			free(cause);
			screens_close(&con);
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
		console_status(&con, 1, "reply history not used: %s", cause);
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
	console_show(&con, HOME);
	if (con.listener && listener_path(con.listener))
		console_status(&con, 0, "customers join with: frontline customer --socket %s",
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
	con.closed = 1;
	/* Keys are the shell's again (Ctrl-C a signal): nothing reads them here. */
	loop_watch(l, STDIN_FILENO, 0, NULL, NULL);
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
	screens_close(&con);
	free(con.saved_draft);
	desk_close(con.desk);
	return ex;
}
