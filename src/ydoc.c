/* ydoc.c -- YAML documents with positions, and schema tables to check them. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "safe-text.h"
#include "ydoc.h"

/* ------------------------------------------------------------ limits */

/*
 * libyaml's scanner does work in proportion to the flow nesting for every
 * token, and its loader looks every alias up among all the anchors: a
 * 200 KB file of brackets or anchors takes minutes. So the events are
 * walked once first, stopping at the first limit broken, before anything
 * deep or wide is built.
 */

struct open_node {
	size_t nodes;        /* nodes under it so far, itself included, aliases expanded */
	yaml_char_t *anchor; /* owned copy, or NULL */
};

struct anchor {
	yaml_char_t *name; /* owned */
	size_t nodes;
};

struct limits {
	struct ydoc *y;
	struct diag *d;
	struct open_node stack[YDOC_MAX_DEPTH];
	size_t depth;
	struct anchor anchors[YDOC_MAX_ANCHORS];
	size_t nanchors;
	int docs;
};

static int limit_error(struct limits *, const yaml_event_t *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
limit_error(struct limits *l, const yaml_event_t *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(l->d, l->y->file, (int)e->start_mark.line + 1 + l->y->line_offset,
	           (int)e->start_mark.column + 1, "%s", msg);
	free(msg);
	return -1;
}

static int
anchor_set(struct limits *l, const yaml_event_t *e, const yaml_char_t *name, size_t nodes)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < l->nanchors; i++)
		if (strcmp((const char *)l->anchors[i].name, (const char *)name) == 0) {
			l->anchors[i].nodes = nodes; /* a later anchor of that name wins */
			return 0;
		}
	if (l->nanchors == YDOC_MAX_ANCHORS)
		return limit_error(l, e, "more than %d anchors (&name) in one file",
		                   YDOC_MAX_ANCHORS);
	l->anchors[l->nanchors].name = (yaml_char_t *)xstrdup((const char *)name);
	l->anchors[l->nanchors++].nodes = nodes;
	return 0;
}

/* The nodes an alias stands for, or -1 with the error when it refers to a node it is in. */
static int
alias_nodes(struct limits *l, const yaml_event_t *e, size_t *nodes)
{
	const char *name = (const char *)e->data.alias.anchor;
	for (size_t i = 0; i < l->depth; i++)
		if (l->stack[i].anchor != NULL &&
		    strcmp((const char *)l->stack[i].anchor, name) == 0)
			return limit_error(l, e, "the alias *%s is inside the node it refers to",
			                   name);
	*nodes = 1; /* an undefined alias: the loader says so */
	for (size_t i = 0; i < l->nanchors; i++)
		if (strcmp((const char *)l->anchors[i].name, name) == 0)
			*nodes = l->anchors[i].nodes;
	return 0;
}

/* One event: 0 to go on, 1 at the end of the stream, -1 with the error. */
static int
limits_event(struct limits *l, const yaml_event_t *e)
{
	size_t nodes = 0;
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++l->docs > 1)
			return limit_error(l, e, "a second YAML document: a file holds one");
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		if (l->depth == YDOC_MAX_DEPTH)
			return limit_error(l, e, "nested deeper than %d levels", YDOC_MAX_DEPTH);
		const yaml_char_t *a = e->type == YAML_SEQUENCE_START_EVENT
		                           ? e->data.sequence_start.anchor
		                           : e->data.mapping_start.anchor;
		l->stack[l->depth++] = (struct open_node){
		    .nodes = 1, .anchor = a ? (yaml_char_t *)xstrdup((const char *)a) : NULL};
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		struct open_node *n = &l->stack[--l->depth];
		nodes = n->nodes;
		int rc = anchor_set(l, e, n->anchor, nodes);
		free(n->anchor);
		if (rc != 0)
			return -1;
		break;
	}
	case YAML_SCALAR_EVENT:
		nodes = 1;
		if (anchor_set(l, e, e->data.scalar.anchor, nodes) != 0)
			return -1;
		break;
	case YAML_ALIAS_EVENT:
		if (alias_nodes(l, e, &nodes) != 0)
			return -1;
		break;
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
	/* A complete node: its parent grows by what it expands to. */
	size_t total = nodes;
	if (l->depth > 0)
		total = l->stack[l->depth - 1].nodes += nodes;
	if (total > YDOC_MAX_NODES)
		return limit_error(l, e, "aliases expand the document past %d nodes",
		                   YDOC_MAX_NODES);
	return 0;
}

