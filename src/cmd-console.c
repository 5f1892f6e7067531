/* cmd-console.c -- frontline console: the supervisor's screen, customers joining it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "console.h"
#include "model.h"
#include "paths.h"
#include "rollout.h"
#include "store.h"

struct reload {
	struct ctx *ctx;
	struct agents *ag;
};

static const struct policy *
poll_policy(void *arg)
{
	struct reload *r = arg;
	return ctx_agents_policy(r->ctx, r->ag) ? r->ag->policy : NULL;
}

/* An option and its value for the replay child, when there is a value. */
static void
replay_args_add(struct strv *v, const char *opt, const char *value)
{
	if (value == NULL)
		return;
	strv_add(v, opt);
	strv_add(v, value);
}

static int
cmd_console(struct ctx *ctx, const struct cmd_args *a)
{
	struct console_opts o = {
	    .demo_speed = cmd_args_number(a, "speed", 1),
	    .tcp_port = (int)cmd_args_number(a, "tcp", 0),
	    .supervisor = cmd_args_get(a, "name"),
	    .exit_after_ms = (long)cmd_args_number(a, "exit-after", 0),
	    .floor_url = cmd_args_get(a, "floor"),
	    .floor_token = getenv("FRONTLINE_SERVE_TOKEN"),
	};
	const char *socket = cmd_args_get(a, "socket");
	int listen = !cmd_args_has(a, "no-listen"), ex;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fl_warnx("the console needs a terminal (for line mode, see frontline chat)");
		return EX_USAGE;
	}

	struct agents ag = {0};
	struct tool_backend tb = {0};
	struct store *st = NULL;
	char *sock = NULL, *history = NULL, *demo_path = NULL;
	char *state = NULL, *dbpath = NULL;
	struct strv rargs = {0};
	struct rollout_live live = {.stage = -1, .canary_share = -1};

	/* One loop for the terminal, the customers, the models and the tools. */
	if (ctx->loop == NULL)
		ctx->loop = loop_new();
	if ((ex = ctx_agents(ctx, cmd_args_get(a, "fixture"), &ag, &tb)) != EX_OK)
		goto out;
	if ((st = ctx_store(ctx, &ex)) == NULL)
		goto out;
	if ((ex = ctx_rollout(ctx, st, &ag, &live)) != EX_OK)
		goto out;
	o.rollout = &live;
	if (listen && o.tcp_port == 0 && socket == NULL &&
	    (socket = sock = paths_console_socket(1)) == NULL) {
		fl_warnx("no directory for the customer socket (HOME unset?): use --socket or "
		         "--no-listen");
		ex = EX_CANTCREAT;
		goto out;
	}
	if (listen)
		o.socket_path = socket;
	if ((state = paths_state_dir()) != NULL)
		o.history_path = history = xasprintf("%s/history", state);
	if (cmd_args_has(a, "demo"))
		o.demo_path = demo_path = xasprintf("%s/data/demo/customers.yaml", ctx->datadir);
	if (o.supervisor == NULL) {
		const char *u = getenv("USER");
		o.supervisor = u && *u ? u : "supervisor";
	}
	o.policy_version = ag.policy->version;
	/* The operator's replay runs on what this console runs on. */
	char today[11];
	date_format(ctx->today, today);
	o.today = today;
	o.datadir = ctx->datadir;
	replay_args_add(&rargs, "--policy", ctx->policy_path);
	replay_args_add(&rargs, "--kb", ctx->kb_dir);
	replay_args_add(&rargs, "--db", dbpath = ctx_db_path(ctx));
	replay_args_add(&rargs, "--config", ctx->config_path);
	replay_args_add(&rargs, "--backend", ctx->backend);
	strv_take(&rargs, NULL);
	o.replay_args = rargs.v;
	struct reload r = {ctx, &ag};
	o.policy_poll = poll_policy;
	o.policy_arg = &r;
	ex = console_run(ctx->loop, &ag, st, &o);
	/* Turns abandoned on the way out end here, while the agents still exist. */
	models_free(ctx->models);
	ctx->models = NULL;
out:
	store_close(st);
	ctx_rollout_free(&live);
	ctx_agents_free(&ag, &tb);
	free(sock);
	free(history);
	free(state);
	free(demo_path);
	free(dbpath);
	strv_free(&rargs);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "demo", .help = "also run simulated customers (data/demo/customers.yaml)"},
    {.name = "speed",
     .value = CMD_NUMBER,
     .arg = "X",
     .min = 0.001,
     .max = 1e6,
     .help = "the simulated customers' pace, X times a human's (default 1)"},
    {.name = "socket",
     .value = CMD_FILE,
     .arg = "PATH",
     .group = 1,
     .help = "where customers join (default: under $XDG_RUNTIME_DIR, else $XDG_STATE_HOME; "
             "see frontline-protocol(7))"},
    {.name = "tcp",
     .value = CMD_INT,
     .arg = "PORT",
     .min = 1,
     .max = 65535,
     .group = 1,
     .help = "listen on 127.0.0.1:PORT instead"},
    {.name = "no-listen", .group = 1, .help = "no customers from outside (the demo still runs)"},
    {.name = "name",
     .value = CMD_TEXT,
     .arg = "NAME",
     .help = "who takes conversations over (default: $USER)"},
    {.name = "fixture",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "customers and orders for the tools (default: the config's)"},
    {.name = "floor",
     .value = CMD_TEXT,
     .arg = "URL",
     .help = "take the changes made elsewhere from frontline serve's floor stream "
             "(http://HOST:PORT, the token in $FRONTLINE_SERVE_TOKEN; frontline-http(7)) "
             "instead of the store's notifications"},
    {.name = "exit-after",
     .value = CMD_INT,
     .arg = "MS",
     .min = 1,
     .max = 1e9,
     .help = "quit after MS milliseconds (for benchmarks)"},
    {0},
};

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .summary = "the supervisor's console: live chats, takeover, handoff packets",
    .options = options,
    .exec = cmd_console,
    .help = "Keys: F1 or ? for help. State lives in the store: quit and restart freely.\n"
            "The console is the default command: frontline --no-listen is frontline\n"
            "console --no-listen.\n",
};
