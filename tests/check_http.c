/* check_http.c -- asynchronous HTTP over curl multi, against a loopback server in a thread. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"
#include "loopback-http.h"
#include "testutil.h"

/* Sent with every request: no message may ever quote it. */
#define SECRET "sk-TEST-Zz9-NEVER-PRINT"

/* Nonzero while http_start runs: done must never be called then. */
static int in_start;

struct got {
	int calls;
	enum http_error error;
	long status;
	char *body;
	size_t len;
	char *content_type;
	char *message;
	long retry_after_ms;
	struct buf chunks;
	int nchunks;
	/* Hooks for the tests that act from inside callbacks. */
	struct http_client *client;
	uint64_t id;
	int cancel_on_chunk;
	int free_on_done;
	int *counter;
};

static void
got_init(struct got *g)
{
	memset(g, 0, sizeof *g);
	buf_init(&g->chunks, 0);
}

static void
got_free(struct got *g)
{
	free(g->body);
	free(g->content_type);
	free(g->message);
	buf_free(&g->chunks);
}

static void
on_done(const struct http_result *r, void *arg)
{
	struct got *g = arg;
	ck_assert_msg(!in_start, "done ran inside http_start");
	g->calls++;
	g->error = r->error;
	g->status = r->status;
	free(g->body);
	g->body = xstrndup(r->body, r->len);
	g->len = r->len;
	ck_assert_int_eq(r->body[r->len], '\0');
	free(g->content_type);
	g->content_type = r->content_type ? xstrdup(r->content_type) : NULL;
	ck_assert_ptr_nonnull(r->message);
	ck_assert_msg(strstr(r->message, SECRET) == NULL, "a message quotes a header");
	free(g->message);
	g->message = xstrdup(r->message);
	g->retry_after_ms = r->retry_after_ms;
	ck_assert(r->elapsed_ms >= 0);
	if (g->counter != NULL)
		(*g->counter)++;
	if (g->free_on_done)
		http_client_free(g->client);
}

static void
on_chunk(const char *data, size_t len, void *arg)
{
	struct got *g = arg;
	ck_assert_int_eq(g->calls, 0);
	ck_assert_uint_gt(len, 0);
	buf_add(&g->chunks, data, len);
	g->nchunks++;
	if (g->cancel_on_chunk)
		http_cancel(g->client, g->id);
}

struct env {
	struct lb *lb;
	struct loop *loop;
	struct http_client *c;
};

static void
env_init_gate(struct env *e, int hold_ms, int gate)
{
	e->lb = lb_new(hold_ms);
	ck_assert_ptr_nonnull(e->lb);
	lb_set_gate(e->lb, gate);
	ck_assert_int_eq(lb_start(e->lb), 0);
	e->loop = loop_new();
	char *cause = NULL;
	e->c = http_client_new(e->loop, &cause);
	ck_assert_msg(e->c != NULL, "%s", cause);
}

static void
env_init(struct env *e, int hold_ms)
{
	env_init_gate(e, hold_ms, 0);
}

static void
env_free(struct env *e)
{
	http_client_free(e->c);
	/* The client left nothing behind in the loop: this returns. */
	loop_run(e->loop, NULL);
	loop_free(e->loop);
	lb_free(e->lb);
}

static const char *const secret_headers[] = {"Authorization: Bearer " SECRET, NULL};

/* Starts a request for path on the loopback server; fails the test if it cannot. */
static uint64_t
start_req(struct env *e, int port, const char *path, struct http_request *req, struct got *g)
{
	char *url = xasprintf("http://127.0.0.1:%d%s", port, path);
	struct http_request def = {0};
	if (req == NULL)
		req = &def;
	req->url = url;
	if (req->headers == NULL)
		req->headers = secret_headers;
	char *cause = NULL;
	in_start = 1;
	uint64_t id = http_start(e->c, req, on_done, g, &cause);
	in_start = 0;
	ck_assert_msg(id != 0, "%s", cause);
	g->client = e->c;
	g->id = id;
	free(url);
	return id;
}

static uint64_t
start(struct env *e, const char *path, struct http_request *req, struct got *g)
{
	return start_req(e, lb_port(e->lb), path, req, g);
}

/* Runs the loop until *n reaches want. */
static void
run_until(struct loop *l, const int *n, int want)
{
	while (*n < want)
		ck_assert_int_ge(loop_once(l, 1000), 0);
}

/* ----------------------------------------------------------- basics */

