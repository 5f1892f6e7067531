/*
 * ui-input.h -- a GNU readline input line inside an ncurses screen.
 *
 * ncurses owns the terminal; readline only edits. Readline installs no
 * signal handlers (rl_catch_signals = rl_catch_sigwinch = 0), changes no
 * environment (rl_change_environment = 0), never touches the terminal
 * modes (no prep/deprep functions) and writes nothing to it (rl_outstream
 * is /dev/null; only the bell goes to stderr, as readline's rl_ding()
 * does). Bytes reach readline through rl_getc_function and
 * rl_input_available_hook from a small queue this module fills, in
 * readline's callback mode. Readline's own redisplay only marks the line
 * dirty; ui_input_draw() draws it where the console says, once per loop
 * pass. The user's inputrc is honoured: rl_readline_name is "frontline",
 * so "$if frontline" sections apply. Tab completion completes nothing
 * (there are no file names to complete in a chat reply).
 *
 * Readline is a single global editor, so one struct ui_input can be open
 * at a time; that is the only global state here.
 *
 * How the console drives it. When input mode starts, it reads keys with
 * wgetch() on a window without keypad(), so that escape sequences arrive
 * as bytes (arrow keys, Home, Delete ... are readline's to decode), and
 * hands each byte to ui_input_key(). When wgetch() has nothing more (the
 * end of a batch, or after ESCDELAY ms without a byte), it calls
 * ui_input_flush(). KEY_RESIZE and other values outside 0..255 are the
 * console's, not readline's: ui_input_key() ignores them.
 *
 * Leaving input mode: ui_input_key() and ui_input_flush() return
 * UI_INPUT_CANCEL for Escape pressed on its own (a lone ESC at the end of
 * a batch, or two ESCs in a row), for Ctrl-C, and for Ctrl-D on an empty
 * line. The console then leaves input mode; the draft is kept (the next
 * input mode resumes it) unless the console calls ui_input_clear(), which
 * is what the Supervise screen should do on Escape. Escape sequences
 * (arrows, Alt+key) are never mistaken for Escape: bytes following an ESC
 * in the same batch belong to it. A cursor or function key sequence that
 * readline has no binding for (F1..F12, Insert, Shift+arrows by default)
 * is dropped whole rather than typed into the line.
 */
#ifndef FL_UI_INPUT_H
#define FL_UI_INPUT_H

#include <curses.h>

#define UI_INPUT_OK          0
#define UI_INPUT_CANCEL      1
#define UI_INPUT_HISTORY_MAX 1000 /* lines kept in memory and in the file */

struct ui_input;

/*
 * Starts an input line. on_line(arg, line) is called with each line the
 * user accepts with Enter (line is valid during the call only: copy it);
 * it may call ui_input_clear() or ui_input_set_line() but not
 * ui_input_close(). Non-empty lines go to the history.
 *
 * history_path (may be NULL: no history) is read now; a missing file is
 * an empty history, and a missing directory is created (mode 0700). The
 * history is written back by ui_input_close(). The console passes
 * $XDG_STATE_HOME/frontline/history (paths_state_dir()).
 *
 * Returns NULL with *cause set (caller frees) when another input line is
 * open, when the history directory cannot be created or the history file
 * cannot be read; the caller may retry without history. Readline reads
 * the inputrc here: its complaints about a bad inputrc go to stderr, so
 * open the input line before initscr() if they should be seen.
 */
struct ui_input *ui_input_open(const char *history_path,
                               void (*on_line)(void *arg, const char *line), void *arg,
                               char **cause);

/*
 * Feeds one byte typed by the user (0..255; anything else is ignored).
 * Accepted lines are handed to on_line before this returns. Returns
 * UI_INPUT_CANCEL when the user asked to leave the input line (see the
 * top of this file), else UI_INPUT_OK. An ESC, or an escape sequence not
 * yet complete, is held until its next byte or ui_input_flush().
 */
int ui_input_key(struct ui_input *in, int byte);

/*
 * The end of a batch of bytes: a held lone ESC is Escape (returns
 * UI_INPUT_CANCEL); an escape sequence cut short is dropped.
 */
int ui_input_flush(struct ui_input *in);

/*
 * Draws the input line in row y of win from column x, w columns wide:
 * the prompt (sanitised; at most half the width), then the part of the
 * line around the cursor, scrolled horizontally when the line is longer
 * than the room left, all in attr. While readline shows a message of its
 * own (incremental search, a numeric argument) that replaces the prompt.
 * Characters are drawn through ui-draw (control characters in the line
 * show as their Control Pictures) and the cursor column is computed with
 * the same widths. Moves win's cursor to the cursor position and returns
 * its column; the console leaves it there (curs_set(1), leaveok FALSE)
 * when refreshing win last.
 */
int ui_input_draw(struct ui_input *in, WINDOW *win, int y, int x, int w, const char *prompt,
                  attr_t attr);

/* True when the line changed since the last ui_input_draw(). */
int ui_input_dirty(const struct ui_input *in);

/* Drops the current line and any half-typed key sequence or search. */
void ui_input_clear(struct ui_input *in);

/* Replaces the line with text (e.g. a draft to edit), cursor at its end. */
void ui_input_set_line(struct ui_input *in, const char *text);

/* The line as typed so far (valid until the next call into this module). */
const char *ui_input_line(const struct ui_input *in);

/* The cursor's byte offset in ui_input_line(). */
int ui_input_point(const struct ui_input *in);

/*
 * Ends the input line: appends this session's lines to the history file
 * (creating it with mode 0600, keeping the last UI_INPUT_HISTORY_MAX
 * lines) and frees in. Returns 0, or -1 with *cause set (caller frees)
 * when the history could not be written; in is freed either way.
 */
int ui_input_close(struct ui_input *in, char **cause);

#endif
