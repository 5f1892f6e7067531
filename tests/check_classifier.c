/* check_classifier.c -- the intent classifier: training, files, the shipped model. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "classifier.h"
#include "testutil.h"

static const char *const labels[] = {"billing", "shipping", "technical"};

static const struct classifier_example toy[] = {
    {0, "I was charged twice this month", 1},
    {0, "refund the extra charge on my card", 1},
    {0, "why is my invoice so high", 1},
    {0, "my payment failed", 1},
    {0, "cancel the subscription charge", 1},
    {1, "where is my package", 1},
    {1, "my order has not arrived yet", 1},
    {1, "tracking number for my delivery", 1},
    {1, "the parcel is late", 1},
    {1, "change my shipping address", 1},
    {2, "the camera will not connect to wifi", 1},
    {2, "app crashes when I open it", 1},
    {2, "device shows offline", 1},
    {2, "firmware update failed", 1},
    {2, "the light keeps blinking red", 1},
};

static const struct classifier_opts opts = {.buckets_log2 = 12, .epochs = 30, .lr = 1.0, .seed = 7};

static struct classifier *
toy_model(void)
{
	return classifier_train(labels, 3, toy, nitems(toy), &opts);
}

static double
sum(const double *p, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += p[i];
	return s;
}

START_TEST(test_learns_and_predicts)
{
	struct classifier *c = toy_model();
	double p[CLS_MAX];
	ck_assert_int_eq(classifier_nclasses(c), 3);
	ck_assert_int_eq(classifier_predict(c, "I got charged twice", 19, p), 0);
	ck_assert_double_eq_tol(sum(p, 3), 1.0, 1e-9);
	ck_assert_int_eq(classifier_predict(c, "where is my parcel", 18, p), 1);
	ck_assert_int_eq(classifier_predict(c, "camera offline, wifi broken", 27, p), 2);
	ck_assert_int_eq(classifier_find(c, "shipping"), 1);
	ck_assert_int_eq(classifier_find(c, "nope"), -1);
	ck_assert_str_eq(classifier_label(c, 2), "technical");
	ck_assert_ptr_null(classifier_label(c, 3));
	classifier_free(c);
}
END_TEST

START_TEST(test_training_is_deterministic)
{
	char *dir = tmpdir_new();
	char *a = xasprintf("%s/a.model", dir), *b = xasprintf("%s/b.model", dir), *cause = NULL;
	struct classifier *c1 = toy_model(), *c2 = toy_model();
	ck_assert_int_eq(classifier_save(c1, a, &cause), 0);
	ck_assert_int_eq(classifier_save(c2, b, &cause), 0);
	size_t la, lb;
	char *x = file_read(a, 0, &la, &cause), *y = file_read(b, 0, &lb, &cause);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(x, y, la), 0);
	free(x);
	free(y);
	classifier_free(c1);
	classifier_free(c2);
	rm_rf(dir);
	free(a);
	free(b);
	free(dir);
}
END_TEST

/* Saves c under dir/name; returns the file's bytes and their number in *len. */
static char *
saved(struct classifier *c, const char *dir, const char *name, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name), *cause = NULL;
	ck_assert_int_eq(classifier_save(c, path, &cause), 0);
	char *data = file_read(path, 0, len, &cause);
	ck_assert_ptr_nonnull(data);
	free(path);
	return data;
}

