/* check_pattern.c -- policy patterns: cues that cancel a match, words it needs near it. */
#include "config.h"

#include "pattern.h"
#include "testutil.h"

/* Adds the '\n'-separated expressions of list (may be NULL) to sv. */
static void
split(struct strv *sv, const char *list)
{
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "\n");
		strv_take(sv, xstrndup(p, n));
		p += n + (p[n] == '\n');
	}
}

/* One pattern from its parts; lists are '\n'-separated expressions, or NULL. */
static struct patset
one(const char *match, const char *unless, int unless_within, const char *near, int within,
    const char *anywhere)
{
	struct strv u = {0}, n = {0}, a = {0};
	split(&u, unless);
	split(&n, near);
	split(&a, anywhere);
	struct pattern_spec spec = {.match = match,
	                            .unless = &u,
	                            .unless_within = unless_within,
	                            .near = &n,
	                            .within = within,
	                            .unless_anywhere = &a};
	struct pattern p;
	char *cause = NULL;
	ck_assert_msg(pattern_compile(&p, &spec, &cause) == 0, "%s", cause);
	struct patset ps = {0};
	patset_add(&ps, &p, match);
	strv_free(&u);
	strv_free(&n);
	strv_free(&a);
	return ps;
}

static void
expect(const struct patset *ps, const char *text, int fires)
{
	ck_assert_msg((patset_match(ps, text) == 0) == fires, "'%s' should %sfire on: %s",
	              ps->src.v[0], fires ? "" : "not ", text);
}

START_TEST(plain_is_a_regular_expression_ignoring_case)
{
	struct patset ps = one("\\blawyers?\\b", NULL, 0, NULL, 0, NULL);
	ck_assert(ps.v[0].plain);
	expect(&ps, "I will call my LAWYER", 1);
	expect(&ps, "my lawyers will be in touch", 1);
	expect(&ps, "the lawyering business", 0);
	patset_free(&ps);
}
END_TEST

START_TEST(unless_cancels_a_match_just_before_it)
{
	struct patset ps = one("\\bhacked\\b", "\\b(not|nobody|never)\\b", 3, NULL, 0, NULL);
	ck_assert(!ps.v[0].plain);
	expect(&ps, "I think my account was hacked", 1);
	expect(&ps, "nobody hacked me, I just forgot my password", 0);
	expect(&ps, "I was not hacked", 0);
	/* "not" is the fifth word before. */
	expect(&ps, "I'm not sure it was ever hacked", 1);
	ps.v[0].unless_within = 5;
	expect(&ps, "I'm not sure it was ever hacked", 0);
	ps.v[0].unless_within = 3;
	expect(&ps, "not a single thing anyone could say except hacked", 1);
	/* A cue in another clause does not count. */
	expect(&ps, "I'm not sure, but I was hacked", 1);
	expect(&ps, "Not me. Someone hacked it", 1);
	expect(&ps, "not me; hacked", 1);
	/* A full stop inside a word or number is no clause end. */
	expect(&ps, "not 2.0 hacked", 0);
	/* Every match counts: the second one is not negated. */
	expect(&ps, "nobody hacked me then, but now they hacked it", 1);
	patset_free(&ps);
}
END_TEST

START_TEST(unless_window_ends_at_the_match)
{
	/* "$" in a cue means "just before the match": a name, not the verb. */
	struct patset ps =
	    one("\\b(sue|suing)\\b", "\\b(daughter|friend|named) *$", 3, NULL, 0, NULL);
	expect(&ps, "my daughter Sue ordered the camera", 0);
	expect(&ps, "a woman named Sue called", 0);
	expect(&ps, "my daughter wants to sue you", 1);
	expect(&ps, "I will sue", 1);
	patset_free(&ps);
}
END_TEST

START_TEST(near_needs_every_expression_within_the_window)
{
	struct patset ps = one("\\bchanged my (email|password)\\b", "\\bi *$", 3,
	                       "\\b(can't|cannot|unable to) (get|log|sign) ?in", 6, NULL);
	expect(&ps, "someone changed my email and now I can't get in", 1);
	expect(&ps, "I can't log in since somebody changed my password", 1);
	/* Proximity crosses sentences. */
	expect(&ps, "Somebody changed my email. Now I cannot sign in.", 1);
	/* Too far apart. */
	expect(&ps,
	       "someone changed my email last year and since then everything is fine "
	       "except today I can't get in",
	       0);
	/* Nothing near at all; or the customer did it. */
	expect(&ps, "someone changed my email", 0);
	expect(&ps, "I changed my email and now I can't get in", 0);
	patset_free(&ps);

	/* Two near expressions: both must be there. The match itself is no neighbour. */
	ps = one("\\bcode\\b", NULL, 0, "\\bnever\\b\ncode", 4, NULL);
	expect(&ps, "a code I never asked for", 0);
	expect(&ps, "a code, a code I never asked for", 1);
	patset_free(&ps);
}
END_TEST

