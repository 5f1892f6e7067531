/* loopback-http.c -- a small HTTP/1.1 server on 127.0.0.1 for the HTTP tests and bench. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback-http.h"
#include "util.h"

#define MAX_STEPS 16

/* A piece of the response, sent no earlier than at. */
struct step {
	int64_t at;
	char *data;
	size_t len;
};

enum { C_READ, C_WRITE, C_HANG };

struct conn {
	int fd;
	int state;
	struct buf in;
	struct step steps[MAX_STEPS];
	int nsteps, cur;
	size_t off; /* bytes of steps[cur] sent */
	int close_after;
	int open; /* counted in the open requests */
};

struct lb {
	int fd;
	int port;
	int hold_ms;
	int gate; /* /slow waits for this many open requests; 0: no gate */
	int gate_open;
	int64_t gate_until; /* when the gate opens anyway; 0 before the first request */
	int stop[2];
	pthread_t thread;
	int threaded;
	struct conn **c;
	size_t n, cap;
	atomic_long accepted, requests, open_now, max_open;
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct lb *
lb_new(int hold_ms)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return NULL;
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4096) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) < 0) {
		close(s);
		return NULL;
	}
	struct lb *lb = xcalloc(1, sizeof *lb);
	lb->fd = s;
	lb->port = ntohs(a.sin_port);
	lb->hold_ms = hold_ms;
	if (pipe2(lb->stop, O_CLOEXEC) < 0) {
		close(s);
		free(lb);
		return NULL;
	}
	return lb;
}

void
lb_set_gate(struct lb *lb, int n)
{
	lb->gate = n;
}

/* Lets every request held at the gate go, hold_ms from now. */
static void
gate_open(struct lb *lb, int64_t now)
{
	lb->gate_open = 1;
	for (size_t i = 0; i < lb->n; i++) {
		struct conn *c = lb->c[i];
		for (int k = 0; k < c->nsteps; k++)
			if (c->steps[k].at == INT64_MAX)
				c->steps[k].at = now + lb->hold_ms;
	}
}

int
lb_port(const struct lb *lb)
{
	return lb->port;
}

void
lb_get_stats(struct lb *lb, struct lb_stats *st)
{
	st->accepted = atomic_load(&lb->accepted);
	st->requests = atomic_load(&lb->requests);
	st->max_open = atomic_load(&lb->max_open);
}

static void
open_inc(struct lb *lb, struct conn *c)
{
	c->open = 1;
	long now = atomic_fetch_add(&lb->open_now, 1) + 1;
	long max = atomic_load(&lb->max_open);
	while (now > max && !atomic_compare_exchange_weak(&lb->max_open, &max, now))
		;
}

static void
open_dec(struct lb *lb, struct conn *c)
{
	if (c->open) {
		c->open = 0;
		atomic_fetch_sub(&lb->open_now, 1);
	}
}

static void
steps_clear(struct conn *c)
{
	for (int i = 0; i < c->nsteps; i++)
		free(c->steps[i].data);
	c->nsteps = c->cur = 0;
	c->off = 0;
}

static void
step_add(struct conn *c, int64_t at, char *data, size_t len)
{
	if (c->nsteps == MAX_STEPS)
		abort();
	c->steps[c->nsteps].at = at;
	c->steps[c->nsteps].data = data;
	c->steps[c->nsteps].len = len;
	c->nsteps++;
}

static void
step_str(struct conn *c, int64_t at, char *s)
{
	step_add(c, at, s, strlen(s));
}

static void
respond(struct conn *c, int64_t at, int status, const char *extra, const char *body, size_t len)
{
	char *head = xasprintf("HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n%s"
	                       "Content-Length: %zu\r\n\r\n",
	                       status, extra, len);
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, head);
	buf_add(&b, body, len);
	free(head);
	size_t n = b.len;
	step_add(c, at, buf_steal(&b), n);
	buf_free(&b);
}

static char *
chunk(const char *s, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "%zx\r\n", len);
	buf_add(&b, s, len);
	buf_adds(&b, "\r\n");
	char *out = buf_steal(&b);
	buf_free(&b);
	return out;
}

static const char CHUNKED_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n";

