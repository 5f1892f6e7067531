/* phrases.c -- labelled phrase rules kept in data files (urgency, dialogue acts). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chars.h"
#include "diag.h"
#include "phrases.h"
#include "types.h"
#include "util.h"

/*
 * A rules file (frontline-triage(5)) lists phrases by label. At load
 * every phrase becomes a list of lower-case words, each exact, a prefix
 * ("overheat*") or any word ("charged * twice"), bucketed by the first
 * three letters of its first word. Matching is then one pass over the
 * words of the message: each word looks up its bucket and tries the
 * phrases there, lowest label first. No regular expressions.
 */

#define MAX_WORDS    8    /* words in a phrase */
#define MAX_WORD_LEN 64   /* letters in a phrase word */
#define MIN_PREFIX   3    /* letters before a '*' */
#define WINDOW       3    /* words before a phrase that a negator reaches */
#define SMALL_TEXT   1024 /* texts up to this size need no allocation */

struct rule {
	char *name;
	int label;
	int line;
};

struct pword {
	uint32_t off; /* into chars */
	uint8_t len;
	uint8_t prefix; /* matches any word starting with it */
	uint8_t any;    /* a lone '*': matches any one word */
};

struct phrase {
	uint32_t word0; /* first of nwords in words[] */
	uint8_t nwords;
	uint8_t rank; /* the label's index: lower ranks are tried first */
	uint32_t rule;
	uint32_t key;
	int line;
};

struct phrase_rules {
	const struct phrase_labels *labels;
	int nlabels;
	struct rule *rules;
	size_t nrules;
	struct phrase *phrases;
	size_t nphrases;
	struct pword *words;
	size_t nwords;
	struct buf chars;
	struct pword *negators;
	size_t nnegators;
	/* Phrases by key: bucket b is order[start[b] .. start[b + 1]), lowest rank first. */
	uint32_t *start;
	uint32_t *order;
	uint32_t mask;
};

/* The bucket key: a hash of the first three letters (all, when shorter). */
static inline uint32_t
key_of(const char *w, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len && i < MIN_PREFIX; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

/* ---------------------------------------------------------- loading */

struct loader {
	struct phrase_rules *r;
	const char *file;
	int line;
	struct diag *d;
	size_t cap_rules, cap_phrases, cap_words, cap_neg;
};

/*
 * Parses one phrase (letters, digits, apostrophes; words separated by
 * spaces or hyphens; '*' ending a word, or alone for any word) into pw.
 * Returns the number of words, or -1 after reporting the problem.
 */
static int
parse_phrase(struct loader *l, const char *p, size_t len, struct pword *pw, struct buf *chars,
             int allow_star)
{
	int nw = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		if (c == ' ' || c == '\t' || c == '-') {
			i++;
			continue;
		}
		if (nw == MAX_WORDS) {
			diag_error(l->d, l->file, l->line, 0,
			           "phrase '%.*s' has more than %d words", (int)len, p, MAX_WORDS);
			return -1;
		}
		if (c == '*' &&
		    (i + 1 == len || p[i + 1] == ' ' || p[i + 1] == '\t' || p[i + 1] == '-')) {
			/* A lone '*': any one word. */
			if (!allow_star)
				diag_error(l->d, l->file, l->line, 0,
				           "a negator cannot be '*' ('%.*s')", (int)len, p);
			else if (nw == 0)
				diag_error(l->d, l->file, l->line, 0,
				           "phrase '%.*s' cannot start with '*'", (int)len, p);
			else {
				pw[nw++] = (struct pword){.off = (uint32_t)chars->len, .any = 1};
				i++;
				continue;
			}
			return -1;
		}
		if (!is_alnum(c) && c != '\'') {
			if (c == '*')
				diag_error(l->d, l->file, l->line, 0,
				           "'*' must end a word, the first of at least %d letters, "
				           "in '%.*s'",
				           MIN_PREFIX, (int)len, p);
			else if (c < 0x20 || c >= 0x7f)
				diag_error(
				    l->d, l->file, l->line, 0,
				    "phrase '%.*s' has a character that is not printable ASCII",
				    (int)len, p);
			else
				diag_error(l->d, l->file, l->line, 0,
				           "unexpected character '%c' in phrase '%.*s'", c,
				           (int)len, p);
			return -1;
		}
		size_t off = chars->len, n = 0;
		while (i < len && (is_alnum(p[i]) || p[i] == '\'')) {
			if (p[i] != '\'') {
				buf_addc(chars, (char)lower(p[i]));
				n++;
			}
			i++;
		}
		int star = i < len && p[i] == '*';
		if (star) {
			i++;
			/* The first word's first letters are its bucket key. */
			if (!allow_star || (nw == 0 && n < MIN_PREFIX) ||
			    (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '-')) {
				if (allow_star)
					diag_error(l->d, l->file, l->line, 0,
					           "'*' must end a word, the first of at least "
					           "%d letters, in '%.*s'",
					           MIN_PREFIX, (int)len, p);
				else
					diag_error(l->d, l->file, l->line, 0,
					           "a negator cannot end in '*' ('%.*s')", (int)len,
					           p);
				return -1;
			}
		}
		if (n == 0) { /* only apostrophes */
			diag_error(l->d, l->file, l->line, 0, "phrase '%.*s' has an empty word",
			           (int)len, p);
			return -1;
		}
		if (n > MAX_WORD_LEN) {
			diag_error(l->d, l->file, l->line, 0, "a word of '%.*s' is longer than %d",
			           (int)len, p, MAX_WORD_LEN);
			return -1;
		}
		pw[nw++] = (struct pword){.off = (uint32_t)off, .len = (uint8_t)n, .prefix = star};
	}
	if (nw == 0)
		diag_error(l->d, l->file, l->line, 0, "empty phrase");
	return nw > 0 ? nw : -1;
}

