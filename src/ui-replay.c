/*
 * ui-replay.c -- the Replay screen: an operator's shadow replay, run as a
 * child `frontline replay` read through its stderr; its progress, then its
 * report.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "console.h"
#include "types.h"
#include "ui-draw.h"
#include "ui-text.h"
#include "ui-theme.h"
#include "util.h"

/* How often a child that closed its stderr is looked for, until it is reaped. */
#define REAP_MS 50

enum run_state { RUN_IDLE, RUN_RUNNING, RUN_DONE, RUN_FAILED, RUN_CANCELLED };

struct shadow {
	struct console *con; /* for the child's callbacks */
	char *file;          /* the tickets */
	enum run_state state;
	pid_t pid;
	int fd;        /* its stderr: progress lines */
	struct buf in; /* a progress line not yet complete */
	long done, total, bad;
	char *dir; /* temporary: the per-ticket results and the report */
	cJSON *report;
	char error[256];
	uint64_t timer;
	int scroll;
};

/* The console's theme, for the draw in progress. */
static const struct theme *th;
#define ATTR(role) theme_attr(th, role)

/* Rows are laid out from the top and scrolled: y is the next row, body what shows. */
struct pen {
	struct rect body;
	int y;
};

static int
visible(const struct pen *p)
{
	return p->y >= p->body.y && p->y < p->body.y + p->body.h;
}

