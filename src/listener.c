/* listener.c -- the console's side of the customer socket: accepts customers on the event loop. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "util.h"

/*
 * A client's life: connected (reading and writing), then closing: no more
 * lines or hooks; what is queued is written, then our side is shut down
 * and what the peer still sends is read and dropped until it closes too,
 * so the last error reaches it even over TCP (closing a socket with unread
 * input resets the connection, and a reset can destroy what the peer has
 * not read yet). A closing client is freed when the peer is done, or
 * LINGER_MS after client_close at the latest.
 *
 * Only three places free a client: its own I/O callback as the last thing
 * it does, its timer, and listener_close. Everything a hook can call
 * (client_close, client_send) only marks and schedules, so no hook ever
 * pulls a client out from under the code that called it.
 */

#define LINGER_MS       2000 /* a closing client's queue gets this long to drain */
#define ACCEPT_PAUSE_MS 200  /* out of descriptors: accepting waits this long */
#define READ_CHUNK      16384
#define READS_PER_TURN  4 /* then other clients get their turn */

struct client {
	struct listener *l;
	struct client *prev, *next;
	int fd;
	struct buf in;  /* the unfinished line */
	struct buf out; /* queued output; out_off bytes of it are sent */
	size_t out_off;
	int greeted; /* the hello hook accepted it: gone is due */
	int closing; /* no more lines; freed once the output is out and the peer is done */
	int shut;    /* closing, all written, our side shut down */
	int ended;   /* gone was called (or was never due) */
	uint64_t timer;
	char *customer;
	void *data;
};

struct listener {
	struct loop *loop;
	struct listener_hooks hooks;
	char *path;
	dev_t dev; /* the socket file we made, not one put in its place */
	ino_t ino;
	int ufd, tfd;
	int tcp_port;
	struct client *clients;
	size_t nclients; /* not closing */
	unsigned guests;
	uint64_t pause_timer;
};

static void client_io(struct loop *, int fd, int ready, void *arg);

/* ------------------------------------------------------------ clients */

/* Calls gone once, for a client the hello hook accepted. */
static void
client_end(struct client *c)
{
	if (c->ended)
		return;
	c->ended = 1;
	if (c->greeted && c->l->hooks.gone != NULL)
		c->l->hooks.gone(c->l->hooks.arg, c);
}

static void
client_free(struct client *c)
{
	struct listener *l = c->l;
	if (!c->closing)
		l->nclients--;
	loop_watch(l->loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	loop_timer_del(l->loop, c->timer);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->customer);
	free(c);
}

/* What the client's socket should be polled for now. */
static void
client_rewatch(struct client *c)
{
	int pending = c->out_off < c->out.len;
	int ev = c->closing ? (pending   ? LOOP_WRITE
	                       : c->shut ? LOOP_READ
	                                 : 0)
	                    : LOOP_READ | (pending ? LOOP_WRITE : 0);
	loop_watch(c->l->loop, c->fd, ev, client_io, c);
}

/* A closing client with nothing left to write: our side is done. */
static void
client_shut(struct client *c)
{
	if (c->shut || c->out_off < c->out.len)
		return;
	shutdown(c->fd, SHUT_WR);
	c->shut = 1;
}

/* Writes what the socket takes now. Returns 0, or -1 when the connection failed. */
static int
client_flush(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		c->out_off = 0;
		/* A burst made the queue big: give the memory back. */
		if (c->out.cap > 65536) {
			buf_free(&c->out);
			buf_init(&c->out, LISTENER_MAX_QUEUE);
		} else
			buf_reset(&c->out);
	}
	return 0;
}

/* The client's timer: gone if not yet called, then freed. */
static void
client_reap(struct loop *loop, void *arg)
{
	struct client *c = arg;
	c->timer = 0;
	client_end(c);
	client_free(c);
}

