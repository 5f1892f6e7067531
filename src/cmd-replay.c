/* cmd-replay.c -- frontline replay: shadow-mode tickets through the agents, and the report. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
#include "replay.h"
#include "safe-text.h"
#include "store.h"
#include "version.h"

#define BATCH 500 /* results per store transaction */

struct replay_opts {
	int json, no_store, progress_json;
	const char *out;
	double target;
	long limit;
};

static int
parse_opts(int argc, char **argv, struct replay_opts *o, int *ex)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"out", required_argument, NULL, 'o'},
	    {"no-store", no_argument, NULL, 'n'},
	    {"progress", required_argument, NULL, 'p'},
	    {"target-agreement", required_argument, NULL, 'a'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'n':
			o->no_store = 1;
			break;
		case 'p':
			if (strcmp(optarg, "json") != 0) {
				fl_warnx("replay: --progress takes json, not '%s'", optarg);
				*ex = EX_USAGE;
				return -1;
			}
			o->progress_json = 1;
			break;
		case 'a':
			errno = 0;
			o->target = strtod(optarg, &end);
			if (errno || end == optarg || *end != '\0' || !(o->target >= 0) ||
			    o->target > 1) {
				fl_warnx(
				    "replay: --target-agreement takes a number in [0,1], not '%s'",
				    optarg);
				*ex = EX_USAGE;
				return -1;
			}
			break;
		case 'l':
			errno = 0;
			o->limit = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || o->limit < 1) {
				fl_warnx("replay: --limit takes a positive number, not '%s'",
				         optarg);
				*ex = EX_USAGE;
				return -1;
			}
			break;
		case 'h':
			cmd_help(&cmd_replay_entry, stdout);
			*ex = EX_OK;
			return -1;
		default:
			cmd_help(&cmd_replay_entry, stderr);
			*ex = EX_USAGE;
			return -1;
		}
	}
	if (optind != argc - 1) {
		cmd_help(&cmd_replay_entry, stderr);
		*ex = EX_USAGE;
		return -1;
	}
	return 0;
}

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

