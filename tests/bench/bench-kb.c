/*
 * bench-kb.c -- retrieval quality, calibration and latency of the
 * knowledge base, next to plain SQLite FTS5 bm25.
 *
 *   bench_kb quality STACKFAQ.json      MRR@10, recall@1/5, calibration
 *   bench_kb fit STACKFAQ.json          refit the confidence model (2-fold CV)
 *   bench_kb latency N [QUERIES]        p50/p99 query latency over N synthetic facts
 *
 * Quality: each of the 125 StackFAQ threads becomes one fact (question
 * plus answers); every usable paraphrase is a query whose gold answer is
 * its thread. The baseline indexes the same documents in an FTS5 table
 * with the default tokenizer and ranks the OR of the query's words by
 * bm25, as a plain FTS5 deployment would.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "diag.h"
#include "kb.h"
#include "util.h"

struct query {
	char *text;
	int gold;
};

struct corpus {
	char **docs; /* question + answers */
	char **titles;
	int ndocs;
	struct query *q;
	int nq;
};

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *msg)
{
	fprintf(stderr, "bench_kb: %s\n", msg);
	exit(1);
}

static void
load_stackfaq(const char *path, struct corpus *c)
{
	char *cause;
	char *text = file_read(path, 0, NULL, &cause);
	if (text == NULL)
		die(cause);
	cJSON *root = cJSON_Parse(text);
	free(text);
	cJSON *pairs = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "root"), "qapair");
	if (!cJSON_IsArray(pairs))
		die("not a StackFAQ file");
	int n = cJSON_GetArraySize(pairs);
	c->docs = xcalloc((size_t)n, sizeof *c->docs);
	c->titles = xcalloc((size_t)n, sizeof *c->titles);
	c->q = xcalloc(2000, sizeof *c->q);
	for (int i = 0; i < n; i++) {
		cJSON *p = cJSON_GetArrayItem(pairs, i);
		const char *question = cJSON_GetStringValue(cJSON_GetObjectItem(p, "question"));
		struct buf b;
		buf_init(&b, 0);
		buf_adds(&b, question ? question : "");
		cJSON *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItem(p, "answer"))
		{
			if (cJSON_IsString(a))
				buf_printf(&b, "\n\n%s", a->valuestring);
		}
		c->titles[i] = xstrdup(question ? question : "");
		c->docs[i] = buf_steal(&b);
		buf_free(&b);
		cJSON_ArrayForEach(a, cJSON_GetObjectItem(p, "rephr"))
		{
			if (!cJSON_IsString(a) || strcmp(a->valuestring, "*") == 0 ||
			    *a->valuestring == '\0' || c->nq >= 2000)
				continue;
			c->q[c->nq].text = xstrdup(a->valuestring);
			c->q[c->nq].gold = i;
			c->nq++;
		}
	}
	c->ndocs = n;
	cJSON_Delete(root);
}

/* Writes a YAML double-quoted scalar. */
static void
yaml_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n' || *s == '\r' || *s == '\t')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Body text with no line that would start a "## " section. */
static void
write_body(FILE *f, const char *s)
{
	int bol = 1;
	for (; *s; s++) {
		if (bol && s[0] == '#' && s[1] == '#')
			fputc(' ', f);
		fputc(*s, f);
		bol = *s == '\n';
	}
	fputc('\n', f);
}

static void
write_fact(const char *dir, int i, const char *title, const char *body, const char *date)
{
	char *p = xasprintf("%s/f%06d.md", dir, i);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		die(p);
	fprintf(f, "---\nid: doc-%d\ntitle: ", i);
	yaml_quoted(f, title);
	fprintf(f,
	        "\ntopic: technical\nproduct: all\nupdated: %s\nversion: 1\nvolatile: false\n"
	        "---\n",
	        date);
	write_body(f, body);
	fclose(f);
	free(p);
}

static int
doc_index(const char *id)
{
	const char *p = strrchr(id, '-');
	return p ? atoi(p + 1) : -1;
}

/* Per-query results: rank of gold (0 = not in top 10), top confidence, features. */
struct result {
	int rank;
	double top_conf;
	int nhits;
	double feat[10][KB_NFEAT];
	int correct[10];
};

