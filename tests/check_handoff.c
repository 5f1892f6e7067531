/* check_handoff.c -- the handoff packet: the 200-word limit, masking, what was tried. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "handoff.h"
#include "testutil.h"

/* A sentence of n words, "w0 w1 ..." after a prefix. */
static char *
words_of(const char *prefix, int n)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, prefix);
	for (int i = 0; i < n; i++)
		buf_printf(&b, " w%d", i);
	return b.data;
}

static const char *
str_at(const cJSON *a, int i)
{
	return cJSON_GetStringValue(cJSON_GetArrayItem(a, i));
}

START_TEST(a_long_conversation_fits_in_200_words)
{
	struct conversation c;
	struct triage_result t;
	memset(&t, 0, sizeof t);
	t.intent_confidence = 0.9;
	conversation_init(&c, "C-1003", TIER_STANDARD);
	/* Far more of everything than the packet has room for. */
	for (int i = 0; i < 8; i++)
		strv_take(&c.words, words_of("please help", 120));
	for (int i = 0; i < 12; i++) {
		char *w = words_of("", 30);
		strv_take(&c.tried, xasprintf("step-%02d%s", i, w));
		free(w);
	}
	for (int i = 0; i < 4; i++)
		strv_take(&c.facts, xasprintf("fact-%d|A title|%d|%d", i, 10 * i, i % 2));
	strv_add(&c.orders, "A12345");
	c.turn = 8;

	cJSON *h = handoff_build(&c, &t, "write-refused", "human-queue-standard");
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(h, "text"));
	ck_assert_ptr_nonnull(text);
	ck_assert_int_le(handoff_words(text), HANDOFF_MAX_WORDS);
	/* What is cut is the end, never who and what. */
	ck_assert_msg(strncmp(text, "- Customer: C-1003, standard tier, 8 messages", 45) == 0, "%s",
	              text);
	ck_assert_ptr_nonnull(strstr(text, "\n- Issue: \"please help w0"));
	ck_assert_ptr_nonnull(strstr(text, "\n- Latest: \"please help w0"));
	/* The customer's words, first and latest, at most 40 words each. */
	const cJSON *issue = cJSON_GetObjectItem(h, "issue");
	ck_assert_int_eq(cJSON_GetArraySize(issue), 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_le(handoff_words(str_at(issue, i)), 41);
		ck_assert_ptr_nonnull(strstr(str_at(issue, i), " ..."));
	}
	/* The latest five things tried, oldest first. */
	const cJSON *tried = cJSON_GetObjectItem(h, "tried");
	ck_assert_int_eq(cJSON_GetArraySize(tried), 5);
	ck_assert_int_eq(strncmp(str_at(tried, 0), "step-07", 7), 0);
	ck_assert_int_eq(strncmp(str_at(tried, 4), "step-11", 7), 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(h, "knowledge")), 3);
	cJSON_Delete(h);
	conversation_free(&c);
}
END_TEST

START_TEST(contacts_are_masked_and_the_next_step_follows_the_reason)
{
	struct conversation c;
	struct triage_result t;
	memset(&t, 0, sizeof t);
	conversation_init(&c, "C-1002", TIER_PREMIUM);
	strv_add(&c.words, "mail me at liam.backup@example.net or call 415-555-0188");
	strv_add(&c.tried, "apply_standard_credit {\"amount_usd\":10} refused: write tools are "
	                   "disabled by policy");
	c.turn = 1;
	cJSON *h = handoff_build(&c, &t, "write-refused", "human-queue-standard");
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(h, "text"));
	ck_assert_ptr_null(strstr(text, "liam.backup"));
	ck_assert_ptr_null(strstr(text, "555-0188"));
	ck_assert_ptr_nonnull(strstr(text, "@example.net"));
	ck_assert_ptr_nonnull(strstr(text, "0188"));
	ck_assert_ptr_nonnull(strstr(text, "- Tried: apply_standard_credit"));
	ck_assert_ptr_nonnull(
	    strstr(str_at(cJSON_GetObjectItem(h, "next_steps"), 0), "does not let the AI do"));
	cJSON_Delete(h);
	conversation_free(&c);
}
END_TEST

static Suite *
handoff_suite(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc = tcase_create("packet");
	tcase_add_test(tc, a_long_conversation_fits_in_200_words);
	tcase_add_test(tc, contacts_are_masked_and_the_next_step_follows_the_reason);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(handoff_suite());
}
