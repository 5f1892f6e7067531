/*
 * sentiment.c -- a C port of VADER (Hutto & Gilbert 2014, vaderSentiment.py
 * 3.3.2) plus a profanity count, for reading frustration in support messages.
 *
 * One pass splits the text into tokens the way VADER does (whitespace, then
 * leading and trailing punctuation stripped unless that leaves two characters
 * or fewer, which keeps emoticons); each token is lower-cased into a stack
 * buffer, hashed once (FNV-1a) and looked up in an open-addressing table
 * that holds the VADER lexicon, the booster and negation words and the
 * handful of words VADER's rules name ("but", "least", "never", ...), so the
 * rules only compare table entries. The same hash finds the token in the
 * small profanity table. Emoji are replaced by their descriptions first, as
 * VADER does.
 *
 * Where this differs from vaderSentiment.py, on purpose:
 * - "but" scales every score before it by 0.5 and after it by 1.5; Python's
 *   list.index() lookup there can scale the wrong one of two equal scores.
 * - An emoji made of several code points (U+2764 U+FE0F, flags, skin tones)
 *   is matched whole, longest first; Python only replaces single code points.
 *   A space also goes after a description when a word follows the emoji.
 * - Case folding knows ASCII and Latin-1 only; other scripts are uncased.
 * - Scores are not rounded.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sentiment.h"
#include "util.h"

/* ---------------------------------------------------------------- constants */

/* VADER's empirically derived constants. */
#define B_INCR     0.293    /* booster word */
#define B_DECR     (-0.293) /* dampener word */
#define C_INCR     0.733    /* ALL-CAPS word in mixed-case text */
#define N_SCALAR   (-0.74)  /* negated valence */
#define EP_WEIGHT  0.292    /* per '!', at most EP_MAX of them */
#define EP_MAX     4
#define QM_WEIGHT  0.18 /* per '?' when there are 2 or 3 */
#define QM_MAX     0.96 /* 4 or more '?' */
#define NORM_ALPHA 15.0

/*
 * Labels. VADER's own convention calls compound <= -0.05 negative and
 * >= 0.05 positive; for support, any profanity also means frustrated.
 */
#define FRUSTRATED_MAX (-0.05)
#define POSITIVE_MIN   0.05

#define KEY_MAX       255 /* longest word or phrase key (bytes) */
#define PROF_RUNS_MAX 8   /* words in the longest profanity phrase */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL

/* Words VADER's rules look at by name. */
enum kw {
	KW_NONE,
	KW_NO,
	KW_OR,
	KW_NOR,
	KW_KIND,
	KW_OF,
	KW_LEAST,
	KW_AT,
	KW_VERY,
	KW_NEVER,
	KW_SO,
	KW_THIS,
	KW_WITHOUT,
	KW_DOUBT,
	KW_BUT,
	KW_THE,
	KW_SHIT,
	KW_BOMB,
	KW_BAD,
	KW_ASS,
	KW_BUS,
	KW_STOP,
	KW_YEAH,
	KW_RIGHT,
	KW_DEATH,
	KW_TO,
	KW_DIE,
	KW_FOR,
	KW_BEATING,
	KW_HEART,
	KW_BROKEN,
	KW_JUST,
	KW_ENOUGH,
	KW_SORT,
	KW_KISS,
	KW__N
};

static const char *const kw_words[KW__N] = {
    [KW_NO] = "no",       [KW_OR] = "or",         [KW_NOR] = "nor",     [KW_KIND] = "kind",
    [KW_OF] = "of",       [KW_LEAST] = "least",   [KW_AT] = "at",       [KW_VERY] = "very",
    [KW_NEVER] = "never", [KW_SO] = "so",         [KW_THIS] = "this",   [KW_WITHOUT] = "without",
    [KW_DOUBT] = "doubt", [KW_BUT] = "but",       [KW_THE] = "the",     [KW_SHIT] = "shit",
    [KW_BOMB] = "bomb",   [KW_BAD] = "bad",       [KW_ASS] = "ass",     [KW_BUS] = "bus",
    [KW_STOP] = "stop",   [KW_YEAH] = "yeah",     [KW_RIGHT] = "right", [KW_DEATH] = "death",
    [KW_TO] = "to",       [KW_DIE] = "die",       [KW_FOR] = "for",     [KW_BEATING] = "beating",
    [KW_HEART] = "heart", [KW_BROKEN] = "broken", [KW_JUST] = "just",   [KW_ENOUGH] = "enough",
    [KW_SORT] = "sort",   [KW_KISS] = "kiss",
};

/*
 * VADER's SPECIAL_CASES (phrases containing lexicon words) and the
 * multi-word entries of its BOOSTER_DICT, as word sequences. The one-word
 * key "badass" of SPECIAL_CASES can never match a phrase, so it is left out.
 */
struct phrase {
	uint8_t w[3];
	uint8_t n;
	double value;
};
static const struct phrase special_cases[] = {
    {{KW_THE, KW_SHIT}, 2, 3},        {{KW_THE, KW_BOMB}, 2, 3},
    {{KW_BAD, KW_ASS}, 2, 1.5},       {{KW_BUS, KW_STOP}, 2, 0.0},
    {{KW_YEAH, KW_RIGHT}, 2, -2},     {{KW_KISS, KW_OF, KW_DEATH}, 3, -1.5},
    {{KW_TO, KW_DIE, KW_FOR}, 3, 3},  {{KW_BEATING, KW_HEART}, 2, 3.1},
    {{KW_BROKEN, KW_HEART}, 2, -2.9},
};
static const struct phrase booster_phrases[] = {
    {{KW_JUST, KW_ENOUGH}, 2, B_DECR},
    {{KW_KIND, KW_OF}, 2, B_DECR},
    {{KW_SORT, KW_OF}, 2, B_DECR},
};

