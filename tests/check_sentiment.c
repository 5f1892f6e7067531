/* check_sentiment.c -- the VADER port, profanity and hostile input. */
#include "config.h"

#include <math.h>

#include "sentiment.h"
#include "testutil.h"

static struct sentiment_lexicon *lex;

static void
setup(void)
{
	char *dir = srcpath("data/triage");
	char *cause = NULL;
	lex = sentiment_load(dir, &cause);
	ck_assert_msg(lex != NULL, "%s", cause ? cause : "?");
	free(dir);
}

static void
teardown(void)
{
	sentiment_free(lex);
	lex = NULL;
}

static struct sentiment_result
score(const char *text)
{
	struct sentiment_result r;
	sentiment_analyze(lex, text, strlen(text), &r);
	return r;
}

/* Results every input must satisfy, whatever its bytes. */
static void
assert_sane(const struct sentiment_result *r)
{
	ck_assert(isfinite(r->compound) && r->compound >= -1 && r->compound <= 1);
	ck_assert(isfinite(r->pos) && isfinite(r->neu) && isfinite(r->neg));
	ck_assert(r->pos >= 0 && r->neu >= 0 && r->neg >= 0);
	double sum = r->pos + r->neu + r->neg;
	ck_assert(sum == 0 || fabs(sum - 1) < 1e-9);
	ck_assert_int_ge(r->profanity, 0);
	ck_assert_int_ge(r->intensity, 0);
	ck_assert(r->label == SENT_FRUSTRATED || r->label == SENT_NEUTRAL ||
	          r->label == SENT_POSITIVE);
}

/* ---------------------------------------------------------------- VADER */

