/* customer-http.c -- frontline customer over HTTP: a bridge from the line protocol to frontline
 * serve. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "customer-http.h"
#include "customer-proto.h"
#include "http.h"
#include "sse.h"

#define STREAM_MS      (10 * 60 * 1000) /* an event stream is reopened this often */
#define STREAM_RETRY   1000             /* ms before reopening a dropped stream */
#define STREAM_FAILS   5                /* reopened in a row without an event: given up */
#define TOO_MANY_TRIES 5                /* 429s for one message before it is given up */
#define MAX_OUT        (1024 * 1024)

enum op_kind { OP_SAY, OP_RATE };

struct op {
	enum op_kind kind;
	char *body; /* the JSON body */
	int tries, reopened;
};

enum phase { PH_HELLO, PH_OPENING, PH_READY };

struct customer_http {
	struct loop *loop;
	struct http_client *http;
	char *base;
	char *auth; /* "Authorization: Bearer ..." (never printed) */
	int fd;     /* our end; -1 once closed */
	struct buf in, out;
	size_t out_off;

	char *customer; /* as serve knows them, once the first conversation is open */
	char *name;
	const char *tier;
	int64_t conv;
	int welcomed;
	enum phase phase;
	uint64_t ctl; /* the request in flight (conversation, transcript, message, rating) */

	uint64_t stream;
	uint64_t stream_timer;
	int64_t last_id;
	int closed;   /* the conversation ended (a closed state came) */
	int reopened; /* a new conversation after a closed one: its first "ai" state goes unsaid */
	int fails;
	struct sse sse;

	struct op *ops;
	size_t nops, cap, head;
	uint64_t retry_timer;
	int bye; /* bye or end of input: the bridge ends once the queue is sent */
};

static void pump(struct customer_http *);
static void open_conversation(struct customer_http *);

/* ------------------------------------------------------------ the customer's side */

static void fd_io(struct loop *, int fd, int ready, void *arg);

static void
fd_rewatch(struct customer_http *h)
{
	if (h->fd >= 0)
		loop_watch(h->loop, h->fd, LOOP_READ | (h->out_off < h->out.len ? LOOP_WRITE : 0),
		           fd_io, h);
}

static void
flush_out(struct customer_http *h)
{
	while (h->fd >= 0 && h->out_off < h->out.len) {
		ssize_t n = send(h->fd, h->out.data + h->out_off, h->out.len - h->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* full (watched for writing), or the customer is gone */
		h->out_off += (size_t)n;
	}
	if (h->out_off == h->out.len) {
		buf_reset(&h->out);
		h->out_off = 0;
	}
	fd_rewatch(h);
}

/* Sends a protocol line to the customer (takes msg). */
static void
tell(struct customer_http *h, cJSON *msg)
{
	if (h->fd >= 0)
		cp_encode(&h->out, msg);
	cJSON_Delete(msg);
	flush_out(h);
}

/* Ends the customer's side: they see the connection close. */
static void
hang_up(struct customer_http *h)
{
	if (h->fd < 0)
		return;
	flush_out(h);
	loop_watch(h->loop, h->fd, 0, NULL, NULL);
	shutdown(h->fd, SHUT_RDWR);
	close(h->fd);
	h->fd = -1;
	if (h->stream != 0) {
		uint64_t id = h->stream;
		h->stream = 0;
		http_cancel(h->http, id);
	}
	loop_timer_del(h->loop, h->stream_timer);
	h->stream_timer = 0;
}

/* The error text of an answer: its {"error"}, else what went wrong. Caller frees. */
static char *
why(const struct http_result *r)
{
	if (r->error != HTTP_OK)
		return xasprintf("cannot reach frontline serve: %s", r->message);
	cJSON *o = cJSON_Parse(r->body);
	const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
	char *s = e ? xstrdup(e) : xasprintf("frontline serve answered %ld", r->status);
	cJSON_Delete(o);
	return s;
}

static void
tell_error(struct customer_http *h, const char *text)
{
	tell(h, cp_new_error(text));
}

/* ------------------------------------------------------------ requests */

static uint64_t
request(struct customer_http *h, const char *method, const char *path, const char *body,
        http_done_fn done)
{
	const char *hdr[] = {h->auth, "Content-Type: application/json", "Accept: application/json",
	                     NULL};
	char *url = xasprintf("%s%s", h->base, path);
	struct http_request rq = {
	    .method = method,
	    .url = url,
	    .headers = hdr,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .total_timeout_ms = 30000,
	};
	char *cause = NULL;
	uint64_t id = http_start(h->http, &rq, done, h, &cause);
	free(url);
	if (id == 0) {
		tell_error(h, cause);
		free(cause);
	}
	return id;
}

/* ------------------------------------------------------------ the event stream */

static void open_stream(struct customer_http *);

static void
on_stream_timer(struct loop *loop, void *arg)
{
	struct customer_http *h = arg;
	h->stream_timer = 0;
	open_stream(h);
}

/* One complete event: a reply, or a state. */
static void
dispatch(void *arg, const char *event, const char *data)
{
	struct customer_http *h = arg;
	cJSON *o = cJSON_Parse(data);
	if (o == NULL)
		return;
	h->fails = 0;
	if (strcmp(event, "message") == 0) {
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id"));
		const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(o, "role"));
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(o, "text"));
		const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(o, "at"));
		if (id > h->last_id)
			h->last_id = id;
		if (role != NULL && text != NULL && *text != '\0')
			tell(h,
			     cp_new_message(strcmp(role, "human") == 0 ? CP_ROLE_HUMAN : CP_ROLE_AI,
			                    NULL, text, at && *at ? at : NULL));
	} else if (strcmp(event, "state") == 0) {
		const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(o, "state"));
		const char *handler = cJSON_GetStringValue(cJSON_GetObjectItem(o, "handler"));
		enum cp_state s = CP_STATE_RESOLVED;
		if (state != NULL && strcmp(state, "open") == 0)
			s = handler && strcmp(handler, "human") == 0     ? CP_STATE_HUMAN
			    : handler && strcmp(handler, "waiting") == 0 ? CP_STATE_WAITING
			                                                 : CP_STATE_AI;
		else
			h->closed = 1;
		/*
		 * The welcome goes with the first state, as a console sends them: a
		 * script's first line goes once both are there, so the state cannot
		 * pass for the answer to it.
		 */
		if (!h->welcomed) {
			h->welcomed = 1;
			tell(h, cp_new_welcome(h->conv, h->customer));
		}
		/* After the end the customer wrote again, so a new one: the reply answers that. */
		if (!(h->reopened && s == CP_STATE_AI))
			tell(h, cp_new_state(s));
		h->reopened = 0;
	}
	cJSON_Delete(o);
}

