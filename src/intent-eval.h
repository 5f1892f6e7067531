/*
 * intent-eval.h -- how well an intent model's categories match labels:
 * accuracy, macro-F1, the per-category table, the confusion matrix and
 * calibration (ECE). One report for replay's triage section and for
 * `frontline triage eval`.
 */
#ifndef FL_INTENT_EVAL_H
#define FL_INTENT_EVAL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "types.h"

#define INTENT_BINS 10 /* calibration bins of width 0.1 */

struct intent_tally {
	long confusion[CAT__N][CAT__N]; /* [label][predicted] */
	long labelled;
	/* Calibration, over the examples with a confidence. */
	long bin_n[INTENT_BINS], bin_right[INTENT_BINS];
	double bin_conf[INTENT_BINS];
};

/*
 * Counts one labelled example: label is an intent_labels index (an
 * out_of_scope label counts as general in the confusion matrix, and as a
 * miss for calibration: the confidence is that of a support request of the
 * predicted category), confidence that probability, or negative when there
 * is none.
 */
void intent_tally_add(struct intent_tally *, int label, enum category predicted, double confidence);

/* Accuracy and macro-F1 (over the categories labelled or predicted); NAN with no example. */
double intent_tally_accuracy(const struct intent_tally *);
double intent_tally_macro_f1(const struct intent_tally *);

/*
 * The report as JSON (caller frees): {"labelled","correct","accuracy",
 * "macro_f1","per_category":{cat:{"support","predicted","correct",
 * "precision","recall","f1"}},"confusion":{label:{predicted:n}},"ece",
 * "calibration":[{"from","to","count","confidence","accuracy"}...]};
 * rates with nothing under them are null.
 */
cJSON *intent_tally_json(const struct intent_tally *);

/*
 * The report as text: "accuracy A, macro-F1 F, ECE E", then the
 * per-category table and the confusion matrix, indented by two spaces.
 */
void intent_report_print(const cJSON *report, FILE *);

/* A rate or mean of a report for text: "12.5%" (percent) or "0.125"; "n/a" when null. */
const char *intent_fmt_rate(char buf[32], const cJSON *v, int percent);

#endif
