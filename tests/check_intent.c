/* check_intent.c -- the intent model's data, figures and trainer (intent-*.c). */
#include "config.h"

#include <math.h>

#include "intent-train.h"
#include "testutil.h"
#include "triage.h"

static char *dir;

static void
setup(void)
{
	dir = tmpdir_new();
}

static void
teardown(void)
{
	rm_rf(dir);
	free(dir);
}

/* ----------------------------------------------------------------- data */

START_TEST(tsv_lines_and_bad_lines)
{
	char *path = tmpfile_with(dir, "f.tsv",
	                          "billing\tI was charged twice\n"
	                          "\n"
	                          "a line without a tab\n"
	                          "refunds\tgive me my money back\n"
	                          "technical\t   \n"
	                          " shipping \twhere is my parcel\r\n"
	                          "out_of_scope\tplay some jazz\n"
	                          "general\tbad \xff byte\n");
	struct intent_data d = {0};
	struct diag dg = {0};
	enum intent_format f;
	char *cause = NULL;
	ck_assert_int_eq(intent_data_read(&d, path, 0, &f, &dg, &cause), 0);
	ck_assert_int_eq(f, INTENT_TSV);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(d.v[0].text, "I was charged twice");
	ck_assert_int_eq(d.v[0].label, CAT_BILLING);
	ck_assert_str_eq(d.v[1].text, "where is my parcel");
	ck_assert_int_eq(d.v[1].label, CAT_SHIPPING);
	ck_assert_int_eq(d.v[2].label, INTENT_OUT_OF_SCOPE);
	ck_assert_int_eq(d.bad, 4);
	ck_assert_int_eq(dg.errors, 4);
	ck_assert_ptr_nonnull(diag_find(&dg, "f.tsv:3: ", "CATEGORY<TAB>TEXT", NULL));
	ck_assert_ptr_nonnull(
	    diag_find(&dg, "f.tsv:4: ", "unknown category 'refunds'", "out_of_scope"));
	ck_assert_ptr_nonnull(diag_find(&dg, "f.tsv:5: ", "no text", NULL));
	ck_assert_ptr_nonnull(diag_find(&dg, "f.tsv:8: ", "UTF-8", NULL));
	intent_data_free(&d);
	diag_free(&dg);
	free(path);
}
END_TEST

static const char tickets[] =
    "{\"id\":\"t1\",\"messages\":[{\"role\":\"customer\",\"text\":\"first\"},"
    "{\"role\":\"human\",\"text\":\"hello\"},{\"role\":\"customer\",\"text\":\"second\"}],"
    "\"labels\":{\"intent_category\":\"billing\"}}\n"
    "{\"id\":\"t2\",\"messages\":[{\"role\":\"customer\",\"text\":\"no label\"}]}\n"
    "not json\n"
    "{\"id\":\"t3\",\"messages\":[{\"role\":\"customer\",\"text\":\"x\"}],"
    "\"labels\":{\"intent_category\":\"refunds\"}}\n";

START_TEST(tickets_first_or_every_customer_message)
{
	char *path = tmpfile_with(dir, "t.jsonl", tickets);
	for (int all = 0; all <= 1; all++) {
		struct intent_data d = {0};
		struct diag dg = {0};
		enum intent_format f;
		char *cause = NULL;
		ck_assert_int_eq(intent_data_read(&d, path, all, &f, &dg, &cause), 0);
		ck_assert_int_eq(f, INTENT_TICKETS);
		ck_assert_uint_eq(d.n, all ? 2 : 1);
		ck_assert_str_eq(d.v[0].text, "first");
		ck_assert_int_eq(d.v[0].label, CAT_BILLING);
		if (all)
			ck_assert_str_eq(d.v[1].text, "second");
		ck_assert_int_eq(d.unlabelled, 1);
		ck_assert_int_eq(d.bad, 2);
		ck_assert_ptr_nonnull(diag_find(&dg, "t.jsonl:3: ", "not JSON", NULL));
		ck_assert_ptr_nonnull(
		    diag_find(&dg, "t.jsonl:4: ", "labels.intent_category", NULL));
		intent_data_free(&d);
		diag_free(&dg);
	}
	free(path);
}
END_TEST