/* Checks the limits on text's events. Returns 0 (a syntax error is left to the loader) or -1. */
static int
limits_check(struct ydoc *y, const char *text, size_t len, struct diag *d)
{
	struct limits *l = xcalloc(1, sizeof *l);
	yaml_parser_t p;
	int rc = 0;
	l->y = y;
	l->d = d;
	if (!yaml_parser_initialize(&p)) {
		free(l);
		return 0;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (rc == 0) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e))
			break;
		rc = limits_event(l, &e);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	while (l->depth > 0)
		free(l->stack[--l->depth].anchor);
	for (size_t i = 0; i < l->nanchors; i++)
		free(l->anchors[i].name);
	free(l);
	return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------- documents */

int
ydoc_load(struct ydoc *y, const char *file, const char *text, size_t len, int line_offset,
          struct diag *d)
{
	yaml_parser_t p;
	memset(y, 0, sizeof *y);
	y->file = file;
	y->line_offset = line_offset;
	if (limits_check(y, text, len, d) != 0)
		return -1;
	if (!yaml_parser_initialize(&p)) {
		diag_error(d, file, 0, 0, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		int line = (int)p.problem_mark.line + 1 + line_offset;
		int col = (int)p.problem_mark.column + 1;
		if (p.context != NULL)
			diag_error(d, file, line, col, "YAML syntax error: %s %s", p.problem,
			           p.context);
		else
			diag_error(d, file, line, col, "YAML syntax error: %s",
			           p.problem ? p.problem : "unknown");
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_parser_delete(&p);
	y->loaded = 1;
	return 0;
}

char *
ydoc_read(const char *path, size_t max, size_t *len, struct diag *d)
{
	char *cause = NULL;
	char *text = file_read(path, max, len, &cause);
	if (text == NULL) {
		if (errno == EFBIG && max % (1u << 20) == 0)
			diag_error(d, path, 0, 0, "file too large: over the limit of %zu MiB",
			           max >> 20);
		else if (errno == EFBIG)
			diag_error(d, path, 0, 0, "file too large: over the limit of %zu bytes",
			           max);
		else
			diag_error(d, path, 0, 0, "%s", strerror(errno));
		free(cause);
	}
	return text;
}

void
ydoc_free(struct ydoc *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = 0;
}

yaml_node_t *
ydoc_root(struct ydoc *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *
ydoc_get(struct ydoc *y, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, pr->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE && strcmp(ydoc_str(k), key) == 0)
			return yaml_document_get_node(&y->doc, pr->value);
	}
	return NULL;
}

const char *
ydoc_str(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return "";
	return (const char *)n->data.scalar.value;
}

size_t
ydoc_count(yaml_node_t *n)
{
	if (n == NULL)
		return 0;
	if (n->type == YAML_MAPPING_NODE)
		return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (n->type == YAML_SEQUENCE_NODE)
		return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	return 0;
}

int
ydoc_line(struct ydoc *y, yaml_node_t *n)
{
	return (int)n->start_mark.line + 1 + y->line_offset;
}

int
ydoc_col(yaml_node_t *n)
{
	return (int)n->start_mark.column + 1;
}

int
ydoc_int(yaml_node_t *n, long *v)
{
	const char *s = ydoc_str(n);
	char *end;
	if (n == NULL || n->type != YAML_SCALAR_NODE || *s == '\0')
		return -1;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

int
ydoc_num(yaml_node_t *n, double *v)
{
	const char *s = ydoc_str(n);
	char *end;
	if (n == NULL || n->type != YAML_SCALAR_NODE || *s == '\0')
		return -1;
	errno = 0;
	double x = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(x))
		return -1;
	*v = x;
	return 0;
}

int
ydoc_bool(yaml_node_t *n, int *v)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "on", NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "off", NULL};
	const char *s = ydoc_str(n);
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return -1;
	for (int i = 0; yes[i] != NULL; i++)
		if (strcmp(s, yes[i]) == 0)
			return (*v = 1), 0;
	for (int i = 0; no[i] != NULL; i++)
		if (strcmp(s, no[i]) == 0)
			return (*v = 0), 0;
	return -1;
}

