/* cmd.c -- the command table and what commands share. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "classifier.h"
#include "cmd.h"
#include "loop.h"
#include "model.h"
#include "paths.h"
#include "progress.h"
#include "safe-text.h"
#include "store.h"

static const struct cmd_entry *const cmd_table[] = {
    &cmd_console_entry,
    &cmd_chat_entry,
    &cmd_worker_entry,
    &cmd_customer_entry,
    &cmd_serve_entry,
    &cmd_triage_entry,
    &cmd_triage_train_entry,
    &cmd_triage_eval_entry,
    &cmd_handoff_list_entry,
    &cmd_handoff_show_entry,
    &cmd_handoff_review_entry,
    &cmd_kb_search_entry,
    &cmd_kb_audit_entry,
    &cmd_policy_check_entry,
    &cmd_demo_entry,
    &cmd_replay_entry,
    &cmd_drift_entry,
    &cmd_metrics_entry,
    &cmd_rollout_status_entry,
    &cmd_rollout_advance_entry,
    &cmd_rollout_rollback_entry,
    &cmd_canary_start_entry,
    &cmd_canary_status_entry,
    &cmd_canary_promote_entry,
    &cmd_canary_rollback_entry,
    &cmd_db_migrate_entry,
    &cmd_db_status_entry,
    &cmd_db_export_entry,
    &cmd_db_import_entry,
    &cmd_completion_bash_entry,
};

void
fl_warnx(const char *fmt, ...)
{
	va_list ap;
	fputs("frontline: ", stderr);
	va_start(ap, fmt);
	text_vprintf(stderr, fmt, ap); /* causes quote customer, model and file text */
	va_end(ap);
	fputc('\n', stderr);
}

const struct cmd_entry *const *
cmd_entries(size_t *n)
{
	*n = nitems(cmd_table);
	return cmd_table;
}

static void
entry_name(const struct cmd_entry *e, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s", e->name, e->verb ? " " : "", e->verb ? e->verb : "");
}

/* ------------------------------------------------------------ the options */

const struct cmd_option cmd_global_options[] = {
    {.name = "policy", .value = CMD_FILE, .arg = "FILE", .help = "the policy file"},
    {.name = "kb", .value = CMD_DIR, .arg = "DIR", .help = "the knowledge base"},
    {.name = "db", .value = CMD_FILE, .arg = "FILE|URI", .help = "the store"},
    {.name = "config", .value = CMD_FILE, .arg = "FILE", .help = "the config file"},
    {.name = "backend",
     .value = CMD_CHOICE,
     .arg = "offline|openai",
     .choices = (const char *const[]){"offline", "openai", NULL},
     .help = "every agent on this backend"},
    {.name = "demo", .help = "the console's demo (the tour without a terminal)"},
    {.name = "version", .key = 'V', .help = "the version"},
    {0},
};

const char *const cmd_progress_choices[] = {"json", NULL};

const struct cmd_option cmd_json_options[] = {
    {.name = "json", .help = "the result as JSON"},
    {0},
};

const struct cmd_option cmd_reason_options[] = {
    CMD_OPTION_REASON,
    {.name = "json", .help = "the result as JSON"},
    {0},
};

static const struct cmd_given *given(const struct cmd_args *, const char *name,
                                     const struct cmd_option **);

struct cmd_given {
	int n;
	const char *value; /* the last one */
	double number;
	struct strv all; /* repeat options */
};

static size_t
options_count(const struct cmd_option *o)
{
	size_t n = 0;
	while (o != NULL && o[n].name != NULL)
		n++;
	return n;
}

const char *
cmd_option_name(const struct cmd_option *o, char out[64])
{
	snprintf(out, 64, "%s%s", o->name[1] != '\0' ? "--" : "-", o->name);
	return out;
}

/*
 * The option whose long name is name[0..len) (or, failing that, starts
 * with it, when only one does): its index, n for --help, -1 for none,
 * -2 when the start fits several.
 */
static int
find_long(const struct cmd_option *o, size_t n, const char *name, size_t len)
{
	int found = -1, hits = 0;
	for (size_t i = 0; i <= n; i++) {
		const char *x = i < n ? o[i].name : "help";
		if (x[1] == '\0' || strncmp(x, name, len) != 0)
			continue;
		if (x[len] == '\0')
			return (int)i;
		found = (int)i;
		hits++;
	}
	return hits > 1 ? -2 : found;
}

