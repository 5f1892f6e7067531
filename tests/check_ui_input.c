/* check_ui_input.c -- the readline input line inside ncurses (src/ui-input.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "ui-input.h"
#include "ui-text.h"
#include "uiterm.h"

static struct uiterm term;
static char *dir;       /* this test's temporary directory */
static char *history;   /* dir/state/frontline/history: the directory does not exist yet */
static struct strv got; /* lines handed to on_line */
static struct ui_input *in;

static void
on_line(void *arg, const char *line)
{
	ck_assert_ptr_eq(arg, &got);
	strv_add(&got, line);
}

static void
setup(void)
{
	dir = tmpdir_new();
	history = xasprintf("%s/state/frontline/history", dir);
	char *rc = tmpfile_with(dir, "inputrc", "");
	setenv("INPUTRC", rc, 1);
	free(rc);
	setenv("LC_ALL", "C.UTF-8", 1);
	uiterm_open(&term, "xterm-256color", 24, 80, 1);
	memset(&got, 0, sizeof got);
	in = NULL;
}

static void
teardown(void)
{
	if (in != NULL) {
		char *cause = NULL;
		ck_assert_msg(ui_input_close(in, &cause) == 0, "%s", cause);
	}
	strv_free(&got);
	uiterm_close(&term);
	rm_rf(dir);
	free(dir);
	free(history);
}

static struct ui_input *
open_input(const char *path)
{
	char *cause = NULL;
	struct ui_input *i = ui_input_open(path, on_line, &got, &cause);
	ck_assert_msg(i != NULL, "ui_input_open: %s", cause);
	return i;
}

static void
close_input(void)
{
	char *cause = NULL;
	ck_assert_msg(ui_input_close(in, &cause) == 0, "ui_input_close: %s", cause);
	in = NULL;
}

/* Feeds bytes as one batch; returns UI_INPUT_CANCEL if any byte or the flush did. */
static int
feed(const char *bytes)
{
	int rc = UI_INPUT_OK;
	for (const char *p = bytes; *p; p++)
		if (ui_input_key(in, (unsigned char)*p) == UI_INPUT_CANCEL)
			rc = UI_INPUT_CANCEL;
	if (ui_input_flush(in) == UI_INPUT_CANCEL)
		rc = UI_INPUT_CANCEL;
	return rc;
}

#define LEFT  "\x1b[D"
#define RIGHT "\x1b[C"
#define UP    "\x1b[A"
#define DOWN  "\x1b[B"

/* ------------------------------------------------------------- editing */

START_TEST(typing_and_enter)
{
	in = open_input(NULL);
	ck_assert_int_eq(feed("hello"), UI_INPUT_OK);
	ck_assert_str_eq(ui_input_line(in), "hello");
	ck_assert_int_eq(ui_input_point(in), 5);
	ck_assert_uint_eq(got.n, 0);
	ck_assert_int_eq(feed("\r"), UI_INPUT_OK);
	ck_assert_uint_eq(got.n, 1);
	ck_assert_str_eq(got.v[0], "hello");
	ck_assert_str_eq(ui_input_line(in), "");
	/* Enter as '\n' too, and two lines in one batch. */
	feed("a\nb\r");
	ck_assert_uint_eq(got.n, 3);
	ck_assert_str_eq(got.v[1], "a");
	ck_assert_str_eq(got.v[2], "b");
	/* Bytes outside 0..255 (KEY_RESIZE) are not readline's. */
	ck_assert_int_eq(ui_input_key(in, KEY_RESIZE), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, -1), UI_INPUT_OK);
	ck_assert_str_eq(ui_input_line(in), "");
}
END_TEST

START_TEST(emacs_keys_move_and_kill)
{
	in = open_input(NULL);
	feed("hello world");
	feed("\x01"); /* Ctrl-A */
	ck_assert_int_eq(ui_input_point(in), 0);
	feed("\x05"); /* Ctrl-E */
	ck_assert_int_eq(ui_input_point(in), 11);
	feed("\x01" RIGHT RIGHT RIGHT RIGHT RIGHT RIGHT);
	ck_assert_int_eq(ui_input_point(in), 6);
	feed("\x0b"); /* Ctrl-K */
	ck_assert_str_eq(ui_input_line(in), "hello ");
	feed("\x19"); /* Ctrl-Y yanks it back */
	ck_assert_str_eq(ui_input_line(in), "hello world");
	/* Alt-b arrives as ESC b in one batch: backward-word, not Escape. */
	ck_assert_int_eq(feed("\x1b"
	                      "b"),
	                 UI_INPUT_OK);
	ck_assert_int_eq(ui_input_point(in), 6);
}
END_TEST