static const char *
type_name(enum ytype t)
{
	switch (t) {
	case Y_MAP:
	case Y_DICT:
		return "a mapping";
	case Y_LIST:
		return "a list";
	case Y_INT:
		return "an integer";
	case Y_NUM:
		return "a number";
	case Y_BOOL:
		return "true or false";
	case Y_REGEX:
		return "a regular expression";
	case Y_DATE:
		return "a date (YYYY-MM-DD)";
	case Y_EITHER:
	case Y_ENUM:
	case Y_ENUMS:
	case Y_STR:
		break;
	}
	return "a string";
}

static const char *
node_kind(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

static char *
values_list(const char *const *values)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; values[i] != NULL; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", values[i]);
	char *r = xstrdup(b.data);
	buf_free(&b);
	return r;
}

static void
check_enum(struct ydoc *y, yaml_node_t *n, const struct ykey *k, const char *where, struct diag *d)
{
	if (n->type != YAML_SCALAR_NODE) {
		diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n),
		           "%s: expected a string, got %s", where, node_kind(n));
		return;
	}
	for (int i = 0; k->values[i] != NULL; i++)
		if (strcmp(k->values[i], ydoc_str(n)) == 0)
			return;
	char *vl = values_list(k->values);
	diag_error(d, y->file, ydoc_line(y, n), ydoc_col(n), "%s: '%s' is not one of: %s", where,
	           ydoc_str(n), vl);
	free(vl);
}

static void
check_scalar(struct ydoc *y, yaml_node_t *n, const struct ykey *k, const char *where,
             struct diag *d)
{
	int line = ydoc_line(y, n), col = ydoc_col(n);
	const char *s = ydoc_str(n);
	long iv;
	double dv;
	int bv;

