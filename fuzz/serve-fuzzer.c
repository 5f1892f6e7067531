/*
 * serve-fuzzer.c -- frontline serve's request handling: the input is what
 * a client sends on one connection (request lines, headers, bodies, more
 * requests after them), handed to the running server over a socketpair
 * as though it came from 127.0.0.1. Routes, ids, the token, content types,
 * chunked bodies, JSON bodies and event streams all go through serve.c and
 * libmicrohttpd as they do for a real client; the store is a SQLite file
 * that keeps what earlier inputs stored.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "loop.h"
#include "serve.h"
#include "store.h"

#define TOKEN "fuzz-token-0123456789abcdef" /* the seeds and the dictionary send it */

static struct loop *loop;
static struct serve *sv;
static struct store *st;
/* in memory where there is a tmpfs: every stored message is a commit, each an fsync */
static char dir[64];

static void
teardown(void)
{
	serve_free(sv);
	store_close(st);
	loop_free(loop);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		/* a leftover temporary directory */
	}
	free(cmd);
}

static void
setup(void)
{
	static struct strv tokens;
	char *cause = NULL;
	snprintf(dir, sizeof dir, "%s/frontline-fuzz-XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	char *db = xasprintf("%s/fuzz.db", dir);
	st = store_open(db, &cause);
	free(db);
	if (st == NULL)
		abort();
	/* conversation 1, open, for the routes that take an id */
	int64_t conv;
	int created;
	if (store_customer_put(st, "C-1", "Dana", NULL, TIER_STANDARD, &cause) != 0 ||
	    store_conversation_open(st, "C-1", &conv, &created, &cause) != 0)
		abort();
	loop = loop_new();
	strv_add(&tokens, TOKEN);
	struct serve_config cfg;
	serve_config_defaults(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.tokens = &tokens;
	cfg.rate = 1e9;
	cfg.burst = 1e9;
	cfg.max_per_address = 100000;
	cfg.heartbeat_ms = 20; /* streams of inputs that are gone end soon */
	cfg.max_body = 16 * 1024;
	sv = serve_new(loop, st, &cfg, &cause);
	if (sv == NULL)
		abort();
	atexit(teardown);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sv == NULL)
		setup();
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0)
		abort();
	if (serve_add_connection(sv, sp[0]) != 0) {
		close(sp[1]);
		return 0;
	}
	/* all of it, then the end: serve answers what it can and closes */
	size_t off = 0;
	for (int i = 0; off < size && i < 1000; i++) {
		ssize_t n = send(sp[1], data + off, size - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
		loop_once(loop, 0);
	}
	shutdown(sp[1], SHUT_WR);
	/*
	 * Everything is local: a few turns answer it. An event stream stays
	 * open; it ends at the next heartbeat once its socket is closed.
	 */
	char sink[16384];
	for (int i = 0; i < 50; i++) {
		ssize_t n = recv(sp[1], sink, sizeof sink, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n < 0)
			loop_once(loop, 0);
	}
	close(sp[1]);
	for (int i = 0; i < 3; i++)
		loop_once(loop, 0);
	return 0;
}
