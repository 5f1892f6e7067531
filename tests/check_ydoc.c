/* check_ydoc.c -- YAML with positions (src/ydoc.c): the limits hostile files meet. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "policy.h"
#include "testutil.h"
#include "ydoc.h"

/* Loads text as a document; returns ydoc_load's result, the document freed. */
static int
load(const char *text, struct diag *d)
{
	struct ydoc y;
	int rc = ydoc_load(&y, "t.yaml", text, strlen(text), 0, d);
	ydoc_free(&y);
	return rc;
}

/* pre, then n opening brackets, n closing ones, then post. Caller frees. */
static char *
brackets(const char *pre, size_t n, const char *post)
{
	size_t lp = strlen(pre), lq = strlen(post);
	char *s = xmalloc(lp + 2 * n + lq + 1);
	memcpy(s, pre, lp);
	memset(s + lp, '[', n);
	memset(s + lp + n, ']', n);
	memcpy(s + lp + 2 * n, post, lq + 1);
	return s;
}

START_TEST(nesting_up_to_the_limit_loads)
{
	struct diag d = {0};
	/* The root mapping is the first level. */
	char *s = brackets("a: ", YDOC_MAX_DEPTH - 1, "\n");
	ck_assert_int_eq(load(s, &d), 0);
	free(s);
	s = brackets("a: ", YDOC_MAX_DEPTH, "\n");
	ck_assert_int_eq(load(s, &d), -1);
	assert_diag(&d, "t.yaml:1:67: ", "nested deeper than 64 levels");
	free(s);
	diag_free(&d);
}
END_TEST

/* 100,000 nested brackets (200 KB) took a minute in policy check: now refused at once. */
START_TEST(a_hundred_thousand_brackets_are_refused_in_a_policy)
{
	struct diag d = {0};
	char *s = brackets("", 100000, "\n");
	ck_assert_ptr_null(policy_load_text("p.yaml", s, strlen(s), &d));
	assert_diag(&d, "p.yaml:1:65: ", "nested deeper than 64 levels");
	ck_assert_int_eq(d.errors, 1);
	free(s);
	diag_free(&d);
}
END_TEST

START_TEST(and_in_a_facts_front_matter)
{
	struct diag d = {0};
	struct kb_facts fs = {0};
	char *s =
	    brackets("---\nid: deep\ntitle: Deep\ntopic: returns\nupdated: 2026-01-01\nx: ", 100000,
	             "\n---\nA body.\n");
	ck_assert_int_eq(kb_parse_file("kb/deep.md", s, strlen(s), &fs, &d), -1);
	assert_diag(&d, "kb/deep.md:6:67: ", "nested deeper than 64 levels");
	ck_assert_uint_eq(fs.n, 0);
	kb_facts_free(&fs);
	free(s);
	diag_free(&d);
}
END_TEST

START_TEST(a_second_document_is_an_error)
{
	struct diag d = {0};
	ck_assert_int_eq(load("---\na: 1\n", &d), 0);
	ck_assert_int_eq(load("a: 1\n...\n", &d), 0);
	ck_assert_int_eq(d.errors, 0);
	ck_assert_int_eq(load("a: 1\n---\nb: 2\n", &d), -1);
	assert_diag(&d, "t.yaml:2:1: ", "a second YAML document");
	diag_free(&d);
	/* In a policy: the second document used to be dropped silently. */
	const char *pol = "content_guardrails:\n  prohibited_topics: [a]\n---\nrouting: []\n";
	ck_assert_ptr_null(policy_load_text("p.yaml", pol, strlen(pol), &d));
	assert_diag(&d, "p.yaml:3:1: ", "a second YAML document");
	diag_free(&d);
}
END_TEST

START_TEST(duplicate_keys_name_their_full_path)
{
	struct diag d = {0};
	const char *top = "content_guardrails:\n  prohibited_topics: [a]\n"
	                  "content_guardrails:\n  prohibited_topics: [b]\n";
	ck_assert_ptr_null(policy_load_text("p.yaml", top, strlen(top), &d));
	assert_diag(&d, "p.yaml:3:1: ", "duplicate key 'content_guardrails' (first at line 1)");
	diag_free(&d);
	const char *nested = "content_guardrails:\n  prohibited_topics: [a]\n"
	                     "  prohibited_topics: [b]\n";
	ck_assert_ptr_null(policy_load_text("p.yaml", nested, strlen(nested), &d));
	assert_diag(&d, "p.yaml:3:3: ",
	            "duplicate key 'content_guardrails.prohibited_topics' (first at line 2)");
	ck_assert_int_eq(d.errors, 1);
	diag_free(&d);
}
END_TEST

