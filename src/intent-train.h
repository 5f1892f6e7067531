/*
 * intent-train.h -- training the intent model: the base corpus and a
 * team's own labelled examples, weighted so that a few hundred of the
 * team's change the model. The one trainer: `frontline triage train` and
 * the build's triage-train both call it.
 */
#ifndef FL_INTENT_TRAIN_H
#define FL_INTENT_TRAIN_H

#include <stddef.h>

#include "classifier.h"
#include "intent-data.h"
#include "intent-eval.h"

struct intent_train {
	const struct intent_data *base; /* the base corpus; may be NULL */
	const struct intent_data *team; /* the team's examples; may be NULL */
	const struct intent_data *dev;  /* held-out examples; NULL: hold out a tenth */
	/* The model in use, measured on the same held-out examples; may be NULL. */
	const struct classifier *current;
	unsigned seed;
	/* Called now and then with the steps done of total (see classifier_opts); may be NULL. */
	void (*progress)(void *arg, size_t done, size_t total);
	void *progress_arg;
};

struct intent_trained {
	struct classifier *model; /* the new model; the caller frees it */
	/*
	 * Each team example counts team_weight times: the team's examples
	 * together weigh as much as the base corpus, round(base / team), and
	 * at least 1.
	 */
	unsigned team_weight;
	size_t base_n, team_n;       /* the examples the new model was trained on */
	size_t held_base, held_team; /* held out for the temperature and the figures */
	double temperature;
	/*
	 * The figures: on --dev when given, else on the held-out team examples
	 * (the base's when there are none), of a model trained on the rest
	 * (new) and of the model in use (current, when have_current).
	 */
	const char *figures_on; /* "dev", "team" or "base" */
	struct intent_tally held_new, held_current;
	int have_current;
	unsigned missing; /* bit i: no training example of class intent_labels[i] */
};

/*
 * Trains. Without dev a tenth of each set is held out (by a hash of the
 * text and the seed, so a repeated text stays on one side): a model
 * trained on the rest fits the softmax temperature and gives the figures,
 * while the model returned is trained on everything, on a second thread.
 * Deterministic: the same data and seed give the same model, byte for
 * byte. Returns 0, or -1 with *cause (caller frees) when there is nothing
 * to train on.
 */
int intent_train_run(const struct intent_train *, struct intent_trained *, char **cause);

#endif