static const struct {
	const char *word;
	double value;
} boosters[] = {
    {"absolutely", B_INCR},    {"amazingly", B_INCR},    {"awfully", B_INCR},
    {"completely", B_INCR},    {"considerable", B_INCR}, {"considerably", B_INCR},
    {"decidedly", B_INCR},     {"deeply", B_INCR},       {"effing", B_INCR},
    {"enormous", B_INCR},      {"enormously", B_INCR},   {"entirely", B_INCR},
    {"especially", B_INCR},    {"exceptional", B_INCR},  {"exceptionally", B_INCR},
    {"extreme", B_INCR},       {"extremely", B_INCR},    {"fabulously", B_INCR},
    {"flipping", B_INCR},      {"flippin", B_INCR},      {"frackin", B_INCR},
    {"fracking", B_INCR},      {"fricking", B_INCR},     {"frickin", B_INCR},
    {"frigging", B_INCR},      {"friggin", B_INCR},      {"fully", B_INCR},
    {"fuckin", B_INCR},        {"fucking", B_INCR},      {"fuggin", B_INCR},
    {"fugging", B_INCR},       {"greatly", B_INCR},      {"hella", B_INCR},
    {"highly", B_INCR},        {"hugely", B_INCR},       {"incredible", B_INCR},
    {"incredibly", B_INCR},    {"intensely", B_INCR},    {"major", B_INCR},
    {"majorly", B_INCR},       {"more", B_INCR},         {"most", B_INCR},
    {"particularly", B_INCR},  {"purely", B_INCR},       {"quite", B_INCR},
    {"really", B_INCR},        {"remarkably", B_INCR},   {"so", B_INCR},
    {"substantially", B_INCR}, {"thoroughly", B_INCR},   {"total", B_INCR},
    {"totally", B_INCR},       {"tremendous", B_INCR},   {"tremendously", B_INCR},
    {"uber", B_INCR},          {"unbelievably", B_INCR}, {"unusually", B_INCR},
    {"utter", B_INCR},         {"utterly", B_INCR},      {"very", B_INCR},
    {"almost", B_DECR},        {"barely", B_DECR},       {"hardly", B_DECR},
    {"kinda", B_DECR},         {"kindof", B_DECR},       {"kind-of", B_DECR},
    {"less", B_DECR},          {"little", B_DECR},       {"marginal", B_DECR},
    {"marginally", B_DECR},    {"occasional", B_DECR},   {"occasionally", B_DECR},
    {"partly", B_DECR},        {"scarce", B_DECR},       {"scarcely", B_DECR},
    {"slight", B_DECR},        {"slightly", B_DECR},     {"somewhat", B_DECR},
    {"sorta", B_DECR},         {"sortof", B_DECR},       {"sort-of", B_DECR},
};

static const char *const negations[] = {
    "aint",   "arent",    "cannot",  "cant",     "couldnt",  "darent",   "didnt",   "doesnt",
    "ain't",  "aren't",   "can't",   "couldn't", "daren't",  "didn't",   "doesn't", "dont",
    "hadnt",  "hasnt",    "havent",  "isnt",     "mightnt",  "mustnt",   "neither", "don't",
    "hadn't", "hasn't",   "haven't", "isn't",    "mightn't", "mustn't",  "neednt",  "needn't",
    "never",  "none",     "nope",    "nor",      "not",      "nothing",  "nowhere", "oughtnt",
    "shant",  "shouldnt", "uhuh",    "wasnt",    "werent",   "oughtn't", "shan't",  "shouldn't",
    "uh-uh",  "wasn't",   "weren't", "without",  "wont",     "wouldnt",  "won't",   "wouldn't",
    "rarely", "seldom",   "despite",
};

/* ---------------------------------------------------------------- the table */

#define W_LEX     0x01 /* in the VADER lexicon (valence) */
#define W_BOOST   0x02 /* booster or dampener (booster) */
#define W_NEG     0x04 /* negation word */
#define W_PROF    0x08 /* a whole profanity word or phrase */
#define W_PROFPFX 0x10 /* the first words of a longer profanity phrase */
#define E_FULL    0x20 /* an emoji (desc) */
#define E_PFX     0x40 /* the first code points of a longer emoji */

struct entry {
	uint32_t key, klen;  /* in the pool */
	uint32_t desc, dlen; /* emoji description, in the pool */
	double valence;
	double booster;
	uint8_t flags;
	uint8_t kw;
};

struct slot {
	uint32_t tag; /* high half of the hash */
	uint32_t idx; /* entry index + 1; 0 = empty */
};

/* Open addressing with linear probing; entries live in an array. */
struct table {
	struct slot *slots;
	size_t mask;
	struct entry *v;
	size_t n, cap;
};