static void linef(struct pen *p, int indent, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
linef(struct pen *p, int indent, attr_t a, const char *fmt, ...)
{
	if (visible(p)) {
		va_list ap;
		va_start(ap, fmt);
		char *s = xvasprintf(fmt, ap);
		va_end(ap);
		/* Ticket files, reason codes and categories come from outside. */
		char *safe = text_sanitize(s, strlen(s));
		ui_put(stdscr, p->y, p->body.x + indent, p->body.w - indent - 1, safe, a);
		free(safe);
		free(s);
	}
	p->y++;
}

static const cJSON *
get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* "0.750" or "-" for what could not be computed. */
static const char *
fmt3(char out[16], double v)
{
	if (isfinite(v))
		snprintf(out, 16, "%.3f", v);
	else
		snprintf(out, 16, "-");
	return out;
}

static void
heading(struct pen *p, const char *title)
{
	p->y++;
	linef(p, 1, A_BOLD, "%s", title);
}

static void
draw_triage(struct pen *p, const cJSON *t)
{
	char a[16], f[16];
	heading(p, "Triage");
	linef(p, 2, A_NORMAL, "accuracy %s   macro-F1 %s   (%d labelled, %d correct)",
	      fmt3(a, num(t, "accuracy")), fmt3(f, num(t, "macro_f1")), (int)num(t, "labelled"),
	      (int)num(t, "correct"));
	const cJSON *c;
	cJSON_ArrayForEach(c, get(t, "per_category"))
	{
		char pr[16], rc[16], f1[16];
		if (visible(p) && p->body.w > 60) {
			ui_put(stdscr, p->y, p->body.x + 4, 12, c->string ? c->string : "?",
			       A_NORMAL);
			ui_bar(stdscr, p->y, p->body.x + 16, 20,
			       isfinite(num(c, "f1")) ? num(c, "f1") : 0, 1,
			       ATTR(THEME_OK) | A_REVERSE, ATTR(THEME_DIM));
			char s[128];
			snprintf(s, sizeof s, "F1 %s  precision %s  recall %s  (%d tickets)",
			         fmt3(f1, num(c, "f1")), fmt3(pr, num(c, "precision")),
			         fmt3(rc, num(c, "recall")), (int)num(c, "support"));
			ui_put(stdscr, p->y, p->body.x + 37, p->body.w - 38, s, A_NORMAL);
			p->y++;
		} else
			linef(p, 4, A_NORMAL, "%-10s F1 %s (%d)", c->string ? c->string : "?",
			      fmt3(f1, num(c, "f1")), (int)num(c, "support"));
	}
}

static void
draw_escalation(struct pen *p, const cJSON *e)
{
	char pr[16], rc[16], ag[16];
	heading(p, "Escalation: agent against the humans");
	linef(p, 4, ATTR(THEME_DIM), "%-22s %16s %16s", "", "human escalated", "human did not");
	linef(p, 4, A_NORMAL, "%-22s %16d %16d", "agent would escalate", (int)num(e, "tp"),
	      (int)num(e, "fp"));
	linef(p, 4, A_NORMAL, "%-22s %16d %16d", "agent would not", (int)num(e, "fn"),
	      (int)num(e, "tn"));
	linef(p, 2, A_NORMAL, "precision %s   recall %s   agreement %s",
	      fmt3(pr, num(e, "precision")), fmt3(rc, num(e, "recall")),
	      fmt3(ag, num(e, "agreement")));
	linef(p, 2, A_NORMAL, "escalation rate: agent %.0f%%, human %.0f%%",
	      isfinite(num(e, "agent_rate")) ? num(e, "agent_rate") * 100 : 0,
	      isfinite(num(e, "human_rate")) ? num(e, "human_rate") * 100 : 0);
	const cJSON *c;
	cJSON_ArrayForEach(c, get(e, "by_category"))
	{
		linef(p, 4, A_NORMAL, "%-10s agent %3.0f%%  human %3.0f%%  (%d tickets)",
		      c->string ? c->string : "?",
		      isfinite(num(c, "agent_rate")) ? num(c, "agent_rate") * 100 : 0,
		      isfinite(num(c, "human_rate")) ? num(c, "human_rate") * 100 : 0,
		      (int)num(c, "tickets"));
	}
}

static void
draw_sweep(struct pen *p, const cJSON *s)
{
	char t[16];
	const cJSON *best = get(s, "best"), *pt;
	heading(p, "Escalation threshold sweep");
	if (cJSON_IsObject(best))
		linef(p, 2, ATTR(THEME_OK), "threshold %s meets the target agreement %s",
		      fmt3(t, num(best, "threshold")),
		      fmt3((char[16]){0}, num(s, "target_agreement")));
	else
		linef(p, 2, ATTR(THEME_WARNING), "no threshold reaches the target agreement %s",
		      fmt3(t, num(s, "target_agreement")));
	linef(p, 4, ATTR(THEME_DIM), "%-10s %-16s %s", "threshold", "escalation rate", "agreement");
	cJSON_ArrayForEach(pt, get(s, "points"))
	{
		int is_best =
		    cJSON_IsObject(best) && num(best, "threshold") == num(pt, "threshold");
		char a[16], r[16];
		linef(p, 4, is_best ? A_BOLD : A_NORMAL, "%-10s %-16s %s%s",
		      fmt3(t, num(pt, "threshold")), fmt3(r, num(pt, "escalation_rate")),
		      fmt3(a, num(pt, "agreement")), is_best ? "  <- best" : "");
	}
}

static void
draw_rest(struct pen *p, const cJSON *r)
{
	char f[16], l[16];
	const cJSON *sim = get(r, "reply_similarity"), *v = get(r, "violations"), *k;
	heading(p, "Reply similarity to the humans");
	linef(p, 2, A_NORMAL, "token F1 %s   ROUGE-L %s   over %d replies", fmt3(f, num(sim, "f1")),
	      fmt3(l, num(sim, "rouge_l")), (int)num(sim, "turns"));
	heading(p, "Policy violations");
	linef(p, 2, A_NORMAL, "%d violations in %d tickets", (int)num(v, "total"),
	      (int)num(v, "tickets"));
	cJSON_ArrayForEach(k, get(v, "by_kind"))
	{
		linef(p, 4, ATTR(THEME_WARNING), "%-28s %d", k->string ? k->string : "?",
		      cJSON_IsNumber(k) ? k->valueint : 0);
	}
	const cJSON *ph = get(r, "prohibited_phrases");
	cJSON_ArrayForEach(k, ph)
	{
		linef(p, 4, ATTR(THEME_WARNING), "prohibited phrase %-20s %d",
		      k->string ? k->string : "?", cJSON_IsNumber(k) ? k->valueint : 0);
	}
}

/* Draws everything from the scroll-th row into r; returns how many rows there are. */
static int
rows(const struct shadow *sh, struct rect r, int scroll)
{
	struct pen p = {r, r.y - scroll};
	const char *file = sh->file ? sh->file : "(none)";
	linef(&p, 1, A_NORMAL, "Tickets: %s", file);
	switch (sh->state) {
	case RUN_IDLE:
		linef(&p, 1, ATTR(THEME_DIM),
		      "Enter replays this file in shadow mode (nothing is sent); f picks another");
		break;
	case RUN_RUNNING:
	case RUN_CANCELLED:
		if (visible(&p) && r.w > 30) {
			int bw = r.w - 30 > 60 ? 60 : r.w - 30;
			ui_bar(stdscr, p.y, r.x + 1, bw, (double)sh->done, (double)sh->total,
			       ATTR(THEME_OK) | A_REVERSE, ATTR(THEME_DIM));
			char s[64];
			snprintf(s, sizeof s, "%ld/%ld  %ld bad", sh->done, sh->total, sh->bad);
			ui_put(stdscr, p.y, r.x + 2 + bw, r.w - bw - 3, s, A_NORMAL);
		}
		p.y++;
		linef(&p, 1, ATTR(THEME_DIM), "%s",
		      sh->state == RUN_CANCELLED ? "cancelling..." : "replaying: c cancels");
		break;
	case RUN_FAILED:
		linef(&p, 1, ATTR(THEME_WARNING), "the replay failed: %s", sh->error);
		break;
	case RUN_DONE:
		break;
	}
	if (sh->state == RUN_CANCELLED && sh->pid <= 0) {
		p.y--;
		linef(&p, 1, ATTR(THEME_WARNING), "cancelled after %ld of %ld tickets", sh->done,
		      sh->total);
	}
	const cJSON *rep = sh->report;
	if (sh->state == RUN_DONE && rep != NULL) {
		const char *ver = cJSON_GetStringValue(get(rep, "version"));
		linef(&p, 1, ATTR(THEME_OK),
		      "Report: %d tickets, %d bad lines, agent version %s, run %d",
		      (int)num(rep, "tickets"), (int)num(rep, "bad_lines"), ver ? ver : "?",
		      (int)num(rep, "run"));
		if (sh->error[0] != '\0')
			linef(&p, 1, ATTR(THEME_DIM), "last message: %s", sh->error);
		draw_triage(&p, get(rep, "triage"));
		draw_escalation(&p, get(rep, "escalation"));
		draw_sweep(&p, get(rep, "sweep"));
		draw_rest(&p, rep);
	}
	return p.y - (r.y - scroll);
}

static void
shadow_draw(struct console *con, void *state)
{
	const struct shadow *sh = state;
	static const struct ui_key idle_keys[] = {{"Enter", "Run"},      {"f", "File"},
	                                          {"Up/Down", "Scroll"}, {"q", "Back"},
	                                          {"F3", "Review"},      {"F4", "Metrics"},
	                                          {"F1", "Help"},        {NULL, NULL}},
	                           run_keys[] = {{"c", "Cancel"},
	                                         {"q", "Back"},
	                                         {"F1", "Help"},
	                                         {NULL, NULL}};
	th = &con->theme;
	struct rect body =
	    ui_tool_frame(con, "shadow replay", sh->state == RUN_RUNNING ? run_keys : idle_keys);
	if (body.h <= 0)
		return;
	struct rect none = {body.y, body.x, 0, body.w};
	int n = rows(sh, none, 0), scroll = sh->scroll;
	if (scroll > n - body.h)
		scroll = n > body.h ? n - body.h : 0;
	rows(sh, body, scroll);
}

/* ------------------------------------------------------------- commands */

static char *
path_in(const struct shadow *sh, const char *name)
{
	return xasprintf("%s/%s", sh->dir, name);
}

/* Forgets the last run: kills a child still running, removes its files. */
static void
reset(struct shadow *sh)
{
	struct console *con = sh->con;
	if (sh->fd >= 0) {
		loop_watch(con->loop, sh->fd, 0, NULL, NULL);
		close(sh->fd);
		sh->fd = -1;
	}
	if (sh->timer != 0) {
		loop_timer_del(con->loop, sh->timer);
		sh->timer = 0;
	}
	if (sh->pid > 0) {
		kill(-sh->pid, SIGKILL);
		waitpid(sh->pid, NULL, 0);
		sh->pid = -1;
	}
	if (sh->dir != NULL) {
		static const char *const files[] = {"results.jsonl", "report.json"};
		for (size_t i = 0; i < nitems(files); i++) {
			char *f = path_in(sh, files[i]);
			unlink(f);
			free(f);
		}
		rmdir(sh->dir);
		free(sh->dir);
		sh->dir = NULL;
	}
	cJSON_Delete(sh->report);
	sh->report = NULL;
	buf_reset(&sh->in);
	sh->error[0] = '\0';
	sh->done = sh->total = sh->bad = 0;
	sh->scroll = 0;
}

/* The child is gone: its exit status says how the run went. */
static void
finished(struct shadow *sh, int wstatus)
{
	struct console *con = sh->con;
	sh->pid = -1;
	if (sh->state == RUN_CANCELLED) {
		console_status(con, 0, "replay cancelled");
		return;
	}
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	char *path = path_in(sh, "report.json"), *cause = NULL;
	char *text = file_read(path, 64u << 20, NULL, &cause);
	free(path);
	cJSON *report = text ? cJSON_Parse(text) : NULL;
	free(text);
	/* Bad lines make the exit status 65, after a report of the good ones. */
	if (!cJSON_IsObject(report) || (code != 0 && code != 65)) {
		cJSON_Delete(report);
		sh->state = RUN_FAILED;
		if (sh->error[0] == '\0')
			snprintf(sh->error, sizeof sh->error, "%s",
			         cause ? cause : "the replay stopped without a report");
		free(cause);
		if (code >= 0)
			console_status(con, 1, "replay failed (exit status %d)", code);
		else
			console_status(con, 1, "replay failed (signal %d)",
			               WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
		return;
	}
	free(cause);
	sh->report = report;
	sh->state = RUN_DONE;
	console_status(con, 0, "replay finished: %ld tickets, %ld bad lines", sh->done, sh->bad);
}

static void
reap(struct loop *l, void *arg)
{
	struct shadow *sh = arg;
	int ws;
	sh->timer = 0;
	pid_t r = waitpid(sh->pid, &ws, WNOHANG);
	if (r == sh->pid || (r < 0 && errno == ECHILD))
		finished(sh, r == sh->pid ? ws : 0x7f00);
	else
		sh->timer = loop_timer_add(l, REAP_MS, reap, sh);
	console_dirty(sh->con);
}

/* One line of the child's stderr: progress, or a message worth showing. */
static void
progress_line(struct shadow *sh, char *line)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *done = cJSON_GetObjectItemCaseSensitive(j, "done");
	if (cJSON_IsNumber(done)) {
		sh->done = (long)done->valuedouble;
		sh->total =
		    (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "total"));
		sh->bad = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "bad"));
	} else if (*line != '\0') {
		snprintf(sh->error, sizeof sh->error, "%s", line);
	}
	cJSON_Delete(j);
}