static int
pword_eq(const struct phrase_rules *r, const struct pword *a, const struct pword *b)
{
	return a->len == b->len && a->prefix == b->prefix && a->any == b->any &&
	       memcmp(r->chars.data + a->off, r->chars.data + b->off, a->len) == 0;
}

static void
add_phrase(struct loader *l, size_t rule, const char *p, size_t len)
{
	struct phrase_rules *r = l->r;
	struct pword pw[MAX_WORDS];
	size_t mark = r->chars.len;
	int nw = parse_phrase(l, p, len, pw, &r->chars, 1);
	if (nw < 0)
		return;

	uint32_t key = key_of(r->chars.data + pw[0].off, pw[0].len);
	for (size_t i = 0; i < r->nphrases; i++) {
		const struct phrase *o = &r->phrases[i];
		if (o->key != key || o->nwords != nw)
			continue;
		int k = 0;
		while (k < nw && pword_eq(r, &r->words[o->word0 + (size_t)k], &pw[k]))
			k++;
		if (k == nw) {
			diag_error(l->d, l->file, l->line, 0,
			           "phrase '%.*s' is already in rule '%s' (line %d)", (int)len, p,
			           r->rules[o->rule].name, o->line);
			r->chars.len = mark;
			return;
		}
	}
	if (r->nwords + (size_t)nw > l->cap_words) {
		l->cap_words = (l->cap_words + (size_t)nw) * 2;
		r->words = xreallocarray(r->words, l->cap_words, sizeof *r->words);
	}
	if (r->nphrases == l->cap_phrases) {
		l->cap_phrases = l->cap_phrases ? l->cap_phrases * 2 : 128;
		r->phrases = xreallocarray(r->phrases, l->cap_phrases, sizeof *r->phrases);
	}
	r->phrases[r->nphrases++] = (struct phrase){
	    .word0 = (uint32_t)r->nwords,
	    .nwords = (uint8_t)nw,
	    .rank = (uint8_t)r->rules[rule].label,
	    .rule = (uint32_t)rule,
	    .key = key,
	    .line = l->line,
	};
	memcpy(r->words + r->nwords, pw, (size_t)nw * sizeof *pw);
	r->nwords += (size_t)nw;
}

static void
add_negators(struct loader *l, const char *p)
{
	struct phrase_rules *r = l->r;
	while (*p != '\0') {
		size_t n = strcspn(p, " \t|");
		if (n > 0) {
			struct pword pw[MAX_WORDS];
			int nw = parse_phrase(l, p, n, pw, &r->chars, 0);
			if (nw > 1)
				diag_error(l->d, l->file, l->line, 0,
				           "negator '%.*s' must be one word", (int)n, p);
			else if (nw == 1) {
				if (r->nnegators == l->cap_neg) {
					l->cap_neg = l->cap_neg ? l->cap_neg * 2 : 16;
					r->negators = xreallocarray(r->negators, l->cap_neg,
					                            sizeof *r->negators);
				}
				r->negators[r->nnegators++] = pw[0];
			}
		}
		p += n;
		p += strspn(p, " \t|");
	}
}

/* "critical, high, low": the labels for a message; caller frees. */
static char *
names_list(const char *const *names)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; names[i] != NULL; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
	char *s = buf_steal(&b);
	buf_free(&b);
	return s;
}

static int
valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 64 || !is_alnum(s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '-' || s[i] == '_') || (unsigned)(s[i] - 'A') < 26u)
			return 0;
	return 1;
}

