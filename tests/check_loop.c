/* check_loop.c -- the event loop: timers, watches, and changes made from inside callbacks. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "testutil.h"

/* ------------------------------------------------------------ timers */

struct order {
	int seen[2048];
	int n;
};

struct tag {
	struct order *o;
	int id;
};

static void
record(struct loop *l, void *arg)
{
	struct tag *t = arg;
	ck_assert_int_lt(t->o->n, (int)nitems(t->o->seen));
	t->o->seen[t->o->n++] = t->id;
}

START_TEST(timers_fire_in_order)
{
	struct loop *l = loop_new();
	struct order o = {0};
	/* Equal deadlines fire in the order they were added. */
	static const long ms[] = {30, 10, 20, 0, 10, 0};
	static const int want[] = {3, 5, 1, 4, 2, 0};
	struct tag tags[nitems(ms)];
	for (size_t i = 0; i < nitems(ms); i++) {
		tags[i] = (struct tag){&o, (int)i};
		ck_assert_uint_ne(loop_timer_add(l, ms[i], record, &tags[i]), 0);
	}
	loop_run(l, NULL);
	ck_assert_int_eq(o.n, (int)nitems(want));
	for (size_t i = 0; i < nitems(want); i++)
		ck_assert_int_eq(o.seen[i], want[i]);
	loop_free(l);
}
END_TEST

START_TEST(timer_deletion)
{
	struct loop *l = loop_new();
	struct order o = {0};
	struct tag a = {&o, 1}, b = {&o, 2}, c = {&o, 3};
	uint64_t ia = loop_timer_add(l, 5, record, &a);
	uint64_t ib = loop_timer_add(l, 5, record, &b);
	uint64_t ic = loop_timer_add(l, 0, record, &c);
	ck_assert_uint_ne(ia, ib);
	loop_timer_del(l, ia);
	loop_timer_del(l, ia);     /* twice: ignored */
	loop_timer_del(l, 0);      /* never an id */
	loop_timer_del(l, 999999); /* unknown */
	loop_run(l, NULL);
	ck_assert_int_eq(o.n, 2);
	ck_assert_int_eq(o.seen[0], 3);
	ck_assert_int_eq(o.seen[1], 2);

	/* A fired id is stale, even once its slot is reused. */
	uint64_t id = loop_timer_add(l, 0, record, &a);
	ck_assert_uint_ne(id, ic);
	loop_timer_del(l, ic);
	loop_timer_del(l, ib);
	loop_run(l, NULL);
	ck_assert_int_eq(o.n, 3);
	ck_assert_int_eq(o.seen[2], 1);
	loop_free(l);
}
END_TEST

struct killer {
	struct order *o;
	uint64_t victim;
	struct loop *l;
};

static void
kill_other(struct loop *l, void *arg)
{
	struct killer *k = arg;
	k->o->seen[k->o->n++] = 100;
	loop_timer_del(l, k->victim);
}

START_TEST(timer_deleted_by_earlier_timer)
{
	struct loop *l = loop_new();
	struct order o = {0};
	struct tag v = {&o, 7};
	struct killer k = {&o, 0, l};
	/* Both due on the same turn; the first one deletes the second. */
	loop_timer_add(l, 0, kill_other, &k);
	k.victim = loop_timer_add(l, 0, record, &v);
	loop_run(l, NULL);
	ck_assert_int_eq(o.n, 1);
	ck_assert_int_eq(o.seen[0], 100);
	loop_free(l);
}
END_TEST

struct chain {
	int fired;
	int turn_of_second;
};

static void
second(struct loop *l, void *arg)
{
	struct chain *c = arg;
	c->fired++;
}

static void
first_adds_second(struct loop *l, void *arg)
{
	struct chain *c = arg;
	c->fired++;
	loop_timer_add(l, 0, second, c);
}