static void
on_stderr(struct loop *l, int fd, int ready, void *arg)
{
	struct shadow *sh = arg;
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				/* A line past the buffer's maximum is cut; progress lines are
				 * short. */
				buf_addc(&sh->in, chunk[i]);
				continue;
			}
			buf_addc(&sh->in, '\0');
			progress_line(sh, sh->in.data);
			buf_reset(&sh->in);
		}
		console_dirty(sh->con);
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The end of its stderr: the child has exited, or is about to. */
	loop_watch(l, fd, 0, NULL, NULL);
	close(fd);
	sh->fd = -1;
	reap(l, sh);
}

static void
start(struct shadow *sh, const char *file)
{
	struct console *con = sh->con;
	if (sh->state == RUN_RUNNING) {
		console_status(con, 1, "a replay is running: c cancels it");
		return;
	}
	reset(sh);
	/* file may be sh->file itself (r, Enter): copied before the old one goes. */
	char *path = xstrdup(file);
	free(sh->file);
	sh->file = path;
	file = path;
	if (access(file, R_OK) != 0) {
		sh->state = RUN_FAILED;
		snprintf(sh->error, sizeof sh->error, "%s: %s", file, strerror(errno));
		console_status(con, 1, "cannot read %s", file);
		return;
	}
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/frontline-replay-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int errp[2] = {-1, -1};
	if (mkdtemp(dir) == NULL || pipe2(errp, O_CLOEXEC) != 0) {
		sh->state = RUN_FAILED;
		snprintf(sh->error, sizeof sh->error, "%s", strerror(errno));
		console_status(con, 1, "replay not started: %s", strerror(errno));
		if (errp[0] < 0)
			rmdir(dir);
		free(dir);
		return;
	}
	sh->dir = dir;
	char *out = path_in(sh, "results.jsonl"), *report = path_in(sh, "report.json");
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
		sh->state = RUN_FAILED;
		snprintf(sh->error, sizeof sh->error, "fork: %s", strerror(saved));
		console_status(con, 1, "replay not started: %s", strerror(saved));
		return;
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	fcntl(errp[0], F_SETFL, fcntl(errp[0], F_GETFL) | O_NONBLOCK);
	sh->pid = pid;
	sh->fd = errp[0];
	sh->state = RUN_RUNNING;
	loop_watch(con->loop, errp[0], LOOP_READ, on_stderr, sh);
	console_status(con, 0, "replaying %s", file);
	console_dirty(con);
}

