/* ui-input.c -- a GNU readline input line inside an ncurses screen. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "paths.h"
#include "ui-draw.h"
#include "ui-input.h"
#include "ui-text.h"
#include "util.h"

#define BYTE_ESC 0x1b
#define SEQ_MAX  32 /* an escape sequence longer than this is complete, whatever it is */

/* Readline's hooks as they were before ui_input_open(). */
struct rl_saved {
	rl_getc_func_t *getc;
	rl_hook_func_t *input_available;
	rl_voidfunc_t *redisplay;
	rl_vintfunc_t *prep;
	rl_voidfunc_t *deprep;
	rl_completion_func_t *completion;
	FILE *outstream;
	const char *name;
	int catch_signals, catch_sigwinch, change_environment;
};

struct ui_input {
	void (*on_line)(void *, const char *);
	void *arg;
	char *history_path;
	int added; /* lines added to the history since open */

	/*
	 * Bytes for readline: q[head..limit) may be read now; q[limit..len)
	 * is an escape sequence waiting for its next byte.
	 */
	unsigned char q[2 * SEQ_MAX];
	size_t head, limit, len;

	struct strv lines; /* accepted, to hand to on_line */
	int eof;           /* Ctrl-D on an empty line */
	int dirty;
	int hscroll; /* the first column of the line shown */
	FILE *devnull;
	struct rl_saved saved;
};

/* Readline's callbacks take no argument: this is the open input line. */
static struct ui_input *current;

static int
input_getc(FILE *unused)
{
	struct ui_input *in = current;
	/*
	 * Readline reads only when input_available() said so, or once per
	 * rl_callback_read_char(), which runs only with a byte queued.
	 */
	if (in == NULL || in->head >= in->limit)
		return EOF;
	return in->q[in->head++];
}

static int
input_available(void)
{
	return current != NULL && current->head < current->limit;
}

static void
input_redisplay(void)
{
	if (current != NULL)
		current->dirty = 1;
}

static char **
no_completion(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1;
	return NULL;
}

static void
input_line(char *line)
{
	struct ui_input *in = current;
	if (line == NULL) {
		in->eof = 1;
		return;
	}
	if (*line != '\0' && strchr(line, '\n') == NULL) {
		add_history(line);
		in->added++;
	}
	strv_add(&in->lines, line);
	free(line);
}

static void
install(void)
{
	rl_callback_handler_install("", input_line);
}

/*
 * Keys that xterm-like terminals send and readline binds only through
 * termcap (which it skips with a redisplay function of its own) or
 * /etc/inputrc (which a user's ~/.inputrc replaces). Bound only where
 * the user's inputrc left them free.
 */
static void
bind_common_keys(void)
{
	static const struct {
		const char *seq;
		rl_command_func_t *func;
	} keys[] = {
	    {"\e[3~", rl_delete},          {"\e[1~", rl_beg_of_line},
	    {"\e[7~", rl_beg_of_line},     {"\e[H", rl_beg_of_line},
	    {"\eOH", rl_beg_of_line},      {"\e[4~", rl_end_of_line},
	    {"\e[8~", rl_end_of_line},     {"\e[F", rl_end_of_line},
	    {"\eOF", rl_end_of_line},      {"\e[1;5C", rl_forward_word},
	    {"\e[1;5D", rl_backward_word}, {"\e[1;3C", rl_forward_word},
	    {"\e[1;3D", rl_backward_word},
	};
	for (size_t i = 0; i < nitems(keys); i++)
		rl_bind_keyseq_if_unbound(keys[i].seq, keys[i].func);
}

struct ui_input *
ui_input_open(const char *history_path, void (*on_line)(void *arg, const char *line), void *arg,
              char **cause)
{
	if (current != NULL) {
		*cause = xstrdup("an input line is already open");
		return NULL;
	}
	if (history_path != NULL) {
		char *dir = xstrdup(history_path), *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (paths_mkdir(dir, 0700) != 0) {
				*cause = xasprintf("cannot create %s: %s", dir, strerror(errno));
				free(dir);
				return NULL;
			}
		}
		free(dir);
	}

	struct ui_input *in = xcalloc(1, sizeof *in);
	in->on_line = on_line;
	in->arg = arg;
	in->history_path = history_path ? xstrdup(history_path) : NULL;
	in->devnull = fopen("/dev/null", "w");
	if (in->devnull == NULL) {
		*cause = xasprintf("cannot open /dev/null: %s", strerror(errno));
		free(in->history_path);
		free(in);
		return NULL;
	}

	using_history();
	stifle_history(UI_INPUT_HISTORY_MAX);
	if (in->history_path != NULL) {
		int rc = read_history(in->history_path);
		if (rc != 0 && rc != ENOENT) {
			*cause = xasprintf("cannot read %s: %s", in->history_path, strerror(rc));
			clear_history();
			unstifle_history();
			fclose(in->devnull);
			free(in->history_path);
			free(in);
			return NULL;
		}
	}

	struct rl_saved *s = &in->saved;
	s->getc = rl_getc_function;
	s->input_available = rl_input_available_hook;
	s->redisplay = rl_redisplay_function;
	s->prep = rl_prep_term_function;
	s->deprep = rl_deprep_term_function;
	s->completion = rl_attempted_completion_function;
	s->outstream = rl_outstream;
	s->name = rl_readline_name;
	s->catch_signals = rl_catch_signals;
	s->catch_sigwinch = rl_catch_sigwinch;
	s->change_environment = rl_change_environment;

	rl_readline_name = "frontline";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = input_getc;
	rl_input_available_hook = input_available;
	rl_redisplay_function = input_redisplay;
	rl_attempted_completion_function = no_completion;
	rl_outstream = in->devnull;

	current = in;
	install();
	bind_common_keys();
	in->dirty = 1;
	return in;
}