static void
on_stream_chunk(const char *data, size_t len, void *arg)
{
	struct customer_http *h = arg;
	sse_feed(&h->sse, data, len);
}

static void
on_stream_done(const struct http_result *r, void *arg)
{
	struct customer_http *h = arg;
	h->stream = 0;
	sse_reset(&h->sse);
	if (r->error == HTTP_ECANCELLED || h->fd < 0)
		return;
	if (r->status == 204 || h->closed)
		return; /* the conversation is over: nothing more will come */
	if (r->error == HTTP_OK && r->status != 200) {
		char *e = why(r);
		tell_error(h, e);
		free(e);
		hang_up(h);
		return;
	}
	if (++h->fails > STREAM_FAILS) {
		char *e = why(r);
		tell_error(h, e);
		free(e);
		hang_up(h);
		return;
	}
	h->stream_timer = loop_timer_add(h->loop, STREAM_RETRY, on_stream_timer, h);
}

/* Opens (or reopens) the stream after the newest message seen. */
static void
open_stream(struct customer_http *h)
{
	if (h->stream != 0) {
		uint64_t id = h->stream;
		h->stream = 0;
		http_cancel(h->http, id);
	}
	loop_timer_del(h->loop, h->stream_timer);
	h->stream_timer = 0;
	h->closed = 0;
	sse_reset(&h->sse);
	char *url = xasprintf("%s/v1/conversations/%lld/events?after=%lld", h->base,
	                      (long long)h->conv, (long long)h->last_id);
	const char *hdr[] = {h->auth, "Accept: text/event-stream", NULL};
	struct http_request rq = {
	    .url = url,
	    .headers = hdr,
	    .total_timeout_ms = STREAM_MS,
	    .on_chunk = on_stream_chunk,
	};
	char *cause = NULL;
	h->stream = http_start(h->http, &rq, on_stream_done, h, &cause);
	free(url);
	if (h->stream == 0) {
		tell_error(h, cause);
		free(cause);
		hang_up(h);
	}
}

/* ------------------------------------------------------------ the conversation */

