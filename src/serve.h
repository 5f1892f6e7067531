/* serve.h -- frontline serve: the HTTP+JSON API for chat front ends, on the event loop. */
#ifndef FL_SERVE_H
#define FL_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "loop.h"
#include "store.h"
#include "util.h"

/*
 * The API is frontline-http(7). libmicrohttpd runs inside the process's one
 * loop (external epoll mode: its epoll fd is watched, MHD_run runs on
 * readiness and on the timer MHD_get_timeout asks for; no MHD threads).
 * serve only stores what customers send -- conversations, messages,
 * ratings -- each acknowledged after its transaction commits; replies are
 * written by workers (or a console) and reach the customer as Server-Sent
 * Events. serve learns of them from the store's notifications
 * (PostgreSQL LISTEN frontline_conv) or, where the store has none
 * (SQLite), by reading subscribed conversations every poll_ms.
 */

#define SERVE_TOKEN_MIN 16 /* characters of a bearer token, at least */

struct serve_config {
	const char *listen;        /* "HOST:PORT" or "[V6]:PORT"; port 0 picks one */
	const struct strv *tokens; /* accepted bearer tokens (at least one; copied as hashes) */
	size_t max_body;           /* request body bytes, at most (413 beyond) */
	double rate;               /* requests per second per client address */
	double burst;              /* the bucket's size: requests at once */
	long heartbeat_ms;         /* an SSE comment this often keeps streams (and proxies) alive */
	long poll_ms;             /* without store notifications: how often streams are refreshed */
	unsigned max_connections; /* open connections at once, SSE streams included */
	unsigned max_per_address; /* of those, from one client address (more are refused) */
	unsigned connection_timeout; /* idle seconds (MHD's: every byte resets it) */
	long header_timeout_ms;      /* a request's line and headers in all, from the last answer */
	long body_timeout_ms;        /* a request's body in all, from the end of its headers */
	long report_ms; /* cut-off connections: a line per address this often at most */
	FILE *log;      /* a line per request (no headers, never the token); NULL: none */
};

/*
 * Defaults: 127.0.0.1:8080, 64 KiB, 20/s with bursts of 40, 15 s, 250 ms,
 * 1000 connections and 250 per address, 60 s idle, 10 s for headers, 30 s
 * for a body, a report a minute.
 */
void serve_config_defaults(struct serve_config *);

struct serve;

/*
 * Starts the server on loop over st (both borrowed; they must outlive it).
 * Returns NULL with *cause (caller frees): the address cannot be parsed or
 * bound, no token, the store cannot be listened to.
 */
struct serve *serve_new(struct loop *, struct store *, const struct serve_config *, char **cause);
/* The port it listens on (the one picked for port 0). */
int serve_port(const struct serve *);
/* Open event streams. */
size_t serve_streams(const struct serve *);
/*
 * Stops accepting connections and ends every event stream after what it
 * already has; requests in progress are answered. Run the loop until
 * serve_streams() is 0 (or a deadline), then serve_free.
 */
void serve_shutdown(struct serve *);
/* Stops the server: connections still open are closed. NULL is ignored. */
void serve_free(struct serve *);

/* ------------------------------------------------ parts, exposed for the tests */

/*
 * What serve keeps per client address: a token bucket (rate tokens a
 * second up to burst), its open connections and the ones cut off since
 * the last report. clients_take takes a token at now_ms: returns 0, or
 * the milliseconds until one is there (the Retry-After). Entries with a
 * full bucket, no connection and nothing to report are dropped by
 * clients_sweep.
 */
struct clients;
struct clients *clients_new(double rate, double burst);
void clients_free(struct clients *);
long clients_take(struct clients *, const char *addr, int64_t now_ms);
void clients_sweep(struct clients *, int64_t now_ms);
size_t clients_count(const struct clients *);

/*
 * Hands serve a connected socket as though accepted from 127.0.0.1 (the
 * fuzzer talks to it over a socketpair). serve owns fd from then on, also
 * when this fails. Returns 0 or -1.
 */
int serve_add_connection(struct serve *, int fd);

/* Constant-time comparison of two equal-length byte strings: 1 when equal. */
int serve_ct_equal(const void *a, const void *b, size_t n);

/* A conversation id in a path: 1 to 2^63-1, decimal digits only, no leading zero. */
int serve_parse_id(const char *s, size_t n, int64_t *out);

#endif