START_TEST(a_review_export_gives_the_reviewed_message)
{
	/* The AI's category came from the turn that handed off: the message before the human. */
	char *path = tmpfile_with(
	    dir, "r.jsonl",
	    "{\"id\":\"review-1\",\"messages\":[{\"role\":\"customer\",\"text\":\"where is my "
	    "order\"},{\"role\":\"customer\",\"text\":\"I want a lawyer\"},{\"role\":\"human\","
	    "\"text\":\"hello\"},{\"role\":\"customer\",\"text\":\"thanks\"}],\"labels\":{"
	    "\"intent_category\":\"shipping\",\"escalated\":true},\"review\":{\"handoff\":1}}\n");
	struct intent_data d = {0};
	struct diag dg = {0};
	enum intent_format f;
	char *cause = NULL;
	ck_assert_int_eq(intent_data_read(&d, path, 0, &f, &dg, &cause), 0);
	ck_assert_int_eq(f, INTENT_REVIEWS);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].text, "I want a lawyer");
	ck_assert_int_eq(d.v[0].label, CAT_SHIPPING);
	ck_assert_int_eq(intent_data_read(&d, path, 1, &f, &dg, &cause), 0);
	ck_assert_uint_eq(d.n, 4); /* and every customer message with all_messages */
	ck_assert_int_eq(dg.errors, 0);
	intent_data_free(&d);
	free(path);
}
END_TEST

START_TEST(a_missing_file)
{
	struct intent_data d = {0};
	struct diag dg = {0};
	char *cause = NULL, *path = xasprintf("%s/none.tsv", dir);
	ck_assert_int_eq(intent_data_read(&d, path, 0, NULL, &dg, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "none.tsv"));
	free(cause);
	free(path);
}
END_TEST

/* -------------------------------------------------------------- figures */

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

START_TEST(figures_by_hand)
{
	/*
	 * Six examples: three billing (two right, one taken for technical),
	 * technical right, account taken for technical, and a message that
	 * is no support request, answered general with a low confidence.
	 *   accuracy 4/6; F1 billing 0.8 (P 1, R 2/3), technical 0.5 (P 1/3,
	 *   R 1), account 0, general 1: macro-F1 2.3/4 = 0.575
	 *   ECE: bin 0.9 |2 - 2.78|, bin 0.5 |1 - 1.07|, bin 0.0 |0 - 0.05|:
	 *   0.9/6 = 0.15
	 */
	struct intent_tally t = {0};
	intent_tally_add(&t, CAT_BILLING, CAT_BILLING, 0.95);
	intent_tally_add(&t, CAT_BILLING, CAT_BILLING, 0.92);
	intent_tally_add(&t, CAT_BILLING, CAT_TECHNICAL, 0.91);
	intent_tally_add(&t, CAT_TECHNICAL, CAT_TECHNICAL, 0.55);
	intent_tally_add(&t, CAT_ACCOUNT, CAT_TECHNICAL, 0.52);
	intent_tally_add(&t, INTENT_OUT_OF_SCOPE, CAT_GENERAL, 0.05);
	ck_assert_double_eq_tol(intent_tally_accuracy(&t), 4.0 / 6, 1e-12);
	ck_assert_double_eq_tol(intent_tally_macro_f1(&t), 0.575, 1e-12);
	cJSON *j = intent_tally_json(&t);
	ck_assert_double_eq(num(j, "labelled"), 6);
	ck_assert_double_eq(num(j, "correct"), 4);
	ck_assert_double_eq(num(j, "accuracy"), 0.667);
	ck_assert_double_eq(num(j, "macro_f1"), 0.575);
	ck_assert_double_eq(num(j, "ece"), 0.15);
	const cJSON *per = cJSON_GetObjectItem(j, "per_category");
	ck_assert_int_eq(cJSON_GetArraySize(per),
	                 4); /* shipping, returns: neither labelled nor predicted */
	ck_assert_double_eq(num(cJSON_GetObjectItem(per, "billing"), "f1"), 0.8);
	ck_assert_double_eq(num(cJSON_GetObjectItem(per, "technical"), "precision"), 0.333);
	ck_assert_double_eq(num(cJSON_GetObjectItem(per, "account"), "f1"), 0);
	const cJSON *cm = cJSON_GetObjectItem(j, "confusion");
	ck_assert_double_eq(num(cJSON_GetObjectItem(cm, "billing"), "technical"), 1);
	ck_assert_double_eq(num(cJSON_GetObjectItem(cm, "general"), "general"), 1);
	const cJSON *b9 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "calibration"), 9);
	ck_assert_double_eq(num(b9, "count"), 3);
	ck_assert_double_eq(num(b9, "accuracy"), 0.667);
	ck_assert_double_eq(num(b9, "confidence"), 0.927);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	intent_report_print(j, f);
	fclose(f);
	ck_assert_msg(strstr(text, "accuracy 66.7%, macro-F1 0.575, ECE 0.150\n"), "%s", text);
	ck_assert_msg(strstr(text, "  billing            3  1.000      0.667   0.800\n"), "%s",
	              text);
	free(text);
	cJSON_Delete(j);

	struct intent_tally none = {0};
	ck_assert(isnan(intent_tally_accuracy(&none)));
	j = intent_tally_json(&none);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "ece")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "macro_f1")));
	cJSON_Delete(j);
}
END_TEST