static void
run_ours(struct kb *kb, struct corpus *c, struct result *r)
{
	struct kb_freshness fr = {.today = 0, .stale_after_days = 90};
	for (int i = 0; i < c->nq; i++) {
		struct kb_hits h;
		char *cause;
		if (kb_search(kb, c->q[i].text, 10, &fr, &h, &cause) != 0)
			die(cause);
		memset(&r[i], 0, sizeof r[i]);
		r[i].nhits = (int)h.n;
		for (size_t j = 0; j < h.n; j++) {
			int ok = doc_index(h.v[j].fact.id) == c->q[i].gold;
			if (ok && r[i].rank == 0)
				r[i].rank = (int)j + 1;
			r[i].correct[j] = ok;
			memcpy(r[i].feat[j], h.v[j].feat, sizeof r[i].feat[j]);
		}
		r[i].top_conf = h.n ? h.v[0].confidence : 0;
		kb_hits_free(&h);
	}
}

/* Plain FTS5: default tokenizer, OR of the query's words, bm25. */
static void
run_plain(struct corpus *c, struct result *r)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *q;
	sqlite3_open(":memory:", &db);
	sqlite3_exec(db, "CREATE VIRTUAL TABLE plain USING fts5(doc)", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO plain(rowid, doc) VALUES(?, ?)", -1, &ins, NULL);
	for (int i = 0; i < c->ndocs; i++) {
		sqlite3_bind_int(ins, 1, i);
		sqlite3_bind_text(ins, 2, c->docs[i], -1, SQLITE_STATIC);
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	sqlite3_prepare_v2(db,
	                   "SELECT rowid FROM plain WHERE plain MATCH ? ORDER BY bm25(plain) "
	                   "LIMIT 10",
	                   -1, &q, NULL);
	for (int i = 0; i < c->nq; i++) {
		struct buf m;
		buf_init(&m, 0);
		const char *s = c->q[i].text;
		while (*s) {
			while (*s && !isalnum((unsigned char)*s))
				s++;
			const char *b = s;
			while (*s && isalnum((unsigned char)*s))
				s++;
			if (s > b)
				buf_printf(&m, "%s\"%.*s\"", m.len ? " OR " : "", (int)(s - b), b);
		}
		memset(&r[i], 0, sizeof r[i]);
		sqlite3_bind_text(q, 1, m.data, -1, SQLITE_STATIC);
		int rank = 0;
		while (sqlite3_step(q) == SQLITE_ROW) {
			rank++;
			if (sqlite3_column_int(q, 0) == c->q[i].gold && r[i].rank == 0)
				r[i].rank = rank;
		}
		sqlite3_reset(q);
		buf_free(&m);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void
quality_line(const char *name, struct result *r, int n)
{
	double mrr = 0;
	int r1 = 0, r5 = 0;
	for (int i = 0; i < n; i++) {
		if (r[i].rank > 0)
			mrr += 1.0 / r[i].rank;
		r1 += r[i].rank == 1;
		r5 += r[i].rank >= 1 && r[i].rank <= 5;
	}
	printf("| %-36s | %6.3f | %6.3f | %6.3f |\n", name, mrr / n, (double)r1 / n,
	       (double)r5 / n);
}

/* Area under the ROC curve of score for label (Mann-Whitney). */
static double
auroc(const double *score, const int *label, int n)
{
	double pos = 0, neg = 0, sum = 0;
	for (int i = 0; i < n; i++) {
		if (!label[i])
			continue;
		pos++;
		for (int j = 0; j < n; j++) {
			if (label[j])
				continue;
			sum += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
		}
	}
	for (int i = 0; i < n; i++)
		neg += !label[i];
	return pos && neg ? sum / (pos * neg) : NAN;
}

static void
calibration(const char *name, const double *conf, const int *ok, int n)
{
	int wrong = 0, wrong_low = 0, right = 0, right_high = 0;
	double ece = 0;
	for (int i = 0; i < n; i++) {
		if (ok[i]) {
			right++;
			right_high += conf[i] >= 0.5;
		} else {
			wrong++;
			wrong_low += conf[i] < 0.5;
		}
	}
	for (int b = 0; b < 10; b++) {
		double s = 0, acc = 0;
		int cnt = 0;
		for (int i = 0; i < n; i++)
			if ((int)fmin(conf[i] * 10, 9) == b) {
				s += conf[i];
				acc += ok[i];
				cnt++;
			}
		if (cnt)
			ece += fabs(s - acc) / n;
	}
	printf("%s: top hits %d (%d right, %d wrong); AUROC %.3f; wrong top hits under 0.5: "
	       "%.1f%% (%d/%d); right top hits at or over 0.5: %.1f%%; ECE %.3f\n",
	       name, n, right, wrong, auroc(conf, ok, n), wrong ? 100.0 * wrong_low / wrong : 0,
	       wrong_low, wrong, right ? 100.0 * right_high / right : 0, ece);
}

static struct kb *
build_faq_kb(struct corpus *c, char *dir, char **index)
{
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	char *kbdir = xasprintf("%s/kb", dir);
	mkdir(kbdir, 0700);
	for (int i = 0; i < c->ndocs; i++) {
		const char *body = strchr(c->docs[i], '\n');
		write_fact(kbdir, i, c->titles[i], body ? body : c->docs[i], "2026-11-01");
	}
	*index = xasprintf("%s/index.sqlite", dir);
	struct diag d = {0};
	char *cause;
	struct kb *kb = kb_open(kbdir, *index, &d, &cause);
	for (size_t i = 0; i < d.msgs.n; i++)
		fprintf(stderr, "%s\n", d.msgs.v[i]);
	if (kb == NULL)
		die(cause);
	diag_free(&d);
	free(kbdir);
	return kb;
}

/* ------------------------------------------------------------ fitting */

/* Logistic regression by Newton's method on rows x (KB_NFEAT) with labels y. */
static void
fit_logistic(double (*x)[KB_NFEAT], const int *y, int n, double w[KB_NFEAT + 1])
{
	enum { D = KB_NFEAT + 1 };
	memset(w, 0, sizeof(double) * D);
	for (int it = 0; it < 50; it++) {
		double g[D] = {0}, H[D][D] = {{0}};
		for (int i = 0; i < n; i++) {
			double f[D] = {1};
			memcpy(f + 1, x[i], sizeof x[i]);
			double z = 0;
			for (int k = 0; k < D; k++)
				z += w[k] * f[k];
			double p = 1 / (1 + exp(-z));
			for (int k = 0; k < D; k++) {
				g[k] += (p - y[i]) * f[k];
				for (int l = 0; l < D; l++)
					H[k][l] += p * (1 - p) * f[k] * f[l];
			}
		}
		for (int k = 0; k < D; k++)
			H[k][k] += 1e-3; /* a little ridge for stability */
		/* Solve H d = g by Gaussian elimination. */
		double a[D][D + 1];
		for (int k = 0; k < D; k++) {
			memcpy(a[k], H[k], sizeof H[k]);
			a[k][D] = g[k];
		}
		for (int c = 0; c < D; c++) {
			int piv = c;
			for (int r = c + 1; r < D; r++)
				if (fabs(a[r][c]) > fabs(a[piv][c]))
					piv = r;
			for (int k = 0; k <= D; k++) {
				double t = a[c][k];
				a[c][k] = a[piv][k];
				a[piv][k] = t;
			}
			for (int r = 0; r < D; r++) {
				if (r == c || a[c][c] == 0)
					continue;
				double m = a[r][c] / a[c][c];
				for (int k = c; k <= D; k++)
					a[r][k] -= m * a[c][k];
			}
		}
		double step = 0;
		for (int k = 0; k < D; k++) {
			double d = a[k][k] != 0 ? a[k][D] / a[k][k] : 0;
			w[k] -= d;
			step += fabs(d);
		}
		if (step < 1e-9)
			break;
	}
}

static double
predict(const double w[KB_NFEAT + 1], const double *f)
{
	double z = w[0];
	for (int k = 0; k < KB_NFEAT; k++)
		z += w[k + 1] * f[k];
	return 1 / (1 + exp(-z));
}

/* Training rows: every hit of the queries whose gold thread is in fold (or all, fold < 0). */
static int
rows(struct corpus *c, struct result *r, int fold, double (*x)[KB_NFEAT], int *y)
{
	int n = 0;
	for (int i = 0; i < c->nq; i++) {
		if (fold >= 0 && c->q[i].gold % 2 != fold)
			continue;
		for (int j = 0; j < r[i].nhits; j++) {
			memcpy(x[n], r[i].feat[j], sizeof x[n]);
			y[n++] = r[i].correct[j];
		}
	}
	return n;
}

static int
cmd_fit(struct corpus *c, struct result *r)
{
	double(*x)[KB_NFEAT] = xcalloc((size_t)c->nq * 10, sizeof *x);
	int *y = xcalloc((size_t)c->nq * 10, sizeof *y);
	double *conf = xcalloc((size_t)c->nq, sizeof *conf);
	int *ok = xcalloc((size_t)c->nq, sizeof *ok), n = 0;
	double w[KB_NFEAT + 1], rerank_mrr = 0, rerank_r1 = 0;

	/* Two folds split by thread: fit on one, measure top hits of the other. */
	for (int fold = 0; fold < 2; fold++) {
		int m = rows(c, r, fold, x, y);
		fit_logistic(x, y, m, w);
		/* The held-out model orders the hits, as kb_search does. */
		for (int i = 0; i < c->nq; i++) {
			if (c->q[i].gold % 2 == fold || r[i].nhits == 0)
				continue;
			int top = 0, gold = -1;
			for (int j = 0; j < r[i].nhits; j++) {
				if (predict(w, r[i].feat[j]) > predict(w, r[i].feat[top]))
					top = j;
				if (r[i].correct[j] && gold < 0)
					gold = j;
			}
			conf[n] = predict(w, r[i].feat[top]);
			ok[n++] = r[i].correct[top];
			if (gold >= 0) {
				int better = 0;
				for (int k = 0; k < r[i].nhits; k++)
					better += k != gold && predict(w, r[i].feat[k]) >
					                           predict(w, r[i].feat[gold]);
				rerank_mrr += 1.0 / (better + 1);
				rerank_r1 += better == 0;
			}
		}
	}
	printf("held-out (2-fold by thread) ranking: MRR@10 %.3f, R@1 %.3f\n", rerank_mrr / c->nq,
	       rerank_r1 / c->nq);
	calibration("held-out (2-fold by thread)", conf, ok, n);
	int m = rows(c, r, -1, x, y);
	fit_logistic(x, y, m, w);
	printf("weights fitted on all %d hits (intercept, coverage, title coverage, relative "
	       "score, margin, density, bigrams):\nstatic const double calib_w[KB_NFEAT + 1] = {",
	       m);
	for (int k = 0; k <= KB_NFEAT; k++)
		printf("%s%.3f", k ? ", " : "", w[k]);
	printf("};\n");
	free(x);
	free(y);
	free(conf);
	free(ok);
	return 0;
}

static int
cmd_quality(struct corpus *c, struct result *ours, int fit)
{
	struct result *plain = xcalloc((size_t)c->nq, sizeof *plain);
	run_plain(c, plain);
	if (fit)
		return cmd_fit(c, ours);
	printf("StackFAQ retrieval: %d facts, %d paraphrased queries\n\n", c->ndocs, c->nq);
	printf("| %-36s | MRR@10 | R@1    | R@5    |\n", "retriever");
	printf("|--------------------------------------|--------|--------|--------|\n");
	quality_line("SQLite FTS5 bm25, default tokenizer", plain, c->nq);
	quality_line("frontline kb search", ours, c->nq);
	printf("\n");
	double *conf = xcalloc((size_t)c->nq, sizeof *conf);
	int *ok = xcalloc((size_t)c->nq, sizeof *ok), n = 0;
	for (int i = 0; i < c->nq; i++)
		if (ours[i].nhits > 0) {
			conf[n] = ours[i].top_conf;
			ok[n++] = ours[i].correct[0];
		}
	calibration("confidence of frontline's top hit", conf, ok, n);
	free(conf);
	free(ok);
	free(plain);
	return 0;
}

/* ------------------------------------------------------------ latency */

static unsigned long long rng = 88172645463325252ULL;
static unsigned
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * Synthetic facts: words drawn with a Zipf-like skew from the StackFAQ
 * vocabulary, 100 facts a file under "## " headings.
 */
static int
cmd_latency(struct corpus *c, int nfacts, int nqueries)
{
	struct strv vocab = {0};
	for (int i = 0; i < c->ndocs; i++) {
		const char *s = c->docs[i];
		while (*s) {
			while (*s && !isalpha((unsigned char)*s))
				s++;
			const char *b = s;
			while (*s && isalpha((unsigned char)*s))
				s++;
			if (s - b >= 3 && s - b < 20) {
				char *w = xstrndup(b, (size_t)(s - b));
				for (char *p = w; *p; p++)
					*p = (char)tolower((unsigned char)*p);
				if (vocab.n < 20000 && !strv_contains(&vocab, w))
					strv_take(&vocab, w);
				else
					free(w);
			}
		}
	}
	char dir[] = "/tmp/frontline-bench-XXXXXX";
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	char *kbdir = xasprintf("%s/kb", dir);
	mkdir(kbdir, 0700);
	struct strv queries = {0};
	double t0 = now();
	for (int file = 0; file * 100 < nfacts; file++) {
		char *p = xasprintf("%s/s%05d.md", kbdir, file);
		FILE *f = fopen(p, "w");
		fprintf(f,
		        "---\nid: syn-%d\ntitle: Synthetic %d\ntopic: general\nproduct: all\n"
		        "updated: 2026-10-01\nversion: 1\nvolatile: false\n---\n",
		        file, file);
		for (int k = 0; k < 100 && file * 100 + k < nfacts; k++) {
			struct buf b;
			buf_init(&b, 0);
			int len = 25 + (int)(rnd() % 40);
			for (int w = 0; w < len; w++) {
				/* Skewed: squares favour the start of the vocabulary. */
				double u = (rnd() % 100000) / 100000.0;
				size_t idx = (size_t)(u * u * u * (double)vocab.n);
				buf_printf(&b, "%s%s", w ? " " : "", vocab.v[idx]);
			}
			fprintf(f, "## Fact %d-%d\n%s\n\n", file, k, b.data);
			if ((int)queries.n < nqueries &&
			    (int)(rnd() % (unsigned)nfacts) < nqueries * 3 / 2) {
				/* A query: a few words of this fact, out of order. */
				struct buf q;
				buf_init(&q, 0);
				for (int w = 0; w < 3 + (int)(rnd() % 4); w++) {
					double u = (rnd() % 100000) / 100000.0;
					buf_printf(&q, "%s%s", w ? " " : "",
					           vocab.v[(size_t)(u * u * u * (double)vocab.n)]);
				}
				strv_take(&queries, buf_steal(&q));
				buf_free(&q);
			}
			buf_free(&b);
		}
		fclose(f);
		free(p);
	}
	double t_write = now() - t0;
	char *index = xasprintf("%s/index.sqlite", dir);
	struct diag d = {0};
	char *cause;
	t0 = now();
	struct kb *kb = kb_open(kbdir, index, &d, &cause);
	if (kb == NULL)
		die(cause);
	double t_index = now() - t0;
	kb_close(kb);
	t0 = now();
	kb = kb_open(kbdir, index, &d, &cause);
	double t_reopen = now() - t0;

	struct kb_freshness fr = {.today = 20400, .stale_after_days = 90};
	double *lat = xcalloc(queries.n, sizeof *lat);
	size_t hits = 0;
	for (size_t i = 0; i < queries.n; i++) {
		struct kb_hits h;
		t0 = now();
		if (kb_search(kb, queries.v[i], 5, &fr, &h, &cause) != 0)
			die(cause);
		lat[i] = (now() - t0) * 1000;
		hits += h.n > 0;
		kb_hits_free(&h);
	}
	qsort(lat, queries.n, sizeof *lat, cmp_double);
	printf("| %7d | %8.0f ms | %6.0f ms | %7.2f ms | %7.2f ms | %zu/%zu |\n", nfacts,
	       t_index * 1000, t_reopen * 1000, lat[queries.n / 2],
	       lat[(size_t)((double)queries.n * 0.99)], hits, queries.n);
	(void)t_write;
	kb_close(kb);
	diag_free(&d);
	free(lat);
	free(index);
	strv_free(&queries);
	strv_free(&vocab);
	char *rm = xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	free(kbdir);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_kb quality|fit STACKFAQ.json\n"
		                "       bench_kb latency STACKFAQ.json N [QUERIES]\n");
		return 64;
	}
	struct corpus c = {0};
	load_stackfaq(argv[2], &c);
	if (strcmp(argv[1], "latency") == 0)
		return cmd_latency(&c, argc > 3 ? atoi(argv[3]) : 1000,
		                   argc > 4 ? atoi(argv[4]) : 1000);
	char dir[] = "/tmp/frontline-bench-XXXXXX";
	char *index;
	struct kb *kb = build_faq_kb(&c, dir, &index);
	struct result *ours = xcalloc((size_t)c.nq, sizeof *ours);
	run_ours(kb, &c, ours);
	int rc = cmd_quality(&c, ours, strcmp(argv[1], "fit") == 0);
	kb_close(kb);
	char *rm = xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return rc;
}
