/* cmd-worker.c -- frontline worker: answers pending conversations from the shared store. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "loop.h"
#include "model.h"
#include "rollout.h"
#include "safe-text.h"
#include "store.h"
#include "worker.h"

/* How often the policy file is looked at. */
#define POLICY_MS 2000

/* The signals that stop a worker: the first drains it, the next releases what is in flight. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

struct run {
	struct ctx *ctx;
	struct agents *ag;
	struct worker *w;
	int signals; /* how many SIGTERM/SIGINT so far */
	int verbose;
};

static void
on_signal(struct loop *l, int signo, void *arg)
{
	struct run *r = arg;
	if (r->w == NULL) { /* still loading: the worker stops as soon as it exists */
		r->signals++;
		return;
	}
	if (r->signals++ == 0) {
		/* Stop claiming; what is in flight is finished and stored. */
		worker_drain(r->w);
		if (worker_busy(r->w) > 0)
			fl_warnx("worker: finishing %zu turn%s in flight (again to release "
			         "them)",
			         worker_busy(r->w), worker_busy(r->w) == 1 ? "" : "s");
	} else
		worker_release(r->w);
}

static void
policy_tick(struct loop *l, void *arg)
{
	struct run *r = arg;
	ctx_agents_policy(r->ctx, r->ag);
	loop_timer_add(l, POLICY_MS, policy_tick, r);
}

static void
log_info(void *arg, const char *line)
{
	struct run *r = arg;
	if (r->verbose) {
		text_printf(stdout, "%s\n", line);
		fflush(stdout);
	}
}

static void
log_warn(void *arg, const char *line)
{
	(void)arg;
	fl_warnx("worker: %s", line);
}

/* Seconds (a positive decimal number) in ms, or -1. */
static long
seconds_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	return *s != '\0' && *end == '\0' && v >= 0.1 && v <= 86400 ? (long)(v * 1000) : -1;
}