struct sentiment_lexicon {
	struct buf pool; /* every key and description */
	struct table words;
	struct table emoji;
	struct table prof;  /* profanity, apart: small enough to stay in cache */
	size_t word_keymax; /* longest word key */
	size_t prof_keymax; /* longest profanity phrase key */
	int emoji_maxcp;    /* code points in the longest emoji key */
};

static const struct entry *
table_find(const struct table *t, const char *pool, const void *key, size_t len, uint64_t h)
{
	if (t->slots == NULL)
		return NULL;
	uint32_t tag = (uint32_t)(h >> 32);
	for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
		const struct slot *sl = &t->slots[i];
		if (sl->idx == 0)
			return NULL;
		if (sl->tag != tag)
			continue;
		const struct entry *e = &t->v[sl->idx - 1];
		if (e->klen == len && memcmp(pool + e->key, key, len) == 0)
			return e;
	}
}

static void
table_place(struct table *t, uint64_t h, uint32_t idx)
{
	size_t i = (size_t)h & t->mask;
	while (t->slots[i].idx != 0)
		i = (i + 1) & t->mask;
	t->slots[i].tag = (uint32_t)(h >> 32);
	t->slots[i].idx = idx;
}

/* The entry for key, created (zeroed) when missing. */
static struct entry *
table_get(struct table *t, struct buf *pool, const char *key, size_t len)
{
	uint64_t h = hash_fnv1a(key, len);
	const struct entry *found = table_find(t, pool->data, key, len, h);
	if (found != NULL)
		return &t->v[found - t->v];

	if (t->slots == NULL || (t->n + 1) * 2 > t->mask + 1) {
		size_t nslots = t->slots == NULL ? 1024 : (t->mask + 1) * 2;
		free(t->slots);
		t->slots = xcalloc(nslots, sizeof *t->slots);
		t->mask = nslots - 1;
		for (size_t i = 0; i < t->n; i++) {
			const struct entry *e = &t->v[i];
			table_place(t, hash_fnv1a(pool->data + e->key, e->klen), (uint32_t)i + 1);
		}
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 1024 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	struct entry *e = &t->v[t->n];
	memset(e, 0, sizeof *e);
	e->key = (uint32_t)pool->len;
	e->klen = (uint32_t)len;
	buf_add(pool, key, len);
	t->n++;
	table_place(t, h, (uint32_t)t->n);
	return e;
}

static void
table_free(struct table *t)
{
	free(t->slots);
	free(t->v);
}

/* ---------------------------------------------------------------- bytes */

static inline int
is_alnum(unsigned char c)
{
	return (unsigned)(c - '0') < 10 || (unsigned)((c | 0x20) - 'a') < 26;
}

/* Python's string.punctuation. */
static inline int
is_punct(unsigned char c)
{
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
	       (c >= '{' && c <= '~');
}

/* Length of the well-formed UTF-8 code point at p, or 0. */
static size_t
utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	if (c < 0x80)
		return 1;
	else if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Length of the whitespace at p (what Python's str.split() splits on), or 0.
 * Besides ASCII: U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F and U+3000.
 */
static inline size_t
space_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
	if (c == 0xc2)
		return avail >= 2 && (p[1] == 0x85 || p[1] == 0xa0) ? 2 : 0;
	if (avail < 3 || (c != 0xe1 && c != 0xe2 && c != 0xe3))
		return 0;
	if (c == 0xe1)
		return p[1] == 0x9a && p[2] == 0x80 ? 3 : 0;
	if (c == 0xe3)
		return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
	if (p[1] == 0x80)
		return (p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 ||
		               p[2] == 0xaf
		           ? 3
		           : 0;
	return p[1] == 0x81 && p[2] == 0x9f ? 3 : 0;
}

/* ---------------------------------------------------------------- loading */

static int
load_error(char **cause, const char *path, size_t line, const char *msg)
{
	*cause = xasprintf("%s:%zu: %s", path, line, msg);
	return -1;
}

/*
 * Calls fn for each line of the file, with the line number and the line
 * stripped of surrounding whitespace (NUL-terminated in place). Blank lines
 * are skipped. Returns 0, or -1 with *cause.
 */
static int
each_line(struct sentiment_lexicon *s, const char *path, char **cause,
          int (*fn)(struct sentiment_lexicon *, const char *, size_t, char *, char **))
{
	size_t len;
	char *text = file_read(path, 0, &len, cause);
	if (text == NULL)
		return -1;
	int rc = 0;
	size_t lineno = 0;
	for (char *p = text; p < text + len && rc == 0;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		char *end = nl != NULL ? nl : text + len;
		lineno++;
		*end = '\0';
		if (memchr(p, '\0', (size_t)(end - p)) != NULL)
			rc = load_error(cause, path, lineno, "NUL byte in line");
		else {
			char *line = str_trim(p);
			if (*line != '\0')
				rc = fn(s, path, lineno, line, cause);
		}
		p = end + 1;
	}
	free(text);
	return rc;
}

/* vader_lexicon.txt: word TAB mean TAB sd TAB ratings; only the mean is used. */
static int
lexicon_line(struct sentiment_lexicon *s, const char *path, size_t lineno, char *line, char **cause)
{
	char *tab = strchr(line, '\t');
	if (tab == NULL)
		return load_error(cause, path, lineno, "expected word<TAB>valence");
	*tab = '\0';
	size_t klen = (size_t)(tab - line);
	if (klen == 0)
		return load_error(cause, path, lineno, "empty word");
	if (klen > KEY_MAX)
		return load_error(cause, path, lineno, "word too long");
	char *num = tab + 1, *numend = strchr(num, '\t');
	if (numend != NULL)
		*numend = '\0';
	char *endp;
	errno = 0;
	double v = strtod(num, &endp);
	if (endp == num || *endp != '\0' || errno != 0 || !isfinite(v) || fabs(v) > 100) {
		char *msg = xasprintf("bad valence '%.40s'", num);
		load_error(cause, path, lineno, msg);
		free(msg);
		return -1;
	}
	/* A repeated word takes its last value, as in Python's dict. */
	struct entry *e = table_get(&s->words, &s->pool, line, klen);
	e->flags |= W_LEX;
	e->valence = v;
	if (klen > s->word_keymax)
		s->word_keymax = klen;
	return 0;
}

/* emoji_utf8_lexicon.txt: emoji TAB description. */
static int
emoji_line(struct sentiment_lexicon *s, const char *path, size_t lineno, char *line, char **cause)
{
	char *tab = strchr(line, '\t');
	if (tab == NULL)
		return load_error(cause, path, lineno, "expected emoji<TAB>description");
	size_t klen = (size_t)(tab - line);
	char *desc = tab + 1, *dend = strchr(desc, '\t');
	size_t dlen = dend != NULL ? (size_t)(dend - desc) : strlen(desc);
	if (klen == 0 || dlen == 0)
		return load_error(cause, path, lineno, "empty emoji or description");
	if (klen > KEY_MAX || dlen > KEY_MAX)
		return load_error(cause, path, lineno, "emoji or description too long");

	/* Mark every shorter run of whole code points as a prefix. */
	const unsigned char *k = (const unsigned char *)line;
	int ncp = 0;
	for (size_t off = 0; off < klen;) {
		size_t l = utf8_len(k + off, klen - off);
		if (l == 0)
			return load_error(cause, path, lineno, "emoji is not valid UTF-8");
		off += l;
		ncp++;
		struct entry *e = table_get(&s->emoji, &s->pool, line, off);
		e->flags |= off == klen ? E_FULL : E_PFX;
		if (off == klen) {
			e->desc = (uint32_t)s->pool.len;
			e->dlen = (uint32_t)dlen;
			buf_add(&s->pool, desc, dlen);
		}
	}
	if (ncp > s->emoji_maxcp)
		s->emoji_maxcp = ncp;
	return 0;
}

/*
 * The next word for the profanity match at or after *pos: a run of ASCII
 * letters and digits (with apostrophes inside, as in "don't"), or a single
 * non-ASCII code point (so that an emoji is a word of its own). Returns 0
 * at the end of the text.
 */
static int
next_run(const unsigned char *t, size_t len, size_t *pos, size_t *start, size_t *end)
{
	size_t p = *pos;
	while (p < len && t[p] < 0x80 && !is_alnum(t[p]))
		p++;
	if (p >= len)
		return 0;
	*start = p;
	if (t[p] >= 0x80) {
		size_t l = utf8_len(t + p, len - p);
		p += l == 0 ? 1 : l;
	} else {
		for (;;) {
			while (p < len && is_alnum(t[p]))
				p++;
			if (p + 1 < len && t[p] == '\'' && is_alnum(t[p + 1])) {
				p++;
				continue;
			}
			break;
		}
	}
	*end = p;
	*pos = p;
	return 1;
}

static inline unsigned char
lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26 ? (unsigned char)(c | 0x20) : c;
}

/* profanity.txt: one word or phrase per line; '#' starts a comment line. */
static int
profanity_line(struct sentiment_lexicon *s, const char *path, size_t lineno, char *line,
               char **cause)
{
	if (*line == '#')
		return 0;
	const unsigned char *t = (const unsigned char *)line;
	size_t len = strlen(line), pos = 0, a, b, klen = 0;
	char key[KEY_MAX + 1];
	int nruns = 0;
	while (next_run(t, len, &pos, &a, &b)) {
		if (++nruns > PROF_RUNS_MAX)
			return load_error(cause, path, lineno, "phrase has too many words");
		if (klen + (nruns > 1) + (b - a) > KEY_MAX)
			return load_error(cause, path, lineno, "phrase too long");
		if (nruns > 1) {
			struct entry *e = table_get(&s->prof, &s->pool, key, klen);
			e->flags |= W_PROFPFX;
			key[klen++] = ' ';
		}
		for (size_t i = a; i < b; i++)
			key[klen++] = (char)lower(t[i]);
	}
	if (nruns == 0)
		return load_error(cause, path, lineno, "no word in entry");
	struct entry *e = table_get(&s->prof, &s->pool, key, klen);
	e->flags |= W_PROF;
	if (klen > s->prof_keymax)
		s->prof_keymax = klen;
	return 0;
}

struct sentiment_lexicon *
sentiment_load(const char *dir, char **cause)
{
	struct sentiment_lexicon *s = xcalloc(1, sizeof *s);
	buf_init(&s->pool, 0);

	static const struct {
		const char *name;
		int (*fn)(struct sentiment_lexicon *, const char *, size_t, char *, char **);
	} files[] = {
	    {"vader_lexicon.txt", lexicon_line},
	    {"emoji_utf8_lexicon.txt", emoji_line},
	    {"profanity.txt", profanity_line},
	};
	for (size_t i = 0; i < nitems(files); i++) {
		char *path = xasprintf("%s/%s", dir, files[i].name);
		int rc = each_line(s, path, cause, files[i].fn);
		free(path);
		if (rc != 0) {
			sentiment_free(s);
			return NULL;
		}
	}

	for (size_t i = 0; i < nitems(boosters); i++) {
		const char *w = boosters[i].word;
		struct entry *e = table_get(&s->words, &s->pool, w, strlen(w));
		e->flags |= W_BOOST;
		e->booster = boosters[i].value;
	}
	for (size_t i = 0; i < nitems(negations); i++) {
		struct entry *e =
		    table_get(&s->words, &s->pool, negations[i], strlen(negations[i]));
		e->flags |= W_NEG;
	}
	for (int k = 1; k < KW__N; k++) {
		struct entry *e = table_get(&s->words, &s->pool, kw_words[k], strlen(kw_words[k]));
		e->kw = (uint8_t)k;
	}
	/* A token longer than every key cannot be in the table. */
	if (s->word_keymax < 16)
		s->word_keymax = 16;
	return s;
}

void
sentiment_free(struct sentiment_lexicon *s)
{
	if (s == NULL)
		return;
	table_free(&s->words);
	table_free(&s->emoji);
	table_free(&s->prof);
	buf_free(&s->pool);
	free(s);
}

/* ---------------------------------------------------------------- emoji */

/* The longest emoji at p (which starts a multi-byte character), or NULL. */
static const struct entry *
emoji_at(const struct sentiment_lexicon *s, const unsigned char *p, size_t avail, size_t *mlen)
{
	const struct entry *best = NULL;
	uint64_t h = FNV_OFFSET;
	size_t q = 0;
	for (int k = 0; k < s->emoji_maxcp && q < avail; k++) {
		size_t l = utf8_len(p + q, avail - q);
		if (l == 0)
			break;
		for (size_t j = 0; j < l; j++)
			h = (h ^ p[q + j]) * FNV_PRIME;
		q += l;
		const struct entry *e = table_find(&s->emoji, s->pool.data, p, q, h);
		if (e == NULL)
			break;
		if (e->flags & E_FULL) {
			best = e;
			*mlen = q;
		}
		if (!(e->flags & E_PFX))
			break;
	}
	return best;
}

/*
 * Writes text with each emoji replaced by its description into out (when
 * not NULL) and returns the length of the result, or 0 when the text has
 * no emoji. Like VADER, a space goes before a description unless one is
 * already there; unlike VADER, one also goes after it when a word follows,
 * so that "💘and" gives "beating heart and", not "beating heartand".
 */
static size_t
emoji_expand(const struct sentiment_lexicon *s, const unsigned char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;
	int found = 0;
	unsigned char last = ' '; /* the last byte written */
	while (i < len) {
		size_t mlen = 0;
		const struct entry *e = NULL;
		if (in[i] >= 0xc2 && s->emoji_maxcp > 0)
			e = emoji_at(s, in + i, len - i, &mlen);
		if (e == NULL) {
			last = in[i++];
			if (out != NULL)
				out[o] = (char)last;
			o++;
			continue;
		}
		found = 1;
		i += mlen;
		if (last != ' ') {
			if (out != NULL)
				out[o] = ' ';
			o++;
		}
		if (out != NULL)
			memcpy(out + o, s->pool.data + e->desc, e->dlen);
		o += e->dlen;
		last = (unsigned char)s->pool.data[e->desc + e->dlen - 1];
		if (i < len && !space_len(in + i, len - i) && !is_punct(in[i])) {
			if (out != NULL)
				out[o] = ' ';
			o++;
			last = ' ';
		}
	}
	return found ? o : 0;
}

/* ---------------------------------------------------------------- scoring */

struct tok {
	const struct entry *e; /* the lower-cased token's entry, or NULL */
	double v;              /* its valence */
	uint8_t upper;         /* Python's str.isupper() */
	uint8_t neg;           /* VADER's negated(): a NEGATE word or "n't" */
	uint8_t loud;          /* ALL CAPS with at least 3 letters */
};

static inline int
kw(const struct tok *t)
{
	return t->e != NULL ? t->e->kw : KW_NONE;
}

static inline int
in_lex(const struct tok *t)
{
	return t->e != NULL && (t->e->flags & W_LEX);
}

/* Tokens, on the stack for ordinary messages. */
struct toks {
	struct tok *v;
	size_t n, cap;
	struct tok stack[64];
};

static struct tok *
toks_add(struct toks *ts)
{
	if (ts->n == ts->cap) {
		size_t cap = ts->cap * 4;
		struct tok *v = xreallocarray(NULL, cap, sizeof *v);
		memcpy(v, ts->v, ts->n * sizeof *v);
		if (ts->v != ts->stack)
			free(ts->v);
		ts->v = v;
		ts->cap = cap;
	}
	return &ts->v[ts->n++];
}

/*
 * Profanity is matched on words of its own (see next_run): as the text is
 * tokenised when it has no emoji, or over the original text when it has.
 */
struct profscan {
	int on;      /* match while tokenising */
	size_t skip; /* words starting before this are inside a counted phrase */
	int count;
};

/*
 * Counts the longest profanity entry that starts with the word [a, b) of t,
 * given lower-cased in key (room for KEY_MAX + 1 bytes) with its hash.
 */
static void
prof_word(const struct sentiment_lexicon *s, const unsigned char *t, size_t len, size_t a, size_t b,
          char *key, size_t klen, uint64_t h, struct profscan *ps)
{
	size_t keymax = s->prof_keymax, matched = 0, rpos = b, ra, rb = b;
	if (a < ps->skip || klen > keymax)
		return;
	const struct entry *e = table_find(&s->prof, s->pool.data, key, klen, h);
	const char *apos;
	if (e == NULL && (apos = memchr(key, '\'', klen)) != NULL) {
		/* "shit's" is "shit": retry without the contraction. */
		klen = (size_t)(apos - key);
		h = FNV_OFFSET;
		for (size_t j = 0; j < klen; j++)
			h = (h ^ (unsigned char)key[j]) * FNV_PRIME;
		e = table_find(&s->prof, s->pool.data, key, klen, h);
	}
	for (;;) {
		if (e == NULL)
			break;
		if (e->flags & W_PROF)
			matched = rb;
		if (!(e->flags & W_PROFPFX) || !next_run(t, len, &rpos, &ra, &rb))
			break;
		if (klen + 1 + (rb - ra) > keymax)
			break;
		key[klen++] = ' ';
		h = (h ^ ' ') * FNV_PRIME;
		for (size_t j = ra; j < rb; j++) {
			unsigned char c = lower(t[j]);
			key[klen++] = (char)c;
			h = (h ^ c) * FNV_PRIME;
		}
		e = table_find(&s->prof, s->pool.data, key, klen, h);
	}
	if (matched != 0) {
		ps->count++;
		ps->skip = matched;
	}
}

/* Matches profanity on the words of t[from, to); phrases may run on to len. */
static void
prof_scan(const struct sentiment_lexicon *s, const unsigned char *t, size_t len, size_t from,
          size_t to, struct profscan *ps)
{
	char key[KEY_MAX + 1];
	size_t pos = from, a, b;
	while (next_run(t, to, &pos, &a, &b)) {
		if (b - a > s->prof_keymax)
			continue;
		uint64_t h = FNV_OFFSET;
		for (size_t j = a; j < b; j++) {
			unsigned char c = lower(t[j]);
			key[j - a] = (char)c;
			h = (h ^ c) * FNV_PRIME;
		}
		prof_word(s, t, len, a, b, key, b - a, h, ps);
	}
}

/*
 * Looks the token t[a, b) up and records its shape; [start, end) is the
 * token before punctuation was stripped. Lower-casing covers ASCII and the
 * Latin-1 letters (as Python's lower() and isupper() do); other scripts
 * count as uncased.
 */
static void
tok_scan(const struct sentiment_lexicon *s, const unsigned char *t, size_t len, size_t start,
         size_t end, size_t a, size_t b, struct tok *tk, struct profscan *ps)
{
	char key[KEY_MAX + 1];
	const unsigned char *p = t + a;
	size_t n = b - a;
	uint64_t h = FNV_OFFSET;
	int up = 0, lo = 0, letters = 0, nt = 0, simple = 1;
	unsigned char p1 = 0, p2 = 0; /* the two previous lower-cased bytes */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if ((unsigned)(c - 'A') < 26) {
			c |= 0x20;
			up++;
			letters++;
		} else if ((unsigned)(c - 'a') < 26) {
			lo++;
			letters++;
		} else if ((unsigned)(c - '0') >= 10 && (c != '\'' || !is_alnum(p1))) {
			simple = 0;
			if (c == 0xc3 && i + 1 < n) {
				unsigned char d = p[i + 1];
				if (d >= 0x80 && d <= 0x9e && d != 0x97) {
					up++;
					d += 0x20;
				} else if (d >= 0x9f && d <= 0xbf && d != 0xb7)
					lo++;
				if (i < KEY_MAX)
					key[i] = (char)c;
				h = (h ^ c) * FNV_PRIME;
				c = d;
				i++;
			}
		}
		if (i < KEY_MAX)
			key[i] = (char)c;
		h = (h ^ c) * FNV_PRIME;
		if (c == 't' && p1 == '\'' && p2 == 'n')
			nt = 1;
		p2 = p1;
		p1 = c;
	}
	tk->e = n <= s->word_keymax ? table_find(&s->words, s->pool.data, key, n, h) : NULL;
	tk->upper = up > 0 && lo == 0;
	tk->loud = tk->upper && letters >= 3;
	tk->neg = nt || (tk->e != NULL && (tk->e->flags & W_NEG));
	tk->v = 0;
	if (!ps->on || s->prof_keymax == 0)
		return;
	/* A plain word is its own profanity word: reuse the hash. */
	if (simple && n > 0)
		prof_word(s, t, len, a, b, key, n, h, ps);
	else
		prof_scan(s, t, len, start, end, ps);
}

