/* cmd-triage-train.c -- frontline triage train|eval: the intent model on a team's labelled data. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "intent-train.h"
#include "paths.h"
#include "progress.h"

/* ---------------------------------------------------------------- data */

/* What was read from the command line's files. */
struct reading {
	struct intent_data data;
	struct diag d;
	cJSON *files; /* [{"path","format","examples","bad_lines","unlabelled"}] */
};

/*
 * Reads each of paths into r, printing a line per file to out (may be
 * NULL). Returns EX_OK, or EX_NOINPUT with the problem printed.
 */
static int
read_files(struct reading *r, const char *const *paths, int n, int all_messages, FILE *out)
{
	if (r->files == NULL)
		r->files = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		size_t before = r->data.n;
		long bad = r->data.bad, unlabelled = r->data.unlabelled;
		enum intent_format f;
		char *cause = NULL;
		if (intent_data_read(&r->data, paths[i], all_messages, &f, &r->d, &cause) != 0) {
			fl_warnx("%s", cause);
			free(cause);
			return EX_NOINPUT;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", paths[i]);
		cJSON_AddStringToObject(o, "format", intent_format_names[f]);
		cJSON_AddNumberToObject(o, "examples", (double)(r->data.n - before));
		cJSON_AddNumberToObject(o, "bad_lines", (double)(r->data.bad - bad));
		cJSON_AddNumberToObject(o, "unlabelled", (double)(r->data.unlabelled - unlabelled));
		cJSON_AddItemToArray(r->files, o);
		if (out != NULL) {
			size_t got = r->data.n - before;
			fprintf(out, "  %s: %s, %zu example%s", paths[i], intent_format_names[f],
			        got, got == 1 ? "" : "s");
			long b = r->data.bad - bad, u = r->data.unlabelled - unlabelled;
			if (b > 0)
				fprintf(out, ", %ld bad line%s skipped", b, b == 1 ? "" : "s");
			if (u > 0)
				fprintf(out, ", %ld ticket%s without labels.intent_category", u,
				        u == 1 ? "" : "s");
			fputc('\n', out);
		}
	}
	return EX_OK;
}

static void
reading_free(struct reading *r)
{
	intent_data_free(&r->data);
	diag_free(&r->d);
	cJSON_Delete(r->files);
}

/* The bad lines, FILE:LINE: cause each, on standard error. */
static void
print_bad(const struct reading *r)
{
	for (size_t i = 0; i < r->d.msgs.n; i++)
		fprintf(stderr, "%s\n", r->d.msgs.v[i]);
}

/* The public corpus first, then the others by name: the build's order. */
static int
corpus_order(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int tx = str_endswith(x, "/train.tsv"), ty = str_endswith(y, "/train.tsv");
	return tx != ty ? ty - tx : strcmp(x, y);
}

/*
 * The base corpus: the .tsv files in the data directory's data/triage,
 * train.tsv first and then by name, the order in which the build trains
 * the shipped model on them.
 */
static int
read_base(struct ctx *ctx, struct reading *base)
{
	char *pattern = xasprintf("%s/data/triage/*.tsv", ctx->datadir);
	glob_t g;
	int rc = glob(pattern, GLOB_NOSORT, NULL, &g);
	int ex = EX_OK;
	if (rc != 0) {
		fl_warnx("no base corpus: nothing matches %s (--no-base trains on your data alone)",
		         pattern);
		ex = EX_NOINPUT;
	} else {
		qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, corpus_order);
		ex = read_files(base, (const char *const *)g.gl_pathv, (int)g.gl_pathc, 0, NULL);
	}
	if (rc == 0)
		globfree(&g);
	free(pattern);
	return ex;
}

/* ---------------------------------------------------------------- train */

static void
train_progress(void *arg, size_t done, size_t total)
{
	struct progress *p = arg;
	p->total = (long)total;
	progress_show(p, (long)done, 0, done == total);
}

static const char *
pct(char buf[32], double x)
{
	if (isnan(x))
		return "n/a";
	snprintf(buf, 32, "%.1f%%", 100 * x);
	return buf;
}

static const char *
dec(char buf[32], double x)
{
	if (isnan(x))
		return "n/a";
	snprintf(buf, 32, "%.3f", x);
	return buf;
}

static void
print_row(const char *name, const struct intent_tally *t)
{
	char a[32], f[32];
	printf("  %-16s %-9s %s\n", name, pct(a, intent_tally_accuracy(t)),
	       dec(f, intent_tally_macro_f1(t)));
}