static void
parse_line(struct loader *l, char *s)
{
	struct phrase_rules *r = l->r;
	char *hash = strchr(s, '#');
	if (hash != NULL)
		*hash = '\0';
	s = str_trim(s);
	if (*s == '\0')
		return;

	size_t n = strcspn(s, " \t");
	char *rest = s + n + strspn(s + n, " \t");
	if (n == 6 && strncmp(s, "negate", 6) == 0) {
		if (*rest == '\0')
			diag_error(l->d, l->file, l->line, 0, "'negate' needs at least one word");
		add_negators(l, rest);
		return;
	}
	s[n] = '\0';
	const struct phrase_labels *lb = r->labels;
	int lv = names_find(lb->names, s);
	if (lv < 0 && lb->reserved != NULL && strcmp(s, lb->reserved) == 0) {
		diag_error(l->d, l->file, l->line, 0, "%s", lb->reserved_why);
		return;
	}
	if (lv < 0) {
		char *all = names_list(lb->names);
		diag_error(l->d, l->file, l->line, 0, "unknown %s '%s' (expected %s or negate)",
		           lb->what, s, all);
		free(all);
		return;
	}

	size_t nn = strcspn(rest, " \t");
	char *phrases = rest + nn + strspn(rest + nn, " \t");
	if (nn == 0) {
		diag_error(l->d, l->file, l->line, 0, "a %s rule needs a name and phrases",
		           lb->names[lv]);
		return;
	}
	if (!valid_name(rest, nn)) {
		diag_error(l->d, l->file, l->line, 0,
		           "bad rule name '%.*s' (lower-case letters, digits, '-' and '_')",
		           (int)nn, rest);
		return;
	}
	if (*phrases == '\0') {
		diag_error(l->d, l->file, l->line, 0, "rule '%.*s' has no phrases", (int)nn, rest);
		return;
	}

	size_t ri;
	for (ri = 0; ri < r->nrules; ri++)
		if (strlen(r->rules[ri].name) == nn && strncmp(r->rules[ri].name, rest, nn) == 0)
			break;
	if (ri < r->nrules && r->rules[ri].label != lv) {
		diag_error(l->d, l->file, l->line, 0, "rule '%s' is %s at line %d, not %s",
		           r->rules[ri].name, lb->names[r->rules[ri].label], r->rules[ri].line,
		           lb->names[lv]);
		return;
	}
	if (ri == r->nrules) {
		if (r->nrules == l->cap_rules) {
			l->cap_rules = l->cap_rules ? l->cap_rules * 2 : 16;
			r->rules = xreallocarray(r->rules, l->cap_rules, sizeof *r->rules);
		}
		r->rules[r->nrules++] =
		    (struct rule){.name = xstrndup(rest, nn), .label = lv, .line = l->line};
	}

	/* Phrases are separated by '|'. */
	char *p = phrases;
	for (;;) {
		size_t len = strcspn(p, "|");
		char *a = p, *b = p + len;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (a == b)
			diag_error(l->d, l->file, l->line, 0, "empty phrase in rule '%s'",
			           r->rules[ri].name);
		else
			add_phrase(l, ri, a, (size_t)(b - a));
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
}

/* Buckets the phrases by key; within a bucket lowest label first, then in file order. */
static void
index_phrases(struct phrase_rules *r)
{
	size_t nb = 64;
	while (nb < r->nphrases * 2)
		nb *= 2;
	r->mask = (uint32_t)(nb - 1);
	r->start = xcalloc(nb + 1, sizeof *r->start);
	r->order = xcalloc(r->nphrases + 1, sizeof *r->order);
	for (size_t i = 0; i < r->nphrases; i++)
		r->start[(r->phrases[i].key & r->mask) + 1]++;
	for (size_t b = 0; b < nb; b++)
		r->start[b + 1] += r->start[b];
	uint32_t *fill = xmalloc(nb * sizeof *fill);
	memcpy(fill, r->start, nb * sizeof *fill);
	for (int rank = 0; rank < r->nlabels; rank++)
		for (size_t i = 0; i < r->nphrases; i++)
			if (r->phrases[i].rank == rank)
				r->order[fill[r->phrases[i].key & r->mask]++] = (uint32_t)i;
	free(fill);
}

struct phrase_rules *
phrase_rules_load(const char *path, const struct phrase_labels *labels, char **cause)
{
	size_t len;
	char *text = file_read(path, 4u << 20, &len, cause);
	if (text == NULL)
		return NULL;

	struct phrase_rules *r = xcalloc(1, sizeof *r);
	r->labels = labels;
	while (labels->names[r->nlabels] != NULL)
		r->nlabels++;
	struct diag d = {0};
	struct loader l = {.r = r, .file = path, .d = &d};
	buf_init(&r->chars, 0);

	if (memchr(text, '\0', len) != NULL)
		diag_error(&d, path, 0, 0, "the rules file contains NUL bytes");
	char *line = text;
	while (d.errors == 0 && line < text + len) {
		char *nl = memchr(line, '\n', (size_t)(text + len - line));
		if (nl != NULL)
			*nl = '\0';
		l.line++;
		parse_line(&l, line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (d.errors == 0 && r->nphrases == 0)
		diag_error(&d, path, 0, 0, "no rules");
	free(text);
	if (d.errors > 0) {
		*cause = diag_join(&d);
		diag_free(&d);
		phrase_rules_free(r);
		return NULL;
	}
	diag_free(&d);
	index_phrases(r);
	return r;
}

void
phrase_rules_free(struct phrase_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrules; i++)
		free(r->rules[i].name);
	free(r->rules);
	free(r->phrases);
	free(r->words);
	free(r->negators);
	buf_free(&r->chars);
	free(r->start);
	free(r->order);
	free(r);
}

/* ------------------------------------------------------- classifying */

static int
word_is(const struct phrase_rules *r, const struct pword *pw, const char *w, size_t len)
{
	if (pw->any)
		return 1;
	if (pw->prefix ? len < pw->len : len != pw->len)
		return 0;
	return memcmp(r->chars.data + pw->off, w, pw->len) == 0;
}

static int
phrase_at(const struct phrase_rules *r, const struct phrase *ph, const char *low,
          const struct token *w, size_t nw, size_t i)
{
	if (i + ph->nwords > nw)
		return 0;
	for (size_t j = 0; j < ph->nwords; j++) {
		const struct token *t = &w[i + j];
		if ((j > 0 && t->hard) ||
		    !word_is(r, &r->words[ph->word0 + j], low + t->off, t->len))
			return 0;
	}
	return 1;
}

/* A negator among the WINDOW words before word i, with no punctuation between. */
static int
negated(const struct phrase_rules *r, const char *low, const struct token *w, size_t i)
{
	for (size_t k = 1; k <= WINDOW && k <= i; k++) {
		if (w[i - k + 1].hard)
			return 0;
		const struct token *t = &w[i - k];
		for (size_t n = 0; n < r->nnegators; n++)
			if (word_is(r, &r->negators[n], low + t->off, t->len))
				return 1;
	}
	return 0;
}

int
phrase_rules_best(const struct phrase_rules *r, const char *low, const struct token *w, size_t nw,
                  const char **rule)
{
	int best = r->nlabels; /* no rule matched */
	const char *why = NULL;

	for (size_t i = 0; i < nw && best > 0; i++) {
		uint32_t b = key_of(low + w[i].off, w[i].len) & r->mask;
		for (uint32_t k = r->start[b]; k < r->start[b + 1]; k++) {
			const struct phrase *ph = &r->phrases[r->order[k]];
			if (ph->rank >= best)
				break;
			if (!phrase_at(r, ph, low, w, nw, i))
				continue;
			if (negated(r, low, w, i))
				break; /* so is every phrase starting here */
			best = ph->rank;
			why = r->rules[ph->rule].name;
			break;
		}
	}
	if (rule != NULL)
		*rule = why;
	return best < r->nlabels ? best : -1;
}

size_t
phrase_rules_scan(const struct phrase_rules *r, const char *low, const struct token *w, size_t nw,
                  struct phrase_match *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < nw && n < max; i++) {
		uint32_t b = key_of(low + w[i].off, w[i].len) & r->mask;
		int neg = -1; /* computed once a phrase matches here */
		for (uint32_t k = r->start[b]; k < r->start[b + 1] && n < max; k++) {
			const struct phrase *ph = &r->phrases[r->order[k]];
			if (!phrase_at(r, ph, low, w, nw, i))
				continue;
			if (neg < 0)
				neg = negated(r, low, w, i);
			/* One match per label and word: the longest. */
			size_t j = n;
			while (j > 0 && out[j - 1].word == i && out[j - 1].label != ph->rank)
				j--;
			if (j > 0 && out[j - 1].word == i && out[j - 1].label == ph->rank) {
				if (out[j - 1].nwords < ph->nwords) {
					out[j - 1].nwords = ph->nwords;
					out[j - 1].rule = r->rules[ph->rule].name;
				}
				continue;
			}
			out[n++] = (struct phrase_match){.label = ph->rank,
			                                 .rule = r->rules[ph->rule].name,
			                                 .word = i,
			                                 .nwords = ph->nwords,
			                                 .negated = neg};
		}
	}
	return n;
}