/* Splits text into tokens as VADER's SentiText does. */
static void
tokenize(const struct sentiment_lexicon *s, const unsigned char *t, size_t len, struct toks *ts,
         struct profscan *ps)
{
	size_t i = 0;
	for (;;) {
		size_t sp;
		while (i < len && (sp = space_len(t + i, len - i)) != 0)
			i += sp;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && (t[i] < 0x80 ? !space_len(t + i, 1) : !space_len(t + i, len - i)))
			i++;
		size_t a = start, b = i;
		while (a < b && is_punct(t[a]))
			a++;
		while (b > a && is_punct(t[b - 1]))
			b--;
		/* Keep the original when stripping leaves <= 2 code points. */
		if (b - a <= 2) {
			a = start;
			b = i;
		} else if (b - a <= 8) {
			size_t ncp = 0;
			for (size_t j = a; j < b; j++)
				ncp += (t[j] & 0xc0) != 0x80;
			if (ncp <= 2) {
				a = start;
				b = i;
			}
		}
		tok_scan(s, t, len, start, i, a, b, toks_add(ts), ps);
	}
}

static double
scalar_inc_dec(const struct tok *w, double valence, int cap_diff)
{
	if (w->e == NULL || !(w->e->flags & W_BOOST))
		return 0;
	double scalar = w->e->booster;
	if (valence < 0)
		scalar = -scalar;
	if (w->upper && cap_diff)
		scalar += valence > 0 ? C_INCR : -C_INCR;
	return scalar;
}

