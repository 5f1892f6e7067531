/* check_dialogue.c -- dialogue acts: the shipped cue rules, reading and interpreting (src/dialogue.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dialogue.h"
#include "testutil.h"

static struct dialogue_rules *shipped;

static void
load_shipped(void)
{
	char *path = srcpath("data/triage/dialogue.rules");
	char *cause = NULL;
	shipped = dialogue_load(path, &cause);
	ck_assert_msg(shipped != NULL, "%s", cause ? cause : "?");
	free(path);
}

static void
free_shipped(void)
{
	dialogue_free(shipped);
	shipped = NULL;
}

/* The act of text read on its own. */
static void
ck_read_at(int line, const char *text, enum dialogue_act want)
{
	struct dialogue_reading r;
	dialogue_read(shipped, text, &r);
	ck_assert_msg(r.act == want, "line %d: '%s': read as %s (content %d, rest '%s'), expected %s",
	              line, text, dialogue_act_names[r.act], r.content, r.rest,
	              dialogue_act_names[want]);
}
#define ck_read(text, want) ck_read_at(__LINE__, text, want)

START_TEST(greetings_alone)
{
	ck_read("hi", ACT_GREETING);
	ck_read("Hello?", ACT_GREETING);
	ck_read("hey there!", ACT_GREETING);
	ck_read("Good morning", ACT_GREETING);
	ck_read("is anyone there?", ACT_GREETING);
	/* A greeting before a question is the question. */
	ck_read("hi, where is my order A12345?", ACT_QUESTION);
	ck_read("Hello, my camera keeps going offline", ACT_QUESTION);
}
END_TEST

START_TEST(thanks_and_closings)
{
	ck_read("thanks", ACT_THANKS);
	ck_read("Thank you so much!", ACT_THANKS);
	ck_read("great, thanks for sorting it so fast", ACT_THANKS);
	ck_read("perfect, that fixed it", ACT_THANKS);
	ck_read("ok thanks, bye", ACT_THANKS);
	ck_read("that's all, have a good day", ACT_THANKS);
	/* Thanks that go on to a problem, or a question, are not a closing. */
	ck_read("thanks, but it still doesn't work", ACT_QUESTION);
	ck_read("thanks! and how do I pair the motion sensor?", ACT_QUESTION);
	ck_read("not great, it broke again", ACT_QUESTION);
}
END_TEST

START_TEST(yes_and_no)
{
	ck_read("yes please", ACT_AFFIRM);
	ck_read("go ahead", ACT_AFFIRM);
	ck_read("ok", ACT_AFFIRM);
	ck_read("Yes please cancel it", ACT_AFFIRM); /* what is accepted, restated */
	ck_read("no thanks", ACT_DENY);
	ck_read("nope, that's ok", ACT_DENY);
	ck_read("never mind", ACT_DENY);
	/* "no" that goes on to say something is a question. */
	ck_read("no, my order still hasn't arrived and it was due monday", ACT_QUESTION);
	ck_read("yes, and can you also tell me the return window?", ACT_QUESTION);
}
END_TEST

START_TEST(bots_and_people)
{
	ck_read("am I chatting with a bot?", ACT_BOT_QUESTION);
	ck_read("Are you a real person", ACT_BOT_QUESTION);
	ck_read("is this automated or a human?", ACT_BOT_QUESTION);
	/* Asking about people is a question for the knowledge base. */
	ck_read("do you have people working at weekends?", ACT_HUMAN_QUESTION);
	ck_read("how long until a representative replies by email?", ACT_HUMAN_QUESTION);
}
END_TEST

START_TEST(questions)
{
	ck_read("How long does standard shipping take?", ACT_QUESTION);
	ck_read("I was charged twice for order A12345", ACT_QUESTION);
	ck_read("A12345", ACT_QUESTION); /* a bare detail is read in context */
	ck_read("", ACT_QUESTION);
	/* Long messages are questions whatever they open with. */
	char *big = xmalloc(4000);
	memset(big, 'a', 3999);
	memcpy(big, "thanks ", 7);
	big[3999] = '\0';
	ck_read(big, ACT_QUESTION);
	free(big);
}
END_TEST

START_TEST(own_order_cue)
{
	struct dialogue_reading r;
	dialogue_read(shipped, "my package still hasn't arrived", &r);
	ck_assert(r.cues & 1u << CUE_ORDER);
	dialogue_read(shipped, "how long does standard shipping take?", &r);
	ck_assert(!(r.cues & 1u << CUE_ORDER));
}
END_TEST

START_TEST(no_rules_reads_questions)
{
	struct dialogue_reading r;
	dialogue_read(NULL, "thanks", &r);
	ck_assert_int_eq(r.act, ACT_QUESTION);
}
END_TEST