/*
 * Where an escape sequence still waiting for bytes starts in q[0..len),
 * or len when there is none: a lone ESC, a CSI ("ESC [" then parameter
 * and intermediate bytes) without its final byte, or "ESC O" (SS3).
 */
static size_t
pending_escape(const unsigned char *q, size_t len)
{
	size_t i = len;
	while (i > 0 && q[i - 1] != BYTE_ESC)
		i--;
	if (i == 0)
		return len;
	size_t at = i - 1, n = len - at;
	if (n == 1)
		return at;
	if (q[at + 1] == 'O')
		return n == 2 ? at : len;
	if (q[at + 1] != '[' || n > SEQ_MAX)
		return len;
	for (size_t j = at + 2; j < len; j++)
		if (q[j] < 0x20 || q[j] > 0x3f)
			return len; /* a final byte, or not a CSI after all */
	return at;
}

/*
 * Whether a complete CSI or SS3 sequence (a cursor or function key) is
 * bound in readline's keymap. Readline would insert the tail of an unbound
 * one ("~" for F5), so those are dropped. Other escapes (Alt+key) are
 * readline's to judge.
 */
static int
bound(const unsigned char *seq, size_t n)
{
	int type = ISFUNC;
	if (n < 3 || (seq[1] != '[' && seq[1] != 'O'))
		return 1;
	rl_command_func_t *f = rl_function_of_keyseq_len((const char *)seq, n, NULL, &type);
	return f != NULL && type != ISKMAP;
}

/* Runs readline over the bytes it may have, then hands over accepted lines. */
static int
process(struct ui_input *in)
{
	while (in->head < in->limit)
		rl_callback_read_char();
	memmove(in->q, in->q + in->head, in->len - in->head);
	in->len -= in->head;
	in->limit -= in->head;
	in->head = 0;

	struct strv batch = in->lines;
	memset(&in->lines, 0, sizeof in->lines);
	for (size_t i = 0; i < batch.n; i++)
		in->on_line(in->arg, batch.v[i]);
	strv_free(&batch);

	if (in->eof) {
		in->eof = 0;
		return UI_INPUT_CANCEL;
	}
	return UI_INPUT_OK;
}

int
ui_input_key(struct ui_input *in, int byte)
{
	if (byte < 0 || byte > 255)
		return UI_INPUT_OK;
	if (byte == 0x03) { /* Ctrl-C */
		in->len = in->limit = in->head;
		return UI_INPUT_CANCEL;
	}
	if (byte == BYTE_ESC && in->len == 1 && in->q[0] == BYTE_ESC) {
		in->len = in->limit = in->head = 0; /* Escape pressed twice */
		return UI_INPUT_CANCEL;
	}
	size_t at = in->limit; /* where a held escape sequence starts, if any */
	in->q[in->len++] = (unsigned char)byte;
	in->limit = pending_escape(in->q, in->len);
	if (at < in->len - 1 && in->limit == in->len && !bound(in->q + at, in->len - at))
		in->len = in->limit = at;
	return process(in);
}

int
ui_input_flush(struct ui_input *in)
{
	int lone = in->len == 1 && in->q[0] == BYTE_ESC;
	in->len = in->limit = in->head = 0;
	return lone ? UI_INPUT_CANCEL : UI_INPUT_OK;
}

/* One character of the line as drawn: where it starts, its display form and width. */
struct unit {
	size_t off;
	uint32_t cp;
	int col, width;
};