START_TEST(get_200)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	start(&e, "/ok", NULL, &g);
	ck_assert_int_eq(g.calls, 0);
	ck_assert_uint_eq(http_pending(e.c), 1);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_OK);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(g.body, "hello");
	ck_assert_uint_eq(g.len, 5);
	ck_assert_str_eq(g.content_type, "text/plain");
	ck_assert_int_eq(g.retry_after_ms, -1);
	ck_assert_uint_eq(http_pending(e.c), 0);
	got_free(&g);
	env_free(&e);
}
END_TEST

START_TEST(post_body_and_headers_arrive)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	static const char body[] = "{\"question\":\"where is my order?\"}";
	const char *const hdrs[] = {"Authorization: Bearer " SECRET,
	                            "Content-Type: application/json", "X-Frontline-Test: yes",
	                            NULL};
	struct http_request req = {.headers = hdrs, .body = body, .body_len = strlen(body)};
	start(&e, "/echo", &req, &g);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_OK);
	ck_assert_int_eq(g.status, 200);
	ck_assert_msg(strncmp(g.body, "POST /echo HTTP/1.1\r\n", 21) == 0, "%s", g.body);
	ck_assert_ptr_nonnull(strstr(g.body, "\r\nAuthorization: Bearer " SECRET "\r\n"));
	ck_assert_ptr_nonnull(strstr(g.body, "\r\nContent-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(strstr(g.body, "\r\nX-Frontline-Test: yes\r\n"));
	ck_assert_ptr_nonnull(strstr(g.body, "\r\nContent-Length: 33\r\n"));
	ck_assert_ptr_null(strstr(g.body, "Expect:"));
	ck_assert(str_endswith(g.body, "\r\n\r\n{\"question\":\"where is my order?\"}"));

	/* A GET carries its headers and no body. */
	struct got h;
	got_init(&h);
	const char *const hdrs2[] = {"X-Frontline-Test: get", NULL};
	struct http_request req2 = {.method = "GET", .headers = hdrs2};
	start(&e, "/echo", &req2, &h);
	run_until(e.loop, &h.calls, 1);
	ck_assert_int_eq(h.error, HTTP_OK);
	ck_assert_msg(strncmp(h.body, "GET /echo HTTP/1.1\r\n", 20) == 0, "%s", h.body);
	ck_assert_ptr_nonnull(strstr(h.body, "\r\nX-Frontline-Test: get\r\n"));
	ck_assert(str_endswith(h.body, "\r\n\r\n"));
	got_free(&h);
	got_free(&g);
	env_free(&e);
}
END_TEST

START_TEST(status_429_retry_after)
{
	static const struct {
		const char *path;
		long lo, hi;
	} cases[] = {
	    {"/429s", 2000, 2000},
	    {"/429ms", 150, 150},
	    {"/429both", 150, 150}, /* the finer one wins */
	    {"/429date", 50000, 60000},
	};
	struct env e;
	env_init(&e, 0);
	for (size_t i = 0; i < nitems(cases); i++) {
		struct got g;
		got_init(&g);
		start(&e, cases[i].path, NULL, &g);
		run_until(e.loop, &g.calls, 1);
		ck_assert_int_eq(g.error, HTTP_OK);
		ck_assert_int_eq(g.status, 429);
		ck_assert_str_eq(g.body, "slow down");
		ck_assert_msg(g.retry_after_ms >= cases[i].lo && g.retry_after_ms <= cases[i].hi,
		              "%s: retry_after_ms %ld", cases[i].path, g.retry_after_ms);
		got_free(&g);
	}
	env_free(&e);
}
END_TEST

START_TEST(status_500)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	start(&e, "/500", NULL, &g);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_OK); /* a whole response: the status says the rest */
	ck_assert_int_eq(g.status, 500);
	ck_assert_str_eq(g.body, "oops");
	ck_assert_int_eq(g.retry_after_ms, -1);
	got_free(&g);
	env_free(&e);
}
END_TEST

/* A port on 127.0.0.1 that nothing listens on. */
static int
dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	close(s);
	return ntohs(a.sin_port);
}

START_TEST(connection_refused)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	start_req(&e, dead_port(), "/ok", NULL, &g);
	ck_assert_int_eq(g.calls, 0);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_ECONNECT);
	ck_assert_int_eq(g.status, 0);
	ck_assert_str_eq(g.body, "");
	ck_assert_str_ne(g.message, "");
	ck_assert_str_eq(http_error_name(g.error), "connect");
	got_free(&g);
	env_free(&e);
}
END_TEST

