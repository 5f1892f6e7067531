/* sse.h -- a text/event-stream reader: bytes in as they arrive, whole events out. */
#ifndef FL_SSE_H
#define FL_SSE_H

#include <stddef.h>

#include "util.h"

/* An event: its name ("" when none was given) and its data lines joined by '\n'. */
typedef void (*sse_event_fn)(void *arg, const char *event, const char *data);

struct sse {
	struct buf line, data;
	char event[32];
	sse_event_fn fn;
	void *arg;
};

/* data_max bounds an event's data (0: unbounded); more is dropped with the event. */
void sse_init(struct sse *, size_t data_max, sse_event_fn fn, void *arg);
/* Takes a chunk of the stream: fn runs for each event it completes. */
void sse_feed(struct sse *, const char *data, size_t len);
/* Forgets a partial event (the stream ended; the next one starts afresh). */
void sse_reset(struct sse *);
void sse_close(struct sse *);

#endif
