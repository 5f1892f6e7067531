/* check_ui_text.c -- sanitising (src/safe-text.c) and measuring (src/ui-text.c) untrusted text. */
#include "config.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "ui-text.h"
#include "util.h"

static void
utf8_locale(void)
{
	ck_assert_msg(setlocale(LC_ALL, "C.UTF-8") != NULL, "C.UTF-8 locale missing");
}

/*
 * What no sanitised text may contain: invalid UTF-8, a C0 control other
 * than '\n', DEL, or a C1 control (U+0080..U+009F encoded as C2 80..C2 9F).
 * Returns NULL when s is inert, or what is wrong.
 */
static const char *
not_inert(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x20 && p[i] != '\n')
			return "C0 control";
		if (p[i] == 0x7f)
			return "DEL";
		size_t l = utf8_seq_len(p + i, n - i);
		if (l == 0)
			return "invalid UTF-8";
		if (l == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f)
			return "C1 control";
		i += l;
	}
	return NULL;
}

static char *
san(const char *s)
{
	return text_sanitize(s, strlen(s));
}

/* Sanitising s gives want, and the result is inert. */
static void
expect_san(const char *s, const char *want)
{
	char *got = san(s);
	const char *why = not_inert(got);
	ck_assert_msg(why == NULL, "%s in output for input of %zu bytes", why, strlen(s));
	ck_assert_str_eq(got, want);
	free(got);
}

/* ------------------------------------------------------------ escapes */

