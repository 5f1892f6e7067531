/* cmd-worker.c -- frontline worker: answers pending conversations from the shared store. */
#include "config.h"

#include <errno.h>
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

/* --verbose: where the worker works and how. */
static void
say_started(struct ctx *ctx, struct store *st, const struct worker_opts *wo)
{
	char *db = ctx_db_path(ctx), *where = store_target_redacted(db ? db : "");
	printf("worker %s: %s store %s, lease %.1f s, %d at a time\n", wo->id, store_backend(st),
	       where, (double)wo->lease_ms / 1000, wo->concurrency);
	fflush(stdout);
	free(where);
	free(db);
}

/* --verbose: what the worker did. */
static void
say_stats(const char *id, const struct worker_stats *s)
{
	printf("worker %s: %llu turn%s stored (%llu withheld), %llu dropped, %llu failed, "
	       "%llu idle closed\n",
	       id, (unsigned long long)s->turns, s->turns == 1 ? "" : "s",
	       (unsigned long long)s->withheld, (unsigned long long)s->lost,
	       (unsigned long long)s->errors, (unsigned long long)s->closed);
}

static int
cmd_worker(struct ctx *ctx, const struct cmd_args *a)
{
	struct worker_opts wo = {
	    .id = cmd_args_get(a, "id"),
	    .lease_ms = (long)(cmd_args_number(a, "lease", 30) * 1000),
	    .concurrency = (int)cmd_args_number(a, "concurrency", 8),
	    .poll_ms = (long)(cmd_args_number(a, "poll", 1) * 1000),
	};
	struct run r = {.ctx = ctx, .verbose = cmd_args_has(a, "verbose")};
	int once = cmd_args_has(a, "once"), ex = EX_OK;

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
	if ((ex = ctx_agents(ctx, cmd_args_get(a, "fixture"), &ag, &tb)) != EX_OK)
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
	if (r.verbose)
		say_started(ctx, st, &wo);
	/* Until told to stop, and then until what is in flight is stored or released. */
	while (!(r.signals > 0 && worker_busy(w) == 0) && !(once && worker_idle(w)))
		loop_once(ctx->loop, -1);
	if (r.verbose)
		say_stats(wo.id, worker_stats(w));
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

static int
id_check(const char *v, const char **what)
{
	*what = "a name of 1 to 200 characters";
	return *v != '\0' && strlen(v) <= 200 ? 0 : -1;
}

static const struct cmd_option options[] = {
    {.name = "id",
     .value = CMD_TEXT,
     .arg = "ID",
     .check = id_check,
     .help = "who holds the claims (default: HOST:PID); unique per worker"},
    {.name = "lease",
     .value = CMD_NUMBER,
     .arg = "SECONDS",
     .min = 0.1,
     .max = 86400,
     .help = "how long a claim lives unless renewed (default 30); it is renewed while a turn "
             "runs, and a dead worker's claims are taken by another once it runs out"},
    {.name = "concurrency",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = 10000,
     .help = "turns in flight at once (default 8; model backends are asynchronous)"},
    {.name = "poll",
     .value = CMD_NUMBER,
     .arg = "SECONDS",
     .min = 0.1,
     .max = 86400,
     .help = "SQLite only: how often to look for work (default 1); PostgreSQL notifies "
             "(LISTEN frontline_work)"},
    {.name = "once", .help = "stop when nothing is left to claim"},
    {.name = "verbose", .key = 'v', .help = "a line per turn on standard output"},
    {.name = "fixture",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "customers and orders for the tools, instead of the config's"},
    {0},
};

const struct cmd_entry cmd_worker_entry = {
    .name = "worker",
    .summary = "answers conversations waiting for the AI, claimed from the shared store",
    .options = options,
    .exec = cmd_worker,
    .help = "SIGTERM or SIGINT: no more claims, turns in flight are finished and stored;\n"
            "a second one releases them (their messages stay pending for another worker).\n",
};