static double
negation_check(double v, const struct tok *w, int start_i, size_t i)
{
	int k1 = kw(&w[i - 1]);
	if (start_i == 0) {
		if (w[i - 1].neg)
			v *= N_SCALAR;
	} else if (start_i == 1) {
		int k2 = kw(&w[i - 2]);
		if (k2 == KW_NEVER && (k1 == KW_SO || k1 == KW_THIS))
			v *= 1.25;
		else if (k2 == KW_WITHOUT && k1 == KW_DOUBT)
			;
		else if (w[i - 2].neg)
			v *= N_SCALAR;
	} else {
		int k2 = kw(&w[i - 2]), k3 = kw(&w[i - 3]);
		/* As in VADER, "so" or "this" right before the word is enough. */
		if ((k3 == KW_NEVER && (k2 == KW_SO || k2 == KW_THIS)) || k1 == KW_SO ||
		    k1 == KW_THIS)
			v *= 1.25;
		else if (k3 == KW_WITHOUT && (k2 == KW_DOUBT || k1 == KW_DOUBT))
			;
		else if (w[i - 3].neg)
			v *= N_SCALAR;
	}
	return v;
}

/* Whether tokens w[from..] spell the phrase. */
static int
phrase_at(const struct tok *w, size_t n, size_t from, const struct phrase *ph)
{
	if (from + ph->n > n)
		return 0;
	for (int k = 0; k < ph->n; k++)
		if (kw(&w[from + k]) != ph->w[k])
			return 0;
	return 1;
}

