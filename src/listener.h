/* listener.h -- the console's side of the customer socket: accepts customers on the event loop. */
#ifndef FL_LISTENER_H
#define FL_LISTENER_H

#include <cjson/cJSON.h>

#include "customer-proto.h"
#include "loop.h"
#include "types.h"

/*
 * The console listens on a Unix domain socket (mode 0600; its directory
 * should be 0700, as paths_console_socket makes it) and/or on TCP at
 * 127.0.0.1. Each connection is a client speaking frontline-protocol(7).
 * Everything runs on the loop and nothing blocks it: sockets are
 * non-blocking, a line is at most CP_MAX_LINE bytes (a longer one gets an
 * error and the client is closed), and a client's queued output is capped
 * at LISTENER_MAX_QUEUE bytes (a client that does not read is dropped).
 *
 * The listener decodes and validates what clients send: invalid JSON, an
 * invalid field, a say before hello or a second hello get an error reply
 * and the connection stays open; unknown types are ignored; bye closes.
 * What is left reaches the hooks.
 */
struct listener;
struct client;

#define LISTENER_MAX_QUEUE   (1024 * 1024) /* bytes of output queued for one client */
#define LISTENER_MAX_CLIENTS 1024          /* more are told so and closed */

/* A client's hello, valid during the hook only. */
struct customer_hello {
	const char *customer_id; /* never NULL: without "customer", a guest id is made */
	const char *name;        /* NULL when not given */
	enum tier tier;          /* TIER_STANDARD unless tier_given */
	int tier_given;
	int guest; /* customer_id was made up here */
};

struct listener_hooks {
	/*
	 * A client introduced itself. Return 0 to accept it (the hook
	 * usually sends "welcome"), or -1 with *cause (freed by the
	 * listener): the client gets it as an error and is closed.
	 */
	int (*hello)(void *arg, struct client *, const struct customer_hello *, char **cause);
	/* A customer message (only after an accepted hello); text is valid UTF-8. */
	void (*say)(void *arg, struct client *, const char *text);
	/*
	 * An accepted client is gone, for whatever reason: it left (bye, or
	 * closed its end), it failed, its output overflowed, client_close or
	 * listener_close. Called once per accepted client; the client must not
	 * be used after this returns. May be NULL.
	 */
	void (*gone)(void *arg, struct client *);
	void *arg;
	/*
	 * The customer rated the conversation (only after an accepted
	 * hello): score 1 to 5, comment NULL for none. May be NULL.
	 */
	void (*rate)(void *arg, struct client *, int score, const char *comment);
};

/*
 * Starts listening: on the Unix socket unix_path (NULL: none) and on
 * 127.0.0.1:tcp_port (0: none; -1: any free port, see listener_tcp_port).
 * A socket file left by a console that is gone is replaced; a live one is
 * refused ("another console is listening on PATH"), and so is a path that
 * is not a socket. Hooks are copied. Returns the listener (free with
 * listener_close), or NULL with *cause (caller frees).
 */
struct listener *listener_open(struct loop *, const char *unix_path, int tcp_port,
                               const struct listener_hooks *, char **cause);
/*
 * Closes every client (gone is called for the accepted ones; what is
 * queued is written if the socket takes it at once), stops listening,
 * removes the socket file and frees the listener. Not from inside a hook.
 */
void listener_close(struct listener *);
/* The Unix socket's path, or NULL. */
const char *listener_path(const struct listener *);
/* The TCP port listened on, or 0. */
int listener_tcp_port(const struct listener *);
/* Clients connected now (accepted or not yet introduced), closing ones excepted. */
size_t listener_clients(const struct listener *);

/*
 * Queues msg as one line (cp_encode: valid UTF-8, control characters
 * escaped). The caller keeps msg. Nothing happens on a closing client. When
 * the queue would pass LISTENER_MAX_QUEUE the client is dropped: gone is
 * called on a later turn of the loop, never from inside client_send.
 */
void client_send(struct client *, const cJSON *msg);
/* The hook's own pointer for this client (NULL until set). */
void client_set_data(struct client *, void *);
void *client_data(const struct client *);
/* The customer id of an accepted hello (owned by the client), else NULL. */
const char *client_customer(const struct client *);
/*
 * Closes the client: why, when not NULL, is sent first as an error; then
 * gone is called (before client_close returns, for an accepted client),
 * and what is queued is written before the socket is closed (for at most
 * a few seconds). Calling it again, or from inside gone, does nothing.
 */
void client_close(struct client *, const char *why);

#endif