/* The option -c: its index, n for -h, or -1. */
static int
find_short(const struct cmd_option *o, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].key == c || (o[i].name[0] == c && o[i].name[1] == '\0'))
			return (int)i;
	return c == 'h' ? (int)n : -1;
}

/* "a whole number from 1 to 100", "offline or openai": what o's value must be. */
static void
value_text(const struct cmd_option *o, struct buf *b)
{
	if (o->value == CMD_CHOICE) {
		for (size_t i = 0; o->choices[i] != NULL; i++)
			buf_printf(b, "%s%s",
			           i == 0              ? ""
			           : o->choices[i + 1] ? ", "
			                               : " or ",
			           o->choices[i]);
		return;
	}
	buf_adds(b, o->value == CMD_INT ? "a whole number" : "a number");
	if (isinf(o->max))
		buf_printf(b, " of at least %.15g", o->min);
	else
		buf_printf(b, " from %.15g to %.15g", o->min, o->max);
}

/* Checks v as o's value and keeps it in g; 0, or -1 having said why. */
static int
take(const char *where, const struct cmd_option *o, const char *v, struct cmd_given *g)
{
	const char *what = NULL;
	char *end = NULL;
	double x = 0;
	struct buf b;
	buf_init(&b, 0);
	errno = 0;
	if (o->value == CMD_INT)
		x = (double)strtoll(v, &end, 10);
	else if (o->value == CMD_NUMBER)
		x = strtod(v, &end);
	if (end != NULL &&
	    (errno != 0 || end == v || *end != '\0' || !(x >= o->min && x <= o->max)))
		value_text(o, &b);
	else if (o->value == CMD_CHOICE && names_find(o->choices, v) < 0)
		value_text(o, &b);
	else if (o->check != NULL && o->check(v, &what) != 0)
		buf_adds(&b, what);
	if (b.len > 0) {
		char sp[64];
		fl_warnx("%s%s%s must be %s, not '%s'", where ? where : "", where ? ": " : "",
		         cmd_option_name(o, sp), b.data, v);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	g->n++;
	g->value = v;
	g->number = x;
	if (o->repeat)
		strv_add(&g->all, v);
	return 0;
}

int
cmd_check_text(const char *value, const char **what)
{
	*what = "some text";
	return *value != '\0' ? 0 : -1;
}

/*
 * Says that two options of a group were given, or one without the option
 * it needs; 0 when neither happened.
 */
static int
excluded(const char *where, const struct cmd_option *o, size_t n, const struct cmd_args *a)
{
	for (size_t i = 0; i < n; i++) {
		if (o[i].needs != NULL && a->given[i].n > 0 && !given(a, o[i].needs, NULL)->n) {
			char x[64];
			fl_warnx("%s: %s needs --%s", where, cmd_option_name(&o[i], x), o[i].needs);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (o[i].group == 0 || a->given[i].n == 0)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			if (o[j].group != o[i].group || a->given[j].n == 0)
				continue;
			char x[64], y[64];
			fl_warnx("%s: %s and %s exclude each other", where,
			         cmd_option_name(&o[i], x), cmd_option_name(&o[j], y));
			return -1;
		}
	}
	return 0;
}

/*
 * Parses argv[1..argc) by the options o: options and operands in any
 * order, "--" ending the options. global: stops at the first word that is
 * not one of o's (a command, or another command's option), the rest being
 * the operands. Returns 0, 1 for --help, or -1 having said what is wrong.
 */
static int
parse(const char *where, const struct cmd_option *o, int argc, char **argv, int global,
      struct cmd_args *a)
{
	size_t n = options_count(o);
	char sp[64];
	int i, ended = 0, stop = 0;
	a->given = xcalloc(n + 1, sizeof *a->given);
	a->argv = xcalloc((size_t)argc + 1, sizeof *a->argv);
	a->argc = 0;
	for (i = 1; i < argc && !stop; i++) {
		char *arg = argv[i];
		if (ended || arg[0] != '-' || arg[1] == '\0') {
			if (global)
				break;
			a->argv[a->argc++] = arg;
		} else if (strcmp(arg, "--") == 0) {
			ended = 1;
			stop = global;
		} else if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			int k = find_long(o, n, name, len);
			if (k == -1 && global)
				break;
			if (k < 0) {
				fl_warnx("%s%s%s option '--%.*s'", where ? where : "",
				         where ? ": " : "", k == -2 ? "ambiguous" : "unknown",
				         (int)len, name);
				return -1;
			}
			if ((size_t)k == n)
				return 1;
			const char *v = eq ? eq + 1 : NULL;
			if (o[k].value == CMD_FLAG && v != NULL) {
				fl_warnx("%s%s%s takes no value", where ? where : "",
				         where ? ": " : "", cmd_option_name(&o[k], sp));
				return -1;
			}
			if (o[k].value != CMD_FLAG && v == NULL && (v = argv[i + 1]) != NULL)
				i++;
			if (o[k].value != CMD_FLAG && v == NULL) {
				fl_warnx("%s%s%s needs a value", where ? where : "",
				         where ? ": " : "", cmd_option_name(&o[k], sp));
				return -1;
			}
			if (take(where, &o[k], v, &a->given[k]) != 0)
				return -1;
		} else {
			/* -abc: short options together; the one that takes a value ends them. */
			for (const char *c = arg + 1; *c != '\0'; c++) {
				int k = find_short(o, n, *c);
				if (k < 0 && global && c == arg + 1) {
					stop = 2;
					break;
				}
				if (k < 0) {
					fl_warnx("%s%sunknown option '-%c'", where ? where : "",
					         where ? ": " : "", *c);
					return -1;
				}
				if ((size_t)k == n)
					return 1;
				if (o[k].value == CMD_FLAG) {
					a->given[k].n++;
					continue;
				}
				const char *v = c[1] != '\0' ? c + 1 : argv[i + 1];
				if (v == NULL) {
					fl_warnx("%s%s%s needs a value", where ? where : "",
					         where ? ": " : "", cmd_option_name(&o[k], sp));
					return -1;
				}
				if (c[1] == '\0')
					i++;
				if (take(where, &o[k], v, &a->given[k]) != 0)
					return -1;
				break;
			}
		}
	}
	if (stop == 2) /* the option that stopped it is the rest's */
		i--;
	while (global && i < argc)
		a->argv[a->argc++] = argv[i++];
	return excluded(where, o, n, a);
}

