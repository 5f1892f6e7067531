/* util.h -- memory, strings, growable buffers, dates, errors. */
#ifndef FL_UTIL_H
#define FL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that cannot fail: on exhaustion they print and abort(). */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *, va_list);

/*
 * A growable byte buffer with an upper bound, for anything fed from
 * outside. data is always NUL-terminated. buf_free() releases it.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0 = unbounded */
};
void buf_init(struct buf *, size_t max);
void buf_free(struct buf *);
void buf_reset(struct buf *);
/* Returns 0, or -1 when the buffer would exceed its maximum (unchanged). */
int buf_add(struct buf *, const void *, size_t);
int buf_adds(struct buf *, const char *);
int buf_addc(struct buf *, char);
int buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
/*
 * Appends s as a JSON string literal: quotes, escapes, and invalid UTF-8
 * replaced by U+FFFD so the output is always valid JSON.
 */
int buf_json_str(struct buf *, const char *s);
/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Is s valid UTF-8 throughout (n bytes)? */
int utf8_valid(const char *s, size_t n);
/*
 * About how many nodes regcomp(3) makes of an extended regular expression.
 * glibc copies a repeated item once per repetition (twice for +, n times
 * for {m,n}), so repetitions of repetitions multiply: "a" and 20 "+" or
 * "((((a){1,30}){1,30}){1,30}){1,30}" take seconds to minutes and
 * gigabytes to compile. Patterns from files are refused above
 * REGEX_SIZE_MAX before they reach regcomp.
 */
double regex_size(const char *);
/*
 * How deeply repetitions nest: "a*" 1, "(a*)+" and "a*+" 2. glibc's
 * epsilon closures take exponential time in it, whatever the size: the
 * patterns of files are refused above REGEX_DEPTH_MAX.
 */
int regex_repetition_depth(const char *);
#define REGEX_DEPTH_MAX 4
#define REGEX_SIZE_MAX 20000
/* Hands the data to the caller (who frees it) and resets the buffer. */
char *buf_steal(struct buf *);

/* A growable array of owned strings. */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};
void strv_add(struct strv *, const char *); /* copies */
void strv_take(struct strv *, char *);      /* takes ownership */
int strv_contains(const struct strv *, const char *);
void strv_free(struct strv *);

/* Case-insensitive ASCII helpers. */
int str_casecontains(const char *hay, const char *needle);
/* Trims ASCII whitespace in place; returns s. */
char *str_trim(char *s);
/* Lower-case kebab slug of s; caller frees. */
char *str_slug(const char *s);
int str_endswith(const char *s, const char *suffix);

/*
 * Reads a whole file (at most max bytes, 0 = 64 MiB). Returns the
 * NUL-terminated content (caller frees) and its length, or NULL with
 * *cause set (caller frees) and errno kept.
 */
char *file_read(const char *path, size_t max, size_t *len, char **cause);
/*
 * Replaces path with len bytes of data atomically: a temporary file in the
 * same directory, given mode, synced, renamed over it. Readers see the old
 * file or the new one, never a part. Returns 0 or -1 with *cause (caller
 * frees).
 */
int file_write_atomic(const char *path, const void *data, size_t len, int mode, char **cause);

/* Dates as days since 1970-01-01 (UTC, proleptic Gregorian). */
/* Parses YYYY-MM-DD strictly; returns 0 or -1. */
int date_parse(const char *s, long *days);
/* Writes YYYY-MM-DD into out (11 bytes). */
void date_format(long days, char out[11]);
/*
 * Today: FRONTLINE_TODAY when set (must be YYYY-MM-DD, else -1 and
 * *cause), otherwise the system's UTC date.
 */
int date_today(long *days, char **cause);

/* SHA-256 of data as 64 lower-case hex digits plus NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

/* Stable 64-bit FNV-1a. */
uint64_t hash_fnv1a(const void *data, size_t len);

#endif
