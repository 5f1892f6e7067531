/* cmd-replay.c -- frontline replay: shadow-mode tickets through the agents, and the report. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "progress.h"
#include "replay.h"
#include "safe-text.h"
#include "store.h"
#include "version.h"

#define BATCH 500 /* results per store transaction */

/* The store's side of a run: one transaction per BATCH results. */
struct sink {
	struct store *st;
	int64_t run;
	int in_tx, pending;
};

static int
sink_add(struct sink *s, const char *id, const cJSON *r, char **cause)
{
	if (s->st == NULL)
		return 0;
	if (!s->in_tx) {
		if (store_begin(s->st, cause) != 0)
			return -1;
		s->in_tx = 1;
	}
	if (store_replay_result(s->st, s->run, id, r, cause) != 0)
		return -1;
	if (++s->pending >= BATCH) {
		s->in_tx = 0;
		s->pending = 0;
		if (store_commit(s->st, cause) != 0)
			return -1;
	}
	return 0;
}

static int
sink_finish(struct sink *s, long tickets, const cJSON *report, char **cause)
{
	if (s->st == NULL)
		return 0;
	if (s->in_tx) {
		s->in_tx = 0;
		if (store_commit(s->st, cause) != 0)
			return -1;
	}
	return store_replay_finish(s->st, s->run, tickets, report, cause);
}

/* One replay run: the agents, where the results go, and the tally. */
struct run {
	struct agents ag;
	struct tool_backend tb;
	char version[13];
	const char *name;     /* the tickets' file, or "stdin" */
	const char *out_path; /* --out */
	FILE *out;            /* --out's stream, or NULL */
	struct sink sink;
	struct replay_report *rp;
	struct progress pg;
	long done, bad, good;
};

