/*
 * jsonl.h -- JSON Lines read with one set of rules.
 *
 * Every file of JSON objects frontline reads (tickets for replay, drift and
 * triage training, review exports, db import) goes through here, so a line
 * means the same everywhere:
 *
 *  - at most JSONL_LINE_MAX bytes; a longer line is never held whole (it is
 *    skipped as it streams by, and its message says the limit);
 *  - valid UTF-8, no NUL (neither a raw byte nor a \u0000 escape: strings
 *    are C strings inside, so either would cut the text short);
 *  - one JSON object and nothing after it but spaces; numbers finite;
 *  - no key twice in any object (which one would count?).
 *
 * Blank lines are skipped; a line may end in "\r\n". A bad line is
 * reported as "NAME:LINE: cause" and reading goes on past it, so a caller
 * can skip it (replay) or refuse the whole file (import).
 */
#ifndef FL_JSONL_H
#define FL_JSONL_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "util.h"

#define JSONL_LINE_MAX ((size_t)8 << 20) /* 8 MiB, without the newline */

struct jsonl_ids;

struct jsonl {
	FILE *f;          /* read, not owned */
	const char *name; /* the file in messages, borrowed */
	long lineno;      /* of the line last read */
	size_t max;       /* longest line accepted (JSONL_LINE_MAX unless changed) */
	struct buf line;
	struct jsonl_ids *ids; /* jsonl_unique's, made on first use */
};

/* A reader of f; jsonl_free releases what it holds (not f). */
void jsonl_init(struct jsonl *, FILE *f, const char *name);
void jsonl_free(struct jsonl *);

/*
 * The next line that is not blank, without its line end: returns 1 with
 * *line (NUL-terminated; owned by the reader, valid until the next call)
 * and *len; 0 at the end of the file; -1 with *cause (caller frees) when
 * the line is longer than r->max (the reader is past it); -2 with *cause
 * on a read error. Causes start with "NAME:LINE: " (just "NAME: " for a
 * read error).
 */
int jsonl_read(struct jsonl *, const char **line, size_t *len, char **cause);

/*
 * The rules above on one line of len bytes. Returns the object (caller
 * frees), or NULL with *cause (caller frees; no file or line in it).
 */
cJSON *jsonl_parse(const char *line, size_t len, char **cause);

/* jsonl_read then jsonl_parse: 1 with *out (caller frees), 0, -1 or -2 as jsonl_read. */
int jsonl_next(struct jsonl *, cJSON **out, char **cause);

/*
 * Records id as seen on the current line. Returns 0 the first time, or
 * the line where it was first seen.
 */
long jsonl_unique(struct jsonl *, const char *id);

#endif