void
cmd_args_free(struct cmd_args *a)
{
	size_t n = a->entry ? options_count(a->entry->options) : options_count(cmd_global_options);
	for (size_t i = 0; a->given != NULL && i < n; i++)
		strv_free(&a->given[i].all);
	free(a->given);
	free(a->argv);
	a->given = NULL;
	a->argv = NULL;
}

/* The given-record of the option called name: asking for one not declared is a bug. */
static const struct cmd_given *
given(const struct cmd_args *a, const char *name, const struct cmd_option **opt)
{
	const struct cmd_option *o = a->entry ? a->entry->options : cmd_global_options;
	for (size_t i = 0; o != NULL && o[i].name != NULL; i++)
		if (strcmp(o[i].name, name) == 0) {
			if (opt != NULL)
				*opt = &o[i];
			return &a->given[i];
		}
	fl_warnx("internal error: no option '%s' is declared", name);
	abort();
}

int
cmd_args_has(const struct cmd_args *a, const char *name)
{
	return given(a, name, NULL)->n;
}

const char *
cmd_args_get(const struct cmd_args *a, const char *name)
{
	return given(a, name, NULL)->value;
}

double
cmd_args_number(const struct cmd_args *a, const char *name, double dflt)
{
	const struct cmd_given *g = given(a, name, NULL);
	return g->n > 0 ? g->number : dflt;
}

int
cmd_args_choice(const struct cmd_args *a, const char *name, int dflt)
{
	const struct cmd_option *o;
	const struct cmd_given *g = given(a, name, &o);
	return g->value != NULL ? names_find(o->choices, g->value) : dflt;
}

const struct strv *
cmd_args_all(const struct cmd_args *a, const char *name)
{
	return &given(a, name, NULL)->all;
}