/* The special case with exactly the tokens w[from..from+len), or NULL. */
static const struct phrase *
special_case(const struct tok *w, size_t n, size_t from, int len)
{
	for (size_t k = 0; k < nitems(special_cases); k++)
		if (special_cases[k].n == len && phrase_at(w, n, from, &special_cases[k]))
			return &special_cases[k];
	return NULL;
}

/* VADER's _special_idioms_check; i >= 3. */
static double
idioms_check(double v, const struct tok *w, size_t n, size_t i)
{
	static const struct {
		int back, len;
	} seqs[] = {{1, 2}, {2, 3}, {2, 2}, {3, 3}, {3, 2}};
	for (size_t k = 0; k < nitems(seqs); k++) {
		const struct phrase *ph = special_case(w, n, i - seqs[k].back, seqs[k].len);
		if (ph != NULL) {
			v = ph->value;
			break;
		}
	}
	const struct phrase *ph;
	if (n - 1 > i && (ph = special_case(w, n, i, 2)) != NULL)
		v = ph->value;
	if (n - 1 > i + 1 && (ph = special_case(w, n, i, 3)) != NULL)
		v = ph->value;
	/* Booster bigrams such as "kind of" before the word (threetwo, twoone). */
	for (size_t k = 0; k < nitems(booster_phrases); k++) {
		if (phrase_at(w, n, i - 3, &booster_phrases[k]))
			v += booster_phrases[k].value;
		if (phrase_at(w, n, i - 2, &booster_phrases[k]))
			v += booster_phrases[k].value;
	}
	return v;
}