static int
cmd_replay(struct ctx *ctx, int argc, char **argv)
{
	struct replay_opts o = {.target = 0.8};
	int ex = EX_OK;
	if (parse_opts(argc, argv, &o, &ex) != 0)
		return ex;
	const char *path = argv[optind];
	int from_stdin = strcmp(path, "-") == 0;
	const char *name = from_stdin ? "stdin" : path;

	FILE *in = from_stdin ? stdin : fopen(path, "r");
	if (in == NULL) {
		fl_warnx("replay: %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	struct agents ag = {0};
	struct tool_backend tb = {0};
	struct sink sink = {0};
	struct replay_report *rp = NULL;
	FILE *out = NULL;
	char *cause = NULL;
	cJSON *report = NULL;
	struct jsonl rd;
	jsonl_init(&rd, in, name);

	if ((ex = ctx_agents(ctx, NULL, &ag, &tb)) != EX_OK)
		goto done;
	char version[13];
	agents_version(&ag, version);
	if (o.out != NULL) {
		out = strcmp(o.out, "-") == 0 ? stdout : fopen(o.out, "w");
		if (out == NULL) {
			fl_warnx("replay: %s: %s", o.out, strerror(errno));
			ex = EX_CANTCREAT;
			goto done;
		}
	}
	if (!o.no_store) {
		if ((sink.st = ctx_store(ctx, &ex)) == NULL)
			goto done;
		if (store_replay_begin(sink.st, name, version, &sink.run, &cause) != 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
			goto done;
		}
	}

	struct progress pg = {.kind = o.progress_json         ? PROGRESS_JSON
	                              : isatty(STDERR_FILENO) ? PROGRESS_BAR
	                                                      : PROGRESS_NONE,
	                      .what = "replay",
	                      .unit = "tickets"};
	pg.total = from_stdin ? -1 : progress_count_lines(path);
	if (o.limit > 0 && pg.total > o.limit)
		pg.total = o.limit;
	pg.step = pg.total > 0 ? (pg.total + 99) / 100 : 100;

	rp = replay_report_new(o.target);
	long done = 0, bad = 0, good = 0;
	int got;
	struct ticket t;
	while ((o.limit == 0 || done < o.limit) && (got = ticket_read(&rd, &t, &cause)) != 0) {
		if (got == -2) {
			fl_warnx("replay: %s", cause);
			ex = EX_IOERR;
			goto done;
		}
		done++;
		/* One run measures one agent version: the policy is not reloaded mid-run. */
		cJSON *r = NULL;
		if (got < 0 || (r = replay_ticket(&ag, version, &t, &cause)) == NULL) {
			if (got < 0) /* FILE:LINE: why */
				text_printf(stderr, "%s%s\n", progress_clear(&pg), cause);
			else
				text_printf(stderr, "%s%s:%ld: %s\n", progress_clear(&pg), name, rd.lineno,
				            cause);
			free(cause);
			cause = NULL;
			ticket_free(&t);
			replay_report_bad(rp);
			bad++;
			progress_show(&pg, done, bad, 0);
			continue;
		}
		good++;
		replay_report_add(rp, r);
		if (out != NULL) {
			char *s = cJSON_PrintUnformatted(r);
			fputs(s, out);
			fputc('\n', out);
			free(s);
		}
		int rc = sink_add(&sink, t.id, r, &cause);
		cJSON_Delete(r);
		ticket_free(&t);
		if (rc != 0) {
			fl_warnx("store: %s", cause);
			ex = EX_IOERR;
			goto done;
		}
		progress_show(&pg, done, bad, 0);
	}
	progress_show(&pg, done, bad, 1);

	report = replay_report_json(rp);
	if (sink_finish(&sink, good, report, &cause) != 0) {
		fl_warnx("store: %s", cause);
		ex = EX_IOERR;
		goto done;
	}
	if (o.json) {
		if (sink.st != NULL)
			cJSON_AddNumberToObject(report, "run", (double)sink.run);
		char *s = cJSON_Print(report);
		puts(s);
		free(s);
	} else {
		struct text_capture tc;
		replay_report_print(report, text_capture_begin(&tc));
		text_capture_end(&tc, stdout);
		if (sink.st != NULL)
			printf("\nStored as replay run %lld (frontline metrics reads it).\n",
			       (long long)sink.run);
	}
	if (out != NULL && out != stdout && fclose(out) != 0) {
		out = NULL;
		fl_warnx("replay: %s: %s", o.out, strerror(errno));
		ex = EX_IOERR;
		goto done;
	}
	out = NULL;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fl_warnx("replay: standard output: %s", strerror(errno));
		ex = EX_IOERR;
	} else if (bad > 0)
		ex = EX_DATAERR; /* everything good was replayed; the bad lines were named */
done:
	if (sink.in_tx)
		store_rollback(sink.st);
	if (out != NULL && out != stdout)
		fclose(out);
	cJSON_Delete(report);
	replay_report_free(rp);
	jsonl_free(&rd);
	free(cause);
	store_close(sink.st);
	ctx_agents_free(&ag, &tb);
	if (in != stdin)
		fclose(in);
	return ex;
}

const struct cmd_entry cmd_replay_entry = {
    .name = "replay",
    .args = "[--json] [--out FILE] [--no-store] [--progress=json] [--target-agreement X] "
            "[--limit N] TICKETS.jsonl",
    .summary = "shadow-mode replay of tickets (JSON Lines; - for standard input) and the "
               "agent-vs-human report",
    .exec = cmd_replay,
    .help = "  --json                 the report as one JSON object\n"
            "  --out FILE             one replay result per ticket, as JSON Lines (- for\n"
            "                         standard output)\n"
            "  --no-store             do not store the run (by default it is stored for\n"
            "                         frontline metrics and the console)\n"
            "  --progress=json        progress as {\"done\",\"total\",\"bad\"} lines on standard\n"
            "                         error (a terminal gets a bar without it)\n"
            "  --target-agreement X   agreement with the humans' escalations the threshold\n"
            "                         sweep's best threshold must reach (default 0.8)\n"
            "  --limit N              replay the first N tickets only\n"
            "Nothing is sent to anyone. A bad line is reported as FILE:LINE: cause and\n"
            "skipped; the run goes on and exits 65 at the end.\n",
};