int
cmd_parse_global(int argc, char **argv, struct cmd_args *a)
{
	*a = (struct cmd_args){0};
	switch (parse(NULL, cmd_global_options, argc, argv, 1, a)) {
	case 1:
		cmd_usage(stdout);
		return EX_OK;
	case -1:
		cmd_usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

void
cmd_progress(const struct cmd_args *a, struct progress *p)
{
	p->kind = cmd_args_has(a, "progress") ? PROGRESS_JSON
	          : isatty(STDERR_FILENO)     ? PROGRESS_BAR
	                                      : PROGRESS_NONE;
}

/* ------------------------------------------------------------ help */

/* An option as the usage and help show it: "-k N", "--out FILE", "--progress=json". */
static void
option_text(const struct cmd_option *o, int in_usage, struct buf *b)
{
	char sp[64];
	const char *arg = o->arg;
	if (o->value == CMD_CHOICE && o->choices[1] == NULL && arg == NULL) {
		buf_printf(b, "%s=%s", cmd_option_name(o, sp), o->choices[0]);
		return;
	}
	if (o->key != 0 && !in_usage)
		buf_printf(b, "-%c, ", o->key);
	if (o->key != 0 && in_usage)
		buf_printf(b, "-%c", o->key);
	else
		buf_adds(b, cmd_option_name(o, sp));
	if (o->value != CMD_FLAG)
		buf_printf(b, " %s", arg ? arg : "VALUE");
}

/* Words into f from column col on, wrapped at 79 columns with indent after a break. */
static void
wrap(FILE *f, int col, int indent, const struct strv *words)
{
	for (size_t i = 0; i < words->n; i++) {
		int len = (int)strlen(words->v[i]);
		if (i > 0 && col + 1 + len > 79) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (i > 0) {
			fputc(' ', f);
			col++;
		}
		fputs(words->v[i], f);
		col += len;
	}
	fputc('\n', f);
}

/* The usage after the command's name, a word per bracket. */
static void
usage_words(const struct cmd_entry *e, struct strv *w)
{
	if (e->usage != NULL) {
		strv_add(w, e->usage);
		return;
	}
	const struct cmd_option *o = e->options;
	size_t n = options_count(o);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		/* A group is shown once, where its first member is. */
		int shown = 0;
		for (size_t j = 0; j < i && o[i].group != 0; j++)
			shown |= o[j].group == o[i].group;
		if (shown)
			continue;
		buf_reset(&b);
		buf_addc(&b, '[');
		for (size_t j = i; j < n; j++) {
			if (j > i && (o[i].group == 0 || o[j].group != o[i].group))
				continue;
			if (j > i)
				buf_adds(&b, " | ");
			option_text(&o[j], 1, &b);
		}
		buf_adds(&b, o[i].repeat ? "]..." : "]");
		strv_add(w, b.data);
	}
	buf_free(&b);
	if (e->operands != NULL && *e->operands != '\0')
		strv_add(w, e->operands);
}

/* "usage: frontline kb search [-k N] ..." wrapped under its first word. */
static void
print_usage(const struct cmd_entry *e, const char *lead, FILE *f)
{
	char name[64];
	struct strv w = {0};
	entry_name(e, name, sizeof name);
	int col = fprintf(f, "%sfrontline %s", lead, name);
	usage_words(e, &w);
	if (w.n > 0)
		fputc(' ', f);
	wrap(f, col + 1, col + 1, &w);
	strv_free(&w);
}

/* Splits text into words. */
static void
words_of(const char *text, struct strv *w)
{
	char *copy = xstrdup(text);
	for (char *t = strtok(copy, " \n"); t != NULL; t = strtok(NULL, " \n"))
		strv_add(w, t);
	free(copy);
}

void
cmd_help(const struct cmd_entry *e, FILE *f)
{
	print_usage(e, "usage: ", f);
	fprintf(f, "%s.\n", e->summary);
	size_t n = options_count(e->options);
	int width = 0;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&b);
		option_text(&e->options[i], 0, &b);
		if ((int)b.len > width)
			width = (int)b.len;
	}
	/* The descriptions line up; a long option's starts on the next line. */
	int col = 2 + (width > 20 ? 20 : width) + 2;
	if (n > 0)
		fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		struct strv w = {0};
		buf_reset(&b);
		option_text(&e->options[i], 0, &b);
		fprintf(f, "  %-*s", col - 4, b.data);
		if ((int)b.len > col - 4)
			fprintf(f, "\n%*s", col - 2, "");
		fputs("  ", f);
		words_of(e->options[i].help, &w);
		wrap(f, col, col, &w);
		strv_free(&w);
	}
	buf_free(&b);
	if (e->help != NULL)
		fprintf(f, "\n%s", e->help);
}

