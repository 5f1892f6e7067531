/* progress.c -- how far a long command is: a bar on a terminal, or JSON lines for a program. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "progress.h"

void
progress_show(struct progress *p, long done, long bad, int finished)
{
	if (p->kind == PROGRESS_JSON) {
		if (!finished && (p->step <= 0 || done % p->step != 0))
			return;
		if (p->total >= 0)
			fprintf(stderr, "{\"done\":%ld,\"total\":%ld,\"bad\":%ld%s}\n", done,
			        p->total, bad, finished ? ",\"finished\":true" : "");
		else
			fprintf(stderr, "{\"done\":%ld,\"total\":null,\"bad\":%ld%s}\n", done, bad,
			        finished ? ",\"finished\":true" : "");
		fflush(stderr);
		return;
	}
	if (p->kind != PROGRESS_BAR)
		return;
	/* A terminal is redrawn ten times a second at most. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;
	if (!finished && done > 1 && ms < 100)
		return;
	p->last = now;
	if (p->total > 0) {
		int width = 30, fill = (int)(done * width / p->total);
		fprintf(stderr, "\r%s [%.*s%*s] ", p->what, fill, "##############################",
		        width - fill, "");
		if (p->unit != NULL)
			fprintf(stderr, "%ld/%ld %s", done, p->total, p->unit);
		else
			fprintf(stderr, "%ld%%", done * 100 / p->total);
	} else
		fprintf(stderr, "\r%s %ld %s", p->what, done, p->unit ? p->unit : "");
	if (bad > 0)
		fprintf(stderr, ", %ld bad", bad);
	fputs(finished ? "\n" : "\033[K", stderr);
	fflush(stderr);
}

const char *
progress_clear(const struct progress *p)
{
	return p->kind == PROGRESS_BAR ? "\r\033[K" : "";
}

/* A stream that counts the lines through it. */
struct counting {
	FILE *f;
	struct progress *p;
	long done;
	int text; /* the line so far is not blank */
};

/* Every line is shown: JSON progress reports each step-th one. */
static void
count(struct counting *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && c->text) {
			c->text = 0;
			progress_show(c->p, ++c->done, 0, 0);
		} else if (s[i] != '\n' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			c->text = 1;
	}
}

static ssize_t
counting_read(void *cookie, char *buf, size_t size)
{
	struct counting *c = cookie;
	size_t n = fread(buf, 1, size, c->f);
	if (n == 0 && ferror(c->f))
		return -1;
	count(c, buf, n);
	return (ssize_t)n;
}

static ssize_t
counting_write(void *cookie, const char *buf, size_t size)
{
	struct counting *c = cookie;
	size_t n = fwrite(buf, 1, size, c->f);
	count(c, buf, n);
	return n == 0 && size > 0 ? -1 : (ssize_t)n;
}

static int
counting_close(void *cookie)
{
	struct counting *c = cookie;
	progress_show(c->p, c->done + c->text, 0, 1);
	int rc = fflush(c->f) == 0 ? 0 : EOF;
	free(c);
	return rc;
}

FILE *
progress_stream(FILE *f, const char *mode, struct progress *p)
{
	struct counting *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->f = f;
	c->p = p;
	cookie_io_functions_t io = {
	    .read = *mode == 'r' ? counting_read : NULL,
	    .write = *mode == 'w' ? counting_write : NULL,
	    .close = counting_close,
	};
	FILE *s = fopencookie(c, mode, io);
	if (s == NULL)
		free(c);
	return s;
}

long
progress_count_lines(const char *path)
{
	/* In chunks: a line may be huge, and a reader refuses it without holding it whole. */
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char chunk[65536];
	size_t n;
	long count = 0;
	int text = 0; /* the line so far is not blank */
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		for (size_t i = 0; i < n; i++) {
			if (chunk[i] == '\n') {
				count += text;
				text = 0;
			} else if (chunk[i] != ' ' && chunk[i] != '\t' && chunk[i] != '\r')
				text = 1;
		}
	fclose(f);
	return count + text;
}