START_TEST(escape_sequences_are_drawn_inert)
{
	/* CSI: clear screen, cursor home, cursor position, SGR colours. */
	expect_san("\x1b[2J\x1b[H", "␛[2J␛[H");
	expect_san("\x1b[10;10Hx", "␛[10;10Hx");
	expect_san("\x1b[31mred\x1b[0m", "␛[31mred␛[0m");
	/* OSC: window title with BEL and with ST, hyperlinks, clipboard. */
	expect_san("\x1b]0;pwned\x07", "␛]0;pwned␇");
	expect_san("\x1b]2;title\x1b\\", "␛]2;title␛\\");
	expect_san("\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
	           "␛]8;;http://evil.example/␛\\click␛]8;;␛\\");
	expect_san("\x1b]52;c;cm0gLXJmIH4K\x07", "␛]52;c;cm0gLXJmIH4K␇");
	/* DCS, APC, PM, SOS strings, ended by ST. */
	expect_san("\x1bP$qm\x1b\\", "␛P$qm␛\\");
	expect_san("\x1b_Gf=100;AAAA\x1b\\", "␛_Gf=100;AAAA␛\\");
	expect_san("\x1b^privacy\x1b\\", "␛^privacy␛\\");
	expect_san("\x1bXstring\x1b\\", "␛Xstring␛\\");
	/* Two-byte escapes: save cursor, full reset, keypad. */
	expect_san("\x1b"
	           "7\x1b"
	           "c\x1b=",
	           "␛7␛c␛=");
	/* 8-bit CSI as a raw byte is invalid UTF-8; as UTF-8 it is a C1 control. */
	expect_san("\x9b"
	           "31m",
	           "\xef\xbf\xbd"
	           "31m");
	expect_san("\xc2\x9b"
	           "2J",
	           "␛[2J");
	expect_san("\xc2\x9d"
	           "0;t\xc2\x9c",
	           "␛]0;t␛\\");
	expect_san("\xc2\x90q\xc2\x9c", "␛Pq␛\\");
	expect_san("a\xc2\x85"
	           "b",
	           "a␛Eb");
	/* Other C0 controls: backspace, bell, NUL, vertical tab, form feed; DEL. */
	expect_san("ab\bc", "ab␈c");
	expect_san("x\x07y\x0b\x0cz\x7f", "x␇y␋␌z␡");
	char nul[] = {'a', '\0', 'b'};
	char *got = text_sanitize(nul, sizeof nul);
	ck_assert_str_eq(got, "a␀b");
	free(got);
	got = text_sanitize(NULL, 0);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

START_TEST(line_breaks_tabs_and_carriage_returns)
{
	expect_san("one\ntwo", "one\ntwo");
	expect_san("one\r\ntwo\r\n", "one\ntwo\n");
	/* A lone CR cannot overwrite the start of the line: it breaks it. */
	expect_san("I am the bank\rOK", "I am the bank\nOK");
	expect_san("a\tb", "a b");
	expect_san("a\xe2\x80\xa8"
	           "b\xe2\x80\xa9"
	           "c",
	           "a\nb\nc");
}
END_TEST

START_TEST(invalid_utf8_becomes_replacement_characters)
{
	const char *R = "\xef\xbf\xbd";
	char want[64];
	/* Overlong '/', two and three bytes: the lead bytes cannot start a sequence. */
	snprintf(want, sizeof want, "%s%s", R, R);
	expect_san("\xc0\xaf", want);
	snprintf(want, sizeof want, "%s%s%s", R, R, R);
	expect_san("\xe0\x80\xaf", want);
	/* A surrogate (U+D800) encoded in UTF-8. */
	expect_san("\xed\xa0\x80", want);
	/* Past U+10FFFF: F4 90 and a lead byte F5. */
	snprintf(want, sizeof want, "%s%s%s%s", R, R, R, R);
	expect_san("\xf4\x90\x80\x80", want);
	snprintf(want, sizeof want, "%sx", R);
	expect_san("\xf5x", want);
	/* A truncated sequence is one replacement (its maximal subpart). */
	snprintf(want, sizeof want, "a%s", R);
	expect_san("a\xe2\x82", want);
	snprintf(want, sizeof want, "%sA", R);
	expect_san("\xe2\x82"
	           "A",
	           want);
	snprintf(want, sizeof want, "%s%s", R, R);
	expect_san("\xf0\x9f\x98\xf0\x9f", want);
	/* A stray continuation byte. */
	snprintf(want, sizeof want, "a%sb", R);
	expect_san("a\x80"
	           "b",
	           want);
	/* Valid sequences at the edges of each length pass through. */
	expect_san("\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbc\xf0\x90\x80\x80\xf4\x8f\xbf\xbd",
	           "\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbc\xf0\x90\x80\x80\xf4\x8f\xbf\xbd");
	/* Noncharacters. */
	snprintf(want, sizeof want, "%s%s%s", R, R, R);
	expect_san("\xef\xbf\xbe\xef\xb7\x90\xf4\x8f\xbf\xbf", want);
}
END_TEST

START_TEST(decode_reports_code_points_and_lengths)
{
	uint32_t cp;
	ck_assert_uint_eq(text_decode("A", 1, &cp), 1);
	ck_assert_uint_eq(cp, 'A');
	ck_assert_uint_eq(text_decode("\xc3\xa9", 2, &cp), 2);
	ck_assert_uint_eq(cp, 0xe9);
	ck_assert_uint_eq(text_decode("\xe6\x97\xa5", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x65e5);
	ck_assert_uint_eq(text_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x1f600);
	/* n limits the look-ahead: a sequence cut by n is invalid. */
	ck_assert_uint_eq(text_decode("\xf0\x9f\x98\x80", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0xfffd);
	char enc[4];
	for (uint32_t c = 1; c <= 0x10ffff; c += (c < 0x800 ? 1 : 61)) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		size_t l = text_encode(c, enc);
		ck_assert_uint_eq(text_decode(enc, l, &cp), l);
		ck_assert_uint_eq(cp, c);
	}
}
END_TEST

START_TEST(bidi_and_invisible_characters)
{
	/* Overrides, embeddings and isolates are made visible. */
	expect_san("user\xe2\x80\xae"
	           "gnp.exe",
	           "user\xef\xbf\xbd"
	           "gnp.exe");
	expect_san("\xe2\x81\xa6"
	           "a\xe2\x81\xa9",
	           "\xef\xbf\xbd"
	           "a\xef\xbf\xbd");
	expect_san("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x81\xa7\xe2\x81\xa8",
	           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Implicit marks, zero-width space, word joiner, BOM, soft hyphen: removed. */
	expect_san("a\xe2\x80\x8e"
	           "b\xe2\x80\x8f"
	           "c\xd8\x9c"
	           "d",
	           "abcd");
	expect_san("\xef\xbb\xbfpass\xe2\x80\x8bword\xe2\x81\xa0!\xc2\xad", "password!");
	/* Tag characters hiding "hi" after a visible word are flagged. */
	expect_san("ok\xf3\xa0\x81\xa8\xf3\xa0\x81\xa9", "ok\xef\xbf\xbd\xef\xbf\xbd");
	expect_san("\xe3\x85\xa4", "\xef\xbf\xbd"); /* Hangul filler */
	/* ZWJ emoji, variation selectors and combining marks are kept. */
	expect_san("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", "👨‍👩");
	expect_san("\xe2\x9d\xa4\xef\xb8\x8f", "❤️");
	expect_san("e\xcc\x81", "e\xcc\x81");
}
END_TEST

START_TEST(sanitising_is_idempotent_on_samples)
{
	const char *samples[] = {"\x1b[2J",
	                         "a\xc2\x9b"
	                         "b",
	                         "\xe2\x80\xaex",
	                         "x\r\ny\rz",
	                         "\xff\xfe",
	                         "plain text"};
	for (size_t i = 0; i < nitems(samples); i++) {
		char *once = san(samples[i]);
		char *twice = san(once);
		ck_assert_str_eq(once, twice);
		free(once);
		free(twice);
	}
}
END_TEST

/* ------------------------------------------------------------- widths */

START_TEST(widths_of_scripts_emoji_and_combining_marks)
{
	utf8_locale();
	ck_assert_int_eq(text_width(""), 0);
	ck_assert_int_eq(text_width("abc"), 3);
	ck_assert_int_eq(text_width("日本語"), 6);
	ck_assert_int_eq(text_width("한국어"), 6);
	ck_assert_int_eq(text_width("😀"), 2);
	ck_assert_int_eq(text_width("a😀b"), 4);
	ck_assert_int_eq(text_width("e\xcc\x81"), 1); /* e + combining acute */
	ck_assert_int_eq(text_width("a\xcc\x81\xcc\x82\xcc\x83"), 1);
	ck_assert_int_eq(text_width("❤️"), 1); /* VS16 counts 0 */
	ck_assert_int_eq(text_width("␛[2J"), 4);
	ck_assert_int_eq(text_width("\xef\xbf\xbd"), 1);
	ck_assert_int_eq(text_width("ｆｕｌｌ"), 8); /* fullwidth Latin */
	/* What sanitising leaves out never reaches here; if it does, one column each. */
	ck_assert_int_eq(text_width("a\nb"), 3);
	ck_assert_int_eq(text_width("\x1b"), 1);
	ck_assert_int_eq(text_width("\xcd\xb8"), 1);     /* U+0378, unassigned */
	ck_assert_int_eq(text_width("\xe2\x80\xae"), 1); /* drawn as U+FFFD */
	ck_assert_uint_eq(text_display_cp(0x1b), 0x241b);
	ck_assert_uint_eq(text_display_cp(0x9b), 0xfffd);
	ck_assert_uint_eq(text_display_cp(0x378), 0xfffd);
	ck_assert_uint_eq(text_display_cp(0x65e5), 0x65e5);
}
END_TEST

START_TEST(widths_in_a_single_byte_locale)
{
	ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
	ck_assert_int_eq(text_locale_utf8(), 0);
	/* Everything non-ASCII is drawn as '?', one column each. */
	ck_assert_int_eq(text_width("日本"), 2);
	ck_assert_int_eq(text_width("e\xcc\x81"), 2);
	ck_assert_uint_eq(text_display_cp(0x65e5), '?');
	ck_assert_uint_eq(text_display_cp(0x1b), '?');
	ck_assert_uint_eq(text_display_cp('a'), 'a');
}
END_TEST

START_TEST(fit_never_splits_a_character_or_a_cluster)
{
	int used;
	utf8_locale();
	ck_assert_uint_eq(text_fit("hello", 3, &used), 3);
	ck_assert_int_eq(used, 3);
	ck_assert_uint_eq(text_fit("hello", 10, &used), 5);
	ck_assert_int_eq(used, 5);
	ck_assert_uint_eq(text_fit("hello", 0, &used), 0);
	ck_assert_int_eq(used, 0);
	ck_assert_uint_eq(text_fit("hello", -4, &used), 0);
	/* A wide character that does not fit is left out whole. */
	ck_assert_uint_eq(text_fit("日本語", 3, &used), 3);
	ck_assert_int_eq(used, 2);
	ck_assert_uint_eq(text_fit("日本語", 4, &used), 6);
	ck_assert_int_eq(used, 4);
	ck_assert_uint_eq(text_fit("日本語", 1, &used), 0);
	ck_assert_int_eq(used, 0);
	ck_assert_uint_eq(text_fit("a日", 2, &used), 1);
	/* Combining marks stay with their base. */
	ck_assert_uint_eq(text_fit("e\xcc\x81x", 1, &used), 3);
	ck_assert_int_eq(used, 1);
	ck_assert_uint_eq(text_fit("ab\xcc\x81\xcc\x82", 1, &used), 1);
	ck_assert_uint_eq(text_fit("ab\xcc\x81\xcc\x82", 2, &used), 6);
	/* A ZWJ sequence is one cluster: all or nothing. */
	ck_assert_uint_eq(text_fit("👨‍👩x", 2, &used), 0);
	ck_assert_uint_eq(text_fit("👨‍👩x", 4, &used), strlen("👨‍👩"));
	/* Zero-width characters with no base take no room. */
	ck_assert_uint_eq(text_fit("\xcc\x81"
	                           "a",
	                           0, &used),
	                  2);
	ck_assert_int_eq(used, 0);
	ck_assert_uint_eq(text_fit("x", 1, NULL), 1);
}
END_TEST

/* -------------------------------------------------------------- wrap */

static void
expect_wrap(const char *text, int cols, const char *const *want, size_t nwant)
{
	struct strv lines = {0};
	text_wrap(text, cols, &lines);
	ck_assert_msg(lines.n == nwant, "'%s' at %d: %zu lines, want %zu", text, cols, lines.n,
	              nwant);
	for (size_t i = 0; i < nwant; i++)
		ck_assert_str_eq(lines.v[i], want[i]);
	strv_free(&lines);
}

#define WRAP(text, cols, ...)                                                                      \
	do {                                                                                       \
		const char *const w_[] = {__VA_ARGS__};                                            \
		expect_wrap(text, cols, w_, nitems(w_));                                           \
	} while (0)

START_TEST(wrap_examples)
{
	utf8_locale();
	WRAP("the quick brown fox", 10, "the quick", "brown fox");
	WRAP("the quick brown fox", 9, "the quick", "brown fox");
	WRAP("the quick brown fox", 8, "the", "quick", "brown", "fox");
	WRAP("the quick brown fox", 100, "the quick brown fox");
	WRAP("abcdefghij", 4, "abcd", "efgh", "ij");
	WRAP("go abcdefghij", 4, "go", "abcd", "efgh", "ij");
	WRAP("a\n\nb", 5, "a", "", "b");
	WRAP("a\n", 5, "a");
	WRAP("\n", 5, "");
	WRAP("a  b   c", 10, "a  b   c");
	WRAP("a  b   c", 4, "a  b", "c");
	WRAP("trailing   ", 20, "trailing");
	WRAP("   ", 20, "");
	WRAP("  indented code", 20, "  indented code");
	WRAP("  indented code", 10, "  indented", "code");
	WRAP("    abcdefgh", 4, "abcd", "efgh");
	WRAP("日本語のテキスト", 5, "日本", "語の", "テキ", "スト");
	WRAP("日本語", 1, "日", "本", "語");
	WRAP("e\xcc\x81"
	     "e\xcc\x81"
	     "e\xcc\x81",
	     2,
	     "e\xcc\x81"
	     "e\xcc\x81",
	     "e\xcc\x81");
	WRAP("say 😀😀😀", 5, "say", "😀😀", "😀");

	struct strv none = {0};
	text_wrap("anything", 0, &none);
	text_wrap("anything", -3, &none);
	text_wrap("", 10, &none);
	ck_assert_uint_eq(none.n, 0);
}
END_TEST

/* The non-space, non-newline characters of s, in order; caller frees. */
static char *
ink(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	for (; *s; s++)
		if (*s != ' ' && *s != '\n')
			buf_addc(&b, *s);
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
}

/*
 * The wrap invariants: each line at most cols wide (or a single cluster
 * wider than cols), and no ink lost, added or reordered.
 */
static void
check_wrap_invariants(const char *text, int cols)
{
	struct strv lines = {0};
	struct buf all;
	text_wrap(text, cols, &lines);
	buf_init(&all, 0);
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];
		int w = text_width(l), cw;
		if (w > cols) {
			size_t k = text_cluster(l, strlen(l), &cw);
			ck_assert_msg(k == strlen(l) && cw > cols,
			              "line '%s' is %d wide at %d columns", l, w, cols);
		}
		ck_assert_msg(strchr(l, '\n') == NULL, "line holds a newline");
		buf_adds(&all, l);
	}
	char *want = ink(text), *got = ink(all.data);
	ck_assert_msg(strcmp(want, got) == 0, "ink lost at %d columns: '%s' vs '%s'", cols, want,
	              got);
	free(want);
	free(got);
	buf_free(&all);
	strv_free(&lines);
}

static uint64_t
rng(uint64_t *s)
{
	/* xorshift64*: deterministic and good enough for test data. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

START_TEST(wrap_invariants_at_every_width)
{
	static const char *const pieces[] = {"a",
	                                     "word",
	                                     "supercalifragilistic",
	                                     " ",
	                                     "  ",
	                                     "\n",
	                                     "日本語",
	                                     "😀",
	                                     "e\xcc\x81",
	                                     "👨‍👩",
	                                     "❤️",
	                                     "␛[2J",
	                                     "\xef\xbf\xbd",
	                                     "x",
	                                     "longlonglonglonglonglonglonglong",
	                                     "한"};
	static const char *const fixed[] = {
	    "The quick brown fox jumps over the lazy dog.\nSecond paragraph here.",
	    "日本語のテキストと English words mixed 混在",
	    "a\xcc\x81\xcc\x82 b\xcc\x83 c\n\n\n  indented line with spaces   ", "😀😀😀 😀😀 tiny"};
	utf8_locale();
	for (size_t i = 0; i < nitems(fixed); i++)
		for (int cols = 1; cols <= 60; cols++)
			check_wrap_invariants(fixed[i], cols);

	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 400; round++) {
		struct buf b;
		buf_init(&b, 0);
		int n = (int)(rng(&seed) % 30);
		for (int i = 0; i < n; i++)
			buf_adds(&b, pieces[rng(&seed) % nitems(pieces)]);
		for (int cols = 1; cols <= 24; cols++)
			check_wrap_invariants(b.data, cols);
		buf_free(&b);
	}
}
END_TEST

/* --------------------------------------------------------------- fuzz */

START_TEST(fuzz_random_bytes_come_out_inert)
{
	uint64_t seed = 20240601;
	unsigned char in[300];
	utf8_locale();
	for (int round = 0; round < 20000; round++) {
		size_t n = rng(&seed) % sizeof in;
		/* Bias towards the interesting bytes: ESC, C1, lead bytes, ASCII. */
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rng(&seed);
			switch (r % 6) {
			case 0:
				in[i] = 0x1b;
				break;
			case 1:
				in[i] = (unsigned char)(0x80 + (r >> 8) % 0x20);
				break;
			case 2:
				in[i] = (unsigned char)(0xc0 + (r >> 8) % 0x40);
				break;
			case 3:
				in[i] = (unsigned char)(0x20 + (r >> 8) % 0x60);
				break;
			default:
				in[i] = (unsigned char)(r >> 8);
				break;
			}
		}
		char *out = text_sanitize((const char *)in, n);
		const char *why = not_inert(out);
		ck_assert_msg(why == NULL, "round %d: %s", round, why);
		char *again = text_sanitize(out, strlen(out));
		ck_assert_str_eq(again, out);
		/* Measuring and wrapping any of it keeps the invariants. */
		int cols = 1 + (int)(rng(&seed) % 30), used;
		size_t k = text_fit(out, cols, &used);
		ck_assert_int_le(used, cols);
		ck_assert_uint_le(k, strlen(out));
		ck_assert(not_inert(out) == NULL);
		check_wrap_invariants(out, cols);
		free(again);
		free(out);
	}
}
END_TEST

/* What was written to the temporary file f, which is closed; caller frees. */
static char *
written(FILE *f)
{
	long n = ftell(f);
	rewind(f);
	char *out = xcalloc((size_t)n + 1, 1);
	ck_assert_uint_eq(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

START_TEST(printf_makes_arguments_inert)
{
	/* An OSC title, a clear screen, a C1 CSI (UTF-8 and raw), a bidi override. */
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(text_printf(f, "agent: %s\n",
	                             "a\033]0;t\007b\033[2Jc\xc2\x9b"
	                             "1m\x9b d\xe2\x80\xae!"),
	                 0);
	char *out = written(f);
	ck_assert_ptr_null(not_inert(out));
	ck_assert_str_eq(out, "agent: a\xe2\x90\x9b]0;t\xe2\x90\x87"
	                      "b\xe2\x90\x9b[2Jc\xe2\x90\x9b[1m\xef\xbf\xbd d\xef\xbf\xbd!\n");
	free(out);
	/* Plain text and the format's own layout pass as they are. */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(text_printf(f, "%-8s|\n", "caf\xc3\xa9"), 0);
	out = written(f);
	ck_assert_str_eq(out, "caf\xc3\xa9   |\n"); /* printf pads bytes */
	free(out);
}
END_TEST

START_TEST(one_line_and_captured_reports)
{
	char *l = text_sanitize_line("two\nlines\r\n\033[0m");
	ck_assert_str_eq(l, "two lines \xe2\x90\x9b[0m");
	free(l);
	l = text_sanitize_line(NULL);
	ck_assert_str_eq(l, "");
	free(l);

	struct text_capture tc;
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	FILE *w = text_capture_begin(&tc);
	fprintf(w, "report\n");
	fputs("row \033]52;c;Zm9v\007\n", w);
	ck_assert_int_eq(text_capture_end(&tc, f), 0);
	char *out = written(f);
	ck_assert_str_eq(out, "report\nrow \xe2\x90\x9b]52;c;Zm9v\xe2\x90\x87\n");
	free(out);
}
END_TEST

START_TEST(suspect_characters_are_named)
{
	ck_assert_str_eq(text_cp_suspect(0x1b), "control character");
	ck_assert_str_eq(text_cp_suspect(0x7f), "control character");
	ck_assert_str_eq(text_cp_suspect(0x9b), "control character");
	ck_assert_str_eq(text_cp_suspect(0x202e), "bidi control");
	ck_assert_str_eq(text_cp_suspect(0x2066), "bidi control");
	ck_assert_str_eq(text_cp_suspect(0xe0041), "invisible character");
	/* What a person writes: tabs, line ends, letters, RTL marks, ZWJ emoji. */
	const uint32_t fine[] = {'\t', '\n', '\r', 'a', 0xe9, 0x05d0, 0x200f, 0x200d, 0x1f600};
	for (size_t i = 0; i < nitems(fine); i++)
		ck_assert_msg(text_cp_suspect(fine[i]) == NULL, "U+%04X", (unsigned)fine[i]);
}
END_TEST

static Suite *
ui_text_suite(void)
{
	Suite *s = suite_create("ui-text");
	TCase *tc = tcase_create("sanitize");
	tcase_add_test(tc, escape_sequences_are_drawn_inert);
	tcase_add_test(tc, line_breaks_tabs_and_carriage_returns);
	tcase_add_test(tc, invalid_utf8_becomes_replacement_characters);
	tcase_add_test(tc, decode_reports_code_points_and_lengths);
	tcase_add_test(tc, bidi_and_invisible_characters);
	tcase_add_test(tc, sanitising_is_idempotent_on_samples);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_test(tc, printf_makes_arguments_inert);
	tcase_add_test(tc, one_line_and_captured_reports);
	tcase_add_test(tc, suspect_characters_are_named);
	suite_add_tcase(s, tc);

	tc = tcase_create("measure");
	tcase_add_test(tc, widths_of_scripts_emoji_and_combining_marks);
	tcase_add_test(tc, widths_in_a_single_byte_locale);
	tcase_add_test(tc, fit_never_splits_a_character_or_a_cluster);
	tcase_add_test(tc, wrap_examples);
	tcase_add_test(tc, wrap_invariants_at_every_width);
	suite_add_tcase(s, tc);

	tc = tcase_create("fuzz");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fuzz_random_bytes_come_out_inert);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ui_text_suite());
}