/* Plans the answer to the request in c->in (head_len bytes of head, then the body). */
static void
route(struct lb *lb, struct conn *c, size_t req_len)
{
	int64_t t = now_ms();
	char path[64] = "";
	sscanf(c->in.data, "%*s %63s", path);
	c->state = C_WRITE;
	if (strcmp(path, "/ok") == 0) {
		respond(c, t, 200, "", "hello", 5);
	} else if (strcmp(path, "/echo") == 0) {
		respond(c, t, 200, "", c->in.data, req_len);
	} else if (strcmp(path, "/429s") == 0) {
		respond(c, t, 429, "Retry-After: 2\r\n", "slow down", 9);
	} else if (strcmp(path, "/429ms") == 0) {
		respond(c, t, 429, "retry-after-ms: 150\r\n", "slow down", 9);
	} else if (strcmp(path, "/429both") == 0) {
		respond(c, t, 429, "Retry-After: 7\r\nretry-after-ms: 150\r\n", "slow down", 9);
	} else if (strcmp(path, "/429date") == 0) {
		char date[64], extra[96];
		time_t when = time(NULL) + 60;
		struct tm tm;
		gmtime_r(&when, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		snprintf(extra, sizeof extra, "Retry-After: %s\r\n", date);
		respond(c, t, 429, extra, "slow down", 9);
	} else if (strcmp(path, "/500") == 0) {
		respond(c, t, 500, "", "oops", 4);
	} else if (strcmp(path, "/hang") == 0) {
		c->state = C_HANG;
	} else if (strcmp(path, "/trickle") == 0) {
		step_str(c, t, xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"));
		for (int i = 1; i < MAX_STEPS; i++)
			step_str(c, t + 50 * i, xstrdup("x"));
	} else if (strcmp(path, "/trunc") == 0) {
		step_str(c, t, xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"));
		c->close_after = 1;
	} else if (strcmp(path, "/chunkcut") == 0) {
		step_str(c, t, xstrdup(CHUNKED_HEAD));
		step_str(c, t, chunk("hello", 5));
		c->close_after = 1;
	} else if (strcmp(path, "/big") == 0) {
		char *body = xmalloc(100000);
		memset(body, 'x', 100000);
		respond(c, t, 200, "", body, 100000);
		free(body);
	} else if (strcmp(path, "/bigchunked") == 0) {
		char *piece = xmalloc(10000);
		memset(piece, 'x', 10000);
		step_str(c, t, xstrdup(CHUNKED_HEAD));
		for (int i = 0; i < 10; i++)
			step_str(c, t, chunk(piece, 10000));
		step_str(c, t, xstrdup("0\r\n\r\n"));
		free(piece);
	} else if (strcmp(path, "/stream") == 0) {
		static const char *const pieces[] = {"alpha ", "beta ", "gamma ", "delta"};
		step_str(c, t, xstrdup(CHUNKED_HEAD));
		for (int i = 0; i < 4; i++)
			step_str(c, t + 30 * i, chunk(pieces[i], strlen(pieces[i])));
		step_str(c, t + 90, xstrdup("0\r\n\r\n"));
	} else if (strcmp(path, "/slow") == 0 || strcmp(path, "/slowjson") == 0) {
		int json = strcmp(path, "/slowjson") == 0;
		const char *body = json ? "{\"found\":true,\"slow\":true}" : "slow";
		size_t len = strlen(body);
		if (lb->gate > 0 && !lb->gate_open) {
			if (lb->gate_until == 0)
				lb->gate_until = t + 5000;
			respond(c, INT64_MAX, 200, "", body, len);
			if (atomic_load(&lb->open_now) >= lb->gate)
				gate_open(lb, t);
		} else {
			respond(c, t + lb->hold_ms, 200, "", body, len);
		}
	} else {
		respond(c, t, 404, "", "not found", 9);
	}
}

/* Whether c->in holds a whole request; sets its length. */
static int
request_complete(struct conn *c, size_t *len)
{
	char *end = strstr(c->in.data, "\r\n\r\n");
	if (end == NULL)
		return 0;
	size_t head = (size_t)(end - c->in.data) + 4;
	size_t body = 0;
	for (char *p = c->in.data; p < end; p++) {
		if (p[0] == '\n' && strncasecmp(p + 1, "Content-Length:", 15) == 0) {
			body = strtoul(p + 16, NULL, 10);
			break;
		}
	}
	if (c->in.len < head + body)
		return 0;
	*len = head + body;
	return 1;
}

static void
conn_close(struct lb *lb, size_t i)
{
	struct conn *c = lb->c[i];
	open_dec(lb, c);
	close(c->fd);
	steps_clear(c);
	buf_free(&c->in);
	free(c);
	lb->c[i] = lb->c[--lb->n];
}

/* Reads what is there; returns -1 when the connection is done for. */
static int
conn_read(struct lb *lb, struct conn *c)
{
	char tmp[16384];
	ssize_t r = read(c->fd, tmp, sizeof tmp);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r < 0)
		return 0;
	buf_add(&c->in, tmp, (size_t)r);
	size_t len;
	if (c->state == C_READ && request_complete(c, &len)) {
		atomic_fetch_add(&lb->requests, 1);
		open_inc(lb, c);
		route(lb, c, len);
		memmove(c->in.data, c->in.data + len, c->in.len - len + 1);
		c->in.len -= len;
	}
	return 0;
}

/* Sends what is due; returns -1 when the connection is done for. */
static int
conn_write(struct lb *lb, struct conn *c, int64_t now)
{
	while (c->cur < c->nsteps && c->steps[c->cur].at <= now) {
		struct step *s = &c->steps[c->cur];
		ssize_t w = send(c->fd, s->data + c->off, s->len - c->off, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->off += (size_t)w;
		if (c->off < s->len)
			return 0;
		c->cur++;
		c->off = 0;
	}
	if (c->cur < c->nsteps)
		return 0;
	/* Answered in full. */
	open_dec(lb, c);
	steps_clear(c);
	if (c->close_after)
		return -1;
	c->state = C_READ;
	size_t len;
	if (request_complete(c, &len)) { /* pipelined; not expected from curl */
		atomic_fetch_add(&lb->requests, 1);
		open_inc(lb, c);
		route(lb, c, len);
		memmove(c->in.data, c->in.data + len, c->in.len - len + 1);
		c->in.len -= len;
	}
	return 0;
}

void
lb_serve(struct lb *lb)
{
	struct pollfd *pfd = NULL;
	size_t cap = 0;
	for (;;) {
		if (cap < lb->n + 2) {
			cap = (lb->n + 2) * 2;
			pfd = xreallocarray(pfd, cap, sizeof *pfd);
		}
		int64_t now = now_ms();
		long wait = -1;
		if (lb->gate_until != 0 && !lb->gate_open) {
			if (now >= lb->gate_until)
				gate_open(lb, now);
			else
				wait = (long)(lb->gate_until - now);
		}
		pfd[0] = (struct pollfd){.fd = lb->stop[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = lb->fd, .events = POLLIN};
		for (size_t i = 0; i < lb->n; i++) {
			struct conn *c = lb->c[i];
			pfd[i + 2] = (struct pollfd){.fd = c->fd, .events = POLLIN};
			if (c->state == C_WRITE && c->cur < c->nsteps) {
				int64_t due = c->steps[c->cur].at - now;
				if (due <= 0)
					pfd[i + 2].events |= POLLOUT;
				else if (wait < 0 || due < wait)
					wait = (long)due;
			}
		}
		size_t n = lb->n;
		if (poll(pfd, n + 2, (int)wait) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents & POLLIN) {
			for (;;) {
				int fd = accept4(lb->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				atomic_fetch_add(&lb->accepted, 1);
				struct conn *c = xcalloc(1, sizeof *c);
				c->fd = fd;
				buf_init(&c->in, 0);
				if (lb->n == lb->cap) {
					lb->cap = lb->cap ? lb->cap * 2 : 64;
					lb->c = xreallocarray(lb->c, lb->cap, sizeof *lb->c);
				}
				lb->c[lb->n++] = c;
			}
		}
		/* Backwards: conn_close moves the last connection into the hole. */
		now = now_ms();
		for (size_t i = n; i-- > 0;) {
			struct conn *c = lb->c[i];
			int bad = 0;
			if (pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR))
				bad = conn_read(lb, c) < 0;
			if (!bad && c->state == C_WRITE)
				bad = conn_write(lb, c, now) < 0;
			if (bad)
				conn_close(lb, i);
		}
	}
	free(pfd);
}

static void *
serve_thread(void *arg)
{
	lb_serve(arg);
	return NULL;
}

int
lb_start(struct lb *lb)
{
	if (pthread_create(&lb->thread, NULL, serve_thread, lb) != 0)
		return -1;
	lb->threaded = 1;
	return 0;
}

void
lb_free(struct lb *lb)
{
	if (lb == NULL)
		return;
	if (lb->threaded) {
		if (write(lb->stop[1], "x", 1) != 1)
			abort();
		pthread_join(lb->thread, NULL);
	}
	while (lb->n > 0)
		conn_close(lb, lb->n - 1);
	free(lb->c);
	close(lb->fd);
	close(lb->stop[0]);
	close(lb->stop[1]);
	free(lb);
}
