/* cmd-customer.c -- frontline customer: join the console as a customer, over its socket. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include <readline/readline.h>

#include "cmd.h"
#include "customer-http.h"
#include "customer-proto.h"
#include "loop.h"
#include "paths.h"
#include "safe-text.h"

/*
 * One connection, one loop. On a terminal, GNU readline in callback mode
 * reads the customer's lines while what the console sends is printed above
 * the prompt. Otherwise standard input is a script: each line is sent once
 * the one before was answered (a message, a state change or an error
 * arrived after it, with everything that came along in the same read), or
 * --linger seconds passed; at the end of input, the last one gets the same
 * wait, then bye.
 */

#define PROMPT       "you: "
#define MAX_QUEUE    (1024 * 1024) /* bytes queued for the console */
#define STDIN_CHUNK  16384
#define SOCKET_READS 64    /* reads of the socket per turn, at most */
#define WELCOME_MS   10000 /* or --linger when longer */

struct cust {
	struct loop *loop;
	int fd;
	char *where; /* the socket path or 127.0.0.1:PORT, for messages */
	struct buf in, out;
	size_t out_off;
	int interactive, json;
	long linger_ms;

	int welcomed;
	int state; /* enum cp_state, or -1 before the first */
	int awaiting;
	int answered; /* an answer arrived in this read */
	uint64_t timer;

	/* a script on standard input */
	struct buf line; /* the unfinished line */
	int skipping;    /* the rest of an over-long line */
	long lineno;
	struct strv queue;
	size_t head;
	int eof;
	int stdin_watched;

	int rl_on;
	int leaving;

	/* CSAT: --csat, or asked for on a terminal when the chat ends */
	int csat;                 /* the rating to send on leaving (1..5), 0 for none */
	const char *csat_comment; /* with it, or NULL */
	int rated;                /* this conversation was rated */
	int asking;               /* the prompt is the rating question */
	int leave_after;          /* ... asked because the customer is leaving */
	int ex;
	volatile int done;
};

/* readline's line handler takes no argument. */
static struct cust *the_cust;

static void finish(struct cust *, int ex);
static void send_next(struct cust *);

/* ------------------------------------------------------------ printing */

/*
 * Text from the console made inert for a terminal (text_sanitize: escape
 * sequences shown, not obeyed); a newline is a space, or with multiline a
 * new line, indented.
 */
static void
sanitise(struct buf *b, const char *s, int multiline)
{
	char *safe = text_sanitize(s, strlen(s));
	for (const char *p = safe; *p != '\0'; p++) {
		if (*p == '\n')
			buf_adds(b, multiline ? "\n  " : " ");
		else
			buf_addc(b, *p);
	}
	free(safe);
}

/*
 * Prints one line (no newline at its end). On a terminal with the prompt
 * up, the customer's unfinished line is taken down, the text printed where
 * it was, and the prompt and line put back under it.
 */
static void
say_line(struct cust *cu, FILE *f, const char *text)
{
	if (!cu->rl_on) {
		fprintf(f, "%s\n", text);
		fflush(f);
		return;
	}
	char *saved = rl_copy_text(0, rl_end);
	int point = rl_point;
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	fflush(stdout);
	fprintf(f, "%s\n", text);
	fflush(f);
	rl_restore_prompt();
	rl_replace_line(saved, 0);
	rl_point = point;
	rl_forced_update_display();
	free(saved);
}