	/* Values reach screens and customers: no "\e" escape sequence, no reordering. */
	for (size_t i = 0, len = strlen(s); i < len;) {
		uint32_t cp;
		i += text_decode(s + i, len - i, &cp);
		const char *what = text_cp_suspect(cp);
		if (what != NULL) {
			diag_error(d, y->file, line, col, "%s: %s U+%04X in the value", where, what,
			           (unsigned)cp);
			return;
		}
	}
	switch (k->type) {
	case Y_STR:
		return;
	case Y_INT:
		if (ydoc_int(n, &iv) != 0) {
			diag_error(d, y->file, line, col, "%s: expected an integer, got '%s'",
			           where, s);
			return;
		}
		if ((k->min != 0 || k->max != 0) && (iv < k->min || iv > k->max))
			diag_error(d, y->file, line, col, "%s: %ld is out of range [%g, %g]", where,
			           iv, k->min, k->max);
		return;
	case Y_NUM:
		if (ydoc_num(n, &dv) != 0) {
			diag_error(d, y->file, line, col, "%s: expected a number, got '%s'", where,
			           s);
			return;
		}
		if ((k->min != 0 || k->max != 0) && (dv < k->min || dv > k->max))
			diag_error(d, y->file, line, col, "%s: %g is out of range [%g, %g]", where,
			           dv, k->min, k->max);
		return;
	case Y_BOOL:
		if (ydoc_bool(n, &bv) != 0)
			diag_error(d, y->file, line, col, "%s: expected true or false, got '%s'",
			           where, s);
		return;
	case Y_REGEX: {
		regex_t re;
		double size = regex_size(s);
		if (size > REGEX_SIZE_MAX) { /* before regcomp, which would take minutes */
			diag_error(
			    d, y->file, line, col,
			    "%s: regular expression '%.80s' is too large to compile (about "
			    "%.3g copies of its parts, at most %d): repetitions of repetitions "
			    "multiply",
			    where, s, size, REGEX_SIZE_MAX);
			return;
		}
		int depth = regex_repetition_depth(s);
		if (depth > REGEX_DEPTH_MAX) {
			diag_error(d, y->file, line, col,
			           "%s: regular expression '%.80s' nests repetitions %d deep (at "
			           "most %d): compiling it could take minutes",
			           where, s, depth, REGEX_DEPTH_MAX);
			return;
		}
		int rc = regcomp(&re, s, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			char msg[256];
			regerror(rc, &re, msg, sizeof msg);
			diag_error(d, y->file, line, col, "%s: bad regular expression '%s': %s",
			           where, s, msg);
		} else
			regfree(&re);
		return;
	}
	case Y_DATE:
		if (date_parse(s, &iv) != 0)
			diag_error(d, y->file, line, col,
			           "%s: expected a date as YYYY-MM-DD, got '%s'", where, s);
		return;
	default:
		return;
	}
}

struct key_at {
	const char *name;
	size_t i;
	int line;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct key_at *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * For each pair of the mapping map, 0, or the line of the first pair with
 * the same key when it repeats one. Sorting keeps this n log n: a hostile
 * file may hold a mapping of 100,000 keys. Caller frees.
 */
static int *
duplicates(struct ydoc *y, yaml_node_t *map)
{
	size_t n = ydoc_count(map), k = 0;
	int *first = xcalloc(n ? n : 1, sizeof *first);
	struct key_at *keys = xcalloc(n ? n : 1, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *kn =
		    yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].key);
		if (kn->type == YAML_SCALAR_NODE)
			keys[k++] = (struct key_at){ydoc_str(kn), i, ydoc_line(y, kn)};
	}
	qsort(keys, k, sizeof *keys, key_cmp);
	for (size_t i = 1; i < k; i++)
		if (strcmp(keys[i].name, keys[i - 1].name) == 0)
			first[keys[i].i] =
			    first[keys[i - 1].i] ? first[keys[i - 1].i] : keys[i - 1].line;
	free(keys);
	return first;
}

