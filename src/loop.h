/* loop.h -- the process's one event loop: poll(2) over file descriptors, and timers. */
#ifndef FL_LOOP_H
#define FL_LOOP_H

#include <stdint.h>

/*
 * One loop per process (the console, chat, replay and the benches each run
 * one). Everything is called from the loop's thread; callbacks may add and
 * remove watches and timers, including their own.
 */
struct loop;

enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_ERROR = 4 };

typedef void (*loop_io_fn)(struct loop *, int fd, int ready, void *arg);
typedef void (*loop_timer_fn)(struct loop *, void *arg);
typedef void (*loop_signal_fn)(struct loop *, int signo, void *arg);

struct loop *loop_new(void);
/* Frees the loop; watches and timers still registered are dropped without a call. */
void loop_free(struct loop *);

/*
 * Watches fd for events (LOOP_READ | LOOP_WRITE); fn gets what is ready
 * (LOOP_ERROR for POLLERR/POLLHUP/POLLNVAL). Watching an fd again replaces
 * its events, callback and argument; events 0 stops watching. Returns 0 or -1.
 * A hang-up also reports LOOP_READ to a reader (read(2) will see the end).
 * An fd found not open (POLLNVAL) is unwatched after its callback, unless
 * the callback watched it anew. Events collected in a turn go only to the
 * registration they were collected for: an fd unwatched and watched again
 * by a callback waits for the next poll.
 */
int loop_watch(struct loop *, int fd, int events, loop_io_fn fn, void *arg);

/* Calls fn once after ms milliseconds (0: on the next turn). Returns an id, never 0. */
uint64_t loop_timer_add(struct loop *, long ms, loop_timer_fn fn, void *arg);
/* Cancels a timer that has not fired; unknown or fired ids are ignored. */
void loop_timer_del(struct loop *, uint64_t id);

/*
 * Calls fn on the loop, as any other callback, each time signo arrives
 * (never inside the signal handler: fn may do anything a callback may).
 * Calling again replaces fn and arg; fn NULL gives signo its default
 * action back. One handler and one self-pipe serve every signal of the
 * process, so only one loop at a time takes signals (another gets -1,
 * EBUSY). The handler restarts interrupted system calls (SA_RESTART).
 * loop_free gives the loop's signals their default action back. Returns
 * 0, or -1 with errno (EINVAL for a signal that cannot be caught).
 */
int loop_signal(struct loop *, int signo, loop_signal_fn fn, void *arg);

/* Monotonic milliseconds (CLOCK_MONOTONIC), cached per turn of the loop. */
int64_t loop_now(struct loop *);

/*
 * One turn: waits at most max_wait_ms (-1: until something happens; capped
 * by the next timer) and runs what is ready. Returns the number of callbacks
 * run, or -1 when poll failed (EINTR is not a failure: returns 0).
 */
int loop_once(struct loop *, long max_wait_ms);

/*
 * Runs turns until *stop is nonzero (stop may be NULL), or until nothing is
 * watched and no timer is pending, or poll(2) fails (not EINTR).
 */
void loop_run(struct loop *, const volatile int *stop);

#endif
