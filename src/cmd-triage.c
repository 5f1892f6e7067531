/* cmd-triage.c -- frontline triage: the triage agent on a message or a stream of them. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "classifier.h"
#include "cmd.h"
#include "loop.h"
#include "model.h"
#include "safe-text.h"
#include "triage-model.h"
#include "triage.h"

static void
print_text(const struct triage_result *r)
{
	const struct entities *e = &r->entities;
	printf("intent      %s (%.2f)\n", category_names[r->intent_category], r->intent_confidence);
	text_printf(stdout, "urgency     %s%s%s%s\n", urgency_names[r->urgency],
	            r->urgency_rule ? " (" : "", r->urgency_rule ? r->urgency_rule : "",
	            r->urgency_rule ? ")" : "");
	printf("sentiment   %s (%.2f%s)\n", sentiment_names[r->sentiment], r->sentiment_score,
	       r->profanity ? ", profanity" : "");
	printf("complexity  %s", complexity_names[r->complexity_signal]);
	static const char *const why[] = {"multiple issues", "earlier contact", "legal language",
	                                  "emotional intensity"};
	for (int i = 0, first = 1; i < 4; i++)
		if (r->complexity_reasons & (1u << i)) {
			printf("%s%s", first ? " (" : ", ", why[i]);
			first = 0;
		}
	printf("%s\n", r->complexity_reasons ? ")" : "");
	printf("legal       %s\n", r->has_legal_language ? "yes" : "no");
	printf("route       %s\n", route_names[r->route]);
	const struct {
		const char *name;
		const struct strv *v;
	} lists[] = {{"orders", &e->order_numbers},
	             {"accounts", &e->account_ids},
	             {"emails", &e->emails},
	             {"phones", &e->phones},
	             {"products", &e->products}};
	for (size_t i = 0; i < nitems(lists); i++)
		for (size_t j = 0; j < lists[i].v->n; j++)
			text_printf(stdout, "%-11s %s\n", j ? "" : lists[i].name, lists[i].v->v[j]);
	for (size_t i = 0; i < e->namounts; i++)
		text_printf(stdout, "%-11s %.2f %s\n", i ? "" : "amounts", e->amounts[i].value,
		            e->amounts[i].currency);
}

/* Writes all of b to stdout; returns 0 or -1. */
static int
flush_out(struct buf *b)
{
	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		return -1;
	buf_reset(b);
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Lines of input, and where each one's answers go. */
struct batch {
	const struct triage *t;
	enum tier tier;
	char *const *line; /* NUL-terminated, in place in the input buffer */
	const size_t *len;
	size_t from, to;
	struct buf out;
};

static void
batch_run(struct batch *b)
{
	for (size_t i = b->from; i < b->to; i++) {
		struct triage_result r;
		triage_run(b->t, b->line[i], b->len[i], b->tier, &r);
		triage_json_write(&r, &b->out);
		buf_addc(&b->out, '\n');
		triage_result_free(&r);
	}
}

static void *
batch_thread(void *arg)
{
	batch_run(arg);
	return NULL;
}

/* Below this many lines a batch is not worth a second thread. */
#define PARALLEL_MIN 512
#define MAX_JOBS     16

/*
 * Triage of n lines into out, in order, on up to jobs threads (the engine
 * is read-only while it runs, so threads share it).
 */
static void
triage_lines(const struct triage *t, enum tier tier, char *const *line, const size_t *len, size_t n,
             int jobs, struct buf *out)
{
	struct batch b[MAX_JOBS];
	pthread_t th[MAX_JOBS];
	int started[MAX_JOBS] = {0};

	if (n < PARALLEL_MIN || jobs < 2)
		jobs = 1;
	for (int j = 0; j < jobs; j++) {
		b[j] = (struct batch){.t = t,
		                      .tier = tier,
		                      .line = line,
		                      .len = len,
		                      .from = n * (size_t)j / (size_t)jobs,
		                      .to = n * (size_t)(j + 1) / (size_t)jobs};
		buf_init(&b[j].out, 0);
	}
	for (int j = 1; j < jobs; j++)
		started[j] = pthread_create(&th[j], NULL, batch_thread, &b[j]) == 0;
	batch_run(&b[0]);
	for (int j = 1; j < jobs; j++) {
		if (started[j])
			pthread_join(th[j], NULL);
		else
			batch_run(&b[j]); /* no thread to be had: do it here */
	}
	for (int j = 0; j < jobs; j++) {
		buf_add(out, b[j].out.data, b[j].out.len);
		buf_free(&b[j].out);
	}
}

/*
 * One JSON object per input line, in order (an empty line gets one too,
 * so outputs line up with inputs). Answers are written out whenever no
 * more input is waiting, so a program driving frontline through a pipe
 * gets each answer at once, and a big batch gets big writes, shared out
 * over jobs threads.
 */
static int
triage_stream(struct ctx *ctx, struct triage *t, enum tier tier, int jobs)
{
	struct buf in, out;
	size_t chunk = 1u << 20, cap = 0;
	char **line = NULL;
	size_t *len = NULL;
	int eof = 0, rc = EX_OK;

	buf_init(&in, 0);
	buf_init(&out, 0);
	while (!eof) {
		if (flush_out(&out) != 0) {
			fl_warnx("standard output: %s", strerror(errno));
			rc = EX_IOERR;
			break;
		}
		/* Room for a big read, then whatever one read gives. */
		if (in.cap - in.len < chunk + 2) {
			in.data = xrealloc(in.data, in.len + chunk + 2);
			in.cap = in.len + chunk + 2;
		}
		ssize_t n = read(STDIN_FILENO, in.data + in.len, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fl_warnx("standard input: %s", strerror(errno));
			rc = EX_IOERR;
			break;
		}
		if (n == 0) {
			eof = 1;
			if (in.len > 0 && in.data[in.len - 1] != '\n')
				in.data[in.len++] = '\n'; /* a last line without a newline */
		} else
			in.len += (size_t)n;
		in.data[in.len] = '\0';

		if (ctx->policy_loaded) {
			const struct policy *before = ctx->policy.current;
			ctx_policy_poll(ctx);
			char *cause;
			if (ctx->policy.current != before &&
			    triage_set_policy(t, ctx->policy.current, &cause) != 0) {
				fl_warnx("%s", cause);
				free(cause);
			}
		}

		/* Split the complete lines in place. */
		size_t nlines = 0, start = 0;
		for (char *nl; (nl = memchr(in.data + start, '\n', in.len - start)) != NULL;) {
			if (nlines == cap) {
				cap = cap ? cap * 2 : 1024;
				line = xreallocarray(line, cap, sizeof *line);
				len = xreallocarray(len, cap, sizeof *len);
			}
			size_t l = (size_t)(nl - (in.data + start));
			if (l > 0 && in.data[start + l - 1] == '\r')
				l--;
			in.data[start + l] = '\0';
			line[nlines] = in.data + start;
			len[nlines++] = l;
			start = (size_t)(nl - in.data) + 1;
		}
		triage_lines(t, tier, line, len, nlines, jobs, &out);
		/* Keep only the unfinished line. */
		memmove(in.data, in.data + start, in.len - start);
		in.len -= start;
	}
	if (rc == EX_OK && flush_out(&out) != 0)
		rc = EX_IOERR;
	free(line);
	free(len);
	buf_free(&in);
	buf_free(&out);
	return rc;
}

/* ------------------------------------------------- on a model backend */

/* Requests in flight at once when each stdin line goes to a model. */
#define MODEL_WINDOW 64

struct mslot {
	char *text;
	struct triage_result r;
	int done;
};

static void
mslot_done(const struct model_result *res, void *arg)
{
	struct mslot *s = arg;
	s->done = 1;
	if (!res->ok)
		fl_warnx("triage model: %s (%s); the offline result stands",
		         res->error ? res->error : "failed", res->fault ? res->fault : "error");
}

/* Starts one line: the offline result first, then the model refines it. */
static void
mslot_start(struct mslot *s, struct ctx *ctx, struct triage *t, struct models *m, enum tier tier)
{
	char *cause = NULL;
	s->done = 0;
	triage_run(t, s->text, strlen(s->text), tier, &s->r);
	if (triage_model_start(m, ctx->policy.current, s->text, tier, &s->r, mslot_done, s, &cause) !=
	    0) {
		fl_warnx("triage model: %s; the offline result stands", cause);
		free(cause);
		s->done = 1;
	}
}

/*
 * Each stdin line through the triage model, up to MODEL_WINDOW at once,
 * answers printed in input order as they complete.
 */
static int
triage_model_stream(struct ctx *ctx, struct triage *t, struct models *m, enum tier tier)
{
	struct mslot ring[MODEL_WINDOW];
	size_t head = 0, n = 0;
	char *line = NULL;
	size_t cap = 0;
	int eof = 0, rc = EX_OK;
	struct buf out;
	buf_init(&out, 0);
	while (!eof || n > 0) {
		while (!eof && n < MODEL_WINDOW) {
			ssize_t l = getline(&line, &cap, stdin);
			if (l < 0) {
				eof = 1;
				break;
			}
			while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
				line[--l] = '\0';
			struct mslot *s = &ring[(head + n++) % MODEL_WINDOW];
			s->text = xstrdup(line);
			mslot_start(s, ctx, t, m, tier);
		}
		while (n > 0 && ring[head].done) {
			struct mslot *s = &ring[head];
			buf_reset(&out);
			triage_json_write(&s->r, &out);
			if (fputs(out.data, stdout) == EOF || fputc('\n', stdout) == EOF)
				rc = EX_IOERR;
			triage_result_free(&s->r);
			free(s->text);
			head = (head + 1) % MODEL_WINDOW;
			n--;
		}
		fflush(stdout);
		if (n > 0 && !ring[head].done)
			loop_once(models_loop(m), -1);
	}
	free(line);
	buf_free(&out);
	return rc;
}

/* --which: the model in use, where it comes from, and its hash. */
static int
which_model(struct ctx *ctx, const char *model, int json)
{
	const char *source;
	char *path;
	int ex;
	struct classifier *c = ctx_intent_model(ctx, model, &path, &source, &ex);
	if (c == NULL) {
		free(path);
		return ex;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject(), *cl = cJSON_CreateArray();
		cJSON_AddStringToObject(o, "model", path);
		cJSON_AddStringToObject(o, "source", source);
		cJSON_AddStringToObject(o, "sha256", classifier_sha256(c));
		cJSON_AddNumberToObject(o, "temperature", classifier_temperature(c));
		for (int i = 0; i < classifier_nclasses(c); i++)
			cJSON_AddItemToArray(cl, cJSON_CreateString(classifier_label(c, i)));
		cJSON_AddItemToObject(o, "classes", cl);
		char *s = cJSON_PrintUnformatted(o);
		puts(s);
		free(s);
		cJSON_Delete(o);
	} else {
		printf("model        %s\n", path);
		printf("from         %s\n", source);
		printf("sha256       %s\n", classifier_sha256(c));
		printf("temperature  %.2f\n", classifier_temperature(c));
		printf("classes     ");
		for (int i = 0; i < classifier_nclasses(c); i++)
			printf(" %s", classifier_label(c, i));
		printf("\n");
	}
	classifier_free(c);
	free(path);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

static int
cmd_triage(struct ctx *ctx, const struct cmd_args *a)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int json = cmd_args_has(a, "json"), ex = EX_OK;
	int jobs = (int)cmd_args_number(a, "jobs",
	                                ncpu < 1          ? 1
	                                : ncpu > MAX_JOBS ? MAX_JOBS
	                                                  : ncpu);
	enum tier tier = (enum tier)cmd_args_choice(a, "tier", TIER_STANDARD);
	const char *model = cmd_args_get(a, "model");
	if (cmd_args_has(a, "which")) {
		if (a->argc > 0) {
			fl_warnx("--which takes no text");
			return EX_USAGE;
		}
		return which_model(ctx, model, json);
	}
	struct policy *p = ctx_policy(ctx);
	if (p == NULL)
		return EX_CONFIG;
	struct triage *t = ctx_triage(ctx, p, model, &ex);
	if (t == NULL)
		return ex;
	struct agents ag = {0};
	if ((ex = ctx_models(ctx, &ag)) != EX_OK) {
		triage_close(t);
		return ex;
	}
	struct models *m = ag.backend[AGENT_TRIAGE] == BACKEND_OPENAI ? ag.models : NULL;

	if (a->argc > 0) {
		char *q = cmd_join_args(a->argc, a->argv, 0);
		struct mslot one = {.text = q};
		struct triage_result r;
		if (m != NULL) {
			mslot_start(&one, ctx, t, m, tier);
			while (!one.done)
				loop_once(models_loop(m), -1);
			r = one.r;
		} else
			triage_run(t, q, strlen(q), tier, &r);
		if (json) {
			struct buf out;
			buf_init(&out, 0);
			triage_json_write(&r, &out);
			puts(out.data);
			buf_free(&out);
		} else
			print_text(&r);
		triage_result_free(&r);
		free(q);
	} else if (m != NULL)
		ex = triage_model_stream(ctx, t, m, tier);
	else
		ex = triage_stream(ctx, t, tier, jobs);
	triage_close(t);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "json", .help = "print TEXT's TriageResult as JSON (standard input always is)"},
    {.name = "tier",
     .value = CMD_CHOICE,
     .arg = "TIER",
     .choices = tier_names,
     .help = "the customer's tier for routing: self-serve, standard (default), premium, "
             "enterprise"},
    {.name = "model",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "the intent model (default: $FRONTLINE_MODEL, else the one 'frontline triage "
             "train' wrote in $XDG_DATA_HOME/frontline, else the installed one)"},
    {.name = "jobs",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = MAX_JOBS,
     .help =
         "threads for standard input (default: the processors, at most " STRINGIFY(MAX_JOBS) ")"},
    {.name = "which", .help = "say which intent model is in use, where from, and its SHA-256"},
    {0},
};

const struct cmd_entry cmd_triage_entry = {
    .name = "triage",
    .summary = "classify, read and route TEXT, or each line of standard input (JSON lines)",
    .options = options,
    .operands = "[TEXT]",
    .max_operands = CMD_MANY,
    .usage = "[--json] [--tier TIER] [--model FILE] [--jobs N] [TEXT] | --which [--json]",
    .exec = cmd_triage,
    .help = "With the triage agent on a model (config file or --backend openai), the\n"
            "offline result is refined by the model, and stands whenever the model fails.\n"
            "'frontline triage train' and 'frontline triage eval' teach and measure the\n"
            "intent model.\n",
};
