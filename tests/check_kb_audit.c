/* check_kb_audit.c -- knowledge base health: invalid, duplicate, conflict, stale, missing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kb-audit.h"
#include "testutil.h"

static const struct kb_freshness fr = {
    .today = 20781, /* 2026-11-24 */
    .stale_after_days = 90,
    .volatile_topics = 1u << TOPIC_PRICING | 1u << TOPIC_POLICY | 1u << TOPIC_PRODUCT,
};

static void
audit_ok(const char *dir, struct kb_audit *a)
{
	char *cause = NULL;
	ck_assert_msg(kb_audit_run(dir, &fr, a, &cause) == 0, "%s: %s", dir, cause ? cause : "?");
}

/* The findings of one kind, joined by newlines; caller frees. */
static char *
findings(const struct kb_audit *a, enum audit_kind kind)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind == kind)
			buf_printf(&b, "%s\n", a->v[i].message);
	return b.data; /* the caller owns it */
}

/* The one finding of kind that contains every string given. */
static const char *
finding(const struct kb_audit *a, enum audit_kind kind, const char *s1, const char *s2,
        const char *s3)
{
	for (size_t i = 0; i < a->n; i++) {
		const char *m = a->v[i].message;
		if (a->v[i].kind == kind && strstr(m, s1) && (!s2 || strstr(m, s2)) &&
		    (!s3 || strstr(m, s3)))
			return m;
	}
	return NULL;
}

#define assert_finding(a, kind, s1, s2, s3)                                                        \
	do {                                                                                       \
		if (finding((a), (kind), (s1), (s2), (s3)) == NULL) {                              \
			char *all_ = findings((a), (kind));                                        \
			ck_abort_msg("no %s finding with '%s' in:\n%s", audit_kind_names[kind],    \
			             (s1), all_);                                                  \
			free(all_);                                                                \
		}                                                                                  \
	} while (0)

/* ---------------------------------------------------------- fixtures */

static struct kb_audit fx;

static void
fx_setup(void)
{
	char *dir = srcpath("tests/data/kb-audit");
	audit_ok(dir, &fx);
	free(dir);
}

static void
fx_teardown(void)
{
	kb_audit_free(&fx);
}

START_TEST(fixture_counts)
{
	ck_assert_uint_eq(fx.nfacts, 12);
	ck_assert_uint_eq(fx.counts[AUDIT_INVALID], 1);
	ck_assert_uint_eq(fx.counts[AUDIT_DUPLICATE], 1);
	ck_assert_uint_eq(fx.counts[AUDIT_CONFLICT], 1);
	ck_assert_uint_eq(fx.counts[AUDIT_STALE], 1);
	ck_assert_uint_eq(fx.counts[AUDIT_MISSING], 1);
	ck_assert_uint_eq(fx.n, 5);
}
END_TEST

START_TEST(finds_an_invalid_file)
{
	assert_finding(&fx, AUDIT_INVALID,
	               "kb-audit/general/legal-notice.md:4:8: ", "'legal' is not one of", NULL);
}
END_TEST

START_TEST(finds_a_duplicate_id_with_both_locations)
{
	assert_finding(&fx, AUDIT_DUPLICATE, "duplicate id 'returns-restocking'",
	               "kb-audit/returns/restocking.md:10",
	               "kb-audit/returns/restocking-defective.md:10");
	/* The message starts with one of the two locations. */
	const char *m = finding(&fx, AUDIT_DUPLICATE, "returns-restocking", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(m, "restocking"));
	ck_assert(strstr(m, ".md:10: duplicate id") != NULL);
}
END_TEST