/* The agents, --out and the stored run, made ready. Returns an exit code. */
static int
run_open(struct run *r, struct ctx *ctx, const struct cmd_args *a)
{
	char *cause = NULL;
	int ex;
	if ((ex = ctx_agents(ctx, NULL, &r->ag, &r->tb)) != EX_OK)
		return ex;
	agents_version(&r->ag, r->version);
	r->rp = replay_report_new(cmd_args_number(a, "target-agreement", 0.8));
	if (r->out_path != NULL &&
	    (r->out = strcmp(r->out_path, "-") == 0 ? stdout : fopen(r->out_path, "w")) == NULL) {
		fl_warnx("replay: %s: %s", r->out_path, strerror(errno));
		return EX_CANTCREAT;
	}
	if (cmd_args_has(a, "no-store"))
		return EX_OK;
	if ((r->sink.st = ctx_store(ctx, &ex)) == NULL)
		return ex;
	if (store_replay_begin(r->sink.st, r->name, r->version, &r->sink.run, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		return EX_IOERR;
	}
	return EX_OK;
}

/* One ticket (got: what ticket_read said) through the agents, into the report and the sinks. */
static int
run_ticket(struct run *r, const struct jsonl *rd, int got, struct ticket *t, char *cause)
{
	/* One run measures one agent version: the policy is not reloaded mid-run. */
	cJSON *res = NULL;
	r->done++;
	if (got < 0 || (res = replay_ticket(&r->ag, r->version, t, &cause)) == NULL) {
		if (got < 0) /* FILE:LINE: why */
			text_printf(stderr, "%s%s\n", progress_clear(&r->pg), cause);
		else
			text_printf(stderr, "%s%s:%ld: %s\n", progress_clear(&r->pg), r->name,
			            rd->lineno, cause);
		free(cause);
		replay_report_bad(r->rp);
		r->bad++;
		return EX_OK;
	}
	r->good++;
	replay_report_add(r->rp, res);
	if (r->out != NULL) {
		char *s = cJSON_PrintUnformatted(res);
		fputs(s, r->out);
		fputc('\n', r->out);
		free(s);
	}
	int rc = sink_add(&r->sink, t->id, res, &cause);
	cJSON_Delete(res);
	if (rc != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		return EX_IOERR;
	}
	return EX_OK;
}

/* Every ticket of rd (the first limit, when limit > 0), a bad one named and skipped. */
static int
run_tickets(struct run *r, struct jsonl *rd, long limit)
{
	int got, ex = EX_OK;
	char *cause = NULL;
	struct ticket t;
	while (ex == EX_OK && (limit == 0 || r->done < limit) &&
	       (got = ticket_read(rd, &t, &cause)) != 0) {
		if (got == -2) {
			fl_warnx("replay: %s", cause);
			free(cause);
			return EX_IOERR;
		}
		ex = run_ticket(r, rd, got, &t, cause);
		cause = NULL;
		ticket_free(&t);
		progress_show(&r->pg, r->done, r->bad, 0);
	}
	progress_show(&r->pg, r->done, r->bad, 1);
	return ex;
}

/* The run stored and its report printed; EX_DATAERR when tickets were bad. */
static int
run_report(struct run *r, const struct cmd_args *a)
{
	char *cause = NULL;
	int ex = EX_OK;
	cJSON *report = replay_report_json(r->rp);
	if (sink_finish(&r->sink, r->good, report, &cause) != 0) {
		fl_warnx("store: %s", cause);
		free(cause);
		cJSON_Delete(report);
		return EX_IOERR;
	}
	if (cmd_args_has(a, "json")) {
		if (r->sink.st != NULL)
			cJSON_AddNumberToObject(report, "run", (double)r->sink.run);
		char *s = cJSON_Print(report);
		puts(s);
		free(s);
	} else {
		struct text_capture tc;
		replay_report_print(report, text_capture_begin(&tc));
		text_capture_end(&tc, stdout);
		if (r->sink.st != NULL)
			printf("\nStored as replay run %lld (frontline metrics reads it).\n",
			       (long long)r->sink.run);
	}
	cJSON_Delete(report);
	FILE *out = r->out;
	r->out = NULL;
	if (out != NULL && out != stdout && fclose(out) != 0) {
		fl_warnx("replay: %s: %s", r->out_path, strerror(errno));
		ex = EX_IOERR;
	} else if (fflush(stdout) != 0 || ferror(stdout)) {
		fl_warnx("replay: standard output: %s", strerror(errno));
		ex = EX_IOERR;
	} else if (r->bad > 0)
		ex = EX_DATAERR; /* everything good was replayed; the bad lines were named */
	return ex;
}

static void
run_free(struct run *r)
{
	if (r->sink.in_tx)
		store_rollback(r->sink.st);
	if (r->out != NULL && r->out != stdout)
		fclose(r->out);
	replay_report_free(r->rp);
	store_close(r->sink.st);
	ctx_agents_free(&r->ag, &r->tb);
}

static int
cmd_replay(struct ctx *ctx, const struct cmd_args *a)
{
	const char *path = a->argv[0];
	long limit = (long)cmd_args_number(a, "limit", 0);
	int from_stdin = strcmp(path, "-") == 0;
	struct run r = {
	    .name = from_stdin ? "stdin" : path,
	    .out_path = cmd_args_get(a, "out"),
	    .pg = {.what = "replay", .unit = "tickets"},
	};
	FILE *in = from_stdin ? stdin : fopen(path, "r");
	if (in == NULL) {
		fl_warnx("replay: %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	struct jsonl rd;
	jsonl_init(&rd, in, r.name);
	cmd_progress(a, &r.pg);
	r.pg.total = from_stdin ? -1 : progress_count_lines(path);
	if (limit > 0 && r.pg.total > limit)
		r.pg.total = limit;
	r.pg.step = r.pg.total > 0 ? (r.pg.total + 99) / 100 : 100;

	int ex = run_open(&r, ctx, a);
	if (ex == EX_OK)
		ex = run_tickets(&r, &rd, limit);
	if (ex == EX_OK)
		ex = run_report(&r, a);
	run_free(&r);
	jsonl_free(&rd);
	if (in != stdin)
		fclose(in);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "json", .help = "the report as one JSON object"},
    {.name = "out",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "one replay result per ticket, as JSON Lines (- for standard output)"},
    {.name = "no-store",
     .help = "do not store the run (by default it is stored for frontline metrics and the "
             "console)"},
    CMD_OPTION_PROGRESS,
    {.name = "target-agreement",
     .value = CMD_NUMBER,
     .arg = "X",
     .min = 0,
     .max = 1,
     .help = "agreement with the humans' escalations the threshold sweep's best threshold "
             "must reach (default 0.8)"},
    {.name = "limit",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = INFINITY,
     .help = "replay the first N tickets only"},
    {0},
};

const struct cmd_entry cmd_replay_entry = {
    .name = "replay",
    .summary = "shadow-mode replay of tickets (JSON Lines; - for standard input) and the "
               "agent-vs-human report",
    .options = options,
    .operands = "TICKETS.jsonl",
    .min_operands = 1,
    .max_operands = 1,
    .operand_value = CMD_FILE,
    .exec = cmd_replay,
    .help = "Nothing is sent to anyone. A bad line is reported as FILE:LINE: cause and\n"
            "skipped; the run goes on and exits 65 at the end.\n",
};