START_TEST(arrow_keys_edit_in_the_middle)
{
	in = open_input(NULL);
	feed("abcd" LEFT LEFT "X");
	ck_assert_str_eq(ui_input_line(in), "abXcd");
	ck_assert_int_eq(ui_input_point(in), 3);
	/* The same key in application mode (SS3), and byte by byte across batches. */
	feed("\x1bOD");
	ck_assert_int_eq(ui_input_point(in), 2);
	ck_assert_int_eq(ui_input_key(in, 0x1b), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, '['), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, 'D'), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_flush(in), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_point(in), 1);
	feed("Y\x1b[3~"); /* insert, then Delete */
	ck_assert_str_eq(ui_input_line(in), "aYXcd");
	feed("\x1b[H"); /* Home */
	ck_assert_int_eq(ui_input_point(in), 0);
	feed("\x1b[F"); /* End */
	ck_assert_int_eq(ui_input_point(in), 5);
	/* Keys readline has no binding for do nothing (it would insert "~" for F5). */
	feed("\x1b[15~\x1bOP\x1b[2~\x1b[1;2A\x1b[Z");
	ck_assert_str_eq(ui_input_line(in), "aYXcd");
	ck_assert_int_eq(ui_input_point(in), 5);
	/* Split across batches, too. */
	ck_assert_int_eq(ui_input_key(in, 0x1b), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, '['), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, '1'), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, '5'), UI_INPUT_OK);
	ck_assert_int_eq(ui_input_key(in, '~'), UI_INPUT_OK);
	feed("!");
	ck_assert_str_eq(ui_input_line(in), "aYXcd!");
}
END_TEST

START_TEST(backspace_over_multibyte_characters)
{
	in = open_input(NULL);
	feed("añ日");
	ck_assert_str_eq(ui_input_line(in), "añ日");
	feed("\x7f");
	ck_assert_str_eq(ui_input_line(in), "añ");
	feed("\x7f");
	ck_assert_str_eq(ui_input_line(in), "a");
	feed("é日x" LEFT "\x08"); /* Ctrl-H, before the x */
	ck_assert_str_eq(ui_input_line(in), "aéx");
	ck_assert_int_eq(ui_input_point(in), 3);
	/* Bytes of one character arriving in separate batches. */
	feed("\xe6");
	feed("\x97");
	feed("\xa5");
	ck_assert_str_eq(ui_input_line(in), "aé日x");
}
END_TEST

START_TEST(escape_ctrl_c_and_ctrl_d_cancel)
{
	in = open_input(NULL);
	feed("draft");
	/* Escape alone leaves the line as it was; the console decides to clear it. */
	ck_assert_int_eq(feed("\x1b"), UI_INPUT_CANCEL);
	ck_assert_str_eq(ui_input_line(in), "draft");
	ck_assert_int_eq(feed("!"), UI_INPUT_OK);
	ck_assert_str_eq(ui_input_line(in), "draft!");
	ck_assert_int_eq(feed("\x1b\x1b"), UI_INPUT_CANCEL);
	ck_assert_int_eq(feed("\x03"), UI_INPUT_CANCEL);
	ck_assert_str_eq(ui_input_line(in), "draft!");
	/* Ctrl-D on a line with text deletes; it never sends the line. */
	feed("\x01\x04");
	ck_assert_str_eq(ui_input_line(in), "raft!");
	ck_assert_uint_eq(got.n, 0);
	ui_input_clear(in);
	ck_assert_str_eq(ui_input_line(in), "");
	ck_assert_int_eq(ui_input_point(in), 0);
	/* Ctrl-D on the empty line is a cancel, not a line. */
	ck_assert_int_eq(feed("\x04"), UI_INPUT_CANCEL);
	ck_assert_uint_eq(got.n, 0);
	/* The line works normally afterwards. */
	feed("next\r");
	ck_assert_uint_eq(got.n, 1);
	ck_assert_str_eq(got.v[0], "next");
}
END_TEST