/* say_line with a format; every %s from the console must be sanitised first. */
static void say_fmt(struct cust *cu, FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
say_fmt(struct cust *cu, FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	say_line(cu, f, s);
	free(s);
}

/* Takes the prompt down for good, so what follows prints on a clean line. */
static void
prompt_down(struct cust *cu)
{
	if (!cu->rl_on)
		return;
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	rl_restore_prompt();
	rl_callback_handler_remove();
	fflush(stdout);
	cu->rl_on = 0;
}

/* ------------------------------------------------------------ the socket */

static void sock_io(struct loop *, int fd, int ready, void *arg);

static void
sock_rewatch(struct cust *cu)
{
	loop_watch(cu->loop, cu->fd, LOOP_READ | (cu->out_off < cu->out.len ? LOOP_WRITE : 0),
	           sock_io, cu);
}

/* Writes what the socket takes now; 0, or -1 when the connection failed. */
static int
sock_flush(struct cust *cu)
{
	while (cu->out_off < cu->out.len) {
		ssize_t n = send(cu->fd, cu->out.data + cu->out_off, cu->out.len - cu->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		cu->out_off += (size_t)n;
	}
	if (cu->out_off == cu->out.len) {
		buf_reset(&cu->out);
		cu->out_off = 0;
	}
	return 0;
}

/* The connection is gone: closed by the console, or failed. */
static void
lost(struct cust *cu, int closed)
{
	if (cu->leaving) { /* bye or not, the console sees the close */
		finish(cu, cu->ex);
		return;
	}
	prompt_down(cu);
	if (closed)
		fl_warnx("the console at %s closed the connection", cu->where);
	else
		fl_warnx("lost the connection to the console at %s", cu->where);
	finish(cu, EX_UNAVAILABLE);
}

/* Sends msg (the caller deletes it). */
static void
send_msg(struct cust *cu, cJSON *msg)
{
	if (cp_encode(&cu->out, msg) != 0) {
		prompt_down(cu);
		fl_warnx("the console at %s is not reading what is sent", cu->where);
		finish(cu, EX_UNAVAILABLE);
		return;
	}
	if (sock_flush(cu) != 0) {
		lost(cu, 0);
		return;
	}
	sock_rewatch(cu);
}

/* ------------------------------------------------------------ leaving */

static void
finish(struct cust *cu, int ex)
{
	if (cu->done)
		return;
	if (cu->ex == EX_OK)
		cu->ex = ex;
	cu->done = 1;
}

static void
leave_timeout(struct loop *loop, void *arg)
{
	struct cust *cu = arg;
	cu->timer = 0;
	finish(cu, EX_OK); /* bye could not be written: the console will see the close */
}

/* Says bye; done once it is written. */
static void
leave(struct cust *cu, int ex)
{
	if (cu->leaving)
		return;
	cu->leaving = 1;
	cu->ex = ex;
	prompt_down(cu);
	if (cu->stdin_watched) {
		loop_watch(cu->loop, STDIN_FILENO, 0, NULL, NULL);
		cu->stdin_watched = 0;
	}
	loop_timer_del(cu->loop, cu->timer);
	if (cu->csat > 0 && !cu->rated && cu->welcomed) {
		cJSON *rate = cp_new_rate(cu->csat, cu->csat_comment);
		send_msg(cu, rate);
		cJSON_Delete(rate);
		cu->rated = 1;
	}
	cJSON *bye = cp_new_bye();
	send_msg(cu, bye);
	cJSON_Delete(bye);
	if (cu->out.len == 0)
		finish(cu, ex);
	else
		cu->timer = loop_timer_add(cu->loop, 2000, leave_timeout, cu);
}

/* ------------------------------------------------------------ input */

/* Sends a customer message; 0, or -1 when it cannot be (said why). */
static int
send_say(struct cust *cu, const char *text)
{
	if (strlen(text) > CP_MAX_TEXT) {
		say_fmt(cu, stderr, "frontline: a message is at most %d bytes; not sent",
		        CP_MAX_TEXT);
		return -1;
	}
	cJSON *say = cp_new_say(text);
	send_msg(cu, say);
	cJSON_Delete(say);
	return 0;
}

#define RATING_QUESTION "How did we do? (1-5, optional comment; Enter to skip)"
#define RATING_PROMPT   "rating: "

static void on_rl_line(char *line);

/*
 * The chat is over: the prompt asks for a rating (the next line answers
 * it). in_handler: called from readline's line handler (after ^D, the
 * line is already ended); otherwise the prompt is taken down first.
 */
static void
ask_rating(struct cust *cu, int then_leave, int in_handler)
{
	cu->asking = 1;
	cu->leave_after = then_leave;
	if (in_handler) {
		rl_callback_handler_remove();
		cu->rl_on = 0;
	} else
		prompt_down(cu);
	say_line(cu, stdout, RATING_QUESTION);
	rl_callback_handler_install(RATING_PROMPT, on_rl_line);
	cu->rl_on = 1;
}

/* The answer to the rating question: NULL (^D) or blank skips it. */
static void
rating_answer(struct cust *cu, const char *line)
{
	int score;
	const char *comment;
	cu->asking = 0;
	cu->rated = 1;
	/* The answered line stays as typed; what follows prints under it. */
	rl_callback_handler_remove();
	cu->rl_on = 0;
	if (line != NULL && cp_rating_parse(line, &score, &comment) == 0) {
		if (comment != NULL && strlen(comment) > CP_MAX_COMMENT) {
			say_fmt(cu, stdout, "[the comment is at most %d bytes; sent without it]",
			        CP_MAX_COMMENT);
			comment = NULL;
		}
		cJSON *rate = cp_new_rate(score, comment);
		send_msg(cu, rate);
		cJSON_Delete(rate);
		say_line(cu, stdout, "[thank you for rating us]");
	} else if (line != NULL && line[strspn(line, " \t")] != '\0')
		say_line(cu, stdout, "[a rating is a number from 1 to 5; not rated]");
	if (cu->leave_after)
		leave(cu, EX_OK);
	else {
		rl_callback_handler_install(PROMPT, on_rl_line);
		cu->rl_on = 1;
	}
}

/* readline's line handler: NULL at end of input (^D). */
static void
on_rl_line(char *line)
{
	struct cust *cu = the_cust;
	if (cu->asking) {
		rating_answer(cu, line);
		free(line);
		return;
	}
	if (line == NULL && cu->welcomed && !cu->rated && cu->csat == 0 && !cu->leaving) {
		/* Leaving: the chat ends here, so this is when to ask. */
		ask_rating(cu, 1, 1);
		return;
	}
	if (line == NULL) {
		/* ^D: the prompt stays, as a shell's does (readline ended the line). */
		rl_callback_handler_remove();
		cu->rl_on = 0;
		leave(cu, EX_OK);
		return;
	}
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && send_say(cu, line) == 0 && cu->state == CP_STATE_RESOLVED)
		cu->rated = 0; /* a new conversation begins */
	free(line);
}

static void
linger_timeout(struct loop *loop, void *arg)
{
	struct cust *cu = arg;
	cu->timer = 0;
	if (!cu->welcomed) {
		fl_warnx("no welcome from the console at %s", cu->where);
		finish(cu, EX_UNAVAILABLE);
		return;
	}
	if (cu->awaiting) {
		cu->awaiting = 0;
		if (cu->linger_ms > 0) /* --linger 0: not waiting was asked for */
			fl_warnx("no answer within %g s; going on", (double)cu->linger_ms / 1000);
		send_next(cu);
	}
}

static void stdin_io(struct loop *, int fd, int ready, void *arg);

/* The script: sends the next line once the last is answered; bye at the end. */
static void
send_next(struct cust *cu)
{
	if (cu->awaiting || cu->leaving || cu->done)
		return;
	while (cu->head < cu->queue.n) {
		const char *text = cu->queue.v[cu->head++];
		if (send_say(cu, text) != 0)
			continue;
		if (cu->done)
			return;
		cu->awaiting = 1;
		cu->timer = loop_timer_add(cu->loop, cu->linger_ms, linger_timeout, cu);
		return;
	}
	strv_free(&cu->queue);
	cu->head = 0;
	if (cu->eof)
		leave(cu, cu->ex);
	else if (!cu->stdin_watched) {
		loop_watch(cu->loop, STDIN_FILENO, LOOP_READ, stdin_io, cu);
		cu->stdin_watched = 1;
	}
}

/* A line of the script, into the queue (blank lines are skipped). */
static void
queue_line(struct cust *cu, char *s, size_t n)
{
	cu->lineno++;
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (strlen(s) != n) {
		fl_warnx("stdin:%ld: a line with a NUL byte; not sent", cu->lineno);
		return;
	}
	const char *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		strv_add(&cu->queue, s);
}

static void
stdin_io(struct loop *loop, int fd, int ready, void *arg)
{
	struct cust *cu = arg;
	char chunk[STDIN_CHUNK];
	/* One read: poll said it will not block. */
	ssize_t n = read(fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		fl_warnx("stdin: %s", strerror(errno));
	if (n <= 0) {
		cu->eof = 1;
		if (n < 0)
			cu->ex = EX_IOERR;
		if (cu->line.len > 0 && !cu->skipping)
			queue_line(cu, cu->line.data, cu->line.len);
		buf_reset(&cu->line);
	}
	for (ssize_t i = 0; i < n;) {
		const char *nl = memchr(chunk + i, '\n', (size_t)(n - i));
		size_t take = nl ? (size_t)(nl - (chunk + i)) : (size_t)(n - i);
		if (!cu->skipping && buf_add(&cu->line, chunk + i, take) != 0) {
			fl_warnx("stdin:%ld: longer than %d bytes; not sent", cu->lineno + 1,
			         CP_MAX_TEXT);
			cu->skipping = 1;
			buf_reset(&cu->line);
		}
		i += (ssize_t)take;
		if (nl != NULL) {
			if (!cu->skipping)
				queue_line(cu, cu->line.data, cu->line.len);
			else
				cu->lineno++;
			cu->skipping = 0;
			buf_reset(&cu->line);
			i++;
		}
	}
	/* Read on only when the queue is sent: the script is read as it is used. */
	if (cu->queue.n > cu->head || cu->eof) {
		loop_watch(cu->loop, STDIN_FILENO, 0, NULL, NULL);
		cu->stdin_watched = 0;
	}
	send_next(cu);
}

/* ------------------------------------------------------------ the console */

static const char *const state_notes[] = {
    [CP_STATE_AI] = "[you are talking to an AI agent]",
    [CP_STATE_WAITING] = "[a human agent will join shortly]",
    [CP_STATE_HUMAN] = "[you are talking to a human agent]",
    [CP_STATE_RESOLVED] = "[conversation resolved]",
};

/* The terminal has input: readline takes it a character at a time. */
static void
tty_io(struct loop *loop, int fd, int ready, void *arg)
{
	struct cust *cu = arg;
	if (cu->rl_on)
		rl_callback_read_char();
}

static void
on_welcome(struct cust *cu)
{
	if (cu->welcomed)
		return;
	cu->welcomed = 1;
	loop_timer_del(cu->loop, cu->timer);
	cu->timer = 0;
	if (cu->interactive) {
		rl_callback_handler_install(PROMPT, on_rl_line);
		cu->rl_on = 1;
		loop_watch(cu->loop, STDIN_FILENO, LOOP_READ, tty_io, cu);
		cu->stdin_watched = 1;
	}
	/* A script starts once what came with the welcome is printed (sock_io). */
}

/* Prints a message as text. */
static void
print_msg(struct cust *cu, const struct cp_msg *m)
{
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	switch (m->type) {
	case CP_WELCOME:
		if (m->customer != NULL)
			sanitise(&b, m->customer, 0);
		say_fmt(cu, stdout, "[connected to conversation %lld%s%s]",
		        (long long)m->conversation, b.len ? " as " : "", b.data);
		break;
	case CP_MESSAGE:
		sanitise(&b, m->text, cu->interactive);
		if (m->role == CP_ROLE_AI)
			say_fmt(cu, stdout, "agent: %s", b.data);
		else {
			sanitise(&a, m->name != NULL && *m->name != '\0' ? m->name : "agent", 0);
			say_fmt(cu, stdout, "%s (human): %s", a.data, b.data);
		}
		break;
	case CP_STATE:
		say_line(cu, stdout, state_notes[m->state]);
		break;
	case CP_ERROR:
		sanitise(&b, m->text, 0);
		if (cu->interactive)
			say_fmt(cu, stdout, "[error: %s]", b.data);
		else
			say_fmt(cu, stderr, "frontline: the console says: %s", b.data);
		break;
	default:
		break; /* typing, and what a later version adds */
	}
	buf_free(&a);
	buf_free(&b);
}

/* One line from the console; returns nonzero to stop reading. */
static int
on_console_line(void *arg, const char *line, size_t len)
{
	struct cust *cu = arg;
	struct cp_msg m;
	char *cause = NULL;
	if (len == 0)
		return 0;
	if (cp_decode(line, len, CP_TO_CUSTOMER, &m, &cause) != 0) {
		struct buf b;
		buf_init(&b, 0);
		sanitise(&b, cause, 0);
		say_fmt(cu, stderr, "frontline: ignoring a bad line from the console: %s", b.data);
		buf_free(&b);
		free(cause);
		return 0;
	}
	if (m.type == CP_UNKNOWN) {
		cp_msg_free(&m);
		return 0;
	}
	if (cu->json) {
		struct buf b;
		buf_init(&b, 0);
		cp_encode(&b, m.json);
		b.data[--b.len] = '\0'; /* say_line adds the newline */
		say_line(cu, stdout, b.data);
		buf_free(&b);
	} else
		print_msg(cu, &m);
	switch (m.type) {
	case CP_WELCOME:
		on_welcome(cu);
		break;
	case CP_STATE:
		cu->state = (int)m.state;
		cu->answered = 1;
		/* The console resolved it: the chat is over, so ask (once). */
		if (m.state == CP_STATE_RESOLVED && cu->interactive && cu->rl_on && !cu->rated &&
		    !cu->asking && cu->csat == 0)
			ask_rating(cu, 0, 0);
		break;
	case CP_MESSAGE:
	case CP_ERROR:
		cu->answered = 1;
		break;
	default:
		break;
	}
	cp_msg_free(&m);
	return cu->done;
}

/* The console closed the connection. */
static void
console_closed(struct cust *cu)
{
	if (cu->leaving) {
		finish(cu, cu->ex);
		return;
	}
	if (cu->state == CP_STATE_RESOLVED) {
		prompt_down(cu);
		if (cu->queue.n > cu->head || (!cu->eof && !cu->interactive))
			fl_warnx(
			    "the conversation was resolved: the rest of the input is not sent");
		finish(cu, EX_OK);
		return;
	}
	lost(cu, 1);
}

static void
sock_io(struct loop *loop, int fd, int ready, void *arg)
{
	struct cust *cu = arg;
	if ((ready & LOOP_WRITE) && sock_flush(cu) != 0) {
		if (cu->leaving)
			finish(cu, cu->ex);
		else
			lost(cu, 0);
		return;
	}
	if (cu->leaving && cu->out.len == 0) {
		finish(cu, cu->ex);
		return;
	}
	if (ready & (LOOP_READ | LOOP_ERROR)) {
		cu->answered = 0;
		char chunk[16384];
		for (int i = 0; i < SOCKET_READS && !cu->done; i++) {
			ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
			if (n > 0) {
				if (cp_lines_feed(&cu->in, chunk, (size_t)n, on_console_line, cu) <
				    0) {
					prompt_down(cu);
					fl_warnx(
					    "the console at %s sent a line longer than %d bytes",
					    cu->where, CP_MAX_LINE);
					finish(cu, EX_UNAVAILABLE);
				}
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			console_closed(cu);
			return;
		}
		/*
		 * Everything that came with the answer is printed: the next
		 * line may go. (What came in this read before the line was
		 * sent does not answer it: it is sent only here.)
		 */
		if (cu->welcomed && !cu->interactive && !cu->done) {
			if (cu->answered && cu->awaiting) {
				cu->awaiting = 0;
				loop_timer_del(cu->loop, cu->timer);
				cu->timer = 0;
			}
			send_next(cu);
		}
	}
	if (!cu->done)
		sock_rewatch(cu);
}

/* ------------------------------------------------------------ signals */

static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct cust *cu = arg;
	if (signo == SIGWINCH) {
		if (cu->rl_on)
			rl_resize_terminal();
		return;
	}
	if (cu->leaving) { /* a second one: go now */
		finish(cu, 128 + signo);
		return;
	}
	leave(cu, 128 + signo);
}

/* Until loop_free, which gives them their default action back. */
static int
signals_init(struct cust *cu)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
	for (size_t i = 0; i < nitems(sigs); i++)
		if (loop_signal(cu->loop, sigs[i], on_signal, cu) != 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------ connecting */

/* Connects to the console; returns the socket, or -1 with the exit code in *ex (said why). */
static int
connect_console(const char *path, int port, int *ex)
{
	int fd;
	int rc;
	if (path != NULL) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		if (strlen(path) >= sizeof sa.sun_path) {
			fl_warnx("the socket path %s is too long (at most %zu bytes)", path,
			         sizeof sa.sun_path - 1);
			*ex = EX_USAGE;
			return -1;
		}
		memcpy(sa.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof sa);
	} else {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sin, sizeof sin);
	}
	if (rc != 0) {
		int e = errno;
		char *where = path ? xstrdup(path) : xasprintf("127.0.0.1:%d", port);
		if (e == ENOENT || e == ECONNREFUSED)
			fl_warnx("no console is listening on %s (start one with 'frontline "
			         "console')",
			         where);
		else
			fl_warnx("cannot connect to the console at %s: %s", where, strerror(e));
		free(where);
		if (fd >= 0)
			close(fd);
		*ex = EX_UNAVAILABLE;
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fd;
}

/* ------------------------------------------------------------ the command */

/* Says hello and runs the loop until the customer leaves or the console goes. */
static void
cust_run(struct cust *cu, const struct cmd_args *a)
{
	the_cust = cu;
	if (signals_init(cu) != 0) {
		fl_warnx("signals: %s", strerror(errno));
		finish(cu, EX_OSERR);
	}
	if (cu->interactive) {
		/* The loop owns the terminal's input and the signals. */
		rl_catch_signals = 0;
		rl_catch_sigwinch = 0;
		rl_change_environment = 0;
		rl_readline_name = "frontline";
	}
	enum tier tier = (enum tier)cmd_args_choice(a, "tier", TIER_STANDARD);
	const char *name = cmd_args_get(a, "name");
	cJSON *hello = cp_new_hello(cmd_args_get(a, "customer"), name && *name ? name : NULL,
	                            cmd_args_has(a, "tier") ? &tier : NULL);
	send_msg(cu, hello);
	cJSON_Delete(hello);
	sock_rewatch(cu);
	if (!cu->done)
		cu->timer = loop_timer_add(cu->loop,
		                           cu->linger_ms > WELCOME_MS ? cu->linger_ms : WELCOME_MS,
		                           linger_timeout, cu);
	loop_run(cu->loop, &cu->done);
	prompt_down(cu);
}

/* Closes the connection (a bridge first sends what it was given: a rating, bye) and frees cu. */
static void
cust_close(struct cust *cu, struct customer_http *http)
{
	if (http != NULL) {
		loop_watch(cu->loop, cu->fd, 0, NULL, NULL);
		if (cu->stdin_watched)
			loop_watch(cu->loop, STDIN_FILENO, 0, NULL, NULL);
		close(cu->fd);
		cu->fd = -1;
		customer_http_close(http, 5000);
	}
	if (cu->fd >= 0)
		close(cu->fd);
	loop_free(cu->loop);
	the_cust = NULL;
	buf_free(&cu->in);
	buf_free(&cu->out);
	buf_free(&cu->line);
	strv_free(&cu->queue);
	free(cu->where);
}

static int
cmd_customer(struct ctx *ctx, const struct cmd_args *a)
{
	const char *socket_path = cmd_args_get(a, "socket"), *url = cmd_args_get(a, "url");
	int port = (int)cmd_args_number(a, "tcp", 0);
	char *dflt = NULL, *cause = NULL;
	if (socket_path == NULL && port == 0 && url == NULL &&
	    (socket_path = dflt = paths_console_socket(0)) == NULL) {
		fl_warnx("no console socket: set XDG_RUNTIME_DIR or HOME, or use --socket");
		return EX_UNAVAILABLE;
	}
	struct cust cu = {
	    .loop = loop_new(),
	    .interactive = isatty(STDIN_FILENO),
	    .json = cmd_args_has(a, "json"),
	    .linger_ms = lround(cmd_args_number(a, "linger", 10) * 1000),
	    .state = -1,
	    .where = url           ? xstrdup(url)
	             : socket_path ? xstrdup(socket_path)
	                           : xasprintf("127.0.0.1:%d", port),
	};
	if (cmd_args_has(a, "csat"))
		cp_rating_parse(cmd_args_get(a, "csat"), &cu.csat, &cu.csat_comment);
	buf_init(&cu.in, 0);
	buf_init(&cu.out, MAX_QUEUE);
	buf_init(&cu.line, CP_MAX_TEXT);

	/* --url: frontline serve, through a bridge that speaks the same protocol. */
	struct customer_http *http = NULL;
	cu.fd =
	    url ? customer_http_open(cu.loop, url, getenv("FRONTLINE_SERVE_TOKEN"), &http, &cause)
	        : connect_console(socket_path, port, &cu.ex);
	if (cu.fd < 0 && url != NULL) {
		fl_warnx("%s", cause);
		cu.ex = EX_USAGE;
	} else if (cu.fd >= 0)
		cust_run(&cu, a);
	cust_close(&cu, http);
	free(cause);
	free(dflt);
	return cu.ex;
}

static int
name_check(const char *v, const char **what)
{
	*what = "at most " STRINGIFY(CP_MAX_NAME) " bytes of text, without control characters";
	return cp_name_valid(v) ? 0 : -1;
}

static int
customer_check(const char *v, const char **what)
{
	*what = "1 to " STRINGIFY(CP_MAX_ID) " letters, digits or ._:@+-";
	return cp_id_valid(v) ? 0 : -1;
}

static int
csat_check(const char *v, const char **what)
{
	int score;
	const char *comment;
	*what = "a rating from 1 to 5, optionally followed by a comment of at most " STRINGIFY(
	    CP_MAX_COMMENT) " bytes";
	return cp_rating_parse(v, &score, &comment) != 0 ||
	               (comment != NULL && strlen(comment) > CP_MAX_COMMENT)
	           ? -1
	           : 0;
}

static const struct cmd_option options[] = {
    {.name = "name",
     .value = CMD_TEXT,
     .arg = "N",
     .check = name_check,
     .help = "your name, as the agents see it"},
    {.name = "tier",
     .value = CMD_CHOICE,
     .arg = "T",
     .choices = tier_names,
     .help = "self-serve, standard (default), premium, enterprise"},
    {.name = "customer",
     .value = CMD_TEXT,
     .arg = "ID",
     .check = customer_check,
     .help = "who you are (default: the console makes a guest id)"},
    {.name = "socket",
     .value = CMD_FILE,
     .arg = "PATH",
     .group = 1,
     .help = "the console's socket (default: $XDG_RUNTIME_DIR/frontline/console.sock, or "
             "under $XDG_STATE_HOME/frontline without XDG_RUNTIME_DIR)"},
    {.name = "tcp",
     .value = CMD_INT,
     .arg = "PORT",
     .min = 1,
     .max = 65535,
     .group = 1,
     .help = "the console's TCP port on 127.0.0.1 instead"},
    {.name = "url",
     .value = CMD_TEXT,
     .arg = "URL",
     .group = 1,
     .help = "a frontline serve instead (http://HOST:PORT), with the token in "
             "$FRONTLINE_SERVE_TOKEN (frontline-http(7))"},
    {.name = "json", .help = "print the protocol's objects, one per line"},
    {.name = "linger",
     .value = CMD_NUMBER,
     .arg = "SECONDS",
     .min = 0,
     .max = 86400,
     .help = "standard input not a terminal: how long to wait for an answer before the next "
             "line, and at the end (default 10)"},
    {.name = "csat",
     .value = CMD_TEXT,
     .arg = "'N [COMMENT]'",
     .check = csat_check,
     .help = "rate the chat (1-5, and a comment) on leaving, instead of being asked"},
    {0},
};

const struct cmd_entry cmd_customer_entry = {
    .name = "customer",
    .summary = "join the running console as a customer, in line mode",
    .options = options,
    .exec = cmd_customer,
    .help = "On a terminal, type messages at the prompt; ^D leaves. When the chat ends\n"
            "(resolved, or you leave) you are asked \"How did we do?\": a rating 1-5\n"
            "and an optional comment, or Enter to skip. Otherwise each line of\n"
            "standard input is a message, sent once the one before was answered.\n"
            "The protocol is frontline-protocol(7).\n",
};
