/*
 * bench-kb.c -- retrieval quality, calibration and latency of the
 * knowledge base, next to plain SQLite FTS5 bm25.
 *
 *   bench_kb quality STACKFAQ.json      MRR@10, recall@1/5, calibration
 *   bench_kb fit STACKFAQ.json [KBDIR GOLD.tsv TICKETS.jsonl [--triage MODEL DATADIR POLICY]]
 *                                       refit the confidence model (2-fold CV), with
 *                                       the gold questions of those tickets too
 *   bench_kb latency STACKFAQ.json N [QUERIES]
 *                                       p50/p99 query latency over N synthetic facts
 *   bench_kb gold KBDIR GOLD.tsv [--triage MODEL DATADIR POLICY] NAME=TICKETS.jsonl...
 *                                       retrieval on labelled customer messages
 *                                       (BENCH_KB_VERBOSE=1: the misses, with features)
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
#include "policy.h"
#include "triage.h"
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

/* Hits asked for per query: kb_search's whole candidate pool, all of which train the model. */
#define HITS 20

/* Per-query results: rank of gold (0 = not among the hits), top confidence, features. */
struct result {
	int rank;
	double top_conf;
	int nhits;
	double feat[HITS][KB_NFEAT];
	int correct[HITS];
};

/*
 * Every query against kb[0] when kb[1] is NULL; else each query against
 * the KB without its thread (kb[0] holds the odd threads, kb[1] the even),
 * so that no fact answers it.
 */
