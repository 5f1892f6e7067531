/* http.c -- asynchronous HTTP over libcurl's multi interface, driven by the event loop. */
#include "config.h"

#include <curl/curl.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "util.h"

/*
 * How it fits together. curl tells us which sockets to watch for what
 * (on_socket) and when it next wants to be called (on_curl_timer); the loop
 * calls back into curl_multi_socket_action when a socket is ready or that
 * timer fires, and after every such call we collect what finished with
 * curl_multi_info_read.
 *
 * No code of the caller ever runs inside one of curl's callbacks: curl
 * forbids most multi calls there, and a caller reacting to a chunk by
 * cancelling or starting requests is normal. Body bytes are appended to
 * the request's buffer by the write callback, which queues the request as
 * "dirty"; on_chunk runs for the dirty requests once curl has returned.
 *
 * A request ends in exactly one place, xfer_end(), which calls done and
 * frees it. Cancellation is deferred to a 0 ms loop timer so that done
 * never runs inside http_cancel (or http_start). http_client_free may be
 * called from any callback: it ends every request at once, and when the
 * client is in the middle of a dispatch the final teardown waits until
 * that dispatch unwinds (depth counts the dispatches on the stack).
 */

#define DEFAULT_CONNECT_MS 5000L
#define DEFAULT_TOTAL_MS   60000L
#define DEFAULT_MAX_BODY   ((size_t)8 << 20)
/* A streamed body (on_chunk) keeps no more than this of what was handed on. */
#define STREAM_KEEP ((size_t)64 << 10)

enum queue { Q_NONE, Q_DIRTY, Q_CANCELLED, Q__N };

struct xfer {
	struct http_client *c;
	uint64_t id;
	CURL *easy;
	struct curl_slist *hdrs;
	int in_multi;

	struct buf body;
	size_t delivered; /* bytes of body already handed to on_chunk */
	size_t max_body;
	void (*on_chunk)(const char *, size_t, void *);
	http_done_fn done;
	void *arg;

	long connect_ms, total_ms, first_byte_ms;
	uint64_t fb_timer; /* first-byte timer, 0 when none */
	int got_byte;
	int too_big;
	long retry_after_s_ms; /* from Retry-After, -1 when absent */
	long retry_after_ms;   /* from retry-after-ms, -1 when absent */
	double started;
	char errbuf[CURL_ERROR_SIZE];

	struct xfer *prev, *next; /* every request of the client */
	enum queue q;
	struct xfer *qprev, *qnext;
};

/* A socket curl asked us to watch; remembered so teardown can unwatch it. */
struct sock {
	curl_socket_t fd;
	struct sock *prev, *next;
};

struct http_client {
	struct loop *loop;
	CURLM *multi;
	uint64_t curl_timer;    /* curl's timeout, 0 when none */
	uint64_t deliver_timer; /* delivers cancellations, 0 when none */
	struct xfer *xfers;
	size_t n;
	struct xfer *qhead[Q__N], *qtail[Q__N];
	struct sock *socks;
	uint64_t next_id;
	int depth;      /* dispatches of this client on the stack */
	int closing;    /* http_client_free was called */
	int destroying; /* the multi handle is being cleaned up */
};

static const char *const error_names[] = {
    [HTTP_OK] = "ok",
    [HTTP_ECONNECT] = "connect",
    [HTTP_ETIMEOUT_CONNECT] = "timeout-connect",
    [HTTP_ETIMEOUT_FIRST_BYTE] = "timeout-first-byte",
    [HTTP_ETIMEOUT_TOTAL] = "timeout-total",
    [HTTP_ETRUNCATED] = "truncated",
    [HTTP_ETOOBIG] = "too-big",
    [HTTP_ECANCELLED] = "cancelled",
    [HTTP_EOTHER] = "other",
};

const char *
http_error_name(enum http_error e)
{
	if ((size_t)e < nitems(error_names) && error_names[e] != NULL)
		return error_names[e];
	return "unknown";
}

static double
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------- queues */

static void
queue_add(struct http_client *c, struct xfer *x, enum queue q)
{
	x->q = q;
	x->qnext = NULL;
	x->qprev = c->qtail[q];
	if (c->qtail[q] != NULL)
		c->qtail[q]->qnext = x;
	else
		c->qhead[q] = x;
	c->qtail[q] = x;
}

