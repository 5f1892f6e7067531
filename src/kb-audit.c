/* kb-audit.c -- knowledge base health: invalid files, duplicates, conflicts, staleness. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb-audit.h"
#include "safe-text.h"

const char *const audit_kind_names[] = {"invalid", "control", "duplicate", "conflict",
                                        "stale",   "missing", NULL};

static void
add(struct kb_audit *a, enum audit_kind kind, char *message)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof *a->v);
	}
	a->v[a->n].kind = kind;
	a->v[a->n].message = message;
	a->n++;
	a->counts[kind]++;
}

void
kb_audit_free(struct kb_audit *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].message);
	free(a->v);
	memset(a, 0, sizeof *a);
}

/* ---------------------------------------------------------- figures */

struct word {
	char s[32];
};

static const char *const time_units[] = {"minute", "hour", "day", "week", "month", "year", NULL};
static const char *const qualifiers[] = {"business", "calendar", "working", NULL};

/* Splits text into lower-case words; "$25" and "3-5" and "10%" stay whole. */
static size_t
words(const char *text, struct word **out)
{
	size_t n = 0, cap = 64;
	struct word *w = xcalloc(cap, sizeof *w);
	const char *p = text;
	while (*p != '\0') {
		while (*p != '\0' && !isalnum((unsigned char)*p) && *p != '$')
			p++;
		if (*p == '\0')
			break;
		size_t len = 0;
		char buf[32];
		while (*p != '\0' &&
		       (isalnum((unsigned char)*p) || *p == '$' || *p == '%' ||
		        ((*p == '.' || *p == ',' || *p == '-') && isdigit((unsigned char)p[1]) &&
		         len > 0 && isdigit((unsigned char)buf[len - 1])))) {
			if (len < sizeof buf - 1)
				buf[len++] = (char)tolower((unsigned char)*p);
			p++;
		}
		buf[len] = '\0';
		if (len == 0) {
			p++;
			continue;
		}
		if (n == cap) {
			cap *= 2;
			w = xreallocarray(w, cap, sizeof *w);
		}
		memcpy(w[n++].s, buf, len + 1);
	}
	*out = w;
	return n;
}

static int
is_number(const char *s)
{
	if (*s == '$')
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.' && *s != ',' && *s != '-' && *s != '%')
			return 0;
	return 1;
}

/* "days" -> "day"; returns the unit index or -1. */
static int
time_unit(const char *w)
{
	char s[32];
	snprintf(s, sizeof s, "%s", w);
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == 's')
		s[n - 1] = '\0';
	return names_find(time_units, s);
}

static int
content_word(const char *w)
{
	size_t n = strlen(w);
	if (n < 3 || is_number(w) || kb_is_stopword(w, n) || time_unit(w) >= 0 ||
	    names_find(qualifiers, w) >= 0)
		return 0;
	for (const char *p = w; *p; p++)
		if (!isalpha((unsigned char)*p))
			return 0;
	return 1;
}

static void
context_add(struct strv *sv, const char *w)
{
	char s[32];
	snprintf(s, sizeof s, "%s", w);
	size_t n = strlen(s);
	if (n > 3 && s[n - 1] == 's' && s[n - 2] != 's')
		s[n - 1] = '\0';
	if (!strv_contains(sv, s))
		strv_add(sv, s);
}

size_t
kb_quantities(const char *text, struct kb_quantity **out)
{
	struct word *w;
	size_t nw = words(text, &w), n = 0, cap = 4;
	struct kb_quantity *q = xcalloc(cap, sizeof *q);

	for (size_t i = 0; i < nw; i++) {
		if (!is_number(w[i].s))
			continue;
		char value[32], unit[48] = "";
		size_t last = i;
		snprintf(value, sizeof value, "%s", w[i].s[0] == '$' ? w[i].s + 1 : w[i].s);
		if (w[i].s[0] == '$')
			/* "$20 off" is a discount, not a price. */
			snprintf(unit, sizeof unit, "%s",
			         i + 1 < nw && strcmp(w[i + 1].s, "off") == 0 ? "usd-off" : "usd");
		else if (str_endswith(w[i].s, "%")) {
			value[strlen(value) - 1] = '\0';
			snprintf(unit, sizeof unit, "percent");
		} else {
			size_t j = i + 1;
			/* "3 to 5 days" */
			if (j + 1 < nw && strcmp(w[j].s, "to") == 0 && is_number(w[j + 1].s)) {
				char range[sizeof value];
				if (snprintf(range, sizeof range, "%.15s-%.15s", value,
				             w[j + 1].s) > 0)
					memcpy(value, range, sizeof value);
				j += 2;
			}
			if (j < nw && strcmp(w[j].s, "percent") == 0)
				snprintf(unit, sizeof unit, "percent");
			else {
				const char *qual = "";
				if (j < nw && names_find(qualifiers, w[j].s) >= 0)
					qual = w[j++].s;
				int u = j < nw ? time_unit(w[j].s) : -1;
				if (u >= 0)
					snprintf(unit, sizeof unit, "%s%s%s", qual,
					         *qual ? "-" : "", time_units[u]);
			}
			last = j;
		}
		if (*unit == '\0')
			continue;
		if (n == cap) {
			cap *= 2;
			q = xreallocarray(q, cap, sizeof *q);
		}
		memset(&q[n], 0, sizeof q[n]);
		snprintf(q[n].value, sizeof q[n].value, "%s", value);
		snprintf(q[n].unit, sizeof q[n].unit, "%s", unit);
		size_t from = i >= 8 ? i - 8 : 0, to = last + 4 < nw ? last + 4 : nw - 1;
		for (size_t k = from; k <= to && nw > 0; k++)
			if (content_word(w[k].s))
				context_add(&q[n].context, w[k].s);
		n++;
		i = last; /* the words of "3 to 5 days" make one figure */
	}
	free(w);
	*out = q;
	return n;
}

