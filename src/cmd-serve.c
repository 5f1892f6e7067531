/* cmd-serve.c -- frontline serve: the HTTP+JSON API for chat front ends. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cmd.h"
#include "loop.h"
#include "serve.h"
#include "store.h"

#define DRAIN_MS 5000 /* how long streams get to end after SIGTERM */

/*
 * The tokens: FRONTLINE_SERVE_TOKEN and every line of the token file
 * (blank lines and # comments skipped). Returns 0, or -1 having said why.
 * Nothing here prints a token.
 */
static int
load_tokens(const char *file, struct strv *tokens)
{
	const char *env = getenv("FRONTLINE_SERVE_TOKEN");
	if (env != NULL && *env != '\0')
		strv_add(tokens, env);
	if (file == NULL)
		return 0;
	char *cause = NULL;
	char *text = file_read(file, 1024 * 1024, NULL, &cause);
	if (text == NULL) {
		fl_warnx("cannot read the token file %s: %s", file, cause);
		free(cause);
		return -1;
	}
	struct stat sb;
	if (stat(file, &sb) == 0 && (sb.st_mode & 077) != 0)
		fl_warnx("warning: the token file %s can be read by others (chmod 600 it)", file);
	int n = 0;
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		str_trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		strv_add(tokens, line);
		n++;
	}
	explicit_bzero(text, strlen(text));
	free(text);
	if (n == 0) {
		fl_warnx("the token file %s has no token", file);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ signals */

struct run {
	struct serve *sv;
	volatile int done;
	int stopping;
	int64_t deadline;
	int sig;
};

static void
on_drain(struct loop *loop, void *arg)
{
	struct run *r = arg;
	if (serve_streams(r->sv) == 0 || loop_now(loop) >= r->deadline)
		r->done = 1;
	else
		loop_timer_add(loop, 50, on_drain, r);
}

static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct run *r = arg;
	if (r->stopping) { /* a second one: now */
		r->done = 1;
		return;
	}
	r->stopping = 1;
	r->sig = signo;
	serve_shutdown(r->sv);
	r->deadline = loop_now(loop) + DRAIN_MS;
	loop_timer_add(loop, 0, on_drain, r);
}

/* ------------------------------------------------------------ the command */