void
cmd_usage(FILE *f)
{
	struct strv w = {0};
	struct buf b;
	buf_init(&b, 0);
	for (const struct cmd_option *o = cmd_global_options; o->name != NULL; o++) {
		if (o->value == CMD_FLAG) /* --demo, --version: the second line */
			continue;
		buf_reset(&b);
		buf_addc(&b, '[');
		option_text(o, 1, &b);
		buf_addc(&b, ']');
		strv_add(&w, b.data);
	}
	buf_free(&b);
	strv_add(&w, "COMMAND [ARGS]");
	int col = fprintf(f, "usage: frontline ");
	wrap(f, col, col, &w);
	strv_free(&w);
	fprintf(f,
	        "       frontline [CONSOLE OPTIONS] | --demo | --help | --version\n\ncommands:\n");
	char name[64];
	int width = 0;
	for (size_t i = 0; i < nitems(cmd_table); i++) {
		entry_name(cmd_table[i], name, sizeof name);
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	}
	for (size_t i = 0; i < nitems(cmd_table); i++) {
		entry_name(cmd_table[i], name, sizeof name);
		fprintf(f, "  %-*s %s\n", width, name, cmd_table[i]->summary);
	}
	fprintf(f, "\nRun 'frontline COMMAND --help' for a command's options; see frontline(1).\n");
}

/* ------------------------------------------------------------ dispatch */

/* Parses argv by e's options and runs e; returns an exit code. */
static int
run(struct ctx *ctx, const struct cmd_entry *e, int argc, char **argv)
{
	struct cmd_args a = {.entry = e};
	char name[64];
	entry_name(e, name, sizeof name);
	int rc = parse(name, e->options, argc, argv, 0, &a);
	if (rc == 0 && a.argc < e->min_operands) {
		/* "DATA..." is missing: "no data given" */
		char what[64];
		size_t n = 0;
		for (const char *c = e->operands; *c != '\0' && *c != '.' && n + 1 < sizeof what;
		     c++)
			if (*c != '[' && *c != ']')
				what[n++] = (char)tolower((unsigned char)*c);
		what[n] = '\0';
		fl_warnx("%s: no %s given", name, what);
		rc = -1;
	} else if (rc == 0 && e->max_operands != CMD_MANY && a.argc > e->max_operands) {
		fl_warnx("%s: too many arguments ('%s')", name, a.argv[e->max_operands]);
		rc = -1;
	}
	if (rc == 1) {
		cmd_help(e, stdout);
		rc = EX_OK;
	} else if (rc < 0) {
		print_usage(e, "usage: ", stderr);
		rc = EX_USAGE;
	} else
		rc = e->exec(ctx, &a);
	cmd_args_free(&a);
	return rc;
}

/*
 * A command line that starts with an option: the default command's
 * (frontline --no-listen is frontline console --no-listen).
 */
static int
run_default(struct ctx *ctx, int argc, char **argv)
{
	const struct cmd_option *o = cmd_console_entry.options;
	size_t n = options_count(o);
	const char *arg = argv[0], *eq = strchr(arg, '=');
	int k = arg[1] == '-'
	            ? find_long(o, n, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2))
	            : find_short(o, n, arg[1]);
	if (k < 0) {
		fl_warnx("unknown option '%s'", arg);
		cmd_usage(stderr);
		return EX_USAGE;
	}
	char **v = xcalloc((size_t)argc + 2, sizeof *v);
	static char console[] = "console";
	v[0] = console;
	memcpy(v + 1, argv, (size_t)argc * sizeof *v);
	int rc = run(ctx, &cmd_console_entry, argc + 1, v);
	free(v);
	return rc;
}

