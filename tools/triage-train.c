/*
 * triage-train.c -- the build's trainer of the shipped intent model.
 *
 *   triage-train CORPUS.tsv [MORE.tsv...] MODEL
 *
 * The corpora are the base corpus; the training is the library's
 * (src/intent-train.c), the same as `frontline triage train`'s, so the
 * shipped model is what that command makes of the corpus with no data of
 * a team's: the same corpus gives the same model, byte for byte.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "intent-train.h"

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: triage-train CORPUS.tsv [MORE.tsv...] MODEL\n");
		return EX_USAGE;
	}
	struct intent_data base = {0};
	struct diag d = {0};
	char *cause = NULL;
	int ex = EX_OK;
	for (int a = 1; a < argc - 1 && ex == EX_OK; a++)
		if (intent_data_read(&base, argv[a], 0, NULL, &d, &cause) != 0) {
			fprintf(stderr, "triage-train: %s\n", cause);
			ex = EX_NOINPUT;
		}
	for (size_t i = 0; i < d.msgs.n; i++)
		fprintf(stderr, "triage-train: %s\n", d.msgs.v[i]);
	if (ex == EX_OK && d.errors > 0)
		ex = EX_DATAERR; /* the shipped corpus has no bad line */
	struct intent_trained r = {0};
	struct intent_train t = {.base = &base, .seed = 1};
	if (ex == EX_OK && intent_train_run(&t, &r, &cause) != 0) {
		fprintf(stderr, "triage-train: %s\n", cause);
		ex = EX_DATAERR;
	}
	if (ex == EX_OK) {
		fprintf(stderr,
		        "triage-train: %zu examples; held-out accuracy %.4f, macro-F1 %.4f; "
		        "temperature %.2f\n",
		        r.base_n, intent_tally_accuracy(&r.held_new),
		        intent_tally_macro_f1(&r.held_new), r.temperature);
		if (classifier_save(r.model, argv[argc - 1], &cause) != 0) {
			fprintf(stderr, "triage-train: %s\n", cause);
			ex = EX_CANTCREAT;
		}
	}
	classifier_free(r.model);
	intent_data_free(&base);
	diag_free(&d);
	free(cause);
	return ex;
}
