/* main.c -- global options, defaults, and dispatch to a sub-command. */
#include "config.h"

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
	struct ctx ctx = {0};
	struct cmd_args g;
	char *policy = NULL, *kb = NULL, *cause = NULL;

	setlocale(LC_ALL, "");
	int rc = cmd_parse_global(argc, argv, &g);
	if (rc >= 0) {
		cmd_args_free(&g);
		return rc;
	}
	if (cmd_args_has(&g, "version")) {
		printf("frontline %s\n", PACKAGE_VERSION);
		cmd_args_free(&g);
		return EX_OK;
	}
	ctx.policy_path = cmd_args_get(&g, "policy");
	ctx.kb_dir = cmd_args_get(&g, "kb");
	ctx.db_path = cmd_args_get(&g, "db");
	ctx.config_path = cmd_args_get(&g, "config");
	ctx.backend = cmd_args_get(&g, "backend");
	int demo = cmd_args_has(&g, "demo");
	argc = g.argc;
	argv = g.argv;

	if (date_today(&ctx.today, &cause) != 0) {
		fl_warnx("%s", cause);
		free(cause);
		cmd_args_free(&g);
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
	static char console_name[] = "console", demo_flag[] = "--demo", tour_name[] = "demo";
	char *tour_argv[] = {tour_name, NULL};
	int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (demo && argc > 0 && argv[0][0] != '-') {
		fl_warnx("--demo takes no command (it opens the console's demo)");
		rc = EX_USAGE;
	} else if (demo && (tty || argc > 0)) {
		/* frontline --demo --speed 5: the console's options, after its --demo */
		char **v = xcalloc((size_t)argc + 3, sizeof *v);
		v[0] = console_name;
		v[1] = demo_flag;
		memcpy(v + 2, argv, (size_t)argc * sizeof *v);
		rc = cmd_dispatch(&ctx, argc + 2, v);
		free(v);
	} else if (demo)
		rc = cmd_dispatch(&ctx, 1, tour_argv);
	else if (argc == 0 && tty) {
		char *console_argv[] = {console_name, NULL};
		rc = cmd_dispatch(&ctx, 1, console_argv);
	} else if (argc == 0) {
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
	cmd_args_free(&g);
	/* An earlier flush may have failed too, with nothing left to flush now. */
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == EX_OK)
		rc = EX_IOERR;
	return rc;
}
