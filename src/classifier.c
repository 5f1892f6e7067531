/* classifier.c -- logistic regression over hashed word and character n-grams. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "classifier.h"
#include "util.h"

#define MODEL_MAGIC   "FLTRIAGE"
#define MODEL_VERSION 3
/* Longest input read, and most features taken from one text. */
#define MAX_TEXT     8192
#define MAX_FEATURES 4096
#define MAX_WORD     48

struct classifier {
	int nclasses;
	char *labels[CLS_MAX];
	int bits;
	uint32_t mask;
	double temperature;
	char sha256[65];
	float *bias;    /* [nclasses] */
	float *weights; /* [buckets][nclasses] */
};

/* ----------------------------------------------------------- features */

static uint32_t
fnv32(uint32_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct feats {
	uint32_t idx[MAX_FEATURES];
	int n;
};

static void
feat_add(struct feats *f, uint32_t h, uint32_t mask)
{
	if (f->n < MAX_FEATURES)
		f->idx[f->n++] = h & mask;
}

/*
 * Words are runs of letters, digits and UTF-8 bytes, lower-cased, with
 * digits folded to '0' so "A12345" and "B99999" look alike. Features:
 * each word, each run of two and of three neighbouring words (with
 * start and end marks), and the 3- to 5-grams of "<word>".
 */
static void
featurise(const char *text, size_t len, uint32_t mask, struct feats *f)
{
	uint32_t prev2 = 0;
	char w[MAX_WORD + 2];
	uint32_t prev = fnv32(2166136261u, "<s>", 3);
	size_t i = 0;

	f->n = 0;
	if (len > MAX_TEXT)
		len = MAX_TEXT;
	while (i < len) {
		while (i < len &&
		       !(isalnum((unsigned char)text[i]) || (unsigned char)text[i] >= 0x80))
			i++;
		if (i >= len)
			break;
		size_t n = 1;
		w[0] = '<';
		while (i < len &&
		       (isalnum((unsigned char)text[i]) || (unsigned char)text[i] >= 0x80 ||
		        (text[i] == '\'' && i + 1 < len && isalpha((unsigned char)text[i + 1])))) {
			unsigned char c = (unsigned char)text[i++];
			if (c == '\'')
				continue;
			if (n <= MAX_WORD)
				w[n++] = isdigit(c) ? '0' : (char)tolower(c);
		}
		w[n++] = '>';
		uint32_t hw = fnv32(2166136261u, w + 1, n - 2);
		feat_add(f, hw, mask);
		feat_add(f, (prev * 31u) ^ hw ^ 0x9e3779b9u, mask);
		if (prev2)
			feat_add(f, (prev2 * 961u) ^ (prev * 31u) ^ hw ^ 0x7f4a7c15u, mask);
		prev2 = prev;
		prev = hw;
		for (size_t g = 3; g <= 5; g++)
			for (size_t s = 0; s + g <= n; s++)
				if (!(g == n && s == 0)) /* the whole "<word>" is the word */
					feat_add(f, fnv32(0x811c9dc5u + (uint32_t)g, w + s, g),
					         mask);
	}
	feat_add(f, (prev * 31u) ^ fnv32(2166136261u, "</s>", 4) ^ 0x9e3779b9u, mask);
}

/* ---------------------------------------------------------- inference */

static void
scores(const struct classifier *c, const struct feats *f, double *z)
{
	int k = c->nclasses;
	for (int j = 0; j < k; j++)
		z[j] = 0;
	/*
	 * Every feature lands on a random row of a table bigger than the
	 * cache: fetching a few rows ahead overlaps the misses.
	 */
	for (int i = 0; i < f->n && i < 8; i++)
		__builtin_prefetch(c->weights + (size_t)f->idx[i] * (size_t)k);
	for (int i = 0; i < f->n; i++) {
		if (i + 8 < f->n)
			__builtin_prefetch(c->weights + (size_t)f->idx[i + 8] * (size_t)k);
		const float *w = c->weights + (size_t)f->idx[i] * (size_t)k;
		for (int j = 0; j < k; j++)
			z[j] += w[j];
	}
	double norm = f->n > 0 ? 1.0 / sqrt((double)f->n) : 0;
	for (int j = 0; j < k; j++)
		z[j] = z[j] * norm + c->bias[j];
}

static void
softmax(const double *z, int k, double t, double *p)
{
	double max = z[0], sum = 0;
	for (int j = 1; j < k; j++)
		if (z[j] > max)
			max = z[j];
	for (int j = 0; j < k; j++) {
		p[j] = exp((z[j] - max) / t);
		sum += p[j];
	}
	for (int j = 0; j < k; j++)
		p[j] /= sum;
}

int
classifier_predict(const struct classifier *c, const char *text, size_t len, double *probs)
{
	struct feats f;
	double z[CLS_MAX];
	featurise(text, len, c->mask, &f);
	scores(c, &f, z);
	softmax(z, c->nclasses, c->temperature, probs);
	int best = 0;
	for (int j = 1; j < c->nclasses; j++)
		if (probs[j] > probs[best])
			best = j;
	return best;
}

int
classifier_nclasses(const struct classifier *c)
{
	return c->nclasses;
}

const char *
classifier_label(const struct classifier *c, int i)
{
	return i >= 0 && i < c->nclasses ? c->labels[i] : NULL;
}

int
classifier_find(const struct classifier *c, const char *label)
{
	for (int i = 0; i < c->nclasses; i++)
		if (strcmp(c->labels[i], label) == 0)
			return i;
	return -1;
}

const char *
classifier_sha256(const struct classifier *c)
{
	return c->sha256;
}

double
classifier_temperature(const struct classifier *c)
{
	return c->temperature;
}

void
classifier_set_temperature(struct classifier *c, double t)
{
	c->temperature = t;
}

void
classifier_free(struct classifier *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->nclasses; i++)
		free(c->labels[i]);
	free(c->bias);
	free(c->weights);
	free(c);
}