void
kb_quantities_free(struct kb_quantity *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_free(&q[i].context);
	free(q);
}

/*
 * Two figures contradict when they have the same unit, different
 * values, and talk about the same thing: two or more distinctive words
 * in common, and at least half of the smaller context. Words common in
 * the topic ("shipping" among shipping facts) are not distinctive.
 */
static int
contradicts(const struct kb_quantity *a, const struct kb_quantity *b, const struct strv *common)
{
	if (strcmp(a->unit, b->unit) != 0 || strcmp(a->value, b->value) == 0)
		return 0;
	size_t shared = 0, na = 0, nb = 0;
	for (size_t i = 0; i < a->context.n; i++) {
		if (strv_contains(common, a->context.v[i]))
			continue;
		na++;
		if (strv_contains(&b->context, a->context.v[i]))
			shared++;
	}
	for (size_t i = 0; i < b->context.n; i++)
		if (!strv_contains(common, b->context.v[i]))
			nb++;
	size_t small = na < nb ? na : nb;
	return shared >= 2 && shared * 2 >= small;
}

/* ------------------------------------------------------------- audit */

struct fact_figures {
	struct kb_quantity *q;
	size_t n;
};

/* Context words found in more than a third of a topic's facts. */
static void
topic_common_words(const struct kb_facts *fs, const struct fact_figures *ff, enum topic t,
                   struct strv *out)
{
	struct strv words = {0};
	size_t *df = NULL, nfacts = 0;
	for (size_t i = 0; i < fs->n; i++) {
		if (fs->v[i].topic != t || ff[i].n == 0)
			continue;
		nfacts++;
		struct strv seen = {0};
		for (size_t k = 0; k < ff[i].n; k++)
			for (size_t w = 0; w < ff[i].q[k].context.n; w++) {
				const char *word = ff[i].q[k].context.v[w];
				if (strv_contains(&seen, word))
					continue;
				strv_add(&seen, word);
				size_t j = 0;
				while (j < words.n && strcmp(words.v[j], word) != 0)
					j++;
				if (j == words.n) {
					strv_add(&words, word);
					df = xreallocarray(df, words.n, sizeof *df);
					df[j] = 0;
				}
				df[j]++;
			}
		strv_free(&seen);
	}
	size_t limit = nfacts / 3 > 2 ? nfacts / 3 : 2;
	for (size_t j = 0; j < words.n; j++)
		if (df[j] > limit)
			strv_add(out, words.v[j]);
	free(df);
	strv_free(&words);
}

static void
find_conflicts(struct kb_audit *a, const struct kb_facts *fs)
{
	struct fact_figures *ff = xcalloc(fs->n ? fs->n : 1, sizeof *ff);
	struct strv common[TOPIC__N] = {{0}};
	for (size_t i = 0; i < fs->n; i++) {
		char *t = xasprintf("%s. %s", fs->v[i].title, fs->v[i].content);
		ff[i].n = kb_quantities(t, &ff[i].q);
		free(t);
	}
	for (int t = 0; t < TOPIC__N; t++)
		topic_common_words(fs, ff, (enum topic)t, &common[t]);
	for (size_t i = 0; i < fs->n; i++)
		for (size_t j = i + 1; j < fs->n; j++) {
			const struct kb_fact *x = &fs->v[i], *y = &fs->v[j];
			/* Sections of one file are written together as distinct facts. */
			if (x->topic != y->topic || strcmp(x->source, y->source) == 0)
				continue;
			if (strcmp(x->product, y->product) != 0 && strcmp(x->product, "all") != 0 &&
			    strcmp(y->product, "all") != 0)
				continue;
			int found = 0;
			for (size_t p = 0; p < ff[i].n && !found; p++)
				for (size_t r = 0; r < ff[j].n && !found; r++) {
					if (!contradicts(&ff[i].q[p], &ff[j].q[r],
					                 &common[x->topic]))
						continue;
					found = 1;
					add(a, AUDIT_CONFLICT,
					    xasprintf("%s:%d: conflict: %s says %s %s, but %s "
					              "(%s:%d) says %s %s",
					              x->source, x->line, x->id, ff[i].q[p].value,
					              ff[i].q[p].unit, y->id, y->source, y->line,
					              ff[j].q[r].value, ff[j].q[r].unit));
				}
		}
	for (size_t i = 0; i < fs->n; i++)
		kb_quantities_free(ff[i].q, ff[i].n);
	for (int t = 0; t < TOPIC__N; t++)
		strv_free(&common[t]);
	free(ff);
}