static void
print_training(const struct intent_trained *r, const char *current, const char *source)
{
	printf("Trained on %zu base examples and %zu of yours", r->base_n, r->team_n);
	if (r->team_n > 0 && r->base_n > 0 && r->team_weight > 1)
		printf(", each of yours counted %u times (yours weigh as much as the base)",
		       r->team_weight);
	printf(".\n");
	if (r->missing) {
		printf("No example of");
		for (int i = 0, first = 1; i < INTENT__N; i++)
			if (r->missing & (1u << i)) {
				printf("%s%s", first ? " " : ", ", intent_labels[i]);
				first = 0;
			}
		printf(": the new model never answers it.\n");
	}
	if (r->figures_on == NULL)
		printf("Nothing held out: no figures, temperature 1.\n");
	else {
		long n = r->held_new.labelled;
		if (strcmp(r->figures_on, "dev") == 0)
			printf("On the %ld examples of --dev:\n", n);
		else if (strcmp(r->figures_on, "team") == 0)
			printf("On %ld of your examples, held out:\n", n);
		else
			printf("On %ld base examples, held out:\n", n);
		printf("  %-16s %-9s %s\n", "", "accuracy", "macro-F1");
		if (r->have_current)
			print_row("model in use", &r->held_current);
		print_row("new model", &r->held_new);
		if (r->have_current)
			printf("(the model in use: %s, %s)\n", current, source);
		printf("Temperature %.2f, fitted on %zu held-out examples.\n", r->temperature,
		       r->held_base + r->held_team);
	}
}

static int
cmd_triage_train(struct ctx *ctx, const struct cmd_args *a)
{
	const char *out = cmd_args_get(a, "out");
	const char *dev = cmd_args_get(a, "dev");
	int all = cmd_args_has(a, "all-messages");
	struct reading base = {0}, team = {0}, held = {0};
	struct intent_trained r = {0};
	struct classifier *current = NULL;
	char *cause = NULL, *dflt = NULL;
	const char *source = NULL;
	char *in_use = NULL;
	int ex = EX_OK, no_model;

	if (!cmd_args_has(a, "no-base") && (ex = read_base(ctx, &base)) != EX_OK)
		goto done;
	printf("Your data:\n");
	if ((ex = read_files(&team, (const char *const *)a->argv, a->argc, all, stdout)) != EX_OK)
		goto done;
	if (dev != NULL && (ex = read_files(&held, &dev, 1, all, stdout)) != EX_OK)
		goto done;
	print_bad(&base);
	print_bad(&team);
	print_bad(&held);
	if (team.data.n == 0 && cmd_args_has(a, "no-base")) {
		fl_warnx("triage train: no labelled example to train on");
		ex = EX_DATAERR;
		goto done;
	}
	if (out == NULL && (dflt = paths_trained_model()) == NULL) {
		fl_warnx("triage train: no HOME or XDG_DATA_HOME for the model: give --out FILE");
		ex = EX_CANTCREAT;
		goto done;
	}
	if (out == NULL) {
		char *dir = paths_data_home(); /* made now: a failure should not waste a training */
		if (dir == NULL) {
			fl_warnx("triage train: cannot create the directory of %s", dflt);
			ex = EX_CANTCREAT;
			goto done;
		}
		free(dir);
		out = dflt;
	}
	/* The comparison is worth having, not worth failing for. */
	if ((current = ctx_intent_model(ctx, NULL, &in_use, &source, &no_model)) == NULL)
		fprintf(stderr, "frontline: no comparison with the model in use\n");

	struct progress pg = {.what = "train", .step = 1};
	cmd_progress(a, &pg);
	struct intent_train t = {
	    .base = &base.data,
	    .team = &team.data,
	    .dev = dev ? &held.data : NULL,
	    .current = current,
	    .seed = (unsigned)cmd_args_number(a, "seed", 1),
	    .progress = train_progress,
	    .progress_arg = &pg,
	};
	if (intent_train_run(&t, &r, &cause) != 0) {
		fl_warnx("triage train: %s", cause);
		ex = EX_DATAERR;
		goto done;
	}
	print_training(&r, in_use, source);
	if (classifier_save(r.model, out, &cause) != 0) {
		fl_warnx("triage train: cannot write the model: %s", cause);
		ex = EX_CANTCREAT;
		goto done;
	}
	printf("Wrote %s (sha256 %.12s).\n", out, classifier_sha256(r.model));
	char *now = paths_triage_model(ctx->datadir, NULL, &source);
	if (strcmp(now, out) != 0)
		printf("The model in use is still %s (%s): 'frontline triage eval --model %s' "
		       "measures the new one; 'frontline canary start %s' tries it on live "
		       "traffic.\n",
		       now, source, out, out);
	free(now);
	if (base.data.bad + team.data.bad + held.data.bad > 0)
		ex = EX_DATAERR; /* trained on every good line; the bad ones were named */
done:
	if (fflush(stdout) != 0 && ex == EX_OK)
		ex = EX_IOERR;
	classifier_free(r.model);
	classifier_free(current);
	reading_free(&base);
	reading_free(&team);
	reading_free(&held);
	free(cause);
	free(dflt);
	free(in_use);
	return ex;
}

/* ---------------------------------------------------------------- eval */