/*
 * The weight table, zeroed, on 2 MiB boundaries and marked for huge
 * pages: features land on random rows, and with 4 KiB pages nearly every
 * lookup would also miss the TLB.
 */
static float *
weights_alloc(size_t bytes)
{
	size_t align = 2u << 20, size = (bytes + align - 1) / align * align;
	void *p = aligned_alloc(align, size);
	if (p == NULL)
		return xcalloc(1, bytes);
#ifdef MADV_HUGEPAGE
	madvise(p, size, MADV_HUGEPAGE);
#endif
	memset(p, 0, size);
	return p;
}

static struct classifier *
classifier_new(const char *const *labels, int k, int bits)
{
	struct classifier *c = xcalloc(1, sizeof *c);
	c->nclasses = k;
	for (int i = 0; i < k; i++)
		c->labels[i] = xstrdup(labels[i]);
	c->bits = bits;
	c->mask = (1u << bits) - 1;
	c->temperature = 1;
	c->bias = xcalloc((size_t)k, sizeof *c->bias);
	c->weights = weights_alloc(((size_t)k << bits) * sizeof *c->weights);
	return c;
}

/* ----------------------------------------------------------- training */

static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static unsigned
weight_of(const struct classifier_example *x)
{
	return x->weight ? x->weight : 1;
}

/* Stochastic gradient descent on the log loss, the rate falling linearly to zero. */
struct classifier *
classifier_train(const char *const *labels, int k, const struct classifier_example *ex, size_t n,
                 const struct classifier_opts *o)
{
	struct classifier *c = classifier_new(labels, k, o->buckets_log2);
	size_t slots = 0;
	for (size_t i = 0; i < n; i++)
		slots += weight_of(&ex[i]);
	/* An example of weight w takes w slots of the epoch. */
	size_t *order = xcalloc(slots ? slots : 1, sizeof *order);
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ o->seed;
	struct feats f;
	double z[CLS_MAX], p[CLS_MAX];
	size_t total = (size_t)o->epochs * slots, step = 0;

	for (size_t i = 0, at = 0; i < n; i++)
		for (unsigned r = 0; r < weight_of(&ex[i]); r++)
			order[at++] = i;
	for (int e = 0; e < o->epochs; e++) {
		for (size_t i = slots; i > 1; i--) {
			size_t j = (size_t)(rng_next(&s) % i);
			size_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t i = 0; i < slots; i++) {
			const struct classifier_example *x = &ex[order[i]];
			double lr = o->lr * (1.0 - (double)step / (double)total);
			step++;
			if (o->progress != NULL && (step & 0x3fff) == 0)
				o->progress(o->progress_arg, step, total);
			featurise(x->text, strlen(x->text), c->mask, &f);
			scores(c, &f, z);
			softmax(z, k, 1.0, p);
			double norm = f.n > 0 ? 1.0 / sqrt((double)f.n) : 0;
			for (int j = 0; j < k; j++) {
				double g = (j == x->label ? 1.0 : 0.0) - p[j];
				c->bias[j] += (float)(lr * g * 0.1);
				float d = (float)(lr * g * norm);
				for (int q = 0; q < f.n; q++)
					c->weights[(size_t)f.idx[q] * (size_t)k + (size_t)j] += d;
			}
		}
	}
	if (o->progress != NULL)
		o->progress(o->progress_arg, total, total);
	free(order);
	return c;
}

double
classifier_calibrate(struct classifier *c, const struct classifier_example *ex, size_t n)
{
	double best_t = 1, best_loss = INFINITY;
	double(*z)[CLS_MAX] = xcalloc(n ? n : 1, sizeof *z);
	struct feats f;
	for (size_t i = 0; i < n; i++) {
		featurise(ex[i].text, strlen(ex[i].text), c->mask, &f);
		scores(c, &f, z[i]);
	}
	for (int step = 30; step <= 400; step++) {
		double t = step / 100.0, loss = 0, p[CLS_MAX];
		for (size_t i = 0; i < n; i++) {
			softmax(z[i], c->nclasses, t, p);
			loss -= weight_of(&ex[i]) * log(p[ex[i].label] + 1e-12);
		}
		if (loss < best_loss) {
			best_loss = loss;
			best_t = t;
		}
	}
	free(z);
	c->temperature = best_t;
	return best_t;
}