static void
queue_del(struct http_client *c, struct xfer *x)
{
	enum queue q = x->q;
	if (q == Q_NONE)
		return;
	if (x->qprev != NULL)
		x->qprev->qnext = x->qnext;
	else
		c->qhead[q] = x->qnext;
	if (x->qnext != NULL)
		x->qnext->qprev = x->qprev;
	else
		c->qtail[q] = x->qprev;
	x->qprev = x->qnext = NULL;
	x->q = Q_NONE;
}

/* -------------------------------------------------------- ending a request */

static void
xfer_detach(struct xfer *x)
{
	struct http_client *c = x->c;
	if (x->in_multi) {
		curl_multi_remove_handle(c->multi, x->easy);
		x->in_multi = 0;
	}
	if (x->fb_timer != 0) {
		loop_timer_del(c->loop, x->fb_timer);
		x->fb_timer = 0;
	}
	queue_del(c, x);
}

/*
 * Ends a request: takes it off the transfer, calls done once with error
 * (and message, for errors) and frees it. Called only from the loop.
 */
static void
xfer_end(struct xfer *x, enum http_error error, const char *message)
{
	struct http_client *c = x->c;
	xfer_detach(x);
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		c->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	c->n--;

	struct http_result r = {
	    .error = error,
	    .message = message != NULL ? message : http_error_name(error),
	    .body = x->body.data,
	    .len = x->body.len,
	    .retry_after_ms = x->retry_after_ms >= 0 ? x->retry_after_ms : x->retry_after_s_ms,
	    .elapsed_ms = mono_ms() - x->started,
	};
	if (x->got_byte) {
		char *ct = NULL;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
		if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
			r.content_type = ct;
	}
	x->done(&r, x->arg);

	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	buf_free(&x->body);
	free(x);
}

/* Hands what arrived since the last call to on_chunk. */
static void
xfer_flush(struct xfer *x)
{
	queue_del(x->c, x);
	if (x->on_chunk == NULL || x->delivered >= x->body.len)
		return;
	/*
	 * A stream that runs for hours is not kept whole: max_body bounds what
	 * is not handed on yet, and done sees the latest of the body.
	 */
	if (x->delivered > STREAM_KEEP) {
		x->body.len -= x->delivered;
		memmove(x->body.data, x->body.data + x->delivered, x->body.len);
		x->body.data[x->body.len] = '\0';
		x->delivered = 0;
	}
	size_t from = x->delivered;
	x->delivered = x->body.len;
	x->on_chunk(x->body.data + from, x->body.len - from, x->arg);
}

/* Whether the request was connected (or reused a connection) when it stopped. */
static int
xfer_connected(struct xfer *x)
{
	curl_off_t pre = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK)
		return 1;
	return pre > 0;
}

/* curl says the transfer is over: sort its result out and end it. */
static void
xfer_complete(struct xfer *x, CURLcode cc)
{
	struct http_client *c = x->c;
	if (x->q == Q_CANCELLED)
		return; /* cancelled meanwhile: on_deliver ends it */
	if (x->q == Q_DIRTY) {
		xfer_flush(x);
		/* on_chunk may have freed the client, or cancelled this request. */
		if (c->closing || x->q == Q_CANCELLED)
			return;
	}
	/* Take it off the transfer now: the message below reads curl's info. */
	if (x->in_multi) {
		curl_multi_remove_handle(c->multi, x->easy);
		x->in_multi = 0;
	}

	enum http_error err = HTTP_EOTHER;
	const char *why = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(cc);
	char *msg = NULL;
	switch (cc) {
	case CURLE_OK:
		err = HTTP_OK;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		err = HTTP_ECONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (!xfer_connected(x) && x->connect_ms < x->total_ms)
			err = HTTP_ETIMEOUT_CONNECT;
		else
			err = HTTP_ETIMEOUT_TOTAL;
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
		err = HTTP_ETRUNCATED;
		break;
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		/* The peer went away: after a response began, that cut its body. */
		err = x->got_byte ? HTTP_ETRUNCATED : HTTP_EOTHER;
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			err = HTTP_ETOOBIG;
			msg = xasprintf("response body larger than %zu bytes", x->max_body);
		}
		break;
	default:
		break;
	}
	if (err != HTTP_OK && msg == NULL)
		msg = xasprintf("%s", why);
	/* curl's buffer may end in a newline. */
	if (msg != NULL) {
		size_t n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
			msg[--n] = '\0';
	}
	xfer_end(x, err, msg);
	free(msg);
}