START_TEST(near_may_keep_to_the_sentence)
{
	struct patset ps = one("\\btoday\\b", NULL, 0, "\\bwill\\b", 10, NULL);
	expect(&ps, "We will reply. Anything else today?", 1);
	ps.v[0].same_sentence = 1;
	expect(&ps, "We will reply. Anything else today?", 0);
	expect(&ps, "It will ship today.", 1);
	/* A comma ends no sentence; a decimal point neither. */
	expect(&ps, "It will, for $6.49, ship today.", 1);
	patset_free(&ps);
}
END_TEST

START_TEST(match_may_heed_case)
{
	struct pattern_spec spec = {.match = "\\b(s(ue|ued)|SUE)\\b", .match_case = 1};
	struct pattern p;
	char *cause = NULL;
	ck_assert_int_eq(pattern_compile(&p, &spec, &cause), 0);
	struct patset ps = {0};
	patset_add(&ps, &p, spec.match);
	expect(&ps, "I will sue", 1);
	expect(&ps, "I WILL SUE", 1);
	expect(&ps, "Thanks, Sue", 0);
	patset_free(&ps);
}
END_TEST

START_TEST(unless_anywhere_cancels_the_whole_text)
{
	struct patset ps = one("\\bsign-in alert\\b", NULL, 0, NULL, 0, "\\bit was me\\b");
	expect(&ps, "I got a sign-in alert from Berlin", 1);
	expect(&ps, "I got a sign-in alert, but it was me on my new phone", 0);
	patset_free(&ps);
}
END_TEST

START_TEST(curly_apostrophes_read_as_straight)
{
	struct patset ps = one("\\bsue\\b", "\\b(don't|won't) *$", 3, NULL, 0, NULL);
	expect(&ps, "I won\xe2\x80\x99t sue", 0);
	expect(&ps, "I don\xe2\x80\x98t sue", 0);
	expect(&ps, "I\xe2\x80\x99ll sue", 1);
	patset_free(&ps);
}
END_TEST

START_TEST(empty_matches_and_odd_text_end)
{
	struct patset ps = one("x*", "y", 2, NULL, 0, NULL);
	expect(&ps, "", 1);
	expect(&ps, "y", 1); /* the empty match at 0 has nothing before it */
	patset_free(&ps);
	ps = one("\\bhacked\\b", "\\bnot\\b", 3, "account", 2, NULL);
	expect(&ps, "hacked", 0);
	expect(&ps, "account hacked", 1);
	expect(&ps, "account not hacked", 0);
	expect(&ps, ",,,hacked...account", 1);
	patset_free(&ps);
}
END_TEST

START_TEST(any_text_is_safe)
{
	/* Random bytes, edge punctuation and long texts through every kind of window. */
	struct patset ps = one("\\b(a|b)", "(x|y) *$\n^", 5, "b\nc$", 7, "zzz");
	ps.v[0].same_sentence = 1;
	size_t n = 1 << 16;
	char *t = xmalloc(n + 1);
	srand(15);
	for (int round = 0; round < 20; round++) {
		for (size_t k = 0; k < n; k++)
			t[k] = (char)(rand() % 255 + 1);
		t[n] = '\0';
		(void)patset_match(&ps, t);
	}
	static const char *const edges[] = {"",
	                                    ".",
	                                    ",a",
	                                    "a.",
	                                    "a\xe2\x80",
	                                    "\xe2\x80\x99"
	                                    "a b",
	                                    "b a",
	                                    "a,b.c",
	                                    "...a...b...",
	                                    "\n\na\n\nb\n"};
	for (size_t i = 0; i < nitems(edges); i++)
		(void)patset_match(&ps, edges[i]);
	memset(t, 'a', n);
	(void)patset_match(&ps, t);
	free(t);
	patset_free(&ps);
}
END_TEST

START_TEST(bad_expressions_are_refused)
{
	struct strv u = {0};
	strv_add(&u, "(unclosed");
	struct pattern_spec spec = {.match = "fine", .unless = &u};
	struct pattern p;
	char *cause = NULL;
	ck_assert_int_eq(pattern_compile(&p, &spec, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "(unclosed"));
	free(cause);
	spec = (struct pattern_spec){.match = "[z-a]"};
	cause = NULL;
	ck_assert_int_eq(pattern_compile(&p, &spec, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "[z-a]"));
	free(cause);
	strv_free(&u);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pattern");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, plain_is_a_regular_expression_ignoring_case);
	tcase_add_test(tc, unless_cancels_a_match_just_before_it);
	tcase_add_test(tc, unless_window_ends_at_the_match);
	tcase_add_test(tc, near_needs_every_expression_within_the_window);
	tcase_add_test(tc, near_may_keep_to_the_sentence);
	tcase_add_test(tc, match_may_heed_case);
	tcase_add_test(tc, unless_anywhere_cancels_the_whole_text);
	tcase_add_test(tc, curly_apostrophes_read_as_straight);
	tcase_add_test(tc, empty_matches_and_odd_text_end);
	tcase_add_test(tc, any_text_is_safe);
	tcase_add_test(tc, bad_expressions_are_refused);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