int
cmd_dispatch(struct ctx *ctx, int argc, char **argv)
{
	if (argv[0][0] == '-' && argv[0][1] != '\0')
		return run_default(ctx, argc, argv);
	for (size_t i = 0; i < nitems(cmd_table); i++) {
		const struct cmd_entry *e = cmd_table[i];
		if (strcmp(argv[0], e->name) != 0)
			continue;
		if (e->verb == NULL) {
			/* A command that takes text may have verbs too: "triage train". */
			for (size_t j = i + 1; argc > 1 && j < nitems(cmd_table); j++)
				if (strcmp(cmd_table[j]->name, e->name) == 0 &&
				    cmd_table[j]->verb && strcmp(cmd_table[j]->verb, argv[1]) == 0)
					return run(ctx, cmd_table[j], argc - 1, argv + 1);
			return run(ctx, e, argc, argv);
		}
		if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			FILE *f = argc < 2 ? stderr : stdout;
			fprintf(f, "usage:\n");
			for (size_t j = 0; j < nitems(cmd_table); j++)
				if (strcmp(cmd_table[j]->name, e->name) == 0 && cmd_table[j]->verb)
					print_usage(cmd_table[j], "  ", f);
			return argc < 2 ? EX_USAGE : EX_OK;
		}
		for (size_t j = i; j < nitems(cmd_table); j++)
			if (strcmp(cmd_table[j]->name, e->name) == 0 && cmd_table[j]->verb &&
			    strcmp(cmd_table[j]->verb, argv[1]) == 0)
				return run(ctx, cmd_table[j], argc - 1, argv + 1);
		fl_warnx("unknown command '%s %s'; try 'frontline %s --help'", argv[0], argv[1],
		         argv[0]);
		return EX_USAGE;
	}
	fl_warnx("unknown command '%s'; try 'frontline --help'", argv[0]);
	return EX_USAGE;
}

void
ctx_data_hint(void)
{
	char *msg = paths_data_missing();
	if (msg != NULL)
		fl_warnx("%s", msg);
	free(msg);
}