START_TEST(finds_conflicting_figures)
{
	assert_finding(&fx, AUDIT_CONFLICT, "shipping-express-estimate", "shipping-express-time",
	               NULL);
	const char *m = finding(&fx, AUDIT_CONFLICT, "shipping-express", NULL, NULL);
	ck_assert_msg(strstr(m, "4 business-day") && strstr(m, "2 business-day"), "%s", m);
	ck_assert_msg(strstr(m, "express-estimate.md:10") && strstr(m, "express-time.md:10"), "%s",
	              m);
	/* Unrelated figures on one topic ($5 gift wrap, $49 free shipping), figures for
	 * different products (battery months), and sections of one file are no conflict. */
	ck_assert_ptr_null(finding(&fx, AUDIT_CONFLICT, "gift-wrap", NULL, NULL));
	ck_assert_ptr_null(finding(&fx, AUDIT_CONFLICT, "free-threshold", NULL, NULL));
	ck_assert_ptr_null(finding(&fx, AUDIT_CONFLICT, "battery", NULL, NULL));
	ck_assert_ptr_null(finding(&fx, AUDIT_CONFLICT, "protect-history", NULL, NULL));
}
END_TEST

START_TEST(finds_a_stale_fact)
{
	assert_finding(&fx, AUDIT_STALE,
	               "kb-audit/pricing/hub-price.md:10: stale: pricing-hub-price",
	               "2026-03-01, 268 days ago, over 90", NULL);
	/* Old but evergreen and not on a volatile topic: not stale. */
	ck_assert_ptr_null(finding(&fx, AUDIT_STALE, "battery", NULL, NULL));
}
END_TEST

START_TEST(finds_missing_metadata)
{
	assert_finding(&fx, AUDIT_MISSING, "kb-audit/general/languages.md:7: ",
	               "general-languages has no product version volatile", NULL);
}
END_TEST

/* ------------------------------------------------- conflict detection */

struct fact_spec {
	const char *file, *id, *topic, *product, *body;
};

/* Audits a temporary KB of the given facts; returns the number of conflicts. */
static size_t
conflicts_of(const struct fact_spec *fs, size_t n, char **messages)
{
	char *tmp = tmpdir_new();
	for (size_t i = 0; i < n; i++) {
		char *text =
		    xasprintf("---\nid: %s\ntitle: Fact %zu\ntopic: %s\nproduct: %s\n"
		              "updated: 2026-11-20\nversion: 1\nvolatile: false\n---\n%s\n",
		              fs[i].id, i, fs[i].topic, fs[i].product, fs[i].body);
		free(tmpfile_with(tmp, fs[i].file, text));
		free(text);
	}
	struct kb_audit a;
	audit_ok(tmp, &a);
	ck_assert_uint_eq(a.counts[AUDIT_INVALID], 0);
	size_t c = a.counts[AUDIT_CONFLICT];
	if (messages)
		*messages = findings(&a, AUDIT_CONFLICT);
	kb_audit_free(&a);
	rm_rf(tmp);
	free(tmp);
	return c;
}

START_TEST(conflict_needs_same_thing_same_unit_different_value)
{
	struct fact_spec pair[] = {
	    {"a.md", "plan-price-a", "pricing", "all", "Acme Protect Plus costs $9.99 per month."},
	    {"b.md", "plan-price-b", "pricing", "all", "Acme Protect Plus costs $12.99 per month."},
	};
	char *msg = NULL;
	ck_assert_uint_eq(conflicts_of(pair, 2, &msg), 1);
	ck_assert_msg(strstr(msg, "9.99 usd") && strstr(msg, "12.99 usd"), "%s", msg);
	free(msg);

	/* The same figure is no conflict. */
	pair[1].body = "Acme Protect Plus costs $9.99 per month, billed monthly.";
	ck_assert_uint_eq(conflicts_of(pair, 2, NULL), 0);

	/* A discount is not a price. */
	pair[1].body = "Acme Protect Plus is $2 off per month for students.";
	ck_assert_uint_eq(conflicts_of(pair, 2, NULL), 0);

	/* Other topics are not compared. */
	pair[1].body = "Acme Protect Plus costs $12.99 per month.";
	pair[1].topic = "billing";
	ck_assert_uint_eq(conflicts_of(pair, 2, NULL), 0);

	/* Different products are not compared; "all" is compared with every product. */
	pair[1].topic = "pricing";
	pair[0].product = "acme-protect-plus";
	pair[1].product = "acme-protect-plus-annual";
	ck_assert_uint_eq(conflicts_of(pair, 2, NULL), 0);
	pair[1].product = "all";
	ck_assert_uint_eq(conflicts_of(pair, 2, NULL), 1);

	/* Unrelated figures of one kind on one topic. */
	struct fact_spec unrelated[] = {
	    {"a.md", "returns-window", "returns", "all",
	     "Devices can be returned within 30 days of delivery."},
	    {"b.md", "returns-refund-time", "returns", "all",
	     "Card refunds appear on the statement 10 days after the warehouse receives the box."},
	};
	ck_assert_uint_eq(conflicts_of(unrelated, 2, NULL), 0);
}
END_TEST