void
client_close(struct client *c, const char *why)
{
	if (c->closing)
		return;
	if (why != NULL) {
		cJSON *e = cp_new_error(why);
		client_send(c, e);
		cJSON_Delete(e);
		if (c->closing) /* the error did not fit: dropped */
			return;
	}
	c->closing = 1;
	c->l->nclients--;
	client_end(c);
	client_shut(c);
	client_rewatch(c);
	c->timer = loop_timer_add(c->l->loop, LINGER_MS, client_reap, c);
}

/* The client's queue overflowed: it goes on a later turn, gone with it. */
static void
client_overflow(struct client *c)
{
	c->closing = 1;
	c->l->nclients--;
	buf_reset(&c->out);
	c->out_off = 0;
	shutdown(c->fd, SHUT_RDWR);
	loop_watch(c->l->loop, c->fd, 0, NULL, NULL);
	c->timer = loop_timer_add(c->l->loop, 0, client_reap, c);
}

void
client_send(struct client *c, const cJSON *msg)
{
	if (c->closing)
		return;
	if (cp_encode(&c->out, msg) != 0) {
		/* Full, or only full of what was already sent. */
		if (c->out_off > 0) {
			memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
			c->out.len -= c->out_off;
			c->out.data[c->out.len] = '\0';
			c->out_off = 0;
		}
		if (cp_encode(&c->out, msg) != 0) {
			client_overflow(c);
			return;
		}
	}
	client_rewatch(c);
}

void
client_set_data(struct client *c, void *data)
{
	c->data = data;
}

void *
client_data(const struct client *c)
{
	return c->data;
}

const char *
client_customer(const struct client *c)
{
	return c->greeted ? c->customer : NULL;
}

static void
send_error(struct client *c, const char *message)
{
	cJSON *e = cp_new_error(message);
	client_send(c, e);
	cJSON_Delete(e);
}

static void
on_hello(struct client *c, const struct cp_msg *m)
{
	struct listener *l = c->l;
	struct customer_hello h = {
	    .customer_id = m->customer,
	    .name = m->name,
	    .tier = m->tier,
	    .tier_given = m->tier_given,
	};
	if (h.customer_id == NULL) {
		/* Unique across restarts too: the store keeps guests' conversations. */
		c->customer = xasprintf("guest-%lld-%ld-%u", (long long)time(NULL), (long)getpid(),
		                        ++l->guests);
		h.guest = 1;
	} else
		c->customer = xstrdup(h.customer_id);
	h.customer_id = c->customer;
	char *cause = NULL;
	int rc = l->hooks.hello != NULL ? l->hooks.hello(l->hooks.arg, c, &h, &cause) : 0;
	if (rc != 0) {
		client_close(c, cause != NULL ? cause : "the console refused the hello");
		free(cause);
		free(c->customer);
		c->customer = NULL;
	} else if (!c->closing)
		c->greeted = 1;
}

/* One line from the client; returns nonzero when the client is closing. */
static int
on_line(void *arg, const char *line, size_t len)
{
	struct client *c = arg;
	struct listener *l = c->l;
	struct cp_msg m;
	char *cause = NULL;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len) /* blank lines are ignored, as a person at nc(1) may send them */
		return 0;
	if (cp_decode(line, len, CP_TO_CONSOLE, &m, &cause) != 0) {
		send_error(c, cause);
		free(cause);
		return c->closing;
	}
	switch (m.type) {
	case CP_HELLO:
		if (c->greeted) {
			cause = xasprintf("hello: already introduced as %s", c->customer);
			send_error(c, cause);
			free(cause);
		} else
			on_hello(c, &m);
		break;
	case CP_SAY:
		if (!c->greeted)
			send_error(c, "say: introduce yourself with a hello first");
		else if (l->hooks.say != NULL)
			l->hooks.say(l->hooks.arg, c, m.text);
		break;
	case CP_RATE:
		if (!c->greeted)
			send_error(c, "rate: introduce yourself with a hello first");
		else if (l->hooks.rate != NULL)
			l->hooks.rate(l->hooks.arg, c, m.score, m.text);
		break;
	case CP_BYE:
		client_close(c, NULL);
		break;
	default:
		break; /* a type of a later version, or one for customers */
	}
	cp_msg_free(&m);
	return c->closing;
}