struct policy *
ctx_policy(struct ctx *ctx)
{
	char *cause;
	if (ctx->policy_loaded)
		return ctx->policy.current;
	if (policy_watch_init(&ctx->policy, ctx->policy_path, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		fl_warnx("cannot load the policy %s", ctx->policy_path);
		ctx_data_hint();
		free(cause);
		return NULL;
	}
	ctx->policy_loaded = 1;
	return ctx->policy.current;
}

void
ctx_policy_poll(struct ctx *ctx)
{
	char *cause = NULL;
	if (!ctx->policy_loaded)
		return;
	char old[13];
	memcpy(old, ctx->policy.current->version, sizeof old);
	switch (policy_watch_poll(&ctx->policy, &cause)) {
	case 1:
		fl_warnx("policy %s reloaded: version %s -> %s", ctx->policy_path, old,
		         ctx->policy.current->version);
		break;
	case -1:
		fprintf(stderr, "%s\n", cause);
		free(cause);
		break;
	}
}

int
ctx_agents_policy(struct ctx *ctx, struct agents *ag)
{
	ctx_policy_poll(ctx);
	const struct policy *p = ctx->policy.current;
	if (p == NULL || p == ag->policy)
		return 0;
	char *cause = NULL;
	if (ag->triage != NULL && triage_set_policy(ag->triage, p, &cause) != 0) {
		/* The old version stays alive in the watch: triage keeps using it. */
		fl_warnx("triage keeps policy version %s: %s", ag->policy->version, cause);
		free(cause);
		return 0;
	}
	ag->policy = p;
	ctx_freshness(ctx, p, &ag->fresh);
	return 1;
}

void
ctx_freshness(struct ctx *ctx, const struct policy *p, struct kb_freshness *fr)
{
	fr->today = ctx->today;
	fr->stale_after_days = p->stale_after_days;
	fr->volatile_topics = p->volatile_topics;
}

/* The index's progress, shown once a file had to be parsed again. */
static void
kb_indexed(void *arg, size_t done, size_t total, size_t parsed)
{
	struct progress *p = arg;
	if (parsed == 0)
		return;
	p->total = (long)total;
	if (p->step <= 0)
		p->step = ((long)total + 99) / 100;
	progress_show(p, (long)done, 0, done == total);
}

struct kb *
ctx_kb(struct ctx *ctx, int *ex)
{
	struct diag d = {0};
	char *cause = NULL;
	struct stat st;
	if (stat(ctx->kb_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fl_warnx("cannot open the knowledge base %s: %s", ctx->kb_dir,
		         errno ? strerror(errno) : "not a directory");
		ctx_data_hint();
		*ex = EX_NOINPUT;
		return NULL;
	}
	struct kb_progress kp = {kb_indexed, ctx->kb_progress};
	struct kb *kb =
	    kb_open_progress(ctx->kb_dir, NULL, ctx->kb_progress ? &kp : NULL, &d, &cause);
	for (size_t i = 0; i < d.msgs.n; i++)
		fprintf(stderr, "%s%s\n", d.msgs.v[i],
		        strstr(d.msgs.v[i], "warning:") ? "" : " (file skipped)");
	diag_free(&d);
	if (kb == NULL) {
		fl_warnx("cannot open the knowledge base: %s", cause);
		*ex = EX_IOERR;
		free(cause);
	}
	return kb;
}

int
ctx_retrieval(struct ctx *ctx, struct policy **p, struct kb **kb, struct kb_freshness *fr)
{
	int ex = EX_OK;
	if ((*p = ctx_policy(ctx)) == NULL)
		return EX_CONFIG;
	if ((*kb = ctx_kb(ctx, &ex)) == NULL)
		return ex;
	ctx_freshness(ctx, *p, fr);
	return EX_OK;
}

struct triage *
ctx_triage(struct ctx *ctx, const struct policy *p, const char *model, int *ex)
{
	char *path = paths_triage_model(ctx->datadir, model, NULL);
	char *data = xasprintf("%s/data/triage", ctx->datadir);
	char *catalog = xasprintf("%s/catalog.yaml", ctx->kb_dir);
	struct stat st;
	char *cause = NULL;
	struct triage *t =
	    triage_open(path, data, stat(catalog, &st) == 0 ? catalog : NULL, p, &cause, ex);
	if (t == NULL) {
		fl_warnx("cannot load the triage engine: %s", cause);
		ctx_data_hint();
		free(cause);
	}
	free(path);
	free(data);
	free(catalog);
	return t;
}

struct classifier *
ctx_intent_model(struct ctx *ctx, const char *option, char **path, const char **source, int *ex)
{
	char *cause = NULL;
	*path = paths_triage_model(ctx->datadir, option, source);
	struct classifier *c = classifier_load(*path, &cause);
	if (c == NULL) {
		*ex = errno == ENOENT ? EX_NOINPUT : EX_DATAERR;
		fl_warnx("cannot load the triage model: %s", cause);
		ctx_data_hint();
		free(cause);
	}
	return c;
}

const struct settings *
ctx_settings(struct ctx *ctx, int *ex)
{
	if (ctx->settings != NULL)
		return ctx->settings;
	char *path = NULL;
	if (ctx->config_path == NULL) {
		char *dir = paths_config_dir();
		if (dir == NULL) /* no HOME: nothing to read */
			return ctx->settings = settings_default();
		path = xasprintf("%s/config.yaml", dir);
		free(dir);
	}
	struct stat st;
	if (path == NULL && stat(ctx->config_path, &st) != 0) {
		fl_warnx("config file %s: %s", ctx->config_path, strerror(errno));
		*ex = EX_NOINPUT;
		return NULL;
	}
	struct diag d = {0};
	ctx->settings = settings_load(path ? path : ctx->config_path, path == NULL, &d);
	if (d.msgs.n > 0) {
		char *all = diag_join(&d);
		fprintf(stderr, "%s\n", all);
		free(all);
	}
	if (ctx->settings == NULL)
		*ex = EX_CONFIG;
	diag_free(&d);
	free(path);
	return ctx->settings;
}

int
ctx_tool_backend(struct ctx *ctx, const char *fixture, struct tool_backend *tb)
{
	int ex = EX_OK;
	const struct settings *s = ctx_settings(ctx, &ex);
	if (s == NULL)
		return ex;
	const struct tools_settings *t = &s->tools;
	char *cause = NULL;
	if (fixture == NULL && t->kind == TOOLS_HTTP) {
		const char *token = t->token_env ? getenv(t->token_env) : NULL;
		if (t->token_env != NULL && (token == NULL || *token == '\0')) {
			fl_warnx("tools: the http backend's token variable %s is not set",
			         t->token_env);
			return EX_CONFIG;
		}
		/* Tool calls run on the process's one loop, like the model calls. */
		if (ctx->loop == NULL)
			ctx->loop = loop_new();
		struct tool_http_config hc = {
		    .loop = ctx->loop,
		    .account_url = t->account_url,
		    .order_url = t->order_url,
		    .credit_url = t->credit_url,
		    .resend_url = t->resend_url,
		    .timeout_ms = t->timeout_ms,
		    .bearer_token = token,
		};
		if (tool_backend_http(tb, &hc, &cause) != 0) {
			fl_warnx("tools: %s", cause);
			free(cause);
			return EX_CONFIG;
		}
		return EX_OK;
	}
	char *dflt = xasprintf("%s/data/fixtures/customers.json", ctx->datadir);
	const char *path = fixture ? fixture : t->fixture ? t->fixture : dflt;
	struct stat st;
	if (stat(path, &st) != 0) {
		fl_warnx("tools: the customer fixture %s: %s", path, strerror(errno));
		ex = EX_NOINPUT;
	} else if (tool_backend_fixture(tb, path, &cause) != 0) {
		fl_warnx("tools: %s", cause);
		ex = EX_DATAERR;
	}
	free(cause);
	free(dflt);
	return ex;
}

int
ctx_models(struct ctx *ctx, struct agents *ag)
{
	int ex = EX_OK, any = 0;
	const struct settings *s = ctx_settings(ctx, &ex);
	if (s == NULL)
		return ex;
	for (int r = 0; r < AGENT__N; r++) {
		ag->backend[r] = s->agents[r].backend;
		if (ctx->backend != NULL)
			ag->backend[r] =
			    strcmp(ctx->backend, "openai") == 0 ? BACKEND_OPENAI : BACKEND_OFFLINE;
		/* No embeddings model, no embeddings: FTS5 retrieval alone. */
		if (r == AGENT_EMBEDDINGS && s->agents[r].model == NULL)
			ag->backend[r] = BACKEND_OFFLINE;
		any |= ag->backend[r] == BACKEND_OPENAI;
	}
	ag->models = NULL;
	if (!any)
		return EX_OK;
	if (ctx->models == NULL) {
		char *cause = NULL;
		if (ctx->loop == NULL)
			ctx->loop = loop_new();
		ctx->models = models_new(ctx->loop, s, ctx->datadir, &cause);
		if (ctx->models == NULL) {
			fl_warnx("model backend: %s", cause);
			free(cause);
			return EX_CONFIG;
		}
	}
	ag->models = ctx->models;
	return EX_OK;
}

char *
cmd_join_args(int argc, char **argv, int from)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = from; i < argc; i++) {
		if (i > from)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}

char *
ctx_db_path(struct ctx *ctx)
{
	if (ctx->db_path != NULL)
		return xstrdup(ctx->db_path);
	int ex;
	const struct settings *set = ctx_settings(ctx, &ex);
	if (set == NULL) /* a broken config file: its errors are printed */
		return NULL;
	if (set->database != NULL)
		return xstrdup(set->database);
	char *dir = paths_state_dir();
	if (dir == NULL)
		return NULL;
	char *p = xasprintf("%s/frontline.db", dir);
	free(dir);
	return p;
}

struct store *
ctx_store(struct ctx *ctx, int *ex)
{
	char *cause = NULL, *db = ctx_db_path(ctx);
	if (db == NULL && ctx->settings == NULL) { /* a broken config file */
		*ex = EX_CONFIG;
		return NULL;
	}
	struct store *st = db ? store_open(db, &cause) : NULL;
	if (st == NULL) {
		/* A connection string may hold a password: never print it. */
		char *shown = db ? store_target_redacted(db) : xstrdup("(no state directory)");
		fl_warnx("cannot open the store %s: %s", shown, cause ? cause : "no HOME");
		free(shown);
		*ex = EX_CANTCREAT;
	}
	free(cause);
	free(db);
	return st;
}

int
ctx_agents(struct ctx *ctx, const char *fixture, struct agents *ag, struct tool_backend *tb)
{
	struct policy *p;
	int ex;
	if ((ex = ctx_retrieval(ctx, &p, &ag->kb, &ag->fresh)) != EX_OK)
		return ex;
	ag->policy = p;
	if ((ag->triage = ctx_triage(ctx, p, NULL, &ex)) == NULL)
		return ex;
	if ((ex = ctx_tool_backend(ctx, fixture, tb)) != EX_OK)
		return ex;
	ag->tools = tb;
	return ctx_models(ctx, ag);
}

void
ctx_agents_free(struct agents *ag, struct tool_backend *tb)
{
	if (tb->free)
		tool_backend_free(tb);
	triage_close(ag->triage);
	kb_close(ag->kb);
}