/* vaderSentiment.py's own examples with their published compound scores. */
static const struct {
	const char *text;
	double compound;
} vader_examples[] = {
    {"VADER is smart, handsome, and funny.", 0.8316},
    {"VADER is smart, handsome, and funny!", 0.8439},
    {"VADER is very smart, handsome, and funny.", 0.8545},
    {"VADER is VERY SMART, handsome, and FUNNY.", 0.9227},
    {"VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342},
    {"VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469},
    {"VADER is not smart, handsome, nor funny.", -0.7424},
    {"The book was good.", 0.4404},
    {"At least it isn't a horrible book.", 0.431},
    {"The book was only kind of good.", 0.3832},
    {"The plot was good, but the characters are uncompelling and the dialog is not great.",
     -0.7042},
    {"Today SUX!", -0.5461},
    {"Today only kinda sux! But I'll get by, lol", 0.5249},
    {"Make sure you :) or :D today!", 0.8633},
    {"Catch utf-8 emoji such as \U0001F498 and \U0001F48B and \U0001F601", 0.875},
    {"Not bad at all", 0.431},
    /* The "tricky sentences" of the same demo. */
    {"Sentiment analysis has never been good.", -0.3412},
    {"Sentiment analysis has never been this good!", 0.5672},
    {"Most automated sentiment analysis tools are shit.", -0.5574},
    {"With VADER, sentiment analysis is the shit!", 0.6476},
    {"Other sentiment analysis tools can be quite bad.", -0.5849},
    {"On the other hand, VADER is quite bad ass", 0.802},
    {"VADER is such a badass!", 0.4003},
    {"Without a doubt, excellent idea.", 0.7013},
    {"Roger Dodger is one of the most compelling variations on this theme.", 0.2944},
    {"Roger Dodger is at least compelling as a variation on the theme.", 0.2263},
    {"Roger Dodger is one of the least compelling variations on this theme.", -0.1695},
    {"Not such a badass after all.", -0.2584},
    {"Without a doubt, an excellent idea.", 0.7013},
};

START_TEST(test_vader_examples)
{
	const char *text = vader_examples[_i].text;
	struct sentiment_result r = score(text);
	assert_sane(&r);
	ck_assert_msg(fabs(r.compound - vader_examples[_i].compound) <= 0.01,
	              "'%s': compound %.4f, VADER gives %.4f", text, r.compound,
	              vader_examples[_i].compound);
}
END_TEST

START_TEST(test_vader_proportions)
{
	/* The published pos/neu/neg of the first example. */
	struct sentiment_result r = score("VADER is smart, handsome, and funny.");
	ck_assert_double_eq_tol(r.pos, 0.746, 0.001);
	ck_assert_double_eq_tol(r.neu, 0.254, 0.001);
	ck_assert_double_eq_tol(r.neg, 0.0, 0.001);
	r = score("Today only kinda sux! But I'll get by, lol");
	ck_assert_double_eq_tol(r.pos, 0.317, 0.001);
	ck_assert_double_eq_tol(r.neu, 0.556, 0.001);
	ck_assert_double_eq_tol(r.neg, 0.127, 0.001);
}
END_TEST

START_TEST(test_rules)
{
	/* Negation flips, "but" shifts the weight, caps only count in mixed case. */
	ck_assert(score("The delivery was good").compound > 0);
	ck_assert(score("The delivery was not good").compound < 0);
	ck_assert(score("The delivery wasn't good").compound < 0);
	ck_assert(score("The delivery was never good").compound < 0);
	ck_assert(score("Not bad at all").compound > 0);
	ck_assert(score("The app is great, but the delivery was terrible").compound < 0);
	ck_assert(score("The delivery was terrible, but the app is great").compound > 0);
	double plain = score("the app is good").compound;
	ck_assert_double_eq_tol(score("THE APP IS GOOD").compound, plain, 1e-12);
	ck_assert(score("the app is GOOD").compound > plain);
	ck_assert(score("the app is very good").compound > plain);
	ck_assert(score("the app is kind of good").compound < plain);
	ck_assert(score("the app is good!!").compound > plain);
	/* Case does not matter for the lexicon. */
	ck_assert_double_eq_tol(score("Terrible").compound, score("terrible").compound, 1e-12);
}
END_TEST

START_TEST(test_emoji)
{
	/* An emoji is scored through its description, even next to a word. */
	ck_assert(score("thanks \U0001F601").compound > score("thanks").compound);
	ck_assert(score("ok\U0001F620").compound < 0); /* angry face */
	ck_assert(score("\U0001F620\U0001F620").compound < 0);
	ck_assert(score("love it \u2764\ufe0f").compound > score("love it").compound);
	/* A truncated emoji at the very end is just bytes. */
	const char trunc[] = {'o', 'k', ' ', (char)0xf0, (char)0x9f, (char)0x98};
	struct sentiment_result r;
	sentiment_analyze(lex, trunc, sizeof trunc, &r);
	assert_sane(&r);
}
END_TEST

/* ---------------------------------------------------------------- support */

START_TEST(test_support_messages)
{
	struct sentiment_result r =
	    score("This is the third time I'm writing and it's STILL broken!!!");
	ck_assert_int_eq(r.label, SENT_FRUSTRATED);
	ck_assert_int_ge(r.intensity, 2); /* STILL and !!! */
	ck_assert_int_eq(score("Thanks so much, that fixed it").label, SENT_POSITIVE);
	r = score("Where is my order A12345?");
	ck_assert_int_eq(r.label, SENT_NEUTRAL);
	ck_assert_int_eq(r.profanity, 0);
	ck_assert_int_eq(score("I was charged twice and nobody answers. Terrible.").label,
	                 SENT_FRUSTRATED);
	ck_assert_int_eq(score("Great, the refund arrived. Thank you!").label, SENT_POSITIVE);
}
END_TEST

START_TEST(test_profanity)
{
	/* A mild or even positive message with profanity is frustrated. */
	struct sentiment_result r = score("Can you check my order, this is bullshit");
	ck_assert_int_eq(r.profanity, 1);
	ck_assert_int_eq(r.label, SENT_FRUSTRATED);
	r = score("ok thanks, the fucking app works now");
	ck_assert_int_eq(r.profanity, 1);
	ck_assert_int_eq(r.label, SENT_FRUSTRATED);
	/* Case-insensitive, next to punctuation, counted per occurrence. */
	ck_assert_int_eq(score("SHIT. shit! (Shit)").profanity, 3);
	/* Whole words only. */
	ck_assert_int_eq(score("The class assessment was passed; I assume Scunthorpe").profanity,
	                 0);
	ck_assert_int_eq(score("shitake mushrooms").profanity, 0);
	/* Phrases, matched longest first and across punctuation. */
	ck_assert_int_eq(score("it's a God damn mess").profanity, 1);
	ck_assert_int_eq(score("god, damn").profanity, 1);
	ck_assert_int_eq(score("god is great").profanity, 0);
	/* Contractions and possessives of a profane word. */
	ck_assert_int_eq(score("this shit's broken").profanity, 1);
	ck_assert_int_eq(score("I don't care, it's fine").profanity, 0);
	/* The same with an emoji in the text (scored on the original). */
	ck_assert_int_eq(score("\U0001F620 god damn it, this is bullshit \U0001F620").profanity, 2);
	/* The emoji entry. */
	ck_assert_int_eq(score("ok \U0001F595").profanity, 1);
	ck_assert_int_eq(score("ok\U0001F595\U0001F595").profanity, 2);
}
END_TEST

START_TEST(test_intensity)
{
	ck_assert_int_eq(score("where is my order").intensity, 0);
	ck_assert_int_eq(score("where is my order!!").intensity, 1);
	ck_assert_int_eq(score("where is my order!! now!!!").intensity, 2);
	ck_assert_int_eq(score("where is my ORDER").intensity, 1);
	ck_assert_int_eq(score("WHERE IS MY ORDER").intensity, 0);    /* not mixed case */
	ck_assert_int_eq(score("where is my order OK").intensity, 0); /* under 3 letters */
	ck_assert_int_eq(score("this is extremely slow").intensity, 1);
}
END_TEST

/* ---------------------------------------------------------------- input */

START_TEST(test_empty)
{
	struct sentiment_result r;
	sentiment_analyze(lex, "", 0, &r);
	assert_sane(&r);
	ck_assert_int_eq(r.label, SENT_NEUTRAL);
	ck_assert(r.compound == 0);
	sentiment_analyze(lex, NULL, 0, &r);
	assert_sane(&r);
	r = score(" \t\r\n  ");
	assert_sane(&r);
	ck_assert_int_eq(r.label, SENT_NEUTRAL);
	r = score("!!!???");
	assert_sane(&r);
	ck_assert_int_eq(r.label, SENT_NEUTRAL);
}
END_TEST

START_TEST(test_large)
{
	static const char *const words[] = {"good", "bad",  "not", "VERY",
	                                    "but",  "kind", "of",  "\xf0\x9f\x98\x81",
	                                    "shit", "the",  "!!",  "??"};
	size_t cap = 1 << 20, len = 0;
	char *text = xmalloc(cap);
	unsigned x = 1;
	while (len + 16 < cap) {
		x = x * 1103515245 + 12345;
		const char *w = words[(x >> 16) % nitems(words)];
		memcpy(text + len, w, strlen(w));
		len += strlen(w);
		text[len++] = ' ';
	}
	/* Exactly len bytes, no terminator: no reading past the end. */
	char *exact = xmalloc(len);
	memcpy(exact, text, len);
	struct sentiment_result r;
	sentiment_analyze(lex, exact, len, &r);
	assert_sane(&r);
	ck_assert_int_gt(r.profanity, 1000);

	/* One 1 MB token. */
	memset(exact, 'A', len);
	sentiment_analyze(lex, exact, len, &r);
	assert_sane(&r);
	ck_assert_int_eq(r.label, SENT_NEUTRAL);
	free(exact);
	free(text);
}
END_TEST

START_TEST(test_binary)
{
	/* Every byte value, in several orders, and invalid UTF-8. */
	unsigned char all[256 * 3];
	for (size_t i = 0; i < 256; i++) {
		all[i] = (unsigned char)i;
		all[256 + i] = (unsigned char)(255 - i);
		all[512 + i] = (unsigned char)((i * 37) & 0xff);
	}
	struct sentiment_result r;
	for (size_t off = 0; off < sizeof all; off += 7) {
		char *exact = xmalloc(sizeof all - off);
		memcpy(exact, all + off, sizeof all - off);
		sentiment_analyze(lex, exact, sizeof all - off, &r);
		assert_sane(&r);
		free(exact);
	}
	static const char *const bad[] = {
	    "\xc3",                  /* truncated */
	    "good \xe2\x9d",         /* truncated emoji prefix */
	    "\x80\x80\xbf good",     /* lone continuation bytes */
	    "\xc0\xaf \xe0\x80\xaf", /* overlong */
	    "\xf8\x88\x80\x80\x80 bad",
	    "\xed\xa0\x80 surrogate",
	    "\xf4\x90\x80\x80",
	    "\xff\xfe great \xfe\xff",
	    "\xc3\x89T\xc3\x89 GREAT \xc3\xa9t\xc3\xa9",
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		size_t len = strlen(bad[i]);
		char *exact = xmalloc(len);
		memcpy(exact, bad[i], len);
		sentiment_analyze(lex, exact, len, &r);
		assert_sane(&r);
		free(exact);
	}
	/* A NUL byte inside the text is just a byte. */
	sentiment_analyze(lex, "good\0bad", 8, &r);
	assert_sane(&r);
}
END_TEST

/* ---------------------------------------------------------------- loading */

static const char *const good_lexicon = "good\t1.9\t0.9\t[2, 2]\nbad\t-2.5\t0.7\t[-2, -3]\n";
static const char *const good_emoji = "\xf0\x9f\x98\x81\tbeaming face with smiling eyes\n";
static const char *const good_profanity = "# comment\n\nshit\ngod damn\n";

/* Loads a lexicon directory made of the three texts; returns the cause or NULL. */
static char *
load_cause(const char *vader, const char *emoji, const char *prof)
{
	char *dir = tmpdir_new();
	free(tmpfile_with(dir, "vader_lexicon.txt", vader));
	free(tmpfile_with(dir, "emoji_utf8_lexicon.txt", emoji));
	if (prof != NULL)
		free(tmpfile_with(dir, "profanity.txt", prof));
	char *cause = NULL;
	struct sentiment_lexicon *s = sentiment_load(dir, &cause);
	if (s != NULL) {
		ck_assert_ptr_null(cause);
		sentiment_free(s);
	} else
		ck_assert_ptr_nonnull(cause);
	rm_rf(dir);
	free(dir);
	return cause;
}

static void
assert_cause(char *cause, const char *file_line, const char *msg)
{
	ck_assert_msg(cause != NULL, "loaded; expected %s", file_line);
	ck_assert_msg(strstr(cause, file_line) != NULL && strstr(cause, msg) != NULL,
	              "cause '%s', expected '%s' and '%s'", cause, file_line, msg);
	free(cause);
}

START_TEST(test_load_errors)
{
	ck_assert_ptr_null(load_cause(good_lexicon, good_emoji, good_profanity));
	/* CRLF, blank lines and a repeated word are fine. */
	ck_assert_ptr_null(load_cause("good\t1.9\r\n\r\ngood\t2.0\r\n", good_emoji, "shit\r\n"));

	assert_cause(load_cause("good\t1.9\nbad -2.5\n", good_emoji, good_profanity),
	             "vader_lexicon.txt:2:", "valence");
	assert_cause(load_cause("good\t1.9\n\nbad\tvery\n", good_emoji, good_profanity),
	             "vader_lexicon.txt:3:", "bad valence 'very'");
	assert_cause(load_cause("good\t1.9x\n", good_emoji, good_profanity),
	             "vader_lexicon.txt:1:", "bad valence");
	assert_cause(load_cause("good\tnan\n", good_emoji, good_profanity),
	             "vader_lexicon.txt:1:", "bad valence");
	assert_cause(load_cause(good_lexicon, "\xf0\x9f\x98\x81 no tab\n", good_profanity),
	             "emoji_utf8_lexicon.txt:1:", "emoji");
	assert_cause(load_cause(good_lexicon, "ok\tfine\n\xff\xfe\tbroken\n", good_profanity),
	             "emoji_utf8_lexicon.txt:2:", "UTF-8");
	assert_cause(load_cause(good_lexicon, good_emoji, "# c\nshit\n!!!\n"),
	             "profanity.txt:3:", "no word");
	assert_cause(load_cause(good_lexicon, good_emoji, "a b c d e f g h i j\n"),
	             "profanity.txt:1:", "too many words");
	/* A missing file names itself. */
	assert_cause(load_cause(good_lexicon, good_emoji, NULL), "profanity.txt", "No such");
}
END_TEST

START_TEST(test_load_comments)
{
	/* '#' lines and blank lines of the profanity list are not entries. */
	char *dir = tmpdir_new();
	free(tmpfile_with(dir, "vader_lexicon.txt", good_lexicon));
	free(tmpfile_with(dir, "emoji_utf8_lexicon.txt", good_emoji));
	free(tmpfile_with(dir, "profanity.txt", "# heck\n\n   \nshit\n#darn\n"));
	char *cause = NULL;
	struct sentiment_lexicon *s = sentiment_load(dir, &cause);
	ck_assert_msg(s != NULL, "%s", cause ? cause : "?");
	struct sentiment_result r;
	sentiment_analyze(s, "heck darn", 9, &r);
	ck_assert_int_eq(r.profanity, 0);
	sentiment_analyze(s, "heck shit", 9, &r);
	ck_assert_int_eq(r.profanity, 1);
	/* Only the two lexicon words score. */
	sentiment_analyze(s, "good", 4, &r);
	ck_assert(r.compound > 0);
	sentiment_analyze(s, "great", 5, &r);
	ck_assert(r.compound == 0);
	sentiment_free(s);
	rm_rf(dir);
	free(dir);

	/* The shipped list starts with its source and licence as comments. */
	char *path = srcpath("data/triage/profanity.txt");
	char *text = slurp(path);
	ck_assert(text[0] == '#');
	free(text);
	free(path);
}
END_TEST

static Suite *
sentiment_suite(void)
{
	Suite *s = suite_create("sentiment");
	TCase *tc = tcase_create("vader");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_vader_examples, 0, (int)nitems(vader_examples));
	tcase_add_test(tc, test_vader_proportions);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_emoji);
	suite_add_tcase(s, tc);

	tc = tcase_create("support");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_support_messages);
	tcase_add_test(tc, test_profanity);
	tcase_add_test(tc, test_intensity);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_large);
	tcase_add_test(tc, test_binary);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_comments);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(sentiment_suite());
}