void
ydoc_check(struct ydoc *y, yaml_node_t *n, const struct ykey *k, const char *where, struct diag *d)
{
	int line = ydoc_line(y, n), col = ydoc_col(n);

	if (k->type == Y_ENUMS) {
		if (n->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = n->data.sequence.items.start;
			     it < n->data.sequence.items.top; it++)
				check_enum(y, yaml_document_get_node(&y->doc, *it), k, where, d);
		} else
			check_enum(y, n, k, where, d);
		return;
	}
	if (k->type == Y_ENUM) {
		check_enum(y, n, k, where, d);
		return;
	}
	if (k->type == Y_EITHER) {
		const struct ykey *alt = &k->sub[n->type == YAML_SCALAR_NODE ? 0 : 1];
		int fits =
		    n->type == YAML_SCALAR_NODE ||
		    (n->type == YAML_MAPPING_NODE) == (alt->type == Y_MAP || alt->type == Y_DICT);
		if (fits)
			ydoc_check(y, n, alt, where, d);
		else
			diag_error(d, y->file, line, col, "%s: expected %s or %s, got %s", where,
			           type_name(k->sub[0].type), type_name(alt->type), node_kind(n));
		return;
	}
	if (k->type == Y_MAP || k->type == Y_DICT) {
		if (n->type != YAML_MAPPING_NODE) {
			/* An empty value ("key:") reads as an empty scalar. */
			if (!(n->type == YAML_SCALAR_NODE && *ydoc_str(n) == '\0' &&
			      k->type == Y_DICT))
				diag_error(d, y->file, line, col, "%s: expected a mapping, got %s",
				           where, node_kind(n));
			return;
		}
		int *first = duplicates(y, n);
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		     pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *kn = yaml_document_get_node(&y->doc, pr->key);
			yaml_node_t *vn = yaml_document_get_node(&y->doc, pr->value);
			if (kn->type != YAML_SCALAR_NODE) {
				diag_error(d, y->file, ydoc_line(y, kn), ydoc_col(kn),
				           "%s: keys must be plain strings", where);
				continue;
			}
			const char *name = ydoc_str(kn);
			char *sub_where = xasprintf("%s%s%s", where, *where ? "." : "", name);
			int dup = first[pr - n->data.mapping.pairs.start];
			if (dup != 0)
				diag_error(d, y->file, ydoc_line(y, kn), ydoc_col(kn),
				           "duplicate key '%s' (first at line %d)", sub_where, dup);
			if (k->type == Y_DICT)
				ydoc_check(y, vn, k->sub, sub_where, d);
			else {
				const struct ykey *c = k->sub;
				while (c->name != NULL && strcmp(c->name, name) != 0)
					c++;
				if (c->name == NULL) {
					struct buf b;
					buf_init(&b, 0);
					for (const struct ykey *e = k->sub; e->name != NULL; e++)
						buf_printf(&b, "%s%s", e == k->sub ? "" : ", ",
						           e->name);
					diag_error(d, y->file, ydoc_line(y, kn), ydoc_col(kn),
					           "unknown key '%s' in %s (expected one of: %s)",
					           name, *where ? where : "the top level", b.data);
					buf_free(&b);
				} else
					ydoc_check(y, vn, c, sub_where, d);
			}
			free(sub_where);
		}
		free(first);
		if (k->type == Y_MAP)
			for (const struct ykey *c = k->sub; c->name != NULL; c++)
				if (c->required && ydoc_get(y, n, c->name) == NULL)
					diag_error(d, y->file, line, col,
					           "%s: missing required key '%s'",
					           *where ? where : "the top level", c->name);
		return;
	}
	if (k->type == Y_LIST) {
		if (n->type != YAML_SEQUENCE_NODE) {
			diag_error(d, y->file, line, col, "%s: expected a list, got %s", where,
			           node_kind(n));
			return;
		}
		int i = 0;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			char *sub_where = xasprintf("%s[%d]", where, i);
			ydoc_check(y, yaml_document_get_node(&y->doc, *it), k->sub, sub_where, d);
			free(sub_where);
		}
		return;
	}
	if (n->type != YAML_SCALAR_NODE) {
		diag_error(d, y->file, line, col, "%s: expected %s, got %s", where,
		           type_name(k->type), node_kind(n));
		return;
	}
	check_scalar(y, n, k, where, d);
}

double
ydoc_num_or(struct ydoc *y, yaml_node_t *map, const char *key, double dflt)
{
	double v;
	return ydoc_num(ydoc_get(y, map, key), &v) == 0 ? v : dflt;
}

long
ydoc_int_or(struct ydoc *y, yaml_node_t *map, const char *key, long dflt)
{
	long v;
	return ydoc_int(ydoc_get(y, map, key), &v) == 0 ? v : dflt;
}

int
ydoc_bool_or(struct ydoc *y, yaml_node_t *map, const char *key, int dflt)
{
	int v;
	return ydoc_bool(ydoc_get(y, map, key), &v) == 0 ? v : dflt;
}

const char *
ydoc_str_or_null(struct ydoc *y, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = ydoc_get(y, map, key);
	return n != NULL && n->type == YAML_SCALAR_NODE ? ydoc_str(n) : NULL;
}
