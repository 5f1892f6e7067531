/* fake-console.c -- a console with no desk behind it, for tests/customer.sh: src/listener.c and
 * echoes. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "loop.h"
#include "paths.h"
#include "util.h"

/*
 * usage: fake_console [--socket PATH] [--tcp PORT]
 *
 * Listens on PATH (default: paths_console_socket, as the console does)
 * and/or on 127.0.0.1:PORT (0: any free port), prints "listening PATH PORT"
 * ("-" for none) on standard output once it accepts connections, then logs
 * what happens there, one line each: "hello ID NAME TIER", "say ID TEXT",
 * "gone ID". SIGTERM or SIGINT: closes everything and exits 0. SIGUSR1:
 * every customer gets the AI message "pushed".
 *
 * A hello is answered with welcome (conversations numbered from 1) and the
 * state "ai"; the customer id "reject-me" is refused. A say is answered with
 * the AI message "echo: TEXT", except for these texts:
 *
 *   human please    the echo, then states waiting and human, then a message
 *                   from the human agent Sam
 *   evil please     an AI message full of escape sequences and controls
 *   multi please    an AI message of two lines
 *   future please   a message of a type from the future, a message with
 *                   unknown fields, then the echo
 *   resolve please  the echo, the state resolved, then the connection closes
 *   drop please     the connection closes, nothing said
 *   silent please   nothing
 */

struct fake {
	struct loop *loop;
	struct listener *l;
	long conversations;
	struct client *clients[64]; /* the greeted ones, for SIGUSR1 */
	volatile int stop;
};

static void
send_take(struct client *c, cJSON *msg)
{
	client_send(c, msg);
	cJSON_Delete(msg);
}

static int
on_hello(void *arg, struct client *c, const struct customer_hello *h, char **cause)
{
	struct fake *f = arg;
	if (strcmp(h->customer_id, "reject-me") == 0) {
		*cause = xstrdup("customer reject-me is not welcome here");
		return -1;
	}
	size_t i = 0;
	while (i < nitems(f->clients) && f->clients[i] != NULL)
		i++;
	if (i == nitems(f->clients)) {
		*cause = xstrdup("the fake console is full");
		return -1;
	}
	f->clients[i] = c;
	printf("hello %s %s %s\n", h->customer_id, h->name ? h->name : "-",
	       h->tier_given ? tier_names[h->tier] : "-");
	fflush(stdout);
	send_take(c, cp_new_welcome(++f->conversations, h->customer_id));
	send_take(c, cp_new_state(CP_STATE_AI));
	return 0;
}

static void
on_say(void *arg, struct client *c, const char *text)
{
	printf("say %s %s\n", client_customer(c), text);
	fflush(stdout);
	char *echo = xasprintf("echo: %s", text);
	if (strcmp(text, "human please") == 0) {
		send_take(c, cp_new_message(CP_ROLE_AI, NULL, echo, NULL));
		send_take(c, cp_new_state(CP_STATE_WAITING));
		send_take(c, cp_new_state(CP_STATE_HUMAN));
		send_take(c, cp_new_message(CP_ROLE_HUMAN, "Sam",
		                            "Hi, this is Sam. I can take it from here.",
		                            "2026-11-24T10:00:00Z"));
	} else if (strcmp(text, "evil please") == 0) {
		send_take(c, cp_new_message(CP_ROLE_AI, NULL,
		                            "\x1b[2J\x1b]0;pwned\x07 red\x1b[31m csi\xc2\x9b"
		                            "31m del\x7f bidi\xe2\x80\xae end",
		                            NULL));
	} else if (strcmp(text, "multi please") == 0) {
		send_take(c, cp_new_message(CP_ROLE_AI, NULL, "first line\nsecond line", NULL));
	} else if (strcmp(text, "future please") == 0) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "type", "hologram");
		cJSON_AddStringToObject(m, "text", "from the future");
		send_take(c, m);
		m = cp_new_message(CP_ROLE_AI, NULL, "with extras", NULL);
		cJSON_AddNumberToObject(m, "confidence", 0.5);
		cJSON_AddItemToObject(m, "sources", cJSON_CreateArray());
		send_take(c, m);
		send_take(c, cp_new_message(CP_ROLE_AI, NULL, echo, NULL));
	} else if (strcmp(text, "resolve please") == 0) {
		send_take(c, cp_new_message(CP_ROLE_AI, NULL, echo, NULL));
		send_take(c, cp_new_state(CP_STATE_RESOLVED));
		client_close(c, NULL);
	} else if (strcmp(text, "drop please") == 0) {
		client_close(c, NULL);
	} else if (strcmp(text, "silent please") != 0) {
		send_take(c, cp_new_message(CP_ROLE_AI, NULL, echo, NULL));
	}
	free(echo);
}

static void
on_rate(void *arg, struct client *c, int score, const char *comment)
{
	printf("rate %s %d %s\n", client_customer(c), score, comment ? comment : "-");
	fflush(stdout);
}

static void
on_gone(void *arg, struct client *c)
{
	struct fake *f = arg;
	for (size_t i = 0; i < nitems(f->clients); i++)
		if (f->clients[i] == c)
			f->clients[i] = NULL;
	printf("gone %s\n", client_customer(c));
	fflush(stdout);
}

static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct fake *f = arg;
	if (signo != SIGUSR1) {
		f->stop = 1;
		return;
	}
	for (size_t k = 0; k < nitems(f->clients); k++)
		if (f->clients[k] != NULL)
			send_take(f->clients[k], cp_new_message(CP_ROLE_AI, NULL, "pushed", NULL));
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	int port = 0, tcp = 0;
	char *dflt = NULL, *cause = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
			port = atoi(argv[++i]);
			tcp = 1;
		} else {
			fprintf(stderr, "usage: fake_console [--socket PATH] [--tcp PORT]\n");
			return 64;
		}
	}
	if (path == NULL && !tcp && (path = dflt = paths_console_socket(1)) == NULL) {
		fprintf(stderr, "fake_console: no socket directory\n");
		return 69;
	}
	struct fake f = {.loop = loop_new()};
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
	for (size_t i = 0; i < nitems(sigs); i++)
		if (loop_signal(f.loop, sigs[i], on_signal, &f) != 0)
			return 71;

	struct listener_hooks hooks = {
	    .hello = on_hello, .say = on_say, .gone = on_gone, .arg = &f, .rate = on_rate};
	f.l = listener_open(f.loop, path, tcp ? (port == 0 ? -1 : port) : 0, &hooks, &cause);
	if (f.l == NULL) {
		fprintf(stderr, "fake_console: %s\n", cause);
		return 69;
	}
	printf("listening %s %d\n", path ? path : "-", listener_tcp_port(f.l));
	fflush(stdout);
	loop_run(f.loop, &f.stop);
	listener_close(f.l);
	loop_free(f.loop);
	free(dflt);
	return 0;
}
