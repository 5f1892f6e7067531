/* check_answer_type.c -- the kind of value a question asks for and a text holds
 * (src/answer-type.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "answer-type.h"
#include "testutil.h"
#include "util.h"

static const struct {
	const char *question;
	unsigned want;
} asked_cases[] = {
    {"What email do I write to for support?", ANSWER_EMAIL},
    {"what's your support phone number?", ANSWER_PHONE},
    {"Which number do I call?", ANSWER_PHONE},
    {"What time does the shop close?", ANSWER_TIME},
    {"what are your opening hours", ANSWER_TIME},
    {"How long do I have to return it?", ANSWER_DURATION},
    {"how many days does delivery take", ANSWER_DURATION},
    {"How soon can it ship?", ANSWER_DURATION},
    {"How much is the yearly plan?", ANSWER_PRICE},
    {"what is the price of the lock", ANSWER_PRICE},
    {"When does the sale end?", ANSWER_DATE | ANSWER_TIME | ANSWER_DURATION},
    /* Asking about a thing, not for a value of that kind. */
    {"How do I change my email?", 0},
    {"I changed my phone number", 0},
    {"how many cameras can I add", 0},
    {"My time is valuable. What is the email?", ANSWER_EMAIL},
    {"what, the email?", 0}, /* a comma ends the question word's reach */
    {"", 0},
};

START_TEST(asked_reads_question_forms)
{
	const char *q = asked_cases[_i].question;
	unsigned got = answer_asked(q);
	ck_assert_msg(got == asked_cases[_i].want, "'%s': asks 0x%x, want 0x%x", q, got,
	              asked_cases[_i].want);
}
END_TEST

static const struct {
	const char *text;
	unsigned want;
} held_cases[] = {
    {"Write to help@shop.example; we answer within a day.", ANSWER_EMAIL},
    {"Call 1-800-555-0142 any day.", ANSWER_PHONE},
    {"Call (555) 010-4477.", ANSWER_PHONE},
    {"It costs $14.99.", ANSWER_PRICE},
    {"Refunds take 5-10 business days.", ANSWER_DURATION},
    {"a 30-day return window", ANSWER_DURATION},
    {"The link expires after 60 minutes.", ANSWER_DURATION},
    {"Open from 8 am to 10 pm.", ANSWER_TIME},
    {"Orders placed by 1pm ship today.", ANSWER_TIME},
    {"The doors open at 9:30.", ANSWER_TIME},
    {"The sale ends on November 26.", ANSWER_DATE},
    {"Closed on Sunday.", ANSWER_DATE},
    /* Numbers that are none of these. */
    {"Firmware 2.8.1 fixes it, dated 2026-11-24.", 0},
    {"up to 2 stages of heat", 0},
    {"Email us about it; the @ sign alone is no address: a@b", 0},
    {"Order 1234567890123 is a long number with a dollar $", ANSWER_PHONE},
    {"", 0},
};

START_TEST(held_finds_value_shapes)
{
	const char *t = held_cases[_i].text;
	unsigned got = answer_held(t);
	ck_assert_msg(got == held_cases[_i].want, "'%s': holds 0x%x, want 0x%x", t, got,
	              held_cases[_i].want);
}
END_TEST

START_TEST(cue_words_only_ask)
{
	struct strv cue = {0};
	ck_assert_uint_eq(answer_asked_cue("How long, and how much? How many days?", &cue),
	                  ANSWER_DURATION | ANSWER_PRICE);
	ck_assert_uint_eq(cue.n, 3);
	ck_assert_str_eq(cue.v[0], "long");
	ck_assert_str_eq(cue.v[1], "much");
	ck_assert_str_eq(cue.v[2], "many");
	strv_free(&cue);
	/* The nouns of "what email" say what the answer is about as well: they stay words. */
	ck_assert_uint_eq(answer_asked_cue("what email, and how many cameras?", &cue),
	                  ANSWER_EMAIL);
	ck_assert_uint_eq(cue.n, 0);
	strv_free(&cue);
}
END_TEST

START_TEST(odd_input_is_safe)
{
	/* Ends right after a digit, an '@', a '$', a ':' or a question word. */
	static const char *const odd[] = {"5",    "@",   "a@",       "$",    "1:",           "1:3",
	                                  "when", "how", "how many", "what", "1-800-555-01", "x@y.",
	                                  "1-",   "1) "};
	for (size_t i = 0; i < nitems(odd); i++) {
		(void)answer_asked(odd[i]);
		(void)answer_held(odd[i]);
	}
	ck_assert_uint_eq(answer_held("x@y."), 0);
	ck_assert_uint_eq(answer_held("1-800-555-01"), 0); /* nine digits */
}
END_TEST

static Suite *
answer_type_suite(void)
{
	Suite *s = suite_create("answer_type");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, asked_reads_question_forms, 0, (int)nitems(asked_cases));
	tcase_add_loop_test(tc, held_finds_value_shapes, 0, (int)nitems(held_cases));
	tcase_add_test(tc, cue_words_only_ask);
	tcase_add_test(tc, odd_input_is_safe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(answer_type_suite());
}
