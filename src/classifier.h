/* classifier.h -- the intent classifier: logistic regression over hashed n-grams. */
#ifndef FL_CLASSIFIER_H
#define FL_CLASSIFIER_H

#include <stddef.h>

#define CLS_MAX 16

struct classifier;

/*
 * Loads a model file written by classifier_save. Returns NULL with
 * *cause (caller frees) when the file is missing, truncated, corrupted
 * or not a model; errno is ENOENT for a missing file, EINVAL otherwise.
 */
struct classifier *classifier_load(const char *path, char **cause);
void classifier_free(struct classifier *);

/* True when the file at path begins like a model (classifier_load may still refuse it). */
int classifier_is_model_file(const char *path);

/*
 * The model's identity: the SHA-256 (64 hex digits) of the file's
 * contents before the digest, recorded in the file by classifier_save and
 * covered by its checksum, so loading does not hash tens of megabytes.
 * "" for a model that was never saved or loaded.
 */
const char *classifier_sha256(const struct classifier *);

int classifier_nclasses(const struct classifier *);
const char *classifier_label(const struct classifier *, int);
int classifier_find(const struct classifier *, const char *label);

/*
 * Calibrated class probabilities for text (any bytes) into probs
 * (nclasses entries). Returns the most probable class.
 */
int classifier_predict(const struct classifier *, const char *text, size_t len, double *probs);

/* ------------------------------------------------------------ training */

struct classifier_example {
	int label;
	const char *text;
	unsigned weight; /* how many times it counts in each epoch; 0 counts as 1 */
};

struct classifier_opts {
	int buckets_log2; /* hash space: 2^buckets_log2 features */
	int epochs;
	double lr;     /* initial learning rate, decayed linearly to 0 */
	unsigned seed; /* shuffling: the same seed gives the same model */
	/* Called now and then with the steps done of total, and at the end; may be NULL. */
	void (*progress)(void *arg, size_t done, size_t total);
	void *progress_arg;
};

/*
 * Trains on examples with nlabels classes named labels. Deterministic:
 * an example of weight w is seen w times an epoch, in an order shuffled by
 * the seed. The temperature is 1 until classifier_calibrate is called.
 */
struct classifier *classifier_train(const char *const *labels, int nlabels,
                                    const struct classifier_example *, size_t n,
                                    const struct classifier_opts *);
/* Fits the softmax temperature that minimises the log loss (weighted) on held-out examples. */
double classifier_calibrate(struct classifier *, const struct classifier_example *, size_t n);
void classifier_set_temperature(struct classifier *, double);
double classifier_temperature(const struct classifier *);
/*
 * Writes the model atomically (a temporary file renamed over path) and
 * records its SHA-256 in it (classifier_sha256). Returns 0 or -1 with
 * *cause.
 */
int classifier_save(struct classifier *, const char *path, char **cause);

#endif