static double
least_check(double v, const struct tok *w, size_t i)
{
	if (i > 0 && !in_lex(&w[i - 1]) && kw(&w[i - 1]) == KW_LEAST) {
		if (i == 1)
			v *= N_SCALAR;
		else if (kw(&w[i - 2]) != KW_AT && kw(&w[i - 2]) != KW_VERY)
			v *= N_SCALAR;
	}
	return v;
}

/* VADER's sentiment_valence for the lexicon word w[i]. */
static double
word_valence(const struct tok *w, size_t n, size_t i, int cap_diff)
{
	double lexv = w[i].e->valence, v = lexv;

	/* "no" before a lexicon word negates it rather than counting itself. */
	if (kw(&w[i]) == KW_NO && i != n - 1 && in_lex(&w[i + 1]))
		v = 0.0;
	if ((i > 0 && kw(&w[i - 1]) == KW_NO) || (i > 1 && kw(&w[i - 2]) == KW_NO) ||
	    (i > 2 && kw(&w[i - 3]) == KW_NO &&
	     (kw(&w[i - 1]) == KW_OR || kw(&w[i - 1]) == KW_NOR)))
		v = lexv * N_SCALAR;

	if (w[i].upper && cap_diff)
		v += v > 0 ? C_INCR : -C_INCR;

	for (int start_i = 0; start_i < 3; start_i++) {
		if (i <= (size_t)start_i || in_lex(&w[i - start_i - 1]))
			continue;
		double sc = scalar_inc_dec(&w[i - start_i - 1], v, cap_diff);
		if (start_i == 1 && sc != 0)
			sc *= 0.95;
		if (start_i == 2 && sc != 0)
			sc *= 0.9;
		v += sc;
		v = negation_check(v, w, start_i, i);
		if (start_i == 2)
			v = idioms_check(v, w, n, i);
	}
	return least_check(v, w, i);
}

