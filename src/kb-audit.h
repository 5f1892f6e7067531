/* kb-audit.h -- knowledge base health: what an operator must fix. */
#ifndef FL_KB_AUDIT_H
#define FL_KB_AUDIT_H

#include "kb.h"

enum audit_kind {
	AUDIT_INVALID,   /* a file that could not be read as facts */
	AUDIT_CONTROL,   /* a control character or bidi control in a fact */
	AUDIT_DUPLICATE, /* the same id twice */
	AUDIT_CONFLICT,  /* two facts on one topic stating different figures */
	AUDIT_STALE,     /* old and volatile */
	AUDIT_MISSING,   /* a fact without product, version or volatile */
	AUDIT__N
};
extern const char *const audit_kind_names[];

struct audit_finding {
	enum audit_kind kind;
	char *message; /* "file:line: ..." */
};

struct kb_audit {
	size_t nfacts;
	size_t nfiles_bad;
	size_t counts[AUDIT__N];
	struct audit_finding *v;
	size_t n, cap;
};

/*
 * Audits every fact file under dir. Returns 0 (findings in out, free
 * with kb_audit_free) or -1 with *cause when dir cannot be read.
 */
int kb_audit_run(const char *dir, const struct kb_freshness *, struct kb_audit *out, char **cause);
void kb_audit_free(struct kb_audit *);

/*
 * A figure a fact states: "3-5 business day", "$25", "30 day". Used to
 * find facts that contradict each other.
 */
struct kb_quantity {
	char value[32];
	char unit[48];
	struct strv context; /* content words around it */
};
/* Extracts the figures in text; caller frees each with kb_quantity_free. */
size_t kb_quantities(const char *text, struct kb_quantity **out);
void kb_quantities_free(struct kb_quantity *, size_t);

#endif