START_TEST(connect_timeout)
{
	/*
	 * A listener whose accept queue is full drops further SYNs, so a
	 * connection to it stays unanswered: the connect timeout ends it.
	 */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(s, 0), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	int fill[4];
	for (size_t i = 0; i < nitems(fill); i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof a);
	}
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	struct http_request req = {.connect_timeout_ms = 200, .total_timeout_ms = 10000};
	start_req(&e, ntohs(a.sin_port), "/ok", &req, &g);
	run_until(e.loop, &g.calls, 1);
	ck_assert_msg(g.error == HTTP_ETIMEOUT_CONNECT, "%s: %s", http_error_name(g.error),
	              g.message);
	ck_assert_int_eq(g.status, 0);
	got_free(&g);
	env_free(&e);
	for (size_t i = 0; i < nitems(fill); i++)
		close(fill[i]);
	close(s);
}
END_TEST

/* ------------------------------------------------------------ faults */

START_TEST(first_byte_timeout)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	struct http_request req = {.first_byte_timeout_ms = 200, .total_timeout_ms = 20000};
	start(&e, "/hang", &req, &g);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_ETIMEOUT_FIRST_BYTE);
	ck_assert_int_eq(g.status, 0);
	ck_assert_uint_eq(http_pending(e.c), 0);
	got_free(&g);
	env_free(&e);
}
END_TEST

START_TEST(total_timeout)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	/* Bytes keep coming, so the first-byte timer is disarmed; the total limit ends it. */
	struct http_request req = {.first_byte_timeout_ms = 5000, .total_timeout_ms = 300};
	start(&e, "/trickle", &req, &g);
	run_until(e.loop, &g.calls, 1);
	ck_assert_msg(g.error == HTTP_ETIMEOUT_TOTAL, "%s: %s", http_error_name(g.error),
	              g.message);
	ck_assert_int_eq(g.status, 200);
	ck_assert_uint_lt(g.len, 100);
	got_free(&g);
	env_free(&e);
}
END_TEST

START_TEST(truncated_body)
{
	static const char *const paths[] = {"/trunc", "/chunkcut"};
	struct env e;
	env_init(&e, 0);
	for (size_t i = 0; i < nitems(paths); i++) {
		struct got g;
		got_init(&g);
		start(&e, paths[i], NULL, &g);
		run_until(e.loop, &g.calls, 1);
		ck_assert_msg(g.error == HTTP_ETRUNCATED, "%s: %s: %s", paths[i],
		              http_error_name(g.error), g.message);
		ck_assert_int_eq(g.status, 200);
		got_free(&g);
	}
	env_free(&e);
}
END_TEST

START_TEST(body_too_big)
{
	static const char *const paths[] = {"/big", "/bigchunked"};
	struct env e;
	env_init(&e, 0);
	for (size_t i = 0; i < nitems(paths); i++) {
		struct got g;
		got_init(&g);
		struct http_request req = {.max_body = 1000};
		start(&e, paths[i], &req, &g);
		run_until(e.loop, &g.calls, 1);
		ck_assert_msg(g.error == HTTP_ETOOBIG, "%s: %s: %s", paths[i],
		              http_error_name(g.error), g.message);
		ck_assert_uint_le(g.len, 1000);
		got_free(&g);

		/* The same with room for it. */
		got_init(&g);
		req = (struct http_request){.max_body = 100000};
		start(&e, paths[i], &req, &g);
		run_until(e.loop, &g.calls, 1);
		ck_assert_int_eq(g.error, HTTP_OK);
		ck_assert_uint_eq(g.len, 100000);
		got_free(&g);
	}
	env_free(&e);
}
END_TEST

START_TEST(streaming_chunks_in_order)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	struct http_request req = {.on_chunk = on_chunk};
	start(&e, "/stream", &req, &g);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_OK);
	ck_assert_str_eq(g.body, "alpha beta gamma delta");
	ck_assert_str_eq(g.chunks.data, g.body);
	/* The server paused between pieces: they did not all come at once. */
	ck_assert_int_ge(g.nchunks, 2);
	got_free(&g);
	env_free(&e);
}
END_TEST

/* ------------------------------------------------------- cancellation */

START_TEST(cancel_runs_callback_once)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	uint64_t id = start(&e, "/hang", NULL, &g);
	http_cancel(e.c, id);
	ck_assert_int_eq(g.calls, 0); /* from the loop, not from http_cancel */
	http_cancel(e.c, id);
	http_cancel(e.c, id + 1000); /* unknown: ignored */
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_ECANCELLED);
	http_cancel(e.c, id); /* finished: ignored */
	for (int i = 0; i < 5; i++)
		loop_once(e.loop, 0);
	ck_assert_int_eq(g.calls, 1);
	ck_assert_uint_eq(http_pending(e.c), 0);
	got_free(&g);
	env_free(&e);
}
END_TEST