static void
cancel(struct shadow *sh)
{
	if (sh->state != RUN_RUNNING || sh->pid <= 0)
		return;
	kill(-sh->pid, SIGTERM);
	sh->state = RUN_CANCELLED;
	console_status(sh->con, 0, "cancelling the replay");
}

/* The f prompt's answer: another ticket file, run at once. */
static void
pick_file(struct console *con, void *arg, const char *text)
{
	if (*text != '\0')
		start(arg, text);
}

static int
shadow_key(struct console *con, void *state, int k)
{
	struct shadow *sh = state;
	switch (k) {
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'r':
		if (sh->file != NULL)
			start(sh, sh->file);
		break;
	case 'f':
		if (sh->state == RUN_RUNNING)
			console_status(con, 1, "a replay is running: c cancels it");
		else
			console_prompt(con, "tickets file> ", sh->file, pick_file, sh);
		break;
	case 'c':
		cancel(sh);
		break;
	default:
		return ui_scroll_key(&sh->scroll, k);
	}
	return 1;
}

/* ------------------------------------------------------------ the screen */

static void *
shadow_open(struct console *con)
{
	struct shadow *sh = xcalloc(1, sizeof *sh);
	sh->con = con;
	sh->pid = -1;
	sh->fd = -1;
	buf_init(&sh->in, 4096);
	return sh;
}

/* The console ends: a run still going is killed, its files removed. */
static void
shadow_close(struct console *con, void *state)
{
	struct shadow *sh = state;
	reset(sh);
	buf_free(&sh->in);
	free(sh->file);
	free(sh);
}

/* Shown: the shipped ticket set until another is picked. */
static int
shadow_show(struct console *con, void *state)
{
	struct shadow *sh = state;
	if (sh->file == NULL && con->opts->datadir != NULL)
		sh->file = xasprintf("%s/data/tickets/demo.jsonl", con->opts->datadir);
	return 0;
}

static const struct ui_help help[] = {
    {"Enter, f", "run the ticket file shown / choose another"},
    {"c", "cancel the run"},
    {"Up/Down, PgUp/PgDn", "scroll the report; q goes back"},
    {NULL, NULL},
};

const struct console_screen ui_replay_screen = {
    .name = "Replay",
    .what = "the Replay screen: run a shadow replay of a ticket file",
    .letter = 's',
    .fkey = 5,
    .help = help,
    .open = shadow_open,
    .close = shadow_close,
    .show = shadow_show,
    .key = shadow_key,
    .draw = shadow_draw,
};