static int
cmd_triage_eval(struct ctx *ctx, const struct cmd_args *a)
{
	const char *model = cmd_args_get(a, "model");
	int json = cmd_args_has(a, "json"), all = cmd_args_has(a, "all-messages");
	const char *source;
	char *path;
	int ex;
	struct classifier *cls = ctx_intent_model(ctx, model, &path, &source, &ex);
	if (cls == NULL) {
		free(path);
		return ex;
	}
	struct reading in = {0};
	struct intent_tally t = {0};
	if (!json)
		printf("Intent model %s (%s, sha256 %.12s)\n", path, source,
		       classifier_sha256(cls));
	ex = read_files(&in, (const char *const *)a->argv, a->argc, all, json ? NULL : stdout);
	if (ex != EX_OK)
		goto done;
	print_bad(&in);
	for (size_t i = 0; i < in.data.n; i++) {
		enum category cat;
		double conf;
		const char *text = in.data.v[i].text;
		if (triage_intent(cls, text, strlen(text), &cat, &conf) != 0) {
			fl_warnx("%s: the model has no class for each category", path);
			ex = EX_DATAERR;
			goto done;
		}
		intent_tally_add(&t, in.data.v[i].label, cat, conf);
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "model", path);
	cJSON_AddStringToObject(o, "source", source);
	cJSON_AddStringToObject(o, "sha256", classifier_sha256(cls));
	cJSON_AddNumberToObject(o, "examples", (double)in.data.n);
	cJSON_AddNumberToObject(o, "bad_lines", (double)in.data.bad);
	cJSON_AddNumberToObject(o, "unlabelled", (double)in.data.unlabelled);
	cJSON_AddItemToObject(o, "files", in.files);
	in.files = NULL;
	cJSON *report = intent_tally_json(&t);
	cJSON_AddItemToObject(o, "triage", report);
	if (json) {
		char *s = cJSON_Print(o);
		puts(s);
		free(s);
	} else {
		printf("\nTriage (%zu labelled): ", in.data.n);
		intent_report_print(report, stdout);
	}
	cJSON_Delete(o);
	if (in.data.bad > 0)
		ex = EX_DATAERR;
	else if (in.data.n == 0) {
		fl_warnx("triage eval: no labelled example");
		ex = EX_DATAERR;
	}
done:
	if (fflush(stdout) != 0 && ex == EX_OK)
		ex = EX_IOERR;
	reading_free(&in);
	classifier_free(cls);
	free(path);
	return ex;
}

#define DATA_HELP                                                                                  \
	"DATA: TSV lines CATEGORY<TAB>TEXT (as data/triage/train.tsv), ticket JSON Lines\n"        \
	"(labels.intent_category; the first customer message), or the export of\n"                 \
	"'frontline handoff review --export' (the message the reviewed triage read);\n"            \
	"the format is told by each file's first line. A bad line is reported as\n"                \
	"FILE:LINE: cause and skipped; the command goes on and exits 65 at the end.\n"

static const struct cmd_option train_options[] = {
    {.name = "out",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "where the model goes (default: $XDG_DATA_HOME/frontline/triage.model, which is "
             "then the model in use)"},
    {.name = "no-base", .help = "your data alone, without the shipped corpus"},
    {.name = "dev",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "held-out examples for the temperature and the figures (default: a tenth of the "
             "data, held out)"},
    {.name = "seed",
     .value = CMD_INT,
     .arg = "N",
     .min = 0,
     .max = 4294967295.0,
     .help = "the held-out tenth and the shuffling (default 1); the same data and seed give "
             "the same model, byte for byte"},
    {.name = "all-messages", .help = "every customer message of a ticket, not the first"},
    CMD_OPTION_PROGRESS,
    {0},
};

const struct cmd_entry cmd_triage_train_entry = {
    .name = "triage",
    .verb = "train",
    .summary = "train the intent model on your labelled tickets (with the shipped corpus)",
    .options = train_options,
    .operands = "DATA...",
    .min_operands = 1,
    .max_operands = CMD_MANY,
    .operand_value = CMD_FILE,
    .exec = cmd_triage_train,
    .help = "Your examples together weigh as much as the shipped corpus. The held-out\n"
            "figures of the new model are printed next to the model in use's.\n" DATA_HELP,
};

static const struct cmd_option eval_options[] = {
    {.name = "json", .help = "the report as one JSON object"},
    {.name = "model",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "the model to measure (default: the model in use)"},
    {.name = "all-messages", .help = "every customer message of a ticket, not the first"},
    {0},
};

const struct cmd_entry cmd_triage_eval_entry = {
    .name = "triage",
    .verb = "eval",
    .summary = "accuracy, macro-F1, confusion and calibration of the intent model on "
               "labelled data",
    .options = eval_options,
    .operands = "DATA...",
    .min_operands = 1,
    .max_operands = CMD_MANY,
    .operand_value = CMD_FILE,
    .exec = cmd_triage_eval,
    .help = DATA_HELP,
};
