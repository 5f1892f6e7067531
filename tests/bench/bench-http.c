/*
 * bench-http.c -- many requests in flight at once through the event loop
 * and curl multi, against a loopback server that answers each after a delay.
 *
 *   bench-http [-n REQUESTS] [-d DELAY_MS] [-r ROUNDS]
 *
 * The server runs in a forked child, so the figures are the client's alone:
 * wall time next to the ideal (one delay: every request waits at once),
 * CPU time per request (getrusage) and the process's peak RSS. Round 1
 * opens its connections; later rounds reuse them.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"
#include "loopback-http.h"
#include "util.h"

struct tally {
	int done;
	int ok;
	int errors[HTTP_EOTHER + 1];
};

static void
on_done(const struct http_result *r, void *arg)
{
	struct tally *t = arg;
	t->done++;
	if (r->error == HTTP_OK && r->status == 200)
		t->ok++;
	t->errors[r->error]++;
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static double
cpu_ms(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1000.0 +
	       (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1000.0;
}

static void
die(const char *msg)
{
	fprintf(stderr, "bench-http: %s\n", msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	int n = 1000, delay = 300, rounds = 2, opt;
	while ((opt = getopt(argc, argv, "n:d:r:")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'd':
			delay = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			        "usage: bench-http [-n REQUESTS] [-d DELAY_MS] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (n < 1 || delay < 0 || rounds < 1)
		die("bad arguments");

	/* One socket per request on each side. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64)
		fprintf(stderr, "bench-http: warning: %lu file descriptors for %d requests\n",
		        (unsigned long)rl.rlim_cur, n);

	struct lb *lb = lb_new(delay);
	if (lb == NULL)
		die(strerror(errno));
	pid_t server = fork();
	if (server < 0)
		die(strerror(errno));
	if (server == 0) {
		lb_serve(lb);
		_exit(0);
	}

	struct loop *loop = loop_new();
	char *cause = NULL;
	struct http_client *c = http_client_new(loop, &cause);
	if (c == NULL)
		die(cause);
	char *url = xasprintf("http://127.0.0.1:%d/slow", lb_port(lb));

	printf("%d requests in flight at once, server answers each after %d ms (ideal wall time)\n",
	       n, delay);
	printf("| round | wall ms | over ideal | ok | errors | client CPU/request | peak RSS |\n");
	printf("|-------|---------|------------|----|--------|--------------------|----------|\n");
	for (int round = 1; round <= rounds; round++) {
		struct tally t = {0};
		struct rusage r0, r1;
		getrusage(RUSAGE_SELF, &r0);
		double t0 = now_ms();
		for (int i = 0; i < n; i++) {
			struct http_request req = {.url = url, .total_timeout_ms = 60000};
			if (http_start(c, &req, on_done, &t, &cause) == 0)
				die(cause);
		}
		while (t.done < n)
			if (loop_once(loop, -1) < 0)
				die("poll failed");
		double wall = now_ms() - t0;
		getrusage(RUSAGE_SELF, &r1);
		int errs = n - t.ok;
		printf("| %5d | %7.0f | %+9.0f%% | %d | %d | %15.1f us | %5ld MiB |\n", round, wall,
		       (wall / delay - 1) * 100, t.ok, errs,
		       (cpu_ms(&r1) - cpu_ms(&r0)) * 1000.0 / n, r1.ru_maxrss / 1024);
		for (int e = 1; e <= HTTP_EOTHER; e++)
			if (t.errors[e] != 0)
				printf("  %s: %d\n", http_error_name((enum http_error)e),
				       t.errors[e]);
	}

	http_client_free(c);
	loop_free(loop);
	free(url);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	lb_free(lb);
	return 0;
}
