/* loopback-http.h -- a small HTTP/1.1 server on 127.0.0.1 for the HTTP tests and bench. */
#ifndef FL_LOOPBACK_HTTP_H
#define FL_LOOPBACK_HTTP_H

/*
 * One thread, poll(2), keep-alive. What it answers depends on the path:
 *
 *   /ok          200 "hello" (text/plain)
 *   /echo        200 with the raw request (head and body) as the body
 *   /429s        429, Retry-After: 2
 *   /429ms       429, retry-after-ms: 150
 *   /429both     429, Retry-After: 7 and retry-after-ms: 150
 *   /429date     429, Retry-After: an HTTP-date 60 s from now
 *   /500         500 "oops"
 *   /hang        reads the request and never answers
 *   /trickle     Content-Length: 100, then one byte every 50 ms
 *   /trunc       Content-Length: 100, 10 bytes, then closes
 *   /chunkcut    chunked: one chunk, then closes without the last chunk
 *   /big         100000 bytes with a Content-Length
 *   /bigchunked  100000 bytes, chunked
 *   /stream      chunked: "alpha ", "beta ", "gamma ", "delta", 30 ms apart
 *   /slow        200 "slow" after the server's hold time (see lb_set_gate)
 *   /slowjson    the same with {"found":true,"slow":true} as the body
 *   anything else 404
 */
struct lb;

struct lb_stats {
	long accepted; /* connections accepted */
	long requests; /* requests read in full */
	long max_open; /* most requests read but not yet fully answered at one time */
};

/* Binds 127.0.0.1 on a free port and listens; NULL on failure (errno set). */
struct lb *lb_new(int hold_ms);
int lb_port(const struct lb *);
/*
 * Makes /slow hold every request until n are open at once (or 5 s have
 * passed since the first), then answer each hold_ms later. Call before
 * serving.
 */
void lb_set_gate(struct lb *, int n);
/* Serves until lb_free (from another thread) or until the process ends. */
void lb_serve(struct lb *);
/* Serves in a new thread; returns 0 or -1. */
int lb_start(struct lb *);
void lb_get_stats(struct lb *, struct lb_stats *);
/* Stops and joins the thread started by lb_start, closes every socket, frees. */
void lb_free(struct lb *);

#endif