static int
cmp_fact_id(const void *a, const void *b)
{
	const struct kb_fact *x = *(const struct kb_fact *const *)a;
	const struct kb_fact *y = *(const struct kb_fact *const *)b;
	int c = strcmp(x->id, y->id);
	return c ? c : strcmp(x->source, y->source);
}

/* ---------------------------------------------------------- controls */

/*
 * Control characters and bidi controls in the fact files (their text as
 * written, line by line). Every screen and command shows them inert, but
 * a fact holding an escape sequence or reordered text is a fact to fix:
 * the first one on each line is an error.
 */
static void
find_controls(struct kb_audit *a, const struct kb_facts *fs)
{
	for (size_t f = 0; f < fs->n; f++) {
		const char *path = fs->v[f].source;
		if (f > 0 && strcmp(path, fs->v[f - 1].source) == 0)
			continue; /* a file's facts come together */
		size_t len;
		char *cause = NULL, *text = file_read(path, 16u << 20, &len, &cause);
		if (text == NULL) {
			free(cause);
			continue;
		}
		int line = 1, col = 1, flagged = 0;
		for (size_t i = 0; i < len; col++) {
			uint32_t cp;
			i += text_decode(text + i, len - i, &cp);
			const char *what = text_cp_suspect(cp);
			if (cp == '\n') {
				line++;
				col = 0;
				flagged = 0;
			} else if (what != NULL && !flagged) {
				add(a, AUDIT_CONTROL,
				    xasprintf("%s:%d:%d: %s U+%04X in a fact", path, line, col,
				              what, (unsigned)cp));
				flagged = 1;
			}
		}
		free(text);
	}
}

int
kb_audit_run(const char *dir, const struct kb_freshness *fr, struct kb_audit *a, char **cause)
{
	struct kb_facts fs = {0};
	struct diag d = {0};
	memset(a, 0, sizeof *a);
	if (kb_load_dir(dir, &fs, &d, cause) != 0)
		return -1;
	for (size_t i = 0; i < d.msgs.n; i++) {
		if (strstr(d.msgs.v[i], ": warning: ") != NULL)
			add(a, AUDIT_MISSING, xstrdup(d.msgs.v[i]));
		else
			add(a, AUDIT_INVALID, xstrdup(d.msgs.v[i]));
	}
	diag_free(&d);
	a->nfacts = fs.n;
	find_controls(a, &fs);

	const struct kb_fact **byid = xcalloc(fs.n ? fs.n : 1, sizeof *byid);
	for (size_t i = 0; i < fs.n; i++)
		byid[i] = &fs.v[i];
	qsort(byid, fs.n, sizeof *byid, cmp_fact_id);
	for (size_t i = 1; i < fs.n; i++)
		if (strcmp(byid[i]->id, byid[i - 1]->id) == 0)
			add(a, AUDIT_DUPLICATE,
			    xasprintf("%s:%d: duplicate id '%s' (also at %s:%d)", byid[i]->source,
			              byid[i]->line, byid[i]->id, byid[i - 1]->source,
			              byid[i - 1]->line));
	free(byid);

	find_conflicts(a, &fs);

	for (size_t i = 0; i < fs.n; i++) {
		const struct kb_fact *f = &fs.v[i];
		int stale, days = kb_fact_freshness(f, fr, &stale);
		char date[11];
		date_format(f->updated, date);
		if (stale)
			add(a, AUDIT_STALE,
			    xasprintf("%s:%d: stale: %s (%s) updated %s, %d days ago, over %d",
			              f->source, f->line, f->id, topic_names[f->topic], date, days,
			              fr->stale_after_days));
		if (f->missing) {
			struct buf b;
			buf_init(&b, 0);
			if (f->missing & KB_MISSING_PRODUCT)
				buf_adds(&b, " product");
			if (f->missing & KB_MISSING_VERSION)
				buf_adds(&b, " version");
			if (f->missing & KB_MISSING_VOLATILE)
				buf_adds(&b, " volatile");
			add(a, AUDIT_MISSING,
			    xasprintf("%s:%d: missing metadata: %s has no%s", f->source, f->line,
			              f->id, b.data));
			buf_free(&b);
		}
	}
	kb_facts_free(&fs);
	return 0;
}
