/* diag.h -- collected diagnostics in file:line:col: form. */
#ifndef FL_DIAG_H
#define FL_DIAG_H

#include "util.h"

/*
 * A list of messages, each "file:line:col: message" (line and col
 * 1-based; 0 leaves them out). Errors and warnings are counted apart.
 * A message is one line made inert for a terminal (text_sanitize_line):
 * it may quote what a hostile file holds.
 */
struct diag {
	struct strv msgs;
	int errors;
	int warnings;
};

void diag_error(struct diag *, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void diag_warn(struct diag *, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* All messages joined by newlines; caller frees. */
char *diag_join(const struct diag *);
void diag_free(struct diag *);

#endif
