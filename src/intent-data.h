/*
 * intent-data.h -- labelled examples for the intent model: TSV, ticket
 * JSON Lines and trainers' review exports, read by `frontline triage
 * train` and `frontline triage eval`.
 */
#ifndef FL_INTENT_DATA_H
#define FL_INTENT_DATA_H

#include <stddef.h>

#include "diag.h"
#include "types.h"

/* The intent model's classes: the six categories, then "not a support request". */
#define INTENT_OUT_OF_SCOPE CAT__N
#define INTENT__N           (CAT__N + 1)
extern const char *const intent_labels[]; /* INTENT__N names, then NULL */

/* What a file held, by its first non-blank line. */
enum intent_format { INTENT_EMPTY, INTENT_TSV, INTENT_TICKETS, INTENT_REVIEWS };
extern const char *const intent_format_names[]; /* "empty", "TSV", "tickets", "review export" */

struct intent_example {
	int label;  /* an index into intent_labels */
	char *text; /* owned */
};

struct intent_data {
	struct intent_example *v;
	size_t n, cap;
	long bad;        /* lines skipped as bad */
	long unlabelled; /* tickets without labels.intent_category, skipped */
};

/*
 * Appends the examples of the file at path ("-": standard input). The
 * format is told by the first non-blank line: a line starting with "{"
 * makes a file of tickets (DESIGN.md section 5, each line read by
 * ticket_parse like replay's; a review export when that first ticket has
 * a "review" object), anything else TSV lines of LABEL<TAB>TEXT, LABEL one
 * of intent_labels.
 * A ticket gives its first customer message (every customer message with
 * all_messages) labelled with labels.intent_category; a ticket of a review
 * export (it has a "review" object: frontline handoff review --export)
 * gives the message whose triage the trainer reviewed, the last customer
 * message before the first human one. A ticket without a category label
 * is counted in unlabelled and skipped. A bad line, an unknown category
 * included, goes to d as "FILE:LINE: cause" and is counted and skipped.
 * *format (may be NULL) gets the format. Returns 0, or -1 with *cause
 * (caller frees; errno kept) when the file cannot be read.
 */
int intent_data_read(struct intent_data *, const char *path, int all_messages,
                     enum intent_format *format, struct diag *d, char **cause);
void intent_data_add(struct intent_data *, int label, const char *text);
void intent_data_free(struct intent_data *);

#endif