static void
on_transcript(const struct http_result *r, void *arg)
{
	struct customer_http *h = arg;
	h->ctl = 0;
	if (r->error == HTTP_ECANCELLED)
		return;
	if (r->error != HTTP_OK || r->status != 200) {
		char *e = why(r);
		tell_error(h, e);
		free(e);
		hang_up(h);
		return;
	}
	/* Replies already there were said before this client came: the stream starts after. */
	cJSON *o = cJSON_Parse(r->body);
	const cJSON *m;
	h->last_id = 0;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(o, "messages"))
	{
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id"));
		if (id > h->last_id)
			h->last_id = id;
	}
	cJSON_Delete(o);
	h->phase = PH_READY;
	open_stream(h);
	pump(h);
}

static void
on_conversation(const struct http_result *r, void *arg)
{
	struct customer_http *h = arg;
	h->ctl = 0;
	if (r->error == HTTP_ECANCELLED)
		return;
	cJSON *o = r->error == HTTP_OK ? cJSON_Parse(r->body) : NULL;
	int64_t conv = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id"));
	const char *customer = cJSON_GetStringValue(cJSON_GetObjectItem(o, "customer"));
	if ((r->status != 200 && r->status != 201) || conv <= 0 || customer == NULL) {
		char *e = why(r);
		tell_error(h, e);
		free(e);
		cJSON_Delete(o);
		hang_up(h);
		return;
	}
	h->conv = conv;
	free(h->customer);
	h->customer = xstrdup(customer);
	cJSON_Delete(o);
	char *path = xasprintf("/v1/conversations/%lld", (long long)conv);
	h->ctl = request(h, "GET", path, NULL, on_transcript);
	free(path);
	if (h->ctl == 0)
		hang_up(h);
}

/* Opens the customer's conversation (the open one, or a new one) and its stream. */
static void
open_conversation(struct customer_http *h)
{
	cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "customer");
	if (h->customer)
		cJSON_AddStringToObject(c, "id", h->customer);
	if (h->name)
		cJSON_AddStringToObject(c, "name", h->name);
	if (h->tier)
		cJSON_AddStringToObject(c, "tier", h->tier);
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	h->phase = PH_OPENING;
	h->ctl = request(h, "POST", "/v1/conversations", body, on_conversation);
	free(body);
	if (h->ctl == 0)
		hang_up(h);
}

/* ------------------------------------------------------------ messages and ratings */

static void
op_pop(struct customer_http *h)
{
	free(h->ops[h->head].body);
	if (++h->head == h->nops)
		h->head = h->nops = 0;
}

static void
on_retry(struct loop *loop, void *arg)
{
	struct customer_http *h = arg;
	h->retry_timer = 0;
	pump(h);
}

static void
on_op(const struct http_result *r, void *arg)
{
	struct customer_http *h = arg;
	h->ctl = 0;
	if (r->error == HTTP_ECANCELLED)
		return;
	struct op *op = &h->ops[h->head];
	if (r->error == HTTP_OK && (r->status == 202 || r->status == 200)) {
		op_pop(h);
		pump(h);
		return;
	}
	if (r->error == HTTP_OK && r->status == 409 && op->kind == OP_SAY && !op->reopened) {
		/* Closed meanwhile: the customer writes again, so a new conversation. */
		op->reopened = 1;
		h->reopened = 1;
		open_conversation(h);
		return;
	}
	if (r->error == HTTP_OK && r->status == 429 && ++op->tries < TOO_MANY_TRIES) {
		long ms = r->retry_after_ms > 0 ? r->retry_after_ms : 1000;
		h->retry_timer = loop_timer_add(h->loop, ms, on_retry, h);
		return;
	}
	char *e = why(r);
	tell_error(h, e);
	free(e);
	op_pop(h);
	pump(h);
}

/* Sends the next queued message or rating; ends the bridge after bye once all are sent. */
static void
pump(struct customer_http *h)
{
	if (h->ctl != 0 || h->retry_timer != 0 || h->phase != PH_READY)
		return;
	if (h->head == h->nops) {
		if (h->bye)
			hang_up(h);
		return;
	}
	struct op *op = &h->ops[h->head];
	char *path = xasprintf("/v1/conversations/%lld/%s", (long long)h->conv,
	                       op->kind == OP_SAY ? "messages" : "rating");
	h->ctl = request(h, "POST", path, op->body, on_op);
	free(path);
	if (h->ctl == 0) {
		op_pop(h);
		pump(h);
	}
}

