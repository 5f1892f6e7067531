/* progress.h -- how far a long command is: a bar on a terminal, or JSON lines for a program. */
#ifndef FL_PROGRESS_H
#define FL_PROGRESS_H

#include <stdio.h>
#include <time.h>

struct progress {
	enum { PROGRESS_NONE, PROGRESS_BAR, PROGRESS_JSON } kind;
	const char *what; /* the bar's title: "replay" */
	const char *unit; /* "tickets"; NULL: the bar shows a percentage */
	long total;       /* units to do; -1 when unknown */
	long step;        /* JSON: report every step units */
	struct timespec last;
};

/*
 * Shows done of p->total on standard error, bad of them bad: a bar redrawn
 * at most ten times a second (and when finished, which ends its line), or
 * a {"done","total","bad"} line every p->step units. Nothing for
 * PROGRESS_NONE.
 */
void progress_show(struct progress *, long done, long bad, int finished);

/* What to print before a message on standard error so it does not run into the bar. */
const char *progress_clear(const struct progress *);

/*
 * A stream over f, for reading or writing as mode says ("r" or "w"), that
 * shows p's progress as lines go through it: done is the non-blank lines
 * so far. Closing it shows the end and flushes f, but leaves f open.
 * NULL when it cannot be made.
 */
FILE *progress_stream(FILE *f, const char *mode, struct progress *p);

/* Non-blank lines in the file, or -1 when it cannot be read twice. */
long progress_count_lines(const char *path);

#endif
