/* main.c -- global options, defaults, and dispatch to a sub-command. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "loop.h"
#include "model.h"
#include "paths.h"

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"kb", required_argument, NULL, 'k'},
	    {"db", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"backend", required_argument, NULL, 'b'},
	    {"demo", no_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	struct ctx ctx = {0};
	int c, demo = 0;
	char *policy = NULL, *kb = NULL, *cause = NULL;

	setlocale(LC_ALL, "");
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ctx.policy_path = optarg;
			break;
		case 'k':
			ctx.kb_dir = optarg;
			break;
		case 'd':
			ctx.db_path = optarg;
			break;
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "offline") != 0 && strcmp(optarg, "openai") != 0) {
				fl_warnx("--backend must be offline or openai, not '%s'", optarg);
				return EX_USAGE;
			}
			ctx.backend = optarg;
			break;
		case 'D':
			demo = 1;
			break;
		case 'h':
			cmd_usage(stdout);
			return EX_OK;
		case 'V':
			printf("frontline %s\n", PACKAGE_VERSION);
			return EX_OK;
		default:
			cmd_usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	if (date_today(&ctx.today, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		return EX_CONFIG;
	}
	ctx.datadir = paths_data_dir();
	if (ctx.policy_path == NULL)
		ctx.policy_path = policy =
		    xasprintf("%s/policies/support-agent-policy.yaml", ctx.datadir);
	if (ctx.kb_dir == NULL)
		ctx.kb_dir = kb = xasprintf("%s/kb", ctx.datadir);

	/*
	 * No command: the console. --demo is the console's demo on a
	 * terminal, and the printed tour (frontline demo) anywhere else.
	 */
	int rc;
	static char console_name[] = "console", demo_flag[] = "--demo", tour_name[] = "demo";
	char *console_argv[] = {console_name, demo_flag, NULL};
	char *tour_argv[] = {tour_name, NULL};
	int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (demo && argc > 0) {
		fl_warnx("--demo takes no command (it opens the console's demo)");
		rc = EX_USAGE;
	} else if (demo)
		rc = tty ? cmd_dispatch(&ctx, 2, console_argv) : cmd_dispatch(&ctx, 1, tour_argv);
	else if (argc == 0 && tty)
		rc = cmd_dispatch(&ctx, 1, console_argv);
	else if (argc == 0) {
		cmd_usage(stderr);
		rc = EX_USAGE;
	} else
		rc = cmd_dispatch(&ctx, argc, argv);

	if (ctx.policy_loaded)
		policy_watch_free(&ctx.policy);
	models_free(ctx.models);
	loop_free(ctx.loop);
	settings_free(ctx.settings);
	free(ctx.datadir);
	free(policy);
	free(kb);
	/* An earlier flush may have failed too, with nothing left to flush now. */
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == EX_OK)
		rc = EX_IOERR;
	return rc;
}
