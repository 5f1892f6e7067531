/* cmd-console.c -- frontline console: the supervisor's screen, customers joining it. */
#include "config.h"

#include <getopt.h>
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

/* A positive number, or -1. */
static double
positive(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	return *s != '\0' && *end == '\0' && v > 0 && v < 1e6 ? v : -1;
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
cmd_console(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"demo", no_argument, NULL, 'D'},          {"speed", required_argument, NULL, 's'},
	    {"socket", required_argument, NULL, 'S'},  {"tcp", required_argument, NULL, 'T'},
	    {"no-listen", no_argument, NULL, 'N'},     {"name", required_argument, NULL, 'n'},
	    {"fixture", required_argument, NULL, 'f'}, {"exit-after", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},          {0},
	};
	struct console_opts o = {.demo_speed = 1};
	int c, demo = 0, listen = 1, ex;
	const char *fixture = NULL, *socket = NULL;
	double v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			demo = 1;
			break;
		case 's':
			if ((o.demo_speed = positive(optarg)) < 0) {
				fl_warnx("--speed wants a positive number, not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case 'S':
			socket = optarg;
			break;
		case 'T':
			if ((v = positive(optarg)) < 0 || v > 65535 || v != (int)v) {
				fl_warnx("--tcp wants a port number, not '%s'", optarg);
				return EX_USAGE;
			}
			o.tcp_port = (int)v;
			break;
		case 'N':
			listen = 0;
			break;
		case 'n':
			o.supervisor = optarg;
			break;
		case 'f':
			fixture = optarg;
			break;
		case 'x':
			if ((v = positive(optarg)) < 0) {
				fl_warnx("--exit-after wants milliseconds, not '%s'", optarg);
				return EX_USAGE;
			}
			o.exit_after_ms = (long)v;
			break;
		case 'h':
			cmd_help(&cmd_console_entry, stdout);
			return EX_OK;
		default:
			cmd_help(&cmd_console_entry, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cmd_help(&cmd_console_entry, stderr);
		return EX_USAGE;
	}
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
	if ((ex = ctx_agents(ctx, fixture, &ag, &tb)) != EX_OK)
		goto out;
	if ((st = ctx_store(ctx, &ex)) == NULL)
		goto out;
	if ((ex = ctx_rollout(ctx, st, &ag, &live)) != EX_OK)
		goto out;
	o.rollout = &live;
	if (listen && o.tcp_port == 0) {
		if (socket == NULL && (socket = sock = paths_console_socket(1)) == NULL) {
			fl_warnx(
			    "no directory for the customer socket (HOME unset?): use --socket or "
			    "--no-listen");
			ex = EX_CANTCREAT;
			goto out;
		}
		o.socket_path = socket;
	} else if (listen)
		o.socket_path = socket;
	if ((state = paths_state_dir()) != NULL)
		o.history_path = history = xasprintf("%s/history", state);
	if (demo)
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

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .args = "[--demo] [--speed X] [--socket PATH | --tcp PORT | --no-listen] [--name NAME]",
    .summary = "the supervisor's console: live chats, takeover, handoff packets",
    .exec = cmd_console,
    .help = "  --demo           also run simulated customers (data/demo/customers.yaml)\n"
            "  --speed X        the simulated customers' pace, X times a human's (default 1)\n"
            "  --socket PATH    where customers join (default: under $XDG_RUNTIME_DIR,\n"
            "                   else $XDG_STATE_HOME; see frontline-protocol(7))\n"
            "  --tcp PORT       listen on 127.0.0.1:PORT instead\n"
            "  --no-listen      no customers from outside (the demo still runs)\n"
            "  --name NAME      who takes conversations over (default: $USER)\n"
            "  --fixture FILE   customers and orders for the tools (default: the config's)\n"
            "Keys: F1 or ? for help. State lives in the store: quit and restart freely.\n",
};
