/* intent-eval.c -- accuracy, macro-F1, confusion and calibration of intent categories. */
#include "config.h"

#include <math.h>

#include "intent-data.h"
#include "intent-eval.h"

void
intent_tally_add(struct intent_tally *t, int label, enum category predicted, double confidence)
{
	int row = label == INTENT_OUT_OF_SCOPE ? CAT_GENERAL : label;
	t->confusion[row][predicted]++;
	t->labelled++;
	if (confidence < 0)
		return;
	int b = (int)(confidence * INTENT_BINS);
	b = b < 0 ? 0 : b >= INTENT_BINS ? INTENT_BINS - 1 : b;
	t->bin_n[b]++;
	t->bin_conf[b] += confidence;
	t->bin_right[b] += label == (int)predicted;
}

static long
correct(const struct intent_tally *t)
{
	long n = 0;
	for (int c = 0; c < CAT__N; c++)
		n += t->confusion[c][c];
	return n;
}

double
intent_tally_accuracy(const struct intent_tally *t)
{
	return t->labelled ? (double)correct(t) / (double)t->labelled : NAN;
}

/* Category c's F1; -1 when c was neither labelled nor predicted (no say in the macro average). */
static double
f1_of(const struct intent_tally *t, int c, long *support, long *predicted)
{
	*support = *predicted = 0;
	for (int j = 0; j < CAT__N; j++) {
		*support += t->confusion[c][j];
		*predicted += t->confusion[j][c];
	}
	if (*support == 0 && *predicted == 0)
		return -1;
	long tp = t->confusion[c][c];
	double p = *predicted ? (double)tp / (double)*predicted : 0,
	       r = *support ? (double)tp / (double)*support : 0;
	return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

double
intent_tally_macro_f1(const struct intent_tally *t)
{
	double sum = 0;
	int n = 0;
	long s, p;
	for (int c = 0; c < CAT__N; c++) {
		double f = f1_of(t, c, &s, &p);
		if (f >= 0) {
			sum += f;
			n++;
		}
	}
	return n ? sum / n : NAN;
}

static double
round3(double x)
{
	return round(x * 1000) / 1000;
}

static cJSON *
ratio(double num, double den)
{
	return den > 0 ? cJSON_CreateNumber(round3(num / den)) : cJSON_CreateNull();
}

cJSON *
intent_tally_json(const struct intent_tally *t)
{
	cJSON *o = cJSON_CreateObject();
	long right = correct(t);
	cJSON_AddNumberToObject(o, "labelled", (double)t->labelled);
	cJSON_AddNumberToObject(o, "correct", (double)right);
	cJSON_AddItemToObject(o, "accuracy", ratio((double)right, (double)t->labelled));
	double mf = intent_tally_macro_f1(t);
	cJSON_AddItemToObject(o, "macro_f1",
	                      isnan(mf) ? cJSON_CreateNull() : cJSON_CreateNumber(round3(mf)));
	cJSON *per = cJSON_AddObjectToObject(o, "per_category");
	for (int c = 0; c < CAT__N; c++) {
		long support, predicted;
		double f1 = f1_of(t, c, &support, &predicted);
		if (f1 < 0)
			continue;
		long tp = t->confusion[c][c];
		cJSON *k = cJSON_AddObjectToObject(per, category_names[c]);
		cJSON_AddNumberToObject(k, "support", (double)support);
		cJSON_AddNumberToObject(k, "predicted", (double)predicted);
		cJSON_AddNumberToObject(k, "correct", (double)tp);
		cJSON_AddItemToObject(k, "precision", ratio((double)tp, (double)predicted));
		cJSON_AddItemToObject(k, "recall", ratio((double)tp, (double)support));
		cJSON_AddNumberToObject(k, "f1", round3(f1));
	}
	/* Rows: the label; columns: the model's category. */
	cJSON *cm = cJSON_AddObjectToObject(o, "confusion");
	for (int c = 0; c < CAT__N; c++) {
		cJSON *row = cJSON_AddObjectToObject(cm, category_names[c]);
		for (int j = 0; j < CAT__N; j++)
			cJSON_AddNumberToObject(row, category_names[j], (double)t->confusion[c][j]);
	}
	/* Expected calibration error: the bins' |accuracy - mean confidence|, weighted by size. */
	long n = 0;
	double gap = 0;
	cJSON *bins = cJSON_CreateArray();
	for (int b = 0; b < INTENT_BINS; b++) {
		cJSON *k = cJSON_CreateObject();
		cJSON_AddNumberToObject(k, "from", (double)b / INTENT_BINS);
		cJSON_AddNumberToObject(k, "to", (double)(b + 1) / INTENT_BINS);
		cJSON_AddNumberToObject(k, "count", (double)t->bin_n[b]);
		cJSON_AddItemToObject(k, "confidence", ratio(t->bin_conf[b], (double)t->bin_n[b]));
		cJSON_AddItemToObject(k, "accuracy",
		                      ratio((double)t->bin_right[b], (double)t->bin_n[b]));
		cJSON_AddItemToArray(bins, k);
		n += t->bin_n[b];
		gap += fabs((double)t->bin_right[b] - t->bin_conf[b]);
	}
	cJSON_AddItemToObject(o, "ece", ratio(gap, (double)n));
	cJSON_AddItemToObject(o, "calibration", bins);
	return o;
}

/* ------------------------------------------------------------ text */

static const cJSON *
get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

const char *
intent_fmt_rate(char buf[32], const cJSON *v, int percent)
{
	if (!cJSON_IsNumber(v))
		return "n/a";
	snprintf(buf, 32, percent ? "%.1f%%" : "%.3f", v->valuedouble * (percent ? 100 : 1));
	return buf;
}

void
intent_report_print(const cJSON *t, FILE *f)
{
	char b1[32], b2[32], b3[32];
	const cJSON *e;
	fprintf(f, "accuracy %s, macro-F1 %s, ECE %s\n", intent_fmt_rate(b1, get(t, "accuracy"), 1),
	        intent_fmt_rate(b2, get(t, "macro_f1"), 0), intent_fmt_rate(b3, get(t, "ece"), 0));
	fputs("  category     support  precision  recall  F1\n", f);
	cJSON_ArrayForEach(e, get(t, "per_category"))
	{
		fprintf(f, "  %-12s %7d  %-9s  %-6s  %s\n", e->string, get(e, "support")->valueint,
		        intent_fmt_rate(b1, get(e, "precision"), 0),
		        intent_fmt_rate(b2, get(e, "recall"), 0),
		        intent_fmt_rate(b3, get(e, "f1"), 0));
	}
	fputs("  confusion (rows: label, columns: predicted)\n  ", f);
	fprintf(f, "%-10s", "");
	for (int c = 0; c < CAT__N; c++)
		fprintf(f, " %9.9s", category_names[c]);
	fputc('\n', f);
	cJSON_ArrayForEach(e, get(t, "confusion"))
	{
		fprintf(f, "  %-10s", e->string);
		const cJSON *c;
		cJSON_ArrayForEach(c, e) fprintf(f, " %9d", c->valueint);
		fputc('\n', f);
	}
}