struct later {
	struct http_client *c;
	uint64_t id;
};

static void
cancel_later(struct loop *l, void *arg)
{
	struct later *w = arg;
	http_cancel(w->c, w->id);
}

START_TEST(cancel_in_flight)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	struct later w = {e.c, start(&e, "/hang", NULL, &g)};
	/* Once the server holds the request. */
	struct lb_stats st = {0};
	while (st.requests < 1) {
		loop_once(e.loop, 20);
		lb_get_stats(e.lb, &st);
	}
	loop_timer_add(e.loop, 0, cancel_later, &w);
	run_until(e.loop, &g.calls, 1);
	ck_assert_int_eq(g.error, HTTP_ECANCELLED);
	for (int i = 0; i < 5; i++)
		loop_once(e.loop, 0);
	ck_assert_int_eq(g.calls, 1);

	/* Cancelled from its own on_chunk: no more chunks, one callback. */
	struct got s;
	got_init(&s);
	s.cancel_on_chunk = 1;
	struct http_request req = {.on_chunk = on_chunk};
	start(&e, "/stream", &req, &s);
	run_until(e.loop, &s.calls, 1);
	ck_assert_int_eq(s.error, HTTP_ECANCELLED);
	ck_assert_int_eq(s.nchunks, 1);
	for (int i = 0; i < 5; i++)
		loop_once(e.loop, 10);
	ck_assert_int_eq(s.calls, 1);
	got_free(&s);
	got_free(&g);
	env_free(&e);
}
END_TEST

START_TEST(free_with_requests_in_flight)
{
	enum { N = 5 };
	struct env e;
	struct got g[N + 1];
	env_init(&e, 0);
	for (int i = 0; i < N; i++) {
		got_init(&g[i]);
		start(&e, "/hang", NULL, &g[i]);
	}
	struct lb_stats st = {0};
	while (st.requests < N) {
		loop_once(e.loop, 20);
		lb_get_stats(e.lb, &st);
	}
	/* One more, cancelled but not yet told. */
	got_init(&g[N]);
	http_cancel(e.c, start(&e, "/hang", NULL, &g[N]));
	http_client_free(e.c);
	e.c = NULL;
	for (int i = 0; i <= N; i++) {
		ck_assert_int_eq(g[i].calls, 1);
		ck_assert_int_eq(g[i].error, HTTP_ECANCELLED);
	}
	/* Nothing of the client is left in the loop. */
	loop_run(e.loop, NULL);
	for (int i = 0; i <= N; i++) {
		ck_assert_int_eq(g[i].calls, 1);
		got_free(&g[i]);
	}
	env_free(&e);
}
END_TEST

START_TEST(free_from_a_callback)
{
	enum { N = 3 };
	struct env e;
	struct got first, g[N];
	int total = 0;
	env_init(&e, 0);
	for (int i = 0; i < N; i++) {
		got_init(&g[i]);
		g[i].counter = &total;
		start(&e, "/hang", NULL, &g[i]);
	}
	got_init(&first);
	first.free_on_done = 1;
	first.counter = &total;
	start(&e, "/ok", NULL, &first);
	loop_run(e.loop, NULL); /* returns once the client is gone */
	ck_assert_int_eq(first.calls, 1);
	ck_assert_int_eq(first.error, HTTP_OK);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(g[i].calls, 1);
		ck_assert_int_eq(g[i].error, HTTP_ECANCELLED);
		got_free(&g[i]);
	}
	ck_assert_int_eq(total, N + 1);
	got_free(&first);
	e.c = NULL;
	env_free(&e);
}
END_TEST

/* ------------------------------------------------------ many at once */

START_TEST(two_hundred_concurrent)
{
	enum { N = 200 };
	struct env e;
	static struct got g[N];
	int total = 0;
	/*
	 * The server holds each request 100 ms after all N are open, or after
	 * 5 s: a client that cannot have N in flight leaves max_open short.
	 */
	env_init_gate(&e, 100, N);
	for (int i = 0; i < N; i++) {
		got_init(&g[i]);
		g[i].counter = &total;
		start(&e, "/slow", NULL, &g[i]);
	}
	ck_assert_uint_eq(http_pending(e.c), N);
	run_until(e.loop, &total, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(g[i].calls, 1);
		ck_assert_msg(g[i].error == HTTP_OK, "%d: %s", i, g[i].message);
		ck_assert_str_eq(g[i].body, "slow");
		got_free(&g[i]);
	}
	struct lb_stats st;
	lb_get_stats(e.lb, &st);
	ck_assert_int_eq(st.requests, N);
	/* The server held them all at once: none waited for another to finish. */
	ck_assert_int_eq(st.max_open, N);
	env_free(&e);
}
END_TEST

