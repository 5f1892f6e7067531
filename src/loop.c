/* loop.c -- the process's one event loop: poll(2) over file descriptors, and timers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

/*
 * Watches live in a dense array kept parallel to the pollfd array handed to
 * poll(2), so a turn costs one poll and one scan of its results; removal
 * swaps the last watch into the hole. An index by fd finds a watch in O(1).
 *
 * Every registration of an fd (from not watched to watched) gets a new
 * generation: readiness collected at the start of a dispatch is delivered
 * only to the registration it was reported for, so a callback that removes
 * another watch, or closes its fd and a new one reuses the number, never
 * sees stale events.
 *
 * Timers sit in a binary min-heap ordered by (due time, sequence), so equal
 * deadlines fire in the order they were added. Their storage is a slab of
 * slots with a free list; an id is the slot's generation and index, which
 * makes loop_timer_del O(log n) and makes stale ids harmless.
 *
 * Signals come through a self-pipe: the one handler writes the signal's
 * number, and the loop watches the read end like any other fd, so a
 * signal's callback runs between other callbacks, never inside the handler.
 */

struct watch {
	int fd;
	int events;
	loop_io_fn fn;
	void *arg;
	uint64_t gen;
};

struct ready {
	int fd;
	short revents;
	uint64_t gen;
};

struct timer {
	int64_t when;
	uint64_t seq;
	loop_timer_fn fn;
	void *arg;
	uint32_t gen;
	uint32_t heap;      /* position in the heap while live */
	uint32_t next_free; /* slot + 1 of the next free slot, 0 at the end */
	int live;
};

struct loop {
	struct watch *w;
	struct pollfd *pfd;
	size_t nw, capw;
	uint32_t *byfd; /* fd -> index + 1 into w, 0 when not watched */
	size_t nbyfd;
	uint64_t wgen;
	struct ready *ready;
	size_t capready;

	struct timer *t;
	size_t nt, capt;
	uint32_t free_slot; /* slot + 1, 0 when none */
	uint32_t *heap;
	size_t nheap, capheap;
	uint64_t seq;

	int64_t now;

	int sigpipe[2];        /* -1 until the first loop_signal */
	struct sig_entry *sig; /* by signal number, NSIG of them once made */
	int nsig;              /* how many have a callback */
};

struct sig_entry {
	loop_signal_fn fn;
	void *arg;
};

/* The handler gets no argument: where it writes, and for which loop. */
static volatile sig_atomic_t signal_wfd = -1;
static struct loop *signal_owner;

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns a new loop; loop_free() releases it. */
struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);
	l->now = mono_ms();
	l->sigpipe[0] = l->sigpipe[1] = -1;
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	for (int signo = 1; l->nsig > 0 && signo < NSIG; signo++)
		if (l->sig[signo].fn != NULL)
			loop_signal(l, signo, NULL, NULL);
	if (l->sigpipe[0] >= 0) {
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
	}
	free(l->sig);
	free(l->w);
	free(l->pfd);
	free(l->byfd);
	free(l->ready);
	free(l->t);
	free(l->heap);
	free(l);
}

int64_t
loop_now(struct loop *l)
{
	return l->now;
}

/* ------------------------------------------------------------- watches */

static short
poll_events(int events)
{
	return (short)(((events & LOOP_READ) ? POLLIN : 0) | ((events & LOOP_WRITE) ? POLLOUT : 0));
}

static void
watch_remove(struct loop *l, size_t i)
{
	l->byfd[l->w[i].fd] = 0;
	size_t last = l->nw - 1;
	if (i != last) {
		l->w[i] = l->w[last];
		l->pfd[i] = l->pfd[last];
		l->byfd[l->w[i].fd] = (uint32_t)(i + 1);
	}
	l->nw--;
}

int
loop_watch(struct loop *l, int fd, int events, loop_io_fn fn, void *arg)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	events &= LOOP_READ | LOOP_WRITE | LOOP_ERROR;
	size_t at = (size_t)fd < l->nbyfd ? l->byfd[fd] : 0;
	if (events == 0) {
		if (at != 0)
			watch_remove(l, at - 1);
		return 0;
	}
	if (fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (at == 0) {
		if ((size_t)fd >= l->nbyfd) {
			size_t n = l->nbyfd ? l->nbyfd : 64;
			while (n <= (size_t)fd)
				n *= 2;
			l->byfd = xreallocarray(l->byfd, n, sizeof *l->byfd);
			memset(l->byfd + l->nbyfd, 0, (n - l->nbyfd) * sizeof *l->byfd);
			l->nbyfd = n;
		}
		if (l->nw == l->capw) {
			l->capw = l->capw ? l->capw * 2 : 16;
			l->w = xreallocarray(l->w, l->capw, sizeof *l->w);
			l->pfd = xreallocarray(l->pfd, l->capw, sizeof *l->pfd);
		}
		at = ++l->nw;
		l->byfd[fd] = (uint32_t)at;
		l->w[at - 1].fd = fd;
		l->w[at - 1].gen = ++l->wgen;
		l->pfd[at - 1].fd = fd;
		l->pfd[at - 1].revents = 0;
	}
	struct watch *w = &l->w[at - 1];
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	l->pfd[at - 1].events = poll_events(events);
	return 0;
}