static int
cmd_worker(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"id", required_argument, NULL, 'i'},
	    {"lease", required_argument, NULL, 'l'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"poll", required_argument, NULL, 'p'},
	    {"once", no_argument, NULL, 'o'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"fixture", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct worker_opts wo = {.lease_ms = 30000, .concurrency = 8, .poll_ms = 1000};
	struct run r = {.ctx = ctx};
	int c, once = 0, ex = EX_OK;
	const char *fixture = NULL;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (*optarg == '\0' || strlen(optarg) > 200) {
				fl_warnx("--id wants a name of 1 to 200 characters");
				return EX_USAGE;
			}
			wo.id = optarg;
			break;
		case 'l':
			if ((wo.lease_ms = seconds_ms(optarg)) < 0) {
				fl_warnx("--lease wants seconds (0.1 to 86400), not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case 'p':
			if ((wo.poll_ms = seconds_ms(optarg)) < 0) {
				fl_warnx("--poll wants seconds (0.1 to 86400), not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case 'c': {
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 10000) {
				fl_warnx("--concurrency wants a number from 1 to 10000, not '%s'",
				         optarg);
				return EX_USAGE;
			}
			wo.concurrency = (int)n;
			break;
		}
		case 'o':
			once = 1;
			break;
		case 'v':
			r.verbose = 1;
			break;
		case 'f':
			fixture = optarg;
			break;
		case 'h':
			cmd_help(&cmd_worker_entry, stdout);
			return EX_OK;
		default:
			cmd_help(&cmd_worker_entry, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cmd_help(&cmd_worker_entry, stderr);
		return EX_USAGE;
	}

	struct agents ag = {0};
	struct tool_backend tb = {0};
	struct store *st = NULL;
	struct worker *w = NULL;
	struct rollout_live live = {.stage = -1, .canary_share = -1};
	char *id = NULL, *cause = NULL;
	r.ag = &ag;

	/* One loop for the store's notifications, the models and the tools. */
	if (ctx->loop == NULL)
		ctx->loop = loop_new();
	/* From the start: a stop asked for while loading is heard once the loop runs. */
	for (size_t i = 0; i < nitems(stop_signals); i++)
		if (loop_signal(ctx->loop, stop_signals[i], on_signal, &r) != 0) {
			fl_warnx("signals: %s", strerror(errno));
			ex = EX_OSERR;
			goto out;
		}
	signal(SIGPIPE, SIG_IGN);
	if ((ex = ctx_agents(ctx, fixture, &ag, &tb)) != EX_OK)
		goto out;
	if ((st = ctx_store(ctx, &ex)) == NULL)
		goto out;
	if ((ex = ctx_rollout(ctx, st, &ag, &live)) != EX_OK)
		goto out;
	if (wo.id == NULL) {
		char host[256] = "localhost";
		if (gethostname(host, sizeof host - 1) != 0)
			strcpy(host, "localhost");
		wo.id = id = xasprintf("%s:%ld", host, (long)getpid());
	}
	wo.info = log_info;
	wo.warn = log_warn;
	wo.arg = &r;
	r.w = w = worker_new(ctx->loop, st, &ag, &live, &wo);

	loop_timer_add(ctx->loop, POLICY_MS, policy_tick, &r);

	if (worker_start(w, &cause) != 0) {
		fl_warnx("worker: cannot listen for work: %s", cause);
		free(cause);
		ex = EX_UNAVAILABLE;
		goto out;
	}
	if (r.verbose) {
		char *db = ctx_db_path(ctx), *where = store_target_redacted(db ? db : "");
		printf("worker %s: %s store %s, lease %.1f s, %d at a time\n", wo.id,
		       store_backend(st), where, (double)wo.lease_ms / 1000, wo.concurrency);
		fflush(stdout);
		free(where);
		free(db);
	}
	/* Until told to stop, and then until what is in flight is stored or released. */
	while (!(r.signals > 0 && worker_busy(w) == 0) && !(once && worker_idle(w)))
		loop_once(ctx->loop, -1);
	const struct worker_stats *s = worker_stats(w);
	if (r.verbose)
		printf("worker %s: %llu turn%s stored (%llu withheld), %llu dropped, %llu failed, "
		       "%llu idle closed\n",
		       wo.id, (unsigned long long)s->turns, s->turns == 1 ? "" : "s",
		       (unsigned long long)s->withheld, (unsigned long long)s->lost,
		       (unsigned long long)s->errors, (unsigned long long)s->closed);
out:
	/* Turns released on the way out end here, while the agents still exist. */
	worker_release(w);
	models_free(ctx->models);
	ctx->models = NULL;
	worker_free(w);
	for (size_t i = 0; i < nitems(stop_signals); i++)
		loop_signal(ctx->loop, stop_signals[i], NULL, NULL);
	store_close(st);
	ctx_rollout_free(&live);
	ctx_agents_free(&ag, &tb);
	free(id);
	return ex;
}

const struct cmd_entry cmd_worker_entry = {
    .name = "worker",
    .args = "[--id ID] [--lease SECONDS] [--concurrency N] [--poll SECONDS] [--once] [--verbose]",
    .summary = "answers conversations waiting for the AI, claimed from the shared store",
    .exec = cmd_worker,
    .help = "  --id ID          who holds the claims (default: HOST:PID); unique per worker\n"
            "  --lease SECONDS  how long a claim lives unless renewed (default 30); it is\n"
            "                   renewed while a turn runs, and a dead worker's claims are\n"
            "                   taken by another once it runs out\n"
            "  --concurrency N  turns in flight at once (default 8; model backends are\n"
            "                   asynchronous)\n"
            "  --poll SECONDS   SQLite only: how often to look for work (default 1);\n"
            "                   PostgreSQL notifies (LISTEN frontline_work)\n"
            "  --once           stop when nothing is left to claim\n"
            "  --verbose, -v    a line per turn on standard output\n"
            "  --fixture FILE   customers and orders for the tools, instead of the config's\n"
            "SIGTERM or SIGINT: no more claims, turns in flight are finished and stored;\n"
            "a second one releases them (their messages stay pending for another worker).\n",
};
