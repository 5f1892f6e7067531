/* http.h -- asynchronous HTTP over libcurl's multi interface, driven by the event loop. */
#ifndef FL_HTTP_H
#define FL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/*
 * A client owns one curl multi handle wired to the loop with
 * CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION (no blocking call, no
 * curl_multi_perform busy loop, no threads). Connections are reused; HTTP/2
 * is used where the server offers it (CURL_HTTP_VERSION_2TLS, multiplexing
 * on). Hundreds of requests may be in flight at once.
 */
struct http_client;

struct http_client *http_client_new(struct loop *, char **cause);
/* Cancels what is in flight (their callbacks run with HTTP_ECANCELLED) and frees. */
void http_client_free(struct http_client *);

struct http_request {
	const char *method;          /* "GET" or "POST" (default GET; POST when body != NULL) */
	const char *url;             /* http:// or https:// only */
	const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
	const char *body;            /* copied; may be NULL */
	size_t body_len;
	long connect_timeout_ms;     /* 0: 5000 */
	long first_byte_timeout_ms;  /* from the start until the first response byte; 0: none */
	long total_timeout_ms;       /* 0: 60000 */
	size_t max_body;             /* 0: 8 MiB; more is HTTP_ETOOBIG (streaming: not handed on) */
	/*
	 * Streaming: each piece of the body as it arrives; the result keeps the
	 * latest of it (all of a body under 64 KiB). May be NULL.
	 */
	/* (arg is http_start's; it runs from the loop, never inside curl: it may start, cancel
	 * (its own request too) or free the client.) */
	void (*on_chunk)(const char *data, size_t len, void *arg);
};

enum http_error {
	HTTP_OK = 0,             /* a complete response arrived, whatever its status */
	HTTP_ECONNECT,           /* refused, unreachable, DNS failure */
	HTTP_ETIMEOUT_CONNECT,
	HTTP_ETIMEOUT_FIRST_BYTE,
	HTTP_ETIMEOUT_TOTAL,
	HTTP_ETRUNCATED,         /* connection closed before the body was complete */
	HTTP_ETOOBIG,
	HTTP_ECANCELLED,
	HTTP_EOTHER,
};
const char *http_error_name(enum http_error);

/* What a request ended with; valid only during the callback. */
struct http_result {
	enum http_error error;
	const char *message;     /* readable cause for errors (never headers, so never keys); "ok" */
	long status;             /* HTTP status, 0 when none arrived */
	const char *body;        /* NUL-terminated; "" when none */
	size_t len;
	const char *content_type; /* or NULL */
	long retry_after_ms;     /* Retry-After (seconds or HTTP-date) or retry-after-ms; -1 if absent */
	double elapsed_ms;
};

typedef void (*http_done_fn)(const struct http_result *, void *arg);

/*
 * Starts a request; done is called exactly once, from the loop (never from
 * inside http_start). Returns an id (never 0), or 0 with *cause (caller frees).
 */
uint64_t http_start(struct http_client *, const struct http_request *, http_done_fn done,
                    void *arg, char **cause);
/* Cancels a request in flight: its callback runs with HTTP_ECANCELLED; unknown ids are ignored. */
void http_cancel(struct http_client *, uint64_t id);
/* Requests in flight. */
size_t http_pending(const struct http_client *);

#endif