/* ------------------------------------------------------------ dispatch */

static void client_destroy(struct http_client *);

static void
client_enter(struct http_client *c)
{
	c->depth++;
}

static void
client_leave(struct http_client *c)
{
	if (--c->depth == 0 && c->closing)
		client_destroy(c);
}

/* After curl ran: stream what arrived, then end what finished. */
static void
client_process(struct http_client *c)
{
	while (!c->closing && c->qhead[Q_DIRTY] != NULL)
		xfer_flush(c->qhead[Q_DIRTY]);
	while (!c->closing) {
		int left;
		CURLMsg *m = curl_multi_info_read(c->multi, &left);
		if (m == NULL)
			break;
		if (m->msg != CURLMSG_DONE)
			continue;
		CURLcode cc = m->data.result;
		char *p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if (p != NULL)
			xfer_complete((struct xfer *)(void *)p, cc);
	}
}

static void
on_io(struct loop *l, int fd, int ready, void *arg)
{
	struct http_client *c = arg;
	int mask = ((ready & LOOP_READ) ? CURL_CSELECT_IN : 0) |
	           ((ready & LOOP_WRITE) ? CURL_CSELECT_OUT : 0) |
	           ((ready & LOOP_ERROR) ? CURL_CSELECT_ERR : 0);
	int running;
	client_enter(c);
	curl_multi_socket_action(c->multi, fd, mask, &running);
	client_process(c);
	client_leave(c);
}

static void
on_curl_timeout(struct loop *l, void *arg)
{
	struct http_client *c = arg;
	int running;
	c->curl_timer = 0;
	client_enter(c);
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	client_process(c);
	client_leave(c);
}

static void
on_deliver(struct loop *l, void *arg)
{
	struct http_client *c = arg;
	c->deliver_timer = 0;
	client_enter(c);
	while (!c->closing && c->qhead[Q_CANCELLED] != NULL)
		xfer_end(c->qhead[Q_CANCELLED], HTTP_ECANCELLED, "cancelled");
	client_leave(c);
}

static void
on_first_byte_timeout(struct loop *l, void *arg)
{
	struct xfer *x = arg;
	struct http_client *c = x->c;
	x->fb_timer = 0;
	char *msg = xasprintf("no response within %ld ms", x->first_byte_ms);
	client_enter(c);
	xfer_end(x, HTTP_ETIMEOUT_FIRST_BYTE, msg);
	client_leave(c);
	free(msg);
}

/* --------------------------------------------------- curl's callbacks */

/* curl: watch (or stop watching) socket s. */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct sock *k = socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_watch(c->loop, s, 0, NULL, NULL);
		if (k != NULL) {
			if (k->prev != NULL)
				k->prev->next = k->next;
			else
				c->socks = k->next;
			if (k->next != NULL)
				k->next->prev = k->prev;
			free(k);
		}
		return 0;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->fd = s;
		k->next = c->socks;
		if (c->socks != NULL)
			c->socks->prev = k;
		c->socks = k;
		curl_multi_assign(c->multi, s, k);
	}
	int events =
	    ((what & CURL_POLL_IN) ? LOOP_READ : 0) | ((what & CURL_POLL_OUT) ? LOOP_WRITE : 0);
	loop_watch(c->loop, s, events, on_io, c);
	return 0;
}

/* curl: call me back in ms (-1: never). Only arms a loop timer. */
static int
on_curl_timer(CURLM *multi, long ms, void *userp)
{
	struct http_client *c = userp;
	if (c->curl_timer != 0) {
		loop_timer_del(c->loop, c->curl_timer);
		c->curl_timer = 0;
	}
	if (ms >= 0 && !c->destroying)
		c->curl_timer = loop_timer_add(c->loop, ms, on_curl_timeout, c);
	return 0;
}

static void
first_byte(struct xfer *x)
{
	if (x->got_byte)
		return;
	x->got_byte = 1;
	if (x->fb_timer != 0) {
		loop_timer_del(x->c->loop, x->fb_timer);
		x->fb_timer = 0;
	}
}