/* ---------------------------------------------------------- the file */

/*
 * The file's checksum: 64-bit words mixed by multiplication, several
 * times faster than byte-wise FNV over a model of tens of megabytes,
 * and it still catches any flipped, lost or shifted byte in practice.
 */
static uint64_t
checksum(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x84222325cbf29ce4ULL ^ len, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h ^ hash_fnv1a(p + i, len - i);
}

/*
 * Layout, little-endian: "FLTRIAGE", u32 version, u32 classes, u32 bits,
 * f64 temperature, per class u8 length + name, f32 bias[classes],
 * f32 weights[2^bits * classes], the SHA-256 of everything before it as
 * 64 hex digits, u64 checksum() of everything before it.
 */
int
classifier_save(struct classifier *c, const char *path, char **cause)
{
	struct buf b;
	buf_init(&b, 0);
	uint32_t v[3] = {MODEL_VERSION, (uint32_t)c->nclasses, (uint32_t)c->bits};
	buf_add(&b, MODEL_MAGIC, 8);
	buf_add(&b, v, sizeof v);
	buf_add(&b, &c->temperature, sizeof c->temperature);
	for (int i = 0; i < c->nclasses; i++) {
		unsigned char l = (unsigned char)strlen(c->labels[i]);
		buf_add(&b, &l, 1);
		buf_add(&b, c->labels[i], l);
	}
	buf_add(&b, c->bias, (size_t)c->nclasses * sizeof *c->bias);
	buf_add(&b, c->weights, ((size_t)c->nclasses << c->bits) * sizeof *c->weights);
	char sha[65];
	sha256_hex(b.data, b.len, sha);
	buf_add(&b, sha, 64);
	uint64_t h = checksum(b.data, b.len);
	buf_add(&b, &h, sizeof h);
	int rc = file_write_atomic(path, b.data, b.len, 0644, cause);
	if (rc == 0)
		memcpy(c->sha256, sha, sizeof sha);
	buf_free(&b);
	return rc;
}

int
classifier_is_model_file(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	int yes = fread(magic, 1, 8, f) == 8 && memcmp(magic, MODEL_MAGIC, 8) == 0;
	fclose(f);
	return yes;
}

struct classifier *
classifier_load(const char *path, char **cause)
{
	size_t len;
	char *data = file_read(path, 256u << 20, &len, cause);
	if (data == NULL)
		return NULL;
	const char *p = data, *end = data + len;
	struct classifier *c = NULL;
	uint32_t v[3];
	double t;
	const char *why = NULL;

#define TAKE(dst, n)                                                                               \
	do {                                                                                       \
		if ((size_t)(end - p) < (size_t)(n)) {                                             \
			why = "truncated";                                                         \
			goto bad;                                                                  \
		}                                                                                  \
		memcpy((dst), p, (n));                                                             \
		p += (n);                                                                          \
	} while (0)

	if (len < 8 || memcmp(data, MODEL_MAGIC, 8) != 0) {
		why = "not a frontline triage model";
		goto bad;
	}
	uint64_t stored = 0;
	if (len >= 8 + sizeof stored)
		memcpy(&stored, end - sizeof stored, sizeof stored);
	if (len < 8 + sizeof stored || checksum(data, len - sizeof stored) != stored) {
		why = "checksum mismatch: the file is corrupted or truncated";
		goto bad;
	}
	end -= sizeof(uint64_t);
	p += 8;
	TAKE(v, sizeof v);
	TAKE(&t, sizeof t);
	if (v[0] != MODEL_VERSION) {
		why = v[0] < MODEL_VERSION ? "a model of an older frontline: train it again"
		                           : "a model of a newer frontline";
		goto bad;
	}
	if (v[1] < 2 || v[1] > CLS_MAX || v[2] < 8 || v[2] > 26 || !(t > 0 && t < 100)) {
		why = "bad model header";
		goto bad;
	}
	char name[256];
	const char *labels[CLS_MAX];
	char store[CLS_MAX][256];
	for (uint32_t i = 0; i < v[1]; i++) {
		unsigned char l;
		TAKE(&l, 1);
		TAKE(name, l);
		name[l] = '\0';
		memcpy(store[i], name, (size_t)l + 1);
		labels[i] = store[i];
	}
	c = classifier_new(labels, (int)v[1], (int)v[2]);
	c->temperature = t;
	TAKE(c->bias, (size_t)c->nclasses * sizeof *c->bias);
	TAKE(c->weights, ((size_t)c->nclasses << c->bits) * sizeof *c->weights);
	TAKE(c->sha256, 64);
	c->sha256[64] = '\0';
	if (strspn(c->sha256, "0123456789abcdef") != 64) {
		why = "bad model digest";
		goto bad;
	}
	if (p != end) {
		why = "trailing bytes";
		goto bad;
	}
	free(data);
	return c;
bad:
#undef TAKE
	*cause = xasprintf("%s: %s", path, why);
	classifier_free(c);
	free(data);
	errno = EINVAL;
	return NULL;
}