static void
run_ours(struct kb *kb[2], struct corpus *c, struct result *r)
{
	struct kb_freshness fr = {.today = 0, .stale_after_days = 90};
	for (int i = 0; i < c->nq; i++) {
		struct kb_hits h;
		char *cause;
		struct kb *k = kb[1] == NULL ? kb[0] : kb[c->q[i].gold % 2 == 0 ? 0 : 1];
		if (kb_search(k, c->q[i].text, HITS, &fr, &h, &cause) != 0)
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
quality_line(const char *name, const struct result *r, int n)
{
	double mrr = 0;
	int r1 = 0, r5 = 0;
	for (int i = 0; i < n; i++) {
		if (r[i].rank > 0 && r[i].rank <= 10)
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

/* Expected calibration error over ten equal-width bins. */
static double
ece(const double *conf, const int *ok, int n)
{
	double e = 0;
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
			e += fabs(s - acc) / n;
	}
	return e;
}

static void
calibration(const char *name, const double *conf, const int *ok, int n)
{
	int wrong = 0, wrong_low = 0, right = 0, right_high = 0;
	for (int i = 0; i < n; i++) {
		if (ok[i]) {
			right++;
			right_high += conf[i] >= 0.5;
		} else {
			wrong++;
			wrong_low += conf[i] < 0.5;
		}
	}
	printf("%s: top hits %d (%d right, %d wrong); AUROC %.3f; wrong top hits under 0.5: "
	       "%.1f%% (%d/%d); right top hits at or over 0.5: %.1f%%; ECE %.3f\n",
	       name, n, right, wrong, auroc(conf, ok, n), wrong ? 100.0 * wrong_low / wrong : 0,
	       wrong_low, wrong, right ? 100.0 * right_high / right : 0, ece(conf, ok, n));
}

/* A KB of the threads (every one, parity < 0, or those of that parity) under dir. */
static struct kb *
build_faq_kb(struct corpus *c, const char *dir, int parity)
{
	char *kbdir = xasprintf("%s/kb%d", dir, parity);
	mkdir(kbdir, 0700);
	for (int i = 0; i < c->ndocs; i++) {
		const char *body = strchr(c->docs[i], '\n');
		if (parity < 0 || i % 2 == parity)
			write_fact(kbdir, i, c->titles[i], body ? body : c->docs[i], "2026-11-01");
	}
	char *index = xasprintf("%s/index%d.sqlite", dir, parity);
	struct diag d = {0};
	char *cause;
	struct kb *kb = kb_open(kbdir, index, &d, &cause);
	for (size_t i = 0; i < d.msgs.n; i++)
		fprintf(stderr, "%s\n", d.msgs.v[i]);
	if (kb == NULL)
		die(cause);
	diag_free(&d);
	free(kbdir);
	free(index);
	return kb;
}

/* ------------------------------------------------------------ gold set */

/*
 * The labelled tickets: every customer message of a ticket file, with the
 * facts that answer it (data/tickets/acme-gold-facts.tsv, see its README).
 */
struct gold {
	char *ticket;
	int turn;
	char kind;           /* 'q' question, 'f' follow-up, 'o' other */
	struct strv facts;   /* empty: no fact answers it */
	char *text;          /* the message */
	struct kb_hint hint; /* triage's reading of it, with --triage */
	int hinted;
};

struct gold_set {
	struct gold *v;
	int n;
};

/* The ticket with id in the array of tickets, or NULL. */
static cJSON *
ticket_find(cJSON *tickets, const char *id)
{
	cJSON *t;
	cJSON_ArrayForEach(t, tickets)
	{
		const char *tid = cJSON_GetStringValue(cJSON_GetObjectItem(t, "id"));
		if (tid != NULL && strcmp(tid, id) == 0)
			return t;
	}
	return NULL;
}

/* The ticket's nth (1-based) customer message, or NULL. */
static const char *
ticket_message(cJSON *t, int turn)
{
	int n = 0;
	cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(t, "messages"))
	{
		const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
		if (role != NULL && strcmp(role, "customer") == 0 && ++n == turn)
			return cJSON_GetStringValue(cJSON_GetObjectItem(m, "text"));
	}
	return NULL;
}

/*
 * The gold rows of the tickets in tickets_path (rows of other tickets are
 * skipped), their fact ids checked against the facts under kbdir.
 */
static void
load_gold(const char *kbdir, const char *tickets_path, const char *gold_path, struct gold_set *g)
{
	char *cause;
	char *text = file_read(tickets_path, 0, NULL, &cause);
	if (text == NULL)
		die(cause);
	cJSON *tickets = cJSON_CreateArray();
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		cJSON *t = cJSON_Parse(line);
		if (t == NULL)
			die(xasprintf("%s: not JSON Lines", tickets_path));
		cJSON_AddItemToArray(tickets, t);
	}
	free(text);
	struct kb_facts facts = {0};
	struct diag d = {0};
	if (kb_load_dir(kbdir, &facts, &d, &cause) != 0)
		die(cause);
	diag_free(&d);

	text = file_read(gold_path, 0, NULL, &cause);
	if (text == NULL)
		die(cause);
	int lineno = 0;
	memset(g, 0, sizeof *g);
	char *next = text;
	for (char *p; (p = strsep(&next, "\n")) != NULL;) {
		lineno++;
		if (*p == '#' || *p == '\0')
			continue;
		char *col[5] = {0};
		int nc = 0;
		for (char *c; nc < 5 && (c = strsep(&p, "\t")) != NULL;)
			col[nc++] = c;
		if (nc < 4)
			die(xasprintf("%s:%d: expected ticket, turn, kind, facts", gold_path,
			              lineno));
		cJSON *t = ticket_find(tickets, col[0]);
		if (t == NULL)
			continue; /* another ticket file's row */
		const char *msg = ticket_message(t, atoi(col[1]));
		if (msg == NULL)
			die(xasprintf("%s:%d: %s has no customer message %s", gold_path, lineno,
			              col[0], col[1]));
		g->v = xreallocarray(g->v, (size_t)g->n + 1, sizeof *g->v);
		struct gold *r = &g->v[g->n++];
		memset(r, 0, sizeof *r);
		r->ticket = xstrdup(col[0]);
		r->turn = atoi(col[1]);
		r->kind = strcmp(col[2], "question") == 0   ? 'q'
		          : strcmp(col[2], "followup") == 0 ? 'f'
		          : strcmp(col[2], "other") == 0    ? 'o'
		                                            : 0;
		if (r->kind == 0)
			die(xasprintf("%s:%d: kind '%s' is not question, followup or other",
			              gold_path, lineno, col[2]));
		r->text = xstrdup(msg);
		if (strcmp(col[3], "none") == 0 || strcmp(col[3], "-") == 0)
			continue;
		for (char *id = strtok(col[3], ","); id != NULL; id = strtok(NULL, ",")) {
			size_t i = 0;
			while (i < facts.n && strcmp(facts.v[i].id, id) != 0)
				i++;
			if (i == facts.n)
				die(xasprintf("%s:%d: no fact '%s' in %s", gold_path, lineno, id,
				              kbdir));
			strv_add(&r->facts, id);
		}
	}
	free(text);
	kb_facts_free(&facts);
	cJSON_Delete(tickets);
}

/* BENCH_KB_VERBOSE=1: each message whose top hit is wrong or under 0.5, with its hits. */
static int verbose;

static void
gold_explain(const struct gold *x, const struct result *r, const struct kb_hits *h)
{
	int bad = x->facts.n ? r->rank != 1 || r->top_conf < 0.5 : r->top_conf >= 0.5;
	if (!bad || x->kind == 'o')
		return;
	printf("%s.%d %c rank %d: %s\n", x->ticket, x->turn, x->kind, r->rank, x->text);
	for (size_t j = 0; j < h->n && j < 5; j++) {
		printf("   %.2f %c %-50s", h->v[j].confidence, r->correct[j] ? '*' : ' ',
		       h->v[j].fact.id);
		for (int k = 0; k < KB_NFEAT; k++)
			printf(" %5.2f", h->v[j].feat[k]);
		printf("\n");
	}
}

/* Searches every gold message: rank of the first gold fact (0: none among the hits). */
static void
run_gold(struct kb *kb, const struct gold_set *g, struct result *r)
{
	for (int i = 0; i < g->n; i++) {
		struct kb_hits h;
		char *cause;
		if (kb_search_hinted(kb, g->v[i].text, HITS, NULL,
		                     g->v[i].hinted ? &g->v[i].hint : NULL, &h, &cause) != 0)
			die(cause);
		memset(&r[i], 0, sizeof r[i]);
		r[i].nhits = (int)h.n;
		for (size_t j = 0; j < h.n; j++) {
			int ok = strv_contains(&g->v[i].facts, h.v[j].fact.id);
			if (ok && r[i].rank == 0)
				r[i].rank = (int)j + 1;
			r[i].correct[j] = ok;
			memcpy(r[i].feat[j], h.v[j].feat, sizeof r[i].feat[j]);
		}
		r[i].top_conf = h.n ? h.v[0].confidence : 0;
		if (verbose)
			gold_explain(&g->v[i], &r[i], &h);
		kb_hits_free(&h);
	}
}

/*
 * One line of the gold table: ranking of the questions a fact answers
 * (MRR@5, R@1, R@3, and how many are answered right at or over the 0.5
 * retrieval floor), the share of unanswerable questions and of other
 * messages whose top hit reaches it (confidently wrong), and how well the
 * top hit's confidence says whether it is a gold fact, over every
 * question (ECE, AUROC); follow-ups' MRR@5 apart.
 */
static void
gold_line(const char *name, const struct gold_set *g, const struct result *r)
{
	int nq = 0, r1 = 0, r3 = 0, floor_ok = 0, nnone = 0, none_hi = 0, nother = 0, other_hi = 0,
	    nf = 0, nc = 0;
	double mrr = 0, fmrr = 0;
	double *conf = xcalloc((size_t)g->n, sizeof *conf);
	int *ok = xcalloc((size_t)g->n, sizeof *ok);
	for (int i = 0; i < g->n; i++) {
		const struct gold *x = &g->v[i];
		int rank = r[i].rank <= 5 ? r[i].rank : 0;
		if (x->kind == 'o') {
			nother++;
			other_hi += r[i].top_conf >= 0.5;
		} else if (x->kind == 'f') {
			if (x->facts.n > 0) {
				nf++;
				fmrr += rank ? 1.0 / rank : 0;
			}
		} else {
			if (x->facts.n > 0) {
				nq++;
				mrr += rank ? 1.0 / rank : 0;
				r1 += rank == 1;
				r3 += rank >= 1 && rank <= 3;
				floor_ok += rank == 1 && r[i].top_conf >= 0.5;
			} else {
				nnone++;
				none_hi += r[i].top_conf >= 0.5;
			}
			conf[nc] = r[i].top_conf;
			ok[nc++] = r[i].nhits > 0 && r[i].correct[0];
		}
	}
	printf(
	    "| %-10s | %3d | %5.3f | %5.3f | %5.3f | %7.3f | %2d/%-2d %4.2f  | %2d/%-2d %4.2f  | "
	    "%5.3f | %5.3f | %6.3f |\n",
	    name, nq, nq ? mrr / nq : 0, nq ? (double)r1 / nq : 0, nq ? (double)r3 / nq : 0,
	    nq ? (double)floor_ok / nq : 0, none_hi, nnone, nnone ? (double)none_hi / nnone : 0,
	    other_hi, nother, nother ? (double)other_hi / nother : 0, ece(conf, ok, nc),
	    auroc(conf, ok, nc), nf ? fmrr / nf : 0);
	free(conf);
	free(ok);
}

static void
gold_free(struct gold_set *g)
{
	for (int i = 0; i < g->n; i++) {
		free(g->v[i].ticket);
		free(g->v[i].text);
		strv_free(&g->v[i].facts);
	}
	free(g->v);
}

/* The offline triage engine, as the agent runs it: MODEL DATADIR POLICY. */
static struct triage *
triage_load(char **argv, const char *kbdir, struct policy **p)
{
	struct diag d = {0};
	*p = policy_load(argv[2], &d);
	if (*p == NULL)
		die(diag_join(&d));
	diag_free(&d);
	char *catalog = xasprintf("%s/catalog.yaml", kbdir);
	char *cause;
	int ex;
	struct triage *t = triage_open(argv[0], argv[1], catalog, *p, &cause, &ex);
	if (t == NULL)
		die(cause);
	free(catalog);
	return t;
}

/* Each message's topic hint: triage's intent and its confidence. */
static void
gold_hint(struct triage *t, struct gold_set *g)
{
	for (int i = 0; i < g->n; i++) {
		struct triage_result tr;
		triage_run(t, g->v[i].text, strlen(g->v[i].text), TIER_STANDARD, &tr);
		g->v[i].hint = kb_hint_category(tr.intent_category, tr.intent_confidence);
		g->v[i].hinted = 1;
		triage_result_free(&tr);
	}
}

/*
 * bench_kb gold KBDIR GOLD.tsv [--triage MODEL DATADIR POLICY] NAME=TICKETS.jsonl...:
 * one table line per ticket file, and with triage one more with its
 * topic hints, as the agent searches.
 */
static int
cmd_gold(int argc, char **argv)
{
	const char *kbdir = argv[2], *gold_path = argv[3];
	verbose = getenv("BENCH_KB_VERBOSE") != NULL;
	struct diag d = {0};
	char *cause;
	struct kb *kb = kb_open(kbdir, ":memory:", &d, &cause);
	if (kb == NULL)
		die(cause);
	diag_free(&d);
	struct policy *p = NULL;
	struct triage *t = NULL;
	int a = 4;
	if (argc > 7 && strcmp(argv[4], "--triage") == 0) {
		t = triage_load(argv + 5, kbdir, &p);
		a = 8;
	}
	printf("| split      | Qs  | MRR@5 | R@1   | R@3   | R@1>=.5 | none >= .5  | other >= .5 "
	       "| ECE   | AUROC | fu MRR |\n");
	printf("|------------|-----|-------|-------|-------|---------|-------------|-------------"
	       "|-------|-------|--------|\n");
	for (; a < argc; a++) {
		char *name = xstrdup(argv[a]);
		char *eq = strchr(name, '=');
		if (eq == NULL)
			die("usage: bench_kb gold KBDIR GOLD.tsv [--triage MODEL DATADIR POLICY] "
			    "NAME=TICKETS.jsonl...");
		*eq = '\0';
		struct gold_set g;
		load_gold(kbdir, eq + 1, gold_path, &g);
		struct result *r = xcalloc((size_t)g.n, sizeof *r);
		run_gold(kb, &g, r);
		gold_line(name, &g, r);
		if (t != NULL) {
			char *hinted = xasprintf("%s, hint", name);
			gold_hint(t, &g);
			run_gold(kb, &g, r);
			gold_line(hinted, &g, r);
			free(hinted);
		}
		free(r);
		gold_free(&g);
		free(name);
	}
	triage_close(t);
	policy_free(p);
	kb_close(kb);
	return 0;
}

/* ------------------------------------------------------------ fitting */

/*
 * Row weights in the fit. Every StackFAQ paraphrase is asked twice, once
 * of a KB that holds its thread and once of one that does not; weighing
 * the second by a quarter makes one question in five unanswerable, about
 * the share among the development tickets' questions. The gold questions
 * are few but phrased as customers phrase them.
 */
#define FIT_NONE_WEIGHT 0.25
#define FIT_GOLD_WEIGHT 5.0

/* Weighted logistic regression by Newton's method on rows x (KB_NFEAT) with labels y. */
static void
fit_logistic(double (*x)[KB_NFEAT], const int *y, const double *wt, int n, double w[KB_NFEAT + 1])
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
				g[k] += wt[i] * (p - y[i]) * f[k];
				for (int l = 0; l < D; l++)
					H[k][l] += wt[i] * p * (1 - p) * f[k] * f[l];
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

/*
 * The confidence model as kb_calibrate computes it: a linear score of
 * the features that orders the hits, and a logistic map of that score
 * fitted on the top hits, the ones a threshold is applied to.
 */
struct model {
	double w[KB_NFEAT + 1];
	double a, b;
};

static double
score(const struct model *m, const double *f)
{
	double z = m->w[0];
	for (int k = 0; k < KB_NFEAT; k++)
		z += m->w[k + 1] * f[k];
	return z;
}

static double
predict(const struct model *m, const double *f)
{
	return 1 / (1 + exp(-(m->a * score(m, f) + m->b)));
}

/* Weighted logistic regression of y on one score z: p = 1 / (1 + exp(-(a z + b))). */
static void
fit_platt(const double *z, const int *y, const double *wt, int n, double *a, double *b)
{
	*a = 1;
	*b = 0;
	for (int it = 0; it < 100; it++) {
		double ga = 0, gb = 0, haa = 1e-6, hab = 0, hbb = 1e-6;
		for (int i = 0; i < n; i++) {
			double p = 1 / (1 + exp(-(*a * z[i] + *b)));
			double d = wt[i] * (p - y[i]), h = wt[i] * p * (1 - p);
			ga += d * z[i];
			gb += d;
			haa += h * z[i] * z[i];
			hab += h * z[i];
			hbb += h;
		}
		double det = haa * hbb - hab * hab;
		if (det == 0)
			break;
		double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
		*a -= da;
		*b -= db;
		if (fabs(da) + fabs(db) < 1e-10)
			break;
	}
}

/*
 * Queries whose hits train the model: their results, the fold each
 * query is in (its thread's, or its ticket's, parity), and the weight of
 * each of their rows.
 */
struct source {
	const char *name;
	const struct result *r;
	const int *fold;
	int n;
	double weight;
	const int *answerable; /* the query's gold fact is in the KB; NULL: every query's is */
	int sample_none; /* unanswerable queries weigh FIT_NONE_WEIGHT, and as many are measured */
};

struct rowset {
	double (*x)[KB_NFEAT];
	int *y;
	double *w;
	int n;
};

/* Every hit of the sources' queries outside fold (all of them, fold < 0). */
static void
rows_of(const struct source *src, int nsrc, int fold, struct rowset *rs)
{
	int cap = 0;
	for (int s = 0; s < nsrc; s++)
		cap += src[s].n * HITS;
	rs->x = xcalloc((size_t)cap, sizeof *rs->x);
	rs->y = xcalloc((size_t)cap, sizeof *rs->y);
	rs->w = xcalloc((size_t)cap, sizeof *rs->w);
	rs->n = 0;
	for (int s = 0; s < nsrc; s++)
		for (int i = 0; i < src[s].n; i++) {
			const struct result *r = &src[s].r[i];
			if (fold >= 0 && src[s].fold[i] == fold)
				continue;
			for (int j = 0; j < r->nhits; j++) {
				memcpy(rs->x[rs->n], r->feat[j], sizeof rs->x[rs->n]);
				rs->y[rs->n] = r->correct[j];
				int ans = src[s].answerable == NULL || src[s].answerable[i];
				rs->w[rs->n++] = src[s].weight *
				                 (!ans && src[s].sample_none ? FIT_NONE_WEIGHT : 1);
			}
		}
}

static void
rowset_free(struct rowset *rs)
{
	free(rs->x);
	free(rs->y);
	free(rs->w);
}

/* The index of the hit m ranks first. */
static int
top_hit(const struct model *m, const struct result *r)
{
	int top = 0;
	for (int j = 1; j < r->nhits; j++)
		if (score(m, r->feat[j]) > score(m, r->feat[top]))
			top = j;
	return top;
}

/* Is query i of x measured and fitted? Unanswerable StackFAQ ones: as many as they weigh. */
static int
counted(const struct source *x, int i)
{
	int ans = x->answerable == NULL || x->answerable[i];
	return ans || !x->sample_none || i % (int)(1 / FIT_NONE_WEIGHT) == 0;
}

/*
 * Both stages on every query outside fold (all, fold < 0): the linear
 * score on all the hits, then its map to a probability on the top hits.
 */
static void
fit_model(const struct source *src, int nsrc, int fold, struct model *m)
{
	struct rowset rs;
	rows_of(src, nsrc, fold, &rs);
	fit_logistic(rs.x, rs.y, rs.w, rs.n, m->w);
	rowset_free(&rs);
	int cap = 0, n = 0;
	for (int s = 0; s < nsrc; s++)
		cap += src[s].n;
	double *z = xcalloc((size_t)cap, sizeof *z), *wt = xcalloc((size_t)cap, sizeof *wt);
	int *y = xcalloc((size_t)cap, sizeof *y);
	for (int s = 0; s < nsrc; s++)
		for (int i = 0; i < src[s].n; i++) {
			const struct result *r = &src[s].r[i];
			if ((fold >= 0 && src[s].fold[i] == fold) || r->nhits == 0 ||
			    !counted(&src[s], i))
				continue;
			int top = top_hit(m, r);
			z[n] = score(m, r->feat[top]);
			y[n] = r->correct[top];
			wt[n++] = src[s].weight;
		}
	fit_platt(z, y, wt, n, &m->a, &m->b);
	free(z);
	free(wt);
	free(y);
}

/*
 * Fits on all sources but one fold, measures the held-out fold's top
 * hits as kb_search would order them, and the other way round; then fits
 * on everything and prints the model.
 */
static int
cmd_fit(const struct source *src, int nsrc)
{
	struct model m[2];
	for (int fold = 0; fold < 2; fold++)
		fit_model(src, nsrc, fold, &m[fold]);
	for (int s = 0; s < nsrc; s++) {
		const struct source *x = &src[s];
		double *conf = xcalloc((size_t)x->n, sizeof *conf), mrr = 0;
		int *ok = xcalloc((size_t)x->n, sizeof *ok), n = 0, r1 = 0, nans = 0, nnone = 0,
		    hi = 0;
		for (int i = 0; i < x->n; i++) {
			const struct result *r = &x->r[i];
			const struct model *mf =
			    &m[x->fold[i]]; /* fitted without this query's fold */
			int ans = x->answerable == NULL || x->answerable[i];
			if (!counted(x, i))
				continue;
			int top = top_hit(mf, r), gold = -1;
			for (int j = 0; j < r->nhits && gold < 0; j++)
				if (r->correct[j])
					gold = j;
			conf[n] = r->nhits ? predict(mf, r->feat[top]) : 0;
			ok[n] = r->nhits && r->correct[top];
			nans += ans;
			nnone += !ans;
			hi += conf[n] >= 0.5 && !ans;
			n++;
			if (gold >= 0) {
				int better = 0;
				for (int k = 0; k < r->nhits; k++)
					better += k != gold &&
					          score(mf, r->feat[k]) > score(mf, r->feat[gold]);
				mrr += better < 10 ? 1.0 / (better + 1) : 0;
				r1 += better == 0;
			}
		}
		printf(
		    "%s, held out (2-fold): MRR@10 %.3f, R@1 %.3f over %d answerable; "
		    "unanswerable with a top hit >= 0.5: %d/%d; top hits: AUROC %.3f, ECE %.3f\n",
		    x->name, nans ? mrr / nans : 0, nans ? (double)r1 / nans : 0, nans, hi, nnone,
		    auroc(conf, ok, n), ece(conf, ok, n));
		free(conf);
		free(ok);
	}
	fit_model(src, nsrc, -1, &m[0]);
	printf("the model fitted on every query:\nstatic const double calib_w[KB_NFEAT + 1] = {");
	for (int k = 0; k <= KB_NFEAT; k++)
		printf("%s%.3f", k ? ", " : "", m[0].w[k]);
	printf("};\nstatic const double calib_ab[2] = {%.3f, %.3f};\n", m[0].a, m[0].b);
	return 0;
}

/* Of the queries no fact answers, how many have a top hit at or over 0.5. */
static void
unanswerable_line(const char *name, const struct result *none, int n)
{
	int hi = 0;
	for (int i = 0; i < n; i++)
		hi += none[i].nhits > 0 && none[i].top_conf >= 0.5;
	printf("%s: %d of %d (%.1f%%) have a top hit at or over 0.5\n", name, hi, n,
	       100.0 * hi / n);
}

static int
cmd_quality(struct corpus *c, const struct result *ours, const struct result *none)
{
	struct result *plain = xcalloc((size_t)c->nq, sizeof *plain);
	run_plain(c, plain);
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
	unanswerable_line("queries searched in a KB of the other half of the threads", none, c->nq);
	/* Both together, one unanswerable question in five as in the fit. */
	conf = xreallocarray(conf, (size_t)c->nq * 2, sizeof *conf);
	ok = xreallocarray(ok, (size_t)c->nq * 2, sizeof *ok);
	int m = n;
	for (int i = 0; i < c->nq; i += (int)(1 / FIT_NONE_WEIGHT)) {
		conf[m] = none[i].nhits > 0 ? none[i].top_conf : 0;
		ok[m++] = 0;
	}
	printf("top hits of both, one unanswerable question in five (%d of %d): AUROC %.3f, "
	       "ECE %.3f\n",
	       m - n, m, auroc(conf, ok, m), ece(conf, ok, m));
	free(conf);
	free(ok);
	free(plain);
	return 0;
}

/*
 * bench_kb fit STACKFAQ.json [KBDIR GOLD.tsv TICKETS.jsonl]: StackFAQ's
 * paraphrases against every thread and, as questions no fact answers,
 * against the other half's threads; with a gold set, its questions too.
 */
static int
fit_sources(struct corpus *c, const struct result *ours, const struct result *none, int argc,
            char **argv)
{
	/* Each paraphrase twice: of the whole KB, then of the half without its thread. */
	int n2 = 2 * c->nq;
	int *fold = xcalloc((size_t)n2, sizeof *fold);
	int *ans = xcalloc((size_t)n2, sizeof *ans);
	struct result *both = xcalloc((size_t)n2, sizeof *both);
	for (int i = 0; i < c->nq; i++) {
		fold[i] = fold[c->nq + i] = c->q[i].gold % 2;
		ans[i] = 1;
		both[i] = ours[i];
		both[c->nq + i] = none[i];
	}
	struct source src[2] = {
	    {.name = "StackFAQ",
	     .r = both,
	     .fold = fold,
	     .n = n2,
	     .weight = 1,
	     .answerable = ans,
	     .sample_none = 1},
	};
	int nsrc = 1;
	struct gold_set g = {0};
	struct result *gr = NULL;
	int *gfold = NULL, *gans = NULL;
	if (argc >= 6) {
		struct diag d = {0};
		char *cause;
		struct kb *kb = kb_open(argv[3], ":memory:", &d, &cause);
		if (kb == NULL)
			die(cause);
		diag_free(&d);
		struct gold_set all;
		load_gold(argv[3], argv[5], argv[4], &all);
		if (argc > 9 && strcmp(argv[6], "--triage") == 0) {
			struct policy *p;
			struct triage *t = triage_load(argv + 7, argv[3], &p);
			gold_hint(t, &all);
			triage_close(t);
			policy_free(p);
		}
		/* Questions read on their own; follow-ups need the turns before them. */
		g.v = xcalloc((size_t)all.n, sizeof *g.v);
		for (int i = 0; i < all.n; i++)
			if (all.v[i].kind == 'q')
				g.v[g.n++] = all.v[i];
		gr = xcalloc((size_t)g.n, sizeof *gr);
		gfold = xcalloc((size_t)g.n, sizeof *gfold);
		gans = xcalloc((size_t)g.n, sizeof *gans);
		run_gold(kb, &g, gr);
		for (int i = 0; i < g.n; i++) {
			const char *digits = g.v[i].ticket + strcspn(g.v[i].ticket, "0123456789");
			gfold[i] = atoi(digits) % 2; /* by ticket */
			gans[i] = g.v[i].facts.n > 0;
		}
		src[nsrc++] = (struct source){.name = "gold questions",
		                              .r = gr,
		                              .fold = gfold,
		                              .n = g.n,
		                              .weight = FIT_GOLD_WEIGHT,
		                              .answerable = gans};
		kb_close(kb);
		free(g.v);
		g = all;
	}
	int rc = cmd_fit(src, nsrc);
	gold_free(&g);
	free(gr);
	free(gfold);
	free(gans);
	free(fold);
	free(ans);
	free(both);
	return rc;
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
		fprintf(stderr,
		        "usage: bench_kb quality STACKFAQ.json\n"
		        "       bench_kb fit STACKFAQ.json [KBDIR GOLD.tsv TICKETS.jsonl\n"
		        "                                   [--triage MODEL DATADIR POLICY]]\n"
		        "       bench_kb latency STACKFAQ.json N [QUERIES]\n"
		        "       bench_kb gold KBDIR GOLD.tsv [--triage MODEL DATADIR POLICY]\n"
		        "                                   NAME=TICKETS.jsonl...\n");
		return 64;
	}
	if (strcmp(argv[1], "gold") == 0) {
		if (argc < 5)
			die("usage: bench_kb gold KBDIR GOLD.tsv NAME=TICKETS.jsonl...");
		return cmd_gold(argc, argv);
	}
	struct corpus c = {0};
	load_stackfaq(argv[2], &c);
	if (strcmp(argv[1], "latency") == 0)
		return cmd_latency(&c, argc > 3 ? atoi(argv[3]) : 1000,
		                   argc > 4 ? atoi(argv[4]) : 1000);
	char dir[] = "/tmp/frontline-bench-XXXXXX";
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	struct kb *all[2] = {build_faq_kb(&c, dir, -1), NULL};
	struct kb *half[2] = {build_faq_kb(&c, dir, 1), build_faq_kb(&c, dir, 0)};
	struct result *ours = xcalloc((size_t)c.nq, sizeof *ours);
	struct result *none = xcalloc((size_t)c.nq, sizeof *none);
	run_ours(all, &c, ours);
	run_ours(half, &c, none);
	int rc = strcmp(argv[1], "fit") == 0 ? fit_sources(&c, ours, none, argc, argv)
	                                     : cmd_quality(&c, ours, none);
	kb_close(all[0]);
	kb_close(half[0]);
	kb_close(half[1]);
	free(ours);
	free(none);
	char *rm = xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return rc;
}