START_TEST(zero_timer_added_by_timer_waits_a_turn)
{
	struct loop *l = loop_new();
	struct chain c = {0};
	loop_timer_add(l, 0, first_adds_second, &c);
	ck_assert_int_eq(loop_once(l, 0), 1);
	ck_assert_int_eq(c.fired, 1);
	ck_assert_int_eq(loop_once(l, 0), 1);
	ck_assert_int_eq(c.fired, 2);
	ck_assert_int_eq(loop_once(l, 0), 0);
	loop_free(l);
}
END_TEST

START_TEST(many_timers_heap_order)
{
	struct loop *l = loop_new();
	struct order o = {0};
	enum { N = 2000 };
	static struct tag tags[N];
	static long ms[N];
	static uint64_t ids[N];
	static int deleted[N];
	uint32_t r = 12345;
	for (int i = 0; i < N; i++) {
		r = r * 1103515245u + 12345u;
		ms[i] = (long)((r >> 16) % 40);
		tags[i] = (struct tag){&o, i};
		ids[i] = loop_timer_add(l, ms[i], record, &tags[i]);
	}
	int left = N;
	for (int i = 0; i < N; i += 3) {
		loop_timer_del(l, ids[i]);
		deleted[i] = 1;
		left--;
	}
	loop_run(l, NULL);
	ck_assert_int_eq(o.n, left);
	for (int i = 0; i < o.n; i++) {
		ck_assert(!deleted[o.seen[i]]);
		if (i > 0) {
			int a = o.seen[i - 1], b = o.seen[i];
			/* All were added on the same turn: by deadline, then by order added. */
			ck_assert(ms[a] < ms[b] || (ms[a] == ms[b] && a < b));
		}
	}
	loop_free(l);
}
END_TEST

/* ----------------------------------------------------------- watches */

static void
pipe_with(int p[2], const char *data)
{
	ck_assert_int_eq(pipe(p), 0);
	if (data != NULL)
		ck_assert_int_eq(write(p[1], data, strlen(data)), (int)strlen(data));
}

struct pair {
	int fd[2]; /* read ends */
	int original_runs;
	int replaced_runs;
	int removed_runs;
	int last_ready;
};

static void
replaced(struct loop *l, int fd, int ready, void *arg)
{
	struct pair *p = arg;
	p->replaced_runs++;
	loop_watch(l, fd, 0, NULL, NULL);
}

static void
replace_other(struct loop *l, int fd, int ready, void *arg)
{
	struct pair *p = arg;
	p->original_runs++;
	int other = fd == p->fd[0] ? p->fd[1] : p->fd[0];
	ck_assert_int_eq(loop_watch(l, other, LOOP_READ, replaced, p), 0);
	loop_watch(l, fd, 0, NULL, NULL);
}

