/* intent-train.c -- the intent model's trainer: base corpus plus a team's examples. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "intent-train.h"
#include "triage.h"

/*
 * Chosen by held-out accuracy on the shipped corpus; the same for every
 * team, so a team's figures compare with the shipped model's.
 */
static const struct classifier_opts base_opts = {
    .buckets_log2 = 20,
    .epochs = 25,
    .lr = 2.0,
};

/* Whether text is held out under seed: about one in ten, the same for equal texts. */
static int
held_out(const char *text, unsigned seed)
{
	uint64_t h = hash_fnv1a(text, strlen(text)) ^ ((uint64_t)seed * 0x9e3779b97f4a7c15ULL);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return h % 10 == 0;
}

/* A growable list of classifier examples, borrowing the texts. */
struct exs {
	struct classifier_example *v;
	size_t n, cap;
};

static void
exs_add(struct exs *e, const struct intent_example *x, unsigned weight)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 1024;
		e->v = xreallocarray(e->v, e->cap, sizeof *e->v);
	}
	e->v[e->n++] =
	    (struct classifier_example){.label = x->label, .text = x->text, .weight = weight};
}

/* The examples of d into train, or into held when split and held out. */
static void
split(const struct intent_data *d, unsigned seed, int split, struct exs *train, struct exs *held)
{
	for (size_t i = 0; d != NULL && i < d->n; i++)
		exs_add(split && held_out(d->v[i].text, seed) ? held : train, &d->v[i], 1);
}

static void
set_weight(struct exs *e, size_t from, unsigned w)
{
	for (size_t i = from; i < e->n; i++)
		e->v[i].weight = w;
}

static unsigned
team_weight(size_t base, size_t team)
{
	if (team == 0 || base <= team)
		return 1;
	return (unsigned)((base + team / 2) / team);
}

/* One training run, for a thread. */
struct pass {
	const struct exs *ex;
	struct classifier_opts opts;
	struct classifier *model;
};

static void *
pass_run(void *arg)
{
	struct pass *p = arg;
	p->model = classifier_train(intent_labels, INTENT__N, p->ex->v, p->ex->n, &p->opts);
	return NULL;
}

static void
measure(const struct classifier *c, const struct exs *held, size_t from, struct intent_tally *t)
{
	for (size_t i = from; i < held->n; i++) {
		enum category cat;
		double conf;
		const char *text = held->v[i].text;
		if (triage_intent(c, text, strlen(text), &cat, &conf) == 0)
			intent_tally_add(t, held->v[i].label, cat, conf);
	}
}

int
intent_train_run(const struct intent_train *o, struct intent_trained *r, char **cause)
{
	struct exs all = {0}, rest = {0}, held = {0};
	memset(r, 0, sizeof *r);
	int splitting = o->dev == NULL;

	/* Everything, and the rest and the held-out part: base first, then the team's. */
	split(o->base, o->seed, 0, &all, NULL);
	size_t all_base = all.n;
	split(o->team, o->seed, 0, &all, NULL);
	if (all.n == 0) {
		*cause = xstrdup("no examples to train on");
		free(all.v);
		return -1;
	}
	split(o->base, o->seed, splitting, &rest, &held);
	size_t rest_base = rest.n, held_base = held.n;
	split(o->team, o->seed, splitting, &rest, &held);
	if (!splitting)
		for (size_t i = 0; i < o->dev->n; i++)
			exs_add(&held, &o->dev->v[i], 1);

	r->base_n = all_base;
	r->team_n = all.n - all_base;
	r->held_base = splitting ? held_base : 0;
	r->held_team = held.n - held_base;
	r->team_weight = team_weight(r->base_n, r->team_n);
	set_weight(&all, all_base, r->team_weight);
	unsigned rest_weight = team_weight(rest_base, rest.n - rest_base);
	set_weight(&rest, rest_base, rest_weight);
	if (splitting)
		set_weight(&held, held_base, rest_weight);
	for (size_t i = 0; i < all.n; i++)
		r->missing |= 1u << all.v[i].label;
	r->missing = ~r->missing & ((1u << INTENT__N) - 1);

	/*
	 * The model returned learns from everything; the one that fits the
	 * temperature and is measured must not have seen the held-out part.
	 * With --dev they are one model.
	 */
	struct pass full = {.ex = &all, .opts = base_opts}, part = {.ex = &rest, .opts = base_opts};
	full.opts.seed = part.opts.seed = o->seed;
	full.opts.progress = o->progress;
	full.opts.progress_arg = o->progress_arg;
	pthread_t th;
	int threaded = splitting && rest.n > 0 && pthread_create(&th, NULL, pass_run, &part) == 0;
	pass_run(&full);
	if (threaded)
		pthread_join(th, NULL);
	else if (splitting && rest.n > 0)
		pass_run(&part);
	struct classifier *judged = splitting ? part.model : full.model;

	if (judged != NULL && held.n > 0) {
		r->temperature = classifier_calibrate(judged, held.v, held.n);
		/* The figures on the team's own examples when it has any. */
		size_t from = r->held_team > 0 ? held_base : 0;
		r->figures_on = !splitting ? "dev" : r->held_team > 0 ? "team" : "base";
		measure(judged, &held, from, &r->held_new);
		if (o->current != NULL) {
			measure(o->current, &held, from, &r->held_current);
			r->have_current = 1;
		}
	} else
		r->temperature = 1;
	classifier_set_temperature(full.model, r->temperature);
	classifier_free(part.model);
	r->model = full.model;
	free(all.v);
	free(rest.v);
	free(held.v);
	return 0;
}