/* Milliseconds from a Retry-After value: delay-seconds or an HTTP-date; -1 if neither. */
static long
retry_after_parse(const char *v)
{
	if (*v == '\0')
		return -1;
	if (isdigit((unsigned char)*v)) {
		long sec = 0;
		for (; isdigit((unsigned char)*v); v++) {
			if (sec > LONG_MAX / 10000)
				return LONG_MAX; /* absurd; stays absurd */
			sec = sec * 10 + (*v - '0');
		}
		return *v == '\0' ? sec * 1000 : -1;
	}
	time_t when = curl_getdate(v, NULL);
	if (when == (time_t)-1)
		return -1;
	double ms = difftime(when, time(NULL)) * 1000.0;
	if (ms <= 0)
		return 0;
	return ms >= (double)LONG_MAX ? LONG_MAX : (long)ms;
}

/* Milliseconds from retry-after-ms (a non-negative number, maybe with a fraction); -1 if not. */
static long
retry_after_ms_parse(const char *v)
{
	if (!isdigit((unsigned char)*v))
		return -1;
	char *end;
	double ms = strtod(v, &end);
	if (*end != '\0' || !isfinite(ms) || ms < 0)
		return -1;
	return ms >= (double)LONG_MAX ? LONG_MAX : (long)ceil(ms);
}

/*
 * curl: one response header line. Only Retry-After and retry-after-ms are
 * read here; values never leave this function except as numbers.
 */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;
	first_byte(x);
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): forget the last one's. */
		x->retry_after_ms = x->retry_after_s_ms = -1;
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
	size_t nlen = (size_t)(colon - p);
	int is_s = nlen == 11 && strncasecmp(p, "retry-after", 11) == 0;
	int is_ms = nlen == 14 && strncasecmp(p, "retry-after-ms", 14) == 0;
	if (!is_s && !is_ms)
		return len;
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	char val[128];
	if ((size_t)(end - v) >= sizeof val)
		return len;
	memcpy(val, v, (size_t)(end - v));
	val[end - v] = '\0';
	if (is_ms)
		x->retry_after_ms = retry_after_ms_parse(val);
	else
		x->retry_after_s_ms = retry_after_parse(val);
	return len;
}

/* curl: body bytes. Kept; on_chunk sees them once curl has returned. */
static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;
	first_byte(x);
	if (buf_add(&x->body, p, len) < 0) {
		x->too_big = 1;
		return 0; /* a short count stops the transfer */
	}
	if (x->on_chunk != NULL && len > 0 && x->q == Q_NONE)
		queue_add(x->c, x, Q_DIRTY);
	return len;
}

/* ------------------------------------------------------------- client */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/*
 * curl_global_init is not thread-safe in the libcurl versions we accept
 * (before 7.84) and must run before any other curl call: it runs exactly
 * once per process, guarded by pthread_once, and is never undone (the
 * process's exit cleans up). The rest of this module is single-threaded.
 */
static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Returns a client driven by loop (which must outlive it), or NULL with *cause (caller frees). */
struct http_client *
http_client_new(struct loop *loop, char **cause)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		*cause = xasprintf("cannot initialise libcurl: %s", curl_easy_strerror(global_rc));
		return NULL;
	}
	CURLM *m = curl_multi_init();
	if (m == NULL) {
		*cause = xstrdup("cannot create a curl multi handle");
		return NULL;
	}
	struct http_client *c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->multi = m;
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return c;
}

static void
client_destroy(struct http_client *c)
{
	c->destroying = 1;
	if (c->curl_timer != 0)
		loop_timer_del(c->loop, c->curl_timer);
	if (c->deliver_timer != 0)
		loop_timer_del(c->loop, c->deliver_timer);
	c->curl_timer = c->deliver_timer = 0;
	/* Closes the cached connections, unwatching their sockets through on_socket. */
	curl_multi_cleanup(c->multi);
	/* Whatever curl did not report: the loop must not call into a freed client. */
	while (c->socks != NULL) {
		struct sock *k = c->socks;
		c->socks = k->next;
		loop_watch(c->loop, k->fd, 0, NULL, NULL);
		free(k);
	}
	free(c);
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL || c->closing)
		return;
	c->closing = 1;
	while (c->xfers != NULL)
		xfer_end(c->xfers, HTTP_ECANCELLED, "cancelled: the HTTP client was freed");
	if (c->depth == 0)
		client_destroy(c);
}

size_t
http_pending(const struct http_client *c)
{
	return c->n;
}

/* ------------------------------------------------------------ requests */

static int
scheme_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (cc == CURLE_OK)                                                                \
			cc = curl_easy_setopt(e, opt, val);                                        \
	} while (0)