START_TEST(figures_are_extracted_with_units)
{
	static const struct {
		const char *text;
		const char *value, *unit;
	} cases[] = {
	    {"Standard shipping takes 3-5 business days.", "3-5", "business-day"},
	    {"Plus costs $9.99 per month.", "9.99", "usd"},
	    {"Save $20 off your first order.", "20", "usd-off"},
	    {"A 10% discount applies.", "10", "percent"},
	    {"A 15 percent discount applies.", "15", "percent"},
	    {"The link expires after 60 minutes.", "60", "minute"},
	    {"Warranty lasts 2 years.", "2", "year"},
	    {"Processing takes 1 working day.", "1", "working-day"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		struct kb_quantity *q = NULL;
		size_t n = kb_quantities(cases[i].text, &q);
		ck_assert_msg(n == 1, "'%s': %zu figures", cases[i].text, n);
		ck_assert_str_eq(q[0].value, cases[i].value);
		ck_assert_str_eq(q[0].unit, cases[i].unit);
		kb_quantities_free(q, n);
	}
	/* Numbers without a unit are not figures. */
	struct kb_quantity *q = NULL;
	size_t n = kb_quantities("Invite up to 40 seats and 3 homes.", &q);
	ck_assert_uint_eq(n, 0);
	kb_quantities_free(q, n);
	/* Several figures, each with its context words. */
	n = kb_quantities("Standard shipping is free over $49 and takes 3-5 business days.", &q);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(q[0].unit, "usd");
	ck_assert_str_eq(q[1].unit, "business-day");
	ck_assert(strv_contains(&q[1].context, "shipping"));
	ck_assert(!strv_contains(&q[1].context, "the"));
	kb_quantities_free(q, n);
}
END_TEST

START_TEST(a_spelled_out_range_is_one_figure)
{
	struct kb_quantity *q = NULL;
	size_t n = kb_quantities("Refunds take 3 to 5 days.", &q);
	ck_assert_uint_ge(n, 1);
	ck_assert_str_eq(q[0].value, "3-5");
	ck_assert_str_eq(q[0].unit, "day");
	kb_quantities_free(q, n);

	struct fact_spec same[] = {
	    {"a.md", "refund-time-a", "billing", "all", "Card refunds take 3 to 5 days."},
	    {"b.md", "refund-time-b", "billing", "all", "Card refunds take 3 to 5 days to appear."},
	};
	char *msg = NULL;
	size_t c = conflicts_of(same, 2, &msg);
	ck_assert_msg(c == 0, "the same range is reported as a conflict:\n%s", msg);
	free(msg);

	n = kb_quantities("Refunds take 3 to 5 days.", &q);
	ck_assert_uint_eq(n, 1);
	kb_quantities_free(q, n);
}
END_TEST

START_TEST(audit_of_a_missing_dir_fails)
{
	struct kb_audit a;
	char *cause = NULL;
	ck_assert_int_eq(kb_audit_run("/nonexistent/kb", &fr, &a, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/kb"));
	free(cause);
}
END_TEST

START_TEST(empty_fact_file_is_reported_as_missing)
{
	char *tmp = tmpdir_new();
	free(tmpfile_with(tmp, "empty.md",
	                  "---\nid: empty\ntitle: E\ntopic: general\nproduct: all\n"
	                  "updated: 2026-11-01\nversion: 1\nvolatile: false\n---\n\n"));
	struct kb_audit a;
	audit_ok(tmp, &a);
	ck_assert_uint_eq(a.nfacts, 0);
	ck_assert_uint_eq(a.counts[AUDIT_INVALID], 0);
	ck_assert_uint_eq(a.counts[AUDIT_MISSING], 1);
	assert_finding(&a, AUDIT_MISSING, "empty.md:", "fact 'empty' has no content", NULL);
	kb_audit_free(&a);
	rm_rf(tmp);
	free(tmp);
}
END_TEST

/* -------------------------------------------------------- shipped KB */

START_TEST(shipped_kb_health)
{
	char *dir = srcpath("kb");
	struct kb_audit a;
	audit_ok(dir, &a);
	char *inv = findings(&a, AUDIT_INVALID);
	ck_assert_msg(a.counts[AUDIT_INVALID] == 0, "invalid:\n%s", inv);
	free(inv);
	char *dup = findings(&a, AUDIT_DUPLICATE);
	ck_assert_msg(a.counts[AUDIT_DUPLICATE] == 0, "duplicates:\n%s", dup);
	free(dup);
	ck_assert_uint_eq(a.counts[AUDIT_MISSING], 0);
	ck_assert_uint_ge(a.nfacts, 100);

	/* Exactly the deliberate conflict: 5-7 against 3-5 business days. */
	char *con = findings(&a, AUDIT_CONFLICT);
	ck_assert_msg(a.counts[AUDIT_CONFLICT] == 1, "conflicts:\n%s", con);
	free(con);
	assert_finding(&a, AUDIT_CONFLICT, "shipping-standard-delivery-estimate",
	               "shipping-standard-delivery-time", NULL);
	assert_finding(&a, AUDIT_CONFLICT, "5-7 business-day", "3-5 business-day", NULL);

	/* Exactly the five deliberately stale facts (kb/README). */
	static const char *const stale[] = {
	    "shipping-standard-delivery-estimate",
	    "pricing-summer-outdoor-promo",
	    "policy-price-match",
	    "policy-trade-in",
	    "technical-doorbell-chime-delay",
	};
	char *st = findings(&a, AUDIT_STALE);
	ck_assert_msg(a.counts[AUDIT_STALE] == 5, "stale:\n%s", st);
	free(st);
	for (size_t i = 0; i < nitems(stale); i++) {
		char *needle = xasprintf("stale: %s ", stale[i]);
		assert_finding(&a, AUDIT_STALE, needle, NULL, NULL);
		free(needle);
	}
	/* Old but evergreen facts are not stale. */
	ck_assert_ptr_null(finding(&a, AUDIT_STALE, "technical-smart-plug-reset", NULL, NULL));
	ck_assert_ptr_null(finding(&a, AUDIT_STALE, "general-accessibility", NULL, NULL));
	kb_audit_free(&a);
	free(dir);
}
END_TEST

static Suite *
kb_audit_suite(void)
{
	Suite *s = suite_create("kb_audit");
	TCase *tc = tcase_create("fixture");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, fixture_counts);
	tcase_add_test(tc, finds_an_invalid_file);
	tcase_add_test(tc, finds_a_duplicate_id_with_both_locations);
	tcase_add_test(tc, finds_conflicting_figures);
	tcase_add_test(tc, finds_a_stale_fact);
	tcase_add_test(tc, finds_missing_metadata);
	suite_add_tcase(s, tc);

	tc = tcase_create("checks");
	tcase_add_test(tc, conflict_needs_same_thing_same_unit_different_value);
	tcase_add_test(tc, figures_are_extracted_with_units);
	tcase_add_test(tc, a_spelled_out_range_is_one_figure);
	tcase_add_test(tc, audit_of_a_missing_dir_fails);
	tcase_add_test(tc, empty_fact_file_is_reported_as_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_test(tc, shipped_kb_health);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(kb_audit_suite());
}
