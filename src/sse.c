/* sse.c -- a text/event-stream reader (the WHATWG rules: event and data fields, comments). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sse.h"

void
sse_init(struct sse *p, size_t data_max, sse_event_fn fn, void *arg)
{
	buf_init(&p->line, 0);
	buf_init(&p->data, data_max);
	p->event[0] = '\0';
	p->fn = fn;
	p->arg = arg;
}

/* One line of the stream (without its end). */
static void
sse_line(struct sse *p, const char *line)
{
	if (*line == '\0') {
		if (p->data.len > 0)
			p->fn(p->arg, p->event, p->data.data);
		buf_reset(&p->data);
		p->event[0] = '\0';
		return;
	}
	if (*line == ':')
		return;
	const char *colon = strchr(line, ':');
	size_t n = colon ? (size_t)(colon - line) : strlen(line);
	const char *v = colon ? colon + 1 : "";
	if (*v == ' ')
		v++;
	if (n == 5 && strncmp(line, "event", 5) == 0)
		snprintf(p->event, sizeof p->event, "%s", v);
	else if (n == 4 && strncmp(line, "data", 4) == 0) {
		if (p->data.len > 0)
			buf_addc(&p->data, '\n');
		buf_adds(&p->data, v);
	}
	/* id and retry: the callers keep their own */
}

void
sse_feed(struct sse *p, const char *data, size_t len)
{
	buf_add(&p->line, data, len);
	char *start = p->line.data, *nl;
	while ((nl = memchr(start, '\n', p->line.len - (size_t)(start - p->line.data))) != NULL) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		sse_line(p, start);
		start = nl + 1;
	}
	size_t rest = p->line.len - (size_t)(start - p->line.data);
	memmove(p->line.data, start, rest);
	p->line.len = rest;
	p->line.data[rest] = '\0';
}

void
sse_reset(struct sse *p)
{
	buf_reset(&p->line);
	buf_reset(&p->data);
	p->event[0] = '\0';
}

void
sse_close(struct sse *p)
{
	buf_free(&p->line);
	buf_free(&p->data);
}