uint64_t
http_start(struct http_client *c, const struct http_request *req, http_done_fn done, void *arg,
           char **cause)
{
	if (c->closing) {
		*cause = xstrdup("the HTTP client is being freed");
		return 0;
	}
	if (req->url == NULL || !scheme_ok(req->url)) {
		*cause = xstrdup("only http:// and https:// URLs are allowed");
		return 0;
	}
	if (done == NULL) {
		*cause = xstrdup("no completion callback");
		return 0;
	}
	int post;
	if (req->method == NULL)
		post = req->body != NULL;
	else if (strcmp(req->method, "POST") == 0)
		post = 1;
	else if (strcmp(req->method, "GET") == 0 && req->body == NULL)
		post = 0;
	else {
		*cause = xasprintf("unsupported method or a GET with a body");
		return 0;
	}

	struct curl_slist *hdrs = NULL;
	int has_expect = 0;
	for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		const char *h = req->headers[i];
		/* Never quote a header back: it may carry a key. */
		if (strpbrk(h, "\r\n") != NULL) {
			curl_slist_free_all(hdrs);
			*cause = xasprintf("request header %zu contains a line break", i + 1);
			return 0;
		}
		if (strncasecmp(h, "Expect:", 7) == 0)
			has_expect = 1;
		hdrs = curl_slist_append(hdrs, h);
	}
	/* No 100-continue round trip on large bodies: the endpoints we talk to answer directly. */
	if (!has_expect && post)
		hdrs = curl_slist_append(hdrs, "Expect:");

	CURL *e = curl_easy_init();
	if (e == NULL) {
		curl_slist_free_all(hdrs);
		*cause = xstrdup("cannot create a curl easy handle");
		return 0;
	}
	struct xfer *x = xcalloc(1, sizeof *x);
	x->c = c;
	x->easy = e;
	x->hdrs = hdrs;
	x->done = done;
	x->arg = arg;
	x->on_chunk = req->on_chunk;
	x->connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_MS;
	x->total_ms = req->total_timeout_ms > 0 ? req->total_timeout_ms : DEFAULT_TOTAL_MS;
	x->max_body = req->max_body > 0 ? req->max_body : DEFAULT_MAX_BODY;
	x->retry_after_ms = x->retry_after_s_ms = -1;
	buf_init(&x->body, x->max_body);

	CURLcode cc = CURLE_OK;
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PRIVATE, (void *)x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_VERBOSE, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Many requests to one TLS host share a connection rather than open one each. */
	if (strncasecmp(req->url, "https://", 8) == 0)
		SETOPT(CURLOPT_PIPEWAIT, 1L);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, x->connect_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, x->total_ms);
	/* A stream's whole length is not bounded, only what waits to be handed on. */
	if (req->on_chunk == NULL)
		SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	SETOPT(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	SETOPT(CURLOPT_HTTPHEADER, hdrs);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, (void *)x);
	SETOPT(CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(CURLOPT_WRITEDATA, (void *)x);
	if (post) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		SETOPT(CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
	}
	if (cc != CURLE_OK) {
		*cause = xasprintf("cannot set up the request: %s", curl_easy_strerror(cc));
		goto fail;
	}

	x->started = mono_ms();
	CURLMcode mc = curl_multi_add_handle(c->multi, e);
	if (mc != CURLM_OK) {
		*cause = xasprintf("cannot start the request: %s", curl_multi_strerror(mc));
		goto fail;
	}
	x->in_multi = 1;
	x->id = ++c->next_id;
	x->next = c->xfers;
	if (c->xfers != NULL)
		c->xfers->prev = x;
	c->xfers = x;
	c->n++;
	x->first_byte_ms = req->first_byte_timeout_ms;
	if (x->first_byte_ms > 0)
		x->fb_timer = loop_timer_add(c->loop, x->first_byte_ms, on_first_byte_timeout, x);
	return x->id;

fail:
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	buf_free(&x->body);
	free(x);
	return 0;
}

void
http_cancel(struct http_client *c, uint64_t id)
{
	if (c->closing || id == 0)
		return;
	struct xfer *x = c->xfers;
	while (x != NULL && x->id != id)
		x = x->next;
	if (x == NULL || x->q == Q_CANCELLED)
		return;
	/* Off the network now; the callback runs from the loop. */
	xfer_detach(x);
	queue_add(c, x, Q_CANCELLED);
	if (c->deliver_timer == 0)
		c->deliver_timer = loop_timer_add(c->loop, 0, on_deliver, c);
}