START_TEST(watch_replaced_from_callback)
{
	/*
	 * Both fds are ready on the same turn. Whichever runs first replaces
	 * the other's callback: the replacement runs instead of the original.
	 */
	struct loop *l = loop_new();
	struct pair p = {0};
	int a[2], b[2];
	pipe_with(a, "x");
	pipe_with(b, "y");
	p.fd[0] = a[0];
	p.fd[1] = b[0];
	ck_assert_int_eq(loop_watch(l, a[0], LOOP_READ, replace_other, &p), 0);
	ck_assert_int_eq(loop_watch(l, b[0], LOOP_READ, replace_other, &p), 0);
	loop_run(l, NULL);
	ck_assert_int_eq(p.original_runs, 1);
	ck_assert_int_eq(p.replaced_runs, 1);
	loop_free(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}
END_TEST

static void
remove_both(struct loop *l, int fd, int ready, void *arg)
{
	struct pair *p = arg;
	p->removed_runs++;
	loop_watch(l, p->fd[0], 0, NULL, NULL);
	loop_watch(l, p->fd[1], 0, NULL, NULL);
}

START_TEST(watch_removed_from_callback)
{
	struct loop *l = loop_new();
	struct pair p = {0};
	int a[2], b[2];
	pipe_with(a, "x");
	pipe_with(b, "y");
	p.fd[0] = a[0];
	p.fd[1] = b[0];
	loop_watch(l, a[0], LOOP_READ, remove_both, &p);
	loop_watch(l, b[0], LOOP_READ, remove_both, &p);
	loop_run(l, NULL); /* returns: nothing is watched any more */
	ck_assert_int_eq(p.removed_runs, 1);
	loop_free(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}
END_TEST

struct rewatch {
	int fd;
	int first, second;
};

static void
rewatch_second(struct loop *l, int fd, int ready, void *arg)
{
	struct rewatch *r = arg;
	char c;
	r->second++;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	loop_watch(l, fd, 0, NULL, NULL);
}

static void
rewatch_first(struct loop *l, int fd, int ready, void *arg)
{
	struct rewatch *r = arg;
	r->first++;
	/* Replaces itself; the data is still unread, so the new one runs next turn. */
	loop_watch(l, fd, LOOP_READ, rewatch_second, r);
}

START_TEST(watch_replaces_itself)
{
	struct loop *l = loop_new();
	int p[2];
	pipe_with(p, "z");
	struct rewatch r = {p[0], 0, 0};
	loop_watch(l, p[0], LOOP_READ, rewatch_first, &r);
	ck_assert_int_eq(loop_once(l, 1000), 1);
	ck_assert_int_eq(r.first, 1);
	ck_assert_int_eq(r.second, 0);
	loop_run(l, NULL);
	ck_assert_int_eq(r.first, 1);
	ck_assert_int_eq(r.second, 1);
	loop_free(l);
	close(p[0]), close(p[1]);
}
END_TEST

struct stale {
	int a, b; /* read ends */
	int new_runs;
};

static void
stale_new(struct loop *l, int fd, int ready, void *arg)
{
	struct stale *s = arg;
	s->new_runs++;
	loop_watch(l, fd, 0, NULL, NULL);
}

static void
stale_a(struct loop *l, int fd, int ready, void *arg)
{
	struct stale *s = arg;
	int other = fd == s->a ? s->b : s->a;
	/* Unwatch the other and watch it again: a new registration, no old readiness. */
	loop_watch(l, other, 0, NULL, NULL);
	loop_watch(l, other, LOOP_READ, stale_new, s);
	loop_watch(l, fd, 0, NULL, NULL);
}

START_TEST(rewatched_fd_gets_no_stale_events)
{
	struct loop *l = loop_new();
	int a[2], b[2];
	pipe_with(a, "x");
	pipe_with(b, "y");
	struct stale s = {a[0], b[0], 0};
	loop_watch(l, a[0], LOOP_READ, stale_a, &s);
	loop_watch(l, b[0], LOOP_READ, stale_a, &s);
	ck_assert_int_eq(loop_once(l, 1000), 1); /* one ran; the other's events were dropped */
	ck_assert_int_eq(s.new_runs, 0);
	ck_assert_int_eq(loop_once(l, 1000), 1); /* the new registration, on a fresh poll */
	ck_assert_int_eq(s.new_runs, 1);
	loop_free(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}
END_TEST

static void
note_ready(struct loop *l, int fd, int ready, void *arg)
{
	struct pair *p = arg;
	p->last_ready = ready;
	p->original_runs++;
	loop_watch(l, fd, 0, NULL, NULL);
}

START_TEST(write_and_hangup)
{
	struct loop *l = loop_new();
	struct pair p = {0};
	int q[2];
	pipe_with(q, NULL);
	loop_watch(l, q[1], LOOP_WRITE, note_ready, &p);
	loop_run(l, NULL);
	ck_assert_int_eq(p.original_runs, 1);
	ck_assert_int_eq(p.last_ready, LOOP_WRITE);

	/* The writer goes away: the reader hears a hang-up (and end of file). */
	close(q[1]);
	loop_watch(l, q[0], LOOP_READ, note_ready, &p);
	loop_run(l, NULL);
	ck_assert_int_eq(p.original_runs, 2);
	ck_assert(p.last_ready & LOOP_ERROR);
	ck_assert(p.last_ready & LOOP_READ);
	close(q[0]);

	ck_assert_int_eq(loop_watch(l, -1, LOOP_READ, note_ready, &p), -1);
	ck_assert_int_eq(loop_watch(l, 0, LOOP_READ, NULL, &p), -1);
	loop_free(l);
}
END_TEST

struct many {
	int runs;
	int wrong;
	int *fds;
};

static void
many_cb(struct loop *l, int fd, int ready, void *arg)
{
	struct many *m = arg;
	char c;
	m->runs++;
	if (read(fd, &c, 1) != 1 || !(ready & LOOP_READ))
		m->wrong++;
	loop_watch(l, fd, 0, NULL, NULL);
}

START_TEST(hundreds_of_fds)
{
	enum { N = 400 };
	struct loop *l = loop_new();
	struct many m = {0};
	int p[N][2];
	for (int i = 0; i < N; i++) {
		/* Half are ready now; half become ready once the first half is done. */
		pipe_with(p[i], i % 2 == 0 ? "a" : NULL);
		ck_assert_int_eq(loop_watch(l, p[i][0], LOOP_READ, many_cb, &m), 0);
	}
	int ran = 0;
	while (m.runs < N / 2) {
		int n = loop_once(l, 1000);
		ck_assert_int_gt(n, 0);
		ran += n;
	}
	ck_assert_int_eq(m.runs, N / 2);
	for (int i = 1; i < N; i += 2)
		ck_assert_int_eq(write(p[i][1], "b", 1), 1);
	loop_run(l, NULL);
	ck_assert_int_eq(m.runs, N);
	ck_assert_int_eq(m.wrong, 0);
	for (int i = 0; i < N; i++)
		close(p[i][0]), close(p[i][1]);
	loop_free(l);
}
END_TEST

static void
set_stop(struct loop *l, void *arg)
{
	*(int *)arg = 1;
}

static void
never(struct loop *l, int fd, int ready, void *arg)
{
	ck_abort_msg("an fd nobody wrote to was reported ready");
}

START_TEST(run_stops_on_flag_and_when_empty)
{
	struct loop *l = loop_new();
	int p[2];
	pipe_with(p, NULL);
	/* A watch that never fires keeps the loop alive; the flag ends it. */
	int stop = 0;
	loop_watch(l, p[0], LOOP_READ, never, NULL);
	loop_timer_add(l, 10, set_stop, &stop);
	loop_run(l, &stop);
	ck_assert_int_eq(stop, 1);
	/* Nothing left: returns at once, as does a turn that may not wait. */
	loop_watch(l, p[0], 0, NULL, NULL);
	loop_run(l, NULL);
	ck_assert_int_eq(loop_once(l, 0), 0);
	int64_t t0 = loop_now(l);
	loop_once(l, 5);
	ck_assert(loop_now(l) >= t0);
	close(p[0]), close(p[1]);
	loop_free(l);
}
END_TEST

START_TEST(free_drops_what_is_registered)
{
	struct loop *l = loop_new();
	int p[2];
	pipe_with(p, "x");
	loop_watch(l, p[0], LOOP_READ, never, NULL);
	loop_timer_add(l, 0, set_stop, NULL);
	loop_free(l); /* no call: set_stop would crash on NULL */
	close(p[0]), close(p[1]);
}
END_TEST

/* ------------------------------------------------------------ signals */

struct heard {
	int signo[16];
	void *arg[16];
	int n;
};

static void
hear(struct loop *l, int signo, void *arg)
{
	struct heard *h = arg;
	ck_assert_int_lt(h->n, (int)nitems(h->signo));
	h->signo[h->n] = signo;
	h->arg[h->n] = arg;
	h->n++;
}

static void
hear_and_drop_usr2(struct loop *l, int signo, void *arg)
{
	hear(l, signo, arg);
	ck_assert_int_eq(loop_signal(l, SIGUSR2, NULL, NULL), 0);
}

static int
action_is_default(int signo)
{
	struct sigaction sa;
	ck_assert_int_eq(sigaction(signo, NULL, &sa), 0);
	return sa.sa_handler == SIG_DFL;
}

/* Turns the loop until n signals were heard, or a second went by. */
static void
turn_until(struct loop *l, const struct heard *h, int n)
{
	for (int i = 0; i < 100 && h->n < n; i++)
		loop_once(l, 10);
}

START_TEST(signal_runs_its_callback_on_the_loop)
{
	struct loop *l = loop_new();
	struct heard h = {0};
	ck_assert_int_eq(loop_signal(l, SIGUSR1, hear, &h), 0);
	raise(SIGUSR1);
	raise(SIGUSR1);
	/* The handler only wrote to the pipe: nothing ran yet. */
	ck_assert_int_eq(h.n, 0);
	turn_until(l, &h, 2);
	ck_assert_int_eq(h.n, 2);
	ck_assert_int_eq(h.signo[0], SIGUSR1);
	ck_assert_int_eq(h.signo[1], SIGUSR1);
	ck_assert_ptr_eq(h.arg[0], &h);
	/* Nothing more to hear: a turn that may not wait runs nothing. */
	ck_assert_int_eq(loop_once(l, 0), 0);
	loop_free(l);
}
END_TEST

static void
stop_on_signal(struct loop *l, int signo, void *arg)
{
	*(int *)arg = signo;
}

static void
raise_usr1(struct loop *l, void *arg)
{
	raise(SIGUSR1);
}

START_TEST(signal_stops_a_running_loop)
{
	struct loop *l = loop_new();
	int stop = 0;
	ck_assert_int_eq(loop_signal(l, SIGUSR1, stop_on_signal, &stop), 0);
	/* The pipe alone keeps loop_run waiting, as for any watched fd. */
	loop_timer_add(l, 10, raise_usr1, NULL);
	loop_run(l, &stop);
	ck_assert_int_eq(stop, SIGUSR1);
	loop_free(l);
}
END_TEST

START_TEST(signals_each_to_their_own_callback)
{
	struct loop *l = loop_new();
	struct heard a = {0}, b = {0}, c = {0};
	ck_assert_int_eq(loop_signal(l, SIGUSR1, hear, &a), 0);
	ck_assert_int_eq(loop_signal(l, SIGUSR2, hear, &b), 0);
	/* Registering again replaces the callback and its argument. */
	ck_assert_int_eq(loop_signal(l, SIGUSR1, hear, &c), 0);
	raise(SIGUSR2);
	raise(SIGUSR1);
	turn_until(l, &c, 1);
	turn_until(l, &b, 1);
	ck_assert_int_eq(a.n, 0);
	ck_assert_int_eq(b.n, 1);
	ck_assert_int_eq(b.signo[0], SIGUSR2);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.signo[0], SIGUSR1);
	loop_free(l);
}
END_TEST

START_TEST(signal_dropped_by_a_callback_is_not_called)
{
	struct loop *l = loop_new();
	struct heard h = {0};
	ck_assert_int_eq(loop_signal(l, SIGUSR1, hear_and_drop_usr2, &h), 0);
	ck_assert_int_eq(loop_signal(l, SIGUSR2, hear, &h), 0);
	/* Both are in the pipe when the loop reads it; the first drops the second. */
	raise(SIGUSR1);
	raise(SIGUSR2);
	turn_until(l, &h, 1);
	loop_once(l, 20);
	ck_assert_int_eq(h.n, 1);
	ck_assert_int_eq(h.signo[0], SIGUSR1);
	ck_assert(action_is_default(SIGUSR2));
	ck_assert(!action_is_default(SIGUSR1));
	loop_free(l);
}
END_TEST

START_TEST(signal_default_action_comes_back)
{
	struct loop *l = loop_new();
	struct heard h = {0};
	ck_assert(action_is_default(SIGUSR1));
	ck_assert_int_eq(loop_signal(l, SIGUSR1, hear, &h), 0);
	ck_assert_int_eq(loop_signal(l, SIGHUP, hear, &h), 0);
	ck_assert(!action_is_default(SIGUSR1));
	ck_assert_int_eq(loop_signal(l, SIGUSR1, NULL, NULL), 0);
	ck_assert(action_is_default(SIGUSR1));
	ck_assert(!action_is_default(SIGHUP));
	/* Dropping one that was never set is no error. */
	ck_assert_int_eq(loop_signal(l, SIGUSR2, NULL, NULL), 0);
	loop_free(l);
	ck_assert(action_is_default(SIGHUP));
}
END_TEST

START_TEST(signals_go_to_one_loop_at_a_time)
{
	struct loop *a = loop_new(), *b = loop_new();
	struct heard h = {0};
	ck_assert_int_eq(loop_signal(a, SIGUSR1, hear, &h), 0);
	errno = 0;
	ck_assert_int_eq(loop_signal(b, SIGUSR2, hear, &h), -1);
	ck_assert_int_eq(errno, EBUSY);
	/* Once a has none, b may take them; a's pending signals are not b's. */
	raise(SIGUSR1);
	ck_assert_int_eq(loop_signal(a, SIGUSR1, NULL, NULL), 0);
	ck_assert_int_eq(loop_signal(b, SIGUSR2, hear, &h), 0);
	raise(SIGUSR2);
	turn_until(b, &h, 1);
	loop_once(a, 0);
	ck_assert_int_eq(h.n, 1);
	ck_assert_int_eq(h.signo[0], SIGUSR2);
	loop_free(a);
	loop_free(b);
}
END_TEST

START_TEST(signal_that_cannot_be_caught_is_refused)
{
	struct loop *l = loop_new();
	struct heard h = {0};
	static const int bad[] = {0, -1, SIGKILL, SIGSTOP, NSIG, 300};
	for (size_t i = 0; i < nitems(bad); i++) {
		errno = 0;
		ck_assert_int_eq(loop_signal(l, bad[i], hear, &h), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	loop_free(l);
}
END_TEST

static Suite *
loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, timers_fire_in_order);
	tcase_add_test(tc, timer_deletion);
	tcase_add_test(tc, timer_deleted_by_earlier_timer);
	tcase_add_test(tc, zero_timer_added_by_timer_waits_a_turn);
	tcase_add_test(tc, many_timers_heap_order);
	tcase_add_test(tc, watch_replaced_from_callback);
	tcase_add_test(tc, watch_removed_from_callback);
	tcase_add_test(tc, watch_replaces_itself);
	tcase_add_test(tc, rewatched_fd_gets_no_stale_events);
	tcase_add_test(tc, write_and_hangup);
	tcase_add_test(tc, hundreds_of_fds);
	tcase_add_test(tc, run_stops_on_flag_and_when_empty);
	tcase_add_test(tc, free_drops_what_is_registered);
	suite_add_tcase(s, tc);
	tc = tcase_create("signals");
	tcase_add_test(tc, signal_runs_its_callback_on_the_loop);
	tcase_add_test(tc, signal_stops_a_running_loop);
	tcase_add_test(tc, signals_each_to_their_own_callback);
	tcase_add_test(tc, signal_dropped_by_a_callback_is_not_called);
	tcase_add_test(tc, signal_default_action_comes_back);
	tcase_add_test(tc, signals_go_to_one_loop_at_a_time);
	tcase_add_test(tc, signal_that_cannot_be_caught_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(loop_suite());
}