static int
parse_num(const char *opt, const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	if (end == arg || *end != '\0' || !(v >= lo && v <= hi)) {
		fl_warnx("%s must be a number from %g to %g, not '%s'", opt, lo, hi, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int
cmd_serve(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"token-file", required_argument, NULL, 't'},
	    {"port-file", required_argument, NULL, 'P'},
	    {"max-body", required_argument, NULL, 'b'},
	    {"rate", required_argument, NULL, 'r'},
	    {"burst", required_argument, NULL, 'B'},
	    {"heartbeat", required_argument, NULL, 'H'},
	    {"poll-ms", required_argument, NULL, 'p'},
	    {"max-connections", required_argument, NULL, 'c'},
	    {"max-per-address", required_argument, NULL, 'A'},
	    {"header-timeout", required_argument, NULL, 'T'},
	    {"body-timeout", required_argument, NULL, 'D'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct serve_config cfg;
	serve_config_defaults(&cfg);
	const char *token_file = NULL, *port_file = NULL;
	double v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:t:P:b:r:B:H:p:c:A:T:D:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			cfg.listen = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'P':
			port_file = optarg;
			break;
		case 'b':
			if (parse_num("--max-body", optarg, 64, 16 * 1024 * 1024, &v) != 0)
				return EX_USAGE;
			cfg.max_body = (size_t)v;
			break;
		case 'r':
			if (parse_num("--rate", optarg, 0.01, 1e6, &v) != 0)
				return EX_USAGE;
			cfg.rate = v;
			break;
		case 'B':
			if (parse_num("--burst", optarg, 1, 1e6, &v) != 0)
				return EX_USAGE;
			cfg.burst = v;
			break;
		case 'H':
			if (parse_num("--heartbeat", optarg, 0.05, 3600, &v) != 0)
				return EX_USAGE;
			cfg.heartbeat_ms = (long)(v * 1000);
			break;
		case 'p':
			if (parse_num("--poll-ms", optarg, 10, 60000, &v) != 0)
				return EX_USAGE;
			cfg.poll_ms = (long)v;
			break;
		case 'c':
			if (parse_num("--max-connections", optarg, 1, 100000, &v) != 0)
				return EX_USAGE;
			cfg.max_connections = (unsigned)v;
			break;
		case 'A':
			if (parse_num("--max-per-address", optarg, 1, 100000, &v) != 0)
				return EX_USAGE;
			cfg.max_per_address = (unsigned)v;
			break;
		case 'T':
			if (parse_num("--header-timeout", optarg, 0.05, 3600, &v) != 0)
				return EX_USAGE;
			cfg.header_timeout_ms = (long)(v * 1000);
			break;
		case 'D':
			if (parse_num("--body-timeout", optarg, 0.05, 3600, &v) != 0)
				return EX_USAGE;
			cfg.body_timeout_ms = (long)(v * 1000);
			break;
		case 'v':
			cfg.log = stderr;
			break;
		case 'h':
			cmd_help(&cmd_serve_entry, stdout);
			return EX_OK;
		default:
			cmd_help(&cmd_serve_entry, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cmd_help(&cmd_serve_entry, stderr);
		return EX_USAGE;
	}

	struct strv tokens = {0};
	if (load_tokens(token_file, &tokens) != 0) {
		strv_free(&tokens);
		return EX_CONFIG;
	}
	if (tokens.n == 0) {
		fl_warnx("serve needs a bearer token: set FRONTLINE_SERVE_TOKEN or use "
		         "--token-file FILE");
		return EX_CONFIG;
	}
	for (size_t i = 0; i < tokens.n; i++)
		if (strlen(tokens.v[i]) < SERVE_TOKEN_MIN) {
			fl_warnx("a bearer token must be at least %d characters (%s)",
			         SERVE_TOKEN_MIN,
			         i == 0 && getenv("FRONTLINE_SERVE_TOKEN") &&
			                 *getenv("FRONTLINE_SERVE_TOKEN")
			             ? "FRONTLINE_SERVE_TOKEN"
			             : "the token file");
			strv_free(&tokens);
			return EX_CONFIG;
		}
	cfg.tokens = &tokens;

	int ex = EX_OK;
	struct store *st = ctx_store(ctx, &ex);
	if (st == NULL) {
		strv_free(&tokens);
		return ex;
	}
	struct loop *loop = loop_new();
	char *cause = NULL;
	struct serve *sv = serve_new(loop, st, &cfg, &cause);
	for (size_t i = 0; i < tokens.n; i++)
		explicit_bzero(tokens.v[i], strlen(tokens.v[i]));
	strv_free(&tokens);
	if (sv == NULL) {
		fl_warnx("%s", cause);
		free(cause);
		loop_free(loop);
		store_close(st);
		return EX_UNAVAILABLE;
	}

	struct run run = {.sv = sv};
	if (loop_signal(loop, SIGINT, on_signal, &run) != 0 ||
	    loop_signal(loop, SIGTERM, on_signal, &run) != 0) {
		fl_warnx("signals: %s", strerror(errno));
		serve_free(sv);
		loop_free(loop);
		store_close(st);
		return EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);

	if (port_file != NULL) {
		char *tmp = xasprintf("%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (f == NULL || fprintf(f, "%d\n", serve_port(sv)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			fl_warnx("cannot write %s: %s", port_file, strerror(errno));
			run.done = 1;
			ex = EX_CANTCREAT;
		}
		free(tmp);
	}
	fprintf(stderr, "frontline serve: listening on port %d (%s)\n", serve_port(sv), cfg.listen);
	fflush(stderr);

	loop_run(loop, &run.done);

	serve_free(sv);
	loop_free(loop); /* and with it, the signals */
	store_close(st);
	return ex;
}

const struct cmd_entry cmd_serve_entry = {
    .name = "serve",
    .args = "[--listen HOST:PORT] [--token-file FILE] [--port-file FILE] [--rate N] "
            "[--burst N] [--max-body BYTES] [--heartbeat SECONDS] [--poll-ms MS] "
            "[--max-connections N] [--max-per-address N] [--header-timeout SECONDS] "
            "[--body-timeout SECONDS] [--verbose]",
    .summary = "the HTTP+JSON API for chat front ends (frontline-http(7))",
    .exec = cmd_serve,
    .help = "  --listen HOST:PORT     where to listen (default 127.0.0.1:8080; [::1]:PORT\n"
            "                         for IPv6; port 0 picks a free one)\n"
            "  --token-file FILE      accepted bearer tokens, one per line (also\n"
            "                         $FRONTLINE_SERVE_TOKEN); at least 16 characters each\n"
            "  --port-file FILE       write the port here once listening\n"
            "  --rate N               requests a second per client address (default 20)\n"
            "  --burst N              requests at once per client address (default 40)\n"
            "  --max-body BYTES       largest request body (default 65536)\n"
            "  --heartbeat SECONDS    a keep-alive comment on event streams (default 15)\n"
            "  --poll-ms MS           SQLite store: how often streams look for replies\n"
            "                         (default 250; PostgreSQL is notified instead)\n"
            "  --max-connections N    open connections at once (default 1000)\n"
            "  --max-per-address N    of those, from one client address (default 250)\n"
            "  --header-timeout SECONDS\n"
            "                         a request's line and headers must arrive within this\n"
            "                         (default 10), however slowly they trickle; also how\n"
            "                         long an idle keep-alive connection is kept\n"
            "  --body-timeout SECONDS the same for a request's body (default 30)\n"
            "  --verbose              a line per request on stderr (never the token)\n"
            "serve stores customer messages; frontline worker (or a console) answers\n"
            "them. SIGINT/SIGTERM end the event streams and stop.\n",
};
