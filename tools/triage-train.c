/*
 * triage-train.c -- trains the triage intent classifier from a corpus.
 *
 *   triage-train CORPUS.tsv [MORE.tsv...] MODEL
 *
 * Each corpus line is LABEL<TAB>TEXT. Training is deterministic: the same
 * corpus gives the same model, byte for byte. The softmax temperature is
 * fitted on every tenth example held out from a first pass; the shipped
 * model is then trained on everything with that temperature.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "classifier.h"
#include "util.h"

/*
 * Chosen by held-out accuracy on the corpus (every tenth example), which
 * this program prints; TT_EPOCHS, TT_LR and TT_BITS override them for
 * such experiments.
 */
static struct classifier_opts opts = {
    .buckets_log2 = 20,
    .epochs = 25,
    .lr = 2.0,
    .seed = 1,
};

static const char *const labels[] = {"billing", "technical", "account",     "shipping",
                                     "returns", "general",   "out_of_scope"};

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: triage-train CORPUS.tsv [MORE.tsv...] MODEL\n");
		return EX_USAGE;
	}
	if (getenv("TT_EPOCHS"))
		opts.epochs = atoi(getenv("TT_EPOCHS"));
	if (getenv("TT_LR"))
		opts.lr = atof(getenv("TT_LR"));
	if (getenv("TT_BITS"))
		opts.buckets_log2 = atoi(getenv("TT_BITS"));
	struct classifier_example *ex = NULL;
	size_t n = 0, cap = 0;
	struct strv texts = {0};
	for (int a = 1; a < argc - 1; a++) {
		char *cause;
		char *data = file_read(argv[a], 0, NULL, &cause);
		if (data == NULL) {
			fprintf(stderr, "triage-train: %s\n", cause);
			return EX_NOINPUT;
		}
		int line = 0;
		for (char *save = NULL, *l = strtok_r(data, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save)) {
			line++;
			char *tab = strchr(l, '\t');
			if (tab == NULL) {
				fprintf(stderr, "triage-train: %s:%d: expected LABEL<TAB>TEXT\n",
				        argv[a], line);
				return EX_DATAERR;
			}
			*tab = '\0';
			int k = -1;
			for (size_t i = 0; i < nitems(labels); i++)
				if (strcmp(labels[i], l) == 0)
					k = (int)i;
			if (k < 0) {
				fprintf(stderr, "triage-train: %s:%d: unknown label '%s'\n",
				        argv[a], line, l);
				return EX_DATAERR;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				ex = xreallocarray(ex, cap, sizeof *ex);
			}
			strv_add(&texts, tab + 1);
			ex[n].label = k;
			n++;
		}
		free(data);
	}
	for (size_t i = 0; i < n; i++)
		ex[i].text = texts.v[i];

	/* Pass 1: train on nine tenths, fit the temperature on the rest. */
	struct classifier_example *train = xcalloc(n, sizeof *train),
	                          *held = xcalloc(n, sizeof *held);
	size_t nt = 0, nh = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 10 == 9)
			held[nh++] = ex[i];
		else
			train[nt++] = ex[i];
	}
	struct classifier *c = classifier_train(labels, (int)nitems(labels), train, nt, &opts);
	double t = classifier_calibrate(c, held, nh);
	int right = 0;
	double p[CLS_MAX];
	for (size_t i = 0; i < nh; i++)
		right +=
		    classifier_predict(c, held[i].text, strlen(held[i].text), p) == held[i].label;
	classifier_free(c);
	fprintf(stderr, "triage-train: %zu examples; held-out accuracy %.4f; temperature %.2f\n", n,
	        (double)right / (double)nh, t);

	/* Pass 2: everything. */
	c = classifier_train(labels, (int)nitems(labels), ex, n, &opts);
	classifier_set_temperature(c, t);
	char *cause;
	int rc = classifier_save(c, argv[argc - 1], &cause);
	if (rc != 0) {
		fprintf(stderr, "triage-train: %s\n", cause);
		free(cause);
	}
	classifier_free(c);
	free(train);
	free(held);
	free(ex);
	strv_free(&texts);
	return rc == 0 ? EX_OK : EX_CANTCREAT;
}
