/* check_prefilter.c -- required literals of regular expressions. */
#include "config.h"

#include <regex.h>

#include "prefilter.h"
#include "testutil.h"

/* The literals of pattern, joined by '|', or "-" when it has none. */
static char *
lits(const char *pattern)
{
	struct strv sv = {0};
	if (prefilter_literals(pattern, &sv) != 0) {
		strv_free(&sv);
		return xstrdup("-");
	}
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < sv.n; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", sv.v[i]);
	strv_free(&sv);
	char *r = xstrdup(b.data);
	buf_free(&b);
	return r;
}

START_TEST(test_literals)
{
	static const struct {
		const char *pattern, *want;
	} cases[] = {
	    {"legal action", "legal action"},
	    {"\\b(lawyer|attorney)\\b", "lawyer|attorney"},
	    {"colou?r", "colour|color"},
	    {"charge ?back", "charge back|chargeback"},
	    {"x+yz", "yz"},
	    {"[abc]def", "def"},
	    {"Breach Of Contract", "breach of contract"},
	    {"data protection (authority|regulator)",
	     "data protection authority|data protection regulator"},
	    {"ab|", "-"},
	    {"a*", "-"},
	    {".*", "-"},
	    {"(foo|.*)", "-"},
	    {"\\bx\\.y\\b", "x.y"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		char *got = lits(cases[i].pattern);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s: got %s, want %s",
		              cases[i].pattern, got, cases[i].want);
		free(got);
	}
}
END_TEST

/* Whatever the filter says no to, the expression must not match either. */
START_TEST(test_filter_never_loses_a_match)
{
	static const char *const patterns[] = {"\\b(lawyer|attorney|solicitor|counsel)\\b",
	                                       "legal action",
	                                       "regulator|regulatory",
	                                       "colou?r me",
	                                       "[0-9]+ days",
	                                       "(did not|didn't|never) (authori[sz]e|make)"};
	static const char *const texts[] = {"i will call my lawyer",
	                                    "we take legal action",
	                                    "the regulator",
	                                    "color me blue",
	                                    "colour me",
	                                    "wait 30 days",
	                                    "i never authorise that",
	                                    "i didn't make it",
	                                    "nothing to see here",
	                                    "lawyers",
	                                    "an attorney's letter",
	                                    "",
	                                    "l",
	                                    "la"};
	struct strv src = {0};
	for (size_t i = 0; i < nitems(patterns); i++)
		strv_add(&src, patterns[i]);
	struct prefilter f;
	prefilter_init(&f, &src);
	ck_assert(!f.always);
	for (size_t i = 0; i < nitems(patterns); i++) {
		regex_t re;
		ck_assert_int_eq(regcomp(&re, patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB),
		                 0);
		for (size_t j = 0; j < nitems(texts); j++)
			if (regexec(&re, texts[j], 0, NULL, 0) == 0)
				ck_assert_msg(prefilter_may_match(&f, texts[j], strlen(texts[j])),
				              "filter refused '%s' which /%s/ matches", texts[j],
				              patterns[i]);
		regfree(&re);
	}
	ck_assert(!prefilter_may_match(&f, "nothing to see here", 19));
	prefilter_free(&f);
	strv_add(&src, "a.*");
	prefilter_init(&f, &src);
	/* "a.*" needs an 'a'. */
	ck_assert(!prefilter_may_match(&f, "zzz", 3));
	ck_assert(prefilter_may_match(&f, "xa", 2));
	prefilter_free(&f);
	strv_add(&src, ".*");
	prefilter_init(&f, &src);
	ck_assert(f.always);
	prefilter_free(&f);
	strv_free(&src);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("prefilter");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_literals);
	tcase_add_test(tc, test_filter_never_loses_a_match);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