START_TEST(clear_ends_a_key_sequence_or_a_search)
{
	in = open_input(NULL);
	feed("alpha\rbeta\r");
	/* Ctrl-X is a prefix key: clearing forgets it. */
	feed("abc\x18");
	ui_input_clear(in);
	feed("z");
	ck_assert_str_eq(ui_input_line(in), "z");
	/* Incremental search, abandoned with Escape and a clear. */
	ui_input_clear(in);
	feed("\x12"
	     "al");
	ck_assert_str_eq(ui_input_line(in), "alpha");
	ck_assert_int_eq(feed("\x1b"), UI_INPUT_CANCEL);
	ui_input_clear(in);
	feed("q\r");
	ck_assert_uint_eq(got.n, 3);
	ck_assert_str_eq(got.v[2], "q");
	/* A search accepted with Enter sends the line found. */
	feed("\x12"
	     "bet\r");
	ck_assert_uint_eq(got.n, 4);
	ck_assert_str_eq(got.v[3], "beta");
}
END_TEST

START_TEST(set_line_for_a_draft)
{
	in = open_input(NULL);
	feed("junk");
	ui_input_set_line(in, "Your refund is on its way.");
	ck_assert_str_eq(ui_input_line(in), "Your refund is on its way.");
	ck_assert_int_eq(ui_input_point(in), 26);
	feed("\x17"); /* Ctrl-W: the last word */
	ck_assert_str_eq(ui_input_line(in), "Your refund is on its ");
	feed("\r");
	ck_assert_str_eq(got.v[0], "Your refund is on its ");
}
END_TEST

