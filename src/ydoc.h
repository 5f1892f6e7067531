/* ydoc.h -- YAML documents with positions, and schema tables to check them. */
#ifndef FL_YDOC_H
#define FL_YDOC_H

#include <yaml.h>

#include "diag.h"

/*
 * A loaded YAML document. file names the source in diagnostics and
 * line_offset is added to every line (for front matter inside a file).
 */
struct ydoc {
	yaml_document_t doc;
	int loaded;
	const char *file;
	int line_offset;
};

/*
 * Limits on what a YAML file may build, checked before the document is
 * loaded so that loading stays linear in the file's size: collections
 * nested at most YDOC_MAX_DEPTH deep, at most YDOC_MAX_ANCHORS anchors,
 * and at most YDOC_MAX_NODES nodes once aliases are expanded (a "billion
 * laughs" file is refused, not walked).
 */
#define YDOC_MAX_DEPTH   64
#define YDOC_MAX_ANCHORS 256
#define YDOC_MAX_NODES   1000000

/*
 * Parses text as one YAML document. Returns 0, or -1 with the error added
 * to d at its line and column: a syntax error, a limit above exceeded, or
 * a second document ("---" after the first). The document must be
 * released with ydoc_free().
 */
int ydoc_load(struct ydoc *, const char *file, const char *text, size_t len, int line_offset,
              struct diag *d);
void ydoc_free(struct ydoc *);

/*
 * Reads a YAML file of at most max bytes. Returns its text (caller frees)
 * and length, or NULL with an error added to d: the system's reason, or
 * for a larger file the limit it exceeds.
 */
char *ydoc_read(const char *path, size_t max, size_t *len, struct diag *d);

yaml_node_t *ydoc_root(struct ydoc *);
/* Value node of key in a mapping node, or NULL. */
yaml_node_t *ydoc_get(struct ydoc *, yaml_node_t *map, const char *key);
/* Scalar text of a node ("" when not a scalar). Owned by the document. */
const char *ydoc_str(yaml_node_t *);
/* Pairs of a mapping or items of a sequence; 0 for anything else. */
size_t ydoc_count(yaml_node_t *);
int ydoc_line(struct ydoc *, yaml_node_t *);
int ydoc_col(yaml_node_t *);

/* Schema: what a node may hold. */
enum ytype {
	Y_MAP,    /* fixed keys: sub is a NULL-name-terminated array of keys */
	Y_DICT,   /* free keys: sub[0] describes every value */
	Y_LIST,   /* sequence: sub[0] describes every item */
	Y_STR,    /* any scalar */
	Y_INT,    /* integer in [min, max] */
	Y_NUM,    /* number in [min, max] */
	Y_BOOL,   /* true/false */
	Y_REGEX,  /* POSIX extended regular expression */
	Y_ENUM,   /* one of values[] */
	Y_ENUMS,  /* one of values[], or a sequence of them */
	Y_DATE,   /* YYYY-MM-DD */
	Y_EITHER, /* a scalar checked as sub[0], or a mapping or list checked as sub[1] */
};

struct ykey {
	const char *name;
	enum ytype type;
	const struct ykey *sub;
	const char *const *values;
	double min, max;
	int required;
};

/*
 * Checks node against schema, adding every problem to d: unknown and
 * duplicate keys, missing required keys, wrong types, out-of-range
 * values, bad regular expressions. where names the node in messages.
 */
void ydoc_check(struct ydoc *, yaml_node_t *node, const struct ykey *schema, const char *where,
                struct diag *d);

/* Scalar conversions; they return 0 or -1. */
int ydoc_int(yaml_node_t *, long *);
int ydoc_num(yaml_node_t *, double *);
int ydoc_bool(yaml_node_t *, int *);

/* The value of key in map converted, or dflt when the key is absent (or malformed). */
double ydoc_num_or(struct ydoc *, yaml_node_t *map, const char *key, double dflt);
long ydoc_int_or(struct ydoc *, yaml_node_t *map, const char *key, long dflt);
int ydoc_bool_or(struct ydoc *, yaml_node_t *map, const char *key, int dflt);
/* The scalar text of key in map, or NULL when absent. Owned by the document. */
const char *ydoc_str_or_null(struct ydoc *, yaml_node_t *map, const char *key);

/* Iterates the pairs of a mapping node (none when map is NULL or not a mapping). */
#define YDOC_FOR_PAIRS(y, map, pr)                                                                 \
	for (yaml_node_pair_t *pr = (map) && (map)->type == YAML_MAPPING_NODE                      \
	                                ? (map)->data.mapping.pairs.start                          \
	                                : NULL;                                                    \
	     pr != NULL && pr < (map)->data.mapping.pairs.top; pr++)

#endif