static void
enqueue(struct customer_http *h, enum op_kind kind, cJSON *body)
{
	if (h->nops == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		h->ops = xreallocarray(h->ops, h->cap, sizeof *h->ops);
	}
	h->ops[h->nops++] = (struct op){.kind = kind, .body = cJSON_PrintUnformatted(body)};
	cJSON_Delete(body);
	pump(h);
}

/* ------------------------------------------------------------ lines from the customer */

static int
on_line(void *arg, const char *line, size_t len)
{
	struct customer_http *h = arg;
	struct cp_msg m;
	char *cause = NULL;
	if (len == 0)
		return 0;
	if (cp_decode(line, len, CP_TO_CONSOLE, &m, &cause) != 0) {
		tell_error(h, cause);
		free(cause);
		return 0;
	}
	switch (m.type) {
	case CP_HELLO:
		if (h->phase != PH_HELLO)
			break;
		h->customer = m.customer ? xstrdup(m.customer) : NULL;
		h->name = m.name ? xstrdup(m.name) : NULL;
		h->tier = m.tier_given ? tier_names[m.tier] : NULL;
		open_conversation(h);
		break;
	case CP_SAY: {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "text", m.text);
		enqueue(h, OP_SAY, b);
		break;
	}
	case CP_RATE: {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "score", m.score);
		if (m.text != NULL)
			cJSON_AddStringToObject(b, "comment", m.text);
		enqueue(h, OP_RATE, b);
		break;
	}
	case CP_BYE:
		h->bye = 1;
		pump(h);
		break;
	default:
		break;
	}
	cp_msg_free(&m);
	return h->fd < 0;
}

static void
fd_io(struct loop *loop, int fd, int ready, void *arg)
{
	struct customer_http *h = arg;
	if (ready & LOOP_WRITE)
		flush_out(h);
	if (!(ready & (LOOP_READ | LOOP_ERROR)) || h->fd < 0)
		return;
	char chunk[16384];
	ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
	if (n > 0) {
		if (cp_lines_feed(&h->in, chunk, (size_t)n, on_line, h) < 0) {
			tell_error(h, "a line longer than the protocol allows");
			hang_up(h);
		}
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	/* The customer's side closed: what is queued still goes. */
	loop_watch(h->loop, h->fd, 0, NULL, NULL);
	close(h->fd);
	h->fd = -1;
	h->bye = 1;
	if (h->stream != 0) {
		uint64_t id = h->stream;
		h->stream = 0;
		http_cancel(h->http, id);
	}
	pump(h);
}

/* ------------------------------------------------------------ opening and closing */

int
customer_http_open(struct loop *loop, const char *url, const char *token,
                   struct customer_http **out, char **cause)
{
	int sv[2];
	*out = NULL;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		*cause = xasprintf("'%s' is not an http:// or https:// URL", url);
		return -1;
	}
	if (token == NULL || *token == '\0' || strpbrk(token, "\r\n") != NULL) {
		*cause = xstrdup("no token: set FRONTLINE_SERVE_TOKEN to the serve's bearer token");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		*cause = xasprintf("socketpair: %s", strerror(errno));
		return -1;
	}
	struct customer_http *h = xcalloc(1, sizeof *h);
	h->loop = loop;
	if ((h->http = http_client_new(loop, cause)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		free(h);
		return -1;
	}
	h->base = xstrdup(url);
	size_t n = strlen(h->base);
	while (n > 0 && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	h->auth = xasprintf("Authorization: Bearer %s", token);
	h->fd = sv[1];
	buf_init(&h->in, 0);
	buf_init(&h->out, MAX_OUT);
	sse_init(&h->sse, CP_MAX_LINE, dispatch, h);
	fd_rewatch(h);
	*out = h;
	return sv[0];
}

void
customer_http_close(struct customer_http *h, long ms)
{
	if (h == NULL)
		return;
	int64_t deadline = loop_now(h->loop) + ms;
	/* What the customer sent last (a rating, bye) is read and sent, unless it takes too long.
	 */
	while ((h->fd >= 0 || h->ctl != 0 || h->head < h->nops) && loop_now(h->loop) < deadline)
		if (loop_once(h->loop, 50) < 0)
			break;
	hang_up(h);
	http_client_free(h->http); /* what is still in flight is cancelled */
	loop_timer_del(h->loop, h->retry_timer);
	while (h->head < h->nops)
		op_pop(h);
	free(h->ops);
	buf_free(&h->in);
	buf_free(&h->out);
	sse_close(&h->sse);
	explicit_bzero(h->auth, strlen(h->auth));
	free(h->auth);
	free(h->base);
	free(h->customer);
	free(h->name);
	free(h);
}