START_TEST(only_one_input_line_at_a_time)
{
	char *cause = NULL;
	in = open_input(NULL);
	ck_assert_ptr_null(ui_input_open(NULL, on_line, &got, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert(strstr(cause, "already open") != NULL);
	free(cause);
	close_input();
	in = open_input(NULL);
	feed("again\r");
	ck_assert_str_eq(got.v[0], "again");
}
END_TEST

/* -------------------------------------------------------------- history */

START_TEST(up_arrow_recalls_history)
{
	in = open_input(NULL);
	feed("first\rsecond\r");
	feed(UP);
	ck_assert_str_eq(ui_input_line(in), "second");
	feed(UP);
	ck_assert_str_eq(ui_input_line(in), "first");
	feed(UP);
	ck_assert_str_eq(ui_input_line(in), "first");
	feed(DOWN);
	ck_assert_str_eq(ui_input_line(in), "second");
	feed("\r");
	ck_assert_uint_eq(got.n, 3);
	ck_assert_str_eq(got.v[2], "second");
	/* Empty lines are delivered but not remembered. */
	feed("\r" UP);
	ck_assert_str_eq(got.v[3], "");
	ck_assert_str_eq(ui_input_line(in), "second");
}
END_TEST

START_TEST(history_persists_across_sessions)
{
	struct stat st;
	in = open_input(history);
	/* The missing directory was created, private. */
	char *d = xasprintf("%s/state/frontline", dir);
	ck_assert_int_eq(stat(d, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	free(d);
	feed("one\rtwo\r");
	close_input();
	char *text = slurp(history);
	ck_assert_str_eq(text, "one\ntwo\n");
	free(text);
	ck_assert_int_eq(stat(history, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	/* Reloaded: Up recalls the last session's line; new lines are appended. */
	in = open_input(history);
	feed(UP);
	ck_assert_str_eq(ui_input_line(in), "two");
	ui_input_clear(in);
	feed("three\r");
	close_input();
	text = slurp(history);
	ck_assert_str_eq(text, "one\ntwo\nthree\n");
	free(text);

	/* A session that typed nothing leaves the file alone. */
	in = open_input(history);
	close_input();
	text = slurp(history);
	ck_assert_str_eq(text, "one\ntwo\nthree\n");
	free(text);
}
END_TEST

START_TEST(history_keeps_the_last_thousand)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1005; i++)
		buf_printf(&b, "old %d\n", i);
	char *sub = xasprintf("%s/state", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	free(sub);
	sub = xasprintf("%s/state/frontline", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	free(sub);
	spew(history, b.data);
	buf_free(&b);

	in = open_input(history);
	feed(UP);
	ck_assert_str_eq(ui_input_line(in), "old 1004");
	ui_input_clear(in);
	feed("new\r");
	close_input();
	char *text = slurp(history);
	int lines = 0;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, UI_INPUT_HISTORY_MAX);
	ck_assert(strncmp(text, "old 6\n", 6) == 0);
	ck_assert(str_endswith(text, "old 1004\nnew\n"));
	free(text);
}
END_TEST

START_TEST(unreadable_history_is_an_error)
{
	char *cause = NULL;
	/* A directory where the file should be. */
	char *p = xasprintf("%s/hist", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_ptr_null(ui_input_open(p, on_line, &got, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, p) != NULL, "%s", cause);
	free(cause);
	free(p);
	/* A parent that cannot be created. */
	cause = NULL;
	char *f = tmpfile_with(dir, "file", "x");
	p = xasprintf("%s/sub/history", f);
	ck_assert_ptr_null(ui_input_open(p, on_line, &got, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	free(p);
	free(f);
	/* Nothing was left open. */
	in = open_input(NULL);
}
END_TEST

START_TEST(inputrc_if_frontline_is_honoured)
{
	char *rc = tmpfile_with(dir, "inputrc.frontline",
	                        "$if frontline\n\"\\C-t\": \"canned reply\"\n"
	                        "\"\\e[3~\": beginning-of-line\n$endif\n"
	                        "$if otherapp\n\"\\C-u\": \"wrong\"\n$endif\n");
	setenv("INPUTRC", rc, 1);
	free(rc);
	in = open_input(NULL);
	feed("\x14");
	ck_assert_str_eq(ui_input_line(in), "canned reply");
	/* The user's binding for Delete wins over the one added for xterm. */
	feed("\x1b[3~");
	ck_assert_int_eq(ui_input_point(in), 0);
	ck_assert_str_eq(ui_input_line(in), "canned reply");
	/* Ctrl-Right, bound where the user left it free. */
	feed("\x1b[1;5C");
	ck_assert_int_eq(ui_input_point(in), 6);
	feed("\x15"); /* still unix-line-discard */
	ck_assert_str_eq(ui_input_line(in), " reply");
}
END_TEST

/* -------------------------------------------------------------- drawing */

static void
expect_row(int y, int x, int n, const char *want)
{
	char *row = uiterm_row(stdscr, y, x, n);
	ck_assert_str_eq(row, want);
	free(row);
}

START_TEST(draw_shows_prompt_text_and_cursor)
{
	in = open_input(NULL);
	ck_assert(ui_input_dirty(in));
	feed("héllo 日本");
	ck_assert(ui_input_dirty(in));
	mvwhline(stdscr, 23, 0, '.', 80);
	int cx = ui_input_draw(in, stdscr, 23, 5, 20, "> ", A_BOLD);
	ck_assert(!ui_input_dirty(in));
	ck_assert_int_eq(cx, 5 + 2 + 10);
	ck_assert_int_eq(getcurx(stdscr), cx);
	ck_assert_int_eq(getcury(stdscr), 23);
	expect_row(23, 0, 26, ".....> héllo 日本        .");
	attr_t a;
	uiterm_cell(stdscr, 23, 8, &a);
	ck_assert(a & A_BOLD);
	/* Before the wide characters. */
	feed(LEFT LEFT);
	ck_assert(ui_input_dirty(in));
	cx = ui_input_draw(in, stdscr, 23, 5, 20, "> ", A_NORMAL);
	ck_assert_int_eq(cx, 5 + 2 + 6);
	/* Control characters typed with Ctrl-V show as symbols, one column each. */
	ui_input_clear(in);
	feed("a\x16\x01"
	     "b");
	ck_assert_str_eq(ui_input_line(in), "a\x01"
	                                    "b");
	cx = ui_input_draw(in, stdscr, 23, 0, 20, "$ ", A_NORMAL);
	expect_row(23, 0, 6, "$ a␁b ");
	ck_assert_int_eq(cx, 5);
	/* An untrusted prompt cannot reach the terminal either. */
	ui_input_draw(in, stdscr, 23, 0, 20, "\x1b[31m>", A_NORMAL);
	expect_row(23, 0, 10, "␛[31m>a␁b ");
}
END_TEST

START_TEST(draw_shows_readline_messages)
{
	in = open_input(NULL);
	feed("alpha\r");
	feed("\x12"
	     "al");
	ui_input_draw(in, stdscr, 0, 0, 60, "> ", A_NORMAL);
	char *row = uiterm_row(stdscr, 0, 0, 60);
	ck_assert_msg(strstr(row, "reverse-i-search") != NULL && strstr(row, "alpha") != NULL,
	              "row '%s'", row);
	free(row);
	feed("\x07"); /* Ctrl-G ends the search */
	ui_input_draw(in, stdscr, 0, 0, 60, "> ", A_NORMAL);
	expect_row(0, 0, 4, ">   ");
}
END_TEST

/*
 * Row y was filled with dots before drawing n columns from column 0: the
 * drawing covered all of them and nothing past them.
 */
static void
expect_covered(int y, int n)
{
	char *row = uiterm_row(stdscr, y, 0, n);
	ck_assert_msg(strchr(row, '.') == NULL && text_width(row) == n, "row '%s'", row);
	free(row);
	ck_assert(uiterm_cell(stdscr, y, n, NULL) == L'.');
}

START_TEST(long_lines_scroll_to_keep_the_cursor_visible)
{
	struct buf b;
	in = open_input(NULL);
	buf_init(&b, 0);
	for (int i = 0; i < 60; i++)
		buf_addc(&b, (char)('a' + i % 26));
	feed(b.data);
	/* 18 columns for text after the prompt: the cursor stays inside, after the last letter. */
	int cx = ui_input_draw(in, stdscr, 2, 10, 20, "> ", A_NORMAL);
	ck_assert(cx >= 12 && cx <= 29);
	char *cell = uiterm_row(stdscr, 2, cx - 1, 1);
	ck_assert_str_eq(cell, "h"); /* the 60th letter */
	free(cell);
	expect_row(2, 10, 2, "> ");
	/* Home: the start of the line shows again. */
	feed("\x01");
	cx = ui_input_draw(in, stdscr, 2, 10, 20, "> ", A_NORMAL);
	ck_assert_int_eq(cx, 12);
	expect_row(2, 10, 20, "> abcdefghijklmnopqr");
	/* Walking right keeps the cursor in view at every step. */
	for (int i = 1; i <= 60; i++) {
		feed(RIGHT);
		cx = ui_input_draw(in, stdscr, 2, 10, 20, "> ", A_NORMAL);
		ck_assert_msg(cx >= 12 && cx <= 29, "step %d: cursor at %d", i, cx);
		if (i < 60) {
			char want[2] = {(char)('a' + i % 26), '\0'};
			char *c = uiterm_row(stdscr, 2, cx, 1);
			ck_assert_msg(strcmp(c, want) == 0, "step %d: '%s' under the cursor", i, c);
			free(c);
		}
	}
	buf_free(&b);

	/* Wide characters: no half characters at either edge, cursor in view. */
	ui_input_clear(in);
	for (int i = 0; i < 30; i++)
		feed("日");
	for (int i = 0; i <= 30; i++) {
		mvwhline(stdscr, 3, 0, '.', 80);
		cx = ui_input_draw(in, stdscr, 3, 0, 21, "> ", A_NORMAL);
		ck_assert_msg(cx >= 2 && cx <= 20, "cursor at %d", cx);
		expect_covered(3, 21);
		if (i > 0 && i < 30) {
			char *c = uiterm_row(stdscr, 3, cx, 2);
			ck_assert_str_eq(c, "日");
			free(c);
		}
		feed(LEFT);
	}
	ck_assert_int_eq(ui_input_point(in), 0);
	/* A tiny width still shows the cursor. */
	cx = ui_input_draw(in, stdscr, 4, 0, 1, "> ", A_NORMAL);
	ck_assert_int_eq(cx, 0);
}
END_TEST

static Suite *
ui_input_suite(void)
{
	Suite *s = suite_create("ui-input");
	TCase *tc = tcase_create("editing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, typing_and_enter);
	tcase_add_test(tc, emacs_keys_move_and_kill);
	tcase_add_test(tc, arrow_keys_edit_in_the_middle);
	tcase_add_test(tc, backspace_over_multibyte_characters);
	tcase_add_test(tc, escape_ctrl_c_and_ctrl_d_cancel);
	tcase_add_test(tc, clear_ends_a_key_sequence_or_a_search);
	tcase_add_test(tc, set_line_for_a_draft);
	tcase_add_test(tc, only_one_input_line_at_a_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("history");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, up_arrow_recalls_history);
	tcase_add_test(tc, history_persists_across_sessions);
	tcase_add_test(tc, history_keeps_the_last_thousand);
	tcase_add_test(tc, unreadable_history_is_an_error);
	tcase_add_test(tc, inputrc_if_frontline_is_honoured);
	suite_add_tcase(s, tc);

	tc = tcase_create("draw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, draw_shows_prompt_text_and_cursor);
	tcase_add_test(tc, draw_shows_readline_messages);
	tcase_add_test(tc, long_lines_scroll_to_keep_the_cursor_visible);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ui_input_suite());
}