START_TEST(test_a_weight_counts_as_copies)
{
	/* Weight 3 is three copies of the example in its place, to the byte. */
	struct classifier_example weighted[nitems(toy)], copies[nitems(toy) + 2];
	memcpy(weighted, toy, sizeof toy);
	weighted[4].weight = 3;
	memcpy(copies, toy, 5 * sizeof *toy);
	copies[5] = copies[6] = toy[4];
	memcpy(copies + 7, toy + 5, (nitems(toy) - 5) * sizeof *toy);
	char *dir = tmpdir_new();
	struct classifier *a = classifier_train(labels, 3, weighted, nitems(toy), &opts),
	                  *b = classifier_train(labels, 3, copies, nitems(copies), &opts),
	                  *c = toy_model();
	size_t la, lb, lc;
	char *x = saved(a, dir, "a", &la), *y = saved(b, dir, "b", &lb),
	     *z = saved(c, dir, "c", &lc);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(x, y, la), 0);
	ck_assert_int_ne(memcmp(x, z, la), 0);
	free(x);
	free(y);
	free(z);
	classifier_free(a);
	classifier_free(b);
	classifier_free(c);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(test_the_model_carries_its_sha256)
{
	char *dir = tmpdir_new(), *cause = NULL;
	struct classifier *c = toy_model();
	ck_assert_str_eq(classifier_sha256(c), "");
	size_t len;
	char *data = saved(c, dir, "m.model", &len);
	/* The digest of everything before it, then the 8-byte checksum. */
	char sha[65];
	sha256_hex(data, len - 72, sha);
	ck_assert_str_eq(classifier_sha256(c), sha);
	ck_assert_int_eq(memcmp(data + len - 72, sha, 64), 0);
	char *path = xasprintf("%s/m.model", dir);
	struct classifier *d = classifier_load(path, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(classifier_sha256(d), sha);
	ck_assert(classifier_is_model_file(path));
	char *yaml = tmpfile_with(dir, "p.yaml", "escalation: {}\n");
	ck_assert(!classifier_is_model_file(yaml));
	classifier_free(d);
	classifier_free(c);
	free(data);
	free(path);
	free(yaml);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(test_save_load_round_trip)
{
	char *dir = tmpdir_new();
	char *path = xasprintf("%s/m.model", dir), *cause = NULL;
	struct classifier *c = toy_model();
	classifier_set_temperature(c, 1.7);
	ck_assert_int_eq(classifier_save(c, path, &cause), 0);
	struct classifier *d = classifier_load(path, &cause);
	ck_assert_msg(d != NULL, "%s", cause);
	ck_assert_double_eq(classifier_temperature(d), 1.7);
	double p[CLS_MAX], q[CLS_MAX];
	const char *text = "my card payment failed and the parcel is late";
	ck_assert_int_eq(classifier_predict(c, text, strlen(text), p),
	                 classifier_predict(d, text, strlen(text), q));
	for (int i = 0; i < 3; i++)
		ck_assert_double_eq_tol(p[i], q[i], 1e-12);
	classifier_free(c);
	classifier_free(d);
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_calibration_picks_a_temperature)
{
	struct classifier *c = toy_model();
	double t = classifier_calibrate(c, toy, nitems(toy));
	ck_assert(t >= 0.3 && t <= 4.0);
	ck_assert_double_eq(classifier_temperature(c), t);
	/* A higher temperature flattens the distribution. */
	double p[CLS_MAX], q[CLS_MAX];
	classifier_set_temperature(c, 1.0);
	classifier_predict(c, "where is my package", 19, p);
	classifier_set_temperature(c, 3.0);
	classifier_predict(c, "where is my package", 19, q);
	ck_assert(q[1] < p[1]);
	classifier_free(c);
}
END_TEST

/* Writes a saved toy model with one change; returns its path. */
static char *
damaged(const char *dir, const char *name, void (*damage)(char *, size_t *))
{
	char *path = xasprintf("%s/%s", dir, name), *cause = NULL;
	struct classifier *c = toy_model();
	ck_assert_int_eq(classifier_save(c, path, &cause), 0);
	classifier_free(c);
	size_t len;
	char *data = file_read(path, 0, &len, &cause);
	damage(data, &len);
	FILE *f = fopen(path, "wb");
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
	return path;
}

static void
truncate_half(char *d, size_t *len)
{
	(void)d;
	*len /= 2;
}

static void
flip_byte(char *d, size_t *len)
{
	d[*len / 2] ^= 0x40;
}

static void
wrong_magic(char *d, size_t *len)
{
	(void)len;
	memcpy(d, "NOTMODEL", 8);
}

static void
empty(char *d, size_t *len)
{
	(void)d;
	*len = 0;
}

START_TEST(test_corrupted_files_are_refused)
{
	char *dir = tmpdir_new(), *cause = NULL;
	struct {
		const char *name;
		void (*damage)(char *, size_t *);
		const char *says;
	} cases[] = {
	    {"truncated.model", truncate_half, "corrupted"},
	    {"flipped.model", flip_byte, "checksum"},
	    {"magic.model", wrong_magic, "not a frontline triage model"},
	    {"empty.model", empty, "not a frontline triage model"},
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		char *path = damaged(dir, cases[i].name, cases[i].damage);
		errno = 0;
		ck_assert_ptr_null(classifier_load(path, &cause));
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_msg(strstr(cause, cases[i].says) && strstr(cause, cases[i].name),
		              "%s: %s", cases[i].name, cause);
		free(cause);
		free(path);
	}
	char *missing = xasprintf("%s/none.model", dir);
	ck_assert_ptr_null(classifier_load(missing, &cause));
	ck_assert_int_eq(errno, ENOENT);
	free(cause);
	free(missing);
	rm_rf(dir);
	free(dir);
}
END_TEST

static struct classifier *
shipped(void)
{
	const char *env = getenv("FRONTLINE_MODEL");
	char *path =
	    env ? xstrdup(env) : xasprintf("%s/triage.model", getenv("top_builddir") ?: ".");
	char *cause = NULL;
	struct classifier *c = classifier_load(path, &cause);
	ck_assert_msg(c != NULL, "the shipped model: %s", cause);
	free(path);
	return c;
}

START_TEST(test_shipped_model)
{
	struct classifier *c = shipped();
	static const struct {
		const char *text, *label;
	} cases[] = {
	    {"where is my package, it was due yesterday", "shipping"},
	    {"I was charged twice for my subscription", "billing"},
	    {"I forgot my password and can't sign in", "account"},
	    {"my outdoor camera will not connect to the wifi", "technical"},
	    {"I want to send the doorbell back for a refund", "returns"},
	    {"what time does your support team open", "general"},
	    {"what is the capital of france", "out_of_scope"},
	    {"play some jazz music", "out_of_scope"},
	};
	double p[CLS_MAX];
	for (size_t i = 0; i < nitems(cases); i++) {
		int k = classifier_predict(c, cases[i].text, strlen(cases[i].text), p);
		ck_assert_msg(strcmp(classifier_label(c, k), cases[i].label) == 0, "'%s' -> %s",
		              cases[i].text, classifier_label(c, k));
		ck_assert_double_eq_tol(sum(p, classifier_nclasses(c)), 1.0, 1e-9);
	}
	classifier_free(c);
}
END_TEST

START_TEST(test_any_bytes)
{
	struct classifier *c = shipped();
	double p[CLS_MAX];
	size_t big = 1 << 20;
	char *huge = xmalloc(big);
	for (size_t i = 0; i < big; i++)
		huge[i] = "refund my order now "[i % 20];
	const char binary[] = {'\x01', '\xff', '\xfe', '\x80', '\0', 'a', '\xc3', '\x28'};
	const char *bad_utf8 = "caf\xc3\x28 \xe2\x82 \xf0\x9f\x98 order";
	classifier_predict(c, "", 0, p);
	ck_assert_double_eq_tol(sum(p, classifier_nclasses(c)), 1.0, 1e-9);
	classifier_predict(c, huge, big, p);
	ck_assert_double_eq_tol(sum(p, classifier_nclasses(c)), 1.0, 1e-9);
	classifier_predict(c, binary, sizeof binary, p);
	ck_assert_double_eq_tol(sum(p, classifier_nclasses(c)), 1.0, 1e-9);
	classifier_predict(c, bad_utf8, strlen(bad_utf8), p);
	ck_assert(!isnan(p[0]));
	free(huge);
	classifier_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("classifier");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_learns_and_predicts);
	tcase_add_test(tc, test_training_is_deterministic);
	tcase_add_test(tc, test_a_weight_counts_as_copies);
	tcase_add_test(tc, test_the_model_carries_its_sha256);
	tcase_add_test(tc, test_save_load_round_trip);
	tcase_add_test(tc, test_calibration_picks_a_temperature);
	tcase_add_test(tc, test_corrupted_files_are_refused);
	tcase_add_test(tc, test_shipped_model);
	tcase_add_test(tc, test_any_bytes);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