/* Reads what is there, a few chunks at most; may free c. */
static void
client_read(struct client *c)
{
	char chunk[READ_CHUNK];
	for (int i = 0; i < READS_PER_TURN; i++) {
		ssize_t n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n > 0) {
			int rc = cp_lines_feed(&c->in, chunk, (size_t)n, on_line, c);
			if (rc < 0) {
				char why[64];
				snprintf(why, sizeof why, "line longer than %d bytes", CP_MAX_LINE);
				client_close(c, why);
			}
			if (c->closing)
				return;
			if ((size_t)n < sizeof chunk)
				break;
			continue;
		}
		if (n == 0) {
			/* The peer is done sending; it may still read what is queued. */
			client_close(c, NULL);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		c->closing = 1; /* reset: nothing more can be written either */
		c->l->nclients--;
		client_end(c);
		client_free(c);
		return;
	}
	/* A long line made the buffer big: give the memory back. */
	if (c->in.len == 0 && c->in.cap > READ_CHUNK) {
		buf_free(&c->in);
		buf_init(&c->in, 0);
	}
}

/* A closing client: writes what is queued, then reads and drops until the peer is done. */
static void
client_io_closing(struct client *c, int ready)
{
	if ((ready & LOOP_WRITE) && client_flush(c) != 0)
		goto done;
	client_shut(c);
	if (c->shut && (ready & (LOOP_READ | LOOP_ERROR))) {
		char chunk[READ_CHUNK];
		for (int i = 0; i < READS_PER_TURN; i++) {
			ssize_t n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
			if (n == 0 ||
			    (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
				goto done;
			if (n < 0 && errno != EINTR)
				break;
		}
	} else if (!c->shut && (ready & LOOP_ERROR) && !(ready & LOOP_WRITE))
		goto done; /* cannot be written to any more */
	client_rewatch(c);
	return;
done:
	client_end(c);
	client_free(c);
}

static void
client_io(struct loop *loop, int fd, int ready, void *arg)
{
	struct client *c = arg;
	if (c->closing) {
		client_io_closing(c, ready);
		return;
	}
	if ((ready & LOOP_WRITE) && client_flush(c) != 0) {
		c->closing = 1; /* the connection failed */
		c->l->nclients--;
		client_end(c);
		client_free(c);
		return;
	}
	client_rewatch(c);
	if (ready & (LOOP_READ | LOOP_ERROR))
		client_read(c); /* last: it may free c */
}

static void
client_new(struct listener *l, int fd)
{
	struct client *c = xcalloc(1, sizeof *c);
	c->l = l;
	c->fd = fd;
	buf_init(&c->in, 0);
	buf_init(&c->out, LISTENER_MAX_QUEUE);
	c->next = l->clients;
	if (l->clients != NULL)
		l->clients->prev = c;
	l->clients = c;
	l->nclients++;
	if (l->nclients > LISTENER_MAX_CLIENTS) {
		client_close(c, "too many customers are connected; try again later");
		return;
	}
	client_rewatch(c);
}

/* ------------------------------------------------------------ listening */

static void accept_io(struct loop *, int fd, int ready, void *arg);

static void
listen_watch(struct listener *l, int on)
{
	if (l->ufd >= 0)
		loop_watch(l->loop, l->ufd, on ? LOOP_READ : 0, accept_io, l);
	if (l->tfd >= 0)
		loop_watch(l->loop, l->tfd, on ? LOOP_READ : 0, accept_io, l);
}

static void
accept_resume(struct loop *loop, void *arg)
{
	struct listener *l = arg;
	l->pause_timer = 0;
	listen_watch(l, 1);
}

static void
accept_io(struct loop *loop, int fd, int ready, void *arg)
{
	struct listener *l = arg;
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			client_new(l, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* The connection waits in the backlog; polling now would spin. */
			listen_watch(l, 0);
			l->pause_timer = loop_timer_add(l->loop, ACCEPT_PAUSE_MS, accept_resume, l);
		}
		return;
	}
}

/*
 * Is a console listening on the socket at sa? 1 yes, 0 no (refused: the
 * file is stale), -1 with *cause when that cannot be told.
 */
static int
socket_live(const struct sockaddr_un *sa, char **cause)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) /* EAGAIN: its backlog is full */
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	*cause = xasprintf("cannot check the socket %s: %s", sa->sun_path, strerror(e));
	return -1;
}