/* ---------------------------------------------------------- in context */

static enum dialogue_act
interpret(const char *text, struct dialogue_context cx)
{
	struct dialogue_reading r;
	dialogue_read(shipped, text, &r);
	return dialogue_interpret(&r, &cx);
}

START_TEST(yes_accepts_what_was_offered)
{
	struct dialogue_context offer = {.offer_pending = 1,
	                                 .offer = "Shall I resend the confirmation for A12345?"};
	struct dialogue_context none = {0};
	ck_assert_int_eq(interpret("yes please", offer), ACT_AFFIRM);
	ck_assert_int_eq(interpret("yes, resend it", offer), ACT_AFFIRM);
	/* Words that are not the offer's: a request of its own. */
	ck_assert_int_eq(interpret("yes please cancel it", offer), ACT_QUESTION);
	ck_assert_int_eq(interpret("yes please cancel it", none), ACT_QUESTION);
	/* A bare yes to nothing stays a yes: the agent asks what else. */
	ck_assert_int_eq(interpret("yes", none), ACT_AFFIRM);
}
END_TEST

START_TEST(no_declines_the_offer)
{
	struct dialogue_context offer = {.offer_pending = 1, .offer = "a specialist"};
	struct dialogue_context none = {0};
	ck_assert_int_eq(interpret("no thanks", offer), ACT_DENY);
	ck_assert_int_eq(interpret("no thanks", none), ACT_DENY);
	ck_assert_int_eq(interpret("nah, not now", offer), ACT_DENY);
}
END_TEST

START_TEST(a_detail_resumes_the_question)
{
	struct dialogue_context waiting = {.awaiting_detail = 1, .detail_given = 1};
	ck_assert_int_eq(interpret("it's A12345", waiting), ACT_DETAIL);
	ck_assert_int_eq(interpret("sure, A12345", waiting), ACT_DETAIL);
	waiting.detail_given = 0;
	ck_assert_int_eq(interpret("I can't find it", waiting), ACT_QUESTION);
}
END_TEST

START_TEST(the_policy_decides_a_request_for_a_person)
{
	struct dialogue_context asked = {.human_requested = 1};
	ck_assert_int_eq(interpret("can I talk to a person", asked), ACT_HUMAN_REQUEST);
	ck_assert_int_eq(interpret("can I talk to a person", (struct dialogue_context){0}),
	                 ACT_HUMAN_QUESTION);
}
END_TEST

START_TEST(small_talk_is_out_of_scope)
{
	struct dialogue_context oos = {.out_of_scope = 1};
	ck_assert_int_eq(interpret("tell me a good banana bread recipe", oos), ACT_OUT_OF_SCOPE);
	/* A greeting stays a greeting. */
	ck_assert_int_eq(interpret("hello", oos), ACT_GREETING);
}
END_TEST

/* ---------------------------------------------------------------- loading */

START_TEST(load_errors_name_the_cue)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "d.rules", "greeting hello hi\nshout loud HEY\n");
	char *cause = NULL;
	ck_assert_ptr_null(dialogue_load(path, &cause));
	ck_assert_msg(strstr(cause, ":2: unknown cue 'shout'") != NULL, "%s", cause);
	free(cause);
	free(path);
	rm_rf(dir);
	free(dir);
	ck_assert_ptr_null(dialogue_load("/nonexistent/dialogue.rules", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/dialogue.rules"));
	free(cause);
}
END_TEST

static Suite *
dialogue_suite(void)
{
	Suite *s = suite_create("dialogue");
	TCase *tc = tcase_create("read");
	tcase_add_checked_fixture(tc, load_shipped, free_shipped);
	tcase_add_test(tc, greetings_alone);
	tcase_add_test(tc, thanks_and_closings);
	tcase_add_test(tc, yes_and_no);
	tcase_add_test(tc, bots_and_people);
	tcase_add_test(tc, questions);
	tcase_add_test(tc, own_order_cue);
	tcase_add_test(tc, no_rules_reads_questions);
	suite_add_tcase(s, tc);

	tc = tcase_create("context");
	tcase_add_checked_fixture(tc, load_shipped, free_shipped);
	tcase_add_test(tc, yes_accepts_what_was_offered);
	tcase_add_test(tc, no_declines_the_offer);
	tcase_add_test(tc, a_detail_resumes_the_question);
	tcase_add_test(tc, the_policy_decides_a_request_for_a_person);
	tcase_add_test(tc, small_talk_is_out_of_scope);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, load_errors_name_the_cue);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(dialogue_suite());
}