/* Runs the callbacks for what poll reported; returns how many ran. */
static int
watches_dispatch(struct loop *l)
{
	size_t n = 0;
	if (l->capready < l->nw) {
		l->capready = l->nw;
		l->ready = xreallocarray(l->ready, l->capready, sizeof *l->ready);
	}
	for (size_t i = 0; i < l->nw; i++) {
		if (l->pfd[i].revents == 0)
			continue;
		l->ready[n].fd = l->pfd[i].fd;
		l->ready[n].revents = l->pfd[i].revents;
		l->ready[n].gen = l->w[i].gen;
		n++;
	}

	int ran = 0;
	for (size_t k = 0; k < n; k++) {
		int fd = l->ready[k].fd;
		short re = l->ready[k].revents;
		size_t at = l->byfd[fd];
		if (at == 0 || l->w[at - 1].gen != l->ready[k].gen)
			continue; /* removed, or a new registration, since poll */
		struct watch w = l->w[at - 1];
		int ready = 0;
		if ((re & POLLIN) && (w.events & LOOP_READ))
			ready |= LOOP_READ;
		if ((re & POLLOUT) && (w.events & LOOP_WRITE))
			ready |= LOOP_WRITE;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ready |= LOOP_ERROR;
		/* A hang-up is also end of file for a reader. */
		if ((re & POLLHUP) && (w.events & LOOP_READ))
			ready |= LOOP_READ;
		if (ready == 0)
			continue;
		w.fn(l, fd, ready, w.arg);
		ran++;
		/*
		 * An fd that is not open would be reported on every turn:
		 * unless its owner did something about it, stop watching.
		 */
		if (re & POLLNVAL) {
			at = (size_t)fd < l->nbyfd ? l->byfd[fd] : 0;
			if (at != 0 && l->w[at - 1].gen == w.gen)
				watch_remove(l, at - 1);
		}
	}
	return ran;
}

/* -------------------------------------------------------------- timers */

static int
timer_before(const struct loop *l, uint32_t a, uint32_t b)
{
	const struct timer *x = &l->t[a], *y = &l->t[b];
	return x->when < y->when || (x->when == y->when && x->seq < y->seq);
}

static void
heap_set(struct loop *l, size_t i, uint32_t slot)
{
	l->heap[i] = slot;
	l->t[slot].heap = (uint32_t)i;
}

static void
heap_up(struct loop *l, size_t i)
{
	uint32_t slot = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(l, slot, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, slot);
}

static void
heap_down(struct loop *l, size_t i)
{
	uint32_t slot = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && timer_before(l, l->heap[c + 1], l->heap[c]))
			c++;
		if (!timer_before(l, l->heap[c], slot))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, slot);
}

static void
heap_remove(struct loop *l, size_t i)
{
	uint32_t last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_set(l, i, last);
	if (i > 0 && timer_before(l, last, l->heap[(i - 1) / 2]))
		heap_up(l, i);
	else
		heap_down(l, i);
}

/* Retires a slot: its id stops matching, and the slot can be reused. */
static void
slot_free(struct loop *l, uint32_t slot)
{
	struct timer *t = &l->t[slot];
	t->live = 0;
	t->fn = NULL;
	t->arg = NULL;
	t->gen++;
	if (t->gen == 0)
		t->gen = 1;
	t->next_free = l->free_slot;
	l->free_slot = slot + 1;
}

uint64_t
loop_timer_add(struct loop *l, long ms, loop_timer_fn fn, void *arg)
{
	uint32_t slot;
	if (l->free_slot != 0) {
		slot = l->free_slot - 1;
		l->free_slot = l->t[slot].next_free;
	} else {
		if (l->nt == l->capt) {
			l->capt = l->capt ? l->capt * 2 : 16;
			l->t = xreallocarray(l->t, l->capt, sizeof *l->t);
			l->heap = xreallocarray(l->heap, l->capt, sizeof *l->heap);
		}
		slot = (uint32_t)l->nt++;
		l->t[slot].gen = 1;
	}
	struct timer *t = &l->t[slot];
	t->when = l->now + (ms > 0 ? ms : 0);
	t->seq = l->seq++;
	t->fn = fn;
	t->arg = arg;
	t->live = 1;
	t->next_free = 0;
	l->heap[l->nheap++] = slot;
	heap_up(l, l->nheap - 1);
	return (uint64_t)t->gen << 32 | (uint64_t)(slot + 1);
}