/* -------------------------------------------------------------- trainer */

static void
add_n(struct intent_data *d, int label, const char *const *texts, size_t n, int times)
{
	for (int r = 0; r < times; r++)
		for (size_t i = 0; i < n; i++)
			intent_data_add(d, label, texts[i]);
}

static const char *const ship[] = {"where is my parcel", "my parcel locker delivery is late",
                                   "the parcel locker did not open",
                                   "tracking for my parcel locker"};
static const char *const bill[] = {"I was charged twice", "refund the extra charge",
                                   "why is my invoice so high", "the fee on my bill is wrong"};
static const char *const team_bill[] = {"the parcel locker rental is billed monthly",
                                        "parcel locker rental charge"};

START_TEST(the_team_weighs_as_much_as_the_base)
{
	struct intent_data base = {0}, team = {0};
	add_n(&base, CAT_SHIPPING, ship, nitems(ship), 10);
	add_n(&base, CAT_BILLING, bill, nitems(bill), 10);
	add_n(&team, CAT_BILLING, team_bill, nitems(team_bill), 1);
	struct intent_train o = {.base = &base, .team = &team, .seed = 3};
	struct intent_trained r;
	char *cause = NULL;
	ck_assert_int_eq(intent_train_run(&o, &r, &cause), 0);
	ck_assert_uint_eq(r.base_n, 80);
	ck_assert_uint_eq(r.team_n, 2);
	ck_assert_uint_eq(r.team_weight, 40);
	/* No technical, account, returns, general or out_of_scope example. */
	ck_assert_uint_eq(r.missing, (1u << CAT_TECHNICAL) | (1u << CAT_ACCOUNT) |
	                                 (1u << CAT_RETURNS) | (1u << CAT_GENERAL) |
	                                 (1u << INTENT_OUT_OF_SCOPE));
	enum category cat;
	double conf;
	const char *q = "parcel locker rental";
	ck_assert_int_eq(triage_intent(r.model, q, strlen(q), &cat, &conf), 0);
	ck_assert_int_eq(cat, CAT_BILLING);
	classifier_free(r.model);
	intent_data_free(&base);
	intent_data_free(&team);
}
END_TEST

START_TEST(a_dev_set_gives_the_figures)
{
	struct intent_data base = {0}, dev = {0};
	add_n(&base, CAT_SHIPPING, ship, nitems(ship), 5);
	add_n(&base, CAT_BILLING, bill, nitems(bill), 5);
	intent_data_add(&dev, CAT_SHIPPING, "where is my parcel now");
	intent_data_add(&dev, CAT_BILLING, "I was charged twice again");
	intent_data_add(&dev, CAT_BILLING, "where is my parcel");
	struct intent_train o = {.base = &base, .dev = &dev, .seed = 1};
	struct intent_trained r;
	char *cause = NULL;
	ck_assert_int_eq(intent_train_run(&o, &r, &cause), 0);
	ck_assert_str_eq(r.figures_on, "dev");
	ck_assert_uint_eq(r.base_n, 40); /* nothing held out of the training data */
	ck_assert_int_eq(r.held_new.labelled, 3);
	ck_assert_double_eq_tol(intent_tally_accuracy(&r.held_new), 2.0 / 3, 1e-12);
	ck_assert_int_eq(r.have_current, 0);
	classifier_free(r.model);
	intent_data_free(&base);
	intent_data_free(&dev);

	struct intent_data empty = {0};
	o = (struct intent_train){.base = &empty};
	ck_assert_int_eq(intent_train_run(&o, &r, &cause), -1);
	ck_assert_str_eq(cause, "no examples to train on");
	free(cause);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("intent");
	TCase *tc = tcase_create("data");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tsv_lines_and_bad_lines);
	tcase_add_test(tc, tickets_first_or_every_customer_message);
	tcase_add_test(tc, a_review_export_gives_the_reviewed_message);
	tcase_add_test(tc, a_missing_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("figures");
	tcase_add_test(tc, figures_by_hand);
	suite_add_tcase(s, tc);
	tc = tcase_create("trainer");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_team_weighs_as_much_as_the_base);
	tcase_add_test(tc, a_dev_set_gives_the_figures);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
