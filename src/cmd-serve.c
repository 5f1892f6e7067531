/* cmd-serve.c -- frontline serve: the HTTP+JSON API for chat front ends. */
#include "config.h"

#include <errno.h>
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
 * (blank lines and # comments skipped), each long enough. Returns EX_OK,
 * or EX_CONFIG having said why. Nothing here prints a token.
 */
static int
load_tokens(const char *file, struct strv *tokens)
{
	const char *env = getenv("FRONTLINE_SERVE_TOKEN");
	int from_env = env != NULL && *env != '\0';
	if (from_env)
		strv_add(tokens, env);
	char *cause = NULL, *text = NULL;
	if (file != NULL && (text = file_read(file, 1024 * 1024, NULL, &cause)) == NULL) {
		fl_warnx("cannot read the token file %s: %s", file, cause);
		free(cause);
		return EX_CONFIG;
	}
	struct stat sb;
	if (file != NULL && stat(file, &sb) == 0 && (sb.st_mode & 077) != 0)
		fl_warnx("warning: the token file %s can be read by others (chmod 600 it)", file);
	size_t before = tokens->n;
	for (char *line = text ? strtok(text, "\n") : NULL; line != NULL;
	     line = strtok(NULL, "\n")) {
		str_trim(line);
		if (*line != '\0' && *line != '#')
			strv_add(tokens, line);
	}
	if (text != NULL)
		explicit_bzero(text, strlen(text));
	free(text);
	if (file != NULL && tokens->n == before) {
		fl_warnx("the token file %s has no token", file);
		return EX_CONFIG;
	}
	if (tokens->n == 0) {
		fl_warnx("serve needs a bearer token: set FRONTLINE_SERVE_TOKEN or use "
		         "--token-file FILE");
		return EX_CONFIG;
	}
	for (size_t i = 0; i < tokens->n; i++)
		if (strlen(tokens->v[i]) < SERVE_TOKEN_MIN) {
			fl_warnx("a bearer token must be at least %d characters (%s)",
			         SERVE_TOKEN_MIN,
			         i == 0 && from_env ? "FRONTLINE_SERVE_TOKEN" : "the token file");
			return EX_CONFIG;
		}
	return EX_OK;
}

/* Forgets the tokens: serve keeps its own copies. */
static void
wipe_tokens(struct strv *tokens)
{
	for (size_t i = 0; i < tokens->n; i++)
		explicit_bzero(tokens->v[i], strlen(tokens->v[i]));
	strv_free(tokens);
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

/* An option in seconds, as milliseconds; dflt when it was not given. */
static long
option_ms(const struct cmd_args *a, const char *name, long dflt)
{
	return cmd_args_has(a, name) ? (long)(cmd_args_number(a, name, 0) * 1000) : dflt;
}

/* The options over the defaults. */
static void
serve_options(const struct cmd_args *a, struct serve_config *c)
{
	if (cmd_args_has(a, "listen"))
		c->listen = cmd_args_get(a, "listen");
	c->max_body = (size_t)cmd_args_number(a, "max-body", (double)c->max_body);
	c->rate = cmd_args_number(a, "rate", c->rate);
	c->burst = cmd_args_number(a, "burst", c->burst);
	c->heartbeat_ms = option_ms(a, "heartbeat", c->heartbeat_ms);
	c->poll_ms = (long)cmd_args_number(a, "poll-ms", (double)c->poll_ms);
	c->max_connections = (unsigned)cmd_args_number(a, "max-connections", c->max_connections);
	c->max_per_address = (unsigned)cmd_args_number(a, "max-per-address", c->max_per_address);
	c->header_timeout_ms = option_ms(a, "header-timeout", c->header_timeout_ms);
	c->body_timeout_ms = option_ms(a, "body-timeout", c->body_timeout_ms);
	if (cmd_args_has(a, "verbose"))
		c->log = stderr;
}

/* Writes the port to path, whole or not at all; 0 or -1 (errno). */
static int
write_port(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc =
	    f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0
	        ? -1
	        : 0;
	free(tmp);
	return rc;
}

static int
cmd_serve(struct ctx *ctx, const struct cmd_args *a)
{
	struct serve_config cfg;
	struct strv tokens = {0};
	struct store *st = NULL;
	struct loop *loop = NULL;
	struct serve *sv = NULL;
	struct run run = {0};
	const char *port_file = cmd_args_get(a, "port-file");
	char *cause = NULL;
	serve_config_defaults(&cfg);
	serve_options(a, &cfg);
	int ex = load_tokens(cmd_args_get(a, "token-file"), &tokens);
	if (ex != EX_OK || (st = ctx_store(ctx, &ex)) == NULL)
		goto out;
	cfg.tokens = &tokens;
	loop = loop_new();
	run.sv = sv = serve_new(loop, st, &cfg, &cause);
	wipe_tokens(&tokens);
	if (sv == NULL) {
		fl_warnx("%s", cause);
		ex = EX_UNAVAILABLE;
		goto out;
	}
	if (loop_signal(loop, SIGINT, on_signal, &run) != 0 ||
	    loop_signal(loop, SIGTERM, on_signal, &run) != 0) {
		fl_warnx("signals: %s", strerror(errno));
		ex = EX_OSERR;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (port_file != NULL && write_port(port_file, serve_port(sv)) != 0) {
		fl_warnx("cannot write %s: %s", port_file, strerror(errno));
		run.done = 1;
		ex = EX_CANTCREAT;
	}
	fprintf(stderr, "frontline serve: listening on port %d (%s)\n", serve_port(sv), cfg.listen);
	fflush(stderr);

	loop_run(loop, &run.done);
out:
	serve_free(sv);
	loop_free(loop); /* and with it, the signals */
	store_close(st);
	wipe_tokens(&tokens);
	free(cause);
	return ex;
}

static const struct cmd_option options[] = {
    {.name = "listen",
     .value = CMD_TEXT,
     .arg = "HOST:PORT",
     .help = "where to listen (default 127.0.0.1:8080; [::1]:PORT for IPv6; port 0 picks a "
             "free one)"},
    {.name = "token-file",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "accepted bearer tokens, one per line (also $FRONTLINE_SERVE_TOKEN); at least 16 "
             "characters each"},
    {.name = "port-file",
     .value = CMD_FILE,
     .arg = "FILE",
     .help = "write the port here once listening"},
    {.name = "rate",
     .value = CMD_NUMBER,
     .arg = "N",
     .min = 0.01,
     .max = 1e6,
     .help = "requests a second per client address (default 20)"},
    {.name = "burst",
     .value = CMD_NUMBER,
     .arg = "N",
     .min = 1,
     .max = 1e6,
     .help = "requests at once per client address (default 40)"},
    {.name = "max-body",
     .value = CMD_INT,
     .arg = "BYTES",
     .min = 64,
     .max = 16 * 1024 * 1024,
     .help = "largest request body (default 65536)"},
    {.name = "heartbeat",
     .value = CMD_NUMBER,
     .arg = "SECONDS",
     .min = 0.05,
     .max = 3600,
     .help = "a keep-alive comment on event streams (default 15)"},
    {.name = "poll-ms",
     .value = CMD_NUMBER,
     .arg = "MS",
     .min = 10,
     .max = 60000,
     .help = "SQLite store: how often streams look for replies (default 250; PostgreSQL is "
             "notified instead)"},
    {.name = "max-connections",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = 100000,
     .help = "open connections at once (default 1000)"},
    {.name = "max-per-address",
     .value = CMD_INT,
     .arg = "N",
     .min = 1,
     .max = 100000,
     .help = "of those, from one client address (default 250)"},
    {.name = "header-timeout",
     .value = CMD_NUMBER,
     .arg = "SECONDS",
     .min = 0.05,
     .max = 3600,
     .help = "a request's line and headers must arrive within this (default 10), however "
             "slowly they trickle; also how long an idle keep-alive connection is kept"},
    {.name = "body-timeout",
     .value = CMD_NUMBER,
     .arg = "SECONDS",
     .min = 0.05,
     .max = 3600,
     .help = "the same for a request's body (default 30)"},
    {.name = "verbose", .key = 'v', .help = "a line per request on stderr (never the token)"},
    {0},
};

const struct cmd_entry cmd_serve_entry = {
    .name = "serve",
    .summary = "the HTTP+JSON API for chat front ends (frontline-http(7))",
    .options = options,
    .exec = cmd_serve,
    .help = "serve stores customer messages; frontline worker (or a console) answers\n"
            "them. SIGINT/SIGTERM end the event streams and stop.\n",
};