/* A mapping of 100,000 keys, every one twice: each repeat named once, in file order. */
START_TEST(duplicates_in_a_wide_mapping)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "content_guardrails:\n  topic_patterns:\n");
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "    k%d: [x]\n", i % 50000);
	struct diag d = {0};
	ck_assert_ptr_null(policy_load_text("p.yaml", b.data, b.len, &d));
	ck_assert_int_eq(d.errors, 50000);
	ck_assert_str_eq(d.msgs.v[0], "p.yaml:50003:5: duplicate key "
	                              "'content_guardrails.topic_patterns.k0' (first at line 3)");
	buf_free(&b);
	diag_free(&d);
}
END_TEST

START_TEST(aliases_are_bounded)
{
	struct diag d = {0};
	ck_assert_int_eq(load("a: &x [1, 2]\nb: *x\n", &d), 0);
	ck_assert_int_eq(d.errors, 0);
	/* A node that contains its own alias. */
	ck_assert_int_eq(load("a: &x\n  b: *x\n", &d), -1);
	assert_diag(&d, "t.yaml:2:6: ", "the alias *x is inside the node it refers to");
	diag_free(&d);
	/* "Billion laughs": ten aliases of ten aliases ... */
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i <= 6; i++) {
		buf_printf(&b, "a%d: &a%d [", i, i);
		for (int k = 0; k < 10; k++)
			buf_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
		buf_adds(&b, "]\n");
	}
	ck_assert_int_eq(load(b.data, &d), -1);
	assert_diag(&d, "t.yaml:6:", "aliases expand the document past 1000000 nodes");
	diag_free(&d);
	buf_reset(&b);
	for (int i = 0; i <= YDOC_MAX_ANCHORS; i++)
		buf_printf(&b, "k%d: &a%d v\n", i, i);
	ck_assert_int_eq(load(b.data, &d), -1);
	assert_diag(&d, "t.yaml:257:", "more than 256 anchors");
	buf_free(&b);
	diag_free(&d);
}
END_TEST

START_TEST(escapes_in_values_are_errors)
{
	struct diag d = {0};
	const char *pol = "content_guardrails:\n  prohibited_topics:\n"
	                  "    - \"politics \\e]0;pwned\\a\"\n    - \"bidi \\u202e\"\n"
	                  "    - \"tab\\tand\\nnewline are fine\"\n";
	ck_assert_ptr_null(policy_load_text("p.yaml", pol, strlen(pol), &d));
	assert_diag(
	    &d, "p.yaml:3:7: ",
	    "content_guardrails.prohibited_topics[0]: control character U+001B in the value");
	assert_diag(&d, "p.yaml:4:7: ",
	            "content_guardrails.prohibited_topics[1]: bidi control U+202E in the value");
	ck_assert_int_eq(d.errors, 2);
	diag_free(&d);
}
END_TEST

START_TEST(too_large_says_the_limit)
{
	char *dir = tmpdir_new();
	char *path = xasprintf("%s/big.yaml", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < (5 << 20) / 16; i++)
		fputs("# a comment ...\n", f);
	fclose(f);
	struct diag d = {0};
	ck_assert_ptr_null(policy_load(path, &d));
	assert_diag(&d, "big.yaml: ", "file too large: over the limit of 4 MiB");
	diag_free(&d);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

static Suite *
ydoc_suite(void)
{
	Suite *s = suite_create("ydoc");
	TCase *tc = tcase_create("limits");
	tcase_add_test(tc, nesting_up_to_the_limit_loads);
	tcase_add_test(tc, a_hundred_thousand_brackets_are_refused_in_a_policy);
	tcase_add_test(tc, and_in_a_facts_front_matter);
	tcase_add_test(tc, a_second_document_is_an_error);
	tcase_add_test(tc, duplicate_keys_name_their_full_path);
	tcase_add_test(tc, duplicates_in_a_wide_mapping);
	tcase_add_test(tc, aliases_are_bounded);
	tcase_add_test(tc, escapes_in_values_are_errors);
	tcase_add_test(tc, too_large_says_the_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(ydoc_suite());
}