int
ui_input_draw(struct ui_input *in, WINDOW *win, int y, int x, int w, const char *prompt,
              attr_t attr)
{
	const char *p = prompt != NULL ? prompt : "";
	if (rl_display_prompt != NULL && rl_display_prompt != rl_prompt && *rl_display_prompt)
		p = rl_display_prompt; /* readline's own message: search, argument */
	if (w <= 0)
		return x;

	/* The prompt: at most half the width. */
	char *sp = text_sanitize(p, strlen(p));
	int pw;
	sp[text_fit(sp, w / 2, &pw)] = '\0';
	int tw = w - pw;

	/* The line as units with columns; the cursor's column. */
	size_t len = (size_t)rl_end, n = 0;
	struct unit *u = xreallocarray(NULL, len + 1, sizeof *u);
	int total = 0, cc = -1, ce;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = text_decode(rl_line_buffer + i, len - i, &cp);
		if (cc < 0 && i >= (size_t)rl_point)
			cc = total;
		u[n].off = i;
		u[n].cp = text_display_cp(cp);
		u[n].col = total;
		u[n].width = text_cp_width(cp);
		total += u[n].width;
		n++;
		i += k;
	}
	if (cc < 0)
		cc = total;
	ce = cc;
	for (size_t i = 0; i < n; i++)
		if (u[i].col == cc && u[i].width > 0) {
			ce = cc + u[i].width - 1;
			break;
		}

	/* Scroll so that the cursor (and the character under it) shows. */
	int off = in->hscroll;
	if (total + 1 <= tw)
		off = 0;
	else {
		if (off > total + 1 - tw)
			off = total + 1 - tw;
		if (cc < off || ce > off + tw - 1)
			off = cc - tw / 2;
		if (off > total + 1 - tw)
			off = total + 1 - tw;
		if (off < 0)
			off = 0;
	}

	/* The visible characters, as display code points. */
	struct buf vis;
	char enc[4];
	int lead = -1, shown = 0;
	buf_init(&vis, 0);
	for (size_t i = 0; i < n; i++) {
		if (u[i].width == 0) {
			if (shown)
				buf_add(&vis, enc, text_encode(u[i].cp, enc));
			continue;
		}
		shown = u[i].col >= off && u[i].col + u[i].width <= off + tw;
		if (!shown)
			continue;
		if (lead < 0)
			lead = u[i].col - off; /* 1 when a wide character straddles the edge */
		buf_add(&vis, enc, text_encode(u[i].cp, enc));
	}

	ui_fill(win, y, x, w, attr);
	ui_put(win, y, x, pw, sp, attr);
	if (lead >= 0)
		ui_put(win, y, x + pw + lead, tw - lead, vis.data, attr);
	int cx = x + pw + (cc - off);
	if (cx > x + w - 1)
		cx = x + w - 1;
	wmove(win, y, cx);

	in->hscroll = off;
	in->dirty = 0;
	buf_free(&vis);
	free(u);
	free(sp);
	return cx;
}

int
ui_input_dirty(const struct ui_input *in)
{
	return in->dirty;
}

/* Ends any key sequence, search or argument in progress, and starts a fresh line. */
static void
restart(struct ui_input *in)
{
	rl_callback_sigcleanup();
	rl_callback_handler_remove();
	install();
	in->len = in->limit = in->head = 0;
	in->hscroll = 0;
	in->dirty = 1;
}

void
ui_input_clear(struct ui_input *in)
{
	rl_replace_line("", 1);
	rl_point = rl_end = rl_mark = 0;
	restart(in);
}

void
ui_input_set_line(struct ui_input *in, const char *text)
{
	restart(in);
	rl_replace_line(text, 1);
	rl_point = rl_end;
	in->dirty = 1;
}

const char *
ui_input_line(const struct ui_input *in)
{
	return rl_line_buffer != NULL ? rl_line_buffer : "";
}

int
ui_input_point(const struct ui_input *in)
{
	return rl_point;
}

/* Appends this session's lines to the history file, keeping the last UI_INPUT_HISTORY_MAX. */
static int
save_history(struct ui_input *in, char **cause)
{
	const char *path = in->history_path;
	int n = in->added < history_length ? in->added : history_length, rc;
	struct stat st;

	if (path == NULL || n == 0)
		return 0;
	if (stat(path, &st) == 0)
		rc = append_history(n, path);
	else
		rc = write_history(path);
	if (rc == 0)
		rc = history_truncate_file(path, UI_INPUT_HISTORY_MAX);
	if (rc != 0) {
		*cause = xasprintf("cannot write %s: %s", path, strerror(rc));
		return -1;
	}
	return 0;
}

int
ui_input_close(struct ui_input *in, char **cause)
{
	rl_callback_sigcleanup();
	rl_callback_handler_remove();
	int rc = save_history(in, cause);
	clear_history();
	unstifle_history();

	struct rl_saved *s = &in->saved;
	rl_getc_function = s->getc;
	rl_input_available_hook = s->input_available;
	rl_redisplay_function = s->redisplay;
	rl_prep_term_function = s->prep;
	rl_deprep_term_function = s->deprep;
	rl_attempted_completion_function = s->completion;
	rl_outstream = s->outstream;
	rl_readline_name = s->name;
	rl_catch_signals = s->catch_signals;
	rl_catch_sigwinch = s->catch_sigwinch;
	rl_change_environment = s->change_environment;

	current = NULL;
	fclose(in->devnull);
	strv_free(&in->lines);
	free(in->history_path);
	free(in);
	return rc;
}