struct seq {
	struct env *e;
	struct got g[3];
	int next;
};

static void
on_seq_done(const struct http_result *r, void *arg)
{
	struct seq *s = arg;
	struct got *g = &s->g[s->next];
	on_done(r, g);
	if (++s->next < (int)nitems(s->g)) {
		char *url = xasprintf("http://127.0.0.1:%d/ok", lb_port(s->e->lb));
		struct http_request req = {.url = url};
		char *cause = NULL;
		ck_assert_uint_ne(http_start(s->e->c, &req, on_seq_done, s, &cause), 0);
		free(url);
	}
}

START_TEST(sequential_requests_reuse_the_connection)
{
	struct env e;
	struct seq s = {&e, {{0}}, 0};
	env_init(&e, 0);
	for (size_t i = 0; i < nitems(s.g); i++)
		got_init(&s.g[i]);
	char *url = xasprintf("http://127.0.0.1:%d/ok", lb_port(e.lb));
	struct http_request req = {.url = url};
	char *cause = NULL;
	ck_assert_uint_ne(http_start(e.c, &req, on_seq_done, &s, &cause), 0);
	free(url);
	run_until(e.loop, &s.next, (int)nitems(s.g));
	for (size_t i = 0; i < nitems(s.g); i++) {
		ck_assert_int_eq(s.g[i].error, HTTP_OK);
		ck_assert_str_eq(s.g[i].body, "hello");
		got_free(&s.g[i]);
	}
	struct lb_stats st;
	lb_get_stats(e.lb, &st);
	ck_assert_int_eq(st.requests, 3);
	ck_assert_int_eq(st.accepted, 1);
	env_free(&e);
}
END_TEST

/* ------------------------------------------------------- bad requests */

START_TEST(refused_requests)
{
	struct env e;
	struct got g;
	env_init(&e, 0);
	got_init(&g);
	char *cause = NULL;
	struct http_request req = {.url = "ftp://127.0.0.1/x"};
	ck_assert_uint_eq(http_start(e.c, &req, on_done, &g, &cause), 0);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	req.url = "file:///etc/passwd";
	ck_assert_uint_eq(http_start(e.c, &req, on_done, &g, &cause), 0);
	free(cause);
	cause = NULL;

	const char *const bad[] = {"X-Ok: 1", "Authorization: Bearer " SECRET "\r\nX-Evil: 1",
	                           NULL};
	req = (struct http_request){.url = "http://127.0.0.1:1/", .headers = bad};
	ck_assert_uint_eq(http_start(e.c, &req, on_done, &g, &cause), 0);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_null(strstr(cause, SECRET));
	free(cause);
	cause = NULL;

	req = (struct http_request){
	    .url = "http://127.0.0.1:1/", .method = "GET", .body = "x", .body_len = 1};
	ck_assert_uint_eq(http_start(e.c, &req, on_done, &g, &cause), 0);
	free(cause);
	cause = NULL;
	req = (struct http_request){.url = "http://127.0.0.1:1/", .method = "DELETE"};
	ck_assert_uint_eq(http_start(e.c, &req, on_done, &g, &cause), 0);
	free(cause);

	ck_assert_uint_eq(http_pending(e.c), 0);
	loop_once(e.loop, 0);
	ck_assert_int_eq(g.calls, 0);
	for (int i = HTTP_OK; i <= HTTP_EOTHER; i++)
		ck_assert_str_ne(http_error_name((enum http_error)i), "unknown");
	got_free(&g);
	env_free(&e);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, get_200);
	tcase_add_test(tc, post_body_and_headers_arrive);
	tcase_add_test(tc, status_429_retry_after);
	tcase_add_test(tc, status_500);
	tcase_add_test(tc, connection_refused);
	tcase_add_test(tc, connect_timeout);
	tcase_add_test(tc, first_byte_timeout);
	tcase_add_test(tc, total_timeout);
	tcase_add_test(tc, truncated_body);
	tcase_add_test(tc, body_too_big);
	tcase_add_test(tc, streaming_chunks_in_order);
	tcase_add_test(tc, cancel_runs_callback_once);
	tcase_add_test(tc, cancel_in_flight);
	tcase_add_test(tc, free_with_requests_in_flight);
	tcase_add_test(tc, free_from_a_callback);
	tcase_add_test(tc, two_hundred_concurrent);
	tcase_add_test(tc, sequential_requests_reuse_the_connection);
	tcase_add_test(tc, refused_requests);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(http_suite());
}
