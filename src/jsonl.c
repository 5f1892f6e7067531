/* jsonl.c -- JSON Lines read with one set of rules. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

void
jsonl_init(struct jsonl *r, FILE *f, const char *name)
{
	*r = (struct jsonl){.f = f, .name = name, .max = JSONL_LINE_MAX};
	buf_init(&r->line, 0);
}

/* ---------------------------------------------------------------- lines */

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* A size as people read limits: "8 MiB", "64 KiB" or bytes. */
static char *
size_text(size_t n)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		return xasprintf("%zu MiB", n >> 20);
	if (n >= 1024 && n % 1024 == 0)
		return xasprintf("%zu KiB", n >> 10);
	return xasprintf("%zu bytes", n);
}

int
jsonl_read(struct jsonl *r, const char **line, size_t *len, char **cause)
{
	for (;;) {
		int c, over = 0;
		size_t n = 0;
		buf_reset(&r->line);
		r->line.max = r->max + 1; /* room for a "\r" before the newline */
		/* Byte by byte: a line past the limit streams by, never held whole. */
		while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
			n++;
			if (!over && buf_addc(&r->line, (char)c) != 0)
				over = 1;
		}
		if (ferror(r->f)) {
			*cause = xasprintf("%s: %s", r->name, strerror(errno));
			return -2;
		}
		if (c == EOF && n == 0)
			return 0;
		r->lineno++;
		size_t l = r->line.len;
		if (!over && l > 0 && r->line.data[l - 1] == '\r')
			r->line.data[--l] = '\0';
		if (over || l > r->max) {
			char *lim = size_text(r->max);
			*cause = xasprintf("%s:%ld: the line is longer than %s, the limit: skipped",
			                   r->name, r->lineno, lim);
			free(lim);
			return -1;
		}
		if (blank(r->line.data, l))
			continue;
		*line = r->line.data;
		*len = l;
		return 1;
	}
}

/* --------------------------------------------------------------- values */

/* The offset of the first invalid UTF-8 sequence in s, or n when there is none. */
static size_t
utf8_bad_at(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (k == 0)
			return i;
		i += k;
	}
	return n;
}

/* The offset of a \u0000 escape inside a string of the JSON text, or n. */
static size_t
nul_escape_at(const char *s, size_t n)
{
	int in_string = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			in_string = !in_string;
		else if (in_string && s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
				return i;
			i++; /* the escaped character */
		}
	}
	return n;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key that o holds twice, or NULL. Sorting keeps a wide object n log n. */
static const char *
repeated_key(const cJSON *o)
{
	size_t n = 0, k = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, o) n++;
	if (n < 2)
		return NULL;
	const char **names = xcalloc(n, sizeof *names);
	cJSON_ArrayForEach(e, o) names[k++] = e->string ? e->string : "";
	qsort(names, n, sizeof *names, cmp_name);
	const char *dup = NULL;
	for (size_t i = 1; i < n && dup == NULL; i++)
		if (strcmp(names[i], names[i - 1]) == 0)
			dup = names[i];
	free(names);
	return dup;
}

/* Duplicate keys and non-finite numbers anywhere under v; path names v. */
static int
check_value(const cJSON *v, struct buf *path, char **cause)
{
	if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) {
		*cause = xasprintf("%s: a number out of range", path->data);
		return -1;
	}
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return 0;
	const char *dup = cJSON_IsObject(v) ? repeated_key(v) : NULL;
	if (dup != NULL) {
		struct buf q;
		buf_init(&q, 0);
		buf_json_str(&q, dup);
		*cause = xasprintf("%s: duplicate key %s", path->data, q.data);
		buf_free(&q);
		return -1;
	}
	size_t mark = path->len;
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (cJSON_IsObject(v)) {
			buf_addc(path, '.');
			buf_adds(path, e->string ? e->string : "");
		} else
			buf_printf(path, "[%d]", i++);
		if (check_value(e, path, cause) != 0)
			return -1;
		path->len = mark;
		path->data[mark] = '\0';
	}
	return 0;
}

cJSON *
jsonl_parse(const char *line, size_t len, char **cause)
{
	size_t at;
	if (memchr(line, '\0', len) != NULL) {
		*cause = xstrdup("a NUL byte in the line");
		return NULL;
	}
	if ((at = utf8_bad_at(line, len)) < len) {
		*cause = xasprintf("not valid UTF-8 (at byte %zu)", at + 1);
		return NULL;
	}
	if ((at = nul_escape_at(line, len)) < len) {
		*cause = xasprintf("a NUL character (\\u0000) at byte %zu", at + 1);
		return NULL;
	}
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (o == NULL) {
		at = end && end >= line ? (size_t)(end - line) : 0;
		*cause = xasprintf("not JSON (error at byte %zu)", at + 1);
		return NULL;
	}
	while (end < line + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end < line + len) {
		*cause = xasprintf("not JSON: text after the value at byte %zu",
		                   (size_t)(end - line) + 1);
		cJSON_Delete(o);
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		*cause = xstrdup("not a JSON object");
		cJSON_Delete(o);
		return NULL;
	}
	struct buf path;
	buf_init(&path, 0);
	buf_addc(&path, '$');
	int rc = check_value(o, &path, cause);
	buf_free(&path);
	if (rc != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int
jsonl_next(struct jsonl *r, cJSON **out, char **cause)
{
	const char *line;
	size_t len;
	int rc = jsonl_read(r, &line, &len, cause);
	if (rc != 1)
		return rc;
	char *why = NULL;
	if ((*out = jsonl_parse(line, len, &why)) == NULL) {
		*cause = xasprintf("%s:%ld: %s", r->name, r->lineno, why);
		free(why);
		return -1;
	}
	return 1;
}

/* ------------------------------------------------------------------ ids */

/* Open addressing, at most half full. */
struct jsonl_ids {
	struct id_slot {
		char *id; /* owned; NULL: empty */
		long line;
	} * v;
	size_t n, cap;
};

static struct id_slot *
id_slot(struct jsonl_ids *s, const char *id)
{
	size_t i = (size_t)hash_fnv1a(id, strlen(id)) & (s->cap - 1);
	while (s->v[i].id != NULL && strcmp(s->v[i].id, id) != 0)
		i = (i + 1) & (s->cap - 1);
	return &s->v[i];
}

long
jsonl_unique(struct jsonl *r, const char *id)
{
	struct jsonl_ids *s = r->ids;
	if (s == NULL)
		s = r->ids = xcalloc(1, sizeof *s);
	if (2 * (s->n + 1) > s->cap) {
		struct jsonl_ids grown = {.cap = s->cap ? 2 * s->cap : 64, .n = s->n};
		grown.v = xcalloc(grown.cap, sizeof *grown.v);
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i].id != NULL)
				*id_slot(&grown, s->v[i].id) = s->v[i];
		free(s->v);
		*s = grown;
	}
	struct id_slot *slot = id_slot(s, id);
	if (slot->id != NULL)
		return slot->line;
	slot->id = xstrdup(id);
	slot->line = r->lineno;
	s->n++;
	return 0;
}

void
jsonl_free(struct jsonl *r)
{
	if (r->ids != NULL) {
		for (size_t i = 0; i < r->ids->cap; i++)
			free(r->ids->v[i].id);
		free(r->ids->v);
		free(r->ids);
	}
	buf_free(&r->line);
	r->ids = NULL;
}