static double
normalize(double score)
{
	double norm = score / sqrt(score * score + NORM_ALPHA);
	return norm < -1.0 ? -1.0 : norm > 1.0 ? 1.0 : norm;
}

/* Whether any byte could start an emoji (a multi-byte UTF-8 lead). */
static int
has_multibyte(const unsigned char *t, size_t len)
{
	unsigned char acc = 0;
	for (size_t i = 0; i < len; i++)
		acc |= t[i];
	return acc >= 0xc0;
}

void
sentiment_analyze(const struct sentiment_lexicon *s, const char *text, size_t len,
                  struct sentiment_result *out)
{
	memset(out, 0, sizeof *out);
	out->label = SENT_NEUTRAL;
	if (text == NULL)
		len = 0;

	/* Emoji become their descriptions; profanity is read from the original. */
	const unsigned char *orig = (const unsigned char *)text;
	const unsigned char *t = orig;
	size_t tlen = len;
	char stackbuf[1024], *heap = NULL;
	size_t elen = has_multibyte(orig, len) ? emoji_expand(s, orig, len, NULL) : 0;
	struct profscan ps = {.on = elen == 0, .skip = 0, .count = 0};
	if (elen > 0) {
		char *o = elen <= sizeof stackbuf ? stackbuf : (heap = xmalloc(elen));
		emoji_expand(s, orig, len, o);
		t = (const unsigned char *)o;
		tlen = elen;
		if (s->prof_keymax > 0)
			prof_scan(s, orig, len, 0, len, &ps);
	}

	struct toks ts;
	ts.v = ts.stack;
	ts.n = 0;
	ts.cap = nitems(ts.stack);
	tokenize(s, t, tlen, &ts, &ps);
	struct tok *w = ts.v;
	size_t n = ts.n;

	size_t allcaps = 0;
	for (size_t i = 0; i < n; i++)
		allcaps += w[i].upper;
	int cap_diff = allcaps > 0 && allcaps < n;

	size_t but = n;
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = w[i].e;
		if (e == NULL)
			continue;
		if (e->kw == KW_BUT && but == n)
			but = i;
		if (e->flags & W_BOOST) {
			out->intensity += e->booster > 0;
			continue;
		}
		if (e->kw == KW_KIND && i + 1 < n && kw(&w[i + 1]) == KW_OF)
			continue;
		if (e->flags & W_LEX)
			w[i].v = word_valence(w, n, i, cap_diff);
	}

	/* Punctuation emphasis; a run of two or more '!' is one intensity mark. */
	size_t ep = 0, qm = 0;
	for (const unsigned char *p = t, *end = t + tlen;
	     p < end && (p = memchr(p, '!', (size_t)(end - p))) != NULL;) {
		const unsigned char *q = p;
		while (q < end && *q == '!')
			q++;
		ep += (size_t)(q - p);
		out->intensity += q - p >= 2;
		p = q;
	}
	for (const unsigned char *p = t, *end = t + tlen;
	     p < end && (p = memchr(p, '?', (size_t)(end - p))) != NULL; p++)
		qm++;

	if (n > 0) {
		/* Contrastive "but": what comes after it dominates. */
		double sum = 0, pos_sum = 0, neg_sum = 0;
		size_t neu = 0;
		for (size_t i = 0; i < n; i++) {
			double v = w[i].v;
			if (but < n && i < but)
				v *= 0.5;
			else if (but < n && i > but)
				v *= 1.5;
			sum += v;
			if (v > 0)
				pos_sum += v + 1;
			else if (v < 0)
				neg_sum += v - 1;
			else
				neu++;
			if (w[i].loud && cap_diff)
				out->intensity++;
		}
		double amp = (double)(ep > EP_MAX ? EP_MAX : ep) * EP_WEIGHT;
		if (qm > 1)
			amp += qm <= 3 ? (double)qm * QM_WEIGHT : QM_MAX;
		if (sum > 0)
			sum += amp;
		else if (sum < 0)
			sum -= amp;
		out->compound = normalize(sum);

		if (pos_sum > fabs(neg_sum))
			pos_sum += amp;
		else if (pos_sum < fabs(neg_sum))
			neg_sum -= amp;
		double total = pos_sum + fabs(neg_sum) + (double)neu;
		out->pos = fabs(pos_sum / total);
		out->neg = fabs(neg_sum / total);
		out->neu = fabs((double)neu / total);
	}

	out->profanity = ps.count;
	if (out->compound <= FRUSTRATED_MAX || out->profanity > 0)
		out->label = SENT_FRUSTRATED;
	else if (out->compound >= POSITIVE_MIN)
		out->label = SENT_POSITIVE;

	if (w != ts.stack)
		free(w);
	free(heap);
}