static int
unix_listen(struct listener *l, const char *path, char **cause)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	if (*path == '\0' || strlen(path) >= sizeof sa.sun_path) {
		*cause = xasprintf("the socket path %s is %s (at most %zu bytes)", path,
		                   *path ? "too long" : "empty", sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*cause = xasprintf("%s exists and is not a socket", path);
			return -1;
		}
		switch (socket_live(&sa, cause)) {
		case 1:
			*cause = xasprintf("another console is listening on %s", path);
			return -1;
		case -1:
			return -1;
		}
		/* Left by a console that is gone. */
		if (unlink(path) != 0 && errno != ENOENT) {
			*cause = xasprintf("cannot remove the stale socket %s: %s", path,
			                   strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	l->ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->ufd < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(l->ufd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		*cause = errno == EADDRINUSE
		             ? xasprintf("another console is listening on %s", path)
		             : xasprintf("cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	/* From here on the file is ours to remove. */
	l->path = xstrdup(path);
	if (stat(path, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	/* Only this user may connect (connecting needs write permission). */
	if (chmod(path, 0600) != 0 || listen(l->ufd, 128) != 0) {
		*cause = xasprintf("cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
tcp_listen(struct listener *l, int port, char **cause)
{
	if (port > 65535 || port < -1) {
		*cause = xasprintf("the TCP port must be 1 to 65535, not %d", port);
		return -1;
	}
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)(port < 0 ? 0 : port));
	int one = 1;
	l->tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->tfd < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	socklen_t len = sizeof sin;
	if (setsockopt(l->tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(l->tfd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(l->tfd, 128) != 0 ||
	    getsockname(l->tfd, (struct sockaddr *)&sin, &len) != 0) {
		*cause = xasprintf("cannot listen on 127.0.0.1:%d: %s", port < 0 ? 0 : port,
		                   strerror(errno));
		return -1;
	}
	l->tcp_port = ntohs(sin.sin_port);
	return 0;
}

struct listener *
listener_open(struct loop *loop, const char *unix_path, int tcp_port,
              const struct listener_hooks *hooks, char **cause)
{
	if (unix_path == NULL && tcp_port == 0) {
		*cause = xstrdup("nothing to listen on: no socket path and no TCP port");
		return NULL;
	}
	struct listener *l = xcalloc(1, sizeof *l);
	l->loop = loop;
	l->hooks = *hooks;
	l->ufd = l->tfd = -1;
	if ((unix_path != NULL && unix_listen(l, unix_path, cause) != 0) ||
	    (tcp_port != 0 && tcp_listen(l, tcp_port, cause) != 0)) {
		listener_close(l);
		return NULL;
	}
	listen_watch(l, 1);
	return l;
}

void
listener_close(struct listener *l)
{
	if (l == NULL)
		return;
	while (l->clients != NULL) {
		struct client *c = l->clients;
		if (!c->closing) {
			c->closing = 1;
			l->nclients--;
		}
		client_end(c);
		client_flush(c); /* what the socket does not take now is lost */
		client_free(c);
	}
	listen_watch(l, 0);
	loop_timer_del(l->loop, l->pause_timer);
	if (l->ufd >= 0)
		close(l->ufd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->path != NULL) {
		/* Only our own socket: never one another console put there since. */
		struct stat st;
		if (lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
			unlink(l->path);
		free(l->path);
	}
	free(l);
}

const char *
listener_path(const struct listener *l)
{
	return l->path;
}

int
listener_tcp_port(const struct listener *l)
{
	return l->tcp_port;
}

size_t
listener_clients(const struct listener *l)
{
	return l->nclients;
}