void
loop_timer_del(struct loop *l, uint64_t id)
{
	uint64_t low = id & 0xffffffffu;
	if (low == 0 || low > l->nt)
		return;
	uint32_t slot = (uint32_t)(low - 1);
	struct timer *t = &l->t[slot];
	if (!t->live || t->gen != (uint32_t)(id >> 32))
		return;
	heap_remove(l, t->heap);
	slot_free(l, slot);
}

/*
 * Fires the timers due now. Timers added by these callbacks wait for the
 * next turn, even with 0 ms: a timer that re-arms itself cannot starve I/O.
 */
static int
timers_dispatch(struct loop *l)
{
	uint64_t limit = l->seq;
	int ran = 0;
	while (l->nheap > 0) {
		uint32_t slot = l->heap[0];
		struct timer *t = &l->t[slot];
		if (t->when > l->now || t->seq >= limit)
			break;
		loop_timer_fn fn = t->fn;
		void *arg = t->arg;
		heap_remove(l, 0);
		slot_free(l, slot);
		fn(l, arg);
		ran++;
	}
	return ran;
}

/* ------------------------------------------------------------- signals */

static void
signal_handler(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	if (write(signal_wfd, &b, 1) < 0) {
		/* A full pipe: the loop has many signals to read already. */
	}
	errno = saved;
}

static void
signals_read(struct loop *l, int fd, int ready, void *arg)
{
	unsigned char b[64];
	ssize_t n;
	while ((n = read(fd, b, sizeof b)) > 0) {
		/* Looked up each time: a callback may drop or change the others. */
		for (ssize_t i = 0; i < n; i++)
			if (b[i] < NSIG && l->sig[b[i]].fn != NULL)
				l->sig[b[i]].fn(l, b[i], l->sig[b[i]].arg);
	}
}

/* Sets signo's action: the handler, or the default. */
static int
signal_set(int signo, int catch)
{
	struct sigaction sa = {0};
	sa.sa_handler = catch ? signal_handler : SIG_DFL;
	sa.sa_flags = catch ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	return sigaction(signo, &sa, NULL);
}

int
loop_signal(struct loop *l, int signo, loop_signal_fn fn, void *arg)
{
	if (signo <= 0 || signo >= NSIG || signo > UCHAR_MAX || signo == SIGKILL ||
	    signo == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	if (fn == NULL) {
		if (l->sig == NULL || l->sig[signo].fn == NULL)
			return 0;
		signal_set(signo, 0);
		l->sig[signo] = (struct sig_entry){0};
		if (--l->nsig == 0) {
			/* The pipe stays until loop_free (its reader may be running now), emptied.
			 */
			unsigned char b[64];
			while (read(l->sigpipe[0], b, sizeof b) > 0)
				;
			loop_watch(l, l->sigpipe[0], 0, NULL, NULL);
			signal_owner = NULL;
			signal_wfd = -1;
		}
		return 0;
	}
	if (signal_owner != NULL && signal_owner != l) {
		errno = EBUSY;
		return -1;
	}
	if (l->sigpipe[0] < 0 && pipe2(l->sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	if (l->sig == NULL)
		l->sig = xcalloc(NSIG, sizeof *l->sig);
	if (l->sig[signo].fn == NULL) {
		signal_wfd = l->sigpipe[1];
		signal_owner = l;
		if (signal_set(signo, 1) != 0) {
			if (l->nsig == 0) {
				signal_owner = NULL;
				signal_wfd = -1;
			}
			return -1;
		}
		if (l->nsig++ == 0)
			loop_watch(l, l->sigpipe[0], LOOP_READ, signals_read, NULL);
	}
	l->sig[signo] = (struct sig_entry){fn, arg};
	return 0;
}

/* ---------------------------------------------------------------- turns */

int
loop_once(struct loop *l, long max_wait_ms)
{
	l->now = mono_ms();
	long wait = max_wait_ms < 0 ? -1 : max_wait_ms;
	if (l->nheap > 0) {
		const struct timer *t = &l->t[l->heap[0]];
		int64_t due = t->when - l->now;
		if (due < 0)
			due = 0;
		if (wait < 0 || due < wait)
			wait = (long)due;
	}
	if (wait > INT_MAX)
		wait = INT_MAX;

	int rc = poll(l->pfd, (nfds_t)l->nw, (int)wait);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	l->now = mono_ms();
	int ran = rc > 0 ? watches_dispatch(l) : 0;
	return ran + timers_dispatch(l);
}

void
loop_run(struct loop *l, const volatile int *stop)
{
	while ((stop == NULL || *stop == 0) && (l->nw > 0 || l->nheap > 0)) {
		if (loop_once(l, -1) < 0)
			break; /* poll(2) itself failed: spinning would not help */
	}
}
